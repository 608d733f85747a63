"""Engines run the time loop of a batch of bandits; they share the random stream and the step.

Every engine has the signature of :func:`batched_bandit.engines.torch_engine.simulate` and gives
each bandit the same trajectory up to float rounding at a sampling boundary.
"""

from __future__ import annotations

import importlib

import torch

# name -> (module, devices it runs on, dtypes it supports)
BACKENDS = {
    "torch": ("batched_bandit.engines.torch_engine", ("cpu", "cuda"), (torch.float32, torch.float64)),
}


def resolve_backend(backend: str, device: torch.device, dtype: torch.dtype) -> str:
    """The engine for ``backend`` ("auto" or a name in BACKENDS) on ``device``; ValueError if none."""
    if dtype not in (torch.float32, torch.float64):
        raise ValueError(f"dtype must be torch.float32 or torch.float64, got {dtype!r}")
    if backend == "auto":
        backend = "torch"
    if backend not in BACKENDS:
        raise ValueError(f'backend must be "auto" or one of {sorted(BACKENDS)}, got {backend!r}')
    _, devices, dtypes = BACKENDS[backend]
    if device.type not in devices:
        raise ValueError(f"backend {backend!r} runs on {' or '.join(devices)}, not on {device.type}")
    if dtype not in dtypes:
        allowed = ", ".join(str(d) for d in dtypes)
        raise ValueError(f"backend {backend!r} supports dtype {allowed}, not {dtype}")
    return backend


def get(backend: str):
    """The ``simulate`` function of a backend."""
    return importlib.import_module(BACKENDS[backend][0]).simulate


def default_chunk_size(backend: str, device: torch.device) -> int:
    """Bandits per chunk: big enough to keep the device busy, small enough for its memory."""
    return 2**20 if device.type == "cuda" else 2**16
