"""One writer per study folder: a second sweep says who is writing it, or waits; two sweeps starting
on one new folder do not race; readers need no lock."""

import os
import socket
import subprocess
import sys
import threading
import time

import pytest

from batched_bandit import sweep
from batched_bandit.cli import main
from batched_bandit.study import load_rows
from batched_bandit.study.lock import LOCK_FILE, FolderBusy, WriterLock

TINY = dict(temperature=[1.0, 2.0], n_bandits=20, n_episodes=1, steps_per_episode=10)
CLI = ["--temperature", "1,2", "--n-bandits", "20", "--episodes", "1", "--steps", "10", "--no-figures", "--no-progress"]


def test_a_second_writer_is_told_who_writes_or_waits(tmp_path, capsys):
    out = tmp_path / "study"
    sweep(out, **TINY)
    before = load_rows(out)
    held = WriterLock(out)  # another writer (flock is per open file: this process counts as another)
    message = rf"is being written by another process \(pid {os.getpid()} on host {socket.gethostname()}, since 20"
    with pytest.raises(FolderBusy, match=message):
        sweep(out, **TINY)
    assert main(["sweep", "--out", str(out), *CLI]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "pass wait=True (--wait) to wait for it" in err
    assert load_rows(out) == before  # readers take no lock
    threading.Timer(0.5, held.release).start()
    start = time.monotonic()
    with pytest.warns(UserWarning, match="is being written by another process"):
        assert sweep(out, **TINY, wait=True).tasks_computed == 0
    assert time.monotonic() - start >= 0.4
    assert not (out / LOCK_FILE).exists()  # let go and removed
    threading.Timer(0.5, WriterLock(out).release).start()
    assert main(["sweep", "--out", str(out), *CLI, "--wait"]) == 0


RACE = """
import pathlib, sys, time
from batched_bandit.cli import main
pathlib.Path({ready!r}).touch()
while not pathlib.Path({go!r}).exists():  # every process past its imports: start together
    time.sleep(0.001)
sys.exit(main(["sweep", "--out", {out!r}, "--temperature", "0.5,1,2", "--n-bandits", "1000", "--episodes", "2",
               "--steps", "50", "--no-figures", "--no-progress", "--backend", "torch"{wait}]))
"""


def test_sweeps_starting_together_on_one_new_folder(tmp_path):
    """They raced on CREATE TABLE (a traceback), and the loser recomputed everything and threw it away.
    One waits, one does not: whichever takes the lock first, the other waits for it, or says in one
    line who is writing."""
    out = tmp_path / "new"
    procs = []
    for i, wait in enumerate([True, False]):
        script = RACE.format(
            ready=str(tmp_path / f"ready{i}"), go=str(tmp_path / "go"), out=str(out), wait=', "--wait"' if wait else ""
        )
        procs.append(
            subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        )
    deadline = time.monotonic() + 120
    while not all((tmp_path / f"ready{i}").exists() for i in range(2)) and time.monotonic() < deadline:
        time.sleep(0.01)
    (tmp_path / "go").touch()
    done = [(p.wait(120), *p.communicate()) for p in procs]
    for code, _, err in done:
        assert "Traceback" not in err and code in (0, 2), err
    (waited, _, waited_err), (refused, _, refused_err) = done
    assert waited == 0
    if refused == 2:
        assert refused_err.count("\n") == 1 and "is being written by another process (pid " in refused_err
    assert ("waiting" in waited_err) + (refused == 2) == 1  # the race did happen, one way or the other
    rows = load_rows(out)
    assert len(rows) == 3 and all(r["n"] == 1000 for r in rows)


def test_readers_of_a_running_sweep_see_whole_tasks(tmp_path):
    """Readers take no lock and never see a half-committed study (no false damage, no lost rows)."""
    from batched_bandit.study import InProcess, compare

    out = tmp_path / "running"
    axes = dict(
        temperature=[0.5, 1.0],
        n_bandits=4000,
        block_bandits=100,
        n_episodes=2,
        steps_per_episode=20,
        backend="torch",
        executor=InProcess(fuse_elements=1),
    )
    writer = threading.Thread(target=sweep, args=(out,), kwargs=axes)
    writer.start()
    seen, refused = set(), []
    while writer.is_alive():
        try:
            seen.add(tuple(r["n"] for r in load_rows(out)))
            compare(out, a=dict(temperature=0.5), b=dict(temperature=1.0))
        except ValueError as err:  # before the first commit only: no store yet, or no bandits in common yet
            refused.append(str(err))
    writer.join()
    assert all("holds no study" in e or "is empty" in e or "in common" in e or "no results" in e for e in refused)
    assert len(seen) > 3 and all(n % 100 == 0 for ns in seen for n in ns)  # whole blocks, several stages seen
