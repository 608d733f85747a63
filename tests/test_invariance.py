"""The temperature is never a knob of its own from zero weights: it trades off against lr.

In z = w / T: SGD (with or without momentum, dampening, Nesterov and a baseline) steps
z by (lr / T^2) A (onehot - p) (through its buffer for momentum), so (lr, T) and (k^2 lr, k T) give
the same trajectories, and w scales by k. Adam and RMSprop normalise the gradient (which scales as
1 / T), so their w-step scales with lr alone: (lr, T, eps) and (k lr, k T, eps / k) are the same run
(with eps fixed, the same up to eps). Scaling by a power of two is exact in floating point, so the
trajectories are bit-identical. Non-zero initial weights and weight decay break the invariance.
"""

import pytest
import torch
from conftest import FAST_BACKENDS

from batched_bandit import run_batch

KW = dict(n_bandits=300, n_episodes=3, steps_per_episode=60, seed=5, arms=(0.3, 0.0, -0.4))
SGD_RULES = {
    "sgd": {},
    "sgd momentum dampening": dict(momentum=0.8, dampening=0.25),
    "sgd nesterov": dict(momentum=0.9, nesterov=True),
    "sgd mean baseline": dict(baseline="mean"),
    "sgd momentum ema baseline": dict(momentum=0.5, baseline=("ema", 0.9)),
}
NORMALISED_RULES = {
    "adam": dict(optimizer="adam"),
    "adam baseline": dict(optimizer="adam", baseline="mean", betas=(0.8, 0.99)),
    "rmsprop": dict(optimizer="rmsprop"),
    "rmsprop momentum centered": dict(optimizer="rmsprop", momentum=0.5, centered=True),
}


def run(backend, **options):
    try:
        return run_batch(backend=backend, **KW, **options)
    except ValueError as err:  # an engine that does not run this rule
        pytest.skip(str(err))


def assert_same_run(base, scaled, k):
    assert torch.equal(base.episode_rewards, scaled.episode_rewards)
    assert torch.equal(base.episode_p_best, scaled.episode_p_best)
    assert torch.equal(base.weights * k, scaled.weights)


@pytest.mark.parametrize("backend", FAST_BACKENDS)
@pytest.mark.parametrize("rule", list(SGD_RULES))
def test_sgd_acts_through_lr_over_t_squared(rule, backend):
    options = SGD_RULES[rule]
    base = run(backend, temperature=0.3, lr=0.02, **options)
    for k in (2.0, 0.5):
        assert_same_run(base, run(backend, temperature=k * 0.3, lr=k * k * 0.02, **options), k)
    other = run(backend, temperature=0.6, lr=0.02, **options)  # lr / T^2 four times smaller: another run
    assert not torch.equal(base.episode_rewards, other.episode_rewards)


@pytest.mark.parametrize("backend", FAST_BACKENDS)
@pytest.mark.parametrize("rule", list(NORMALISED_RULES))
def test_adam_and_rmsprop_act_through_lr_over_t(rule, backend):
    options = NORMALISED_RULES[rule]
    base = run(backend, temperature=0.3, lr=0.01, eps=1e-4, **options)
    for k in (2.0, 0.5):
        assert_same_run(base, run(backend, temperature=k * 0.3, lr=k * 0.01, eps=1e-4 / k, **options), k)
    # with eps fixed the runs agree up to eps (the default 1e-8 is far below the gradients' scale)
    a = run(backend, temperature=0.3, lr=0.01, **options)
    b = run(backend, temperature=0.9, lr=0.03, **options)
    same = (a.episode_rewards == b.episode_rewards).flatten(1).all(dim=1)
    assert same.double().mean() >= 0.98
    torch.testing.assert_close(a.episode_p_best[same], b.episode_p_best[same], rtol=0, atol=1e-4)
    other = run(backend, temperature=0.3, lr=0.03, **options)  # lr / T three times larger: another run
    assert not torch.equal(a.episode_rewards, other.episode_rewards)


@pytest.mark.parametrize("backend", FAST_BACKENDS)
@pytest.mark.parametrize(
    "options", [dict(init_weights=(0.5, 0.0, -0.5)), dict(weight_decay=0.5)], ids=["init_weights", "weight_decay"]
)
def test_initial_weights_and_weight_decay_break_the_invariance(options, backend):
    base = run(backend, temperature=0.3, lr=0.02, **options)
    scaled = run(backend, temperature=0.6, lr=0.08, **options)
    differ = ~(base.episode_rewards == scaled.episode_rewards).flatten(1).all(dim=1)
    assert differ.double().mean() > 0.05
