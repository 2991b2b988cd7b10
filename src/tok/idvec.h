/* idvec.h - a growable array of token ids, the output buffer of the encoders. */
#ifndef FENNEC_TOK_IDVEC_H
#define FENNEC_TOK_IDVEC_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "base/error.h"

typedef struct {
    int32_t *v;     /* cap entries, n used (owned) */
    size_t n, cap;
} idvec;

/* Makes room for `more` further ids. Returns 0 or -1 (out of memory, fn_error set). */
static inline int idvec_reserve(idvec *o, size_t more) {
    if (o->n + more <= o->cap) return 0;
    size_t cap = o->cap ? o->cap : 64;
    while (cap < o->n + more) {
        if (cap > SIZE_MAX / 2 / sizeof *o->v) return fn_error("out of memory for token ids");
        cap *= 2;
    }
    int32_t *v = realloc(o->v, cap * sizeof *v);
    if (!v) return fn_error("out of memory for %zu token ids", cap);
    o->v = v;
    o->cap = cap;
    return 0;
}

static inline int idvec_push(idvec *o, int32_t id) {
    if (o->n == o->cap && idvec_reserve(o, 1)) return -1;
    o->v[o->n++] = id;
    return 0;
}

#endif
