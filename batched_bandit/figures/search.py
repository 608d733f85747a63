"""The threshold figure: the points the search evaluated, with their 95% intervals (Wilson for
success, normal for the means), the target, and the crossing with its interval (study/search.py);
the whole search on the left, the bracket it ended in on the right; the title states the setting
the search held fixed."""

from __future__ import annotations

import textwrap
from pathlib import Path

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from ..metrics import METRICS
from .canvas import DPI, RC, save
from .marks import Y_PROBABILITY

TITLE_CHARS = 150  # a title line's characters at the figure's width
FIGURE = "threshold.png"
ZOOM = 1.5  # the right panel spans the crossing's interval widened by this factor each way


def plot_threshold(found) -> Path:
    """Draw a Threshold (the result of ``threshold``) into ``found.out / "threshold.png"``."""
    import matplotlib

    low, high = found.ci
    m = METRICS[found.metric]
    column, (ci_low, ci_high) = m.column, m.ci
    interval = "Wilson" if m.kind == "proportion" else "normal"
    fraction = m.span == (0.0, 1.0)
    with matplotlib.rc_context(RC):
        fig = Figure(figsize=(12.5, 4.4), dpi=DPI, layout="constrained")
        FigureCanvasAgg(fig)
        axes = fig.subplots(1, 2)
        for panel, ax in enumerate(axes):
            zoom = panel == 1
            points = [p for p in found.points if not zoom or low / ZOOM**2 <= p["value"] <= high * ZOOM**2]
            xs, ys = [p["value"] for p in points], [p[column] for p in points]
            ax.errorbar(xs, ys, yerr=[[y - p[ci_low] for y, p in zip(ys, points)],
                                      [p[ci_high] - y for y, p in zip(ys, points)]],
                        fmt="o-", ms=3, lw=1, capsize=2, color="tab:blue",
                        label=f"evaluated points (95% {interval} interval)")  # fmt: skip
            ax.axhline(found.target, color="grey", ls=":", lw=1, label=f"target {found.target:g}")
            ax.axvspan(low, high, color="tab:orange", alpha=0.25, lw=0, label="crossing, 95% interval")
            ax.axvline(found.estimate, color="tab:orange", lw=1.2, label=f"crossing {found.estimate:.4g}")
            ax.set_xscale("log")
            if zoom:
                ax.set_xlim(low / ZOOM, high * ZOOM)
                near = [p[k] for p in points for k in (ci_low, ci_high)] + [found.target]
                pad = 0.1 * (max(near) - min(near)) + (0.005 if fraction else 1e-9 + 0.005 * abs(found.target))
                bottom, top = min(near) - pad, max(near) + pad
                if fraction:
                    bottom, top = max(0.0, bottom), min(1.0, top)
                ax.set_ylim(bottom, top)
                ax.set_title("around the crossing")
            else:
                if fraction:
                    ax.set_ylim(*Y_PROBABILITY)
                ax.set_title("the whole search")
            ax.set_xlabel(f"{found.axis} (log scale)")
            ax.set_ylabel(textwrap.fill(m.label, 30))
        n = found.points[0]["n"]
        title = [
            f"Where the {m.what} crosses {found.target:g}: {found.axis} = {found.estimate:.4g} "
            f"(95% CI {low:.4g} .. {high:.4g})",
            f"{len(found.points)} points of {n:,} bandits on shared random numbers; bracketed, then bisected "
            f"in log space; the interval inverts the points' {interval} intervals",
            *(textwrap.wrap(f"setting: {found.stated()}", TITLE_CHARS) if found.setting is not None else []),
        ]
        fig.suptitle("\n".join(title))
        fig.legend(*axes[0].get_legend_handles_labels(), loc="outside lower center", ncols=4, frameon=False)
        return save(fig, Path(found.out) / FIGURE)
