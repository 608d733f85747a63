"""batched_bandit: many independent softmax policy-gradient bandits at once, on CPU or GPU."""

from .run import RunResult, run_batch

__version__ = "0.1.0"
__all__ = ["RunResult", "run_batch", "__version__"]
