"""``batched-bandit threshold --axis temperature --target 0.9 [setting] --out DIR``."""

from __future__ import annotations

import argparse

from .args import Once, count, number, number_pair
from .run import DTYPES, add_run_options
from .sweep import MODEL_AXES, RANDOM, _vector


def add_parser(commands) -> argparse.ArgumentParser:
    from ..study.threshold import POSITIVE_AXES

    parser = commands.add_parser(
        "threshold",
        help="where does the success rate cross a target along one axis? (adaptive search)",
        description="Bracket the crossing, then bisect in log space with the shared random numbers; every point is "
        "a study in OUT/points/. Prints the axis value where the success rate crosses the target, with a 95% "
        "interval. Run the same command again to continue an interrupted search.",
    )
    parser.add_argument("--out", action=Once, required=True, help="folder for the points and the answer")
    parser.add_argument("--axis", action=Once, default="temperature", choices=POSITIVE_AXES, help="default temperature")
    parser.add_argument("--target", type=number, action=Once, default=0.9, help="success rate (default 0.9)")
    parser.add_argument("--bounds", type=number_pair("--bounds"), action=Once, default=(0.01, 10.0),
                        metavar="LOW,HIGH", help="where to look first (0.01,10; widened if needed)")  # fmt: skip
    parser.add_argument("--rtol", type=number, action=Once, default=0.02, help="stop when high/low <= 1 + rtol")
    parser.add_argument("--n-bandits", type=count("n_bandits"), action=Once, default=10000, help="per point")
    setting = parser.add_argument_group("the rest of the setting (one value each; sweep's flags)")
    for flag, name in MODEL_AXES.items():
        setting.add_argument(flag, action=Once, dest=name, metavar="VALUES", help=f"per arm, comma-separated, {RANDOM}")
    for flag, name in (("--temperature", "temperature"), ("--lr", "lr"), ("--momentum", "momentum"),
                       ("--weight-decay", "weight_decay"), ("--beta1", "beta1"), ("--beta2", "beta2"),
                       ("--eps", "eps"), ("--alpha", "alpha"), ("--baseline-decay", "baseline_decay"),
                       ("--reward-sd", "reward_sd")):  # fmt: skip
        setting.add_argument(flag, type=number, action=Once, dest=name)
    setting.add_argument("--episodes", type=count("n_episodes"), action=Once, dest="n_episodes")
    setting.add_argument("--steps", type=count("steps_per_episode"), action=Once, dest="steps_per_episode")
    setting.add_argument("--optimizer", action=Once, choices=("sgd", "adam", "rmsprop"))
    setting.add_argument("--baseline", action=Once, choices=("none", "mean", "ema"))
    setting.add_argument("--reward-values", type=number_pair("--reward-values"), action=Once, metavar="WIN,LOSS")
    add_run_options(parser)
    return parser


def run(args: argparse.Namespace, parser: argparse.ArgumentParser, argv: list[str]) -> int:
    from ..study import threshold

    names = ("temperature", "lr", "momentum", "weight_decay", "beta1", "beta2", "eps", "alpha", "baseline_decay",
             "reward_sd", "n_episodes", "steps_per_episode", "optimizer", "baseline", "reward_values")  # fmt: skip
    options = {k: getattr(args, k) for k in names if getattr(args, k) is not None}
    for flag, name in MODEL_AXES.items():
        if getattr(args, name) is not None:
            options[name] = _vector(flag, getattr(args, name))
    found = threshold(
        args.out, axis=args.axis, target=args.target, bounds=args.bounds, rtol=args.rtol, n_bandits=args.n_bandits,
        seed=args.seed, device=args.device, backend=args.backend, dtype=DTYPES[args.dtype], progress=args.progress,
        **options,
    )  # fmt: skip
    print(found.summary())
    return 0
