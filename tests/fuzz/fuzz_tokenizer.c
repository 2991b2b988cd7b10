/* fuzz_tokenizer.c - libFuzzer entry point for the tokenizers. Loads the shared test
 * vocabularies once ($FENNEC_TOK_FUZZ_VOCABS: colon-separated GGUF paths, else the
 * ggml-vocab-{qwen2,llama-bpe,gpt-2,llama-spm}.gguf files under $FENNEC_SHARED or
 * ../shared), then for each input: the first byte picks a vocabulary, special parsing and
 * a pre-tokenizer; the rest is the text. Checks: encoding never fails and gives ids in
 * range; streaming decoding only ever hands out valid UTF-8; valid UTF-8 text decodes back
 * to itself (for SentencePiece, unless it holds U+2581); every pre-tokenizer's words tile the (sanitized) text. */
#include "tok/pretok.h"
#include "tok/tokenizer.h"
#include "tok/utf8.h"

#include "base/error.h"
#include "gguf/gguf.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_VOCABS 8

static tokenizer *toks[MAX_VOCABS];
static int n_toks;
static pretok *pres[64];
static pretok_scratch *scratch[64];
static size_t n_pres;

static void load(const char *path) {
    if (n_toks == MAX_VOCABS) return;
    gguf_file *g = gguf_open(path);
    if (!g) {
        fprintf(stderr, "fuzz_tokenizer: %s\n", fn_errmsg());
        return;
    }
    tokenizer *t = tokenizer_load(g);
    gguf_close(g);
    if (!t) {
        fprintf(stderr, "fuzz_tokenizer: %s: %s\n", path, fn_errmsg());
        return;
    }
    toks[n_toks++] = t;
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc;
    (void)argv;
    const char *list = getenv("FENNEC_TOK_FUZZ_VOCABS");
    if (list) {
        char *copy = strdup(list), *save = NULL;
        for (char *p = strtok_r(copy, ":", &save); p; p = strtok_r(NULL, ":", &save)) load(p);
        free(copy);
    } else {
        const char *shared = getenv("FENNEC_SHARED");
        static const char *const names[] = {"qwen2", "llama-bpe", "gpt-2", "llama-spm"};
        for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
            char path[1024];
            snprintf(path, sizeof path, "%s/testdata/vocab/ggml-vocab-%s.gguf", shared ? shared : "../shared", names[i]);
            load(path);
        }
    }
    if (!n_toks) {
        fprintf(stderr, "fuzz_tokenizer: no vocabulary loaded (set FENNEC_SHARED)\n");
        abort();
    }
    size_t n;
    const pretok_spec *specs = pretok_all(&n);
    for (size_t i = 0; i < n && n_pres < 64; i++) {
        pres[n_pres] = pretok_new(&specs[i]);
        scratch[n_pres] = pres[n_pres] ? pretok_scratch_new(pres[n_pres]) : NULL;
        FN_ASSERT(pres[n_pres] && scratch[n_pres]);
        n_pres++;
    }
    return 0;
}

typedef struct {
    const char *text;
    size_t len, pos;
} tiling;

static int on_word(void *ctx, const char *w, size_t n) {
    tiling *t = ctx;
    FN_ASSERT(n > 0 && t->pos + n <= t->len && w == t->text + t->pos);
    t->pos += n;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    uint8_t sel = data[0];
    const char *text = (const char *)data + 1;
    size_t len = size - 1;
    const tokenizer *t = toks[sel % n_toks];
    bool special = sel & 0x80;

    int32_t *ids;
    size_t n;
    FN_ASSERT(tokenizer_encode(t, text, len, special, false, &ids, &n) == 0);
    for (size_t i = 0; i < n; i++) FN_ASSERT(ids[i] >= 0 && (uint32_t)ids[i] < tokenizer_n_vocab(t));

    detok_state d;
    detok_init(&d, t, special);
    char *back = malloc(len * 3 + 64 + n * 64);
    size_t o = 0, cap = len * 3 + 64 + n * 64;
    for (size_t i = 0; i <= n; i++) {
        const char *p;
        size_t pl;
        FN_ASSERT((i < n ? detok_push(&d, ids[i], &p, &pl) : detok_flush(&d, &p, &pl)) == 0);
        FN_ASSERT(utf8_valid_prefix(p, pl) == pl);
        if (o + pl <= cap) memcpy(back + o, p, pl);
        o += pl;
    }
    detok_free(&d);
    /* SentencePiece cannot tell U+2581 in the text from an escaped space */
    bool lossy = !strcmp(tokenizer_model(t), "llama") && memmem(text, len, "\xE2\x96\x81", 3);
    if (!special && !lossy && utf8_valid_prefix(text, len) == len)
        FN_ASSERT(o == len && !memcmp(back, text, len));
    free(back);
    free(ids);

    /* one pre-tokenizer, chosen by the same byte, must tile the sanitized text */
    size_t clen;
    char *clean = utf8_sanitize(text, len, &clen);
    FN_ASSERT(clean || clen == len);
    size_t k = (size_t)(sel >> 1) % n_pres;
    tiling tl = {clean ? clean : text, clen, 0};
    FN_ASSERT(pretok_split(pres[k], scratch[k], tl.text, clen, on_word, &tl) == 0);
    FN_ASSERT(tl.pos == clen);
    free(clean);
    return 0;
}
