"""The results store: one SQLite database in the study folder (SQLite as an application file format).

It holds the spec, the settings, the tasks with their state, each committed task's statistics
per (setting, block), and one record per call. A task is committed in one transaction, once (its
key is the primary key, and a task already done is not written again); a kill at any moment loses
at most the tasks in flight, and a rerun skips what is committed. WAL mode: readers (the exports,
issue #11's figures) never block the writer. Only the process that runs ``sweep`` writes; workers
return their results to it.

Schema (``PRAGMA user_version`` = FORMAT_VERSION):

- ``spec(id = 0, format, spec)``: the study's spec as JSON (axes, n_bandits, seed, dtype, blocks,
  precision); a folder is reused only for the same spec.
- ``settings(setting, axes)``: each grid point's axis values as JSON, in grid order.
- ``tasks(key, stage, grp, block, settings, state, call, backend, device, engine_s, committed_s)``:
  state 'planned' or 'done'.
- ``blocks(setting, block, task, n, final_successes, successes, p_best_sum, p_best_sq, regret_sum,
  regret_sq, locked_best, locked_wrong, undecided, p_best_hist, last_rewards, verdicts)``: the
  sufficient statistics of task.block_statistics, arrays as little-endian BLOBs (int64 / float64;
  verdicts: np.packbits of the final verdicts, bandit order).
- ``calls(call, record)``: versions, device, backend, executor, timings, command line (JSON).
- ``mean_field(setting, p_best)``: the mean-field P(best) per episode (float64 BLOB), a
  deterministic function of the setting computed once, when the exports are first written.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import numpy as np

FILE = "study.sqlite"
FORMAT = "batched_bandit.study"
FORMAT_VERSION = 3  # 1 was the CSV folder of batched_bandit 0.1 (spec.json, results.csv appended)
EXPORTS = ("results.csv", "curves.csv", "meta.json")
SCHEMA = """
CREATE TABLE spec (id INTEGER PRIMARY KEY CHECK (id = 0), format TEXT NOT NULL, spec TEXT NOT NULL);
CREATE TABLE settings (setting INTEGER PRIMARY KEY, axes TEXT NOT NULL);
CREATE TABLE tasks (
    key TEXT PRIMARY KEY, stage INTEGER NOT NULL, grp INTEGER NOT NULL, block INTEGER NOT NULL,
    settings TEXT NOT NULL, state TEXT NOT NULL CHECK (state IN ('planned', 'done')), call INTEGER,
    backend TEXT, device TEXT, engine_s REAL, committed_s REAL
);
CREATE TABLE blocks (
    setting INTEGER NOT NULL, block INTEGER NOT NULL, task TEXT NOT NULL REFERENCES tasks (key),
    n INTEGER NOT NULL, final_successes INTEGER NOT NULL, successes BLOB NOT NULL, p_best_sum BLOB NOT NULL,
    p_best_sq BLOB NOT NULL, regret_sum BLOB NOT NULL, regret_sq BLOB NOT NULL, locked_best INTEGER NOT NULL,
    locked_wrong INTEGER NOT NULL, undecided INTEGER NOT NULL, p_best_hist BLOB NOT NULL,
    last_rewards BLOB NOT NULL, verdicts BLOB NOT NULL, PRIMARY KEY (setting, block)
) WITHOUT ROWID;
CREATE TABLE calls (call INTEGER PRIMARY KEY, record TEXT NOT NULL);
CREATE TABLE mean_field (setting INTEGER PRIMARY KEY, p_best BLOB NOT NULL);
"""
ARRAYS = {"successes": "<i8", "p_best_sum": "<f8", "p_best_sq": "<f8", "regret_sum": "<f8", "regret_sq": "<f8",
          "p_best_hist": "<i8", "last_rewards": "<f8"}  # fmt: skip
BLOCK_COLUMNS = ("setting", "block", "task", "n", "final_successes", *ARRAYS, "locked_best", "locked_wrong",
                 "undecided", "verdicts")  # fmt: skip


class Store:
    """A study's database. ``Store.open(folder, spec, settings)`` creates or reopens it for writing;
    ``Store.read(folder)`` opens it read-only."""

    def __init__(self, connection: sqlite3.Connection, path: Path):
        self.db, self.path = connection, path

    @classmethod
    def open(cls, folder: Path, spec: dict, settings: list[dict]) -> Store:
        """The store of ``folder`` for this spec: created with the folder if new, else checked.
        ValueError (before writing anything) for a file, a folder holding other files or another
        study, or a store of another format version."""
        path = folder / FILE
        if folder.exists() and not folder.is_dir():
            raise ValueError(f"results folder {str(folder)!r} is a file, not a folder")
        if not path.exists():
            if folder.exists():
                _refuse_foreign(folder)
            folder.mkdir(parents=True, exist_ok=True)
        store = cls._connect(path, readonly=False)
        theirs = store._spec()
        if theirs is not None:
            if theirs != spec:
                store.close()
                raise ValueError(
                    f"results folder {str(folder)!r} holds a different study ({differences(theirs, spec)}); "
                    "use another folder, or delete this one to start over"
                )
            return store
        with store.transaction():  # a new store (or one killed before this transaction ended: empty)
            for statement in SCHEMA.split(";"):
                if statement.strip():
                    store.db.execute(statement)
            store.db.execute("INSERT INTO spec VALUES (0, ?, ?)", (FORMAT, json.dumps(spec, sort_keys=True)))
            store.db.executemany("INSERT INTO settings VALUES (?, ?)",
                                 [(i, json.dumps(s)) for i, s in enumerate(settings)])  # fmt: skip
            store.db.execute(f"PRAGMA user_version = {FORMAT_VERSION}")
        return store

    @classmethod
    def read(cls, folder: Path) -> Store:
        """Open read-only (for exports and the read API); ValueError if there is no study."""
        path = Path(folder) / FILE
        if not path.exists():
            raise ValueError(f"{str(folder)!r} holds no study ({FILE} is missing)")
        store = cls._connect(path, readonly=True)
        if store._spec() is None:
            raise ValueError(f"{str(folder)!r}: the study's store is empty (interrupted while being created)")
        return store

    @classmethod
    def _connect(cls, path: Path, readonly: bool) -> Store:
        try:
            if readonly:
                db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, isolation_level=None)
            else:
                db = sqlite3.connect(path, isolation_level=None, timeout=60)  # autocommit; transactions by hand
                db.execute("PRAGMA journal_mode = WAL")
                db.execute("PRAGMA synchronous = NORMAL")  # WAL: a commit survives a kill of the process; no fsync each
            version = db.execute("PRAGMA user_version").fetchone()[0]
            tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        except sqlite3.DatabaseError as err:
            raise ValueError(f"cannot open the study store {str(path)!r}: {err}") from None
        if tables and version != FORMAT_VERSION:
            db.close()
            newer = version > FORMAT_VERSION
            raise ValueError(
                f"{str(path.parent)!r} was written by {'a newer' if newer else 'an older'} version of batched_bandit "
                f"(store format {version}; this version reads format {FORMAT_VERSION}): "
                + ("upgrade batched_bandit to read it" if newer else "run the study again into a new folder")
            )
        return cls(db, path)

    def _spec(self) -> dict | None:
        try:
            row = self.db.execute("SELECT spec FROM spec").fetchone()
        except sqlite3.OperationalError:  # no table: created but not yet filled
            return None
        return None if row is None else json.loads(row[0])

    def transaction(self):
        """``with store.transaction():`` BEGIN IMMEDIATE .. COMMIT, ROLLBACK on any exception."""
        return _Transaction(self.db)

    # --- writing ---

    def plan(self, tasks) -> None:
        """Record planned tasks (those already recorded stay as they are)."""
        with self.transaction():
            self.db.executemany(
                "INSERT OR IGNORE INTO tasks (key, stage, grp, block, settings, state) "
                "VALUES (?, ?, ?, ?, ?, 'planned')",
                [(t.key, t.stage, t.group, t.block, json.dumps(t.settings)) for t in tasks],
            )

    def commit(
        self, key: str, block: int, result: dict, call: int | None = None, elapsed_s: float | None = None
    ) -> bool:
        """Store a task's statistics in one transaction; False (and nothing written) if it was done."""
        rows = [_block_row(setting, block, key, stats) for setting, stats in result["stats"].items()]
        with self.transaction():
            done = self.db.execute(
                "UPDATE tasks SET state = 'done', call = ?, backend = ?, device = ?, engine_s = ?, committed_s = ? "
                "WHERE key = ? AND state = 'planned'",
                (call, result.get("backend"), result.get("device"), result.get("engine_s"), elapsed_s, key),
            ).rowcount
            if done:
                self.db.executemany(
                    f"INSERT INTO blocks ({', '.join(BLOCK_COLUMNS)}) VALUES ({', '.join('?' * len(BLOCK_COLUMNS))})",
                    rows,
                )
        return bool(done)

    def record_call(self, record: dict, call: int | None = None) -> int:
        """Insert (call None) or replace a call's record; returns its id."""
        with self.transaction():
            cursor = self.db.execute("INSERT OR REPLACE INTO calls VALUES (?, ?)", (call, json.dumps(record)))
        return cursor.lastrowid if call is None else call

    def save_mean_field(self, fields: dict[int, np.ndarray]) -> None:
        """Keep settings' mean-field trajectories (setting -> (n_episodes,) float64)."""
        with self.transaction():
            self.db.executemany("INSERT OR REPLACE INTO mean_field VALUES (?, ?)",
                                [(i, np.asarray(p, dtype="<f8").tobytes()) for i, p in fields.items()])  # fmt: skip

    # --- reading ---

    def mean_field(self) -> dict[int, np.ndarray]:
        return {i: np.frombuffer(b, dtype="<f8") for i, b in self.db.execute("SELECT setting, p_best FROM mean_field")}

    @property
    def spec(self) -> dict:
        return self._spec()

    def settings(self) -> list[dict]:
        return [json.loads(r[0]) for r in self.db.execute("SELECT axes FROM settings ORDER BY setting")]

    def committed(self) -> dict[tuple[int, int], tuple[int, int]]:
        """(setting, block) -> (n, final successes) of every committed block."""
        rows = self.db.execute("SELECT setting, block, n, final_successes FROM blocks")
        return {(s, b): (n, x) for s, b, n, x in rows}

    def blocks(self, setting: int | None = None):
        """Committed blocks as statistics dicts (block_statistics' keys, plus setting and block),
        ordered by setting, then block."""
        where = "" if setting is None else f" WHERE setting = {int(setting)}"
        cursor = self.db.execute(f"SELECT {', '.join(BLOCK_COLUMNS)} FROM blocks{where} ORDER BY setting, block")
        for row in cursor:
            values = dict(zip(BLOCK_COLUMNS, row))
            stats = {k: np.frombuffer(values[k], dtype=t) for k, t in ARRAYS.items()}
            stats["locked"] = np.array([values["locked_best"], values["locked_wrong"], values["undecided"]])
            yield {"setting": values["setting"], "block": values["block"], "n": values["n"],
                   "verdicts": values["verdicts"], **stats}  # fmt: skip

    def tasks(self) -> list[dict]:
        cols = ("key", "stage", "grp", "block", "state", "call", "backend", "device", "engine_s", "committed_s")
        return [dict(zip(cols, r)) for r in self.db.execute(f"SELECT {', '.join(cols)} FROM tasks ORDER BY rowid")]

    def calls(self) -> list[dict]:
        return [json.loads(r[0]) for r in self.db.execute("SELECT record FROM calls ORDER BY call")]

    def close(self) -> None:
        self.db.close()


class _Transaction:
    def __init__(self, db: sqlite3.Connection):
        self.db = db

    def __enter__(self):
        self.db.execute("BEGIN IMMEDIATE")

    def __exit__(self, kind, value, traceback):
        self.db.execute("COMMIT" if kind is None else "ROLLBACK")


def _block_row(setting: int, block: int, key: str, stats: dict) -> tuple:
    values = {"setting": setting, "block": block, "task": key, "n": stats["n"],
              "final_successes": int(stats["successes"][-1]), "verdicts": stats["verdicts"]}  # fmt: skip
    values.update({k: np.ascontiguousarray(stats[k], dtype=t).tobytes() for k, t in ARRAYS.items()})
    values.update(zip(("locked_best", "locked_wrong", "undecided"), (int(x) for x in stats["locked"])))
    return tuple(values[c] for c in BLOCK_COLUMNS)


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
    if names - {f"{FILE}-journal", f"{FILE}-wal", f"{FILE}-shm"}:
        raise ValueError(
            f"results folder {str(folder)!r} is not empty and holds no study ({FILE} is missing); "
            "use a new or empty folder"
        )


def differences(theirs, ours: dict) -> str:
    """What differs between two specs, for the refusal message."""
    if not isinstance(theirs, dict):
        return "its spec is not a study specification"
    keys = [k for k in ours if theirs.get(k) != ours[k]] + [k for k in theirs if k not in ours]
    return "; ".join(f"{k}: {theirs.get(k)!r} there, {ours.get(k)!r} here" for k in keys)
