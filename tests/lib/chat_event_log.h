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
    size_t len;
} evlog_event;

typedef struct {
    evlog_event *ev;  /* joined events, in order */
    size_t n, cap;
    const char *bad;  /* first broken promise, or NULL */
    int open;         /* index of the open call, -1 if none */
    int calls;        /* TOOL_BEGIN events seen */
    char *args;       /* TOOL_ARGS of the open call, joined */
    size_t args_len;
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

static inline void evlog_append(char **buf, size_t *len, const char *s, size_t n) {
    char *b = realloc(*buf, *len + n + 1);
    if (!b) abort();
    memcpy(b + *len, s, n);
    *len += n;
    b[*len] = 0;
    *buf = b;
}

static inline void evlog_add(evlog *l, const chat_event *e) {
    bool text = e->kind == CHAT_EV_CONTENT || e->kind == CHAT_EV_REASONING ||
                e->kind == CHAT_EV_TOOL_ARGS;
    if (text && l->n && l->ev[l->n - 1].kind == e->kind && l->ev[l->n - 1].index == e->index) {
        evlog_event *last = &l->ev[l->n - 1];
        evlog_append(&last->text, &last->len, e->text, e->len);
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
    v->len = 0;
    evlog_append(&v->text, &v->len, e->text, e->len);
}

/* True when text is one JSON object (what TOOL_END promises). */
static inline bool evlog_is_object(const char *s, size_t n) {
    json_t *j = json_loadb(s, n, JSON_ALLOW_NUL, NULL);
    bool ok = json_is_object(j);
    json_decref(j);
    return ok;
}

/* chat_event_fn: ud is an evlog. */
static inline int evlog_cb(const chat_event *e, void *ud) {
    evlog *l = ud;
    const char *bad = NULL;
    if (!e->text) bad = "NULL text";
    else if (utf8_valid_prefix(e->text, e->len) != e->len) bad = "text is not valid UTF-8";
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
        evlog_append(&l->args, &l->args_len, e->text, e->len);
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
