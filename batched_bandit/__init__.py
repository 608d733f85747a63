"""batched_bandit: many independent softmax policy-gradient bandits at once, on CPU or GPU."""

from .result import RunResult
from .run import run_batch
from .study import Setting, SweepResult, grid, sweep

__version__ = "0.1.0"
__all__ = ["RunResult", "Setting", "SweepResult", "grid", "run_batch", "sweep", "__version__"]
