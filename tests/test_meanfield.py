"""The mean-field trajectory against the expectation computed independently: autograd and the
real torch.optim.SGD on the expected loss, whose gradient is E[g] by construction."""

import math

import numpy as np
import pytest
import torch
from conftest import need

from batched_bandit import run_batch
from batched_bandit.engines.cpu_engine import mean_field_loop
from batched_bandit.meanfield import mean_field_p_best


def expected_update_by_enumeration(mu, temperature, lr, steps, init, **sgd):
    """Iterate torch.optim.SGD on L(w) = -sum_a p_a mu_a log_softmax(w / T)_a, p detached: the expected
    seed loss over the arm draw (reward r with E[r | a] = mu_a). P(best) after every step."""
    w = torch.tensor(init, dtype=torch.float64, requires_grad=True)
    optimizer = torch.optim.SGD([w], lr=lr, **sgd)
    mu = torch.tensor(mu, dtype=torch.float64)
    out = []
    for _ in range(steps):
        p = torch.softmax(w / temperature, 0).detach()
        loss = -(p * mu * torch.log_softmax(w / temperature, 0)).sum()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        out.append(float(torch.softmax(w.detach() / temperature, 0)[int(mu.argmax())]))
    return out


@pytest.mark.parametrize(
    "sgd", [{}, dict(momentum=0.9), dict(momentum=0.5, dampening=0.3), dict(momentum=0.8, nesterov=True),
            dict(weight_decay=0.1)], ids=["plain", "momentum", "dampening", "nesterov", "weight_decay"],
)  # fmt: skip
def test_two_armed_mean_field_equals_the_expected_update(sgd):
    mu, temperature, lr, init = [0.3, -0.2], 0.5, 0.4, [0.2, -0.1]
    expected = expected_update_by_enumeration(mu, temperature, lr, 6, init, **sgd)
    got = mean_field_p_best(
        np.array([mu]), np.array([0]), temperature, lr, 6, 1, init_weights=np.array([init]),
        momentum=sgd.get("momentum", 0.0), dampening=sgd.get("dampening", 0.0), nesterov=sgd.get("nesterov", False),
        weight_decay=sgd.get("weight_decay", 0.0),
    )[0]  # fmt: skip
    np.testing.assert_allclose(got, expected, rtol=1e-12)
    assert got[-1] != got[0]


def test_first_step_by_hand():
    """From zero weights p = (1/2, 1/2): E[g] = -(1/T) p (mu - p.mu), so w = lr/T (mu - mean)/2."""
    mu, temperature, lr = np.array([[1.0, 0.0]]), 2.0, 0.5
    p = mean_field_p_best(mu, np.array([0]), temperature, lr, 1, 1)[0, 0]
    w = lr / temperature * np.array([0.25, -0.25])
    assert p == pytest.approx(math.exp(w[0] / 2) / (math.exp(w[0] / 2) + math.exp(w[1] / 2)), rel=1e-14)


def test_the_mean_field_never_locks_in_and_tracks_small_steps():
    """At the seed's arms the expected dynamics raise P(best) monotonically, at any step size; with
    a small step the simulation's mean P(best) follows them, with a large one it falls below
    (lock-in on wrong arms is a noise effect)."""
    arms = (0.2, 0.0, -0.2, -1.0)
    mu = torch.erfc(torch.tensor(arms, dtype=torch.float64) / math.sqrt(2)) - 1  # 1 - 2 Phi(v): E[reward]
    for temperature in (0.03, 0.3, 3.0):
        field = mean_field_p_best(mu[None].numpy(), np.array([3]), temperature, 0.01, 20, 50)[0]
        assert np.all(np.diff(field) > 0)
    small = run_batch(4000, temperature=3.0, lr=0.1, n_episodes=10, steps_per_episode=100, seed=1)
    field = mean_field_p_best(mu[None].numpy(), np.array([3]), 3.0, 0.1, 10, 100)[0]
    np.testing.assert_allclose(small.episode_p_best.double().mean(0).numpy(), field, atol=0.01)
    large = run_batch(4000, temperature=0.03, lr=0.01, n_episodes=10, steps_per_episode=100, seed=1)
    field = mean_field_p_best(mu[None].numpy(), np.array([3]), 0.03, 0.01, 10, 100)[0]
    assert field[-1] > 0.99 and float(large.episode_p_best[:, -1].double().mean()) < 0.8


def test_the_c_loop_equals_numpy():
    """bb_mean_field (cpu_kernel.c) and the numpy loop: the same recurrence, to float64 rounding."""
    gen = np.random.default_rng(3)
    mu, best = gen.normal(size=(6, 5)), np.arange(6) % 5
    kw = dict(init_weights=gen.normal(size=(6, 5)), momentum=np.array([0, 0.9, 0.5, 0, 0.8, 0.3]),
              dampening=0.2, nesterov=np.array([False, True, False, False, False, True]),
              weight_decay=np.array([0, 0, 0.1, 0.05, 0, 0]))  # fmt: skip
    args = (mu, best, np.geomspace(0.1, 3, 6), np.full(6, 0.05), 7, 13)
    need("cpu")  # the C loop is the fused CPU engine's kernel
    fast = mean_field_p_best(*args, **kw, loop=mean_field_loop)
    np.testing.assert_allclose(fast, mean_field_p_best(*args, **kw), rtol=1e-12, atol=1e-14)


def test_the_c_loop_survives_weights_far_apart():
    """The softmax shifts by the largest logit, the last arm's included: an arm 2,000 / inv_t ahead
    (exp would overflow unshifted) still gives P(best) = 1 and the numpy loop's values."""
    need("cpu")
    mu, best = np.array([[0.1, 0.2, 0.3, 0.4], [0.4, 0.3, 0.2, 0.1]]), np.array([3, 0])
    init = np.array([[0.0, 0.0, 0.0, 2000.0], [0.0, 0.0, 0.0, 2000.0]])
    args = (mu, best, 1.0, 0.1, 3, 5)
    fast = mean_field_p_best(*args, init_weights=init, loop=mean_field_loop)
    slow = mean_field_p_best(*args, init_weights=init)
    assert np.isfinite(fast).all() and fast[0].tolist() == [1.0] * 3 and fast[1].tolist() == [0.0] * 3
    np.testing.assert_allclose(fast, slow, rtol=1e-12, atol=1e-14)
