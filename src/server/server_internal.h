/* server_internal.h - what server.c (HTTP, routing, lifecycle) and server_completions.c
 * (the generation endpoints) share. Not for use outside src/server/. */
#ifndef FENNEC_SERVER_SERVER_INTERNAL_H
#define FENNEC_SERVER_SERVER_INTERNAL_H

#include <microhttpd.h>
#include <pthread.h>
#include <stdatomic.h>

#include "chat/chat_template.h"
#include "chat/output_parser.h"
#include "engine/llm.h"
#include "engine/scheduler.h"
#include "server/api_request.h"
#include "server/metrics.h"
#include "server/sbuf.h"
#include "server/server.h"
#include "tok/tokenizer.h"

#define SERVER_FINGERPRINT "fennec-0.1.0"

/* Everything the background loader builds; read-only once state is SERVER_READY. */
typedef struct {
    llm *l;
    tokenizer *tok;
    chat_template *tmpl;
    const chat_parser_family *family;   /* output parser family of the template */
    char *bos_text, *eos_text;          /* the template's bos_token / eos_token ("" if none) */
    engine *eng;
    int ctx;                            /* positions per request */
    int n_ctx_train;
    size_t max_token_bytes;             /* longest token text: bounds tokens from below */
} server_model;

struct server {
    server_config cfg;          /* strings below are owned copies */
    char *name;                 /* model name in the API */
    char *tmpl_src;             /* --chat-template source, or NULL */
    struct MHD_Daemon *mhd;
    int port;
    long long started;          /* unix time, for /v1/models */
    metrics *m;
    pthread_t loader;
    bool loader_started;
    atomic_int state;           /* server_state; SERVER_READY publishes `model` */
    char load_error[512];
    server_model model;
    atomic_bool stopping;
};

/* Per-request state kept between MHD's calls of the access handler. */
typedef struct {
    int route;                  /* ROUTE_* */
    const char *route_name;     /* for metrics */
    sbuf body;
    bool answered;              /* a response was queued early (before the body) */
} server_request;

/* Queues a response whose body (malloc'd, taken over) is JSON or text. */
enum MHD_Result server_respond(server *s, struct MHD_Connection *c, server_request *r, int status, const char *ctype,
                               char *body, size_t len);
enum MHD_Result server_respond_error(server *s, struct MHD_Connection *c, server_request *r, const api_error *e);

/* False once the client closed its end of the connection. */
bool server_client_alive(struct MHD_Connection *c);

/* POST /v1/chat/completions (chat = true) and /v1/completions, body complete. */
enum MHD_Result server_handle_completion(server *s, struct MHD_Connection *c, server_request *r, bool chat);

double server_now(void);

#endif
