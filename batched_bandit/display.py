"""How a run shows itself in a notebook or a REPL: a short ``repr`` and an HTML table (``_repr_html_``).

Never whole tensors: the repr is two lines (the run, and each metric's mean over bandits with its
95% interval), the HTML the same numbers as a table. Every text is escaped (``html.escape``).
study/display.py does the same for a study, with its main figure inline.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import Any

from .metrics import METRICS
from .result import abbreviate, describe, describe_rule, format_proportions


def html_table(header: Sequence[object], rows: Sequence[Sequence[object]], caption: str | None = None) -> str:
    """An HTML table of texts, every cell escaped."""
    cells = "".join(f"<th>{html.escape(str(h))}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in row) + "</tr>" for row in rows)
    head = f"<caption>{html.escape(caption)}</caption>" if caption else ""
    return f"<table>{head}<thead><tr>{cells}</tr></thead><tbody>{body}</tbody></table>"


def number(value: float | None) -> str:
    return "" if value is None or value != value else f"{value:.4g}"


def run_head(result: Any) -> str:
    """ "5 bandits x 2 episodes x 10 steps, threshold arms (0.2, 0, -0.2, -1), torch backend on cpu"; a
    policy other than the gradient is named after the arms ("..., ucb policy, cpu backend on cpu")."""
    arms = result.drawn_from or describe(result.arms, per_row=True)
    bandits = "1 bandit" if result.n_bandits == 1 else f"{result.n_bandits:,} bandits"
    policy = result.options.get("policy", "gradient")
    named = "" if policy == "gradient" else f", {policy} policy"
    where = f"{result.backend} backend on {result.device}"
    return (f"{bandits} x {result.n_episodes:,} episodes x {result.steps_per_episode:,} steps, "
            f"{result.reward_model} arms {abbreviate(arms)}{named}, {where}")  # fmt: skip


def metric_rows(result: Any) -> list[tuple[str, str, str]]:
    """(label, mean over bandits, 95% interval) per metric."""
    rows = []
    for name, (mean, low, high) in result.estimates().items():
        if METRICS[name].kind == "proportion":
            mean_text, low_text, high_text = format_proportions(mean, low, high)
        else:
            mean_text, low_text, high_text = number(mean), number(low), number(high)
        interval = f"{low_text} .. {high_text}" if low_text else "undefined for one bandit"
        rows.append((METRICS[name].short, mean_text, interval))
    return rows


def run_repr(result: Any) -> str:
    """Two lines: the run, and every metric's mean over bandits (success with its 95% interval)."""
    rows = metric_rows(result)
    success = f"{rows[0][0]} {rows[0][1]} (95% CI {rows[0][2]})"
    return f"RunResult: {run_head(result)}\n  " + ", ".join([success, *(f"{m} {v}" for m, v, _ in rows[1:])])


def run_html(result: Any) -> str:
    """The run as an HTML table: each metric's mean over bandits and 95% interval, the rule below."""
    s = result.scalars()
    table = html_table(("metric", "mean over bandits", "95% interval"), metric_rows(result),
                       caption=f"RunResult: {run_head(result)}")  # fmt: skip
    speed = f"{s['wall_time_s']:.3f} s, {s['bandit_steps_per_s']:.3g} bandit-steps/s"
    rule = f"{describe_rule(s)}, seed {s['seed']}; {speed}"
    return f"<div>{table}<p>{html.escape(rule)}</p></div>"
