"""Reward models: P(win), expected rewards, the best arm, regret; regret on every engine."""

import math

import pytest
import torch
from conftest import FAST_BACKENDS

from batched_bandit import run_batch
from batched_bandit.problem import arm_parameter, best_arm, expected_reward, regret_gaps


def test_expected_rewards_and_best_arm_by_hand():
    win, loss = torch.tensor([2.0]), torch.tensor([-0.5])
    values = torch.tensor([[0.2, 0.0, -1.0]], dtype=torch.float64)
    q = [math.erfc(v / math.sqrt(2)) / 2 for v in (0.2, 0.0, -1.0)]
    torch.testing.assert_close(arm_parameter("threshold", values)[0], torch.tensor(q, dtype=torch.float64))
    mu = expected_reward("threshold", values, win, loss)[0]
    torch.testing.assert_close(mu, torch.tensor([-0.5 + 2.5 * x for x in q], dtype=torch.float64))
    assert best_arm("threshold", values).tolist() == [2]  # the LOWEST threshold
    probs = torch.tensor([[0.3, 0.7, 0.7]], dtype=torch.float64)
    assert best_arm("bernoulli", probs).tolist() == [1]  # the highest P(win), first on ties
    assert best_arm("gaussian", torch.tensor([[1.0, 3.0, -2.0]])).tolist() == [1]
    gaps = regret_gaps("bernoulli", probs, torch.tensor([1.0]), torch.tensor([0.0]))[0]
    torch.testing.assert_close(gaps, torch.tensor([0.4, 0.0, 0.0], dtype=torch.float64))


@pytest.mark.parametrize("backend", FAST_BACKENDS)
def test_regret_is_non_decreasing_and_counts_each_pull(backend):
    """One step per episode: each episode's regret increment is exactly the gap of its pulled arm."""
    kw = dict(win_prob=(0.2, 0.5, 0.9), reward_values=(1.0, -1.0), temperature=0.5, lr=0.1)
    out = run_batch(40, n_episodes=200, steps_per_episode=1, seed=3, backend=backend, **kw)
    increments = torch.diff(out.episode_regret, dim=1, prepend=torch.zeros(40, 1, dtype=torch.float64))
    assert (increments >= 0).all()
    arm = out.episode_rewards.abs().argmax(dim=2)  # the one arm pulled in each one-step episode
    gaps = torch.tensor([1.4, 0.8, 0.0], dtype=torch.float64)  # mu* - mu = 2 (0.9 - q)
    torch.testing.assert_close(increments, gaps[arm], rtol=0, atol=1e-6)


@pytest.mark.parametrize("backend", FAST_BACKENDS)
def test_regret_is_zero_when_all_arms_are_equal(backend):
    out = run_batch(50, arms=(0.3, 0.3, 0.3), n_episodes=3, steps_per_episode=40, backend=backend)
    assert out.episode_regret.abs().max() == 0
    gaussian = run_batch(50, means=(1.0, 1.0), n_episodes=2, steps_per_episode=10, backend="torch")
    assert gaussian.episode_regret.abs().max() == 0 and gaussian.episode_rewards.dtype == torch.float32
