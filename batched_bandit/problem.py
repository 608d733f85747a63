"""The bandit problem: arms, the reward model, expected rewards, the best arm and regret.

Three reward models, one per batch:

- ``threshold`` (the seed's): arm ``a`` has a value ``v[a]``; a pull draws ``x ~ N(0, 1)`` and
  pays ``win`` if ``x > v[a]``, else ``loss``. ``P(win) = 1 - Phi(v[a]) = erfc(v[a] / sqrt 2) / 2``,
  so the arm with the LOWEST value is the best.
- ``bernoulli``: arm ``a`` pays ``win`` with probability ``q[a]``, else ``loss``; the best arm
  has the highest ``q``.
- ``gaussian``: arm ``a`` pays ``mean[a] + sd * N(0, 1)``; the best arm has the highest mean.

The first two are the same process with ``q = P(win)``; engines see only ``q`` (binary rewards)
or the means (Gaussian rewards). ``win > loss`` always, so a higher ``q`` is a higher expected
reward. The best arm is the first on ties, by the model's own parameters (argmin of the threshold
values, argmax of ``q`` or of the means), exactly as the seed's ``argmin(arms)``.
"""

from __future__ import annotations

import math

import torch

from .schema import BINARY, SEED_ARMS

NORMAL_MAX = 5.42  # the largest |z| of rng.to_normal: Gaussian rewards lie within mean +- 5.42 sd

__all__ = [
    "NORMAL_MAX", "SEED_ARMS", "arm_parameter", "best_arm", "draw_reward", "expected_reward", "gaussian_reward",
    "is_binary", "regret_gaps", "reward_bound_of",
]  # fmt: skip


def is_binary(model: str) -> bool:
    """Whether the model pays one of two values (win, loss)."""
    return model in BINARY


def arm_parameter(model: str, params: torch.Tensor) -> torch.Tensor:
    """What an engine needs per arm: P(win) for binary models, the mean for Gaussian rewards.

    params: (B, K) float64 model parameters -> (B, K) float64.
    """
    if model == "threshold":
        return 0.5 * torch.erfc(params / math.sqrt(2.0))
    return params


def expected_reward(model: str, params: torch.Tensor, win: torch.Tensor, loss: torch.Tensor) -> torch.Tensor:
    """mu per arm, float64. params: (B, K); win, loss: (B,) (unused for Gaussian rewards)."""
    if model == "gaussian":
        return params.to(torch.float64)
    q = arm_parameter(model, params.to(torch.float64))
    return loss.to(torch.float64)[:, None] + (win - loss).to(torch.float64)[:, None] * q


def best_arm(model: str, params: torch.Tensor) -> torch.Tensor:
    """Index of the best arm, first on ties: (B, K) -> (B,) int64."""
    if model == "threshold":
        return torch.argmin(params, dim=-1)
    return torch.argmax(params, dim=-1)


def regret_gaps(model: str, params: torch.Tensor, win: torch.Tensor, loss: torch.Tensor) -> torch.Tensor:
    """``mu* - mu[a]`` per arm (>= 0), the pseudo-regret of one pull: (B, K) float64."""
    mu = expected_reward(model, params, win, loss)
    return mu.amax(dim=-1, keepdim=True) - mu


def draw_reward(param: torch.Tensor, u: torch.Tensor, win, loss) -> torch.Tensor:
    """Binary rewards: ``win`` where the uniform ``u`` falls below the pulled arm's P(win), else ``loss``.

    param, u: (...) float; win, loss: broadcastable. Returns rewards of ``param``'s dtype.
    """
    return torch.where(u < param, win, loss).to(param.dtype)


def gaussian_reward(mean: torch.Tensor, normal: torch.Tensor, sd) -> torch.Tensor:
    """Gaussian rewards ``mean + sd * normal`` (normal: the step's standard normal deviate)."""
    return mean + sd * normal


def reward_bound_of(model: str):
    """``bound(params, win, loss, reward_sd)``: the largest |reward| each bandit can receive, (B,)."""

    def bound(params, win, loss, reward_sd):
        if model == "gaussian":
            return params.abs().amax(dim=1) + NORMAL_MAX * reward_sd
        return torch.maximum(win.abs(), loss.abs())

    return bound


def lai_robbins(win_prob: torch.Tensor, win: float = 1.0, loss: float = 0.0) -> torch.Tensor:
    """The Lai-Robbins (1985) constant of Bernoulli bandits: any consistent policy's pseudo-regret
    grows at least as C ln t, C = sum over worse arms of gap_a / KL(q_a, q*), KL the Bernoulli
    divergence of the arms' P(win) and gap_a = (win - loss)(q* - q_a). (B, K) -> (B,) float64;
    inf where a worse arm has P(win) 0 or 1 against a best arm strictly inside (0, 1)."""
    q = win_prob.to(torch.float64)
    best = q.amax(dim=-1, keepdim=True)
    worse = q < best
    xlogy = torch.special.xlogy
    kl = xlogy(q, q / best) + xlogy(1 - q, (1 - q) / (1 - best))  # KL(q_a || q*)
    terms = torch.where(worse, (win - loss) * (best - q) / kl, torch.zeros_like(q))
    return terms.sum(dim=-1)
