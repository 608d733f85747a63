"""optimizers.py, step by step, against the real torch.optim optimizers on the seed's loss."""

import dataclasses

import pytest
import torch
from rules import ENGINE_CASES, RULES, bandit_options, options, reference_options

from batched_bandit import optimizers
from batched_bandit.options import make_setup
from batched_bandit.policies.gradient import Choice, policy_gradient, softmax_terms
from batched_bandit.reference import SoftmaxPolicy, make_optimizer
from batched_bandit.schema import ROWS
from batched_bandit.state import Hyper, Rule

B, STEPS = 8, 300
DEFAULTS = dict(momentum=0.0, dampening=0.0, weight_decay=0.0, beta1=0.9, beta2=0.999, alpha=0.99, eps=1e-8)
# the rule table's cases with an optimizer of their own: plain SGD, SGD's and RMSprop's options, Adam
OPTIMIZER_CASES = ["sgd (the seed)"]
OPTIMIZER_CASES += [n for n in ENGINE_CASES if {"optimizer", "momentum", "weight_decay"} & set(RULES[n])]


def hyper_of(**values) -> Hyper:
    """A Hyper of the given per-bandit numbers, the rows the optimizers do not read at 0."""
    some = next(iter(values.values()))
    return Hyper(**{row: values.get(row, torch.zeros_like(some)) for row in ROWS})


def gradient(w, inv_t, arm, advantage):
    """The policy gradient for batch-first weights (B, K)."""
    e, cdf = softmax_terms(w.T, inv_t)
    return policy_gradient(Choice(arm, e, cdf[-1]), advantage, inv_t).T


@pytest.mark.parametrize("case", OPTIMIZER_CASES)
def test_closed_form_steps_equal_torch_optim(case):
    """300 steps on B bandits, each with its own lr and temperature (and the case's per-bandit
    numbers) and random forced draws (arm, advantage), from random initial weights: the closed form
    tracks torch.optim step by step."""
    resolved = options(case, B)
    batch = make_setup(B, torch.arange(B), **resolved).batch
    rule, k = batch.rule, batch.n_arms
    gen = torch.Generator().manual_seed(len(case))
    temperature = torch.exp(torch.randn(B, generator=gen) * 0.5)
    lr = torch.rand(B, generator=gen) * 0.05 + 0.005
    w0 = torch.randn(B, k, generator=gen)
    arms = torch.randint(0, k, (STEPS, B), generator=gen)
    advantages = torch.randn(STEPS, B, generator=gen)
    hyper = dataclasses.replace(batch.hyper, lr=lr).map(lambda h: h.float()[:, None])  # (B, 1): over arms
    policies = [SoftmaxPolicy(k, float(temperature[i]), w0[i]) for i in range(B)]
    optims = [
        make_optimizer([p.weights], rule.optimizer, float(lr[i]),
                       **reference_options(bandit_options(resolved, i))["optimizer_options"])
        for i, p in enumerate(policies)
    ]  # fmt: skip
    w, state = w0.clone(), optimizers.initial_state(rule, w0)
    for t in range(STEPS):
        grad = gradient(w, 1 / temperature, arms[t], advantages[t])
        w, state = optimizers.step(rule, hyper, t, w, grad, state)
        for i, (policy, optim) in enumerate(zip(policies, optims)):
            policy.update(int(arms[t, i]), float(advantages[t, i]), optim)
        expected = torch.stack([p.weights.detach() for p in policies])
        torch.testing.assert_close(w, expected, rtol=1e-5, atol=1e-5, msg=f"step {t}")
    assert (w - w0).abs().max() > 0.05  # the optimizer did move the weights


def test_per_bandit_momentum_zero_is_plain_sgd_even_with_dampening():
    """torch keeps no buffer when momentum = 0; a batch mixing momentum 0 and 0.9 must match."""
    rule = Rule(momentum=True)
    column = lambda *x: torch.tensor(x)[:, None]  # noqa: E731
    hyper = hyper_of(lr=column(0.1, 0.1), momentum=column(0.0, 0.9), dampening=column(0.5, 0.5), eps=column(1, 1))
    w, state = torch.zeros(2, 3), optimizers.initial_state(rule, torch.zeros(2, 3))
    grads = [torch.tensor([[1.0, -2.0, 1.0]] * 2), torch.tensor([[0.5, 0.5, -1.0]] * 2)]
    for t, g in enumerate(grads):
        w, state = optimizers.step(rule, hyper, t, w, g, state)
    torch.testing.assert_close(w[0], -0.1 * (grads[0][0] + grads[1][0]))  # plain SGD, no dampening
    torch.testing.assert_close(w[1], -0.1 * (grads[0][1] + (0.9 * grads[0][1] + 0.5 * grads[1][1])))


def test_centred_rmsprop_clamps_a_variance_rounded_below_zero():
    """A constant gradient drives v - g_avg**2 to 0; in float32 (alpha = 0.5, g = 0.3) it rounds to
    -7.5e-9 at step 23, where sqrt would give NaN weights: the closed form takes sqrt(max(., 0))."""
    rule = Rule(optimizer="rmsprop", centered=True)
    column = lambda x: torch.tensor([[float(x)]])  # noqa: E731
    hyper = hyper_of(**{k: column(v) for k, v in {**DEFAULTS, "alpha": 0.5}.items()}, lr=column(0.01))
    w, state = torch.zeros(1, 3), optimizers.initial_state(rule, torch.zeros(1, 3))
    variances = []
    for t in range(30):
        w, state = optimizers.step(rule, hyper, t, w, torch.full((1, 3), 0.3), state)
        variances.append(float((state.exp_avg_sq - state.grad_avg * state.grad_avg).min()))
        assert torch.isfinite(w).all(), f"step {t}"
    assert min(variances) < 0  # the rounding did happen


def test_baseline_is_the_running_mean_including_the_current_reward():
    rewards = [1.0, -1.0, 1.0, 1.0]
    b = torch.zeros(1)
    for t, r in enumerate(rewards):
        b = optimizers.update_baseline("mean", b, torch.tensor([r]), t, torch.zeros(1), torch.ones(1))
        assert float(b) == pytest.approx(sum(rewards[: t + 1]) / (t + 1))
    b = torch.zeros(1)
    for t, r in enumerate(rewards):
        b = optimizers.update_baseline("ema", b, torch.tensor([r]), t, torch.tensor([0.75]), torch.tensor([0.25]))
    assert float(b) == pytest.approx(0.25 * (0.75**3 * 1 - 0.75**2 + 0.75 + 1))
