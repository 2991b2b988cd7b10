/* api_response.h - generation deltas written in OpenAI's response shapes: SSE chunks
 * ("chat.completion.chunk", "text_completion") while streaming, and the whole
 * "chat.completion" / "text_completion" object otherwise. Usage always carries
 * prompt_tokens_details.cached_tokens and completion_tokens_details.reasoning_tokens. */
#ifndef FENNEC_SERVER_API_RESPONSE_H
#define FENNEC_SERVER_API_RESPONSE_H

#include <stdbool.h>

#include "server/gen.h"
#include "server/sbuf.h"
#include "tok/tokenizer.h"

/* What every chunk or response of one request repeats. */
typedef struct {
    char id[48];                /* "chatcmpl-..." or "cmpl-..." */
    const char *model;          /* borrowed */
    long long created;          /* unix seconds */
    const char *fingerprint;    /* system_fingerprint (borrowed) */
    bool chat;                  /* chat completions (else text completions) */
    bool include_usage;         /* streaming: "usage": null on chunks, a usage chunk at the end */
    const tokenizer *tok;       /* for logprob token texts (borrowed) */
    long text_offset;           /* text completions' logprobs: bytes of text so far */
} api_meta;

/* Fills id (prefix + 29 random characters), created; the rest is the caller's. */
void api_meta_init(api_meta *m, bool chat, const char *model_name, const char *fingerprint, const tokenizer *tok);

/* ---- streaming ------------------------------------------------------------------------ */

/* The first chunk: delta {role: "assistant", content: ""} (chat only; nothing otherwise). */
void api_stream_begin(const api_meta *m, sbuf *out);

/* The chunks for one delta (content/reasoning, each tool-call piece, logprobs); then, if
 * d->done and it finished normally, the finish_reason chunk. Nothing for an empty delta. */
void api_stream_delta(api_meta *m, const gen_delta *d, sbuf *out);

/* The usage chunk (choices: []) if include_usage was asked, then "data: [DONE]". */
void api_stream_end(const api_meta *m, const gen_usage *u, sbuf *out);

/* An error event in OpenAI's error shape (for failures after the stream started). */
void api_stream_error(const char *message, sbuf *out);

/* ---- whole responses ------------------------------------------------------------------ */

/* Collects deltas for a non-streaming response. */
typedef struct {
    sbuf content, reasoning;
    struct api_call { char id[40]; char *name; sbuf args; } *calls;
    int n_calls, cap_calls;
    json_t *logprobs;           /* chat: array of entries; completions: legacy object */
    const char *finish_reason;
    bool failed;                /* out of memory on the way */
} api_accum;

void api_accum_init(api_accum *a);
void api_accum_add(api_accum *a, api_meta *m, const gen_delta *d, bool want_logprobs);
void api_accum_free(api_accum *a);

/* The chat.completion or text_completion object as JSON text (malloc'd, caller frees;
 * NULL when out of memory). */
char *api_response_json(const api_meta *m, api_accum *a, const gen_usage *u, size_t *len);

/* The usage object (new reference). */
json_t *api_usage_json(const gen_usage *u);

#endif
