"""Engines run the time loop of a batch of bandits; they share the random stream and the step.

Every engine module has ``simulate`` with the signature of
:func:`batched_bandit.engines.torch_engine.simulate`, gives each bandit the same trajectory up to
float rounding at a sampling boundary, ``unavailable_reason(device) -> str | None`` saying why it
cannot run here (a missing package or compiler), and ``unsupported_reason(rule, trace) -> str | None``
(``trace``: traced every record_every steps, as state.Outcome says).
``on_progress(n)`` callbacks receive bandit-steps done since the last call.
"""

from __future__ import annotations

import importlib
import warnings

import torch

from ..state import Rule

# name -> (module, devices it runs on, dtypes it supports)
BACKENDS = {
    "torch": ("batched_bandit.engines.torch_engine", ("cpu", "cuda"), (torch.float32, torch.float64)),
    "cpu": ("batched_bandit.engines.cpu_engine", ("cpu",), (torch.float32,)),
    # on the CPU only under Triton's interpreter (TRITON_INTERPRET=1), for tests
    "triton": ("batched_bandit.engines.triton_engine", ("cpu", "cuda"), (torch.float32,)),
}
# the most arms an engine supports, where it has a limit
MAX_ARMS = {"cpu": 64, "triton": 64}
SEED_RULE = Rule()
# what "auto" tries, in order, per device type; the first is the fused engine "auto" hopes for
PREFERENCE = {"cuda": ("triton", "torch"), "cpu": ("cpu", "torch")}


class SlowerEngineWarning(UserWarning):
    """``backend="auto"`` could not use the fused engine and fell back to the portable one."""


def _module(backend: str):
    return importlib.import_module(BACKENDS[backend][0])


def unavailable_reason(
    backend: str,
    device: torch.device,
    dtype: torch.dtype,
    n_arms: int = 2,
    rule: Rule = SEED_RULE,
    trace: bool = False,
) -> str | None:
    """Why ``backend`` cannot run ``n_arms``-armed bandits under ``rule`` on ``device`` with ``dtype``, or None.
    ``trace``: runs traced every record_every steps (every engine traces; the fused CPU engine builds
    its tracing kernel here, at first use, outside a run's timing)."""
    _, devices, dtypes = BACKENDS[backend]
    if n_arms > MAX_ARMS.get(backend, n_arms):
        return f"backend {backend!r} supports at most {MAX_ARMS[backend]} arms, got {n_arms}"
    if device.type not in devices:
        return f"backend {backend!r} runs on {' or '.join(devices)}, not on {device.type}"
    if dtype not in dtypes:
        return f"backend {backend!r} supports dtype {', '.join(str(d) for d in dtypes)}, not {dtype}"
    try:
        module = _module(backend)
    except ImportError as err:
        return f"backend {backend!r} cannot be imported: {err}"
    return module.unsupported_reason(rule, trace) or module.unavailable_reason(device)


def resolve_backend(
    backend: str,
    device: torch.device,
    dtype: torch.dtype,
    n_arms: int = 2,
    rule: Rule = SEED_RULE,
    trace: bool = False,
) -> str:
    """The engine for ``backend`` ("auto" or a name in BACKENDS); ValueError if none can run the job.

    "auto" picks the first engine of PREFERENCE that can; when that is not the device's fused
    engine, it warns once (SlowerEngineWarning) with the reason, unless the reason is the dtype
    (float64 is a choice, not an accident).
    """
    if dtype not in (torch.float32, torch.float64):
        raise ValueError(f"dtype must be torch.float32 or torch.float64, got {dtype!r}")
    if backend == "auto":
        reasons: dict[str, str] = {}
        for name in PREFERENCE[device.type]:
            reason = unavailable_reason(name, device, dtype, n_arms, rule, trace)
            if reason is None:
                fused = PREFERENCE[device.type][0]
                if name != fused and dtype in BACKENDS[fused][2]:
                    _warn_once(f"using the portable torch engine, 10-100x slower: {reasons[fused]}")
                return name
            reasons[name] = reason
        raise ValueError(f"no backend can run on {device.type} with {dtype}: {'; '.join(reasons.values())}")
    if not isinstance(backend, str) or backend not in BACKENDS:
        raise ValueError(f'backend must be "auto" or one of {sorted(BACKENDS)}, got {backend!r}')
    reason = unavailable_reason(backend, device, dtype, n_arms, rule, trace)
    if reason is not None:
        raise ValueError(reason)
    return backend


_warned: set[str] = set()


def _warn_once(message: str) -> None:
    if message not in _warned:
        _warned.add(message)
        warnings.warn(message, SlowerEngineWarning, stacklevel=4)


def get(backend: str):
    """The ``simulate`` function of a backend."""
    return _module(backend).simulate


MAX_CHUNK_ELEMENTS = 2**22  # bandits x arms per chunk: a (K, chunk) float32 tensor is at most 16 MiB


def default_chunk_size(backend: str, device: torch.device, n_arms: int = 4) -> int:
    """Bandits per chunk: big enough to keep the device busy, small enough for its memory."""
    if backend == "triton" and device.type == "cuda":
        return 2**21  # one launch per chunk: 16,384 programs of 128 bandits, many waves on any GPU
    if backend == "cpu":
        return 2**16  # the fused engine keeps a bandit's state in registers: no (K, chunk) tensors
    wanted = 2**20 if device.type == "cuda" else 2**16
    return max(1, min(wanted, (MAX_CHUNK_ELEMENTS * (4 if device.type == "cuda" else 1)) // n_arms))


def resolve_device(device) -> torch.device:
    """ "auto" (CUDA when present, else CPU), "cpu", "cuda" or "cuda:N" -> torch.device."""
    if isinstance(device, str) and device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        resolved = torch.device(device)
    except (RuntimeError, TypeError) as err:
        raise ValueError(f'device must be "auto", "cpu", "cuda" or "cuda:N", got {device!r}') from err
    if resolved.type == "cpu":
        return resolved
    if resolved.type != "cuda":
        raise ValueError(f'device must be "auto", "cpu", "cuda" or "cuda:N", got {device!r}')
    if not torch.cuda.is_available():
        raise ValueError(f"device {device!r} asked for, but CUDA is not available on this machine")
    if resolved.index is not None and resolved.index >= torch.cuda.device_count():
        raise ValueError(f"device {device!r}: CUDA devices are 0..{torch.cuda.device_count() - 1}")
    return resolved


def describe_device(device: torch.device) -> str:
    """ "cpu" or e.g. "cuda:0 (NVIDIA H100 80GB HBM3)"."""
    if device.type == "cuda":
        index = device.index if device.index is not None else torch.cuda.current_device()
        return f"cuda:{index} ({torch.cuda.get_device_name(index)})"
    return "cpu"
