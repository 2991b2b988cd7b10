/* parse_qwen3_xml.c - Qwen3-Coder XML tool calls:
 *   <tool_call>\n<function=NAME>\n<parameter=KEY>\nVALUE\n</parameter>\n</function>\n</tool_call>
 * into JSON arguments, string values streamed as they arrive, others typed by the tool's
 * schema. The policies (where a value ends, typing, bare <function=) are in output_parser.h. */
#include "chat/output_parser_internal.h"

#include <ctype.h>
#include <string.h>

enum {
    X_OPEN,     /* after <tool_call>: whitespace, then "<function=" (pos bytes matched) */
    X_NAME,     /* reading NAME up to '>' */
    X_CONFIRM,  /* bare <function=NAME>: waiting for <parameter= or </function> to commit */
    X_BODY,     /* between parameters: <parameter=, </function> or </tool_call> */
    X_KEY,      /* reading KEY up to '>' */
    X_VAL,      /* reading a value; la says how much of a closing tag is held */
    X_AFTER_FN, /* after </function>: </tool_call>, another <function=, or the end */
};

enum {
    LA_NONE,  /* nothing held */
    LA_CLOSE, /* hold = a prefix of "</parameter>" */
    LA_WS,    /* hold = "</parameter>" + whitespace */
    LA_NEXT,  /* hold = "</parameter>" + whitespace + prefix of a next tag (from pos) */
};

#define MAX_GAP 64 /* whitespace allowed between "</parameter>" and the next tag */

static const char FUNC_OPEN[] = "<function=";
static const char PARAM_CLOSE[] = "</parameter>";
static const char *const body_tags[] = {"<parameter=", "</function>", "</tool_call>"};
static const char *const confirm_tags[] = {"<parameter=", "</function>"};
static const char *const after_tags[] = {"</tool_call>", "<function="};
enum { T_PARAM, T_FUNC_END, T_CALL_END };

/* ---- the tools' schemas ---- */

/* tools[i].function (or tools[i] itself when it has a name) for name, or NULL. */
static const json_t *find_tool(const json_t *tools, const char *name) {
    for (size_t i = 0; i < json_array_size(tools); i++) {
        const json_t *t = json_array_get(tools, i);
        const json_t *fn = json_object_get(t, "function");
        if (!json_is_object(fn)) fn = t;
        const char *n = json_string_value(json_object_get(fn, "name"));
        if (n && !strcmp(n, name)) return fn;
    }
    return NULL;
}

static const json_t *find_props(const json_t *tools, const char *name) {
    const json_t *fn = find_tool(tools, name);
    const json_t *props = json_object_get(json_object_get(fn, "parameters"), "properties");
    return json_is_object(props) ? props : NULL;
}

/* Whether KEY's schema says its values are strings (streamed as written). */
static bool param_is_string(const json_t *props, const char *key) {
    const json_t *sch = json_object_get(props, key);
    const json_t *type = json_object_get(sch, "type");
    if (json_is_string(type)) return !strcmp(json_string_value(type), "string");
    if (json_is_array(type)) {
        for (size_t i = 0; i < json_array_size(type); i++) {
            const char *t = json_string_value(json_array_get(type, i));
            if (t && !strcmp(t, "string")) return true;
        }
        return false;
    }
    const json_t *en = json_object_get(sch, "enum");
    if (!json_array_size(en)) return false;
    for (size_t i = 0; i < json_array_size(en); i++)
        if (!json_is_string(json_array_get(en, i))) return false;
    return true;
}

/* ---- helpers ---- */

void cp_xml_start(chat_parser *p, bool wrapped) {
    p->mode = CP_XML;
    p->wrapped = wrapped;
    p->sub = wrapped ? X_OPEN : X_NAME;
    p->pos = 0;
    p->name.len = 0;
    p->hold.len = 0;
}

/* Adds c to the uncommitted call's text; false (after rolling back) if the header grew too
 * long to hold. */
static bool tent_add(chat_parser *p, unsigned char c) {
    if (p->tent.len - p->tent_keep >= CHAT_PARSER_MAX_HOLD) {
        cp_rollback(p);
        return false;
    }
    if (cp_buf_put(&p->tent, &c, 1)) cp_fail(p);
    return true;
}

static void commit(chat_parser *p) {
    p->tent.len = 0;
    cp_emit_begin(p);
    p->props = find_props(p->tools, p->name.data);
    p->nparams = 0;
    cp_emit_args(p, "{", 1);
}

/* Ends the call: closes the arguments object. */
static void end_call(chat_parser *p, bool truncated) {
    cp_emit_args(p, "}", 1);
    cp_emit_end(p, truncated);
}

/* The call stops at something unexpected: it ends truncated and held, plus the byte not
 * consumed, is read again as content. */
static size_t deviate(chat_parser *p) {
    end_call(p, true);
    cp_to_text(p, false);
    return 0;
}

static void start_value(chat_parser *p) {
    if (p->nparams) cp_emit_args(p, ", ", 2);
    cp_emit_args(p, "\"", 1);
    const char *key = p->key.data ? p->key.data : "";
    cp_emit_args_escaped(p, key, p->key.len);
    cp_emit_args(p, "\": ", 3);
    p->vstring = param_is_string(p->props, key);
    if (p->vstring) cp_emit_args(p, "\"", 1);
    p->val.len = 0;
    p->vfirst = true;
    p->nl_held = false;
    p->la = LA_NONE;
    p->hold.len = 0;
    p->sub = X_VAL;
}

/* Value bytes after the leading/trailing newline rule. */
static void val_out(chat_parser *p, const char *s, size_t n) {
    if (p->vstring) {
        cp_emit_args_escaped(p, s, n);
        return;
    }
    if (p->args.len + p->val.len + n > p->max_call) {
        cp_emit_args(p, s, n); /* reports the overflow */
        return;
    }
    if (cp_buf_put(&p->val, s, n)) cp_fail(p);
}

/* Value text: the first '\n' is dropped, a '\n' is held in case it is the last. */
static void val_bytes(chat_parser *p, const char *s, size_t n) {
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (p->vfirst) {
            p->vfirst = false;
            if (c == '\n') continue;
        }
        if (p->nl_held) val_out(p, "\n", 1);
        p->nl_held = c == '\n';
        if (c == '\n') continue;
        size_t j = i + 1; /* the run up to the next newline goes out at once */
        while (j < n && s[j] != '\n') j++;
        val_out(p, s + i, j - i);
        i = j - 1;
    }
}

static bool ieq(const char *s, size_t n, const char *lit) {
    if (strlen(lit) != n) return false;
    for (size_t i = 0; i < n; i++)
        if (tolower((unsigned char)s[i]) != lit[i]) return false;
    return true;
}

/* A non-string value is complete in val: JSON if it parses, else a string. */
static void typed_finish(chat_parser *p) {
    const char *v = p->val.data ? p->val.data : "";
    size_t vlen = p->val.len;
    p->val.len = 0; /* moves into the arguments (the bytes stay where they are meanwhile) */
    size_t a = 0, b = vlen;
    while (a < b && cp_is_ws((unsigned char)v[a])) a++;
    while (b > a && cp_is_ws((unsigned char)v[b - 1])) b--;
    json_t *j = a < b ? json_loadb(v + a, b - a, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL) : NULL;
    if (j) {
        json_decref(j);
        cp_emit_args(p, v + a, b - a);
    } else if (ieq(v + a, b - a, "true") || ieq(v + a, b - a, "false") ||
               ieq(v + a, b - a, "null")) {
        char lit[6];
        for (size_t i = a; i < b; i++) lit[i - a] = (char)tolower((unsigned char)v[i]);
        cp_emit_args(p, lit, b - a);
    } else {
        cp_emit_args(p, "\"", 1);
        cp_emit_args_escaped(p, v, vlen);
        cp_emit_args(p, "\"", 1);
    }
}

/* The value ended at a real "</parameter>": the held '\n' was the template's. */
static void value_close(chat_parser *p) {
    p->nl_held = false;
    if (p->vstring) cp_emit_args(p, "\"", 1);
    else typed_finish(p);
    p->nparams++;
}

/* After a body tag: a new parameter, or the end of the function / call. */
static void body_tag(chat_parser *p, int t) {
    p->hold.len = 0;
    if (t == T_PARAM) {
        p->key.len = 0;
        p->sub = X_KEY;
    } else if (t == T_FUNC_END) {
        end_call(p, false);
        p->sub = X_AFTER_FN;
        p->pos = 0;
    } else {
        end_call(p, false);
        cp_to_text(p, true);
    }
}

/* The held lookahead is not a closing tag: it is value text up to the next '<' in it, which
 * is read again (with the byte not consumed). */
static size_t la_fail(chat_parser *p) {
    const char *h = p->hold.data;
    const char *lt = memchr(h + 1, '<', p->hold.len - 1);
    size_t k = lt ? (size_t)(lt - h) : p->hold.len;
    val_bytes(p, h, k);
    cp_requeue(p, h + k, p->hold.len - k);
    p->hold.len = 0;
    p->la = LA_NONE;
    return 0;
}

static size_t feed_value(chat_parser *p, const char *s, size_t n) {
    unsigned char c = (unsigned char)s[0];
    switch (p->la) {
    case LA_NONE: {
        if (c == '<') {
            p->vfirst = false;
            p->la = LA_CLOSE;
            if (cp_buf_put(&p->hold, "<", 1)) cp_fail(p);
            return 1;
        }
        const char *lt = memchr(s, '<', n);
        size_t k = lt ? (size_t)(lt - s) : n;
        val_bytes(p, s, k);
        return k;
    }
    case LA_CLOSE:
        if (c != (unsigned char)PARAM_CLOSE[p->hold.len]) return la_fail(p);
        if (cp_buf_put(&p->hold, &c, 1)) cp_fail(p);
        if (p->hold.len == sizeof PARAM_CLOSE - 1) {
            p->la = LA_WS;
            p->la_ws = 0;
        }
        return 1;
    case LA_WS:
        if (cp_is_ws(c)) {
            if (p->la_ws == MAX_GAP) return la_fail(p);
            p->la_ws++;
        } else if (c == '<') {
            p->pos = p->hold.len;
            p->la = LA_NEXT;
        } else {
            return la_fail(p);
        }
        if (cp_buf_put(&p->hold, &c, 1)) cp_fail(p);
        return 1;
    case LA_NEXT: {
        if (cp_buf_put(&p->hold, &c, 1)) {
            cp_fail(p);
            return 1;
        }
        int t = 0;
        int m = cp_match_tags(p->hold.data + p->pos, p->hold.len - p->pos, body_tags, 3, &t);
        if (m == 0) return 1;
        if (m == 1) {
            value_close(p);
            body_tag(p, t);
            return 1;
        }
        p->hold.len--;
        return la_fail(p);
    }
    }
    return 1;
}

/* Matches held + c against tags; on a full match returns the tag in *t and 1; 0 while it is
 * still a prefix (c taken); -1 when it is not (c not taken, held kept for the caller). */
static int hold_match(chat_parser *p, unsigned char c, const char *const *tags, int nt, int *t) {
    if (cp_buf_put(&p->hold, &c, 1)) {
        cp_fail(p);
        return 0;
    }
    int m = cp_match_tags(p->hold.data, p->hold.len, tags, nt, t);
    if (m < 0) p->hold.len--;
    return m;
}

/* A bare <function=NAME> is believed only for a tool the request has. */
static bool bare_name_ok(const chat_parser *p) {
    return !p->tools || find_tool(p->tools, p->name.data);
}

size_t cp_xml_feed(chat_parser *p, const char *s, size_t n) {
    unsigned char c = (unsigned char)s[0];
    int t = 0;
    switch (p->sub) {
    case X_OPEN:
        if (p->pos == 0 && cp_is_ws(c)) return tent_add(p, c) ? 1 : 0;
        if (p->pos == 0 && c == '{') { /* Qwen3-Coder now and then writes Hermes JSON */
            cp_hermes_start(p);
            return 0;
        }
        if (c != (unsigned char)FUNC_OPEN[p->pos]) {
            cp_rollback(p);
            return 0;
        }
        if (!tent_add(p, c)) return 0;
        if (++p->pos == sizeof FUNC_OPEN - 1) {
            p->sub = X_NAME;
            p->name.len = 0;
        }
        return 1;
    case X_NAME:
        if (c == '>') {
            if (!p->name.len || (!p->wrapped && !bare_name_ok(p))) {
                cp_rollback(p);
                return 0;
            }
            if (!tent_add(p, c)) return 0;
            if (p->wrapped) {
                commit(p);
                p->sub = X_BODY;
            } else {
                p->sub = X_CONFIRM;
                p->hold.len = 0;
                p->la_ws = 0;
            }
            return 1;
        }
        if (c < 0x20 || c == '<' || p->name.len >= CHAT_PARSER_MAX_NAME) {
            cp_rollback(p);
            return 0;
        }
        if (!tent_add(p, c)) return 0;
        if (cp_buf_put(&p->name, &c, 1)) cp_fail(p);
        return 1;
    case X_CONFIRM:
        if (!p->hold.len && cp_is_ws(c) && p->la_ws < MAX_GAP) {
            p->la_ws++;
            return tent_add(p, c) ? 1 : 0;
        }
        if (p->hold.len || c == '<') {
            int m = hold_match(p, c, confirm_tags, 2, &t);
            if (m >= 0) {
                if (!tent_add(p, c)) return 0;
                if (m == 1) {
                    commit(p);
                    body_tag(p, t);
                }
                return 1;
            }
        }
        cp_rollback(p);
        return 0;
    case X_BODY:
        if (!p->hold.len && cp_is_ws(c)) return 1;
        if (p->hold.len || c == '<') {
            int m = hold_match(p, c, body_tags, 3, &t);
            if (m == 1) body_tag(p, t);
            if (m >= 0) return 1;
            cp_requeue(p, p->hold.data, p->hold.len);
        }
        return deviate(p);
    case X_KEY:
        if (c == '>') {
            start_value(p);
            return 1;
        }
        if (c < 0x20 || c == '<' || p->key.len >= CHAT_PARSER_MAX_NAME) {
            cp_requeue(p, body_tags[T_PARAM], strlen(body_tags[T_PARAM]));
            cp_requeue(p, p->key.data, p->key.len);
            return deviate(p);
        }
        if (cp_buf_put(&p->key, &c, 1)) cp_fail(p);
        return 1;
    case X_VAL:
        return feed_value(p, s, n);
    case X_AFTER_FN:
        if (!p->hold.len && cp_is_ws(c)) return 1;
        if (p->hold.len || c == '<') {
            int m = hold_match(p, c, after_tags, 2, &t);
            if (m == 0) return 1;
            if (m == 1 && t == 0) {
                cp_to_text(p, true);
                return 1;
            }
            if (m == 1) { /* another function inside the same <tool_call> */
                p->tent.len = 0;
                if (cp_buf_put(&p->tent, FUNC_OPEN, sizeof FUNC_OPEN - 1)) cp_fail(p);
                p->tent_keep = p->tent.len;
                p->hold.len = 0;
                p->name.len = 0;
                p->sub = X_NAME;
                return 1;
            }
            cp_requeue(p, p->hold.data, p->hold.len);
        }
        cp_to_text(p, true);
        return 0;
    }
    return 1;
}

void cp_xml_finish(chat_parser *p) {
    switch (p->sub) {
    case X_OPEN:
    case X_NAME:
    case X_CONFIRM:
        cp_rollback(p);
        return;
    case X_BODY:
        cp_requeue(p, p->hold.data, p->hold.len);
        deviate(p);
        return;
    case X_KEY:
        cp_requeue(p, body_tags[T_PARAM], strlen(body_tags[T_PARAM]));
        cp_requeue(p, p->key.data, p->key.len);
        deviate(p);
        return;
    case X_VAL:
        if (p->la == LA_WS || p->la == LA_NEXT) {
            /* "</parameter>" was complete: the value ended; a cut next tag is content */
            value_close(p);
            if (p->la == LA_NEXT) cp_requeue(p, p->hold.data + p->pos, p->hold.len - p->pos);
        } else {
            val_bytes(p, p->hold.data, p->hold.len);
            if (p->nl_held) val_out(p, "\n", 1);
            p->nl_held = false;
            value_close(p);
        }
        deviate(p);
        return;
    case X_AFTER_FN:
        cp_requeue(p, p->hold.data, p->hold.len);
        cp_to_text(p, true);
        return;
    }
}
