"""``batched-bandit run``: train N bandits and report how many pick the best arm."""

from __future__ import annotations

import argparse
import json

import torch

from ..metrics import METRICS
from ..run import run_batch
from .args import Once, count
from .flags import add_option_flags, given_options

BACKEND_HELP = 'engine: "auto", "cpu" (fused C), "torch" (portable) or "triton" (GPU) (default auto)'
DTYPES = {"float32": torch.float32, "float64": torch.float64}


def add_run_options(parser: argparse.ArgumentParser) -> None:
    """Seed, device, backend, dtype, progress: shared by every command that simulates."""
    parser.add_argument("--seed", type=int, action=Once, default=0, help="seed of the counter-based stream (default 0)")
    parser.add_argument(
        "--device", action=Once, default="auto", help='"auto", "cpu", "cuda" or "cuda:N" (default auto)'
    )
    parser.add_argument("--backend", action=Once, default="auto", help=BACKEND_HELP)
    parser.add_argument("--dtype", choices=sorted(DTYPES), action=Once, default="float32", help="default float32")
    parser.add_argument(
        "--progress", action=argparse.BooleanOptionalAction, default=True,
        help="progress on stderr: a live bar on a terminal, else a line every few seconds (default on)",
    )  # fmt: skip


def add_parser(commands) -> argparse.ArgumentParser:
    parser = commands.add_parser(
        "run",
        help="train N bandits and report how many pick the best arm",
        description="Train N independent bandits (the seed's experiment, or a generalisation of it) and report "
        "the success rate with its 95% interval, P(best arm) and regret.",
    )
    parser.add_argument("--n-bandits", type=count("n_bandits"), action=Once, default=10000, help="default 10000")
    add_option_flags(parser, "value")
    add_run_options(parser)
    parser.add_argument("--chunk-size", type=count("chunk_size"), action=Once, help="bandits per chunk")
    parser.add_argument(
        "--no-record-episodes", action="store_false", dest="record_episodes",
        help="keep only the last episode's per-arm sums (saves memory)",
    )  # fmt: skip
    parser.add_argument("--record-every", type=count("record_every"), action=Once, default=None, metavar="N",
                        help="also trace every metric every N steps, inside episodes too: --json then gives the "
                        "mean over bandits at each point (trace)")  # fmt: skip
    parser.add_argument("--json", action="store_true", help="print the result's scalars as JSON")
    return parser


def run(args: argparse.Namespace, parser: argparse.ArgumentParser, argv: list[str]) -> int:
    options = given_options(args)
    result = run_batch(
        args.n_bandits,
        seed=args.seed,
        device=args.device,
        backend=args.backend,
        dtype=DTYPES[args.dtype],
        record_episodes=args.record_episodes,
        chunk_size=args.chunk_size,
        record_every=args.record_every,
        progress=args.progress,
        **options,
    )
    print(json.dumps(as_json(result), indent=2) if args.json else result.summary())
    return 0


def as_json(result) -> dict:
    """The scalars, and with a trace each metric's mean over bandits at each of its points."""
    scalars = result.scalars()
    trace = result.trace
    if trace is None:
        return scalars
    means = {name: getattr(trace, name).double().mean(dim=0).tolist() for name in METRICS}
    return {**scalars, "trace": {"step": trace.steps.tolist(), **means}}
