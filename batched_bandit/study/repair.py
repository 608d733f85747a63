"""What is wrong with a store, and how the writer puts it right.

``load`` checks the version, the schema, the spec and the settings as a store is opened. ``scan``
reads every task, block, call and mean-field row and sorts what it finds: rows that are
there but fail their checks (damage: a reader refuses them, the writer deletes them with
``repair=True``), and rows that are missing (a task marked done without its blocks, totals that
count more blocks than there are: the writer plans them again, so a sweep never loops on them).
Everything deleted is computed again by the plan, from the spec, to the same bytes.
"""

from __future__ import annotations

import contextlib
import json
import warnings
from dataclasses import dataclass, field

from .blocks import check_head, decode_block
from .connection import REPAIR, expected_schema
from .integrity import (
    BLOCK_COLUMNS,
    BLOCK_HEAD,
    FORMAT,
    FORMAT_VERSION,
    TASK_COLUMNS,
    Damaged,
    check_settings,
    check_spec,
    checksum,
    crc,
)


@dataclass
class Findings:
    damaged: dict = field(default_factory=dict)  # (setting, block) as stored -> why
    bad_tasks: dict = field(default_factory=dict)  # rowid -> "task KEY: why"
    bad_calls: list = field(default_factory=list)  # call ids
    bad_fields: list = field(default_factory=list)  # mean-field rows' settings
    bad_totals: bool = False
    lost: dict = field(default_factory=dict)  # key of a done task -> its blocks that are missing
    uncounted: int = 0  # blocks the totals count that are not there

    def problems(self) -> list[str]:
        """Rows that are there but fail their checks (the mean field aside: it is computed again)."""
        return ([f"setting {s!r}, block {b!r}: {why}" for (s, b), why in self.damaged.items()]
                + list(self.bad_tasks.values())
                + [f"the record of call {c!r} does not match its checksum" for c in self.bad_calls]
                + ["the totals row does not match its checksum"] * self.bad_totals)  # fmt: skip

    def describe(self) -> str:
        found = self.problems()
        return found[0] + (f" (and {len(found) - 1} more damaged rows)" if len(found) > 1 else "")

    def missing(self) -> str:
        """What is missing, in words ("" if nothing)."""
        if self.lost:
            key, cells = next(iter(self.lost.items()))
            more = f", and {len(self.lost) - 1} more tasks" if len(self.lost) > 1 else ""
            return f"task {key!r} is marked done but {len(cells)} of its blocks are missing{more}"
        if self.uncounted:
            return f"{self.uncounted} committed blocks are missing"
        return ""

    def fix(self, store) -> None:
        """Delete what is damaged (its tasks are planned again), forget damaged calls and mean-field
        rows, and recount the totals. Inside the caller's transaction."""
        db = store.db
        db.executemany("DELETE FROM tasks WHERE rowid = ?", [(r,) for r in self.bad_tasks])
        orphans = {(s, b) for s, b, task in db.execute("SELECT setting, block, task FROM blocks").fetchall()
                   if not _done_owner(db, task, s, b)}  # fmt: skip
        unplan(db, set(self.damaged) | orphans, set(self.lost))
        db.executemany("DELETE FROM calls WHERE call IS ?", [(c,) for c in self.bad_calls])
        db.executemany("DELETE FROM mean_field WHERE setting IS ?", [(s,) for s in self.bad_fields])
        recount(db)


def load(store, replace: tuple[dict, list[str]] | None = None) -> None:
    """Check the version, the schema, the spec and the settings (ValueError naming the damage).
    ``replace``: (spec, settings as JSON) to write over damaged settings when the spec is this one."""
    version = store.db.execute("PRAGMA user_version").fetchone()[0]
    objects = sorted(store.db.execute("SELECT type, name, tbl_name, sql FROM sqlite_master").fetchall(), key=repr)
    if not objects:
        raise ValueError(f"{str(store.path.parent)!r}: the study's store is empty (interrupted while being created)")
    if version != FORMAT_VERSION:
        newer = isinstance(version, int) and version > FORMAT_VERSION
        raise ValueError(
            f"{str(store.path.parent)!r} was written by {'a newer' if newer else 'an older'} version of "
            f"batched_bandit (store format {version}; this version reads format {FORMAT_VERSION}): "
            + ("upgrade batched_bandit to read it" if newer else "run the study again into a new folder")
        )
    if objects != expected_schema():
        raise store.damaged("its schema is not a study's (a table or column is missing, changed or added)")
    rows = store.db.execute("SELECT id, format, spec, n_settings, checksum FROM spec").fetchall()
    if len(rows) != 1 or rows[0][1] != FORMAT or rows[0][4] != checksum(*rows[0][1:4]):
        if replace is None:
            raise store.damaged("its spec does not match its checksum", REPAIR)
        if len(rows) != 1 or rows[0][2] != json.dumps(replace[0], sort_keys=True):
            raise store.damaged("its spec does not match its checksum, nor is it this sweep's spec word for word")
        text, n = rows[0][2], len(replace[1])  # the spec is the caller's, word for word: its row is rewritten
        rows = [(0, FORMAT, text, n, checksum(FORMAT, text, n))]
        store.write_ahead()
        with store.transaction():
            store.db.execute("INSERT OR REPLACE INTO spec VALUES (?, ?, ?, ?, ?)", rows[0])
    try:
        store.spec = check_spec(rows[0][2])
    except Damaged as err:
        raise store.damaged(str(err)) from None
    settings = store.db.execute("SELECT setting, axes, checksum FROM settings ORDER BY setting").fetchall()
    try:
        store.grid = check_settings(settings, store.spec, rows[0][3])
    except Damaged as err:
        if replace is None or rows[0][2] != json.dumps(replace[0], sort_keys=True):
            raise store.damaged(str(err), REPAIR) from None
        settings = [(i, t, checksum(i, t)) for i, t in enumerate(replace[1])]  # the grid of the same spec
        store.grid = check_settings(settings, store.spec, rows[0][3])
        store.write_ahead()
        with store.transaction():
            store.db.execute("DELETE FROM settings")
            store.db.executemany("INSERT INTO settings VALUES (?, ?, ?)", settings)
    store._settings = [json.loads(r[1]) for r in settings]


def recover(store, repair: bool) -> None:
    """Writer: refuse damage (or, with ``repair``, delete it); re-plan what is missing."""
    found = scan(store, arrays=True)
    if found.problems() and not repair:
        raise store.damaged(found.describe(), REPAIR)
    if found.missing():
        warnings.warn(f"{str(store.path)!r} has lost rows ({found.missing()}): they will be computed again",
                      stacklevel=4)  # fmt: skip
    if found.problems() or found.missing():
        with store.transaction():
            found.fix(store)


def scan(store, arrays: bool) -> Findings:
    """Check every row (``arrays``: the blocks' arrays too, not only their counts and CRCs)."""
    db, spec, grid = store.db, store.spec, store.grid
    found, tasks = Findings(), {}
    for rowid, *cells in db.execute(f"SELECT rowid, {', '.join(TASK_COLUMNS)}, checksum FROM tasks").fetchall():
        why = _task_problem(cells, len(grid))
        if why:
            found.bad_tasks[rowid] = f"task {cells[0]!r}: {why}"
        else:
            tasks[cells[0]] = (cells[5], {(s, cells[3]) for s in json.loads(cells[4])})
    columns = BLOCK_COLUMNS if arrays else BLOCK_HEAD
    seen, count, digest = set(), 0, 0
    with contextlib.closing(db.execute(f"SELECT {', '.join(columns)} FROM blocks")) as cursor:
        for cells in cursor:  # one by one: the arrays of a big study need not fit in memory at once
            row = dict(zip(columns, cells))
            seen.add((row["setting"], row["block"]))
            count += 1
            digest ^= row["checksum"] if type(row["checksum"]) is int else 0
            why = _block_problem(row, spec, grid, tasks, arrays)
            if why:
                found.damaged[row["setting"], row["block"]] = why
    for key, (state, cells) in tasks.items():
        if state == "done" and cells - seen:
            found.lost[key] = cells - seen
    totals = db.execute("SELECT blocks, digest, checksum FROM totals").fetchall()
    if len(totals) != 1 or totals[0][2] != checksum(*totals[0][:2]):
        found.bad_totals = True
    elif (totals[0][0], totals[0][1]) != (count, digest) and not found.lost and not found.damaged:
        found.uncounted = max(1, totals[0][0] - count)
    for call, record, stored in db.execute("SELECT call, record, checksum FROM calls").fetchall():
        if stored != checksum(record) or not _is_record(record):
            found.bad_calls.append(call)
    for setting, data, stored in db.execute("SELECT setting, p_best, checksum FROM mean_field").fetchall():
        if type(setting) is not int or not isinstance(data, bytes) or stored != checksum(setting, crc(data)):
            found.bad_fields.append(setting)
    return found


def unplan(db, cells: set, keys: set) -> None:
    """Delete the blocks at ``cells`` and every block of their tasks and of ``keys``; those tasks are
    'planned' again (their whole task commits again). Inside the caller's transaction."""
    owners = set(keys)
    for s, b in cells:
        where = "WHERE setting IS ? AND block IS ?"
        owners.update(k for (k,) in db.execute(f"SELECT task FROM blocks {where}", (s, b)).fetchall())
        db.execute(f"DELETE FROM blocks {where}", (s, b))
    for key in owners:
        db.execute("DELETE FROM blocks WHERE task IS ?", (key,))
        row = db.execute("SELECT key, stage, grp, block, settings FROM tasks WHERE key IS ?", (key,)).fetchone()
        if row is not None:
            cells_ = (*row, "planned", None, None, None, None, None)
            reset = "state = 'planned', call = NULL, backend = NULL, device = NULL, engine_s = NULL, committed_s = NULL"
            db.execute(f"UPDATE tasks SET {reset}, checksum = ? WHERE key IS ?", (checksum(*cells_), key))
    recount(db)


def recount(db) -> None:
    """Set the totals to the blocks that are there."""
    count, digest = 0, 0
    for (value,) in db.execute("SELECT checksum FROM blocks").fetchall():
        count, digest = count + 1, digest ^ value
    db.execute("INSERT OR REPLACE INTO totals VALUES (0, ?, ?, ?)", (count, digest, checksum(count, digest)))


def _block_problem(row: dict, spec: dict, grid: list, tasks: dict, arrays: bool) -> str | None:
    try:
        check_head(row, spec, len(grid))
        if arrays:
            decode_block(row, grid[row["setting"]], spec)
    except Damaged as err:
        return str(err)
    state, owned = tasks.get(row["task"], (None, ()))
    if state != "done" or (row["setting"], row["block"]) not in owned:
        return f"its task {row['task']!r} is not a committed task that holds it"
    return None


def _done_owner(db, task, setting, block) -> bool:
    row = db.execute("SELECT state, block, settings FROM tasks WHERE key IS ?", (task,)).fetchone()
    return row is not None and row[0] == "done" and row[1] == block and setting in json.loads(row[2])


def _task_problem(cells: tuple, n_settings: int) -> str | None:
    key, stage, group, block, settings, state = cells[:6]
    if cells[-1] != checksum(*cells[:-1]):
        return "its cells do not match their checksum"
    try:
        members = json.loads(settings)
    except (TypeError, ValueError, RecursionError):
        members = None
    if not isinstance(members, list) or not members or not all(type(s) is int and 0 <= s < n_settings for s in members):
        return "its settings are not the study's"
    counts = all(type(v) is int and v >= 0 for v in (stage, group, block))
    if type(key) is not str or state not in ("planned", "done") or not counts:
        return "it is not a task of the study's plan"
    return None


def _is_record(text) -> bool:
    try:
        return isinstance(json.loads(text), dict)
    except (TypeError, ValueError, RecursionError):
        return False
