"""The figure around the panels, laid out by hand in inches: a grid of panels (one axes each, or
a stack of axes), margins for the labels, the title block above, a legend or colour bar on the
right, no side over MAX_PX; and an atomic PNG write with fixed metadata (the same study gives the
same bytes).

By hand rather than matplotlib's constrained layout: the sizes are known (probability axes,
labels we write), and constrained layout measures every tick of every axes twice, which was half
the drawing time. The legend is measured (its text is ours and varies). matplotlib's object API
(``Figure``, no pyplot): the caller's backend and open figures are left alone.
"""

from __future__ import annotations

import math
import textwrap
from pathlib import Path

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from ..study.files import write_with

DPI = 100
MAX_PX = 2400  # on a side: a figure stays readable on a screen and small on disk
MAX_INCHES = MAX_PX / DPI
PANEL = (4.2, 3.0)  # inches per panel, before the bound scales panels down
MIN_PANELS_WIDTH = 6.0  # a lone panel gets room for the title block
TITLE_LINE = 0.2  # inches per line: title block (10 pt)
LABEL_LINE = 0.16  # axis labels, panel titles (9 pt)
TICK_CHAR = 0.065  # width of a tick label's character (8 pt)
TICKS = 0.2  # height of a row of tick labels and the tick marks
GAP = 0.25  # between panels that share their tick labels
STACK_GAP = 0.08  # between the axes of a stack
TITLE_CHARS_PER_INCH = 14  # 10 pt DejaVu Sans: ~15 measured
LABEL_CHARS_PER_INCH = 15  # 9 pt
RC = {"font.size": 9, "axes.titlesize": 9, "axes.labelsize": 9, "legend.fontsize": 8, "xtick.labelsize": 8,
      "ytick.labelsize": 8, "figure.titlesize": 10, "axes.grid": True, "grid.alpha": 0.3,
      "hatch.linewidth": 0.5, "path.simplify": True,
      "axes.titley": 1.0}  # fmt: skip  # a fixed title position: placing it measures every tick label


def wrap(n: int) -> tuple[int, int]:
    """(rows, columns) for n panels: at most 4 across."""
    cols = n if n <= 3 else 2 if n == 4 else 3 if n <= 9 else 4
    return math.ceil(n / cols), cols


class Sheet:
    """A figure of ``n`` panels in a grid (``shape`` rows × columns, else wrapped); a panel is one
    axes, or ``stack`` axes one above the other sharing x. ``cells[i]`` are panel i's axes (top
    first); panels share y, axes by axes of their stacks (and x when ``sharex``), tick labels only on
    the outer ones."""

    def __init__(self, n: int, *, shape: tuple[int, int] | None = None, panel=PANEL, stack: int = 1,
                 sharex: bool = True):  # fmt: skip
        self.n, self.panel, self.stack = n, panel, stack
        self.rows, self.cols = shape or wrap(n)
        self.fig = Figure(dpi=DPI)
        FigureCanvasAgg(self.fig)
        heights = [0.0] * (self.rows * (2 * stack) - 1)  # axes rows with gaps between them; set in finish
        self.grid = self.fig.add_gridspec(len(heights), 2 * self.cols - 1, hspace=0, wspace=0)
        self.cells, first = [], [None] * stack  # the first panel's axes: each stack row shares its y
        for i in range(n):
            r, c = divmod(i, self.cols)
            cell = []
            for s in range(stack):
                share = {"sharey": first[s], "sharex": (cell[0] if cell else first[0] if sharex else None)}
                ax = self.fig.add_subplot(self.grid[r * 2 * stack + 2 * s, 2 * c], **share)
                first[s] = first[s] or ax
                cell.append(ax)
            self.cells.append(cell)
        self.inner_x = stack > 1 or not sharex or n < self.rows * self.cols  # x labels between rows

    @property
    def axes(self) -> list:
        return [ax for cell in self.cells for ax in cell]

    def _below_is_empty(self, i: int) -> bool:
        return i + self.cols >= self.n

    def finish(self, title: list[str], x_label: str, y_label: str | tuple, *, legend: list | None = None,
               legend_title: str | None = None, colorbar=None, colorbar_label: str = "success rate",
               y_tick_chars: int = 3, x_ticks: float = TICKS):  # fmt: skip
        """Labels on the outer panels, sizes, the title block, the legend (handles) or ``colorbar``
        (a mappable); ``y_label``: one, or one per axes of a stack; ``y_tick_chars``, ``x_ticks``:
        the widest y tick label in characters, the x tick labels' height in inches. Returns the Figure."""
        fig, (pw, ph) = self.fig, self.panel
        y_labels = y_label if isinstance(y_label, tuple) else (y_label,) * self.stack
        right = 0.4 + self._side(legend, legend_title, colorbar)  # the legend's own padding included
        left = 0.2 + LABEL_LINE * max(t.count("\n") + 1 for t in y_labels) + TICK_CHAR * y_tick_chars
        scale = min(1.0, (MAX_INCHES - left - right - GAP * (self.cols - 1)) / (self.cols * pw))
        panels_w = max(MIN_PANELS_WIDTH if self.cols == 1 else 0, self.cols * pw * scale + GAP * (self.cols - 1))
        each_w = (panels_w - GAP * (self.cols - 1)) / self.cols
        x_label = textwrap.fill(x_label, max(30, int(each_w * LABEL_CHARS_PER_INCH)))
        self._label(x_label, y_labels)
        x_room = x_ticks + LABEL_LINE * (x_label.count("\n") + 1)
        titled = any(ax.get_title() for ax in self.axes)
        gap_y = 0.1 + LABEL_LINE * titled + (x_room if self.inner_x else 0)
        width = left + panels_w + right
        # the legend starts below the title block, so the title may use the whole width
        chars = int((width - 0.3) * TITLE_CHARS_PER_INCH)
        lines = [part for line in title if line for part in textwrap.wrap(line, chars)]
        top, bottom = 0.2 + TITLE_LINE * len(lines) + LABEL_LINE * titled, 0.12 + x_room
        stack_h = self.stack * ph + (self.stack - 1) * STACK_GAP
        h_scale = min(1.0, (MAX_INCHES - top - bottom - gap_y * (self.rows - 1)) / (self.rows * stack_h))
        height = top + self.rows * stack_h * h_scale + gap_y * (self.rows - 1) + bottom
        fig.set_size_inches(width, min(MAX_INCHES, max(height, top + self._legend_height + 0.2)))
        height = fig.get_figheight()
        self.grid.set_width_ratios([each_w if c % 2 == 0 else GAP for c in range(2 * self.cols - 1)])
        self.grid.set_height_ratios(self._heights(ph * h_scale, gap_y))
        self.grid.update(left=left / width, right=(left + panels_w) / width, bottom=bottom / height,
                         top=1 - top / height)  # fmt: skip
        for ax in self.axes:  # GridSpec.update moves the axes of pyplot's figures only
            ax.set_position(ax.get_subplotspec().get_position(fig))
        fig.suptitle("\n".join(lines), y=1 - 0.1 / height, va="top")
        side = (left + panels_w + 0.25) / width
        if self._legend is not None:
            self._legend.set_bbox_to_anchor((side, 1 - top / height), transform=fig.transFigure)
        if colorbar is not None:
            cax = fig.add_axes((side, bottom / height, 0.15 / width, 1 - (top + bottom) / height))
            fig.colorbar(colorbar, cax=cax, label=colorbar_label)
        return fig

    def _label(self, x_label: str, y_labels: tuple) -> None:
        """Tick labels on the outer panels (x also above an empty slot and under every stack),
        the axis labels beside them."""
        for i, cell in enumerate(self.cells):
            for s, ax in enumerate(cell):
                low = s == len(cell) - 1 and (self.inner_x or self._below_is_empty(i))
                ax.tick_params(which="both", labelbottom=low, labelleft=i % self.cols == 0)
                if low and (self.stack > 1 or self._below_is_empty(i)):
                    ax.set_xlabel(x_label)
                if i % self.cols == 0:
                    ax.set_ylabel(y_labels[s])

    def _side(self, legend, legend_title, colorbar) -> float:
        """The legend's (measured) or colour bar's width in inches, and remember the legend."""
        self._legend, self._legend_height = None, 0.0
        if colorbar is not None:
            return 0.9
        if not legend:
            return 0.0
        self._legend = self.fig.legend(handles=legend, title=legend_title, loc="upper left", frameon=False,
                                       alignment="left")  # fmt: skip
        box = self._legend.get_window_extent(self.fig.canvas.get_renderer())
        self._legend_height = box.height / DPI
        return box.width / DPI

    def _heights(self, ph: float, gap_y: float) -> list[float]:
        """Height ratios of the grid's rows: axes, the small gap inside a stack, the gap between panels."""
        out = []
        for r in range(self.rows):
            for s in range(self.stack):
                out.append(ph)
                if s < self.stack - 1:
                    out.append(STACK_GAP)
            if r < self.rows - 1:
                out.append(gap_y)
        return out


def save(fig, path: Path) -> Path:
    """Write a PNG atomically (a kill leaves the old file or the new one; never through a link), with
    fixed metadata."""
    return write_with(path, lambda f: fig.savefig(f, format="png", dpi=DPI, metadata={"Software": None}))
