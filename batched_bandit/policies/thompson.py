"""Thompson sampling: pull the arm whose sample from its posterior is highest. Pure steps, arm axis
first: posterior statistics (K, B), numbers (B,).

Binary rewards (win / loss): each arm's P(win) has a Beta(1 + wins, 1 + losses) posterior from a
uniform prior (Thompson 1933; Chapelle & Li 2011). Gaussian rewards with known sd σ (``reward_sd``):
each arm's mean has a normal posterior from the prior N(``prior_mean``, ``prior_sd``²): precision
1/σ₀² + n/σ², mean (μ₀/σ₀² + Σr/σ²) / precision.

A Beta(a, b) sample is X / (X + Y) with X ~ Gamma(a), Y ~ Gamma(b), each by Marsaglia & Tsang's
(2000) method for shape >= 1: d = a - 1/3, c = 1/sqrt(9d), z normal, v = (1 + cz)³, accept d v when
v > 0 and log u < z²/2 + d - d v + d log v. Attempt j of arm k at step t uses the four words of
rng.thompson_words(t, k, j): z and u for X, z and u for Y, so a sample is a pure function of
(seed, g, t) whatever the engine or the batch. Arithmetic is float32 with log and sqrt taken in
float64 and rounded once (correctly rounded: the fused engines compute the same numbers).

The probability of pulling each arm (and so P(best)) is estimated from ``P_BEST_DRAWS`` posterior
draws in their own counter range (rng: draws 1..): the share in which the arm's sample is the
highest. Thompson sampling's choice probabilities have no closed form.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from ..rng import THOMPSON_ATTEMPTS, thompson_words, to_normal, to_uniform
from ..state import Batch, Hyper, Rule
from .value import TIE, break_tie, maxima

P_BEST_DRAWS = 32


@dataclass(frozen=True)
class Params:
    """A batch's numbers in the run's dtype, each (B,), and its stream (seed, bandit ids)."""

    win: torch.Tensor
    prior_mean: torch.Tensor
    prior_sd: torch.Tensor
    reward_sd: torch.Tensor
    seed: int
    bandit_ids: torch.Tensor  # (B,) int64

    @staticmethod
    def of(hyper: Hyper, dtype: torch.dtype, seed: int, bandit_ids: torch.Tensor) -> Params:
        d = lambda x: x.to(dtype)  # noqa: E731
        return Params(d(hyper.win), d(hyper.prior_mean), d(hyper.prior_sd), d(hyper.reward_sd), seed, bandit_ids)


@dataclass(frozen=True)
class State:
    """Per arm: wins and losses (binary rewards), or pulls and the sum of rewards (Gaussian)."""

    first: torch.Tensor  # (K, B): wins (int32), or pulls (int32)
    second: torch.Tensor  # (K, B): losses (int32), or the sum of rewards (run's dtype)


@dataclass(frozen=True)
class Choice:
    arm: torch.Tensor  # (B,) int64


def init(rule: Rule, batch: Batch, dtype: torch.dtype) -> State:
    shape, device = (batch.n_arms, batch.n_bandits), batch.arm_param.device
    counts = torch.zeros(shape, dtype=torch.int32, device=device)
    second = counts.clone() if rule.rewards == "binary" else torch.zeros(shape, dtype=dtype, device=device)
    return State(counts, second)


def _log(x: torch.Tensor) -> torch.Tensor:
    """log, correctly rounded to x's dtype (taken in float64)."""
    return torch.log(x.double()).to(x.dtype)


def _sqrt(x: torch.Tensor) -> torch.Tensor:
    return torch.sqrt(x.double()).to(x.dtype)


def gamma_attempt(shape: torch.Tensor, z_word: torch.Tensor, u_word: torch.Tensor):
    """One Marsaglia-Tsang attempt for Gamma(shape >= 1): (accepted (K, B) bool, value (K, B))."""
    d = shape - torch.tensor(1.0 / 3.0, dtype=shape.dtype)
    c = 1.0 / _sqrt(9.0 * d)
    z, u = to_normal(z_word).to(shape.dtype), to_uniform(u_word).to(shape.dtype)
    v = 1.0 + c * z
    v = v * v * v
    positive = v > 0
    log_v = _log(torch.where(positive, v, 1.0))
    accepted = positive & (_log(u) < (((0.5 * z) * z + d) - d * v) + d * log_v)
    return accepted, d * v


def beta(a: torch.Tensor, b: torch.Tensor, params: Params, t: int, draw: int) -> torch.Tensor:
    """Beta(a, b) samples (K, B) of step t's posterior draw ``draw``: X / (X + Y)."""
    n_arms = a.shape[0]
    x, y = torch.zeros_like(a), torch.zeros_like(b)
    done_x = torch.zeros(a.shape, dtype=torch.bool, device=a.device)
    done_y = done_x.clone()
    for attempt in range(THOMPSON_ATTEMPTS):
        w0, w1, w2, w3 = thompson_words(params.seed, params.bandit_ids, t, n_arms, attempt, draw)
        ok_x, value_x = gamma_attempt(a, w0, w1)
        ok_y, value_y = gamma_attempt(b, w2, w3)
        x = torch.where(~done_x & ok_x, value_x, x)
        y = torch.where(~done_y & ok_y, value_y, y)
        done_x, done_y = done_x | ok_x, done_y | ok_y
        if bool(done_x.all()) and bool(done_y.all()):
            break
    return x / (x + y)


def sample(rule: Rule, params: Params, state: State, t: int, draw: int) -> torch.Tensor:
    """Each arm's posterior sample (K, B) of step t's draw ``draw``."""
    if rule.rewards == "binary":
        one = torch.ones((), dtype=params.win.dtype)
        return beta(state.first.to(one.dtype) + one, state.second.to(one.dtype) + one, params, t, draw)
    prior_precision = 1.0 / (params.prior_sd * params.prior_sd)
    noise_precision = 1.0 / (params.reward_sd * params.reward_sd)
    precision = prior_precision + state.first.to(params.win.dtype) * noise_precision
    mean = (params.prior_mean * prior_precision + state.second * noise_precision) / precision
    z_word = thompson_words(params.seed, params.bandit_ids, t, state.first.shape[0], 0, draw)[0]
    return mean + to_normal(z_word).to(mean.dtype) / _sqrt(precision)


def choose(rule: Rule, params: Params, state: State, u: torch.Tensor, words: torch.Tensor, t: int) -> Choice:
    """The arm with the highest posterior sample; ties (rare) broken by the step's tie word."""
    return Choice(break_tie(maxima(sample(rule, params, state, t, 0)), words[TIE]))


def learn(rule: Rule, params: Params, state: State, choice: Choice, reward: torch.Tensor, t: int) -> State:
    """Count the pull: a win or a loss, or the pull and its reward."""
    arm = choice.arm[None]
    one = torch.ones_like(arm, dtype=torch.int32)
    if rule.rewards == "binary":
        won = (reward == params.win)[None]
        return State(state.first.scatter_add(0, arm, one * won), state.second.scatter_add(0, arm, one * ~won))
    return State(state.first.scatter_add(0, arm, one), state.second.scatter_add(0, arm, reward[None]))


def probabilities(rule: Rule, params: Params, state: State, t: int) -> torch.Tensor:
    """P(the next step, t, pulls each arm), estimated: the share of P_BEST_DRAWS posterior draws
    (draws 1.. of step t) in which each arm's sample is the highest (split equally on ties).
    (K, B) float64."""
    total = torch.zeros(state.first.shape, dtype=torch.float64, device=state.first.device)
    for draw in range(1, P_BEST_DRAWS + 1):
        top = maxima(sample(rule, params, state, t, draw)).double()
        total += top / top.sum(dim=0)
    return total / P_BEST_DRAWS
