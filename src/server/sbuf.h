/* sbuf.h - a growable byte buffer for building HTTP bodies and SSE streams. Appends never
 * fail silently: after an allocation failure the buffer is marked and stays empty, so a
 * response is either whole or known to be broken (sbuf_failed). */
#ifndef FENNEC_SERVER_SBUF_H
#define FENNEC_SERVER_SBUF_H

#include <stdbool.h>
#include <stddef.h>

typedef struct {
    char *data;     /* owned; NUL-terminated when len > 0 */
    size_t len;
    size_t cap;
    bool failed;    /* an append ran out of memory */
} sbuf;

void sbuf_free(sbuf *b);
void sbuf_clear(sbuf *b);
void sbuf_add(sbuf *b, const void *p, size_t n);
void sbuf_adds(sbuf *b, const char *s);
void sbuf_printf(sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Drops the first n bytes (n <= len). */
void sbuf_consume(sbuf *b, size_t n);
/* Takes the contents (malloc'd, NUL-terminated, caller frees; NULL if failed) and empties b. */
char *sbuf_take(sbuf *b, size_t *len);
bool sbuf_failed(const sbuf *b);

#endif
