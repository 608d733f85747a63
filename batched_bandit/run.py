"""``run_batch``: the seed's experiment, and its generalisations, for many independent bandits.

Arguments are checked before any work (options.py); bandits are simulated in chunks whose results
are identical to one big batch, because every random number is a function of (seed, bandit, step).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import torch

from . import engines
from .checks import (
    check_bool,
    check_chunk_size,
    check_count,
    check_dtype,
    check_progress,
    check_run_size,
    check_seed,
    dtype_name,
)
from .engines import describe_device, resolve_device
from .memory import check_memory
from .options import Setup, check_numerics, draw_problems, integer_rewards, make_setup, problem_size
from .progress import Bar
from .result import RunResult, Trace, describe_options
from .schema import DEFAULTS
from .state import trace_dtypes, trace_points


def run_batch(
    n_bandits: int,
    *,
    n_episodes: int = DEFAULTS["n_episodes"],
    steps_per_episode: int = DEFAULTS["steps_per_episode"],
    seed: int = 0,
    device: str | torch.device = "auto",
    backend: str = "auto",
    dtype: torch.dtype = torch.float32,
    record_episodes: bool = True,
    record_every: int | None = None,
    chunk_size: int | None = None,
    progress: Callable[[int, int], None] | bool | None = None,
    **options,
) -> RunResult:
    """Train ``n_bandits`` independent bandits and return the seed's verdicts and more.

    ``options`` are the problem and the rule (schema.py's options; docs/guide/rule.md and policies.md):
    one reward model (``arms=`` thresholds, the default; ``win_prob=``; ``means=`` with
    ``reward_sd``), ``reward_values=(win, loss)``, ``temperature``, ``lr``, ``optimizer`` ("sgd",
    "adam", "rmsprop") and its torch.optim options, ``baseline`` (None, "mean", ("ema", decay)),
    ``init_weights``. Per-arm values are (K,) or (n_bandits, K), or a distribution to draw each
    bandit's problem from (``normal_arms(10, 0, 1)``: random_arms.py); per-bandit numbers a number
    or a (n_bandits,) tensor. Bandit ``g`` uses the random stream (seed, g, t) whatever the chunking.
    ``record_every=N`` traces every metric every N steps (RunResult.trace), inside episodes too.
    ``progress``: True for a progress bar on stderr, or a callable ``progress(done, total)`` of
    bandit-steps.
    """
    n_bandits = check_count("n_bandits", n_bandits)
    n_episodes = check_count("n_episodes", n_episodes)
    steps_per_episode = check_count("steps_per_episode", steps_per_episode)
    check_run_size(n_bandits, n_episodes, steps_per_episode)
    seed = check_seed(seed)
    dtype = check_dtype(dtype)
    record_episodes = check_bool("record_episodes", record_episodes)
    record_every = check_record_every(record_every, n_episodes * steps_per_episode)
    n_points = trace_points(n_episodes * steps_per_episode, record_every)
    chunk_size = None if chunk_size is None else check_count("chunk_size", chunk_size)
    progress = check_progress(progress)
    torch_device = resolve_device(device)
    n_arms = problem_size(n_bandits, options)
    sizes: dict[str, Any] = dict(n_episodes=n_episodes, record_episodes=record_episodes, n_points=n_points, dtype=dtype)
    check_memory(n_bandits, n_arms, chunk=chunk_size or 1, device=torch_device, **sizes)
    bandit_ids = torch.arange(n_bandits)
    options, drawn_from = draw_problems(options, seed, bandit_ids)
    setup = make_setup(n_bandits, bandit_ids, **options)
    check_numerics(setup, n_episodes, steps_per_episode, dtype)
    rule = setup.batch.rule
    backend_name = engines.resolve_backend(backend, torch_device, dtype, n_arms, rule, trace=record_every is not None)
    chunk_size = chunk_size or engines.default_chunk_size(backend_name, torch_device, n_arms)
    check_chunk_size(backend_name, min(chunk_size, n_bandits))
    check_memory(n_bandits, n_arms, chunk=chunk_size, device=torch_device, **sizes)

    start = time.perf_counter()  # after the checks and an engine's one-off build at first use
    total = n_bandits * n_episodes * steps_per_episode
    bar = Bar(total) if progress is True else None
    report = _reporter(progress, bar, total)
    try:
        out = simulate_chunks(
            setup, backend=backend_name, device=torch_device, seed=seed, n_episodes=n_episodes,
            steps_per_episode=steps_per_episode, record_episodes=record_episodes, record_every=record_every,
            chunk_size=chunk_size, dtype=dtype, on_progress=report,
        )  # fmt: skip
    finally:
        if bar is not None:
            bar.close()
    episode_rewards = out["episode_rewards"]
    success = torch.argmax(episode_rewards[:, -1], dim=1) == setup.batch.best_arm
    wall = time.perf_counter() - start
    return RunResult(
        success=success,
        episode_rewards=episode_rewards,
        episode_p_best=out["episode_p_best"],
        episode_regret=out["episode_regret"],
        episode_reward=out["episode_reward"],
        episode_optimal=out["episode_optimal"],
        final_probs=final_policy(out, setup).to(dtype),
        weights=out["weights"],
        reward_model=setup.model,
        arms=setup.params,
        temperature=setup.temperature,
        lr=setup.batch.hyper.lr,
        options=describe_options(setup),
        n_episodes=n_episodes,
        steps_per_episode=steps_per_episode,
        seed=seed,
        device=describe_device(torch_device),
        backend=backend_name,
        dtype=dtype_name(dtype),
        wall_time_s=wall,
        bandit_steps_per_s=total / wall,
        trace=make_trace(out, record_every),
        drawn_from=drawn_from,
    )


def final_policy(out: dict, setup: Setup) -> torch.Tensor:
    """(B, K): each arm's probability at the next step; softmax(w / T) in float64 for the gradient
    policy, the engine's for the others."""
    if setup.batch.rule.policy == "gradient":
        return torch.softmax(out["weights"].double() * setup.batch.hyper.inv_temperature[:, None], dim=1)
    return out["final_probs"]


def check_record_every(record_every, n_steps: int) -> int | None:
    """None, or a count of steps between trace points, at most the run's steps."""
    if record_every is None:
        return None
    record_every = check_count("record_every", record_every)
    if record_every > n_steps:
        raise ValueError(f"record_every must be in [1, {n_steps:,}] (the run's steps), got {record_every:,}")
    return record_every


def make_trace(out: dict, record_every: int | None) -> Trace | None:
    """The run's Trace from simulate_chunks' outputs (whose trace_reward it divides in place):
    cumulative regret, per-step rates."""
    if record_every is None:
        return None
    n_points = out["trace_p_best"].shape[1]
    return Trace(
        every=record_every,
        steps=torch.arange(1, n_points + 1, dtype=torch.int64) * record_every,
        p_best=out["trace_p_best"],
        regret=out["trace_regret"],
        reward=out["trace_reward"].div_(record_every),  # in place: out is not used after
        optimal_action=out["trace_optimal"].to(torch.float64).div_(record_every),
        success=out["trace_success"],
    )


def _reporter(progress, bar: Bar | None, total: int) -> Callable[[int], None] | None:
    """An engine's on_progress(n) -> the bar, or the caller's progress(done, total)."""
    if bar is not None:
        return bar.update
    if not callable(progress):
        return None
    done = 0

    def report(n: int) -> None:
        nonlocal done
        done += n
        progress(done, total)

    return report


def simulate_chunks(
    setup: Setup,
    *,
    backend: str,
    device: torch.device,
    seed: int,
    n_episodes: int,
    steps_per_episode: int,
    record_episodes: bool,
    chunk_size: int,
    dtype: torch.dtype,
    record_every: int | None = None,
    on_progress: Callable[[int], None] | None = None,
) -> dict[str, torch.Tensor]:
    """Run ``setup`` chunk by chunk on ``device`` into CPU outputs, batch first:

    ``weights`` (B, K) dtype; ``episode_rewards`` (B, E, K) int32 for whole-number rewards, else
    dtype; ``episode_p_best`` (B, n_episodes) float32; ``episode_regret`` (B, n_episodes) float64,
    cumulative; ``episode_reward`` (B, n_episodes) float64 and ``episode_optimal`` (B, n_episodes)
    int64, within each episode; the trace's (B, R): ``trace_p_best`` float32, ``trace_regret``
    float64 cumulative, ``trace_reward`` float64 and ``trace_optimal`` int64 within each interval,
    ``trace_success`` bool. ValueError if a chunk's weights overflow (which the checks should have
    excluded).
    """
    simulate = engines.get(backend)
    batch = setup.batch
    n, k = batch.n_bandits, batch.n_arms
    n_recorded = n_episodes if record_episodes else 1
    n_points = trace_points(n_episodes * steps_per_episode, record_every)
    reward_dtype = torch.int32 if integer_rewards(setup) else dtype
    out = {
        "weights": torch.empty(n, k, dtype=dtype),
        "episode_rewards": torch.empty(n, n_recorded, k, dtype=reward_dtype),
        "episode_p_best": torch.empty(n, n_episodes, dtype=torch.float32),
        "episode_regret": torch.empty(n, n_episodes, dtype=torch.float64),
        "episode_reward": torch.empty(n, n_episodes, dtype=torch.float64),
        "episode_optimal": torch.empty(n, n_episodes, dtype=torch.int64),
        **{k: torch.empty(n, n_points, dtype=WIDER.get(k, d)) for k, d in trace_dtypes(dtype).items()},
        "final_probs": torch.empty(n, k if batch.rule.policy != "gradient" else 0, dtype=torch.float32),
    }
    for lo in range(0, n, chunk_size):
        chunk = batch[lo : lo + chunk_size].to(device)
        result = simulate(
            chunk, seed=seed, n_episodes=n_episodes, steps_per_episode=steps_per_episode,
            record_episodes=record_episodes, record_every=record_every, on_progress=on_progress, dtype=dtype,
        )  # fmt: skip
        rows = slice(lo, lo + chunk.n_bandits)
        _check_finite(result.weights, result.episode_p_best, setup, rows)
        out["weights"][rows] = result.weights.cpu()
        out["episode_rewards"][rows] = result.episode_rewards.cpu().to(reward_dtype)
        out["episode_p_best"][rows] = result.episode_p_best.cpu()
        out["episode_regret"][rows] = torch.cumsum(result.episode_regret.cpu().double(), dim=1)
        for name in ("episode_reward", "episode_optimal", "final_probs", *TRACE_FIELDS):
            out[name][rows].copy_(getattr(result, name))  # converted as copied: no temporary
        out["trace_regret"][rows].cumsum_(dim=1)
    return out


TRACE_FIELDS = ("trace_p_best", "trace_regret", "trace_reward", "trace_optimal", "trace_success")
WIDER = {"trace_regret": torch.float64, "trace_reward": torch.float64, "trace_optimal": torch.int64}


def _check_finite(weights: torch.Tensor, p_best: torch.Tensor, setup: Setup, rows: slice) -> None:
    """The safety net behind the a-priori checks: never return a non-finite policy."""
    bad = ~(torch.isfinite(weights).all(dim=1) & torch.isfinite(p_best).all(dim=1))
    if bool(bad.any()):
        i = rows.start + int(bad.nonzero()[0])
        raise ValueError(
            f"the weights of bandit {i} overflowed (temperature {setup.temperature[i].item():.3g}, lr "
            f"{setup.batch.hyper.lr[i].item():.3g}, rule {setup.batch.rule}): this setting diverges in "
            "floating point; use a larger temperature, a smaller lr or weight_decay, or dtype=torch.float64"
        )
