/* hparams.c - hyper-parameter keys of the Llama-family architectures (see hparams.h). */
#include "model/hparams.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "base/error.h"

static const char *key(char *buf, size_t size, const char *arch, const char *suffix) {
    snprintf(buf, size, "%s.%s", arch, suffix);
    return buf;
}

/* Reads an unsigned key; a per-layer array is refused with a clear message because all
 * supported architectures use one value for every layer. */
static int read_u32(const gguf_file *f, const char *arch, const char *suffix, bool required,
                    uint32_t def, uint32_t *out) {
    char k[160];
    key(k, sizeof k, arch, suffix);
    const gguf_kv *kv = gguf_find_kv(f, k);
    if (!kv) {
        if (required) return fn_error("missing required key '%s'", k);
        *out = def;
        return 0;
    }
    if (kv->type == GGUF_TYPE_ARRAY)
        return fn_error("key '%s' is a per-layer array; only one value for all layers is supported", k);
    if (!gguf_get_u32(f, k, out)) return fn_error("key '%s' is not an unsigned 32-bit integer", k);
    return 0;
}

static int read_f32(const gguf_file *f, const char *arch, const char *suffix, float def, float *out) {
    char k[160];
    key(k, sizeof k, arch, suffix);
    if (!gguf_find_kv(f, k)) {
        *out = def;
        return 0;
    }
    if (!gguf_get_f32(f, k, out) || !isfinite(*out)) return fn_error("key '%s' is not a finite number", k);
    return 0;
}

int hparams_read(model_hparams *hp, const gguf_file *f) {
    memset(hp, 0, sizeof *hp);
    gguf_str arch;
    if (!gguf_get_str(f, "general.architecture", &arch)) return fn_error("missing key 'general.architecture'");
    if (arch.len == 0 || arch.len >= sizeof hp->arch) return fn_error("bad general.architecture");
    memcpy(hp->arch, arch.ptr, arch.len);
    const char *a = hp->arch;

    if (read_u32(f, a, "context_length", true, 0, &hp->n_ctx_train) ||
        read_u32(f, a, "embedding_length", true, 0, &hp->n_embd) ||
        read_u32(f, a, "block_count", true, 0, &hp->n_layer) ||
        read_u32(f, a, "attention.head_count", true, 0, &hp->n_head) ||
        read_u32(f, a, "attention.head_count_kv", false, hp->n_head, &hp->n_head_kv) ||
        read_u32(f, a, "feed_forward_length", false, 0, &hp->n_ff) ||
        read_u32(f, a, "expert_count", false, 0, &hp->n_expert) ||
        read_u32(f, a, "expert_used_count", hp->n_expert > 0, 0, &hp->n_expert_used) ||
        read_u32(f, a, "expert_feed_forward_length", false, hp->n_ff, &hp->n_ff_exp))
        return -1;
    if (hp->n_embd == 0 || hp->n_embd > (1u << 17)) return fn_error("%s.embedding_length %u is out of range", a, hp->n_embd);
    if (hp->n_layer == 0 || hp->n_layer > 4096) return fn_error("%s.block_count %u is out of range", a, hp->n_layer);
    if (hp->n_head == 0 || hp->n_head > 4096) return fn_error("%s.attention.head_count %u is out of range", a, hp->n_head);
    if (hp->n_head_kv == 0 || hp->n_head % hp->n_head_kv)
        return fn_error("%s.attention.head_count_kv %u does not divide head_count %u", a, hp->n_head_kv, hp->n_head);
    if (read_u32(f, a, "attention.key_length", false, hp->n_embd / hp->n_head, &hp->head_dim_k) ||
        read_u32(f, a, "attention.value_length", false, hp->head_dim_k, &hp->head_dim_v) ||
        read_u32(f, a, "rope.dimension_count", false, hp->head_dim_k, &hp->n_rot))
        return -1;
    if (hp->head_dim_k == 0 || hp->head_dim_k > 1024 || hp->head_dim_v == 0 || hp->head_dim_v > 1024)
        return fn_error("%s: head size %u/%u is out of range", a, hp->head_dim_k, hp->head_dim_v);
    if (hp->n_rot > hp->head_dim_k || hp->n_rot % 2) return fn_error("%s.rope.dimension_count %u is invalid", a, hp->n_rot);
    if (hp->n_expert > 0) {
        if (hp->n_expert > 4096) return fn_error("%s.expert_count %u is out of range", a, hp->n_expert);
        if (hp->n_expert_used == 0 || hp->n_expert_used > hp->n_expert)
            return fn_error("%s.expert_used_count %u must be in 1..%u", a, hp->n_expert_used, hp->n_expert);
        if (hp->n_ff_exp == 0) return fn_error("%s: expert FFN width is missing (expert_feed_forward_length)", a);
    } else if (hp->n_ff == 0) {
        return fn_error("missing required key '%s.feed_forward_length'", a);
    }
    if (read_f32(f, a, "attention.layer_norm_rms_epsilon", 1e-5f, &hp->rms_eps) ||
        read_f32(f, a, "rope.freq_base", 10000.0f, &hp->rope_freq_base) ||
        read_f32(f, a, "rope.scaling.factor", 0.0f, &hp->rope_scale_factor) ||
        read_f32(f, a, "rope.scaling.yarn_ext_factor", -1.0f, &hp->yarn_ext_factor) ||
        read_f32(f, a, "rope.scaling.attn_factor", 1.0f, &hp->yarn_attn_factor) ||
        read_f32(f, a, "rope.scaling.yarn_beta_fast", 32.0f, &hp->yarn_beta_fast) ||
        read_f32(f, a, "rope.scaling.yarn_beta_slow", 1.0f, &hp->yarn_beta_slow) ||
        read_u32(f, a, "rope.scaling.original_context_length", false, hp->n_ctx_train, &hp->rope_orig_ctx))
        return -1;
    if (hp->rms_eps <= 0 || hp->rope_freq_base <= 0) return fn_error("%s: rms epsilon and rope base must be positive", a);

    char k[160];
    gguf_str st;
    hp->rope_scaling = ROPE_SCALING_NONE;
    if (gguf_get_str(f, key(k, sizeof k, a, "rope.scaling.type"), &st)) {
        if (st.len == 6 && !memcmp(st.ptr, "linear", 6)) hp->rope_scaling = ROPE_SCALING_LINEAR;
        else if (st.len == 4 && !memcmp(st.ptr, "yarn", 4)) hp->rope_scaling = ROPE_SCALING_YARN;
        else if (!(st.len == 4 && !memcmp(st.ptr, "none", 4)))
            return fn_error("%s: unsupported rope scaling type '%.*s'", a, (int)(st.len > 32 ? 32 : st.len), st.ptr);
    }
    if (hp->rope_scaling != ROPE_SCALING_NONE && hp->rope_scale_factor <= 0)
        return fn_error("%s: rope scaling needs a positive rope.scaling.factor", a);

    /* Vocabulary size: the tokenizer's token list is authoritative, vocab_size a fallback. */
    const gguf_kv *toks = gguf_find_kv(f, "tokenizer.ggml.tokens");
    if (toks && toks->type == GGUF_TYPE_ARRAY) {
        if (toks->arr_len == 0 || toks->arr_len > (1u << 24)) return fn_error("tokenizer.ggml.tokens has %llu entries", (unsigned long long)toks->arr_len);
        hp->n_vocab = (uint32_t)toks->arr_len;
    } else if (read_u32(f, a, "vocab_size", true, 0, &hp->n_vocab)) {
        return fn_error("model has neither tokenizer.ggml.tokens nor %s.vocab_size", a);
    }
    return 0;
}

int hparams_write(const model_hparams *hp, gguf_writer *w) {
    char k[160];
    const char *a = hp->arch;
    int rc = 0;
    rc |= gguf_writer_set_str(w, "general.architecture", a);
    rc |= gguf_writer_set_u32(w, key(k, sizeof k, a, "vocab_size"), hp->n_vocab);
    rc |= gguf_writer_set_u32(w, key(k, sizeof k, a, "context_length"), hp->n_ctx_train);
    rc |= gguf_writer_set_u32(w, key(k, sizeof k, a, "embedding_length"), hp->n_embd);
    rc |= gguf_writer_set_u32(w, key(k, sizeof k, a, "block_count"), hp->n_layer);
    if (hp->n_ff) rc |= gguf_writer_set_u32(w, key(k, sizeof k, a, "feed_forward_length"), hp->n_ff);
    rc |= gguf_writer_set_u32(w, key(k, sizeof k, a, "attention.head_count"), hp->n_head);
    rc |= gguf_writer_set_u32(w, key(k, sizeof k, a, "attention.head_count_kv"), hp->n_head_kv);
    rc |= gguf_writer_set_u32(w, key(k, sizeof k, a, "attention.key_length"), hp->head_dim_k);
    rc |= gguf_writer_set_u32(w, key(k, sizeof k, a, "attention.value_length"), hp->head_dim_v);
    rc |= gguf_writer_set_u32(w, key(k, sizeof k, a, "rope.dimension_count"), hp->n_rot);
    rc |= gguf_writer_set_f32(w, key(k, sizeof k, a, "attention.layer_norm_rms_epsilon"), hp->rms_eps);
    rc |= gguf_writer_set_f32(w, key(k, sizeof k, a, "rope.freq_base"), hp->rope_freq_base);
    if (hp->n_expert) {
        rc |= gguf_writer_set_u32(w, key(k, sizeof k, a, "expert_count"), hp->n_expert);
        rc |= gguf_writer_set_u32(w, key(k, sizeof k, a, "expert_used_count"), hp->n_expert_used);
        rc |= gguf_writer_set_u32(w, key(k, sizeof k, a, "expert_feed_forward_length"), hp->n_ff_exp);
    }
    if (hp->rope_scaling != ROPE_SCALING_NONE) {
        rc |= gguf_writer_set_str(w, key(k, sizeof k, a, "rope.scaling.type"),
                                  hp->rope_scaling == ROPE_SCALING_YARN ? "yarn" : "linear");
        rc |= gguf_writer_set_f32(w, key(k, sizeof k, a, "rope.scaling.factor"), hp->rope_scale_factor);
        rc |= gguf_writer_set_u32(w, key(k, sizeof k, a, "rope.scaling.original_context_length"), hp->rope_orig_ctx);
    }
    return rc ? -1 : 0;
}
