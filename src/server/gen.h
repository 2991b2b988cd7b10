/* gen.h - one generation as the API sees it: submits a prompt to the engine, then turns
 * the engine's token events into deltas - answer text, reasoning text, tool-call pieces
 * and log-probabilities - through the detokenizer, the stop strings and the model
 * family's output parser. Streaming and non-streaming responses both read deltas; only
 * how they are written differs. One gen belongs to one connection thread. */
#ifndef FENNEC_SERVER_GEN_H
#define FENNEC_SERVER_GEN_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "chat/output_parser.h"
#include "engine/scheduler.h"
#include "server/api_request.h"
#include "server/metrics.h"
#include "server/sbuf.h"

typedef struct gen gen;

typedef struct {
    int index;              /* the call's number in this output, from 0 */
    char id[40];            /* "call_..." - set on the call's first delta only ("" after) */
    char *name;             /* set on the call's first delta only (owned), else NULL */
    sbuf args;              /* next fragment of the arguments JSON (may be empty) */
} gen_tool_delta;

typedef struct {
    int32_t token;
    float logprob;
    int n_top;
    sampler_logprob top[ENGINE_MAX_TOP_LOGPROBS];
} gen_logprob;

/* What one gen_next call produced. Reset by gen_next; free with gen_delta_free. */
typedef struct {
    sbuf content;
    sbuf reasoning;
    gen_tool_delta *tools;  /* in order; one entry per call touched */
    int n_tools, cap_tools;
    gen_logprob *lps;       /* one per token consumed, when logprobs were asked for */
    int n_lps, cap_lps;
    bool done;              /* the generation is over; finish_reason or error is set */
    const char *finish_reason; /* "stop" | "length" | "tool_calls" (static), NULL on error */
    char error[256];        /* when done without a finish_reason */
} gen_delta;

void gen_delta_free(gen_delta *d);

typedef struct {
    const int32_t *prompt;  /* borrowed until gen_start returns */
    int n_prompt;
    engine_params engine;   /* prompt fields are filled from above */
    char *const *stops;     /* borrowed until gen_start returns */
    int n_stops;
    chat_parser_config parser; /* family NULL: all output is content; tools borrowed for
                                  the gen's life */
    metrics *m;             /* borrowed; may be NULL */
    const tokenizer *tok;   /* borrowed */
} gen_params;

/* Submits the request. NULL with fn_errmsg() when the engine refuses it (queue full,
 * prompt too long, ...) or memory runs out. */
gen *gen_start(engine *e, const gen_params *p);

/* Waits up to timeout_ms for the engine and processes every event that is ready (at
 * least one) into *d. Returns 1 when events were processed (d may still be empty: text
 * can be held back), 0 on timeout. After a delta with done set, returns 0 at once. */
int gen_next(gen *g, int timeout_ms, gen_delta *d);

/* Asks the engine to stop (client gone, server stopping). A done delta follows. */
void gen_cancel(gen *g);

typedef struct {
    int prompt_tokens;
    int cached_tokens;
    int completion_tokens;
    int reasoning_tokens;   /* tokens generated while the parser was inside reasoning */
    double t_queued;        /* seconds waiting for a slot */
    double t_first_token;   /* seconds from submit to the first token */
    double t_total;         /* seconds from submit to now (or to the end) */
} gen_usage;

void gen_get_usage(const gen *g, gen_usage *u);

/* Number of tool calls so far. */
int gen_tool_count(const gen *g);

/* Cancels if still running and frees everything. NULL is fine. */
void gen_free(gen *g);

/* The same pipeline without an engine, for tests: gen_start_text makes a gen that is fed
 * text directly, as if tokens had produced it (tok may be NULL; logprobs are not
 * available). gen_push_text processes one piece into *d; gen_end_text ends the output as
 * the engine would with `why` and fills the done delta. */
gen *gen_start_text(const gen_params *p);
void gen_push_text(gen *g, const char *text, size_t len, gen_delta *d);
void gen_end_text(gen *g, engine_finish why, gen_delta *d);

/* A fresh tool call id: "call_" + 24 letters and digits. */
void gen_call_id(char out[40]);

#endif
