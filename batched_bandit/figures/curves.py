"""Learning curves: at each point of the curves (each episode's end, or every ``record_every`` steps
when the study traced its runs) the success rate (95% Wilson band), the mean P(best arm) (95%
normal band) with the mean-field P(best) dashed (SGD on fixed problems: the expected-update
trajectory, meanfield.py), the mean reward per step within the interval ending at the point, and
the mean cumulative regret (normal bands). A panel per problem, horizon and rule (the axes in
PANEL_AXES that are swept), a stack of four axes, a line per setting of the other swept axes;
layout.fit says what does not fit. The fraction of optimal pulls is in curves.csv: at a point it
is close to the mean P(best), drawn here.
"""

from __future__ import annotations

from matplotlib.artist import Artist
from matplotlib.colors import to_rgb
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import MaxNLocator

from ..schema import MODEL_OF as MODELS
from .canvas import Sheet
from .columns import is_number, log_spaced, setting_text, text
from .layout import MAX_LINES, MAX_PANELS, PREFERENCE, fit
from .marks import Bands, band_alpha, colours, estimate, log_scale, probability_axis
from .table import Table
from .words import title_block

PANEL_AXES = (*MODELS, "reward_values", "reward_sd", "n_episodes", "steps_per_episode", "optimizer", "baseline",
              "nesterov", "centered")  # fmt: skip
PANEL = (4.2, 1.6)  # a panel is four axes high: success rate, mean P(best), reward, regret
DASHES = (0, (4, 2))
# the stack, top first: (column, its band's columns, y label, a 0..1 axis)
CURVES = (
    ("success_rate", "success_ci_low", "success_ci_high", "success rate", True),
    ("mean_p_best", "p_best_ci_low", "p_best_ci_high", "mean P(best arm)", True),
    ("mean_reward", "reward_ci_low", "reward_ci_high", "mean reward\nper step", False),
    ("mean_regret", "regret_ci_low", "regret_ci_high", "mean regret\n(cumulative)", False),
)


def choose(table: Table) -> tuple[dict, dict, dict, list[str]]:
    """({panel axis: values shown}, {line axis: values shown}, {held axis: value}, notes): in each
    group the axes with the most values first. When only problem, horizon and rule axes are swept,
    panels of one curve each would be compared across the page: the longest such axis becomes the
    lines of one panel instead."""
    swept = sorted(table.swept(), key=lambda a: (-len(table.present(a)), PREFERENCE.index(a)))
    panel_axes, line_axes = [a for a in swept if a in PANEL_AXES], [a for a in swept if a not in PANEL_AXES]
    if not line_axes and panel_axes:
        line_axes.append(panel_axes.pop(0))
    notes: list[str] = []
    panels, held = fit(table, panel_axes, MAX_PANELS, notes)
    lines, held_lines = fit(table, line_axes, MAX_LINES, notes)
    return panels, lines, {**held, **held_lines}, notes


def draw(table: Table):
    """The learning-curve figure: a Figure."""
    panel_shown, line_shown, held, notes = choose(table)
    panel_axes, line_axes = list(panel_shown), list(line_shown)
    rows = [r for r in table.rows if kept(r, {**panel_shown, **line_shown}, held)]
    panels, lines = combos_of(table, rows, panel_axes), combos_of(table, rows, line_axes)
    every = table.spec.get("record_every")
    # horizons of different steps per episode share one axes in steps done, not in episodes; so do traces
    x = "step" if "steps_per_episode" in line_axes or every else "episode"
    log = x == "step" and "steps_per_episode" in line_axes and log_spaced([r["steps_per_episode"] for r in rows])
    ordered = len(line_axes) == 1 and (line_axes[0] in MODELS or all(is_number(c[0]) for c in lines))
    palette = colours(len(lines), ordered)  # arm vectors are ordered by their gap
    sheet = Sheet(len(panels), panel=PANEL, stack=len(CURVES), sharex=False)
    mean_field = False
    for cell, panel in zip(sheet.cells, panels):
        mine = [r for r in rows if combo_of(r, panel_axes) == panel]
        bands = tuple(Bands() for _ in CURVES)
        for row in mine:
            points = sorted(table.curves[row["setting"]], key=lambda c: c["step"])
            colour = palette[lines.index(combo_of(row, line_axes))]
            mean_field |= _draw_setting(cell, bands, x, points, colour)
        for ax, band, curve in zip(cell, bands, CURVES):
            band.draw(ax, alpha=band_alpha(len(lines)))
            if curve[4]:
                probability_axis(ax)
        cell[0].set_title(setting_title(panel_axes, panel, mine[0]))
        bottom = cell[-1]
        if log:
            log_scale(bottom, [c["step"] for r in mine for c in table.curves[r["setting"]]])
        elif x == "episode" and max(r["n_episodes"] for r in mine) == 1:
            bottom.set_xticks([1])  # one episode: one point, and no fractional ticks around it
        else:
            bottom.xaxis.set_major_locator(MaxNLocator(integer=True, steps=[1, 2, 5, 10]))
    names = line_names(rows, line_axes, lines)
    where = f"every {text(every)} steps" if every else "at each episode's end"
    head = f"Learning curves {where}: success rate, mean P(best arm), mean reward per step, mean cumulative regret"
    return sheet.finish(title_block(table, None, head, tuple(notes)), _x_label(x, log, rows, every),
                        tuple(c[3] for c in CURVES), legend=_handles(names, palette, mean_field))  # fmt: skip


def _x_label(x: str, log: bool, rows: list[dict], every: int | None = None) -> str:
    """The x label: "episode (1,000 steps each)", "steps done (a point every 10 steps)", or "steps done
    (log scale)" when horizons share the axes."""
    if x == "step":
        every_text = f" (a point every {text(every)} steps)" if every else ""
        return "steps done" + (" (log scale)" if log else "") + every_text
    steps = {r["steps_per_episode"] for r in rows}
    return "episode" + (f" ({text(steps.pop())} steps each)" if len(steps) == 1 else " (steps: see the panel's title)")


def _draw_setting(axes: list, bands: tuple, x: str, points: list[dict], colour) -> bool:
    """One setting's curves against ``x`` (episode or step), one metric per axes of the stack; True
    if it has a mean-field trajectory (drawn dashed, darker, over the mean P(best))."""
    xs = [c[x] for c in points]
    for ax, band, (y, low, high, _, _) in zip(axes, bands, CURVES):
        estimate(ax, band, xs, [c[y] for c in points], [c[low] for c in points], [c[high] for c in points], colour,
                 numeric=True, lw=1.4, ms=2.5)  # fmt: skip
    field = [c["mean_field_p_best"] for c in points]
    if any(f is None for f in field):
        return False
    darker = tuple(0.55 * c for c in to_rgb(colour))  # visible where it lies on the simulated mean
    axes[1].plot(xs, field, color=darker, lw=1.1, ls=DASHES, marker="_" if len(points) == 1 else None, zorder=2.5)
    return True


def line_names(rows: list[dict], names: list[str], combos: list[tuple]) -> list[str]:
    """The legend's text of each line: its axes at their values (setting_title)."""
    return [setting_title(names, c, next(r for r in rows if combo_of(r, names) == c)) for c in combos]


def kept(row: dict, shown: dict, held: dict) -> bool:
    """A row at the held values (or without the axis) and among the values shown."""
    return all(row.get(a) in (None, v) for a, v in held.items()) and all(row.get(a) in v for a, v in shown.items())


def setting_title(names: list[str], values: tuple, row: dict) -> str:
    """Axes at values, a reward-model axis with its gap: "arms (0, 0.1), gap 0.0399, 1,000 steps"."""
    parts = [setting_text(a, v) + (f", gap {text(row['gap'])}" if a in MODELS and row.get("gap") else "")
             for a, v in zip(names, values)]  # fmt: skip
    return ", ".join(parts)


def combo_of(row: dict, names: list[str]) -> tuple:
    return tuple(row.get(a) for a in names)


def combos_of(table: Table, rows: list[dict], names: list[str]) -> list[tuple]:
    """The distinct value combinations of these axes among the rows, sorted: numbers ascending,
    arm vectors by their gap, choices in the grid's order, None last."""
    first = {combo_of(r, names): r for r in reversed(rows)}

    def key(combo):
        gap = first[combo].get("gap") or 0.0
        return [(v is None, v if is_number(v) else gap if a in MODELS else table.values[a].index(v))
                for a, v in zip(names, combo)]  # fmt: skip

    return sorted(first, key=key)


def _handles(names: list[str], palette: list, mean_field: bool) -> list:
    handles: list[Artist] = [Line2D([], [], color=c, lw=1.4, label=name or "the study's one setting")
               for c, name in zip(palette, names)]  # fmt: skip
    handles.append(Patch(color="grey", alpha=0.3, label="95% interval (Wilson; normal for the mean)"))
    if mean_field:
        handles.append(Line2D([], [], color="black", lw=1.1, ls=DASHES, label="mean field: expected-update P(best)"))
    return handles
