"""``batched-bandit run``: train N bandits and report how many pick the best arm."""

from __future__ import annotations

import argparse
import json

import torch

from ..run import run_batch
from ..state import BASELINES, OPTIMIZERS
from .args import Once, count, number, number_list, number_pair

BACKEND_HELP = 'engine: "auto", "cpu" (fused C), "torch" (portable) or "triton" (GPU) (default auto)'
DTYPES = {"float32": torch.float32, "float64": torch.float64}


def add_rule_options(parser: argparse.ArgumentParser) -> None:
    """The problem and the learning rule: run_batch's options (README "Python API"), one value each."""
    problem = parser.add_argument_group("problem (one reward model; default: the seed's arms 0.2,0,-0.2,-1)")
    model = problem.add_mutually_exclusive_group()
    model.add_argument("--arms", type=number_list, action=Once, help="threshold values: pays win if N(0,1) > value")
    model.add_argument("--win-prob", type=number_list, action=Once, help="Bernoulli arms: P(win) per arm")
    model.add_argument("--means", type=number_list, action=Once, help="Gaussian arms: mean reward per arm")
    problem.add_argument("--reward-sd", type=number, action=Once, help="sd of Gaussian rewards (default 1)")
    problem.add_argument(
        "--reward-values", type=number_pair("--reward-values"), action=Once, help="WIN,LOSS (default 1,-1)"
    )
    rule = parser.add_argument_group("rule (torch.optim's options and defaults)")
    rule.add_argument("--temperature", type=number, action=Once, help="softmax temperature T > 0 (default 10)")
    rule.add_argument("--lr", type=number, action=Once, help="learning rate > 0 (default 0.01)")
    rule.add_argument("--optimizer", choices=OPTIMIZERS, action=Once, help="optimizer (default sgd)")
    rule.add_argument("--momentum", type=number, action=Once, help="sgd, rmsprop: momentum in [0, 1) (default 0)")
    rule.add_argument("--dampening", type=number, action=Once, help="sgd: dampening in [0, 1] (default 0)")
    rule.add_argument("--nesterov", action="store_true", default=None, help="sgd: Nesterov momentum")
    rule.add_argument("--weight-decay", type=number, action=Once, help="L2 weight decay >= 0 (default 0)")
    rule.add_argument("--betas", type=number_pair("--betas"), action=Once, help="adam: BETA1,BETA2 (0.9,0.999)")
    rule.add_argument("--eps", type=number, action=Once, help="adam, rmsprop: eps > 0 (default 1e-8)")
    rule.add_argument("--alpha", type=number, action=Once, help="rmsprop: smoothing in [0, 1) (default 0.99)")
    rule.add_argument("--centered", action="store_true", default=None, help="rmsprop: centred")
    rule.add_argument("--baseline", choices=BASELINES, action=Once, help="reward baseline (default none)")
    rule.add_argument("--baseline-decay", type=number, action=Once, help="ema baseline: decay in [0, 1)")
    rule.add_argument("--init-weights", type=number_list, action=Once, help="one number, or one per arm (default 0)")


def rule_options(args: argparse.Namespace, parser: argparse.ArgumentParser) -> dict:
    """The run_batch options the user gave (the others keep run_batch's defaults)."""
    names = ("arms", "win_prob", "means", "reward_sd", "reward_values", "temperature", "lr", "optimizer",
             "momentum", "dampening", "nesterov", "weight_decay", "betas", "eps", "alpha", "centered")  # fmt: skip
    options = {name: getattr(args, name) for name in names if getattr(args, name, None) is not None}
    if args.baseline == "ema":
        if args.baseline_decay is None:
            parser.error("--baseline ema needs --baseline-decay D (b <- D b + (1 - D) r)")
        options["baseline"] = ("ema", args.baseline_decay)
    elif args.baseline_decay is not None:
        parser.error("--baseline-decay applies to --baseline ema only")
    elif args.baseline is not None:
        options["baseline"] = args.baseline
    if args.init_weights is not None:
        options["init_weights"] = args.init_weights[0] if len(args.init_weights) == 1 else args.init_weights
    return options


def add_run_options(parser: argparse.ArgumentParser) -> None:
    """Seed, device, backend, dtype: shared by run and sweep."""
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
    add_rule_options(parser)
    parser.add_argument("--episodes", type=count("n_episodes"), action=Once, default=50, dest="n_episodes")
    parser.add_argument(
        "--steps",
        type=count("steps_per_episode"),
        action=Once,
        default=1000,
        dest="steps_per_episode",
        help="per episode",
    )
    add_run_options(parser)
    parser.add_argument("--chunk-size", type=count("chunk_size"), action=Once, help="bandits per chunk")
    parser.add_argument(
        "--no-record-episodes", action="store_false", dest="record_episodes",
        help="keep only the last episode's per-arm sums (saves memory)",
    )  # fmt: skip
    parser.add_argument("--json", action="store_true", help="print the result's scalars as JSON")
    return parser


def run(args: argparse.Namespace, parser: argparse.ArgumentParser, argv: list[str]) -> int:
    result = run_batch(
        args.n_bandits,
        n_episodes=args.n_episodes,
        steps_per_episode=args.steps_per_episode,
        seed=args.seed,
        device=args.device,
        backend=args.backend,
        dtype=DTYPES[args.dtype],
        record_episodes=args.record_episodes,
        chunk_size=args.chunk_size,
        progress=args.progress,
        **rule_options(args, parser),
    )
    print(json.dumps(result.scalars(), indent=2) if args.json else result.summary())
    return 0
