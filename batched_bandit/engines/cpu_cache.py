"""The fused CPU engine's kernel cache, treated as untrusted input as OpenSSH treats key files.

Builds live in ``$BATCHED_BANDIT_CACHE`` (default ``~/.cache/batched_bandit``), each named by its build
key and a hash of its bytes (cpu_build.py builds them). A library is loaded only from a folder that no
one else can write (created 0700), only if it is a regular file (never a symlink) owned by this user
and writable by no one else, whose bytes match the hash in its name, and which then reports the build
key compiled into it; a damaged or stale file is removed (and cpu_build.py rebuilds it once). An unsafe
cache is refused with one line naming the path and the fix (``backend="auto"`` then falls back to the
portable engine with SlowerEngineWarning).

ctypes.CDLL runs a library's constructors as it loads it, and a truncated library can crash the
loader, so ownership, permissions and the content hash in the name are checked first, on open file
descriptors (no symlink followed, no file swapped between check and load); the build key compiled
into the library is checked after, and catches files renamed from another build (OpenSSH's
StrictModes).
"""

from __future__ import annotations

import ctypes
import hashlib
import os
import stat
from pathlib import Path

CACHE_FIX = "set BATCHED_BANDIT_CACHE to a folder that only you can write (README: the kernel cache)"
SYMBOLS = ("bb_simulate", "bb_normals", "bb_philox", "bb_mean_field", "bb_isa")
_loaded_fds: list[int] = []  # files loaded through /proc/self/fd/N stay open: that name must not be reused


def cache_dir() -> Path:
    root = os.environ.get("BATCHED_BANDIT_CACHE")
    if root:
        return Path(root)
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "batched_bandit"


def cache_name(key: str, content: bytes) -> str:
    """A build's file name: its key, then a hash of its bytes (checked before loading: no damaged file is run)."""
    return f"{cache_prefix(key)}{hashlib.sha256(content).hexdigest()[:16]}.so"


def cache_prefix(key: str) -> str:
    return f"cpu_kernel-{key[:20]}-"


def open_cache_folder(folder: Path) -> int:
    """A descriptor of the cache folder (created 0700 if missing) once it is safe to load from."""
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        info = os.fstat(fd)
        uid = os.geteuid()
        if info.st_uid not in (uid, 0):
            raise RuntimeError(f"the kernel cache {folder} belongs to another user (uid {info.st_uid}): {CACHE_FIX}")
        writable = info.st_mode & (stat.S_IWGRP | stat.S_IWOTH)
        if writable and not (info.st_mode & stat.S_ISVTX and info.st_uid == uid):
            who = {stat.S_IWGRP: "its group", stat.S_IWOTH: "all users"}.get(writable, "its group and all users")
            raise RuntimeError(
                f"the kernel cache {folder} is writable by {who} (mode {stat.S_IMODE(info.st_mode):o}), who could "
                f"plant code in it: run chmod go-w {folder}, or {CACHE_FIX}"
            )
    except BaseException:
        os.close(fd)
        raise
    return fd


def load_cached(folder_fd: int, folder: Path, key: str) -> tuple[ctypes.CDLL | None, Path | None, str | None]:
    """(kernel, its file, None) for the first sound build of ``key`` in the cache; (None, None, what was
    wrong) if there is none, damaged ones being removed. RuntimeError if a file is unsafe to open."""
    damage = None
    for name in sorted(n for n in os.listdir(folder_fd) if n.startswith(cache_prefix(key)) and n.endswith(".so")):
        library = folder / name
        fd = _open_library(folder_fd, library)
        if fd is None:
            continue
        kernel, damage = _load_sound(fd, library, key)
        if kernel is not None:
            return kernel, library, None
        os.unlink(name, dir_fd=folder_fd)  # ours (checked): a damaged build is removed, then rebuilt
    return None, None, damage


def _load_sound(fd: int, library: Path, key: str) -> tuple[ctypes.CDLL | None, str | None]:
    """Load the checked file ``fd`` if its bytes match its name and it then reports ``key``: (kernel, None),
    else (None, what is wrong)."""
    content = b""
    while chunk := os.read(fd, 1 << 20):
        content += chunk
    if cache_name(key, content) != library.name:
        os.close(fd)
        return None, f"{library} is damaged (its {len(content):,} bytes do not match the hash in its name)"
    proc = f"/proc/self/fd/{fd}"  # Linux: load exactly the file checked, whatever happens to its name
    via_fd = os.path.exists(proc)
    try:
        kernel = ctypes.CDLL(proc if via_fd else str(library))
    except OSError as err:
        os.close(fd)
        return None, f"{library} cannot be loaded ({str(err).rsplit(': ', 1)[-1]})"
    if via_fd:
        _loaded_fds.append(fd)
    else:
        os.close(fd)
    damage = _damage(kernel, key)
    if damage is not None:
        _unload(kernel)
        return None, f"{library} {damage}"
    return kernel, None


def _open_library(folder_fd: int, library: Path) -> int | None:
    """A descriptor of a cached library if it is safe to read and load (a regular file, not a symlink,
    owned by this user, writable by no one else); None if it is gone; RuntimeError naming the fix if not."""
    try:
        info = os.lstat(library.name, dir_fd=folder_fd)
    except FileNotFoundError:
        return None
    if stat.S_ISLNK(info.st_mode):
        raise RuntimeError(f"{library} is a symbolic link; the kernel cache loads only files it built: remove it")
    try:
        fd = os.open(library.name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC, dir_fd=folder_fd)
    except FileNotFoundError:
        return None
    except OSError as err:  # a symlink planted since the lstat (ELOOP), a socket...
        raise RuntimeError(f"{library} cannot be opened safely ({err.strerror}): remove it") from None
    info = os.fstat(fd)
    problem = None
    if not stat.S_ISREG(info.st_mode):
        problem = "is not a regular file"
    elif info.st_uid not in (os.geteuid(), 0):
        problem = f"belongs to another user (uid {info.st_uid})"
    elif info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        problem = f"is writable by others (mode {stat.S_IMODE(info.st_mode):o})"
    if problem is not None:
        os.close(fd)
        raise RuntimeError(
            f"{library} {problem}; the kernel cache loads only files it built: remove it, or {CACHE_FIX}"
        )
    return fd


def _damage(kernel: ctypes.CDLL, key: str) -> str | None:
    """None if ``kernel`` is the build of ``key`` with every entry point, else what is wrong."""
    try:
        reported = kernel.bb_build_key
    except AttributeError:
        return "has no build key (not built by this version)"
    reported.restype, reported.argtypes = ctypes.c_char_p, []
    found = reported() or b""
    if found != key.encode():
        return f"reports the build key {found.decode(errors='replace')[:20]!r}, not {key[:20]!r}"
    missing = [name for name in SYMBOLS if not hasattr(kernel, name)]
    return f"lacks {', '.join(missing)}" if missing else None


def _unload(kernel: ctypes.CDLL) -> None:
    try:
        import _ctypes

        _ctypes.dlclose(kernel._handle)
    except (ImportError, AttributeError, OSError):
        pass
