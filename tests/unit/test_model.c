/* test_model.c - forward-pass building blocks against naive references (RoPE, RMSNorm,
 * routing, tiled attention over the paged cache), the KV page pool, stop strings, and model
 * loading errors (unknown architecture, missing or mis-shaped tensors, oversize files). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/dtype.h"
#include "base/error.h"
#include "base/rng.h"
#include "engine/stop_matcher.h"
#include "gguf/gguf.h"
#include "kv/kv_cache.h"
#include "model/attention.h"
#include "model/model.h"
#include "model/ops.h"
#include "model/synth.h"
#include "tensor/tensor_format.h"

static void test_rope_matches_naive(void **state) {
    (void)state;
    model_hparams hp;
    memset(&hp, 0, sizeof hp);
    hp.n_rot = 64;
    hp.rope_freq_base = 10000;
    for (int neox = 0; neox < 2; neox++) {
        rope_table t;
        rope_table_init(&t, &hp, neox, NULL);
        float x[128], y[128];
        fn_rng r;
        fn_rng_seed(&r, 5);
        for (int i = 0; i < 128; i++) x[i] = y[i] = (float)fn_rng_normal(&r);
        int pos = 37;
        op_rope(&t, y, 2, 64, pos);
        for (int h = 0; h < 2; h++)
            for (int i = 0; i < 32; i++) {
                double theta = pos * pow(10000.0, -2.0 * i / 64);
                int a = neox ? i : 2 * i, b = neox ? i + 32 : 2 * i + 1;
                double x0 = x[h * 64 + a], x1 = x[h * 64 + b];
                assert_true(fabs(y[h * 64 + a] - (x0 * cos(theta) - x1 * sin(theta))) < 1e-4);
                assert_true(fabs(y[h * 64 + b] - (x0 * sin(theta) + x1 * cos(theta))) < 1e-4);
            }
    }
}

static void test_rmsnorm_and_route(void **state) {
    (void)state;
    float x[4] = {1, -2, 3, -4}, w[4] = {1, 2, 1, 0.5f}, y[4];
    op_rmsnorm(y, x, w, 4, 0);
    double rms = sqrt((1 + 4 + 9 + 16) / 4.0);
    for (int i = 0; i < 4; i++) assert_true(fabs(y[i] - x[i] / rms * w[i]) < 1e-6);
    float logits[6] = {0.1f, 2, -1, 2, 0.5f, 1.5f};
    int32_t ex[3];
    float wt[3];
    op_route_topk(logits, 6, 3, true, ex, wt);
    assert_int_equal(ex[0], 1); /* tie with 3: the lower index first */
    assert_int_equal(ex[1], 3);
    assert_int_equal(ex[2], 5);
    double e1 = exp(2), e5 = exp(1.5);
    assert_true(fabs(wt[0] - e1 / (2 * e1 + e5)) < 1e-6);
    assert_true(fabs(wt[0] + wt[1] + wt[2] - 1) < 1e-6);
}

/* Tiled attention over pages, for a block of tokens, equals a plain softmax over each
 * token's visible positions. */
static void test_attention_matches_naive(void **state) {
    (void)state;
    enum { n_head = 4, n_kv = 2, hd = 32, n_pos = 150, n_tok = 5 };
    for (int q8 = 0; q8 < 2; q8++) {
        uint32_t type = q8 ? FN_Q8_0 : FN_F16;
        kv_cache_params kp = {1, n_kv * hd, n_kv * hd, type, 256, 2, 16};
        kv_cache *kv = kv_cache_new(&kp);
        assert_non_null(kv);
        assert_int_equal(kv_seq_reserve(kv, 1, n_pos), 0);
        fn_rng r;
        fn_rng_seed(&r, 9);
        static float K[n_pos * n_kv * hd], Vv[n_pos * n_kv * hd];
        for (int p = 0; p < n_pos; p++) {
            float kr[n_kv * hd], vr[n_kv * hd];
            for (int i = 0; i < n_kv * hd; i++) kr[i] = (float)fn_rng_normal(&r), vr[i] = (float)fn_rng_normal(&r);
            tensor_quantize(type, kr, kv_k_at(kv, 0, 1, p), n_kv * hd);
            tensor_quantize(type, vr, kv_v_at(kv, 0, 1, p), n_kv * hd);
            /* the reference sees what the cache holds */
            tensor_dequantize(type, kv_k_at(kv, 0, 1, p), K + p * n_kv * hd, n_kv * hd);
            tensor_dequantize(type, kv_v_at(kv, 0, 1, p), Vv + p * n_kv * hd, n_kv * hd);
        }
        attn_params ap = {kv, 0, n_head, n_kv, hd, hd, 1.0f / sqrtf(hd)};
        float *scratch = malloc(sizeof(float) * attn_scratch_floats(&ap, n_tok));
        float q[n_tok][n_head * hd], out[n_tok][n_head * hd];
        int32_t pos[n_tok] = {0, 17, 63, 64, 149};
        for (int t = 0; t < n_tok; t++)
            for (int i = 0; i < n_head * hd; i++) q[t][i] = 2.0f * (float)fn_rng_normal(&r);
        attn_block b = {n_tok, pos, &q[0][0], n_head * hd, &out[0][0], n_head * hd};
        for (int g = 0; g < n_kv; g++) attn_group_block(&ap, 1, g, &b, scratch);
        for (int t = 0; t < n_tok; t++)
            for (int h = 0; h < n_head; h++) {
                int g = h / (n_head / n_kv), upto = pos[t] + 1;
                double s[n_pos], mx = -1e30, z = 0;
                for (int p = 0; p < upto; p++) {
                    s[p] = 0;
                    for (int i = 0; i < hd; i++) s[p] += q[t][h * hd + i] * K[p * n_kv * hd + g * hd + i];
                    s[p] /= sqrt(hd);
                    if (s[p] > mx) mx = s[p];
                }
                for (int p = 0; p < upto; p++) z += exp(s[p] - mx);
                for (int i = 0; i < hd; i++) {
                    double want = 0;
                    for (int p = 0; p < upto; p++) want += exp(s[p] - mx) / z * Vv[p * n_kv * hd + g * hd + i];
                    assert_true(fabs(out[t][h * hd + i] - want) < 1e-4);
                }
            }
        free(scratch);
        kv_cache_free(kv);
    }
}

static void test_kv_pages(void **state) {
    (void)state;
    kv_cache_params kp = {2, 64, 64, FN_F16, 128, 2, 16}; /* 8 pages + 2 slack */
    kv_cache *kv = kv_cache_new(&kp);
    assert_non_null(kv);
    int free0 = kv_free_positions(kv);
    assert_int_equal(kv_seq_reserve(kv, 0, 100), 0);
    assert_int_equal(kv_seq_capacity(kv, 0), 112);
    assert_int_equal(kv_free_positions(kv), free0 - 112);
    assert_int_equal(kv_seq_reserve(kv, 1, 100), -1); /* not enough left */
    assert_non_null(strstr(fn_errmsg(), "kv cache full"));
    assert_int_equal(kv_seq_capacity(kv, 1), 0);
    kv_seq_truncate(kv, 0, 20);
    assert_int_equal(kv_seq_capacity(kv, 0), 32);
    assert_int_equal(kv_seq_reserve(kv, 1, 100), 0);
    /* distinct positions map to distinct rows */
    assert_ptr_not_equal(kv_k_at(kv, 0, 0, 5), kv_k_at(kv, 0, 1, 5));
    assert_ptr_not_equal(kv_k_at(kv, 0, 1, 5), kv_k_at(kv, 1, 1, 5));
    kv_seq_truncate(kv, 0, 0);
    kv_seq_truncate(kv, 1, 0);
    assert_int_equal(kv_free_positions(kv), free0);
    kv_cache_free(kv);
    kv_cache_params bad = {2, 60, 64, FN_Q8_0, 128, 2, 16};
    assert_null(kv_cache_new(&bad));
}

static void test_stop_matcher(void **state) {
    (void)state;
    const char *stops[] = {"</end>", "STOP"};
    stop_matcher m;
    assert_int_equal(stop_matcher_init(&m, stops, 2), 0);
    const char *out;
    size_t n;
    char acc[128] = "";
    const char *pieces[] = {"hello <", "/e", "nx> wor", "ld </e", "nd> never"};
    bool stopped = false;
    for (int i = 0; i < 5 && !stopped; i++) {
        stopped = stop_matcher_push(&m, pieces[i], strlen(pieces[i]), &out, &n);
        strncat(acc, out, n);
    }
    assert_true(stopped);
    assert_string_equal(acc, "hello </enx> world ");
    stop_matcher_free(&m);
    /* no stop: everything comes out, held text on flush */
    assert_int_equal(stop_matcher_init(&m, stops, 2), 0);
    acc[0] = 0;
    assert_false(stop_matcher_push(&m, "abc ST", 6, &out, &n));
    strncat(acc, out, n);
    assert_string_equal(acc, "abc ");
    stop_matcher_flush(&m, &out, &n);
    strncat(acc, out, n);
    assert_string_equal(acc, "abc ST");
    stop_matcher_free(&m);
}

/* --- loading errors ------------------------------------------------------------------ */

static char tmp_path[128];

/* Writes tiny-llama with one tensor renamed or reshaped, then expects model_load to fail
 * with a message containing `expect`. */
static void expect_load_error(const char *arch, const char *skip, const char *reshape, const char *expect) {
    char src[160];
    snprintf(src, sizeof src, "%s.src", tmp_path);
    synth_options o = {.preset = "tiny-llama", .type = "f32", .seed = 1, .out_path = src};
    assert_int_equal(synth_write_model(&o), 0);
    gguf_file *f = gguf_open(src);
    assert_non_null(f);
    gguf_writer *w = gguf_writer_new();
    for (size_t i = 0; i < gguf_n_kv(f); i++) {
        const gguf_kv *kv = gguf_kv_at(f, i);
        if (arch && !strcmp(kv->key, "general.architecture")) gguf_writer_set_str(w, kv->key, arch);
        else gguf_writer_copy_kv(w, kv);
    }
    for (size_t i = 0; i < gguf_n_tensors(f); i++) {
        const gguf_tensor *t = gguf_tensor_at(f, i);
        if (skip && !strcmp(t->name, skip)) continue;
        int64_t ne[4] = {t->ne[0], t->ne[1], t->ne[2], t->ne[3]};
        if (reshape && !strcmp(t->name, reshape)) ne[1] /= 2;
        assert_int_equal(gguf_writer_add_tensor(w, t->name, t->type, t->n_dims, ne, t->data, NULL, NULL), 0);
    }
    assert_int_equal(gguf_writer_write(w, tmp_path), 0);
    gguf_writer_free(w);
    gguf_close(f);
    unlink(src);
    model *m = model_load(tmp_path, NULL);
    assert_null(m);
    if (!strstr(fn_errmsg(), expect)) fail_msg("message '%s' lacks '%s'", fn_errmsg(), expect);
    unlink(tmp_path);
}

static void test_load_errors(void **state) {
    (void)state;
    snprintf(tmp_path, sizeof tmp_path, "/tmp/fennec-test-model-%d.gguf", (int)getpid());
    expect_load_error(NULL, "blk.1.attn_k.weight", NULL, "missing tensor 'blk.1.attn_k.weight' (expected shape [256, 128])");
    expect_load_error(NULL, NULL, "blk.0.attn_q.weight", "tensor 'blk.0.attn_q.weight' has shape [256, 128], expected [256, 256]");
    expect_load_error("gpt17", NULL, NULL, "architecture 'gpt17' is not supported");
    /* a valid model loads */
    synth_options o = {.preset = "tiny-moe", .type = "q8_0", .seed = 1, .out_path = tmp_path};
    assert_int_equal(synth_write_model(&o), 0);
    model *m = model_load(tmp_path, NULL);
    assert_non_null(m);
    assert_true(m->active_bytes < m->weight_bytes);
    model_free(m);
    unlink(tmp_path);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rope_matches_naive), cmocka_unit_test(test_rmsnorm_and_route),
        cmocka_unit_test(test_attention_matches_naive), cmocka_unit_test(test_kv_pages),
        cmocka_unit_test(test_stop_matcher), cmocka_unit_test(test_load_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
