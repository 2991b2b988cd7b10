/* parse_hermes_json.c - Hermes / Qwen2.5 / Qwen3 JSON tool calls:
 *   <tool_call>\n{"name": "NAME", "arguments": {...}}\n</tool_call>
 * The header up to the arguments is held (bounded) and checked; the arguments object then
 * streams through jstream. Policies are in output_parser.h. */
#include "chat/output_parser_internal.h"

#include <string.h>

enum {
    /* before the commit: every byte read is also in tent, so a rollback can replay it */
    H_OBJ,     /* whitespace, then '{' */
    H_KEY,     /* whitespace, then a member key (or '}') */
    H_KEYSTR,  /* inside the key string */
    H_COLON,   /* whitespace, then ':' */
    H_VAL,     /* whitespace, then the member value */
    H_NAMESTR, /* inside the name string */
    H_SKIPVAL, /* inside a member value we do not use */
    H_ARGSTR,  /* inside arguments given as a string */
    H_NEXT,    /* whitespace, then ',' or '}' */
    /* after the commit */
    H_ARGS,       /* inside the arguments object: streamed */
    H_AFTER_ARGS, /* the rest of the outer object (hold keeps what was read) */
    H_CLOSE,      /* whitespace, then "</tool_call>" */
};

enum { K_NAME, K_ARGS, K_OTHER };

static const char CALL_CLOSE[] = "</tool_call>";

static void capture_sink(void *ctx, const char *s, size_t n) {
    chat_parser *p = ctx;
    if (cp_buf_put(&p->val, s, n)) cp_fail(p);
}

static void args_sink(void *ctx, const char *s, size_t n) {
    cp_emit_args(ctx, s, n);
}

void cp_hermes_start(chat_parser *p) {
    p->mode = CP_HERMES;
    p->sub = H_OBJ;
    p->have_name = false;
    p->first_member = true;
    p->name.len = 0;
    p->hold.len = 0;
}

/* Adds c to the uncommitted call's text; false (after rolling back) past the bound. */
static bool pre_add(chat_parser *p, unsigned char c) {
    size_t limit = p->sub == H_ARGSTR ? p->max_call : CHAT_PARSER_MAX_HOLD;
    if (p->tent.len - p->tent_keep >= limit) {
        cp_rollback(p);
        return false;
    }
    if (cp_buf_put(&p->tent, &c, 1)) cp_fail(p);
    return true;
}

/* Rolls back before c was added to tent: c is read again. */
static size_t rollback(chat_parser *p) {
    cp_rollback(p);
    return 0;
}

/* Rolls back after c was added to tent: c is replayed with it. */
static size_t rollback_taken(chat_parser *p) {
    cp_rollback(p);
    return 1;
}

/* The JSON text of a string in p->val, decoded into out; -1 if it is not one. */
static int decode_string(chat_parser *p, cp_buf *out) {
    json_t *j = json_loadb(p->val.data, p->val.len, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
    int rc = -1;
    if (json_is_string(j)) {
        out->len = 0;
        if (cp_buf_put(out, json_string_value(j), json_string_length(j))) cp_fail(p);
        rc = 0;
    }
    json_decref(j);
    return rc;
}

static bool is(const cp_buf *b, const char *lit) {
    return b->len == strlen(lit) && !memcmp(b->data, lit, b->len);
}

/* Starts capturing a JSON string into p->val. */
static void start_capture(chat_parser *p, int sub) {
    p->val.len = 0;
    jstream_init(&p->js, capture_sink, p);
    jstream_feed(&p->js, '"');
    p->sub = sub;
}

static void commit(chat_parser *p) {
    p->tent.len = 0;
    cp_emit_begin(p);
}

/* The arguments are complete: the call ends, the rest of the outer object is skipped. */
static void args_done(chat_parser *p, bool truncated) {
    cp_emit_end(p, truncated);
    jstream_init_in_object(&p->js, NULL, NULL);
    p->hold.len = 0;
    p->sub = H_AFTER_ARGS;
}

/* Arguments given as a string: committed only if the text decodes to a JSON object. */
static size_t args_string_done(chat_parser *p) {
    cp_buf text = {0};
    if (decode_string(p, &text)) {
        cp_buf_free(&text);
        return rollback_taken(p);
    }
    size_t a = 0, b = text.len;
    while (a < b && cp_is_ws((unsigned char)text.data[a])) a++;
    while (b > a && cp_is_ws((unsigned char)text.data[b - 1])) b--;
    json_t *obj = a < b ? json_loadb(text.data + a, b - a, JSON_ALLOW_NUL, NULL) : NULL;
    bool ok = json_is_object(obj);
    json_decref(obj);
    if (!ok) {
        cp_buf_free(&text);
        return rollback_taken(p);
    }
    p->val.len = 0;
    commit(p);
    cp_emit_args(p, text.data + a, b - a);
    cp_buf_free(&text);
    args_done(p, false);
    return 1;
}

/* Header states: returns bytes consumed (0: rolled back or state change). */
static size_t feed_header(chat_parser *p, unsigned char c) {
    int r;
    switch (p->sub) {
    case H_OBJ:
        if (cp_is_ws(c)) return pre_add(p, c);
        if (c != '{') return rollback(p);
        if (!pre_add(p, c)) return 0;
        p->sub = H_KEY;
        return 1;
    case H_KEY:
        if (cp_is_ws(c)) return pre_add(p, c);
        if (c == '}') {
            p->sub = H_NEXT;
            return 0;
        }
        if (c != '"') return rollback(p);
        if (!pre_add(p, c)) return 0;
        start_capture(p, H_KEYSTR);
        return 1;
    case H_KEYSTR:
    case H_NAMESTR:
    case H_ARGSTR:
        if (!pre_add(p, c)) return 0;
        r = jstream_feed(&p->js, c);
        if (r == JSTREAM_MORE) return 1;
        if (r != JSTREAM_DONE) return rollback_taken(p);
        if (p->sub == H_ARGSTR) return args_string_done(p);
        if (p->sub == H_KEYSTR) {
            if (decode_string(p, &p->key)) return rollback_taken(p);
            p->hkey = is(&p->key, "name")                                     ? K_NAME
                      : is(&p->key, "arguments") || is(&p->key, "parameters") ? K_ARGS
                                                                              : K_OTHER;
            p->sub = H_COLON;
            return 1;
        }
        if (p->have_name || decode_string(p, &p->name) || !p->name.len ||
            p->name.len > CHAT_PARSER_MAX_NAME || memchr(p->name.data, 0, p->name.len))
            return rollback_taken(p);
        p->have_name = true;
        p->sub = H_NEXT;
        return 1;
    case H_COLON:
        if (cp_is_ws(c)) return pre_add(p, c);
        if (c != ':') return rollback(p);
        if (!pre_add(p, c)) return 0;
        p->sub = H_VAL;
        return 1;
    case H_VAL:
        if (cp_is_ws(c)) return pre_add(p, c);
        if (p->hkey == K_NAME) {
            if (c != '"' || p->have_name) return rollback(p);
            if (!pre_add(p, c)) return 0;
            start_capture(p, H_NAMESTR);
            return 1;
        }
        if (p->hkey == K_ARGS) {
            if (!p->have_name) return rollback(p);
            if (c == '{') {
                commit(p);
                jstream_init(&p->js, args_sink, p);
                jstream_feed(&p->js, '{');
                p->sub = H_ARGS;
                return 1;
            }
            if (c != '"') return rollback(p);
            p->sub = H_ARGSTR;
            if (!pre_add(p, c)) return 0;
            start_capture(p, H_ARGSTR);
            return 1;
        }
        jstream_init(&p->js, NULL, NULL);
        p->sub = H_SKIPVAL;
        return 0;
    case H_SKIPVAL:
        r = jstream_feed(&p->js, c);
        if (r == JSTREAM_ERROR) return rollback(p);
        if (r == JSTREAM_DONE_BEFORE) {
            p->sub = H_NEXT;
            return 0;
        }
        if (!pre_add(p, c)) return 0;
        if (r == JSTREAM_DONE) p->sub = H_NEXT;
        return 1;
    case H_NEXT:
        if (cp_is_ws(c)) return pre_add(p, c);
        if (c == ',') {
            if (!pre_add(p, c)) return 0;
            p->sub = H_KEY;
            return 1;
        }
        if (c != '}' || !p->have_name) return rollback(p);
        commit(p); /* no arguments member: {} */
        cp_emit_args(p, "{}", 2);
        cp_emit_end(p, false);
        p->hold.len = 0;
        p->sub = H_CLOSE;
        return 1;
    }
    return rollback(p);
}

size_t cp_hermes_feed(chat_parser *p, const char *s, size_t n) {
    unsigned char c = (unsigned char)s[0];
    (void)n;
    switch (p->sub) {
    case H_ARGS: {
        int r = jstream_feed(&p->js, c);
        if (r == JSTREAM_MORE) return 1;
        if (r == JSTREAM_DONE) {
            args_done(p, false);
            return 1;
        }
        /* invalid JSON inside the arguments: close them; a held comma is text again */
        const char *pend;
        size_t np = jstream_pending_comma(&p->js, &pend);
        cp_requeue(p, pend, np);
        jstream_close(&p->js);
        cp_emit_end(p, true);
        cp_to_text(p, false);
        return 0;
    }
    case H_AFTER_ARGS: {
        int r = jstream_feed(&p->js, c);
        if (r == JSTREAM_DONE) {
            p->hold.len = 0;
            p->sub = H_CLOSE;
            return 1;
        }
        if (r == JSTREAM_MORE && p->hold.len < CHAT_PARSER_MAX_HOLD) {
            if (cp_buf_put(&p->hold, &c, 1)) cp_fail(p);
            return 1;
        }
        bool only_ws = true;
        for (size_t i = 0; i < p->hold.len; i++) only_ws &= cp_is_ws((unsigned char)p->hold.data[i]);
        if (r == JSTREAM_ERROR && c == '<' && only_ws) { /* the outer '}' is missing */
            p->hold.len = 0;
            p->sub = H_CLOSE;
            return 0;
        }
        cp_requeue(p, p->hold.data, p->hold.len);
        cp_to_text(p, true);
        return 0;
    }
    case H_CLOSE:
        if (!p->hold.len && cp_is_ws(c)) return 1;
        if (c == (unsigned char)CALL_CLOSE[p->hold.len]) {
            if (cp_buf_put(&p->hold, &c, 1)) cp_fail(p);
            if (p->hold.len == sizeof CALL_CLOSE - 1) cp_to_text(p, true);
            return 1;
        }
        cp_requeue(p, p->hold.data, p->hold.len);
        cp_to_text(p, true);
        return 0;
    default:
        return feed_header(p, c);
    }
}

void cp_hermes_finish(chat_parser *p) {
    switch (p->sub) {
    case H_ARGS:
        jstream_close(&p->js);
        cp_emit_end(p, true);
        cp_to_text(p, false);
        return;
    case H_AFTER_ARGS:
    case H_CLOSE:
        cp_requeue(p, p->hold.data, p->hold.len);
        cp_to_text(p, true);
        return;
    default:
        cp_rollback(p);
    }
}
