/* jstream.c - byte-at-a-time JSON checker that passes valid (or repaired) bytes on at once
 * and can complete an unfinished value. See jstream.h for the repairs and what is held. */
#include "chat/jstream.h"

#include <string.h>

enum {
    JS_VALUE,     /* a value must start (top level, after ':' or after ',' in an array) */
    JS_OBJ_FIRST, /* after '{': a key or '}' */
    JS_OBJ_KEY,   /* after ',' in an object: a key (or '}', dropping the comma) */
    JS_COLON,     /* after a key: ':' */
    JS_ARR_FIRST, /* after '[': a value or ']' */
    JS_AFTER,     /* after a value inside a container: ',' or the closer */
    JS_STR,       /* inside a string; sub = escape state */
    JS_NUM,       /* inside a number; sub = number state */
    JS_LIT,       /* inside true/false/null; sub = bytes matched */
    JS_DONE,      /* top-level value complete */
};

/* Number states (JSON grammar: -? (0 | [1-9][0-9]*) (.[0-9]+)? ([eE][+-]?[0-9]+)?). */
enum { N_MINUS, N_ZERO, N_INT, N_DOT, N_FRAC, N_E, N_ESIGN, N_EXP };

/* Escape states inside strings. */
enum {
    E_NONE,
    E_BACKSLASH, /* pend = "\" */
    E_HEX,       /* pend = "\u" + 0..3 hex digits (after any complete high surrogate) */
    E_WANT_BS,   /* pend = "\uD8xx": a low surrogate escape must follow */
    E_WANT_U,    /* pend = "\uD8xx\" */
};

static const char *const literals[3] = {"true", "false", "null"};

static void out(jstream *j, const char *s, size_t n) {
    if (j->sink && n) j->sink(j->ctx, s, n);
}

static void out_c(jstream *j, char c) {
    out(j, &c, 1);
}

static bool is_ws(unsigned char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static int hexval(unsigned char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

void jstream_init(jstream *j, jstream_sink sink, void *ctx) {
    memset(j, 0, sizeof *j);
    j->sink = sink;
    j->ctx = ctx;
    j->st = JS_VALUE;
}

void jstream_init_in_object(jstream *j, jstream_sink sink, void *ctx) {
    jstream_init(j, sink, ctx);
    j->stack[0] = '{';
    j->depth = 1;
    j->st = JS_AFTER;
}

bool jstream_done(const jstream *j) {
    return j->st == JS_DONE;
}

size_t jstream_pending_comma(const jstream *j, const char **s) {
    *s = j->pend;
    return j->comma ? j->npend : 0;
}

/* Passes on a held comma (and its whitespace) because the next member starts. */
static void flush_comma(jstream *j) {
    if (!j->comma) return;
    out(j, j->pend, j->npend);
    j->comma = false;
    j->npend = 0;
}

static void drop_comma(jstream *j) {
    j->comma = false;
    j->npend = 0;
}

/* A value just ended: JS_DONE at the top level, else JS_AFTER. */
static int value_end(jstream *j) {
    if (j->depth == 0) {
        j->st = JS_DONE;
        return JSTREAM_DONE;
    }
    j->st = JS_AFTER;
    return JSTREAM_MORE;
}

static int start_value(jstream *j, unsigned char c) {
    switch (c) {
    case '{':
    case '[':
        if (j->depth >= JSTREAM_MAX_DEPTH) return JSTREAM_ERROR;
        flush_comma(j);
        j->stack[j->depth++] = c;
        j->st = c == '{' ? JS_OBJ_FIRST : JS_ARR_FIRST;
        break;
    case '"':
        flush_comma(j);
        j->st = JS_STR;
        j->sub = E_NONE;
        j->key = false;
        break;
    case '-':
    case '0': case '1': case '2': case '3': case '4':
    case '5': case '6': case '7': case '8': case '9':
        flush_comma(j);
        j->st = JS_NUM;
        j->sub = c == '-' ? N_MINUS : c == '0' ? N_ZERO : N_INT;
        break;
    case 't':
    case 'f':
    case 'n':
        flush_comma(j);
        j->st = JS_LIT;
        j->lit = c == 't' ? 0 : c == 'f' ? 1 : 2;
        j->sub = 1;
        break;
    default:
        return JSTREAM_ERROR;
    }
    j->after_colon = false;
    out_c(j, (char)c);
    return JSTREAM_MORE;
}

/* Closes the innermost container with c if it matches. */
static int close_container(jstream *j, unsigned char c) {
    if (j->depth == 0 || j->stack[j->depth - 1] != (c == '}' ? '{' : '[')) return JSTREAM_ERROR;
    drop_comma(j); /* a trailing comma is dropped */
    j->depth--;
    out_c(j, (char)c);
    return value_end(j);
}

/* Whitespace between tokens: passed on, or held after a pending comma (at most 7 bytes). */
static void between_ws(jstream *j, unsigned char c) {
    if (!j->comma) {
        out_c(j, (char)c);
        return;
    }
    if (j->npend < 8) j->pend[j->npend++] = (char)c;
}

/* Writes a raw control character inside a string as an escape. */
static void out_control(jstream *j, unsigned char c) {
    static const char hex[] = "0123456789abcdef";
    char e[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
    switch (c) {
    case '\n': out(j, "\\n", 2); return;
    case '\r': out(j, "\\r", 2); return;
    case '\t': out(j, "\\t", 2); return;
    case '\b': out(j, "\\b", 2); return;
    case '\f': out(j, "\\f", 2); return;
    default: out(j, e, 6);
    }
}

/* The 4 hex digits of the escape at pend[at..at+6) as a code unit. */
static unsigned unit_at(const jstream *j, int at) {
    unsigned v = 0;
    for (int i = 0; i < 4; i++) v = v * 16 + (unsigned)hexval((unsigned char)j->pend[at + 2 + i]);
    return v;
}

/* A complete \uXXXX escape sits at pend[at..at+6): pass it on, hold a high surrogate, or
 * replace a lone low surrogate. Leaves pend empty or holding just the high surrogate. */
static void finish_unit(jstream *j, int at) {
    unsigned u = unit_at(j, at);
    if (u >= 0xD800 && u <= 0xDBFF) {
        if (at) memmove(j->pend, j->pend + at, 6);
        j->npend = 6;
        j->hi = (uint16_t)u;
        j->sub = E_WANT_BS;
        return;
    }
    if ((u >= 0xDC00 && u <= 0xDFFF) || (u == 0 && j->key)) out(j, "\\ufffd", 6);
    else out(j, j->pend + at, 6);
    j->npend = 0;
    j->sub = E_NONE;
}

/* The held high surrogate gets no low half: it becomes U+FFFD. */
static void lone_high(jstream *j) {
    out(j, "\\ufffd", 6);
    j->hi = 0;
}

/* Handles byte c inside a string. Returns JSTREAM_MORE/DONE, or -1 to reprocess c. */
static int string_byte(jstream *j, unsigned char c) {
    switch (j->sub) {
    case E_NONE:
        if (c == '"') {
            out_c(j, '"');
            if (j->key) {
                j->st = JS_COLON;
                return JSTREAM_MORE;
            }
            return value_end(j);
        }
        if (c == '\\') {
            j->pend[0] = '\\';
            j->npend = 1;
            j->sub = E_BACKSLASH;
        } else if (c == 0 && j->key) {
            out(j, "\\ufffd", 6); /* jansson cannot hold NUL in keys */
        } else if (c < 0x20) {
            out_control(j, c);
        } else {
            out_c(j, (char)c);
        }
        return JSTREAM_MORE;
    case E_BACKSLASH:
        if (c == 'u') {
            j->pend[j->npend++] = 'u';
            j->sub = E_HEX;
            return JSTREAM_MORE;
        }
        j->npend = 0;
        j->sub = E_NONE;
        if (c && strchr("\"\\/bfnrt", c)) {
            char e[2] = {'\\', (char)c};
            out(j, e, 2);
            return JSTREAM_MORE;
        }
        out(j, "\\\\", 2); /* a lone backslash: keep it as a character */
        return -1;
    case E_HEX: {
        int base = j->hi ? 6 : 0; /* where the escape being read starts in pend */
        if (hexval(c) < 0) {
            /* "\u12" then junk: U+FFFD for a held high half, then the text as written */
            if (j->hi) lone_high(j);
            out(j, "\\\\", 2);
            out(j, j->pend + base + 1, (size_t)(j->npend - base - 1));
            j->npend = 0;
            j->sub = E_NONE;
            return -1;
        }
        j->pend[j->npend++] = (char)c;
        if (j->npend - base < 6) return JSTREAM_MORE;
        if (j->hi) {
            unsigned lo = unit_at(j, 6);
            if (lo >= 0xDC00 && lo <= 0xDFFF) {
                out(j, j->pend, 12);
                j->hi = 0;
                j->npend = 0;
                j->sub = E_NONE;
                return JSTREAM_MORE;
            }
            lone_high(j);
            finish_unit(j, 6);
            return JSTREAM_MORE;
        }
        finish_unit(j, 0);
        return JSTREAM_MORE;
    }
    case E_WANT_BS:
        if (c == '\\') {
            j->pend[j->npend++] = '\\';
            j->sub = E_WANT_U;
            return JSTREAM_MORE;
        }
        lone_high(j);
        j->npend = 0;
        j->sub = E_NONE;
        return -1;
    case E_WANT_U:
        if (c == 'u') {
            j->pend[j->npend++] = 'u';
            j->sub = E_HEX;
            return JSTREAM_MORE;
        }
        lone_high(j);
        j->pend[0] = '\\';
        j->npend = 1;
        j->sub = E_BACKSLASH;
        return -1;
    }
    return JSTREAM_ERROR;
}

/* Handles byte c inside a number. Returns JSTREAM_MORE, JSTREAM_ERROR, or -1 when the
 * number ended before c (c must be reprocessed after the value ends). */
static int number_byte(jstream *j, unsigned char c) {
    bool digit = c >= '0' && c <= '9';
    int next = -1;
    switch (j->sub) {
    case N_MINUS: next = c == '0' ? N_ZERO : digit ? N_INT : -2; break;
    case N_ZERO: next = c == '.' ? N_DOT : (c == 'e' || c == 'E') ? N_E : digit ? -2 : -1; break;
    case N_INT:
        next = digit ? N_INT : c == '.' ? N_DOT : (c == 'e' || c == 'E') ? N_E : -1;
        break;
    case N_DOT: next = digit ? N_FRAC : -2; break;
    case N_FRAC: next = digit ? N_FRAC : (c == 'e' || c == 'E') ? N_E : -1; break;
    case N_E: next = digit ? N_EXP : (c == '+' || c == '-') ? N_ESIGN : -2; break;
    case N_ESIGN: next = digit ? N_EXP : -2; break;
    case N_EXP: next = digit ? N_EXP : -1; break;
    }
    if (next == -2) return JSTREAM_ERROR;
    if (next == -1) return -1;
    j->sub = (uint8_t)next;
    out_c(j, (char)c);
    return JSTREAM_MORE;
}

int jstream_feed(jstream *j, unsigned char c) {
    for (;;) {
        switch (j->st) {
        case JS_DONE:
            return JSTREAM_ERROR;
        case JS_STR: {
            int r = string_byte(j, c);
            if (r >= 0) return r;
            continue; /* reprocess c in the new escape state */
        }
        case JS_NUM: {
            int r = number_byte(j, c);
            if (r >= 0) return r;
            /* the number ended before c */
            if (value_end(j) == JSTREAM_DONE) return JSTREAM_DONE_BEFORE;
            continue;
        }
        case JS_LIT: {
            const char *lit = literals[j->lit];
            if (c != (unsigned char)lit[j->sub]) return JSTREAM_ERROR;
            out_c(j, (char)c);
            if (lit[++j->sub]) return JSTREAM_MORE;
            return value_end(j);
        }
        default:
            break;
        }
        if (is_ws(c)) {
            between_ws(j, c);
            return JSTREAM_MORE;
        }
        switch (j->st) {
        case JS_VALUE:
            if (c == ']' && j->comma) return close_container(j, c);
            return start_value(j, c);
        case JS_ARR_FIRST:
            if (c == ']') return close_container(j, c);
            return start_value(j, c);
        case JS_OBJ_FIRST:
        case JS_OBJ_KEY:
            if (c == '}') return close_container(j, c);
            if (c != '"') return JSTREAM_ERROR;
            flush_comma(j);
            out_c(j, '"');
            j->st = JS_STR;
            j->sub = E_NONE;
            j->key = true;
            return JSTREAM_MORE;
        case JS_COLON:
            if (c != ':') return JSTREAM_ERROR;
            out_c(j, ':');
            j->st = JS_VALUE;
            j->after_colon = true;
            return JSTREAM_MORE;
        case JS_AFTER:
            if (c == '}' || c == ']') return close_container(j, c);
            if (c != ',') return JSTREAM_ERROR;
            j->comma = true;
            j->pend[0] = ',';
            j->npend = 1;
            j->st = j->stack[j->depth - 1] == '{' ? JS_OBJ_KEY : JS_VALUE;
            return JSTREAM_MORE;
        }
        return JSTREAM_ERROR;
    }
}

void jstream_close(jstream *j) {
    switch (j->st) {
    case JS_DONE:
        return;
    case JS_STR:
        j->npend = 0; /* a partial escape (or lone high half) is cut off */
        j->hi = 0;
        out_c(j, '"');
        if (j->key) out(j, ":null", 5);
        break;
    case JS_NUM:
        if (j->sub == N_MINUS || j->sub == N_DOT || j->sub == N_E || j->sub == N_ESIGN)
            out_c(j, '0');
        break;
    case JS_LIT: {
        const char *lit = literals[j->lit];
        out(j, lit + j->sub, strlen(lit + j->sub));
        break;
    }
    case JS_COLON:
        out(j, ":null", 5);
        break;
    case JS_VALUE:
        if (j->after_colon || j->depth == 0) out(j, "null", 4);
        break;
    default:
        break;
    }
    drop_comma(j);
    while (j->depth > 0) out_c(j, j->stack[--j->depth] == '{' ? '}' : ']');
    j->st = JS_DONE;
}
