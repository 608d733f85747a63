/* The fused CPU engine's kernel: the whole time loop of a block of bandits in one call.
 *
 * Bandits are processed LANES at a time as a struct of arrays (w[k][lane], ...), so every inner
 * loop runs across bandits and the compiler vectorises it (AVX2: 8 floats, 4 64-bit products per
 * instruction). A block's state stays in L1 for all its steps. Random numbers are drawn inside
 * the loop: Philox4x32-10 with key = seed and counter = (t / 2, g), one call per two steps,
 * exactly the stream of rng.py. The step is torch_engine._step's math; exp is a polynomial
 * (relative error < 1e-6 down to x = -20, < 4e-6 down to -87; it moves a sampling boundary by at
 * most ~5e-9, far below the 2^-24 grid of the uniforms) and flushes to 0 below -87 where torch
 * keeps subnormals: that differs only when an arm's probability is below ~1e-38 and the arm
 * uniform is exactly 0 (2^-24 per step). So arm draws equal the portable engine's except where
 * rounding crosses a sampling boundary.
 *
 * Built at first use by engines/cpu_engine.py with the system C compiler; no Python headers.
 */
#include <stdint.h>
#include <string.h>

#if defined(__AVX512F__)
#define LANES 16 /* bandits per block: one 512-bit vector of floats */
#else
#define LANES 8 /* one 256-bit (AVX) or two 128-bit (SSE) vectors */
#endif
#define MAX_ARMS 64

/* Explicit SIMD with GCC/Clang vector extensions: one vector = one block of LANES bandits.
 * (Plain loops over lanes are not vectorised by gcc -O3 without -ffast-math: the selects in exp
 * and in the arm draw count as control flow under IEEE semantics.) */
typedef float vf __attribute__((vector_size(4 * LANES)));
typedef int32_t vi __attribute__((vector_size(4 * LANES)));
typedef uint32_t vu __attribute__((vector_size(4 * LANES)));
typedef uint64_t vu64 __attribute__((vector_size(8 * LANES)));

static inline __attribute__((always_inline)) vf select_f(vi mask, vf a, vf b) {  /* mask ? a : b, lane by lane */
    return (vf)(((vi)a & mask) | ((vi)b & ~mask));
}
static inline __attribute__((always_inline)) vf splat(float x) { return (vf){0} + x; }

static const uint32_t PHILOX_M0 = 0xD2511F53u, PHILOX_M1 = 0xCD9E8D57u;
static const uint32_t PHILOX_W0 = 0x9E3779B9u, PHILOX_W1 = 0xBB67AE85u;

/* Philox4x32-10 of counters (c0, c1, g_lo, g_hi) under key (k0, k1): four words per lane. */
static inline __attribute__((always_inline)) void philox(uint32_t c0_, uint32_t c1_, vu g_lo, vu g_hi, uint32_t k0, uint32_t k1,
                          vu out[4]) {
    vu c0 = (vu){0} + c0_, c1 = (vu){0} + c1_, c2 = g_lo, c3 = g_hi;
    for (int r = 0; r < 10; r++) {
        vu64 p0 = __builtin_convertvector(c0, vu64) * (uint64_t)PHILOX_M0;
        vu64 p1 = __builtin_convertvector(c2, vu64) * (uint64_t)PHILOX_M1;
        c0 = __builtin_convertvector(p1 >> 32, vu) ^ c1 ^ k0;
        c2 = __builtin_convertvector(p0 >> 32, vu) ^ c3 ^ k1;
        c1 = __builtin_convertvector(p1, vu);
        c3 = __builtin_convertvector(p0, vu);
        k0 += PHILOX_W0;
        k1 += PHILOX_W1;
    }
    out[0] = c0; out[1] = c1; out[2] = c2; out[3] = c3;
}

static inline __attribute__((always_inline)) vf to_uniform(vu word) {  /* (word >> 8) * 2^-24: exact in float32 */
    return __builtin_convertvector((vi)(word >> 8), vf) * 0x1p-24f;
}

/* exp(x) for x <= 0: 2^n * 2^f, f in [-0.5, 0.5], Cephes' exp2f polynomial; 0 below -87
 * (no subnormals). x * log2(e) is rounded to float: relative error grows ~1.3e-8 |x|. */
static inline __attribute__((always_inline)) vf exp_nonpositive(vf x) {
    vf y = x * 1.44269504088896341f;
    y = select_f(y < -126.0f, splat(-126.0f), y);
    vi n = __builtin_convertvector(y - 0.5f, vi);  /* truncation toward zero */
    vf f = y - __builtin_convertvector(n, vf);
    vf p = splat(1.535336188319500e-4f);
    p = p * f + 1.339887440266574e-3f;
    p = p * f + 9.618437357674640e-3f;
    p = p * f + 5.550332471162809e-2f;
    p = p * f + 2.402264791363012e-1f;
    p = p * f + 6.931472028550421e-1f;
    p = p * f + 1.0f;
    vf result = p * (vf)((n + 127) << 23);
    return select_f(x < -87.0f, splat(0.0f), result);
}

/* e[k] = exp(w[k] / T - max_k w[k] / T); returns sum_k e[k] (summed in arm order). */
static inline __attribute__((always_inline)) vf softmax_terms(int K, const vf *w, vf inv_t, vf *e) {
    vf m = w[0] * inv_t;
    for (int k = 1; k < K; k++) {
        vf z = w[k] * inv_t;
        m = select_f(z > m, z, m);
    }
    vf total = splat(0.0f);
    for (int k = 0; k < K; k++) {
        e[k] = exp_nonpositive(w[k] * inv_t - m);
        total = k == 0 ? e[0] : total + e[k];
    }
    return total;
}

/* One step of a block: draw arms (u_arm) and rewards (u_reward), add to sums, one SGD step. */
static inline __attribute__((always_inline)) void step(int K, vf *w, vi *sums, vi *pulls, const vf *win_prob, vf inv_t, vf lr_inv_t, vu word_arm,
                        vu word_reward) {
    vf e[MAX_ARMS];
    vf total = softmax_terms(K, w, inv_t, e);
    vf threshold = to_uniform(word_arm) * total;
    vi arm = (vi){0};
    vf q = win_prob[0], cdf = e[0];
    for (int k = 1; k < K; k++) {  /* arm = #{k < K-1 : cdf[k] <= u * total}; q = its P(+1) */
        vi past = cdf <= threshold;
        arm -= past;
        q = select_f(past, win_prob[k], q);
        cdf += e[k];
    }
    vi won = to_uniform(word_reward) < q;
    vf reward = select_f(won, splat(1.0f), splat(-1.0f));
    vi reward_i = (won & 2) - 1;
    vf scale = lr_inv_t * reward / total;
    for (int k = 0; k < K; k++) {
        vi hit = arm == k;
        sums[k] += hit & reward_i;
        pulls[k] -= hit;
        w[k] += scale * (select_f(hit, total, splat(0.0f)) - e[k]);
    }
}

static inline __attribute__((always_inline)) void run_block(int K, int lanes_used, const float *win_prob, const float *gap,
                             const float *inv_t_in,
                             const float *lr_in, const int64_t *ids, const int64_t *best, uint64_t seed,
                             int64_t n_episodes, int64_t steps_per_episode, int record_episodes,
                             float *weights_out, int32_t *rewards_out, float *p_best_out, float *regret_out) {
    vf w[MAX_ARMS], wp[MAX_ARMS], gp[MAX_ARMS], inv_t, lr_inv_t;
    vi sums[MAX_ARMS], pulls[MAX_ARMS];
    vu g_lo, g_hi, words[4];
    for (int l = 0; l < LANES; l++) {
        int src = l < lanes_used ? l : 0;  /* padding lanes repeat lane 0; never written out */
        inv_t[l] = inv_t_in[src];
        lr_inv_t[l] = lr_in[src] * inv_t_in[src];
        g_lo[l] = (uint32_t)ids[src];
        g_hi[l] = (uint32_t)((uint64_t)ids[src] >> 32);
        for (int k = 0; k < K; k++) wp[k][l] = win_prob[src * K + k];
        for (int k = 0; k < K; k++) gp[k][l] = gap[src * K + k];
    }
    for (int k = 0; k < K; k++) w[k] = splat(0.0f);
    const uint32_t k0 = (uint32_t)seed, k1 = (uint32_t)(seed >> 32);
    const int64_t n_recorded = record_episodes ? n_episodes : 1;
    uint64_t t = 0;
    for (int64_t episode = 0; episode < n_episodes; episode++) {
        for (int k = 0; k < K; k++) sums[k] = pulls[k] = (vi){0};
        for (int64_t s = 0; s < steps_per_episode; s++, t++) {
            if ((t & 1) == 0) {  /* one Philox call feeds steps t and t + 1 */
                uint64_t pair = t >> 1;
                philox((uint32_t)pair, (uint32_t)(pair >> 32), g_lo, g_hi, k0, k1, words);
            }
            int half = (int)(t & 1) * 2;
            step(K, w, sums, pulls, wp, inv_t, lr_inv_t, words[half], words[half + 1]);
        }
        int64_t slot = record_episodes ? episode : 0;
        vf e[MAX_ARMS];
        vf total = softmax_terms(K, w, inv_t, e);
        vf regret = __builtin_convertvector(pulls[0], vf) * gp[0];  /* sum_k pulls[k] gap[k], in arm order */
        for (int k = 1; k < K; k++) regret += __builtin_convertvector(pulls[k], vf) * gp[k];
        for (int l = 0; l < lanes_used; l++) {
            regret_out[l * n_episodes + episode] = regret[l];
            for (int k = 0; k < K; k++) rewards_out[(l * n_recorded + slot) * K + k] = sums[k][l];
            p_best_out[l * n_episodes + episode] = e[best[l]][l] / total[l];
        }
    }
    for (int l = 0; l < lanes_used; l++)
        for (int k = 0; k < K; k++) weights_out[l * K + k] = w[k][l];
}

#define SPECIALISED(K_)                                                                          \
    static void run_block_##K_(int lanes_used, const float *wp, const float *gp, const float *it,  \
                               const float *lr, const int64_t *ids, const int64_t *best,          \
                               uint64_t seed, int64_t ne, int64_t spe, int rec, float *wo,         \
                               int32_t *ro, float *po, float *rg) {                               \
        run_block(K_, lanes_used, wp, gp, it, lr, ids, best, seed, ne, spe, rec, wo, ro, po, rg); \
    }
SPECIALISED(2)
SPECIALISED(3)
SPECIALISED(4)
SPECIALISED(8)
SPECIALISED(16)

/* Bandits [0, n) of a batch; arrays batch first, as in state.Batch / state.Outcome. */
int bb_simulate(int64_t n, int32_t K, const float *win_prob, const float *gap, const float *inv_t,
                const float *lr, const int64_t *ids, const int64_t *best, uint64_t seed,
                int64_t n_episodes, int64_t steps_per_episode, int32_t record_episodes,
                float *weights_out, int32_t *rewards_out, float *p_best_out, float *regret_out) {
    if (K < 2 || K > MAX_ARMS) return 1;
    const int64_t n_recorded = record_episodes ? n_episodes : 1;
    for (int64_t lo = 0; lo < n; lo += LANES) {
        int used = (int)(n - lo < LANES ? n - lo : LANES);
        const float *wp = win_prob + lo * K, *gp = gap + lo * K;
        float *rg = regret_out + lo * n_episodes;
        float *wo = weights_out + lo * K;
        int32_t *ro = rewards_out + lo * n_recorded * K;
        float *po = p_best_out + lo * n_episodes;
        const float *it = inv_t + lo, *lr_ = lr + lo;
        const int64_t *id = ids + lo, *bs = best + lo;
        switch (K) {
            case 2: run_block_2(used, wp, gp, it, lr_, id, bs, seed, n_episodes, steps_per_episode, record_episodes, wo, ro, po, rg); break;
            case 3: run_block_3(used, wp, gp, it, lr_, id, bs, seed, n_episodes, steps_per_episode, record_episodes, wo, ro, po, rg); break;
            case 4: run_block_4(used, wp, gp, it, lr_, id, bs, seed, n_episodes, steps_per_episode, record_episodes, wo, ro, po, rg); break;
            case 8: run_block_8(used, wp, gp, it, lr_, id, bs, seed, n_episodes, steps_per_episode, record_episodes, wo, ro, po, rg); break;
            case 16: run_block_16(used, wp, gp, it, lr_, id, bs, seed, n_episodes, steps_per_episode, record_episodes, wo, ro, po, rg); break;
            default: run_block(K, used, wp, gp, it, lr_, id, bs, seed, n_episodes, steps_per_episode, record_episodes, wo, ro, po, rg);
        }
    }
    return 0;
}
