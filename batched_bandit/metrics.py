"""Every metric of a run, declared once: the seed's verdict and the field's measures of a policy.

One vocabulary everywhere — ``RunResult`` (a (B,) value per bandit), ``summary()`` and
``scalars()``, the study's ``results.csv`` (the mean over bandits and its 95% interval) and
``curves.csv`` (per episode, or every ``record_every`` steps), ``plot --y``, ``compare --metric``,
``threshold --metric`` and ``optimum``:

- ``success``: the seed's verdict, the last episode's top arm (first on ties) is the best arm;
- ``p_best``: P(best arm) under the final policy;
- ``regret``: cumulative pseudo-regret, sum over steps of mu* - mu[arm];
- ``reward``: mean reward per step over the run;
- ``optimal_action``: the fraction of pulls on a best arm (any arm with the top expected reward).

A proportion (success) gets Wilson intervals and McNemar's paired test; a mean gets normal
intervals and paired t / Wilcoxon tests (stats.py).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from types import MappingProxyType


@dataclass(frozen=True)
class Metric:
    """A metric: its name, columns, kind, direction and words."""

    name: str
    column: str  # results.csv's column of the mean over bandits
    ci: tuple[str, str]  # its 95% interval's columns
    kind: str  # "proportion" (0/1 per bandit) or "mean"
    better: str  # "higher" or "lower"
    short: str  # legends, titles
    label: str  # an axis label: what the number is
    help: str  # one line: how it is computed
    span: tuple[float, float] = (0.0, 1.0)  # the values a bandit's metric can take

    @property
    def curve(self) -> str:
        """curves.csv's column of the mean over bandits at each point."""
        return CURVE_COLUMNS[self.name]

    @property
    def what(self) -> str:
        """The mean over bandits in words: "success rate", "mean regret"."""
        return "success rate" if self.kind == "proportion" else f"mean {self.short}"


METRICS_LIST = (
    Metric("success", "success_rate", ("ci_low", "ci_high"), "proportion", "higher", "success",
           "success rate (last episode's top arm is the best)",
           "the seed's verdict: argmax of the last episode's per-arm reward sums (first on ties) is the best arm"),
    Metric("p_best", "mean_final_p_best", ("p_best_ci_low", "p_best_ci_high"), "mean", "higher", "P(best)",
           "P(best arm) of the final policy", "the probability the final policy gives the best arm"),
    Metric("regret", "mean_regret", ("regret_ci_low", "regret_ci_high"), "mean", "lower", "regret",
           "cumulative pseudo-regret", "sum over steps of mu* - mu[arm pulled]: expected reward lost to exploration",
           (0.0, math.inf)),
    Metric("reward", "mean_reward", ("reward_ci_low", "reward_ci_high"), "mean", "higher", "reward",
           "average reward per step", "the rewards received over the run, divided by the number of steps",
           (-math.inf, math.inf)),
    Metric("optimal_action", "optimal_action_rate", ("optimal_action_ci_low", "optimal_action_ci_high"), "mean",
           "higher", "optimal action", "fraction of pulls on a best arm",
           "the pulls of an arm with the top expected reward, divided by the number of steps"),
)  # fmt: skip
METRICS = MappingProxyType({m.name: m for m in METRICS_LIST})
# curves.csv: the mean of each metric at a point (an episode's end, or a trace point)
CURVE_COLUMNS = MappingProxyType({
    "success": "success_rate", "p_best": "mean_p_best", "regret": "mean_regret", "reward": "mean_reward",
    "optimal_action": "optimal_action_rate",
})  # fmt: skip


def metric(name: str) -> Metric:
    """The metric called ``name``; ValueError naming the metrics otherwise."""
    if not isinstance(name, str) or name not in METRICS:
        raise ValueError(f"metric must be one of {', '.join(METRICS)}, got {name!r}")
    return METRICS[name]
