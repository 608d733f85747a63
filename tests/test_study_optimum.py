"""The optimum finder: its interval covers a minimum known from a dense grid with many bandits, it
states the setting it held fixed, ``by`` gives one row per value, and bad input is one line."""

import json

import numpy as np
import pytest

from batched_bandit import optimum, run_batch
from batched_bandit.cli import main
from batched_bandit.random_arms import uniform_arms
from batched_bandit.study.optimum import fit

# random 10-armed Bernoulli bandits, plain SGD at T = 1: regret has an interior minimum in lr near 0.65
SETTING = dict(win_prob=uniform_arms(10, 0.0, 1.0), n_episodes=1, steps_per_episode=300, temperature=1.0)
CLI_SETTING = ["--win-prob", "uniform:10:0:1", "--episodes", "1", "--steps", "300", "--temperature", "1"]


@pytest.fixture(scope="module")
def dense_minimum():
    """(lr, mean regret) at the minimum of a cubic in log(lr) through 13 points x 100,000 bandits."""
    lrs = np.geomspace(0.4, 1.1, 13)
    regret = [run_batch(100_000, lr=float(lr), seed=101, **SETTING).regret.double().mean().item() for lr in lrs]
    coefficients = np.polyfit(np.log(lrs), regret, 3)
    u = np.linspace(np.log(0.4), np.log(1.1), 10_001)
    y = np.polyval(coefficients, u)
    return float(np.exp(u[np.argmin(y)])), float(y.min())


def test_the_intervals_cover_the_dense_grid_minimum(tmp_path, dense_minimum):
    found = optimum(tmp_path, axis="lr", minimize="regret", bounds=(0.01, 10.0), n_bandits=4000, **SETTING)
    where, value = dense_minimum
    assert found.ci[0] <= where <= found.ci[1] and found.ci[1] / found.ci[0] < 1.5, (found.summary(), where)
    assert found.value_ci[0] <= value <= found.value_ci[1], (found.summary(), value)
    assert found.bracketed and found.vertex and found.ci[0] < found.estimate < found.ci[1]
    assert found.summary().startswith("mean regret is lowest at lr = ")
    values = [p["value"] for p in found.points]
    assert values == sorted(values) and values[0] == 0.01 and values[-1] == 10.0
    record = json.loads((tmp_path / "optimum.json").read_text())
    assert (record["estimate"], record["ci_low"], record["value"]) == (found.estimate, found.ci[0], found.value)
    assert record["setting"]["win_prob"] == "uniform:10:0.0:1.0" and record["setting"]["optimizer"] == "sgd"
    assert "lr" not in record["setting"] and (record["n_bandits"], record["seed"]) == (4000, 0)
    assert (tmp_path / "points.csv").read_text().count("\n") == len(found.points) + 1
    again = optimum(tmp_path, axis="lr", minimize="regret", bounds=(0.01, 10.0), n_bandits=4000, **SETTING)
    assert again == found  # run again: every point is read back, the same answer


def test_an_optimum_beyond_the_widened_bounds_is_said_to_be_at_the_edge(tmp_path):
    """Regret falls with lr all the way from 1e-4 to 0.2 (widened three times tenfold): the answer says
    the best point is the search's last, and the optimum may lie above it."""
    found = optimum(tmp_path, minimize="regret", bounds=(1e-4, 2e-4), n_bandits=200, **{**SETTING,
                    "steps_per_episode": 100})  # fmt: skip
    assert not found.bracketed and max(p["value"] for p in found.points) == 0.2
    assert "the best point is the search's edge (lr = 0.2): the optimum may lie above it" in found.summary()
    assert json.loads((tmp_path / "optimum.json").read_text())["bracketed"] is False


def test_the_fit_is_the_vertex_of_a_quadratic_in_log_x():
    xs = np.geomspace(0.01, 1.0, 9)
    means = (np.log(xs) - np.log(0.07)) ** 2 + 3.0
    found = fit(xs, means, 1.0)
    assert found.vertex and found.estimate == pytest.approx(0.07, rel=1e-9) and found.value == pytest.approx(3.0)
    cap = fit(xs, -means, -1.0)  # maximising
    assert cap.vertex and cap.estimate == pytest.approx(0.07, rel=1e-9) and cap.value == pytest.approx(-3.0)
    edge = fit(xs, np.log(xs), 1.0)  # no bowl: the best point itself
    assert not edge.vertex and edge.estimate == xs[0]


def test_cli_by_gives_one_row_per_value(tmp_path, capsys):
    args = ["optimum", "--out", str(tmp_path), "--maximize", "reward", "--by", "optimizer", "--optimizer",
            "sgd,adam", "--bounds", "0.01,3", "--rtol", "0.2", "--n-bandits", "500", "--beta2", "0.99", "--seed", "2",
            *CLI_SETTING, "--no-progress"]  # fmt: skip
    assert main(args) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "mean reward: highest along lr, one search per optimizer (95% CIs: bootstrap over bandits)"
    assert out[1].split()[:3] == ["optimizer", "best", "lr"]
    assert [line.split()[0] for line in out[2:4]] == ["sgd", "adam"] and out[4].startswith("setting: ")
    assert "temperature=1; lr searched, optimizer by row; 500 bandits a point, seed 2, float32" in out[4]
    record = json.loads((tmp_path / "optimum.json").read_text())
    assert [row["optimizer"] for row in record["rows"]] == ["sgd", "adam"] and record["by"] == "optimizer"
    adam = record["rows"][1]
    assert adam["setting"]["beta2"] == 0.99 and adam["setting"]["optimizer"] == "adam" and adam["goal"] == "maximize"
    assert "beta2" not in record["rows"][0]["setting"]  # only what applies to sgd
    for row in record["rows"]:
        inner = json.loads((tmp_path / f"optimizer={row['optimizer']}" / "optimum.json").read_text())
        assert inner == {k: v for k, v in row.items() if k != "optimizer"}
        assert row["ci_low"] <= row["estimate"] <= row["ci_high"]
    assert (tmp_path / "optimum.png").exists()


@pytest.mark.parametrize(
    "extra, message",
    [
        ([], "one of the arguments --minimize --maximize is required"),
        (["--minimize", "regret", "--maximize", "reward"], "not allowed with argument"),
        (["--minimize", "regrets"], "argument --minimize: invalid choice: 'regrets'"),
        (["--minimize", "regret", "--axis", "n_episodes"], "argument --axis: invalid choice"),
        (["--minimize", "regret", "--by", "lr"], "by: lr is the axis searched"),
        (["--minimize", "regret", "--by", "colour"], "--by: unknown axis 'colour'"),
        (["--minimize", "regret", "--by", "temperature"], "by=temperature: give its values"),
        (["--minimize", "regret", "--lr", "0.1"], "lr is the axis searched"),
        (["--minimize", "regret", "--temperature", "0.1,1"], "--temperature: give one value"),
        (["--minimize", "regret", "--bounds", "1,0.1"], "bounds must be (low, high) with low < high"),
        (["--minimize", "regret", "--by", "optimizer", "--optimizer", "sgd,adagrad"], "optimizer must be one of"),
        (["--minimize", "regret", "--win-prob", "normal:10:0:1"], "every value must be within [0, 1]"),
    ],
)
def test_cli_input_errors_are_one_line_before_any_work(tmp_path, capsys, extra, message):
    out = tmp_path / "search"
    assert main(["optimum", "--out", str(out), *extra, "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err, err
    assert not out.exists()


def test_api_input_errors(tmp_path):
    with pytest.raises(ValueError, match="give minimize=METRIC or maximize=METRIC"):
        optimum(tmp_path / "a")
    with pytest.raises(ValueError, match="give minimize=METRIC or maximize=METRIC"):
        optimum(tmp_path / "a", minimize="regret", maximize="reward")
    with pytest.raises(ValueError, match="metric must be one of success, p_best, regret"):
        optimum(tmp_path / "a", maximize="rewards")
    with pytest.raises(ValueError, match="a search holds every other option at one value: temperature has several"):
        optimum(tmp_path / "a", minimize="regret", temperature=[0.1, 1.0])
    with pytest.raises(ValueError, match="by must be an axis"):
        optimum(tmp_path / "a", minimize="regret", by="seed")
    with pytest.raises(TypeError, match="out must be a folder path"):
        optimum(None, minimize="regret")
    assert not (tmp_path / "a").exists()
