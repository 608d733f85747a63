"""ε-greedy, greedy, UCB and Thompson sampling in the Triton engine (triton_policies.policy_kernel)
against the portable engine: on CUDA when present, else on the CPU under Triton's interpreter (few
bandits, few steps: the interpreter runs a step in milliseconds, Thompson sampling's K Philox calls
and gamma variates in tens of them). The kernel compiled for sm_90 is checked without a GPU in a
fresh process (triton_aot).

Measured interpreted (every case here): every bandit took the portable engine's arms; final
probabilities and P(best) were bit-identical, and so were rewards and estimates on binary rewards.
Gaussian rewards and the normal posterior's deviates take a float32 log in the kernel (the gradient
policy's normal, test_triton_engine.py): |d reward| <= 4.8e-7 per episode, |d estimate| <= 1.2e-7;
regrets are summed as a tree over arms (<= 9.5e-7 apart). On a GPU, divisions, square roots and the
logs of UCB and the gammas are IEEE or float64 as the portable engine's, but mul + add may fuse into
FMA: the CUDA tolerances are estimates (no GPU where this was written)."""

import json
import os
import subprocess
import sys

import pytest
import torch

CUDA = torch.cuda.is_available()
triton = pytest.importorskip("triton")

from batched_bandit import run_batch  # noqa: E402
from batched_bandit.engines import torch_engine, triton_engine  # noqa: E402
from batched_bandit.options import make_setup  # noqa: E402
from batched_bandit.policies import thompson  # noqa: E402

DEVICE = torch.device("cuda" if CUDA else "cpu")
if triton_engine.unavailable_reason(DEVICE) is not None:
    pytest.skip(triton_engine.unavailable_reason(DEVICE), allow_module_level=True)

N = 2000 if CUDA else 24  # bandits per comparison
SAME_PATH = 0.99 if CUDA else 1.0
TOLERANCE = dict(rtol=1e-4, atol=1e-4) if CUDA else dict(rtol=0, atol=1e-6)
GAUSSIAN_REWARD = 2e-6 if CUDA else 1e-6  # |d reward| per step: the normal deviate's float32 log

TESTBED = dict(means=(0.3, -0.8, 1.2, 0.1, -0.2, 0.9, -1.5, 0.6, 1.1, -0.4))  # K = 10: K_PAD 16
CASES = {
    "epsilon_greedy, seed arms": dict(policy="epsilon_greedy", epsilon=torch.linspace(0, 0.6, N)),
    "epsilon_greedy, testbed": dict(policy="epsilon_greedy", epsilon=0.2, **TESTBED),
    "greedy, two arms, ties": dict(policy="greedy", arms=(0.1, -0.1)),
    "greedy, optimistic, constant step, three arms": dict(
        policy="greedy", initial_value=3.0, step_size=0.2, means=(0.0, 0.5, -0.5)
    ),  # fmt: skip
    "greedy, optimistic, testbed": dict(policy="greedy", initial_value=5.0, **TESTBED),
    "ucb c = 2, testbed": dict(policy="ucb", ucb_c=2.0, **TESTBED),
    "ucb c = 0, Bernoulli": dict(policy="ucb", ucb_c=0.0, win_prob=(0.2, 0.5, 0.55, 0.7), reward_values=(1.0, 0.0)),
    "thompson, Bernoulli, five arms": dict(
        policy="thompson", win_prob=(0.2, 0.5, 0.55, 0.7, 0.3), reward_values=(1.0, 0.0)
    ),  # fmt: skip
    "thompson, testbed, prior": dict(policy="thompson", prior_mean=0.5, prior_sd=2.0, reward_sd=0.5, **TESTBED),
}


@pytest.fixture(autouse=True)
def cheap_p_best(monkeypatch):
    """Thompson sampling's P(best) from 4 posterior draws in both engines (32 cost the interpreter minutes)."""
    monkeypatch.setattr(thompson, "P_BEST_DRAWS", 4)


def both(options, n=N, first_id=2**32 - 7, **kw):
    batch = make_setup(n, torch.arange(n) + first_id, **options).batch.to(DEVICE)
    return [
        {
            name: getattr(out, name).cpu()
            for name in (
                "episode_rewards",
                "weights",
                "final_probs",
                "episode_p_best",
                "episode_regret",
                "episode_optimal",
            )
        }  # fmt: skip
        for out in (triton_engine.simulate(batch, **kw), torch_engine.simulate(batch, **kw))
    ]


@pytest.mark.parametrize("case", list(CASES))
def test_every_policy_matches_the_portable_engine(case):
    """Odd episodes (pairs of the stream straddle them), a 64-bit seed, ids across 2**32."""
    options = CASES[case]
    fused, portable = both(options, seed=2**64 - 3, n_episodes=3, steps_per_episode=7)
    gaussian = "means" in options
    tolerance = 7 * GAUSSIAN_REWARD if gaussian else 0.0
    same = ((fused["episode_rewards"] - portable["episode_rewards"]).abs() <= tolerance).flatten(1).all(dim=1)
    assert same.double().mean() >= SAME_PATH
    assert torch.equal(fused["episode_optimal"][same], portable["episode_optimal"][same])
    for name in ("weights", "final_probs", "episode_p_best", "episode_regret"):
        scale = 10 if gaussian and name in ("weights", "episode_regret") else 1  # the rewards' rounding
        torch.testing.assert_close(fused[name][same], portable[name][same], rtol=TOLERANCE["rtol"],
                                   atol=TOLERANCE["atol"] * scale)  # fmt: skip
    assert fused["final_probs"].shape == portable["final_probs"].shape


@pytest.mark.parametrize("case", ["epsilon_greedy, seed arms", "ucb c = 2, testbed", "thompson, Bernoulli, five arms"])
def test_every_step_matches_the_portable_engine(case):
    """One step per episode: each episode's sums are the step's arm and reward."""
    fused, portable = both(CASES[case], seed=5, n_episodes=20, steps_per_episode=1)
    tolerance = GAUSSIAN_REWARD if "means" in CASES[case] else 0.0
    same = ((fused["episode_rewards"] - portable["episode_rewards"]).abs() <= tolerance).flatten(1).all(dim=1)
    assert same.double().mean() >= SAME_PATH


def test_trajectories_do_not_depend_on_the_batch():
    for options in (CASES["greedy, two arms, ties"], CASES["thompson, Bernoulli, five arms"]):
        kw = dict(seed=9, n_episodes=2, steps_per_episode=5)
        whole = triton_engine.simulate(make_setup(9, torch.arange(9), **options).batch.to(DEVICE), **kw)
        for g in (0, 8):
            alone = triton_engine.simulate(make_setup(1, torch.tensor([g]), **options).batch.to(DEVICE), **kw)
            for name in ("episode_rewards", "weights", "final_probs", "episode_p_best"):
                assert torch.equal(getattr(alone, name)[0], getattr(whole, name)[g])


def test_run_batch_takes_every_policy_to_the_triton_engine():
    kw = dict(n_episodes=2, steps_per_episode=5, seed=4, backend="triton", device=DEVICE)
    for policy in ("epsilon_greedy", "greedy", "ucb", "thompson"):
        result = run_batch(10, policy=policy, **kw)
        assert result.backend == "triton" and result.final_probs.shape == (10, 4)
        assert torch.equal(run_batch(10, policy=policy, chunk_size=3, **kw).episode_rewards, result.episode_rewards)
    batch = make_setup(3, torch.arange(3), policy="ucb").batch.to(DEVICE)
    with pytest.raises(ValueError, match="does not trace"):
        triton_engine.simulate(batch, seed=0, n_episodes=1, steps_per_episode=4, record_every=2)


COMPILE = "import json, sys; from batched_bandit.engines import triton_aot as a; "
COMPILE += "print(json.dumps([a.inspect_policy(*case) for case in json.loads(sys.argv[1])]))"


def compiled(cases):
    env = {k: v for k, v in os.environ.items() if k != "TRITON_INTERPRET"}
    out = subprocess.run([sys.executable, "-c", COMPILE, json.dumps(cases)], env=env, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout.splitlines()[-1])


def test_policy_kernel_compiles_for_h100():
    """The interpreter accepts what the compiler may not (loop-carried types): compiled for sm_90, the
    value policies keep each bandit in one thread's registers (no local memory) at K = 10."""
    cases = [("epsilon_greedy", "gaussian", 10, 90), ("ucb", "binary", 4, 90)]
    for case, report in zip(cases, compiled(cases)):
        assert report["local"] == report["spill_instructions"] == 0, (case, report)


@pytest.mark.slow
def test_thompson_sampling_compiles_for_h100():
    """Gaussian and Bernoulli arms (the gamma variates' rejection loop): they compile; Beta posteriors
    at K = 10 (16 padded arms) spill some registers (measured: 261 spill instructions, sm_90)."""
    compiled([("thompson", "gaussian", 10, 90), ("thompson", "binary", 4, 90)])
