"""The batched engine against the seed's own loop (autograd + SGD + multinomial), statistically."""

import functools
import multiprocessing
from concurrent.futures import ProcessPoolExecutor

import numpy as np
import pytest
import torch
from conftest import FAST_BACKENDS, need
from rules import RULES, STATISTICAL, reference_options

from batched_bandit import run_batch
from batched_bandit.options import make_setup
from batched_bandit.reference import run_reference
from batched_bandit.rng import step_uniforms
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


@pytest.mark.parametrize("backend", FAST_BACKENDS)
def test_success_rate_equals_reference(reference_400, backend):
    """400 reference runs against 20,000 batched bandits: at alpha = 0.01 this detects a shift of
    the success rate of 8.5 points with power 0.8 (and a lock-in on a different arm mix)."""
    compare_with_reference(reference_400, backend)


@pytest.fixture(scope="module")
def reference_2000():
    return torch.tensor(reference_choices(2000))


@pytest.mark.slow
@pytest.mark.parametrize("backend", FAST_BACKENDS)
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


def test_the_reference_verdict_is_the_last_episodes_choice():
    """The seed's verdict: the arm with the most reward in the last episode is the best one (the
    lowest threshold, arm 4 of (0.2, 0, -0.2, -1)); the first episode's choice does not count."""
    changed = 0
    for s in range(8):
        res = run_reference(n_episodes=3, steps_per_episode=60, temperature=0.3, lr=0.05, seed=s)
        first, last = (int(np.argmax(res.episode_rewards[e])) == 3 for e in (0, -1))
        assert res.success == last, s
        changed += first != last
    assert changed  # some bandits' verdicts differ between the first and the last episode


# --- the generalised rules (issue 8): success rates and P(best) against the reference ------------

# the rule table's scalar settings at the seed's arms, 2 x 500 steps: success 50-76% on the portable engine
HORIZON = dict(n_episodes=2, steps_per_episode=500)


def _reference_rule(args):
    rule, seeds = args
    torch.set_num_threads(1)
    kw = dict(**reference_options(RULES[rule]), **HORIZON)
    return [bool(run_reference(seed=s, **kw).success) for s in seeds]


@functools.cache
def reference_rule_successes(rule: str, n_runs: int, first_seed: int) -> int:
    seeds = list(range(first_seed, first_seed + n_runs))
    with ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("spawn")) as pool:
        return sum(sum(part) for part in pool.map(_reference_rule, [(rule, seeds[0::2]), (rule, seeds[1::2])]))


def power_shift(n_a: int, n_b: int, p: float = 0.5, alpha: float = ALPHA, power: float = 0.8) -> float:
    """The smallest shift of a success rate p a two-sided two-proportion test detects."""
    from statistics import NormalDist

    z = NormalDist().inv_cdf(1 - alpha / 2) + NormalDist().inv_cdf(power)
    return z * (p * (1 - p) * (1 / n_a + 1 / n_b)) ** 0.5


@pytest.mark.parametrize("backend", FAST_BACKENDS)
@pytest.mark.parametrize("rule", STATISTICAL)
def test_rule_success_rate_equals_reference(rule, backend):
    """100 reference runs (autograd + torch.optim + multinomial) against 20,000 batched bandits: at
    alpha = 0.01 this detects a shift of 17 points with power 0.8 (the slow case: 5.5 points)."""
    check_rule(rule, backend, 100, first_seed=10_000)


@pytest.mark.slow
@pytest.mark.parametrize("backend", FAST_BACKENDS)
@pytest.mark.parametrize("rule", STATISTICAL)
def test_rule_success_rate_equals_reference_high_power(rule, backend):
    """2,000 reference runs on seeds of their own (not the fast case's): detects 3.9 points."""
    check_rule(rule, backend, 2000, first_seed=1_000_000)


def check_rule(rule: str, backend: str, n_runs: int, first_seed: int) -> None:
    batched = run_batch(20_000, seed=77, backend=backend, **RULES[rule], **HORIZON)
    reference = reference_rule_successes(rule, n_runs, first_seed)
    z, p = two_proportion_z(batched.n_successes, batched.n_bandits, reference, n_runs)
    print(
        f"\n{rule} ({batched.backend}): reference {reference}/{n_runs} = {reference / n_runs:.3f}, batched "
        f"{batched.success_rate:.4f}; z = {z:.2f}, p = {p:.3f}; detects {power_shift(n_runs, 20_000):.3f} at power 0.8"
    )
    assert 0.3 < batched.success_rate < 0.85  # not saturated: the test has power
    assert p > ALPHA


def _reference_on_engine_stream(args):
    """Verdicts of the reference for bandits ``ids`` of ``run_batch(seed=77)``, driven by those
    bandits' own counter-based uniforms (inverse CDF from the reference's probabilities)."""
    rule, ids = args
    torch.set_num_threads(1)
    options = RULES[rule]
    batch = make_setup(max(ids) + 1, torch.arange(max(ids) + 1), **options).batch
    n_steps = HORIZON["n_episodes"] * HORIZON["steps_per_episode"]
    verdicts = []
    for i in ids:
        u = step_uniforms(77, torch.tensor([i]), 0, n_steps)[:, :, 0]  # (t, 2): arm, reward
        param, win, loss = batch.arm_param[i].float(), float(batch.hyper.win[i]), float(batch.hyper.loss[i])

        def draw(t, probs, u=u, param=param, win=win, loss=loss):
            cdf = torch.cumsum(probs, 0)
            arm = int((cdf[:-1] <= u[t, 0] * cdf[-1]).sum())
            return arm, win if u[t, 1] < param[arm] else loss

        kw = dict(**reference_options(options), **HORIZON)
        verdicts.append(bool(run_reference(draw=draw, **kw).success))
    return verdicts


@pytest.mark.slow
@pytest.mark.parametrize("rule", STATISTICAL)
def test_reference_on_the_engines_stream_gives_the_engines_verdicts(rule):
    """The whole 2 x 500-step run, bandit by bandit: the reference (autograd + torch.optim) fed the
    engine's random numbers reaches the engine's verdict for every one of 200 bandits (measured:
    200/200 for every rule and both engines; a rounding difference may in principle flip a path)."""
    ids = list(range(200))
    with ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("spawn")) as pool:
        halves = list(pool.map(_reference_on_engine_stream, [(rule, ids[0::2]), (rule, ids[1::2])]))
    reference = torch.zeros(200, dtype=torch.bool)
    reference[0::2], reference[1::2] = torch.tensor(halves[0]), torch.tensor(halves[1])
    need("cpu")
    for backend in ("torch", "cpu"):
        batched = run_batch(200, seed=77, backend=backend, **RULES[rule], **HORIZON)
        agree = int((batched.success == reference).sum())
        print(f"\n{rule} ({backend}): {agree}/200 verdicts equal the reference's on the engine's stream")
        assert agree >= 199


# Sutton & Barto's 10-armed testbed (section 2.8, figure 2.5): means ~ N(4, 1) per bandit, unit-variance
# Gaussian rewards, T = 1, lr = 0.1, with and without the mean baseline; P(best) after 250, 500, 1000 steps.
TESTBED = dict(temperature=1.0, lr=0.1, n_episodes=4, steps_per_episode=250)


def make_testbed_means(n: int, seed: int) -> torch.Tensor:
    return torch.randn(n, 10, generator=torch.Generator().manual_seed(seed), dtype=torch.float64) + 4.0


def _reference_testbed(args):
    baseline, seeds = args
    torch.set_num_threads(1)
    out = []
    for s in seeds:
        means = make_testbed_means(1, s)[0].tolist()
        result = run_reference(arms=means, reward_model="gaussian", baseline=baseline, seed=s, **TESTBED)
        out.append(result.episode_p_best.tolist())
    return out


def reference_testbed(baseline, n_runs: int) -> torch.Tensor:
    seeds = list(range(n_runs))
    with ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("spawn")) as pool:
        parts = pool.map(_reference_testbed, [(baseline, seeds[0::2]), (baseline, seeds[1::2])])
        return torch.tensor([row for part in parts for row in part], dtype=torch.float64)


@pytest.mark.parametrize("baseline", [None, "mean"])
def test_gaussian_testbed_p_best_equals_reference(baseline):
    """Mean P(best arm) after 250, 500 and 1,000 steps: 100 reference runs against 20,000 bandits,
    Welch z at alpha = 0.01 at each checkpoint (Bonferroni over 3); P(best) has s.d. ~0.3-0.45, so a
    shift of ~0.12 is detected with power 0.8 (the slow case, 800 runs: ~0.045)."""
    check_testbed(baseline, 100)


@pytest.mark.slow
@pytest.mark.parametrize("baseline", [None, "mean"])
def test_gaussian_testbed_p_best_equals_reference_high_power(baseline):
    check_testbed(baseline, 800)


def check_testbed(baseline, n_runs: int) -> None:
    from statistics import NormalDist

    reference = reference_testbed(baseline, n_runs)
    batched = run_batch(20_000, means=make_testbed_means(20_000, 99), baseline=baseline, seed=5, **TESTBED)
    ours = batched.episode_p_best.double()
    for episode, step in ((0, 250), (1, 500), (3, 1000)):
        a, b = ours[:, episode], reference[:, episode]
        z = (a.mean() - b.mean()) / (a.var() / a.numel() + b.var() / b.numel()).sqrt()
        p = 2 * (1 - NormalDist().cdf(abs(float(z))))
        print(
            f"\ntestbed baseline={baseline} step {step}: batched {a.mean():.4f}, reference {b.mean():.4f}, p = {p:.3f}"
        )
        assert p > ALPHA / 3
    assert 0.3 < float(ours[:, -1].mean()) < 0.95  # learning happened, not saturated
