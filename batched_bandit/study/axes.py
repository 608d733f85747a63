"""The grid of a study: its axes, their checks, and the settings they make.

An axis is any option of schema.py: run_batch's problem and rule options and the horizon
(``n_episodes``, ``steps_per_episode``); torch.optim's ``betas=(b1, b2)`` and ``baseline=("ema",
d)`` are accepted for one value. The grid is their product, except that an axis is not crossed
with the settings it does not apply to (momentum for adam, betas for sgd, a decay without the EMA
baseline...; schema.applies): those settings keep the default and leave the column empty.

Settings whose bandits can run as one batch (the same learning-rule code path, reward model,
number of arms and horizon: ``batch_key``) are adjacent, in order of first appearance (a sweep is
a batch axis, PureJaxRL).
"""

from __future__ import annotations

import functools
import numbers
from collections.abc import Sequence

import numpy as np
import torch

from .. import schema
from ..checks import check_arm_vector, check_bool, check_choice, check_count, check_per_bandit, check_reward_values
from ..options import make_setup
from ..random_arms import RandomArms
from ..schema import MODEL_OF, OPTIONS, SEED_ARMS
from .setting import ORDER, Setting

# how an axis's values are read and checked, from its option's kind
AXIS_KINDS = {"arms": "vector", "pair": "pair", "choice": "choice", "bool": "bool", "count": "count",
              "real": "float", "weights": "float"}  # fmt: skip
AXES = {name: AXIS_KINDS[OPTIONS[name].kind] for name in ORDER}  # axis -> kind, in the product's order
CORE = {o.name: o.default for o in OPTIONS.values() if o.core}  # always columns
MAX_SETTINGS = 10**5  # settings in one study: each is checked, planned and stored before any work


def grid(**axes) -> list[Setting]:
    """The checked product of the axes; settings that share a batch are adjacent.

    Each axis is a value or a sequence of values; numeric axes are sorted and may not repeat. A
    model axis (``arms``, ``win_prob`` or ``means``, one per grid; default the seed's arms) is one
    vector (K,), several (a sequence of vectors or an (S, K) tensor; K may differ), or random
    problems (RandomArms, or a list mixing them with vectors). ``betas=(b1, b2)`` and
    ``baseline=("ema", decay)`` are accepted for one value and split into their axes.
    """
    return list(grid_and_columns(**axes)[0])


def grid_and_columns(**axes) -> tuple[list[Setting], list[str]]:
    """(settings, the axes that are columns: given ones and the core ones, in AXES order)."""
    axes = schema.split_aliases({k: v for k, v in axes.items() if v is not None})
    unknown = set(axes) - set(AXES)
    if unknown:
        raise TypeError(f"unknown sweep axis {sorted(unknown)[0]!r}; the axes are {', '.join(AXES)}")
    models = [k for k in MODEL_OF if k in axes]
    if len(models) > 1:
        raise ValueError(f"give one reward model axis: arms=, win_prob= or means=, not {' and '.join(models)}")
    values = {**CORE, **({} if models else {"arms": [SEED_ARMS]}), **axes}
    values = {name: check_axis(name, values[name]) for name in AXES if name in values}
    if "ema" in values.get("baseline", ()) and "baseline_decay" not in values:
        raise ValueError('baseline "ema" needs a baseline_decay axis (b <- decay b + (1 - decay) r)')
    model = MODEL_OF[models[0] if models else "arms"]
    check_grid_size(values, model)
    settings = [Setting(chosen) for chosen in _product(list(values.items()), {}, model)]
    for name in axes:  # an option given that no setting uses: a mistake, said before it is stored
        if all(name not in s for s in settings):
            raise ValueError(
                f"{name} applies only with {schema.where(name)}, and no setting of this grid has it "
                f"({schema.why_not(name, dict(settings[0]), model)})"
            )
    keys = {s: batch_key(s) for s in settings}  # also checks each setting (make_setup)
    first_seen = {key: i for i, key in enumerate(dict.fromkeys(keys.values()))}
    return sorted(settings, key=lambda s: first_seen[keys[s]]), list(values)


def grid_size(values: dict[str, list], model: str) -> int:
    """The number of settings of the grid of checked axis ``values``, without making them: branch
    only on the axes others depend on (optimizer, baseline), multiply the lengths of the rest."""
    depended_on = {on for option in OPTIONS.values() for on in option.applies if on != "model"}

    def count(axes: list[tuple[str, list]], chosen: dict) -> int:
        if not axes:
            return 1
        (name, axis), rest = axes[0], axes[1:]
        if not schema.applies(name, chosen, model):
            return count(rest, chosen)
        if name in depended_on:
            return sum(count(rest, {**chosen, name: value}) for value in axis)
        return len(axis) * count(rest, chosen)

    return count(list(values.items()), {})


def check_grid_size(values: dict[str, list], model: str) -> None:
    """At most MAX_SETTINGS settings, refused at once (before any setting is made) with the way out."""
    size = grid_size(values, model)
    if size > MAX_SETTINGS:
        longest = max((name for name in values if len(values[name]) > 1), key=lambda name: len(values[name]))
        shape = " x ".join(f"{len(v):,} {k}" for k, v in values.items() if len(v) > 1)
        raise ValueError(
            f"the grid has {size:,} settings ({shape}); a study holds at most {MAX_SETTINGS:,}: split it into "
            f"several studies (e.g. one folder per few values of {longest}) or use fewer values"
        )


def _product(axes: list[tuple[str, list]], chosen: dict, model: str):
    """The product of the axes, each crossed only with the settings it applies to."""
    if not axes:
        yield chosen
        return
    (name, values), rest = axes[0], axes[1:]
    if not schema.applies(name, chosen, model):
        yield from _product(rest, chosen, model)
        return
    for value in values:
        yield from _product(rest, {**chosen, name: value}, model)


@functools.lru_cache(maxsize=65536)
def batch_key(setting: Setting) -> tuple:
    """Settings with the same key run as one batch: (Rule, reward model, K, n_episodes, steps).

    The Rule is the engine's code path for the setting alone, so a setting's bandits in a shared
    batch take exactly the path they take in run_batch. Checks the setting (ValueError naming it).
    """
    options = setting.options(arms=probe(setting))
    try:
        setup = make_setup(1, torch.arange(1), **options)
    except (ValueError, TypeError) as err:
        raise type(err)(f"{err} (in the setting {_describe(setting)})") from None
    return setup.batch.rule, setup.model, setting.n_arms, setting.n_episodes, setting.steps_per_episode


def probe(setting: Setting):
    """The setting's arm vector, or one representative draw of its random problem (for checks)."""
    value = setting[setting.model_keyword]
    return value.probe(setting.model) if isinstance(value, RandomArms) else value


def _describe(setting: Setting) -> str:
    return ", ".join(f"{k} {v}" for k, v in setting.items() if k not in CORE or k in ("temperature", "lr"))


def check_axis(name: str, value) -> list:
    """One axis's values, checked against its option (schema.py): a non-empty list, sorted if
    numeric, without repeats."""
    kind, option = AXES[name], OPTIONS[name]
    if kind == "vector":
        values = _vectors(name, value)
    elif kind == "pair":
        pairs = [value] if _is_pair(value) else _values(name, value)
        values = [tuple(float(x[0]) for x in check_reward_values(p, 1)) for p in pairs]
    elif kind == "choice":
        values = [check_choice(name, "none" if v is None else v, option.choices) for v in _values(name, value)]
    elif kind == "bool":
        values = [check_bool(name, v) for v in _values(name, value)]
    elif kind == "count":
        values = sorted(check_count(name, v) for v in _values(name, value))
    else:
        values = _values(name, value)
        for v in values:
            if isinstance(v, bool) or not isinstance(v, (numbers.Real, np.number)):
                raise ValueError(f"{name} values must be numbers, got {v!r}")
        checked = check_per_bandit(
            name, torch.tensor([float(v) for v in values], dtype=torch.float64), len(values), low=option.low,
            high=option.high, low_open=option.low_open, high_open=option.high_open, item="axis entry",
        )  # fmt: skip
        values = sorted(checked.tolist())
    seen = set()
    for v in values:
        if v in seen:
            raise ValueError(f"{name}: the value {v!r} is given twice; each axis value must be distinct")
        seen.add(v)
    return values


def _values(name: str, value) -> list:
    """A value or a sequence of values -> a non-empty list (of at most MAX_SETTINGS values)."""
    _check_length(name, value)
    if isinstance(value, (torch.Tensor, np.ndarray)):
        values = value.tolist() if value.ndim > 0 else [value.item()]
    elif isinstance(value, (Sequence, set, frozenset, range)) and not isinstance(value, (str, bytes)):
        values = list(value)
    elif isinstance(value, (str, bytes)) and AXES[name] not in ("choice",):
        raise ValueError(f"{name} must be a value or a sequence of values, got {value!r}")
    else:
        values = [value]
    if not values:
        raise ValueError(f"{name}: the axis is empty, give at least one value")
    return values


def _check_length(name: str, value) -> None:
    """An axis longer than a whole study may be is refused before its values are read (no MemoryError)."""
    if isinstance(value, (torch.Tensor, np.ndarray)):
        n = value.shape[0] if value.ndim else 1
    elif isinstance(value, (Sequence, set, frozenset, range)) and not isinstance(value, (str, bytes)):
        n = len(value)
    else:
        return
    if n > MAX_SETTINGS:
        raise ValueError(f"{name}: {n:,} values; a study holds at most {MAX_SETTINGS:,} settings: split it into "
                         "several studies")  # fmt: skip


def _is_pair(value) -> bool:
    return isinstance(value, (tuple, list)) and len(value) == 2 and all(isinstance(v, numbers.Real) for v in value)


def _vectors(name: str, value) -> list:
    """One arm vector (K,), several, or RandomArms -> a list of K-tuples and RandomArms."""
    if isinstance(value, (torch.Tensor, np.ndarray)):
        if value.ndim == 2:
            _check_length(name, value)
        items = list(value) if value.ndim == 2 else [value]
    elif isinstance(value, RandomArms):
        items = [value]
    elif (
        isinstance(value, Sequence)
        and not isinstance(value, str)
        and len(value) > 0
        and all(
            isinstance(a, (RandomArms, torch.Tensor, np.ndarray))
            or (isinstance(a, Sequence) and not isinstance(a, str))
            for a in value
        )
    ):
        items = list(value)
    else:
        items = [value]
    _check_length(name, items)
    out: list[RandomArms | tuple[float, ...]] = []
    for item in items:
        if isinstance(item, RandomArms):
            item.check_support(name, MODEL_OF[name])  # every draw, not one: refused before any folder exists
            out.append(item)
            continue
        if isinstance(item, (torch.Tensor, np.ndarray)) and item.ndim != 1:
            raise ValueError(f"{name}: each arm vector must be one-dimensional (K,), got shape {tuple(item.shape)}")
        out.append(tuple(check_arm_vector(name, item, 1)[0].tolist()))
    return out


def columns(given: Sequence[str]) -> list[str]:
    """The setting columns of the tables: temperature, lr, the model, then the rest in AXES order."""
    first = ["temperature", "lr", *(k for k in MODEL_OF if k in given), "n_episodes", "steps_per_episode"]
    return first + [k for k in AXES if k in given and k not in first]
