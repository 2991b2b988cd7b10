/* ops.c - per-row operations of the forward pass (see ops.h). */
#include "model/ops.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

#include "base/cpu.h"

void op_rmsnorm(float *out, const float *x, const float *w, int n, float eps) {
    double sum = 0.0; /* f32 squares, summed in double */
    for (int i = 0; i < n; i++) sum += (double)(x[i] * x[i]);
    float scale = 1.0f / sqrtf((float)(sum / n) + eps);
    if (w)
        for (int i = 0; i < n; i++) out[i] = x[i] * scale * w[i];
    else
        for (int i = 0; i < n; i++) out[i] = x[i] * scale;
}

/* YaRN: the dimension index where a rotary pair makes n_rot rotations over the original
 * context, used to place the ramp between interpolated and extrapolated frequencies. */
static float yarn_corr_dim(int n_dims, int n_ctx_orig, float n_rot, float base) {
    return n_dims * logf(n_ctx_orig / (n_rot * 2.0f * (float)M_PI)) / (2.0f * logf(base));
}

void rope_table_init(rope_table *t, const model_hparams *hp, bool neox, const float *freq_factors) {
    memset(t, 0, sizeof *t);
    t->n_rot = (int)hp->n_rot;
    t->neox = neox;
    t->theta_scale = powf(hp->rope_freq_base, -2.0f / (float)t->n_rot);
    for (int i = 0; i < t->n_rot / 2; i++) t->freq_factor[i] = freq_factors ? freq_factors[i] : 1.0f;
    t->freq_scale = 1.0f;
    t->attn_factor = 1.0f;
    if (hp->rope_scaling == ROPE_SCALING_LINEAR || hp->rope_scaling == ROPE_SCALING_YARN)
        t->freq_scale = 1.0f / hp->rope_scale_factor;
    if (hp->rope_scaling == ROPE_SCALING_YARN) {
        t->ext_factor = hp->yarn_ext_factor < 0 ? 1.0f : hp->yarn_ext_factor;
        t->attn_factor = hp->yarn_attn_factor;
        int orig = (int)(hp->rope_orig_ctx ? hp->rope_orig_ctx : hp->n_ctx_train);
        float lo = floorf(yarn_corr_dim(t->n_rot, orig, hp->yarn_beta_fast, hp->rope_freq_base));
        float hi = ceilf(yarn_corr_dim(t->n_rot, orig, hp->yarn_beta_slow, hp->rope_freq_base));
        t->corr_low = lo > 0 ? lo : 0;
        t->corr_high = hi < t->n_rot - 1 ? hi : (float)(t->n_rot - 1);
    }
}

static float yarn_ramp(float low, float high, int i0) {
    float y = (i0 / 2 - low) / fmaxf(0.001f, high - low);
    return 1.0f - fminf(1.0f, fmaxf(0.0f, y));
}

/* ---- the parts built on fused multiply-adds --------------------------------------------
 * Each body below is compiled twice: for AVX2+FMA CPUs, where fmaf is one instruction (and
 * loops vectorize), and plain, where fmaf is libm's (exact, slower). The public functions
 * pick once per call from fn_cpu(); both give the same bits. */

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define HAVE_FMA_BUILD 1
#define FMA_TARGET __attribute__((target("avx2,fma")))
#endif
#define INLINE static inline __attribute__((always_inline))

static bool use_fma(void) {
#ifdef HAVE_FMA_BUILD
    const fn_cpu_features *f = fn_cpu();
    return f->avx2 && f->fma;
#else
    return false;
#endif
}

/* 2^k for -126 <= k <= 127, exactly */
INLINE float pow2i(int k) {
    uint32_t bits = (uint32_t)(k + 127) << 23;
    float f;
    memcpy(&f, &bits, sizeof f);
    return f;
}

/* exp(x) = 2^n * p(b): n = round(x / ln 2), b = x - n ln 2 (ln 2 in two parts), p of
 * degree 5; every step rounded as ggml's AVX-512 code rounds it, the final scaling
 * (_mm512_scalef_ps) included: one rounding, also into the subnormal range. */
INLINE float expf_body(float x) {
    const float shift = 0x1.8p23f;
    float z = fmaf(x, 0x1.715476p+0f, shift);
    float n = z - shift;
    float b = fmaf(-n, 0x1.7f7d1cp-20f, fmaf(-n, 0x1.62e4p-1f, x));
    float u = b * b;
    float j = fmaf(fmaf(fmaf(0x1.0e4020p-7f, b, 0x1.573e2ep-5f), u, fmaf(0x1.555e66p-3f, b, 0x1.fffdb6p-2f)), u,
                   fmaf(0x1.ffffecp-1f, b, 1.0f));
    if (!(fabsf(n) <= 192.0f)) return n > 0.0f ? INFINITY : 0.0f; /* overflow, underflow, -inf, nan */
    int k = (int)n;
    if (k < -126) return j * pow2i(k + 100) * pow2i(-100); /* exact, then one rounding */
    if (k > 127) return j * pow2i(127) * pow2i(k - 127);  /* overflows to inf */
    return j * pow2i(k);
}

/* Sum of 16 floats paired as a 512-bit horizontal add pairs them: halves, quarters, pairs. */
INLINE float sum16(const float v[16]) {
    float a[8], b[4];
    for (int i = 0; i < 8; i++) a[i] = v[i + 8] + v[i];
    for (int i = 0; i < 4; i++) b[i] = a[i + 4] + a[i];
    return (b[0] + b[2]) + (b[1] + b[3]);
}

INLINE double exp_sum_body(float *y, const float *x, int n, float max) {
    double sum = 0.0;
    int i = 0;
    for (; i + 16 <= n; i += 16) {
        for (int j = 0; j < 16; j++) y[i + j] = expf_body(x[i + j] - max);
        sum += (double)sum16(y + i);
    }
    for (; i < n; i++) {
        y[i] = expf(x[i] - max);
        sum += (double)y[i];
    }
    return sum;
}

/* silu(g) * u = g / (1 + exp(-g)) * u; ggml's vector loop covers whole blocks of 16 and
 * leaves the rest to libm's expf */
INLINE void swiglu_body(float *out, const float *gate, const float *up, int n) {
    int i = 0, blocks = n - n % 16;
    for (; i < blocks; i++) out[i] = gate[i] / (1.0f + expf_body(0.0f - gate[i])) * up[i];
    for (; i < n; i++) out[i] = gate[i] / (1.0f + expf(-gate[i])) * up[i];
}

INLINE void rope_body(const rope_table *t, float *x, int n_heads, int head_dim, int pos) {
    int half = t->n_rot / 2;
    float cs[256], sn[256];
    float theta_base = (float)pos; /* pos * theta_scale^i, one rounding per step */
    for (int i = 0; i < half; i++) {
        float theta_extrap = theta_base / t->freq_factor[i];
        float theta = t->freq_scale * theta_extrap, mscale = t->attn_factor;
        if (t->ext_factor != 0.0f) {
            float mix = yarn_ramp(t->corr_low, t->corr_high, 2 * i) * t->ext_factor;
            theta = fmaf(theta, 1 - mix, theta_extrap * mix);
            mscale *= fmaf(0.1f, logf(1.0f / t->freq_scale), 1.0f);
        }
        cs[i] = cosf(theta) * mscale;
        sn[i] = sinf(theta) * mscale;
        theta_base *= t->theta_scale;
    }
    for (int h = 0; h < n_heads; h++) {
        float *v = x + (size_t)h * head_dim;
        for (int i = 0; i < half; i++) {
            int a = t->neox ? i : 2 * i, b = t->neox ? i + half : 2 * i + 1;
            float x0 = v[a], x1 = v[b];
            v[a] = fmaf(x0, cs[i], -(x1 * sn[i]));
            v[b] = fmaf(x0, sn[i], x1 * cs[i]);
        }
    }
}

#ifdef HAVE_FMA_BUILD
FMA_TARGET static float expf_fma(float x) { return expf_body(x); }
FMA_TARGET static double exp_sum_fma(float *y, const float *x, int n, float max) {
    return exp_sum_body(y, x, n, max);
}
FMA_TARGET static void swiglu_fma(float *out, const float *gate, const float *up, int n) {
    swiglu_body(out, gate, up, n);
}
FMA_TARGET static void rope_fma(const rope_table *t, float *x, int n_heads, int head_dim, int pos) {
    rope_body(t, x, n_heads, head_dim, pos);
}
#else
#define expf_fma expf_body
#define exp_sum_fma exp_sum_body
#define swiglu_fma swiglu_body
#define rope_fma rope_body
#endif

float op_expf(float x) { return use_fma() ? expf_fma(x) : expf_body(x); }

double op_exp_sum(float *y, const float *x, int n, float max) {
    return use_fma() ? exp_sum_fma(y, x, n, max) : exp_sum_body(y, x, n, max);
}

void op_swiglu(float *out, const float *gate, const float *up, int n) {
    if (use_fma())
        swiglu_fma(out, gate, up, n);
    else
        swiglu_body(out, gate, up, n);
}

void op_rope(const rope_table *t, float *x, int n_heads, int head_dim, int pos) {
    if (use_fma())
        rope_fma(t, x, n_heads, head_dim, pos);
    else
        rope_body(t, x, n_heads, head_dim, pos);
}

void op_route_topk(float *logits, int n_expert, int k, bool renorm, int32_t *experts, float *weights) {
    float max = -INFINITY, *p = logits;
    for (int e = 0; e < n_expert; e++) max = max > logits[e] ? max : logits[e];
    float inv = (float)(1.0 / op_exp_sum(p, logits, n_expert, max));
    for (int e = 0; e < n_expert; e++) p[e] *= inv;
    for (int j = 0; j < k; j++) {
        int best = -1;
        for (int e = 0; e < n_expert; e++) {
            bool taken = false;
            for (int i = 0; i < j && !taken; i++) taken = experts[i] == e;
            if (!taken && (best < 0 || p[e] > p[best])) best = e;
        }
        experts[j] = best;
        weights[j] = p[best];
    }
    if (renorm) {
        double total = 0.0;
        for (int j = 0; j < k; j++) total += (double)weights[j];
        float t = (float)total;
        if (t < 6.103515625e-5f) t = 6.103515625e-5f; /* smallest normal f16: never divide by ~0 */
        for (int j = 0; j < k; j++) weights[j] /= t;
    }
}
