"""How a study shows itself in a notebook or a REPL: a one-line ``repr`` (its folder, the settings
done) and an HTML table of its results with its main figure inline (``_repr_html_``).

The figure (the success rate, as success.png) is drawn in memory by the figures layer when
matplotlib is installed, and embedded as a base64 PNG; without matplotlib the table stands alone.
Every text is escaped (``html.escape``).
"""

from __future__ import annotations

import base64
import html
import json
from typing import Any

from ..display import html_table, number
from ..result import abbreviate
from ..stats import wilson_interval
from .frames import setting_columns

MAX_ROWS = 20  # settings shown in the HTML table; to_pandas() has them all


def progress(study: Any) -> tuple[int, int, int, int]:
    """(settings done, settings, tasks done, tasks): a setting is done when every task of it is."""
    tasks = study.store.tasks()
    pending: set[int] = set()
    planned: set[int] = set()
    for task in tasks:
        members = json.loads(task["settings"])
        planned.update(members)
        if task["state"] != "done":
            pending.update(members)
    done_tasks = sum(t["state"] == "done" for t in tasks)
    return len(planned - pending), len(study.settings), done_tasks, len(tasks)


def study_repr(study: Any) -> str:
    """ "Study('runs/temperature'): 4 of 4 settings done (2 of 2 tasks), complete"."""
    done, total, done_tasks, tasks = progress(study)
    state = "complete" if study.complete else "partial"
    settings = f"{done:,} of {total:,} settings done ({done_tasks:,} of {tasks:,} tasks)"
    return f"Study({str(study.folder)!r}): {settings}, {state}"


def value_text(value: object) -> str:
    if isinstance(value, tuple):
        return abbreviate(list(value))
    if isinstance(value, float):
        return f"{value:.4g}"
    return "" if value is None else str(value)


def study_html(study: Any) -> str:
    """The repr's line, a table of the results (the swept axes, n, every metric's mean; the success
    rate with its 95% interval; at most MAX_ROWS settings) and the success figure, if it can be drawn."""
    rows = study.rows()
    swept = [k for k in setting_columns(study) if len({s.get(k) for s in study.settings}) > 1]
    header = ["setting", *swept, "n", "success rate", "95% interval", "P(best)", "reward", "regret"]
    lines = []
    for row in rows[:MAX_ROWS]:
        low, high = wilson_interval(row["successes"], row["n"])
        means = [number(row[c]) for c in ("mean_final_p_best", "mean_reward", "mean_regret")]
        lines.append([row["setting"], *(value_text(row.get(k)) for k in swept), f"{row['n']:,}",
                      number(row["success_rate"]), f"{number(low)} .. {number(high)}", *means])  # fmt: skip
    parts = [html_table(header, lines, caption=study_repr(study))]
    if len(rows) > MAX_ROWS:
        more = f"... and {len(rows) - MAX_ROWS:,} more settings: to_pandas() has them all"
        parts.append(f"<p>{html.escape(more)}</p>")
    if not rows:
        parts.append("<p>no results yet: no task has finished</p>")
    figure = figure_png(study, rows)
    if figure is not None:
        data = base64.b64encode(figure).decode("ascii")
        alt = html.escape(f"success rate of the study in {study.folder}", quote=True)
        parts.append(f'<img src="data:image/png;base64,{data}" alt="{alt}" style="max-width: 100%"/>')
    return "<div>" + "".join(parts) + "</div>"


def figure_png(study: Any, rows: list[dict]) -> bytes | None:
    """The study's success figure as PNG bytes, or None (no results, or matplotlib not installed)."""
    from ..figures import unavailable_reason  # the one call up a layer: drawn by figures, when it can be

    if not rows or unavailable_reason() is not None:
        return None
    from ..figures.inline import study_png

    return study_png(study, rows)
