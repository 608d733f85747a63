"""Peer benchmark: the seed's experiment in JAX, ``vmap`` over bandits and ``lax.scan`` over steps.

What a researcher fluent in JAX would write for the same question, with the same per-step work as
our engines (two uniforms per step, inverse-CDF draw, closed-form SGD step, per-arm reward sums
per episode), jitted once, compiled ahead of the timed call. Its random stream is JAX's
(threefry), not ours, so success rates agree only statistically. Not run in CI; needs
``pip install 'jax[cuda12]'``. Compare with ``python benchmarks/bench.py --device cuda`` on the
same card:

    python benchmarks/peers/jax_scan.py --n-bandits 1048576 --episodes 50 --steps 1000
"""

from __future__ import annotations

import argparse
import time

import jax
import jax.numpy as jnp
from jax.scipy.special import ndtr


def make_experiment(arms, temperature: float, lr: float, n_episodes: int, steps_per_episode: int):
    """A jitted function: (n_bandits,) keys -> (n_bandits,) bool success of each bandit."""
    arms = jnp.asarray(arms, jnp.float32)
    win_prob = 1.0 - ndtr(arms)  # P(reward = +1) = 1 - Phi(value)
    n_arms = arms.shape[0]

    def step(carry, t):
        weights, sums, key = carry
        u_arm, u_reward = jax.random.uniform(jax.random.fold_in(key, t), (2,))
        e = jnp.exp(weights / temperature - jnp.max(weights / temperature))
        cdf = jnp.cumsum(e)
        arm = jnp.sum(cdf[:-1] <= u_arm * cdf[-1])
        reward = jnp.where(u_reward < win_prob[arm], 1.0, -1.0)
        onehot = jax.nn.one_hot(arm, n_arms)
        weights = weights + (lr * reward / temperature) * (onehot - e / cdf[-1])
        return (weights, sums + reward * onehot, key), None

    def episode(weights, episode_index, key):
        ts = episode_index * steps_per_episode + jnp.arange(steps_per_episode)
        (weights, sums, _), _ = jax.lax.scan(step, (weights, jnp.zeros(n_arms), key), ts)
        return weights, sums

    def bandit(key):
        def one_episode(weights, episode_index):
            return episode(weights, episode_index, key)

        _, sums = jax.lax.scan(one_episode, jnp.zeros(n_arms), jnp.arange(n_episodes))
        return jnp.argmax(sums[-1]) == jnp.argmin(arms)

    return jax.jit(jax.vmap(bandit))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n-bandits", type=int, default=10000)
    parser.add_argument("--episodes", type=int, default=50)
    parser.add_argument("--steps", type=int, default=1000)
    parser.add_argument("--arms", default="0.2,0,-0.2,-1")
    parser.add_argument("--temperature", type=float, default=10.0)
    parser.add_argument("--lr", type=float, default=0.01)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    arms = [float(a) for a in args.arms.split(",")]
    experiment = make_experiment(arms, args.temperature, args.lr, args.episodes, args.steps)
    keys = jax.random.split(jax.random.PRNGKey(args.seed), args.n_bandits)
    compiled = experiment.lower(keys).compile()  # compile outside the timed call
    start = time.perf_counter()
    success = compiled(keys).block_until_ready()
    wall = time.perf_counter() - start
    steps = args.n_bandits * args.episodes * args.steps
    device = jax.devices()[0].device_kind
    print(f"jax {jax.__version__} on {device}: {args.n_bandits:,} bandits x {args.episodes} x {args.steps} steps")
    print(f"  success rate {float(success.mean()):.4f}, {wall:.3f} s, {steps / wall:.3g} bandit-steps/s")


if __name__ == "__main__":
    main()
