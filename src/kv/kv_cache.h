/* kv_cache.h - paged key/value cache. Memory is a pool of fixed-size pages (page_tokens
 * positions of every layer's K and V); each sequence owns a page table mapping positions
 * to pages, so sequences grow and shrink independently and share one budget. Pages are
 * reference-counted so a later prefix cache can share them between sequences. */
#ifndef FENNEC_KV_KV_CACHE_H
#define FENNEC_KV_KV_CACHE_H

#include <stddef.h>
#include <stdint.h>

typedef struct kv_cache kv_cache;

typedef struct {
    int n_layer;
    int k_dim;          /* n_head_kv * head_dim_k: elements of one position's K in a layer */
    int v_dim;          /* n_head_kv * head_dim_v */
    uint32_t type;      /* FN_F16 (default) or FN_Q8_0 */
    int n_ctx;          /* total positions the pool holds, over all sequences */
    int max_seqs;       /* sequence slots 0..max_seqs-1 */
    int page_tokens;    /* positions per page (0: 64) */
} kv_cache_params;

/* Allocates the pool. NULL + fn_errmsg() on bad parameters or out of memory. */
kv_cache *kv_cache_new(const kv_cache_params *p);
void kv_cache_free(kv_cache *kv);

/* Makes positions [0, n_pos) of seq addressable, taking pages from the pool. Returns 0, or
 * -1 with fn_errmsg() when the pool is exhausted (the sequence keeps what it had). */
int kv_seq_reserve(kv_cache *kv, int seq, int n_pos);

/* Forgets positions >= n_pos of seq (0 clears it), returning unused pages to the pool. */
void kv_seq_truncate(kv_cache *kv, int seq, int n_pos);

/* Positions currently addressable for seq (a multiple of page_tokens). */
int kv_seq_capacity(const kv_cache *kv, int seq);

/* Free positions left in the pool. */
int kv_free_positions(const kv_cache *kv);

int kv_page_tokens(const kv_cache *kv);
uint32_t kv_type(const kv_cache *kv);
size_t kv_k_row_bytes(const kv_cache *kv);
size_t kv_v_row_bytes(const kv_cache *kv);
size_t kv_total_bytes(const kv_cache *kv);

/* Address of position pos's K (or V) row in layer, for seq. pos < kv_seq_capacity. */
void *kv_k_at(const kv_cache *kv, int layer, int seq, int pos);
void *kv_v_at(const kv_cache *kv, int layer, int seq, int pos);

/* Page table of seq: page i holds positions [i*page_tokens, (i+1)*page_tokens). */
const int32_t *kv_seq_pages(const kv_cache *kv, int seq, int *n_pages);

/* Start of a page's K (or V) rows in layer: page_tokens rows of kv_k_row_bytes. */
void *kv_page_k(const kv_cache *kv, int layer, int32_t page);
void *kv_page_v(const kv_cache *kv, int layer, int32_t page);

#endif
