"""Engines run the time loop of a batch of bandits; they share the random stream and the step.

Every engine module has ``simulate`` with the signature of
:func:`batched_bandit.engines.torch_engine.simulate`, gives each bandit the same trajectory up to
float rounding at a sampling boundary, and ``unavailable_reason(device) -> str | None`` saying why
it cannot run here (a missing package or compiler), or None.
"""

from __future__ import annotations

import importlib

import torch

# name -> (module, devices it runs on, dtypes it supports)
BACKENDS = {
    "torch": ("batched_bandit.engines.torch_engine", ("cpu", "cuda"), (torch.float32, torch.float64)),
    "cpu": ("batched_bandit.engines.cpu_engine", ("cpu",), (torch.float32,)),
    # on the CPU only under Triton's interpreter (TRITON_INTERPRET=1), for tests
    "triton": ("batched_bandit.engines.triton_engine", ("cpu", "cuda"), (torch.float32,)),
}
# the most arms an engine supports, where it has a limit
MAX_ARMS = {"cpu": 64, "triton": 64}
# what "auto" tries, in order, per device type
PREFERENCE = {"cuda": ("triton", "torch"), "cpu": ("cpu", "torch")}


def _module(backend: str):
    return importlib.import_module(BACKENDS[backend][0])


def unavailable_reason(backend: str, device: torch.device, dtype: torch.dtype, n_arms: int = 2) -> str | None:
    """Why ``backend`` cannot run ``n_arms``-armed bandits on ``device`` with ``dtype``, or None."""
    module_name, devices, dtypes = BACKENDS[backend]
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
    return module.unavailable_reason(device)


def resolve_backend(backend: str, device: torch.device, dtype: torch.dtype, n_arms: int = 2) -> str:
    """The engine for ``backend`` ("auto" or a name in BACKENDS) for ``n_arms``-armed bandits on
    ``device``; ValueError if none can run them."""
    if dtype not in (torch.float32, torch.float64):
        raise ValueError(f"dtype must be torch.float32 or torch.float64, got {dtype!r}")
    if backend == "auto":
        for name in PREFERENCE[device.type]:
            if unavailable_reason(name, device, dtype, n_arms) is None:
                return name
        raise ValueError(f"no backend can run on {device.type} with {dtype}")
    if backend not in BACKENDS:
        raise ValueError(f'backend must be "auto" or one of {sorted(BACKENDS)}, got {backend!r}')
    reason = unavailable_reason(backend, device, dtype, n_arms)
    if reason is not None:
        raise ValueError(reason)
    return backend


def get(backend: str):
    """The ``simulate`` function of a backend."""
    return _module(backend).simulate


def default_chunk_size(backend: str, device: torch.device) -> int:
    """Bandits per chunk: big enough to keep the device busy, small enough for its memory."""
    if backend == "cpu":
        return 2**15  # the fused engine reports progress once per chunk
    if backend == "triton" and device.type == "cuda":
        return 2**21  # one launch per chunk: 16,384 programs of 128 bandits, many waves on any GPU
    return 2**20 if device.type == "cuda" else 2**16
