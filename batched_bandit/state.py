"""What an engine is given and what it returns: small frozen dataclasses of tensors, batch first.

``Rule`` holds the batch-wide choices an engine compiles its code for (which optimizer, which
baseline, which reward model...); ``Hyper`` holds the per-bandit numbers, each (B,), so one batch
can sweep any of them; ``Batch`` is a batch of bandits; ``Outcome`` is what an engine returns.
Rule's and Hyper's fields are schema.py's ``RULE_FIELDS`` and ``ROWS``: an option is declared
there once, and appears here, in every engine's parameters and on the command line.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import torch

from . import schema

if TYPE_CHECKING:  # what type checkers see of the two classes made below from schema.py (test_architecture
    # checks the fields and defaults agree)

    @dataclass(frozen=True)
    class Rule:
        policy: str = "gradient"
        optimizer: str = "sgd"
        nesterov: bool = False
        centered: bool = False
        baseline: str = "none"
        momentum: bool = False
        weight_decay: bool = False
        step_size: bool = False
        rewards: str = "binary"

        @property
        def is_seed(self) -> bool: ...

    @dataclass(frozen=True)
    class Hyper:
        win: torch.Tensor
        loss: torch.Tensor
        reward_sd: torch.Tensor
        baseline_decay: torch.Tensor
        momentum: torch.Tensor
        dampening: torch.Tensor
        weight_decay: torch.Tensor
        beta1: torch.Tensor
        beta2: torch.Tensor
        eps: torch.Tensor
        alpha: torch.Tensor
        epsilon: torch.Tensor
        initial_value: torch.Tensor
        step_size: torch.Tensor
        ucb_c: torch.Tensor
        prior_mean: torch.Tensor
        prior_sd: torch.Tensor
        lr: torch.Tensor
        inv_temperature: torch.Tensor

        def map(self, fn: Callable[[torch.Tensor], torch.Tensor]) -> Hyper: ...


def _rule_default(name: str):
    if name == "rewards":
        return "binary"
    option = schema.OPTIONS[name]
    return False if option.specialise else option.default


def _is_seed(self) -> bool:
    """Plain SGD, no baseline, binary rewards: the seed's rule (its code path is pinned)."""
    return self == Rule()


def _describe_fields(names, what) -> str:
    return "\n".join(f"    {name}: {what(name)}" for name in names)


Rule = dataclasses.make_dataclass(  # type: ignore[misc, assignment]  # declared above for type checkers
    "Rule",
    [(name, object, dataclasses.field(default=_rule_default(name))) for name in schema.RULE_FIELDS],
    frozen=True,
    namespace={"is_seed": property(_is_seed), "__module__": __name__},
)
Rule.__doc__ = (
    "The learning rule's batch-wide choices (engines compile one code path per distinct Rule):\n"
    + _describe_fields(
        schema.RULE_FIELDS,
        lambda n: (
            "binary or gaussian rewards"
            if n == "rewards"
            else f"some bandit has {n} > 0"
            if schema.OPTIONS[n].specialise
            else schema.OPTIONS[n].help
        ),
    )
)


def _map(obj, fn):
    changes = {}
    for f in dataclasses.fields(obj):
        value = getattr(obj, f.name)
        if isinstance(value, torch.Tensor):
            changes[f.name] = fn(value)
        elif dataclasses.is_dataclass(value) and not isinstance(value, type):
            changes[f.name] = _map(value, fn)
    return dataclasses.replace(obj, **changes)


def _hyper_map(self, fn):
    """These numbers with ``fn`` applied to each tensor."""
    return _map(self, fn)


Hyper = dataclasses.make_dataclass(  # type: ignore[misc, assignment]
    "Hyper",
    [(row, torch.Tensor) for row in schema.ROWS],
    frozen=True,
    namespace={"map": _hyper_map, "__module__": __name__},
)
Hyper.__doc__ = "Per-bandit numbers, each (B,) float; the rule ignores those that do not apply to it:\n" + (
    _describe_fields(
        schema.ROWS, lambda row: next(f"{o.help} ({o.name})" for o in schema.OPTIONS.values() if row in o.rows)
    )
)


@dataclass(frozen=True)
class Batch:
    """A batch of independent bandits, all on one device."""

    rule: Rule
    hyper: Hyper
    arm_param: torch.Tensor  # (B, K) float: P(win) per arm (binary rewards) or the mean (Gaussian)
    arm_gap: torch.Tensor  # (B, K) float: mu* - mu[a], the pseudo-regret of pulling arm a
    best_arm: torch.Tensor  # (B,) int64: the best arm, first on ties
    init_weights: torch.Tensor  # (B, K) float: weights at step 0
    bandit_ids: torch.Tensor  # (B,) int64: global index g of each bandit in the random stream

    def map(self, fn) -> Batch:
        """The batch with ``fn`` applied to every tensor (Hyper's too)."""
        return _map(self, fn)

    def __getitem__(self, rows: slice) -> Batch:
        return self.map(lambda t: t[rows])

    def to(self, device: torch.device) -> Batch:
        return self.map(lambda t: t.to(device))

    @property
    def n_bandits(self) -> int:
        return self.bandit_ids.shape[0]

    @property
    def n_arms(self) -> int:
        return self.arm_param.shape[1]


@dataclass(frozen=True)
class Outcome:
    """What an engine returns for a batch: per episode, and every ``record_every`` steps if asked.

    Within an interval (an episode, or the steps since the previous trace point): regret is
    sum_k n_k gap_k in arm order (float32, n_k the interval's pulls of arm k), optimal pulls are
    sum_k n_k over the arms with gap 0 (every best arm), reward is the rewards' sum (episodes: the
    per-arm sums added in arm order; trace: added step by step). A trace point r comes after step
    (r + 1) record_every of the run; its verdict is the seed's, on the current episode's sums so far.
    """

    weights: torch.Tensor  # (B, K) float: final weights; a value policy's estimates; Thompson's posterior means
    episode_rewards: torch.Tensor  # (B, E, K) float: per-arm reward sums; E = 1 (the last) if not recorded
    episode_p_best: torch.Tensor  # (B, n_episodes) float32: P(best arm) at the end of each episode
    episode_regret: torch.Tensor  # (B, n_episodes) float32: pseudo-regret accrued within each episode
    episode_reward: torch.Tensor  # (B, n_episodes) float: reward received within each episode
    episode_optimal: torch.Tensor  # (B, n_episodes) int32: pulls of a best arm within each episode
    trace_p_best: torch.Tensor  # (B, R) float32: P(best arm) at each trace point (R = 0: no trace)
    trace_regret: torch.Tensor  # (B, R) float32: pseudo-regret accrued within each interval
    trace_reward: torch.Tensor  # (B, R) float: reward received within each interval
    trace_optimal: torch.Tensor  # (B, R) int32: pulls of a best arm within each interval
    trace_success: torch.Tensor  # (B, R) bool: the current episode's top arm so far is the best arm
    # the policy's probability of each arm at the next step (B, K); (B, 0) for the gradient policy,
    # whose probabilities are softmax(weights / T) (run.py computes them in float64)
    final_probs: torch.Tensor = dataclasses.field(default_factory=lambda: torch.zeros(0, 0))


def trace_points(n_steps: int, record_every: int | None) -> int:
    """How many trace points a run of ``n_steps`` steps has: one every ``record_every`` steps."""
    return 0 if record_every is None else n_steps // record_every


def trace_dtypes(dtype: torch.dtype) -> dict[str, torch.dtype]:
    """The dtype of each of Outcome's trace fields when the run computes in ``dtype``."""
    return {"trace_p_best": torch.float32, "trace_regret": torch.float32, "trace_reward": dtype,
            "trace_optimal": torch.int32, "trace_success": torch.bool}  # fmt: skip


def empty_trace(n_bandits: int, n_points: int, dtype: torch.dtype, device=None) -> dict[str, torch.Tensor]:
    """Outcome's trace fields, (B, R) each, allocated but not filled: an engine writes every point."""
    return {name: torch.empty(n_bandits, n_points, dtype=d, device=device) for name, d in trace_dtypes(dtype).items()}
