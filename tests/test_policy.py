import math

import numpy as np
import pytest
import torch

from batched_bandit.policies.gradient import Choice, policy_gradient, sample_arm, softmax_terms
from batched_bandit.reference import SoftmaxPolicy
from batched_bandit.stats import chi_square_sf


def autograd_step(w, temperature, arm, reward, lr):
    """The seed's update: autograd on -log_softmax(w/T)[arm] * reward, one torch.optim.SGD step."""
    policy = SoftmaxPolicy(w.shape[0], temperature)
    with torch.no_grad():
        policy.weights.copy_(w)
    policy.update(arm, reward, torch.optim.SGD([policy.weights], lr=lr))
    return policy.weights.detach()


def sgd_step(w, inv_t, arm, reward, lr):
    """The seed's closed-form step for batch-first weights (B, K): w + (lr r / T) (onehot - p)."""
    e, cdf = softmax_terms(w.T, inv_t)
    return (w.T - lr * policy_gradient(Choice(arm, e, cdf[-1]), reward, inv_t)).T


def test_closed_form_step_equals_autograd_and_sgd():
    gen = torch.Generator().manual_seed(0)
    n, k = 500, 6
    w = torch.randn(n, k, generator=gen) * 3
    temperature = torch.exp(torch.randn(n, generator=gen) * 2)  # ~0.02 .. 50
    lr = torch.exp(torch.randn(n, generator=gen) - 3)
    arm = torch.randint(0, k, (n,), generator=gen)
    reward = torch.randint(0, 2, (n,), generator=gen).float() * 2 - 1
    inv_t = 1 / temperature
    new = sgd_step(w, inv_t, arm, reward, lr)
    expected = torch.stack(
        [autograd_step(w[i], float(temperature[i]), int(arm[i]), float(reward[i]), float(lr[i])) for i in range(n)]
    )
    torch.testing.assert_close(new, expected, rtol=1e-5, atol=1e-6)
    assert not torch.allclose(new, w)  # the step moved the weights


@pytest.mark.parametrize("temperature, lr", [(10.0, 0.01), (0.5, 0.05), (0.03, 0.01)])
def test_trajectories_with_forced_draws_match_autograd(temperature, lr):
    """300 steps with the same arms and rewards forced on both: the weights stay equal."""
    rng = np.random.default_rng(1)
    arms = rng.integers(0, 4, 300)
    rewards = rng.choice([-1, 1], 300)
    policy = SoftmaxPolicy(4, temperature)
    optimizer = torch.optim.SGD([policy.weights], lr=lr)
    w = torch.zeros(1, 4)
    inv_t, lr_t = torch.tensor([1 / temperature]), torch.tensor([lr])
    for arm, reward in zip(arms, rewards):
        policy.update(int(arm), int(reward), optimizer)
        w = sgd_step(w, inv_t, torch.tensor([arm]), torch.tensor([float(reward)]), lr_t)
        torch.testing.assert_close(w[0], policy.weights.detach(), rtol=1e-4, atol=1e-5)


def test_softmax_terms_by_hand():
    """e = exp(w / T - max(w / T)) and its running sums, written out."""
    w = torch.tensor([[0.0, 1.0, 2.0], [5.0, 5.0, -1e4]])
    inv_t = torch.tensor([1.0, 0.5])
    e, cdf = softmax_terms(w.T, inv_t)  # arm axis first
    a, b = math.exp(-2), math.exp(-1)
    torch.testing.assert_close(e.T, torch.tensor([[a, b, 1.0], [1.0, 1.0, 0.0]]))
    torch.testing.assert_close(cdf.T, torch.tensor([[a, a + b, a + b + 1], [1.0, 2.0, 2.0]]))
    torch.testing.assert_close((e / cdf[-1])[:, 1], torch.tensor([0.5, 0.5, 0.0]))  # p = e / total


def test_policy_gradient_equals_autograd_with_a_baseline():
    """d/dw of -log_softmax(w / T)[a] * (r - b) for random w, T, arms and advantages."""
    gen = torch.Generator().manual_seed(4)
    n, k = 200, 5
    w = torch.randn(n, k, generator=gen, dtype=torch.float64) * 2
    temperature = torch.exp(torch.randn(n, generator=gen, dtype=torch.float64))
    arm = torch.randint(0, k, (n,), generator=gen)
    advantage = torch.randn(n, generator=gen, dtype=torch.float64)
    leaf = w.clone().requires_grad_()
    loss = -(torch.log_softmax(leaf / temperature[:, None], dim=1)[torch.arange(n), arm] * advantage).sum()
    loss.backward()
    e, cdf = softmax_terms(w.T, 1 / temperature)
    got = policy_gradient(Choice(arm, e, cdf[-1]), advantage, 1 / temperature).T
    torch.testing.assert_close(got, leaf.grad, rtol=1e-10, atol=1e-12)


def test_sample_arm_inverse_cdf_boundaries():
    cdf = torch.tensor([[1.0], [1.0], [3.0], [4.0]]).expand(4, 6)  # (K, B): probs 1/4, 0, 1/2, 1/4
    u = torch.tensor([0.0, 0.2499, 0.25, 0.7499, 0.75, 1 - 2**-24])
    assert sample_arm(cdf, u).tolist() == [0, 0, 2, 2, 3, 3]
    # an arm of probability zero at the end is never drawn, even at u -> 1
    assert sample_arm(torch.tensor([[0.5], [1.0], [1.0]]), torch.tensor([1 - 2**-24])).tolist() == [1]


def test_sample_arm_frequencies_follow_probabilities():
    probs = torch.tensor([0.1, 0.2, 0.3, 0.4])
    n = 100_000
    u = torch.rand(n, generator=torch.Generator().manual_seed(3))
    arm = sample_arm(torch.cumsum(probs, 0)[:, None].expand(4, n), u)
    counts = torch.bincount(arm, minlength=4).double()
    stat = float(((counts - n * probs) ** 2 / (n * probs)).sum())
    assert chi_square_sf(stat, 3) > 0.01
