"""The command line: ``batched-bandit run ...``. Configuration lives here and nowhere else."""

from __future__ import annotations

import argparse
import json
import sys
import time

import torch

from .problem import SEED_ARMS
from .run import run_batch

DTYPES = {"float32": torch.float32, "float64": torch.float64}


class Progress:
    """Bandit-steps done, rate and ETA on stderr: redrawn in place on a terminal, else a line
    every ``every`` seconds. Silent for runs that finish within ``delay`` seconds."""

    def __init__(self, stream=sys.stderr, delay: float = 1.0, every: float | None = None):
        self.stream, self.delay = stream, delay
        self.tty = stream.isatty()
        self.every = every if every is not None else (0.2 if self.tty else 10.0)
        self.start = time.perf_counter()
        self.last = self.start
        self.shown = False

    def __call__(self, done: int, total: int) -> None:
        now = time.perf_counter()
        elapsed = now - self.start
        if done < total and (elapsed < self.delay or now - self.last < self.every):
            return
        if done >= total and not self.shown:
            return
        self.last, self.shown = now, True
        rate = done / elapsed if elapsed > 0 else 0.0
        eta = (total - done) / rate if rate > 0 else float("inf")
        line = f"{100 * done / total:5.1f}%  {done:.3g} of {total:.3g} bandit-steps  {rate:.3g}/s  ETA {eta:.0f} s"
        end = "\n" if done >= total or not self.tty else ""
        self.stream.write(("\r" if self.tty else "") + line + end)
        self.stream.flush()


def _arm_list(text: str) -> list[float]:
    try:
        return [float(x) for x in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated numbers, got {text!r}") from None


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="batched-bandit",
        description="Many independent softmax policy-gradient bandits at once (the seed's experiment, batched).",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="train N bandits and report how many pick the best arm")
    run.add_argument("--n-bandits", type=int, default=10000, help="number of bandits (default 10000)")
    run.add_argument(
        "--arms",
        type=_arm_list,
        default=list(SEED_ARMS),
        help="arm values, comma-separated; the lowest is best (default 0.2,0,-0.2,-1)",
    )
    run.add_argument("--temperature", type=float, default=10.0, help="softmax temperature T > 0 (default 10)")
    run.add_argument("--lr", type=float, default=0.01, help="SGD learning rate > 0 (default 0.01)")
    run.add_argument("--episodes", type=int, default=50, dest="n_episodes", help="episodes (default 50)")
    run.add_argument(
        "--steps", type=int, default=1000, dest="steps_per_episode", help="steps per episode (default 1000)"
    )
    run.add_argument("--seed", type=int, default=0, help="seed of the counter-based random stream (default 0)")
    run.add_argument("--device", default="auto", help='"auto", "cpu", "cuda" or "cuda:N" (default auto)')
    run.add_argument("--backend", default="auto", help='engine: "auto" or "torch" (default auto)')
    run.add_argument("--dtype", default="float32", choices=sorted(DTYPES), help="float type (default float32)")
    run.add_argument("--chunk-size", type=int, default=None, help="bandits per chunk (default: per device)")
    run.add_argument(
        "--no-record-episodes",
        action="store_false",
        dest="record_episodes",
        help="keep only the last episode's per-arm sums (saves memory)",
    )
    run.add_argument("--json", action="store_true", help="print the result's scalars as JSON")
    run.add_argument("--no-progress", action="store_false", dest="progress", help="no progress on stderr")
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        result = run_batch(
            args.n_bandits,
            arms=args.arms,
            temperature=args.temperature,
            lr=args.lr,
            n_episodes=args.n_episodes,
            steps_per_episode=args.steps_per_episode,
            seed=args.seed,
            device=args.device,
            backend=args.backend,
            dtype=DTYPES[args.dtype],
            record_episodes=args.record_episodes,
            chunk_size=args.chunk_size,
            progress=Progress() if args.progress else None,
        )
    except ValueError as err:  # bad input: a message and exit status 2, as argparse does
        print(f"batched-bandit {args.command}: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    print(json.dumps(result.scalars(), indent=2) if args.json else result.summary())
    return 0


if __name__ == "__main__":
    sys.exit(main())
