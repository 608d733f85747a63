"""Dask executors: a LocalCluster gives the in-process bytes, with 1 or 2 workers, a worker killed
mid-sweep, precision targeting and random problems. Skipped when dask.distributed is absent."""

import json
import os
import signal
import time

import numpy as np
import pytest

from batched_bandit import sweep
from batched_bandit.metrics import METRICS
from batched_bandit.study import normal_arms, open_study

distributed = pytest.importorskip("distributed")

EXPORTS = ("results.csv", "curves.csv")
AXES = dict(temperature=[0.1, 1.0, 10.0], lr=[0.01, 0.1], arms=[(0.2, 0.0, -1.0), normal_arms(4, 0.0, 0.5)],
            n_bandits=200, block_bandits=50, n_episodes=2, steps_per_episode=40, seed=3)  # fmt: skip


def exports(folder):
    return {name: (folder / name).read_bytes() for name in EXPORTS}


def cluster(n_workers):
    # one thread per worker process, as the CLI's --dask-workers starts them
    return distributed.LocalCluster(n_workers=n_workers, threads_per_worker=1, processes=True,
                                    dashboard_address=":0", silence_logs=40)  # fmt: skip


@pytest.fixture(scope="module")
def client():
    with cluster(2) as local, distributed.Client(local) as connected:
        yield connected


@pytest.fixture(scope="module")
def in_process(tmp_path_factory):
    folder = tmp_path_factory.mktemp("in_process")
    sweep(folder, **AXES)
    return folder


def test_two_workers_give_the_in_process_bytes(client, in_process, tmp_path):
    start = time.perf_counter()
    result = sweep(tmp_path, **AXES, client=client)
    wall = time.perf_counter() - start
    assert exports(tmp_path) == exports(in_process)
    assert result.tasks_computed == result.tasks_total == 2 * 4  # per K, 4 blocks of 50
    with open_study(tmp_path) as here, open_study(in_process) as there:
        for setting in (0, 7):  # random problems too: the same draws on every worker, every metric
            for name in METRICS:
                assert np.array_equal(here.metric_values(setting, name), there.metric_values(setting, name)), name
        tasks = here.store.tasks()
    call = json.loads((tmp_path / "meta.json").read_text())["calls"][-1]
    assert call["executor"] == "dask" and call["workers"] == 2 and call["tasks_committed"] == 8
    # the timings (calls.py): the call's wall time, the engines' time summed over its tasks, throughputs of both
    assert 0 < call["total_s"] <= wall and call["total_s"] == pytest.approx(result.wall_time_s, abs=1e-6)
    engine_s = sum(t["engine_s"] for t in tasks if t["call"] == call["call"])
    assert call["engine_s"] == pytest.approx(engine_s, abs=5e-7)  # rounded to the microsecond
    assert call["bandit_steps"] == 12 * 200 * 2 * 40
    per_s = lambda seconds: pytest.approx(call["bandit_steps"] / seconds, rel=1e-5, abs=0.05)  # noqa: E731  rounded
    assert call["bandit_steps_per_s"] == per_s(call["total_s"])
    assert call["bandit_steps_per_engine_s"] == per_s(call["engine_s"])
    assert "sweep_layer_s" not in call  # wall - engine means nothing across workers
    assert call["workers_lost"] == call["tasks_rerun"] == 0


def test_one_worker_gives_the_in_process_bytes(in_process, tmp_path):
    with cluster(1) as local, distributed.Client(local) as one:
        sweep(tmp_path, **AXES, client=one)
    assert exports(tmp_path) == exports(in_process)


def test_a_worker_killed_mid_sweep_is_survived(client, in_process, tmp_path):
    """os.kill one worker process after the first result: Dask reruns its tasks, the bytes are the same;
    the call record counts the lost worker and the tasks run again, and one warning says so."""
    pids = list(client.run(os.getpid).values())
    killed = []

    def progress(done, total):
        if not killed:
            os.kill(pids[0], signal.SIGKILL)
            killed.append(pids[0])

    axes = {**AXES, "n_bandits": 400}  # 16 tasks: most are still queued or running at the kill
    with pytest.warns(UserWarning, match=r"^1 Dask worker lost during this sweep, \d+ tasks? run again elsewhere") as w:
        sweep(tmp_path / "killed", **axes, client=client, progress=progress)
    assert len(w) == 1 and "\n" not in str(w[0].message)
    sweep(tmp_path / "local", **axes)
    assert killed and exports(tmp_path / "killed") == exports(tmp_path / "local")
    call = json.loads((tmp_path / "killed" / "meta.json").read_text())["calls"][-1]
    assert call["workers_lost"] == 1 and 1 <= call["tasks_rerun"] <= 16 and call["tasks_committed"] == 16
    assert f"{call['tasks_rerun']} task" in str(w[0].message)
    client.wait_for_workers(2, timeout=60)  # the nanny restarts the worker for the next test


def test_precision_counts_are_the_same_on_a_cluster(client, tmp_path):
    axes = dict(temperature=[0.01, 1.0], n_episodes=2, steps_per_episode=100, n_bandits=100, block_bandits=100,
                precision=0.04, max_bandits=2000)  # fmt: skip
    local = sweep(tmp_path / "local", **axes)
    remote = sweep(tmp_path / "dask", **axes, client=client)
    assert [r["n"] for r in local.rows] == [r["n"] for r in remote.rows] and local.rows[0]["n"] > local.rows[1]["n"]
    assert exports(tmp_path / "local") == exports(tmp_path / "dask")
