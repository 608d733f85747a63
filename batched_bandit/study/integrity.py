"""What the store trusts: checksums on every row, the exact schema, and values a study can hold.

A study folder may have been copied, archived, mailed, or crafted. A flipped bit in a stored array
passes SQLite's own checks, so every row carries a CRC32 of its cells (``checksum``) and every
array a CRC32 of its bytes beside it (``<name>_crc``): they catch accidental damage (a CRC does not
stop a forger, who could recompute it; nothing stored beside the data could). What a forger could
write is bounded by checking values as the sweep would: the spec's axes with the grid's own checks,
each setting against the spec, each block's size against the plan, counts against the block's n.

``ARRAYS`` is the one declaration of the arrays of a (setting, block): adding an array is one line
there; the schema, the checksums and the size checks follow from it.
"""

from __future__ import annotations

import json
import zlib

from .. import schema
from ..checks import check_count, check_seed
from ..random_arms import RandomArms
from ..schema import DEFAULTS as OPTION_DEFAULTS
from ..schema import MODEL_OF as MODELS
from ..schema import SEED_ARMS
from .axes import AXES, CORE, check_axis
from .setting import Setting
from .task import MEANS

FORMAT = "batched_bandit.study"
FORMAT_VERSION = 5  # 1: CSV files (0.1); 3: SQLite without checksums; 4: checksums, totals; 5: every metric
MAX_STEPS_PER_EPISODE = 2**31 - 1  # the engines count an episode's pulls per arm in int32
MAX_POINTS = 10**5  # curve points per setting (record_every): each block stores ~10 float64 per point
# name -> (little-endian dtype, length): "points" (the setting's curve points: episodes, or every
# record_every steps), "pair" (sum, sum of squares), "arms", "bins", "bits" (ceil(n / 8)) or
# "bandits" (n); per mean metric m (task.MEANS): m_sum, m_sq at each point, final_m over the run,
# bandit_m each bandit's value. The per-bandit arrays last: reading the others never walks their pages.
ARRAYS = {
    "successes": ("<i8", "points"),
    **{f"{m}_{part}": ("<f8", "points") for m in MEANS for part in ("sum", "sq")},
    **{f"final_{m}": ("<f8", "pair") for m in MEANS},
    "p_best_hist": ("<i8", "bins"),
    "last_rewards": ("<f8", "arms"),
    "verdicts": ("u1", "bits"),  # np.packbits of the final verdicts, bandit order
    **{f"bandit_{m}": ("<f4", "bandits") for m in MEANS},  # float32: enough to pair, a quarter of float64
}
PER_BANDIT = tuple(name for name, (_, length) in ARRAYS.items() if length == "bandits")
SUMMARY = tuple(name for name in ARRAYS if name not in PER_BANDIT)  # what the tables read
SCALARS = ("n", "final_successes", "locked_best", "locked_wrong", "undecided")
# the row's cells before its arrays, so that reading them never touches the arrays' overflow pages
BLOCK_HEAD = ("setting", "block", "task", *SCALARS, "checksum", *(f"{a}_crc" for a in ARRAYS))
BLOCK_COLUMNS = (*BLOCK_HEAD, *ARRAYS)
TASK_COLUMNS = ("key", "stage", "grp", "block", "settings", "state", "call", "backend", "device", "engine_s",
                "committed_s")  # fmt: skip
RUN_KEYS = ("n_bandits", "seed", "dtype", "block_bandits", "precision", "max_bandits", "record_every")
SCHEMA = f"""
CREATE TABLE spec (
    id INTEGER PRIMARY KEY CHECK (id = 0), format TEXT NOT NULL, spec TEXT NOT NULL, n_settings INTEGER NOT NULL,
    checksum INTEGER NOT NULL
);
CREATE TABLE settings (setting INTEGER PRIMARY KEY, axes TEXT NOT NULL, checksum INTEGER NOT NULL);
CREATE TABLE tasks (
    key TEXT PRIMARY KEY, stage INTEGER NOT NULL, grp INTEGER NOT NULL, block INTEGER NOT NULL,
    settings TEXT NOT NULL, state TEXT NOT NULL CHECK (state IN ('planned', 'done')), call INTEGER,
    backend TEXT, device TEXT, engine_s REAL, committed_s REAL, checksum INTEGER NOT NULL
);
CREATE TABLE blocks (
    setting INTEGER NOT NULL, block INTEGER NOT NULL, task TEXT NOT NULL,
    {", ".join(f"{c} INTEGER NOT NULL" for c in BLOCK_HEAD[3:])},
    {", ".join(f"{a} BLOB NOT NULL" for a in ARRAYS)}, PRIMARY KEY (setting, block)
) WITHOUT ROWID;
CREATE TABLE totals (id INTEGER PRIMARY KEY CHECK (id = 0), blocks INTEGER NOT NULL, digest INTEGER NOT NULL,
                     checksum INTEGER NOT NULL);
CREATE TABLE calls (call INTEGER PRIMARY KEY, record TEXT NOT NULL, checksum INTEGER NOT NULL);
CREATE TABLE mean_field (setting INTEGER PRIMARY KEY, p_best BLOB NOT NULL, checksum INTEGER NOT NULL);
"""


class Damaged(ValueError):
    """A store whose contents fail a check (the message says where)."""


def checksum(*cells) -> int:
    """CRC32 of a row's cells (ints, floats, strings, None; arrays enter by their own CRC)."""
    return zlib.crc32(repr(cells).encode())


def crc(data: bytes) -> int:
    return zlib.crc32(data)


# --- JSON forms of axis values (the spec and the store's settings) --------------------------------


def to_json(value):
    if isinstance(value, RandomArms):
        return str(value)
    if isinstance(value, tuple):
        return list(value)
    return value


def from_json(name: str, value):
    if name in MODELS and isinstance(value, str):
        return RandomArms.parse(value)
    if isinstance(value, list):
        return tuple(value)
    return value


# --- the spec and the settings ---------------------------------------------------------------------


def check_spec(text) -> dict:
    """The stored spec, parsed and checked as sweep checks its arguments; Damaged otherwise."""
    try:
        spec = json.loads(text)
        if not isinstance(spec, dict) or spec.get("format") != f"{FORMAT}/{FORMAT_VERSION}":
            raise ValueError("it is not a study spec of this format")
        unknown = set(spec) - {"format", *RUN_KEYS, *AXES}
        if unknown or any(k not in spec for k in RUN_KEYS):
            raise ValueError(f"unknown or missing keys {sorted(unknown) or sorted(set(RUN_KEYS) - set(spec))}")
        for name in ("n_bandits", "block_bandits"):
            _exact(name, spec[name], int)
            check_count(name, spec[name])
        check_seed(spec["seed"])
        if spec["dtype"] not in ("float32", "float64"):
            raise ValueError(f"dtype {spec['dtype']!r}")
        if (spec["precision"] is None) != (spec["max_bandits"] is None):
            raise ValueError("precision and max_bandits go together")
        if spec["precision"] is not None:
            _exact("precision", spec["precision"], float)
            _exact("max_bandits", spec["max_bandits"], int)
            if not 0 < spec["precision"] <= 0.5:
                raise ValueError(f"precision {spec['precision']!r}")
            check_count("max_bandits", spec["max_bandits"])
        if spec["record_every"] is not None:
            _exact("record_every", spec["record_every"], int)
            check_count("record_every", spec["record_every"])
        for name in AXES:
            if name in spec:
                values = spec[name]
                if not isinstance(values, list) or not values:
                    raise ValueError(f"axis {name} is not a list of values")
                check_axis(name, [from_json(name, v) for v in values])
    except (ValueError, TypeError, AttributeError, RecursionError) as err:
        raise Damaged(f"its spec is not a study's ({err})") from None
    return spec


def check_settings(rows: list[tuple], spec: dict, n_settings) -> list[Setting]:
    """The stored settings (rows of setting, axes, checksum), each one of the spec's grid points."""
    if not isinstance(n_settings, int) or n_settings < 1 or [r[0] for r in rows] != list(range(n_settings)):
        raise Damaged(f"its settings table holds {len(rows)} rows for {n_settings!r} settings")
    allowed = {name: {_key(v) for v in spec[name]} for name in AXES if name in spec}
    settings = []
    for index, axes, stored in rows:
        try:
            if stored != checksum(index, axes):
                raise ValueError("it does not match its checksum")
            values = json.loads(axes)
            if not isinstance(values, dict) or sum(k in values for k in MODELS) != 1:
                raise ValueError("it is not a setting")
            for name, value in values.items():
                if _key(value) not in allowed.get(name, ()):
                    raise ValueError(f"{name} = {value!r} is not a value of the spec's axis")
            model = next(MODELS[k] for k in MODELS if k in values)
            if any(name not in values and schema.applies(name, values, model) for name in CORE):
                raise ValueError("it lacks a core axis")
            if values["steps_per_episode"] > MAX_STEPS_PER_EPISODE:
                raise ValueError(f"steps_per_episode {values['steps_per_episode']:,} > {MAX_STEPS_PER_EPISODE:,}")
            setting = Setting({k: from_json(k, v) for k, v in values.items()})
            problem = points_problem(setting, spec["record_every"])
            if problem:
                raise ValueError(problem)
            settings.append(setting)
        except (ValueError, TypeError, AttributeError, RecursionError) as err:
            raise Damaged(f"setting {index}: {err}") from None
    return settings


def points_problem(setting: Setting, record_every: int | None) -> str | None:
    """Why a setting cannot have curves every ``record_every`` steps, or None."""
    if record_every is None:
        return None
    if record_every > setting.n_steps:
        return f"record_every {record_every:,} is more than its {setting.n_steps:,} steps"
    if setting.curve_points(record_every) > MAX_POINTS:
        return (f"{setting.curve_points(record_every):,} curve points (its {setting.n_steps:,} steps every "
                f"{record_every:,}); at most {MAX_POINTS:,}")  # fmt: skip
    return None


def _key(value) -> str:
    return json.dumps(value, sort_keys=True)


def _exact(name: str, value, kind: type) -> None:
    if type(value) is not kind:
        raise ValueError(f"{name} {value!r} is not of type {kind.__name__}")


DEFAULTS = {  # an axis at this value is the same setting as without it
    **{k: to_json(v) for k, v in OPTION_DEFAULTS.items() if k in AXES and v is not None},
    "arms": list(SEED_ARMS),
}


def normal_form(spec: dict, settings: list[dict]) -> tuple:
    """What makes two studies the same: the run parameters and each setting without axes at their
    defaults (``optimizer="sgd"`` restated is the setting without it)."""
    run = tuple(spec.get(k) for k in ("format", *RUN_KEYS))
    return run, [{k: v for k, v in s.items() if _key(v) != _key(DEFAULTS.get(k, ()))} for s in settings]


def field_ok(setting, data, stored, grid, record_every: int | None) -> bool:
    """Whether a stored mean-field row is whole (else it is computed again)."""
    return (type(setting) is int and 0 <= setting < len(grid) and isinstance(data, bytes)
            and len(data) == 8 * grid[setting].curve_points(record_every)
            and stored == checksum(setting, crc(data)))  # fmt: skip


def task_cells(task) -> tuple:
    """A planned task's cells, in TASK_COLUMNS order."""
    return (task.key, task.stage, task.group, task.block, json.dumps(task.settings), "planned", *[None] * 5)


def real(value):
    """A float cell (numpy floats repr differently from the float SQLite returns)."""
    return None if value is None else float(value)
