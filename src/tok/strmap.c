/* strmap.c - linear-probing hash map over vocabulary texts (see strmap.h). The slot keeps
 * 32 hash bits next to the id so most mismatches are rejected without touching the text. */
#include "tok/strmap.h"

#include "base/error.h"

#include <stdlib.h>
#include <string.h>

static inline uint64_t mix(uint64_t a, uint64_t b) {
    __uint128_t r = (__uint128_t)a * b;
    return (uint64_t)r ^ (uint64_t)(r >> 64);
}

uint64_t strmap_hash(const void *p, size_t n) {
    const uint8_t *s = p;
    uint64_t h = 0x9E3779B97F4A7C15ull ^ (n * 0xff51afd7ed558ccdull);
    while (n >= 8) {
        uint64_t w;
        memcpy(&w, s, 8);
        h = mix(h ^ w, 0xbf58476d1ce4e5b9ull);
        s += 8;
        n -= 8;
    }
    uint64_t w = 0;
    memcpy(&w, s, n);
    return mix(h ^ w, 0x94d049bb133111ebull);
}

int strmap_init(strmap *m, size_t n, const char *buf, const uint32_t *off, const uint32_t *len) {
    size_t cap = 16;
    while (cap < n * 2) cap <<= 1;
    memset(m, 0, sizeof *m);
    m->slots = calloc(cap, sizeof *m->slots);
    if (!m->slots) return fn_error("out of memory for a %zu-entry token map", cap);
    m->mask = cap - 1;
    m->buf = buf;
    m->off = off;
    m->len = len;
    return 0;
}

void strmap_free(strmap *m) {
    free(m->slots);
    m->slots = NULL;
}

void strmap_put(strmap *m, uint32_t id) {
    const char *s = m->buf + m->off[id];
    size_t n = m->len[id];
    uint64_t h = strmap_hash(s, n);
    uint64_t tag = h >> 32 << 32;
    for (size_t i = (size_t)h & m->mask;; i = (i + 1) & m->mask) {
        uint64_t e = m->slots[i];
        if (!e) {
            m->slots[i] = tag | (id + 1);
            return;
        }
        uint32_t other = (uint32_t)e - 1;
        if ((e >> 32 << 32) == tag && m->len[other] == n && !memcmp(m->buf + m->off[other], s, n)) {
            m->slots[i] = tag | (id + 1);
            return;
        }
    }
}

int32_t strmap_get(const strmap *m, const char *s, size_t n) {
    uint64_t h = strmap_hash(s, n);
    uint64_t tag = h >> 32 << 32;
    for (size_t i = (size_t)h & m->mask;; i = (i + 1) & m->mask) {
        uint64_t e = m->slots[i];
        if (!e) return -1;
        if ((e >> 32 << 32) != tag) continue;
        uint32_t id = (uint32_t)e - 1;
        if (m->len[id] == n && !memcmp(m->buf + m->off[id], s, n)) return (int32_t)id;
    }
}
