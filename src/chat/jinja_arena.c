/* jinja_arena.c - chunked bump allocator and arena byte buffers (see jinja_arena.h). */
#include "chat/jinja_arena.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"

#define CHUNK_MIN ((size_t)64 * 1024)
#define ALIGN 16

struct jarena_chunk {
    jarena_chunk *next; /* older chunk */
    size_t pos;         /* bytes used in data */
    size_t cap;         /* bytes in data */
    size_t last;        /* offset of the most recent allocation, for jarena_grow */
    _Alignas(16) unsigned char data[];
};

void jarena_init(jarena *a, size_t limit) {
    a->head = NULL;
    a->used = 0;
    a->limit = limit;
}

void jarena_free(jarena *a) {
    jarena_chunk *c = a->head;
    while (c) {
        jarena_chunk *next = c->next;
        free(c);
        c = next;
    }
    a->head = NULL;
    a->used = 0;
}

static size_t round_up(size_t n) { return (n + ALIGN - 1) & ~(size_t)(ALIGN - 1); }

static jarena_chunk *new_chunk(jarena *a, size_t need) {
    size_t cap = need > CHUNK_MIN ? need : CHUNK_MIN;
    if (a->head && cap < a->head->cap * 2 && a->head->cap * 2 <= 16 * CHUNK_MIN)
        cap = a->head->cap * 2;
    if (cap > SIZE_MAX - sizeof(jarena_chunk)) {
        fn_error("template needs too much memory");
        return NULL;
    }
    if (a->limit && (a->used + cap > a->limit || cap > a->limit)) {
        if (need <= a->limit && a->used + need <= a->limit) {
            cap = need;
        } else {
            fn_error("template exceeded its memory limit (%zu MiB)", a->limit >> 20);
            return NULL;
        }
    }
    jarena_chunk *c = malloc(sizeof *c + cap);
    if (!c) {
        fn_error("out of memory rendering the template");
        return NULL;
    }
    c->next = a->head;
    c->pos = 0;
    c->cap = cap;
    c->last = 0;
    a->head = c;
    a->used += cap;
    return c;
}

void *jarena_alloc(jarena *a, size_t n) {
    if (n > SIZE_MAX / 2) {
        fn_error("template needs too much memory");
        return NULL;
    }
    size_t r = round_up(n ? n : 1);
    jarena_chunk *c = a->head;
    if (!c || c->cap - c->pos < r) {
        c = new_chunk(a, r);
        if (!c) return NULL;
    }
    void *p = c->data + c->pos;
    c->last = c->pos;
    c->pos += r;
    return p;
}

void *jarena_zalloc(jarena *a, size_t n) {
    void *p = jarena_alloc(a, n);
    if (p) memset(p, 0, n);
    return p;
}

char *jarena_strndup(jarena *a, const char *s, size_t n) {
    if (n == SIZE_MAX) return NULL;
    char *p = jarena_alloc(a, n + 1);
    if (!p) return NULL;
    if (n) memcpy(p, s, n);
    p[n] = 0;
    return p;
}

void *jarena_grow(jarena *a, void *old, size_t old_n, size_t new_n) {
    jarena_chunk *c = a->head;
    if (old && c && (unsigned char *)old == c->data + c->last && new_n <= SIZE_MAX / 2) {
        size_t r = round_up(new_n ? new_n : 1);
        if (c->last + r <= c->cap) {
            c->pos = c->last + r;
            return old;
        }
    }
    void *p = jarena_alloc(a, new_n);
    if (!p) return NULL;
    if (old && old_n) memcpy(p, old, old_n < new_n ? old_n : new_n);
    return p;
}

void jbuf_init(jbuf *b, jarena *a, size_t limit) {
    b->arena = a;
    b->p = NULL;
    b->len = 0;
    b->cap = 0;
    b->limit = limit;
}

char *jbuf_reserve(jbuf *b, size_t n) {
    if (n > SIZE_MAX / 4 - b->len) {
        fn_error("template output too large");
        return NULL;
    }
    size_t need = b->len + n;
    if (b->limit && need > b->limit) {
        fn_error("template output exceeded its limit (%zu bytes)", b->limit);
        return NULL;
    }
    if (need > b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 64;
        while (cap < need) cap *= 2;
        char *p = jarena_grow(b->arena, b->p, b->len, cap);
        if (!p) return NULL;
        b->p = p;
        b->cap = cap;
    }
    return b->p + b->len;
}

int jbuf_put(jbuf *b, const char *s, size_t n) {
    if (n == 0) return 0;
    char *d = jbuf_reserve(b, n);
    if (!d) return -1;
    memcpy(d, s, n);
    b->len += n;
    return 0;
}

int jbuf_puts(jbuf *b, const char *s) { return jbuf_put(b, s, strlen(s)); }
