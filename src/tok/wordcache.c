/* wordcache.c - open-addressing memo of encoded words (see wordcache.h). */
#include "tok/wordcache.h"

#include "tok/strmap.h"

#include <stdlib.h>
#include <string.h>

struct wordcache_entry {
    uint64_t hash;
    uint32_t woff, wlen;        /* word bytes in words[]; wlen 0 = free slot */
    uint32_t ioff, nids;        /* its ids in ids[] */
};

#define MAX_SLOTS (1u << 18)

void wordcache_free(wordcache *c) {
    free(c->tab);
    free(c->words);
    free(c->ids);
    memset(c, 0, sizeof *c);
}

static wordcache_entry *find(const wordcache *c, uint64_t h, const char *w, size_t n) {
    for (size_t i = (size_t)h & c->mask;; i = (i + 1) & c->mask) {
        wordcache_entry *e = &c->tab[i];
        if (!e->wlen || (e->hash == h && e->wlen == n && !memcmp(c->words + e->woff, w, n))) return e;
    }
}

/* Doubles the table (the first call makes it); false at the size limit or out of memory. */
static bool grow_table(wordcache *c) {
    size_t old_n = c->tab ? c->mask + 1 : 0, n = old_n ? old_n * 2 : 256;
    if (n > MAX_SLOTS) return false;
    wordcache_entry *t = calloc(n, sizeof *t), *old = c->tab;
    if (!t) return false;
    c->tab = t;
    c->mask = n - 1;
    for (size_t i = 0; i < old_n; i++) {
        if (!old[i].wlen) continue;
        size_t j = (size_t)old[i].hash & c->mask;
        while (t[j].wlen) j = (j + 1) & c->mask;
        t[j] = old[i];
    }
    free(old);
    return true;
}

static bool reserve(void **p, size_t *cap, size_t need, size_t elem) {
    if (*p && need <= *cap) return true;
    size_t nc = *cap ? *cap : 4096;
    while (nc < need) nc *= 2;
    void *q = realloc(*p, nc * elem);
    if (!q) return false;
    *p = q;
    *cap = nc;
    return true;
}

int wordcache_get(wordcache *c, const char *word, size_t n, uint64_t *hash, idvec *out) {
    if (n == 0 || n > WORDCACHE_MAX_WORD) return 0;
    *hash = strmap_hash(word, n);
    if (!c->tab && !grow_table(c)) return 0;
    const wordcache_entry *e = find(c, *hash, word, n);
    if (!e->wlen) return 0;
    if (e->nids) {
        if (idvec_reserve(out, e->nids)) return -1;
        memcpy(out->v + out->n, c->ids + e->ioff, e->nids * sizeof(int32_t));
        out->n += e->nids;
    }
    return 1;
}

void wordcache_put(wordcache *c, uint64_t hash, const char *word, size_t n, const int32_t *ids,
                   size_t nids) {
    if (c->full || !c->tab || n == 0 || n > WORDCACHE_MAX_WORD) return;
    if (c->words_n + n > UINT32_MAX || c->ids_n + nids > UINT32_MAX) return;
    if (!reserve((void **)&c->words, &c->words_cap, c->words_n + n, 1) ||
        !reserve((void **)&c->ids, &c->ids_cap, c->ids_n + nids, sizeof *c->ids))
        return;
    wordcache_entry *e = find(c, hash, word, n);
    if (e->wlen) return; /* already there */
    memcpy(c->words + c->words_n, word, n);
    if (nids) memcpy(c->ids + c->ids_n, ids, nids * sizeof *ids);
    *e = (wordcache_entry){hash, (uint32_t)c->words_n, (uint32_t)n, (uint32_t)c->ids_n, (uint32_t)nids};
    c->words_n += n;
    c->ids_n += nids;
    /* keep at least 30% of the slots free so that lookups always end */
    if (++c->used * 10 > (c->mask + 1) * 7 && !grow_table(c)) c->full = true;
}
