/* chat_template.c - public face of the chat-template interpreter: parse once, render many
 * times with messages/tools/kwargs converted to template values (see chat_template.h). */
#include "chat/chat_template.h"

#include <locale.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "chat/jinja_arena.h"
#include "chat/jinja_eval.h"
#include "chat/jinja_lexer.h"
#include "chat/jinja_parser.h"
#include "chat/jinja_value.h"

#define MAX_SOURCE ((size_t)16 << 20)
#define DEFAULT_MAX_OUTPUT ((size_t)64 << 20)
#define DEFAULT_MAX_MEMORY ((size_t)512 << 20)
#define DEFAULT_MAX_STEPS 10000000u

struct chat_template {
    jarena arena;     /* tokens, syntax tree and the copy of the source (owned) */
    char *src;        /* the source as given (arena), for line:column in messages */
    size_t len;       /* its length */
    jnode_list prog;  /* top-level statements */
    locale_t casemap; /* C.UTF-8 for upper/lower of non-ASCII text, or (locale_t)0 (owned) */
};

chat_template *chat_template_parse(const char *src, size_t len) {
    if (!src && len) {
        fn_error("no template source");
        return NULL;
    }
    if (len > MAX_SOURCE) {
        fn_error("template too large (%zu bytes, at most %zu)", len, MAX_SOURCE);
        return NULL;
    }
    chat_template *t = calloc(1, sizeof *t);
    if (!t) {
        fn_error("out of memory");
        return NULL;
    }
    jarena_init(&t->arena, 0);
    t->casemap = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t)0);
    if (t->casemap == (locale_t)0) t->casemap = newlocale(LC_CTYPE_MASK, "C.utf8", (locale_t)0);
    t->src = jarena_strndup(&t->arena, src ? src : "", len);
    t->len = len;
    jtok_list toks;
    if (!t->src || jlex_tokenize(&t->arena, t->src, len, &toks) ||
        jparse_template(&t->arena, &toks, t->src, len, &t->prog)) {
        chat_template_free(t);
        return NULL;
    }
    return t;
}

void chat_template_free(chat_template *t) {
    if (!t) return;
    if (t->casemap != (locale_t)0) freelocale(t->casemap);
    jarena_free(&t->arena);
    free(t);
}

/* Decodes assistant tool_calls[].function.arguments strings that hold a JSON object. */
static int decode_arguments(jrt *rt, jv *messages) {
    if (messages->type != JV_ARRAY) return 0;
    for (uint32_t i = 0; i < messages->u.a->len; i++) {
        const jv *m = &messages->u.a->items[i];
        if (m->type != JV_OBJECT) continue;
        const jv *calls = jv_object_get(m->u.o, "tool_calls", 10);
        if (!calls || calls->type != JV_ARRAY) continue;
        for (uint32_t k = 0; k < calls->u.a->len; k++) {
            const jv *call = &calls->u.a->items[k];
            const jv *fn = call->type == JV_OBJECT ? jv_object_get(call->u.o, "function", 8) : NULL;
            if (!fn || fn->type != JV_OBJECT) continue;
            const jv *args = jv_object_get(fn->u.o, "arguments", 9);
            if (!args || args->type != JV_STR) continue;
            json_error_t err;
            json_t *j = json_loadb(args->u.s.p, args->u.s.len, JSON_DECODE_INT_AS_REAL | JSON_ALLOW_NUL, &err);
            if (!j) continue; /* not JSON: the template sees the string */
            int rc = 0;
            if (json_is_object(j)) {
                jv obj;
                rc = jv_from_json(rt, j, &obj) || jv_object_set(rt, fn->u.o, "arguments", 9, obj);
            }
            json_decref(j);
            if (rc) return -1;
        }
    }
    return 0;
}

static bool reserved(const char *k) {
    static const char *const names[] = {"messages", "tools", "add_generation_prompt", "bos_token", "eos_token"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (!strcmp(k, names[i])) return true;
    return false;
}

char *chat_template_render_n(const chat_template *t, const chat_render_input *in, size_t *out_len) {
    if (!t || !in || !json_is_array(in->messages)) {
        fn_error("chat template input: messages must be a JSON array");
        return NULL;
    }
    if (in->tools && !json_is_array(in->tools) && !json_is_null(in->tools)) {
        fn_error("chat template input: tools must be a JSON array");
        return NULL;
    }
    if (in->kwargs && !json_is_object(in->kwargs)) {
        fn_error("chat template input: kwargs must be a JSON object");
        return NULL;
    }
    const chat_render_limits *lim = in->limits;
    jrt rt = {
        .casemap = t->casemap,
        .max_output = lim && lim->max_output ? lim->max_output : DEFAULT_MAX_OUTPUT,
        .steps = lim && lim->max_steps ? lim->max_steps : DEFAULT_MAX_STEPS,
    };
    jarena_init(&rt.arena, lim && lim->max_memory ? lim->max_memory : DEFAULT_MAX_MEMORY);
    char *result = NULL;
    size_t nkw = in->kwargs ? json_object_size(in->kwargs) : 0;
    jeval_var *vars = calloc(5 + nkw, sizeof *vars);
    if (!vars) {
        fn_error("out of memory");
        goto done;
    }
    size_t nv = 0;
    jv messages, tools = jv_null();
    if (jv_from_json(&rt, in->messages, &messages) || decode_arguments(&rt, &messages)) goto fail_input;
    if (in->tools && !json_is_null(in->tools) && jv_from_json(&rt, in->tools, &tools)) goto fail_input;
    const char *bos = in->bos_token ? in->bos_token : "", *eos = in->eos_token ? in->eos_token : "";
    vars[nv++] = (jeval_var){"messages", messages};
    vars[nv++] = (jeval_var){"tools", tools};
    vars[nv++] = (jeval_var){"add_generation_prompt", jv_bool(in->add_generation_prompt)};
    vars[nv++] = (jeval_var){"bos_token", jv_str(bos, strlen(bos))};
    vars[nv++] = (jeval_var){"eos_token", jv_str(eos, strlen(eos))};
    if (in->kwargs) {
        const char *key;
        json_t *val;
        json_object_foreach((json_t *)in->kwargs, key, val) {
            if (reserved(key)) {
                fn_error("chat template input: kwarg '%s' would replace a standard variable", key);
                goto done;
            }
            jv v;
            if (jv_from_json(&rt, val, &v)) goto fail_input;
            vars[nv++] = (jeval_var){key, v};
        }
    }
    jbuf out;
    jbuf_init(&out, &rt.arena, rt.max_output);
    if (jeval_render(&rt, &t->prog, t->src, t->len, vars, nv, &out)) goto done;
    result = malloc(out.len + 1);
    if (!result) {
        fn_error("out of memory");
        goto done;
    }
    if (out.len) memcpy(result, out.p, out.len);
    result[out.len] = 0;
    if (out_len) *out_len = out.len;
    goto done;
fail_input:
    fn_error_prefix("chat template input");
done:
    free(vars);
    jarena_free(&rt.arena);
    return result;
}

char *chat_template_render(const chat_template *t, const chat_render_input *in) {
    return chat_template_render_n(t, in, NULL);
}
