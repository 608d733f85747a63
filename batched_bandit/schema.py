"""Every option of the problem and the learning rule, declared once.

An option is a row (torch.optim's defaults dict, gymnax's EnvParams, argparse built from a
table): its name — the ``run_batch`` keyword, the study axis, the ``results.csv`` column and the
CLI flag ``--name-with-dashes`` of every command — its kind, default and range, whether it is a
number per bandit or one choice for the whole batch, which settings it applies to, and its words
(help, a short name for legends, an axis label). Everything else is derived from ``OPTIONS``:
``run_batch``'s checks and defaults (options.py), the per-bandit numbers the engines receive
(``ROWS``, state.Hyper) and the choices they compile code for (``RULE_FIELDS``, state.Rule), the
CLI's flags (cli/flags.py), the study's axes, applicability and column order (study/axes.py),
summaries (result.py) and figure labels (figures/columns.py).

The order of ``OPTIONS`` is the study grid's product order, outermost first: choices that change
the engine's code come before the numbers that vary within one batch.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

# the reward models and the keyword that gives each one's per-arm parameters
MODELS = {"threshold": "arms", "bernoulli": "win_prob", "gaussian": "means"}
MODEL_OF = {keyword: model for model, keyword in MODELS.items()}
BINARY = ("threshold", "bernoulli")  # models that pay one of two values (win, loss)
SEED_ARMS = (0.2, 0.0, -0.2, -1.0)


@dataclass(frozen=True)
class Option:
    """One option: its name, kind, default, range, scope, applicability and words.

    kind: "arms" (a reward model's per-arm parameters, (K,) or (n_bandits, K)), "pair" (two
    per-bandit numbers), "real" (a per-bandit number in [low, high], ends open as flagged),
    "weights" (a number, (K,) or (n_bandits, K)), "count" (an integer >= 1), "bool", "choice".
    ``applies``: option -> the values it applies with, all of which must hold ("model": the
    reward model). ``rows``: the per-bandit rows it gives the engines (state.Hyper), "" for none.
    ``specialise``: the engines compile a code path for "nonzero in some bandit" (state.Rule).
    ``core``: a column of every study (the others are columns when swept or given).
    """

    name: str
    kind: str
    default: Any  # a number, a pair, a string, a bool or None
    help: str
    short: str
    label: str
    low: float = -math.inf
    high: float = math.inf
    low_open: bool = False
    high_open: bool = False
    choices: tuple = ()
    applies: Mapping[str, tuple] = field(default_factory=dict)
    rows: tuple[str, ...] = ()
    specialise: bool = False
    core: bool = False
    required: bool = False  # no default: must be given where it applies
    cli: str = ""  # the flag, where it is not --name-with-dashes

    def __post_init__(self):
        object.__setattr__(self, "applies", MappingProxyType(dict(self.applies)))

    @property
    def flag(self) -> str:
        """The command-line flag, the same in every command: ``--weight-decay``."""
        return self.cli or "--" + self.name.replace("_", "-")

    @property
    def per_bandit(self) -> bool:
        """Whether bandits of one batch may differ (a number or a tensor per bandit)."""
        return self.kind in ("arms", "pair", "real", "weights")

    def range_text(self) -> str:
        """The allowed values in words: ``in [0, 1)``, ``> 0``, ``one of sgd, adam, rmsprop``."""
        if self.kind == "choice":
            return "one of " + ", ".join(self.choices)
        if self.kind == "bool":
            return "true or false"
        if self.kind == "count":
            return "an integer >= 1"
        return interval_text(self.low, self.high, self.low_open, self.high_open)

    def default_text(self) -> str:
        if self.default is None:
            return "required where it applies" if self.required else "none"
        if isinstance(self.default, bool):
            return str(self.default).lower()
        if isinstance(self.default, tuple):
            return ",".join(f"{v:g}" for v in self.default)
        return f"{self.default:g}" if isinstance(self.default, float) else str(self.default)


def interval_text(low: float, high: float, low_open: bool, high_open: bool) -> str:
    """``in [0, 1)``, ``finite and > 0``, ``finite``: an interval as the error messages say it."""
    if high == math.inf:
        return f"finite and {'>' if low_open else '>='} {low:g}" if low > -math.inf else "finite"
    return f"in {'(' if low_open else '['}{low:g}, {high:g}{')' if high_open else ']'}"


POLICIES = ("gradient", "epsilon_greedy", "greedy", "ucb", "thompson")
GRADIENT = {"policy": ("gradient",)}
SGD_RMSPROP = {"optimizer": ("sgd", "rmsprop")}

OPTIONS_LIST = (
    Option("n_episodes", "count", 50, "episodes; per-arm reward sums reset at each", "episodes",
           "number of episodes", core=True, cli="--episodes"),
    Option("steps_per_episode", "count", 1000, "steps per episode", "steps per episode", "steps per episode",
           core=True, cli="--steps"),
    Option("arms", "arms", None, "the seed's threshold model: arm a pays win if a N(0,1) draw exceeds arms[a] "
           "(the lowest value is the best arm); default 0.2,0,-0.2,-1", "arms", "arms: threshold values (lowest best)"),
    Option("win_prob", "arms", None, "Bernoulli arms: arm a pays win with probability win_prob[a], else loss",
           "P(win)", "arms: P(win) per arm", low=0.0, high=1.0),
    Option("means", "arms", None, "Gaussian arms: arm a pays N(means[a], reward_sd^2)", "means",
           "arms: mean reward per arm"),
    Option("reward_values", "pair", (1.0, -1.0), "(win, loss) of the binary models, win > loss", "rewards",
           "rewards (win, loss)", applies={"model": BINARY}, rows=("win", "loss")),
    Option("reward_sd", "real", 1.0, "standard deviation of Gaussian rewards", "reward sd",
           "sd of the Gaussian rewards", low=0.0, applies={"model": ("gaussian",)}, rows=("reward_sd",)),
    Option("policy", "choice", "gradient", "how a bandit chooses: the softmax policy gradient (the seed's rule), "
           "epsilon-greedy, greedy on (optimistic) value estimates, UCB or Thompson sampling (Sutton & Barto, ch. 2)",
           "policy", "policy", choices=POLICIES),
    Option("optimizer", "choice", "sgd", "torch.optim's SGD, Adam or RMSprop (per-element, torch's defaults)",
           "optimizer", "optimizer", choices=("sgd", "adam", "rmsprop"), applies=GRADIENT),
    Option("nesterov", "bool", False, "Nesterov momentum (needs momentum > 0 and dampening 0)", "Nesterov",
           "Nesterov momentum", applies={"optimizer": ("sgd",)}),
    Option("centered", "bool", False, "centred RMSprop", "centred", "centred RMSprop",
           applies={"optimizer": ("rmsprop",)}),
    Option("baseline", "choice", "none", "reward baseline: none (the seed), mean (running mean of every reward, "
           "the current one included), ema (b <- decay b + (1 - decay) r from 0)", "baseline", "reward baseline",
           choices=("none", "mean", "ema"), applies=GRADIENT),
    Option("baseline_decay", "real", None, "the ema baseline's decay", "baseline decay", "EMA baseline's decay",
           low=0.0, high=1.0, high_open=True, applies={"baseline": ("ema",)}, rows=("baseline_decay",), required=True),
    Option("momentum", "real", 0.0, "momentum", "momentum", "momentum", low=0.0, high=1.0, high_open=True,
           applies=SGD_RMSPROP, rows=("momentum",), specialise=True),
    Option("dampening", "real", 0.0, "SGD's dampening of the momentum buffer", "dampening", "SGD's dampening",
           low=0.0, high=1.0, applies={"optimizer": ("sgd",)}, rows=("dampening",)),
    Option("weight_decay", "real", 0.0, "L2 weight decay (added to the gradient, as torch.optim)", "weight decay",
           "L2 weight decay", low=0.0, applies=GRADIENT, rows=("weight_decay",), specialise=True),
    Option("beta1", "real", 0.9, "Adam's beta1", "β₁", "Adam's β₁", low=0.0, high=1.0, high_open=True,
           applies={"optimizer": ("adam",)}, rows=("beta1",)),
    Option("beta2", "real", 0.999, "Adam's beta2", "β₂", "Adam's β₂", low=0.0, high=1.0, high_open=True,
           applies={"optimizer": ("adam",)}, rows=("beta2",)),
    Option("eps", "real", 1e-8, "Adam's and RMSprop's epsilon", "eps", "ε of Adam / RMSprop", low=0.0,
           low_open=True, applies={"optimizer": ("adam", "rmsprop")}, rows=("eps",)),
    Option("alpha", "real", 0.99, "RMSprop's smoothing constant", "alpha", "RMSprop's smoothing constant α",
           low=0.0, high=1.0, high_open=True, applies={"optimizer": ("rmsprop",)}, rows=("alpha",)),
    Option("init_weights", "weights", 0.0, "initial weights: a number, or one per arm", "w₀",
           "initial weight of every arm", applies=GRADIENT),
    Option("epsilon", "real", 0.1, "probability of a uniformly random arm instead of the greedy one", "ε",
           "exploration probability ε", low=0.0, high=1.0, applies={"policy": ("epsilon_greedy",)}, rows=("epsilon",)),
    Option("initial_value", "real", 0.0, "the value estimates' initial value Q0 (optimistic when high)", "Q₀",
           "initial value estimate Q₀", applies={"policy": ("greedy",)}, rows=("initial_value",)),
    Option("step_size", "real", None, "constant step of the value estimates, Q <- Q + a (r - Q); none: sample "
           "averages", "α", "step size α of the value estimates", low=0.0, high=1.0, low_open=True,
           applies={"policy": ("greedy",)}, rows=("step_size",), specialise=True),
    Option("ucb_c", "real", 2.0, "UCB's exploration weight c in Q + c sqrt(ln t / N)", "c", "UCB's exploration c",
           low=0.0, applies={"policy": ("ucb",)}, rows=("ucb_c",)),
    Option("prior_mean", "real", 0.0, "Thompson sampling's normal prior mean of each arm's mean reward", "μ₀",
           "prior mean μ₀", applies={"policy": ("thompson",), "model": ("gaussian",)}, rows=("prior_mean",)),
    Option("prior_sd", "real", 1.0, "Thompson sampling's normal prior sd of each arm's mean reward", "σ₀",
           "prior sd σ₀", low=0.0, low_open=True, applies={"policy": ("thompson",), "model": ("gaussian",)},
           rows=("prior_sd",)),
    Option("lr", "real", 0.01, "learning rate", "lr", "learning rate lr", low=0.0, low_open=True, rows=("lr",),
           core=True, applies=GRADIENT),
    Option("temperature", "real", 10.0, "softmax temperature T of the policy softmax(w / T)", "T",
           "softmax temperature T", low=0.0, low_open=True, rows=("inv_temperature",), core=True, applies=GRADIENT),
)  # fmt: skip
OPTIONS = MappingProxyType({o.name: o for o in OPTIONS_LIST})
HORIZON = ("n_episodes", "steps_per_episode")  # run_batch's explicit keywords, a study's axes
# run_batch's keywords for the problem and the rule (the horizon is given apart)
KEYWORDS = tuple(name for name in OPTIONS if name not in HORIZON)
DEFAULTS = MappingProxyType({o.name: o.default for o in OPTIONS_LIST})

# torch.optim's spelling of two options, accepted wherever options are given (run_batch, grid):
# betas=(b1, b2) is beta1, beta2; baseline=("ema", d) is baseline "ema" with baseline_decay d
ALIASES = {"betas": ("beta1", "beta2")}

# the per-bandit numbers an engine receives (state.Hyper's fields, the kernels' parameter rows)
ROWS = tuple(row for o in OPTIONS_LIST for row in o.rows)
# the batch-wide choices an engine compiles a code path for (state.Rule's fields); "rewards" is
# the reward model as the engines see it: "binary" or "gaussian"
RULE_FIELDS = (
    *(o.name for o in OPTIONS_LIST if o.kind in ("choice", "bool")),
    *(o.name for o in OPTIONS_LIST if o.specialise),
    "rewards",
)
REWARDS = ("binary", "gaussian")


# each policy's own parameter: the x of a parameter study (Sutton & Barto, figure 2.6)
POLICY_PARAMETER = {"gradient": "lr", "epsilon_greedy": "epsilon", "greedy": "initial_value", "ucb": "ucb_c"}


def split_aliases(options: Mapping) -> dict:
    """betas=(b1, b2) -> beta1, beta2; baseline=("ema", d) -> baseline "ema", baseline_decay d.

    ValueError when an alias and the options it stands for are both given."""
    out = dict(options)
    for alias, parts in ALIASES.items():
        if alias in out:
            value = out.pop(alias)
            if any(p in out for p in parts):
                raise ValueError(f"give {alias}=({', '.join(parts)}) or {' and '.join(parts)}=, not both")
            if not isinstance(value, (tuple, list)) or len(value) != len(parts):
                raise TypeError(f"{alias} must be a pair ({', '.join(parts)}), got {value!r}")
            if any(isinstance(v, (tuple, list)) for v in value):
                raise ValueError(f"{alias} must be a pair ({', '.join(parts)}), one value each; to sweep them, give "
                                 f"{' and '.join(parts)} as axes, got {value!r}")  # fmt: skip
            out.update(zip(parts, value))
    baseline = out.get("baseline")
    if (
        isinstance(baseline, (tuple, list))
        and len(baseline) == 2
        and baseline[0] == "ema"
        and not isinstance(baseline[1], str)
    ):
        if "baseline_decay" in out:
            raise ValueError('give the decay once: baseline=("ema", decay) or baseline_decay=')
        out["baseline"], out["baseline_decay"] = "ema", baseline[1]
    elif baseline is None and "baseline" in out:
        out["baseline"] = "none"
    return out


def applies(name: str, chosen: Mapping, model: str) -> bool:
    """Whether option ``name`` applies to a setting with these choices and reward model.

    chosen: option -> value (missing ones take their defaults). An option applies when every
    option it depends on applies and has one of the values it names."""
    return why_not(name, chosen, model) is None


def why_not(name: str, chosen: Mapping, model: str) -> str | None:
    """None if option ``name`` applies here, else the choice that rules it out: "optimizer 'adam'"."""
    for on, allowed in OPTIONS[name].applies.items():
        value = model if on == "model" else chosen.get(on, DEFAULTS[on])
        if value not in allowed:
            return f"{on} {value!r}"
        if on != "model" and (reason := why_not(on, chosen, model)) is not None:
            return reason
    return None


def where(name: str) -> str:
    """Where an option applies, in words: "optimizer sgd or rmsprop", "" for everywhere."""
    return " and ".join(f"{on} {' or '.join(allowed)}" for on, allowed in OPTIONS[name].applies.items())


def choice_index(name: str, value: str) -> int:
    """The index of a choice in its option's choices (the engines' code number); ValueError for
    an unknown one, so that no dispatch ever falls through to another choice."""
    choices = REWARDS if name == "rewards" else OPTIONS[name].choices
    if value not in choices:
        raise ValueError(f"{name} must be one of {', '.join(choices)}, got {value!r}")
    return choices.index(value)


def dispatch(table: Mapping, name: str, value):
    """``table[value]`` for an enumerated ``name`` (optimizer, baseline, model...): ValueError for a
    value the table does not know, never a fall-through to another entry."""
    try:
        return table[value]
    except KeyError:
        raise ValueError(f"unknown {name} {value!r}: known are {', '.join(map(str, table))}") from None
