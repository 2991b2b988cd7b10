/* api_request.c - OpenAI request bodies -> api_request (see api_request.h).
 *
 * What each field means here, where it differs from OpenAI or is an extension:
 *   messages      roles system, developer (rendered as system), user, assistant, tool.
 *                 content: a string or an array of parts; "text" parts are joined with
 *                 "\n" (templates expect a string); "refusal" parts count as text; image,
 *                 audio and file parts are a 400 (no multimodal models yet). Assistant
 *                 content may be null or "" when it has tool_calls. reasoning_content or
 *                 reasoning on assistant messages reach the template as reasoning_content.
 *                 A tool message must answer a tool call id of an earlier assistant message.
 *   tools         type "function" only; passed to the template as given.
 *   tool_choice   auto | none | required | {type:function, function:{name}}. There is no
 *                 grammar yet, so nothing forces the model: "none" keeps the tools in the
 *                 prompt (the cache stays warm across turns) but the output is never parsed
 *                 as tool calls; "required" behaves as auto; a named function is the only
 *                 tool the template (and the output parser) is given.
 *   parallel_tool_calls  accepted; every call the model writes is returned.
 *   sampling      temperature (default 1), top_p (default 1; 0 means greedy), and the
 *                 extensions top_k, min_p, repetition_penalty / repeat_penalty; penalties
 *                 look at the generated tokens. seed: reproducible sampling; without it
 *                 each request gets its own.
 *   max_tokens    / max_completion_tokens: clamped to the room left in the context by the
 *                 caller; default: the room left (chat) or 16 (completions, as OpenAI).
 *   stop          a string or up to 16 strings (OpenAI allows 4).
 *   logprobs      chat: boolean + top_logprobs 0..20; completions: an integer 0..20.
 *   response_format  text; json_object is accepted but not enforced; json_schema is a 400.
 *   reasoning_effort  passed to the template as a variable; chat_template_kwargs (object)
 *                 adds any other template variables (e.g. enable_thinking).
 *   n, best_of    must be 1. echo and suffix (completions) are a 400.
 *   ignore_eos    extension: generate past end-of-generation tokens (benchmarks). */
#include "server/api_request.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/sbuf.h"
#include "tok/utf8.h"

#define INVALID "invalid_request_error"

int api_fail(api_error *e, int status, const char *type, const char *code, const char *param, const char *fmt, ...) {
    e->status = status;
    e->type = type;
    e->code = code;
    snprintf(e->param, sizeof e->param, "%s", param ? param : "");
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->message, sizeof e->message, fmt, ap);
    va_end(ap);
    return -1;
}

char *api_error_json(const api_error *e, size_t *len) {
    /* The message may quote (truncated) bytes from the request: make it valid UTF-8. */
    size_t n = strlen(e->message), clean_len;
    char *clean = utf8_sanitize(e->message, n, &clean_len);
    if (!clean && clean_len != n) return NULL;
    json_t *err = json_pack("{s:{s:o, s:s, s:o, s:o}}", "error", "message",
                            json_stringn(clean ? clean : e->message, clean ? clean_len : n), "type", e->type ? e->type : INVALID,
                            "param", e->param[0] ? json_string(e->param) : json_null(), "code",
                            e->code ? json_string(e->code) : json_null());
    free(clean);
    if (!err) return NULL;
    char *s = json_dumps(err, JSON_COMPACT | JSON_ENSURE_ASCII);
    json_decref(err);
    if (s && len) *len = strlen(s);
    return s;
}

/* ---- typed field access --------------------------------------------------------------- */

static const char *type_name(const json_t *v) {
    switch (json_typeof(v)) {
    case JSON_OBJECT: return "an object";
    case JSON_ARRAY: return "an array";
    case JSON_STRING: return "a string";
    case JSON_INTEGER: return "an integer";
    case JSON_REAL: return "a decimal";
    case JSON_TRUE:
    case JSON_FALSE: return "a boolean";
    default: return "null";
    }
}

static int bad_type(api_error *e, const char *param, const char *expected, const json_t *got) {
    return api_fail(e, 400, INVALID, "invalid_type", param, "Invalid type for '%s': expected %s, but got %s instead.",
                    param, expected, type_name(got));
}

static int bad_value(api_error *e, const char *param, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int bad_value(api_error *e, const char *param, const char *fmt, ...) {
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return api_fail(e, 400, INVALID, "invalid_value", param, "Invalid '%s': %s", param, msg);
}

/* Formats a parameter path ("messages[3].content"); long paths are cut, which is fine for
 * an error message. */
static void fmt_param(char *buf, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void fmt_param(char *buf, size_t n, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, n, fmt, ap);
    va_end(ap);
}

/* A present, non-null field, or NULL. */
static json_t *field(const json_t *obj, const char *key) {
    json_t *v = json_object_get(obj, key);
    return v && !json_is_null(v) ? v : NULL;
}

static int get_bool(api_error *e, const json_t *obj, const char *key, bool *out) {
    json_t *v = field(obj, key);
    if (!v) return 0;
    if (!json_is_boolean(v)) return bad_type(e, key, "a boolean", v);
    *out = json_is_true(v);
    return 0;
}

static int get_number(api_error *e, const json_t *obj, const char *key, double lo, double hi, float *out) {
    json_t *v = field(obj, key);
    if (!v) return 0;
    if (!json_is_number(v)) return bad_type(e, key, "a number", v);
    double d = json_number_value(v);
    if (!isfinite(d) || d < lo || d > hi)
        return bad_value(e, key, "expected a number between %g and %g, but got %g instead.", lo, hi, d);
    *out = (float)d;
    return 0;
}

/* Integers, or decimals with an integral value (some clients send 32000.0). */
static int int_value(api_error *e, const char *param, const json_t *v, long lo, long hi, long *out) {
    double d;
    if (json_is_integer(v)) {
        json_int_t i = json_integer_value(v);
        if (i < lo || i > hi)
            return bad_value(e, param, "expected an integer between %ld and %ld, but got %lld instead.", lo, hi, (long long)i);
        *out = (long)i;
        return 0;
    }
    if (!json_is_real(v)) return bad_type(e, param, "an integer", v);
    d = json_real_value(v);
    if (d != floor(d)) return bad_type(e, param, "an integer", v);
    if (!(d >= (double)lo && d <= (double)hi))
        return bad_value(e, param, "expected an integer between %ld and %ld, but got %g instead.", lo, hi, d);
    *out = (long)d;
    return 0;
}

static int get_int(api_error *e, const json_t *obj, const char *key, long lo, long hi, long *out) {
    json_t *v = field(obj, key);
    return v ? int_value(e, key, v, lo, hi, out) : 0;
}

static char *dup_string(const json_t *s) {
    size_t n = json_string_length(s);
    char *d = malloc(n + 1);
    if (d) {
        memcpy(d, json_string_value(s), n);
        d[n] = 0;
    }
    return d;
}

static int oom(api_error *e) { return api_fail(e, 503, "server_error", "out_of_memory", NULL, "The server is out of memory."); }

/* ---- messages ------------------------------------------------------------------------- */

/* content (string, array of parts, or null) -> one string. NULL value: error or oom. */
static json_t *flatten_content(api_error *e, const json_t *c, const char *param, bool null_ok) {
    char p[160];
    if (!c || json_is_null(c)) {
        if (null_ok) return json_string("");
        return c ? bad_type(e, param, "a string or an array of content parts", c), NULL
                 : (api_fail(e, 400, INVALID, "missing_required_parameter", param, "Missing required parameter: '%s'.", param), NULL);
    }
    if (json_is_string(c)) return json_incref((json_t *)c);
    if (!json_is_array(c)) return bad_type(e, param, "a string or an array of content parts", c), NULL;
    sbuf b = {0};
    size_t i;
    json_t *part;
    int n_text = 0;
    json_array_foreach(c, i, part) {
        fmt_param(p, sizeof p, "%s[%zu]", param, i);
        if (!json_is_object(part)) {
            sbuf_free(&b);
            return bad_type(e, p, "an object", part), NULL;
        }
        json_t *type = json_object_get(part, "type");
        fmt_param(p, sizeof p, "%s[%zu].type", param, i);
        if (!type || !json_is_string(type)) {
            sbuf_free(&b);
            return (type ? bad_type(e, p, "a string", type)
                         : api_fail(e, 400, INVALID, "missing_required_parameter", p, "Missing required parameter: '%s'.", p)),
                   NULL;
        }
        const char *t = json_string_value(type), *key = NULL;
        if (!strcmp(t, "text")) key = "text";
        else if (!strcmp(t, "refusal")) key = "refusal";
        else if (!strcmp(t, "image_url") || !strcmp(t, "input_image") || !strcmp(t, "image") ||
                 !strcmp(t, "input_audio") || !strcmp(t, "file")) {
            sbuf_free(&b);
            return api_fail(e, 400, INVALID, "unsupported_content", p,
                            "Content parts of type '%s' are not supported: this server runs text-only models.", t),
                   NULL;
        } else {
            sbuf_free(&b);
            return bad_value(e, p, "unknown content part type '%.64s'; supported: 'text'.", t), NULL;
        }
        json_t *text = json_object_get(part, key);
        fmt_param(p, sizeof p, "%s[%zu].%s", param, i, key);
        if (!text || !json_is_string(text)) {
            sbuf_free(&b);
            return (text ? bad_type(e, p, "a string", text)
                         : api_fail(e, 400, INVALID, "missing_required_parameter", p, "Missing required parameter: '%s'.", p)),
                   NULL;
        }
        if (n_text++) sbuf_add(&b, "\n", 1);
        sbuf_add(&b, json_string_value(text), json_string_length(text));
    }
    if (sbuf_failed(&b)) return oom(e), NULL;
    json_t *s = json_stringn_nocheck(b.data ? b.data : "", b.len);
    sbuf_free(&b);
    if (!s) oom(e);
    return s;
}

/* One assistant tool call -> {id, type, function{name, arguments}}. */
static json_t *parse_tool_call(api_error *e, const json_t *tc, const char *base) {
    char p[192];
    if (!json_is_object(tc)) return bad_type(e, base, "an object", tc), NULL;
    json_t *id = json_object_get(tc, "id"), *type = field(tc, "type"), *fn = json_object_get(tc, "function");
    fmt_param(p, sizeof p, "%s.id", base);
    if (!id) return api_fail(e, 400, INVALID, "missing_required_parameter", p, "Missing required parameter: '%s'.", p), NULL;
    if (!json_is_string(id)) return bad_type(e, p, "a string", id), NULL;
    fmt_param(p, sizeof p, "%s.type", base);
    if (type && (!json_is_string(type) || strcmp(json_string_value(type), "function")))
        return (json_is_string(type) ? bad_value(e, p, "only 'function' tool calls are supported.") : bad_type(e, p, "a string", type)),
               NULL;
    fmt_param(p, sizeof p, "%s.function", base);
    if (!fn) return api_fail(e, 400, INVALID, "missing_required_parameter", p, "Missing required parameter: '%s'.", p), NULL;
    if (!json_is_object(fn)) return bad_type(e, p, "an object", fn), NULL;
    json_t *name = json_object_get(fn, "name"), *args = field(fn, "arguments");
    fmt_param(p, sizeof p, "%s.function.name", base);
    if (!name) return api_fail(e, 400, INVALID, "missing_required_parameter", p, "Missing required parameter: '%s'.", p), NULL;
    if (!json_is_string(name)) return bad_type(e, p, "a string", name), NULL;
    fmt_param(p, sizeof p, "%s.function.arguments", base);
    /* OpenAI sends a JSON string; an object is accepted too (the template wants one). */
    if (args && !json_is_string(args) && !json_is_object(args)) return bad_type(e, p, "a string", args), NULL;
    json_t *out = json_pack("{s:O, s:s, s:{s:O, s:o}}", "id", id, "type", "function", "function", "name", name,
                            "arguments", args ? json_incref(args) : json_string(""));
    if (!out) oom(e);
    return out;
}

static int parse_messages(api_error *e, const json_t *msgs, json_t **out) {
    if (!msgs) return api_fail(e, 400, INVALID, "missing_required_parameter", "messages", "Missing required parameter: 'messages'.");
    if (!json_is_array(msgs)) return bad_type(e, "messages", "an array", msgs);
    if (json_array_size(msgs) == 0)
        return bad_value(e, "messages", "empty array. Expected an array with minimum length 1, but got an empty array instead.");
    json_t *norm = json_array(), *call_ids = json_object();
    if (!norm || !call_ids) goto oom;
    size_t i;
    json_t *m;
    char p[128], q[160];
    json_array_foreach(msgs, i, m) {
        fmt_param(p, sizeof p, "messages[%zu]", i);
        if (!json_is_object(m)) {
            bad_type(e, p, "an object", m);
            goto fail;
        }
        json_t *role = json_object_get(m, "role");
        fmt_param(q, sizeof q, "%s.role", p);
        if (!role) {
            api_fail(e, 400, INVALID, "missing_required_parameter", q, "Missing required parameter: '%s'.", q);
            goto fail;
        }
        if (!json_is_string(role)) {
            bad_type(e, q, "a string", role);
            goto fail;
        }
        const char *r = json_string_value(role);
        bool is_asst = !strcmp(r, "assistant"), is_tool = !strcmp(r, "tool");
        if (strcmp(r, "system") && strcmp(r, "developer") && strcmp(r, "user") && !is_asst && !is_tool) {
            api_fail(e, 400, INVALID, "invalid_value", q,
                     "Invalid value: '%.64s'. Supported values are: 'system', 'developer', 'user', 'assistant' and 'tool'.", r);
            goto fail;
        }
        json_t *name = json_object_get(m, "name");
        fmt_param(q, sizeof q, "%s.name", p);
        if (name && !json_is_null(name) && !json_is_string(name)) {
            bad_type(e, q, "a string", name);
            goto fail;
        }
        json_t *tcs = field(m, "tool_calls");
        bool has_calls = is_asst && tcs && json_is_array(tcs) && json_array_size(tcs) > 0;
        fmt_param(q, sizeof q, "%s.content", p);
        json_t *content = flatten_content(e, json_object_get(m, "content"), q, is_asst);
        if (!content) goto fail;
        json_t *nm = json_pack("{s:s, s:o}", "role", !strcmp(r, "developer") ? "system" : r, "content", content);
        if (!nm || json_array_append_new(norm, nm)) goto oom;
        if (name && json_is_string(name)) json_object_set(nm, "name", name);
        if (is_asst) {
            const char *rkeys[2] = {"reasoning_content", "reasoning"};
            for (int k = 0; k < 2; k++) {
                json_t *rc = field(m, rkeys[k]);
                fmt_param(q, sizeof q, "%s.%s", p, rkeys[k]);
                if (rc && !json_is_string(rc)) {
                    bad_type(e, q, "a string", rc);
                    goto fail;
                }
                if (rc && !json_object_get(nm, "reasoning_content")) json_object_set(nm, "reasoning_content", rc);
            }
            fmt_param(q, sizeof q, "%s.tool_calls", p);
            if (tcs && !json_is_array(tcs)) {
                bad_type(e, q, "an array", tcs);
                goto fail;
            }
            if (has_calls) {
                json_t *calls = json_array();
                if (!calls || json_object_set_new(nm, "tool_calls", calls)) goto oom;
                size_t k;
                json_t *tc;
                json_array_foreach(tcs, k, tc) {
                    char base[176];
                    fmt_param(base, sizeof base, "%s.tool_calls[%zu]", p, k);
                    json_t *c = parse_tool_call(e, tc, base);
                    if (!c) goto fail;
                    if (json_array_append_new(calls, c)) goto oom;
                    json_object_set(call_ids, json_string_value(json_object_get(c, "id")), json_true());
                }
            }
        } else if (tcs) {
            fmt_param(q, sizeof q, "%s.tool_calls", p);
            bad_value(e, q, "only assistant messages can have tool_calls.");
            goto fail;
        }
        if (is_tool) {
            json_t *id = json_object_get(m, "tool_call_id");
            fmt_param(q, sizeof q, "%s.tool_call_id", p);
            if (!id || json_is_null(id)) {
                api_fail(e, 400, INVALID, "missing_required_parameter", q, "Missing required parameter: '%s'.", q);
                goto fail;
            }
            if (!json_is_string(id)) {
                bad_type(e, q, "a string", id);
                goto fail;
            }
            if (!json_object_get(call_ids, json_string_value(id))) {
                api_fail(e, 400, INVALID, "invalid_value", q,
                         "Invalid parameter: messages with role 'tool' must be a response to a preceding message with "
                         "'tool_calls'; no earlier tool call has the id '%.80s'.",
                         json_string_value(id));
                goto fail;
            }
            json_object_set(nm, "tool_call_id", id);
        }
    }
    json_decref(call_ids);
    *out = norm;
    return 0;
oom:
    oom(e);
fail:
    json_decref(norm);
    json_decref(call_ids);
    return -1;
}

/* ---- tools ---------------------------------------------------------------------------- */

static int parse_tools(api_error *e, const json_t *body, api_request *r) {
    json_t *tools = field(body, "tools");
    if (tools) {
        if (!json_is_array(tools)) return bad_type(e, "tools", "an array", tools);
        size_t i;
        json_t *t;
        char p[96];
        json_array_foreach(tools, i, t) {
            fmt_param(p, sizeof p, "tools[%zu]", i);
            if (!json_is_object(t)) return bad_type(e, p, "an object", t);
            json_t *type = json_object_get(t, "type"), *fn = json_object_get(t, "function");
            fmt_param(p, sizeof p, "tools[%zu].type", i);
            if (type && !json_is_string(type)) return bad_type(e, p, "a string", type);
            if (type && strcmp(json_string_value(type), "function"))
                return bad_value(e, p, "only tools of type 'function' are supported, got '%.64s'.", json_string_value(type));
            fmt_param(p, sizeof p, "tools[%zu].function", i);
            if (!fn) return api_fail(e, 400, INVALID, "missing_required_parameter", p, "Missing required parameter: '%s'.", p);
            if (!json_is_object(fn)) return bad_type(e, p, "an object", fn);
            json_t *name = json_object_get(fn, "name"), *desc = field(fn, "description"), *params = field(fn, "parameters");
            fmt_param(p, sizeof p, "tools[%zu].function.name", i);
            if (!name) return api_fail(e, 400, INVALID, "missing_required_parameter", p, "Missing required parameter: '%s'.", p);
            if (!json_is_string(name)) return bad_type(e, p, "a string", name);
            if (json_string_length(name) == 0 || json_string_length(name) > 256)
                return bad_value(e, p, "a function name must have 1 to 256 characters.");
            fmt_param(p, sizeof p, "tools[%zu].function.description", i);
            if (desc && !json_is_string(desc)) return bad_type(e, p, "a string", desc);
            fmt_param(p, sizeof p, "tools[%zu].function.parameters", i);
            if (params && !json_is_object(params)) return bad_type(e, p, "an object", params);
        }
        if (json_array_size(tools) > 0) r->tools = json_incref(tools);
    }
    json_t *tc = field(body, "tool_choice");
    if (tc) {
        if (json_is_string(tc)) {
            const char *s = json_string_value(tc);
            if (!strcmp(s, "auto")) r->tool_choice = API_TOOLS_AUTO;
            else if (!strcmp(s, "none")) r->tool_choice = API_TOOLS_NONE;
            else if (!strcmp(s, "required")) r->tool_choice = API_TOOLS_REQUIRED;
            else
                return api_fail(e, 400, INVALID, "invalid_value", "tool_choice",
                                "Invalid value: '%.64s'. Supported values are: 'none', 'auto' and 'required', or a named function.", s);
        } else if (json_is_object(tc)) {
            json_t *type = json_object_get(tc, "type"), *fn = json_object_get(tc, "function");
            json_t *name = json_is_object(fn) ? json_object_get(fn, "name") : NULL;
            if (!type || !json_is_string(type) || strcmp(json_string_value(type), "function"))
                return bad_value(e, "tool_choice.type", "expected 'function'.");
            if (!name || !json_is_string(name))
                return name ? bad_type(e, "tool_choice.function.name", "a string", name)
                            : api_fail(e, 400, INVALID, "missing_required_parameter", "tool_choice.function.name",
                                       "Missing required parameter: 'tool_choice.function.name'.");
            r->tool_choice = API_TOOLS_NAMED;
            if (!(r->tool_name = dup_string(name))) return oom(e);
        } else {
            return bad_type(e, "tool_choice", "a string or an object", tc);
        }
        if ((r->tool_choice == API_TOOLS_REQUIRED || r->tool_choice == API_TOOLS_NAMED) && !r->tools)
            return bad_value(e, "tool_choice", "'%s' needs tools in the request.",
                             r->tool_choice == API_TOOLS_REQUIRED ? "required" : "a named function");
        if (r->tool_choice == API_TOOLS_NAMED) {
            bool found = false;
            size_t i;
            json_t *t;
            json_array_foreach(r->tools, i, t) {
                const char *n = json_string_value(json_object_get(json_object_get(t, "function"), "name"));
                found |= n && !strcmp(n, r->tool_name);
            }
            if (!found)
                return bad_value(e, "tool_choice.function.name", "no tool is named '%.64s'.", r->tool_name);
        }
    }
    r->parallel_tool_calls = true;
    return get_bool(e, body, "parallel_tool_calls", &r->parallel_tool_calls);
}

/* ---- template variables --------------------------------------------------------------- */

static int parse_kwargs(api_error *e, const json_t *body, api_request *r) {
    static const char *const reserved[] = {"messages", "tools", "add_generation_prompt", "bos_token", "eos_token"};
    json_t *kw = field(body, "chat_template_kwargs");
    if (kw && !json_is_object(kw)) return bad_type(e, "chat_template_kwargs", "an object", kw);
    r->kwargs = kw ? json_deep_copy(kw) : json_object();
    if (!r->kwargs) return oom(e);
    for (size_t i = 0; i < sizeof reserved / sizeof *reserved; i++)
        if (json_object_get(r->kwargs, reserved[i]))
            return bad_value(e, "chat_template_kwargs", "'%s' cannot be set here.", reserved[i]);
    json_t *effort = field(body, "reasoning_effort");
    if (effort) {
        static const char *const ok[] = {"none", "minimal", "low", "medium", "high"};
        if (!json_is_string(effort)) return bad_type(e, "reasoning_effort", "a string", effort);
        bool valid = false;
        for (size_t i = 0; i < sizeof ok / sizeof *ok; i++) valid |= !strcmp(json_string_value(effort), ok[i]);
        if (!valid)
            return api_fail(e, 400, INVALID, "invalid_value", "reasoning_effort",
                            "Invalid value: '%.32s'. Supported values are: 'none', 'minimal', 'low', 'medium' and 'high'.",
                            json_string_value(effort));
        if (!json_object_get(r->kwargs, "reasoning_effort")) json_object_set(r->kwargs, "reasoning_effort", effort);
    }
    return 0;
}

/* ---- text completion prompt ----------------------------------------------------------- */

static int take_ids(api_error *e, const json_t *arr, const char *param, api_request *r) {
    size_t n = json_array_size(arr);
    if (n == 0) return bad_value(e, param, "the prompt is empty.");
    if (n > (1u << 24)) return bad_value(e, param, "too many tokens.");
    r->prompt_ids = malloc(n * sizeof *r->prompt_ids);
    if (!r->prompt_ids) return oom(e);
    for (size_t i = 0; i < n; i++) {
        char p[64];
        long id;
        fmt_param(p, sizeof p, "%s[%zu]", param, i);
        if (int_value(e, p, json_array_get(arr, i), 0, INT32_MAX, &id)) return -1;
        r->prompt_ids[i] = (int32_t)id;
    }
    r->n_prompt_ids = (int)n;
    return 0;
}

static int parse_prompt(api_error *e, const json_t *body, api_request *r) {
    json_t *p = field(body, "prompt");
    if (!p) return api_fail(e, 400, INVALID, "missing_required_parameter", "prompt", "Missing required parameter: 'prompt'.");
    if (json_is_array(p) && json_array_size(p) == 1 &&
        (json_is_string(json_array_get(p, 0)) || json_is_array(json_array_get(p, 0))))
        p = json_array_get(p, 0); /* a batch of one prompt */
    else if (json_is_array(p) && json_array_size(p) > 1 && !json_is_number(json_array_get(p, 0)))
        return bad_value(e, "prompt", "only one prompt per request is supported.");
    if (json_is_string(p)) {
        if (!(r->prompt = dup_string(p))) return oom(e);
        r->prompt_len = json_string_length(p);
        return 0;
    }
    if (json_is_array(p)) return take_ids(e, p, "prompt", r);
    return bad_type(e, "prompt", "a string or an array of token ids", p);
}

/* ---- the body ------------------------------------------------------------------------- */

static int parse_stop(api_error *e, const json_t *body, api_request *r) {
    json_t *s = field(body, "stop");
    if (!s) return 0;
    if (json_is_string(s)) {
        if (json_string_length(s) == 0) return 0;
        if (!(r->stops[0] = dup_string(s))) return oom(e);
        r->n_stops = 1;
        return 0;
    }
    if (!json_is_array(s)) return bad_type(e, "stop", "a string or an array of strings", s);
    if (json_array_size(s) > API_MAX_STOPS)
        return bad_value(e, "stop", "at most %d stop sequences are allowed, got %zu.", API_MAX_STOPS, json_array_size(s));
    size_t i;
    json_t *v;
    json_array_foreach(s, i, v) {
        char p[32];
        fmt_param(p, sizeof p, "stop[%zu]", i);
        if (!json_is_string(v)) return bad_type(e, p, "a string", v);
        if (json_string_length(v) == 0) continue;
        if (!(r->stops[r->n_stops] = dup_string(v))) return oom(e);
        r->n_stops++;
    }
    return 0;
}

static int parse_body(api_error *e, const json_t *b, api_request *r) {
    json_t *model = field(b, "model");
    if (model && !json_is_string(model)) return bad_type(e, "model", "a string", model);
    if (model && !(r->model = dup_string(model))) return oom(e);
    if (get_bool(e, b, "stream", &r->stream)) return -1;
    json_t *so = field(b, "stream_options");
    if (so) {
        if (!json_is_object(so)) return bad_type(e, "stream_options", "an object", so);
        json_t *iu = field(so, "include_usage");
        if (iu && !json_is_boolean(iu)) return bad_type(e, "stream_options.include_usage", "a boolean", iu);
        r->include_usage = iu && json_is_true(iu);
    }

    if (r->chat) {
        if (parse_messages(e, json_object_get(b, "messages"), &r->messages)) return -1;
        if (parse_tools(e, b, r) || parse_kwargs(e, b, r)) return -1;
    } else {
        if (parse_prompt(e, b, r)) return -1;
        json_t *suffix = field(b, "suffix");
        if (suffix && !json_is_string(suffix)) return bad_type(e, "suffix", "a string", suffix);
        if (suffix && json_string_length(suffix))
            return api_fail(e, 400, INVALID, "unsupported_parameter", "suffix", "'suffix' is not supported.");
        bool echo = false;
        if (get_bool(e, b, "echo", &echo)) return -1;
        if (echo) return api_fail(e, 400, INVALID, "unsupported_parameter", "echo", "'echo' is not supported.");
        long best_of = 1;
        if (get_int(e, b, "best_of", 1, 1, &best_of)) return -1;
    }

    long n = 1;
    if (get_int(e, b, "n", 1, 1, &n)) return -1;

    sampler_params *sp = &r->sampling;
    *sp = sampler_defaults();
    sp->temperature = 1.0f;
    sp->top_p = 1.0f;
    sp->penalty_last_n = 0;
    float top_p = 1.0f;
    long top_k = 0;
    if (get_number(e, b, "temperature", 0, 2, &sp->temperature) || get_number(e, b, "top_p", 0, 1, &top_p) ||
        get_int(e, b, "top_k", 0, 1 << 24, &top_k) || get_number(e, b, "min_p", 0, 1, &sp->min_p) ||
        get_number(e, b, "presence_penalty", -2, 2, &sp->presence_penalty) ||
        get_number(e, b, "frequency_penalty", -2, 2, &sp->frequency_penalty) ||
        get_number(e, b, "repetition_penalty", 0.01, 10, &sp->repeat_penalty) ||
        get_number(e, b, "repeat_penalty", 0.01, 10, &sp->repeat_penalty))
        return -1;
    sp->top_k = (int)top_k;
    if (top_p == 0.0f) sp->top_k = 1; /* only the most likely token is left: greedy */
    else sp->top_p = top_p;
    json_t *seed = field(b, "seed");
    if (seed) {
        if (!json_is_integer(seed)) return bad_type(e, "seed", "an integer", seed);
        sp->seed = (uint64_t)json_integer_value(seed);
        r->seed_given = true;
    }

    r->max_tokens = -1;
    long mt = -1;
    if (get_int(e, b, "max_tokens", 1, INT32_MAX, &mt)) return -1;
    if (get_int(e, b, "max_completion_tokens", 1, INT32_MAX, &mt)) return -1; /* wins if both */
    r->max_tokens = mt;
    if (r->max_tokens < 0 && !r->chat) r->max_tokens = 16;
    if (parse_stop(e, b, r)) return -1;

    if (r->chat) {
        long tl = 0;
        if (get_bool(e, b, "logprobs", &r->logprobs) || get_int(e, b, "top_logprobs", 0, API_MAX_TOP_LOGPROBS, &tl))
            return -1;
        if (tl > 0 && !r->logprobs)
            return bad_value(e, "top_logprobs", "'logprobs' must be true when 'top_logprobs' is used.");
        r->top_logprobs = (int)tl;
    } else {
        json_t *lp = field(b, "logprobs");
        long tl = 0;
        if (lp) {
            if (json_is_boolean(lp)) return bad_type(e, "logprobs", "an integer", lp);
            if (int_value(e, "logprobs", lp, 0, API_MAX_TOP_LOGPROBS, &tl)) return -1;
            r->logprobs = true;
            r->top_logprobs = (int)tl;
        }
    }
    if (get_bool(e, b, "ignore_eos", &r->ignore_eos)) return -1;

    json_t *rf = field(b, "response_format");
    if (rf) {
        if (!json_is_object(rf)) return bad_type(e, "response_format", "an object", rf);
        json_t *t = json_object_get(rf, "type");
        if (!t || !json_is_string(t))
            return t ? bad_type(e, "response_format.type", "a string", t)
                     : api_fail(e, 400, INVALID, "missing_required_parameter", "response_format.type",
                                "Missing required parameter: 'response_format.type'.");
        const char *ts = json_string_value(t);
        if (!strcmp(ts, "json_schema"))
            return api_fail(e, 400, INVALID, "unsupported_value", "response_format.type",
                            "response_format 'json_schema' is not supported yet (no grammar-constrained sampling); "
                            "use 'text' or 'json_object'.");
        if (!strcmp(ts, "json_object")) r->json_object = true;
        else if (strcmp(ts, "text"))
            return api_fail(e, 400, INVALID, "invalid_value", "response_format.type",
                            "Invalid value: '%.32s'. Supported values are: 'text', 'json_object' and 'json_schema'.", ts);
    }
    return 0;
}

int api_parse_request(const char *body, size_t len, bool chat, api_request *r, api_error *err) {
    memset(r, 0, sizeof *r);
    r->chat = chat;
    json_error_t je;
    json_t *b = json_loadb(body, len, 0, &je);
    if (!b) {
        api_fail(err, 400, INVALID, "invalid_json", NULL,
                 "We could not parse the JSON body of your request: %s (line %d, column %d).", je.text, je.line, je.column);
        return -1;
    }
    int rc = -1;
    if (!json_is_object(b)) {
        api_fail(err, 400, INVALID, "invalid_json", NULL, "The request body must be a JSON object, got %s.", type_name(b));
    } else {
        rc = parse_body(err, b, r);
    }
    json_decref(b);
    if (rc) api_request_free(r);
    return rc;
}

void api_request_free(api_request *r) {
    free(r->model);
    json_decref(r->messages);
    json_decref(r->tools);
    json_decref(r->kwargs);
    free(r->tool_name);
    free(r->prompt);
    free(r->prompt_ids);
    for (int i = 0; i < r->n_stops; i++) free(r->stops[i]);
    bool chat = r->chat;
    memset(r, 0, sizeof *r);
    r->chat = chat;
}
