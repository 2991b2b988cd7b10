/* server_completions.c - POST /v1/chat/completions and /v1/completions: the request is
 * checked, rendered with the chat template and tokenized on the connection's thread, then
 * submitted to the engine; the answer streams as SSE chunks (reader callback, one engine
 * wait at a time) or is collected into one JSON object. A client that goes away is noticed
 * by a write failing or, while nothing is written, by peeking at its socket; its request
 * is then cancelled and its sequence slot freed.
 *
 * Tokenization: the rendered chat prompt is tokenized with special-token texts parsed, as
 * the template writes control tokens as text ("<|im_start|>"); like llama.cpp and vLLM,
 * this means a message that spells a control token gets that token. /v1/completions
 * prompts are raw model input and are tokenized the same way. BOS is added when the model
 * wants one and the rendered text does not already start with it. */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/error.h"
#include "server/api_response.h"
#include "server/gen.h"
#include "server/server_internal.h"

#define WAIT_MS 100             /* longest wait for the engine before checking the client */
#define STREAM_BLOCK (16 * 1024)

typedef struct {
    server *s;
    struct MHD_Connection *c;
    api_request req;            /* owned: the parser borrows its tools */
    gen *g;
    api_meta meta;
    gen_delta d;
    sbuf out;                   /* SSE bytes not yet handed to MHD */
    size_t pos;                 /* of out */
    bool finished;              /* the last event is in out */
    bool timeout_back;          /* the idle timeout is on again (tokens are flowing) */
    const char *route_name;
} stream_ctx;

static uint64_t fresh_seed(void) {
    static atomic_uint_fast64_t counter;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    uint64_t x = (uint64_t)ts.tv_sec * 1000000007ull ^ (uint64_t)ts.tv_nsec ^ (atomic_fetch_add(&counter, 1) << 40);
    x ^= x >> 31;
    x *= 0x9E3779B97F4A7C15ull;
    return x ^ (x >> 29);
}

static void log_generation(server *s, const char *route, bool stream, const gen *g, const char *finish) {
    if (!s->cfg.log_requests) return;
    gen_usage u;
    gen_get_usage(g, &u);
    double gen_time = u.t_total - u.t_first_token;
    fprintf(stderr,
            "fennec serve: POST %s 200%s prompt=%d cached=%d completion=%d queued=%.3fs ttft=%.3fs %.1f tok/s finish=%s\n",
            route, stream ? " stream" : "", u.prompt_tokens, u.cached_tokens, u.completion_tokens, u.t_queued,
            u.t_first_token, u.completion_tokens > 1 && gen_time > 0 ? (u.completion_tokens - 1) / gen_time : 0.0,
            finish ? finish : "error");
}

/* ---- request -> prompt tokens --------------------------------------------------------- */

static int chat_prompt(server *s, api_request *req, int32_t **ids, int *n, bool *opens_reasoning, api_error *err) {
    server_model *sm = &s->model;
    if (req->tool_choice == API_TOOLS_NAMED) { /* the model only hears of the named tool */
        json_t *only = json_array();
        size_t i;
        json_t *t;
        json_array_foreach(req->tools, i, t) {
            const char *name = json_string_value(json_object_get(json_object_get(t, "function"), "name"));
            if (name && !strcmp(name, req->tool_name)) json_array_append(only, t);
        }
        json_decref(req->tools);
        req->tools = only;
    }
    chat_render_limits lim = {.max_memory = 256u << 20};
    chat_render_input in = {.messages = req->messages, .tools = req->tools, .kwargs = req->kwargs,
                            .bos_token = sm->bos_text, .eos_token = sm->eos_text, .add_generation_prompt = true,
                            .limits = &lim};
    size_t len = 0;
    char *text = chat_template_render_n(sm->tmpl, &in, &len);
    if (!text)
        return api_fail(err, 400, "invalid_request_error", "invalid_prompt", "messages",
                        "The chat template could not render these messages: %s", fn_errmsg());
    /* no token is longer than max_token_bytes: a text this long cannot fit, whatever it is */
    if (len / sm->max_token_bytes >= (size_t)sm->ctx) {
        free(text);
        return api_fail(err, 400, "invalid_request_error", "context_length_exceeded", "messages",
                        "This model's maximum context length is %d tokens. However, your messages resulted in at least "
                        "%zu tokens. Please reduce the length of the messages.",
                        sm->ctx, len / sm->max_token_bytes);
    }
    size_t blen = strlen(sm->bos_text);
    bool add_bos = tokenizer_wants_bos(sm->tok) && tokenizer_bos(sm->tok) >= 0 &&
                   !(blen && len >= blen && !memcmp(text, sm->bos_text, blen));
    *opens_reasoning = chat_parser_prompt_opens_reasoning(sm->family, text, len);
    size_t nn = 0;
    int rc = tokenizer_encode(sm->tok, text, len, true, add_bos, ids, &nn);
    free(text);
    if (rc) return api_fail(err, 400, "invalid_request_error", "invalid_prompt", "messages", "%s", fn_errmsg());
    *n = nn > (size_t)INT32_MAX ? INT32_MAX : (int)nn;
    return 0;
}

static int text_prompt(server *s, const api_request *req, int32_t **ids, int *n, api_error *err) {
    server_model *sm = &s->model;
    if (req->prompt_ids) {
        for (int i = 0; i < req->n_prompt_ids; i++)
            if ((uint32_t)req->prompt_ids[i] >= tokenizer_n_vocab(sm->tok)) {
                char p[32];
                snprintf(p, sizeof p, "prompt[%d]", i);
                return api_fail(err, 400, "invalid_request_error", "invalid_value", p,
                                "Token id %d is outside the vocabulary (0..%u).", req->prompt_ids[i],
                                tokenizer_n_vocab(sm->tok) - 1);
            }
        *ids = malloc((size_t)req->n_prompt_ids * sizeof **ids);
        if (!*ids) return api_fail(err, 503, "server_error", "out_of_memory", NULL, "The server is out of memory.");
        memcpy(*ids, req->prompt_ids, (size_t)req->n_prompt_ids * sizeof **ids);
        *n = req->n_prompt_ids;
        return 0;
    }
    if (req->prompt_len / sm->max_token_bytes >= (size_t)sm->ctx)
        return api_fail(err, 400, "invalid_request_error", "context_length_exceeded", "prompt",
                        "This model's maximum context length is %d tokens. However, your prompt has at least %zu tokens.",
                        sm->ctx, req->prompt_len / sm->max_token_bytes);
    size_t nn = 0;
    bool add_bos = tokenizer_wants_bos(sm->tok) && tokenizer_bos(sm->tok) >= 0;
    if (tokenizer_encode(sm->tok, req->prompt, req->prompt_len, true, add_bos, ids, &nn))
        return api_fail(err, 400, "invalid_request_error", "invalid_prompt", "prompt", "%s", fn_errmsg());
    *n = nn > (size_t)INT32_MAX ? INT32_MAX : (int)nn;
    if (*n == 0) return api_fail(err, 400, "invalid_request_error", "invalid_value", "prompt", "The prompt is empty.");
    return 0;
}

/* Checks the lengths, fills the engine and parser parameters and submits. */
static gen *start(server *s, api_request *req, api_error *err) {
    server_model *sm = &s->model;
    int32_t *ids = NULL;
    int n = 0;
    bool opens = false;
    if (req->chat ? chat_prompt(s, req, &ids, &n, &opens, err) : text_prompt(s, req, &ids, &n, err)) return NULL;
    if (n >= sm->ctx) {
        free(ids);
        api_fail(err, 400, "invalid_request_error", "context_length_exceeded", req->chat ? "messages" : "prompt",
                 "This model's maximum context length is %d tokens. However, your %s resulted in %d tokens. Please reduce "
                 "the length of the %s.",
                 sm->ctx, req->chat ? "messages" : "prompt", n, req->chat ? "messages" : "prompt");
        return NULL;
    }
    if (req->max_tokens > sm->n_ctx_train) {
        free(ids);
        api_fail(err, 400, "invalid_request_error", "invalid_value", "max_tokens",
                 "max_tokens is too large: %ld. This model supports at most %d completion tokens.", req->max_tokens,
                 sm->n_ctx_train);
        return NULL;
    }
    long room = sm->ctx - n, mt = req->max_tokens < 0 || req->max_tokens > room ? room : req->max_tokens;
    if (s->cfg.max_tokens > 0 && mt > s->cfg.max_tokens) mt = s->cfg.max_tokens;

    gen_params gp = {.prompt = ids, .n_prompt = n, .stops = req->stops, .n_stops = req->n_stops, .m = s->m, .tok = sm->tok};
    gp.engine.sampling = req->sampling;
    if (!req->seed_given) gp.engine.sampling.seed = fresh_seed();
    gp.engine.max_tokens = (int)mt;
    gp.engine.logprobs = req->logprobs;
    gp.engine.top_logprobs = req->top_logprobs;
    gp.engine.ignore_eos = req->ignore_eos;
    if (req->chat) {
        gp.parser.family = sm->family;
        gp.parser.tools = req->tools;
        gp.parser.parse_tool_calls = req->tools && req->tool_choice != API_TOOLS_NONE;
        gp.parser.starts_in_reasoning = opens;
    }
    if (sampler_params_check(&gp.engine.sampling)) {
        free(ids);
        api_fail(err, 400, "invalid_request_error", "invalid_value", NULL, "%s", fn_errmsg());
        return NULL;
    }
    /* --queue counts requests that wait because every slot is taken */
    engine_stats es;
    engine_get_stats(sm->eng, &es);
    if (es.queued - (es.n_slots - es.active) >= s->cfg.queue_limit) {
        free(ids);
        api_fail(err, 429, "rate_limit_error", "queue_full", NULL,
                 "The server is busy: every sequence slot is taken and the queue is full. Retry shortly.");
        return NULL;
    }
    gen *g = gen_start(sm->eng, &gp);
    free(ids);
    if (!g) {
        const char *why = fn_errmsg();
        if (strstr(why, "queue full"))
            api_fail(err, 429, "rate_limit_error", "queue_full", NULL,
                     "The server is busy: every sequence slot is taken and the queue is full. Retry shortly.");
        else if (strstr(why, "shutting down"))
            api_fail(err, 503, "server_error", "shutting_down", NULL, "The server is shutting down.");
        else
            api_fail(err, 400, "invalid_request_error", "invalid_value", NULL, "%s", why);
    }
    return g;
}

/* ---- connection timeout --------------------------------------------------------------- */

/* libmicrohttpd's idle timeout counts from the last byte sent or received, and a prompt
 * may take longer than that to prefill (or wait in the queue). So until the first token
 * the connection has no idle timeout - the client's liveness is checked by peeking at its
 * socket instead. A stream gets the timeout back with its first token (a client that stops
 * reading is then dropped); a non-streaming response once it is ready. */
static void suspend_timeout(struct MHD_Connection *c) { MHD_set_connection_option(c, MHD_CONNECTION_OPTION_TIMEOUT, 0u); }

static void restore_timeout(server *s, struct MHD_Connection *c) {
    MHD_set_connection_option(c, MHD_CONNECTION_OPTION_TIMEOUT, (unsigned)s->cfg.timeout_s);
}

/* ---- streaming ------------------------------------------------------------------------ */

static ssize_t stream_read(void *cls, uint64_t pos, char *buf, size_t max) {
    stream_ctx *st = cls;
    while (st->pos == st->out.len) {
        sbuf_clear(&st->out);
        st->pos = 0;
        if (st->finished) {
            restore_timeout(st->s, st->c);
            return MHD_CONTENT_READER_END_OF_STREAM;
        }
        if (atomic_load(&st->s->stopping)) return MHD_CONTENT_READER_END_WITH_ERROR;
        if (!gen_next(st->g, WAIT_MS, &st->d)) {
            if (!server_client_alive(st->c)) return MHD_CONTENT_READER_END_WITH_ERROR; /* free callback cancels */
            continue;
        }
        if (!st->timeout_back) { /* tokens flow now: a client that stops reading is dropped */
            restore_timeout(st->s, st->c);
            st->timeout_back = true;
        }
        api_stream_delta(&st->meta, &st->d, &st->out);
        if (st->d.done) {
            st->finished = true;
            if (st->d.finish_reason) {
                gen_usage u;
                gen_get_usage(st->g, &u);
                api_stream_end(&st->meta, &u, &st->out);
            } else {
                api_stream_error(st->d.error, &st->out);
            }
            log_generation(st->s, st->route_name, true, st->g, st->d.finish_reason);
        }
        if (sbuf_failed(&st->out)) return MHD_CONTENT_READER_END_WITH_ERROR;
    }
    size_t n = st->out.len - st->pos;
    if (n > max) n = max;
    memcpy(buf, st->out.data + st->pos, n);
    st->pos += n;
    return (ssize_t)n;
}

/* MHD is done with the response: finished, failed, or the client left. */
static void stream_free(void *cls) {
    stream_ctx *st = cls;
    if (!st->finished && st->s->cfg.log_requests) {
        gen_usage u;
        gen_get_usage(st->g, &u);
        fprintf(stderr, "fennec serve: POST %s stream ended early (client gone or server stopping) after %d tokens\n",
                st->route_name, u.completion_tokens);
    }
    gen_free(st->g); /* cancels a request still running: its slot is free for the next step */
    gen_delta_free(&st->d);
    sbuf_free(&st->out);
    api_request_free(&st->req);
    free(st);
}

static enum MHD_Result start_stream(server *s, struct MHD_Connection *c, server_request *r, api_request *req, gen *g) {
    stream_ctx *st = calloc(1, sizeof *st);
    if (!st) {
        gen_free(g);
        api_request_free(req);
        return server_respond(s, c, r, 503, "application/json", NULL, 0);
    }
    st->s = s;
    st->c = c;
    st->req = *req; /* takes ownership; the parser's borrowed tools move along unchanged */
    memset(req, 0, sizeof *req);
    st->g = g;
    st->route_name = r->route_name;
    api_meta_init(&st->meta, st->req.chat, s->name, SERVER_FINGERPRINT, s->model.tok);
    st->meta.include_usage = st->req.include_usage;
    api_stream_begin(&st->meta, &st->out);
    struct MHD_Response *resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, STREAM_BLOCK, stream_read, st, stream_free);
    if (!resp) {
        stream_free(st);
        return MHD_NO;
    }
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "text/event-stream");
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache");
    MHD_add_response_header(resp, "X-Accel-Buffering", "no");
    enum MHD_Result ok = MHD_queue_response(c, MHD_HTTP_OK, resp);
    MHD_destroy_response(resp); /* stream_free runs when MHD lets go of it */
    metrics_request(s->m, r->route_name, 200);
    return ok;
}

/* ---- whole response ------------------------------------------------------------------- */

static enum MHD_Result run_to_end(server *s, struct MHD_Connection *c, server_request *r, api_request *req, gen *g) {
    api_meta meta;
    api_meta_init(&meta, req->chat, s->name, SERVER_FINGERPRINT, s->model.tok);
    api_accum acc;
    api_accum_init(&acc);
    gen_delta d = {0};
    bool gone = false;
    double next_check = server_now() + WAIT_MS / 1000.0;
    for (;;) {
        /* nothing is written until the end, so look at the client every WAIT_MS */
        if (!gone && server_now() >= next_check) {
            next_check = server_now() + WAIT_MS / 1000.0;
            if (atomic_load(&s->stopping) || !server_client_alive(c)) {
                gen_cancel(g);
                gone = true;
            }
        }
        if (!gen_next(g, WAIT_MS, &d)) continue;
        api_accum_add(&acc, &meta, &d, req->logprobs);
        if (d.done) break;
    }
    enum MHD_Result ok;
    log_generation(s, r->route_name, false, g, d.finish_reason);
    restore_timeout(s, c);
    if (gone && !atomic_load(&s->stopping)) {
        ok = MHD_NO; /* nobody to answer */
    } else if (!d.finish_reason) {
        api_error e;
        if (atomic_load(&s->stopping)) api_fail(&e, 503, "server_error", "shutting_down", NULL, "The server is shutting down.");
        else api_fail(&e, 500, "server_error", "generation_failed", NULL, "Generation failed: %s", d.error);
        ok = server_respond_error(s, c, r, &e);
    } else {
        gen_usage u;
        gen_get_usage(g, &u);
        size_t len = 0;
        char *body = api_response_json(&meta, &acc, &u, &len);
        ok = server_respond(s, c, r, 200, "application/json", body, len);
    }
    gen_delta_free(&d);
    api_accum_free(&acc);
    gen_free(g);
    api_request_free(req);
    return ok;
}

enum MHD_Result server_handle_completion(server *s, struct MHD_Connection *c, server_request *r, bool chat) {
    api_error err;
    int st = atomic_load(&s->state);
    if (st != SERVER_READY) {
        if (st == SERVER_FAILED) api_fail(&err, 503, "server_error", "model_load_failed", NULL, "The model failed to load: %s", s->load_error);
        else api_fail(&err, 503, "server_error", "model_loading", NULL, "The model is loading; retry shortly.");
        return server_respond_error(s, c, r, &err);
    }
    api_request req;
    if (api_parse_request(r->body.data ? r->body.data : "", r->body.len, chat, &req, &err))
        return server_respond_error(s, c, r, &err);
    sbuf_free(&r->body);
    if (req.model && strcmp(req.model, s->name)) {
        api_fail(&err, 404, "invalid_request_error", "model_not_found", "model",
                 "The model '%.200s' does not exist; this server serves '%.200s'.", req.model, s->name);
        api_request_free(&req);
        return server_respond_error(s, c, r, &err);
    }
    gen *g = start(s, &req, &err);
    if (!g) {
        api_request_free(&req);
        return server_respond_error(s, c, r, &err);
    }
    suspend_timeout(c);
    return req.stream ? start_stream(s, c, r, &req, g) : run_to_end(s, c, r, &req, g);
}
