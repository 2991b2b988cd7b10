/* kernels_avx512.h - helpers shared by the AVX-512 kernel files (*_avx512.c, compiled with
 * AVX-512 flags; never include it elsewhere), and the entry points each file gives
 * mm_kernels_avx512 (kernels_avx512.c) to fill its part of the kernel set. */
#ifndef FENNEC_TENSOR_KERNELS_AVX512_H
#define FENNEC_TENSOR_KERNELS_AVX512_H

#include <immintrin.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "tensor/blocks.h"
#include "tensor/kernels.h"

#define AI static inline __attribute__((always_inline))

AI float f16(uint16_t h) { return _cvtsh_ss(h); }

/* Decode streams weights from DRAM faster when we ask for them this far ahead of use than
 * when the hardware prefetchers guess (measured: ~6 -> ~10 GB/s on one core). */
#define PREFETCH_BYTES 3072

/* Prefetches the cache lines of `bytes` bytes PREFETCH_BYTES past p (may run past the end of
 * the matrix: prefetches do not fault). */
AI void prefetch_ahead(const void *p, const size_t bytes) {
    for (size_t o = 0; o < bytes; o += 64)
        _mm_prefetch((const char *)p + PREFETCH_BYTES + o, _MM_HINT_T0);
}

/* 32 bytes at p repeated in both halves of a 512-bit register. */
AI __m512i bcast256(const void *p) { return _mm512_broadcast_i64x4(_mm256_loadu_si256(p)); }



/* This file is compiled with -mavx512vnni, and clang fuses "add(acc, madd(x, y))" into
 * VPDPWSSD: the non-VNNI kernels pass madd results through this empty asm so no VNNI
 * instruction can appear in code that runs on CPUs without it. */
AI __m512i opaque(__m512i v) {
    __asm__("" : "+v"(v));
    return v;
}

/* a * b + c with one rounding (no libm call) */
AI float fma1(float a, float b, float c) {
    return _mm_cvtss_f32(_mm_fmadd_ss(_mm_set_ss(a), _mm_set_ss(b), _mm_set_ss(c)));
}

/* ggml's reduction of 8 lanes: ((l0+l4)+(l2+l6)) + ((l1+l5)+(l3+l7)). */
AI float hsum8_ggml(__m256 v) {
    __m128 x = _mm_add_ps(_mm256_extractf128_ps(v, 1), _mm256_castps256_ps128(v));
    x = _mm_add_ps(x, _mm_movehl_ps(x, x));
    x = _mm_add_ss(x, _mm_movehdup_ps(x));
    return _mm_cvtss_f32(x);
}

/* 16 lanes as GCC's _mm512_reduce_add_ps sums them (lanes k + 8 onto k, then hsum8_ggml),
 * written out so every compiler gives llama.cpp's F32 (tinyBLAS) results bit for bit: with
 * 16 sequential FMA lanes over the row, that is its order for n_in a multiple of 16. */
AI float hsum16_ggml(__m512 v) {
    return hsum8_ggml(_mm256_add_ps(_mm512_extractf32x8_ps(v, 1), _mm512_castps512_ps256(v)));
}

/* Activation rows a K-quant direct tile takes. */
#define KQ_MAX_COLS 8

/* Panels: 16 weight rows repacked so that register lane r holds row r (see
 * kquant_panels_avx512.c). */
#define PN_ROWS 16

/* Transposes 16 rows of 16 dwords into 16 columns (column c lane r = row r dword c) and
 * stores them to dst[0..15]. */
AI void transpose16_store(const __m512i r[16], __m512i *dst) {
    __m512i a[16], b[16];
    for (int i = 0; i < 8; i++) {
        a[2 * i] = _mm512_unpacklo_epi32(r[2 * i], r[2 * i + 1]);
        a[2 * i + 1] = _mm512_unpackhi_epi32(r[2 * i], r[2 * i + 1]);
    }
    for (int i = 0; i < 4; i++) {
        b[4 * i + 0] = _mm512_unpacklo_epi64(a[4 * i], a[4 * i + 2]);
        b[4 * i + 1] = _mm512_unpackhi_epi64(a[4 * i], a[4 * i + 2]);
        b[4 * i + 2] = _mm512_unpacklo_epi64(a[4 * i + 1], a[4 * i + 3]);
        b[4 * i + 3] = _mm512_unpackhi_epi64(a[4 * i + 1], a[4 * i + 3]);
    }
    /* b[4i+m] lane L = column 4L+m of rows 4i..4i+3: transpose the 128-bit lanes */
    for (int m = 0; m < 4; m++) {
        const __m512i x0 = _mm512_shuffle_i32x4(b[m], b[4 + m], 0x44);
        const __m512i x1 = _mm512_shuffle_i32x4(b[m], b[4 + m], 0xee);
        const __m512i x2 = _mm512_shuffle_i32x4(b[8 + m], b[12 + m], 0x44);
        const __m512i x3 = _mm512_shuffle_i32x4(b[8 + m], b[12 + m], 0xee);
        _mm512_store_si512(dst + m, _mm512_shuffle_i32x4(x0, x2, 0x88));
        _mm512_store_si512(dst + 4 + m, _mm512_shuffle_i32x4(x0, x2, 0xdd));
        _mm512_store_si512(dst + 8 + m, _mm512_shuffle_i32x4(x1, x3, 0x88));
        _mm512_store_si512(dst + 12 + m, _mm512_shuffle_i32x4(x1, x3, 0xdd));
    }
}

AI __m512i bcast32(const void *p) {
    int32_t v;
    memcpy(&v, p, 4);
    return _mm512_set1_epi32(v);
}

/* Byte offsets of 16 consecutive blocks of `bytes` bytes each. */
AI __m512i block_offsets(size_t bytes) {
    return _mm512_mullo_epi32(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
                              _mm512_set1_epi32((int)bytes));
}

/* The f16 at offset 0 of up to 16 blocks (lanes outside m are 0), as floats: fetching 16
 * scales at once costs far less than converting and broadcasting them one by one. */
AI __m512 gather_f16(const uint8_t *p, __m512i offs, __mmask16 m) {
    const __m512i v = _mm512_mask_i32gather_epi32(_mm512_setzero_si512(), m, offs, p, 1);
    return _mm512_cvtph_ps(_mm512_cvtepi32_epi16(v));
}

/* ---- what each file contributes (level: "avx512" or "avx512-vnni") ---- */

/* K-quant direct tiles (kquant_tiles_avx512.c). */
void mm_avx512_kquant_tiles(mm_kernel_set *ks, const char *level, bool vnni);
/* The Q4_K direct tile with VNNI, which the Q4_K panel falls back to for orders it has not. */
void mm_avx512_tile_q4_K_vnni(const mm_tile *t);
/* K-quant panels (kquant_panels_avx512.c; VNNI only). */
void mm_avx512_kquant_panels(mm_kernel_set *ks);
/* 32-element block types: direct tiles and panels (block32_avx512.c; VNNI only). */
void mm_avx512_block32(mm_kernel_set *ks, const char *level);
/* F32 / F16 / BF16 weights (float_avx512.c). */
void mm_avx512_float(mm_kernel_set *ks, const char *level);

#endif
