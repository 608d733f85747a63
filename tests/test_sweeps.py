import csv
import json
import os
import subprocess
import sys
import time
import warnings

import numpy as np
import pytest
import torch

from batched_bandit import Setting, engines, grid, run_batch, sweep
from batched_bandit import sweeps as sweep_module
from batched_bandit.cli import main
from batched_bandit.cli.args import parse_axis
from batched_bandit.sweeps import CURVE_COLUMNS, RESULT_COLUMNS, simulate_settings

CPU = torch.device("cpu")
CPU_BACKENDS = [b for b in engines.BACKENDS if engines.unavailable_reason(b, CPU, torch.float32) is None]
SMALL = dict(n_episodes=2, steps_per_episode=50, n_bandits=150, figures=False)


def folder_bytes(folder, skip=("meta.json",)):
    """{file name: bytes} of every file in the folder but ``skip``."""
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.name not in skip}


# --- the grid -----------------------------------------------------------------------------------


def test_grid_is_the_sorted_product_with_batches_adjacent():
    arms_k3, arms_k4, arms_k3b = (0.2, 0.0, -1.0), (0.2, 0.0, -0.2, -1.0), (0.5, -0.5, 0.0)
    settings = grid(
        temperature=[10, 0.1, 1.0],
        lr=[0.1, 0.01],
        arms=[arms_k3, arms_k4, arms_k3b],
        n_episodes=[3, 2],
        steps_per_episode=40,
    )
    assert len(settings) == 3 * 2 * 3 * 2
    assert len(set(settings)) == len(settings)
    expected = {
        Setting(float(t), lr, a, e, 40)
        for t in (0.1, 1, 10)
        for lr in (0.01, 0.1)
        for a in (arms_k3, arms_k4, arms_k3b)
        for e in (2, 3)
    }
    assert set(settings) == expected
    # settings that can share a batch (same episodes, steps, K) are adjacent: one run per key
    keys = [s.batch_key for s in settings]
    runs = [k for i, k in enumerate(keys) if i == 0 or keys[i - 1] != k]
    assert len(runs) == len(set(keys)) == 4
    # within a batch: arms, then lr, then temperature (innermost), numeric axes ascending
    first = [s for s in settings if s.batch_key == (2, 40, 3)]
    assert [(s.arms, s.lr, s.temperature) for s in first] == [
        (a, lr, t) for a in (arms_k3, arms_k3b) for lr in (0.01, 0.1) for t in (0.1, 1.0, 10.0)
    ]
    assert settings[0].lr_over_t2 == 0.01 / 0.1**2


def test_grid_takes_numbers_arrays_and_tensors():
    one = grid(temperature=2, lr=0.5, arms=(0.1, -0.1), n_episodes=3, steps_per_episode=7)
    assert one == [Setting(2.0, 0.5, (0.1, -0.1), 3, 7)]
    many = grid(
        temperature=np.geomspace(0.01, 100, 5),
        lr=torch.tensor([0.02, 0.01]),
        arms=torch.tensor([[0.0, 1.0], [1.0, 0.0]]),
        n_episodes=np.array([4]),
        steps_per_episode=range(1, 3),
    )
    assert sorted({s.temperature for s in many}) == pytest.approx([0.01, 0.1, 1, 10, 100])
    assert sorted({s.lr for s in many}) == pytest.approx([0.01, 0.02])
    assert {s.arms for s in many} == {(0.0, 1.0), (1.0, 0.0)}
    assert {s.steps_per_episode for s in many} == {1, 2} and len(many) == 5 * 2 * 2 * 2


BAD_GRID = [
    (dict(temperature=[]), "temperature: the axis is empty"),
    (dict(temperature=[1.0, 0.0]), r"temperature must be finite and > 0, got 0.0 \(axis entry 1\)"),
    (dict(temperature=-1), "temperature must be finite and > 0"),
    (dict(temperature=float("inf")), "temperature must be finite"),
    (dict(temperature="1,2"), "temperature must be a number or a sequence of numbers"),
    (dict(temperature=[1, "2"]), "temperature values must be numbers"),
    (dict(temperature=[True]), "temperature values must be numbers"),
    (dict(temperature=[1.0, 2.0, 1.0]), "temperature: the value 1.0 is given twice"),
    (dict(lr=[float("nan")]), "lr must be finite and > 0"),
    (dict(lr=torch.tensor([])), "lr: the axis is empty"),
    (dict(n_episodes=0), "n_episodes must be an integer >= 1"),
    (dict(n_episodes=[2, 2.5]), "n_episodes must be an integer >= 1, got 2.5"),
    (dict(n_episodes=[3, 3]), "n_episodes: the value 3 is given twice"),
    (dict(steps_per_episode=[]), "steps_per_episode: the axis is empty"),
    (dict(steps_per_episode=-5), "steps_per_episode must be an integer >= 1"),
    (dict(arms=[]), "arms must have at least 2 arms"),
    (dict(arms=(0.5,)), "arms must have at least 2 arms"),
    (dict(arms=[[0.1, 0.2], [0.3]]), "arms must have at least 2 arms"),
    (dict(arms=[[0.1, float("nan")]]), "arms must be finite"),
    (dict(arms="abc"), "arms must be a sequence of numbers or a tensor"),
    (dict(arms=[[0.1, 0.2], [0.1, 0.2]]), r"arms: the value \(0.1, 0.2\) is given twice"),
    (dict(arms=torch.zeros(2, 2, 2)), r"arms: each arm vector must be one-dimensional"),
]


@pytest.mark.parametrize("kwargs, message", BAD_GRID)
def test_bad_axes_are_refused(kwargs, message, tmp_path):
    with pytest.raises((ValueError, TypeError), match=message):
        grid(**kwargs)
    with pytest.raises((ValueError, TypeError), match=message):
        sweep(tmp_path / "out", **kwargs)
    assert not (tmp_path / "out").exists()


BAD_SWEEP = [
    (dict(n_bandits=0), "n_bandits must be an integer >= 1"),
    (dict(n_bandits=1.5), "n_bandits must be an integer >= 1"),
    (dict(seed=-1), r"seed must be an integer in \[0, 2\*\*64 - 1\]"),
    (dict(device="tpu"), "device must be"),
    (dict(backend="jax"), 'backend must be "auto" or one of'),
    (dict(dtype=torch.float16), "dtype must be torch.float32 or torch.float64"),
    (dict(chunk_bandits=0), "chunk_bandits must be an integer >= 1"),
    (dict(figures="yes"), "figures must be True or False"),
    (dict(temperature=[1.0, 1e-40]), "temperature = 1e-40 underflows in float32"),
    (dict(arms=[tuple(range(65))], backend="cpu"), "at most 64 arms"),
]


@pytest.mark.parametrize("kwargs, message", BAD_SWEEP)
def test_bad_sweep_input_is_refused_before_any_work(kwargs, message, tmp_path):
    with pytest.raises(ValueError, match=message):
        sweep(tmp_path / "out", **kwargs, progress=lambda *_: pytest.fail("work started before the check"))
    assert not (tmp_path / "out").exists()


# --- execution ----------------------------------------------------------------------------------


def test_one_batch_equals_the_settings_one_by_one():
    """Settings run together give every bandit exactly the trajectory it has alone."""
    settings = grid(
        temperature=[0.05, 0.5, 5.0], lr=[0.01, 0.2], arms=[(0.3, -0.5, 0.0), (0.0, 0.1, -0.1)], n_episodes=3,
        steps_per_episode=40,
    )  # fmt: skip
    kw = dict(seed=11, device=CPU, backend=engines.resolve_backend("auto", CPU, torch.float32), dtype=torch.float32)
    together = simulate_settings(settings, 70, chunk_size=64, **kw)  # engine chunks cut across settings
    assert together.episode_rewards.shape == (len(settings) * 70, 3, 3)
    for i, setting in enumerate(settings):
        alone = simulate_settings([setting], 70, **kw)
        rows = slice(i * 70, (i + 1) * 70)
        assert torch.equal(together.episode_rewards[rows], alone.episode_rewards)
        assert torch.equal(together.episode_p_best[rows], alone.episode_p_best)
        assert torch.equal(together.weights[rows], alone.weights)
    with pytest.raises(ValueError, match="one batch_key"):
        simulate_settings(grid(arms=[(0.0, 1.0), (0.0, 1.0, 2.0)]), 2, **kw)


def test_batches_and_chunks_of_settings(tmp_path, monkeypatch):
    """Settings of one batch_key run as one batch, cut into chunks of whole settings; the files
    are the same whatever the chunks."""
    calls = []
    original = sweep_module.simulate_settings

    def counted(settings, *args, **kwargs):
        calls.append(len(settings))
        return original(settings, *args, **kwargs)

    monkeypatch.setattr(sweep_module, "simulate_settings", counted)
    axes = dict(temperature=[0.1, 1.0, 10.0], lr=[0.01, 0.1], arms=[(0.2, 0.0, -1.0), (0.2, 0.0, -0.2, -1.0)])
    sweep(tmp_path / "one", **axes, **SMALL)
    assert calls == [6, 6]  # one batch per K
    calls.clear()
    sweep(tmp_path / "many", **axes, **SMALL, chunk_bandits=4 * SMALL["n_bandits"] + 1)
    assert calls == [4, 2, 4, 2]  # at most 4 settings (600 bandits) per chunk
    assert folder_bytes(tmp_path / "one") == folder_bytes(tmp_path / "many")


def test_rows_and_curves_equal_run_batch(tmp_path):
    """A setting's row is what run_batch gives for the same seed (bandit j is stream j)."""
    arms = [(0.3, -0.5, 0.0), (0.2, 0.0, -0.2, -1.0)]
    result = sweep(tmp_path, temperature=[0.1, 1.0], lr=0.05, arms=arms, seed=7, **SMALL)
    with open(tmp_path / "results.csv") as f:
        assert next(csv.reader(f)) == list(RESULT_COLUMNS)
    with open(tmp_path / "curves.csv") as f:
        assert next(csv.reader(f)) == list(CURVE_COLUMNS)
    assert len(result.rows) == 4 and len(result.curves) == 4 * 2
    assert [r["setting"] for r in result.rows] == [0, 1, 2, 3]
    n = SMALL["n_bandits"]
    approx = lambda x: pytest.approx(x, rel=1e-10, abs=1e-12)  # noqa: E731  12 digits in the file
    for row, setting in zip(result.rows, result.settings):
        assert (row["temperature"], row["lr"], row["arms"]) == (setting.temperature, setting.lr, setting.arms)
        res = run_batch(
            n, arms=setting.arms, temperature=setting.temperature, lr=setting.lr, n_episodes=2, steps_per_episode=50,
            seed=7,
        )  # fmt: skip
        best = int(np.argmin(setting.arms))
        assert row["n"] == n and row["n_arms"] == len(setting.arms)
        assert row["successes"] == res.n_successes
        assert row["success_rate"] == approx(res.success_rate)
        assert (row["ci_low"], row["ci_high"]) == approx(res.success_ci)
        assert row["lr_over_T2"] == approx(setting.lr / setting.temperature**2)
        final = res.episode_p_best[:, -1].double()
        assert row["mean_final_p_best"] == approx(float(final.mean()))
        assert row["sd_final_p_best"] == approx(float(final.std(unbiased=False)))
        top, choice = res.final_probs.max(dim=1)
        assert row["locked_wrong"] == approx(float(((top > 0.99) & (choice != best)).double().mean()))
        assert row["mean_reward_last_episode"] == approx(int(res.episode_rewards[:, -1].sum()) / (n * 50))
        curve = [c for c in result.curves if c["setting"] == row["setting"]]
        assert [(c["episode"], c["step"]) for c in curve] == [(1, 50), (2, 100)]
        for e, point in enumerate(curve):
            verdicts = torch.argmax(res.episode_rewards[:, e], dim=1) == best
            assert point["successes"] == int(verdicts.sum())
            assert point["success_rate"] == approx(int(verdicts.sum()) / n)
            assert point["mean_p_best"] == approx(float(res.episode_p_best[:, e].double().mean()))
        assert curve[-1]["successes"] == row["successes"]
    # some settings lock on a wrong arm at T = 0.1, lr = 0.05 (lr/T^2 = 5): the column is not vacuous
    assert any(r["locked_wrong"] > 0 for r in result.rows)


@pytest.mark.parametrize("backend", CPU_BACKENDS)
def test_lr_and_temperature_act_only_through_lr_over_t2(backend):
    """(lr, T) and (k^2 lr, k T) give the same trajectories up to rounding; exactly when k is a
    power of two (scaling by 2 is exact in floating point); w scales by k."""
    kw = dict(n_episodes=3, steps_per_episode=60, seed=5, backend=backend, arms=(0.3, 0.0, -0.4))
    for temperature, lr in ((0.3, 0.02), (2.0, 1.0)):
        base = run_batch(300, temperature=temperature, lr=lr, **kw)
        for k in (2.0, 0.5):
            scaled = run_batch(300, temperature=k * temperature, lr=k * k * lr, **kw)
            assert torch.equal(base.episode_rewards, scaled.episode_rewards)
            assert torch.equal(base.episode_p_best, scaled.episode_p_best)
            assert torch.equal(base.weights * k, scaled.weights)
        scaled = run_batch(300, temperature=3 * temperature, lr=9 * lr, **kw)
        same = (base.episode_rewards == scaled.episode_rewards).flatten(1).all(dim=1)
        assert same.double().mean() >= 0.99  # a rounding difference can flip a sampling boundary, rarely
        torch.testing.assert_close(base.episode_p_best[same], scaled.episode_p_best[same], rtol=0, atol=1e-5)
        torch.testing.assert_close(3 * base.weights[same], scaled.weights[same], rtol=1e-4, atol=1e-4)


def test_a_temperature_sweep_is_a_sweep_of_lr_over_t2(tmp_path):
    result = sweep(tmp_path, temperature=[0.5, 1.0], lr=[0.025, 0.1], seed=3, **SMALL)
    rows = {(r["temperature"], r["lr"]): r for r in result.rows}
    a, b = rows[(0.5, 0.025)], rows[(1.0, 0.1)]  # lr/T^2 = 0.1 for both
    assert a["lr_over_T2"] == b["lr_over_T2"] == pytest.approx(0.1)
    numbers = [c for c in RESULT_COLUMNS if c not in ("setting", "temperature", "lr")]
    assert [a[c] for c in numbers] == [b[c] for c in numbers]
    assert rows[(0.5, 0.1)]["mean_final_p_best"] != a["mean_final_p_best"]  # a different lr/T^2 differs


# --- the folder: resume, refusal, meta ----------------------------------------------------------


def test_resume_after_kill_gives_identical_files(tmp_path):
    """kill -9 a CLI sweep mid-way, run the same command again: the files equal a fresh run's."""
    args = [
        "sweep", "--temperature", "0.05:20:6:log", "--lr", "0.02,0.2", "--n-bandits", "100",
        "--chunk-bandits", "100", "--episodes", "2", "--steps", "150", "--backend", "torch", "--seed", "2",
    ]  # fmt: skip
    killed = tmp_path / "killed"
    proc = subprocess.Popen(
        [sys.executable, "-m", "batched_bandit.cli", *args, "--out", str(killed)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    results = killed / "results.csv"
    deadline = time.monotonic() + 60
    while proc.poll() is None and time.monotonic() < deadline:
        if results.exists() and results.read_bytes().count(b"\n") >= 2:  # the header and a row
            break
        time.sleep(0.002)
    proc.kill()
    proc.wait()
    n_rows = results.read_bytes().count(b"\n") - 1
    assert 1 <= n_rows < 12, f"the sweep was not interrupted mid-way ({n_rows} of 12 rows)"

    assert main([*args, "--out", str(killed)]) == 0
    assert main([*args, "--out", str(tmp_path / "fresh")]) == 0
    resumed, fresh = folder_bytes(killed), folder_bytes(tmp_path / "fresh")
    assert resumed.keys() == fresh.keys() >= {"results.csv", "curves.csv", "spec.json"}
    assert resumed == fresh
    runs = json.loads((killed / "meta.json").read_text())["runs"]
    assert [r["settings_already_done"] for r in runs] == [0, n_rows]
    assert runs[-1]["settings_computed"] == 12 - n_rows


@pytest.mark.parametrize("results_kept, curves_kept", [(1, 2), (3, 1), (0, 0)])
def test_partial_lines_are_cut_and_redone(tmp_path, results_kept, curves_kept):
    """A crash leaves half a line, curve rows without their results row, or temporary files."""
    axes = dict(temperature=[0.2, 2.0], lr=[0.01, 0.1], seed=4, **SMALL)
    sweep(tmp_path / "fresh", **axes)
    crashed = tmp_path / "crashed"
    sweep(crashed, **axes)
    for name, kept in (("results.csv", results_kept), ("curves.csv", curves_kept * 2)):
        lines = (crashed / name).read_text().splitlines(keepends=True)
        (crashed / name).write_text("".join(lines[: 1 + kept]) + lines[1 + kept][:9])
    (crashed / ".meta.json.tmp").write_text("{")
    result = sweep(crashed, **axes)
    assert result.n_computed == 4 - min(results_kept, curves_kept)
    assert folder_bytes(crashed) == folder_bytes(tmp_path / "fresh")


@pytest.mark.skipif(len(CPU_BACKENDS) < 2, reason="needs two CPU backends")
def test_continuing_with_another_backend_warns(tmp_path):
    axes = dict(temperature=[0.5, 1.0, 2.0], **SMALL)
    sweep(tmp_path, backend=CPU_BACKENDS[0], **axes)
    lines = (tmp_path / "results.csv").read_text().splitlines(keepends=True)
    (tmp_path / "results.csv").write_text("".join(lines[:2]))  # as if stopped after setting 0
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the same backend continues silently
        sweep(tmp_path, backend=CPU_BACKENDS[0], **axes, chunk_bandits=150)
    (tmp_path / "results.csv").write_text("".join(lines[:2]))
    with pytest.warns(UserWarning, match=f"earlier rows came from '{CPU_BACKENDS[0]}' on cpu.*up to float rounding"):
        result = sweep(tmp_path, backend=CPU_BACKENDS[1], **axes)
    assert result.n_computed == 2


def test_a_foreign_folder_is_refused(tmp_path):
    out = tmp_path / "out"
    sweep(out, temperature=[1.0], **SMALL)
    before = folder_bytes(out, skip=())
    with pytest.raises(
        ValueError, match=r"out' holds a different sweep \(temperature: \[1.0\] there, \[1.0, 2.0\] here\)"
    ):
        sweep(out, temperature=[1.0, 2.0], **SMALL)
    with pytest.raises(ValueError, match=r"holds a different sweep \(n_bandits: 150 there, 151 here; seed: 0 there, 1"):
        sweep(out, temperature=[1.0], **{**SMALL, "n_bandits": 151}, seed=1)
    with pytest.raises(ValueError, match="dtype: 'float32' there, 'float64' here"):
        sweep(out, temperature=[1.0], **SMALL, dtype=torch.float64)
    assert folder_bytes(out, skip=()) == before  # refused before writing anything
    # the same sweep with another backend or chunking is the same sweep: nothing left to do
    assert sweep(out, temperature=[1.0], **SMALL, backend="torch", chunk_bandits=7).n_computed == 0

    other = tmp_path / "other"
    other.mkdir()
    (other / "notes.txt").write_text("mine")
    with pytest.raises(ValueError, match=r"'.*other' is not empty and holds no sweep \(spec.json is missing\)"):
        sweep(other, **SMALL)
    with pytest.raises(ValueError, match="is a file, not a folder"):
        sweep(other / "notes.txt", **SMALL)
    text = (out / "results.csv").read_text().replace("\n0,1.0,", "\n0,1.5,")
    (out / "results.csv").write_text(text)
    with pytest.raises(ValueError, match="results.csv line 2 is not the row expected for its setting"):
        sweep(out, temperature=[1.0], **SMALL)


def test_meta_records_versions_device_and_timings(tmp_path):
    sweep(tmp_path, temperature=[0.5, 5.0], seed=9, command=["my", "script"], **SMALL)
    sweep(tmp_path, temperature=[0.5, 5.0], seed=9, **SMALL)
    meta = json.loads((tmp_path / "meta.json").read_text())
    assert meta["seed"] == 9 and meta["spec"] == json.loads((tmp_path / "spec.json").read_text())
    assert meta["complete"] and meta["settings_done"] == meta["settings_total"] == 2
    assert meta["versions"]["torch"] == torch.__version__ and meta["versions"]["numpy"] == np.__version__
    first, second = meta["runs"]
    assert first["command"] == ["my", "script"] and second["command"] == sys.argv
    assert first["device"] == "cpu" and first["backend"] in engines.BACKENDS
    assert first["settings_computed"] == 2 and first["bandit_steps"] == 2 * 150 * 100
    assert 0 < first["engine_s"] <= first["total_s"]
    assert first["sweep_layer_s"] == pytest.approx(first["total_s"] - first["engine_s"], abs=2e-6)
    assert second["settings_already_done"] == 2 and second["settings_computed"] == 0
    assert "figures" in first and set(meta["columns"]) == {"results.csv", "curves.csv"}


def test_progress_counts_steps_and_settings(tmp_path):
    calls = []
    sweep(tmp_path, temperature=[0.5, 1.0, 2.0], chunk_bandits=150, progress=lambda *a: calls.append(a), **SMALL)
    total = 3 * 150 * 100
    assert calls[-1] == (total, total, 3, 3)
    assert [c[0] for c in calls] == sorted(c[0] for c in calls)
    assert [c[2] for c in calls] == sorted(c[2] for c in calls)
    assert {c[2] for c in calls} == {0, 1, 2, 3} and all(c[1] == total and c[3] == 3 for c in calls)
    assert sum(c[0] == total for c in calls) == 1


# --- the command line ---------------------------------------------------------------------------


def test_parse_axis():
    assert parse_axis("--t", "0.1,1,10") == [0.1, 1.0, 10.0]
    assert parse_axis("--t", "0:1:5") == [0.0, 0.25, 0.5, 0.75, 1.0]
    assert parse_axis("--t", "0:1:5:lin") == [0.0, 0.25, 0.5, 0.75, 1.0]
    assert parse_axis("--t", "0.01:100:5:log") == pytest.approx([0.01, 0.1, 1, 10, 100], rel=1e-12)
    assert parse_axis("--t", "2:2:1:log") == [2.0]
    assert parse_axis("--e", "10:1000:3:log", integer=True) == [10, 100, 1000]
    assert parse_axis("--e", "50", integer=True) == [50]
    for text, message in (
        ("1:2", "expected comma-separated numbers"),
        ("a,b", "expected comma-separated numbers"),
        ("1:2:x", "expected comma-separated"),
        ("1:2:3:sqrt", "expected comma-separated"),
        ("1:10:0", "a range needs num >= 1"),
        ("0:1:3:log", "a log range needs start and stop > 0"),
    ):
        with pytest.raises(ValueError, match=message):
            parse_axis("--t", text)
    assert parse_axis("--e", "100:10000:5:log", integer=True) == [100, 316, 1000, 3162, 10000]
    with pytest.raises(ValueError, match=r"--e: the range 1:2:3 rounds to repeated whole numbers \[1, 2, 2\]"):
        parse_axis("--e", "1:2:3", integer=True)
    for text in ("2.5", "nan", "1,inf"):
        with pytest.raises(ValueError, match="--e: values must be whole numbers"):
            parse_axis("--e", text, integer=True)


def test_cli_sweep_equals_python_sweep(tmp_path):
    done = subprocess.run(
        [
            sys.executable, "-m", "batched_bandit.cli", "sweep", "--out", str(tmp_path / "cli"),
            "--temperature", "0.1:10:3:log", "--lr", "0.01,0.1", "--arms", "0.2,0,-1", "--arms", "0.5,0,-0.5,-1",
            "--n-bandits", "100", "--episodes", "2", "--steps", "50", "--seed", "4", "--no-figures",
        ],
        capture_output=True,
        text=True,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "12 settings; results in" in done.stdout and "arms (0.5, 0, -0.5, -1)" in done.stdout
    assert "Traceback" not in done.stderr and "figures skipped" not in done.stderr
    result = sweep(
        tmp_path / "py", temperature=np.geomspace(0.1, 10, 3), lr=[0.01, 0.1],
        arms=[(0.2, 0, -1), (0.5, 0, -0.5, -1)], n_episodes=2, steps_per_episode=50, n_bandits=100, seed=4,
        figures=False,
    )  # fmt: skip
    assert folder_bytes(tmp_path / "cli") == folder_bytes(tmp_path / "py")
    assert sorted({r["temperature"] for r in result.rows}) == pytest.approx([0.1, 1.0, 10.0])
    meta = json.loads((tmp_path / "cli" / "meta.json").read_text())
    assert meta["runs"][0]["command"][:4] == ["batched-bandit", "sweep", "--out", str(tmp_path / "cli")]


@pytest.mark.parametrize(
    "args, message",
    [
        (["--temperature", "0"], "temperature must be finite and > 0"),
        (["--temperature", "1:2"], "--temperature: expected comma-separated numbers"),
        (["--temperature", "0:1:3:log"], "a log range needs start and stop > 0"),
        (["--lr", "0.1,0.1"], "lr: the value 0.1 is given twice"),
        (["--episodes", "2.5"], "--episodes: values must be whole numbers"),
        (["--steps", "0"], "steps_per_episode must be an integer >= 1"),
        (["--arms", "1"], "arms must have at least 2 arms"),
        (["--n-bandits", "0"], "n_bandits must be an integer >= 1"),
        (["--device", "tpu"], "device must be"),
        (["--backend", "nope"], "backend must be"),
        (["--chunk-bandits", "0"], "chunk_bandits must be an integer >= 1"),
    ],
)
def test_cli_sweep_bad_input_exits_2(args, message, tmp_path, capsys):
    assert main(["sweep", "--out", str(tmp_path / "out"), *args]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err.startswith("batched-bandit sweep: error: ")
    assert message in captured.err and captured.err.count("\n") == 1
    assert not (tmp_path / "out").exists()


def test_cli_sweep_refuses_a_foreign_folder(tmp_path, capsys):
    common = ["--n-bandits", "20", "--episodes", "1", "--steps", "10", "--no-figures", "--no-progress"]
    assert main(["sweep", "--out", str(tmp_path), "--temperature", "1", *common]) == 0
    capsys.readouterr()
    assert main(["sweep", "--out", str(tmp_path), "--temperature", "2", *common]) == 2
    err = capsys.readouterr().err
    assert f"results folder {str(tmp_path)!r} holds a different sweep (temperature: [1.0] there, [2.0] here)" in err
    assert main(["sweep", "--temperature", "1"]) == 2  # --out is required
    assert os.listdir(tmp_path) and "error" in capsys.readouterr().err
