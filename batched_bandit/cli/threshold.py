"""``batched-bandit threshold --axis temperature [--metric M] --target X [setting] --out DIR``."""

from __future__ import annotations

import argparse

from ..metrics import METRICS
from .args import Once, count, number, number_pair
from .flags import add_option_flags, given_options
from .run import DTYPES, add_run_options


def add_parser(commands) -> argparse.ArgumentParser:
    from ..study.search import POSITIVE_AXES

    parser = commands.add_parser(
        "threshold",
        help="where does a metric cross a target along one axis? (adaptive search)",
        description="Bracket the crossing, then bisect in log space with the shared random numbers; every point is "
        "a study in OUT/points/. Prints the axis value where the metric's mean over the bandits (the success rate by "
        "default) crosses the target, with a 95% interval, and the setting held fixed (also in threshold.json). Run "
        "the same command again to continue an interrupted search. The rest of the setting takes the options of "
        "batched-bandit run, one value each.",
    )
    parser.add_argument("--out", action=Once, required=True, help="folder for the points and the answer")
    parser.add_argument("--axis", action=Once, default="temperature", choices=POSITIVE_AXES, help="default temperature")
    parser.add_argument("--metric", action=Once, default="success", choices=list(METRICS), metavar="METRIC",
                        help=f"whose mean crosses the target: {', '.join(METRICS)} (default success)")  # fmt: skip
    parser.add_argument("--target", type=number, action=Once, default=None,
                        help="the metric's mean to cross (default 0.9 for success; needed for the others)")  # fmt: skip
    parser.add_argument("--bounds", type=number_pair("--bounds"), action=Once, default=(0.01, 10.0),
                        metavar="LOW,HIGH", help="where to look first (0.01,10; widened if needed)")  # fmt: skip
    parser.add_argument("--rtol", type=number, action=Once, default=0.02, help="stop when high/low <= 1 + rtol")
    parser.add_argument("--n-bandits", type=count("n_bandits"), action=Once, default=10000, help="per point")
    add_option_flags(parser, "value")
    add_run_options(parser)
    parser.add_argument("--no-figures", action="store_false", dest="figures", help="write no PNG figure")
    return parser


def run(args: argparse.Namespace, parser: argparse.ArgumentParser, argv: list[str]) -> int:
    from ..study import threshold

    options = given_options(args)
    found = threshold(
        args.out, axis=args.axis, metric=args.metric, target=args.target, bounds=args.bounds, rtol=args.rtol,
        n_bandits=args.n_bandits, seed=args.seed, device=args.device, backend=args.backend, dtype=DTYPES[args.dtype],
        progress=args.progress, **options,
    )  # fmt: skip
    print(found.summary())
    if args.figures:
        from ..figures import unavailable_reason
        from ..figures.search import plot_threshold

        if unavailable_reason() is None:
            print(f"figure: {plot_threshold(found).name}")
    return 0
