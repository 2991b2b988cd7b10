/* cmd_perplexity.c - `fennec perplexity`: teacher-forced evaluation of a text in windows of
 * --ctx tokens; prints PPL and optionally the top-1 prediction or the whole next-token
 * distribution at every position (for comparisons with llama.cpp). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "cli/cli.h"
#include "cli/cli_args.h"
#include "cli/cli_text.h"
#include "engine/llm.h"

static void usage(FILE *out) {
    fprintf(out,
            "usage: fennec perplexity -m FILE (-f TEXT_FILE | --ids ID,ID,...) [--ctx N] [-t THREADS]\n"
            "                         [--top1-out FILE] [--probs-out FILE] [--kv-type f16|q8_0]\n\n"
            "Evaluates the text in consecutive windows of --ctx tokens (default 512; BOS first when\n"
            "the model wants it) and prints PPL = X over every predicted position.\n"
            "  --top1-out FILE   the most probable next token id at every position, one per line\n"
            "  --probs-out FILE  the full next-token distribution at every position, as JSON\n"
            "                    {\"probs\": [[p0, p1, ...], ...]} (small vocabularies only)\n");
}

int cmd_perplexity(int argc, char **argv) {
    const char *path = NULL, *text_file = NULL, *ids_arg = NULL, *top1_path = NULL, *probs_path = NULL;
    long ctx = 512, threads = 0;
    uint32_t kv_type = 0;
    int rc = 1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (cli_is_help(a)) {
            usage(stdout);
            return 0;
        } else if (!strcmp(a, "-m") || !strcmp(a, "-f") || !strcmp(a, "--ids") || !strcmp(a, "--ctx") ||
                   !strcmp(a, "-t") || !strcmp(a, "--top1-out") || !strcmp(a, "--probs-out") || !strcmp(a, "--kv-type")) {
            if (!v) return cli_fail("perplexity: %s needs a value", a);
            i++;
            if (!strcmp(a, "-m")) path = v;
            else if (!strcmp(a, "-f")) text_file = v;
            else if (!strcmp(a, "--ids")) ids_arg = v;
            else if (!strcmp(a, "--top1-out")) top1_path = v;
            else if (!strcmp(a, "--probs-out")) probs_path = v;
            else if (!strcmp(a, "--kv-type") && !cli_parse_kv_type(v, &kv_type)) return cli_fail("perplexity: --kv-type must be f16 or q8_0");
            else if (!strcmp(a, "--ctx") && !cli_parse_int(v, 2, 1 << 20, &ctx)) return cli_fail("perplexity: --ctx must be 2..1048576");
            else if (!strcmp(a, "-t") && !cli_parse_int(v, 1, 1024, &threads)) return cli_fail("perplexity: -t must be 1..1024");
        } else {
            return cli_fail("perplexity: unknown argument '%s' (see --help)", a);
        }
    }
    if (!path) return cli_fail("perplexity: -m FILE is required");
    if (!text_file == !ids_arg) return cli_fail("perplexity: give exactly one of -f TEXT_FILE or --ids");

    llm_options o = {.model_path = path, .n_threads = (int)threads, .n_ctx = (int)ctx, .n_seq = 1, .max_batch = 512, .kv_type = kv_type};
    llm *l = llm_open(&o);
    if (!l) return cli_fail("perplexity: %s", fn_errmsg());
    int n_vocab = (int)l->m->hp.n_vocab, n_ids = 0;
    int32_t *ids = NULL;
    FILE *top1 = NULL, *probs = NULL;
    float *logits = NULL;
    int32_t *pos = NULL, *seq = NULL;
    uint8_t *want = NULL;
    if (ids_arg) {
        ids = cli_parse_ids(ids_arg, &n_ids);
    } else {
        ids = cli_tokenize_file(l->m->file, text_file, true, &n_ids);
    }
    if (!ids) {
        cli_fail("perplexity: %s", fn_errmsg());
        goto done;
    }
    if (n_ids < 2) {
        cli_fail("perplexity: the text must have at least 2 tokens (has %d)", n_ids);
        goto done;
    }
    for (int i = 0; i < n_ids; i++)
        if (ids[i] < 0 || ids[i] >= n_vocab) {
            cli_fail("perplexity: token id %d is outside the vocabulary (0..%d)", ids[i], n_vocab - 1);
            goto done;
        }
    if (top1_path && !(top1 = fopen(top1_path, "w"))) {
        cli_fail("perplexity: cannot write %s", top1_path);
        goto done;
    }
    if (probs_path && !(probs = fopen(probs_path, "w"))) {
        cli_fail("perplexity: cannot write %s", probs_path);
        goto done;
    }
    logits = malloc((size_t)ctx * (size_t)n_vocab * sizeof *logits);
    pos = malloc((size_t)ctx * sizeof *pos);
    seq = calloc((size_t)ctx, sizeof *seq);
    want = malloc((size_t)ctx);
    if (!logits || !pos || !seq || !want) {
        cli_fail("perplexity: out of memory for a window of %ld tokens", ctx);
        goto done;
    }
    for (long i = 0; i < ctx; i++) pos[i] = (int32_t)i;
    memset(want, 1, (size_t)ctx);
    if (probs) fputs("{\"probs\":[", probs);
    double nll = 0.0;
    long scored = 0;
    int first = 1;
    double t0 = cli_now();
    for (int start = 0; start < n_ids; start += (int)ctx) {
        int n = n_ids - start < ctx ? n_ids - start : (int)ctx;
        kv_seq_truncate(l->kv, 0, 0);
        fwd_batch b = {n, ids + start, pos, seq, want};
        if (forward_run(l->fwd, &b, logits) != n) {
            cli_fail("perplexity: %s", fn_errmsg());
            goto done;
        }
        for (int t = 0; t < n; t++) {
            const float *lg = logits + (size_t)t * n_vocab;
            float max = lg[0];
            int best = 0;
            for (int v = 1; v < n_vocab; v++)
                if (lg[v] > max) max = lg[v], best = v;
            double z = 0.0;
            for (int v = 0; v < n_vocab; v++) z += exp((double)lg[v] - max);
            if (t + 1 < n) {
                nll -= (double)lg[ids[start + t + 1]] - max - log(z);
                scored++;
            }
            if (top1) fprintf(top1, "%d\n", best);
            if (probs) {
                fputs(first ? "[" : ",[", probs);
                first = 0;
                for (int v = 0; v < n_vocab; v++) fprintf(probs, v ? ",%.6g" : "%.6g", exp((double)lg[v] - max) / z);
                fputc(']', probs);
            }
        }
    }
    if (probs) fputs("]}\n", probs);
    double dt = cli_now() - t0;
    printf("PPL = %.4f\n", scored ? exp(nll / (double)scored) : 0.0);
    fprintf(stderr, "%d tokens in windows of %ld, %.2f s (%.1f tokens/s)\n", n_ids, ctx, dt, n_ids / dt);
    rc = 0;
done:
    if (top1 && fclose(top1) != 0 && rc == 0) rc = cli_fail("perplexity: write to %s failed", top1_path);
    if (probs && fclose(probs) != 0 && rc == 0) rc = cli_fail("perplexity: write to %s failed", probs_path);
    free(ids);
    free(logits);
    free(pos);
    free(seq);
    free(want);
    llm_close(l);
    return rc;
}
