"""The learning rules the tests and benchmarks run: one table, name -> run_batch options.

Each entry is a whole run_batch setting (problem, rule, temperature, lr). A number that varies
from bandit to bandit is written ``Spread(low, high)`` (evenly from the first bandit to the last;
``log=True``: log-spaced, low and high being powers of ten) or ``RandomRows(k, seed)`` (a problem
per bandit), and becomes a tensor for n bandits in ``options(name, n)``. Consumers pick what they
need: ``ENGINE_CASES`` (every code path of the engines: optimizers and their flags, baselines,
reward models, initial weights, K from 3 to 20 with per-bandit numbers), ``STATISTICAL`` (scalar
settings at the seed's arms whose success rate is far from 0 and 1), or names.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from batched_bandit.problem import SEED_ARMS


@dataclass(frozen=True)
class Spread:
    """A per-bandit number: ``low`` for the first bandit to ``high`` for the last."""

    low: float
    high: float
    log: bool = False

    def of(self, n: int) -> torch.Tensor:
        space = torch.logspace if self.log else torch.linspace
        return space(self.low, self.high, n, dtype=torch.float64)


@dataclass(frozen=True)
class RandomRows:
    """Per-bandit arm values: ``k`` standard normals a bandit (a fixed generator) plus ``shift``."""

    k: int
    seed: int
    shift: float = 0.0

    def of(self, n: int) -> torch.Tensor:
        generator = torch.Generator().manual_seed(self.seed)
        return torch.randn(n, self.k, generator=generator, dtype=torch.float64) + self.shift


ARMS3, ARMS5 = (0.3, 0.0, -0.4), (0.3, 0.0, -0.4, -1.0, 0.5)
ARMS20 = tuple(torch.linspace(1, -1, 20, dtype=torch.float64).tolist())
SEED_MEANS = (-0.2, 0.0, 0.2, 1.0)  # the seed's arms negated: the same ranking, as Gaussian means

RULES = {
    # --- every code path, with per-bandit numbers where the rule has them (ENGINE_CASES)
    "sgd (the seed)": dict(temperature=Spread(-1.3, 0.5, log=True), lr=0.1),
    "seed, bernoulli (1, 0), init": dict(
        win_prob=(0.2, 0.5, 0.55, 0.7), reward_values=(1.0, 0.0), temperature=0.2, lr=0.05,
        init_weights=(0.5, -0.5, 0.0, 0.25),
    ),
    "seed, threshold (2, -0.5), K = 5": dict(arms=ARMS5, reward_values=(2.0, -0.5), temperature=0.5, lr=0.02),
    "sgd momentum dampening": dict(temperature=0.5, lr=0.02, momentum=Spread(0.0, 0.95), dampening=0.2),
    "sgd nesterov weight_decay, K = 5": dict(
        arms=ARMS5, temperature=0.4, lr=0.02, momentum=Spread(0.5, 0.9), nesterov=True, weight_decay=0.1
    ),
    # beta1 on both sides of 0.5: torch.lerp switches formula there
    "adam, K = 3": dict(
        arms=ARMS3, optimizer="adam", temperature=Spread(0.2, 1.2), lr=0.02,
        betas=(Spread(0.3, 0.95), Spread(0.99, 0.999)),
    ),
    "adam weight_decay eps": dict(optimizer="adam", temperature=0.5, lr=0.02, weight_decay=0.05, eps=1e-3),
    "rmsprop": dict(optimizer="rmsprop", temperature=0.5, lr=Spread(0.005, 0.015), alpha=Spread(0.4, 0.99)),
    # not centred RMSprop's alpha below 0.5: there v - g_avg**2 cancels and amplifies any rounding 100-fold
    # (centred with weight decay: run_batch's overflow check refuses it at any temperature)
    "rmsprop centered momentum": dict(
        optimizer="rmsprop", temperature=1.0, lr=0.002, momentum=0.5, centered=True, alpha=Spread(0.6, 0.99)
    ),
    "mean baseline": dict(temperature=0.2, lr=Spread(0.02, 0.07), baseline="mean"),
    "ema baseline": dict(temperature=0.3, lr=0.05, baseline=("ema", Spread(0.5, 0.95))),
    "gaussian": dict(means=SEED_MEANS, reward_sd=1.0, temperature=0.5, lr=0.02),
    "gaussian, adam, ema baseline, K = 6": dict(
        means=RandomRows(6, seed=5), reward_sd=Spread(0.5, 1.5), optimizer="adam", temperature=1.0, lr=0.05,
        baseline=("ema", 0.9),
    ),
    "gaussian, mean baseline, K = 20": dict(
        means=tuple(-x for x in ARMS20), reward_sd=1.0, temperature=0.5, lr=0.1, baseline="mean"
    ),
    "rmsprop momentum weight_decay, K = 20": dict(
        arms=ARMS20, optimizer="rmsprop", temperature=0.3, lr=0.01, momentum=0.9, weight_decay=0.01
    ),
    # --- scalar settings at the seed's arms, 2 x 500 steps from a success rate of 0.5-0.76 (STATISTICAL)
    "adam at the seed's arms": dict(optimizer="adam", temperature=0.02, lr=0.01),
    "sgd momentum 0.9 at the seed's arms": dict(momentum=0.9, temperature=0.1, lr=0.01),
    "mean baseline at the seed's arms": dict(baseline="mean", temperature=0.03, lr=0.01),
    "bernoulli (1, 0), close arms": dict(
        win_prob=(0.4, 0.5, 0.55, 0.6), reward_values=(1.0, 0.0), temperature=0.1, lr=0.01
    ),
}  # fmt: skip
STATISTICAL = tuple(name for name in RULES if "seed's arms" in name or "close arms" in name)
ENGINE_CASES = tuple(name for name in RULES if name not in STATISTICAL)


def resolve(value, n: int):
    """``value`` with its Spread / RandomRows made tensors for ``n`` bandits."""
    if isinstance(value, (Spread, RandomRows)):
        return value.of(n)
    if isinstance(value, tuple):
        return tuple(resolve(v, n) for v in value)
    return value


def options(name: str, n: int, **overrides) -> dict:
    """run_batch options of the rule ``name`` for ``n`` bandits, with ``overrides`` applied."""
    return {key: resolve(value, n) for key, value in {**RULES[name], **overrides}.items()}


def of_bandit(value, i: int):
    """Bandit i's own value of a resolved run_batch option (a number, a (B,) tensor, a pair of them...)."""
    if isinstance(value, torch.Tensor):
        return value[i].item() if value.ndim == 1 else value[i].tolist()
    if isinstance(value, tuple):
        return tuple(of_bandit(v, i) for v in value)
    return value


def bandit_options(resolved: dict, i: int) -> dict:
    """Bandit i's own options, every value a number, a string or a tuple of them."""
    return {key: of_bandit(value, i) for key, value in resolved.items()}


def first_bandits(resolved: dict, n: int) -> dict:
    """The resolved options of the first ``n`` bandits (per-bandit tensors cut to n rows)."""

    def cut(value):
        if isinstance(value, torch.Tensor):
            return value[:n]
        return tuple(cut(v) for v in value) if isinstance(value, tuple) else value

    return {key: cut(value) for key, value in resolved.items()}


def reference_options(options: dict) -> dict:
    """One bandit's run_batch options -> run_reference keywords (the optimizer's own options)."""
    o = dict(options)
    optimizer = o.pop("optimizer", "sgd")
    model, params = "threshold", o.pop("arms", SEED_ARMS)
    if "win_prob" in o:
        model, params = "bernoulli", o.pop("win_prob")
    if "means" in o:
        model, params = "gaussian", o.pop("means")
    kw = dict(reward_model=model, arms=params, optimizer=optimizer, temperature=o.pop("temperature"))
    kw["lr"] = o.pop("lr")
    for key in ("reward_values", "reward_sd", "baseline", "init_weights"):
        if key in o:
            kw[key] = o.pop(key)
    kw["optimizer_options"] = o  # momentum, dampening, nesterov, weight_decay, betas, eps, alpha, centered
    return kw
