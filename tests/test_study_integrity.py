"""A damaged or crafted store: one line naming the damage and the way out, or results identical to
a clean run, never a traceback, a hang or a different number; ``repair=True`` restores the bytes."""

import contextlib
import faulthandler
import json
import shutil
import signal
import sqlite3
import sys

import numpy as np
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from batched_bandit import sweep
from batched_bandit.cli import main
from batched_bandit.metrics import METRICS
from batched_bandit.study import load_rows
from batched_bandit.study.blocks import head_checksum
from batched_bandit.study.integrity import ARRAYS, BLOCK_COLUMNS, crc
from batched_bandit.study.integrity import checksum as row_checksum
from batched_bandit.study.lock import LOCK_FILE
from batched_bandit.study.repair import recount
from batched_bandit.study.store import FILE
from batched_bandit.study.tables import Study

AXES = dict(temperature=[0.5, 2.0], n_bandits=60, block_bandits=20, n_episodes=2, steps_per_episode=20, seed=3)
EXPORTS = ("results.csv", "curves.csv")


@pytest.fixture(scope="module")
def clean(tmp_path_factory):
    """A finished study (2 settings x 3 blocks, one task per block) and what it reads as."""
    folder = tmp_path_factory.mktemp("clean") / "study"
    sweep(folder, **AXES)
    return folder, reads(folder), exports(folder)


def exports(folder):
    return {name: (folder / name).read_bytes() for name in EXPORTS}


def copy(clean, tmp_path):
    shutil.copytree(clean[0], tmp_path / "study")
    return tmp_path / "study"


def reads(folder):
    """What a reader gets: the tables, and every metric of every bandit (issue 17: pairable)."""
    with Study(folder) as study:
        return study.rows(), study.curves(), [study.metric_values(i, m).tolist() for i in range(2) for m in METRICS]


def one_line(err: BaseException) -> str:
    text = str(err)
    assert "\n" not in text and text, text
    return text


def execute(folder, *statements):
    db = sqlite3.connect(folder / FILE, isolation_level=None)
    for sql in statements:
        db.execute(sql)
    db.close()


def test_a_flipped_bit_in_a_stored_array_is_refused_then_repaired(clean, tmp_path, capsys):
    """A bit flipped in a stored array passed PRAGMA integrity_check and moved a result silently."""
    folder = copy(clean, tmp_path)
    db = sqlite3.connect(folder / FILE)
    (blob,) = db.execute("SELECT p_best_sum FROM blocks WHERE setting = 1 AND block = 1").fetchone()
    db.close()
    data = bytearray((folder / FILE).read_bytes())
    at = data.find(blob) + 5  # the exponent of the first sum: a large change, as in the report (0.93 -> 1.39)
    assert data.count(blob) == 1
    data[at] ^= 0x10
    (folder / FILE).write_bytes(bytes(data))
    db = sqlite3.connect(folder / FILE)
    assert db.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    db.close()
    message = (
        r"study.sqlite' is damaged: setting 1, block 1: the array 'p_best_sum' does not match its checksum; "
        r"run the sweep again with repair=True \(batched-bandit sweep ... --repair\)"
    )
    with pytest.raises(ValueError, match=message) as caught:
        load_rows(folder)
    one_line(caught.value)
    for argv in (["compare", str(folder), "--a", "temperature=0.5", "--b", "temperature=2"], ["plot", str(folder)]):
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "does not match its checksum" in err
    with pytest.raises(ValueError, match=message):
        sweep(folder, **AXES)
    assert sweep(folder, **AXES, repair=True).tasks_computed == 1  # block 1's task, both settings
    assert exports(folder) == clean[2] and reads(folder) == clean[1]


def test_a_task_marked_done_without_its_blocks_is_planned_again(clean, tmp_path):
    """A done task whose blocks were gone made sweep loop forever."""
    folder = copy(clean, tmp_path)
    execute(folder, "DELETE FROM blocks WHERE setting = 1 AND block = 2")
    with pytest.raises(
        ValueError,
        match=r"has lost rows \(task 'b2:s0-1' is marked done but 1 of its blocks are "
        r"missing\); run the sweep that made it again",
    ):
        load_rows(folder)
    with bounded(60), pytest.warns(UserWarning, match="they will be computed again"):
        assert sweep(folder, **AXES).tasks_computed == 1
    assert exports(folder) == clean[2] and reads(folder) == clean[1]


def test_repair_writes_the_spec_and_settings_rows_again_from_the_same_spec(clean, tmp_path):
    folder = copy(clean, tmp_path)
    execute(
        folder,
        "UPDATE spec SET checksum = checksum + 1",
        "UPDATE settings SET axes = '{}' WHERE setting = 1",
        "UPDATE mean_field SET p_best = zeroblob(16)",
        "DELETE FROM calls",
    )
    with pytest.raises(ValueError, match="its spec does not match its checksum; run the sweep again with repair=True"):
        load_rows(folder)
    with pytest.raises(ValueError, match="nor is it this sweep's spec word for word; it cannot be repaired"):
        sweep(folder, **{**AXES, "seed": 4}, repair=True)
    assert sweep(folder, **AXES, repair=True).tasks_computed == 0
    assert exports(folder) == clean[2] and reads(folder) == clean[1]


@pytest.mark.parametrize(
    "damage",
    [
        "DROP TABLE mean_field",
        "DROP TABLE blocks",
        "ALTER TABLE calls DROP COLUMN checksum",
        "CREATE TABLE extra (x)",
        "CREATE TRIGGER t AFTER INSERT ON blocks BEGIN DELETE FROM blocks; END",
    ],
)
def test_schema_damage_is_refused_in_one_line(clean, tmp_path, damage, capsys):
    folder = copy(clean, tmp_path)
    execute(folder, damage)
    for call in (lambda: load_rows(folder), lambda: sweep(folder, **AXES, repair=True)):
        with pytest.raises(ValueError, match=r"is damaged: its schema is not a study's .* cannot be repaired") as err:
            call()
        one_line(err.value)
    assert main(["plot", str(folder)]) == 2 and capsys.readouterr().err.count("\n") == 1


@pytest.mark.parametrize("offset, mask", [(18, 2), (18, 0x80), (19, 2)])
def test_a_header_s_format_version_is_refused_in_one_line(clean, tmp_path, offset, mask, capsys):
    """Byte 18 (the write version) above 2 made SQLite open the store read-only: sweep raised a
    PermissionError from its first write, as if on a read-only medium (found by the damage test)."""
    folder = copy(clean, tmp_path)
    damage_bytes(folder / FILE, [(offset, mask)])
    message = r"study.sqlite' is damaged \(its header's file format versions, bytes 18 and 19, are \d+ and \d+"
    for call in (lambda: reads(folder), lambda: sweep(folder, **AXES), lambda: sweep(folder, **AXES, repair=True)):
        with pytest.raises(ValueError, match=message) as err:
            call()
        one_line(err.value)
        assert not (folder / LOCK_FILE).exists()
    assert main(["plot", str(folder)]) == 2 and capsys.readouterr().err.count("\n") == 1


def forge(folder, *statements):
    """Change the store as a forger would, then make every checksum agree: only the value checks remain."""
    db = sqlite3.connect(folder / FILE, isolation_level=None)
    for sql in statements:
        db.execute(sql)
    db.execute("UPDATE spec SET checksum = 0")
    ((fmt, spec, n),) = db.execute("SELECT format, spec, n_settings FROM spec")
    db.execute("UPDATE spec SET checksum = ?", (row_checksum(fmt, spec, n),))
    for i, axes in db.execute("SELECT setting, axes FROM settings").fetchall():
        db.execute("UPDATE settings SET checksum = ? WHERE setting = ?", (row_checksum(i, axes), i))
    for cells in db.execute(f"SELECT {', '.join(BLOCK_COLUMNS)} FROM blocks").fetchall():
        row = dict(zip(BLOCK_COLUMNS, cells))
        row.update({f"{a}_crc": crc(row[a]) for a in ARRAYS})
        sets = ", ".join(f"{a}_crc = ?" for a in ARRAYS)
        db.execute(
            f"UPDATE blocks SET {sets}, checksum = ? WHERE setting = ? AND block = ?",
            (*(row[f"{a}_crc"] for a in ARRAYS), head_checksum(row), row["setting"], row["block"]),
        )
    recount(db)
    db.close()


def _spec_steps(spec: str) -> str:
    return json.dumps({**json.loads(spec), "steps_per_episode": [10**12]}, sort_keys=True)


FORGED = [
    (["UPDATE blocks SET n = 0 WHERE block = 0"], r"setting 0, block 0: it is not a block of the study's plan"),
    (
        ["UPDATE blocks SET locked_best = -1, undecided = undecided + 1 + locked_best WHERE setting = 0 AND block = 1"],
        "impossible values \\(locked counts that do not add up",
    ),
    (
        ["UPDATE blocks SET successes = CAST(successes || successes AS BLOB) WHERE setting = 1 AND block = 0"],
        "the array 'successes' holds 4 values, not 2",
    ),
    (
        [f"UPDATE blocks SET successes = x'{np.array([0, 99], '<i8').tobytes().hex()}' WHERE block = 2"],
        "impossible values \\(success counts outside 0..n\\)",
    ),
    (
        [f"UPDATE blocks SET bandit_p_best = x'{np.full(20, 1.5, '<f4').tobytes().hex()}' WHERE block = 1"],
        r"impossible values \(per-bandit p_best values outside \[0, 1\]\)",
    ),
    (
        [f"UPDATE blocks SET regret_sq = x'{np.zeros(2, '<f8').tobytes().hex()}' WHERE setting = 1 AND block = 0"],
        r"impossible values \(regret sums of squares below what their sums give\)",
    ),
    (
        [f"UPDATE blocks SET final_reward = x'{np.array([np.nan, 1.0], '<f8').tobytes().hex()}' WHERE block = 2"],
        r"impossible values \(reward sums that are not finite\)",
    ),
    (
        [
            f"UPDATE blocks SET optimal_action_sum = x'{np.array([25.0, 1.0], '<f8').tobytes().hex()}', "
            f"optimal_action_sq = x'{np.array([40.0, 1.0], '<f8').tobytes().hex()}' WHERE block = 0"
        ],  # 20 bandits
        r"impossible values \(optimal_action sums outside what values in \[0, 1\] give\)",
    ),
    (["UPDATE settings SET axes = '{\"temperature\": ' WHERE setting = 1"], "setting 1: Expecting value"),
    (["UPDATE settings SET axes = '[1, 2]' WHERE setting = 0"], "setting 0: it is not a setting"),
    (
        ["UPDATE spec SET spec = replace(spec, '\"n_bandits\": 60', '\"n_bandits\": 0')"],
        "its spec is not a study's \\(n_bandits must be an integer >= 1, got 0\\)",
    ),
]


@pytest.mark.parametrize("statements, message", FORGED)
def test_impossible_values_are_refused_even_with_good_checksums(clean, tmp_path, statements, message):
    """n = 0, negative counts, malformed settings gave ZeroDivisionError, AttributeError, MemoryError."""
    folder = copy(clean, tmp_path)
    forge(folder, *statements)
    with pytest.raises(ValueError, match=message) as err:
        reads(folder)
    one_line(err.value)


def test_an_absurd_horizon_is_refused_before_plot_hangs(clean, tmp_path, capsys):
    """A crafted steps_per_episode = 10**12 hung plot inside the mean field, in C."""
    folder = copy(clean, tmp_path)
    db = sqlite3.connect(folder / FILE, isolation_level=None)
    db.create_function("spec_steps", 1, _spec_steps)
    db.execute("UPDATE spec SET spec = spec_steps(spec)")
    db.execute(
        "UPDATE settings SET axes = replace(axes, '\"steps_per_episode\": 20', '\"steps_per_episode\": 1000000000000')"
    )
    db.execute("DELETE FROM mean_field")
    db.close()
    forge(folder)
    with bounded(30):
        assert main(["plot", str(folder)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "steps_per_episode 1,000,000,000,000 > 2,147,483,647" in err


@contextlib.contextmanager
def bounded(seconds: int):
    """Fail (not hang) past ``seconds``: SIGALRM in Python code, a hard exit with tracebacks in C."""

    def hang(*_):
        raise TimeoutError(f"still running after {seconds} s")

    previous = signal.signal(signal.SIGALRM, hang)
    signal.alarm(seconds)
    faulthandler.dump_traceback_later(seconds + 30, exit=True, file=sys.__stderr__)
    try:
        yield
    finally:
        faulthandler.cancel_dump_traceback_later()
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


# --- random damage ---------------------------------------------------------------------------------

TABLES = {"spec": 5, "settings": 3, "tasks": 12, "blocks": len(BLOCK_COLUMNS), "totals": 4, "calls": 3, "mean_field": 3}
VALUES = st.one_of(
    st.none(),
    st.integers(-(2**63), 2**63 - 1),
    st.floats(),
    st.text(max_size=12),
    st.binary(max_size=40),
    st.just("flip"),
)
BYTES = st.lists(st.tuples(st.integers(0, 2**40), st.integers(1, 255)), min_size=1, max_size=4)
ROWS = st.tuples(
    st.sampled_from(sorted(TABLES)),
    st.sampled_from(["update", "delete"]),
    st.integers(0, 2**20),
    st.integers(0, 2**20),
    VALUES,
)
DAMAGE = st.one_of(BYTES.map(lambda d: ("bytes", d)), st.lists(ROWS, min_size=1, max_size=3).map(lambda d: ("rows", d)))


def damage_bytes(path, edits):
    data = bytearray(path.read_bytes())
    for offset, mask in edits:
        data[offset % len(data)] ^= mask
    path.write_bytes(bytes(data))


def damage_rows(path, edits):
    db = sqlite3.connect(path, isolation_level=None)
    for table, op, row, column, value in edits:
        names = [r[1] for r in db.execute(f"PRAGMA table_info({table})")]
        keys = db.execute(f"SELECT rowid FROM {table}" if table != "blocks" else "SELECT setting, block FROM blocks")
        keys = keys.fetchall()
        if not keys:
            continue
        key = keys[row % len(keys)]
        where = "rowid = ?" if table != "blocks" else "setting = ? AND block = ?"
        name = names[column % len(names)]
        if value == "flip":
            (old,) = db.execute(f"SELECT {name} FROM {table} WHERE {where}", key).fetchone()
            value = _flipped(old, row)
        with contextlib.suppress(sqlite3.IntegrityError, sqlite3.OperationalError):  # what SQL itself refuses
            if op == "delete":
                db.execute(f"DELETE FROM {table} WHERE {where}", key)
            else:
                db.execute(f"UPDATE {table} SET {name} = ? WHERE {where}", (value, *key))
    db.close()


def _flipped(value, seed: int):
    """The value with one bit changed: the subtle damage a checksum must catch."""
    if isinstance(value, bytes) and value:
        data = bytearray(value)
        data[seed % len(data)] ^= 1 << (seed % 8)
        return bytes(data)
    if isinstance(value, int):
        return value ^ (1 << (seed % 8))
    if isinstance(value, float):
        return float(np.frombuffer((np.float64(value).view(np.int64) ^ (1 << (seed % 64))).tobytes(), "<f8")[0])
    if isinstance(value, str) and value:
        at = seed % len(value)
        return value[:at] + chr(ord(value[at]) ^ 1) + value[at + 1 :]
    return value


def check_damage(clean, folder, damage):
    kind, edits = damage
    (damage_bytes if kind == "bytes" else damage_rows)(folder / FILE, edits)
    with bounded(60):
        try:
            assert reads(folder) == clean[1]
            event("read: the clean results")
        except ValueError as err:
            event(f"read: refused ({_kind(one_line(err))})")
        for repair in (False, True):
            try:
                sweep(folder, **AXES, repair=repair)
            except ValueError as err:
                event(f"sweep(repair={repair}): refused ({_kind(one_line(err))})")
            else:
                assert exports(folder) == clean[2]
                assert reads(folder) == clean[1]
                event(f"sweep(repair={repair}): the clean results")
            assert not (folder / LOCK_FILE).exists()  # let go, however the sweep ended


def _kind(message: str) -> str:
    for words in ("cannot be repaired", "repair=True", "lost rows", "older version", "newer version"):
        if words in message:
            return words
    return message[-60:]


@pytest.mark.filterwarnings("ignore:.*has lost rows")  # a damage the writer heals
@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(damage=DAMAGE)
def test_random_damage_gives_one_line_or_the_clean_results(clean, tmp_path_factory, damage):
    check_damage(clean, copy(clean, tmp_path_factory.mktemp("damaged")), damage)


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore:.*has lost rows")
@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(damage=DAMAGE)
def test_random_damage_gives_one_line_or_the_clean_results_many(clean, tmp_path_factory, damage):
    check_damage(clean, copy(clean, tmp_path_factory.mktemp("damaged")), damage)
