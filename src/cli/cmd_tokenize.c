/* cmd_tokenize.c - `fennec tokenize -m FILE [--ids|--pieces] [--special] [--bos]
 * (TEXT | --file F)`: a model's tokenizer on the command line. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "cli/cli.h"
#include "cli/cli_args.h"
#include "gguf/gguf.h"
#include "tok/tokenizer.h"

static void usage(FILE *out) {
    fprintf(out,
            "usage: fennec tokenize -m MODEL.gguf [--ids | --pieces] [--special] [--bos]\n"
            "                       (TEXT | --file FILE)\n\n"
            "Tokenizes TEXT (or the bytes of FILE, '-' for stdin) with the model's tokenizer.\n"
            "  --ids       print the token ids on one line, separated by spaces (default)\n"
            "  --pieces    print one token per line: id, then its text as a quoted string\n"
            "  --special   parse special tokens such as <|im_start|> in the text\n"
            "  --bos       prepend the BOS token (never added otherwise)\n"
            "  --time      print the encoding time (not loading, not printing) on stderr\n"
            "  --repeat N  encode N times and report the fastest (with --time)\n");
}

/* Reads a whole file (or stdin for "-"). NULL with fn_error on failure. */
static char *read_all(const char *path, size_t *len) {
    FILE *f = strcmp(path, "-") ? fopen(path, "rb") : stdin;
    if (!f) {
        fn_error("%s: %s", path, strerror(errno));
        return NULL;
    }
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap);
    while (buf) {
        n += fread(buf + n, 1, cap - n, f);
        if (n < cap) break;
        char *b = cap < ((size_t)1 << 40) ? realloc(buf, cap * 2) : NULL;
        if (!b) {
            free(buf);
            buf = NULL;
            break;
        }
        buf = b;
        cap *= 2;
    }
    const char *why = !buf ? "out of memory" : ferror(f) ? "read error" : NULL;
    if (f != stdin) fclose(f);
    if (why) {
        free(buf);
        fn_error("%s: %s", path, why);
        return NULL;
    }
    *len = n;
    return buf;
}

/* Prints a piece as a double-quoted string, escaping what would not read well. */
static void print_piece(const char *p, size_t n) {
    putchar('"');
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)p[i];
        if (c == '\n') fputs("\\n", stdout);
        else if (c == '\t') fputs("\\t", stdout);
        else if (c == '\r') fputs("\\r", stdout);
        else if (c == '"' || c == '\\') printf("\\%c", c);
        else if (c < 0x20 || c == 0x7f) printf("\\x%02x", c);
        else if (c >= 0x80) {
            /* whole valid characters print as they are; stray bytes as \xNN */
            size_t l = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC2 ? 2 : 0;
            bool ok = l && i + l <= n;
            for (size_t k = 1; ok && k < l; k++) ok = ((unsigned char)p[i + k] & 0xC0) == 0x80;
            if (ok) {
                fwrite(p + i, 1, l, stdout);
                i += l - 1;
            } else
                printf("\\x%02x", c);
        } else
            putchar(c);
    }
    putchar('"');
}

int cmd_tokenize(int argc, char **argv) {
    const char *model = NULL, *file = NULL, *text = NULL;
    bool pieces = false, special = false, bos = false, timing = false;
    long repeat = 1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (cli_is_help(a)) {
            usage(stdout);
            return 0;
        } else if (!strcmp(a, "-m") || !strcmp(a, "--model")) {
            if (++i == argc) return cli_fail("%s needs a file name", a);
            model = argv[i];
        } else if (!strcmp(a, "--file") || !strcmp(a, "-f")) {
            if (++i == argc) return cli_fail("%s needs a file name", a);
            file = argv[i];
        } else if (!strcmp(a, "--ids")) {
            pieces = false;
        } else if (!strcmp(a, "--pieces")) {
            pieces = true;
        } else if (!strcmp(a, "--special")) {
            special = true;
        } else if (!strcmp(a, "--bos")) {
            bos = true;
        } else if (!strcmp(a, "--time")) {
            timing = true;
        } else if (!strcmp(a, "--repeat")) {
            if (++i == argc || !cli_parse_int(argv[i], 1, 1000000, &repeat))
                return cli_fail("--repeat needs a count from 1 to 1000000");
        } else if (!strcmp(a, "--")) {
            if (i + 1 < argc) text = argv[++i];
            if (i + 1 < argc) return cli_fail("tokenize takes one TEXT argument");
        } else if (a[0] == '-' && a[1]) {
            return cli_fail("tokenize: unknown option '%s' (try 'fennec tokenize --help')", a);
        } else {
            if (text) return cli_fail("tokenize takes one TEXT argument (quote it)");
            text = a;
        }
    }
    if (!model) return cli_fail("tokenize: -m MODEL.gguf is required (try 'fennec tokenize --help')");
    if (!text == !file) return cli_fail("tokenize: give either TEXT or --file FILE");

    char *buf = NULL;
    size_t len = 0;
    if (file) {
        if (!(buf = read_all(file, &len))) return cli_fail("%s", fn_errmsg());
        text = buf;
    } else
        len = strlen(text);

    gguf_file *g = gguf_open(model);
    if (!g) {
        free(buf);
        return cli_fail("%s", fn_errmsg());
    }
    tokenizer *t = tokenizer_load(g);
    gguf_close(g);
    if (!t) {
        free(buf);
        return cli_fail("%s: %s", model, fn_errmsg());
    }
    int32_t *ids = NULL;
    size_t n = 0;
    double best = 0;
    int rc = 0;
    for (long r = 0; r < repeat && !rc; r++) {
        free(ids);
        double t0 = cli_now();
        rc = tokenizer_encode(t, text, len, special, bos, &ids, &n);
        double dt = cli_now() - t0;
        if (r == 0 || dt < best) best = dt;
    }
    free(buf);
    if (rc) {
        tokenizer_free(t);
        return cli_fail("%s", fn_errmsg());
    }
    if (timing)
        fprintf(stderr, "fennec tokenize: %zu bytes -> %zu tokens in %.3f ms (%.2f MB/s), best of %ld\n",
                len, n, best * 1e3, best > 0 ? len / best / 1e6 : 0.0, repeat);
    if (pieces) {
        for (size_t i = 0; i < n; i++) {
            size_t pl;
            const char *p = tokenizer_piece(t, ids[i], true, &pl);
            printf("%6d ", (int)ids[i]);
            print_piece(p, pl);
            putchar('\n');
        }
    } else {
        for (size_t i = 0; i < n; i++) printf(i ? " %d" : "%d", (int)ids[i]);
        putchar('\n');
    }
    free(ids);
    tokenizer_free(t);
    if (fflush(stdout) || ferror(stdout)) return cli_fail("error writing the output");
    return 0;
}
