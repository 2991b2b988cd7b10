/* test_tok_pretok.c - every pre-tokenizer in the table: a real vocabulary rewritten with
 * each tokenizer.ggml.pre name (the GGUF writer copies every other key) must load, and
 * encoding then decoding each file of tests/data/tok must give the file back.
 *
 * With FENNEC_TOK_VOCAB_DIR set, the rewritten vocabularies (one per table entry, from the
 * qwen2 and llama-bpe vocabularies) are kept there as BASE--PRE.gguf for
 * tests/integration/tokenizer_vs_llamacpp.sh, which compares them with llama.cpp. */
#include "tok/pretok.h"
#include "tok/tokenizer.h"

#include "base/error.h"
#include "gguf/gguf.h"

#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

static const char *const bases[] = {"qwen2", "llama-bpe"};

/* Aliases worth their own comparison with llama.cpp (each table entry is written under its
 * first name; these map to separate pre-types in llama.cpp that happen to share patterns). */
static const char *const aliases[] = {"llama-bpe", "refact", "minimax-m2", "hunyuan-dense"};

/* Other variants: a key changed in a base vocabulary. add_space_prefix = false changes
 * SentencePiece's first piece. (phi-3's right-strip rule cannot be compared this way:
 * llama.cpp refuses a phi-3-named vocabulary lacking any of <unk>, <s>, </s> and
 * <|endoftext|>; test_tok covers it.) */
static const struct {
    const char *base, *label, *key, *str; /* str NULL: key is the bool false */
} extras[] = {
    {"llama-spm", "nospace", "tokenizer.ggml.add_space_prefix", NULL},
};

/* Writes src's keys to path with key set to str (or to false when str is NULL). */
static void write_variant(const gguf_file *src, const char *key, const char *str, const char *path) {
    gguf_writer *w = gguf_writer_new();
    assert_non_null(w);
    bool had = false;
    for (size_t i = 0; i < gguf_n_kv(src); i++) {
        const gguf_kv *kv = gguf_kv_at(src, i);
        if (!strcmp(kv->key, key)) {
            assert_int_equal(str ? gguf_writer_set_str(w, key, str) : gguf_writer_set_bool(w, key, false), 0);
            had = true;
        } else {
            assert_int_equal(gguf_writer_copy_kv(w, kv), 0);
        }
    }
    if (!had) assert_int_equal(str ? gguf_writer_set_str(w, key, str) : gguf_writer_set_bool(w, key, false), 0);
    if (gguf_writer_write(w, path)) fail_msg("%s", fn_errmsg());
    gguf_writer_free(w);
}

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

/* Encodes and decodes every corpus file; returns how many did not round-trip. */
static int roundtrip_corpus(const tokenizer *t, const char *label) {
    const char *src = getenv("FENNEC_SRC");
    char dir[800];
    snprintf(dir, sizeof dir, "%s/tests/data/tok", src ? src : ".");
    DIR *d = opendir(dir);
    if (!d) return 0;
    struct dirent *e;
    int bad = 0;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        char path[1200];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        size_t len;
        char *text = slurp(path, &len);
        if (!text) continue;
        /* SentencePiece cannot tell U+2581 in the text from an escaped space */
        if (!strcmp(tokenizer_model(t), "llama") && memmem(text, len, "\xE2\x96\x81", 3)) {
            free(text);
            continue;
        }
        int32_t *ids;
        size_t n;
        assert_int_equal(tokenizer_encode(t, text, len, false, false, &ids, &n), 0);
        char *back;
        size_t blen;
        assert_int_equal(tokenizer_decode(t, ids, n, false, tokenizer_adds_space_prefix(t), &back, &blen), 0);
        if (blen != len || memcmp(back, text, len)) {
            fprintf(stderr, "%s: %s does not round-trip\n", label, e->d_name);
            bad++;
        }
        free(back);
        free(ids);
        free(text);
    }
    closedir(d);
    return bad;
}

static void test_every_pretokenizer(void **state) {
    (void)state;
    const char *shared = getenv("FENNEC_SHARED");
    if (!shared) skip();
    const char *keep = getenv("FENNEC_TOK_VOCAB_DIR");
    char tmpdir[] = "/tmp/test_tok_pretok.XXXXXX";
    const char *dir = keep;
    if (!dir) {
        assert_non_null(mkdtemp(tmpdir));
        dir = tmpdir;
    }
    size_t n_specs;
    const pretok_spec *specs = pretok_all(&n_specs);
    int bad = 0, checked = 0;
    for (size_t b = 0; b < FN_ARRAY_LEN(bases); b++) {
        char path[1200];
        snprintf(path, sizeof path, "%s/testdata/vocab/ggml-vocab-%s.gguf", shared, bases[b]);
        gguf_file *src = gguf_open(path);
        if (!src) skip();
        for (size_t i = 0; i < n_specs + FN_ARRAY_LEN(aliases); i++) {
            const char *pre = i < n_specs ? specs[i].names[0] : aliases[i - n_specs];
            char out[1400];
            snprintf(out, sizeof out, "%s/%s--%s.gguf", dir, bases[b], pre);
            write_variant(src, "tokenizer.ggml.pre", pre, out);
            gguf_file *g = gguf_open(out);
            assert_non_null(g);
            tokenizer *t = tokenizer_load(g);
            if (!t) fail_msg("%s: %s", out, fn_errmsg());
            gguf_close(g);
            assert_string_equal(tokenizer_pre(t), pre);
            bad += roundtrip_corpus(t, out);
            checked++;
            tokenizer_free(t);
            if (!keep) unlink(out);
        }
        gguf_close(src);
    }
    for (size_t i = 0; i < FN_ARRAY_LEN(extras); i++) {
        char path[1200], out[1400];
        snprintf(path, sizeof path, "%s/testdata/vocab/ggml-vocab-%s.gguf", shared, extras[i].base);
        gguf_file *src = gguf_open(path);
        if (!src) continue;
        snprintf(out, sizeof out, "%s/%s--%s.gguf", dir, extras[i].base, extras[i].label);
        write_variant(src, extras[i].key, extras[i].str, out);
        gguf_close(src);
        gguf_file *g = gguf_open(out);
        assert_non_null(g);
        tokenizer *t = tokenizer_load(g);
        if (!t) fail_msg("%s: %s", out, fn_errmsg());
        gguf_close(g);
        bad += roundtrip_corpus(t, out);
        checked++;
        tokenizer_free(t);
        if (!keep) unlink(out);
    }
    if (!keep) rmdir(tmpdir);
    fprintf(stderr, "%d vocabulary variants, %d round-trip failures\n", checked, bad);
    assert_int_equal(bad, 0);
}

/* Every alias resolves to its entry, and unknown names are refused. */
static void test_names(void **state) {
    (void)state;
    size_t n;
    const pretok_spec *specs = pretok_all(&n);
    for (size_t i = 0; i < n; i++)
        for (const char *const *a = specs[i].names; *a; a++) assert_ptr_equal(pretok_find(*a), &specs[i]);
    assert_ptr_equal(pretok_find(""), pretok_find("default"));
    assert_null(pretok_find("no-such-pre"));
    for (size_t i = 0; i < n; i++) {
        pretok *p = pretok_new(&specs[i]);
        if (!p) fail_msg("%s", fn_errmsg());
        pretok_free(p);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_every_pretokenizer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
