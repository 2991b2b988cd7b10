/* synth_vocab.c - built-in byte-level BPE vocabulary (see synth_vocab.h). The merges are
 * learned by plain BPE training over a short built-in text of English and code, so the
 * tokenizer behaves like a real one (words become few tokens) without shipping data. */
#include "model/synth_vocab.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"

static const char training_text[] =
    "The quick brown fox jumps over the lazy dog. A function returns a value to the caller, "
    "and the caller decides what to do with it. When the request arrives, the server reads "
    "the body, parses the JSON, and sends the result back to the client as a stream of "
    "tokens. Tests check that the output is the same every time the program runs.\n"
    "def parse_args(argv):\n    \"\"\"Return the options given on the command line.\"\"\"\n"
    "    options = {}\n    for index, arg in enumerate(argv):\n        if arg.startswith('--'):\n"
    "            key, _, value = arg[2:].partition('=')\n            options[key] = value\n"
    "    return options\n\n"
    "static int count_lines(const char *text, size_t length) {\n    int lines = 0;\n"
    "    for (size_t i = 0; i < length; i++)\n        if (text[i] == '\\n') lines++;\n"
    "    return lines;\n}\n\n"
    "function fetchUser(id) {\n  return fetch(`/api/users/${id}`).then((response) => response.json());\n}\n"
    "const result = await fetchUser(42);\nconsole.log(result.name);\n"
    "fn main() {\n    let numbers: Vec<i32> = (1..=10).collect();\n"
    "    let total: i32 = numbers.iter().sum();\n    println!(\"total = {}\", total);\n}\n"
    "SELECT name, email FROM users WHERE created_at > '2024-01-01' ORDER BY name;\n"
    "Please read the file, fix the bug in the parser, and run the tests again. The error "
    "message says that the index is out of range on line 12. I think the loop should stop "
    "one element earlier. Let me check the code and write a patch.\n"
    "import os\nimport sys\n\nclass Config:\n    def __init__(self, path):\n        self.path = path\n"
    "        self.values = {}\n\n    def load(self):\n        with open(self.path) as f:\n"
    "            for line in f:\n                name, value = line.strip().split('=', 1)\n"
    "                self.values[name] = value\n";

/* Chat template for the built-in vocabulary: ChatML with Qwen-style tools. */
static const char chat_template[] =
    "{%- if tools %}\n"
    "{{- '<|im_start|>system\\n' }}\n"
    "{%- if messages[0].role == 'system' %}{{- messages[0].content + '\\n\\n' }}{%- endif %}\n"
    "{{- '# Tools\\n\\nYou may call one or more functions to assist with the user query.\\n\\n"
    "You are provided with function signatures within <tools></tools> XML tags:\\n<tools>' }}\n"
    "{%- for tool in tools %}{{- '\\n' }}{{- tool | tojson }}{%- endfor %}\n"
    "{{- '\\n</tools>\\n\\nFor each function call, return a json object with function name and "
    "arguments within <tool_call></tool_call> XML tags:\\n<tool_call>\\n{\"name\": <function-name>, "
    "\"arguments\": <args-json-object>}\\n</tool_call><|im_end|>\\n' }}\n"
    "{%- elif messages[0].role == 'system' %}\n"
    "{{- '<|im_start|>system\\n' + messages[0].content + '<|im_end|>\\n' }}\n"
    "{%- endif %}\n"
    "{%- for message in messages %}\n"
    "{%- if message.role == 'user' or (message.role == 'system' and not loop.first) %}\n"
    "{{- '<|im_start|>' + message.role + '\\n' + message.content + '<|im_end|>\\n' }}\n"
    "{%- elif message.role == 'assistant' %}\n"
    "{{- '<|im_start|>assistant' }}\n"
    "{%- if message.content %}{{- '\\n' + message.content }}{%- endif %}\n"
    "{%- for tool_call in message.tool_calls or [] %}\n"
    "{%- if tool_call.function is defined %}{%- set tool_call = tool_call.function %}{%- endif %}\n"
    "{{- '\\n<tool_call>\\n{\"name\": \"' + tool_call.name + '\", \"arguments\": ' }}\n"
    "{{- tool_call.arguments | tojson if tool_call.arguments is not string else tool_call.arguments }}\n"
    "{{- '}\\n</tool_call>' }}\n"
    "{%- endfor %}\n"
    "{{- '<|im_end|>\\n' }}\n"
    "{%- elif message.role == 'tool' %}\n"
    "{%- if loop.first or messages[loop.index0 - 1].role != 'tool' %}{{- '<|im_start|>user' }}{%- endif %}\n"
    "{{- '\\n<tool_response>\\n' + message.content + '\\n</tool_response>' }}\n"
    "{%- if loop.last or messages[loop.index0 + 1].role != 'tool' %}{{- '<|im_end|>\\n' }}{%- endif %}\n"
    "{%- endif %}\n"
    "{%- endfor %}\n"
    "{%- if add_generation_prompt %}{{- '<|im_start|>assistant\\n' }}{%- endif %}\n";

/* Special tokens after the learned ones: {text, GGUF token type}. Type 3 = control,
 * 4 = user-defined (matched in text like a control token but printed as text). */
static const struct { const char *text; int type; } specials[] = {
    {"<|endoftext|>", 3}, {"<|im_start|>", 3}, {"<|im_end|>", 3},
    {"<|fim_prefix|>", 3}, {"<|fim_middle|>", 3}, {"<|fim_suffix|>", 3}, {"<|fim_pad|>", 3},
    {"<tool_call>", 4}, {"</tool_call>", 4}, {"<think>", 4}, {"</think>", 4},
    {"<tool_response>", 4}, {"</tool_response>", 4},
};

/* GPT-2's reversible byte -> printable code point mapping, as UTF-8 text. */
static void byte_to_piece(unsigned b, char out[4]) {
    unsigned cp;
    if ((b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255)) {
        cp = b;
    } else {
        /* the unprintable bytes are numbered 256, 257, ... in byte order */
        unsigned n = 0;
        for (unsigned c = 0; c < b; c++)
            if (!((c >= 33 && c <= 126) || (c >= 161 && c <= 172) || (c >= 174 && c <= 255))) n++;
        cp = 256 + n;
    }
    if (cp < 0x80) {
        out[0] = (char)cp;
        out[1] = 0;
    } else {
        out[0] = (char)(0xC0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3F));
        out[2] = 0;
    }
}

typedef struct {
    int *ids;    /* token ids of this word */
    int n;
    int count;   /* occurrences in the training text */
} word;

/* Splits the training text roughly like GPT-2's pre-tokenizer: an optional leading space
 * followed by letters, digits, or punctuation; other whitespace alone. */
static int split_words(word **out, int *n_out) {
    const unsigned char *s = (const unsigned char *)training_text;
    size_t len = sizeof training_text - 1, i = 0;
    word *words = NULL;
    int n = 0, cap = 0;
    while (i < len) {
        size_t start = i;
        if (s[i] == ' ' && i + 1 < len && s[i + 1] != ' ' && s[i + 1] != '\n') i++;
        if (isalpha(s[i])) while (i < len && isalpha(s[i])) i++;
        else if (isdigit(s[i])) while (i < len && isdigit(s[i])) i++;
        else if (isspace(s[i])) while (i < len && isspace(s[i]) && s[i] == s[start]) i++;
        else while (i < len && ispunct(s[i])) i++;
        if (i == start) i++;
        /* reuse an identical word */
        int found = -1;
        for (int w = 0; w < n && found < 0; w++)
            if (words[w].n == (int)(i - start)) {
                bool same = true;
                for (int k = 0; k < words[w].n && same; k++) same = words[w].ids[k] == s[start + k];
                if (same) found = w;
            }
        if (found >= 0) {
            words[found].count++;
            continue;
        }
        if (n == cap) {
            cap = cap ? cap * 2 : 256;
            word *grown = realloc(words, (size_t)cap * sizeof *words);
            if (!grown) goto oom;
            words = grown;
        }
        words[n].n = (int)(i - start);
        words[n].count = 1;
        words[n].ids = malloc((size_t)words[n].n * sizeof(int));
        if (!words[n].ids) goto oom;
        for (int k = 0; k < words[n].n; k++) words[n].ids[k] = s[start + k];
        n++;
    }
    *out = words;
    *n_out = n;
    return 0;
oom:
    for (int w = 0; w < n; w++) free(words[w].ids);
    free(words);
    return fn_error("out of memory building the built-in vocabulary");
}

int synth_vocab_write(gguf_writer *w, int n_merges, uint32_t *n_vocab) {
    int rc = -1, n_words = 0;
    word *words = NULL;
    int *pair_count = NULL;
    int n_tokens = 256 + n_merges + (int)FN_ARRAY_LEN(specials);
    char **pieces = calloc((size_t)n_tokens, sizeof *pieces);
    char **merges = calloc((size_t)n_merges + 1, sizeof *merges);
    int32_t *types = calloc((size_t)n_tokens, sizeof *types);
    if (!pieces || !merges || !types) {
        fn_error("out of memory building the built-in vocabulary");
        goto done;
    }
    for (int b = 0; b < 256; b++) {
        char p[4];
        byte_to_piece((unsigned)b, p);
        pieces[b] = strdup(p);
        types[b] = 1;
        if (!pieces[b]) goto done;
    }
    if (split_words(&words, &n_words)) goto done;

    /* Greedy BPE training: merge the most frequent adjacent pair (ties: lowest ids).
     * Pair counts live in a dense n_tokens x n_tokens table that is cleared by walking the
     * same pairs again, so each round costs O(pairs), not O(table). */
    pair_count = calloc((size_t)n_tokens * (size_t)n_tokens, sizeof *pair_count);
    if (!pair_count) {
        fn_error("out of memory building the built-in vocabulary");
        goto done;
    }
    int made = 0;
    for (; made < n_merges; made++) {
        int best_a = -1, best_b = -1, best = 0;
        for (int x = 0; x < n_words; x++)
            for (int k = 0; k + 1 < words[x].n; k++)
                pair_count[words[x].ids[k] * n_tokens + words[x].ids[k + 1]] += words[x].count;
        for (int x = 0; x < n_words; x++)
            for (int k = 0; k + 1 < words[x].n; k++) {
                int a = words[x].ids[k], b = words[x].ids[k + 1], count = pair_count[a * n_tokens + b];
                if (count > best || (count == best && (a < best_a || (a == best_a && b < best_b)))) {
                    best = count;
                    best_a = a;
                    best_b = b;
                }
            }
        for (int x = 0; x < n_words; x++)
            for (int k = 0; k + 1 < words[x].n; k++) pair_count[words[x].ids[k] * n_tokens + words[x].ids[k + 1]] = 0;
        if (best < 1) break;
        int id = 256 + made;
        size_t la = strlen(pieces[best_a]), lb = strlen(pieces[best_b]);
        pieces[id] = malloc(la + lb + 1);
        merges[made] = malloc(la + lb + 2);
        if (!pieces[id] || !merges[made]) goto done;
        memcpy(pieces[id], pieces[best_a], la);
        memcpy(pieces[id] + la, pieces[best_b], lb + 1);
        memcpy(merges[made], pieces[best_a], la);
        merges[made][la] = ' ';
        memcpy(merges[made] + la + 1, pieces[best_b], lb + 1);
        types[id] = 1;
        for (int y = 0; y < n_words; y++) {
            int o = 0;
            for (int j = 0; j < words[y].n; j++) {
                if (j + 1 < words[y].n && words[y].ids[j] == best_a && words[y].ids[j + 1] == best_b) {
                    words[y].ids[o++] = id;
                    j++;
                } else {
                    words[y].ids[o++] = words[y].ids[j];
                }
            }
            words[y].n = o;
        }
    }
    free(pair_count);
    pair_count = NULL;
    int first_special = 256 + made;
    for (size_t i = 0; i < FN_ARRAY_LEN(specials); i++) {
        pieces[first_special + i] = strdup(specials[i].text);
        types[first_special + i] = specials[i].type;
        if (!pieces[first_special + i]) goto done;
    }
    uint32_t total = (uint32_t)(first_special + (int)FN_ARRAY_LEN(specials));
    uint32_t endoftext = (uint32_t)first_special, im_end = (uint32_t)first_special + 2;

    int e = 0;
    e |= gguf_writer_set_str(w, "tokenizer.ggml.model", "gpt2");
    e |= gguf_writer_set_str(w, "tokenizer.ggml.pre", "qwen2");
    e |= gguf_writer_set_arr_str(w, "tokenizer.ggml.tokens", (const char *const *)pieces, total);
    e |= gguf_writer_set_arr(w, "tokenizer.ggml.token_type", GGUF_TYPE_INT32, types, total);
    e |= gguf_writer_set_arr_str(w, "tokenizer.ggml.merges", (const char *const *)merges, (uint64_t)made);
    e |= gguf_writer_set_u32(w, "tokenizer.ggml.eos_token_id", im_end);
    e |= gguf_writer_set_u32(w, "tokenizer.ggml.padding_token_id", endoftext);
    e |= gguf_writer_set_u32(w, "tokenizer.ggml.bos_token_id", endoftext);
    e |= gguf_writer_set_bool(w, "tokenizer.ggml.add_bos_token", false);
    e |= gguf_writer_set_str(w, "tokenizer.chat_template", chat_template);
    if (e) goto done;
    *n_vocab = total;
    rc = 0;
done:
    free(pair_count);
    for (int x = 0; x < n_words; x++) free(words[x].ids);
    free(words);
    for (int i = 0; pieces && i < n_tokens; i++) free(pieces[i]);
    for (int i = 0; merges && i < n_merges; i++) free(merges[i]);
    free(pieces);
    free(merges);
    free(types);
    if (rc && !fn_errmsg()[0]) fn_error("out of memory building the built-in vocabulary");
    return rc;
}
