"""The fused GPU kernel: Triton device functions and ``bandit_kernel``, launched by triton_engine.py.

Each program owns ``BLOCK`` bandits; their weights, optimizer buffers and the episode's per-arm
sums stay in registers for the whole time loop as ``(K_PAD, BLOCK)`` tiles, arm axis first.
Triton's default layout spreads the last axis over lanes and warps first, so with ``BLOCK = 32 *
num_warps`` a bandit's whole arm column lives in one thread: max, cumsum and sums over arms are
in-thread register ops. Memory is read and written one ``(BLOCK,)`` arm column at a time (a 2D
access would let the compiler pick a coalesced layout that spreads arms over lanes): the problem
and the rule's numbers once, per-arm sums, regret and P(best) once per episode, weights at the
end. The pulled arm's parameter comes from registers up to 16 padded arms, from memory (L1)
above. Arms are padded to a power of two with weight -inf: probability 0, never drawn or counted.

The rule is a compile-time constant (``RULE``, from ``rule_constants``): each rule compiles its own
code, and the seed's rule keeps its own one-line update, as in torch_engine. The step is
torch_engine's, operation by operation (optimizers.py: torch.optim's SGD, Adam, RMSprop; the
baselines); Adam's bias corrections are running products of the betas in float64.

The random stream is rng.py's: Philox4x32-10, key = seed, counter = (t // 2, g); one call feeds
steps t = 2p (words 0, 1) and 2p + 1 (words 2, 3); a step's first word draws the arm, its second
the reward (a uniform, or a normal deviate by rng.to_normal's inverse CDF). An episode that starts
or ends in the middle of a pair (odd ``steps_per_episode``) computes that pair's Philox once more.

Work per bandit-step: SASS of the inner loop (one Philox call, two steps) compiled for sm_90
without a GPU by triton 3.6 (``python benchmarks/triton_sass.py``; benchmarks/RESULTS.md, "Triton
kernel: every rule"). No rule shuffles, uses shared memory or barriers, or spills up to 16 arms
(sm_80 and sm_90; checked by tests/test_triton_engine.py).

                                      K = 4                    K = 16
    rule                          regs  instr  MUFU        regs  instr  MUFU   est. H100, K = 4 / 16
    sgd (the seed)                  48    114     5         140    362    17    2.6e11 / 8.2e10
    sgd momentum nesterov wd        56    153     5         160    490    17    1.9e11 / 6.0e10
    mean baseline                   48    148     6         127    440    18    2.0e11 / 6.7e10
    ema baseline                    52    137     5         128    430    17    2.2e11 / 6.9e10
    adam                            76    234    16         220    789    52    1.3e11 / 3.7e10
    rmsprop                         60    188    13         183    664    49    1.6e11 / 4.5e10
    rmsprop centered momentum       64    212    13         216    769    49    1.4e11 / 3.8e10
    gaussian rewards                48    188     6         126    481    18    1.6e11 / 6.2e10

  Every loop body is straight-line code (static count = executed count). The seed's rule: Philox
  (5 rounds a step of 2 IMAD.HI + 2 IMAD + 2 LOP3, key schedule in uniform registers), the two
  uniforms, one division (lr r / T / total: MUFU.RCP + FFMAs), loop control: ~30, and ~21 per arm
  (exp, max, cumsum, the draw, the arm's parameter, sums and pulls, the update). The other rules add
  an FMUL per arm for exp(w / T - max) (ex2.approx of x log2(e)) and the gradient's; Adam and
  RMSprop a sqrt and one or two divisions per arm (sqrt.approx, div.full: MUFU + a few FFMA);
  Gaussian rewards Giles' erfinv per step (libdevice logf, two degree-8 polynomials).
  An H100 SXM issues 132 SMs x 4 warp-instructions x 32 threads x ~1.75 GHz = ~3e13 thread-
  instructions/s and 132 x 16 MUFU x 1.75 GHz = ~3.7e12 MUFU/s: the rates above are the lower of
  the two bounds (issue for every rule here), estimates from these counts, not measurements (no
  GPU where this was written); at 220 registers (Adam, K = 16) an SM holds only 8 warps.
"""

from __future__ import annotations

from .. import schema
from ..rng import ERFINV_CENTRE, ERFINV_TAIL
from ..state import Rule

try:
    import triton
    import triton.language as tl
except ImportError:  # the engine reports itself unavailable
    triton = tl = None


def _jit(**options):
    """triton.jit, or the bare function when triton is missing (the module still imports)."""
    return (lambda fn: fn) if triton is None else triton.jit(**options)


def _constexpr(value):
    return value if tl is None else tl.constexpr(value)


# The per-bandit numbers: rows of a (len(PER_BANDIT), B) float32 table (a row loads coalesced), one
# row per field of state.Hyper (schema.ROWS); the kernel reads a row by its name's index below.
PER_BANDIT = schema.ROWS
N_PER_BANDIT = _constexpr(len(PER_BANDIT))
INV_T, LR, WIN, LOSS, REWARD_SD, MOMENTUM, DAMPENING, WEIGHT_DECAY, BETA1, BETA2, ALPHA, EPS, BASELINE_DECAY = (
    _constexpr(PER_BANDIT.index(name)) for name in (
        "inv_temperature", "lr", "win", "loss", "reward_sd", "momentum", "dampening", "weight_decay", "beta1",
        "beta2", "alpha", "eps", "baseline_decay",
    )
)  # fmt: skip
# The rule: a constexpr tuple of state.Rule's fields (schema.RULE_FIELDS), then whether it is the
# seed's rule; the kernel reads a field by its name's index below.
RULE_OPTIMIZER, RULE_NESTEROV, RULE_CENTERED, RULE_BASELINE, RULE_MOMENTUM, RULE_WEIGHT_DECAY, RULE_REWARDS = (
    _constexpr(schema.RULE_FIELDS.index(name))
    for name in ("optimizer", "nesterov", "centered", "baseline", "momentum", "weight_decay", "rewards")
)
RULE_SEED = _constexpr(len(schema.RULE_FIELDS))
LOG2E = _constexpr(1.4426950408889634)  # exp(x / T) = exp2(x log2(e) / T)
ERFINV_C = _constexpr(ERFINV_CENTRE)
ERFINV_T = _constexpr(ERFINV_TAIL)
N_ERFINV = _constexpr(len(ERFINV_CENTRE))


def rule_constants(rule: Rule) -> tuple:
    """The kernel's ``RULE``: Rule's fields in schema.RULE_FIELDS order, then ``rule.is_seed``; the
    choices are checked here, so that no kernel branch falls through to another choice."""
    for name in schema.RULE_FIELDS:
        value = getattr(rule, name)
        if isinstance(value, str):
            schema.choice_index(name, value)
    return (*(getattr(rule, name) for name in schema.RULE_FIELDS), rule.is_seed)


# --- random numbers -----------------------------------------------------------------------------


@_jit()
def _uniform(word):
    """uint32 words -> float32 uniforms on the grid {0, 2**-24, ..., 1 - 2**-24} (rng.to_uniform)."""
    return (word >> 8).to(tl.float32) * 5.9604644775390625e-08


@_jit()
def _normal(word):
    """uint32 words -> float32 standard normal deviates (rng.to_normal): Giles' single-precision
    erfinv at the grid midpoint x = (2k + 1 - 2**24) 2**-24, k = word >> 8; Phi^-1 = sqrt(2) erfinv."""
    x = (((word >> 8) * 2 + 1).to(tl.int32) - 16777216).to(tl.float32) * 5.9604644775390625e-08
    w = -tl.log((1.0 - x) * (1.0 + x))
    centre = w - 2.5
    tail = tl.sqrt(w) - 3.0
    p_centre = tl.zeros_like(x) + ERFINV_C[0]
    p_tail = tl.zeros_like(x) + ERFINV_T[0]
    for i in tl.static_range(1, N_ERFINV):
        p_centre = ERFINV_C[i] + p_centre * centre
        p_tail = ERFINV_T[i] + p_tail * tail
    return tl.where(w < 5.0, p_centre, p_tail) * x * 1.4142135623730951


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
def _pair_draws(key_lo, key_hi, pair, g_lo, g_hi, GAUSSIAN: tl.constexpr):
    """The draws of Philox pair ``pair`` (int64 scalar) for bandits (g_hi, g_lo), (BLOCK,) each:
    arm and reward of step 2 pair, arm and reward of step 2 pair + 1 (rng.step_uniforms)."""
    pair_lo = tl.zeros_like(g_lo) + (pair & 0xFFFFFFFF).to(tl.uint32)
    pair_hi = tl.zeros_like(g_lo) + (pair >> 32).to(tl.uint32)
    w0, w1, w2, w3 = _philox4x32_10(pair_lo, pair_hi, g_lo, g_hi, key_lo, key_hi)
    if GAUSSIAN:
        return _uniform(w0), _normal(w1), _uniform(w2), _normal(w3)
    return _uniform(w0), _uniform(w1), _uniform(w2), _uniform(w3)


# --- one step -----------------------------------------------------------------------------------


@_jit()
def _softmax_terms(weights, inv_t, K_PAD: tl.constexpr, SEED: tl.constexpr):
    """exp(w / T - max), its in-order cumulative sums and their last entry (the total).

    weights: (K_PAD, BLOCK); inv_t: (BLOCK,). Returns (K_PAD, BLOCK) x 2, (BLOCK,). The seed's rule
    keeps the pinned exp2(w log2(e) / T - max); the others take torch_engine's exp(w / T - max).
    """
    if SEED:
        z = weights * (inv_t * LOG2E)[None, :]
        e = tl.exp2(z - tl.max(z, axis=0)[None, :])
    else:
        z = weights * inv_t[None, :]
        e = tl.exp(z - tl.max(z, axis=0)[None, :])
    cdf = tl.cumsum(e, axis=0)
    last = tl.arange(0, K_PAD)[:, None] == K_PAD - 1
    return e, cdf, tl.sum(tl.where(last, cdf, 0.0), axis=0)


@_jit()
def _lerp(start, end, weight):
    """torch.lerp(start, end, weight) as torch's vectorised CPU kernel takes it (one FMA);
    start, end: (K_PAD, BLOCK); weight: (BLOCK,)."""
    small = tl.abs(weight) < 0.5
    coeff = tl.where(small, weight, weight - 1.0)
    return tl.fma(coeff[None, :], end - start, tl.where(small[None, :], start, end))


@_jit()
def _optimizer_step(weights, grad, opt, t, hyper, RULE: tl.constexpr):
    """optimizers.step for step ``t``: torch.optim's SGD, Adam or RMSprop per element.

    opt: (momentum_buffer, exp_avg, exp_avg_sq, grad_avg, beta1**t, beta2**t), the last two
    float64 (BLOCK,); hyper: the PER_BANDIT rows. Returns (weights, opt).
    """
    OPTIMIZER: tl.constexpr = RULE[RULE_OPTIMIZER]
    HAS_MOMENTUM: tl.constexpr = RULE[RULE_MOMENTUM]
    NESTEROV: tl.constexpr = RULE[RULE_NESTEROV]
    CENTERED: tl.constexpr = RULE[RULE_CENTERED]
    HAS_WEIGHT_DECAY: tl.constexpr = RULE[RULE_WEIGHT_DECAY]
    lr, momentum, dampening, weight_decay = hyper[LR], hyper[MOMENTUM], hyper[DAMPENING], hyper[WEIGHT_DECAY]
    beta1, beta2, alpha, eps = hyper[BETA1], hyper[BETA2], hyper[ALPHA], hyper[EPS]
    buffer, exp_avg, exp_avg_sq, grad_avg, power1, power2 = opt
    tl.static_assert(OPTIMIZER == "sgd" or OPTIMIZER == "adam" or OPTIMIZER == "rmsprop")
    if HAS_WEIGHT_DECAY:
        grad = grad + weight_decay[None, :] * weights
    if OPTIMIZER == "sgd":
        if HAS_MOMENTUM:
            # the buffer starts as a copy of the gradient (0 m + 1 g), then m buf + (1 - d) g;
            # a bandit with momentum 0 takes the plain gradient: factor 1
            factor = tl.where((momentum == 0) | (t == 0), 1.0, 1.0 - dampening)
            buffer = buffer * momentum[None, :] + factor[None, :] * grad
            grad = grad + momentum[None, :] * buffer if NESTEROV else buffer
        weights = weights - lr[None, :] * grad
    elif OPTIMIZER == "adam":
        exp_avg = _lerp(exp_avg, grad, 1.0 - beta1)
        exp_avg_sq = exp_avg_sq * beta2[None, :] + (1.0 - beta2)[None, :] * grad * grad
        # 1 - beta ** (t + 1) in float64 as torch.optim (running products), then rounded; the square
        # root of the rounded value (a float64 sqrt calls a slow path, which costs a spill at K = 16)
        power1 = power1 * beta1.to(tl.float64)
        power2 = power2 * beta2.to(tl.float64)
        correction1 = (1.0 - power1).to(tl.float32)
        correction2_sqrt = tl.sqrt((1.0 - power2).to(tl.float32))
        denom = tl.sqrt(exp_avg_sq) / correction2_sqrt[None, :] + eps[None, :]
        weights = weights - (lr / correction1)[None, :] * (exp_avg / denom)
    elif OPTIMIZER == "rmsprop":
        exp_avg_sq = exp_avg_sq * alpha[None, :] + (1.0 - alpha)[None, :] * grad * grad
        if CENTERED:
            grad_avg = _lerp(grad_avg, grad, 1.0 - alpha)
            avg = tl.sqrt(tl.maximum(exp_avg_sq - grad_avg * grad_avg, 0.0)) + eps[None, :]
        else:
            avg = tl.sqrt(exp_avg_sq) + eps[None, :]
        if HAS_MOMENTUM:
            buffer = buffer * momentum[None, :] + grad / avg
            weights = weights - lr[None, :] * buffer
        else:
            weights = weights - lr[None, :] * (grad / avg)
    return weights, (buffer, exp_avg, exp_avg_sq, grad_avg, power1, power2)


@_jit()
def _step(
    state,
    tally,
    t,
    u_arm,
    draw,
    param,
    hyper,
    RULE: tl.constexpr,
    N_ARMS: tl.constexpr,
    K_PAD: tl.constexpr,
    PARAM_IN_REGISTERS: tl.constexpr,
):
    """Step ``t`` (int64 scalar) of torch_engine's loop for a (K_PAD, BLOCK) tile of bandits.

    state: (weights, baseline, opt); tally: the episode's (per-arm reward sums, pulls); u_arm:
    (BLOCK,) the uniform that draws the arm, draw: the one that draws the reward (a normal deviate
    for Gaussian rewards); param: (K_PAD, BLOCK) arm parameters, or (BLOCK,) pointers to the
    bandits' rows; hyper: the PER_BANDIT rows. Returns (state, tally, the rewards (BLOCK,)).
    """
    GAUSSIAN: tl.constexpr = RULE[RULE_REWARDS] == "gaussian"
    SEED: tl.constexpr = RULE[RULE_SEED]
    BASELINE: tl.constexpr = RULE[RULE_BASELINE]
    tl.static_assert(BASELINE == "none" or BASELINE == "mean" or BASELINE == "ema")
    weights, baseline, opt = state
    sums, pulls = tally
    inv_t, lr, win, loss = hyper[INV_T], hyper[LR], hyper[WIN], hyper[LOSS]
    reward_sd, decay = hyper[REWARD_SD], hyper[BASELINE_DECAY]
    arm_index = tl.arange(0, K_PAD)[:, None]
    e, cdf, total = _softmax_terms(weights, inv_t, K_PAD, SEED)
    # policy.sample_arm: the first arm k with u * total < cdf[k]; the last real arm otherwise
    below = (cdf <= (u_arm * total)[None, :]) & (arm_index < N_ARMS - 1)
    arm = tl.sum(below.to(tl.int32), axis=0)
    chosen = arm_index == arm[None, :]
    # the pulled arm's parameter: from the (K_PAD, BLOCK) tile, or from memory through row pointers
    arm_param = tl.sum(tl.where(chosen, param, 0.0), axis=0) if PARAM_IN_REGISTERS else tl.load(param + arm)
    if GAUSSIAN:  # problem.gaussian_reward
        reward = arm_param + reward_sd * draw
    else:  # problem.draw_reward
        won = draw < arm_param
        reward = tl.where(won, win, loss)
    sums = tl.where(chosen, sums + reward[None, :], sums)
    pulls += chosen.to(tl.int32)
    direction = tl.where(chosen, total[None, :] - e, -e)  # total * (onehot(arm) - p)
    if SEED:  # policy.sgd_step as the seed: w += (lr r / T) (onehot(arm) - p), r = win or loss
        scale = tl.where(won, lr * win * inv_t, lr * loss * inv_t) / total
        weights = weights + scale[None, :] * direction
    else:  # optimizers.update_baseline, policy.policy_gradient, then torch.optim's step
        advantage = reward
        if BASELINE == "mean":
            baseline = baseline + (reward - baseline) / (t + 1).to(tl.float32)
        if BASELINE == "ema":
            baseline = decay * baseline + (1.0 - decay) * reward
        if BASELINE != "none":
            advantage = reward - baseline
        grad = -(advantage * inv_t / total)[None, :] * direction
        if N_ARMS < K_PAD:  # padded arms: weight 0 in the optimizer (no inf - inf), -inf in the policy
            weights = tl.where(arm_index < N_ARMS, weights, 0.0)
        weights, opt = _optimizer_step(weights, grad, opt, t, hyper, RULE)
        if N_ARMS < K_PAD:
            weights = tl.where(arm_index < N_ARMS, weights, float("-inf"))
    return (weights, baseline, opt), (sums, pulls), reward


# --- the kernel ---------------------------------------------------------------------------------


@_jit()
def _columns(ptr, offsets, live, fill, N_ARMS: tl.constexpr, K_PAD: tl.constexpr):
    """A (K_PAD, BLOCK) tile of rows of N_ARMS values (float32 or int32, as ``ptr``) at ``ptr +
    offsets`` (BLOCK,), read one arm column at a time; padded arms hold ``fill``."""
    arm_index = tl.arange(0, K_PAD)[:, None]
    tile = tl.full((K_PAD, offsets.shape[0]), fill, ptr.dtype.element_ty)
    for k in tl.static_range(N_ARMS):
        column = tl.load(ptr + offsets + k, mask=live, other=0)
        tile = tl.where(arm_index == k, column[None, :], tile)
    return tile


@_jit()
def _store_columns(ptr, offsets, tile, live, N_ARMS: tl.constexpr, K_PAD: tl.constexpr):
    """Write a (K_PAD, BLOCK) tile's real arms to rows at ``ptr + offsets``, one column at a time."""
    arm_index = tl.arange(0, K_PAD)[:, None]
    for k in tl.static_range(N_ARMS):
        tl.store(ptr + offsets + k, tl.sum(tl.where(arm_index == k, tile, 0), axis=0), mask=live)


# The metrics of an episode or a trace interval (state.Outcome), each (BLOCK,); pulls, gap: (K_PAD, BLOCK).


@_jit()
def _regret(pulls, gap):
    """The pseudo-regret of these pulls: sum_k n_k gap_k, float32."""
    return tl.sum(pulls.to(tl.float32) * gap, axis=0)


@_jit()
def _optimal(pulls, gap, N_ARMS: tl.constexpr, K_PAD: tl.constexpr):
    """The pulls of a best arm (gap 0: every one on ties, not the padding), int32."""
    arm_index = tl.arange(0, K_PAD)[:, None]
    return tl.sum(tl.where((gap == 0.0) & (arm_index < N_ARMS), pulls, 0), axis=0)


@_jit()
def _p_best(weights, inv_t, best, SEED: tl.constexpr, K_PAD: tl.constexpr):
    """P(best arm) of the policy, float32."""
    arm_index = tl.arange(0, K_PAD)[:, None]
    e, _, total = _softmax_terms(weights, inv_t, K_PAD, SEED)
    return tl.sum(tl.where(arm_index == best[None, :], e, 0.0), axis=0) / total


@_jit()
def _trace_step(trace, state, tally, reward, t, at, tracing, hyper, RULE: tl.constexpr, N_ARMS: tl.constexpr,
                K_PAD: tl.constexpr):  # fmt: skip
    """After step ``t`` (int64 scalar): the rewards since the last trace point, and at a point (t + 1 a
    multiple of record_every: a test of one scalar, the same for every bandit) every metric of
    state.Outcome's trace. trace: (rewards since the last point (BLOCK,), the step count of the next
    point, its index); at: (bandit, row, live, best), (BLOCK,) each; tracing: (record_every,
    n_points, n_bandits, arm gaps, the trace's (5, n_points, B) words, each arm's pulls at the last
    point (B, N_ARMS) int32, less the pulls of episodes ended since: in memory, K registers fewer).
    Returns trace."""
    interval_reward, next_point, point = trace
    interval_reward += reward
    if t + 1 == next_point:
        bandit, row, live, best = at
        record_every, n_points, n_bandits, gap_ptr, trace_ptr, since_ptr = tracing
        sums, pulls = tally
        arm_index = tl.arange(0, K_PAD)[:, None]
        # one array of 32-bit words, a (n_points, B) plane per metric (a point's bandits side by side:
        # coalesced stores): one address to keep, not five
        out = trace_ptr + point.to(tl.int64) * n_bandits + bandit
        plane = n_bandits.to(tl.int64) * n_points
        # P(best) first: its softmax terms are gone before the pulls and gaps are loaded
        tl.store(out, _p_best(state[0], hyper[INV_T], best, RULE[RULE_SEED], K_PAD), mask=live)
        tl.store(out + 2 * plane, interval_reward, mask=live)
        # the seed's verdict on the episode's sums so far: the first arm with the top sum is the best
        sums = tl.where(arm_index < N_ARMS, sums, float("-inf"))
        top_arm = tl.min(tl.where(sums == tl.max(sums, axis=0)[None, :], arm_index, K_PAD), axis=0)
        tl.store(out + 4 * plane, (top_arm == best).to(tl.int32).to(tl.float32, bitcast=True), mask=live)
        since = _columns(since_ptr, row, live, 0, N_ARMS, K_PAD)
        _store_columns(since_ptr, row, pulls, live, N_ARMS, K_PAD)
        gap = _columns(gap_ptr, row, live, 0.0, N_ARMS, K_PAD)
        interval = pulls - since
        tl.store(out + plane, _regret(interval, gap), mask=live)
        tl.store(out + 3 * plane, _optimal(interval, gap, N_ARMS, K_PAD).to(tl.float32, bitcast=True), mask=live)
        interval_reward = tl.zeros_like(interval_reward)
        next_point += record_every
        point += 1
    return interval_reward, next_point, point


@_jit()
def _per_bandit(ptr, n_bandits, bandit, live):
    """The rows of the PER_BANDIT table for these bandits: a tuple of (BLOCK,) float32."""
    rows = ()
    for i in tl.static_range(N_PER_BANDIT):
        rows = rows + (tl.load(ptr + i * n_bandits + bandit, mask=live, other=0.5),)  # 0.5: harmless past the end
    return rows


@_jit(
    do_not_specialize=[
        "n_bandits", "key_lo", "key_hi", "n_episodes", "steps_per_episode", "n_recorded", "record_every", "n_points"
    ]
)  # fmt: skip
def bandit_kernel(
    arm_param_ptr,  # (B, N_ARMS) float32: P(win) per arm (binary rewards) or the mean (Gaussian)
    arm_gap_ptr,  # (B, N_ARMS) float32: regret of a pull of each arm
    init_weights_ptr,  # (B, N_ARMS) float32
    best_arm_ptr,  # (B,) int64
    per_bandit_ptr,  # (len(PER_BANDIT), B) float32
    bandit_ids_ptr,  # (B,) int64: g in the random stream
    weights_ptr,  # out (B, N_ARMS) float32
    episode_rewards_ptr,  # out (B, n_recorded, N_ARMS) float32
    episode_p_best_ptr,  # out (B, n_episodes) float32
    episode_regret_ptr,  # out (B, n_episodes) float32
    episode_reward_ptr,  # out (B, n_episodes) float32
    episode_optimal_ptr,  # out (B, n_episodes) int32
    trace_ptr,  # out (5, n_points, B) when TRACE: P(best), regret, reward (float32), optimal pulls, verdict (int32)
    trace_since_ptr,  # (B, N_ARMS) int32, zeros: each arm's pulls at the last trace point (scratch)
    n_bandits,
    key_lo,  # the seed's low and high 32 bits, as int32 (one type: one compiled kernel)
    key_hi,
    n_episodes,
    steps_per_episode,
    n_recorded,  # n_episodes, or 1: every episode overwrites slot 0 and the last one stays
    record_every,  # steps between trace points, when TRACE
    n_points,  # trace points: n_episodes steps_per_episode // record_every
    RULE: tl.constexpr,  # rule_constants(rule)
    N_ARMS: tl.constexpr,
    K_PAD: tl.constexpr,
    BLOCK: tl.constexpr,
    PARAM_IN_REGISTERS: tl.constexpr,
    TRACE: tl.constexpr,  # also trace every metric every record_every steps
):
    GAUSSIAN: tl.constexpr = RULE[RULE_REWARDS] == "gaussian"
    bandit = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)  # (BLOCK,)
    live = bandit < n_bandits
    row = bandit.to(tl.int64) * N_ARMS  # 64-bit offsets: B * E * K may pass 2**31
    if PARAM_IN_REGISTERS:
        param = _columns(arm_param_ptr, row, live, 0.0, N_ARMS, K_PAD)
    else:  # many arms: gather param[arm] from memory (L1) each step, K registers fewer
        param = arm_param_ptr + tl.where(live, row, 0)  # (BLOCK,) row pointers, in bounds
    hyper = _per_bandit(per_bandit_ptr, n_bandits, bandit, live)
    best = tl.load(best_arm_ptr + bandit, mask=live, other=0).to(tl.int32)
    key_lo = key_lo.to(tl.uint32, bitcast=True)
    key_hi = key_hi.to(tl.uint32, bitcast=True)
    g = tl.load(bandit_ids_ptr + bandit, mask=live, other=0)
    g_lo = (g & 0xFFFFFFFF).to(tl.uint32)
    g_hi = (g >> 32).to(tl.uint32)
    weights = _columns(init_weights_ptr, row, live, float("-inf"), N_ARMS, K_PAD)
    zeros = tl.zeros((K_PAD, BLOCK), tl.float32)
    powers = tl.full((BLOCK,), 1.0, tl.float64)  # Adam's beta1**t, beta2**t
    state = (weights, tl.zeros((BLOCK,), tl.float32), (zeros, zeros, zeros, zeros, powers, powers))
    if TRACE:  # (rewards since the last point, the step count of the next point, its index): _trace_step
        trace = (tl.zeros((BLOCK,), tl.float32), record_every.to(tl.int64), n_points * 0)
        at = (bandit, row, live, best)
        tracing = (record_every, n_points, n_bandits, arm_gap_ptr, trace_ptr, trace_since_ptr)

    # while loops, not range(): the interpreter cannot index with its scalars under numpy >= 2.4
    episode = n_episodes * 0
    while episode < n_episodes:
        t0 = episode.to(tl.int64) * steps_per_episode  # global step t of the episode's first step
        tally = (zeros, tl.zeros((K_PAD, BLOCK), tl.int32))
        head = (t0 & 1).to(tl.int32)  # 1: the episode starts on the second half of a pair
        if head == 1:
            _, _, u_arm, draw = _pair_draws(key_lo, key_hi, t0 // 2, g_lo, g_hi, GAUSSIAN)
            state, tally, reward = _step(
                state, tally, t0, u_arm, draw, param, hyper, RULE, N_ARMS, K_PAD, PARAM_IN_REGISTERS
            )
            if TRACE:
                trace = _trace_step(trace, state, tally, reward, t0, at, tracing, hyper, RULE, N_ARMS, K_PAD)
        first_pair = (t0 + head) // 2
        n_pairs = (steps_per_episode - head) // 2
        i = n_pairs * 0
        while i < n_pairs:
            t = 2 * (first_pair + i)
            u0, d0, u1, d1 = _pair_draws(key_lo, key_hi, first_pair + i, g_lo, g_hi, GAUSSIAN)
            state, tally, reward = _step(state, tally, t, u0, d0, param, hyper, RULE, N_ARMS, K_PAD, PARAM_IN_REGISTERS)
            if TRACE:
                trace = _trace_step(trace, state, tally, reward, t, at, tracing, hyper, RULE, N_ARMS, K_PAD)
            state, tally, reward = _step(
                state, tally, t + 1, u1, d1, param, hyper, RULE, N_ARMS, K_PAD, PARAM_IN_REGISTERS
            )
            if TRACE:
                trace = _trace_step(trace, state, tally, reward, t + 1, at, tracing, hyper, RULE, N_ARMS, K_PAD)
            i += 1
        if (steps_per_episode - head) % 2 == 1:  # ends on the first half of a pair
            t = 2 * (first_pair + n_pairs)
            u_arm, draw, _, _ = _pair_draws(key_lo, key_hi, first_pair + n_pairs, g_lo, g_hi, GAUSSIAN)
            state, tally, reward = _step(
                state, tally, t, u_arm, draw, param, hyper, RULE, N_ARMS, K_PAD, PARAM_IN_REGISTERS
            )
            if TRACE:
                trace = _trace_step(trace, state, tally, reward, t, at, tracing, hyper, RULE, N_ARMS, K_PAD)

        sums, pulls = tally
        gap = _columns(arm_gap_ptr, row, live, 0.0, N_ARMS, K_PAD)
        regret = _regret(pulls, gap)
        tl.store(episode_regret_ptr + bandit.to(tl.int64) * n_episodes + episode, regret, mask=live)
        tl.store(episode_reward_ptr + bandit.to(tl.int64) * n_episodes + episode, tl.sum(sums, axis=0), mask=live)
        optimal = _optimal(pulls, gap, N_ARMS, K_PAD)
        tl.store(episode_optimal_ptr + bandit.to(tl.int64) * n_episodes + episode, optimal, mask=live)
        p_best = _p_best(state[0], hyper[INV_T], best, RULE[RULE_SEED], K_PAD)
        tl.store(episode_p_best_ptr + bandit.to(tl.int64) * n_episodes + episode, p_best, mask=live)
        slot = tl.minimum(episode, n_recorded - 1)
        sums_row = (bandit.to(tl.int64) * n_recorded + slot) * N_ARMS
        _store_columns(episode_rewards_ptr, sums_row, sums, live, N_ARMS, K_PAD)
        if TRACE:  # an interval may span the episode's end: its pulls count from minus this episode's
            since = _columns(trace_since_ptr, row, live, 0, N_ARMS, K_PAD)
            _store_columns(trace_since_ptr, row, since - pulls, live, N_ARMS, K_PAD)
        episode += 1

    _store_columns(weights_ptr, row, state[0], live, N_ARMS, K_PAD)


# What the other policies' kernel (triton_policies.py) shares with this one.
jit, constexpr = _jit, _constexpr
philox4x32_10, uniform, normal, pair_draws, columns, store_columns, per_bandit = (
    _philox4x32_10, _uniform, _normal, _pair_draws, _columns, _store_columns, _per_bandit
)  # fmt: skip
