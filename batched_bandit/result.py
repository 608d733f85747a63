"""What ``run_batch`` returns, and how its numbers are shown: ``RunResult``, ``scalars()``, ``summary()``."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import torch

from . import checks
from .metrics import METRICS, metric
from .provenance import versions
from .schema import OPTIONS, why_not
from .stats import mean_interval, wilson_interval

MAX_SHOWN_ARMS = 8  # longer arm lists are abbreviated in summaries
SHOWN_APART = ("temperature", "lr")  # RunResult's own fields


@dataclass(frozen=True)
class RunResult:
    """What ``run_batch`` returns. Tensors are on the CPU, batch first.

    Every metric (metrics.py) is a (B,) value per bandit — ``success``, ``p_best``, ``regret``,
    ``reward``, ``optimal_action``, or ``metric(name)`` — and a curve per episode; with
    ``record_every=N`` also a trace every N steps (``trace``).
    """

    success: torch.Tensor  # (B,) bool: argmax of the last episode's sums (first on ties) == best arm
    episode_rewards: (
        torch.Tensor
    )  # (B, E, K) per-arm reward sums; int32 for whole-number rewards; E = 1 if not recorded
    episode_p_best: torch.Tensor  # (B, n_episodes) float32: P(best arm) at each episode's end
    episode_regret: torch.Tensor  # (B, n_episodes) float64: cumulative pseudo-regret at each episode's end
    episode_reward: torch.Tensor  # (B, n_episodes) float64: reward received within each episode
    episode_optimal: torch.Tensor  # (B, n_episodes) int64: pulls of a best arm within each episode
    final_probs: torch.Tensor  # (B, K) softmax(weights / T) after the last step
    weights: torch.Tensor  # (B, K) final weights
    reward_model: str  # "threshold", "bernoulli" or "gaussian"
    arms: torch.Tensor  # (B, K) float64: the arms' parameters (threshold values, P(win) or means)
    temperature: torch.Tensor  # (B,) float64
    lr: torch.Tensor  # (B,) float64
    options: dict  # the rest of the rule and the problem, JSON-ready (see describe_options)
    n_episodes: int
    steps_per_episode: int
    seed: int
    device: str  # e.g. "cpu", "cuda:0 (NVIDIA H100 80GB HBM3)"
    backend: str
    dtype: str
    wall_time_s: float  # simulation and result assembly (not an engine's one-off build at first use)
    bandit_steps_per_s: float
    trace: Trace | None = None  # every record_every steps, if asked
    drawn_from: str | None = None  # the distribution the arms were drawn from (random problems), e.g. normal:10:0:1

    @property
    def n_bandits(self) -> int:
        return self.success.shape[0]

    @property
    def n_steps(self) -> int:
        return self.n_episodes * self.steps_per_episode

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

    @property
    def p_best(self) -> torch.Tensor:
        """(B,) float64: P(best arm) of the final policy."""
        return self.episode_p_best[:, -1].double()

    @property
    def regret(self) -> torch.Tensor:
        """(B,) float64: each bandit's pseudo-regret over the whole run."""
        return self.episode_regret[:, -1]

    final_regret = regret  # the name of 0.2

    @property
    def reward(self) -> torch.Tensor:
        """(B,) float64: each bandit's mean reward per step over the run."""
        return self.episode_reward.sum(dim=1) / self.n_steps

    @property
    def optimal_action(self) -> torch.Tensor:
        """(B,) float64: the fraction of each bandit's pulls on a best arm."""
        return self.episode_optimal.sum(dim=1).double() / self.n_steps

    def metric(self, name: str) -> torch.Tensor:
        """(B,) float64: metric ``name``'s value per bandit (metrics.py)."""
        return getattr(self, metric(name).name).double()

    def estimates(self) -> dict[str, tuple[float, float, float]]:
        """metric -> (mean over bandits, 95% interval low, high): Wilson for success, normal for the
        means (undefined, NaN, for one bandit)."""
        out = {}
        for m in METRICS.values():
            values = self.metric(m.name)
            if m.kind == "proportion":
                successes = int(values.sum())
                out[m.name] = (successes / self.n_bandits, *wilson_interval(successes, self.n_bandits))
            else:
                total, squares = float(values.sum()), float((values * values).sum())
                out[m.name] = (total / self.n_bandits, *mean_interval(total, squares, self.n_bandits))
        return out

    def gradient_options(self) -> dict:
        """The temperature and lr, described (a number, or a per-bandit range): the gradient policy's
        (none for another policy, which has neither)."""
        if self.options.get("policy", "gradient") != "gradient":
            return {}
        return {"temperature": describe(self.temperature), "lr": describe(self.lr)}

    def scalars(self) -> dict:
        """The configuration and the headline numbers, JSON-ready."""
        estimates = self.estimates()
        numbers = {}
        for m in METRICS.values():
            mean, low, high = estimates[m.name]
            low_name, high_name = ("success_ci_low", "success_ci_high") if m.name == "success" else m.ci
            numbers.update({m.column: mean, low_name: defined(low), high_name: defined(high)})
        return {
            "n_bandits": self.n_bandits,
            "n_arms": self.arms.shape[1],
            "reward_model": self.reward_model,
            "arms": self.drawn_from or describe(self.arms, per_row=True),
            **self.gradient_options(),
            **self.options,
            "n_episodes": self.n_episodes,
            "steps_per_episode": self.steps_per_episode,
            "episodes_recorded": self.episode_rewards.shape[1],
            "record_every": None if self.trace is None else self.trace.every,
            "seed": self.seed,
            "successes": self.n_successes,
            **numbers,
            "device": self.device,
            "backend": self.backend,
            "dtype": self.dtype,
            "wall_time_s": self.wall_time_s,
            "bandit_steps_per_s": self.bandit_steps_per_s,
            "versions": versions(),
        }

    def to_pandas(self):
        """A pandas DataFrame, one row per bandit: its id, every metric, its temperature and lr, the
        rule's other options and its problem as arm_0 .. arm_{K-1} (frames.run_frame). Needs pandas:
        ``pip install 'batched_bandit[pandas]'``."""
        from .frames import run_frame

        return run_frame(self)

    def __repr__(self) -> str:
        """Two lines: the run and its headline numbers (never whole tensors; display.run_repr)."""
        from .display import run_repr

        return run_repr(self)

    def _repr_html_(self) -> str:
        """The summary as an HTML table, for notebooks (display.run_html)."""
        from .display import run_html

        return run_html(self)

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
        rate, low, high = format_proportions(s["success_rate"], s["success_ci_low"], s["success_ci_high"])
        lines += [
            f"batched_bandit: {s['n_bandits']:,} bandits x {s['n_episodes']} episodes x "
            f"{s['steps_per_episode']} steps, {self.reward_model} arms {abbreviate(s['arms'])}",
            f"  {describe_rule(s)}, seed {s['seed']}",
            f"  success rate {rate}  (95% CI {low} .. {high}; {s['successes']:,} of {s['n_bandits']:,})",
        ]
        for m in METRICS.values():
            if m.name != "success":
                low, high = (s[c] for c in m.ci)
                per_step = f", {s[m.column] / self.n_steps:.4g} per step" if m.name == "regret" else ""
                lines.append(f"  {m.label} {s[m.column]:.5g} (95% CI {interval(low, high)}){per_step}")
        lines.append(
            f"  {s['wall_time_s']:.3f} s on {s['device']} ({s['backend']} backend, {s['dtype']}), "
            f"{s['bandit_steps_per_s']:.3g} bandit-steps/s"
        )
        return "\n".join(lines)


@dataclass(frozen=True)
class Trace:
    """Every metric every ``every`` steps: point r after step (r + 1) every of the run."""

    every: int
    steps: torch.Tensor  # (R,) int64: the step after which each point is taken
    p_best: torch.Tensor  # (B, R) float32: P(best arm) of the policy at the point
    regret: torch.Tensor  # (B, R) float64: cumulative pseudo-regret at the point
    reward: torch.Tensor  # (B, R) float64: mean reward per step within the interval ending at the point
    optimal_action: torch.Tensor  # (B, R) float64: fraction of the interval's pulls on a best arm
    success: torch.Tensor  # (B, R) bool: the seed's verdict on the current episode's sums so far


def defined(value: float) -> float | None:
    """A number, or None where it is undefined (NaN: an interval of one value)."""
    return None if math.isnan(value) else value


def interval(low: float | None, high: float | None) -> str:
    """An interval as text, or why there is none."""
    return "undefined for one bandit" if low is None or high is None else f"{low:.5g} .. {high:.5g}"


def describe(values: torch.Tensor, per_row: bool = False) -> float | list | str:
    """Per-bandit values as a number (or list, per_row) when all bandits agree, else as a range."""
    same = values.stride(0) == 0 or bool((values == values[0]).all())  # stride 0: one row for all
    if per_row:
        if same:
            return [float(x) for x in values[0]]
        return f"per-bandit ({values.shape[0]} rows)"
    if same:
        return float(values[0])
    return f"per-bandit ({float(values.min()):.4g} .. {float(values.max()):.4g})"


def describe_options(setup) -> dict:
    """The options of the rule and the problem that apply to this run (schema.py), JSON-ready:
    per-bandit numbers as one number or a range; the arms, temperature and lr are given apart."""
    chosen = {k: v for k, v in setup.values.items() if OPTIONS[k].kind in ("choice", "bool")}
    out: dict[str, Any] = {}
    for name, value in setup.values.items():
        if name in SHOWN_APART or why_not(name, chosen, setup.model) is not None:
            continue
        if OPTIONS[name].kind == "pair":
            out[name] = [describe(v) for v in value]
        elif OPTIONS[name].kind == "weights":
            out[name] = describe(value, per_row=True) if bool((checks.compact(value) != 0).any()) else 0.0
        else:
            out[name] = describe(value) if isinstance(value, torch.Tensor) else value
    return out


def describe_rule(s: dict) -> str:
    """One line: for the gradient policy the optimizer and lr, the temperature, every option that
    differs from its default, the baseline; for another policy its name and parameters; the rewards."""
    policy = s.get("policy", "gradient")
    if policy != "gradient":  # its parameters are the options that apply to it (scalars() has no others)
        own = [f"{n} {s[n]}" for n, o in OPTIONS.items() if "policy" in o.applies and n in s and n not in SHOWN_APART]
        return ", ".join([f"{policy} policy", *own, _describe_rewards(s)])
    parts = [f"{s['optimizer']} lr {s['lr']}", f"temperature {s['temperature']}"]
    for name, value in s.items():
        option = OPTIONS.get(name)
        if option is None or option.kind in ("arms", "count") or name in SHOWN_APART or name == "policy":
            continue
        if name in ("optimizer", "baseline", "baseline_decay", "reward_values", "reward_sd"):
            continue
        if name == "init_weights":
            if value != 0.0:
                parts.append(f"init_weights {abbreviate(value)}")
        elif option.kind == "bool":
            parts += [name] if value else []
        elif value != option.default:
            parts.append(f"{name} {value}")
    parts.append("no baseline" if s["baseline"] == "none" else f"{s['baseline']} baseline")
    if "baseline_decay" in s:
        parts[-1] += f" (decay {s['baseline_decay']})"
    return ", ".join([*parts, _describe_rewards(s)])


def _describe_rewards(s: dict) -> str:
    if "reward_values" in s:
        return f"rewards (win {s['reward_values'][0]}, loss {s['reward_values'][1]})"
    return f"reward sd {s['reward_sd']}"


def abbreviate(values) -> str:
    """A list of numbers as text, abbreviated past MAX_SHOWN_ARMS entries."""
    if not isinstance(values, list):
        return str(values)
    shown = [f"{v:g}" for v in values]
    if len(shown) > MAX_SHOWN_ARMS:
        shown = [*shown[:3], "...", *shown[-2:]]
        return f"({', '.join(shown)}; K = {len(values):,})"
    return f"({', '.join(shown)})"


def format_proportions(*values: float) -> list[str]:
    """Proportions with enough decimals (4 to 8) that distinct values look distinct and nothing
    inexact looks like an exact 0 or 1; exact 0 and 1 are written "0" and "1"."""
    for digits in range(4, 9):
        text = ["0" if v == 0 else "1" if v == 1 else f"{v:.{digits}f}" for v in values]
        looks_exact = any(t in (f"{0:.{digits}f}", f"{1:.{digits}f}") for t in text)
        distinct = all(t1 != t2 for (v1, t1) in zip(values, text) for (v2, t2) in zip(values, text) if v1 != v2)
        if distinct and not looks_exact:
            return text
    return text
