"""The fused GPU engine: every episode and step of a chunk of bandits in one Triton kernel launch.

The kernel (triton_kernel.py) keeps each bandit's weights, optimizer state and per-arm sums in
one thread's registers and compiles one code path per Rule; this module launches it, one launch
per chunk, and says where it can run: on CUDA, or on the CPU under Triton's interpreter (tests).
``triton_aot.py`` compiles it for a GPU without one, to count its registers and instructions.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable

import torch

from .. import schema
from ..policies import thompson
from ..state import Batch, Outcome, Rule, trace_points
from .triton_kernel import PER_BANDIT, bandit_kernel, rule_constants, tl, triton
from .triton_policies import policy_kernel

INSTALL_HINT = "pip install 'batched_bandit[gpu]'"
COMPILED_WARPS = 4  # warps per program when compiled; one bandit per thread
ARMS_IN_REGISTERS = 16  # above this many (padded) arms, the pulled arm's parameter is read from memory
INTERPRETED_BLOCK = 1024  # the interpreter runs programs one after another: few, big ones


def unavailable_reason(device: torch.device) -> str | None:
    """None if the kernel can run on ``device``; otherwise what is missing."""
    if triton is None:
        return f"backend 'triton' needs the triton package: {INSTALL_HINT}"
    if MODE == "mixed":
        return (
            "backend 'triton': TRITON_INTERPRET changed between importing triton and importing "
            "batched_bandit.engines.triton_engine; set it (or not) before both"
        )
    if device.type == "cpu" and MODE != "interpreted":
        return (
            "backend 'triton' runs on CUDA; on the CPU only under Triton's interpreter "
            "(set TRITON_INTERPRET=1 before triton and batched_bandit.engines.triton_engine are imported)"
        )
    if device.type == "cuda" and MODE == "interpreted":
        return (
            "backend 'triton' was imported with TRITON_INTERPRET=1 set: the interpreter would run the "
            "kernel on the CPU; unset it to run on CUDA"
        )
    return None


POLICIES = schema.POLICIES  # the gradient policy: bandit_kernel; the others: triton_policies.policy_kernel


def unsupported_reason(rule: Rule, trace: bool = False) -> str | None:
    """The kernels run every rule of every policy (each compiles its own code); bandit_kernel also
    traces, policy_kernel not (yet): the portable engine traces the other policies."""
    if rule.policy not in POLICIES:
        return f"backend 'triton' runs the policies {', '.join(POLICIES)}, not {rule.policy!r} (yet)"
    if trace and rule.policy != "gradient":
        return f"backend 'triton' traces only the gradient policy, not {rule.policy!r} (record_every)"
    return None


def simulate(
    batch: Batch,
    *,
    seed: int,
    n_episodes: int,
    steps_per_episode: int,
    record_episodes: bool = True,
    record_every: int | None = None,
    on_progress: Callable[[int], None] | None = None,
    dtype: torch.dtype = torch.float32,
) -> Outcome:
    """Train every bandit of ``batch`` for ``n_episodes * steps_per_episode`` steps, in one launch.

    ``record_every``: also trace every metric every this many steps (state.Outcome), with the
    kernel compiled to trace; the trace fields are (B, R) views of the (R, B) planes it writes.
    ``on_progress(n)`` is called once, after the kernel, with all ``n`` bandit-steps. float32 only.
    """
    device = batch.arm_param.device
    reason = unavailable_reason(device)
    if reason is not None:
        raise ValueError(reason)
    if dtype != torch.float32:
        raise ValueError(f"backend 'triton' supports dtype torch.float32 only, got {dtype}")
    if record_every is not None and batch.rule.policy != "gradient":  # policy_kernel keeps no trace
        raise ValueError(f"backend 'triton' does not trace policy {batch.rule.policy!r} (record_every)")
    n_bandits, n_arms = batch.n_bandits, batch.n_arms
    n_recorded = n_episodes if record_episodes else 1
    f32 = lambda t: t.to(torch.float32).contiguous()  # noqa: E731
    weights = torch.empty(n_bandits, n_arms, device=device, dtype=torch.float32)
    episode_rewards = torch.empty(n_bandits, n_recorded, n_arms, device=device, dtype=torch.float32)
    episode_p_best = torch.empty(n_bandits, n_episodes, device=device, dtype=torch.float32)
    episode_regret = torch.empty(n_bandits, n_episodes, device=device, dtype=torch.float32)
    episode_reward = torch.empty(n_bandits, n_episodes, device=device, dtype=torch.float32)
    episode_optimal = torch.empty(n_bandits, n_episodes, device=device, dtype=torch.int32)
    n_points = trace_points(n_episodes * steps_per_episode, record_every)
    # the trace as the kernel writes it: a (R, B) plane of 32-bit words per metric (state.Outcome's, in order)
    words = torch.zeros(len(TRACE_WORDS), n_points, n_bandits, device=device, dtype=torch.float32)
    # each arm's pulls at the last trace point (the kernel's scratch; none when not tracing)
    since = torch.zeros(n_bandits if n_points else 0, n_arms, device=device, dtype=torch.int32)
    policy = batch.rule.policy != "gradient"
    final_probs = torch.empty(n_bandits, n_arms if policy else 0, device=device, dtype=torch.float32)
    if n_bandits > 0 and policy:
        k_pad = triton.next_power_of_2(n_arms)
        block, num_warps = launch_config(n_bandits, k_pad, interpreted=MODE == "interpreted")
        with torch.cuda.device(device) if device.type == "cuda" else contextlib.nullcontext():
            policy_kernel[(triton.cdiv(n_bandits, block),)](
                f32(batch.arm_param), f32(batch.arm_gap), batch.best_arm.contiguous(), per_bandit_table(batch),
                batch.bandit_ids.contiguous(), weights, episode_rewards, episode_p_best, episode_regret,
                episode_reward, episode_optimal, final_probs, n_bandits, _as_int32(seed & 0xFFFFFFFF),
                _as_int32(seed >> 32), n_episodes, steps_per_episode, n_recorded,
                **policy_constants(batch.rule, n_arms, block), num_warps=num_warps,
            )  # fmt: skip
    elif n_bandits > 0:
        k_pad = triton.next_power_of_2(n_arms)
        block, num_warps = launch_config(n_bandits, k_pad, interpreted=MODE == "interpreted")
        with torch.cuda.device(device) if device.type == "cuda" else contextlib.nullcontext():
            bandit_kernel[(triton.cdiv(n_bandits, block),)](
                f32(batch.arm_param),
                f32(batch.arm_gap),
                f32(batch.init_weights),
                batch.best_arm.contiguous(),
                per_bandit_table(batch),
                batch.bandit_ids.contiguous(),
                weights,
                episode_rewards,
                episode_p_best,
                episode_regret,
                episode_reward,
                episode_optimal,
                words,
                since,
                n_bandits,
                _as_int32(seed & 0xFFFFFFFF),
                _as_int32(seed >> 32),
                n_episodes,
                steps_per_episode,
                n_recorded,
                record_every or 0,
                n_points,
                **constants(batch.rule, n_arms, block, trace=record_every is not None),
                num_warps=num_warps,
            )
    if on_progress is not None:
        on_progress(n_bandits * n_episodes * steps_per_episode)
    trace = {name: convert(plane).T for (name, convert), plane in zip(TRACE_WORDS.items(), words)}  # (B, R) views
    return Outcome(weights, episode_rewards, episode_p_best, episode_regret, episode_reward, episode_optimal, **trace,
                   final_probs=final_probs)  # fmt: skip


# Outcome's trace fields from the kernel's planes of 32-bit words (float32 bits), in the kernel's order
TRACE_WORDS = {
    "trace_p_best": lambda plane: plane,
    "trace_regret": lambda plane: plane,
    "trace_reward": lambda plane: plane,
    "trace_optimal": lambda plane: plane.view(torch.int32),
    "trace_success": lambda plane: plane.view(torch.int32) != 0,
}


def per_bandit_table(batch: Batch) -> torch.Tensor:
    """The kernel's (len(PER_BANDIT), B) float32 table of per-bandit numbers, rounded once."""
    rows = [getattr(batch.hyper, name) for name in PER_BANDIT]
    return torch.stack([row.to(torch.float32) for row in rows])


def constants(rule: Rule, n_arms: int, block: int, trace: bool = False) -> dict:
    """The kernel's compile-time constants for ``rule``, ``n_arms`` arms and ``block`` bandits a program
    (``trace``: the kernel that also traces every record_every steps)."""
    k_pad = triton.next_power_of_2(n_arms)
    in_registers = k_pad <= ARMS_IN_REGISTERS
    return dict(RULE=rule_constants(rule), N_ARMS=n_arms, K_PAD=k_pad, BLOCK=block, PARAM_IN_REGISTERS=in_registers,
                TRACE=trace)  # fmt: skip


def policy_constants(rule: Rule, n_arms: int, block: int) -> dict:
    """policy_kernel's compile-time constants for ``rule`` (not the gradient policy's), ``n_arms`` and ``block``."""
    schema.choice_index("policy", rule.policy)
    schema.choice_index("rewards", rule.rewards)
    return dict(POLICY=rule.policy, GAUSSIAN=rule.rewards == "gaussian", HAS_STEP_SIZE=bool(rule.step_size),
                N_ARMS=n_arms, K_PAD=triton.next_power_of_2(n_arms), BLOCK=block,
                N_DRAWS=thompson.P_BEST_DRAWS)  # fmt: skip


def launch_config(n_bandits: int, k_pad: int, *, interpreted: bool) -> tuple[int, int]:
    """(bandits per program, warps per program) for ``k_pad`` (a power of two) arms.

    Compiled: one bandit per thread, BLOCK = 32 * num_warps, so that Triton's default layout of
    the (K_PAD, BLOCK) tile keeps each arm column in one thread. Interpreted: one big program
    (numpy vectorises over it; the interpreter runs programs one after another).
    """
    if interpreted:
        return min(triton.next_power_of_2(n_bandits), INTERPRETED_BLOCK), 1
    return 32 * COMPILED_WARPS, COMPILED_WARPS


def _as_int32(word: int) -> int:
    """A 32-bit word as the signed int32 with the same bits."""
    return word - 2**32 if word >= 2**31 else word


def _build_mode() -> str | None:
    """How triton.jit built the kernel and triton.language: "compiled" or "interpreted" (both read
    TRITON_INTERPRET when decorating), "mixed" if the variable changed in between; None: no triton."""
    if triton is None:
        return None
    from triton.runtime.interpreter import InterpretedFunction

    kernel, language = (isinstance(f, InterpretedFunction) for f in (bandit_kernel, tl.zeros_like))
    if kernel != language:
        return "mixed"
    return "interpreted" if kernel else "compiled"


MODE = _build_mode()
