"""The portable engine: one vectorised torch step per Python iteration, any device and dtype.

Internally the arm axis comes first, ``(K, B)``: per-bandit reductions over arms (max, cumsum,
sum) then run over contiguous rows of B, which is 2-5x faster on CPU than reducing the short
inner axis of ``(B, K)``. Inputs and outputs stay batch first.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from ..problem import draw_reward
from ..rng import step_uniforms
from ..state import Batch, Outcome

STEPS_PER_DRAW = 64  # random numbers are drawn for this many steps at once


def unavailable_reason(device: torch.device) -> str | None:
    """The portable engine runs wherever torch does."""
    return None


def simulate(
    batch: Batch,
    *,
    seed: int,
    n_episodes: int,
    steps_per_episode: int,
    record_episodes: bool = True,
    on_steps: Callable[[int], None] | None = None,
) -> Outcome:
    """Train every bandit of ``batch`` for ``n_episodes * steps_per_episode`` steps.

    ``on_steps(n)`` is called after every block of ``n`` steps (for progress reports).
    """
    n_bandits, n_arms = batch.win_prob.shape
    device, dtype = batch.win_prob.device, batch.win_prob.dtype
    win_prob = batch.win_prob.T.contiguous()  # (K, B)
    inv_t, lr = batch.inv_temperature, batch.lr
    arm_index = torch.arange(n_arms, device=device)[:, None]  # (K, 1)
    weights = torch.zeros(n_arms, n_bandits, device=device, dtype=dtype)  # (K, B)
    sums = torch.zeros(n_arms, n_bandits, device=device, dtype=torch.int32)  # (K, B)
    n_recorded = n_episodes if record_episodes else 1
    episode_rewards = torch.zeros(n_bandits, n_recorded, n_arms, device=device, dtype=torch.int32)
    episode_p_best = torch.zeros(n_bandits, n_episodes, device=device, dtype=torch.float32)
    t = 0
    for episode in range(n_episodes):
        sums.zero_()
        for block_start in range(0, steps_per_episode, STEPS_PER_DRAW):
            n_steps = min(STEPS_PER_DRAW, steps_per_episode - block_start)
            draws = step_uniforms(seed, batch.bandit_ids, t, n_steps).to(dtype)
            for u_arm, u_reward in draws:
                weights = _step(weights, sums, win_prob, inv_t, lr, arm_index, u_arm, u_reward)
            t += n_steps
            if on_steps is not None:
                on_steps(n_steps)
        episode_rewards[:, episode if record_episodes else 0] = sums.T
        e, total = _softmax_terms(weights, inv_t)
        episode_p_best[:, episode] = (e.gather(0, batch.best_arm[None])[0] / total).float()
    return Outcome(weights.T.contiguous(), episode_rewards, episode_p_best)


def _softmax_terms(weights, inv_t):
    """exp(w / T - max) and its sum: (K, B) -> ((K, B), (B,))."""
    z = weights * inv_t
    e = torch.exp(z - z.amax(dim=0))
    return e, e.sum(dim=0)


def _step(weights, sums, win_prob, inv_t, lr, arm_index, u_arm, u_reward):
    """One step of policy.py's math in the (K, B) layout; adds the rewards to ``sums`` in place."""
    z = weights * inv_t
    e = torch.exp(z - z.amax(dim=0))
    cdf = torch.cumsum(e, dim=0)
    total = cdf[-1]
    # policy.sample_arm: the first arm k with u * total < cdf[k]
    arm = (cdf[:-1] <= u_arm * total).sum(dim=0)
    reward = draw_reward(win_prob.gather(0, arm[None])[0], u_reward)
    sums.scatter_add_(0, arm[None], reward.to(torch.int32)[None])
    # policy.sgd_step: w += (lr r / T) (onehot(arm) - e / total)
    scale = lr * reward * inv_t / total
    return weights + scale * ((arm_index == arm) * total - e)
