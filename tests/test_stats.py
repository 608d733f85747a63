import math

import pytest

from batched_bandit.stats import chi_square_homogeneity, chi_square_sf, two_proportion_z, wilson_interval


def test_wilson_interval_known_values():
    low, high = wilson_interval(0, 10)  # upper bound z^2 / (n + z^2)
    assert abs(low) < 1e-12 and math.isclose(high, 1.959964**2 / (10 + 1.959964**2), rel_tol=1e-6)
    low, high = wilson_interval(5, 10)
    assert math.isclose(low, 0.2366, abs_tol=1e-4) and math.isclose(high, 0.7634, abs_tol=1e-4)
    assert wilson_interval(10, 10)[1] == 1.0
    assert wilson_interval(0, 0) == (0.0, 1.0)
    narrow, wide = wilson_interval(400, 1000), wilson_interval(40, 100)
    assert wide[0] < narrow[0] < 0.4 < narrow[1] < wide[1]


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
