"""``run_batch``: the seed's experiment for many independent bandits, and its result.

Arguments are checked before any work; bandits are simulated in chunks whose results are
identical to one big batch, because every random number is a function of (seed, bandit, step).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch

from . import engines
from .problem import SEED_ARMS, best_arm, win_probability
from .rng import MAX_SEED
from .state import Batch
from .stats import wilson_interval


@dataclass(frozen=True)
class RunResult:
    """What ``run_batch`` returns. Tensors are on the CPU, batch first."""

    success: torch.Tensor  # (B,) bool: argmax of the last episode's sums == best arm
    episode_rewards: torch.Tensor  # (B, E, K) int32 per-arm sums; E = 1 (the last) if not recorded
    episode_p_best: torch.Tensor  # (B, n_episodes) float32: P(best arm) at each episode's end
    final_probs: torch.Tensor  # (B, K) softmax(weights / T) after the last step
    weights: torch.Tensor  # (B, K) final weights
    arms: torch.Tensor  # (B, K) float64 arm values
    temperature: torch.Tensor  # (B,) float64
    lr: torch.Tensor  # (B,) float64
    n_episodes: int
    steps_per_episode: int
    seed: int
    device: str  # e.g. "cpu", "cuda:0 (NVIDIA H100 80GB HBM3)"
    backend: str
    dtype: str
    wall_time_s: float  # simulation and result assembly (not an engine's one-off build at first use)
    bandit_steps_per_s: float

    @property
    def n_bandits(self) -> int:
        return self.success.shape[0]

    @property
    def n_successes(self) -> int:
        return int(self.success.sum())

    @property
    def success_rate(self) -> float:
        return self.n_successes / self.n_bandits

    @property
    def success_ci(self) -> tuple[float, float]:
        """95% Wilson interval of the success rate."""
        return wilson_interval(self.n_successes, self.n_bandits)

    def scalars(self) -> dict:
        """The configuration and the headline numbers, JSON-ready."""
        low, high = self.success_ci
        return {
            "n_bandits": self.n_bandits,
            "n_arms": self.arms.shape[1],
            "arms": _describe(self.arms, per_row=True),
            "temperature": _describe(self.temperature),
            "lr": _describe(self.lr),
            "n_episodes": self.n_episodes,
            "steps_per_episode": self.steps_per_episode,
            "seed": self.seed,
            "device": self.device,
            "backend": self.backend,
            "dtype": self.dtype,
            "successes": self.n_successes,
            "success_rate": self.success_rate,
            "success_ci_low": low,
            "success_ci_high": high,
            "mean_final_p_best": float(self.episode_p_best[:, -1].mean()),
            "wall_time_s": self.wall_time_s,
            "bandit_steps_per_s": self.bandit_steps_per_s,
        }

    def summary(self) -> str:
        """A short report; for a single bandit, also the seed's own printout."""
        s = self.scalars()
        lines = []
        if self.n_bandits == 1 and self.episode_rewards.shape[1] == self.n_episodes:
            for episode, totals in enumerate(self.episode_rewards[0].tolist()):
                lines.append(f"Episode {episode + 1}: Total reward = {[float(x) for x in totals]}")
        if self.n_bandits == 1:
            choice = int(torch.argmax(self.episode_rewards[0, -1])) + 1
            verdict = "right" if bool(self.success[0]) else "wrong"
            lines.append(f"The agent thinks action {choice} is the most promising...")
            lines.append(f"...and it was {verdict}!")
        lines += [
            f"batched_bandit: {s['n_bandits']:,} bandits x {s['n_episodes']} episodes x "
            f"{s['steps_per_episode']} steps, arms {s['arms']}",
            f"  temperature {s['temperature']}, lr {s['lr']}, seed {s['seed']}",
            f"  success rate {s['success_rate']:.4f}  (95% CI {s['success_ci_low']:.4f} .. "
            f"{s['success_ci_high']:.4f}; {s['successes']:,} of {s['n_bandits']:,})",
            f"  mean P(best arm) at the end {s['mean_final_p_best']:.4f}",
            f"  {s['wall_time_s']:.3f} s on {s['device']} ({s['backend']} backend, {s['dtype']}), "
            f"{s['bandit_steps_per_s']:.3g} bandit-steps/s",
        ]
        return "\n".join(lines)


def run_batch(
    n_bandits: int,
    *,
    arms: Sequence[float] | torch.Tensor = SEED_ARMS,
    temperature: float | torch.Tensor = 10.0,
    lr: float | torch.Tensor = 0.01,
    n_episodes: int = 50,
    steps_per_episode: int = 1000,
    seed: int = 0,
    device: str | torch.device = "auto",
    backend: str = "auto",
    dtype: torch.dtype = torch.float32,
    record_episodes: bool = True,
    chunk_size: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> RunResult:
    """Train ``n_bandits`` independent bandits as the seed does and return the verdicts.

    arms: (K,) shared by all bandits, or (n_bandits, K); K >= 2. temperature, lr: a number or a
    (n_bandits,) tensor. Bandit ``g`` uses the random stream (seed, g, t) whatever the chunking.
    ``progress(done, total)`` is called with bandit-steps as the run advances.
    """
    check_count("n_bandits", n_bandits)
    arm_values = check_arms(arms, n_bandits)
    temperatures = check_positive("temperature", temperature, n_bandits)
    lrs = check_positive("lr", lr, n_bandits)
    check_count("n_episodes", n_episodes)
    check_count("steps_per_episode", steps_per_episode)
    check_seed(seed)
    torch_device = resolve_device(device)
    backend_name = engines.resolve_backend(backend, torch_device, dtype, arm_values.shape[1])
    check_step_range(temperatures, lrs, dtype)
    if chunk_size is not None:
        check_count("chunk_size", chunk_size)
    if not isinstance(record_episodes, bool):
        raise ValueError(f"record_episodes must be True or False, got {record_episodes!r}")

    start = time.perf_counter()  # after the checks and an engine's one-off build at first use
    batch = make_batch(arm_values, temperatures, lrs, torch.arange(n_bandits), dtype)
    out = simulate_chunks(
        batch,
        backend=backend_name,
        device=torch_device,
        seed=seed,
        n_episodes=n_episodes,
        steps_per_episode=steps_per_episode,
        record_episodes=record_episodes,
        chunk_size=chunk_size,
        progress=progress,
    )
    last_sums = out.episode_rewards[:, -1]
    success = torch.argmax(last_sums, dim=1) == batch.best_arm
    wall = time.perf_counter() - start
    return RunResult(
        success=success,
        episode_rewards=out.episode_rewards,
        episode_p_best=out.episode_p_best,
        final_probs=torch.softmax(out.weights.double() / temperatures[:, None], dim=1).to(dtype),
        weights=out.weights,
        arms=arm_values,
        temperature=temperatures,
        lr=lrs,
        n_episodes=n_episodes,
        steps_per_episode=steps_per_episode,
        seed=seed,
        device=describe_device(torch_device),
        backend=backend_name,
        dtype=str(dtype).removeprefix("torch."),
        wall_time_s=wall,
        bandit_steps_per_s=n_bandits * n_episodes * steps_per_episode / wall,
    )


def make_batch(arms, temperature, lr, bandit_ids, dtype) -> Batch:
    """A CPU ``Batch`` from checked float64 arms (B, K), temperature (B,), lr (B,)."""
    return Batch(
        win_prob=win_probability(arms).to(dtype),
        best_arm=best_arm(arms),
        inv_temperature=(1.0 / temperature).to(dtype),
        lr=lr.to(dtype),
        bandit_ids=bandit_ids,
    )


def simulate_chunks(
    batch: Batch,
    *,
    backend: str,
    device: torch.device,
    seed: int,
    n_episodes: int,
    steps_per_episode: int,
    record_episodes: bool,
    chunk_size: int | None = None,
    progress: Callable[[int, int], None] | None = None,
):
    """Run ``batch`` chunk by chunk on ``device``; returns one CPU ``Outcome`` for all of it."""
    simulate = engines.get(backend)
    n_bandits = batch.bandit_ids.shape[0]
    chunk_size = chunk_size or engines.default_chunk_size(backend, device)
    total = n_bandits * n_episodes * steps_per_episode
    done = 0

    def on_steps(n_steps: int, chunk_bandits: int) -> None:
        nonlocal done
        done += n_steps * chunk_bandits
        progress(done, total)

    parts = []
    for lo in range(0, n_bandits, chunk_size):
        chunk = batch[lo : lo + chunk_size].to(device)
        size = chunk.bandit_ids.shape[0]
        out = simulate(
            chunk,
            seed=seed,
            n_episodes=n_episodes,
            steps_per_episode=steps_per_episode,
            record_episodes=record_episodes,
            on_steps=None if progress is None else (lambda n, size=size: on_steps(n, size)),
        )
        parts.append([t.cpu() for t in (out.weights, out.episode_rewards, out.episode_p_best)])
    weights, episode_rewards, episode_p_best = (torch.cat(p) for p in zip(*parts))
    return type(out)(weights, episode_rewards, episode_p_best)


# --- checks: each raises ValueError naming the argument and the allowed range -------------------


def check_count(name: str, value) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be an integer >= 1, got {value!r}")


def check_seed(seed) -> None:
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or not 0 <= seed <= MAX_SEED:
        raise ValueError(f"seed must be an integer in [0, 2**64 - 1], got {seed!r}")


def check_positive(name: str, value, n_bandits: int, item: str = "bandit") -> torch.Tensor:
    """A finite, > 0 number or (n_bandits,) tensor -> (n_bandits,) float64 tensor; an error names
    the first bad entry as ``(item i)``."""
    if isinstance(value, bool):
        raise ValueError(f"{name} must be a finite number > 0, got {value!r}")
    if isinstance(value, (int, float, np.integer, np.floating)):
        values = torch.full((n_bandits,), float(value), dtype=torch.float64)
    else:
        values = torch.as_tensor(value).detach().to("cpu", torch.float64)
        if values.ndim == 0:
            values = values.expand(n_bandits)
        elif values.shape != (n_bandits,):
            raise ValueError(
                f"{name} must be a number or a tensor of shape (n_bandits,) = ({n_bandits},), "
                f"got shape {tuple(values.shape)}"
            )
    bad = ~(torch.isfinite(values) & (values > 0))
    if bad.any():
        first = int(bad.nonzero()[0])
        raise ValueError(f"{name} must be finite and > 0, got {values[first].item()!r} ({item} {first})")
    return values.contiguous()


def check_step_range(temperature: torch.Tensor, lr: torch.Tensor, dtype: torch.dtype) -> None:
    """1 / T and the step scale lr / T must be finite in ``dtype`` (T < 3e-39 is not, in float32)."""
    inv_temperature = (1.0 / temperature).to(dtype)
    for name, values in (("temperature", inv_temperature), ("lr", lr.to(dtype) * inv_temperature)):
        if not torch.isfinite(values).all():
            raise ValueError(
                f"{name} out of range for {str(dtype).removeprefix('torch.')}: 1 / temperature and "
                f"lr / temperature must be finite ({torch.finfo(dtype).max:.3g} at most)"
            )


def check_arms(arms, n_bandits: int) -> torch.Tensor:
    """(K,) or (n_bandits, K) finite arm values, K >= 2 -> (n_bandits, K) float64."""
    try:
        if isinstance(arms, torch.Tensor):
            values = arms.detach().to("cpu", torch.float64)
        else:
            values = torch.from_numpy(np.asarray(arms, dtype=np.float64))
    except (TypeError, ValueError, RuntimeError) as err:
        raise ValueError(f"arms must be a sequence of numbers or a tensor, got {arms!r}") from err
    if values.ndim == 1:
        values = values.expand(n_bandits, -1)
    elif values.ndim != 2 or values.shape[0] != n_bandits:
        raise ValueError(
            f"arms must have shape (K,) or (n_bandits, K) = ({n_bandits}, K), got shape {tuple(values.shape)}"
        )
    if values.shape[1] < 2:
        raise ValueError(f"arms must have at least 2 arms, got {values.shape[1]}")
    if not torch.isfinite(values).all():
        raise ValueError("arms must be finite numbers (no nan or inf)")
    return values.contiguous()


def resolve_device(device) -> torch.device:
    """ "auto" (CUDA when present, else CPU), "cpu", "cuda" or "cuda:N" -> torch.device."""
    if isinstance(device, str) and device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        resolved = torch.device(device)
    except (RuntimeError, TypeError) as err:
        raise ValueError(f'device must be "auto", "cpu", "cuda" or "cuda:N", got {device!r}') from err
    if resolved.type == "cpu":
        return resolved
    if resolved.type != "cuda":
        raise ValueError(f'device must be "auto", "cpu", "cuda" or "cuda:N", got {device!r}')
    if not torch.cuda.is_available():
        raise ValueError(f"device {device!r} asked for, but CUDA is not available on this machine")
    if resolved.index is not None and resolved.index >= torch.cuda.device_count():
        raise ValueError(f"device {device!r}: CUDA devices are 0..{torch.cuda.device_count() - 1}")
    return resolved


def describe_device(device: torch.device) -> str:
    if device.type == "cuda":
        index = device.index if device.index is not None else torch.cuda.current_device()
        return f"cuda:{index} ({torch.cuda.get_device_name(index)})"
    return "cpu"


def _describe(values: torch.Tensor, per_row: bool = False) -> str | float | list:
    """A tensor of per-bandit values as a scalar/list when all rows agree, else as a range."""
    if per_row:
        if (values == values[0]).all():
            return [float(x) for x in values[0]]
        return f"per-bandit ({values.shape[0]} rows)"
    if (values == values[0]).all():
        return float(values[0])
    return f"per-bandit ({float(values.min()):.4g} .. {float(values.max()):.4g})"
