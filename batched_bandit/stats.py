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
    """Normal-approximation interval of a mean from the sum and the sum of squares of n values;
    undefined (NaN, NaN) for fewer than two values: one value says nothing of the spread."""
    if n < 2:
        return math.nan, math.nan
    mean = total / n
    variance = max(0.0, total_squares / n - mean * mean) * n / (n - 1)
    half = NormalDist().inv_cdf(0.5 + confidence / 2) * math.sqrt(variance / n)
    return mean - half, mean + half


def two_proportion_z(successes_a: int, n_a: int, successes_b: int, n_b: int) -> tuple[float, float]:
    """Pooled two-proportion z test of ``p_a == p_b``. Returns ``(z, two-sided p-value)``."""
    pooled = (successes_a + successes_b) / (n_a + n_b)
    se = math.sqrt(pooled * (1 - pooled) * (1 / n_a + 1 / n_b))
    if se == 0:
        return 0.0, 1.0
    z = (successes_a / n_a - successes_b / n_b) / se
    return z, math.erfc(abs(z) / math.sqrt(2))  # = 2 (1 - Phi(|z|)), without losing small p-values


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


def binomial_cdf_half(k: int, n: int) -> float:
    """P(X <= k) for X ~ Binomial(n, 1/2), exactly summed in log space (no scipy)."""
    if k < 0:
        return 0.0
    if k >= n:
        return 1.0
    log_terms = [math.lgamma(n + 1) - math.lgamma(i + 1) - math.lgamma(n - i + 1) for i in range(k + 1)]
    top = max(log_terms)
    return min(1.0, math.exp(top + math.log(sum(math.exp(t - top) for t in log_terms)) - n * math.log(2)))


def mcnemar_exact(b: int, c: int) -> float:
    """Two-sided exact McNemar test of paired binary outcomes: b pairs where only A succeeds, c where
    only B does; p = min(1, 2 P(X <= min(b, c))), X ~ Binomial(b + c, 1/2). 1 when b = c = 0."""
    n = b + c
    if n == 0:
        return 1.0
    return min(1.0, 2.0 * binomial_cdf_half(min(b, c), n))


def paired_difference_interval(a: int, b: int, c: int, d: int, confidence: float = 0.95) -> tuple[float, float]:
    """Interval of p_A - p_B for paired binary outcomes: Agresti & Min's (2005) adjusted Wald
    interval (0.5 added to each cell), good coverage without degenerating when b = c = 0.
    a: both succeed, b: only A, c: only B, d: neither."""
    n = a + b + c + d + 2.0
    b, c = b + 0.5, c + 0.5
    diff = (b - c) / n
    half = NormalDist().inv_cdf(0.5 + confidence / 2) * math.sqrt(max(0.0, (b + c) - (b - c) ** 2 / n)) / n
    return max(-1.0, diff - half), min(1.0, diff + half)


def format_p(p: float) -> str:
    """A p-value for people: 3 significant digits, and "< 1e-300" where it underflows to 0."""
    return "< 1e-300" if p == 0 else f"{p:.3g}"


def holm(p_values: list[float]) -> list[float]:
    """Holm's step-down adjusted p-values (family-wise error), in the input order."""
    m = len(p_values)
    order = sorted(range(m), key=lambda i: p_values[i])
    adjusted, running = [0.0] * m, 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p_values[i]))
        adjusted[i] = running
    return adjusted
