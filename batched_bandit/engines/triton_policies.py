"""The fused GPU kernel of the field's baselines: ε-greedy, greedy, UCB (policies/value.py) and Thompson
sampling (policies/thompson.py); ``policy_kernel``, launched by triton_engine.py.

The layout is bandit_kernel's (triton_kernel.py): each program owns ``BLOCK`` bandits as ``(K_PAD,
BLOCK)`` tiles, arm axis first, a bandit's arm column in one thread; the problem, the per-bandit
numbers, the Philox stream and the reward draws are that kernel's functions. Arms are padded to a
power of two with score -inf: never a maximum, never pulled.

The steps are the portable engine's, operation for operation: scores (Q; UCB's Q + c sqrt(ln(t + 1) /
N), untried arms +inf; Thompson's posterior samples), the maxima, the tie-break (the floor(u m)-th of
the m maxima in arm order, u the step's tie word), ε-greedy's coin and uniform arm, the reward, then
N += 1 and Q += (r - Q) / N or α (r - Q), or Thompson's counts. Divisions and square roots are IEEE
(div_rn, sqrt_rn), the logs of UCB and of the gammas' acceptance test float64, rounded once, as the
portable engine takes them; on a GPU, mul + add may still fuse into FMA, and the normal deviates are
bandit_kernel's (float32 log), so a rounding may move a near-tie. Interpreted, the arithmetic is numpy's.
Random numbers: the step's reward word is the gradient policy's (common random numbers); the policy
words come from Philox of (t, POLICY_TAG | t >> 32, g), Thompson's from (t, THOMPSON_TAG | draw << 20 |
attempt << 8 | arm, g) (rng.py). P(best) and the final probabilities are the policy's (value: an equal
share of the maxima, plus ε / K; Thompson: the share of P_BEST_DRAWS posterior draws), in float64.
"""

from __future__ import annotations

from ..rng import POLICY_TAG, THOMPSON_ATTEMPTS, THOMPSON_TAG
from .triton_kernel import (
    PER_BANDIT,
    columns,
    constexpr,
    jit,
    normal,
    pair_draws,
    per_bandit,
    philox4x32_10,
    store_columns,
    tl,
    uniform,
)

WIN, LOSS, REWARD_SD, EPSILON, INITIAL_VALUE, STEP_SIZE, UCB_C, PRIOR_MEAN, PRIOR_SD = (
    constexpr(PER_BANDIT.index(name))
    for name in ("win", "loss", "reward_sd", "epsilon", "initial_value", "step_size", "ucb_c", "prior_mean",
                 "prior_sd")
)  # fmt: skip
ATTEMPTS = constexpr(THOMPSON_ATTEMPTS)
TAG_POLICY = constexpr(POLICY_TAG)
TAG_THOMPSON = constexpr(THOMPSON_TAG)


@jit()
def _policy_words(t, g_lo, g_hi, key_lo, key_hi):
    """The step's policy words as uniforms, (BLOCK,) each: the coin, the uniform arm, the tie word."""
    c0 = tl.zeros_like(g_lo) + (t & 0xFFFFFFFF).to(tl.uint32)
    c1 = tl.zeros_like(g_lo) + (t >> 32).to(tl.uint32) + TAG_POLICY
    w0, w1, w2, _ = philox4x32_10(c0, c1, g_lo, g_hi, key_lo, key_hi)
    return uniform(w0), uniform(w1), uniform(w2)


@jit()
def _thompson_words(t, draw, attempt, g_lo, g_hi, key_lo, key_hi, K_PAD: tl.constexpr):
    """Thompson's four words of every arm, (K_PAD, BLOCK) each (rng.thompson_words)."""
    arm = tl.arange(0, K_PAD)[:, None].to(tl.uint32)
    zero = tl.zeros((K_PAD, g_lo.shape[0]), tl.uint32)
    c0 = zero + (t & 0xFFFFFFFF).to(tl.uint32)
    c1 = zero + (arm | (draw.to(tl.uint32) << 20) | (attempt.to(tl.uint32) << 8)) + TAG_THOMPSON
    return philox4x32_10(c0, c1, zero + g_lo[None, :], zero + g_hi[None, :], key_lo, key_hi)


@jit()
def _log(x):
    """log, correctly rounded to float32: taken in float64 (thompson.py's _log)."""
    return tl.log(x.to(tl.float64)).to(tl.float32)


@jit()
def _gamma_attempt(d, c, z_word, u_word):
    """One Marsaglia-Tsang attempt for Gamma(shape), d = shape - 1/3, c = 1 / sqrt(9 d): (accepted, value)."""
    z = normal(z_word)
    u = uniform(u_word)
    v = 1.0 + c * z
    v = v * v * v
    positive = v > 0.0
    log_v = _log(tl.where(positive, v, 1.0))
    log_u = tl.where(u > 0.0, _log(tl.where(u > 0.0, u, 1.0)), float("-inf"))  # log 0 = -inf, without numpy's warning
    accepted = positive & (log_u < (((0.5 * z) * z + d) - d * v) + d * log_v)
    return accepted, d * v


@jit()
def _posterior_samples(state, t, draw, hyper, g_lo, g_hi, key_lo, key_hi, GAUSSIAN: tl.constexpr,
                       K_PAD: tl.constexpr):  # fmt: skip
    """Every arm's posterior sample of step t's draw ``draw``, (K_PAD, BLOCK) (thompson.sample)."""
    q, n, losses = state
    if GAUSSIAN:  # the normal posterior: mean + z / sqrt(precision)
        prior_precision = tl.div_rn(tl.zeros_like(hyper[PRIOR_SD]) + 1.0, hyper[PRIOR_SD] * hyper[PRIOR_SD])
        noise_precision = tl.div_rn(tl.zeros_like(hyper[REWARD_SD]) + 1.0, hyper[REWARD_SD] * hyper[REWARD_SD])
        precision = prior_precision[None, :] + n.to(tl.float32) * noise_precision[None, :]
        mean = tl.div_rn((hyper[PRIOR_MEAN] * prior_precision)[None, :] + q * noise_precision[None, :], precision)
        w0, _, _, _ = _thompson_words(t, draw, draw * 0, g_lo, g_hi, key_lo, key_hi, K_PAD)
        return mean + tl.div_rn(normal(w0), tl.sqrt_rn(precision))
    # Beta(1 + wins, 1 + losses): X / (X + Y), each gamma's first accepted attempt
    third = 0.3333333432674408  # float32(1 / 3)
    d_x = (n.to(tl.float32) + 1.0) - third
    d_y = (losses.to(tl.float32) + 1.0) - third
    c_x = tl.div_rn(tl.zeros_like(d_x) + 1.0, tl.sqrt_rn(9.0 * d_x))
    c_y = tl.div_rn(tl.zeros_like(d_y) + 1.0, tl.sqrt_rn(9.0 * d_y))
    x = tl.zeros_like(d_x)
    y = tl.zeros_like(d_y)
    done_x = x != x  # all False
    done_y = y != y
    attempt = draw * 0
    pending = attempt + 1
    while pending > 0:
        w0, w1, w2, w3 = _thompson_words(t, draw, attempt, g_lo, g_hi, key_lo, key_hi, K_PAD)
        ok_x, value_x = _gamma_attempt(d_x, c_x, w0, w1)
        ok_y, value_y = _gamma_attempt(d_y, c_y, w2, w3)
        x = tl.where(ok_x & ~done_x, value_x, x)
        y = tl.where(ok_y & ~done_y, value_y, y)
        done_x = done_x | ok_x
        done_y = done_y | ok_y
        attempt += 1
        pending = tl.sum((~(done_x & done_y)).to(tl.int32)) * (attempt < ATTEMPTS).to(tl.int32)
    return tl.div_rn(x, x + y)


@jit()
def _scores(state, t, draw, hyper, g_lo, g_hi, key_lo, key_hi, POLICY: tl.constexpr, GAUSSIAN: tl.constexpr,
            N_ARMS: tl.constexpr, K_PAD: tl.constexpr):  # fmt: skip
    """What the greedy choice maximises at step t (value.scores, thompson.sample), padded arms -inf."""
    q, n, losses = state
    if POLICY == "thompson":
        score = _posterior_samples(state, t, draw, hyper, g_lo, g_hi, key_lo, key_hi, GAUSSIAN, K_PAD)
    elif POLICY == "ucb":
        log_t = tl.log((t + 1).to(tl.float64)).to(tl.float32)  # ln t, t = 1, 2, ...
        tried = tl.maximum(n, 1).to(tl.float32)  # the same where n > 0; untried arms are +inf below
        bonus = hyper[UCB_C][None, :] * tl.sqrt_rn(tl.div_rn(tl.zeros_like(q) + log_t, tried))
        score = tl.where(n == 0, float("inf"), q + bonus)
    else:
        score = q
    return tl.where(tl.arange(0, K_PAD)[:, None] < N_ARMS, score, float("-inf"))


@jit()
def _maxima(score):
    """The maxima of each column: (top (K_PAD, BLOCK) bool, their count (BLOCK,) int32)."""
    top = score == tl.max(score, axis=0)[None, :]
    return top, tl.sum(top.to(tl.int32), axis=0)


@jit()
def _choose(state, t, hyper, g_lo, g_hi, key_lo, key_hi, POLICY: tl.constexpr, GAUSSIAN: tl.constexpr,
            N_ARMS: tl.constexpr, K_PAD: tl.constexpr):  # fmt: skip
    """The arm of step t, (BLOCK,) int32 (value.choose, thompson.choose)."""
    top, count = _maxima(_scores(state, t, t.to(tl.int32) * 0, hyper, g_lo, g_hi, key_lo, key_hi, POLICY, GAUSSIAN,
                                 N_ARMS, K_PAD))  # fmt: skip
    coin, u_arm, tie = _policy_words(t, g_lo, g_hi, key_lo, key_hi)
    index = tl.minimum((tie * count.to(tl.float32)).to(tl.int32), count - 1)  # value.break_tie
    rank = tl.cumsum(top.to(tl.int32), axis=0) - 1
    chosen = top & (rank == index[None, :])
    arm = tl.sum(tl.where(chosen, tl.arange(0, K_PAD)[:, None], 0), axis=0)
    if POLICY == "epsilon_greedy":
        uniform_arm = tl.minimum((u_arm * N_ARMS).to(tl.int32), N_ARMS - 1)
        arm = tl.where(coin < hyper[EPSILON], uniform_arm, arm)
    return arm


@jit()
def _step(state, tally, t, draw, param, hyper, g_lo, g_hi, key_lo, key_hi, POLICY: tl.constexpr,
          GAUSSIAN: tl.constexpr, HAS_STEP_SIZE: tl.constexpr, N_ARMS: tl.constexpr, K_PAD: tl.constexpr):  # fmt: skip
    """Step t of torch_engine's loop for a tile of bandits: choose, reward, learn. state: (Q or
    Thompson's reward sums, pulls or wins, losses); tally: the episode's (sums, pulls)."""
    q, n, losses = state
    sums, pulls = tally
    arm = _choose(state, t, hyper, g_lo, g_hi, key_lo, key_hi, POLICY, GAUSSIAN, N_ARMS, K_PAD)
    chosen = tl.arange(0, K_PAD)[:, None] == arm[None, :]
    arm_param = tl.sum(tl.where(chosen, param, 0.0), axis=0)
    # problem.gaussian_reward, problem.draw_reward
    reward = arm_param + hyper[REWARD_SD] * draw if GAUSSIAN else tl.where(draw < arm_param, hyper[WIN], hyper[LOSS])
    sums = tl.where(chosen, sums + reward[None, :], sums)
    pulls += chosen.to(tl.int32)
    if POLICY == "thompson":
        if GAUSSIAN:
            n += chosen.to(tl.int32)
            q = tl.where(chosen, q + reward[None, :], q)
        else:
            won = (reward == hyper[WIN])[None, :]
            n += (chosen & won).to(tl.int32)
            losses += (chosen & ~won).to(tl.int32)
    else:
        n += chosen.to(tl.int32)
        if HAS_STEP_SIZE:
            updated = q + hyper[STEP_SIZE][None, :] * (reward[None, :] - q)
        else:
            updated = q + tl.div_rn(reward[None, :] - q, tl.maximum(n, 1).to(tl.float32))  # n >= 1 where chosen
        q = tl.where(chosen, updated, q)
    return (q, n, losses), (sums, pulls)


@jit()
def _probabilities(state, t, hyper, g_lo, g_hi, key_lo, key_hi, POLICY: tl.constexpr, GAUSSIAN: tl.constexpr,
                   N_ARMS: tl.constexpr, K_PAD: tl.constexpr, N_DRAWS: tl.constexpr):  # fmt: skip
    """P(step t pulls each arm), (K_PAD, BLOCK) float64 (value.probabilities, thompson.probabilities)."""
    if POLICY == "thompson":
        total = tl.zeros((K_PAD, g_lo.shape[0]), tl.float64)
        draw = t.to(tl.int32) * 0 + 1
        while draw <= N_DRAWS:
            top, count = _maxima(_scores(state, t, draw, hyper, g_lo, g_hi, key_lo, key_hi, POLICY, GAUSSIAN, N_ARMS,
                                         K_PAD))  # fmt: skip
            total += top.to(tl.float64) / count.to(tl.float64)[None, :]
            draw += 1
        return total / N_DRAWS
    top, count = _maxima(_scores(state, t, t.to(tl.int32) * 0, hyper, g_lo, g_hi, key_lo, key_hi, POLICY, GAUSSIAN,
                                 N_ARMS, K_PAD))  # fmt: skip
    share = top.to(tl.float64) / count.to(tl.float64)[None, :]
    if POLICY == "epsilon_greedy":
        epsilon = hyper[EPSILON].to(tl.float64)[None, :]
        share = (1.0 - epsilon) * share + epsilon / N_ARMS
    return share


@jit(do_not_specialize=["n_bandits", "key_lo", "key_hi", "n_episodes", "steps_per_episode", "n_recorded"])
def policy_kernel(
    arm_param_ptr,  # (B, N_ARMS) float32: P(win) per arm (binary rewards) or the mean (Gaussian)
    arm_gap_ptr,  # (B, N_ARMS) float32: regret of a pull of each arm
    best_arm_ptr,  # (B,) int64
    per_bandit_ptr,  # (len(PER_BANDIT), B) float32
    bandit_ids_ptr,  # (B,) int64: g in the random stream
    weights_ptr,  # out (B, N_ARMS) float32: the estimates (torch_engine.estimates)
    episode_rewards_ptr,  # out (B, n_recorded, N_ARMS) float32
    episode_p_best_ptr,  # out (B, n_episodes) float32
    episode_regret_ptr,  # out (B, n_episodes) float32
    episode_reward_ptr,  # out (B, n_episodes) float32
    episode_optimal_ptr,  # out (B, n_episodes) int32
    final_probs_ptr,  # out (B, N_ARMS) float32: P(each arm) at the next step
    n_bandits,
    key_lo,  # the seed's low and high 32 bits, as int32
    key_hi,
    n_episodes,
    steps_per_episode,
    n_recorded,  # n_episodes, or 1: every episode overwrites slot 0 and the last one stays
    POLICY: tl.constexpr,  # "epsilon_greedy", "greedy", "ucb" or "thompson"
    GAUSSIAN: tl.constexpr,
    HAS_STEP_SIZE: tl.constexpr,  # Rule.step_size: constant steps
    N_ARMS: tl.constexpr,
    K_PAD: tl.constexpr,
    BLOCK: tl.constexpr,
    N_DRAWS: tl.constexpr,  # Thompson sampling's posterior draws for P(best) (thompson.P_BEST_DRAWS)
):
    bandit = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)  # (BLOCK,)
    live = bandit < n_bandits
    row = bandit.to(tl.int64) * N_ARMS
    arm_index = tl.arange(0, K_PAD)[:, None]
    param = columns(arm_param_ptr, row, live, 0.0, N_ARMS, K_PAD)
    gap = columns(arm_gap_ptr, row, live, 0.0, N_ARMS, K_PAD)
    hyper = per_bandit(per_bandit_ptr, n_bandits, bandit, live)
    best = tl.load(best_arm_ptr + bandit, mask=live, other=0).to(tl.int32)
    key_lo = key_lo.to(tl.uint32, bitcast=True)
    key_hi = key_hi.to(tl.uint32, bitcast=True)
    g = tl.load(bandit_ids_ptr + bandit, mask=live, other=0)
    g_lo = (g & 0xFFFFFFFF).to(tl.uint32)
    g_hi = (g >> 32).to(tl.uint32)
    counts = tl.zeros((K_PAD, BLOCK), tl.int32)
    initial = tl.zeros_like(hyper[INITIAL_VALUE]) if POLICY == "thompson" else hyper[INITIAL_VALUE]
    state = (tl.zeros((K_PAD, BLOCK), tl.float32) + initial[None, :], counts, counts)

    episode = n_episodes * 0
    while episode < n_episodes:
        t0 = episode.to(tl.int64) * steps_per_episode
        tally = (tl.zeros((K_PAD, BLOCK), tl.float32), counts)
        head = (t0 & 1).to(tl.int32)  # 1: the episode starts on the second half of a pair
        if head == 1:
            _, _, _, draw = pair_draws(key_lo, key_hi, t0 // 2, g_lo, g_hi, GAUSSIAN)
            state, tally = _step(state, tally, t0, draw, param, hyper, g_lo, g_hi, key_lo, key_hi, POLICY, GAUSSIAN,
                                 HAS_STEP_SIZE, N_ARMS, K_PAD)  # fmt: skip
        first_pair = (t0 + head) // 2
        n_pairs = (steps_per_episode - head) // 2
        i = n_pairs * 0
        while i < n_pairs:
            t = 2 * (first_pair + i)
            _, d0, _, d1 = pair_draws(key_lo, key_hi, first_pair + i, g_lo, g_hi, GAUSSIAN)
            state, tally = _step(state, tally, t, d0, param, hyper, g_lo, g_hi, key_lo, key_hi, POLICY, GAUSSIAN,
                                 HAS_STEP_SIZE, N_ARMS, K_PAD)  # fmt: skip
            state, tally = _step(state, tally, t + 1, d1, param, hyper, g_lo, g_hi, key_lo, key_hi, POLICY, GAUSSIAN,
                                 HAS_STEP_SIZE, N_ARMS, K_PAD)  # fmt: skip
            i += 1
        if (steps_per_episode - head) % 2 == 1:  # ends on the first half of a pair
            t = 2 * (first_pair + n_pairs)
            _, draw, _, _ = pair_draws(key_lo, key_hi, first_pair + n_pairs, g_lo, g_hi, GAUSSIAN)
            state, tally = _step(state, tally, t, draw, param, hyper, g_lo, g_hi, key_lo, key_hi, POLICY, GAUSSIAN,
                                 HAS_STEP_SIZE, N_ARMS, K_PAD)  # fmt: skip

        sums, pulls = tally
        t_next = t0 + steps_per_episode
        out = bandit.to(tl.int64) * n_episodes + episode
        tl.store(episode_regret_ptr + out, tl.sum(pulls.to(tl.float32) * gap, axis=0), mask=live)
        tl.store(episode_reward_ptr + out, tl.sum(sums, axis=0), mask=live)
        best_arms = (gap == 0.0) & (arm_index < N_ARMS)
        tl.store(episode_optimal_ptr + out, tl.sum(tl.where(best_arms, pulls, 0), axis=0), mask=live)
        probs = _probabilities(state, t_next, hyper, g_lo, g_hi, key_lo, key_hi, POLICY, GAUSSIAN, N_ARMS, K_PAD,
                               N_DRAWS)  # fmt: skip
        p_best = tl.sum(tl.where(arm_index == best[None, :], probs, 0.0), axis=0).to(tl.float32)
        tl.store(episode_p_best_ptr + out, p_best, mask=live)
        slot = tl.minimum(episode, n_recorded - 1)
        store_columns(episode_rewards_ptr, (bandit.to(tl.int64) * n_recorded + slot) * N_ARMS, sums, live, N_ARMS,
                      K_PAD)  # fmt: skip
        episode += 1

    q, n, losses = state
    if POLICY == "thompson":
        if GAUSSIAN:  # the mean reward of the arm's pulls
            estimate = tl.div_rn(q, tl.maximum(n, 1).to(tl.float32))
        else:  # (1 + wins) / (2 + pulls)
            estimate = tl.div_rn((n + 1).to(tl.float32), (n + losses + 2).to(tl.float32))
    else:
        estimate = q
    store_columns(weights_ptr, row, estimate, live, N_ARMS, K_PAD)
    t_end = n_episodes.to(tl.int64) * steps_per_episode
    probs = _probabilities(state, t_end, hyper, g_lo, g_hi, key_lo, key_hi, POLICY, GAUSSIAN, N_ARMS, K_PAD, N_DRAWS)
    store_columns(final_probs_ptr, row, probs.to(tl.float32), live, N_ARMS, K_PAD)
