/* float_avx512.c - AVX-512 kernels for F32, F16 and BF16 weights x F32 activations: 16
 * fused multiply-add lanes per output over the row, reduced as llama.cpp's tinyBLAS does. */
#include "tensor/kernels_avx512.h"

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

FL_TILE(tile_f32_sgemm, F_F32)

/* One F32 product in ggml_vec_dot_f32's order (what llama.cpp runs for one activation row,
 * or a shape tinyBLAS does not take): 4 x 16 lanes over steps of 64, the registers added
 * pairwise, the 16-lane reduction, then the last n % 64 elements one by one. */
static float dot_f32_vec(const float *w, const float *a, int64_t n) {
    __m512 s[4] = {_mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps()};
    const int64_t np = n / 64 * 64;
    for (int64_t i = 0; i < np; i += 64)
        for (int j = 0; j < 4; j++)
            s[j] = _mm512_fmadd_ps(_mm512_loadu_ps(w + i + 16 * j), _mm512_loadu_ps(a + i + 16 * j), s[j]);
    s[0] = _mm512_add_ps(s[0], s[2]);
    s[1] = _mm512_add_ps(s[1], s[3]);
    float sum = hsum16_ggml(_mm512_add_ps(s[0], s[1]));
    for (int64_t i = np; i < n; i++) sum += w[i] * a[i];
    return sum;
}

static void tile_f32(const mm_tile *t) {
    if (t->order == MM_ORDER_SGEMM && t->n_in % 16 == 0) {
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

void mm_avx512_float(mm_kernel_set *ks, const char *level) {
#define K(type, fn) \
    ks->gemm[type] = (mm_kernel){.tile = fn, .max_rows = 2 * FL_MAX_ROWS, .max_cols = FL_MAX_COLS, .name = level}
    K(FN_F32, tile_f32);
    K(FN_F16, tile_f16);
    K(FN_BF16, tile_bf16);
#undef K
}
