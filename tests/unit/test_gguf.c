/* test_gguf.c - GGUF reader and writer: round trips of every value type and of tensors
 * under several alignments, the real vocab files, hand-built hostile files (each must fail
 * with a message naming the offset), and writer failures that must leave no file. */
#include "gguf/gguf.h"

#include "base/dtype.h"
#include "base/error.h"

#include <dirent.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

/* ---- helpers --------------------------------------------------------------------------- */

typedef struct {
    char dir[256];  /* scratch directory for this group, removed at the end */
} fixture;

static int group_setup(void **state) {
    fixture *fx = calloc(1, sizeof *fx);
    if (!fx) return -1;
    snprintf(fx->dir, sizeof fx->dir, "/tmp/test_gguf.XXXXXX");
    if (!mkdtemp(fx->dir)) return -1;
    *state = fx;
    return 0;
}

static int group_teardown(void **state) {
    fixture *fx = *state;
    DIR *d = opendir(fx->dir);
    if (d) {
        struct dirent *e;
        char p[600];
        while ((e = readdir(d)))
            if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
                snprintf(p, sizeof p, "%s/%s", fx->dir, e->d_name);
                unlink(p);
            }
        closedir(d);
    }
    rmdir(fx->dir);
    free(fx);
    return 0;
}

static void path_in(const fixture *fx, char *out, size_t n, const char *name) {
    snprintf(out, n, "%s/%s", fx->dir, name);
}

static uint8_t *slurp(const char *path, size_t *len) {
    FILE *fp = fopen(path, "rb");
    assert_non_null(fp);
    fseek(fp, 0, SEEK_END);
    long n = ftell(fp);
    fseek(fp, 0, SEEK_SET);
    uint8_t *p = malloc((size_t)n + 1);
    assert_non_null(p);
    assert_int_equal(fread(p, 1, (size_t)n, fp), (size_t)n);
    fclose(fp);
    *len = (size_t)n;
    return p;
}

static int count_dir_entries(const char *dir) {
    DIR *d = opendir(dir);
    assert_non_null(d);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) n++;
    closedir(d);
    return n;
}

/* Shared data directory (vocab files), or NULL to skip. */
static const char *shared_dir(void) {
    const char *s = getenv("FENNEC_SHARED");
    return s && *s ? s : NULL;
}

/* Asserts the buffer is rejected with a message containing "offset" and `want`. */
static void expect_reject(const void *data, size_t len, const char *want) {
    fn_error_clear();
    gguf_file *f = gguf_open_memory(data, len);
    if (f) {
        gguf_close(f);
        fail_msg("accepted a file that should fail with '%s'", want);
    }
    const char *msg = fn_errmsg();
    if (!strstr(msg, "offset") || !strstr(msg, "buffer: ") || (want && !strstr(msg, want)))
        fail_msg("message '%s' lacks 'buffer: ', 'offset' or '%s'", msg, want ? want : "");
}

static gguf_file *open_ok(const void *data, size_t len) {
    gguf_file *f = gguf_open_memory(data, len);
    if (!f) fail_msg("open failed: %s", fn_errmsg());
    return f;
}

/* ---- a tiny byte builder for hand-made files ------------------------------------------- */

typedef struct {
    uint8_t p[8192];
    size_t len;
} tb;

static void tb_raw(tb *b, const void *p, size_t n) {
    assert_true(b->len + n <= sizeof b->p);
    memcpy(b->p + b->len, p, n);
    b->len += n;
}
static void tb_u8(tb *b, uint8_t v) { tb_raw(b, &v, 1); }
static void tb_u32(tb *b, uint32_t v) {
    uint8_t t[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
    tb_raw(b, t, 4);
}
static void tb_u64(tb *b, uint64_t v) {
    tb_u32(b, (uint32_t)v);
    tb_u32(b, (uint32_t)(v >> 32));
}
static void tb_str(tb *b, const char *s) {
    tb_u64(b, strlen(s));
    tb_raw(b, s, strlen(s));
}
static void tb_hdr(tb *b, uint32_t version, uint64_t n_tensors, uint64_t n_kv) {
    b->len = 0;
    tb_u32(b, GGUF_MAGIC);
    tb_u32(b, version);
    tb_u64(b, n_tensors);
    tb_u64(b, n_kv);
}
static void tb_kv_u32(tb *b, const char *key, uint32_t v) {
    tb_str(b, key);
    tb_u32(b, GGUF_TYPE_UINT32);
    tb_u32(b, v);
}
static void tb_tensor(tb *b, const char *name, uint32_t n_dims, const uint64_t *ne,
                      uint32_t type, uint64_t offset) {
    tb_str(b, name);
    tb_u32(b, n_dims);
    for (uint32_t i = 0; i < n_dims; i++) tb_u64(b, ne[i]);
    tb_u32(b, type);
    tb_u64(b, offset);
}
static void tb_align(tb *b, size_t a) {
    while (b->len % a) tb_u8(b, 0);
}
static void tb_zeros(tb *b, size_t n) {
    for (size_t i = 0; i < n; i++) tb_u8(b, 0);
}

/* ---- the sample file: every value type and a few tensors ------------------------------- */

static const int8_t arr_i8[] = {-128, -1, 0, 1, 127};
static const uint16_t arr_u16[] = {0, 1, 65535};
static const int16_t arr_i16[] = {-32768, 0, 32767};
static const uint32_t arr_u32[] = {0, 7, 4294967295u};
static const int32_t arr_i32[] = {INT32_MIN, -5, INT32_MAX};
static const uint64_t arr_u64[] = {0, 1ull << 40, UINT64_MAX};
static const int64_t arr_i64[] = {INT64_MIN, -3, INT64_MAX};
static const float arr_f32[] = {-1.5f, 0.0f, 3.25f};
static const double arr_f64[] = {-2.5, 1e300, 0.125};
static const uint8_t arr_bool[] = {1, 0, 1, 1};
static const uint8_t arr_u8[] = {0, 200, 255};
static const char *const arr_strs[] = {"alpha", "", "gamma \xe2\x9c\x93", "d"};

static void set_all_values(gguf_writer *w) {
    assert_int_equal(gguf_writer_set_u8(w, "t.u8", 200), 0);
    assert_int_equal(gguf_writer_set_i8(w, "t.i8", -100), 0);
    assert_int_equal(gguf_writer_set_u16(w, "t.u16", 60000), 0);
    assert_int_equal(gguf_writer_set_i16(w, "t.i16", -30000), 0);
    assert_int_equal(gguf_writer_set_u32(w, "t.u32", 4000000000u), 0);
    assert_int_equal(gguf_writer_set_i32(w, "t.i32", -2000000000), 0);
    assert_int_equal(gguf_writer_set_u64(w, "t.u64", UINT64_MAX - 1), 0);
    assert_int_equal(gguf_writer_set_i64(w, "t.i64", INT64_MIN + 1), 0);
    assert_int_equal(gguf_writer_set_f32(w, "t.f32", 0.1f), 0);
    assert_int_equal(gguf_writer_set_f64(w, "t.f64", -1e-300), 0);
    assert_int_equal(gguf_writer_set_bool(w, "t.bool", true), 0);
    assert_int_equal(gguf_writer_set_bool(w, "t.bool0", false), 0);
    assert_int_equal(gguf_writer_set_str(w, "t.str", "hello, \xc3\xa9"), 0);
    assert_int_equal(gguf_writer_set_strn(w, "t.strn", "a\0b", 3), 0);
    assert_int_equal(gguf_writer_set_str(w, "t.empty", ""), 0);
    assert_int_equal(gguf_writer_set_arr(w, "a.u8", GGUF_TYPE_UINT8, arr_u8, 3), 0);
    assert_int_equal(gguf_writer_set_arr(w, "a.i8", GGUF_TYPE_INT8, arr_i8, 5), 0);
    assert_int_equal(gguf_writer_set_arr(w, "a.u16", GGUF_TYPE_UINT16, arr_u16, 3), 0);
    assert_int_equal(gguf_writer_set_arr(w, "a.i16", GGUF_TYPE_INT16, arr_i16, 3), 0);
    assert_int_equal(gguf_writer_set_arr(w, "a.u32", GGUF_TYPE_UINT32, arr_u32, 3), 0);
    assert_int_equal(gguf_writer_set_arr(w, "a.i32", GGUF_TYPE_INT32, arr_i32, 3), 0);
    assert_int_equal(gguf_writer_set_arr(w, "a.u64", GGUF_TYPE_UINT64, arr_u64, 3), 0);
    assert_int_equal(gguf_writer_set_arr(w, "a.i64", GGUF_TYPE_INT64, arr_i64, 3), 0);
    assert_int_equal(gguf_writer_set_arr(w, "a.f32", GGUF_TYPE_FLOAT32, arr_f32, 3), 0);
    assert_int_equal(gguf_writer_set_arr(w, "a.f64", GGUF_TYPE_FLOAT64, arr_f64, 3), 0);
    assert_int_equal(gguf_writer_set_arr(w, "a.bool", GGUF_TYPE_BOOL, arr_bool, 4), 0);
    assert_int_equal(gguf_writer_set_arr_str(w, "a.str", arr_strs, 4), 0);
    assert_int_equal(gguf_writer_set_arr(w, "a.empty", GGUF_TYPE_FLOAT32, NULL, 0), 0);
    assert_int_equal(gguf_writer_set_arr_str(w, "a.empty_str", NULL, 0), 0);
}

/* Tensor data pattern: byte i of tensor `seed` is (i * 31 + seed) & 0xff. */
static int fill_pattern(void *ctx, void *dst, uint64_t n) {
    uint8_t seed = (uint8_t)(uintptr_t)ctx;
    for (uint64_t i = 0; i < n; i++) ((uint8_t *)dst)[i] = (uint8_t)(i * 31 + seed);
    return 0;
}

static void check_pattern(const gguf_tensor *t, uint8_t seed) {
    const uint8_t *p = t->data;
    for (uint64_t i = 0; i < t->n_bytes; i++)
        if (p[i] != (uint8_t)(i * 31 + seed)) fail_msg("tensor %s byte %llu", t->name,
                                                       (unsigned long long)i);
}

typedef struct {
    const char *name;
    uint32_t type;
    uint32_t n_dims;
    int64_t ne[4];
    uint64_t n_bytes;
} tensor_spec;

static const tensor_spec sample_tensors[] = {
    {"tok_embd.weight", FN_Q8_0, 2, {64, 3, 1, 1}, 2 * 34 * 3},
    {"norm.weight", FN_F32, 1, {5, 1, 1, 1}, 20},
    {"blk.0.ffn.weight", FN_Q4_K, 3, {256, 2, 2, 1}, 144 * 4},
    {"x.f16", FN_F16, 4, {3, 1, 2, 1}, 12},
    {"x.bf16", FN_BF16, 1, {7, 1, 1, 1}, 14},
    {"x.i8", FN_I8, 2, {1, 1, 1, 1}, 1},
};

/* Adds the sample tensors; even ones by pointer (into `store`), odd ones by callback. */
static void add_sample_tensors(gguf_writer *w, uint8_t store[][1024]) {
    for (size_t i = 0; i < FN_ARRAY_LEN(sample_tensors); i++) {
        const tensor_spec *s = &sample_tensors[i];
        void *seed = (void *)(uintptr_t)(i + 1);
        if (i % 2 == 0) {
            fill_pattern(seed, store[i], s->n_bytes);
            assert_int_equal(gguf_writer_add_tensor(w, s->name, s->type, s->n_dims, s->ne,
                                                    store[i], NULL, NULL), 0);
        } else {
            assert_int_equal(gguf_writer_add_tensor(w, s->name, s->type, s->n_dims, s->ne,
                                                    NULL, fill_pattern, seed), 0);
        }
    }
}

/* Writes the sample file (values + tensors) with the given alignment (0 = default). */
static void write_sample(const char *path, uint32_t alignment, bool with_tensors) {
    static uint8_t store[FN_ARRAY_LEN(sample_tensors)][1024];
    gguf_writer *w = gguf_writer_new();
    assert_non_null(w);
    assert_int_equal(gguf_writer_set_str(w, "general.architecture", "test"), 0);
    if (alignment) assert_int_equal(gguf_writer_set_alignment(w, alignment), 0);
    set_all_values(w);
    if (with_tensors) add_sample_tensors(w, store);
    if (gguf_writer_write(w, path)) fail_msg("write: %s", fn_errmsg());
    gguf_writer_free(w);
}

/* ---- round trips ----------------------------------------------------------------------- */

static void check_all_values(const gguf_file *f) {
    uint64_t u;
    int64_t i;
    double d;
    float fl;
    bool b;
    uint32_t u32;
    gguf_str s;
    const gguf_kv *kv;

#define KV_TYPE(k, t) do { kv = gguf_find_kv(f, k); assert_non_null(kv); \
                           assert_int_equal(kv->type, t); } while (0)
    KV_TYPE("t.u8", GGUF_TYPE_UINT8);
    assert_true(gguf_get_u64(f, "t.u8", &u) && u == 200);
    assert_true(gguf_get_u32(f, "t.u8", &u32) && u32 == 200);
    assert_true(gguf_get_i64(f, "t.u8", &i) && i == 200);
    assert_true(gguf_get_f64(f, "t.u8", &d) && d == 200.0);
    assert_false(gguf_get_bool(f, "t.u8", &b));
    assert_false(gguf_get_str(f, "t.u8", &s));
    KV_TYPE("t.i8", GGUF_TYPE_INT8);
    assert_true(gguf_get_i64(f, "t.i8", &i) && i == -100);
    assert_false(gguf_get_u64(f, "t.i8", &u));
    assert_false(gguf_get_u32(f, "t.i8", &u32));
    assert_true(gguf_get_f32(f, "t.i8", &fl) && fl == -100.0f);
    KV_TYPE("t.u16", GGUF_TYPE_UINT16);
    assert_true(gguf_get_u32(f, "t.u16", &u32) && u32 == 60000);
    KV_TYPE("t.i16", GGUF_TYPE_INT16);
    assert_true(gguf_get_i64(f, "t.i16", &i) && i == -30000);
    KV_TYPE("t.u32", GGUF_TYPE_UINT32);
    assert_true(gguf_get_u32(f, "t.u32", &u32) && u32 == 4000000000u);
    KV_TYPE("t.i32", GGUF_TYPE_INT32);
    assert_true(gguf_get_i64(f, "t.i32", &i) && i == -2000000000);
    KV_TYPE("t.u64", GGUF_TYPE_UINT64);
    assert_true(gguf_get_u64(f, "t.u64", &u) && u == UINT64_MAX - 1);
    assert_false(gguf_get_u32(f, "t.u64", &u32));  /* does not fit */
    assert_false(gguf_get_i64(f, "t.u64", &i));    /* does not fit */
    KV_TYPE("t.i64", GGUF_TYPE_INT64);
    assert_true(gguf_get_i64(f, "t.i64", &i) && i == INT64_MIN + 1);
    KV_TYPE("t.f32", GGUF_TYPE_FLOAT32);
    assert_true(gguf_get_f32(f, "t.f32", &fl) && fl == 0.1f);
    assert_true(gguf_get_f64(f, "t.f32", &d) && d == (double)0.1f);
    assert_false(gguf_get_u64(f, "t.f32", &u));    /* floats never convert to ints */
    KV_TYPE("t.f64", GGUF_TYPE_FLOAT64);
    assert_true(gguf_get_f64(f, "t.f64", &d) && d == -1e-300);
    KV_TYPE("t.bool", GGUF_TYPE_BOOL);
    assert_true(gguf_get_bool(f, "t.bool", &b) && b);
    assert_true(gguf_get_bool(f, "t.bool0", &b) && !b);
    assert_false(gguf_get_u64(f, "t.bool", &u));
    KV_TYPE("t.str", GGUF_TYPE_STRING);
    assert_true(gguf_get_str(f, "t.str", &s));
    assert_int_equal(s.len, 9);
    assert_memory_equal(s.ptr, "hello, \xc3\xa9", 9);
    char *dup = gguf_get_strdup(f, "t.str");
    assert_string_equal(dup, "hello, \xc3\xa9");
    free(dup);
    assert_true(gguf_get_str(f, "t.strn", &s));
    assert_int_equal(s.len, 3);
    assert_memory_equal(s.ptr, "a\0b", 3);
    assert_true(gguf_get_str(f, "t.empty", &s) && s.len == 0);
    dup = gguf_get_strdup(f, "t.empty");
    assert_string_equal(dup, "");
    free(dup);
    assert_null(gguf_get_strdup(f, "t.u8"));
    assert_null(gguf_get_strdup(f, "missing"));
    assert_false(gguf_get_u64(f, "missing", &u));

#define ARR(k, t, n) do { KV_TYPE(k, GGUF_TYPE_ARRAY); assert_int_equal(kv->arr_type, t); \
                          assert_int_equal(kv->arr_len, n); } while (0)
    ARR("a.u8", GGUF_TYPE_UINT8, 3);
    for (int k = 0; k < 3; k++) assert_int_equal(gguf_arr_i64(kv, k), arr_u8[k]);
    ARR("a.i8", GGUF_TYPE_INT8, 5);
    for (int k = 0; k < 5; k++) assert_int_equal(gguf_arr_i64(kv, k), arr_i8[k]);
    ARR("a.u16", GGUF_TYPE_UINT16, 3);
    for (int k = 0; k < 3; k++) assert_int_equal(gguf_arr_i64(kv, k), arr_u16[k]);
    ARR("a.i16", GGUF_TYPE_INT16, 3);
    for (int k = 0; k < 3; k++) assert_int_equal(gguf_arr_i64(kv, k), arr_i16[k]);
    ARR("a.u32", GGUF_TYPE_UINT32, 3);
    for (int k = 0; k < 3; k++) assert_int_equal(gguf_arr_i64(kv, k), arr_u32[k]);
    ARR("a.i32", GGUF_TYPE_INT32, 3);
    for (int k = 0; k < 3; k++) assert_int_equal(gguf_arr_i64(kv, k), arr_i32[k]);
    ARR("a.u64", GGUF_TYPE_UINT64, 3);
    assert_int_equal(gguf_arr_i64(kv, 1), 1ll << 40);
    assert_true(gguf_arr_i64(kv, 2) == INT64_MAX); /* saturates */
    assert_true(gguf_arr_f64(kv, 2) == (double)UINT64_MAX);
    ARR("a.i64", GGUF_TYPE_INT64, 3);
    for (int k = 0; k < 3; k++) assert_true(gguf_arr_i64(kv, k) == arr_i64[k]);
    ARR("a.f32", GGUF_TYPE_FLOAT32, 3);
    for (int k = 0; k < 3; k++) assert_true(gguf_arr_f64(kv, k) == arr_f32[k]);
    assert_int_equal(gguf_arr_i64(kv, 2), 3);
    ARR("a.f64", GGUF_TYPE_FLOAT64, 3);
    for (int k = 0; k < 3; k++) assert_true(gguf_arr_f64(kv, k) == arr_f64[k]);
    assert_true(gguf_arr_i64(kv, 1) == INT64_MAX); /* 1e300 saturates */
    ARR("a.bool", GGUF_TYPE_BOOL, 4);
    for (int k = 0; k < 4; k++) assert_int_equal(gguf_arr_i64(kv, k), arr_bool[k]);
    ARR("a.str", GGUF_TYPE_STRING, 4);
    assert_non_null(kv->arr_strs);
    for (int k = 0; k < 4; k++) {
        assert_int_equal(kv->arr_strs[k].len, strlen(arr_strs[k]));
        assert_memory_equal(kv->arr_strs[k].ptr, arr_strs[k], strlen(arr_strs[k]));
    }
    ARR("a.empty", GGUF_TYPE_FLOAT32, 0);
    ARR("a.empty_str", GGUF_TYPE_STRING, 0);
#undef ARR
#undef KV_TYPE
}

static void test_roundtrip_values(void **state) {
    char path[512];
    path_in(*state, path, sizeof path, "values.gguf");
    write_sample(path, 0, false);
    gguf_file *f = gguf_open(path);
    if (!f) fail_msg("%s", fn_errmsg());
    assert_int_equal(gguf_version(f), 3);
    assert_int_equal(gguf_n_tensors(f), 0);
    assert_int_equal(gguf_alignment(f), GGUF_DEFAULT_ALIGNMENT);
    assert_string_equal(gguf_path(f), path);
    /* The kvs come back in insertion order, and each one is found by its key. */
    assert_int_equal(gguf_n_kv(f), 30);
    assert_string_equal(gguf_kv_at(f, 0)->key, "general.architecture");
    assert_string_equal(gguf_kv_at(f, 1)->key, "t.u8");
    assert_string_equal(gguf_kv_at(f, 29)->key, "a.empty_str");
    assert_null(gguf_kv_at(f, 30));
    for (size_t i = 0; i < gguf_n_kv(f); i++)
        assert_ptr_equal(gguf_find_kv(f, gguf_kv_at(f, i)->key), gguf_kv_at(f, i));
    assert_null(gguf_find_kv(f, "t.u"));
    assert_null(gguf_find_kv(f, "zzz"));
    assert_int_equal(gguf_kv_at(f, 0)->file_offset, 24);
    check_all_values(f);
    gguf_close(f);
}

static void test_getter_conversions(void **state) {
    char path[512];
    path_in(*state, path, sizeof path, "conv.gguf");
    gguf_writer *w = gguf_writer_new();
    assert_int_equal(gguf_writer_set_i32(w, "neg", -1), 0);
    assert_int_equal(gguf_writer_set_u64(w, "big", 1ull << 33), 0);
    assert_int_equal(gguf_writer_set_f64(w, "huge", 1e300), 0);
    assert_int_equal(gguf_writer_set_f64(w, "inf", INFINITY), 0);
    assert_int_equal(gguf_writer_set_i64(w, "i", 12), 0);
    assert_int_equal(gguf_writer_write(w, path), 0);
    gguf_writer_free(w);
    gguf_file *f = gguf_open(path);
    assert_non_null(f);
    uint32_t u32;
    uint64_t u64;
    float fl;
    double d;
    assert_false(gguf_get_u64(f, "neg", &u64));
    assert_false(gguf_get_u32(f, "big", &u32));
    assert_true(gguf_get_u64(f, "big", &u64) && u64 == 1ull << 33);
    assert_false(gguf_get_f32(f, "huge", &fl));              /* would overflow a float */
    assert_true(gguf_get_f64(f, "huge", &d) && d == 1e300);
    assert_true(gguf_get_f32(f, "inf", &fl) && isinf(fl));
    assert_true(gguf_get_u32(f, "i", &u32) && u32 == 12);
    assert_true(gguf_get_f32(f, "i", &fl) && fl == 12.0f);
    gguf_close(f);
}

static void test_set_twice_keeps_position(void **state) {
    char path[512];
    path_in(*state, path, sizeof path, "twice.gguf");
    gguf_writer *w = gguf_writer_new();
    assert_int_equal(gguf_writer_set_u32(w, "a", 1), 0);
    assert_int_equal(gguf_writer_set_u32(w, "b", 2), 0);
    assert_int_equal(gguf_writer_set_str(w, "a", "now a string"), 0);
    assert_int_equal(gguf_writer_write(w, path), 0);
    gguf_writer_free(w);
    gguf_file *f = gguf_open(path);
    assert_non_null(f);
    assert_int_equal(gguf_n_kv(f), 2);
    assert_string_equal(gguf_kv_at(f, 0)->key, "a");
    assert_int_equal(gguf_kv_at(f, 0)->type, GGUF_TYPE_STRING);
    assert_string_equal(gguf_kv_at(f, 1)->key, "b");
    gguf_close(f);
}

static void test_tensors_alignments(void **state) {
    static const uint32_t aligns[] = {0, 1, 8, 32, 64, 4096};
    for (size_t a = 0; a < FN_ARRAY_LEN(aligns); a++) {
        char path[512], name[64];
        snprintf(name, sizeof name, "tensors_%u.gguf", aligns[a]);
        path_in(*state, path, sizeof path, name);
        write_sample(path, aligns[a], true);
        gguf_file *f = gguf_open(path);
        if (!f) fail_msg("%s", fn_errmsg());
        uint64_t align = aligns[a] ? aligns[a] : GGUF_DEFAULT_ALIGNMENT;
        assert_int_equal(gguf_alignment(f), align);
        assert_int_equal(gguf_data_offset(f) % align, 0);
        assert_int_equal(gguf_n_tensors(f), FN_ARRAY_LEN(sample_tensors));
        check_all_values(f);
        uint64_t expect_off = 0;
        for (size_t i = 0; i < FN_ARRAY_LEN(sample_tensors); i++) {
            const tensor_spec *s = &sample_tensors[i];
            const gguf_tensor *t = gguf_tensor_at(f, i);
            assert_non_null(t);
            assert_string_equal(t->name, s->name);
            assert_ptr_equal(gguf_find_tensor(f, s->name), t);
            assert_int_equal(t->type, s->type);
            assert_int_equal(t->n_dims, s->n_dims);
            int64_t n = 1;
            for (int d = 0; d < 4; d++) {
                assert_int_equal(t->ne[d], d < (int)s->n_dims ? s->ne[d] : 1);
                n *= t->ne[d];
            }
            assert_int_equal(t->n_elements, n);
            assert_int_equal(t->n_bytes, s->n_bytes);
            /* Insertion order, each offset the previous end rounded up to the alignment. */
            expect_off = (expect_off + align - 1) / align * align;
            assert_int_equal(t->offset, expect_off);
            expect_off += t->n_bytes;
            /* In place: the data pointer is inside the mapping, aligned like the offset. */
            assert_int_equal((uintptr_t)t->data % align, 0);
            check_pattern(t, (uint8_t)(i + 1));
        }
        assert_null(gguf_tensor_at(f, FN_ARRAY_LEN(sample_tensors)));
        assert_null(gguf_find_tensor(f, "nope"));
        /* The file ends right after the last tensor's data. */
        assert_int_equal(gguf_file_size(f), gguf_data_offset(f) + expect_off);
        gguf_close(f);
    }
}

static void test_version2_accepted(void **state) {
    char path[512];
    path_in(*state, path, sizeof path, "v2.gguf");
    write_sample(path, 0, true);
    size_t len;
    uint8_t *buf = slurp(path, &len);
    buf[4] = 2; /* v2 has the same layout as v3 */
    gguf_file *f = open_ok(buf, len);
    assert_int_equal(gguf_version(f), 2);
    assert_string_equal(gguf_path(f), "buffer");
    check_all_values(f);
    gguf_close(f);
    free(buf);
}

static void test_many_tensors_lookup(void **state) {
    enum { N = 3000 };
    char path[512], name[64];
    path_in(*state, path, sizeof path, "many.gguf");
    gguf_writer *w = gguf_writer_new();
    int64_t ne[1] = {8};
    static float zeros[8];
    for (int i = 0; i < N; i++) {
        snprintf(name, sizeof name, "blk.%d.ffn_down_exps.weight", (i * 7919) % N);
        assert_int_equal(gguf_writer_add_tensor(w, name, FN_F32, 1, ne, zeros, NULL, NULL), 0);
    }
    assert_int_equal(gguf_writer_write(w, path), 0);
    gguf_writer_free(w);
    gguf_file *f = gguf_open(path);
    if (!f) fail_msg("%s", fn_errmsg());
    assert_int_equal(gguf_n_tensors(f), N);
    for (int i = 0; i < N; i++) {
        snprintf(name, sizeof name, "blk.%d.ffn_down_exps.weight", i);
        const gguf_tensor *t = gguf_find_tensor(f, name);
        assert_non_null(t);
        assert_string_equal(t->name, name);
    }
    assert_null(gguf_find_tensor(f, "blk.3000.ffn_down_exps.weight"));
    gguf_close(f);
}

/* ---- real files -------------------------------------------------------------------------- */

static gguf_file *open_vocab(const char *name) {
    char path[1024];
    snprintf(path, sizeof path, "%s/testdata/vocab/%s", shared_dir(), name);
    gguf_file *f = gguf_open(path);
    if (!f) fail_msg("%s", fn_errmsg());
    return f;
}

static void check_str_kv(const gguf_file *f, const char *key, const char *want) {
    gguf_str s;
    if (!gguf_get_str(f, key, &s)) fail_msg("no string %s", key);
    assert_int_equal(s.len, strlen(want));
    assert_memory_equal(s.ptr, want, s.len);
}

static void check_arr_str(const gguf_kv *kv, uint64_t i, const char *want) {
    assert_int_equal(kv->arr_strs[i].len, strlen(want));
    assert_memory_equal(kv->arr_strs[i].ptr, want, strlen(want));
}

/* Expected values come from node-llama-cpp's independent GGUF reader. */
static void test_vocab_qwen2(void **state) {
    if (!shared_dir()) skip();
    gguf_file *f = open_vocab("ggml-vocab-qwen2.gguf");
    assert_int_equal(gguf_version(f), 3);
    assert_int_equal(gguf_n_kv(f), 20);
    assert_int_equal(gguf_n_tensors(f), 0);
    check_str_kv(f, "general.architecture", "qwen2");
    check_str_kv(f, "tokenizer.ggml.model", "gpt2");
    check_str_kv(f, "tokenizer.ggml.pre", "qwen2");
    uint32_t u;
    assert_true(gguf_get_u32(f, "qwen2.context_length", &u) && u == 32768);
    assert_true(gguf_get_u32(f, "tokenizer.ggml.bos_token_id", &u) && u == 151643);
    float fl;
    assert_true(gguf_get_f32(f, "qwen2.rope.freq_base", &fl) && fl == 1e6f);
    const gguf_kv *kv = gguf_find_kv(f, "tokenizer.ggml.tokens");
    assert_non_null(kv);
    assert_int_equal(kv->type, GGUF_TYPE_ARRAY);
    assert_int_equal(kv->arr_type, GGUF_TYPE_STRING);
    assert_int_equal(kv->arr_len, 151936);
    check_arr_str(kv, 0, "!");
    check_arr_str(kv, 151935, "[PAD151935]");
    kv = gguf_find_kv(f, "tokenizer.ggml.token_type");
    assert_int_equal(kv->arr_len, 151936);
    assert_int_equal(gguf_arr_i64(kv, 0), 1);
    assert_int_equal(gguf_arr_i64(kv, 151935), 4);
    kv = gguf_find_kv(f, "tokenizer.ggml.merges");
    assert_int_equal(kv->arr_len, 151387);
    check_arr_str(kv, 0, "\xc4\xa0 \xc4\xa0"); /* "Ġ Ġ" */
    char *tmpl = gguf_get_strdup(f, "tokenizer.chat_template");
    assert_non_null(tmpl);
    assert_non_null(strstr(tmpl, "<|im_start|>"));
    free(tmpl);
    gguf_close(f);
}

static void test_vocab_all(void **state) {
    if (!shared_dir()) skip();
    static const struct { const char *file, *arch, *model; uint64_t n_tokens; } v[] = {
        {"ggml-vocab-qwen2.gguf", "qwen2", "gpt2", 151936},
        {"ggml-vocab-llama-bpe.gguf", "llama", "gpt2", 128256},
        {"ggml-vocab-llama-spm.gguf", "llama", "llama", 32000},
        {"ggml-vocab-gpt-2.gguf", "gpt2", "gpt2", 50257},
    };
    for (size_t i = 0; i < FN_ARRAY_LEN(v); i++) {
        gguf_file *f = open_vocab(v[i].file);
        check_str_kv(f, "general.architecture", v[i].arch);
        check_str_kv(f, "tokenizer.ggml.model", v[i].model);
        const gguf_kv *kv = gguf_find_kv(f, "tokenizer.ggml.tokens");
        assert_non_null(kv);
        assert_int_equal(kv->arr_type, GGUF_TYPE_STRING);
        assert_int_equal(kv->arr_len, v[i].n_tokens);
        gguf_close(f);
    }
    gguf_file *f = open_vocab("ggml-vocab-llama-spm.gguf");
    const gguf_kv *kv = gguf_find_kv(f, "tokenizer.ggml.scores");
    assert_int_equal(kv->arr_type, GGUF_TYPE_FLOAT32);
    assert_true(gguf_arr_f64(kv, 0) == 0.0 && gguf_arr_f64(kv, 31999) == -31740.0);
    check_arr_str(gguf_find_kv(f, "tokenizer.ggml.tokens"), 0, "<unk>");
    bool b;
    assert_true(gguf_get_bool(f, "tokenizer.ggml.add_bos_token", &b) && b);
    assert_true(gguf_get_bool(f, "tokenizer.ggml.add_eos_token", &b) && !b);
    gguf_close(f);
}

/* Copies every kv of a real file through the writer and checks the copy is identical:
 * the same kv section byte for byte. */
static void test_copy_kv_vocab(void **state) {
    if (!shared_dir()) skip();
    char path[512];
    path_in(*state, path, sizeof path, "copy.gguf");
    gguf_file *src = open_vocab("ggml-vocab-llama-spm.gguf");
    gguf_writer *w = gguf_writer_new();
    for (size_t i = 0; i < gguf_n_kv(src); i++)
        assert_int_equal(gguf_writer_copy_kv(w, gguf_kv_at(src, i)), 0);
    assert_int_equal(gguf_writer_write(w, path), 0);
    gguf_writer_free(w);
    gguf_file *dst = gguf_open(path);
    if (!dst) fail_msg("%s", fn_errmsg());
    assert_int_equal(gguf_n_kv(dst), gguf_n_kv(src));
    assert_int_equal(gguf_file_size(dst), gguf_file_size(src));
    char src_path[1024];
    snprintf(src_path, sizeof src_path, "%s/testdata/vocab/ggml-vocab-llama-spm.gguf",
             shared_dir());
    size_t la, lb;
    uint8_t *a = slurp(src_path, &la), *b = slurp(path, &lb);
    assert_int_equal(la, lb);
    assert_memory_equal(a, b, la);
    free(a);
    free(b);
    gguf_close(dst);
    gguf_close(src);
}

/* Every value type survives gguf_writer_copy_kv: the copy is byte-identical. */
static void test_copy_kv_all_types(void **state) {
    char src_path[512], dst_path[512];
    path_in(*state, src_path, sizeof src_path, "copy_src.gguf");
    path_in(*state, dst_path, sizeof dst_path, "copy_dst.gguf");
    write_sample(src_path, 16, false);
    gguf_file *src = gguf_open(src_path);
    assert_non_null(src);
    gguf_writer *w = gguf_writer_new();
    for (size_t i = 0; i < gguf_n_kv(src); i++)
        assert_int_equal(gguf_writer_copy_kv(w, gguf_kv_at(src, i)), 0);
    assert_int_equal(gguf_writer_write(w, dst_path), 0);
    gguf_writer_free(w);
    gguf_close(src);
    size_t la, lb;
    uint8_t *a = slurp(src_path, &la), *b = slurp(dst_path, &lb);
    assert_int_equal(la, lb);
    assert_memory_equal(a, b, la);
    free(a);
    free(b);
}

/* A real file cut short anywhere must fail cleanly (sampled: the file is large). */
static void test_vocab_truncated(void **state) {
    if (!shared_dir()) skip();
    char path[1024];
    snprintf(path, sizeof path, "%s/testdata/vocab/ggml-vocab-llama-spm.gguf", shared_dir());
    size_t len;
    uint8_t *buf = slurp(path, &len);
    for (size_t n = 0; n < len; n += n < 4096 ? 1 : 7919) {
        uint8_t *copy = malloc(n ? n : 1); /* exact size, so ASan sees any over-read */
        memcpy(copy, buf, n);
        expect_reject(copy, n, NULL);
        free(copy);
    }
    free(buf);
}

/* ---- hostile files ----------------------------------------------------------------------- */

/* Every prefix of a valid file with values and tensors is rejected, naming an offset. */
static void test_truncated_every_length(void **state) {
    char path[512];
    path_in(*state, path, sizeof path, "trunc.gguf");
    write_sample(path, 64, true);
    size_t len;
    uint8_t *buf = slurp(path, &len);
    gguf_close(open_ok(buf, len));
    for (size_t n = 0; n < len; n++) {
        uint8_t *copy = malloc(n ? n : 1);
        memcpy(copy, buf, n);
        expect_reject(copy, n, NULL);
        free(copy);
    }
    free(buf);
}

static void test_bad_header(void **state) {
    tb b;
    tb_hdr(&b, 3, 0, 0);
    gguf_close(open_ok(b.p, b.len));
    b.p[0] = 'X';
    expect_reject(b.p, b.len, "not a GGUF file");
    tb_hdr(&b, 1, 0, 0);
    expect_reject(b.p, b.len, "version 1 is not supported");
    tb_hdr(&b, 4, 0, 0);
    expect_reject(b.p, b.len, "unsupported GGUF version 4");
    tb_hdr(&b, 3u << 24, 0, 0);
    expect_reject(b.p, b.len, "big-endian");
    tb_hdr(&b, 0, 0, 0);
    expect_reject(b.p, b.len, "version 0");
    expect_reject(b.p, 0, "truncated");
    expect_reject("GGU", 3, "truncated");
}

static void test_huge_counts(void **state) {
    tb b;
    tb_hdr(&b, 3, 0, UINT64_MAX);
    expect_reject(b.p, b.len, "key/value count 18446744073709551615");
    tb_hdr(&b, 3, UINT64_MAX / 2, 0);
    expect_reject(b.p, b.len, "tensor count");
    tb_hdr(&b, 3, 0, 1000);
    tb_kv_u32(&b, "a", 1);
    expect_reject(b.p, b.len, "key/value count 1000");
    /* Each count fits alone but not both together. */
    tb_hdr(&b, 3, 1, 3);
    tb_zeros(&b, 3 * 14 + 20);
    expect_reject(b.p, b.len, "cannot fit");
    /* Plausible counts, but the entries are simply not there. */
    tb_hdr(&b, 3, 0, 4);
    tb_kv_u32(&b, "a", 1);
    tb_kv_u32(&b, "b", 1);
    tb_kv_u32(&b, "c", 1);
    tb_u64(&b, 5);
    tb_raw(&b, "ab", 2);
    expect_reject(b.p, b.len, "key length 5 runs past the end of the file (2 bytes remain) "
                              "at offset 75");
}

static void test_bad_strings(void **state) {
    tb b;
    tb_hdr(&b, 3, 0, 1);
    tb_u64(&b, 1000); /* key length past EOF */
    tb_raw(&b, "abcdefghijklmnopqrstuvwxyz", 26);
    expect_reject(b.p, b.len, "key length 1000 runs past the end");
    tb_hdr(&b, 3, 0, 1);
    tb_u64(&b, UINT64_MAX);
    tb_zeros(&b, 20);
    expect_reject(b.p, b.len, "runs past the end");
    tb_hdr(&b, 3, 0, 1);
    tb_str(&b, "k");
    tb_u32(&b, GGUF_TYPE_STRING);
    tb_u64(&b, 50); /* value length past EOF */
    tb_zeros(&b, 10);
    expect_reject(b.p, b.len, "key 'k': string value length 50 runs past");
    tb_hdr(&b, 3, 0, 1);
    tb_str(&b, ""); /* empty key */
    tb_u32(&b, GGUF_TYPE_UINT8);
    tb_u8(&b, 0);
    tb_zeros(&b, 2);
    expect_reject(b.p, b.len, "empty key at offset 24");
    tb_hdr(&b, 3, 0, 1);
    tb_u64(&b, 3);
    tb_raw(&b, "a\0b", 3); /* key with a NUL */
    tb_u32(&b, GGUF_TYPE_UINT8);
    tb_u8(&b, 0);
    expect_reject(b.p, b.len, "contains a NUL byte");
    /* A key over 64 KiB: needs a bigger buffer than tb. */
    size_t n = 24 + 8 + 70000 + 5;
    uint8_t *big = calloc(1, n);
    memcpy(big, b.p, 24);
    uint64_t kl = 70000;
    for (int i = 0; i < 8; i++) big[24 + i] = (uint8_t)(kl >> (8 * i));
    memset(big + 32, 'k', 70000);
    expect_reject(big, n, "key length 70000 exceeds the limit");
    free(big);
}

static void test_bad_values(void **state) {
    tb b;
    tb_hdr(&b, 3, 0, 1);
    tb_str(&b, "weird");
    tb_u32(&b, 13); /* unknown value type */
    tb_zeros(&b, 8);
    expect_reject(b.p, b.len, "key 'weird': unknown value type 13 at offset 37");
    tb_hdr(&b, 3, 0, 1);
    tb_str(&b, "flag");
    tb_u32(&b, GGUF_TYPE_BOOL);
    tb_u8(&b, 2);
    tb_zeros(&b, 1);
    expect_reject(b.p, b.len, "bool value 2");
    /* Nested array. */
    tb_hdr(&b, 3, 0, 1);
    tb_str(&b, "nest");
    tb_u32(&b, GGUF_TYPE_ARRAY);
    tb_u32(&b, GGUF_TYPE_ARRAY);
    tb_u64(&b, 1);
    tb_u32(&b, GGUF_TYPE_UINT8);
    tb_u64(&b, 1);
    tb_u8(&b, 0);
    expect_reject(b.p, b.len, "key 'nest': nested arrays are not supported");
    /* Unknown array element type. */
    tb_hdr(&b, 3, 0, 1);
    tb_str(&b, "arr");
    tb_u32(&b, GGUF_TYPE_ARRAY);
    tb_u32(&b, 99);
    tb_u64(&b, 0);
    expect_reject(b.p, b.len, "unknown array element type 99");
    /* Array count whose byte size overflows 64 bits (count * 8 wraps to 8). */
    tb_hdr(&b, 3, 0, 1);
    tb_str(&b, "arr");
    tb_u32(&b, GGUF_TYPE_ARRAY);
    tb_u32(&b, GGUF_TYPE_UINT64);
    tb_u64(&b, (1ull << 61) + 1);
    tb_zeros(&b, 16);
    expect_reject(b.p, b.len, "array of 2305843009213693953 uint64 elements runs past");
    tb_hdr(&b, 3, 0, 1);
    tb_str(&b, "arr");
    tb_u32(&b, GGUF_TYPE_ARRAY);
    tb_u32(&b, GGUF_TYPE_FLOAT32);
    tb_u64(&b, 5); /* 20 bytes, 16 present */
    tb_zeros(&b, 16);
    expect_reject(b.p, b.len, "array of 5 float32 elements runs past");
    /* String arrays: a huge count, and a count that the strings do not back up. */
    tb_hdr(&b, 3, 0, 1);
    tb_str(&b, "toks");
    tb_u32(&b, GGUF_TYPE_ARRAY);
    tb_u32(&b, GGUF_TYPE_STRING);
    tb_u64(&b, UINT64_MAX / 8);
    tb_zeros(&b, 64);
    expect_reject(b.p, b.len, "strings runs past the end");
    tb_hdr(&b, 3, 0, 1);
    tb_str(&b, "toks");
    tb_u32(&b, GGUF_TYPE_ARRAY);
    tb_u32(&b, GGUF_TYPE_STRING);
    tb_u64(&b, 3);
    tb_str(&b, "a");
    tb_str(&b, "b");
    tb_u64(&b, 9);
    tb_raw(&b, "c", 1);
    expect_reject(b.p, b.len, "key 'toks': string element 2 of 3 runs past");
    /* Bool arrays hold only 0 and 1. */
    tb_hdr(&b, 3, 0, 1);
    tb_str(&b, "bools");
    tb_u32(&b, GGUF_TYPE_ARRAY);
    tb_u32(&b, GGUF_TYPE_BOOL);
    tb_u64(&b, 3);
    tb_u8(&b, 1);
    tb_u8(&b, 0);
    tb_u8(&b, 7);
    expect_reject(b.p, b.len, "bool element 2 has value 7");
}

static void test_duplicate_key(void **state) {
    tb b;
    tb_hdr(&b, 3, 0, 3);
    tb_kv_u32(&b, "x", 1);
    tb_kv_u32(&b, "dup.key", 1);
    tb_kv_u32(&b, "dup.key", 2);
    expect_reject(b.p, b.len, "duplicate key 'dup.key' (first at offset 41) at offset 64");
}

static void test_bad_alignment(void **state) {
    static const uint32_t bad[] = {0, 3, 48, GGUF_MAX_ALIGNMENT * 2};
    tb b;
    for (size_t i = 0; i < FN_ARRAY_LEN(bad); i++) {
        tb_hdr(&b, 3, 0, 1);
        tb_kv_u32(&b, "general.alignment", bad[i]);
        expect_reject(b.p, b.len, "general.alignment");
    }
    tb_hdr(&b, 3, 0, 1);
    tb_str(&b, "general.alignment");
    tb_u32(&b, GGUF_TYPE_UINT64);
    tb_u64(&b, 32);
    expect_reject(b.p, b.len, "general.alignment must be a uint32, not uint64 at offset 24");
    tb_hdr(&b, 3, 0, 1);
    tb_str(&b, "general.alignment");
    tb_u32(&b, GGUF_TYPE_STRING);
    tb_str(&b, "32");
    expect_reject(b.p, b.len, "not string");
    tb_hdr(&b, 3, 0, 1);
    tb_kv_u32(&b, "general.alignment", 16);
    gguf_file *f = open_ok(b.p, b.len);
    assert_int_equal(gguf_alignment(f), 16);
    gguf_close(f);
}

/* A file with tensors a and b (f32, 8 elements each) and the given offsets; the data
 * section holds `data_bytes` bytes. */
static void build_two_tensors(tb *b, uint64_t off_a, uint64_t off_b, size_t data_bytes) {
    uint64_t ne[1] = {8};
    tb_hdr(b, 3, 2, 0);
    tb_tensor(b, "a", 1, ne, FN_F32, off_a);
    tb_tensor(b, "b", 1, ne, FN_F32, off_b);
    tb_align(b, 32);
    tb_zeros(b, data_bytes);
}

static void test_bad_tensors(void **state) {
    tb b;
    uint64_t ne[5] = {32, 2, 1, 1, 1};
    build_two_tensors(&b, 0, 32, 64);
    gguf_file *f = open_ok(b.p, b.len);
    assert_int_equal(gguf_data_offset(f), 96);
    assert_int_equal(gguf_tensor_at(f, 1)->info_offset, 24 + 33);
    gguf_close(f);

    tb_hdr(&b, 3, 1, 0);
    tb_tensor(&b, "t", 2, ne, 5, 0); /* type 5 was removed from ggml */
    tb_zeros(&b, 256);
    expect_reject(b.p, b.len, "tensor 't': unknown tensor type 5");
    tb_hdr(&b, 3, 1, 0);
    tb_tensor(&b, "t", 2, ne, 1000, 0);
    tb_zeros(&b, 256);
    expect_reject(b.p, b.len, "unknown tensor type 1000");
    tb_hdr(&b, 3, 1, 0);
    tb_tensor(&b, "t", 0, ne, FN_F32, 0);
    tb_zeros(&b, 256);
    expect_reject(b.p, b.len, "tensor 't': n_dims 0 is not in 1..4");
    tb_hdr(&b, 3, 1, 0);
    tb_tensor(&b, "t", 5, ne, FN_F32, 0);
    tb_zeros(&b, 256);
    expect_reject(b.p, b.len, "n_dims 5 is not in 1..4");
    uint64_t zero[2] = {32, 0};
    tb_hdr(&b, 3, 1, 0);
    tb_tensor(&b, "t", 2, zero, FN_F32, 0);
    tb_zeros(&b, 256);
    expect_reject(b.p, b.len, "tensor 't': dimension 1 is zero");
    uint64_t over[3] = {1ull << 32, 1ull << 20, 1ull << 20};
    tb_hdr(&b, 3, 1, 0);
    tb_tensor(&b, "t", 3, over, FN_F32, 0);
    tb_zeros(&b, 256);
    expect_reject(b.p, b.len, "element count overflows");
    uint64_t neg[1] = {UINT64_MAX};
    tb_hdr(&b, 3, 1, 0);
    tb_tensor(&b, "t", 1, neg, FN_I8, 0);
    tb_zeros(&b, 256);
    expect_reject(b.p, b.len, "element count overflows");
    /* 2^62 f64 elements: fits in int64, but 2^65 bytes do not. */
    uint64_t wide[1] = {1ull << 62};
    tb_hdr(&b, 3, 1, 0);
    tb_tensor(&b, "t", 1, wide, FN_F64, 0);
    tb_zeros(&b, 256);
    expect_reject(b.p, b.len, "byte size overflows");
    uint64_t odd[2] = {16, 4};
    tb_hdr(&b, 3, 1, 0);
    tb_tensor(&b, "q", 2, odd, FN_Q8_0, 0);
    tb_zeros(&b, 256);
    expect_reject(b.p, b.len, "tensor 'q': ne[0] = 16 is not a multiple of the q8_0 block size");
    tb_hdr(&b, 3, 1, 0);
    tb_str(&b, "");
    tb_zeros(&b, 64);
    expect_reject(b.p, b.len, "empty tensor name");

    build_two_tensors(&b, 0, 16, 64);
    expect_reject(b.p, b.len, "tensor 'b': data offset 16 is not a multiple of the alignment 32 "
                              "at offset 82");
    build_two_tensors(&b, 0, 32, 63);
    expect_reject(b.p, b.len, "tensor 'b': 32 bytes of data at data offset 32 (file offset 128) "
                              "run past the end of the file");
    build_two_tensors(&b, 0, UINT64_MAX - 31, 64);
    expect_reject(b.p, b.len, "run past the end of the file");
    /* Overlaps: b inside a (a is 64 bytes here), and two at the same offset. */
    uint64_t ne64[1] = {16}, ne8[1] = {8};
    tb_hdr(&b, 3, 2, 0);
    tb_tensor(&b, "a", 1, ne64, FN_F32, 0);
    tb_tensor(&b, "b", 1, ne8, FN_F32, 32);
    tb_align(&b, 32);
    tb_zeros(&b, 64);
    expect_reject(b.p, b.len, "tensor 'b' data overlaps tensor 'a'");
    build_two_tensors(&b, 32, 32, 64);
    expect_reject(b.p, b.len, "overlaps");
    /* Duplicate names. */
    tb_hdr(&b, 3, 2, 0);
    tb_tensor(&b, "same", 1, ne8, FN_F32, 0);
    tb_tensor(&b, "same", 1, ne8, FN_F32, 32);
    tb_align(&b, 32);
    tb_zeros(&b, 64);
    expect_reject(b.p, b.len, "duplicate tensor name 'same' (first at offset 24) at offset 60");
    /* general.alignment moves the data section and changes which offsets are valid. */
    tb_hdr(&b, 3, 1, 1);
    tb_kv_u32(&b, "general.alignment", 64);
    tb_tensor(&b, "t", 1, ne8, FN_F32, 32);
    tb_align(&b, 64);
    tb_zeros(&b, 64);
    expect_reject(b.p, b.len, "not a multiple of the alignment 64");
}

/* Names with bytes that are not printable are escaped in messages and do not break them. */
static void test_message_escapes_names(void **state) {
    tb b;
    tb_hdr(&b, 3, 0, 1);
    tb_str(&b, "bad\n\x01'key");
    tb_u32(&b, 77);
    expect_reject(b.p, b.len, "key 'bad\\x0a\\x01\\x27key': unknown value type 77");
}

static void test_open_errors(void **state) {
    fn_error_clear();
    assert_null(gguf_open("/nonexistent/dir/model.gguf"));
    assert_non_null(strstr(fn_errmsg(), "/nonexistent/dir/model.gguf: cannot open"));
    fixture *fx = *state;
    assert_null(gguf_open(fx->dir));
    assert_non_null(strstr(fn_errmsg(), "not a regular file"));
    char path[512];
    path_in(fx, path, sizeof path, "empty.gguf");
    FILE *fp = fopen(path, "wb");
    fclose(fp);
    assert_null(gguf_open(path));
    assert_non_null(strstr(fn_errmsg(), "empty.gguf: file truncated"));
    assert_non_null(strstr(fn_errmsg(), "at offset 0"));
    unlink(path);
}

/* ---- writer failures ----------------------------------------------------------------------- */

static int fill_fails(void *ctx, void *dst, uint64_t n) {
    return fn_error("generator broke");
}

static void test_writer_failures_leave_nothing(void **state) {
    fixture *fx = *state;
    char sub[512], path[600];
    path_in(fx, sub, sizeof sub, "wdir");
    assert_int_equal(mkdir(sub, 0700), 0);
    snprintf(path, sizeof path, "%s/out.gguf", sub);

    gguf_writer *w = gguf_writer_new();
    static float data[8];
    int64_t ne[1] = {8};
    assert_int_equal(gguf_writer_set_str(w, "general.architecture", "x"), 0);
    assert_int_equal(gguf_writer_add_tensor(w, "ok", FN_F32, 1, ne, data, NULL, NULL), 0);
    assert_int_equal(gguf_writer_add_tensor(w, "bad", FN_F32, 1, ne, NULL, fill_fails, NULL),
                     0);
    fn_error_clear();
    assert_int_equal(gguf_writer_write(w, path), -1);
    assert_non_null(strstr(fn_errmsg(), "tensor 'bad'"));
    assert_non_null(strstr(fn_errmsg(), "generator broke"));
    assert_int_equal(count_dir_entries(sub), 0); /* no file, no temp file */
    gguf_writer_free(w);
    rmdir(sub);

    w = gguf_writer_new();
    assert_int_equal(gguf_writer_set_u32(w, "a", 1), 0);
    assert_int_equal(gguf_writer_write(w, "/nonexistent-dir/x/out.gguf"), -1);
    assert_non_null(strstr(fn_errmsg(), "/nonexistent-dir/x/out.gguf"));
    assert_int_equal(access("/nonexistent-dir/x/out.gguf", F_OK), -1);
    gguf_writer_free(w);
}

static void test_writer_rejects_bad_arguments(void **state) {
    gguf_writer *w = gguf_writer_new();
    static float data[64];
    int64_t ne[2] = {8, 2};
    assert_int_equal(gguf_writer_add_tensor(w, "t", FN_F32, 2, ne, data, NULL, NULL), 0);
    assert_int_equal(gguf_writer_add_tensor(w, "t", FN_F32, 2, ne, data, NULL, NULL), -1);
    assert_non_null(strstr(fn_errmsg(), "duplicate tensor name 't'"));
    assert_int_equal(gguf_writer_add_tensor(w, "u", 5, 2, ne, data, NULL, NULL), -1);
    assert_non_null(strstr(fn_errmsg(), "unknown tensor type 5"));
    assert_int_equal(gguf_writer_add_tensor(w, "u", FN_Q8_0, 2, ne, data, NULL, NULL), -1);
    assert_non_null(strstr(fn_errmsg(), "not a multiple"));
    assert_int_equal(gguf_writer_add_tensor(w, "u", FN_F32, 2, ne, data, fill_pattern, NULL),
                     -1);
    assert_int_equal(gguf_writer_add_tensor(w, "u", FN_F32, 2, ne, NULL, NULL, NULL), -1);
    assert_int_equal(gguf_writer_add_tensor(w, "u", FN_F32, 0, ne, data, NULL, NULL), -1);
    assert_int_equal(gguf_writer_add_tensor(w, "u", FN_F32, 5, ne, data, NULL, NULL), -1);
    assert_int_equal(gguf_writer_add_tensor(w, "", FN_F32, 2, ne, data, NULL, NULL), -1);
    int64_t zero[2] = {8, 0};
    assert_int_equal(gguf_writer_add_tensor(w, "u", FN_F32, 2, zero, data, NULL, NULL), -1);
    int64_t huge[2] = {INT64_MAX, 2};
    assert_int_equal(gguf_writer_add_tensor(w, "u", FN_F32, 2, huge, data, NULL, NULL), -1);
    assert_int_equal(gguf_writer_set_alignment(w, 0), -1);
    assert_int_equal(gguf_writer_set_alignment(w, 3), -1);
    assert_int_equal(gguf_writer_set_alignment(w, GGUF_MAX_ALIGNMENT * 2), -1);
    assert_int_equal(gguf_writer_set_u64(w, "general.alignment", 64), -1);
    assert_int_equal(gguf_writer_set_u32(w, "", 1), -1);
    assert_int_equal(gguf_writer_set_arr(w, "a", GGUF_TYPE_STRING, data, 1), -1);
    assert_int_equal(gguf_writer_set_arr(w, "a", GGUF_TYPE_ARRAY, data, 1), -1);
    static const uint8_t two[1] = {2};
    assert_int_equal(gguf_writer_set_arr(w, "a", GGUF_TYPE_BOOL, two, 1), -1);
    const char *strs[2] = {"a", NULL};
    assert_int_equal(gguf_writer_set_arr_str(w, "a", strs, 2), -1);
    assert_int_equal(gguf_writer_set_str(w, "a", NULL), -1);
    gguf_writer_free(w);
}

/* ---- fuzz seeds ---------------------------------------------------------------------------- */

/* Copies a kv with arrays cut to at most `max` elements (small seeds from big vocabs). */
static void copy_kv_cut(gguf_writer *w, const gguf_kv *kv, uint64_t max) {
    if (kv->type != GGUF_TYPE_ARRAY || kv->arr_len <= max) {
        assert_int_equal(gguf_writer_copy_kv(w, kv), 0);
        return;
    }
    if (kv->arr_type != GGUF_TYPE_STRING) {
        assert_int_equal(gguf_writer_set_arr(w, kv->key, kv->arr_type, kv->arr_data, max), 0);
        return;
    }
    char **s = calloc(max, sizeof *s);
    for (uint64_t i = 0; i < max; i++) {
        s[i] = strndup(kv->arr_strs[i].ptr, kv->arr_strs[i].len);
        assert_non_null(s[i]);
    }
    assert_int_equal(gguf_writer_set_arr_str(w, kv->key, (const char *const *)s, max), 0);
    for (uint64_t i = 0; i < max; i++) free(s[i]);
    free(s);
}

/* Writes small valid files (a seed corpus for tests/fuzz/fuzz_gguf.c) and checks they
 * open. With FENNEC_FUZZ_SEEDS=DIR they are written there; otherwise into the scratch dir. */
static void test_write_fuzz_seeds(void **state) {
    fixture *fx = *state;
    const char *dir = getenv("FENNEC_FUZZ_SEEDS");
    if (!dir || !*dir) dir = fx->dir;
    char path[1024];
    snprintf(path, sizeof path, "%s/seed-values.gguf", dir);
    write_sample(path, 0, false);
    snprintf(path, sizeof path, "%s/seed-tensors-a8.gguf", dir);
    write_sample(path, 8, true);
    snprintf(path, sizeof path, "%s/seed-tensors-a64.gguf", dir);
    write_sample(path, 64, true);
    if (shared_dir()) {
        static const char *const vocabs[] = {"qwen2", "llama-spm", "llama-bpe", "gpt-2"};
        for (size_t i = 0; i < FN_ARRAY_LEN(vocabs); i++) {
            char name[128];
            snprintf(name, sizeof name, "ggml-vocab-%s.gguf", vocabs[i]);
            gguf_file *src = open_vocab(name);
            gguf_writer *w = gguf_writer_new();
            for (size_t k = 0; k < gguf_n_kv(src); k++)
                if (strcmp(gguf_kv_at(src, k)->key, "tokenizer.chat_template"))
                    copy_kv_cut(w, gguf_kv_at(src, k), 24);
            snprintf(path, sizeof path, "%s/seed-vocab-%s.gguf", dir, vocabs[i]);
            assert_int_equal(gguf_writer_write(w, path), 0);
            gguf_writer_free(w);
            gguf_close(src);
            gguf_file *f = gguf_open(path);
            if (!f) fail_msg("%s", fn_errmsg());
            gguf_close(f);
        }
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roundtrip_values),
        cmocka_unit_test(test_getter_conversions),
        cmocka_unit_test(test_set_twice_keeps_position),
        cmocka_unit_test(test_tensors_alignments),
        cmocka_unit_test(test_version2_accepted),
        cmocka_unit_test(test_many_tensors_lookup),
        cmocka_unit_test(test_vocab_qwen2),
        cmocka_unit_test(test_vocab_all),
        cmocka_unit_test(test_copy_kv_all_types),
        cmocka_unit_test(test_copy_kv_vocab),
        cmocka_unit_test(test_vocab_truncated),
        cmocka_unit_test(test_truncated_every_length),
        cmocka_unit_test(test_bad_header),
        cmocka_unit_test(test_huge_counts),
        cmocka_unit_test(test_bad_strings),
        cmocka_unit_test(test_bad_values),
        cmocka_unit_test(test_duplicate_key),
        cmocka_unit_test(test_bad_alignment),
        cmocka_unit_test(test_bad_tensors),
        cmocka_unit_test(test_message_escapes_names),
        cmocka_unit_test(test_open_errors),
        cmocka_unit_test(test_writer_failures_leave_nothing),
        cmocka_unit_test(test_writer_rejects_bad_arguments),
        cmocka_unit_test(test_write_fuzz_seeds),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
