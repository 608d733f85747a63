"""The fused CPU engine against the portable engine: same stream, same arms up to rounding."""

import subprocess
import sys

import pytest
import torch

from batched_bandit import run_batch
from batched_bandit.engines import cpu_engine, resolve_backend

pytestmark = pytest.mark.skipif(
    cpu_engine.unavailable_reason(torch.device("cpu")) is not None, reason="no C compiler for the fused CPU engine"
)


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


def test_record_episodes_false_and_odd_horizon():
    kw = dict(n_episodes=4, steps_per_episode=37, temperature=0.5, seed=2)
    full = run_batch(100, backend="cpu", **kw)
    last = run_batch(100, backend="cpu", record_episodes=False, **kw)
    assert last.episode_rewards.shape == (100, 1, 4)
    assert torch.equal(last.episode_rewards[:, 0], full.episode_rewards[:, -1])
    assert torch.equal(last.weights, full.weights) and torch.equal(last.episode_p_best, full.episode_p_best)
    assert same_rows(full, run_batch(100, backend="torch", **kw)) >= 0.99


def test_trajectory_independent_of_batch_size_chunking_and_threads(monkeypatch):
    kw = dict(temperature=0.3, n_episodes=3, steps_per_episode=60, seed=4, backend="cpu")
    big = run_batch(10000, **kw)
    for n, chunk in [(1, None), (7, None), (37, 5), (10000, 999)]:
        small = run_batch(n, chunk_size=chunk, **kw)
        assert torch.equal(small.episode_rewards, big.episode_rewards[:n])
        assert torch.equal(small.weights, big.weights[:n])
    monkeypatch.setattr(cpu_engine.torch, "get_num_threads", lambda: 3)  # three uneven slices
    assert torch.equal(run_batch(10000, **kw).weights, big.weights)


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
    monkeypatch.setattr(cpu_engine, "_kernel", None)
    monkeypatch.setattr(cpu_engine, "_failure", None)
    monkeypatch.setattr(cpu_engine, "find_compiler", lambda: None)
    assert "no C compiler" in cpu_engine.unavailable_reason(torch.device("cpu"))
    assert run_batch(3, n_episodes=1, steps_per_episode=5).backend == "torch"
    with pytest.raises(ValueError, match="no C compiler"):
        run_batch(3, backend="cpu")


def test_an_unusable_cache_folder_falls_back(monkeypatch, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    monkeypatch.setattr(cpu_engine, "_kernel", None)
    monkeypatch.setattr(cpu_engine, "_failure", None)
    monkeypatch.setenv("BATCHED_BANDIT_CACHE", str(blocker / "cache"))  # below a file: OSError
    assert "unavailable" in cpu_engine.unavailable_reason(torch.device("cpu"))
    assert run_batch(3, n_episodes=1, steps_per_episode=5).backend == "torch"


def test_kernel_is_compiled_once_and_cached(tmp_path):
    probe = "from batched_bandit.engines import cpu_engine as c; c.load_kernel(); print(c.COMPILE_SECONDS)"
    env = {"BATCHED_BANDIT_CACHE": str(tmp_path), "PATH": "/usr/bin:/bin"}
    first = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True, check=True)
    second = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True, check=True)
    assert float(first.stdout) > 0 and second.stdout.strip() == "None"
    assert len(list(tmp_path.glob("cpu_kernel-*.so"))) == 1
