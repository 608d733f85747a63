"""What every test file shares: the engines to run, the rule table, small helpers.

Engines. ``FAST_BACKENDS`` are the engines quick enough on a CPU for statistical tests ("torch",
"cpu"); parametrize over it. For any other use, call ``need(backend, ...)`` at the top of a test
(or of a module, with ``module=True``) before using an engine. An engine that cannot run here (no
C compiler, no triton, a kernel that does not build) is *skipped*, with its reason, unless
``$BATCHED_BANDIT_REQUIRE`` names it (a comma list: ``cpu``, ``triton``): then it is a *failure*.
CI sets ``BATCHED_BANDIT_REQUIRE=cpu,triton``, so a broken engine can never pass as skipped. Other
skips are narrow and say why: a missing optional package (``importorskip``), CUDA or an x86 CPU
that a test is about; no test turns an exception into a skip.

The fused CPU engine is built for this machine (``-march=native``); ``BATCHED_BANDIT_CPU_ISA=generic``
builds its generic (no AVX) branch instead, and CI runs the engine tests a second time so. The
header of a pytest run says which engines run, which branch the kernel took, and what is required.

Rules. ``tests/rules.py`` is the one table of learning rules (name -> run_batch options) that
tests and benchmarks share: ``from rules import RULES, ENGINE_CASES, options``; pick names from it
rather than writing a new table, and add a rule there when a new code path needs one.
"""

import os

import pytest
import torch

# Without CUDA, the Triton kernel is tested on the CPU under Triton's interpreter. Triton reads
# TRITON_INTERPRET when it is imported, so set it before any test module can import it.
if not torch.cuda.is_available():
    os.environ.setdefault("TRITON_INTERPRET", "1")

from batched_bandit.engines import BACKENDS, SEED_RULE, unavailable_reason  # noqa: E402
from batched_bandit.options import make_setup  # noqa: E402
from batched_bandit.problem import SEED_ARMS  # noqa: E402
from batched_bandit.study import InProcess  # noqa: E402

REQUIRE_VARIABLE = "BATCHED_BANDIT_REQUIRE"
CPU = torch.device("cpu")


def required_engines() -> frozenset[str]:
    """The engines $BATCHED_BANDIT_REQUIRE names; an unknown name is a usage error, not ignored."""
    names = {n.strip() for n in os.environ.get(REQUIRE_VARIABLE, "").split(",") if n.strip()}
    unknown = sorted(names - set(BACKENDS))
    if unknown:
        raise pytest.UsageError(f"{REQUIRE_VARIABLE} names unknown engines {unknown}; known: {sorted(BACKENDS)}")
    return frozenset(names)


REQUIRED = required_engines()


def need(backend, device=CPU, n_arms=2, rule=SEED_RULE, module=False) -> None:
    """Skip the calling test (or module) if ``backend`` cannot run here; fail if it is required."""
    reason = unavailable_reason(backend, torch.device(device), torch.float32, n_arms, rule)
    if reason is None:
        return
    if backend in REQUIRED:
        pytest.fail(f"{REQUIRE_VARIABLE} requires {backend!r}: {reason}", pytrace=False)
    pytest.skip(reason, allow_module_level=module)


def _engine_param(backend):
    """``backend`` as a parameter: skipped with its reason when it cannot run here, unless required
    (then the test runs and fails on run_batch's ValueError, which names the reason)."""
    reason = unavailable_reason(backend, CPU, torch.float32)
    if reason is None or backend in REQUIRED:
        return backend
    return pytest.param(backend, marks=pytest.mark.skip(reason=reason))


FAST_BACKENDS = [_engine_param(b) for b in ("torch", "cpu")]


def pytest_report_header(config):
    from batched_bandit.engines import cpu_build

    isa = os.environ.get(cpu_build.ISA_VARIABLE) or "native"
    try:
        built = cpu_build.load_kernel().bb_isa().decode()
    except RuntimeError as err:  # reported, not hidden: the tests that need the engine skip or fail
        built = f"unavailable ({err})"
    required = ",".join(sorted(REQUIRED)) or "none"
    return f"batched_bandit: fused CPU kernel {built} ({cpu_build.ISA_VARIABLE}={isa}); {REQUIRE_VARIABLE}={required}"


def seed_batch(n_bandits, *, arms=SEED_ARMS, temperature=10.0, lr=0.01, first_id=0, **options):
    """A CPU Batch of ``n_bandits`` bandits with ids first_id.. (the run.py path)."""
    ids = torch.arange(first_id, first_id + n_bandits)
    return make_setup(n_bandits, ids, arms=arms, temperature=temperature, lr=lr, **options).batch


class TextSink(list):
    """A non-terminal text stream that keeps what is written, for progress output."""

    def isatty(self):
        return False

    def write(self, text):
        self.append(text)

    def flush(self):
        pass


class Interrupted(InProcess):
    """A study's executor: Ctrl-C after ``after`` committed tasks, one task per engine batch."""

    def __init__(self, after):
        super().__init__(fuse_elements=1)
        self.left = after

    def run(self, jobs, on_result, on_steps=None):
        def commit_then_count(job, result):
            on_result(job, result)
            self.left -= 1
            if self.left == 0:
                raise KeyboardInterrupt

        super().run(jobs, commit_then_count, on_steps)
