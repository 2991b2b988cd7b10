/* output_parser.c - the output parser's driver: UTF-8 checking of the pieces pushed, the loop
 * that hands bytes to the current mode (text, XML call, JSON call), events and their staging,
 * and the whole-output convenience. The syntax itself lives in the parse_*.c files. */
#include "chat/output_parser_internal.h"

#include "base/error.h"
#include "tok/utf8.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_MAX_CALL ((size_t)64 << 20)

/* ---- buffers ---------------------------------------------------------------------------- */

int cp_buf_put(cp_buf *b, const void *s, size_t n) {
    if (b->len + n + 1 > b->cap) {
        if (n > SIZE_MAX / 2 - b->len - 1) return fn_error("output parser: buffer too large");
        size_t cap = b->cap ? b->cap : 64;
        while (cap < b->len + n + 1) cap *= 2;
        char *d = realloc(b->data, cap);
        if (!d) return fn_error("output parser: out of memory (%zu bytes)", cap);
        b->data = d;
        b->cap = cap;
    }
    if (n) memcpy(b->data + b->len, s, n);
    b->len += n;
    b->data[b->len] = 0;
    return 0;
}

void cp_buf_free(cp_buf *b) {
    free(b->data);
    memset(b, 0, sizeof *b);
}

/* ---- events ----------------------------------------------------------------------------- */

int cp_fail(chat_parser *p) {
    p->failed = true;
    return -1;
}

static void call(chat_parser *p, const chat_event *ev) {
    if (p->failed || !p->cb) return;
    if (p->cb(ev, p->ud)) {
        fn_error("output parser: stopped by the event callback");
        cp_fail(p);
    }
}

static void flush_stage(chat_parser *p) {
    if (!p->stage.len) return;
    chat_event ev = {.kind = p->stage_kind, .index = p->stage_index, .text = p->stage.data,
                     .len = p->stage.len};
    p->stage.len = 0;
    call(p, &ev);
}

static void stage(chat_parser *p, chat_event_kind kind, int index, const char *s, size_t n) {
    if (p->failed || !n) return;
    if (p->stage.len && (p->stage_kind != kind || p->stage_index != index)) flush_stage(p);
    p->stage_kind = kind;
    p->stage_index = index;
    if (cp_buf_put(&p->stage, s, n)) cp_fail(p);
}

void cp_emit_text(chat_parser *p, chat_event_kind kind, const char *s, size_t n) {
    stage(p, kind, -1, s, n);
}

void cp_emit_begin(chat_parser *p) {
    flush_stage(p);
    p->cur = p->n_calls++;
    p->args.len = 0;
    chat_event ev = {.kind = CHAT_EV_TOOL_BEGIN, .index = p->cur,
                     .text = p->name.data ? p->name.data : "", .len = p->name.len};
    call(p, &ev);
}

void cp_emit_args(chat_parser *p, const char *s, size_t n) {
    if (p->failed || !n) return;
    FN_ASSERT(p->cur >= 0);
    if (n > p->max_call || p->args.len + p->val.len > p->max_call - n) {
        fn_error("output parser: tool call arguments exceed %zu bytes", p->max_call);
        cp_fail(p);
        return;
    }
    if (cp_buf_put(&p->args, s, n)) {
        cp_fail(p);
        return;
    }
    stage(p, CHAT_EV_TOOL_ARGS, p->cur, s, n);
}

void cp_emit_end(chat_parser *p, bool truncated) {
    FN_ASSERT(p->cur >= 0);
    flush_stage(p);
    chat_event ev = {.kind = CHAT_EV_TOOL_END, .index = p->cur,
                     .text = p->args.data ? p->args.data : "", .len = p->args.len,
                     .truncated = truncated};
    call(p, &ev);
    p->cur = -1;
}

void cp_emit_args_escaped(chat_parser *p, const char *s, size_t n) {
    static const char hex[] = "0123456789abcdef";
    char buf[256];
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (o + 6 > sizeof buf) {
            cp_emit_args(p, buf, o);
            o = 0;
        }
        if (c == '"' || c == '\\') {
            buf[o++] = '\\';
            buf[o++] = (char)c;
        } else if (c >= 0x20) {
            buf[o++] = (char)c;
        } else {
            buf[o++] = '\\';
            switch (c) {
            case '\n': buf[o++] = 'n'; break;
            case '\r': buf[o++] = 'r'; break;
            case '\t': buf[o++] = 't'; break;
            case '\b': buf[o++] = 'b'; break;
            case '\f': buf[o++] = 'f'; break;
            default:
                memcpy(buf + o, "u00", 3);
                buf[o + 3] = hex[c >> 4];
                buf[o + 4] = hex[c & 15];
                o += 5;
            }
        }
    }
    cp_emit_args(p, buf, o);
}

/* ---- helpers for the modes -------------------------------------------------------------- */

void cp_requeue(chat_parser *p, const char *s, size_t n) {
    if (n && cp_buf_put(&p->requeue, s, n)) cp_fail(p);
}

void cp_to_text(chat_parser *p, bool skip_ws) {
    p->mode = CP_TEXT;
    p->sub = 0;
    p->skip_ws = skip_ws;
    p->at_start = false;
    p->tag.len = 0;
    p->ws.len = 0;
    p->hold.len = 0;
    p->tent.len = 0;
}

void cp_rollback(chat_parser *p) {
    FN_ASSERT(p->tent.len >= p->tent_keep);
    cp_emit_text(p, CHAT_EV_CONTENT, p->tent.data, p->tent_keep);
    cp_requeue(p, p->tent.data + p->tent_keep, p->tent.len - p->tent_keep);
    cp_to_text(p, false);
}

int cp_match_tags(const char *held, size_t n, const char *const *tags, int ntags, int *which) {
    int r = -1;
    for (int i = 0; i < ntags; i++) {
        size_t t = strlen(tags[i]);
        if (n > t || memcmp(held, tags[i], n)) continue;
        if (n == t) {
            *which = i;
            return 1;
        }
        r = 0;
    }
    return r;
}

/* ---- the driver ------------------------------------------------------------------------- */

/* Puts requeued bytes in front of what is left to replay. */
static void merge_requeue(chat_parser *p) {
    if (!p->requeue.len) return;
    size_t left = p->replay.len - p->replay_off;
    if (left && cp_buf_put(&p->requeue, p->replay.data + p->replay_off, left)) {
        cp_fail(p);
        return;
    }
    cp_buf t = p->replay;
    p->replay = p->requeue;
    p->requeue = t;
    p->requeue.len = 0;
    p->replay_off = 0;
}

static size_t feed_mode(chat_parser *p, const char *s, size_t n) {
    switch (p->mode) {
    case CP_TEXT: return cp_text_feed(p, s, n);
    case CP_XML: return cp_xml_feed(p, s, n);
    case CP_HERMES: return cp_hermes_feed(p, s, n);
    }
    return 0;
}

/* Reads replayed bytes first, then s[0..n) (valid UTF-8), through the current mode. */
static void drive(chat_parser *p, const char *s, size_t n) {
    int stalls = 0; /* reads in a row that consumed nothing (each changes state) */
    while (!p->failed) {
        size_t used;
        if (p->replay_off < p->replay.len) {
            used = feed_mode(p, p->replay.data + p->replay_off, p->replay.len - p->replay_off);
            p->replay_off += used;
        } else {
            p->replay.len = p->replay_off = 0;
            if (!n) return;
            used = feed_mode(p, s, n);
            FN_ASSERT(used <= n);
            s += used;
            n -= used;
        }
        merge_requeue(p);
        stalls = used ? 0 : stalls + 1;
        FN_ASSERT(stalls < 16);
    }
}

/* One byte that is not part of the valid prefix: completes, waits for, or replaces a
 * UTF-8 sequence (one U+FFFD per bad byte, the rest read again). */
static void utf8_slow(chat_parser *p, unsigned char b) {
    p->u8[p->u8n++] = b;
    int r = utf8_check(p->u8, (size_t)p->u8n);
    if (r < 0) return;
    if (r > 0) {
        p->u8n = 0;
        drive(p, (const char *)p->u8, (size_t)r);
        return;
    }
    unsigned char rest[3];
    int k = p->u8n - 1;
    memcpy(rest, p->u8 + 1, (size_t)k);
    p->u8n = 0;
    drive(p, UTF8_REPLACEMENT, 3);
    for (int i = 0; i < k; i++) utf8_slow(p, rest[i]);
}

static void feed_bytes(chat_parser *p, const char *s, size_t n) {
    size_t i = 0;
    while (i < n && !p->failed) {
        if (p->u8n == 0) {
            size_t ok = utf8_valid_prefix(s + i, n - i);
            if (ok) {
                drive(p, s + i, ok);
                i += ok;
                continue;
            }
        }
        utf8_slow(p, (unsigned char)s[i++]);
    }
}

chat_parser *chat_parser_new(const chat_parser_config *cfg) {
    chat_parser *p = calloc(1, sizeof *p);
    if (!p) {
        fn_error("output parser: out of memory");
        return NULL;
    }
    static const chat_parser_config none = {0};
    if (!cfg) cfg = &none;
    p->fam = cfg->family ? cfg->family : chat_parser_detect(NULL);
    p->tools = cfg->tools;
    p->tools_on = cfg->parse_tool_calls && p->fam->tools != CHAT_TOOLS_NONE;
    p->max_call = cfg->max_call_bytes ? cfg->max_call_bytes : DEFAULT_MAX_CALL;
    bool think = p->fam->think_open && p->fam->think_close;
    p->in_reasoning = think && cfg->starts_in_reasoning;
    p->at_start = think && !p->in_reasoning;
    p->skip_ws = p->in_reasoning;
    p->cur = -1;
    p->mode = CP_TEXT;
    return p;
}

void chat_parser_free(chat_parser *p) {
    if (!p) return;
    cp_buf *bufs[] = {&p->replay, &p->requeue, &p->stage, &p->ws, &p->tag, &p->tent,
                      &p->hold, &p->name, &p->key, &p->val, &p->args};
    for (size_t i = 0; i < FN_ARRAY_LEN(bufs); i++) cp_buf_free(bufs[i]);
    free(p);
}

static int begin_call(chat_parser *p, chat_event_fn cb, void *ud) {
    if (p->failed) {
        if (!*fn_errmsg()) fn_error("output parser: an earlier error stopped this parse");
        return -1;
    }
    if (p->finished) {
        fn_error("output parser: output already finished");
        return cp_fail(p);
    }
    p->cb = cb;
    p->ud = ud;
    return 0;
}

static int end_call(chat_parser *p) {
    flush_stage(p);
    p->cb = NULL;
    p->ud = NULL;
    return p->failed ? -1 : 0;
}

int chat_parser_push(chat_parser *p, const char *text, size_t len, chat_event_fn cb, void *ud) {
    if (begin_call(p, cb, ud)) return -1;
    if (len) feed_bytes(p, text, len);
    return end_call(p);
}

int chat_parser_finish(chat_parser *p, chat_event_fn cb, void *ud) {
    if (begin_call(p, cb, ud)) return -1;
    p->finished = true;
    /* a UTF-8 sequence cut off by the end: one U+FFFD per byte */
    int k = p->u8n;
    p->u8n = 0;
    for (int i = 0; i < k && !p->failed; i++) drive(p, UTF8_REPLACEMENT, 3);
    /* Each round replays less than the last (a rollback emits the opener as content), so
     * this ends; the guard only catches a bug. */
    for (int guard = 0; !p->failed; guard++) {
        FN_ASSERT(guard < (1 << 20));
        if (p->mode == CP_TEXT) {
            cp_text_finish(p);
            break;
        }
        if (p->mode == CP_XML) cp_xml_finish(p);
        else cp_hermes_finish(p);
        FN_ASSERT(p->mode == CP_TEXT);
        merge_requeue(p);
        drive(p, NULL, 0); /* what the mode gave back is read again */
    }
    return end_call(p);
}

int chat_parser_tool_count(const chat_parser *p) {
    return p->n_calls;
}

/* ---- whole output ----------------------------------------------------------------------- */

typedef struct {
    cp_buf content, reasoning;
    json_t *calls;
    bool truncated;
} collect_state;

static int collect(const chat_event *ev, void *ud) {
    collect_state *c = ud;
    switch (ev->kind) {
    case CHAT_EV_CONTENT: return cp_buf_put(&c->content, ev->text, ev->len);
    case CHAT_EV_REASONING: return cp_buf_put(&c->reasoning, ev->text, ev->len);
    case CHAT_EV_TOOL_ARGS: return 0;
    case CHAT_EV_TOOL_BEGIN: {
        json_t *call = json_pack("{s:s, s:{s:s%, s:s}}", "type", "function", "function", "name",
                                 ev->text, ev->len, "arguments", "");
        if (!call || json_array_append_new(c->calls, call)) return fn_error("out of memory");
        return 0;
    }
    case CHAT_EV_TOOL_END: {
        json_t *fn = json_object_get(json_array_get(c->calls, (size_t)ev->index), "function");
        c->truncated |= ev->truncated;
        if (!fn || json_object_set_new(fn, "arguments", json_stringn(ev->text, ev->len)))
            return fn_error("out of memory");
        return 0;
    }
    }
    return 0;
}

/* Takes a buffer's bytes as a NUL-terminated malloc'd string ("" when empty). */
static char *take(cp_buf *b, size_t *len) {
    if (!b->data && cp_buf_put(b, "", 0)) return NULL;
    char *s = b->data;
    *len = b->len;
    memset(b, 0, sizeof *b);
    return s;
}

int chat_parse_all(const chat_parser_config *cfg, const char *text, size_t len,
                   chat_parse_result *out) {
    memset(out, 0, sizeof *out);
    collect_state c = {.calls = json_array()};
    chat_parser *p = c.calls ? chat_parser_new(cfg) : NULL;
    int rc = -1;
    if (!p) {
        if (!c.calls) fn_error("output parser: out of memory");
        goto done;
    }
    if (chat_parser_push(p, text, len, collect, &c) || chat_parser_finish(p, collect, &c))
        goto done;
    out->content = take(&c.content, &out->content_len);
    out->reasoning = take(&c.reasoning, &out->reasoning_len);
    if (!out->content || !out->reasoning) {
        chat_parse_result_free(out);
        goto done;
    }
    out->tool_calls = c.calls;
    out->truncated = c.truncated;
    c.calls = NULL;
    rc = 0;
done:
    chat_parser_free(p);
    cp_buf_free(&c.content);
    cp_buf_free(&c.reasoning);
    json_decref(c.calls);
    return rc;
}

void chat_parse_result_free(chat_parse_result *r) {
    free(r->content);
    free(r->reasoning);
    json_decref(r->tool_calls);
    memset(r, 0, sizeof *r);
}
