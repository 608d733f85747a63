"""Every learning rule on the fused CPU engine and on the portable torch engine, side by side in one run.

    python benchmarks/rules.py                        # canonical shape, 3 repeats, Markdown table
    python benchmarks/rules.py --repeats 5 --fresh-cache

The fused engine runs the canonical shape (10,000 bandits x 50 episodes x 1,000 steps, K = 4); the
portable engine, 10-100x slower, runs 1,000 bandits x 1 x 1,000 steps, enough for its rate. Each
cell is the median of ``--repeats`` whole ``run_batch`` calls after a warm-up call, the rules taken
in turn within each repeat so that the machine's load falls on all of them alike.
``--fresh-cache`` builds every rule's kernel in an empty cache and reports its first-use compile time.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch

from batched_bandit import run_batch
from batched_bandit.engines import cpu_build
from batched_bandit.options import make_setup

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from rules import options  # noqa: E402  the tests' rule table

# rule of tests/rules.py -> target bandit-steps/s on the fused engine from issue 8, on 2 cores. Every
# one has 4 arms; the canonical temperature and lr replace the rule's own, and the other numbers
# (per-bandit or not) do not change the work of a step.
TARGETS = {
    "sgd (the seed)": 4.6e8,
    "sgd momentum 0.9 at the seed's arms": 2.5e8,
    "mean baseline at the seed's arms": 2.5e8,
    "adam at the seed's arms": 1.5e8,
    "rmsprop": 1.5e8,
    "gaussian": 2e8,
}
CANONICAL = dict(temperature=10.0, lr=0.01)


def rule_options(name: str, n_bandits: int) -> dict:
    return options(name, n_bandits, **CANONICAL)


def timed(repeats_out: list, **kwargs) -> None:
    start = time.perf_counter()
    run_batch(**kwargs)
    repeats_out.append(time.perf_counter() - start)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--n-bandits", type=int, default=10000)
    parser.add_argument("--episodes", type=int, default=50)
    parser.add_argument("--steps", type=int, default=1000)
    parser.add_argument("--torch-bandits", type=int, default=1000)
    parser.add_argument("--torch-steps", type=int, default=1000)
    parser.add_argument("--fresh-cache", action="store_true", help="build every kernel anew; report compile times")
    args = parser.parse_args(argv)
    if args.fresh_cache:
        os.environ["BATCHED_BANDIT_CACHE"] = tempfile.mkdtemp(prefix="bb-rules-")
    fused_job = dict(n_bandits=args.n_bandits, n_episodes=args.episodes, steps_per_episode=args.steps, backend="cpu")
    torch_job = dict(n_bandits=args.torch_bandits, n_episodes=1, steps_per_episode=args.torch_steps, backend="torch")
    compile_s = {}
    for name in TARGETS:  # build (first use) and warm up
        rule = make_setup(1, torch.arange(1), **rule_options(name, 1)).batch.rule
        start = time.perf_counter()
        cpu_build.load_kernel(rule)
        compile_s[name] = time.perf_counter() - start
        run_batch(64, n_episodes=1, steps_per_episode=10, backend="cpu", **rule_options(name, 64))
        run_batch(64, n_episodes=1, steps_per_episode=10, backend="torch", **rule_options(name, 64))
    fused = {name: [] for name in TARGETS}
    portable = {name: [] for name in TARGETS}
    for _ in range(args.repeats):
        for name in TARGETS:
            timed(fused[name], **fused_job, **rule_options(name, args.n_bandits))
            timed(portable[name], **torch_job, **rule_options(name, args.torch_bandits))
    fused_work = args.n_bandits * args.episodes * args.steps
    torch_work = args.torch_bandits * args.torch_steps
    print(f"# {platform.machine()}, {os.cpu_count()} cores, torch {torch.__version__}, {torch.get_num_threads()} "
          f"threads; median of {args.repeats}; fused: {args.n_bandits:,} x {args.episodes} x {args.steps:,}; "
          f"torch: {args.torch_bandits:,} x 1 x {args.torch_steps:,}")  # fmt: skip
    compile_header = " first-use compile s |" if args.fresh_cache else ""
    print(f"| rule | fused s | fused bandit-steps/s | target | torch bandit-steps/s | fused / torch |{compile_header}")
    print("|---|---|---|---|---|---|" + ("---|" if args.fresh_cache else ""))
    for name, target in TARGETS.items():
        wall = statistics.median(fused[name])
        rate, torch_rate = fused_work / wall, torch_work / statistics.median(portable[name])
        extra = f" {compile_s[name]:.2f} |" if args.fresh_cache else ""
        ratio = rate / torch_rate
        print(f"| {name} | {wall:.3f} | {rate:.3g} | {target:.2g} | {torch_rate:.3g} | {ratio:.1f}x |{extra}")


if __name__ == "__main__":
    main()
