"""Where along one positive axis is a metric best? Found adaptively, with shared random numbers.

The search (python-adaptive's learner, made deterministic): evaluate a log-spaced grid over the
bounds, widen it tenfold on a side while the best point sits at that edge, then refine around the
best point — the geometric midpoints to its neighbours — until the neighbours lie within ``rtol``
of it. Each point is a study of one setting in ``out/points/AXIS=VALUE`` on the random streams
0..n-1 (common random numbers, points.py), so neighbouring points differ by the axis alone and
their paired differences are far less noisy than the points themselves.

The estimate is the vertex of a quadratic in log(axis) fitted by least squares to the best point
and its two neighbours on each side (the best point itself when the fit is not a bowl). Its 95%
interval is a percentile bootstrap over bandits: the same resampled bandits at every point (they
are paired), the fit redone per resample. The metric at the optimum is the fitted value there,
with its bootstrap interval.

``optimum`` joins them: the answer in ``out/optimum.json`` (with the setting held fixed) and every
point in ``out/points.csv``; ``by=AXIS`` runs one search per value of another axis, each in
``out/AXIS=VALUE/``, and gathers them in a table (Optima).
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..checks import check_count, check_per_bandit
from ..metrics import METRICS
from ..metrics import metric as metric_named
from ..schema import MODEL_OF, OPTIONS, applies, split_aliases
from .axes import AXES, check_axis
from .integrity import to_json
from .points import (
    POINT_COLUMNS,
    check_bounds,
    check_search,
    evaluate,
    held,
    paired_values,
    point_row,
    run_of,
    search_folder,
    stated,
)
from .selector import describe_value
from .setting import Setting
from .tables import to_csv, write_atomic

GOALS = ("minimize", "maximize")
N_GRID = 7  # points of the first grid over the bounds
WINDOW = 2  # neighbours on each side of the best point in the fit
N_BOOTSTRAP = 2000
BOOTSTRAP_SEED = 20260101  # fixed: the interval is a deterministic function of the study


@dataclass(frozen=True)
class Fit:
    """A quadratic in u = log(x) through the points near the best: the optimum's location and value."""

    estimate: float  # x at the vertex (or at the best point)
    value: float  # the fitted metric there
    vertex: bool  # whether the fit is a bowl (minimising) / a cap (maximising) with its vertex inside the window


def search(evaluate: Callable[[float], float], bounds: tuple[float, float], *, sign: float, rtol: float,
           max_points: int, widen: int = 3) -> dict[float, float]:  # fmt: skip
    """Evaluate points along the axis until the best one is bracketed within ``rtol``.

    evaluate(x) -> the metric's mean at x (sign = 1 minimises, -1 maximises). Returns x -> mean
    of every point evaluated, in evaluation order.
    """
    points: dict[float, float] = {}

    def at(x: float) -> float:
        x = float(f"{x:.12g}")  # a value people can type, the same on every rerun
        if x not in points:
            if len(points) >= max_points:
                raise ValueError(
                    f"max_points = {max_points} evaluated before the optimum was bracketed to rtol {rtol:g}"
                )
            points[x] = evaluate(x)
        return points[x]

    low, high = bounds
    for x in np.geomspace(low, high, N_GRID):
        at(float(x))
    for _ in range(widen):  # the best at an edge: the optimum may lie beyond it
        xs = sorted(points)
        best = min(xs, key=lambda x: sign * points[x])
        if best == xs[0]:
            at(xs[0] / 10)
        elif best == xs[-1]:
            at(xs[-1] * 10)
        else:
            break
    while True:
        xs = sorted(points)
        i = min(range(len(xs)), key=lambda j: sign * points[xs[j]])
        left, right = xs[max(i - 1, 0)], xs[min(i + 1, len(xs) - 1)]
        if right / left <= (1 + rtol) ** 2:  # both neighbours within rtol of the best (in log space)
            return points
        for neighbour in (left, right):
            if neighbour != xs[i]:
                at(math.sqrt(neighbour * xs[i]))


def fit(xs: np.ndarray, means: np.ndarray, sign: float) -> Fit:
    """The quadratic in log(x) through the best point and WINDOW neighbours on each side."""
    order = np.argsort(xs)
    xs, means = xs[order], means[order]
    i = int(np.argmin(sign * means))
    lo, hi = max(0, i - WINDOW), min(len(xs), i + WINDOW + 1)
    u, y = np.log(xs[lo:hi]), means[lo:hi]
    if len(u) >= 3:
        a, b, c = np.polyfit(u, y, 2)
        if sign * a > 0:  # a bowl in the direction of the search
            vertex = -b / (2 * a)
            if u[0] <= vertex <= u[-1]:
                return Fit(float(math.exp(vertex)), float(c - b * b / (4 * a)), True)
    return Fit(float(xs[i]), float(means[i]), False)


def bootstrap(xs: np.ndarray, values: np.ndarray, sign: float, n: int = N_BOOTSTRAP) -> tuple[np.ndarray, np.ndarray]:
    """Percentile-bootstrap draws of the optimum's location and value: bandits resampled with
    replacement, the same bandits at every point. values: (points, bandits). Returns (n,), (n,)."""
    rng = np.random.default_rng(BOOTSTRAP_SEED)
    n_bandits = values.shape[1]
    locations, optima = np.empty(n), np.empty(n)
    for b in range(n):
        rows = rng.integers(0, n_bandits, n_bandits)
        found = fit(xs, values[:, rows].mean(axis=1), sign)
        locations[b], optima[b] = found.estimate, found.value
    return locations, optima


def percentile_interval(draws: np.ndarray, confidence: float = 0.95) -> tuple[float, float]:
    tail = (1 - confidence) / 2 * 100
    low, high = np.percentile(draws, [tail, 100 - tail])
    return float(low), float(high)


# --- the answer ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Optimum:
    """Where along ``axis`` the mean of ``metric`` is lowest (``goal`` "minimize") or highest, with
    the points evaluated to find it and the setting they held fixed."""

    axis: str
    metric: str
    goal: str  # "minimize" or "maximize"
    estimate: float  # the axis value at the optimum
    ci: tuple[float, float]  # its 95% interval (bootstrap over bandits)
    value: float  # the metric's mean there (the fit's)
    value_ci: tuple[float, float]  # its 95% interval
    vertex: bool  # the fit is a bowl (a cap, maximising) with its vertex among the points near the best
    bracketed: bool  # the best point has evaluated points on both sides (else the optimum may lie beyond)
    points: list[dict]  # evaluated points sorted by value: POINT_COLUMNS
    out: Path
    setting: Setting | None = field(default=None, compare=False)  # a point's setting (the axis at its value)
    run: dict = field(default_factory=dict)  # n_bandits, seed, dtype

    @property
    def held(self) -> dict:
        """What the search held fixed: every option that applies to its points, the axis aside."""
        return {} if self.setting is None else held(self.setting, self.axis)

    def stated(self, by: str | None = None) -> str:
        """The setting the search held fixed, in one line ("" if not known); ``by``: said to vary by row."""
        return "" if self.setting is None else stated(self.setting, self.axis, self.run, by)

    def headline(self) -> str:
        """ "mean regret is lowest at lr = 0.0961 (95% CI ...): 71.18 (95% CI ...)"."""
        low, high = self.ci
        value_low, value_high = self.value_ci
        return (
            f"{METRICS[self.metric].what} is {'lowest' if self.goal == 'minimize' else 'highest'} at {self.axis} = "
            f"{self.estimate:.4g} (95% CI {low:.4g} .. {high:.4g}): {self.value:.4g} (95% CI {value_low:.4g} .. "
            f"{value_high:.4g})"
        )

    def edge(self) -> str:
        """ "" when the optimum is bracketed, else a warning's words."""
        if self.bracketed:
            return ""
        column, sign = METRICS[self.metric].column, 1.0 if self.goal == "minimize" else -1.0
        best = min(self.points, key=lambda p: sign * p[column])
        side = "below" if best is self.points[0] else "above"
        return (f"the best point is the search's edge ({self.axis} = {best['value']:.4g}): the optimum may lie "
                f"{side} it; give bounds beyond it")  # fmt: skip

    def summary(self) -> str:
        lines = [f"{self.headline()}; {len(self.points)} points of {self.points[0]['n']:,} bandits, in {self.out}"]
        if not self.bracketed:
            lines.append(f"  {self.edge()}")
        if self.setting is not None:
            lines.append(f"setting: {self.stated()}")
        return "\n".join(lines)

    def record(self) -> dict:
        """optimum.json's answer."""
        return {
            "axis": self.axis, "metric": self.metric, "goal": self.goal, "estimate": self.estimate,
            "ci_low": self.ci[0], "ci_high": self.ci[1], "value": self.value, "value_ci_low": self.value_ci[0],
            "value_ci_high": self.value_ci[1], "vertex": self.vertex, "bracketed": self.bracketed,
            "points": len(self.points), "setting": self.held, **self.run, "stated": self.stated(),
        }  # fmt: skip


@dataclass(frozen=True)
class Optima:
    """One Optimum per value of the axis ``by``: ``optimum(..., by=AXIS)``."""

    by: str
    values: list  # the by axis's values, in the order searched
    results: list[Optimum]
    out: Path

    def summary(self) -> str:
        """A table: one row per value of the by axis, its optimum and the metric there, with intervals."""
        first = self.results[0]
        what = METRICS[first.metric].what
        head = [self.by, f"best {first.axis}", "95% CI", f"{what} there", "95% CI", "points"]
        rows = [
            [describe_value(v), f"{r.estimate:.4g}", f"{r.ci[0]:.4g} .. {r.ci[1]:.4g}", f"{r.value:.4g}",
             f"{r.value_ci[0]:.4g} .. {r.value_ci[1]:.4g}", f"{len(r.points)}" + ("" if r.bracketed else " (edge)")]
            for v, r in zip(self.values, self.results)
        ]  # fmt: skip
        widths = [max(len(row[i]) for row in [head, *rows]) for i in range(len(head))]
        table = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in [head, *rows]]
        goal = "lowest" if first.goal == "minimize" else "highest"
        lines = [f"{what}: {goal} along {first.axis}, one search per {self.by} (95% CIs: bootstrap over bandits)",
                 *table]  # fmt: skip
        lines += [f"  {self.by} {describe_value(v)}: {r.edge()}" for v, r in zip(self.values, self.results) if r.edge()]
        lines.append(f"setting: {first.stated(self.by)}; in {self.out}")
        return "\n".join(lines)

    def record(self) -> dict:
        """optimum.json's answer: the search and one row per value of the by axis."""
        rows = [{self.by: to_json(v), **r.record()} for v, r in zip(self.values, self.results)]
        first = self.results[0]
        return {"by": self.by, "axis": first.axis, "metric": first.metric, "goal": first.goal, "rows": rows,
                "stated": first.stated(self.by)}  # fmt: skip


def optimum(
    out: str | os.PathLike,
    *,
    axis: str = "lr",
    minimize: str | None = None,
    maximize: str | None = None,
    by: str | None = None,
    bounds: tuple[float, float] = (0.001, 10.0),
    rtol: float = 0.05,
    max_points: int = 60,
    n_bandits: int = 10000,
    progress=None,
    **options,
) -> Optimum | Optima:
    """Find where along ``axis`` the mean of a metric (metrics.py) is best: ``minimize="regret"`` or
    ``maximize="reward"`` (exactly one). The search starts on a log grid over ``bounds`` (widened
    tenfold up to three times while the best point is at an edge) and refines around the best point
    until its neighbours are within ``rtol``, with at most ``max_points`` points of ``n_bandits``
    bandits each. ``options``: the rest of the setting (single values of sweep's axes) and sweep's
    run options (seed, device, backend, dtype, block_bandits). ``by``: another axis; one search per
    value of it (``options[by]``: its values, a list; default every choice of a choice or bool
    option), each in ``out/BY=VALUE/``; returns Optima. Writes optimum.json and points.csv into ``out``."""
    goal, metric = _goal(minimize, maximize)
    low, high = check_bounds(bounds)
    rtol = float(check_per_bandit("rtol", rtol, 1, low=0.0, low_open=True)[0])
    max_points = check_count("max_points", max_points)
    if by is None:
        return _search(out, axis, goal, metric, (low, high), rtol, max_points, n_bandits, progress, options)
    options = split_aliases(options)
    values = _by_values(by, axis, options)
    # every search checked before any runs; each gets the options that apply to it (beta2 for adam only)
    each_value = [_for_value(options, by, value) for value in values]
    searches = [_applying(each, check_search(axis, each, low)) for each in each_value]
    folder = search_folder(out, axis, searches[0], low, points=False)
    results = [
        _search(folder / by_folder(by, value), axis, goal, metric, (low, high), rtol, max_points, n_bandits, progress,
                each)
        for value, each in zip(values, searches)
    ]  # fmt: skip
    found = Optima(by, values, results, folder)
    write_atomic(folder / "optimum.json", json.dumps(found.record(), indent=2) + "\n")
    return found


def by_folder(by: str, value) -> str:
    """The folder of the search at ``by = value``: ``optimizer=adam``, ``temperature=0.1``."""
    text = str(value) if isinstance(value, (str, bool)) else to_json(value)
    if isinstance(text, list):
        text = ",".join(repr(float(v)) for v in text)
    elif isinstance(text, float):
        text = repr(text)
    return f"{by}={text}"


def _goal(minimize, maximize) -> tuple[str, str]:
    """("minimize" or "maximize", the metric's name): exactly one of them given, a metric of metrics.py."""
    if (minimize is None) == (maximize is None):
        raise ValueError('give minimize=METRIC or maximize=METRIC (exactly one), e.g. minimize="regret"')
    goal = "minimize" if minimize is not None else "maximize"
    return goal, metric_named(minimize if minimize is not None else maximize).name


def _by_values(by: str, axis: str, options: dict) -> list:
    """The values of the by axis: given in ``options`` (one or a list), else every choice of its option."""
    if by not in AXES:
        raise ValueError(f"by must be an axis, one of {', '.join(AXES)}; got {by!r}")
    if by == axis:
        raise ValueError(f"by: {by} is the axis searched; give another axis to search by")
    option = OPTIONS[by]
    given = options.get(by)
    if given is None:
        if option.kind == "choice":
            return list(option.choices)
        if option.kind == "bool":
            return [False, True]
        raise ValueError(f"by={by}: give its values, e.g. {by}=[...] ({option.flag} on the command line)")
    return check_axis(by, given)


def _for_value(options: dict, by: str, value) -> dict:
    """``options`` with ``by = value``, less the options that do not apply there (beta2 with sgd)."""
    chosen = {**options, by: value}
    model = MODEL_OF[next((k for k in MODEL_OF if k in chosen), "arms")]
    return {k: v for k, v in chosen.items() if k not in OPTIONS or applies(k, chosen, model)}


def _applying(options: dict, setting: Setting) -> dict:
    """``options`` but the axes that do not apply to ``setting``."""
    applying = setting.full()
    return {k: v for k, v in options.items() if k not in AXES or k in applying}


def _search(out, axis, goal, metric, bounds, rtol, max_points, n_bandits, progress, options) -> Optimum:
    """One search along ``axis``: its points, the fit, the bootstrap, optimum.json and points.csv."""
    folder = search_folder(out, axis, options, bounds[0])
    column, sign = METRICS[metric].column, 1.0 if goal == "minimize" else -1.0
    rows: dict[float, dict] = {}
    settings: list[Setting] = []

    def at(value: float) -> float:
        result = evaluate(folder, axis, value, n_bandits=n_bandits, progress=progress, options=options)
        rows[value] = point_row(value, result)
        settings.append(result.settings[0])
        return rows[value][column]

    found = search(at, bounds, sign=sign, rtol=rtol, max_points=max_points)
    xs = np.array(sorted(found))
    values = paired_values(folder, axis, xs.tolist(), metric)
    best = fit(xs, values.mean(axis=1), sign)
    locations, optima = bootstrap(xs, values, sign)
    ordered = [rows[x] for x in xs.tolist()]
    i = int(np.argmin(sign * values.mean(axis=1)))
    result = Optimum(
        axis, metric, goal, best.estimate, percentile_interval(locations), best.value, percentile_interval(optima),
        best.vertex, 0 < i < len(xs) - 1, ordered, folder, settings[0], run_of(folder, axis, float(xs[0])),
    )  # fmt: skip
    write_atomic(folder / "optimum.json", json.dumps(result.record(), indent=2) + "\n")
    write_atomic(folder / "points.csv", to_csv(list(POINT_COLUMNS), ordered))
    return result
