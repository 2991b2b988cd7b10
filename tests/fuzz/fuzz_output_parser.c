/* fuzz_output_parser.c - libFuzzer entry point for the streaming output parser. Byte 0 picks
 * the family, the flags and the tools; byte 1 seeds a random chunking; the rest is the model
 * output. Asserts the API's promises (valid UTF-8, ARGS joined == END == one JSON object,
 * event order) and that one-shot, byte-by-byte and random chunking give the same events. */
#include "chat/output_parser.h"

#include "../lib/chat_event_log.h"
#include "base/error.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static json_t *tool_sets[3]; /* NULL, Qwen3-Coder style tools, Hermes style tools (read-only) */

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc;
    (void)argv;
    tool_sets[1] = json_loads(
        "[{\"type\": \"function\", \"function\": {\"name\": \"write_file\", \"parameters\": "
        "{\"type\": \"object\", \"properties\": {\"path\": {\"type\": \"string\"}, \"content\": "
        "{\"type\": \"string\"}, \"mode\": {\"type\": \"integer\"}}}}},"
        " {\"type\": \"function\", \"function\": {\"name\": \"f\", \"parameters\": {\"type\": "
        "\"object\", \"properties\": {\"a\": {\"type\": \"array\"}, \"b\": {\"type\": "
        "[\"string\", \"null\"]}, \"n\": {\"type\": \"number\"}, \"o\": {\"type\": \"object\"}, "
        "\"t\": {\"type\": \"boolean\"}, \"e\": {\"enum\": [\"x\", \"y\"]}}}}},"
        " {\"type\": \"function\", \"function\": {\"name\": \"g\"}}]",
        0, NULL);
    tool_sets[2] = json_loads(
        "[{\"type\": \"function\", \"function\": {\"name\": \"get_weather\", \"parameters\": "
        "{\"type\": \"object\", \"properties\": {\"city\": {\"type\": \"string\"}}}}}]",
        0, NULL);
    FN_ASSERT(tool_sets[1] && tool_sets[2]);
    return 0;
}

static void run(const chat_parser_config *cfg, const char *text, size_t len, int mode,
                uint64_t seed, evlog *log) {
    evlog_init(log);
    chat_parser *p = chat_parser_new(cfg);
    FN_ASSERT(p);
    size_t at = 0;
    while (at < len) {
        size_t step = len - at;
        if (mode == 1) step = 1;
        if (mode == 2) {
            seed = seed * 6364136223846793005ull + 1442695040888963407ull;
            size_t s = 1 + (size_t)(seed >> 33) % 24;
            if (s < step) step = s;
        }
        FN_ASSERT(chat_parser_push(p, text + at, step, evlog_cb, log) == 0);
        at += step;
    }
    FN_ASSERT(chat_parser_finish(p, evlog_cb, log) == 0);
    chat_parser_free(p);
    if (log->bad) fprintf(stderr, "broken promise: %s\n", log->bad);
    FN_ASSERT(log->bad == NULL);
    FN_ASSERT(log->open == -1);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 2) return 0;
    uint8_t sel = data[0];
    chat_parser_config cfg = {
        .family = chat_parser_family_at((sel & 0x0f) % chat_parser_family_count()),
        .parse_tool_calls = !(sel & 0x80),
        .starts_in_reasoning = (sel & 0x40) != 0,
        .tools = tool_sets[(sel >> 4) % 3],
    };
    const char *text = (const char *)data + 2;
    size_t len = size - 2;

    evlog one, bytes, chunks;
    run(&cfg, text, len, 0, 0, &one);
    run(&cfg, text, len, 1, 0, &bytes);
    run(&cfg, text, len, 2, data[1] + 1, &chunks);
    FN_ASSERT(evlog_equal(&one, &bytes));
    FN_ASSERT(evlog_equal(&one, &chunks));

    /* the whole-output call agrees with the events */
    chat_parse_result r;
    FN_ASSERT(chat_parse_all(&cfg, text, len, &r) == 0);
    size_t content = 0, calls = 0;
    for (size_t i = 0; i < one.n; i++) {
        if (one.ev[i].kind == CHAT_EV_CONTENT) content += one.ev[i].len;
        if (one.ev[i].kind == CHAT_EV_TOOL_BEGIN) calls++;
    }
    FN_ASSERT(r.content_len == content);
    FN_ASSERT(json_array_size(r.tool_calls) == calls);
    /* with nothing to parse, the output comes back as it was (valid UTF-8 kept) */
    if (!cfg.family->think_open && (!cfg.parse_tool_calls || cfg.family->tools == CHAT_TOOLS_NONE)
        && utf8_valid_prefix(text, len) == len)
        FN_ASSERT(r.content_len == len && !memcmp(r.content, text, len));
    chat_parse_result_free(&r);

    evlog_free(&one);
    evlog_free(&bytes);
    evlog_free(&chunks);
    return 0;
}
