/* ops.h - the element-wise and per-row operations of the forward pass (everything but
 * the weight matrices and attention): RMSNorm, rotary embeddings, SwiGLU, expert routing. */
#ifndef FENNEC_MODEL_OPS_H
#define FENNEC_MODEL_OPS_H

#include <stdbool.h>
#include <stdint.h>

#include "model/hparams.h"

/* out = x / sqrt(mean(x^2) + eps) * w  (w may be NULL: no scale). out may alias x. */
void op_rmsnorm(float *out, const float *x, const float *w, int n, float eps);

/* Rotary position tables for one model: the inverse frequencies of each rotary pair
 * (including Llama-3 frequency factors) and the YaRN mixing parameters. */
typedef struct {
    int n_rot;                /* rotary dims per head (pairs = n_rot / 2) */
    bool neox;                /* pairs are (i, i + n_rot/2) instead of (2i, 2i+1) */
    float inv_freq[512];      /* theta_i per position, before scaling */
    float freq_scale;         /* 1 / linear or yarn factor (1: none) */
    float ext_factor;         /* yarn extrapolation mix (0: plain interpolation) */
    float attn_factor;        /* magnitude scale of cos/sin */
    float corr_low, corr_high;/* yarn ramp bounds in dimension units */
} rope_table;

/* Builds the table from the hyper-parameters and optional rope_freqs factors (n_rot/2). */
void rope_table_init(rope_table *t, const model_hparams *hp, bool neox, const float *freq_factors);

/* Rotates n_heads vectors of head_dim floats (contiguous) for position pos, in place. */
void op_rope(const rope_table *t, float *x, int n_heads, int head_dim, int pos);

/* out[i] = silu(gate[i]) * up[i]. */
void op_swiglu(float *out, const float *gate, const float *up, int n);

/* Expert routing for one token: softmax over n_expert logits, the top k (ties to the
 * lower index), weights renormalised to sum to 1 when renorm. */
void op_route_topk(const float *logits, int n_expert, int k, bool renorm, int32_t *experts, float *weights);

#endif
