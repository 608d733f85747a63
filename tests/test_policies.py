"""The field's baselines (policies/value.py, thompson.py) on the portable engine: their choices,
estimates and samplers from first principles, their counter ranges, common random numbers across
policies, and their statistics against Sutton & Barto's textbook loops (textbook.py)."""

import math

import numpy as np
import pytest
import scipy.stats
import torch

from batched_bandit import run_batch
from batched_bandit.policies import thompson, value
from batched_bandit.rng import POLICY_TAG, THOMPSON_TAG, philox4x32, to_uniform
from batched_bandit.state import Rule
from batched_bandit.stats import two_proportion_z
from batched_bandit.textbook import run_textbook

ALPHA = 0.01
MEANS = (0.0, 0.5, 1.0, 1.5, -1.0)
POLICIES = {
    "epsilon_greedy": dict(epsilon=0.1),
    "greedy": dict(initial_value=5.0, step_size=0.1),
    "ucb": dict(ucb_c=2.0),
    "thompson": {},
}


def test_ties_are_broken_uniformly_among_the_maxima():
    """Arms 1 and 3 tie at the top of four: each is drawn half the time over the uniform grid, the
    others never (a first-index rule would always take arm 1)."""
    top = torch.tensor([[False], [True], [False], [True]]).expand(4, 10_000)
    u = torch.arange(10_000, dtype=torch.float32) / 10_000
    counts = torch.bincount(value.break_tie(top, u), minlength=4).tolist()
    assert counts == [0, 5000, 0, 5000]
    assert value.break_tie(torch.tensor([[True], [True], [True]]), torch.tensor([1 - 2**-24])).tolist() == [2]


def test_ucb_tries_every_arm_first_then_follows_its_bound():
    rule = Rule(policy="ucb")
    params = value.Params(torch.zeros(1), torch.zeros(1), torch.tensor([2.0]))
    state = value.State(torch.tensor([[0.9], [0.1], [0.5]]), torch.tensor([[3], [0], [1]], dtype=torch.int32))
    assert value.scores(rule, params, state, t=4)[1, 0] == math.inf  # untried: the maximum
    state = value.State(state.q, torch.tensor([[3], [2], [1]], dtype=torch.int32))
    expected = [
        0.9 + 2 * math.sqrt(math.log(7) / 3),
        0.1 + 2 * math.sqrt(math.log(7) / 2),
        0.5 + 2 * math.sqrt(math.log(7)),
    ]
    torch.testing.assert_close(value.scores(rule, params, state, t=6)[:, 0], torch.tensor(expected), rtol=1e-6, atol=0)
    probs = value.probabilities(rule, params, state, 6)[:, 0]
    assert probs.tolist() == [0.0, 0.0, 1.0]  # arm 2's bound is the highest


def test_epsilon_greedy_explores_uniformly_with_probability_epsilon():
    """Greedy arm 0 of 4; ε = 0.2: P(arm 0) = 0.8 + 0.05, each other arm 0.05, over 40,000 policy words."""
    rule = Rule(policy="epsilon_greedy")
    n = 40_000
    params = value.Params(torch.full((n,), 0.2), torch.zeros(n), torch.zeros(n))
    state = value.State(torch.tensor([[1.0], [0.0], [0.0], [0.0]]).expand(4, n), torch.ones(4, n, dtype=torch.int32))
    words = to_uniform(torch.stack(philox4x32(torch.arange(n)[None], torch.tensor(POLICY_TAG), torch.tensor(0),
                                              torch.tensor(0), 7, 0))[:, 0])  # fmt: skip
    arm = value.choose(rule, params, state, None, words, 0).arm
    counts = torch.bincount(arm, minlength=4).double().numpy()
    expected = n * value.probabilities(rule, params, state, 0)[:, 0].numpy()
    np.testing.assert_allclose(expected / n, [0.85, 0.05, 0.05, 0.05])
    assert scipy.stats.chisquare(counts, expected).pvalue > ALPHA


def test_estimates_are_sample_averages_or_constant_steps():
    rewards = [1.0, -1.0, 1.0, 1.0, 1.0]
    for rule, step, expected in ((Rule(policy="greedy"), 0.0, np.mean(rewards)),
                                 (Rule(policy="greedy", step_size=True), 0.5, None)):  # fmt: skip
        params = value.Params(torch.zeros(1), torch.tensor([step]), torch.zeros(1))
        state = value.State(torch.tensor([[2.0], [0.0]]), torch.zeros(2, 1, dtype=torch.int32))
        q = 2.0
        for r in rewards:
            state = value.learn(rule, params, state, value.Choice(torch.tensor([0])), torch.tensor([r]), 0)
            q += 0.5 * (r - q)
        assert float(state.q[0, 0]) == pytest.approx(expected if expected is not None else q, rel=1e-6)
        assert state.n[:, 0].tolist() == [5, 0] and float(state.q[1, 0]) == 0.0


@pytest.mark.parametrize("a, b", [(1.0, 1.0), (3.0, 1.0), (2.0, 40.0), (200.0, 150.0)])
def test_the_beta_sampler_draws_beta_variates(a, b):
    """Marsaglia-Tsang gammas from the counter-based words: 20,000 samples against Beta(a, b) (KS)."""
    n = 20_000
    params = thompson.Params(torch.ones(n), torch.zeros(n), torch.ones(n), torch.ones(n), seed=3,
                             bandit_ids=torch.arange(n))  # fmt: skip
    samples = thompson.beta(torch.full((1, n), a), torch.full((1, n), b), params, t=11, draw=0)[0].double().numpy()
    assert scipy.stats.kstest(samples, scipy.stats.beta(a, b).cdf).pvalue > ALPHA


def test_the_policies_draw_from_counter_ranges_nothing_else_uses():
    """Steps use c1 = t // 2 >> 32 (< 2**31), problems c1 = 0xFFFFFFFF; value policies POLICY_TAG |
    t >> 32 and Thompson sampling THOMPSON_TAG | fields: the top bits tell them apart."""
    assert POLICY_TAG >> 30 == 0b10 and THOMPSON_TAG >> 30 == 0b11
    largest_thompson = THOMPSON_TAG | (64 << 20) | (4095 << 8) | 255
    assert largest_thompson < 0xFFFFFFFF and (POLICY_TAG | (2**62 - 1) >> 32) < THOMPSON_TAG


def test_the_reward_word_is_the_same_whatever_the_policy():
    """Common random numbers: where two policies pull the same arm at the same step, they get the same
    reward (one step per episode exposes each step's arm and reward)."""
    kw = dict(n_bandits=100, means=MEANS, n_episodes=200, steps_per_episode=1, seed=4, backend="torch")
    runs = [run_batch(**kw, policy=p, **o) for p, o in (("ucb", {}), ("thompson", {}), ("epsilon_greedy", {}))]
    runs.append(run_batch(**kw, temperature=1.0, lr=0.1))
    shared = 0
    for a in range(len(runs)):
        for b in range(a + 1, len(runs)):
            ra, rb = runs[a].episode_rewards, runs[b].episode_rewards  # (B, steps, K): one nonzero per row
            same_arm = ((ra != 0) == (rb != 0)).all(dim=2)
            assert torch.equal(ra[same_arm], rb[same_arm])
            shared += int(same_arm.sum())
    assert shared > 5_000  # many steps pull the same arm


def test_epsilon_zero_is_greedy_from_zero_with_sample_averages():
    kw = dict(n_bandits=300, means=MEANS, n_episodes=2, steps_per_episode=100, seed=5, backend="torch")
    a, b = run_batch(**kw, policy="epsilon_greedy", epsilon=0.0), run_batch(**kw, policy="greedy")
    assert torch.equal(a.episode_rewards, b.episode_rewards) and torch.equal(a.weights, b.weights)


def textbook_agreement(policy: str, n_runs: int, n_bandits: int, steps: int) -> list[float]:
    """p-values of the success rate (two-proportion z), the mean reward per step and the fraction of
    optimal actions (Welch t) of ``n_runs`` textbook loops against ``n_bandits`` engine bandits."""
    options = POLICIES[policy]
    runs = [run_textbook(policy, MEANS, reward_model="gaussian", n_episodes=2, steps_per_episode=steps,
                         seed=10_000 + s, **options) for s in range(n_runs)]  # fmt: skip
    engine = run_batch(n_bandits, means=MEANS, policy=policy, n_episodes=2, steps_per_episode=steps, seed=1,
                       backend="torch", **options)  # fmt: skip
    p_values = [two_proportion_z(sum(r.success for r in runs), n_runs, engine.n_successes, n_bandits)[1]]
    for name in ("reward", "optimal_action"):
        p_values.append(scipy.stats.ttest_ind([getattr(r, name) for r in runs], engine.metric(name).numpy(),
                                              equal_var=False).pvalue)  # fmt: skip
    return p_values


@pytest.mark.parametrize("policy", list(POLICIES))
def test_statistics_equal_the_textbook_loops(policy):
    """200 textbook runs (numpy's generator) against 2,000 engine bandits, Gaussian testbed arms,
    2 x 100 steps: success, mean reward and optimal actions agree at alpha = 0.01 (Bonferroni over 3)."""
    assert min(textbook_agreement(policy, 200, 2000, 100)) > ALPHA / 3


@pytest.mark.slow
@pytest.mark.parametrize("policy", list(POLICIES))
def test_statistics_equal_the_textbook_loops_with_power(policy):
    """2,000 textbook runs against 10,000 engine bandits, 2 x 250 steps (alpha = 0.01, Bonferroni over 3)."""
    assert min(textbook_agreement(policy, 2000, 10_000, 250)) > ALPHA / 3
