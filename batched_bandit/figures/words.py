"""The words of a figure: its title block (what is drawn against what, for how many bandits and
which seed, what the study held fixed, what the figure left out) and its panel titles.

A figure must be read without the code: everything a stranger needs to know about what
is and is not shown is printed on it, not left to a log.
"""

from __future__ import annotations

from .columns import ALL_MOVE_ALONG, label, short, text
from .layout import Layout
from .table import Table


def title_block(table: Table, layout: Layout | None, head: str, left_out: tuple = (), more: str = "") -> list[str]:
    """[what, how many bandits / seed / fixed, what varies along a line, ``more``, "Left out: ..."
    (the layout's notes and ``left_out``)]."""
    shown: tuple[str, ...] = ()
    lines = [head]
    if layout is not None:
        shown = (layout.x.name, *layout.along, *(a.name for a in layout.facets))
        shown += (layout.lines.name,) if layout.lines else ()
    fixed = table.fixed(shown)
    lines.append(table.about() + (f"; fixed: {fixed}" if fixed else ""))
    if layout is not None:
        lines += [_along(layout), _stand_in(layout)]
    lines.append(more)
    notes = [*(layout.notes if layout else ()), *left_out]
    if notes:
        lines.append("Left out: " + "; ".join(notes) + " (all are in results.csv)")
    return [line for line in lines if line]


def _along(layout: Layout) -> str:
    """For a derived x, what moves along each line: "along each line: T varies"."""
    x = layout.x
    if x.name in layout.along or not layout.along or x.by != x.name or x.name in ("gap", "n_arms"):
        return ""  # x is the axis itself, or a reward-model axis read by its gap or K
    if x.name in ALL_MOVE_ALONG:  # each line along its own axis: "ε, c, lr: each policy's line along its own"
        return f"x = {short(x.name)}: {', '.join(short(a) for a in layout.along)}, each line along its own"
    return f"x = {short(x.name)}: {', '.join(short(a) for a in layout.along)} varies along each line"


def _stand_in(layout: Layout) -> str:
    """For an arm-vector axis read by a number: "x: arms (0, 0.05) … (0, 2), placed by their gap"."""
    x = layout.x
    if not x.by or x.by == x.name or len(x.values) < 2:
        return ""
    return f"x: {short(x.name)} {text(x.values[0])} … {text(x.values[-1])}, placed by their {short(x.by)}"


def x_label(layout: Layout) -> str:
    return label(layout.x.by or layout.x.name, layout.x.log)


def panel_title(layout: Layout, panel: tuple) -> str:
    """The facets' values of a panel: "optimizer adam, baseline mean"."""
    parts = []
    for facet, v in zip(layout.facets, panel):
        parts.append(f"{short(facet.name)} {facet.labels[facet.values.index(v)]}")
    return ", ".join(parts)


def legend_title(layout: Layout) -> str | None:
    return short(layout.lines.name) if layout.lines else None
