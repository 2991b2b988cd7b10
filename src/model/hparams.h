/* hparams.h - a model's hyper-parameters and their GGUF keys ("<arch>.embedding_length"
 * and friends), read from a file with validation or written by the synthesiser. */
#ifndef FENNEC_MODEL_HPARAMS_H
#define FENNEC_MODEL_HPARAMS_H

#include <stdbool.h>
#include <stdint.h>

#include "gguf/gguf.h"

/* Llama-3 style scaling is not a key: it arrives as per-frequency factors in the optional
 * rope_freqs.weight tensor. */
typedef enum { ROPE_SCALING_NONE, ROPE_SCALING_LINEAR, ROPE_SCALING_YARN } rope_scaling_kind;

typedef struct {
    char arch[32];              /* general.architecture */
    uint32_t n_vocab;           /* tokens (rows of token_embd) */
    uint32_t n_ctx_train;       /* context length trained for */
    uint32_t n_embd;            /* hidden size */
    uint32_t n_layer;           /* transformer blocks */
    uint32_t n_head;            /* query heads */
    uint32_t n_head_kv;         /* key/value heads (GQA) */
    uint32_t head_dim_k;        /* per-head size of q and k */
    uint32_t head_dim_v;        /* per-head size of v */
    uint32_t n_rot;             /* rotary dimensions per head (usually head_dim_k) */
    uint32_t n_ff;              /* dense FFN width (0 if none) */
    uint32_t n_expert;          /* experts per MoE layer (0 = dense model) */
    uint32_t n_expert_used;     /* experts evaluated per token */
    uint32_t n_ff_exp;          /* one expert's FFN width */
    float rms_eps;              /* RMSNorm epsilon */
    float rope_freq_base;       /* RoPE theta */
    rope_scaling_kind rope_scaling;
    float rope_scale_factor;    /* context extension factor (linear/yarn/llama3) */
    uint32_t rope_orig_ctx;     /* original context length for yarn scaling */
    float yarn_ext_factor;      /* yarn extrapolation mix (-1: derive from the factor) */
    float yarn_attn_factor;     /* yarn attention magnitude scale */
    float yarn_beta_fast;       /* yarn ramp bounds, in rotations */
    float yarn_beta_slow;
} model_hparams;

/* Reads and validates hyper-parameters for the file's architecture (n_vocab from the
 * tokenizer.ggml.tokens array or <arch>.vocab_size). Returns 0 or -1 with fn_errmsg()
 * naming the missing or absurd key. */
int hparams_read(model_hparams *hp, const gguf_file *f);

/* Writes the keys llama.cpp reads for hp->arch. Returns 0 or -1. */
int hparams_write(const model_hparams *hp, gguf_writer *w);

#endif
