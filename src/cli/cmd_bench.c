/* cmd_bench.c - `fennec bench`: prompt-processing and generation speed, like llama-bench:
 * pp = one batch of P tokens from an empty cache; tg = N tokens decoded one at a time. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/cpu.h"
#include "base/error.h"
#include "base/rng.h"
#include "cli/cli.h"
#include "cli/cli_args.h"
#include "engine/llm.h"
#include "tensor/matmul.h"

static void usage(FILE *out) {
    fprintf(out,
            "usage: fennec bench -m FILE [-p 512] [-n 128] [-t THREADS] [-r REPS] [--kv-type f16|q8_0] [--json]\n\n"
            "Measures prompt processing (one batch of -p tokens) and generation (-n tokens one at\n"
            "a time), each repeated -r times (default 3) after a warm-up; prints the median.\n");
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int cmd_bench(int argc, char **argv) {
    const char *path = NULL;
    long p = 512, n = 128, threads = 0, reps = 3;
    bool json = false;
    uint32_t kv_type = 0;
    int rc = 1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (cli_is_help(a)) {
            usage(stdout);
            return 0;
        } else if (!strcmp(a, "--json")) {
            json = true;
        } else if (!strcmp(a, "--kv-type")) {
            if (!v || !cli_parse_kv_type(v, &kv_type)) return cli_fail("bench: --kv-type must be f16 or q8_0");
            i++;
        } else if (!strcmp(a, "-m") || !strcmp(a, "-p") || !strcmp(a, "-n") || !strcmp(a, "-t") || !strcmp(a, "-r")) {
            if (!v) return cli_fail("bench: %s needs a value", a);
            i++;
            if (!strcmp(a, "-m")) path = v;
            else if (!strcmp(a, "-p") && !cli_parse_int(v, 0, 1 << 20, &p)) return cli_fail("bench: -p must be 0..1048576");
            else if (!strcmp(a, "-n") && !cli_parse_int(v, 0, 1 << 20, &n)) return cli_fail("bench: -n must be 0..1048576");
            else if (!strcmp(a, "-t") && !cli_parse_int(v, 1, 1024, &threads)) return cli_fail("bench: -t must be 1..1024");
            else if (!strcmp(a, "-r") && !cli_parse_int(v, 1, 1000, &reps)) return cli_fail("bench: -r must be 1..1000");
        } else {
            return cli_fail("bench: unknown argument '%s' (see --help)", a);
        }
    }
    if (!path) return cli_fail("bench: -m FILE is required");
    llm_options o = {.model_path = path, .n_threads = (int)threads, .n_ctx = (int)(p + n + 16), .n_seq = 1,
                     .max_batch = p > 0 ? (int)p : 1, .kv_type = kv_type};
    llm *l = llm_open(&o);
    if (!l) return cli_fail("bench: %s", fn_errmsg());
    const model_hparams *hp = &l->m->hp;
    long maxn = p > n ? p : n;
    int32_t *tok = malloc((size_t)(maxn + 1) * sizeof *tok), *pos = malloc((size_t)(maxn + 1) * sizeof *pos);
    int32_t *seq = calloc((size_t)(maxn + 1), sizeof *seq);
    float *logits = malloc((size_t)hp->n_vocab * sizeof *logits);
    double *pp_t = calloc((size_t)reps, sizeof(double)), *tg_t = calloc((size_t)reps, sizeof(double));
    if (!tok || !pos || !seq || !logits || !pp_t || !tg_t) {
        cli_fail("bench: out of memory");
        goto done;
    }
    fn_rng rng;
    fn_rng_seed(&rng, 1234);
    for (long i = 0; i <= maxn; i++) {
        tok[i] = (int32_t)(fn_rng_next(&rng) % hp->n_vocab);
        pos[i] = (int32_t)i;
    }
    /* warm-up: touch the weights once */
    {
        fwd_batch b = {p > 0 ? (int)(p < 16 ? p : 16) : 1, tok, pos, seq, NULL};
        if (forward_run(l->fwd, &b, logits) < 0) {
            cli_fail("bench: %s", fn_errmsg());
            goto done;
        }
        kv_seq_truncate(l->kv, 0, 0);
    }
    for (long r = 0; r < reps; r++) {
        if (p > 0) {
            fwd_batch b = {(int)p, tok, pos, seq, NULL};
            double t0 = cli_now();
            forward_run(l->fwd, &b, logits);
            pp_t[r] = cli_now() - t0;
            kv_seq_truncate(l->kv, 0, 0);
        }
        if (n > 0) {
            double t0 = cli_now();
            for (long i = 0; i < n; i++) {
                fwd_batch b = {1, tok + i, pos + i, seq, NULL};
                forward_run(l->fwd, &b, logits);
            }
            tg_t[r] = cli_now() - t0;
            kv_seq_truncate(l->kv, 0, 0);
        }
    }
    qsort(pp_t, (size_t)reps, sizeof(double), cmp_double);
    qsort(tg_t, (size_t)reps, sizeof(double), cmp_double);
    double pp = p > 0 ? (double)p / pp_t[reps / 2] : 0, tg = n > 0 ? (double)n / tg_t[reps / 2] : 0;
    if (json) {
        json_t *j = json_pack("{s:s, s:s, s:i, s:i, s:i, s:i, s:f, s:f, s:I, s:s, s:s}", "model", path, "architecture",
                              hp->arch, "threads", l->n_threads, "n_prompt", (int)p, "n_gen", (int)n, "repetitions",
                              (int)reps, "pp_tokens_per_s", pp, "tg_tokens_per_s", tg, "active_bytes_per_token",
                              (json_int_t)l->m->active_bytes, "cpu", fn_cpu_level_name(), "kernel",
                              mm_kernel_name(l->m->layers[0].w[W_ATTN_Q].type));
        char *s = json_dumps(j, JSON_PRESERVE_ORDER);
        puts(s);
        free(s);
        json_decref(j);
    } else {
        printf("model: %s (%s, %u layers), %d threads, cpu %s\n", path, hp->arch, hp->n_layer, l->n_threads,
               fn_cpu_level_name());
        if (p > 0) printf("pp%ld: %.2f tokens/s\n", p, pp);
        if (n > 0) printf("tg%ld: %.2f tokens/s (%.1f MB of weights per token, %.2f GB/s)\n", n, tg,
                          (double)l->m->active_bytes / 1e6, tg * (double)l->m->active_bytes / 1e9);
    }
    rc = 0;
done:
    free(tok);
    free(pos);
    free(seq);
    free(logits);
    free(pp_t);
    free(tg_t);
    llm_close(l);
    return rc;
}
