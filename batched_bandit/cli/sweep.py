"""``batched-bandit sweep``: success rate over a grid of settings, into a study folder."""

from __future__ import annotations

import argparse

from ..state import BASELINES, OPTIMIZERS
from .args import Once, count, number, number_list, number_pair, parse_axis
from .run import DTYPES, add_run_options

AXIS = "comma list, or range start:stop:num (start:stop:num:log for log spacing)"
RANDOM = "or random problems normal:K:MEAN:SD, uniform:K:LOW:HIGH, gaps:K:LOW:HIGH[:BEST]"
# numeric axes: flag -> (axis, help)
NUMBER_AXES = {
    "--temperature": ("temperature", "temperatures T > 0 (default 10)"),
    "--lr": ("lr", "learning rates > 0 (default 0.01)"),
    "--reward-sd": ("reward_sd", "means arms: sd of the rewards (default 1)"),
    "--momentum": ("momentum", "sgd, rmsprop: momentum in [0, 1) (default 0)"),
    "--dampening": ("dampening", "sgd: dampening in [0, 1] (default 0)"),
    "--weight-decay": ("weight_decay", "L2 weight decay >= 0 (default 0)"),
    "--beta1": ("beta1", "adam: beta1 in [0, 1) (default 0.9)"),
    "--beta2": ("beta2", "adam: beta2 in [0, 1) (default 0.999)"),
    "--eps": ("eps", "adam, rmsprop: eps > 0 (default 1e-8)"),
    "--alpha": ("alpha", "rmsprop: smoothing in [0, 1) (default 0.99)"),
    "--baseline-decay": ("baseline_decay", "ema baseline: decay in [0, 1)"),
    "--init-weights": ("init_weights", "initial weight of every arm (default 0)"),
    "--episodes": ("n_episodes", "episodes (default 50)"),
    "--steps": ("steps_per_episode", "steps per episode (default 1000)"),
}
COUNTS = ("n_episodes", "steps_per_episode")
CHOICE_AXES = {"--optimizer": ("optimizer", OPTIMIZERS), "--baseline": ("baseline", BASELINES)}
BOOL_AXES = {"--nesterov": "nesterov", "--centered": "centered"}
MODEL_AXES = {"--arms": "arms", "--win-prob": "win_prob", "--means": "means"}
MODEL_HELP = {
    "arms": "threshold values per arm, the lowest best (default 0.2,0,-0.2,-1)",
    "win_prob": "Bernoulli arms: P(win) per arm",
    "means": "Gaussian arms: mean reward per arm",
}


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
    axes = parser.add_argument_group("axes (each a single value or several)")
    for flag, name in MODEL_AXES.items():
        axes.add_argument(
            flag, action="append", default=None, dest=name, metavar="VALUES",
            help=f"{MODEL_HELP[name]}, comma-separated, {RANDOM}; repeat for several",
        )  # fmt: skip
    axes.add_argument("--reward-values", type=number_pair("--reward-values"), action="append", default=None,
                      metavar="WIN,LOSS", help="binary rewards (default 1,-1); repeat for several")  # fmt: skip
    for flag, (name, text) in NUMBER_AXES.items():
        axes.add_argument(flag, action=Once, dest=name, metavar="AXIS", help=f"{text}; {AXIS}")
    for flag, (name, choices) in CHOICE_AXES.items():
        axes.add_argument(flag, action=Once, dest=name, metavar="LIST", help=f"comma list of {', '.join(choices)}")
    for flag, name in BOOL_AXES.items():
        axes.add_argument(flag, action=Once, dest=name, metavar="LIST", help="comma list of true, false")
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
    names = {name for name, _ in NUMBER_AXES.values()}
    unknown = set(args.log) - names - {"episodes", "steps"}
    if unknown:
        parser.error(f"--log: unknown axis {sorted(unknown)[0]!r}; numeric axes are {', '.join(sorted(names))}")
    axes = {}
    for flag, (name, _) in NUMBER_AXES.items():
        text = getattr(args, name)
        if text is None:
            continue
        if name in args.log or flag.lstrip("-") in args.log:
            text = text if text.endswith(":log") or ":" not in text else f"{text}:log"
        axes[name] = parse_axis(flag, text, integer=name in COUNTS)
    for name, _ in CHOICE_AXES.values():
        if getattr(args, name) is not None:
            axes[name] = getattr(args, name).split(",")
    for flag, name in BOOL_AXES.items():
        if getattr(args, name) is not None:
            axes[name] = [_bool(flag, v) for v in getattr(args, name).split(",")]
    for flag, name in MODEL_AXES.items():
        if getattr(args, name) is not None:
            axes[name] = [_vector(flag, v) for v in getattr(args, name)]
    if args.reward_values is not None:
        axes["reward_values"] = args.reward_values
    return axes


def _bool(flag: str, text: str) -> bool:
    if text.lower() not in ("true", "false"):
        raise ValueError(f"{flag}: expected a comma list of true, false, got {text!r}")
    return text.lower() == "true"


def _vector(flag: str, text: str):
    from ..study import RandomArms

    if text.split(":")[0] in ("normal", "uniform", "gaps"):
        return RandomArms.parse(text)
    try:
        return number_list(text)
    except argparse.ArgumentTypeError as err:
        raise ValueError(f"{flag}: {err}, {RANDOM}") from None


def run(args: argparse.Namespace, parser: argparse.ArgumentParser, argv: list[str]) -> int:
    from ..study import dask_client, sweep

    axes = axes_of(args, parser)
    if args.dask_scheduler is not None and args.dask_workers is not None:
        parser.error("give --dask-scheduler ADDRESS or --dask-workers N, not both")
    client = None
    if args.dask_scheduler is not None or args.dask_workers is not None:
        client = dask_client(args.dask_scheduler, args.dask_workers)
    try:
        result = sweep(
            args.out, n_bandits=args.n_bandits, seed=args.seed, device=args.device, backend=args.backend,
            dtype=DTYPES[args.dtype], block_bandits=args.block_bandits, precision=args.precision,
            max_bandits=args.max_bandits, client=client, figures=args.figures, progress=args.progress,
            command=["batched-bandit", *argv], wait=args.wait, repair=args.repair, **axes,
        )  # fmt: skip
    finally:
        if client is not None:
            cluster = client.cluster if args.dask_workers is not None else None
            client.close()
            if cluster is not None:
                cluster.close()
    print(result.summary())
    return 0
