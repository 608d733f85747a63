"""An independent specification of one bandit's run, from the documentation's words
(docs/guide/rule.md, "Semantics"), in plain Python.

Nothing here uses batched_bandit: Philox4x32-10 with Python's exact integers, uniforms
``(word >> 8) * 2**-24``, normal deviates from ``statistics.NormalDist`` at the grid midpoints,
``P(win) = erfc(v / sqrt 2) / 2`` from ``math``, the softmax and the SGD step in float64. Engines
run in float32, so a bandit may leave this path where rounding crosses a sampling boundary;
tests compare the fraction of bandits that stay on it.
"""

from __future__ import annotations

import math
from statistics import NormalDist

MASK32 = 0xFFFFFFFF


def philox(counter, key, rounds=10):
    """Philox4x32 (Salmon et al. 2011) with exact integers: 4 counter words, 2 key words."""
    c0, c1, c2, c3 = counter
    k0, k1 = key
    for _ in range(rounds):
        p0, p1 = 0xD2511F53 * c0, 0xCD9E8D57 * c2
        c0, c1, c2, c3 = (p1 >> 32) ^ c1 ^ k0, p1 & MASK32, (p0 >> 32) ^ c3 ^ k1, p0 & MASK32
        k0, k1 = (k0 + 0x9E3779B9) & MASK32, (k1 + 0xBB67AE85) & MASK32
    return c0, c1, c2, c3


def step_words(seed: int, bandit: int, t: int) -> tuple[int, int]:
    """The two 32-bit words of step t of a bandit: counter (t // 2, bandit), key seed; words 0, 1
    for an even step, 2, 3 for an odd one."""
    pair = t // 2
    words = philox((pair & MASK32, pair >> 32, bandit & MASK32, bandit >> 32), (seed & MASK32, seed >> 32))
    return words[2 * (t % 2)], words[2 * (t % 2) + 1]


def uniform(word: int) -> float:
    return (word >> 8) * 2.0**-24


def normal(word: int) -> float:
    return NormalDist().inv_cdf(((word >> 8) + 0.5) * 2.0**-24)


def simulate(
    seed, bandit, *, model="threshold", params=(0.2, 0.0, -0.2, -1.0), win=1.0, loss=-1.0, sd=1.0,
    temperature=10.0, lr=0.01, baseline=None, n_episodes=2, steps=10, init=None,
):  # fmt: skip
    """One bandit trained with plain SGD (and a baseline): per-episode per-arm sums, final weights."""
    k = len(params)
    q = [math.erfc(v / math.sqrt(2)) / 2 for v in params] if model == "threshold" else list(params)
    w = list(init) if init is not None else [0.0] * k
    b, t, sums = 0.0, 0, []
    for _ in range(n_episodes):
        episode = [0.0] * k
        for _ in range(steps):
            z = [x / temperature for x in w]
            m = max(z)
            e = [math.exp(x - m) for x in z]
            total = sum(e)
            word_arm, word_reward = step_words(seed, bandit, t)
            threshold, cdf, arm = uniform(word_arm) * total, 0.0, k - 1
            for a in range(k - 1):  # the first arm whose cumulative sum exceeds u * total
                cdf += e[a]
                if threshold < cdf:
                    arm = a
                    break
            if model == "gaussian":
                reward = params[arm] + sd * normal(word_reward)
            else:
                reward = win if uniform(word_reward) < q[arm] else loss
            episode[arm] += reward
            if baseline == "mean":
                b += (reward - b) / (t + 1)
            elif baseline is not None:  # ("ema", decay)
                b = baseline[1] * b + (1 - baseline[1]) * reward
            advantage = reward - (b if baseline else 0.0)
            for a in range(k):  # w += (lr A / T) (onehot(arm) - p)
                w[a] += lr * advantage / temperature * ((a == arm) - e[a] / total)
            t += 1
        sums.append(episode)
    return sums, w
