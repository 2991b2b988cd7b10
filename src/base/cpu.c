/* cpu.c - cpuid/xgetbv feature detection (see cpu.h). */
#include "base/cpu.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>

static uint64_t xgetbv0(void) {
    uint32_t lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return ((uint64_t)hi << 32) | lo;
}

static void detect(fn_cpu_features *f) {
    unsigned a, b, c, d;
    memset(f, 0, sizeof *f);
    if (!__get_cpuid(1, &a, &b, &c, &d)) return;
    bool osxsave = c & (1u << 27), fma = c & (1u << 12), f16c = c & (1u << 29), avx = c & (1u << 28);
    if (!osxsave || !avx) return;
    uint64_t xcr0 = xgetbv0();
    bool ymm = (xcr0 & 0x6) == 0x6, zmm = (xcr0 & 0xE6) == 0xE6;
    if (!ymm) return;
    unsigned max = __get_cpuid_max(0, NULL);
    if (max < 7) return;
    __cpuid_count(7, 0, a, b, c, d);
    f->avx2 = (b & (1u << 5)) && fma;
    f->fma = fma;
    f->f16c = f16c;
    if (zmm) {
        f->avx512f = b & (1u << 16);
        f->avx512dq = b & (1u << 17);
        f->avx512bw = b & (1u << 30);
        f->avx512vl = b & (1u << 31);
        f->avx512_vnni = f->avx512f && (c & (1u << 11));
    }
    __cpuid_count(7, 1, a, b, c, d);
    f->avx_vnni = f->avx2 && (a & (1u << 4));
    f->avx512_bf16 = f->avx512f && (a & (1u << 5));
}
#else
static void detect(fn_cpu_features *f) { memset(f, 0, sizeof *f); }
#endif

static fn_cpu_features features;
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void init(void) {
    detect(&features);
    const char *cap = getenv("FENNEC_CPU");
    if (!cap) return;
    if (!strcmp(cap, "generic")) {
        memset(&features, 0, sizeof features);
    } else if (!strcmp(cap, "avx2")) {
        features.avx512f = features.avx512bw = features.avx512vl = features.avx512dq = false;
        features.avx512_vnni = features.avx512_bf16 = false;
    }
}

const fn_cpu_features *fn_cpu(void) {
    pthread_once(&once, init);
    return &features;
}

const char *fn_cpu_level_name(void) {
    const fn_cpu_features *f = fn_cpu();
    if (f->avx512f && f->avx512bw && f->avx512vl) return f->avx512_vnni ? "avx512-vnni" : "avx512";
    if (f->avx2) return f->avx_vnni ? "avx2-vnni" : "avx2";
    return "generic";
}
