"""How the store's file is opened: by escaped URI, never through a link, read-only from read-only
media; SQLite's errors as one line.

A finished study is one file in rollback-journal mode: ``mode=ro`` reads it anywhere. A study left
in WAL mode (running, or killed) needs its ``-shm`` file, which a read-only medium cannot give:
then the file alone is read (``immutable=1``), but only if no writer holds the folder and no log
(``-wal``, ``-journal``) holds changes the file lacks; otherwise one line says so, rather than
reading stale data. SQLite's errors become ValueError (a damaged file, one line naming it) or
OSError (a full disk, I/O, permissions), which the command line prints as one line.
"""

from __future__ import annotations

import errno
import fcntl
import os
import sqlite3
import stat
from functools import cache
from pathlib import Path

from .files import refuse_link, sqlite_uri
from .integrity import SCHEMA
from .lock import LOCK_FILE

FILE = "study.sqlite"
SIDECARS = ("-wal", "-shm", "-journal")
REPAIR = "run the sweep again with repair=True (batched-bandit sweep ... --repair): it recomputes what is damaged"
UNREPAIRABLE = "it cannot be repaired: run the study again into a new folder"
# what a query on a damaged file raises: SQLite's errors, or its message in bytes that are not text
ERRORS = (sqlite3.DatabaseError, UnicodeDecodeError)
SQLITE_MAGIC = b"SQLite format 3\x00"  # the first 16 bytes of every SQLite database file


def create_schema(db: sqlite3.Connection) -> None:
    """The tables of integrity.SCHEMA (inside the caller's transaction)."""
    for statement in SCHEMA.split(";"):
        if statement.strip():
            db.execute(statement)


@cache
def expected_schema() -> list:
    """sqlite_master of a new store: a store whose schema differs was changed by something else."""
    db = sqlite3.connect(":memory:")
    create_schema(db)
    objects = sorted(db.execute("SELECT type, name, tbl_name, sql FROM sqlite_master").fetchall(), key=repr)
    db.close()
    return objects


def connect(path: Path, readonly: bool) -> sqlite3.Connection:
    """A connection to the store at ``path``, opened by escaped URI, never through a link. Read-only:
    ``mode=ro``; where SQLite cannot open it so (read-only media: WAL needs its -shm file), the file
    alone (``immutable=1``), unless a writer holds the folder or a log holds data the file lacks."""
    for name in (path, *(path.with_name(path.name + s) for s in SIDECARS)):
        refuse_link(name)
    if os.path.exists(path) and not stat.S_ISREG(os.stat(path).st_mode):
        raise ValueError(f"{str(path)!r} is not a regular file")
    check_header(path)
    try:
        if not readonly:
            db = sqlite3.connect(sqlite_uri(path, mode="rwc"), uri=True, isolation_level=None, timeout=60)
        else:
            db = _connect_read_only(path)
        db.execute("PRAGMA cell_size_check = ON")  # a damaged page is an error, not a wrong read
        db.execute("PRAGMA trusted_schema = OFF")
    except ERRORS as err:
        raise translated(err, path) from None
    refuse_link(path)  # a link swapped in while SQLite opened it
    return db


def check_header(path: Path) -> None:
    """ValueError if the file's header has a file format version (byte 18: write, 19: read) above
    SQLite's 1 (rollback journal) and 2 (WAL): SQLite would open the file read-only (byte 18) or not
    at all (19), and every write would fail as if on a read-only medium."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK)
    except FileNotFoundError:
        return  # a new store
    try:
        header = os.read(fd, 20)
    finally:
        os.close(fd)
    if len(header) == 20 and header.startswith(SQLITE_MAGIC) and max(header[18:20]) > 2:
        raise ValueError(f"{str(path)!r} is damaged (its header's file format versions, bytes 18 and 19, are "
                         f"{header[18]} and {header[19]}: SQLite's are 1 and 2); {UNREPAIRABLE}")  # fmt: skip


def _connect_read_only(path: Path) -> sqlite3.Connection:
    db = sqlite3.connect(sqlite_uri(path, mode="ro"), uri=True, isolation_level=None, timeout=60)
    try:
        db.execute("SELECT count(*) FROM sqlite_master").fetchone()
        return db
    except BaseException as err:
        db.close()
        if not isinstance(err, sqlite3.OperationalError) or _code(err) not in (8, 10, 14):
            raise  # not SQLITE_READONLY, SQLITE_IOERR or SQLITE_CANTOPEN
    for suffix in ("-wal", "-journal"):
        log = path.with_name(path.name + suffix)
        if log.exists() and log.stat().st_size > 0:
            raise ValueError(
                f"{str(log)!r} holds changes that {FILE} lacks, and SQLite cannot open them here (a read-only "
                "medium?): open the study once where its folder can be written, or copy the folder"
            )
    if _writer_active(path.parent):
        raise ValueError(f"{str(path.parent)!r} is being written, and SQLite cannot open it read-only here: try again")
    db = sqlite3.connect(sqlite_uri(path, mode="ro", immutable="1"), uri=True, isolation_level=None)
    db.execute("SELECT count(*) FROM sqlite_master").fetchone()
    return db


def _writer_active(folder: Path) -> bool:
    """Whether a sweep holds the folder's lock (a shared lock taken and dropped at once to see)."""
    try:
        fd = os.open(folder / LOCK_FILE, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        return False
    except OSError:
        return True
    finally:
        os.close(fd)


CODES = {"full": 13, "malformed": 11, "not a database": 26, "readonly": 8, "unable to open": 14, "locked": 5,
         "disk I/O": 10}  # fmt: skip  # SQLite's primary result codes, for Python < 3.11


def _code(err: Exception) -> int | None:
    code = getattr(err, "sqlite_errorcode", None)
    if code is not None:
        return code & 0xFF
    return next((c for text, c in CODES.items() if text in str(err)), None)


def translated(err: Exception, path: Path) -> Exception:
    """SQLite's error as one line: ValueError (damage, a lock) or OSError (space, I/O, permission)."""
    code, integrity = _code(err), isinstance(err, sqlite3.IntegrityError)
    message = " ".join(str(err).split())[:200]  # SQLite may quote a damaged schema, newlines and all
    if code == 13:
        return OSError(errno.ENOSPC, f"No space left on device (SQLite: {message}); the store keeps what it had: free "
                                     "some space and run again", str(path))  # fmt: skip
    if code in (8, 10, 14):
        return OSError(errno.EIO if code == 10 else errno.EACCES, f"cannot open or write the study's store (SQLite: "
                       f"{message})", str(path))  # fmt: skip
    if integrity:  # a block stored twice: rows that disagree with their tasks
        return ValueError(f"{str(path)!r} is damaged ({message}); {REPAIR}")
    if code in (5, 6):
        return ValueError(f"{str(path)!r} is locked by another process ({message}); try again")
    return ValueError(f"{str(path)!r} is damaged ({message}); {UNREPAIRABLE}")


class Transaction:
    """BEGIN IMMEDIATE .. COMMIT, ROLLBACK on any exception; SQLite's errors as one line."""

    def __init__(self, store):
        self.store = store
        self.db = store.db

    def __enter__(self):
        try:
            self.db.execute("BEGIN IMMEDIATE")
        except ERRORS as err:
            raise translated(err, self.store.path) from None

    def __exit__(self, kind, value, traceback):
        try:
            if self.db.in_transaction:  # SQLite may have rolled back already (a full disk)
                self.db.execute("COMMIT" if kind is None else "ROLLBACK")
        except ERRORS as err:
            if self.db.in_transaction:
                self.db.execute("ROLLBACK")
            raise translated(err, self.store.path) from None
        if isinstance(value, ERRORS):
            raise translated(value, self.store.path) from None
