/* attention.c - tiled causal attention with online softmax (see attention.h). */
#include "model/attention.h"

#include <math.h>
#include <string.h>

#include "base/dtype.h"
#include "tensor/convert.h"
#include "tensor/tensor_format.h"

size_t attn_scratch_floats(const attn_params *p, int max_tok) {
    size_t pt = (size_t)kv_page_tokens(p->kv), group = (size_t)(p->n_head / p->n_head_kv);
    return pt * (size_t)p->head_dim_k + pt * (size_t)p->head_dim_v + pt + 2 * (size_t)max_tok * group + 16;
}

/* Converts rows [0, n) of one head group's slice of a page to f32. */
static void load_rows(uint32_t type, const uint8_t *base, size_t row_bytes, size_t off_bytes, int dim, int n,
                      float *dst) {
    for (int j = 0; j < n; j++) {
        const uint8_t *src = base + (size_t)j * row_bytes + off_bytes;
        if (type == FN_F16)
            tensor_f16_to_f32_fast((const uint16_t *)src, dst + (size_t)j * dim, dim);
        else
            tensor_dequantize(type, src, dst + (size_t)j * dim, dim);
    }
}

static float dot(const float *a, const float *b, int n) {
    float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    int i = 0;
    for (; i + 4 <= n; i += 4) {
        s0 += a[i] * b[i];
        s1 += a[i + 1] * b[i + 1];
        s2 += a[i + 2] * b[i + 2];
        s3 += a[i + 3] * b[i + 3];
    }
    for (; i < n; i++) s0 += a[i] * b[i];
    return (s0 + s1) + (s2 + s3);
}

void attn_group_block(const attn_params *p, int seq, int g, const attn_block *b, float *scratch) {
    const kv_cache *kv = p->kv;
    int pt = kv_page_tokens(kv), n_pages;
    const int32_t *pages = kv_seq_pages(kv, seq, &n_pages);
    uint32_t type = kv_type(kv);
    int group = p->n_head / p->n_head_kv, dk = p->head_dim_k, dv = p->head_dim_v;
    size_t k_row = kv_k_row_bytes(kv), v_row = kv_v_row_bytes(kv);
    size_t k_off = (size_t)fn_dtype_row_bytes(type, (int64_t)g * dk);
    size_t v_off = (size_t)fn_dtype_row_bytes(type, (int64_t)g * dv);
    float *kf = scratch, *vf = kf + (size_t)pt * dk, *scores = vf + (size_t)pt * dv;
    float *m = scores + pt, *l = m + (size_t)b->n_tok * group;

    int max_pos = 0;
    for (int i = 0; i < b->n_tok; i++) {
        if (b->pos[i] > max_pos) max_pos = b->pos[i];
        for (int h = 0; h < group; h++) {
            m[i * group + h] = -INFINITY;
            l[i * group + h] = 0.0f;
            memset(b->out + (size_t)i * b->out_stride + (size_t)(g * group + h) * dv, 0, (size_t)dv * sizeof(float));
        }
    }
    for (int pg = 0; pg < n_pages && pg * pt <= max_pos; pg++) {
        int first = pg * pt, n = max_pos + 1 - first < pt ? max_pos + 1 - first : pt;
        load_rows(type, kv_page_k(kv, p->layer, pages[pg]), k_row, k_off, dk, n, kf);
        load_rows(type, kv_page_v(kv, p->layer, pages[pg]), v_row, v_off, dv, n, vf);
        for (int i = 0; i < b->n_tok; i++) {
            int visible = b->pos[i] + 1 - first;
            if (visible <= 0) continue;
            if (visible > n) visible = n;
            for (int h = 0; h < group; h++) {
                int head = g * group + h;
                const float *q = b->q + (size_t)i * b->q_stride + (size_t)head * dk;
                float *acc = b->out + (size_t)i * b->out_stride + (size_t)head * dv;
                float tile_max = -INFINITY;
                for (int j = 0; j < visible; j++) {
                    scores[j] = dot(q, kf + (size_t)j * dk, dk) * p->scale;
                    if (scores[j] > tile_max) tile_max = scores[j];
                }
                float *mi = &m[i * group + h], *li = &l[i * group + h];
                float m_new = tile_max > *mi ? tile_max : *mi;
                float corr = expf(*mi - m_new); /* exp(-inf) = 0 on the first tile */
                *li *= corr;
                if (corr != 1.0f)
                    for (int d = 0; d < dv; d++) acc[d] *= corr;
                for (int j = 0; j < visible; j++) {
                    float w = expf(scores[j] - m_new);
                    *li += w;
                    const float *v = vf + (size_t)j * dv;
                    for (int d = 0; d < dv; d++) acc[d] += w * v[d];
                }
                *mi = m_new;
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
