import math
from fractions import Fraction
from statistics import NormalDist

import numpy as np
import pytest

from batched_bandit.stats import (
    binomial_cdf_half,
    chi_square_homogeneity,
    chi_square_sf,
    format_p,
    holm,
    mcnemar_exact,
    mean_interval,
    paired_difference,
    paired_difference_interval,
    signed_rank_p,
    two_proportion_z,
    wilson_interval,
)


def test_wilson_interval_known_values():
    low, high = wilson_interval(0, 10)  # upper bound z^2 / (n + z^2)
    assert abs(low) < 1e-12 and math.isclose(high, 1.959964**2 / (10 + 1.959964**2), rel_tol=1e-6)
    low, high = wilson_interval(5, 10)
    assert math.isclose(low, 0.2366, abs_tol=1e-4) and math.isclose(high, 0.7634, abs_tol=1e-4)
    assert wilson_interval(10, 10)[1] == 1.0
    assert wilson_interval(0, 0) == (0.0, 1.0)
    narrow, wide = wilson_interval(400, 1000), wilson_interval(40, 100)
    assert wide[0] < narrow[0] < 0.4 < narrow[1] < wide[1]


def test_wilson_interval_ends_are_exact():
    """0 of n: the lower end is exactly 0; n of n: the upper end exactly 1 (rounding alone leaves
    centre - half at +2.8e-17 for 0 of 5, 0 of 10, ...)."""
    for n in range(1, 300):
        assert wilson_interval(0, n)[0] == 0.0 and wilson_interval(n, n)[1] == 1.0, n


def test_the_interval_of_a_mean_of_one_value_is_undefined_not_zero_wide():
    for total, squares, n in ((0.0, 0.0, 0), (3.0, 9.0, 1), (0.0, 0.0, 1)):
        low, high = mean_interval(total, squares, n)
        assert math.isnan(low) and math.isnan(high), n
    low, high = mean_interval(1.0 + 3.0, 1.0 + 9.0, 2)  # values 1 and 3: sd sqrt(2), half-width 1.96
    assert math.isclose(low, 2.0 - NormalDist().inv_cdf(0.975)) and math.isclose(
        high, 2.0 + NormalDist().inv_cdf(0.975)
    )


def test_two_proportion_z():
    assert two_proportion_z(50, 100, 50, 100) == (0.0, 1.0)
    z, p = two_proportion_z(60, 100, 40, 100)  # pooled p = 0.5, se = sqrt(0.5 * 0.5 * 0.02)
    assert math.isclose(z, 0.2 / math.sqrt(0.005)) and math.isclose(p, 0.004677734981047, rel_tol=1e-6)


@pytest.mark.parametrize(
    "x, df, p",
    [
        (3.841459, 1, 0.05),
        (5.991465, 2, 0.05),
        (7.814728, 3, 0.05),
        (11.344867, 3, 0.01),
        (9.487729, 4, 0.05),
        (30.577914, 15, 0.01),
        (0.0, 3, 1.0),
    ],
)
def test_chi_square_sf_matches_tables(x, df, p):
    assert math.isclose(chi_square_sf(x, df), p, rel_tol=1e-6)


def test_chi_square_homogeneity():
    stat, df, p = chi_square_homogeneity([[10, 20, 30, 0], [20, 40, 60, 0]])  # proportional rows
    assert stat == pytest.approx(0) and df == 2 and p == pytest.approx(1)  # the empty column is dropped
    stat, df, p = chi_square_homogeneity([[90, 10], [10, 90]])
    assert stat == pytest.approx(128.0) and p < 1e-20


def test_mcnemar_exact_by_hand():
    from batched_bandit.stats import mcnemar_exact

    # b = 1, c = 9: 2 * P(X <= 1), X ~ Bin(10, 1/2) = 2 * 11 / 1024
    assert mcnemar_exact(1, 9) == pytest.approx(22 / 1024, rel=1e-12)
    assert mcnemar_exact(9, 1) == mcnemar_exact(1, 9)
    assert mcnemar_exact(5, 5) == 1.0 and mcnemar_exact(0, 0) == 1.0
    assert mcnemar_exact(0, 4) == pytest.approx(2 / 16, rel=1e-12)
    # large counts: the normal approximation with continuity correction is close
    b, c = 4000, 4200
    z = (abs(b - c) - 1) / math.sqrt(b + c)
    approx = 2 * (1 - NormalDist().cdf(z))
    assert mcnemar_exact(b, c) == pytest.approx(approx, rel=0.02)


def test_holm_by_hand():
    from batched_bandit.stats import holm

    # sorted 0.01, 0.02, 0.04 with m = 3: 0.03, 0.04, 0.04 (monotone), back in input order
    assert holm([0.04, 0.01, 0.02]) == pytest.approx([0.04, 0.03, 0.04])
    assert holm([0.5, 0.9]) == pytest.approx([1.0, 1.0])
    assert holm([0.001]) == [0.001]


def test_paired_difference_interval_covers_the_truth_95_percent_of_the_time():
    """Paired verdicts with P(only A) = 0.10, P(only B) = 0.05, P(both) = 0.6: the difference is 0.05.
    Over 2,000 simulated studies of 200 pairs, the interval covers it 95% +- 1.5% of the time, and it
    is narrower than the unpaired Wilson-based interval would be (the point of pairing)."""
    import random

    from batched_bandit.stats import paired_difference_interval

    rng = random.Random(11)
    covered, widths = 0, []
    for _ in range(2000):
        counts = [0, 0, 0, 0]  # both, only A, only B, neither
        for _ in range(200):
            u = rng.random()
            counts[0 if u < 0.6 else 1 if u < 0.7 else 2 if u < 0.75 else 3] += 1
        low, high = paired_difference_interval(*counts)
        covered += low <= 0.05 <= high
        widths.append(high - low)
    assert abs(covered / 2000 - 0.95) < 0.015
    unpaired = 2 * 1.96 * math.sqrt(0.7 * 0.3 / 200 + 0.65 * 0.35 / 200)
    assert sum(widths) / len(widths) < 0.7 * unpaired
    low, high = paired_difference_interval(50, 0, 0, 50)  # identical verdicts: an interval around 0
    assert low < 0 < high and high - low < 0.1


# --- published worked examples and independent computations -------------------------------------

# Cushny & Peebles (1905), R's `sleep` data: extra hours of sleep under drug 1 and drug 2, same 10 patients
SLEEP_1 = [0.7, -1.6, -0.2, -1.2, -0.1, 3.4, 3.7, 0.8, 0.0, 2.0]
SLEEP_2 = [1.9, 0.8, 1.1, 0.1, -0.1, 4.4, 5.5, 1.6, 4.6, 3.4]


def student_two_sided(t: float, df: int) -> float:
    """2 P(T > |t|) for Student's t with integer df, from the closed forms of Abramowitz & Stegun
    26.7.3 (odd df) and 26.7.4 (even df): an oracle independent of SciPy."""
    theta = math.atan(abs(t) / math.sqrt(df))
    cos2 = math.cos(theta) ** 2
    if df % 2:  # A = 2/pi (theta + sin cos (1 + 2/3 cos^2 + 2*4/(3*5) cos^4 + ... up to cos^(df-3)))
        term, series = 1.0, 0.0
        for k in range(1, (df - 1) // 2 + 1):
            series += term
            term *= 2 * k / (2 * k + 1) * cos2
        a = 2 / math.pi * (theta + math.sin(theta) * math.cos(theta) * series)
    else:  # A = sin (1 + 1/2 cos^2 + 1*3/(2*4) cos^4 + ... up to cos^(df-2))
        term, series = 1.0, 0.0
        for k in range(1, df // 2 + 1):
            series += term
            term *= (2 * k - 1) / (2 * k) * cos2
        a = math.sin(theta) * series
    return 1 - a


def average_ranks(values: list[float]) -> list[float]:
    """Ranks 1..n, ties sharing the mean of their ranks (quadratic: for small test data)."""
    return [sum(w < v for w in values) + (sum(w == v for w in values) + 1) / 2 for v in values]


def textbook_signed_rank(d: list[float]) -> float:
    """Wilcoxon's signed-rank p as R's wilcox.test computes it, written out: zeros dropped; the exact
    null distribution of V (counts of subsets of 1..n by their sum) when fewer than 50 remain and
    there were no ties and no zeros, else the normal approximation with the tie-corrected variance
    and a continuity correction of 1/2 towards the mean."""
    nonzero = [x for x in d if x != 0]
    n = len(nonzero)
    ranks = average_ranks([abs(x) for x in nonzero])
    v = sum(r for r, x in zip(ranks, nonzero) if x > 0)
    if n < 50 and n == len(d) and len(set(ranks)) == n:
        counts = [1] + [0] * (n * (n + 1) // 2)  # counts[s]: subsets of {1..n} summing to s
        for k in range(1, n + 1):
            for s in range(len(counts) - 1, k - 1, -1):
                counts[s] += counts[s - k]
        lower, upper = sum(counts[: int(v) + 1]), sum(counts[int(v) :])
        return min(1.0, 2 * min(lower, upper) / 2**n)
    ties = sum(t**3 - t for t in (ranks.count(r) for r in set(ranks)))
    mean, variance = n * (n + 1) / 4, n * (n + 1) * (2 * n + 1) / 24 - ties / 48
    z = (v - mean - math.copysign(0.5, v - mean)) / math.sqrt(variance)
    return 2 * NormalDist().cdf(-abs(z))


def test_paired_difference_matches_r_on_the_sleep_data():
    """R: t.test(x, y, paired = TRUE) -> t = -4.0621, df = 9, p-value = 0.002833, 95% CI -2.4598858
    -0.7001142, mean difference -1.58; wilcox.test(x, y, paired = TRUE) -> V = 0, p-value = 0.009091
    (normal approximation: a zero difference and a tie, |-1.3| twice)."""
    r = paired_difference(SLEEP_1, SLEEP_2)
    assert r.n == 10 and r.difference == pytest.approx(-1.58, abs=1e-12) and r.confidence == 0.95
    assert (r.mean_a, r.mean_b) == pytest.approx((0.75, 2.33), abs=1e-12)
    assert r.ci == pytest.approx((-2.4598858, -0.7001142), abs=5e-8)  # R's 8 significant digits
    assert r.p_t == pytest.approx(0.002833, abs=5e-7) and r.p_wilcoxon == pytest.approx(0.009091, abs=5e-7)
    swapped = paired_difference(SLEEP_2, SLEEP_1)
    assert swapped.difference == -r.difference and swapped.ci == pytest.approx((0.7001142, 2.4598858), abs=5e-8)
    assert (swapped.p_t, swapped.p_wilcoxon) == pytest.approx((r.p_t, r.p_wilcoxon), rel=1e-12)


def test_the_sleep_data_by_the_textbook_formulas():
    """The same numbers without SciPy: the t statistic by hand, its p-value from the closed form, the
    interval with the tabled t(0.975, 9) = 2.262157 and t(0.995, 9) = 3.249836, the signed-rank
    p-value from the normal approximation written out."""
    d = [a - b for a, b in zip(SLEEP_1, SLEEP_2)]
    n = len(d)
    mean = sum(d) / n
    se = math.sqrt(sum((x - mean) ** 2 for x in d) / (n - 1) / n)
    t = mean / se
    assert t == pytest.approx(-4.0621, abs=5e-5)  # R's t
    r = paired_difference(SLEEP_1, SLEEP_2)
    assert r.p_t == pytest.approx(student_two_sided(t, n - 1), rel=1e-9)
    assert r.ci == pytest.approx((mean - 2.262157 * se, mean + 2.262157 * se), abs=1e-6)
    wide = paired_difference(SLEEP_1, SLEEP_2, confidence=0.99)
    assert wide.ci == pytest.approx((mean - 3.249836 * se, mean + 3.249836 * se), abs=1e-6)
    # zero dropped, n = 9; |d| ranks 1, 2, 3, 4.5, 4.5, 6, 7, 8, 9; V = 0; one tie of 2: variance 71.25 - 6/48
    z = (0 - 22.5 + 0.5) / math.sqrt(9 * 10 * 19 / 24 - 6 / 48)
    assert r.p_wilcoxon == pytest.approx(2 * NormalDist().cdf(z), rel=1e-9)
    assert r.p_wilcoxon == pytest.approx(textbook_signed_rank(d), rel=1e-9)


def test_the_t_distribution_oracle_matches_printed_tables():
    """The oracle itself, against printed critical values (two-sided 5% and 1%)."""
    for t, df, p in ((12.706205, 1, 0.05), (4.302653, 2, 0.05), (2.262157, 9, 0.05), (3.249836, 9, 0.01),
                     (2.228139, 10, 0.05), (2.042272, 30, 0.05)):  # fmt: skip
        assert student_two_sided(t, df) == pytest.approx(p, rel=1e-6), (t, df)


@pytest.mark.parametrize(
    "n, zero, tie",
    [(5, False, False), (12, False, False), (49, False, False), (50, False, False), (120, False, False),
     (12, True, False), (12, False, True), (30, True, True)],
)  # fmt: skip
def test_signed_rank_follows_r_exact_or_normal(n, zero, tie):
    """R's default: exact for fewer than 50 non-zero differences without ties or zeros (49 exact, 50
    not), else normal with tie and continuity corrections; checked against the written-out test."""
    d = np.random.default_rng(n).normal(0.4, 1.0, n).round(6).tolist()
    if zero:
        d[0] = 0.0
    if tie:
        d[1] = -d[2]
    p = signed_rank_p(d)
    assert p == pytest.approx(textbook_signed_rank(d), rel=1e-9) and 0 < p < 1
    assert paired_difference(d, [0.0] * n).p_wilcoxon == p


def test_signed_rank_small_exact_cases():
    """R: wilcox.test(1:5) -> V = 15, p-value = 0.0625 (all 2^5 signs: only all-positive reaches 15)."""
    assert signed_rank_p([1, 2, 3, 4, 5]) == pytest.approx(0.0625, rel=1e-12)
    assert signed_rank_p([-1, 2, 3, 4, 5]) == pytest.approx(2 * 2 / 32, rel=1e-12)  # V = 14: {1..5}, {2..5}
    assert signed_rank_p([0.5]) == 1.0 and signed_rank_p([0.0, 0.0]) == 1.0


def test_paired_difference_without_spread_is_defined():
    same = paired_difference([1.0, 2.0, 3.0], [1.0, 2.0, 3.0])
    assert (same.difference, same.ci, same.p_t, same.p_wilcoxon) == (0.0, (0.0, 0.0), 1.0, 1.0)
    # every difference 0.1: the interval is the point and p_t is t's limit, 0 (the mean of three 0.1s
    # rounds to 0.1 + 1.4e-17 with a spread of 1.7e-17, which would make a tiny interval off the point)
    tenth = paired_difference([0.1] * 3, [0.0] * 3)
    assert (tenth.difference, tenth.ci, tenth.p_t) == (0.1, (0.1, 0.1), 0.0)
    shift = paired_difference([0.5, 1.5, 2.5], [0.25, 1.25, 2.25])
    assert (shift.difference, shift.ci, shift.p_t) == (0.25, (0.25, 0.25), 0.0)
    # all ranks tied, V = 6: normal approximation, variance 3*4*7/24 - (27 - 3)/48 = 3
    assert shift.p_wilcoxon == pytest.approx(2 * NormalDist().cdf(-(6 - 3 - 0.5) / math.sqrt(3)), rel=1e-9)
    one = paired_difference([2.0], [1.0])
    assert one.difference == 1.0 and math.isnan(one.p_t) and all(map(math.isnan, one.ci))
    assert one.p_wilcoxon == 1.0 and "CI undefined for one pair" in one.summary() and "t p undefined" in one.summary()
    zero = paired_difference([2.0], [2.0])  # one pair, even with no difference, says nothing of the spread
    assert zero.difference == 0.0 and math.isnan(zero.p_t) and all(map(math.isnan, zero.ci)) and zero.p_wilcoxon == 1.0
    assert paired_difference(np.float32([1, 2, 4]), [0, 0, 0]) == paired_difference([1.0, 2.0, 4.0], [0, 0, 0])


@pytest.mark.parametrize(
    "x, y, confidence, message",
    [([], [], 0.95, "x and y are empty"), ([1.0, 2.0], [1.0], 0.95, "2 values in x, 1 in y"),
     ([[1.0]], [[1.0]], 0.95, "x must be a 1-D array"), ([1.0, math.nan], [1.0, 2.0], 0.95, "x: values must be finite"),
     ([1.0], [math.inf], 0.95, "y: values must be finite"), ([1.0], [2.0], 1.0, "confidence must be in"),
     ([1.0], [2.0], 0.0, "confidence must be in")],
)  # fmt: skip
def test_paired_difference_refuses_bad_input(x, y, confidence, message):
    with pytest.raises(ValueError, match=message):
        paired_difference(x, y, confidence)


def test_format_p_says_undefined_for_nan():
    assert format_p(math.nan) == "undefined" and format_p(0.0) == "< 1e-300" and format_p(0.012345) == "0.0123"


def test_wilson_interval_matches_newcombe_1998():
    """Newcombe (1998), Statistics in Medicine 17:857-872, table II, method 3 (score, no continuity
    correction), to his 4 decimals; and each end is where the score statistic equals z (an
    independent characterisation: the ends solve (p_hat - p)^2 = z^2 p (1 - p) / n)."""
    z = NormalDist().inv_cdf(0.975)
    for (successes, n), published in [((81, 263), (0.2553, 0.3662)), ((15, 148), (0.0624, 0.1605)),
                                      ((0, 20), (0.0, 0.1611)), ((1, 29), (0.0061, 0.1718))]:  # fmt: skip
        low, high = wilson_interval(successes, n)
        assert (low, high) == pytest.approx(published, abs=5e-5), (successes, n)
        for end in (low, high):
            if 0 < end < 1:
                score = abs(successes / n - end) / math.sqrt(end * (1 - end) / n)
                assert score == pytest.approx(z, rel=1e-9)


def agresti_diffpropci(b: int, c: int, n: int, conflev: float) -> tuple[float, float]:
    """Agresti's published R function diffpropci(b, c, n, conflev), transcribed: the adjusted Wald
    interval for p_2 - p_1 of a matched pair table [[n11, b], [c, n22]] (b = n12, c = n21)."""
    z = NormalDist().inv_cdf(1 - (1 - conflev) / 2)
    diff = (c - b) / (n + 2)
    sd = math.sqrt((b + c + 1) - (c - b) ** 2 / (n + 2)) / (n + 2)
    return max(-1.0, diff - z * sd), min(1.0, diff + z * sd)


@pytest.mark.parametrize(
    "table",
    [(794, 150, 86, 570), (0, 0, 0, 10), (5, 0, 10, 0), (0, 20, 0, 0), (40, 3, 9, 48), (10, 1, 0, 0), (1, 0, 0, 0)],
)
def test_paired_difference_interval_is_agrestis_diffpropci(table):
    """Our (a, b, c, d) = (both, only A, only B, neither) and p_A - p_B; Agresti's rows are the first
    response (A), so his n12 = only A, n21 = only B, and his difference p_B - p_A is ours negated."""
    both, only_a, only_b, neither = table
    n = sum(table)
    for conflev in (0.95, 0.9):
        low, high = paired_difference_interval(*table, confidence=conflev)
        his_low, his_high = agresti_diffpropci(only_a, only_b, n, conflev)
        assert (low, high) == pytest.approx((-his_high, -his_low), abs=1e-14)


def test_paired_difference_interval_on_agrestis_approval_ratings():
    """Agresti, Categorical Data Analysis, table 10.1: approval of the president's performance in two
    surveys of the same 1,600 people (794 approve both times, 150 then not, 86 not then approve, 570
    neither). Approval fell 0.59 -> 0.55; his Wald interval for the change is -0.04 +- 1.96 (0.0095),
    i.e. (-0.06, -0.02); the adjusted interval barely differs at n = 1,600."""
    low, high = paired_difference_interval(794, 150, 86, 570)  # first survey minus second: +0.04
    assert (low, high) == pytest.approx((0.0212, 0.0587), abs=5e-5)
    assert (low, high) == pytest.approx((0.04 - 1.96 * 0.0095, 0.04 + 1.96 * 0.0095), abs=1e-3)


def exact_mcnemar(b: int, c: int) -> Fraction:
    """2 P(X <= min(b, c)), X ~ Binomial(b + c, 1/2), capped at 1, in exact rational arithmetic."""
    n = b + c
    if n == 0:
        return Fraction(1)
    return min(Fraction(1), 2 * sum(Fraction(math.comb(n, i), 2**n) for i in range(min(b, c) + 1)))


@pytest.mark.parametrize("b, c", [(0, 0), (0, 1), (1, 0), (3, 3), (1, 9), (3, 17), (40, 60), (150, 86), (2, 300),
                                  (500, 430), (0, 1000)])  # fmt: skip
def test_mcnemar_exact_equals_exact_fractions(b, c):
    exact = exact_mcnemar(b, c)
    assert mcnemar_exact(b, c) == pytest.approx(float(exact), rel=1e-12, abs=0)
    if exact < 1:  # below the cap, the tail itself is half of it
        assert binomial_cdf_half(min(b, c), b + c) == pytest.approx(float(exact) / 2, rel=1e-12, abs=0)


def test_holm_hand_worked():
    """m = 4, p = (0.01, 0.04, 0.03, 0.005): sorted 0.005, 0.01, 0.03, 0.04 times 4, 3, 2, 1 gives
    0.02, 0.03, 0.06, 0.04; made non-decreasing: 0.02, 0.03, 0.06, 0.06; back in input order."""
    assert holm([0.01, 0.04, 0.03, 0.005]) == pytest.approx([0.03, 0.06, 0.06, 0.02], abs=1e-15)
    # R: p.adjust(c(0.01, 0.02, 0.03, 0.04, 0.05), "holm") -> 0.05 0.08 0.09 0.09 0.09
    assert holm([0.01, 0.02, 0.03, 0.04, 0.05]) == pytest.approx([0.05, 0.08, 0.09, 0.09, 0.09], abs=1e-15)
    assert holm([0.2, 0.2, 0.5]) == pytest.approx([0.6, 0.6, 0.6], abs=1e-15)
    assert holm([0.3, 0.6, 0.01]) == pytest.approx([0.6, 0.6, 0.03], abs=1e-15) and holm([0.4, 0.45]) == [0.8, 0.8]


def test_mean_interval_by_hand():
    """Values 2, 4, 4, 4, 5, 5, 7, 9: mean 5, sample variance 32 / 7, standard error sqrt(32 / 56) =
    0.7559289, half-width 1.959964 * 0.7559289 = 1.481594."""
    values = [2, 4, 4, 4, 5, 5, 7, 9]
    low, high = mean_interval(sum(values), sum(v * v for v in values), len(values))
    assert (low, high) == pytest.approx((5 - 1.481594, 5 + 1.481594), abs=1e-6)
    low, high = mean_interval(sum(values), sum(v * v for v in values), len(values), confidence=0.9)
    assert (low, high) == pytest.approx((5 - 1.644854 * 0.7559289, 5 + 1.644854 * 0.7559289), abs=1e-6)
