"""The store: one SQLite file; a task committed once, in one transaction; foreign and old folders refused."""

import errno
import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import sys

import numpy as np
import pytest

from batched_bandit import sweep
from batched_bandit.cli import main
from batched_bandit.study import files, load_rows
from batched_bandit.study.axes import grid_and_columns
from batched_bandit.study.integrity import to_json
from batched_bandit.study.plan import Task
from batched_bandit.study.store import FILE, FORMAT_VERSION, Store
from batched_bandit.study.sweep import study_spec
from batched_bandit.study.task import MEANS


def study(n_bandits=10, **axes):
    """A spec and settings as sweep makes them: 2 temperatures, 3 episodes, the seed's 4 arms."""
    settings, given = grid_and_columns(**{"temperature": [1.0, 2.0], "n_episodes": 3, "steps_per_episode": 5, **axes})
    spec = study_spec(
        settings,
        given,
        n_bandits=n_bandits,
        seed=0,
        dtype="float32",
        block_bandits=10,
        precision=None,
        max_bandits=None,
        record_every=None,
    )
    return spec, [{k: to_json(v) for k, v in s.items()} for s in settings]


SPEC, SETTINGS = study()


def stats(n=10, episodes=3, arms=4, fill=1.0):
    """A block's statistics (task.block_statistics' keys) that the checks accept: 2 final successes."""
    hist = np.zeros(20, dtype=np.int64)
    hist[-1] = n
    out = {"n": n, "final_successes": 2, "successes": np.array([0, 1, 2][:episodes])}
    for m in MEANS:
        out.update({f"{m}_sum": np.ones(episodes), f"{m}_sq": np.ones(episodes), f"final_{m}": np.array([1.0, 1.0]),
                    f"bandit_{m}": np.full(n, 0.1, dtype=np.float32)})  # fmt: skip
    out["p_best_sum"] = np.full(episodes, fill)
    return {**out, "locked": np.array([1, 2, 7]), "p_best_hist": hist, "last_rewards": np.ones(arms),
            "verdicts": bytes([0b10100000, 0])}  # fmt: skip


def new_store(tmp_path, tasks=2):
    store = Store.open(tmp_path / "study", *study(n_bandits=10 * tasks))
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
    with pytest.raises(ValueError, match=r"is damaged \(UNIQUE constraint failed: blocks.setting, blocks.block\)"):
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
    killed = (
        f"import os, sqlite3; db = sqlite3.connect({str(tmp_path / 'study' / FILE)!r}, isolation_level=None); "
        "db.execute('BEGIN IMMEDIATE'); db.execute(\"UPDATE tasks SET state = 'done' WHERE key = 'b1:s0-1'\"); "
        "db.execute('DELETE FROM blocks'); os._exit(0)"
    )  # killed inside the transaction: a hot journal left
    subprocess.run([sys.executable, "-c", killed], check=True)
    assert (tmp_path / "study" / f"{FILE}-journal").exists()
    reopened = Store.open(tmp_path / "study", *study(n_bandits=20))
    assert set(reopened.committed()) == {(0, 0), (1, 0), (1, 1)} and reopened.tasks()[1]["state"] == "planned"
    reopened.close()


def test_a_foreign_folder_is_refused(tmp_path):
    other = tmp_path / "other"
    other.mkdir()
    (other / "notes.txt").write_text("mine")
    with pytest.raises(ValueError, match=r"'.*other' is not empty and holds no study \(study.sqlite is missing\)"):
        Store.open(other, SPEC, SETTINGS)
    with pytest.raises(ValueError, match="is a file, not a folder"):
        Store.open(other / "notes.txt", SPEC, SETTINGS)
    store = new_store(tmp_path)
    store.close()
    with pytest.raises(ValueError, match=r"holds a different study \(n_bandits: 20 there, 11 here\)"):
        Store.open(tmp_path / "study", *study(n_bandits=11))
    assert sorted(p.name for p in other.iterdir()) == ["notes.txt"]


def test_an_older_format_gives_a_clear_message(tmp_path):
    store = new_store(tmp_path)
    store.db.execute(f"PRAGMA user_version = {FORMAT_VERSION - 1}")
    store.close()
    message = (
        rf"written by an older version of batched_bandit \(store format {FORMAT_VERSION - 1}; this version "
        rf"reads format {FORMAT_VERSION}\): run the study again into a new folder"
    )
    with pytest.raises(ValueError, match=message):
        Store.open(tmp_path / "study", *study(n_bandits=20))
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
    store = Store.open(folder, SPEC, SETTINGS)
    assert store.spec == SPEC and store.settings() == SETTINGS
    store.close()
    reader = Store.read(folder)
    assert reader.spec == SPEC and reader.calls() == []
    reader.close()


# --- read-only media ------------------------------------------------------------------------------

READ_ONLY = """
import json, sys
from batched_bandit.cli import main
from batched_bandit.figures.table import Table
from batched_bandit.study import compare, load_rows
out = {}
for name in ("done", "wal", "wal_data"):
    try:
        out[name] = load_rows(sys.argv[1] + "/" + name)
    except ValueError as err:
        out[name] = str(err)
out["compare"] = compare(sys.argv[1] + "/done", a=dict(temperature=1.0), b=dict(temperature=2.0)).n
out["table"] = len(Table.read(sys.argv[1] + "/done").rows)
out["plot"] = main(["plot", sys.argv[1] + "/done"])
print(json.dumps(out))
"""


def read_only(folder, code):
    """Run ``code`` (argv[1]: ``folder``) with the folder on a read-only medium: a read-only bind mount
    in a private mount namespace as root (root ignores permissions), a folder without write permission
    otherwise. Skipped where neither is possible."""
    command = [sys.executable, "-c", code, str(folder)]
    if os.geteuid() != 0:
        paths = [folder, *folder.rglob("*")]
        for path in paths:
            path.chmod(path.stat().st_mode & ~0o222)
        try:
            return subprocess.run(command, capture_output=True, text=True, timeout=120)
        finally:
            for path in paths:
                path.chmod(path.stat().st_mode | 0o200)
    mount = 'mount --bind "$0" "$0" && mount -o remount,bind,ro "$0" "$0" && exec "$@"'
    if (
        not shutil.which("unshare")
        or subprocess.run(["unshare", "-m", "sh", "-c", mount, str(folder), "true"], capture_output=True).returncode
    ):
        pytest.skip("root, and no private read-only mount here (unshare -m)")
    return subprocess.run(
        ["unshare", "-m", "sh", "-c", mount, str(folder), *command], capture_output=True, text=True, timeout=120
    )


def test_a_finished_study_reads_from_a_read_only_medium(tmp_path):
    """WAL needs its -shm file, which a read-only medium cannot give: a finished study could not be read."""
    media = tmp_path / "media"
    sweep(media / "done", temperature=[1.0, 2.0], n_bandits=30, n_episodes=1, steps_per_episode=10)
    assert sorted(p.name for p in (media / "done").iterdir()) == ["curves.csv", "meta.json", "results.csv", FILE]
    shutil.copytree(media / "done", media / "wal")  # left in WAL mode (a sweep killed after its last commit)
    db = sqlite3.connect(media / "wal" / FILE)
    db.execute("PRAGMA journal_mode = WAL")
    db.close()
    shutil.copytree(media / "done", media / "wal_data")  # committed changes still in the log, no -shm
    db = sqlite3.connect(media / "wal_data" / FILE, isolation_level=None)
    db.execute("PRAGMA journal_mode = WAL")
    db.execute("PRAGMA wal_autocheckpoint = 0")
    db.execute("DELETE FROM mean_field")
    for name in (FILE, f"{FILE}-wal"):  # as a kill leaves them: the deletion is in the log only
        shutil.copy(media / "wal_data" / name, tmp_path / name)
    db.close()
    for name in (FILE, f"{FILE}-wal"):
        shutil.copy(tmp_path / name, media / "wal_data" / name)
    rows = json.loads(json.dumps(load_rows(media / "done")))
    done = read_only(media, READ_ONLY)
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout.splitlines()[-1])
    assert out["done"] == rows and out["wal"] == rows and out["compare"] == 30 and out["table"] == 2
    assert "-wal' holds changes that study.sqlite lacks, and SQLite cannot open them here" in out["wal_data"]
    assert out["plot"] == 2 and done.stderr.count("\n") == 1 and "error: Read-only file system: " in done.stderr


# --- a full disk ----------------------------------------------------------------------------------

FULL = dict(temperature=[1.0, 2.0], n_bandits=200, block_bandits=20, n_episodes=40, steps_per_episode=5, seed=5)
CLI_FULL = [
    "--temperature",
    "1,2",
    "--n-bandits",
    "200",
    "--block-bandits",
    "20",
    "--episodes",
    "40",
    "--steps",
    "5",
    "--seed",
    "5",
    "--no-figures",
    "--no-progress",
]


def exports(folder):
    return {name: (folder / name).read_bytes() for name in ("results.csv", "curves.csv")}


def test_a_full_disk_is_one_line_and_loses_nothing(tmp_path, monkeypatch, capsys):
    """Disk full during a commit gave a traceback. Injected here in process: SQLite's own SQLITE_FULL
    (max_page_count: no page beyond those the file has), and ENOSPC while syncing an export."""
    sweep(tmp_path / "clean", **FULL)
    commit = Store.commit

    def on_a_full_disk(self, *args, **kwargs):
        if self.db.execute("SELECT count(*) FROM tasks WHERE state = 'done'").fetchone()[0] >= 3:  # full from here
            self.db.execute(f"PRAGMA max_page_count = {self.db.execute('PRAGMA page_count').fetchone()[0]}")
        return commit(self, *args, **kwargs)

    monkeypatch.setattr(Store, "commit", on_a_full_disk)
    out = tmp_path / "full"
    assert main(["sweep", "--out", str(out), *CLI_FULL]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "error: No space left on device (SQLite: database or disk is full)" in err
    assert err.rstrip().endswith(str(out / FILE))
    monkeypatch.setattr(Store, "commit", commit)
    with Store.read(out) as store:  # consistent: whole tasks only
        done = {t["key"] for t in store.tasks() if t["state"] == "done"}
        assert 3 <= len(done) < 10 and {f"b{b}:s0-1" for _, b in store.committed()} == done

    def no_space(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(files.os, "fsync", no_space)
    assert main(["sweep", "--out", str(out), *CLI_FULL]) == 2
    err = capsys.readouterr().err
    assert err == f"batched-bandit sweep: error: No space left on device: {out / 'results.csv'}\n"
    assert sorted(p.name for p in out.iterdir()) == [FILE]  # no stray temporary file
    monkeypatch.undo()
    assert sweep(out, **FULL).tasks_computed == 0
    assert exports(out) == exports(tmp_path / "clean")


TMPFS = """
import hashlib, os, sys
from batched_bandit.cli import main
from batched_bandit.study import InProcess, sweep
folder = sys.argv[1]

class Stop(InProcess):
    def run(self, jobs, on_result, on_steps=None):
        on = lambda job, result: (on_result(job, result), exec("raise KeyboardInterrupt"))
        super().run(jobs[:1], on, on_steps)

try:
    sweep(folder + "/s", executor=Stop(fuse_elements=1), **{full})
except KeyboardInterrupt:
    pass
with open(folder + "/filler", "wb", buffering=0) as f:  # fill the disk
    try:
        while True:
            f.write(bytes(4096))
    except OSError:
        pass
code = main(["sweep", "--out", folder + "/s", *{cli}])
os.remove(folder + "/filler")
again = main(["sweep", "--out", folder + "/s", *{cli}])
names = ("results.csv", "curves.csv")
digests = [hashlib.sha256(open(folder + "/s/" + name, "rb").read()).hexdigest() for name in names]
print("codes", code, again, *digests)
"""


def test_a_real_full_disk(tmp_path):
    """The same on a tiny tmpfs, filled up after the first task (root, in a private mount namespace)."""
    if os.geteuid() != 0 or not shutil.which("unshare"):
        pytest.skip("needs root and unshare -m for a private tmpfs")
    sweep(tmp_path / "clean", **FULL)
    disk = tmp_path / "disk"
    disk.mkdir()
    script = TMPFS.format(full=FULL, cli=CLI_FULL)
    mount = 'mount -t tmpfs -o size=1m tmpfs "$0" && exec "$@" && umount "$0"'
    done = subprocess.run(
        ["unshare", "-m", "sh", "-c", mount, str(disk), sys.executable, "-c", script, str(disk)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    if "mount:" in done.stderr:
        pytest.skip(f"no tmpfs here: {done.stderr.strip()}")
    clean = [hashlib.sha256(data).hexdigest() for data in exports(tmp_path / "clean").values()]
    assert done.stdout.split()[-5:] == ["codes", "2", "0", *clean], done.stderr
    assert done.stderr.count("\n") == 1 and "No space left on device (SQLite: database or disk is full)" in done.stderr
