"""Random problems per bandit: arm parameters drawn from a distribution, not given as a vector.

``run_batch(means=normal_arms(10, 0, 1))`` and a study's arms axis take them (the textbook's
10-armed testbed: each bandit a problem of its own).

Bandit ``g``'s arm parameters are drawn from ``rng.problem_uniforms(seed, g)``, a counter space of
the Philox stream that the steps never reach, so a study over random problems is reproducible and
the same whatever the blocks, the chunking or the executor. Settings with the same distribution
share their problems bandit by bandit (common random numbers), as they share their steps.

Text form (CLI, spec and CSV column): ``normal:K:MEAN:SD``, ``uniform:K:LOW:HIGH`` (each arm i.i.d.),
``gaps:K:LOW:HIGH[:BEST]`` (the best arm at a uniformly drawn position with value BEST, default 0;
every other arm worse by a gap drawn uniformly in [LOW, HIGH]).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from .rng import problem_uniforms

DISTRIBUTIONS = ("normal", "uniform", "gaps")
FORMS = "normal:K:MEAN:SD, uniform:K:LOW:HIGH or gaps:K:LOW:HIGH[:BEST]"
MAX_ARMS = 2**20  # arms per random problem: each bandit holds K weights and draws K numbers
# the ends of problem_uniforms's grid (k + 1/2) 2**-52: the extreme draws of any bandit
U_ENDS = (2.0**-53, 1.0 - 2.0**-53)
# the parameters each reward model accepts (checks.check_problem): a distribution must stay inside
SUPPORT = {"bernoulli": (0.0, 1.0)}


@dataclass(frozen=True)
class RandomArms:
    """K arm parameters per bandit, drawn from ``dist`` with parameters (a, b) (and ``best`` for gaps)."""

    dist: str  # "normal" (a = mean, b = sd), "uniform" (a = low, b = high), "gaps" (a = low, b = high)
    k: int  # arms per bandit
    a: float
    b: float
    best: float = 0.0  # gaps: the best arm's parameter

    def __post_init__(self):
        if self.dist not in DISTRIBUTIONS:
            raise ValueError(
                f"random arms: the distribution must be one of {', '.join(DISTRIBUTIONS)}, got {self.dist!r}"
            )
        if isinstance(self.k, bool) or not isinstance(self.k, int) or not 2 <= self.k <= MAX_ARMS:
            raise ValueError(f"random arms: K must be an integer in [2, {MAX_ARMS:,}], got {self.k!r}")
        if not all(math.isfinite(v) for v in (self.a, self.b, self.best)):
            raise ValueError(f"random arms {self}: parameters must be finite numbers")
        if self.dist == "normal" and self.b < 0:
            raise ValueError(f"random arms {self}: the sd must be >= 0")
        if self.dist != "normal" and not self.a <= self.b:
            raise ValueError(f"random arms {self}: LOW must be <= HIGH")
        if self.dist == "gaps" and not self.a > 0:
            raise ValueError(f"random arms {self}: gaps must be > 0 (LOW > 0), so that the best arm is unique")

    def __str__(self) -> str:
        text = f"{self.dist}:{self.k}:{self.a!r}:{self.b!r}"
        return text + (f":{self.best!r}" if self.dist == "gaps" and self.best != 0 else "")

    def draw(self, model: str, seed: int, bandit_ids: torch.Tensor) -> torch.Tensor:
        """The parameters of each bandit's arms under reward ``model``: (B,) int64 ids -> (B, K) float64.

        For gaps, "worse" follows the model: a higher threshold value ("threshold"), a lower P(win)
        or mean ("bernoulli", "gaussian").
        """
        return self._from_uniforms(model, problem_uniforms(seed, bandit_ids, self.k))

    def _from_uniforms(self, model: str, u: torch.Tensor) -> torch.Tensor:
        """(B, K) uniforms in (0, 1) -> (B, K) float64 parameters."""
        if self.dist == "normal":
            return self.a + self.b * torch.special.ndtri(u)
        if self.dist == "uniform":
            return self.a + (self.b - self.a) * u
        position = (u[:, 0] * self.k).long().clamp_(max=self.k - 1)
        gaps = self.a + (self.b - self.a) * u[:, 1:]
        signed = gaps if model == "threshold" else -gaps
        values = torch.cat([signed, torch.zeros_like(u[:, :1])], dim=1)  # (B, K), the best arm last
        order = (torch.arange(self.k)[None, :] - position[:, None]) % self.k  # arm j holds value (j - pos) mod K,
        order = torch.where(order == 0, self.k - 1, order - 1)  # the best at arm ``position``
        return self.best + torch.gather(values, 1, order)

    def probe(self, model: str) -> torch.Tensor:
        """The most extreme draws any bandit can get, (1, K): the checks made before any work see the
        worst case (arms alternate the uniform grid's two ends; a gaps problem's first gap is the widest)."""
        u = torch.tensor([U_ENDS[i % 2] for i in range(self.k)], dtype=torch.float64)[None, :]
        return self._from_uniforms(model, u)

    def check_support(self, name: str, model: str) -> None:
        """Every draw is finite and a valid parameter of ``model``; ValueError naming the range if not."""
        probe = self.probe(model)
        low, high = float(probe.min()), float(probe.max())
        allowed = SUPPORT.get(model, (-math.inf, math.inf))
        if not (math.isfinite(low) and math.isfinite(high) and allowed[0] <= low and high <= allowed[1]):
            within = f" within [{allowed[0]:g}, {allowed[1]:g}]" if model in SUPPORT else " finite"
            raise ValueError(
                f"{name} {self}: its draws range over [{low:.3g}, {high:.3g}], but every value must be{within}; "
                "narrow the distribution" + (", e.g. uniform:K:LOW:HIGH inside it" if model in SUPPORT else "")
            )

    @staticmethod
    def parse(text: str) -> RandomArms:
        """``normal:4:0:1`` etc. -> RandomArms; ValueError naming the forms otherwise."""
        parts = text.split(":")
        form = f"random arms must be {FORMS}, got {text!r}"
        if parts[0] not in DISTRIBUTIONS or len(parts) not in (4, 5) or (len(parts) == 5 and parts[0] != "gaps"):
            raise ValueError(form)
        try:
            k, numbers = float(parts[1]), [float(p) for p in parts[2:]]
        except ValueError:
            raise ValueError(form) from None
        if not (math.isfinite(k) and k == int(k)):
            raise ValueError(f"random arms {text!r}: K must be an integer in [2, {MAX_ARMS:,}], got {parts[1]!r}")
        return RandomArms(parts[0], int(k), *numbers)


def normal_arms(k: int, mean: float = 0.0, sd: float = 1.0) -> RandomArms:
    """Each of ``k`` arm parameters i.i.d. N(mean, sd), per bandit."""
    return RandomArms("normal", k, float(mean), float(sd))


def uniform_arms(k: int, low: float, high: float) -> RandomArms:
    """Each of ``k`` arm parameters i.i.d. uniform in [low, high], per bandit."""
    return RandomArms("uniform", k, float(low), float(high))


def gap_arms(k: int, low: float, high: float, best: float = 0.0) -> RandomArms:
    """The best arm at a random position with parameter ``best``, the others worse by U(low, high) gaps."""
    return RandomArms("gaps", k, float(low), float(high), float(best))
