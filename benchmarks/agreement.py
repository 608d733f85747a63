"""How often two engines take exactly the same path: the fraction of bandits whose every arm and
reward agree over the first ``--steps`` steps, and the success rates of both on the full job.

    python benchmarks/agreement.py --backends cpu torch --n-bandits 10000 --steps 5000
    python benchmarks/agreement.py --backends triton torch --device cuda
    python benchmarks/agreement.py --rules --n-bandits 2000 --steps 1000   # every rule of the tests

``--rules`` takes the engine cases of the tests' rule table, ``tests/rules.py`` (optimizers and their
options, baselines, reward models, init weights, K from 3 to 20, per-bandit numbers; each at its own
temperature and lr) and reports, per rule, the same-path
fraction and, over the bandits on the same path, the largest differences of final weights, P(best)
and regret.

One step per episode makes each episode's per-arm sums hold exactly that step's arm and reward
(one entry of +-1), so the paths compare without any tracing hook in the engines. Both engines
draw the same counter-based stream; a difference means float rounding crossed a sampling boundary
(from there on that bandit's path differs).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch

from batched_bandit import run_batch
from batched_bandit.run import describe_device, resolve_device
from batched_bandit.stats import two_proportion_z


def same_path_fraction(a, b) -> float:
    return float(same_path(a, b).double().mean())


def same_path(a, b) -> torch.Tensor:
    return (a.episode_rewards == b.episode_rewards).all(dim=2).all(dim=1)


def rule_agreement(args, device, second_device) -> None:
    """Per rule of the tests: same-path fraction and the largest differences on those paths."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
    from rules import ENGINE_CASES, options

    print("| rule | bandits | steps | same path | max abs dw | max abs dP(best) | max abs d regret |")
    print("|---|---|---|---|---|---|---|")
    for name in ENGINE_CASES:
        kw = dict(n_episodes=args.steps, steps_per_episode=1, seed=8, **options(name, args.n_bandits))
        a = run_batch(args.n_bandits, backend=args.backends[0], device=device, **kw)
        b = run_batch(args.n_bandits, backend=args.backends[1], device=second_device, **kw)
        same = same_path(a, b)
        pairs = ((a.weights, b.weights), (a.episode_p_best, b.episode_p_best), (a.episode_regret, b.episode_regret))
        dw, dp, dr = (largest_difference(x, y, same) for x, y in pairs)
        print(f"| {name} | {args.n_bandits:,} | {args.steps:,} | {float(same.double().mean()):.4f} | {dw:.2e} | "
              f"{dp:.2e} | {dr:.2e} |")  # fmt: skip


def largest_difference(x: torch.Tensor, y: torch.Tensor, rows: torch.Tensor) -> float:
    return float((x[rows].double() - y[rows].double()).abs().max())


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backends", nargs=2, default=["cpu", "torch"])
    parser.add_argument("--device", default="cpu", help="device of the first backend (the second runs on the CPU)")
    parser.add_argument("--n-bandits", type=int, default=10000)
    parser.add_argument("--steps", type=int, default=5000, help="steps compared, from the first")
    parser.add_argument("--temperature", type=float, nargs="+", default=[0.03, 0.3, 3.0, 10.0])
    parser.add_argument("--lr", type=float, default=0.01)
    parser.add_argument("--rules", action="store_true", help="every rule of the tests instead of temperatures")
    args = parser.parse_args(argv)
    first, second = args.backends
    device = resolve_device(args.device)
    second_device = "cpu" if second in ("cpu", "torch") else device
    print(f"# {first} on {describe_device(device)} vs {second}; torch {torch.__version__}")
    if args.rules:
        rule_agreement(args, device, second_device)
        return
    print("| temperature | bandits | steps | same path | success (first) | success (second) | z | p |")
    print("|---|---|---|---|---|---|---|---|")
    for temperature in args.temperature:
        kw = dict(temperature=temperature, lr=args.lr, n_episodes=args.steps, steps_per_episode=1)
        a = run_batch(args.n_bandits, backend=first, device=device, **kw)
        b = run_batch(args.n_bandits, backend=second, device=second_device, **kw)
        same = same_path_fraction(a, b)
        del a, b
        job = dict(temperature=temperature, lr=args.lr, record_episodes=False)
        a = run_batch(args.n_bandits, backend=first, device=device, **job)
        b = run_batch(args.n_bandits, backend=second, device=second_device, **job)
        z, p = two_proportion_z(a.n_successes, a.n_bandits, b.n_successes, b.n_bandits)
        print(
            f"| {temperature:g} | {args.n_bandits:,} | {args.steps:,} | {same:.4f} | {a.success_rate:.4f} | "
            f"{b.success_rate:.4f} | {z:.2f} | {p:.3f} |"
        )


if __name__ == "__main__":
    main()
