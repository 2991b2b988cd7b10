/* attention.c - tiled causal attention with online softmax (see attention.h).
 *
 * The arithmetic is ggml's CPU flash attention for batches (its tiled path), operation for
 * operation: each score one chain of fused multiply-adds over the head dimension, softmax
 * over tiles of 64 positions with ggml's exp and summation order, values accumulated with
 * fused multiply-adds. With Q8 activations downstream, a last-bit difference here flips a
 * quantization step now and then and the flips grow through the layers, so matching the
 * rounding (not just the math) is what keeps quantized models' outputs equal to llama.cpp's.
 *
 * The same C body is compiled twice: for AVX2+FMA CPUs, where fmaf is one instruction and
 * the loops over 64 keys (scores) and over the head dimension (values) vectorize, and plain
 * for the rest, where fmaf is libm's (exact, slower). Chosen once per call from fn_cpu(). */
#include "model/attention.h"

#include <math.h>
#include <stdbool.h>
#include <string.h>

#include "base/cpu.h"
#include "base/dtype.h"
#include "model/ops.h"
#include "tensor/convert.h"
#include "tensor/tensor_format.h"

/* Positions per softmax tile (ggml's GGML_FA_TILE_KV). */
#define ATTN_TILE 64

size_t attn_scratch_floats(const attn_params *p, int max_tok) {
    size_t group = (size_t)(p->n_head / p->n_head_kv), dk = (size_t)p->head_dim_k, dv = (size_t)p->head_dim_v;
    return ATTN_TILE * (dk > dv ? dk : dv) + ATTN_TILE * (dk + dv + 1) + 2 * (size_t)max_tok * group + 16;
}

/* Converts the rows of positions [first, first + n) of one head group's slice (K or V) to
 * f32 at dst (dim floats per position), page by page. */
static void load_rows(const kv_cache *kv, int layer, const int32_t *pages, bool is_k, size_t off_bytes, int dim,
                      int first, int n, float *dst) {
    uint32_t type = kv_type(kv);
    int pt = kv_page_tokens(kv);
    size_t row_bytes = is_k ? kv_k_row_bytes(kv) : kv_v_row_bytes(kv);
    for (int j = 0; j < n; j++) {
        int pos = first + j;
        const uint8_t *page = is_k ? kv_page_k(kv, layer, pages[pos / pt]) : kv_page_v(kv, layer, pages[pos / pt]);
        const uint8_t *src = page + (size_t)(pos % pt) * row_bytes + off_bytes;
        if (type == FN_F16)
            tensor_f16_to_f32_fast((const uint16_t *)src, dst + (size_t)j * dim, dim);
        else
            tensor_dequantize(type, src, dst + (size_t)j * dim, dim);
    }
}

/* The whole computation; inlined into the two instances below. kt holds the tile's keys
 * transposed ([dk][ATTN_TILE]) so that one step of every key's score chain is a
 * contiguous loop. */
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define HAVE_AVX512_BUILD 1
/* The two inner loops with 512-bit registers, keeping the running sums in registers: the
 * same fused multiply-add chains element for element (scores over d in order, values over
 * keys in order), so the same bits as the plain loops. */
__attribute__((target("avx512f,fma"))) static void scores_avx512(const float *kt, const float *q, int dk,
                                                                 float *prob) {
    __m512 s0 = _mm512_setzero_ps(), s1 = s0, s2 = s0, s3 = s0;
    for (int d = 0; d < dk; d++) {
        const __m512 qd = _mm512_set1_ps(q[d]);
        const float *kd = kt + (size_t)d * ATTN_TILE;
        s0 = _mm512_fmadd_ps(_mm512_loadu_ps(kd), qd, s0);
        s1 = _mm512_fmadd_ps(_mm512_loadu_ps(kd + 16), qd, s1);
        s2 = _mm512_fmadd_ps(_mm512_loadu_ps(kd + 32), qd, s2);
        s3 = _mm512_fmadd_ps(_mm512_loadu_ps(kd + 48), qd, s3);
    }
    _mm512_storeu_ps(prob, s0);
    _mm512_storeu_ps(prob + 16, s1);
    _mm512_storeu_ps(prob + 32, s2);
    _mm512_storeu_ps(prob + 48, s3);
}

__attribute__((target("avx512f,fma"))) static void values_avx512(const float *vf, const float *prob, int visible,
                                                                 int dv, float *acc) {
    int c = 0;
    for (; c + 64 <= dv; c += 64) {
        __m512 a0 = _mm512_loadu_ps(acc + c), a1 = _mm512_loadu_ps(acc + c + 16),
               a2 = _mm512_loadu_ps(acc + c + 32), a3 = _mm512_loadu_ps(acc + c + 48);
        for (int j = 0; j < visible; j++) {
            const __m512 w = _mm512_set1_ps(prob[j]);
            const float *v = vf + (size_t)j * dv + c;
            a0 = _mm512_fmadd_ps(_mm512_loadu_ps(v), w, a0);
            a1 = _mm512_fmadd_ps(_mm512_loadu_ps(v + 16), w, a1);
            a2 = _mm512_fmadd_ps(_mm512_loadu_ps(v + 32), w, a2);
            a3 = _mm512_fmadd_ps(_mm512_loadu_ps(v + 48), w, a3);
        }
        _mm512_storeu_ps(acc + c, a0);
        _mm512_storeu_ps(acc + c + 16, a1);
        _mm512_storeu_ps(acc + c + 32, a2);
        _mm512_storeu_ps(acc + c + 48, a3);
    }
    for (; c + 16 <= dv; c += 16) {
        __m512 a = _mm512_loadu_ps(acc + c);
        for (int j = 0; j < visible; j++)
            a = _mm512_fmadd_ps(_mm512_loadu_ps(vf + (size_t)j * dv + c), _mm512_set1_ps(prob[j]), a);
        _mm512_storeu_ps(acc + c, a);
    }
    for (; c < dv; c++)
        for (int j = 0; j < visible; j++) acc[c] = fmaf(vf[(size_t)j * dv + c], prob[j], acc[c]);
}
#endif

static inline __attribute__((always_inline)) void group_block(const attn_params *p, int seq, int g,
                                                              const attn_block *b, float *scratch,
                                                              const bool avx512) {
    const kv_cache *kv = p->kv;
    int pt = kv_page_tokens(kv), n_pages;
    const int32_t *pages = kv_seq_pages(kv, seq, &n_pages);
    uint32_t type = kv_type(kv);
    int group = p->n_head / p->n_head_kv, dk = p->head_dim_k, dv = p->head_dim_v;
    size_t k_off = (size_t)fn_dtype_row_bytes(type, (int64_t)g * dk);
    size_t v_off = (size_t)fn_dtype_row_bytes(type, (int64_t)g * dv);
    float *rows = scratch, *kt = rows + (size_t)ATTN_TILE * (dk > dv ? dk : dv);
    float *vf = kt + (size_t)ATTN_TILE * dk, *prob = vf + (size_t)ATTN_TILE * dv;
    float *m = prob + ATTN_TILE, *l = m + (size_t)b->n_tok * group;

    int max_pos = 0;
    for (int i = 0; i < b->n_tok; i++) {
        if (b->pos[i] > max_pos) max_pos = b->pos[i];
        for (int h = 0; h < group; h++) {
            m[i * group + h] = -INFINITY;
            l[i * group + h] = 0.0f;
            memset(b->out + (size_t)i * b->out_stride + (size_t)(g * group + h) * dv, 0, (size_t)dv * sizeof(float));
        }
    }
    if (max_pos >= n_pages * pt) max_pos = n_pages * pt - 1;
    for (int first = 0; first <= max_pos; first += ATTN_TILE) {
        int n = max_pos + 1 - first < ATTN_TILE ? max_pos + 1 - first : ATTN_TILE;
        load_rows(kv, p->layer, pages, true, k_off, dk, first, n, rows);
        for (int j = 0; j < ATTN_TILE; j++)
            for (int d = 0; d < dk; d++) kt[(size_t)d * ATTN_TILE + j] = j < n ? rows[(size_t)j * dk + d] : 0.0f;
        load_rows(kv, p->layer, pages, false, v_off, dv, first, n, vf);
        for (int i = 0; i < b->n_tok; i++) {
            int visible = b->pos[i] + 1 - first;
            if (visible <= 0) continue;
            if (visible > n) visible = n;
            for (int h = 0; h < group; h++) {
                int head = g * group + h;
                const float *q = b->q + (size_t)i * b->q_stride + (size_t)head * dk;
                float *acc = b->out + (size_t)i * b->out_stride + (size_t)head * dv;
                /* scores: for each key, s = fma(k[d], q[d], s) for d = 0, 1, ... */
#ifdef HAVE_AVX512_BUILD
                if (avx512) {
                    scores_avx512(kt, q, dk, prob);
                } else
#endif
                {
                    for (int j = 0; j < ATTN_TILE; j++) prob[j] = 0.0f;
                    for (int d = 0; d < dk; d++) {
                        const float qd = q[d], *kd = kt + (size_t)d * ATTN_TILE;
                        for (int j = 0; j < ATTN_TILE; j++) prob[j] = fmaf(kd[j], qd, prob[j]);
                    }
                }
                float tile_max = -INFINITY;
                for (int j = 0; j < ATTN_TILE; j++) {
                    prob[j] = j < visible ? prob[j] * p->scale : -INFINITY; /* masked: weight 0 */
                    tile_max = tile_max > prob[j] ? tile_max : prob[j];
                }
                float *mi = &m[i * group + h], *li = &l[i * group + h];
                float m_new = fmaxf(*mi, tile_max);
                if (m_new > *mi) {
                    float corr = expf(*mi - m_new); /* exp(-inf) = 0 on the first tile */
                    for (int d = 0; d < dv; d++) acc[d] *= corr;
                    *li *= corr;
                }
                *mi = m_new;
                *li = (float)((double)*li + op_exp_sum(prob, prob, ATTN_TILE, m_new));
#ifdef HAVE_AVX512_BUILD
                if (avx512) {
                    values_avx512(vf, prob, visible, dv, acc);
                    continue;
                }
#endif
                for (int j = 0; j < visible; j++) {
                    const float w = prob[j], *v = vf + (size_t)j * dv;
                    for (int d = 0; d < dv; d++) acc[d] = fmaf(v[d], w, acc[d]);
                }
            }
        }
    }
    for (int i = 0; i < b->n_tok; i++)
        for (int h = 0; h < group; h++) {
            float inv = l[i * group + h] > 0 ? 1.0f / l[i * group + h] : 0.0f;
            float *acc = b->out + (size_t)i * b->out_stride + (size_t)(g * group + h) * dv;
            for (int d = 0; d < dv; d++) acc[d] *= inv;
        }
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define HAVE_FMA_BUILD 1
__attribute__((target("avx2,fma"))) static void group_block_fma(const attn_params *p, int seq, int g,
                                                                 const attn_block *b, float *scratch) {
    group_block(p, seq, g, b, scratch, false);
}
__attribute__((target("avx2,fma"))) static void group_block_avx512(const attn_params *p, int seq, int g,
                                                                    const attn_block *b, float *scratch) {
    group_block(p, seq, g, b, scratch, true);
}
#endif

static void group_block_plain(const attn_params *p, int seq, int g, const attn_block *b, float *scratch) {
    group_block(p, seq, g, b, scratch, false);
}

void attn_group_block(const attn_params *p, int seq, int g, const attn_block *b, float *scratch) {
#ifdef HAVE_FMA_BUILD
    const fn_cpu_features *f = fn_cpu();
    if (f->avx512f && f->fma) {
        group_block_avx512(p, seq, g, b, scratch);
        return;
    }
    if (f->avx2 && f->fma) {
        group_block_fma(p, seq, g, b, scratch);
        return;
    }
#endif
    group_block_plain(p, seq, g, b, scratch);
}
