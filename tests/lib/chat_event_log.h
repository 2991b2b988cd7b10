/* chat_event_log.h - records output-parser events for the unit test and the fuzzer: joins
 * adjacent text of one kind and index (so logs of differently chunked runs compare equal),
 * and checks the API's promises on every event. Header-only; test code, not library code. */
#ifndef FENNEC_TESTS_CHAT_EVENT_LOG_H
#define FENNEC_TESTS_CHAT_EVENT_LOG_H

#include "chat/output_parser.h"
#include "tok/utf8.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    chat_event_kind kind;
    int index;
    bool truncated;
    char *text; /* malloc'd, NUL-terminated */
    size_t len, cap;
} evlog_event;

typedef struct {
    evlog_event *ev;  /* joined events, in order */
    size_t n, cap;
    const char *bad;  /* first broken promise, or NULL */
    int open;         /* index of the open call, -1 if none */
    int calls;        /* TOOL_BEGIN events seen */
    char *args;       /* TOOL_ARGS of the open call, joined */
    size_t args_len, args_cap;
    size_t text_bytes; /* bytes of content + reasoning + args seen (for hold bounds) */
} evlog;

static inline void evlog_init(evlog *l) {
    memset(l, 0, sizeof *l);
    l->open = -1;
}

static inline void evlog_free(evlog *l) {
    for (size_t i = 0; i < l->n; i++) free(l->ev[i].text);
    free(l->ev);
    free(l->args);
    memset(l, 0, sizeof *l);
}

static inline void evlog_append(char **buf, size_t *len, size_t *cap, const char *s,
                                size_t n) {
    if (*len + n + 1 > *cap) {
        *cap = (*len + n + 1) * 2;
        *buf = realloc(*buf, *cap);
        if (!*buf) abort();
    }
    memcpy(*buf + *len, s, n);
    *len += n;
    (*buf)[*len] = 0;
}

static inline void evlog_add(evlog *l, const chat_event *e) {
    bool text = e->kind == CHAT_EV_CONTENT || e->kind == CHAT_EV_REASONING ||
                e->kind == CHAT_EV_TOOL_ARGS;
    if (text && l->n && l->ev[l->n - 1].kind == e->kind && l->ev[l->n - 1].index == e->index) {
        evlog_event *last = &l->ev[l->n - 1];
        evlog_append(&last->text, &last->len, &last->cap, e->text, e->len);
        return;
    }
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 16;
        l->ev = realloc(l->ev, l->cap * sizeof *l->ev);
        if (!l->ev) abort();
    }
    evlog_event *v = &l->ev[l->n++];
    v->kind = e->kind;
    v->index = e->index;
    v->truncated = e->truncated;
    v->text = NULL;
    v->len = v->cap = 0;
    evlog_append(&v->text, &v->len, &v->cap, e->text, e->len);
}

/* A strict RFC 8259 checker, independent of the parser's own JSON code (and of jansson,
 * which rejects valid JSON it cannot represent: integers beyond int64, reals beyond double).
 * Returns the end of the value at s, or NULL. */
static inline const char *evlog_json_ws(const char *s, const char *e) {
    while (s < e && (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')) s++;
    return s;
}

static inline const char *evlog_json_string(const char *s, const char *e) {
    if (s >= e || *s != '"') return NULL;
    for (s++; s < e; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"') return s + 1;
        if (c < 0x20) return NULL;
        if (c != '\\') continue;
        if (++s >= e) return NULL;
        if (*s == 'u') {
            for (int k = 0; k < 4; k++)
                if (++s >= e || !strchr("0123456789abcdefABCDEF", *s) || !*s) return NULL;
        } else if (!*s || !strchr("\"\\/bfnrt", *s)) {
            return NULL;
        }
    }
    return NULL;
}

static inline const char *evlog_json_value(const char *s, const char *e, int depth) {
    s = evlog_json_ws(s, e);
    if (s >= e || depth > 1000) return NULL;
    if (*s == '{' || *s == '[') {
        char close = *s == '{' ? '}' : ']';
        s = evlog_json_ws(s + 1, e);
        if (s < e && *s == close) return s + 1;
        for (;;) {
            if (close == '}') {
                s = evlog_json_string(evlog_json_ws(s, e), e);
                if (!s) return NULL;
                s = evlog_json_ws(s, e);
                if (s >= e || *s++ != ':') return NULL;
            }
            s = evlog_json_value(s, e, depth + 1);
            if (!s) return NULL;
            s = evlog_json_ws(s, e);
            if (s < e && *s == ',') {
                s++;
                continue;
            }
            return s < e && *s == close ? s + 1 : NULL;
        }
    }
    if (*s == '"') return evlog_json_string(s, e);
    static const char *const lits[] = {"true", "false", "null"};
    for (int i = 0; i < 3; i++) {
        size_t l = strlen(lits[i]);
        if ((size_t)(e - s) >= l && !memcmp(s, lits[i], l)) return s + l;
    }
    const char *p = s;
    if (p < e && *p == '-') p++;
    if (p >= e || *p < '0' || *p > '9') return NULL;
    if (*p == '0') p++;
    else while (p < e && *p >= '0' && *p <= '9') p++;
    if (p < e && *p == '.') {
        if (++p >= e || *p < '0' || *p > '9') return NULL;
        while (p < e && *p >= '0' && *p <= '9') p++;
    }
    if (p < e && (*p == 'e' || *p == 'E')) {
        p++;
        if (p < e && (*p == '+' || *p == '-')) p++;
        if (p >= e || *p < '0' || *p > '9') return NULL;
        while (p < e && *p >= '0' && *p <= '9') p++;
    }
    return p;
}

/* True when text is one JSON object (what TOOL_END promises). */
static inline bool evlog_is_object(const char *s, size_t n) {
    const char *e = s + n;
    const char *v = evlog_json_ws(s, e);
    if (v >= e || *v != '{') return false;
    v = evlog_json_value(v, e, 0);
    return v && evlog_json_ws(v, e) == e;
}

/* chat_event_fn: ud is an evlog. */
static inline int evlog_cb(const chat_event *e, void *ud) {
    evlog *l = ud;
    const char *bad = NULL;
    if (!e->text) bad = "NULL text";
    else if (utf8_valid_prefix(e->text, e->len) != e->len) bad = "text is not valid UTF-8";
    else if (e->text[e->len]) bad = "text is not NUL-terminated";
    switch (e->kind) {
    case CHAT_EV_CONTENT:
    case CHAT_EV_REASONING:
        if (!e->len) bad = "empty text event";
        if (e->index != -1) bad = "text event with an index";
        if (l->open != -1) bad = "text while a call is open";
        l->text_bytes += e->len;
        break;
    case CHAT_EV_TOOL_BEGIN:
        if (l->open != -1) bad = "BEGIN while a call is open";
        if (e->index != l->calls) bad = "BEGIN index out of order";
        if (!e->len || strlen(e->text) != e->len) bad = "bad tool name";
        l->open = e->index;
        l->calls++;
        l->args_len = 0;
        break;
    case CHAT_EV_TOOL_ARGS:
        if (!e->len) bad = "empty ARGS";
        if (e->index != l->open || l->open < 0) bad = "ARGS outside its call";
        evlog_append(&l->args, &l->args_len, &l->args_cap, e->text, e->len);
        l->text_bytes += e->len;
        break;
    case CHAT_EV_TOOL_END:
        if (e->index != l->open || l->open < 0) bad = "END outside its call";
        if (e->len != l->args_len || (e->len && memcmp(e->text, l->args, e->len)))
            bad = "END text is not the joined ARGS";
        if (!evlog_is_object(e->text, e->len)) bad = "END arguments are not a JSON object";
        l->open = -1;
        break;
    default:
        bad = "unknown event kind";
    }
    if (bad && !l->bad) l->bad = bad;
    evlog_add(l, e);
    return 0;
}

/* Whether two logs hold the same joined events. */
static inline bool evlog_equal(const evlog *a, const evlog *b) {
    if (a->n != b->n) return false;
    for (size_t i = 0; i < a->n; i++) {
        const evlog_event *x = &a->ev[i], *y = &b->ev[i];
        if (x->kind != y->kind || x->index != y->index || x->truncated != y->truncated ||
            x->len != y->len || memcmp(x->text, y->text, x->len))
            return false;
    }
    return true;
}

/* Prints a log (for failure messages). */
static inline void evlog_print(const evlog *l, FILE *f) {
    static const char *const names[] = {"CONTENT", "REASONING", "BEGIN", "ARGS", "END"};
    for (size_t i = 0; i < l->n; i++) {
        const evlog_event *e = &l->ev[i];
        fprintf(f, "  %s[%d]%s %zu: ", names[e->kind], e->index, e->truncated ? " truncated" : "",
                e->len);
        for (size_t k = 0; k < e->len && k < 200; k++) {
            unsigned char c = (unsigned char)e->text[k];
            if (c == '\n') fputs("\\n", f);
            else if (c < 0x20) fprintf(f, "\\x%02x", c);
            else fputc(c, f);
        }
        fputs(e->len > 200 ? "...\n" : "\n", f);
    }
}

#endif
