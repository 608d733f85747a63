"""The threshold finder brackets a crossing known from a dense grid with many bandits."""

import json

import numpy as np
import pytest

from batched_bandit import sweep, threshold
from batched_bandit.cli import main

SETTING = dict(n_episodes=2, steps_per_episode=200, lr=0.01)


@pytest.fixture(scope="module")
def dense_crossing(tmp_path_factory):
    """Where success crosses 0.9 along T, from 24 log-spaced temperatures x 20,000 bandits."""
    temperatures = np.geomspace(0.04, 0.2, 24)
    result = sweep(tmp_path_factory.mktemp("dense"), temperature=temperatures, n_bandits=20_000,
                   **SETTING)  # fmt: skip
    rates = np.array([r["success_rate"] for r in result.rows])
    i = int(np.argmax(rates >= 0.9))
    share = (0.9 - rates[i - 1]) / (rates[i] - rates[i - 1])
    return float(np.exp(np.log(temperatures[i - 1]) + share * np.log(temperatures[i] / temperatures[i - 1])))


def test_threshold_brackets_the_dense_grid_crossing(tmp_path, dense_crossing):
    found = threshold(tmp_path, axis="temperature", target=0.9, bounds=(0.5, 5.0), n_bandits=4000, seed=1, **SETTING)
    low, high = found.ci
    assert found.increasing and low <= dense_crossing <= high, (found.summary(), dense_crossing)
    assert low < found.estimate < high and high / low < 1.2  # an informative interval
    assert found.points[0]["value"] < 0.1  # the bounds were widened to find the crossing
    summary = json.loads((tmp_path / "threshold.json").read_text())
    assert summary["estimate"] == found.estimate and (tmp_path / "points.csv").exists()
    assert not (tmp_path / "threshold.png").exists()  # a library call draws nothing
    from batched_bandit.figures.search import plot_threshold

    png = plot_threshold(found).read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 10_000  # the search drawn
    again = threshold(tmp_path, axis="temperature", target=0.9, bounds=(0.5, 5.0), n_bandits=4000, seed=1, **SETTING)
    assert again == found  # resumes: every point is already committed


def test_threshold_refuses_what_it_cannot_find(tmp_path):
    with pytest.raises(ValueError, match="the success rate stays above 0.2"):  # lock-in floors it near 0.4
        threshold(tmp_path / "a", target=0.2, bounds=(1.0, 2.0), n_bandits=200, **SETTING)
    with pytest.raises(ValueError, match="axis must be one of"):
        threshold(tmp_path / "b", axis="n_episodes")
    with pytest.raises(ValueError, match="temperature is the axis searched"):
        threshold(tmp_path / "c", temperature=0.1)
    with pytest.raises(ValueError, match=r"target must be in \(0, 1\)"):
        threshold(tmp_path / "d", target=1.0)


def test_cli_threshold(tmp_path, capsys):
    args = ["threshold", "--out", str(tmp_path), "--target", "0.8", "--bounds", "0.02,0.3", "--n-bandits", "1000",
            "--episodes", "2", "--steps", "200", "--lr", "0.02", "--no-progress"]  # fmt: skip
    assert main(args) == 0
    assert "success rate rises through 0.8 at temperature =" in capsys.readouterr().out
    specs = [json.loads(meta.read_text())["spec"] for meta in (tmp_path / "points").glob("*/meta.json")]
    assert specs and all(spec["lr"] == [0.02] for spec in specs)  # the rest of the setting is passed on
    assert main([*args[:-1], "--target", "2"]) == 2


def test_the_crossing_is_interpolated_in_log_space_between_the_brackets_points():
    from batched_bandit.study.search import _crossing

    points = [{"value": 0.1, "success_rate": 0.8}, {"value": 0.2, "success_rate": 0.95}]
    # 0.9 is 2/3 of the way from 0.8 to 0.95: log-linear, 0.1 * 2 ** (2/3)
    assert _crossing(points, "success_rate", 0.9, (0.1, 0.2)) == pytest.approx(0.1 * 2 ** (2 / 3), rel=1e-12)
    falling = [{"value": 0.1, "success_rate": 0.95}, {"value": 0.2, "success_rate": 0.8}]
    assert _crossing(falling, "success_rate", 0.9, (0.1, 0.2)) == pytest.approx(0.1 * 2 ** (1 / 3), rel=1e-12)
