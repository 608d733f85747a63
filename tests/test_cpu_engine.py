"""The fused CPU engine against the portable engine: same stream, same arms up to rounding, every rule."""

import ctypes
import itertools
import os
import platform
import subprocess
import sys
import threading
import time
from dataclasses import asdict
from pathlib import Path

import pytest
import torch
from conftest import need, seed_batch
from rules import ENGINE_CASES, options

from batched_bandit import run_batch
from batched_bandit.engines import cpu_build, cpu_engine, resolve_backend, torch_engine
from batched_bandit.options import make_setup
from batched_bandit.rng import MASK32, step_uniforms, to_normal
from batched_bandit.run import TRACE_FIELDS
from batched_bandit.state import Rule


@pytest.fixture(autouse=True)
def fused_engine():
    need("cpu")  # a skip here, a failure under BATCHED_BANDIT_REQUIRE=cpu


def same_rows(a, b):
    """Fraction of bandits whose per-episode sums (with one step per episode: the arm and reward
    of every step) are identical in two results."""
    return float((a.episode_rewards == b.episode_rewards).all(dim=2).all(dim=1).double().mean())


@pytest.mark.parametrize("temperature", [0.03, 0.3, 3.0])
def test_arm_sequences_equal_the_portable_engine(temperature):
    kw = dict(n_episodes=600, steps_per_episode=1, temperature=temperature, lr=0.05, seed=8)
    fused, portable = run_batch(300, backend="cpu", **kw), run_batch(300, backend="torch", **kw)
    assert same_rows(fused, portable) >= 0.99
    torch.testing.assert_close(fused.weights, portable.weights, rtol=1e-4, atol=1e-4)
    torch.testing.assert_close(fused.episode_p_best, portable.episode_p_best, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("n_arms", [2, 3, 4, 5, 8, 16, 64])
def test_any_number_of_arms(n_arms):
    gen = torch.Generator().manual_seed(n_arms)
    arms = torch.randn(40, n_arms, generator=gen)
    temperature = torch.exp(torch.randn(40, generator=gen))
    lr = torch.rand(40, generator=gen) * 0.1 + 0.01
    kw = dict(arms=arms, temperature=temperature, lr=lr, n_episodes=3, steps_per_episode=101, seed=1)
    fused, portable = run_batch(40, backend="cpu", **kw), run_batch(40, backend="torch", **kw)
    assert same_rows(fused, portable) >= 0.95  # 40 bandits x 303 steps: at most 2 rows may differ


def test_auto_picks_the_fused_engine_on_cpu_for_float32_only():
    cpu = torch.device("cpu")
    assert resolve_backend("auto", cpu, torch.float32) == "cpu"
    assert resolve_backend("auto", cpu, torch.float64) == "torch"
    with pytest.raises(ValueError, match="supports dtype"):
        run_batch(3, backend="cpu", dtype=torch.float64)


def test_more_arms_than_the_kernel_holds_fall_back_to_the_portable_engine():
    assert run_batch(2, arms=torch.linspace(-1, 1, 65), n_episodes=1, steps_per_episode=3).backend == "torch"
    with pytest.raises(ValueError, match="at most 64 arms, got 65"):
        run_batch(2, arms=torch.linspace(-1, 1, 65), backend="cpu")


def test_without_a_compiler_auto_falls_back(monkeypatch):
    monkeypatch.setattr(cpu_build, "_kernels", {})
    monkeypatch.setattr(cpu_build, "_failures", {})
    monkeypatch.setattr(cpu_build, "find_compiler", lambda: None)
    assert "no C compiler" in cpu_engine.unavailable_reason(torch.device("cpu"))
    assert run_batch(3, n_episodes=1, steps_per_episode=5).backend == "torch"
    with pytest.raises(ValueError, match="no C compiler"):
        run_batch(3, backend="cpu")


def test_an_unusable_cache_folder_falls_back(monkeypatch, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    monkeypatch.setattr(cpu_build, "_kernels", {})
    monkeypatch.setattr(cpu_build, "_failures", {})
    monkeypatch.setenv("BATCHED_BANDIT_CACHE", str(blocker / "cache"))  # below a file: OSError
    assert "unavailable" in cpu_engine.unavailable_reason(torch.device("cpu"))
    assert run_batch(3, n_episodes=1, steps_per_episode=5).backend == "torch"


def test_kernel_is_compiled_once_per_rule_and_cached(tmp_path):
    """A build per rule, and one more for a rule's traced runs (record_every), each cached."""
    probe = (
        "from batched_bandit.engines import cpu_build as c; from batched_bandit.state import Rule; "
        "c.load_kernel(); c.load_kernel(Rule(optimizer='adam')); c.load_kernel(); c.load_kernel(trace=True); "
        "print(len(c.COMPILE_SECONDS))"
    )
    env = {"BATCHED_BANDIT_CACHE": str(tmp_path), "PATH": "/usr/bin:/bin"}
    first = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True, check=True)
    second = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True, check=True)
    assert first.stdout.strip() == "3" and second.stdout.strip() == "0"  # three builds, then none
    assert len(list(tmp_path.glob("cpu_kernel-*.so"))) == 3


def test_an_edited_kernel_source_is_rebuilt_not_reused(monkeypatch, tmp_path):
    """The cache key covers the source: the same rule from an edited cpu_kernel.c is a new build."""
    cpu_build.load_kernel()
    original = cpu_build.kernel_path().name
    source = tmp_path / "cpu_kernel.c"
    source.write_text(cpu_build.SOURCE.read_text() + "/* edited */\n")
    monkeypatch.setattr(cpu_build, "SOURCE", source)
    monkeypatch.setenv("BATCHED_BANDIT_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(cpu_build, "_kernels", {})
    monkeypatch.setattr(cpu_build, "_failures", {})
    monkeypatch.setattr(cpu_build, "_paths", {})
    cpu_build.load_kernel()
    edited = cpu_build.kernel_path()
    assert edited.parent == tmp_path / "cache" and edited.name != original


# Every engine case of the rule table against the portable engine, 160 bandits x 250 steps (one step
# an episode). Measured (AMD EPYC, AVX-512): every bandit takes the same path, regrets are equal, and
# on those paths the weights differ by at most 3.8e-6 (the seed's rule at lr / T = 2; <= 1.2e-6
# for the others) but 1.8e-5 for RMSprop with momentum at K = 20 (weights up to 4.4), P(best) by
# at most 1.1e-6. The tolerances are about 3x that: the portable engine's exp differs between CPUs.
N_RULE_BANDITS, RULE_STEPS = 160, 250
WEIGHT_ATOL = {None: 1e-5, "rmsprop momentum weight_decay, K = 20": 5e-5}
P_BEST_ATOL = 3e-6


@pytest.mark.parametrize("rule", ENGINE_CASES)
def test_every_rule_takes_the_portable_engines_path(rule):
    kw = dict(n_episodes=RULE_STEPS, steps_per_episode=1, seed=8, **options(rule, N_RULE_BANDITS))
    fused, portable = run_batch(N_RULE_BANDITS, backend="cpu", **kw), run_batch(N_RULE_BANDITS, backend="torch", **kw)
    same = (fused.episode_rewards == portable.episode_rewards).flatten(1).all(dim=1)
    assert same.double().mean() >= 0.99
    weight_tolerance = WEIGHT_ATOL.get(rule, WEIGHT_ATOL[None])
    torch.testing.assert_close(fused.weights[same], portable.weights[same], rtol=0, atol=weight_tolerance)
    torch.testing.assert_close(fused.episode_p_best[same], portable.episode_p_best[same], rtol=0, atol=P_BEST_ATOL)
    torch.testing.assert_close(fused.episode_regret[same], portable.episode_regret[same], rtol=0, atol=0)


@pytest.mark.parametrize("rule", ["sgd (the seed)", "adam weight_decay eps", "rmsprop centered momentum", "gaussian"])
def test_trajectory_independent_of_threads(rule, monkeypatch):
    """Threads get whole SIMD blocks of bandits: three uneven slices give the bits of one or two."""
    kw = dict(n_episodes=3, steps_per_episode=40, seed=4, backend="cpu", **options(rule, 600))
    whole = run_batch(600, **kw)
    monkeypatch.setattr(cpu_engine.torch, "get_num_threads", lambda: 3)
    sliced = run_batch(600, **kw)
    assert torch.equal(sliced.weights, whole.weights) and torch.equal(sliced.episode_rewards, whole.episode_rewards)


def step_zero(batch, seed):
    """The per-arm sums of step 0 (one step) on both engines."""
    kw = dict(seed=seed, n_episodes=1, steps_per_episode=1)
    fused, portable = cpu_engine.simulate(batch, **kw), torch_engine.simulate(batch, **kw)
    return fused.episode_rewards[:, 0], portable.episode_rewards[:, 0]


# (seed, bandit id) whose arm uniform at step 0 is exactly 0.25, 0.5 or 0.75 (found by search)
ARM_ON_A_BOUNDARY = [(1, 14022774, 0.25), (0, 12125520, 0.5), (1, 11517191, 0.75)]


@pytest.mark.parametrize("seed, bandit, u", ARM_ON_A_BOUNDARY)
def test_arm_draw_on_a_cdf_boundary(seed, bandit, u):
    """With equal weights cdf = (1, 2, 3, 4): u * total = 4u lands exactly on cdf[4u - 1], which is
    passed (cdf <= u * total), so the arm is 4u, not 4u - 1."""
    assert float(step_uniforms(seed, torch.tensor([bandit]), 0, 1)[0, 0, 0]) == u
    batch = make_setup(1, torch.tensor([bandit]), arms=(0.0, 0.0, 0.0, 0.0), init_weights=0.3).batch
    fused, portable = step_zero(batch, seed)
    assert torch.equal(fused, portable)
    assert int(fused.abs().argmax()) == int(4 * u)


def test_reward_when_the_uniform_equals_the_win_probability():
    """u < q pays the win, so u == q pays the loss."""
    ids = torch.arange(5, 37)
    u = step_uniforms(3, ids, 0, 1)[0, 1].double()  # the reward uniforms of step 0
    batch = make_setup(32, ids, win_prob=u[:, None].expand(32, 3), reward_values=(1.0, -0.5)).batch
    fused, portable = step_zero(batch, 3)
    assert torch.equal(fused, portable)
    assert torch.equal(fused.sum(dim=1), torch.full((32,), -0.5))


def test_bandit_ids_beyond_32_bits():
    ids = torch.tensor([2**32, 2**32 + 1, 2**40 + 7, 2**62 + 3, 5 * 2**32 + 9] * 8) + torch.arange(40)
    batch = make_setup(40, ids, temperature=0.5, lr=0.05).batch
    kw = dict(seed=11, n_episodes=200, steps_per_episode=1)
    fused, portable = cpu_engine.simulate(batch, **kw), torch_engine.simulate(batch, **kw)
    assert torch.equal(fused.episode_rewards, portable.episode_rewards)
    low = cpu_engine.simulate(make_setup(40, ids & MASK32, temperature=0.5, lr=0.05).batch, **kw)
    assert not torch.equal(low.episode_rewards, fused.episode_rewards)  # the high bits are used


def kernel_normals(words: torch.Tensor) -> torch.Tensor:
    kernel = cpu_build.load_kernel(Rule(rewards="gaussian"))
    words32 = words.to(torch.int32).contiguous()  # the same 32 bits
    out = torch.empty(words.shape[0], dtype=torch.float32)
    kernel.bb_normals(words.shape[0], words32.data_ptr(), out.data_ptr())
    return out


def test_gaussian_normals_equal_rng_to_normal_on_edge_words():
    """Both tails whole (|z| > 2.8: the tail polynomial, log of the smallest arguments), the switch
    between centre and tail, the centre and every 61st grid point between."""
    k = torch.cat([torch.arange(0, 2**16), torch.arange(2**24 - 2**16, 2**24), torch.arange(2**16, 2**24 - 2**16, 61)])
    words = (k << 8) | (k % 251)  # the low 8 bits do not matter
    assert torch.equal(kernel_normals(words), to_normal(words))


@pytest.mark.slow
def test_gaussian_normals_equal_rng_to_normal_on_every_grid_point():
    words = torch.arange(2**24) << 8
    assert torch.equal(kernel_normals(words), to_normal(words))


def test_progress_is_reported_from_the_callers_thread_in_increments(monkeypatch):
    monkeypatch.setattr(cpu_engine, "POLL_SECONDS", 0.002)
    calls = []
    batch = seed_batch(256)
    kw = dict(seed=0, n_episodes=2, steps_per_episode=20000)
    cpu_engine.simulate(batch, on_progress=lambda n: calls.append((n, threading.get_ident())), **kw)
    assert sum(n for n, _ in calls) == 256 * 2 * 20000
    assert len(calls) > 2 and all(n > 0 for n, _ in calls)
    assert {ident for _, ident in calls} == {threading.get_ident()}


def test_an_exception_in_on_progress_stops_the_kernel(monkeypatch):
    monkeypatch.setattr(cpu_engine, "POLL_SECONDS", 0.01)

    def stop(n):
        raise KeyboardInterrupt

    batch = seed_batch(64)
    start = time.perf_counter()
    with pytest.raises(KeyboardInterrupt):
        cpu_engine.simulate(batch, seed=0, n_episodes=1, steps_per_episode=10**8, on_progress=stop)  # 30 s of work
    assert time.perf_counter() - start < 5


@pytest.mark.slow
@pytest.mark.parametrize("record_every", [None, 7], ids=["untraced", "traced"])
@pytest.mark.parametrize("isa_flags", [("-mavx2", "-mfma"), ("-march=x86-64",)], ids=["avx2", "generic"])
@pytest.mark.parametrize(
    "rule", ["rmsprop centered momentum", "gaussian, mean baseline, K = 20", "seed, bernoulli (1, 0), init"]
)
def test_other_instruction_sets_give_the_same_bits(rule, isa_flags, record_every, monkeypatch, tmp_path):
    """8 lanes and the vector-extension Philox (AVX2), or no vector instructions at all: same numbers."""
    if platform.machine().lower() not in ("x86_64", "amd64"):
        pytest.skip("x86 instruction sets")  # elsewhere the generic branch is the native one
    batch = make_setup(100, torch.arange(100), **options(rule, 100)).batch
    kw = dict(seed=3, n_episodes=40, steps_per_episode=25, record_every=record_every)
    trace = record_every is not None
    native = cpu_engine.simulate(batch, **kw)
    kernel = cpu_build.load_kernel(batch.rule, trace)
    library = tmp_path / "kernel.so"
    flags = ("-O3", *isa_flags, *cpu_build.FLAGS[2:])
    assert cpu_build.compile_kernel(cpu_build.find_compiler(), batch.rule, flags, library, trace) is None
    other = ctypes.CDLL(str(library))
    other.bb_simulate.restype, other.bb_simulate.argtypes = kernel.bb_simulate.restype, kernel.bb_simulate.argtypes
    other.bb_isa.restype = ctypes.c_char_p
    assert other.bb_isa() == (b"avx" if "-mavx2" in isa_flags else b"generic")
    monkeypatch.setitem(cpu_build._kernels, (batch.rule, trace), other)
    out = cpu_engine.simulate(batch, **kw)
    assert torch.equal(out.episode_rewards, native.episode_rewards) and torch.equal(out.weights, native.weights)
    n_points = 40 * 25 // 7 if trace else 0
    for name in TRACE_FIELDS:
        assert getattr(out, name).shape == (100, n_points) and torch.equal(getattr(out, name), getattr(native, name))


def expected_isa() -> str:
    """The kernel branch a build should take here: generic when asked for or off x86, else the
    CPU's widest (what -march=native enables)."""
    x86 = platform.machine().lower() in ("x86_64", "amd64")
    if os.environ.get(cpu_build.ISA_VARIABLE) == "generic" or not x86:
        return "generic"
    flags = next((ln.split(":", 1)[1].split() for ln in Path("/proc/cpuinfo").read_text().splitlines()
                  if ln.startswith("flags")), [])  # fmt: skip
    return "avx512" if "avx512f" in flags else "avx" if "avx" in flags else "generic"


def test_the_kernel_takes_the_branch_asked_for():
    """CI runs the engine tests twice: natively (AVX-512 here) and with BATCHED_BANDIT_CPU_ISA=generic."""
    if platform.system() != "Linux" and os.environ.get(cpu_build.ISA_VARIABLE) != "generic":
        pytest.skip("reads the CPU's flags from /proc/cpuinfo")
    assert cpu_build.load_kernel().bb_isa().decode() == expected_isa()


def test_the_isa_variable_is_read_at_build_and_checked():
    """In a fresh process (the variable is read when a kernel is built), with this session's cache:
    the generic build is compiled once per machine (the cache key holds the flags)."""
    probe = (
        "import torch; from batched_bandit.engines import cpu_build, cpu_engine; "
        "r = cpu_engine.unavailable_reason(torch.device('cpu')); print(r or cpu_build.load_kernel().bb_isa().decode())"
    )
    env = dict(os.environ)
    outputs = {
        isa: subprocess.run([sys.executable, "-c", probe], env={**env, cpu_build.ISA_VARIABLE: isa},
                            capture_output=True, text=True, check=True).stdout.strip()
        for isa in ("generic", "avx9000")
    }  # fmt: skip
    assert outputs["generic"] == "generic"
    assert 'BATCHED_BANDIT_CPU_ISA must be "native" or "generic", got \'avx9000\'' in outputs["avx9000"]


def every_rule() -> list[Rule]:
    """Every Rule the kernel's build specialises on (one -D combination each) that run_batch's
    options can ask for: 8 optimizer variants x weight decay x 3 baselines x 2 reward models."""
    rules = []
    names = ("optimizer", "momentum", "nesterov", "centered", "weight_decay", "baseline", "rewards")
    choices = [("sgd", "adam", "rmsprop"), *[(False, True)] * 4, ("none", "mean", "ema"), ("binary", "gaussian")]
    for values in itertools.product(*choices):
        rule = Rule(**dict(zip(names, values)))
        try:
            batch = make_setup(16, torch.arange(16), **rule_options(rule)).batch
        except ValueError as err:  # an option of another optimizer, or Nesterov without momentum: refused
            assert "is not an option of optimizer" in str(err) or "nesterov requires momentum" in str(err), err
            continue
        assert batch.rule == rule
        rules.append(rule)
    return rules


def rule_options(rule: Rule) -> dict:
    """run_batch options asking for ``rule``."""
    kw = dict(optimizer=rule.optimizer, temperature=0.5, lr=0.05, weight_decay=0.01 * rule.weight_decay)
    kw |= dict(momentum=0.5) if rule.momentum else {}
    kw |= dict(nesterov=True) if rule.nesterov else {}
    kw |= dict(centered=True) if rule.centered else {}
    kw |= dict(baseline={"none": None, "mean": "mean", "ema": ("ema", 0.9)}[rule.baseline])
    kw |= dict(means=(0.0, 1.0, 0.5)) if rule.rewards == "gaussian" else dict(arms=(0.0, -1.0, 0.5))
    return kw


@pytest.mark.slow
def test_every_rule_variant_compiles_and_follows_the_portable_engine(tmp_path, monkeypatch):
    """Each of the 96 builds, fresh (two processes build half each), runs 16 bandits x 40 steps
    on the arms and rewards of the portable engine; the weights differ by at most 6.3e-6 (measured:
    centred RMSprop with momentum; tolerance 2e-5)."""
    rules = every_rule()
    assert len(rules) == len({cpu_build.header(r) for r in rules}) == 96
    build = (
        "import sys; from batched_bandit.engines import cpu_build as c; from batched_bandit.state import Rule; "
        "[c.load_kernel(Rule(**fields)) for fields in eval(sys.argv[1])]"
    )
    env = {**os.environ, "BATCHED_BANDIT_CACHE": str(tmp_path)}
    fields = [asdict(r) for r in rules]
    builders = [subprocess.Popen([sys.executable, "-c", build, repr(fields[i::2])], env=env) for i in range(2)]
    assert [b.wait() for b in builders] == [0, 0]
    monkeypatch.setenv("BATCHED_BANDIT_CACHE", str(tmp_path))
    monkeypatch.setattr(cpu_build, "_kernels", {})
    monkeypatch.setattr(cpu_build, "_failures", {})
    monkeypatch.setattr(cpu_build, "COMPILE_SECONDS", {})
    for rule in rules:
        kernel = cpu_build.load_kernel(rule)  # from the cache the builders filled: no compile here
        assert (rule, False) not in cpu_build.COMPILE_SECONDS and kernel.bb_isa().decode() == expected_isa()
        batch = make_setup(16, torch.arange(16), **rule_options(rule)).batch
        assert batch.rule == rule
        kw = dict(seed=5, n_episodes=40, steps_per_episode=1)
        fused, portable = cpu_engine.simulate(batch, **kw), torch_engine.simulate(batch, **kw)
        assert torch.equal(fused.episode_rewards, portable.episode_rewards), rule
        torch.testing.assert_close(fused.weights, portable.weights, rtol=0, atol=2e-5, msg=str(rule))
