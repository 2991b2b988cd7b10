/* arch.h - every supported model architecture described as data: its GGUF name, the
 * tensors it has (name pattern, shape in terms of hyper-parameters, optional or not) and
 * its quirks as flags. Loading, synthesis and the forward pass read this table; nothing
 * else tests an architecture's identity. */
#ifndef FENNEC_MODEL_ARCH_H
#define FENNEC_MODEL_ARCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "model/hparams.h"

/* A tensor dimension, as a function of the hyper-parameters. */
typedef enum {
    DIM_ONE = 0,     /* unused / 1 */
    DIM_EMBD,        /* n_embd */
    DIM_VOCAB,       /* n_vocab */
    DIM_Q,           /* n_head * head_dim_k */
    DIM_K,           /* n_head_kv * head_dim_k */
    DIM_V,           /* n_head_kv * head_dim_v */
    DIM_ATTN_OUT,    /* n_head * head_dim_v */
    DIM_HEAD_K,      /* head_dim_k (per-head q/k norm) */
    DIM_FF,          /* n_ff (dense FFN width) */
    DIM_FF_EXP,      /* n_ff_exp (one expert's FFN width) */
    DIM_EXPERT,      /* n_expert */
    DIM_ROT_HALF,    /* n_rot / 2 (rope frequency factors) */
} arch_dim;

/* What a weight is for; the forward pass binds weights by role, not by name. */
typedef enum {
    W_TOKEN_EMBD, W_OUTPUT_NORM, W_OUTPUT,
    W_ATTN_NORM, W_ATTN_Q, W_ATTN_K, W_ATTN_V, W_ATTN_Q_BIAS, W_ATTN_K_BIAS, W_ATTN_V_BIAS,
    W_ATTN_Q_NORM, W_ATTN_K_NORM, W_ATTN_OUT,
    W_FFN_NORM, W_FFN_GATE, W_FFN_UP, W_FFN_DOWN,
    W_FFN_ROUTER, W_FFN_GATE_EXPS, W_FFN_UP_EXPS, W_FFN_DOWN_EXPS,
    W_ROPE_FREQS,
    W_ROLE_COUNT
} weight_role;

enum {
    TF_LAYER = 1 << 0,     /* one per block: name has "blk.%d." */
    TF_OPTIONAL = 1 << 1,  /* may be absent (e.g. output.weight when tied to token_embd) */
    TF_DENSE = 1 << 2,     /* only when the model has no experts */
    TF_MOE = 1 << 3,       /* only when the model has experts */
    TF_VECTOR = 1 << 4,    /* norm/bias vectors: stored and kept as F32 */
};

typedef struct {
    weight_role role;
    const char *name;      /* GGUF name; "%d" stands for the layer index if TF_LAYER */
    uint8_t n_dims;
    arch_dim dims[3];      /* ne[0] (innermost), ne[1], ne[2] */
    uint32_t flags;        /* TF_* */
} arch_tensor;

typedef enum { ROPE_NORM = 0, ROPE_NEOX = 2 } rope_kind; /* values as llama.cpp's rope modes */

typedef struct {
    const char *name;            /* general.architecture value, e.g. "qwen3moe" */
    rope_kind rope;              /* how rotary pairs are formed: adjacent (NORM) or halves (NEOX) */
    bool moe_renorm_topk;        /* re-normalise the selected experts' weights to sum to 1 */
    const arch_tensor *tensors;  /* tensor table */
    size_t n_tensors;
} arch_desc;

/* The description of an architecture by its GGUF name, or NULL if unsupported. */
const arch_desc *arch_find(const char *name);

/* All supported architectures (for help texts). */
const arch_desc *arch_at(size_t i);
size_t arch_count(void);

/* Whether a table entry applies to a model with these hyper-parameters (MoE vs dense). */
bool arch_tensor_applies(const arch_tensor *t, const model_hparams *hp);

/* Value of a symbolic dimension. */
int64_t arch_dim_value(arch_dim d, const model_hparams *hp);

/* Formats the GGUF name of entry t for layer `layer` into buf. */
void arch_tensor_name(const arch_tensor *t, int layer, char *buf, size_t size);

#endif
