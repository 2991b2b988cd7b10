/* server.c - the HTTP side of `fennec serve` (see server.h): libmicrohttpd set-up, routing,
 * body limits, the simple routes, and the background model loader.
 *
 * libmicrohttpd runs one thread per connection, so a handler may block on the engine
 * (non-streaming) and a stream's reader callback may wait for the next token without
 * holding up other clients. Limits against slow or hostile clients: an idle timeout per
 * connection, a cap on header memory and on connections, and the body limit (413 as soon
 * as Content-Length says so, without reading the body). */
#include "server/server_internal.h"

#include <errno.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "base/error.h"
#include "model/hparams.h"

enum { ROUTE_NONE, ROUTE_HEALTH, ROUTE_MODELS, ROUTE_MODEL, ROUTE_CHAT, ROUTE_COMPLETIONS, ROUTE_METRICS };

#define MAX_CONNECTIONS 256
#define HEADER_MEMORY (64 * 1024)

double server_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* ---- responses ------------------------------------------------------------------------ */

enum MHD_Result server_respond(server *s, struct MHD_Connection *c, server_request *r, int status, const char *ctype,
                               char *body, size_t len) {
    if (!body) { /* out of memory building it: a fixed body */
        static const char oom[] = "{\"error\":{\"message\":\"The server is out of memory.\",\"type\":\"server_error\","
                                  "\"param\":null,\"code\":\"out_of_memory\"}}";
        status = 503;
        ctype = "application/json";
        body = strdup(oom);
        len = body ? strlen(body) : 0;
        if (!body) return MHD_NO;
    }
    struct MHD_Response *resp = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
    if (!resp) {
        free(body);
        return MHD_NO;
    }
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
    if (status == 405) MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, r->route == ROUTE_CHAT || r->route == ROUTE_COMPLETIONS ? "POST" : "GET, HEAD");
    if (status == 413) MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION, "close");
    if (status == 503 || status == 429) MHD_add_response_header(resp, MHD_HTTP_HEADER_RETRY_AFTER, "1");
    enum MHD_Result ok = MHD_queue_response(c, (unsigned)status, resp);
    MHD_destroy_response(resp);
    metrics_request(s->m, r->route_name, status);
    return ok;
}

enum MHD_Result server_respond_error(server *s, struct MHD_Connection *c, server_request *r, const api_error *e) {
    size_t len = 0;
    char *body = api_error_json(e, &len);
    if (s->cfg.log_requests && r->route != ROUTE_HEALTH && r->route != ROUTE_METRICS)
        fprintf(stderr, "fennec serve: %d %s%s%s: %s\n", e->status, r->route_name, e->param[0] ? " param " : "", e->param,
                e->message);
    return server_respond(s, c, r, e->status, "application/json", body, len);
}

static enum MHD_Result respond_json(server *s, struct MHD_Connection *c, server_request *r, int status, json_t *j) {
    char *body = j ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
    return server_respond(s, c, r, status, "application/json", body, body ? strlen(body) : 0);
}

/* A peek that reads end-of-file means the client closed its side. A client that only
 * half-closes (shutdown(SHUT_WR)) after its request looks the same and is treated as gone;
 * HTTP clients in use (browsers, curl, Node, Python) keep both sides open. */
bool server_client_alive(struct MHD_Connection *c) {
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
    if (!ci) return true;
    char b;
    ssize_t n = recv(ci->connect_fd, &b, 1, MSG_PEEK | MSG_DONTWAIT);
    if (n > 0) return true; /* a pipelined request waits: still there */
    if (n == 0) return false;
    return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;
}

/* ---- simple routes -------------------------------------------------------------------- */

static enum MHD_Result handle_health(server *s, struct MHD_Connection *c, server_request *r) {
    int st = atomic_load(&s->state);
    if (st == SERVER_READY) return respond_json(s, c, r, 200, json_pack("{s:s}", "status", "ok"));
    api_error e;
    if (st == SERVER_FAILED) api_fail(&e, 503, "server_error", "model_load_failed", NULL, "The model failed to load: %s", s->load_error);
    else api_fail(&e, 503, "server_error", "model_loading", NULL, "The model is loading.");
    return server_respond_error(s, c, r, &e);
}

static json_t *model_object(server *s) {
    json_t *o = json_pack("{s:s, s:s, s:I, s:s}", "id", s->name, "object", "model", "created", (json_int_t)s->started,
                          "owned_by", "fennec");
    if (o && atomic_load(&s->state) == SERVER_READY) json_object_set_new(o, "max_model_len", json_integer(s->model.ctx));
    return o;
}

static enum MHD_Result handle_models(server *s, struct MHD_Connection *c, server_request *r, const char *url) {
    if (r->route == ROUTE_MODEL) {
        const char *want = strstr(url, "/models/") + 8;
        if (strcmp(want, s->name)) {
            api_error e;
            api_fail(&e, 404, "invalid_request_error", "model_not_found", "model", "The model '%.200s' does not exist.", want);
            return server_respond_error(s, c, r, &e);
        }
        return respond_json(s, c, r, 200, model_object(s));
    }
    return respond_json(s, c, r, 200, json_pack("{s:s, s:[o]}", "object", "list", "data", model_object(s)));
}

static enum MHD_Result handle_metrics(server *s, struct MHD_Connection *c, server_request *r) {
    sbuf b = {0};
    engine_stats st;
    bool ready = atomic_load(&s->state) == SERVER_READY;
    if (ready) engine_get_stats(s->model.eng, &st);
    metrics_render(s->m, ready ? &st : NULL, ready, &b);
    size_t len;
    char *body = sbuf_take(&b, &len);
    return server_respond(s, c, r, 200, "text/plain; version=0.0.4; charset=utf-8", body, len);
}

/* ---- routing -------------------------------------------------------------------------- */

static int match_route(const char *url, const char **name) {
    static const struct {
        const char *path;
        int route;
        const char *name;
    } table[] = {
        {"/health", ROUTE_HEALTH, "/health"},
        {"/v1/health", ROUTE_HEALTH, "/health"},
        {"/v1/models", ROUTE_MODELS, "/v1/models"},
        {"/models", ROUTE_MODELS, "/v1/models"},
        {"/v1/chat/completions", ROUTE_CHAT, "/v1/chat/completions"},
        {"/chat/completions", ROUTE_CHAT, "/v1/chat/completions"},
        {"/v1/completions", ROUTE_COMPLETIONS, "/v1/completions"},
        {"/completions", ROUTE_COMPLETIONS, "/v1/completions"},
        {"/metrics", ROUTE_METRICS, "/metrics"},
    };
    for (size_t i = 0; i < sizeof table / sizeof *table; i++)
        if (!strcmp(url, table[i].path)) {
            *name = table[i].name;
            return table[i].route;
        }
    if ((!strncmp(url, "/v1/models/", 11) && url[11]) || (!strncmp(url, "/models/", 8) && url[8])) {
        *name = "/v1/models";
        return ROUTE_MODEL;
    }
    *name = "other";
    return ROUTE_NONE;
}

static bool is_post_route(int route) { return route == ROUTE_CHAT || route == ROUTE_COMPLETIONS; }

static enum MHD_Result on_access(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                                 const char *version, const char *upload, size_t *upload_size, void **con_cls) {
    server *s = cls;
    server_request *r = *con_cls;
    api_error e;
    if (!r) {
        r = calloc(1, sizeof *r);
        if (!r) return MHD_NO;
        *con_cls = r;
        r->route = match_route(url, &r->route_name);
        bool get = !strcmp(method, "GET") || !strcmp(method, "HEAD");
        bool post = !strcmp(method, "POST");
        /* answers that do not need the body go out now, before it is read */
        if (r->route == ROUTE_NONE) {
            r->answered = true;
            api_fail(&e, 404, "invalid_request_error", "not_found", NULL, "Invalid URL (%.16s %.200s).", method, url);
            return server_respond_error(s, c, r, &e);
        }
        if (is_post_route(r->route) ? !post : !get) {
            r->answered = true;
            api_fail(&e, 405, "invalid_request_error", "method_not_allowed", NULL, "Method %.16s is not allowed on %.200s.",
                     method, url);
            return server_respond_error(s, c, r, &e);
        }
        const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
        if (cl) {
            char *end;
            errno = 0;
            unsigned long long n = strtoull(cl, &end, 10);
            if (errno || *end || n > s->cfg.max_body) {
                r->answered = true;
                api_fail(&e, 413, "invalid_request_error", "request_too_large", NULL,
                         "The request body is larger than this server accepts (%zu bytes; see --max-body).", s->cfg.max_body);
                return server_respond_error(s, c, r, &e);
            }
        }
        return MHD_YES;
    }
    if (*upload_size) {
        if (!r->answered && r->body.len + *upload_size > s->cfg.max_body) {
            /* A chunked body (no Content-Length) past the limit: libmicrohttpd cannot answer
             * in the middle of a body, and reading the rest is what the limit is there to
             * avoid, so hang up. */
            metrics_request(s->m, r->route_name, 413);
            if (s->cfg.log_requests)
                fprintf(stderr, "fennec serve: 413 %s: chunked body over %zu bytes, connection closed\n", r->route_name,
                        s->cfg.max_body);
            return MHD_NO;
        }
        if (!r->answered) sbuf_add(&r->body, upload, *upload_size);
        *upload_size = 0;
        return MHD_YES;
    }
    if (r->answered) return MHD_YES;
    if (sbuf_failed(&r->body)) {
        api_fail(&e, 503, "server_error", "out_of_memory", NULL, "The server is out of memory.");
        return server_respond_error(s, c, r, &e);
    }
    switch (r->route) {
    case ROUTE_HEALTH: return handle_health(s, c, r);
    case ROUTE_MODELS:
    case ROUTE_MODEL: return handle_models(s, c, r, url);
    case ROUTE_METRICS: return handle_metrics(s, c, r);
    case ROUTE_CHAT: return server_handle_completion(s, c, r, true);
    case ROUTE_COMPLETIONS: return server_handle_completion(s, c, r, false);
    default: return MHD_NO;
    }
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls, enum MHD_RequestTerminationCode why) {
    server_request *r = *con_cls;
    if (!r) return;
    sbuf_free(&r->body);
    free(r);
    *con_cls = NULL;
}

/* libmicrohttpd's own messages: kept for start-up failures, otherwise quiet. */
static void on_mhd_log(void *cls, const char *fmt, va_list ap) {
    server *s = cls;
    if (atomic_load(&s->state) == SERVER_LOADING && !s->mhd) vsnprintf(s->load_error, sizeof s->load_error, fmt, ap);
}

/* ---- model loading -------------------------------------------------------------------- */

/* The text of the token stored under id_key ("" when absent). */
static char *special_text(const tokenizer *tok, const gguf_file *f, const char *id_key) {
    uint32_t id;
    size_t len = 0;
    const char *t = gguf_get_u32(f, id_key, &id) ? tokenizer_token_text(tok, (int32_t)id, &len) : NULL;
    return t ? strndup(t, len) : strdup("");
}

/* ChatML, for models whose file has no template (and no --chat-template). */
static const char chatml[] =
    "{%- for message in messages %}{{- '<|im_start|>' + message.role + '\\n' + message.content + '<|im_end|>\\n' }}"
    "{%- endfor %}{%- if add_generation_prompt %}{{- '<|im_start|>assistant\\n' }}{%- endif %}";

static int load_model(server *s) {
    server_model *sm = &s->model;
    model_hparams hp;
    gguf_file *g = gguf_open(s->cfg.model_path);
    if (!g) return -1;
    int rc = hparams_read(&hp, g);
    gguf_close(g);
    if (rc) return fn_error_prefix("%s", s->cfg.model_path);
    sm->n_ctx_train = (int)hp.n_ctx_train;
    sm->ctx = s->cfg.ctx > 0 ? s->cfg.ctx : (hp.n_ctx_train < 4096 ? (int)hp.n_ctx_train : 4096);
    if ((long long)sm->ctx * s->cfg.parallel > (1 << 24))
        return fn_error("--ctx %d x --parallel %d is more context than supported", sm->ctx, s->cfg.parallel);
    llm_options o = {.model_path = s->cfg.model_path, .n_threads = s->cfg.threads, .n_ctx = sm->ctx * s->cfg.parallel,
                     .n_seq = s->cfg.parallel, .max_batch = 512};
    if (!(sm->l = llm_open(&o))) return -1;
    if (!(sm->tok = tokenizer_load(sm->l->m->file))) return -1;
    char *src = s->tmpl_src ? strdup(s->tmpl_src) : gguf_get_strdup(sm->l->m->file, "tokenizer.chat_template");
    if (!src) {
        fprintf(stderr, "fennec serve: the model has no chat template; using ChatML (see --chat-template)\n");
        src = strdup(chatml);
    }
    if (!src) return fn_error("out of memory");
    sm->tmpl = chat_template_parse(src, strlen(src));
    sm->family = chat_parser_detect(src);
    free(src);
    if (!sm->tmpl) return fn_error_prefix("chat template");
    sm->bos_text = special_text(sm->tok, sm->l->m->file, "tokenizer.ggml.bos_token_id");
    sm->eos_text = special_text(sm->tok, sm->l->m->file, "tokenizer.ggml.eos_token_id");
    if (!sm->bos_text || !sm->eos_text) return fn_error("out of memory");
    for (uint32_t id = 0; id < tokenizer_n_vocab(sm->tok); id++) {
        size_t len = 0;
        if (tokenizer_piece(sm->tok, (int32_t)id, true, &len) && len > sm->max_token_bytes) sm->max_token_bytes = len;
    }
    if (sm->max_token_bytes == 0) sm->max_token_bytes = 1;
    /* The engine queues every new request until its thread admits it to a slot, so a burst
     * of requests for free slots is "waiting" too: its limit leaves room for a full set of
     * slots, and the server applies --queue to requests that really wait (see
     * server_completions.c). */
    engine_config ec = {.n_slots = s->cfg.parallel, .queue_limit = s->cfg.queue_limit + s->cfg.parallel, .step_tokens = 512};
    if (!(sm->eng = engine_new(sm->l, sm->tok, &ec))) return -1;
    return 0;
}

static void *loader_main(void *arg) {
    server *s = arg;
    double t0 = server_now();
    if (load_model(s)) {
        snprintf(s->load_error, sizeof s->load_error, "%s", fn_errmsg());
        atomic_store(&s->state, SERVER_FAILED);
        return NULL;
    }
    fprintf(stderr, "fennec serve: model %s ready in %.2f s (%s, output parser '%s', %d x %d context, %d threads)\n",
            s->name, server_now() - t0, s->model.l->m->hp.arch, s->model.family->name, s->cfg.parallel, s->model.ctx,
            s->model.l->n_threads);
    atomic_store(&s->state, SERVER_READY);
    return NULL;
}

/* ---- lifecycle ------------------------------------------------------------------------ */

static char *default_name(const char *path) {
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    size_t n = strlen(base);
    if (n > 5 && !strcmp(base + n - 5, ".gguf")) n -= 5;
    return strndup(base, n);
}

server *server_start(const server_config *cfg) {
    if (!cfg->model_path) return fn_error("a model file is required"), NULL;
    if (cfg->parallel < 1 || cfg->parallel > 1024) return fn_error("--parallel must be 1..1024"), NULL;
    if (cfg->port < 0 || cfg->port > 65535) return fn_error("--port must be 0..65535"), NULL;
    server *s = calloc(1, sizeof *s);
    if (!s) return fn_error("out of memory"), NULL;
    s->cfg = *cfg;
    if (!s->cfg.host) s->cfg.host = "127.0.0.1";
    if (!s->cfg.max_body) s->cfg.max_body = 16u << 20;
    if (s->cfg.timeout_s <= 0) s->cfg.timeout_s = 30;
    s->name = cfg->model_name ? strdup(cfg->model_name) : default_name(cfg->model_path);
    s->tmpl_src = cfg->chat_template ? strdup(cfg->chat_template) : NULL;
    s->m = metrics_new();
    s->started = (long long)time(NULL);
    atomic_init(&s->state, SERVER_LOADING);
    atomic_init(&s->stopping, false);
    if (!s->name || !s->m || (cfg->chat_template && !s->tmpl_src)) {
        server_stop(s);
        return fn_error("out of memory"), NULL;
    }
    s->cfg.model_name = s->name;
    s->cfg.chat_template = s->tmpl_src;
    json_object_seed(0);

    char port[16];
    snprintf(port, sizeof port, "%d", cfg->port);
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
    struct addrinfo *ai = NULL;
    int gai = getaddrinfo(s->cfg.host, port, &hints, &ai);
    if (gai || !ai) {
        fn_error("cannot resolve --host %s: %s", s->cfg.host, gai_strerror(gai));
        server_stop(s);
        return NULL;
    }
    unsigned flags = MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL | MHD_USE_ERROR_LOG;
    if (ai->ai_family == AF_INET6) flags |= MHD_USE_IPv6;
    s->mhd = MHD_start_daemon(flags, 0, NULL, NULL, on_access, s, MHD_OPTION_SOCK_ADDR, ai->ai_addr,
                              MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, s, MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
                              MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)s->cfg.timeout_s, MHD_OPTION_CONNECTION_LIMIT,
                              (unsigned)MAX_CONNECTIONS, MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)HEADER_MEMORY,
                              MHD_OPTION_END);
    freeaddrinfo(ai);
    if (!s->mhd) {
        char why[512];
        snprintf(why, sizeof why, "%s", s->load_error[0] ? s->load_error : "");
        size_t n = strlen(why);
        while (n && (why[n - 1] == '\n' || why[n - 1] == '.')) why[--n] = 0;
        fn_error("cannot listen on %s:%d%s%s", s->cfg.host, cfg->port, n ? ": " : "", why);
        server_stop(s);
        return NULL;
    }
    s->load_error[0] = 0;
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(s->mhd, MHD_DAEMON_INFO_BIND_PORT);
    s->port = di ? di->port : cfg->port;
    if (pthread_create(&s->loader, NULL, loader_main, s)) {
        fn_error("cannot start the loader thread");
        server_stop(s);
        return NULL;
    }
    s->loader_started = true;
    return s;
}

int server_port(const server *s) { return s->port; }

server_state server_get_state(server *s, char *msg, size_t msg_size) {
    int st = atomic_load(&s->state);
    if (st == SERVER_FAILED && msg) snprintf(msg, msg_size, "%s", s->load_error);
    return (server_state)st;
}

void server_stop(server *s) {
    if (!s) return;
    atomic_store(&s->stopping, true);
    if (s->mhd) MHD_stop_daemon(s->mhd); /* waits for connection threads; they see `stopping` */
    if (s->loader_started) pthread_join(s->loader, NULL);
    server_model *sm = &s->model;
    engine_free(sm->eng);
    chat_template_free(sm->tmpl);
    free(sm->bos_text);
    free(sm->eos_text);
    tokenizer_free(sm->tok);
    llm_close(sm->l);
    metrics_free(s->m);
    free(s->name);
    free(s->tmpl_src);
    free(s);
}
