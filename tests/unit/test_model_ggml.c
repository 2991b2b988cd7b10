/* test_model_ggml.c - the forward pass's own operations (RMSNorm, RoPE, SwiGLU, expert
 * softmax, tiled attention) against ggml's CPU implementation, bit for bit.
 *
 * Why bit for bit: with Q8 activations, a last-bit difference in a value that is quantized
 * next flips a rounding step now and then, and the flips grow through the layers until a
 * quantized model's outputs differ from llama.cpp's as much as the quantization noise
 * itself. The oracle package ships ggml (libggml-base.so) and one libggml-cpu-*.so per x86
 * level; like ggml, we load the variant that scores highest on this CPU and run each
 * operation through a small graph. Skipped when the oracle is not installed, or when ggml
 * picks a build without AVX-512 (Fennec follows the AVX-512 build's rounding). Run it with
 * FENNEC_CPU=generic too: the non-FMA code paths must give the same bits.
 *
 * The matmul tests also load ggml's AVX2 build (libggml-cpu-haswell.so) and check Fennec's
 * AVX2 kernel levels against it, as llama.cpp on an AVX2-only CPU would compute. */
#include <dlfcn.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/dtype.h"
#include "base/rng.h"
#include "kv/kv_cache.h"
#include "model/attention.h"
#include "model/ops.h"
#include "tensor/blocks.h"
#include "tensor/kernels.h"
#include "tensor/matmul.h"
#include "tensor/quant_ref.h"
#include "tensor/tensor_format.h"

/* ---- the slice of ggml's C API we call (ggml.h / ggml-cpu.h of the oracle's release) ---- */

enum { G_F32 = 0, G_F16 = 1, G_I32 = 26 }; /* enum ggml_type */
struct g_init_params {
    size_t mem_size;
    void *mem_buffer;
    bool no_alloc;
};
typedef struct g_ctx g_ctx;
typedef struct g_tensor g_tensor;
typedef struct g_graph g_graph;

static struct {
    void *base, *cpu;
    bool avx512;              /* the chosen variant is an AVX-512 build */
    void *hsw;                /* the AVX2 build (haswell), NULL if missing; may be cpu */
    int (*hsw_compute)(g_ctx *, g_graph *, int);
    g_ctx *(*init)(struct g_init_params);
    void (*free)(g_ctx *);
    g_tensor *(*new_1d)(g_ctx *, int, int64_t);
    g_tensor *(*new_2d)(g_ctx *, int, int64_t, int64_t);
    g_tensor *(*new_3d)(g_ctx *, int, int64_t, int64_t, int64_t);
    void *(*data)(const g_tensor *);
    g_tensor *(*rms_norm)(g_ctx *, g_tensor *, float);
    g_tensor *(*mul)(g_ctx *, g_tensor *, g_tensor *);
    g_tensor *(*mul_mat)(g_ctx *, g_tensor *, g_tensor *);
    g_tensor *(*rope_ext)(g_ctx *, g_tensor *, g_tensor *, g_tensor *, int, int, int, float, float, float, float,
                          float, float);
    g_tensor *(*soft_max)(g_ctx *, g_tensor *);
    g_tensor *(*swiglu_split)(g_ctx *, g_tensor *, g_tensor *);
    g_tensor *(*permute)(g_ctx *, g_tensor *, int, int, int, int);
    g_tensor *(*flash_attn_ext)(g_ctx *, g_tensor *, g_tensor *, g_tensor *, g_tensor *, float, float, float);
    g_graph *(*new_graph)(g_ctx *);
    void (*build)(g_graph *, g_tensor *);
    int (*compute)(g_ctx *, g_graph *, int);
} G;

#define ORACLE_BINS "/tests/oracle/node_modules/@node-llama-cpp/linux-x64/bins/linux-x64/"

/* Loads ggml and the CPU variant ggml itself would choose here; false if unavailable. */
static bool ggml_open(void) {
    if (G.cpu) return true;
    const char *src = getenv("FENNEC_SRC");
    if (!src) return false;
    char path[1024];
    snprintf(path, sizeof path, "%s" ORACLE_BINS "libggml-base.so", src);
    G.base = dlopen(path, RTLD_NOW | RTLD_GLOBAL);
    if (!G.base) return false;
    static const char *const variants[] = {"sapphirerapids", "zen4", "icelake", "cooperlake", "cascadelake",
                                           "skylakex", "cannonlake", "alderlake", "haswell", "ivybridge",
                                           "piledriver", "sandybridge", "sse42", "x64"};
    int best = 0;
    for (size_t i = 0; i < sizeof variants / sizeof *variants; i++) {
        snprintf(path, sizeof path, "%s" ORACLE_BINS "libggml-cpu-%s.so", src, variants[i]);
        void *lib = dlopen(path, RTLD_NOW | RTLD_LOCAL);
        if (!lib) continue;
        const bool hsw = !strcmp(variants[i], "haswell");
        if (hsw) G.hsw = lib; /* kept open for the AVX2 levels' checks */
        int (*score)(void) = (int (*)(void))dlsym(lib, "ggml_backend_score");
        int s = score ? score() : 0;
        if (s > best) {
            if (G.cpu && G.cpu != G.hsw) dlclose(G.cpu);
            G.cpu = lib, best = s;
            G.avx512 = i < 7; /* sapphirerapids .. cannonlake */
        } else if (!hsw) {
            dlclose(lib);
        }
    }
    if (!G.cpu) return false;
#define SYM(lib, field, name) *(void **)&G.field = dlsym(G.lib, name)
    SYM(base, init, "ggml_init");
    SYM(base, free, "ggml_free");
    SYM(base, new_1d, "ggml_new_tensor_1d");
    SYM(base, new_2d, "ggml_new_tensor_2d");
    SYM(base, new_3d, "ggml_new_tensor_3d");
    SYM(base, data, "ggml_get_data");
    SYM(base, rms_norm, "ggml_rms_norm");
    SYM(base, mul, "ggml_mul");
    SYM(base, mul_mat, "ggml_mul_mat");
    SYM(base, rope_ext, "ggml_rope_ext");
    SYM(base, soft_max, "ggml_soft_max");
    SYM(base, swiglu_split, "ggml_swiglu_split");
    SYM(base, permute, "ggml_permute");
    SYM(base, flash_attn_ext, "ggml_flash_attn_ext");
    SYM(base, new_graph, "ggml_new_graph");
    SYM(base, build, "ggml_build_forward_expand");
    SYM(cpu, compute, "ggml_graph_compute_with_ctx");
#undef SYM
    void (*cpu_init)(void) = (void (*)(void))dlsym(G.cpu, "ggml_cpu_init");
    if (cpu_init) cpu_init();
    if (G.hsw && G.hsw != G.cpu) {
        *(void **)&cpu_init = dlsym(G.hsw, "ggml_cpu_init");
        if (cpu_init) cpu_init();
    }
    if (G.hsw) *(void **)&G.hsw_compute = dlsym(G.hsw, "ggml_graph_compute_with_ctx");
    if (!G.hsw_compute) G.hsw = NULL;
    return G.init && G.free && G.new_1d && G.new_2d && G.new_3d && G.data && G.rms_norm && G.mul && G.mul_mat &&
           G.rope_ext &&
           G.soft_max && G.swiglu_split && G.permute && G.flash_attn_ext && G.new_graph && G.build && G.compute;
}

static void require_ggml(void) {
    if (!ggml_open()) {
        print_message("oracle ggml not available (FENNEC_SRC unset or tests/oracle not installed): skipping\n");
        skip();
    }
    if (!G.avx512) {
        print_message("no AVX-512 here: ggml runs its AVX2 rounding, which Fennec does not follow: skipping\n");
        skip();
    }
}

static g_ctx *ctx_new(void) {
    struct g_init_params p = {256u << 20, NULL, false};
    g_ctx *c = G.init(p);
    assert_non_null(c);
    return c;
}

/* Computes the graph ending at t on one thread with a CPU variant's compute function and
 * returns t's data. */
static const float *run_with(int (*compute)(g_ctx *, g_graph *, int), g_ctx *c, g_tensor *t) {
    g_graph *gf = G.new_graph(c);
    G.build(gf, t);
    assert_int_equal(compute(c, gf, 1), 0);
    return G.data(t);
}

static const float *run(g_ctx *c, g_tensor *t) { return run_with(G.compute, c, t); }

/* The ggml builds the matmul tests compare with, and Fennec's kernel levels that follow each:
 * the AVX-512 build (when ggml picks one here) for generic and the AVX-512 levels, the AVX2
 * build for the AVX2 levels. */
typedef struct {
    const char *name;
    void *lib;
    int (*compute)(g_ctx *, g_graph *, int);
    const char *const *levels;
    size_t n_levels;
    bool avx2; /* the AVX2 build (tinyBLAS<8>: F32 shapes with n_in a multiple of 8) */
} oracle;

static const char *const avx512_levels[] = {"generic", "avx512", "avx512-vnni"};
static const char *const avx2_levels[] = {"avx2", "avx2-vnni"};

/* The builds available here; skips the test when there are none. */
static int oracles(oracle o[2]) {
    if (!ggml_open()) {
        print_message("oracle ggml not available (FENNEC_SRC unset or tests/oracle not installed): skipping\n");
        skip();
    }
    int n = 0;
    if (G.avx512) o[n++] = (oracle){"ggml AVX-512", G.cpu, G.compute, avx512_levels, 3, false};
    else print_message("no AVX-512 here: generic and AVX-512 levels not checked\n");
    if (G.hsw) o[n++] = (oracle){"ggml AVX2", G.hsw, G.hsw_compute, avx2_levels, 2, true};
    else print_message("libggml-cpu-haswell.so not loadable: AVX2 levels not checked\n");
    if (!n) skip();
    return n;
}

static void fill(fn_rng *r, float *x, size_t n, double scale) {
    for (size_t i = 0; i < n; i++) x[i] = (float)(fn_rng_normal(r) * scale);
}

/* Index of the first difference in bits, or -1. */
static long first_diff(const float *a, const float *b, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (memcmp(&a[i], &b[i], sizeof(float))) return (long)i;
    return -1;
}

static void assert_same(const char *what, const float *want, const float *got, size_t n) {
    long i = first_diff(want, got, n);
    if (i >= 0) fail_msg("%s: element %ld is %.9g, ggml has %.9g", what, i, (double)got[i], (double)want[i]);
}

/* ---- tests ---------------------------------------------------------------------------- */

static void test_rmsnorm_vs_ggml(void **state) {
    (void)state;
    require_ggml();
    enum { n = 896, rows = 7 };
    fn_rng r;
    fn_rng_seed(&r, 3);
    g_ctx *c = ctx_new();
    g_tensor *x = G.new_2d(c, G_F32, n, rows), *w = G.new_1d(c, G_F32, n);
    fill(&r, G.data(x), (size_t)n * rows, 3.0);
    fill(&r, G.data(w), n, 1.0);
    const float *want = run(c, G.mul(c, G.rms_norm(c, x, 1e-6f), w));
    float got[n * rows];
    for (int i = 0; i < rows; i++) op_rmsnorm(got + i * n, (float *)G.data(x) + i * n, G.data(w), n, 1e-6f);
    assert_same("rmsnorm", want, got, (size_t)n * rows);
    G.free(c);
}

static void test_rope_vs_ggml(void **state) {
    (void)state;
    require_ggml();
    enum { hd = 128, heads = 3, n_tok = 40 };
    static const float bases[] = {10000.0f, 1000000.0f};
    for (int neox = 0; neox < 2; neox++)
        for (int bi = 0; bi < 3; bi++) /* 2: YaRN x13, where 1 + 0.1 ln 13 rounds differently fused */
            for (int with_ff = 0; with_ff < 2; with_ff++) {
                bool yarn = bi == 2;
                fn_rng r;
                fn_rng_seed(&r, 11 + (uint64_t)(neox * 4 + bi * 2 + with_ff));
                model_hparams hp;
                memset(&hp, 0, sizeof hp);
                hp.n_rot = hd;
                hp.rope_freq_base = bases[bi % 2];
                if (yarn) {
                    hp.rope_scaling = ROPE_SCALING_YARN;
                    hp.rope_scale_factor = 13.0f;
                    hp.yarn_ext_factor = 1.0f;
                    hp.yarn_attn_factor = 1.0f;
                    hp.rope_orig_ctx = 4096;
                    hp.yarn_beta_fast = 32.0f;
                    hp.yarn_beta_slow = 1.0f;
                }
                g_ctx *c = ctx_new();
                g_tensor *x = G.new_3d(c, G_F32, hd, heads, n_tok), *pos = G.new_1d(c, G_I32, n_tok);
                g_tensor *ff = with_ff ? G.new_1d(c, G_F32, hd / 2) : NULL;
                fill(&r, G.data(x), (size_t)hd * heads * n_tok, 2.0);
                int32_t *p = G.data(pos);
                for (int t = 0; t < n_tok; t++) p[t] = t * t * 7 + t; /* 0 .. ~10900 */
                if (ff)
                    for (int i = 0; i < hd / 2; i++) ((float *)G.data(ff))[i] = 1.0f + (float)(i % 5);
                float freq_scale = yarn ? 1.0f / 13.0f : 1.0f, ext_factor = yarn ? 1.0f : 0.0f;
                const float *want = run(c, G.rope_ext(c, x, pos, ff, hd, neox ? 2 : 0, 4096, bases[bi % 2], freq_scale,
                                                      ext_factor, 1.0f, 32.0f, 1.0f));
                rope_table t;
                rope_table_init(&t, &hp, neox, ff ? G.data(ff) : NULL);
                float *got = malloc(sizeof(float) * hd * heads * n_tok);
                memcpy(got, G.data(x), sizeof(float) * hd * heads * n_tok);
                for (int i = 0; i < n_tok; i++) op_rope(&t, got + (size_t)i * hd * heads, heads, hd, p[i]);
                assert_same(neox ? "rope (neox)" : "rope (normal)", want, got, (size_t)hd * heads * n_tok);
                free(got);
                G.free(c);
            }
}

static void test_swiglu_vs_ggml(void **state) {
    (void)state;
    require_ggml();
    enum { n = 776, rows = 5 }; /* 776 = 48 * 16 + 8: the blocks and the scalar tail */
    fn_rng r;
    fn_rng_seed(&r, 4);
    g_ctx *c = ctx_new();
    g_tensor *g = G.new_2d(c, G_F32, n, rows), *u = G.new_2d(c, G_F32, n, rows);
    float *gd = G.data(g);
    fill(&r, gd, (size_t)n * rows, 4.0);
    fill(&r, G.data(u), (size_t)n * rows, 1.0);
    gd[3] = 95.0f, gd[4] = -95.0f, gd[5] = -130.0f, gd[6] = 0.0f; /* exp overflow and underflow */
    const float *want = run(c, G.swiglu_split(c, g, u));
    float got[n * rows];
    for (int i = 0; i < rows; i++) op_swiglu(got + i * n, gd + i * n, (float *)G.data(u) + i * n, n);
    assert_same("swiglu", want, got, (size_t)n * rows);
    G.free(c);
}

/* The expert probabilities op_route_topk picks are ggml's softmax values, to the bit. */
static void test_route_softmax_vs_ggml(void **state) {
    (void)state;
    require_ggml();
    static const int sizes[] = {8, 16, 60, 128};
    for (size_t si = 0; si < sizeof sizes / sizeof *sizes; si++) {
        int ne = sizes[si], rows = 6, k = 4;
        fn_rng r;
        fn_rng_seed(&r, 21 + si);
        g_ctx *c = ctx_new();
        g_tensor *x = G.new_2d(c, G_F32, ne, rows);
        fill(&r, G.data(x), (size_t)ne * rows, 3.0);
        float *logits = malloc(sizeof(float) * (size_t)ne * rows);
        memcpy(logits, G.data(x), sizeof(float) * (size_t)ne * rows);
        const float *want = run(c, G.soft_max(c, x));
        for (int i = 0; i < rows; i++) {
            int32_t ex[4];
            float w[4];
            op_route_topk(logits + i * ne, ne, k, false, ex, w);
            for (int j = 0; j < k; j++) assert_same("expert softmax", &want[i * ne + ex[j]], &w[j], 1);
        }
        free(logits);
        G.free(c);
    }
}

/* A batch of >= 64 queries, as prefill and teacher-forced evaluation run: ggml's tiled
 * flash attention over an F16 cache. */
static void test_attention_vs_ggml(void **state) {
    (void)state;
    require_ggml();
    enum { n_head = 8, n_kv = 2, hd = 64, n_pos = 150, n_tok = 80, first = n_pos - n_tok };
    for (int pt = 16; pt <= 64; pt *= 4) {
        fn_rng r;
        fn_rng_seed(&r, 31 + (uint64_t)pt);
        kv_cache_params kp = {1, n_kv * hd, n_kv * hd, FN_F16, 256, 1, pt};
        kv_cache *kv = kv_cache_new(&kp);
        assert_non_null(kv);
        assert_int_equal(kv_seq_reserve(kv, 0, n_pos), 0);
        g_ctx *c = ctx_new();
        /* ggml views the cache as [hd, n_kv, n_pos] and the queries as [hd, n_head, n_tok] */
        g_tensor *K = G.new_3d(c, G_F16, hd, n_kv, n_pos), *V = G.new_3d(c, G_F16, hd, n_kv, n_pos);
        g_tensor *Q = G.new_3d(c, G_F32, hd, n_head, n_tok), *M = G.new_2d(c, G_F16, n_pos, n_tok);
        for (int p = 0; p < n_pos; p++) {
            float kr[n_kv * hd], vr[n_kv * hd];
            fill(&r, kr, n_kv * hd, 1.5);
            fill(&r, vr, n_kv * hd, 1.0);
            tensor_quantize(FN_F16, kr, kv_k_at(kv, 0, 0, p), n_kv * hd);
            tensor_quantize(FN_F16, vr, kv_v_at(kv, 0, 0, p), n_kv * hd);
            memcpy((uint16_t *)G.data(K) + (size_t)p * n_kv * hd, kv_k_at(kv, 0, 0, p), 2 * n_kv * hd);
            memcpy((uint16_t *)G.data(V) + (size_t)p * n_kv * hd, kv_v_at(kv, 0, 0, p), 2 * n_kv * hd);
        }
        float *q = G.data(Q);
        fill(&r, q, (size_t)hd * n_head * n_tok, 1.5);
        int32_t pos[n_tok];
        uint16_t *mask = G.data(M);
        for (int t = 0; t < n_tok; t++) {
            pos[t] = first + t;
            for (int p = 0; p < n_pos; p++) mask[t * n_pos + p] = p <= pos[t] ? 0x0000 : 0xFC00; /* 0, -inf */
        }
        const float scale = 1.0f / sqrtf((float)hd);
        const float *want = run(c, G.flash_attn_ext(c, G.permute(c, Q, 0, 2, 1, 3), G.permute(c, K, 0, 2, 1, 3),
                                                    G.permute(c, V, 0, 2, 1, 3), M, scale, 0.0f, 0.0f));
        attn_params ap = {kv, 0, n_head, n_kv, hd, hd, scale};
        float *scratch = malloc(sizeof(float) * attn_scratch_floats(&ap, 16));
        float *got = malloc(sizeof(float) * hd * n_head * n_tok);
        for (int t0 = 0; t0 < n_tok; t0 += 16) { /* blocks of 16 tokens, as the forward pass */
            int nt = n_tok - t0 < 16 ? n_tok - t0 : 16;
            attn_block b = {nt, pos + t0, q + (size_t)t0 * n_head * hd, n_head * hd, got + (size_t)t0 * n_head * hd,
                            n_head * hd};
            for (int g = 0; g < n_kv; g++) attn_group_block(&ap, 0, g, &b, scratch);
        }
        assert_same("attention", want, got, (size_t)hd * n_head * n_tok);
        free(got);
        free(scratch);
        G.free(c);
        kv_cache_free(kv);
    }
}

/* op_expf is within 2 ulp of exp wherever the result is a normal float (ggml: 1.45 ulp
 * plus the final rounding). */
/* Activations into Q8_0 (what every Q8_0/Q4_0/MXFP4 matmul and a Q8_0 KV cache see): the
 * same bytes as ggml-cpu's quantize_row_q8_0, ties to even included. */
static void test_q8_0_act_vs_ggml(void **state) {
    (void)state;
    oracle orc[2];
    const int n_orc = oracles(orc);
    for (int oi = 0; oi < n_orc; oi++) {
    void (*quantize)(const float *, void *, int64_t) =
        (void (*)(const float *, void *, int64_t))dlsym(orc[oi].lib, "quantize_row_q8_0");
    if (!quantize) {
        print_message("quantize_row_q8_0 not exported by %s: skipping\n", orc[oi].name);
        skip();
    }
    enum { N = 4096 };
    static float x[N];
    static block_q8_0 want[N / QK8_0], got[N / QK8_0];
    fn_rng r;
    fn_rng_seed(&r, 77);
    for (int kind = 0; kind < 4; kind++) {
        for (int i = 0; i < N; i++) {
            switch (kind) {
            case 0: x[i] = (float)fn_rng_normal(&r); break;
            case 1: x[i] = (float)(fn_rng_normal(&r) * 1e-3); break;
            case 2: x[i] = (float)((int)(fn_rng_uniform(&r) * 509) - 254) * 0.5f; break; /* halves */
            default: x[i] = i % 64 < 32 ? 0.0f : (float)fn_rng_normal(&r); break;
            }
        }
        if (kind == 2)
            for (int b = 0; b < N / QK8_0; b++) x[b * QK8_0] = 127.0f; /* id = 1: the halves are ties */
        quantize(x, want, N);
        tensor_quantize_row_q8_0_act(x, got, N);
        for (int b = 0; b < N / QK8_0; b++)
            if (memcmp(&want[b], &got[b], sizeof want[b]))
                fail_msg("kind %d: block %d differs from %s's quantize_row_q8_0", kind, b, orc[oi].name);
    }
    }
}

/* Q8_0 weights x Q8_0 activations: every kernel level, for 1 to 9 activation rows (direct
 * tiles of every shape, and the first panels) and for 70 (panels over two activation
 * chunks), gives ggml_vec_dot_q8_0_q8_0's bits. */
static void test_q8_0_matmul_vs_ggml(void **state) {
    (void)state;
    oracle orc[2];
    const int n_orc = oracles(orc);
    for (int oi = 0; oi < n_orc; oi++) {
    void (*vec_dot)(int, float *, size_t, const void *, size_t, const void *, size_t, int) =
        (void (*)(int, float *, size_t, const void *, size_t, const void *, size_t, int))dlsym(
            orc[oi].lib, "ggml_vec_dot_q8_0_q8_0");
    if (!vec_dot) {
        print_message("ggml_vec_dot_q8_0_q8_0 not exported by %s: skipping\n", orc[oi].name);
        skip();
    }
    enum { N_IN = 2048 + 32 * 5, N_OUT = 19, N_ACT = 70 }; /* odd block count, partial panel */
    const size_t rb = sizeof(block_q8_0) * (N_IN / QK8_0);
    static float x[N_ACT * N_IN], wf[N_IN];
    static uint8_t w[N_OUT * (N_IN / QK8_0) * sizeof(block_q8_0)], act[N_ACT * (N_IN / QK8_0) * sizeof(block_q8_0)];
    fn_rng r;
    fn_rng_seed(&r, 99);
    for (int o = 0; o < N_OUT; o++) {
        fill(&r, wf, N_IN, 0.05);
        tensor_quantize_row_q8_0_ref(wf, (block_q8_0 *)(w + o * rb), N_IN);
    }
    fill(&r, x, (size_t)N_ACT * N_IN, 1.0);
    tensor_quantize_row_q8_0_act(x, (block_q8_0 *)act, (int64_t)N_ACT * N_IN);
    static float want[N_ACT][N_OUT];
    for (int c = 0; c < N_ACT; c++)
        for (int o = 0; o < N_OUT; o++) vec_dot(N_IN, &want[c][o], 0, w + o * rb, 0, act + c * rb, 0, 1);
    for (size_t li = 0; li < orc[oi].n_levels; li++) {
        const mm_kernel_set *ks = mm_kernels_for_level(orc[oi].levels[li]);
        if (!ks) continue;
        for (int n = 1; n <= N_ACT; n = n == 9 ? N_ACT : n + 1) {
            static float got[N_ACT][N_OUT];
            mm_act a = {FN_Q8_0, act, rb, N_IN, N_ACT};
            mm_job job = {{w, FN_Q8_0, N_IN, N_OUT, rb}, &a, NULL, n, &got[0][0], N_OUT, 0};
            mm_run_with(ks, NULL, &job, 1);
            for (int c = 0; c < n; c++)
                for (int o = 0; o < N_OUT; o++)
                    if (memcmp(&got[c][o], &want[c][o], sizeof(float)))
                        fail_msg("%s, %d activation rows: out[%d][%d] = %.9g, %s %.9g", ks->name, n, c, o,
                                 (double)got[c][o], orc[oi].name, (double)want[c][o]);
        }
    }
    }
}

/* F32 weights x F32 activations (e.g. a MoE router): ggml's MUL_MAT, which the x86 builds
 * run through llamafile's tinyBLAS when n_in is a multiple of its vector width (16 floats
 * in the AVX-512 build, 8 in the AVX2 one) and n_out of 4. */
static void test_f32_matmul_vs_ggml(void **state) {
    (void)state;
    oracle orc[2];
    const int n_orc = oracles(orc);
    for (int oi = 0; oi < n_orc; oi++)
    for (int shape = 0; shape < 3; shape++) {
    enum { N_OUT = 12, N_ACT = 6 };
    const int N_IN = shape == 0 ? 16 * 37 : shape == 1 ? 8 * 73 : 2048; /* tinyBLAS width or not, leftovers or not */
    struct g_init_params ip = {64u << 20, NULL, false};
    g_ctx *c = G.init(ip);
    g_tensor *w = G.new_2d(c, G_F32, N_IN, N_OUT), *x = G.new_2d(c, G_F32, N_IN, N_ACT);
    fn_rng r;
    fn_rng_seed(&r, 5150);
    fill(&r, G.data(w), (size_t)N_IN * N_OUT, 0.05);
    fill(&r, G.data(x), (size_t)N_IN * N_ACT, 1.0);
    const float *want = run_with(orc[oi].compute, c, G.mul_mat(c, w, x));
    static float got[N_ACT * N_OUT];
    /* one activation row (decode): ggml skips tinyBLAS and runs ggml_vec_dot_f32 */
    g_tensor *x1 = G.new_2d(c, G_F32, N_IN, 1);
    memcpy(G.data(x1), G.data(x), (size_t)N_IN * sizeof(float));
    const float *want1 = run_with(orc[oi].compute, c, G.mul_mat(c, w, x1));
    for (size_t li = 0; li < orc[oi].n_levels; li++) {
        const mm_kernel_set *ks = mm_kernels_for_level(orc[oi].levels[li]);
        if (!ks) continue;
        mm_act a = {FN_F32, G.data(x), N_IN * sizeof(float), N_IN, N_ACT};
        mm_job job = {{G.data(w), FN_F32, N_IN, N_OUT, N_IN * sizeof(float)}, &a, NULL, 1, got, N_OUT, 0};
        mm_run_with(ks, NULL, &job, 1);
        char what[96];
        snprintf(what, sizeof what, "%s vs %s, n_in %d, one activation row", ks->name, orc[oi].name, N_IN);
        assert_same(what, want1, got, N_OUT);
    }
    for (int n = 2; n <= N_ACT; n++) {
        mm_act a = {FN_F32, G.data(x), N_IN * sizeof(float), N_IN, N_ACT};
        mm_job job = {{G.data(w), FN_F32, N_IN, N_OUT, N_IN * sizeof(float)}, &a, NULL, n, got, N_OUT, 0};
        for (size_t li = 0; li < orc[oi].n_levels; li++) {
            const mm_kernel_set *ks = mm_kernels_for_level(orc[oi].levels[li]);
            if (!ks) continue;
            mm_run_with(ks, NULL, &job, 1);
            char what[96];
            snprintf(what, sizeof what, "%s vs %s, n_in %d, %d activation rows", ks->name, orc[oi].name, N_IN, n);
            assert_same(what, want, got, (size_t)n * N_OUT);
        }
    }
    G.free(c);
    }
}

/* ---- K-quant dot products: the generic kernels in ggml's summation orders ---- */

typedef void (*g_vec_dot_fn)(int, float *, size_t, const void *, size_t, const void *, size_t, int);
typedef void (*g_gemm_fn)(int, float *, size_t, const void *, const void *, int, int);

static void *ggml_sym(const oracle *o, const char *name) {
    void *f = dlsym(o->lib, name);
    if (!f) {
        print_message("%s not exported by %s: skipping\n", name, o->name);
        skip();
    }
    return f;
}

enum { KQ_NB = 7, KQ_IN = KQ_NB * QK_K, KQ_ACT = 19 };

/* Random weight rows in a K-quant type and Q8_K activation rows, as a model has them. */
static void kq_data(uint32_t type, int n_out, uint8_t *w, size_t rb, block_q8_K *act, uint64_t seed) {
    static float x[KQ_ACT * KQ_IN];
    fn_rng r;
    fn_rng_seed(&r, seed);
    for (int o = 0; o < n_out; o++) {
        fill(&r, x, KQ_IN, 0.05);
        if (type == FN_Q4_K) tensor_quantize_row_q4_K_ref(x, (block_q4_K *)(w + (size_t)o * rb), KQ_IN);
        else tensor_quantize_row_q6_K_ref(x, (block_q6_K *)(w + (size_t)o * rb), KQ_IN);
    }
    fill(&r, x, (size_t)KQ_ACT * KQ_IN, 1.0);
    tensor_quantize_row_q8_K_ref(x, act, (int64_t)KQ_ACT * KQ_IN);
}

/* The kernels' outputs for n activation rows, or -1 rows if they match want[c][o]
 * bit for bit; otherwise the first (row, output) that differs. */
static void kq_check(const oracle *orc, const char *what, uint32_t type, const uint8_t *w, size_t rb, int n_out,
                     const block_q8_K *act, int n, int expert, const float *want /* [n][n_out] */) {
    static float got[KQ_ACT * 32];
    const size_t ab = sizeof(block_q8_K) * KQ_NB;
    mm_act a = {FN_Q8_K, act, ab, KQ_IN, KQ_ACT};
    mm_job job = {{w, type, KQ_IN, n_out, rb}, &a, NULL, n, got, (size_t)n_out, expert};
    for (size_t li = 0; li < orc->n_levels; li++) {
        const mm_kernel_set *ks = mm_kernels_for_level(orc->levels[li]);
        if (!ks) continue;
        mm_run_with(ks, NULL, &job, 1);
        for (int c = 0; c < n; c++)
            for (int o = 0; o < n_out; o++)
                if (memcmp(&got[c * n_out + o], &want[c * n_out + o], sizeof(float)))
                    fail_msg("%s at level %s, %d activation rows%s: out[%d][%d] = %.9g, %s %.9g", what,
                             ks->name, n, expert ? " (expert)" : "", c, o, (double)got[c * n_out + o],
                             orc->name, (double)want[c * n_out + o]);
    }
}

/* Matrices ggml does not repack (every Q6_K; Q4_K with a row count that is not a multiple
 * of 8) go through ggml_vec_dot_*_q8_K, one pair at a time. */
static void test_kquant_vec_dot_vs_ggml(void **state) {
    (void)state;
    oracle orc[2];
    const int n_orc = oracles(orc);
    static const struct { uint32_t type; const char *fn; size_t bb; } cases[] = {
        {FN_Q6_K, "ggml_vec_dot_q6_K_q8_K", sizeof(block_q6_K)},
        {FN_Q4_K, "ggml_vec_dot_q4_K_q8_K", sizeof(block_q4_K)},
    };
    enum { N_OUT = 11 };
    static uint8_t w[N_OUT * KQ_NB * sizeof(block_q6_K)];
    static block_q8_K act[KQ_ACT * KQ_NB];
    static float want[KQ_ACT * N_OUT];
    for (int oi = 0; oi < n_orc; oi++)
    for (size_t k = 0; k < sizeof cases / sizeof *cases; k++) {
        g_vec_dot_fn vec_dot = (g_vec_dot_fn)ggml_sym(&orc[oi], cases[k].fn);
        const size_t rb = cases[k].bb * KQ_NB;
        kq_data(cases[k].type, N_OUT, w, rb, act, 1234 + k);
        for (int c = 0; c < KQ_ACT; c++)
            for (int o = 0; o < N_OUT; o++)
                vec_dot(KQ_IN, &want[c * N_OUT + o], 0, w + o * rb, 0, act + c * KQ_NB, 0, 1);
        for (int n = 1; n <= KQ_ACT; n += 3) {
            kq_check(&orc[oi], cases[k].fn, cases[k].type, w, rb, N_OUT, act, n, 0, want);
            kq_check(&orc[oi], cases[k].fn, cases[k].type, w, rb, N_OUT, act, n, 1, want);
        }
    }
}

/* ggml's block_q4_Kx8 (repack.h): eight Q4_K rows' superblocks interleaved. */
typedef struct {
    uint16_t d[8], dmin[8];
    uint8_t scales[96]; /* sub-block k of the 8 rows at 12k, packed like one Q4_K's scales */
    uint8_t qs[1024];   /* 8-byte pieces, row i % 8 taking piece i */
} g_q4_Kx8;

/* ggml's block_q8_Kx4 for 8-byte interleaving: four Q8_K rows' superblocks. */
typedef struct {
    float d[4];
    int8_t qs[4 * QK_K];    /* 8-byte pieces, row (i % 4) taking piece i */
    int16_t bsums[QK_K / 4]; /* per 64 elements: 4 rows x their 4 bsums */
} g_q8_Kx4;

static void pack_q4_Kx8(const block_q4_K *const in[8], g_q4_Kx8 *out) {
    for (int i = 0; i < 8; i++) out->d[i] = in[i]->d, out->dmin[i] = in[i]->dmin;
    for (int i = 0; i < 128; i++) memcpy(out->qs + 8 * i, in[i % 8]->qs + 8 * (i / 8), 8);
    for (int k = 0; k < 8; k++) {
        uint8_t s[8], m[8], *p = out->scales + 12 * k;
        for (int i = 0; i < 8; i++) { /* sub-block k's 6-bit scale and min of row i */
            const uint8_t *q = in[i]->scales;
            s[i] = k < 4 ? q[k] & 63 : (uint8_t)((q[k + 4] & 0xf) | ((q[k - 4] >> 6) << 4));
            m[i] = k < 4 ? q[k + 4] & 63 : (uint8_t)((q[k + 4] >> 4) | ((q[k] >> 6) << 4));
        }
        for (int j = 0; j < 4; j++) {
            p[j] = (uint8_t)((s[j] & 63) | ((s[j + 4] >> 4) << 6));
            p[j + 4] = (uint8_t)((m[j] & 63) | ((m[j + 4] >> 4) << 6));
            p[j + 8] = (uint8_t)((s[j + 4] & 0xf) | ((m[j + 4] & 0xf) << 4));
        }
    }
}

static void pack_q8_Kx4(const block_q8_K *const in[4], g_q8_Kx4 *out) {
    for (int r = 0; r < 4; r++) {
        out->d[r] = in[r]->d;
        for (int e = 0; e < QK_K; e++) out->qs[(e / 8) * 32 + r * 8 + e % 8] = in[r]->qs[e];
        for (int g = 0; g < QK_K / 16; g++) out->bsums[16 * (g / 4) + 4 * r + g % 4] = in[r]->bsums[g];
    }
}

/* Q4_K matrices with a multiple of 8 rows, which ggml repacks: a plain product takes
 * ggml_gemm_q4_K_8x8_q8_K's order for the activation rows in whole groups of 4 and
 * ggml_gemv_q4_K_8x8_q8_K's for the rest; an expert product takes the gemv's for all. */
static void test_q4_K_repacked_vs_ggml(void **state) {
    (void)state;
    oracle orc[2];
    const int n_orc = oracles(orc);
    for (int oi = 0; oi < n_orc; oi++) {
    g_gemm_fn gemv = (g_gemm_fn)ggml_sym(&orc[oi], "ggml_gemv_q4_K_8x8_q8_K");
    g_gemm_fn gemm = (g_gemm_fn)ggml_sym(&orc[oi], "ggml_gemm_q4_K_8x8_q8_K");
    enum { N_OUT = 24, N_GEMM = 16 }; /* 16 + 8 columns and 16 rows: both of ggml's AVX-512 loops */
    const size_t rb = sizeof(block_q4_K) * KQ_NB;
    static uint8_t w[N_OUT * KQ_NB * sizeof(block_q4_K)];
    static block_q8_K act[KQ_ACT * KQ_NB];
    static g_q4_Kx8 wp[N_OUT / 8 * KQ_NB];
    static g_q8_Kx4 ap[N_GEMM / 4 * KQ_NB];
    static float by_gemv[KQ_ACT * N_OUT], by_gemm[N_GEMM * N_OUT], want[KQ_ACT * N_OUT];
    kq_data(FN_Q4_K, N_OUT, w, rb, act, 4321);
    for (int x = 0; x < N_OUT / 8; x++)
        for (int b = 0; b < KQ_NB; b++) {
            const block_q4_K *in[8];
            for (int i = 0; i < 8; i++) in[i] = (const block_q4_K *)(w + (size_t)(8 * x + i) * rb) + b;
            pack_q4_Kx8(in, &wp[x * KQ_NB + b]);
        }
    for (int y = 0; y < N_GEMM / 4; y++)
        for (int b = 0; b < KQ_NB; b++) {
            const block_q8_K *in[4];
            for (int i = 0; i < 4; i++) in[i] = act + (4 * y + i) * KQ_NB + b;
            pack_q8_Kx4(in, &ap[y * KQ_NB + b]);
        }
    for (int c = 0; c < KQ_ACT; c++) gemv(KQ_IN, by_gemv + c * N_OUT, N_OUT, wp, act + c * KQ_NB, 1, N_OUT);
    gemm(KQ_IN, by_gemm, N_OUT, wp, ap, N_GEMM, N_OUT);
    /* 4 rows take ggml's loop over single groups of 4 (the 16-row loop above): same order */
    static float by_gemm4[4 * N_OUT];
    gemm(KQ_IN, by_gemm4, N_OUT, wp, ap, 4, N_OUT);
    assert_same("ggml's gemm, 4 rows vs 16", by_gemm, by_gemm4, 4 * N_OUT);
    kq_check(&orc[oi], "Q4_K expert (gemv)", FN_Q4_K, w, rb, N_OUT, act, KQ_ACT, 1, by_gemv);
    for (int n = 1; n <= KQ_ACT; n++) {
        for (int c = 0; c < n; c++)
            memcpy(want + c * N_OUT, (c < n - n % 4 ? by_gemm : by_gemv) + c * N_OUT, N_OUT * sizeof(float));
        kq_check(&orc[oi], "Q4_K (gemm + gemv)", FN_Q4_K, w, rb, N_OUT, act, n, 0, want);
    }
    }
}

static void test_expf_accuracy(void **state) {
    (void)state;
    for (float x = -87.0f; x < 88.5f; x += 0.00731f) {
        double want = exp((double)x);
        float w = (float)want;
        double ulp = (double)nextafterf(w, INFINITY) - (double)w;
        assert_true(fabs((double)op_expf(x) - want) <= 2.5 * ulp);
    }
    assert_true(op_expf(-INFINITY) == 0.0f);
    assert_true(op_expf(0.0f) == 1.0f);
    assert_true(isinf(op_expf(100.0f)));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rmsnorm_vs_ggml),   cmocka_unit_test(test_rope_vs_ggml),
        cmocka_unit_test(test_swiglu_vs_ggml),    cmocka_unit_test(test_route_softmax_vs_ggml),
        cmocka_unit_test(test_attention_vs_ggml), cmocka_unit_test(test_expf_accuracy),
        cmocka_unit_test(test_q8_0_act_vs_ggml),  cmocka_unit_test(test_q8_0_matmul_vs_ggml),
        cmocka_unit_test(test_kquant_vec_dot_vs_ggml),
        cmocka_unit_test(test_q4_K_repacked_vs_ggml),
        cmocka_unit_test(test_f32_matmul_vs_ggml),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
