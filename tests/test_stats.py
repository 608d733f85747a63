import math
from statistics import NormalDist

import pytest

from batched_bandit.stats import chi_square_homogeneity, chi_square_sf, mean_interval, two_proportion_z, wilson_interval


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
