"""Time drawing a study's figures (issue 11, item 8: 1,000 settings in <= 1 s).

    python benchmarks/figures.py                         # 1,000 settings (40 temperatures x 25 lr)
    python benchmarks/figures.py --settings 120 1000 --repeats 7

The study is built fast (2 episodes x 5 steps, 32 bandits per setting: drawing does not depend on
the horizon's length, only on the number of settings and episodes) and outside the timed part.
Three timings, medians of --repeats after one warm-up call:

- draw: ``plot_sweep(out, rows=, curves=)``, what ``sweep`` does at its end (tables in hand);
- read + draw: ``plot_sweep(out)``, what ``batched-bandit plot`` does (reads the store first);
- first call: the first ``plot_sweep`` of a process (matplotlib's import and font set-up), once.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from batched_bandit import sweep

TEMPERATURES = 40
TINY = dict(n_episodes=2, steps_per_episode=5, n_bandits=32, seed=0)


def build(folder: Path, n_settings: int):
    """A study of n_settings settings: 40 temperatures x n_settings/40 learning rates."""
    n_lr = max(1, n_settings // TEMPERATURES)
    return sweep(folder, temperature=np.geomspace(0.01, 100, TEMPERATURES), lr=np.geomspace(1e-3, 0.1, n_lr), **TINY)


def median_time(repeats: int, call) -> float:
    call()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--settings", nargs="+", type=int, default=[1000])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args(argv)
    import matplotlib

    from batched_bandit.figures import plot_sweep

    print(f"CPU: {platform.processor() or platform.machine()}, Python {sys.version.split()[0]}, "
          f"matplotlib {matplotlib.__version__}; medians of {args.repeats}")  # fmt: skip
    print("| settings | figures | draw s | read + draw s | first call s |")
    print("|---:|---|---:|---:|---:|")
    with tempfile.TemporaryDirectory() as tmp:
        for i, n in enumerate(args.settings):
            folder = Path(tmp) / f"study{n}"
            result = build(folder, n)
            start = time.perf_counter()
            paths = plot_sweep(folder, rows=result.rows, curves=result.curves)
            first = time.perf_counter() - start
            draw = median_time(args.repeats, lambda: plot_sweep(folder, rows=result.rows, curves=result.curves))  # noqa: B023
            read = median_time(args.repeats, lambda: plot_sweep(folder))  # noqa: B023
            names = ", ".join(p.name for p in paths)
            first_text = f"{first:.2f}" if i == 0 else "(warm)"
            print(f"| {len(result.rows):,} | {names} | {draw:.2f} | {read:.2f} | {first_text} |")


if __name__ == "__main__":
    main()
