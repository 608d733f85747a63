"""The reduction: committed blocks merged in block order into tables, exported, and read back.

Each setting's statistics are the sums of its blocks' statistics, added in block order, so the
numbers do not depend on which worker ran what, or when. ``results.csv`` (one row per setting),
``curves.csv`` (one row per setting and episode) and ``meta.json`` are written from the store,
atomically, with fixed float formatting: on one backend and device the CSV files are the same
bytes whatever the executor, the number of workers, the order of completion or the interruptions.

The read API (``open_study``, ``load_rows``, ``load_curves``, ``load_verdicts``) reads the store, for
figures and paired comparisons of the per-bandit verdicts (issue #11).
"""

from __future__ import annotations

import csv
import io
import json
import math
import numbers
import os
from pathlib import Path

import numpy as np

from ..provenance import versions
from ..random_arms import RandomArms
from ..stats import mean_interval, wilson_interval
from .derived import DERIVED, arm_columns, derived_columns, has_mean_field, mean_field
from .files import write_atomic
from .setting import Setting
from .store import EXPORTS, Store

RESULTS, CURVES, META = EXPORTS
SETTING_HELP = {
    "setting": "index of the setting in the grid (and row order)",
    "temperature": "softmax temperature T", "lr": "learning rate",
    "arms": "threshold values (lowest best) or a distribution",
    "win_prob": "P(win) per arm or a distribution", "means": "mean reward per arm or a distribution",
    "n_episodes": "episodes", "steps_per_episode": "steps per episode",
}  # fmt: skip
RESULT_COLUMNS = {
    "n_arms": "K",
    **DERIVED,
    "lr_over_T2": "lr / T² (kept for one release: see eta)",
    "n": "bandits (streams 0..n-1; with a precision target, as many as the setting needed)",
    "successes": "bandits whose last episode's top arm is the best arm (the seed's verdict)",
    "success_rate": "successes / n",
    "ci_low": "95% Wilson interval of the success rate, low end",
    "ci_high": "95% Wilson interval of the success rate, high end",
    "ci_half_width": "(ci_high - ci_low) / 2",
    "mean_final_p_best": "mean over bandits of P(best arm) after the last step",
    "sd_final_p_best": "standard deviation over bandits of P(best arm) after the last step",
    "locked_best": "fraction of bandits whose policy has max prob > 0.99 on the best arm",
    "locked_wrong": "fraction of bandits whose policy has max prob > 0.99 on a wrong arm",
    "undecided": "fraction of bandits whose policy has max prob <= 0.99",
    "mean_regret": "mean over bandits of the pseudo-regret of the whole run",
    "regret_ci_low": "95% normal interval of the mean regret, low end",
    "regret_ci_high": "95% normal interval of the mean regret, high end",
    "mean_reward_last_episode": "mean reward per step in the last episode, over bandits",
}
CURVE_COLUMNS = {
    "episode": "episode, 1-based",
    "step": "steps done at the episode's end",
    "successes": "bandits whose top arm in this episode is the best arm",
    "success_rate": "successes / n",
    "success_ci_low": "95% Wilson interval of the episode's success rate, low end",
    "success_ci_high": "95% Wilson interval of the episode's success rate, high end",
    "mean_p_best": "mean over bandits of P(best arm) at the episode's end",
    "p_best_ci_low": "95% normal interval of the mean P(best arm), low end",
    "p_best_ci_high": "95% normal interval of the mean P(best arm), high end",
    "mean_field_p_best": "P(best arm) of the expected-update (mean-field) trajectory (SGD, fixed problems)",
    "mean_regret": "mean over bandits of the pseudo-regret up to the episode's end",
    "regret_ci_low": "95% normal interval of the mean regret, low end",
    "regret_ci_high": "95% normal interval of the mean regret, high end",
}
SUMS = ("successes", "p_best_sum", "p_best_sq", "regret_sum", "regret_sq", "locked", "p_best_hist", "last_rewards")


def merge(blocks) -> dict[int, dict]:
    """setting -> its blocks' statistics added in block order (``blocks`` ordered by setting, block),
    with ``n_blocks``."""
    merged: dict[int, dict] = {}
    for block in blocks:
        acc = merged.get(block["setting"])
        if acc is None:
            merged[block["setting"]] = {"n": block["n"], "n_blocks": 1, **{k: block[k].copy() for k in SUMS}}
            continue
        acc["n"] += block["n"]
        acc["n_blocks"] += 1
        for k in SUMS:
            acc[k] = acc[k] + block[k]
    return merged


def result_row(index: int, setting: Setting, m: dict) -> dict:
    n, x = m["n"], int(m["successes"][-1])
    low, high = wilson_interval(x, n)
    mean_p = m["p_best_sum"][-1] / n
    regret = m["regret_sum"][-1] / n
    regret_low, regret_high = mean_interval(m["regret_sum"][-1], m["regret_sq"][-1], n)
    return {
        "setting": index, **setting, "n_arms": setting.n_arms, **derived_columns(setting),
        "lr_over_T2": setting.lr_over_t2, "n": n,
        "successes": x, "success_rate": x / n, "ci_low": low, "ci_high": high, "ci_half_width": (high - low) / 2,
        "mean_final_p_best": mean_p, "sd_final_p_best": math.sqrt(max(0.0, m["p_best_sq"][-1] / n - mean_p * mean_p)),
        **{k: int(c) / n for k, c in zip(("locked_best", "locked_wrong", "undecided"), m["locked"])},
        "mean_regret": regret, "regret_ci_low": regret_low, "regret_ci_high": regret_high,
        "mean_reward_last_episode": float(m["last_rewards"].sum()) / (n * setting.steps_per_episode),
    }  # fmt: skip


def curve_rows(index: int, setting: Setting, m: dict, field: np.ndarray | None = None) -> list[dict]:
    """Setting ``index``'s rows of curves.csv; ``field``: its mean-field P(best) per episode, if any."""
    n, steps = m["n"], setting.steps_per_episode
    rows = []
    for e, x in enumerate(m["successes"]):
        low, high = wilson_interval(int(x), n)
        p_low, p_high = mean_interval(m["p_best_sum"][e], m["p_best_sq"][e], n)
        r_low, r_high = mean_interval(m["regret_sum"][e], m["regret_sq"][e], n)
        rows.append({
            "setting": index, **setting, "episode": e + 1, "step": (e + 1) * steps, "successes": int(x),
            "success_rate": int(x) / n, "success_ci_low": low, "success_ci_high": high,
            "mean_p_best": m["p_best_sum"][e] / n, "p_best_ci_low": p_low, "p_best_ci_high": p_high,
            "mean_field_p_best": None if field is None else float(field[e]),
            "mean_regret": m["regret_sum"][e] / n, "regret_ci_low": r_low, "regret_ci_high": r_high,
        })  # fmt: skip
    return rows


def write_tables(folder: Path, store: Store, settings: list[Setting], setting_columns: list[str]):
    """Write results.csv and curves.csv from the store; returns (result rows, curve rows)."""
    merged = merge(store.blocks())
    fields = store.mean_field()
    missing = [i for i, s in enumerate(settings) if i not in fields and has_mean_field(s)]
    if missing:  # computed once per study: a deterministic function of the setting
        new = mean_field(settings, only=set(missing))
        store.save_mean_field(new)
        fields.update(new)
    rows = [result_row(i, s, merged[i]) for i, s in enumerate(settings)]
    curves = [c for i, s in enumerate(settings) for c in curve_rows(i, s, merged[i], fields.get(i))]
    head = ["setting", *setting_columns]
    write_atomic(folder / RESULTS, to_csv([*head, *RESULT_COLUMNS, *arm_columns(settings)], rows))
    write_atomic(folder / CURVES, to_csv([*head, *CURVE_COLUMNS], curves))
    return rows, curves


def write_meta(folder: Path, store: Store, setting_columns: list[str]) -> None:
    """Write meta.json from the store: spec, versions, engines used, column meanings, every call."""
    tasks = store.tasks()
    engines = sorted({(t["backend"], t["device"]) for t in tasks if t["state"] == "done"})
    head = {c: SETTING_HELP.get(c, "axis value (empty: not applicable)") for c in ["setting", *setting_columns]}
    meta = {
        "spec": store.spec,
        "settings": len(store.settings()),
        "tasks": len(tasks),
        "complete": all(t["state"] == "done" for t in tasks),
        "engines": [{"backend": b, "device": d} for b, d in engines],
        "versions": versions(),
        "columns": {RESULTS: {**head, **RESULT_COLUMNS}, CURVES: {**head, **CURVE_COLUMNS}},
        "calls": store.calls(),
    }
    write_atomic(folder / META, json.dumps(meta, indent=2) + "\n")


def format_value(name: str, value) -> str:
    """Deterministic text: given values round-trip exactly (repr), computed ones get 12 digits;
    missing and undefined ones (None, NaN: the interval of one bandit's mean) are empty."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, RandomArms):
        return str(value)
    if isinstance(value, tuple):
        return ",".join(repr(float(a)) for a in value)
    if isinstance(value, (bool, str)):
        return str(value)
    if isinstance(value, numbers.Integral):
        return str(int(value))
    if name in RESULT_COLUMNS or name in CURVE_COLUMNS or name.startswith("arm_"):
        return format(float(value), ".12g")
    return repr(float(value))


def to_csv(columns: list[str], rows: list[dict]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    writer.writerows([format_value(c, row.get(c)) for c in columns] for row in rows)
    return buffer.getvalue()


# --- the read API --------------------------------------------------------------------------------


class Study:
    """A study folder, read from its store (read-only, checked). ``rows()``/``curves()`` are the
    exports' tables (numbers as numbers); ``merged(i)`` setting i's summed statistics;
    ``verdicts(i)`` its per-bandit final verdicts, (n,) bool in bandit order (bandit j is stream j
    in every setting); ``verdict_blocks(i)`` the same per committed block."""

    def __init__(self, out: str | os.PathLike):
        self.folder = Path(out)
        self.store = Store.read(self.folder)
        self.spec = self.store.spec
        self.settings: list[Setting] = self.store.grid

    @property
    def complete(self) -> bool:
        """Whether the study is finished: a call ran its plan to the end and no task is left."""
        tasks = self.store.tasks()
        finished = any(call.get("finished") is True for call in self.store.calls())
        return finished and all(t["state"] == "done" for t in tasks)

    def merged(self, setting: int) -> dict:
        return merge(self.store.blocks(setting)).get(setting) or {"n": 0, "n_blocks": 0}

    def rows(self) -> list[dict]:
        merged = merge(self.store.blocks())
        return [result_row(i, s, merged[i]) for i, s in enumerate(self.settings) if i in merged]

    def curves(self) -> list[dict]:
        merged = merge(self.store.blocks())
        fields = self.store.mean_field()  # written with the exports; computed here for a partial study
        fields.update(mean_field(self.settings, only={i for i in merged if i not in fields}))
        return [
            c for i, s in enumerate(self.settings) if i in merged for c in curve_rows(i, s, merged[i], fields.get(i))
        ]

    def verdicts(self, setting: int) -> np.ndarray:
        blocks = list(self.verdict_blocks(setting).values())
        return np.concatenate(blocks) if blocks else np.zeros(0, dtype=bool)

    def verdict_blocks(self, setting: int) -> dict[int, np.ndarray]:
        """block -> its bandits' final verdicts, (n,) bool, for the setting's committed blocks in order."""
        return {b["block"]: np.unpackbits(b["verdicts"], count=b["n"]).astype(bool) for b in self.store.blocks(setting)}

    def close(self) -> None:
        self.store.close()

    def __enter__(self) -> Study:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def open_study(out: str | os.PathLike) -> Study:
    """The study in folder ``out``, read-only (``batched_bandit.study.open_study``)."""
    return Study(out)


def load_rows(out: str | os.PathLike) -> list[dict]:
    with Study(out) as study:
        return study.rows()


def load_curves(out: str | os.PathLike) -> list[dict]:
    with Study(out) as study:
        return study.curves()


def load_verdicts(out: str | os.PathLike, setting: int) -> np.ndarray:
    with Study(out) as study:
        return study.verdicts(setting)
