/* model.c - binding GGUF tensors to an architecture's weight roles (see model.h). */
#include "model/model.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/dtype.h"
#include "base/error.h"
#include "tensor/matmul.h"
#include "tensor/tensor_format.h"

static void format_shape(char *buf, size_t size, int n_dims, const int64_t *ne) {
    int o = snprintf(buf, size, "[");
    for (int d = 0; d < n_dims && o < (int)size; d++)
        o += snprintf(buf + o, size - (size_t)o, "%s%" PRId64, d ? ", " : "", ne[d]);
    if (o < (int)size) snprintf(buf + o, size - (size_t)o, "]");
}

/* Checks one tensor against its table entry and fills the weight view. */
static int bind(model_weight *out, const gguf_file *f, const arch_tensor *at, int layer, const model_hparams *hp) {
    char name[128];
    arch_tensor_name(at, layer, name, sizeof name);
    int64_t want[3];
    for (int d = 0; d < 3; d++) want[d] = arch_dim_value(at->dims[d], hp);
    const gguf_tensor *t = gguf_find_tensor(f, name);
    char ws[64], gs[64];
    format_shape(ws, sizeof ws, at->n_dims, want);
    if (!t) {
        if (at->flags & TF_OPTIONAL) return 0;
        return fn_error("missing tensor '%s' (expected shape %s)", name, ws);
    }
    bool same = t->n_dims < 4 || t->ne[3] == 1; /* trailing dimensions of 1 are fine */
    for (int d = 0; d < 3 && same; d++) same = (d < (int)t->n_dims ? t->ne[d] : 1) == want[d];
    if (!same) {
        format_shape(gs, sizeof gs, (int)t->n_dims, t->ne);
        return fn_error("tensor '%s' has shape %s, expected %s", name, gs, ws);
    }
    if (at->flags & TF_VECTOR) {
        if (t->type != FN_F32)
            return fn_error("tensor '%s' has type %s, expected f32", name, fn_dtype_name(t->type));
    } else if (at->role == W_TOKEN_EMBD) {
        if (!tensor_can_dequantize(t->type))
            return fn_error("tensor '%s' has type %s, which fennec cannot read", name, fn_dtype_name(t->type));
    } else if (mm_act_type(t->type) < 0) {
        return fn_error("tensor '%s' has type %s, which has no matrix kernel", name, fn_dtype_name(t->type));
    }
    out->data = t->data;
    out->type = t->type;
    for (int d = 0; d < 3; d++) out->ne[d] = d < (int)t->n_dims ? t->ne[d] : 1;
    out->row_bytes = (size_t)fn_dtype_row_bytes(t->type, t->ne[0]);
    out->matrix_bytes = out->row_bytes * (size_t)out->ne[1];
    return 0;
}

static uint64_t active_bytes_of(const model_weight *w, weight_role role, const model_hparams *hp) {
    if (!w->data) return 0;
    if (role == W_TOKEN_EMBD) return w->row_bytes;
    uint64_t all = (uint64_t)w->matrix_bytes * (uint64_t)w->ne[2];
    if (role == W_FFN_GATE_EXPS || role == W_FFN_UP_EXPS || role == W_FFN_DOWN_EXPS)
        return (uint64_t)w->matrix_bytes * hp->n_expert_used;
    return all;
}

model *model_load(const char *path, const model_load_options *opt) {
    model *m = calloc(1, sizeof *m);
    if (!m) {
        fn_error("out of memory");
        return NULL;
    }
    m->file = gguf_open(path);
    if (!m->file) goto fail;
    gguf_str arch_name;
    if (!gguf_get_str(m->file, "general.architecture", &arch_name)) {
        fn_error("%s: no general.architecture key: not a model file (a vocabulary-only GGUF?)", path);
        goto fail;
    }
    char an[64];
    snprintf(an, sizeof an, "%.*s", (int)(arch_name.len < 63 ? arch_name.len : 63), arch_name.ptr);
    if (!arch_find(an)) {
        fn_error("%s: architecture '%s' is not supported (supported: llama, qwen2, qwen3, qwen3moe)", path, an);
        goto fail;
    }
    if (hparams_read(&m->hp, m->file)) {
        fn_error_prefix("%s", path);
        goto fail;
    }
    m->arch = arch_find(m->hp.arch);
    if (!m->arch) {
        fn_error("%s: architecture '%s' is not supported (supported: llama, qwen2, qwen3, qwen3moe)", path, m->hp.arch);
        goto fail;
    }
    long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGE_SIZE);
    uint64_t ram = pages > 0 && page > 0 ? (uint64_t)pages * (uint64_t)page : 0;
    if (ram && gguf_file_size(m->file) > ram && !(opt && opt->allow_oversize)) {
        fn_error("%s: model is %.1f GiB but this machine has %.1f GiB of memory", path,
                 (double)gguf_file_size(m->file) / (1 << 30), (double)ram / (1 << 30));
        goto fail;
    }
    m->layers = calloc(m->hp.n_layer, sizeof *m->layers);
    if (!m->layers) {
        fn_error("out of memory");
        goto fail;
    }
    for (size_t i = 0; i < m->arch->n_tensors; i++) {
        const arch_tensor *at = &m->arch->tensors[i];
        if (!arch_tensor_applies(at, &m->hp)) continue;
        if (at->flags & TF_LAYER) {
            for (uint32_t l = 0; l < m->hp.n_layer; l++) {
                if (bind(&m->layers[l].w[at->role], m->file, at, (int)l, &m->hp)) goto fail_named;
                m->active_bytes += active_bytes_of(&m->layers[l].w[at->role], at->role, &m->hp);
            }
        } else {
            if (bind(&m->global[at->role], m->file, at, -1, &m->hp)) goto fail_named;
            m->active_bytes += active_bytes_of(&m->global[at->role], at->role, &m->hp);
        }
    }
    if (!m->global[W_OUTPUT].data) {
        /* tied output: the embedding table is also the output matrix */
        if (mm_act_type(m->global[W_TOKEN_EMBD].type) < 0) {
            fn_error("%s: tied output uses token_embd of type %s, which has no matrix kernel", path,
                     fn_dtype_name(m->global[W_TOKEN_EMBD].type));
            goto fail;
        }
        m->active_bytes += m->global[W_TOKEN_EMBD].matrix_bytes;
    }
    for (size_t i = 0; i < gguf_n_tensors(m->file); i++) m->weight_bytes += gguf_tensor_at(m->file, i)->n_bytes;
    return m;
fail_named:
    fn_error_prefix("%s", path);
fail:
    model_free(m);
    return NULL;
}

void model_free(model *m) {
    if (!m) return;
    if (m->file) gguf_close(m->file);
    free(m->layers);
    free(m);
}

const model_weight *model_output_weight(const model *m) {
    return m->global[W_OUTPUT].data ? &m->global[W_OUTPUT] : &m->global[W_TOKEN_EMBD];
}
