"""The portable engine: one vectorised torch step per Python iteration, any device, dtype and rule.

Internally the arm axis comes first, ``(K, B)``: per-bandit reductions over arms (max, cumsum,
sum) then run over contiguous rows of B, which is 2-5x faster on CPU than reducing the short
inner axis of ``(B, K)``. Inputs and outputs stay batch first. The math is policy.py's and
optimizers.py's; the seed's rule keeps its own one-line update (its rounding is pinned).
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from .. import optimizers
from ..problem import draw_reward, gaussian_reward
from ..rng import step_uniforms
from ..state import Batch, Outcome, Rule

STEPS_PER_DRAW = 64  # random numbers are drawn for this many steps at once


def unavailable_reason(device: torch.device) -> str | None:
    """The portable engine runs wherever torch does."""
    return None


def unsupported_reason(rule: Rule) -> str | None:
    """The portable engine runs every rule."""
    return None


def simulate(
    batch: Batch,
    *,
    seed: int,
    n_episodes: int,
    steps_per_episode: int,
    record_episodes: bool = True,
    on_progress: Callable[[int], None] | None = None,
    dtype: torch.dtype = torch.float32,
) -> Outcome:
    """Train every bandit of ``batch`` for ``n_episodes * steps_per_episode`` steps in ``dtype``.

    ``on_progress(n)`` is called after every block of steps with the ``n`` bandit-steps it took.
    """
    rule = batch.rule
    n_bandits, n_arms = batch.n_bandits, batch.n_arms
    device = batch.arm_param.device
    arm_param = batch.arm_param.to(dtype).T.contiguous()  # (K, B)
    arm_gap = batch.arm_gap.to(dtype).T.contiguous()  # (K, B)
    win, loss, sd = (batch.win.to(dtype), batch.loss.to(dtype), batch.reward_sd.to(dtype))
    inv_t = batch.inv_temperature.to(dtype)
    hyper = batch.hyper.map(lambda h: h.to(dtype)[None, :])  # (1, B): broadcasts over arms
    exact = batch.hyper.map(lambda h: h.to(torch.float64)[None, :])  # for 1 - x and Adam's bias corrections
    lr, decay = batch.hyper.lr.to(dtype), batch.hyper.baseline_decay.to(dtype)
    decay_complement = optimizers.one_minus(batch.hyper.baseline_decay, dtype)
    arm_index = torch.arange(n_arms, device=device)[:, None]  # (K, 1)
    weights = batch.init_weights.to(dtype).T.contiguous()  # (K, B)
    state = optimizers.initial_state(rule, weights)
    baseline = torch.zeros(n_bandits, device=device, dtype=dtype)
    sums = torch.zeros(n_arms, n_bandits, device=device, dtype=dtype)  # (K, B)
    pulls = torch.zeros(n_arms, n_bandits, device=device, dtype=torch.int32)  # (K, B)
    n_recorded = n_episodes if record_episodes else 1
    episode_rewards = torch.zeros(n_bandits, n_recorded, n_arms, device=device, dtype=dtype)
    episode_p_best = torch.zeros(n_bandits, n_episodes, device=device, dtype=torch.float32)
    episode_regret = torch.zeros(n_bandits, n_episodes, device=device, dtype=torch.float32)
    t = 0
    for episode in range(n_episodes):
        sums.zero_()
        pulls.zero_()
        for block_start in range(0, steps_per_episode, STEPS_PER_DRAW):
            n_steps = min(STEPS_PER_DRAW, steps_per_episode - block_start)
            normal = rule.rewards == "gaussian"
            draws = step_uniforms(seed, batch.bandit_ids, t, n_steps, normal_rewards=normal).to(dtype)
            for u_arm, u_reward in draws:
                # the policy and the draw (policy.softmax_terms, policy.sample_arm)
                z = weights * inv_t
                e = torch.exp(z - z.amax(dim=0))
                cdf = torch.cumsum(e, dim=0)
                total = cdf[-1]
                arm = (cdf[:-1] <= u_arm * total).sum(dim=0)
                param = arm_param.gather(0, arm[None])[0]
                # the reward: Gaussian (the word is a normal deviate) or binary (a uniform)
                reward = gaussian_reward(param, u_reward, sd) if normal else draw_reward(param, u_reward, win, loss)
                sums.scatter_add_(0, arm[None], reward[None])
                pulls.scatter_add_(0, arm[None], torch.ones_like(pulls[:1]))
                if rule.baseline != "none":
                    baseline = optimizers.update_baseline(rule.baseline, baseline, reward, t, decay, decay_complement)
                    advantage = reward - baseline
                else:
                    advantage = reward
                direction = (arm_index == arm) * total - e  # total * (onehot(arm) - p)
                if rule.is_seed:  # policy.sgd_step, as the seed: w += (lr r / T) (onehot(arm) - p)
                    weights = weights + (lr * advantage * inv_t / total) * direction
                else:  # policy.policy_gradient, then torch.optim's step
                    grad = -(advantage * inv_t / total) * direction
                    weights, state = optimizers.step(rule, hyper, t, weights, grad, state, exact)
                t += 1
            if on_progress is not None:
                on_progress(n_steps * n_bandits)
        episode_rewards[:, episode if record_episodes else 0] = sums.T
        episode_regret[:, episode] = (pulls.to(dtype) * arm_gap).sum(dim=0).float()
        z = weights * inv_t
        e = torch.exp(z - z.amax(dim=0))
        episode_p_best[:, episode] = (e.gather(0, batch.best_arm[None])[0] / e.sum(dim=0)).float()
    return Outcome(weights.T.contiguous(), episode_rewards, episode_p_best, episode_regret)
