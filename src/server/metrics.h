/* metrics.h - the server's counters and latency histograms, rendered in Prometheus text
 * format for GET /metrics. Updated from any connection thread (one mutex; updates are a
 * few additions). Label values come from fixed lists, so the series count stays bounded
 * whatever clients send. */
#ifndef FENNEC_SERVER_METRICS_H
#define FENNEC_SERVER_METRICS_H

#include <stdbool.h>

#include "engine/scheduler.h"
#include "server/sbuf.h"

typedef struct metrics metrics;

/* NULL when out of memory. */
metrics *metrics_new(void);
void metrics_free(metrics *m);

/* A response was sent (route is the matched route, or anything else -> "other"). */
void metrics_request(metrics *m, const char *route, int status);

/* A generation finished: its prompt tokens, the part of them taken from the cache, and
 * the tokens it generated. */
void metrics_tokens(metrics *m, int prompt, int cached, int generated);

void metrics_ttft(metrics *m, double seconds);        /* time to first token */
void metrics_itl(metrics *m, double seconds);         /* time between two tokens of a stream */
void metrics_inflight(metrics *m, int delta);         /* generations being served (+1 / -1) */

/* Appends the Prometheus text. st: the engine's numbers, or NULL while the model loads. */
void metrics_render(metrics *m, const engine_stats *st, bool ready, sbuf *out);

#endif
