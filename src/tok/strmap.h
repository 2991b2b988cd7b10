/* strmap.h - open-addressing hash map from byte strings to token ids, for vocabularies.
 * Keys are not copied: the map indexes texts held in a caller-owned table (offsets and
 * lengths into one buffer) that must outlive it. Read-only lookups are thread-safe. */
#ifndef FENNEC_TOK_STRMAP_H
#define FENNEC_TOK_STRMAP_H

#include <stddef.h>
#include <stdint.h>

/* A fast 64-bit hash of n bytes (not cryptographic; inputs come from the vocabulary or
 * are bounded by the text being tokenized, so flooding is not a concern for a lookup
 * table built once at load). */
uint64_t strmap_hash(const void *p, size_t n);

typedef struct {
    uint64_t *slots;        /* cap slots: (hash >> 32) << 32 | (id + 1); 0 = empty (owned) */
    size_t mask;            /* cap - 1, cap a power of two */
    const char *buf;        /* borrowed: all key bytes */
    const uint32_t *off;    /* borrowed: key i starts at buf + off[i] */
    const uint32_t *len;    /* borrowed: key i has len[i] bytes */
} strmap;

/* Prepares an empty map for up to n keys stored in (buf, off, len). Returns 0 or -1. */
int strmap_init(strmap *m, size_t n, const char *buf, const uint32_t *off, const uint32_t *len);
void strmap_free(strmap *m);

/* Maps key id's text to id; a text already present is remapped to the later id (the
 * vocabulary's last duplicate wins, as in llama.cpp). */
void strmap_put(strmap *m, uint32_t id);

/* The id whose text equals s[0..n), or -1. */
int32_t strmap_get(const strmap *m, const char *s, size_t n);

#endif
