/* jinja_parser.h - syntax tree of a chat template and the parser that builds it from tokens.
 * The grammar and operator precedence are @huggingface/jinja's (which differ from Python
 * Jinja in places, e.g. a unary minus binds tighter than a filter), so that every template
 * the reference accepts parses to the same tree. Extensions where the reference fails:
 * {% raw %} (in the lexer) and tests with an argument (`x is divisibleby 3`, `x is in(y)`). */
#ifndef FENNEC_CHAT_JINJA_PARSER_H
#define FENNEC_CHAT_JINJA_PARSER_H

#include <stdint.h>

#include "chat/jinja_arena.h"
#include "chat/jinja_lexer.h"

typedef enum {
    /* statements */
    JN_TEXT,         /* s: literal text */
    JN_IF,           /* a: test; body; orelse (an elif is a nested JN_IF there) */
    JN_FOR,          /* a: target (NAME or TUPLE); b: iterable; c: filter or NULL; body; orelse;
                        op: 1 if the body may keep `loop` past its iteration (bare use of the
                        name, macro calls), so each iteration needs its own loop object */
    JN_SET,          /* a: target; b: value, or NULL for a block set whose text is body */
    JN_MACRO,        /* s: name; list: parameters (NAME or KWARG with default); body */
    JN_CALL_BLOCK,   /* a: the JN_CALL; list: caller's parameters; body */
    JN_FILTER_BLOCK, /* a: JN_FILTER without operand; body */
    JN_BREAK,
    JN_CONTINUE,
    /* expressions */
    JN_INT,          /* num */
    JN_FLOAT,        /* num */
    JN_STR,          /* s */
    JN_NAME,         /* s, hash */
    JN_LIST,         /* list: items */
    JN_TUPLE,        /* list: items */
    JN_DICT,         /* list: key0, value0, key1, value1, ... */
    JN_MEMBER,       /* a: object; b: property (NAME or INT when op == 0, else an expression
                        or a JN_SLICE); op: 1 for a[...] */
    JN_SLICE,        /* a: start, b: stop, c: step (each may be NULL) */
    JN_CALL,         /* a: callee; list: arguments (expressions, KWARG, SPREAD, KWSPREAD) */
    JN_UNARY,        /* op: JOP_NOT/NEG/POS; a: operand */
    JN_BINARY,       /* op: JOP_*; a, b: operands */
    JN_FILTER,       /* a: operand (NULL in a filter block); s: name; list: arguments;
                        op: 1 when written with parentheses, 2 when followed by .x, [x] or
                        (...) (parses as in the reference, fails when evaluated) */
    JN_TEST,         /* a: operand; s: name; list: arguments; op: 1 for `is not` */
    JN_SELECT,       /* `a if b` without else: a, b */
    JN_TERNARY,      /* `b if a else c` */
    JN_KWARG,        /* s: name; a: value (call keyword argument or parameter default) */
    JN_SPREAD,       /* *a in a call */
    JN_KWSPREAD,     /* **a in a call */
} jnode_kind;

typedef enum {
    JOP_OR, JOP_AND, JOP_EQ, JOP_NE, JOP_LT, JOP_GT, JOP_LE, JOP_GE, JOP_IN, JOP_NOT_IN,
    JOP_ADD, JOP_SUB, JOP_CONCAT, JOP_MUL, JOP_DIV, JOP_FLOORDIV, JOP_MOD, JOP_POW,
    JOP_NOT, JOP_NEG, JOP_POS,
} jop;

typedef struct jnode jnode;

typedef struct {
    jnode **v;  /* n nodes (arena) */
    uint32_t n;
} jnode_list;

struct jnode {
    uint8_t kind;      /* jnode_kind */
    uint8_t op;        /* jop, or a flag (see the kinds) */
    uint32_t pos;      /* byte offset of the construct in the original source */
    const char *s;     /* name or text bytes */
    uint32_t slen;     /* their length */
    uint32_t hash;     /* jv_hash of s for names */
    double num;        /* number literal */
    jnode *a, *b, *c;  /* operands (see the kinds) */
    jnode_list list;   /* items, arguments or parameters */
    jnode_list body;   /* statements */
    jnode_list orelse; /* else statements */
};

/* Parses tokens into a list of top-level statements allocated in arena. Returns 0, or -1
 * with fn_error "line L, column C: ..." naming the construct (src/len are the original
 * source, for positions). */
int jparse_template(jarena *arena, const jtok_list *toks, const char *src, size_t len,
                    jnode_list *out);

#endif
