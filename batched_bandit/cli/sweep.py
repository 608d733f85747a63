"""``batched-bandit sweep``: success rate over a grid of settings, into a results folder."""

from __future__ import annotations

import argparse

from ..problem import SEED_ARMS
from .args import Once, count, number_list, parse_axis
from .run import DTYPES, add_run_options

AXIS = "comma list, or range start:stop:num (start:stop:num:log for log spacing)"


def add_parser(commands) -> argparse.ArgumentParser:
    parser = commands.add_parser(
        "sweep",
        help="success rate over a grid of settings, into a results folder",
        description="Every setting of the grid (the product of the axes) trains --n-bandits bandits on the same "
        f"random streams. An axis is a {AXIS}. Rows are saved after every chunk of settings; run the same "
        "command again to continue an interrupted sweep.",
    )
    parser.add_argument("--out", action=Once, required=True, help="results folder (an interrupted sweep continues)")
    parser.add_argument("--temperature", action=Once, default="10", help=f"temperatures T > 0, {AXIS} (default 10)")
    parser.add_argument("--lr", action=Once, default="0.01", help=f"learning rates > 0, {AXIS} (default 0.01)")
    parser.add_argument(
        "--arms", type=number_list, action="append", default=None,
        help="arm values, comma-separated, the lowest is best; repeat for several arm vectors (default 0.2,0,-0.2,-1)",
    )  # fmt: skip
    parser.add_argument("--episodes", action=Once, default="50", dest="n_episodes", help=f"episodes, {AXIS}")
    parser.add_argument("--steps", action=Once, default="1000", dest="steps_per_episode", help=f"steps, {AXIS}")
    parser.add_argument(
        "--log", nargs="+", default=(), metavar="AXIS",
        help="log-space the ranges of these axes (same as writing start:stop:num:log)",
    )  # fmt: skip
    parser.add_argument("--n-bandits", type=count("n_bandits"), action=Once, default=10000, help="per setting")
    add_run_options(parser)
    parser.add_argument(
        "--chunk-bandits", type=count("chunk_bandits"), action=Once, default=None,
        help="bandits per chunk of settings; rows are saved after each (default 2**18 on CPU, 2**20 on CUDA)",
    )  # fmt: skip
    parser.add_argument("--no-figures", action="store_false", dest="figures", help="write no PNG figures")
    return parser


def run(args: argparse.Namespace, parser: argparse.ArgumentParser, argv: list[str]) -> int:
    from ..progress import Bar
    from ..sweeps import sweep

    axes = {"temperature": "--temperature", "lr": "--lr", "n_episodes": "--episodes", "steps_per_episode": "--steps"}
    unknown = set(args.log) - set(axes) - {"episodes", "steps"}
    if unknown:
        parser.error(f"--log: unknown axis {sorted(unknown)[0]!r}; axes are {', '.join(axes)}")

    def axis(name: str, integer: bool = False):
        text = getattr(args, name)
        if name in args.log or axes[name].lstrip("-") in args.log:
            text = text if text.endswith(":log") or ":" not in text else f"{text}:log"
        return parse_axis(axes[name], text, integer=integer)

    bar = None

    def progress(done: int, total: int, settings_done: int, n_settings: int) -> None:
        nonlocal bar
        if bar is None:
            bar = Bar(total)
        bar.set_description(f"settings {settings_done}/{n_settings}")
        bar.update(done - bar.done)

    try:
        result = sweep(
            args.out,
            temperature=axis("temperature"),
            lr=axis("lr"),
            arms=args.arms or [list(SEED_ARMS)],
            n_episodes=axis("n_episodes", integer=True),
            steps_per_episode=axis("steps_per_episode", integer=True),
            n_bandits=args.n_bandits,
            seed=args.seed,
            device=args.device,
            backend=args.backend,
            dtype=DTYPES[args.dtype],
            chunk_bandits=args.chunk_bandits,
            figures=args.figures,
            progress=progress if args.progress else None,
            command=["batched-bandit", *argv],
        )
    finally:
        if bar is not None:
            bar.close()
    print(result.summary())
    return 0
