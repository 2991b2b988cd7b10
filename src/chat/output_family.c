/* output_family.c - the one table of model families for the output parser: how each is
 * recognized from its chat template, which tool-call syntax and reasoning tags it uses. */
#include "chat/output_parser.h"

#include <string.h>

/* Detection order matters: the first row whose rules match wins, so the more specific rows
 * come first (Qwen3-Coder templates also contain "<tool_call>"). The last row has no rules
 * and matches everything. */
static const chat_parser_family families[] = {
    {"qwen3-coder", {"<function=", "<parameter="}, {"<think>"}, CHAT_TOOLS_QWEN3_XML, NULL, NULL,
     "Qwen3-Coder: XML tool calls, no reasoning"},
    {"qwen3-xml-think", {"<function=", "<parameter=", "<think>"}, {NULL}, CHAT_TOOLS_QWEN3_XML,
     "<think>", "</think>", "Qwen3.5-style: XML tool calls and <think> reasoning"},
    {"deepseek-v3.1", {"tool\xe2\x96\x81" "calls\xe2\x96\x81" "begin", "<think>"}, {NULL},
     CHAT_TOOLS_NONE, "<think>", "</think>",
     "DeepSeek V3.1: reasoning only; its tool-call syntax is not parsed yet (content)"},
    {"hermes-think", {"<tool_call>", "<think>"}, {NULL}, CHAT_TOOLS_HERMES_JSON, "<think>",
     "</think>", "Qwen3: Hermes JSON tool calls and <think> reasoning"},
    {"hermes", {"<tool_call>"}, {NULL}, CHAT_TOOLS_HERMES_JSON, NULL, NULL,
     "Hermes 2/3, Qwen2.5: JSON tool calls in <tool_call>"},
    {"gpt-oss", {"<|channel|>"}, {NULL}, CHAT_TOOLS_NONE, NULL, NULL,
     "gpt-oss (harmony channels): not supported yet, output is plain content"},
    {"llama3", {"<|python_tag|>"}, {NULL}, CHAT_TOOLS_NONE, NULL, NULL,
     "Llama 3.1+ JSON/python_tag tool calls: not supported yet, output is plain content"},
    {"mistral", {"[TOOL_CALLS]"}, {NULL}, CHAT_TOOLS_NONE, NULL, NULL,
     "Mistral/Devstral [TOOL_CALLS]: not supported yet, output is plain content"},
    {"plain", {NULL}, {NULL}, CHAT_TOOLS_NONE, NULL, NULL,
     "no tool calls, no reasoning: all output is content"},
};

static bool row_matches(const chat_parser_family *f, const char *src) {
    for (size_t i = 0; i < sizeof f->match_all / sizeof f->match_all[0]; i++)
        if (f->match_all[i] && (!src || !strstr(src, f->match_all[i]))) return false;
    for (size_t i = 0; i < sizeof f->match_none / sizeof f->match_none[0]; i++)
        if (f->match_none[i] && src && strstr(src, f->match_none[i])) return false;
    return true;
}

const chat_parser_family *chat_parser_detect(const char *template_src) {
    size_t n = sizeof families / sizeof families[0];
    for (size_t i = 0; i < n; i++)
        if (row_matches(&families[i], template_src)) return &families[i];
    return &families[n - 1];
}

const chat_parser_family *chat_parser_family_find(const char *name) {
    for (size_t i = 0; name && i < sizeof families / sizeof families[0]; i++)
        if (!strcmp(families[i].name, name)) return &families[i];
    return NULL;
}

size_t chat_parser_family_count(void) {
    return sizeof families / sizeof families[0];
}

const chat_parser_family *chat_parser_family_at(size_t i) {
    return i < chat_parser_family_count() ? &families[i] : NULL;
}

bool chat_parser_prompt_opens_reasoning(const chat_parser_family *f, const char *prompt,
                                        size_t len) {
    if (!f || !f->think_open || !prompt) return false;
    while (len && prompt[len - 1] && strchr(" \t\r\n", prompt[len - 1])) len--;
    size_t t = strlen(f->think_open);
    return len >= t && !memcmp(prompt + len - t, f->think_open, t);
}
