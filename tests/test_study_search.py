"""The threshold finder brackets a crossing known from a dense grid with many bandits, for the success
rate and for any other metric, and states the setting it held fixed."""

import json

import numpy as np
import pytest

from batched_bandit import sweep, threshold
from batched_bandit.cli import main
from batched_bandit.metrics import METRICS

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
    assert summary["metric"] == "success" and summary["setting"]["lr"] == 0.01
    assert "temperature" not in summary["setting"]  # the axis searched
    assert not (tmp_path / "threshold.png").exists()  # a library call draws nothing
    from batched_bandit.figures.search import plot_threshold

    png = plot_threshold(found).read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 10_000  # the search drawn
    again = threshold(tmp_path, axis="temperature", target=0.9, bounds=(0.5, 5.0), n_bandits=4000, seed=1, **SETTING)
    assert again == found  # resumes: every point is already committed


@pytest.fixture(scope="module")
def dense_regret(tmp_path_factory):
    """Where the mean regret rises through 100 along T (past its minimum near T = 0.15), from 16
    log-spaced temperatures x 20,000 bandits, with its interval (regret is nearly a deterministic
    function of the bandit's draws: the intervals are narrow, and the grid's own matters)."""
    from batched_bandit.study.search import _crossing, _interval

    temperatures = np.geomspace(0.25, 1.0, 16)
    result = sweep(tmp_path_factory.mktemp("dense_regret"), temperature=temperatures, n_bandits=20_000,
                   **SETTING)  # fmt: skip
    rows = [{"value": r["temperature"], **r} for r in result.rows]
    i = int(np.argmax([r["mean_regret"] >= 100 for r in rows]))
    estimate = _crossing(rows, "mean_regret", 100, (rows[i - 1]["value"], rows[i]["value"]))
    return estimate, _interval(rows, 100, True, estimate, METRICS["regret"])


def test_threshold_on_regret_agrees_with_the_dense_grid(tmp_path, dense_regret):
    found = threshold(tmp_path, axis="temperature", metric="regret", target=100, bounds=(0.3, 1.0), n_bandits=4000,
                      seed=1, **SETTING)  # fmt: skip
    low, high = found.ci
    dense, (dense_low, dense_high) = dense_regret
    assert found.increasing and low < found.estimate < high and high / low < 1.05, found.summary()
    assert low <= dense_high and dense_low <= high, (found.summary(), dense_regret)  # independent bandits: overlap
    assert found.summary().startswith("mean regret rises through 100 at temperature = ")
    points = np.genfromtxt(tmp_path / "points.csv", delimiter=",", names=True)
    assert list(points["mean_regret"]) == pytest.approx([p["mean_regret"] for p in found.points], rel=1e-11)
    summary = json.loads((tmp_path / "threshold.json").read_text())
    assert (summary["metric"], summary["target"], summary["estimate"]) == ("regret", 100.0, found.estimate)
    from batched_bandit.figures.search import plot_threshold

    assert plot_threshold(found).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_threshold_json_and_line_state_the_full_setting(tmp_path, capsys):
    """threshold.json gives every option that applies (defaults too), the run's seed and bandits; the
    printed line and the figure's title the options off their defaults, the horizon, optimizer,
    baseline, lr and temperature (issue 17: which baseline, lr or arms?)."""
    args = ["threshold", "--out", str(tmp_path), "--axis", "lr", "--metric", "p_best", "--target", "0.5", "--bounds",
            "0.01,1", "--rtol", "0.2", "--n-bandits", "300", "--episodes", "1", "--steps", "100", "--optimizer", "adam",
            "--beta2", "0.99", "--baseline", "mean", "--temperature", "1", "--win-prob", "0.2,0.5,0.7", "--seed", "3",
            "--no-progress"]  # fmt: skip
    assert main(args) == 0
    out = capsys.readouterr().out
    summary = json.loads((tmp_path / "threshold.json").read_text())
    assert summary["setting"] == {
        "n_episodes": 1, "steps_per_episode": 100, "win_prob": [0.2, 0.5, 0.7], "reward_values": [1.0, -1.0],
        "policy": "gradient", "optimizer": "adam", "baseline": "mean", "weight_decay": 0.0, "beta1": 0.9,
        "beta2": 0.99, "eps": 1e-08, "init_weights": 0.0, "temperature": 1.0,
    }  # fmt: skip
    assert (summary["n_bandits"], summary["seed"], summary["dtype"], summary["axis"]) == (300, 3, "float32", "lr")
    line = ("setting: n_episodes=1, steps_per_episode=100, win_prob=0.2,0.5,0.7, optimizer=adam, baseline=mean, "
            "beta2=0.99, temperature=1; lr searched; 300 bandits a point, seed 3, float32")  # fmt: skip
    assert "mean P(best) rises through 0.5 at lr = " in out and line in out and summary["stated"] == line[9:]


def test_threshold_refuses_what_it_cannot_find(tmp_path):
    with pytest.raises(ValueError, match="the success rate stays above 0.2"):  # lock-in floors it near 0.4
        threshold(tmp_path / "a", target=0.2, bounds=(1.0, 2.0), n_bandits=200, **SETTING)
    with pytest.raises(ValueError, match="axis must be one of"):
        threshold(tmp_path / "b", axis="n_episodes")
    with pytest.raises(ValueError, match="temperature is the axis searched"):
        threshold(tmp_path / "c", temperature=0.1)
    with pytest.raises(ValueError, match=r"target must be in \(0, 1\)"):
        threshold(tmp_path / "d", target=1.0)
    with pytest.raises(ValueError, match="target: give the mean reward to cross"):
        threshold(tmp_path / "e", metric="reward")
    with pytest.raises(ValueError, match="target must be finite and > 0"):
        threshold(tmp_path / "f", metric="regret", target=-1)
    with pytest.raises(ValueError, match="metric must be one of success, p_best"):
        threshold(tmp_path / "g", metric="rewards", target=1)
    with pytest.raises(ValueError, match="the mean regret stays below 1000 for temperature"):
        threshold(tmp_path / "h", metric="regret", target=1000, bounds=(1.0, 2.0), n_bandits=50, **SETTING)
    assert not any((tmp_path / name).exists() for name in "defg")  # refused before any work


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
