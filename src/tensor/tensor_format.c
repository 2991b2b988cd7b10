/* tensor_format.c - the per-type traits table and the checked whole-row entry points
 * (tensor_dequantize / tensor_quantize) over the reference row functions. */
#include "tensor/tensor_format.h"

#include <math.h>
#include <string.h>

#include "base/error.h"
#include "tensor/quant_ref.h"

/* ---- plain element types ---- */

static void row_f32_copy_to(const void *src, float *dst, int64_t n) {
    memcpy(dst, src, (size_t)n * sizeof(float));
}

static void row_f32_copy_from(const float *src, void *dst, int64_t n) {
    memcpy(dst, src, (size_t)n * sizeof(float));
}

void tensor_row_f16_to_f32(const uint16_t *x, float *y, int64_t n) {
    for (int64_t i = 0; i < n; i++) y[i] = fn_f16_to_f32(x[i]);
}

void tensor_row_f32_to_f16(const float *x, uint16_t *y, int64_t n) {
    for (int64_t i = 0; i < n; i++) y[i] = fn_f32_to_f16(x[i]);
}

void tensor_row_bf16_to_f32(const uint16_t *x, float *y, int64_t n) {
    for (int64_t i = 0; i < n; i++) y[i] = fn_bf16_to_f32(x[i]);
}

void tensor_row_f32_to_bf16(const float *x, uint16_t *y, int64_t n) {
    for (int64_t i = 0; i < n; i++) y[i] = fn_f32_to_bf16(x[i]);
}

/* ---- traits table ----
 * The row functions take typed block pointers; the table stores them behind void* adapters
 * generated here, so no function pointer is ever called through an incompatible type. */

#define TO_FLOAT(name, block)                                                  \
    static void to_float_##name(const void *src, float *dst, int64_t n) {      \
        tensor_dequantize_row_##name((const block *)src, dst, n);              \
    }
#define FROM_FLOAT(name, block)                                                \
    static void from_float_##name(const float *src, void *dst, int64_t n) {    \
        tensor_quantize_row_##name##_ref(src, (block *)dst, n);                \
    }

TO_FLOAT(q4_0, block_q4_0)
TO_FLOAT(q4_1, block_q4_1)
TO_FLOAT(q5_0, block_q5_0)
TO_FLOAT(q5_1, block_q5_1)
TO_FLOAT(q8_0, block_q8_0)
TO_FLOAT(q8_1, block_q8_1)
TO_FLOAT(mxfp4, block_mxfp4)
TO_FLOAT(iq4_nl, block_iq4_nl)
TO_FLOAT(q2_K, block_q2_K)
TO_FLOAT(q3_K, block_q3_K)
TO_FLOAT(q4_K, block_q4_K)
TO_FLOAT(q5_K, block_q5_K)
TO_FLOAT(q6_K, block_q6_K)
TO_FLOAT(q8_K, block_q8_K)
TO_FLOAT(iq4_xs, block_iq4_xs)
TO_FLOAT(tq1_0, block_tq1_0)
TO_FLOAT(tq2_0, block_tq2_0)

FROM_FLOAT(q4_0, block_q4_0)
FROM_FLOAT(q4_1, block_q4_1)
FROM_FLOAT(q5_0, block_q5_0)
FROM_FLOAT(q5_1, block_q5_1)
FROM_FLOAT(q8_0, block_q8_0)
FROM_FLOAT(q8_1, block_q8_1)
FROM_FLOAT(mxfp4, block_mxfp4)
FROM_FLOAT(q2_K, block_q2_K)
FROM_FLOAT(q3_K, block_q3_K)
FROM_FLOAT(q4_K, block_q4_K)
FROM_FLOAT(q5_K, block_q5_K)
FROM_FLOAT(q6_K, block_q6_K)
FROM_FLOAT(q8_K, block_q8_K)

static void to_float_f16(const void *src, float *dst, int64_t n) {
    tensor_row_f16_to_f32((const uint16_t *)src, dst, n);
}
static void from_float_f16(const float *src, void *dst, int64_t n) {
    tensor_row_f32_to_f16(src, (uint16_t *)dst, n);
}
static void to_float_bf16(const void *src, float *dst, int64_t n) {
    tensor_row_bf16_to_f32((const uint16_t *)src, dst, n);
}
static void from_float_bf16(const float *src, void *dst, int64_t n) {
    tensor_row_f32_to_bf16(src, (uint16_t *)dst, n);
}

#undef TO_FLOAT
#undef FROM_FLOAT

/* One entry per supported type id. Geometry repeats dtype.c's table so this one can be a
 * compile-time constant; a unit test checks that the two agree for every id. Known ids
 * without a conversion get an entry with NULL functions. */
#define T(id, nm, bs, bb, to, from) \
    [id] = {.type = id, .name = nm, .block_size = bs, .block_bytes = bb, .to_float = to, \
            .from_float_ref = from}

static const tensor_traits traits_table[FN_DTYPE_COUNT] = {
    T(FN_F32, "f32", 1, 4, row_f32_copy_to, row_f32_copy_from),
    T(FN_F16, "f16", 1, 2, to_float_f16, from_float_f16),
    T(FN_BF16, "bf16", 1, 2, to_float_bf16, from_float_bf16),
    T(FN_Q4_0, "q4_0", QK4_0, sizeof(block_q4_0), to_float_q4_0, from_float_q4_0),
    T(FN_Q4_1, "q4_1", QK4_1, sizeof(block_q4_1), to_float_q4_1, from_float_q4_1),
    T(FN_Q5_0, "q5_0", QK5_0, sizeof(block_q5_0), to_float_q5_0, from_float_q5_0),
    T(FN_Q5_1, "q5_1", QK5_1, sizeof(block_q5_1), to_float_q5_1, from_float_q5_1),
    T(FN_Q8_0, "q8_0", QK8_0, sizeof(block_q8_0), to_float_q8_0, from_float_q8_0),
    T(FN_Q8_1, "q8_1", QK8_1, sizeof(block_q8_1), to_float_q8_1, from_float_q8_1),
    T(FN_MXFP4, "mxfp4", QK_MXFP4, sizeof(block_mxfp4), to_float_mxfp4, from_float_mxfp4),
    T(FN_IQ4_NL, "iq4_nl", QK4_NL, sizeof(block_iq4_nl), to_float_iq4_nl, NULL),
    T(FN_Q2_K, "q2_K", QK_K, sizeof(block_q2_K), to_float_q2_K, from_float_q2_K),
    T(FN_Q3_K, "q3_K", QK_K, sizeof(block_q3_K), to_float_q3_K, from_float_q3_K),
    T(FN_Q4_K, "q4_K", QK_K, sizeof(block_q4_K), to_float_q4_K, from_float_q4_K),
    T(FN_Q5_K, "q5_K", QK_K, sizeof(block_q5_K), to_float_q5_K, from_float_q5_K),
    T(FN_Q6_K, "q6_K", QK_K, sizeof(block_q6_K), to_float_q6_K, from_float_q6_K),
    T(FN_Q8_K, "q8_K", QK_K, sizeof(block_q8_K), to_float_q8_K, from_float_q8_K),
    T(FN_IQ4_XS, "iq4_xs", QK_K, sizeof(block_iq4_xs), to_float_iq4_xs, NULL),
    T(FN_TQ1_0, "tq1_0", QK_K, sizeof(block_tq1_0), to_float_tq1_0, NULL),
    T(FN_TQ2_0, "tq2_0", QK_K, sizeof(block_tq2_0), to_float_tq2_0, NULL),
    /* known, not (yet) convertible: the IQ grids, integer and f64 types */
    T(FN_IQ2_XXS, "iq2_xxs", QK_K, 66, NULL, NULL),
    T(FN_IQ2_XS, "iq2_xs", QK_K, 74, NULL, NULL),
    T(FN_IQ3_XXS, "iq3_xxs", QK_K, 98, NULL, NULL),
    T(FN_IQ1_S, "iq1_s", QK_K, 50, NULL, NULL),
    T(FN_IQ3_S, "iq3_s", QK_K, 110, NULL, NULL),
    T(FN_IQ2_S, "iq2_s", QK_K, 82, NULL, NULL),
    T(FN_IQ1_M, "iq1_m", QK_K, 56, NULL, NULL),
    T(FN_I8, "i8", 1, 1, NULL, NULL),
    T(FN_I16, "i16", 1, 2, NULL, NULL),
    T(FN_I32, "i32", 1, 4, NULL, NULL),
    T(FN_I64, "i64", 1, 8, NULL, NULL),
    T(FN_F64, "f64", 1, 8, NULL, NULL),
};

#undef T

const tensor_traits *tensor_traits_get(uint32_t type) {
    if (type >= FN_DTYPE_COUNT || !traits_table[type].name) return NULL;
    return &traits_table[type];
}

bool tensor_can_dequantize(uint32_t type) {
    const tensor_traits *tr = tensor_traits_get(type);
    return tr && tr->to_float;
}

bool tensor_can_quantize(uint32_t type) {
    const tensor_traits *tr = tensor_traits_get(type);
    return tr && tr->from_float_ref;
}

/* Validates n against the type's block size; names the function in the message. */
static int check_row(const char *fn, const tensor_traits *tr, int64_t n) {
    if (n < 0 || n % tr->block_size != 0)
        return fn_error("%s: %lld elements is not a whole number of %s blocks (%u each)", fn,
                        (long long)n, tr->name, tr->block_size);
    return 0;
}

int tensor_dequantize(uint32_t type, const void *src, float *dst, int64_t n) {
    const tensor_traits *tr = tensor_traits_get(type);
    if (!tr || !tr->to_float)
        return fn_error("tensor_dequantize: type %s (%u) is not supported", fn_dtype_name(type),
                        type);
    if (check_row("tensor_dequantize", tr, n) < 0) return -1;
    if (n == 0) return 0;
    FN_ASSERT(src && dst);
    tr->to_float(src, dst, n);
    return 0;
}

int tensor_quantize(uint32_t type, const float *src, void *dst, int64_t n) {
    const tensor_traits *tr = tensor_traits_get(type);
    if (!tr || !tr->from_float_ref)
        return fn_error("tensor_quantize: type %s (%u) is not supported", fn_dtype_name(type),
                        type);
    if (check_row("tensor_quantize", tr, n) < 0) return -1;
    if (n == 0) return 0;
    FN_ASSERT(src && dst);
    /* Block formats have no encoding for inf/nan, and ggml's quantizers turn them into
     * garbage (or undefined float-to-int conversions): refuse them. Plain float types can
     * carry them, so F32/F16/BF16 pass them through. */
    if (tr->block_size > 1) {
        for (int64_t i = 0; i < n; i++)
            if (!isfinite(src[i]))
                return fn_error("tensor_quantize: element %lld is not finite (%g); %s cannot "
                                "represent it", (long long)i, (double)src[i], tr->name);
    }
    tr->from_float_ref(src, dst, n);
    return 0;
}
