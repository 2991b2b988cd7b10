/* stop_matcher.c - stop strings over streamed text (see stop_matcher.h). */
#include "engine/stop_matcher.h"

#include <stdlib.h>
#include <string.h>

#include "base/error.h"

int stop_matcher_init(stop_matcher *m, const char *const *stops, int n_stops) {
    memset(m, 0, sizeof *m);
    if (n_stops > 0) {
        m->stops = calloc((size_t)n_stops, sizeof *m->stops);
        if (!m->stops) return fn_error("out of memory");
    }
    for (int i = 0; i < n_stops; i++) {
        if (!stops[i] || !stops[i][0]) continue;
        m->stops[m->n_stops] = strdup(stops[i]);
        if (!m->stops[m->n_stops]) {
            stop_matcher_free(m);
            return fn_error("out of memory");
        }
        m->n_stops++;
    }
    return 0;
}

void stop_matcher_free(stop_matcher *m) {
    for (int i = 0; i < m->n_stops; i++) free(m->stops[i]);
    free(m->stops);
    free(m->held);
    free(m->out);
    memset(m, 0, sizeof *m);
}

static bool reserve(char **buf, size_t *cap, size_t need) {
    if (need <= *cap) return true;
    size_t c = *cap ? *cap : 64;
    while (c < need) c *= 2;
    char *g = realloc(*buf, c);
    if (!g) return false;
    *buf = g;
    *cap = c;
    return true;
}

/* Emits held[0..n) and keeps the rest. */
static void emit(stop_matcher *m, size_t n, const char **out, size_t *out_len) {
    if (!reserve(&m->out, &m->out_cap, n + 1)) n = 0;
    if (n) {
        memcpy(m->out, m->held, n);
        memmove(m->held, m->held + n, m->n_held - n);
        m->n_held -= n;
    }
    if (m->out) m->out[n] = 0;
    *out = m->out ? m->out : "";
    *out_len = n;
}

bool stop_matcher_push(stop_matcher *m, const char *text, size_t len, const char **out, size_t *out_len) {
    *out = "";
    *out_len = 0;
    if (m->stopped) return true;
    if (!reserve(&m->held, &m->cap, m->n_held + len + 1)) return false;
    memcpy(m->held + m->n_held, text, len);
    m->n_held += len;
    m->held[m->n_held] = 0;
    /* earliest complete stop string */
    size_t cut = m->n_held;
    bool found = false;
    for (int i = 0; i < m->n_stops; i++) {
        const char *hit = memmem(m->held, m->n_held, m->stops[i], strlen(m->stops[i]));
        if (hit && (size_t)(hit - m->held) < cut) {
            cut = (size_t)(hit - m->held);
            found = true;
        }
    }
    if (found) {
        emit(m, cut, out, out_len);
        m->n_held = 0;
        m->stopped = true;
        return true;
    }
    /* hold back the longest suffix that is a prefix of some stop string */
    size_t keep = 0;
    for (int i = 0; i < m->n_stops; i++) {
        size_t sl = strlen(m->stops[i]);
        for (size_t k = sl - 1 < m->n_held ? sl - 1 : m->n_held; k > keep; k--)
            if (!memcmp(m->held + m->n_held - k, m->stops[i], k)) {
                keep = k;
                break;
            }
    }
    emit(m, m->n_held - keep, out, out_len);
    return false;
}

void stop_matcher_flush(stop_matcher *m, const char **out, size_t *out_len) {
    if (m->stopped) {
        *out = "";
        *out_len = 0;
        return;
    }
    emit(m, m->n_held, out, out_len);
}
