"""A search's points along one positive axis: each a study of one setting, on shared random numbers.

``threshold`` (search.py) and ``optimum`` (optimum.py) evaluate points along an axis in log space.
Point x is the study ``out/points/AXIS=x`` of the setting with the axis at x and every other option
held fixed, trained on the random streams 0..n-1 of the same seed as every other point (common
random numbers): neighbouring points differ by the axis alone, and their bandits pair up by id. A
point already committed is read back, so a search run again continues where it stopped; each
point's folder has the store's lock, checks and repair of any study.

What a search held fixed is stated with its answer (``held``, ``stated``): every option that
applies, the horizon and the problem included, and the run's seed, bandits and dtype.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from ..checks import check_per_bandit
from ..metrics import METRICS
from ..schema import ALIASES, OPTIONS
from .axes import AXES, grid
from .files import make_folder
from .integrity import to_json
from .selector import describe_value
from .setting import Setting
from .sweep import sweep
from .sweep_result import SweepResult
from .tables import Study

# the axes a search can run along: the numeric options that take positive values (in log space)
POSITIVE_AXES = tuple(o.name for o in OPTIONS.values() if o.kind in ("real", "weights") and o.low <= 0 < o.high)
RUN = ("n_bandits", "seed", "dtype")  # the run's parameters a search states, from a point's spec
# points.csv: each point's value, bandits, successes, and every metric's mean with its 95% interval
POINT_COLUMNS = ("value", "n", "successes", *(c for m in METRICS.values() for c in (m.column, *m.ci)))


def check_bounds(bounds) -> tuple[float, float]:
    """(low, high): where a search looks first, two numbers 0 < low < high."""
    if not isinstance(bounds, (tuple, list)) or len(bounds) != 2:
        raise TypeError(f"bounds must be a pair (low, high), got {bounds!r}")
    low, high = (float(check_per_bandit("bounds", b, 1, low=0.0, low_open=True)[0]) for b in bounds)
    if not low < high:
        raise ValueError(f"bounds must be (low, high) with low < high, got {bounds!r}")
    return low, high


def check_search(axis: str, options: dict, at: float) -> Setting:
    """The setting at ``axis = at`` once ``axis`` is one of POSITIVE_AXES, not among the ``options``
    held fixed, and those name one setting (a single value each); ValueError otherwise."""
    if axis not in POSITIVE_AXES:
        raise ValueError(f"axis must be one of {', '.join(POSITIVE_AXES)} (a positive axis searched in log space)")
    if axis in options:
        raise ValueError(f"{axis} is the axis searched: give its range as bounds=(low, high), not {axis}=")
    settings = grid(**{k: v for k, v in options.items() if k in AXES or k in ALIASES}, **{axis: at})
    if len(settings) != 1:
        several = [k for k in AXES if len({s.get(k) for s in settings}) > 1]
        raise ValueError(f"a search holds every other option at one value: {', '.join(several)} "
                         f"{'has' if len(several) == 1 else 'have'} several ({len(settings)} settings)")  # fmt: skip
    return settings[0]


def search_folder(out, axis: str, options: dict, at: float, points: bool = True) -> Path:
    """The search's folder, made with its points/ folder (``points``), once ``out`` and the search are
    checked (check_search)."""
    if not isinstance(out, (str, os.PathLike)):
        raise TypeError(f"out must be a folder path (str or os.PathLike), got {out!r}")
    check_search(axis, options, at)
    folder = Path(out)
    make_folder(folder)
    if points:
        make_folder(folder / "points")  # never through a link planted at out/points
    return folder


def point_folder(folder: Path, axis: str, value: float) -> Path:
    return folder / "points" / f"{axis}={value!r}"


def evaluate(folder: Path, axis: str, value: float, *, n_bandits: int, progress, options: dict) -> SweepResult:
    """The point ``axis = value``: its study, run (or continued, or read back) into its folder."""
    searched: dict[str, Any] = {axis: value}
    return sweep(point_folder(folder, axis, value), n_bandits=n_bandits, progress=progress, **searched,
                 **options)  # fmt: skip


def point_row(value: float, result: SweepResult) -> dict:
    """A point's row of points.csv from its study."""
    return {"value": value, **{k: result.rows[0][k] for k in POINT_COLUMNS[1:]}}


def paired_values(folder: Path, axis: str, values: list[float], metric: str) -> np.ndarray:
    """Each point's bandits' values of ``metric``, (points, bandits) float64: the blocks every point has
    committed, in block order, so column j is the same bandit (the same random streams) at every point."""
    blocks = []
    for value in values:
        with Study(point_folder(folder, axis, value)) as study:
            blocks.append(study.metric_blocks(0, metric))
    common = sorted(set.intersection(*(set(b) for b in blocks)))
    return np.stack([np.concatenate([b[k] for k in common]).astype(np.float64) for b in blocks])


def run_of(folder: Path, axis: str, value: float) -> dict:
    """The run's parameters of a point (n_bandits, seed, dtype), from its spec."""
    with Study(point_folder(folder, axis, value)) as study:
        return {k: study.spec[k] for k in RUN}


def held(setting: Setting, axis: str) -> dict:
    """What a search along ``axis`` held fixed, JSON-ready: every option that applies to its points."""
    return {k: to_json(v) for k, v in setting.full().items() if k != axis}


def stated(setting: Setting, axis: str, run: dict, by: str | None = None) -> str:
    """One line: the setting a search along ``axis`` held fixed (the model's parameters, the horizon,
    optimizer, baseline, lr, temperature and every option off its default), the axis searched (and
    ``by``, the axis whose values make the rows of a table of searches), the run."""
    omit = (axis,) if by is None else (axis, by)
    fixed = ", ".join(f"{k}={describe_value(v)}" for k, v in setting.stated(omit=omit).items())
    varied = f"{axis} searched" + (f", {by} by row" if by else "")
    return f"{fixed}; {varied}; {run['n_bandits']:,} bandits a point, seed {run['seed']}, {run['dtype']}"
