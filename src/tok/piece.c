/* piece.c - per-token output bytes (see piece.h). */
#include "tok/piece.h"

#include "base/error.h"
#include "tok/bpe.h"
#include "tok/utf8.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void piece_table_free(piece_table *p) {
    free(p->buf);
    free(p->off);
    free(p->len);
    memset(p, 0, sizeof *p);
}

typedef struct {
    char *b;
    size_t n, cap;
} sbuf;

static int put(sbuf *s, const void *p, size_t n) {
    if (!n) return 0;
    if (s->n + n > s->cap) {
        size_t cap = s->cap ? s->cap : 4096;
        while (cap < s->n + n) cap *= 2;
        char *b = realloc(s->b, cap);
        if (!b) return fn_error("out of memory for token pieces");
        s->b = b;
        s->cap = cap;
    }
    memcpy(s->b + s->n, p, n);
    s->n += n;
    return 0;
}

/* A byte-level BPE token's text back to bytes. */
static int put_bpe(sbuf *s, const char *text, size_t n) {
    const uint8_t *t = (const uint8_t *)text;
    for (size_t i = 0; i < n;) {
        int l = utf8_check(t + i, n - i);
        uint32_t cp = 0xFFFD;
        if (l > 0) cp = utf8_decode(t + i, l);
        else l = 1;
        int b = bpe_cp_to_byte(cp);
        if (b >= 0) {
            uint8_t c = (uint8_t)b;
            if (put(s, &c, 1)) return -1;
        } else {
            char enc[4], hex[16];
            int el = utf8_encode(cp, enc);
            if (put(s, "[UNK_BYTE_0x", 12)) return -1;
            for (int k = 0; k < el; k++) {
                snprintf(hex, sizeof hex, "%02x", (uint8_t)enc[k]);
                if (put(s, hex, 2)) return -1;
            }
            if (put(s, text, n) || put(s, "]", 1)) return -1;
        }
        i += (size_t)l;
    }
    return 0;
}

/* A SentencePiece token's text with U+2581 turned back into spaces. */
static int put_spm(sbuf *s, const char *text, size_t n) {
    for (size_t i = 0; i < n;) {
        if (i + 3 <= n && !memcmp(text + i, "\xE2\x96\x81", 3)) {
            if (put(s, " ", 1)) return -1;
            i += 3;
        } else {
            if (put(s, text + i, 1)) return -1;
            i++;
        }
    }
    return 0;
}

int piece_table_build(piece_table *p, const tok_vocab *v) {
    memset(p, 0, sizeof *p);
    p->off = malloc(v->n * sizeof *p->off);
    p->len = malloc(v->n * sizeof *p->len);
    sbuf s = {0};
    if (!p->off || !p->len) {
        fn_error("out of memory for token pieces");
        goto fail;
    }
    for (uint32_t i = 0; i < v->n; i++) {
        size_t start = s.n;
        const char *text = vocab_text(v, (int32_t)i);
        size_t n = v->text_len[i];
        uint16_t a = v->attr[i];
        int rc = 0;
        if (a & (VOCAB_ATTR_UNKNOWN | VOCAB_ATTR_CONTROL | VOCAB_ATTR_USER_DEFINED)) rc = put(&s, text, n);
        else if (a & VOCAB_ATTR_NORMAL) rc = v->kind == VOCAB_BPE ? put_bpe(&s, text, n) : put_spm(&s, text, n);
        else if (a & VOCAB_ATTR_BYTE) {
            uint8_t b = (uint8_t)strtoul(text + 3, NULL, 16);
            rc = put(&s, &b, 1);
        }
        if (rc || put(&s, "", 1)) goto fail; /* NUL after each piece, for callers' convenience */
        if (s.n > UINT32_MAX) {
            fn_error("token pieces too large");
            goto fail;
        }
        p->off[i] = (uint32_t)start;
        p->len[i] = (uint32_t)(s.n - 1 - start);
    }
    p->buf = s.b ? s.b : malloc(1);
    if (!p->buf) {
        fn_error("out of memory");
        goto fail;
    }
    return 0;
fail:
    free(s.b);
    piece_table_free(p);
    return -1;
}
