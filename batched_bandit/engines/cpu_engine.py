"""The fused CPU engine: the whole time loop in C, vectorised across bandits, one thread per core.

``cpu_kernel.c`` is compiled at first use of each learning rule (``state.Rule``: optimizer,
momentum, baseline, reward model...) with the system C compiler (``$CC``, else ``cc``, ``gcc`` or
``clang``) for this machine (``-O3 -march=native``), with ``-D`` flags that select the rule's code,
so each rule's loop does only its own work. Builds are cached in ``$BATCHED_BANDIT_CACHE``
(default ``~/.cache/batched_bandit``) under a hash of the source, the flags, the compiler and the
CPU, so later calls and processes load them in milliseconds. No Python headers, no extra package.
Without a compiler, ``backend="auto"`` falls back to the portable engine.
``BATCHED_BANDIT_CPU_ISA=generic`` builds without ``-march=native`` (on x86-64 for the baseline
``-march=x86-64``: no AVX), so the kernel's generic branch, the one of machines without AVX-512
or AVX, runs and is tested anywhere; ``bb_isa()`` says which branch a build compiled.

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
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, wait
from pathlib import Path

import torch

from ..optimizers import one_minus
from ..state import Batch, Outcome, Rule

SOURCE = Path(__file__).with_name("cpu_kernel.c")
FLAGS = ("-O3", "-march=native", "-ffp-contract=off", "-std=c11", "-fPIC", "-shared")
PORTABLE_FLAGS = ("-O3", "-ffp-contract=off", "-std=c11", "-fPIC", "-shared")  # if -march=native fails
ISA_VARIABLE = "BATCHED_BANDIT_CPU_ISA"  # "native" (default) or "generic"
LANES = 16  # threads get whole multiples of the kernel's SIMD block (8 or 16 bandits)
POLL_SECONDS = 0.2  # how often the calling thread reports progress while the kernel runs
SEED_RULE = Rule()
COMPILE_SECONDS: dict[Rule, float] = {}  # first-use compiles done in this process, per rule

_lock = threading.Lock()
_kernels: dict[Rule, ctypes.CDLL] = {}
_failures: dict[Rule, str] = {}


class _Batch(ctypes.Structure):
    """cpu_kernel.c's bb_batch: pointers to row 0 of each (batch-first) array."""

    _fields_ = [
        (name, ctypes.c_void_p)
        for name in (
            "arm_param",
            "arm_gap",
            "init_weights",
            "inv_t",
            "lr",
            "win",
            "loss",
            "reward_sd",
            "momentum",
            "weight_decay",
            "beta2",
            "alpha",
            "eps",
            "baseline_decay",
            "one_minus_dampening",
            "one_minus_beta1",
            "one_minus_beta2",
            "one_minus_alpha",
            "one_minus_decay",
            "beta1_f64",
            "beta2_f64",
            "bandit_ids",
            "best_arm",
            "weights",
            "episode_rewards",
            "episode_p_best",
            "episode_regret",
            "progress",
            "cancel",
        )  # fmt: skip
    ]


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


def rule_defines(rule: Rule) -> tuple[str, ...]:
    """The -D flags that compile cpu_kernel.c for ``rule`` (all zero: the seed's rule)."""
    values = {
        "BB_OPTIMIZER": ("sgd", "adam", "rmsprop").index(rule.optimizer),
        "BB_MOMENTUM": int(rule.momentum),
        "BB_NESTEROV": int(rule.nesterov),
        "BB_CENTERED": int(rule.centered),
        "BB_WEIGHT_DECAY": int(rule.weight_decay),
        "BB_BASELINE": ("none", "mean", "ema").index(rule.baseline),
        "BB_GAUSSIAN": int(rule.rewards == "gaussian"),
    }
    return tuple(f"-D{name}={value}" for name, value in values.items())


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


def load_kernel(rule: Rule = SEED_RULE) -> ctypes.CDLL:
    """The kernel compiled for ``rule``, built on first use; RuntimeError saying why if it cannot be."""
    with _lock:
        if rule not in _kernels and rule not in _failures:
            try:
                _kernels[rule] = _build_and_load(rule)
            except (RuntimeError, OSError) as err:  # OSError: an unwritable cache, a noexec mount
                _failures[rule] = str(err)
        if rule not in _kernels:
            raise RuntimeError(_failures[rule])
        return _kernels[rule]


def _build_and_load(rule: Rule) -> ctypes.CDLL:
    compiler = find_compiler()
    if compiler is None:
        raise RuntimeError("no C compiler found (set $CC or install gcc)")
    version = subprocess.run([compiler, "--version"], capture_output=True, text=True, check=False).stdout
    source = SOURCE.read_bytes()
    errors = []
    for flags in flag_sets():
        flags = (*flags, *rule_defines(rule))
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
                    [compiler, *flags, "-o", str(built), str(SOURCE), "-lm"],
                    capture_output=True,
                    text=True,
                    check=False,
                )
                if done.returncode != 0:
                    errors.append(f"{' '.join(flags)}: {done.stderr.strip()[:500]}")
                    continue
                os.replace(built, library)  # atomic: concurrent builders never see half a file
            COMPILE_SECONDS[rule] = time.perf_counter() - start
        kernel = ctypes.CDLL(str(library))
        kernel.bb_simulate.restype = ctypes.c_int
        kernel.bb_isa.restype = ctypes.c_char_p
        kernel.bb_simulate.argtypes = [ctypes.POINTER(_Batch), *[ctypes.c_int64] * 2, ctypes.c_int32,
                                       ctypes.c_uint64, *[ctypes.c_int64] * 2, ctypes.c_int32]  # fmt: skip
        kernel.bb_normals.argtypes = [ctypes.c_int64, ctypes.c_void_p, ctypes.c_void_p]
        kernel.bb_philox.argtypes = [ctypes.c_int64, ctypes.c_void_p, ctypes.c_uint64, ctypes.c_uint64, ctypes.c_void_p]
        kernel.bb_mean_field.restype = ctypes.c_int
        kernel.bb_mean_field.argtypes = [ctypes.c_int64, ctypes.c_int32, *[ctypes.c_void_p] * 9, ctypes.c_int64,
                                         ctypes.c_int64, ctypes.c_void_p]  # fmt: skip
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
    """Every rule runs; its kernel is built here, at first use, so that a run's timing excludes it
    and a failed build falls back like a missing compiler."""
    try:
        load_kernel(rule)
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
    on_progress: Callable[[int], None] | None = None,
    dtype: torch.dtype = torch.float32,
) -> Outcome:
    """Train every bandit of ``batch`` (float32, CPU) for ``n_episodes * steps_per_episode`` steps.

    ``on_progress(n)`` is called from this thread about every ``POLL_SECONDS`` with the bandit-steps
    done since the last call; the calls add up to all of them.
    """
    kernel = load_kernel(batch.rule)
    n_bandits, n_arms = batch.n_bandits, batch.n_arms
    n_recorded = n_episodes if record_episodes else 1
    f32 = lambda t: t.to(torch.float32).contiguous()  # noqa: E731
    complement = lambda t: one_minus(t, torch.float32).contiguous()  # noqa: E731
    h = batch.hyper
    inputs = {
        "arm_param": f32(batch.arm_param), "arm_gap": f32(batch.arm_gap), "init_weights": f32(batch.init_weights),
        "inv_t": f32(batch.inv_temperature), "lr": f32(h.lr), "win": f32(batch.win), "loss": f32(batch.loss),
        "reward_sd": f32(batch.reward_sd), "momentum": f32(h.momentum), "weight_decay": f32(h.weight_decay),
        "beta2": f32(h.beta2), "alpha": f32(h.alpha), "eps": f32(h.eps), "baseline_decay": f32(h.baseline_decay),
        "one_minus_dampening": complement(h.dampening), "one_minus_beta1": complement(h.beta1),
        "one_minus_beta2": complement(h.beta2), "one_minus_alpha": complement(h.alpha),
        "one_minus_decay": complement(h.baseline_decay),
        "beta1_f64": h.beta1.double().contiguous(), "beta2_f64": h.beta2.double().contiguous(),
        "bandit_ids": batch.bandit_ids.long().contiguous(), "best_arm": batch.best_arm.long().contiguous(),
    }  # fmt: skip
    outputs = {
        "weights": torch.empty(n_bandits, n_arms, dtype=torch.float32),
        "episode_rewards": torch.empty(n_bandits, n_recorded, n_arms, dtype=torch.float32),
        "episode_p_best": torch.empty(n_bandits, n_episodes, dtype=torch.float32),
        "episode_regret": torch.empty(n_bandits, n_episodes, dtype=torch.float32),
    }
    outcome = Outcome(**outputs)
    if n_bandits == 0:
        return outcome
    progress = _Progress(on_progress)
    arrays = {**inputs, **outputs, "progress": progress.counter, "cancel": progress.cancel}
    assert sorted(arrays) == sorted(name for name, _ in _Batch._fields_)  # no pointer left NULL
    args = _Batch(**{name: tensor.data_ptr() for name, tensor in arrays.items()})

    def run(lo: int, hi: int) -> int:
        return kernel.bb_simulate(
            ctypes.byref(args), lo, hi, n_arms, seed, n_episodes, steps_per_episode, int(record_episodes)
        )

    n_threads = max(1, min(torch.get_num_threads(), -(-n_bandits // LANES)))
    per_thread = -(-n_bandits // (n_threads * LANES)) * LANES  # whole SIMD blocks per thread
    bounds = [(lo, min(lo + per_thread, n_bandits)) for lo in range(0, n_bandits, per_thread)]
    codes = progress.run_threads(run, bounds)  # even one slice: this thread stays free to poll
    if any(codes):
        raise RuntimeError(f"cpu kernel failed with codes {codes}")
    progress.report()
    return outcome


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
