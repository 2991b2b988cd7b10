/* test_matmul.c - every matmul kernel at every instruction-set level this CPU has (generic,
 * avx2, avx2-vnni, avx512, avx512-vnni: the tables of mm_kernels_for_level, so one AVX-512
 * machine exercises them all), against an independent f64 reference (dequantize weights and
 * activations, then dot), over awkward shapes (1..255 output rows, one block to 4096 inputs,
 * 1..130 activation rows: direct kernels below ~6-12 rows, prefill panel kernels above), MoE
 * row subsets, 1-3 threads and multi-job dispatches; SIMD activation quantizers against the
 * reference quantizers byte for byte (ties, equal +/- maxima, tiny and huge values, zeros).
 *
 * Error bound: |out - ref| <= tol * sum_k |w_k * a_k| with tol = 1e-4 for quantized weights
 * and 1e-5 for F32/F16/BF16 (observed errors are ~1e-7..1e-6: the kernels differ from the
 * reference only in float rounding). A wrong scale, nibble or sub-block shows up as an error
 * of the order of the terms themselves, far above the bound. */
#include "tensor/matmul.h"

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/dtype.h"
#include "base/error.h"
#include "base/rng.h"
#include "base/threadpool.h"
#include "tensor/kernels.h"
#include "tensor/quant_ref.h"
#include "tensor/tensor_format.h"

static const char *const levels[] = {"generic", "avx2", "avx2-vnni", "avx512", "avx512-vnni"};

static fn_pool *pools[4]; /* pools[t]: t threads */

static int group_setup(void **state) {
    (void)state;
    for (int t = 1; t <= 3; t++)
        if (!(pools[t] = fn_pool_new(t))) return -1;
    return 0;
}

static int group_teardown(void **state) {
    (void)state;
    for (int t = 1; t <= 3; t++) fn_pool_free(pools[t]);
    return 0;
}

static void *xmalloc(size_t n) {
    void *p = malloc(n ? n : 1);
    assert_non_null(p);
    return p;
}

/* Activation-like data: normal, with an occasional outlier and an all-zero block. */
static void fill_act(fn_rng *r, float *x, int64_t n, int64_t zero_from, int64_t zero_len) {
    for (int64_t i = 0; i < n; i++) {
        double v = fn_rng_normal(r);
        if (fn_rng_uniform(r) < 0.01) v *= 20;
        x[i] = (float)v;
    }
    for (int64_t i = zero_from; i < zero_from + zero_len && i < n; i++) x[i] = 0;
}

/* ---- a weight matrix, its activations, and the f64 reference ---- */

typedef struct {
    uint32_t type, act_type;
    int64_t n_in, n_out;
    size_t row_bytes;
    uint8_t *w;           /* n_out quantized rows */
    float *wf;            /* n_out x n_in dequantized */
    int64_t n_act;        /* activation rows available */
    size_t act_row_bytes;
    uint8_t *act;         /* n_act quantized activation rows */
    float *af;            /* n_act x n_in dequantized activations */
    double *ref, *mag;    /* n_act x n_out: reference dot and sum |w.a|, filled on demand */
    uint8_t *have_ref;    /* n_act flags */
} problem;

static void problem_init(problem *p, uint32_t type, int64_t n_in, int64_t n_out, int64_t n_act,
                         uint64_t seed) {
    fn_rng r;
    fn_rng_seed(&r, seed);
    memset(p, 0, sizeof *p);
    p->type = type;
    p->act_type = (uint32_t)mm_act_type(type);
    p->n_in = n_in;
    p->n_out = n_out;
    p->n_act = n_act;
    p->row_bytes = (size_t)fn_dtype_row_bytes(type, n_in);
    p->w = xmalloc(p->row_bytes * (size_t)n_out);
    p->wf = xmalloc(sizeof(float) * (size_t)(n_in * n_out));
    float *x = xmalloc(sizeof(float) * (size_t)n_in);
    for (int64_t o = 0; o < n_out; o++) {
        const double row_scale = exp(fn_rng_normal(&r) * 0.5) * 0.05;
        for (int64_t i = 0; i < n_in; i++) {
            x[i] = (float)(fn_rng_normal(&r) * row_scale);
            if (o % 7 == 3) x[i] += (float)row_scale; /* rows with a non-zero mean (mins) */
        }
        assert_int_equal(tensor_quantize(type, x, p->w + o * p->row_bytes, n_in), 0);
        assert_int_equal(tensor_dequantize(type, p->w + o * p->row_bytes, p->wf + o * n_in, n_in), 0);
    }
    p->act_row_bytes = mm_act_row_bytes(p->act_type, n_in);
    assert_true(p->act_row_bytes > 0);
    p->act = xmalloc(p->act_row_bytes * (size_t)n_act);
    p->af = xmalloc(sizeof(float) * (size_t)(n_in * n_act));
    p->ref = xmalloc(sizeof(double) * (size_t)(n_out * n_act));
    p->mag = xmalloc(sizeof(double) * (size_t)(n_out * n_act));
    p->have_ref = calloc((size_t)n_act, 1);
    assert_non_null(p->have_ref);
    for (int64_t c = 0; c < n_act; c++) {
        fill_act(&r, x, n_in, c % 5 == 2 ? n_in / 2 : n_in, 32);
        uint8_t *dst = p->act + c * p->act_row_bytes;
        if (p->act_type == FN_F32) memcpy(dst, x, sizeof(float) * (size_t)n_in);
        else assert_int_equal(tensor_quantize(p->act_type, x, dst, n_in), 0);
        assert_int_equal(tensor_dequantize(p->act_type, dst, p->af + c * n_in, n_in), 0);
    }
    free(x);
}

static void problem_free(problem *p) {
    free(p->w);
    free(p->wf);
    free(p->act);
    free(p->af);
    free(p->ref);
    free(p->mag);
    free(p->have_ref);
}

/* Reference outputs for activation row c (f64 accumulation of the dequantized values). */
static void problem_ref(problem *p, int64_t c) {
    if (p->have_ref[c]) return;
    const float *a = p->af + c * p->n_in;
    for (int64_t o = 0; o < p->n_out; o++) {
        const float *w = p->wf + o * p->n_in;
        double s = 0, mag = 0;
        for (int64_t k = 0; k < p->n_in; k++) {
            s += (double)w[k] * a[k];
            mag += fabs((double)w[k] * a[k]);
        }
        p->ref[c * p->n_out + o] = s;
        p->mag[c * p->n_out + o] = mag;
    }
    p->have_ref[c] = 1;
}

static mm_act problem_act(const problem *p) {
    return (mm_act){.act_type = p->act_type, .data = p->act, .row_bytes = p->act_row_bytes,
                    .n_in = p->n_in, .n_rows = p->n_act};
}

static double tolerance(uint32_t type) {
    return type == FN_F32 || type == FN_F16 || type == FN_BF16 ? 1e-5 : 1e-4;
}

static double worst_seen[FN_DTYPE_COUNT]; /* largest error / bound-scale, for the summary */

/* Checks out (n x out_stride) against the reference for activation rows rows[i] (or i). */
static void check_out(problem *p, const float *out, size_t out_stride, int64_t n,
                      const int32_t *rows, const char *what) {
    const double tol = tolerance(p->type);
    for (int64_t i = 0; i < n; i++) {
        const int64_t c = rows ? rows[i] : i;
        problem_ref(p, c);
        for (int64_t o = 0; o < p->n_out; o++) {
            const double s = p->ref[c * p->n_out + o], mag = p->mag[c * p->n_out + o];
            const double got = out[i * out_stride + o], err = fabs(got - s);
            const double rel = mag > 0 ? err / mag : err;
            if (rel > worst_seen[p->type]) worst_seen[p->type] = rel;
            if (!(err <= tol * mag + 1e-30)) /* also catches nan */
                fail_msg("%s: %s n_in=%lld n_out=%lld n=%lld: out[%lld][%lld] = %.9g, "
                         "reference %.9g (|w.a| %.3g, error %.3g > %.1g)",
                         fn_dtype_name(p->type), what, (long long)p->n_in, (long long)p->n_out,
                         (long long)n, (long long)i, (long long)o, got, s, mag, err / mag, tol);
        }
        for (size_t o = (size_t)p->n_out; o < out_stride; o++)
            if (!isnan(out[i * out_stride + o]))
                fail_msg("%s: %s wrote past n_out into the stride padding", fn_dtype_name(p->type),
                         what);
    }
}

/* Runs one product through a kernel set and checks it. */
static void run_case(const mm_kernel_set *ks, problem *p, int64_t n, const int32_t *rows,
                     int threads) {
    const size_t out_stride = (size_t)p->n_out + (size_t)(n % 3); /* sometimes padded */
    float *out = xmalloc(sizeof(float) * out_stride * (size_t)(n ? n : 1));
    for (size_t i = 0; i < out_stride * (size_t)n; i++) out[i] = NAN;
    const mm_act act = problem_act(p);
    const mm_job job = {
        .w = {.data = p->w, .type = p->type, .n_in = p->n_in, .n_out = p->n_out,
              .row_bytes = p->row_bytes},
        .act = &act, .rows = rows, .n = n, .out = out, .out_stride = out_stride,
    };
    mm_run_with(ks, pools[threads], &job, 1);
    char what[96];
    snprintf(what, sizeof what, "level %s, %d thread(s), %s", ks->name, threads,
             rows ? "row subset" : "all rows");
    check_out(p, out, out_stride, n, rows, what);
    free(out);
}

/* Every level x shape x thread count x row-subset choice for one weight type. */
static void check_type(uint32_t type) {
    const fn_dtype_info *info = fn_dtype_get(type);
    const int64_t blk = info->block_size > 1 ? info->block_size : 32;
    const int64_t n_ins[3] = {blk, blk == 256 ? 3 * blk : 7 * blk, 4096};
    const int64_t n_outs[4] = {1, 3, 17, 255};
    const int64_t ns[7] = {1, 2, 3, 7, 16, 64, 130};
    int counter = 0;
    for (int ii = 0; ii < 3; ii++) {
        const int64_t n_in = n_ins[ii];
        for (int oi = 0; oi < 4; oi++) {
            const int64_t n_out = n_outs[oi];
            problem p;
            problem_init(&p, type, n_in, n_out, 2 * 130 + 1, 1000 * type + 10 * ii + oi);
            int32_t rows[130];
            fn_rng r;
            fn_rng_seed(&r, (uint64_t)n_in * 31 + (uint64_t)n_out);
            for (int i = 0; i < 130; i++) rows[i] = (int32_t)(fn_rng_next(&r) % (uint64_t)p.n_act);
            for (int ni = 0; ni < 7; ni++) {
                const int64_t n = ns[ni];
                /* at 4096 inputs, keep the big products to a few so the test stays quick */
                if (n_in == 4096 && n * n_out > 4000 && !(n == 130 && n_out == 17) &&
                    !(n == 16 && n_out == 255))
                    continue;
                for (size_t li = 0; li < FN_ARRAY_LEN(levels); li++) {
                    const mm_kernel_set *ks = mm_kernels_for_level(levels[li]);
                    if (!ks) continue;
                    const int threads = 1 + counter++ % 3;
                    run_case(ks, &p, n, NULL, threads);
                    if (n > 1) run_case(ks, &p, n, rows, 1 + counter % 3);
                }
            }
            problem_free(&p);
        }
    }
}

#define TYPE_TEST(name, id) \
    static void test_##name(void **state) { (void)state; check_type(id); }
TYPE_TEST(f32, FN_F32)
TYPE_TEST(f16, FN_F16)
TYPE_TEST(bf16, FN_BF16)
TYPE_TEST(q8_0, FN_Q8_0)
TYPE_TEST(q4_0, FN_Q4_0)
TYPE_TEST(q4_1, FN_Q4_1)
TYPE_TEST(q5_0, FN_Q5_0)
TYPE_TEST(q5_1, FN_Q5_1)
TYPE_TEST(mxfp4, FN_MXFP4)
TYPE_TEST(q2_K, FN_Q2_K)
TYPE_TEST(q3_K, FN_Q3_K)
TYPE_TEST(q4_K, FN_Q4_K)
TYPE_TEST(q5_K, FN_Q5_K)
TYPE_TEST(q6_K, FN_Q6_K)
#undef TYPE_TEST

/* Several jobs of different types and shapes in one dispatch, every thread count: the
 * chunks handed to threads must cover every row of every job exactly once. */
static void test_multi_job(void **state) {
    (void)state;
    static const struct { uint32_t type; int64_t n_in, n_out, n; } spec[] = {
        {FN_Q4_K, 512, 37, 3}, {FN_Q8_0, 96, 5, 3}, {FN_Q6_K, 256, 130, 1},
        {FN_F16, 64, 9, 2},    {FN_Q4_0, 256, 0, 2}, {FN_MXFP4, 1024, 300, 5},
        {FN_Q5_K, 256, 3, 0},  {FN_BF16, 48, 64, 7},
        /* several chunks of the prefill (panel) kernels */
        /* (partial K chunks: 10 super-blocks, 19 blocks) */
        {FN_Q4_K, 512, 600, 20}, {FN_Q8_0, 608, 530, 9}, {FN_Q6_K, 2560, 300, 13},
        {FN_MXFP4, 608, 40, 33},
    };
    enum { N = sizeof spec / sizeof spec[0] };
    problem p[N];
    mm_act act[N];
    for (int i = 0; i < N; i++) {
        problem_init(&p[i], spec[i].type, spec[i].n_in, spec[i].n_out, 40, 77 + (uint64_t)i);
        act[i] = problem_act(&p[i]);
    }
    for (size_t li = 0; li < FN_ARRAY_LEN(levels); li++) {
        const mm_kernel_set *ks = mm_kernels_for_level(levels[li]);
        if (!ks) continue;
        for (int t = 1; t <= 3; t++) {
            mm_job jobs[N];
            float *outs[N];
            for (int i = 0; i < N; i++) {
                const size_t sz = (size_t)(spec[i].n_out * spec[i].n);
                outs[i] = xmalloc(sizeof(float) * sz);
                for (size_t k = 0; k < sz; k++) outs[i][k] = NAN;
                jobs[i] = (mm_job){
                    .w = {.data = p[i].w, .type = spec[i].type, .n_in = spec[i].n_in,
                          .n_out = spec[i].n_out, .row_bytes = p[i].row_bytes},
                    .act = &act[i], .n = spec[i].n, .out = outs[i],
                    .out_stride = (size_t)spec[i].n_out,
                };
            }
            mm_run_with(ks, pools[t], jobs, N);
            for (int i = 0; i < N; i++) {
                check_out(&p[i], outs[i], (size_t)spec[i].n_out, spec[i].n, NULL, ks->name);
                free(outs[i]);
            }
        }
    }
    /* the public entry points agree with the reference entry point */
    float out[37 * 3], ref[37 * 3];
    mm_job job = {
        .w = {.data = p[0].w, .type = FN_Q4_K, .n_in = 512, .n_out = 37,
              .row_bytes = p[0].row_bytes},
        .act = &act[0], .n = 3, .out = out, .out_stride = 37,
    };
    mm_run(pools[2], &job, 1);
    job.out = ref;
    mm_run_reference(&job, 1);
    for (int i = 0; i < 37 * 3; i++) assert_true(fabsf(out[i] - ref[i]) <= 1e-4f * (1 + fabsf(ref[i])));
    for (int i = 0; i < N; i++) problem_free(&p[i]);
}

/* ---- activation quantizers ---- */

/* Rows that stress rounding: ties at .5 after scaling, equal +/- maxima, tiny and huge
 * magnitudes, zeros. */
static void fill_hard(fn_rng *r, float *x, int64_t n, int kind) {
    for (int64_t i = 0; i < n; i++) {
        switch (kind) {
        case 0: x[i] = (float)fn_rng_normal(r); break;
        case 1: x[i] = (float)((int)(fn_rng_uniform(r) * 255) - 127) * 0.5f; break;
        case 2: x[i] = (float)(fn_rng_normal(r) * 1e-30); break;
        case 3: x[i] = (float)(fn_rng_normal(r) * 1e30); break;
        case 4: x[i] = (i % 97 == 0) ? 0.0f : (float)((int)(fn_rng_uniform(r) * 9) - 4); break;
        default: x[i] = i % 64 < 32 ? 0.0f : (float)fn_rng_normal(r); break;
        }
    }
    if (kind == 4 && n >= 64) { x[3] = -4.0f; x[40] = 4.0f; } /* equal magnitude, opposite sign */
}

static void test_quantize_act(void **state) {
    (void)state;
    const uint32_t types[3] = {FN_Q8_0, FN_Q8_K, FN_F32};
    const int64_t n_ins[4] = {256, 512, 4096, 2816};
    const int64_t n_rows_list[4] = {1, 2, 5, 33};
    fn_rng r;
    fn_rng_seed(&r, 4242);
    for (int ti = 0; ti < 3; ti++) {
        const uint32_t at = types[ti];
        for (int ii = 0; ii < 4; ii++) {
            const int64_t n_in = n_ins[ii];
            for (int ri = 0; ri < 4; ri++) {
                const int64_t n_rows = n_rows_list[ri];
                const size_t stride = (size_t)n_in + 8;
                float *x = xmalloc(sizeof(float) * stride * (size_t)n_rows);
                for (int64_t row = 0; row < n_rows; row++)
                    fill_hard(&r, x + row * stride, n_in, (int)((row + ii) % 6));
                const size_t rb = mm_act_row_bytes(at, n_in);
                uint8_t *want = xmalloc(rb * (size_t)n_rows), *got = xmalloc(rb * (size_t)n_rows);
                for (int64_t row = 0; row < n_rows; row++) {
                    if (at == FN_F32) memcpy(want + row * rb, x + row * stride, rb);
                    else if (at == FN_Q8_0)
                        tensor_quantize_row_q8_0_act(x + row * stride, (block_q8_0 *)(want + row * rb), n_in);
                    else assert_int_equal(tensor_quantize(at, x + row * stride, want + row * rb, n_in), 0);
                }
                for (size_t li = 0; li < FN_ARRAY_LEN(levels); li++) {
                    const mm_kernel_set *ks = mm_kernels_for_level(levels[li]);
                    if (!ks) continue;
                    for (int t = 1; t <= 3; t++) {
                        memset(got, 0xa5, rb * (size_t)n_rows);
                        mm_quantize_act_with(ks, pools[t], at, x, stride, n_in, n_rows, got);
                        for (size_t b = 0; b < rb * (size_t)n_rows; b++)
                            if (got[b] != want[b])
                                fail_msg("%s quantizer at level %s, %d threads, n_in %lld, "
                                         "%lld rows: byte %zu (row %zu) is %u, reference %u",
                                         fn_dtype_name(at), ks->name, t, (long long)n_in,
                                         (long long)n_rows, b, b / rb, got[b], want[b]);
                    }
                }
                free(x);
                free(want);
                free(got);
            }
        }
    }
    /* the public entry point uses the best level */
    float x[256];
    block_q8_K want, got;
    fill_hard(&r, x, 256, 0);
    tensor_quantize_row_q8_K_ref(x, &want, 256);
    mm_quantize_act(pools[1], FN_Q8_K, x, 256, 256, 1, &got);
    assert_memory_equal(&want, &got, sizeof want);
}

static void test_api(void **state) {
    (void)state;
    assert_int_equal(mm_act_type(FN_Q4_K), FN_Q8_K);
    assert_int_equal(mm_act_type(FN_Q6_K), FN_Q8_K);
    assert_int_equal(mm_act_type(FN_Q4_0), FN_Q8_0);
    assert_int_equal(mm_act_type(FN_MXFP4), FN_Q8_0);
    assert_int_equal(mm_act_type(FN_BF16), FN_F32);
    assert_int_equal(mm_act_type(FN_IQ2_XXS), -1);
    assert_int_equal(mm_act_type(FN_Q8_K), -1);
    assert_int_equal(mm_act_row_bytes(FN_Q8_0, 64), 68);
    assert_int_equal(mm_act_row_bytes(FN_Q8_K, 512), 584);
    assert_int_equal(mm_act_row_bytes(FN_F32, 10), 40);
    assert_int_equal(mm_act_row_bytes(FN_Q8_0, 33), 0);
    assert_int_equal(mm_act_row_bytes(FN_Q4_K, 256), 0);
    assert_string_equal(mm_kernel_name(FN_IQ2_XXS), "none");
    assert_non_null(mm_kernels_for_level("generic"));
    assert_null(mm_kernels_for_level("sse9"));
    /* a zero-row job is a no-op */
    mm_job none = {.w = {.type = FN_Q4_K, .n_in = 256, .n_out = 4}, .n = 0};
    mm_act act = {.act_type = FN_Q8_K, .n_in = 256};
    none.act = &act;
    mm_run(pools[3], &none, 1);
    print_message("kernels in use: q4_K %s, q8_0 %s, f16 %s\n", mm_kernel_name(FN_Q4_K),
                  mm_kernel_name(FN_Q8_0), mm_kernel_name(FN_F16));
}

static void test_summary(void **state) {
    (void)state;
    for (uint32_t t = 0; t < FN_DTYPE_COUNT; t++)
        if (worst_seen[t] > 0)
            print_message("largest error / sum|w.a|: %-6s %.2e\n", fn_dtype_name(t), worst_seen[t]);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_api),
        cmocka_unit_test(test_quantize_act),
        cmocka_unit_test(test_f32),
        cmocka_unit_test(test_f16),
        cmocka_unit_test(test_bf16),
        cmocka_unit_test(test_q8_0),
        cmocka_unit_test(test_q4_0),
        cmocka_unit_test(test_q4_1),
        cmocka_unit_test(test_q5_0),
        cmocka_unit_test(test_q5_1),
        cmocka_unit_test(test_mxfp4),
        cmocka_unit_test(test_q2_K),
        cmocka_unit_test(test_q3_K),
        cmocka_unit_test(test_q4_K),
        cmocka_unit_test(test_q5_K),
        cmocka_unit_test(test_q6_K),
        cmocka_unit_test(test_multi_job),
        cmocka_unit_test(test_summary),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
