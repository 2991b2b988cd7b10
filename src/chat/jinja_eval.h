/* jinja_eval.h - runs a parsed chat template: statements, expressions, scopes, macros and
 * loops with @huggingface/jinja's semantics (macros see their caller's variables, `set` in a
 * loop lasts for the rest of that loop, break/continue drop the current iteration's output).
 * Recursion depth, loop iterations and output size are bounded; a template that exceeds a
 * bound fails with a message instead of exhausting the machine. */
#ifndef FENNEC_CHAT_JINJA_EVAL_H
#define FENNEC_CHAT_JINJA_EVAL_H

#include "chat/jinja_parser.h"
#include "chat/jinja_value.h"

/* A variable handed to the template (messages, tools, bos_token, ...). */
typedef struct {
    const char *name; /* NUL-terminated, must outlive the render */
    jv value;         /* lives in the render's arena */
} jeval_var;

/* Renders prog (from jparse_template over src) with the builtin globals plus vars into out.
 * A var may not reuse a builtin's name (namespace, range, true, ...). Returns 0, or -1 with
 * fn_error "line L, column C: ..." (or the template's raise_exception message). */
int jeval_render(jrt *rt, const jnode_list *prog, const char *src, size_t srclen, const jeval_var *vars,
                 size_t nvars, jbuf *out);

#endif
