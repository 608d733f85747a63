"""The fused CPU engine: the whole time loop in C, vectorised across bandits, one thread per core.

``cpu_kernel.c`` is compiled at first use with the system C compiler (``$CC``, else ``cc``,
``gcc`` or ``clang``) for this machine (``-O3 -march=native``) and cached in
``$BATCHED_BANDIT_CACHE`` (default ``~/.cache/batched_bandit``) under a hash of the source, the
flags, the compiler and the CPU, so later calls and processes load it in milliseconds. It needs no
Python headers and no extra package. Without a compiler, ``backend="auto"`` falls back to the
portable engine. Threads run slices of a chunk in parallel: ctypes releases the GIL during calls.
"""

from __future__ import annotations

import ctypes
import hashlib
import os
import platform
import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import torch

from ..state import Batch, Outcome, Rule

SOURCE = Path(__file__).with_name("cpu_kernel.c")
FLAGS = ("-O3", "-march=native", "-ffp-contract=off", "-std=c11", "-fPIC", "-shared")
PORTABLE_FLAGS = ("-O3", "-ffp-contract=off", "-std=c11", "-fPIC", "-shared")  # if -march=native fails
LANES = 16  # threads get whole multiples of the kernel's SIMD block (8 or 16 bandits)
COMPILE_SECONDS: float | None = None  # time the first-use compile took in this process (None: cached)

_lock = threading.Lock()
_kernel: ctypes.CDLL | None = None
_failure: str | None = None

_i64, _i32, _u64, _ptr = ctypes.c_int64, ctypes.c_int32, ctypes.c_uint64, ctypes.c_void_p


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


def _cpu_identity() -> str:
    """What -march=native depends on: the CPU's model and feature flags."""
    try:
        lines = Path("/proc/cpuinfo").read_text().splitlines()
        keys = ("model name", "flags", "Features", "CPU implementer", "CPU part")  # x86, aarch64
        return "\n".join(sorted({ln for ln in lines if ln.startswith(keys)}))
    except OSError:
        return platform.processor() + platform.machine()


def load_kernel() -> ctypes.CDLL:
    """The compiled kernel, built on first use; RuntimeError saying why if it cannot be."""
    global _kernel, _failure
    with _lock:
        if _kernel is None and _failure is None:
            try:
                _kernel = _build_and_load()
            except (RuntimeError, OSError) as err:  # OSError: an unwritable cache, a noexec mount
                _failure = str(err)
        if _kernel is None:
            raise RuntimeError(_failure)
        return _kernel


def _build_and_load() -> ctypes.CDLL:
    global COMPILE_SECONDS
    compiler = find_compiler()
    if compiler is None:
        raise RuntimeError("no C compiler found (set $CC or install gcc)")
    version = subprocess.run([compiler, "--version"], capture_output=True, text=True, check=False).stdout
    source = SOURCE.read_bytes()
    errors = []
    for flags in (FLAGS, PORTABLE_FLAGS):
        key = hashlib.sha256(
            b"\0".join([source, " ".join(flags).encode(), version.encode(), _cpu_identity().encode()])
        ).hexdigest()[:20]
        library = cache_dir() / f"cpu_kernel-{key}.so"
        if not library.exists():
            library.parent.mkdir(parents=True, exist_ok=True)
            start = time.perf_counter()
            with tempfile.TemporaryDirectory(dir=library.parent) as tmp:
                built = Path(tmp) / library.name
                done = subprocess.run(
                    [compiler, *flags, "-o", str(built), str(SOURCE)], capture_output=True, text=True, check=False
                )
                if done.returncode != 0:
                    errors.append(f"{' '.join(flags)}: {done.stderr.strip()[:500]}")
                    continue
                os.replace(built, library)  # atomic: concurrent builders never see half a file
            COMPILE_SECONDS = time.perf_counter() - start
        kernel = ctypes.CDLL(str(library))
        kernel.bb_simulate.restype = ctypes.c_int
        kernel.bb_simulate.argtypes = [_i64, _i32, *[_ptr] * 6, _u64, _i64, _i64, _i32, *[_ptr] * 4]
        return kernel
    raise RuntimeError(f"compiling {SOURCE.name} with {compiler} failed: " + "; ".join(errors))


def unavailable_reason(device: torch.device) -> str | None:
    if device.type != "cpu":
        return f"the fused CPU engine runs on the CPU, not on {device.type}"
    try:
        load_kernel()
    except RuntimeError as err:
        return f"the fused CPU engine is unavailable: {err}"
    return None


def unsupported_reason(rule: Rule) -> str | None:
    if not rule.is_seed:
        return f"the fused CPU engine does not run this rule yet ({rule})"
    return None


def simulate(
    batch: Batch,
    *,
    seed: int,
    n_episodes: int,
    steps_per_episode: int,
    record_episodes: bool = True,
    on_progress: Callable[[int], None] | None = None,
    dtype: torch.dtype = torch.float32,
) -> Outcome:
    """Train every bandit of ``batch`` (float32, CPU) for ``n_episodes * steps_per_episode`` steps.

    ``on_progress(n)`` is called once, with all the bandit-steps, when the batch is done.
    """
    kernel = load_kernel()
    n_bandits, n_arms = batch.n_bandits, batch.n_arms
    f32 = lambda t: t.to(torch.float32).contiguous()  # noqa: E731
    win_prob, gap, inv_t, lr = f32(batch.arm_param), f32(batch.arm_gap), f32(batch.inv_temperature), f32(batch.hyper.lr)
    ids = batch.bandit_ids.to(torch.int64).contiguous()
    best = batch.best_arm.to(torch.int64).contiguous()
    n_recorded = n_episodes if record_episodes else 1
    weights = torch.empty(n_bandits, n_arms, dtype=torch.float32)
    episode_rewards = torch.empty(n_bandits, n_recorded, n_arms, dtype=torch.int32)
    episode_p_best = torch.empty(n_bandits, n_episodes, dtype=torch.float32)
    episode_regret = torch.empty(n_bandits, n_episodes, dtype=torch.float32)
    arrays = (win_prob, gap, inv_t, lr, ids, best, weights, episode_rewards, episode_p_best, episode_regret)

    def run(lo: int, hi: int) -> int:
        # pointers to row lo of each (batch-first) array
        p = [a.data_ptr() + lo * a.stride(0) * a.element_size() for a in arrays]
        return kernel.bb_simulate(
            hi - lo, n_arms, *p[:6], seed, n_episodes, steps_per_episode, int(record_episodes), *p[6:]
        )

    if n_bandits == 0:
        return Outcome(weights, episode_rewards.float(), episode_p_best, episode_regret)
    n_threads = max(1, min(torch.get_num_threads(), -(-n_bandits // LANES)))
    per_thread = -(-n_bandits // (n_threads * LANES)) * LANES  # whole SIMD blocks per thread
    bounds = [(lo, min(lo + per_thread, n_bandits)) for lo in range(0, n_bandits, per_thread)]
    if len(bounds) == 1:
        codes = [run(*bounds[0])]
    else:
        with ThreadPoolExecutor(len(bounds)) as pool:
            codes = list(pool.map(lambda b: run(*b), bounds))
    if any(codes):
        raise RuntimeError(f"cpu kernel failed with codes {codes}")
    if on_progress is not None:
        on_progress(n_bandits * n_episodes * steps_per_episode)
    return Outcome(weights, episode_rewards.float(), episode_p_best, episode_regret)
