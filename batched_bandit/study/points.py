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

from ..schema import OPTIONS
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


def search_folder(out, axis: str, options: dict) -> Path:
    """The search's folder, made with its points/ folder, once ``out`` and ``axis`` are checked:
    ``axis`` is one of POSITIVE_AXES and not among the ``options`` held fixed."""
    if not isinstance(out, (str, os.PathLike)):
        raise TypeError(f"out must be a folder path (str or os.PathLike), got {out!r}")
    if axis not in POSITIVE_AXES:
        raise ValueError(f"axis must be one of {', '.join(POSITIVE_AXES)} (a positive axis searched in log space)")
    if axis in options:
        raise ValueError(f"{axis} is the axis searched: give its range as bounds=(low, high), not {axis}=")
    folder = Path(out)
    make_folder(folder)
    make_folder(folder / "points")  # never through a link planted at out/points
    return folder


def point_folder(folder: Path, axis: str, value: float) -> Path:
    return folder / "points" / f"{axis}={value!r}"


def evaluate(folder: Path, axis: str, value: float, *, n_bandits: int, progress, options: dict) -> SweepResult:
    """The point ``axis = value``: its study, run (or continued, or read back) into its folder."""
    return sweep(point_folder(folder, axis, value), n_bandits=n_bandits, progress=progress, **{axis: value},
                 **options)  # fmt: skip


def run_of(folder: Path, axis: str, value: float) -> dict:
    """The run's parameters of a point (n_bandits, seed, dtype), from its spec."""
    with Study(point_folder(folder, axis, value)) as study:
        return {k: study.spec[k] for k in RUN}


def held(setting: Setting, axis: str) -> dict:
    """What a search along ``axis`` held fixed, JSON-ready: every option that applies to its points."""
    return {k: to_json(v) for k, v in setting.full().items() if k != axis}


def stated(setting: Setting, axis: str, run: dict) -> str:
    """One line: the setting a search along ``axis`` held fixed (the model's parameters, the horizon,
    optimizer, baseline, lr, temperature and every option off its default), the axis searched, the run."""
    fixed = ", ".join(f"{k}={describe_value(v)}" for k, v in setting.stated(omit=(axis,)).items())
    return f"{fixed}; {axis} searched; {run['n_bandits']:,} bandits a point, seed {run['seed']}, {run['dtype']}"
