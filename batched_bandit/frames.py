"""pandas DataFrames, tidy: a run's bandits (``RunResult.to_pandas``) and the columns every frame is made of.

pandas is optional (``pip install 'batched_bandit[pandas]'``) and imported only here, when a frame is
asked for. Columns get proper dtypes: numbers as int64 or float64 (a missing one: NaN, or pandas'
nullable Int64 / boolean), verdicts as bool, and anything else as text (``string``), written as
the CSV exports write it — never an object column of Python or NumPy scalars. A problem's arms
are the columns ``arm_0 .. arm_{K-1}``; a random problem's distribution reads as its text form
(``normal:10:0.0:1.0``). study/frames.py builds a study's frames from the same columns.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from .metrics import METRICS

if TYPE_CHECKING:
    import pandas as pd

INSTALL_HINT = "pip install 'batched_bandit[pandas]'"
Text = Callable[[str, object], str]  # (column, value) -> the value as text


def require_pandas() -> Any:
    """The pandas module; ImportError in one line naming the extra when it is not installed."""
    try:
        import pandas
    except ImportError:
        raise ImportError(f"to_pandas() needs pandas, which is not installed: {INSTALL_HINT}") from None
    return pandas


def is_missing(value: object) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def plain_text(name: str, value: object) -> str:
    """A value as text: a sequence of numbers comma-separated (as in the CSV exports), else str()."""
    if isinstance(value, (list, tuple)):
        return ",".join(repr(float(v)) for v in value)
    return str(value)


def column(values: Sequence | np.ndarray, name: str = "", text: Text = plain_text) -> pd.Series:
    """One column with its proper dtype: an array keeps its own; a list of bools is bool (boolean
    with a missing value), of integers int64 (Int64), of other numbers float64 (missing: NaN); a
    list of anything else, or of a mix, is text (``text(name, value)``; missing: <NA>)."""
    pd = require_pandas()
    if isinstance(values, np.ndarray):
        return pd.Series(np.ascontiguousarray(values), name=name)
    present = [v for v in values if not is_missing(v)]
    whole = len(present) == len(values)
    if present and all(isinstance(v, (bool, np.bool_)) for v in present):
        return pd.Series([None if is_missing(v) else bool(v) for v in values], name=name,
                         dtype="bool" if whole else "boolean")  # fmt: skip
    if all(isinstance(v, numbers.Real) and not isinstance(v, (bool, np.bool_)) for v in present):
        if present and all(isinstance(v, numbers.Integral) for v in present):
            return pd.Series([None if is_missing(v) else int(v) for v in values], name=name,
                             dtype="int64" if whole else "Int64")  # fmt: skip
        return pd.Series([math.nan if is_missing(v) else float(v) for v in values], name=name, dtype="float64")
    return pd.Series([None if is_missing(v) else text(name, v) for v in values], name=name, dtype="string")


def frame(columns: Mapping[str, Sequence | np.ndarray], text: Text = plain_text) -> pd.DataFrame:
    """A DataFrame of named columns (lists or arrays of one length), each with its proper dtype."""
    pd = require_pandas()
    return pd.DataFrame({name: column(values, name, text) for name, values in columns.items()})


def arm_columns(arms: np.ndarray) -> dict[str, np.ndarray]:
    """(B, K) arm parameters -> arm_0 .. arm_{K-1}, float64."""
    return {f"arm_{i}": np.ascontiguousarray(arms[:, i], dtype=np.float64) for i in range(arms.shape[1])}


def per_bandit(value: object) -> bool:
    """Whether a RunResult option is described as per-bandit ("per-bandit (0.1 .. 0.9)"), not given."""
    if isinstance(value, (list, tuple)):
        return any(per_bandit(v) for v in value)
    return isinstance(value, str) and value.startswith("per-bandit")


def run_frame(result: Any) -> pd.DataFrame:
    """``RunResult.to_pandas()``: one row per bandit (ids 0..B-1, the random streams of the run):
    ``bandit``; every metric (metrics.py: ``success`` as bool, the others float64); the per-bandit
    ``temperature`` and ``lr`` (the gradient policy's); the rule's and the problem's other options
    that are one value for the whole batch (a per-bandit one is not kept by a RunResult apart from these two; pairs and
    per-arm vectors as text, "1.0,-1.0"); the problem, ``arm_0 .. arm_{K-1}`` (each bandit's own
    draw for a random problem). ``frame.attrs`` keeps the run's reward model, horizon, seed and engine."""
    n = result.n_bandits
    out: dict[str, Sequence | np.ndarray] = {"bandit": np.arange(n, dtype=np.int64)}
    for name in METRICS:
        values = result.metric(name).numpy()
        out[name] = values.astype(bool) if METRICS[name].kind == "proportion" else values
    if result.options.get("policy", "gradient") == "gradient":  # the gradient policy's own (the others have none)
        out["temperature"] = result.temperature.double().numpy()
        out["lr"] = result.lr.double().numpy()
    for name, value in result.options.items():
        if per_bandit(value):  # only its range is kept
            continue
        out[name] = [value] * n
    out.update(arm_columns(result.arms.double().numpy()))
    table = frame(out)
    table.attrs.update(reward_model=result.reward_model, drawn_from=result.drawn_from, n_episodes=result.n_episodes,
                       steps_per_episode=result.steps_per_episode, seed=result.seed, backend=result.backend,
                       device=result.device, dtype=result.dtype)  # fmt: skip
    return table
