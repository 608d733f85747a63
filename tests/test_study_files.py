"""A study folder's files: any legal name opens its own study; every write atomic, through a fresh
temporary file, never through a planted link; a published file is never seen torn."""

import errno
import json
import multiprocessing
import os
import time

import pytest

from batched_bandit import sweep, threshold
from batched_bandit.cli import main
from batched_bandit.study import compare, load_rows
from batched_bandit.study.files import write_atomic, write_with
from batched_bandit.study.store import FILE

TINY = dict(n_bandits=20, n_episodes=1, steps_per_episode=10)


@pytest.mark.parametrize("name", ["lr%41", "run#1", "what?", "a b", "séance ü", "x%2Fy", "100%"])
def test_any_legal_folder_name_opens_its_own_study(tmp_path, name):
    """The read side opened file:{path}?mode=ro unescaped: lr%41 read lrA's study; run#1 and what?
    opened a stray file run / what beside the folder."""
    sweep(tmp_path / "lrA", temperature=1.0, **TINY)  # the study a bad URI would find instead
    sweep(tmp_path / "run", temperature=1.0, **TINY)
    sweep(tmp_path / "what", temperature=1.0, **TINY)
    before = sorted(os.listdir(tmp_path))
    sweep(tmp_path / name, temperature=[2.0, 4.0], **TINY)
    assert [r["temperature"] for r in load_rows(tmp_path / name)] == [2.0, 4.0]
    assert compare(tmp_path / name, a=dict(temperature=2.0), b=dict(temperature=4.0)).n == 20
    assert sorted(os.listdir(tmp_path)) == sorted([*before, name])  # nothing stray beside it
    assert [r["temperature"] for r in load_rows(tmp_path / "lrA")] == [1.0]


def test_every_name_the_library_writes_refuses_a_planted_link(tmp_path, capsys):
    """Exports and figures went through fixed temporary names opened with open(..., "w") / savefig,
    which follow a link: a rerun or plot overwrote a file outside the folder."""
    pytest.importorskip("matplotlib")
    out = tmp_path / "study"
    sweep(out, temperature=[1.0, 2.0], **TINY)
    from batched_bandit.figures import plot_sweep

    plot_sweep(out)
    victim = tmp_path / "victim.txt"
    victim.write_text("not yours")
    names = ["results.csv", "curves.csv", "meta.json", "success.png", "study.lock", f"{FILE}-wal", f"{FILE}-journal"]
    for name in names:
        link = out / name
        saved = link.read_bytes() if link.exists() else None
        link.unlink(missing_ok=True)
        link.symlink_to(victim)
        command = ["sweep", "--out", str(out), "--temperature", "1,2", "--n-bandits", "20", "--episodes", "1",
                   "--steps", "10", "--no-progress"]  # fmt: skip
        assert main(command) == 2, name
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and f"{str(link)!r} is a symbolic link" in err, (name, err)
        if name.endswith(".png"):
            assert main(["plot", str(out)]) == 2
            assert f"{str(link)!r} is a symbolic link" in capsys.readouterr().err
        link.unlink()
        if saved is not None:
            link.write_bytes(saved)
    study_link = tmp_path / "linked"
    study_link.symlink_to(out)
    with pytest.raises(ValueError, match="linked' is a symbolic link"):
        sweep(study_link, temperature=[1.0, 2.0], **TINY)
    (out / FILE).rename(tmp_path / "elsewhere.sqlite")  # the store itself a link: never opened
    (out / FILE).symlink_to(tmp_path / "elsewhere.sqlite")
    with pytest.raises(ValueError, match=r"study.sqlite' is a symbolic link"):
        load_rows(out)
    assert victim.read_text() == "not yours" and not any(p.name.endswith(".tmp") for p in out.iterdir())


def test_threshold_never_writes_through_a_planted_points_link(tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (tmp_path / "search").mkdir()
    (tmp_path / "search" / "points").symlink_to(elsewhere)
    with pytest.raises(ValueError, match="points' is a symbolic link"):
        threshold(tmp_path / "search", n_bandits=20, n_episodes=1, steps_per_episode=10)
    assert list(elsewhere.iterdir()) == []


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path):
    path = tmp_path / "results.csv"
    write_atomic(path, "old\n")
    os.chmod(path, 0o640)

    def full(f):
        f.write(b"half")
        raise OSError(errno.ENOSPC, "No space left on device")

    with pytest.raises(OSError, match="No space left on device") as caught:
        write_with(path, full)
    assert caught.value.filename == str(path)  # the CLI's one line names the file
    assert path.read_text() == "old\n" and os.listdir(tmp_path) == ["results.csv"]
    write_atomic(path, "new\n")
    umask = os.umask(0)
    os.umask(umask)
    assert path.read_text() == "new\n" and path.stat().st_mode & 0o777 == 0o666 & ~umask  # as open() makes it


def _publish(path, size, seconds, tag):
    """Write a JSON document of ``size`` numbers to ``path`` again and again, atomically."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        write_atomic(path, json.dumps({"tag": tag, "values": list(range(size))}))


def _read(path, seconds, results):
    torn = reads = 0
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        try:
            with open(path, "rb") as f:
                json.loads(f.read())
        except ValueError:
            torn += 1
        reads += 1
    results.put((reads, torn))


def test_a_published_file_is_never_read_torn(tmp_path):
    """Two writers publishing one meta.json and a reader in a third process: writers sharing a fixed
    temporary name crashed (No such file or directory) and the reader saw torn files."""
    path = tmp_path / "meta.json"
    write_atomic(path, "{}")
    context = multiprocessing.get_context("fork")
    results = context.Queue()
    writers = [context.Process(target=_publish, args=(path, 10_000, 1.5, tag)) for tag in "ab"]
    reader = context.Process(target=_read, args=(path, 1.5, results))
    for p in [*writers, reader]:
        p.start()
    for p in [*writers, reader]:
        p.join(30)
    reads, torn = results.get(timeout=10)
    assert [p.exitcode for p in writers] == [0, 0] and reader.exitcode == 0
    assert torn == 0 and reads > 50
    assert os.listdir(tmp_path) == ["meta.json"]
