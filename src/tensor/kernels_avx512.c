/* kernels_avx512.c - AVX-512 (F/BW/VL/DQ, optional VNNI) matmul kernels and activation
 * quantizers. Compiled with AVX-512 flags; only called after fn_cpu() reports them.
 *
 * Integer kernels multiply unsigned weight codes by signed Q8 activations (VPDPBUSD, or
 * VPMADDUBSW+VPMADDWD without VNNI); signed weight values are made unsigned by an offset
 * whose contribution (offset * sum of activations) is subtracted once per block.
 * K-quant kernels take one weight row at a time against up to 8 activation rows: the row's
 * nibbles and scales are unpacked once per super-block and reused for every activation row.
 * 32-element block kernels take 2 weight rows x 4 activation rows, two blocks per register. */
#include <immintrin.h>
#include <stddef.h>
#include <string.h>

#include "tensor/blocks.h"
#include "tensor/kernels.h"
#include "tensor/quant_ref.h"

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

/* ===================================================================== K-quants x Q8_K === */

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

/* Per-row state of the K-quant kernels. */
#define KQ_MAX_COLS 8

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

/* A vector of 32 words given in ascending order. */
AI __m512i words32(const uint16_t w[32]) { return _mm512_loadu_si512(w); }

/* Byte-shuffle control making words from bytes: word k = byte idx[k] (high byte zero). */
AI __m512i byte_to_word_ctrl(const uint8_t idx[32]) {
    uint16_t w[32];
    for (int k = 0; k < 32; k++) w[k] = (uint16_t)(0x8000u | idx[k]);
    return words32(w);
}

/* Scale-word controls for Q4_K/Q5_K registers holding two 32-element sub-blocks each
 * (128-bit lanes 0-1 the first, 2-3 the second).
 * VNNI: packs(P_a, P_b) puts, in lane L, P_a's 4 dwords then P_b's; so the words of lane L
 * are [scale of P_a's sub-block x4, of P_b's x4]. For registers (0,1) = sub-blocks (0|1,
 * 2|3): lanes 0-1 [s0, s2], lanes 2-3 [s1, s3]. */
AI __m512i k4_ctrl_vnni(int first) {
    uint8_t idx[32];
    for (int L = 0; L < 4; L++)
        for (int k = 0; k < 8; k++)
            idx[8 * L + k] = (uint8_t)(first + (L >= 2) + (k >= 4 ? 2 : 0));
    return byte_to_word_ctrl(idx);
}

/* Without VNNI maddubs word j of register g covers elements 2j, 2j+1: words 0-15 belong to
 * sub-block 2g, words 16-31 to 2g+1. */
AI __m512i k4_ctrl_plain(int g) {
    uint8_t idx[32];
    for (int k = 0; k < 32; k++) idx[k] = (uint8_t)(2 * g + (k >= 16));
    return byte_to_word_ctrl(idx);
}

/* Q4_K / Q5_K: one weight row times NC activation rows. */
AI void k4_row(const mm_tile *t, int r, int c0, const int NC, const bool q5, const bool vnni) {
    const uint8_t *wrow = t->w + (size_t)r * t->w_stride;
    const block_q8_K *a[KQ_MAX_COLS];
    for (int c = 0; c < NC; c++) a[c] = (const block_q8_K *)t->act[c0 + c];
    __m512 acc[KQ_MAX_COLS];
    for (int c = 0; c < NC; c++) acc[c] = _mm512_setzero_ps();
    const __m512i m4 = _mm512_set1_epi8(0x0f);
    const __m512i shift_hi = _mm512_inserti64x4(_mm512_setzero_si512(), _mm256_set1_epi16(4), 1);
    /* mins as words [m0 m0 m1 m1 ... m7 m7], to pair with the 16 bsums */
    uint8_t midx[32];
    for (int k = 0; k < 32; k++) midx[k] = (uint8_t)(k & 1 ? 0x80 : (k >> 2));
    const __m256i ctrl_m = _mm256_loadu_si256((const void *)midx);
    __m512i ctrl[4];
    if (vnni) {
        ctrl[0] = k4_ctrl_vnni(0);
        ctrl[1] = k4_ctrl_vnni(4);
    } else {
        for (int g = 0; g < 4; g++) ctrl[g] = k4_ctrl_plain(g);
    }
    const int64_t nb = t->n_in / QK_K;
    for (int64_t i = 0; i < nb; i++) {
        const uint8_t *qs;
        const uint8_t *scales;
        float d, dmin;
        __m512i qhb = _mm512_setzero_si512();
        prefetch_ahead(wrow + (size_t)i * (q5 ? sizeof(block_q5_K) : sizeof(block_q4_K)),
                       q5 ? sizeof(block_q5_K) : sizeof(block_q4_K));
        if (q5) {
            const block_q5_K *w = (const block_q5_K *)wrow + i;
            qs = w->qs;
            scales = w->scales;
            d = f16(w->d);
            dmin = f16(w->dmin);
            qhb = bcast256(w->qh);
        } else {
            const block_q4_K *w = (const block_q4_K *)wrow + i;
            qs = w->qs;
            scales = w->scales;
            d = f16(w->d);
            dmin = f16(w->dmin);
        }
        /* register g: bytes 0-31 = low nibbles of qs[32g..] (elements 64g..64g+31), bytes
         * 32-63 = high nibbles (elements 64g+32..64g+63) */
        __m512i W[4];
        for (int g = 0; g < 4; g++) {
            W[g] = _mm512_and_si512(_mm512_srlv_epi16(bcast256(qs + 32 * g), shift_hi), m4);
            if (q5) {
                /* 5th bit: qh bit 2g for the low half, 2g+1 for the high half */
                const __m512i bits = _mm512_inserti64x4(_mm512_set1_epi8((char)(1 << (2 * g))),
                                                        _mm256_set1_epi8((char)(2 << (2 * g))), 1);
                const __mmask64 k = _mm512_test_epi8_mask(qhb, bits);
                W[g] = _mm512_mask_add_epi8(W[g], k, W[g], _mm512_set1_epi8(16));
            }
        }
        uint64_t sc, mn;
        k4_scale_bytes(scales, &sc, &mn);
        const __m512i scv = _mm512_set1_epi64((long long)sc);
        __m512i S[4];
        for (int g = 0; g < (vnni ? 2 : 4); g++) S[g] = _mm512_shuffle_epi8(scv, ctrl[g]);
        const __m256i mins = _mm256_shuffle_epi8(_mm256_set1_epi64x((long long)mn), ctrl_m);
        const __m512 dv = _mm512_set1_ps(d);
        const __m256 mv = _mm256_set1_ps(-dmin);
        for (int c = 0; c < NC; c++) {
            const block_q8_K *y = a[c] + i;
            __m512i Q;
            if (vnni) {
                const __m512i z = _mm512_setzero_si512();
                const __m512i P0 = _mm512_dpbusd_epi32(z, W[0], _mm512_loadu_si512(y->qs));
                const __m512i P1 = _mm512_dpbusd_epi32(z, W[1], _mm512_loadu_si512(y->qs + 64));
                const __m512i P2 = _mm512_dpbusd_epi32(z, W[2], _mm512_loadu_si512(y->qs + 128));
                const __m512i P3 = _mm512_dpbusd_epi32(z, W[3], _mm512_loadu_si512(y->qs + 192));
                Q = _mm512_add_epi32(_mm512_madd_epi16(_mm512_packs_epi32(P0, P1), S[0]),
                                     _mm512_madd_epi16(_mm512_packs_epi32(P2, P3), S[1]));
            } else {
                __m512i q[4];
                for (int g = 0; g < 4; g++)
                    q[g] = opaque(_mm512_madd_epi16(
                        _mm512_maddubs_epi16(W[g], _mm512_loadu_si512(y->qs + 64 * g)), S[g]));
                Q = _mm512_add_epi32(_mm512_add_epi32(q[0], q[1]), _mm512_add_epi32(q[2], q[3]));
            }
            const __m256i M = _mm256_madd_epi16(mins, _mm256_loadu_si256((const void *)y->bsums));
            const __m256 mt = _mm256_mul_ps(_mm256_cvtepi32_ps(M), mv);
            const __m512 s = _mm512_fmadd_ps(_mm512_cvtepi32_ps(Q), dv, _mm512_zextps256_ps512(mt));
            acc[c] = _mm512_fmadd_ps(s, _mm512_set1_ps(y->d), acc[c]);
        }
    }
    for (int c = 0; c < NC; c++)
        t->out[(size_t)(c0 + c) * t->out_stride + (size_t)r] = _mm512_reduce_add_ps(acc[c]);
}

/* Q4_K in llama.cpp's summation orders (t->order), so results match it bit for bit:
 *   MM_ORDER_VEC    ggml_vec_dot_q4_K_q8_K: 8 integer lanes, lane L summing scale x (code x
 *                   activation) over elements 4L..4L+3 of each 32; mins in 4 lanes; FMAs
 *                   per super-block, then the 8-lane tree plus the mins' 4-lane tree
 *   MM_ORDER_GEMV   repacked gemv: the super-block's whole integer sum and min sum, one FMA
 *                   each per super-block, result acc - accm
 *   MM_ORDER_GEMM4  repacked gemm: the same per 64 elements (4 FMAs each per super-block)
 * Integer parts are exact in any grouping; only where the float roundings happen matters. */
AI void k4o_row(const mm_tile *t, int r, int c0, const int NC, const bool vnni) {
    const uint8_t *wrow = t->w + (size_t)r * t->w_stride;
    const block_q8_K *a[KQ_MAX_COLS];
    for (int c = 0; c < NC; c++) a[c] = (const block_q8_K *)t->act[c0 + c];
    const int order = t->order;
    __m256 acc8[KQ_MAX_COLS];
    __m128 accm4[KQ_MAX_COLS];
    float acci[KQ_MAX_COLS], accm[KQ_MAX_COLS];
    for (int c = 0; c < NC; c++) {
        acc8[c] = _mm256_setzero_ps();
        accm4[c] = _mm_setzero_ps();
        acci[c] = accm[c] = 0.0f;
    }
    const __m512i m4 = _mm512_set1_epi8(0x0f);
    const __m512i shift_hi = _mm512_inserti64x4(_mm512_setzero_si512(), _mm256_set1_epi16(4), 1);
    __m512i ctrl[4];
    if (vnni) {
        ctrl[0] = k4_ctrl_vnni(0);
        ctrl[1] = k4_ctrl_vnni(4);
    } else {
        for (int g = 0; g < 4; g++) ctrl[g] = k4_ctrl_plain(g);
    }
    const int64_t nb = t->n_in / QK_K;
    for (int64_t i = 0; i < nb; i++) {
        const block_q4_K *w = (const block_q4_K *)wrow + i;
        prefetch_ahead(w, sizeof *w);
        /* register g: bytes 0-31 = elements 64g..64g+31 (low nibbles), 32-63 = the next 32 */
        __m512i W[4], SC[4];
        for (int g = 0; g < 4; g++) W[g] = _mm512_and_si512(_mm512_srlv_epi16(bcast256(w->qs + 32 * g), shift_hi), m4);
        uint64_t sc, mn;
        k4_scale_bytes(w->scales, &sc, &mn);
        const __m128i mins16 = _mm_cvtepu8_epi16(_mm_cvtsi64_si128((long long)mn));
        const float d = f16(w->d), dmin = f16(w->dmin);
        if (order == MM_ORDER_GEMV) {
            /* only the super-block's total matters: scale words multiply packed dword sums
             * (as k4_row), no per-lane integer multiplies */
            const __m512i scv = _mm512_set1_epi64((long long)sc);
            __m512i S[4];
            for (int g = 0; g < (vnni ? 2 : 4); g++) S[g] = _mm512_shuffle_epi8(scv, ctrl[g]);
            for (int c = 0; c < NC; c++) {
                const block_q8_K *y = a[c] + i;
                __m512i q;
                if (vnni) {
                    const __m512i z = _mm512_setzero_si512();
                    const __m512i P0 = _mm512_dpbusd_epi32(z, W[0], _mm512_loadu_si512(y->qs));
                    const __m512i P1 = _mm512_dpbusd_epi32(z, W[1], _mm512_loadu_si512(y->qs + 64));
                    const __m512i P2 = _mm512_dpbusd_epi32(z, W[2], _mm512_loadu_si512(y->qs + 128));
                    const __m512i P3 = _mm512_dpbusd_epi32(z, W[3], _mm512_loadu_si512(y->qs + 192));
                    q = _mm512_add_epi32(_mm512_madd_epi16(_mm512_packs_epi32(P0, P1), S[0]),
                                         _mm512_madd_epi16(_mm512_packs_epi32(P2, P3), S[1]));
                } else {
                    __m512i part[4];
                    for (int g = 0; g < 4; g++)
                        part[g] = opaque(_mm512_madd_epi16(
                            _mm512_maddubs_epi16(W[g], _mm512_loadu_si512(y->qs + 64 * g)), S[g]));
                    q = _mm512_add_epi32(_mm512_add_epi32(part[0], part[1]), _mm512_add_epi32(part[2], part[3]));
                }
                const __m128i q8s = _mm_hadd_epi16(_mm_loadu_si128((const void *)y->bsums),
                                                   _mm_loadu_si128((const void *)(y->bsums + 8)));
                __m128i pm = _mm_madd_epi16(mins16, q8s);
                pm = _mm_add_epi32(pm, _mm_unpackhi_epi64(pm, pm));
                const int32_t msum = _mm_cvtsi128_si32(pm) + _mm_extract_epi32(pm, 1);
                acci[c] = fma1((float)_mm512_reduce_add_epi32(q), d * y->d, acci[c]);
                accm[c] = fma1((float)msum, dmin * y->d, accm[c]);
            }
            continue;
        }
        for (int g = 0; g < 4; g++) /* lanes 0-7: scale of sub-block 2g, 8-15: of 2g+1 */
            SC[g] = _mm512_inserti64x4(_mm512_set1_epi32((int)((sc >> (16 * g)) & 0xff)),
                                       _mm256_set1_epi32((int)((sc >> (16 * g + 8)) & 0xff)), 1);
        for (int c = 0; c < NC; c++) {
            const block_q8_K *y = a[c] + i;
            __m512i Q[4];
            for (int g = 0; g < 4; g++) {
                const __m512i yv = _mm512_loadu_si512(y->qs + 64 * g);
                const __m512i P = vnni ? _mm512_dpbusd_epi32(_mm512_setzero_si512(), W[g], yv)
                                       : _mm512_madd_epi16(_mm512_maddubs_epi16(W[g], yv), _mm512_set1_epi16(1));
                Q[g] = _mm512_mullo_epi32(P, SC[g]);
            }
            /* prod[m] = mn[2m] (b[4m] + b[4m+1]) + mn[2m+1] (b[4m+2] + b[4m+3]) */
            const __m128i q8s = _mm_hadd_epi16(_mm_loadu_si128((const void *)y->bsums),
                                               _mm_loadu_si128((const void *)(y->bsums + 8)));
            const __m128i prod = _mm_madd_epi16(mins16, q8s);
            if (order == MM_ORDER_VEC) {
                const __m512i q = _mm512_add_epi32(_mm512_add_epi32(Q[0], Q[1]), _mm512_add_epi32(Q[2], Q[3]));
                const __m256i lanes = _mm256_add_epi32(_mm512_castsi512_si256(q), _mm512_extracti64x4_epi64(q, 1));
                acc8[c] = _mm256_fmadd_ps(_mm256_set1_ps(y->d * d), _mm256_cvtepi32_ps(lanes), acc8[c]);
                accm4[c] = _mm_fmadd_ps(_mm_set1_ps(-y->d * dmin), _mm_cvtepi32_ps(prod), accm4[c]);
            } else if (order == MM_ORDER_GEMM4) {
                int32_t pm[4];
                _mm_storeu_si128((void *)pm, prod);
                for (int g = 0; g < 4; g++) {
                    acci[c] = fma1((float)_mm512_reduce_add_epi32(Q[g]), d * y->d, acci[c]);
                    accm[c] = fma1((float)pm[g], dmin * y->d, accm[c]);
                }
            } else {
                const __m512i q = _mm512_add_epi32(_mm512_add_epi32(Q[0], Q[1]), _mm512_add_epi32(Q[2], Q[3]));
                const __m128i p2 = _mm_add_epi32(prod, _mm_unpackhi_epi64(prod, prod));
                const int32_t msum = _mm_cvtsi128_si32(p2) + _mm_extract_epi32(p2, 1);
                acci[c] = fma1((float)_mm512_reduce_add_epi32(q), d * y->d, acci[c]);
                accm[c] = fma1((float)msum, dmin * y->d, accm[c]);
            }
        }
    }
    for (int c = 0; c < NC; c++) {
        float v;
        if (order == MM_ORDER_VEC) {
            __m128 m = _mm_add_ps(accm4[c], _mm_movehl_ps(accm4[c], accm4[c]));
            m = _mm_add_ss(m, _mm_movehdup_ps(m));
            v = hsum8_ggml(acc8[c]) + _mm_cvtss_f32(m);
        } else {
            v = acci[c] - accm[c];
        }
        t->out[(size_t)(c0 + c) * t->out_stride + (size_t)r] = v;
    }
}

/* ---- Q6_K, Q3_K, Q2_K: 16 sub-blocks of 16 ----
 * Q6_K: x = d * sc * (q - 32), q 6-bit, sc signed 8-bit.
 * Q3_K: x = d * sc * (q - 4), q 3-bit (2 low bits + a bit of hmask), sc signed 6-bit.
 * Q2_K: x = d * sc * q - dmin * m, q 2-bit, sc and m 4-bit.
 * All unpack to four registers of unsigned codes, register k holding elements 64k..64k+63,
 * so that its 128-bit lane L is sub-block 4k+L. */

enum { K16_Q6, K16_Q3, K16_Q2 };

AI size_t k16_block_bytes(const int kind) {
    return kind == K16_Q6 ? sizeof(block_q6_K) : kind == K16_Q3 ? sizeof(block_q3_K) : sizeof(block_q2_K);
}

/* The sixteen signed 6-bit scales of Q3_K (packing in quant_k.c) as bytes. */
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

/* Unsigned codes of one super-block: register k = elements 64k..64k+63. */
AI void k16_codes(const uint8_t *blk, const int kind, __m512i W[4]) {
    if (kind == K16_Q6) {
        const block_q6_K *x = (const void *)blk;
        const __m512i m4 = _mm512_set1_epi8(0x0f), m30 = _mm512_set1_epi8(0x30);
        const __m512i sh_a = _mm512_inserti64x4(_mm512_set1_epi16(4), _mm256_set1_epi16(2), 1);
        const __m512i sh_b = _mm512_inserti64x4(_mm512_setzero_si512(), _mm256_set1_epi16(2), 1);
        for (int h = 0; h < 2; h++) {
            const __m512i ql = _mm512_loadu_si512(x->ql + 64 * h);
            const __m512i qh = bcast256(x->qh + 32 * h);
            /* elements 128h + 0..63: low nibbles of ql, qh bits 0-1 (first 32) / 2-3 */
            W[2 * h] = _mm512_or_si512(_mm512_and_si512(ql, m4),
                                       _mm512_and_si512(_mm512_sllv_epi16(qh, sh_a), m30));
            /* elements 128h + 64..127: high nibbles, qh bits 4-5 / 6-7 */
            W[2 * h + 1] = _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi16(ql, 4), m4),
                                           _mm512_and_si512(_mm512_srlv_epi16(qh, sh_b), m30));
        }
        return;
    }
    /* Q3_K / Q2_K: element 128h + 32s + l is bits 2s..2s+1 of qs[32h + l] */
    const uint8_t *qs = kind == K16_Q3 ? ((const block_q3_K *)blk)->qs : ((const block_q2_K *)blk)->qs;
    const __m512i m3 = _mm512_set1_epi8(3);
    for (int k = 0; k < 4; k++) {
        const int h = k / 2, s0 = 2 * (k % 2);
        const __m512i sh = _mm512_inserti64x4(_mm512_set1_epi16((short)(2 * s0)),
                                              _mm256_set1_epi16((short)(2 * s0 + 2)), 1);
        W[k] = _mm512_and_si512(_mm512_srlv_epi16(bcast256(qs + 32 * h), sh), m3);
    }
    if (kind == K16_Q3) { /* the third bit: bit 4h + s of hmask[l], adding 4 */
        const __m512i hm = bcast256(((const block_q3_K *)blk)->hmask);
        for (int k = 0; k < 4; k++) {
            const int b = 4 * (k / 2) + 2 * (k % 2);
            const __m512i bits = _mm512_inserti64x4(_mm512_set1_epi8((char)(1 << b)),
                                                    _mm256_set1_epi8((char)(1 << (b + 1))), 1);
            W[k] = _mm512_mask_add_epi8(W[k], _mm512_test_epi8_mask(hm, bits), W[k], _mm512_set1_epi8(4));
        }
    }
}

/* Codes, sub-block scales (i16) and, for Q2_K, mins (i16) of one super-block. */
AI void k16_unpack(const uint8_t *blk, const int kind, __m512i W[4], __m256i *sc16, __m256i *mn16,
                   float *d, float *dmin) {
    k16_codes(blk, kind, W);
    if (kind == K16_Q6) {
        const block_q6_K *x = (const void *)blk;
        *sc16 = _mm256_cvtepi8_epi16(_mm_loadu_si128((const void *)x->scales));
        *d = f16(x->d);
    } else if (kind == K16_Q3) {
        const block_q3_K *x = (const void *)blk;
        *sc16 = _mm256_cvtepi8_epi16(q3k_scales(x->scales));
        *d = f16(x->d);
    } else {
        const block_q2_K *x = (const void *)blk;
        const __m256i sm = _mm256_cvtepu8_epi16(_mm_loadu_si128((const void *)x->scales));
        *sc16 = _mm256_and_si256(sm, _mm256_set1_epi16(0x0f));
        *mn16 = _mm256_srli_epi16(sm, 4);
        *d = f16(x->d);
        *dmin = f16(x->dmin);
    }
}

/* One Q6_K super-block against NC activation rows in ggml_vec_dot_q6_K_q8_K's order (so
 * results are llama.cpp's bit for bit): 8 integer lanes, lane L summing, over the whole
 * super-block, scale x (code x activation) of the elements e with (e % 32) / 4 == L, minus
 * 32 x (sc[2L] bsum[2L] + sc[2L+1] bsum[2L+1]); then one fused multiply-add per lane with
 * d = y.d * d_w. maddubs+madd keep each lane's 4 elements apart (VNNI's packs would not). */
AI void k6_superblock(const __m512i W[4], __m256i sc16, float d, const block_q8_K *const *a, int64_t i,
                      const int NC, __m256 *acc8) {
    /* scale words for register k (elements 64k..64k+63): word j covers elements 2j, 2j+1,
     * i.e. sub-block 4k + j / 8 */
    const __m512i sc512 = _mm512_castsi256_si512(sc16);
    __m512i S[4];
    for (int k = 0; k < 4; k++) {
        const __m512i idx = _mm512_add_epi16(
            _mm512_set_epi16(3, 3, 3, 3, 3, 3, 3, 3, 2, 2, 2, 2, 2, 2, 2, 2,
                             1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0), _mm512_set1_epi16((short)(4 * k)));
        S[k] = _mm512_permutexvar_epi16(idx, sc512);
    }
    for (int c = 0; c < NC; c++) {
        const block_q8_K *y = a[c] + i;
        __m512i Q = _mm512_setzero_si512();
        for (int k = 0; k < 4; k++)
            Q = _mm512_add_epi32(Q, _mm512_madd_epi16(_mm512_maddubs_epi16(W[k], _mm512_loadu_si512(y->qs + 64 * k)),
                                                      S[k]));
        /* lane j of Q covers elements 4j..4j+3 of each 64: lanes j and j + 8 are ggml's lane j */
        __m256i lanes = _mm256_add_epi32(_mm512_castsi512_si256(Q), _mm512_extracti64x4_epi64(Q, 1));
        const __m256i bias = _mm256_madd_epi16(sc16, _mm256_loadu_si256((const void *)y->bsums));
        lanes = _mm256_sub_epi32(lanes, _mm256_slli_epi32(bias, 5));
        acc8[c] = _mm256_fmadd_ps(_mm256_set1_ps(y->d * d), _mm256_cvtepi32_ps(lanes), acc8[c]);
    }
}

AI void k16_row(const mm_tile *t, int r, int c0, const int NC, const int kind, const bool vnni) {
    const uint8_t *wrow = t->w + (size_t)r * t->w_stride;
    const size_t bsz = k16_block_bytes(kind);
    const block_q8_K *a[KQ_MAX_COLS];
    for (int c = 0; c < NC; c++) a[c] = (const block_q8_K *)t->act[c0 + c];
    __m512 acc[KQ_MAX_COLS];
    __m256 acc8[KQ_MAX_COLS];
    for (int c = 0; c < NC; c++) acc[c] = _mm512_setzero_ps(), acc8[c] = _mm256_setzero_ps();
    /* word-permute indices: register k holds sub-blocks 4k..4k+3, one per 128-bit lane */
    __m512i idx[4];
    if (vnni) {
        /* packs(P_k, P_k+1) lane L: [sub-block 4k+L x4, sub-block 4k+4+L x4] */
        idx[0] = _mm512_set_epi16(7, 7, 7, 7, 3, 3, 3, 3, 6, 6, 6, 6, 2, 2, 2, 2,
                                  5, 5, 5, 5, 1, 1, 1, 1, 4, 4, 4, 4, 0, 0, 0, 0);
        idx[1] = _mm512_add_epi16(idx[0], _mm512_set1_epi16(8));
    } else {
        /* maddubs word j of register k: elements 2j, 2j+1 -> sub-block 4k + j/8 */
        for (int k = 0; k < 4; k++)
            idx[k] = _mm512_set_epi16(
                4 * k + 3, 4 * k + 3, 4 * k + 3, 4 * k + 3, 4 * k + 3, 4 * k + 3, 4 * k + 3, 4 * k + 3,
                4 * k + 2, 4 * k + 2, 4 * k + 2, 4 * k + 2, 4 * k + 2, 4 * k + 2, 4 * k + 2, 4 * k + 2,
                4 * k + 1, 4 * k + 1, 4 * k + 1, 4 * k + 1, 4 * k + 1, 4 * k + 1, 4 * k + 1, 4 * k + 1,
                4 * k, 4 * k, 4 * k, 4 * k, 4 * k, 4 * k, 4 * k, 4 * k);
    }
    const int64_t nb = t->n_in / QK_K;
    for (int64_t i = 0; i < nb; i++) {
        prefetch_ahead(wrow + (size_t)i * bsz, bsz);
        __m512i W[4];
        __m256i sc16, mn16 = _mm256_setzero_si256();
        float d, dmin = 0;
        k16_unpack(wrow + (size_t)i * bsz, kind, W, &sc16, &mn16, &d, &dmin);
        const __m512i sc512 = _mm512_castsi256_si512(sc16);
        __m512i S[4];
        for (int k = 0; k < (vnni ? 2 : 4); k++) S[k] = _mm512_permutexvar_epi16(idx[k], sc512);
        if (kind == K16_Q6) { /* ggml's order, whatever the instruction set: see k6_superblock */
            k6_superblock(W, sc16, d, a, i, NC, acc8);
            continue;
        }
        if (kind == K16_Q6) { /* ggml's order, whatever the instruction set: see k6_superblock */
            k6_superblock(W, sc16, d, a, i, NC, acc8);
            continue;
        }
        for (int c = 0; c < NC; c++) {
            const block_q8_K *y = a[c] + i;
            __m512i Q;
            if (vnni) {
                const __m512i z = _mm512_setzero_si512();
                const __m512i P0 = _mm512_dpbusd_epi32(z, W[0], _mm512_loadu_si512(y->qs));
                const __m512i P1 = _mm512_dpbusd_epi32(z, W[1], _mm512_loadu_si512(y->qs + 64));
                const __m512i P2 = _mm512_dpbusd_epi32(z, W[2], _mm512_loadu_si512(y->qs + 128));
                const __m512i P3 = _mm512_dpbusd_epi32(z, W[3], _mm512_loadu_si512(y->qs + 192));
                Q = _mm512_add_epi32(_mm512_madd_epi16(_mm512_packs_epi32(P0, P1), S[0]),
                                     _mm512_madd_epi16(_mm512_packs_epi32(P2, P3), S[1]));
            } else {
                __m512i q[4];
                for (int k = 0; k < 4; k++)
                    q[k] = opaque(_mm512_madd_epi16(
                        _mm512_maddubs_epi16(W[k], _mm512_loadu_si512(y->qs + 64 * k)), S[k]));
                Q = _mm512_add_epi32(_mm512_add_epi32(q[0], q[1]), _mm512_add_epi32(q[2], q[3]));
            }
            const __m256i bs = _mm256_loadu_si256((const void *)y->bsums);
            if (kind == K16_Q2) {
                const __m256 mt = _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_madd_epi16(mn16, bs)),
                                                _mm256_set1_ps(-dmin));
                const __m512 sum = _mm512_fmadd_ps(_mm512_cvtepi32_ps(Q), _mm512_set1_ps(d),
                                                   _mm512_zextps256_ps512(mt));
                acc[c] = _mm512_fmadd_ps(sum, _mm512_set1_ps(y->d), acc[c]);
            } else {
                /* the code offset (32 or 4) times sum_j sc_j * bsum_j */
                const __m256i bias = _mm256_madd_epi16(sc16, bs);
                Q = _mm512_sub_epi32(Q, _mm512_zextsi256_si512(_mm256_slli_epi32(bias, kind == K16_Q6 ? 5 : 2)));
                acc[c] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(Q), _mm512_set1_ps(d * y->d), acc[c]);
            }
        }
    }
    for (int c = 0; c < NC; c++)
        t->out[(size_t)(c0 + c) * t->out_stride + (size_t)r] =
            kind == K16_Q6 ? hsum8_ggml(acc8[c]) : _mm512_reduce_add_ps(acc[c]);
}

/* Tile drivers: every row, activation rows in one call of the right width. */
#define KQ_TILE(name, call)                                                     \
    static void name(const mm_tile *t) {                                        \
        for (int r = 0; r < t->nr; r++) {                                       \
            switch (t->nc) {                                                    \
            case 1: call(t, r, 0, 1); break;                                    \
            case 2: call(t, r, 0, 2); break;                                    \
            case 3: call(t, r, 0, 3); break;                                    \
            case 4: call(t, r, 0, 4); break;                                    \
            case 5: call(t, r, 0, 5); break;                                    \
            case 6: call(t, r, 0, 6); break;                                    \
            case 7: call(t, r, 0, 7); break;                                    \
            default: call(t, r, 0, 8); break;                                   \
            }                                                                   \
        }                                                                       \
    }

#define Q4K_V(t, r, c0, n) k4o_row(t, r, c0, n, true)
#define Q4K_P(t, r, c0, n) k4o_row(t, r, c0, n, false)
#define Q5K_V(t, r, c0, n) k4_row(t, r, c0, n, true, true)
#define Q5K_P(t, r, c0, n) k4_row(t, r, c0, n, true, false)
#define Q6K_V(t, r, c0, n) k16_row(t, r, c0, n, K16_Q6, true)
#define Q6K_P(t, r, c0, n) k16_row(t, r, c0, n, K16_Q6, false)
#define Q3K_V(t, r, c0, n) k16_row(t, r, c0, n, K16_Q3, true)
#define Q3K_P(t, r, c0, n) k16_row(t, r, c0, n, K16_Q3, false)
#define Q2K_V(t, r, c0, n) k16_row(t, r, c0, n, K16_Q2, true)
#define Q2K_P(t, r, c0, n) k16_row(t, r, c0, n, K16_Q2, false)
KQ_TILE(tile_q4_K_vnni, Q4K_V)
KQ_TILE(tile_q4_K_plain, Q4K_P)
KQ_TILE(tile_q5_K_vnni, Q5K_V)
KQ_TILE(tile_q5_K_plain, Q5K_P)
KQ_TILE(tile_q6_K_vnni, Q6K_V)
KQ_TILE(tile_q6_K_plain, Q6K_P)
KQ_TILE(tile_q3_K_vnni, Q3K_V)
KQ_TILE(tile_q3_K_plain, Q3K_P)
KQ_TILE(tile_q2_K_vnni, Q2K_V)
KQ_TILE(tile_q2_K_plain, Q2K_P)

/* ======================================================= K-quant panels (prefill, VNNI) ===
 *
 * For many activation rows, 16 weight rows are first repacked into a stack buffer (a
 * "panel") so that one 512-bit register holds 4 consecutive codes of each of the 16 rows.
 * VPDPBUSD of that register with 4 activation bytes broadcast then leaves, in lane r, row r's
 * partial dot product: the lanes are rows, so per-row scales apply lane-wise, with no
 * horizontal reductions and no scale shuffles in the inner loop. The repack costs about as
 * much as ~5 activation rows of arithmetic and is amortized over all of them. */

#define PN_ROWS 16
#define PN_SB 8 /* super-blocks per K chunk: a chunk of panel (~45 KB) stays near L1 */

typedef struct {
    __m512i q[PN_SB][64];      /* codes: [super-block][4-element group], lane r = row r */
    __m512 scale[PN_SB][16];   /* [sub-block][row]: d * sc (8 sub-blocks of 32 for Q4_K/Q5_K,
                                * 16 of 16 for Q6_K) */
    __m512i pair[PN_SB][8];    /* i16 pairs multiplying the bsum pairs: (m, m) per sub-block
                                * of 32 for Q4_K/Q5_K, (sc_2j, sc_2j+1) for Q6_K */
    __m512 pair_scale[PN_SB];  /* -dmin (Q4_K/Q5_K) or -32 * d (Q6_K) */
    __m512i sci[PN_SB][8];     /* Q4_K/Q5_K: the 6-bit scales as integers */
    __m512 d[PN_SB], dmin[PN_SB]; /* Q4_K/Q5_K: d and dmin */
} kq_panel;

enum { KP_Q4_K, KP_Q5_K, KP_Q6_K, KP_Q3_K, KP_Q2_K };

/* Panel kinds with 16-element sub-blocks (Q6_K, Q3_K, Q2_K). */
AI bool kp_sub16(const int kind) { return kind == KP_Q6_K || kind == KP_Q3_K || kind == KP_Q2_K; }

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

/* ---- per-row fields of 16 rows at once: gathers put row r's value in lane r, which is
 * exactly the panel layout (no transposition, no scalar work per row) ---- */

/* The dword at byte `off` of each row's block (rows outside rm read as 0). */
AI __m512i rows_dword(const uint8_t *blk, __m512i roffs, __mmask16 rm, int off) {
    return _mm512_mask_i32gather_epi32(_mm512_setzero_si512(), rm, roffs, blk + off, 1);
}
AI __m512 f16_lo(__m512i v) { return _mm512_cvtph_ps(_mm512_cvtepi32_epi16(v)); }
AI __m512 f16_hi(__m512i v) { return _mm512_cvtph_ps(_mm512_cvtepi32_epi16(_mm512_srli_epi32(v, 16))); }
/* byte k of every lane, unsigned / sign-extended */
AI __m512i byte_u(__m512i v, int k) {
    return _mm512_and_si512(_mm512_srli_epi32(v, 8 * k), _mm512_set1_epi32(0xff));
}
AI __m512i byte_s(__m512i v, int k) { return _mm512_srai_epi32(_mm512_slli_epi32(v, 24 - 8 * k), 24); }
/* two i16 values (low 16 bits of a and b) as one dword */
AI __m512i i16_pair(__m512i a, __m512i b) {
    return _mm512_or_si512(_mm512_and_si512(a, _mm512_set1_epi32(0xffff)), _mm512_slli_epi32(b, 16));
}

/* Scales of super-block blk of the 16 rows (at blk + roffs[r]) into the panel. */
AI void kq_scales(kq_panel *P, int i, const uint8_t *blk, __m512i roffs, __mmask16 rm, const int kind) {
    if (kind == KP_Q4_K || kind == KP_Q5_K) { /* d, dmin, scales[12] at 0, 2, 4 */
        const __m512i dd = rows_dword(blk, roffs, rm, 0);
        const __m512i u0 = rows_dword(blk, roffs, rm, 4), u1 = rows_dword(blk, roffs, rm, 8),
                      u2 = rows_dword(blk, roffs, rm, 12);
        const __m512i m6 = _mm512_set1_epi32(0x3f3f3f3f), m4 = _mm512_set1_epi32(0x0f0f0f0f),
                      m2 = _mm512_set1_epi32(0x30303030);
        const __m512i sc[2] = {_mm512_and_si512(u0, m6),
                               _mm512_or_si512(_mm512_and_si512(u2, m4),
                                               _mm512_and_si512(_mm512_srli_epi32(u0, 2), m2))};
        const __m512i mn[2] = {_mm512_and_si512(u1, m6),
                               _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi32(u2, 4), m4),
                                               _mm512_and_si512(_mm512_srli_epi32(u1, 2), m2))};
        const __m512 d = f16_lo(dd);
        P->d[i] = d;
        P->dmin[i] = f16_hi(dd);
        for (int s = 0; s < 8; s++) {
            P->sci[i][s] = byte_u(sc[s / 4], s % 4);
            P->scale[i][s] = _mm512_mul_ps(_mm512_cvtepi32_ps(P->sci[i][s]), d);
            const __m512i m = byte_u(mn[s / 4], s % 4);
            P->pair[i][s] = i16_pair(m, m);
        }
        P->pair_scale[i] = _mm512_sub_ps(_mm512_setzero_ps(), f16_hi(dd));
        return;
    }
    __m512i b[4]; /* the 16 scale bytes (or nibble pairs), 4 per lane each */
    __m512 d, pair_scale;
    if (kind == KP_Q6_K) { /* scales[16] at 192, d at 208 */
        for (int k = 0; k < 4; k++) b[k] = rows_dword(blk, roffs, rm, 192 + 4 * k);
        d = f16_hi(rows_dword(blk, roffs, rm, 206));
        pair_scale = _mm512_mul_ps(d, _mm512_set1_ps(-32));
    } else if (kind == KP_Q3_K) { /* scales[12] at 96, d at 108: unpack as q3k_scales */
        const __m512i u0 = rows_dword(blk, roffs, rm, 96), u1 = rows_dword(blk, roffs, rm, 100),
                      u2 = rows_dword(blk, roffs, rm, 104);
        const __m512i m4 = _mm512_set1_epi32(0x0f0f0f0f), m2 = _mm512_set1_epi32(0x03030303);
        b[0] = _mm512_or_si512(_mm512_and_si512(u0, m4), _mm512_slli_epi32(_mm512_and_si512(u2, m2), 4));
        b[1] = _mm512_or_si512(_mm512_and_si512(u1, m4),
                               _mm512_slli_epi32(_mm512_and_si512(_mm512_srli_epi32(u2, 2), m2), 4));
        b[2] = _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi32(u0, 4), m4),
                               _mm512_slli_epi32(_mm512_and_si512(_mm512_srli_epi32(u2, 4), m2), 4));
        b[3] = _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi32(u1, 4), m4),
                               _mm512_slli_epi32(_mm512_and_si512(_mm512_srli_epi32(u2, 6), m2), 4));
        d = f16_hi(rows_dword(blk, roffs, rm, 106));
        pair_scale = _mm512_mul_ps(d, _mm512_set1_ps(-4));
    } else { /* Q2_K: scales[16] at 0 (low nibble scale, high nibble min), d, dmin at 80 */
        for (int k = 0; k < 4; k++) b[k] = rows_dword(blk, roffs, rm, 4 * k);
        const __m512i dd = rows_dword(blk, roffs, rm, 80);
        d = f16_lo(dd);
        pair_scale = _mm512_sub_ps(_mm512_setzero_ps(), f16_hi(dd));
    }
    __m512i sc[16], pm[16];
    for (int j = 0; j < 16; j++) {
        const __m512i v = b[j / 4];
        if (kind == KP_Q6_K) {
            sc[j] = pm[j] = byte_s(v, j % 4);
        } else if (kind == KP_Q3_K) {
            sc[j] = pm[j] = _mm512_sub_epi32(byte_u(v, j % 4), _mm512_set1_epi32(32));
        } else {
            const __m512i x = byte_u(v, j % 4);
            sc[j] = _mm512_and_si512(x, _mm512_set1_epi32(0x0f));
            pm[j] = _mm512_srli_epi32(x, 4);
        }
        P->scale[i][j] = _mm512_mul_ps(_mm512_cvtepi32_ps(sc[j]), d);
    }
    for (int j = 0; j < 8; j++) P->pair[i][j] = i16_pair(pm[2 * j], pm[2 * j + 1]);
    P->pair_scale[i] = pair_scale;
}

/* Repacks super-blocks sb0..sb0+nsb-1 of nr (<= 16) rows; missing rows are zero. The codes
 * are gathered too (except Q6_K's): 4 consecutive codes of each row come from one dword of
 * each row's block, so a gather of that dword across the rows is directly a panel register. */
AI void kq_pack(kq_panel *P, const uint8_t *w, size_t w_stride, int nr, int64_t sb0, int nsb,
                const int kind) {
    const size_t bsz = kind == KP_Q4_K ? sizeof(block_q4_K) : kind == KP_Q5_K ? sizeof(block_q5_K)
                     : kind == KP_Q6_K ? sizeof(block_q6_K) : kind == KP_Q3_K ? sizeof(block_q3_K)
                     : sizeof(block_q2_K);
    const __m512i roffs = _mm512_mullo_epi32(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
                                             _mm512_set1_epi32((int)w_stride));
    const __mmask16 rm = (__mmask16)((1u << nr) - 1);
    const __m512i n4 = _mm512_set1_epi32(0x0f0f0f0f), n2 = _mm512_set1_epi32(0x03030303),
                  n1 = _mm512_set1_epi32(0x01010101);
    for (int i = 0; i < nsb; i++) {
        const uint8_t *blk = w + (size_t)(sb0 + i) * bsz; /* this super-block of row 0 */
        if (kind == KP_Q6_K) {
            /* Q6_K's codes need three gathers per four registers: unpacking each row and
             * transposing measured faster */
            __m512i U[4][PN_ROWS];
            for (int r = 0; r < PN_ROWS; r++) {
                __m512i W[4];
                if (r < nr) k16_codes(blk + (size_t)r * w_stride, K16_Q6, W);
                else W[0] = W[1] = W[2] = W[3] = _mm512_setzero_si512();
                for (int g = 0; g < 4; g++) U[g][r] = W[g];
            }
            for (int g = 0; g < 4; g++) transpose16_store(U[g], P->q[i] + 16 * g);
            kq_scales(P, i, blk, roffs, rm, kind);
            continue;
        }
        __m512i *q = P->q[i];
        if (kind == KP_Q4_K || kind == KP_Q5_K) {
            /* element 64g + l: low nibble of qs[32g + l]; 64g + 32 + l: its high nibble;
             * Q5_K: 5th bits from qh[l] bits 2g, 2g+1 */
            const int qs_off = kind == KP_Q5_K ? (int)offsetof(block_q5_K, qs) : (int)offsetof(block_q4_K, qs);
            for (int k = 0; k < 8; k++) {
                const __m512i h = kind == KP_Q5_K ? rows_dword(blk, roffs, rm, (int)offsetof(block_q5_K, qh) + 4 * k)
                                                  : _mm512_setzero_si512();
                for (int g = 0; g < 4; g++) {
                    const __m512i v = rows_dword(blk, roffs, rm, qs_off + 32 * g + 4 * k);
                    __m512i lo = _mm512_and_si512(v, n4), hi = _mm512_and_si512(_mm512_srli_epi32(v, 4), n4);
                    if (kind == KP_Q5_K) {
                        lo = _mm512_or_si512(lo, _mm512_slli_epi32(_mm512_and_si512(_mm512_srli_epi32(h, 2 * g), n1), 4));
                        hi = _mm512_or_si512(hi, _mm512_slli_epi32(_mm512_and_si512(_mm512_srli_epi32(h, 2 * g + 1), n1), 4));
                    }
                    _mm512_store_si512(q + 16 * g + k, lo);
                    _mm512_store_si512(q + 16 * g + 8 + k, hi);
                }
            }
        } else {
            /* Q3_K / Q2_K: element 128h + 32s + l is bits 2s..2s+1 of qs[32h + l]; Q3_K adds
             * 4 when bit 4h + s of hmask[l] is set */
            const int qs_off = kind == KP_Q3_K ? (int)offsetof(block_q3_K, qs) : (int)offsetof(block_q2_K, qs);
            for (int k = 0; k < 8; k++) {
                const __m512i hm = kind == KP_Q3_K ? rows_dword(blk, roffs, rm, (int)offsetof(block_q3_K, hmask) + 4 * k)
                                                   : _mm512_setzero_si512();
                for (int h = 0; h < 2; h++) {
                    const __m512i v = rows_dword(blk, roffs, rm, qs_off + 32 * h + 4 * k);
                    for (int s2 = 0; s2 < 4; s2++) {
                        __m512i c = _mm512_and_si512(_mm512_srli_epi32(v, 2 * s2), n2);
                        if (kind == KP_Q3_K)
                            c = _mm512_or_si512(c, _mm512_slli_epi32(
                                                       _mm512_and_si512(_mm512_srli_epi32(hm, 4 * h + s2), n1), 2));
                        _mm512_store_si512(q + 32 * h + 8 * s2 + k, c);
                    }
                }
            }
        }
        kq_scales(P, i, blk, roffs, rm, kind);
    }
}

AI __m512i bcast32(const void *p) {
    int32_t v;
    memcpy(&v, p, 4);
    return _mm512_set1_epi32(v);
}

/* Activation rows computed together against a packed chunk: 6 keep 12 independent VPDPBUSD
 * chains in flight (two per row) within the 32 registers. */
#ifndef KP_NA
#define KP_NA 6
#endif

/* NA activation rows (pointers at the chunk's first super-block) against a packed chunk:
 * adds each row's 16 dot products to facc[a]. */
AI void kq_compute(const kq_panel *P, int nsb, const block_q8_K *const *a, const int NA,
                   const int kind, __m512 *facc) {
    const int groups = kp_sub16(kind) ? 4 : 8; /* 4-element groups per sub-block */
    const int nsub = 64 / groups;
    for (int i = 0; i < nsb; i++) {
        __m512 fsb[KP_NA];
        for (int c = 0; c < NA; c++) fsb[c] = _mm512_setzero_ps();
        for (int s = 0; s < nsub; s++) {
            __m512i e[KP_NA], o[KP_NA];
            for (int c = 0; c < NA; c++) e[c] = o[c] = _mm512_setzero_si512();
            for (int k = 0; k < groups; k += 2) {
                const __m512i W0 = P->q[i][groups * s + k], W1 = P->q[i][groups * s + k + 1];
                for (int c = 0; c < NA; c++) {
                    const int8_t *y = a[c][i].qs + 4 * (groups * s + k);
                    e[c] = _mm512_dpbusd_epi32(e[c], W0, bcast32(y));
                    o[c] = _mm512_dpbusd_epi32(o[c], W1, bcast32(y + 4));
                }
            }
            for (int c = 0; c < NA; c++)
                fsb[c] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_add_epi32(e[c], o[c])),
                                         P->scale[i][s], fsb[c]);
        }
        for (int c = 0; c < NA; c++) facc[c] = _mm512_fmadd_ps(fsb[c], _mm512_set1_ps(a[c][i].d), facc[c]);
    }
    /* the mins (Q4_K, Q5_K, Q2_K) or code offsets (Q6_K, Q3_K), through the bsums */
    for (int i = 0; i < nsb; i++) {
        __m512i accm[KP_NA];
        for (int c = 0; c < NA; c++) accm[c] = _mm512_setzero_si512();
        for (int j = 0; j < 8; j++)
            for (int c = 0; c < NA; c++)
                accm[c] = _mm512_dpwssd_epi32(accm[c], P->pair[i][j], bcast32(a[c][i].bsums + 2 * j));
        for (int c = 0; c < NA; c++)
            facc[c] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(accm[c]),
                                      _mm512_mul_ps(P->pair_scale[i], _mm512_set1_ps(a[c][i].d)), facc[c]);
    }
}

/* Computes NA activation rows against the packed chunk and adds (or, for the first chunk,
 * stores) the results for the panel's nr rows. */
AI void kq_tile(const kq_panel *P, const mm_gemm *g, int64_t c0, int64_t sb0, int nsb, int nr,
                float *out, const int NA, const int kind) {
    const block_q8_K *a[KP_NA];
    for (int c = 0; c < NA; c++) {
        const int64_t idx = g->rows ? g->rows[c0 + c] : c0 + c;
        a[c] = (const block_q8_K *)(g->act + (size_t)idx * g->act_stride) + sb0;
    }
    __m512 facc[KP_NA];
    for (int c = 0; c < NA; c++) facc[c] = _mm512_setzero_ps();
    kq_compute(P, nsb, a, NA, kind, facc);
    const __mmask16 m = (__mmask16)((1u << nr) - 1);
    for (int c = 0; c < NA; c++) {
        float *o = out + (size_t)(c0 + c) * g->out_stride;
        if (sb0) facc[c] = _mm512_add_ps(facc[c], _mm512_maskz_loadu_ps(m, o));
        _mm512_mask_storeu_ps(o, m, facc[c]);
    }
}

AI void kq_gemm(const mm_gemm *g, const int kind) {
    kq_panel P __attribute__((aligned(64)));
    const int64_t nb = g->n_in / QK_K;
    for (int64_t r0 = 0; r0 < g->nr; r0 += PN_ROWS) {
        const int nr = (int)(g->nr - r0 < PN_ROWS ? g->nr - r0 : PN_ROWS);
        float *out = g->out + r0;
        for (int64_t sb0 = 0; sb0 < nb; sb0 += PN_SB) {
            const int nsb = (int)(nb - sb0 < PN_SB ? nb - sb0 : PN_SB);
            kq_pack(&P, g->w + (size_t)r0 * g->w_stride, g->w_stride, nr, sb0, nsb, kind);
            int64_t c = 0;
            for (; c + KP_NA <= g->n; c += KP_NA) kq_tile(&P, g, c, sb0, nsb, nr, out, KP_NA, kind);
            switch (g->n - c) {
#if KP_NA > 5
            case 5: kq_tile(&P, g, c, sb0, nsb, nr, out, 5, kind); break;
#endif
#if KP_NA > 4
            case 4: kq_tile(&P, g, c, sb0, nsb, nr, out, 4, kind); break;
#endif
            case 3: kq_tile(&P, g, c, sb0, nsb, nr, out, 3, kind); break;
            case 2: kq_tile(&P, g, c, sb0, nsb, nr, out, 2, kind); break;
            case 1: kq_tile(&P, g, c, sb0, nsb, nr, out, 1, kind); break;
            default: break;
            }
        }
    }
}

/* ---- Q4_K panels in llama.cpp's repacked orders (see k4o_row) ----
 * Each output keeps two float accumulators (codes, mins) from the first super-block to the
 * last, so they live in `acc` across the K chunks; the loop order is activation chunk,
 * panel, K chunk. Sub-block sums are integers (VPDPBUSD), scaled as integers, and rounded
 * once per 64 elements (GEMM4) or per super-block (GEMV). */

#define K4O_ACTS 128 /* activation rows per pass */
#define K4O_NA 4     /* activation rows computed together */

AI void k4o_compute(const kq_panel *P, int nsb, const block_q8_K *const *a, const int NA, const bool gemm4,
                    __m512 *acci, __m512 *accm) {
    for (int i = 0; i < nsb; i++) {
        __m512i isum[K4O_NA], msum[K4O_NA];
        for (int c = 0; c < NA; c++) isum[c] = msum[c] = _mm512_setzero_si512();
        for (int s = 0; s < 8; s++) {
            __m512i e[K4O_NA], o[K4O_NA];
            for (int c = 0; c < NA; c++) e[c] = o[c] = _mm512_setzero_si512();
            for (int k = 0; k < 8; k += 2) {
                const __m512i W0 = P->q[i][8 * s + k], W1 = P->q[i][8 * s + k + 1];
                for (int c = 0; c < NA; c++) {
                    const int8_t *y = a[c][i].qs + 4 * (8 * s + k);
                    e[c] = _mm512_dpbusd_epi32(e[c], W0, bcast32(y));
                    o[c] = _mm512_dpbusd_epi32(o[c], W1, bcast32(y + 4));
                }
            }
            for (int c = 0; c < NA; c++) {
                isum[c] = _mm512_add_epi32(isum[c], _mm512_mullo_epi32(_mm512_add_epi32(e[c], o[c]), P->sci[i][s]));
                msum[c] = _mm512_dpwssd_epi32(msum[c], P->pair[i][s], bcast32(a[c][i].bsums + 2 * s));
            }
            if (gemm4 ? s % 2 == 1 : s == 7) /* the end of a 64-element group / of the super-block */
                for (int c = 0; c < NA; c++) {
                    const __m512 yd = _mm512_set1_ps(a[c][i].d);
                    acci[c] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(isum[c]), _mm512_mul_ps(P->d[i], yd), acci[c]);
                    accm[c] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(msum[c]), _mm512_mul_ps(P->dmin[i], yd), accm[c]);
                    isum[c] = msum[c] = _mm512_setzero_si512();
                }
        }
    }
}

AI void k4o_part(const kq_panel *P, const mm_gemm *g, int64_t a0, int64_t c0, int64_t sb0, int nsb,
                 __m512 (*acc)[2], const int NA) {
    const block_q8_K *a[K4O_NA];
    __m512 ai[K4O_NA], am[K4O_NA];
    for (int c = 0; c < NA; c++) {
        const int64_t idx = g->rows ? g->rows[a0 + c0 + c] : a0 + c0 + c;
        a[c] = (const block_q8_K *)(g->act + (size_t)idx * g->act_stride) + sb0;
        ai[c] = acc[c0 + c][0];
        am[c] = acc[c0 + c][1];
    }
    k4o_compute(P, nsb, a, NA, a0 + c0 < g->n_grouped, ai, am);
    for (int c = 0; c < NA; c++) {
        acc[c0 + c][0] = ai[c];
        acc[c0 + c][1] = am[c];
    }
}

/* Activation rows c..end (all on one side of n_grouped), K4O_NA at a time. */
AI void k4o_span(const kq_panel *P, const mm_gemm *g, int64_t a0, int64_t c, int64_t end, int64_t sb0,
                 int nsb, __m512 (*acc)[2]) {
    for (; c + K4O_NA <= end; c += K4O_NA) k4o_part(P, g, a0, c, sb0, nsb, acc, K4O_NA);
    switch (end - c) {
    case 3: k4o_part(P, g, a0, c, sb0, nsb, acc, 3); break;
    case 2: k4o_part(P, g, a0, c, sb0, nsb, acc, 2); break;
    case 1: k4o_part(P, g, a0, c, sb0, nsb, acc, 1); break;
    default: break;
    }
}

static void gemm_q4_K(const mm_gemm *g) {
    if (g->order == MM_ORDER_VEC) { /* a matrix ggml does not repack: the direct tiles */
        const uint8_t *rows[KQ_MAX_COLS];
        mm_tile t = {.n_in = g->n_in, .w = g->w, .w_stride = g->w_stride, .act = rows,
                     .out_stride = g->out_stride, .order = MM_ORDER_VEC};
        for (int64_t c = 0; c < g->n; c += KQ_MAX_COLS) {
            const int nc = (int)(g->n - c < KQ_MAX_COLS ? g->n - c : KQ_MAX_COLS);
            for (int k = 0; k < nc; k++)
                rows[k] = g->act + (size_t)(g->rows ? g->rows[c + k] : c + k) * g->act_stride;
            t.nc = nc;
            t.out = g->out + (size_t)c * g->out_stride;
            for (int64_t r = 0; r < g->nr; r++) k4o_row(&t, (int)r, 0, nc, true);
        }
        return;
    }
    kq_panel P __attribute__((aligned(64)));
    __m512 acc[K4O_ACTS][2];
    const int64_t nb = g->n_in / QK_K;
    for (int64_t a0 = 0; a0 < g->n; a0 += K4O_ACTS) {
        const int na = (int)(g->n - a0 < K4O_ACTS ? g->n - a0 : K4O_ACTS);
        int64_t split = g->n_grouped - a0; /* rows before it: GEMM4 order */
        split = split < 0 ? 0 : split > na ? na : split;
        for (int64_t r0 = 0; r0 < g->nr; r0 += PN_ROWS) {
            const int nr = (int)(g->nr - r0 < PN_ROWS ? g->nr - r0 : PN_ROWS);
            for (int c = 0; c < na; c++) acc[c][0] = acc[c][1] = _mm512_setzero_ps();
            for (int64_t sb0 = 0; sb0 < nb; sb0 += PN_SB) {
                const int nsb = (int)(nb - sb0 < PN_SB ? nb - sb0 : PN_SB);
                kq_pack(&P, g->w + (size_t)r0 * g->w_stride, g->w_stride, nr, sb0, nsb, KP_Q4_K);
                k4o_span(&P, g, a0, 0, split, sb0, nsb, acc);
                k4o_span(&P, g, a0, split, na, sb0, nsb, acc);
            }
            const __mmask16 m = (__mmask16)((1u << nr) - 1);
            for (int c = 0; c < na; c++)
                _mm512_mask_storeu_ps(g->out + (size_t)(a0 + c) * g->out_stride + r0, m,
                                      _mm512_sub_ps(acc[c][0], acc[c][1]));
        }
    }
}

static void gemm_q5_K(const mm_gemm *g) { kq_gemm(g, KP_Q5_K); }
static void gemm_q3_K(const mm_gemm *g) { kq_gemm(g, KP_Q3_K); }
static void gemm_q2_K(const mm_gemm *g) { kq_gemm(g, KP_Q2_K); }

/* ======================================================= 32-element blocks x Q8_0 (VNNI) === */

enum { L_Q8_0, L_Q4_0, L_Q4_1, L_Q5_0, L_Q5_1, L_MXFP4 };

#define LG_MAX_ROWS 4 /* with up to 2 activation rows; 2 with 3-4 */
#define LG_MAX_COLS 4

/* Bytes of one weight block of each kind. */
AI size_t lg_block_bytes(const int kind) {
    switch (kind) {
    case L_Q8_0: return sizeof(block_q8_0);
    case L_Q4_0: return sizeof(block_q4_0);
    case L_Q4_1: return sizeof(block_q4_1);
    case L_Q5_0: return sizeof(block_q5_0);
    case L_Q5_1: return sizeof(block_q5_1);
    default: return sizeof(block_mxfp4);
    }
}

/* Offset added to make the weight codes unsigned (0: the codes already are). */
AI int lg_offset(const int kind) {
    switch (kind) {
    case L_Q8_0: return 128;
    case L_Q4_0: return 8;
    case L_Q5_0: return 16;
    case L_MXFP4: return 12;
    default: return 0;
    }
}

/* 16 nibbles -> 32 codes (low nibbles then high), for one or two blocks. */
AI __m512i nibbles2(const uint8_t *q0, const uint8_t *q1, const bool two) {
    const __m256i lo = _mm256_broadcastsi128_si256(_mm_loadu_si128((const void *)q0));
    const __m512i v = two ? _mm512_inserti64x4(_mm512_castsi256_si512(lo),
                                               _mm256_broadcastsi128_si256(
                                                   _mm_loadu_si128((const void *)q1)), 1)
                          : _mm512_zextsi256_si512(lo);
    const __m512i sh = _mm512_set_epi64(0x0004000400040004LL, 0x0004000400040004LL, 0, 0,
                                        0x0004000400040004LL, 0x0004000400040004LL, 0, 0);
    return _mm512_and_si512(_mm512_srlv_epi16(v, sh), _mm512_set1_epi8(0x0f));
}

/* Unsigned weight codes of blocks b (and b+1 if two): element j of block b in byte j, of
 * block b+1 in byte 32+j. */
AI __m512i lg_codes(const uint8_t *row, int64_t b, const int kind, const bool two) {
    const uint8_t *p0 = row + (size_t)b * lg_block_bytes(kind);
    const uint8_t *p1 = p0 + lg_block_bytes(kind);
    switch (kind) {
    case L_Q8_0: {
        const block_q8_0 *x0 = (const void *)p0, *x1 = (const void *)p1;
        const __m256i a = _mm256_loadu_si256((const void *)x0->qs);
        const __m512i v = two ? _mm512_inserti64x4(_mm512_castsi256_si512(a),
                                                   _mm256_loadu_si256((const void *)x1->qs), 1)
                              : _mm512_zextsi256_si512(a);
        return _mm512_xor_si512(v, _mm512_set1_epi8((char)0x80));
    }
    case L_Q4_0:
        return nibbles2(((const block_q4_0 *)p0)->qs, two ? ((const block_q4_0 *)p1)->qs : NULL, two);
    case L_Q4_1:
        return nibbles2(((const block_q4_1 *)p0)->qs, two ? ((const block_q4_1 *)p1)->qs : NULL, two);
    case L_Q5_0:
    case L_Q5_1: {
        const size_t qs_off = kind == L_Q5_0 ? offsetof(block_q5_0, qs) : offsetof(block_q5_1, qs);
        const size_t qh_off = kind == L_Q5_0 ? offsetof(block_q5_0, qh) : offsetof(block_q5_1, qh);
        const __m512i v = nibbles2(p0 + qs_off, two ? p1 + qs_off : NULL, two);
        uint32_t h0, h1 = 0;
        memcpy(&h0, p0 + qh_off, 4);
        if (two) memcpy(&h1, p1 + qh_off, 4);
        return _mm512_mask_add_epi8(v, (__mmask64)h0 | (__mmask64)h1 << 32, v, _mm512_set1_epi8(16));
    }
    default: { /* MXFP4: E2M1 codes through a table of (doubled value + 12) */
        const __m512i lut = _mm512_broadcast_i32x4(
            _mm_setr_epi8(12, 13, 14, 15, 16, 18, 20, 24, 12, 11, 10, 9, 8, 6, 4, 0));
        return _mm512_shuffle_epi8(
            lut, nibbles2(((const block_mxfp4 *)p0)->qs, two ? ((const block_mxfp4 *)p1)->qs : NULL, two));
    }
    }
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

/* Scales (and, for Q4_1/Q5_1, mins) of up to 16 weight blocks. */
AI __m512 lg_gather_scales(const uint8_t *p, __m512i offs, __mmask16 m, const int kind, __m512 *mins) {
    if (kind == L_Q4_1 || kind == L_Q5_1) *mins = gather_f16(p + 2, offs, m);
    if (kind != L_MXFP4) return gather_f16(p, offs, m);
    /* E8M0 byte e -> 2^(e-128): (e-1) << 23, or a subnormal for e < 2 */
    const __m512i e = _mm512_and_si512(_mm512_mask_i32gather_epi32(_mm512_setzero_si512(), m, offs, p, 1),
                                       _mm512_set1_epi32(0xff));
    __m512i bits = _mm512_slli_epi32(_mm512_sub_epi32(e, _mm512_set1_epi32(1)), 23);
    const __mmask16 sub = _mm512_cmplt_epi32_mask(e, _mm512_set1_epi32(2));
    bits = _mm512_mask_sllv_epi32(bits, sub, _mm512_set1_epi32(0x00200000), e);
    return _mm512_maskz_mov_ps(m, _mm512_castsi512_ps(bits));
}


/* NR weight rows x NC activation rows, all blocks, in groups of 16 blocks whose scales are
 * fetched together; each pair of blocks then takes its two scales with one permute.
 * Summation order is ggml's (ggml_vec_dot_q8_0_q8_0 and llamafile's Q8_0 tiles): 8 float
 * lanes per output, lane k taking the integer dot of bytes 4k..4k+3 of each block in turn,
 * one fused multiply-add per block, then hsum8_ggml. With Q8 activations downstream, any
 * other order flips roundings that grow into visible differences from llama.cpp. */
AI void lg_tile(const mm_tile *t, int r0, const int NR, const int NC, const int kind) {
    const uint8_t *wr[LG_MAX_ROWS];
    const block_q8_0 *a[LG_MAX_COLS];
    for (int r = 0; r < NR; r++) wr[r] = t->w + (size_t)(r0 + r) * t->w_stride;
    for (int c = 0; c < NC; c++) a[c] = (const block_q8_0 *)t->act[c];
    __m256 acc[LG_MAX_ROWS][LG_MAX_COLS];
    for (int r = 0; r < NR; r++)
        for (int c = 0; c < NC; c++) acc[r][c] = _mm256_setzero_ps();
    const int off = lg_offset(kind);
    const bool has_min = kind == L_Q4_1 || kind == L_Q5_1;
    const size_t bsz = lg_block_bytes(kind);
    const __m512i woffs = block_offsets(bsz), aoffs = block_offsets(sizeof(block_q8_0));
    const __m512i pair0 = _mm512_inserti64x4(_mm512_setzero_si512(), _mm256_set1_epi32(1), 1);
    const int64_t nb = t->n_in / QK8_0;
    for (int64_t b16 = 0; b16 < nb; b16 += 16) {
        const int nbk = (int)(nb - b16 < 16 ? nb - b16 : 16);
        const __mmask16 m = (__mmask16)((1u << nbk) - 1);
        /* per pair of rows: d_w * d_a (and m_w * d_a) of the group's 16 blocks */
        __m512 dd[LG_MAX_ROWS][LG_MAX_COLS], dm[LG_MAX_ROWS][LG_MAX_COLS], da[LG_MAX_COLS];
        for (int c = 0; c < NC; c++) da[c] = gather_f16((const uint8_t *)(a[c] + b16), aoffs, m);
        for (int r = 0; r < NR; r++) {
            __m512 mins = _mm512_setzero_ps();
            const __m512 dw = lg_gather_scales(wr[r] + (size_t)b16 * bsz, woffs, m, kind, &mins);
            for (int c = 0; c < NC; c++) {
                dd[r][c] = _mm512_mul_ps(dw, da[c]);
                if (has_min) dm[r][c] = _mm512_mul_ps(mins, da[c]);
            }
        }
        __m512i pidx = pair0; /* [b x8 | b+1 x8] within the group */
        for (int b = 0; b < nbk; b += 2, pidx = _mm512_add_epi32(pidx, _mm512_set1_epi32(2))) {
            const bool two = b + 1 < nbk;
            const int64_t bb = b16 + b;
            __m512i A[LG_MAX_COLS], base[LG_MAX_COLS];
            __m512 sa[LG_MAX_COLS];
            for (int c = 0; c < NC; c++) {
                const __m256i lo = _mm256_loadu_si256((const void *)a[c][bb].qs);
                A[c] = two ? _mm512_inserti64x4(_mm512_castsi256_si512(lo),
                                                _mm256_loadu_si256((const void *)a[c][bb + 1].qs), 1)
                           : _mm512_zextsi256_si512(lo);
                if (off) /* start each dot product at -offset * (its activations' sum) */
                    base[c] = _mm512_sub_epi32(_mm512_setzero_si512(),
                                               _mm512_dpbusd_epi32(_mm512_setzero_si512(),
                                                                   _mm512_set1_epi8((char)off), A[c]));
                else
                    base[c] = _mm512_setzero_si512();
                if (has_min) /* activation sums per lane, for the m * sum(a) term */
                    sa[c] = _mm512_cvtepi32_ps(
                        _mm512_dpbusd_epi32(_mm512_setzero_si512(), _mm512_set1_epi8(1), A[c]));
            }
            for (int r = 0; r < NR; r++) {
                prefetch_ahead(wr[r] + (size_t)bb * bsz, 2 * bsz);
                const __m512i W = lg_codes(wr[r], bb, kind, two);
                for (int c = 0; c < NC; c++) {
                    /* lanes 0-7: block bb, 8-15: block bb+1; folded in block order */
                    const __m512 p = _mm512_cvtepi32_ps(_mm512_dpbusd_epi32(base[c], W, A[c]));
                    const __m512 d = _mm512_permutexvar_ps(pidx, dd[r][c]);
                    acc[r][c] = _mm256_fmadd_ps(_mm512_castps512_ps256(d), _mm512_castps512_ps256(p), acc[r][c]);
                    if (has_min) {
                        const __m512 mm = _mm512_permutexvar_ps(pidx, dm[r][c]);
                        acc[r][c] = _mm256_fmadd_ps(_mm512_castps512_ps256(sa[c]), _mm512_castps512_ps256(mm),
                                                    acc[r][c]);
                    }
                    if (two) {
                        acc[r][c] = _mm256_fmadd_ps(_mm512_extractf32x8_ps(d, 1), _mm512_extractf32x8_ps(p, 1),
                                                    acc[r][c]);
                        if (has_min) {
                            const __m512 mm = _mm512_permutexvar_ps(pidx, dm[r][c]);
                            acc[r][c] = _mm256_fmadd_ps(_mm512_extractf32x8_ps(sa[c], 1),
                                                        _mm512_extractf32x8_ps(mm, 1), acc[r][c]);
                        }
                    }
                }
            }
        }
    }
    for (int r = 0; r < NR; r++)
        for (int c = 0; c < NC; c++)
            t->out[(size_t)c * t->out_stride + (size_t)(r0 + r)] = hsum8_ggml(acc[r][c]);
}

#define LG_COLS(t, r, NR, kind)                         \
    switch ((t)->nc) {                                  \
    case 1: lg_tile(t, r, NR, 1, kind); break;          \
    case 2: lg_tile(t, r, NR, 2, kind); break;          \
    case 3: lg_tile(t, r, NR, 3, kind); break;          \
    default: lg_tile(t, r, NR, 4, kind); break;         \
    }

/* Decode (1-2 activation rows) takes 4 weight rows at a time, so the activation blocks'
 * preparation is shared by more rows. */
#define LG_TILE(name, kind)                                                 \
    static void name(const mm_tile *t) {                                    \
        int r = 0;                                                          \
        if (t->nc <= 2) {                                                   \
            for (; r + 4 <= t->nr; r += 4) {                                \
                if (t->nc == 1) lg_tile(t, r, 4, 1, kind);                  \
                else lg_tile(t, r, 4, 2, kind);                             \
            }                                                               \
        }                                                                   \
        for (; r + 2 <= t->nr; r += 2) LG_COLS(t, r, 2, kind)               \
        if (r < t->nr) LG_COLS(t, r, 1, kind)                               \
    }

LG_TILE(tile_q8_0_vnni, L_Q8_0)
LG_TILE(tile_q4_0_vnni, L_Q4_0)
LG_TILE(tile_q4_1_vnni, L_Q4_1)
LG_TILE(tile_q5_0_vnni, L_Q5_0)
LG_TILE(tile_q5_1_vnni, L_Q5_1)
LG_TILE(tile_mxfp4_vnni, L_MXFP4)

/* ---- panels for the 32-element block types (prefill) ----
 * As the K-quant panels, but the activations (Q8_0) carry no block sums, while the unsigned
 * weight codes need them (offset correction, or the min term of Q4_1/Q5_1). Those sums are
 * computed once per K chunk for all activation rows, so the loop order is: K chunk, then
 * panels of 16 weight rows, then activation rows. */

#define LP_BLOCKS 16    /* blocks per K chunk */
#define LP_MAX_ACTS 256 /* activation rows per pass: bounds the per-chunk sums buffer */

typedef struct {
    __m512i q[LP_BLOCKS * 8]; /* [block][4-element group], lane r = row r */
    __m512 d[LP_BLOCKS];      /* [block] lane r: scale of row r's block */
    __m512 m[LP_BLOCKS];      /* [block] lane r: min (Q4_1/Q5_1) */
} lg_panel;

typedef struct {
    float d[LP_MAX_ACTS][LP_BLOCKS];     /* activation block scales */
    int32_t base[LP_MAX_ACTS][LP_BLOCKS]; /* -offset * sum(a): start of each block's dot */
    float sd[LP_MAX_ACTS][LP_BLOCKS];    /* sum(a) * d, for the min term */
} lg_actsums;

AI void lg_pack(lg_panel *P, const uint8_t *w, size_t w_stride, int nr, int64_t b0, int nblk,
                const int kind) {
    __m512i U[LP_BLOCKS / 2][PN_ROWS];
    const size_t bsz = lg_block_bytes(kind);
    const int pairs = (nblk + 1) / 2;
    for (int r = 0; r < PN_ROWS; r++) {
        const uint8_t *row = w + (size_t)r * w_stride;
        for (int g = 0; g < pairs; g++)
            U[g][r] = r < nr ? lg_codes(row, b0 + 2 * g, kind, 2 * g + 1 < nblk) : _mm512_setzero_si512();
    }
    for (int g = 0; g < pairs; g++) transpose16_store(U[g], P->q + 16 * g);
    /* scales (and mins) of 16 rows at once: lane r = row r, as the panel wants them */
    const __m512i roffs = _mm512_mullo_epi32(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
                                             _mm512_set1_epi32((int)w_stride));
    const __mmask16 rm = (__mmask16)((1u << nr) - 1);
    for (int b = 0; b < nblk; b++)
        P->d[b] = lg_gather_scales(w + (size_t)(b0 + b) * bsz, roffs, rm, kind, &P->m[b]);
}

/* Sums and scales of blocks b0.. of activation rows a0.. (na rows). */
AI void lg_sums(lg_actsums *S, const mm_gemm *g, int64_t a0, int na, int64_t b0, int nblk,
                const int kind) {
    const int off = lg_offset(kind);
    for (int c = 0; c < na; c++) {
        const int64_t idx = g->rows ? g->rows[a0 + c] : a0 + c;
        const block_q8_0 *y = (const block_q8_0 *)(g->act + (size_t)idx * g->act_stride) + b0;
        for (int b = 0; b < nblk; b++) {
            /* SAD against 0 of the bytes + 128 gives four sums of 8 */
            const __m256i v = _mm256_xor_si256(_mm256_loadu_si256((const void *)y[b].qs),
                                               _mm256_set1_epi8((char)0x80));
            const __m256i sad = _mm256_sad_epu8(v, _mm256_setzero_si256());
            const __m128i h = _mm_add_epi64(_mm256_castsi256_si128(sad), _mm256_extracti128_si256(sad, 1));
            const int32_t sum = (int32_t)(_mm_cvtsi128_si64(h) + _mm_extract_epi64(h, 1)) - 32 * 128;
            const float da = f16(y[b].d);
            S->d[c][b] = da;
            S->base[c][b] = -off * sum;
            S->sd[c][b] = (float)sum * da;
        }
    }
}

AI void lg_compute(const lg_panel *P, const lg_actsums *S, const mm_gemm *g, int64_t a0, int c0,
                   int64_t b0, int nblk, int nr, float *out, const int NA, const int kind) {
    const block_q8_0 *y[4];
    for (int c = 0; c < NA; c++) {
        const int64_t idx = g->rows ? g->rows[a0 + c0 + c] : a0 + c0 + c;
        y[c] = (const block_q8_0 *)(g->act + (size_t)idx * g->act_stride) + b0;
    }
    const bool has_min = kind == L_Q4_1 || kind == L_Q5_1;
    __m512 facc[4];
    for (int c = 0; c < NA; c++) facc[c] = _mm512_setzero_ps();
    for (int b = 0; b < nblk; b++) {
        __m512i e[4], o[4];
        for (int c = 0; c < NA; c++) {
            e[c] = _mm512_set1_epi32(S->base[c0 + c][b]);
            o[c] = _mm512_setzero_si512();
        }
        for (int k = 0; k < 8; k += 2) {
            const __m512i W0 = P->q[8 * b + k], W1 = P->q[8 * b + k + 1];
            for (int c = 0; c < NA; c++) {
                e[c] = _mm512_dpbusd_epi32(e[c], W0, bcast32(y[c][b].qs + 4 * k));
                o[c] = _mm512_dpbusd_epi32(o[c], W1, bcast32(y[c][b].qs + 4 * k + 4));
            }
        }
        for (int c = 0; c < NA; c++) {
            const __m512 dd = _mm512_mul_ps(P->d[b], _mm512_set1_ps(S->d[c0 + c][b]));
            facc[c] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_add_epi32(e[c], o[c])), dd, facc[c]);
            if (has_min) facc[c] = _mm512_fmadd_ps(P->m[b], _mm512_set1_ps(S->sd[c0 + c][b]), facc[c]);
        }
    }
    const __mmask16 m = (__mmask16)((1u << nr) - 1);
    for (int c = 0; c < NA; c++) {
        float *o = out + (size_t)(a0 + c0 + c) * g->out_stride;
        if (b0) facc[c] = _mm512_add_ps(facc[c], _mm512_maskz_loadu_ps(m, o));
        _mm512_mask_storeu_ps(o, m, facc[c]);
    }
}

AI void lg_gemm(const mm_gemm *g, const int kind) {
    lg_panel P __attribute__((aligned(64)));
    lg_actsums S;
    const int64_t nb = g->n_in / QK8_0;
    for (int64_t a0 = 0; a0 < g->n; a0 += LP_MAX_ACTS) {
        const int na = (int)(g->n - a0 < LP_MAX_ACTS ? g->n - a0 : LP_MAX_ACTS);
        for (int64_t b0 = 0; b0 < nb; b0 += LP_BLOCKS) {
            const int nblk = (int)(nb - b0 < LP_BLOCKS ? nb - b0 : LP_BLOCKS);
            lg_sums(&S, g, a0, na, b0, nblk, kind);
            for (int64_t r0 = 0; r0 < g->nr; r0 += PN_ROWS) {
                const int nr = (int)(g->nr - r0 < PN_ROWS ? g->nr - r0 : PN_ROWS);
                lg_pack(&P, g->w + (size_t)r0 * g->w_stride, g->w_stride, nr, b0, nblk, kind);
                float *out = g->out + r0;
                int c = 0;
                for (; c + 4 <= na; c += 4) lg_compute(&P, &S, g, a0, c, b0, nblk, nr, out, 4, kind);
                switch (na - c) {
                case 3: lg_compute(&P, &S, g, a0, c, b0, nblk, nr, out, 3, kind); break;
                case 2: lg_compute(&P, &S, g, a0, c, b0, nblk, nr, out, 2, kind); break;
                case 1: lg_compute(&P, &S, g, a0, c, b0, nblk, nr, out, 1, kind); break;
                default: break;
                }
            }
        }
    }
}

/* ---- Q8_0 panels, in ggml's summation order ----
 * Q8_0 results must be bit for bit llama.cpp's (see lg_tile), so each output keeps 8 float
 * lanes, lane k taking group k (bytes 4k..4k+3) of every block in turn. In a panel the
 * register lanes are 16 weight rows, so an output row needs 8 registers, one per group,
 * carried across the K chunks in `acc`; the loop order is activation chunk, panel, K chunk.
 * The weight codes are unsigned (w + 128), so each group's integer dot starts at -128 times
 * the sum of its 4 activation bytes. */

#define LQ_ACTS 64 /* activation rows per pass */

typedef struct {
    int32_t corr[LQ_ACTS][LP_BLOCKS][8]; /* -128 * (sum of group k of block b) */
    float d[LQ_ACTS][LP_BLOCKS];         /* activation block scales */
    const block_q8_0 *y[LQ_ACTS];        /* activation rows at the chunk's first block */
} lq_acts;

AI void lq_prepare(lq_acts *A, const mm_gemm *g, int64_t a0, int na, int64_t b0, int nblk) {
    const __m256i bias = _mm256_set1_epi8((char)0x80);
    for (int c = 0; c < na; c++) {
        const int64_t idx = g->rows ? g->rows[a0 + c] : a0 + c;
        const block_q8_0 *y = (const block_q8_0 *)(g->act + (size_t)idx * g->act_stride) + b0;
        A->y[c] = y;
        for (int b = 0; b < nblk; b++) {
            const __m256i sums = _mm256_dpbusd_epi32(_mm256_setzero_si256(), bias,
                                                     _mm256_loadu_si256((const void *)y[b].qs));
            _mm256_storeu_si256((void *)A->corr[c][b], _mm256_sub_epi32(_mm256_setzero_si256(), sums));
            A->d[c][b] = f16(y[b].d);
        }
    }
}

AI void lq_compute(const lg_panel *P, const lq_acts *A, int c0, int nblk, __m512 (*acc)[8], const int NA) {
    __m512 f[2][8];
    for (int c = 0; c < NA; c++)
        for (int k = 0; k < 8; k++) f[c][k] = acc[c0 + c][k];
    for (int b = 0; b < nblk; b++) {
        __m512 dd[2];
        for (int c = 0; c < NA; c++) dd[c] = _mm512_mul_ps(P->d[b], _mm512_set1_ps(A->d[c0 + c][b]));
        for (int k = 0; k < 8; k++) {
            const __m512i W = P->q[8 * b + k];
            for (int c = 0; c < NA; c++) {
                const __m512i t = _mm512_dpbusd_epi32(_mm512_set1_epi32(A->corr[c0 + c][b][k]), W,
                                                      bcast32(A->y[c0 + c][b].qs + 4 * k));
                f[c][k] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(t), dd[c], f[c][k]);
            }
        }
    }
    for (int c = 0; c < NA; c++)
        for (int k = 0; k < 8; k++) acc[c0 + c][k] = f[c][k];
}

static void gemm_q8_0(const mm_gemm *g) {
    lg_panel P __attribute__((aligned(64)));
    lq_acts A;
    __m512 acc[LQ_ACTS][8];
    const int64_t nb = g->n_in / QK8_0;
    for (int64_t a0 = 0; a0 < g->n; a0 += LQ_ACTS) {
        const int na = (int)(g->n - a0 < LQ_ACTS ? g->n - a0 : LQ_ACTS);
        for (int64_t r0 = 0; r0 < g->nr; r0 += PN_ROWS) {
            const int nr = (int)(g->nr - r0 < PN_ROWS ? g->nr - r0 : PN_ROWS);
            for (int c = 0; c < na; c++)
                for (int k = 0; k < 8; k++) acc[c][k] = _mm512_setzero_ps();
            for (int64_t b0 = 0; b0 < nb; b0 += LP_BLOCKS) {
                const int nblk = (int)(nb - b0 < LP_BLOCKS ? nb - b0 : LP_BLOCKS);
                lg_pack(&P, g->w + (size_t)r0 * g->w_stride, g->w_stride, nr, b0, nblk, L_Q8_0);
                lq_prepare(&A, g, a0, na, b0, nblk);
                int c = 0;
                for (; c + 2 <= na; c += 2) lq_compute(&P, &A, c, nblk, acc, 2);
                if (c < na) lq_compute(&P, &A, c, nblk, acc, 1);
            }
            const __mmask16 m = (__mmask16)((1u << nr) - 1);
            for (int c = 0; c < na; c++) { /* hsum8_ggml, lane-wise */
                const __m512 *v = acc[c];
                const __m512 s = _mm512_add_ps(_mm512_add_ps(_mm512_add_ps(v[0], v[4]), _mm512_add_ps(v[2], v[6])),
                                               _mm512_add_ps(_mm512_add_ps(v[1], v[5]), _mm512_add_ps(v[3], v[7])));
                _mm512_mask_storeu_ps(g->out + (size_t)(a0 + c) * g->out_stride + r0, m, s);
            }
        }
    }
}

static void gemm_q4_0(const mm_gemm *g) { lg_gemm(g, L_Q4_0); }
static void gemm_q4_1(const mm_gemm *g) { lg_gemm(g, L_Q4_1); }
static void gemm_q5_0(const mm_gemm *g) { lg_gemm(g, L_Q5_0); }
static void gemm_q5_1(const mm_gemm *g) { lg_gemm(g, L_Q5_1); }
static void gemm_mxfp4(const mm_gemm *g) { lg_gemm(g, L_MXFP4); }

/* ========================================================== float weights x F32 === */

enum { F_F32, F_F16, F_BF16 };

#define FL_MAX_ROWS 4
#define FL_MAX_COLS 4

/* 16 weights from element i of a row (masked for a tail). */
AI __m512 fl_load(const uint8_t *row, int64_t i, const int kind, __mmask16 m, const bool tail) {
    switch (kind) {
    case F_F32: {
        const float *p = (const float *)row + i;
        return tail ? _mm512_maskz_loadu_ps(m, p) : _mm512_loadu_ps(p);
    }
    case F_F16: {
        const uint16_t *p = (const uint16_t *)row + i;
        return _mm512_cvtph_ps(tail ? _mm256_maskz_loadu_epi16(m, p)
                                    : _mm256_loadu_si256((const void *)p));
    }
    default: {
        const uint16_t *p = (const uint16_t *)row + i;
        const __m256i h = tail ? _mm256_maskz_loadu_epi16(m, p) : _mm256_loadu_si256((const void *)p);
        return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16));
    }
    }
}

/* 16 lanes as GCC's _mm512_reduce_add_ps sums them (lanes k + 8 onto k, then hsum8_ggml),
 * written out so every compiler gives llama.cpp's F32 (tinyBLAS) results bit for bit: with
 * 16 sequential FMA lanes over the row, that is its order for n_in a multiple of 16. */
AI float hsum16_ggml(__m512 v) {
    return hsum8_ggml(_mm256_add_ps(_mm512_extractf32x8_ps(v, 1), _mm512_castps512_ps256(v)));
}

AI void fl_tile(const mm_tile *t, int r0, const int NR, const int NC, const int kind) {
    const uint8_t *wr[FL_MAX_ROWS];
    const float *a[FL_MAX_COLS];
    for (int r = 0; r < NR; r++) wr[r] = t->w + (size_t)(r0 + r) * t->w_stride;
    for (int c = 0; c < NC; c++) a[c] = (const float *)t->act[c];
    __m512 acc[FL_MAX_ROWS][FL_MAX_COLS];
    for (int r = 0; r < NR; r++)
        for (int c = 0; c < NC; c++) acc[r][c] = _mm512_setzero_ps();
    const int64_t n = t->n_in;
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) {
        __m512 A[FL_MAX_COLS];
        for (int c = 0; c < NC; c++) A[c] = _mm512_loadu_ps(a[c] + i);
        for (int r = 0; r < NR; r++) {
            if (kind == F_F32 || (i & 16) == 0) /* one line per 64 bytes of weights */
                _mm_prefetch((const char *)wr[r] + i * (kind == F_F32 ? 4 : 2) + PREFETCH_BYTES,
                             _MM_HINT_T0);
            const __m512 W = fl_load(wr[r], i, kind, 0, false);
            for (int c = 0; c < NC; c++) acc[r][c] = _mm512_fmadd_ps(W, A[c], acc[r][c]);
        }
    }
    if (i < n) {
        const __mmask16 m = (__mmask16)((1u << (n - i)) - 1);
        __m512 A[FL_MAX_COLS];
        for (int c = 0; c < NC; c++) A[c] = _mm512_maskz_loadu_ps(m, a[c] + i);
        for (int r = 0; r < NR; r++) {
            const __m512 W = fl_load(wr[r], i, kind, m, true);
            for (int c = 0; c < NC; c++) acc[r][c] = _mm512_fmadd_ps(W, A[c], acc[r][c]);
        }
    }
    for (int r = 0; r < NR; r++)
        for (int c = 0; c < NC; c++)
            t->out[(size_t)c * t->out_stride + (size_t)(r0 + r)] = hsum16_ggml(acc[r][c]);
}

#define FL_COLS(t, r, NR, kind)                         \
    switch ((t)->nc) {                                  \
    case 1: fl_tile(t, r, NR, 1, kind); break;          \
    case 2: fl_tile(t, r, NR, 2, kind); break;          \
    case 3: fl_tile(t, r, NR, 3, kind); break;          \
    default: fl_tile(t, r, NR, 4, kind); break;         \
    }

#define FL_TILE(name, kind)                                     \
    static void name(const mm_tile *t) {                        \
        int r = 0;                                              \
        for (; r + 4 <= t->nr; r += 4) FL_COLS(t, r, 4, kind)   \
        for (; r < t->nr; r++) FL_COLS(t, r, 1, kind)           \
    }

FL_TILE(tile_f32, F_F32)
FL_TILE(tile_f16, F_F16)
FL_TILE(tile_bf16, F_BF16)

/* ================================================================ activation quantizers === */

/* Same bytes as tensor_quantize_row_q8_0_act (finite inputs); cvtps rounds half to even. */
static void quant_q8_0(const float *x, void *vy, int64_t n) {
    block_q8_0 *y = vy;
    for (int64_t i = 0; i < n / QK8_0; i++, x += QK8_0) {
        const __m512 v0 = _mm512_loadu_ps(x), v1 = _mm512_loadu_ps(x + 16);
        const float amax = _mm512_reduce_max_ps(_mm512_max_ps(_mm512_abs_ps(v0), _mm512_abs_ps(v1)));
        const float d = amax / 127.f;
        const float id = amax != 0.0f ? 127.f / amax : 0.0f;
        y[i].d = _cvtss_sh(d, _MM_FROUND_TO_NEAREST_INT);
        const __m512 ids = _mm512_set1_ps(id);
        const __m512i q0 = _mm512_cvtps_epi32(_mm512_mul_ps(v0, ids));
        const __m512i q1 = _mm512_cvtps_epi32(_mm512_mul_ps(v1, ids));
        _mm_storeu_si128((void *)y[i].qs, _mm512_cvtsepi32_epi8(q0));
        _mm_storeu_si128((void *)(y[i].qs + 16), _mm512_cvtsepi32_epi8(q1));
    }
}

/* Same bytes as tensor_quantize_row_q8_K_ref. */
static void quant_q8_K(const float *x, void *vy, int64_t n) {
    block_q8_K *y = vy;
    for (int64_t i = 0; i < n / QK_K; i++, x += QK_K) {
        __m512 m = _mm512_setzero_ps();
        for (int k = 0; k < 16; k++) m = _mm512_max_ps(m, _mm512_abs_ps(_mm512_loadu_ps(x + 16 * k)));
        const float amax = _mm512_reduce_max_ps(m);
        if (!amax) {
            memset(&y[i], 0, sizeof y[i]);
            continue;
        }
        /* the reference keeps the sign of the first element of largest magnitude */
        const __m512 am = _mm512_set1_ps(amax);
        float max = amax;
        for (int k = 0; k < 16; k++) {
            const __mmask16 hit = _mm512_cmp_ps_mask(_mm512_abs_ps(_mm512_loadu_ps(x + 16 * k)), am,
                                                     _CMP_EQ_OQ);
            if (hit) {
                max = x[16 * k + __builtin_ctz(hit)];
                break;
            }
        }
        const float iscale = -127.f / max;
        const __m512 is = _mm512_set1_ps(iscale);
        const __m512i lim = _mm512_set1_epi32(127);
        for (int k = 0; k < 16; k++) {
            /* cvtps rounds to nearest even, as the reference's nearest_int */
            __m512i q = _mm512_cvtps_epi32(_mm512_mul_ps(is, _mm512_loadu_ps(x + 16 * k)));
            q = _mm512_min_epi32(q, lim);
            _mm_storeu_si128((void *)(y[i].qs + 16 * k), _mm512_cvtsepi32_epi8(q));
        }
        /* sums of 16: |sums of 8 (as u8 + 128)| via SAD, then pairs */
        const __m512i bias = _mm512_set1_epi8((char)0x80);
        __m512i s[4];
        for (int k = 0; k < 4; k++) {
            const __m512i q = _mm512_xor_si512(_mm512_loadu_si512(y[i].qs + 64 * k), bias);
            s[k] = _mm512_sad_epu8(q, _mm512_setzero_si512()); /* 8 qwords: sums of 8 */
        }
        /* per 128-bit lane of s[k]: group (4k + lane) = qword0 + qword1 */
        const __m512i t01 = _mm512_add_epi64(_mm512_unpacklo_epi64(s[0], s[1]),
                                             _mm512_unpackhi_epi64(s[0], s[1]));
        const __m512i t23 = _mm512_add_epi64(_mm512_unpacklo_epi64(s[2], s[3]),
                                             _mm512_unpackhi_epi64(s[2], s[3]));
        /* t01 qwords: [g0 g4 | g1 g5 | g2 g6 | g3 g7], t23 the same for g8..g15 */
        const __m128i w01 = _mm512_cvtepi64_epi16(t01), w23 = _mm512_cvtepi64_epi16(t23);
        const __m128i order = _mm_setr_epi8(0, 1, 4, 5, 8, 9, 12, 13, 2, 3, 6, 7, 10, 11, 14, 15);
        __m256i sums = _mm256_set_m128i(_mm_shuffle_epi8(w23, order), _mm_shuffle_epi8(w01, order));
        sums = _mm256_sub_epi16(sums, _mm256_set1_epi16(16 * 128));
        _mm256_storeu_si256((void *)y[i].bsums, sums);
        y[i].d = 1 / iscale;
    }
}

/* From this many activation rows on, the panel kernels beat the direct ones (measured on
 * a Sapphire Rapids core, 2048x2048; compile with larger values to benchmark the direct
 * kernels alone). */
#ifndef GEMM_MIN_N_KQ
#define GEMM_MIN_N_KQ 12
#endif
#ifndef GEMM_MIN_N_LG
#define GEMM_MIN_N_LG 6
#endif

void mm_kernels_avx512(mm_kernel_set *ks, const fn_cpu_features *f) {
    const bool vnni = f->avx512_vnni;
    const char *level = vnni ? "avx512-vnni" : "avx512";
#define K(type, fn, mr, mc) \
    ks->gemm[type] = (mm_kernel){.tile = fn, .max_rows = mr, .max_cols = mc, .name = level}
    K(FN_Q4_K, vnni ? tile_q4_K_vnni : tile_q4_K_plain, 4, KQ_MAX_COLS);
    K(FN_Q5_K, vnni ? tile_q5_K_vnni : tile_q5_K_plain, 4, KQ_MAX_COLS);
    K(FN_Q6_K, vnni ? tile_q6_K_vnni : tile_q6_K_plain, 4, KQ_MAX_COLS);
    K(FN_Q3_K, vnni ? tile_q3_K_vnni : tile_q3_K_plain, 4, KQ_MAX_COLS);
    K(FN_Q2_K, vnni ? tile_q2_K_vnni : tile_q2_K_plain, 4, KQ_MAX_COLS);
    if (vnni) {
        ks->gemm[FN_Q4_K].gemm = gemm_q4_K;
        ks->gemm[FN_Q5_K].gemm = gemm_q5_K;
        /* Q6_K has no panel kernel: its products follow ggml's 8-lane order (k6_superblock) */
        ks->gemm[FN_Q3_K].gemm = gemm_q3_K;
        ks->gemm[FN_Q2_K].gemm = gemm_q2_K;
        ks->gemm[FN_Q4_K].gemm_min_n = ks->gemm[FN_Q5_K].gemm_min_n = GEMM_MIN_N_KQ;
        ks->gemm[FN_Q3_K].gemm_min_n = ks->gemm[FN_Q2_K].gemm_min_n = GEMM_MIN_N_KQ;
    }
    if (vnni) { /* without VNNI the AVX2 kernels of these are as good */
        K(FN_Q8_0, tile_q8_0_vnni, 8, LG_MAX_COLS);
        K(FN_Q4_0, tile_q4_0_vnni, 8, LG_MAX_COLS);
        K(FN_Q4_1, tile_q4_1_vnni, 8, LG_MAX_COLS);
        K(FN_Q5_0, tile_q5_0_vnni, 8, LG_MAX_COLS);
        K(FN_Q5_1, tile_q5_1_vnni, 8, LG_MAX_COLS);
        K(FN_MXFP4, tile_mxfp4_vnni, 8, LG_MAX_COLS);
        ks->gemm[FN_Q8_0].gemm = gemm_q8_0;
        ks->gemm[FN_Q4_0].gemm = gemm_q4_0;
        ks->gemm[FN_Q4_1].gemm = gemm_q4_1;
        ks->gemm[FN_Q5_0].gemm = gemm_q5_0;
        ks->gemm[FN_Q5_1].gemm = gemm_q5_1;
        ks->gemm[FN_MXFP4].gemm = gemm_mxfp4;
        for (int t = 0; t < FN_DTYPE_COUNT; t++)
            if (ks->gemm[t].gemm && !ks->gemm[t].gemm_min_n)
                ks->gemm[t].gemm_min_n = GEMM_MIN_N_LG;
    }
    K(FN_F32, tile_f32, 2 * FL_MAX_ROWS, FL_MAX_COLS);
    K(FN_F16, tile_f16, 2 * FL_MAX_ROWS, FL_MAX_COLS);
    K(FN_BF16, tile_bf16, 2 * FL_MAX_ROWS, FL_MAX_COLS);
#undef K
    ks->quant[FN_Q8_0] = quant_q8_0;
    ks->quant[FN_Q8_K] = quant_q8_K;
}
