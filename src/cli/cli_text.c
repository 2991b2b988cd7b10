/* cli_text.c - tokenizing text for the subcommands (see cli_text.h). */
#include "cli/cli_text.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "tok/tokenizer.h"

char *cli_read_file(const char *path, size_t *len) {
    FILE *fp = fopen(path, "rb");
    if (!fp) return fn_error("%s: %s", path, strerror(errno)), NULL;
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap + 1);
    while (buf) {
        size_t got = fread(buf + n, 1, cap - n, fp);
        n += got;
        if (n < cap) break;
        cap *= 2;
        char *g = realloc(buf, cap + 1);
        if (!g) {
            free(buf);
            buf = NULL;
        } else {
            buf = g;
        }
    }
    int err = ferror(fp);
    fclose(fp);
    if (!buf) return fn_error("%s: out of memory", path), NULL;
    if (err) {
        free(buf);
        return fn_error("%s: read error", path), NULL;
    }
    buf[n] = 0;
    *len = n;
    return buf;
}

int32_t *cli_tokenize_text(const gguf_file *f, const char *text, size_t len, bool with_bos, bool parse_special, int *n) {
    tokenizer *t = tokenizer_load(f);
    if (!t) return NULL;
    int32_t *ids = NULL;
    size_t count = 0;
    bool bos = with_bos && tokenizer_wants_bos(t) && tokenizer_bos(t) >= 0;
    int rc = tokenizer_encode(t, text, len, parse_special, bos, &ids, &count);
    tokenizer_free(t);
    if (rc) return NULL;
    if (count > (size_t)INT32_MAX) {
        free(ids);
        return fn_error("text is too long"), NULL;
    }
    if (!ids) ids = malloc(sizeof *ids); /* empty text: a valid, empty array */
    *n = (int)count;
    return ids;
}

int32_t *cli_tokenize_file(const gguf_file *f, const char *path, bool with_bos, int *n) {
    size_t len;
    char *text = cli_read_file(path, &len);
    if (!text) return NULL;
    int32_t *ids = cli_tokenize_text(f, text, len, with_bos, false, n);
    free(text);
    return ids;
}
