/* kernels_avx2.c - AVX2 (+FMA, F16C; AVX-VNNI when present) matmul kernels and activation
 * quantizers. Compiled with those flags; only called after fn_cpu() reports AVX2.
 *
 * The same schemes as kernels_avx512.c on 256-bit registers (16 of them, so smaller tiles):
 * unsigned weight codes times signed Q8 activations, through VPDPBUSD with AVX-VNNI or
 * VPMADDUBSW + VPMADDWD without (codes <= 63 there, so the i16 pair sums cannot saturate;
 * signed weights use the abs/sign trick instead). */
#include <immintrin.h>
#include <string.h>

#include "tensor/blocks.h"
#include "tensor/kernels.h"
#include "tensor/quant_ref.h"

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

/* ===================================================================== K-quants x Q8_K === */

#define KQ_MAX_COLS 4

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

/* Q4_K / Q5_K, one weight row x NC activation rows. Group g (64 elements) is two
 * registers: low nibbles of qs[32g..] (sub-block 2g) and high nibbles (2g+1). */
AI void k4_row(const mm_tile *t, int r, const int NC, const bool q5, const bool vnni) {
    const uint8_t *wrow = t->w + (size_t)r * t->w_stride;
    const block_q8_K *a[KQ_MAX_COLS];
    for (int c = 0; c < NC; c++) a[c] = (const block_q8_K *)t->act[c];
    __m256 acc[KQ_MAX_COLS];
    for (int c = 0; c < NC; c++) acc[c] = _mm256_setzero_ps();
    const __m256i m4 = _mm256_set1_epi8(0x0f);
    /* VNNI: packs(P_lo, P_hi) puts per lane P_lo's 4 dwords then P_hi's: scale words
     * [s_2g x4, s_2g+1 x4] in both lanes. Plain: [s x16] per register. */
    __m256i ctrl[4], ctrl_lo[4], ctrl_hi[4];
    for (int g = 0; g < 4; g++) {
        uint8_t idx[16], lo[16], hi[16];
        for (int k = 0; k < 16; k++) {
            idx[k] = (uint8_t)(2 * g + ((k & 7) >= 4));
            lo[k] = (uint8_t)(2 * g);
            hi[k] = (uint8_t)(2 * g + 1);
        }
        ctrl[g] = byte_to_word_ctrl(idx);
        ctrl_lo[g] = byte_to_word_ctrl(lo);
        ctrl_hi[g] = byte_to_word_ctrl(hi);
    }
    uint8_t midx[32];
    for (int k = 0; k < 32; k++) midx[k] = (uint8_t)(k & 1 ? 0x80 : (k >> 2));
    const __m256i ctrl_m = _mm256_loadu_si256((const void *)midx);
    const int64_t nb = t->n_in / QK_K;
    for (int64_t i = 0; i < nb; i++) {
        const size_t bsz = q5 ? sizeof(block_q5_K) : sizeof(block_q4_K);
        prefetch_ahead(wrow + (size_t)i * bsz, bsz);
        const uint8_t *qs, *scales, *qh = NULL;
        float d, dmin;
        if (q5) {
            const block_q5_K *w = (const block_q5_K *)wrow + i;
            qs = w->qs, scales = w->scales, qh = w->qh;
            d = f16(w->d), dmin = f16(w->dmin);
        } else {
            const block_q4_K *w = (const block_q4_K *)wrow + i;
            qs = w->qs, scales = w->scales;
            d = f16(w->d), dmin = f16(w->dmin);
        }
        uint64_t sc, mn;
        k4_scale_bytes(scales, &sc, &mn);
        const __m256i scv = _mm256_set1_epi64x((long long)sc);
        const __m256i hb = q5 ? _mm256_loadu_si256((const void *)qh) : _mm256_setzero_si256();
        __m256i Q[KQ_MAX_COLS];
        for (int c = 0; c < NC; c++) Q[c] = _mm256_setzero_si256();
        for (int g = 0; g < 4; g++) {
            const __m256i q = _mm256_loadu_si256((const void *)(qs + 32 * g));
            __m256i lo = _mm256_and_si256(q, m4);
            __m256i hi = _mm256_and_si256(_mm256_srli_epi16(q, 4), m4);
            if (q5) { /* qh bit 2g -> 16 for the low half, bit 2g+1 for the high half */
                const __m256i b = _mm256_srli_epi16(hb, 2 * g);
                lo = _mm256_or_si256(lo, _mm256_slli_epi16(_mm256_and_si256(b, _mm256_set1_epi8(1)), 4));
                hi = _mm256_or_si256(hi, _mm256_slli_epi16(_mm256_and_si256(b, _mm256_set1_epi8(2)), 3));
            }
            if (vnni) {
                const __m256i S = _mm256_shuffle_epi8(scv, ctrl[g]);
                for (int c = 0; c < NC; c++) {
                    const int8_t *y = a[c][i].qs + 64 * g;
                    const __m256i z = _mm256_setzero_si256();
                    const __m256i p0 = _mm256_dpbusd_avx_epi32(z, lo, _mm256_loadu_si256((const void *)y));
                    const __m256i p1 = _mm256_dpbusd_avx_epi32(z, hi, _mm256_loadu_si256((const void *)(y + 32)));
                    Q[c] = _mm256_add_epi32(Q[c], _mm256_madd_epi16(_mm256_packs_epi32(p0, p1), S));
                }
            } else {
                const __m256i Slo = _mm256_shuffle_epi8(scv, ctrl_lo[g]);
                const __m256i Shi = _mm256_shuffle_epi8(scv, ctrl_hi[g]);
                for (int c = 0; c < NC; c++) {
                    const int8_t *y = a[c][i].qs + 64 * g;
                    const __m256i p0 = opaque(_mm256_madd_epi16(
                        _mm256_maddubs_epi16(lo, _mm256_loadu_si256((const void *)y)), Slo));
                    const __m256i p1 = opaque(_mm256_madd_epi16(
                        _mm256_maddubs_epi16(hi, _mm256_loadu_si256((const void *)(y + 32))), Shi));
                    Q[c] = _mm256_add_epi32(Q[c], _mm256_add_epi32(p0, p1));
                }
            }
        }
        const __m256i mins = _mm256_shuffle_epi8(_mm256_set1_epi64x((long long)mn), ctrl_m);
        const __m256 dv = _mm256_set1_ps(d), mv = _mm256_set1_ps(-dmin);
        for (int c = 0; c < NC; c++) {
            const block_q8_K *y = a[c] + i;
            const __m256i M = _mm256_madd_epi16(mins, _mm256_loadu_si256((const void *)y->bsums));
            const __m256 s = _mm256_fmadd_ps(_mm256_cvtepi32_ps(Q[c]), dv,
                                             _mm256_mul_ps(_mm256_cvtepi32_ps(M), mv));
            acc[c] = _mm256_fmadd_ps(s, _mm256_set1_ps(y->d), acc[c]);
        }
    }
    for (int c = 0; c < NC; c++) t->out[(size_t)c * t->out_stride + (size_t)r] = hsum(acc[c]);
}

/* 4x4 transpose of dwords: out[k] lane c = in[c] lane k. */
AI void transpose4_epi32(const __m128i in[4], __m128i out[4]) {
    const __m128i t0 = _mm_unpacklo_epi32(in[0], in[1]), t1 = _mm_unpackhi_epi32(in[0], in[1]);
    const __m128i t2 = _mm_unpacklo_epi32(in[2], in[3]), t3 = _mm_unpackhi_epi32(in[2], in[3]);
    out[0] = _mm_unpacklo_epi64(t0, t2);
    out[1] = _mm_unpackhi_epi64(t0, t2);
    out[2] = _mm_unpacklo_epi64(t1, t3);
    out[3] = _mm_unpackhi_epi64(t1, t3);
}

/* Q4_K in llama.cpp's summation orders (ORDER, the tile's MM_ORDER_*; the AVX2 build's
 * orders are the AVX-512 build's, see kernels_generic.c), so results match it bit for bit:
 *   MM_ORDER_VEC    ggml_vec_dot_q4_K_q8_K: 8 integer lanes, lane L summing scale x (code x
 *                   activation) over elements 4L..4L+3 of each 32; mins in 4 lanes; FMAs per
 *                   super-block, then the 8-lane tree plus the mins' 4-lane tree
 *   MM_ORDER_GEMV   ggml_gemv_q4_K_8x8_q8_K: the super-block's whole integer sum and min sum,
 *                   one FMA each per super-block, result acc - accm
 *   MM_ORDER_GEMM4  ggml_gemm_q4_K_8x8_q8_K: the same per 64 elements (4 FMAs each)
 * maddubs + madd with the scale words leave dword lane j = elements 4j..4j+3 of the 32 (so
 * ggml's lane j) with and without VNNI (VPDPBUSD's packs would mix the lanes). The GEMV and
 * GEMM4 orders need only the totals, so with VNNI they take VPDPBUSD + packs + madd; their
 * activation rows' scalar accumulators are the lanes of one vector. */
AI void k4o_row(const mm_tile *t, int r, const int NC, const int ORDER, const bool vnni) {
    const uint8_t *wrow = t->w + (size_t)r * t->w_stride;
    const block_q8_K *a[KQ_MAX_COLS];
    for (int c = 0; c < NC; c++) a[c] = (const block_q8_K *)t->act[c];
    __m256 acc8[KQ_MAX_COLS];
    __m128 accm4[KQ_MAX_COLS];
    for (int c = 0; c < NC; c++) acc8[c] = _mm256_setzero_ps(), accm4[c] = _mm_setzero_ps();
    __m128 acci = _mm_setzero_ps(), accm = _mm_setzero_ps(); /* lane c: activation row c */
    __m128 acc2 = _mm_setzero_ps(); /* GEMV, one activation row: lanes acc, accm */
    const __m256i m4 = _mm256_set1_epi8(0x0f);
    uint8_t midx[32]; /* mins as words [m0 m0 m1 m1 ... m7 m7], to pair with the 16 bsums */
    for (int k = 0; k < 32; k++) midx[k] = (uint8_t)(k & 1 ? 0x80 : (k >> 2));
    const __m256i ctrl_m = _mm256_loadu_si256((const void *)midx);
    const bool dp = vnni && ORDER != MM_ORDER_VEC; /* VPDPBUSD + packs: totals only */
    __m256i ctrl_lo[4], ctrl_hi[4];
    for (int g = 0; g < 4; g++) {
        uint8_t lo[16], hi[16];
        for (int k = 0; k < 16; k++) {
            /* packs(P_lo, P_hi) puts per lane P_lo's 4 dwords then P_hi's */
            lo[k] = (uint8_t)(dp ? 2 * g + ((k & 7) >= 4) : 2 * g);
            hi[k] = (uint8_t)(2 * g + 1);
        }
        ctrl_lo[g] = byte_to_word_ctrl(lo);
        ctrl_hi[g] = byte_to_word_ctrl(hi);
    }
    const int64_t nb = t->n_in / QK_K;
    for (int64_t i = 0; i < nb; i++) {
        const block_q4_K *w = (const block_q4_K *)wrow + i;
        prefetch_ahead(w, sizeof *w);
        uint64_t sc, mn;
        k4_scale_bytes(w->scales, &sc, &mn);
        const __m256i scv = _mm256_set1_epi64x((long long)sc);
        const float d = f16(w->d), dmin = f16(w->dmin);
        /* VEC, GEMV: A = the integer lanes of the super-block. GEMM4: A = hadd(P0, P1),
         * B = hadd(P2, P3) of the groups' lanes P_g (so hadd(A, B) has the group totals). */
        __m256i A[KQ_MAX_COLS], B[KQ_MAX_COLS];
        for (int g = 0; g < 4; g++) {
            const __m256i q = _mm256_loadu_si256((const void *)(w->qs + 32 * g));
            const __m256i lo = _mm256_and_si256(q, m4), hi = _mm256_and_si256(_mm256_srli_epi16(q, 4), m4);
            const __m256i Slo = _mm256_shuffle_epi8(scv, ctrl_lo[g]), Shi = _mm256_shuffle_epi8(scv, ctrl_hi[g]);
            for (int c = 0; c < NC; c++) {
                const int8_t *yq = a[c][i].qs + 64 * g;
                __m256i P;
                if (dp) {
                    const __m256i z = _mm256_setzero_si256();
                    const __m256i p0 = _mm256_dpbusd_avx_epi32(z, lo, _mm256_loadu_si256((const void *)yq));
                    const __m256i p1 = _mm256_dpbusd_avx_epi32(z, hi, _mm256_loadu_si256((const void *)(yq + 32)));
                    P = _mm256_madd_epi16(_mm256_packs_epi32(p0, p1), Slo);
                } else {
                    const __m256i p0 = opaque(_mm256_madd_epi16(
                        _mm256_maddubs_epi16(lo, _mm256_loadu_si256((const void *)yq)), Slo));
                    const __m256i p1 = opaque(_mm256_madd_epi16(
                        _mm256_maddubs_epi16(hi, _mm256_loadu_si256((const void *)(yq + 32))), Shi));
                    P = _mm256_add_epi32(p0, p1);
                }
                if (ORDER != MM_ORDER_GEMM4) A[c] = g ? _mm256_add_epi32(A[c], P) : P;
                else if (g == 0) A[c] = P;
                else if (g == 1) A[c] = _mm256_hadd_epi32(A[c], P);
                else if (g == 2) B[c] = P;
                else B[c] = _mm256_hadd_epi32(B[c], P);
            }
        }
        if (ORDER == MM_ORDER_GEMV && NC == 1) { /* decode: both totals in one reduction */
            const block_q8_K *y = a[0] + i;
            const __m256i mins = _mm256_shuffle_epi8(_mm256_set1_epi64x((long long)mn), ctrl_m);
            const __m256i M = _mm256_madd_epi16(mins, _mm256_loadu_si256((const void *)y->bsums));
            const __m256i h = _mm256_hadd_epi32(A[0], M); /* per half: [A A M M] */
            __m128i x = _mm_add_epi32(_mm256_castsi256_si128(h), _mm256_extracti128_si256(h, 1));
            x = _mm_hadd_epi32(x, x); /* [isum, msum, isum, msum] */
            const __m128 dd = _mm_mul_ps(_mm_setr_ps(d, dmin, d, dmin), _mm_set1_ps(y->d));
            acc2 = _mm_fmadd_ps(_mm_cvtepi32_ps(x), dd, acc2);
            continue;
        }
        /* prod[m] = mn[2m] (b[4m] + b[4m+1]) + mn[2m+1] (b[4m+2] + b[4m+3]) */
        const __m128i mins16 = _mm_cvtepu8_epi16(_mm_cvtsi64_si128((long long)mn));
        __m128i prod[4];
        float yd[4] = {0, 0, 0, 0};
        for (int c = 0; c < 4; c++) {
            if (c >= NC) {
                prod[c] = _mm_setzero_si128();
                if (ORDER != MM_ORDER_VEC) A[c] = B[c] = _mm256_setzero_si256();
                continue;
            }
            const block_q8_K *y = a[c] + i;
            yd[c] = y->d;
            prod[c] = _mm_madd_epi16(mins16, _mm_hadd_epi16(_mm_loadu_si128((const void *)y->bsums),
                                                            _mm_loadu_si128((const void *)(y->bsums + 8))));
            if (ORDER == MM_ORDER_VEC) {
                acc8[c] = _mm256_fmadd_ps(_mm256_set1_ps(y->d * d), _mm256_cvtepi32_ps(A[c]), acc8[c]);
                accm4[c] = _mm_fmadd_ps(_mm_set1_ps(-y->d * dmin), _mm_cvtepi32_ps(prod[c]), accm4[c]);
            }
        }
        if (ORDER == MM_ORDER_VEC) continue;
        const __m128 ydv = _mm_loadu_ps(yd);
        const __m128 dy = _mm_mul_ps(_mm_set1_ps(d), ydv), dmy = _mm_mul_ps(_mm_set1_ps(dmin), ydv);
        if (ORDER == MM_ORDER_GEMV) {
            /* lane c: the totals of activation row c */
            const __m256i h = _mm256_hadd_epi32(_mm256_hadd_epi32(A[0], A[1]), _mm256_hadd_epi32(A[2], A[3]));
            const __m128i tot = _mm_add_epi32(_mm256_castsi256_si128(h), _mm256_extracti128_si256(h, 1));
            const __m128i ms = _mm_hadd_epi32(_mm_hadd_epi32(prod[0], prod[1]), _mm_hadd_epi32(prod[2], prod[3]));
            acci = _mm_fmadd_ps(_mm_cvtepi32_ps(tot), dy, acci);
            accm = _mm_fmadd_ps(_mm_cvtepi32_ps(ms), dmy, accm);
        } else {
            __m128i tot[4], tg[4], mg[4];
            for (int c = 0; c < 4; c++) {
                const __m256i h = _mm256_hadd_epi32(A[c], B[c]); /* per half: groups 0..3 */
                tot[c] = _mm_add_epi32(_mm256_castsi256_si128(h), _mm256_extracti128_si256(h, 1));
            }
            transpose4_epi32(tot, tg);
            transpose4_epi32(prod, mg);
            for (int g = 0; g < 4; g++) {
                acci = _mm_fmadd_ps(_mm_cvtepi32_ps(tg[g]), dy, acci);
                accm = _mm_fmadd_ps(_mm_cvtepi32_ps(mg[g]), dmy, accm);
            }
        }
    }
    if (ORDER == MM_ORDER_VEC) {
        for (int c = 0; c < NC; c++) {
            __m128 m = _mm_add_ps(accm4[c], _mm_movehl_ps(accm4[c], accm4[c]));
            m = _mm_add_ss(m, _mm_movehdup_ps(m));
            t->out[(size_t)c * t->out_stride + (size_t)r] = hsum(acc8[c]) + _mm_cvtss_f32(m);
        }
    } else if (ORDER == MM_ORDER_GEMV && NC == 1) {
        t->out[r] = _mm_cvtss_f32(_mm_sub_ss(acc2, _mm_movehdup_ps(acc2)));
    } else {
        float v[4];
        _mm_storeu_ps(v, _mm_sub_ps(acci, accm));
        for (int c = 0; c < NC; c++) t->out[(size_t)c * t->out_stride + (size_t)r] = v[c];
    }
}

#define K4O_COLS(t, r, ORD, vnni)                       \
    switch ((t)->nc) {                                  \
    case 1: k4o_row(t, r, 1, ORD, vnni); break;         \
    case 2: k4o_row(t, r, 2, ORD, vnni); break;         \
    case 3: k4o_row(t, r, 3, ORD, vnni); break;         \
    default: k4o_row(t, r, 4, ORD, vnni); break;        \
    }

/* Q4_K (see k4o_row). */
AI void tile_q4_K(const mm_tile *t, const bool vnni) {
    for (int r = 0; r < t->nr; r++) {
        if (t->order == MM_ORDER_GEMM4) K4O_COLS(t, r, MM_ORDER_GEMM4, vnni)
        else if (t->order == MM_ORDER_GEMV) K4O_COLS(t, r, MM_ORDER_GEMV, vnni)
        else K4O_COLS(t, r, MM_ORDER_VEC, vnni)
    }
}

static void tile_q4_K_vnni(const mm_tile *t) { tile_q4_K(t, true); }
static void tile_q4_K_plain(const mm_tile *t) { tile_q4_K(t, false); }

/* Q6_K, Q3_K, Q2_K: 16 sub-blocks of 16 (see kernels_avx512.c). Per half (128 elements)
 * four registers of 32 codes: each register's 128-bit lanes are two sub-blocks of 16.
 * Q6_K follows ggml_vec_dot_q6_K_q8_K's order (llama.cpp's bits; see dot_q6_K in
 * kernels_generic.c), with and without VNNI: maddubs + madd with the scale words leave
 * dword lane j = elements 4j..4j+3 of each 32, ggml's lane j; the code offset comes off
 * per lane as 32 (sc[2j] bsum[2j] + sc[2j+1] bsum[2j+1]); one FMA per super-block with
 * d_w * d_y; then hsum, ggml's tree. (VPDPBUSD's packs would mix the lanes.) */
enum { K16_Q6, K16_Q3, K16_Q2 };

AI size_t k16_block_bytes(const int kind) {
    return kind == K16_Q6 ? sizeof(block_q6_K) : kind == K16_Q3 ? sizeof(block_q3_K) : sizeof(block_q2_K);
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

AI void k16_row(const mm_tile *t, int r, const int NC, const int kind, const bool vnni) {
    const uint8_t *wrow = t->w + (size_t)r * t->w_stride;
    const size_t bsz = k16_block_bytes(kind);
    const block_q8_K *a[KQ_MAX_COLS];
    for (int c = 0; c < NC; c++) a[c] = (const block_q8_K *)t->act[c];
    __m256 acc[KQ_MAX_COLS];
    for (int c = 0; c < NC; c++) acc[c] = _mm256_setzero_ps();
    const __m256i m4 = _mm256_set1_epi8(0x0f), m3 = _mm256_set1_epi8(0x03);
    /* scale words from the 16 sign-extended scales (as bytes 2j, 2j+1 of a 32-byte vector
     * duplicated in both lanes): register k (sub-blocks 2k in lane 0, 2k+1 in lane 1) */
    __m256i ctrl_pair[2], ctrl_one[4];
    for (int k = 0; k < 2; k++) {
        /* VNNI: packs(P_2m, P_2m+1) lane L: [sb of P_2m lane L x4, of P_2m+1 lane L x4] */
        uint16_t wv[16];
        const int m = k; /* pair index 0..3 covers registers 2m, 2m+1 of the super-block */
        for (int j = 0; j < 16; j++) {
            const int lane = j / 8, second = (j & 7) >= 4;
            const int sb = 2 * (2 * m + second) + lane;
            wv[j] = (uint16_t)((2 * sb) | ((2 * sb + 1) << 8));
        }
        ctrl_pair[k] = _mm256_loadu_si256((const void *)wv);
    }
    for (int k = 0; k < 4; k++) {
        /* plain: maddubs words of register k: lane L (8 words) -> sub-block 2k + L */
        uint16_t wv[16];
        for (int j = 0; j < 16; j++) {
            const int sb = 2 * k + j / 8;
            wv[j] = (uint16_t)((2 * sb) | ((2 * sb + 1) << 8));
        }
        ctrl_one[k] = _mm256_loadu_si256((const void *)wv);
    }
    const int64_t nb = t->n_in / QK_K;
    for (int64_t i = 0; i < nb; i++) {
        const uint8_t *blk = wrow + (size_t)i * bsz;
        prefetch_ahead(blk, bsz);
        __m256i sc16, mn16 = _mm256_setzero_si256();
        float d, dmin = 0;
        if (kind == K16_Q6) {
            const block_q6_K *x = (const void *)blk;
            sc16 = _mm256_cvtepi8_epi16(_mm_loadu_si128((const void *)x->scales));
            d = f16(x->d);
        } else if (kind == K16_Q3) {
            const block_q3_K *x = (const void *)blk;
            sc16 = _mm256_cvtepi8_epi16(q3k_scales(x->scales));
            d = f16(x->d);
        } else {
            const block_q2_K *x = (const void *)blk;
            const __m256i sm = _mm256_cvtepu8_epi16(_mm_loadu_si128((const void *)x->scales));
            sc16 = _mm256_and_si256(sm, _mm256_set1_epi16(0x0f));
            mn16 = _mm256_srli_epi16(sm, 4);
            d = f16(x->d);
            dmin = f16(x->dmin);
        }
        /* the scale words, as a byte table both lanes can shuffle from (pshufb is per lane) */
        const __m256i sctab = _mm256_permute4x64_epi64(sc16, 0x44);
        const __m256i sctab_hi = _mm256_permute4x64_epi64(sc16, 0xee);
        __m256i Q[KQ_MAX_COLS];
        for (int c = 0; c < NC; c++) Q[c] = _mm256_setzero_si256();
        for (int h = 0; h < 2; h++) {
            /* register k: elements 128h + 32k .. +31 */
            __m256i W[4];
            if (kind == K16_Q6) {
                const block_q6_K *x = (const void *)blk;
                const __m256i ql0 = _mm256_loadu_si256((const void *)(x->ql + 64 * h));
                const __m256i ql1 = _mm256_loadu_si256((const void *)(x->ql + 64 * h + 32));
                const __m256i qh = _mm256_loadu_si256((const void *)(x->qh + 32 * h));
                W[0] = _mm256_or_si256(_mm256_and_si256(ql0, m4), _mm256_slli_epi16(_mm256_and_si256(qh, m3), 4));
                W[1] = _mm256_or_si256(_mm256_and_si256(ql1, m4),
                                       _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 2), m3), 4));
                W[2] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(ql0, 4), m4),
                                       _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 4), m3), 4));
                W[3] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(ql1, 4), m4),
                                       _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 6), m3), 4));
            } else {
                /* element 128h + 32k + l: bits 2k..2k+1 of qs[32h + l] (+4 if bit 4h+k of
                 * hmask[l], Q3_K) */
                const uint8_t *qs = kind == K16_Q3 ? ((const block_q3_K *)blk)->qs : ((const block_q2_K *)blk)->qs;
                const __m256i q = _mm256_loadu_si256((const void *)(qs + 32 * h));
                for (int k = 0; k < 4; k++) {
                    W[k] = _mm256_and_si256(_mm256_srli_epi16(q, 2 * k), m3);
                    if (kind == K16_Q3) {
                        const __m256i hm = _mm256_loadu_si256((const void *)((const block_q3_K *)blk)->hmask);
                        const __m256i hb = _mm256_and_si256(_mm256_srli_epi16(hm, 4 * h + k), _mm256_set1_epi8(1));
                        W[k] = _mm256_or_si256(W[k], _mm256_slli_epi16(hb, 2));
                    }
                }
            }
            /* scale words of this half come from scales 8h..8h+7: table bytes 0..15 of a lane
             * hold words 0..7 (h = 0) or 8..15 (h = 1) */
            const __m256i tab = h ? sctab_hi : sctab;
            if (vnni && kind != K16_Q6) {
                for (int m = 0; m < 2; m++) {
                    const __m256i S = _mm256_shuffle_epi8(tab, ctrl_pair[m]);
                    for (int c = 0; c < NC; c++) {
                        const int8_t *y = a[c][i].qs + 128 * h + 64 * m;
                        const __m256i z = _mm256_setzero_si256();
                        const __m256i p0 = _mm256_dpbusd_avx_epi32(z, W[2 * m], _mm256_loadu_si256((const void *)y));
                        const __m256i p1 = _mm256_dpbusd_avx_epi32(z, W[2 * m + 1], _mm256_loadu_si256((const void *)(y + 32)));
                        Q[c] = _mm256_add_epi32(Q[c], _mm256_madd_epi16(_mm256_packs_epi32(p0, p1), S));
                    }
                }
            } else {
                for (int k = 0; k < 4; k++) {
                    const __m256i S = _mm256_shuffle_epi8(tab, ctrl_one[k]);
                    for (int c = 0; c < NC; c++) {
                        const int8_t *y = a[c][i].qs + 128 * h + 32 * k;
                        Q[c] = _mm256_add_epi32(Q[c], opaque(_mm256_madd_epi16(
                            _mm256_maddubs_epi16(W[k], _mm256_loadu_si256((const void *)y)), S)));
                    }
                }
            }
        }
        for (int c = 0; c < NC; c++) {
            const block_q8_K *y = a[c] + i;
            const __m256i bs = _mm256_loadu_si256((const void *)y->bsums);
            if (kind == K16_Q2) {
                const __m256 mt = _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_madd_epi16(mn16, bs)),
                                                _mm256_set1_ps(-dmin));
                const __m256 sum = _mm256_fmadd_ps(_mm256_cvtepi32_ps(Q[c]), _mm256_set1_ps(d), mt);
                acc[c] = _mm256_fmadd_ps(sum, _mm256_set1_ps(y->d), acc[c]);
            } else { /* the code offset (32 or 4) times sum_j sc_j * bsum_j */
                const __m256i bias = _mm256_madd_epi16(sc16, bs);
                const __m256i q = _mm256_sub_epi32(Q[c], _mm256_slli_epi32(bias, kind == K16_Q6 ? 5 : 2));
                acc[c] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(q), _mm256_set1_ps(d * y->d), acc[c]);
            }
        }
    }
    for (int c = 0; c < NC; c++) t->out[(size_t)c * t->out_stride + (size_t)r] = hsum(acc[c]);
}

#define KQ_TILE(name, call)                                     \
    static void name(const mm_tile *t) {                        \
        for (int r = 0; r < t->nr; r++) {                       \
            switch (t->nc) {                                    \
            case 1: call(t, r, 1); break;                       \
            case 2: call(t, r, 2); break;                       \
            case 3: call(t, r, 3); break;                       \
            default: call(t, r, 4); break;                      \
            }                                                   \
        }                                                       \
    }

#define Q5K_V(t, r, n) k4_row(t, r, n, true, true)
#define Q5K_P(t, r, n) k4_row(t, r, n, true, false)
#define Q6K_V(t, r, n) k16_row(t, r, n, K16_Q6, true)
#define Q6K_P(t, r, n) k16_row(t, r, n, K16_Q6, false)
#define Q3K_V(t, r, n) k16_row(t, r, n, K16_Q3, true)
#define Q3K_P(t, r, n) k16_row(t, r, n, K16_Q3, false)
#define Q2K_V(t, r, n) k16_row(t, r, n, K16_Q2, true)
#define Q2K_P(t, r, n) k16_row(t, r, n, K16_Q2, false)
KQ_TILE(tile_q5_K_vnni, Q5K_V)
KQ_TILE(tile_q5_K_plain, Q5K_P)
KQ_TILE(tile_q6_K_vnni, Q6K_V)
KQ_TILE(tile_q6_K_plain, Q6K_P)
KQ_TILE(tile_q3_K_vnni, Q3K_V)
KQ_TILE(tile_q3_K_plain, Q3K_P)
KQ_TILE(tile_q2_K_vnni, Q2K_V)
KQ_TILE(tile_q2_K_plain, Q2K_P)

/* ============================================================ 32-element blocks x Q8_0 === */

enum { L_Q8_0, L_Q4_0, L_Q4_1, L_Q5_0, L_Q5_1, L_MXFP4 };

#define LG_MAX_ROWS 2
#define LG_MAX_COLS 2

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

/* 16 nibbles -> 32 codes: low nibbles (elements 0-15) then high (16-31). */
AI __m256i nibbles(const uint8_t *q) {
    const __m128i v = _mm_loadu_si128((const void *)q);
    const __m256i b = _mm256_set_m128i(_mm_srli_epi16(v, 4), v);
    return _mm256_and_si256(b, _mm256_set1_epi8(0x0f));
}

/* The 5th bits of Q5 blocks, as 16 in byte j where bit j of qh is set. */
AI __m256i q5_high(const uint8_t qh[4]) {
    uint32_t h;
    memcpy(&h, qh, 4);
    /* byte j takes qh byte j/8; then test bit j%8 */
    const __m256i rep = _mm256_shuffle_epi8(_mm256_set1_epi32((int)h),
                                            _mm256_set_epi64x(0x0303030303030303LL, 0x0202020202020202LL,
                                                              0x0101010101010101LL, 0));
    const __m256i bit = _mm256_set1_epi64x(0x8040201008040201LL);
    const __m256i set = _mm256_cmpeq_epi8(_mm256_and_si256(rep, bit), bit);
    return _mm256_and_si256(set, _mm256_set1_epi8(16));
}

/* Weight codes of one block: signed values for the symmetric kinds (Q8_0, Q4_0, Q5_0,
 * MXFP4), unsigned codes 0..31 for Q4_1/Q5_1; plus the scale (and min). */
AI __m256i lg_weights(const uint8_t *p, const int kind, float *d, float *m) {
    switch (kind) {
    case L_Q8_0: {
        const block_q8_0 *x = (const void *)p;
        *d = f16(x->d);
        return _mm256_loadu_si256((const void *)x->qs);
    }
    case L_Q4_0: {
        const block_q4_0 *x = (const void *)p;
        *d = f16(x->d);
        return _mm256_sub_epi8(nibbles(x->qs), _mm256_set1_epi8(8));
    }
    case L_Q4_1: {
        const block_q4_1 *x = (const void *)p;
        *d = f16(x->d);
        *m = f16(x->m);
        return nibbles(x->qs);
    }
    case L_Q5_0: {
        const block_q5_0 *x = (const void *)p;
        *d = f16(x->d);
        return _mm256_sub_epi8(_mm256_or_si256(nibbles(x->qs), q5_high(x->qh)), _mm256_set1_epi8(16));
    }
    case L_Q5_1: {
        const block_q5_1 *x = (const void *)p;
        *d = f16(x->d);
        *m = f16(x->m);
        return _mm256_or_si256(nibbles(x->qs), q5_high(x->qh));
    }
    default: {
        const block_mxfp4 *x = (const void *)p;
        *d = e8m0_half(x->e);
        const __m256i lut = _mm256_broadcastsi128_si256(
            _mm_setr_epi8(0, 1, 2, 3, 4, 6, 8, 12, 0, -1, -2, -3, -4, -6, -8, -12));
        return _mm256_shuffle_epi8(lut, nibbles(x->qs));
    }
    }
}

/* Per output, 8 lanes each summing one 4-byte group of every block, one fused multiply-add
 * per block, then hsum: the order of ggml's Q8_0 dot product, so Q8_0 results are bit for
 * bit llama.cpp's (Q8_0 therefore has no panel kernel, whose sums run per block). */
AI void lg_tile(const mm_tile *t, int r0, const int NR, const int NC, const int kind, const bool vnni) {
    const uint8_t *wr[LG_MAX_ROWS];
    const block_q8_0 *a[LG_MAX_COLS];
    for (int r = 0; r < NR; r++) wr[r] = t->w + (size_t)(r0 + r) * t->w_stride;
    for (int c = 0; c < NC; c++) a[c] = (const block_q8_0 *)t->act[c];
    __m256 acc[LG_MAX_ROWS][LG_MAX_COLS];
    for (int r = 0; r < NR; r++)
        for (int c = 0; c < NC; c++) acc[r][c] = _mm256_setzero_ps();
    const bool has_min = kind == L_Q4_1 || kind == L_Q5_1;
    const int64_t nb = t->n_in / QK8_0;
    const size_t bsz = lg_block_bytes(kind);
    for (int64_t b = 0; b < nb; b++) {
        __m256i A[LG_MAX_COLS];
        __m256 sa[LG_MAX_COLS];
        float da[LG_MAX_COLS];
        for (int c = 0; c < NC; c++) {
            A[c] = _mm256_loadu_si256((const void *)a[c][b].qs);
            da[c] = f16(a[c][b].d);
            if (has_min)
                sa[c] = _mm256_cvtepi32_ps(dot_u8s8(_mm256_setzero_si256(), _mm256_set1_epi8(1), A[c], vnni));
        }
        for (int r = 0; r < NR; r++) {
            const uint8_t *p = wr[r] + (size_t)b * bsz;
            prefetch_ahead(p, bsz);
            float dw, mw = 0;
            const __m256i W = lg_weights(p, kind, &dw, &mw);
            if (has_min) { /* unsigned codes */
                for (int c = 0; c < NC; c++) {
                    const __m256 q = _mm256_cvtepi32_ps(dot_u8s8(_mm256_setzero_si256(), W, A[c], vnni));
                    const __m256 s = _mm256_fmadd_ps(q, _mm256_set1_ps(dw), _mm256_mul_ps(sa[c], _mm256_set1_ps(mw)));
                    acc[r][c] = _mm256_fmadd_ps(s, _mm256_set1_ps(da[c]), acc[r][c]);
                }
            } else { /* signed values: |w| x sign(a, w); |w| <= 128 keeps maddubs exact */
                const __m256i aw = _mm256_abs_epi8(W);
                for (int c = 0; c < NC; c++) {
                    const __m256i sw = _mm256_sign_epi8(A[c], W);
                    __m256i dot;
                    if (vnni) dot = _mm256_dpbusd_avx_epi32(_mm256_setzero_si256(), aw, sw);
                    else dot = _mm256_madd_epi16(_mm256_maddubs_epi16(aw, sw), _mm256_set1_epi16(1));
                    acc[r][c] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(dot), _mm256_set1_ps(dw * da[c]), acc[r][c]);
                }
            }
        }
    }
    for (int r = 0; r < NR; r++)
        for (int c = 0; c < NC; c++)
            t->out[(size_t)c * t->out_stride + (size_t)(r0 + r)] = hsum(acc[r][c]);
}

#define LG_COLS(t, r, NR, kind, vnni)                               \
    switch ((t)->nc) {                                              \
    case 1: lg_tile(t, r, NR, 1, kind, vnni); break;                \
    default: lg_tile(t, r, NR, 2, kind, vnni); break;               \
    }

#define LG_TILE(name, kind, vnni)                                   \
    static void name(const mm_tile *t) {                            \
        int r = 0;                                                  \
        for (; r + 2 <= t->nr; r += 2) LG_COLS(t, r, 2, kind, vnni) \
        if (r < t->nr) LG_COLS(t, r, 1, kind, vnni)                 \
    }

LG_TILE(tile_q8_0_vnni, L_Q8_0, true)
LG_TILE(tile_q4_0_vnni, L_Q4_0, true)
LG_TILE(tile_q4_1_vnni, L_Q4_1, true)
LG_TILE(tile_q5_0_vnni, L_Q5_0, true)
LG_TILE(tile_q5_1_vnni, L_Q5_1, true)
LG_TILE(tile_mxfp4_vnni, L_MXFP4, true)
LG_TILE(tile_q8_0_plain, L_Q8_0, false)
LG_TILE(tile_q4_0_plain, L_Q4_0, false)
LG_TILE(tile_q4_1_plain, L_Q4_1, false)
LG_TILE(tile_q5_0_plain, L_Q5_0, false)
LG_TILE(tile_q5_1_plain, L_Q5_1, false)
LG_TILE(tile_mxfp4_plain, L_MXFP4, false)

/* ============================================== panels for prefill (AVX-VNNI only) ===
 * The scheme of kernels_avx512.c's panels with 8 rows per register: 8 weight rows are
 * repacked into a stack buffer so that a register holds 4 consecutive codes of each row,
 * and VPDPBUSD with 4 broadcast activation bytes leaves row r's partial dot in lane r.
 * Without VNNI the direct kernels (maddubs + madd with the scales) are as good. */

#define PN_ROWS 8
#define PN_SB 8

typedef struct {
    __m256i q[PN_SB][64];     /* codes: [super-block][4-element group], lane r = row r */
    __m256 scale[PN_SB][16];  /* [sub-block][row]: d * sc */
    __m256i pair[PN_SB][8];   /* i16 pairs multiplying the bsum pairs */
    __m256 pair_scale[PN_SB]; /* -dmin, -32 d (Q6_K) or -4 d (Q3_K) */
    __m256i sci[PN_SB][8];    /* Q4_K: the 6-bit scales as i16 pairs (sc, sc) */
    __m256 d[PN_SB], dmin[PN_SB]; /* Q4_K: d and dmin */
} kq_panel;

enum { KP_Q4_K, KP_Q5_K, KP_Q6_K, KP_Q3_K, KP_Q2_K };

AI bool kp_sub16(const int kind) { return kind == KP_Q6_K || kind == KP_Q3_K || kind == KP_Q2_K; }

AI __m256i bcast32(const void *p) {
    int32_t v;
    memcpy(&v, p, 4);
    return _mm256_set1_epi32(v);
}

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

/* Codes of one K-quant super-block as 8 registers of 32 consecutive elements, and its
 * scales: d * sc per sub-block, the i16 values multiplying the bsum pairs, and their scale. */
AI void kp_unpack(const uint8_t *blk, const int kind, __m256i U[8], float scale[16], int16_t pm[16],
                  float *pair_scale) {
    const __m256i m4 = _mm256_set1_epi8(0x0f), m3 = _mm256_set1_epi8(3);
    if (kind == KP_Q4_K || kind == KP_Q5_K) {
        const uint8_t *qs, *scales, *qh = NULL;
        uint16_t dh, dminh;
        if (kind == KP_Q5_K) {
            const block_q5_K *x = (const void *)blk;
            qs = x->qs, scales = x->scales, qh = x->qh, dh = x->d, dminh = x->dmin;
        } else {
            const block_q4_K *x = (const void *)blk;
            qs = x->qs, scales = x->scales, dh = x->d, dminh = x->dmin;
        }
        for (int g = 0; g < 4; g++) {
            const __m256i q = _mm256_loadu_si256((const void *)(qs + 32 * g));
            U[2 * g] = _mm256_and_si256(q, m4);
            U[2 * g + 1] = _mm256_and_si256(_mm256_srli_epi16(q, 4), m4);
            if (qh) {
                const __m256i b = _mm256_srli_epi16(_mm256_loadu_si256((const void *)qh), 2 * g);
                U[2 * g] = _mm256_or_si256(U[2 * g], _mm256_slli_epi16(_mm256_and_si256(b, _mm256_set1_epi8(1)), 4));
                U[2 * g + 1] = _mm256_or_si256(U[2 * g + 1], _mm256_slli_epi16(_mm256_and_si256(b, _mm256_set1_epi8(2)), 3));
            }
        }
        uint64_t sc, mn;
        k4_scale_bytes(scales, &sc, &mn);
        const float d = f16(dh);
        for (int s = 0; s < 8; s++) {
            scale[s] = d * (float)((sc >> (8 * s)) & 0xff);
            pm[2 * s] = pm[2 * s + 1] = (int16_t)((mn >> (8 * s)) & 0xff);
        }
        *pair_scale = -f16(dminh);
        return;
    }
    int16_t sc[16];
    float d, dmin = 0;
    if (kind == KP_Q6_K) {
        const block_q6_K *x = (const void *)blk;
        for (int h = 0; h < 2; h++) {
            const __m256i ql0 = _mm256_loadu_si256((const void *)(x->ql + 64 * h));
            const __m256i ql1 = _mm256_loadu_si256((const void *)(x->ql + 64 * h + 32));
            const __m256i qh = _mm256_loadu_si256((const void *)(x->qh + 32 * h));
            U[4 * h + 0] = _mm256_or_si256(_mm256_and_si256(ql0, m4), _mm256_slli_epi16(_mm256_and_si256(qh, m3), 4));
            U[4 * h + 1] = _mm256_or_si256(_mm256_and_si256(ql1, m4),
                                           _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 2), m3), 4));
            U[4 * h + 2] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(ql0, 4), m4),
                                           _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 4), m3), 4));
            U[4 * h + 3] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(ql1, 4), m4),
                                           _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 6), m3), 4));
        }
        for (int j = 0; j < 16; j++) sc[j] = x->scales[j];
        d = f16(x->d);
        *pair_scale = -32 * d;
    } else {
        const uint8_t *qs = kind == KP_Q3_K ? ((const block_q3_K *)blk)->qs : ((const block_q2_K *)blk)->qs;
        for (int h = 0; h < 2; h++) {
            const __m256i q = _mm256_loadu_si256((const void *)(qs + 32 * h));
            for (int k = 0; k < 4; k++) {
                U[4 * h + k] = _mm256_and_si256(_mm256_srli_epi16(q, 2 * k), m3);
                if (kind == KP_Q3_K) {
                    const __m256i hm = _mm256_loadu_si256((const void *)((const block_q3_K *)blk)->hmask);
                    const __m256i hb = _mm256_and_si256(_mm256_srli_epi16(hm, 4 * h + k), _mm256_set1_epi8(1));
                    U[4 * h + k] = _mm256_or_si256(U[4 * h + k], _mm256_slli_epi16(hb, 2));
                }
            }
        }
        if (kind == KP_Q3_K) {
            const block_q3_K *x = (const void *)blk;
            int8_t b[16];
            _mm_storeu_si128((void *)b, q3k_scales(x->scales));
            for (int j = 0; j < 16; j++) sc[j] = b[j];
            d = f16(x->d);
            *pair_scale = -4 * d;
        } else {
            const block_q2_K *x = (const void *)blk;
            for (int j = 0; j < 16; j++) sc[j] = x->scales[j] & 0xf;
            d = f16(x->d);
            dmin = f16(x->dmin);
            *pair_scale = -dmin;
        }
    }
    for (int j = 0; j < 16; j++) {
        scale[j] = d * sc[j];
        pm[j] = kind == KP_Q2_K ? (int16_t)(((const block_q2_K *)blk)->scales[j] >> 4) : sc[j];
    }
}

AI void kq_pack(kq_panel *P, const uint8_t *w, size_t w_stride, int nr, int64_t sb0, int nsb,
                const int kind) {
    const size_t bsz = kind == KP_Q4_K ? sizeof(block_q4_K) : kind == KP_Q5_K ? sizeof(block_q5_K)
                     : kind == KP_Q6_K ? sizeof(block_q6_K) : kind == KP_Q3_K ? sizeof(block_q3_K)
                     : sizeof(block_q2_K);
    for (int i = 0; i < nsb; i++) {
        __m256i U[8][PN_ROWS];
        float scale[16][PN_ROWS];
        int32_t pair[8][PN_ROWS];
        float pair_scale[PN_ROWS];
        for (int r = 0; r < PN_ROWS; r++) {
            if (r >= nr) {
                for (int g = 0; g < 8; g++) U[g][r] = _mm256_setzero_si256();
                for (int j = 0; j < 16; j++) scale[j][r] = 0;
                for (int j = 0; j < 8; j++) pair[j][r] = 0;
                pair_scale[r] = 0;
                continue;
            }
            __m256i V[8];
            float sc[16] = {0};
            int16_t pm[16];
            kp_unpack(w + (size_t)r * w_stride + (size_t)(sb0 + i) * bsz, kind, V, sc, pm, &pair_scale[r]);
            for (int g = 0; g < 8; g++) U[g][r] = V[g];
            for (int j = 0; j < 16; j++) scale[j][r] = sc[j];
            for (int j = 0; j < 8; j++)
                pair[j][r] = (int32_t)((uint32_t)(uint16_t)pm[2 * j] | (uint32_t)(uint16_t)pm[2 * j + 1] << 16);
        }
        for (int g = 0; g < 8; g++) transpose8_store(U[g], P->q[i] + 8 * g);
        for (int j = 0; j < 16; j++) P->scale[i][j] = _mm256_loadu_ps(scale[j]);
        for (int j = 0; j < 8; j++) P->pair[i][j] = _mm256_loadu_si256((const void *)pair[j]);
        P->pair_scale[i] = _mm256_loadu_ps(pair_scale);
        if (kind == KP_Q4_K) {
            int32_t sci[8][PN_ROWS];
            float d[PN_ROWS], dmin[PN_ROWS];
            for (int r = 0; r < PN_ROWS; r++) {
                uint64_t sc = 0, mn;
                d[r] = dmin[r] = 0;
                if (r < nr) {
                    const block_q4_K *x = (const block_q4_K *)(w + (size_t)r * w_stride) + sb0 + i;
                    k4_scale_bytes(x->scales, &sc, &mn);
                    d[r] = f16(x->d);
                    dmin[r] = f16(x->dmin);
                }
                for (int j = 0; j < 8; j++) sci[j][r] = (int32_t)(((sc >> (8 * j)) & 0xff) * 0x10001u);
            }
            for (int j = 0; j < 8; j++) P->sci[i][j] = _mm256_loadu_si256((const void *)sci[j]);
            P->d[i] = _mm256_loadu_ps(d);
            P->dmin[i] = _mm256_loadu_ps(dmin);
        }
    }
}

AI __m256i row_mask(int nr) {
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(nr), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

AI void kq_tile(const kq_panel *P, const mm_gemm *g, int64_t c0, int64_t sb0, int nsb, int nr,
                float *out, const int NA, const int kind) {
    const block_q8_K *a[2];
    for (int c = 0; c < NA; c++) {
        const int64_t idx = g->rows ? g->rows[c0 + c] : c0 + c;
        a[c] = (const block_q8_K *)(g->act + (size_t)idx * g->act_stride) + sb0;
    }
    __m256 facc[2];
    for (int c = 0; c < NA; c++) facc[c] = _mm256_setzero_ps();
    const int groups = kp_sub16(kind) ? 4 : 8, nsub = 64 / groups;
    for (int i = 0; i < nsb; i++) {
        __m256 fsb[2];
        __m256i accm[2];
        for (int c = 0; c < NA; c++) {
            fsb[c] = _mm256_setzero_ps();
            accm[c] = _mm256_setzero_si256();
        }
        for (int s = 0; s < nsub; s++) {
            __m256i e[2], o[2];
            for (int c = 0; c < NA; c++) e[c] = o[c] = _mm256_setzero_si256();
            for (int k = 0; k < groups; k += 2) {
                const __m256i W0 = P->q[i][groups * s + k], W1 = P->q[i][groups * s + k + 1];
                for (int c = 0; c < NA; c++) {
                    const int8_t *y = a[c][i].qs + 4 * (groups * s + k);
                    e[c] = _mm256_dpbusd_avx_epi32(e[c], W0, bcast32(y));
                    o[c] = _mm256_dpbusd_avx_epi32(o[c], W1, bcast32(y + 4));
                }
            }
            for (int c = 0; c < NA; c++)
                fsb[c] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(_mm256_add_epi32(e[c], o[c])), P->scale[i][s], fsb[c]);
        }
        for (int j = 0; j < 8; j++)
            for (int c = 0; c < NA; c++)
                accm[c] = _mm256_dpwssd_avx_epi32(accm[c], P->pair[i][j], bcast32(a[c][i].bsums + 2 * j));
        for (int c = 0; c < NA; c++) {
            fsb[c] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(accm[c]), P->pair_scale[i], fsb[c]);
            facc[c] = _mm256_fmadd_ps(fsb[c], _mm256_set1_ps(a[c][i].d), facc[c]);
        }
    }
    const __m256i m = row_mask(nr);
    for (int c = 0; c < NA; c++) {
        float *o = out + (size_t)(c0 + c) * g->out_stride;
        if (sb0) facc[c] = _mm256_add_ps(facc[c], _mm256_maskload_ps(o, m));
        _mm256_maskstore_ps(o, m, facc[c]);
    }
}

AI void kq_gemm(const mm_gemm *g, const int kind) {
    kq_panel P __attribute__((aligned(32)));
    const int64_t nb = g->n_in / QK_K;
    for (int64_t r0 = 0; r0 < g->nr; r0 += PN_ROWS) {
        const int nr = (int)(g->nr - r0 < PN_ROWS ? g->nr - r0 : PN_ROWS);
        float *out = g->out + r0;
        for (int64_t sb0 = 0; sb0 < nb; sb0 += PN_SB) {
            const int nsb = (int)(nb - sb0 < PN_SB ? nb - sb0 : PN_SB);
            kq_pack(&P, g->w + (size_t)r0 * g->w_stride, g->w_stride, nr, sb0, nsb, kind);
            int64_t c = 0;
            for (; c + 2 <= g->n; c += 2) kq_tile(&P, g, c, sb0, nsb, nr, out, 2, kind);
            if (c < g->n) kq_tile(&P, g, c, sb0, nsb, nr, out, 1, kind);
        }
    }
}

/* ---- Q4_K panels in llama.cpp's repacked orders (see k4o_row) ----
 * Each output keeps two float accumulators (codes, mins) from the first super-block to the
 * last, so they live in `acc` across the K chunks; the loop order is activation chunk,
 * panel, K chunk. Sub-block sums are integers (VPDPBUSD), scaled as integers, and rounded
 * once per 64 elements (GEMM4) or per super-block (GEMV), as kquant_panels_avx512.c. */

#define K4O_ACTS 128 /* activation rows per pass */
#define K4O_NA 2     /* activation rows computed together */

AI void k4o_compute(const kq_panel *P, int nsb, const block_q8_K *const *a, const int NA, const bool gemm4,
                    __m256 *acci, __m256 *accm) {
    for (int i = 0; i < nsb; i++) {
        __m256i isum[K4O_NA], msum[K4O_NA];
        for (int c = 0; c < NA; c++) isum[c] = msum[c] = _mm256_setzero_si256();
        for (int s = 0; s < 8; s++) {
            __m256i e[K4O_NA], o[K4O_NA];
            for (int c = 0; c < NA; c++) e[c] = o[c] = _mm256_setzero_si256();
            for (int k = 0; k < 8; k += 2) {
                const __m256i W0 = P->q[i][8 * s + k], W1 = P->q[i][8 * s + k + 1];
                for (int c = 0; c < NA; c++) {
                    const int8_t *y = a[c][i].qs + 4 * (8 * s + k);
                    e[c] = _mm256_dpbusd_avx_epi32(e[c], W0, bcast32(y));
                    o[c] = _mm256_dpbusd_avx_epi32(o[c], W1, bcast32(y + 4));
                }
            }
            for (int c = 0; c < NA; c++) {
                /* e and o (16 codes <= 15 each) fit in i16: one dpwssd scales both */
                const __m256i eo = _mm256_blend_epi16(e[c], _mm256_slli_epi32(o[c], 16), 0xaa);
                isum[c] = _mm256_dpwssd_avx_epi32(isum[c], eo, P->sci[i][s]);
                msum[c] = _mm256_dpwssd_avx_epi32(msum[c], P->pair[i][s], bcast32(a[c][i].bsums + 2 * s));
            }
            if (gemm4 ? s % 2 == 1 : s == 7) /* the end of a 64-element group / of the super-block */
                for (int c = 0; c < NA; c++) {
                    const __m256 yd = _mm256_set1_ps(a[c][i].d);
                    acci[c] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(isum[c]), _mm256_mul_ps(P->d[i], yd), acci[c]);
                    accm[c] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(msum[c]), _mm256_mul_ps(P->dmin[i], yd), accm[c]);
                    isum[c] = msum[c] = _mm256_setzero_si256();
                }
        }
    }
}

AI void k4o_part(const kq_panel *P, const mm_gemm *g, int64_t a0, int64_t c0, int64_t sb0, int nsb,
                 __m256 (*acc)[2], const int NA) {
    const block_q8_K *a[K4O_NA];
    __m256 ai[K4O_NA], am[K4O_NA];
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
                 int nsb, __m256 (*acc)[2]) {
    for (; c + K4O_NA <= end; c += K4O_NA) k4o_part(P, g, a0, c, sb0, nsb, acc, K4O_NA);
    if (c < end) k4o_part(P, g, a0, c, sb0, nsb, acc, 1);
}

static void gemm_q4_K(const mm_gemm *g) {
    if (g->order == MM_ORDER_VEC) { /* a matrix ggml does not repack: the direct tiles */
        const uint8_t *rows[KQ_MAX_COLS];
        mm_tile t = {.n_in = g->n_in, .w = g->w, .w_stride = g->w_stride, .act = rows,
                     .out_stride = g->out_stride, .nr = (int)g->nr, .order = MM_ORDER_VEC};
        for (int64_t c = 0; c < g->n; c += KQ_MAX_COLS) {
            const int nc = (int)(g->n - c < KQ_MAX_COLS ? g->n - c : KQ_MAX_COLS);
            for (int k = 0; k < nc; k++)
                rows[k] = g->act + (size_t)(g->rows ? g->rows[c + k] : c + k) * g->act_stride;
            t.nc = nc;
            t.out = g->out + (size_t)c * g->out_stride;
            tile_q4_K_vnni(&t); /* VEC: the same code with or without VNNI */
        }
        return;
    }
    kq_panel P __attribute__((aligned(32)));
    __m256 acc[K4O_ACTS][2];
    const int64_t nb = g->n_in / QK_K;
    for (int64_t a0 = 0; a0 < g->n; a0 += K4O_ACTS) {
        const int na = (int)(g->n - a0 < K4O_ACTS ? g->n - a0 : K4O_ACTS);
        int64_t split = g->n_grouped - a0; /* rows before it: GEMM4 order */
        split = split < 0 ? 0 : split > na ? na : split;
        for (int64_t r0 = 0; r0 < g->nr; r0 += PN_ROWS) {
            const int nr = (int)(g->nr - r0 < PN_ROWS ? g->nr - r0 : PN_ROWS);
            for (int c = 0; c < na; c++) acc[c][0] = acc[c][1] = _mm256_setzero_ps();
            for (int64_t sb0 = 0; sb0 < nb; sb0 += PN_SB) {
                const int nsb = (int)(nb - sb0 < PN_SB ? nb - sb0 : PN_SB);
                kq_pack(&P, g->w + (size_t)r0 * g->w_stride, g->w_stride, nr, sb0, nsb, KP_Q4_K);
                k4o_span(&P, g, a0, 0, split, sb0, nsb, acc);
                k4o_span(&P, g, a0, split, na, sb0, nsb, acc);
            }
            const __m256i m = row_mask(nr);
            for (int c = 0; c < na; c++)
                _mm256_maskstore_ps(g->out + (size_t)(a0 + c) * g->out_stride + r0, m,
                                    _mm256_sub_ps(acc[c][0], acc[c][1]));
        }
    }
}

static void gemm_q5_K(const mm_gemm *g) { kq_gemm(g, KP_Q5_K); }
static void gemm_q3_K(const mm_gemm *g) { kq_gemm(g, KP_Q3_K); }
static void gemm_q2_K(const mm_gemm *g) { kq_gemm(g, KP_Q2_K); }

/* ---- 32-element block types: unsigned codes, activation block sums per K chunk ---- */

#define LP_BLOCKS 16
#define LP_MAX_ACTS 256

typedef struct {
    __m256i q[LP_BLOCKS * 8]; /* [block][4-element group], lane r = row r */
    __m256 d[LP_BLOCKS];
    __m256 m[LP_BLOCKS];
} lg_panel;

typedef struct {
    float d[LP_MAX_ACTS][LP_BLOCKS];
    int32_t base[LP_MAX_ACTS][LP_BLOCKS]; /* -offset * sum(a) */
    float sd[LP_MAX_ACTS][LP_BLOCKS];     /* sum(a) * d */
} lg_actsums;

AI int lg_offset(const int kind) {
    switch (kind) {
    case L_Q8_0: return 128;
    case L_Q4_0: return 8;
    case L_Q5_0: return 16;
    case L_MXFP4: return 12;
    default: return 0;
    }
}

/* Unsigned codes of one block (signed values + offset), and its scale and min. */
AI __m256i lg_ucodes(const uint8_t *p, const int kind, float *d, float *m) {
    float dummy;
    switch (kind) {
    case L_Q8_0: return _mm256_xor_si256(lg_weights(p, kind, d, &dummy), _mm256_set1_epi8((char)0x80));
    case L_Q4_0: *d = f16(((const block_q4_0 *)p)->d); return nibbles(((const block_q4_0 *)p)->qs);
    case L_Q5_0: {
        const block_q5_0 *x = (const void *)p;
        *d = f16(x->d);
        return _mm256_or_si256(nibbles(x->qs), q5_high(x->qh));
    }
    case L_MXFP4: {
        const block_mxfp4 *x = (const void *)p;
        *d = e8m0_half(x->e);
        const __m256i lut = _mm256_broadcastsi128_si256(
            _mm_setr_epi8(12, 13, 14, 15, 16, 18, 20, 24, 12, 11, 10, 9, 8, 6, 4, 0));
        return _mm256_shuffle_epi8(lut, nibbles(x->qs));
    }
    default: return lg_weights(p, kind, d, m); /* Q4_1, Q5_1: already unsigned */
    }
}

AI void lg_pack(lg_panel *P, const uint8_t *w, size_t w_stride, int nr, int64_t b0, int nblk,
                const int kind) {
    __m256i U[LP_BLOCKS][PN_ROWS];
    float d[LP_BLOCKS][PN_ROWS], m[LP_BLOCKS][PN_ROWS];
    const size_t bsz = lg_block_bytes(kind);
    for (int r = 0; r < PN_ROWS; r++)
        for (int b = 0; b < nblk; b++) {
            d[b][r] = m[b][r] = 0;
            U[b][r] = r < nr ? lg_ucodes(w + (size_t)r * w_stride + (size_t)(b0 + b) * bsz, kind, &d[b][r], &m[b][r])
                             : _mm256_setzero_si256();
        }
    for (int b = 0; b < nblk; b++) {
        transpose8_store(U[b], P->q + 8 * b);
        P->d[b] = _mm256_loadu_ps(d[b]);
        P->m[b] = _mm256_loadu_ps(m[b]);
    }
}

AI void lg_sums(lg_actsums *S, const mm_gemm *g, int64_t a0, int na, int64_t b0, int nblk, const int kind) {
    const int off = lg_offset(kind);
    for (int c = 0; c < na; c++) {
        const int64_t idx = g->rows ? g->rows[a0 + c] : a0 + c;
        const block_q8_0 *y = (const block_q8_0 *)(g->act + (size_t)idx * g->act_stride) + b0;
        for (int b = 0; b < nblk; b++) {
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
    const block_q8_0 *y[2];
    for (int c = 0; c < NA; c++) {
        const int64_t idx = g->rows ? g->rows[a0 + c0 + c] : a0 + c0 + c;
        y[c] = (const block_q8_0 *)(g->act + (size_t)idx * g->act_stride) + b0;
    }
    const bool has_min = kind == L_Q4_1 || kind == L_Q5_1;
    __m256 facc[2];
    for (int c = 0; c < NA; c++) facc[c] = _mm256_setzero_ps();
    for (int b = 0; b < nblk; b++) {
        __m256i e[2], o[2];
        for (int c = 0; c < NA; c++) {
            e[c] = _mm256_set1_epi32(S->base[c0 + c][b]);
            o[c] = _mm256_setzero_si256();
        }
        for (int k = 0; k < 8; k += 2) {
            const __m256i W0 = P->q[8 * b + k], W1 = P->q[8 * b + k + 1];
            for (int c = 0; c < NA; c++) {
                e[c] = _mm256_dpbusd_avx_epi32(e[c], W0, bcast32(y[c][b].qs + 4 * k));
                o[c] = _mm256_dpbusd_avx_epi32(o[c], W1, bcast32(y[c][b].qs + 4 * k + 4));
            }
        }
        for (int c = 0; c < NA; c++) {
            const __m256 dd = _mm256_mul_ps(P->d[b], _mm256_set1_ps(S->d[c0 + c][b]));
            facc[c] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(_mm256_add_epi32(e[c], o[c])), dd, facc[c]);
            if (has_min) facc[c] = _mm256_fmadd_ps(P->m[b], _mm256_set1_ps(S->sd[c0 + c][b]), facc[c]);
        }
    }
    const __m256i m = row_mask(nr);
    for (int c = 0; c < NA; c++) {
        float *o = out + (size_t)(a0 + c0 + c) * g->out_stride;
        if (b0) facc[c] = _mm256_add_ps(facc[c], _mm256_maskload_ps(o, m));
        _mm256_maskstore_ps(o, m, facc[c]);
    }
}

AI void lg_gemm(const mm_gemm *g, const int kind) {
    lg_panel P __attribute__((aligned(32)));
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
                for (; c + 2 <= na; c += 2) lg_compute(&P, &S, g, a0, c, b0, nblk, nr, out, 2, kind);
                if (c < na) lg_compute(&P, &S, g, a0, c, b0, nblk, nr, out, 1, kind);
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
#define FL_MAX_COLS 2

AI __m256 fl_load8(const uint8_t *row, int64_t i, const int kind) {
    switch (kind) {
    case F_F32: return _mm256_loadu_ps((const float *)row + i);
    case F_F16: return _mm256_cvtph_ps(_mm_loadu_si128((const void *)((const uint16_t *)row + i)));
    default:
        return _mm256_castsi256_ps(_mm256_slli_epi32(
            _mm256_cvtepu16_epi32(_mm_loadu_si128((const void *)((const uint16_t *)row + i))), 16));
    }
}

AI float fl_elem(const uint8_t *row, int64_t i, const int kind) {
    uint16_t h;
    switch (kind) {
    case F_F32: return ((const float *)row)[i];
    case F_F16: memcpy(&h, row + 2 * i, 2); return f16(h);
    default: {
        memcpy(&h, row + 2 * i, 2);
        const uint32_t u = (uint32_t)h << 16;
        float f;
        memcpy(&f, &u, 4);
        return f;
    }
    }
}

/* 8 lanes, lane k the fused multiply-adds of elements k, k+8, ..., then hsum (ggml's tree):
 * for F32 and n_in a multiple of 8 that is llamafile's tinyBLAS<8, __m256> (ggml-cpu's AVX2
 * build), so MM_ORDER_SGEMM products are llama.cpp's bits without a separate path. */
AI void fl_tile(const mm_tile *t, int r0, const int NR, const int NC, const int kind) {
    const uint8_t *wr[FL_MAX_ROWS];
    const float *a[FL_MAX_COLS];
    for (int r = 0; r < NR; r++) wr[r] = t->w + (size_t)(r0 + r) * t->w_stride;
    for (int c = 0; c < NC; c++) a[c] = (const float *)t->act[c];
    __m256 acc[FL_MAX_ROWS][FL_MAX_COLS];
    for (int r = 0; r < NR; r++)
        for (int c = 0; c < NC; c++) acc[r][c] = _mm256_setzero_ps();
    const int64_t n = t->n_in;
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256 A[FL_MAX_COLS];
        for (int c = 0; c < NC; c++) A[c] = _mm256_loadu_ps(a[c] + i);
        for (int r = 0; r < NR; r++) {
            if (kind == F_F32 || (i & 31) == 0)
                _mm_prefetch((const char *)wr[r] + i * (kind == F_F32 ? 4 : 2) + PREFETCH_BYTES,
                             _MM_HINT_T0);
            const __m256 W = fl_load8(wr[r], i, kind);
            for (int c = 0; c < NC; c++) acc[r][c] = _mm256_fmadd_ps(W, A[c], acc[r][c]);
        }
    }
    for (int r = 0; r < NR; r++)
        for (int c = 0; c < NC; c++) {
            float s = hsum(acc[r][c]);
            for (int64_t k = i; k < n; k++) s += fl_elem(wr[r], k, kind) * a[c][k];
            t->out[(size_t)c * t->out_stride + (size_t)(r0 + r)] = s;
        }
}

#define FL_COLS(t, r, NR, kind)                         \
    switch ((t)->nc) {                                  \
    case 1: fl_tile(t, r, NR, 1, kind); break;          \
    default: fl_tile(t, r, NR, 2, kind); break;         \
    }

#define FL_TILE(name, kind)                                     \
    static void name(const mm_tile *t) {                        \
        int r = 0;                                              \
        for (; r + 4 <= t->nr; r += 4) FL_COLS(t, r, 4, kind)   \
        for (; r < t->nr; r++) FL_COLS(t, r, 1, kind)           \
    }

FL_TILE(tile_f32_sgemm, F_F32)

/* One F32 product in ggml_vec_dot_f32's order in ggml's AVX2 build (one activation row, or a
 * shape tinyBLAS does not take): 4 x 8 lanes over steps of 32, the registers added
 * pairwise, the halves added, two horizontal adds, then the last n % 32 elements. */
static float dot_f32_vec(const float *w, const float *a, int64_t n) {
    __m256 s[4] = {_mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps()};
    const int64_t np = n / 32 * 32;
    for (int64_t i = 0; i < np; i += 32)
        for (int j = 0; j < 4; j++)
            s[j] = _mm256_fmadd_ps(_mm256_loadu_ps(w + i + 8 * j), _mm256_loadu_ps(a + i + 8 * j), s[j]);
    s[0] = _mm256_add_ps(s[0], s[2]);
    s[1] = _mm256_add_ps(s[1], s[3]);
    s[0] = _mm256_add_ps(s[0], s[1]);
    const __m128 t0 = _mm_add_ps(_mm256_castps256_ps128(s[0]), _mm256_extractf128_ps(s[0], 1));
    const __m128 t1 = _mm_hadd_ps(t0, t0);
    float sum = _mm_cvtss_f32(_mm_hadd_ps(t1, t1));
    for (int64_t i = np; i < n; i++) sum += w[i] * a[i];
    return sum;
}

static void tile_f32(const mm_tile *t) {
    if (t->order == MM_ORDER_SGEMM && t->n_in % 8 == 0) {
        tile_f32_sgemm(t);
        return;
    }
    for (int c = 0; c < t->nc; c++)
        for (int r = 0; r < t->nr; r++)
            t->out[(size_t)c * t->out_stride + (size_t)r] =
                dot_f32_vec((const float *)(t->w + (size_t)r * t->w_stride), (const float *)t->act[c], t->n_in);
}
FL_TILE(tile_f16, F_F16)
FL_TILE(tile_bf16, F_BF16)

/* ================================================================ activation quantizers === */

AI float hmax(__m256 v) {
    __m128 m = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    m = _mm_max_ps(m, _mm_movehl_ps(m, m));
    m = _mm_max_ss(m, _mm_movehdup_ps(m));
    return _mm_cvtss_f32(m);
}

AI __m256 abs_ps(__m256 v) { return _mm256_andnot_ps(_mm256_set1_ps(-0.0f), v); }

/* Four vectors of 8 int32 (each within int8 range) -> 32 bytes in order. */
AI __m256i pack_i32x32(__m256i a, __m256i b, __m256i c, __m256i d) {
    const __m256i ab = _mm256_packs_epi32(a, b), cd = _mm256_packs_epi32(c, d);
    const __m256i x = _mm256_packs_epi16(ab, cd);
    return _mm256_permutevar8x32_epi32(x, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
}

/* Same bytes as tensor_quantize_row_q8_0_act (finite inputs). */
static void quant_q8_0(const float *x, void *vy, int64_t n) {
    block_q8_0 *y = vy;
    for (int64_t i = 0; i < n / QK8_0; i++, x += QK8_0) {
        __m256 v[4];
        for (int k = 0; k < 4; k++) v[k] = _mm256_loadu_ps(x + 8 * k);
        const float amax = hmax(_mm256_max_ps(_mm256_max_ps(abs_ps(v[0]), abs_ps(v[1])),
                                              _mm256_max_ps(abs_ps(v[2]), abs_ps(v[3]))));
        const float d = amax / 127.f;
        const float id = amax != 0.0f ? 127.f / amax : 0.0f;
        y[i].d = _cvtss_sh(d, _MM_FROUND_TO_NEAREST_INT);
        const __m256 ids = _mm256_set1_ps(id);
        __m256i q[4]; /* cvtps rounds half to even, as ggml's x86 quantizer */
        for (int k = 0; k < 4; k++) q[k] = _mm256_cvtps_epi32(_mm256_mul_ps(v[k], ids));
        _mm256_storeu_si256((void *)y[i].qs, pack_i32x32(q[0], q[1], q[2], q[3]));
    }
}

static void quant_q8_K(const float *x, void *vy, int64_t n) {
    block_q8_K *y = vy;
    for (int64_t i = 0; i < n / QK_K; i++, x += QK_K) {
        __m256 m = _mm256_setzero_ps();
        for (int k = 0; k < 32; k++) m = _mm256_max_ps(m, abs_ps(_mm256_loadu_ps(x + 8 * k)));
        const float amax = hmax(m);
        if (!amax) {
            memset(&y[i], 0, sizeof y[i]);
            continue;
        }
        const __m256 am = _mm256_set1_ps(amax);
        float max = amax;
        for (int k = 0; k < 32; k++) {
            const int hit = _mm256_movemask_ps(_mm256_cmp_ps(abs_ps(_mm256_loadu_ps(x + 8 * k)), am, _CMP_EQ_OQ));
            if (hit) {
                max = x[8 * k + __builtin_ctz((unsigned)hit)];
                break;
            }
        }
        const float iscale = -127.f / max;
        const __m256 is = _mm256_set1_ps(iscale);
        const __m256i lim = _mm256_set1_epi32(127);
        for (int k = 0; k < 8; k++) {
            __m256i q[4];
            for (int j = 0; j < 4; j++)
                q[j] = _mm256_min_epi32(_mm256_cvtps_epi32(_mm256_mul_ps(is, _mm256_loadu_ps(x + 32 * k + 8 * j))), lim);
            _mm256_storeu_si256((void *)(y[i].qs + 32 * k), pack_i32x32(q[0], q[1], q[2], q[3]));
        }
        /* sums of 16: quads per register (maddubs+madd), then two rounds of hadd */
        const __m256i ones8 = _mm256_set1_epi8(1), ones16 = _mm256_set1_epi16(1);
        __m256i s[8];
        for (int k = 0; k < 8; k++)
            s[k] = _mm256_madd_epi16(_mm256_maddubs_epi16(ones8, _mm256_loadu_si256((const void *)(y[i].qs + 32 * k))), ones16);
        /* s[k] lanes: quads of group 2k (lane 0) and 2k+1 (lane 1) */
        const __m256i h0 = _mm256_hadd_epi32(_mm256_hadd_epi32(s[0], s[1]), _mm256_hadd_epi32(s[2], s[3]));
        const __m256i h1 = _mm256_hadd_epi32(_mm256_hadd_epi32(s[4], s[5]), _mm256_hadd_epi32(s[6], s[7]));
        /* h0: lane 0 = g0 g2 g4 g6, lane 1 = g1 g3 g5 g7; h1 the same for g8..g15 */
        const __m256i p = _mm256_packs_epi32(h0, h1); /* lane 0: g0 g2 .. g14, lane 1: g1 g3 .. g15 */
        const __m128i lo = _mm256_castsi256_si128(p), hi = _mm256_extracti128_si256(p, 1);
        _mm_storeu_si128((void *)y[i].bsums, _mm_unpacklo_epi16(lo, hi));
        _mm_storeu_si128((void *)(y[i].bsums + 8), _mm_unpackhi_epi16(lo, hi));
        y[i].d = 1 / iscale;
    }
}

/* From this many activation rows on, the panel kernels take over (compile with larger
 * values to benchmark the direct kernels alone). */
#ifndef GEMM_MIN_N_KQ
#define GEMM_MIN_N_KQ 12
#endif
#ifndef GEMM_MIN_N_LG
#define GEMM_MIN_N_LG 6
#endif

void mm_kernels_avx2(mm_kernel_set *ks, const fn_cpu_features *f) {
    const bool vnni = f->avx_vnni;
    const char *level = vnni ? "avx2-vnni" : "avx2";
#define K(type, fn, mr, mc) \
    ks->gemm[type] = (mm_kernel){.tile = fn, .max_rows = mr, .max_cols = mc, .name = level}
    K(FN_Q4_K, vnni ? tile_q4_K_vnni : tile_q4_K_plain, 4, KQ_MAX_COLS);
    K(FN_Q5_K, vnni ? tile_q5_K_vnni : tile_q5_K_plain, 4, KQ_MAX_COLS);
    K(FN_Q6_K, vnni ? tile_q6_K_vnni : tile_q6_K_plain, 4, KQ_MAX_COLS);
    K(FN_Q3_K, vnni ? tile_q3_K_vnni : tile_q3_K_plain, 4, KQ_MAX_COLS);
    K(FN_Q2_K, vnni ? tile_q2_K_vnni : tile_q2_K_plain, 4, KQ_MAX_COLS);
    K(FN_Q8_0, vnni ? tile_q8_0_vnni : tile_q8_0_plain, 2 * LG_MAX_ROWS, LG_MAX_COLS);
    K(FN_Q4_0, vnni ? tile_q4_0_vnni : tile_q4_0_plain, 2 * LG_MAX_ROWS, LG_MAX_COLS);
    K(FN_Q4_1, vnni ? tile_q4_1_vnni : tile_q4_1_plain, 2 * LG_MAX_ROWS, LG_MAX_COLS);
    K(FN_Q5_0, vnni ? tile_q5_0_vnni : tile_q5_0_plain, 2 * LG_MAX_ROWS, LG_MAX_COLS);
    K(FN_Q5_1, vnni ? tile_q5_1_vnni : tile_q5_1_plain, 2 * LG_MAX_ROWS, LG_MAX_COLS);
    K(FN_MXFP4, vnni ? tile_mxfp4_vnni : tile_mxfp4_plain, 2 * LG_MAX_ROWS, LG_MAX_COLS);
    K(FN_F32, tile_f32, 2 * FL_MAX_ROWS, FL_MAX_COLS);
    K(FN_F16, tile_f16, 2 * FL_MAX_ROWS, FL_MAX_COLS);
    K(FN_BF16, tile_bf16, 2 * FL_MAX_ROWS, FL_MAX_COLS);
#undef K
    if (vnni) {
        static const struct { uint32_t type; mm_gemm_fn fn; int64_t min_n; } panels[] = {
            /* no Q6_K panel: its direct tiles follow ggml's 8-lane order */
            {FN_Q4_K, gemm_q4_K, GEMM_MIN_N_KQ}, {FN_Q5_K, gemm_q5_K, GEMM_MIN_N_KQ},
            {FN_Q3_K, gemm_q3_K, GEMM_MIN_N_KQ},
            {FN_Q2_K, gemm_q2_K, GEMM_MIN_N_KQ},
            {FN_Q4_0, gemm_q4_0, GEMM_MIN_N_LG}, {FN_Q4_1, gemm_q4_1, GEMM_MIN_N_LG},
            {FN_Q5_0, gemm_q5_0, GEMM_MIN_N_LG}, {FN_Q5_1, gemm_q5_1, GEMM_MIN_N_LG},
            {FN_MXFP4, gemm_mxfp4, GEMM_MIN_N_LG},
        };
        for (size_t i = 0; i < sizeof panels / sizeof panels[0]; i++) {
            ks->gemm[panels[i].type].gemm = panels[i].fn;
            ks->gemm[panels[i].type].gemm_min_n = panels[i].min_n;
        }
    }
    ks->quant[FN_Q8_0] = quant_q8_0;
    ks->quant[FN_Q8_K] = quant_q8_K;
}
