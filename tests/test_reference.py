"""The batched engine against the seed's own loop (autograd + SGD + multinomial), statistically."""

import multiprocessing
from concurrent.futures import ProcessPoolExecutor

import numpy as np
import pytest
import torch

from batched_bandit import run_batch
from batched_bandit.reference import run_reference
from batched_bandit.stats import chi_square_homogeneity, two_proportion_z

# A non-saturated setting: about 40% of bandits pick the best arm.
SETTING = dict(arms=(0.2, 0.0, -0.2, -1.0), temperature=0.03, lr=0.01, n_episodes=2, steps_per_episode=500)
ALPHA = 0.01


def _reference_choices(seeds):
    torch.set_num_threads(1)  # this worker process's own setting
    return [int(np.argmax(run_reference(seed=s, **SETTING).episode_rewards[-1])) for s in seeds]


def reference_choices(n_runs):
    """The arm each of n_runs reference bandits (seeds 0..n_runs-1) picks, on two processes."""
    seeds = list(range(n_runs))
    halves = [seeds[0::2], seeds[1::2]]
    with ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("spawn")) as pool:
        return [c for part in pool.map(_reference_choices, halves) for c in part]


@pytest.fixture(scope="module")
def reference_400():
    return torch.tensor(reference_choices(400))


def compare_with_reference(choices, backend, n_bandits=20000):
    n_runs = choices.shape[0]
    batched = run_batch(n_bandits, seed=2024, backend=backend, **SETTING)
    batched_choices = torch.argmax(batched.episode_rewards[:, -1], dim=1)
    ref_success = int((choices == 3).sum())
    z, p = two_proportion_z(batched.n_successes, n_bandits, ref_success, n_runs)
    table = [torch.bincount(c, minlength=4).tolist() for c in (batched_choices, choices)]
    chi2, df, p_arms = chi_square_homogeneity(table)
    print(
        f"\n{backend}: reference {ref_success}/{n_runs} = {ref_success / n_runs:.4f}, batched "
        f"{batched.n_successes}/{n_bandits} = {batched.success_rate:.4f}; z = {z:.3f}, p = {p:.3f}; "
        f"chosen-arm counts {table}, chi2 = {chi2:.2f} (df {df}), p = {p_arms:.3f}"
    )
    assert 0.25 < batched.success_rate < 0.6  # the setting is not saturated, so the test has power
    assert p > ALPHA
    assert p_arms > ALPHA


@pytest.mark.parametrize("backend", ["torch", "cpu"])
def test_success_rate_equals_reference(reference_400, backend):
    """400 reference runs against 20,000 batched bandits: at alpha = 0.01 this detects a shift of
    the success rate of 8.5 points with power 0.8 (and a lock-in on a different arm mix)."""
    compare_with_reference(reference_400, backend)


@pytest.fixture(scope="module")
def reference_2000():
    return torch.tensor(reference_choices(2000))


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["torch", "cpu"])
def test_success_rate_equals_reference_high_power(reference_2000, backend):
    """2,000 reference runs: detects a shift of 3.8 points with power 0.8 at alpha = 0.01."""
    compare_with_reference(reference_2000, backend, n_bandits=100_000)


def test_reference_is_the_seed_program(capsys):
    res = run_reference(n_episodes=3, steps_per_episode=100, seed=0, verbose=True)
    out = capsys.readouterr().out
    assert out.count("Episode ") == 3 and "Testing policy..." in out
    assert f"thinks action {np.argmax(res.episode_rewards[-1]) + 1} is the most promising" in out
    assert ("right!" in out) == res.success
    assert np.abs(res.episode_rewards).sum(axis=1).max() <= 100
    assert np.isclose(res.weights.sum(), 0, atol=1e-5)  # plain SGD keeps sum(w)
    again = run_reference(n_episodes=3, steps_per_episode=100, seed=0)
    assert np.array_equal(again.episode_rewards, res.episode_rewards)  # seeded, reproducible
