"""Sutton & Barto's chapter-2 bandit algorithms as textbook loops: the oracle of policies/value.py
and policies/thompson.py, as reference.py's loop is the gradient policy's.

One bandit, a Python loop, numpy's generator, float64, and each algorithm written as the book
writes it: ε-greedy (§2.2–2.4), greedy with optimistic initial values and a constant step (§2.5,
2.6), UCB (§2.7, untried arms first), and Thompson sampling (Beta(1, 1) priors for binary rewards
mapped from (win, loss); normal priors for Gaussian rewards with known sd). Ties among the best
estimates are broken uniformly at random. The environments are reference.py's. ``run_batch``
never uses this module; the tests compare its statistics with the engines'.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .reference import BanditEnvironment, BernoulliEnvironment, GaussianEnvironment, expected_rewards


@dataclass(frozen=True)
class TextbookResult:
    episode_rewards: np.ndarray  # (n_episodes, K) per-arm reward sums of each episode
    success: bool  # argmax of the last episode's sums (first on ties) == the best arm
    regret: float  # pseudo-regret of the whole run
    reward: float  # mean reward per step
    optimal_action: float  # fraction of pulls on a best arm


def run_textbook(
    policy: str,
    arms,
    *,
    reward_model: str = "threshold",
    reward_values=(1.0, -1.0),
    reward_sd: float = 1.0,
    n_episodes: int = 1,
    steps_per_episode: int = 1000,
    seed: int = 0,
    epsilon: float = 0.1,
    initial_value: float = 0.0,
    step_size: float | None = None,
    ucb_c: float = 2.0,
    prior_mean: float = 0.0,
    prior_sd: float = 1.0,
) -> TextbookResult:
    """One bandit trained by ``policy`` ("epsilon_greedy", "greedy", "ucb" or "thompson")."""
    rng = np.random.default_rng(seed)
    environments = {"threshold": BanditEnvironment, "bernoulli": BernoulliEnvironment}
    env: BanditEnvironment
    if reward_model == "gaussian":
        env = GaussianEnvironment(arms, rng, reward_sd)
    elif reward_model in environments:
        env = environments[reward_model](arms, rng, reward_values)
    else:
        raise ValueError(f"unknown reward model {reward_model!r}")
    choose: dict[str, Callable[..., int]] = {
        "epsilon_greedy": _epsilon_greedy, "greedy": _greedy, "ucb": _ucb, "thompson": _thompson
    }  # fmt: skip
    if policy not in choose:
        raise ValueError(f"unknown policy {policy!r}: known are {', '.join(choose)}")
    k = env.n_arms
    mu = expected_rewards(reward_model, env.arms, reward_values)
    best = np.flatnonzero(mu == mu.max())
    q = np.full(k, initial_value if policy == "greedy" else 0.0)
    n = np.zeros(k)
    wins, losses, totals = np.zeros(k), np.zeros(k), np.zeros(k)
    options = dict(epsilon=epsilon, ucb_c=ucb_c, prior_mean=prior_mean, prior_sd=prior_sd, reward_sd=reward_sd,
                   binary=reward_model != "gaussian", wins=wins, losses=losses, totals=totals)  # fmt: skip
    sums = np.zeros((n_episodes, k))
    regret = reward_total = optimal = 0.0
    t = 0
    for episode in range(n_episodes):
        for _ in range(steps_per_episode):
            t += 1
            arm = choose[policy](rng, q, n, t, **options)
            reward = env.pull(arm)
            sums[episode, arm] += reward
            regret += mu.max() - mu[arm]
            reward_total += reward
            optimal += arm in best
            n[arm] += 1
            alpha = step_size if policy == "greedy" and step_size is not None else 1.0 / n[arm]
            q[arm] += alpha * (reward - q[arm])
            if reward_model != "gaussian":
                (wins if reward == reward_values[0] else losses)[arm] += 1
            totals[arm] += reward
    steps = n_episodes * steps_per_episode
    success = bool(np.argmax(sums[-1]) == env.best_arm())
    return TextbookResult(sums, success, regret, reward_total / steps, optimal / steps)


def _greedy_arm(rng: np.random.Generator, values: np.ndarray) -> int:
    """argmax, ties broken uniformly at random."""
    return int(rng.choice(np.flatnonzero(values == values.max())))


def _epsilon_greedy(rng, q, n, t, *, epsilon, **_) -> int:
    if rng.random() < epsilon:
        return int(rng.integers(len(q)))
    return _greedy_arm(rng, q)


def _greedy(rng, q, n, t, **_) -> int:
    return _greedy_arm(rng, q)


def _ucb(rng, q, n, t, *, ucb_c, **_) -> int:
    untried = np.flatnonzero(n == 0)
    if len(untried):  # an untried arm is a maximising one (Sutton & Barto, §2.7)
        return int(rng.choice(untried))
    return _greedy_arm(rng, q + ucb_c * np.sqrt(math.log(t) / n))


def _thompson(rng, q, n, t, *, binary, wins, losses, totals, prior_mean, prior_sd, reward_sd, **_) -> int:
    if binary:
        samples = rng.beta(wins + 1, losses + 1)
    else:
        precision = 1 / prior_sd**2 + n / reward_sd**2
        mean = (prior_mean / prior_sd**2 + totals / reward_sd**2) / precision
        samples = rng.normal(mean, 1 / np.sqrt(precision))
    return _greedy_arm(rng, samples)
