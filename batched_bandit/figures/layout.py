"""Which column goes on x, which axis makes the lines, which the facets, and what is held fixed.

Rules (seaborn's x / hue / col / row; the axis the question is about on x, then lines, then facets):

- x: the caller's choice, else the swept axis with the most values (ties: temperature, lr, then
  the innermost axis of the grid). A reward-model axis (arms) is read as a number where one
  determines it: its gap, else its number of arms K; else its vectors are categories. A derived
  column (gap, eta, eta_over_gap2, lr_over_T2, n_arms, total_steps) may be x: the swept axis it
  is computed from with the most values moves along the line, the other axes it is computed from
  come first as lines (x = eta_over_gap2 over several gaps: one line per gap on one axes). On x =
  param (each policy's own parameter) every policy's line moves along its own parameter.
- lines: the remaining axis with the most values that fit (<= MAX_LINES), else the one with the
  fewest, thinned to MAX_LINES values spread over its range.
- facets: the next axes, at most two (a grid of rows × columns), while the panels fit
  (<= MAX_PANELS); an axis that does not fit whole is thinned, the rest held at one value.
- Nothing is left out silently: every thinned or held axis gives a note, which the figure prints.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

from ..schema import MODEL_OF as MODELS
from ..study.axes import AXES
from .columns import ALL_MOVE_ALONG, DERIVED_FROM, MOVES_ALONG, is_number, log_spaced, short, text
from .table import Table, value

MAX_LINES = 8  # lines per axes: beyond ~8 colours a legend is no longer read
MAX_PANELS = 12  # facets per figure
MAX_LISTED = 6  # values named in a note; beyond, counted
# x among equally long axes: temperature, lr, then the grid's innermost axes first
PREFERENCE = ("temperature", "lr", *(a for a in reversed(AXES) if a not in ("temperature", "lr")))


@dataclass(frozen=True)
class Axis:
    """A column the rows are placed or grouped by.

    ``values`` are those shown, in order (None: the axis does not apply to a setting); ``by`` is
    the numeric column they are read as (the name itself, a stand-in such as ``gap`` for ``arms``,
    or "" for categories); ``labels`` and ``numbers``: each value's text and number."""

    name: str
    values: tuple
    by: str
    log: bool
    labels: tuple
    numbers: tuple  # each value's number (None for categories, n/a, or a vector not yet run)

    @property
    def numeric(self) -> bool:
        return bool(self.by)

    def position(self, row: dict):
        """Where a row sits on this axis: its number, or its category's index (None: not placed)."""
        if self.by:
            v = value(row, self.by)
            return v if v is not None and math.isfinite(v) else None
        key = value(row, self.name)
        return self.values.index(key) if key in self.values else None


@dataclass(frozen=True)
class Layout:
    """x, lines (or None), facets (0, 1 or 2 axes), the axes held at one value, and the notes."""

    x: Axis
    along: tuple  # the setting axes that vary along a line
    lines: Axis | None
    facets: tuple
    held: dict
    notes: tuple

    def keep(self, row: dict) -> bool:
        """Whether a row is drawn: held axes at their value, lines and facets among those shown."""
        if any(row.get(name) not in (None, v) for name, v in self.held.items()):
            return False
        return self.x.position(row) is not None and all(
            value(row, a.name) in a.values for a in (*self.facets, *([self.lines] if self.lines else []))
        )

    def panels(self) -> list[tuple]:
        """The facets' value combinations, row by row: one panel each."""
        return list(itertools.product(*(a.values for a in self.facets)))

    def group(self, rows: list[dict]) -> dict[tuple, dict]:
        """panel -> {line value -> its rows sorted along x}, for the rows kept."""
        out: dict[tuple, dict] = {panel: {} for panel in self.panels()}
        for row in rows:
            if self.keep(row):
                panel = tuple(value(row, a.name) for a in self.facets)
                line = value(row, self.lines.name) if self.lines else None
                out[panel].setdefault(line, []).append(row)
        for lines in out.values():
            for line, mine in lines.items():
                lines[line] = sorted(mine, key=self.x.position)
        return out


def choose(table: Table, x: str | None = None, lines: str | None = None, facets: str | None = None, *,
           max_lines: int = MAX_LINES, max_panels: int = MAX_PANELS) -> Layout:  # fmt: skip
    """The layout of a figure over ``table`` (module docstring: the rules); ValueError for a
    column that is not swept or not known, naming those that are."""
    swept = table.swept()
    x_axis, along = _x(table, x, swept)
    rest = [a for a in swept if a not in along and a != x_axis.name]
    lines, facets = (_given(table, name, rest, what) for name, what in ((lines, "lines"), (facets, "facets")))
    if lines is not None and lines == facets:
        raise ValueError(f"lines and facets are both {lines!r}; give two different axes")
    if lines is None and (left := [a for a in rest if a != facets]):
        collapse = DERIVED_FROM.get(x_axis.name, ())

        def rank(a):
            n = len(table.present(a))
            return (a not in collapse, n > max_lines, -n if n <= max_lines else n, PREFERENCE.index(a))

        lines = min(left, key=rank)
    notes: list[str] = []
    line_values = _thin(table, lines, max_lines, notes) if lines else ()
    rest = [a for a in rest if a not in (lines, facets)]
    order = [facets] if facets else []
    order += sorted(rest, key=lambda a: (-len(table.present(a)), PREFERENCE.index(a)))
    shown, held = fit(table, order, max_panels, notes, most=2)
    # "does not apply" only where a setting at the held values lacks the axis (momentum for adam, adam held out)
    settings = [s for s in table.settings if all(s.get(a) in (None, v) for a, v in held.items())]
    shown = {a: tuple(v for v in values if v is not None or any(a not in s for s in settings))
             for a, values in {**({lines: line_values} if lines else {}), **shown}.items()}  # fmt: skip
    line_axis = _axis(table, lines, shown.pop(lines)) if lines else None
    layout = Layout(x_axis, along, line_axis, tuple(_axis(table, a, v) for a, v in shown.items()), held, ())
    dropped = [r for r in table.rows if _kept_but_x(layout, r)]
    if dropped:
        notes.append(f"{len(dropped)} settings without a {short(x_axis.by or x_axis.name)} (it does not apply to them)")
    return Layout(layout.x, along, line_axis, layout.facets, held, tuple(notes))


def fit(table: Table, names: list[str], cap: int, notes: list[str], most: int | None = None):
    """Values to show of each axis (in order) so that their product stays <= ``cap``: the first
    axes whole, the next thinned, the others (and those past ``most``) held at one value.
    Returns ({axis: values shown}, {axis: held value}); ``notes`` gets a line for each cut."""
    shown: dict[str, tuple] = {}
    held: dict[str, object] = {}
    room = cap
    for name in names:
        n = len(table.present(name))
        if room >= 2 and (most is None or len(shown) < most):
            shown[name] = _thin(table, name, room, notes)
            room //= min(n, room)
        else:
            held[name] = _middle(table, name)
            others = [text(v) for v in table.present(name) if v != held[name]]
            listed = ", ".join(others) if len(others) <= MAX_LISTED else f"its {len(others)} other values"
            notes.append(f"{short(name)} held at {text(held[name])} ({listed} not drawn)")
    return shown, held


def axis(table: Table, name: str) -> Axis:
    """A column with all its values (None last where the axis does not apply to some settings)."""
    values = table.values.get(name) or table.present(name)
    return _axis(table, name, tuple(values))


def _x(table: Table, x: str | None, swept: list[str]) -> tuple[Axis, tuple]:
    """(the x axis, the setting axes that vary along a line)."""
    if x is None:
        if not swept:  # one setting: the temperature, or (another policy's) the first axis it has
            x = next(a for a in ("temperature", *table.axes) if any(v is not None for v in table.present(a)))
            return axis(table, x), (x,)
        x = max(swept, key=lambda a: (len(table.present(a)), -PREFERENCE.index(a)))
    elif x in table.axes:
        if x not in swept:
            raise ValueError(f"x = {x!r} has one value in this study; choose one of {_choices(table)}")
    elif x in DERIVED_FROM:
        if len(table.present(x)) < 2:
            raise ValueError(f"x = {x!r} has fewer than two values in this study; choose one of {_choices(table)}")
        drivers = [a for a in swept if a in MOVES_ALONG[x]]
        if x in ALL_MOVE_ALONG:
            return _axis(table, x, tuple(table.present(x))), tuple(drivers)
        along = max(drivers, key=lambda a: len(table.present(a)), default=None)
        return _axis(table, x, tuple(table.present(x))), (along,) if along else ()
    else:
        raise ValueError(f"unknown x {x!r}; choose one of {_choices(table)}")
    return axis(table, x), (x,)


def _given(table: Table, name: str | None, rest: list[str], what: str) -> str | None:
    """A caller's lines or facets axis, checked (``gap`` or ``n_arms`` name the reward-model axis)."""
    if name is None:
        return None
    if name in ("gap", "n_arms"):
        name = next((a for a in rest if a in MODELS), name)
    if name not in rest:
        raise ValueError(f"{what} = {name!r} is not a swept axis left once x is chosen; choose one of "
                         f"{', '.join(rest) or '(none: nothing else is swept)'}")  # fmt: skip
    return name


def _choices(table: Table) -> str:
    derived = [c for c in DERIVED_FROM if len(table.present(c)) > 1]
    return ", ".join(f"{a} ({len(table.present(a))} values)" for a in table.swept()) + (
        f"; derived: {', '.join(derived)}" if derived else "")  # fmt: skip


def _axis(table: Table, name: str, values: tuple) -> Axis:
    """An Axis of these values; vectors read by a stand-in are ordered by it (gap ascending)."""
    by = _reads_as(table, name)
    numbers = {v: _as_number(table, name, by, v) if by and v is not None else None for v in values}
    if by and by != name:
        values = tuple(sorted(values, key=lambda v: (numbers[v] is None, numbers[v] or 0.0)))
    labels = tuple(_label(table, name, by, v) for v in values)
    log = bool(by) and log_spaced(numbers.values())
    return Axis(name, tuple(values), by, log, labels, tuple(numbers[v] for v in values))


def _reads_as(table: Table, name: str) -> str:
    """The numeric column an axis's values are read as: itself, gap or K for a reward-model axis
    when one determines the other, "" for categories."""
    if name in MODELS:
        for stand_in in ("gap", "n_arms"):
            pairs = {(r.get(name), r.get(stand_in)) for r in table.rows}
            firsts, seconds = {p[0] for p in pairs}, {p[1] for p in pairs}
            if None not in seconds and len(pairs) == len(firsts) == len(seconds):
                return stand_in
        return ""
    present = table.present(name)
    return name if present and all(is_number(v) for v in present) else ""


def _as_number(table: Table, name: str, by: str, v):
    """A value's number: itself, or its stand-in (an arm vector's gap), None if it has no row yet."""
    if by == name:
        return v
    return next((value(r, by) for r in table.rows if r.get(name) == v), None)


def _label(table: Table, name: str, by: str, v) -> str:
    """A value's text, with a stand-in's number: "(0, 0.1), gap 0.0399"."""
    if v is None or by in (name, ""):
        return text(v)
    return f"{text(v)}, {short(by)} {text(_as_number(table, name, by, v))}"


def _thin(table: Table, name: str, most: int, notes: list[str]) -> tuple:
    """An axis's values, at most ``most`` of them spread over its range (the ends kept)."""
    values = table.values.get(name) or table.present(name)
    known = [v for v in values if v is not None]
    if len(known) <= most:
        return tuple(values)
    picks = sorted({round(i * (len(known) - 1) / (most - 1)) for i in range(most)})
    notes.append(f"{short(name)}: {len(picks)} of its {len(known)} values drawn, spread over the range")
    return tuple(known[i] for i in picks) + ((None,) if None in values else ())


def _middle(table: Table, name: str):
    """The value a held axis keeps: the middle of a numeric range, else the first; among the
    values with results (a partial study), if any."""
    present = [v for v in table.present(name) if any(r.get(name) == v for r in table.rows)] or table.present(name)
    return present[len(present) // 2] if all(is_number(v) for v in present) else present[0]


def _kept_but_x(layout: Layout, row: dict) -> bool:
    """A row the layout keeps except that it has no place on x (an axis that does not apply)."""
    return not layout.keep(row) and layout.keep({**row, layout.x.by or layout.x.name: layout.x.values[0]})
