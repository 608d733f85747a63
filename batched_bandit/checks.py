"""Argument checks: each raises before any work, naming the argument and the range that works.

A wrong type raises ``TypeError``; a value out of range ``ValueError``. Numbers are checked as the
simulation will see them: real and finite, representable in the dtype (no overflow to inf, no
underflow to 0). Per-bandit numbers may be a scalar or a ``(n_bandits,)`` tensor or array.
``check_option`` checks any option of schema.py by its kind and range; the bounds that keep the
learning rule's weights finite over a whole run are in bounds.py and optimizers.py (step_bound).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable

import numpy as np
import torch

from .rng import MAX_SEED
from .schema import MODEL_OF, MODELS, SEED_ARMS, Option, interval_text

# Sizes the engines count exactly: each arm's pulls in an episode are int32 in every engine; steps,
# bandit ids and bandit-steps done are int64 (the C kernel's loops and progress counter, the stream's
# counters); the Triton kernel indexes a launch's bandits in int32.
MAX_STEPS_PER_EPISODE = 2**31 - 1
MAX_BANDIT_STEPS = 2**63 - 1
MAX_CHUNK = {"triton": 2**31 - 1024}  # bandits per launch (whole blocks of up to 1024 stay below 2**31)


def dtype_name(dtype: torch.dtype) -> str:
    return str(dtype).removeprefix("torch.")


def check_count(name: str, value) -> int:
    """An integer >= 1; integer-valued floats (100.0) are accepted, as on the command line."""
    if isinstance(value, bool) or not isinstance(value, (numbers.Real, np.number, torch.Tensor)):
        raise TypeError(f"{name} must be an integer >= 1, got {value!r}")
    if isinstance(value, torch.Tensor):
        if value.numel() != 1 or value.is_complex():
            raise TypeError(f"{name} must be an integer >= 1, got {value!r}")
        value = value.item()
    if isinstance(value, (float, np.floating)) and (not math.isfinite(value) or value != int(value)):
        raise ValueError(f"{name} must be an integer >= 1, got {value!r}")
    if int(value) < 1:
        raise ValueError(f"{name} must be an integer >= 1, got {value!r}")
    return int(value)


def check_run_size(n_bandits: int, n_episodes: int, steps_per_episode: int) -> None:
    """Counts the engines hold exactly (see MAX_STEPS_PER_EPISODE, MAX_BANDIT_STEPS), checked before any
    work; ValueError naming the argument and the range."""
    if steps_per_episode > MAX_STEPS_PER_EPISODE:
        raise ValueError(
            f"steps_per_episode must be an integer in [1, {MAX_STEPS_PER_EPISODE:,}] (2**31 - 1: an episode's "
            f"pulls of each arm are counted in int32), got {steps_per_episode:,}; use more, shorter episodes"
        )
    if n_bandits * n_episodes * steps_per_episode > MAX_BANDIT_STEPS:
        raise ValueError(
            f"n_bandits x n_episodes x steps_per_episode must be at most {MAX_BANDIT_STEPS:,} (2**63 - 1: steps and "
            f"bandit-steps are counted in int64), got {n_bandits:,} x {n_episodes:,} x {steps_per_episode:,}"
        )


def check_chunk_size(backend: str, chunk_size: int) -> None:
    """The most bandits one launch of ``backend`` can index (MAX_CHUNK), where it has a limit."""
    limit = MAX_CHUNK.get(backend)
    if limit is not None and chunk_size > limit:
        raise ValueError(f"chunk_size must be at most {limit:,} with backend {backend!r} (its kernel indexes a "
                         f"launch's bandits in int32), got {chunk_size:,}")  # fmt: skip


def check_seed(seed) -> int:
    if isinstance(seed, bool) or not isinstance(seed, (numbers.Integral, np.integer)):
        raise TypeError(f"seed must be an integer in [0, 2**64 - 1], got {seed!r}")
    if not 0 <= int(seed) <= MAX_SEED:
        raise ValueError(f"seed must be an integer in [0, 2**64 - 1], got {seed!r}")
    return int(seed)


def check_bool(name: str, value) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False, got {value!r}")
    return bool(value)


def check_choice(name: str, value, choices) -> str:
    if not isinstance(value, str) or value not in choices:
        raise ValueError(f"{name} must be one of {', '.join(map(repr, choices))}, got {value!r}")
    return value


def check_progress(progress) -> Callable | bool | None:
    """None or False (silent), True (a progress bar), or a callable ``progress(done, total)``."""
    if progress is None or isinstance(progress, bool) or callable(progress):
        return progress
    raise TypeError(f"progress must be None, True, False or a callable progress(done, total), got {progress!r}")


def as_real_tensor(name: str, value, what: str = "a number or a sequence of numbers") -> torch.Tensor:
    """A number, sequence, array or tensor of real numbers -> a float64 CPU tensor; TypeError otherwise."""
    if isinstance(value, (str, bytes, bool)) or value is None:
        raise TypeError(f"{name} must be {what}, got {value!r}")
    try:
        if isinstance(value, torch.Tensor):
            tensor = value.detach().cpu()
        else:
            array = np.asarray(value)
            if array.dtype == object or array.dtype.kind not in "biufc":
                raise TypeError
            tensor = torch.from_numpy(array.copy())
    except (TypeError, ValueError, RuntimeError):
        raise TypeError(f"{name} must be {what}, got {value!r}") from None
    if tensor.is_complex():
        raise TypeError(f"{name} must be real numbers, got complex values {value!r}")
    if tensor.dtype == torch.bool:
        raise TypeError(f"{name} must be {what}, got booleans {value!r}")
    return tensor.to(torch.float64)


def check_per_bandit(
    name: str,
    value,
    n_bandits: int,
    *,
    low: float = -math.inf,
    high: float = math.inf,
    low_open: bool = False,
    high_open: bool = False,
    item: str = "bandit",
) -> torch.Tensor:
    """A real number or a (n_bandits,) tensor in the interval [low, high] (ends open as asked)
    -> (n_bandits,) float64; the error names the interval and the first bad entry as ``(item i)``."""
    values = as_real_tensor(name, value, "a number or a tensor of shape (n_bandits,)")
    if values.ndim == 0:
        values = values.expand(n_bandits)  # a view: one number for all bandits costs no memory
    elif values.shape != (n_bandits,):
        shape = tuple(values.shape)
        raise ValueError(
            f"{name} must be a number or a tensor of shape (n_bandits,) = ({n_bandits},), got shape {shape}"
        )
    ok = torch.isfinite(compact(values))
    values_c = compact(values)
    ok &= values_c > low if low_open else values_c >= low
    ok &= values_c < high if high_open else values_c <= high
    if not bool(ok.all()):
        first = int((~ok).nonzero()[0])
        raise ValueError(
            f"{name} must be {interval_text(low, high, low_open, high_open)}, got {values[first].item()!r}"
            + (f" ({item} {first})" if values.stride(0) and n_bandits > 1 else "")
        )
    return values if values.stride(0) == 0 else values.contiguous()


def check_representable(name: str, values: torch.Tensor, dtype: torch.dtype, *, nonzero: bool = False) -> None:
    """``values`` stay finite in ``dtype`` and, with ``nonzero``, do not underflow to 0 or a subnormal."""
    info = torch.finfo(dtype)
    values = compact(values)
    big = values.abs() > info.max
    small = (values != 0) & (values.abs() < info.tiny) if nonzero else torch.zeros_like(big)
    if bool(big.any()) or bool(small.any()):
        bad = float(values[big | small][0])
        allowed = f"in [{info.tiny:.3g}, {info.max:.3g}]" if nonzero else f"at most {info.max:.3g}"
        raise ValueError(
            f"{name} = {bad!r} {'overflows' if abs(bad) > info.max else 'underflows'} in {dtype_name(dtype)}: "
            f"|{name}| must be {allowed}"
        )


def check_distinct_in_dtype(win: torch.Tensor, loss: torch.Tensor, dtype: torch.dtype) -> None:
    """win > loss still holds after rounding both to ``dtype`` (else every reward is the same number)."""
    win_d, loss_d = compact(win).to(dtype), compact(loss).to(dtype)
    same = ~(win_d > loss_d)
    if bool(same.any()):
        i = int(same.nonzero()[0])
        raise ValueError(
            f"reward_values (win {win[i].item()!r}, loss {loss[i].item()!r}) round to the same {dtype_name(dtype)} "
            f"value {win_d[i].item()!r}: win must stay > loss in {dtype_name(dtype)}; use values further apart or "
            "dtype=torch.float64"
        )


def check_below_one_in_dtype(name: str, values: torch.Tensor, dtype: torch.dtype) -> None:
    """A decay factor in [0, 1) stays below 1 after rounding to ``dtype`` (1 would stop the decay)."""
    rounded = compact(values).to(dtype)
    if bool((rounded >= 1).any()):
        bad = float(compact(values)[rounded >= 1][0])
        largest = 1 - torch.finfo(dtype).eps / 2
        raise ValueError(
            f"{name} = {bad!r} rounds to 1 in {dtype_name(dtype)}: {name} must be in [0, {largest!r}] there; use "
            "dtype=torch.float64 or a smaller value"
        )


def check_problem(n_bandits: int, arms, win_prob, means) -> tuple[str, torch.Tensor]:
    """Exactly one reward model: (model, (n_bandits, K) float64 parameters). Default: the seed's arms."""
    given = {k: v for k, v in (("arms", arms), ("win_prob", win_prob), ("means", means)) if v is not None}
    if len(given) > 1:
        raise ValueError(f"give one reward model: arms=, win_prob= or means=, not {' and '.join(given)}")
    keyword, value = next(iter(given.items())) if given else (MODELS["threshold"], SEED_ARMS)
    model = MODEL_OF[keyword]
    params = check_arm_vector(keyword, value, n_bandits)
    p = compact(params)
    if model == "bernoulli" and not bool(((p >= 0) & (p <= 1)).all()):
        raise ValueError(f"win_prob must be probabilities in [0, 1], got {p[(p < 0) | (p > 1)][0].item()!r}")
    return model, params


def check_arm_vector(name: str, value, n_bandits: int) -> torch.Tensor:
    """(K,) or (n_bandits, K) finite real numbers, K >= 2 -> (n_bandits, K) float64."""
    values = as_real_tensor(name, value, "a sequence of numbers or a tensor")
    if values.ndim == 1:
        values = values.expand(n_bandits, -1)  # a view: one vector for all bandits costs no memory
    elif values.ndim != 2 or values.shape[0] != n_bandits:
        raise ValueError(
            f"{name} must have shape (K,) or (n_bandits, K) = ({n_bandits}, K), got shape {tuple(values.shape)}"
        )
    if values.shape[1] < 2:
        raise ValueError(f"{name} must have at least 2 arms, got {values.shape[1]}")
    if not bool(torch.isfinite(compact(values)).all()):
        raise ValueError(f"{name} must be finite numbers (no nan or inf)")
    return values if values.stride(0) == 0 else values.contiguous()


def compact(values: torch.Tensor) -> torch.Tensor:
    """The first row of a tensor whose rows are one row repeated by ``expand`` (stride 0), else itself."""
    return values[:1] if values.ndim and values.stride(0) == 0 else values


def rowwise(fn, *tensors: torch.Tensor, n_bandits: int) -> torch.Tensor:
    """``fn(*tensors)`` computed once when every tensor is one row repeated, then expanded: no
    (n_bandits, K) copies of a problem shared by all bandits."""
    if all(t.stride(0) == 0 for t in tensors):
        out = fn(*(t[:1] for t in tensors))
        return out.expand(n_bandits, *out.shape[1:])
    return fn(*tensors)


def check_reward_values(value, n_bandits: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(win, loss), each a number or (n_bandits,) tensor, win > loss -> two (n_bandits,) float64."""
    if not isinstance(value, (tuple, list)) or len(value) != 2:
        raise TypeError(f"reward_values must be a pair (win, loss), got {value!r}")
    win = check_per_bandit("reward_values[0] (win)", value[0], n_bandits)
    loss = check_per_bandit("reward_values[1] (loss)", value[1], n_bandits)
    if not bool((compact(win) > compact(loss)).all()):
        first = int((win <= loss).nonzero()[0])
        raise ValueError(
            f"reward_values must be (win, loss) with win > loss, got ({win[first].item()!r}, {loss[first].item()!r})"
        )
    return win, loss


def check_dtype(dtype) -> torch.dtype:
    if dtype not in (torch.float32, torch.float64):
        raise ValueError(f"dtype must be torch.float32 or torch.float64, got {dtype!r}")
    return dtype


def check_option(option: Option, value, n_bandits: int):
    """A value of ``option`` (schema.py), checked by its kind and range: a (n_bandits,) float64
    tensor for a per-bandit number, a pair of them for a pair, else the value itself. The
    reward model's per-arm parameters and the initial weights are checked against the problem
    (options.make_setup)."""
    if option.kind == "real":
        return check_per_bandit(option.name, value, n_bandits, low=option.low, high=option.high,
                                low_open=option.low_open, high_open=option.high_open)  # fmt: skip
    if option.kind == "pair":
        return check_reward_values(value, n_bandits)
    if option.kind == "bool":
        return check_bool(option.name, value)
    if option.kind == "choice":
        return check_choice(option.name, value, option.choices)
    if option.kind == "count":
        return check_count(option.name, value)
    raise ValueError(f"{option.name}: options of kind {option.kind!r} are checked with the problem")
