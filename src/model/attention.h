/* attention.h - causal multi-head attention with grouped K/V heads over the paged cache,
 * computed one page (tile) at a time with an online softmax, so memory does not grow with
 * the square of the context. A unit of work is one K/V head group and a block of tokens of
 * one sequence: each cache page is converted to f32 once and used by every query head of
 * the group for every token of the block. */
#ifndef FENNEC_MODEL_ATTENTION_H
#define FENNEC_MODEL_ATTENTION_H

#include <stddef.h>
#include <stdint.h>

#include "kv/kv_cache.h"

typedef struct {
    const kv_cache *kv;
    int layer;
    int n_head, n_head_kv, head_dim_k, head_dim_v;
    float scale;              /* 1/sqrt(head_dim_k) */
} attn_params;

typedef struct {
    int n_tok;
    const int32_t *pos;       /* token i attends to positions 0..pos[i] */
    const float *q;           /* token i's queries (all heads) at q + i * q_stride */
    size_t q_stride;
    float *out;               /* token i's outputs (all heads) at out + i * out_stride */
    size_t out_stride;
} attn_block;

/* Floats of scratch one thread needs for blocks of up to max_tok tokens. */
size_t attn_scratch_floats(const attn_params *p, int max_tok);

/* Computes the outputs of group g's query heads for every token of the block (all of
 * sequence seq). */
void attn_group_block(const attn_params *p, int seq, int g, const attn_block *b, float *scratch);

#endif
