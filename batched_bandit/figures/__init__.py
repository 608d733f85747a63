"""Figures of a study folder, drawn with matplotlib (optional: ``pip install 'batched_bandit[plot]'``).

Read from the study's store through the read API (``study.open_study``), so a partial or interrupted
study can be drawn, and ``batched-bandit plot DIR`` redraws a finished one to the same bytes.
Any swept axis or derived column may be x (layout.py says how x, lines and facets are chosen), and
any metric of metrics.py y (metric.py), each estimate with its 95% interval. By default:

- ``success.png``, ``reward.png``, ``regret.png``: the success rate (Wilson interval), the mean
  reward per step and the mean cumulative regret over the run (normal intervals) (metric.py);
- ``p_best.png``: where the policies end, fractions locked on the best arm / undecided / locked
  on a wrong arm, stacked, and the mean final P(best arm) with its interval (distribution.py);
- ``learning_curves.png``: success rate, mean P(best) (the mean-field P(best) dashed), reward and
  regret at each episode's end or every ``record_every`` steps, with their intervals, a panel per
  problem, horizon and rule (curves.py);
- ``success_heatmap.png``: the success rate over two swept axes of five values or more (heatmap.py).

``x="step"`` draws one metric at each curve point against the steps done, on a log axis, with the
Lai–Robbins lower bound for regret on binary problems (``METRIC_over_steps.png``, over_steps.py).

``y=METRIC`` draws that metric's figure alone (``METRIC.png``; for p_best, p_best.png) and its
heat map (``METRIC_heatmap.png``) where one applies.

Modules: table.py (the study as read), columns.py (what columns mean), layout.py (the choices),
words.py (titles and notes), canvas.py (figure, size bound, legend, PNG).
"""

from __future__ import annotations

import os
from pathlib import Path

INSTALL_HINT = "pip install 'batched_bandit[plot]'"
SUCCESS_FIGURE = "success.png"
P_BEST_FIGURE = "p_best.png"
CURVES_FIGURE = "learning_curves.png"
HEATMAP_FIGURE = "success_heatmap.png"
DEFAULT_METRICS = ("success", "reward", "regret")  # drawn by default against x, beside p_best.png
FIGURES = (SUCCESS_FIGURE, "reward.png", "regret.png", P_BEST_FIGURE, CURVES_FIGURE, HEATMAP_FIGURE)


def unavailable_reason() -> str | None:
    """Why figures cannot be drawn here (matplotlib missing), or None."""
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return f"matplotlib is not installed; to get figures: {INSTALL_HINT}"
    return None


def plot_sweep(out: str | os.PathLike, x: str | None = None, lines: str | None = None, facets: str | None = None,
               *, y: str | None = None, rows: list[dict] | None = None,
               curves: list[dict] | None = None) -> list[Path]:  # fmt: skip
    """Draw the study in folder ``out`` into PNG files there; returns their paths.

    ``x``: the column on x (a swept axis, or gap, eta, eta_over_gap2, lr_over_T2, n_arms,
    total_steps, param; default: the swept axis with the most values), or ``"step"``: metric ``y``
    (default regret) at each curve point against the steps done, on a log axis, the Lai–Robbins
    bound drawn for regret on binary problems (``{y}_over_steps.png``, over_steps.py); ``lines``, ``facets``: swept axes
    for the lines and the panels (default: chosen); ``y``: a metric (success, p_best, regret,
    reward, optimal_action) to draw alone (default: the figures listed above). ValueError, before
    anything is drawn, for a folder without a study, a column that is not swept or an unknown
    metric. ``rows``, ``curves``: the study's tables when the caller has just computed them from the
    store (``sweep`` does), to skip reading them again.
    """
    import matplotlib

    from ..metrics import metric
    from ..study.files import refuse_link
    from . import curves as curve_figure
    from . import distribution, heatmap, over_steps
    from . import metric as metric_figure
    from .canvas import RC, save
    from .layout import choose
    from .table import Table

    name = None if y is None else metric(y).name
    folder = Path(out)
    if x == "step":  # the metric at each curve point against the steps done, on a log axis
        if lines is not None or facets is not None:
            raise ValueError(
                "x = 'step' draws a line per rule setting and a panel per problem; it takes no lines or facets"
            )
        name = name or "regret"
        path = folder / f"{name}_over_steps.png"
        for checked in (folder, path):
            refuse_link(checked)
        table = Table.read(folder, rows, curves)
        with matplotlib.rc_context(RC):
            return [save(over_steps.draw(table, name), path)]
    names = FIGURES if name is None else (f"{name}.png", f"{name}_heatmap.png")
    for path in (folder, *(folder / n for n in names)):  # refused before drawing, not after some
        refuse_link(path)
    table = Table.read(folder, rows, curves)
    layout = choose(table, x, lines, facets)
    grid = heatmap.choose_axes(table, layout)
    with matplotlib.rc_context(RC):
        if name is not None:
            figure = distribution.draw(table, layout) if name == "p_best" else metric_figure.draw(table, layout, name)
            paths = [save(figure, folder / names[0])]
            if grid is not None:
                paths.append(save(heatmap.draw(table, grid, name), folder / names[1]))
            return paths
        paths = [save(metric_figure.draw(table, layout, m), folder / f"{m}.png") for m in DEFAULT_METRICS]
        paths += [save(distribution.draw(table, layout), folder / P_BEST_FIGURE),
                  save(curve_figure.draw(table), folder / CURVES_FIGURE)]  # fmt: skip
        if grid is not None:
            paths.append(save(heatmap.draw(table, grid), folder / HEATMAP_FIGURE))
    return paths
