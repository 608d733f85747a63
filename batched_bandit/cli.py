"""The command line: ``batched-bandit run ...`` and ``batched-bandit sweep ...``. Configuration
lives here and nowhere else."""

from __future__ import annotations

import argparse
import json
import sys
import time
import warnings

import numpy as np
import torch

from .problem import SEED_ARMS
from .run import run_batch

BACKEND_HELP = 'engine: "auto", "cpu" (fused C), "torch" (portable) or "triton" (GPU) (default auto)'
DTYPES = {"float32": torch.float32, "float64": torch.float64}


class Progress:
    """Bandit-steps done, rate and ETA on stderr (and settings done, for sweeps): redrawn in place
    on a terminal, else a line every ``every`` seconds. Silent for runs that finish within
    ``delay`` seconds."""

    def __init__(self, stream=sys.stderr, delay: float = 1.0, every: float | None = None):
        self.stream, self.delay = stream, delay
        self.tty = stream.isatty()
        self.every = every if every is not None else (0.2 if self.tty else 10.0)
        self.start = time.perf_counter()
        self.last = self.start
        self.shown = False

    def __call__(self, done: int, total: int, settings_done: int | None = None, n_settings: int | None = None) -> None:
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
        if n_settings is not None:
            line = f"settings {settings_done}/{n_settings}  {line}"
        end = "\n" if done >= total or not self.tty else ""
        self.stream.write(("\r" if self.tty else "") + line + end)
        self.stream.flush()


def _arm_list(text: str) -> list[float]:
    try:
        return [float(x) for x in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated numbers, got {text!r}") from None


def parse_axis(option: str, text: str, *, log: bool = False, integer: bool = False) -> list:
    """A sweep axis from the command line: "0.1,1,10", or "start:stop:num" (linear; geometric
    with ``log``; rounded for an ``integer`` axis). ValueError naming ``option`` on bad input."""
    try:
        if ":" in text:
            parts = text.split(":")
            if len(parts) != 3:
                raise ValueError
            start, stop, num = float(parts[0]), float(parts[1]), int(parts[2])
        else:
            values = [float(x) for x in text.split(",")]
    except ValueError:
        raise ValueError(
            f"{option}: expected comma-separated numbers (0.1,1,10) or a range start:stop:num (0.01:100:25), "
            f"got {text!r}"
        ) from None
    if ":" in text:
        if num < 1:
            raise ValueError(f"{option}: a range needs num >= 1, got {text!r}")
        if log and (start <= 0 or stop <= 0):
            raise ValueError(f"{option} {text} with --log: start and stop must be > 0")
        values = (np.geomspace if log else np.linspace)(start, stop, num).tolist()
    if not integer:
        return values
    if not np.isfinite(values).all():
        raise ValueError(f"{option}: values must be whole numbers, got {text!r}")
    if ":" in text:  # a range of counts is rounded (100:10000:5 --log -> 100, 316, 1000, ...)
        rounded = [round(v) for v in values]
        if len(set(rounded)) < len(rounded):
            raise ValueError(f"{option}: the range {text} rounds to repeated whole numbers {rounded}")
        return rounded
    if any(v != round(v) for v in values):
        raise ValueError(f"{option}: values must be whole numbers, got {text!r}")
    return [round(v) for v in values]


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
    run.add_argument("--backend", default="auto", help=BACKEND_HELP)
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

    sweep = commands.add_parser(
        "sweep",
        help="success rate over a grid of temperature, lr, arms and horizon, into a results folder",
        description="Every setting of the grid (the product of the axes) trains --n-bandits bandits on the same "
        "random streams. An axis is a comma list (0.1,1,10) or a range start:stop:num, log-spaced with --log. "
        "Rows are saved after every chunk of settings; run the same command again to continue an interrupted sweep.",
    )
    sweep.add_argument("--out", required=True, help="results folder (created; an interrupted sweep continues there)")
    axis = "comma list or start:stop:num range"
    sweep.add_argument("--temperature", default="10", help=f"temperatures T > 0, {axis} (default 10)")
    sweep.add_argument("--lr", default="0.01", help=f"learning rates > 0, {axis} (default 0.01)")
    sweep.add_argument(
        "--arms",
        type=_arm_list,
        action="append",
        default=None,
        help="arm values, comma-separated, the lowest is best; repeat for several arm vectors (default 0.2,0,-0.2,-1)",
    )
    sweep.add_argument("--episodes", default="50", dest="n_episodes", help=f"episodes, {axis} (default 50)")
    sweep.add_argument(
        "--steps", default="1000", dest="steps_per_episode", help=f"steps per episode, {axis} (default 1000)"
    )
    sweep.add_argument("--log", action="store_true", help="ranges start:stop:num are log-spaced (geometric)")
    sweep.add_argument("--n-bandits", type=int, default=10000, help="bandits per setting (default 10000)")
    sweep.add_argument("--seed", type=int, default=0, help="seed of the counter-based random stream (default 0)")
    sweep.add_argument("--device", default="auto", help='"auto", "cpu", "cuda" or "cuda:N" (default auto)')
    sweep.add_argument("--backend", default="auto", help=BACKEND_HELP)
    sweep.add_argument("--dtype", default="float32", choices=sorted(DTYPES), help="float type (default float32)")
    sweep.add_argument(
        "--chunk-bandits",
        type=int,
        default=None,
        help="bandits per chunk of settings; rows are saved after each (default 2**18 on CPU, 2**20 on CUDA)",
    )
    sweep.add_argument("--no-figures", action="store_false", dest="figures", help="write no PNG figures")
    sweep.add_argument("--no-progress", action="store_false", dest="progress", help="no progress on stderr")
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    args = build_parser().parse_args(argv)
    try:
        if args.command == "sweep":
            return _sweep(args, argv)
        return _run(args)
    except ValueError as err:  # bad input: a message and exit status 2, as argparse does
        print(f"batched-bandit {args.command}: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        if args.command == "sweep":
            print(
                f"interrupted; finished settings are saved in {args.out}; run the same command again to continue",
                file=sys.stderr,
            )
        else:
            print("interrupted", file=sys.stderr)
        return 130


def _run(args) -> int:
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
    print(json.dumps(result.scalars(), indent=2) if args.json else result.summary())
    return 0


def _sweep(args, argv: list[str]) -> int:
    from .sweeps import sweep

    with warnings.catch_warnings():  # warnings as one line each, without the source line
        warnings.showwarning = lambda message, *_, **__: print(
            f"batched-bandit sweep: warning: {message}", file=sys.stderr, flush=True
        )
        result = sweep(
            args.out,
            temperature=parse_axis("--temperature", args.temperature, log=args.log),
            lr=parse_axis("--lr", args.lr, log=args.log),
            arms=args.arms or [list(SEED_ARMS)],
            n_episodes=parse_axis("--episodes", args.n_episodes, log=args.log, integer=True),
            steps_per_episode=parse_axis("--steps", args.steps_per_episode, log=args.log, integer=True),
            n_bandits=args.n_bandits,
            seed=args.seed,
            device=args.device,
            backend=args.backend,
            dtype=DTYPES[args.dtype],
            chunk_bandits=args.chunk_bandits,
            figures=args.figures,
            progress=Progress() if args.progress else None,
            command=["batched-bandit", *argv],
        )
    print(result.summary())
    return 0


if __name__ == "__main__":
    sys.exit(main())
