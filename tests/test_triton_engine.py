"""The fused Triton engine against the portable engine: on CUDA when present, else on the CPU under
Triton's interpreter (slow: every case here is tens of bandits and tens to a few hundred steps).

The interpreter is chosen when triton is imported, so conftest.py sets TRITON_INTERPRET for the
whole session when CUDA is absent (if something imported triton earlier, the engine reports the
mix and these tests skip, or fail under BATCHED_BANDIT_REQUIRE=triton). The kernel compiled for
sm_80 and sm_90 is checked without a GPU by triton_aot, in a fresh process.
"""

import dataclasses
import json
import os
import subprocess
import sys

import pytest
import torch
from conftest import need, seed_batch
from rules import ENGINE_CASES, options

CUDA = torch.cuda.is_available()
DEVICE = torch.device("cuda" if CUDA else "cpu")
need("triton", DEVICE, module=True)  # a skip without triton, a failure under BATCHED_BANDIT_REQUIRE=triton

import triton  # noqa: E402

from batched_bandit import engines, run_batch  # noqa: E402
from batched_bandit.engines import torch_engine, triton_aot, triton_engine, triton_kernel  # noqa: E402
from batched_bandit.options import make_setup  # noqa: E402
from batched_bandit.rng import MASK32, philox4x32, to_normal  # noqa: E402

tl = triton.language

# Bandits per comparison: on the GPU the engines may round exp and the division differently,
# and a rounding that crosses a sampling boundary changes one bandit's path from there on.
N_BANDITS = 2000 if CUDA else 48
SAME_PATH = 0.99  # least fraction of bandits whose every arm and reward agree with the torch engine
# Interpreted, the kernel's float32 ops are numpy's, one for one with the torch engine's, but exp
# (numpy's vs torch's: 1 ulp apart for ~40% of arguments; the seed's rule takes exp2(w log2(e) / T))
# and log (Gaussian rewards) round differently. numpy's exp and exp2 depend on the CPU (SIMD
# dispatch): measured on the rule cases with AVX-512 and with numpy kept from it
# (NPY_DISABLE_CPU_FEATURES="AVX512_ICL X86_V4 X86_V3"), |dw| <= 5.1e-7 (1 + |w|), |dP| <= 2.4e-7,
# |d regret| <= 1.9e-6 (regret up to ~30: summation order); the tolerances are ~2x that; steep cases
# (lr / T ~ 1 or more) and RULE_STEEP scale them by what was measured there. A kernel whose
# log2(e) is cut to 1.4427 moves P(best) by 0.8-2e-6 on the seed's rule: 9 tests here catch it.
# Compiled, exp2, division and sqrt are the GPU's approximate ones (ex2.approx, div.full,
# sqrt.approx: ~2 ulp) and mul + add fuse into FMA: the CUDA tolerances are estimates, not yet
# measured on a GPU.
TOLERANCE = dict(rtol=1e-3, atol=1e-4) if CUDA else dict(rtol=1e-6, atol=1e-6)
P_BEST_ATOL = 1e-4 if CUDA else 5e-7
GAUSSIAN_REWARD_TOLERANCE = 2e-6 if CUDA else 1e-6  # |d reward|: the normal deviate's log (see test_normal)


def both(batch, **kw):
    """(triton Outcome, torch Outcome) of the same batch on DEVICE, both moved to the CPU."""
    batch = batch.to(DEVICE)
    fused, portable = triton_engine.simulate(batch, **kw), torch_engine.simulate(batch, **kw)
    return [dataclasses.replace(out, **{f.name: getattr(out, f.name).cpu() for f in dataclasses.fields(out)})
            for out in (fused, portable)]  # fmt: skip


def same_path(a, b, reward_tolerance=0.0):
    """Per bandit: the per-arm sums agree in every recorded episode (up to ``reward_tolerance``
    times the steps, for Gaussian rewards)."""
    return ((a.episode_rewards - b.episode_rewards).abs() <= reward_tolerance).flatten(1).all(dim=1)


def same_path_fraction(a, b, reward_tolerance=0.0) -> float:
    """Fraction of bandits whose per-arm sums agree in every recorded episode."""
    return float(same_path(a, b, reward_tolerance).float().mean())


def assert_close_where_same(fused, portable, reward_tolerance=0.0, steep=1.0):
    """Weights, P(best) and regret agree up to float rounding on the bandits that took the same path;
    ``steep`` scales the tolerances of weights and P(best) (measured for that case)."""
    same = same_path(fused, portable, reward_tolerance)
    tolerance = {k: v * (1 if CUDA else steep) for k, v in TOLERANCE.items()}
    p_best_atol = P_BEST_ATOL * (1 if CUDA else steep)
    torch.testing.assert_close(fused.weights[same], portable.weights[same], **tolerance)
    torch.testing.assert_close(fused.episode_p_best[same], portable.episode_p_best[same], rtol=0, atol=p_best_atol)
    torch.testing.assert_close(fused.episode_regret[same], portable.episode_regret[same], **TOLERANCE)


def test_seed_words_are_passed_as_int32_with_the_same_bits():
    """Kernel arguments are int32: each 32-bit word of the seed becomes the int32 with its bits."""
    for word in (0, 1, 2**31 - 1, 2**31, 2**31 + 1, MASK32):
        signed = triton_engine._as_int32(word)
        assert -(2**31) <= signed < 2**31 and signed & MASK32 == word, word


def test_philox_matches_rng_on_random_counters_and_keys():
    gen = torch.Generator().manual_seed(7)
    counters = torch.randint(0, 2**32, (4, 64), generator=gen, dtype=torch.int64)
    counters[:, 0] = MASK32  # all-ones words: the carry edge of the 32x32 -> 64 products
    for key in [(0, 0), (MASK32, MASK32), (0xA4093822, 0x299F31D0)]:
        out = torch.empty(4, 64, dtype=torch.int32, device=DEVICE)
        signed = counters.to(torch.int32)  # same low 32 bits
        _philox_kernel[(1,)](signed.to(DEVICE), out, *(triton_engine._as_int32(k) for k in key), N=64)
        expected = torch.stack(philox4x32(*counters, *key))
        assert torch.equal(out.cpu().long() & MASK32, expected)


@triton.jit
def _philox_kernel(counter_ptr, out_ptr, key_lo, key_hi, N: tl.constexpr):
    i = tl.arange(0, N)
    c0 = tl.load(counter_ptr + i).to(tl.uint32, bitcast=True)
    c1 = tl.load(counter_ptr + N + i).to(tl.uint32, bitcast=True)
    c2 = tl.load(counter_ptr + 2 * N + i).to(tl.uint32, bitcast=True)
    c3 = tl.load(counter_ptr + 3 * N + i).to(tl.uint32, bitcast=True)
    k0, k1 = key_lo.to(tl.uint32, bitcast=True), key_hi.to(tl.uint32, bitcast=True)
    w0, w1, w2, w3 = triton_kernel._philox4x32_10(c0, c1, c2, c3, k0, k1)
    tl.store(out_ptr + i, w0.to(tl.int32, bitcast=True))
    tl.store(out_ptr + N + i, w1.to(tl.int32, bitcast=True))
    tl.store(out_ptr + 2 * N + i, w2.to(tl.int32, bitcast=True))
    tl.store(out_ptr + 3 * N + i, w3.to(tl.int32, bitcast=True))


def normal_switch_words() -> list[int]:
    """Words around each switch of to_normal's erfinv from the centre to the tail polynomial (w = 5)."""
    k = 2**23 * (1 + (1 - 2.718281828459045**-5) ** 0.5)  # x(k) = sqrt(1 - e^-5), on each side of 0
    return [int(c + d) << 8 for c in (k, 2**24 - 1 - k) for d in range(-3, 4)]


# rng.to_normal's extreme words (k = 0 and 2**24 - 1, |z| = 5.42), the two around z = 0, the bits
# below the 24 used, and the centre / tail switch; then random words
NORMAL_EDGE_WORDS = [0, 0xFF, 0x100, 0x1FF, MASK32, 0xFFFFFF00, 0xFFFFFEFF, 0x7FFFFF00, 0x7FFFFFFF, 0x80000000,
                     0x800000FF, 0x80000100, *normal_switch_words()]  # fmt: skip


def test_normal_matches_rng_on_edge_and_random_words():
    """The kernel's normal deviates are rng.to_normal's up to the rounding of log (a few ulp)."""
    gen = torch.Generator().manual_seed(11)
    random = torch.randint(0, 2**32, (4096 - len(NORMAL_EDGE_WORDS),), generator=gen)
    words = torch.cat([torch.tensor(NORMAL_EDGE_WORDS), random])  # a power of two, for tl.arange
    out = torch.empty(words.shape[0], device=DEVICE)
    _normal_kernel[(1,)](words.to(torch.int32).to(DEVICE), out, N=words.shape[0])
    expected = to_normal(words)
    # measured interpreted: |dz| <= 2.3e-7 |z| (1.4% of words differ; torch's and numpy's log)
    rtol = 3e-6 if CUDA else 4e-7  # compiled: lg2.approx and sqrt.approx, an estimate
    torch.testing.assert_close(out.cpu(), expected, rtol=rtol, atol=rtol)
    # the grid's extremes (Giles' erfinv gives -5.41998 there; Phi^-1(2**-25) = -5.4209)
    assert out[[0, 1, 4]].cpu().tolist() == pytest.approx([-5.42, -5.42, 5.42], abs=1e-3)
    assert torch.equal(out.cpu().sign(), expected.sign())


@triton.jit
def _normal_kernel(word_ptr, out_ptr, N: tl.constexpr):
    i = tl.arange(0, N)
    tl.store(out_ptr + i, triton_kernel._normal(tl.load(word_ptr + i).to(tl.uint32, bitcast=True)))


# Every engine case of the rule table against the torch engine: few bandits (ids above 2**32, a
# 64-bit seed), 4 episodes of 15 steps (odd: episodes start and end inside a Philox pair, where the
# step count t must carry on), per-bandit numbers that reach both branches of torch.lerp (Adam's
# beta1 below and above 0.5), padded arms (K = 3, 5, 6), and K = 20 (the arm's parameter read from
# memory).
N_RULE = 16
RULE_RUN = dict(seed=2**64 - 3, n_episodes=4, steps_per_episode=15)
# RMSprop divides by the root of arms' squared gradients, tiny for arms rarely pulled among 20: |dP|
# measured 6.3e-7 (3.0e-7 with numpy kept from AVX-512)
RULE_STEEP = {"rmsprop momentum weight_decay, K = 20": 3}


def batch_of(rule: str):
    """The CPU batch of a rule: N_RULE bandits with ids 2**32 + 5 .. (both halves of the counter)."""
    return make_setup(N_RULE, torch.arange(N_RULE) + 2**32 + 5, **options(rule, N_RULE)).batch


def run_rule(rule: str):
    return both(batch_of(rule), **RULE_RUN)


@pytest.mark.parametrize("rule", ENGINE_CASES)
def test_every_rule_matches_the_portable_engine(rule):
    batch = batch_of(rule)
    fused, portable = run_rule(rule)
    steps = RULE_RUN["steps_per_episode"]
    reward_tolerance = steps * GAUSSIAN_REWARD_TOLERANCE if batch.rule.rewards == "gaussian" else 0.0
    assert same_path_fraction(fused, portable, reward_tolerance) >= (SAME_PATH if CUDA else 1.0)
    assert_close_where_same(fused, portable, reward_tolerance, steep=RULE_STEEP.get(rule, 1))
    assert (fused.weights - batch.init_weights.float()).abs().amax() > 0.05  # the rule did learn
    assert fused.episode_rewards.abs().sum(dim=2).gt(0).all()  # every episode has rewards


def test_every_step_matches_the_portable_engine():
    """One step per episode: each episode's sums hold that step's arm and reward (a single +-1)."""
    n = N_BANDITS
    # ids straddle 2**32 and the seed fills 64 bits: both halves of key and counter matter
    batch = seed_batch(n, temperature=torch.logspace(-1.5, 1, n), lr=0.1, first_id=2**32 - n // 2)
    fused, portable = both(batch, seed=2**64 - 3, n_episodes=120, steps_per_episode=1)
    assert (fused.episode_rewards.abs().sum(dim=2) == 1).all()
    assert fused.weights.abs().max() > 0.05  # the policies did move
    assert same_path_fraction(fused, portable) >= SAME_PATH
    assert_close_where_same(fused, portable, steep=2)  # lr / T up to 3: |dw| 7.6e-7 (1 + |w|), |dP| 4.2e-7


@pytest.mark.parametrize("record_episodes", [True, False])
def test_odd_episode_length_pairs_straddle_episodes(record_episodes):
    n = N_BANDITS
    batch = seed_batch(n, temperature=torch.logspace(-1.5, 1, n), lr=0.05)
    kw = dict(seed=11, n_episodes=5, steps_per_episode=7, record_episodes=record_episodes)
    fused, portable = both(batch, **kw)
    assert fused.episode_rewards.shape == (n, 5 if record_episodes else 1, 4)
    assert fused.episode_p_best.shape == (n, 5)
    assert same_path_fraction(fused, portable) >= SAME_PATH
    assert_close_where_same(fused, portable)


def test_per_bandit_arms_temperature_and_lr():
    n = N_BANDITS
    gen = torch.Generator().manual_seed(3)
    arms = torch.randn(n, 5, generator=gen, dtype=torch.float64)
    temperature = torch.logspace(-1, 0.5, n)[torch.randperm(n, generator=gen)]
    lr = torch.rand(n, generator=gen, dtype=torch.float64) * 0.2 + 0.01
    batch = seed_batch(n, arms=arms, temperature=temperature, lr=lr)
    fused, portable = both(batch, seed=5, n_episodes=4, steps_per_episode=25)
    assert same_path_fraction(fused, portable) >= SAME_PATH
    assert_close_where_same(fused, portable, steep=3)  # lr / T up to 2: |dw| 1.1e-6 (1 + |w|)
    # P(best) uses each bandit's own best arm and temperature
    probs = torch.softmax(fused.weights.double() * (1 / temperature)[:, None], dim=1)
    best = torch.argmin(arms, dim=1)
    torch.testing.assert_close(fused.episode_p_best[:, -1].double(), probs[torch.arange(n), best], atol=1e-5, rtol=0)


@pytest.mark.parametrize("n_arms, steps", [(2, 31), (3, 31), (4, 31), (16, 21), (64, 9)])
def test_any_number_of_arms(n_arms, steps):
    """Padding to a power of two never draws a padded arm; K > 16 reads the arm's P(win) from memory."""
    n = N_BANDITS
    arms = torch.linspace(1.0, -1.0, n_arms, dtype=torch.float64)
    batch = seed_batch(n, arms=arms, temperature=torch.logspace(-1, 0.5, n), lr=0.1)
    fused, portable = both(batch, seed=1, n_episodes=3, steps_per_episode=steps)
    assert fused.weights.shape == (n, n_arms) and fused.episode_rewards.shape == (n, 3, n_arms)
    assert ((fused.episode_rewards.sum(dim=2) - steps) % 2 == 0).all()  # one +-1 per step, real arms only
    assert same_path_fraction(fused, portable) >= SAME_PATH
    assert_close_where_same(fused, portable, steep=10)  # |dw| up to 3.8e-6 (1 + |w|), |dP| 1.2e-7


def test_run_batch_with_triton_reports_progress():
    kw = dict(temperature=0.5, lr=0.05, n_episodes=3, steps_per_episode=7, seed=4, backend="triton", device=DEVICE)
    calls = []
    whole = run_batch(40, chunk_size=16, progress=lambda done, total: calls.append((done, total)), **kw)
    assert whole.backend == "triton" and whole.episode_rewards.shape == (40, 3, 4)
    assert calls[-1] == (40 * 21, 40 * 21)


def test_on_steps_is_called_once_with_every_step():
    steps = []
    triton_engine.simulate(
        seed_batch(3).to(DEVICE), seed=0, n_episodes=2, steps_per_episode=5, on_progress=steps.append
    )
    assert steps == [30]


# The kernel compiled ahead of time for an A100 (sm_80) and an H100 (sm_90), without a GPU, per rule
# and K, untraced and traced (record_every). A fresh process: this session runs the interpreter, which
# cannot compile. Each rule must keep a bandit in one thread's registers: no spills to local memory
# up to 16 arms, no shuffles, barriers or shared memory (the arm axis never leaves the thread).
COMPILE = "import json, sys; from batched_bandit.engines import triton_aot as a; "
COMPILE += "print(json.dumps(a.inspect_many(json.loads(sys.argv[1]))))"


def compiled(cases: list[tuple[str, int, int, bool]]) -> list[dict]:
    """triton_aot.inspect of (rule name, K, compute capability, traced) cases, in a fresh process."""
    env = {k: v for k, v in os.environ.items() if k != "TRITON_INTERPRET"}
    out = subprocess.run([sys.executable, "-c", COMPILE, json.dumps(cases)], env=env, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout.splitlines()[-1])


def assert_thread_local_without_spills(cases):
    for (rule, n_arms, capability, traced), report in zip(cases, compiled(cases)):
        case = f"{rule}, K = {n_arms}, sm_{capability}, {'traced' if traced else 'untraced'}: {report}"
        assert report["stack"] == report["local"] == report["spill_instructions"] == report["ptx_local"] == 0, case
        assert report["shuffles"] == report["barriers"] == report["shared"] == report["shared_bytes"] == 0, case
        # exp of the arms: 4 inlined steps, the episode's P(best) and, traced, a trace point after each step
        assert report["ex2_in_ptx"] == (9 if traced else 5) * triton.next_power_of_2(n_arms), case
        if traced:  # between trace points, a step costs little more than untraced (its reward's addition, a test)
            assert report["loop_instructions"] > 2 * report["instructions_per_step"] > 0, case


def test_kernel_compiles_for_a100_and_h100_with_thread_local_arms():
    cases = [(rule, k, cc, False) for rule in ("sgd (the seed)", "adam") for k in (4, 16) for cc in (80, 90)]
    assert_thread_local_without_spills([*cases, ("adam", 16, 90, True)])  # traced: the most registers


@pytest.mark.slow
def test_every_rule_compiles_for_a100_and_h100_with_thread_local_arms():
    # triton_aot.RULES: the seed's, SGD momentum + nesterov + weight decay, both baselines, Adam,
    # RMSprop, centred RMSprop with momentum, Gaussian rewards; untraced and traced
    cases = [(rule, k, cc, traced) for rule in triton_aot.RULES for k in (4, 16) for cc in (80, 90)
             for traced in (False, True)]  # fmt: skip
    assert_thread_local_without_spills(cases)


def test_registry_names_what_is_missing(monkeypatch):
    cpu, f32 = torch.device("cpu"), torch.float32
    assert engines.BACKENDS["triton"][2] == (f32,)
    with pytest.raises(ValueError, match="dtype"):
        engines.resolve_backend("triton", DEVICE, torch.float64)
    # "auto" on the CPU never picks the interpreter; on CUDA it prefers the kernel
    assert engines.resolve_backend("auto", cpu, f32) != "triton"
    assert engines.PREFERENCE["cuda"][0] == "triton"
    assert "64 arms" in engines.unavailable_reason("triton", DEVICE, f32, n_arms=65)

    monkeypatch.setattr(triton_engine, "MODE", "compiled")  # as if TRITON_INTERPRET were unset
    assert "TRITON_INTERPRET=1" in triton_engine.unavailable_reason(cpu)
    with pytest.raises(ValueError, match="TRITON_INTERPRET"):
        engines.resolve_backend("triton", cpu, f32)
    with pytest.raises(ValueError, match="TRITON_INTERPRET"):
        run_batch(2, n_episodes=1, steps_per_episode=1, backend="triton", device="cpu")

    monkeypatch.setattr(triton_engine, "MODE", "interpreted")
    assert "unset it" in triton_engine.unavailable_reason(torch.device("cuda"))

    monkeypatch.setattr(triton_engine, "triton", None)  # as if triton were not installed
    for device in (cpu, torch.device("cuda")):
        assert "pip install 'batched_bandit[gpu]'" in triton_engine.unavailable_reason(device)


@pytest.mark.parametrize("seed, bandit, u", [(1, 14022774, 0.25), (0, 12125520, 0.5), (1, 11517191, 0.75)])
def test_arm_draw_on_a_cdf_boundary(seed, bandit, u):
    """Equal weights, cdf = (1, 2, 3, 4): an arm uniform of exactly u puts u * total on cdf[4u - 1],
    which is passed (cdf <= u * total), so the arm is 4u (ids found by search, as test_cpu_engine)."""
    batch = make_setup(1, torch.tensor([bandit]), arms=(0.0, 0.0, 0.0, 0.0), init_weights=0.3).batch
    fused, portable = both(batch, seed=seed, n_episodes=1, steps_per_episode=1)
    assert torch.equal(fused.episode_rewards, portable.episode_rewards)
    assert int(fused.episode_rewards[0, 0].abs().argmax()) == int(4 * u)
