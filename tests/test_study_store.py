"""The store: one SQLite file; a task committed once, in one transaction; foreign and old folders refused."""

import json
import sqlite3

import numpy as np
import pytest

from batched_bandit import sweep
from batched_bandit.study.plan import Task
from batched_bandit.study.store import FILE, FORMAT_VERSION, Store

SPEC = {"format": "test", "n_bandits": 10}


def stats(n=10, episodes=3, arms=4, fill=1.0):
    return {
        "n": n, "successes": np.arange(episodes), "p_best_sum": np.full(episodes, fill), "p_best_sq": np.ones(episodes),
        "regret_sum": np.ones(episodes), "regret_sq": np.ones(episodes), "locked": np.array([1, 2, 7]),
        "p_best_hist": np.arange(20), "last_rewards": np.ones(arms), "verdicts": bytes([0b10100000, 0]),
    }  # fmt: skip


def new_store(tmp_path, tasks=2):
    store = Store.open(tmp_path / "study", SPEC, [{"temperature": 1.0}, {"temperature": 2.0}])
    store.plan([Task(f"b{b}:s0-1", 0, 0, b, (0, 1)) for b in range(tasks)])
    return store


def test_a_task_committed_twice_is_stored_once(tmp_path):
    store = new_store(tmp_path)
    result = {"stats": {0: stats(), 1: stats(fill=2.0)}, "backend": "cpu", "device": "cpu", "engine_s": 0.5}
    assert store.commit("b0:s0-1", 0, result) is True
    assert store.commit("b0:s0-1", 0, {**result, "stats": {0: stats(fill=9.0), 1: stats()}}) is False
    assert store.committed() == {(0, 0): (10, 2), (1, 0): (10, 2)}
    (block,) = store.blocks(1)
    assert block["p_best_sum"].tolist() == [2.0, 2.0, 2.0] and block["locked"].tolist() == [1, 2, 7]
    assert [t["state"] for t in store.tasks()] == ["done", "planned"]
    store.close()


def test_a_partial_transaction_leaves_nothing(tmp_path):
    """A failure inside the commit (here: a block already stored by another task) rolls it back whole."""
    store = new_store(tmp_path)
    store.plan([Task("b1:s1", 1, 0, 1, (1,))])
    assert store.commit("b1:s1", 1, {"stats": {1: stats()}})
    with pytest.raises(sqlite3.IntegrityError):
        store.commit("b1:s0-1", 1, {"stats": {0: stats(), 1: stats()}})  # (1, 1) is there: the whole task fails
    assert set(store.committed()) == {(1, 1)} and store.tasks()[1]["state"] == "planned"
    assert store.commit("b0:s0-1", 0, {"stats": {0: stats(), 1: stats()}})
    store.close()


def test_an_unfinished_transaction_is_rolled_back(tmp_path):
    store = new_store(tmp_path)
    store.plan([Task("b1:s1", 1, 0, 1, (1,))])
    store.commit("b1:s1", 1, {"stats": {1: stats()}})
    store.commit("b0:s0-1", 0, {"stats": {0: stats(), 1: stats()}})
    store.close()
    db = sqlite3.connect(tmp_path / "study" / FILE, isolation_level=None)
    db.execute("BEGIN IMMEDIATE")
    db.execute("UPDATE tasks SET state = 'done' WHERE key = 'b1:s0-1'")
    db.execute("DELETE FROM blocks")
    del db  # never committed
    reopened = Store.open(tmp_path / "study", SPEC, [])
    assert set(reopened.committed()) == {(0, 0), (1, 0), (1, 1)} and reopened.tasks()[1]["state"] == "planned"
    reopened.close()


def test_a_foreign_folder_is_refused(tmp_path):
    other = tmp_path / "other"
    other.mkdir()
    (other / "notes.txt").write_text("mine")
    with pytest.raises(ValueError, match=r"'.*other' is not empty and holds no study \(study.sqlite is missing\)"):
        Store.open(other, SPEC, [])
    with pytest.raises(ValueError, match="is a file, not a folder"):
        Store.open(other / "notes.txt", SPEC, [])
    store = new_store(tmp_path)
    store.close()
    with pytest.raises(ValueError, match=r"holds a different study \(n_bandits: 10 there, 11 here\)"):
        Store.open(tmp_path / "study", {**SPEC, "n_bandits": 11}, [])
    assert sorted(p.name for p in other.iterdir()) == ["notes.txt"]


def test_an_older_format_gives_a_clear_message(tmp_path):
    store = new_store(tmp_path)
    store.db.execute(f"PRAGMA user_version = {FORMAT_VERSION - 1}")
    store.close()
    message = (rf"written by an older version of batched_bandit \(store format {FORMAT_VERSION - 1}; this version "
               rf"reads format {FORMAT_VERSION}\): run the study again into a new folder")  # fmt: skip
    with pytest.raises(ValueError, match=message):
        Store.open(tmp_path / "study", SPEC, [])
    old = tmp_path / "csv"  # batched_bandit 0.1's sweep folder: CSV files and spec.json
    old.mkdir()
    (old / "spec.json").write_text(json.dumps({"format": "batched_bandit.sweep/1"}))
    (old / "results.csv").write_text("setting\n")
    with pytest.raises(ValueError, match=r"older version of batched_bandit \(format batched_bandit.sweep/1: CSV"):
        sweep(old, temperature=1.0, n_bandits=10, n_episodes=1, steps_per_episode=5)


def test_a_store_killed_while_being_created_starts_again(tmp_path):
    folder = tmp_path / "study"
    folder.mkdir()
    sqlite3.connect(folder / FILE).close()  # the file exists, the creating transaction never ended
    store = Store.open(folder, SPEC, [{"temperature": 1.0}])
    assert store.spec == SPEC and store.settings() == [{"temperature": 1.0}]
    store.close()
    reader = Store.read(folder)
    assert reader.spec == SPEC and reader.calls() == []
    reader.close()
