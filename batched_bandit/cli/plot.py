"""``batched-bandit plot``: redraw a study's figures from its store, without simulating."""

from __future__ import annotations

import argparse
import sys

from ..metrics import METRICS
from .args import Once

COLUMNS = "gap, eta, eta_over_gap2, lr_over_T2, n_arms, total_steps or param"


def add_parser(commands) -> argparse.ArgumentParser:
    parser = commands.add_parser(
        "plot",
        help="redraw a study's figures (finished, partial or interrupted) from its store",
        description="Draw success.png, reward.png, regret.png, p_best.png, learning_curves.png (and "
        "success_heatmap.png when two swept axes have 5 values or more) into the study folder DIR, from its "
        "study.sqlite: nothing is simulated; with --y METRIC, that metric's figure alone (METRIC.png, and "
        "METRIC_heatmap.png). By default x is the swept axis with the most values, the next axis makes the lines, "
        "the next the panels; what does not fit is held at one value and said on the figure.",
    )
    parser.add_argument("out", metavar="DIR", help="a study folder (written by batched-bandit sweep)")
    parser.add_argument("--x", action=Once, default=None, metavar="AXIS",
                        help=f"the column on x: a swept axis or a derived column ({COLUMNS}); or step: the metric "
                        "at each curve point against the steps done, log scale (METRIC_over_steps.png; regret "
                        "with the Lai-Robbins bound on binary problems)")  # fmt: skip
    parser.add_argument("--y", action=Once, default=None, choices=list(METRICS), metavar="METRIC",
                        help=f"the metric on y, with its 95%% interval: {', '.join(METRICS)} (default: the default "
                        "figures)")  # fmt: skip
    parser.add_argument("--lines", action=Once, default=None, metavar="AXIS", help="a swept axis drawn as lines")
    parser.add_argument("--facets", action=Once, default=None, metavar="AXIS", help="a swept axis drawn as panels")
    return parser


def run(args: argparse.Namespace, parser: argparse.ArgumentParser, argv: list[str]) -> int:
    from ..figures import plot_sweep, unavailable_reason

    missing = unavailable_reason()
    if missing is not None:
        print(f"batched-bandit plot: error: {missing}", file=sys.stderr)
        return 2
    for path in plot_sweep(args.out, x=args.x, lines=args.lines, facets=args.facets, y=args.y):
        print(path)
    return 0
