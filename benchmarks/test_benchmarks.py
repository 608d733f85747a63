"""pytest-benchmark suite: ``python -m pytest benchmarks/ --benchmark-only``.

Set-up is outside the timed body; each case records its bandit-steps in ``extra_info`` so the
rate is ``bandit_steps / median``. CUDA cases synchronise inside the body (run_batch returns CPU
tensors, which synchronises).
"""

import pytest
import torch

from batched_bandit import run_batch
from batched_bandit.reference import run_reference

STEPS = 200  # short horizon: the rate per bandit-step does not depend on it

DEVICES = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])


def test_reference_loop(benchmark):
    benchmark.extra_info["bandit_steps"] = STEPS
    benchmark(run_reference, n_episodes=1, steps_per_episode=STEPS)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("n_bandits", [1_000, 10_000, 100_000])
@pytest.mark.parametrize("backend", ["torch", "cpu"])
def test_engine(benchmark, backend, device, n_bandits):
    if device != "cpu" and backend == "cpu":
        pytest.skip("the fused CPU engine runs on the CPU")
    benchmark.extra_info.update(bandit_steps=n_bandits * STEPS, device=device, torch=torch.__version__)
    benchmark.pedantic(
        run_batch,
        kwargs=dict(n_bandits=n_bandits, n_episodes=1, steps_per_episode=STEPS, backend=backend, device=device),
        rounds=3,
        warmup_rounds=1,
    )
