/* kernels_generic.c - portable C matmul kernels: one dot product per (weight row, activation
 * row) pair, in the integer domain per block as the SIMD kernels do. The fallback on CPUs
 * without a SIMD level (and the baseline the SIMD kernels are benchmarked against). */
#include <math.h>
#include <stdbool.h>
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

/* ggml's reduction of 8 float lanes (hsum_float_8): ((l0+l4)+(l2+l6)) + ((l1+l5)+(l3+l7)). */
static float tree8(const float s[8]) {
    return ((s[0] + s[4]) + (s[2] + s[6])) + ((s[1] + s[5]) + (s[3] + s[7]));
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

/* Q4_K: x = d*sc*q - dmin*m per 32 elements, q the 4-bit code. The three summation orders
 * of llama.cpp's x86 CPU backend (see MM_ORDER_* in kernels.h); the integer parts are
 * exact in every order, only where the float sums start and how they are combined differs.
 *
 * k4_dot4: the integer dot of 4 consecutive codes (low nibbles for shift 0, high for 4)
 * with 4 activations. */
static int32_t k4_dot4(const uint8_t *q, const int8_t *y, int shift) {
    int32_t s = 0;
    for (int t = 0; t < 4; t++) s += ((q[t] >> shift) & 0xf) * y[t];
    return s;
}

/* ggml_vec_dot_q4_K_q8_K (AVX2): 8 int lanes, lane L = sum over the four 64-element groups
 * g of sc[2g] * dot(low codes 4L..4L+3 of g) + sc[2g+1] * dot(high codes 4L..4L+3 of g),
 * scaled into 8 float lanes with one fma per superblock; the mins in 4 lanes, lane m =
 * mn[2m]*(bsum[4m]+bsum[4m+1]) + mn[2m+1]*(bsum[4m+2]+bsum[4m+3]), scaled by -d8*dmin. */
static float dot_q4_K(int64_t n, const void *vw, const void *va) {
    const block_q4_K *w = vw;
    const block_q8_K *a = va;
    float acc[8] = {0}, accm[4] = {0};
    for (int64_t i = 0; i < n / QK_K; i++) {
        uint8_t sc[8], mn[8];
        k4_scales(w[i].scales, sc, mn);
        const float d = a[i].d * fn_f16_to_f32(w[i].d);
        const float dmin = -a[i].d * fn_f16_to_f32(w[i].dmin);
        for (int L = 0; L < 8; L++) {
            int32_t sumi = 0;
            for (int g = 0; g < 4; g++) {
                const uint8_t *q = w[i].qs + 32 * g + 4 * L;
                const int8_t *y = a[i].qs + 64 * g + 4 * L;
                sumi += sc[2 * g] * k4_dot4(q, y, 0) + sc[2 * g + 1] * k4_dot4(q, y + 32, 4);
            }
            acc[L] = fmaf(d, (float)sumi, acc[L]);
        }
        const int16_t *bs = a[i].bsums;
        for (int m = 0; m < 4; m++) {
            const int32_t prod =
                mn[2 * m] * (bs[4 * m] + bs[4 * m + 1]) + mn[2 * m + 1] * (bs[4 * m + 2] + bs[4 * m + 3]);
            accm[m] = fmaf(dmin, (float)prod, accm[m]);
        }
    }
    return tree8(acc) + ((accm[0] + accm[2]) + (accm[1] + accm[3]));
}

/* The integer sums of 64-element group g of a Q4_K superblock: scaled codes and mins. */
static void k4_group(const block_q4_K *w, const block_q8_K *a, const uint8_t sc[8], const uint8_t mn[8], int g,
                     int32_t *isum, int32_t *msum) {
    int32_t lo = 0, hi = 0;
    for (int l = 0; l < 32; l++) {
        lo += (w->qs[32 * g + l] & 0xf) * a->qs[64 * g + l];
        hi += (w->qs[32 * g + l] >> 4) * a->qs[64 * g + 32 + l];
    }
    const int16_t *bs = a->bsums + 4 * g;
    *isum = sc[2 * g] * lo + sc[2 * g + 1] * hi;
    *msum = mn[2 * g] * (bs[0] + bs[1]) + mn[2 * g + 1] * (bs[2] + bs[3]);
}

/* llama.cpp's repacked Q4_K products for one output: the integer sums of codes and of mins
 * each go into their own accumulator with one fma per 64-element group (ggml_gemm_q4_K_8x8_
 * q8_K, rows in groups of 4) or per superblock (ggml_gemv_q4_K_8x8_q8_K); then the
 * difference. */
static inline float dot_q4_K_repacked(int64_t n, const void *vw, const void *va, const bool per_group) {
    const block_q4_K *w = vw;
    const block_q8_K *a = va;
    float acc = 0, accm = 0;
    for (int64_t i = 0; i < n / QK_K; i++) {
        uint8_t sc[8], mn[8];
        k4_scales(w[i].scales, sc, mn);
        const float d = fn_f16_to_f32(w[i].d) * a[i].d, dmin = fn_f16_to_f32(w[i].dmin) * a[i].d;
        int32_t isum = 0, msum = 0;
        for (int g = 0; g < 4; g++) {
            int32_t is, ms;
            k4_group(&w[i], &a[i], sc, mn, g, &is, &ms);
            isum += is;
            msum += ms;
            if (per_group || g == 3) {
                acc = fmaf((float)isum, d, acc);
                accm = fmaf((float)msum, dmin, accm);
                isum = msum = 0;
            }
        }
    }
    return acc - accm;
}

static float dot_q4_K_gemv(int64_t n, const void *vw, const void *va) { return dot_q4_K_repacked(n, vw, va, false); }
static float dot_q4_K_gemm(int64_t n, const void *vw, const void *va) { return dot_q4_K_repacked(n, vw, va, true); }

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

/* Q6_K: x = d*sc*(q-32) per 16 elements, q the 6-bit code. Order of ggml_vec_dot_q6_K_q8_K
 * (AVX2): 8 int lanes, lane L summing sc * q * y over the elements e with (e % 32) / 4 == L
 * (sc the scale of e's 16-element group), less 32 * (sc[2L]*bsum[2L] + sc[2L+1]*bsum[2L+1]);
 * one fma per superblock into 8 float lanes, then ggml's tree. */
static float dot_q6_K(int64_t n, const void *vw, const void *va) {
    const block_q6_K *w = vw;
    const block_q8_K *a = va;
    float acc[8] = {0};
    for (int64_t i = 0; i < n / QK_K; i++) {
        const float d = a[i].d * fn_f16_to_f32(w[i].d);
        const int8_t *sc = w[i].scales;
        int32_t lane[8];
        for (int L = 0; L < 8; L++)
            lane[L] = -32 * (sc[2 * L] * a[i].bsums[2 * L] + sc[2 * L + 1] * a[i].bsums[2 * L + 1]);
        for (int half = 0; half < 2; half++) {
            const uint8_t *ql = w[i].ql + 64 * half, *qh = w[i].qh + 32 * half;
            const int8_t *y = a[i].qs + 128 * half;
            const int8_t *s = sc + 8 * half;
            for (int l = 0; l < 32; l++) {
                const int L = l / 4, is = l / 16;
                lane[L] += s[is + 0] * (((ql[l] & 0xf) | ((qh[l] >> 0) & 3) << 4) * y[l]) +
                           s[is + 2] * (((ql[l + 32] & 0xf) | ((qh[l] >> 2) & 3) << 4) * y[l + 32]) +
                           s[is + 4] * (((ql[l] >> 4) | ((qh[l] >> 4) & 3) << 4) * y[l + 64]) +
                           s[is + 6] * (((ql[l + 32] >> 4) | ((qh[l] >> 6) & 3) << 4) * y[l + 96]);
            }
        }
        for (int L = 0; L < 8; L++) acc[L] = fmaf(d, (float)lane[L], acc[L]);
    }
    return tree8(acc);
}

/* ---- float weights x F32 ---- */

/* F32 in ggml_vec_dot_f32's order (ggml-cpu's AVX-512 build): 4 x 16 lanes over steps of
 * 64 elements, the 4 registers added pairwise, _mm512_reduce_add_ps, then the elements past
 * the last step one by one. */
static float dot_f32(int64_t n, const void *vw, const void *va) {
    const float *w = vw, *a = va;
    float s[4][16] = {{0}}, h[8];
    const int64_t np = n / 64 * 64;
    for (int64_t i = 0; i < np; i += 64)
        for (int j = 0; j < 4; j++)
            for (int k = 0; k < 16; k++) s[j][k] = fmaf(w[i + 16 * j + k], a[i + 16 * j + k], s[j][k]);
    for (int k = 0; k < 16; k++) {
        s[0][k] = s[0][k] + s[2][k];
        s[1][k] = s[1][k] + s[3][k];
        s[0][k] = s[0][k] + s[1][k];
    }
    for (int k = 0; k < 8; k++) h[k] = s[0][k] + s[0][k + 8];
    float sum = tree8(h);
    for (int64_t i = np; i < n; i++) sum += w[i] * a[i];
    return sum;
}

/* F32 in the order of llamafile's tinyBLAS<16> (ggml-cpu's x86 AVX-512 build; n a multiple
 * of 16): 16 lanes, lane k the fused multiply-adds of elements k, k+16, ...; then
 * _mm512_reduce_add_ps, which adds the halves and ends in ggml's 8-lane tree. */
static float dot_f32_sgemm(int64_t n, const void *vw, const void *va) {
    const float *w = vw, *a = va;
    float s[16] = {0}, h[8];
    for (int64_t i = 0; i + 16 <= n; i += 16)
        for (int k = 0; k < 16; k++) s[k] = fmaf(w[i + k], a[i + k], s[k]);
    for (int k = 0; k < 8; k++) h[k] = s[k] + s[k + 8];
    return tree8(h);
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
TILE(q5_K)
TILE(q6_K)
TILE(f16)
TILE(bf16)
#undef TILE

/* F32 and Q4_K follow the tile's summation order (MM_ORDER_*). */
static void tile_f32(const mm_tile *t) {
    tile_pairs(t, t->order == MM_ORDER_SGEMM && t->n_in % 16 == 0 ? dot_f32_sgemm : dot_f32);
}

static void tile_q4_K(const mm_tile *t) {
    tile_pairs(t, t->order == MM_ORDER_GEMM4  ? dot_q4_K_gemm
                  : t->order == MM_ORDER_GEMV ? dot_q4_K_gemv
                                              : dot_q4_K);
}

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
