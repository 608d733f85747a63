"""How an estimate is drawn: a line in its 95% band over a numeric x (the bands of a panel in one
collection: matplotlib makes each collection a colour mapper of its own, which cost ~2 ms apiece),
points with error bars over categories; colours; a probability axis; category ticks.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from matplotlib import colormaps
from matplotlib.collections import PolyCollection
from matplotlib.ticker import LogLocator, NullLocator

Y_PROBABILITY = (-0.03, 1.03)  # a probability axis: curves at 0 and 1 stay off the frame
BAND_ALPHA = 0.22
MARKERS_UP_TO = 40  # points per line drawn with markers; beyond, the line alone
SHORT_SPAN = 30.0  # a log axis spanning less has its ticks at the values


class Bands:
    """The 95% bands of one axes, drawn together under the lines."""

    def __init__(self):
        self.polygons, self.colours = [], []

    def add(self, xs: Sequence, low: Sequence, high: Sequence, colour) -> None:
        self.polygons.append([*zip(xs, low), *zip(reversed(xs), reversed(high))])
        self.colours.append(colour)

    def draw(self, ax, **style) -> None:
        """One PolyCollection (``style``: its options; default translucent, no edge, under the lines)."""
        if self.polygons:
            style = {"alpha": BAND_ALPHA, "lw": 0, "zorder": 1.5, **style}
            ax.add_collection(PolyCollection(self.polygons, facecolors=self.colours, **style), autolim=True)
            ax.autoscale_view()


def estimate(ax, bands: Bands, xs: list, y: list, low: list, high: list, colour, *, numeric: bool,
             offset: float = 0.0, **line) -> None:  # fmt: skip
    """Estimates with their 95% intervals: a line in a band over a numeric x (the band added to
    ``bands``), else points with error bars nudged by ``offset`` so that lines at one category do
    not hide each other."""
    if numeric and len(xs) > 1:
        bands.add(xs, low, high, colour)
        marker = "o" if len(xs) <= MARKERS_UP_TO else None
        ax.plot(xs, y, color=colour, lw=line.pop("lw", 1.5), marker=marker, ms=line.pop("ms", 3), zorder=2, **line)
        return
    below = [max(0.0, v - lo) for v, lo in zip(y, low)]
    above = [max(0.0, hi - v) for v, hi in zip(y, high)]
    ax.errorbar([x + offset for x in xs], y, yerr=[below, above], color=colour, fmt="o", ms=4, capsize=3, zorder=2)


def band_alpha(n_lines: int) -> float:
    """A band's opacity: lighter when many lines' bands overlap, so that they do not turn opaque."""
    return min(BAND_ALPHA, 0.5 / n_lines)


def colours(n: int, ordered: bool) -> list:
    """n colours: a sequential map (viridis, its light end cut) for ordered values, else tab10."""
    if ordered and n > 2:
        cmap = colormaps["viridis"]
        return [cmap(0.88 * i / (n - 1)) for i in range(n)]
    return [colormaps["tab10"](i % 10) for i in range(n)]


def log_scale(ax, values, which: str = "x") -> None:
    """A log scale. Over three or more powers of two, base 2 ticked at each (1/128 ... 4, as Sutton
    & Barto's parameter study); else over less than SHORT_SPAN, ticks at the values themselves (a
    decade tick may not fall inside); else decades, with minor ticks at 2 and 5 only: ticks are most
    of the drawing time, and eight a decade add little to a grid line per decade."""
    axis = ax.xaxis if which == "x" else ax.yaxis
    known = sorted({v for v in values if v is not None and v > 0})
    powers = [math.log2(v) for v in known]
    if len(known) > 2 and all(p == round(p) for p in powers):  # 1/128, 1/64 ... 4: Sutton & Barto's axis
        (ax.set_xscale if which == "x" else ax.set_yscale)("log", base=2)
        ticks = [2.0**k for k in range(round(powers[0]), round(powers[-1]) + 1)]
        axis.set_ticks(ticks, [power_of_two(v) for v in ticks])
        axis.set_minor_locator(NullLocator())
        return
    (ax.set_xscale if which == "x" else ax.set_yscale)("log")
    if known and known[-1] / known[0] < SHORT_SPAN and len(known) <= 10:
        axis.set_ticks(known, [f"{v:.4g}" for v in known])
        axis.set_minor_locator(NullLocator())
    else:
        axis.set_minor_locator(LogLocator(subs=(2.0, 5.0)))


def power_of_two(v: float) -> str:
    """2**k as read on Sutton & Barto's axes: 1/128, 1/2, 1, 4."""
    return f"1/{round(1 / v)}" if v < 1 else f"{round(v)}"


def probability_axis(ax) -> None:
    """y from 0 to 1 with room above and below, so that a curve at 1.0 is not hidden by the frame."""
    ax.set_ylim(*Y_PROBABILITY)


def categories(ax, labels: tuple) -> float:
    """Tick labels of a categorical x, slanted when long; returns their height in inches."""
    slant = max(map(len, labels)) > 10
    ax.set_xticks(range(len(labels)), labels, rotation=30 if slant else 0, ha="right" if slant else "center")
    ax.set_xlim(-0.5, len(labels) - 0.5)
    return 0.2 + (0.035 * max(map(len, labels)) if slant else 0.0)
