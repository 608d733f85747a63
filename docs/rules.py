"""The rule's design choices at the seed's arms: success rate against temperature, and against each
rule's effective step, for SGD, SGD + momentum, SGD + mean baseline, Adam and RMSprop.

    python docs/rules.py [--out study/rules] [--n-bandits 10000]

One sweep per rule (25 temperatures, lr = 0.01, 50 x 1,000 steps, the seed's arms), then one figure
(docs/rules.png) and a table (docs/rules.csv) from their stores. The effective step from zero
weights is lr / T^2 for SGD (with or without momentum and a baseline) and lr / T for Adam and
RMSprop; with momentum m, SGD's steady-state step is lr / ((1 - m) T^2), drawn as such.
"""

from __future__ import annotations

import argparse
import csv
from pathlib import Path

import numpy as np

from batched_bandit import sweep
from batched_bandit.study import open_study

RULES = {
    "SGD (the seed)": dict(optimizer="sgd"),
    "SGD, momentum 0.9": dict(optimizer="sgd", momentum=0.9),
    "SGD, mean baseline": dict(optimizer="sgd", baseline="mean"),
    "Adam": dict(optimizer="adam"),
    "RMSprop": dict(optimizer="rmsprop"),
}
TEMPERATURES = np.geomspace(0.001, 100, 26)
LR = 0.01


def effective_step(rule: dict, temperature: float) -> float:
    if rule["optimizer"] == "sgd":
        return LR / (1 - rule.get("momentum", 0.0)) / temperature**2
    return LR / temperature


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default="study/rules")
    parser.add_argument("--n-bandits", type=int, default=10000)
    args = parser.parse_args()
    rows = {}
    for name, rule in RULES.items():
        folder = Path(args.out) / "_".join(f"{k}-{v}" for k, v in rule.items())
        sweep(folder, temperature=TEMPERATURES, lr=LR, n_bandits=args.n_bandits, **rule)
        with open_study(folder) as study:
            rows[name] = study.rows()
    docs = Path(__file__).parent
    with open(docs / "rules.csv", "w", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(["rule", "temperature", "lr", "effective_step", "n", "success_rate", "ci_low", "ci_high",
                         "mean_final_p_best", "locked_wrong"])  # fmt: skip
        for name, mine in rows.items():
            for r in mine:
                eta = effective_step(RULES[name], r["temperature"])
                numbers = [
                    f"{r[k]:.4f}" for k in ("success_rate", "ci_low", "ci_high", "mean_final_p_best", "locked_wrong")
                ]
                writer.writerow([name, repr(r["temperature"]), LR, f"{eta:.6g}", r["n"], *numbers])
    draw(rows, docs / "rules.png", args.n_bandits)


def draw(rows: dict, path: Path, n_bandits: int) -> None:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(12.5, 4.6), dpi=100, layout="constrained")
    FigureCanvasAgg(fig)
    left, right = fig.subplots(1, 2, sharey=True)
    for (name, mine), colour in zip(rows.items(), ["black", "tab:blue", "tab:green", "tab:red", "tab:orange"]):
        t = np.array([r["temperature"] for r in mine])
        rate = np.array([r["success_rate"] for r in mine])
        low, high = np.array([r["ci_low"] for r in mine]), np.array([r["ci_high"] for r in mine])
        eta = np.array([effective_step(RULES[name], x) for x in t])
        for ax, x in ((left, t), (right, eta)):
            ax.fill_between(x, low, high, color=colour, alpha=0.2, lw=0)
            ax.plot(x, rate, "o-", ms=3, lw=1.3, color=colour, label=name)
    left.set_xlabel("temperature T (log scale)")
    right.set_xlabel("effective step: lr / T² (SGD; / (1 - m) with momentum), lr / T (Adam, RMSprop)")
    for ax in (left, right):
        ax.set_xscale("log")
        ax.set_ylim(-0.03, 1.03)
        ax.grid(alpha=0.3)
    left.set_ylabel("success rate (95% Wilson band)")
    right.invert_xaxis()  # large steps on the left, as low temperatures are on the left panel
    left.legend(loc="lower right", frameon=False)
    fig.suptitle(
        f"Success rate of five rules at the seed's arms (0.2, 0, -0.2, -1), lr = {LR}, 50 x 1,000 steps, "
        f"{n_bandits:,} bandits per point, seed 0"
    )
    fig.savefig(path, metadata={"Software": None})


if __name__ == "__main__":
    main()
