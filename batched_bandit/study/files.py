"""Files in a study folder: written atomically, never through a link; the store opened by escaped URI.

A study folder may come from someone else (a co-author, an archive, a shared disk), so every file
the library writes there goes through ``write_with``, as ``tempfile.mkstemp`` advises: a new file
with a unique name, created exclusively in the folder, synced, then renamed over its name. A reader
sees the old file or the new one, never a torn one; two writers never share a temporary name; a
kill leaves at most a stray ``.NAME.*.tmp``. A name the library writes, or the folder it writes
into, that is a symbolic link is refused with one line (a link planted there would send the write
elsewhere). SQLite opens the store through a percent-escaped ``file:`` URI, so any legal folder
name (``%``, ``#``, ``?``, spaces, non-ASCII) names that folder and no other file.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
import urllib.parse
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO


def refuse_link(path: Path, what: str = "") -> None:
    """ValueError if ``path`` is a symbolic link (it may be anything else, or absent)."""
    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError:
        return
    if stat.S_ISLNK(mode):
        raise ValueError(
            f"{str(path)!r}{what} is a symbolic link; batched_bandit never writes or opens a study's files through "
            "a link: remove it, or give the real folder"
        )


def make_folder(folder: Path) -> None:
    """Create ``folder`` (and its parents) unless it exists; refuse a link or a file there."""
    refuse_link(folder)
    if folder.exists() and not folder.is_dir():
        raise ValueError(f"results folder {str(folder)!r} is a file, not a folder")
    folder.mkdir(parents=True, exist_ok=True)
    refuse_link(folder)  # a link planted between the check and mkdir


def write_with(path: Path, write: Callable[[BinaryIO], object]) -> Path:
    """Write ``path`` through ``write(file)`` on a fresh temporary file in its folder, then rename."""
    path = Path(path)
    refuse_link(path.parent)
    refuse_link(path)
    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as err:  # a read-only medium, a full disk: name the file meant, not the temporary one
        raise OSError(err.errno, err.strerror, str(path)) from None
    try:
        with os.fdopen(fd, "wb") as f:
            os.fchmod(f.fileno(), 0o666 & ~_umask())  # as open() would make it, not mkstemp's 0600
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)  # rename never follows a link at ``path``: at worst it replaces it
    except BaseException as err:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        if isinstance(err, OSError) and err.filename is None:  # a full disk: say which file
            raise OSError(err.errno, err.strerror, str(path)) from None
        raise
    _sync_folder(path.parent)
    return path


def write_atomic(path: Path, data: str | bytes) -> Path:
    """Write text (UTF-8) or bytes to ``path`` atomically (``write_with``)."""
    payload = data.encode() if isinstance(data, str) else data
    return write_with(path, lambda f: f.write(payload))


def sqlite_uri(path: Path, **query: str) -> str:
    """``file:`` URI of ``path`` (absolute, percent-escaped, its last part not resolved) with ``query``."""
    uri = Path(os.path.abspath(path)).as_uri()
    return f"{uri}?{urllib.parse.urlencode(query)}" if query else uri


def _sync_folder(folder: Path) -> None:
    """Make the rename durable (a power cut after it keeps the new file); best effort."""
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _umask() -> int:
    """The process's umask, read without changing it where Linux allows (os.umask sets it)."""
    with contextlib.suppress(OSError, ValueError, StopIteration), open("/proc/self/status") as f:
        return int(next(line for line in f if line.startswith("Umask:")).split()[1], 8)
    mask = os.umask(0o022)
    os.umask(mask)
    return mask
