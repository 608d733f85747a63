/* The fused CPU engine's kernel: the whole time loop of a block of bandits in one call.
 *
 * Layout. Bandits are processed LANES at a time as a struct of arrays (w[k][lane], ...), so every
 * inner loop runs across bandits in one SIMD vector (AVX-512: 16 floats; otherwise 8). A block's
 * state stays in registers and L1 for all its steps. Random numbers are drawn inside the loop:
 * Philox4x32-10 with key = seed and counter = (t / 2, g), one call per two steps, exactly the
 * stream of rng.py, computed a pair of steps ahead so that its latency overlaps the steps.
 *
 * One source, one rule per build. engines/cpu_build.py compiles this file once per learning rule
 * (state.Rule; once more for its traced runs, see Tracing), with a generated header that selects
 * the rule's code (the seed's rule: sgd, no momentum, no weight decay, no baseline, binary
 * rewards), so each rule's loop carries only its own work. The step is torch_engine.simulate's, operation for operation and in
 * its order (float32, no contraction: -ffp-contract=off; fused only where torch fuses: lerp):
 *   arm draw (inverse CDF) -> reward (binary: u < q ? win : loss; Gaussian: mean + sd * z) ->
 *   per-arm sums and pulls -> baseline (mean or EMA) -> gradient of the policy-gradient loss
 *   g = -(A inv_t / total) (onehot total - e) (+ wd w) -> torch.optim's SGD / Adam / RMSprop,
 * with 1 - beta and Adam's bias corrections from the float64 hyperparameters (optimizers.py).
 * The seed's rule keeps its own update, w += (lr inv_t r / total)(onehot total - e): its
 * arithmetic is pinned bit for bit by tests/test_seed_path.py. Builds for AVX-512, AVX2 and no
 * vector instructions give the same bits (tested; BATCHED_BANDIT_CPU_ISA=generic forces the last).
 *
 * Numerics that differ from torch's. exp is a polynomial (relative error < 1e-6 down to x = -20,
 * < 4e-6 down to -87; it moves a sampling boundary by at most ~5e-9, far below the 2^-24 grid of
 * the uniforms) and flushes to 0 below -87 where torch keeps subnormals: that differs only when
 * an arm's probability is below ~1e-38 and the arm uniform is exactly 0 (2^-24 per step). sqrt
 * is IEEE (correctly rounded); torch's CPU sqrt (MKL) is not always, so Adam and RMSprop weights
 * may differ in the last bits. Gaussian rewards' normals are bit-identical to rng.to_normal on
 * every one of the 2^24 grid points (log evaluated in double, see log_f32). So arm draws equal the
 * portable engine's except where rounding crosses a sampling boundary.
 *
 * Work per step (K = 4, AVX-512, 16 bandits, counted in the machine code of run_block_4): the
 * seed's rule 264 instructions (Philox 84 of them: vpmuludq on 32-bit words held in 64-bit lanes;
 * the kernel before issue 8: 344), momentum 300, mean baseline 281, Adam 371, RMSprop 314 (358
 * centred with momentum), Gaussian rewards 416 (the normal's log in double). Masks live in mask registers and the arm draw yields one mask per arm,
 * not an index to compare against; see also the pragma below.
 *
 * Tracing (record_every: state.Outcome's trace). A traced run uses a build of its own (BB_TRACE 1
 * in the generated header, its own cache key), so the untraced build has none of its code: its
 * machine code is byte for byte what it was. The tracing build runs the steps in runs that end at
 * trace points, and a step adds its rewards to the interval's. A point takes the interval's pulls as
 * each arm's count less its count at the last point (nothing counted per step), the regret's K
 * multiply-adds and the argmax of the sums, and writes each metric in one store: the trace is (R, B),
 * a point's bandits side by side. Its P(best) comes from the softmax that the next step computes
 * anyway (of the same weights). At record_every = 10 that is 1-5% more instructions (AVX2, counted
 * with valgrind: K = 4 +1.2%, K = 10 +4.9%, K = 16 +1.9%); benchmarks/trace.py times whole runs.
 *
 * Progress. The kernel adds the bandit-steps it has done to *progress (relaxed atomics) every
 * PROGRESS_STEPS steps of a block, and stops early, returning 2, when *cancel becomes nonzero;
 * the Python side polls both from its own thread while worker threads run the kernel.
 *
 * Built at first use by engines/cpu_build.py with the system C compiler; no Python headers.
 */
#include <math.h>
#include <stdint.h>
#include <string.h>
#if defined(__AVX512F__) || defined(__AVX__)
#include <immintrin.h>
#endif

/* GCC's partial redundancy elimination copies the step's exp polynomials across the time loop's
 * back edge (computing them twice: +45% instructions a step); without it the loop is as written. */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("no-tree-pre")
#endif

/* ---------------------------------------------------------------- the rule (compile time) */
/* engines/cpu_build.py force-includes a header generated from schema.py: the rule's choices
 * (BB_OPTIMIZER, BB_BASELINE, BB_REWARDS and their values BB_OPTIMIZER_SGD..., the flags
 * BB_MOMENTUM, BB_NESTEROV, BB_CENTERED, BB_WEIGHT_DECAY), whether the build traces (BB_TRACE),
 * the rows of the per-bandit number tables (ROW_lr, ROW64_beta1...) and the bb_batch struct, in
 * the order the Python side fills them. */
#if !defined(BB_GENERATED) || !defined(BB_TRACE)
#error "cpu_kernel.c is compiled by engines/cpu_build.py, which generates its header from schema.py"
#endif
#define SEED_RULE (BB_OPTIMIZER == BB_OPTIMIZER_SGD && !BB_MOMENTUM && !BB_WEIGHT_DECAY && \
                   BB_BASELINE == BB_BASELINE_NONE && BB_REWARDS == BB_REWARDS_BINARY)
#define GAUSSIAN (BB_REWARDS == BB_REWARDS_GAUSSIAN)
#if BB_OPTIMIZER != BB_OPTIMIZER_SGD && BB_OPTIMIZER != BB_OPTIMIZER_ADAM && BB_OPTIMIZER != BB_OPTIMIZER_RMSPROP
#error "unknown optimizer"
#endif
#if BB_BASELINE != BB_BASELINE_NONE && BB_BASELINE != BB_BASELINE_MEAN && BB_BASELINE != BB_BASELINE_EMA
#error "unknown baseline"
#endif

#if defined(__AVX512F__)
#define LANES 16 /* bandits per block: one 512-bit vector of floats */
#else
#define LANES 8 /* one 256-bit (AVX) or two 128-bit (SSE) vectors */
#endif
#define MAX_ARMS 64
#define PROGRESS_STEPS 1024 /* a block reports progress (and checks for cancellation) this often */
#define INLINE static inline __attribute__((always_inline))

/* The build's identity: engines/cpu_build.py compiles its cache key in (-DBB_BUILD_KEY="...") and
 * cpu_cache.py reads it back before using a cached library, so a stale, corrupt or renamed file is
 * rebuilt, not run. */
#ifndef BB_BUILD_KEY
#define BB_BUILD_KEY ""
#endif
const char *bb_build_key(void) { return BB_BUILD_KEY; }

/* ---------------------------------------------------------------- vectors: one lane per bandit
 * GCC/Clang vector extensions; intrinsics only where the extensions have no operation (sqrt,
 * fused multiply-add, the 32x32->64-bit product). Plain loops over lanes are not vectorised by
 * gcc -O3 without -ffast-math: the selects in exp and in the arm draw count as control flow. */
typedef float vf __attribute__((vector_size(4 * LANES)));
typedef int32_t vi __attribute__((vector_size(4 * LANES)));
typedef uint32_t vu __attribute__((vector_size(4 * LANES)));
typedef uint64_t vu64 __attribute__((vector_size(8 * LANES)));
typedef double vd __attribute__((vector_size(8 * LANES)));

INLINE vf splat(float x) { return (vf){0} + x; }

/* Lane masks: comparisons, selects and counts. On AVX-512 a mask lives in a mask register (a
 * vector of all-ones / zero lanes would make every compare-and-select a round trip through one);
 * elsewhere it is that vector. Comparisons are IEEE's ordered ones, as C's < <= > >= on vectors. */
#if defined(__AVX512F__)
typedef __mmask16 vm;
#define CMP_F(name, predicate) \
    INLINE vm name(vf a, vf b) { return _mm512_cmp_ps_mask((__m512)a, (__m512)b, predicate); }
CMP_F(lt, _CMP_LT_OQ)
CMP_F(le, _CMP_LE_OQ)
CMP_F(gt, _CMP_GT_OQ)
CMP_F(ge, _CMP_GE_OQ)
CMP_F(ne, _CMP_NEQ_UQ)
CMP_F(eq, _CMP_EQ_OQ)
INLINE vm eq_i(vi a, vi b) { return _mm512_cmpeq_epi32_mask((__m512i)a, (__m512i)b); }
INLINE vf select_f(vm mask, vf a, vf b) { return (vf)_mm512_mask_blend_ps(mask, (__m512)b, (__m512)a); }
INLINE vi select_i(vm mask, vi a, vi b) { return (vi)_mm512_mask_blend_epi32(mask, (__m512i)b, (__m512i)a); }
INLINE vi count_if(vm mask, vi n) { return (vi)_mm512_mask_sub_epi32((__m512i)n, mask, (__m512i)n, _mm512_set1_epi32(-1)); }
INLINE int any_lane(vm mask) { return mask != 0; }
#define ALL_LANES ((vm)0xFFFF)
#else
typedef vi vm;
INLINE vm lt(vf a, vf b) { return a < b; }
INLINE vm le(vf a, vf b) { return a <= b; }
INLINE vm gt(vf a, vf b) { return a > b; }
INLINE vm ge(vf a, vf b) { return a >= b; }
INLINE vm ne(vf a, vf b) { return a != b; }
INLINE vm eq(vf a, vf b) { return a == b; }
INLINE vm eq_i(vi a, vi b) { return a == b; }
INLINE vf select_f(vm mask, vf a, vf b) { return (vf)(((vi)a & mask) | ((vi)b & ~mask)); }
INLINE vi select_i(vm mask, vi a, vi b) { return (a & mask) | (b & ~mask); }
INLINE vi count_if(vm mask, vi n) { return n - mask; } /* a true lane is -1 */
INLINE int any_lane(vm mask) {
#if defined(__AVX__)
    return !_mm256_testz_si256((__m256i)mask, (__m256i)mask);
#else
    int any = 0;
    for (int l = 0; l < LANES; l++) any |= mask[l];
    return any != 0;
#endif
}
#define ALL_LANES ((vm){0} - 1)
#endif
INLINE vf vsqrt(vf x) { /* IEEE square root (correctly rounded) */
#if defined(__AVX512F__)
    return (vf)_mm512_sqrt_ps((__m512)x);
#elif defined(__AVX__)
    return (vf)_mm256_sqrt_ps((__m256)x);
#else
    for (int l = 0; l < LANES; l++) x[l] = __builtin_sqrtf(x[l]);
    return x;
#endif
}
INLINE vd vsqrt_d(vd x) {
#if defined(__AVX512F__)
    vd r;
    for (int h = 0; h < LANES / 8; h++) ((__m512d *)&r)[h] = _mm512_sqrt_pd(((__m512d *)&x)[h]);
    return r;
#elif defined(__AVX__)
    vd r;
    for (int h = 0; h < LANES / 4; h++) ((__m256d *)&r)[h] = _mm256_sqrt_pd(((__m256d *)&x)[h]);
    return r;
#else
    for (int l = 0; l < LANES; l++) x[l] = __builtin_sqrt(x[l]);
    return x;
#endif
}
INLINE vf vfma(vf a, vf b, vf c) { /* a * b + c with one rounding */
#if defined(__AVX512F__)
    return (vf)_mm512_fmadd_ps((__m512)a, (__m512)b, (__m512)c);
#elif defined(__FMA__)
    return (vf)_mm256_fmadd_ps((__m256)a, (__m256)b, (__m256)c);
#else
    for (int l = 0; l < LANES; l++) a[l] = __builtin_fmaf(a[l], b[l], c[l]);
    return a;
#endif
}

/* ---------------------------------------------------------------- random numbers */
static const uint32_t PHILOX_M0 = 0xD2511F53u, PHILOX_M1 = 0xCD9E8D57u;
static const uint32_t PHILOX_W0 = 0x9E3779B9u, PHILOX_W1 = 0xBB67AE85u;

/* A block's stream: its bandits' ids (the counter's last two words) and the round keys. */
typedef struct {
#if defined(__AVX512F__)
    __m512i g_lo[2], g_hi[2]; /* bandits 8h .. 8h + 7 in the low halves of 64-bit lanes */
#else
    vu g_lo, g_hi;
#endif
    uint32_t keys[10][2]; /* (k0, k1) + round * (W0, W1) */
} stream_t;

INLINE void stream_init(stream_t *s, const int64_t *ids, int used, uint64_t seed) {
    uint32_t lo[LANES], hi[LANES];
    for (int l = 0; l < LANES; l++) { /* padding lanes repeat lane 0; never written out */
        uint64_t g = (uint64_t)ids[l < used ? l : 0];
        lo[l] = (uint32_t)g;
        hi[l] = (uint32_t)(g >> 32);
    }
#if defined(__AVX512F__)
    for (int h = 0; h < 2; h++) {
        s->g_lo[h] = _mm512_cvtepu32_epi64(_mm256_loadu_si256((const __m256i *)(lo + 8 * h)));
        s->g_hi[h] = _mm512_cvtepu32_epi64(_mm256_loadu_si256((const __m256i *)(hi + 8 * h)));
    }
#else
    memcpy(&s->g_lo, lo, sizeof lo);
    memcpy(&s->g_hi, hi, sizeof hi);
#endif
    for (int r = 0; r < 10; r++) {
        s->keys[r][0] = (uint32_t)seed + (uint32_t)r * PHILOX_W0;
        s->keys[r][1] = (uint32_t)(seed >> 32) + (uint32_t)r * PHILOX_W1;
    }
}

/* Philox4x32-10 of the counters (pair_lo, pair_hi, g_lo, g_hi): four words per lane. */
#if defined(__AVX512F__)
/* Each 32-bit word lives in the low half of a 64-bit lane (two vectors for 16 bandits), so a
 * round is two vpmuludq (32x32->64, reading only the low halves) giving both product halves, two
 * shifts and two three-way xors; the high halves hold garbage that nothing reads. The first round
 * multiplies the counter's first word, the same in every lane, once as a scalar. */
INLINE void philox(uint64_t pair, const stream_t *s, vu out[4]) {
    const __m512i m0 = _mm512_set1_epi64(PHILOX_M0), m1 = _mm512_set1_epi64(PHILOX_M1);
    const uint64_t p0 = (uint64_t)(uint32_t)pair * PHILOX_M0;
    const uint32_t c1 = (uint32_t)(pair >> 32);
    __m512i x0[2], x1[2], x2[2], x3[2];
    for (int h = 0; h < 2; h++) {
        __m512i p1 = _mm512_mul_epu32(s->g_lo[h], m1);
        x0[h] = _mm512_xor_si512(_mm512_srli_epi64(p1, 32), _mm512_set1_epi64(c1 ^ s->keys[0][0]));
        x2[h] = _mm512_xor_si512(s->g_hi[h], _mm512_set1_epi64((uint32_t)(p0 >> 32) ^ s->keys[0][1]));
        x1[h] = p1;
        x3[h] = _mm512_set1_epi64((uint32_t)p0);
    }
    for (int r = 1; r < 10; r++) {
        const __m512i k0 = _mm512_set1_epi64(s->keys[r][0]), k1 = _mm512_set1_epi64(s->keys[r][1]);
        for (int h = 0; h < 2; h++) {
            __m512i q0 = _mm512_mul_epu32(x0[h], m0), q1 = _mm512_mul_epu32(x2[h], m1);
            x0[h] = _mm512_ternarylogic_epi64(_mm512_srli_epi64(q1, 32), x1[h], k0, 0x96); /* a ^ b ^ c */
            x2[h] = _mm512_ternarylogic_epi64(_mm512_srli_epi64(q0, 32), x3[h], k1, 0x96);
            x1[h] = q1;
            x3[h] = q0;
        }
    }
    const __m512i even = _mm512_set_epi32(30, 28, 26, 24, 22, 20, 18, 16, 14, 12, 10, 8, 6, 4, 2, 0);
    out[0] = (vu)_mm512_permutex2var_epi32(x0[0], even, x0[1]);
    out[1] = (vu)_mm512_permutex2var_epi32(x1[0], even, x1[1]);
    out[2] = (vu)_mm512_permutex2var_epi32(x2[0], even, x2[1]);
    out[3] = (vu)_mm512_permutex2var_epi32(x3[0], even, x3[1]);
}
#else
INLINE void philox(uint64_t pair, const stream_t *s, vu out[4]) {
    vu c0 = (vu){0} + (uint32_t)pair, c1 = (vu){0} + (uint32_t)(pair >> 32), c2 = s->g_lo, c3 = s->g_hi;
    for (int r = 0; r < 10; r++) {
        vu64 p0 = __builtin_convertvector(c0, vu64) * (uint64_t)PHILOX_M0;
        vu64 p1 = __builtin_convertvector(c2, vu64) * (uint64_t)PHILOX_M1;
        c0 = __builtin_convertvector(p1 >> 32, vu) ^ c1 ^ s->keys[r][0];
        c2 = __builtin_convertvector(p0 >> 32, vu) ^ c3 ^ s->keys[r][1];
        c1 = __builtin_convertvector(p1, vu);
        c3 = __builtin_convertvector(p0, vu);
    }
    out[0] = c0; out[1] = c1; out[2] = c2; out[3] = c3;
}
#endif

INLINE vf to_uniform(vu word) { /* (word >> 8) * 2^-24: exact in float32 */
    return __builtin_convertvector((vi)(word >> 8), vf) * 0x1p-24f;
}

/* log(y) correctly rounded to float32, for y a normal float in (0, 1]: fdlibm's log evaluated in
 * double (error < 1 ulp of double), then rounded once. rng.to_normal takes its log in float64 and
 * rounds it the same way; tests/test_cpu_engine.py checks every y that can occur there. */
INLINE vf log_f32(vf y) {
    vi bits = (vi)y;
    vi mant = (bits & 0x007FFFFF) | 0x3F800000;  /* m in [1, 2) */
    vi big = mant > 0x3FB504F3;                  /* m > sqrt(2): use m / 2 in [sqrt(1/2), 1) */
    mant -= big & 0x00800000;
    vi expo = ((bits >> 23) & 0xFF) - 127 - big; /* y = m 2^expo */
    vd f = __builtin_convertvector((vf)mant, vd) - 1.0;
    vd k = __builtin_convertvector(expo, vd);
    vd s = f / (2.0 + f), z = s * s, w = z * z;
    vd t1 = w * (3.999999999940941908e-01 + w * (2.222219843214978396e-01 + w * 1.531383769920937332e-01));
    vd t2 = z * (6.666666666666735130e-01 + w * (2.857142874366239149e-01 +
                 w * (1.818357216161805012e-01 + w * 1.479819860511658591e-01)));
    vd r = t2 + t1, hfsq = 0.5 * f * f;
    vd log = k * 6.93147180369123816490e-01 - ((hfsq - (s * (hfsq + r) + k * 1.90821492927058770002e-10)) - f);
    return __builtin_convertvector(log, vf);
}

/* Giles' single-precision erfinv (rng.py), as float32 casts of the same double constants */
#define F(x) ((float)(x))
static const float ERFINV_CENTRE[9] = {F(2.81022636e-08), F(3.43273939e-07), F(-3.5233877e-06),
    F(-4.39150654e-06), F(0.00021858087), F(-0.00125372503), F(-0.00417768164), F(0.246640727), F(1.50140941)};
static const float ERFINV_TAIL[9] = {F(-0.000200214257), F(0.000100950558), F(0.00134934322),
    F(-0.00367342844), F(0.00573950773), F(-0.0076224613), F(0.00943887047), F(1.00167406), F(2.83297682)};

/* The standard normal deviate of a word: rng.to_normal, operation for operation.
 * z = Phi^-1((k + 1/2) 2^-24) = sqrt(2) erfinv(x), x = (2k + 1 - 2^24) 2^-24, k = word >> 8. */
INLINE vf to_normal(vu word) {
    vi k = (vi)(word >> 8);
    vf x = __builtin_convertvector(k * 2 + (1 - (1 << 24)), vf) * 0x1p-24f;
    vf w = -log_f32((1.0f - x) * (1.0f + x));
    vf centre = w - 2.5f, p = splat(ERFINV_CENTRE[0]);
    for (int i = 1; i < 9; i++) p = ERFINV_CENTRE[i] + p * centre;
    vm in_tail = ge(w, splat(5.0f));
    if (any_lane(in_tail)) { /* |z| > 2.8: 1 word in 290, so most blocks skip the tail's sqrt */
        vf tail = vsqrt(w) - 3.0f, q = splat(ERFINV_TAIL[0]);
        for (int i = 1; i < 9; i++) q = ERFINV_TAIL[i] + q * tail;
        p = select_f(in_tail, q, p);
    }
    return p * x * F(1.4142135623730951);
}

/* ---------------------------------------------------------------- the policy */
/* exp(x) for x <= 0: 2^n * 2^f, f in [-0.5, 0.5], Cephes' exp2f polynomial; 0 below -87
 * (no subnormals). x * log2(e) is rounded to float: relative error grows ~1.3e-8 |x|. */
INLINE vf exp_nonpositive(vf x) {
    vf y = x * 1.44269504088896341f;
    y = select_f(lt(y, splat(-126.0f)), splat(-126.0f), y);
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
    return select_f(lt(x, splat(-87.0f)), splat(0.0f), result);
}

/* e[k] = exp(w[k] / T - max_k w[k] / T); returns sum_k e[k] (summed in arm order). */
INLINE vf softmax_terms(int K, const vf *w, vf inv_t, vf *e) {
    vf m = w[0] * inv_t;
    for (int k = 1; k < K; k++) {
        vf z = w[k] * inv_t;
        m = select_f(gt(z, m), z, m);
    }
    vf total = splat(0.0f);
    for (int k = 0; k < K; k++) {
        e[k] = exp_nonpositive(w[k] * inv_t - m);
        total = k == 0 ? e[0] : total + e[k];
    }
    return total;
}

/* The arm of inverse-CDF sampling, #{k < K-1 : cdf[k] <= u * total}, as one mask per arm (hit[k]:
 * the lanes that drew arm k); *param_out = the drawn arm's parameter. cdf never decreases, so the
 * lanes past cdf[k] are among those past cdf[k-1], and arm k is drawn where k-1 is passed but not k. */
INLINE void draw_arm(int K, const vf *e, vf total, vf u, const vf *param, vm *hit, vf *param_out) {
    vf threshold = u * total, q = param[0], cdf = e[0];
    vm before = ALL_LANES; /* lanes past cdf[k-1] */
    for (int k = 1; k < K; k++) {
        vm past = le(cdf, threshold);
        hit[k - 1] = before & ~past;
        before = past;
        q = select_f(past, param[k], q);
        cdf += e[k];
    }
    hit[K - 1] = before;
    *param_out = q;
}

/* ---------------------------------------------------------------- a block of bandits */
/* The per-bandit numbers of a block, one lane each (fields a rule does not use are dead code). */
typedef struct {
    vf inv_t, lr, lr_inv_t, win, loss, sd, momentum, damp_factor, weight_decay, eps;
    vf b1_coeff, b2, one_minus_b2;       /* adam: lerp coefficient of 1 - beta1 (see lerp) */
    vm b1_small;
    vd beta1, beta2;                     /* adam, in double for the bias corrections */
    vf alpha, one_minus_alpha, ga_coeff; /* rmsprop */
    vm ga_small;
    vf decay, one_minus_decay;           /* "ema" baseline */
} lanes_t;

/* What a step updates besides the per-arm arrays. */
typedef struct {
    vf baseline;      /* the reward baseline */
    vd pow_b1, pow_b2; /* adam: beta^(t+1), a running product in double */
    vf lr_c1, c2;     /* adam: lr / (1 - beta1^(t+1)) and sqrt(1 - beta2^(t+1)) in float */
    int settled;      /* adam: every lane's bias corrections are exactly 1, and stay 1 */
} running_t;

/* The per-arm state of a block: arrays local to run_block (so that the compiler keeps them in
 * registers; a struct holding them is kept in memory), reached through these pointers. */
typedef struct {
    vf *w, *sums, *buf, *avg, *avg_sq; /* weights, reward sums, momentum, first / second moments */
    vi *pulls;
    const vf *param;                   /* P(win) or mean per arm */
} arms_t;

/* torch.lerp(a, b, weight) with weight = 1 - beta per lane, as torch computes it on the CPU:
 * fma(weight, b - a, a) for |weight| < 0.5, else fma(weight - 1, b - a, b). */
INLINE void lerp_setup(vf weight, vf *coeff, vm *small) {
    vf magnitude = select_f(lt(weight, splat(0.0f)), -weight, weight);
    *small = lt(magnitude, splat(0.5f));
    *coeff = select_f(*small, weight, weight - 1.0f);
}
INLINE vf lerp(vf a, vf b, vf coeff, vm small) { return vfma(coeff, b - a, select_f(small, a, b)); }

/* A batch's arrays (bb_batch, generated: see the top): rows (R, n) float and rows64 (R64, n) double
 * of per-bandit numbers, one row per name; these reach row ``name`` of bandit lo. */
#define ROW(name) (a->rows + (int64_t)ROW_##name * a->stride)
#define ROW64(name) (a->rows64 + (int64_t)ROW64_##name * a->stride)

INLINE vf load_lanes(const float *p, int used) {
    vf v;
    for (int l = 0; l < LANES; l++) v[l] = p[l < used ? l : 0]; /* padding lanes repeat lane 0 */
    return v;
}
INLINE vd load_lanes_f64(const double *p, int used) {
    vd v;
    for (int l = 0; l < LANES; l++) v[l] = p[l < used ? l : 0];
    return v;
}
INLINE vf load_arm(const float *p, int K, int k, int used) {
    vf v;
    for (int l = 0; l < LANES; l++) v[l] = p[(l < used ? l : 0) * K + k];
    return v;
}

INLINE void lanes_init(lanes_t *p, const bb_batch *a, int64_t lo, int used) {
    p->inv_t = load_lanes(ROW(inv_temperature) + lo, used);
    p->lr = load_lanes(ROW(lr) + lo, used);
    p->lr_inv_t = p->lr * p->inv_t;
    p->win = load_lanes(ROW(win) + lo, used);
    p->loss = load_lanes(ROW(loss) + lo, used);
    p->sd = load_lanes(ROW(reward_sd) + lo, used);
    p->momentum = load_lanes(ROW(momentum) + lo, used);
    vf damp_complement = load_lanes(ROW(one_minus_dampening) + lo, used);
    p->damp_factor = select_f(ne(p->momentum, splat(0.0f)), damp_complement, splat(1.0f)); /* torch: no buffer at 0 */
    p->weight_decay = load_lanes(ROW(weight_decay) + lo, used);
    p->eps = load_lanes(ROW(eps) + lo, used);
    lerp_setup(load_lanes(ROW(one_minus_beta1) + lo, used), &p->b1_coeff, &p->b1_small);
    p->b2 = load_lanes(ROW(beta2) + lo, used);
    p->one_minus_b2 = load_lanes(ROW(one_minus_beta2) + lo, used);
    p->beta1 = load_lanes_f64(ROW64(beta1) + lo, used);
    p->beta2 = load_lanes_f64(ROW64(beta2) + lo, used);
    p->alpha = load_lanes(ROW(alpha) + lo, used);
    p->one_minus_alpha = load_lanes(ROW(one_minus_alpha) + lo, used);
    lerp_setup(p->one_minus_alpha, &p->ga_coeff, &p->ga_small);
    p->decay = load_lanes(ROW(baseline_decay) + lo, used);
    p->one_minus_decay = load_lanes(ROW(one_minus_baseline_decay) + lo, used);
}

/* Adam's bias corrections for step t: 1 - beta1^(t+1) and sqrt(1 - beta2^(t+1)), in double from
 * the float64 betas (as torch.optim computes them from Python floats), then rounded to float;
 * beta^(t+1) is a running product (a few ulps of double from pow). Once every lane's corrections
 * round to exactly 1 they stay 1 and are no longer computed. */
INLINE void adam_corrections(const lanes_t *p, running_t *r) {
    if (r->settled) return;
    r->pow_b1 *= p->beta1;
    r->pow_b2 *= p->beta2;
    vf c1 = __builtin_convertvector(1.0 - r->pow_b1, vf);
    r->c2 = __builtin_convertvector(vsqrt_d(1.0 - r->pow_b2), vf);
    r->lr_c1 = p->lr / c1;
    r->settled = !any_lane(ne(c1, splat(1.0f)) | ne(r->c2, splat(1.0f)));
}

/* The reward baseline after the reward of step t; returns the advantage r - b. */
INLINE vf advantage(const lanes_t *p, running_t *r, vf reward, uint64_t t) {
#if BB_BASELINE == BB_BASELINE_MEAN
    r->baseline = r->baseline + (reward - r->baseline) / (float)(t + 1);
#elif BB_BASELINE == BB_BASELINE_EMA
    r->baseline = p->decay * r->baseline + p->one_minus_decay * reward;
#endif
    (void)p, (void)t;
    return BB_BASELINE != BB_BASELINE_NONE ? reward - r->baseline : reward;
}

/* torch.optim's step for arm k, given its gradient g (optimizers.py). damp_factor: SGD's factor
 * of g in the momentum buffer at this step (1 at t = 0: buf = 0 m + 1 g, torch's copy of g). */
INLINE void optimizer_step(const lanes_t *p, const running_t *r, arms_t s, int k, vf g, vf damp_factor) {
    (void)r, (void)damp_factor;
#if BB_WEIGHT_DECAY
    g = g + p->weight_decay * s.w[k];
#endif
#if BB_OPTIMIZER == BB_OPTIMIZER_SGD
#if BB_MOMENTUM
    s.buf[k] = s.buf[k] * p->momentum + damp_factor * g;
    g = BB_NESTEROV ? g + p->momentum * s.buf[k] : s.buf[k];
#endif
    s.w[k] = s.w[k] - p->lr * g;
#elif BB_OPTIMIZER == BB_OPTIMIZER_ADAM
    s.avg[k] = lerp(s.avg[k], g, p->b1_coeff, p->b1_small);
    s.avg_sq[k] = s.avg_sq[k] * p->b2 + p->one_minus_b2 * g * g;
    vf denom = vsqrt(s.avg_sq[k]) / r->c2 + p->eps;
    s.w[k] = s.w[k] - r->lr_c1 * (s.avg[k] / denom);
#elif BB_OPTIMIZER == BB_OPTIMIZER_RMSPROP
    s.avg_sq[k] = s.avg_sq[k] * p->alpha + p->one_minus_alpha * g * g;
#if BB_CENTERED
    s.avg[k] = lerp(s.avg[k], g, p->ga_coeff, p->ga_small);
    vf centred = s.avg_sq[k] - s.avg[k] * s.avg[k];
    vf avg = vsqrt(select_f(gt(centred, splat(0.0f)), centred, splat(0.0f))) + p->eps;
#else
    vf avg = vsqrt(s.avg_sq[k]) + p->eps;
#endif
#if BB_MOMENTUM
    s.buf[k] = s.buf[k] * p->momentum + g / avg;
    s.w[k] = s.w[k] - p->lr * s.buf[k];
#else
    s.w[k] = s.w[k] - p->lr * (g / avg);
#endif
#endif
}

/* The random numbers of a pair of steps 2p, 2p + 1: the arm's uniform and the reward's draw (a
 * uniform, or the normal deviate of Gaussian rewards), from one Philox call. */
typedef struct {
    vf arm[2], reward[2];
} draws_t;

INLINE draws_t draw_pair(uint64_t pair, const stream_t *stream) {
    vu words[4];
    draws_t d;
    philox(pair, stream, words);
    for (int i = 0; i < 2; i++) {
        d.arm[i] = to_uniform(words[2 * i]);
        d.reward[i] = GAUSSIAN ? to_normal(words[2 * i + 1]) : to_uniform(words[2 * i + 1]);
    }
    return d;
}

/* e[best] of each lane: the softmax term of its best arm. */
INLINE vf best_term(int K, const vf *e, vi best) {
    vf chosen = e[0];
    for (int k = 1; k < K; k++) chosen = select_f(eq_i(best, (vi){0} + k), e[k], chosen);
    return chosen;
}

/* One step t of a block: draw arms and rewards, add to the sums, update the weights; returns the
 * rewards. Tracing builds: if p_best, also P(best arm) (best: each lane's) of the policy it draws from. */
INLINE vf step(int K, const lanes_t *p, running_t *r, arms_t s, uint64_t t, vf u_arm, vf reward_draw, vf *p_best,
               vi best) {
    vf e[MAX_ARMS], q;
    vm hits[MAX_ARMS];
    vf total = softmax_terms(K, s.w, p->inv_t, e);
#if BB_TRACE
    if (p_best) *p_best = best_term(K, e, best) / total;
#else
    (void)p_best, (void)best;
#endif
    draw_arm(K, e, total, u_arm, s.param, hits, &q);
#if GAUSSIAN
    vf reward = q + p->sd * reward_draw;
#else
    vf reward = select_f(lt(reward_draw, q), p->win, p->loss);
#endif
#if SEED_RULE /* the seed's update, pinned: w += (lr inv_t r / total) (onehot total - e) */
    (void)r, (void)t;
    vf scale = p->lr_inv_t * reward / total;
    for (int k = 0; k < K; k++) {
        vm hit = hits[k];
        s.sums[k] = select_f(hit, s.sums[k] + reward, s.sums[k]);
        s.pulls[k] = count_if(hit, s.pulls[k]);
        s.w[k] += scale * (select_f(hit, total, splat(0.0f)) - e[k]);
    }
#else /* g = -(A inv_t / total) (onehot total - e), then the optimizer */
    vf neg_c = -(advantage(p, r, reward, t) * p->inv_t / total);
#if BB_OPTIMIZER == BB_OPTIMIZER_ADAM
    adam_corrections(p, r);
#endif
    vf damp_factor = t == 0 ? splat(1.0f) : p->damp_factor; /* the buffer starts as a copy of g */
    for (int k = 0; k < K; k++) {
        vm hit = hits[k];
        s.sums[k] = select_f(hit, s.sums[k] + reward, s.sums[k]);
        s.pulls[k] = count_if(hit, s.pulls[k]);
        optimizer_step(p, r, s, k, neg_c * (select_f(hit, total, splat(0.0f)) - e[k]), damp_factor);
    }
#endif
    return reward;
}

/* The end of an episode: per-arm sums, P(best arm), the pseudo-regret of its pulls, the reward
 * received (the per-arm sums added in arm order) and the pulls of a best arm (gap 0). */
INLINE void end_episode(int K, const lanes_t *p, arms_t s, const vf *gap, const bb_batch *a, int64_t lo, int used,
                        int64_t episode, int64_t n_episodes, int64_t slot, int64_t n_recorded) {
    vf e[MAX_ARMS];
    vf total = softmax_terms(K, s.w, p->inv_t, e);
    vf regret = __builtin_convertvector(s.pulls[0], vf) * gap[0]; /* sum_k pulls[k] gap[k], in arm order */
    for (int k = 1; k < K; k++) regret += __builtin_convertvector(s.pulls[k], vf) * gap[k];
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
        a->episode_p_best[g * n_episodes + episode] = e[a->best_arm[g]][l] / total[l];
    }
}

#if BB_TRACE
/* The trace (builds with BB_TRACE), (R, B) arrays: a point's bandits side by side, so that a block
 * writes each metric of a point in one store. Pulls since the last point are pulls[k] - since[k]:
 * since[k] holds arm k's count at that point (less the counts of episodes ended since), so a step
 * costs one addition (its rewards to the interval's); P(best) at a point is written by the next
 * step, from the softmax it computes of the same policy, or at the run's end. */
typedef struct {
    vf reward;    /* the rewards since the last point, in step order */
    vi best;      /* each lane's best arm */
    int64_t until; /* steps to the next point */
    int64_t point; /* its index */
    int pending;   /* the last point's P(best) is not yet written */
} trace_t;
typedef uint8_t vb __attribute__((vector_size(LANES)));

/* Lanes 0 .. used - 1 of v to dst[0 .. used - 1]: one store for a whole block. */
INLINE void store_f(float *dst, vf v, int used) {
    if (used == LANES) memcpy(dst, &v, sizeof v);
    else for (int l = 0; l < used; l++) dst[l] = v[l];
}
INLINE void store_i(int32_t *dst, vi v, int used) {
    if (used == LANES) memcpy(dst, &v, sizeof v);
    else for (int l = 0; l < used; l++) dst[l] = v[l];
}
INLINE void store_b(uint8_t *dst, vi v, int used) { /* v: 0 or 1 */
    vb b = __builtin_convertvector(v, vb);
    if (used == LANES) memcpy(dst, &b, sizeof b);
    else for (int l = 0; l < used; l++) dst[l] = b[l];
}

/* A trace point: the pseudo-regret (sum_k n_k gap_k in arm order), reward and pulls of a best arm
 * of the steps since the last point; the seed's verdict on the episode's sums so far (argmax,
 * first on ties, is the best arm); P(best) pending. Then the interval starts anew. */
INLINE void record_point(int K, arms_t s, vi *since, const vf *gap, trace_t *tr, const bb_batch *a, int64_t lo,
                         int used) {
    vf top = s.sums[0], regret = splat(0.0f);
    vi top_arm = (vi){0}, optimal = (vi){0};
    for (int k = 0; k < K; k++) {
        vi n = s.pulls[k] - since[k];
        since[k] = s.pulls[k];
        vf term = __builtin_convertvector(n, vf) * gap[k];
        regret = k == 0 ? term : regret + term;
        optimal += select_i(eq(gap[k], splat(0.0f)), n, (vi){0});
        vm higher = gt(s.sums[k], top); /* strictly: the first of equal sums stays */
        top = select_f(higher, s.sums[k], top);
        top_arm = select_i(higher, (vi){0} + k, top_arm);
    }
    int64_t at = tr->point * a->stride + lo;
    store_f(a->trace_regret + at, regret, used);
    store_f(a->trace_reward + at, tr->reward, used);
    store_i(a->trace_optimal + at, optimal, used);
    store_b(a->trace_success + at, select_i(eq_i(top_arm, tr->best), (vi){0} + 1, (vi){0}), used);
    tr->reward = splat(0.0f);
    tr->point++;
    tr->pending = 1;
    tr->until = a->record_every;
}

/* The pending P(best) of the last point. */
INLINE void record_p_best(trace_t *tr, vf p_best, const bb_batch *a, int64_t lo, int used) {
    store_f(a->trace_p_best + (tr->point - 1) * a->stride + lo, p_best, used);
    tr->pending = 0;
}
#endif

/* Bandits lo .. lo + used - 1 (used <= LANES) for the whole run; 2 if cancelled. */
INLINE int run_block(int K, const bb_batch *a, int64_t lo, int used, uint64_t seed, int64_t n_episodes,
                     int64_t steps_per_episode, int record_episodes) {
    lanes_t p;
    running_t r = {.baseline = splat(0.0f), .lr_c1 = splat(0.0f), .c2 = splat(1.0f), .settled = 0};
    r.pow_b1 = r.pow_b2 = (vd){0} + 1.0;
    vf w[MAX_ARMS], sums[MAX_ARMS], buf[MAX_ARMS], avg[MAX_ARMS], avg_sq[MAX_ARMS], param[MAX_ARMS], gap[MAX_ARMS];
    vi pulls[MAX_ARMS];
    arms_t s = {w, sums, buf, avg, avg_sq, pulls, param};
    stream_t stream;
    lanes_init(&p, a, lo, used);
    r.lr_c1 = p.lr;
    for (int k = 0; k < K; k++) {
        param[k] = load_arm(a->arm_param + lo * K, K, k, used);
        gap[k] = load_arm(a->arm_gap + lo * K, K, k, used);
        w[k] = load_arm(a->init_weights + lo * K, K, k, used);
        buf[k] = avg[k] = avg_sq[k] = splat(0.0f);
    }
    stream_init(&stream, a->bandit_ids + lo, used, seed);
    draws_t now, next = draw_pair(0, &stream);
    const int64_t n_recorded = record_episodes ? n_episodes : 1;
#if BB_TRACE
    vi since[MAX_ARMS];
    trace_t tr = {.reward = splat(0.0f), .until = a->record_every, .point = 0, .pending = 0};
    for (int l = 0; l < LANES; l++) tr.best[l] = (int32_t)a->best_arm[lo + (l < used ? l : 0)];
    for (int k = 0; k < K; k++) since[k] = (vi){0};
#endif
    uint64_t t = 0;
    for (int64_t episode = 0; episode < n_episodes; episode++) {
        for (int k = 0; k < K; k++) sums[k] = splat(0.0f), pulls[k] = (vi){0};
        for (int64_t done = 0; done < steps_per_episode;) {
            int64_t segment = steps_per_episode - done < PROGRESS_STEPS ? steps_per_episode - done : PROGRESS_STEPS;
#if BB_TRACE /* runs of steps end at trace points, so that the step loop is the same without them */
            for (int64_t run, left = segment; left > 0; left -= run) {
                run = left < tr.until ? left : tr.until;
#else
            {
                int64_t run = segment;
#endif
                for (int64_t i = 0; i < run; i++, t++) {
                    if ((t & 1) == 0) { /* one Philox call feeds steps t, t + 1; drawn a pair ahead, so */
                        now = next;     /* that its latency (and the normals') overlaps other steps */
                        next = draw_pair((t >> 1) + 1, &stream);
                    }
#if BB_TRACE /* the interval's rewards, step by step; the first step after a point writes its P(best) */
                    if (tr.pending) {
                        vf p_best;
                        tr.reward += step(K, &p, &r, s, t, now.arm[t & 1], now.reward[t & 1], &p_best, tr.best);
                        record_p_best(&tr, p_best, a, lo, used);
                    } else {
                        tr.reward += step(K, &p, &r, s, t, now.arm[t & 1], now.reward[t & 1], NULL, tr.best);
                    }
#else
                    step(K, &p, &r, s, t, now.arm[t & 1], now.reward[t & 1], NULL, (vi){0});
#endif
                }
#if BB_TRACE
                if ((tr.until -= run) == 0) record_point(K, s, since, gap, &tr, a, lo, used);
#endif
            }
            done += segment;
            __atomic_fetch_add(a->progress, segment * used, __ATOMIC_RELAXED);
            if (__atomic_load_n(a->cancel, __ATOMIC_RELAXED)) return 2;
        }
        end_episode(K, &p, s, gap, a, lo, used, episode, n_episodes, record_episodes ? episode : 0, n_recorded);
#if BB_TRACE
        for (int k = 0; k < K; k++) since[k] -= pulls[k]; /* an interval may span the episode's end */
#endif
    }
#if BB_TRACE
    if (tr.pending) { /* the run's last step ended at a point */
        vf e[MAX_ARMS];
        vf total = softmax_terms(K, w, p.inv_t, e);
        record_p_best(&tr, best_term(K, e, tr.best) / total, a, lo, used);
    }
#endif
    for (int l = 0; l < used; l++)
        for (int k = 0; k < K; k++) a->weights[(lo + l) * K + k] = w[k][l];
    return 0;
}

/* run_block with K a compile-time constant, for the common sizes: loops over arms unroll. */
#define SPECIALISED(K_)                                                                               \
    __attribute__((noinline)) static int run_block_##K_(const bb_batch *a, int64_t lo, int used, uint64_t seed, int64_t ne,     \
                              int64_t spe, int rec) {                                                 \
        return run_block(K_, a, lo, used, seed, ne, spe, rec);                                        \
    }
SPECIALISED(2)
SPECIALISED(3)
SPECIALISED(4)
SPECIALISED(8)
SPECIALISED(16)

/* Bandits [lo, hi) of a batch (arrays batch first, as state.Batch / state.Outcome): 0 when done,
 * 1 for an unsupported K, 2 when cancelled. */
int bb_simulate(const bb_batch *a, int64_t lo, int64_t hi, int32_t K, uint64_t seed, int64_t n_episodes,
                int64_t steps_per_episode, int32_t record_episodes) {
    if (K < 2 || K > MAX_ARMS) return 1;
    for (int64_t start = lo; start < hi; start += LANES) {
        int used = (int)(hi - start < LANES ? hi - start : LANES), code;
        switch (K) {
            case 2: code = run_block_2(a, start, used, seed, n_episodes, steps_per_episode, record_episodes); break;
            case 3: code = run_block_3(a, start, used, seed, n_episodes, steps_per_episode, record_episodes); break;
            case 4: code = run_block_4(a, start, used, seed, n_episodes, steps_per_episode, record_episodes); break;
            case 8: code = run_block_8(a, start, used, seed, n_episodes, steps_per_episode, record_episodes); break;
            case 16: code = run_block_16(a, start, used, seed, n_episodes, steps_per_episode, record_episodes); break;
            default: code = run_block(K, a, start, used, seed, n_episodes, steps_per_episode, record_episodes);
        }
        if (code) return code;
    }
    return 0;
}

/* Which branch of the #ifs above this build compiled (for tests: BATCHED_BANDIT_CPU_ISA=generic
 * must really give the generic one). */
const char *bb_isa(void) {
#if defined(__AVX512F__)
    return "avx512";
#elif defined(__AVX__)
    return "avx";
#else
    return "generic";
#endif
}

/* The Gaussian rewards' normal deviates of n words (for tests against rng.to_normal). */
void bb_normals(int64_t n, const uint32_t *words, float *out) {
    for (int64_t i = 0; i < n; i += LANES) {
        vu word = (vu){0};
        for (int l = 0; l < LANES && i + l < n; l++) word[l] = words[i + l];
        vf z = to_normal(word);
        for (int l = 0; l < LANES && i + l < n; l++) out[i + l] = z[l];
    }
}

/* The words of Philox4x32-10 for counters (pair, ids[i]) under key seed (for tests). */
void bb_philox(int64_t n, const int64_t *ids, uint64_t pair, uint64_t seed, uint32_t *out) {
    for (int64_t i = 0; i < n; i += LANES) {
        int used = (int)(n - i < LANES ? n - i : LANES);
        stream_t stream;
        vu words[4];
        stream_init(&stream, ids + i, used, seed);
        philox(pair, &stream, words);
        for (int l = 0; l < used; l++)
            for (int j = 0; j < 4; j++) out[(i + l) * 4 + j] = words[j][l];
    }
}

/* meanfield.py's expected-update trajectory of SGD, in double precision, for S settings of K arms:
 * p = softmax(w inv_t); g = -inv_t p (mu - p.mu) + wd w; torch.optim.SGD's momentum, dampening
 * (factor = 1 - dampening, or 1 where momentum is 0) and Nesterov; out[s, e] = P(best) at the end
 * of episode e. Not the engine: a deterministic recurrence that numpy runs too slowly (a Python
 * call per step). Returns 2, early, when *cancel becomes nonzero (checked every PROGRESS_STEPS steps,
 * so that Ctrl-C stops a long horizon within milliseconds). */
static void softmax_d(int K, const double *w, double inv_t, double *p) {
    double m = w[0] * inv_t, total = 0.0;
    for (int k = 1; k < K; k++) m = w[k] * inv_t > m ? w[k] * inv_t : m;
    for (int k = 0; k < K; k++) total += p[k] = exp(w[k] * inv_t - m);
    for (int k = 0; k < K; k++) p[k] /= total;
}

int bb_mean_field(int64_t S, int32_t K, const double *mu, const double *inv_t, const double *lr,
                  const double *momentum, const double *factor, const uint8_t *nesterov, const double *wd,
                  const double *w0, const int64_t *best, int64_t n_episodes, int64_t steps, double *out,
                  const int32_t *cancel) {
    if (K < 2 || K > MAX_ARMS) return 1;
    for (int64_t s = 0; s < S; s++) {
        double w[MAX_ARMS], buf[MAX_ARMS], p[MAX_ARMS];
        const double *m_s = mu + s * K, it = inv_t[s], l = lr[s], m = momentum[s], f = factor[s], d = wd[s];
        for (int k = 0; k < K; k++) w[k] = w0[s * K + k], buf[k] = 0.0;
        int64_t t = 0;
        for (int64_t e = 0; e < n_episodes; e++) {
            for (int64_t i = 0; i < steps; i++, t++) {
                if (t % PROGRESS_STEPS == 0 && __atomic_load_n(cancel, __ATOMIC_RELAXED)) return 2;
                softmax_d(K, w, it, p);
                double pm = 0.0;
                for (int k = 0; k < K; k++) pm += p[k] * m_s[k];
                for (int k = 0; k < K; k++) {
                    double g = -it * p[k] * (m_s[k] - pm) + d * w[k];
                    if (m != 0.0) {
                        buf[k] = t == 0 ? g : m * buf[k] + f * g;
                        g = nesterov[s] ? g + m * buf[k] : buf[k];
                    }
                    w[k] -= l * g;
                }
            }
            softmax_d(K, w, it, p);
            out[s * n_episodes + e] = p[best[s]];
        }
    }
    return 0;
}
