"""A setting: one point of a study's grid, a frozen mapping axis -> value."""

from __future__ import annotations

from collections.abc import Mapping

from ..random_arms import RandomArms
from ..schema import HORIZON, MODEL_OF, OPTIONS, applies

ORDER = tuple(OPTIONS)  # the order of a setting's axes: schema.py's, the grid's product order
# stated in every description of a setting, default or not (the others when they differ from theirs)
STATED = ("n_episodes", "steps_per_episode", "optimizer", "baseline", "lr", "temperature")


class Setting(Mapping):
    """One point of the grid: a frozen mapping axis -> value (only the axes that apply to it).

    Values are floats, ints, bools, strings, tuples (arm vectors, reward values) or RandomArms.
    Axes read as attributes too: ``setting.temperature``, ``setting.arms``.
    """

    __slots__ = ("_items", "_map")

    def __init__(self, items: Mapping):
        self._items = tuple((k, items[k]) for k in ORDER if k in items)
        self._map = dict(self._items)

    def __getitem__(self, key):
        return self._map[key]

    def __iter__(self):
        return iter(self._map)

    def __len__(self) -> int:
        return len(self._items)

    def __hash__(self) -> int:
        return hash(self._items)

    def __eq__(self, other) -> bool:
        return isinstance(other, Setting) and self._items == other._items

    def __getattr__(self, name):
        try:
            return self._map[name]
        except KeyError:
            raise AttributeError(f"this setting has no axis {name!r}") from None

    def __reduce__(self):
        return Setting, (self._map,)

    def __repr__(self) -> str:
        return f"Setting({', '.join(f'{k}={v!r}' for k, v in self._items)})"

    @property
    def model_keyword(self) -> str:
        """ "arms", "win_prob" or "means": the reward model's keyword."""
        return next(k for k in MODEL_OF if k in self._map)

    @property
    def model(self) -> str:
        """ "threshold", "bernoulli" or "gaussian"."""
        return MODEL_OF[self.model_keyword]

    @property
    def n_arms(self) -> int:
        value = self._map[self.model_keyword]
        return value.k if isinstance(value, RandomArms) else len(value)

    @property
    def n_steps(self) -> int:
        """Steps of the whole run: episodes × steps per episode."""
        return self.n_episodes * self.steps_per_episode

    def curve_points(self, record_every: int | None) -> int:
        """The points of its curves: one per episode, or one every ``record_every`` steps (state.trace_points)."""
        return self.n_episodes if record_every is None else self.n_steps // record_every

    def point_every(self, record_every: int | None) -> int:
        """Steps between two points of its curves."""
        return self.steps_per_episode if record_every is None else record_every

    @property
    def lr_over_t2(self) -> float | None:
        """lr / T², the effective step size of plain SGD from zero weights (None: not the gradient policy)."""
        return self.lr / self.temperature**2 if "lr" in self._map else None

    def full(self) -> dict:
        """Every option that applies to this setting (schema.applies), the horizon and the model's
        parameters included, with its value: the setting's, else the option's default."""
        chosen = {k: v for k, v in self._items if OPTIONS[k].kind in ("choice", "bool")}
        return {
            name: self._map.get(name, option.default) for name, option in OPTIONS.items()
            if (option.kind != "arms" or name == self.model_keyword) and applies(name, chosen, self.model)
        }  # fmt: skip

    def stated(self, omit: tuple[str, ...] = ()) -> dict:
        """What a line describing it says: the model's parameters, the horizon, optimizer, baseline, lr,
        temperature, and every other option that applies where it differs from its default; not ``omit``."""
        return {
            k: v for k, v in self.full().items()
            if k not in omit and (k == self.model_keyword or k in STATED or v != OPTIONS[k].default)
        }  # fmt: skip

    def options(self, arms=None) -> dict:
        """run_batch's keywords for this setting (not the horizon); the model's parameters are
        ``arms`` when given (a random problem's draws), else the setting's vector."""
        out = {k: v for k, v in self._items if k not in HORIZON}
        out[self.model_keyword] = self._map[self.model_keyword] if arms is None else arms
        return out
