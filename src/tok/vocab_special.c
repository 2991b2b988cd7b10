/* vocab_special.c - what llama.cpp infers about special tokens from their texts: missing
 * eot/eom/fim ids, the end-of-generation set, CONTROL marks on control-looking tokens,
 * phi-3's right-strip rule, and the list of tokens to split out of raw text.
 *
 * Deliberate differences from llama.cpp: when several texts qualify for one id, the
 * earliest in each list below wins (llama.cpp takes whichever its hash map yields first);
 * and gpt-oss's <|channel|>, <|message|>, <|start|>, <|constrain|>, <|end|> stay CONTROL
 * instead of becoming USER_DEFINED, so they are never split out of text encoded without
 * parse_special (llama.cpp would inject them from user content). */
#include "tok/vocab.h"

#include "base/error.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

static int32_t find(const tok_vocab *v, const char *text) {
    return strmap_get(&v->map, text, strlen(text));
}

/* If *id is unset, takes the first text of the list present in v and marks it CONTROL. */
static void detect(tok_vocab *v, int32_t *id, const char *const *texts) {
    if (*id >= 0) return;
    for (; *texts; texts++) {
        int32_t t = find(v, *texts);
        if (t >= 0) {
            *id = t;
            v->attr[t] |= VOCAB_ATTR_CONTROL;
            return;
        }
    }
}

static const char *const eot_texts[] = {
    "<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>", "<|endoftext|>", "<|end_of_text|>",
    "<EOT>", "_<EOT>", "[EOT]", "<\xEF\xBD\x9C" "end\xE2\x96\x81of\xE2\x96\x81sentence\xEF\xBD\x9C>",
    "<end_of_utterance>", NULL};
static const char *const eom_texts[] = {"<|eom_id|>", NULL};
static const char *const fim_pre_texts[] = {
    "<|fim_prefix|>", "<fim-prefix>", "<fim_prefix>", "<\xEF\xBD\x9C" "fim\xE2\x96\x81" "begin\xEF\xBD\x9C>",
    "<PRE>", "\xE2\x96\x81<PRE>", "<|code_prefix|>", "<|prefix|>", NULL};
static const char *const fim_suf_texts[] = {
    "<|fim_suffix|>", "<fim-suffix>", "<fim_suffix>", "<\xEF\xBD\x9C" "fim\xE2\x96\x81hole\xEF\xBD\x9C>",
    "<SUF>", "\xE2\x96\x81<SUF>", "<|code_suffix|>", "<|suffix|>", NULL};
static const char *const fim_mid_texts[] = {
    "<|fim_middle|>", "<fim-middle>", "<fim_middle>", "<\xEF\xBD\x9C" "fim\xE2\x96\x81" "end\xEF\xBD\x9C>",
    "<MID>", "\xE2\x96\x81<MID>", "<|code_middle|>", "<|middle|>", NULL};
static const char *const fim_pad_texts[] = {"<|fim_pad|>", "<fim-pad>", "<fim_pad>", "<PAD>", "[PAD]", NULL};
static const char *const fim_rep_texts[] = {"<|fim_repo|>", "<|repo_name|>", "<fim-repo>", "<REPO>",
                                            "<reponame>", NULL};
static const char *const fim_sep_texts[] = {"<|file_sep|>", NULL};

/* Texts that end generation (and are control tokens) whatever the file says. */
static const char *const eog_texts[] = {
    "<|eot_id|>", "<|im_end|>", "<|end|>", "<|return|>", "<|call|>", "<|flush|>", "<|calls|>",
    "<end_of_turn>", "<|endoftext|>", "</s>", "<|eom_id|>", "<EOT>", "_<EOT>", "[EOT]", "[EOS]",
    "<|end_of_text|>", "<end_of_utterance>", "<eos>", "<turn|>", "<|tool_response>",
    "<\xEF\xBD\x9C" "end\xE2\x96\x81of\xE2\x96\x81sentence\xEF\xBD\x9C>", "[e~[", NULL};

/* x goes before y in the splitting order: longer text first, then lower id. */
static bool goes_before(const tok_vocab *v, int32_t x, int32_t y) {
    uint32_t lx = v->text_len[x], ly = v->text_len[y];
    return lx != ly ? lx > ly : x < y;
}

/* Bottom-up merge sort of v->special (a file may mark many tokens special). */
static int sort_special(tok_vocab *v) {
    uint32_t n = v->n_special;
    int32_t *a = v->special, *tmp = malloc((n ? n : 1) * sizeof *tmp);
    if (!tmp) return fn_error("out of memory");
    for (uint32_t w = 1; w < n; w *= 2) {
        for (uint32_t lo = 0; lo < n; lo += 2 * w) {
            uint32_t mid = lo + w < n ? lo + w : n, hi = lo + 2 * w < n ? lo + 2 * w : n;
            uint32_t i = lo, j = mid, k = lo;
            while (i < mid && j < hi) tmp[k++] = goes_before(v, a[j], a[i]) ? a[j++] : a[i++];
            while (i < mid) tmp[k++] = a[i++];
            while (j < hi) tmp[k++] = a[j++];
        }
        memcpy(a, tmp, n * sizeof *a);
    }
    free(tmp);
    return 0;
}

static bool contains_ci(const char *s, const char *needle) {
    size_t n = strlen(needle);
    for (; *s; s++) {
        size_t i = 0;
        while (i < n && s[i] && tolower((unsigned char)s[i]) == needle[i]) i++;
        if (i == n) return true;
    }
    return false;
}

int vocab_detect_special(tok_vocab *v, const char *general_name) {
    detect(v, &v->id.eot, eot_texts);
    detect(v, &v->id.eom, eom_texts);
    detect(v, &v->id.fim_pre, fim_pre_texts);
    detect(v, &v->id.fim_suf, fim_suf_texts);
    detect(v, &v->id.fim_mid, fim_mid_texts);
    detect(v, &v->id.fim_pad, fim_pad_texts);
    detect(v, &v->id.fim_rep, fim_rep_texts);
    detect(v, &v->id.fim_sep, fim_sep_texts);

    /* end of generation: these fim ids, every eog text, eos, eot and eom */
    int32_t fixed[] = {v->id.fim_pad, v->id.fim_rep, v->id.fim_sep, v->id.eos, v->id.eot, v->id.eom};
    for (size_t i = 0; i < FN_ARRAY_LEN(fixed); i++)
        if (fixed[i] >= 0) v->is_eog[fixed[i]] = 1;
    for (const char *const *t = eog_texts; *t; t++) {
        int32_t id = find(v, *t);
        if (id >= 0) {
            v->is_eog[id] = 1;
            v->attr[id] |= VOCAB_ATTR_CONTROL;
        }
    }
    /* gpt-oss (and solar-open): <|end|> closes a message, not the generation */
    int32_t end = find(v, "<|end|>");
    bool has_call = find(v, "<|call|>") >= 0 || find(v, "<|calls|>") >= 0;
    if (end >= 0 && has_call && (find(v, "<|return|>") >= 0 || find(v, "<|flush|>") >= 0) &&
        end != v->id.eos && end != v->id.eot)
        v->is_eog[end] = 0;

    v->n_special = 0;
    for (uint32_t i = 0; i < v->n; i++)
        if (v->attr[i] & (VOCAB_ATTR_CONTROL | VOCAB_ATTR_USER_DEFINED | VOCAB_ATTR_UNKNOWN)) v->n_special++;
    v->special = malloc((v->n_special ? v->n_special : 1) * sizeof *v->special);
    if (!v->special) return fn_error("out of memory");
    uint32_t k = 0;
    for (uint32_t i = 0; i < v->n; i++)
        if (v->attr[i] & (VOCAB_ATTR_CONTROL | VOCAB_ATTR_USER_DEFINED | VOCAB_ATTR_UNKNOWN))
            v->special[k++] = (int32_t)i;
    if (sort_special(v)) return -1;

    /* phi-3 models eat the white space after their special tokens */
    if (general_name && (contains_ci(general_name, "phi-3") || contains_ci(general_name, "phi3"))) {
        for (uint32_t i = 0; i < v->n_special; i++) v->attr[v->special[i]] |= VOCAB_ATTR_RSTRIP;
        int32_t id = find(v, "</s>");
        if (id >= 0) v->attr[id] |= VOCAB_ATTR_RSTRIP;
        static const char *const keep[] = {"<unk>", "<s>", "<|endoftext|>"};
        for (size_t i = 0; i < FN_ARRAY_LEN(keep); i++)
            if ((id = find(v, keep[i])) >= 0) v->attr[id] &= (uint16_t)~VOCAB_ATTR_RSTRIP;
    }
    return 0;
}
