/* block32_avx2.c - AVX2 kernels for the 32-element block weight types (Q8_0, Q4_0, Q4_1,
 * Q5_0, Q5_1, MXFP4) x Q8_0 activations: direct tiles (Q8_0 in ggml's summation order), and
 * with AVX-VNNI panels for prefill (none for Q8_0: its order is per lane, see lg_tile). */
#include "tensor/kernels_avx2.h"

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

#ifndef GEMM_MIN_N_LG
#define GEMM_MIN_N_LG 6 /* from this many activation rows on, the panels */
#endif

void mm_avx2_block32(mm_kernel_set *ks, const char *level, bool vnni) {
#define K(type, fn) \
    ks->gemm[type] = (mm_kernel){.tile = fn, .max_rows = 2 * LG_MAX_ROWS, .max_cols = LG_MAX_COLS, .name = level}
    K(FN_Q8_0, vnni ? tile_q8_0_vnni : tile_q8_0_plain);
    K(FN_Q4_0, vnni ? tile_q4_0_vnni : tile_q4_0_plain);
    K(FN_Q4_1, vnni ? tile_q4_1_vnni : tile_q4_1_plain);
    K(FN_Q5_0, vnni ? tile_q5_0_vnni : tile_q5_0_plain);
    K(FN_Q5_1, vnni ? tile_q5_1_vnni : tile_q5_1_plain);
    K(FN_MXFP4, vnni ? tile_mxfp4_vnni : tile_mxfp4_plain);
#undef K
    if (!vnni) return;
    static const struct { uint32_t type; mm_gemm_fn fn; } panels[] = {
        {FN_Q4_0, gemm_q4_0}, {FN_Q4_1, gemm_q4_1}, {FN_Q5_0, gemm_q5_0},
        {FN_Q5_1, gemm_q5_1}, {FN_MXFP4, gemm_mxfp4},
    };
    for (size_t i = 0; i < sizeof panels / sizeof panels[0]; i++) {
        ks->gemm[panels[i].type].gemm = panels[i].fn;
        ks->gemm[panels[i].type].gemm_min_n = GEMM_MIN_N_LG;
    }
}
