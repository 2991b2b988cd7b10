/* scheduler.c - the continuous-batching engine (see scheduler.h).
 *
 * Threads: one engine thread runs steps; callers only touch a request's event queue (under
 * the request's mutex) and the wait queue (under the engine's mutex). A request is owned
 * by two references, the caller's and the engine's; the last one to let go frees it. */
#include "engine/scheduler.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/error.h"

/* While some request is decoding, prompts advance by at most this many tokens per step,
 * so a long prompt does not stall everyone else's next token for a whole 512-token pass. */
#define PREFILL_CHUNK_WHILE_DECODING 128

struct engine_req {
    engine *e;
    /* parameters (immutable after submit) */
    int32_t *prompt;
    int n_prompt;
    int max_tokens, top_logprobs;
    bool logprobs, ignore_eos;
    sampler *smp;
    /* engine-thread state */
    int slot;               /* -1 while queued */
    int prefill_pos;        /* next prompt index to feed */
    int n_generated;
    int32_t last_token;     /* sampled, not yet fed */
    int n_cached;
    double t_submit, t_start, t_first;
    struct engine_req *next;/* wait-queue link */
    /* shared */
    atomic_bool cancelled;
    atomic_int refs;
    pthread_mutex_t mu;     /* protects the event queue */
    pthread_cond_t cv;
    engine_event *events;
    int ev_head, ev_count, ev_cap;
    bool finished;          /* the done event was posted */
};

typedef struct {
    engine_req *req;        /* running request, or NULL */
    int32_t *tokens;        /* tokens whose K/V are in the cache at positions 0..n_tokens-1 */
    int n_tokens, cap;
    uint64_t last_used;     /* admission counter when a request last took the slot */
} slot_state;

struct engine {
    llm *l;
    const tokenizer *tok;
    engine_config cfg;
    int ctx_per_slot;
    int n_vocab;
    pthread_t thread;
    pthread_mutex_t mu;     /* queue, stop flag, stats */
    pthread_cond_t cv;      /* work arrived */
    bool stop;
    engine_req *q_head, *q_tail;
    int n_queued, n_active;
    engine_stats stats;
    slot_state *slots;
    uint64_t admissions;    /* requests admitted so far (slot LRU clock) */
    /* step buffers */
    int32_t *b_tok, *b_pos, *b_seq;
    uint8_t *b_want;
    engine_req **b_req;     /* request of each logits row */
    float *logits;          /* n_slots x n_vocab */
};

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* ---- request lifetime ------------------------------------------------------------------ */

static void req_unref(engine_req *r) {
    if (atomic_fetch_sub(&r->refs, 1) != 1) return;
    sampler_free(r->smp);
    free(r->prompt);
    free(r->events);
    pthread_mutex_destroy(&r->mu);
    pthread_cond_destroy(&r->cv);
    free(r);
}

static void fill_usage(const engine_req *r, engine_event *ev) {
    ev->n_prompt = r->n_prompt;
    ev->n_cached = r->n_cached;
    ev->n_generated = r->n_generated;
    ev->t_queued = r->t_start > 0 ? r->t_start - r->t_submit : now_s() - r->t_submit;
    ev->t_first_token = r->t_first > 0 ? r->t_first - r->t_submit : 0;
}

static void post(engine_req *r, const engine_event *ev) {
    pthread_mutex_lock(&r->mu);
    if (r->ev_count == r->ev_cap) {
        int cap = r->ev_cap ? r->ev_cap * 2 : 16;
        engine_event *g = malloc((size_t)cap * sizeof *g);
        if (!g) { /* cannot queue: drop the token, but a done event must get through */
            if (!ev->done) {
                pthread_mutex_unlock(&r->mu);
                return;
            }
            r->events[(r->ev_head + r->ev_count - 1) % r->ev_cap] = *ev;
            r->finished = true;
            pthread_cond_broadcast(&r->cv);
            pthread_mutex_unlock(&r->mu);
            return;
        }
        for (int i = 0; i < r->ev_count; i++) g[i] = r->events[(r->ev_head + i) % r->ev_cap];
        free(r->events);
        r->events = g;
        r->ev_head = 0;
        r->ev_cap = cap;
    }
    r->events[(r->ev_head + r->ev_count) % r->ev_cap] = *ev;
    r->ev_count++;
    if (ev->done) r->finished = true;
    pthread_cond_broadcast(&r->cv);
    pthread_mutex_unlock(&r->mu);
}

/* Posts the done event and drops the engine's reference. */
static void finish(engine_req *r, engine_finish why, const char *msg) {
    engine_event ev;
    memset(&ev, 0, sizeof ev);
    ev.done = true;
    ev.finish = why;
    if (msg) snprintf(ev.error, sizeof ev.error, "%s", msg);
    fill_usage(r, &ev);
    post(r, &ev);
    req_unref(r);
}

/* ---- public API ----------------------------------------------------------------------- */

engine_req *engine_submit(engine *e, const engine_params *p) {
    if (p->n_prompt <= 0) return fn_error("the prompt is empty"), NULL;
    if (p->n_prompt >= e->ctx_per_slot)
        return fn_error("the prompt has %d tokens but the context holds %d", p->n_prompt, e->ctx_per_slot), NULL;
    if (p->max_tokens < 1) return fn_error("max_tokens must be at least 1"), NULL;
    if (p->top_logprobs < 0 || p->top_logprobs > ENGINE_MAX_TOP_LOGPROBS)
        return fn_error("top_logprobs must be in 0..%d", ENGINE_MAX_TOP_LOGPROBS), NULL;
    for (int i = 0; i < p->n_prompt; i++)
        if (p->prompt[i] < 0 || p->prompt[i] >= e->n_vocab) return fn_error("token id %d is outside the vocabulary", p->prompt[i]), NULL;
    engine_req *r = calloc(1, sizeof *r);
    if (!r) return fn_error("out of memory"), NULL;
    r->e = e;
    r->prompt = malloc((size_t)p->n_prompt * sizeof *r->prompt);
    r->smp = sampler_new(&p->sampling, e->n_vocab);
    if (!r->prompt || !r->smp) {
        sampler_free(r->smp);
        free(r->prompt);
        free(r);
        return NULL;
    }
    memcpy(r->prompt, p->prompt, (size_t)p->n_prompt * sizeof *r->prompt);
    r->n_prompt = p->n_prompt;
    r->max_tokens = p->max_tokens;
    r->top_logprobs = p->top_logprobs;
    r->logprobs = p->logprobs;
    r->ignore_eos = p->ignore_eos;
    r->slot = -1;
    r->t_submit = now_s();
    atomic_init(&r->cancelled, false);
    atomic_init(&r->refs, 2);
    pthread_mutex_init(&r->mu, NULL);
    pthread_cond_init(&r->cv, NULL);

    pthread_mutex_lock(&e->mu);
    if (e->stop || e->n_queued >= e->cfg.queue_limit) {
        bool stopping = e->stop;
        pthread_mutex_unlock(&e->mu);
        atomic_store(&r->refs, 1);
        req_unref(r);
        return fn_error(stopping ? "the engine is shutting down" : "too many requests are waiting (queue full)"), NULL;
    }
    if (e->q_tail) e->q_tail->next = r;
    else e->q_head = r;
    e->q_tail = r;
    e->n_queued++;
    pthread_cond_signal(&e->cv);
    pthread_mutex_unlock(&e->mu);
    return r;
}

int engine_next_event(engine_req *r, engine_event *ev, int timeout_ms) {
    pthread_mutex_lock(&r->mu);
    if (r->ev_count == 0 && timeout_ms != 0) {
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        if (timeout_ms > 0) {
            until.tv_sec += timeout_ms / 1000;
            until.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
            if (until.tv_nsec >= 1000000000L) {
                until.tv_sec++;
                until.tv_nsec -= 1000000000L;
            }
        }
        while (r->ev_count == 0) {
            if (timeout_ms < 0) {
                pthread_cond_wait(&r->cv, &r->mu);
            } else if (pthread_cond_timedwait(&r->cv, &r->mu, &until) == ETIMEDOUT) {
                break;
            }
        }
    }
    int got = 0;
    if (r->ev_count > 0) {
        *ev = r->events[r->ev_head];
        r->ev_head = (r->ev_head + 1) % r->ev_cap;
        r->ev_count--;
        got = 1;
    }
    pthread_mutex_unlock(&r->mu);
    return got;
}

void engine_cancel(engine_req *r) {
    atomic_store(&r->cancelled, true);
    engine *e = r->e;
    pthread_mutex_lock(&e->mu);
    pthread_cond_signal(&e->cv);
    pthread_mutex_unlock(&e->mu);
}

void engine_release(engine_req *r) {
    if (!r) return;
    engine_cancel(r);
    req_unref(r);
}

void engine_get_stats(engine *e, engine_stats *s) {
    pthread_mutex_lock(&e->mu);
    *s = e->stats;
    s->queued = e->n_queued;
    s->active = e->n_active;
    s->n_slots = e->cfg.n_slots;
    pthread_mutex_unlock(&e->mu);
}

int engine_ctx_per_slot(const engine *e) { return e->ctx_per_slot; }

/* ---- the engine thread ------------------------------------------------------------------ */

static int common_prefix(const int32_t *a, int na, const int32_t *b, int nb) {
    int n = na < nb ? na : nb, i = 0;
    while (i < n && a[i] == b[i]) i++;
    return i;
}

static bool slot_append(slot_state *s, const int32_t *tok, int n) {
    if (s->n_tokens + n > s->cap) {
        int cap = s->cap ? s->cap : 256;
        while (cap < s->n_tokens + n) cap *= 2;
        int32_t *g = realloc(s->tokens, (size_t)cap * sizeof *g);
        if (!g) return false;
        s->tokens = g;
        s->cap = cap;
    }
    memcpy(s->tokens + s->n_tokens, tok, (size_t)n * sizeof *tok);
    s->n_tokens += n;
    return true;
}

/* Moves waiting requests into free slots, preferring the slot whose cached tokens share
 * the longest prefix with the prompt. Called with e->mu held. */
static void admit(engine *e) {
    engine_req **link = &e->q_head, *prev = NULL;
    while (*link) {
        engine_req *r = *link;
        if (atomic_load(&r->cancelled)) {
            *link = r->next;
            if (e->q_tail == r) e->q_tail = prev;
            e->n_queued--;
            finish(r, ENGINE_FINISH_CANCELLED, NULL);
            continue;
        }
        int best = -1, best_len = -1;
        for (int s = 0; s < e->cfg.n_slots; s++) {
            if (e->slots[s].req) continue;
            int len = common_prefix(e->slots[s].tokens, e->slots[s].n_tokens, r->prompt, r->n_prompt);
            /* ties go to the least recently used slot, so a conversation that shares nothing
             * with the prompt does not evict the cache another client is about to reuse */
            if (len > best_len || (len == best_len && e->slots[s].last_used < e->slots[best].last_used)) {
                best = s;
                best_len = len;
            }
        }
        if (best < 0) break; /* no free slot: keep FIFO order */
        *link = r->next;
        if (e->q_tail == r) e->q_tail = prev;
        e->n_queued--;
        e->n_active++;
        slot_state *s = &e->slots[best];
        /* keep the shared prefix, but always compute the last prompt token (its logits) */
        int reuse = best_len < r->n_prompt - 1 ? best_len : r->n_prompt - 1;
        kv_seq_truncate(e->l->kv, best, reuse);
        s->n_tokens = reuse;
        s->req = r;
        s->last_used = ++e->admissions;
        r->slot = best;
        r->prefill_pos = reuse;
        r->n_cached = reuse;
        r->t_start = now_s();
        e->stats.tokens_cached += (uint64_t)reuse;
    }
}

static void release_slot(engine *e, engine_req *r) {
    e->slots[r->slot].req = NULL;
    pthread_mutex_lock(&e->mu);
    e->n_active--;
    pthread_mutex_unlock(&e->mu);
}

static void emit_token(engine *e, engine_req *r, const float *logits_row) {
    engine_event ev;
    memset(&ev, 0, sizeof ev);
    float *row = (float *)logits_row;
    int n_top = r->top_logprobs;
    ev.token = sampler_sample(r->smp, row, n_top ? ev.top : NULL, n_top, r->logprobs || n_top ? &ev.logprob : NULL);
    ev.n_top = n_top;
    if (r->t_first == 0) r->t_first = now_s();
    bool eog = !r->ignore_eos && tokenizer_is_eog(e->tok, ev.token);
    if (eog) {
        release_slot(e, r);
        finish(r, ENGINE_FINISH_EOG, NULL);
        return;
    }
    r->n_generated++;
    sampler_accept(r->smp, ev.token);
    r->last_token = ev.token;
    fill_usage(r, &ev);
    post(r, &ev);
    slot_state *s = &e->slots[r->slot];
    if (r->n_generated >= r->max_tokens || s->n_tokens + 1 >= e->ctx_per_slot) {
        release_slot(e, r);
        finish(r, ENGINE_FINISH_LENGTH, NULL);
    }
}

static bool step(engine *e) {
    int n = 0, n_rows = 0, budget = e->cfg.step_tokens, prefilled = 0;
    bool decoding = false;
    /* cancelled requests leave first */
    for (int s = 0; s < e->cfg.n_slots; s++) {
        engine_req *r = e->slots[s].req;
        if (r && atomic_load(&r->cancelled)) {
            release_slot(e, r);
            finish(r, ENGINE_FINISH_CANCELLED, NULL);
        }
    }
    /* decode tokens: one per running request past its prompt */
    for (int s = 0; s < e->cfg.n_slots; s++) {
        engine_req *r = e->slots[s].req;
        if (!r || r->prefill_pos < r->n_prompt) continue;
        slot_state *ss = &e->slots[s];
        e->b_tok[n] = r->last_token;
        e->b_pos[n] = ss->n_tokens;
        e->b_seq[n] = s;
        e->b_want[n] = 1;
        e->b_req[n_rows++] = r;
        slot_append(ss, &r->last_token, 1);
        n++;
        budget--;
        decoding = true;
    }
    /* prompt chunks */
    int chunk_cap = decoding ? PREFILL_CHUNK_WHILE_DECODING : budget;
    for (int s = 0; s < e->cfg.n_slots && budget > 0; s++) {
        engine_req *r = e->slots[s].req;
        if (!r || r->prefill_pos >= r->n_prompt) continue;
        slot_state *ss = &e->slots[s];
        int take = r->n_prompt - r->prefill_pos;
        if (take > budget) take = budget;
        if (take > chunk_cap) take = chunk_cap;
        for (int i = 0; i < take; i++) {
            e->b_tok[n] = r->prompt[r->prefill_pos + i];
            e->b_pos[n] = ss->n_tokens + i;
            e->b_seq[n] = s;
            e->b_want[n] = 0;
            n++;
        }
        slot_append(ss, r->prompt + r->prefill_pos, take);
        r->prefill_pos += take;
        budget -= take;
        if (r->prefill_pos == r->n_prompt) {
            e->b_want[n - 1] = 1;
            e->b_req[n_rows++] = r;
        }
        prefilled += take;
    }
    if (n == 0) return false;
    /* logits rows come back in batch order of the wanted tokens: decode tokens first (slot
     * order), then the last token of each completed prompt, which is how b_req was filled */
    int k = n_rows;
    fwd_batch b = {n, e->b_tok, e->b_pos, e->b_seq, e->b_want};
    int rows = forward_run(e->l->fwd, &b, e->logits);
    if (rows != k) {
        char msg[256];
        snprintf(msg, sizeof msg, "forward pass failed: %s", fn_errmsg());
        for (int s = 0; s < e->cfg.n_slots; s++) {
            engine_req *r = e->slots[s].req;
            if (!r) continue;
            e->slots[s].n_tokens = 0;
            kv_seq_truncate(e->l->kv, s, 0);
            release_slot(e, r);
            finish(r, ENGINE_FINISH_ERROR, msg);
        }
        return true;
    }
    for (int i = 0; i < k; i++) emit_token(e, e->b_req[i], e->logits + (size_t)i * e->n_vocab);
    pthread_mutex_lock(&e->mu);
    e->stats.tokens_prefilled += (uint64_t)prefilled;
    e->stats.tokens_generated += (uint64_t)k;
    e->stats.steps++;
    pthread_mutex_unlock(&e->mu);
    return true;
}

static void *engine_main(void *arg) {
    engine *e = arg;
    for (;;) {
        pthread_mutex_lock(&e->mu);
        admit(e);
        while (!e->stop && e->n_active == 0 && !(e->q_head && e->n_active < e->cfg.n_slots)) {
            pthread_cond_wait(&e->cv, &e->mu);
            admit(e);
        }
        bool stop = e->stop;
        pthread_mutex_unlock(&e->mu);
        if (stop) break;
        step(e);
    }
    return NULL;
}

engine *engine_new(llm *l, const tokenizer *tok, const engine_config *cfg) {
    if (cfg->n_slots < 1 || cfg->n_slots > 1024) return fn_error("parallel sequences must be 1..1024"), NULL;
    engine *e = calloc(1, sizeof *e);
    if (!e) return fn_error("out of memory"), NULL;
    e->l = l;
    e->tok = tok;
    e->cfg = *cfg;
    if (e->cfg.step_tokens <= 0) e->cfg.step_tokens = 512;
    if (e->cfg.step_tokens < e->cfg.n_slots) e->cfg.step_tokens = e->cfg.n_slots;
    if (e->cfg.queue_limit < 0) e->cfg.queue_limit = 0;
    e->ctx_per_slot = l->n_ctx / cfg->n_slots;
    e->n_vocab = (int)l->m->hp.n_vocab;
    size_t st = (size_t)e->cfg.step_tokens;
    e->slots = calloc((size_t)cfg->n_slots, sizeof *e->slots);
    e->b_tok = malloc(st * sizeof *e->b_tok);
    e->b_pos = malloc(st * sizeof *e->b_pos);
    e->b_seq = malloc(st * sizeof *e->b_seq);
    e->b_want = malloc(st);
    e->b_req = malloc(st * sizeof *e->b_req);
    e->logits = malloc((size_t)cfg->n_slots * (size_t)e->n_vocab * sizeof *e->logits);
    if (!e->slots || !e->b_tok || !e->b_pos || !e->b_seq || !e->b_want || !e->b_req || !e->logits ||
        cfg->n_slots > 4096) {
        engine_free(e);
        return fn_error("out of memory"), NULL;
    }
    pthread_mutex_init(&e->mu, NULL);
    pthread_cond_init(&e->cv, NULL);
    if (pthread_create(&e->thread, NULL, engine_main, e)) {
        free(e->slots);
        e->slots = NULL;
        engine_free(e);
        return fn_error("cannot start the engine thread"), NULL;
    }
    return e;
}

void engine_free(engine *e) {
    if (!e) return;
    if (e->slots) {
        pthread_mutex_lock(&e->mu);
        e->stop = true;
        pthread_cond_signal(&e->cv);
        pthread_mutex_unlock(&e->mu);
        pthread_join(e->thread, NULL);
        for (int s = 0; s < e->cfg.n_slots; s++) {
            if (e->slots[s].req) finish(e->slots[s].req, ENGINE_FINISH_CANCELLED, "server shutting down");
            free(e->slots[s].tokens);
        }
        while (e->q_head) {
            engine_req *r = e->q_head;
            e->q_head = r->next;
            finish(r, ENGINE_FINISH_CANCELLED, "server shutting down");
        }
        pthread_mutex_destroy(&e->mu);
        pthread_cond_destroy(&e->cv);
    }
    free(e->slots);
    free(e->b_tok);
    free(e->b_pos);
    free(e->b_seq);
    free(e->b_want);
    free(e->b_req);
    free(e->logits);
    free(e);
}
