"""The peer a researcher would write: ε-greedy, greedy, UCB and Thompson sampling vectorised over
bandits in NumPy (one Python iteration a step, every bandit at once), on the 10-armed testbed.

    python benchmarks/peers/numpy_policies.py --n-bandits 10000 --steps 1000

Prints bandit-steps/s per policy. ``benchmarks/policies.py`` runs it beside the fused engine in one
run for the ratio. The statistics are the textbook's (numpy's generator, ties broken at random), so
the numbers it learns match the library's (a sanity check prints the mean reward per step).
"""

from __future__ import annotations

import argparse
import time

import numpy as np


def run(policy: str, n_bandits: int, steps: int, seed: int = 0, *, epsilon=0.1, initial_value=5.0, step_size=0.1,
        ucb_c=2.0, k: int = 10) -> tuple[float, float]:  # fmt: skip
    """(bandit-steps/s, mean reward per step) of ``policy`` on ``n_bandits`` testbed bandits."""
    rng = np.random.default_rng(seed)
    means = rng.standard_normal((n_bandits, k))
    rows = np.arange(n_bandits)
    q = np.full((n_bandits, k), initial_value if policy == "greedy" else 0.0)
    n = np.zeros((n_bandits, k))
    total = np.zeros((n_bandits, k))
    reward_sum = 0.0
    start = time.perf_counter()
    for t in range(1, steps + 1):
        if policy == "thompson":  # normal posteriors, prior N(0, 1), known sd 1
            precision = 1.0 + n
            scores = total / precision + rng.standard_normal((n_bandits, k)) / np.sqrt(precision)
        elif policy == "ucb":
            with np.errstate(divide="ignore", invalid="ignore"):
                scores = np.where(n == 0, np.inf, q + ucb_c * np.sqrt(np.log(t) / n))
        else:
            scores = q
        top = scores == scores.max(axis=1, keepdims=True)
        noise = rng.random((n_bandits, k)) * top  # ties broken at random
        arm = noise.argmax(axis=1)
        if policy == "epsilon_greedy":
            explore = rng.random(n_bandits) < epsilon
            arm = np.where(explore, rng.integers(0, k, n_bandits), arm)
        reward = means[rows, arm] + rng.standard_normal(n_bandits)
        reward_sum += reward.sum()
        n[rows, arm] += 1
        total[rows, arm] += reward
        alpha = step_size if policy == "greedy" else 1.0 / n[rows, arm]
        q[rows, arm] += alpha * (reward - q[rows, arm])
    elapsed = time.perf_counter() - start
    return n_bandits * steps / elapsed, reward_sum / (n_bandits * steps)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n-bandits", type=int, default=10_000)
    parser.add_argument("--steps", type=int, default=1000)
    args = parser.parse_args()
    for policy in ("epsilon_greedy", "greedy", "ucb", "thompson"):
        rate, mean_reward = run(policy, args.n_bandits, args.steps)
        print(f"{policy:16s} {rate:.3g} bandit-steps/s  (mean reward per step {mean_reward:.3f})")


if __name__ == "__main__":
    main()
