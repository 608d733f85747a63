"""A study as pandas DataFrames (``Study.to_pandas``): its results, its curves, its bandits.

``results`` and ``curves`` are results.csv and curves.csv — the same columns in the same order
(columns.py says what each means), one row per setting and per (setting, curve point), with the
store's numbers unrounded (the CSV files keep 12 digits of the computed ones). ``bandits`` is one
row per bandit per setting: every metric's value (the store's per-bandit arrays), the setting's
axes, the block and the bandit's id, and its problem as ``arm_0 ..`` (its own draw for a random
problem). Dtypes as frames.py makes them: a setting's arms read as in the CSV files ("0.2,0.0,-1.0"
or "normal:10:0.0:1.0"), and as arm_0.. columns where the CSV has them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from ..frames import column, frame, require_pandas
from ..metrics import METRICS
from ..random_arms import RandomArms
from .axes import AXES, columns
from .columns import CURVE_COLUMNS, RESULT_COLUMNS
from .derived import MAX_ARM_COLUMNS, arm_columns

if TYPE_CHECKING:
    import pandas as pd

KINDS = ("results", "curves", "bandits")


def setting_columns(study: Any) -> list[str]:
    """The tables' setting columns (the axes the study was given), as the exports order them."""
    return columns([k for k in AXES if k in study.spec])


def study_frame(study: Any, kind: str = "results") -> pd.DataFrame:
    """``Study.to_pandas(kind)``: see the module's docstring."""
    from .tables import format_value  # the text of values that are not numbers, as in the CSV files

    if kind not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}, got {kind!r}")
    head = ["setting", *setting_columns(study)]
    if kind == "bandits":
        return bandits_frame(study, head, format_value)
    if kind == "results":
        names, rows = [*head, *RESULT_COLUMNS, *arm_columns(study.settings)], study.rows()
    else:
        names, rows = [*head, *CURVE_COLUMNS], study.curves()
    return frame({c: [row.get(c) for row in rows] for c in names}, format_value)


def bandits_frame(study: Any, head: list[str], text) -> pd.DataFrame:
    """One row per committed bandit of each setting, settings and blocks in order."""
    pd = require_pandas()
    block_size, seed = study.spec["block_bandits"], study.spec["seed"]
    k = max((s.n_arms for s in study.settings), default=0)
    arm_names = [f"arm_{i}" for i in range(k)] if k <= MAX_ARM_COLUMNS else []
    names = ["block", "bandit", *METRICS, *arm_names]
    body: dict[str, list[np.ndarray]] = {name: [] for name in names}
    done, counts = [], []
    for index, setting in enumerate(study.settings):
        values = {name: study.metric_blocks(index, name) for name in METRICS}
        sizes = {b: len(v) for b, v in values["success"].items()}
        if not sizes:
            continue
        ids = np.concatenate([b * block_size + np.arange(n, dtype=np.int64) for b, n in sizes.items()])
        body["block"].append(np.repeat(np.array(list(sizes), dtype=np.int64), list(sizes.values())))
        body["bandit"].append(ids)
        for name in METRICS:
            body[name].append(np.concatenate(list(values[name].values())))
        for name, arms in problem_columns(setting, ids, seed, arm_names).items():
            body[name].append(arms)
        done.append(index)
        counts.append(len(ids))
    axes = frame({c: [i if c == "setting" else study.settings[i].get(c) for i in done] for c in head}, text)
    axes = axes.loc[axes.index.repeat(counts)].reset_index(drop=True)
    empty = {"block": np.int64, "bandit": np.int64, "success": bool}
    rest = {name: column(np.concatenate(parts) if parts else np.zeros(0, empty.get(name, np.float64)), name)
            for name, parts in body.items()}  # fmt: skip
    return pd.concat([axes, pd.DataFrame(rest)], axis=1)


def problem_columns(setting: Any, ids: np.ndarray, seed: int, names: list[str]) -> dict[str, np.ndarray]:
    """arm_0 .. of each bandit (``names``; NaN past the setting's K): the setting's vector, or each
    bandit's draw from its distribution (random_arms.py: the draws the engines got)."""
    params = setting[setting.model_keyword]
    if not names:
        return {}
    if isinstance(params, RandomArms):
        arms = params.draw(setting.model, seed, torch.from_numpy(ids)).numpy()
    else:
        arms = np.broadcast_to(np.asarray(params, dtype=np.float64), (len(ids), len(params)))
    out = np.full((len(ids), len(names)), np.nan)
    out[:, : arms.shape[1]] = arms
    return {name: out[:, i] for i, name in enumerate(names)}
