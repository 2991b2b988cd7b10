/* output_parser_internal.h - the parser state and helpers shared by output_parser.c (driver,
 * events, families), parse_text.c, parse_qwen3_xml.c and parse_hermes_json.c. Private. */
#ifndef FENNEC_CHAT_OUTPUT_PARSER_INTERNAL_H
#define FENNEC_CHAT_OUTPUT_PARSER_INTERNAL_H

#include "chat/jstream.h"
#include "chat/output_parser.h"

#include <stdbool.h>
#include <stddef.h>

/* A growable byte buffer; data is NUL-terminated when non-NULL. */
typedef struct {
    char *data;
    size_t len;
    size_t cap;
} cp_buf;

/* Appends n bytes; returns 0 or -1 (out of memory, fn_error set). */
int cp_buf_put(cp_buf *b, const void *s, size_t n);
void cp_buf_free(cp_buf *b);

/* What the bytes being read belong to. */
typedef enum {
    CP_TEXT,   /* content or reasoning (parse_text.c) */
    CP_XML,    /* a Qwen3-Coder XML call (parse_qwen3_xml.c) */
    CP_HERMES, /* a Hermes JSON call (parse_hermes_json.c) */
} cp_mode;

/* Whitespace bytes (ASCII; all our tags and separators are ASCII). */
static inline bool cp_is_ws(unsigned char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

struct chat_parser {
    /* configuration (fixed) */
    const chat_parser_family *fam; /* never NULL */
    const json_t *tools;           /* borrowed, may be NULL */
    bool tools_on;                 /* tool calls are parsed */
    size_t max_call;               /* bound on one call's arguments */

    /* driver (output_parser.c) */
    cp_mode mode;
    int sub;                 /* state inside the mode: the mode file's own enum */
    bool failed;             /* an error happened; everything now returns -1 */
    bool finished;           /* chat_parser_finish was called */
    chat_event_fn cb;        /* during push/finish only */
    void *ud;
    cp_buf replay;           /* bytes to read again before new input (after a rollback) */
    size_t replay_off;       /* how much of replay has been read */
    cp_buf requeue;          /* bytes a handler gives back; go in front of replay */
    unsigned char u8[4];     /* start of a UTF-8 sequence cut by the end of a push */
    int u8n;

    /* event staging: adjacent text of one kind and index goes out as one event */
    cp_buf stage;
    chat_event_kind stage_kind;
    int stage_index;

    /* text mode (parse_text.c) */
    bool in_reasoning;       /* inside the reasoning block */
    bool at_start;           /* nothing but whitespace emitted yet: <think> may open */
    bool skip_ws;            /* drop whitespace (right after a closing tag or a call) */
    cp_buf ws;               /* whitespace held: dropped if a tag follows */
    cp_buf tag;              /* prefix of a tag being matched, starts with '<' */

    /* tool calls, both formats */
    cp_buf tent;             /* raw text of a call not committed yet (rolled back as content) */
    size_t tent_keep;        /* bytes of tent that are emitted literally on rollback */
    cp_buf hold;             /* structural bytes held after the commit (tag prefix, lookahead) */
    cp_buf name;             /* function name of the call being read */
    cp_buf key;              /* parameter name (XML) / member key (Hermes) */
    cp_buf val;              /* buffered value (typed XML param, Hermes string arguments) */
    cp_buf args;             /* arguments JSON emitted so far for the current call */
    int n_calls;             /* TOOL_BEGIN events so far */
    int cur;                 /* index of the open call, -1 if none */
    size_t pos;              /* bytes of a literal tag matched (where hold is not used) */

    /* Qwen3 XML (parse_qwen3_xml.c) */
    bool wrapped;            /* inside <tool_call> (vs a bare <function=) */
    int nparams;             /* parameters emitted in this call */
    const json_t *props;     /* the tool's parameters.properties, or NULL */
    bool vstring;            /* current value is streamed as a JSON string */
    bool vfirst;             /* next value byte is the first (a leading '\n' is dropped) */
    bool nl_held;            /* a '\n' is held: dropped if it turns out to end the value */
    int la;                  /* lookahead state for "</parameter>" */
    size_t la_ws;            /* whitespace bytes in the lookahead */

    /* Hermes JSON (parse_hermes_json.c) */
    jstream js;              /* scanner for the current JSON piece */
    int hkey;                /* which member is being read (enum in parse_hermes_json.c) */
    bool have_name;          /* "name" was read */
    bool first_member;       /* no member read yet */
};

/* ---- events (output_parser.c) ---- */

/* Content or reasoning text (by p->in_reasoning unless kind is given). */
void cp_emit_text(chat_parser *p, chat_event_kind kind, const char *s, size_t n);
void cp_emit_begin(chat_parser *p);             /* TOOL_BEGIN with p->name; opens p->cur */
void cp_emit_args(chat_parser *p, const char *s, size_t n);
void cp_emit_end(chat_parser *p, bool truncated); /* TOOL_END with p->args; closes p->cur */
/* Records an error; the parse stops. Returns -1. */
int cp_fail(chat_parser *p);

/* Bytes to be read again, by whatever mode is current, before the rest of the input. */
void cp_requeue(chat_parser *p, const char *s, size_t n);

/* Gives up on an uncommitted call: tent's first tent_keep bytes are content, the rest is
 * read again as text. */
void cp_rollback(chat_parser *p);

/* Switches to text mode after a call (skip_ws: drop the whitespace that follows). */
void cp_to_text(chat_parser *p, bool skip_ws);

/* JSON-escapes s[0..n) (valid UTF-8) into the arguments. */
void cp_emit_args_escaped(chat_parser *p, const char *s, size_t n);

/* Compares held bytes with a set of literal tags: returns 1 when held equals tags[*which],
 * 0 when it is a proper prefix of some tag, -1 when it is a prefix of none. */
int cp_match_tags(const char *held, size_t n, const char *const *tags, int ntags, int *which);

/* ---- modes: each feed reads from s[0..n) (n >= 1) and returns the bytes it consumed; 0 means
 * the mode or state changed and the same byte must be read again. finish ends the mode at
 * end of output and leaves the parser in text mode. ---- */
size_t cp_text_feed(chat_parser *p, const char *s, size_t n);
void cp_text_finish(chat_parser *p);
void cp_text_start_call(chat_parser *p, int which_tag); /* a call opener tag matched */

void cp_xml_start(chat_parser *p, bool wrapped);
size_t cp_xml_feed(chat_parser *p, const char *s, size_t n);
void cp_xml_finish(chat_parser *p);

void cp_hermes_start(chat_parser *p);
size_t cp_hermes_feed(chat_parser *p, const char *s, size_t n);
void cp_hermes_finish(chat_parser *p);

#endif
