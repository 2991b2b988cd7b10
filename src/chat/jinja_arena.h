/* jinja_arena.h - bump allocator for one template parse or one render, and byte buffers
 * grown inside it. Everything is freed at once, so the interpreter never tracks who owns a
 * value; a byte limit bounds what a hostile template can make it allocate. */
#ifndef FENNEC_CHAT_JINJA_ARENA_H
#define FENNEC_CHAT_JINJA_ARENA_H

#include <stddef.h>

typedef struct jarena_chunk jarena_chunk;

typedef struct {
    jarena_chunk *head; /* newest chunk (owned); older ones are linked behind it */
    size_t used;        /* bytes of chunks held, checked against limit */
    size_t limit;       /* maximum bytes, 0 = no limit */
} jarena;

void jarena_init(jarena *a, size_t limit);

/* Frees every chunk; the arena can be reused after jarena_init. */
void jarena_free(jarena *a);

/* n bytes aligned to 16 (not zeroed). Returns NULL with fn_error set when the limit is
 * reached or memory runs out. */
void *jarena_alloc(jarena *a, size_t n);

/* Same, zero-filled. */
void *jarena_zalloc(jarena *a, size_t n);

/* Copies n bytes into the arena and adds a NUL after them. */
char *jarena_strndup(jarena *a, const char *s, size_t n);

/* Resizes a block last allocated from this arena: extends it in place when it is the most
 * recent allocation, else copies. old may be NULL. Returns NULL (old kept) on failure. */
void *jarena_grow(jarena *a, void *old, size_t old_n, size_t new_n);

/* A byte buffer whose storage lives in an arena. */
typedef struct {
    jarena *arena;  /* where the bytes live (borrowed) */
    char *p;        /* contents, not NUL-terminated; NULL when empty */
    size_t len;     /* bytes used */
    size_t cap;     /* bytes available at p */
    size_t limit;   /* maximum len, 0 = none */
} jbuf;

void jbuf_init(jbuf *b, jarena *a, size_t limit);

/* Appends n bytes. Returns 0, or -1 with fn_error set (limit reached, out of memory). */
int jbuf_put(jbuf *b, const char *s, size_t n);

/* Appends a NUL-terminated string. */
int jbuf_puts(jbuf *b, const char *s);

/* Makes room for n more bytes and returns where they go (len is not changed). */
char *jbuf_reserve(jbuf *b, size_t n);

#endif
