"""torch.optim's SGD, Adam and RMSprop, per element and in closed form, plus the reward baseline.

Each function is one step of the optimizer exactly as ``torch.optim`` takes it (single-tensor
implementation, torch 2.x): same operations, same order, same defaults, same first-step rules
(SGD's momentum buffer starts as a copy of the gradient; Adam's bias corrections use the step count
``t + 1``). Every hyperparameter is per bandit, already shaped to broadcast against the weights,
so the same code serves the batch-first ``(B, K)`` layout and the portable engine's ``(K, B)``.
The complements ``1 - beta1``, ``1 - beta2``, ``1 - alpha``, ``1 - dampening`` and Adam's bias
corrections are computed in float64 from the float64 hyperparameters and rounded once, as
torch.optim computes them from Python floats (``1 - float32(0.999)`` is 1.3e-5 off ``0.001``).
One deliberate difference: centred RMSprop takes ``sqrt(max(v - g_avg**2, 0))`` where rounding
would give torch a NaN.

The baseline is the running mean of every reward the bandit has received, the current one
included (Sutton & Barto, section 2.8), or an exponential moving average ``b <- d b + (1 - d) r``
from ``b = 0``; the loss then uses the advantage ``r - b``.

``tests/test_optimizers.py`` checks each against autograd + the real ``torch.optim`` optimizer.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from .schema import dispatch
from .state import Hyper, Rule


@dataclass(frozen=True)
class OptimizerState:
    """An optimizer's per-arm buffers, shaped like the weights (None where the rule has none)."""

    momentum_buffer: torch.Tensor | None = None  # sgd and rmsprop with momentum
    exp_avg: torch.Tensor | None = None  # adam: first moment
    exp_avg_sq: torch.Tensor | None = None  # adam: second moment; rmsprop: square average
    grad_avg: torch.Tensor | None = None  # centred rmsprop: gradient average


def initial_state(rule: Rule, weights: torch.Tensor) -> OptimizerState:
    """Zero buffers for the ones ``rule`` uses."""
    zeros = torch.zeros_like
    buffers = {
        "sgd": lambda: OptimizerState(momentum_buffer=zeros(weights) if rule.momentum else None),
        "adam": lambda: OptimizerState(exp_avg=zeros(weights), exp_avg_sq=zeros(weights)),
        "rmsprop": lambda: OptimizerState(
            momentum_buffer=zeros(weights) if rule.momentum else None,
            exp_avg_sq=zeros(weights),
            grad_avg=zeros(weights) if rule.centered else None,
        ),
    }
    return dispatch(buffers, "optimizer", rule.optimizer)()


def step(
    rule: Rule,
    hyper: Hyper,
    t: int,
    weights: torch.Tensor,
    grad: torch.Tensor,
    state: OptimizerState,
    exact: Hyper | None = None,
) -> tuple[torch.Tensor, OptimizerState]:
    """Step ``t`` (0-based, the same for every bandit) of ``rule.optimizer``; returns (weights, state).

    ``hyper``'s tensors broadcast against ``weights``, in their dtype; ``exact`` holds the same
    numbers in float64 (default: ``hyper``), from which the complements ``1 - x`` and Adam's bias
    corrections are computed, then rounded once to the weights' dtype.
    """
    exact = hyper if exact is None else exact
    if rule.weight_decay:
        grad = grad + hyper.weight_decay * weights
    return dispatch(STEPS, "optimizer", rule.optimizer)(rule, hyper, exact, t, weights, grad, state)


def one_minus(x: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    """``1 - x`` computed in float64 and rounded once to ``dtype``."""
    return (1.0 - x.double()).to(dtype)


def _sgd(rule, hyper, exact, t, weights, grad, state):
    buffer = state.momentum_buffer
    if rule.momentum:
        # torch: the buffer starts as a copy of the gradient, then buf <- m buf + (1 - d) g; a bandit
        # with momentum 0 keeps no buffer (its step is the plain gradient): factor 1 for it
        factor = torch.where(hyper.momentum == 0, 1.0, one_minus(exact.dampening, weights.dtype))
        buffer = grad.clone() if t == 0 else buffer * hyper.momentum + factor * grad
        grad = grad + hyper.momentum * buffer if rule.nesterov else buffer
    return weights - hyper.lr * grad, OptimizerState(momentum_buffer=buffer)


def bias_corrections(hyper: Hyper, t: int, dtype: torch.dtype) -> tuple[torch.Tensor, torch.Tensor]:
    """Adam's ``1 - beta1**(t + 1)`` and ``sqrt(1 - beta2**(t + 1))``, in float64, then ``dtype``."""
    count = t + 1
    first = 1.0 - hyper.beta1.double() ** count
    second = torch.sqrt(1.0 - hyper.beta2.double() ** count)
    return first.to(dtype), second.to(dtype)


def _adam(rule, hyper, exact, t, weights, grad, state):
    exp_avg = torch.lerp(state.exp_avg, grad, one_minus(exact.beta1, weights.dtype))
    exp_avg_sq = state.exp_avg_sq * hyper.beta2 + one_minus(exact.beta2, weights.dtype) * grad * grad
    correction1, correction2_sqrt = bias_corrections(exact, t, weights.dtype)
    denom = torch.sqrt(exp_avg_sq) / correction2_sqrt + hyper.eps
    weights = weights - (hyper.lr / correction1) * (exp_avg / denom)
    return weights, OptimizerState(exp_avg=exp_avg, exp_avg_sq=exp_avg_sq)


def _rmsprop(rule, hyper, exact, t, weights, grad, state):
    complement = one_minus(exact.alpha, weights.dtype)
    square_avg = state.exp_avg_sq * hyper.alpha + complement * grad * grad
    grad_avg = state.grad_avg
    if rule.centered:
        grad_avg = torch.lerp(grad_avg, grad, complement)
        avg = torch.sqrt(torch.clamp_min(square_avg - grad_avg * grad_avg, 0.0)) + hyper.eps
    else:
        avg = torch.sqrt(square_avg) + hyper.eps
    buffer = state.momentum_buffer
    if rule.momentum:
        buffer = buffer * hyper.momentum + grad / avg
        weights = weights - hyper.lr * buffer
    else:
        weights = weights - hyper.lr * (grad / avg)
    return weights, OptimizerState(momentum_buffer=buffer, exp_avg_sq=square_avg, grad_avg=grad_avg)


STEPS = {"sgd": _sgd, "adam": _adam, "rmsprop": _rmsprop}


def step_bound(rule: Rule, hyper: Hyper, advantage: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """A bound on |change of a weight| per step as ``a + b / T``: returns (a, b), each (B,) float64
    (bounds.py keeps a run's weights finite with it).

    |gradient| <= G = advantage / T per arm without weight decay. SGD: lr G; with momentum m:
    lr G / (1 - m) (with weight decay, inside the stable region checked below, the same bound is
    used as an estimate; runs are also checked for overflow after each chunk). Adam (when
    beta1^2 < beta2, by Cauchy-Schwarz on m and v; bias corrections <= 1 / (1 - beta1)):
    lr / sqrt((1 - beta2)(1 - beta1^2 / beta2)), else lr G / eps. RMSprop: v >= (1 - alpha) g^2, so
    lr / sqrt(1 - alpha), times 1 / (1 - m) with momentum; centred: lr G / eps (no weight decay).
    """
    return dispatch(STEP_BOUNDS, "optimizer", rule.optimizer)(rule, hyper, advantage)


def _sgd_step_bound(rule, hyper, advantage):
    zero = torch.zeros_like(hyper.lr)
    return zero, hyper.lr * advantage * _per_momentum(rule, hyper)  # lr G = lr A / T


def _adam_step_bound(rule, hyper, advantage):
    zero = torch.zeros_like(hyper.lr)
    ratio = hyper.beta1**2 / hyper.beta2
    normalised = hyper.lr / torch.sqrt((1.0 - hyper.beta2) * (1.0 - ratio))
    if rule.weight_decay:
        return torch.where(ratio < 1, normalised, torch.inf), zero
    return torch.where(ratio < 1, normalised, zero), torch.where(ratio < 1, zero, hyper.lr * advantage / hyper.eps)


def _rmsprop_step_bound(rule, hyper, advantage):
    zero = torch.zeros_like(hyper.lr)
    if rule.centered:
        if rule.weight_decay:
            return torch.full_like(hyper.lr, torch.inf), zero
        return zero, hyper.lr * advantage / hyper.eps * _per_momentum(rule, hyper)
    return hyper.lr / torch.sqrt(1.0 - hyper.alpha) * _per_momentum(rule, hyper), zero


def _per_momentum(rule, hyper):
    return 1.0 / (1.0 - hyper.momentum) if rule.momentum else 1.0


STEP_BOUNDS = {"sgd": _sgd_step_bound, "adam": _adam_step_bound, "rmsprop": _rmsprop_step_bound}


def update_baseline(
    kind: str, baseline: torch.Tensor, reward: torch.Tensor, t: int, decay: torch.Tensor, complement: torch.Tensor
):
    """The baseline after the reward of step ``t`` (0-based): "mean" or "ema" (``decay`` per bandit,
    ``complement`` = one_minus(decay))."""
    updates = {
        "mean": lambda: baseline + (reward - baseline) / (t + 1),
        "ema": lambda: decay * baseline + complement * reward,
    }
    return dispatch(updates, "baseline", kind)()
