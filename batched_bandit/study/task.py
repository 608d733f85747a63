"""Running tasks: small inputs in, each setting's sufficient statistics over its block out.

A ``Job`` is what a worker needs (numbers and strings, a few hundred bytes); ``run_jobs`` builds
one batch for jobs of one group (one ``make_setup`` of per-bandit tensors), runs it through
``run.simulate_chunks`` and reduces every (setting, block) to numpy arrays: never device tensors,
never per-bandit data except the verdicts as a bitset. A bandit's trajectory depends only on
(seed, bandit id, its setting), so the statistics of a (setting, block) are the same whichever
jobs share its batch, whichever worker runs it, however often.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

from .. import engines
from ..engines import describe_device, resolve_device
from ..options import Setup, check_numerics, make_setup
from ..random_arms import RandomArms
from ..run import simulate_chunks
from ..schema import DEFAULTS, OPTIONS
from ..schema import MODEL_OF as MODELS

LOCK_THRESHOLD = 0.99  # a policy is "locked" when its largest probability exceeds this
HISTOGRAM_BINS = 20  # of the final P(best arm), on [0, 1]
DTYPES = {"float32": torch.float32, "float64": torch.float64}


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

    @property
    def bandit_steps(self) -> int:
        return (self.hi - self.lo) * len(self.settings) * self.n_episodes * self.steps_per_episode


def run_job(job: Job) -> dict:
    """``run_jobs([job])[0]``: the function a Dask worker runs."""
    return run_jobs([job])[0]


def run_jobs(jobs: list[Job], on_progress: Callable[[int], None] | None = None) -> list[dict]:
    """Run jobs of one group as one batch. Returns per job ``{"stats": {setting: statistics},
    "backend", "device", "engine_s"}`` (see ``block_statistics``)."""
    first = jobs[0]
    dtype = DTYPES[first.dtype]
    device = resolve_device(first.device)
    rows, parts, n_rows = {}, [], 0  # each setting's bandits of every job, together
    for setting in dict.fromkeys(s for job in jobs for s in job.settings):
        mine = [job for job in jobs if setting in job.settings]
        options = next(o for job in mine for s, o in zip(job.settings, job.options) if s == setting)
        parts.append((options, torch.cat([torch.arange(job.lo, job.hi) for job in mine])))
        for job in mine:
            rows[job.key, setting] = n_rows
            n_rows += job.hi - job.lo
    setup = batch_setup(parts, first, dtype)
    rule, n_arms = setup.batch.rule, setup.batch.n_arms
    backend = engines.resolve_backend(first.backend, device, dtype, n_arms, rule)
    tick = time.perf_counter()
    out = simulate_chunks(
        setup, backend=backend, device=device, seed=first.seed, n_episodes=first.n_episodes,
        steps_per_episode=first.steps_per_episode, record_episodes=True,
        chunk_size=engines.default_chunk_size(backend, device, n_arms), dtype=dtype, on_progress=on_progress,
    )  # fmt: skip
    engine_s = time.perf_counter() - tick
    b = setup.batch
    z = out["weights"].double().numpy() * b.hyper.inv_temperature.numpy()[:, None]  # the final policy, as RunResult's
    final_probs = np.exp(z - z.max(axis=1, keepdims=True))  # numpy: torch.softmax costs ms per call on tiny batches
    final_probs /= final_probs.sum(axis=1, keepdims=True)
    arrays = {
        "rewards": out["episode_rewards"].numpy(),
        "p_best": out["episode_p_best"].numpy(),
        "regret": out["episode_regret"].numpy(),
        "final_probs": final_probs,
        "best": b.best_arm.numpy(),
    }
    results = []
    for job in jobs:
        stats = {}
        for setting in job.settings:
            span = slice(rows[job.key, setting], rows[job.key, setting] + job.hi - job.lo)
            stats[setting] = block_statistics(**{k: v[span] for k, v in arrays.items()})
        share = job.bandit_steps / sum(j.bandit_steps for j in jobs)
        results.append({"stats": stats, "backend": backend, "device": describe_device(device),
                        "engine_s": engine_s * share})  # fmt: skip
    return results


def batch_setup(parts: list[tuple[dict, torch.Tensor]], job: Job, dtype: torch.dtype) -> Setup:
    """One make_setup for the bandits of several settings of a group: parts of (run_batch options,
    (n_i,) bandit ids), rows part by part. What varies becomes a per-bandit tensor; what does not
    stays one value (no copies). Random problems are drawn here, then checked again (the grid's checks
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
    random problems drawn for each part's bandits."""
    if any(isinstance(v, RandomArms) for v in values):
        return torch.cat([
            v.draw(model, seed, ids) if isinstance(v, RandomArms)
            else torch.tensor(v, dtype=torch.float64).expand(ids.shape[0], -1)
            for v, (_, ids) in zip(values, parts)
        ])  # fmt: skip
    if all(v == values[0] for v in values):
        return values[0]
    return torch.tensor(values, dtype=torch.float64)[which]


def block_statistics(rewards, p_best, regret, final_probs, best) -> dict:
    """A block's sufficient statistics, merged across blocks by adding in block order.

    rewards (n, E, K): per-arm reward sums per episode; p_best (n, E) float32: P(best arm) at each
    episode's end; regret (n, E) float64: cumulative pseudo-regret at each episode's end;
    final_probs (n, K) float64: the final policy; best (n,) int64. Returns numpy arrays:
    ``n``; ``successes`` (E,) int64: bandits whose episode's top arm (first on ties) is the best
    (the seed's verdict, per episode); ``p_best_sum``, ``p_best_sq``, ``regret_sum``, ``regret_sq``
    (E,) float64; ``locked`` (3,) int64: final max prob > 0.99 on the best arm, on a wrong one,
    undecided; ``p_best_hist`` (20,) int64 of the final P(best) on [0, 1]; ``last_rewards`` (K,)
    float64: per-arm reward sums of the last episode; ``verdicts``: the final verdicts, np.packbits.
    """
    verdicts = rewards.argmax(axis=2) == best[:, None]  # (n, E); argmax: first on ties, as the seed
    p = np.array(p_best, dtype=np.float64)  # a fresh contiguous copy: sums do not depend on the batch
    r = np.array(regret, dtype=np.float64)
    top = final_probs.max(axis=1)
    locked = top > LOCK_THRESHOLD
    on_best = final_probs.argmax(axis=1) == best
    final = p[:, -1]
    bins = np.minimum((final * HISTOGRAM_BINS).astype(np.int64), HISTOGRAM_BINS - 1)
    return {
        "n": int(p.shape[0]),
        "successes": verdicts.sum(axis=0, dtype=np.int64),
        "p_best_sum": p.sum(axis=0),
        "p_best_sq": (p * p).sum(axis=0),
        "regret_sum": r.sum(axis=0),
        "regret_sq": (r * r).sum(axis=0),
        "locked": np.array([(locked & on_best).sum(), (locked & ~on_best).sum(), (~locked).sum()], dtype=np.int64),
        "p_best_hist": np.bincount(bins, minlength=HISTOGRAM_BINS).astype(np.int64),
        "last_rewards": np.array(rewards[:, -1], dtype=np.float64).sum(axis=0),
        "verdicts": np.packbits(verdicts[:, -1]).tobytes(),
    }
