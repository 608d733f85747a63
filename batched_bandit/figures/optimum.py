"""The optimum figure: each search's points with their 95% intervals (Wilson for success, normal for
the means), and its optimum with the 95% intervals of its location (across) and of the metric there
(up); the whole search on the left, around the optima on the right. One line per value of the by
axis (study/optimum.py). The title states the setting the searches held fixed."""

from __future__ import annotations

import textwrap
from pathlib import Path

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from ..metrics import METRICS
from ..study.selector import describe_value
from .canvas import DPI, RC, save
from .marks import colours

FIGURE = "optimum.png"
ZOOM = 1.5  # the right panel spans the optima's intervals widened by this factor each way
LOG_Y = 10.0  # the whole search's y is logarithmic when its positive means span this factor
TITLE_CHARS = 150  # a title line's characters at the figure's width


def plot_optimum(found) -> Path:
    """Draw an Optimum, or the Optima of ``optimum(..., by=AXIS)``, into ``found.out / "optimum.png"``."""
    import matplotlib

    searches = list(zip(found.values, found.results)) if hasattr(found, "results") else [(None, found)]
    first = searches[0][1]
    m = METRICS[first.metric]
    column, (ci_low, ci_high) = m.column, m.ci
    interval = "Wilson" if m.kind == "proportion" else "normal"
    lows = [r.ci[0] for _, r in searches]
    highs = [r.ci[1] for _, r in searches]
    with matplotlib.rc_context(RC):
        fig = Figure(figsize=(12.5, 4.8), dpi=DPI, layout="constrained")
        FigureCanvasAgg(fig)
        axes = fig.subplots(1, 2)
        for panel, ax in enumerate(axes):
            zoom = panel == 1
            shown = []
            for (value, r), colour in zip(searches, colours(len(searches), ordered=False)):
                points = [p for p in r.points if not zoom or min(lows) / ZOOM**2 <= p["value"] <= max(highs) * ZOOM**2]
                xs, ys = [p["value"] for p in points], [p[column] for p in points]
                visible = [p for p in points if min(lows) / ZOOM <= p["value"] <= max(highs) * ZOOM]
                shown += [p[k] for p in visible for k in (ci_low, ci_high)] + list(r.value_ci)
                name = "" if value is None else f"{found.by} {describe_value(value)}: "
                ax.errorbar(xs, ys, yerr=[[y - p[ci_low] for y, p in zip(ys, points)],
                                          [p[ci_high] - y for y, p in zip(ys, points)]],
                            fmt="o-", ms=2.5, lw=1, capsize=1.5, color=colour, alpha=0.8,
                            label=f"{name}points (95% {interval} intervals)")  # fmt: skip
                ax.errorbar([r.estimate], [r.value], xerr=[[r.estimate - r.ci[0]], [r.ci[1] - r.estimate]],
                            yerr=[[r.value - r.value_ci[0]], [r.value_ci[1] - r.value]], fmt="D", ms=6, capsize=4,
                            lw=2, color=colour, mec="black", zorder=5,
                            label=f"{name}optimum {r.axis} = {r.estimate:.4g} (95% CI {r.ci[0]:.4g} .. "
                            f"{r.ci[1]:.4g})")  # fmt: skip
            ax.set_xscale("log")
            if zoom:
                ax.set_xlim(min(lows) / ZOOM, max(highs) * ZOOM)
                pad = 0.1 * (max(shown) - min(shown)) + 1e-9
                ax.set_ylim(min(shown) - pad, max(shown) + pad)
                ax.set_title("around the optima" if len(searches) > 1 else "around the optimum")
            else:
                means = [p[column] for _, r in searches for p in r.points]
                if min(means) > 0 and max(means) / min(means) > LOG_Y:
                    ax.set_yscale("log")
                ax.set_title("the whole search" + ("es" if len(searches) > 1 else ""))
            ax.set_xlabel(f"{first.axis} (log scale)")
            ax.set_ylabel(textwrap.fill(m.label, 30))
        goal = "lowest" if first.goal == "minimize" else "highest"
        by = "" if len(searches) == 1 and searches[0][0] is None else f", one search per {found.by}"
        title = [
            f"Where the {m.what} is {goal} along {first.axis}{by}",
            f"each point {first.points[0]['n']:,} bandits on shared random numbers; bracketed, then refined in log "
            f"space; the optimum a quadratic fit in log({first.axis}), its 95% intervals a bootstrap over bandits",
        ]
        if first.setting is not None:
            title += textwrap.wrap(f"setting: {first.stated(None if by == '' else found.by)}", TITLE_CHARS)
        fig.suptitle("\n".join(title))
        fig.legend(*axes[0].get_legend_handles_labels(), loc="outside lower center", ncols=2, frameon=False)
        return save(fig, Path(found.out) / FIGURE)
