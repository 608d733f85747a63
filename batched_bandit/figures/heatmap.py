"""A metric (the success rate by default) over two swept axes of five values or more, as a heat
map (a panel per facet).

A cell is one setting; cells without results (not run yet, or an axis that does not apply) are
grey. Fractions are coloured on 0..1, other metrics over their range. The intervals cannot be
drawn in a colour, so the title gives the widest 95% half-width and the metric's own figure
(success.png, reward.png, ...) draws them all.
"""

from __future__ import annotations

import numpy as np
from matplotlib import colormaps

from ..metrics import metric
from .canvas import DPI, MAX_PX, PANEL, TICKS, Sheet
from .columns import label
from .layout import Layout, choose
from .marks import categories, log_scale
from .metric import FRACTIONS, facet_shape
from .table import Table
from .words import panel_title, title_block

MIN_VALUES = 5  # an axis with fewer values reads better as lines
ANNOTATE = 12  # cells get their rate written in when both axes have at most this many values
CELL_INCHES = 0.12  # a panel at least this wide per cell, where the bound allows


def choose_axes(table: Table, layout: Layout) -> Layout | None:
    """The heat map's layout (x, y = its "lines", facets), or None when fewer than two swept axes
    have MIN_VALUES values. The success figure's x (or the axis moving along it) comes first."""
    long = [a for a in table.swept() if len(table.present(a)) >= MIN_VALUES]
    if len(long) < 2:
        return None
    first = [a for a in (layout.x.name, *layout.along) if a in long][:1]
    rest = sorted((a for a in long if a not in first), key=lambda a: -len(table.present(a)))
    x, y = (first + rest)[:2]
    return choose(table, x, y, max_lines=10**6)


def draw(table: Table, layout: Layout, name: str = "success"):
    """The heat map of metric ``name``: a Figure."""
    m = metric(name)
    x, y = layout.x, layout.lines
    xs, ys = _cells(x), _cells(y)
    groups = layout.group(table.rows)
    panel = (max(PANEL[0], min(len(xs[0]) * CELL_INCHES, MAX_PX / DPI / 3)), PANEL[1])
    sheet = Sheet(len(layout.panels()), shape=facet_shape(layout), panel=panel)
    shown = [r[m.column] for r in table.rows if layout.keep(r)]
    low, high = (0.0, 1.0) if name in FRACTIONS else (min(shown, default=0.0), max(shown, default=1.0))
    mesh, ticks = None, TICKS
    for (ax,), facet in zip(sheet.cells, layout.panels()):
        rates = np.full((len(ys[0]), len(xs[0])), np.nan)
        for line, mine in groups[facet].items():
            for r in mine if line in ys[0] else ():
                rates[ys[0].index(line), xs[0].index(r[x.name])] = r[m.column]
        mesh = ax.pcolormesh(xs[1], ys[1], rates, cmap=_cmap(), vmin=low, vmax=high, shading="flat")
        if len(xs[0]) <= ANNOTATE and len(ys[0]) <= ANNOTATE:
            _annotate(ax, _centres(xs[1], x.log), _centres(ys[1], y.log), rates, (low, high), name in FRACTIONS)
        if x.log:
            log_scale(ax, x.numbers)
        if y.log:
            log_scale(ax, y.numbers, "y")
        if not x.numeric:
            ticks = categories(ax, tuple(x.labels[x.values.index(v)] for v in xs[0]))
        if not y.numeric:
            ax.set_yticks(range(len(ys[0])), [y.labels[y.values.index(v)] for v in ys[0]])
        ax.set_title(panel_title(layout, facet))
        ax.grid(False)
    halves = [(r[m.ci[1]] - r[m.ci[0]]) / 2 for r in table.rows if layout.keep(r)]
    widest = max((h for h in halves if np.isfinite(h)), default=0.0)
    head = f"{m.label[0].upper()}{m.label[1:]} over {label(x.by or x.name)} × {label(y.by or y.name)}"
    more = (f"Colour: {m.label}; widest 95% interval ±{widest:.3g} ({name}.png draws them all); "
            "grey: no result")  # fmt: skip
    y_chars = max(map(len, y.labels)) if not y.numeric else 5
    return sheet.finish(title_block(table, layout, head, more=more), label(x.by or x.name, x.log),
                        label(y.by or y.name, y.log), colorbar=mesh, colorbar_label=m.short, y_tick_chars=y_chars,
                        x_ticks=ticks)  # fmt: skip


def _cells(axis) -> tuple[list, np.ndarray]:
    """(the axis's values with a number or category, the edges of their cells)."""
    if not axis.numeric:
        values = [v for v in axis.values if v is not None]
        return values, np.arange(len(values) + 1) - 0.5
    pairs = [(v, n) for v, n in zip(axis.values, axis.numbers) if n is not None]
    values, centres = [v for v, _ in pairs], np.array([n for _, n in pairs], dtype=float)
    at = np.log(centres) if axis.log else centres
    if len(at) == 1:
        edges = np.array([at[0] - 0.5, at[0] + 0.5])
    else:
        middle = (at[1:] + at[:-1]) / 2
        edges = np.concatenate([[2 * at[0] - middle[0]], middle, [2 * at[-1] - middle[-1]]])
    return values, np.exp(edges) if axis.log else edges


def _annotate(ax, xc, yc, values, limits: tuple[float, float], fraction: bool) -> None:
    """The value written in each cell, dark on light cells and light on dark ones."""
    low, high = limits
    for i, j in zip(*np.nonzero(~np.isnan(values))):
        light = (values[i, j] - low) / (high - low) > 0.55 if high > low else True
        ax.text(xc[j], yc[i], f"{values[i, j]:.2f}" if fraction else f"{values[i, j]:.3g}", ha="center",
                va="center", fontsize=7, color="black" if light else "white")  # fmt: skip


def _centres(edges: np.ndarray, log: bool) -> np.ndarray:
    return np.sqrt(edges[1:] * edges[:-1]) if log else (edges[1:] + edges[:-1]) / 2


def _cmap():
    return colormaps["viridis"].with_extremes(bad="#DDDDDD")  # grey: no result
