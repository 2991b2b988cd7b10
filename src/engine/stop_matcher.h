/* stop_matcher.h - finds stop strings in streamed text without ever emitting part of one:
 * text that could still be the start of a stop string is held back until it is decided. */
#ifndef FENNEC_ENGINE_STOP_MATCHER_H
#define FENNEC_ENGINE_STOP_MATCHER_H

#include <stdbool.h>
#include <stddef.h>

typedef struct {
    char **stops;        /* owned copies */
    int n_stops;
    char *held;          /* text not yet emitted (owned) */
    size_t n_held, cap;
    char *out;           /* text handed out by the last call (owned) */
    size_t out_cap;
    bool stopped;
} stop_matcher;

/* Copies the stop strings (empty ones are ignored). Returns 0 or -1 (out of memory). */
int stop_matcher_init(stop_matcher *m, const char *const *stops, int n_stops);
void stop_matcher_free(stop_matcher *m);

/* Adds text; *out and *out_len receive what can be emitted now (valid until the next call).
 * Returns true once a stop string was found: the text before it is in *out, and nothing
 * after it is ever emitted. */
bool stop_matcher_push(stop_matcher *m, const char *text, size_t len, const char **out, size_t *out_len);

/* End of stream: everything held is released. */
void stop_matcher_flush(stop_matcher *m, const char **out, size_t *out_len);

#endif
