"""Every metric in a study (issue 17): each bandit's stored values equal run_batch's, results.csv and
curves.csv give every metric with its interval, curves inside episodes equal RunResult's trace, the
numbers do not depend on blocks, executors or interruptions, and meta.json says what the columns mean."""

import csv
import json
import math

import numpy as np
import pytest
import torch
from conftest import Interrupted

from batched_bandit import run_batch, sweep
from batched_bandit.metrics import CURVE_COLUMNS as METRIC_CURVES
from batched_bandit.metrics import METRICS
from batched_bandit.random_arms import RandomArms
from batched_bandit.study import InProcess, normal_arms, open_study
from batched_bandit.study.columns import CURVE_COLUMNS, RESULT_COLUMNS
from batched_bandit.study.store import FORMAT_VERSION
from batched_bandit.study.task import _arm_rows

SMALL = dict(n_episodes=2, steps_per_episode=50, n_bandits=150, seed=7)
MEANS = [name for name, m in METRICS.items() if m.kind == "mean"]
approx = lambda x: pytest.approx(x, rel=1e-10, abs=1e-12)  # noqa: E731  sums added in another order


def per_bandit(folder, n_settings):
    """setting -> metric -> each bandit's stored value, bandit order."""
    with open_study(folder) as study:
        return {i: {m: study.metric_values(i, m) for m in METRICS} for i in range(n_settings)}


def test_stored_per_bandit_metrics_and_the_rows_equal_run_batch(tmp_path):
    """Bandit j of a setting is stream j of run_batch: its stored values are run_batch's (float32), and
    each metric's mean and 95% interval in results.csv are RunResult.estimates()'s."""
    arms = [(0.3, -0.5, 0.0), (0.2, 0.0, -0.2, -1.0)]
    result = sweep(tmp_path, temperature=[0.1, 1.0], lr=0.05, arms=arms, block_bandits=64, **SMALL)
    stored = per_bandit(tmp_path, 4)
    for i, (row, setting) in enumerate(zip(result.rows, result.settings)):
        res = run_batch(150, arms=setting.arms, temperature=setting.temperature, lr=0.05, n_episodes=2,
                        steps_per_episode=50, seed=7)  # fmt: skip
        assert np.array_equal(stored[i]["success"], res.success.numpy())
        for name in MEANS:
            assert stored[i][name].dtype == np.float64
            assert np.array_equal(stored[i][name], res.metric(name).float().double().numpy()), name
        estimates = res.estimates()
        for name, m in METRICS.items():
            mean, low, high = estimates[name]
            assert (row[m.column], row[m.ci[0]], row[m.ci[1]]) == approx((mean, low, high)), name
    # not vacuous: the metrics differ between settings and are not all one value
    assert len({round(r["mean_reward"], 6) for r in result.rows}) == 4
    assert all(0 < r["optimal_action_rate"] < 1 and r["reward_ci_low"] < r["mean_reward"] for r in result.rows)
    with open_study(tmp_path) as study:
        blocks = study.metric_blocks(1, "regret")
        assert list(blocks) == [0, 1, 2] and [len(b) for b in blocks.values()] == [64, 64, 22]
        with pytest.raises(ValueError, match="metric must be one of success, p_best, regret, reward, optimal_action"):
            study.metric_blocks(0, "lr")


def test_curves_per_episode_are_each_metrics_mean_with_its_interval(tmp_path):
    """Per episode: success and P(best) at its end, cumulative regret, reward and optimal action as rates
    within the episode."""
    result = sweep(tmp_path, temperature=0.5, lr=0.1, **SMALL)
    res = run_batch(150, temperature=0.5, lr=0.1, n_episodes=2, steps_per_episode=50, seed=7)
    rates = {"reward": res.episode_reward / 50, "optimal_action": res.episode_optimal.double() / 50,
             "regret": res.episode_regret, "p_best": res.episode_p_best.double()}  # fmt: skip
    for e, point in enumerate(result.curves):
        assert (point["episode"], point["step"]) == (e + 1, 50 * (e + 1))
        for name, values in rates.items():
            x = values[:, e]
            half = 1.959963984540054 * float(x.std()) / 150**0.5
            assert point[METRIC_CURVES[name]] == approx(float(x.mean())), name
            assert point[METRICS[name].ci[1]] - point[METRIC_CURVES[name]] == pytest.approx(half, rel=1e-6), name
    assert result.curves[-1]["optimal_action_rate"] != approx(result.rows[0]["optimal_action_rate"])  # a rate within


@pytest.mark.parametrize("every", [10, 30])
def test_curves_from_traces_equal_run_batchs_trace(tmp_path, every):
    """record_every=N: a point every N steps (30 does not divide the 100 steps: points at 30, 60, 90),
    each metric's mean over bandits equal to RunResult.trace's, episode = the one the point falls in."""
    axes = dict(temperature=[0.3, 2.0], arms=[(0.2, 0.0, -0.2, -1.0), normal_arms(3, 0.0, 0.5)], backend="torch",
                block_bandits=64, **SMALL)  # fmt: skip
    result = sweep(tmp_path / "traced", record_every=every, **axes)
    n_points = 100 // every
    assert len(result.curves) == 4 * n_points
    for i, setting in enumerate(result.settings):
        res = run_batch(150, **setting.options(), n_episodes=2, steps_per_episode=50, seed=7, backend="torch",
                        record_every=every)  # fmt: skip
        curve = [c for c in result.curves if c["setting"] == i]
        assert [c["step"] for c in curve] == res.trace.steps.tolist() == [every * (r + 1) for r in range(n_points)]
        assert [c["episode"] for c in curve] == [(c["step"] - 1) // 50 + 1 for c in curve]
        for name, m in METRICS.items():
            means = getattr(res.trace, name).double().mean(dim=0).tolist()
            assert [c[m.curve] for c in curve] == approx(means), name
        assert result.rows[i]["mean_reward"] == approx(float(res.reward.mean()))  # the rows: over the whole run
    episode_points = [c["episode"] for c in result.curves if c["setting"] == 0]
    assert episode_points == ([1] * 5 + [2] * 5 if every == 10 else [1, 2, 2])
    meta = json.loads((tmp_path / "traced" / "meta.json").read_text())
    assert meta["spec"]["record_every"] == every and meta["spec"]["format"] == f"batched_bandit.study/{FORMAT_VERSION}"
    # the same study in blocks run one by one, last first: the same bytes
    sweep(tmp_path / "one", record_every=every, executor=InProcess(fuse_elements=1), **axes)
    for name in ("results.csv", "curves.csv"):
        assert (tmp_path / "one" / name).read_bytes() == (tmp_path / "traced" / name).read_bytes()


def test_every_metric_is_the_same_whatever_the_blocks_fusion_and_interruptions(tmp_path):
    axes = dict(temperature=[0.1, 1.0, 10.0], lr=[0.01, 0.1], arms=[(0.2, 0.0, -1.0), normal_arms(4, 0.0, 0.5)],
                block_bandits=40, **SMALL)  # fmt: skip
    sweep(tmp_path / "fused", **axes)
    with pytest.raises(KeyboardInterrupt):
        sweep(tmp_path / "stopped", **axes, executor=Interrupted(3))
    sweep(tmp_path / "stopped", **axes, executor=InProcess(fuse_elements=1))
    fused, stopped = per_bandit(tmp_path / "fused", 12), per_bandit(tmp_path / "stopped", 12)
    for i in range(12):
        for name in METRICS:
            assert np.array_equal(fused[i][name], stopped[i][name]), (i, name)
    for name in ("results.csv", "curves.csv"):
        assert (tmp_path / "fused" / name).read_bytes() == (tmp_path / "stopped" / name).read_bytes()


def test_the_csv_columns_are_every_metrics_and_meta_json_says_what_each_means(tmp_path):
    sweep(tmp_path, temperature=[0.5, 2.0], record_every=25, backend="torch", **SMALL)
    meta = json.loads((tmp_path / "meta.json").read_text())
    for name, table in (("results.csv", RESULT_COLUMNS), ("curves.csv", CURVE_COLUMNS)):
        with open(tmp_path / name) as f:
            header = next(csv.reader(f))
        assert list(meta["columns"][name]) == [c for c in header if not c.startswith("arm_")]
        assert header[6 : 6 + len(table)] == list(table)
    results, curves = meta["columns"]["results.csv"], meta["columns"]["curves.csv"]
    for m in METRICS.values():  # each metric's mean and interval, with the names of metrics.py
        band = ("success_ci_low", "success_ci_high") if m.name == "success" else m.ci
        assert {m.column, *m.ci} <= set(results) and {m.curve, *band} <= set(curves)
    assert results["ci_low"] == "95% Wilson interval of the success rate, low end"
    assert results["reward_ci_high"] == "95% normal interval of the mean reward per step, high end"
    assert results["mean_reward"] == "mean over bandits of the reward per step over the whole run"
    assert "kept for one release" in results["mean_reward_last_episode"]
    assert "cumulative" in curves["mean_regret"] and "within the interval ending at the point" in curves["mean_reward"]
    assert "every record_every steps" in curves["step"]


@pytest.mark.parametrize(
    "record_every, message",
    [
        (0, "record_every must be an integer >= 1"),
        (101, r"record_every: a setting of 2 x 50 steps: record_every 101 is more than its 100 steps"),
    ],
)
def test_bad_record_every_is_refused_before_any_work(tmp_path, record_every, message):
    with pytest.raises(ValueError, match=message):
        sweep(tmp_path / "out", temperature=1.0, record_every=record_every, **SMALL)
    assert not (tmp_path / "out").exists()


def test_too_many_curve_points_are_refused(tmp_path):
    with pytest.raises(ValueError, match=r"200,000 curve points \(its 200,000 steps every 1\); at most 100,000"):
        sweep(tmp_path / "out", temperature=1.0, n_episodes=1, steps_per_episode=200_000, record_every=1, n_bandits=1)


def test_a_one_bandit_study_has_undefined_mean_intervals_for_every_metric(tmp_path):
    result = sweep(tmp_path, temperature=1.0, n_bandits=1, n_episodes=2, steps_per_episode=20)
    for name in MEANS:
        low, high = METRICS[name].ci
        assert math.isnan(result.rows[0][low]) and math.isnan(result.curves[0][high]), name
    assert not math.isnan(result.rows[0]["ci_low"])  # Wilson's interval is defined for one bandit


def test_random_problems_are_drawn_once_per_batch_and_are_each_bandits_own(monkeypatch):
    """Settings of one batch that share a distribution share one draw (over the union of their bandits
    when they have different ones); each row is that bandit's problem, as drawn alone."""
    calls = []
    original = RandomArms.draw
    monkeypatch.setattr(RandomArms, "draw", lambda self, *a: calls.append(a[2].tolist()) or original(self, *a))
    dist, other = normal_arms(3, 0.0, 1.0), normal_arms(3, 1.0, 2.0)
    same = [({}, torch.arange(10, 20))] * 3
    rows = _arm_rows([dist] * 3, same, "gaussian", 5, None)
    assert calls == [list(range(10, 20))] and torch.equal(
        rows, original(dist, "gaussian", 5, torch.arange(10, 20)).repeat(3, 1)
    )
    calls.clear()
    parts = [({}, torch.arange(0, 4)), ({}, torch.tensor([2, 3, 8])), ({}, torch.arange(0, 4)), ({}, torch.arange(5))]
    rows = _arm_rows([dist, dist, (0.0, 0.5, 1.0), other], parts, "gaussian", 5, None)
    assert calls == [[0, 1, 2, 3, 8], [0, 1, 2, 3, 4]]  # one draw per distribution
    expected = torch.cat(
        [
            original(dist, "gaussian", 5, torch.arange(0, 4)),
            original(dist, "gaussian", 5, torch.tensor([2, 3, 8])),
            torch.tensor([[0.0, 0.5, 1.0]] * 4, dtype=torch.float64),
            original(other, "gaussian", 5, torch.arange(5)),
        ]
    )
    assert torch.equal(rows, expected)
