"""What the figures' columns mean and how their values read: axis labels with meanings, short
names for legends and titles, value text, and whether a set of numbers wants a log axis.

A label says what the number is, not what the code calls it (the reader first: a figure must read
without the code): ``lr_over_T2`` reads "lr / T² (SGD's effective step)".
"""

from __future__ import annotations

import math
import numbers

import numpy as np

from ..schema import MODEL_OF as MODELS
from ..schema import OPTIONS, POLICY_PARAMETER

# column -> (short name for legends and titles, axis label saying what it is): every option's own
# words (schema.py), and the derived columns'
COLUMNS = {
    **{name: (option.short, option.label) for name, option in OPTIONS.items()},
    "total_steps": ("steps in all", "horizon: total steps (episodes × steps per episode)"),
    "gap": ("gap", "gap: best arm's expected reward − second best's"),
    "eta": ("η", "effective step η (lr/T² for SGD, lr/T for Adam, RMSprop)"),
    "eta_over_gap2": ("η/gap²", "η / gap² (effective step over squared reward gap)"),
    "lr_over_T2": ("lr/T²", "lr / T² (SGD's effective step)"),
    "param": ("parameter", "each policy's parameter: ε (ε-greedy), Q₀ (greedy), c (UCB), lr (gradient)"),
    "n_arms": ("K", "number of arms K"),
    "episode": ("episode", "episode"),
}
# derived columns the figures may put on x: column -> the setting axes it is computed from
DERIVED_FROM = {
    "gap": (*MODELS, "reward_values", "reward_sd"),
    "n_arms": tuple(MODELS),
    "eta": ("temperature", "lr", "optimizer"),
    "lr_over_T2": ("temperature", "lr"),
    "eta_over_gap2": ("temperature", "lr", "optimizer", *MODELS, "reward_values", "reward_sd"),
    "total_steps": ("n_episodes", "steps_per_episode"),
    "param": ("policy", *POLICY_PARAMETER.values()),
}
# of those, the axes a line moves along (the rest stay lines: eta_over_gap2 draws a line per gap)
MOVES_ALONG = {
    "gap": (*MODELS, "reward_values", "reward_sd"),
    "n_arms": tuple(MODELS),
    "eta": ("temperature", "lr"),
    "lr_over_T2": ("temperature", "lr"),
    "eta_over_gap2": ("temperature", "lr"),
    "total_steps": ("n_episodes", "steps_per_episode"),
    "param": tuple(POLICY_PARAMETER.values()),
}
# derived columns whose axes each apply to settings of their own (a policy's parameter): every one of
# them that is swept moves along the lines, the others the column is computed from make the lines
ALL_MOVE_ALONG = ("param",)
LOG_SPREAD = 100.0  # values spanning this ratio or more read on a log axis whatever their spacing


def short(name: str) -> str:
    """The column's short name: ``T``, ``lr``, ``gap``."""
    return COLUMNS.get(name, (name.replace("_", " "), ""))[0]


def label(name: str, log: bool = False) -> str:
    """The axis label: what the column is, and "(log scale)" on a log axis."""
    text = COLUMNS.get(name, ("", name.replace("_", " ")))[1]
    return f"{text} (log scale)" if log else text


def text(value) -> str:
    """A value as the reader sees it: 0.01, (0.2, 0, -0.2, -1), sgd, n/a (an axis that does not apply)."""
    if value is None:
        return "n/a"
    if isinstance(value, tuple):
        return f"({', '.join(text(v) for v in value)})"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, numbers.Integral):
        return f"{int(value):,}"
    if isinstance(value, numbers.Real):
        return f"{float(value):.4g}"
    return str(value)


def setting_text(name: str, value) -> str:
    """``T 0.01``, ``50 episodes``, ``optimizer adam``: one axis at one value, for titles and legends."""
    if name == "n_episodes":
        return f"{text(value)} episode{'s' if value != 1 else ''}"
    if name == "steps_per_episode":
        return f"{text(value)} step{'s' if value != 1 else ''} per episode"
    return f"{short(name)} {text(value)}"


def is_number(value) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def log_spaced(values) -> bool:
    """True for positive values better read on a log axis: spanning LOG_SPREAD or more, or spread
    more evenly in log than in linear steps (0.01, 0.03, 0.1, ...); two values when 10× apart."""
    v = np.unique(np.asarray([x for x in values if is_number(x) and math.isfinite(x)], dtype=float))
    if len(v) < 2 or v[0] <= 0:
        return False
    spread = v[-1] / v[0]
    if spread >= LOG_SPREAD:
        return True
    if len(v) == 2:
        return spread >= 10
    return spread >= 3 and _unevenness(np.log(v)) < _unevenness(v)


def _unevenness(v: np.ndarray) -> float:
    """Coefficient of variation of the steps between sorted values (0 for an even grid)."""
    steps = np.diff(v)
    return float(steps.std() / steps.mean())
