/* ggml_compare.c - the same matrix products through Fennec's mm_run and through llama.cpp's
 * ggml CPU backend (public API only), on the same quantized bytes, same threads, same
 * machine: prefill GFLOP/s (activation quantization included on both sides, as ggml's
 * mul_mat does it internally) and decode GB/s of weights streamed from DRAM. ggml is run
 * both with its default buffers and with its CPU_REPACK buffer type (the interleaved layouts
 * llama.cpp uses for Q4_0/Q4_K/Q2_K/MXFP4 on x86). The outputs are compared, so a broken
 * comparison shows up as a mismatch, not as a fast number: ~1e-6 for the K-quants, ~1e-3 for
 * the Q8_0-activation types (ggml's SIMD activation quantizer rounds ties differently).
 *
 * Built by bench/compare_ggml.sh against a llama.cpp checkout; not part of the normal build.
 *
 *   ggml_compare [--types q4_K,q8_0] [--threads 1,2] [--n 512] [--decode-mb 1024] [--reps 5]
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ggml-alloc.h"
#include "ggml-backend.h"
#include "ggml-cpu.h"
#include "ggml.h"

#include "base/dtype.h"
#include "base/rng.h"
#include "base/threadpool.h"
#include "tensor/matmul.h"
#include "tensor/tensor_format.h"

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int cmp_double(const void *a, const void *b) {
    const double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *v, int n) {
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

static void *xmalloc(size_t n) {
    void *p = malloc(n ? n : 1);
    if (!p) {
        fprintf(stderr, "out of memory\n");
        exit(1);
    }
    return p;
}

static void quiet(enum ggml_log_level level, const char *text, void *user) {
    (void)user;
    if (level == GGML_LOG_LEVEL_ERROR) fputs(text, stderr);
}

/* ggml's id for a type is GGML's numbering, the same as fn_dtype's. */
static enum ggml_type gtype(uint32_t t) { return (enum ggml_type)t; }

typedef struct {
    ggml_backend_t be;
    ggml_backend_buffer_type_t repack; /* NULL if the CPU backend has none */
} ggml_env;

static ggml_env env_new(int threads) {
    ggml_env e = {.be = ggml_backend_cpu_init()};
    ggml_backend_cpu_set_n_threads(e.be, threads);
    ggml_backend_dev_t dev = ggml_backend_get_device(e.be);
    ggml_backend_reg_t reg = ggml_backend_dev_backend_reg(dev);
    ggml_backend_dev_get_extra_bufts_t get =
        (ggml_backend_dev_get_extra_bufts_t)ggml_backend_reg_get_proc_address(reg, "ggml_backend_dev_get_extra_bufts");
    for (ggml_backend_buffer_type_t *b = get ? get(dev) : NULL; b && *b; b++)
        if (strstr(ggml_backend_buft_name(*b), "REPACK")) e.repack = *b;
    return e;
}

/* out[N][M] = W (M x K, quantized bytes) x X (N x K f32) through ggml, `reps` times; returns
 * the median seconds. copies > 1: that many distinct weight tensors (decode from DRAM), each
 * multiplied by X, one graph. */
static double ggml_run(ggml_env *e, ggml_backend_buffer_type_t wbuft, uint32_t type, const void *w,
                       int64_t K, int64_t M, int copies, const float *x, int64_t N, float *out,
                       int reps) {
    struct ggml_init_params wp = {.mem_size = ggml_tensor_overhead() * (size_t)(copies + 1),
                                  .no_alloc = true};
    struct ggml_context *wctx = ggml_init(wp);
    struct ggml_tensor **W = xmalloc(sizeof *W * (size_t)copies);
    for (int c = 0; c < copies; c++) W[c] = ggml_new_tensor_2d(wctx, gtype(type), K, M);
    ggml_backend_buffer_t wbuf = ggml_backend_alloc_ctx_tensors_from_buft(wctx, wbuft);
    for (int c = 0; c < copies; c++) ggml_backend_tensor_set(W[c], w, 0, ggml_nbytes(W[c]));

    struct ggml_init_params gp = {.mem_size = ggml_tensor_overhead() * (size_t)(2 * copies + 8) +
                                              ggml_graph_overhead_custom((size_t)(2 * copies + 8), false),
                                  .no_alloc = true};
    struct ggml_context *gctx = ggml_init(gp);
    struct ggml_tensor *X = ggml_new_tensor_2d(gctx, GGML_TYPE_F32, K, N);
    ggml_set_input(X);
    struct ggml_cgraph *gf = ggml_new_graph_custom(gctx, (size_t)(2 * copies + 8), false);
    struct ggml_tensor *Y = NULL;
    for (int c = 0; c < copies; c++) {
        Y = ggml_mul_mat(gctx, W[c], X);
        ggml_set_output(Y);
        ggml_build_forward_expand(gf, Y);
    }
    ggml_gallocr_t ga = ggml_gallocr_new(ggml_backend_get_default_buffer_type(e->be));
    ggml_gallocr_alloc_graph(ga, gf);
    ggml_backend_tensor_set(X, x, 0, ggml_nbytes(X));
    double t[64];
    for (int r = 0; r < reps + 1; r++) {
        const double t0 = now();
        ggml_backend_graph_compute(e->be, gf);
        if (r) t[r - 1] = now() - t0; /* the first run warms up */
    }
    ggml_backend_tensor_get(Y, out, 0, ggml_nbytes(Y));
    ggml_gallocr_free(ga);
    ggml_free(gctx);
    ggml_backend_buffer_free(wbuf);
    ggml_free(wctx);
    free(W);
    return median(t, reps);
}

/* The same through Fennec: quantize X, then one mm_run per weight copy. */
static double fennec_run(fn_pool *pool, uint32_t type, const uint8_t *w, size_t row_bytes,
                         int64_t K, int64_t M, int copies, const float *x, int64_t N, float *out,
                         int reps) {
    const uint32_t at = (uint32_t)mm_act_type(type);
    const size_t arb = mm_act_row_bytes(at, K);
    void *q = xmalloc(arb * (size_t)N);
    double t[64];
    for (int r = 0; r < reps + 1; r++) {
        const double t0 = now();
        for (int c = 0; c < copies; c++) {
            mm_quantize_act(pool, at, x, (size_t)K, K, N, q);
            const mm_act act = {.act_type = at, .data = q, .row_bytes = arb, .n_in = K, .n_rows = N};
            const mm_job job = {
                .w = {.data = w + (size_t)c * row_bytes * (size_t)M, .type = type, .n_in = K,
                      .n_out = M, .row_bytes = row_bytes},
                .act = &act, .n = N, .out = out, .out_stride = (size_t)M,
            };
            mm_run(pool, &job, 1);
        }
        if (r) t[r - 1] = now() - t0;
    }
    free(q);
    return median(t, reps);
}

/* Largest |a-b| / (max|b| over the output), a scale-free check that both computed the same. */
static double mismatch(const float *a, const float *b, size_t n) {
    double scale = 0, worst = 0;
    for (size_t i = 0; i < n; i++) scale = fmax(scale, fabs(b[i]));
    for (size_t i = 0; i < n; i++) worst = fmax(worst, fabs((double)a[i] - b[i]));
    return scale > 0 ? worst / scale : worst;
}

int main(int argc, char **argv) {
    const char *types = "q4_K,q6_K,q8_0,q4_0,mxfp4";
    const char *threads = "1,2";
    int64_t N = 512;
    size_t decode_bytes = (size_t)1024 << 20;
    int reps = 5;
    for (int i = 1; i < argc; i++) {
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(argv[i], "--types") && v) types = argv[++i];
        else if (!strcmp(argv[i], "--threads") && v) threads = argv[++i];
        else if (!strcmp(argv[i], "--n") && v) N = atol(argv[++i]);
        else if (!strcmp(argv[i], "--decode-mb") && v) decode_bytes = (size_t)atol(argv[++i]) << 20;
        else if (!strcmp(argv[i], "--reps") && v) reps = atoi(argv[++i]);
        else {
            fprintf(stderr, "usage: %s [--types a,b] [--threads 1,2] [--n N] [--decode-mb MB] [--reps N]\n",
                    argv[0]);
            return 2;
        }
    }
    if (reps < 1 || reps > 63) reps = 5;
    ggml_log_set(quiet, NULL);
    const int64_t K = 2048, M = 2048;
    printf("prefill %lldx%lld weights x %lld rows (GFLOP/s, activation quantization included), "
           "decode 1 row over %zu MB of %lldx%lld matrices (GB/s); medians of %d\n",
           (long long)M, (long long)K, (long long)N, decode_bytes >> 20, (long long)M, (long long)K, reps);
    printf("%-6s %3s | %-29s | %-29s | %s\n", "type", "thr", "prefill fennec/ggml/ggml-repack",
           "decode fennec/ggml/ggml-repack", "mismatch");
    char tb[256];
    snprintf(tb, sizeof tb, "%s", types);
    for (char *tok = strtok(tb, ","); tok; tok = strtok(NULL, ",")) {
        const int type = fn_dtype_from_name(tok);
        if (type < 0 || mm_act_type((uint32_t)type) < 0) {
            fprintf(stderr, "skipping %s\n", tok);
            continue;
        }
        fn_rng r;
        fn_rng_seed(&r, 7);
        const size_t rb = (size_t)fn_dtype_row_bytes((uint32_t)type, K);
        const size_t mbytes = rb * (size_t)M;
        const int copies = (int)((decode_bytes + mbytes - 1) / mbytes);
        uint8_t *w = xmalloc(mbytes * (size_t)copies);
        float *row = xmalloc(sizeof(float) * (size_t)K);
        for (int64_t o = 0; o < M; o++) {
            for (int64_t i = 0; i < K; i++) row[i] = (float)(fn_rng_normal(&r) * 0.02);
            tensor_quantize((uint32_t)type, row, w + (size_t)o * rb, K);
        }
        for (int c = 1; c < copies; c++) memcpy(w + (size_t)c * mbytes, w, mbytes);
        float *x = xmalloc(sizeof(float) * (size_t)(K * N));
        for (int64_t i = 0; i < K * N; i++) x[i] = (float)fn_rng_normal(&r);
        float *of = xmalloc(sizeof(float) * (size_t)(M * N)), *og = xmalloc(sizeof(float) * (size_t)(M * N));
        for (const char *p = threads; *p;) {
            const int nth = atoi(p);
            while (*p && *p != ',') p++;
            if (*p == ',') p++;
            fn_pool *pool = fn_pool_new(nth);
            ggml_env e = env_new(nth);
            const double flop = 2.0 * (double)(M * K * N);
            const double tf = fennec_run(pool, (uint32_t)type, w, rb, K, M, 1, x, N, of, reps);
            const double tg = ggml_run(&e, ggml_backend_get_default_buffer_type(e.be), (uint32_t)type, w,
                                       K, M, 1, x, N, og, reps);
            double mis = mismatch(of, og, (size_t)(M * N));
            /* ggml repacks only some types on x86 (its set_tensor does not check: others
             * crash there), see ggml_repack_get_optimal_repack_type in repack.cpp */
            const bool can_repack = e.repack && (type == FN_Q4_0 || type == FN_Q4_K ||
                                                 type == FN_Q2_K || type == FN_MXFP4);
            double tgr = 0;
            if (can_repack) {
                tgr = ggml_run(&e, e.repack, (uint32_t)type, w, K, M, 1, x, N, og, reps);
                mis = fmax(mis, mismatch(of, og, (size_t)(M * N)));
            }
            const double df = fennec_run(pool, (uint32_t)type, w, rb, K, M, copies, x, 1, of, reps);
            const double dg = ggml_run(&e, ggml_backend_get_default_buffer_type(e.be), (uint32_t)type, w,
                                       K, M, copies, x, 1, og, reps);
            mis = fmax(mis, mismatch(of, og, (size_t)M));
            double dgr = 0;
            if (can_repack) {
                dgr = ggml_run(&e, e.repack, (uint32_t)type, w, K, M, copies, x, 1, og, reps);
                mis = fmax(mis, mismatch(of, og, (size_t)M));
            }
            const double gb = (double)mbytes * copies / 1e9;
            printf("%-6s %3d | %7.1f %7.1f %7.1f GF/s | %6.2f %6.2f %6.2f GB/s   | %.1e\n", tok, nth,
                   flop / tf / 1e9, flop / tg / 1e9, tgr > 0 ? flop / tgr / 1e9 : 0.0, gb / df, gb / dg,
                   dgr > 0 ? gb / dgr : 0.0, mis);
            fflush(stdout);
            ggml_backend_free(e.be);
            fn_pool_free(pool);
        }
        free(w);
        free(row);
        free(x);
        free(of);
        free(og);
    }
    return 0;
}
