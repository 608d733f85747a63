"""What an engine is given and what it returns: small frozen dataclasses of tensors, batch first."""

from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class Batch:
    """A batch of independent bandits, all on one device."""

    win_prob: torch.Tensor  # (B, K) float: P(reward = +1) of each arm, 1 - Phi(value)
    best_arm: torch.Tensor  # (B,) int64: argmin of the arm values, first on ties
    inv_temperature: torch.Tensor  # (B,) float: 1 / T
    lr: torch.Tensor  # (B,) float: SGD learning rate
    bandit_ids: torch.Tensor  # (B,) int64: global index g of each bandit in the random stream

    def __getitem__(self, rows: slice) -> Batch:
        return Batch(*(getattr(self, f)[rows] for f in self.__dataclass_fields__))

    def to(self, device: torch.device) -> Batch:
        return Batch(*(getattr(self, f).to(device) for f in self.__dataclass_fields__))


@dataclass(frozen=True)
class Outcome:
    """What an engine returns for a batch."""

    weights: torch.Tensor  # (B, K) float: final weights
    episode_rewards: torch.Tensor  # (B, E, K) int32 per-arm reward sums; E = 1 (last) if not recorded
    episode_p_best: torch.Tensor  # (B, n_episodes) float32: P(best arm) at the end of each episode
