/* sbuf.c - growable byte buffer (see sbuf.h). */
#include "server/sbuf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void sbuf_free(sbuf *b) {
    free(b->data);
    memset(b, 0, sizeof *b);
}

void sbuf_clear(sbuf *b) {
    b->len = 0;
    if (b->data) b->data[0] = 0;
}

static bool grow(sbuf *b, size_t extra) {
    if (b->failed) return false;
    if (extra > ((size_t)1 << 40)) { /* no body we build is that large: treat as failure */
        b->failed = true;
        return false;
    }
    if (b->len + extra + 1 <= b->cap) return true;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + extra + 1) cap *= 2;
    char *d = realloc(b->data, cap);
    if (!d) {
        free(b->data);
        b->data = NULL;
        b->len = b->cap = 0;
        b->failed = true;
        return false;
    }
    b->data = d;
    b->cap = cap;
    return true;
}

void sbuf_add(sbuf *b, const void *p, size_t n) {
    if (!grow(b, n)) return;
    if (n) memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = 0;
}

void sbuf_adds(sbuf *b, const char *s) { sbuf_add(b, s, strlen(s)); }

void sbuf_printf(sbuf *b, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    char small[256];
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0) return;
    if ((size_t)n < sizeof small) {
        sbuf_add(b, small, (size_t)n);
        return;
    }
    if (!grow(b, (size_t)n)) return;
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

void sbuf_consume(sbuf *b, size_t n) {
    if (n >= b->len) {
        sbuf_clear(b);
        return;
    }
    memmove(b->data, b->data + n, b->len - n);
    b->len -= n;
    b->data[b->len] = 0;
}

char *sbuf_take(sbuf *b, size_t *len) {
    if (b->failed) {
        sbuf_free(b);
        if (len) *len = 0;
        return NULL;
    }
    if (!b->data && !grow(b, 0)) return NULL;
    char *d = b->data;
    d[b->len] = 0;
    if (len) *len = b->len;
    memset(b, 0, sizeof *b);
    return d;
}

bool sbuf_failed(const sbuf *b) { return b->failed; }
