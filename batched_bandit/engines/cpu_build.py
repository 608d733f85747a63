"""Building the fused CPU engine's kernels: one per learning rule, compiled at first use and cached.

``cpu_kernel.c`` is compiled at first use of each learning rule (``state.Rule``: policy, optimizer,
momentum, baseline, reward model...) with the system C compiler (``$CC``, else ``cc``, ``gcc`` or
``clang``) for this machine (``-O3 -march=native``), with a header generated from schema.py
(``header``) that selects the rule's code and lays out the per-bandit numbers, so each rule's loop
does only its own work and reads each number by name. A run traced every ``record_every`` steps
uses the rule's tracing build (``BB_TRACE``: a second library, built at the first traced run), so
that untraced runs carry none of its code. Builds are cached (cpu_cache.py: checked before loading)
under a hash of the source, the flags, the compiler and the CPU, so later calls and processes load
them in milliseconds. No Python headers, no extra package. The policies other than the gradient
compile ``value_kernel.c`` after cpu_kernel.c in the same build (``sources``: it uses that file's
vectors, Philox stream and normal deviates).
``BATCHED_BANDIT_CPU_ISA=generic`` builds without ``-march=native`` (on x86-64 for the baseline
``-march=x86-64``: no AVX), so the kernel's generic branch, the one of machines without AVX-512
or AVX, runs and is tested anywhere; ``bb_isa()`` says which branch a build compiled.
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
from pathlib import Path

from .. import schema
from ..policies.thompson import P_BEST_DRAWS
from ..rng import POLICY_TAG, THOMPSON_ATTEMPTS, THOMPSON_TAG
from ..state import Rule
from .cpu_cache import cache_dir, cache_name, load_cached, open_cache_folder

SOURCE = Path(__file__).with_name("cpu_kernel.c")
POLICY_SOURCE = Path(__file__).with_name("value_kernel.c")  # the other policies, compiled after SOURCE
FLAGS = ("-O3", "-march=native", "-ffp-contract=off", "-std=c11", "-fPIC", "-shared")
PORTABLE_FLAGS = ("-O3", "-ffp-contract=off", "-std=c11", "-fPIC", "-shared")  # if -march=native fails
ISA_VARIABLE = "BATCHED_BANDIT_CPU_ISA"  # "native" (default) or "generic"
SEED_RULE = Rule()
COMPILE_SECONDS: dict[tuple[Rule, bool], float] = {}  # first-use compiles done in this process, per build

_lock = threading.Lock()
_kernels: dict[tuple[Rule, bool], ctypes.CDLL] = {}  # (rule, trace) -> its build
_failures: dict[tuple[Rule, bool], str] = {}
_paths: dict[tuple[Rule, bool], Path] = {}  # (rule, trace) -> the file its build was loaded from


# Per-bandit numbers as the kernel reads them: schema.ROWS, then 1 - x of some (computed in float64
# and rounded once, as torch.optim computes them from Python floats), each a float row; and the
# numbers Adam's bias corrections are computed from, in double.
COMPLEMENTS = ("dampening", "beta1", "beta2", "alpha", "baseline_decay")
ROWS = (*schema.ROWS, *(f"one_minus_{name}" for name in COMPLEMENTS))
ROWS64 = ("beta1", "beta2")
# bb_batch, the kernel's one argument struct: (field, C type), in order; the generated header
# declares it, KernelBatch mirrors it for ctypes
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


class KernelBatch(ctypes.Structure):
    """cpu_kernel.c's bb_batch (FIELDS)."""

    _fields_ = [(name, ctypes.c_int64 if ctype == "int64_t" else ctypes.c_void_p) for name, ctype in FIELDS]


def header(rule: Rule, trace: bool = False) -> str:
    """The C header generated for ``rule`` from schema.py: the rule's choices as constants, whether
    the build traces runs (BB_TRACE), the row numbers of the per-bandit tables and the bb_batch
    struct. Force-included when compiling."""
    lines = [
        "/* generated by batched_bandit/engines/cpu_build.py from schema.py: do not edit */",
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


def _build_and_load(rule: Rule, trace: bool) -> ctypes.CDLL:
    """Load the cached build of ``rule``'s kernel after checking it, else (or if it is damaged) build it
    once; RuntimeError (one line, naming the file and the fix) if the cache is unsafe or the build fails."""
    compiler = find_compiler()
    if compiler is None:
        raise RuntimeError("no C compiler found (set $CC or install gcc)")
    folder = cache_dir()
    folder_fd = open_cache_folder(folder)
    try:
        errors = []
        for flags, key in builds(rule, compiler, trace):
            kernel, library, damage = load_cached(folder_fd, folder, key)
            if kernel is None:  # none cached, or only damaged ones (now removed): build once
                start = time.perf_counter()
                error = _compile(compiler, rule, trace, flags, key, folder_fd, folder)
                if error:
                    errors.append(error)
                    continue
                COMPILE_SECONDS[rule, trace] = time.perf_counter() - start
                kernel, library, fresh_damage = load_cached(folder_fd, folder, key)
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
    kernel.bb_simulate.argtypes = [ctypes.POINTER(KernelBatch), *[ctypes.c_int64] * 2, ctypes.c_int32,
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
