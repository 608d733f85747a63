"""Paired comparisons of two settings of a study, from their per-bandit verdicts.

Every setting of a study trains bandits on the same random streams 0..n-1 (common random numbers),
so bandit j of setting A and bandit j of setting B are a pair. Pairs that agree carry no information
on the difference; McNemar's exact test looks only at the discordant ones, which makes it far more
powerful than comparing the two success rates as if independent (both p-values are reported).
Several pairs at once get Holm's correction for the family-wise error.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np

from ..stats import holm, mcnemar_exact, p_phrase, paired_difference_interval, two_proportion_z
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

    @property
    def rate_a(self) -> float:
        return (self.both + self.only_a) / self.n

    @property
    def rate_b(self) -> float:
        return (self.both + self.only_b) / self.n

    def pairing(self) -> str:
        """ "" when every committed bandit of both settings is paired in a finished study, else what is not."""
        parts = [] if self.n_a == self.n_b == self.n else [f"of {self.n_a:,} in A and {self.n_b:,} in B"]
        if not self.complete:
            parts.append("the study is PARTIAL: these are the bandits both settings have so far")
        return f" ({'; '.join(parts)})" if parts else ""

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


def compare(out: str | os.PathLike, a: dict | None = None, b: dict | None = None, *, pairs=None):
    """Compare setting ``a`` with setting ``b`` of the study in ``out`` (each a dict axis -> value
    naming one setting), or each ``(a, b)`` of ``pairs`` (Holm-corrected together). Returns a
    Comparison, or a list of them for ``pairs``."""
    if pairs is None:
        if a is None or b is None:
            raise TypeError("compare needs a= and b= (dicts naming one setting each), or pairs=[(a, b), ...]")
        return compare(out, pairs=[(a, b)])[0]
    if a is not None or b is not None:
        raise TypeError("give a= and b=, or pairs=, not both")
    pairs = list(pairs)
    if not pairs:
        raise ValueError("pairs: give at least one (a, b) pair")
    with Study(out) as study:
        found = [(find_setting(study, a, "a"), find_setting(study, b, "b")) for a, b in pairs]
        raw = [_paired(study, i, j) for i, j in found]
        complete = study.complete
    adjusted = holm([r["p_value"] for r in raw])
    return [Comparison(**r, p_holm=p, complete=complete) for r, p in zip(raw, adjusted)]


def _paired(study: Study, i: int, j: int) -> dict:
    """Counts of the bandits both settings have: the blocks both committed, block by block (blocks
    hold the same bandit ids in every setting; tasks finish in any order, so neither setting's
    blocks need be a prefix)."""
    blocks_a, blocks_b = study.verdict_blocks(i), study.verdict_blocks(j)
    common = sorted(set(blocks_a) & set(blocks_b))
    if not common:
        raise ValueError("the settings have no committed bandits in common yet")
    va = np.concatenate([blocks_a[b] for b in common])
    vb = np.concatenate([blocks_b[b] for b in common])
    n = va.shape[0]
    both, only_a = int(np.sum(va & vb)), int(np.sum(va & ~vb))
    only_b, neither = int(np.sum(~va & vb)), int(np.sum(~va & ~vb))
    return dict(
        a=dict(study.settings[i]), b=dict(study.settings[j]), n=n, both=both, only_a=only_a, only_b=only_b,
        neither=neither, difference=(only_a - only_b) / n, ci=paired_difference_interval(both, only_a, only_b, neither),
        p_value=mcnemar_exact(only_a, only_b), p_unpaired=two_proportion_z(both + only_a, n, both + only_b, n)[1],
        n_a=sum(map(len, blocks_a.values())), n_b=sum(map(len, blocks_b.values())),
    )  # fmt: skip
