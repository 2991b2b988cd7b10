/* jinja_lexer.h - turns template source into tokens exactly as @huggingface/jinja does with
 * Hugging Face's settings: one trailing newline dropped, lstrip_blocks and trim_blocks applied
 * as text rewrites, {% generation %} tags removed, whitespace control ({%- -%} {{- -}} {#- -#}).
 * Adds {% raw %}...{% endraw %}, which the reference lacks. Every token remembers the byte
 * offset in the original source it came from, for line:column in messages. */
#ifndef FENNEC_CHAT_JINJA_LEXER_H
#define FENNEC_CHAT_JINJA_LEXER_H

#include <stddef.h>
#include <stdint.h>

#include "chat/jinja_arena.h"

typedef enum {
    JT_TEXT,        /* literal template text (value: the text) */
    JT_NUMBER,      /* 12, 1.5, -3 (value: the literal, sign included) */
    JT_STRING,      /* 'a' or "a" (value: decoded contents) */
    JT_NAME,        /* identifiers and keywords alike */
    JT_EQUALS,      /* = */
    JT_LPAREN,      /* ( */
    JT_RPAREN,      /* ) */
    JT_OPEN_STMT,   /* {% */
    JT_CLOSE_STMT,  /* %} */
    JT_OPEN_EXPR,   /* {{ */
    JT_CLOSE_EXPR,  /* }} */
    JT_LBRACKET,    /* [ */
    JT_RBRACKET,    /* ] */
    JT_LBRACE,      /* { */
    JT_RBRACE,      /* } */
    JT_COMMA,       /* , */
    JT_DOT,         /* . */
    JT_COLON,       /* : */
    JT_PIPE,        /* | */
    JT_ADD_OP,      /* + - ~ */
    JT_MUL_OP,      /* * / // % */
    JT_POW_OP,      /* ** */
    JT_CMP_OP,      /* < > <= >= == != */
    JT_UNARY_OP,    /* a sign before an operand: - + */
    JT_COMMENT,     /* {# ... #} */
} jtok_type;

typedef struct {
    uint8_t type;  /* jtok_type */
    const char *s; /* value bytes (arena or the preprocessed source) */
    uint32_t len;  /* value length */
    uint32_t pos;  /* byte offset in the original source */
} jtok;

typedef struct {
    jtok *toks; /* n tokens (arena) */
    size_t n;
} jtok_list;

/* Tokenizes src (any bytes; malformed UTF-8 reads as U+FFFD). Tokens and their text live in
 * arena. Returns 0, or -1 with fn_error "line L, column C: ..." for a lexical error. */
int jlex_tokenize(jarena *arena, const char *src, size_t len, jtok_list *out);

/* Line and column (both from 1; the column counts code points) of a byte offset in src. */
void jlex_line_col(const char *src, size_t len, size_t pos, unsigned *line, unsigned *col);

/* Human name of a token type for messages ("'%}'", "identifier", ...). */
const char *jlex_type_name(int type);

#endif
