"""Where along one positive axis is a metric best? Found adaptively, with shared random numbers.

The search (python-adaptive's learner, made deterministic): evaluate a log-spaced grid over the
bounds, widen it tenfold on a side while the best point sits at that edge, then refine around the
best point — the geometric midpoints to its neighbours — until the neighbours lie within ``rtol``
of it. Each point is a study of one setting in ``out/points/AXIS=VALUE`` on the random streams
0..n-1 (common random numbers), so neighbouring points differ by the axis alone and their paired
differences are far less noisy than the points themselves.

The estimate is the vertex of a quadratic in log(axis) fitted by least squares to the best point
and its two neighbours on each side (the best point itself when the fit is not a bowl). Its 95%
interval is a percentile bootstrap over bandits: the same resampled bandits at every point (they
are paired), the fit redone per resample. The metric at the optimum is the fitted value there,
with its bootstrap interval.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

N_GRID = 7  # points of the first grid over the bounds
WINDOW = 2  # neighbours on each side of the best point in the fit
N_BOOTSTRAP = 2000
BOOTSTRAP_SEED = 20260101  # fixed: the interval is a deterministic function of the study


@dataclass(frozen=True)
class Fit:
    """A quadratic in u = log(x) through the points near the best: the optimum's location and value."""

    estimate: float  # x at the vertex (or at the best point)
    value: float  # the fitted metric there
    vertex: bool  # whether the fit is a bowl (minimising) / a cap (maximising) with its vertex inside the window


def search(evaluate: Callable[[float], float], bounds: tuple[float, float], *, sign: float, rtol: float,
           max_points: int, widen: int = 3) -> dict[float, float]:  # fmt: skip
    """Evaluate points along the axis until the best one is bracketed within ``rtol``.

    evaluate(x) -> the metric's mean at x (sign = 1 minimises, -1 maximises). Returns x -> mean
    of every point evaluated, in evaluation order.
    """
    points: dict[float, float] = {}

    def at(x: float) -> float:
        x = float(f"{x:.12g}")  # a value people can type, the same on every rerun
        if x not in points:
            if len(points) >= max_points:
                raise ValueError(
                    f"max_points = {max_points} evaluated before the optimum was bracketed to rtol {rtol:g}"
                )
            points[x] = evaluate(x)
        return points[x]

    low, high = bounds
    for x in np.geomspace(low, high, N_GRID):
        at(float(x))
    for _ in range(widen):  # the best at an edge: the optimum may lie beyond it
        xs = sorted(points)
        best = min(xs, key=lambda x: sign * points[x])
        if best == xs[0]:
            at(xs[0] / 10)
        elif best == xs[-1]:
            at(xs[-1] * 10)
        else:
            break
    while True:
        xs = sorted(points)
        i = min(range(len(xs)), key=lambda j: sign * points[xs[j]])
        left, right = xs[max(i - 1, 0)], xs[min(i + 1, len(xs) - 1)]
        if right / left <= (1 + rtol) ** 2:  # both neighbours within rtol of the best (in log space)
            return points
        for neighbour in (left, right):
            if neighbour != xs[i]:
                at(math.sqrt(neighbour * xs[i]))


def fit(xs: np.ndarray, means: np.ndarray, sign: float) -> Fit:
    """The quadratic in log(x) through the best point and WINDOW neighbours on each side."""
    order = np.argsort(xs)
    xs, means = xs[order], means[order]
    i = int(np.argmin(sign * means))
    lo, hi = max(0, i - WINDOW), min(len(xs), i + WINDOW + 1)
    u, y = np.log(xs[lo:hi]), means[lo:hi]
    if len(u) >= 3:
        a, b, c = np.polyfit(u, y, 2)
        if sign * a > 0:  # a bowl in the direction of the search
            vertex = -b / (2 * a)
            if u[0] <= vertex <= u[-1]:
                return Fit(float(math.exp(vertex)), float(c - b * b / (4 * a)), True)
    return Fit(float(xs[i]), float(means[i]), False)


def bootstrap(xs: np.ndarray, values: np.ndarray, sign: float, n: int = N_BOOTSTRAP) -> tuple[np.ndarray, np.ndarray]:
    """Percentile-bootstrap draws of the optimum's location and value: bandits resampled with
    replacement, the same bandits at every point. values: (points, bandits). Returns (n,), (n,)."""
    rng = np.random.default_rng(BOOTSTRAP_SEED)
    n_bandits = values.shape[1]
    locations, optima = np.empty(n), np.empty(n)
    for b in range(n):
        rows = rng.integers(0, n_bandits, n_bandits)
        found = fit(xs, values[:, rows].mean(axis=1), sign)
        locations[b], optima[b] = found.estimate, found.value
    return locations, optima


def percentile_interval(draws: np.ndarray, confidence: float = 0.95) -> tuple[float, float]:
    tail = (1 - confidence) / 2 * 100
    low, high = np.percentile(draws, [tail, 100 - tail])
    return float(low), float(high)
