"""The learning rule and the problem from ``run_batch``'s keywords: checked, then built into a Batch.

Every keyword is an option of schema.py, which gives its kind, default, range and where it
applies. ``make_setup`` checks them all before any work and returns a ``Setup``: the Batch an
engine runs (float64 numbers on the CPU; each engine rounds them once to its dtype) and what the
caller gave. An option given where it does not apply (momentum to Adam, reward_sd to binary
rewards) is refused, not silently ignored.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from . import bounds, checks
from .problem import arm_parameter, best_arm, regret_gaps, reward_bound_of
from .random_arms import RandomArms
from .schema import ALIASES, BINARY, KEYWORDS, MODEL_OF, MODELS, OPTIONS, split_aliases, where, why_not
from .state import Batch, Hyper, Rule


@dataclass(frozen=True)
class Setup:
    """A checked batch of bandits and what it was made from."""

    batch: Batch  # float64 numbers, on the CPU
    model: str  # "threshold", "bernoulli" or "gaussian"
    params: torch.Tensor  # (B, K) float64: threshold values, P(win) or means, as given
    temperature: torch.Tensor  # (B,) float64
    values: dict  # option -> its checked value ((B,) float64 tensors, pairs of them, choices, bools)

    @property
    def n_bandits(self) -> int:
        return self.batch.n_bandits


def problem_size(n_bandits: int, options: dict) -> int:
    """K, from the reward model's keyword (checked; cheap: nothing of size n_bandits x K is made)."""
    drawn = [v for k, v in options.items() if k in MODEL_OF and isinstance(v, RandomArms)]
    if drawn:
        return drawn[0].k
    model, params = checks.check_problem(n_bandits, *(options.get(k) for k in MODELS.values()))
    return params.shape[1]


def draw_problems(options: dict, seed: int, bandit_ids: torch.Tensor) -> tuple[dict, str | None]:
    """The options with a random problem (RandomArms) drawn for each bandit from its own stream
    (seed, g), and the distribution's text (None for given arms). Its every possible draw is
    checked against the model's range first."""
    for keyword, value in options.items():
        if keyword in MODEL_OF and isinstance(value, RandomArms):
            model = MODEL_OF[keyword]
            value.check_support(keyword, model)
            return {**options, keyword: value.draw(model, seed, bandit_ids)}, str(value)
    return options, None


def make_setup(n_bandits: int, bandit_ids: torch.Tensor, **options) -> Setup:
    """Check ``run_batch``-style keywords (schema.KEYWORDS, and the aliases betas=, baseline=("ema",
    d)) for ``n_bandits`` bandits and build their Setup.

    bandit_ids: (n_bandits,) int64, the bandits' indices in the random stream.
    """
    unknown = set(options) - set(KEYWORDS) - set(ALIASES)
    if unknown:
        raise TypeError(f"unknown option {sorted(unknown)[0]!r}; the options are {', '.join(KEYWORDS)}")
    given_as = {part: alias for alias, parts in ALIASES.items() if alias in options for part in parts}
    options = split_aliases(options)
    n = n_bandits
    model, params = checks.check_problem(n, *(options.get(k) for k in MODELS.values()))
    values = {}
    for name in KEYWORDS:
        option = OPTIONS[name]
        value = options.get(name, option.default)
        if option.kind not in ("arms", "weights") and value is not None:
            values[name] = checks.check_option(option, value, n)
    chosen = {k: v for k, v in values.items() if OPTIONS[k].kind in ("choice", "bool")}
    _check_applicable(options, values, chosen, model, given_as)
    if values["nesterov"] and not bool(((values["momentum"] > 0) & (values["dampening"] == 0)).all()):
        raise ValueError("nesterov requires momentum > 0 and dampening = 0 for every bandit (as torch.optim.SGD)")
    init_weights = _initial_weights(options.get("init_weights", OPTIONS["init_weights"].default), params, n)
    rows = lambda fn, *tensors: checks.rowwise(fn, *tensors, n_bandits=n)  # noqa: E731
    temperature = values["temperature"]
    hyper: dict[str, torch.Tensor] = {}
    for name, option in OPTIONS.items():
        if option.kind == "pair":
            hyper.update(zip(option.rows, values[name]))
        elif name == "temperature":  # the engines multiply by 1 / T
            hyper["inv_temperature"] = rows(lambda t: 1.0 / t, temperature)
        elif option.rows:
            hyper[name] = values[name] if name in values else torch.zeros(n, dtype=torch.float64).expand(n)
    rule = Rule(**{field: _rule_field(field, values, chosen, model) for field in Rule.__dataclass_fields__})
    batch = Batch(
        rule=rule,
        hyper=Hyper(**hyper),
        arm_param=rows(lambda p: arm_parameter(model, p), params),
        arm_gap=rows(lambda p, won, lost: regret_gaps(model, p, won, lost), params, hyper["win"], hyper["loss"]),
        best_arm=rows(lambda p: best_arm(model, p), params),
        init_weights=init_weights,
        bandit_ids=bandit_ids,
    )
    values["init_weights"] = init_weights
    return Setup(batch=batch, model=model, params=params, temperature=temperature, values=values)


def _rule_field(field: str, values: dict, chosen: dict, model: str):
    """A Rule field: the reward model's kind, a choice, or whether an option the engines specialise
    on (momentum, weight decay, a constant step) is given, applies and is nonzero somewhere."""
    if field == "rewards":
        return "binary" if model in BINARY else "gaussian"
    if not OPTIONS[field].specialise:
        return values[field]
    given = field in values and why_not(field, chosen, model) is None
    return given and bool((checks.compact(values[field]) > 0).any())


def _check_applicable(options: dict, values: dict, chosen: dict, model: str, given_as: dict) -> None:
    """Options given where they do not apply are refused (unless given at their default), and
    options without a default are required where they apply (the EMA baseline's decay)."""
    for name in KEYWORDS:
        option = OPTIONS[name]
        if option.kind == "arms":
            continue
        reason = why_not(name, chosen, model)
        if reason is None and option.required and name not in values:
            raise ValueError(f"{name} is required with {where(name)}")
        if reason is not None and name in options and _differs_from_default(name, values.get(name)):
            shown = given_as.get(name, name)
            raise ValueError(f"{shown} is not an option of {reason} (it applies with {where(name)})")


def _differs_from_default(name: str, value) -> bool:
    default = OPTIONS[name].default
    if value is None or default is None or isinstance(value, (str, bool)):
        return value != default
    if isinstance(value, tuple):  # a pair of tensors
        return any(bool((checks.compact(v) != d).any()) for v, d in zip(value, default))
    if isinstance(value, torch.Tensor):
        return bool((checks.compact(value) != default).any())
    return True  # weights: any given value


def _initial_weights(value, params: torch.Tensor, n: int) -> torch.Tensor:
    """init_weights: a number, (K,) or (n_bandits, K) -> (n_bandits, K) float64."""
    tensor = checks.as_real_tensor("init_weights", value, "a number, (K,) or (n_bandits, K)")
    if tensor.ndim == 0:
        weights = tensor.expand(n, params.shape[1])
    else:
        weights = checks.check_arm_vector("init_weights", value, n)
    if weights.shape != params.shape:
        raise ValueError(f"init_weights must have one weight per arm: K = {params.shape[1]}, got {weights.shape[1]}")
    if not bool(torch.isfinite(checks.compact(weights)).all()):
        raise ValueError("init_weights must be finite numbers (no nan or inf)")
    return weights


def check_numerics(setup: Setup, n_episodes: int, steps_per_episode: int, dtype: torch.dtype) -> None:
    """The setup's numbers in ``dtype``: nothing overflows or underflows, no weight can overflow,
    and per-arm sums of integer rewards stay exact (they are accumulated in ``dtype``)."""
    b, h = setup.batch, setup.batch.hyper
    checks.check_representable("temperature", setup.temperature, dtype, nonzero=True)
    checks.check_representable("1 / temperature", h.inv_temperature, dtype, nonzero=True)
    checks.check_representable("lr", h.lr, dtype, nonzero=True)
    checks.check_representable("eps", h.eps, dtype, nonzero=True)
    checks.check_representable("lr / temperature", h.lr * h.inv_temperature, dtype)
    checks.check_representable("weight_decay", h.weight_decay, dtype)
    checks.check_representable(MODELS[setup.model], setup.params, dtype)
    for name, values in (("reward_values", h.win), ("reward_values", h.loss), ("reward_sd", h.reward_sd)):
        checks.check_representable(name, values, dtype)
    checks.check_distinct_in_dtype(h.win, h.loss, dtype)
    for name in ("momentum", "beta1", "beta2", "alpha", "baseline_decay"):  # complements 1 - x stay > 0
        checks.check_below_one_in_dtype(name, getattr(h, name), dtype)
    checks.check_representable("init_weights", b.init_weights, dtype)
    reward = checks.rowwise(reward_bound_of(setup.model), setup.params, h.win, h.loss, h.reward_sd,
                            n_bandits=setup.n_bandits)  # fmt: skip
    advantage = reward if b.rule.baseline == "none" else 2 * reward
    # integers up to 2**24 (float32), 2**53 (float64) are exact in dtype; whole sums are returned as int32
    exact = min(2.0 ** {torch.float32: 24, torch.float64: 53}[dtype], 2.0**31 - 1)
    if integer_rewards(setup) and float((reward * steps_per_episode).max()) > exact:
        raise ValueError(
            f"steps_per_episode x the largest |reward| must be <= {exact:.0f} in {checks.dtype_name(dtype)}, so that "
            f"per-arm sums stay exact (summed in {checks.dtype_name(dtype)}, returned as int32); got "
            f"{steps_per_episode:,} steps; use "
            + ("dtype=torch.float64 or " if exact < 2**31 - 1 else "")
            + "shorter episodes"
        )
    checks.check_representable("steps_per_episode x the largest reward", reward * steps_per_episode, dtype)
    n_steps = n_episodes * steps_per_episode
    if b.rule.policy == "gradient":
        bounds.check_run_bound(b.rule, h, setup.temperature, b.init_weights, advantage, n_steps, dtype)
    else:
        _check_value_policy(setup, n_steps, dtype)


MAX_POLICY_STEPS = 2**31 - 1  # the value policies and Thompson sampling count each arm's pulls in int32


def _check_value_policy(setup: Setup, n_steps: int, dtype: torch.dtype) -> None:
    """The numbers of ε-greedy, greedy, UCB and Thompson sampling stay finite over the run."""
    h, rule = setup.batch.hyper, setup.batch.rule
    if n_steps > MAX_POLICY_STEPS:
        raise ValueError(
            f"n_episodes x steps_per_episode must be at most {MAX_POLICY_STEPS:,} with policy {rule.policy!r} (it "
            f"counts each arm's pulls over the run in int32), got {n_steps:,}"
        )
    checks.check_representable("initial_value", h.initial_value, dtype)
    checks.check_representable("ucb_c x sqrt(ln(steps))", h.ucb_c * math.sqrt(math.log(n_steps + 1)), dtype)
    if rule.policy == "thompson" and rule.rewards == "gaussian":
        if not bool((checks.compact(h.reward_sd) > 0).all()):
            raise ValueError(
                "reward_sd must be > 0 with Thompson sampling (its posterior's noise precision is 1 / sd²)"
            )
        checks.check_representable("1 / reward_sd²", 1.0 / h.reward_sd**2, dtype, nonzero=True)
        checks.check_representable("1 / prior_sd²", 1.0 / h.prior_sd**2, dtype, nonzero=True)
        checks.check_representable("prior_mean", h.prior_mean, dtype)


def integer_rewards(setup: Setup) -> bool:
    """Whether every reward is a whole number (binary rewards with whole win and loss values)."""
    h = setup.batch.hyper
    values = torch.cat([checks.compact(h.win), checks.compact(h.loss)])
    return setup.batch.rule.rewards == "binary" and bool((values == values.round()).all())
