"""The results store: one SQLite database in the study folder (SQLite as an application file format).

It holds the spec, the settings, the tasks with their state, each committed task's statistics
per (setting, block), and one record per call. A task is committed in one transaction, once (its
key is the primary key, and a task already done is not written again); a kill at any moment loses
at most the tasks in flight, and a rerun skips what is committed. One process writes: the one that
runs ``sweep``, holding the folder's lock (lock.py); workers return their results to it. Readers
(the exports, ``plot``, ``compare``) take no lock and never block it: WAL while it writes. When the
writer closes, the log is folded back into the file and the file is left in rollback-journal mode,
so a finished study is one self-contained file that opens from read-only media.

The folder is untrusted input (integrity.py): the schema must be exactly ours, every row carries a
checksum and every array a CRC, and values must be ones a study can hold. A reader refuses a
damaged store with one line; the writer re-plans blocks that are missing and, with ``repair=True``,
deletes damaged rows so that they are computed again (repair.py).

Schema (``PRAGMA user_version`` = FORMAT_VERSION; integrity.SCHEMA): ``spec`` (the study's spec as
JSON: axes, n_bandits, seed, dtype, blocks, precision, record_every; a folder is reused only for the
same study),
``settings`` (each grid point's axes as JSON, in grid order), ``tasks`` (state 'planned' or 'done';
a task is done iff all its blocks are stored), ``blocks`` (task.block_statistics per (setting,
block): counts, then integrity.ARRAYS as little-endian BLOBs with their CRCs: every metric's sums at
each curve point and over the run, and each bandit's value), ``totals`` (the number
of blocks and the XOR of their checksums, updated by every commit, so a row that vanishes is
noticed), ``calls`` (versions, device, backend, executor, timings, command line), ``mean_field``
(the mean-field P(best) per episode, a deterministic function of the setting, computed once).
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
from pathlib import Path

import numpy as np

from .blocks import block_row, check_head, decode_block
from .connection import (
    ERRORS,
    FILE,
    REPAIR,
    SIDECARS,
    UNREPAIRABLE,
    Transaction,
    connect,
    create_schema,
    translated,
)
from .files import make_folder, refuse_link
from .integrity import (
    BLOCK_COLUMNS,
    BLOCK_HEAD,
    FORMAT,
    FORMAT_VERSION,
    SUMMARY,
    TASK_COLUMNS,
    Damaged,
    check_settings,
    check_spec,
    checksum,
    crc,
    field_ok,
    normal_form,
    real,
    task_cells,
)
from .lock import LOCK_FILE, WriterLock
from .repair import load, recover, scan, unplan

EXPORTS = ("results.csv", "curves.csv", "meta.json")
__all__ = ["EXPORTS", "FILE", "FORMAT", "FORMAT_VERSION", "Store"]


class Store:
    """A study's database. ``Store.open(folder, spec, settings)`` creates or reopens it for writing
    (taking the folder's lock); ``Store.read(folder)`` opens it read-only. Both check it first."""

    def __init__(self, connection: sqlite3.Connection, path: Path, lock: WriterLock | None = None):
        self.db, self.path, self.lock = connection, path, lock
        self.spec: dict = {}
        self.grid: list = []  # the settings as Setting objects, checked
        self._settings: list[dict] = []

    @classmethod
    def open(cls, folder, spec: dict, settings: list[dict], *, wait: bool = False, repair: bool = False) -> Store:
        """The store of ``folder`` for this spec: created with the folder if new, else checked.
        ValueError (before writing anything) for a file, a folder holding other files or another
        study, a store of another format version, another writer (unless ``wait``), or damage
        (unless ``repair``: damaged rows are deleted, to be computed again)."""
        folder, texts = Path(folder), [json.dumps(s) for s in settings]
        try:
            check_settings([(i, t, checksum(i, t)) for i, t in enumerate(texts)], check_spec(json.dumps(spec)),
                           len(texts))  # fmt: skip
        except Damaged as err:
            raise ValueError(f"this study cannot be stored: {err}") from None
        path = folder / FILE
        refuse_link(folder)
        if folder.exists() and not folder.is_dir():
            raise ValueError(f"results folder {str(folder)!r} is a file, not a folder")
        if folder.is_dir():
            with os.scandir(folder) as entries:  # a study folder holds no links: one there was planted
                for entry in entries:
                    refuse_link(Path(entry.path))
            if not os.path.lexists(path):
                _refuse_foreign(folder)  # before the lock file is made in it
        make_folder(folder)
        lock = WriterLock(folder, wait)
        store = None
        try:
            if not os.path.lexists(path):
                _refuse_foreign(folder)
            store = cls(connect(path, readonly=False), path, lock)
            with store._guard():
                if store._empty():  # new, or killed before its creating transaction ended
                    store.write_ahead()
                    store._create(spec, texts)
                load(store, (spec, texts) if repair else None)
            ours = normal_form(spec, [json.loads(t) for t in texts])
            if normal_form(store.spec, store._settings) != ours:
                raise ValueError(
                    f"results folder {str(folder)!r} holds a different study ({differences(store.spec, spec)}); "
                    "use another folder, or delete this one to start over"
                )
            with store._guard():
                store.write_ahead()  # only now: a refused folder is left as it was, byte for byte
                recover(store, repair)
            return store
        except BaseException:
            if store is not None:
                store.db.close()
            lock.release()
            raise

    @classmethod
    def read(cls, folder) -> Store:
        """Open read-only (for exports and the read API); ValueError if there is no study or it is damaged."""
        path = Path(folder) / FILE
        if not os.path.lexists(path):
            raise ValueError(f"{str(folder)!r} holds no study ({FILE} is missing)")
        store = cls(connect(path, readonly=True), path)
        try:
            with store._guard(), store._snapshot():  # one snapshot: a sweep may be committing meanwhile
                load(store)
                found = scan(store, arrays=False)
            if found.problems():
                raise store.damaged(found.describe(), REPAIR)
            if found.missing():
                raise ValueError(f"{str(path)!r} has lost rows ({found.missing()}); run the sweep that made it again: "
                                 "it recomputes them")  # fmt: skip
        except BaseException:
            store.db.close()
            raise
        return store

    def write_ahead(self) -> None:
        """WAL from now on (only once the folder is known to be ours: a refused one is left as it was)."""
        self.db.execute("PRAGMA journal_mode = WAL")
        self.db.execute("PRAGMA synchronous = NORMAL")  # WAL: a commit survives a kill of the process; no fsync each

    def _empty(self) -> bool:
        return self.db.execute("SELECT count(*) FROM sqlite_master").fetchone()[0] == 0

    def _create(self, spec: dict, texts: list[str]) -> None:
        with self.transaction():
            create_schema(self.db)
            text = json.dumps(spec, sort_keys=True)
            self.db.execute("INSERT INTO spec VALUES (0, ?, ?, ?, ?)", (FORMAT, text, len(texts),
                                                                       checksum(FORMAT, text, len(texts))))  # fmt: skip
            rows = [(i, t, checksum(i, t)) for i, t in enumerate(texts)]
            self.db.executemany("INSERT INTO settings VALUES (?, ?, ?)", rows)
            self.db.execute("INSERT INTO totals VALUES (0, 0, 0, ?)", (checksum(0, 0),))
            self.db.execute(f"PRAGMA user_version = {FORMAT_VERSION}")

    def damaged(self, what: str, way_out: str = UNREPAIRABLE) -> ValueError:
        """The one-line error for a damaged store: what, and the way out."""
        return ValueError(f"{str(self.path)!r} is damaged: {what}; {way_out}")

    @contextlib.contextmanager
    def _guard(self):
        """SQLite's errors as one line: a damaged file (ValueError), a full disk or I/O (OSError)."""
        try:
            yield
        except ERRORS as err:
            raise translated(err, self.path) from None

    @contextlib.contextmanager
    def _snapshot(self):
        """A read transaction: the rows as of one moment."""
        self.db.execute("BEGIN")
        try:
            yield
        finally:
            if self.db.in_transaction:
                self.db.execute("COMMIT")

    def transaction(self):
        """``with store.transaction():`` BEGIN IMMEDIATE .. COMMIT, ROLLBACK on any exception."""
        return Transaction(self)

    # --- writing ---

    def plan(self, tasks) -> None:
        """Record planned tasks (those recorded stay as they are); a task planned again because some
        of its blocks are missing loses the rest and is 'planned' again, so it commits whole."""
        with self.transaction():
            self.db.executemany(
                "INSERT OR IGNORE INTO tasks (key, stage, grp, block, settings, state, checksum) "
                "VALUES (?, ?, ?, ?, ?, 'planned', ?)",
                [(*task_cells(t)[:5], checksum(*task_cells(t))) for t in tasks],
            )
            states = dict(self.db.execute("SELECT key, state FROM tasks"))
            stored = {(s, b) for s, b in self.db.execute("SELECT setting, block FROM blocks")}
            stale = [t for t in tasks if states.get(t.key) == "done" or any((s, t.block) in stored for s in t.settings)]
            if stale:
                unplan(self.db, {(s, t.block) for t in stale for s in t.settings}, {t.key for t in stale})

    def commit(
        self, key: str, block: int, result: dict, call: int | None = None, elapsed_s: float | None = None
    ) -> bool:
        """Store a task's statistics in one transaction; False (and nothing written) if it was done."""
        rows = [block_row(setting, block, key, stats) for setting, stats in result["stats"].items()]
        with self.transaction():
            task = self.db.execute("SELECT stage, grp, block, settings FROM tasks WHERE key = ?", (key,)).fetchone()
            run = (call, result.get("backend"), result.get("device"), real(result.get("engine_s")), real(elapsed_s))
            done = self.db.execute(
                "UPDATE tasks SET state = 'done', call = ?, backend = ?, device = ?, engine_s = ?, committed_s = ?, "
                "checksum = ? "
                "WHERE key = ? AND state = 'planned'",
                (*run, checksum(key, *(task or ()), "done", *run), key),
            ).rowcount
            if done:
                self.db.executemany(
                    f"INSERT INTO blocks ({', '.join(BLOCK_COLUMNS)}) VALUES ({', '.join('?' * len(BLOCK_COLUMNS))})",
                    rows,
                )
                (count, digest), = self.db.execute("SELECT blocks, digest FROM totals")  # fmt: skip
                for row in rows:
                    digest ^= row[BLOCK_COLUMNS.index("checksum")]
                count += len(rows)
                self.db.execute("UPDATE totals SET blocks = ?, digest = ?, checksum = ?",
                                (count, digest, checksum(count, digest)))  # fmt: skip
        return bool(done)

    def record_call(self, record: dict, call: int | None = None) -> int:
        """Insert (call None) or replace a call's record; returns its id."""
        text = json.dumps(record)
        with self.transaction():
            cursor = self.db.execute("INSERT OR REPLACE INTO calls VALUES (?, ?, ?)", (call, text, checksum(text)))
        return cursor.lastrowid if call is None else call

    def save_mean_field(self, fields: dict[int, np.ndarray]) -> None:
        """Keep settings' mean-field trajectories (setting -> (curve points,) float64)."""
        rows = [(i, np.asarray(p, dtype="<f8").tobytes()) for i, p in fields.items()]
        with self.transaction():
            self.db.executemany("INSERT OR REPLACE INTO mean_field VALUES (?, ?, ?)",
                                [(i, b, checksum(i, crc(b))) for i, b in rows])  # fmt: skip

    # --- reading ---

    def mean_field(self) -> dict[int, np.ndarray]:
        """The stored mean-field trajectories that pass their checks (the others are computed again)."""
        with self._guard():
            rows = self.db.execute("SELECT setting, p_best, checksum FROM mean_field").fetchall()
        return {i: np.frombuffer(b, dtype="<f8") for i, b, c in rows
                if field_ok(i, b, c, self.grid, self.spec["record_every"])}  # fmt: skip

    def settings(self) -> list[dict]:
        return [dict(s) for s in self._settings]

    def committed(self) -> dict[tuple[int, int], tuple[int, int]]:
        """(setting, block) -> (n, final successes) of every committed block."""
        with self._guard():
            rows = self.db.execute("SELECT setting, block, n, final_successes FROM blocks").fetchall()
        return {(s, b): (n, x) for s, b, n, x in rows}

    def blocks(self, setting: int | None = None, arrays: tuple[str, ...] = SUMMARY):
        """Committed blocks as statistics dicts (block_statistics' keys, of the arrays those named in
        ``arrays``: by default all but the per-bandit ones; plus setting and block), ordered by setting,
        then block; each checked (ValueError naming a damaged one)."""
        where = "" if setting is None else f" WHERE setting = {int(setting)}"
        columns = (*BLOCK_HEAD, *arrays)
        with self._guard():
            cursor = self.db.execute(f"SELECT {', '.join(columns)} FROM blocks{where} ORDER BY setting, block")
            with contextlib.closing(cursor):  # finished however the loop ends: an open statement keeps a lock
                for cells in cursor:
                    values = dict(zip(columns, cells))
                    try:
                        check_head(values, self.spec, len(self.grid))
                        stats = decode_block(values, self.grid[values["setting"]], self.spec, arrays)
                    except Damaged as err:
                        where = f"setting {values['setting']!r}, block {values['block']!r}"
                        raise self.damaged(f"{where}: {err}", REPAIR) from None
                    yield {"setting": values["setting"], "block": values["block"], **stats}

    def tasks(self) -> list[dict]:
        with self._guard():
            rows = self.db.execute(f"SELECT {', '.join(TASK_COLUMNS)} FROM tasks ORDER BY rowid").fetchall()
        return [dict(zip(TASK_COLUMNS, r)) for r in rows]

    def calls(self) -> list[dict]:
        with self._guard():
            rows = self.db.execute("SELECT record FROM calls ORDER BY call").fetchall()
        return [json.loads(r[0]) for r in rows]

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        """Close; the writer first folds the log into the file (self-contained, readable read-only)."""
        try:
            if self.lock is not None:
                with contextlib.suppress(sqlite3.Error):
                    self.db.execute("PRAGMA busy_timeout = 1000")  # a reader in the way: keep WAL, lose nothing
                    self.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
                    self.db.execute("PRAGMA journal_mode = DELETE")
            self.db.close()
        finally:
            if self.lock is not None:
                self.lock.release()


def _refuse_foreign(folder: Path) -> None:
    """A folder without a store may hold only what a study writes (a kill before its store existed)."""
    names = {p.name for p in folder.iterdir()}
    if "spec.json" in names:
        try:
            old = json.loads((folder / "spec.json").read_text()).get("format", "")
        except (OSError, ValueError, AttributeError):
            old = ""
        if str(old).startswith("batched_bandit.sweep/"):
            raise ValueError(
                f"results folder {str(folder)!r} was written by an older version of batched_bandit (format {old}: "
                f"CSV files; this version keeps studies in {FILE}, format {FORMAT_VERSION}): run the sweep again "
                "into a new folder"
            )
    if names - {LOCK_FILE, *(FILE + s for s in SIDECARS)}:
        raise ValueError(
            f"results folder {str(folder)!r} is not empty and holds no study ({FILE} is missing); "
            "use a new or empty folder"
        )


def differences(theirs, ours: dict) -> str:
    """What differs between two specs, for the refusal message."""
    if not isinstance(theirs, dict):
        return "its spec is not a study specification"
    keys = [k for k in ours if theirs.get(k) != ours[k]] + [k for k in theirs if k not in ours]
    return "; ".join(f"{k}: {theirs.get(k)!r} there, {ours.get(k)!r} here" for k in keys) or "its settings differ"
