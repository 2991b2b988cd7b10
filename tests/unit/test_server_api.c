/* test_server_api.c - the server's OpenAI layer without HTTP or a model: request
 * validation (every field, every wrong type, the error shape), and model output turned
 * into SSE chunks and whole responses through the real output parser, fed in every
 * chunking, then read back the way a client reassembles a stream.
 *
 * With FENNEC_SSE_DUMP_DIR set, the tool-call streams are also written there as .sse files
 * for tests/oracle/server_sse_replay.mjs (the official OpenAI SDK reads them back). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chat/output_parser.h"
#include "server/api_request.h"
#include "server/api_response.h"
#include "server/gen.h"
#include "server/metrics.h"

/* ---- requests ------------------------------------------------------------------------- */

static void parse_ok(const char *body, bool chat, api_request *r) {
    api_error e;
    int rc = api_parse_request(body, strlen(body), chat, r, &e);
    if (rc) fail_msg("rejected: %s (param %s)\nbody: %s", e.message, e.param, body);
}

static void test_chat_fields(void **state) {
    (void)state;
    api_request r;
    parse_ok("{\"model\":\"m\",\"stream\":true,\"stream_options\":{\"include_usage\":true},"
             "\"messages\":[{\"role\":\"developer\",\"content\":[{\"type\":\"text\",\"text\":\"a\"},{\"type\":\"text\",\"text\":\"b\"}]},"
             "{\"role\":\"user\",\"content\":\"hi\",\"name\":\"bob\"},"
             "{\"role\":\"assistant\",\"content\":null,\"reasoning\":\"think\",\"tool_calls\":[{\"id\":\"call_1\",\"type\":\"function\","
             "\"function\":{\"name\":\"f\",\"arguments\":\"{\\\"x\\\":1}\"}}]},"
             "{\"role\":\"tool\",\"tool_call_id\":\"call_1\",\"content\":[{\"type\":\"text\",\"text\":\"42\"}]},"
             "{\"role\":\"assistant\",\"content\":\"\",\"tool_calls\":[{\"id\":\"call_2\",\"type\":\"function\",\"function\":{\"name\":\"f\",\"arguments\":{\"x\":2}}}]},"
             "{\"role\":\"tool\",\"tool_call_id\":\"call_2\",\"content\":\"43\"}],"
             "\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"f\",\"parameters\":{\"type\":\"object\"}}},"
             "{\"type\":\"function\",\"function\":{\"name\":\"g\"}}],"
             "\"tool_choice\":{\"type\":\"function\",\"function\":{\"name\":\"g\"}},\"parallel_tool_calls\":false,"
             "\"max_tokens\":32000,\"max_completion_tokens\":100.0,\"temperature\":0,\"top_p\":0.5,\"top_k\":7,\"min_p\":0.1,"
             "\"presence_penalty\":-1,\"frequency_penalty\":1.5,\"seed\":-3,\"stop\":[\"x\",\"\",\"yy\"],"
             "\"logprobs\":true,\"top_logprobs\":20,\"reasoning_effort\":\"high\",\"response_format\":{\"type\":\"json_object\"},"
             "\"chat_template_kwargs\":{\"enable_thinking\":false},\"user\":\"u\",\"metadata\":{\"a\":1},\"unknown_field\":[1,2]}",
             true, &r);
    assert_string_equal(r.model, "m");
    assert_true(r.stream && r.include_usage && r.logprobs && r.json_object && r.seed_given);
    assert_int_equal(r.max_tokens, 100);
    assert_int_equal(r.top_logprobs, 20);
    assert_int_equal(r.n_stops, 2);
    assert_string_equal(r.stops[1], "yy");
    assert_true(r.sampling.temperature == 0.0f && r.sampling.top_p == 0.5f && r.sampling.top_k == 7);
    assert_true(r.sampling.presence_penalty == -1.0f && r.sampling.frequency_penalty == 1.5f);
    assert_int_equal(r.sampling.seed, (uint64_t)-3);
    assert_int_equal(r.tool_choice, API_TOOLS_NAMED);
    assert_string_equal(r.tool_name, "g");
    assert_false(r.parallel_tool_calls);
    assert_int_equal(json_array_size(r.tools), 2);
    assert_string_equal(json_string_value(json_object_get(r.kwargs, "reasoning_effort")), "high");
    assert_true(json_is_false(json_object_get(r.kwargs, "enable_thinking")));
    json_t *m = r.messages;
    assert_int_equal(json_array_size(m), 6);
    assert_string_equal(json_string_value(json_object_get(json_array_get(m, 0), "role")), "system");
    assert_string_equal(json_string_value(json_object_get(json_array_get(m, 0), "content")), "a\nb");
    json_t *a = json_array_get(m, 2);
    assert_string_equal(json_string_value(json_object_get(a, "content")), "");
    assert_string_equal(json_string_value(json_object_get(a, "reasoning_content")), "think");
    json_t *tc = json_array_get(json_object_get(a, "tool_calls"), 0);
    assert_string_equal(json_string_value(json_object_get(json_object_get(tc, "function"), "arguments")), "{\"x\":1}");
    assert_string_equal(json_string_value(json_object_get(json_array_get(m, 3), "content")), "42");
    assert_string_equal(json_string_value(json_object_get(json_array_get(m, 3), "tool_call_id")), "call_1");
    api_request_free(&r);

    /* defaults */
    parse_ok("{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"top_p\":0,\"tool_choice\":\"none\"}", true, &r);
    assert_null(r.model);
    assert_false(r.stream || r.seed_given || r.logprobs);
    assert_int_equal(r.max_tokens, -1);
    assert_true(r.sampling.temperature == 1.0f);
    assert_int_equal(r.sampling.top_k, 1); /* top_p 0: greedy */
    assert_int_equal(r.tool_choice, API_TOOLS_NONE);
    assert_null(r.tools);
    api_request_free(&r);
}

static void test_completion_fields(void **state) {
    (void)state;
    api_request r;
    parse_ok("{\"prompt\":\"hello\",\"logprobs\":3,\"echo\":false,\"best_of\":1,\"n\":1}", false, &r);
    assert_string_equal(r.prompt, "hello");
    assert_int_equal(r.max_tokens, 16); /* OpenAI's default for completions */
    assert_true(r.logprobs);
    assert_int_equal(r.top_logprobs, 3);
    api_request_free(&r);
    parse_ok("{\"prompt\":[1,2,3.0],\"max_tokens\":5}", false, &r);
    assert_int_equal(r.n_prompt_ids, 3);
    assert_int_equal(r.prompt_ids[2], 3);
    api_request_free(&r);
    parse_ok("{\"prompt\":[[7,8]]}", false, &r);
    assert_int_equal(r.n_prompt_ids, 2);
    api_request_free(&r);
    parse_ok("{\"prompt\":[\"one\"]}", false, &r);
    assert_string_equal(r.prompt, "one");
    api_request_free(&r);
}

typedef struct {
    bool chat;
    const char *body;
    const char *param; /* expected param ("" = null) */
    const char *code;  /* expected code (NULL: any) */
} bad_case;

#define U "\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]"

static const bad_case bad[] = {
    {true, "{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}", "", "invalid_json"},
    {true, "", "", "invalid_json"},
    {true, "[1,2]", "", "invalid_json"},
    {true, "{\"messages\":[{\"role\":\"user\",\"content\":\"\xff\xfe\"}]}", "", "invalid_json"},
    {true, "{\"messages\":[{\"role\":\"user\",\"content\":\"a\\u0000b\"}]}", "", "invalid_json"},
    {true, "{" U ",\"max_tokens\":123456789012345678901234567890}", "", "invalid_json"},
    {true, "{" U ",\"max_tokens\":1e300}", "max_tokens", "invalid_value"},
    {true, "{" U ",\"max_tokens\":0}", "max_tokens", "invalid_value"},
    {true, "{" U ",\"max_tokens\":-5}", "max_tokens", "invalid_value"},
    {true, "{" U ",\"max_tokens\":\"10\"}", "max_tokens", "invalid_type"},
    {true, "{" U ",\"max_tokens\":10.5}", "max_tokens", "invalid_type"},
    {true, "{" U ",\"max_completion_tokens\":true}", "max_completion_tokens", "invalid_type"},
    {true, "{\"messages\":[]}", "messages", "invalid_value"},
    {true, "{\"messages\":{}}", "messages", "invalid_type"},
    {true, "{}", "messages", "missing_required_parameter"},
    {true, "{\"messages\":[\"hi\"]}", "messages[0]", "invalid_type"},
    {true, "{\"messages\":[{\"content\":\"x\"}]}", "messages[0].role", "missing_required_parameter"},
    {true, "{\"messages\":[{\"role\":\"wizard\",\"content\":\"x\"}]}", "messages[0].role", "invalid_value"},
    {true, "{\"messages\":[{\"role\":\"function\",\"content\":\"x\"}]}", "messages[0].role", "invalid_value"},
    {true, "{\"messages\":[{\"role\":7,\"content\":\"x\"}]}", "messages[0].role", "invalid_type"},
    {true, "{\"messages\":[{\"role\":\"user\"}]}", "messages[0].content", "missing_required_parameter"},
    {true, "{\"messages\":[{\"role\":\"user\",\"content\":null}]}", "messages[0].content", "invalid_type"},
    {true, "{\"messages\":[{\"role\":\"user\",\"content\":5}]}", "messages[0].content", "invalid_type"},
    {true, "{\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"image_url\",\"image_url\":{\"url\":\"x\"}}]}]}",
     "messages[0].content[0].type", "unsupported_content"},
    {true, "{\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"video\"}]}]}", "messages[0].content[0].type", "invalid_value"},
    {true, "{\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"text\"}]}]}", "messages[0].content[0].text", "missing_required_parameter"},
    {true, "{\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":1}]}]}", "messages[0].content[0].text", "invalid_type"},
    {true, "{\"messages\":[{\"role\":\"user\",\"content\":[7]}]}", "messages[0].content[0]", "invalid_type"},
    {true, "{\"messages\":[{\"role\":\"tool\",\"content\":\"r\",\"tool_call_id\":\"c1\"}]}", "messages[0].tool_call_id", "invalid_value"},
    {true, "{\"messages\":[{\"role\":\"tool\",\"content\":\"r\"}]}", "messages[0].tool_call_id", "missing_required_parameter"},
    {true,
     "{\"messages\":[{\"role\":\"assistant\",\"content\":null,\"tool_calls\":[{\"id\":\"a\",\"function\":{\"name\":\"f\",\"arguments\":\"{}\"}}]},"
     "{\"role\":\"tool\",\"tool_call_id\":\"b\",\"content\":\"r\"}]}",
     "messages[1].tool_call_id", "invalid_value"},
    {true, "{\"messages\":[{\"role\":\"assistant\",\"tool_calls\":[{\"type\":\"function\",\"function\":{\"name\":\"f\"}}]}]}",
     "messages[0].tool_calls[0].id", "missing_required_parameter"},
    {true, "{\"messages\":[{\"role\":\"assistant\",\"tool_calls\":[{\"id\":\"a\",\"function\":{\"name\":\"f\",\"arguments\":5}}]}]}",
     "messages[0].tool_calls[0].function.arguments", "invalid_type"},
    {true, "{\"messages\":[{\"role\":\"assistant\",\"tool_calls\":{}}]}", "messages[0].tool_calls", "invalid_type"},
    {true, "{\"messages\":[{\"role\":\"user\",\"content\":\"x\",\"tool_calls\":[]}]}", "messages[0].tool_calls", "invalid_value"},
    {true, "{\"messages\":[{\"role\":\"assistant\",\"content\":\"x\",\"reasoning_content\":3}]}", "messages[0].reasoning_content", "invalid_type"},
    {true, "{" U ",\"model\":5}", "model", "invalid_type"},
    {true, "{" U ",\"stream\":\"yes\"}", "stream", "invalid_type"},
    {true, "{" U ",\"stream_options\":[]}", "stream_options", "invalid_type"},
    {true, "{" U ",\"stream_options\":{\"include_usage\":1}}", "stream_options.include_usage", "invalid_type"},
    {true, "{" U ",\"temperature\":\"hot\"}", "temperature", "invalid_type"},
    {true, "{" U ",\"temperature\":3}", "temperature", "invalid_value"},
    {true, "{" U ",\"top_p\":1.5}", "top_p", "invalid_value"},
    {true, "{" U ",\"top_k\":-1}", "top_k", "invalid_value"},
    {true, "{" U ",\"min_p\":[]}", "min_p", "invalid_type"},
    {true, "{" U ",\"presence_penalty\":9}", "presence_penalty", "invalid_value"},
    {true, "{" U ",\"frequency_penalty\":{}}", "frequency_penalty", "invalid_type"},
    {true, "{" U ",\"seed\":1.5}", "seed", "invalid_type"},
    {true, "{" U ",\"stop\":5}", "stop", "invalid_type"},
    {true, "{" U ",\"stop\":[\"a\",1]}", "stop[1]", "invalid_type"},
    {true, "{" U ",\"stop\":[\"1\",\"2\",\"3\",\"4\",\"5\",\"6\",\"7\",\"8\",\"9\",\"10\",\"11\",\"12\",\"13\",\"14\",\"15\",\"16\",\"17\"]}",
     "stop", "invalid_value"},
    {true, "{" U ",\"n\":2}", "n", "invalid_value"},
    {true, "{" U ",\"n\":\"1\"}", "n", "invalid_type"},
    {true, "{" U ",\"logprobs\":1}", "logprobs", "invalid_type"},
    {true, "{" U ",\"top_logprobs\":3}", "top_logprobs", "invalid_value"},
    {true, "{" U ",\"logprobs\":true,\"top_logprobs\":21}", "top_logprobs", "invalid_value"},
    {true, "{" U ",\"response_format\":{\"type\":\"json_schema\",\"json_schema\":{}}}", "response_format.type", "unsupported_value"},
    {true, "{" U ",\"response_format\":{\"type\":\"yaml\"}}", "response_format.type", "invalid_value"},
    {true, "{" U ",\"response_format\":\"json\"}", "response_format", "invalid_type"},
    {true, "{" U ",\"reasoning_effort\":\"extreme\"}", "reasoning_effort", "invalid_value"},
    {true, "{" U ",\"reasoning_effort\":1}", "reasoning_effort", "invalid_type"},
    {true, "{" U ",\"chat_template_kwargs\":[]}", "chat_template_kwargs", "invalid_type"},
    {true, "{" U ",\"chat_template_kwargs\":{\"messages\":1}}", "chat_template_kwargs", "invalid_value"},
    {true, "{" U ",\"tools\":{}}", "tools", "invalid_type"},
    {true, "{" U ",\"tools\":[{\"type\":\"custom\",\"custom\":{}}]}", "tools[0].type", "invalid_value"},
    {true, "{" U ",\"tools\":[{\"type\":\"function\"}]}", "tools[0].function", "missing_required_parameter"},
    {true, "{" U ",\"tools\":[{\"type\":\"function\",\"function\":{\"name\":3}}]}", "tools[0].function.name", "invalid_type"},
    {true, "{" U ",\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"f\",\"parameters\":\"{}\"}}]}",
     "tools[0].function.parameters", "invalid_type"},
    {true, "{" U ",\"tool_choice\":\"always\"}", "tool_choice", "invalid_value"},
    {true, "{" U ",\"tool_choice\":\"required\"}", "tool_choice", "invalid_value"},
    {true, "{" U ",\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"f\"}}],\"tool_choice\":{\"type\":\"function\",\"function\":{\"name\":\"g\"}}}",
     "tool_choice.function.name", "invalid_value"},
    {true, "{" U ",\"tool_choice\":5}", "tool_choice", "invalid_type"},
    {true, "{" U ",\"parallel_tool_calls\":\"no\"}", "parallel_tool_calls", "invalid_type"},
    {true, "{" U ",\"ignore_eos\":1}", "ignore_eos", "invalid_type"},
    {false, "{}", "prompt", "missing_required_parameter"},
    {false, "{\"prompt\":5}", "prompt", "invalid_type"},
    {false, "{\"prompt\":[]}", "prompt", "invalid_value"},
    {false, "{\"prompt\":[\"a\",\"b\"]}", "prompt", "invalid_value"},
    {false, "{\"prompt\":[1,-2]}", "prompt[1]", "invalid_value"},
    {false, "{\"prompt\":[1,\"x\"]}", "prompt[1]", "invalid_type"},
    {false, "{\"prompt\":\"x\",\"echo\":true}", "echo", "unsupported_parameter"},
    {false, "{\"prompt\":\"x\",\"suffix\":\"y\"}", "suffix", "unsupported_parameter"},
    {false, "{\"prompt\":\"x\",\"best_of\":3}", "best_of", "invalid_value"},
    {false, "{\"prompt\":\"x\",\"logprobs\":true}", "logprobs", "invalid_type"},
    {false, "{\"prompt\":\"x\",\"logprobs\":50}", "logprobs", "invalid_value"},
};

static void test_bad_requests(void **state) {
    (void)state;
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        api_request r;
        api_error e;
        memset(&e, 0, sizeof e);
        int rc = api_parse_request(bad[i].body, strlen(bad[i].body), bad[i].chat, &r, &e);
        if (rc != -1) fail_msg("accepted: %s", bad[i].body);
        if (e.status != 400 || strcmp(e.param, bad[i].param) || (bad[i].code && strcmp(e.code ? e.code : "", bad[i].code)))
            fail_msg("case %zu: %s\n  got %d param '%s' code '%s': %s\n  want param '%s' code '%s'", i, bad[i].body, e.status,
                     e.param, e.code ? e.code : "(null)", e.message, bad[i].param, bad[i].code ? bad[i].code : "(any)");
        /* the error body is valid JSON in OpenAI's shape */
        size_t len;
        char *js = api_error_json(&e, &len);
        assert_non_null(js);
        json_t *j = json_loads(js, 0, NULL);
        assert_non_null(j);
        json_t *err = json_object_get(j, "error");
        assert_true(json_is_string(json_object_get(err, "message")));
        assert_string_equal(json_string_value(json_object_get(err, "type")), "invalid_request_error");
        assert_true(bad[i].param[0] ? json_is_string(json_object_get(err, "param")) : json_is_null(json_object_get(err, "param")));
        assert_non_null(json_object_get(err, "code"));
        json_decref(j);
        free(js);
    }
}

static void test_error_json_bytes(void **state) {
    (void)state;
    api_error e;
    api_fail(&e, 404, "invalid_request_error", NULL, NULL, "The model '%s' does not exist.", "\xff\xc3 \"q\"");
    char *js = api_error_json(&e, NULL);
    assert_non_null(js);
    json_t *j = json_loads(js, 0, NULL);
    assert_non_null(j);
    assert_true(json_is_null(json_object_get(json_object_get(j, "error"), "code")));
    json_decref(j);
    free(js);
}

/* ---- output -> SSE -------------------------------------------------------------------- */

typedef struct {
    sbuf content, reasoning, reasoning2;
    struct { char id[40]; char name[64]; sbuf args; int n_first; } calls[4];
    int n_calls;
    char finish[16];
    bool saw_role, saw_usage, saw_done;
    int usage_completion;
} reassembled;

static void reassembled_free(reassembled *r) {
    sbuf_free(&r->content);
    sbuf_free(&r->reasoning);
    sbuf_free(&r->reasoning2);
    for (int i = 0; i < 4; i++) sbuf_free(&r->calls[i].args);
}

/* Reads an SSE body the way a careful client does, checking each chunk's shape. */
static void reassemble(const char *sse, reassembled *out) {
    memset(out, 0, sizeof *out);
    const char *p = sse;
    while (*p) {
        const char *end = strstr(p, "\n\n");
        assert_non_null(end);
        assert_memory_equal(p, "data: ", 6);
        p += 6;
        if (!strncmp(p, "[DONE]", 6)) {
            out->saw_done = true;
            assert_string_equal(end + 2, "");
            break;
        }
        assert_false(out->saw_done);
        json_error_t je;
        json_t *c = json_loadb(p, (size_t)(end - p), 0, &je);
        if (!c) fail_msg("bad chunk JSON: %s: %.*s", je.text, (int)(end - p), p);
        assert_string_equal(json_string_value(json_object_get(c, "object")), "chat.completion.chunk");
        assert_memory_equal(json_string_value(json_object_get(c, "id")), "chatcmpl-", 9);
        assert_true(json_is_integer(json_object_get(c, "created")));
        assert_true(json_is_string(json_object_get(c, "model")));
        assert_true(json_is_string(json_object_get(c, "system_fingerprint")));
        json_t *choices = json_object_get(c, "choices");
        assert_true(json_is_array(choices));
        json_t *usage = json_object_get(c, "usage");
        if (json_array_size(choices) == 0) {
            assert_true(json_is_object(usage));
            assert_true(json_is_integer(json_object_get(json_object_get(usage, "prompt_tokens_details"), "cached_tokens")));
            assert_true(json_is_integer(json_object_get(json_object_get(usage, "completion_tokens_details"), "reasoning_tokens")));
            out->usage_completion = (int)json_integer_value(json_object_get(usage, "completion_tokens"));
            assert_int_equal(json_integer_value(json_object_get(usage, "total_tokens")),
                             json_integer_value(json_object_get(usage, "prompt_tokens")) + out->usage_completion);
            out->saw_usage = true;
        } else {
            assert_int_equal(json_array_size(choices), 1);
            assert_false(out->saw_usage);
            json_t *ch = json_array_get(choices, 0), *d = json_object_get(ch, "delta");
            assert_int_equal(json_integer_value(json_object_get(ch, "index")), 0);
            assert_true(json_is_object(d));
            json_t *fr = json_object_get(ch, "finish_reason");
            assert_non_null(fr);
            assert_non_null(json_object_get(ch, "logprobs"));
            if (json_is_string(fr)) {
                assert_string_equal(out->finish, "");
                snprintf(out->finish, sizeof out->finish, "%s", json_string_value(fr));
            }
            if (json_object_get(d, "role")) {
                assert_false(out->saw_role);
                assert_string_equal(json_string_value(json_object_get(d, "role")), "assistant");
                out->saw_role = true;
            } else {
                assert_true(out->saw_role); /* the role comes first */
            }
            json_t *t;
            if ((t = json_object_get(d, "content"))) sbuf_add(&out->content, json_string_value(t), json_string_length(t));
            if ((t = json_object_get(d, "reasoning_content"))) sbuf_add(&out->reasoning, json_string_value(t), json_string_length(t));
            if ((t = json_object_get(d, "reasoning"))) sbuf_add(&out->reasoning2, json_string_value(t), json_string_length(t));
            json_t *tcs = json_object_get(d, "tool_calls");
            if (tcs) {
                assert_int_equal(json_array_size(tcs), 1);
                json_t *tc = json_array_get(tcs, 0), *fn = json_object_get(tc, "function");
                int idx = (int)json_integer_value(json_object_get(tc, "index"));
                assert_true(idx >= 0 && idx < 4);
                if (json_object_get(tc, "id")) { /* first delta of a call */
                    assert_int_equal(idx, out->n_calls);
                    out->n_calls++;
                    assert_memory_equal(json_string_value(json_object_get(tc, "id")), "call_", 5);
                    snprintf(out->calls[idx].id, sizeof out->calls[idx].id, "%s", json_string_value(json_object_get(tc, "id")));
                    assert_string_equal(json_string_value(json_object_get(tc, "type")), "function");
                    snprintf(out->calls[idx].name, sizeof out->calls[idx].name, "%s", json_string_value(json_object_get(fn, "name")));
                    assert_string_equal(json_string_value(json_object_get(fn, "arguments")), "");
                    out->calls[idx].n_first++;
                } else {
                    assert_true(idx < out->n_calls);
                    assert_null(json_object_get(tc, "type"));
                    assert_null(json_object_get(fn, "name"));
                    json_t *a = json_object_get(fn, "arguments");
                    assert_true(json_is_string(a));
                    sbuf_add(&out->calls[idx].args, json_string_value(a), json_string_length(a));
                }
            }
        }
        json_decref(c);
        p = end + 2;
    }
    assert_true(out->saw_done);
}

typedef struct {
    const char *family;
    const char *tools_json;
    const char *output;
    const char *stops[2];
    engine_finish why;
    /* expected */
    const char *content, *reasoning, *finish;
    int n_calls;
    const char *names[2], *args[2]; /* args compared as JSON */
} stream_case;

static const char *weather_tools =
    "[{\"type\":\"function\",\"function\":{\"name\":\"get_weather\",\"parameters\":{\"type\":\"object\",\"properties\":"
    "{\"city\":{\"type\":\"string\"},\"days\":{\"type\":\"integer\"}}}}},"
    "{\"type\":\"function\",\"function\":{\"name\":\"write_file\",\"parameters\":{\"type\":\"object\",\"properties\":"
    "{\"path\":{\"type\":\"string\"},\"content\":{\"type\":\"string\"}}}}}]";

static const stream_case cases[] = {
    {"hermes", NULL, "Hello, world! \xc3\xa9\xe2\x82\xac", {NULL}, ENGINE_FINISH_EOG, "Hello, world! \xc3\xa9\xe2\x82\xac", "", "stop", 0, {NULL}, {NULL}},
    {"hermes", NULL, "Hello STOP world", {"STOP"}, ENGINE_FINISH_CANCELLED, "Hello ", "", "stop", 0, {NULL}, {NULL}},
    {"hermes", NULL, "truncated answer", {NULL}, ENGINE_FINISH_LENGTH, "truncated answer", "", "length", 0, {NULL}, {NULL}},
    {"hermes", "T",
     "Let me check.\n<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\", \"days\": 3}}\n</tool_call>\n"
     "<tool_call>\n{\"name\": \"write_file\", \"arguments\": {\"path\": \"a.txt\", \"content\": \"line1\\nline2 \\\"q\\\"\"}}\n</tool_call>",
     {NULL}, ENGINE_FINISH_EOG, "Let me check.", "", "tool_calls", 2, {"get_weather", "write_file"},
     {"{\"city\": \"Paris\", \"days\": 3}", "{\"path\": \"a.txt\", \"content\": \"line1\\nline2 \\\"q\\\"\"}"}},
    {"qwen3-coder", "T",
     "<tool_call>\n<function=write_file>\n<parameter=path>\nsrc/main.c\n</parameter>\n<parameter=content>\n#include <stdio.h>\n"
     "int main(void) { return 0; }\n</parameter>\n</function>\n</tool_call>",
     {NULL}, ENGINE_FINISH_EOG, "", "", "tool_calls", 1, {"write_file"},
     {"{\"path\": \"src/main.c\", \"content\": \"#include <stdio.h>\\nint main(void) { return 0; }\"}"}},
    {"qwen3-coder", "T", "<tool_call>\n<function=get_weather>\n<parameter=days>\n5\n</parameter>\n</function>\n</tool_call>",
     {NULL}, ENGINE_FINISH_EOG, "", "", "tool_calls", 1, {"get_weather"}, {"{\"days\": 5}"}},
    {"hermes-think", "T", "<think>\nI should answer.\n</think>\n\nThe answer is 4.", {NULL}, ENGINE_FINISH_EOG,
     "The answer is 4.", "I should answer.", "stop", 0, {NULL}, {NULL}},
    /* malformed tool call: content, never dropped */
    {"hermes", "T", "<tool_call>\nnot json at all\n</tool_call>", {NULL}, ENGINE_FINISH_EOG,
     "<tool_call>\nnot json at all\n</tool_call>", "", "stop", 0, {NULL}, {NULL}},
    /* tool_choice none (no tools given to the parser): tool syntax stays content */
    {"hermes", NULL, "<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {}}\n</tool_call>", {NULL}, ENGINE_FINISH_EOG,
     "<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {}}\n</tool_call>", "", "stop", 0, {NULL}, {NULL}},
};

static void assert_json_equal(const char *got, const char *want) {
    json_t *a = json_loads(got, 0, NULL), *b = json_loads(want, 0, NULL);
    if (!a || !b || !json_equal(a, b)) fail_msg("JSON differs:\n  got  %s\n  want %s", got, want);
    json_decref(a);
    json_decref(b);
}

/* Runs one case with the output cut into pieces of `step` bytes; returns the SSE text. */
static char *run_stream(const stream_case *sc, size_t step, json_t *tools, char **whole_json) {
    gen_params p;
    memset(&p, 0, sizeof p);
    p.n_prompt = 10;
    p.stops = (char *const *)sc->stops;
    p.n_stops = sc->stops[0] ? 1 : 0;
    p.parser.family = chat_parser_family_find(sc->family);
    assert_non_null(p.parser.family);
    p.parser.tools = tools;
    p.parser.parse_tool_calls = tools != NULL;
    gen *g = gen_start_text(&p);
    assert_non_null(g);
    api_meta m;
    api_meta_init(&m, true, "test-model", "fennec-test", NULL);
    m.include_usage = true;
    sbuf out = {0};
    api_accum acc;
    api_accum_init(&acc);
    gen_delta d;
    memset(&d, 0, sizeof d);
    api_stream_begin(&m, &out);
    size_t n = strlen(sc->output);
    for (size_t i = 0; i < n; i += step) {
        gen_push_text(g, sc->output + i, i + step < n ? step : n - i, &d);
        assert_string_equal(d.error, "");
        api_stream_delta(&m, &d, &out);
        api_accum_add(&acc, &m, &d, false);
    }
    gen_end_text(g, sc->why, &d);
    assert_true(d.done);
    api_stream_delta(&m, &d, &out);
    api_accum_add(&acc, &m, &d, false);
    gen_usage u;
    gen_get_usage(g, &u);
    api_stream_end(&m, &u, &out);
    *whole_json = api_response_json(&m, &acc, &u, NULL);
    assert_non_null(*whole_json);
    api_accum_free(&acc);
    gen_delta_free(&d);
    gen_free(g);
    assert_false(sbuf_failed(&out));
    return sbuf_take(&out, NULL);
}

static void check_whole(const stream_case *sc, const char *js) {
    json_t *j = json_loads(js, 0, NULL);
    assert_non_null(j);
    assert_string_equal(json_string_value(json_object_get(j, "object")), "chat.completion");
    assert_true(json_is_string(json_object_get(j, "system_fingerprint")));
    json_t *ch = json_array_get(json_object_get(j, "choices"), 0), *msg = json_object_get(ch, "message");
    assert_string_equal(json_string_value(json_object_get(ch, "finish_reason")), sc->finish);
    assert_string_equal(json_string_value(json_object_get(msg, "role")), "assistant");
    json_t *content = json_object_get(msg, "content");
    if (sc->n_calls && !sc->content[0]) assert_true(json_is_null(content));
    else assert_string_equal(json_string_value(content), sc->content);
    if (sc->reasoning[0]) {
        assert_string_equal(json_string_value(json_object_get(msg, "reasoning_content")), sc->reasoning);
        assert_string_equal(json_string_value(json_object_get(msg, "reasoning")), sc->reasoning);
    }
    json_t *calls = json_object_get(msg, "tool_calls");
    assert_int_equal(json_array_size(calls), sc->n_calls);
    for (int i = 0; i < sc->n_calls; i++) {
        json_t *c = json_array_get(calls, (size_t)i), *fn = json_object_get(c, "function");
        assert_memory_equal(json_string_value(json_object_get(c, "id")), "call_", 5);
        assert_string_equal(json_string_value(json_object_get(c, "type")), "function");
        assert_string_equal(json_string_value(json_object_get(fn, "name")), sc->names[i]);
        assert_json_equal(json_string_value(json_object_get(fn, "arguments")), sc->args[i]);
    }
    json_t *usage = json_object_get(j, "usage");
    assert_true(json_is_integer(json_object_get(json_object_get(usage, "prompt_tokens_details"), "cached_tokens")));
    json_decref(j);
}

static void test_streams(void **state) {
    (void)state;
    json_t *tools = json_loads(weather_tools, 0, NULL);
    assert_non_null(tools);
    const char *dump = getenv("FENNEC_SSE_DUMP_DIR");
    for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
        const stream_case *sc = &cases[c];
        size_t n = strlen(sc->output);
        for (size_t step = 1; step <= n; step += step < 8 ? 1 : 7) {
            char *whole = NULL;
            char *sse = run_stream(sc, step, sc->tools_json ? tools : NULL, &whole);
            reassembled r;
            reassemble(sse, &r);
            assert_true(r.saw_role && r.saw_usage);
            assert_string_equal(r.finish, sc->finish);
            assert_string_equal(r.content.data ? r.content.data : "", sc->content);
            assert_string_equal(r.reasoning.data ? r.reasoning.data : "", sc->reasoning);
            assert_string_equal(r.reasoning2.data ? r.reasoning2.data : "", sc->reasoning);
            assert_int_equal(r.n_calls, sc->n_calls);
            for (int i = 0; i < sc->n_calls; i++) {
                assert_string_equal(r.calls[i].name, sc->names[i]);
                assert_int_equal(r.calls[i].n_first, 1);
                assert_json_equal(r.calls[i].args.data ? r.calls[i].args.data : "", sc->args[i]);
            }
            check_whole(sc, whole);
            if (dump && step == 3 && sc->n_calls) {
                char path[512];
                snprintf(path, sizeof path, "%s/case%zu.sse", dump, c);
                FILE *f = fopen(path, "w");
                assert_non_null(f);
                fputs(sse, f);
                fclose(f);
                snprintf(path, sizeof path, "%s/case%zu.json", dump, c);
                f = fopen(path, "w");
                assert_non_null(f);
                fputs(whole, f);
                fclose(f);
            }
            reassembled_free(&r);
            free(sse);
            free(whole);
        }
    }
    json_decref(tools);
}

static void test_completion_chunks(void **state) {
    (void)state;
    gen_params p;
    memset(&p, 0, sizeof p);
    gen *g = gen_start_text(&p);
    api_meta m;
    api_meta_init(&m, false, "m", "fp", NULL);
    assert_memory_equal(m.id, "cmpl-", 5);
    sbuf out = {0};
    gen_delta d;
    memset(&d, 0, sizeof d);
    api_stream_begin(&m, &out);
    assert_int_equal(out.len, 0); /* no role chunk for text completions */
    gen_push_text(g, "abc", 3, &d);
    api_stream_delta(&m, &d, &out);
    gen_end_text(g, ENGINE_FINISH_LENGTH, &d);
    api_stream_delta(&m, &d, &out);
    gen_usage u;
    gen_get_usage(g, &u);
    api_stream_end(&m, &u, &out);
    assert_non_null(strstr(out.data, "\"object\":\"text_completion\""));
    assert_non_null(strstr(out.data, "\"text\":\"abc\""));
    assert_non_null(strstr(out.data, "\"finish_reason\":\"length\""));
    assert_null(strstr(out.data, "\"usage\"")); /* not asked for */
    assert_non_null(strstr(out.data, "data: [DONE]\n\n"));
    sbuf_free(&out);
    gen_delta_free(&d);
    gen_free(g);
}

static void test_metrics(void **state) {
    (void)state;
    metrics *m = metrics_new();
    metrics_request(m, "/v1/chat/completions", 200);
    metrics_request(m, "/v1/chat/completions", 400);
    metrics_request(m, "/evil\"path", 999);
    metrics_tokens(m, 100, 60, 20);
    metrics_ttft(m, 0.2);
    metrics_itl(m, 0.003);
    engine_stats st = {.queued = 2, .active = 3, .n_slots = 4};
    sbuf b = {0};
    metrics_render(m, &st, true, &b);
    assert_non_null(strstr(b.data, "fennec_requests_total{route=\"/v1/chat/completions\",status=\"200\"} 1\n"));
    assert_non_null(strstr(b.data, "fennec_requests_total{route=\"other\",status=\"other\"} 1\n"));
    assert_non_null(strstr(b.data, "fennec_prompt_tokens_total 100\n"));
    assert_non_null(strstr(b.data, "fennec_prompt_cached_tokens_total 60\n"));
    assert_non_null(strstr(b.data, "fennec_generated_tokens_total 20\n"));
    assert_non_null(strstr(b.data, "fennec_time_to_first_token_seconds_bucket{le=\"0.25\"} 1\n"));
    assert_non_null(strstr(b.data, "fennec_time_to_first_token_seconds_bucket{le=\"0.1\"} 0\n"));
    assert_non_null(strstr(b.data, "fennec_inter_token_latency_seconds_count 1\n"));
    assert_non_null(strstr(b.data, "fennec_queue_depth 2\n"));
    assert_non_null(strstr(b.data, "fennec_active_sequences 3\n"));
    assert_null(strstr(b.data, "evil"));
    sbuf_free(&b);
    metrics_free(m);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_chat_fields),   cmocka_unit_test(test_completion_fields),
        cmocka_unit_test(test_bad_requests),  cmocka_unit_test(test_error_json_bytes),
        cmocka_unit_test(test_streams),       cmocka_unit_test(test_completion_chunks),
        cmocka_unit_test(test_metrics),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
