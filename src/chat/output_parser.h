/* output_parser.h - turns the text a model generates into content, reasoning and tool calls,
 * streaming: pieces go in as the detokenizer produces them, events come out as early as is safe.
 * Which syntax to expect is data: one family table chosen from the model's chat template.
 *
 * Formats (see chat_tool_format): Qwen3-Coder XML tool calls, Hermes/Qwen JSON tool calls, and
 * a <think>...</think> reasoning block, alone or with either tool format.
 *
 * Guarantees, for any input bytes and any way of cutting them into pieces:
 *  - Chunking does not matter: the events, with adjacent text events of the same kind and
 *    index joined, are the same for every split of the same output.
 *  - Every event text is valid UTF-8 (invalid bytes become U+FFFD, one per byte, like the
 *    detokenizer; a sequence cut between two pushes is held until complete).
 *  - For each call, the TOOL_ARGS fragments joined equal TOOL_END's text, which is always one
 *    valid JSON object (RFC 8259). jansson reads it with JSON_ALLOW_NUL |
 *    JSON_DECODE_INT_AS_REAL unless the model wrote a number beyond the range of a double.
 *  - Text that starts like a tool call but turns out not to be one is content; nothing the
 *    model wrote is dropped except the tags and separators that made up a recognized call or
 *    reasoning block, the whitespace next to them (see "Whitespace" below) and whitespace
 *    between JSON tokens beyond 7 bytes after a comma.
 *  - Memory: what is held back waiting for more input is bounded (CHAT_PARSER_MAX_HOLD for a
 *    tag or a tool call's header); content, reasoning and string arguments stream through.
 *    Held up to max_call_bytes: a call's arguments (kept until its TOOL_END), a non-string
 *    XML value until it ends, Hermes arguments given as one JSON string until it ends.
 *
 * Tool calls, common rules
 *  - TOOL_BEGIN comes once the call is certain: Qwen3 XML when "<function=NAME>" is complete
 *    inside <tool_call>; Hermes JSON when {"name": "NAME", "arguments": { has been read.
 *    Before that, anything unexpected (prose, bad JSON, a header longer than
 *    CHAT_PARSER_MAX_HOLD, end of output) makes the held text content again, and parsing
 *    goes on after its first tag, so a real call later in that text is still found.
 *  - After TOOL_BEGIN the call is committed. If the model then stops or writes something
 *    that does not fit, the arguments are closed so that they are valid JSON (an open
 *    string is closed, a partial number or literal is completed, a key without a value
 *    gets null, containers are closed), TOOL_END has truncated = true, and the text from
 *    the point that did not fit is parsed again as content (after EOS: emitted as content).
 *  - Several calls per turn get indexes 0, 1, 2... in order.
 *
 * Qwen3-Coder XML ("<tool_call>\n<function=NAME>\n<parameter=KEY>\nVALUE\n</parameter>\n
 * </function>\n</tool_call>")
 *  - A value loses exactly one leading and one trailing "\n" (the ones the template puts
 *    around it); everything else is kept byte for byte.
 *  - A value ends at the first "</parameter>" that is followed (after at most 64 bytes of
 *    whitespace) by "<parameter=", "</function>" or "</tool_call>", or by the end of output.
 *    So source code that contains "</parameter>" elsewhere survives; a value that contains
 *    "</parameter>\n<parameter=" itself cannot be told apart and is cut there. (vLLM and
 *    llama.cpp both cut at the first "</parameter>".)
 *  - Typing by the request's tools (tools[i].function.parameters.properties.KEY.type):
 *    "string" (or a type list containing "string", or a string enum) streams as a JSON
 *    string while it arrives. Any other type, an unknown tool or an unknown parameter:
 *    the value is buffered to its end; if it (trimmed) parses as JSON it is used as is,
 *    "True"/"FALSE"/"Null" in any case become the JSON literal, otherwise it is a string.
 *  - "<function=" without "<tool_call>" (Qwen3-Coder drops the opener now and then) is a
 *    call only when NAME is one of the request's tools (any name when tools is NULL) and
 *    the next tag is "<parameter=" or "</function>"; an orphan "</tool_call>" after
 *    "</function>" is dropped. Several <function=...> blocks inside one <tool_call> are
 *    several calls. A <tool_call> holding Hermes JSON instead is read as Hermes JSON.
 *  - truncated = true unless "</function>" (or "</tool_call>" in its place) was seen.
 *
 * Hermes / Qwen2.5 / Qwen3 JSON ("<tool_call>\n{"name": "NAME", "arguments": {...}}\n
 * </tool_call>")
 *  - "name" must be the first key; "parameters" is accepted for "arguments"; other keys
 *    before "arguments" are skipped. No arguments key: arguments are {}.
 *  - An arguments object streams through as the model writes it, with small repairs that
 *    keep it valid JSON: raw control characters in strings are escaped, a backslash that
 *    starts no valid escape becomes "\\", an unpaired surrogate escape becomes \ufffd, and
 *    a trailing comma before } or ] is dropped. Anything else invalid ends the call
 *    (truncated) and the rest is content.
 *  - Arguments given as a JSON string are decoded; if the decoded text is a JSON object it
 *    is the arguments (the call comes out whole once the string ends), otherwise the
 *    whole <tool_call> is content.
 *  - truncated = true unless the arguments object (or string) was complete.
 *
 * Reasoning (families with think tags)
 *  - "<think>" before any other non-whitespace output opens reasoning; "</think>" closes it.
 *    With starts_in_reasoning (the prompt already opened the block, e.g. Qwen3 thinking
 *    templates, DeepSeek V3.1) output starts inside it. If "</think>" never comes, all the
 *    output is reasoning. Tags inside reasoning are reasoning text. "<think>" later in the
 *    output, or "</think>" outside reasoning, is content.
 *
 * Whitespace: whitespace right after "<think>", "</think>" and a finished tool call, and
 * right before "</think>" or a tool call, is not emitted (Qwen writes "</think>\n\n" and
 * "\n<tool_call>"). Elsewhere it is content. Runs longer than CHAT_PARSER_MAX_HOLD bytes
 * are streamed in pieces, so only the last part of such a run is dropped.
 */
#ifndef FENNEC_CHAT_OUTPUT_PARSER_H
#define FENNEC_CHAT_OUTPUT_PARSER_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

/* Bytes a parser may hold back while deciding what a tag or a tool-call header is. */
#define CHAT_PARSER_MAX_HOLD 1024

/* Longest tool or parameter name accepted, in bytes. */
#define CHAT_PARSER_MAX_NAME 256

/* ---- families -------------------------------------------------------------------------- */

typedef enum {
    CHAT_TOOLS_NONE,        /* tool calls are not parsed: they come back as content */
    CHAT_TOOLS_HERMES_JSON, /* <tool_call>{"name": ..., "arguments": ...}</tool_call> */
    CHAT_TOOLS_QWEN3_XML,   /* <tool_call><function=NAME><parameter=K>V</parameter>... */
} chat_tool_format;

/* One row of the family table: how to recognize the model's chat template and what its
 * output looks like. Rows are static; pointers stay valid for the life of the program. */
typedef struct {
    const char *name;          /* "qwen3-coder", "hermes", "plain", ... */
    const char *match_all[3];  /* the template source contains each of these (NULLs unused) */
    const char *match_none[2]; /* ...and none of these */
    chat_tool_format tools;    /* tool-call syntax */
    const char *think_open;    /* "<think>", or NULL: no reasoning block */
    const char *think_close;   /* "</think>", or NULL */
    const char *note;          /* one line: models, and what is not supported yet */
} chat_parser_family;

/* Picks the family for a chat template's source: the first table row whose rules match,
 * else the plain family (no tool calls, no reasoning). template_src may be NULL (plain).
 * Never returns NULL. */
const chat_parser_family *chat_parser_detect(const char *template_src);

/* The family named name ("qwen3-coder", "hermes", ...), or NULL if there is none. */
const chat_parser_family *chat_parser_family_find(const char *name);

/* Table rows in detection order, for listing: i in [0, chat_parser_family_count()). */
size_t chat_parser_family_count(void);
const chat_parser_family *chat_parser_family_at(size_t i);

/* True when the rendered prompt already opened the family's reasoning block, i.e. it ends
 * with think_open followed only by whitespace. Pass the result as starts_in_reasoning. */
bool chat_parser_prompt_opens_reasoning(const chat_parser_family *f, const char *prompt,
                                        size_t len);

/* ---- streaming parser ------------------------------------------------------------------ */

typedef enum {
    CHAT_EV_CONTENT,    /* text, len: a piece of the answer */
    CHAT_EV_REASONING,  /* text, len: a piece of the reasoning */
    CHAT_EV_TOOL_BEGIN, /* index, text = name (NUL-terminated, len bytes, no NUL inside) */
    CHAT_EV_TOOL_ARGS,  /* index, text, len: next fragment of the arguments JSON */
    CHAT_EV_TOOL_END,   /* index, text, len: the whole arguments JSON; truncated */
} chat_event_kind;

typedef struct {
    chat_event_kind kind;
    int index;        /* tool call number in this output, from 0 (TOOL_* events); else -1 */
    const char *text; /* valid only during the callback; never NULL; text[len] == 0 (but
                         content may hold NUL bytes of its own) */
    size_t len;       /* bytes at text (a text event is never empty) */
    bool truncated;   /* TOOL_END: the call did not end properly; arguments were closed */
} chat_event;

/* Receives events in order. Returns 0 to go on; anything else stops the parser (the push
 * or finish returns -1 and the parser accepts nothing more). */
typedef int (*chat_event_fn)(const chat_event *ev, void *ud);

typedef struct {
    const chat_parser_family *family; /* NULL = plain */
    const json_t *tools;      /* the request's OpenAI tools array (borrowed, read-only, must
                                 outlive the parser), or NULL: parameter types unknown */
    bool parse_tool_calls;    /* false when the request has no tools or tool_choice none:
                                 tool-call syntax then comes back as content */
    bool starts_in_reasoning; /* the prompt opened the reasoning block (see
                                 chat_parser_prompt_opens_reasoning) */
    size_t max_call_bytes;    /* bound on one call's arguments; 0 = 64 MiB */
} chat_parser_config;

typedef struct chat_parser chat_parser;

/* Makes a parser for one generated output. Returns NULL with fn_errmsg() on allocation
 * failure. Free with chat_parser_free(). Not thread-safe; one parser per sequence. */
chat_parser *chat_parser_new(const chat_parser_config *cfg);

void chat_parser_free(chat_parser *p);

/* Feeds the next len bytes of output (any bytes; a tag or UTF-8 sequence may be split
 * across calls) and calls cb for every event that is now certain. Returns 0, or -1 with
 * fn_errmsg() set when cb stopped the parse, memory ran out or a call's arguments exceeded
 * max_call_bytes; after -1 every later push and finish returns -1 at once. */
int chat_parser_push(chat_parser *p, const char *text, size_t len, chat_event_fn cb, void *ud);

/* Ends the output (EOS, stop string or length limit): flushes what was held back, closes
 * an unfinished tool call (TOOL_END with truncated = true) and turns an unfinished tag or
 * tool-call header into content. Same return values as chat_parser_push. Call it once. */
int chat_parser_finish(chat_parser *p, chat_event_fn cb, void *ud);

/* Number of TOOL_BEGIN events so far. */
int chat_parser_tool_count(const chat_parser *p);

/* ---- whole output at once -------------------------------------------------------------- */

typedef struct {
    char *content;      /* malloc'd, NUL-terminated (may hold NULs: use content_len) */
    size_t content_len;
    char *reasoning;    /* malloc'd, NUL-terminated */
    size_t reasoning_len;
    json_t *tool_calls; /* owned: [{"type": "function", "function": {"name": N,
                           "arguments": "<JSON text>"}}, ...] in order; ids are the caller's */
    bool truncated;     /* some call was closed by the parser (TOOL_END truncated) */
} chat_parse_result;

/* Parses a complete output with the same rules as the streaming parser (push then finish).
 * Returns 0 and fills *out (free with chat_parse_result_free), or -1 with fn_errmsg(). */
int chat_parse_all(const chat_parser_config *cfg, const char *text, size_t len,
                   chat_parse_result *out);

/* Frees what chat_parse_all allocated and zeroes *r. Safe on a zeroed result. */
void chat_parse_result_free(chat_parse_result *r);

#endif
