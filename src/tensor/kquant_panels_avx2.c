/* kquant_panels_avx2.c - AVX-VNNI panel kernels for K-quant weights (prefill). */
#include "tensor/kernels_avx2.h"

/* ============================================== panels for prefill (AVX-VNNI only) ===
 * The scheme of kernels_avx512.c's panels with 8 rows per register: 8 weight rows are
 * repacked into a stack buffer so that a register holds 4 consecutive codes of each row,
 * and VPDPBUSD with 4 broadcast activation bytes leaves row r's partial dot in lane r.
 * Without VNNI the direct kernels (maddubs + madd with the scales) are as good. */

#define PN_SB 8

typedef struct {
    __m256i q[PN_SB][64];     /* codes: [super-block][4-element group], lane r = row r */
    __m256 scale[PN_SB][16];  /* [sub-block][row]: d * sc */
    __m256i pair[PN_SB][8];   /* i16 pairs multiplying the bsum pairs */
    __m256 pair_scale[PN_SB]; /* -dmin, or -4 d (Q3_K) */
    __m256i sci[PN_SB][8];    /* Q4_K: the 6-bit scales as i16 pairs (sc, sc) */
    __m256 d[PN_SB], dmin[PN_SB]; /* Q4_K: d and dmin */
} kq_panel;

/* (no Q6_K: its products follow ggml's 8-lane order, see kquant_tiles_avx2.c) */
enum { KP_Q4_K, KP_Q5_K, KP_Q3_K, KP_Q2_K };

AI bool kp_sub16(const int kind) { return kind == KP_Q3_K || kind == KP_Q2_K; }

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
    for (int j = 0; j < 16; j++) {
        scale[j] = d * sc[j];
        pm[j] = kind == KP_Q2_K ? (int16_t)(((const block_q2_K *)blk)->scales[j] >> 4) : sc[j];
    }
}

AI void kq_pack(kq_panel *P, const uint8_t *w, size_t w_stride, int nr, int64_t sb0, int nsb,
                const int kind) {
    const size_t bsz = kind == KP_Q4_K ? sizeof(block_q4_K) : kind == KP_Q5_K ? sizeof(block_q5_K)
                     : kind == KP_Q3_K ? sizeof(block_q3_K)
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
            mm_avx2_tile_q4_K_vnni(&t); /* VEC: the same code with or without VNNI */
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

#ifndef GEMM_MIN_N_KQ
#define GEMM_MIN_N_KQ 12 /* from this many activation rows on, the panels */
#endif

void mm_avx2_kquant_panels(mm_kernel_set *ks) {
    /* no Q6_K panel: its direct tiles follow ggml's 8-lane order */
    static const struct { uint32_t type; mm_gemm_fn fn; } panels[] = {
        {FN_Q4_K, gemm_q4_K}, {FN_Q5_K, gemm_q5_K}, {FN_Q3_K, gemm_q3_K}, {FN_Q2_K, gemm_q2_K},
    };
    for (size_t i = 0; i < sizeof panels / sizeof panels[0]; i++) {
        ks->gemm[panels[i].type].gemm = panels[i].fn;
        ks->gemm[panels[i].type].gemm_min_n = GEMM_MIN_N_KQ;
    }
}
