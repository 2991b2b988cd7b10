/* convert.h - fast f16 -> f32 row conversion for hot loops outside the matmul kernels
 * (attention reads the F16 KV cache). Uses F16C when the CPU has it, chosen once. */
#ifndef FENNEC_TENSOR_CONVERT_H
#define FENNEC_TENSOR_CONVERT_H

#include <stdint.h>

void tensor_f16_to_f32_fast(const uint16_t *src, float *dst, int64_t n);

#endif
