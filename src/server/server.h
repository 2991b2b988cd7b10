/* server.h - `fennec serve`: an OpenAI-compatible HTTP server (libmicrohttpd, one thread
 * per connection) in front of the continuous-batching engine.
 *
 * Routes: GET /health (503 while the model loads, then 200), GET /v1/models[/NAME],
 * POST /v1/chat/completions, POST /v1/completions, GET /metrics (Prometheus text). The
 * paths also answer without the /v1 prefix. Every error is a JSON body in OpenAI's shape.
 *
 * The server listens first and loads the model in a background thread, so health checks
 * can watch the load. A streaming client that disconnects has its sequence cancelled. */
#ifndef FENNEC_SERVER_SERVER_H
#define FENNEC_SERVER_SERVER_H

#include <stdbool.h>
#include <stddef.h>

typedef struct {
    const char *model_path;     /* GGUF file (required) */
    const char *host;           /* address to bind (NULL: 127.0.0.1) */
    int port;                   /* 0: any free port (see server_port) */
    int parallel;               /* sequences decoded together (>= 1) */
    int ctx;                    /* context positions per request (0: min(4096, trained)) */
    int threads;                /* compute threads (0: all cores) */
    const char *model_name;     /* name in the API (NULL: the file name without .gguf) */
    const char *chat_template;  /* Jinja source replacing the model's (NULL: the model's) */
    int max_tokens;             /* cap on generated tokens per request (0: none) */
    int queue_limit;            /* requests that may wait for a slot (all taken) before 429 */
    size_t max_body;            /* request body limit in bytes (413 beyond) */
    int timeout_s;              /* idle connection timeout (slow or silent clients) */
    bool log_requests;          /* one line per generation on stderr */
} server_config;

typedef struct server server;

/* Binds and starts serving, then loads the model in the background. Returns NULL with
 * fn_errmsg() if the address cannot be bound or the configuration is invalid. */
server *server_start(const server_config *cfg);

/* The port actually bound. */
int server_port(const server *s);

typedef enum { SERVER_LOADING, SERVER_READY, SERVER_FAILED } server_state;

/* Where loading stands; on SERVER_FAILED the reason is copied to msg. */
server_state server_get_state(server *s, char *msg, size_t msg_size);

/* Stops accepting, ends running requests, waits for connection threads and frees all. */
void server_stop(server *s);

#endif
