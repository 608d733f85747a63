"""One metric against the steps done, on a log axis (``plot DIR --x step --y regret``): the curves'
points (each episode's end, or every ``record_every`` steps), a line per setting of the swept rule
axes (the policy, its parameters), a panel per problem and horizon, as the learning curves choose
them (curves.choose), each estimate with its 95% band.

For regret on a fixed problem with binary rewards the Lai–Robbins lower bound is drawn dashed:
every consistent policy's expected regret grows at least as C ln t for large t (C from
problem.lai_robbins). It is asymptotic: at small t a good policy may lie below it.
"""

from __future__ import annotations

import math

import torch
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from ..metrics import metric
from ..problem import lai_robbins
from ..schema import BINARY
from ..schema import MODEL_OF as MODELS
from ..study.derived import expected_rewards
from .canvas import Sheet
from .curves import choose, combo_of, combos_of, kept, line_names, setting_title
from .marks import Bands, band_alpha, colours, estimate, log_scale, probability_axis
from .table import Table
from .words import title_block

FRACTIONS = ("success", "p_best", "optimal_action")  # 0..1 axes
BOUND_DASHES = (0, (5, 3))


def draw(table: Table, name: str = "regret"):
    """The figure of metric ``name`` at each curve point against the steps done: a Figure.
    ValueError when the study has fewer than two points a setting (nothing to draw on log steps)."""
    m = metric(name)
    y, (low, high) = m.curve, ("success_ci_low", "success_ci_high") if name == "success" else m.ci
    if max((len(points) for points in table.curves.values()), default=0) < 2:
        raise ValueError("--x step needs curves of two points or more: sweep with --record-every N (or episodes)")
    panel_shown, line_shown, held, notes = choose(table)
    panel_axes, line_axes = list(panel_shown), list(line_shown)
    rows = [r for r in table.rows if kept(r, {**panel_shown, **line_shown}, held)]
    panels, lines = combos_of(table, rows, panel_axes), combos_of(table, rows, line_axes)
    palette = colours(len(lines), len(line_axes) == 1 and line_axes[0] not in ("policy",) and len(lines) > 2)
    sheet = Sheet(len(panels))
    bound_drawn = False
    for (ax,), panel in zip(sheet.cells, panels):
        mine = [r for r in rows if combo_of(r, panel_axes) == panel]
        bands, steps = Bands(), []
        for row in mine:
            points = sorted(table.curves[row["setting"]], key=lambda c: c["step"])
            xs = [c["step"] for c in points]
            steps += xs
            estimate(ax, bands, xs, [c[y] for c in points], [c[low] for c in points], [c[high] for c in points],
                     palette[lines.index(combo_of(row, line_axes))], numeric=True, lw=1.4, ms=2.5)  # fmt: skip
        bands.draw(ax, alpha=band_alpha(len(lines)))
        if name == "regret" and mine and (c := bound(table.settings[mine[0]["setting"]])) is not None:
            ts = [min(steps) * (max(steps) / min(steps)) ** (i / 100) for i in range(101)]
            ax.plot(ts, [c * math.log(t) for t in ts], color="black", lw=1.2, ls=BOUND_DASHES, zorder=3)
            bound_drawn = True
        log_scale(ax, steps)
        if name in FRACTIONS:
            probability_axis(ax)
        ax.set_title(setting_title(panel_axes, panel, mine[0]) if panel_axes else "")
    names = line_names(rows, line_axes, lines)
    handles: list = [Line2D([], [], color=c, marker="o", ms=3, label=t) for c, t in zip(palette, names)]
    handles.append(Patch(color="grey", alpha=0.3, label="95% interval"))
    if bound_drawn:
        handles.append(Line2D([], [], color="black", lw=1.2, ls=BOUND_DASHES, label="Lai–Robbins bound C ln t"))
    head = f"{m.what.capitalize()} against the steps done" + (": the Lai–Robbins bound dashed" if bound_drawn else "")
    return sheet.finish(title_block(table, None, head, tuple(notes)), "steps done t (log scale)", m.label,
                        legend=handles)  # fmt: skip


def bound(setting) -> float | None:
    """The Lai–Robbins constant C of a fixed problem with binary rewards (P(win) of each arm from its
    expected reward), else None (Gaussian rewards, a random problem per bandit, a single best arm
    at P(win) 0 or 1)."""
    if MODELS[setting.model_keyword] not in BINARY:
        return None
    mu = expected_rewards(setting)
    if mu is None:
        return None
    win, loss = setting.get("reward_values", (1.0, -1.0))
    q = (torch.as_tensor(mu, dtype=torch.float64) - loss) / (win - loss)
    c = float(lai_robbins(q[None], win, loss)[0])
    return c if math.isfinite(c) and c > 0 else None
