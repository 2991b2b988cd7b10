/* test_jinja_api.c - chat_template.h as callers use it: one parsed template rendered by many
 * threads at once, the bounds that stop hostile templates (recursion, steps, output, memory),
 * tool-call arguments decoded from JSON strings, input validation, error positions, and the
 * `fennec chat-template` command (template from a GGUF model with its bos/eos tokens). */
#include "chat/chat_template.h"

#include <fcntl.h>
#include <jansson.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "base/error.h"
#include "cli/cli.h"
#include "gguf/gguf.h"

/* Renders src with messages (JSON text) and optional kwargs; returns malloc'd text or NULL. */
static char *render(const char *src, const char *messages_json, const char *kwargs_json,
                    const chat_render_limits *lim) {
    json_error_t e;
    json_t *msgs = json_loads(messages_json, JSON_DECODE_INT_AS_REAL, &e);
    json_t *kw = kwargs_json ? json_loads(kwargs_json, JSON_DECODE_INT_AS_REAL, &e) : NULL;
    assert_non_null(msgs);
    char *out = NULL;
    chat_template *t = chat_template_parse(src, strlen(src));
    if (t) {
        chat_render_input in = {.messages = msgs, .kwargs = kw, .bos_token = "<s>", .eos_token = "</s>",
                                .add_generation_prompt = true, .limits = lim};
        out = chat_template_render(t, &in);
    }
    chat_template_free(t);
    json_decref(msgs);
    json_decref(kw);
    return out;
}

static void expect_render(const char *src, const char *msgs, const char *kw, const char *want) {
    char *out = render(src, msgs, kw, NULL);
    if (!out) fail_msg("unexpected error: %s", fn_errmsg());
    assert_string_equal(out, want);
    free(out);
}

static void expect_error(const char *src, const char *msgs, const char *kw, const chat_render_limits *lim,
                         const char *want_substring) {
    char *out = render(src, msgs, kw, lim);
    if (out) fail_msg("expected an error containing \"%s\", rendered \"%.200s\"", want_substring, out);
    if (!strstr(fn_errmsg(), want_substring))
        fail_msg("error \"%s\" does not contain \"%s\"", fn_errmsg(), want_substring);
}

/* ---- concurrency ---------------------------------------------------------------------------- */

static const char CHATML[] =
    "{%- for m in messages %}<|im_start|>{{ m.role }}\n{{ m.content }}"
    "{%- for c in m.tool_calls or [] %}\n<tool_call>{{ c.function|tojson }}</tool_call>{% endfor %}"
    "<|im_end|>\n{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}";

typedef struct {
    const chat_template *t;
    const json_t *msgs;
    const char *want;
    int failures;
} thread_job;

static void *render_many(void *arg) {
    thread_job *job = arg;
    for (int i = 0; i < 200; i++) {
        chat_render_input in = {.messages = job->msgs, .add_generation_prompt = true};
        char *out = chat_template_render(job->t, &in);
        if (!out || strcmp(out, job->want)) job->failures++;
        free(out);
    }
    return NULL;
}

static void test_concurrent_renders(void **state) {
    (void)state;
    json_error_t e;
    json_t *msgs = json_loads(
        "[{\"role\":\"user\",\"content\":\"hi \\u00e9\"},{\"role\":\"assistant\",\"content\":\"\","
        "\"tool_calls\":[{\"function\":{\"name\":\"f\",\"arguments\":\"{\\\"x\\\": [1, 2.5, true]}\"}}]}]",
        0, &e);
    assert_non_null(msgs);
    chat_template *t = chat_template_parse(CHATML, strlen(CHATML));
    assert_non_null(t);
    chat_render_input in = {.messages = msgs, .add_generation_prompt = true};
    char *want = chat_template_render(t, &in);
    assert_non_null(want);
    /* (trim_blocks eats the newline after the inner {% for %}: HF gives the same.) */
    assert_string_equal(want, "<|im_start|>user\nhi \xc3\xa9<|im_end|>\n<|im_start|>assistant\n"
                              "<tool_call>{\"name\": \"f\", \"arguments\": {\"x\": [1, 2.5, true]}}</tool_call>"
                              "<|im_end|>\n<|im_start|>assistant\n");
    pthread_t th[8];
    thread_job jobs[8];
    for (int i = 0; i < 8; i++) {
        jobs[i] = (thread_job){t, msgs, want, 0};
        assert_int_equal(pthread_create(&th[i], NULL, render_many, &jobs[i]), 0);
    }
    for (int i = 0; i < 8; i++) {
        pthread_join(th[i], NULL);
        assert_int_equal(jobs[i].failures, 0);
    }
    free(want);
    chat_template_free(t);
    json_decref(msgs);
}

/* ---- bounds ---------------------------------------------------------------------------------- */

static void test_infinite_recursion(void **state) {
    (void)state;
    expect_error("{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}", "[]", NULL, NULL, "recursion limit");
    expect_error("{% macro a() %}{{ b() }}{% endmacro %}{% macro b() %}{{ a() }}{% endmacro %}{{ a() }}", "[]", NULL,
                 NULL, "recursion limit");
}

static void test_step_limit(void **state) {
    (void)state;
    chat_render_limits lim = {.max_steps = 10000};
    expect_error("{% for i in range(1000000) %}{% endfor %}", "[]", NULL, &lim, "step limit");
    expect_error("{% for i in range(100) %}{% for j in range(100) %}{% for k in range(100) %}{% endfor %}"
                 "{% endfor %}{% endfor %}",
                 "[]", NULL, &lim, "step limit");
    /* The default budget still renders ordinary loops. */
    expect_render("{% for i in range(1000) %}{% endfor %}ok", "[]", NULL, "ok");
}

static void test_output_and_memory_limits(void **state) {
    (void)state;
    const char *doubling = "{% set ns = namespace(s='x') %}{% for i in range(40) %}{% set ns.s = ns.s ~ ns.s %}"
                           "{% endfor %}{{ ns.s|length }}";
    chat_render_limits out_lim = {.max_output = 1 << 20};
    expect_error(doubling, "[]", NULL, &out_lim, "output exceeded");
    chat_render_limits mem_lim = {.max_memory = 4 << 20};
    expect_error("{% set ns = namespace(l=[]) %}{% for i in range(100000) %}{% set ns.l = ns.l + [i] %}{% endfor %}",
                 "[]", NULL, &mem_lim, "memory limit");
    /* A huge indent is bounded by the output limit too. */
    expect_error("{{ [1]|tojson(indent=1000000000) }}", "[]", NULL, &out_lim, "output exceeded");
}

/* ---- inputs ----------------------------------------------------------------------------------- */

static void test_tool_call_arguments_decoded(void **state) {
    (void)state;
    const char *msgs =
        "[{\"role\":\"assistant\",\"tool_calls\":["
        "{\"function\":{\"name\":\"a\",\"arguments\":\"{\\\"path\\\": \\\"x.c\\\", \\\"n\\\": 2}\"}},"
        "{\"function\":{\"name\":\"b\",\"arguments\":\"[1, 2]\"}},"
        "{\"function\":{\"name\":\"c\",\"arguments\":\"not json\"}},"
        "{\"function\":{\"name\":\"d\",\"arguments\":{\"already\": true}}}]}]";
    expect_render("{% for c in messages[0].tool_calls %}{{ c.function.name }}:"
                  "{% if c.function.arguments is mapping %}{% for k, v in c.function.arguments|items %}{{ k }}={{ v }} "
                  "{% endfor %}{% else %}string({{ c.function.arguments }}){% endif %};{% endfor %}",
                  msgs, NULL, "a:path=x.c n=2 ;b:string([1, 2]);c:string(not json);d:already=true ;");
}

static void test_standard_variables(void **state) {
    (void)state;
    expect_render("{{ bos_token }}|{{ eos_token }}|{{ add_generation_prompt }}|{{ tools is none }}|{{ messages|length }}",
                  "[{\"role\":\"user\",\"content\":\"x\"}]", NULL, "<s>|</s>|true|true|1");
    expect_render("{{ enable_thinking is false }}|{{ reasoning_effort }}", "[]",
                  "{\"enable_thinking\": false, \"reasoning_effort\": \"high\"}", "true|high");
    json_error_t e;
    json_t *msgs = json_array(), *tools = json_loads("[{\"type\":\"function\"}]", 0, &e);
    const char *src = "{{ tools|length }}{{ add_generation_prompt }}";
    chat_template *t = chat_template_parse(src, strlen(src));
    assert_non_null(t);
    chat_render_input in = {.messages = msgs, .tools = tools};
    char *out = chat_template_render(t, &in);
    assert_string_equal(out, "1false");
    free(out);
    chat_template_free(t);
    json_decref(msgs);
    json_decref(tools);
}

static void test_bad_inputs(void **state) {
    (void)state;
    chat_template *t = chat_template_parse("x", 1);
    assert_non_null(t);
    json_t *obj = json_object();
    chat_render_input in = {.messages = obj};
    assert_null(chat_template_render(t, &in));
    assert_non_null(strstr(fn_errmsg(), "messages must be a JSON array"));
    in.messages = NULL;
    assert_null(chat_template_render(t, &in));
    chat_template_free(t);
    json_decref(obj);
    expect_error("x", "[]", "{\"messages\": 1}", NULL, "kwarg 'messages' would replace");
    expect_error("x", "[]", "{\"range\": 1}", NULL, "'range' is already declared");
}

static void test_nul_bytes_and_utf8(void **state) {
    (void)state;
    json_error_t e;
    json_t *msgs = json_loads("[{\"content\":\"a\\u0000b\"}]", JSON_ALLOW_NUL, &e);
    assert_non_null(msgs);
    chat_template *t = chat_template_parse("[{{ messages[0].content }}]", 27);
    chat_render_input in = {.messages = msgs};
    size_t len = 0;
    char *out = chat_template_render_n(t, &in, &len);
    assert_int_equal(len, 5);
    assert_memory_equal(out, "[a\0b]", 5);
    free(out);
    chat_template_free(t);
    json_decref(msgs);
    /* Malformed UTF-8 in the template reads as U+FFFD, as Node's decoder does. */
    expect_render("a\xff" "b\xe2\x82{{ 1 }}", "[]", NULL, "a\xef\xbf\xbd" "b\xef\xbf\xbd" "1");
}

static void test_error_positions(void **state) {
    (void)state;
    assert_null(chat_template_parse("line one\n{% if x %}\n  {{ a + }}\n{% endif %}", 42));
    assert_string_equal(fn_errmsg(), "line 3, column 10: syntax error: unexpected '}}'");
    expect_error("ok\n\n  {{ messages.x.y|frob }}", "[]", NULL, NULL, "line 3, column 18: unknown filter 'frob'");
    expect_error("{%- if messages|length == 0 %}\n{{- raise_exception('Need a message') }}{% endif %}", "[]", NULL,
                 NULL, "Need a message (raise_exception at line 2, column 5)");
    expect_error("\n\n\t\t{% frobnicate %}", "[]", NULL, NULL, "line 3, column 3: syntax error: unknown statement 'frobnicate'");
}

/* ---- the command ----------------------------------------------------------------------------- */

/* Runs cmd_chat_template with stdout and stderr captured into out/err (NUL-terminated). */
static int run_cli(char **argv, int argc, char *out, size_t out_cap, char *err, size_t err_cap) {
    char opath[] = "/tmp/test_jinja_out.XXXXXX", epath[] = "/tmp/test_jinja_err.XXXXXX";
    int ofd = mkstemp(opath), efd = mkstemp(epath);
    assert_true(ofd >= 0 && efd >= 0);
    fflush(stdout);
    fflush(stderr);
    int saved_out = dup(1), saved_err = dup(2);
    dup2(ofd, 1);
    dup2(efd, 2);
    int rc = cmd_chat_template(argc, argv);
    fflush(stdout);
    fflush(stderr);
    dup2(saved_out, 1);
    dup2(saved_err, 2);
    close(saved_out);
    close(saved_err);
    ssize_t n = pread(ofd, out, out_cap - 1, 0);
    out[n > 0 ? n : 0] = 0;
    n = pread(efd, err, err_cap - 1, 0);
    err[n > 0 ? n : 0] = 0;
    close(ofd);
    close(efd);
    unlink(opath);
    unlink(epath);
    return rc;
}

static void write_text(const char *path, const char *text) {
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void test_cli(void **state) {
    (void)state;
    char dir[] = "/tmp/test_jinja_cli.XXXXXX";
    assert_non_null(mkdtemp(dir));
    char model[300], conv[300], tpl[300], bad[300], out[4096], err[4096];
    snprintf(model, sizeof model, "%s/m.gguf", dir);
    snprintf(conv, sizeof conv, "%s/conv.json", dir);
    snprintf(tpl, sizeof tpl, "%s/t.jinja", dir);
    snprintf(bad, sizeof bad, "%s/bad.jinja", dir);

    gguf_writer *w = gguf_writer_new();
    assert_non_null(w);
    const char *toks[] = {"<|begin|>", "<|end|>", "a"};
    assert_int_equal(gguf_writer_set_str(w, "general.architecture", "llama"), 0);
    assert_int_equal(gguf_writer_set_str(w, "tokenizer.chat_template",
                                         "{{ bos_token }}{% for m in messages %}[{{ m.role }}] {{ m.content }}"
                                         "{{ eos_token }}{% endfor %}{% if add_generation_prompt %}[assistant]{% endif %}"),
                     0);
    assert_int_equal(gguf_writer_set_str(w, "tokenizer.chat_template.tool_use",
                                         "TOOLS:{{ tools|length if tools else 0 }}:{{ messages[0].content }}"),
                     0);
    assert_int_equal(gguf_writer_set_arr_str(w, "tokenizer.ggml.tokens", toks, 3), 0);
    assert_int_equal(gguf_writer_set_u32(w, "tokenizer.ggml.bos_token_id", 0), 0);
    assert_int_equal(gguf_writer_set_u32(w, "tokenizer.ggml.eos_token_id", 1), 0);
    assert_int_equal(gguf_writer_write(w, model), 0);
    gguf_writer_free(w);
    write_text(conv, "{\"messages\": [{\"role\": \"user\", \"content\": \"hi\"}]}");
    write_text(tpl, "{{ bos_token }}{{ messages[0].content }}{{ eos_token }}");
    write_text(bad, "{% for x in y %}\n{{ x }\n");

    char *m_args[] = {"chat-template", "-m", model, "--messages", conv};
    assert_int_equal(run_cli(m_args, 5, out, sizeof out, err, sizeof err), 0);
    assert_string_equal(out, "<|begin|>[user] hi<|end|>[assistant]");

    char *m_over[] = {"chat-template", "-m", model, "--messages", conv, "--bos-token", "B", "--eos-token", "E",
                      "--no-generation-prompt"};
    assert_int_equal(run_cli(m_over, 10, out, sizeof out, err, sizeof err), 0);
    assert_string_equal(out, "B[user] hiE");

    /* With tools, the model's tool_use template is chosen (as transformers does). */
    char conv_tools[300];
    snprintf(conv_tools, sizeof conv_tools, "%s/conv_tools.json", dir);
    write_text(conv_tools, "{\"messages\": [{\"role\": \"user\", \"content\": \"hi\"}], \"tools\": [{}, {}]}");
    char *m_tools[] = {"chat-template", "-m", model, "--messages", conv_tools};
    assert_int_equal(run_cli(m_tools, 5, out, sizeof out, err, sizeof err), 0);
    assert_string_equal(out, "TOOLS:2:hi");
    char *m_named[] = {"chat-template", "-m", model, "--messages", conv, "--template-name", "tool_use"};
    assert_int_equal(run_cli(m_named, 7, out, sizeof out, err, sizeof err), 0);
    assert_string_equal(out, "TOOLS:0:hi");
    char *m_missing[] = {"chat-template", "-m", model, "--messages", conv, "--template-name", "nope"};
    assert_int_equal(run_cli(m_missing, 7, out, sizeof out, err, sizeof err), 1);
    assert_non_null(strstr(err, "no tokenizer.chat_template.nope in this model"));
    unlink(conv_tools);

    char *t_args[] = {"chat-template", "--template", tpl, "--messages", conv};
    assert_int_equal(run_cli(t_args, 5, out, sizeof out, err, sizeof err), 0);
    assert_string_equal(out, "hi");

    char *bad_args[] = {"chat-template", "--template", bad, "--messages", conv};
    assert_int_equal(run_cli(bad_args, 5, out, sizeof out, err, sizeof err), 1);
    assert_string_equal(out, "");
    assert_non_null(strstr(err, "fennec: "));
    assert_non_null(strstr(err, "bad.jinja: line 2, column 6: syntax error"));
    assert_int_equal(strchr(err, '\n') - err + 1, (int)strlen(err)); /* one line */

    char *none_args[] = {"chat-template", "--messages", conv};
    assert_int_equal(run_cli(none_args, 3, out, sizeof out, err, sizeof err), 1);
    assert_non_null(strstr(err, "exactly one of -m"));

    char *help[] = {"chat-template", "--help"};
    assert_int_equal(run_cli(help, 2, out, sizeof out, err, sizeof err), 0);
    assert_non_null(strstr(out, "usage: fennec chat-template"));

    char *missing[] = {"chat-template", "--template", tpl, "--messages", "/nonexistent/conv.json"};
    assert_int_equal(run_cli(missing, 5, out, sizeof out, err, sizeof err), 1);
    assert_non_null(strstr(err, "/nonexistent/conv.json"));

    unlink(model);
    unlink(conv);
    unlink(tpl);
    unlink(bad);
    rmdir(dir);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_concurrent_renders),
        cmocka_unit_test(test_infinite_recursion),
        cmocka_unit_test(test_step_limit),
        cmocka_unit_test(test_output_and_memory_limits),
        cmocka_unit_test(test_tool_call_arguments_decoded),
        cmocka_unit_test(test_standard_variables),
        cmocka_unit_test(test_bad_inputs),
        cmocka_unit_test(test_nul_bytes_and_utf8),
        cmocka_unit_test(test_error_positions),
        cmocka_unit_test(test_cli),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
