/* detok.c - streaming detokenizer: token pieces in, whole valid UTF-8 characters out
 * (see the contract in tokenizer.h). */
#include "tok/tokenizer_internal.h"

#include "base/error.h"
#include "tok/utf8.h"

#include <stdlib.h>
#include <string.h>

void detok_init(detok_state *d, const tokenizer *t, bool render_special) {
    memset(d, 0, sizeof *d);
    d->tok = t;
    d->render_special = render_special;
    d->strip_space = tokenizer_adds_space_prefix(t);
}

void detok_free(detok_state *d) {
    free(d->buf);
    d->buf = NULL;
    d->cap = 0;
}

static int reserve(detok_state *d, size_t n) {
    if (n <= d->cap) return 0;
    size_t cap = d->cap ? d->cap : 256;
    while (cap < n) cap *= 2;
    char *b = realloc(d->buf, cap);
    if (!b) return fn_error("out of memory in the detokenizer");
    d->buf = b;
    d->cap = cap;
    return 0;
}

/* Appends held bytes + p[0..n) to the output as valid UTF-8, keeping an unfinished
 * character back (or, when final, replacing its bytes). */
static int emit(detok_state *d, const char *p, size_t n, bool final, size_t *out_len) {
    /* worst case every byte becomes U+FFFD */
    if (reserve(d, (d->n_held + n) * 3 + 1)) return -1;
    uint8_t held[4];
    size_t h = d->n_held, total = h + n, o = 0;
    memcpy(held, d->held, h);
    d->n_held = 0;
    for (size_t i = 0; i < total;) {
        uint8_t seq[4];
        size_t avail = total - i < 4 ? total - i : 4;
        for (size_t k = 0; k < avail; k++) seq[k] = i + k < h ? held[i + k] : (uint8_t)p[i + k - h];
        if (seq[0] < 0x80) {
            d->buf[o++] = (char)seq[0];
            i++;
            continue;
        }
        int c = utf8_check(seq, avail);
        if (c > 0) {
            memcpy(d->buf + o, seq, (size_t)c);
            o += (size_t)c;
            i += (size_t)c;
        } else if (c == -1 && !final) { /* unfinished, and these are the last bytes */
            memcpy(d->held, seq, avail);
            d->n_held = avail;
            break;
        } else {
            memcpy(d->buf + o, UTF8_REPLACEMENT, 3);
            o += 3;
            i++;
        }
    }
    d->buf[o] = 0;
    *out_len = o;
    return 0;
}

int detok_push(detok_state *d, int32_t id, const char **out, size_t *out_len) {
    *out = "";
    *out_len = 0;
    size_t n;
    const char *p = tokenizer_piece(d->tok, id, d->render_special, &n);
    if (!p) return fn_error("token id %d is out of range (vocabulary has %u tokens)", (int)id,
                            (unsigned)tokenizer_n_vocab(d->tok));
    if (!d->started) {
        d->started = true;
        if (d->strip_space && n && p[0] == ' ') p++, n--;
    }
    if (emit(d, p, n, false, out_len)) return -1;
    *out = d->buf ? d->buf : "";
    return 0;
}

int detok_flush(detok_state *d, const char **out, size_t *out_len) {
    *out = "";
    *out_len = 0;
    if (emit(d, "", 0, true, out_len)) return -1;
    *out = d->buf ? d->buf : "";
    return 0;
}

int tokenizer_decode(const tokenizer *t, const int32_t *ids, size_t n, bool render_special,
                     bool strip_space, char **text, size_t *len) {
    *text = NULL;
    *len = 0;
    detok_state d;
    detok_init(&d, t, render_special);
    d.strip_space = strip_space;
    size_t cap = 256, o = 0;
    char *res = malloc(cap);
    if (!res) return fn_error("out of memory");
    for (size_t i = 0; i <= n; i++) {
        const char *p;
        size_t pl;
        int rc = i < n ? detok_push(&d, ids[i], &p, &pl) : detok_flush(&d, &p, &pl);
        if (rc) goto fail;
        if (o + pl + 1 > cap) {
            while (o + pl + 1 > cap) cap *= 2;
            char *r = realloc(res, cap);
            if (!r) {
                fn_error("out of memory");
                goto fail;
            }
            res = r;
        }
        memcpy(res + o, p, pl);
        o += pl;
    }
    res[o] = 0;
    detok_free(&d);
    *text = res;
    *len = o;
    return 0;
fail:
    free(res);
    detok_free(&d);
    return -1;
}
