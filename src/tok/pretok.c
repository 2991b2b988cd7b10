/* pretok.c - the table of pre-tokenizer regexes per tokenizer.ggml.pre and the PCRE2
 * splitter that applies them (see pretok.h for the rules the patterns follow). */
#define PCRE2_CODE_UNIT_WIDTH 8
#include "tok/pretok.h"

#include "base/error.h"

#include <pcre2.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* ---- character classes ------------------------------------------------------------------
 * Class bodies (to be put inside [...]). llama.cpp's tables are Unicode 15; PCRE2 10.42's
 * are Unicode 14, so the code points assigned since are listed explicitly (all of them are
 * unassigned for PCRE2, so adding them is harmless with a newer PCRE2). */
#define WS_ "\\t-\\r \\x{85}\\x{A0}\\x{1680}\\x{2000}-\\x{200A}\\x{2028}\\x{2029}\\x{202F}" \
            "\\x{205F}\\x{3000}"
#define LX_ "\\x{1123F}-\\x{11240}\\x{11F02}\\x{11F04}-\\x{11F10}\\x{11F12}-\\x{11F33}" \
            "\\x{1342F}\\x{13441}-\\x{13446}\\x{1B132}\\x{1B155}\\x{1DF25}-\\x{1DF2A}"     \
            "\\x{1E030}-\\x{1E06D}\\x{1E4D0}-\\x{1E4EB}\\x{2B739}\\x{2EBF0}-\\x{2EE5D}"    \
            "\\x{31350}-\\x{323AF}"
#define L_ "\\p{L}" LX_
#define N_ "\\p{N}\\x{11F50}-\\x{11F59}\\x{1D2C0}-\\x{1D2D3}\\x{1E4F0}-\\x{1E4F9}"
#define M_ "\\p{M}\\x{CF3}\\x{ECE}\\x{10EFD}-\\x{10EFF}\\x{11241}\\x{11F00}-\\x{11F01}"   \
           "\\x{11F03}\\x{11F34}-\\x{11F3A}\\x{11F3E}-\\x{11F42}\\x{13440}"                \
           "\\x{13447}-\\x{13455}\\x{1E08F}\\x{1E4EC}-\\x{1E4EF}"
#define P_ "\\p{P}\\x{11B00}-\\x{11B09}\\x{11F43}-\\x{11F4F}"
#define S_ "\\p{S}\\x{2FFC}-\\x{2FFF}\\x{31EF}\\x{1F6DC}\\x{1F774}-\\x{1F776}"               \
           "\\x{1F77B}-\\x{1F77F}\\x{1F7D9}\\x{1FA75}-\\x{1FA77}\\x{1FA87}-\\x{1FA88}"       \
           "\\x{1FAAD}-\\x{1FAAF}\\x{1FABB}-\\x{1FABD}\\x{1FABF}\\x{1FACE}-\\x{1FACF}"       \
           "\\x{1FADA}-\\x{1FADB}\\x{1FAE8}\\x{1FAF7}-\\x{1FAF8}"

#define WS "[" WS_ "]"
#define NWS "[^" WS_ "]"
#define LET "[" L_ "]"
#define NUM "[" N_ "]"
/* llama.cpp's "(?=[\p{L}])([^a-z])" and "(?=[\p{L}])([^A-Z])" (letters that are not ASCII
 * lower / upper case) as single classes; the Unicode 15 letters are caseless. */
#define UPPER "(?:[^a-z\\P{L}]|[" LX_ "])"
#define LOWER "(?:[^A-Z\\P{L}]|[" LX_ "])"
#define CONTRACTIONS "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])"
#define WS_TAIL WS "*[\\r\\n]+|" WS "+(?!" NWS ")|" WS "+"

/* GPT-2's regex (with its trailing \s+, which llama.cpp's splitter implements). */
#define RE_GPT2 "'s|'t|'re|'ve|'m|'ll|'d| ?" LET "+| ?" NUM "+| ?[^" WS_ L_ N_ "]+|" \
                WS "+(?!" NWS ")|" WS "+"
#define RE_LLAMA3 CONTRACTIONS "|[^\\r\\n" L_ N_ "]?" LET "+|" NUM "{1,3}| ?[^" WS_ L_ N_ \
                  "]+[\\r\\n]*|" WS_TAIL
#define RE_QWEN2 CONTRACTIONS "|[^\\r\\n" L_ N_ "]?" LET "+|" NUM "| ?[^" WS_ L_ N_ \
                 "]+[\\r\\n]*|" WS_TAIL
#define RE_QWEN35 CONTRACTIONS "|[^\\r\\n" L_ N_ "]?[" L_ M_ "]+|" NUM "| ?[^" WS_ L_ M_ N_ \
                  "]+[\\r\\n]*|" WS_TAIL
#define RE_GPT4O "[^\\r\\n" L_ N_ "]?" UPPER "*" LOWER "+" CONTRACTIONS "?|[^\\r\\n" L_ N_ \
                 "]?" UPPER "+" LOWER "*" CONTRACTIONS "?|" NUM "{1,3}| ?[^" WS_ L_ N_   \
                 "]+[\\r\\n/]*|" WS_TAIL
#define RE_TEKKEN "[^\\r\\n" L_ N_ "]?" UPPER "*" LOWER "+|[^\\r\\n" L_ N_ "]?" UPPER "+" \
                  LOWER "*|" NUM "| ?[^" WS_ L_ N_ "]+[\\r\\n/]*|" WS_TAIL
#define RE_BLOOM " ?[^(" WS_ "|.,!?\\x{2026}\\x{3002}\\x{FF0C}\\x{3001}\\x{964}\\x{6D4}\\x{60C})]+"
/* CJK ranges of the DeepSeek splitters. llama.cpp matches them against code points where
 * non-ASCII white space was replaced by \v, so white space inside \x{800}-\x{4E00} is cut
 * out here. */
#define CJK_DEEPSEEK "[\\x{4E00}-\\x{9FA5}\\x{800}-\\x{167F}\\x{1681}-\\x{1FFF}"           \
                     "\\x{200B}-\\x{2027}\\x{202A}-\\x{202E}\\x{2030}-\\x{205E}"           \
                     "\\x{2060}-\\x{2FFF}\\x{3001}-\\x{4E00}\\x{AC00}-\\x{D7FF}]+"
/* Kimi K2: llama.cpp's splitter keeps Han runs apart and takes any other letters as one run
 * (its upstream regex's case classes collapse to "letter"); Han is its fixed range list. */
#define HAN_ "\\x{4E00}-\\x{9FFF}\\x{3400}-\\x{4DBF}\\x{20000}-\\x{2A6DF}\\x{2A700}-\\x{2B73F}"   \
             "\\x{2B740}-\\x{2B81F}\\x{2B820}-\\x{2CEAF}\\x{2CEB0}-\\x{2EBEF}\\x{F900}-\\x{FAFF}"   \
             "\\x{2F800}-\\x{2FA1F}"
#define RE_KIMI_K2 "[" HAN_ "]+|[^\\r\\n" L_ N_ "]?(?:(?![" HAN_ "])" LET ")+" CONTRACTIONS "?|" NUM \
                   "{1,3}| ?[^" WS_ L_ N_ "]+[\\r\\n]*|" WS_TAIL
#define RE_DEEPSEEK3 "[!\"#$%&'()*+,\\-./:;<=>?@\\[\\\\\\]^_`{|}~][A-Za-z]+|[^\\r\\n" L_ P_ S_ \
                     "]?[" L_ M_ "]+| ?[" P_ S_ "]+[\\r\\n]*|" WS_TAIL

static const pretok_spec specs[] = {
    {.names = {"default", "", NULL},
     .patterns = {"[" P_ "\\$\\+<=>\\^~\\|]+", RE_GPT2, NUM "+", "[0-9][0-9][0-9]", NULL}},
    {.names = {"llama3", "llama-v3", "llama-bpe", "falcon3", "falcon-h1", "pixtral",
               "midm-2.0", "lfm2", "jina-v5-nano", NULL},
     .patterns = {RE_LLAMA3, NULL}, .ignore_merges = true, .add_bos = true},
    {.names = {"dbrx", "smaug-bpe", NULL}, .patterns = {RE_LLAMA3, NULL}},
    {.names = {"glm4", "chatglm-bpe", NULL}, .patterns = {RE_LLAMA3, NULL}, .no_bos = true},
    {.names = {"deepseek-llm", NULL},
     .patterns = {"[\\r\\n]",
                  WS "?[A-Za-z\\x{B5}\\x{C0}-\\x{D6}\\x{D8}-\\x{F6}\\x{F8}-\\x{1BA}\\x{1BC}-"
                  "\\x{1BF}\\x{1C4}-\\x{293}\\x{295}-\\x{2AF}\\x{370}-\\x{373}\\x{376}\\x{377}"
                  "\\x{37B}-\\x{37D}\\x{37F}\\x{386}\\x{388}-\\x{38A}\\x{38C}\\x{38E}-\\x{3A1}"
                  "\\x{3A3}-\\x{3F5}\\x{3F7}-\\x{481}\\x{48A}-\\x{52F}\\x{531}-\\x{556}"
                  "\\x{10A0}-\\x{10C5}\\x{13A0}-\\x{13F5}\\x{13F8}-\\x{13FD}\\x{1C90}-\\x{1CBA}"
                  "\\x{1CBD}-\\x{1CBF}\\x{1D00}-\\x{1D2B}\\x{1D6B}-\\x{1D77}\\x{1D79}-\\x{1D9A}"
                  "\\x{1E00}-\\x{1F15}\\x{1F18}-\\x{1F1D}\\x{1F20}-\\x{1F45}\\x{1F48}-\\x{1F4D}"
                  "\\x{1F50}-\\x{1F57}\\x{1F59}\\x{1F5B}\\x{1F5D}\\x{1F5F}-\\x{1F7D}\\x{1F80}-"
                  "\\x{1FB4}\\x{1FB6}-\\x{1FBC}\\x{1FBE}\\x{1FC2}-\\x{1FC4}\\x{1FC6}-\\x{1FCC}"
                  "\\x{1FD0}-\\x{1FD3}\\x{1FD6}-\\x{1FDB}\\x{1FE0}-\\x{1FEC}\\x{1FF2}-\\x{1FF4}"
                  "\\x{1FF6}-\\x{1FFC}\\x{2102}\\x{2107}\\x{210A}-\\x{2113}\\x{2115}\\x{2119}-"
                  "\\x{211D}\\x{2124}\\x{2126}\\x{2128}\\x{212A}-\\x{212D}\\x{212F}-\\x{2134}"
                  "\\x{2139}\\x{213C}-\\x{213F}\\x{2145}-\\x{2149}\\x{214E}\\x{2183}\\x{2184}"
                  "\\x{2C00}-\\x{2C7B}\\x{2C7E}-\\x{2CE4}\\x{2CEB}-\\x{2CEE}\\x{2CF2}\\x{2CF3}"
                  "\\x{A640}-\\x{A66D}\\x{A680}-\\x{A69B}\\x{A722}-\\x{A76F}\\x{A771}-\\x{A787}"
                  "\\x{A78B}-\\x{A78E}\\x{AB70}-\\x{ABBF}\\x{FB00}-\\x{FB06}\\x{FB13}-\\x{FB17}"
                  "\\x{FF21}-\\x{FF3A}\\x{FF41}-\\x{FF5A}\\x{10400}-\\x{1044F}\\x{104B0}-"
                  "\\x{104D3}\\x{104D8}-\\x{104FB}\\x{10C80}-\\x{10CB2}\\x{10CC0}-\\x{10CF2}"
                  "\\x{118A0}-\\x{118DF}\\x{1E900}-\\x{1E943}]+",
                  /* U+3000 is white space, so llama.cpp's literal class never matches it */
                  WS "?[!-/:-~\\x{FF01}-\\x{FF0F}\\x{FF1A}-\\x{FF5E}\\x{2018}-\\x{201F}"
                  "\\x{3001}-\\x{3002}]+",
                  WS "+\\z", CJK_DEEPSEEK, NUM "+", NULL}},
    {.names = {"deepseek-coder", NULL},
     .patterns = {"[\\r\\n]", WS "?" LET "+", WS "?[" P_ "]+", CJK_DEEPSEEK, NUM, NULL}},
    {.names = {"deepseek-v3", "hunyuan-dense", "joyai-llm", NULL},
     .patterns = {NUM "{1,3}", "[\\x{4E00}-\\x{9FA5}\\x{3040}-\\x{309F}\\x{30A0}-\\x{30FF}]+",
                  RE_DEEPSEEK3, NULL}},
    {.names = {"falcon", NULL},
     .patterns = {"[" P_ "\\$\\+<=>\\^~\\|`]+", RE_GPT2, "[0-9][0-9][0-9]", NULL}},
    {.names = {"starcoder", "refact", "command-r", "smollm", "codeshell", "exaone",
               "minerva-7b", "mellum2", NULL},
     .patterns = {NUM, RE_GPT2, NULL}},
    {.names = {"gpt-2", "phi-2", "jina-es", "jina-de", "gigachat", "jina-v2-es", "jina-v2-de",
               "a.x-4.0", "mellum", "modern-bert", "mpt", "olmo", NULL},
     .patterns = {RE_GPT2, NULL}},
    {.names = {"jais", "exaone4", "trillion", "granite-docling", "jina-v1-en", "jina-v2-code",
               "roberta-bpe", NULL},
     .patterns = {RE_GPT2, NULL}},
    {.names = {"qwen2", "deepseek-r1-qwen", "kormo", "f2llmv2", "megrez", "stablelm2",
               "hunyuan", "solar-open", "grok-2", NULL},
     .patterns = {RE_QWEN2, NULL}},
    {.names = {"qwen35", NULL}, .patterns = {RE_QWEN35, NULL}},
    {.names = {"poro-chat", "bloom", "gpt3-finnish", NULL}, .patterns = {RE_BLOOM, NULL}},
    {.names = {"viking", NULL}, .patterns = {RE_BLOOM, NUM, NULL}},
    {.names = {"tekken", NULL}, .patterns = {RE_TEKKEN, NULL}, .ignore_merges = true,
     .add_bos = true},
    {.names = {"gpt-4o", "llama4", "kanana2", "talkie", "minimax-m2", NULL},
     .patterns = {RE_GPT4O, NULL}},
    {.names = {"seed-coder", NULL},
     .patterns = {CONTRACTIONS "|[^\\r\\n" L_ N_ "]?" LET "+|" NUM "{1}| ?[^" WS_ L_ N_
                  "\\r\\n]+|" WS_TAIL, NULL}},
    {.names = {"bailingmoe", "bailingmoe2", "llada-moe", NULL},
     .patterns = {"'(?:[sSdDmMtT]|[lL][lL]|[vV][eE]|[rR][eE])|[^\\r\\n" L_ N_ "]?" LET "+|"
                  NUM "| ?[^" WS_ L_ N_ "]+[\\r\\n]*|" WS "*[\\r\\n]|" WS "+(?!" NWS ")|"
                  WS "+", NULL}},
    {.names = {"minicpm5", NULL}, .ignore_merges = true,
     .patterns = {NUM "{1,3}", CONTRACTIONS "|[^\\r\\n" L_ N_ "]?" LET "+|" NUM "+| ?[^" WS_
                  L_ N_ "]+[\\r\\n]*|" WS_TAIL, NULL}},
    {.names = {"laguna", NULL}, .patterns = {"[^\\n]+|[\\n]+", RE_QWEN2, NULL}},
    {.names = {"kimi-k2", NULL}, .patterns = {RE_KIMI_K2, NULL}},
};

const pretok_spec *pretok_find(const char *name) {
    for (size_t i = 0; i < FN_ARRAY_LEN(specs); i++)
        for (const char *const *n = specs[i].names; *n; n++)
            if (!strcmp(*n, name)) return &specs[i];
    return NULL;
}

const pretok_spec *pretok_all(size_t *n) {
    *n = FN_ARRAY_LEN(specs);
    return specs;
}

/* ---- compiled form and splitting -------------------------------------------------------- */

struct pretok {
    const pretok_spec *spec;
    pcre2_code *re[PRETOK_MAX_PATTERNS];
    int n_re;
    uint32_t max_groups;        /* capture count + 1 of the largest pattern */
};

struct pretok_scratch {
    pcre2_match_data *md;
    pcre2_match_context *mctx;  /* created when a match needs a bigger JIT stack */
    pcre2_jit_stack *jit_stack;
};

void pretok_free(pretok *p) {
    if (!p) return;
    for (int i = 0; i < p->n_re; i++) pcre2_code_free(p->re[i]);
    free(p);
}

pretok *pretok_new(const pretok_spec *spec) {
    pretok *p = calloc(1, sizeof *p);
    if (!p) {
        fn_error("out of memory");
        return NULL;
    }
    p->spec = spec;
    for (int i = 0; spec->patterns[i]; i++) {
        int err;
        PCRE2_SIZE eoff;
        pcre2_code *re = pcre2_compile((PCRE2_SPTR)spec->patterns[i], PCRE2_ZERO_TERMINATED,
                                       PCRE2_UTF | PCRE2_UCP, &err, &eoff, NULL);
        if (!re) {
            PCRE2_UCHAR msg[256];
            pcre2_get_error_message(err, msg, sizeof msg);
            fn_error("pre-tokenizer '%s': pattern %d does not compile at offset %zu: %s",
                     spec->names[0], i, (size_t)eoff, (const char *)msg);
            pretok_free(p);
            return NULL;
        }
        /* without JIT, the interpreter is used: slower but the same splits */
        (void)pcre2_jit_compile(re, PCRE2_JIT_COMPLETE);
        uint32_t groups = 0;
        pcre2_pattern_info(re, PCRE2_INFO_CAPTURECOUNT, &groups);
        if (groups + 1 > p->max_groups) p->max_groups = groups + 1;
        p->re[p->n_re++] = re;
    }
    return p;
}

pretok_scratch *pretok_scratch_new(const pretok *p) {
    pretok_scratch *s = calloc(1, sizeof *s);
    if (!s || !(s->md = pcre2_match_data_create(p->max_groups ? p->max_groups : 1, NULL))) {
        free(s);
        fn_error("out of memory");
        return NULL;
    }
    return s;
}

void pretok_scratch_free(pretok_scratch *s) {
    if (!s) return;
    pcre2_match_data_free(s->md);
    pcre2_match_context_free(s->mctx);
    pcre2_jit_stack_free(s->jit_stack);
    free(s);
}

/* Gives the matcher a large JIT stack after the default 32 KiB one ran out. */
static int grow_jit_stack(pretok_scratch *s) {
    if (s->jit_stack) return fn_error("pre-tokenizer: regex needs more than 64 MiB of stack");
    s->mctx = pcre2_match_context_create(NULL);
    s->jit_stack = pcre2_jit_stack_create(256 * 1024, 64 * 1024 * 1024, NULL);
    if (!s->mctx || !s->jit_stack) return fn_error("out of memory for the regex JIT stack");
    pcre2_jit_stack_assign(s->mctx, NULL, s->jit_stack);
    return 0;
}

static int split_level(const pretok *p, pretok_scratch *s, int lvl, const char *text,
                       size_t len, pretok_word_fn fn, void *ctx) {
    if (lvl == p->n_re) return fn(ctx, text, len);
    const pcre2_code *re = p->re[lvl];
    PCRE2_SIZE *ov = pcre2_get_ovector_pointer(s->md);
    size_t pos = 0, prev = 0;
    while (pos < len) {
        int rc = pcre2_match(re, (PCRE2_SPTR)text, len, pos, PCRE2_NO_UTF_CHECK, s->md, s->mctx);
        if (rc == PCRE2_ERROR_NOMATCH) break;
        if (rc == PCRE2_ERROR_JIT_STACKLIMIT) {
            if (grow_jit_stack(s)) return -1;
            continue;
        }
        if (rc < 0) {
            PCRE2_UCHAR msg[256];
            pcre2_get_error_message(rc, msg, sizeof msg);
            return fn_error("pre-tokenizer '%s': regex match failed: %s", p->spec->names[0],
                            (const char *)msg);
        }
        size_t ms = ov[0], me = ov[1];
        if (me <= ms) { /* an empty match yields no word: step over one character */
            pos = ms + 1;
            while (pos < len && ((unsigned char)text[pos] & 0xC0) == 0x80) pos++;
            continue;
        }
        if (ms > prev && split_level(p, s, lvl + 1, text + prev, ms - prev, fn, ctx)) return -1;
        if (split_level(p, s, lvl + 1, text + ms, me - ms, fn, ctx)) return -1;
        prev = pos = me;
    }
    if (prev < len) return split_level(p, s, lvl + 1, text + prev, len - prev, fn, ctx);
    return 0;
}

int pretok_split(const pretok *p, pretok_scratch *s, const char *text, size_t len,
                 pretok_word_fn fn, void *ctx) {
    if (!len) return 0;
    return split_level(p, s, 0, text, len, fn, ctx);
}
