"""Every rule on every engine against the seed's own loop: autograd + the real torch.optim optimizer.

The reference (batched_bandit.reference) is driven by the engine's counter-based draws: at step t
it takes the uniforms of (seed, bandit, t) and draws the arm by inverse CDF from ITS OWN
probabilities and the reward from the model, then takes the loss and torch.optim's step. So the
two take the same path unless float rounding crosses a sampling boundary, and every update the
engine makes is compared with autograd + torch.optim (forced draws) over 300 steps, per-bandit
hyperparameters included. One step per episode exposes each step's arm and reward in the sums and
P(best) after every step.
"""

import functools

import pytest
import torch
from conftest import FAST_BACKENDS

from batched_bandit import run_batch
from batched_bandit.engines import unavailable_reason
from batched_bandit.options import make_setup
from batched_bandit.problem import SEED_ARMS
from batched_bandit.reference import run_reference
from batched_bandit.rng import step_uniforms

N_BANDITS, N_STEPS, SEED = 12, 300, 21
SPREAD = torch.linspace(0, 1, N_BANDITS, dtype=torch.float64)  # per-bandit settings vary along it
ARMS = (0.3, 0.0, -0.4, -1.0)

# name -> (run_batch options, with per-bandit tensors; what the reference's optimizer gets per bandit)
RULES = {
    "sgd (the seed)": dict(temperature=0.3 + SPREAD, lr=0.05 + 0.1 * SPREAD),
    "sgd momentum dampening": dict(temperature=0.5, lr=0.02, momentum=0.95 * SPREAD, dampening=0.2),
    "sgd nesterov weight_decay": dict(
        temperature=0.4, lr=0.02, momentum=0.5 + 0.4 * SPREAD, nesterov=True, weight_decay=0.1
    ),
    "adam": dict(optimizer="adam", temperature=0.2 + SPREAD, lr=0.01, betas=(0.8 + 0.15 * SPREAD, 0.999)),
    "adam weight_decay eps": dict(optimizer="adam", temperature=0.5, lr=0.02, weight_decay=0.05, eps=1e-3),
    "rmsprop": dict(optimizer="rmsprop", temperature=0.5, lr=0.005 + 0.01 * SPREAD, alpha=0.9 + 0.09 * SPREAD),
    "rmsprop momentum centered": dict(optimizer="rmsprop", temperature=1.0, lr=0.002, momentum=0.5, centered=True),
    "mean baseline": dict(temperature=0.2, lr=0.02 + 0.05 * SPREAD, baseline="mean"),
    "ema baseline, adam": dict(optimizer="adam", temperature=0.3, lr=0.02, baseline=("ema", 0.5 + 0.45 * SPREAD)),
    "bernoulli (1, 0)": dict(win_prob=(0.2, 0.5, 0.55, 0.7), reward_values=(1.0, 0.0), temperature=0.2, lr=0.05),
    "threshold (2, -0.5), init": dict(
        arms=ARMS, reward_values=(2.0, -0.5), temperature=0.5, lr=0.02, init_weights=(0.5, -0.5, 0.0, 0.25)
    ),
    "gaussian, mean baseline": dict(
        means=torch.randn(N_BANDITS, 5, generator=torch.Generator().manual_seed(5), dtype=torch.float64) + 1,
        reward_sd=0.5 + SPREAD,
        temperature=1.0,
        lr=0.1,
        baseline="mean",
    ),
}
BACKENDS = [*FAST_BACKENDS, "triton"]


def per_bandit(value, i):
    """Bandit i's own value of a run_batch option (a number, a (B,) tensor, a pair of them...)."""
    if isinstance(value, torch.Tensor):
        return value[i].item() if value.ndim == 1 else value[i].tolist()
    if isinstance(value, tuple) and value and not isinstance(value[0], str) and len(value) == 2:
        return tuple(per_bandit(v, i) for v in value)
    if isinstance(value, tuple) and value and value[0] == "ema":
        return ("ema", per_bandit(value[1], i))
    return value


def reference_options(options: dict, i: int) -> dict:
    """run_batch options of bandit i -> run_reference keywords (the optimizer's own options)."""
    o = {k: per_bandit(v, i) for k, v in options.items()}
    optimizer = o.pop("optimizer", "sgd")
    model, params = "threshold", o.pop("arms", SEED_ARMS)
    if "win_prob" in o:
        model, params = "bernoulli", o.pop("win_prob")
    if "means" in o:
        model, params = "gaussian", o.pop("means")
    kw = dict(reward_model=model, arms=params, optimizer=optimizer, temperature=o.pop("temperature"))
    kw["lr"] = o.pop("lr")
    for key in ("reward_values", "reward_sd", "baseline", "init_weights"):
        if key in o:
            kw[key] = o.pop(key)
    kw["optimizer_options"] = o  # momentum, dampening, nesterov, weight_decay, betas, eps, alpha, centered
    return kw


def stream_draw(options: dict, i: int):
    """draw(t, probs) for the reference: the engine's uniforms for bandit i, the reference's own probs."""
    setup = make_setup(N_BANDITS, torch.arange(N_BANDITS), **options)
    b = setup.batch
    gaussian = b.rule.rewards == "gaussian"
    draws = step_uniforms(SEED, torch.tensor([i]), 0, N_STEPS, normal_rewards=gaussian)[:, :, 0]  # (t, 2)
    param = b.arm_param[i].float()

    def draw(t, probs):
        u_arm, u_reward = draws[t]
        cdf = torch.cumsum(probs, 0)
        arm = int((cdf[:-1] <= u_arm * cdf[-1]).sum())
        if gaussian:
            reward = param[arm] + b.hyper.reward_sd[i].float() * u_reward
        else:
            reward = b.hyper.win[i].float() if u_reward < param[arm] else b.hyper.loss[i].float()
        return arm, float(reward)

    return draw


@functools.cache
def reference(rule: str):
    """The reference's per-step sums (B, n, K), weights (B, K) and P(best) after every step (B, n)."""
    options = RULES[rule]
    steps = dict(n_episodes=N_STEPS, steps_per_episode=1)
    results = [
        run_reference(**steps, draw=stream_draw(options, i), **reference_options(options, i)) for i in range(N_BANDITS)
    ]
    as_tensor = lambda name: torch.stack([torch.as_tensor(getattr(r, name)) for r in results])  # noqa: E731
    return as_tensor("episode_rewards"), as_tensor("weights"), as_tensor("episode_p_best"), as_tensor("episode_regret")


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("rule", list(RULES))
def test_engine_updates_equal_autograd_and_torch_optim(rule, backend):
    options = RULES[rule]
    device = torch.device("cpu")
    setup = make_setup(N_BANDITS, torch.arange(N_BANDITS), **options)
    reason = unavailable_reason(backend, device, torch.float32, setup.batch.n_arms, setup.batch.rule)
    if reason is not None:
        pytest.skip(reason)
    out = run_batch(N_BANDITS, n_episodes=N_STEPS, steps_per_episode=1, seed=SEED, backend=backend, **options)
    sums, weights, p_best, regret = reference(rule)
    # the same path: the same arm and reward at every step; a Gaussian reward up to its rounding (its
    # normal deviate's log comes from each engine's own libm: a few ulp apart for ~1% of the words)
    same = ((out.episode_rewards.double() - sums).abs() <= 1e-5).flatten(1).all(dim=1)
    assert same.sum() >= N_BANDITS - 1, f"{int((~same).sum())} of {N_BANDITS} bandits left the reference's path"
    # measured on the portable engine: |dw| <= 2e-6 (weights up to 4.4), |dP| <= 4e-7, |d regret| <= 4e-6
    torch.testing.assert_close(out.weights[same].double(), weights[same].double(), rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(out.episode_p_best[same].double(), p_best[same].double(), rtol=0, atol=2e-6)
    torch.testing.assert_close(out.episode_regret[same], regret[same], rtol=0, atol=2e-5)
    assert (out.weights - setup.batch.init_weights.float()).abs().amax() > 0.05  # the rule did learn
