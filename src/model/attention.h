/* attention.h - causal multi-head attention with grouped K/V heads over the paged cache,
 * computed one page (tile) at a time with an online softmax, so memory does not grow with
 * the square of the context. */
#ifndef FENNEC_MODEL_ATTENTION_H
#define FENNEC_MODEL_ATTENTION_H

#include "kv/kv_cache.h"

typedef struct {
    const kv_cache *kv;
    int layer;
    int n_head, n_head_kv, head_dim_k, head_dim_v;
    float scale;              /* 1/sqrt(head_dim_k) */
} attn_params;

/* Scratch one thread needs: floats for a page of scores and K/V rows of one head. */
int attn_scratch_floats(const attn_params *p);

/* Attention of one query head: q (head_dim_k floats) against positions [0, n_pos) of seq,
 * result (head_dim_v floats) into out. */
void attn_head(const attn_params *p, int seq, int n_pos, int head, const float *q, float *out, float *scratch);

#endif
