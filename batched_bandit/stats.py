"""Interval estimates and tests for proportions (success rates)."""

from __future__ import annotations

import math
from statistics import NormalDist


def wilson_interval(successes: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson score interval for a binomial proportion (Wilson 1927); ``(0, 1)`` when n = 0."""
    if n == 0:
        return 0.0, 1.0
    z = NormalDist().inv_cdf(0.5 + confidence / 2)
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    # the ends are exactly 0 (no successes) and 1 (all), which rounding would miss by ~1e-19
    low = 0.0 if successes == 0 else max(0.0, centre - half)
    high = 1.0 if successes == n else min(1.0, centre + half)
    return low, high


def mean_interval(total: float, total_squares: float, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """Normal-approximation interval of a mean from the sum and the sum of squares of n values."""
    if n == 0:
        return math.nan, math.nan
    mean = total / n
    variance = max(0.0, total_squares / n - mean * mean) * n / (n - 1) if n > 1 else 0.0
    half = NormalDist().inv_cdf(0.5 + confidence / 2) * math.sqrt(variance / n)
    return mean - half, mean + half


def two_proportion_z(successes_a: int, n_a: int, successes_b: int, n_b: int) -> tuple[float, float]:
    """Pooled two-proportion z test of ``p_a == p_b``. Returns ``(z, two-sided p-value)``."""
    pooled = (successes_a + successes_b) / (n_a + n_b)
    se = math.sqrt(pooled * (1 - pooled) * (1 / n_a + 1 / n_b))
    if se == 0:
        return 0.0, 1.0
    z = (successes_a / n_a - successes_b / n_b) / se
    return z, 2 * (1 - NormalDist().cdf(abs(z)))


def chi_square_sf(x: float, df: int) -> float:
    """P(X >= x) for X ~ chi-square with integer ``df`` >= 1 (closed forms, Abramowitz-Stegun 26.4)."""
    if x <= 0:
        return 1.0
    if df % 2 == 0:  # Q = exp(-x/2) * sum_{i < df/2} (x/2)^i / i!
        term = total = 1.0
        for i in range(1, df // 2):
            term *= x / 2 / i
            total += term
        return math.exp(-x / 2) * total
    root = math.sqrt(x)  # Q = 2 (1 - Phi(sqrt x)) + 2 phi(sqrt x) sum_i x^(i - 1/2) / (1 3 ... (2i - 1))
    term, total = root, 0.0
    for i in range(1, (df - 1) // 2 + 1):
        total += term
        term *= x / (2 * i + 1)
    return min(1.0, math.erfc(root / math.sqrt(2)) + 2 * math.exp(-x / 2) / math.sqrt(2 * math.pi) * total)


def chi_square_homogeneity(table) -> tuple[float, int, float]:
    """Pearson's test that the rows of a contingency table (list of count lists) share one
    distribution. Columns empty in every row are dropped. Returns ``(statistic, df, p-value)``."""
    columns = [c for c in zip(*table) if sum(c) > 0]
    rows = [sum(r) for r in zip(*columns)]
    cols = [sum(c) for c in columns]
    n = sum(rows)
    stat = sum(
        (observed - rows[i] * cols[j] / n) ** 2 / (rows[i] * cols[j] / n)
        for j, column in enumerate(columns)
        for i, observed in enumerate(column)
    )
    df = (len(rows) - 1) * (len(cols) - 1)
    return stat, df, chi_square_sf(stat, df) if df > 0 else 1.0
