/* kv_cache.c - paged KV pool (see kv_cache.h). Layout: one K and one V arena per layer,
 * each n_pages * page_tokens rows, so a page's rows for a layer are contiguous. */
#include "kv/kv_cache.h"

#include <stdlib.h>
#include <string.h>

#include "base/dtype.h"
#include "base/error.h"

typedef struct {
    int32_t *pages;     /* page table */
    int n_pages;
    int cap;
} kv_seq;

struct kv_cache {
    kv_cache_params p;
    int n_pages;
    size_t k_row, v_row;           /* bytes per position per layer */
    uint8_t **k, **v;              /* [layer] -> n_pages * page_tokens rows */
    int32_t *refs;                 /* per page */
    int32_t *free_pages;           /* stack */
    int n_free;
    kv_seq *seqs;
};

kv_cache *kv_cache_new(const kv_cache_params *p) {
    kv_cache_params q = *p;
    if (!q.page_tokens) q.page_tokens = 64;
    if (q.n_layer <= 0 || q.k_dim <= 0 || q.v_dim <= 0 || q.n_ctx <= 0 || q.max_seqs <= 0 || q.page_tokens <= 0)
        return fn_error("kv cache: invalid parameters"), NULL;
    if (q.type != FN_F16 && q.type != FN_Q8_0) return fn_error("kv cache: type must be f16 or q8_0"), NULL;
    int64_t kb = fn_dtype_row_bytes(q.type, q.k_dim), vb = fn_dtype_row_bytes(q.type, q.v_dim);
    if (kb < 0 || vb < 0) return fn_error("kv cache: head size is not a multiple of the %s block", fn_dtype_name(q.type)), NULL;
    kv_cache *kv = calloc(1, sizeof *kv);
    if (!kv) return fn_error("kv cache: out of memory"), NULL;
    kv->p = q;
    kv->n_pages = (q.n_ctx + q.page_tokens - 1) / q.page_tokens + q.max_seqs; /* slack for partial pages */
    kv->k_row = (size_t)kb;
    kv->v_row = (size_t)vb;
    kv->k = calloc((size_t)q.n_layer, sizeof *kv->k);
    kv->v = calloc((size_t)q.n_layer, sizeof *kv->v);
    kv->refs = calloc((size_t)kv->n_pages, sizeof *kv->refs);
    kv->free_pages = malloc((size_t)kv->n_pages * sizeof *kv->free_pages);
    kv->seqs = calloc((size_t)q.max_seqs, sizeof *kv->seqs);
    if (!kv->k || !kv->v || !kv->refs || !kv->free_pages || !kv->seqs) goto oom;
    size_t rows = (size_t)kv->n_pages * (size_t)q.page_tokens;
    for (int l = 0; l < q.n_layer; l++) {
        /* calloc: untouched pages cost no memory until used */
        kv->k[l] = calloc(rows, kv->k_row);
        kv->v[l] = calloc(rows, kv->v_row);
        if (!kv->k[l] || !kv->v[l]) goto oom;
    }
    for (int i = 0; i < kv->n_pages; i++) kv->free_pages[i] = kv->n_pages - 1 - i;
    kv->n_free = kv->n_pages;
    return kv;
oom:
    kv_cache_free(kv);
    fn_error("kv cache: out of memory for %d positions", q.n_ctx);
    return NULL;
}

void kv_cache_free(kv_cache *kv) {
    if (!kv) return;
    for (int l = 0; kv->k && l < kv->p.n_layer; l++) free(kv->k[l]);
    for (int l = 0; kv->v && l < kv->p.n_layer; l++) free(kv->v[l]);
    for (int s = 0; kv->seqs && s < kv->p.max_seqs; s++) free(kv->seqs[s].pages);
    free(kv->k);
    free(kv->v);
    free(kv->refs);
    free(kv->free_pages);
    free(kv->seqs);
    free(kv);
}

int kv_seq_reserve(kv_cache *kv, int seq, int n_pos) {
    if (seq < 0 || seq >= kv->p.max_seqs) return fn_error("kv cache: sequence %d out of range", seq);
    kv_seq *s = &kv->seqs[seq];
    int need = (n_pos + kv->p.page_tokens - 1) / kv->p.page_tokens;
    if (need <= s->n_pages) return 0;
    if (need - s->n_pages > kv->n_free)
        return fn_error("kv cache full: sequence needs %d positions, %d free", n_pos - s->n_pages * kv->p.page_tokens,
                        kv->n_free * kv->p.page_tokens);
    if (need > s->cap) {
        int cap = need > 2 * s->cap ? need : 2 * s->cap;
        int32_t *grown = realloc(s->pages, (size_t)cap * sizeof *grown);
        if (!grown) return fn_error("kv cache: out of memory");
        s->pages = grown;
        s->cap = cap;
    }
    while (s->n_pages < need) {
        int32_t pg = kv->free_pages[--kv->n_free];
        kv->refs[pg] = 1;
        s->pages[s->n_pages++] = pg;
    }
    return 0;
}

void kv_seq_truncate(kv_cache *kv, int seq, int n_pos) {
    if (seq < 0 || seq >= kv->p.max_seqs) return;
    kv_seq *s = &kv->seqs[seq];
    int keep = (n_pos + kv->p.page_tokens - 1) / kv->p.page_tokens;
    while (s->n_pages > keep) {
        int32_t pg = s->pages[--s->n_pages];
        if (--kv->refs[pg] == 0) kv->free_pages[kv->n_free++] = pg;
    }
}

int kv_seq_capacity(const kv_cache *kv, int seq) { return kv->seqs[seq].n_pages * kv->p.page_tokens; }
int kv_free_positions(const kv_cache *kv) { return kv->n_free * kv->p.page_tokens; }
int kv_page_tokens(const kv_cache *kv) { return kv->p.page_tokens; }
uint32_t kv_type(const kv_cache *kv) { return kv->p.type; }
size_t kv_k_row_bytes(const kv_cache *kv) { return kv->k_row; }
size_t kv_v_row_bytes(const kv_cache *kv) { return kv->v_row; }

size_t kv_total_bytes(const kv_cache *kv) {
    return (size_t)kv->p.n_layer * (size_t)kv->n_pages * (size_t)kv->p.page_tokens * (kv->k_row + kv->v_row);
}

void *kv_k_at(const kv_cache *kv, int layer, int seq, int pos) {
    const kv_seq *s = &kv->seqs[seq];
    int32_t pg = s->pages[pos / kv->p.page_tokens];
    return kv->k[layer] + ((size_t)pg * (size_t)kv->p.page_tokens + (size_t)(pos % kv->p.page_tokens)) * kv->k_row;
}

void *kv_v_at(const kv_cache *kv, int layer, int seq, int pos) {
    const kv_seq *s = &kv->seqs[seq];
    int32_t pg = s->pages[pos / kv->p.page_tokens];
    return kv->v[layer] + ((size_t)pg * (size_t)kv->p.page_tokens + (size_t)(pos % kv->p.page_tokens)) * kv->v_row;
}

const int32_t *kv_seq_pages(const kv_cache *kv, int seq, int *n_pages) {
    *n_pages = kv->seqs[seq].n_pages;
    return kv->seqs[seq].pages;
}

void *kv_page_k(const kv_cache *kv, int layer, int32_t page) {
    return kv->k[layer] + (size_t)page * (size_t)kv->p.page_tokens * kv->k_row;
}

void *kv_page_v(const kv_cache *kv, int layer, int32_t page) {
    return kv->v[layer] + (size_t)page * (size_t)kv->p.page_tokens * kv->v_row;
}
