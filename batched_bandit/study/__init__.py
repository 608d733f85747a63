"""Studies: grids of settings over many bandits, planned as tasks, stored, run anywhere.

Four rooms (python-adaptive, Dask, SQLite): the grid and its axes (axes.py, with random problems
in problems.py); the plan of idempotent tasks (plan.py); executors that run them (executors.py,
task.py: in-process or Dask); the transactional store (store.py: opened by connection.py,
checked by integrity.py, repaired by repair.py; one writer, lock.py; files written safely,
files.py); the reduction to tables and the read API (tables.py). ``sweep`` (sweep.py) joins
them; ``compare`` (paired McNemar tests on the verdicts) and ``threshold`` (an adaptive search
along one axis) answer questions with them.
"""

from .axes import AXES, Setting, grid
from .compare import Comparison, compare
from .executors import Dask, InProcess, dask_client
from .problems import RandomArms, gap_arms, normal_arms, uniform_arms
from .sweep import SweepResult, sweep
from .tables import Study, load_curves, load_rows, load_verdicts
from .tables import open_study as open  # noqa: A004  study.open(out), as sqlite3.connect or zarr.open
from .threshold import Threshold, threshold

__all__ = [
    "AXES", "Comparison", "Dask", "InProcess", "RandomArms", "Setting", "Study", "SweepResult", "Threshold",
    "compare", "dask_client", "gap_arms", "grid", "load_curves", "load_rows", "load_verdicts", "normal_arms", "open",
    "sweep", "threshold", "uniform_arms",
]  # fmt: skip
