"""The value-based policies of Sutton & Barto, chapter 2: ε-greedy, greedy with (optimistic) initial
values, and UCB. Pure steps, arm axis first: estimates (K, B), numbers (B,).

Each keeps an estimate Q[a] of every arm's mean reward and a count N[a] of its pulls. ε-greedy
pulls a uniformly random arm with probability ε, else a greedy one (§2.2–2.4); greedy always pulls
a greedy arm, its estimates starting at ``initial_value`` (§2.6); UCB pulls an untried arm if there
is one, else the arm maximising Q[a] + c sqrt(ln t / N[a]), t = 1, 2, ... the step (§2.7). Ties
among the maxima are broken uniformly at random (a first-index rule would bias greedy methods
toward low arms). Estimates are sample averages, Q <- Q + (r - Q) / N, or with greedy's
``step_size`` a constant step, Q <- Q + α (r - Q) (§2.5). Every draw comes from the step's policy
words (rng.policy_uniforms): the coin, the uniform arm, the tie-break.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from ..state import Batch, Hyper, Rule

COIN, UNIFORM_ARM, TIE = 0, 1, 2  # the policy words of a step (rng.policy_uniforms)


@dataclass(frozen=True)
class Params:
    """A batch's numbers in the run's dtype, each (B,)."""

    epsilon: torch.Tensor
    step_size: torch.Tensor
    ucb_c: torch.Tensor

    @staticmethod
    def of(hyper: Hyper, dtype: torch.dtype, seed: int = 0, bandit_ids: torch.Tensor | None = None) -> Params:
        return Params(hyper.epsilon.to(dtype), hyper.step_size.to(dtype), hyper.ucb_c.to(dtype))


@dataclass(frozen=True)
class State:
    """The estimates and counts, arm axis first."""

    q: torch.Tensor  # (K, B) the value estimates
    n: torch.Tensor  # (K, B) int32: pulls of each arm so far (the whole run)


@dataclass(frozen=True)
class Choice:
    arm: torch.Tensor  # (B,) int64


def init(rule: Rule, batch: Batch, dtype: torch.dtype) -> State:
    """Estimates at the initial value (greedy's option; 0 for the others), no pulls."""
    n_arms, n_bandits = batch.n_arms, batch.n_bandits
    device = batch.arm_param.device
    q = batch.hyper.initial_value.to(dtype)[None, :].expand(n_arms, n_bandits).clone()
    return State(q, torch.zeros(n_arms, n_bandits, dtype=torch.int32, device=device))


def scores(rule: Rule, params: Params, state: State, t: int) -> torch.Tensor:
    """What the greedy choice maximises at step t (0-based): Q, or UCB's Q + c sqrt(ln(t + 1) / N)
    with untried arms at +inf. (K, B)."""
    if rule.policy != "ucb":
        return state.q
    dtype = state.q.dtype
    log_t = torch.log(torch.tensor(float(t + 1), dtype=torch.float64)).to(dtype)  # ln t, t = 1, 2, ...
    # sqrt taken in float64 and rounded once: correctly rounded, as the fused engines compute it
    bonus = params.ucb_c * torch.sqrt((log_t / state.n.to(dtype)).double()).to(dtype)
    return torch.where(state.n == 0, torch.inf, state.q + bonus)  # untried arms first


def maxima(values: torch.Tensor) -> torch.Tensor:
    """(K, B) bool: the arms at each column's maximum."""
    return values == values.amax(dim=0)


def break_tie(top: torch.Tensor, u: torch.Tensor) -> torch.Tensor:
    """One of the ``top`` arms (K, B) uniformly, by the uniform ``u`` (B,): the floor(u m)-th of the
    m maximal arms in arm order. (B,) int64."""
    count = top.sum(dim=0)  # m >= 1
    index = (u * count).long().clamp_(max=count - 1)  # u < 1; clamp against rounding
    rank = top.cumsum(dim=0) - 1
    return (top & (rank == index)).to(torch.int8).argmax(dim=0)


def choose(rule: Rule, params: Params, state: State, u: torch.Tensor, words: torch.Tensor, t: int) -> Choice:
    """The arm of step t from the step's policy words (4, B)."""
    arm = break_tie(maxima(scores(rule, params, state, t)), words[TIE])
    if rule.policy == "epsilon_greedy":
        n_arms = state.q.shape[0]
        uniform = (words[UNIFORM_ARM] * n_arms).long().clamp_(max=n_arms - 1)
        arm = torch.where(words[COIN] < params.epsilon, uniform, arm)
    return Choice(arm)


def learn(rule: Rule, params: Params, state: State, choice: Choice, reward: torch.Tensor, t: int) -> State:
    """The estimates after ``reward`` (B,) for ``choice``: sample averages, or greedy's constant step."""
    arm = choice.arm[None]
    n = state.n.scatter_add(0, arm, torch.ones_like(arm, dtype=torch.int32))
    q_arm = state.q.gather(0, arm)[0]
    if rule.step_size:
        updated = q_arm + params.step_size * (reward - q_arm)
    else:
        updated = q_arm + (reward - q_arm) / n.gather(0, arm)[0].to(q_arm.dtype)
    return State(state.q.scatter(0, arm, updated[None]), n)


def probabilities(rule: Rule, params: Params, state: State, t: int) -> torch.Tensor:
    """P(the next step, t, pulls each arm): an equal share of the greedy choice for each maximum,
    and for ε-greedy plus ε/K. (K, B) float64."""
    top = maxima(scores(rule, params, state, t)).double()
    share = top / top.sum(dim=0)
    if rule.policy != "epsilon_greedy":
        return share
    epsilon = params.epsilon.double()
    return (1 - epsilon) * share + epsilon / top.shape[0]
