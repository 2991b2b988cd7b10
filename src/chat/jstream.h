/* jstream.h - checks JSON one byte at a time and passes it on as soon as it is known to be
 * part of valid JSON, with small repairs; can close an unfinished value validly. The output
 * parser streams Hermes tool-call arguments through it and uses it to skip or capture values.
 *
 * What comes out (through the sink) is always a prefix of a valid JSON text, and after
 * jstream_close() a whole one. Repairs: raw control characters inside strings are escaped,
 * a backslash that starts no valid escape is written as "\\", an unpaired UTF-16 surrogate
 * escape becomes \ufffd, so does a NUL in an object key (jansson cannot hold one), and a
 * trailing comma before } or ] is dropped. Held back: a comma (and up to 7 whitespace bytes
 * after it; more are dropped) until the next member starts, and an escape sequence until it
 * is complete. Input must be valid UTF-8 (the caller checks). */
#ifndef FENNEC_CHAT_JSTREAM_H
#define FENNEC_CHAT_JSTREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Receives output bytes; may be NULL to only validate. */
typedef void (*jstream_sink)(void *ctx, const char *s, size_t n);

#define JSTREAM_MAX_DEPTH 64 /* nesting deeper than this is an error */

typedef struct {
    jstream_sink sink;     /* where accepted bytes go (NULL: nowhere) */
    void *ctx;             /* sink's argument */
    uint8_t stack[JSTREAM_MAX_DEPTH]; /* '{' or '[' per open container */
    int depth;             /* open containers */
    uint8_t st;            /* what the next byte may be (JS_* in jstream.c) */
    uint8_t sub;           /* number state, literal position or escape state */
    uint8_t lit;           /* which literal (0 true, 1 false, 2 null) */
    bool key;              /* the open string is an object key */
    bool after_colon;      /* the expected value follows a ':' */
    bool comma;            /* pend holds a comma not yet passed on */
    uint16_t hi;           /* high surrogate waiting for its low half (0: none) */
    uint8_t npend;         /* bytes in pend */
    char pend[16];         /* held back: ",  " or a partial escape like "\ud83d\ude" */
} jstream;

enum {
    JSTREAM_MORE,        /* byte taken; value not complete */
    JSTREAM_DONE,        /* byte taken; it completed the top-level value */
    JSTREAM_DONE_BEFORE, /* the value (a number) ended just before this byte; not taken */
    JSTREAM_ERROR,       /* the byte cannot continue valid JSON; it was not taken */
};

/* Starts a scanner that expects one JSON value (leading whitespace allowed). */
void jstream_init(jstream *j, jstream_sink sink, void *ctx);

/* Starts a scanner already inside an object, right after a member's value: it accepts
 * further members and the closing '}' (used after the arguments of a Hermes call). */
void jstream_init_in_object(jstream *j, jstream_sink sink, void *ctx);

/* Feeds one byte; returns JSTREAM_*. After DONE, DONE_BEFORE or close, feeding is an error
 * to the caller (returns JSTREAM_ERROR). */
int jstream_feed(jstream *j, unsigned char c);

/* Ends an unfinished value: drops held bytes and sends what makes the output valid JSON
 * (closing quote, ":null" after a dangling key, "null" after ':', '0' after "1." or "-",
 * the rest of a literal, closing brackets). Nothing is sent if the value was complete. */
void jstream_close(jstream *j);

/* Bytes held back as a pending comma and whitespace (not part of any escape): *s and the
 * count; 0 when none. The caller may re-read them as plain text after an error. */
size_t jstream_pending_comma(const jstream *j, const char **s);

/* True once the top-level value is complete (or closed). */
bool jstream_done(const jstream *j);

#endif
