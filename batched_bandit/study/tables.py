"""The reduction: committed blocks merged in block order into tables, exported, and read back.

Each setting's statistics are the sums of its blocks' statistics, added in block order, so the
numbers do not depend on which worker ran what, or when. ``results.csv`` (one row per setting:
every metric's mean with its 95% interval), ``curves.csv`` (one row per setting and curve point:
each episode's end, or every ``record_every`` steps) and ``meta.json`` are written from the store,
atomically, with fixed float formatting: on one backend and device the CSV files are the same bytes
whatever the executor, the number of workers, the order of completion or the interruptions.
columns.py says what each column means.

The read API (``open_study``, ``load_rows``, ``load_curves``, ``load_verdicts``, ``Study``) reads
the store, for figures and paired comparisons of any metric bandit by bandit (issues #11, #17).
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

from ..metrics import METRICS, metric
from ..provenance import versions
from ..random_arms import RandomArms
from ..stats import mean_interval, wilson_interval
from .columns import CURVE_COLUMNS, RESULT_COLUMNS, SETTING_HELP
from .derived import arm_columns, derived_columns, has_mean_field, mean_field
from .files import write_atomic
from .integrity import ARRAYS, SUMMARY
from .setting import Setting
from .store import EXPORTS, Store
from .task import MEANS

RESULTS, CURVES, META = EXPORTS
SUMS = (*(a for a in SUMMARY if ARRAYS[a][1] != "bits"), "locked", "final_successes")  # added over blocks


def merge(blocks) -> dict[int, dict]:
    """setting -> its blocks' statistics added in block order (``blocks`` ordered by setting, block),
    with ``n_blocks``."""
    merged: dict[int, dict] = {}
    for block in blocks:
        acc = merged.get(block["setting"])
        if acc is None:
            merged[block["setting"]] = {"n": block["n"], "n_blocks": 1, **{k: np.copy(block[k]) for k in SUMS}}
            continue
        acc["n"] += block["n"]
        acc["n_blocks"] += 1
        for k in SUMS:
            acc[k] = acc[k] + block[k]
    return merged


def result_row(index: int, setting: Setting, m: dict) -> dict:
    """Setting ``index``'s row of results.csv from its merged statistics ``m``."""
    n, x = m["n"], int(m["final_successes"])
    low, high = wilson_interval(x, n)
    row = {
        "setting": index, **setting, "n_arms": setting.n_arms, **derived_columns(setting),
        "lr_over_T2": setting.lr_over_t2, "n": n,
        "successes": x, "success_rate": x / n, "ci_low": low, "ci_high": high, "ci_half_width": (high - low) / 2,
    }  # fmt: skip
    for name in MEANS:
        total, squares = (float(v) for v in m[f"final_{name}"])
        row.update(zip((METRICS[name].column, *METRICS[name].ci), (total / n, *mean_interval(total, squares, n))))
    mean_p, squares_p = row["mean_final_p_best"], float(m["final_p_best"][1])
    return {
        **row, "sd_final_p_best": math.sqrt(max(0.0, squares_p / n - mean_p * mean_p)),
        **{k: int(c) / n for k, c in zip(("locked_best", "locked_wrong", "undecided"), m["locked"])},
        "mean_reward_last_episode": float(m["last_rewards"].sum()) / (n * setting.steps_per_episode),
    }  # fmt: skip


def curve_rows(index: int, setting: Setting, m: dict, field: np.ndarray | None = None,
               record_every: int | None = None) -> list[dict]:  # fmt: skip
    """Setting ``index``'s rows of curves.csv, one per point (each episode's end, or every
    ``record_every`` steps); ``field``: its mean-field P(best) at each point, if any."""
    n, every, steps = m["n"], setting.point_every(record_every), setting.steps_per_episode
    rows = []
    for e, x in enumerate(m["successes"]):
        step = (e + 1) * every
        low, high = wilson_interval(int(x), n)
        row = {"setting": index, **setting, "episode": (step - 1) // steps + 1, "step": step, "successes": int(x),
               "success_rate": int(x) / n, "success_ci_low": low, "success_ci_high": high}  # fmt: skip
        for name in MEANS:
            total, squares = m[f"{name}_sum"][e], m[f"{name}_sq"][e]
            row.update(zip((METRICS[name].curve, *METRICS[name].ci), (total / n, *mean_interval(total, squares, n))))
        row["mean_field_p_best"] = None if field is None else float(field[e])
        rows.append(row)
    return rows


def write_tables(folder: Path, store: Store, settings: list[Setting], setting_columns: list[str]):
    """Write results.csv and curves.csv from the store; returns (result rows, curve rows)."""
    merged = merge(store.blocks())
    every = store.spec["record_every"]
    fields = store.mean_field()
    missing = [i for i, s in enumerate(settings) if i not in fields and has_mean_field(s)]
    if missing:  # computed once per study: a deterministic function of the setting
        new = mean_field(settings, only=set(missing), record_every=every)
        store.save_mean_field(new)
        fields.update(new)
    rows = [result_row(i, s, merged[i]) for i, s in enumerate(settings)]
    curves = [c for i, s in enumerate(settings) for c in curve_rows(i, s, merged[i], fields.get(i), every)]
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
    """A study folder, read from its store (read-only, checked).

    - ``rows()``: results.csv's rows, numbers as numbers: per metric (metrics.py) its mean over
      the run and 95% interval, under the names of ``metrics.METRICS[name].column`` and ``.ci``
      (``success_rate``, ``ci_low``, ``ci_high``; ``mean_final_p_best``, ``p_best_ci_low``, ...;
      ``mean_regret``, ``regret_ci_*``; ``mean_reward``, ``reward_ci_*``; ``optimal_action_rate``,
      ``optimal_action_ci_*``), with ``n`` and the setting's axes; ``curves()``: curves.csv's rows.
    - ``metric_blocks(i, metric)``: block -> each bandit's value of ``metric`` in setting ``i``,
      (n,) in bandit order, for the committed blocks in block order: bool verdicts for
      ``success``, float64 (stored as float32) for the means. Block b holds the same bandit ids
      (streams) in every setting: pair two settings over the blocks both have.
      ``metric_values(i, metric)`` concatenates them; ``verdict_blocks(i)`` and ``verdicts(i)`` are
      the success ones.
    - ``merged(i)``: setting i's summed statistics (task.block_statistics' sums).
    """

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

    @property
    def record_every(self) -> int | None:
        """Steps between the curves' points (None: a point per episode)."""
        return self.spec["record_every"]

    def merged(self, setting: int) -> dict:
        return merge(self.store.blocks(setting)).get(setting) or {"n": 0, "n_blocks": 0}

    def rows(self) -> list[dict]:
        merged = merge(self.store.blocks())
        return [result_row(i, s, merged[i]) for i, s in enumerate(self.settings) if i in merged]

    def curves(self) -> list[dict]:
        merged = merge(self.store.blocks())
        fields = self.store.mean_field()  # written with the exports; computed here for a partial study
        fields.update(mean_field(self.settings, only={i for i in merged if i not in fields},
                                 record_every=self.record_every))  # fmt: skip
        return [c for i, s in enumerate(self.settings) if i in merged
                for c in curve_rows(i, s, merged[i], fields.get(i), self.record_every)]  # fmt: skip

    def verdicts(self, setting: int) -> np.ndarray:
        return self.metric_values(setting, "success")

    def verdict_blocks(self, setting: int) -> dict[int, np.ndarray]:
        """block -> its bandits' final verdicts, (n,) bool, for the setting's committed blocks in order."""
        return self.metric_blocks(setting, "success")

    def metric_blocks(self, setting: int, name: str) -> dict[int, np.ndarray]:
        """block -> its bandits' values of metric ``name``, (n,) in bandit order (bool for success,
        float64 for the others), for the setting's committed blocks in block order."""
        if metric(name).kind == "proportion":
            blocks = self.store.blocks(setting)
            return {b["block"]: np.unpackbits(b["verdicts"], count=b["n"]).astype(bool) for b in blocks}
        array = f"bandit_{name}"  # read with the block's other arrays: a damaged block is refused whole
        return {b["block"]: b[array].astype(np.float64) for b in self.store.blocks(setting, (*SUMMARY, array))}

    def metric_values(self, setting: int, name: str) -> np.ndarray:
        """The setting's committed bandits' values of metric ``name``, blocks in order (see metric_blocks)."""
        blocks = list(self.metric_blocks(setting, name).values())
        dtype = bool if metric(name).kind == "proportion" else np.float64
        return np.concatenate(blocks) if blocks else np.zeros(0, dtype=dtype)

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
