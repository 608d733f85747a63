"""Where the policies end: the fraction of bandits locked on the best arm, undecided, or locked on
a wrong arm (max P > 0.99), stacked to 1, against the success figure's x; a panel per line value
and facet, since stacked areas cannot share one axes.

The final P(best) is bimodal (a policy locks on an arm or stays spread), so its mean ± s.d. reads
as an uncertainty band that is not there; the three fractions say what the bandits do. The two
boundaries carry their 95% Wilson intervals (hatched bands or error bars).
"""

from __future__ import annotations

import itertools
import math
from statistics import NormalDist

from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from ..stats import wilson_interval
from .canvas import TICKS, Sheet
from .columns import label, short
from .layout import MAX_PANELS, Layout
from .marks import Bands, estimate
from .metric import format_panel
from .table import Table
from .words import title_block, x_label

# column, legend text, colour (Okabe-Ito blue and vermilion, grey between: read in colour-blindness)
PARTS = (
    ("locked_best", "locked on the best arm (its P > 0.99)", "#0072B2"),
    ("undecided", "undecided (no arm's P > 0.99)", "#CFCFCF"),
    ("locked_wrong", "locked on a wrong arm (its P > 0.99)", "#D55E00"),
)
INTERVAL = "95% Wilson interval of a boundary"
MEAN = "mean final P(best arm), 95% interval"
Z95 = NormalDist().inv_cdf(0.975)


def draw(table: Table, layout: Layout):
    """The P(best) figure: a Figure."""
    panels, notes = _panels(layout)
    n_lines = len(layout.lines.values) if layout.lines else 1
    shape = (len(panels) // n_lines, n_lines) if layout.lines and layout.facets and n_lines <= 4 else None
    sheet = Sheet(len(panels), shape=shape)
    groups = layout.group(table.rows)
    ticks = TICKS
    for (ax,), (panel, line) in zip(sheet.cells, panels):
        mine = groups[panel].get(line, [])
        xs = [layout.x.position(r) for r in mine]
        if layout.x.numeric and len(xs) > 1:
            _areas(ax, xs, mine)
        elif mine:
            _bars(ax, xs, mine)
        if mine:
            _mean(ax, xs, mine, layout.x.numeric and len(xs) > 1)
        ticks = format_panel(ax, layout, panel, bool(mine))
        line_title = f"{short(layout.lines.name)} {layout.lines.labels[layout.lines.values.index(line)]}" if (
            layout.lines) else ""  # fmt: skip
        ax.set_title(", ".join(t for t in (line_title, ax.get_title()) if t))
    head = (f"Where the policies end, vs {label(layout.x.by or layout.x.name)}: fraction of bandits locked on the "
            "best arm / undecided / locked on a wrong arm, and the mean final P(best arm)")  # fmt: skip
    return sheet.finish(title_block(table, layout, head, tuple(notes)), x_label(layout),
                        "fraction of bandits;\nmean P(best arm)", legend=_handles(), x_ticks=ticks)  # fmt: skip


def _panels(layout: Layout) -> tuple[list[tuple], list[str]]:
    """(facet panel, line value) pairs, at most MAX_PANELS: facet panels thinned if need be."""
    lines = layout.lines.values if layout.lines else (None,)
    facets = layout.panels()
    room = max(1, MAX_PANELS // len(lines))
    notes = []
    if len(facets) > room:
        picks = sorted({round(i * (len(facets) - 1) / max(1, room - 1)) for i in range(room)})
        notes.append(f"{len(facets) - len(picks)} of the {len(facets)} facets (this figure draws {len(picks)})")
        facets = [facets[i] for i in picks]
    return list(itertools.product(facets, lines)), notes


def _bounds(rows: list[dict]) -> list[tuple]:
    """Per row: the two boundaries (locked best; 1 - locked wrong) and their Wilson intervals."""
    out = []
    for r in rows:
        n = r["n"]
        best, wrong = round(r["locked_best"] * n), round(r["locked_wrong"] * n)
        lo_b, hi_b = wilson_interval(best, n)
        lo_w, hi_w = wilson_interval(wrong, n)
        out.append((best / n, lo_b, hi_b, 1 - wrong / n, 1 - hi_w, 1 - lo_w))
    return out


def _areas(ax, xs: list, rows: list[dict]) -> None:
    """Stacked areas over a numeric x, with the boundaries' intervals hatched."""
    areas, hatched = Bands(), Bands()
    floor = [0.0] * len(rows)
    for column, _, colour in PARTS:
        top = [f + r[column] for f, r in zip(floor, rows)]
        areas.add(xs, floor, top, colour)
        floor = top
    areas.draw(ax, alpha=1.0, zorder=1)
    bound = list(zip(*_bounds(rows)))
    for k in (0, 3):
        hatched.add(xs, bound[k + 1], bound[k + 2], "none")
        ax.plot(xs, bound[k], color="black", lw=0.6, zorder=1.6)
    hatched.draw(ax, alpha=0.6, edgecolor="black", hatch="////")


def _bars(ax, xs: list, rows: list[dict]) -> None:
    """Stacked bars over categories (or a single point), with error bars at the boundaries."""
    floor = [0.0] * len(rows)
    for column, _, colour in PARTS:
        heights = [r[column] for r in rows]
        ax.bar(xs, heights, bottom=floor, color=colour, width=0.6)
        floor = [f + h for f, h in zip(floor, heights)]
    bound = list(zip(*_bounds(rows)))
    for k in (0, 3):
        errors = [[b - lo for b, lo in zip(bound[k], bound[k + 1])], [hi - b for b, hi in zip(bound[k], bound[k + 2])]]
        ax.errorbar(xs, bound[k], yerr=errors, fmt="none", ecolor="black", capsize=3, lw=0.8)


def _mean(ax, xs: list, rows: list[dict], band: bool) -> None:
    """The mean final P(best) with its 95% normal interval (of the mean: not the bandits' spread)."""
    mean = [r["mean_final_p_best"] for r in rows]
    half = [Z95 * r["sd_final_p_best"] / math.sqrt(r["n"]) for r in rows]
    bands = Bands()
    low, high = [m - h for m, h in zip(mean, half)], [m + h for m, h in zip(mean, half)]
    estimate(ax, bands, xs, mean, low, high, "black", numeric=band, lw=1.2, ms=2.5)
    bands.draw(ax, alpha=0.35, zorder=1.7)


def _handles() -> list:
    handles = [Patch(color=colour, label=text) for _, text, colour in reversed(PARTS)]
    mean = Line2D([], [], color="black", lw=1.2, marker="o", ms=2.5, label=MEAN)
    return [*handles, Patch(facecolor="white", edgecolor="black", hatch="////", label=INTERVAL), mean]
