"""The fused CPU engine: the whole time loop in C, vectorised across bandits, one thread per core.

Each learning rule runs its own build of the kernel (cpu_build.py: compiled at first use, cached in
cpu_cache.py's checked cache), its traced runs a tracing build. The gradient policy runs
cpu_kernel.c's ``bb_simulate``; the other policies (ε-greedy, greedy, UCB, Thompson sampling)
``value_kernel.c``'s ``bb_policy_simulate``. Without a compiler, ``backend="auto"`` falls back to the
portable engine.

Threads run slices of a chunk in parallel (ctypes releases the GIL during calls) while the calling
thread polls the kernel's progress counter, so ``on_progress`` hears about the work every
``POLL_SECONDS``, from the caller's thread; an interrupt (Ctrl-C) there asks the kernel to stop.
"""

from __future__ import annotations

import ctypes
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, wait

import numpy as np
import torch

from .. import schema
from ..optimizers import one_minus
from ..state import Batch, Outcome, Rule, empty_trace, trace_points
from . import MAX_ARMS as ENGINE_MAX_ARMS
from .cpu_build import COMPLEMENTS, FIELDS, ROWS64, KernelBatch, load_kernel

POLICIES = schema.POLICIES  # the gradient policy: cpu_kernel.c's bb_simulate; the others: value_kernel.c's
LANES = 16  # threads get whole multiples of the kernel's SIMD block (8 or 16 bandits)
POLL_SECONDS = 0.2  # how often the calling thread reports progress while the kernel runs


def tables(batch: Batch) -> tuple[torch.Tensor, torch.Tensor]:
    """The kernel's per-bandit rows: ((len(ROWS), B) float32, (len(ROWS64), B) float64)."""
    h = batch.hyper
    rows = [getattr(h, name) for name in schema.ROWS]
    rows += [one_minus(getattr(h, name), torch.float64) for name in COMPLEMENTS]
    table = torch.stack([row.to(torch.float32) for row in rows]) if rows else torch.empty(0, batch.n_bandits)
    table64 = torch.stack([getattr(h, name).double() for name in ROWS64])
    return table.contiguous(), table64.contiguous()


def unavailable_reason(device: torch.device) -> str | None:
    if device.type != "cpu":
        return f"the fused CPU engine runs on the CPU, not on {device.type}"
    try:
        load_kernel()
    except RuntimeError as err:
        return f"the fused CPU engine is unavailable: {err}"
    return None


def unsupported_reason(rule: Rule, trace: bool = False) -> str | None:
    """Every rule of every policy runs, and the gradient policy's traced too (value_kernel.c keeps no
    trace: the portable engine traces the other policies); the rule's kernel is built here, at first
    use, so that a run's timing excludes it and a failed build falls back like a missing compiler."""
    if rule.policy not in POLICIES:
        return f"the fused CPU engine runs the policies {', '.join(POLICIES)}, not {rule.policy!r} (yet)"
    if trace and rule.policy != "gradient":
        return f"the fused CPU engine traces only the gradient policy, not {rule.policy!r} (record_every)"
    try:
        load_kernel(rule, trace)
    except RuntimeError as err:
        return f"the fused CPU engine is unavailable: {err}"
    return None


def simulate(
    batch: Batch,
    *,
    seed: int,
    n_episodes: int,
    steps_per_episode: int,
    record_episodes: bool = True,
    record_every: int | None = None,
    on_progress: Callable[[int], None] | None = None,
    dtype: torch.dtype = torch.float32,
) -> Outcome:
    """Train every bandit of ``batch`` (float32, CPU) for ``n_episodes * steps_per_episode`` steps.

    ``record_every``: also trace every metric every this many steps (state.Outcome), with the
    rule's tracing build; the trace fields are (B, R) views of the (R, B) arrays the kernel writes.
    ``on_progress(n)`` is called from this thread about every ``POLL_SECONDS``
    with the bandit-steps done since the last call; the calls add up to all of them.
    """
    if record_every is not None and batch.rule.policy != "gradient":  # value_kernel.c keeps no trace
        raise ValueError(f"the fused CPU engine does not trace policy {batch.rule.policy!r} (record_every)")
    trace = record_every is not None
    kernel = load_kernel(batch.rule, trace)
    n_bandits, n_arms = batch.n_bandits, batch.n_arms
    n_recorded = n_episodes if record_episodes else 1
    f32 = lambda t: t.to(torch.float32).contiguous()  # noqa: E731
    rows, rows64 = tables(batch)
    inputs = {
        "rows": rows, "rows64": rows64, "arm_param": f32(batch.arm_param), "arm_gap": f32(batch.arm_gap),
        "init_weights": f32(batch.init_weights), "bandit_ids": batch.bandit_ids.long().contiguous(),
        "best_arm": batch.best_arm.long().contiguous(),
    }  # fmt: skip
    outputs = {
        "weights": torch.empty(n_bandits, n_arms, dtype=torch.float32),
        "episode_rewards": torch.empty(n_bandits, n_recorded, n_arms, dtype=torch.float32),
        "episode_p_best": torch.empty(n_bandits, n_episodes, dtype=torch.float32),
        "episode_regret": torch.empty(n_bandits, n_episodes, dtype=torch.float32),
        "episode_reward": torch.empty(n_bandits, n_episodes, dtype=torch.float32),
        "episode_optimal": torch.empty(n_bandits, n_episodes, dtype=torch.int32),
        "final_probs": torch.empty(n_bandits, n_arms if batch.rule.policy != "gradient" else 0, dtype=torch.float32),
    }
    # (R, B), as the kernel writes a point; returned as (B, R) views
    traced = empty_trace(trace_points(n_episodes * steps_per_episode, record_every), n_bandits, torch.float32)
    outcome = Outcome(**outputs, **{name: tensor.T for name, tensor in traced.items()})
    if n_bandits == 0:
        return outcome
    progress = _Progress(on_progress)
    arrays = {**inputs, **outputs, **traced, "progress": progress.counter, "cancel": progress.cancel}
    assert sorted([*arrays, "stride", "record_every"]) == sorted(name for name, _ in FIELDS)  # no pointer left NULL
    numbers = dict(stride=n_bandits, record_every=record_every or 0)
    args = KernelBatch(**numbers, **{name: tensor.data_ptr() for name, tensor in arrays.items()})

    entry = kernel.bb_simulate if batch.rule.policy == "gradient" else kernel.bb_policy_simulate

    def run(lo: int, hi: int) -> int:
        return entry(ctypes.byref(args), lo, hi, n_arms, seed, n_episodes, steps_per_episode, int(record_episodes))

    n_threads = max(1, min(torch.get_num_threads(), -(-n_bandits // LANES)))
    per_thread = -(-n_bandits // (n_threads * LANES)) * LANES  # whole SIMD blocks per thread
    bounds = [(lo, min(lo + per_thread, n_bandits)) for lo in range(0, n_bandits, per_thread)]
    codes = progress.run_threads(run, bounds)  # even one slice: this thread stays free to poll
    if any(codes):
        raise RuntimeError(f"cpu kernel failed with codes {codes}")
    progress.report()
    return outcome


def call_cancellable(function: Callable[..., int], *args) -> int:
    """``function(*args, cancel)``, a kernel entry point whose last argument is a cancel flag, on a worker
    thread while this one waits: Ctrl-C (or SIGTERM) here sets the flag and the C loop returns soon."""
    progress = _Progress(None)
    return progress.run_threads(lambda lo, hi: function(*args, progress.cancel.data_ptr()), [(0, 0)])[0]


class _Progress:
    """The kernel's progress counter and cancel flag, and the reports made from the calling thread."""

    def __init__(self, on_progress: Callable[[int], None] | None):
        self.counter = torch.zeros(1, dtype=torch.int64)  # bandit-steps done (the kernel adds to it)
        self.cancel = torch.zeros(1, dtype=torch.int32)  # set to 1: the kernel stops at its next report
        self.on_progress, self.reported = on_progress, 0

    def report(self) -> None:
        """Pass the bandit-steps done since the last report to on_progress."""
        done = int(self.counter[0])
        if self.on_progress is not None and done > self.reported:
            self.on_progress(done - self.reported)
            self.reported = done

    def run_threads(self, run: Callable[[int, int], int], bounds: list[tuple[int, int]]) -> list[int]:
        """``run(lo, hi)`` for each slice on its own thread, reporting progress meanwhile."""
        with ThreadPoolExecutor(len(bounds)) as pool:
            futures = [pool.submit(run, lo, hi) for lo, hi in bounds]
            try:
                while wait(futures, timeout=POLL_SECONDS).not_done:
                    self.report()
            except BaseException:  # KeyboardInterrupt: stop the kernel rather than wait for it
                self.cancel[0] = 1
                raise
            return [f.result() for f in futures]


def mean_field_loop(recurrence, n_episodes: int, steps_per_episode: int):
    """meanfield.py's recurrence in C (cpu_kernel.c, bb_mean_field): (S, n_episodes) float64, or None
    where the fused CPU engine is not built here or the problem has more arms than it holds."""
    r = recurrence
    n_settings, n_arms = r.mu.shape
    if n_arms > ENGINE_MAX_ARMS["cpu"] or unavailable_reason(torch.device("cpu")) is not None:
        return None
    out = np.empty((n_settings, n_episodes))
    arrays = [r.mu, r.inv_t, r.lr, r.momentum, r.factor, r.nesterov.astype(np.uint8), r.weight_decay,
              r.init_weights, r.best]  # fmt: skip
    # on a worker thread, with a cancel flag: a long horizon stops within milliseconds of Ctrl-C
    code = call_cancellable(load_kernel().bb_mean_field, n_settings, n_arms, *(a.ctypes.data for a in arrays),
                            n_episodes, steps_per_episode, out.ctypes.data)  # fmt: skip
    return out if code == 0 else None
