/* convert_avx2.c - F16C conversions (compiled with -mavx2 -mf16c; called only after CPU
 * detection, see convert.c). */
#include <immintrin.h>
#include <stdint.h>

#include "tensor/tensor_format.h"

void tensor_f16_to_f32_f16c(const uint16_t *src, float *dst, int64_t n);

void tensor_f16_to_f32_f16c(const uint16_t *src, float *dst, int64_t n) {
    int64_t i = 0;
    for (; i + 8 <= n; i += 8)
        _mm256_storeu_ps(dst + i, _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(src + i))));
    for (; i < n; i++) dst[i] = fn_f16_to_f32(src[i]);
}
