"""The softmax policy and the gradient of the seed's loss, in closed form, batch first.

For one bandit with weights ``w`` (K,), temperature ``T`` and advantage ``A`` (the reward, minus
a baseline if there is one), the seed's loss is ``L = -log_softmax(w / T)[a] * A``. Its gradient is

    dL/dw = -(A / T) * (onehot(a) - p),      p = softmax(w / T),

so plain SGD steps ``w <- w + (lr * A / T) * (onehot(a) - p)``. The entries of ``onehot(a) - p``
sum to zero, so plain SGD keeps ``sum(w)`` constant. In ``z = w / T`` the step is
``z <- z + (lr / T**2) * A * (onehot(a) - p)``: from zero weights, lr and T act only through
``lr / T**2``. ``optimizers.py`` turns the gradient into torch.optim's steps.
``tests/test_policy.py`` checks all of it against autograd + ``torch.optim``.
"""

from __future__ import annotations

import torch


def softmax_terms(weights: torch.Tensor, inv_temperature: torch.Tensor):
    """Unnormalised softmax of ``w / T`` and its cumulative sums.

    weights: (B, K); inv_temperature: (B,). Returns ``(e, cdf)``, each (B, K); ``cdf[:, -1]``
    is the normaliser, so ``p = e / cdf[:, -1:]``.
    """
    z = weights * inv_temperature[:, None]
    e = torch.exp(z - z.amax(dim=1, keepdim=True))
    return e, torch.cumsum(e, dim=1)


def probabilities(weights: torch.Tensor, inv_temperature: torch.Tensor) -> torch.Tensor:
    """softmax(w / T): (B, K) -> (B, K)."""
    e, cdf = softmax_terms(weights, inv_temperature)
    return e / cdf[:, -1:]


def sample_arm(cdf: torch.Tensor, u: torch.Tensor) -> torch.Tensor:
    """Inverse-CDF draw: the first arm ``k`` with ``u * total < cdf[k]``.

    cdf: (B, K) unnormalised cumulative sums; u: (B,) uniforms in [0, 1). Returns (B,) int64.
    An arm of probability zero is never drawn; rounding can never push the draw past the last arm.
    """
    threshold = u * cdf[:, -1]
    return (cdf[:, :-1] <= threshold[:, None]).sum(dim=1)


def policy_gradient(
    probs: torch.Tensor, arm: torch.Tensor, advantage: torch.Tensor, inv_temperature: torch.Tensor
) -> torch.Tensor:
    """d/dw of ``-log_softmax(w / T)[arm] * advantage``: ``-(advantage / T) (onehot(arm) - p)``.

    probs: (B, K); arm: (B,) int64; advantage, inv_temperature: (B,). Returns (B, K).
    """
    onehot = torch.nn.functional.one_hot(arm, probs.shape[1]).to(probs.dtype)
    return -(advantage * inv_temperature)[:, None] * (onehot - probs)


def sgd_step(
    weights: torch.Tensor,
    probs: torch.Tensor,
    arm: torch.Tensor,
    reward: torch.Tensor,
    inv_temperature: torch.Tensor,
    lr: torch.Tensor,
) -> torch.Tensor:
    """The seed's step: one plain SGD step on ``-log_softmax(w / T)[arm] * reward``.

    weights, probs: (B, K); arm: (B,) int64; reward, inv_temperature, lr: (B,).
    """
    return weights - lr[:, None] * policy_gradient(probs, arm, reward, inv_temperature)
