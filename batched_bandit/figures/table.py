"""A study as the figures read it: its rows and curves (from the store, through the read API, so a
partial or interrupted study can be drawn), its grid's axes and their values, what it held fixed.
"""

from __future__ import annotations

import os
from collections import defaultdict

from ..study.axes import AXES
from ..study.tables import open_study
from .columns import is_number, setting_text, text


class Table:
    """The rows (results.csv's, one per setting with results), the curves by setting, and the axes:
    ``values[axis]`` are the grid's values of each setting axis (sorted if numeric; None where the
    axis does not apply to a setting), over every planned setting, so that a partial study is laid
    out as the finished one will be."""

    def __init__(self, spec: dict, settings: list, rows: list[dict], curves: list[dict], tasks: tuple[int, int]):
        if not rows:
            raise ValueError("the study has no results yet (no task has finished): nothing to draw")
        self.spec, self.settings, self.rows = spec, settings, rows
        self.curves = defaultdict(list)
        for point in curves:
            self.curves[point["setting"]].append(point)
        self.tasks_done, self.tasks_total = tasks
        self.axes = [k for k in AXES if k in spec]
        self.values = {name: _distinct([s.get(name) for s in settings]) for name in self.axes}

    @classmethod
    def read(cls, out: str | os.PathLike, rows: list[dict] | None = None, curves: list[dict] | None = None) -> Table:
        """The study in folder ``out``; ``rows``, ``curves``: its tables when the caller has them
        already (``sweep`` has just computed them from the same store: the same numbers)."""
        with open_study(out) as study:
            tasks = study.store.tasks()
            return cls(
                study.spec, study.settings, study.rows() if rows is None else rows,
                study.curves() if curves is None else curves,
                (sum(t["state"] == "done" for t in tasks), len(tasks)),
            )  # fmt: skip

    def swept(self) -> list[str]:
        """The setting axes with more than one value (not counting "does not apply")."""
        return [name for name in self.axes if len(self.present(name)) > 1]

    def present(self, name: str) -> list:
        """An axis's values other than None (the setting columns), or a column's distinct values
        over the rows (derived columns: gap, eta, total_steps...)."""
        values = self.values[name] if name in self.values else _distinct([value(r, name) for r in self.rows])
        return [v for v in values if v is not None]

    def about(self) -> str:
        """ "10,000 bandits per setting, seed 0", and how far a partial study has got."""
        counts = sorted({r["n"] for r in self.rows})
        n = text(counts[0]) + (f"–{text(counts[-1])}" if len(counts) > 1 else "")
        out = f"{n} bandits per setting, seed {self.spec.get('seed', '?')}"
        if len(self.rows) < len(self.settings) or self.tasks_done < self.tasks_total:
            out += (f"; PARTIAL study: {self.tasks_done} of {self.tasks_total} tasks done, {len(self.rows)} of "
                    f"{len(self.settings)} settings have results so far")  # fmt: skip
        return out

    def fixed(self, shown: tuple[str, ...] = ()) -> str:
        """The axes the study held at one value, as "lr 0.01, arms (0, 0.1), 50 episodes × 1,000 steps per episode"."""
        single = {k: self.present(k)[0] for k in self.axes if len(self.present(k)) == 1 and k not in shown}
        parts = [setting_text(k, v) for k, v in single.items() if k not in ("n_episodes", "steps_per_episode")]
        horizon = [setting_text(k, single[k]) for k in ("n_episodes", "steps_per_episode") if k in single]
        return ", ".join([*parts, " × ".join(horizon)] if horizon else parts)


def value(row: dict, name: str):
    """A row's value of a column; ``total_steps`` is computed (episodes × steps per episode)."""
    if name == "total_steps":
        return row["n_episodes"] * row["steps_per_episode"]
    return row.get(name)


def _distinct(values: list) -> list:
    """Distinct values, numbers sorted, others in order of first appearance; None last."""
    seen = list(dict.fromkeys(values))
    known = [v for v in seen if v is not None]
    if known and all(is_number(v) for v in known):
        known.sort()
    return known + ([None] if None in seen else [])
