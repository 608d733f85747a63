"""``batched-bandit optimum --axis lr --minimize regret [--by AXIS] [setting] --out DIR``."""

from __future__ import annotations

import argparse

from ..metrics import METRICS
from ..schema import OPTIONS
from .args import Once, count, number, number_pair
from .flags import add_option_flags, given_axes
from .run import DTYPES, add_run_options


def add_parser(commands) -> argparse.ArgumentParser:
    from ..study.points import POSITIVE_AXES

    parser = commands.add_parser(
        "optimum",
        help="where along one axis is a metric lowest or highest? (adaptive search, with 95%% intervals)",
        description="Bracket the best point on a log grid, then refine around it in log space with the shared random "
        "numbers (every point is a study in OUT/points/, on the same bandits). Prints the axis value where the "
        "metric's mean over the bandits is best and the mean there, each with a 95% interval (a bootstrap over "
        "bandits of a quadratic fit in log(axis)), and the setting held fixed (also in OUT/optimum.json). --by AXIS "
        "runs one search per value of another axis (in OUT/AXIS=VALUE/) and prints a table. Run the same command "
        "again to continue an interrupted search. The rest of the setting takes the options of batched-bandit sweep, "
        "one value each (several for the --by axis).",
    )
    parser.add_argument("--out", action=Once, required=True, help="folder for the points and the answer")
    parser.add_argument("--axis", action=Once, default="lr", choices=POSITIVE_AXES, help="searched (default lr)")
    goal = parser.add_mutually_exclusive_group(required=True)
    goal.add_argument("--minimize", action=Once, choices=list(METRICS), metavar="METRIC",
                      help=f"the metric whose mean is made lowest: {', '.join(METRICS)}")  # fmt: skip
    goal.add_argument("--maximize", action=Once, choices=list(METRICS), metavar="METRIC",
                      help="the metric whose mean is made highest")  # fmt: skip
    parser.add_argument("--by", action=Once, default=None, metavar="AXIS",
                        help="one search per value of this axis, as a table: its values are its flag's (--optimizer "
                        "sgd,adam), by default every choice of a choice or true/false option")  # fmt: skip
    parser.add_argument("--bounds", type=number_pair("--bounds"), action=Once, default=(0.001, 10.0),
                        metavar="LOW,HIGH", help="the first grid (0.001,10; widened if best at an end)")  # fmt: skip
    parser.add_argument("--rtol", type=number, action=Once, default=0.05,
                        help="stop when the best point's neighbours are within 1 + rtol (default 0.05)")  # fmt: skip
    parser.add_argument("--max-points", type=count("max_points"), action=Once, default=60,
                        help="the most points a search evaluates (default 60)")  # fmt: skip
    parser.add_argument("--n-bandits", type=count("n_bandits"), action=Once, default=10000, help="per point")
    add_option_flags(parser, "axis")
    add_run_options(parser)
    parser.add_argument("--no-figures", action="store_false", dest="figures", help="write no PNG figure")
    return parser


def setting_of(args: argparse.Namespace, by: str | None) -> dict:
    """The options the command line gave: one value each, a list for the --by axis."""
    options = {}
    for name, values in given_axes(args).items():
        if name == by or not isinstance(values, list):
            options[name] = values
        elif len(values) == 1:
            options[name] = values[0]
        else:
            raise ValueError(f"{OPTIONS[name].flag}: give one value (a search holds every option but --axis at one "
                             f"value); for one search per value, --by {name}")  # fmt: skip
    return options


def axis_named(text: str | None) -> str | None:
    """--by's axis, by its name or its flag's (steps_per_episode, steps, weight-decay)."""
    if text is None:
        return None
    for option in OPTIONS.values():
        if text.replace("-", "_") == option.name or text.lstrip("-") == option.flag.lstrip("-"):
            return option.name
    raise ValueError(f"--by: unknown axis {text!r}; the axes are {', '.join(OPTIONS)}")


def run(args: argparse.Namespace, parser: argparse.ArgumentParser, argv: list[str]) -> int:
    from ..study import optimum

    by = axis_named(args.by)
    found = optimum(
        args.out, axis=args.axis, minimize=args.minimize, maximize=args.maximize, by=by, bounds=args.bounds,
        rtol=args.rtol, max_points=args.max_points, n_bandits=args.n_bandits, seed=args.seed, device=args.device,
        backend=args.backend, dtype=DTYPES[args.dtype], progress=args.progress, **setting_of(args, by),
    )  # fmt: skip
    print(found.summary())
    if args.figures:
        from ..figures import unavailable_reason
        from ..figures.optimum import plot_optimum

        if unavailable_reason() is None:
            print(f"figure: {plot_optimum(found).name}")
    return 0
