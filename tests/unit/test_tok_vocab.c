/* test_tok_vocab.c - golden files: every $FENNEC_SHARED/testdata/vocab/ggml-vocab-*.gguf
 * with its .inp (inputs separated by "\n__ggml_vocab_test__\n") and .out (llama.cpp's ids,
 * one line per input; no BOS, specials not parsed) must tokenize exactly; and decoding the
 * ids must give the input back. */
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

#include <cmocka.h>

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

static const char SEP[] = "\n__ggml_vocab_test__\n";

/* Checks one vocabulary; returns the number of failed inputs, adds to *total. */
static int check_vocab(const char *dir, const char *name, int *total) {
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    gguf_file *g = gguf_open(path);
    if (!g) fail_msg("%s", fn_errmsg());
    tokenizer *t = tokenizer_load(g);
    if (!t) fail_msg("%s: %s", name, fn_errmsg());
    gguf_close(g);

    size_t ilen, olen;
    snprintf(path, sizeof path, "%s/%s.inp", dir, name);
    char *inp = slurp(path, &ilen);
    snprintf(path, sizeof path, "%s/%s.out", dir, name);
    char *out = slurp(path, &olen);
    assert_non_null(inp);
    assert_non_null(out);

    int failed = 0, count = 0;
    char *ip = inp, *op = out;
    bool spm = !strcmp(tokenizer_model(t), "llama");
    for (;;) {
        char *sep = strstr(ip, SEP);
        if (!sep) break;
        size_t tlen = (size_t)(sep - ip);
        char *eol = strchr(op, '\n');
        assert_non_null(eol);
        *eol = 0;

        int32_t *ids;
        size_t n;
        assert_int_equal(tokenizer_encode(t, ip, tlen, false, false, &ids, &n), 0);
        /* expected ids */
        size_t k = 0;
        bool ok = true;
        char *q = op;
        for (;;) {
            while (*q == ' ') q++;
            if (!*q) break;
            long e = strtol(q, &q, 10);
            if (k >= n || ids[k] != e) ok = false;
            k++;
        }
        if (k != n) ok = false;
        if (!ok) {
            failed++;
            fprintf(stderr, "%s: input %d (%.*s) mismatch\n  expected:%s\n  got:     ", name, count,
                    (int)(tlen < 60 ? tlen : 60), ip, op);
            for (size_t i = 0; i < n; i++) fprintf(stderr, " %d", ids[i]);
            fprintf(stderr, "\n");
        }
        char *back;
        size_t blen;
        assert_int_equal(tokenizer_decode(t, ids, n, false, spm, &back, &blen), 0);
        if (blen != tlen || memcmp(back, ip, tlen)) {
            failed++;
            fprintf(stderr, "%s: input %d does not decode back: '%s'\n", name, count, back);
        }
        free(back);
        free(ids);
        count++;
        ip = sep + strlen(SEP);
        op = eol + 1;
    }
    fprintf(stderr, "%s: %d inputs, %d failed\n", name, count, failed);
    *total += count;
    free(inp);
    free(out);
    tokenizer_free(t);
    return failed;
}

static void test_golden_vocabs(void **state) {
    (void)state;
    const char *shared = getenv("FENNEC_SHARED");
    if (!shared) skip();
    char dir[900];
    snprintf(dir, sizeof dir, "%s/testdata/vocab", shared);
    DIR *d = opendir(dir);
    if (!d) skip();
    struct dirent *e;
    int failed = 0, total = 0, files = 0;
    while ((e = readdir(d))) {
        size_t l = strlen(e->d_name);
        if (l < 6 || strcmp(e->d_name + l - 5, ".gguf")) continue;
        char inp[1200];
        snprintf(inp, sizeof inp, "%s/%s.inp", dir, e->d_name);
        FILE *f = fopen(inp, "rb");
        if (!f) continue;
        fclose(f);
        failed += check_vocab(dir, e->d_name, &total);
        files++;
    }
    closedir(d);
    fprintf(stderr, "golden vocabularies: %d files, %d inputs, %d failed\n", files, total, failed);
    assert_true(files > 0);
    assert_int_equal(failed, 0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_golden_vocabs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
