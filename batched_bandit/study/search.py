"""Where does the success rate cross a target? Found adaptively along one positive axis.

The finder brackets the crossing (evaluating the bounds, widening them tenfold when the target is
not between them), then bisects the bracket in log space until the ends are within ``rtol`` of each
other. Each evaluated point is a study of one setting in ``out/points/AXIS=VALUE``, trained on the
same random streams 0..n-1 as every other point (common random numbers), so neighbouring points
differ by the axis alone and the success curve they trace is smooth. Running the same call again
continues it (the points are deterministic given the results).

The estimate interpolates the success rate linearly in log(axis) between the two points that
bracket the target. Its 95% interval inverts the points' Wilson intervals: it runs from where the
upper band reaches the target to where the lower band does (pointwise bands, interpolated in
log(axis)), so it reflects both the bandits' noise and the spacing of the points.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..checks import check_count, check_per_bandit
from ..schema import OPTIONS
from .files import make_folder
from .sweep import sweep
from .tables import to_csv, write_atomic

# the axes a search can run along: the numeric options that take positive values (in log space)
POSITIVE_AXES = tuple(o.name for o in OPTIONS.values() if o.kind in ("real", "weights") and o.low <= 0 < o.high)
POINT_COLUMNS = ("value", "n", "successes", "success_rate", "ci_low", "ci_high", "mean_final_p_best")


@dataclass(frozen=True)
class Threshold:
    """The crossing of ``target`` along ``axis``, with the points evaluated to find it."""

    axis: str
    target: float
    estimate: float  # the axis value where the success rate crosses the target
    ci: tuple[float, float]  # its 95% interval
    increasing: bool  # whether success rises with the axis
    points: list[dict]  # evaluated points sorted by value: value, n, successes, success_rate, ci_low, ci_high
    out: Path

    def summary(self) -> str:
        low, high = self.ci
        way = "rises" if self.increasing else "falls"
        return (
            f"success rate {way} through {self.target:g} at {self.axis} = {self.estimate:.4g} "
            f"(95% CI {low:.4g} .. {high:.4g}); {len(self.points)} points of {self.points[0]['n']:,} bandits, "
            f"in {self.out}"
        )


def threshold(
    out: str | os.PathLike,
    *,
    axis: str = "temperature",
    target: float = 0.9,
    bounds: tuple[float, float] = (0.01, 10.0),
    rtol: float = 0.02,
    max_points: int = 40,
    n_bandits: int = 10000,
    progress=None,
    **options,
) -> Threshold:
    """Find where the success rate crosses ``target`` along ``axis`` within ``bounds`` (widened up
    to a thousandfold each way when needed). ``options``: the rest of the setting (single values of
    sweep's axes) and sweep's run options (seed, device, backend, dtype, block_bandits)."""
    if not isinstance(out, (str, os.PathLike)):
        raise TypeError(f"out must be a folder path (str or os.PathLike), got {out!r}")
    if axis not in POSITIVE_AXES:
        raise ValueError(f"axis must be one of {', '.join(POSITIVE_AXES)} (a positive axis searched in log space)")
    if axis in options:
        raise ValueError(f"{axis} is the axis searched: give its range as bounds=(low, high), not {axis}=")
    target = float(check_per_bandit("target", target, 1, low=0.0, high=1.0, low_open=True, high_open=True)[0])
    low, high = (float(check_per_bandit("bounds", b, 1, low=0.0, low_open=True)[0]) for b in _pair(bounds))
    if not low < high:
        raise ValueError(f"bounds must be (low, high) with low < high, got {bounds!r}")
    rtol = float(check_per_bandit("rtol", rtol, 1, low=0.0, low_open=True)[0])
    max_points = check_count("max_points", max_points)
    folder = Path(out)
    make_folder(folder)
    make_folder(folder / "points")  # never through a link planted at out/points
    points: dict[float, dict] = {}

    def evaluate(value: float) -> dict:
        if value not in points:
            if len(points) >= max_points:
                raise ValueError(f"max_points = {max_points} evaluated without bracketing the target to rtol {rtol:g}")
            searched: dict[str, Any] = {axis: value}
            result = sweep(folder / "points" / f"{axis}={value!r}", n_bandits=n_bandits, progress=progress,
                           **searched, **options)  # fmt: skip
            row = result.rows[0]
            points[value] = {"value": value, **{k: row[k] for k in POINT_COLUMNS[1:]}}
        return points[value]

    for value in (low, high):
        evaluate(value)
    for _ in range(3):  # widen tenfold each way until the target lies between two points
        if _bracket(points, target) is not None:
            break
        low, high = low / 10, high * 10
        evaluate(low), evaluate(high)
    bracket = _bracket(points, target)
    if bracket is None:
        rates = [p["success_rate"] for p in points.values()]
        raise ValueError(
            f"the success rate stays {'above' if min(rates) >= target else 'below'} {target:g} for {axis} in "
            f"[{min(points):.3g}, {max(points):.3g}] (rates {min(rates):.3f} .. {max(rates):.3f})"
        )
    while bracket[1] / bracket[0] > 1 + rtol:
        evaluate(math.sqrt(bracket[0] * bracket[1]))
        bracket = _bracket(points, target)
        assert bracket is not None  # the old bracket's two ends still straddle the target
    ordered = [points[v] for v in sorted(points)]
    increasing = points[bracket[1]]["success_rate"] >= points[bracket[0]]["success_rate"]
    estimate = _crossing(ordered, "success_rate", target, bracket)
    ci = _interval(ordered, target, increasing, estimate)
    found = Threshold(axis, target, estimate, ci, increasing, ordered, folder)
    _write(found)
    return found


def _pair(bounds):
    if not isinstance(bounds, (tuple, list)) or len(bounds) != 2:
        raise TypeError(f"bounds must be a pair (low, high), got {bounds!r}")
    return bounds


def _bracket(points: dict, target: float) -> tuple[float, float] | None:
    """The first two neighbouring values whose success rates lie on either side of the target."""
    values = sorted(points)
    for x0, x1 in zip(values, values[1:]):
        r0, r1 = points[x0]["success_rate"], points[x1]["success_rate"]
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


def _interval(ordered: list[dict], target: float, increasing: bool, estimate: float) -> tuple[float, float]:
    """Invert the pointwise Wilson bands: from where the band nearer the target reaches it to where the
    farther one does; an end with no crossing in the points is the last point on that side."""

    def first_crossing(column: str) -> float:
        for p0, p1 in zip(ordered, ordered[1:]):
            if (p0[column] < target) != (p1[column] < target):
                return _crossing(ordered, column, target, (p0["value"], p1["value"]))
        return ordered[0]["value"] if (ordered[0][column] >= target) == increasing else ordered[-1]["value"]

    ends = sorted([first_crossing("ci_high"), first_crossing("ci_low")])
    return min(ends[0], estimate), max(ends[1], estimate)


def _write(found: Threshold) -> None:
    """threshold.json (the answer) and points.csv (every point) in the study folder."""
    summary = {
        "axis": found.axis, "target": found.target, "estimate": found.estimate, "ci_low": found.ci[0],
        "ci_high": found.ci[1], "increasing": found.increasing, "points": len(found.points),
    }  # fmt: skip
    write_atomic(found.out / "threshold.json", json.dumps(summary, indent=2) + "\n")
    write_atomic(found.out / "points.csv", to_csv(list(POINT_COLUMNS), found.points))
