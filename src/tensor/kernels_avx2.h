/* kernels_avx2.h - helpers shared by the AVX2 kernel files (*_avx2.c, compiled with AVX2,
 * FMA, F16C and AVX-VNNI flags; never include it elsewhere), and the entry points each file
 * gives mm_kernels_avx2 (kernels_avx2.c) to fill its part of the kernel set. */
#ifndef FENNEC_TENSOR_KERNELS_AVX2_H
#define FENNEC_TENSOR_KERNELS_AVX2_H

#include <immintrin.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "tensor/blocks.h"
#include "tensor/kernels.h"

#define AI static inline __attribute__((always_inline))

/* See kernels_avx512.c. */
#define PREFETCH_BYTES 3072

AI void prefetch_ahead(const void *p, const size_t bytes) {
    for (size_t o = 0; o < bytes; o += 64)
        _mm_prefetch((const char *)p + PREFETCH_BYTES + o, _MM_HINT_T0);
}

AI float f16(uint16_t h) { return _cvtsh_ss(h); }

AI float e8m0_half(uint8_t e) {
    const uint32_t bits = e < 2 ? 0x00200000u << e : (uint32_t)(e - 1) << 23;
    float f;
    memcpy(&f, &bits, sizeof f);
    return f;
}

/* ((l0+l4)+(l2+l6)) + ((l1+l5)+(l3+l7)): ggml's order, which the Q8_0 kernels follow. */
AI float hsum(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

/* This file is compiled with -mavxvnni, and clang fuses "add(acc, madd(x, y))" into the
 * AVX-VNNI VPDPWSSD: the non-VNNI kernels pass madd results through this empty asm so no
 * VNNI instruction can appear in code that runs on CPUs without it. */
AI __m256i opaque(__m256i v) {
    __asm__("" : "+x"(v));
    return v;
}

/* u8 x s8 dot products of 4-byte groups added to acc (codes u <= 63 without VNNI). */
AI __m256i dot_u8s8(__m256i acc, __m256i u, __m256i s, const bool vnni) {
    if (vnni) return _mm256_dpbusd_avx_epi32(acc, u, s);
    return _mm256_add_epi32(acc, opaque(_mm256_madd_epi16(_mm256_maddubs_epi16(u, s), _mm256_set1_epi16(1))));
}

/* Byte-shuffle control making words from bytes: word k = byte idx[k], high byte zero. */
AI __m256i byte_to_word_ctrl(const uint8_t idx[16]) {
    uint16_t w[16];
    for (int k = 0; k < 16; k++) w[k] = (uint16_t)(0x8000u | idx[k]);
    return _mm256_loadu_si256((const void *)w);
}

/* Activation rows a K-quant direct tile takes. */
#define KQ_MAX_COLS 4

/* Scales and mins of Q4_K/Q5_K's 12-byte packing, as two 8-byte little-endian vectors. */
AI void k4_scale_bytes(const uint8_t *q, uint64_t *sc, uint64_t *mn) {
    uint32_t u0, u1, u2;
    memcpy(&u0, q, 4);
    memcpy(&u1, q + 4, 4);
    memcpy(&u2, q + 8, 4);
    const uint32_t s_lo = u0 & 0x3f3f3f3fu, m_lo = u1 & 0x3f3f3f3fu;
    const uint32_t s_hi = (u2 & 0x0f0f0f0fu) | ((u0 >> 2) & 0x30303030u);
    const uint32_t m_hi = ((u2 >> 4) & 0x0f0f0f0fu) | ((u1 >> 2) & 0x30303030u);
    *sc = s_lo | (uint64_t)s_hi << 32;
    *mn = m_lo | (uint64_t)m_hi << 32;
}

/* The sixteen signed 6-bit scales of Q3_K as bytes. */
AI __m128i q3k_scales(const uint8_t *q) {
    uint32_t a0, a1, a2;
    memcpy(&a0, q, 4);
    memcpy(&a1, q + 4, 4);
    memcpy(&a2, q + 8, 4);
    const uint32_t m4 = 0x0f0f0f0fu, m2 = 0x03030303u;
    const __m128i v = _mm_setr_epi32((int)((a0 & m4) | (a2 & m2) << 4),
                                     (int)((a1 & m4) | ((a2 >> 2) & m2) << 4),
                                     (int)(((a0 >> 4) & m4) | ((a2 >> 4) & m2) << 4),
                                     (int)(((a1 >> 4) & m4) | ((a2 >> 6) & m2) << 4));
    return _mm_sub_epi8(v, _mm_set1_epi8(32));
}

AI __m256i bcast32(const void *p) {
    int32_t v;
    memcpy(&v, p, 4);
    return _mm256_set1_epi32(v);
}

/* Panels: 8 weight rows repacked so that register lane r holds row r (kquant_panels_avx2.c). */
#define PN_ROWS 8

/* Transposes 8 rows of 8 dwords into 8 columns stored at dst[0..7]. */
AI void transpose8_store(const __m256i r[8], __m256i *dst) {
    __m256i a[8], b[8];
    for (int i = 0; i < 4; i++) {
        a[2 * i] = _mm256_unpacklo_epi32(r[2 * i], r[2 * i + 1]);
        a[2 * i + 1] = _mm256_unpackhi_epi32(r[2 * i], r[2 * i + 1]);
    }
    for (int i = 0; i < 2; i++) {
        b[4 * i + 0] = _mm256_unpacklo_epi64(a[4 * i], a[4 * i + 2]);
        b[4 * i + 1] = _mm256_unpackhi_epi64(a[4 * i], a[4 * i + 2]);
        b[4 * i + 2] = _mm256_unpacklo_epi64(a[4 * i + 1], a[4 * i + 3]);
        b[4 * i + 3] = _mm256_unpackhi_epi64(a[4 * i + 1], a[4 * i + 3]);
    }
    /* b[4i+m] lane L = column 4L+m of rows 4i..4i+3 */
    for (int m = 0; m < 4; m++) {
        _mm256_store_si256(dst + m, _mm256_permute2x128_si256(b[m], b[4 + m], 0x20));
        _mm256_store_si256(dst + 4 + m, _mm256_permute2x128_si256(b[m], b[4 + m], 0x31));
    }
}

/* Lanes 0..nr-1 set, for masked stores of a panel's rows. */
AI __m256i row_mask(int nr) {
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(nr), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

/* ---- what each file contributes (level: "avx2" or "avx2-vnni") ---- */

/* K-quant direct tiles (kquant_tiles_avx2.c). */
void mm_avx2_kquant_tiles(mm_kernel_set *ks, const char *level, bool vnni);
/* The Q4_K direct tile with VNNI, which the Q4_K panel falls back to for orders it has not. */
void mm_avx2_tile_q4_K_vnni(const mm_tile *t);
/* K-quant panels (kquant_panels_avx2.c; AVX-VNNI only). */
void mm_avx2_kquant_panels(mm_kernel_set *ks);
/* 32-element block types: direct tiles, and panels with AVX-VNNI (block32_avx2.c). */
void mm_avx2_block32(mm_kernel_set *ks, const char *level, bool vnni);
/* F32 / F16 / BF16 weights (float_avx2.c). */
void mm_avx2_float(mm_kernel_set *ks, const char *level);

#endif
