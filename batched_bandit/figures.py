"""Figures of a sweep folder, drawn with matplotlib (optional: ``pip install 'batched_bandit[plot]'``).

Drawn from the folder's exports ``results.csv`` and ``curves.csv`` alone (a public file format:
this module imports nothing of the study layer), so a resumed sweep gets the same figures as an
uninterrupted one. A panel per problem and rule (every setting column but temperature and lr), a
line per lr. Uses matplotlib's object API (``Figure``, no pyplot): the caller's backend and open
figures are left alone.
"""

from __future__ import annotations

import csv
import math
import os
from pathlib import Path

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


def plot_sweep(out: str | os.PathLike, note: str | None = None) -> list[Path]:
    """Write the three PNG figures of a sweep folder; returns their paths. ``note`` (e.g. the seed)
    is added to each figure's title."""
    folder = Path(out)
    rows, curves = read_table(folder / "results.csv"), read_table(folder / "curves.csv")
    counts = sorted({r["n"] for r in rows})
    about = f"{counts[0]:,}" + (f"..{counts[-1]:,}" if len(counts) > 1 else "") + " bandits per setting"
    about += f", {note}" if note else ""
    return [
        _save(_success_vs_temperature(rows, about), folder / SUCCESS_FIGURE),
        _save(_p_best_vs_temperature(rows, about), folder / P_BEST_FIGURE),
        _save(_learning_curves(rows, curves, about), folder / CURVES_FIGURE),
    ]


MODELS = ("arms", "win_prob", "means")
NOT_SETTING = {"setting", "temperature", "lr", "n_arms", "lr_over_T2"}  # and the statistics from "n" on


def read_table(path: Path) -> list[dict]:
    """A CSV export as dicts: numbers parsed, arm vectors as tuples, empty cells as None."""
    with open(path, newline="") as f:
        return [{k: _parse(k, v) for k, v in row.items()} for row in csv.DictReader(f)]


def _parse(name: str, text: str):
    if text == "":
        return None
    if text in ("True", "False"):
        return text == "True"
    if "," in text or name in MODELS:
        try:
            return tuple(float(x) for x in text.split(","))
        except ValueError:
            return text  # a distribution of random problems, "normal:4:0.0:1.0"
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def _problem_keys(rows: list[dict]) -> list[str]:
    """The setting columns that make a panel: all but temperature and lr."""
    keys = list(rows[0])
    return [k for k in keys[: keys.index("n_arms")] if k not in NOT_SETTING]


def _problem(row: dict, keys: list[str]) -> tuple:
    return tuple(row[k] for k in keys)


def _problems(rows: list[dict]) -> list[tuple]:
    """The problems and rules of the sweep, in row order: one panel each."""
    keys = _problem_keys(rows)
    return list(dict.fromkeys(_problem(r, keys) for r in rows))


def _panel_title(problem: tuple, keys: list[str]) -> str:
    values = dict(zip(keys, problem))
    parts = []
    for model in MODELS:
        if model in values:
            v = values[model]
            parts.append(f"{model} ({', '.join(f'{a:g}' for a in v)})" if isinstance(v, tuple) else f"{model} {v}")
    parts.append(f"{values['n_episodes']} episodes x {values['steps_per_episode']} steps")
    parts += [f"{k} {_text(v)}" for k, v in values.items() if k not in (*MODELS, "n_episodes", "steps_per_episode")
              and v is not None]  # fmt: skip
    return "; ".join(parts)


def _text(value) -> str:
    return ",".join(f"{a:g}" for a in value) if isinstance(value, tuple) else f"{value:g}" if isinstance(
        value, float) else str(value)  # fmt: skip


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
    keys = _problem_keys(rows)
    mine = [r for r in rows if _problem(r, keys) == problem]
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
        title = _panel_title(problem, _problem_keys(rows))
        _temperature_panel(ax, title, "success rate (last episode's top arm is the best)")
    return fig


def _temperature_panel(ax, title: str, ylabel: str) -> None:
    """Axes of a panel against temperature: log T, a probability on y, title, grid, legend."""
    ax.set_xscale("log")
    ax.set_ylim(0, 1)
    ax.set_xlabel("softmax temperature T (log scale)")
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize="medium")
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
        n_arms = next(r["n_arms"] for r in rows if _problem(r, _problem_keys(rows)) == problem)
        ax.axhline(1 / n_arms, color="grey", lw=0.8, ls=":", label="1 / K (uniform policy)")
        title = _panel_title(problem, _problem_keys(rows))
        _temperature_panel(ax, title, "P(best arm) after the last step (mean over bandits)")
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
    fig.suptitle(f"Learning curves: lr = {lr:g}, {_panel_title(problem, _problem_keys(rows))}\n{about}")
    steps = mine[0]["steps_per_episode"]
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
