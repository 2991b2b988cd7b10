/* gen.c - engine events -> API deltas (see gen.h).
 *
 * Per token: detokenizer (valid UTF-8 pieces) -> stop strings (text that may start a stop
 * string is held back) -> output parser (content / reasoning / tool calls). A stop string
 * cancels the request in the engine; tokens still in flight after it are ignored. */
#include "server/gen.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/error.h"
#include "base/rng.h"
#include "engine/stop_matcher.h"

struct gen {
    engine_req *req;
    const tokenizer *tok;
    metrics *m;
    detok_state dt;
    stop_matcher stop;
    chat_parser *parser;
    bool want_logprobs;
    /* progress */
    bool done;              /* the done delta was handed out */
    bool stopped;           /* a stop string matched (engine cancel asked) */
    bool cancelled;         /* gen_cancel */
    int n_tokens;           /* tokens consumed (up to a stop string) */
    int n_reasoning;        /* of which while inside reasoning */
    int n_prompt, n_cached;
    double t_submit, t_first, t_last, t_queued, t_end;
    bool in_reasoning;      /* the parser's last text event was reasoning */
    gen_delta *cur;         /* the delta being filled (during gen_next) */
};

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

void gen_call_id(char out[40]) {
    static const char alnum[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    static atomic_uint_fast64_t counter;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    fn_rng r;
    fn_rng_seed(&r, (uint64_t)ts.tv_nsec * 0x9E3779B97F4A7C15ull ^ (uint64_t)ts.tv_sec ^
                        (atomic_fetch_add(&counter, 1) << 32));
    memcpy(out, "call_", 5);
    for (int i = 0; i < 24; i++) out[5 + i] = alnum[fn_rng_next(&r) % (sizeof alnum - 1)];
    out[29] = 0;
}

void gen_delta_free(gen_delta *d) {
    sbuf_free(&d->content);
    sbuf_free(&d->reasoning);
    for (int i = 0; i < d->n_tools; i++) {
        free(d->tools[i].name);
        sbuf_free(&d->tools[i].args);
    }
    free(d->tools);
    free(d->lps);
    memset(d, 0, sizeof *d);
}

static void delta_reset(gen_delta *d) {
    sbuf_clear(&d->content);
    sbuf_clear(&d->reasoning);
    for (int i = 0; i < d->n_tools; i++) {
        free(d->tools[i].name);
        sbuf_free(&d->tools[i].args);
    }
    d->n_tools = 0;
    d->n_lps = 0;
    d->done = false;
    d->finish_reason = NULL;
    d->error[0] = 0;
}

/* The delta entry for call `index`: the last entry if it is that call (and fresh is
 * false), else a new one. */
static gen_tool_delta *tool_entry(gen_delta *d, int index, bool fresh) {
    if (!fresh && d->n_tools && d->tools[d->n_tools - 1].index == index) return &d->tools[d->n_tools - 1];
    if (d->n_tools == d->cap_tools) {
        int cap = d->cap_tools ? d->cap_tools * 2 : 4;
        gen_tool_delta *t = realloc(d->tools, (size_t)cap * sizeof *t);
        if (!t) return NULL;
        d->tools = t;
        d->cap_tools = cap;
    }
    gen_tool_delta *t = &d->tools[d->n_tools++];
    memset(t, 0, sizeof *t);
    t->index = index;
    return t;
}

static int on_parse(const chat_event *ev, void *ud) {
    gen *g = ud;
    gen_delta *d = g->cur;
    gen_tool_delta *t;
    switch (ev->kind) {
    case CHAT_EV_CONTENT:
        sbuf_add(&d->content, ev->text, ev->len);
        g->in_reasoning = false;
        break;
    case CHAT_EV_REASONING:
        sbuf_add(&d->reasoning, ev->text, ev->len);
        g->in_reasoning = true;
        break;
    case CHAT_EV_TOOL_BEGIN:
        g->in_reasoning = false;
        /* a call starts its own entry, so its id and name go on its first delta */
        if (!(t = tool_entry(d, ev->index, true))) return fn_error("out of memory");
        gen_call_id(t->id);
        if (!(t->name = strndup(ev->text, ev->len))) return fn_error("out of memory");
        break;
    case CHAT_EV_TOOL_ARGS:
        if (!(t = tool_entry(d, ev->index, false))) return fn_error("out of memory");
        sbuf_add(&t->args, ev->text, ev->len);
        break;
    case CHAT_EV_TOOL_END:
        break; /* the fragments already carried the whole arguments */
    }
    return sbuf_failed(&d->content) || sbuf_failed(&d->reasoning) ? fn_error("out of memory") : 0;
}

/* Text released by the stop matcher -> parser (or straight to content). */
static int feed_text(gen *g, const char *text, size_t len) {
    if (!len) return 0;
    if (g->parser) return chat_parser_push(g->parser, text, len, on_parse, g);
    chat_event ev = {CHAT_EV_CONTENT, -1, text, len, false};
    return on_parse(&ev, g);
}

static void add_logprob(gen *g, const engine_event *ev) {
    gen_delta *d = g->cur;
    if (d->n_lps == d->cap_lps) {
        int cap = d->cap_lps ? d->cap_lps * 2 : 8;
        gen_logprob *l = realloc(d->lps, (size_t)cap * sizeof *l);
        if (!l) return;
        d->lps = l;
        d->cap_lps = cap;
    }
    gen_logprob *l = &d->lps[d->n_lps++];
    l->token = ev->token;
    l->logprob = ev->logprob;
    l->n_top = ev->n_top;
    memcpy(l->top, ev->top, (size_t)ev->n_top * sizeof *ev->top);
}

static void on_token(gen *g, const engine_event *ev) {
    double t = now_s();
    if (g->n_tokens == 0) {
        g->t_first = t;
        metrics_ttft(g->m, ev->t_first_token > 0 ? ev->t_first_token : t - g->t_submit);
    } else {
        metrics_itl(g->m, t - g->t_last);
    }
    g->t_last = t;
    g->n_tokens++;
    if (g->want_logprobs) add_logprob(g, ev);
    const char *piece, *out;
    size_t plen, olen;
    if (detok_push(&g->dt, ev->token, &piece, &plen)) return;
    bool hit = stop_matcher_push(&g->stop, piece, plen, &out, &olen);
    if (feed_text(g, out, olen)) snprintf(g->cur->error, sizeof g->cur->error, "%s", fn_errmsg());
    if (g->in_reasoning) g->n_reasoning++;
    if (hit) {
        g->stopped = true;
        engine_cancel(g->req);
    }
}

/* End of output: flush what the detokenizer, stop matcher and parser hold. */
static void flush_all(gen *g) {
    const char *piece, *out;
    size_t plen, olen;
    if (!g->stopped && g->tok && detok_flush(&g->dt, &piece, &plen) == 0) {
        if (stop_matcher_push(&g->stop, piece, plen, &out, &olen)) g->stopped = true;
        feed_text(g, out, olen);
    }
    if (!g->stopped) {
        stop_matcher_flush(&g->stop, &out, &olen);
        feed_text(g, out, olen);
    }
    if (g->parser && chat_parser_finish(g->parser, on_parse, g) && !g->cur->error[0])
        snprintf(g->cur->error, sizeof g->cur->error, "%s", fn_errmsg());
}

static void on_done(gen *g, const engine_event *ev) {
    gen_delta *d = g->cur;
    g->n_prompt = ev->n_prompt;
    g->n_cached = ev->n_cached;
    g->t_end = now_s();
    flush_all(g);
    d->done = true;
    g->done = true;
    bool calls = g->parser && chat_parser_tool_count(g->parser) > 0;
    if (g->stopped || ev->finish == ENGINE_FINISH_EOG) d->finish_reason = calls ? "tool_calls" : "stop";
    else if (ev->finish == ENGINE_FINISH_LENGTH) d->finish_reason = "length";
    else if (ev->finish == ENGINE_FINISH_ERROR) snprintf(d->error, sizeof d->error, "%s", ev->error[0] ? ev->error : "generation failed");
    else snprintf(d->error, sizeof d->error, "%s", ev->error[0] ? ev->error : "the request was cancelled");
    metrics_tokens(g->m, g->n_prompt, g->n_cached, g->n_tokens);
}

static gen *gen_new(const gen_params *p) {
    gen *g = calloc(1, sizeof *g);
    if (!g) return fn_error("out of memory"), NULL;
    g->tok = p->tok;
    g->m = p->m;
    g->want_logprobs = p->engine.logprobs || p->engine.top_logprobs > 0;
    g->n_prompt = p->n_prompt;
    if (p->tok) {
        detok_init(&g->dt, p->tok, false);
        g->dt.strip_space = false; /* text generated after a prompt keeps its leading space */
    }
    if (stop_matcher_init(&g->stop, (const char *const *)p->stops, p->n_stops)) {
        detok_free(&g->dt);
        free(g);
        return NULL;
    }
    if (p->parser.family) {
        g->parser = chat_parser_new(&p->parser);
        if (!g->parser) {
            gen_free(g);
            return NULL;
        }
    }
    g->t_submit = now_s();
    return g;
}

gen *gen_start(engine *e, const gen_params *p) {
    gen *g = gen_new(p);
    if (!g) return NULL;
    engine_params ep = p->engine;
    ep.prompt = p->prompt;
    ep.n_prompt = p->n_prompt;
    g->req = engine_submit(e, &ep);
    if (!g->req) {
        char msg[512];
        snprintf(msg, sizeof msg, "%s", fn_errmsg());
        gen_free(g);
        fn_error("%s", msg);
        return NULL;
    }
    metrics_inflight(g->m, 1);
    return g;
}

gen *gen_start_text(const gen_params *p) { return gen_new(p); }

void gen_push_text(gen *g, const char *text, size_t len, gen_delta *d) {
    delta_reset(d);
    if (g->done || g->stopped) return;
    g->cur = d;
    g->n_tokens++;
    const char *out;
    size_t olen;
    bool hit = stop_matcher_push(&g->stop, text, len, &out, &olen);
    if (feed_text(g, out, olen)) snprintf(d->error, sizeof d->error, "%s", fn_errmsg());
    if (g->in_reasoning) g->n_reasoning++;
    g->stopped |= hit;
    g->cur = NULL;
}

void gen_end_text(gen *g, engine_finish why, gen_delta *d) {
    delta_reset(d);
    if (g->done) return;
    engine_event ev;
    memset(&ev, 0, sizeof ev);
    ev.done = true;
    ev.finish = why;
    ev.n_prompt = g->n_prompt;
    g->cur = d;
    on_done(g, &ev);
    g->cur = NULL;
}

int gen_next(gen *g, int timeout_ms, gen_delta *d) {
    delta_reset(d);
    if (g->done) return 0;
    engine_event ev;
    if (!engine_next_event(g->req, &ev, timeout_ms)) return 0;
    g->cur = d;
    /* drain what is ready too: a client that reads slowly gets fewer, larger chunks */
    for (int n = 0;; n++) {
        if (ev.done) {
            g->t_queued = ev.t_queued;
            on_done(g, &ev);
            break;
        }
        if (!g->stopped) on_token(g, &ev);
        if (n >= 256 || !engine_next_event(g->req, &ev, 0)) break;
    }
    g->cur = NULL;
    return 1;
}

void gen_cancel(gen *g) {
    if (g && g->req && !g->done) {
        g->cancelled = true;
        engine_cancel(g->req);
    }
}

void gen_get_usage(const gen *g, gen_usage *u) {
    memset(u, 0, sizeof *u);
    u->prompt_tokens = g->n_prompt;
    u->cached_tokens = g->n_cached;
    u->completion_tokens = g->n_tokens;
    u->reasoning_tokens = g->n_reasoning;
    u->t_queued = g->t_queued;
    u->t_first_token = g->t_first > 0 ? g->t_first - g->t_submit : 0;
    u->t_total = (g->t_end > 0 ? g->t_end : now_s()) - g->t_submit;
}

int gen_tool_count(const gen *g) { return g->parser ? chat_parser_tool_count(g->parser) : 0; }

void gen_free(gen *g) {
    if (!g) return;
    if (g->req) {
        engine_release(g->req);
        metrics_inflight(g->m, -1);
    }
    chat_parser_free(g->parser);
    stop_matcher_free(&g->stop);
    detok_free(&g->dt);
    free(g);
}
