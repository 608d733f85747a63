import pytest
import torch
from conftest import FAST_BACKENDS

from batched_bandit import run_batch
from batched_bandit.stats import chi_square_sf


@pytest.mark.parametrize("backend", FAST_BACKENDS)
def test_record_episodes_false_keeps_the_last_episode(backend):
    """An odd horizon: episodes start and end inside a Philox pair."""
    kw = dict(n_episodes=5, steps_per_episode=37, temperature=0.5, seed=2, backend=backend)
    full = run_batch(100, **kw)
    last = run_batch(100, record_episodes=False, **kw)
    assert last.episode_rewards.shape == (100, 1, 4)
    assert torch.equal(last.episode_rewards[:, 0], full.episode_rewards[:, -1])
    assert torch.equal(last.weights, full.weights) and torch.equal(last.episode_p_best, full.episode_p_best)
    assert torch.equal(last.success, full.success)


@pytest.mark.parametrize("backend", FAST_BACKENDS)
def test_sum_of_weights_stays_zero_under_plain_sgd(backend):
    temperature = torch.logspace(-1, 1, 500)
    res = run_batch(500, n_episodes=4, steps_per_episode=250, temperature=temperature, lr=0.1, backend=backend)
    assert res.weights.abs().max() > 1  # the weights did move
    torch.testing.assert_close(res.weights.sum(dim=1), torch.zeros(500), rtol=0, atol=1e-4)


@pytest.mark.parametrize("backend", FAST_BACKENDS)
def test_episode_sums_are_net_rewards_of_every_step(backend):
    res = run_batch(100, n_episodes=3, steps_per_episode=41, temperature=1.0, backend=backend)
    pulls = res.episode_rewards.abs().sum(dim=2)
    # each sum is a net of +-1 rewards: |sum| <= steps and parity matches the steps of that episode
    assert (pulls <= 41).all()
    assert ((res.episode_rewards.sum(dim=2) - 41) % 2 == 0).all()


@pytest.mark.parametrize("backend", FAST_BACKENDS)
def test_reward_frequency_per_arm_is_one_minus_phi(backend):
    """One step per episode exposes each step's arm and reward; frozen uniform policy."""
    arms = (0.5, 0.0, -0.3, -1.0, 1.5)
    res = run_batch(400, arms=arms, lr=1e-30, n_episodes=500, steps_per_episode=1, backend=backend)
    per_step = res.episode_rewards.reshape(-1, len(arms))  # one nonzero (+-1) per row
    arm = per_step.abs().argmax(dim=1)
    won = per_step.sum(dim=1) > 0
    pulls = torch.bincount(arm, minlength=5).double()
    wins = torch.bincount(arm[won], minlength=5).double()
    q = 0.5 * torch.erfc(torch.tensor(arms, dtype=torch.float64) / 2**0.5)
    stat = float(((wins - pulls * q) ** 2 / (pulls * q * (1 - q))).sum())
    assert chi_square_sf(stat, 5) > 0.01, (wins / pulls, q)
    uniform = pulls.sum() / 5
    assert chi_square_sf(float(((pulls - uniform) ** 2 / uniform).sum()), 4) > 0.01


def test_float64_follows_float32_up_to_rounding():
    kw = dict(n_episodes=2, steps_per_episode=200, temperature=0.5)
    single = run_batch(300, backend="torch", **kw)
    double = run_batch(300, backend="torch", dtype=torch.float64, **kw)
    assert double.weights.dtype == torch.float64
    same = (single.episode_rewards == double.episode_rewards).all(dim=2).all(dim=1).float().mean()
    assert same > 0.95
