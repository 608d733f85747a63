"""What tracing costs: each engine's rate with ``record_every=N`` beside the same run unrecorded.

    python benchmarks/trace.py                          # fused CPU engine, K = 4 and 10, N = 10
    python benchmarks/trace.py --arms 10 --every 1 10 100 --repeats 9
    python benchmarks/trace.py --backends triton --device cuda --n-bandits 1000000

Each cell (backend, K, N) runs ``run_batch`` once untraced and once traced to build and warm up,
then ``--repeats`` times alternately untraced, traced, untraced... so that the machine's load falls
on both alike, and prints the median bandit-steps/s of each and their ratio: of whole calls (the
engine and the result's assembly: the Trace in float64, contiguous) and of the engine's own call
(``engines.get(backend)``, timed inside the same calls). Issue 17's target: N = 10 at >= 80% of the
unrecorded rate on the fused CPU engine with K = 10 and one episode of 1,000 steps.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time

import torch

from batched_bandit import engines, run_batch
from batched_bandit.run import describe_device, resolve_device

_engine_seconds: list[float] = []
_get = engines.get


def _timed_get(backend: str):
    """engines.get, with each call of the engine timed into _engine_seconds."""
    simulate = _get(backend)

    def timed(*args, **kwargs):
        start = time.perf_counter()
        out = simulate(*args, **kwargs)
        _engine_seconds.append(time.perf_counter() - start)
        return out

    return timed


def rates(**kwargs) -> tuple[float, float]:
    """Bandit-steps/s of one ``run_batch(**kwargs)`` call: timed around the call, and in the engine."""
    _engine_seconds.clear()
    start = time.perf_counter()
    result = run_batch(**kwargs)
    steps = result.n_bandits * result.n_episodes * result.steps_per_episode
    return steps / (time.perf_counter() - start), steps / sum(_engine_seconds)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backends", nargs="+", default=["cpu"])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--n-bandits", type=int, default=20000)
    parser.add_argument("--arms", nargs="+", type=int, default=[4, 10], help="numbers of arms K")
    parser.add_argument("--every", nargs="+", type=int, default=[10], help="record_every values N")
    parser.add_argument("--episodes", type=int, default=1)
    parser.add_argument("--steps", type=int, default=1000, help="steps per episode")
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args(argv)

    device = resolve_device(args.device)
    load = " ".join(f"{x:.1f}" for x in os.getloadavg())
    print(
        f"# {describe_device(device)}; {platform.processor() or platform.machine()}, {os.cpu_count()} cores, load "
        f"average {load} at start; torch {torch.__version__}, {torch.get_num_threads()} threads; "
        f"{args.n_bandits:,} bandits x {args.episodes} x {args.steps:,} steps, temperature 10, lr 0.01; "
        f"median of {args.repeats}, traced and untraced alternately"
    )
    engines.get = _timed_get  # run_batch looks it up at each call
    print("| backend | K | record_every | untraced bandit-steps/s | traced bandit-steps/s | traced / untraced "
          "| engine alone: traced / untraced |")  # fmt: skip
    print("|---|---|---|---|---|---|---|")
    for backend in args.backends:
        for k in args.arms:
            job = dict(n_bandits=args.n_bandits, arms=torch.linspace(0.5, -1.0, k), n_episodes=args.episodes,
                       steps_per_episode=args.steps, device=device, backend=backend, record_episodes=False)  # fmt: skip
            for every in args.every:
                rates(**job), rates(**job, record_every=every)  # builds, warm-up
                plain, traced = [], []
                for _ in range(args.repeats):
                    plain.append(rates(**job))
                    traced.append(rates(**job, record_every=every))
                (untraced_rate, untraced_engine), (traced_rate, traced_engine) = (
                    [statistics.median(column) for column in zip(*runs)] for runs in (plain, traced))  # fmt: skip
                print(f"| {backend} | {k} | {every} | {untraced_rate:.3g} | {traced_rate:.3g} "
                      f"| {traced_rate / untraced_rate:.3f} | {traced_engine / untraced_engine:.3f} |",
                      flush=True)  # fmt: skip
    print(f"# load average at the end: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
