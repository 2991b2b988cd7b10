/* quant_ref.h - plain-C reference row functions for every block format, and the per-type
 * traits table that kernels extend. These are the ground truth SIMD kernels are tested against.
 *
 * Row functions convert n elements; n must be a multiple of the type's block size (checked
 * with FN_ASSERT: callers validate external sizes first, e.g. through tensor_quantize).
 * Quantizers produce the same bytes as ggml's quantize_row_*_ref (the no-imatrix path), and
 * dequantizers the same f32 values as ggml's dequantize_row_*. Exactness relies on IEEE f32
 * arithmetic evaluated as written (no FMA contraction, no x87 excess precision). */
#ifndef FENNEC_TENSOR_QUANT_REF_H
#define FENNEC_TENSOR_QUANT_REF_H

#include <stdint.h>

#include "tensor/blocks.h"

/* The 16 levels of IQ4_NL/IQ4_XS, and the E2M1 values of MXFP4 doubled (so they are
 * integers; the E8M0 scale is halved to compensate). */
extern const int8_t tensor_kvalues_iq4nl[16];
extern const int8_t tensor_kvalues_mxfp4[16];

/* E8M0 exponent byte -> 2^(e-128), i.e. half the MXFP4 scale (pairs with the doubled table). */
float tensor_e8m0_to_f32_half(uint8_t e);

/* ---- quantize: f32 -> blocks ---- */
void tensor_quantize_row_q4_0_ref(const float *x, block_q4_0 *y, int64_t n);
void tensor_quantize_row_q4_1_ref(const float *x, block_q4_1 *y, int64_t n);
void tensor_quantize_row_q5_0_ref(const float *x, block_q5_0 *y, int64_t n);
void tensor_quantize_row_q5_1_ref(const float *x, block_q5_1 *y, int64_t n);
void tensor_quantize_row_q8_0_ref(const float *x, block_q8_0 *y, int64_t n);
/* Q8_0 as ggml-cpu quantizes activations on x86 (127/amax, round half to even). */
void tensor_quantize_row_q8_0_act(const float *x, block_q8_0 *y, int64_t n);
void tensor_quantize_row_q8_1_ref(const float *x, block_q8_1 *y, int64_t n);
void tensor_quantize_row_mxfp4_ref(const float *x, block_mxfp4 *y, int64_t n);
void tensor_quantize_row_q2_K_ref(const float *x, block_q2_K *y, int64_t n);
void tensor_quantize_row_q3_K_ref(const float *x, block_q3_K *y, int64_t n);
void tensor_quantize_row_q4_K_ref(const float *x, block_q4_K *y, int64_t n);
void tensor_quantize_row_q5_K_ref(const float *x, block_q5_K *y, int64_t n);
void tensor_quantize_row_q6_K_ref(const float *x, block_q6_K *y, int64_t n);
/* Q8_K is only an activation format. Unlike ggml, an all-zero block also gets zero bsums
 * (ggml leaves them unwritten). */
void tensor_quantize_row_q8_K_ref(const float *x, block_q8_K *y, int64_t n);

/* ---- dequantize: blocks -> f32 ---- */
void tensor_dequantize_row_q4_0(const block_q4_0 *x, float *y, int64_t n);
void tensor_dequantize_row_q4_1(const block_q4_1 *x, float *y, int64_t n);
void tensor_dequantize_row_q5_0(const block_q5_0 *x, float *y, int64_t n);
void tensor_dequantize_row_q5_1(const block_q5_1 *x, float *y, int64_t n);
void tensor_dequantize_row_q8_0(const block_q8_0 *x, float *y, int64_t n);
void tensor_dequantize_row_q8_1(const block_q8_1 *x, float *y, int64_t n);
void tensor_dequantize_row_mxfp4(const block_mxfp4 *x, float *y, int64_t n);
void tensor_dequantize_row_iq4_nl(const block_iq4_nl *x, float *y, int64_t n);
void tensor_dequantize_row_q2_K(const block_q2_K *x, float *y, int64_t n);
void tensor_dequantize_row_q3_K(const block_q3_K *x, float *y, int64_t n);
void tensor_dequantize_row_q4_K(const block_q4_K *x, float *y, int64_t n);
void tensor_dequantize_row_q5_K(const block_q5_K *x, float *y, int64_t n);
void tensor_dequantize_row_q6_K(const block_q6_K *x, float *y, int64_t n);
void tensor_dequantize_row_q8_K(const block_q8_K *x, float *y, int64_t n);
void tensor_dequantize_row_iq4_xs(const block_iq4_xs *x, float *y, int64_t n);
void tensor_dequantize_row_tq1_0(const block_tq1_0 *x, float *y, int64_t n);
void tensor_dequantize_row_tq2_0(const block_tq2_0 *x, float *y, int64_t n);

/* Plain element types as row functions, so the traits table is uniform. */
void tensor_row_f32_to_f16(const float *x, uint16_t *y, int64_t n);
void tensor_row_f16_to_f32(const uint16_t *x, float *y, int64_t n);
void tensor_row_f32_to_bf16(const float *x, uint16_t *y, int64_t n);
void tensor_row_bf16_to_f32(const uint16_t *x, float *y, int64_t n);

/* ---- traits: one entry per type id ---- */

typedef void (*tensor_to_float_fn)(const void *src, float *dst, int64_t n);
typedef void (*tensor_from_float_fn)(const float *src, void *dst, int64_t n);

typedef struct {
    uint32_t type;                      /* fn_dtype id */
    const char *name;                   /* GGML name, e.g. "q4_K" */
    uint32_t block_size;                /* elements per block (1 for plain types) */
    uint32_t block_bytes;               /* bytes per block */
    tensor_to_float_fn to_float;        /* reference dequantizer, NULL if unsupported */
    tensor_from_float_fn from_float_ref;/* reference quantizer, NULL if unsupported */
} tensor_traits;

/* Traits of a type id, or NULL if the id is unknown. The table is static and read-only;
 * to_float/from_float_ref are NULL where Fennec has no conversion for the type. */
const tensor_traits *tensor_traits_get(uint32_t type);

#endif
