/* wordcache.h - a per-call memo of words already encoded (word bytes -> token ids), so a
 * long text with repeated words runs each distinct word through the merge engine once.
 * Bounded in size; when full it stops learning and keeps answering. One per call or
 * thread: it is not shared, so tokenizers stay safe to use from many threads. */
#ifndef FENNEC_TOK_WORDCACHE_H
#define FENNEC_TOK_WORDCACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tok/idvec.h"

#define WORDCACHE_MAX_WORD 48   /* longer words are rare enough to encode each time */

typedef struct wordcache_entry wordcache_entry;

typedef struct {
    wordcache_entry *tab;       /* open addressing, mask + 1 slots (owned) */
    size_t mask, used;
    bool full;                  /* at its size limit: no more insertions */
    char *words;                /* word bytes (owned) */
    size_t words_n, words_cap;
    int32_t *ids;               /* their ids (owned) */
    size_t ids_n, ids_cap;
} wordcache;

void wordcache_free(wordcache *c);

/* If word[0..n) is cached, appends its ids to out and returns 1; returns 0 if not (or if
 * the word is too long to cache), -1 when out cannot grow. *hash receives the word's hash
 * for wordcache_put. */
int wordcache_get(wordcache *c, const char *word, size_t n, uint64_t *hash, idvec *out);

/* Remembers ids[0..nids) for word (hash from wordcache_get); ids may be NULL when nids
 * is 0. Failures to allocate only
 * mean the word is not remembered. */
void wordcache_put(wordcache *c, uint64_t hash, const char *word, size_t n, const int32_t *ids,
                   size_t nids);

#endif
