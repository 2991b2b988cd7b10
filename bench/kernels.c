/* kernels.c - matmul kernel benchmark: decode (1 activation row, weights streamed from DRAM)
 * in GB/s of weights read, and prefill (many activation rows) in GFLOP/s, per weight type,
 * kernel level and thread count. Medians of repeated runs (the machine is shared).
 *
 *   bench_kernels [--level L] [--types q4_K,q6_K,...] [--threads 1,2] [--reps N]
 *                 [--decode-mb MB] [--prefill-n N] [--only decode|prefill] [--cpu-time]
 *
 * Decode shapes: 2048x2048 (one job per dispatch, like an attention projection) and
 * 768x2048 experts (8 jobs per dispatch, like the gate of 8 routed experts), cycling over
 * enough distinct copies that the weights cannot stay in the 260 MB L3. Prefill: 512
 * activation rows x 2048x2048, and an MoE step: 8 experts of 768x2048, each fed 64 of 512
 * token rows through `rows`. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/dtype.h"
#include "base/error.h"
#include "base/rng.h"
#include "base/threadpool.h"
#include "tensor/kernels.h"
#include "tensor/matmul.h"
#include "tensor/tensor_format.h"

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static double cpu_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* Share of the wall time this process got on the CPUs it asked for, over all runs: below
 * ~0.9 other processes were competing and the numbers understate the kernels. */
static double cpu_busy, wall_busy;

/* --cpu-time: rates per second of process CPU time instead of wall time. On a shared machine
 * this shows what the kernels do when they run; with several threads it includes the time
 * workers spin waiting, so it is a lower bound there. */
static int use_cpu_time;

static int cmp_double(const void *a, const void *b) {
    const double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *v, int n) {
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

static void *xmalloc(size_t n) {
    void *p = aligned_alloc(64, (n + 63) / 64 * 64);
    if (!p) {
        fprintf(stderr, "out of memory (%zu bytes)\n", n);
        exit(1);
    }
    return p;
}

/* One quantized matrix (n_out x n_in) of random weights. */
static void *make_matrix(uint32_t type, int64_t n_in, int64_t n_out, size_t *row_bytes, fn_rng *r) {
    *row_bytes = (size_t)fn_dtype_row_bytes(type, n_in);
    uint8_t *w = xmalloc(*row_bytes * (size_t)n_out);
    float *x = xmalloc(sizeof(float) * (size_t)n_in);
    for (int64_t o = 0; o < n_out; o++) {
        for (int64_t i = 0; i < n_in; i++) x[i] = (float)(fn_rng_normal(r) * 0.02);
        if (tensor_quantize(type, x, w + (size_t)o * *row_bytes, n_in) < 0) {
            fprintf(stderr, "quantize %s: %s\n", fn_dtype_name(type), fn_errmsg());
            exit(1);
        }
    }
    free(x);
    return w;
}

/* n rows of quantized activations for a weight type. */
static void *make_act(const mm_kernel_set *ks, uint32_t wtype, int64_t n_in, int64_t n,
                      mm_act *act, fn_rng *r) {
    const uint32_t at = (uint32_t)mm_act_type(wtype);
    float *x = xmalloc(sizeof(float) * (size_t)(n_in * n));
    for (int64_t i = 0; i < n_in * n; i++) x[i] = (float)fn_rng_normal(r);
    const size_t rb = mm_act_row_bytes(at, n_in);
    void *q = xmalloc(rb * (size_t)n);
    mm_quantize_act_with(ks, NULL, at, x, (size_t)n_in, n_in, n, q);
    free(x);
    *act = (mm_act){.act_type = at, .data = q, .row_bytes = rb, .n_in = n_in, .n_rows = n};
    return q;
}

typedef struct {
    const mm_kernel_set *ks;
    int reps;
    size_t decode_bytes;
    int64_t prefill_n;
    int do_decode, do_prefill;
} config;

/* Decode: GB/s over `copies` distinct copies of an n_out x n_in matrix, jobs_per_call
 * matrices per dispatch. */
static double bench_decode(const config *cfg, fn_pool *pool, uint32_t type, int64_t n_in,
                           int64_t n_out, int jobs_per_call) {
    fn_rng r;
    fn_rng_seed(&r, 1);
    size_t rb;
    uint8_t *one = make_matrix(type, n_in, n_out, &rb, &r);
    const size_t mbytes = rb * (size_t)n_out;
    int copies = (int)((cfg->decode_bytes + mbytes - 1) / mbytes);
    copies = (copies + jobs_per_call - 1) / jobs_per_call * jobs_per_call;
    uint8_t *all = xmalloc(mbytes * (size_t)copies);
    for (int k = 0; k < copies; k++) memcpy(all + (size_t)k * mbytes, one, mbytes);
    mm_act act;
    void *aq = make_act(cfg->ks, type, n_in, 1, &act, &r);
    float *out = xmalloc(sizeof(float) * (size_t)n_out * (size_t)jobs_per_call);
    mm_job jobs[16];
    double t[64];
    for (int rep = 0; rep < cfg->reps + 1; rep++) {
        const double t0 = now(), c0 = cpu_now();
        for (int k = 0; k < copies; k += jobs_per_call) {
            for (int j = 0; j < jobs_per_call; j++)
                jobs[j] = (mm_job){
                    .w = {.data = all + (size_t)(k + j) * mbytes, .type = type, .n_in = n_in,
                          .n_out = n_out, .row_bytes = rb},
                    .act = &act, .n = 1, .out = out + (size_t)j * (size_t)n_out,
                    .out_stride = (size_t)n_out,
                };
            mm_run_with(cfg->ks, pool, jobs, jobs_per_call);
        }
        const double dt = now() - t0, ct = cpu_now() - c0;
        if (rep) t[rep - 1] = (double)mbytes * copies / (use_cpu_time ? ct : dt) / 1e9;
        cpu_busy += ct; /* the first run warms up */
        wall_busy += dt * fn_pool_size(pool);
    }
    free(one);
    free(all);
    free(aq);
    free(out);
    return median(t, cfg->reps);
}

/* Prefill: GFLOP/s of n activation rows x one n_out x n_in matrix, or of an MoE step (8
 * experts, each fed n/8 token rows picked through `rows`). */
static double bench_prefill(const config *cfg, fn_pool *pool, uint32_t type, int64_t n_in,
                            int64_t n_out, int64_t n, int experts) {
    fn_rng r;
    fn_rng_seed(&r, 2);
    size_t rb;
    uint8_t *w[8];
    const int nw = experts ? experts : 1;
    for (int e = 0; e < nw; e++) w[e] = make_matrix(type, n_in, n_out, &rb, &r);
    mm_act act;
    void *aq = make_act(cfg->ks, type, n_in, n, &act, &r);
    const int64_t per = experts ? n / experts : n;
    int32_t *rows = xmalloc(sizeof(int32_t) * (size_t)(per * nw));
    for (int64_t i = 0; i < per * nw; i++) rows[i] = (int32_t)(fn_rng_next(&r) % (uint64_t)n);
    float *out = xmalloc(sizeof(float) * (size_t)(n_out * per * nw));
    mm_job jobs[8];
    for (int e = 0; e < nw; e++)
        jobs[e] = (mm_job){
            .w = {.data = w[e], .type = type, .n_in = n_in, .n_out = n_out, .row_bytes = rb},
            .act = &act, .rows = experts ? rows + e * per : NULL, .n = per,
            .out = out + (size_t)(e * per * n_out), .out_stride = (size_t)n_out,
        };
    double t[64];
    for (int rep = 0; rep < cfg->reps + 1; rep++) {
        const double t0 = now(), c0 = cpu_now();
        mm_run_with(cfg->ks, pool, jobs, nw);
        const double dt = now() - t0, ct = cpu_now() - c0;
        cpu_busy += ct;
        wall_busy += dt * fn_pool_size(pool);
        if (rep) t[rep - 1] = 2.0 * (double)(n_in * n_out * per * nw) / (use_cpu_time ? ct : dt) / 1e9;
    }
    for (int e = 0; e < nw; e++) free(w[e]);
    free(aq);
    free(rows);
    free(out);
    return median(t, cfg->reps);
}

int main(int argc, char **argv) {
    const char *level = NULL, *types = "q4_K,q5_K,q6_K,q8_0,q4_0,q4_1,q5_0,q5_1,mxfp4,q2_K,q3_K,f16,bf16,f32";
    const char *threads = "1,2";
    config cfg = {.reps = 5, .decode_bytes = (size_t)1024 << 20, .prefill_n = 512,
                  .do_decode = 1, .do_prefill = 1};
    for (int i = 1; i < argc; i++) {
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(argv[i], "--level") && v) level = argv[++i];
        else if (!strcmp(argv[i], "--types") && v) types = argv[++i];
        else if (!strcmp(argv[i], "--threads") && v) threads = argv[++i];
        else if (!strcmp(argv[i], "--reps") && v) cfg.reps = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--decode-mb") && v) cfg.decode_bytes = (size_t)atol(argv[++i]) << 20;
        else if (!strcmp(argv[i], "--prefill-n") && v) cfg.prefill_n = atol(argv[++i]);
        else if (!strcmp(argv[i], "--cpu-time")) use_cpu_time = 1;
        else if (!strcmp(argv[i], "--only") && v) {
            const char *o = argv[++i];
            cfg.do_decode = !strcmp(o, "decode");
            cfg.do_prefill = !strcmp(o, "prefill");
        } else {
            fprintf(stderr, "usage: %s [--level L] [--types a,b] [--threads 1,2] [--reps N] "
                            "[--decode-mb MB] [--prefill-n N] [--only decode|prefill] [--cpu-time]\n", argv[0]);
            return 2;
        }
    }
    if (cfg.reps < 1 || cfg.reps > 63) cfg.reps = 5;
    cfg.ks = mm_kernels_for_level(level);
    if (!cfg.ks) {
        fprintf(stderr, "level %s is not available on this CPU\n", level);
        return 1;
    }
    printf("level %s, decode set %zu MB, %d reps (median), rates per %s second\n", cfg.ks->name,
           cfg.decode_bytes >> 20, cfg.reps, use_cpu_time ? "CPU" : "wall");
    printf("%-6s %-11s %3s | %12s %12s | %14s %14s\n", "type", "kernel", "thr", "dec 2048^2",
           "dec 8x768", "pre 512x2048^2", "pre moe 8x64");
    char tbuf[256];
    snprintf(tbuf, sizeof tbuf, "%s", types);
    for (char *tok = strtok(tbuf, ","); tok; tok = strtok(NULL, ",")) {
        const int type = fn_dtype_from_name(tok);
        if (type < 0 || mm_act_type((uint32_t)type) < 0) {
            fprintf(stderr, "skipping unknown type %s\n", tok);
            continue;
        }
        int nths[8], nn = 0;
        for (const char *p = threads; *p && nn < 8;) {
            nths[nn++] = atoi(p);
            while (*p && *p != ',') p++;
            if (*p == ',') p++;
        }
        for (int k = 0; k < nn; k++) {
            fn_pool *pool = fn_pool_new(nths[k]);
            if (!pool) {
                fprintf(stderr, "%s\n", fn_errmsg());
                return 1;
            }
            double d1 = 0, d2 = 0, p1 = 0, p2 = 0;
            cpu_busy = wall_busy = 0;
            if (cfg.do_decode) {
                d1 = bench_decode(&cfg, pool, (uint32_t)type, 2048, 2048, 1);
                d2 = bench_decode(&cfg, pool, (uint32_t)type, 2048, 768, 8);
            }
            if (cfg.do_prefill) {
                p1 = bench_prefill(&cfg, pool, (uint32_t)type, 2048, 2048, cfg.prefill_n, 0);
                p2 = bench_prefill(&cfg, pool, (uint32_t)type, 2048, 768, cfg.prefill_n, 8);
            }
            printf("%-6s %-11s %3d | %7.2f GB/s %7.2f GB/s | %8.1f GF/s %8.1f GF/s | cpu %.2f\n",
                   tok, cfg.ks->gemm[type].name, nths[k], d1, d2, p1, p2,
                   wall_busy > 0 ? cpu_busy / wall_busy : 0);
            fflush(stdout);
            fn_pool_free(pool);
        }
    }
    return 0;
}
