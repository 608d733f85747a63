"""Paired comparisons of two settings of a study, from their per-bandit values of one metric.

Every setting of a study trains bandits on the same random streams 0..n-1 (common random numbers),
so bandit j of setting A and bandit j of setting B are a pair. For ``success`` (a verdict per
bandit), pairs that agree carry no information on the difference; McNemar's exact test looks only
at the discordant ones, which makes it far more powerful than comparing the two success rates as if
independent (both p-values are reported). For the other metrics (metrics.py), the mean paired
difference with its t interval, the paired t test and Wilcoxon's signed-rank test as a check
(stats.paired_difference). Several pairs at once get Holm's correction for the family-wise error
(on McNemar's p, or on the t test's).
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass

import numpy as np

from ..metrics import metric as metric_named
from ..stats import (
    PairedDifference,
    holm,
    mcnemar_exact,
    p_phrase,
    paired_difference,
    paired_difference_interval,
    two_proportion_z,
)
from .selector import describe, find_setting
from .tables import Study


@dataclass(frozen=True)
class Comparison:
    """Setting A against setting B on their common bandits."""

    a: dict  # setting A's axes
    b: dict
    n: int  # paired bandits: those of the blocks both settings have committed (bandit j of A with bandit j of B)
    both: int  # bandits that succeed in A and in B
    only_a: int
    only_b: int
    neither: int
    difference: float  # success rate of A minus that of B
    ci: tuple[float, float]  # its 95% interval (Agresti-Min, paired)
    p_value: float  # McNemar's exact test, two-sided
    p_holm: float  # Holm-adjusted over the pairs compared together (= p_value for one pair)
    p_unpaired: float  # the two-proportion z test that ignores the pairing, for contrast
    n_a: int = 0  # bandits setting A has committed (n of them are paired)
    n_b: int = 0
    complete: bool = True  # False: the study is partial (interrupted, or still running)
    metric: str = "success"

    @property
    def rate_a(self) -> float:
        return (self.both + self.only_a) / self.n

    @property
    def rate_b(self) -> float:
        return (self.both + self.only_b) / self.n

    def pairing(self) -> str:
        return pairing(self)

    def summary(self) -> str:
        low, high = self.ci
        return "\n".join([
            f"A: {describe(self.a)}",
            f"B: {describe(self.b)}",
            f"  {self.n:,} paired bandits{self.pairing()}: success A {self.rate_a:.4f}, B {self.rate_b:.4f}; "
            f"A only {self.only_a:,}, B only {self.only_b:,}, both {self.both:,}, neither {self.neither:,}",
            f"  difference A - B {self.difference:+.4f} (95% CI {low:+.4f} .. {high:+.4f}); McNemar exact "
            f"p {p_phrase(self.p_value)}"
            + (f", Holm-adjusted p {p_phrase(self.p_holm)}" if self.p_holm != self.p_value else "")
            + f" (an unpaired z test would give p {p_phrase(self.p_unpaired)})",
        ])  # fmt: skip


@dataclass(frozen=True)
class MetricComparison:
    """Setting A against setting B on their common bandits, on a metric with a value per bandit
    (regret, reward, p_best, optimal_action): the mean of A - B over the pairs."""

    a: dict  # setting A's axes
    b: dict
    metric: str
    n: int  # paired bandits (bandit j of A with bandit j of B, over the blocks both have committed)
    mean_a: float  # A's mean over the paired bandits
    mean_b: float
    difference: float  # the mean paired difference A - B
    ci: tuple[float, float]  # its 95% t interval ((NaN, NaN) for one pair)
    p_value: float  # the paired t test of no difference, two-sided
    p_holm: float  # Holm-adjusted over the pairs compared together (= p_value for one pair)
    p_wilcoxon: float  # Wilcoxon's signed-rank test, two-sided: a check that needs no normality
    n_a: int = 0  # bandits setting A has committed (n of them are paired)
    n_b: int = 0
    complete: bool = True  # False: the study is partial (interrupted, or still running)

    def pairing(self) -> str:
        return pairing(self)

    def summary(self) -> str:
        low, high = self.ci
        interval = "undefined for one pair" if math.isnan(low) else f"{low:+.4g} .. {high:+.4g}"
        return "\n".join([
            f"A: {describe(self.a)}",
            f"B: {describe(self.b)}",
            f"  {self.n:,} paired bandits{self.pairing()}: mean {self.metric} A {self.mean_a:.4g}, "
            f"B {self.mean_b:.4g}",
            f"  difference A - B {self.difference:+.4g} (95% CI {interval}); paired t p {p_phrase(self.p_value)}"
            + (f", Holm-adjusted p {p_phrase(self.p_holm)}" if self.p_holm != self.p_value else "")
            + f" (Wilcoxon signed-rank p {p_phrase(self.p_wilcoxon)})",
        ])  # fmt: skip


def pairing(comparison) -> str:
    """ "" when every committed bandit of both settings is paired in a finished study, else what is not."""
    c = comparison
    parts = [] if c.n_a == c.n_b == c.n else [f"of {c.n_a:,} in A and {c.n_b:,} in B"]
    if not c.complete:
        parts.append("the study is PARTIAL: these are the bandits both settings have so far")
    return f" ({'; '.join(parts)})" if parts else ""


def compare(out: str | os.PathLike, a: dict | None = None, b: dict | None = None, *, pairs=None,
            metric: str = "success"):  # fmt: skip
    """Compare setting ``a`` with setting ``b`` of the study in ``out`` (each a dict axis -> value
    naming one setting), or each ``(a, b)`` of ``pairs`` (Holm-corrected together), on ``metric``
    (metrics.py): ``success`` by McNemar's test (a Comparison), the others by their mean paired
    difference (a MetricComparison). Returns one, or a list of them for ``pairs``."""
    metric_named(metric)
    if pairs is None:
        if a is None or b is None:
            raise TypeError("compare needs a= and b= (dicts naming one setting each), or pairs=[(a, b), ...]")
        return compare(out, pairs=[(a, b)], metric=metric)[0]
    if a is not None or b is not None:
        raise TypeError("give a= and b=, or pairs=, not both")
    pairs = list(pairs)
    if not pairs:
        raise ValueError("pairs: give at least one (a, b) pair")
    with Study(out) as study:
        found = [(find_setting(study, a, "a"), find_setting(study, b, "b")) for a, b in pairs]
        raw = [_paired(study, i, j) if metric == "success" else _paired_metric(study, i, j, metric) for i, j in found]
        complete = study.complete
    adjusted = holm([r["p_value"] for r in raw])
    kind = Comparison if metric == "success" else MetricComparison
    return [kind(**r, p_holm=p, complete=complete) for r, p in zip(raw, adjusted)]


def common_bandits(blocks_a: dict, blocks_b: dict) -> tuple[np.ndarray, np.ndarray]:
    """The values of the bandits both settings have, (n,) each, bandit j of one with bandit j of the
    other: the blocks both committed, block by block (blocks hold the same bandit ids in every
    setting; tasks finish in any order, so neither setting's blocks need be a prefix)."""
    common = sorted(set(blocks_a) & set(blocks_b))
    if not common:
        raise ValueError("the settings have no committed bandits in common yet")
    return np.concatenate([blocks_a[b] for b in common]), np.concatenate([blocks_b[b] for b in common])


def _paired_metric(study: Study, i: int, j: int, metric: str) -> dict:
    """The mean paired difference of the bandits both settings have (see common_bandits)."""
    blocks_a, blocks_b = study.metric_blocks(i, metric), study.metric_blocks(j, metric)
    found: PairedDifference = paired_difference(*common_bandits(blocks_a, blocks_b))
    return dict(
        a=dict(study.settings[i]), b=dict(study.settings[j]), metric=metric, n=found.n, mean_a=found.mean_a,
        mean_b=found.mean_b, difference=found.difference, ci=found.ci, p_value=found.p_t,
        p_wilcoxon=found.p_wilcoxon, n_a=sum(map(len, blocks_a.values())), n_b=sum(map(len, blocks_b.values())),
    )  # fmt: skip


def _paired(study: Study, i: int, j: int) -> dict:
    """McNemar's counts of the bandits both settings have (see common_bandits)."""
    blocks_a, blocks_b = study.verdict_blocks(i), study.verdict_blocks(j)
    va, vb = common_bandits(blocks_a, blocks_b)
    n = va.shape[0]
    both, only_a = int(np.sum(va & vb)), int(np.sum(va & ~vb))
    only_b, neither = int(np.sum(~va & vb)), int(np.sum(~va & ~vb))
    return dict(
        a=dict(study.settings[i]), b=dict(study.settings[j]), n=n, both=both, only_a=only_a, only_b=only_b,
        neither=neither, difference=(only_a - only_b) / n, ci=paired_difference_interval(both, only_a, only_b, neither),
        p_value=mcnemar_exact(only_a, only_b), p_unpaired=two_proportion_z(both + only_a, n, both + only_b, n)[1],
        n_a=sum(map(len, blocks_a.values())), n_b=sum(map(len, blocks_b.values())),
    )  # fmt: skip
