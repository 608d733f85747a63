"""The portable engine: one vectorised torch step per Python iteration, any device, dtype and rule.

Internally the arm axis comes first, ``(K, B)``: per-bandit reductions over arms (max, cumsum,
sum) then run over contiguous rows of B, which is 2-5x faster on CPU than reducing the short
inner axis of ``(B, K)``. Inputs and outputs stay batch first. Each step is the policy's pure
step (policies/gradient.py: choose an arm, then learn from its reward) around the problem's reward
draw and the episode's tally.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from .. import policies
from ..policies import gradient
from ..problem import draw_reward, gaussian_reward
from ..rng import policy_uniforms, step_uniforms
from ..schema import dispatch
from ..state import Batch, Outcome, Rule, empty_trace, trace_points

STEPS_PER_DRAW = 64  # random numbers are drawn for this many steps at once


def unavailable_reason(device: torch.device) -> str | None:
    """The portable engine runs wherever torch does."""
    return None


def unsupported_reason(rule: Rule, trace: bool = False) -> str | None:
    """The portable engine runs every rule, traced or not."""
    return None


def simulate(
    batch: Batch,
    *,
    seed: int,
    n_episodes: int,
    steps_per_episode: int,
    record_episodes: bool = True,
    record_every: int | None = None,
    on_progress: Callable[[int], None] | None = None,
    dtype: torch.dtype = torch.float32,
) -> Outcome:
    """Train every bandit of ``batch`` for ``n_episodes * steps_per_episode`` steps in ``dtype``.

    ``record_every``: also trace every metric every this many steps (state.Outcome says what).
    ``on_progress(n)`` is called after every block of steps with the ``n`` bandit-steps it took.
    """
    rule = batch.rule
    n_bandits, n_arms = batch.n_bandits, batch.n_arms
    device = batch.arm_param.device
    h = batch.hyper
    arm_param = batch.arm_param.to(dtype).T.contiguous()  # (K, B)
    arm_gap = batch.arm_gap.to(dtype).T.contiguous()  # (K, B)
    win, loss, sd = (h.win.to(dtype), h.loss.to(dtype), h.reward_sd.to(dtype))
    policy = dispatch(policies.MODULES, "policy", rule.policy)
    params = policy.Params.of(h, dtype, seed, batch.bandit_ids)
    state = policy.init(rule, batch, dtype)

    def p_best(state, t: int) -> torch.Tensor:  # before step t
        if rule.policy == "gradient":
            return gradient.p_best(rule, params, state, batch.best_arm, t)
        return policy.probabilities(rule, params, state, t).gather(0, batch.best_arm[None])[0].float()

    sums = torch.zeros(n_arms, n_bandits, device=device, dtype=dtype)  # (K, B)
    pulls = torch.zeros(n_arms, n_bandits, device=device, dtype=torch.int32)  # (K, B)
    n_recorded = n_episodes if record_episodes else 1
    episode_rewards = torch.zeros(n_bandits, n_recorded, n_arms, device=device, dtype=dtype)
    episode_p_best = torch.zeros(n_bandits, n_episodes, device=device, dtype=torch.float32)
    episode_regret = torch.zeros(n_bandits, n_episodes, device=device, dtype=torch.float32)
    episode_reward = torch.zeros(n_bandits, n_episodes, device=device, dtype=dtype)
    episode_optimal = torch.zeros(n_bandits, n_episodes, device=device, dtype=torch.int32)
    optimal = (arm_gap == 0).to(torch.int32)  # (K, B): the best arms (every one on ties)
    trace = empty_trace(n_bandits, trace_points(n_episodes * steps_per_episode, record_every), dtype, device)
    interval_pulls = torch.zeros_like(pulls)  # the trace's: since the previous trace point
    interval_reward = torch.zeros(n_bandits, device=device, dtype=dtype)
    normal = rule.rewards == "gaussian"
    t = 0
    for episode in range(n_episodes):
        sums.zero_()
        pulls.zero_()
        for block_start in range(0, steps_per_episode, STEPS_PER_DRAW):
            n_steps = min(STEPS_PER_DRAW, steps_per_episode - block_start)
            draws = step_uniforms(seed, batch.bandit_ids, t, n_steps, normal_rewards=normal).to(dtype)
            words: list[None] | torch.Tensor = [None] * n_steps  # the policy's own draws: none for the gradient policy
            if rule.policy != "gradient":
                words = policy_uniforms(seed, batch.bandit_ids, t, n_steps).to(dtype)
            for (u_arm, u_reward), step_words in zip(draws, words):
                choice = policy.choose(rule, params, state, u_arm, step_words, t)
                param = arm_param.gather(0, choice.arm[None])[0]
                # the reward: Gaussian (the word is a normal deviate) or binary (a uniform)
                reward = gaussian_reward(param, u_reward, sd) if normal else draw_reward(param, u_reward, win, loss)
                sums.scatter_add_(0, choice.arm[None], reward[None])
                pulls.scatter_add_(0, choice.arm[None], torch.ones_like(pulls[:1]))
                state = policy.learn(rule, params, state, choice, reward, t)
                t += 1
                if record_every is not None:
                    interval_pulls.scatter_add_(0, choice.arm[None], torch.ones_like(pulls[:1]))
                    interval_reward += reward
                    if t % record_every == 0:
                        point = t // record_every - 1
                        trace["trace_p_best"][:, point] = p_best(state, t)
                        trace["trace_regret"][:, point] = (interval_pulls.to(dtype) * arm_gap).sum(dim=0).float()
                        trace["trace_reward"][:, point] = interval_reward
                        trace["trace_optimal"][:, point] = (interval_pulls * optimal).sum(dim=0, dtype=torch.int32)
                        trace["trace_success"][:, point] = sums.argmax(dim=0) == batch.best_arm  # first on ties
                        interval_pulls.zero_()
                        interval_reward.zero_()
            if on_progress is not None:
                on_progress(n_steps * n_bandits)
        episode_rewards[:, episode if record_episodes else 0] = sums.T
        episode_regret[:, episode] = (pulls.to(dtype) * arm_gap).sum(dim=0).float()
        episode_reward[:, episode] = sums.sum(dim=0)
        episode_optimal[:, episode] = (pulls * optimal).sum(dim=0, dtype=torch.int32)
        episode_p_best[:, episode] = p_best(state, t)
    if rule.policy == "gradient":
        weights, final_probs = state.weights, torch.zeros(0, n_bandits, device=device)  # run.py: softmax(w / T)
    else:
        weights, final_probs = estimates(rule, state, dtype), policy.probabilities(rule, params, state, t).float()
    return Outcome(weights.T.contiguous(), episode_rewards, episode_p_best, episode_regret, episode_reward,
                   episode_optimal, **trace, final_probs=final_probs.T.contiguous())  # fmt: skip


def estimates(rule: Rule, state, dtype: torch.dtype) -> torch.Tensor:
    """A policy's estimate of each arm's value, (K, B): the value estimates Q, or Thompson sampling's
    posterior means ((1 + wins) / (2 + pulls) for binary rewards, scaled to P(win); the normal
    posterior's mean is not kept here: the mean reward of the arm's pulls)."""
    if rule.policy != "thompson":
        return state.q
    if rule.rewards == "binary":
        return (state.first + 1).to(dtype) / (state.first + state.second + 2).to(dtype)
    return state.second / state.first.clamp(min=1).to(dtype)
