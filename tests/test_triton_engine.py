"""The fused Triton engine against the portable engine: on CUDA when present, else on the CPU under
Triton's interpreter (slow: every case here is tens of bandits and tens to a few hundred steps).

The interpreter is chosen when triton is imported, so conftest.py sets TRITON_INTERPRET for the
whole session when CUDA is absent (if something imported triton earlier, the engine reports the
mix and these tests skip).
"""

import json
import os
import subprocess
import sys

import pytest
import torch

CUDA = torch.cuda.is_available()
triton = pytest.importorskip("triton")
tl = triton.language

from conftest import seed_batch  # noqa: E402

from batched_bandit import engines, run_batch  # noqa: E402
from batched_bandit.engines import torch_engine, triton_engine  # noqa: E402
from batched_bandit.rng import MASK32, philox4x32  # noqa: E402

DEVICE = torch.device("cuda" if CUDA else "cpu")
if triton_engine.unavailable_reason(DEVICE) is not None:
    pytest.skip(triton_engine.unavailable_reason(DEVICE), allow_module_level=True)

# Bandits per comparison: on the GPU the engines may round exp and the division differently,
# and a rounding that crosses a sampling boundary changes one bandit's path from there on.
N_BANDITS = 2000 if CUDA else 48
SAME_PATH = 0.99  # least fraction of bandits whose every arm and reward agree with the torch engine
# compiled, exp2 and the division are the GPU's approximate ones (ex2.approx, div.full: ~2 ulp)
TOLERANCE = dict(rtol=1e-3, atol=1e-4) if CUDA else dict(rtol=1e-4, atol=1e-5)


def both(batch, **kw):
    """(triton Outcome, torch Outcome) of the same batch on DEVICE, both moved to the CPU."""
    batch = batch.to(DEVICE)
    fused, portable = triton_engine.simulate(batch, **kw), torch_engine.simulate(batch, **kw)
    return [
        type(out)(*(t.cpu() for t in (out.weights, out.episode_rewards, out.episode_p_best, out.episode_regret)))
        for out in (fused, portable)
    ]


def same_path_fraction(a, b) -> float:
    """Fraction of bandits whose per-arm sums agree in every recorded episode."""
    return float((a.episode_rewards == b.episode_rewards).flatten(1).all(dim=1).float().mean())


def assert_close_where_same(fused, portable):
    """Weights and P(best) agree up to float rounding on the bandits that took the same path."""
    same = (fused.episode_rewards == portable.episode_rewards).flatten(1).all(dim=1)
    torch.testing.assert_close(fused.weights[same], portable.weights[same], **TOLERANCE)
    torch.testing.assert_close(fused.episode_p_best[same], portable.episode_p_best[same], **TOLERANCE)


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
    w0, w1, w2, w3 = triton_engine._philox4x32_10(c0, c1, c2, c3, k0, k1)
    tl.store(out_ptr + i, w0.to(tl.int32, bitcast=True))
    tl.store(out_ptr + N + i, w1.to(tl.int32, bitcast=True))
    tl.store(out_ptr + 2 * N + i, w2.to(tl.int32, bitcast=True))
    tl.store(out_ptr + 3 * N + i, w3.to(tl.int32, bitcast=True))


def test_every_step_matches_the_portable_engine():
    """One step per episode: each episode's sums hold that step's arm and reward (a single +-1)."""
    n = N_BANDITS
    # ids straddle 2**32 and the seed fills 64 bits: both halves of key and counter matter
    batch = seed_batch(n, temperature=torch.logspace(-1.5, 1, n), lr=0.1, first_id=2**32 - n // 2)
    fused, portable = both(batch, seed=2**64 - 3, n_episodes=120, steps_per_episode=1)
    assert (fused.episode_rewards.abs().sum(dim=2) == 1).all()
    assert fused.weights.abs().max() > 0.05  # the policies did move
    assert same_path_fraction(fused, portable) >= SAME_PATH
    assert_close_where_same(fused, portable)


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
    assert_close_where_same(fused, portable)
    # P(best) uses each bandit's own best arm and temperature
    probs = torch.softmax(fused.weights.double() * (1 / temperature)[:, None], dim=1)
    best = torch.argmin(arms, dim=1)
    torch.testing.assert_close(fused.episode_p_best[:, -1].double(), probs[torch.arange(n), best], atol=1e-5, rtol=0)


@pytest.mark.parametrize("n_arms, steps", [(2, 31), (3, 31), (4, 31), (16, 21), (64, 9)])
def test_any_number_of_arms(n_arms, steps):
    """Padding to a power of two never draws a padded arm; K > 16 reads win_prob from memory."""
    n = N_BANDITS
    arms = torch.linspace(1.0, -1.0, n_arms, dtype=torch.float64)
    batch = seed_batch(n, arms=arms, temperature=torch.logspace(-1.5, 0.5, n), lr=0.2)
    fused, portable = both(batch, seed=1, n_episodes=3, steps_per_episode=steps)
    assert fused.weights.shape == (n, n_arms) and fused.episode_rewards.shape == (n, 3, n_arms)
    assert ((fused.episode_rewards.sum(dim=2) - steps) % 2 == 0).all()  # one +-1 per step, real arms only
    assert same_path_fraction(fused, portable) >= SAME_PATH
    assert_close_where_same(fused, portable)


def test_trajectory_independent_of_batch_size():
    kw = dict(seed=9, n_episodes=3, steps_per_episode=9)
    whole = triton_engine.simulate(seed_batch(37, temperature=0.3, lr=0.1).to(DEVICE), **kw)
    for g in (0, 5, 36):
        alone = triton_engine.simulate(seed_batch(1, temperature=0.3, lr=0.1, first_id=g).to(DEVICE), **kw)
        assert torch.equal(alone.episode_rewards[0], whole.episode_rewards[g])
        assert torch.equal(alone.weights[0], whole.weights[g])
        assert torch.equal(alone.episode_p_best[0], whole.episode_p_best[g])


def test_run_batch_with_triton_is_chunk_invariant_and_reports_progress():
    kw = dict(temperature=0.5, lr=0.05, n_episodes=3, steps_per_episode=7, seed=4, backend="triton", device=DEVICE)
    calls = []
    whole = run_batch(40, progress=lambda done, total: calls.append((done, total)), **kw)
    assert whole.backend == "triton" and whole.episode_rewards.shape == (40, 3, 4)
    assert calls[-1] == (40 * 21, 40 * 21)
    for chunk_size in (7, 16):
        chunked = run_batch(40, chunk_size=chunk_size, **kw)
        assert torch.equal(chunked.episode_rewards, whole.episode_rewards)
        assert torch.equal(chunked.weights, whole.weights)
        assert torch.equal(chunked.episode_p_best, whole.episode_p_best)


def test_on_steps_is_called_once_with_every_step():
    steps = []
    triton_engine.simulate(
        seed_batch(3).to(DEVICE), seed=0, n_episodes=2, steps_per_episode=5, on_progress=steps.append
    )
    assert steps == [30]


# Compiles the kernel for an H100 (sm_90) without a GPU and reads the PTX: the arm axis must stay
# inside each thread (no warp shuffles, barriers or shared memory). A fresh process: this module
# runs the interpreter, which cannot compile.
COMPILE_FOR_H100 = """
import json, triton
from triton.backends.compiler import GPUTarget
from triton.compiler import ASTSource
from batched_bandit.engines import triton_engine as te
kernel = te._bandit_kernel
names = kernel.arg_names
pointers = ["*fp32", "*fp32", "*i64", "*fp32", "*fp32", "*i64", "*fp32", "*i32", "*fp32", "*fp32"]
types = pointers + ["i32"] * 6 + ["constexpr"] * 4
report = {}
for n_arms in (3, 16):
    block, warps = te.launch_config(2**20, n_arms, interpreted=False)
    values = dict(N_ARMS=n_arms, K_PAD=triton.next_power_of_2(n_arms), BLOCK=block, WIN_PROB_IN_REGISTERS=True)
    constexprs = {(names.index(k),): v for k, v in values.items()}
    source = ASTSource(kernel, dict(zip(names, types)), constexprs=constexprs)
    compiled = triton.compile(source, target=GPUTarget("cuda", 90, 32), options={"num_warps": warps})
    ptx = compiled.asm["ptx"]
    report[n_arms] = dict(shfl=ptx.count("shfl.sync"), bar=ptx.count("bar.sync"), shared=compiled.metadata.shared,
                          ex2=ptx.count("ex2.approx"))
print(json.dumps(report))
"""


def test_kernel_compiles_for_h100_with_thread_local_arms():
    env = {k: v for k, v in os.environ.items() if k != "TRITON_INTERPRET"}
    out = subprocess.run([sys.executable, "-c", COMPILE_FOR_H100], env=env, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr[-3000:]
    for n_arms, counts in json.loads(out.stdout.splitlines()[-1]).items():
        k_pad = triton.next_power_of_2(int(n_arms))
        assert counts["shfl"] == counts["bar"] == counts["shared"] == 0, (n_arms, counts)
        assert counts["ex2"] == 5 * k_pad  # 4 inlined steps (head, 2 body, tail) + P(best)


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
