"""The fused CPU engine: the whole time loop in C, vectorised across bandits, one thread per core.

``cpu_kernel.c`` is compiled at first use of each learning rule (``state.Rule``: policy, optimizer,
momentum, baseline, reward model...) with the system C compiler (``$CC``, else ``cc``, ``gcc`` or
``clang``) for this machine (``-O3 -march=native``), with a header generated from schema.py
(``header``) that selects the rule's code and lays out the per-bandit numbers, so each rule's loop
does only its own work and reads each number by name. A run traced every ``record_every`` steps
uses the rule's tracing build (``BB_TRACE``: a second library, built at the first traced run), so
that untraced runs carry none of its code. Builds are cached in ``$BATCHED_BANDIT_CACHE``
(default ``~/.cache/batched_bandit``) under a hash of the source, the flags, the compiler and the
CPU, so later calls and processes load them in milliseconds. No Python headers, no extra package.
The gradient policy runs cpu_kernel.c's ``bb_simulate``; the other policies (ε-greedy, greedy, UCB,
Thompson sampling) ``value_kernel.c``'s ``bb_policy_simulate``, compiled after cpu_kernel.c in the
same build (``sources``: it uses that file's vectors, Philox stream and normal deviates).
Without a compiler, ``backend="auto"`` falls back to the portable engine.
``BATCHED_BANDIT_CPU_ISA=generic`` builds without ``-march=native`` (on x86-64 for the baseline
``-march=x86-64``: no AVX), so the kernel's generic branch, the one of machines without AVX-512
or AVX, runs and is tested anywhere; ``bb_isa()`` says which branch a build compiled.

The cache is treated as untrusted, as OpenSSH treats key files: a library is loaded only from a
folder that no one else can write (created 0700), only if it is a regular file (never a symlink)
owned by this user and writable by no one else, whose bytes match the hash in its name, and which
then reports the build key compiled into it; a damaged or stale file is removed and rebuilt once.
An unsafe cache is refused with one line naming the path and the fix (``backend="auto"`` then falls
back to the portable engine with SlowerEngineWarning).

Threads run slices of a chunk in parallel (ctypes releases the GIL during calls) while the calling
thread polls the kernel's progress counter, so ``on_progress`` hears about the work every
``POLL_SECONDS``, from the caller's thread; an interrupt (Ctrl-C) there asks the kernel to stop.
"""

from __future__ import annotations

import ctypes
import hashlib
import os
import platform
import shutil
import stat
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, wait
from pathlib import Path

import numpy as np
import torch

from .. import schema
from ..optimizers import one_minus
from ..policies.thompson import P_BEST_DRAWS
from ..rng import POLICY_TAG, THOMPSON_ATTEMPTS, THOMPSON_TAG
from ..state import Batch, Outcome, Rule, empty_trace, trace_points
from . import MAX_ARMS as ENGINE_MAX_ARMS

SOURCE = Path(__file__).with_name("cpu_kernel.c")
POLICY_SOURCE = Path(__file__).with_name("value_kernel.c")  # the other policies, compiled after SOURCE
FLAGS = ("-O3", "-march=native", "-ffp-contract=off", "-std=c11", "-fPIC", "-shared")
PORTABLE_FLAGS = ("-O3", "-ffp-contract=off", "-std=c11", "-fPIC", "-shared")  # if -march=native fails
POLICIES = schema.POLICIES  # the gradient policy: SOURCE's bb_simulate; the others: POLICY_SOURCE's
ISA_VARIABLE = "BATCHED_BANDIT_CPU_ISA"  # "native" (default) or "generic"
LANES = 16  # threads get whole multiples of the kernel's SIMD block (8 or 16 bandits)
POLL_SECONDS = 0.2  # how often the calling thread reports progress while the kernel runs
SEED_RULE = Rule()
COMPILE_SECONDS: dict[tuple[Rule, bool], float] = {}  # first-use compiles done in this process, per build

_lock = threading.Lock()
_kernels: dict[tuple[Rule, bool], ctypes.CDLL] = {}  # (rule, trace) -> its build
_failures: dict[tuple[Rule, bool], str] = {}


# Per-bandit numbers as the kernel reads them: schema.ROWS, then 1 - x of some (computed in float64
# and rounded once, as torch.optim computes them from Python floats), each a float row; and the
# numbers Adam's bias corrections are computed from, in double.
COMPLEMENTS = ("dampening", "beta1", "beta2", "alpha", "baseline_decay")
ROWS = (*schema.ROWS, *(f"one_minus_{name}" for name in COMPLEMENTS))
ROWS64 = ("beta1", "beta2")
# bb_batch, the kernel's one argument struct: (field, C type), in order; the generated header
# declares it, _Batch mirrors it for ctypes
FIELDS = (
    ("rows", "const float *"),  # (len(ROWS), stride): row r of bandit i at rows[r * stride + i]
    ("rows64", "const double *"),  # (len(ROWS64), stride)
    ("stride", "int64_t"),  # the batch's number of bandits: the rows' length
    ("arm_param", "const float *"),  # (n, K), batch first, as state.Batch
    ("arm_gap", "const float *"),
    ("init_weights", "const float *"),
    ("bandit_ids", "const int64_t *"),  # (n,)
    ("best_arm", "const int64_t *"),
    ("weights", "float *"),  # outputs, batch first, as state.Outcome
    ("episode_rewards", "float *"),
    ("episode_p_best", "float *"),
    ("episode_regret", "float *"),
    ("episode_reward", "float *"),
    ("episode_optimal", "int32_t *"),
    ("final_probs", "float *"),  # (n, K): the policy's probabilities after the run (not the gradient policy's)
    ("trace_p_best", "float *"),  # (R, n): a point's bandits side by side; R = the trace's points (BB_TRACE builds)
    ("trace_regret", "float *"),
    ("trace_reward", "float *"),
    ("trace_optimal", "int32_t *"),
    ("trace_success", "uint8_t *"),  # torch.bool: one byte, 0 or 1
    ("record_every", "int64_t"),  # steps between trace points (BB_TRACE builds)
    ("progress", "int64_t *"),  # bandit-steps done (the kernel adds to it)
    ("cancel", "const int32_t *"),  # nonzero: stop at the next report
)


class _Batch(ctypes.Structure):
    """cpu_kernel.c's bb_batch (FIELDS)."""

    _fields_ = [(name, ctypes.c_int64 if ctype == "int64_t" else ctypes.c_void_p) for name, ctype in FIELDS]


def header(rule: Rule, trace: bool = False) -> str:
    """The C header generated for ``rule`` from schema.py: the rule's choices as constants, whether
    the build traces runs (BB_TRACE), the row numbers of the per-bandit tables and the bb_batch
    struct. Force-included when compiling."""
    lines = [
        "/* generated by batched_bandit/engines/cpu_engine.py from schema.py: do not edit */",
        "#include <stdint.h>",
        "#define BB_GENERATED 1",
        f"#define BB_TRACE {int(trace)}",
    ]
    for field in schema.RULE_FIELDS:
        value = getattr(rule, field)
        macro = f"BB_{field.upper()}"
        if isinstance(value, bool):
            lines.append(f"#define {macro} {int(value)}")
            continue
        choices = schema.REWARDS if field == "rewards" else schema.OPTIONS[field].choices
        lines += [f"#define {macro}_{choice.upper()} {i}" for i, choice in enumerate(choices)]
        lines.append(f"#define {macro} {schema.choice_index(field, value)}")
    lines += [f"#define ROW_{name} {i}" for i, name in enumerate(ROWS)]
    lines += [f"#define ROW64_{name} {i}" for i, name in enumerate(ROWS64)]
    rng = {"POLICY_TAG": POLICY_TAG, "THOMPSON_TAG": THOMPSON_TAG, "THOMPSON_ATTEMPTS": THOMPSON_ATTEMPTS,
           "P_BEST_DRAWS": P_BEST_DRAWS}  # fmt: skip
    lines += [f"#define BB_RNG_{name} {value:#x}u" for name, value in rng.items()]  # the policies' streams
    fields = [f"    {ctype}{'' if ctype.endswith('*') else ' '}{name};" for name, ctype in FIELDS]
    lines += ["typedef struct {", *fields, "} bb_batch;", ""]
    return "\n".join(lines)


def tables(batch: Batch) -> tuple[torch.Tensor, torch.Tensor]:
    """The kernel's per-bandit rows: ((len(ROWS), B) float32, (len(ROWS64), B) float64)."""
    h = batch.hyper
    rows = [getattr(h, name) for name in schema.ROWS]
    rows += [one_minus(getattr(h, name), torch.float64) for name in COMPLEMENTS]
    table = torch.stack([row.to(torch.float32) for row in rows]) if rows else torch.empty(0, batch.n_bandits)
    table64 = torch.stack([getattr(h, name).double() for name in ROWS64])
    return table.contiguous(), table64.contiguous()


def cache_dir() -> Path:
    root = os.environ.get("BATCHED_BANDIT_CACHE")
    if root:
        return Path(root)
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "batched_bandit"


def find_compiler() -> str | None:
    for name in (os.environ.get("CC"), "cc", "gcc", "clang"):
        if name and shutil.which(name):
            return shutil.which(name)
    return None


def flag_sets() -> tuple[tuple[str, ...], ...]:
    """The compiler flags to try in turn, as $BATCHED_BANDIT_CPU_ISA asks (read at each build)."""
    isa = os.environ.get(ISA_VARIABLE) or "native"
    if isa == "native":
        return FLAGS, PORTABLE_FLAGS
    if isa == "generic":  # x86-64's baseline is SSE2; elsewhere no -march gives the generic branch
        x86 = platform.machine().lower() in ("x86_64", "amd64")
        return ((*PORTABLE_FLAGS, "-march=x86-64") if x86 else PORTABLE_FLAGS,)
    raise RuntimeError(f'{ISA_VARIABLE} must be "native" or "generic", got {isa!r}')


def _cpu_identity() -> str:
    """What -march=native depends on: the CPU's model and feature flags."""
    try:
        lines = Path("/proc/cpuinfo").read_text().splitlines()
        keys = ("model name", "flags", "Features", "CPU implementer", "CPU part")  # x86, aarch64
        return "\n".join(sorted({ln for ln in lines if ln.startswith(keys)}))
    except OSError:
        return platform.processor() + platform.machine()


def load_kernel(rule: Rule = SEED_RULE, trace: bool = False) -> ctypes.CDLL:
    """The kernel compiled for ``rule`` (``trace``: the build that also traces runs every record_every
    steps), built on first use; RuntimeError saying why if it cannot be."""
    build = (rule, trace)
    with _lock:
        if build not in _kernels and build not in _failures:
            try:
                _kernels[build] = _build_and_load(rule, trace)
            except (RuntimeError, OSError) as err:  # OSError: an unwritable cache, a noexec mount
                _failures[build] = str(err)
        if build not in _kernels:
            raise RuntimeError(_failures[build])
        return _kernels[build]


def kernel_path(rule: Rule = SEED_RULE, trace: bool = False) -> Path:
    """The cache file the kernel of ``rule`` was loaded from (after ``load_kernel(rule, trace)``)."""
    return _paths[rule, trace]


def build_key(source: bytes, flags: tuple[str, ...], compiler_version: str) -> str:
    """The cache key of a build: a hash of what the library depends on (hex, 64 digits)."""
    parts = [source, " ".join(flags).encode(), compiler_version.encode(), _cpu_identity().encode()]
    return hashlib.sha256(b"\0".join(parts)).hexdigest()


def sources(rule: Rule) -> tuple[Path, ...]:
    """The files a build of ``rule``'s kernel compiles, in order: SOURCE, then for every policy but
    the gradient POLICY_SOURCE (which uses SOURCE's vectors, Philox and normals)."""
    return (SOURCE,) if rule.policy == "gradient" else (SOURCE, POLICY_SOURCE)


def builds(rule: Rule, compiler: str, trace: bool = False) -> list[tuple[tuple[str, ...], str]]:
    """The builds of ``rule``'s kernel to try, in order: (compiler flags, build key). The key covers
    the sources and the header generated for the rule (and ``trace``)."""
    version = subprocess.run([compiler, "--version"], capture_output=True, text=True, check=False).stdout
    source = b"".join(path.read_bytes() + b"\0" for path in sources(rule)) + header(rule, trace).encode()
    return [(flags, build_key(source, flags, version)) for flags in flag_sets()]


def cache_name(key: str, content: bytes) -> str:
    """A build's file name: its key, then a hash of its bytes (checked before loading: no damaged file is run)."""
    return f"{cache_prefix(key)}{hashlib.sha256(content).hexdigest()[:16]}.so"


def cache_prefix(key: str) -> str:
    return f"cpu_kernel-{key[:20]}-"


def _build_and_load(rule: Rule, trace: bool) -> ctypes.CDLL:
    """Load the cached build of ``rule``'s kernel after checking it, else (or if it is damaged) build it
    once; RuntimeError (one line, naming the file and the fix) if the cache is unsafe or the build fails."""
    compiler = find_compiler()
    if compiler is None:
        raise RuntimeError("no C compiler found (set $CC or install gcc)")
    folder = cache_dir()
    folder_fd = _open_cache_folder(folder)
    try:
        errors = []
        for flags, key in builds(rule, compiler, trace):
            kernel, library, damage = _load_cached(folder_fd, folder, key)
            if kernel is None:  # none cached, or only damaged ones (now removed): build once
                start = time.perf_counter()
                error = _compile(compiler, rule, trace, flags, key, folder_fd, folder)
                if error:
                    errors.append(error)
                    continue
                COMPILE_SECONDS[rule, trace] = time.perf_counter() - start
                kernel, library, fresh_damage = _load_cached(folder_fd, folder, key)
                if kernel is None:  # not retried: the next build would be the same
                    fresh_damage = fresh_damage or f"{folder}: the kernel just built is missing"
                    before = f" (and the cached one before it: {damage})" if damage else ""
                    raise RuntimeError(f"{fresh_damage}: the kernel just built is not used{before}")
            assert library is not None  # loaded with its kernel
            _paths[rule, trace] = library
            return _declare(kernel)
        raise RuntimeError(f"compiling {sources(rule)[-1].name} with {compiler} failed: " + "; ".join(errors))
    finally:
        os.close(folder_fd)


def _declare(kernel: ctypes.CDLL) -> ctypes.CDLL:
    kernel.bb_simulate.restype = ctypes.c_int
    kernel.bb_isa.restype = ctypes.c_char_p
    kernel.bb_simulate.argtypes = [ctypes.POINTER(_Batch), *[ctypes.c_int64] * 2, ctypes.c_int32,
                                   ctypes.c_uint64, *[ctypes.c_int64] * 2, ctypes.c_int32]  # fmt: skip
    kernel.bb_normals.argtypes = [ctypes.c_int64, ctypes.c_void_p, ctypes.c_void_p]
    kernel.bb_philox.argtypes = [ctypes.c_int64, ctypes.c_void_p, ctypes.c_uint64, ctypes.c_uint64, ctypes.c_void_p]
    kernel.bb_mean_field.restype = ctypes.c_int
    kernel.bb_mean_field.argtypes = [ctypes.c_int64, ctypes.c_int32, *[ctypes.c_void_p] * 9, ctypes.c_int64,
                                     ctypes.c_int64, ctypes.c_void_p, ctypes.c_void_p]  # fmt: skip
    if hasattr(kernel, "bb_policy_simulate"):  # POLICY_SOURCE's entry points: bb_simulate's, bb_normals' arguments
        kernel.bb_policy_simulate.restype = ctypes.c_int
        kernel.bb_policy_simulate.argtypes = kernel.bb_simulate.argtypes
        kernel.bb_policy_normals.argtypes = kernel.bb_normals.argtypes
    return kernel


def _compile(
    compiler: str, rule: Rule, trace: bool, flags: tuple[str, ...], key: str, folder_fd: int, folder: Path
) -> str | None:
    """Build into a private temporary folder, then rename into the cache; the error text if it failed."""
    with tempfile.TemporaryDirectory(dir=folder) as tmp:
        built = Path(tmp) / "cpu_kernel.so"
        error = compile_kernel(compiler, rule, (*flags, f'-DBB_BUILD_KEY="{key}"'), built, trace)
        if error is not None:
            return error
        os.chmod(built, 0o755)  # whatever the umask: writable by its owner only, as the checks require
        name = cache_name(key, built.read_bytes())
        os.replace(built, name, dst_dir_fd=folder_fd)  # atomic: concurrent builders never see half a file
    return None


# --- the cache is untrusted input (OpenSSH's StrictModes): checked before anything is loaded --------
# ctypes.CDLL runs a library's constructors as it loads it, and a truncated library can crash the
# loader, so ownership, permissions and the content hash in the name are checked first, on open
# file descriptors (no symlink followed, no file swapped between check and load); the build key
# compiled into the library is checked after, and catches files renamed from another build.
CACHE_FIX = "set BATCHED_BANDIT_CACHE to a folder that only you can write (docs/guide/engines.md: the kernel cache)"
SYMBOLS = ("bb_simulate", "bb_normals", "bb_philox", "bb_mean_field", "bb_isa")
_paths: dict[tuple[Rule, bool], Path] = {}
_loaded_fds: list[int] = []  # files loaded through /proc/self/fd/N stay open: that name must not be reused


def _open_cache_folder(folder: Path) -> int:
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


def _load_cached(folder_fd: int, folder: Path, key: str) -> tuple[ctypes.CDLL | None, Path | None, str | None]:
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


def compile_kernel(compiler: str, rule: Rule, flags: tuple[str, ...], output: Path, trace: bool = False) -> str | None:
    """Compile the sources of ``rule`` with ``flags`` and the rule's generated header into ``output``;
    None, or the compiler's complaint."""
    *included, main = (str(path) for path in sources(rule))
    with tempfile.TemporaryDirectory() as tmp:
        generated = Path(tmp) / "bb_generated.h"
        generated.write_text(header(rule, trace))
        includes = [arg for path in (str(generated), *included) for arg in ("-include", path)]
        done = subprocess.run([compiler, *flags, *includes, "-o", str(output), main, "-lm"],
                              capture_output=True, text=True, check=False)  # fmt: skip
    return None if done.returncode == 0 else f"{' '.join(flags)}: {done.stderr.strip()[:500]}"


def unavailable_reason(device: torch.device) -> str | None:
    if device.type != "cpu":
        return f"the fused CPU engine runs on the CPU, not on {device.type}"
    try:
        load_kernel()
    except RuntimeError as err:
        return f"the fused CPU engine is unavailable: {err}"
    return None


def unsupported_reason(rule: Rule, trace: bool = False) -> str | None:
    """Every rule of every policy runs, and the gradient policy's traced too (value_kernel.c keeps no
    trace: the portable engine traces the other policies); the rule's kernel is built here, at first
    use, so that a run's timing excludes it and a failed build falls back like a missing compiler."""
    if rule.policy not in POLICIES:
        return f"the fused CPU engine runs the policies {', '.join(POLICIES)}, not {rule.policy!r} (yet)"
    if trace and rule.policy != "gradient":
        return f"the fused CPU engine traces only the gradient policy, not {rule.policy!r} (record_every)"
    try:
        load_kernel(rule, trace)
    except RuntimeError as err:
        return f"the fused CPU engine is unavailable: {err}"
    return None


def simulate(
    batch: Batch,
    *,
    seed: int,
    n_episodes: int,
    steps_per_episode: int,
    record_episodes: bool = True,
    record_every: int | None = None,
    on_progress: Callable[[int], None] | None = None,
    dtype: torch.dtype = torch.float32,
) -> Outcome:
    """Train every bandit of ``batch`` (float32, CPU) for ``n_episodes * steps_per_episode`` steps.

    ``record_every``: also trace every metric every this many steps (state.Outcome), with the
    rule's tracing build; the trace fields are (B, R) views of the (R, B) arrays the kernel writes.
    ``on_progress(n)`` is called from this thread about every ``POLL_SECONDS``
    with the bandit-steps done since the last call; the calls add up to all of them.
    """
    if record_every is not None and batch.rule.policy != "gradient":  # value_kernel.c keeps no trace
        raise ValueError(f"the fused CPU engine does not trace policy {batch.rule.policy!r} (record_every)")
    trace = record_every is not None
    kernel = load_kernel(batch.rule, trace)
    n_bandits, n_arms = batch.n_bandits, batch.n_arms
    n_recorded = n_episodes if record_episodes else 1
    f32 = lambda t: t.to(torch.float32).contiguous()  # noqa: E731
    rows, rows64 = tables(batch)
    inputs = {
        "rows": rows, "rows64": rows64, "arm_param": f32(batch.arm_param), "arm_gap": f32(batch.arm_gap),
        "init_weights": f32(batch.init_weights), "bandit_ids": batch.bandit_ids.long().contiguous(),
        "best_arm": batch.best_arm.long().contiguous(),
    }  # fmt: skip
    outputs = {
        "weights": torch.empty(n_bandits, n_arms, dtype=torch.float32),
        "episode_rewards": torch.empty(n_bandits, n_recorded, n_arms, dtype=torch.float32),
        "episode_p_best": torch.empty(n_bandits, n_episodes, dtype=torch.float32),
        "episode_regret": torch.empty(n_bandits, n_episodes, dtype=torch.float32),
        "episode_reward": torch.empty(n_bandits, n_episodes, dtype=torch.float32),
        "episode_optimal": torch.empty(n_bandits, n_episodes, dtype=torch.int32),
        "final_probs": torch.empty(n_bandits, n_arms if batch.rule.policy != "gradient" else 0, dtype=torch.float32),
    }
    # (R, B), as the kernel writes a point; returned as (B, R) views
    traced = empty_trace(trace_points(n_episodes * steps_per_episode, record_every), n_bandits, torch.float32)
    outcome = Outcome(**outputs, **{name: tensor.T for name, tensor in traced.items()})
    if n_bandits == 0:
        return outcome
    progress = _Progress(on_progress)
    arrays = {**inputs, **outputs, **traced, "progress": progress.counter, "cancel": progress.cancel}
    assert sorted([*arrays, "stride", "record_every"]) == sorted(name for name, _ in FIELDS)  # no pointer left NULL
    numbers = dict(stride=n_bandits, record_every=record_every or 0)
    args = _Batch(**numbers, **{name: tensor.data_ptr() for name, tensor in arrays.items()})

    entry = kernel.bb_simulate if batch.rule.policy == "gradient" else kernel.bb_policy_simulate

    def run(lo: int, hi: int) -> int:
        return entry(ctypes.byref(args), lo, hi, n_arms, seed, n_episodes, steps_per_episode, int(record_episodes))

    n_threads = max(1, min(torch.get_num_threads(), -(-n_bandits // LANES)))
    per_thread = -(-n_bandits // (n_threads * LANES)) * LANES  # whole SIMD blocks per thread
    bounds = [(lo, min(lo + per_thread, n_bandits)) for lo in range(0, n_bandits, per_thread)]
    codes = progress.run_threads(run, bounds)  # even one slice: this thread stays free to poll
    if any(codes):
        raise RuntimeError(f"cpu kernel failed with codes {codes}")
    progress.report()
    return outcome


def call_cancellable(function: Callable[..., int], *args) -> int:
    """``function(*args, cancel)``, a kernel entry point whose last argument is a cancel flag, on a worker
    thread while this one waits: Ctrl-C (or SIGTERM) here sets the flag and the C loop returns soon."""
    progress = _Progress(None)
    return progress.run_threads(lambda lo, hi: function(*args, progress.cancel.data_ptr()), [(0, 0)])[0]


class _Progress:
    """The kernel's progress counter and cancel flag, and the reports made from the calling thread."""

    def __init__(self, on_progress: Callable[[int], None] | None):
        self.counter = torch.zeros(1, dtype=torch.int64)  # bandit-steps done (the kernel adds to it)
        self.cancel = torch.zeros(1, dtype=torch.int32)  # set to 1: the kernel stops at its next report
        self.on_progress, self.reported = on_progress, 0

    def report(self) -> None:
        """Pass the bandit-steps done since the last report to on_progress."""
        done = int(self.counter[0])
        if self.on_progress is not None and done > self.reported:
            self.on_progress(done - self.reported)
            self.reported = done

    def run_threads(self, run: Callable[[int, int], int], bounds: list[tuple[int, int]]) -> list[int]:
        """``run(lo, hi)`` for each slice on its own thread, reporting progress meanwhile."""
        with ThreadPoolExecutor(len(bounds)) as pool:
            futures = [pool.submit(run, lo, hi) for lo, hi in bounds]
            try:
                while wait(futures, timeout=POLL_SECONDS).not_done:
                    self.report()
            except BaseException:  # KeyboardInterrupt: stop the kernel rather than wait for it
                self.cancel[0] = 1
                raise
            return [f.result() for f in futures]


def mean_field_loop(recurrence, n_episodes: int, steps_per_episode: int):
    """meanfield.py's recurrence in C (cpu_kernel.c, bb_mean_field): (S, n_episodes) float64, or None
    where the fused CPU engine is not built here or the problem has more arms than it holds."""
    r = recurrence
    n_settings, n_arms = r.mu.shape
    if n_arms > ENGINE_MAX_ARMS["cpu"] or unavailable_reason(torch.device("cpu")) is not None:
        return None
    out = np.empty((n_settings, n_episodes))
    arrays = [r.mu, r.inv_t, r.lr, r.momentum, r.factor, r.nesterov.astype(np.uint8), r.weight_decay,
              r.init_weights, r.best]  # fmt: skip
    # on a worker thread, with a cancel flag: a long horizon stops within milliseconds of Ctrl-C
    code = call_cancellable(load_kernel().bb_mean_field, n_settings, n_arms, *(a.ctypes.data for a in arrays),
                            n_episodes, steps_per_episode, out.ctypes.data)  # fmt: skip
    return out if code == 0 else None
