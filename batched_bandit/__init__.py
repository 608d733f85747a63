"""batched_bandit: many independent softmax policy-gradient bandits at once, on CPU or GPU."""

from .result import RunResult
from .run import run_batch
from .study import Setting, SweepResult, compare, grid, sweep, threshold

__version__ = "0.2.0"
__all__ = ["RunResult", "Setting", "SweepResult", "compare", "grid", "run_batch", "sweep", "threshold", "__version__"]
