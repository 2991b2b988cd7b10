/* forward.h - the transformer forward pass over a batch of tokens from any number of
 * sequences (prefill chunks and decode tokens mixed), each with its own positions and KV
 * cache slot. Shared by every architecture; differences come from the arch table. */
#ifndef FENNEC_MODEL_FORWARD_H
#define FENNEC_MODEL_FORWARD_H

#include <stdint.h>

#include "base/threadpool.h"
#include "kv/kv_cache.h"
#include "model/model.h"

typedef struct {
    int n_tokens;
    const int32_t *tokens;    /* token ids */
    const int32_t *pos;       /* position of each token in its sequence (0-based) */
    const int32_t *seq;       /* KV cache sequence slot of each token */
    const uint8_t *logits;    /* nonzero: return logits for this token; NULL: only the last */
} fwd_batch;

typedef struct forward_ctx forward_ctx;

/* Allocates every buffer a batch of up to max_tokens needs (larger batches are run in
 * chunks), so forward_run never allocates. model, kv and pool are borrowed. */
forward_ctx *forward_new(const model *m, kv_cache *kv, fn_pool *pool, int max_tokens);
void forward_free(forward_ctx *c);

/* Runs the batch. Writes n_vocab logits for each selected token, in batch order, to
 * logits_out (room for count * n_vocab floats). A token attends to positions 0..pos of its
 * sequence: earlier positions must already be in the cache (from this or an earlier batch).
 * Returns the number of logit rows written, or -1 with fn_errmsg() (bad token id, position,
 * sequence, or cache full) before anything is computed. */
int forward_run(forward_ctx *c, const fwd_batch *b, float *logits_out);

#endif
