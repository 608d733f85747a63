"""A study's main figure drawn in memory, for a notebook (``Study._repr_html_``): nothing is written."""

from __future__ import annotations

import io
from typing import Any

import matplotlib

from . import metric
from .canvas import DPI, RC
from .layout import choose
from .table import Table


def study_png(study: Any, rows: list[dict]) -> bytes:
    """success.png of the study (the success rate against the chosen x), as PNG bytes; ``rows``:
    its results (``study.rows()``, non-empty)."""
    tasks = study.store.tasks()
    table = Table(study.spec, study.settings, rows, [], (sum(t["state"] == "done" for t in tasks), len(tasks)))
    with matplotlib.rc_context(RC):
        figure = metric.draw(table, choose(table), "success")
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png", dpi=DPI, metadata={"Software": None})
    return buffer.getvalue()
