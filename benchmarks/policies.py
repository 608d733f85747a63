"""The field's baselines at fused speed (issue 18): bandit-steps/s of ε-greedy, greedy, UCB and Thompson
sampling on the fused CPU engine and in the vectorised NumPy peer, side by side in one run.

    python benchmarks/policies.py                      # 1e5 fused bandits, 1e4 NumPy ones, 2 threads
    python benchmarks/policies.py --markdown --repeats 3

The 10-armed testbed (Sutton & Barto §2.3: each bandit's arm means drawn from N(0, 1) before the
clock starts, as the peer draws them; Gaussian rewards of sd 1), one episode of ``--steps`` steps, the
peer's parameters (ε = 0.1; greedy Q₀ = 5, α = 0.1; UCB c = 2; Thompson sampling with the prior
N(0, 1)). Fused: ``backend="cpu"``, the engine alone (cpu_engine.simulate on a prepared batch: the
time loop, which the peer's timer covers) and whole ``run_batch`` calls (checks, set-up and result
assembly too), each the median of ``--repeats`` after a warm-up (the kernel's one-off build
excluded); rates in bandit-steps/s. NumPy: benchmarks/peers/numpy_policies.py, one Python iteration
a step over every bandit, median of ``--repeats``. Rates per CPU-second of the process (all its
threads) are printed too: on a loaded machine they show what the code does on idle cores. A last
row runs Thompson sampling on Bernoulli arms (Beta posteriors: two gamma variates per arm and step),
which the peer does not have. The machine may be shared: the 1-minute load average before and after
is printed.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import torch

from batched_bandit import run_batch
from batched_bandit.engines import cpu_engine
from batched_bandit.options import make_setup

sys.path.insert(0, str(Path(__file__).parent / "peers"))
import numpy_policies  # noqa: E402

OPTIONS = {
    "epsilon_greedy": dict(epsilon=0.1),
    "greedy": dict(initial_value=5.0, step_size=0.1),
    "ucb": dict(ucb_c=2.0),
    "thompson": {},
}
TARGETS = {"epsilon_greedy": 1.5e8, "greedy": 1.5e8, "ucb": 1.5e8, "thompson": 5e7}  # issue 18, on 2 cores


@dataclass
class Row:
    policy: str
    arms: str
    engine: float  # bandit-steps/s: the fused engine alone (wall clock)
    engine_cpu: float  # bandit-steps per CPU-second of the process (all threads)
    whole: float  # whole run_batch calls
    reward: float  # mean reward per step
    peer: float | None = None  # the NumPy peer (wall clock)
    peer_cpu: float | None = None
    peer_reward: float | None = None


def timed(function) -> tuple[float, float]:
    """(wall seconds, process CPU seconds) of ``function()``."""
    wall, cpu = time.perf_counter(), time.process_time()
    function()
    return time.perf_counter() - wall, time.process_time() - cpu


def fused_row(policy: str, arms_name: str, n_bandits: int, steps: int, repeats: int, arms) -> Row:
    kw = dict(policy=policy, n_episodes=1, steps_per_episode=steps, seed=0, backend="cpu", record_episodes=False,
              **arms, **OPTIONS[policy])  # fmt: skip
    run_batch(n_bandits, **{**kw, "steps_per_episode": 2})  # builds (or loads) the kernel of this policy
    batch = make_setup(n_bandits, torch.arange(n_bandits), policy=policy, **arms, **OPTIONS[policy]).batch
    sim = dict(seed=0, n_episodes=1, steps_per_episode=steps, record_episodes=False)
    engine = [timed(lambda: cpu_engine.simulate(batch, **sim)) for _ in range(repeats)]
    results = []
    whole = [timed(lambda: results.append(run_batch(n_bandits, **kw)))[0] for _ in range(repeats)]
    work = n_bandits * steps
    return Row(policy, arms_name, work / statistics.median(w for w, _ in engine),
               work / statistics.median(c for _, c in engine), work / statistics.median(whole),
               float(results[-1].episode_reward.mean()) / steps)  # fmt: skip


def add_peer(row: Row, n_bandits: int, steps: int, repeats: int) -> None:
    runs = []
    for s in range(repeats):
        cpu = time.process_time()
        rate, reward = numpy_policies.run(row.policy, n_bandits, steps, seed=s, **OPTIONS[row.policy])
        runs.append((rate, n_bandits * steps / (time.process_time() - cpu), reward))
    row.peer, row.peer_cpu = statistics.median(r[0] for r in runs), statistics.median(r[1] for r in runs)
    row.peer_reward = runs[-1][2]


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n-bandits", type=float, default=1e5, help="bandits of the fused engine")
    parser.add_argument("--numpy-bandits", type=float, default=1e4, help="bandits of the NumPy peer")
    parser.add_argument("--steps", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--policies", nargs="+", default=list(OPTIONS), choices=list(OPTIONS))
    parser.add_argument("--markdown", action="store_true")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    n_fused, n_numpy = int(args.n_bandits), int(args.numpy_bandits)
    gen = torch.Generator().manual_seed(0)  # each bandit's problem, drawn before the clock starts (as the peer's)
    testbed = dict(means=torch.randn(n_fused, 10, generator=gen, dtype=torch.float64))
    load_before = os.getloadavg()[0]
    rows = []
    for policy in args.policies:
        rows.append(fused_row(policy, "Gaussian", n_fused, args.steps, args.repeats, testbed))
        add_peer(rows[-1], n_numpy, args.steps, args.repeats)
    if "thompson" in args.policies:
        bernoulli = dict(win_prob=torch.rand(n_fused, 10, generator=gen, dtype=torch.float64), reward_values=(1.0, 0.0))
        rows.append(fused_row("thompson", "Bernoulli", n_fused, args.steps, args.repeats, bernoulli))
    load_after = os.getloadavg()[0]

    print(f"# {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, torch {torch.__version__}, "
          f"{args.threads} threads; fused {n_fused:,} bandits, NumPy {n_numpy:,}; K = 10, {args.steps} steps; "
          f"1-minute load {load_before:.1f} before, {load_after:.1f} after")  # fmt: skip
    header = ("policy", "arms", "fused engine", "target", "NumPy", "fused / NumPy", "fused run_batch",
              "fused per CPU-s", "NumPy per CPU-s", "reward/step fused", "NumPy")  # fmt: skip
    number = lambda x: "-" if x is None else f"{x:.3g}"  # noqa: E731
    lines = [(r.policy, r.arms, number(r.engine), f"{TARGETS[r.policy]:.2g}" if r.arms == "Gaussian" else "-",
              number(r.peer), "-" if r.peer is None else f"{r.engine / r.peer:.0f}x", number(r.whole),
              number(r.engine_cpu), number(r.peer_cpu), f"{r.reward:.3f}",
              "-" if r.peer_reward is None else f"{r.peer_reward:.3f}") for r in rows]  # fmt: skip
    if args.markdown:
        print("| " + " | ".join(header) + " |")
        print("|" + "---|" * len(header))
        for line in lines:
            print("| " + " | ".join(line) + " |")
    else:
        widths = [max(len(h), *(len(line[i]) for line in lines)) for i, h in enumerate(header)]
        for line in (header, *lines):
            print("  ".join(cell.rjust(w) for cell, w in zip(line, widths)))


if __name__ == "__main__":
    main()
