"""The trace every ``record_every`` steps (state.Outcome): the fused engines' against the portable
engine's for every rule of the shared table (tests/test_rules.py), at points inside episodes, at
their ends and across them; and what every engine's trace must satisfy, whatever the rule.

The portable engine is the reference: the fused engines take the same path (arms and rewards) up
to rounding at a sampling boundary, so on the bandits whose per-arm sums agree in every episode the
trace's integers and verdicts agree exactly, and its floats to the tolerances measured here. The
Triton kernel runs under its interpreter without CUDA (slow: few bandits, short runs).
"""

import pytest
import torch
from conftest import need
from rules import ENGINE_CASES, options

from batched_bandit import engines, run_batch
from batched_bandit.options import make_setup
from batched_bandit.run import TRACE_FIELDS
from batched_bandit.state import Rule

CPU = torch.device("cpu")
FUSED = ["cpu", "triton"]
SAME_PATH = 0.99  # least fraction of bandits whose every episode's per-arm sums agree with the portable engine's
# Measured over the rule table (12 bandits x 51 steps, a point every 5) and the shapes below (48
# bandits): every bandit takes the portable engine's path; optimal pulls and verdicts are equal; so
# are regret and reward at K = 2 and 4 with binary rewards, but regret differs by up to 4.8e-7 at
# K = 5 and 9.5e-7 at K = 16 (the portable engine's sum over arms), and Gaussian rewards by 9.5e-7 on
# Triton (the normal deviate's log); |d P(best)| <= 3e-7 (exp; steeper settings, lr / T^2 ~ 5, give
# 1e-5, as the episodes' P(best) in test_cpu_engine). The tolerances are ~2x the measured.
P_BEST_ATOL = 8e-7
REGRET_ATOL = 2e-6
GAUSSIAN_REWARD_ATOL = 2e-6  # a trace interval's rewards (the rule table's intervals: 5 steps)
GAUSSIAN_SUMS_ATOL = 1e-4  # per-arm sums of an episode that took the same path (17 steps)


def simulate(backend: str, batch, **kw):
    """``backend``'s Outcome of ``batch`` on the CPU (the interpreter for Triton), or a skip saying why not."""
    need(backend, CPU, batch.n_arms, batch.rule)  # a skip, or a failure under BATCHED_BANDIT_REQUIRE
    return engines.get(backend)(batch, **kw)


def assert_trace_matches(fused, portable, gaussian: bool) -> None:
    """On the bandits that took the portable engine's path (at least SAME_PATH of them): integers and
    verdicts equal, floats within the measured tolerances."""
    same = (fused.episode_rewards - portable.episode_rewards).abs() <= (GAUSSIAN_SUMS_ATOL if gaussian else 0.0)
    same = same.flatten(1).all(dim=1)
    assert same.double().mean() >= SAME_PATH, f"{int((~same).sum())} bandits left the portable engine's path"
    f, p = ({name: getattr(out, name)[same] for name in TRACE_FIELDS} for out in (fused, portable))
    assert f["trace_p_best"].shape == p["trace_p_best"].shape and f["trace_p_best"].shape[1] > 0
    assert torch.equal(f["trace_optimal"], p["trace_optimal"])
    assert torch.equal(f["trace_success"], p["trace_success"])
    torch.testing.assert_close(f["trace_p_best"], p["trace_p_best"], rtol=0, atol=P_BEST_ATOL)
    torch.testing.assert_close(f["trace_regret"], p["trace_regret"], rtol=0, atol=REGRET_ATOL)
    reward_atol = GAUSSIAN_REWARD_ATOL if gaussian else 0.0
    torch.testing.assert_close(f["trace_reward"], p["trace_reward"], rtol=0, atol=reward_atol)


# 3 episodes of 17 steps, a point every 5: points inside episodes, and intervals across their ends
RULE_RUN = dict(seed=21, n_episodes=3, steps_per_episode=17, record_every=5)


@pytest.mark.parametrize("backend", FUSED)
@pytest.mark.parametrize("rule", ENGINE_CASES)
def test_every_rule_traces_as_the_portable_engine(rule, backend):
    batch = make_setup(12, torch.arange(12), **options(rule, 12)).batch
    fused, portable = simulate(backend, batch, **RULE_RUN), simulate("torch", batch, **RULE_RUN)
    assert fused.trace_p_best.shape == (12, 10)
    assert_trace_matches(fused, portable, gaussian=batch.rule.rewards == "gaussian")
    assert 0 < int(fused.trace_success.sum()) < fused.trace_success.numel()  # verdicts of both kinds


N_BANDITS = 48
# two best arms (gap 0): both count as optimal, the verdict takes the first; every arm loses more often
# than it wins, so the sums are mostly below 0 (the Triton kernel's padded arms, at 0, must not win)
TIED = (1.0, 0.4, 0.8, 0.4, 1.2)
# (arms, n_episodes, steps_per_episode, record_every, record_episodes): steps_per_episode odd where the
# Triton kernel's pairs of steps straddle episodes
SHAPES = {
    "K = 4, points at the episodes' ends": ((0.3, 0.0, -0.4, -1.0), 3, 10, 5, True),
    "K = 4, N = 1, odd episodes": ((0.3, 0.0, -0.4, -1.0), 2, 9, 1, True),
    "K = 4, N > the episode, odd episodes": ((0.3, 0.0, -0.4, -1.0), 5, 7, 10, True),
    "K = 2, N does not divide the episode": ((0.3, -0.2), 3, 11, 4, True),
    "K = 5 with tied best arms, last episode only": (TIED, 4, 10, 3, False),
    "K = 16": (tuple(torch.linspace(1.0, -1.0, 16).tolist()), 2, 13, 6, True),
}


@pytest.mark.parametrize("backend", FUSED)
@pytest.mark.parametrize("shape", list(SHAPES))
def test_trace_points_inside_at_and_across_episode_ends(shape, backend):
    arms, n_episodes, steps, every, record_episodes = SHAPES[shape]
    temperature = torch.logspace(-0.5, 0.5, N_BANDITS)
    batch = make_setup(N_BANDITS, torch.arange(N_BANDITS), arms=arms, temperature=temperature, lr=0.05).batch
    kw = dict(seed=5, n_episodes=n_episodes, steps_per_episode=steps, record_every=every,
              record_episodes=record_episodes)  # fmt: skip
    fused, portable = simulate(backend, batch, **kw), simulate("torch", batch, **kw)
    assert fused.trace_p_best.shape == (N_BANDITS, n_episodes * steps // every)
    if not record_episodes:  # the last episode's sums only: the path checked by the trace's own rewards
        assert fused.episode_rewards.shape == (N_BANDITS, 1, len(arms))
    assert_trace_matches(fused, portable, gaussian=False)


# every step, every 4 steps (the episodes' ends among them), 9 (only the run's end) and once for the run
@pytest.mark.parametrize("every", [1, 4, 9, 36])
@pytest.mark.parametrize("backend", ["torch", *FUSED])
def test_the_trace_adds_up_to_the_episodes(backend, every):
    """The intervals partition the run (3 episodes of 12 steps): their regret, reward and optimal pulls
    add up to the episodes' (regret to float32 rounding); a point at an episode's end has that
    episode's P(best) and verdict (the argmax of its sums, first on ties, is the first best arm)."""
    temperature = torch.logspace(-1.3, 0.5, 24)
    batch = make_setup(24, torch.arange(24), arms=TIED, temperature=temperature, lr=0.1, baseline="mean").batch
    assert batch.best_arm.tolist() == [1] * 24
    out = simulate(backend, batch, seed=3, n_episodes=3, steps_per_episode=12, record_every=every)
    steps, n_points = 12, 36 // every
    assert out.trace_p_best.shape == (24, n_points)
    regret_total = out.episode_regret.double().sum(dim=1)
    assert regret_total.min() > 0  # every bandit pulled a worse arm
    # measured: relative |d| <= 1.1e-7 (float32 sums over different intervals)
    torch.testing.assert_close(out.trace_regret.double().sum(dim=1), regret_total, rtol=3e-7, atol=0)
    torch.testing.assert_close(out.trace_reward.double().sum(dim=1), out.episode_reward.double().sum(dim=1))
    optimal = out.trace_optimal.sum(dim=1)
    assert torch.equal(optimal, out.episode_optimal.sum(dim=1))
    assert ((out.trace_optimal >= 0) & (out.trace_optimal <= every)).all() and (optimal <= 36).all()
    if every == 1:  # a step pulls a best arm exactly when it costs no regret
        assert torch.equal(out.trace_optimal == 1, out.trace_regret == 0)
        assert 0 < int(out.trace_optimal.sum()) < out.trace_optimal.numel()
    for point in range(n_points):
        step = (point + 1) * every
        if step % steps == 0:
            episode = step // steps - 1
            sums = out.episode_rewards[:, episode]
            verdict = torch.tensor([row.index(max(row)) == 1 for row in sums.tolist()])  # first of the top sums
            assert torch.equal(out.trace_success[:, point], verdict)
            assert torch.equal(out.trace_p_best[:, point], out.episode_p_best[:, episode])


def test_run_batch_traces_on_the_fused_engine():
    """A traced run is no reason to leave the fused engine. Its Trace has a point every record_every
    steps: regret cumulative, reward and optimal pulls per step of each interval; its last point (the
    run's end) agrees with the episodes'; chunks (the last one a partial SIMD block) change nothing."""
    reason = engines.unavailable_reason("cpu", CPU, torch.float32, trace=True)
    if reason is not None:
        pytest.skip(reason)
    kw = dict(n_episodes=2, steps_per_episode=30, record_every=20, temperature=0.3, seed=1)
    result = run_batch(40, **kw)
    trace = result.trace
    assert result.backend == "cpu"
    assert trace.steps.tolist() == [20, 40, 60] and trace.p_best.shape == (40, 3)
    assert (trace.regret.diff(dim=1) >= 0).all() and (trace.regret[:, -1] > 0).any()
    torch.testing.assert_close(trace.regret[:, -1], result.episode_regret[:, -1], rtol=1e-6, atol=0)
    torch.testing.assert_close((trace.reward * 20).sum(dim=1), result.episode_reward.sum(dim=1))
    optimal = (trace.optimal_action * 20).round().long()
    assert ((optimal >= 0) & (optimal <= 20)).all()
    assert torch.equal(optimal.sum(dim=1), result.episode_optimal.sum(dim=1))
    assert torch.equal(trace.p_best[:, -1], result.episode_p_best[:, -1])
    assert torch.equal(trace.success[:, -1], result.success)
    chunked = run_batch(40, **kw, chunk_size=24).trace
    for name in ("p_best", "regret", "reward", "optimal_action", "success"):
        assert torch.equal(getattr(chunked, name), getattr(trace, name)), name


OTHER_POLICY = dict(policy="ucb", ucb_c=2.0, n_episodes=1, steps_per_episode=40, seed=3)


@pytest.mark.parametrize("backend", FUSED)
def test_a_fused_engine_refuses_to_trace_the_other_policies(backend):
    """The fused engines trace only the gradient policy: a traced run of another policy on an
    explicit fused backend says so in one line."""
    need(backend, CPU, 4, Rule(policy="ucb"))
    with pytest.raises(ValueError, match=r" traces only the gradient policy, not 'ucb' \(record_every\)"):
        run_batch(16, **OTHER_POLICY, record_every=10, backend=backend)


def test_auto_traces_the_other_policies_on_the_portable_engine(monkeypatch):
    """On "auto" a traced run of another policy warns and runs the portable engine, whose trace ends
    where the fused engine's untraced run does: the same path."""
    monkeypatch.setattr(engines, "_warned", set())  # the warning is given once a process
    with pytest.warns(engines.SlowerEngineWarning, match="traces only the gradient policy, not 'ucb'"):
        traced = run_batch(16, **OTHER_POLICY, record_every=10)
    assert traced.backend == "torch" and traced.trace.steps.tolist() == [10, 20, 30, 40]
    untraced = run_batch(16, **OTHER_POLICY)
    assert untraced.backend != "torch" or engines.unavailable_reason("cpu", CPU, torch.float32) is not None
    torch.testing.assert_close(traced.trace.regret[:, -1], untraced.episode_regret[:, -1], rtol=1e-6, atol=0)
    assert torch.equal(traced.episode_optimal, untraced.episode_optimal)
    assert torch.equal(traced.success, untraced.success)
