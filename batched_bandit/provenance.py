"""Provenance: what produced a result — package versions, the Python, the CPU — recorded with
every result (RunResult.scalars(), a study's meta.json and its calls)."""

from __future__ import annotations

import functools
import importlib.metadata
import platform

import numpy as np
import torch


@functools.cache
def versions() -> dict:
    """Versions of what produced a result (matplotlib and triton read without importing them)."""
    from . import __version__

    found = {"batched_bandit": __version__, "torch": torch.__version__, "numpy": np.__version__}
    found["python"] = platform.python_version()
    for package in ("triton", "matplotlib", "tqdm"):
        try:
            found[package] = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            found[package] = None
    return found


@functools.cache
def cpu_name() -> str:
    """The CPU's model name (Linux: /proc/cpuinfo), else what the platform says."""
    try:
        with open("/proc/cpuinfo") as f:
            names = [line.split(":", 1)[1].strip() for line in f if line.startswith("model name")]
        return names[0] if names else platform.processor() or platform.machine()
    except OSError:
        return platform.processor() or platform.machine()
