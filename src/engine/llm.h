/* llm.h - a model ready to run: the mapped weights, a thread pool, a KV cache and a
 * forward context, created together from one set of options. What `run`, `bench`,
 * `perplexity` and the server's scheduler sit on. */
#ifndef FENNEC_ENGINE_LLM_H
#define FENNEC_ENGINE_LLM_H

#include <stdint.h>

#include "base/threadpool.h"
#include "kv/kv_cache.h"
#include "model/forward.h"
#include "model/model.h"

typedef struct {
    const char *model_path;
    int n_threads;        /* 0: all cores */
    int n_ctx;            /* KV positions over all sequences (0: min(4096, trained)) */
    int n_seq;            /* sequence slots (default 1) */
    int max_batch;        /* tokens per forward call; longer batches run in chunks (0: 512) */
    uint32_t kv_type;     /* FN_F16 (0 means f16) or FN_Q8_0 */
    int allow_oversize;   /* load a model larger than physical memory */
} llm_options;

typedef struct {
    model *m;
    fn_pool *pool;
    kv_cache *kv;
    forward_ctx *fwd;
    int n_ctx;
    int n_threads;
    int max_batch;
} llm;

/* NULL + fn_errmsg() on any failure (nothing left allocated). */
llm *llm_open(const llm_options *o);
void llm_close(llm *l);

/* Cores available to this process. */
int llm_default_threads(void);

#endif
