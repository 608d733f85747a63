"""Print a table of bandit-steps/s per backend, device and size, measured side by side in one run.

    python benchmarks/bench.py                       # the default grid on the CPU
    python benchmarks/bench.py --backends cpu torch --sizes 1e3 1e4 1e5 1e6 --arms 4 16 --markdown
    python benchmarks/bench.py --sizes 1e4 1e6 --device cuda --backends torch triton --markdown

Each cell runs ``run_batch`` once to warm up, then ``--repeats`` times, and reports the median
(whole call: simulation and result assembly). The reference loop (the seed's program) is timed on
a short horizon and reported per bandit-step like the rest.
"""

from __future__ import annotations

import argparse
import math
import platform
import statistics
import sys
import time

import torch

from batched_bandit import run_batch
from batched_bandit.reference import run_reference
from batched_bandit.run import describe_device, resolve_device


def time_run(repeats: int, **kwargs) -> float:
    """Median seconds of ``run_batch(**kwargs)`` after one warm-up call."""
    run_batch(**kwargs)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run_batch(**kwargs)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def time_reference(steps: int, repeats: int) -> float:
    times = []
    for seed in range(repeats + 1):
        start = time.perf_counter()
        run_reference(n_episodes=1, steps_per_episode=steps, seed=seed)
        times.append(time.perf_counter() - start)
    return statistics.median(times[1:])


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backends", nargs="+", default=["cpu", "torch"])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--sizes", nargs="+", type=float, default=[1e3, 1e4, 1e5])
    parser.add_argument("--arms", nargs="+", type=int, default=[4], help="numbers of arms K")
    parser.add_argument("--episodes", type=int, default=1)
    parser.add_argument("--steps", type=int, default=1000, help="steps per episode")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--reference-steps", type=int, default=2000, help="0 skips the reference")
    parser.add_argument("--markdown", action="store_true", help="print a Markdown table")
    parser.add_argument("--max-seconds", type=float, default=60.0, help="skip a cell estimated to take longer")
    args = parser.parse_args(argv)

    device = resolve_device(args.device)
    print(
        f"# {describe_device(device)}; torch {torch.__version__}, {torch.get_num_threads()} threads; "
        f"{platform.processor() or platform.machine()}; python {sys.version.split()[0]}; "
        f"{args.episodes} episode(s) x {args.steps} steps, temperature 10, lr 0.01, median of {args.repeats}"
    )
    rows = []
    rates: dict[str, float] = {}  # the last measured rate per backend, to skip hopeless cells
    if args.reference_steps:
        seconds = time_reference(args.reference_steps, args.repeats)
        rows.append(("reference (seed loop)", "cpu", 1, 4, seconds, args.reference_steps / seconds))
    for backend in args.backends:
        for k in args.arms:
            arms = torch.linspace(0.5, -1.0, k)
            for size in args.sizes:
                n = int(size)
                work = n * args.episodes * args.steps * k / 4
                if work / rates.get(backend, float("inf")) * (args.repeats + 1) > args.max_seconds:
                    rows.append((backend, device.type, n, k, float("nan"), float("nan")))
                    continue
                seconds = time_run(
                    args.repeats,
                    n_bandits=n,
                    arms=arms,
                    n_episodes=args.episodes,
                    steps_per_episode=args.steps,
                    device=device,
                    backend=backend,
                    record_episodes=False,
                )
                rows.append((backend, device.type, n, k, seconds, n * args.episodes * args.steps / seconds))
                rates[backend] = rows[-1][-1] * k / 4
    header = ("backend", "device", "n_bandits", "K", "seconds", "bandit-steps/s")
    if args.markdown:
        print("| " + " | ".join(header) + " |")
        print("|" + "---|" * len(header))
        for r in rows:
            if math.isnan(r[4]):
                print(f"| {r[0]} | {r[1]} | {r[2]:,} | {r[3]} | skipped (> {args.max_seconds:g} s) | |")
            else:
                print(f"| {r[0]} | {r[1]} | {r[2]:,} | {r[3]} | {r[4]:.4g} | {r[5]:.3g} |")
    else:
        print("{:<24}{:>8}{:>12}{:>5}{:>12}{:>16}".format(*header))
        for r in rows:
            print(f"{r[0]:<24}{r[1]:>8}{r[2]:>12,}{r[3]:>5}{r[4]:>12.4g}{r[5]:>16.3g}")


if __name__ == "__main__":
    main()
