"""The seed's program, kept faithful: the oracle for tests and the baseline for benchmarks.

One bandit, a Python loop, ``torch.multinomial`` to draw the arm, autograd for the gradient and
``torch.optim.SGD`` for the step, exactly as in the blog post this project grew from. Only two
things differ, neither in the semantics: the parameters are arguments, and the random numbers
come from generators made from ``seed`` (a ``torch.Generator`` and a ``numpy.random.Generator``)
instead of the global ones. ``run_batch`` never uses this module.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.optim as optim

from .problem import SEED_ARMS


class BanditEnvironment:
    """The seed's environment: arm ``a`` pays +1 if a standard normal draw exceeds ``arms[a]``."""

    def __init__(self, arms, rng: np.random.Generator):
        self.n_arms = len(arms)
        self.arms = np.array(arms, dtype=np.float64)
        self.rng = rng

    def pull(self, arm: int) -> int:
        result = self.rng.standard_normal(1)
        if result > self.arms[arm]:
            return 1
        else:
            return -1


class SoftmaxPolicy:
    """The seed's policy: softmax(weights / temperature), weights from zero, one SGD step a pull."""

    def __init__(self, n_arms: int, temperature: float):
        self.n_arms = n_arms
        self.temperature = temperature
        self.weights = torch.zeros(n_arms, requires_grad=True)

    def __call__(self) -> torch.Tensor:
        return torch.softmax(self.weights / self.temperature, dim=0)

    def update(self, arm: int, reward: int, optimizer: optim.Optimizer) -> None:
        log_prob = torch.log_softmax(self.weights / self.temperature, dim=0)[arm]
        loss = -log_prob * reward
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()


@dataclass(frozen=True)
class ReferenceResult:
    episode_rewards: np.ndarray  # (n_episodes, K) per-arm reward sums of each episode
    weights: np.ndarray  # (K,) final weights
    success: bool  # argmax of the last episode's sums (first on ties) == argmin(arms)


def run_reference(
    arms=SEED_ARMS,
    temperature: float = 10.0,
    lr: float = 0.01,
    n_episodes: int = 50,
    steps_per_episode: int = 1000,
    seed: int = 0,
    verbose: bool = False,
) -> ReferenceResult:
    """The seed's training loop for one bandit; ``verbose`` prints what the seed prints."""
    generator = torch.Generator().manual_seed(seed)
    env = BanditEnvironment(arms, np.random.default_rng(seed))
    policy = SoftmaxPolicy(env.n_arms, temperature)
    optimizer = optim.SGD([policy.weights], lr=lr)
    episode_rewards = np.zeros((n_episodes, env.n_arms))
    for episode in range(n_episodes):
        total_reward = episode_rewards[episode]
        for _ in range(steps_per_episode):
            probs = policy()
            arm = torch.multinomial(probs, num_samples=1, generator=generator).item()
            reward = env.pull(arm)
            total_reward[arm] += reward
            policy.update(arm, reward, optimizer)
        if verbose:
            print(f"Episode {episode + 1}: Total reward = {total_reward}")
    success = bool(np.argmax(episode_rewards[-1]) == np.argmin(env.arms))
    if verbose:
        print("Testing policy...")
        print(f"The agent(Policy) thinks action {np.argmax(episode_rewards[-1]) + 1} is the most promising....")
        print("...and it was right!" if success else "...and it was wrong!")
    return ReferenceResult(episode_rewards, policy.weights.detach().numpy().copy(), success)
