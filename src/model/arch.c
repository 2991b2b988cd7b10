/* arch.c - the architecture table (see arch.h). Shapes follow GGUF's convention: ne[0] is
 * the input (contiguous) dimension of a weight matrix, ne[1] its output dimension. */
#include "model/arch.h"

#include <stdio.h>
#include <string.h>

#include "base/error.h"

#define GLOBAL(role, name, n, d0, d1, flags) {role, name, n, {d0, d1, DIM_ONE}, flags}
#define LAYER(role, name, n, d0, d1, d2, flags) \
    {role, "blk.%d." name, n, {d0, d1, d2}, TF_LAYER | (flags)}

/* Tensors common to the Llama family of decoders: embeddings, attention, dense or MoE FFN. */
#define DECODER_COMMON                                                                   \
    GLOBAL(W_TOKEN_EMBD, "token_embd.weight", 2, DIM_EMBD, DIM_VOCAB, 0),                \
    GLOBAL(W_OUTPUT_NORM, "output_norm.weight", 1, DIM_EMBD, DIM_ONE, TF_VECTOR),        \
    GLOBAL(W_OUTPUT, "output.weight", 2, DIM_EMBD, DIM_VOCAB, TF_OPTIONAL),              \
    GLOBAL(W_ROPE_FREQS, "rope_freqs.weight", 1, DIM_ROT_HALF, DIM_ONE,                  \
           TF_OPTIONAL | TF_VECTOR),                                                     \
    LAYER(W_ATTN_NORM, "attn_norm.weight", 1, DIM_EMBD, DIM_ONE, DIM_ONE, TF_VECTOR),    \
    LAYER(W_ATTN_Q, "attn_q.weight", 2, DIM_EMBD, DIM_Q, DIM_ONE, 0),                    \
    LAYER(W_ATTN_K, "attn_k.weight", 2, DIM_EMBD, DIM_K, DIM_ONE, 0),                    \
    LAYER(W_ATTN_V, "attn_v.weight", 2, DIM_EMBD, DIM_V, DIM_ONE, 0),                    \
    LAYER(W_ATTN_OUT, "attn_output.weight", 2, DIM_ATTN_OUT, DIM_EMBD, DIM_ONE, 0),      \
    LAYER(W_FFN_NORM, "ffn_norm.weight", 1, DIM_EMBD, DIM_ONE, DIM_ONE, TF_VECTOR),      \
    LAYER(W_FFN_GATE, "ffn_gate.weight", 2, DIM_EMBD, DIM_FF, DIM_ONE, TF_DENSE),        \
    LAYER(W_FFN_UP, "ffn_up.weight", 2, DIM_EMBD, DIM_FF, DIM_ONE, TF_DENSE),            \
    LAYER(W_FFN_DOWN, "ffn_down.weight", 2, DIM_FF, DIM_EMBD, DIM_ONE, TF_DENSE),        \
    LAYER(W_FFN_ROUTER, "ffn_gate_inp.weight", 2, DIM_EMBD, DIM_EXPERT, DIM_ONE, TF_MOE),\
    LAYER(W_FFN_GATE_EXPS, "ffn_gate_exps.weight", 3, DIM_EMBD, DIM_FF_EXP, DIM_EXPERT, TF_MOE), \
    LAYER(W_FFN_UP_EXPS, "ffn_up_exps.weight", 3, DIM_EMBD, DIM_FF_EXP, DIM_EXPERT, TF_MOE),     \
    LAYER(W_FFN_DOWN_EXPS, "ffn_down_exps.weight", 3, DIM_FF_EXP, DIM_EMBD, DIM_EXPERT, TF_MOE)

#define QK_NORM                                                                          \
    LAYER(W_ATTN_Q_NORM, "attn_q_norm.weight", 1, DIM_HEAD_K, DIM_ONE, DIM_ONE, TF_VECTOR), \
    LAYER(W_ATTN_K_NORM, "attn_k_norm.weight", 1, DIM_HEAD_K, DIM_ONE, DIM_ONE, TF_VECTOR)

#define QKV_BIAS                                                                         \
    LAYER(W_ATTN_Q_BIAS, "attn_q.bias", 1, DIM_Q, DIM_ONE, DIM_ONE, TF_VECTOR),          \
    LAYER(W_ATTN_K_BIAS, "attn_k.bias", 1, DIM_K, DIM_ONE, DIM_ONE, TF_VECTOR),          \
    LAYER(W_ATTN_V_BIAS, "attn_v.bias", 1, DIM_V, DIM_ONE, DIM_ONE, TF_VECTOR)

/* Llama 1-3, Mistral, and Mixtral (Mixtral = llama with experts). */
static const arch_tensor llama_tensors[] = {DECODER_COMMON};
/* Qwen2 / Qwen2.5 (dense): biases on q, k, v. */
static const arch_tensor qwen2_tensors[] = {DECODER_COMMON, QKV_BIAS};
/* Qwen3 dense and Qwen3 MoE (Qwen3-Coder-30B-A3B): per-head RMSNorm on q and k. */
static const arch_tensor qwen3_tensors[] = {DECODER_COMMON, QK_NORM};

static const arch_desc archs[] = {
    {"llama", ROPE_NORM, true, llama_tensors, FN_ARRAY_LEN(llama_tensors)},
    {"qwen2", ROPE_NEOX, true, qwen2_tensors, FN_ARRAY_LEN(qwen2_tensors)},
    {"qwen3", ROPE_NEOX, true, qwen3_tensors, FN_ARRAY_LEN(qwen3_tensors)},
    {"qwen3moe", ROPE_NEOX, true, qwen3_tensors, FN_ARRAY_LEN(qwen3_tensors)},
};

const arch_desc *arch_find(const char *name) {
    for (size_t i = 0; i < FN_ARRAY_LEN(archs); i++)
        if (!strcmp(archs[i].name, name)) return &archs[i];
    return NULL;
}

const arch_desc *arch_at(size_t i) { return i < FN_ARRAY_LEN(archs) ? &archs[i] : NULL; }

size_t arch_count(void) { return FN_ARRAY_LEN(archs); }

bool arch_tensor_applies(const arch_tensor *t, const model_hparams *hp) {
    bool moe = hp->n_expert > 0;
    if ((t->flags & TF_DENSE) && moe) return false;
    if ((t->flags & TF_MOE) && !moe) return false;
    return true;
}

int64_t arch_dim_value(arch_dim d, const model_hparams *hp) {
    switch (d) {
    case DIM_ONE: return 1;
    case DIM_EMBD: return hp->n_embd;
    case DIM_VOCAB: return hp->n_vocab;
    case DIM_Q: return (int64_t)hp->n_head * hp->head_dim_k;
    case DIM_K: return (int64_t)hp->n_head_kv * hp->head_dim_k;
    case DIM_V: return (int64_t)hp->n_head_kv * hp->head_dim_v;
    case DIM_ATTN_OUT: return (int64_t)hp->n_head * hp->head_dim_v;
    case DIM_HEAD_K: return hp->head_dim_k;
    case DIM_FF: return hp->n_ff;
    case DIM_FF_EXP: return hp->n_ff_exp;
    case DIM_EXPERT: return hp->n_expert;
    case DIM_ROT_HALF: return hp->n_rot / 2;
    }
    return 1;
}

void arch_tensor_name(const arch_tensor *t, int layer, char *buf, size_t size) {
    if (t->flags & TF_LAYER)
        snprintf(buf, size, t->name, layer);
    else
        snprintf(buf, size, "%s", t->name);
}
