/* block32_avx512.c - AVX-512 VNNI kernels for the 32-element block weight types (Q8_0,
 * Q4_0, Q4_1, Q5_0, Q5_1, MXFP4) x Q8_0 activations: direct tiles of up to 4 weight rows x 4
 * activation rows, two blocks per register, and panels for prefill. Q8_0 follows ggml's
 * summation order (bit-for-bit results). */
#include "tensor/kernels_avx512.h"

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

/* Per panel and K chunk: the sums are cheap next to the chunk's arithmetic (1/16 of it) and
 * keeping them for the whole K would take up to a megabyte per activation chunk. */
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

#ifndef GEMM_MIN_N_LG
#define GEMM_MIN_N_LG 6 /* from this many activation rows on, the panels */
#endif

void mm_avx512_block32(mm_kernel_set *ks, const char *level) {
#define K(type, fn) \
    ks->gemm[type] = (mm_kernel){.tile = fn, .max_rows = 8, .max_cols = LG_MAX_COLS, .name = level, \
                                 .gemm_min_n = GEMM_MIN_N_LG}
    K(FN_Q8_0, tile_q8_0_vnni);
    K(FN_Q4_0, tile_q4_0_vnni);
    K(FN_Q4_1, tile_q4_1_vnni);
    K(FN_Q5_0, tile_q5_0_vnni);
    K(FN_Q5_1, tile_q5_1_vnni);
    K(FN_MXFP4, tile_mxfp4_vnni);
#undef K
    ks->gemm[FN_Q8_0].gemm = gemm_q8_0;
    ks->gemm[FN_Q4_0].gemm = gemm_q4_0;
    ks->gemm[FN_Q4_1].gemm = gemm_q4_1;
    ks->gemm[FN_Q5_0].gemm = gemm_q5_0;
    ks->gemm[FN_Q5_1].gemm = gemm_q5_1;
    ks->gemm[FN_MXFP4].gemm = gemm_mxfp4;
}
