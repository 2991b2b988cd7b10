/* scheduler.h - continuous batching. One engine thread owns the model: every step it
 * builds one batch from the decode tokens of all running requests plus chunks of waiting
 * prompts, runs the forward pass once, samples each request's next token and hands it to
 * that request's event queue. Requests beyond the sequence slots wait in a bounded queue.
 *
 * Callers (HTTP connection threads) submit requests and read events; a request whose
 * client went away is cancelled and its slot is free again within one step. Finished
 * slots keep their tokens' KV entries, and a new request reuses the slot with the longest
 * common prefix, so an agent's next turn only computes its new tokens ("cached tokens"). */
#ifndef FENNEC_ENGINE_SCHEDULER_H
#define FENNEC_ENGINE_SCHEDULER_H

#include <stdbool.h>
#include <stdint.h>

#include "engine/llm.h"
#include "sample/sampler.h"
#include "tok/tokenizer.h"

#define ENGINE_MAX_TOP_LOGPROBS 20

typedef struct engine engine;
typedef struct engine_req engine_req;

typedef struct {
    int n_slots;            /* concurrent sequences (== the llm's n_seq) */
    int queue_limit;        /* requests allowed to wait for a slot (beyond: engine_submit fails) */
    int step_tokens;        /* max tokens per forward step (decode + prefill chunks); 0: 512 */
} engine_config;

typedef struct {
    const int32_t *prompt;  /* copied by engine_submit */
    int n_prompt;
    sampler_params sampling;
    int max_tokens;         /* tokens to generate at most (>= 1) */
    int top_logprobs;       /* 0..ENGINE_MAX_TOP_LOGPROBS alternatives per token */
    bool logprobs;          /* report the chosen token's logprob */
    bool ignore_eos;        /* don't stop at end-of-generation tokens */
} engine_params;

typedef enum {
    ENGINE_FINISH_NONE = 0,
    ENGINE_FINISH_EOG,      /* the model ended its turn (OpenAI "stop") */
    ENGINE_FINISH_LENGTH,   /* max_tokens or the context ran out */
    ENGINE_FINISH_CANCELLED,/* engine_cancel: client gone or a stop string matched */
    ENGINE_FINISH_ERROR,    /* the forward pass failed (message in the event) */
} engine_finish;

typedef struct {
    bool done;              /* last event of the request */
    int32_t token;          /* valid when !done */
    float logprob;          /* chosen token's log-probability (if requested) */
    int n_top;
    sampler_logprob top[ENGINE_MAX_TOP_LOGPROBS];
    /* when done: */
    engine_finish finish;
    char error[256];
    /* usage and timing, valid in every event */
    int n_prompt;           /* prompt tokens */
    int n_cached;           /* of which reused from the cache (not computed) */
    int n_generated;        /* tokens generated so far */
    double t_queued;        /* seconds spent waiting for a slot */
    double t_first_token;   /* seconds from submit to the first token (0 before) */
} engine_event;

/* Starts the engine thread over an opened llm (borrowed; its n_seq must be >= n_slots)
 * and the model's tokenizer (borrowed, for end-of-generation ids). NULL + fn_errmsg(). */
engine *engine_new(llm *l, const tokenizer *tok, const engine_config *cfg);

/* Stops the thread; requests still running finish with ENGINE_FINISH_CANCELLED. */
void engine_free(engine *e);

/* Queues a request. Returns NULL with fn_errmsg() if the queue is full (the caller answers
 * 429), the prompt does not fit the context, or a parameter is invalid. */
engine_req *engine_submit(engine *e, const engine_params *p);

/* Waits up to timeout_ms (-1: forever) for the request's next event. Returns 1 with *ev
 * filled, 0 on timeout. After an event with done set there are no more events. */
int engine_next_event(engine_req *r, engine_event *ev, int timeout_ms);

/* Asks the engine to stop the request (idempotent, any thread). A done event follows. */
void engine_cancel(engine_req *r);

/* Releases the caller's handle; cancels the request if it is still running. */
void engine_release(engine_req *r);

typedef struct {
    int queued;             /* waiting for a slot */
    int active;             /* running (prefill or decode) */
    int n_slots;
    uint64_t steps;         /* forward steps run */
    uint64_t tokens_prefilled, tokens_generated, tokens_cached;
} engine_stats;

void engine_get_stats(engine *e, engine_stats *s);

/* Context positions one request may use (prompt + generated). */
int engine_ctx_per_slot(const engine *e);

#endif
