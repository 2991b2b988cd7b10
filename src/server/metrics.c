/* metrics.c - Prometheus counters and histograms (see metrics.h). */
#include "server/metrics.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const routes[] = {"/health", "/v1/models", "/v1/chat/completions", "/v1/completions", "/metrics", "other"};
#define N_ROUTES (sizeof routes / sizeof routes[0])
static const int statuses[] = {200, 400, 404, 405, 413, 429, 500, 503, 0 /* other */};
#define N_STATUS (sizeof statuses / sizeof statuses[0])

static const double ttft_bounds[] = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60};
static const double itl_bounds[] = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5};
#define MAX_BUCKETS 16

typedef struct {
    const double *bounds;
    int n_bounds;
    uint64_t counts[MAX_BUCKETS]; /* per bucket, not cumulative; last = +Inf */
    uint64_t n;
    double sum;
} histogram;

typedef struct {
    uint64_t requests[N_ROUTES][N_STATUS];
    uint64_t prompt_tokens, cached_tokens, generated_tokens, generations;
    int inflight;
    histogram ttft, itl;
} counters;

struct metrics {
    pthread_mutex_t mu;     /* guards c */
    counters c;
};

metrics *metrics_new(void) {
    metrics *m = calloc(1, sizeof *m);
    if (!m) return NULL;
    pthread_mutex_init(&m->mu, NULL);
    m->c.ttft.bounds = ttft_bounds;
    m->c.ttft.n_bounds = (int)(sizeof ttft_bounds / sizeof *ttft_bounds);
    m->c.itl.bounds = itl_bounds;
    m->c.itl.n_bounds = (int)(sizeof itl_bounds / sizeof *itl_bounds);
    return m;
}

void metrics_free(metrics *m) {
    if (!m) return;
    pthread_mutex_destroy(&m->mu);
    free(m);
}

void metrics_request(metrics *m, const char *route, int status) {
    if (!m) return;
    size_t r = N_ROUTES - 1, s = N_STATUS - 1;
    for (size_t i = 0; route && i < N_ROUTES - 1; i++)
        if (!strcmp(route, routes[i])) r = i;
    for (size_t i = 0; i < N_STATUS - 1; i++)
        if (statuses[i] == status) s = i;
    pthread_mutex_lock(&m->mu);
    m->c.requests[r][s]++;
    pthread_mutex_unlock(&m->mu);
}

void metrics_tokens(metrics *m, int prompt, int cached, int generated) {
    if (!m) return;
    pthread_mutex_lock(&m->mu);
    m->c.prompt_tokens += (uint64_t)(prompt > 0 ? prompt : 0);
    m->c.cached_tokens += (uint64_t)(cached > 0 ? cached : 0);
    m->c.generated_tokens += (uint64_t)(generated > 0 ? generated : 0);
    m->c.generations++;
    pthread_mutex_unlock(&m->mu);
}

static void observe(metrics *m, histogram *h, double v) {
    if (!m) return;
    int b = 0;
    while (b < h->n_bounds && v > h->bounds[b]) b++;
    pthread_mutex_lock(&m->mu);
    h->counts[b]++;
    h->n++;
    h->sum += v;
    pthread_mutex_unlock(&m->mu);
}

void metrics_ttft(metrics *m, double seconds) {
    if (m) observe(m, &m->c.ttft, seconds);
}

void metrics_itl(metrics *m, double seconds) {
    if (m) observe(m, &m->c.itl, seconds);
}

void metrics_inflight(metrics *m, int delta) {
    if (!m) return;
    pthread_mutex_lock(&m->mu);
    m->c.inflight += delta;
    pthread_mutex_unlock(&m->mu);
}

static void render_histogram(sbuf *out, const char *name, const char *help, const histogram *h) {
    sbuf_printf(out, "# HELP %s %s\n# TYPE %s histogram\n", name, help, name);
    uint64_t cum = 0;
    for (int b = 0; b < h->n_bounds; b++) {
        cum += h->counts[b];
        sbuf_printf(out, "%s_bucket{le=\"%g\"} %llu\n", name, h->bounds[b], (unsigned long long)cum);
    }
    cum += h->counts[h->n_bounds];
    sbuf_printf(out, "%s_bucket{le=\"+Inf\"} %llu\n", name, (unsigned long long)cum);
    sbuf_printf(out, "%s_sum %.6f\n%s_count %llu\n", name, h->sum, name, (unsigned long long)h->n);
}

static void counter(sbuf *out, const char *name, const char *help, uint64_t v) {
    sbuf_printf(out, "# HELP %s %s\n# TYPE %s counter\n%s %llu\n", name, help, name, name, (unsigned long long)v);
}

static void gauge(sbuf *out, const char *name, const char *help, long long v) {
    sbuf_printf(out, "# HELP %s %s\n# TYPE %s gauge\n%s %lld\n", name, help, name, name, v);
}

void metrics_render(metrics *m, const engine_stats *st, bool ready, sbuf *out) {
    counters c;
    pthread_mutex_lock(&m->mu);
    c = m->c;
    pthread_mutex_unlock(&m->mu);

    sbuf_adds(out, "# HELP fennec_requests_total HTTP responses sent, by route and status.\n"
                   "# TYPE fennec_requests_total counter\n");
    for (size_t r = 0; r < N_ROUTES; r++)
        for (size_t s = 0; s < N_STATUS; s++) {
            if (!c.requests[r][s]) continue;
            char status[16];
            if (statuses[s]) snprintf(status, sizeof status, "%d", statuses[s]);
            else snprintf(status, sizeof status, "other");
            sbuf_printf(out, "fennec_requests_total{route=\"%s\",status=\"%s\"} %llu\n", routes[r], status,
                        (unsigned long long)c.requests[r][s]);
        }
    counter(out, "fennec_generations_total", "Generations finished (any reason).", c.generations);
    counter(out, "fennec_prompt_tokens_total", "Prompt tokens of finished generations.", c.prompt_tokens);
    counter(out, "fennec_prompt_cached_tokens_total", "Prompt tokens reused from the cache (not computed).", c.cached_tokens);
    counter(out, "fennec_generated_tokens_total", "Tokens generated by finished generations.", c.generated_tokens);
    render_histogram(out, "fennec_time_to_first_token_seconds", "Seconds from a request's submission to its first token.", &c.ttft);
    render_histogram(out, "fennec_inter_token_latency_seconds", "Seconds between consecutive tokens of a generation.", &c.itl);
    gauge(out, "fennec_model_loaded", "1 once the model is loaded and requests are served.", ready ? 1 : 0);
    gauge(out, "fennec_requests_inflight", "Generations being served (queued or running).", c.inflight);
    gauge(out, "fennec_queue_depth", "Requests waiting for a sequence slot.", st ? st->queued : 0);
    gauge(out, "fennec_active_sequences", "Sequences being prefilled or decoded.", st ? st->active : 0);
    gauge(out, "fennec_sequence_slots", "Sequence slots (--parallel).", st ? st->n_slots : 0);
    if (st) {
        counter(out, "fennec_engine_steps_total", "Forward steps run by the engine.", st->steps);
        counter(out, "fennec_engine_prefilled_tokens_total", "Prompt tokens computed by the engine.", st->tokens_prefilled);
        counter(out, "fennec_engine_generated_tokens_total", "Tokens sampled by the engine.", st->tokens_generated);
        counter(out, "fennec_engine_cached_tokens_total", "Prompt tokens the engine took from the cache.", st->tokens_cached);
    }
}
