"""The success rate against any column, with its 95% Wilson interval: a line per value of the
lines axis, a panel per facet (layout.py chooses them), the chance level 1/K dotted.

Success is the seed's verdict: the last episode's per-arm reward sums rank the best arm first.
"""

from __future__ import annotations

from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from .canvas import TICKS, Sheet
from .columns import label
from .layout import Layout
from .marks import Bands, band_alpha, categories, colours, estimate, log_scale, probability_axis
from .table import Table
from .words import legend_title, panel_title, title_block, x_label

Y_LABEL = "success rate\n(last episode's top arm is the best)"
BAND = "95% Wilson interval"


def draw(table: Table, layout: Layout):
    """The success figure: a Figure."""
    sheet = Sheet(len(layout.panels()), shape=facet_shape(layout))
    line_values = layout.lines.values if layout.lines else (None,)
    palette = colours(len(line_values), bool(layout.lines and layout.lines.numeric))
    groups = layout.group(table.rows)
    chance, ticks = set(), TICKS
    for (ax,), panel in zip(sheet.cells, layout.panels()):
        ks, bands = set(), Bands()
        for i, line in enumerate(line_values):
            mine = groups[panel].get(line)
            if not mine:
                continue
            ks.update(r["n_arms"] for r in mine)
            offset = (i - (len(line_values) - 1) / 2) * 0.6 / len(line_values)
            estimate(ax, bands, [layout.x.position(r) for r in mine], [r["success_rate"] for r in mine],
                     [r["ci_low"] for r in mine], [r["ci_high"] for r in mine], palette[i],
                     numeric=layout.x.numeric, offset=offset)  # fmt: skip
        bands.draw(ax, alpha=band_alpha(len(line_values)))
        for k in ks:  # the verdict of a uniform policy on equal arms
            ax.axhline(1 / k, color="grey", lw=0.8, ls=":", zorder=1)
        chance |= ks
        ticks = format_panel(ax, layout, panel, bool(groups[panel]))
    head = f"Success rate vs {label(layout.x.by or layout.x.name)}"
    handles = legend_handles(layout, palette, BAND, bool(chance))
    return sheet.finish(title_block(table, layout, head), x_label(layout), Y_LABEL, x_ticks=ticks, legend=handles,
                        legend_title=legend_title(layout))  # fmt: skip


def facet_shape(layout: Layout) -> tuple[int, int] | None:
    """Two facets: a grid of their values (rows × columns); else wrapped."""
    return tuple(len(a.values) for a in layout.facets) if len(layout.facets) == 2 else None


def format_panel(ax, layout: Layout, panel: tuple, drawn: bool) -> float:
    """A panel's x scale or categories, y as a probability, its facets' values as title, and a
    word where nothing is drawn yet; returns the x tick labels' height in inches."""
    if not drawn:
        ax.text(0.5, 0.5, "no results yet", transform=ax.transAxes, ha="center", color="grey")
    if layout.x.log:
        log_scale(ax, layout.x.numbers)
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
