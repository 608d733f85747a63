"""The field's baselines (ε-greedy, greedy, UCB, Thompson sampling) on the fused CPU engine
(value_kernel.c) against the portable engine: the same arms and rewards step by step, the same
estimates and probabilities, whatever the batch, its chunks, the threads or the instruction set.

Measured (every setting below, and 2,000 bandits x 300 one-step episodes of each policy, greedy with
and without a constant step and UCB with c = 0 and 2, on 10-armed testbed problems and on Bernoulli
arms; Thompson sampling's P(best) from 2 draws there): every bandit took the portable engine's arms
and rewards, and estimates, P(best), final probabilities and regrets were bit-identical. The
tolerances below leave room for the last bit of a log (the C library's, fdlibm's) at a float32
rounding boundary only."""

import ctypes
import math
import warnings

import numpy as np
import pytest
import torch

from batched_bandit import run_batch
from batched_bandit.engines import SlowerEngineWarning, cpu_build, cpu_engine, resolve_backend, torch_engine
from batched_bandit.options import make_setup
from batched_bandit.policies import thompson
from batched_bandit.rng import to_normal
from batched_bandit.state import Rule

pytestmark = pytest.mark.skipif(
    cpu_engine.unavailable_reason(torch.device("cpu")) is not None, reason="no C compiler for the fused CPU engine"
)

SEED_ARMS = (0.2, 0.0, -0.2, -1.0)  # threshold model, binary rewards (1, -1)
BERNOULLI = dict(win_prob=(0.2, 0.5, 0.55, 0.7), reward_values=(1.0, 0.0))
TESTBED = dict(means=(0.3, -0.8, 1.2, 0.1, -0.2, 0.9, -1.5, 0.6, 1.1, -0.4))  # K = 10
WIDE = dict(means=tuple(np.linspace(-1.0, 1.0, 16)), reward_sd=2.0)  # K = 16
B = 70  # four blocks of 16 lanes, the last one partial (and nine of 8 in the generic build)

# name -> (run_batch options): every policy, K = 2, 3, 4, 10, 16 (the specialised loops and the
# generic one), binary and Gaussian rewards, sample averages and constant steps, optimistic initial
# values, UCB's c = 0 and 2, per-bandit parameters, and ties (binary rewards, estimates from 0)
SETTINGS = {
    "epsilon_greedy, seed arms": dict(policy="epsilon_greedy", epsilon=0.1),
    "epsilon_greedy, testbed, per-bandit epsilon": dict(
        policy="epsilon_greedy", epsilon=torch.linspace(0, 0.5, B), **TESTBED
    ),  # fmt: skip
    "greedy, two arms, ties": dict(policy="greedy", arms=(0.1, -0.1)),
    "greedy, optimistic, testbed": dict(policy="greedy", initial_value=5.0, **TESTBED),
    "greedy, optimistic, constant step, K = 16": dict(policy="greedy", initial_value=3.0, step_size=0.1, **WIDE),
    "greedy, constant step, Bernoulli": dict(policy="greedy", step_size=torch.linspace(0.05, 1.0, B), **BERNOULLI),
    "ucb c = 2, testbed": dict(policy="ucb", ucb_c=2.0, **TESTBED),
    "ucb c = 0, seed arms": dict(policy="ucb", ucb_c=0.0),
    "ucb per-bandit c, three arms": dict(policy="ucb", ucb_c=torch.linspace(0, 3, B), arms=(0.3, 0.0, -0.5)),
    "thompson, Bernoulli": dict(policy="thompson", **BERNOULLI),
    "thompson, seed arms": dict(policy="thompson"),
    "thompson, testbed, prior": dict(policy="thompson", prior_mean=0.5, prior_sd=2.0, reward_sd=0.5, **TESTBED),
    "thompson, five arms": dict(policy="thompson", means=(0.0, 0.1, 0.2, 0.3, 0.4)),
}


@pytest.fixture
def cheap_p_best(monkeypatch):
    """Thompson sampling's P(best) from 2 posterior draws instead of 32 in both engines (their own
    build of the kernel): one-step episodes then cost the portable engine 3 samples a step, not 33."""
    monkeypatch.setattr(thompson, "P_BEST_DRAWS", 2)
    monkeypatch.setattr(cpu_build, "P_BEST_DRAWS", 2)
    for name in ("_kernels", "_failures", "_paths"):
        monkeypatch.setattr(cpu_build, name, {})


def both(n_bandits, **kw):
    return run_batch(n_bandits, backend="cpu", **kw), run_batch(n_bandits, backend="torch", **kw)


def assert_same_trajectories(fused, portable, min_share=0.99):
    """One step per episode: each episode's per-arm sums are the step's arm and reward. On the bandits
    whose every step is the same, the estimates, P(best) and regrets agree too."""
    same = (fused.episode_rewards == portable.episode_rewards).flatten(1).all(dim=1)
    assert same.double().mean() >= min_share
    torch.testing.assert_close(fused.weights[same], portable.weights[same], rtol=0, atol=1e-6)
    torch.testing.assert_close(fused.final_probs[same], portable.final_probs[same], rtol=0, atol=1e-6)
    torch.testing.assert_close(fused.episode_p_best[same], portable.episode_p_best[same], rtol=0, atol=1e-6)
    torch.testing.assert_close(fused.episode_regret[same], portable.episode_regret[same], rtol=0, atol=0)
    assert torch.equal(fused.episode_optimal[same], portable.episode_optimal[same])
    return same


@pytest.mark.parametrize("setting", list(SETTINGS))
def test_every_step_is_the_portable_engines(setting, cheap_p_best):
    """Arms and rewards of every step (one step per episode), then estimates and probabilities."""
    options = SETTINGS[setting]
    n_episodes = 60 if options["policy"] == "thompson" else 200
    fused, portable = both(B, n_episodes=n_episodes, steps_per_episode=1, seed=8, **options)
    assert fused.backend == "cpu" and portable.backend == "torch"
    assert fused.final_probs.shape == (B, fused.episode_rewards.shape[2])
    assert_same_trajectories(fused, portable)


@pytest.mark.parametrize("policy", ["epsilon_greedy", "greedy", "ucb", "thompson"])
@pytest.mark.parametrize("arms", [dict(arms=SEED_ARMS), TESTBED], ids=["binary", "gaussian"])
def test_episodes_and_the_final_policy_equal_the_portable_engines(policy, arms):
    """Longer episodes, Thompson sampling's full 32 posterior draws for P(best): per-episode sums,
    rewards, optimal pulls, P(best), estimates and final probabilities."""
    options = dict(initial_value=2.0) if policy == "greedy" else {}
    fused, portable = both(40, n_episodes=3, steps_per_episode=37, seed=5, policy=policy, **arms, **options)
    assert torch.equal(fused.episode_rewards, portable.episode_rewards)
    assert torch.equal(fused.episode_optimal, portable.episode_optimal)
    # the kernel adds the per-arm sums (and regrets) in arm order; torch's sum over arms does for K <= 4
    # only (for more arms its order depends on the bandit's column: the batch's last B mod 32 differ)
    torch.testing.assert_close(fused.episode_reward, portable.episode_reward, rtol=1e-6, atol=0)
    torch.testing.assert_close(fused.episode_regret, portable.episode_regret, rtol=1e-6, atol=0)
    torch.testing.assert_close(fused.weights, portable.weights, rtol=0, atol=1e-6)
    torch.testing.assert_close(fused.final_probs, portable.final_probs, rtol=0, atol=1e-6)
    torch.testing.assert_close(fused.episode_p_best, portable.episode_p_best, rtol=0, atol=1e-6)
    torch.testing.assert_close(fused.final_probs.sum(dim=1), torch.ones(40), rtol=0, atol=1e-6)


INVARIANCE = ["epsilon_greedy, testbed, per-bandit epsilon", "greedy, two arms, ties", "ucb c = 2, testbed",
              "thompson, Bernoulli", "thompson, testbed, prior"]  # fmt: skip


def fields(result):
    return (result.episode_rewards, result.weights, result.final_probs, result.episode_p_best, result.episode_optimal)


@pytest.mark.parametrize("setting", INVARIANCE)
def test_trajectories_do_not_depend_on_batch_chunks_or_threads(setting, monkeypatch):
    """A bandit's numbers are a function of (seed, its id, its settings): the same in any batch size,
    chunking, thread count, and with record_episodes=False."""
    options = {k: v[:40] if isinstance(v, torch.Tensor) else v for k, v in SETTINGS[setting].items()}
    kw = dict(n_episodes=3, steps_per_episode=29, seed=4, backend="cpu")
    big = run_batch(40, **kw, **options)
    for n, chunk in [(1, None), (17, None), (40, 7)]:
        small = run_batch(n, chunk_size=chunk, **kw, **{k: v[:n] if isinstance(v, torch.Tensor) else v
                                                         for k, v in options.items()})  # fmt: skip
        for a, b in zip(fields(small), fields(big)):
            assert torch.equal(a, b[:n])
    monkeypatch.setattr(cpu_engine.torch, "get_num_threads", lambda: 3)  # three uneven slices
    for a, b in zip(fields(run_batch(40, **kw, **options)), fields(big)):
        assert torch.equal(a, b)
    last = run_batch(40, record_episodes=False, **kw, **options)
    assert torch.equal(last.episode_rewards[:, 0], big.episode_rewards[:, -1])
    assert torch.equal(last.weights, big.weights) and torch.equal(last.final_probs, big.final_probs)


def test_auto_runs_every_policy_on_the_fused_engine():
    for policy in ("epsilon_greedy", "greedy", "ucb", "thompson"):
        for rewards in ("binary", "gaussian"):
            rule = Rule(policy=policy, rewards=rewards)
            assert cpu_engine.unsupported_reason(rule) is None
            assert resolve_backend("auto", torch.device("cpu"), torch.float32, 10, rule) == "cpu"


def test_progress_adds_up_and_tracing_runs_on_the_portable_engine():
    """on_progress hears every bandit-step; a traced run (record_every) of a policy falls back to the
    portable engine, and the fused engine refuses one if asked directly (value_kernel.c keeps no trace)."""
    batch = make_setup(50, torch.arange(50), policy="ucb", **TESTBED).batch
    heard = []
    cpu_engine.simulate(batch, seed=1, n_episodes=2, steps_per_episode=1500, on_progress=heard.append)
    assert sum(heard) == 50 * 3000
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SlowerEngineWarning)
        traced = run_batch(8, policy="ucb", n_episodes=1, steps_per_episode=20, record_every=5, **TESTBED)
    assert traced.backend == "torch" and traced.trace.p_best.shape == (8, 4)
    with pytest.raises(ValueError, match="does not trace"):
        cpu_engine.simulate(batch, seed=1, n_episodes=1, steps_per_episode=10, record_every=5)


def test_policy_kernels_are_cached_apart_from_the_gradient_kernel():
    """Each policy has its own build (value_kernel.c compiled after cpu_kernel.c); both sources are in the key."""
    gradient, ucb = Rule(), Rule(policy="ucb")
    assert cpu_build.sources(gradient) == (cpu_build.SOURCE,)
    assert cpu_build.sources(ucb) == (cpu_build.SOURCE, cpu_build.POLICY_SOURCE)
    cpu_build.load_kernel(gradient), cpu_build.load_kernel(ucb)
    assert cpu_build.kernel_path(gradient) != cpu_build.kernel_path(ucb)
    assert not hasattr(cpu_build.load_kernel(gradient), "bb_policy_simulate")


def test_bandit_ids_beyond_32_bits():
    ids = torch.tensor([2**32, 2**32 + 1, 2**40 + 7, 2**62 + 3] * 8) + torch.arange(32)
    for options in (dict(policy="epsilon_greedy", epsilon=0.3), dict(policy="thompson", **TESTBED)):
        batch = make_setup(32, ids, **options).batch
        kw = dict(seed=11, n_episodes=2, steps_per_episode=30)
        fused = cpu_engine.simulate(batch, **kw)
        portable = torch_engine.simulate(batch, **kw)
        assert torch.equal(fused.episode_rewards, portable.episode_rewards)
        assert torch.equal(fused.weights, portable.weights)


def test_ucb_takes_ln_t_as_the_portable_engine_rounds_it():
    """The kernel's ln t is the C library's log in double, rounded once to float32 (math.log's); the
    portable engine's is torch's float64 log of a 0-d tensor, rounded the same way."""
    ts = [*range(1, 5000), *range(5000, 10**7, 9973)]
    ours = np.float32([math.log(t) for t in ts])
    theirs = torch.log(torch.tensor(ts, dtype=torch.float64)).float().numpy()
    assert np.array_equal(ours, theirs)
    assert all(torch.log(torch.tensor(float(t), dtype=torch.float64)).float() == ours[i] for i, t in
               enumerate(ts[:2000]))  # fmt: skip


def test_interleaved_normals_equal_rng_to_normal_on_edge_words():
    """value_kernel.c's to_normals (every arm's normal at once) against rng.to_normal: both tails whole,
    the switch between centre and tail, and every 61st grid point between."""
    k = torch.cat([torch.arange(0, 2**16), torch.arange(2**24 - 2**16, 2**24), torch.arange(2**16, 2**24 - 2**16, 61)])
    words = (k << 8) | (k % 251)
    kernel = cpu_build.load_kernel(Rule(policy="thompson", rewards="gaussian"))
    words32 = words.to(torch.int32).contiguous()  # the same 32 bits, held while the kernel reads them
    out = torch.empty(words.shape[0], dtype=torch.float32)
    kernel.bb_policy_normals(words.shape[0], words32.data_ptr(), out.data_ptr())
    assert torch.equal(out, to_normal(words))


@pytest.mark.slow
@pytest.mark.parametrize("isa_flags", [("-mavx2", "-mfma"), ()], ids=["avx2", "generic"])
@pytest.mark.parametrize("setting", INVARIANCE)
def test_other_instruction_sets_give_the_same_bits(setting, isa_flags, monkeypatch, tmp_path):
    """8 lanes and the vector-extension Philox (AVX2), or no vector instructions at all: same numbers."""
    batch = make_setup(B, torch.arange(B), **SETTINGS[setting]).batch
    kw = dict(seed=3, n_episodes=4, steps_per_episode=25)
    native = cpu_engine.simulate(batch, **kw)
    kernel = cpu_build.load_kernel(batch.rule)
    library = tmp_path / "kernel.so"
    flags = ("-O3", *isa_flags, *cpu_build.FLAGS[2:])
    assert cpu_build.compile_kernel(cpu_build.find_compiler(), batch.rule, flags, library) is None
    other = ctypes.CDLL(str(library))
    for name in ("bb_simulate", "bb_policy_simulate"):
        getattr(other, name).restype = getattr(kernel, name).restype
        getattr(other, name).argtypes = getattr(kernel, name).argtypes
    other.bb_isa.restype = ctypes.c_char_p
    assert other.bb_isa() != kernel.bb_isa() or not isa_flags  # another branch of the kernel (generic: maybe not)
    monkeypatch.setitem(cpu_build._kernels, (batch.rule, False), other)  # the untraced build's key
    assert cpu_build.load_kernel(batch.rule) is other  # the simulation below runs it
    for a, b in zip(fields(cpu_engine.simulate(batch, **kw)), fields(native)):
        assert torch.equal(a, b)
