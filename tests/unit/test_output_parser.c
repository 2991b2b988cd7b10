/* test_output_parser.c - the streaming output parser against recorded model outputs
 * (tests/data/model_outputs: Qwen3-Coder XML, Hermes/Qwen JSON, reasoning, malformed ones),
 * each fed in every 2-way split, byte by byte, every 3-way split (short ones) and random
 * chunkings: the joined events must always equal the one-shot run and the expectation. Also
 * family detection on real templates, hold bounds on hostile input, limits and errors. */
#include "chat/jstream.h"
#include "chat/output_parser.h"

#include "../lib/chat_event_log.h"
#include "base/error.h"

#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

/* ---- helpers ------------------------------------------------------------------------------ */

static char *slurp(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = malloc((size_t)n + 1);
    if (b && fread(b, 1, (size_t)n, f) != (size_t)n) {
        free(b);
        b = NULL;
    }
    fclose(f);
    if (b) b[n] = 0, *len = (size_t)n;
    return b;
}

static const char *src_dir(void) {
    const char *s = getenv("FENNEC_SRC");
    return s ? s : ".";
}

static uint64_t rng_next(uint64_t *s) { /* xorshift64* */
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 2685821657736338717ull;
}

/* Runs cfg over text cut at cuts[0..ncuts) (increasing offsets); fills log. */
static void run_cuts(const chat_parser_config *cfg, const char *text, size_t len,
                     const size_t *cuts, size_t ncuts, evlog *log) {
    evlog_init(log);
    chat_parser *p = chat_parser_new(cfg);
    assert_non_null(p);
    size_t at = 0;
    for (size_t i = 0; i <= ncuts; i++) {
        size_t end = i < ncuts ? cuts[i] : len;
        if (chat_parser_push(p, text + at, end - at, evlog_cb, log)) fail_msg("%s", fn_errmsg());
        at = end;
    }
    if (chat_parser_finish(p, evlog_cb, log)) fail_msg("%s", fn_errmsg());
    chat_parser_free(p);
}

static void expect_same(const char *label, const evlog *want, const evlog *got, const char *how) {
    if (got->bad) fail_msg("%s (%s): %s", label, how, got->bad);
    if (got->open != -1) fail_msg("%s (%s): a call was left open", label, how);
    if (!evlog_equal(want, got)) {
        fprintf(stderr, "%s: one-shot:\n", label);
        evlog_print(want, stderr);
        fprintf(stderr, "%s: %s:\n", label, how);
        evlog_print(got, stderr);
        fail_msg("%s: events differ when chunked %s", label, how);
    }
}

static size_t n_runs; /* parser runs made by the chunking checks (reported) */

/* The chunking invariance: every 2-way split, byte by byte, all 3-way splits of short texts,
 * and random chunkings give the one-shot log. */
static void check_chunkings(const char *label, const chat_parser_config *cfg, const char *text,
                            size_t len, const evlog *one) {
    evlog got;
    for (size_t i = 1; i < len; i++) {
        run_cuts(cfg, text, len, &i, 1, &got);
        char how[64];
        snprintf(how, sizeof how, "in two at %zu", i);
        expect_same(label, one, &got, how);
        evlog_free(&got);
        n_runs++;
    }
    size_t *cuts = malloc((len + 1) * sizeof *cuts);
    assert_non_null(cuts);
    for (size_t i = 0; i + 1 < len; i++) cuts[i] = i + 1;
    run_cuts(cfg, text, len, cuts, len ? len - 1 : 0, &got);
    expect_same(label, one, &got, "byte by byte");
    evlog_free(&got);
    n_runs++;
    if (len <= 160) {
        for (size_t i = 1; i < len; i++)
            for (size_t j = i + 1; j < len; j++) {
                size_t c2[2] = {i, j};
                run_cuts(cfg, text, len, c2, 2, &got);
                expect_same(label, one, &got, "in three");
                evlog_free(&got);
                n_runs++;
            }
    }
    uint64_t seed = 0x9E3779B97F4A7C15ull ^ len;
    for (int r = 0; r < 60; r++) {
        size_t n = 0, at = 0;
        size_t maxc = r % 3 == 0 ? 3 : r % 3 == 1 ? 17 : 200;
        while (1) {
            at += 1 + rng_next(&seed) % maxc;
            if (at >= len) break;
            cuts[n++] = at;
        }
        run_cuts(cfg, text, len, cuts, n, &got);
        expect_same(label, one, &got, "randomly");
        evlog_free(&got);
        n_runs++;
    }
    free(cuts);
}

/* ---- recorded outputs --------------------------------------------------------------------- */

static json_t *load_json(const char *dir, const char *name) {
    char path[1200];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    json_error_t err;
    json_t *j = json_load_file(path, 0, &err);
    if (!j) fail_msg("%s: %s", path, err.text);
    return j;
}

static void check_string(const char *label, const char *what, const char *want, const char *got,
                         size_t got_len) {
    if (strlen(want) != got_len || memcmp(want, got, got_len))
        fail_msg("%s: %s is\n[%.*s]\nexpected\n[%s]", label, what, (int)got_len, got, want);
}

/* One recorded case: the expectation, then the chunkings. */
static void run_case(const char *dir, const char *file) {
    json_t *meta = load_json(dir, file);
    const char *out_name = json_string_value(json_object_get(meta, "output"));
    if (!out_name) { /* a tools file */
        json_decref(meta);
        return;
    }
    const char *fam_name = json_string_value(json_object_get(meta, "family"));
    const chat_parser_family *fam = chat_parser_family_find(fam_name);
    if (!fam) fail_msg("%s: unknown family %s", file, fam_name ? fam_name : "(none)");
    json_t *tools = NULL;
    const char *tools_name = json_string_value(json_object_get(meta, "tools"));
    if (tools_name) tools = load_json(dir, tools_name);
    json_t *ptc = json_object_get(meta, "parse_tool_calls");
    chat_parser_config cfg = {
        .family = fam,
        .tools = tools,
        .parse_tool_calls = ptc ? json_is_true(ptc) : true,
        .starts_in_reasoning = json_is_true(json_object_get(meta, "starts_in_reasoning")),
    };
    char path[1200];
    snprintf(path, sizeof path, "%s/%s", dir, out_name);
    size_t len;
    char *text = slurp(path, &len);
    if (!text) fail_msg("cannot read %s", path);

    /* the expectation, through the whole-output call */
    chat_parse_result res;
    if (chat_parse_all(&cfg, text, len, &res)) fail_msg("%s: %s", file, fn_errmsg());
    json_t *exp = json_object_get(meta, "expect");
    check_string(file, "content", json_string_value(json_object_get(exp, "content")), res.content,
                 res.content_len);
    check_string(file, "reasoning", json_string_value(json_object_get(exp, "reasoning")),
                 res.reasoning, res.reasoning_len);
    json_t *want_calls = json_object_get(exp, "tool_calls");
    if (json_array_size(want_calls) != json_array_size(res.tool_calls))
        fail_msg("%s: %zu tool calls, expected %zu", file, json_array_size(res.tool_calls),
                 json_array_size(want_calls));
    bool any_trunc = false;
    evlog one;
    run_cuts(&cfg, text, len, NULL, 0, &one);
    if (one.bad) fail_msg("%s: %s", file, one.bad);
    for (size_t i = 0; i < json_array_size(want_calls); i++) {
        json_t *w = json_array_get(want_calls, i);
        json_t *g = json_object_get(json_array_get(res.tool_calls, i), "function");
        assert_string_equal(json_string_value(json_object_get(json_array_get(res.tool_calls, i),
                                                              "type")),
                            "function");
        const char *name = json_string_value(json_object_get(g, "name"));
        if (!name || strcmp(name, json_string_value(json_object_get(w, "name"))))
            fail_msg("%s: call %zu is %s", file, i, name ? name : "(null)");
        const char *args = json_string_value(json_object_get(g, "arguments"));
        assert_non_null(args);
        json_t *parsed = json_loads(args, JSON_ALLOW_NUL, NULL);
        if (!json_equal(parsed, json_object_get(w, "arguments")))
            fail_msg("%s: call %zu arguments are\n%s", file, i, args);
        json_decref(parsed);
        const char *want_text = json_string_value(json_object_get(w, "arguments_text"));
        if (want_text) assert_string_equal(args, want_text);
        bool want_trunc = json_is_true(json_object_get(w, "truncated"));
        any_trunc |= want_trunc;
        bool got_trunc = false;
        for (size_t k = 0; k < one.n; k++)
            if (one.ev[k].kind == CHAT_EV_TOOL_END && one.ev[k].index == (int)i)
                got_trunc = one.ev[k].truncated;
        if (got_trunc != want_trunc) fail_msg("%s: call %zu truncated = %d", file, i, got_trunc);
    }
    assert_int_equal(res.truncated, any_trunc);
    chat_parse_result_free(&res);

    check_chunkings(file, &cfg, text, len, &one);
    evlog_free(&one);
    free(text);
    json_decref(tools);
    json_decref(meta);
}

static int by_name(const struct dirent **a, const struct dirent **b) {
    return strcmp((*a)->d_name, (*b)->d_name);
}

static int is_json(const struct dirent *e) {
    size_t n = strlen(e->d_name);
    return n > 5 && !strcmp(e->d_name + n - 5, ".json");
}

static void test_recorded_outputs(void **state) {
    (void)state;
    char dir[800];
    snprintf(dir, sizeof dir, "%s/tests/data/model_outputs", src_dir());
    struct dirent **list;
    int n = scandir(dir, &list, is_json, by_name);
    if (n < 0) fail_msg("cannot list %s", dir);
    int cases = 0;
    n_runs = 0;
    for (int i = 0; i < n; i++) {
        if (strncmp(list[i]->d_name, "tools_", 6)) cases++;
        run_case(dir, list[i]->d_name);
        free(list[i]);
    }
    free(list);
    assert_true(cases >= 30);
    printf("  %d recorded outputs, %zu chunked runs, all equal to one-shot\n", cases, n_runs);
}

/* ---- families ----------------------------------------------------------------------------- */

static void test_detect_templates(void **state) {
    (void)state;
    static const struct {
        const char *file, *family;
    } want[] = {
        {"Qwen3-Coder.jinja", "qwen3-coder"},
        {"Qwen-Qwen3-0.6B.jinja", "hermes-think"},
        {"NousResearch-Hermes-3-Llama-3.1-8B-tool_use.jinja", "hermes"},
        {"deepseek-ai-DeepSeek-V3.1.jinja", "deepseek-v3.1"},
        {"meta-llama-Llama-3.1-8B-Instruct.jinja", "llama3"},
        {"openai-gpt-oss-120b.jinja", "gpt-oss"},
        {"unsloth-mistral-Devstral-Small-2507.jinja", "mistral"},
    };
    const char *shared = getenv("FENNEC_SHARED");
    char dir[800];
    snprintf(dir, sizeof dir, "%s/testdata/templates", shared ? shared : "../shared");
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        char path[1200];
        snprintf(path, sizeof path, "%s/%s", dir, want[i].file);
        size_t len;
        char *src = slurp(path, &len);
        if (!src) fail_msg("cannot read %s", path);
        const chat_parser_family *f = chat_parser_detect(src);
        if (strcmp(f->name, want[i].family))
            fail_msg("%s detected as %s, expected %s", want[i].file, f->name, want[i].family);
        free(src);
    }
    assert_string_equal(chat_parser_detect(NULL)->name, "plain");
    assert_string_equal(chat_parser_detect("")->name, "plain");
    assert_string_equal(chat_parser_detect("{{ messages }}")->name, "plain");
    /* a Qwen3.5-style template: XML calls and thinking */
    assert_string_equal(chat_parser_detect("<think> <tool_call><function=x><parameter=y>")->name,
                        "qwen3-xml-think");
    const chat_parser_family *coder = chat_parser_family_find("qwen3-coder");
    assert_non_null(coder);
    assert_int_equal(coder->tools, CHAT_TOOLS_QWEN3_XML);
    assert_null(coder->think_open);
    const chat_parser_family *q3 = chat_parser_family_find("hermes-think");
    assert_int_equal(q3->tools, CHAT_TOOLS_HERMES_JSON);
    assert_string_equal(q3->think_open, "<think>");
    assert_null(chat_parser_family_find("nope"));
    assert_null(chat_parser_family_find(NULL));
}

static void test_family_table(void **state) {
    (void)state;
    size_t n = chat_parser_family_count();
    assert_true(n >= 5);
    assert_null(chat_parser_family_at(n));
    for (size_t i = 0; i < n; i++) {
        const chat_parser_family *f = chat_parser_family_at(i);
        assert_non_null(f->name);
        assert_non_null(f->note);
        assert_ptr_equal(chat_parser_family_find(f->name), f);
        assert_true((f->think_open == NULL) == (f->think_close == NULL));
        const char *tags[2] = {f->think_open, f->think_close};
        for (int k = 0; k < 2; k++) { /* the text scanner relies on this shape */
            if (!tags[k]) continue;
            assert_int_equal(tags[k][0], '<');
            assert_null(strchr(tags[k] + 1, '<'));
        }
        if (i + 1 < n) assert_non_null(f->match_all[0]); /* only the last row is a catch-all */
    }
    const chat_parser_family *last = chat_parser_family_at(n - 1);
    assert_string_equal(last->name, "plain");
    assert_int_equal(last->tools, CHAT_TOOLS_NONE);
}

static void test_prompt_opens_reasoning(void **state) {
    (void)state;
    const chat_parser_family *q3 = chat_parser_family_find("hermes-think");
    const chat_parser_family *ds = chat_parser_family_find("deepseek-v3.1");
    const chat_parser_family *coder = chat_parser_family_find("qwen3-coder");
#define OPENS(f, s) chat_parser_prompt_opens_reasoning(f, s, strlen(s))
    assert_true(OPENS(q3, "<|im_start|>assistant\n<think>\n"));
    assert_true(OPENS(q3, "<think>"));
    assert_false(OPENS(q3, "<|im_start|>assistant\n<think>\n\n</think>\n\n"));
    assert_false(OPENS(q3, "<|im_start|>assistant\n"));
    assert_true(OPENS(ds, "<\xef\xbd\x9c" "Assistant\xef\xbd\x9c><think>"));
    assert_false(OPENS(ds, "<\xef\xbd\x9c" "Assistant\xef\xbd\x9c><think></think>"));
    assert_false(OPENS(coder, "<think>"));
    assert_false(OPENS(NULL, "<think>"));
    assert_false(chat_parser_prompt_opens_reasoning(q3, NULL, 0));
    assert_false(OPENS(q3, ""));
#undef OPENS
}

/* ---- properties on synthetic input -------------------------------------------------------- */

static json_t *coder_tools(void) {
    char path[800];
    snprintf(path, sizeof path, "%s/tests/data/model_outputs", src_dir());
    return load_json(path, "tools_coder.json");
}

/* Pushes text byte by byte; after every byte, what went in minus what came out (content,
 * reasoning, arguments) stays under bound. */
static void check_hold_bound(const chat_parser_config *cfg, const char *text, size_t len,
                             size_t bound, const char *label) {
    evlog log;
    evlog_init(&log);
    chat_parser *p = chat_parser_new(cfg);
    assert_non_null(p);
    size_t worst = 0;
    for (size_t i = 0; i < len; i++) {
        assert_int_equal(chat_parser_push(p, text + i, 1, evlog_cb, &log), 0);
        size_t in = i + 1;
        size_t held = in > log.text_bytes ? in - log.text_bytes : 0;
        if (held > worst) worst = held;
        if (held > bound) fail_msg("%s: %zu bytes held after %zu pushed", label, held, in);
    }
    assert_int_equal(chat_parser_finish(p, evlog_cb, &log), 0);
    if (log.bad) fail_msg("%s: %s", label, log.bad);
    chat_parser_free(p);
    evlog_free(&log);
}

static char *repeat(const char *head, const char *unit, size_t times, const char *tail,
                    size_t *len) {
    size_t h = strlen(head), u = strlen(unit), t = strlen(tail);
    char *s = malloc(h + u * times + t + 1);
    assert_non_null(s);
    memcpy(s, head, h);
    for (size_t i = 0; i < times; i++) memcpy(s + h + i * u, unit, u);
    memcpy(s + h + u * times, tail, t + 1);
    *len = h + u * times + t;
    return s;
}

static void test_bounded_hold(void **state) {
    (void)state;
    json_t *tools = coder_tools();
    chat_parser_config xml = {.family = chat_parser_family_find("qwen3-xml-think"),
                              .tools = tools, .parse_tool_calls = true};
    chat_parser_config hermes = {.family = chat_parser_family_find("hermes-think"),
                                 .parse_tool_calls = true};
    const size_t bound = 2 * CHAT_PARSER_MAX_HOLD + 64;
    static const struct {
        const char *head, *unit;
        size_t times;
        const char *tail;
        int fmt; /* 0 xml, 1 hermes */
    } cases[] = {
        {"", "<tool_ca<thin<function=rea a<", 3000, "", 0},
        {"", "<tool_ca<thin</think a<", 3000, "", 1},
        {"x", " ", 20000, "<tool_call>", 1},
        {"<think>", "thinking... ", 5000, "</think>done", 1},
        {"<tool_call>", " ", 20000, "x", 1},
        {"<tool_call>", " ", 20000, "x", 0},
        {"<tool_call>\n<function=", "a", 20000, ">", 0},
        {"<tool_call>\n{\"name\": \"", "a", 20000, "\"}", 1},
        {"<tool_call>\n{\"name\": \"f\", \"other\": [", "1,", 20000, "]}", 1},
        {"<tool_call>\n<function=write_file>\n<parameter=content>\n", "line </parameter> <\n", 5000,
         "</parameter></function>", 0},
        {"<tool_call>\n{\"name\": \"f\", \"arguments\": {\"a\": \"", "text \\n \\u00e9 ", 5000,
         "\"}}", 1},
        {"<tool_call>\n{\"name\": \"f\", \"arguments\": {\"a\": [", "1, ", 5000, "2]}}", 1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t len;
        char *s = repeat(cases[i].head, cases[i].unit, cases[i].times, cases[i].tail, &len);
        char label[32];
        snprintf(label, sizeof label, "hostile case %zu", i);
        check_hold_bound(cases[i].fmt ? &hermes : &xml, s, len, bound, label);
        free(s);
    }
    json_decref(tools);
}

static int count_events(const chat_event *e, void *ud) {
    (void)e;
    ++*(int *)ud;
    return 0;
}

static void test_max_call_bytes(void **state) {
    (void)state;
    json_t *tools = coder_tools();
    chat_parser_config cfg = {.family = chat_parser_family_find("qwen3-coder"), .tools = tools,
                              .parse_tool_calls = true, .max_call_bytes = 100};
    size_t len;
    char *s = repeat("<tool_call>\n<function=write_file>\n<parameter=content>\n", "x", 1000,
                     "\n</parameter>\n</function>\n</tool_call>", &len);
    chat_parser *p = chat_parser_new(&cfg);
    int n = 0;
    assert_int_equal(chat_parser_push(p, s, len, count_events, &n), -1);
    assert_non_null(strstr(fn_errmsg(), "exceed 100 bytes"));
    assert_int_equal(chat_parser_push(p, "more", 4, count_events, &n), -1);
    assert_int_equal(chat_parser_finish(p, count_events, &n), -1);
    chat_parser_free(p);
    /* a typed value counts too */
    free(s);
    s = repeat("<tool_call>\n<function=read_file>\n<parameter=limit>\n", "1", 1000, "", &len);
    p = chat_parser_new(&cfg);
    assert_int_equal(chat_parser_push(p, s, len, count_events, &n), -1);
    chat_parser_free(p);
    free(s);
    /* under the bound is fine, a typed value counted once */
    chat_parse_result r;
    const char *ok = "<tool_call>\n<function=read_file>\n<parameter=path>\nabc\n</parameter>\n"
                     "</function>\n</tool_call>";
    assert_int_equal(chat_parse_all(&cfg, ok, strlen(ok), &r), 0);
    assert_int_equal(json_array_size(r.tool_calls), 1);
    chat_parse_result_free(&r);
    s = repeat("<tool_call>\n<function=read_file>\n<parameter=limit>\n", "1", 95,
               "\n</parameter>\n</function>", &len);
    assert_int_equal(chat_parse_all(&cfg, s, len, &r), -1); /* {"limit": 111...: > 100 */
    free(s);
    s = repeat("<tool_call>\n<function=read_file>\n<parameter=limit>\n", "1", 60,
               "\n</parameter>\n</function>", &len);
    assert_int_equal(chat_parse_all(&cfg, s, len, &r), 0);
    assert_int_equal(json_array_size(r.tool_calls), 1);
    chat_parse_result_free(&r);
    free(s);
    json_decref(tools);
}

static int stop_at_first(const chat_event *e, void *ud) {
    (void)e;
    (void)ud;
    return 1;
}

static void test_callback_stop_and_misuse(void **state) {
    (void)state;
    chat_parser *p = chat_parser_new(NULL);
    assert_non_null(p);
    assert_int_equal(chat_parser_push(p, "hello", 5, stop_at_first, NULL), -1);
    assert_non_null(strstr(fn_errmsg(), "callback"));
    assert_int_equal(chat_parser_push(p, "x", 1, NULL, NULL), -1);
    chat_parser_free(p);

    p = chat_parser_new(NULL);
    assert_int_equal(chat_parser_push(p, "a", 1, NULL, NULL), 0); /* NULL callback: discard */
    assert_int_equal(chat_parser_finish(p, NULL, NULL), 0);
    assert_int_equal(chat_parser_push(p, "b", 1, NULL, NULL), -1); /* after finish */
    assert_int_equal(chat_parser_finish(p, NULL, NULL), -1);
    chat_parser_free(p);
    chat_parser_free(NULL);
}

static void test_utf8_across_pushes(void **state) {
    (void)state;
    chat_parser *p = chat_parser_new(NULL);
    evlog log;
    evlog_init(&log);
    const char *s = "\xe6\x97\xa5\xf0\x9f\x98\x80";
    for (int i = 0; i < 7; i++) assert_int_equal(chat_parser_push(p, s + i, 1, evlog_cb, &log), 0);
    assert_int_equal(chat_parser_push(p, "\xe6\x97", 2, evlog_cb, &log), 0); /* cut off */
    assert_int_equal(chat_parser_finish(p, evlog_cb, &log), 0);
    assert_null(log.bad);
    assert_int_equal(log.n, 1);
    assert_string_equal(log.ev[0].text, "\xe6\x97\xa5\xf0\x9f\x98\x80\xef\xbf\xbd\xef\xbf\xbd");
    chat_parser_free(p);
    evlog_free(&log);
}

static void test_nul_and_empty(void **state) {
    (void)state;
    chat_parser_config cfg = {.family = chat_parser_family_find("hermes"), .parse_tool_calls = true};
    chat_parse_result r;
    assert_int_equal(chat_parse_all(&cfg, "", 0, &r), 0);
    assert_string_equal(r.content, "");
    assert_string_equal(r.reasoning, "");
    assert_int_equal(json_array_size(r.tool_calls), 0);
    assert_false(r.truncated);
    chat_parse_result_free(&r);
    chat_parse_result_free(&r); /* zeroed: safe */

    const char text[] = "a\0b <tool_call>{\"name\": \"f\", \"arguments\": {\"s\": \"x\\u0000y\0z\"}}";
    assert_int_equal(chat_parse_all(&cfg, text, sizeof text - 1, &r), 0);
    assert_int_equal(r.content_len, 3);
    assert_memory_equal(r.content, "a\0b", 3);
    const char *args =
        json_string_value(json_object_get(json_object_get(json_array_get(r.tool_calls, 0),
                                                          "function"), "arguments"));
    assert_string_equal(args, "{\"s\": \"x\\u0000y\\u0000z\"}");
    assert_false(r.truncated); /* "}}" closed it */
    chat_parse_result_free(&r);
}

/* A whole XML call streams: the string value's bytes come out before the value ends. */
static void test_xml_streams_early(void **state) {
    (void)state;
    json_t *tools = coder_tools();
    chat_parser_config cfg = {.family = chat_parser_family_find("qwen3-coder"), .tools = tools,
                              .parse_tool_calls = true};
    chat_parser *p = chat_parser_new(&cfg);
    evlog log;
    evlog_init(&log);
    const char *head = "Hi\n<tool_call>\n<function=write_file>\n";
    assert_int_equal(chat_parser_push(p, head, strlen(head), evlog_cb, &log), 0);
    /* the call begins as soon as the name is complete */
    assert_int_equal(log.n, 3);
    assert_int_equal(log.ev[0].kind, CHAT_EV_CONTENT);
    assert_string_equal(log.ev[0].text, "Hi");
    assert_int_equal(log.ev[1].kind, CHAT_EV_TOOL_BEGIN);
    assert_string_equal(log.ev[1].text, "write_file");
    assert_int_equal(log.ev[2].kind, CHAT_EV_TOOL_ARGS);
    const char *mid = "<parameter=content>\nint main(void) {\n    return 0;\n";
    assert_int_equal(chat_parser_push(p, mid, strlen(mid), evlog_cb, &log), 0);
    /* everything but the held trailing newline is out */
    assert_string_equal(log.args, "{\"content\": \"int main(void) {\\n    return 0;");
    const char *end = "}\n</parameter>\n</function>\n</tool_call>";
    assert_int_equal(chat_parser_push(p, end, strlen(end), evlog_cb, &log), 0);
    assert_int_equal(log.ev[log.n - 1].kind, CHAT_EV_TOOL_END);
    assert_string_equal(log.ev[log.n - 1].text,
                        "{\"content\": \"int main(void) {\\n    return 0;\\n}\"}");
    assert_int_equal(chat_parser_finish(p, evlog_cb, &log), 0);
    assert_null(log.bad);
    chat_parser_free(p);
    evlog_free(&log);
    json_decref(tools);
}

/* Where a value ends: "</parameter>" only counts before a next tag (or the end). */
static void test_xml_value_end_rule(void **state) {
    (void)state;
    static const struct {
        const char *value_text; /* between "<parameter=v>" and the real close */
        const char *value;      /* the JSON string expected */
    } cases[] = {
        {"\na</parameter>b\n", "a</parameter>b"},
        {"\na</parameter>\n<p>x</p>\n", "a</parameter>\n<p>x</p>"},
        {"\n</parameter></parameter>\n", "</parameter></parameter>"},
        {"\na\n</parameter>  \n</functio\n", "a\n</parameter>  \n</functio"},
        {"\n\n\n", "\n"},
        {"x", "x"},
        {"", ""},
        {"\n<parameter\n", "<parameter"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char text[256];
        snprintf(text, sizeof text,
                 "<tool_call>\n<function=f>\n<parameter=v>%s</parameter>\n</function>\n</tool_call>",
                 cases[i].value_text);
        chat_parser_config cfg = {.family = chat_parser_family_find("qwen3-coder"),
                                  .parse_tool_calls = true};
        json_t *tools = json_pack("[{s:s, s:{s:s, s:{s:{s:{s:s}}}}}]", "type", "function",
                                  "function", "name", "f", "parameters", "properties", "v",
                                  "type", "string");
        cfg.tools = tools;
        chat_parse_result r;
        assert_int_equal(chat_parse_all(&cfg, text, strlen(text), &r), 0);
        assert_int_equal(json_array_size(r.tool_calls), 1);
        const char *args = json_string_value(
            json_object_get(json_object_get(json_array_get(r.tool_calls, 0), "function"),
                            "arguments"));
        json_t *j = json_loads(args, 0, NULL);
        const char *v = json_string_value(json_object_get(j, "v"));
        if (!v || strcmp(v, cases[i].value))
            fail_msg("case %zu: value [%s], expected [%s]", i, v ? v : "(none)", cases[i].value);
        assert_string_equal(r.content, "");
        json_decref(j);
        chat_parse_result_free(&r);
        json_decref(tools);
    }
}

/* All recorded outputs glued together with hostile bits between them, as one long output
 * for every family: long inputs, rollbacks of long headers and many calls in one parse. */
static void test_long_mixed_output(void **state) {
    (void)state;
    char dir[800];
    snprintf(dir, sizeof dir, "%s/tests/data/model_outputs", src_dir());
    struct dirent **list;
    int n = scandir(dir, &list, NULL, by_name);
    assert_true(n > 0);
    static const char *const glue[] = {
        "\n", "<tool_call>\n{\"name\": \"", "<tool_call>\n<function=write_file>\n<parameter=",
        "</think>", "<think>", " \xf0\x9f ", "<tool_call>\n{\"name\": \"f\", \"arguments\": {\"a\": [",
        "</parameter>\n", "<function=read_file>\n", "\"}}\n</tool_call>",
    };
    char *text = NULL;
    size_t len = 0, cap = 0;
    uint64_t seed = 12345;
    for (int i = 0; i < n; i++) {
        size_t l = strlen(list[i]->d_name);
        if (l > 4 && !strcmp(list[i]->d_name + l - 4, ".txt")) {
            char path[1200];
            snprintf(path, sizeof path, "%s/%s", dir, list[i]->d_name);
            size_t fl;
            char *f = slurp(path, &fl);
            assert_non_null(f);
            const char *g = glue[rng_next(&seed) % (sizeof glue / sizeof glue[0])];
            size_t gl = strlen(g);
            if (len + fl + gl + 1 > cap) {
                cap = (len + fl + gl + 1) * 2;
                text = realloc(text, cap);
                assert_non_null(text);
            }
            memcpy(text + len, f, fl);
            memcpy(text + len + fl, g, gl);
            len += fl + gl;
            free(f);
        }
        free(list[i]);
    }
    free(list);
    json_t *tools = coder_tools();
    size_t before = n_runs;
    for (size_t fi = 0; fi < chat_parser_family_count(); fi++) {
        for (int flags = 0; flags < 4; flags++) {
            chat_parser_config cfg = {.family = chat_parser_family_at(fi),
                                      .tools = flags & 1 ? tools : NULL,
                                      .parse_tool_calls = true,
                                      .starts_in_reasoning = flags & 2};
            evlog one, got;
            run_cuts(&cfg, text, len, NULL, 0, &one);
            if (one.bad) fail_msg("%s: %s", cfg.family->name, one.bad);
            size_t *cuts = malloc(len * sizeof *cuts);
            assert_non_null(cuts);
            for (int r = 0; r < 12; r++) {
                size_t nc = 0, at = 0;
                for (;;) {
                    at += 1 + rng_next(&seed) % (r < 4 ? 7 : len / 8);
                    if (at >= len) break;
                    cuts[nc++] = at;
                }
                run_cuts(&cfg, text, len, cuts, nc, &got);
                expect_same(cfg.family->name, &one, &got, "randomly (long output)");
                evlog_free(&got);
                n_runs++;
            }
            free(cuts);
            evlog_free(&one);
        }
    }
    printf("  long output: %zu bytes, %zu chunked runs\n", len, n_runs - before);
    json_decref(tools);
    free(text);
}

/* ---- jstream ------------------------------------------------------------------------------ */

static void str_sink(void *ctx, const char *s, size_t n) {
    char **b = ctx;
    size_t l = *b ? strlen(*b) : 0;
    *b = realloc(*b, l + n + 1);
    memcpy(*b + l, s, n);
    (*b)[l + n] = 0;
}

/* Feeds text; returns the output after close (caller frees), or NULL on an error. */
static char *jstream_run(const char *text, size_t n, bool close) {
    char *out = NULL;
    jstream j;
    jstream_init(&j, str_sink, &out);
    for (size_t i = 0; i < n; i++) {
        int r = jstream_feed(&j, (unsigned char)text[i]);
        if (r == JSTREAM_ERROR) {
            free(out);
            return NULL;
        }
        if (r == JSTREAM_DONE_BEFORE) break;
    }
    if (close) jstream_close(&j);
    if (!out) out = calloc(1, 1);
    return out;
}

static void test_jstream_every_prefix_closes(void **state) {
    (void)state;
    static const char *const docs[] = {
        ("{\"a\": [1, -2.5e+10, 0.0, true, false, null, \"s\\\"\\\\\\/\\b\\f\\n\\r\\t\\u00e9\"],"
         " \"b\": {\"c\": {}, \"d\": [], \"e\": [[{}]]}, \"\\ud83d\\ude00\": -0}"),
        "[1, 2, [3, {\"k\": \"v\"}], \"x\"]",
        "{\"a\": 1E5, \"b\": -0.5e-3}",
    };
    for (size_t d = 0; d < sizeof docs / sizeof docs[0]; d++) {
        size_t n = strlen(docs[d]);
        for (size_t k = 0; k <= n; k++) {
            char *out = jstream_run(docs[d], k, true);
            assert_non_null(out);
            json_error_t err;
            json_t *j = json_loads(out, JSON_DECODE_ANY, &err);
            if (!j && k > 0) fail_msg("prefix %zu of doc %zu closes to invalid %s", k, d, out);
            if (k == n) {
                json_t *want = json_loads(docs[d], 0, NULL);
                assert_true(json_equal(j, want));
                json_decref(want);
            }
            json_decref(j);
            free(out);
        }
    }
}

static void test_jstream_repairs(void **state) {
    (void)state;
    static const struct {
        const char *in, *out; /* out NULL: an error */
    } cases[] = {
        {"{\"a\": \"x\ny\"}", "{\"a\": \"x\\ny\"}"},
        {"{\"p\": \"C:\\Users\"}", "{\"p\": \"C:\\\\Users\"}"},
        {"[1, 2, ]", "[1, 2]"},
        {"{\"a\": 1,}", "{\"a\": 1}"},
        {"\"\\ud83d\"", "\"\\ufffd\""},
        {"\"\\ude00x\"", "\"\\ufffdx\""},
        {"\"\\ud83dx\"", "\"\\ufffdx\""},
        {"\"\\ud83d\\u0041\"", "\"\\ufffd\\u0041\""},
        {"\"\\ud83d\\ud83d\\ude00\"", "\"\\ufffd\\ud83d\\ude00\""},
        {"\"\\u12g\"", "\"\\\\u12g\""},
        {"\"\\ud83d\\u12g\"", "\"\\ufffd\\\\u12g\""},
        {"\"\\ud83d\\x\"", "\"\\ufffd\\\\x\""},
        {"\"a\\", "\"a\""},
        {"{\"a\": 01}", NULL},
        {"{\"a\": tru }", NULL},
        {"{a: 1}", NULL},
        {"[1 2]", NULL},
        {"{\"a\" 1}", NULL},
        {"[1.]", NULL},
        {"{\"a\": 1}", "{\"a\": 1}"},
        {"{\"a\"", "{\"a\":null}"},
        {"{\"a\":", "{\"a\":null}"},
        {"[1, ", "[1]"},
        {"[-", "[-0]"},
        {"[1e", "[1e0]"},
        {"[nu", "[null]"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *out = jstream_run(cases[i].in, strlen(cases[i].in), true);
        if (!cases[i].out) {
            if (out) fail_msg("case %zu (%s): accepted as %s", i, cases[i].in, out);
            continue;
        }
        if (!out || strcmp(out, cases[i].out))
            fail_msg("case %zu (%s): got %s, expected %s", i, cases[i].in, out ? out : "(error)",
                     cases[i].out);
        free(out);
    }
    /* deep nesting is an error, not a crash */
    char deep[JSTREAM_MAX_DEPTH + 2];
    memset(deep, '[', sizeof deep - 1);
    deep[sizeof deep - 1] = 0;
    assert_null(jstream_run(deep, strlen(deep), true));
    /* a top-level number ends before the byte after it */
    jstream j;
    jstream_init(&j, NULL, NULL);
    assert_int_equal(jstream_feed(&j, '4'), JSTREAM_MORE);
    assert_int_equal(jstream_feed(&j, ','), JSTREAM_DONE_BEFORE);
    assert_true(jstream_done(&j));
    assert_int_equal(jstream_feed(&j, ','), JSTREAM_ERROR);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_recorded_outputs),
        cmocka_unit_test(test_detect_templates),
        cmocka_unit_test(test_family_table),
        cmocka_unit_test(test_prompt_opens_reasoning),
        cmocka_unit_test(test_bounded_hold),
        cmocka_unit_test(test_max_call_bytes),
        cmocka_unit_test(test_callback_stop_and_misuse),
        cmocka_unit_test(test_utf8_across_pushes),
        cmocka_unit_test(test_nul_and_empty),
        cmocka_unit_test(test_xml_streams_early),
        cmocka_unit_test(test_xml_value_end_rule),
        cmocka_unit_test(test_long_mixed_output),
        cmocka_unit_test(test_jstream_every_prefix_closes),
        cmocka_unit_test(test_jstream_repairs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
