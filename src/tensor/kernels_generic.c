/* kernels_generic.c - portable C matmul kernels: one dot product per (weight row, activation
 * row) pair, in the integer domain per block as the SIMD kernels do. The fallback on CPUs
 * without a SIMD level (and the baseline the SIMD kernels are benchmarked against). */
#include <math.h>
#include <string.h>

#include "tensor/blocks.h"
#include "tensor/kernels.h"
#include "tensor/quant_ref.h"
#include "tensor/tensor_format.h"

typedef float (*dot_fn)(int64_t n, const void *w, const void *a);

/* ---- shared helpers ---- */

/* The eight 6-bit scales and mins of Q4_K/Q5_K (packing described in quant_k.c). */
static void k4_scales(const uint8_t q[12], uint8_t sc[8], uint8_t mn[8]) {
    for (int j = 0; j < 4; j++) {
        sc[j] = q[j] & 63;
        mn[j] = q[j + 4] & 63;
        sc[j + 4] = (uint8_t)((q[j + 8] & 0xf) | ((q[j] >> 6) << 4));
        mn[j + 4] = (uint8_t)((q[j + 8] >> 4) | ((q[j + 4] >> 6) << 4));
    }
}

static uint32_t u32le(const uint8_t b[4]) {
    return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}

/* ---- 32-element blocks x Q8_0 ---- */

static float dot_q8_0(int64_t n, const void *vw, const void *va) {
    const block_q8_0 *w = vw;
    const block_q8_0 *a = va;
    /* ggml's order: 8 lanes, lane k sums the products of bytes 4k..4k+3 of every block,
     * scaled with one fused multiply-add per block; then a fixed pairwise tree. */
    float s[8] = {0};
    for (int64_t i = 0; i < n / QK8_0; i++) {
        const float d = fn_f16_to_f32(w[i].d) * fn_f16_to_f32(a[i].d);
        for (int k = 0; k < 8; k++) {
            int32_t acc = 0;
            for (int j = 4 * k; j < 4 * k + 4; j++) acc += w[i].qs[j] * a[i].qs[j];
            s[k] = fmaf(d, (float)acc, s[k]);
        }
    }
    return ((s[0] + s[4]) + (s[2] + s[6])) + ((s[1] + s[5]) + (s[3] + s[7]));
}

static float dot_q4_0(int64_t n, const void *vw, const void *va) {
    const block_q4_0 *w = vw;
    const block_q8_0 *a = va;
    float s = 0;
    for (int64_t i = 0; i < n / QK4_0; i++) {
        int32_t acc = 0;
        for (int j = 0; j < QK4_0 / 2; j++)
            acc += ((w[i].qs[j] & 0xf) - 8) * a[i].qs[j] + ((w[i].qs[j] >> 4) - 8) * a[i].qs[j + 16];
        s += fn_f16_to_f32(w[i].d) * fn_f16_to_f32(a[i].d) * (float)acc;
    }
    return s;
}

/* x = d*q + m: dot = d*da*sum(q*y) + m*da*sum(y) */
static float dot_q4_1(int64_t n, const void *vw, const void *va) {
    const block_q4_1 *w = vw;
    const block_q8_0 *a = va;
    float s = 0;
    for (int64_t i = 0; i < n / QK4_1; i++) {
        int32_t acc = 0, ysum = 0;
        for (int j = 0; j < QK4_1 / 2; j++) {
            acc += (w[i].qs[j] & 0xf) * a[i].qs[j] + (w[i].qs[j] >> 4) * a[i].qs[j + 16];
            ysum += a[i].qs[j] + a[i].qs[j + 16];
        }
        const float da = fn_f16_to_f32(a[i].d);
        s += fn_f16_to_f32(w[i].d) * da * (float)acc + fn_f16_to_f32(w[i].m) * da * (float)ysum;
    }
    return s;
}

static float dot_q5_0(int64_t n, const void *vw, const void *va) {
    const block_q5_0 *w = vw;
    const block_q8_0 *a = va;
    float s = 0;
    for (int64_t i = 0; i < n / QK5_0; i++) {
        const uint32_t qh = u32le(w[i].qh);
        int32_t acc = 0;
        for (int j = 0; j < QK5_0 / 2; j++) {
            const int q0 = (w[i].qs[j] & 0xf) | (int)((qh >> j) & 1) << 4;
            const int q1 = (w[i].qs[j] >> 4) | (int)((qh >> (j + 16)) & 1) << 4;
            acc += (q0 - 16) * a[i].qs[j] + (q1 - 16) * a[i].qs[j + 16];
        }
        s += fn_f16_to_f32(w[i].d) * fn_f16_to_f32(a[i].d) * (float)acc;
    }
    return s;
}

static float dot_q5_1(int64_t n, const void *vw, const void *va) {
    const block_q5_1 *w = vw;
    const block_q8_0 *a = va;
    float s = 0;
    for (int64_t i = 0; i < n / QK5_1; i++) {
        const uint32_t qh = u32le(w[i].qh);
        int32_t acc = 0, ysum = 0;
        for (int j = 0; j < QK5_1 / 2; j++) {
            const int q0 = (w[i].qs[j] & 0xf) | (int)((qh >> j) & 1) << 4;
            const int q1 = (w[i].qs[j] >> 4) | (int)((qh >> (j + 16)) & 1) << 4;
            acc += q0 * a[i].qs[j] + q1 * a[i].qs[j + 16];
            ysum += a[i].qs[j] + a[i].qs[j + 16];
        }
        const float da = fn_f16_to_f32(a[i].d);
        s += fn_f16_to_f32(w[i].d) * da * (float)acc + fn_f16_to_f32(w[i].m) * da * (float)ysum;
    }
    return s;
}

static float dot_mxfp4(int64_t n, const void *vw, const void *va) {
    const block_mxfp4 *w = vw;
    const block_q8_0 *a = va;
    float s = 0;
    for (int64_t i = 0; i < n / QK_MXFP4; i++) {
        int32_t acc = 0;
        for (int j = 0; j < QK_MXFP4 / 2; j++)
            acc += tensor_kvalues_mxfp4[w[i].qs[j] & 0xf] * a[i].qs[j] +
                   tensor_kvalues_mxfp4[w[i].qs[j] >> 4] * a[i].qs[j + 16];
        s += tensor_e8m0_to_f32_half(w[i].e) * fn_f16_to_f32(a[i].d) * (float)acc;
    }
    return s;
}

/* ---- K-quants x Q8_K ---- */

/* x = d*(sc&15)*q - dmin*(sc>>4) per 16; q 2-bit */
static float dot_q2_K(int64_t n, const void *vw, const void *va) {
    const block_q2_K *w = vw;
    const block_q8_K *a = va;
    float s = 0;
    for (int64_t i = 0; i < n / QK_K; i++) {
        int32_t isum = 0, msum = 0;
        for (int j = 0; j < QK_K / 16; j++) msum += (w[i].scales[j] >> 4) * a[i].bsums[j];
        const int8_t *y = a[i].qs;
        int is = 0;
        for (int half = 0; half < 2; half++) {
            const uint8_t *q = w[i].qs + 32 * half;
            for (int shift = 0; shift < 8; shift += 2) {
                for (int part = 0; part < 2; part++, y += 16) {
                    int32_t sub = 0;
                    for (int l = 0; l < 16; l++) sub += ((q[16 * part + l] >> shift) & 3) * y[l];
                    isum += (w[i].scales[is++] & 0xf) * sub;
                }
            }
        }
        s += a[i].d * (fn_f16_to_f32(w[i].d) * (float)isum - fn_f16_to_f32(w[i].dmin) * (float)msum);
    }
    return s;
}

/* x = d*(sc-32)*(q3-4): q3 = 2 low bits | hmask bit << 2, sc 6-bit packed */
static float dot_q3_K(int64_t n, const void *vw, const void *va) {
    const block_q3_K *w = vw;
    const block_q8_K *a = va;
    float s = 0;
    for (int64_t i = 0; i < n / QK_K; i++) {
        int sc[16];
        for (int j = 0; j < 16; j++) {
            const int lo = j < 8 ? w[i].scales[j] & 0xf : w[i].scales[j - 8] >> 4;
            const int hi = (w[i].scales[8 + j % 4] >> (2 * (j / 4))) & 3;
            sc[j] = (lo | (hi << 4)) - 32;
        }
        const int8_t *y = a[i].qs;
        int32_t isum = 0;
        int is = 0, bit = 0;
        for (int half = 0; half < 2; half++) {
            const uint8_t *q = w[i].qs + 32 * half;
            for (int shift = 0; shift < 8; shift += 2, bit++) {
                for (int part = 0; part < 2; part++, y += 16) {
                    int32_t sub = 0;
                    for (int l = 0; l < 16; l++) {
                        const int ll = 16 * part + l;
                        const int v = ((q[ll] >> shift) & 3) - ((w[i].hmask[ll] >> bit) & 1 ? 0 : 4);
                        sub += v * y[l];
                    }
                    isum += sc[is++] * sub;
                }
            }
        }
        s += a[i].d * fn_f16_to_f32(w[i].d) * (float)isum;
    }
    return s;
}

/* x = d*sc*q - dmin*m per 32; dot = d8*(d*sum(sc*qy) - dmin*sum(m*bsum)) */
static float dot_q4_K(int64_t n, const void *vw, const void *va) {
    const block_q4_K *w = vw;
    const block_q8_K *a = va;
    float s = 0;
    for (int64_t i = 0; i < n / QK_K; i++) {
        uint8_t sc[8], mn[8];
        k4_scales(w[i].scales, sc, mn);
        int32_t isum = 0, msum = 0;
        for (int j = 0; j < 8; j++) msum += mn[j] * (a[i].bsums[2 * j] + a[i].bsums[2 * j + 1]);
        const uint8_t *q = w[i].qs;
        const int8_t *y = a[i].qs;
        for (int g = 0; g < 4; g++, q += 32, y += 64) {
            int32_t s0 = 0, s1 = 0;
            for (int l = 0; l < 32; l++) {
                s0 += (q[l] & 0xf) * y[l];
                s1 += (q[l] >> 4) * y[l + 32];
            }
            isum += sc[2 * g] * s0 + sc[2 * g + 1] * s1;
        }
        s += a[i].d * (fn_f16_to_f32(w[i].d) * (float)isum - fn_f16_to_f32(w[i].dmin) * (float)msum);
    }
    return s;
}

static float dot_q5_K(int64_t n, const void *vw, const void *va) {
    const block_q5_K *w = vw;
    const block_q8_K *a = va;
    float s = 0;
    for (int64_t i = 0; i < n / QK_K; i++) {
        uint8_t sc[8], mn[8];
        k4_scales(w[i].scales, sc, mn);
        int32_t isum = 0, msum = 0;
        for (int j = 0; j < 8; j++) msum += mn[j] * (a[i].bsums[2 * j] + a[i].bsums[2 * j + 1]);
        const uint8_t *q = w[i].qs;
        const int8_t *y = a[i].qs;
        for (int g = 0; g < 4; g++, q += 32, y += 64) {
            int32_t s0 = 0, s1 = 0;
            for (int l = 0; l < 32; l++) {
                const int h = w[i].qh[l] >> (2 * g);
                s0 += ((q[l] & 0xf) | (h & 1) << 4) * y[l];
                s1 += ((q[l] >> 4) | (h & 2) << 3) * y[l + 32];
            }
            isum += sc[2 * g] * s0 + sc[2 * g + 1] * s1;
        }
        s += a[i].d * (fn_f16_to_f32(w[i].d) * (float)isum - fn_f16_to_f32(w[i].dmin) * (float)msum);
    }
    return s;
}

/* x = d*sc*(q-32) per 16; dot = d*d8*(sum(sc*qy) - 32*sum(sc*bsum)) */
static float dot_q6_K(int64_t n, const void *vw, const void *va) {
    const block_q6_K *w = vw;
    const block_q8_K *a = va;
    float s = 0;
    for (int64_t i = 0; i < n / QK_K; i++) {
        int32_t isum = 0, bias = 0;
        for (int j = 0; j < 16; j++) bias += w[i].scales[j] * a[i].bsums[j];
        const uint8_t *ql = w[i].ql, *qh = w[i].qh;
        const int8_t *sc = w[i].scales;
        const int8_t *y = a[i].qs;
        for (int half = 0; half < 2; half++, ql += 64, qh += 32, sc += 8, y += 128) {
            int32_t sub[8] = {0};
            for (int l = 0; l < 32; l++) {
                const int is = l / 16;
                sub[is + 0] += ((ql[l] & 0xf) | ((qh[l] >> 0) & 3) << 4) * y[l];
                sub[is + 2] += ((ql[l + 32] & 0xf) | ((qh[l] >> 2) & 3) << 4) * y[l + 32];
                sub[is + 4] += ((ql[l] >> 4) | ((qh[l] >> 4) & 3) << 4) * y[l + 64];
                sub[is + 6] += ((ql[l + 32] >> 4) | ((qh[l] >> 6) & 3) << 4) * y[l + 96];
            }
            for (int k = 0; k < 8; k++) isum += sc[k] * sub[k];
        }
        s += a[i].d * fn_f16_to_f32(w[i].d) * (float)(isum - 32 * bias);
    }
    return s;
}

/* ---- float weights x F32 ---- */

static float dot_f32(int64_t n, const void *vw, const void *va) {
    const float *w = vw, *a = va;
    float s[8] = {0};
    int64_t i = 0;
    for (; i + 8 <= n; i += 8)
        for (int k = 0; k < 8; k++) s[k] += w[i + k] * a[i + k];
    for (; i < n; i++) s[0] += w[i] * a[i];
    return ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7]));
}

static float dot_f16(int64_t n, const void *vw, const void *va) {
    const uint16_t *w = vw;
    const float *a = va;
    float s[8] = {0};
    int64_t i = 0;
    for (; i + 8 <= n; i += 8)
        for (int k = 0; k < 8; k++) s[k] += fn_f16_to_f32(w[i + k]) * a[i + k];
    for (; i < n; i++) s[0] += fn_f16_to_f32(w[i]) * a[i];
    return ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7]));
}

static float dot_bf16(int64_t n, const void *vw, const void *va) {
    const uint16_t *w = vw;
    const float *a = va;
    float s[8] = {0};
    int64_t i = 0;
    for (; i + 8 <= n; i += 8)
        for (int k = 0; k < 8; k++) s[k] += fn_bf16_to_f32(w[i + k]) * a[i + k];
    for (; i < n; i++) s[0] += fn_bf16_to_f32(w[i]) * a[i];
    return ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7]));
}

/* ---- tiles: every pair through the type's dot product ---- */

static inline void tile_pairs(const mm_tile *t, dot_fn dot) {
    for (int c = 0; c < t->nc; c++)
        for (int r = 0; r < t->nr; r++)
            t->out[(size_t)c * t->out_stride + (size_t)r] =
                dot(t->n_in, t->w + (size_t)r * t->w_stride, t->act[c]);
}

#define TILE(name) \
    static void tile_##name(const mm_tile *t) { tile_pairs(t, dot_##name); }
TILE(q8_0)
TILE(q4_0)
TILE(q4_1)
TILE(q5_0)
TILE(q5_1)
TILE(mxfp4)
TILE(q2_K)
TILE(q3_K)
TILE(q4_K)
TILE(q5_K)
TILE(q6_K)
TILE(f32)
TILE(f16)
TILE(bf16)
#undef TILE

/* ---- activation quantizers: the references themselves ---- */

static void quant_q8_0(const float *x, void *dst, int64_t n) {
    tensor_quantize_row_q8_0_act(x, dst, n);
}

static void quant_q8_K(const float *x, void *dst, int64_t n) {
    tensor_quantize_row_q8_K_ref(x, dst, n);
}

static void quant_f32(const float *x, void *dst, int64_t n) {
    memcpy(dst, x, (size_t)n * sizeof *x);
}

void mm_kernels_generic(mm_kernel_set *ks) {
    memset(ks, 0, sizeof *ks);
    ks->name = "generic";
#define K(type, sfx) \
    ks->gemm[type] = (mm_kernel){.tile = tile_##sfx, .max_rows = 4, .max_cols = 4, .name = "generic"}
    K(FN_F32, f32);
    K(FN_F16, f16);
    K(FN_BF16, bf16);
    K(FN_Q8_0, q8_0);
    K(FN_Q4_0, q4_0);
    K(FN_Q4_1, q4_1);
    K(FN_Q5_0, q5_0);
    K(FN_Q5_1, q5_1);
    K(FN_MXFP4, mxfp4);
    K(FN_Q2_K, q2_K);
    K(FN_Q3_K, q3_K);
    K(FN_Q4_K, q4_K);
    K(FN_Q5_K, q5_K);
    K(FN_Q6_K, q6_K);
#undef K
    ks->quant[FN_Q8_0] = quant_q8_0;
    ks->quant[FN_Q8_K] = quant_q8_K;
    ks->quant[FN_F32] = quant_f32;
}
