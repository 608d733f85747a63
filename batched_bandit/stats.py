"""Interval estimates and tests: proportions (success rates), means, and paired comparisons.

The distributions (t, chi-square, binomial, Wilcoxon's signed-rank) come from SciPy; SciPy is
imported where a function needs it, since ``scipy.stats`` takes ~0.5 s to import and most
programs that load this module (every ``run_batch``) use only the normal intervals.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import NormalDist

import numpy as np


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
    """P(X >= x) for X ~ chi-square with ``df`` degrees of freedom."""
    from scipy import stats

    return 1.0 if x <= 0 else float(stats.chi2.sf(x, df))


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
    """P(X <= k) for X ~ Binomial(n, 1/2)."""
    from scipy import stats

    return float(stats.binom.cdf(k, n, 0.5))


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
    """A p-value for people: 3 significant digits, "< 1e-300" where it underflows to 0, and
    "undefined" for NaN (a t test of one pair)."""
    return "undefined" if math.isnan(p) else "< 1e-300" if p == 0 else f"{p:.3g}"


def holm(p_values: list[float]) -> list[float]:
    """Holm's step-down adjusted p-values (family-wise error), in the input order."""
    m = len(p_values)
    order = sorted(range(m), key=lambda i: p_values[i])
    adjusted, running = [0.0] * m, 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p_values[i]))
        adjusted[i] = running
    return adjusted


@dataclass(frozen=True)
class PairedDifference:
    """Setting A against setting B on one per-bandit metric, bandit j of A paired with bandit j of B."""

    n: int  # pairs
    mean_a: float
    mean_b: float
    difference: float  # the mean of a - b over the pairs
    ci: tuple[float, float]  # its t interval; (NaN, NaN) for one pair
    p_t: float  # the paired t test of a zero mean difference, two-sided; NaN for one pair
    p_wilcoxon: float  # Wilcoxon's signed-rank test, two-sided, as R's wilcox.test(paired = TRUE)
    confidence: float = 0.95

    def summary(self) -> str:
        low, high = self.ci
        interval = "undefined for one pair" if math.isnan(low) else f"{low:+.4g} .. {high:+.4g}"
        return (
            f"A {self.mean_a:.4g}, B {self.mean_b:.4g}: difference A - B {self.difference:+.4g} "
            f"({self.confidence:.0%} CI {interval}); paired t p {p_phrase(self.p_t)}, "
            f"Wilcoxon signed-rank p {p_phrase(self.p_wilcoxon)} ({self.n:,} pair{'s' * (self.n != 1)})"
        )


def paired_difference(x, y, confidence: float = 0.95) -> PairedDifference:
    """The mean paired difference of ``x - y`` with its t interval, the paired t test and Wilcoxon's
    signed-rank test. ``x``, ``y``: (n,) values of one metric, pair j = (x[j], y[j]).

    Without spread the tests are defined by their limits rather than left as 0 / 0: all differences
    0 -> interval (0, 0), p = 1; all equal to d != 0 -> interval (d, d), p_t = 0. One pair says nothing
    of the spread: interval and p_t are NaN (the signed-rank p is defined, and 1)."""
    a, b = _pair_of_arrays(x, y)
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be in (0, 1), got {confidence!r}")
    from scipy import stats

    d = a - b
    n = d.size
    if np.all(d == d[0]):
        mean = float(d[0])  # exactly: a mean of n copies of d may round off d
        if n == 1:
            ci, p_t = (math.nan, math.nan), math.nan
        else:
            ci, p_t = (mean, mean), 1.0 if mean == 0 else 0.0
    else:
        mean, se = float(np.mean(d)), float(np.std(d, ddof=1)) / math.sqrt(n)
        half = float(stats.t.ppf(0.5 + confidence / 2, n - 1)) * se
        ci, p_t = (mean - half, mean + half), float(2 * stats.t.sf(abs(mean) / se, n - 1))
    return PairedDifference(n, float(np.mean(a)), float(np.mean(b)), mean, ci, p_t, signed_rank_p(d), confidence)


def signed_rank_p(d) -> float:
    """Two-sided p-value of Wilcoxon's signed-rank test that differences ``d`` (n,) centre on 0, as
    R's ``wilcox.test`` by default: zero differences dropped (Wilcoxon's convention, not Pratt's);
    the exact distribution when fewer than 50 remain and there were no ties and no zeros, else the
    normal approximation with continuity and tie corrections. 1 when every difference is 0."""
    from scipy import stats

    d = np.asarray(d, dtype=np.float64)
    nonzero = d[d != 0]
    n = nonzero.size
    if n == 0:
        return 1.0
    exact = n < 50 and n == d.size and np.unique(np.abs(nonzero)).size == n
    result = stats.wilcoxon(nonzero, zero_method="wilcox", correction=True, method="exact" if exact else "approx")
    return float(result.pvalue)


def _pair_of_arrays(x, y) -> tuple[np.ndarray, np.ndarray]:
    """x, y as float64 arrays of one shape (n,), n >= 1, finite."""
    arrays = []
    for name, values in (("x", x), ("y", y)):
        array = np.asarray(values, dtype=np.float64)
        if array.ndim != 1:
            raise ValueError(f"{name} must be a 1-D array of per-bandit values, got shape {array.shape}")
        if not np.isfinite(array).all():
            raise ValueError(f"{name}: values must be finite, got {float(array[~np.isfinite(array)][0])!r}")
        arrays.append(array)
    a, b = arrays
    if a.size != b.size:
        raise ValueError(f"x and y must pair up: {a.size:,} values in x, {b.size:,} in y")
    if a.size == 0:
        raise ValueError("x and y are empty: a paired comparison needs at least one pair")
    return a, b


def p_phrase(p: float) -> str:
    """ "= 0.0123", "< 1e-300" or "undefined": a p-value to follow "p" in a sentence."""
    text = format_p(p)
    return text if text[0] in "<u" else f"= {text}"
