/* quant_legacy.c - reference (de)quantization of the 32-element block types: Q4_0, Q4_1,
 * Q5_0, Q5_1, Q8_0, Q8_1, MXFP4 and IQ4_NL (dequantize only).
 *
 * The quantizers reproduce ggml's quantize_row_*_ref byte for byte, so the float expressions
 * below keep ggml's operand order and its conversions (truncating casts for Q4/Q5, roundf for
 * Q8) on purpose: reordering them changes the rounding of some inputs. */
#include "tensor/quant_ref.h"

#include <float.h>
#include <math.h>
#include <stdbool.h>
#include <string.h>

#include "base/error.h"
#include "tensor/tensor_format.h"

#ifdef __clang__
#pragma STDC FP_CONTRACT OFF /* a fused multiply-add would round differently from ggml */
#endif

const int8_t tensor_kvalues_iq4nl[16] = {
    -127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113,
};

/* E2M1 (sign, 2-bit exponent, 1-bit mantissa) values 0, .5, 1, 1.5, 2, 3, 4, 6 doubled;
 * codes 8..15 are the negatives (8 is -0). */
const int8_t tensor_kvalues_mxfp4[16] = {
    0, 1, 2, 3, 4, 6, 8, 12, 0, -1, -2, -3, -4, -6, -8, -12,
};

float tensor_e8m0_to_f32_half(uint8_t e) {
    /* 2^(e-128): e = 0 and 1 give the f32 subnormals 2^-128 and 2^-127 */
    uint32_t bits = e < 2 ? 0x00200000u << e : (uint32_t)(e - 1) << 23;
    float f;
    memcpy(&f, &bits, sizeof f);
    return f;
}

static int imin(int a, int b) { return a < b ? a : b; }

/* Float -> int truncation as x86 does it. ggml converts with plain casts, which C leaves
 * undefined for nan and out-of-range values - and a block of tiny (subnormal) values makes
 * 1/d overflow to inf, so they do occur. x86 returns the "integer indefinite" INT32_MIN
 * there (low byte 0). Doing that explicitly keeps the bytes equal to a gcc/x86 build of
 * ggml under any compiler, and nothing undefined. Callers narrow the result (mod 256). */
static int32_t trunc_i32(float v) {
    if (!(v > -2147483904.0f && v < 2147483648.0f)) return INT32_MIN;
    return (int32_t)v;
}

/* ggml's MAX(a, b): unlike fmaxf, a nan in b wins. */
static float fmax_nan(float a, float b) { return a > b ? a : b; }

/* ---- Q4_0: x = d * (q - 8), d = (signed absmax) / -8 ---- */

void tensor_quantize_row_q4_0_ref(const float *x, block_q4_0 *y, int64_t n) {
    FN_ASSERT(n % QK4_0 == 0);
    for (int64_t i = 0; i < n / QK4_0; i++, x += QK4_0) {
        /* the value of largest magnitude maps to q = 0 exactly; its sign picks d's sign */
        float amax = 0.0f, max = 0.0f;
        for (int j = 0; j < QK4_0; j++)
            if (amax < fabsf(x[j])) { amax = fabsf(x[j]); max = x[j]; }
        const float d = max / -8;
        const float id = d ? 1.0f / d : 0.0f;
        y[i].d = fn_f32_to_f16(d);
        for (int j = 0; j < QK4_0 / 2; j++) {
            /* +8.5 then truncation is round-half-up of x/d + 8 (the argument is >= 0) */
            const uint8_t q0 = (uint8_t)imin(15, (int8_t)trunc_i32(x[j] * id + 8.5f));
            const uint8_t q1 = (uint8_t)imin(15, (int8_t)trunc_i32(x[j + QK4_0 / 2] * id + 8.5f));
            y[i].qs[j] = (uint8_t)(q0 | (q1 << 4));
        }
    }
}

void tensor_dequantize_row_q4_0(const block_q4_0 *x, float *y, int64_t n) {
    FN_ASSERT(n % QK4_0 == 0);
    for (int64_t i = 0; i < n / QK4_0; i++, y += QK4_0) {
        const float d = fn_f16_to_f32(x[i].d);
        for (int j = 0; j < QK4_0 / 2; j++) {
            y[j] = ((x[i].qs[j] & 0x0f) - 8) * d;
            y[j + QK4_0 / 2] = ((x[i].qs[j] >> 4) - 8) * d;
        }
    }
}

/* ---- Q4_1: x = d * q + m over [min, max] ---- */

void tensor_quantize_row_q4_1_ref(const float *x, block_q4_1 *y, int64_t n) {
    FN_ASSERT(n % QK4_1 == 0);
    for (int64_t i = 0; i < n / QK4_1; i++, x += QK4_1) {
        float min = FLT_MAX, max = -FLT_MAX;
        for (int j = 0; j < QK4_1; j++) {
            if (x[j] < min) min = x[j];
            if (x[j] > max) max = x[j];
        }
        const float d = (max - min) / 15;
        const float id = d ? 1.0f / d : 0.0f;
        y[i].d = fn_f32_to_f16(d);
        y[i].m = fn_f32_to_f16(min);
        for (int j = 0; j < QK4_1 / 2; j++) {
            const uint8_t q0 = (uint8_t)imin(15, (int8_t)trunc_i32((x[j] - min) * id + 0.5f));
            const uint8_t q1 =
                (uint8_t)imin(15, (int8_t)trunc_i32((x[j + QK4_1 / 2] - min) * id + 0.5f));
            y[i].qs[j] = (uint8_t)(q0 | (q1 << 4));
        }
    }
}

void tensor_dequantize_row_q4_1(const block_q4_1 *x, float *y, int64_t n) {
    FN_ASSERT(n % QK4_1 == 0);
    for (int64_t i = 0; i < n / QK4_1; i++, y += QK4_1) {
        const float d = fn_f16_to_f32(x[i].d);
        const float m = fn_f16_to_f32(x[i].m);
        for (int j = 0; j < QK4_1 / 2; j++) {
            y[j] = (x[i].qs[j] & 0x0f) * d + m;
            y[j + QK4_1 / 2] = (x[i].qs[j] >> 4) * d + m;
        }
    }
}

/* ---- Q5_0: x = d * (q - 16), d = (signed absmax) / -16 ---- */

static void put_u32le(uint8_t out[4], uint32_t v) {
    for (int k = 0; k < 4; k++) out[k] = (uint8_t)(v >> (8 * k));
}

static uint32_t get_u32le(const uint8_t in[4]) {
    return (uint32_t)in[0] | (uint32_t)in[1] << 8 | (uint32_t)in[2] << 16 | (uint32_t)in[3] << 24;
}

void tensor_quantize_row_q5_0_ref(const float *x, block_q5_0 *y, int64_t n) {
    FN_ASSERT(n % QK5_0 == 0);
    for (int64_t i = 0; i < n / QK5_0; i++, x += QK5_0) {
        float amax = 0.0f, max = 0.0f;
        for (int j = 0; j < QK5_0; j++)
            if (amax < fabsf(x[j])) { amax = fabsf(x[j]); max = x[j]; }
        const float d = max / -16;
        const float id = d ? 1.0f / d : 0.0f;
        y[i].d = fn_f32_to_f16(d);
        uint32_t qh = 0;
        for (int j = 0; j < QK5_0 / 2; j++) {
            const uint8_t q0 = (uint8_t)imin(31, (int8_t)trunc_i32(x[j] * id + 16.5f));
            const uint8_t q1 = (uint8_t)imin(31, (int8_t)trunc_i32(x[j + QK5_0 / 2] * id + 16.5f));
            y[i].qs[j] = (uint8_t)((q0 & 0x0f) | ((q1 & 0x0f) << 4));
            qh |= (uint32_t)(q0 >> 4) << j;
            qh |= (uint32_t)(q1 >> 4) << (j + QK5_0 / 2);
        }
        put_u32le(y[i].qh, qh);
    }
}

void tensor_dequantize_row_q5_0(const block_q5_0 *x, float *y, int64_t n) {
    FN_ASSERT(n % QK5_0 == 0);
    for (int64_t i = 0; i < n / QK5_0; i++, y += QK5_0) {
        const float d = fn_f16_to_f32(x[i].d);
        const uint32_t qh = get_u32le(x[i].qh);
        for (int j = 0; j < QK5_0 / 2; j++) {
            const int hi0 = (int)((qh >> j) & 1u) << 4;
            const int hi1 = (int)((qh >> (j + QK5_0 / 2)) & 1u) << 4;
            y[j] = (((x[i].qs[j] & 0x0f) | hi0) - 16) * d;
            y[j + QK5_0 / 2] = (((x[i].qs[j] >> 4) | hi1) - 16) * d;
        }
    }
}

/* ---- Q5_1: x = d * q + m over [min, max] ---- */

void tensor_quantize_row_q5_1_ref(const float *x, block_q5_1 *y, int64_t n) {
    FN_ASSERT(n % QK5_1 == 0);
    for (int64_t i = 0; i < n / QK5_1; i++, x += QK5_1) {
        float min = FLT_MAX, max = -FLT_MAX;
        for (int j = 0; j < QK5_1; j++) {
            if (x[j] < min) min = x[j];
            if (x[j] > max) max = x[j];
        }
        const float d = (max - min) / 31;
        const float id = d ? 1.0f / d : 0.0f;
        y[i].d = fn_f32_to_f16(d);
        y[i].m = fn_f32_to_f16(min);
        uint32_t qh = 0;
        for (int j = 0; j < QK5_1 / 2; j++) {
            /* no clamp here (ggml has none): (max-min)*id + 0.5 stays below 32 */
            const uint8_t q0 = (uint8_t)trunc_i32((x[j] - min) * id + 0.5f);
            const uint8_t q1 = (uint8_t)trunc_i32((x[j + QK5_1 / 2] - min) * id + 0.5f);
            y[i].qs[j] = (uint8_t)((q0 & 0x0f) | ((q1 & 0x0f) << 4));
            qh |= (uint32_t)((q0 & 0x10u) >> 4) << j;
            qh |= (uint32_t)((q1 & 0x10u) >> 4) << (j + QK5_1 / 2);
        }
        put_u32le(y[i].qh, qh);
    }
}

void tensor_dequantize_row_q5_1(const block_q5_1 *x, float *y, int64_t n) {
    FN_ASSERT(n % QK5_1 == 0);
    for (int64_t i = 0; i < n / QK5_1; i++, y += QK5_1) {
        const float d = fn_f16_to_f32(x[i].d);
        const float m = fn_f16_to_f32(x[i].m);
        const uint32_t qh = get_u32le(x[i].qh);
        for (int j = 0; j < QK5_1 / 2; j++) {
            const int hi0 = (int)((qh >> j) & 1u) << 4;
            const int hi1 = (int)((qh >> (j + QK5_1 / 2)) & 1u) << 4;
            y[j] = ((x[i].qs[j] & 0x0f) | hi0) * d + m;
            y[j + QK5_1 / 2] = ((x[i].qs[j] >> 4) | hi1) * d + m;
        }
    }
}

/* ---- Q8_0 / Q8_1: x = d * q, d = absmax / 127, q rounded half away from zero ---- */

/* Both Q8_0 conventions: the reference (d = absmax / 127, q = round(x / d) half away from
 * zero), or ggml-cpu's x86 quantize_row_q8_0 (its from_float for activations and a Q8_0 KV
 * cache: x * (127 / absmax), half to even). Matching the latter keeps every int8 activation
 * identical to llama.cpp's. */
static void quantize_row_q8_0(const float *x, block_q8_0 *y, int64_t n, bool as_ggml_x86) {
    FN_ASSERT(n % QK8_0 == 0);
    for (int64_t i = 0; i < n / QK8_0; i++, x += QK8_0) {
        float amax = 0.0f;
        for (int j = 0; j < QK8_0; j++) amax = fmax_nan(amax, fabsf(x[j]));
        const float d = amax / 127.f;
        y[i].d = fn_f32_to_f16(d);
        const float id = as_ggml_x86 ? (amax != 0.0f ? 127.f / amax : 0.0f) : (d ? 1.0f / d : 0.0f);
        for (int j = 0; j < QK8_0; j++)
            y[i].qs[j] = (int8_t)trunc_i32(as_ggml_x86 ? nearbyintf(x[j] * id) : roundf(x[j] * id));
    }
}

void tensor_quantize_row_q8_0_ref(const float *x, block_q8_0 *y, int64_t n) { quantize_row_q8_0(x, y, n, false); }

void tensor_quantize_row_q8_0_act(const float *x, block_q8_0 *y, int64_t n) { quantize_row_q8_0(x, y, n, true); }

void tensor_dequantize_row_q8_0(const block_q8_0 *x, float *y, int64_t n) {
    FN_ASSERT(n % QK8_0 == 0);
    for (int64_t i = 0; i < n / QK8_0; i++, y += QK8_0) {
        const float d = fn_f16_to_f32(x[i].d);
        for (int j = 0; j < QK8_0; j++) y[j] = x[i].qs[j] * d;
    }
}

void tensor_quantize_row_q8_1_ref(const float *x, block_q8_1 *y, int64_t n) {
    FN_ASSERT(n % QK8_1 == 0);
    for (int64_t i = 0; i < n / QK8_1; i++, x += QK8_1) {
        float amax = 0.0f;
        for (int j = 0; j < QK8_1; j++) amax = fmax_nan(amax, fabsf(x[j]));
        const float d = amax / 127;
        const float id = d ? 1.0f / d : 0.0f;
        y[i].d = fn_f32_to_f16(d);
        int sum = 0;
        for (int j = 0; j < QK8_1; j++) {
            y[i].qs[j] = (int8_t)trunc_i32(roundf(x[j] * id));
            sum += y[i].qs[j];
        }
        y[i].s = fn_f32_to_f16(sum * d);
    }
}

void tensor_dequantize_row_q8_1(const block_q8_1 *x, float *y, int64_t n) {
    FN_ASSERT(n % QK8_1 == 0);
    for (int64_t i = 0; i < n / QK8_1; i++, y += QK8_1) {
        const float d = fn_f16_to_f32(x[i].d);
        for (int j = 0; j < QK8_1; j++) y[j] = x[i].qs[j] * d;
    }
}

/* ---- MXFP4: x = e2m1[q] * 2^(e-127), one shared power-of-two scale per 32 ---- */

/* First index of the nearest level (ties keep the lower index, as ggml). */
static int mxfp4_best_index(float x, float d) {
    int best = 0;
    float best_err = fabsf(tensor_kvalues_mxfp4[0] * d - x);
    for (int k = 1; k < 16; k++) {
        const float err = fabsf(tensor_kvalues_mxfp4[k] * d - x);
        if (err < best_err) { best = k; best_err = err; }
    }
    return best;
}

void tensor_quantize_row_mxfp4_ref(const float *x, block_mxfp4 *y, int64_t n) {
    FN_ASSERT(n % QK_MXFP4 == 0);
    for (int64_t i = 0; i < n / QK_MXFP4; i++, x += QK_MXFP4) {
        float amax = 0.0f;
        for (int j = 0; j < QK_MXFP4; j++)
            if (amax < fabsf(x[j])) amax = fabsf(x[j]);
        /* exponent such that amax / 2^(e-127) lands in [4, 8): the top E2M1 level is 6.
         * Tiny amax (< 2^-125) gives a negative value, which wraps mod 256 as on x86. */
        const uint8_t e = amax > 0.0f ? (uint8_t)trunc_i32(floorf(log2f(amax)) - 2 + 127) : 0;
        const float d = tensor_e8m0_to_f32_half(e);
        y[i].e = e;
        for (int j = 0; j < QK_MXFP4 / 2; j++) {
            const int q0 = mxfp4_best_index(x[j], d);
            const int q1 = mxfp4_best_index(x[j + QK_MXFP4 / 2], d);
            y[i].qs[j] = (uint8_t)(q0 | (q1 << 4));
        }
    }
}

void tensor_dequantize_row_mxfp4(const block_mxfp4 *x, float *y, int64_t n) {
    FN_ASSERT(n % QK_MXFP4 == 0);
    for (int64_t i = 0; i < n / QK_MXFP4; i++, y += QK_MXFP4) {
        const float d = tensor_e8m0_to_f32_half(x[i].e);
        for (int j = 0; j < QK_MXFP4 / 2; j++) {
            y[j] = tensor_kvalues_mxfp4[x[i].qs[j] & 0x0f] * d;
            y[j + QK_MXFP4 / 2] = tensor_kvalues_mxfp4[x[i].qs[j] >> 4] * d;
        }
    }
}

/* ---- IQ4_NL: x = d * kvalues_iq4nl[q] (dequantize only) ---- */

void tensor_dequantize_row_iq4_nl(const block_iq4_nl *x, float *y, int64_t n) {
    FN_ASSERT(n % QK4_NL == 0);
    for (int64_t i = 0; i < n / QK4_NL; i++, y += QK4_NL) {
        const float d = fn_f16_to_f32(x[i].d);
        for (int j = 0; j < QK4_NL / 2; j++) {
            y[j] = d * tensor_kvalues_iq4nl[x[i].qs[j] & 0x0f];
            y[j + QK4_NL / 2] = d * tensor_kvalues_iq4nl[x[i].qs[j] >> 4];
        }
    }
}
