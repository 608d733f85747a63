"""Columns derived from a setting: the reward gap, the rule's effective step, the arms one by one,
and the mean-field trajectory of P(best) (meanfield.py) for the learning curves.

The effective step ``eta`` is what the temperature trades against (docs/findings/invariances.md,
"the temperature is never a knob of its own"): from zero weights, SGD (with or without momentum
and a baseline) acts through lr / T², Adam and RMSprop through lr / T. ``gap`` is the expected-reward gap between the
best and the second-best arm; ``eta_over_gap2`` puts settings with different gaps on one axis.
For random problems per bandit (a distribution on the arms axis) these are per-bandit
quantities: the columns are left empty. ``param`` is each policy's own parameter
(schema.POLICY_PARAMETER: the gradient bandit's lr, ε, Q₀, UCB's c; none for Thompson sampling), the
x of Sutton & Barto's parameter study (Figure 2.6), where each policy's line moves along its own.
"""

from __future__ import annotations

import math
from typing import cast

import numpy as np
import torch

from ..engines.cpu_engine import mean_field_loop
from ..meanfield import mean_field_p_best
from ..problem import best_arm, expected_reward
from ..random_arms import RandomArms
from ..schema import DEFAULTS, POLICY_PARAMETER
from ..schema import MODEL_OF as MODELS
from .setting import Setting

MAX_ARM_COLUMNS = 16  # arm_0 .. arm_15: wider problems keep only the arms string
DERIVED = {
    "gap": "expected reward of the best arm minus the second best (empty for random problems)",
    "eta": "the gradient rule's effective step from zero weights: lr / T² (SGD), lr / T (Adam, RMSprop)",
    "eta_over_gap2": "eta / gap²",
    "param": "the policy's own parameter: lr (gradient), epsilon, initial_value (greedy), ucb_c; empty for thompson",
}


def expected_rewards(setting: Setting) -> np.ndarray | None:
    """mu per arm (K,) float64, or None for a random problem."""
    params = setting[setting.model_keyword]
    if isinstance(params, RandomArms):
        return None
    win, loss = setting.get("reward_values", (1.0, -1.0))
    model = MODELS[setting.model_keyword]
    mu = expected_reward(model, torch.tensor([params], dtype=torch.float64), torch.tensor([win]), torch.tensor([loss]))
    return mu[0].numpy()


def derived_columns(setting: Setting) -> dict:
    """gap, eta, eta_over_gap2, param, and arm_0 .. arm_{K-1} (K <= MAX_ARM_COLUMNS, fixed problems)."""
    optimizer = setting.get("optimizer", DEFAULTS["optimizer"])
    gradient = "lr" in setting  # the gradient policy's settings (the others have no lr, no temperature)
    eta = setting.lr / setting.temperature ** (2 if optimizer == "sgd" else 1) if gradient else None
    parameter = POLICY_PARAMETER.get(setting.get("policy", DEFAULTS["policy"]))
    param = None if parameter is None else setting.get(parameter, DEFAULTS[parameter])
    mu = expected_rewards(setting)
    if mu is None:
        return {"gap": None, "eta": eta, "eta_over_gap2": None, "param": param}
    top = np.sort(mu)[::-1]
    gap = float(top[0] - top[1])
    eta_over_gap2 = None if eta is None else eta / gap**2 if gap > 0 else math.inf
    out = {"gap": gap, "eta": eta, "eta_over_gap2": eta_over_gap2, "param": param}
    params = setting[setting.model_keyword]
    if len(params) <= MAX_ARM_COLUMNS:
        out.update({f"arm_{i}": float(v) for i, v in enumerate(params)})
    return out


def arm_columns(settings: list[Setting]) -> list[str]:
    """arm_0 .. arm_{K-1} for the largest fixed K of the study (at most MAX_ARM_COLUMNS)."""
    ks = [len(s[s.model_keyword]) for s in settings if not isinstance(s[s.model_keyword], RandomArms)]
    k = max(ks, default=0)
    return [f"arm_{i}" for i in range(k)] if k <= MAX_ARM_COLUMNS else []


def has_mean_field(setting: Setting) -> bool:
    """Whether the mean field applies: SGD (any momentum, baseline) on a fixed problem."""
    return setting.get("optimizer", DEFAULTS["optimizer"]) == "sgd" and expected_rewards(setting) is not None


def mean_field(settings: list[Setting], only=None, record_every: int | None = None) -> dict[int, np.ndarray]:
    """setting index -> the mean-field P(best) at each point of its curves (each episode's end, or
    every ``record_every`` steps), for the settings (of ``only``, default all) where it applies;
    settings of one shape are iterated together."""
    groups: dict[tuple, list[int]] = {}
    for i, s in enumerate(settings):
        if (only is None or i in only) and has_mean_field(s):
            groups.setdefault((s.n_arms, s.curve_points(record_every), s.point_every(record_every)), []).append(i)
    out = {}
    for (_, n_points, steps), members in groups.items():
        mine = [settings[i] for i in members]
        mu = np.stack([cast(np.ndarray, expected_rewards(s)) for s in mine])  # fixed problems (has_mean_field)
        best = np.array([int(best_arm(MODELS[s.model_keyword], torch.tensor([s[s.model_keyword]]))[0]) for s in mine])
        init = np.stack([np.broadcast_to(np.asarray(s.get("init_weights", 0.0), dtype=np.float64), mu.shape[1:])
                         for s in mine])  # fmt: skip

        def column(name, mine=mine):
            return np.array([float(s.get(name, DEFAULTS[name])) for s in mine])

        p_best = mean_field_p_best(
            mu, best, column("temperature"), column("lr"), n_points, steps, init_weights=init,
            momentum=column("momentum"), dampening=column("dampening"),
            nesterov=np.array([bool(s.get("nesterov", DEFAULTS["nesterov"])) for s in mine]),
            weight_decay=column("weight_decay"), loop=mean_field_loop,
        )  # fmt: skip
        out.update(dict(zip(members, p_best)))
    return out
