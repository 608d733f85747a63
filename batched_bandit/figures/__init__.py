"""Figures of a study folder, drawn with matplotlib (optional: ``pip install 'batched_bandit[plot]'``).

Read from the study's store through the read API (``study.open_study``), so a partial or interrupted
study can be drawn, and ``batched-bandit plot DIR`` redraws a finished one to the same bytes.
Any swept axis or derived column may be x (layout.py says how x, lines and facets are chosen):

- ``success.png``: the success rate with its 95% Wilson interval (success.py);
- ``p_best.png``: where the policies end, fractions locked on the best arm / undecided / locked
  on a wrong arm, stacked (distribution.py);
- ``learning_curves.png``: success rate and mean P(best) per episode with their intervals and
  the mean-field P(best) dashed, a panel per problem, horizon and rule (curves.py);
- ``success_heatmap.png``: the success rate over two swept axes of five values or more (heatmap.py).

Modules: table.py (the study as read), columns.py (what columns mean), layout.py (the choices),
words.py (titles and notes), canvas.py (figure, size bound, legend, PNG).
"""

from __future__ import annotations

import os
from pathlib import Path

INSTALL_HINT = "pip install 'batched_bandit[plot]'"
SUCCESS_FIGURE = "success.png"
P_BEST_FIGURE = "p_best.png"
CURVES_FIGURE = "learning_curves.png"
HEATMAP_FIGURE = "success_heatmap.png"
FIGURES = (SUCCESS_FIGURE, P_BEST_FIGURE, CURVES_FIGURE, HEATMAP_FIGURE)


def unavailable_reason() -> str | None:
    """Why figures cannot be drawn here (matplotlib missing), or None."""
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return f"matplotlib is not installed; to get figures: {INSTALL_HINT}"
    return None


def plot_sweep(out: str | os.PathLike, x: str | None = None, lines: str | None = None, facets: str | None = None,
               *, rows: list[dict] | None = None, curves: list[dict] | None = None) -> list[Path]:  # fmt: skip
    """Draw the study in folder ``out`` into PNG files there; returns their paths.

    ``x``: the column on x (a swept axis, or gap, eta, eta_over_gap2, lr_over_T2, n_arms,
    total_steps; default: the swept axis with the most values); ``lines``, ``facets``: swept axes
    for the lines and the panels (default: chosen). ValueError, before anything is drawn, for a
    folder without a study or a column that is not swept. ``rows``, ``curves``: the study's
    tables when the caller has just computed them from the store (``sweep`` does), to skip
    reading them again.
    """
    import matplotlib

    from ..study.files import refuse_link
    from . import curves as curve_figure
    from . import distribution, heatmap, success
    from .canvas import RC, save
    from .layout import choose
    from .table import Table

    folder = Path(out)
    for path in (folder, *(folder / name for name in FIGURES)):  # refused before drawing, not after some
        refuse_link(path)
    table = Table.read(folder, rows, curves)
    layout = choose(table, x, lines, facets)
    grid = heatmap.choose_axes(table, layout)
    with matplotlib.rc_context(RC):
        paths = [
            save(success.draw(table, layout), folder / SUCCESS_FIGURE),
            save(distribution.draw(table, layout), folder / P_BEST_FIGURE),
            save(curve_figure.draw(table), folder / CURVES_FIGURE),
        ]
        if grid is not None:
            paths.append(save(heatmap.draw(table, grid), folder / HEATMAP_FIGURE))
    return paths
