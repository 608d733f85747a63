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
from rules import ENGINE_CASES, RULES, options

from batched_bandit import run_batch

N_BANDITS = 300
# the rule table's cases that start from zero weights without weight decay, by how the step scales
SCALE_FREE = [name for name in ENGINE_CASES if not {"init_weights", "weight_decay"} & set(RULES[name])]
SGD_RULES = [name for name in SCALE_FREE if RULES[name].get("optimizer", "sgd") == "sgd"]
NORMALISED_RULES = [name for name in SCALE_FREE if name not in SGD_RULES]


def run(backend, rule, **overrides):
    """The rule's problem and options at the temperature and lr given (one batch-wide number each)."""
    kw = options(rule, N_BANDITS, **overrides)
    return run_batch(N_BANDITS, n_episodes=3, steps_per_episode=60, seed=5, backend=backend, **kw)


def assert_same_run(base, scaled, k):
    assert torch.equal(base.episode_rewards, scaled.episode_rewards)
    assert torch.equal(base.episode_p_best, scaled.episode_p_best)
    assert torch.equal(base.weights * k, scaled.weights)


@pytest.mark.parametrize("backend", FAST_BACKENDS)
@pytest.mark.parametrize("rule", SGD_RULES)
def test_sgd_acts_through_lr_over_t_squared(rule, backend):
    base = run(backend, rule, temperature=0.3, lr=0.02)
    for k in (2.0, 0.5):
        assert_same_run(base, run(backend, rule, temperature=k * 0.3, lr=k * k * 0.02), k)
    other = run(backend, rule, temperature=0.6, lr=0.02)  # lr / T^2 four times smaller: another run
    assert not torch.equal(base.episode_rewards, other.episode_rewards)


@pytest.mark.parametrize("backend", FAST_BACKENDS)
@pytest.mark.parametrize("rule", NORMALISED_RULES)
def test_adam_and_rmsprop_act_through_lr_over_t(rule, backend):
    base = run(backend, rule, temperature=0.3, lr=0.01, eps=1e-4)
    for k in (2.0, 0.5):
        assert_same_run(base, run(backend, rule, temperature=k * 0.3, lr=k * 0.01, eps=1e-4 / k), k)
    # with eps fixed the runs agree up to eps (the default 1e-8 is far below the gradients' scale)
    a = run(backend, rule, temperature=0.3, lr=0.01)
    b = run(backend, rule, temperature=0.9, lr=0.03)
    same = (a.episode_rewards == b.episode_rewards).flatten(1).all(dim=1)
    assert same.double().mean() >= 0.98
    torch.testing.assert_close(a.episode_p_best[same], b.episode_p_best[same], rtol=0, atol=1e-4)
    other = run(backend, rule, temperature=0.3, lr=0.03)  # lr / T three times larger: another run
    assert not torch.equal(a.episode_rewards, other.episode_rewards)


@pytest.mark.parametrize("backend", FAST_BACKENDS)
@pytest.mark.parametrize(
    "breaking", [dict(init_weights=(0.5, 0.0, -0.5)), dict(weight_decay=0.5)], ids=["init_weights", "weight_decay"]
)
def test_initial_weights_and_weight_decay_break_the_invariance(breaking, backend):
    kw = dict(n_episodes=3, steps_per_episode=60, seed=5, backend=backend, arms=(0.3, 0.0, -0.4), **breaking)
    base = run_batch(N_BANDITS, temperature=0.3, lr=0.02, **kw)
    scaled = run_batch(N_BANDITS, temperature=0.6, lr=0.08, **kw)
    differ = ~(base.episode_rewards == scaled.episode_rewards).flatten(1).all(dim=1)
    assert differ.double().mean() > 0.05
