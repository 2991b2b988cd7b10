/* convert.c - dispatch for fast conversions (see convert.h). */
#include "tensor/convert.h"

#include <pthread.h>

#include "base/cpu.h"
#include "tensor/tensor_format.h"

#if defined(__x86_64__) || defined(__i386__)
void tensor_f16_to_f32_f16c(const uint16_t *src, float *dst, int64_t n); /* convert_avx2.c */
#endif

static void f16_to_f32_plain(const uint16_t *src, float *dst, int64_t n) {
    for (int64_t i = 0; i < n; i++) dst[i] = fn_f16_to_f32(src[i]);
}

typedef void (*conv_fn)(const uint16_t *, float *, int64_t);
static conv_fn f16_to_f32 = f16_to_f32_plain;
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void pick(void) {
#if defined(__x86_64__) || defined(__i386__)
    if (fn_cpu()->avx2 && fn_cpu()->f16c) f16_to_f32 = tensor_f16_to_f32_f16c;
#endif
}

void tensor_f16_to_f32_fast(const uint16_t *src, float *dst, int64_t n) {
    pthread_once(&once, pick);
    f16_to_f32(src, dst, n);
}
