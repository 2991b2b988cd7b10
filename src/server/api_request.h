/* api_request.h - OpenAI request bodies (/v1/chat/completions and /v1/completions) parsed
 * and checked into one internal request, and OpenAI-shaped errors. Every field is checked
 * for its type and range; a problem becomes a 400 naming the field ("param"). Unknown
 * fields are ignored. Nothing here needs the model: checks that do (context length, the
 * model's name) are made by the caller with the limits it knows.
 *
 * What the server does with each field is documented in docs at the top of api_request.c. */
#ifndef FENNEC_SERVER_API_REQUEST_H
#define FENNEC_SERVER_API_REQUEST_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sample/sampler.h"

#define API_MAX_STOPS 16
#define API_MAX_TOP_LOGPROBS 20

/* An error in OpenAI's shape: {"error":{"message","type","param","code"}}. */
typedef struct {
    int status;             /* HTTP status (400, 404, 413, 429, 503, ...) */
    const char *type;       /* "invalid_request_error", ... (static string) */
    const char *code;       /* NULL (JSON null) or a static string */
    char param[128];        /* the offending field ("" = null), e.g. "messages[2].content" */
    char message[768];
} api_error;

/* Fills *e (always returns -1, for `return api_fail(...)`). param may be NULL. */
int api_fail(api_error *e, int status, const char *type, const char *code, const char *param, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));

/* The error as a JSON body (malloc'd string, caller frees; NULL only out of memory). */
char *api_error_json(const api_error *e, size_t *len);

typedef enum {
    API_TOOLS_AUTO = 0,     /* parse tool calls the model makes (default) */
    API_TOOLS_NONE,         /* tools stay in the prompt; output is never parsed as calls */
    API_TOOLS_REQUIRED,     /* as auto (no grammar yet to force a call) */
    API_TOOLS_NAMED,        /* only calls to tool_name are parsed as tool calls */
} api_tool_choice;

typedef struct {
    bool chat;                      /* chat completions (else text completions) */
    char *model;                    /* the "model" field as sent, or NULL */
    bool stream;
    bool include_usage;             /* stream_options.include_usage */

    /* chat completions */
    json_t *messages;               /* normalized for the template: role in system/user/
                                       assistant/tool, content a string, reasoning_content,
                                       tool_calls, tool_call_id (owned) */
    json_t *tools;                  /* the tool definitions, or NULL when none (owned) */
    json_t *kwargs;                 /* extra template variables (owned object) */
    api_tool_choice tool_choice;
    char *tool_name;                /* API_TOOLS_NAMED: the function (owned) */
    bool parallel_tool_calls;

    /* text completions: exactly one of the two prompts */
    char *prompt;                   /* text (owned, NUL-terminated) or NULL */
    size_t prompt_len;
    int32_t *prompt_ids;            /* token ids (owned) or NULL */
    int n_prompt_ids;

    /* generation */
    sampler_params sampling;
    bool seed_given;                /* "seed" was sent (else the caller picks one) */
    long max_tokens;                /* max_completion_tokens / max_tokens; -1: not sent */
    char *stops[API_MAX_STOPS];     /* owned, non-empty */
    int n_stops;
    bool logprobs;                  /* report the chosen tokens' log-probabilities */
    int top_logprobs;               /* alternatives per token, 0..API_MAX_TOP_LOGPROBS */
    bool ignore_eos;                /* extension: keep going past end-of-generation */
    bool json_object;               /* response_format json_object (not enforced yet) */
} api_request;

/* Parses a request body. chat selects the endpoint's schema. On success returns 0 and
 * fills *r (free with api_request_free); on failure returns -1 with *err filled (400) and
 * *r left empty. */
int api_parse_request(const char *body, size_t len, bool chat, api_request *r, api_error *err);

void api_request_free(api_request *r);

#endif
