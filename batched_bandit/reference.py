"""The seed's program, kept faithful: the oracle for tests and the baseline for benchmarks.

One bandit, a Python loop, ``torch.multinomial`` to draw the arm, autograd for the gradient and a
real ``torch.optim`` optimizer for the step, exactly as in the blog post this project grew from.
With the defaults it IS the seed's loop. The generalisations keep its shape: the optimizer is
``torch.optim.SGD``, ``Adam`` or ``RMSprop`` with the given options; a baseline subtracts the
running mean (or an exponential average) of the rewards, the current one included, from the reward
in the loss; the environment is the seed's threshold model, Bernoulli arms or Gaussian arms; the
weights start at ``init_weights``. The random numbers come from generators made from ``seed`` (a
``torch.Generator`` and a ``numpy.random.Generator``) instead of the global ones. ``run_batch``
never uses this module.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.optim as optim

from .problem import SEED_ARMS


class BanditEnvironment:
    """The seed's environment: arm ``a`` pays +1 if a standard normal draw exceeds ``arms[a]``."""

    def __init__(self, arms, rng: np.random.Generator, reward_values=(1, -1)):
        self.n_arms = len(arms)
        self.arms = np.array(arms, dtype=np.float64)
        self.rng = rng
        self.win, self.loss = reward_values

    def pull(self, arm: int):
        result = self.rng.standard_normal(1)
        if result > self.arms[arm]:
            return self.win
        else:
            return self.loss

    def best_arm(self) -> int:
        return int(np.argmin(self.arms))


class BernoulliEnvironment(BanditEnvironment):
    """Arm ``a`` pays ``win`` with probability ``win_prob[a]``, else ``loss``."""

    def pull(self, arm: int):
        return self.win if self.rng.random() < self.arms[arm] else self.loss

    def best_arm(self) -> int:
        return int(np.argmax(self.arms))


class GaussianEnvironment(BanditEnvironment):
    """Arm ``a`` pays a draw of N(means[a], reward_sd**2): the textbook's testbed."""

    def __init__(self, means, rng: np.random.Generator, reward_sd: float = 1.0):
        super().__init__(means, rng)
        self.reward_sd = reward_sd

    def pull(self, arm: int):
        return float(self.rng.normal(self.arms[arm], self.reward_sd))

    def best_arm(self) -> int:
        return int(np.argmax(self.arms))


class SoftmaxPolicy:
    """The seed's policy: softmax(weights / temperature), weights from zero, one step a pull."""

    def __init__(self, n_arms: int, temperature: float, init_weights=0.0):
        self.n_arms = n_arms
        self.temperature = temperature
        self.weights = (torch.zeros(n_arms) + torch.as_tensor(init_weights, dtype=torch.float32)).requires_grad_()

    def __call__(self) -> torch.Tensor:
        return torch.softmax(self.weights / self.temperature, dim=0)

    def update(self, arm: int, reward, optimizer: optim.Optimizer) -> None:
        log_prob = torch.log_softmax(self.weights / self.temperature, dim=0)[arm]
        loss = -log_prob * reward
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()


def make_optimizer(params, optimizer: str = "sgd", lr: float = 0.01, **options) -> optim.Optimizer:
    """The real torch.optim optimizer, with torch's own defaults for what is not given."""
    kinds = {"sgd": optim.SGD, "adam": optim.Adam, "rmsprop": optim.RMSprop}
    if optimizer not in kinds:
        raise ValueError(f"unknown optimizer {optimizer!r}: known are {', '.join(kinds)}")
    return kinds[optimizer](params, lr=lr, **options)


@dataclass(frozen=True)
class ReferenceResult:
    episode_rewards: np.ndarray  # (n_episodes, K) per-arm reward sums of each episode
    weights: np.ndarray  # (K,) final weights
    success: bool  # argmax of the last episode's sums (first on ties) == the best arm
    episode_p_best: np.ndarray  # (n_episodes,) P(best arm) at each episode's end
    episode_regret: np.ndarray  # (n_episodes,) cumulative pseudo-regret at each episode's end


def run_reference(
    arms=SEED_ARMS,
    temperature: float = 10.0,
    lr: float = 0.01,
    n_episodes: int = 50,
    steps_per_episode: int = 1000,
    seed: int = 0,
    verbose: bool = False,
    *,
    reward_model: str = "threshold",
    reward_values=(1, -1),
    reward_sd: float = 1.0,
    optimizer: str = "sgd",
    optimizer_options: dict | None = None,
    baseline=None,
    init_weights=0.0,
    draw=None,
) -> ReferenceResult:
    """The seed's training loop for one bandit; ``verbose`` prints what the seed prints.

    ``arms`` are the model's per-arm parameters (threshold values, P(win) or means);
    ``optimizer_options`` go to the torch.optim optimizer; ``baseline``: None, "mean" or
    ("ema", decay). ``draw(t, probs) -> (arm, reward)``, if given, replaces the multinomial draw
    and the environment at step t (to drive the loop with given random numbers).
    """
    generator = torch.Generator().manual_seed(seed)
    rng = np.random.default_rng(seed)
    environments = {
        "threshold": lambda: BanditEnvironment(arms, rng, reward_values),
        "bernoulli": lambda: BernoulliEnvironment(arms, rng, reward_values),
        "gaussian": lambda: GaussianEnvironment(arms, rng, reward_sd),
    }
    if reward_model not in environments:
        raise ValueError(f"unknown reward model {reward_model!r}: known are {', '.join(environments)}")
    env = environments[reward_model]()
    if not (baseline is None or baseline == "mean" or (isinstance(baseline, tuple) and baseline[0] == "ema")):
        raise ValueError(f'baseline must be None, "mean" or ("ema", decay), got {baseline!r}')
    mu = expected_rewards(reward_model, env.arms, reward_values)
    policy = SoftmaxPolicy(env.n_arms, temperature, init_weights)
    opt = make_optimizer([policy.weights], optimizer, lr, **(optimizer_options or {}))
    episode_rewards = np.zeros((n_episodes, env.n_arms))
    p_best, regret, total_regret = np.zeros(n_episodes), np.zeros(n_episodes), 0.0
    mean_reward, steps = 0.0, 0
    for episode in range(n_episodes):
        total_reward = episode_rewards[episode]
        for _ in range(steps_per_episode):
            probs = policy()
            if draw is None:
                arm = int(torch.multinomial(probs, num_samples=1, generator=generator).item())
                reward = env.pull(arm)
            else:
                arm, reward = draw(steps, probs.detach())
            total_reward[arm] += reward
            total_regret += mu.max() - mu[arm]
            steps += 1
            if baseline is None:
                advantage = reward
            else:  # the baseline includes the current reward (Sutton & Barto, section 2.8)
                decay = 1 - 1 / steps if baseline == "mean" else baseline[1]
                mean_reward = decay * mean_reward + (1 - decay) * reward
                advantage = reward - mean_reward
            policy.update(arm, advantage, opt)
        with torch.no_grad():
            p_best[episode] = float(policy()[env.best_arm()])
        regret[episode] = total_regret
        if verbose:
            print(f"Episode {episode + 1}: Total reward = {total_reward}")
    success = bool(np.argmax(episode_rewards[-1]) == env.best_arm())
    if verbose:
        print("Testing policy...")
        print(f"The agent(Policy) thinks action {np.argmax(episode_rewards[-1]) + 1} is the most promising....")
        print("...and it was right!" if success else "...and it was wrong!")
    return ReferenceResult(episode_rewards, policy.weights.detach().numpy().copy(), success, p_best, regret)


def expected_rewards(model: str, params: np.ndarray, reward_values) -> np.ndarray:
    """mu per arm, float64: the means, or loss + (win - loss) P(win)."""
    from math import erfc, sqrt

    if model == "gaussian":
        return params.astype(np.float64)
    win, loss = reward_values
    q = np.array([erfc(v / sqrt(2)) / 2 for v in params]) if model == "threshold" else params
    return loss + (win - loss) * q
