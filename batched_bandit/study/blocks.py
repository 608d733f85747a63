"""A block's row: its statistics written with their CRCs and checksum, and read back checked.

Every read checks what a block can hold (integrity.py says why): the row's cells against their
checksum and the plan, each array against its CRC and its size, and the values against what n
bandits can give — counts within 0..n, sums of squares at least what their sums give (Cauchy-Schwarz),
fractions within [0, 1], verdict bits that agree with the success count.
"""

from __future__ import annotations

import math

import numpy as np

from .integrity import ARRAYS, BLOCK_COLUMNS, BLOCK_HEAD, Damaged, checksum, crc
from .setting import Setting
from .task import HISTOGRAM_BINS, MEANS

# the range of a bandit's value of each mean metric: fractions, a sum of non-negative gaps, a reward
VALUE_RANGE = {"p_best": (0.0, 1.0), "optimal_action": (0.0, 1.0), "regret": (0.0, math.inf),
               "reward": (-math.inf, math.inf)}  # fmt: skip
SLACK = 1e-9  # relative: float64 sums of float32 values, added in another order, stay within it


def block_size(spec: dict, block: int) -> int:
    """Bandits in ``block`` of any setting (0 when the plan has no such block)."""
    cap = spec["n_bandits"] if spec["precision"] is None else spec["max_bandits"]
    lo = block * spec["block_bandits"]
    return max(0, min(lo + spec["block_bandits"], cap) - lo)


def head_checksum(row: dict) -> int:
    """A block row's checksum: its cells before the arrays, the arrays' CRCs included."""
    return checksum(*(row[c] for c in BLOCK_HEAD if c != "checksum"))


def check_head(row: dict, spec: dict, n_settings: int) -> None:
    """A block row's cells before its arrays: types, checksum, a setting and block of the plan, its n."""
    if not all(type(row[c]) is int for c in BLOCK_HEAD if c != "task") or type(row["task"]) is not str:
        raise Damaged("a cell of the wrong type")
    if row["checksum"] != head_checksum(row):
        raise Damaged("its cells do not match their checksum")
    size = block_size(spec, row["block"]) if row["block"] >= 0 else 0
    if not 0 <= row["setting"] < n_settings or size == 0 or row["n"] != size:
        raise Damaged(f"it is not a block of the study's plan (n = {row['n']})")


def decode_block(row: dict, setting: Setting, spec: dict, names=ARRAYS) -> dict:
    """A stored block's statistics (block_statistics' keys; of the arrays, ``names`` only), its
    arrays checked against their CRCs, their sizes and the block's n; Damaged naming what fails."""
    n = row["n"]
    lengths = {"points": setting.curve_points(spec["record_every"]), "pair": 2, "arms": setting.n_arms,
               "bins": HISTOGRAM_BINS, "bits": -(-n // 8), "bandits": n}  # fmt: skip
    stats = {"n": n, "final_successes": row["final_successes"]}
    for name in names:
        dtype, length = ARRAYS[name]
        data = row[name]
        if not isinstance(data, bytes) or crc(data) != row[f"{name}_crc"]:
            raise Damaged(f"the array {name!r} does not match its checksum")
        itemsize = np.dtype(dtype).itemsize
        if len(data) != lengths[length] * itemsize:
            raise Damaged(f"the array {name!r} holds {len(data) // itemsize} values, not {lengths[length]}")
        stats[name] = np.frombuffer(data, dtype=dtype)
    stats["locked"] = np.array([row["locked_best"], row["locked_wrong"], row["undecided"]], dtype=np.int64)
    problem = _impossible(stats, last_is_final=spec["record_every"] is None)
    if problem:
        raise Damaged(f"impossible values ({problem})")
    return stats


def _impossible(s: dict, last_is_final: bool) -> str | None:
    """What no block of n bandits can hold, or None (a few reductions over the arrays read: this runs
    for every block read). ``last_is_final``: the last curve point is the run's end (per episode)."""
    n, final_successes = s["n"], s["final_successes"]
    x = s.get("successes")
    if x is not None and (x.min() < 0 or x.max() > n or (last_is_final and int(x[-1]) != final_successes)):
        return "success counts outside 0..n"
    for m in MEANS:
        low, high = VALUE_RANGE[m]
        final = s.get(f"final_{m}")
        pairs = [(s[f"{m}_sum"], s[f"{m}_sq"])] if f"{m}_sum" in s else []
        pairs += [(final[:1], final[1:])] if final is not None else []
        for sums, squares in pairs:
            problem = _sums_problem(sums, squares, n, low, high)
            if problem:
                return f"{m} {problem}"
        values = s.get(f"bandit_{m}")
        if values is not None and not (np.isfinite(values).all() and low <= values.min() and values.max() <= high):
            return f"per-bandit {m} values outside [{low:g}, {high:g}]"
    if "last_rewards" in s and not np.isfinite(s["last_rewards"]).all():
        return "a sum that is not finite"
    for name in ("locked", "p_best_hist"):
        if name in s and (s[name].min() < 0 or int(s[name].sum()) != n):
            return f"{name} counts that do not add up to n = {n}"
    if "verdicts" in s:
        bits = np.unpackbits(s["verdicts"])
        if bits[n:].any() or int(bits.sum()) != final_successes:
            return "verdicts that disagree with the success count"
    return None


def _sums_problem(sums: np.ndarray, squares: np.ndarray, n: int, low: float, high: float) -> str | None:
    """Sums and sums of squares over n values in [low, high] that no such values give, in words."""
    if not (np.isfinite(sums).all() and np.isfinite(squares).all()):
        return "sums that are not finite"
    if squares.min() < 0 or (sums * sums - n * squares).max() > SLACK * n * float(squares.max()):
        return "sums of squares below what their sums give"  # (sum x)^2 <= n sum x^2
    slack = SLACK * n
    if (low == 0 and sums.min() < -slack) or (high == 1 and (sums.max() > n + slack or (squares - sums).max() > slack)):
        return f"sums outside what values in [{low:g}, {high:g}] give"  # 0 <= x^2 <= x <= 1 for a fraction
    return None


def block_row(setting: int, block: int, key: str, stats: dict) -> tuple:
    """A block's row (BLOCK_COLUMNS) from task.block_statistics, with its CRCs and checksum."""
    values = {"setting": int(setting), "block": int(block), "task": key, "n": int(stats["n"]),
              "final_successes": int(stats["final_successes"])}  # fmt: skip
    values.update(zip(("locked_best", "locked_wrong", "undecided"), (int(x) for x in stats["locked"])))
    for name, (dtype, _) in ARRAYS.items():
        value = stats[name]
        array = np.frombuffer(value, dtype=np.uint8) if isinstance(value, bytes) else value
        values[name] = np.ascontiguousarray(array, dtype=dtype).tobytes()
        values[f"{name}_crc"] = crc(values[name])
    values["checksum"] = head_checksum(values)
    return tuple(values[c] for c in BLOCK_COLUMNS)
