/* llm.c - model + pool + cache + forward context (see llm.h). */
#include "engine/llm.h"

#include <sched.h>
#include <stdlib.h>
#include <unistd.h>

#include "base/dtype.h"
#include "base/error.h"

int llm_default_threads(void) {
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) == 0) return CPU_COUNT(&set) > 0 ? CPU_COUNT(&set) : 1;
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int)n : 1;
}

llm *llm_open(const llm_options *o) {
    llm *l = calloc(1, sizeof *l);
    if (!l) return fn_error("out of memory"), NULL;
    model_load_options mo = {o->allow_oversize};
    l->m = model_load(o->model_path, &mo);
    if (!l->m) goto fail;
    const model_hparams *hp = &l->m->hp;
    l->n_threads = o->n_threads > 0 ? o->n_threads : llm_default_threads();
    l->n_ctx = o->n_ctx > 0 ? o->n_ctx : (hp->n_ctx_train < 4096 ? (int)hp->n_ctx_train : 4096);
    l->max_batch = o->max_batch > 0 ? o->max_batch : 512;
    if (o->n_ctx < 0 || o->n_ctx > (1 << 24)) {
        fn_error("context size %d is out of range", o->n_ctx);
        goto fail;
    }
    l->pool = fn_pool_new(l->n_threads);
    if (!l->pool) goto fail;
    kv_cache_params kp = {(int)hp->n_layer, (int)(hp->n_head_kv * hp->head_dim_k), (int)(hp->n_head_kv * hp->head_dim_v),
                          o->kv_type ? o->kv_type : FN_F16, l->n_ctx, o->n_seq > 0 ? o->n_seq : 1, 0};
    l->kv = kv_cache_new(&kp);
    if (!l->kv) goto fail;
    l->fwd = forward_new(l->m, l->kv, l->pool, l->max_batch);
    if (!l->fwd) goto fail;
    return l;
fail:
    llm_close(l);
    return NULL;
}

void llm_close(llm *l) {
    if (!l) return;
    forward_free(l->fwd);
    kv_cache_free(l->kv);
    fn_pool_free(l->pool);
    model_free(l->m);
    free(l);
}
