"""Figures of a sweep folder, drawn with matplotlib (optional: ``pip install 'batched_bandit[plot]'``).

Drawn from ``results.csv``, ``curves.csv`` and ``spec.json`` alone, so a resumed sweep gets the
same figures as an uninterrupted one. Uses matplotlib's object API (``Figure``, no pyplot): the
caller's backend and open figures are left alone.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

from .sweeps import SPEC, read_curves, read_results

INSTALL_HINT = "pip install 'batched_bandit[plot]'"
SUCCESS_FIGURE = "success_vs_temperature.png"
P_BEST_FIGURE = "p_best_vs_temperature.png"
CURVES_FIGURE = "learning_curves.png"
MAX_CURVES = 5  # learning curves for at most this many temperatures
DPI = 120


def unavailable_reason() -> str | None:
    """Why figures cannot be drawn here (matplotlib missing), or None."""
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return f"matplotlib is not installed; to get figures: {INSTALL_HINT}"
    return None


def plot_sweep(out: str | os.PathLike) -> list[Path]:
    """Write the three PNG figures of a sweep folder; returns their paths."""
    folder = Path(out)
    rows, curves = read_results(folder), read_curves(folder)
    spec = json.loads((folder / SPEC).read_text())
    about = f"{rows[0]['n']:,} bandits per setting, seed {spec['seed']}"
    return [
        _save(_success_vs_temperature(rows, about), folder / SUCCESS_FIGURE),
        _save(_p_best_vs_temperature(rows, about), folder / P_BEST_FIGURE),
        _save(_learning_curves(rows, curves, about), folder / CURVES_FIGURE),
    ]


def _problems(rows: list[dict]) -> list[tuple]:
    """The (arms, n_episodes, steps_per_episode) of the sweep, in row order: one panel each."""
    return list(dict.fromkeys((r["arms"], r["n_episodes"], r["steps_per_episode"]) for r in rows))


def _panel_title(problem: tuple) -> str:
    arms, n_episodes, steps = problem
    values = ", ".join(f"{a:g}" for a in arms)
    return f"arms ({values}); {n_episodes} episodes x {steps} steps"


def _panels(n_panels: int, title: str):
    from matplotlib.figure import Figure

    n_cols = min(3, n_panels)
    n_rows = math.ceil(n_panels / n_cols)
    fig = Figure(figsize=(max(7.0, 5.2 * n_cols), 4.0 * n_rows + 0.8), layout="constrained")
    axes = fig.subplots(n_rows, n_cols, squeeze=False).ravel()
    for ax in axes[n_panels:]:
        ax.set_visible(False)
    fig.suptitle(title)
    return fig, axes[:n_panels]


def _by_lr(rows: list[dict], problem: tuple):
    """{lr: rows of this problem sorted by temperature}."""
    mine = [r for r in rows if (r["arms"], r["n_episodes"], r["steps_per_episode"]) == problem]
    lrs = sorted({r["lr"] for r in mine})
    return {lr: sorted((r for r in mine if r["lr"] == lr), key=lambda r: r["temperature"]) for lr in lrs}


def _success_vs_temperature(rows: list[dict], about: str):
    problems = _problems(rows)
    fig, axes = _panels(len(problems), f"Success rate vs temperature\n{about}; band: 95% Wilson interval")
    for ax, problem in zip(axes, problems):
        for lr, mine in _by_lr(rows, problem).items():
            t = [r["temperature"] for r in mine]
            (line,) = ax.plot(t, [r["success_rate"] for r in mine], marker="o", ms=3, label=f"lr = {lr:g}")
            low, high = [r["ci_low"] for r in mine], [r["ci_high"] for r in mine]
            ax.fill_between(t, low, high, color=line.get_color(), alpha=0.2)
        _temperature_panel(ax, problem, "success rate (last episode's top arm is the best)")
    return fig


def _temperature_panel(ax, problem, ylabel: str) -> None:
    """Axes of a panel against temperature: log T, a probability on y, title, grid, legend."""
    ax.set_xscale("log")
    ax.set_ylim(0, 1)
    ax.set_xlabel("softmax temperature T (log scale)")
    ax.set_ylabel(ylabel)
    ax.set_title(_panel_title(problem), fontsize="medium")
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(fontsize="small")


def _p_best_vs_temperature(rows: list[dict], about: str):
    problems = _problems(rows)
    fig, axes = _panels(len(problems), f"Final P(best arm) vs temperature\n{about}; band: mean ± 1 s.d. over bandits")
    for ax, problem in zip(axes, problems):
        for lr, mine in _by_lr(rows, problem).items():
            t = [r["temperature"] for r in mine]
            mean = [r["mean_final_p_best"] for r in mine]
            sd = [r["sd_final_p_best"] for r in mine]
            (line,) = ax.plot(t, mean, marker="o", ms=3, label=f"lr = {lr:g}")
            low = [max(0.0, m - s) for m, s in zip(mean, sd)]
            high = [min(1.0, m + s) for m, s in zip(mean, sd)]
            ax.fill_between(t, low, high, color=line.get_color(), alpha=0.15)
        ax.axhline(1 / len(problem[0]), color="grey", lw=0.8, ls=":", label="1 / K (uniform policy)")
        _temperature_panel(ax, problem, "P(best arm) after the last step (mean over bandits)")
    return fig


def _learning_curves(rows: list[dict], curves: list[dict], about: str):
    """The first problem and lr, at up to MAX_CURVES temperatures spread over the grid."""
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    problem = _problems(rows)[0]
    lr, mine = next(iter(_by_lr(rows, problem).items()))
    n = len(mine)
    picks = sorted({round(i * (n - 1) / (MAX_CURVES - 1)) for i in range(MAX_CURVES)}) if n > MAX_CURVES else range(n)
    chosen = [mine[i] for i in picks]
    fig = Figure(figsize=(13, 4.8), layout="constrained")
    success_ax, p_ax = fig.subplots(1, 2)
    fig.suptitle(f"Learning curves: lr = {lr:g}, {_panel_title(problem)}\n{about}")
    steps = problem[2]
    for row in chosen:
        points = [c for c in curves if c["setting"] == row["setting"]]
        episodes = [c["episode"] for c in points]
        label = f"T = {row['temperature']:g} (lr/T² = {row['lr_over_T2']:.3g})"
        marker = "o" if len(points) < 30 else None
        success_ax.plot(episodes, [c["success_rate"] for c in points], marker=marker, ms=3, label=label)
        p_ax.plot(episodes, [c["mean_p_best"] for c in points], marker=marker, ms=3, label=label)
    success_ax.set_ylabel("success rate (the episode's top arm is the best)")
    p_ax.set_ylabel("P(best arm) at the episode's end (mean over bandits)")
    for ax in (success_ax, p_ax):
        ax.set_xlabel(f"episode ({steps} steps each)")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_ylim(0, 1)
        ax.grid(True, alpha=0.3)
    p_ax.legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.02, 1.0), title="temperature")
    return fig


def _save(fig, path: Path) -> Path:
    """Write atomically, so a kill leaves the old file or the new one."""
    tmp = path.with_name(f".{path.name}.tmp")
    fig.savefig(tmp, format="png", dpi=DPI)
    os.replace(tmp, path)
    return path
