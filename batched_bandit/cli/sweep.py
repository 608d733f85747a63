"""``batched-bandit sweep``: success rate over a grid of settings, into a study folder."""

from __future__ import annotations

import argparse

from .args import Once, count, number
from .flags import AXIS, add_option_flags, given_axes, numeric_axes
from .run import DTYPES, add_run_options


def add_parser(commands) -> argparse.ArgumentParser:
    parser = commands.add_parser(
        "sweep",
        help="success rate over a grid of settings, into a study folder",
        description="Every setting of the grid (the product of the axes; an axis is crossed only with the settings "
        f"it applies to) trains --n-bandits bandits on the same random streams. A numeric axis is a {AXIS}. "
        "Finished tasks are committed to the folder's study.sqlite; run the same command again to continue an "
        "interrupted sweep.",
    )
    parser.add_argument("--out", action=Once, required=True, help="study folder (an interrupted sweep continues)")
    add_option_flags(parser, "axis")
    parser.add_argument(
        "--log", nargs="+", default=(), metavar="AXIS",
        help="log-space the ranges of these axes (same as writing start:stop:num:log)",
    )  # fmt: skip
    parser.add_argument("--n-bandits", type=count("n_bandits"), action=Once, default=10000,
                        help="per setting (with --precision: the first stage's count) (default 10000)")  # fmt: skip
    add_run_options(parser)
    study = parser.add_argument_group("tasks, precision and executors")
    study.add_argument("--block-bandits", type=count("block_bandits"), action=Once, default=None,
                       help="bandits per block; a task is a block of a group of settings (default 1024)")  # fmt: skip
    study.add_argument("--precision", type=number, action=Once, default=None, metavar="EPS",
                       help="give each setting blocks until its 95%% Wilson half-width is <= EPS")  # fmt: skip
    study.add_argument("--max-bandits", type=count("max_bandits"), action=Once, default=None,
                       help="with --precision: the most bandits a setting gets (default 1000000)")  # fmt: skip
    parser.add_argument("--record-every", type=count("record_every"), action=Once, default=None, metavar="N",
                        help="curves.csv and the learning curves get a point every N steps, inside episodes too "
                        "(default: one per episode)")  # fmt: skip
    study.add_argument("--dask-scheduler", action=Once, default=None, metavar="ADDRESS",
                       help="run the tasks on a running Dask cluster (tcp://host:8786)")  # fmt: skip
    study.add_argument("--dask-workers", type=count("--dask-workers"), action=Once, default=None, metavar="N",
                       help="start a local Dask cluster of N worker processes and run the tasks there")  # fmt: skip
    parser.add_argument("--no-figures", action="store_false", dest="figures", help="write no PNG figures")
    folder = parser.add_argument_group("the study folder")
    folder.add_argument("--wait", action="store_true", help="if another process is writing --out, wait for it")
    folder.add_argument("--repair", action="store_true",
                        help="delete the damaged rows of a damaged study.sqlite and compute them again")  # fmt: skip
    return parser


def axes_of(args: argparse.Namespace, parser: argparse.ArgumentParser) -> dict:
    """The sweep's axes from the command line (those not given keep sweep's defaults)."""
    numeric = numeric_axes()
    unknown = set(args.log) - set(numeric) - set(numeric.values())
    if unknown:
        parser.error(f"--log: unknown axis {sorted(unknown)[0]!r}; numeric axes are {', '.join(sorted(numeric))}")
    return given_axes(args, tuple(args.log))


def run(args: argparse.Namespace, parser: argparse.ArgumentParser, argv: list[str]) -> int:
    from ..study import dask_client, sweep

    axes = axes_of(args, parser)
    if args.dask_scheduler is not None and args.dask_workers is not None:
        parser.error("give --dask-scheduler ADDRESS or --dask-workers N, not both")
    client = None
    try:
        if args.dask_scheduler is not None or args.dask_workers is not None:
            client = dask_client(args.dask_scheduler, args.dask_workers)
        result = sweep(
            args.out, n_bandits=args.n_bandits, seed=args.seed, device=args.device, backend=args.backend,
            dtype=DTYPES[args.dtype], block_bandits=args.block_bandits, precision=args.precision,
            max_bandits=args.max_bandits, record_every=args.record_every, client=client, progress=args.progress,
            command=["batched-bandit", *argv], wait=args.wait, repair=args.repair, **axes,
        )  # fmt: skip
    finally:
        if client is not None:
            cluster = client.cluster if args.dask_workers is not None else None
            client.close()
            if cluster is not None:
                cluster.close()
    print(result.summary())
    if args.figures:
        draw_figures(args.out)
    return 0


def draw_figures(out) -> None:
    """The study's figures, drawn after its tables; a warning (not an error) without matplotlib."""
    import warnings

    from ..figures import plot_sweep, unavailable_reason

    missing = unavailable_reason()
    if missing is not None:
        warnings.warn(f"figures skipped: {missing}", stacklevel=2)
        return
    print("figures: " + ", ".join(path.name for path in plot_sweep(out)))
