"""Running tasks: small inputs in, each setting's sufficient statistics over its block out.

A ``Job`` is what a worker needs (numbers and strings, a few hundred bytes); ``run_jobs`` builds
one batch for jobs of one group (one ``make_setup`` of per-bandit tensors; random problems drawn
once per distribution for the batch's bandits), runs it through ``run.simulate_chunks`` and reduces
every (setting, block) to numpy arrays: never device tensors. Per metric (metrics.py) a block keeps
the sums and sums of squares at every curve point (an episode's end, or a trace point every
``record_every`` steps) and over the whole run, and each bandit's value as float32 (the verdicts
as a bitset), so that any metric can be paired. A bandit's trajectory depends only on (seed,
bandit id, its setting), so the statistics of a (setting, block) are the same whichever jobs share
its batch, whichever worker runs it, however often.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

from .. import engines
from ..engines import describe_device, resolve_device
from ..metrics import METRICS_LIST
from ..options import Setup, check_numerics, make_setup
from ..random_arms import RandomArms
from ..run import simulate_chunks
from ..schema import DEFAULTS, OPTIONS
from ..schema import MODEL_OF as MODELS
from ..state import trace_points

LOCK_THRESHOLD = 0.99  # a policy is "locked" when its largest probability exceeds this
HISTOGRAM_BINS = 20  # of the final P(best arm), on [0, 1]
DTYPES = {"float32": torch.float32, "float64": torch.float64}
MEANS = tuple(m.name for m in METRICS_LIST if m.kind == "mean")  # the metrics averaged over bandits
TRACE_ELEMENTS = 8  # a trace point's outputs per bandit, in per-arm sums' worth of memory (29 bytes / 4)
_THREADS = threading.Lock()  # torch's intra-op thread count is the process's: one setter at a time


@dataclass(frozen=True)
class Job:
    """One task, as shipped to a worker."""

    key: str
    group: int
    block: int
    lo: int  # bandit ids lo .. hi - 1
    hi: int
    settings: tuple[int, ...]  # grid indices
    options: tuple[dict, ...]  # run_batch options per setting (a RandomArms is drawn per bandit here)
    n_arms: int
    n_episodes: int
    steps_per_episode: int
    seed: int
    dtype: str  # "float32" or "float64"
    device: str  # as the user gave it ("auto": the worker's CUDA device if it has one)
    backend: str
    record_every: int | None = None  # curves every this many steps (the engines' trace), else per episode

    @property
    def bandit_steps(self) -> int:
        return (self.hi - self.lo) * len(self.settings) * self.n_episodes * self.steps_per_episode

    @property
    def elements(self) -> int:
        """Its outputs' size in per-arm sums (int32): per bandit E x K, and the trace's points."""
        points = trace_points(self.n_episodes * self.steps_per_episode, self.record_every)
        return (self.hi - self.lo) * len(self.settings) * per_bandit_elements(self.n_episodes, self.n_arms, points)


def per_bandit_elements(n_episodes: int, n_arms: int, points: int) -> int:
    """A bandit's outputs in per-arm sums' worth of memory: its per-arm sums and its trace."""
    return n_episodes * n_arms + TRACE_ELEMENTS * points


def run_job(job: Job) -> dict:
    """``run_jobs([job])[0]``: the function a Dask worker runs."""
    return run_jobs([job])[0]


def run_jobs(jobs: list[Job], on_progress: Callable[[int], None] | None = None) -> list[dict]:
    """Run jobs of one group as one batch. Returns per job ``{"stats": {setting: statistics},
    "backend", "device", "engine_s", "setup_s", "reduce_s"}`` (see ``block_statistics``); the times
    (building the batch, random problems included; the engine; the reduction) are shared among the
    jobs in proportion to their bandit-steps."""
    first = jobs[0]
    dtype = DTYPES[first.dtype]
    device = resolve_device(first.device)
    tick = time.perf_counter()
    rows, parts, n_rows = {}, [], 0  # each setting's bandits of every job, together
    for setting in dict.fromkeys(s for job in jobs for s in job.settings):
        mine = [job for job in jobs if setting in job.settings]
        options = next(o for job in mine for s, o in zip(job.settings, job.options) if s == setting)
        parts.append((options, torch.cat([torch.arange(job.lo, job.hi) for job in mine])))
        for job in mine:
            rows[job.key, setting] = n_rows
            n_rows += job.hi - job.lo
    with one_thread():
        setup = batch_setup(parts, first, dtype)
    rule, n_arms = setup.batch.rule, setup.batch.n_arms
    traced = first.record_every is not None
    backend = engines.resolve_backend(first.backend, device, dtype, n_arms, rule, trace=traced)
    setup_s, tick = time.perf_counter() - tick, time.perf_counter()
    out = simulate_chunks(
        setup, backend=backend, device=device, seed=first.seed, n_episodes=first.n_episodes,
        steps_per_episode=first.steps_per_episode, record_episodes=True, record_every=first.record_every,
        chunk_size=engines.default_chunk_size(backend, device, n_arms), dtype=dtype, on_progress=on_progress,
    )  # fmt: skip
    engine_s, tick = time.perf_counter() - tick, time.perf_counter()
    arrays, every = row_arrays(out, setup, first)

    def block(start: int, n: int) -> dict:  # the statistics of rows start .. start + n - 1
        return block_statistics({k: v[start : start + n] for k, v in arrays.items()}, every)

    stats = [{s: block(rows[job.key, s], job.hi - job.lo) for s in job.settings} for job in jobs]
    times = {"engine_s": engine_s, "setup_s": setup_s, "reduce_s": time.perf_counter() - tick}
    total = sum(j.bandit_steps for j in jobs)
    return [
        {"stats": mine, "backend": backend, "device": describe_device(device),
         **{name: t * job.bandit_steps / total for name, t in times.items()}}
        for job, mine in zip(jobs, stats)
    ]  # fmt: skip


@contextlib.contextmanager
def one_thread():
    """torch on one intra-op thread meanwhile. Building a batch (random problems drawn, every value
    checked) is a few hundred elementwise ops on tensors of B x K values, too small to gain from
    threads; and on a busy machine each parallel op waits for a second core to be free: drawing 10
    arms for 10,000 bandits took 0.03-1.9 s on 2 threads and 0.012-0.033 s on one (2 cores, load 6)."""
    with _THREADS:
        threads = torch.get_num_threads()
        torch.set_num_threads(1)
        try:
            yield
        finally:
            torch.set_num_threads(threads)


def row_arrays(out: dict, setup: Setup, job: Job) -> tuple[dict[str, np.ndarray], int]:
    """simulate_chunks' outputs as per-row numpy arrays, block_statistics' inputs (row-wise, so a
    block's values do not depend on the rows around it), and the steps between two curve points.
    The curves: per episode, or the trace's points; reward and optimal pulls are the interval's sums
    (block_statistics makes them rates, as RunResult.trace); the per-bandit values over the run as
    RunResult's properties compute them."""
    b = setup.batch
    z = out["weights"].double().numpy() * b.hyper.inv_temperature.numpy()[:, None]  # the final policy, as RunResult's
    final_probs = np.exp(z - z.max(axis=1, keepdims=True))  # numpy: torch.softmax costs ms per call on tiny batches
    final_probs /= final_probs.sum(axis=1, keepdims=True)
    rewards, best = out["episode_rewards"].numpy(), b.best_arm.numpy()
    n_steps = job.n_episodes * job.steps_per_episode
    if job.record_every is None:
        every, prefix = job.steps_per_episode, "episode_"
        success = rewards.argmax(axis=2) == best[:, None]  # (n, E); argmax: first on ties, as the seed
    else:
        every, prefix = job.record_every, "trace_"
        success = out["trace_success"].numpy()
    return {
        "curve_success": success,
        "curve_p_best": out[f"{prefix}p_best"].numpy(),
        "curve_regret": out[f"{prefix}regret"].numpy(),
        "curve_reward": out[f"{prefix}reward"].numpy(),
        "curve_optimal_action": out[f"{prefix}optimal"].numpy(),
        "final_p_best": out["episode_p_best"][:, -1].double().numpy(),
        "final_regret": out["episode_regret"][:, -1].numpy(),
        "final_reward": (out["episode_reward"].sum(dim=1) / n_steps).numpy(),
        "final_optimal_action": (out["episode_optimal"].sum(dim=1).double() / n_steps).numpy(),
        "verdicts": rewards[:, -1].argmax(axis=1) == best,
        "last_rewards": rewards[:, -1],
        "final_probs": final_probs,
        "best": best,
    }, every


def batch_setup(parts: list[tuple[dict, torch.Tensor]], job: Job, dtype: torch.dtype) -> Setup:
    """One make_setup for the bandits of several settings of a group: parts of (run_batch options,
    (n_i,) bandit ids), rows part by part. What varies becomes a per-bandit tensor; what does not
    stays one value (no copies). Random problems are drawn here, once per distribution for the
    batch's bandits (settings that share one share its draws), then checked again (the grid's checks
    saw their most extreme draws)."""
    sizes = torch.tensor([ids.shape[0] for _, ids in parts])
    which = torch.repeat_interleave(torch.arange(len(parts)), sizes)  # (n,) the part of each row
    n = int(sizes.sum())
    keys = dict.fromkeys(k for options, _ in parts for k in options)

    def per_bandit(values):  # one value when every part agrees, else a per-bandit tensor
        return values[0] if all(v == values[0] for v in values) else torch.tensor(values, dtype=torch.float64)[which]

    merged = {}
    for key in keys:
        values = [options.get(key, DEFAULTS[key]) for options, _ in parts]
        if key in MODELS:
            merged[key] = _arm_rows(values, parts, MODELS[key], job.seed, which)
        elif OPTIONS[key].kind == "pair":
            merged[key] = (per_bandit([v[0] for v in values]), per_bandit([v[1] for v in values]))
        elif key == "init_weights" and not all(v == values[0] for v in values):
            merged[key] = per_bandit(values)[:, None].expand(n, job.n_arms)
        else:
            merged[key] = per_bandit(values) if isinstance(values[0], float) else values[0]
    setup = make_setup(n, torch.cat([ids for _, ids in parts]), **merged)
    if any(isinstance(v, RandomArms) for options, _ in parts for v in options.values()):
        check_numerics(setup, job.n_episodes, job.steps_per_episode, dtype)
    return setup


def _arm_rows(values: list, parts, model: str, seed: int, which: torch.Tensor):
    """Per-arm parameters of every row: one vector, a (settings, K) table indexed per row, or
    random problems, drawn once per distribution for the bandits of the parts that have it."""
    if any(isinstance(v, RandomArms) for v in values):
        drawn = {v: _draw(v, [ids for w, (_, ids) in zip(values, parts) if w == v], model, seed)
                 for v in dict.fromkeys(v for v in values if isinstance(v, RandomArms))}  # fmt: skip
        return torch.cat([
            drawn[v](ids) if isinstance(v, RandomArms)
            else torch.tensor(v, dtype=torch.float64).expand(ids.shape[0], -1)
            for v, (_, ids) in zip(values, parts)
        ])  # fmt: skip
    if all(v == values[0] for v in values):
        return values[0]
    return torch.tensor(values, dtype=torch.float64)[which]


def _draw(dist: RandomArms, id_lists: list[torch.Tensor], model: str, seed: int):
    """The problems of the bandits of ``id_lists``, drawn once: a function (n,) ids -> (n, K) rows.
    Usually every list is the same (each setting of a batch has its bandits); else their union."""
    first = id_lists[0]
    if all(ids.shape == first.shape and torch.equal(ids, first) for ids in id_lists):
        table = dist.draw(model, seed, first)
        return lambda ids: table
    union = torch.unique(torch.cat(id_lists))
    table = dist.draw(model, seed, union)
    return lambda ids: table[torch.searchsorted(union, ids)]


RATES = ("reward", "optimal_action")  # curves of sums within an interval, divided by its steps


def block_statistics(rows: dict[str, np.ndarray], every: int) -> dict:
    """A block's sufficient statistics, merged across blocks by adding in block order.

    ``rows``: row_arrays' arrays for the block's n bandits — ``curve_<metric>`` (n, P) at each
    curve point (success bool, p_best float32, regret float64; reward and optimal action the sums
    within the ``every`` steps ending at the point: made rates here), ``final_<mean metric>`` (n,)
    float64 over the whole run, ``verdicts`` (n,) bool (the seed's final verdict), ``last_rewards``
    (n, K) the last episode's per-arm sums, ``final_probs`` (n, K) float64, ``best`` (n,) int64.
    Returns numpy arrays (integrity.ARRAYS): ``n``, ``final_successes``; ``successes`` (P,) int64,
    the bandits whose verdict holds at each point; per mean metric m (p_best, regret, reward,
    optimal_action) ``m_sum``, ``m_sq`` (P,) float64 at each point, ``final_m`` (2,) float64 (sum,
    sum of squares over the run) and ``bandit_m`` (n,) float32, each bandit's value; ``locked`` (3,)
    int64: final max prob > 0.99 on the best arm, on a wrong one, undecided; ``p_best_hist`` (20,)
    int64 of the final P(best) on [0, 1]; ``last_rewards`` (K,) float64: per-arm reward sums of the
    last episode; ``verdicts``: the final verdicts, np.packbits.
    """
    final_probs, best, verdicts = rows["final_probs"], rows["best"], rows["verdicts"]
    stats = {"n": int(best.shape[0]), "final_successes": int(verdicts.sum()),
             "successes": rows["curve_success"].sum(axis=0, dtype=np.int64)}  # fmt: skip
    for name in MEANS:
        x = np.ascontiguousarray(rows[f"curve_{name}"], dtype=np.float64)  # contiguous: sums independent of the batch
        if name in RATES:  # sum of x / every: exact steps of x, one rounding
            x = x / every
        final = np.ascontiguousarray(rows[f"final_{name}"], dtype=np.float64)
        stats.update({f"{name}_sum": x.sum(axis=0), f"{name}_sq": (x * x).sum(axis=0),
                      f"final_{name}": np.array([final.sum(), (final * final).sum()]),
                      f"bandit_{name}": final.astype(np.float32)})  # fmt: skip
    top = final_probs.max(axis=1)
    locked = top > LOCK_THRESHOLD
    on_best = final_probs.argmax(axis=1) == best
    bins = np.minimum((rows["final_p_best"] * HISTOGRAM_BINS).astype(np.int64), HISTOGRAM_BINS - 1)
    return {
        **stats,
        "locked": np.array([(locked & on_best).sum(), (locked & ~on_best).sum(), (~locked).sum()], dtype=np.int64),
        "p_best_hist": np.bincount(bins, minlength=HISTOGRAM_BINS).astype(np.int64),
        "last_rewards": np.array(rows["last_rewards"], dtype=np.float64).sum(axis=0),
        "verdicts": np.packbits(verdicts).tobytes(),
    }
