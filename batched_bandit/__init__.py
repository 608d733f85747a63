"""batched_bandit: many independent softmax policy-gradient bandits at once, on CPU or GPU.

The public names load on first use (PEP 562), so that ``import batched_bandit.schema`` or a Dask
worker unpickling a task does not import the study layer, figures or engines it does not need.
"""

from importlib import import_module

__version__ = "0.2.0"
# public name -> the module that defines it
_EXPORTS = {
    "RunResult": "batched_bandit.result",
    "run_batch": "batched_bandit.run",
    "Setting": "batched_bandit.study",
    "SweepResult": "batched_bandit.study",
    "compare": "batched_bandit.study",
    "grid": "batched_bandit.study",
    "optimum": "batched_bandit.study",
    "sweep": "batched_bandit.study",
    "threshold": "batched_bandit.study",
}
__all__ = [*sorted(_EXPORTS), "__version__"]


def __getattr__(name: str):
    if name in _EXPORTS:
        value = getattr(import_module(_EXPORTS[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'batched_bandit' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *_EXPORTS})
