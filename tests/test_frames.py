"""DataFrames (frames.py, study/frames.py): a run's bandits and a study's tables, numbers as numbers,
equal to the exported CSV files (read with the csv module) and to the runs they come from."""

import csv
import math
import sys

import numpy as np
import pytest
import torch

from batched_bandit import run_batch
from batched_bandit.metrics import METRICS
from batched_bandit.study import normal_arms, open_study, sweep

pd = pytest.importorskip("pandas")

FIXED = (0.2, 0.0, -1.0)
RANDOM = normal_arms(4, 0.0, 0.5)
HORIZON = dict(n_episodes=2, steps_per_episode=20)


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    out = tmp_path_factory.mktemp("frames") / "study"
    sweep(out, temperature=[0.5, 2.0], arms=[FIXED, RANDOM], n_bandits=50, block_bandits=20, backend="torch",
          **HORIZON)  # fmt: skip
    return out


def read_csv(path):
    with open(path, newline="") as f:
        reader = csv.reader(f)
        return next(reader), list(reader)


def assert_frame_equals_csv(table, path):
    columns, rows = read_csv(path)
    assert list(table.columns) == columns and len(table) == len(rows)
    for name in columns:
        series, texts = table[name], [row[columns.index(name)] for row in rows]
        assert series.dtype != object, name
        if pd.api.types.is_bool_dtype(series):
            assert [str(bool(v)) for v in series] == texts, name
        elif pd.api.types.is_numeric_dtype(series):
            for value, text in zip(series, texts):
                if text == "":
                    assert pd.isna(value), name
                else:  # given values round-trip exactly; computed ones are written with 12 digits
                    assert float(text) == pytest.approx(float(value), rel=1e-11, abs=1e-300), name
            if pd.api.types.is_integer_dtype(series):
                assert [int(v) for v in series] == [int(t) for t in texts], name
        else:
            assert pd.api.types.is_string_dtype(series), name
            assert ["" if pd.isna(v) else v for v in series] == texts, name


def test_a_study_round_trips_its_csv_files(folder):
    with open_study(folder) as study:
        results, curves = study.to_pandas(), study.to_pandas("curves")
    assert_frame_equals_csv(results, folder / "results.csv")
    assert_frame_equals_csv(curves, folder / "curves.csv")
    numbers = ["setting", "temperature", "lr", "n", "successes", *(m.column for m in METRICS.values()), "arm_0"]
    assert all(pd.api.types.is_numeric_dtype(results[c]) for c in numbers)
    assert results["n"].dtype == np.int64 and results["success_rate"].dtype == np.float64
    assert list(results["arms"]) == ["0.2,0.0,-1.0"] * 2 + [str(RANDOM)] * 2  # a random problem reads as its spec
    assert results["gap"].isna().tolist() == [False, False, True, True]  # per-bandit quantities: not a number
    assert results.loc[0, ["arm_0", "arm_1", "arm_2"]].tolist() == list(FIXED)
    assert curves["mean_field_p_best"].dtype == np.float64 and curves["mean_field_p_best"].isna().sum() == 4


def test_a_study_frame_per_bandit(folder):
    with open_study(folder) as study:
        bandits, results = study.to_pandas("bandits"), study.to_pandas()
        p_best = study.metric_values(3, "p_best")
    assert len(bandits) == 4 * 50 and bandits["success"].dtype == bool and bandits["bandit"].dtype == np.int64
    assert all(bandits[m].dtype == np.float64 for m in METRICS if m != "success")
    assert bandits.groupby("setting")["bandit"].apply(list).tolist() == [list(range(50))] * 4
    assert bandits.groupby("setting")["block"].apply(list).tolist() == [[0] * 20 + [1] * 20 + [2] * 10] * 4
    means = bandits.groupby("setting")[list(METRICS)].mean()
    for m in METRICS.values():
        assert means[m.name].to_numpy() == pytest.approx(results[m.column].to_numpy(), rel=1e-6), m.name
    mine = bandits[bandits["setting"] == 3]
    assert mine["p_best"].to_numpy().tolist() == p_best.tolist()
    # the bandits of the random setting are run_batch's: the same problems, the same policies
    run = run_batch(50, arms=RANDOM, temperature=2.0, backend="torch", **HORIZON)
    arms = mine[[f"arm_{i}" for i in range(4)]].to_numpy()
    assert np.array_equal(arms, run.arms.numpy())
    assert mine["p_best"].to_numpy() == pytest.approx(run.p_best.numpy(), abs=1e-6)
    assert bandits[bandits["setting"] == 0]["arm_3"].isna().all()  # K = 3: no fourth arm


def test_a_study_frame_of_an_unknown_kind_is_refused(folder):
    with open_study(folder) as study, pytest.raises(ValueError, match="kind must be one of results, curves, bandits"):
        study.to_pandas("rows")


def test_a_run_frame_has_a_row_per_bandit():
    temperature = torch.linspace(0.5, 2.0, 30, dtype=torch.float64)
    result = run_batch(30, temperature=temperature, win_prob=[0.1, 0.3, 0.35], optimizer="adam", baseline="mean",
                       n_episodes=3, steps_per_episode=10, backend="torch")  # fmt: skip
    table = result.to_pandas()
    assert len(table) == result.n_bandits and table["bandit"].tolist() == list(range(30))
    assert table["success"].dtype == bool and table["success"].tolist() == result.success.tolist()
    for name in METRICS:
        assert table[name].to_numpy() == pytest.approx(result.metric(name).numpy(), abs=0), name
    assert table["temperature"].to_numpy().tolist() == temperature.tolist()
    assert (table["lr"] == 0.01).all() and (table["optimizer"] == "adam").all() and (table["baseline"] == "mean").all()
    assert table[["arm_0", "arm_1", "arm_2"]].to_numpy().tolist() == [[0.1, 0.3, 0.35]] * 30
    assert table.select_dtypes(include="object").empty
    assert table.attrs["reward_model"] == "bernoulli" and table.attrs["n_episodes"] == 3


def test_another_policy_has_its_own_parameter_and_no_temperature_or_lr():
    """temperature and lr are the gradient policy's: a UCB run's frame and scalars() have ucb_c instead."""
    result = run_batch(6, policy="ucb", ucb_c=0.5, win_prob=[0.3, 0.6], n_episodes=1, steps_per_episode=5)
    table, scalars = result.to_pandas(), result.scalars()
    assert "temperature" not in table and "lr" not in table and (table["ucb_c"] == 0.5).all()
    assert "temperature" not in scalars and "lr" not in scalars and scalars["policy"] == "ucb"


def test_a_run_frame_of_random_problems_has_each_bandits_draw():
    result = run_batch(8, means=normal_arms(5, 1.0, 2.0), n_episodes=1, steps_per_episode=5, backend="torch")
    table = result.to_pandas()
    assert table[[f"arm_{i}" for i in range(5)]].to_numpy().tolist() == result.arms.tolist()
    assert table.attrs["drawn_from"] == str(normal_arms(5, 1.0, 2.0))


def test_without_pandas_one_line_names_the_extra(monkeypatch, folder):
    monkeypatch.setitem(sys.modules, "pandas", None)
    result = run_batch(2, n_episodes=1, steps_per_episode=2, backend="torch")
    for call in (result.to_pandas, open_study(folder).to_pandas):
        with pytest.raises(ImportError, match=r"pip install 'batched_bandit\[pandas\]'") as caught:
            call()
        assert "\n" not in str(caught.value)


def test_column_dtypes():
    from batched_bandit.frames import column

    assert column([1, 2]).dtype == np.int64 and column([1, None]).dtype == "Int64"
    assert column([1, 2.5]).dtype == np.float64 and math.isnan(column([1.5, None])[1])
    assert column([np.float64(1.5), 2]).dtype == np.float64
    assert column([True, False]).dtype == bool and column([True, None]).dtype == "boolean"
    assert column([(1.0, 2.0), 0.5]).tolist() == ["1.0,2.0", "0.5"]  # a mix reads as text, as in the CSV
    assert column([RANDOM, None]).dtype == "string"
