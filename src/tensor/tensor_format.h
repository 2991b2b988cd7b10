/* tensor_format.h - element formats: f16/bf16 conversion, and per-type dequantize (to f32)
 * and reference quantize (from f32) using exactly llama.cpp's block layouts (blocks.h).
 * Row functions take n elements, a whole number of blocks of the type. The per-type row
 * functions and the traits table behind these live in quant_ref.h. */
#ifndef FENNEC_TENSOR_TENSOR_FORMAT_H
#define FENNEC_TENSOR_TENSOR_FORMAT_H

#include <stdbool.h>
#include <stdint.h>

#include "base/dtype.h"

float fn_f16_to_f32(uint16_t h);
uint16_t fn_f32_to_f16(float f);     /* round to nearest even, inf/nan preserved
                                      * (nan becomes the quiet 0x7e00, sign kept, as ggml) */
float fn_bf16_to_f32(uint16_t h);
uint16_t fn_f32_to_bf16(float f);    /* round to nearest even, nan stays nan */

/* True if tensor_dequantize supports the type. */
bool tensor_can_dequantize(uint32_t type);
/* True if tensor_quantize supports the type. */
bool tensor_can_quantize(uint32_t type);

/* Converts n elements of `type` at src to f32. Returns 0, or -1 (fn_error) if the type is
 * unsupported or n is not a multiple of its block size. */
int tensor_dequantize(uint32_t type, const void *src, float *dst, int64_t n);

/* Reference quantization of n f32 values into `type` (same result as llama.cpp's
 * quantize_row_*_ref). Returns 0 or -1 as above; also -1 if a block-quantized type is given
 * an inf or nan, which no block format can represent (F32/F16/BF16 carry them). */
int tensor_quantize(uint32_t type, const float *src, void *dst, int64_t n);

#endif
