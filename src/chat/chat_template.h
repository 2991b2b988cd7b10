/* chat_template.h - renders a model's Jinja chat template (messages + tools -> prompt text)
 * byte for byte as Hugging Face does (@huggingface/jinja with trim_blocks and lstrip_blocks,
 * the variables transformers passes). The interpreter is our own C code in src/chat/jinja_*;
 * it covers what real chat templates use and fails with "line L, column C: ..." on anything
 * it cannot handle. A parsed template is immutable: many threads may render it at once. */
#ifndef FENNEC_CHAT_CHAT_TEMPLATE_H
#define FENNEC_CHAT_CHAT_TEMPLATE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct chat_template chat_template;

/* Bounds on one render; a zero field takes its default. A template that exceeds one fails
 * cleanly with a message (infinite recursion, runaway loops, exponential output). */
typedef struct {
    size_t max_output;  /* bytes of output and of any one string built (default 64 MiB) */
    size_t max_memory;  /* bytes the render may allocate (default 512 MiB) */
    uint64_t max_steps; /* loop iterations + calls + generated items (default 10,000,000) */
} chat_render_limits;

/* What a template is rendered with. JSON values are borrowed and only read. */
typedef struct {
    const json_t *messages;  /* array of {role, content (string or list of parts),
                                reasoning_content, tool_calls, tool_call_id, ...} (required) */
    const json_t *tools;     /* array of OpenAI tool definitions; NULL: `tools` is none */
    const json_t *kwargs;    /* object of extra variables (enable_thinking, reasoning_effort,
                                ...) or NULL; may not redefine the names above */
    const char *bos_token;   /* NULL = "" */
    const char *eos_token;   /* NULL = "" */
    bool add_generation_prompt;
    const chat_render_limits *limits; /* NULL = defaults */
} chat_render_input;

/* Parses a template (any bytes; malformed UTF-8 reads as U+FFFD). Returns NULL with
 * fn_errmsg() "line L, column C: syntax error: ..." naming the construct. Free with
 * chat_template_free(). */
chat_template *chat_template_parse(const char *src, size_t len);

void chat_template_free(chat_template *t);

/* Renders the template. Assistant tool_calls[].function.arguments given as a JSON string
 * (as OpenAI clients send them) are decoded to an object first when they parse as one, so
 * templates can iterate them. Returns the text as a malloc'd NUL-terminated string (caller
 * frees), or NULL with fn_errmsg() set: runtime errors name line:column; a template's
 * raise_exception("msg") gives "msg (raise_exception at line L, column C)". */
char *chat_template_render(const chat_template *t, const chat_render_input *in);

/* Same, also returning the length (the text may contain NUL bytes from the input). */
char *chat_template_render_n(const chat_template *t, const chat_render_input *in, size_t *len);

#endif
