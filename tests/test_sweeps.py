"""sweep: rows equal run_batch's, byte-identical exports whatever the order, blocks or interruptions;
precision targeting; the folder; the command line."""

import csv
import json
import math
import os
import random
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
import torch
from conftest import FAST_BACKENDS, Interrupted

from batched_bandit import run_batch, sweep
from batched_bandit.cli import main
from batched_bandit.cli.args import parse_axis
from batched_bandit.stats import wilson_interval
from batched_bandit.study import InProcess, load_curves, load_rows, load_verdicts, normal_arms, open_study
from batched_bandit.study.store import FILE
from batched_bandit.study.tables import CURVE_COLUMNS, RESULT_COLUMNS

SMALL = dict(n_episodes=2, steps_per_episode=50, n_bandits=150)
EXPORTS = ("results.csv", "curves.csv")


def exports(folder):
    return {name: (folder / name).read_bytes() for name in EXPORTS}


class Reversed(InProcess):
    """Tasks one by one, last first: a different order of completion."""

    def run(self, jobs, on_result, on_steps=None):
        for job in reversed(jobs):
            super().run([job], on_result, on_steps)


# --- rows, curves and the read API --------------------------------------------------------------


def test_rows_and_curves_equal_run_batch(tmp_path):
    """A setting's row is what run_batch gives for the same seed (bandit j is stream j)."""
    arms = [(0.3, -0.5, 0.0), (0.2, 0.0, -0.2, -1.0)]
    result = sweep(tmp_path, temperature=[0.1, 1.0], lr=0.05, arms=arms, seed=7, block_bandits=64, **SMALL)
    with open(tmp_path / "results.csv") as f:
        assert next(csv.reader(f)) == [
            "setting", "temperature", "lr", "arms", "n_episodes", "steps_per_episode", *RESULT_COLUMNS,
            "arm_0", "arm_1", "arm_2", "arm_3"]  # fmt: skip
    with open(tmp_path / "curves.csv") as f:
        assert next(csv.reader(f))[6:] == list(CURVE_COLUMNS)
    assert len(result.rows) == 4 and len(result.curves) == 4 * 2 and result.tasks_computed == 2 * 3
    assert result.rows == load_rows(tmp_path) and result.curves == load_curves(tmp_path)
    n = SMALL["n_bandits"]
    approx = lambda x: pytest.approx(x, rel=1e-10, abs=1e-12)  # noqa: E731  12 digits in the file
    for i, (row, setting) in enumerate(zip(result.rows, result.settings)):
        assert (row["temperature"], row["lr"], row["arms"]) == (setting.temperature, setting.lr, setting.arms)
        res = run_batch(n, arms=setting.arms, temperature=setting.temperature, lr=0.05, n_episodes=2,
                        steps_per_episode=50, seed=7)  # fmt: skip
        best = int(np.argmin(setting.arms))
        assert row["n"] == n and row["n_arms"] == len(setting.arms) and row["successes"] == res.n_successes
        mu = sorted((math.erfc(a / math.sqrt(2)) - 1 for a in setting.arms), reverse=True)  # E[reward] = 1 - 2 Phi
        assert row["gap"] == approx(mu[0] - mu[1]) and row["eta"] == approx(0.05 / setting.temperature**2)
        assert row["eta_over_gap2"] == approx(row["eta"] / row["gap"] ** 2)
        assert [row[f"arm_{k}"] for k in range(len(setting.arms))] == list(setting.arms)
        assert row.get("arm_3", "") in ("", setting.arms[-1])
        assert (row["ci_low"], row["ci_high"]) == approx(res.success_ci)
        final = res.episode_p_best[:, -1].double()
        assert row["mean_final_p_best"] == approx(float(final.mean()))
        assert row["sd_final_p_best"] == pytest.approx(float(final.std(unbiased=False)), rel=1e-8, abs=1e-7)
        top, choice = res.final_probs.double().max(dim=1)
        assert row["locked_wrong"] == approx(float(((top > 0.99) & (choice != best)).double().mean()))
        assert row["locked_best"] + row["locked_wrong"] + row["undecided"] == approx(1.0)
        assert row["mean_regret"] == approx(float(res.final_regret.mean()))
        scalars = res.scalars()
        assert (row["regret_ci_low"], row["regret_ci_high"]) == approx(
            (scalars["regret_ci_low"], scalars["regret_ci_high"])
        )
        assert row["mean_reward_last_episode"] == approx(int(res.episode_rewards[:, -1].sum()) / (n * 50))
        assert np.array_equal(load_verdicts(tmp_path, i), res.success.numpy())
        curve = [c for c in result.curves if c["setting"] == i]
        assert [(c["episode"], c["step"]) for c in curve] == [(1, 50), (2, 100)]
        for e, point in enumerate(curve):
            verdicts = torch.argmax(res.episode_rewards[:, e], dim=1) == best
            assert point["successes"] == int(verdicts.sum())
            assert point["mean_p_best"] == approx(float(res.episode_p_best[:, e].double().mean()))
            assert point["mean_regret"] == approx(float(res.episode_regret[:, e].mean()))
            low, high = wilson_interval(int(verdicts.sum()), n)
            assert (point["success_ci_low"], point["success_ci_high"]) == approx((low, high))
            p = res.episode_p_best[:, e].double()
            half = 1.959963984540054 * float(p.std()) / n**0.5
            assert point["p_best_ci_high"] - point["mean_p_best"] == pytest.approx(half, rel=1e-6)
            regret = res.episode_regret[:, e]
            half = 1.959963984540054 * float(regret.std()) / n**0.5
            assert point["regret_ci_high"] - point["mean_regret"] == pytest.approx(half, rel=1e-6)
            assert 0 < point["mean_field_p_best"] <= 1
    assert any(r["locked_wrong"] > 0 for r in result.rows)  # T = 0.1, lr = 0.05 locks some: not vacuous
    with open_study(tmp_path) as study:
        merged = study.merged(0)
        assert merged["n"] == n and merged["n_blocks"] == 3 and merged["p_best_hist"].sum() == n
        assert study.settings == result.settings


def test_the_csv_keeps_twelve_significant_digits_of_every_computed_number(tmp_path):
    """results.csv and curves.csv are what a reader parses: a computed value must survive to ~1e-11."""
    result = sweep(tmp_path, temperature=[0.1, 1.0], lr=0.05, seed=7, block_bandits=64, **SMALL)
    for name, rows in (("results.csv", result.rows), ("curves.csv", result.curves)):
        with open(tmp_path / name) as f:
            parsed = list(csv.DictReader(f))
        checked = 0
        for text, row in zip(parsed, rows, strict=True):
            for column in (*RESULT_COLUMNS, *CURVE_COLUMNS):
                value = row.get(column)
                if isinstance(value, float) and value not in (0.0, 1.0) and math.isfinite(value):
                    assert float(text[column]) == pytest.approx(value, rel=1e-11), (name, column)
                    checked += 1
        assert checked > 10 * len(rows)  # the fractional columns, not only exact ones
    # the summary: one line per setting, columns T, lr, eta, n, success, CI, P(best), reward, regret, locked wrong
    lines = [line.split() for line in result.summary().splitlines() if line.startswith("  ") and "T" not in line]
    assert len(lines) == 2
    for words, row in zip(lines, result.rows):
        assert words[2:5] == [f"{row['eta']:.3g}", f"{row['n']:,}", f"{row['success_rate']:.4f}"]
        assert words[5:] == [f"{row['ci_low']:.4f}..{row['ci_high']:.4f}", f"{row['mean_final_p_best']:.4f}",
                             f"{row['mean_reward']:.4g}", f"{row['mean_regret']:.4g}",
                             f"{row['locked_wrong']:.4f}"]  # fmt: skip
    assert any(f"{r['success_rate']:.4f}" != f"{r['mean_final_p_best']:.4f}" for r in result.rows)  # not vacuous


def test_one_bandits_mean_intervals_are_undefined_empty_in_the_csv(tmp_path):
    result = sweep(tmp_path, temperature=[1.0, 2.0], n_bandits=1, n_episodes=2, steps_per_episode=20)
    intervals = {"results.csv": ("regret_ci_low", "regret_ci_high"),
                 "curves.csv": ("p_best_ci_low", "p_best_ci_high", "regret_ci_low", "regret_ci_high")}  # fmt: skip
    for (name, columns), rows in zip(intervals.items(), (result.rows, result.curves)):
        with open(tmp_path / name) as f:
            parsed = list(csv.DictReader(f))
        assert len(parsed) == len(rows) > 0
        for text, row in zip(parsed, rows):
            assert all(text[c] == "" and math.isnan(row[c]) for c in columns), (name, text)
            assert text["success_ci_low" if name == "curves.csv" else "ci_low"] != ""  # Wilson's: defined for n = 1
    assert all(math.isnan(row["regret_ci_low"]) for row in load_rows(tmp_path))


def test_rule_axes_rows_equal_run_batch(tmp_path):
    """Settings of other rules (adam with betas, an EMA baseline, momentum) share batches and still
    give each setting exactly run_batch's bandits."""
    result = sweep(
        tmp_path, optimizer=["sgd", "adam"], momentum=[0.0, 0.5], beta1=[0.5], baseline=["none", "ema"],
        baseline_decay=0.9, temperature=0.5, backend="torch", **{**SMALL, "n_bandits": 40},
    )  # fmt: skip
    assert len(result.rows) == (2 + 1) * 2
    for i, setting in enumerate(result.settings):
        res = run_batch(40, **setting.options(), n_episodes=2, steps_per_episode=50, backend="torch")
        assert np.array_equal(load_verdicts(tmp_path, i), res.success.numpy()), setting
        assert result.rows[i]["mean_regret"] == pytest.approx(float(res.final_regret.mean()), rel=1e-10)
        power = 2 if setting.get("optimizer", "sgd") == "sgd" else 1  # Adam's step scales with lr / T
        assert result.rows[i]["eta"] == pytest.approx(setting.lr / 0.5**power, rel=1e-12), setting
    text = (tmp_path / "results.csv").read_text().splitlines()
    assert text[0].startswith("setting,temperature,lr,arms,n_episodes,steps_per_episode,optimizer,baseline,"
                              "baseline_decay,momentum,beta1,")  # fmt: skip
    adam = next(line for line in text if ",adam," in line)
    assert ",adam,none,,,0.5," in adam  # no decay without the EMA baseline, no momentum for adam


def test_the_mean_field_curve_follows_each_settings_momentum_and_dampening(tmp_path):
    from batched_bandit.meanfield import mean_field_p_best

    arms = (0.2, 0.0, -0.2, -1.0)
    result = sweep(tmp_path, momentum=0.9, dampening=[0.0, 0.5], temperature=2.0, lr=0.05, arms=arms,
                   **{**SMALL, "n_bandits": 16})  # fmt: skip
    mu = np.array([[math.erfc(a / math.sqrt(2)) - 1 for a in arms]])  # E[reward] = 1 - 2 Phi(a)
    fields = []
    for i, setting in enumerate(result.settings):
        field = [c["mean_field_p_best"] for c in result.curves if c["setting"] == i]
        expected = mean_field_p_best(mu, np.array([3]), 2.0, 0.05, 2, 50, momentum=0.9, dampening=setting.dampening)
        assert field == pytest.approx(expected[0].tolist(), rel=1e-9)
        fields.append(field)
    assert abs(fields[0][-1] - fields[1][-1]) > 1e-3  # dampening changes the mean field: not vacuous


@pytest.mark.parametrize("backend", FAST_BACKENDS)
def test_lr_and_temperature_act_only_through_lr_over_t2(backend):
    """(lr, T) and (k^2 lr, k T) give the same trajectories, exactly when k is a power of two."""
    kw = dict(n_episodes=3, steps_per_episode=60, seed=5, backend=backend, arms=(0.3, 0.0, -0.4))
    for temperature, lr in ((0.3, 0.02), (2.0, 1.0)):
        base = run_batch(300, temperature=temperature, lr=lr, **kw)
        for k in (2.0, 0.5):
            scaled = run_batch(300, temperature=k * temperature, lr=k * k * lr, **kw)
            assert torch.equal(base.episode_rewards, scaled.episode_rewards)
            assert torch.equal(base.weights * k, scaled.weights)


# --- identical bytes: order, blocks fused or not, interruptions --------------------------------


def test_exports_are_the_same_bytes_whatever_the_order_and_fusion(tmp_path):
    axes = dict(temperature=[0.1, 1.0, 10.0], lr=[0.01, 0.1], arms=[(0.2, 0.0, -1.0), (0.2, 0.0, -0.2, -1.0)],
                block_bandits=40, seed=3, **SMALL)  # fmt: skip
    sweep(tmp_path / "fused", **axes)
    sweep(tmp_path / "reversed", **axes, executor=Reversed())
    sweep(tmp_path / "one", **axes, executor=InProcess(fuse_elements=1))
    assert exports(tmp_path / "fused") == exports(tmp_path / "reversed") == exports(tmp_path / "one")
    again = sweep(tmp_path / "fused", **axes)  # the same study with nothing left to do
    assert again.tasks_computed == 0 and exports(tmp_path / "fused") == exports(tmp_path / "one")


def kill_script(folder, fuse):
    return (
        "from batched_bandit import sweep\nfrom batched_bandit.study import InProcess\n"
        f"sweep({str(folder)!r}, temperature=[0.05, 0.3, 2.0, 20.0], lr=[0.02, 0.2], n_bandits=400, block_bandits=50,"
        f" n_episodes=2, steps_per_episode=100, seed=2, backend='torch',"
        f" executor=InProcess(fuse_elements={fuse}))\n"
    )


def kill_and_resume(folder, n_kills, seed):
    """SIGKILL a sweep at random moments n_kills times, then let it finish; returns tasks done per kill."""
    rng = random.Random(seed)
    done = []
    for _ in range(n_kills):
        proc = subprocess.Popen([sys.executable, "-c", kill_script(folder, 1)], stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(2.5, 4.5))  # imports take ~2 s: some kills land before, most during the sweep
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        if (folder / FILE).exists():
            with open_study(folder) as study:
                done.append(sum(t["state"] == "done" for t in study.store.tasks()))
    finished = subprocess.run([sys.executable, "-c", kill_script(folder, 1)], capture_output=True, text=True)
    assert finished.returncode == 0, finished.stderr
    return done


def test_a_killed_sweep_resumes_to_the_same_bytes(tmp_path):
    done = kill_and_resume(tmp_path / "killed", 1, seed=1)
    sweep_fresh = subprocess.run([sys.executable, "-c", kill_script(tmp_path / "fresh", 2**26)], capture_output=True)
    assert sweep_fresh.returncode == 0
    assert exports(tmp_path / "killed") == exports(tmp_path / "fresh")
    calls = json.loads((tmp_path / "killed" / "meta.json").read_text())["calls"]
    assert calls[-1]["finished"] and calls[-1]["tasks_already_done"] == (done[-1] if done else 0)
    assert calls[-1]["tasks_committed"] == 8 - calls[-1]["tasks_already_done"]  # 8 blocks of all 8 settings


@pytest.mark.slow
def test_a_sweep_killed_many_times_resumes_to_the_same_bytes(tmp_path):
    subprocess.run([sys.executable, "-c", kill_script(tmp_path / "fresh", 2**26)], check=True)
    for seed in range(3):
        folder = tmp_path / f"killed{seed}"
        done = kill_and_resume(folder, 4, seed)
        assert done == sorted(done)
        assert exports(folder) == exports(tmp_path / "fresh")


# --- precision targeting ------------------------------------------------------------------------


def test_precision_gives_each_setting_the_bandits_it_needs(tmp_path):
    """Every setting reaches the half-width or max_bandits; a setting near 50% gets more bandits
    than one near 99%; the counts do not depend on order or interruption."""
    axes = dict(temperature=[0.01, 0.05, 1.0], n_episodes=2, steps_per_episode=100, n_bandits=100, block_bandits=100,
                precision=0.03, max_bandits=3000)  # fmt: skip
    result = sweep(tmp_path / "a", **axes)
    rows = {r["temperature"]: r for r in result.rows}
    for r in result.rows:
        assert r["ci_half_width"] <= 0.03 or r["n"] == 3000
    assert rows[0.01]["success_rate"] < 0.7 < 0.95 < rows[1.0]["success_rate"]
    assert rows[0.01]["n"] > rows[1.0]["n"]
    sweep(tmp_path / "b", **axes, executor=Reversed())
    assert exports(tmp_path / "a") == exports(tmp_path / "b")
    for after in (1, 4):  # interrupted in the first stage, then in a later one
        with pytest.raises(KeyboardInterrupt):
            sweep(tmp_path / f"stopped{after}", **axes, executor=Interrupted(after))
        assert sweep(tmp_path / f"stopped{after}", **axes).tasks_computed == result.tasks_total - after
        assert exports(tmp_path / f"stopped{after}") == exports(tmp_path / "a")
    with pytest.raises(ValueError, match="max_bandits applies with a precision target only"):
        sweep(tmp_path / "c", temperature=1.0, max_bandits=10)


# --- the folder and the call records ------------------------------------------------------------


def test_a_foreign_or_different_folder_is_refused_before_any_work(tmp_path):
    out = tmp_path / "out"
    sweep(out, temperature=[1.0], **SMALL)
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    with pytest.raises(ValueError, match=r"out' holds a different study \(temperature: \[1.0\] there, \[1.0, 2.0\]"):
        sweep(out, temperature=[1.0, 2.0], **SMALL)
    with pytest.raises(ValueError, match=r"holds a different study \(n_bandits: 150 there, 151 here; seed: 0 there, 1"):
        sweep(out, temperature=[1.0], **{**SMALL, "n_bandits": 151}, seed=1)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    # the same study with another backend is the same study: nothing left to do
    assert sweep(out, temperature=[1.0], **SMALL, backend="torch").tasks_computed == 0


def test_a_rerun_that_restates_a_default_is_the_same_study(tmp_path, capsys):
    """Restating --optimizer sgd was refused as "a different study" while --lr 0.01 was accepted."""
    common = ["--temperature", "1,2", "--n-bandits", "20", "--episodes", "1", "--steps", "10", "--no-figures",
              "--no-progress"]  # fmt: skip
    out = tmp_path / "out"
    assert main(["sweep", "--out", str(out), *common]) == 0
    before = {name: (out / name).read_bytes() for name in EXPORTS}
    restated = [["--optimizer", "sgd"], ["--baseline", "none"], ["--lr", "0.01"], ["--momentum", "0"],
                ["--reward-values", "1,-1"], ["--arms", "0.2,0,-0.2,-1"], ["--optimizer", "sgd", "--nesterov", "false"],
                ["--episodes", "1", "--init-weights", "0", "--weight-decay", "0"]]  # fmt: skip
    for extra in restated:
        args = [*common, *extra] if "--episodes" not in extra else [*common[:4], *common[6:], *extra]
        assert main(["sweep", "--out", str(out), *args]) == 0, extra
        assert {name: (out / name).read_bytes() for name in EXPORTS} == before  # the folder's columns stay
    assert sweep(out, temperature=[1.0, 2.0], optimizer="sgd", momentum=0.0, dampening=0.0, n_bandits=20, n_episodes=1,
                 steps_per_episode=10).tasks_computed == 0  # fmt: skip
    capsys.readouterr()
    for extra in (["--optimizer", "adam"], ["--momentum", "0.5"], ["--lr", "0.02"]):  # not defaults: another study
        assert main(["sweep", "--out", str(out), *common, *extra]) == 2
        assert "holds a different study" in capsys.readouterr().err


BAD_SWEEP = [
    (dict(out=None), TypeError, r"out must be a folder path \(str or os.PathLike\), got None"),
    (dict(n_bandits=0), ValueError, "n_bandits must be an integer >= 1"),
    (dict(seed=-1), ValueError, r"seed must be an integer in \[0, 2\*\*64 - 1\]"),
    (dict(device="tpu"), ValueError, "device must be"),
    (dict(backend="jax"), ValueError, 'backend must be "auto" or one of'),
    (dict(dtype=torch.float16), ValueError, "dtype must be torch.float32 or torch.float64"),
    (dict(block_bandits=0), ValueError, "block_bandits must be an integer >= 1"),
    (dict(precision=0.7), ValueError, r"precision must be in \(0, 0.5\]"),
    (dict(temperature=[1.0, 1e-40]), ValueError, "temperature = 1e-40 underflows in float32"),
    (dict(arms=[tuple(range(65))], backend="cpu"), ValueError, "at most 64 arms"),
    (dict(client=object(), executor=InProcess()), ValueError, "give client= .* or executor=, not both"),
    # issue 15: every check on the values before the folder exists
    (dict(steps_per_episode=[10, 2**31]), ValueError, r"steps_per_episode must be an integer in \[1, 2,147,483,647\]"),
    (dict(n_bandits=2**62, n_episodes=4), ValueError, "n_bandits x n_episodes x steps_per_episode must be at most"),
    (dict(precision=0.01, max_bandits=2**62, n_episodes=4), ValueError, r"got 4,611,686,018,427,387,904 x 4 x"),
    (dict(reward_values=[(1.0, -1.0), (1e-46, 0.0)]), ValueError, "round to the same float32 value 0.0"),
    (dict(win_prob=[normal_arms(4, 0.5, 0.15)]), ValueError, "its draws range over"),
    (dict(means=[normal_arms(4, 0.0, 1e38)]), ValueError, r"means = -8.2\d*e\+38 overflows in float32"),
    (dict(command="batched-bandit sweep"), TypeError, r"command must be a sequence of strings \(as sys.argv\)"),
    (dict(executor=object()), TypeError, "executor must have executors.InProcess's run"),
]


@pytest.mark.parametrize("kwargs, error, message", BAD_SWEEP)
def test_bad_sweep_input_is_refused_before_any_work(kwargs, error, message, tmp_path):
    out = kwargs.pop("out", tmp_path / "out")
    with pytest.raises(error, match=message):
        sweep(out, **kwargs, progress=lambda *_: pytest.fail("work started before the check"))
    assert not (tmp_path / "out").exists()


def test_an_executor_with_only_run_is_enough(tmp_path):
    class Minimal:  # executors.InProcess's run, nothing else
        def run(self, jobs, on_result, on_steps=None):
            InProcess().run(jobs, on_result, on_steps)

    result = sweep(tmp_path, temperature=[1.0], executor=Minimal(), **SMALL)
    assert result.tasks_computed == result.tasks_total == 1
    assert "Minimal object" in json.loads((tmp_path / "meta.json").read_text())["calls"][0]["executor"]


def test_meta_records_every_call(tmp_path):
    sweep(tmp_path, temperature=[0.5, 5.0], seed=9, command=["my", "script"], **SMALL)
    sweep(tmp_path, temperature=[0.5, 5.0], seed=9, **SMALL)
    meta = json.loads((tmp_path / "meta.json").read_text())
    assert meta["spec"]["seed"] == 9 and meta["complete"] and meta["settings"] == 2 and meta["tasks"] == 1
    assert meta["versions"]["torch"] == torch.__version__ and meta["engines"][0]["device"] == "cpu"
    first, second = meta["calls"]
    assert first["command"] == ["my", "script"] and second["command"] == sys.argv
    assert first["executor"] == "in-process" and first["tasks_committed"] == 1
    assert first["bandit_steps"] == 2 * 150 * 100 and 0 < first["engine_s"] <= first["total_s"]
    assert first["sweep_layer_s"] == pytest.approx(first["total_s"] - first["engine_s"], abs=2e-6)
    # calls.py's definitions: throughput per second of the call, and per engine-second; the times summed over tasks.
    # The times are stored rounded to 1e-6 s and the rates to 0.1, so a rate lies between the two bounds those allow.
    for rate, seconds in (("bandit_steps_per_s", "total_s"), ("bandit_steps_per_engine_s", "engine_s")):
        low, high = (first["bandit_steps"] / (first[seconds] + d) for d in (5e-7, -5e-7))
        assert low - 0.05 <= first[rate] <= high + 0.05, (rate, first[rate], low, high)
    with open_study(tmp_path) as study:
        (task,) = study.store.tasks()
    assert task["call"] == first["call"] == 1 and task["engine_s"] == pytest.approx(first["engine_s"], abs=5e-7)
    assert 0 < first["setup_s"] < first["total_s"] and 0 < first["reduce_s"] < first["total_s"]
    assert "workers_lost" not in first  # nothing to lose in process
    assert second["tasks_already_done"] == 1 and second["tasks_committed"] == 0
    assert set(meta["columns"]) == set(EXPORTS)


def test_progress_counts_bandit_steps_from_the_start_of_the_study(tmp_path):
    calls = []
    axes = dict(temperature=[0.5, 1.0, 2.0], block_bandits=50, **SMALL)
    sweep(tmp_path, **axes, executor=InProcess(fuse_elements=1), progress=lambda *a: calls.append(a))
    total = 3 * 150 * 100
    assert calls[-1] == (total, total) and [c[0] for c in calls] == sorted(c[0] for c in calls) and len(calls) == 3


# --- the command line ---------------------------------------------------------------------------


def test_parse_axis():
    assert parse_axis("--t", "0.01:100:5:log") == pytest.approx([0.01, 0.1, 1, 10, 100], rel=1e-12)
    assert parse_axis("--e", "100:10000:5:log", integer=True) == [100, 316, 1000, 3162, 10000]
    with pytest.raises(ValueError, match="a log range needs start and stop > 0"):
        parse_axis("--t", "0:1:3:log")
    with pytest.raises(ValueError, match="a range needs num >= 1"):
        parse_axis("--t", "0.1:1:0")  # an empty axis
    with pytest.raises(ValueError, match=r"rounds to repeated whole numbers \[1, 2, 2, 2, 3\]"):
        parse_axis("--steps", "1:3:5", integer=True)  # 1, 1.5, 2, 2.5, 3 rounded: settings run twice


def test_cli_sweep_reward_values_is_an_axis(tmp_path, capsys):
    common = dict(n_bandits=20, n_episodes=1, steps_per_episode=20, backend="torch")
    assert main(["sweep", "--out", str(tmp_path / "cli"), "--reward-values", "1,0", "--reward-values", "2,-1",
                 "--n-bandits", "20", "--episodes", "1", "--steps", "20", "--no-figures", "--no-progress",
                 "--backend", "torch"]) in (0, None)  # fmt: skip
    sweep(tmp_path / "py", reward_values=[(1.0, 0.0), (2.0, -1.0)], **common)
    assert exports(tmp_path / "cli") == exports(tmp_path / "py")
    assert len(load_rows(tmp_path / "cli")) == 2


def test_cli_sweep_equals_python_sweep(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "batched_bandit.cli", "sweep", "--out", str(tmp_path / "cli"), "--temperature",
         "0.1:10:3:log", "--lr", "0.01,0.1", "--arms", "0.2,0,-1", "--arms", "normal:4:0:0.5", "--optimizer",
         "sgd,adam", "--beta2", "0.99", "--n-bandits", "60", "--episodes", "2", "--steps", "30", "--seed", "4",
         "--no-figures", "--block-bandits", "25", "--backend", "torch"],
        capture_output=True, text=True,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "24 settings; results in" in done.stdout and "arms normal:4:0.0:0.5, optimizer adam" in done.stdout
    assert "Traceback" not in done.stderr
    from batched_bandit.study import normal_arms

    sweep(
        tmp_path / "py", temperature=np.geomspace(0.1, 10, 3), lr=[0.01, 0.1],
        arms=[(0.2, 0, -1), normal_arms(4, 0, 0.5)], optimizer=["sgd", "adam"], beta2=0.99, n_episodes=2,
        steps_per_episode=30, n_bandits=60, seed=4,
        block_bandits=25, backend="torch",
    )  # fmt: skip
    assert exports(tmp_path / "cli") == exports(tmp_path / "py")
    meta = json.loads((tmp_path / "cli" / "meta.json").read_text())
    assert meta["calls"][0]["command"][:4] == ["batched-bandit", "sweep", "--out", str(tmp_path / "cli")]


@pytest.mark.parametrize(
    "args, message",
    [
        (["--temperature", "0"], "temperature must be finite and > 0"),
        (["--temperature", "1:2"], "--temperature: expected comma-separated numbers"),
        (["--lr", "0.1,0.1"], "lr: the value 0.1 is given twice"),
        (["--episodes", "2.5"], "--episodes: values must be whole numbers"),
        (["--arms", "1"], "arms must have at least 2 arms"),
        (["--arms", "normal:4:0"], "random arms must be normal:K:MEAN:SD"),
        (["--optimizer", "sgd,lion"], "optimizer must be one of"),
        (["--nesterov", "maybe"], "--nesterov: expected true or false, got 'maybe'"),
        (["--precision", "0"], "precision must be in (0, 0.5]"),
        (["--n-bandits", "0"], "n_bandits must be an integer >= 1"),
        (["--device", "tpu"], "device must be"),
        (["--out", "/proc/no/such/study"], "error: "),
        (["--arms", "normal:inf:0:1"], "random arms 'normal:inf:0:1': K must be an integer in [2, 1,048,576]"),
        (["--arms", "normal:1e12:0:1"], "K must be an integer in [2, 1,048,576], got 1000000000000"),
        (["--win-prob", "normal:4:0.5:0.15"], "win_prob normal:4:0.5:0.15: its draws range over [-0.731, 1.73]"),
        (["--steps", "1e20"], "steps_per_episode must be an integer in [1, 2,147,483,647]"),
        (["--n-bandits", "1e20"], "got 100,000,000,000,000,000,000 x 50 x 1,000"),
        (["--reward-values", "1e-46,0"], "round to the same float32 value 0.0"),
        (["--temperature", "0.01:100:1000000000"], "a range of 1,000,000,000 values; a study holds at most 100,000"),
        (["--temperature", "0.01:100:1000:log", "--lr", "1e-3:1:1000:log"], "the grid has 1,000,000 settings"),
    ],
)
def test_cli_sweep_bad_input_exits_2(args, message, tmp_path, capsys):
    out = [] if "--out" in args else ["--out", str(tmp_path / "out")]
    assert main(["sweep", *out, *args]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err.startswith("batched-bandit sweep: error: ")
    assert message in captured.err and captured.err.count("\n") == 1
    assert not (tmp_path / "out").exists()


def test_cli_dask_without_distributed_says_how_to_install(tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "distributed", None)  # import distributed now raises ImportError
    assert main(["sweep", "--out", str(tmp_path / "out"), "--dask-workers", "2"]) == 2
    err = capsys.readouterr().err
    assert "Dask executors need dask.distributed" in err and "pip install 'batched_bandit[dask]'" in err


def test_cli_sweep_refuses_a_foreign_folder(tmp_path, capsys):
    common = ["--n-bandits", "20", "--episodes", "1", "--steps", "10", "--no-figures", "--no-progress"]
    assert main(["sweep", "--out", str(tmp_path), "--temperature", "1", *common]) == 0
    capsys.readouterr()
    assert main(["sweep", "--out", str(tmp_path), "--temperature", "2", *common]) == 2
    err = capsys.readouterr().err
    assert f"results folder {str(tmp_path)!r} holds a different study (temperature: [1.0] there, [2.0] here)" in err
    assert os.listdir(tmp_path)
