"""The softmax policy gradient, the seed's rule: choose an arm from softmax(w / T), learn by one
optimizer step on the seed's loss. Pure steps, arm axis first: weights (K, B), numbers (B,).

For one bandit with weights ``w`` (K,), temperature ``T`` and advantage ``A`` (the reward, minus
a baseline if there is one), the seed's loss is ``L = -log_softmax(w / T)[a] * A``. Its gradient is

    dL/dw = -(A / T) * (onehot(a) - p),      p = softmax(w / T),

so plain SGD steps ``w <- w + (lr * A / T) * (onehot(a) - p)``. The entries of ``onehot(a) - p``
sum to zero, so plain SGD keeps ``sum(w)`` constant. In ``z = w / T`` the step is
``z <- z + (lr / T**2) * A * (onehot(a) - p)``: from zero weights, lr and T act only through
``lr / T**2``. ``optimizers.py`` turns the gradient into torch.optim's steps. The seed's own rule
keeps its one-line update (its rounding is pinned by tests/test_seed_path.py). The portable
engine runs these functions; ``tests/test_policy.py`` checks them against autograd + torch.optim.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from .. import optimizers
from ..state import Batch, Hyper, Rule


@dataclass(frozen=True)
class State:
    """A batch's learning state, arm axis first."""

    weights: torch.Tensor  # (K, B)
    optimizer: optimizers.OptimizerState  # buffers (K, B), as the rule needs
    baseline: torch.Tensor  # (B,): the reward baseline (0 without one)


@dataclass(frozen=True)
class Choice:
    """The arm drawn at a step, and the softmax terms the update reuses."""

    arm: torch.Tensor  # (B,) int64
    e: torch.Tensor  # (K, B): exp(w / T - max)
    total: torch.Tensor  # (B,): sum of e, the softmax's normaliser


@dataclass(frozen=True)
class Params:
    """A batch's numbers in the run's dtype: each (B,), and (1, B) for the optimizer's broadcast."""

    hyper: Hyper  # (1, B) each, in the run's dtype
    exact: Hyper  # (1, B) each, float64: complements 1 - x and Adam's corrections are rounded once
    inv_temperature: torch.Tensor  # (B,)
    lr: torch.Tensor  # (B,)
    decay: torch.Tensor  # (B,): the EMA baseline's decay
    decay_complement: torch.Tensor  # (B,): 1 - decay, rounded once from float64

    @staticmethod
    def of(hyper: Hyper, dtype: torch.dtype, seed: int = 0, bandit_ids: torch.Tensor | None = None) -> Params:
        """hyper: (B,) float64 tensors (the stream is not needed: the step's uniform draws the arm)."""
        return Params(
            hyper=hyper.map(lambda h: h.to(dtype)[None, :]),
            exact=hyper.map(lambda h: h.to(torch.float64)[None, :]),
            inv_temperature=hyper.inv_temperature.to(dtype),
            lr=hyper.lr.to(dtype),
            decay=hyper.baseline_decay.to(dtype),
            decay_complement=optimizers.one_minus(hyper.baseline_decay, dtype),
        )


def init(rule: Rule, batch: Batch, dtype: torch.dtype) -> State:
    """The state at step 0: the initial weights (K, B), zero buffers and baseline."""
    weights = batch.init_weights.to(dtype).T.contiguous()
    baseline = torch.zeros(weights.shape[1], device=weights.device, dtype=weights.dtype)
    return State(weights, optimizers.initial_state(rule, weights), baseline)


def softmax_terms(weights: torch.Tensor, inv_temperature: torch.Tensor):
    """Unnormalised softmax of ``w / T`` and its cumulative sums over arms.

    weights: (K, B); inv_temperature: (B,). Returns ``(e, cdf)``, each (K, B); ``cdf[-1]`` is the
    normaliser, so ``p = e / cdf[-1]``.
    """
    z = weights * inv_temperature
    e = torch.exp(z - z.amax(dim=0))
    return e, torch.cumsum(e, dim=0)


def sample_arm(cdf: torch.Tensor, u: torch.Tensor) -> torch.Tensor:
    """Inverse-CDF draw: the first arm ``k`` with ``u * total < cdf[k]``.

    cdf: (K, B) unnormalised cumulative sums; u: (B,) uniforms in [0, 1). Returns (B,) int64.
    An arm of probability zero is never drawn; rounding can never push the draw past the last arm.
    """
    return (cdf[:-1] <= u * cdf[-1]).sum(dim=0)


def choose(rule: Rule, params: Params, state: State, u: torch.Tensor, words, t: int) -> Choice:
    """The arm of this step from the step's uniform ``u`` (B,) (no policy words)."""
    e, cdf = softmax_terms(state.weights, params.inv_temperature)
    total = cdf[-1]
    return Choice(sample_arm(cdf, u), e, total)


def direction(choice: Choice) -> torch.Tensor:
    """``total * (onehot(arm) - p)``: (K, B)."""
    arm_index = torch.arange(choice.e.shape[0], device=choice.e.device)[:, None]
    return (arm_index == choice.arm) * choice.total - choice.e


def policy_gradient(choice: Choice, advantage: torch.Tensor, inv_temperature: torch.Tensor) -> torch.Tensor:
    """d/dw of ``-log_softmax(w / T)[arm] * advantage``: ``-(advantage / T) (onehot(arm) - p)``, (K, B).

    advantage, inv_temperature: (B,)."""
    return -(advantage * inv_temperature / choice.total) * direction(choice)


def learn(rule: Rule, params: Params, state: State, choice: Choice, reward: torch.Tensor, t: int) -> State:
    """The state after step ``t`` (0-based) paid ``reward`` (B,) for ``choice``: the baseline's update,
    then one optimizer step on the seed's loss."""
    baseline = state.baseline
    if rule.baseline != "none":
        baseline = optimizers.update_baseline(rule.baseline, baseline, reward, t, params.decay,
                                              params.decay_complement)  # fmt: skip
        advantage = reward - baseline
    else:
        advantage = reward
    if rule.is_seed:  # the seed's update, pinned: w += (lr r / T) (onehot(arm) - p)
        weights = state.weights + (params.lr * advantage * params.inv_temperature / choice.total) * direction(choice)
        return State(weights, state.optimizer, baseline)
    grad = policy_gradient(choice, advantage, params.inv_temperature)
    weights, opt = optimizers.step(rule, params.hyper, t, state.weights, grad, state.optimizer, params.exact)
    return State(weights, opt, baseline)


def p_best(rule: Rule, params: Params, state: State, best_arm: torch.Tensor, t: int) -> torch.Tensor:
    """P(best arm) under the current policy: (B,) float32."""
    z = state.weights * params.inv_temperature
    e = torch.exp(z - z.amax(dim=0))
    return (e.gather(0, best_arm[None])[0] / e.sum(dim=0)).float()
