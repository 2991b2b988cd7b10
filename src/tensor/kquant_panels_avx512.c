/* kquant_panels_avx512.c - AVX-512 VNNI panel kernels for K-quant weights (prefill: many
 * activation rows per weight row). */
#include "tensor/kernels_avx512.h"

/* ======================================================= K-quant panels (prefill, VNNI) ===
 *
 * For many activation rows, 16 weight rows are first repacked into a stack buffer (a
 * "panel") so that one 512-bit register holds 4 consecutive codes of each of the 16 rows.
 * VPDPBUSD of that register with 4 activation bytes broadcast then leaves, in lane r, row r's
 * partial dot product: the lanes are rows, so per-row scales apply lane-wise, with no
 * horizontal reductions and no scale shuffles in the inner loop. The repack costs about as
 * much as ~5 activation rows of arithmetic and is amortized over all of them. */

#define PN_SB 8 /* super-blocks per K chunk: a chunk of panel (~45 KB) stays near L1 */

typedef struct {
    __m512i q[PN_SB][64];      /* codes: [super-block][4-element group], lane r = row r */
    __m512 scale[PN_SB][16];   /* [sub-block][row]: d * sc (8 sub-blocks of 32 for Q4_K/Q5_K,
                                * 16 of 16 for Q3_K/Q2_K) */
    __m512i pair[PN_SB][8];    /* i16 pairs multiplying the bsum pairs: (m, m) per sub-block
                                * of 32 for Q4_K/Q5_K, (sc_2j, sc_2j+1) for Q3_K, (m_2j, m_2j+1) for Q2_K */
    __m512 pair_scale[PN_SB];  /* -dmin (Q4_K/Q5_K/Q2_K) or -4 * d (Q3_K) */
    __m512i sci[PN_SB][8];     /* Q4_K/Q5_K: the 6-bit scales as integers */
    __m512 d[PN_SB], dmin[PN_SB]; /* Q4_K/Q5_K: d and dmin */
} kq_panel;

/* (Q6_K has no panel: its products follow ggml's 8-lane order, see kquant_tiles_avx512.c) */
enum { KP_Q4_K, KP_Q5_K, KP_Q3_K, KP_Q2_K };

/* Panel kinds with 16-element sub-blocks (Q3_K, Q2_K). */
AI bool kp_sub16(const int kind) { return kind == KP_Q3_K || kind == KP_Q2_K; }

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
    if (kind == KP_Q3_K) { /* scales[12] at 96, d at 108: unpack as q3k_scales */
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
        if (kind == KP_Q3_K) {
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
 * are gathered too: 4 consecutive codes of each row come from one dword of
 * each row's block, so a gather of that dword across the rows is directly a panel register. */
AI void kq_pack(kq_panel *P, const uint8_t *w, size_t w_stride, int nr, int64_t sb0, int nsb,
                const int kind) {
    const size_t bsz = kind == KP_Q4_K ? sizeof(block_q4_K) : kind == KP_Q5_K ? sizeof(block_q5_K)
                     : kind == KP_Q3_K ? sizeof(block_q3_K)
                     : sizeof(block_q2_K);
    const __m512i roffs = _mm512_mullo_epi32(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
                                             _mm512_set1_epi32((int)w_stride));
    const __mmask16 rm = (__mmask16)((1u << nr) - 1);
    const __m512i n4 = _mm512_set1_epi32(0x0f0f0f0f), n2 = _mm512_set1_epi32(0x03030303),
                  n1 = _mm512_set1_epi32(0x01010101);
    for (int i = 0; i < nsb; i++) {
        const uint8_t *blk = w + (size_t)(sb0 + i) * bsz; /* this super-block of row 0 */
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
    /* the mins (Q4_K, Q5_K, Q2_K) or code offsets (Q3_K), through the bsums */
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
            t.nr = (int)g->nr;
            mm_avx512_tile_q4_K_vnni(&t);
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

/* From this many activation rows on, the panels beat the direct tiles (measured on a
 * Sapphire Rapids core, 2048x2048; compile with larger values to benchmark the direct
 * tiles alone). */
#ifndef GEMM_MIN_N_KQ
#define GEMM_MIN_N_KQ 12
#endif

void mm_avx512_kquant_panels(mm_kernel_set *ks) {
    ks->gemm[FN_Q4_K].gemm = gemm_q4_K;
    ks->gemm[FN_Q5_K].gemm = gemm_q5_K;
    /* Q6_K has no panel kernel: its products follow ggml's 8-lane order (k6_superblock) */
    ks->gemm[FN_Q3_K].gemm = gemm_q3_K;
    ks->gemm[FN_Q2_K].gemm = gemm_q2_K;
    ks->gemm[FN_Q4_K].gemm_min_n = ks->gemm[FN_Q5_K].gemm_min_n = GEMM_MIN_N_KQ;
    ks->gemm[FN_Q3_K].gemm_min_n = ks->gemm[FN_Q2_K].gemm_min_n = GEMM_MIN_N_KQ;
}
