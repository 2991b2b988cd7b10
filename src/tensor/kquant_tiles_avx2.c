/* kquant_tiles_avx2.c - AVX2 direct tiles for K-quant weights (Q2_K..Q6_K) x Q8_K
 * activations, one weight row against up to 4 activation rows. Q4_K and Q6_K follow the
 * summation orders of ggml's AVX2 build (bit-for-bit results); VPDPBUSD with AVX-VNNI where
 * only totals matter, else VPMADDUBSW + VPMADDWD. */
#include "tensor/kernels_avx2.h"

/* ===================================================================== K-quants x Q8_K === */

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

void mm_avx2_tile_q4_K_vnni(const mm_tile *t) { tile_q4_K_vnni(t); }

void mm_avx2_kquant_tiles(mm_kernel_set *ks, const char *level, bool vnni) {
#define K(type, fn) \
    ks->gemm[type] = (mm_kernel){.tile = fn, .max_rows = 4, .max_cols = KQ_MAX_COLS, .name = level}
    K(FN_Q4_K, vnni ? tile_q4_K_vnni : tile_q4_K_plain);
    K(FN_Q5_K, vnni ? tile_q5_K_vnni : tile_q5_K_plain);
    K(FN_Q6_K, vnni ? tile_q6_K_vnni : tile_q6_K_plain);
    K(FN_Q3_K, vnni ? tile_q3_K_vnni : tile_q3_K_plain);
    K(FN_Q2_K, vnni ? tile_q2_K_vnni : tile_q2_K_plain);
#undef K
}
