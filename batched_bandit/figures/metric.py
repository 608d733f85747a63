"""Any metric (metrics.py) against any column, with its 95% interval: a line per value of the lines
axis, a panel per facet (layout.py chooses them); the chance level 1/K dotted for the success rate
and the fraction of optimal pulls.

Fractions (success, P(best), optimal action) are read on a 0..1 axis; regret on a log axis when it
spans LOG_SPREAD or more (columns.log_spaced's rule), reward on a linear one. The success rate is
the seed's verdict (the last episode's per-arm reward sums rank the best arm first), with Wilson
intervals; the means have normal intervals of the mean.
"""

from __future__ import annotations

import math
import textwrap

from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from ..metrics import metric
from .canvas import TICKS, Sheet
from .columns import LOG_SPREAD, label
from .layout import Layout
from .marks import Bands, band_alpha, categories, colours, estimate, log_scale, probability_axis
from .table import Table
from .words import legend_title, panel_title, title_block, x_label

FRACTIONS = ("success", "p_best", "optimal_action")  # 0..1 axes
CHANCE = ("success", "optimal_action")  # a uniform policy's value is 1/K (one best arm)
BANDS = {"proportion": "95% Wilson interval", "mean": "95% interval of the mean"}


def draw(table: Table, layout: Layout, name: str = "success"):
    """The figure of metric ``name`` against the layout's x: a Figure."""
    m = metric(name)
    y, (low, high) = m.column, m.ci
    sheet = Sheet(len(layout.panels()), shape=facet_shape(layout))
    line_values = layout.lines.values if layout.lines else (None,)
    palette = colours(len(line_values), bool(layout.lines and layout.lines.numeric))
    groups = layout.group(table.rows)
    log_y = log_axis(name, [r[c] for r in table.rows if layout.keep(r) for c in (y, low, high)])
    chance, ticks = set(), TICKS
    for (ax,), panel in zip(sheet.cells, layout.panels()):
        ks, bands = set(), Bands()
        for i, line in enumerate(line_values):
            mine = groups[panel].get(line)
            if not mine:
                continue
            ks.update(r["n_arms"] for r in mine)
            offset = (i - (len(line_values) - 1) / 2) * 0.6 / len(line_values)
            estimate(ax, bands, [layout.x.position(r) for r in mine], [r[y] for r in mine],
                     [r[low] for r in mine], [r[high] for r in mine], palette[i],
                     numeric=layout.x.numeric, offset=offset)  # fmt: skip
        bands.draw(ax, alpha=band_alpha(len(line_values)))
        if name in CHANCE:
            for k in ks:  # the value of a uniform policy on equal arms
                ax.axhline(1 / k, color="grey", lw=0.8, ls=":", zorder=1)
            chance |= ks
        ticks = format_panel(ax, layout, panel, bool(groups[panel]), probability=name in FRACTIONS)
        if log_y:
            log_scale(ax, [r[y] for r in table.rows], "y")
    head = f"{m.label[0].upper()}{m.label[1:]} vs {label(layout.x.by or layout.x.name)} ({m.better} is better)"
    handles = legend_handles(layout, palette, BANDS[m.kind], bool(chance))
    y_label = textwrap.fill(m.label + (" (log scale)" if log_y else ""), 30)
    return sheet.finish(title_block(table, layout, head), x_label(layout), y_label, x_ticks=ticks, legend=handles,
                        legend_title=legend_title(layout))  # fmt: skip


def log_axis(name: str, values: list) -> bool:
    """Whether a metric's values read better on a log axis: not a fraction, every value (and interval
    end) positive, spanning LOG_SPREAD or more."""
    known = [v for v in values if v is not None and math.isfinite(v)]
    return name not in FRACTIONS and bool(known) and min(known) > 0 and max(known) / min(known) >= LOG_SPREAD


def facet_shape(layout: Layout) -> tuple[int, int] | None:
    """Two facets: a grid of their values (rows × columns); else wrapped."""
    return tuple(len(a.values) for a in layout.facets) if len(layout.facets) == 2 else None


def format_panel(ax, layout: Layout, panel: tuple, drawn: bool, probability: bool = True) -> float:
    """A panel's x scale or categories, y as a probability (if ``probability``), its facets' values as
    title, and a word where nothing is drawn yet; returns the x tick labels' height in inches."""
    if not drawn:
        ax.text(0.5, 0.5, "no results yet", transform=ax.transAxes, ha="center", color="grey")
    if layout.x.log:
        log_scale(ax, layout.x.numbers)
    if probability:
        probability_axis(ax)
    ax.set_title(panel_title(layout, panel))
    return categories(ax, layout.x.labels) if not layout.x.numeric else TICKS


def legend_handles(layout: Layout, palette: list, band: str, chance: bool = False) -> list:
    """A handle per line value (the colours), the interval's band, and the chance level."""
    handles = []
    if layout.lines:
        handles += [Line2D([], [], color=c, marker="o", ms=3, label=t) for c, t in zip(palette, layout.lines.labels)]
    if layout.x.numeric:
        handles.append(Patch(color="grey", alpha=0.3, label=band))
    else:
        handles.append(Line2D([], [], color="grey", marker="|", ms=10, lw=0, label=f"bars: {band}"))
    if chance:
        handles.append(Line2D([], [], color="grey", lw=0.8, ls=":", label="1/K: chance"))
    return handles
