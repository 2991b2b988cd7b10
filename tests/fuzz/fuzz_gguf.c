/* fuzz_gguf.c - libFuzzer entry point for the GGUF reader: parse arbitrary bytes, then
 * touch everything a caller could reach (kvs, arrays, getters, tensors and their data). */
#include "gguf/gguf.h"

#include "base/error.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Keeps the compiler from dropping reads whose values we do not otherwise use. */
static volatile uint64_t sink;

static void walk_kv(const gguf_file *f, const gguf_kv *kv) {
    FN_ASSERT(kv && kv->key && strlen(kv->key) > 0);
    FN_ASSERT(gguf_find_kv(f, kv->key) == kv);
    uint64_t u;
    uint32_t u32;
    int64_t i;
    double d;
    float fl;
    bool b;
    gguf_str s;
    sink += gguf_get_u64(f, kv->key, &u) + gguf_get_i64(f, kv->key, &i) +
            gguf_get_f64(f, kv->key, &d) + gguf_get_f32(f, kv->key, &fl) +
            gguf_get_u32(f, kv->key, &u32) + gguf_get_bool(f, kv->key, &b);
    if (gguf_get_str(f, kv->key, &s)) {
        if (s.len) sink += (unsigned char)s.ptr[0] + (unsigned char)s.ptr[s.len - 1];
        char *dup = gguf_get_strdup(f, kv->key);
        FN_ASSERT(dup);
        free(dup);
    }
    sink += strlen(gguf_type_name(kv->type)) + gguf_type_size(kv->type);
    if (kv->type != GGUF_TYPE_ARRAY) return;
    FN_ASSERT(kv->arr_type != GGUF_TYPE_ARRAY);
    for (uint64_t k = 0; k < kv->arr_len; k++) {
        if (kv->arr_type == GGUF_TYPE_STRING) {
            const gguf_str *e = &kv->arr_strs[k];
            if (e->len) sink += (unsigned char)e->ptr[0] + (unsigned char)e->ptr[e->len - 1];
        } else {
            sink += (uint64_t)gguf_arr_i64(kv, k);
            d = gguf_arr_f64(kv, k);
            sink += d == d;
        }
    }
}

static void walk_tensor(const gguf_file *f, const gguf_tensor *t) {
    FN_ASSERT(t && t->name && gguf_find_tensor(f, t->name) == t);
    FN_ASSERT(t->n_dims >= 1 && t->n_dims <= GGUF_MAX_DIMS && t->n_bytes > 0);
    FN_ASSERT(t->offset % gguf_alignment(f) == 0);
    const unsigned char *p = t->data;
    sink += p[0] + p[t->n_bytes - 1];
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    gguf_file *f = gguf_open_memory(data, size);
    if (!f) {
        FN_ASSERT(strstr(fn_errmsg(), "offset") != NULL);
        return 0;
    }
    sink += gguf_version(f) + gguf_file_size(f) + gguf_data_offset(f);
    for (size_t i = 0; i < gguf_n_kv(f); i++) walk_kv(f, gguf_kv_at(f, i));
    for (size_t i = 0; i < gguf_n_tensors(f); i++) walk_tensor(f, gguf_tensor_at(f, i));
    FN_ASSERT(gguf_find_kv(f, "") == NULL && gguf_find_tensor(f, "") == NULL);
    gguf_close(f);
    return 0;
}
