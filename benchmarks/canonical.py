"""The canonical job (the seed's experiment for 10,000 bandits: 50 x 1,000 steps, 4 arms) on each
backend, side by side in one run, with the ratio to the last backend named.

    python benchmarks/canonical.py --backends cpu torch
    python benchmarks/canonical.py --backends triton torch --device cuda --n-bandits 10000 1000000
"""

from __future__ import annotations

import argparse
import time

import torch

from batched_bandit import run_batch
from batched_bandit.run import describe_device, resolve_device


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backends", nargs="+", default=["cpu", "torch"])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--n-bandits", type=int, nargs="+", default=[10000])
    args = parser.parse_args(argv)
    device = resolve_device(args.device)
    print(f"# {describe_device(device)}; torch {torch.__version__}, {torch.get_num_threads()} threads")
    print("| backend | n_bandits | wall s (run_batch, whole call) | bandit-steps/s | success rate | 95% CI |")
    print("|---|---|---|---|---|---|")
    for n in args.n_bandits:
        rates = {}
        for backend in args.backends:
            run_batch(64, n_episodes=1, steps_per_episode=10, backend=backend, device=device)  # warm-up/build
            start = time.perf_counter()
            res = run_batch(n, backend=backend, device=device, record_episodes=n <= 100_000)
            wall = time.perf_counter() - start
            rates[backend] = res.n_bandits * res.n_episodes * res.steps_per_episode / wall
            low, high = res.success_ci
            print(
                f"| {backend} | {n:,} | {wall:.3f} | {rates[backend]:.3g} | {res.success_rate:.4f} | "
                f"{low:.4f} .. {high:.4f} |"
            )
        base = args.backends[-1]
        for backend in args.backends[:-1]:
            print(f"# n_bandits {n:,}: {backend} / {base} = {rates[backend] / rates[base]:.1f}x")


if __name__ == "__main__":
    main()
