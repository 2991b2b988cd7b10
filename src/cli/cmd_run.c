/* cmd_run.c - `fennec run`: complete a prompt, streaming the text to stdout; speeds and
 * memory to stderr. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/cpu.h"
#include "base/error.h"
#include "cli/cli.h"
#include "cli/cli_args.h"
#include "cli/cli_text.h"
#include "engine/llm.h"
#include "engine/stop_matcher.h"
#include "sample/sampler.h"
#include "tok/tokenizer.h"

#define MAX_STOPS 16

static volatile sig_atomic_t interrupted;
static void on_sigint(int sig) {
    (void)sig;
    interrupted = 1;
}

static void usage(FILE *out) {
    fprintf(out,
            "usage: fennec run -m FILE (-p TEXT | -f FILE | --ids ID,ID,...) [options]\n\n"
            "Completes the prompt and streams the text to stdout; prompt and generation speed and\n"
            "memory go to stderr. Ctrl-C stops cleanly.\n\n"
            "  -n N                 tokens to generate (default 128; stops early at end-of-generation)\n"
            "  -t THREADS           threads (default: all cores)\n"
            "  --ctx N              context size in tokens (default min(4096, trained))\n"
            "  --kv-type f16|q8_0   KV cache element type (default f16)\n"
            "  --truncate           keep the end of a prompt longer than the context instead of failing\n"
            "  --temp T             temperature; 0 = greedy (default 0.8)\n"
            "  --top-k K            (default 40; 0 = off)      --top-p P   (default 0.95)\n"
            "  --min-p P            (default 0.05)             --seed N    (default 0)\n"
            "  --repeat-penalty F   (default 1 = off)          --repeat-last-n N (default 64)\n"
            "  --presence-penalty F --frequency-penalty F      (OpenAI-style, default 0)\n"
            "  --stop TEXT          stop before this text (repeatable, up to %d)\n"
            "  --special            parse special-token texts in the prompt and print control tokens\n"
            "  --no-bos             don't add BOS even if the model wants it\n"
            "  --ignore-eos         keep generating past end-of-generation tokens\n"
            "  --ids-out FILE       also write the generated token ids, one per line\n",
            MAX_STOPS);
}

static void report_memory(void) {
    FILE *fp = fopen("/proc/self/status", "r");
    if (!fp) return;
    char line[256];
    long rss = -1, hwm = -1;
    while (fgets(line, sizeof line, fp)) {
        if (!strncmp(line, "VmRSS:", 6)) rss = atol(line + 6);
        if (!strncmp(line, "VmHWM:", 6)) hwm = atol(line + 6);
    }
    fclose(fp);
    if (rss >= 0) fprintf(stderr, "memory: resident %.1f MiB, peak %.1f MiB\n", rss / 1024.0, hwm / 1024.0);
}

int cmd_run(int argc, char **argv) {
    const char *path = NULL, *prompt = NULL, *prompt_file = NULL, *ids_arg = NULL, *ids_out_path = NULL;
    const char *stops[MAX_STOPS];
    int n_stops = 0;
    long n_gen = 128, threads = 0, ctx = 0, last_n = 64, seed = 0;
    double v;
    bool truncate = false, special = false, no_bos = false, ignore_eos = false;
    uint32_t kv_type = 0;
    sampler_params sp = sampler_defaults();
    sp.temperature = 0.8f;
    sp.top_k = 40;
    sp.top_p = 0.95f;
    sp.min_p = 0.05f;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;
        if (cli_is_help(a)) {
            usage(stdout);
            return 0;
        }
        if (!strcmp(a, "--truncate")) { truncate = true; continue; }
        if (!strcmp(a, "--special")) { special = true; continue; }
        if (!strcmp(a, "--no-bos")) { no_bos = true; continue; }
        if (!strcmp(a, "--ignore-eos")) { ignore_eos = true; continue; }
        const char *opts[] = {"-m", "-p", "-f", "--ids", "-n", "-t", "--ctx", "--temp", "--top-k", "--top-p",
                              "--min-p", "--seed", "--repeat-penalty", "--repeat-last-n", "--presence-penalty",
                              "--frequency-penalty", "--stop", "--ids-out", "--kv-type"};
        bool known = false;
        for (size_t k = 0; k < sizeof opts / sizeof *opts; k++) known |= !strcmp(a, opts[k]);
        if (!known) return cli_fail("run: unknown argument '%s' (see --help)", a);
        if (!val) return cli_fail("run: %s needs a value", a);
        i++;
        if (!strcmp(a, "-m")) path = val;
        else if (!strcmp(a, "-p")) prompt = val;
        else if (!strcmp(a, "-f")) prompt_file = val;
        else if (!strcmp(a, "--ids")) ids_arg = val;
        else if (!strcmp(a, "--ids-out")) ids_out_path = val;
        else if (!strcmp(a, "--kv-type")) {
            if (!cli_parse_kv_type(val, &kv_type)) return cli_fail("run: --kv-type must be f16 or q8_0");
        }
        else if (!strcmp(a, "--stop")) {
            if (n_stops == MAX_STOPS) return cli_fail("run: at most %d --stop strings", MAX_STOPS);
            stops[n_stops++] = val;
        } else if (!strcmp(a, "-n")) {
            if (!cli_parse_int(val, 0, 1 << 24, &n_gen)) return cli_fail("run: -n must be 0..16777216");
        } else if (!strcmp(a, "-t")) {
            if (!cli_parse_int(val, 1, 1024, &threads)) return cli_fail("run: -t must be 1..1024");
        } else if (!strcmp(a, "--ctx")) {
            if (!cli_parse_int(val, 16, 1 << 24, &ctx)) return cli_fail("run: --ctx must be 16..16777216");
        } else if (!strcmp(a, "--seed")) {
            if (!cli_parse_int(val, 0, INT64_MAX, &seed)) return cli_fail("run: --seed must be a non-negative integer");
            sp.seed = (uint64_t)seed;
        } else if (!strcmp(a, "--repeat-last-n")) {
            if (!cli_parse_int(val, 0, 1 << 20, &last_n)) return cli_fail("run: --repeat-last-n must be 0..1048576");
            sp.penalty_last_n = (int)last_n;
        } else if (!strcmp(a, "--top-k")) {
            long k;
            if (!cli_parse_int(val, 0, 1 << 24, &k)) return cli_fail("run: --top-k must be a non-negative integer");
            sp.top_k = (int)k;
        } else {
            if (!cli_parse_float(val, -1e9, 1e9, &v)) return cli_fail("run: %s needs a number, got '%s'", a, val);
            if (!strcmp(a, "--temp")) sp.temperature = (float)v;
            else if (!strcmp(a, "--top-p")) sp.top_p = (float)v;
            else if (!strcmp(a, "--min-p")) sp.min_p = (float)v;
            else if (!strcmp(a, "--repeat-penalty")) sp.repeat_penalty = (float)v;
            else if (!strcmp(a, "--presence-penalty")) sp.presence_penalty = (float)v;
            else if (!strcmp(a, "--frequency-penalty")) sp.frequency_penalty = (float)v;
        }
    }
    if (!path) return cli_fail("run: -m FILE is required");
    if ((prompt != NULL) + (prompt_file != NULL) + (ids_arg != NULL) != 1)
        return cli_fail("run: give exactly one of -p TEXT, -f FILE or --ids");
    if (sampler_params_check(&sp)) return cli_fail("run: %s", fn_errmsg());

    int rc = 1, n_prompt = 0, n_done = 0;
    int32_t *ids = NULL;
    tokenizer *tok = NULL;
    sampler *smp = NULL;
    float *logits = NULL;
    FILE *ids_out = NULL;
    detok_state dt;
    bool dt_init = false;
    stop_matcher sm;
    memset(&sm, 0, sizeof sm);
    llm_options o = {.model_path = path, .n_threads = (int)threads, .n_ctx = (int)ctx, .n_seq = 1, .kv_type = kv_type};
    double t_load = cli_now();
    llm *l = llm_open(&o);
    if (!l) return cli_fail("run: %s", fn_errmsg());
    t_load = cli_now() - t_load;
    const model_hparams *hp = &l->m->hp;
    tok = tokenizer_load(l->m->file);
    if (!tok) {
        cli_fail("run: %s", fn_errmsg());
        goto done;
    }
    if (ids_arg) {
        ids = cli_parse_ids(ids_arg, &n_prompt);
    } else if (prompt) {
        ids = cli_tokenize_text(l->m->file, prompt, strlen(prompt), !no_bos, special, &n_prompt);
    } else {
        size_t len;
        char *text = cli_read_file(prompt_file, &len);
        if (text) ids = cli_tokenize_text(l->m->file, text, len, !no_bos, special, &n_prompt);
        free(text);
    }
    if (!ids) {
        cli_fail("run: %s", fn_errmsg());
        goto done;
    }
    if (n_prompt == 0) {
        cli_fail("run: the prompt is empty");
        goto done;
    }
    for (int i = 0; i < n_prompt; i++)
        if (ids[i] < 0 || (uint32_t)ids[i] >= hp->n_vocab) {
            cli_fail("run: token id %d is outside the vocabulary (0..%u)", ids[i], hp->n_vocab - 1);
            goto done;
        }
    if (n_prompt >= l->n_ctx) {
        if (!truncate) {
            cli_fail("run: the prompt has %d tokens but the context holds %d (raise --ctx or pass --truncate)",
                     n_prompt, l->n_ctx);
            goto done;
        }
        int keep = l->n_ctx / 2;
        memmove(ids, ids + n_prompt - keep, (size_t)keep * sizeof *ids);
        fprintf(stderr, "run: prompt truncated from %d to its last %d tokens\n", n_prompt, keep);
        n_prompt = keep;
    }
    smp = sampler_new(&sp, (int)hp->n_vocab);
    logits = malloc((size_t)hp->n_vocab * sizeof *logits);
    int32_t *pos = malloc((size_t)n_prompt * sizeof *pos), *seq = calloc((size_t)n_prompt, sizeof *seq);
    if (!smp || !logits || !pos || !seq) {
        free(pos);
        free(seq);
        cli_fail("run: %s", smp ? "out of memory" : fn_errmsg());
        goto done;
    }
    if (ids_out_path && !(ids_out = fopen(ids_out_path, "w"))) {
        free(pos);
        free(seq);
        cli_fail("run: cannot write %s", ids_out_path);
        goto done;
    }
    if (stop_matcher_init(&sm, stops, n_stops)) {
        free(pos);
        free(seq);
        cli_fail("run: %s", fn_errmsg());
        goto done;
    }
    detok_init(&dt, tok, special);
    dt.strip_space = false;
    dt_init = true;
    for (int i = 0; i < n_prompt; i++) {
        pos[i] = i;
        sampler_accept(smp, ids[i]);
    }
    struct sigaction sa, old_sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sigint;
    sigaction(SIGINT, &sa, &old_sa);

    double t0 = cli_now();
    fwd_batch b = {n_prompt, ids, pos, seq, NULL};
    int ok = forward_run(l->fwd, &b, logits);
    free(pos);
    free(seq);
    if (ok != 1) {
        sigaction(SIGINT, &old_sa, NULL);
        cli_fail("run: %s", fn_errmsg());
        goto done;
    }
    double t_prompt = cli_now() - t0;
    t0 = cli_now();
    const char *why = "length";
    for (int i = 0; i < n_gen && !interrupted; i++) {
        int32_t next = sampler_sample(smp, logits, NULL, 0, NULL);
        if (!ignore_eos && tokenizer_is_eog(tok, next)) {
            why = "end of generation";
            break;
        }
        n_done++;
        if (ids_out) fprintf(ids_out, "%d\n", next);
        const char *piece, *text;
        size_t plen, tlen;
        if (detok_push(&dt, next, &piece, &plen) == 0) {
            bool stop = stop_matcher_push(&sm, piece, plen, &text, &tlen);
            fwrite(text, 1, tlen, stdout);
            fflush(stdout);
            if (stop) {
                why = "stop string";
                break;
            }
        }
        if (n_prompt + n_done >= l->n_ctx) {
            why = "context full";
            break;
        }
        if (i + 1 == n_gen) break;
        sampler_accept(smp, next);
        int32_t p = n_prompt + n_done - 1, s0 = 0;
        fwd_batch one = {1, &next, &p, &s0, NULL};
        if (forward_run(l->fwd, &one, logits) != 1) {
            cli_fail("run: %s", fn_errmsg());
            break;
        }
    }
    if (interrupted) why = "interrupted";
    sigaction(SIGINT, &old_sa, NULL);
    {
        const char *piece, *text;
        size_t plen, tlen;
        if (detok_flush(&dt, &piece, &plen) == 0 && !sm.stopped) {
            stop_matcher_push(&sm, piece, plen, &text, &tlen);
            fwrite(text, 1, tlen, stdout);
        }
        stop_matcher_flush(&sm, &text, &tlen);
        fwrite(text, 1, tlen, stdout);
        putchar('\n');
        fflush(stdout);
    }
    double t_gen = cli_now() - t0;
    fprintf(stderr, "\nmodel: %s (%s, %u layers, %.1f MB active per token), %d threads, cpu %s, load %.2f s\n",
            path, hp->arch, hp->n_layer, (double)l->m->active_bytes / 1e6, l->n_threads, fn_cpu_level_name(), t_load);
    fprintf(stderr, "prompt: %d tokens in %.3f s (%.2f tokens/s)\n", n_prompt, t_prompt, n_prompt / t_prompt);
    fprintf(stderr, "generation: %d tokens in %.3f s (%.2f tokens/s), stopped: %s\n", n_done, t_gen,
            n_done > 1 ? (n_done - 1) / t_gen : 0.0, why);
    report_memory();
    rc = 0;
done:
    if (ids_out && fclose(ids_out) != 0 && rc == 0) rc = cli_fail("run: write to %s failed", ids_out_path);
    if (dt_init) detok_free(&dt);
    stop_matcher_free(&sm);
    free(ids);
    free(logits);
    sampler_free(smp);
    tokenizer_free(tok);
    llm_close(l);
    return rc;
}
