"""One writer per study folder: an advisory lock on ``study.lock``, held while a sweep writes.

Why a lock file and not SQLite's own locks: SQLite locks a transaction, but a sweep must own the
folder for hours, across thousands of transactions, while readers (``plot``, ``compare``, the read
API) keep reading; SQLite's exclusive locking mode would shut them out. ``flock`` on a file opened
with O_NOFOLLOW is held by the open file, so it goes with the process however it dies (kill -9
included), and never blocks a reader, who does not take it. The holder writes its pid, host and
start time into the file, so a second writer can say who holds it, and removes the file as it lets
go (a finished study holds no lock file; a waiter that locked the removed file tries again). On NFS, Linux maps flock to
POSIX locks (lockd); where file locks are unreliable, keep studies on a local or scratch disk.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import socket
import stat
import time
import warnings
from datetime import datetime, timezone
from pathlib import Path

LOCK_FILE = "study.lock"


class FolderBusy(ValueError):
    """Another process is writing the study folder."""


class WriterLock:
    """The folder's writer lock, held until ``release()`` (or the process ends)."""

    def __init__(self, folder: Path, wait: bool = False):
        self.path = Path(folder) / LOCK_FILE
        warned = False
        while True:  # the holder removes the file as it lets go: lock the file that is there
            self.fd = _open(self.path)
            try:
                try:
                    fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    holder = _holder(self.path)
                    if not wait:
                        raise FolderBusy(
                            f"results folder {str(folder)!r} is being written by another process ({holder}); wait "
                            "for it to finish, or pass wait=True (--wait) to wait for it"
                        ) from None
                    if not warned:
                        warnings.warn(f"{str(folder)!r} is being written by another process ({holder}); waiting",
                                      stacklevel=3)  # fmt: skip
                        warned = True
                    fcntl.flock(self.fd, fcntl.LOCK_EX)
                if self._mine():
                    break
            except BaseException:
                os.close(self.fd)
                raise
            os.close(self.fd)
        record = {"pid": os.getpid(), "host": socket.gethostname(),
                  "since": datetime.now(timezone.utc).isoformat(timespec="seconds")}  # fmt: skip
        with contextlib.suppress(OSError):  # who holds it is for the message only (a full disk: say nothing)
            os.ftruncate(self.fd, 0)
            os.pwrite(self.fd, (json.dumps(record) + "\n").encode(), 0)

    def _mine(self) -> bool:
        """Whether the locked file is still the one at the path (not one its last holder removed)."""
        try:
            there = os.stat(self.path, follow_symlinks=False)
        except FileNotFoundError:
            return False
        held = os.fstat(self.fd)
        return (there.st_dev, there.st_ino) == (held.st_dev, held.st_ino)

    def release(self) -> None:
        """Remove the lock file, then let go (a waiter that got the removed file tries again)."""
        if self.fd >= 0:
            with contextlib.suppress(OSError):
                if self._mine():
                    os.unlink(self.path)
            os.close(self.fd)  # closing the file releases the flock
            self.fd = -1


def _open(path: Path) -> int:
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK, 0o666)
    except OSError as err:
        if err.errno == errno.ELOOP:
            raise ValueError(f"{str(path)!r} is a symbolic link; batched_bandit never writes a study's files through "
                             "a link: remove it") from None  # fmt: skip
        raise
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise ValueError(f"{str(path)!r} is not a regular file: remove it")
    return fd


def _holder(path: Path) -> str:
    """ "pid 123 on host h, since 2025-01-01T00:00:00+00:00", as the holder wrote it (it writes it
    just after it takes the lock: give it a moment)."""
    for _ in range(50):
        with contextlib.suppress(OSError, ValueError, TypeError, KeyError, AttributeError):
            fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK)
            try:
                record = json.loads(os.read(fd, 4096))
            finally:
                os.close(fd)
            return f"pid {int(record['pid'])} on host {str(record['host'])[:100]}, since {str(record['since'])[:40]}"
        time.sleep(0.01)
    return "it has not said which"
