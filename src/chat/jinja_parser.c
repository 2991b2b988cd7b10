/* jinja_parser.c - recursive-descent parser with @huggingface/jinja's grammar (see
 * jinja_parser.h). Each parse_* function mirrors one of the reference's, so the trees match;
 * nesting is bounded so hostile templates cannot exhaust the stack. */
#include "chat/jinja_parser.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "chat/jinja_value.h"

#define MAX_DEPTH 200

typedef struct {
    const jtok *t;   /* tokens */
    size_t n;        /* token count */
    size_t cur;      /* next token */
    jarena *arena;   /* where nodes go */
    const char *src; /* original source, for positions */
    size_t srclen;
    int depth;       /* current nesting */
} parser;

typedef enum { ARGS_CALL, ARGS_PARAMS } args_mode;

static const jtok *peek(const parser *p, size_t k) { return p->cur + k < p->n ? &p->t[p->cur + k] : NULL; }

static bool is(const parser *p, int type) { return p->cur < p->n && p->t[p->cur].type == type; }

static bool tok_is(const jtok *t, const char *s) {
    size_t l = strlen(s);
    return t && t->len == l && !memcmp(t->s, s, l);
}

static bool is_name_at(const parser *p, size_t k, const char *name) {
    const jtok *t = peek(p, k);
    return t && t->type == JT_NAME && tok_is(t, name);
}

static bool is_name(const parser *p, const char *name) { return is_name_at(p, 0, name); }

/* {% NAME with NAME among the NULL-terminated names. */
static bool is_stmt(const parser *p, const char *const *names) {
    const jtok *a = peek(p, 0), *b = peek(p, 1);
    if (!a || !b || a->type != JT_OPEN_STMT || b->type != JT_NAME) return false;
    for (; *names; names++)
        if (tok_is(b, *names)) return true;
    return false;
}

static void describe(const jtok *t, char *buf, size_t n) {
    if (!t) {
        snprintf(buf, n, "end of template");
    } else if (t->type == JT_NAME) {
        snprintf(buf, n, "identifier '%.*s'", (int)(t->len > 40 ? 40 : t->len), t->s);
    } else if (t->type == JT_NUMBER || (t->type >= JT_ADD_OP && t->type <= JT_UNARY_OP)) {
        snprintf(buf, n, "'%.*s'", (int)(t->len > 40 ? 40 : t->len), t->s);
    } else {
        snprintf(buf, n, "%s", jlex_type_name(t->type));
    }
}

__attribute__((format(printf, 3, 4))) static int perr_at(const parser *p, size_t pos, const char *fmt, ...) {
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    unsigned line, col;
    jlex_line_col(p->src, p->srclen, pos, &line, &col);
    return fn_error("line %u, column %u: syntax error: %s", line, col, msg);
}

static size_t here(const parser *p) { return p->cur < p->n ? p->t[p->cur].pos : p->srclen; }

/* "expected X, got Y" at the current token. */
static int perr_expected(const parser *p, const char *what) {
    char got[80];
    describe(peek(p, 0), got, sizeof got);
    return perr_at(p, here(p), "expected %s, got %s", what, got);
}

static int expect(parser *p, int type, const char *what) {
    if (!is(p, type)) return perr_expected(p, what);
    p->cur++;
    return 0;
}

static jnode *new_node(parser *p, int kind, size_t pos) {
    jnode *n = jarena_zalloc(p->arena, sizeof *n);
    if (!n) return NULL;
    n->kind = (uint8_t)kind;
    n->pos = (uint32_t)pos;
    return n;
}

/* A growable node list (arena storage). */
static int list_push(parser *p, jnode_list *l, jnode *n, uint32_t *cap) {
    if (l->n == *cap) {
        uint32_t c = *cap ? *cap * 2 : 4;
        jnode **v = jarena_grow(p->arena, l->v, l->n * sizeof *v, c * sizeof *v);
        if (!v) return -1;
        l->v = v;
        *cap = c;
    }
    l->v[l->n++] = n;
    return 0;
}

static int enter(parser *p) {
    if (++p->depth > MAX_DEPTH) return perr_at(p, here(p), "template nested too deeply");
    return 0;
}

static jnode *parse_expression(parser *p);
static jnode *parse_primary(parser *p);
static jnode *parse_call_member(parser *p);
static int parse_any(parser *p, jnode **out);
static int parse_filter_tail(parser *p, jnode *f);

/* ---- statements --------------------------------------------------------------------------- */

/* Statements until a {% NAME %} among stop; opener names the block in the error. */
static int parse_body(parser *p, jnode_list *body, const char *const *stop, const char *opener,
                      size_t opener_pos) {
    uint32_t cap = 0;
    while (!is_stmt(p, stop)) {
        if (p->cur >= p->n) {
            unsigned line, col;
            jlex_line_col(p->src, p->srclen, opener_pos, &line, &col);
            return perr_at(p, p->srclen, "missing {%% %s %%} for the '%s' at line %u, column %u", stop[0],
                           opener, line, col);
        }
        jnode *n;
        if (parse_any(p, &n)) return -1;
        if (n && list_push(p, body, n, &cap)) return -1;
    }
    return 0;
}

/* {% NAME %} closing a block. */
static int expect_end(parser *p, const char *name) {
    char what[40];
    snprintf(what, sizeof what, "{%% %s %%}", name);
    if (expect(p, JT_OPEN_STMT, what)) return -1;
    if (!is_name(p, name)) return perr_expected(p, what);
    p->cur++;
    return expect(p, JT_CLOSE_STMT, "'%}'");
}

static jnode *parse_expression_sequence(parser *p, bool primary) {
    size_t pos = here(p);
    jnode *first = primary ? parse_primary(p) : parse_expression(p);
    if (!first) return NULL;
    if (!is(p, JT_COMMA)) return first;
    jnode *t = new_node(p, JN_TUPLE, pos);
    uint32_t cap = 0;
    if (!t || list_push(p, &t->list, first, &cap)) return NULL;
    while (true) {
        p->cur++; /* comma */
        jnode *e = primary ? parse_primary(p) : parse_expression(p);
        if (!e || list_push(p, &t->list, e, &cap)) return NULL;
        if (!is(p, JT_COMMA)) break;
    }
    return t;
}

static int parse_arg_list(parser *p, args_mode mode, jnode_list *out);

static int parse_args(parser *p, args_mode mode, jnode_list *out) {
    if (expect(p, JT_LPAREN, "'('")) return -1;
    if (parse_arg_list(p, mode, out)) return -1;
    return expect(p, JT_RPAREN, "')'");
}

static jnode *parse_set(parser *p, size_t pos) {
    jnode *n = new_node(p, JN_SET, pos);
    if (!n || !(n->a = parse_expression_sequence(p, false))) return NULL;
    if (is(p, JT_EQUALS)) {
        p->cur++;
        if (!(n->b = parse_expression_sequence(p, false))) return NULL;
    } else {
        static const char *const stop[] = {"endset", NULL};
        if (expect(p, JT_CLOSE_STMT, "'=' or '%}'") || parse_body(p, &n->body, stop, "set", pos)) return NULL;
        p->cur += 2; /* {% endset */
    }
    if (expect(p, JT_CLOSE_STMT, "'%}'")) return NULL;
    return n;
}

static jnode *parse_if(parser *p, size_t pos) {
    static const char *const stop[] = {"endif", "elif", "else", NULL};
    static const char *const stop_else[] = {"endif", NULL};
    jnode *n = new_node(p, JN_IF, pos);
    if (!n || !(n->a = parse_expression(p))) return NULL;
    if (expect(p, JT_CLOSE_STMT, "'%}' after the if condition")) return NULL;
    if (parse_body(p, &n->body, stop, "if", pos)) return NULL;
    if (is_name_at(p, 1, "elif")) {
        size_t epos = p->t[p->cur].pos;
        p->cur += 2;
        jnode *e = parse_if(p, epos);
        uint32_t cap = 0;
        if (!e || list_push(p, &n->orelse, e, &cap)) return NULL;
    } else if (is_name_at(p, 1, "else")) {
        p->cur += 2;
        if (expect(p, JT_CLOSE_STMT, "'%}' after else") || parse_body(p, &n->orelse, stop_else, "if", pos))
            return NULL;
    }
    return n;
}

static jnode *parse_macro(parser *p, size_t pos) {
    static const char *const stop[] = {"endmacro", NULL};
    jnode *n = new_node(p, JN_MACRO, pos);
    if (!n) return NULL;
    size_t at = here(p);
    jnode *name = parse_primary(p);
    if (!name) return NULL;
    if (name->kind != JN_NAME) return perr_at(p, at, "expected a macro name"), NULL;
    n->s = name->s;
    n->slen = name->slen;
    n->hash = name->hash;
    if (parse_args(p, ARGS_PARAMS, &n->list) || expect(p, JT_CLOSE_STMT, "'%}'") ||
        parse_body(p, &n->body, stop, "macro", pos))
        return NULL;
    return n;
}

static bool is_loop_name(const jnode *n) { return n && n->kind == JN_NAME && n->slen == 4 && !memcmp(n->s, "loop", 4); }

/* Could the `loop` object outlive its iteration? Only `loop.x` / `loop[...]` uses are safe;
 * anything else (passing it, storing it, calls that might reach it through dynamic scoping)
 * counts as an escape. Conservative by design. */
static bool loop_escapes(const jnode *n, int depth);

static bool list_escapes(const jnode_list *l, int depth) {
    for (uint32_t i = 0; i < l->n; i++)
        if (loop_escapes(l->v[i], depth)) return true;
    return false;
}

static bool loop_escapes(const jnode *n, int depth) {
    if (!n) return false;
    if (depth > 4 * MAX_DEPTH) return true;
    switch (n->kind) {
    case JN_NAME: return is_loop_name(n);
    case JN_MEMBER:
        if (is_loop_name(n->a)) return n->op && loop_escapes(n->b, depth + 1);
        break;
    case JN_CALL: {
        const jnode *f = n->a;
        static const char *const safe[] = {"range", "namespace", "raise_exception", "strftime_now"};
        if (f->kind == JN_NAME) {
            bool known = false;
            for (size_t k = 0; k < FN_ARRAY_LEN(safe); k++)
                known |= f->slen == strlen(safe[k]) && !memcmp(f->s, safe[k], f->slen);
            if (!known) return true; /* a macro: it sees our scope */
        }
        break;
    }
    case JN_MACRO:
    case JN_CALL_BLOCK: return true;
    default: break;
    }
    return loop_escapes(n->a, depth + 1) || loop_escapes(n->b, depth + 1) || loop_escapes(n->c, depth + 1) ||
           list_escapes(&n->list, depth + 1) || list_escapes(&n->body, depth + 1) ||
           list_escapes(&n->orelse, depth + 1);
}

static jnode *parse_for(parser *p, size_t pos) {
    static const char *const stop[] = {"endfor", "else", NULL};
    static const char *const stop_else[] = {"endfor", NULL};
    jnode *n = new_node(p, JN_FOR, pos);
    if (!n) return NULL;
    size_t at = here(p);
    if (!(n->a = parse_expression_sequence(p, true))) return NULL;
    if (n->a->kind != JN_NAME && n->a->kind != JN_TUPLE)
        return perr_at(p, at, "expected a loop variable name or tuple"), NULL;
    if (!is_name(p, "in")) return perr_expected(p, "'in' after the loop variable"), NULL;
    p->cur++;
    jnode *it = parse_expression(p);
    if (!it) return NULL;
    if (it->kind == JN_SELECT) {
        n->b = it->a;
        n->c = it->b;
    } else {
        n->b = it;
    }
    if (expect(p, JT_CLOSE_STMT, "'%}' after the loop header") || parse_body(p, &n->body, stop, "for", pos))
        return NULL;
    if (is_name_at(p, 1, "else")) {
        p->cur += 2;
        if (expect(p, JT_CLOSE_STMT, "'%}' after else") || parse_body(p, &n->orelse, stop_else, "for", pos))
            return NULL;
    }
    n->op = list_escapes(&n->body, 0) || list_escapes(&n->orelse, 0) || loop_escapes(n->c, 0);
    return n;
}

static jnode *parse_call_block(parser *p, size_t pos) {
    static const char *const stop[] = {"endcall", NULL};
    jnode *n = new_node(p, JN_CALL_BLOCK, pos);
    if (!n) return NULL;
    if (is(p, JT_LPAREN) && parse_args(p, ARGS_PARAMS, &n->list)) return NULL;
    size_t at = here(p);
    jnode *callee = parse_primary(p);
    if (!callee) return NULL;
    if (callee->kind != JN_NAME) return perr_at(p, at, "expected a macro name after 'call'"), NULL;
    jnode *call = new_node(p, JN_CALL, at);
    if (!call) return NULL;
    call->a = callee;
    if (parse_args(p, ARGS_CALL, &call->list) || expect(p, JT_CLOSE_STMT, "'%}'") ||
        parse_body(p, &n->body, stop, "call", pos) || expect_end(p, "endcall"))
        return NULL;
    n->a = call;
    return n;
}

static jnode *parse_filter_block(parser *p, size_t pos) {
    static const char *const stop[] = {"endfilter", NULL};
    jnode *n = new_node(p, JN_FILTER_BLOCK, pos);
    if (!n) return NULL;
    size_t at = here(p);
    jnode *name = parse_primary(p);
    if (!name) return NULL;
    if (name->kind != JN_NAME) return perr_at(p, at, "expected a filter name"), NULL;
    jnode *f = new_node(p, JN_FILTER, at);
    if (!f) return NULL;
    f->s = name->s;
    f->slen = name->slen;
    if (is(p, JT_LPAREN)) {
        f->op = 1;
        if (parse_args(p, ARGS_CALL, &f->list) || parse_filter_tail(p, f)) return NULL;
    }
    if (expect(p, JT_CLOSE_STMT, "'%}'") || parse_body(p, &n->body, stop, "filter", pos) ||
        expect_end(p, "endfilter"))
        return NULL;
    n->a = f;
    return n;
}

static jnode *parse_statement(parser *p) {
    size_t pos = here(p);
    p->cur++; /* {% */
    const jtok *t = peek(p, 0);
    if (!t || t->type != JT_NAME) return perr_expected(p, "a statement name after '{%'"), NULL;
    p->cur++;
    if (enter(p)) return NULL;
    jnode *n = NULL;
    if (tok_is(t, "set")) {
        n = parse_set(p, pos);
    } else if (tok_is(t, "if")) {
        if ((n = parse_if(p, pos)) && expect_end(p, "endif")) n = NULL;
    } else if (tok_is(t, "macro")) {
        if ((n = parse_macro(p, pos)) && expect_end(p, "endmacro")) n = NULL;
    } else if (tok_is(t, "for")) {
        if ((n = parse_for(p, pos)) && expect_end(p, "endfor")) n = NULL;
    } else if (tok_is(t, "call")) {
        n = parse_call_block(p, pos);
    } else if (tok_is(t, "filter")) {
        n = parse_filter_block(p, pos);
    } else if (tok_is(t, "break") || tok_is(t, "continue")) {
        n = new_node(p, tok_is(t, "break") ? JN_BREAK : JN_CONTINUE, pos);
        if (n && expect(p, JT_CLOSE_STMT, "'%}'")) n = NULL;
    } else {
        int l = (int)(t->len > 40 ? 40 : t->len);
        static const char *const ends[] = {"endif", "endfor", "endmacro", "endset", "endcall",
                                           "endfilter", "elif", "else", "endraw"};
        for (size_t k = 0; k < FN_ARRAY_LEN(ends); k++)
            if (tok_is(t, ends[k])) return perr_at(p, pos, "unexpected {%% %.*s %%} (no open block)", l, t->s), NULL;
        return perr_at(p, pos, "unknown statement '%.*s'", l, t->s), NULL;
    }
    p->depth--;
    return n;
}

static int parse_any(parser *p, jnode **out) {
    const jtok *t = peek(p, 0);
    *out = NULL;
    if (!t) return perr_expected(p, "a statement");
    switch (t->type) {
    case JT_COMMENT: p->cur++; return 0;
    case JT_TEXT:
        if (!(*out = new_node(p, JN_TEXT, t->pos))) return -1;
        (*out)->s = t->s;
        (*out)->slen = t->len;
        p->cur++;
        return 0;
    case JT_OPEN_STMT: return (*out = parse_statement(p)) ? 0 : -1;
    case JT_OPEN_EXPR:
        p->cur++;
        if (!(*out = parse_expression(p))) return -1;
        return expect(p, JT_CLOSE_EXPR, "'}}'");
    default: {
        char got[80];
        describe(t, got, sizeof got);
        return perr_at(p, t->pos, "unexpected %s", got);
    }
    }
}

/* ---- expressions -------------------------------------------------------------------------- */

static jnode *binary(parser *p, int op, jnode *a, jnode *b, size_t pos) {
    jnode *n = new_node(p, JN_BINARY, pos);
    if (!n) return NULL;
    n->op = (uint8_t)op;
    n->a = a;
    n->b = b;
    return n;
}

static jnode *parse_or(parser *p);

static jnode *parse_expression(parser *p) {
    if (enter(p)) return NULL;
    size_t pos = here(p);
    jnode *a = parse_or(p);
    if (a && is_name(p, "if")) {
        p->cur++;
        jnode *test = parse_or(p);
        if (!test) return NULL;
        jnode *n;
        if (is_name(p, "else")) {
            p->cur++;
            jnode *f = parse_expression(p);
            if (!f || !(n = new_node(p, JN_TERNARY, pos))) return NULL;
            n->a = test;
            n->b = a;
            n->c = f;
        } else {
            if (!(n = new_node(p, JN_SELECT, pos))) return NULL;
            n->a = a;
            n->b = test;
        }
        a = n;
    }
    p->depth--;
    return a;
}

static jnode *parse_and(parser *p);
static jnode *parse_not(parser *p);
static jnode *parse_comparison(parser *p);

static jnode *parse_or(parser *p) {
    size_t pos = here(p);
    jnode *l = parse_and(p);
    while (l && is_name(p, "or")) {
        p->cur++;
        jnode *r = parse_and(p);
        l = r ? binary(p, JOP_OR, l, r, pos) : NULL;
    }
    return l;
}

static jnode *parse_and(parser *p) {
    size_t pos = here(p);
    jnode *l = parse_not(p);
    while (l && is_name(p, "and")) {
        p->cur++;
        jnode *r = parse_not(p);
        l = r ? binary(p, JOP_AND, l, r, pos) : NULL;
    }
    return l;
}

static jnode *parse_not(parser *p) {
    jnode *right = NULL;
    while (is_name(p, "not")) {
        size_t pos = here(p);
        p->cur++;
        if (enter(p)) return NULL;
        jnode *arg = parse_not(p);
        p->depth--;
        if (!arg || !(right = new_node(p, JN_UNARY, pos))) return NULL;
        right->op = JOP_NOT;
        right->a = arg;
    }
    return right ? right : parse_comparison(p);
}

static jnode *parse_additive(parser *p);

static jnode *parse_comparison(parser *p) {
    size_t pos = here(p);
    jnode *l = parse_additive(p);
    while (l) {
        int op;
        if (is_name(p, "not") && is_name_at(p, 1, "in")) {
            op = JOP_NOT_IN;
            p->cur += 2;
        } else if (is_name(p, "in")) {
            op = JOP_IN;
            p->cur++;
        } else if (is(p, JT_CMP_OP)) {
            const jtok *t = peek(p, 0);
            op = tok_is(t, "==") ? JOP_EQ : tok_is(t, "!=") ? JOP_NE : tok_is(t, "<") ? JOP_LT
               : tok_is(t, ">") ? JOP_GT : tok_is(t, "<=") ? JOP_LE : JOP_GE;
            p->cur++;
        } else {
            break;
        }
        jnode *r = parse_additive(p);
        l = r ? binary(p, op, l, r, pos) : NULL;
    }
    return l;
}

static jnode *parse_multiplicative(parser *p);

static jnode *parse_additive(parser *p) {
    size_t pos = here(p);
    jnode *l = parse_multiplicative(p);
    while (l && is(p, JT_ADD_OP)) {
        char c = p->t[p->cur].s[0];
        p->cur++;
        jnode *r = parse_multiplicative(p);
        l = r ? binary(p, c == '+' ? JOP_ADD : c == '-' ? JOP_SUB : JOP_CONCAT, l, r, pos) : NULL;
    }
    return l;
}

static jnode *parse_power(parser *p);

static jnode *parse_multiplicative(parser *p) {
    size_t pos = here(p);
    jnode *l = parse_power(p);
    while (l && is(p, JT_MUL_OP)) {
        const jtok *t = peek(p, 0);
        int op = tok_is(t, "*") ? JOP_MUL : tok_is(t, "/") ? JOP_DIV : tok_is(t, "//") ? JOP_FLOORDIV : JOP_MOD;
        p->cur++;
        jnode *r = parse_power(p);
        l = r ? binary(p, op, l, r, pos) : NULL;
    }
    return l;
}

static jnode *parse_test(parser *p);

static jnode *parse_power(parser *p) {
    size_t pos = here(p);
    jnode *l = parse_test(p);
    while (l && is(p, JT_POW_OP)) {
        p->cur++;
        jnode *r = parse_test(p);
        l = r ? binary(p, JOP_POW, l, r, pos) : NULL;
    }
    return l;
}

static jnode *parse_filter(parser *p);

/* Can the token start a test's unparenthesized argument (`x is divisibleby 3`)? */
static bool test_arg_follows(const parser *p) {
    const jtok *t = peek(p, 0);
    if (!t) return false;
    if (t->type == JT_STRING || t->type == JT_NUMBER || t->type == JT_LBRACKET || t->type == JT_LBRACE)
        return true;
    if (t->type != JT_NAME) return false;
    static const char *const kw[] = {"and", "or", "else", "if", "in", "is", "not"};
    for (size_t k = 0; k < FN_ARRAY_LEN(kw); k++)
        if (tok_is(t, kw[k])) return false;
    return true;
}

static jnode *parse_test(parser *p) {
    jnode *operand = parse_filter(p);
    while (operand && is_name(p, "is")) {
        size_t pos = here(p);
        p->cur++;
        bool negate = is_name(p, "not");
        if (negate) p->cur++;
        size_t at = here(p);
        jnode *name = parse_primary(p);
        if (!name) return NULL;
        if (name->kind != JN_NAME) return perr_at(p, at, "expected a test name after 'is'"), NULL;
        jnode *n = new_node(p, JN_TEST, pos);
        if (!n) return NULL;
        n->a = operand;
        n->s = name->s;
        n->slen = name->slen;
        n->op = negate;
        if (is(p, JT_LPAREN)) {
            if (parse_args(p, ARGS_CALL, &n->list)) return NULL;
        } else if (test_arg_follows(p)) {
            jnode *arg = parse_call_member(p);
            uint32_t cap = 0;
            if (!arg || list_push(p, &n->list, arg, &cap)) return NULL;
        }
        operand = n;
    }
    return operand;
}

static jnode *parse_unary(parser *p);
static jnode *parse_member(parser *p, jnode *obj);
static jnode *parse_call(parser *p, jnode *callee);

/* The reference parses a called filter like a call, so `x|f(a).b` or `x|f(a)(b)` parse and
 * only fail when evaluated ("unknown filter"). Accept the tail and mark the filter invalid. */
static int parse_filter_tail(parser *p, jnode *f) {
    if (!is(p, JT_DOT) && !is(p, JT_LBRACKET) && !is(p, JT_LPAREN)) return 0;
    jnode *chain = parse_member(p, f);
    if (chain && is(p, JT_LPAREN)) chain = parse_call(p, chain);
    if (!chain) return -1;
    f->op = 2;
    return 0;
}

static jnode *parse_filter(parser *p) {
    jnode *operand = parse_unary(p);
    while (operand && is(p, JT_PIPE)) {
        size_t pos = here(p);
        p->cur++;
        size_t at = here(p);
        jnode *name = parse_primary(p);
        if (!name) return NULL;
        if (name->kind != JN_NAME) return perr_at(p, at, "expected a filter name after '|'"), NULL;
        jnode *n = new_node(p, JN_FILTER, pos);
        if (!n) return NULL;
        n->a = operand;
        n->s = name->s;
        n->slen = name->slen;
        if (is(p, JT_LPAREN)) {
            n->op = 1;
            if (parse_args(p, ARGS_CALL, &n->list) || parse_filter_tail(p, n)) return NULL;
        }
        operand = n;
    }
    return operand;
}

static jnode *parse_unary(parser *p) {
    const jtok *t = peek(p, 0);
    if (t && (t->type == JT_UNARY_OP || t->type == JT_ADD_OP) && t->len == 1 && (t->s[0] == '-' || t->s[0] == '+')) {
        size_t pos = here(p);
        p->cur++;
        if (enter(p)) return NULL;
        jnode *arg = parse_unary(p);
        p->depth--;
        jnode *n = arg ? new_node(p, JN_UNARY, pos) : NULL;
        if (!n) return NULL;
        n->op = t->s[0] == '-' ? JOP_NEG : JOP_POS;
        n->a = arg;
        return n;
    }
    return parse_call_member(p);
}

static jnode *parse_call(parser *p, jnode *callee) {
    if (enter(p)) return NULL;
    jnode *n = new_node(p, JN_CALL, callee->pos);
    if (!n) return NULL;
    n->a = callee;
    if (parse_args(p, ARGS_CALL, &n->list)) return NULL;
    n = parse_member(p, n);
    if (n && is(p, JT_LPAREN)) n = parse_call(p, n);
    p->depth--;
    return n;
}

static jnode *parse_call_member(parser *p) {
    jnode *prim = parse_primary(p);
    jnode *m = prim ? parse_member(p, prim) : NULL;
    if (m && is(p, JT_LPAREN)) return parse_call(p, m);
    return m;
}

static int parse_arg_list(parser *p, args_mode mode, jnode_list *out) {
    uint32_t cap = 0;
    bool saw_kw = false, saw_spread = false;
    size_t nparams = 0;
    while (!is(p, JT_RPAREN)) {
        if (p->cur >= p->n) return perr_expected(p, "')'");
        size_t pos = here(p);
        const jtok *t = peek(p, 0);
        bool kwspread = t->type == JT_POW_OP;
        bool spread = t->type == JT_MUL_OP && tok_is(t, "*");
        if (mode == ARGS_PARAMS && (kwspread || spread))
            return perr_at(p, pos, "argument unpacking is not allowed in parameter declarations");
        jnode *arg;
        if (kwspread) {
            p->cur++;
            jnode *e = parse_expression(p);
            if (!e || !(arg = new_node(p, JN_KWSPREAD, pos))) return -1;
            arg->a = e;
            if (list_push(p, out, arg, &cap)) return -1;
            if (is(p, JT_COMMA)) p->cur++;
            if (!is(p, JT_RPAREN)) return perr_at(p, here(p), "'**' must be applied to the final argument");
            break;
        }
        if (spread) {
            if (saw_spread) return perr_at(p, pos, "only one '*' argument unpacking is allowed");
            saw_spread = true;
            p->cur++;
            jnode *e = parse_expression(p);
            if (!e || !(arg = new_node(p, JN_SPREAD, pos))) return -1;
            arg->a = e;
        } else {
            if (!(arg = parse_expression(p))) return -1;
            if (is(p, JT_EQUALS)) {
                p->cur++;
                if (arg->kind != JN_NAME)
                    return perr_at(p, pos, mode == ARGS_PARAMS ? "expected a parameter name"
                                                               : "expected a name for the keyword argument");
                jnode *v = parse_expression(p);
                jnode *kw = v ? new_node(p, JN_KWARG, pos) : NULL;
                if (!kw) return -1;
                kw->s = arg->s;
                kw->slen = arg->slen;
                kw->hash = arg->hash;
                kw->a = v;
                arg = kw;
            }
            if (mode == ARGS_PARAMS) {
                if (arg->kind != JN_NAME && arg->kind != JN_KWARG)
                    return perr_at(p, pos, "expected a parameter name");
                for (size_t k = 0; k < nparams; k++) {
                    const jnode *o = out->v[k];
                    if (o->slen == arg->slen && !memcmp(o->s, arg->s, arg->slen))
                        return perr_at(p, pos, "duplicate parameter '%.*s'", (int)arg->slen, arg->s);
                }
                nparams++;
            }
            if (arg->kind == JN_KWARG) saw_kw = true;
            else if (saw_kw)
                return perr_at(p, pos, mode == ARGS_CALL ? "positional argument after keyword arguments"
                                                         : "parameter without default after one with a default");
            else if (saw_spread) return perr_at(p, pos, "positional argument after '*' unpacking");
        }
        if (list_push(p, out, arg, &cap)) return -1;
        if (is(p, JT_COMMA)) p->cur++;
    }
    return 0;
}

/* Inside [...]: an index, or a slice a:b:c. */
static jnode *parse_subscript(parser *p) {
    size_t pos = here(p);
    jnode *parts[4] = {0};
    size_t n = 0;
    bool slice = false;
    while (!is(p, JT_RBRACKET)) {
        if (p->cur >= p->n) return perr_expected(p, "']'"), NULL;
        jnode *e = NULL;
        if (is(p, JT_COLON)) {
            p->cur++;
            slice = true;
        } else {
            if (!(e = parse_expression(p))) return NULL;
            if (is(p, JT_COLON)) {
                p->cur++;
                slice = true;
            }
        }
        if (n < 4) parts[n] = e;
        n++;
    }
    if (n == 0) return perr_at(p, pos, "expected an index or slice inside '[]'"), NULL;
    if (!slice) return parts[0];
    if (n > 3) return perr_at(p, pos, "a slice takes at most 3 parts"), NULL;
    jnode *s = new_node(p, JN_SLICE, pos);
    if (!s) return NULL;
    s->a = parts[0];
    s->b = parts[1];
    s->c = parts[2];
    return s;
}

static jnode *parse_member(parser *p, jnode *obj) {
    while (obj && (is(p, JT_DOT) || is(p, JT_LBRACKET))) {
        bool computed = is(p, JT_LBRACKET);
        size_t pos = here(p);
        p->cur++;
        jnode *prop;
        if (computed) {
            if (!(prop = parse_subscript(p)) || expect(p, JT_RBRACKET, "']'")) return NULL;
        } else {
            size_t at = here(p);
            if (!(prop = parse_primary(p))) return NULL;
            if (prop->kind != JN_NAME && prop->kind != JN_INT)
                return perr_at(p, at, "expected an attribute name after '.'"), NULL;
        }
        jnode *m = new_node(p, JN_MEMBER, pos);
        if (!m) return NULL;
        m->a = obj;
        m->b = prop;
        m->op = computed;
        obj = m;
    }
    return obj;
}

static jnode *parse_primary(parser *p) {
    const jtok *t = peek(p, 0);
    if (!t) return perr_expected(p, "an expression"), NULL;
    size_t pos = t->pos;
    p->cur++;
    jnode *n;
    switch (t->type) {
    case JT_NUMBER: {
        bool is_float = memchr(t->s, '.', t->len) != NULL;
        if (!(n = new_node(p, is_float ? JN_FLOAT : JN_INT, pos))) return NULL;
        char buf[64];
        char *num = t->len < sizeof buf ? buf : malloc(t->len + 1);
        if (!num) return fn_error("out of memory"), NULL;
        memcpy(num, t->s, t->len);
        num[t->len] = 0;
        n->num = strtod(num, NULL);
        if (num != buf) free(num);
        return n;
    }
    case JT_STRING: {
        if (!(n = new_node(p, JN_STR, pos))) return NULL;
        size_t total = t->len, k = p->cur;
        while (k < p->n && p->t[k].type == JT_STRING) total += p->t[k++].len;
        if (k == p->cur) {
            n->s = t->s;
            n->slen = t->len;
            return n;
        }
        if (total >= UINT32_MAX) return fn_error("string literal too long"), NULL;
        char *s = jarena_alloc(p->arena, total + 1);
        if (!s) return NULL;
        size_t o = 0;
        memcpy(s, t->s, t->len);
        o = t->len;
        for (; p->cur < k; p->cur++) {
            memcpy(s + o, p->t[p->cur].s, p->t[p->cur].len);
            o += p->t[p->cur].len;
        }
        n->s = s;
        n->slen = (uint32_t)o;
        return n;
    }
    case JT_NAME:
        if (!(n = new_node(p, JN_NAME, pos))) return NULL;
        n->s = t->s;
        n->slen = t->len;
        n->hash = jv_hash(t->s, t->len);
        return n;
    case JT_LPAREN:
        if (!(n = parse_expression_sequence(p, false)) || expect(p, JT_RPAREN, "')'")) return NULL;
        return n;
    case JT_LBRACKET: {
        if (!(n = new_node(p, JN_LIST, pos))) return NULL;
        uint32_t cap = 0;
        while (!is(p, JT_RBRACKET)) {
            if (p->cur >= p->n) return perr_expected(p, "']'"), NULL;
            jnode *e = parse_expression(p);
            if (!e || list_push(p, &n->list, e, &cap)) return NULL;
            if (is(p, JT_COMMA)) p->cur++;
        }
        p->cur++;
        return n;
    }
    case JT_LBRACE: {
        if (!(n = new_node(p, JN_DICT, pos))) return NULL;
        uint32_t cap = 0;
        while (!is(p, JT_RBRACE)) {
            if (p->cur >= p->n) return perr_expected(p, "'}'"), NULL;
            jnode *k = parse_expression(p);
            if (!k || expect(p, JT_COLON, "':' after a dict key")) return NULL;
            jnode *v = parse_expression(p);
            if (!v || list_push(p, &n->list, k, &cap) || list_push(p, &n->list, v, &cap)) return NULL;
            if (is(p, JT_COMMA)) p->cur++;
        }
        p->cur++;
        return n;
    }
    default: {
        char got[80];
        describe(t, got, sizeof got);
        return perr_at(p, pos, "unexpected %s", got), NULL;
    }
    }
}

int jparse_template(jarena *arena, const jtok_list *toks, const char *src, size_t len, jnode_list *out) {
    parser p = {.t = toks->toks, .n = toks->n, .arena = arena, .src = src, .srclen = len};
    out->v = NULL;
    out->n = 0;
    uint32_t cap = 0;
    while (p.cur < p.n) {
        jnode *n;
        if (parse_any(&p, &n)) return -1;
        if (n && list_push(&p, out, n, &cap)) return -1;
    }
    return 0;
}
