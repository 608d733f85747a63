"""Where does a metric cross a target? Found adaptively along one positive axis.

The finder brackets the crossing (evaluating the bounds, widening them tenfold when the target is
not between them), then bisects the bracket in log space until the ends are within ``rtol`` of each
other. Each evaluated point is a study of one setting in ``out/points/AXIS=VALUE``, trained on the
same random streams 0..n-1 as every other point (common random numbers, points.py), so neighbouring
points differ by the axis alone and the curve they trace is smooth. Running the same call again
continues it (the points are deterministic given the results).

The metric is any of metrics.py, its mean over the bandits (the success rate by default). The
estimate interpolates it linearly in log(axis) between the two points that bracket the target. Its
95% interval inverts the points' intervals (Wilson for success, normal for the means): it runs
from where the band nearer the target reaches it to where the farther one does (pointwise bands,
interpolated in log(axis)), so it reflects both the bandits' noise and the spacing of the points.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass, field
from pathlib import Path

from ..checks import check_count, check_per_bandit
from ..metrics import METRICS, Metric
from ..metrics import metric as metric_named
from .points import POINT_COLUMNS, POSITIVE_AXES, check_bounds, evaluate, held, point_row, run_of, search_folder, stated
from .setting import Setting
from .tables import to_csv, write_atomic

__all__ = ["POINT_COLUMNS", "POSITIVE_AXES", "Threshold", "threshold"]


@dataclass(frozen=True)
class Threshold:
    """The crossing of ``target`` along ``axis``, with the points evaluated to find it and the
    setting they held fixed."""

    axis: str
    target: float
    estimate: float  # the axis value where the metric's mean crosses the target
    ci: tuple[float, float]  # its 95% interval
    increasing: bool  # whether the metric rises with the axis
    points: list[dict]  # evaluated points sorted by value: POINT_COLUMNS
    out: Path
    metric: str = "success"
    setting: Setting | None = field(default=None, compare=False)  # a point's setting (the axis at its value)
    run: dict = field(default_factory=dict)  # n_bandits, seed, dtype

    @property
    def held(self) -> dict:
        """What the search held fixed: every option that applies to its points, the axis aside."""
        return {} if self.setting is None else held(self.setting, self.axis)

    def stated(self) -> str:
        """The setting the search held fixed, in one line ("" if not known)."""
        return "" if self.setting is None else stated(self.setting, self.axis, self.run)

    def summary(self) -> str:
        low, high = self.ci
        way = "rises" if self.increasing else "falls"
        return (
            f"{METRICS[self.metric].what} {way} through {self.target:g} at {self.axis} = {self.estimate:.4g} "
            f"(95% CI {low:.4g} .. {high:.4g}); {len(self.points)} points of {self.points[0]['n']:,} bandits, "
            f"in {self.out}" + (f"\nsetting: {self.stated()}" if self.setting is not None else "")
        )


def threshold(
    out: str | os.PathLike,
    *,
    axis: str = "temperature",
    metric: str = "success",
    target: float | None = None,
    bounds: tuple[float, float] = (0.01, 10.0),
    rtol: float = 0.02,
    max_points: int = 40,
    n_bandits: int = 10000,
    progress=None,
    **options,
) -> Threshold:
    """Find where the mean of ``metric`` (metrics.py; the success rate by default) crosses ``target``
    (default 0.9 for success; required for the others) along ``axis`` within ``bounds`` (widened up
    to a thousandfold each way when needed). ``options``: the rest of the setting (single values of
    sweep's axes) and sweep's run options (seed, device, backend, dtype, block_bandits)."""
    chosen = metric_named(metric)
    target = _target(chosen, target)
    low, high = check_bounds(bounds)
    rtol = float(check_per_bandit("rtol", rtol, 1, low=0.0, low_open=True)[0])
    max_points = check_count("max_points", max_points)
    folder = search_folder(out, axis, options, low)
    column = chosen.column
    points: dict[float, dict] = {}
    settings: list[Setting] = []

    def at(value: float) -> dict:
        if value not in points:
            if len(points) >= max_points:
                raise ValueError(f"max_points = {max_points} evaluated without bracketing the target to rtol {rtol:g}")
            result = evaluate(folder, axis, value, n_bandits=n_bandits, progress=progress, options=options)
            points[value] = point_row(value, result)
            settings.append(result.settings[0])
        return points[value]

    for value in (low, high):
        at(value)
    for _ in range(3):  # widen tenfold each way until the target lies between two points
        if _bracket(points, target, column) is not None:
            break
        low, high = low / 10, high * 10
        at(low), at(high)
    bracket = _bracket(points, target, column)
    if bracket is None:
        means = [p[column] for p in points.values()]
        raise ValueError(
            f"the {chosen.what} stays {'above' if min(means) >= target else 'below'} {target:g} for {axis} in "
            f"[{min(points):.3g}, {max(points):.3g}] ({chosen.short} {min(means):.4g} .. {max(means):.4g})"
        )
    while bracket[1] / bracket[0] > 1 + rtol:
        at(math.sqrt(bracket[0] * bracket[1]))
        bracket = _bracket(points, target, column)
        assert bracket is not None  # the old bracket's two ends still straddle the target
    ordered = [points[v] for v in sorted(points)]
    increasing = points[bracket[1]][column] >= points[bracket[0]][column]
    estimate = _crossing(ordered, column, target, bracket)
    ci = _interval(ordered, target, increasing, estimate, chosen)
    found = Threshold(axis, target, estimate, ci, increasing, ordered, folder, metric, settings[0],
                      run_of(folder, axis, ordered[0]["value"]))  # fmt: skip
    _write(found)
    return found


def _target(chosen: Metric, target) -> float:
    """The target, strictly inside the values the metric's mean can take; 0.9 for success by default."""
    if target is None:
        if chosen.name != "success":
            raise ValueError(f"target: give the {chosen.what} to cross (only success has a default, 0.9)")
        target = 0.9
    low, high = chosen.span
    return float(check_per_bandit("target", target, 1, low=low, high=high, low_open=True, high_open=True)[0])


def _bracket(points: dict, target: float, column: str) -> tuple[float, float] | None:
    """The first two neighbouring values whose means (``column``) lie on either side of the target."""
    values = sorted(points)
    for x0, x1 in zip(values, values[1:]):
        r0, r1 = points[x0][column], points[x1][column]
        if (r0 < target) != (r1 < target):
            return x0, x1
    return None


def _crossing(ordered: list[dict], column: str, target: float, bracket: tuple[float, float]) -> float:
    """Where ``column`` crosses the target between the bracket's points, linearly in log(value)."""
    p0, p1 = (next(p for p in ordered if p["value"] == x) for x in bracket)
    y0, y1 = p0[column], p1[column]
    share = 0.5 if y1 == y0 else (target - y0) / (y1 - y0)
    share = min(1.0, max(0.0, share))
    return math.exp(math.log(p0["value"]) + share * (math.log(p1["value"]) - math.log(p0["value"])))


def _interval(ordered: list[dict], target: float, increasing: bool, estimate: float,
              chosen: Metric) -> tuple[float, float]:  # fmt: skip
    """Invert the pointwise bands (the metric's 95% intervals): from where the band nearer the target
    reaches it to where the farther one does; an end with no crossing in the points is the last point
    on that side."""

    def first_crossing(column: str) -> float:
        for p0, p1 in zip(ordered, ordered[1:]):
            if (p0[column] < target) != (p1[column] < target):
                return _crossing(ordered, column, target, (p0["value"], p1["value"]))
        return ordered[0]["value"] if (ordered[0][column] >= target) == increasing else ordered[-1]["value"]

    ends = sorted([first_crossing(chosen.ci[1]), first_crossing(chosen.ci[0])])
    return min(ends[0], estimate), max(ends[1], estimate)


def _write(found: Threshold) -> None:
    """threshold.json (the answer, with the setting held fixed) and points.csv (every point) in the folder."""
    summary = {
        "axis": found.axis, "metric": found.metric, "target": found.target, "estimate": found.estimate,
        "ci_low": found.ci[0], "ci_high": found.ci[1], "increasing": found.increasing, "points": len(found.points),
        "setting": found.held, **found.run, "stated": found.stated(),
    }  # fmt: skip
    write_atomic(found.out / "threshold.json", json.dumps(summary, indent=2) + "\n")
    write_atomic(found.out / "points.csv", to_csv(list(POINT_COLUMNS), found.points))
