/* ops.h - the element-wise and per-row operations of the forward pass (everything but
 * the weight matrices and attention): RMSNorm, rotary embeddings, SwiGLU, expert routing. */
#ifndef FENNEC_MODEL_OPS_H
#define FENNEC_MODEL_OPS_H

#include <stdbool.h>
#include <stdint.h>

#include "model/hparams.h"

/* These round like ggml's CPU operations on an x86-64 CPU with AVX-512 (the build llama.cpp
 * loads there), bit for bit: in a model with Q8 activations a last-bit difference in a value
 * that is quantized next flips a rounding step now and then, and those flips grow layer by
 * layer to the size of the quantization noise itself, so only equal rounding keeps Fennec's
 * outputs equal to llama.cpp's. ggml's choices are as accurate as the textbook ones. */

/* out = x / sqrt(mean(x^2) + eps) * w  (w may be NULL: no scale). out may alias x. */
void op_rmsnorm(float *out, const float *x, const float *w, int n, float eps);

/* Rotary position tables for one model: the frequency ratio between rotary pairs, the
 * Llama-3 frequency factors and the YaRN mixing parameters. */
typedef struct {
    int n_rot;                /* rotary dims per head (pairs = n_rot / 2) */
    bool neox;                /* pairs are (i, i + n_rot/2) instead of (2i, 2i+1) */
    float theta_scale;        /* base^(-2/n_rot): pair i turns pos * theta_scale^i radians */
    float freq_factor[256];   /* divisor of pair i's angle (rope_freqs; 1 without) */
    float freq_scale;         /* 1 / linear or yarn factor (1: none) */
    float ext_factor;         /* yarn extrapolation mix (0: plain interpolation) */
    float attn_factor;        /* magnitude scale of cos/sin */
    float corr_low, corr_high;/* yarn ramp bounds in dimension units */
} rope_table;

/* Builds the table from the hyper-parameters and optional rope_freqs factors (n_rot/2). */
void rope_table_init(rope_table *t, const model_hparams *hp, bool neox, const float *freq_factors);

/* Rotates n_heads vectors of head_dim floats (contiguous) for position pos, in place.
 * Angles come from repeated f32 multiplication by theta_scale and each rotated element is
 * one fused multiply-add, as in ggml's RoPE. */
void op_rope(const rope_table *t, float *x, int n_heads, int head_dim, int pos);

/* exp(x) within 2 ulp (normal results): ggml's vectorized expf (AVX-512 form), one value
 * at a time. Overflows to inf above ~88.7, flushes to 0 below ~-104. */
float op_expf(float x);

/* y[i] = exp(x[i] - max) for i < n (y may alias x); returns their sum. Blocks of 16 use
 * op_expf and are summed pairwise in f32, block sums in double; the rest uses libm's expf.
 * This is ggml's softmax kernel (attention tiles, expert routing). */
double op_exp_sum(float *y, const float *x, int n, float max);

/* out[i] = silu(gate[i]) * up[i] (exp as ggml's swiglu: op_expf by blocks of 16). */
void op_swiglu(float *out, const float *gate, const float *up, int n);

/* Expert routing for one token: softmax over n_expert logits (overwritten with the
 * probabilities), the k most probable (ties to the lower index), and their weights,
 * renormalised to sum to 1 when renorm. */
void op_route_topk(float *logits, int n_expert, int k, bool renorm, int32_t *experts, float *weights);

#endif
