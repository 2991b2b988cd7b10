/* api_response.c - OpenAI response and SSE chunk shapes (see api_response.h). */
#include "server/api_response.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tok/utf8.h"

/* Reals with 9 significant digits: enough for a float, short on the wire. */
#define DUMP_FLAGS (JSON_COMPACT | JSON_REAL_PRECISION(9))

void api_meta_init(api_meta *m, bool chat, const char *model_name, const char *fingerprint, const tokenizer *tok) {
    memset(m, 0, sizeof *m);
    char rnd[40];
    gen_call_id(rnd); /* "call_" + 24 random characters */
    snprintf(m->id, sizeof m->id, "%s%s", chat ? "chatcmpl-" : "cmpl-", rnd + 5);
    m->model = model_name;
    m->created = (long long)time(NULL);
    m->fingerprint = fingerprint;
    m->chat = chat;
    m->tok = tok;
}

/* A JSON string from any bytes (invalid UTF-8 becomes U+FFFD). */
static json_t *text_json(const char *s, size_t n) {
    size_t clean_len;
    char *clean = utf8_sanitize(s, n, &clean_len);
    if (!clean && clean_len != n) return NULL;
    json_t *j = json_stringn(clean ? clean : s, clean ? clean_len : n);
    free(clean);
    return j;
}

static json_t *real_json(float v) { return json_real(isfinite(v) ? (double)v : -9999.0); }

/* {token, logprob, bytes} for one token. */
static json_t *token_entry(const tokenizer *tok, int32_t id, float lp) {
    size_t len = 0;
    const char *piece = tokenizer_piece(tok, id, true, &len);
    if (!piece) piece = "", len = 0;
    json_t *bytes = json_array();
    for (size_t i = 0; bytes && i < len; i++) json_array_append_new(bytes, json_integer((unsigned char)piece[i]));
    return json_pack("{s:o, s:o, s:o}", "token", text_json(piece, len), "logprob", real_json(lp), "bytes", bytes);
}

/* Chat: [{token, logprob, bytes, top_logprobs: [{token, logprob, bytes}]}] for the delta. */
static json_t *chat_logprobs(const tokenizer *tok, const gen_delta *d) {
    json_t *arr = json_array();
    for (int i = 0; arr && i < d->n_lps; i++) {
        const gen_logprob *l = &d->lps[i];
        json_t *e = token_entry(tok, l->token, l->logprob), *top = json_array();
        for (int k = 0; top && k < l->n_top; k++) json_array_append_new(top, token_entry(tok, l->top[k].token, l->top[k].logprob));
        if (e && top) json_object_set_new(e, "top_logprobs", top);
        else json_decref(top);
        json_array_append_new(arr, e);
    }
    return arr;
}

/* Completions (legacy): {tokens, token_logprobs, top_logprobs, text_offset}; appended to
 * *acc when given (whole response), else a new object for one chunk. */
static json_t *legacy_logprobs(api_meta *m, const gen_delta *d, json_t *acc) {
    json_t *o = acc ? acc : json_pack("{s:[], s:[], s:[], s:[]}", "tokens", "token_logprobs", "top_logprobs", "text_offset");
    if (!o) return NULL;
    json_t *toks = json_object_get(o, "tokens"), *lps = json_object_get(o, "token_logprobs"),
           *tops = json_object_get(o, "top_logprobs"), *offs = json_object_get(o, "text_offset");
    for (int i = 0; i < d->n_lps; i++) {
        const gen_logprob *l = &d->lps[i];
        size_t len = 0;
        const char *piece = tokenizer_piece(m->tok, l->token, true, &len);
        if (!piece) piece = "", len = 0;
        json_array_append_new(toks, text_json(piece, len));
        json_array_append_new(lps, real_json(l->logprob));
        json_t *top = json_object();
        for (int k = 0; top && k < l->n_top; k++) {
            size_t tl = 0;
            const char *tp = tokenizer_piece(m->tok, l->top[k].token, true, &tl);
            json_t *key = tp ? text_json(tp, tl) : NULL;
            if (key) json_object_set_new(top, json_string_value(key), real_json(l->top[k].logprob));
            json_decref(key);
        }
        json_array_append_new(tops, top);
        json_array_append_new(offs, json_integer(m->text_offset));
        m->text_offset += (long)len;
    }
    return o;
}

/* ---- streaming ------------------------------------------------------------------------ */

/* One chunk object with a single choice; steals choice. */
static json_t *chunk(const api_meta *m, json_t *choice) {
    json_t *c = json_pack("{s:s, s:s, s:I, s:s, s:s, s:[o]}", "id", m->id, "object",
                          m->chat ? "chat.completion.chunk" : "text_completion", "created", (json_int_t)m->created,
                          "model", m->model, "system_fingerprint", m->fingerprint, "choices", choice);
    if (c && m->include_usage) json_object_set_new(c, "usage", json_null());
    return c;
}

static void emit(sbuf *out, json_t *obj) {
    if (!obj) {
        out->failed = true;
        return;
    }
    char *s = json_dumps(obj, DUMP_FLAGS);
    json_decref(obj);
    if (!s) {
        out->failed = true;
        return;
    }
    sbuf_adds(out, "data: ");
    sbuf_adds(out, s);
    sbuf_adds(out, "\n\n");
    free(s);
}

static json_t *chat_choice(json_t *delta, json_t *logprobs, const char *finish) {
    return json_pack("{s:i, s:o, s:o, s:o}", "index", 0, "delta", delta, "logprobs",
                     logprobs ? json_pack("{s:o, s:n}", "content", logprobs, "refusal") : json_null(), "finish_reason",
                     finish ? json_string(finish) : json_null());
}

void api_stream_begin(const api_meta *m, sbuf *out) {
    if (!m->chat) return;
    emit(out, chunk(m, chat_choice(json_pack("{s:s, s:s}", "role", "assistant", "content", ""), NULL, NULL)));
}

void api_stream_delta(api_meta *m, const gen_delta *d, sbuf *out) {
    if (!m->chat) {
        bool fin = d->done && d->finish_reason;
        if (!d->content.len && !d->n_lps && !fin) return;
        json_t *lp = d->n_lps ? legacy_logprobs(m, d, NULL) : json_null();
        json_t *choice = json_pack("{s:o, s:i, s:o, s:o}", "text", text_json(d->content.data ? d->content.data : "", d->content.len),
                                   "index", 0, "logprobs", lp, "finish_reason", fin ? json_string(d->finish_reason) : json_null());
        emit(out, chunk(m, choice));
        return;
    }
    if (d->content.len || d->reasoning.len || d->n_lps) {
        json_t *delta = json_object();
        if (d->content.len || !d->reasoning.len) json_object_set_new(delta, "content", text_json(d->content.data ? d->content.data : "", d->content.len));
        if (d->reasoning.len) {
            /* clients disagree on the name: send both */
            json_object_set_new(delta, "reasoning_content", text_json(d->reasoning.data, d->reasoning.len));
            json_object_set_new(delta, "reasoning", text_json(d->reasoning.data, d->reasoning.len));
        }
        emit(out, chunk(m, chat_choice(delta, d->n_lps ? chat_logprobs(m->tok, d) : NULL, NULL)));
    }
    for (int i = 0; i < d->n_tools; i++) {
        const gen_tool_delta *t = &d->tools[i];
        if (t->name) { /* the call's first delta: id, type, name, empty arguments */
            json_t *tc = json_pack("{s:i, s:s, s:s, s:{s:o, s:s}}", "index", t->index, "id", t->id, "type", "function",
                                   "function", "name", text_json(t->name, strlen(t->name)), "arguments", "");
            emit(out, chunk(m, chat_choice(json_pack("{s:[o]}", "tool_calls", tc), NULL, NULL)));
        }
        if (t->args.len) {
            json_t *tc = json_pack("{s:i, s:{s:o}}", "index", t->index, "function", "arguments", text_json(t->args.data, t->args.len));
            emit(out, chunk(m, chat_choice(json_pack("{s:[o]}", "tool_calls", tc), NULL, NULL)));
        }
    }
    if (d->done && d->finish_reason) emit(out, chunk(m, chat_choice(json_object(), NULL, d->finish_reason)));
}

json_t *api_usage_json(const gen_usage *u) {
    return json_pack("{s:i, s:i, s:i, s:{s:i}, s:{s:i}}", "prompt_tokens", u->prompt_tokens, "completion_tokens",
                     u->completion_tokens, "total_tokens", u->prompt_tokens + u->completion_tokens,
                     "prompt_tokens_details", "cached_tokens", u->cached_tokens, "completion_tokens_details",
                     "reasoning_tokens", u->reasoning_tokens);
}

void api_stream_end(const api_meta *m, const gen_usage *u, sbuf *out) {
    if (m->include_usage) {
        json_t *c = json_pack("{s:s, s:s, s:I, s:s, s:s, s:[], s:o}", "id", m->id, "object",
                              m->chat ? "chat.completion.chunk" : "text_completion", "created", (json_int_t)m->created,
                              "model", m->model, "system_fingerprint", m->fingerprint, "choices", "usage", api_usage_json(u));
        emit(out, c);
    }
    sbuf_adds(out, "data: [DONE]\n\n");
}

void api_stream_error(const char *message, sbuf *out) {
    emit(out, json_pack("{s:{s:o, s:s, s:n, s:n}}", "error", "message", text_json(message, strlen(message)), "type",
                        "server_error", "param", "code"));
}

/* ---- whole responses ------------------------------------------------------------------ */

void api_accum_init(api_accum *a) { memset(a, 0, sizeof *a); }

void api_accum_add(api_accum *a, api_meta *m, const gen_delta *d, bool want_logprobs) {
    sbuf_add(&a->content, d->content.data, d->content.len);
    sbuf_add(&a->reasoning, d->reasoning.data, d->reasoning.len);
    for (int i = 0; i < d->n_tools; i++) {
        const gen_tool_delta *t = &d->tools[i];
        if (t->name) {
            if (a->n_calls == a->cap_calls) {
                int cap = a->cap_calls ? a->cap_calls * 2 : 4;
                struct api_call *c = realloc(a->calls, (size_t)cap * sizeof *c);
                if (!c) {
                    a->failed = true;
                    return;
                }
                a->calls = c;
                a->cap_calls = cap;
            }
            struct api_call *c = &a->calls[a->n_calls++];
            memset(c, 0, sizeof *c);
            memcpy(c->id, t->id, sizeof c->id);
            c->name = strdup(t->name);
            if (!c->name) a->failed = true;
        }
        for (int k = a->n_calls - 1; k >= 0; k--) /* calls arrive in index order */
            if (k == t->index) {
                sbuf_add(&a->calls[k].args, t->args.data, t->args.len);
                break;
            }
    }
    if (want_logprobs && d->n_lps) {
        if (m->chat) {
            if (!a->logprobs) a->logprobs = json_array();
            json_t *more = chat_logprobs(m->tok, d);
            if (!a->logprobs || !more || json_array_extend(a->logprobs, more)) a->failed = true;
            json_decref(more);
        } else {
            json_t *o = legacy_logprobs(m, d, a->logprobs);
            if (!o) a->failed = true;
            a->logprobs = o;
        }
    }
    if (want_logprobs && !a->logprobs) a->logprobs = m->chat ? json_array() : legacy_logprobs(m, d, NULL);
    if (d->done) a->finish_reason = d->finish_reason;
    if (sbuf_failed(&a->content) || sbuf_failed(&a->reasoning)) a->failed = true;
}

void api_accum_free(api_accum *a) {
    sbuf_free(&a->content);
    sbuf_free(&a->reasoning);
    for (int i = 0; i < a->n_calls; i++) {
        free(a->calls[i].name);
        sbuf_free(&a->calls[i].args);
    }
    free(a->calls);
    json_decref(a->logprobs);
    memset(a, 0, sizeof *a);
}

char *api_response_json(const api_meta *m, api_accum *a, const gen_usage *u, size_t *len) {
    if (a->failed) return NULL;
    const char *content = a->content.data ? a->content.data : "";
    json_t *choice;
    if (m->chat) {
        json_t *msg = json_pack("{s:s, s:o, s:n}", "role", "assistant", "content",
                                a->n_calls && !a->content.len ? json_null() : text_json(content, a->content.len), "refusal");
        if (msg && a->reasoning.len) {
            json_object_set_new(msg, "reasoning_content", text_json(a->reasoning.data, a->reasoning.len));
            json_object_set_new(msg, "reasoning", text_json(a->reasoning.data, a->reasoning.len));
        }
        if (msg && a->n_calls) {
            json_t *calls = json_array();
            for (int i = 0; calls && i < a->n_calls; i++) {
                const struct api_call *c = &a->calls[i];
                json_array_append_new(calls, json_pack("{s:s, s:s, s:{s:o, s:o}}", "id", c->id, "type", "function", "function",
                                                       "name", text_json(c->name, strlen(c->name)), "arguments",
                                                       text_json(c->args.data ? c->args.data : "", c->args.len)));
            }
            json_object_set_new(msg, "tool_calls", calls);
        }
        json_t *lp = a->logprobs ? json_pack("{s:O, s:n}", "content", a->logprobs, "refusal") : json_null();
        choice = json_pack("{s:i, s:o, s:o, s:s?}", "index", 0, "message", msg, "logprobs", lp, "finish_reason", a->finish_reason);
    } else {
        choice = json_pack("{s:o, s:i, s:O?, s:s?}", "text", text_json(content, a->content.len), "index", 0, "logprobs",
                           a->logprobs, "finish_reason", a->finish_reason);
    }
    json_t *r = json_pack("{s:s, s:s, s:I, s:s, s:s, s:[o], s:o}", "id", m->id, "object",
                          m->chat ? "chat.completion" : "text_completion", "created", (json_int_t)m->created, "model", m->model,
                          "system_fingerprint", m->fingerprint, "choices", choice, "usage", api_usage_json(u));
    if (!r) return NULL;
    char *s = json_dumps(r, DUMP_FLAGS);
    json_decref(r);
    if (s && len) *len = strlen(s);
    return s;
}
