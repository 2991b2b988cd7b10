/* cmd_chat_template.c - `fennec chat-template`: renders a model's (or a file's) Jinja chat
 * template for a conversation and prints exactly the resulting prompt text. */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "chat/chat_template.h"
#include "cli/cli.h"
#include "gguf/gguf.h"

static void usage(FILE *out) {
    fprintf(out,
            "usage: fennec chat-template (-m MODEL.gguf | --template FILE.jinja) --messages CONV.json\n"
            "                            [--tools TOOLS.json] [--kwargs EXTRA.json]\n"
            "                            [--bos-token S] [--eos-token S] [--no-generation-prompt]\n"
            "                            [--template-name NAME]\n\n"
            "Renders the chat template for a conversation and prints exactly the text a model would\n"
            "be given (no newline added), as Hugging Face's apply_chat_template does.\n\n"
            "  -m, --model FILE        template from the GGUF key tokenizer.chat_template, or (as\n"
            "                          transformers does) tokenizer.chat_template.tool_use when tools\n"
            "                          are given and the model has one; bos/eos default to the model's\n"
            "                          tokenizer.ggml.bos/eos_token_id tokens\n"
            "  --template-name NAME    with -m: use tokenizer.chat_template.NAME\n"
            "  --template FILE         template from a file (bos/eos default to \"\")\n"
            "  --messages FILE         JSON array of messages, or an object with \"messages\" and\n"
            "                          optionally \"tools\", \"kwargs\" and \"add_generation_prompt\"\n"
            "  --tools FILE            JSON array of tool definitions (OpenAI format)\n"
            "  --kwargs FILE           JSON object of extra template variables, e.g.\n"
            "                          {\"enable_thinking\": false, \"reasoning_effort\": \"high\"}\n"
            "  --bos-token S, --eos-token S   values of bos_token / eos_token\n"
            "  --no-generation-prompt  add_generation_prompt=false (default true)\n");
}

/* Reads a whole file; NULL with fn_error naming it. */
static char *read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        fn_error("%s: %s", path, strerror(errno));
        return NULL;
    }
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap);
    while (buf) {
        size_t r = fread(buf + n, 1, cap - n, f);
        n += r;
        if (n < cap) break;
        char *nb = cap < ((size_t)1 << 30) ? realloc(buf, cap * 2) : NULL;
        if (!nb) {
            free(buf);
            buf = NULL;
            break;
        }
        buf = nb;
        cap *= 2;
    }
    bool bad = ferror(f);
    fclose(f);
    if (!buf || bad) {
        free(buf);
        fn_error("%s: %s", path, bad ? "read error" : "file too large or out of memory");
        return NULL;
    }
    *len = n;
    return buf;
}

static json_t *load_json(const char *path) {
    json_error_t err;
    /* Integers as doubles, as JSON.parse (and so Hugging Face's JavaScript Jinja) sees them. */
    json_t *j = json_load_file(path, JSON_DECODE_ANY | JSON_DECODE_INT_AS_REAL | JSON_ALLOW_NUL, &err);
    if (!j) fn_error("%s:%d:%d: %s", path, err.line, err.column, err.text);
    return j;
}

/* The text of token `id` from tokenizer.ggml.tokens, or NULL. */
static char *token_text(const gguf_file *g, const char *id_key) {
    uint32_t id;
    const gguf_kv *toks = gguf_find_kv(g, "tokenizer.ggml.tokens");
    if (!gguf_get_u32(g, id_key, &id) || !toks || toks->type != GGUF_TYPE_ARRAY ||
        toks->arr_type != GGUF_TYPE_STRING || id >= toks->arr_len || !toks->arr_strs)
        return NULL;
    const gguf_str *s = &toks->arr_strs[id];
    char *out = malloc(s->len + 1);
    if (out) {
        memcpy(out, s->ptr, s->len);
        out[s->len] = 0;
    }
    return out;
}

typedef struct {
    const char *model, *template_path, *template_name, *messages, *tools, *kwargs, *bos, *eos;
    bool no_gen;
} options;

static int parse_options(int argc, char **argv, options *o) {
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char **slot = NULL;
        if (!strcmp(a, "-m") || !strcmp(a, "--model")) slot = &o->model;
        else if (!strcmp(a, "--template")) slot = &o->template_path;
        else if (!strcmp(a, "--template-name")) slot = &o->template_name;
        else if (!strcmp(a, "--messages")) slot = &o->messages;
        else if (!strcmp(a, "--tools")) slot = &o->tools;
        else if (!strcmp(a, "--kwargs")) slot = &o->kwargs;
        else if (!strcmp(a, "--bos-token")) slot = &o->bos;
        else if (!strcmp(a, "--eos-token")) slot = &o->eos;
        else if (!strcmp(a, "--no-generation-prompt")) {
            o->no_gen = true;
            continue;
        } else {
            return cli_fail("chat-template: unknown option '%s' (try --help)", a);
        }
        if (i + 1 >= argc) return cli_fail("chat-template: %s needs a value", a);
        *slot = argv[++i];
    }
    if (!o->model == !o->template_path) return cli_fail("chat-template: give exactly one of -m MODEL.gguf or --template FILE");
    if (!o->messages) return cli_fail("chat-template: --messages CONV.json is required");
    if (o->template_name && !o->model) return cli_fail("chat-template: --template-name needs -m MODEL.gguf");
    return 0;
}

int cmd_chat_template(int argc, char **argv) {
    for (int i = 1; i < argc; i++)
        if (cli_is_help(argv[i])) {
            usage(stdout);
            return 0;
        }
    options o = {0};
    if (parse_options(argc, argv, &o)) return 1;

    int rc = 1;
    char *src = NULL, *bos = NULL, *eos = NULL, *text = NULL;
    size_t src_len = 0, text_len = 0;
    json_t *conv = NULL, *tools = NULL, *kwargs = NULL;
    chat_template *t = NULL;
    const char *where = o.template_path;

    if (!(conv = load_json(o.messages))) {
        cli_fail("%s", fn_errmsg());
        goto done;
    }
    chat_render_input in = {.add_generation_prompt = !o.no_gen};
    if (json_is_array(conv)) {
        in.messages = conv;
    } else if (json_is_object(conv) && json_is_array(json_object_get(conv, "messages"))) {
        in.messages = json_object_get(conv, "messages");
        in.tools = json_object_get(conv, "tools");
        in.kwargs = json_object_get(conv, "kwargs");
        json_t *agp = json_object_get(conv, "add_generation_prompt");
        if (json_is_boolean(agp) && !o.no_gen) in.add_generation_prompt = json_is_true(agp);
    } else {
        cli_fail("%s: expected a JSON array of messages or an object with \"messages\"", o.messages);
        goto done;
    }
    if (o.tools) {
        if (!(tools = load_json(o.tools))) {
            cli_fail("%s", fn_errmsg());
            goto done;
        }
        in.tools = tools;
    }
    if (o.kwargs) {
        if (!(kwargs = load_json(o.kwargs))) {
            cli_fail("%s", fn_errmsg());
            goto done;
        }
        if (!json_is_object(kwargs)) {
            cli_fail("%s: expected a JSON object", o.kwargs);
            goto done;
        }
        in.kwargs = kwargs;
    }
    if (o.model) {
        where = o.model;
        gguf_file *g = gguf_open(o.model);
        if (!g) {
            cli_fail("%s", fn_errmsg());
            goto done;
        }
        /* A named template; transformers' rule picks "tool_use" when tools are given. */
        char key[256];
        const char *name = o.template_name;
        if (!name && in.tools && !json_is_null(in.tools) && gguf_find_kv(g, "tokenizer.chat_template.tool_use"))
            name = "tool_use";
        if (name) snprintf(key, sizeof key, "tokenizer.chat_template.%s", name);
        else snprintf(key, sizeof key, "tokenizer.chat_template");
        src = gguf_get_strdup(g, key);
        if (src) {
            src_len = strlen(src);
            bos = token_text(g, "tokenizer.ggml.bos_token_id");
            eos = token_text(g, "tokenizer.ggml.eos_token_id");
        }
        gguf_close(g);
        if (!src) {
            cli_fail("%s: no %s in this model", o.model, key);
            goto done;
        }
    } else if (!(src = read_file(o.template_path, &src_len))) {
        cli_fail("%s", fn_errmsg());
        goto done;
    }
    in.bos_token = o.bos ? o.bos : bos ? bos : "";
    in.eos_token = o.eos ? o.eos : eos ? eos : "";

    if (!(t = chat_template_parse(src, src_len))) {
        cli_fail("%s: %s", where, fn_errmsg());
        goto done;
    }
    if (!(text = chat_template_render_n(t, &in, &text_len))) {
        cli_fail("%s: %s", where, fn_errmsg());
        goto done;
    }
    if (fwrite(text, 1, text_len, stdout) != text_len || fflush(stdout)) {
        cli_fail("writing the output: %s", strerror(errno));
        goto done;
    }
    rc = 0;
done:
    free(text);
    chat_template_free(t);
    json_decref(conv);
    json_decref(tools);
    json_decref(kwargs);
    free(src);
    free(bos);
    free(eos);
    return rc;
}
