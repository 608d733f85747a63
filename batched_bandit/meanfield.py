"""The mean-field (expected-update) dynamics of the softmax policy gradient with SGD.

Replace each step's noisy gradient by its expectation over the arm draw and the reward:

    E[g] = -(1 / T) sum_a p_a mu_a (onehot(a) - p) = -(1 / T) p * (mu - p . mu),

and iterate torch.optim.SGD's update (momentum, dampening, Nesterov and weight decay included) on
it from the initial weights. A baseline b drops out: sum_a p_a (onehot(a) - p) = 0, so the expected
update is the same with or without one (baselines change the noise, not the mean). These dynamics
never lock in on a wrong arm: the best arm's mu* >= p . mu, so its weight never falls, and every arm
below the current average loses weight. Lock-in seen in simulation is therefore a noise effect
of the step size. Adam and RMSprop normalise by the gradient's second moment, which the mean
gradient does not carry: no mean field is given for them.

The loop is numpy's here; ``loop=`` runs the same recurrence elsewhere (the study layer passes
the fused CPU engine's C loop, engines/cpu_engine.py ``mean_field_loop``, 10x faster; tests
compare the two).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Recurrence:
    """The mean field's numbers for S settings of K arms, float64, contiguous, setting first."""

    mu: np.ndarray  # (S, K) expected reward per arm
    inv_t: np.ndarray  # (S, 1) 1 / T
    lr: np.ndarray  # (S, 1)
    momentum: np.ndarray  # (S, 1)
    factor: np.ndarray  # (S, 1) SGD's factor of the gradient in the buffer: 1 - dampening (1 without momentum)
    nesterov: np.ndarray  # (S, 1) bool
    weight_decay: np.ndarray  # (S, 1)
    init_weights: np.ndarray  # (S, K)
    best: np.ndarray  # (S,) int64


def mean_field_p_best(
    mu: np.ndarray,
    best: np.ndarray,
    temperature: np.ndarray,
    lr: np.ndarray,
    n_episodes: int,
    steps_per_episode: int,
    *,
    init_weights: np.ndarray | None = None,
    momentum: np.ndarray | float = 0.0,
    dampening: np.ndarray | float = 0.0,
    nesterov: np.ndarray | bool = False,
    weight_decay: np.ndarray | float = 0.0,
    loop: Callable[[Recurrence, int, int], np.ndarray | None] | None = None,
) -> np.ndarray:
    """P(best arm) of the expected-update trajectory at each episode's end, float64.

    mu: (S, K) expected reward per arm; best: (S,) int; temperature, lr, momentum, dampening,
    weight_decay, nesterov: (S,) or scalars; init_weights: (S, K) (default 0). Returns (S, n_episodes).
    ``loop(recurrence, n_episodes, steps_per_episode)``: another implementation of the loop below,
    used when it returns an array (None: it cannot run here).
    """
    mu = np.asarray(mu, dtype=np.float64)
    n_settings = mu.shape[0]
    column = lambda x: np.broadcast_to(np.asarray(x, dtype=np.float64), (n_settings,))[:, None]  # noqa: E731
    inv_t, lr, m, wd = column(1.0 / np.asarray(temperature)), column(lr), column(momentum), column(weight_decay)
    factor = np.where(m == 0, 1.0, 1.0 - column(dampening))  # torch: no buffer when momentum = 0
    nesterov = np.broadcast_to(np.asarray(nesterov, dtype=bool), (n_settings,))[:, None]
    w = np.zeros_like(mu) if init_weights is None else np.array(init_weights, dtype=np.float64)
    best = np.ascontiguousarray(best, dtype=np.int64)
    if loop is not None:
        contiguous = lambda a: np.ascontiguousarray(a, dtype=np.float64)  # noqa: E731
        recurrence = Recurrence(contiguous(mu), contiguous(inv_t), contiguous(lr), contiguous(m), contiguous(factor),
                                np.ascontiguousarray(nesterov), contiguous(wd), contiguous(w), best)  # fmt: skip
        out = loop(recurrence, n_episodes, steps_per_episode)
        if out is not None:
            return out
    buffer = np.zeros_like(w)  # the momentum buffer: set at the first step
    rows = np.arange(n_settings)
    out = np.empty((n_settings, n_episodes))
    t = 0
    for episode in range(n_episodes):
        for _ in range(steps_per_episode):
            p = _softmax(w * inv_t)
            grad = -inv_t * p * (mu - (p * mu).sum(axis=1, keepdims=True)) + wd * w
            if np.any(m != 0):
                buffer = grad.copy() if t == 0 else m * buffer + factor * grad
                grad = np.where(nesterov, grad + m * buffer, buffer)
            w = w - lr * grad
            t += 1
        out[:, episode] = _softmax(w * inv_t)[rows, best]
    return out


def _softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)
