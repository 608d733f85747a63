"""What an engine is given and what it returns: small frozen dataclasses of tensors, batch first.

``Rule`` holds the batch-wide choices an engine specialises its code on (which optimizer, which
baseline, which reward model); ``Hyper`` and ``Batch`` hold per-bandit numbers, so one batch can
sweep any of them. ``Outcome`` is what an engine returns.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import torch

OPTIMIZERS = ("sgd", "adam", "rmsprop")
BASELINES = ("none", "mean", "ema")
REWARDS = ("binary", "gaussian")


@dataclass(frozen=True)
class Rule:
    """The learning rule's batch-wide choices (engines compile one code path per distinct Rule)."""

    optimizer: str = "sgd"  # "sgd", "adam" or "rmsprop" (torch.optim's per-element semantics)
    momentum: bool = False  # sgd, rmsprop: some bandit has momentum > 0 (a momentum buffer is kept)
    nesterov: bool = False  # sgd: Nesterov momentum
    centered: bool = False  # rmsprop: centred second moment
    weight_decay: bool = False  # some bandit has weight_decay > 0 (L2 term added to the gradient)
    baseline: str = "none"  # "none", "mean" (running mean of all rewards so far), "ema"
    rewards: str = "binary"  # "binary" (win / loss with P(win) per arm) or "gaussian"

    @property
    def is_seed(self) -> bool:
        """Plain SGD, no baseline, binary rewards: the seed's rule (its code path is pinned)."""
        return self == Rule()


@dataclass(frozen=True)
class Hyper:
    """Per-bandit optimizer and baseline numbers, each (B,) float; unused ones are ignored."""

    lr: torch.Tensor  # learning rate
    momentum: torch.Tensor  # sgd, rmsprop
    dampening: torch.Tensor  # sgd
    weight_decay: torch.Tensor  # all optimizers (L2, added to the gradient as torch.optim does)
    beta1: torch.Tensor  # adam
    beta2: torch.Tensor  # adam
    alpha: torch.Tensor  # rmsprop smoothing constant
    eps: torch.Tensor  # adam, rmsprop
    baseline_decay: torch.Tensor  # "ema" baseline: b <- decay * b + (1 - decay) * r

    def map(self, fn) -> Hyper:
        """These numbers with ``fn`` applied to each tensor."""
        return _map(self, fn)


@dataclass(frozen=True)
class Batch:
    """A batch of independent bandits, all on one device."""

    rule: Rule
    hyper: Hyper
    arm_param: torch.Tensor  # (B, K) float: P(win) per arm (binary rewards) or the mean (Gaussian)
    win: torch.Tensor  # (B,) float: the reward of a win (binary rewards)
    loss: torch.Tensor  # (B,) float: the reward of a loss (binary rewards)
    reward_sd: torch.Tensor  # (B,) float: standard deviation of Gaussian rewards
    arm_gap: torch.Tensor  # (B, K) float: mu* - mu[a], the pseudo-regret of pulling arm a
    best_arm: torch.Tensor  # (B,) int64: the best arm, first on ties
    init_weights: torch.Tensor  # (B, K) float: weights at step 0
    inv_temperature: torch.Tensor  # (B,) float: 1 / T
    bandit_ids: torch.Tensor  # (B,) int64: global index g of each bandit in the random stream

    def map(self, fn) -> Batch:
        """The batch with ``fn`` applied to every tensor (Hyper's too)."""
        return _map(self, fn)

    def __getitem__(self, rows: slice) -> Batch:
        return self.map(lambda t: t[rows])

    def to(self, device: torch.device) -> Batch:
        return self.map(lambda t: t.to(device))

    @property
    def n_bandits(self) -> int:
        return self.bandit_ids.shape[0]

    @property
    def n_arms(self) -> int:
        return self.arm_param.shape[1]


def _map(obj, fn):
    changes = {}
    for field in dataclasses.fields(obj):
        value = getattr(obj, field.name)
        if isinstance(value, torch.Tensor):
            changes[field.name] = fn(value)
        elif isinstance(value, Hyper):
            changes[field.name] = _map(value, fn)
    return dataclasses.replace(obj, **changes)


@dataclass(frozen=True)
class Outcome:
    """What an engine returns for a batch."""

    weights: torch.Tensor  # (B, K) float: final weights
    episode_rewards: torch.Tensor  # (B, E, K) float: per-arm reward sums; E = 1 (the last) if not recorded
    episode_p_best: torch.Tensor  # (B, n_episodes) float32: P(best arm) at the end of each episode
    episode_regret: torch.Tensor  # (B, n_episodes) float32: pseudo-regret accrued within each episode
