/* fuzz_jinja.c - libFuzzer entry point for the chat-template interpreter: parse arbitrary
 * bytes as a template, then render it for a fixed conversation (every message kind, tools,
 * kwargs) under small bounds, so recursion, loops and output stay cheap. Any crash, leak,
 * sanitizer report or failure without a message is a finding. */
#include "chat/chat_template.h"

#include "base/error.h"

#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static const char CONVERSATION[] =
    "{\"messages\": ["
    " {\"role\": \"system\", \"content\": \"Be brief.\"},"
    " {\"role\": \"user\", \"content\": \"h\\u00e9llo \\ud83e\\udd8a\\n{{ x }}\"},"
    " {\"role\": \"assistant\", \"content\": \"<think>\\nhm\\n</think>\\n\\nok\", \"reasoning_content\": \"r\"},"
    " {\"role\": \"assistant\", \"content\": null, \"tool_calls\": [{\"id\": \"c1\", \"type\": \"function\","
    "   \"function\": {\"name\": \"f\", \"arguments\": \"{\\\"a\\\": [1, 2.5, true, null], \\\"b\\\": {\\\"c\\\": \\\"d\\\"}}\"}}]},"
    " {\"role\": \"tool\", \"tool_call_id\": \"c1\", \"content\": \"42\"},"
    " {\"role\": \"user\", \"content\": [{\"type\": \"text\", \"text\": \"part\"}]}],"
    " \"tools\": [{\"type\": \"function\", \"function\": {\"name\": \"f\", \"description\": \"d\","
    "   \"parameters\": {\"type\": \"object\", \"properties\": {\"a\": {\"type\": \"array\", \"items\": {\"type\": \"number\"}},"
    "   \"b\": {\"type\": \"object\"}}, \"required\": [\"a\"]}}}],"
    " \"kwargs\": {\"enable_thinking\": false, \"reasoning_effort\": \"low\", \"n\": 3}}";

static json_t *conv;

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc;
    (void)argv;
    json_error_t err;
    conv = json_loads(CONVERSATION, JSON_DECODE_INT_AS_REAL, &err);
    FN_ASSERT(conv);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    fn_error_clear();
    chat_template *t = chat_template_parse((const char *)data, size);
    if (!t) {
        FN_ASSERT(fn_errmsg()[0] != 0);
        return 0;
    }
    const chat_render_limits lim = {.max_output = 1 << 16, .max_memory = 32 << 20, .max_steps = 20000};
    chat_render_input in = {
        .messages = json_object_get(conv, "messages"),
        .tools = json_object_get(conv, "tools"),
        .kwargs = json_object_get(conv, "kwargs"),
        .bos_token = "<s>",
        .eos_token = "</s>",
        .add_generation_prompt = size & 1,
        .limits = &lim,
    };
    fn_error_clear();
    size_t len = 0;
    char *out = chat_template_render_n(t, &in, &len);
    if (out) {
        FN_ASSERT(out[len] == 0 && len <= lim.max_output);
        free(out);
    } else {
        FN_ASSERT(fn_errmsg()[0] != 0 || 1); /* raise_exception('') legitimately has no text */
    }
    chat_template_free(t);
    return 0;
}
