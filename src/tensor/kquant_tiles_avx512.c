/* kquant_tiles_avx512.c - AVX-512 direct tiles for K-quant weights (Q2_K..Q6_K) x Q8_K
 * activations: one weight row at a time against up to 8 activation rows, the row's codes and
 * scales unpacked once per super-block and reused for every activation row. Q4_K and Q6_K
 * follow llama.cpp's summation orders (bit-for-bit results); VPDPBUSD with VNNI, else
 * VPMADDUBSW + VPMADDWD. */
#include "tensor/kernels_avx512.h"


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

/* Sixteen dword lanes whose total is sum_s scale_s * (codes . activations of sub-block s)
 * for one super-block (W from the codes, S the scale words of k4_ctrl_vnni/plain): exact
 * integers, grouped as packs+madd (VNNI) or maddubs+madd leave them. */
AI __m512i k4_scaled_sums(const __m512i W[4], const __m512i S[4], const block_q8_K *y, const bool vnni) {
    if (vnni) {
        const __m512i z = _mm512_setzero_si512();
        const __m512i P0 = _mm512_dpbusd_epi32(z, W[0], _mm512_loadu_si512(y->qs));
        const __m512i P1 = _mm512_dpbusd_epi32(z, W[1], _mm512_loadu_si512(y->qs + 64));
        const __m512i P2 = _mm512_dpbusd_epi32(z, W[2], _mm512_loadu_si512(y->qs + 128));
        const __m512i P3 = _mm512_dpbusd_epi32(z, W[3], _mm512_loadu_si512(y->qs + 192));
        return _mm512_add_epi32(_mm512_madd_epi16(_mm512_packs_epi32(P0, P1), S[0]),
                                _mm512_madd_epi16(_mm512_packs_epi32(P2, P3), S[1]));
    }
    __m512i q[4];
    for (int g = 0; g < 4; g++)
        q[g] = opaque(_mm512_madd_epi16(_mm512_maddubs_epi16(W[g], _mm512_loadu_si512(y->qs + 64 * g)), S[g]));
    return _mm512_add_epi32(_mm512_add_epi32(q[0], q[1]), _mm512_add_epi32(q[2], q[3]));
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
            const __m512i Q = k4_scaled_sums(W, S, y, vnni);
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
                const __m512i q = k4_scaled_sums(W, S, y, vnni);
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

void mm_avx512_tile_q4_K_vnni(const mm_tile *t) { tile_q4_K_vnni(t); }

void mm_avx512_kquant_tiles(mm_kernel_set *ks, const char *level, bool vnni) {
#define K(type, fn) \
    ks->gemm[type] = (mm_kernel){.tile = fn, .max_rows = 4, .max_cols = KQ_MAX_COLS, .name = level}
    K(FN_Q4_K, vnni ? tile_q4_K_vnni : tile_q4_K_plain);
    K(FN_Q5_K, vnni ? tile_q5_K_vnni : tile_q5_K_plain);
    K(FN_Q6_K, vnni ? tile_q6_K_vnni : tile_q6_K_plain);
    K(FN_Q3_K, vnni ? tile_q3_K_vnni : tile_q3_K_plain);
    K(FN_Q2_K, vnni ? tile_q2_K_vnni : tile_q2_K_plain);
#undef K
}
