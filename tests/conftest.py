import os

import torch

# Without CUDA, the Triton kernel is tested on the CPU under Triton's interpreter. Triton reads
# TRITON_INTERPRET when it is imported, so set it before any test module can import it.
if not torch.cuda.is_available():
    os.environ.setdefault("TRITON_INTERPRET", "1")

from batched_bandit.engines import unavailable_reason
from batched_bandit.options import make_setup
from batched_bandit.problem import SEED_ARMS
from batched_bandit.study import InProcess

# the engines quick enough on this CPU for statistical tests (Triton's interpreter is not)
FAST_BACKENDS = [b for b in ("torch", "cpu") if unavailable_reason(b, torch.device("cpu"), torch.float32) is None]


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
