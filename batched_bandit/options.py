"""The learning rule and the problem from ``run_batch``'s keywords: checked, then built into a Batch.

``OPTIONS`` lists the keywords with their defaults (torch.optim's own defaults for the optimizers).
``make_setup`` checks them all before any work and returns a ``Setup``: the Batch an engine runs
(float64 numbers on the CPU; each engine rounds them once to its dtype) and what the caller gave.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import torch

from . import checks
from .problem import arm_parameter, best_arm, is_binary, regret_gaps
from .state import BASELINES, OPTIMIZERS, Batch, Hyper, Rule

# run_batch's keywords for the problem and the rule, with their defaults
OPTIONS = {
    "arms": None,  # the seed's threshold model (default SEED_ARMS when no other model is given)
    "win_prob": None,  # Bernoulli arms
    "means": None,  # Gaussian arms
    "reward_sd": 1.0,
    "reward_values": (1.0, -1.0),
    "temperature": 10.0,
    "lr": 0.01,
    "optimizer": "sgd",
    "momentum": 0.0,
    "dampening": 0.0,
    "nesterov": False,
    "weight_decay": 0.0,
    "betas": (0.9, 0.999),
    "eps": 1e-8,
    "alpha": 0.99,
    "centered": False,
    "baseline": None,
    "init_weights": 0.0,
}


@dataclass(frozen=True)
class Setup:
    """A checked batch of bandits and what it was made from."""

    batch: Batch  # float64 numbers, on the CPU
    model: str  # "threshold", "bernoulli" or "gaussian"
    params: torch.Tensor  # (B, K) float64: threshold values, P(win) or means, as given
    temperature: torch.Tensor  # (B,) float64

    @property
    def n_bandits(self) -> int:
        return self.batch.n_bandits

    @staticmethod
    def cat(setups: list[Setup]) -> Setup:
        """One setup of the rows of several with the same rule and model (a sweep's batch)."""
        first = setups[0]
        if any(s.model != first.model or s.batch.rule != first.batch.rule for s in setups):
            raise ValueError("only setups with one rule and one reward model can share a batch")
        return Setup(
            batch=_cat_batches([s.batch for s in setups]),
            model=first.model,
            params=torch.cat([s.params for s in setups]),
            temperature=torch.cat([s.temperature for s in setups]),
        )


def _cat_batches(batches: list[Batch]) -> Batch:
    def cat(objs):
        first = objs[0]
        changes = {}
        for field in dataclasses.fields(first):
            value = getattr(first, field.name)
            if isinstance(value, torch.Tensor):
                changes[field.name] = torch.cat([getattr(o, field.name) for o in objs])
            elif isinstance(value, Hyper):
                changes[field.name] = cat([getattr(o, field.name) for o in objs])
        return dataclasses.replace(first, **changes)

    return cat(batches)


def problem_size(n_bandits: int, options: dict) -> int:
    """K, from the reward model's keyword (checked; cheap: nothing of size n_bandits x K is made)."""
    model, params = checks.check_problem(n_bandits, *(options.get(k) for k in ("arms", "win_prob", "means")))
    return params.shape[1]


def make_setup(n_bandits: int, bandit_ids: torch.Tensor, **options) -> Setup:
    """Check ``OPTIONS``-style keywords for ``n_bandits`` bandits and build their Setup.

    bandit_ids: (n_bandits,) int64, the bandits' indices in the random stream.
    """
    unknown = set(options) - set(OPTIONS)
    if unknown:
        raise TypeError(f"unknown option {sorted(unknown)[0]!r}; the options are {', '.join(OPTIONS)}")
    o = {**OPTIONS, **options}
    n = n_bandits
    model, params = checks.check_problem(n, o["arms"], o["win_prob"], o["means"])
    win, loss = checks.check_reward_values(o["reward_values"], n)
    reward_sd = checks.check_per_bandit("reward_sd", o["reward_sd"], n, low=0.0)
    temperature = checks.check_per_bandit("temperature", o["temperature"], n, low=0.0, low_open=True)
    optimizer = checks.check_choice("optimizer", o["optimizer"], OPTIMIZERS)
    beta1, beta2 = checks.check_betas(o["betas"], n)
    baseline, decay = checks.check_baseline(o["baseline"], n)
    hyper = Hyper(
        lr=checks.check_per_bandit("lr", o["lr"], n, low=0.0, low_open=True),
        momentum=checks.check_per_bandit("momentum", o["momentum"], n, low=0.0, high=1.0, high_open=True),
        dampening=checks.check_per_bandit("dampening", o["dampening"], n, low=0.0, high=1.0),
        weight_decay=checks.check_per_bandit("weight_decay", o["weight_decay"], n, low=0.0),
        beta1=beta1,
        beta2=beta2,
        alpha=checks.check_per_bandit("alpha", o["alpha"], n, low=0.0, high=1.0, high_open=True),
        eps=checks.check_per_bandit("eps", o["eps"], n, low=0.0, low_open=True),
        baseline_decay=decay,
    )
    nesterov = checks.check_bool("nesterov", o["nesterov"])
    centered = checks.check_bool("centered", o["centered"])
    _check_applicable(optimizer, hyper, nesterov, centered)
    init = o["init_weights"]
    init_tensor = checks.as_real_tensor("init_weights", init, "a number, (K,) or (n_bandits, K)")
    if init_tensor.ndim == 0:
        init_weights = init_tensor.expand(n, params.shape[1])
    else:
        init_weights = checks.check_arm_vector("init_weights", init, n)
    if init_weights.shape != params.shape:
        raise ValueError(
            f"init_weights must have one weight per arm: K = {params.shape[1]}, got {init_weights.shape[1]}"
        )
    if not bool(torch.isfinite(checks.compact(init_weights)).all()):
        raise ValueError("init_weights must be finite numbers (no nan or inf)")
    rule = Rule(
        optimizer=optimizer,
        momentum=optimizer != "adam" and bool((hyper.momentum > 0).any()),
        nesterov=nesterov,
        centered=centered,
        weight_decay=bool((hyper.weight_decay > 0).any()),
        baseline=checks.check_choice("baseline", baseline, BASELINES),
        rewards="binary" if is_binary(model) else "gaussian",
    )
    rows = lambda fn, *tensors: checks.rowwise(fn, *tensors, n_bandits=n)  # noqa: E731
    batch = Batch(
        rule=rule,
        hyper=hyper,
        arm_param=rows(lambda p: arm_parameter(model, p), params),
        win=win,
        loss=loss,
        reward_sd=reward_sd,
        arm_gap=rows(lambda p, won, lost: regret_gaps(model, p, won, lost), params, win, loss),
        best_arm=rows(lambda p: best_arm(model, p), params),
        init_weights=init_weights,
        inv_temperature=rows(lambda t: 1.0 / t, temperature),
        bandit_ids=bandit_ids,
    )
    return Setup(batch=batch, model=model, params=params, temperature=temperature)


def _check_applicable(optimizer: str, hyper: Hyper, nesterov: bool, centered: bool) -> None:
    """Options of one optimizer given to another are refused, not silently ignored."""
    given = {
        "momentum": bool((hyper.momentum != 0).any()),
        "dampening": bool((hyper.dampening != 0).any()),
        "nesterov": nesterov,
        "betas": bool(((hyper.beta1 != 0.9) | (hyper.beta2 != 0.999)).any()),
        "alpha": bool((hyper.alpha != 0.99).any()),
        "eps": bool((hyper.eps != 1e-8).any()),
        "centered": centered,
    }
    allowed = {
        "sgd": ("momentum", "dampening", "nesterov"),
        "adam": ("betas", "eps"),
        "rmsprop": ("momentum", "alpha", "eps", "centered"),
    }[optimizer]
    for name, is_given in given.items():
        if is_given and name not in allowed:
            raise ValueError(f"{name} is not an option of optimizer {optimizer!r} (its options: lr, weight_decay, "
                             f"{', '.join(allowed)})")  # fmt: skip
    if nesterov and not bool(((hyper.momentum > 0) & (hyper.dampening == 0)).all()):
        raise ValueError("nesterov requires momentum > 0 and dampening = 0 for every bandit (as torch.optim.SGD)")


def check_numerics(setup: Setup, n_episodes: int, steps_per_episode: int, dtype: torch.dtype) -> None:
    """The setup's numbers in ``dtype``: nothing overflows or underflows, no weight can overflow,
    and per-arm sums of integer rewards stay exact (they are accumulated in ``dtype``)."""
    b = setup.batch
    checks.check_representable("temperature", setup.temperature, dtype, nonzero=True)
    checks.check_representable("1 / temperature", b.inv_temperature, dtype, nonzero=True)
    checks.check_representable("lr", b.hyper.lr, dtype, nonzero=True)
    checks.check_representable("eps", b.hyper.eps, dtype, nonzero=True)
    checks.check_representable("lr / temperature", b.hyper.lr * b.inv_temperature, dtype)
    checks.check_representable("weight_decay", b.hyper.weight_decay, dtype)
    checks.check_representable(checks_name(setup.model), setup.params, dtype)
    for name, values in (("reward_values", b.win), ("reward_values", b.loss), ("reward_sd", b.reward_sd)):
        checks.check_representable(name, values, dtype)
    checks.check_distinct_in_dtype(b.win, b.loss, dtype)
    h = b.hyper
    for name, values in (("momentum", h.momentum), ("betas[0] (beta1)", h.beta1), ("betas[1] (beta2)", h.beta2),
                         ("alpha", h.alpha), ("baseline decay", h.baseline_decay)):  # fmt: skip
        checks.check_below_one_in_dtype(name, values, dtype)
    checks.check_representable("init_weights", b.init_weights, dtype)
    reward = checks.rowwise(checks.reward_bound_of(setup.model), setup.params, b.win, b.loss, b.reward_sd,
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
    checks.check_run_bound(b.rule, b.hyper, setup.temperature, b.init_weights, advantage, n_steps, dtype)


def integer_rewards(setup: Setup) -> bool:
    """Whether every reward is a whole number (binary rewards with whole win and loss values)."""
    b = setup.batch
    values = torch.cat([checks.compact(b.win), checks.compact(b.loss)])
    return b.rule.rewards == "binary" and bool((values == values.round()).all())


def checks_name(model: str) -> str:
    return {"threshold": "arms", "bernoulli": "win_prob", "gaussian": "means"}[model]
