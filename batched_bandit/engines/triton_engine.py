"""The fused GPU engine: every episode and step of a block of bandits in one Triton kernel.

One launch per chunk. Each program owns ``BLOCK`` bandits; their weights and the episode's
per-arm sums stay in registers for the whole time loop as a ``(K_PAD, BLOCK)`` tile, arm axis
first. Triton's default layout spreads the last axis over lanes and warps first, so with
``BLOCK = 32 * num_warps`` a bandit's whole arm column lives in one thread: max, cumsum and sums
over arms are in-thread register ops. Memory is read and written one (BLOCK,) arm column at a
time (a 2D access would let the compiler pick a coalesced layout that spreads arms over lanes),
once per episode (per-arm sums, P(best)) and at the end (weights). win_prob[arm] comes from
registers up to 16 padded arms, from memory (L1) above. Arms are padded to a power of two with
weight -inf: probability 0, never drawn, never counted.

The random stream and the step are rng.py's and torch_engine._step's: Philox4x32-10, key = seed,
counter = (t // 2, g); one call feeds steps t = 2p (words 0, 1) and 2p + 1 (words 2, 3). An
episode that starts or ends in the middle of a pair (odd ``steps_per_episode``) computes that
pair's Philox once more: at most 2 extra calls per bandit and episode.

Work per bandit-step, K arms: SASS of the inner loop (one Philox call, two steps) for sm_90,
compiled without a GPU by triton 3.6 (``triton.compile(..., target=GPUTarget("cuda", 90, 32))``):

    K               2    3    4    8   16   32   64
    instr / step   75   96  110  180  330  540  1160 (incl. 150 spill loads/stores)
    registers      32   37   44   64  127  238  255 + 328 B stack

  about 40 per step + 17.5 per arm; no shuffles, no shared memory, no barriers.
  per step: Philox, 5 rounds (10 per 2 steps) of 2 IMAD.HI + 2 IMAD + 2 LOP3, key schedule in
            uniform registers: ~28; 2 uniforms (shift, I2FP, FMUL); 1 division (lr r / T / total,
            div.full.f32: MUFU.RCP + a few FFMA); loop control.
  per arm (K = 2 vs 4): 1 MUFU.EX2 (ex2.approx.ftz), 1 FMUL, 1 FMNMX, 3 FADD, 2 FFMA, 2 FSEL,
            1 FSETP, 2 ISETP, 2 IADD3, 1.5 SEL: softmax, cumsum, draw count, win_prob[arm],
            sums, update.
  MUFU:     K + 1 per step (K EX2, 1 RCP).
  An H100 SXM issues 132 SMs x 4 warp-instructions x ~1.75 GHz = ~3e13 thread-instructions/s and
  132 x 16 MUFU x 1.75 GHz = ~3.7e12 MUFU/s: for K = 4 ~2.7e11 bandit-steps/s issue-bound,
  7e11 MUFU-bound. Not measured here (no GPU where this was written).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable

import torch

from ..state import Batch, Outcome, Rule

try:
    import triton
    import triton.language as tl
except ImportError:  # the engine reports itself unavailable
    triton = tl = None

INSTALL_HINT = "pip install 'batched_bandit[gpu]'"
COMPILED_WARPS = 4  # warps per program when compiled; one bandit per thread
ARMS_IN_REGISTERS = 16  # above this many (padded) arms, win_prob[arm] is read from memory each step
INTERPRETED_BLOCK = 1024  # the interpreter runs programs one after another: few, big ones


def _jit(**options):
    """triton.jit, or the bare function when triton is missing (the module still imports)."""
    return (lambda fn: fn) if triton is None else triton.jit(**options)


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


def unsupported_reason(rule: Rule) -> str | None:
    if not rule.is_seed:
        return f"the Triton engine does not run this rule yet ({rule})"
    return None


def simulate(
    batch: Batch,
    *,
    seed: int,
    n_episodes: int,
    steps_per_episode: int,
    record_episodes: bool = True,
    on_progress: Callable[[int], None] | None = None,
    dtype: torch.dtype = torch.float32,
) -> Outcome:
    """Train every bandit of ``batch`` for ``n_episodes * steps_per_episode`` steps, in one launch.

    ``on_progress(n)`` is called once, after the kernel, with all ``n`` bandit-steps. float32 only.
    """
    device = batch.arm_param.device
    reason = unavailable_reason(device)
    if reason is not None:
        raise ValueError(reason)
    if dtype != torch.float32:
        raise ValueError(f"backend 'triton' supports dtype torch.float32 only, got {dtype}")
    n_bandits, n_arms = batch.n_bandits, batch.n_arms
    n_recorded = n_episodes if record_episodes else 1
    weights = torch.empty(n_bandits, n_arms, device=device, dtype=torch.float32)
    episode_rewards = torch.empty(n_bandits, n_recorded, n_arms, device=device, dtype=torch.int32)
    episode_p_best = torch.empty(n_bandits, n_episodes, device=device, dtype=torch.float32)
    episode_regret = torch.empty(n_bandits, n_episodes, device=device, dtype=torch.float32)
    f32 = lambda t: t.to(torch.float32).contiguous()  # noqa: E731
    if n_bandits > 0:
        k_pad = triton.next_power_of_2(n_arms)
        block, num_warps = launch_config(n_bandits, k_pad, interpreted=MODE == "interpreted")
        with torch.cuda.device(device) if device.type == "cuda" else contextlib.nullcontext():
            _bandit_kernel[(triton.cdiv(n_bandits, block),)](
                f32(batch.arm_param),
                f32(batch.arm_gap),
                batch.best_arm.contiguous(),
                f32(batch.inv_temperature),
                f32(batch.hyper.lr),
                batch.bandit_ids.contiguous(),
                weights,
                episode_rewards,
                episode_p_best,
                episode_regret,
                n_bandits,
                _as_int32(seed & 0xFFFFFFFF),
                _as_int32(seed >> 32),
                n_episodes,
                steps_per_episode,
                n_recorded,
                N_ARMS=n_arms,
                K_PAD=k_pad,
                BLOCK=block,
                WIN_PROB_IN_REGISTERS=k_pad <= ARMS_IN_REGISTERS,
                num_warps=num_warps,
            )
    if on_progress is not None:
        on_progress(n_bandits * n_episodes * steps_per_episode)
    return Outcome(weights, episode_rewards.float(), episode_p_best, episode_regret)


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


# --- the kernel ---------------------------------------------------------------------------------


@_jit()
def _uniform(word):
    """uint32 words -> float32 uniforms on the grid {0, 2**-24, ..., 1 - 2**-24} (rng.to_uniform)."""
    return (word >> 8).to(tl.float32) * 5.9604644775390625e-08


@_jit()
def _philox4x32_10(c0, c1, c2, c3, k0, k1):
    """rng.philox4x32 on uint32 tensors: counter (c0, c1, c2, c3), key (k0, k1). Returns 4 words.

    Written out rather than tl.philox, which is decorated when triton is imported and so cannot
    run under the interpreter unless TRITON_INTERPRET was set before that import.
    """
    for _ in tl.static_range(10):
        prev0, prev2 = c0, c2
        c0 = tl.umulhi(prev2, 0xCD9E8D57) ^ c1 ^ k0
        c2 = tl.umulhi(prev0, 0xD2511F53) ^ c3 ^ k1
        c1 = prev2 * 0xCD9E8D57
        c3 = prev0 * 0xD2511F53
        k0 = k0 + 0x9E3779B9
        k1 = k1 + 0xBB67AE85
    return c0, c1, c2, c3


@_jit()
def _pair_uniforms(key_lo, key_hi, pair, g_lo, g_hi):
    """The four uniforms of Philox pair ``pair`` (int64 scalar) for bandits (g_hi, g_lo): (BLOCK,) each."""
    pair_lo = tl.zeros_like(g_lo) + (pair & 0xFFFFFFFF).to(tl.uint32)
    pair_hi = tl.zeros_like(g_lo) + (pair >> 32).to(tl.uint32)
    w0, w1, w2, w3 = _philox4x32_10(pair_lo, pair_hi, g_lo, g_hi, key_lo, key_hi)
    return _uniform(w0), _uniform(w1), _uniform(w2), _uniform(w3)


@_jit()
def _softmax_terms(weights, log2_scale, K_PAD: tl.constexpr):
    """exp(w / T - max), its in-order cumulative sums and their last entry (the total).

    weights: (K_PAD, BLOCK); log2_scale: (BLOCK,) = log2(e) / T. Returns (K_PAD, BLOCK) x 2, (BLOCK,).
    """
    z = weights * log2_scale[None, :]
    e = tl.exp2(z - tl.max(z, axis=0)[None, :])
    cdf = tl.cumsum(e, axis=0)
    last = tl.arange(0, K_PAD)[:, None] == K_PAD - 1
    return e, cdf, tl.sum(tl.where(last, cdf, 0.0), axis=0)


@_jit()
def _step(
    weights,
    sums,
    pulls,
    u_arm,
    u_reward,
    win_prob,
    log2_scale,
    step_size,
    N_ARMS: tl.constexpr,
    K_PAD: tl.constexpr,
    WIN_PROB_IN_REGISTERS: tl.constexpr,
):
    """One step of torch_engine's loop for a (K_PAD, BLOCK) tile; returns (weights, sums, pulls).

    win_prob: (K_PAD, BLOCK) values, or (BLOCK,) pointers to the bandits' rows; log2_scale,
    step_size: (BLOCK,) log2(e) / T and lr / T; u_arm, u_reward: (BLOCK,) this step's uniforms.
    """
    arm_index = tl.arange(0, K_PAD)[:, None]
    e, cdf, total = _softmax_terms(weights, log2_scale, K_PAD)
    # policy.sample_arm: the first arm k with u * total < cdf[k]; the last real arm otherwise
    below = (cdf <= (u_arm * total)[None, :]) & (arm_index < N_ARMS - 1)
    arm = tl.sum(below.to(tl.int32), axis=0)
    chosen = arm_index == arm[None, :]
    if WIN_PROB_IN_REGISTERS:
        win = u_reward < tl.sum(tl.where(chosen, win_prob, 0.0), axis=0)
    else:
        win = u_reward < tl.load(win_prob + arm)
    sums += tl.where(chosen, tl.where(win, 1, -1)[None, :], 0)
    pulls += chosen.to(tl.int32)
    # policy.sgd_step: w += (lr r / T) (onehot(arm) - e / total); r = +-1 flips the sign exactly
    scale = tl.where(win, step_size, -step_size) / total
    weights = weights + scale[None, :] * tl.where(chosen, total[None, :] - e, -e)
    return weights, sums, pulls


@_jit(do_not_specialize=["n_bandits", "key_lo", "key_hi", "n_episodes", "steps_per_episode", "n_recorded"])
def _bandit_kernel(
    win_prob_ptr,  # (B, N_ARMS) float32
    gap_ptr,  # (B, N_ARMS) float32: regret of a pull of each arm
    best_arm_ptr,  # (B,) int64
    inv_temperature_ptr,  # (B,) float32
    lr_ptr,  # (B,) float32
    bandit_ids_ptr,  # (B,) int64: g in the random stream
    weights_ptr,  # out (B, N_ARMS) float32
    episode_rewards_ptr,  # out (B, n_recorded, N_ARMS) int32
    episode_p_best_ptr,  # out (B, n_episodes) float32
    episode_regret_ptr,  # out (B, n_episodes) float32
    n_bandits,
    key_lo,  # the seed's low and high 32 bits, as int32 (one type: one compiled kernel)
    key_hi,
    n_episodes,
    steps_per_episode,
    n_recorded,  # n_episodes, or 1: every episode overwrites slot 0 and the last one stays
    N_ARMS: tl.constexpr,
    K_PAD: tl.constexpr,
    BLOCK: tl.constexpr,
    WIN_PROB_IN_REGISTERS: tl.constexpr,
):
    bandit = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)  # (BLOCK,)
    live = bandit < n_bandits
    row = bandit.to(tl.int64)  # 64-bit offsets: B * E * K may pass 2**31
    arm_index = tl.arange(0, K_PAD)[:, None]  # (K_PAD, 1)
    # Memory is read and written one arm column (BLOCK,) at a time: a 2D load or store would let
    # the compiler pick its coalesced layout for the tile, which spreads arms over lanes.
    if WIN_PROB_IN_REGISTERS:
        win_prob = tl.zeros((K_PAD, BLOCK), tl.float32)
        for k in tl.static_range(N_ARMS):
            column = tl.load(win_prob_ptr + row * N_ARMS + k, mask=live, other=0.0)
            win_prob = tl.where(arm_index == k, column[None, :], win_prob)
    else:  # many arms: gather win_prob[arm] from memory (L1) each step, K registers fewer
        win_prob = win_prob_ptr + tl.where(live, row, 0) * N_ARMS  # (BLOCK,) row pointers, in bounds
    gap = tl.zeros((K_PAD, BLOCK), tl.float32)
    for k in tl.static_range(N_ARMS):
        column = tl.load(gap_ptr + row * N_ARMS + k, mask=live, other=0.0)
        gap = tl.where(arm_index == k, column[None, :], gap)
    inv_t = tl.load(inv_temperature_ptr + bandit, mask=live, other=1.0)
    step_size = inv_t * tl.load(lr_ptr + bandit, mask=live, other=0.0)
    log2_scale = inv_t * 1.4426950408889634  # exp(x / T) = exp2(x log2(e) / T)
    best = tl.load(best_arm_ptr + bandit, mask=live, other=0).to(tl.int32)
    key_lo = key_lo.to(tl.uint32, bitcast=True)
    key_hi = key_hi.to(tl.uint32, bitcast=True)
    g = tl.load(bandit_ids_ptr + bandit, mask=live, other=0)
    g_lo = (g & 0xFFFFFFFF).to(tl.uint32)
    g_hi = (g >> 32).to(tl.uint32)
    weights = tl.where(arm_index < N_ARMS, 0.0, float("-inf")) + tl.zeros((K_PAD, BLOCK), tl.float32)

    # while loops, not range(): the interpreter cannot index with its scalars under numpy >= 2.4
    episode = n_episodes * 0
    while episode < n_episodes:
        t0 = episode.to(tl.int64) * steps_per_episode  # global step t of the episode's first step
        sums = tl.zeros((K_PAD, BLOCK), tl.int32)
        pulls = tl.zeros((K_PAD, BLOCK), tl.int32)
        head = (t0 & 1).to(tl.int32)  # 1: the episode starts on the second half of a pair
        if head == 1:
            _, _, u_arm, u_reward = _pair_uniforms(key_lo, key_hi, t0 // 2, g_lo, g_hi)
            weights, sums, pulls = _step(
                weights,
                sums,
                pulls,
                u_arm,
                u_reward,
                win_prob,
                log2_scale,
                step_size,
                N_ARMS,
                K_PAD,
                WIN_PROB_IN_REGISTERS,
            )
        first_pair = (t0 + head) // 2
        n_pairs = (steps_per_episode - head) // 2
        i = n_pairs * 0
        while i < n_pairs:
            u0, u1, u2, u3 = _pair_uniforms(key_lo, key_hi, first_pair + i, g_lo, g_hi)
            weights, sums, pulls = _step(
                weights, sums, pulls, u0, u1, win_prob, log2_scale, step_size, N_ARMS, K_PAD, WIN_PROB_IN_REGISTERS
            )
            weights, sums, pulls = _step(
                weights, sums, pulls, u2, u3, win_prob, log2_scale, step_size, N_ARMS, K_PAD, WIN_PROB_IN_REGISTERS
            )
            i += 1
        if (steps_per_episode - head) % 2 == 1:  # ends on the first half of a pair
            u_arm, u_reward, _, _ = _pair_uniforms(key_lo, key_hi, first_pair + n_pairs, g_lo, g_hi)
            weights, sums, pulls = _step(
                weights,
                sums,
                pulls,
                u_arm,
                u_reward,
                win_prob,
                log2_scale,
                step_size,
                N_ARMS,
                K_PAD,
                WIN_PROB_IN_REGISTERS,
            )

        regret = tl.sum(pulls.to(tl.float32) * gap, axis=0)  # pulls x regret per pull, summed over arms
        tl.store(episode_regret_ptr + row * n_episodes + episode, regret, mask=live)
        e, _, total = _softmax_terms(weights, log2_scale, K_PAD)
        p_best = tl.sum(tl.where(arm_index == best[None, :], e, 0.0), axis=0) / total
        tl.store(episode_p_best_ptr + row * n_episodes + episode, p_best, mask=live)
        slot = tl.minimum(episode, n_recorded - 1)
        for k in tl.static_range(N_ARMS):
            arm_sums = tl.sum(tl.where(arm_index == k, sums, 0), axis=0)
            tl.store(episode_rewards_ptr + (row * n_recorded + slot) * N_ARMS + k, arm_sums, mask=live)
        episode += 1

    for k in tl.static_range(N_ARMS):
        tl.store(weights_ptr + row * N_ARMS + k, tl.sum(tl.where(arm_index == k, weights, 0.0), axis=0), mask=live)


def _build_mode() -> str | None:
    """How triton.jit built the kernel and triton.language: "compiled" or "interpreted" (both read
    TRITON_INTERPRET when decorating), "mixed" if the variable changed in between; None: no triton."""
    if triton is None:
        return None
    from triton.runtime.interpreter import InterpretedFunction

    kernel, language = (isinstance(f, InterpretedFunction) for f in (_bandit_kernel, tl.zeros_like))
    if kernel != language:
        return "mixed"
    return "interpreted" if kernel else "compiled"


MODE = _build_mode()
