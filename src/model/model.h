/* model.h - a loaded model: the GGUF file mapped read-only, its hyper-parameters, and
 * every weight bound by role from the architecture table with its shape checked. Weights
 * are borrowed views into the mapping; nothing is copied. */
#ifndef FENNEC_MODEL_MODEL_H
#define FENNEC_MODEL_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "gguf/gguf.h"
#include "model/arch.h"
#include "model/hparams.h"

typedef struct {
    const void *data;       /* borrowed from the mapping; NULL if the weight is absent */
    uint32_t type;          /* fn_dtype */
    int64_t ne[3];          /* ne[0] = row length (input dim), ne[1] rows, ne[2] experts */
    size_t row_bytes;       /* bytes of one row of ne[0] elements */
    size_t matrix_bytes;    /* bytes of one ne[0] x ne[1] matrix (one expert's slice) */
} model_weight;

typedef struct {
    model_weight w[W_ROLE_COUNT]; /* indexed by weight_role; only per-layer roles are set */
} model_layer;

typedef struct {
    gguf_file *file;              /* owned */
    model_hparams hp;
    const arch_desc *arch;
    model_weight global[W_ROLE_COUNT]; /* token_embd, output_norm, output, rope_freqs */
    model_layer *layers;          /* hp.n_layer entries, owned */
    uint64_t weight_bytes;        /* all tensor bytes */
    uint64_t active_bytes;        /* weight bytes one decode token reads */
} model;

typedef struct {
    int allow_oversize;           /* don't refuse a file larger than physical memory */
} model_load_options;

/* Opens, validates and binds a model. Fails (NULL + fn_errmsg()) for an unknown
 * architecture, a missing tensor, a tensor whose shape or type does not match the table
 * ("tensor 'blk.3.attn_q.weight' has shape [2048, 512], expected [2048, 4096]"), or a
 * file larger than physical memory (unless allowed). */
model *model_load(const char *path, const model_load_options *opt);

void model_free(model *m);

/* The output matrix: output.weight, or token_embd when the two are tied. */
const model_weight *model_output_weight(const model *m);

#endif
