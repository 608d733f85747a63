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

The loop runs in C where the fused CPU engine is built (cpu_kernel.c, bb_mean_field), else here
in numpy: the same recurrence, in float64 (tests compare the two). Either way Ctrl-C stops it.
"""

from __future__ import annotations

import functools

import numpy as np


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
) -> np.ndarray:
    """P(best arm) of the expected-update trajectory at each episode's end, float64.

    mu: (S, K) expected reward per arm; best: (S,) int; temperature, lr, momentum, dampening,
    weight_decay, nesterov: (S,) or scalars; init_weights: (S, K) (default 0). Returns (S, n_episodes).
    """
    mu = np.asarray(mu, dtype=np.float64)
    n_settings, n_arms = mu.shape
    column = lambda x: np.broadcast_to(np.asarray(x, dtype=np.float64), (n_settings,))[:, None]  # noqa: E731
    inv_t, lr, m, wd = column(1.0 / np.asarray(temperature)), column(lr), column(momentum), column(weight_decay)
    factor = np.where(m == 0, 1.0, 1.0 - column(dampening))  # torch: no buffer when momentum = 0
    nesterov = np.broadcast_to(np.asarray(nesterov, dtype=bool), (n_settings,))[:, None]
    w = np.zeros_like(mu) if init_weights is None else np.array(init_weights, dtype=np.float64)
    best = np.ascontiguousarray(best, dtype=np.int64)
    compiled = _compiled(n_arms)
    if compiled is not None:  # the same loop in C (cpu_kernel.c): numpy pays a Python call per operation
        out = np.empty((n_settings, n_episodes))
        arrays = [np.ascontiguousarray(a, dtype=np.float64) for a in (mu, inv_t, lr, m, factor)]
        arrays += [np.ascontiguousarray(nesterov, dtype=np.uint8), np.ascontiguousarray(wd, dtype=np.float64), w, best]
        code = compiled(n_settings, n_arms, *(a.ctypes.data for a in arrays), n_episodes, steps_per_episode,
                        out.ctypes.data)  # fmt: skip
        if code == 0:
            return out
    buffer = None
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


def _compiled(n_arms: int):
    """The C loop (cpu_kernel.c's bb_mean_field) when the fused CPU engine is built here, else None."""
    import torch

    from .engines import MAX_ARMS, cpu_engine

    if n_arms > MAX_ARMS["cpu"] or cpu_engine.unavailable_reason(torch.device("cpu")) is not None:
        return None
    # on a worker thread, with a cancel flag: a long horizon stops within milliseconds of Ctrl-C
    return functools.partial(cpu_engine.call_cancellable, cpu_engine.load_kernel().bb_mean_field)


def _softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)
