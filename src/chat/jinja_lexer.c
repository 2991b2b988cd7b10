/* jinja_lexer.c - template source to tokens, matching @huggingface/jinja's lexer
 * (see jinja_lexer.h). The source first goes through the same text rewrites the reference
 * does with regular expressions; each rewrite keeps a map back to original offsets. */
#include "chat/jinja_lexer.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "chat/jinja_text.h"

/* ---- preprocessing ---------------------------------------------------------------------- */

/* Text plus the original source offset of each byte. */
typedef struct {
    char *p;
    uint32_t *m;
    size_t n;
} mtext;

static int mtext_alloc(mtext *t, size_t n) {
    t->p = malloc(n ? n : 1);
    t->m = malloc((n ? n : 1) * sizeof *t->m);
    t->n = 0;
    if (!t->p || !t->m) {
        free(t->p);
        free(t->m);
        return fn_error("out of memory reading the template");
    }
    return 0;
}

static void mtext_free(mtext *t) {
    free(t->p);
    free(t->m);
}

static void put(mtext *o, const mtext *in, size_t i, size_t n) {
    memcpy(o->p + o->n, in->p + i, n);
    memcpy(o->m + o->n, in->m + i, n * sizeof *o->m);
    o->n += n;
}

static bool at(const mtext *t, size_t i, const char *lit) {
    size_t l = strlen(lit);
    return i + l <= t->n && !memcmp(t->p + i, lit, l);
}

static size_t skip_space(const char *p, size_t n, size_t i) {
    return i + jtext_space_prefix(p + i, n - i);
}

/* lstrip_blocks: /^[ \t]*({[#%-])/gm -> "$1" (line starts after \n \r U+2028 U+2029). */
static void pass_lstrip(const mtext *in, mtext *o) {
    bool line_start = true;
    for (size_t i = 0; i < in->n;) {
        if (line_start) {
            line_start = false;
            size_t j = i;
            while (j < in->n && (in->p[j] == ' ' || in->p[j] == '\t')) j++;
            if (j + 1 < in->n && in->p[j] == '{' &&
                (in->p[j + 1] == '#' || in->p[j + 1] == '%' || in->p[j + 1] == '-'))
                i = j;
            if (i >= in->n) break;
        }
        char c = in->p[i];
        if (c == '\n' || c == '\r') {
            line_start = true;
        } else if (at(in, i, "\xE2\x80\xA8") || at(in, i, "\xE2\x80\xA9")) {
            put(o, in, i, 3);
            i += 3;
            line_start = true;
            continue;
        }
        put(o, in, i, 1);
        i++;
    }
}

/* trim_blocks: /([#%-]})\n/g -> "$1". */
static void pass_trim(const mtext *in, mtext *o) {
    for (size_t i = 0; i < in->n;) {
        char c = in->p[i];
        if ((c == '#' || c == '%' || c == '-') && i + 2 < in->n && in->p[i + 1] == '}' &&
            in->p[i + 2] == '\n') {
            put(o, in, i, 2);
            i += 3;
        } else {
            put(o, in, i, 1);
            i++;
        }
    }
}

/* Transformers' {% generation %} / {% endgeneration %} tags disappear:
 * /(\s*){%(-?)\s*(?:end)?generation\s*(-?)%}(\s*)/gs -> (lstrip ? "" : $1) + (rstrip ? "" : $4) */
static void pass_generation(const mtext *in, mtext *o) {
    size_t floor = 0; /* output before this belongs to an earlier match */
    for (size_t i = 0; i < in->n;) {
        if (at(in, i, "{%")) {
            size_t j = i + 2;
            bool lstrip = j < in->n && in->p[j] == '-';
            if (lstrip) j++;
            j = skip_space(in->p, in->n, j);
            bool ok = true;
            if (at(in, j, "endgeneration")) j += 13;
            else if (at(in, j, "generation")) j += 10;
            else ok = false;
            bool rstrip = false;
            if (ok) {
                j = skip_space(in->p, in->n, j);
                rstrip = j < in->n && in->p[j] == '-';
                if (rstrip) j++;
                ok = at(in, j, "%}");
            }
            if (ok) {
                j += 2;
                if (lstrip) {
                    size_t s;
                    while (o->n > floor && (s = jtext_space_suffix1(o->p, o->n)) > 0 && o->n - s >= floor)
                        o->n -= s;
                }
                size_t k = skip_space(in->p, in->n, j);
                if (!rstrip) put(o, in, j, k - j);
                i = k;
                floor = o->n;
                continue;
            }
        }
        put(o, in, i, 1);
        i++;
    }
}

/* ---- tokenizer ---------------------------------------------------------------------------- */

typedef struct {
    const char *src;    /* preprocessed text (arena) */
    const uint32_t *map;/* original offset of each byte */
    size_t n;           /* its length */
    const char *orig;   /* original source, for line:column */
    size_t orig_len;
    size_t cur;         /* cursor in src */
    jarena *arena;
    jtok *toks;         /* tokens so far (arena) */
    size_t ntok, cap;
} lexer;

static uint32_t orig_pos(const lexer *lx, size_t i) {
    return i < lx->n ? lx->map[i] : (uint32_t)lx->orig_len;
}

__attribute__((format(printf, 3, 4))) static int lex_error(const lexer *lx, size_t at_pos,
                                                            const char *fmt, ...) {
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    unsigned line, col;
    jlex_line_col(lx->orig, lx->orig_len, orig_pos(lx, at_pos), &line, &col);
    return fn_error("line %u, column %u: %s", line, col, msg);
}

static int push(lexer *lx, int type, const char *s, size_t len, size_t at_pos) {
    if (lx->ntok == lx->cap) {
        size_t cap = lx->cap ? lx->cap * 2 : 256;
        jtok *t = jarena_grow(lx->arena, lx->toks, lx->ntok * sizeof *t, cap * sizeof *t);
        if (!t) return -1;
        lx->toks = t;
        lx->cap = cap;
    }
    lx->toks[lx->ntok++] = (jtok){(uint8_t)type, s, (uint32_t)len, orig_pos(lx, at_pos)};
    return 0;
}

static int last_type(const lexer *lx) { return lx->ntok ? lx->toks[lx->ntok - 1].type : -1; }

static bool lat(const lexer *lx, const char *lit) {
    size_t l = strlen(lit);
    return lx->cur + l <= lx->n && !memcmp(lx->src + lx->cur, lit, l);
}

/* {%- and {{- remove trailing whitespace from the text before them. */
static void strip_trailing(lexer *lx) {
    if (last_type(lx) != JT_TEXT) return;
    jtok *t = &lx->toks[lx->ntok - 1];
    t->len = (uint32_t)jtext_trim_end(t->s, t->len);
    if (t->len == 0) lx->ntok--;
}

static void skip_leading(lexer *lx) { lx->cur = skip_space(lx->src, lx->n, lx->cur); }

static bool is_digit(char c) { return c >= '0' && c <= '9'; }

static int hexval(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* A quoted string starting at cur (the quote). Escapes as the reference: \n \t \r \b \f \v
 * \' \" \\ \xHH \uHHHH (UTF-16 units; a surrogate pair joins, a lone half is U+FFFD). */
static int lex_string(lexer *lx) {
    size_t start = lx->cur;
    char q = lx->src[lx->cur++];
    size_t end = lx->cur;
    bool escapes = false;
    while (end < lx->n && lx->src[end] != q) {
        if (lx->src[end] == '\\') {
            escapes = true;
            end++;
        }
        end++;
    }
    if (end >= lx->n) return lex_error(lx, start, "unterminated string literal");
    if (!escapes) {
        if (push(lx, JT_STRING, lx->src + lx->cur, end - lx->cur, start)) return -1;
        lx->cur = end + 1;
        return 0;
    }
    char *out = jarena_alloc(lx->arena, end - lx->cur + 1);
    if (!out) return -1;
    size_t o = 0;
    uint32_t pending_hi = 0; /* a high surrogate waiting for its low half */
    size_t i = lx->cur;
    while (i < end) {
        char c = lx->src[i];
        if (c != '\\') {
            if (pending_hi) o += jtext_encode(JTEXT_REPLACEMENT, out + o), pending_hi = 0;
            out[o++] = c;
            i++;
            continue;
        }
        char e = lx->src[i + 1];
        i += 2;
        uint32_t unit;
        if (e == 'x' || e == 'u') {
            int digits = e == 'x' ? 2 : 4;
            unit = 0;
            for (int k = 0; k < digits; k++) {
                int h = i + (size_t)k < end ? hexval(lx->src[i + k]) : -1;
                if (h < 0) return lex_error(lx, i - 2, "invalid \\%c escape in string literal", e);
                unit = unit * 16 + (uint32_t)h;
            }
            i += (size_t)digits;
        } else {
            switch (e) {
            case 'n': unit = '\n'; break;
            case 't': unit = '\t'; break;
            case 'r': unit = '\r'; break;
            case 'b': unit = '\b'; break;
            case 'f': unit = '\f'; break;
            case 'v': unit = '\v'; break;
            case '\'': unit = '\''; break;
            case '"': unit = '"'; break;
            case '\\': unit = '\\'; break;
            default:
                return lex_error(lx, i - 2, "unexpected escape '\\%c' in string literal", e);
            }
        }
        if (pending_hi) {
            if (unit >= 0xDC00 && unit <= 0xDFFF) {
                o += jtext_encode(0x10000 + ((pending_hi - 0xD800) << 10) + (unit - 0xDC00), out + o);
                pending_hi = 0;
                continue;
            }
            o += jtext_encode(JTEXT_REPLACEMENT, out + o);
            pending_hi = 0;
        }
        if (unit >= 0xD800 && unit <= 0xDBFF) pending_hi = unit;
        else o += jtext_encode(unit, out + o); /* a lone low half encodes as U+FFFD */
    }
    if (pending_hi) o += jtext_encode(JTEXT_REPLACEMENT, out + o);
    if (push(lx, JT_STRING, out, o, start)) return -1;
    lx->cur = end + 1;
    return 0;
}

/* After {% or {%-: a {% raw %} tag turns everything up to {% endraw %} into text. Returns
 * 1 if it was one, 0 if not, -1 on error. */
static int lex_raw(lexer *lx, size_t tag_start) {
    size_t j = skip_space(lx->src, lx->n, lx->cur);
    if (!(j + 3 <= lx->n && !memcmp(lx->src + j, "raw", 3))) return 0;
    j = skip_space(lx->src, lx->n, j + 3);
    bool rstrip = j < lx->n && lx->src[j] == '-';
    if (rstrip) j++;
    if (!(j + 2 <= lx->n && !memcmp(lx->src + j, "%}", 2))) return 0;
    j += 2;
    if (rstrip) j = skip_space(lx->src, lx->n, j);
    size_t body = j;
    for (size_t k = body; k + 1 < lx->n; k++) {
        if (lx->src[k] != '{' || lx->src[k + 1] != '%') continue;
        size_t e = k + 2;
        bool lstrip = e < lx->n && lx->src[e] == '-';
        if (lstrip) e++;
        e = skip_space(lx->src, lx->n, e);
        if (!(e + 6 <= lx->n && !memcmp(lx->src + e, "endraw", 6))) continue;
        e = skip_space(lx->src, lx->n, e + 6);
        bool rs = e < lx->n && lx->src[e] == '-';
        if (rs) e++;
        if (!(e + 2 <= lx->n && !memcmp(lx->src + e, "%}", 2))) continue;
        size_t blen = k - body;
        if (lstrip) blen = jtext_trim_end(lx->src + body, blen);
        lx->ntok--; /* the {% token */
        if (blen && push(lx, JT_TEXT, lx->src + body, blen, body)) return -1;
        lx->cur = e + 2;
        if (rs) skip_leading(lx);
        return 1;
    }
    return lex_error(lx, tag_start, "{%% raw %%} without {%% endraw %%}");
}

static const struct {
    const char *seq;
    uint8_t type;
} OPS[] = {
    {"{%", JT_OPEN_STMT}, {"%}", JT_CLOSE_STMT}, {"{{", JT_OPEN_EXPR}, {"}}", JT_CLOSE_EXPR},
    {"(", JT_LPAREN},     {")", JT_RPAREN},      {"{", JT_LBRACE},     {"}", JT_RBRACE},
    {"[", JT_LBRACKET},   {"]", JT_RBRACKET},    {",", JT_COMMA},      {".", JT_DOT},
    {":", JT_COLON},      {"|", JT_PIPE},        {"<=", JT_CMP_OP},    {">=", JT_CMP_OP},
    {"==", JT_CMP_OP},    {"!=", JT_CMP_OP},     {"<", JT_CMP_OP},     {">", JT_CMP_OP},
    {"+", JT_ADD_OP},     {"-", JT_ADD_OP},      {"~", JT_ADD_OP},     {"**", JT_POW_OP},
    {"*", JT_MUL_OP},     {"//", JT_MUL_OP},     {"/", JT_MUL_OP},     {"%", JT_MUL_OP},
    {"=", JT_EQUALS},
};

static int tokenize(lexer *lx) {
    int curly_depth = 0;
    bool text_mode = false; /* forced after a {% raw %} block */
    while (lx->cur < lx->n) {
        int last = last_type(lx);
        if (text_mode || last < 0 || last == JT_CLOSE_STMT || last == JT_CLOSE_EXPR || last == JT_COMMENT) {
            text_mode = false;
            size_t start = lx->cur;
            while (lx->cur < lx->n &&
                   !(lx->src[lx->cur] == '{' && lx->cur + 1 < lx->n &&
                     (lx->src[lx->cur + 1] == '%' || lx->src[lx->cur + 1] == '{' || lx->src[lx->cur + 1] == '#')))
                lx->cur++;
            if (lx->cur > start) {
                if (push(lx, JT_TEXT, lx->src + start, lx->cur - start, start)) return -1;
                continue;
            }
        }
        size_t start = lx->cur;
        if (lat(lx, "{#")) {
            lx->cur += 2;
            bool strip_before = lx->cur < lx->n && lx->src[lx->cur] == '-';
            if (strip_before) lx->cur++;
            size_t cstart = lx->cur;
            while (!lat(lx, "#}")) {
                if (lx->cur + 2 >= lx->n) return lex_error(lx, start, "comment without closing '#}'");
                lx->cur++;
            }
            bool strip_after = lx->cur > cstart && lx->src[lx->cur - 1] == '-';
            if (strip_before) strip_trailing(lx);
            if (push(lx, JT_COMMENT, lx->src + cstart, lx->cur - cstart, start)) return -1;
            lx->cur += 2;
            if (strip_after) skip_leading(lx);
            continue;
        }
        if (lat(lx, "{%-") || lat(lx, "{{-")) {
            bool stmt = lx->src[lx->cur + 1] == '%';
            strip_trailing(lx);
            if (push(lx, stmt ? JT_OPEN_STMT : JT_OPEN_EXPR, lx->src + lx->cur, 2, start)) return -1;
            lx->cur += 3;
            if (!stmt) curly_depth = 0;
            int r = stmt ? lex_raw(lx, start) : 0;
            if (r < 0) return -1;
            if (r > 0) text_mode = true;
            continue;
        }
        skip_leading(lx);
        if (lx->cur >= lx->n) break;
        start = lx->cur;
        if (lat(lx, "-%}") || lat(lx, "-}}")) {
            bool stmt = lx->src[lx->cur + 1] == '%';
            if (push(lx, stmt ? JT_CLOSE_STMT : JT_CLOSE_EXPR, lx->src + lx->cur + 1, 2, start)) return -1;
            lx->cur += 3;
            skip_leading(lx);
            continue;
        }
        char c = lx->src[lx->cur];
        if (c == '-' || c == '+') {
            last = last_type(lx);
            if (last < 0 || last == JT_TEXT) return lex_error(lx, start, "unexpected character '%c'", c);
            if (!(last == JT_NAME || last == JT_NUMBER || last == JT_STRING || last == JT_RPAREN ||
                  last == JT_RBRACKET)) {
                /* A sign: glued to a number literal when digits follow. */
                lx->cur++;
                size_t d = lx->cur;
                while (lx->cur < lx->n && is_digit(lx->src[lx->cur])) lx->cur++;
                bool num = lx->cur > d;
                if (num && lx->cur + 1 < lx->n && lx->src[lx->cur] == '.' && is_digit(lx->src[lx->cur + 1])) {
                    lx->cur++;
                    while (lx->cur < lx->n && is_digit(lx->src[lx->cur])) lx->cur++;
                }
                if (push(lx, num ? JT_NUMBER : JT_UNARY_OP, lx->src + start, lx->cur - start, start)) return -1;
                continue;
            }
        }
        bool matched = false;
        for (size_t k = 0; k < FN_ARRAY_LEN(OPS); k++) {
            if (OPS[k].type == JT_CLOSE_EXPR && curly_depth > 0) continue;
            if (!lat(lx, OPS[k].seq)) continue;
            size_t l = strlen(OPS[k].seq);
            if (push(lx, OPS[k].type, lx->src + lx->cur, l, start)) return -1;
            if (OPS[k].type == JT_OPEN_EXPR) curly_depth = 0;
            else if (OPS[k].type == JT_LBRACE) curly_depth++;
            else if (OPS[k].type == JT_RBRACE) curly_depth--;
            lx->cur += l;
            if (OPS[k].type == JT_OPEN_STMT) {
                int r = lex_raw(lx, start);
                if (r < 0) return -1;
                if (r > 0) text_mode = true;
            }
            matched = true;
            break;
        }
        if (matched) continue;
        if (c == '\'' || c == '"') {
            if (lex_string(lx)) return -1;
            continue;
        }
        if (is_digit(c)) {
            while (lx->cur < lx->n && is_digit(lx->src[lx->cur])) lx->cur++;
            if (last_type(lx) != JT_DOT && lx->cur + 1 < lx->n && lx->src[lx->cur] == '.' &&
                is_digit(lx->src[lx->cur + 1])) {
                lx->cur++;
                while (lx->cur < lx->n && is_digit(lx->src[lx->cur])) lx->cur++;
            }
            if (push(lx, JT_NUMBER, lx->src + start, lx->cur - start, start)) return -1;
            continue;
        }
        if (jtext_is_word((unsigned char)c)) {
            while (lx->cur < lx->n && jtext_is_word((unsigned char)lx->src[lx->cur])) lx->cur++;
            if (push(lx, JT_NAME, lx->src + start, lx->cur - start, start)) return -1;
            continue;
        }
        size_t j = lx->cur;
        uint32_t cp = jtext_decode(lx->src, lx->n, &j);
        if (cp >= 0x20 && cp < 0x7F) return lex_error(lx, start, "unexpected character '%c'", (char)cp);
        return lex_error(lx, start, "unexpected character U+%04X", (unsigned)cp);
    }
    return 0;
}

int jlex_tokenize(jarena *arena, const char *src, size_t len, jtok_list *out) {
    if (len >= UINT32_MAX / 4) return fn_error("template too large");
    mtext a = {0}, b = {0};
    size_t n = jtext_sanitized_len(src, len);
    if (mtext_alloc(&a, n)) return -1;
    if (mtext_alloc(&b, n)) {
        mtext_free(&a);
        return -1;
    }
    jtext_sanitize(src, len, a.p, a.m);
    a.n = n;
    if (a.n && a.p[a.n - 1] == '\n') a.n--; /* keep_trailing_newline=False */
    b.n = 0;
    pass_lstrip(&a, &b);
    a.n = 0;
    pass_trim(&b, &a);
    b.n = 0;
    pass_generation(&a, &b);

    lexer lx = {.n = b.n, .orig = src, .orig_len = len, .arena = arena};
    char *text = jarena_strndup(arena, b.p, b.n);
    lx.src = text;
    lx.map = b.m;
    int rc = text ? tokenize(&lx) : -1;
    mtext_free(&a);
    mtext_free(&b);
    if (rc) return -1;
    out->toks = lx.toks;
    out->n = lx.ntok;
    return 0;
}

void jlex_line_col(const char *src, size_t len, size_t pos, unsigned *line, unsigned *col) {
    unsigned l = 1, c = 1;
    if (pos > len) pos = len;
    for (size_t i = 0; i < pos;) {
        if (src[i] == '\n') {
            l++;
            c = 1;
            i++;
            continue;
        }
        jtext_decode(src, len, &i);
        c++;
    }
    *line = l;
    *col = c;
}

const char *jlex_type_name(int type) {
    switch (type) {
    case JT_TEXT: return "text";
    case JT_NUMBER: return "number";
    case JT_STRING: return "string";
    case JT_NAME: return "identifier";
    case JT_EQUALS: return "'='";
    case JT_LPAREN: return "'('";
    case JT_RPAREN: return "')'";
    case JT_OPEN_STMT: return "'{%'";
    case JT_CLOSE_STMT: return "'%}'";
    case JT_OPEN_EXPR: return "'{{'";
    case JT_CLOSE_EXPR: return "'}}'";
    case JT_LBRACKET: return "'['";
    case JT_RBRACKET: return "']'";
    case JT_LBRACE: return "'{'";
    case JT_RBRACE: return "'}'";
    case JT_COMMA: return "','";
    case JT_DOT: return "'.'";
    case JT_COLON: return "':'";
    case JT_PIPE: return "'|'";
    case JT_ADD_OP:
    case JT_MUL_OP:
    case JT_POW_OP:
    case JT_CMP_OP:
    case JT_UNARY_OP: return "operator";
    case JT_COMMENT: return "comment";
    }
    return "end of template";
}
