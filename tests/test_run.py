import math

import pytest
import torch
from conftest import FAST_BACKENDS, need
from rules import first_bandits, options

from batched_bandit import run_batch
from batched_bandit.engines import resolve_backend
from batched_bandit.stats import wilson_interval


def test_result_shapes_and_verdict():
    res = run_batch(64, n_episodes=3, steps_per_episode=30, temperature=0.2)
    assert res.success.shape == (64,) and res.success.dtype == torch.bool
    assert res.episode_rewards.shape == (64, 3, 4) and res.episode_rewards.dtype == torch.int32
    assert res.weights.shape == res.final_probs.shape == (64, 4)
    assert res.episode_p_best.shape == (64, 3)
    # the seed's verdict: argmax of the last episode's sums, first index on ties, == argmin(arms)
    last = res.episode_rewards[:, -1].tolist()
    expected = [row.index(max(row)) == 3 for row in last]
    assert res.success.tolist() == expected
    assert res.success_rate == sum(expected) / 64
    assert res.success_ci == wilson_interval(sum(expected), 64)
    torch.testing.assert_close(res.final_probs, torch.softmax(res.weights / 0.2, dim=1))
    torch.testing.assert_close(res.final_probs[:, 3], res.episode_p_best[:, -1])
    assert res.backend == resolve_backend("auto", torch.device("cpu"), torch.float32)
    assert res.device == "cpu" and res.dtype == "float32"
    assert res.wall_time_s > 0 and math.isclose(res.bandit_steps_per_s, 64 * 90 / res.wall_time_s)


def test_ties_go_to_the_first_index():
    # all arms equal: every sum ties at 0 only if no pulls... use two identical best arms instead
    res = run_batch(200, arms=(-1.0, -1.0, 2.0), n_episodes=2, steps_per_episode=20, temperature=1.0)
    last = res.episode_rewards[:, -1]
    assert res.success.tolist() == (torch.argmax(last, dim=1) == 0).tolist()
    assert res.scalars()["arms"] == [-1.0, -1.0, 2.0]


def test_per_bandit_settings_apply_to_their_own_row():
    """Row g of a mixed batch equals bandit g of a run where everyone has g's scalar settings."""
    gen = torch.Generator().manual_seed(0)
    arms = torch.randn(5, 3, generator=gen)
    temperature = torch.tensor([0.05, 0.5, 5.0, 0.2, 2.0])
    lr = torch.tensor([0.01, 0.02, 0.03, 0.04, 0.05])
    kw = dict(n_episodes=2, steps_per_episode=100, seed=3)
    mixed = run_batch(5, arms=arms, temperature=temperature, lr=lr, **kw)
    for g in range(5):
        alone = run_batch(g + 1, arms=arms[g], temperature=float(temperature[g]), lr=float(lr[g]), **kw)
        assert torch.equal(alone.episode_rewards[g], mixed.episode_rewards[g])
        assert bool(alone.success[g]) == bool(mixed.success[g])
    assert mixed.scalars()["temperature"].startswith("per-bandit")
    assert mixed.scalars()["arms"] == "per-bandit (5 rows)"


def test_summary_for_one_bandit_speaks_like_the_seed():
    res = run_batch(1, n_episodes=3, steps_per_episode=40)
    text = res.summary()
    assert text.count("Episode ") == 3
    action = int(torch.argmax(res.episode_rewards[0, -1])) + 1
    assert f"The agent thinks action {action} is the most promising..." in text
    assert ("...and it was right!" in text) == bool(res.success[0])
    assert "success rate" in run_batch(10, n_episodes=1, steps_per_episode=5).summary()


def test_one_bandits_regret_interval_is_undefined_not_zero_wide():
    res = run_batch(1, n_episodes=2, steps_per_episode=40)
    scalars = res.scalars()
    assert scalars["regret_ci_low"] is None and scalars["regret_ci_high"] is None  # JSON null
    assert "(95% CI undefined for one bandit)" in res.summary()
    two = run_batch(2, n_episodes=2, steps_per_episode=40).scalars()
    assert two["regret_ci_low"] < two["mean_regret"] < two["regret_ci_high"]


def test_summary_for_one_bandit_without_recorded_episodes_prints_no_episode_lines():
    res = run_batch(1, n_episodes=3, steps_per_episode=40, record_episodes=False)
    text = res.summary()
    assert "Episode " not in text  # only the last episode's sums are kept: no per-episode printout
    action = int(torch.argmax(res.episode_rewards[0, -1])) + 1
    assert f"The agent thinks action {action} is the most promising..." in text


def test_scalars_report_the_final_episode():
    res = run_batch(300, n_episodes=3, steps_per_episode=100, temperature=0.1, lr=0.05, seed=2)
    first, final = (float(res.episode_p_best[:, e].double().mean()) for e in (0, -1))
    assert abs(final - first) > 0.01  # the episodes differ, so the test can tell them apart
    assert res.scalars()["mean_final_p_best"] == pytest.approx(final, rel=1e-12)


@pytest.mark.parametrize("backend", FAST_BACKENDS)
def test_a_run_that_overflows_past_the_checks_is_refused_not_returned(backend, monkeypatch):
    """The safety net behind the a-priori checks: with them switched off, T = 1e-30 sends w / T to
    infinity within a step, and the run says so instead of returning NaN weights."""
    from batched_bandit import run as run_module

    monkeypatch.setattr(run_module, "check_numerics", lambda *args: None)
    with pytest.raises(ValueError, match="the weights of bandit 0 overflowed"):
        run_batch(4, temperature=1e-30, n_episodes=1, steps_per_episode=5, seed=1, backend=backend)


# bandits, steps per episode and (n, chunk_size) runs compared with the first n bandits; interpreted
# Triton runs the whole loop once a chunk, slowly: fewer steps and chunks there
SIZES = {"triton": (40, 5, [(1, None), (19, 7)])}
SIZES |= dict.fromkeys(["torch", "cpu"], (600, 40, [(1, None), (19, None), (37, 5), (600, 99)]))


@pytest.mark.parametrize("backend", [*FAST_BACKENDS, "triton"])
@pytest.mark.parametrize("rule", ["sgd (the seed)", "adam weight_decay eps", "rmsprop centered momentum", "gaussian"])
def test_trajectory_independent_of_batch_size_and_chunking(rule, backend):
    """A bandit's run is a function of (seed, bandit id, step): the first n bandits of a batch, in
    any chunks (across the fused engines' SIMD blocks), are the run of n bandits."""
    need(backend)
    n_bandits, steps_per_episode, runs = SIZES[backend]
    steps = dict(n_episodes=3, steps_per_episode=steps_per_episode)
    resolved = options(rule, n_bandits)
    big = run_batch(n_bandits, seed=4, backend=backend, **steps, **resolved)
    for n, chunk in runs:
        small = run_batch(n, chunk_size=chunk, seed=4, backend=backend, **steps, **first_bandits(resolved, n))
        assert torch.equal(small.episode_rewards, big.episode_rewards[:n])
        assert torch.equal(small.weights, big.weights[:n])
        assert torch.equal(small.episode_p_best, big.episode_p_best[:n])


def test_proportions_never_print_an_inexact_value_as_0_or_1():
    from batched_bandit.result import format_proportions

    assert format_proportions(0.99999, 0.5, 0.0, 1.0) == ["0.99999", "0.50000", "0", "1"]  # not "1.0000"
    assert format_proportions(0.00004, 0.25) == ["0.00004", "0.25000"]  # not "0.0000"
    assert format_proportions(0.25, 0.75) == ["0.2500", "0.7500"]


def test_the_memory_check_counts_one_episode_when_episodes_are_not_recorded(monkeypatch):
    """1,000 bandits x 50 episodes x 4 arms in float32, one chunk: about 8.5 MB with every episode's
    sums (2,361 bytes of results per bandit: 800 of sums, 28 a bandit and episode for P(best), regret,
    reward and optimal pulls; 3x with the chunk in flight, + 1,408 working), 6.1 MB with the last
    one only (1,577 bytes). With 7 MB free the first is refused, the second runs."""
    from batched_bandit import memory

    monkeypatch.setattr(memory, "available_bytes", lambda device: 7_000_000)
    kw = dict(n_episodes=50, steps_per_episode=1, chunk_size=1000)
    with pytest.raises(
        ValueError, match=r"needs about 0\.00849 GB of cpu memory and 0\.007 GB are free: record_episodes=False"
    ):
        run_batch(1000, **kw)
    assert run_batch(1000, record_episodes=False, **kw).episode_rewards.shape == (1000, 1, 4)


def test_the_memory_check_counts_eight_bytes_a_number_in_float64(monkeypatch):
    """1,000 bandits x 50 episodes x 4 arms, one chunk: 8.5 MB in float32, 11.4 MB in float64 (3,193
    bytes of results per bandit, 3x with the chunk in flight, + 1,792 working). 10 MB free: float32
    runs, float64 is refused."""
    from batched_bandit import memory

    monkeypatch.setattr(memory, "available_bytes", lambda device: 10_000_000)
    kw = dict(n_episodes=50, steps_per_episode=1, chunk_size=1000)
    assert run_batch(1000, **kw).n_bandits == 1000
    with pytest.raises(ValueError, match=r"needs about 0\.0114 GB of cpu memory and 0\.01 GB are free"):
        run_batch(1000, dtype=torch.float64, **kw)


def test_float64_takes_the_portable_engine_without_a_warning(monkeypatch):
    """float64 is a choice, not an accident: "auto" picks the portable engine for it silently."""
    import warnings

    from batched_bandit import engines

    monkeypatch.setattr(engines, "_warned", set())
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert resolve_backend("auto", torch.device("cpu"), torch.float64) == "torch"


def test_the_largest_seed_is_accepted():
    top, below = (run_batch(4, n_episodes=1, steps_per_episode=20, seed=s) for s in (2**64 - 1, 2**64 - 2))
    assert top.seed == 2**64 - 1 and not torch.equal(top.episode_rewards, below.episode_rewards)


def test_progress_reaches_the_total():
    calls = []
    run_batch(30, n_episodes=2, steps_per_episode=100, chunk_size=16, progress=lambda d, t: calls.append((d, t)))
    assert calls[-1] == (30 * 200, 30 * 200)
    assert [d for d, _ in calls] == sorted(d for d, _ in calls)


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the error when CUDA is absent")
@pytest.mark.parametrize("device", ["cuda", "cuda:0"])
def test_cuda_asked_for_but_absent(device):
    with pytest.raises(ValueError, match="CUDA is not available"):
        run_batch(4, device=device)


@pytest.mark.parametrize(
    "options, shown",
    [
        (dict(momentum=0.99), "momentum 0.99"),  # 0.99 is alpha's default, not momentum's: 0.2 hid it
        (dict(optimizer="rmsprop", eps=0.99), "eps 0.99"),
        (dict(optimizer="adam", betas=(0.9, 0.99)), "beta2 0.99"),
        (dict(optimizer="rmsprop", alpha=0.9, centered=True), "centered, alpha 0.9"),
        (dict(baseline=("ema", 0.99)), "ema baseline (decay 0.99)"),
    ],
)
def test_summary_shows_every_value_that_differs_from_its_own_default(options, shown):
    res = run_batch(8, n_episodes=1, steps_per_episode=5, temperature=1.0, **options)
    assert shown in res.summary()


def test_summary_leaves_out_defaults_and_options_that_do_not_apply():
    rule = run_batch(8, n_episodes=1, steps_per_episode=5, optimizer="adam").summary().splitlines()[1]
    assert rule == "  adam lr 0.01, temperature 10.0, no baseline, rewards (win 1.0, loss -1.0), seed 0"
