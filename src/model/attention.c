/* attention.c - tiled causal attention with online softmax (see attention.h). */
#include "model/attention.h"

#include <math.h>
#include <string.h>

#include "base/dtype.h"
#include "tensor/tensor_format.h"

int attn_scratch_floats(const attn_params *p) {
    int pt = kv_page_tokens(p->kv);
    return pt + pt * (p->head_dim_k > p->head_dim_v ? p->head_dim_k : p->head_dim_v) + p->head_dim_v;
}

void attn_head(const attn_params *p, int seq, int n_pos, int head, const float *q, float *out, float *scratch) {
    const kv_cache *kv = p->kv;
    int pt = kv_page_tokens(kv), n_pages;
    const int32_t *pages = kv_seq_pages(kv, seq, &n_pages);
    uint32_t type = kv_type(kv);
    int group = p->n_head / p->n_head_kv, g = head / group;
    int dk = p->head_dim_k, dv = p->head_dim_v;
    size_t k_row = kv_k_row_bytes(kv), v_row = kv_v_row_bytes(kv);
    size_t k_off = (size_t)fn_dtype_row_bytes(type, (int64_t)g * dk);
    size_t v_off = (size_t)fn_dtype_row_bytes(type, (int64_t)g * dv);
    float *scores = scratch, *rows = scratch + pt, *acc = out;
    float m = -INFINITY, l = 0.0f;
    memset(acc, 0, (size_t)dv * sizeof *acc);

    for (int pg = 0; pg * pt < n_pos && pg < n_pages; pg++) {
        int n = n_pos - pg * pt < pt ? n_pos - pg * pt : pt;
        const uint8_t *kbase = kv_page_k(kv, p->layer, pages[pg]);
        const uint8_t *vbase = kv_page_v(kv, p->layer, pages[pg]);
        float tile_max = -INFINITY;
        for (int j = 0; j < n; j++) {
            tensor_dequantize(type, kbase + (size_t)j * k_row + k_off, rows, dk);
            float s = 0.0f;
            for (int d = 0; d < dk; d++) s += q[d] * rows[d];
            s *= p->scale;
            scores[j] = s;
            if (s > tile_max) tile_max = s;
        }
        float m_new = tile_max > m ? tile_max : m;
        float correction = expf(m - m_new); /* exp(-inf) = 0 on the first tile */
        l *= correction;
        for (int d = 0; d < dv; d++) acc[d] *= correction;
        for (int j = 0; j < n; j++) {
            float w = expf(scores[j] - m_new);
            l += w;
            tensor_dequantize(type, vbase + (size_t)j * v_row + v_off, rows, dv);
            for (int d = 0; d < dv; d++) acc[d] += w * rows[d];
        }
        m = m_new;
    }
    float inv = l > 0 ? 1.0f / l : 0.0f;
    for (int d = 0; d < dv; d++) acc[d] *= inv;
}
