/* parse_text.c - content and reasoning text: finds the tags that open or close the reasoning
 * block and open a tool call, holding back only a possible tag prefix and whitespace that
 * would be dropped if a tag followed. */
#include "chat/output_parser_internal.h"

#include <string.h>

enum { TAG_THINK_OPEN, TAG_THINK_CLOSE, TAG_TOOL_CALL, TAG_FUNCTION };

/* The tags that mean something now; returns how many. Every tag starts with '<' and has no
 * other '<', so a failed match can never hide the start of another tag. */
static int active_tags(const chat_parser *p, const char *tags[3], int ids[3]) {
    int n = 0;
    if (p->in_reasoning) {
        tags[n] = p->fam->think_close;
        ids[n++] = TAG_THINK_CLOSE;
        return n;
    }
    if (p->at_start) {
        tags[n] = p->fam->think_open;
        ids[n++] = TAG_THINK_OPEN;
    }
    if (p->tools_on) {
        tags[n] = "<tool_call>";
        ids[n++] = TAG_TOOL_CALL;
        if (p->fam->tools == CHAT_TOOLS_QWEN3_XML) {
            tags[n] = "<function=";
            ids[n++] = TAG_FUNCTION;
        }
    }
    return n;
}

static chat_event_kind text_kind(const chat_parser *p) {
    return p->in_reasoning ? CHAT_EV_REASONING : CHAT_EV_CONTENT;
}

/* Emits held whitespace: it was not next to a tag after all. */
static void flush_ws(chat_parser *p) {
    cp_emit_text(p, text_kind(p), p->ws.data, p->ws.len);
    p->ws.len = 0;
}

/* Text that is not whitespace: ends the start of output and any whitespace skipping. */
static void emit_word(chat_parser *p, const char *s, size_t n) {
    flush_ws(p);
    cp_emit_text(p, text_kind(p), s, n);
    p->at_start = false;
    p->skip_ws = false;
}

void cp_text_start_call(chat_parser *p, int which_tag) {
    p->tent.len = 0;
    if (cp_buf_put(&p->tent, p->ws.data, p->ws.len) ||
        cp_buf_put(&p->tent, p->tag.data, p->tag.len)) {
        cp_fail(p);
        return;
    }
    p->tent_keep = p->tent.len;
    p->ws.len = 0;
    p->tag.len = 0;
    if (p->fam->tools == CHAT_TOOLS_QWEN3_XML) cp_xml_start(p, which_tag == TAG_TOOL_CALL);
    else cp_hermes_start(p);
}

/* A whole tag matched. */
static void tag_done(chat_parser *p, int id) {
    switch (id) {
    case TAG_THINK_OPEN:
    case TAG_THINK_CLOSE:
        p->in_reasoning = id == TAG_THINK_OPEN;
        p->at_start = false;
        p->skip_ws = true; /* "<think>\n" and "</think>\n\n" */
        p->ws.len = 0;
        p->tag.len = 0;
        break;
    default:
        cp_text_start_call(p, id);
    }
}

size_t cp_text_feed(chat_parser *p, const char *s, size_t n) {
    const char *tags[3];
    int ids[3];
    int nt = active_tags(p, tags, ids);
    unsigned char c = (unsigned char)s[0];

    if (p->tag.len) {
        if (cp_buf_put(&p->tag, &c, 1)) {
            cp_fail(p);
            return 1;
        }
        int which = 0;
        int m = cp_match_tags(p->tag.data, p->tag.len, tags, nt, &which);
        if (m == 0) return 1;
        if (m == 1) {
            tag_done(p, ids[which]);
            return 1;
        }
        p->tag.len--; /* not a tag: what was held is text, c is read again */
        size_t len = p->tag.len;
        p->tag.len = 0;
        emit_word(p, p->tag.data, len);
        return 0;
    }
    if (c == '<' && nt) {
        if (cp_buf_put(&p->tag, "<", 1)) cp_fail(p);
        return 1;
    }
    if (cp_is_ws(c)) {
        size_t i = 0;
        while (i < n && cp_is_ws((unsigned char)s[i])) i++;
        if (p->skip_ws) return i;
        if (!nt) {
            cp_emit_text(p, text_kind(p), s, i);
            return i;
        }
        /* held until we know whether a tag follows; a long run goes out in pieces */
        for (size_t k = 0; k < i; k++) {
            if (p->ws.len >= CHAT_PARSER_MAX_HOLD) flush_ws(p);
            if (cp_buf_put(&p->ws, s + k, 1)) {
                cp_fail(p);
                break;
            }
        }
        return i;
    }
    size_t i = 1;
    while (i < n && !cp_is_ws((unsigned char)s[i]) && !(s[i] == '<' && nt)) i++;
    emit_word(p, s, i);
    return i;
}

void cp_text_finish(chat_parser *p) {
    size_t len = p->tag.len;
    p->tag.len = 0;
    if (len) emit_word(p, p->tag.data, len);
    flush_ws(p);
}
