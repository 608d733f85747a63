/* The fused CPU engine's kernel for the field's baselines: epsilon-greedy, greedy (optimistic initial
 * values, constant step) and UCB (policies/value.py), and Thompson sampling (policies/thompson.py).
 *
 * Compiled after cpu_kernel.c: engines/cpu_build.py force-includes that file (-include) before this
 * one, so this kernel shares its vectors and masks, its Philox stream, its uniforms and normal
 * deviates, its layout (a block of LANES bandits as a struct of arrays, state in registers and L1),
 * its generated header (BB_POLICY, BB_STEP_SIZE, BB_REWARDS, the rows, bb_batch) and its progress
 * and cancel protocol. One policy per build, as cpu_kernel.c builds one learning rule.
 *
 * The steps are the portable engine's, operation for operation and in its order (float32, no
 * contraction; log and sqrt correctly rounded, as policies/value.py and thompson.py take them):
 *   value policies: scores (Q, or UCB's Q + c sqrt(ln(t + 1) / N), untried arms +inf) -> the
 *     maxima -> tie-break by the step's tie word (the floor(u m)-th of the m maxima) -> epsilon-
 *     greedy's coin and uniform arm -> reward -> N += 1, Q += (r - Q) / N or Q += alpha (r - Q);
 *   Thompson sampling: each arm's posterior sample (Beta(1 + wins, 1 + losses) as X / (X + Y),
 *     Marsaglia-Tsang gammas; or the normal posterior mean + z / sqrt(precision)) -> the maxima
 *     -> tie-break -> reward -> count the win / loss, or the pull and its reward.
 * Random numbers: the step's reward word is the gradient policy's (Philox of (t / 2, g): common
 * random numbers); the policy's own words come from Philox of (t, POLICY_TAG | t >> 32, g) (the
 * coin, the uniform arm, the tie word) and Thompson's from (t, THOMPSON_TAG | draw << 20 |
 * attempt << 8 | arm, g), the tags and limits generated from rng.py into the header.
 *
 * What is computed once rather than every step (the same numbers): UCB's ln(t + 1); Thompson's
 * per-arm posterior constants (the normal's mean and sqrt(precision); each gamma's d and c), which
 * change only when the arm is pulled; the policy words of greedy, UCB and Thompson sampling, drawn
 * only when some bandit of the block has tied maxima (a bandit without ties takes its maximum
 * whatever the tie word).
 *
 * At each episode's end: the per-arm sums, pseudo-regret, reward and optimal pulls as cpu_kernel.c,
 * and P(best) from the policy's probabilities of the next step (value policies: an equal share of
 * the maxima, plus epsilon / K; Thompson sampling: the share of P_BEST_DRAWS posterior draws in which
 * each arm is the highest), in double as the portable engine; after the run the estimates (Q, or
 * the posterior means as torch_engine.estimates) and the final probabilities.
 */
#ifndef PROGRESS_STEPS
#error "value_kernel.c is compiled after cpu_kernel.c: engines/cpu_build.py force-includes it"
#endif
#if BB_POLICY == BB_POLICY_GRADIENT
#error "the gradient policy is cpu_kernel.c's bb_simulate"
#endif
#define EPSILON_GREEDY (BB_POLICY == BB_POLICY_EPSILON_GREEDY)
#define UCB (BB_POLICY == BB_POLICY_UCB)
#define THOMPSON (BB_POLICY == BB_POLICY_THOMPSON)
#define BINARY_THOMPSON (THOMPSON && !GAUSSIAN)
#define UNROLL _Pragma("GCC unroll 16") /* loops over arms: their chains interleave, their values stay in registers */

/* ---------------------------------------------------------------- masks this kernel adds */
#if defined(__AVX512F__)
INLINE vm gt_i(vi a, vi b) { return _mm512_cmpgt_epi32_mask((__m512i)a, (__m512i)b); }
INLINE vm not_m(vm mask) { return (vm)~mask; }
#define NO_LANES ((vm)0)
#else
INLINE vm gt_i(vi a, vi b) { return a > b; }
INLINE vm not_m(vm mask) { return ~mask; }
#define NO_LANES ((vm){0})
#endif
INLINE int all_lanes(vm mask) { return !any_lane(not_m(mask)); }
INLINE vf to_float(vi n) { return __builtin_convertvector(n, vf); }

/* ---------------------------------------------------------------- the policy's numbers */
typedef struct {
    vf win, loss, sd;                                /* rewards */
    vf epsilon, step_size, ucb_c;                    /* value policies */
    vf prior_precision, noise_precision, prior_term; /* Thompson, Gaussian: 1/sd0^2, 1/sd^2, mu0/sd0^2 */
} policy_t;

INLINE void policy_init(policy_t *p, const bb_batch *a, int64_t lo, int used) {
    p->win = load_lanes(ROW(win) + lo, used);
    p->loss = load_lanes(ROW(loss) + lo, used);
    p->sd = load_lanes(ROW(reward_sd) + lo, used);
    p->epsilon = load_lanes(ROW(epsilon) + lo, used);
    p->step_size = load_lanes(ROW(step_size) + lo, used);
    p->ucb_c = load_lanes(ROW(ucb_c) + lo, used);
    vf prior_sd = load_lanes(ROW(prior_sd) + lo, used);
    p->prior_precision = 1.0f / (prior_sd * prior_sd);
    p->noise_precision = 1.0f / (p->sd * p->sd);
    p->prior_term = load_lanes(ROW(prior_mean) + lo, used) * p->prior_precision;
}

/* The per-arm state of a block: arrays local to run_policy_block, reached through these pointers. */
typedef struct {
    vf *q;              /* value estimates; Thompson (Gaussian): the sum of the arm's rewards */
    vi *n;              /* pulls of the whole run; Thompson (binary): wins */
    vi *losses;         /* Thompson (binary) */
    vf *k0, *k1;        /* Thompson's posterior constants: normal mean, sqrt(precision); or X's d, c */
    vf *k2, *k3;        /* Y's d, c (binary) */
    vf *sums;           /* the episode's reward sums, and pulls (less the run's at its start until its end) */
    vi *pulls;
    const vf *param;    /* P(win) or mean per arm */
} policy_arms_t;

/* ---------------------------------------------------------------- random numbers */
INLINE uint64_t policy_counter(uint64_t t) { /* (t mod 2^32, POLICY_TAG | t >> 32) */
    return (uint64_t)(BB_RNG_POLICY_TAG | (uint32_t)(t >> 32)) << 32 | (uint32_t)t;
}
INLINE uint64_t thompson_counter(uint64_t t, uint32_t draw, uint32_t attempt, int k) {
    return (uint64_t)(BB_RNG_THOMPSON_TAG | draw << 20 | attempt << 8 | (uint32_t)k) << 32 | (uint32_t)t;
}

/* The step's policy words as uniforms: the coin, the uniform arm, the tie word. */
typedef struct {
    vf coin, arm, tie;
} policy_words_t;

INLINE policy_words_t policy_words(uint64_t t, const stream_t *stream) {
    vu w[4];
    philox(policy_counter(t), stream, w);
    return (policy_words_t){to_uniform(w[0]), to_uniform(w[1]), to_uniform(w[2])};
}

/* ---------------------------------------------------------------- Thompson's samplers */
/* The samplers work on all arms at once, stage by stage (every arm's Philox, then every arm's log,
 * then each polynomial term for every arm), so that the arms' long dependency chains overlap: one
 * arm at a time, the step waits on their latency (2x slower). */

/* Standard normal deviates of n words: cpu_kernel.c's to_normal (rng.to_normal), operation for
 * operation, its stages interleaved across the words. */
INLINE void to_normals(int n, const vu *word, vf *z) {
    vf x[2 * MAX_ARMS], w[2 * MAX_ARMS], centre[2 * MAX_ARMS], p[2 * MAX_ARMS];
    vm any_tail = NO_LANES;
    UNROLL for (int i = 0; i < n; i++) {
        x[i] = __builtin_convertvector((vi)(word[i] >> 8) * 2 + (1 - (1 << 24)), vf) * 0x1p-24f;
        w[i] = -log_f32((1.0f - x[i]) * (1.0f + x[i]));
        centre[i] = w[i] - 2.5f, p[i] = splat(ERFINV_CENTRE[0]);
        any_tail |= ge(w[i], splat(5.0f));
    }
    for (int j = 1; j < 9; j++)
        UNROLL for (int i = 0; i < n; i++) p[i] = ERFINV_CENTRE[j] + p[i] * centre[i];
    if (any_lane(any_tail)) /* |z| > 2.8 in some lane: 1 word in 290 */
        for (int i = 0; i < n; i++) {
            vm in_tail = ge(w[i], splat(5.0f));
            if (!any_lane(in_tail)) continue;
            vf tail = vsqrt(w[i]) - 3.0f, q = splat(ERFINV_TAIL[0]);
            for (int j = 1; j < 9; j++) q = ERFINV_TAIL[j] + q * tail;
            p[i] = select_f(in_tail, q, p[i]);
        }
    UNROLL for (int i = 0; i < n; i++) z[i] = p[i] * x[i] * F(1.4142135623730951);
}

/* log, correctly rounded, of a uniform (0 -> -inf, as torch's log) */
INLINE vf log_uniform(vf u) { return select_f(eq(u, splat(0.0f)), splat(-__builtin_inff()), log_f32(u)); }

/* n Marsaglia-Tsang attempts for Gamma(shape), d = shape - 1/3, c = 1 / sqrt(9 d): thompson.py's
 * gamma_attempt; ok[i]: the lanes that accept value[i]. (1 + c z)^3 is a normal float whenever it
 * is positive (1 + c z >= 2^-24: Sterbenz), as log_f32 needs. */
INLINE void gamma_attempts(int n, const vf *d, const vf *c, const vu *z_word, const vu *u_word, vf *value, vm *ok) {
    vf z[2 * MAX_ARMS], v[2 * MAX_ARMS], log_v[2 * MAX_ARMS], log_u[2 * MAX_ARMS];
    vm positive[2 * MAX_ARMS];
    to_normals(n, z_word, z);
    for (int i = 0; i < n; i++) {
        v[i] = 1.0f + c[i] * z[i];
        v[i] = v[i] * v[i] * v[i];
        positive[i] = gt(v[i], splat(0.0f));
    }
    for (int i = 0; i < n; i++) log_v[i] = log_f32(select_f(positive[i], v[i], splat(1.0f)));
    for (int i = 0; i < n; i++) log_u[i] = log_uniform(to_uniform(u_word[i]));
    for (int i = 0; i < n; i++) {
        value[i] = d[i] * v[i];
        ok[i] = positive[i] & lt(log_u[i], (((0.5f * z[i]) * z[i] + d[i]) - d[i] * v[i]) + d[i] * log_v[i]);
    }
}

INLINE void gamma_constants(vf shape, vf *d, vf *c) {
    *d = shape - (float)(1.0 / 3.0);
    *c = 1.0f / vsqrt(9.0f * *d);
}

/* Every arm's posterior sample of step t's draw ``draw``. */
INLINE void posterior_samples(int K, policy_arms_t s, const stream_t *stream, uint64_t t, uint32_t draw, vf *sample) {
    vu w[MAX_ARMS][4];
    UNROLL for (int k = 0; k < K; k++) philox(thompson_counter(t, draw, 0, k), stream, w[k]);
#if GAUSSIAN /* the normal posterior: mean + z / sqrt(precision) */
    vu z_word[MAX_ARMS];
    vf z[MAX_ARMS];
    for (int k = 0; k < K; k++) z_word[k] = w[k][0];
    to_normals(K, z_word, z);
    for (int k = 0; k < K; k++) sample[k] = s.k0[k] + z[k] / s.k1[k];
#else /* Beta: X / (X + Y), each gamma's first accepted attempt; attempt 0 of every arm at once */
    vf d[2 * MAX_ARMS], c[2 * MAX_ARMS], value[2 * MAX_ARMS];
    vu z_word[2 * MAX_ARMS], u_word[2 * MAX_ARMS];
    vm ok[2 * MAX_ARMS];
    for (int k = 0; k < K; k++) {
        d[2 * k] = s.k0[k], c[2 * k] = s.k1[k], d[2 * k + 1] = s.k2[k], c[2 * k + 1] = s.k3[k];
        z_word[2 * k] = w[k][0], u_word[2 * k] = w[k][1], z_word[2 * k + 1] = w[k][2], u_word[2 * k + 1] = w[k][3];
    }
    gamma_attempts(2 * K, d, c, z_word, u_word, value, ok);
    for (int k = 0; k < K; k++) {
        vf x = select_f(ok[2 * k], value[2 * k], splat(0.0f)), y = select_f(ok[2 * k + 1], value[2 * k + 1], splat(0.0f));
        vm done_x = ok[2 * k], done_y = ok[2 * k + 1];
        for (uint32_t attempt = 1; attempt < BB_RNG_THOMPSON_ATTEMPTS && !all_lanes(done_x & done_y); attempt++) {
            vu more[4];
            vf more_value[2];
            vm more_ok[2];
            philox(thompson_counter(t, draw, attempt, k), stream, more);
            gamma_attempts(2, d + 2 * k, c + 2 * k, (vu[2]){more[0], more[2]}, (vu[2]){more[1], more[3]}, more_value, more_ok);
            x = select_f(more_ok[0] & not_m(done_x), more_value[0], x);
            y = select_f(more_ok[1] & not_m(done_y), more_value[1], y);
            done_x |= more_ok[0];
            done_y |= more_ok[1];
        }
        sample[k] = x / (x + y);
    }
#endif
}

/* The posterior constants of the arm pulled (hit), from its counts after the pull. */
INLINE void update_posterior(int K, const policy_t *p, policy_arms_t s, const vm *hit) {
#if GAUSSIAN
    vi n = s.n[0];
    vf total = s.q[0];
    for (int k = 1; k < K; k++) n = select_i(hit[k], s.n[k], n), total = select_f(hit[k], s.q[k], total);
    vf precision = p->prior_precision + to_float(n) * p->noise_precision;
    vf mean = (p->prior_term + total * p->noise_precision) / precision, root = vsqrt(precision);
    for (int k = 0; k < K; k++) s.k0[k] = select_f(hit[k], mean, s.k0[k]), s.k1[k] = select_f(hit[k], root, s.k1[k]);
#else
    vi wins = s.n[0], losses = s.losses[0];
    for (int k = 1; k < K; k++) wins = select_i(hit[k], s.n[k], wins), losses = select_i(hit[k], s.losses[k], losses);
    vf dx, cx, dy, cy;
    gamma_constants(to_float(wins) + 1.0f, &dx, &cx);
    gamma_constants(to_float(losses) + 1.0f, &dy, &cy);
    for (int k = 0; k < K; k++) {
        s.k0[k] = select_f(hit[k], dx, s.k0[k]), s.k1[k] = select_f(hit[k], cx, s.k1[k]);
        s.k2[k] = select_f(hit[k], dy, s.k2[k]), s.k3[k] = select_f(hit[k], cy, s.k3[k]);
    }
#endif
    (void)p;
}

/* ---------------------------------------------------------------- the choice */
/* What the greedy choice maximises at step t: Q, UCB's Q + c sqrt(ln(t + 1) / N) (untried: +inf),
 * or Thompson's posterior samples (draw ``draw``). */
INLINE void scores(int K, const policy_t *p, policy_arms_t s, const stream_t *stream, uint64_t t, uint32_t draw,
                   vf log_t, vf *score) {
    (void)p, (void)stream, (void)t, (void)draw, (void)log_t;
#if THOMPSON
    posterior_samples(K, s, stream, t, draw, score);
#else
    for (int k = 0; k < K; k++) {
#if UCB
        vf bonus = p->ucb_c * vsqrt(log_t / to_float(s.n[k]));
        score[k] = select_f(eq_i(s.n[k], (vi){0}), splat(__builtin_inff()), s.q[k] + bonus);
#else
        score[k] = s.q[k];
#endif
    }
#endif
}

/* The maxima of the scores: one mask per arm, and how many per lane. The maximum is taken as a tree
 * (its value is the same in any order: only the sign of a zero could differ, and -0 == +0). */
INLINE vi maxima(int K, const vf *score, vm *top) {
    vf m[MAX_ARMS];
    for (int k = 0; k < K; k++) m[k] = score[k];
    for (int width = K; width > 1; width = (width + 1) / 2)
        for (int i = 0; i < width / 2; i++) m[i] = select_f(gt(m[i + (width + 1) / 2], m[i]), m[i + (width + 1) / 2], m[i]);
    vi count = (vi){0};
    for (int k = 0; k < K; k++) top[k] = eq(score[k], m[0]), count = count_if(top[k], count);
    return count;
}

/* break_tie: the floor(u m)-th (clamped to m - 1) of the m maxima, in arm order, as one mask per arm
 * (the maximum itself where no lane has tied maxima: then floor(u 1) = 0 whatever u). */
INLINE int has_ties(vi count) { return any_lane(gt_i(count, (vi){0} + 1)); }
INLINE void break_tie(int K, const vm *top, vi count, vf u, vm *hit) {
    if (!has_ties(count)) {
        for (int k = 0; k < K; k++) hit[k] = top[k];
        return;
    }
    vi index = __builtin_convertvector(u * to_float(count), vi);
    vi last = count - 1;
    index = select_i(gt_i(index, last), last, index);
    vi rank = (vi){0};
    for (int k = 0; k < K; k++) hit[k] = top[k] & eq_i(rank, index), rank = count_if(top[k], rank);
}

/* The arm of step t, as one mask per arm (hit[k]: the lanes that pull arm k). */
INLINE void choose(int K, const policy_t *p, policy_arms_t s, const stream_t *stream, uint64_t t, vf log_t,
                   vm *hit) {
    vf score[MAX_ARMS];
    vm top[MAX_ARMS];
    scores(K, p, s, stream, t, 0, log_t, score);
    vi count = maxima(K, score, top);
#if EPSILON_GREEDY
    policy_words_t words = policy_words(t, stream);
    break_tie(K, top, count, words.tie, hit);
    vi uniform = __builtin_convertvector(words.arm * (float)K, vi);
    uniform = select_i(gt_i(uniform, (vi){0} + (K - 1)), (vi){0} + (K - 1), uniform);
    vm explore = lt(words.coin, p->epsilon);
    for (int k = 0; k < K; k++) hit[k] = (explore & eq_i(uniform, (vi){0} + k)) | (not_m(explore) & hit[k]);
#else
    /* the tie word matters only where the maxima tie: drawn only then */
    vf tie = has_ties(count) ? policy_words(t, stream).tie : splat(0.0f);
    break_tie(K, top, count, tie, hit);
#endif
}

/* P(step t pulls each arm), per lane in double (value.probabilities, thompson.probabilities). */
INLINE void probabilities(int K, const policy_t *p, policy_arms_t s, const stream_t *stream, uint64_t t,
                          double prob[][LANES]) {
    vf score[MAX_ARMS];
    vm top[MAX_ARMS];
    vf log_t = splat((float)log((double)(t + 1)));
    for (int k = 0; k < K; k++)
        for (int l = 0; l < LANES; l++) prob[k][l] = 0.0;
#if THOMPSON
    for (uint32_t draw = 1; draw <= BB_RNG_P_BEST_DRAWS; draw++) {
#else
    for (uint32_t draw = 0; draw < 1; draw++) {
#endif
        scores(K, p, s, stream, t, draw, log_t, score);
        vi count = maxima(K, score, top);
        vi none = (vi){0};
        for (int k = 0; k < K; k++) {
            vi is_top = select_i(top[k], none - 1, none);
            for (int l = 0; l < LANES; l++) prob[k][l] += is_top[l] ? 1.0 / (double)count[l] : 0.0;
        }
    }
    for (int k = 0; k < K; k++)
        for (int l = 0; l < LANES; l++) {
#if THOMPSON
            prob[k][l] /= BB_RNG_P_BEST_DRAWS;
#elif EPSILON_GREEDY
            double epsilon = (double)p->epsilon[l];
            prob[k][l] = (1.0 - epsilon) * prob[k][l] + epsilon / K;
#endif
        }
    (void)p;
}

/* ---------------------------------------------------------------- a step */
INLINE void policy_step(int K, const policy_t *p, policy_arms_t s, const stream_t *stream, uint64_t t, vf log_t,
                        vf reward_draw) {
    vm hit[MAX_ARMS];
    choose(K, p, s, stream, t, log_t, hit);
    vf q = s.param[0];
    for (int k = 1; k < K; k++) q = select_f(hit[k], s.param[k], q);
#if GAUSSIAN
    vf reward = q + p->sd * reward_draw;
#else
    vf reward = select_f(lt(reward_draw, q), p->win, p->loss);
#endif
    for (int k = 0; k < K; k++) s.sums[k] = select_f(hit[k], s.sums[k] + reward, s.sums[k]);
#if THOMPSON
#if GAUSSIAN
    for (int k = 0; k < K; k++) s.n[k] = count_if(hit[k], s.n[k]), s.q[k] = select_f(hit[k], s.q[k] + reward, s.q[k]);
#else
    vm won = eq(reward, p->win);
    for (int k = 0; k < K; k++) s.n[k] = count_if(hit[k] & won, s.n[k]), s.losses[k] = count_if(hit[k] & not_m(won), s.losses[k]);
#endif
    update_posterior(K, p, s, hit);
#else /* Q += (r - Q) / N, or alpha (r - Q), on the pulled arm */
    vf q_arm = s.q[0];
    vi n_arm = (vi){0};
    for (int k = 0; k < K; k++) {
        s.n[k] = count_if(hit[k], s.n[k]);
        q_arm = select_f(hit[k], s.q[k], q_arm);
        n_arm = select_i(hit[k], s.n[k], n_arm);
    }
#if BB_STEP_SIZE
    vf updated = q_arm + p->step_size * (reward - q_arm);
    (void)n_arm;
#else
    vf updated = q_arm + (reward - q_arm) / to_float(n_arm);
#endif
    for (int k = 0; k < K; k++) s.q[k] = select_f(hit[k], updated, s.q[k]);
#endif
}

/* ---------------------------------------------------------------- a block of bandits */
/* Arm k's pulls so far in the run (the episode's pulls are its difference from the episode's start). */
INLINE vi run_pulls(policy_arms_t s, int k) { return BINARY_THOMPSON ? s.n[k] + s.losses[k] : s.n[k]; }

/* The end of an episode: cpu_kernel.c's tallies, and P(best) from the policy's probabilities. */
INLINE void policy_end_episode(int K, policy_arms_t s, const vf *gap, double prob[][LANES], const bb_batch *a,
                               int64_t lo, int used, int64_t episode, int64_t n_episodes, int64_t slot,
                               int64_t n_recorded) {
    for (int k = 0; k < K; k++) s.pulls[k] += run_pulls(s, k); /* pulls held minus the run's at the start */
    vf regret = to_float(s.pulls[0]) * gap[0]; /* sum_k pulls[k] gap[k], in arm order */
    for (int k = 1; k < K; k++) regret += to_float(s.pulls[k]) * gap[k];
    vf reward = s.sums[0];
    for (int k = 1; k < K; k++) reward += s.sums[k];
    for (int l = 0; l < used; l++) {
        int64_t g = lo + l;
        int32_t optimal = 0;
        for (int k = 0; k < K; k++) optimal += gap[k][l] == 0.0f ? s.pulls[k][l] : 0;
        a->episode_regret[g * n_episodes + episode] = regret[l];
        a->episode_reward[g * n_episodes + episode] = reward[l];
        a->episode_optimal[g * n_episodes + episode] = optimal;
        for (int k = 0; k < K; k++) a->episode_rewards[(g * n_recorded + slot) * K + k] = s.sums[k][l];
        a->episode_p_best[g * n_episodes + episode] = (float)prob[a->best_arm[g]][l];
    }
}

/* The estimates after the run (torch_engine.estimates) and the final probabilities. */
INLINE void policy_finish(int K, policy_arms_t s, double prob[][LANES], const bb_batch *a, int64_t lo, int used) {
    for (int k = 0; k < K; k++) {
#if BINARY_THOMPSON
        vf estimate = to_float(s.n[k] + 1) / to_float(s.n[k] + s.losses[k] + 2);
#elif THOMPSON
        vi pulls = select_i(gt_i(s.n[k], (vi){0} + 1), s.n[k], (vi){0} + 1);
        vf estimate = s.q[k] / to_float(pulls);
#else
        vf estimate = s.q[k];
#endif
        for (int l = 0; l < used; l++) {
            a->weights[(lo + l) * K + k] = estimate[l];
            a->final_probs[(lo + l) * K + k] = (float)prob[k][l];
        }
    }
}

/* Bandits lo .. lo + used - 1 (used <= LANES) for the whole run; 2 if cancelled. */
INLINE int run_policy_block(int K, const bb_batch *a, int64_t lo, int used, uint64_t seed, int64_t n_episodes,
                            int64_t steps_per_episode, int record_episodes) {
    policy_t p;
    vf q[MAX_ARMS], k0[MAX_ARMS], k1[MAX_ARMS], k2[MAX_ARMS], k3[MAX_ARMS], sums[MAX_ARMS];
    vf param[MAX_ARMS], gap[MAX_ARMS];
    vi n[MAX_ARMS], losses[MAX_ARMS], pulls[MAX_ARMS];
    double prob[MAX_ARMS][LANES];
    policy_arms_t s = {q, n, losses, k0, k1, k2, k3, sums, pulls, param};
    stream_t stream;
    policy_init(&p, a, lo, used);
    vf initial = THOMPSON ? splat(0.0f) : load_lanes(ROW(initial_value) + lo, used);
    vf d, c;
    gamma_constants(splat(1.0f), &d, &c); /* Beta(1, 1): both shapes 1 */
    for (int k = 0; k < K; k++) {
        param[k] = load_arm(a->arm_param + lo * K, K, k, used);
        gap[k] = load_arm(a->arm_gap + lo * K, K, k, used);
        q[k] = initial;
        n[k] = losses[k] = (vi){0};
        k0[k] = k2[k] = d, k1[k] = k3[k] = c;
    }
#if THOMPSON && GAUSSIAN /* the prior's: precision 1/sd0^2 + 0, mean (mu0/sd0^2 + 0) / precision */
    {
        vf precision = p.prior_precision + to_float(n[0]) * p.noise_precision;
        vf mean = (p.prior_term + q[0] * p.noise_precision) / precision, root = vsqrt(precision);
        for (int k = 0; k < K; k++) k0[k] = mean, k1[k] = root;
    }
#endif
    stream_init(&stream, a->bandit_ids + lo, used, seed);
    draws_t now, next = draw_pair(0, &stream);
    const int64_t n_recorded = record_episodes ? n_episodes : 1;
    uint64_t t = 0;
    for (int64_t episode = 0; episode < n_episodes; episode++) {
        for (int k = 0; k < K; k++) sums[k] = splat(0.0f), pulls[k] = -run_pulls(s, k);
        for (int64_t done = 0; done < steps_per_episode;) {
            int64_t segment = steps_per_episode - done < PROGRESS_STEPS ? steps_per_episode - done : PROGRESS_STEPS;
            for (int64_t i = 0; i < segment; i++, t++) {
                if ((t & 1) == 0) { /* one Philox call feeds the rewards of steps t, t + 1, a pair ahead */
                    now = next;
                    next = draw_pair((t >> 1) + 1, &stream);
                }
                vf log_t = UCB ? splat((float)log((double)(t + 1))) : splat(0.0f); /* ln t, t = 1, 2, ... */
                policy_step(K, &p, s, &stream, t, log_t, now.reward[t & 1]);
            }
            done += segment;
            __atomic_fetch_add(a->progress, segment * used, __ATOMIC_RELAXED);
            if (__atomic_load_n(a->cancel, __ATOMIC_RELAXED)) return 2;
        }
        probabilities(K, &p, s, &stream, t, prob);
        policy_end_episode(K, s, gap, prob, a, lo, used, episode, n_episodes, record_episodes ? episode : 0,
                           n_recorded);
    }
    policy_finish(K, s, prob, a, lo, used); /* the probabilities of step t: the last episode's */
    return 0;
}

/* run_policy_block with K a compile-time constant, for the common sizes (10: the textbook's testbed). */
#define POLICY_SPECIALISED(K_)                                                                                \
    __attribute__((noinline)) static int run_policy_block_##K_(const bb_batch *a, int64_t lo, int used,        \
                                                               uint64_t seed, int64_t ne, int64_t spe, int rec) { \
        return run_policy_block(K_, a, lo, used, seed, ne, spe, rec);                                         \
    }
POLICY_SPECIALISED(2)
POLICY_SPECIALISED(4)
POLICY_SPECIALISED(10)
POLICY_SPECIALISED(16)

/* Bandits [lo, hi) of a batch, as bb_simulate: 0 when done, 1 for an unsupported K, 2 when cancelled. */
int bb_policy_simulate(const bb_batch *a, int64_t lo, int64_t hi, int32_t K, uint64_t seed, int64_t n_episodes,
                       int64_t steps_per_episode, int32_t record_episodes) {
    if (K < 2 || K > MAX_ARMS) return 1;
    for (int64_t start = lo; start < hi; start += LANES) {
        int used = (int)(hi - start < LANES ? hi - start : LANES), code;
        switch (K) {
            case 2: code = run_policy_block_2(a, start, used, seed, n_episodes, steps_per_episode, record_episodes); break;
            case 4: code = run_policy_block_4(a, start, used, seed, n_episodes, steps_per_episode, record_episodes); break;
            case 10: code = run_policy_block_10(a, start, used, seed, n_episodes, steps_per_episode, record_episodes); break;
            case 16: code = run_policy_block_16(a, start, used, seed, n_episodes, steps_per_episode, record_episodes); break;
            default: code = run_policy_block(K, a, start, used, seed, n_episodes, steps_per_episode, record_episodes);
        }
        if (code) return code;
    }
    return 0;
}

/* The normal deviates of n words through to_normals, four vectors at a time (for tests against rng.to_normal). */
void bb_policy_normals(int64_t n, const uint32_t *words, float *out) {
    for (int64_t i = 0; i < n; i += 4 * LANES) {
        vu word[4] = {{0}};
        vf z[4];
        for (int j = 0; j < 4 * LANES && i + j < n; j++) word[j / LANES][j % LANES] = words[i + j];
        to_normals(4, word, z);
        for (int j = 0; j < 4 * LANES && i + j < n; j++) out[i + j] = z[j / LANES][j % LANES];
    }
}
