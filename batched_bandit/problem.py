"""The bandit problem of the seed: arm values and the reward model.

Pulling arm ``a`` draws ``x ~ N(0, 1)`` and pays +1 if ``x > value[a]``, else -1. So the arm
with the LOWEST value is the best, and ``P(+1) = 1 - Phi(value) = erfc(value / sqrt 2) / 2``.
"""

from __future__ import annotations

import math

import torch

SEED_ARMS = (0.2, 0.0, -0.2, -1.0)


def win_probability(arms: torch.Tensor) -> torch.Tensor:
    """P(reward = +1) per arm, ``1 - Phi(value)``; same shape as ``arms``, float32.

    Computed in float64, then rounded once, so every engine compares against the same numbers.
    """
    return (0.5 * torch.erfc(arms.to(torch.float64) / math.sqrt(2.0))).to(torch.float32)


def best_arm(arms: torch.Tensor) -> torch.Tensor:
    """Index of the best (lowest-valued) arm, first on ties. arms: (B, K) -> (B,) int64."""
    return torch.argmin(arms, dim=-1)


def draw_reward(win_prob: torch.Tensor, u: torch.Tensor) -> torch.Tensor:
    """+1 where the uniform ``u`` falls below the pulled arm's ``win_prob``, else -1.

    win_prob, u: (B,) float32 -> (B,) float32 of +-1.
    """
    return torch.where(u < win_prob, 1.0, -1.0)
