/* cpu.h - CPU features detected once at run time, so one binary runs on any x86-64 and
 * kernels pick their fastest version (function pointers chosen at start-up). */
#ifndef FENNEC_BASE_CPU_H
#define FENNEC_BASE_CPU_H

#include <stdbool.h>

typedef struct {
    bool avx2, fma, f16c;          /* Haswell and later */
    bool avx512f, avx512bw, avx512vl, avx512dq;
    bool avx512_vnni;              /* VPDPBUSD on 512-bit registers */
    bool avx_vnni;                 /* VPDPBUSD on 256-bit registers (VEX) */
    bool avx512_bf16;
} fn_cpu_features;

/* Features of this CPU that the OS also enables (XSAVE state checked). Cached after the
 * first call; thread-safe. FENNEC_CPU=generic|avx2|avx512 in the environment caps it (for
 * testing every kernel path on one machine). */
const fn_cpu_features *fn_cpu(void);

/* "avx512-vnni", "avx2", "generic": the best level in use, for logs and benchmarks. */
const char *fn_cpu_level_name(void);

#endif
