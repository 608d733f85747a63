"""Studies: grids of settings over many bandits, planned as tasks, stored, run anywhere.

Four rooms (python-adaptive, Dask, SQLite): the grid and its axes (axes.py, with random problems
in problems.py); the plan of idempotent tasks (plan.py); executors that run them (executors.py,
task.py: in-process or Dask); the transactional store (store.py: opened by connection.py,
checked by integrity.py, repaired by repair.py; one writer, lock.py; files written safely,
files.py); the reduction to tables and the read API (tables.py). ``sweep`` (sweep.py) joins
them; ``compare`` (paired.py: paired tests of any metric, McNemar's on the verdicts, the settings
named as typed in selector.py), ``threshold`` (search.py: where a metric crosses a target) and
``optimum`` (optimum.py: where a metric is best), adaptive searches along one axis whose points
are studies (points.py), answer questions with them.
"""

from ..random_arms import RandomArms, gap_arms, normal_arms, uniform_arms
from .axes import AXES, Setting, grid
from .executors import Dask, InProcess, dask_client
from .optimum import Optima, Optimum, optimum
from .paired import Comparison, MetricComparison, compare
from .search import Threshold, threshold
from .sweep import SweepResult, sweep
from .tables import Study, load_curves, load_rows, load_verdicts, open_study

open = open_study  # noqa: A001  the name of 0.2 (not exported: it would shadow the builtin on import *)

__all__ = [
    "AXES", "Comparison", "Dask", "InProcess", "MetricComparison", "Optima", "Optimum", "RandomArms", "Setting",
    "Study", "SweepResult", "Threshold", "compare", "dask_client", "gap_arms", "grid", "load_curves", "load_rows",
    "load_verdicts", "normal_arms", "open_study", "optimum", "sweep", "threshold", "uniform_arms",
]  # fmt: skip
