"""Naming a setting as people type it: equal values first, else the one value at the digits typed;
ambiguity refused; every list of a study's values in numeric order."""

from types import SimpleNamespace

import numpy as np
import pytest

from batched_bandit.cli.compare import value
from batched_bandit.study.selector import Typed, find_setting, listed, significant_digits

LOG_GRID = np.geomspace(0.01, 1, 5).tolist()  # 0.01, 0.0316227766..., 0.1, 0.316227766..., 1


def grid(**axes) -> SimpleNamespace:
    """A stand-in study: the settings of a full grid over ``axes``."""
    settings = [{}]
    for name, values in axes.items():
        settings = [{**s, name: v} for s in settings for v in values]
    return SimpleNamespace(settings=settings)


@pytest.mark.parametrize("text, digits", [("0.03162", 4), ("0.10", 2), ("1e2", 1), ("300", 3), ("-0.0500", 3),
                                          ("7", 1), ("1.", 1), (" 0.5 ", 1), ("inf", None), ("nan", None)])  # fmt: skip
def test_significant_digits(text, digits):
    assert significant_digits(text.strip()) == digits
    assert Typed(text) == float(text) or digits is None


def test_a_value_as_a_table_shows_it_names_its_grid_point():
    """The issue's example: a table shows lr 0.03162 (4 digits) for 0.0316227766...; typed on the
    command line (Typed) or given as a float by the API (its shortest repr, 4 digits), it names it."""
    study = grid(lr=LOG_GRID)
    for typed in (value("0.03162"), 0.03162, value("0.0316"), 0.0316228, value("3.162e-2"), LOG_GRID[1]):
        assert find_setting(study, {"lr": typed}) == 1, typed
    assert find_setting(study, {"lr": value("0.3162")}) == 3 and find_setting(study, {"lr": 0.1}) == 2
    for wrong in (value("0.03163"), 0.0317, value("0.031622776"), LOG_GRID[1] * (1 + 1e-12)):
        with pytest.raises(ValueError, match="no setting has lr="):
            find_setting(study, {"lr": wrong})


def test_an_equal_value_wins_over_one_that_rounds_to_it():
    """temperature=0.1 names 0.1 beside 0.12 (which 0.1 also is, at one digit)."""
    study = grid(temperature=[0.1, 0.12, 0.5])
    assert find_setting(study, {"temperature": value("0.1")}) == 0 and find_setting(study, {"temperature": 0.1}) == 0
    assert find_setting(study, {"temperature": value("0.12")}) == 1
    # without an equal value, one digit names the one value it rounds to; "0.10" (two digits) does not
    with pytest.raises(ValueError, match="no setting has temperature=0.1; values in the study: temperature 0.12, 0.5"):
        find_setting(grid(temperature=[0.12, 0.5]), {"temperature": value("0.1")})  # fewer digits than 0.12 shows
    with pytest.raises(ValueError, match="no setting has temperature=0.10; values in the study: temperature 0.12, 0.5"):
        find_setting(grid(temperature=[0.12, 0.5]), {"temperature": value("0.10")})


def test_two_values_at_the_digits_typed_are_ambiguous():
    study = grid(lr=[0.0316227766, 0.0316478, 0.5])
    with pytest.raises(ValueError, match=r"a: lr=0.0316 matches 2 values of the study at the digits given: "
                                         r"0.0316228, 0.0316478; give more digits"):  # fmt: skip
        find_setting(study, {"lr": value("0.0316")}, "a")
    assert find_setting(study, {"lr": value("0.03162")}) == 0 and find_setting(study, {"lr": 0.031648}) == 1
    close = grid(lr=[0.1234567891, 0.1234567896])  # told apart at the 10th digit: listed with 10
    with pytest.raises(ValueError, match="0.1234567891, 0.1234567896; give more digits"):
        find_setting(close, {"lr": value("0.12345679")})


def test_vectors_counts_and_words():
    study = grid(arms=[(0.0, 0.0316227766), (0.0, 0.5)], n_episodes=[10, 316], optimizer=["adam", "sgd"])
    pick = {"arms": value("0,0.03162"), "n_episodes": value("316"), "optimizer": value("sgd")}
    assert study.settings[find_setting(study, pick)] == {"arms": (0.0, 0.0316227766), "n_episodes": 316,
                                                         "optimizer": "sgd"}  # fmt: skip
    assert find_setting(study, {**pick, "n_episodes": value("1e1")}) == find_setting(study, {**pick, "n_episodes": 10})
    assert study.settings[find_setting(study, {**pick, "n_episodes": value("316")})]["n_episodes"] == 316
    with pytest.raises(ValueError, match="no setting has"):  # 3e2 is not how any table shows 316
        find_setting(study, {**pick, "n_episodes": value("3e2")})
    with pytest.raises(
        ValueError,
        match="no setting has arms=0,0.03162, n_episodes=300, optimizer=sgd; values in "
        "the study: arms 0,0.0316228, 0,0.5; n_episodes 10, 316; optimizer adam, sgd",
    ):
        find_setting(study, {**pick, "n_episodes": value("300")})  # 3 digits: 316 is not 300


def test_values_are_listed_in_numeric_order():
    """Sorted as numbers, not as text ("0.1, 0.03, 1"); vectors by their entries; words, then None, after."""
    study = grid(temperature=[1.0, 0.1, 0.03, 10.0])
    with pytest.raises(ValueError, match="values in the study: temperature 0.03, 0.1, 1, 10$"):
        find_setting(study, {"temperature": 0.3})
    assert listed([(0.0, 0.5), (0.0, 0.25), (-1.0, 2.0)]) == "-1,2, 0,0.25, 0,0.5"
    assert listed([None, "sgd", 2.0, "adam", 0.5]) == "0.5, 2, adam, sgd, None"
    assert listed([100, 20, 3]) == "3, 20, 100"


def test_several_settings_left_open():
    study = grid(temperature=[0.1, 0.2], lr=[0.3, 0.01])
    with pytest.raises(ValueError, match="2 settings have temperature=0.1; also give lr"):
        find_setting(study, {"temperature": value("0.1")})


def test_a_value_typed_with_seven_digits_finds_its_grid_point():
    """Log-spaced grid points are not short decimals: 0.1467799 names 0.14677992676220697 (5e-8 off),
    while a value 1e-5 off, or a neighbour, names nothing."""
    values = np.geomspace(0.04, 0.2, 8)
    study = SimpleNamespace(settings=[{"temperature": float(t), "lr": 0.01} for t in values])
    for i, t in enumerate(values[1:-1], start=1):  # the ends, 0.04 and 0.2, are exact
        typed = float(f"{t:.7g}")
        assert typed != t and find_setting(study, {"temperature": typed}) == i
    with pytest.raises(ValueError, match="no setting has temperature="):
        find_setting(study, {"temperature": float(values[3]) * (1 + 1e-5)})
