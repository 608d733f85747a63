"""Every argument of run_batch: refused before any work with a message naming it, or accepted."""

import math

import pytest
import torch
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from batched_bandit import run_batch

NOT_BEFORE_WORK = dict(progress=lambda *_: pytest.fail("work started before the check"))

BAD = [
    # the run's own arguments
    (dict(n_bandits=0), ValueError, "n_bandits must be an integer >= 1"),
    (dict(n_bandits=2.5), ValueError, "n_bandits"),
    (dict(temperature=0.0), ValueError, "temperature must be finite and > 0"),
    (dict(temperature=-1.0), ValueError, "temperature"),
    (dict(temperature=float("inf")), ValueError, "temperature"),
    (dict(temperature=float("nan")), ValueError, "temperature"),
    (dict(lr=0), ValueError, "lr must be finite and > 0"),
    (dict(lr=float("nan")), ValueError, "lr"),
    (dict(temperature=torch.ones(3)), ValueError, r"temperature must be a number or a tensor of shape \(n_bandits,\)"),
    (dict(temperature=torch.tensor([1.0, -1.0, 1.0, 1.0])), ValueError, r"temperature must be finite.*bandit 1"),
    (dict(lr=torch.ones(4, 1)), ValueError, "lr must be a number or a tensor of shape"),
    (dict(temperature=1e-40), ValueError, r"temperature = 1e-40 underflows in float32: \|temperature\| must be in \["),
    (dict(lr=1e38, temperature=0.1), ValueError, "lr / temperature = 1e\\+39 overflows in float32"),
    (dict(arms=(0.5,)), ValueError, "arms must have at least 2 arms"),
    (dict(arms=(0.5, float("nan"))), ValueError, "arms must be finite"),
    (dict(arms=(0.5, float("inf"))), ValueError, "arms must be finite"),
    (dict(arms=torch.zeros(3, 2)), ValueError, r"arms must have shape \(K,\) or \(n_bandits, K\)"),
    (dict(arms="abc"), TypeError, "arms must be a sequence of numbers or a tensor, got 'abc'"),
    (dict(n_episodes=0), ValueError, "n_episodes must be an integer >= 1"),
    (dict(steps_per_episode=0), ValueError, "steps_per_episode must be an integer >= 1"),
    (dict(seed=-1), ValueError, r"seed must be an integer in \[0, 2\*\*64 - 1\]"),
    (dict(seed=2**64), ValueError, "seed"),
    (dict(device="tpu"), ValueError, "device must be"),
    (dict(device="gpu0"), ValueError, "device must be"),
    (dict(dtype=torch.float16), ValueError, "dtype must be torch.float32 or torch.float64"),
    (dict(chunk_size=0), ValueError, "chunk_size must be an integer >= 1"),
    (dict(record_episodes="yes"), TypeError, "record_episodes must be True or False"),
    # the problem and the rule
    (dict(temperature="1"), TypeError, "temperature must be a number or a tensor of shape"),
    (dict(temperature=1j), TypeError, "temperature must be real numbers, got complex"),
    (dict(arms=[1, 2j]), TypeError, "arms must be real numbers"),
    (dict(arms=[True, False]), TypeError, "arms must be a sequence of numbers or a tensor, got booleans"),
    (dict(arms=None, win_prob=(0.1, 0.2), means=(1, 2)), ValueError, "give one reward model"),
    (dict(win_prob=(0.5, 1.5)), ValueError, r"win_prob must be probabilities in \[0, 1\]"),
    (dict(means=(0.0, float("nan"))), ValueError, "means must be finite"),
    (dict(means=(0.0, 1e39)), ValueError, "means = 1e\\+39 overflows in float32"),
    (dict(reward_sd=-1.0), ValueError, "reward_sd must be finite and >= 0"),
    (dict(reward_values=(1.0,)), TypeError, r"reward_values must be a pair \(win, loss\)"),
    (dict(reward_values=(-1.0, 1.0)), ValueError, "win > loss"),
    (dict(reward_values=(1.0, float("-inf"))), ValueError, r"reward_values\[1\] \(loss\) must be finite"),
    (dict(optimizer="adamw"), ValueError, "optimizer must be one of 'sgd', 'adam', 'rmsprop'"),
    (dict(momentum=1.0), ValueError, r"momentum must be in \[0, 1\), got 1.0"),
    (dict(momentum=-0.1), ValueError, "momentum must be in"),
    (dict(dampening=1.5, momentum=0.5), ValueError, r"dampening must be in \[0, 1\]"),
    (dict(nesterov="yes"), TypeError, "nesterov must be True or False"),
    (dict(nesterov=True, momentum=0.9, dampening=0.1), ValueError, "nesterov requires momentum > 0 and dampening = 0"),
    (dict(weight_decay=-1.0), ValueError, "weight_decay must be finite and >= 0"),
    (dict(weight_decay=250.0), ValueError, "SGD diverges when lr \\* weight_decay >= 2"),
    (dict(optimizer="adam", betas=(0.9,)), TypeError, r"betas must be a pair"),
    (dict(optimizer="adam", betas=(1.0, 0.999)), ValueError, r"beta1 must be in \[0, 1\), got 1.0"),
    (dict(optimizer="adam", beta2=1.0), ValueError, r"beta2 must be in \[0, 1\), got 1.0"),
    (dict(optimizer="adam", betas=(0.9, 0.9), beta1=0.5), ValueError, r"give betas=\(beta1, beta2\) or beta1"),
    (dict(optimizer="adam", eps=0.0), ValueError, "eps must be finite and > 0"),
    (dict(optimizer="adam", eps=1e-50), ValueError, "eps = 1e-50 underflows in float32"),
    (dict(optimizer="rmsprop", alpha=1.0), ValueError, r"alpha must be in \[0, 1\)"),
    (dict(optimizer="sgd", betas=(0.5, 0.9)), ValueError, "betas is not an option of optimizer 'sgd'"),
    (dict(optimizer="sgd", betas=(0.9, 0.9)), ValueError, "betas is not an option of optimizer 'sgd'"),  # beta2 only
    (dict(optimizer="adam", centered=True), ValueError, "centered is not an option of optimizer 'adam'"),
    (dict(optimizer="sgd", eps=1e-3), ValueError, "eps is not an option of optimizer 'sgd'"),
    (dict(baseline="median"), ValueError, "baseline must be one of 'none', 'mean', 'ema', got 'median'"),
    (dict(baseline=("ema", 1.0)), ValueError, r"baseline_decay must be in \[0, 1\)"),
    (dict(baseline="ema"), ValueError, "baseline_decay is required with baseline ema"),
    (dict(baseline_decay=0.5), ValueError, "baseline_decay is not an option of baseline 'none'"),
    (dict(reward_sd=2.0), ValueError, r"reward_sd is not an option of model 'threshold' \(it applies with model"),
    (dict(means=(0.0, 1.0), reward_values=(2.0, 0.0)), ValueError, "reward_values is not an option of model"),
    (dict(means=(0.0, 1.0), reward_values=(1.0, 0.0)), ValueError, "reward_values is not an option of model"),
    (dict(init_weights=(1.0, 2.0)), ValueError, "init_weights must have one weight per arm: K = 4, got 2"),
    (dict(init_weights=float("inf")), ValueError, "init_weights must be finite"),
    (dict(init_weights="0"), TypeError, "init_weights must be a number"),
    (dict(temperature=1e-30), ValueError, "temperature 1e-30 is too small for lr 0.01"),
    (dict(temperature=1e-30, optimizer="adam"), ValueError, "the squared gradient .* would overflow float32"),
    (dict(momentum=0.9, weight_decay=100.0, lr=0.1), ValueError, "SGD diverges when lr \\* weight_decay >= 3.8"),
    (dict(lr=1e-300), ValueError, "lr = 1e-300 underflows in float32"),
    (dict(arms=(0.0, 1e300)), ValueError, "arms = 1e\\+300 overflows in float32"),
    (dict(steps_per_episode=2**25), ValueError, "steps_per_episode x the largest |reward| must be <= 16777216"),
    (dict(n_bandits=10**12), ValueError, "this run needs about"),
    # issue 15: every number as the run's dtype holds it, every count as the engines count it
    (dict(reward_values=(1e-46, 0.0)), ValueError, r"\(win 1e-46, loss 0.0\) round to the same float32 value 0.0"),
    (dict(reward_values=(1.0 + 1e-9, 1.0)), ValueError, "round to the same float32 value 1.0"),
    (dict(momentum=1 - 1e-9), ValueError, r"momentum = 0.999999999 rounds to 1 in float32: .* \[0, 0.99999994"),
    (dict(optimizer="adam", betas=(0.9, 1 - 1e-9)), ValueError, "beta2 = 0.999999999 rounds to 1"),
    (dict(optimizer="rmsprop", alpha=1 - 1e-9), ValueError, "alpha = 0.999999999 rounds to 1 in float32"),
    (dict(baseline=("ema", 1 - 1e-9)), ValueError, "baseline_decay = 0.999999999 rounds to 1 in float32"),
    (dict(steps_per_episode=2**31), ValueError, r"steps_per_episode must be an integer in \[1, 2,147,483,647\]"),
    (dict(steps_per_episode=1e20), ValueError, r"steps_per_episode must be an integer in \[1, 2,147,483,647\]"),
    (dict(n_bandits=1e20), ValueError, "n_bandits x n_episodes x steps_per_episode must be at most 9,223,372,036,"),
    (dict(n_bandits=2**40, n_episodes=2**20, steps_per_episode=2**3), ValueError, "must be at most 9,223,372,036,"),
    (
        dict(steps_per_episode=10**9, reward_values=(3.0, -1.0), dtype=torch.float64),
        ValueError,
        r"steps_per_episode x the largest \|reward\| must be <= 2147483647 in float64, .* returned as int32",
    ),
    (dict(optimiser="adam"), TypeError, "unknown option 'optimiser'"),
]


@pytest.mark.parametrize("kwargs, error, message", BAD)
def test_bad_options_are_refused_before_any_work(kwargs, error, message):
    kwargs = {"n_bandits": 4, "n_episodes": 1, "steps_per_episode": 3, **kwargs}
    with pytest.raises(error, match=message):
        run_batch(**kwargs, **NOT_BEFORE_WORK)


def test_a_baseline_doubles_the_advantage_in_the_overflow_bound():
    """SGD's bound on |w / T| after n steps is n lr A / T**2, A the largest |advantage|: |r| without a
    baseline, up to 2 |r| with one (|r - b| <= |r| + |b|). At this T, 3 steps give 0.75e37 without,
    allowed, and 1.5e37 with a baseline, refused (float32's limit: 1e37)."""
    kw = dict(n_episodes=1, steps_per_episode=3, lr=0.01, temperature=(3 * 0.01 / 0.75e37) ** 0.5)
    assert run_batch(2, **kw).n_bandits == 2
    with pytest.raises(ValueError, match="is too small for lr 0.01 over 3 steps"):
        run_batch(2, baseline="mean", **kw, **NOT_BEFORE_WORK)


def test_momentum_multiplies_the_step_in_the_overflow_bound():
    """With momentum m, SGD's steps add up to lr G / (1 - m) each: at m = 0.9 the bound on |w / T|
    is 10 times the plain one, 5e37 here (refused) against 0.5e37 (allowed)."""
    kw = dict(n_episodes=1, steps_per_episode=3, lr=0.01, temperature=(3 * 0.01 / 0.5e37) ** 0.5)
    assert run_batch(2, **kw).n_bandits == 2
    with pytest.raises(ValueError, match="is too small for lr 0.01 over 3 steps"):
        run_batch(2, momentum=0.9, **kw, **NOT_BEFORE_WORK)


def test_sure_and_hopeless_arms_are_accepted():
    """P(win) = 1 and P(win) = 0 are probabilities: the one arm always pays, the other never does."""
    res = run_batch(50, win_prob=(1.0, 0.0), n_episodes=1, steps_per_episode=40, temperature=1.0, lr=0.05, seed=3)
    sums = res.episode_rewards[:, -1]  # reward values (1, -1)
    assert bool((sums[:, 0] >= 0).all()) and bool((sums[:, 1] <= 0).all())
    assert sums.abs().sum(dim=1).tolist() == [40.0] * 50


def test_per_bandit_options_take_tensors_and_report_the_bandit():
    with pytest.raises(ValueError, match=r"momentum must be in \[0, 1\), got 1.0 \(bandit 2\)"):
        run_batch(3, momentum=torch.tensor([0.0, 0.5, 1.0]), **NOT_BEFORE_WORK)
    with pytest.raises(ValueError, match=r"lr must be a number or a tensor of shape \(n_bandits,\) = \(3,\)"):
        run_batch(3, lr=torch.ones(2), **NOT_BEFORE_WORK)


def test_float64_accepts_what_float32_cannot_hold():
    out = run_batch(4, temperature=1e-20, lr=1e-3, n_episodes=1, steps_per_episode=50, dtype=torch.float64)
    assert torch.isfinite(out.weights).all() and out.options["optimizer"] == "sgd"
    tiny = run_batch(4, reward_values=(1e-46, 0.0), momentum=1 - 1e-9, n_episodes=1, steps_per_episode=50,
                     dtype=torch.float64)  # fmt: skip
    assert float(tiny.episode_rewards.max()) > 0  # float64 holds win > loss: rewards are not all equal


def test_the_largest_counts_are_accepted():
    """The limits are the engines' own, not tighter: 2**31 - 1 steps an episode, 2**63 - 1 bandit-steps."""

    class Started(Exception):
        pass

    def started(*_):
        raise Started

    setup = dict(n_episodes=1, record_episodes=False, means=(0.0, 1.0), backend="torch")
    with pytest.raises(Started):  # the longest episode: past every check, stopped at the first progress report
        run_batch(1, steps_per_episode=2**31 - 1, progress=started, **setup)
    with pytest.raises(ValueError, match="this run needs about"):  # 2**32 bandits: only memory says no
        run_batch(2**32, steps_per_episode=2**31 - 1, progress=started, **setup)


def test_extremes_that_are_accepted_give_finite_results():
    """The checks' bound is sufficient, not loose: just above it the runs are finite."""
    for options in (dict(temperature=1e-15), dict(temperature=1e-17, optimizer="adam"),
                    dict(temperature=1e-3, lr=5.0, optimizer="rmsprop", centered=True, momentum=0.5),
                    dict(temperature=1e30, lr=1e-30), dict(weight_decay=199.0, lr=0.01)):  # fmt: skip
        out = run_batch(50, n_episodes=2, steps_per_episode=100, **options)
        assert torch.isfinite(out.weights).all() and torch.isfinite(out.episode_p_best).all(), options
        assert torch.isfinite(out.final_probs).all() and torch.allclose(out.final_probs.sum(1), torch.ones(50))


reals = st.floats(allow_nan=True, allow_infinity=True)  # anything, rarely valid
positive = st.floats(min_value=-44, max_value=44).map(lambda x: 10.0**x)  # log-uniform, past float32's range
unit = st.floats(min_value=-0.5, max_value=1.5)
sane = st.floats(min_value=-10, max_value=10)


@st.composite
def run_options(draw):
    k = draw(st.integers(2, 5))
    often = lambda good: st.one_of(*[good] * 8, reals)  # noqa: E731  mostly plausible, sometimes anything
    options = dict(
        temperature=draw(often(positive)), lr=draw(often(positive)),
        optimizer=draw(st.sampled_from(["sgd", "adam", "rmsprop"])),
    )  # fmt: skip
    model = draw(st.sampled_from(["arms", "win_prob", "means"]))
    options[model] = draw(st.lists(often(unit if model == "win_prob" else sane), min_size=k, max_size=k))
    if draw(st.booleans()):
        options["baseline"] = draw(st.sampled_from([None, "mean", ("ema", 0.5), ("ema", 1.5)]))
    if draw(st.booleans()):
        options["init_weights"] = draw(often(st.floats(-1e3, 1e3)))
    if draw(st.booleans()):
        options["reward_values"] = (draw(often(sane)), draw(often(sane)))
    if options["optimizer"] != "adam" and draw(st.booleans()):
        options["momentum"] = draw(often(unit))
    if draw(st.booleans()):
        options["weight_decay"] = draw(often(st.floats(0, 1e3)))
    return options


PROPERTY = dict(derandomize=True, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@settings(max_examples=150, **PROPERTY)
@given(options=run_options(), n_bandits=st.integers(1, 9), steps=st.integers(1, 7))
def test_any_input_is_refused_or_gives_finite_normalized_results(options, n_bandits, steps):
    check_any_input(options, n_bandits, steps)


@pytest.mark.slow
@settings(max_examples=3000, **PROPERTY)
@given(options=run_options(), n_bandits=st.integers(1, 9), steps=st.integers(1, 40))
def test_any_input_many_more_examples(options, n_bandits, steps):
    check_any_input(options, n_bandits, steps)


def check_any_input(options, n_bandits, steps):
    started = []
    try:
        out = run_batch(n_bandits, n_episodes=2, steps_per_episode=steps, backend="torch",
                        progress=lambda done, total: started.append(done), **options)  # fmt: skip
    except (ValueError, TypeError):
        assert not started  # refused before any work
        event("refused")
        return
    event("accepted")
    k = out.arms.shape[1]
    assert out.episode_rewards.shape == (n_bandits, 2, k) and out.weights.shape == (n_bandits, k)
    assert torch.isfinite(out.weights).all() and torch.isfinite(out.episode_p_best).all()
    assert torch.isfinite(out.episode_rewards.double()).all() and torch.isfinite(out.episode_regret).all()
    torch.testing.assert_close(out.final_probs.sum(dim=1), torch.ones(n_bandits), rtol=0, atol=1e-5)
    assert ((out.episode_p_best >= 0) & (out.episode_p_best <= 1)).all()
    assert (out.episode_regret >= -1e-9).all() and 0 <= out.success_rate <= 1
    assert math.isfinite(out.scalars()["mean_regret"])


def test_a_chunk_larger_than_the_triton_kernel_indexes_is_refused(monkeypatch):
    from batched_bandit import checks
    from batched_bandit.engines import unavailable_reason

    if unavailable_reason("triton", torch.device("cpu"), torch.float32) is not None:
        pytest.skip("triton cannot run here")
    monkeypatch.setitem(checks.MAX_CHUNK, "triton", 100)  # 2**31 - 1024 bandits would not fit in memory here
    with pytest.raises(ValueError, match="chunk_size must be at most 100 with backend 'triton'"):
        run_batch(200, backend="triton", chunk_size=150, **NOT_BEFORE_WORK)
    with pytest.raises(ValueError, match="chunk_size must be at most 100"):  # the engine's own chunks: its limit too
        run_batch(101, backend="triton", chunk_size=10**6, **NOT_BEFORE_WORK)
    assert run_batch(101, backend="torch", chunk_size=150, n_episodes=1, steps_per_episode=2).n_bandits == 101
