/* float_avx2.c - AVX2 kernels for F32, F16 and BF16 weights x F32 activations; F32 in the
 * orders of ggml's AVX2 build (tinyBLAS<8> for several rows, ggml_vec_dot_f32 for one). */
#include "tensor/kernels_avx2.h"

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

void mm_avx2_float(mm_kernel_set *ks, const char *level) {
#define K(type, fn) \
    ks->gemm[type] = (mm_kernel){.tile = fn, .max_rows = 2 * FL_MAX_ROWS, .max_cols = FL_MAX_COLS, .name = level}
    K(FN_F32, tile_f32);
    K(FN_F16, tile_f16);
    K(FN_BF16, tile_bf16);
#undef K
}
