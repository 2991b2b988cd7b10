/* gguf_types.c - GGUF value types: names and sizes, typed getters with range-checked
 * conversion, and array element decoding (see gguf.h). */
#include "gguf/gguf_internal.h"

#include "base/error.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static const struct {
    const char *name;
    size_t size;
} type_table[GGUF_TYPE_COUNT] = {
    [GGUF_TYPE_UINT8] = {"uint8", 1},     [GGUF_TYPE_INT8] = {"int8", 1},
    [GGUF_TYPE_UINT16] = {"uint16", 2},   [GGUF_TYPE_INT16] = {"int16", 2},
    [GGUF_TYPE_UINT32] = {"uint32", 4},   [GGUF_TYPE_INT32] = {"int32", 4},
    [GGUF_TYPE_FLOAT32] = {"float32", 4}, [GGUF_TYPE_BOOL] = {"bool", 1},
    [GGUF_TYPE_STRING] = {"string", 0},   [GGUF_TYPE_ARRAY] = {"array", 0},
    [GGUF_TYPE_UINT64] = {"uint64", 8},   [GGUF_TYPE_INT64] = {"int64", 8},
    [GGUF_TYPE_FLOAT64] = {"float64", 8},
};

const char *gguf_type_name(gguf_type t) {
    return (unsigned)t < GGUF_TYPE_COUNT ? type_table[t].name : "?";
}

size_t gguf_type_size(gguf_type t) {
    return (unsigned)t < GGUF_TYPE_COUNT ? type_table[t].size : 0;
}

static bool is_unsigned(gguf_type t) {
    return t == GGUF_TYPE_UINT8 || t == GGUF_TYPE_UINT16 || t == GGUF_TYPE_UINT32 ||
           t == GGUF_TYPE_UINT64;
}

static bool is_signed(gguf_type t) {
    return t == GGUF_TYPE_INT8 || t == GGUF_TYPE_INT16 || t == GGUF_TYPE_INT32 ||
           t == GGUF_TYPE_INT64;
}

static bool is_float(gguf_type t) { return t == GGUF_TYPE_FLOAT32 || t == GGUF_TYPE_FLOAT64; }

bool gguf_get_u64(const gguf_file *f, const char *key, uint64_t *out) {
    const gguf_kv *kv = gguf_find_kv(f, key);
    if (!kv) return false;
    if (is_unsigned(kv->type)) {
        *out = kv->v.u64;
        return true;
    }
    if (is_signed(kv->type) && kv->v.i64 >= 0) {
        *out = (uint64_t)kv->v.i64;
        return true;
    }
    return false;
}

bool gguf_get_u32(const gguf_file *f, const char *key, uint32_t *out) {
    uint64_t v;
    if (!gguf_get_u64(f, key, &v) || v > UINT32_MAX) return false;
    *out = (uint32_t)v;
    return true;
}

bool gguf_get_i64(const gguf_file *f, const char *key, int64_t *out) {
    const gguf_kv *kv = gguf_find_kv(f, key);
    if (!kv) return false;
    if (is_signed(kv->type)) {
        *out = kv->v.i64;
        return true;
    }
    if (is_unsigned(kv->type) && kv->v.u64 <= INT64_MAX) {
        *out = (int64_t)kv->v.u64;
        return true;
    }
    return false;
}

bool gguf_get_f64(const gguf_file *f, const char *key, double *out) {
    const gguf_kv *kv = gguf_find_kv(f, key);
    if (!kv) return false;
    if (is_float(kv->type)) *out = kv->v.f64;
    else if (is_unsigned(kv->type)) *out = (double)kv->v.u64;
    else if (is_signed(kv->type)) *out = (double)kv->v.i64;
    else return false;
    return true;
}

bool gguf_get_f32(const gguf_file *f, const char *key, float *out) {
    double d;
    if (!gguf_get_f64(f, key, &d)) return false;
    if (isfinite(d) && fabs(d) > FLT_MAX) return false; /* would become infinity */
    *out = (float)d;
    return true;
}

bool gguf_get_bool(const gguf_file *f, const char *key, bool *out) {
    const gguf_kv *kv = gguf_find_kv(f, key);
    if (!kv || kv->type != GGUF_TYPE_BOOL) return false;
    *out = kv->v.u64 != 0;
    return true;
}

bool gguf_get_str(const gguf_file *f, const char *key, gguf_str *out) {
    const gguf_kv *kv = gguf_find_kv(f, key);
    if (!kv || kv->type != GGUF_TYPE_STRING) return false;
    *out = kv->v.str;
    return true;
}

char *gguf_get_strdup(const gguf_file *f, const char *key) {
    gguf_str s;
    if (!gguf_get_str(f, key, &s)) return NULL;
    if (s.len >= SIZE_MAX) return NULL;
    char *r = malloc((size_t)s.len + 1);
    if (!r) {
        fn_error("%s: out of memory copying '%s'", gguf_path(f), key);
        return NULL;
    }
    if (s.len) memcpy(r, s.ptr, (size_t)s.len);
    r[s.len] = 0;
    return r;
}

/* Saturating double -> int64 (NaN -> 0): the cast itself is undefined out of range. */
static int64_t f64_to_i64(double d) {
    if (isnan(d)) return 0;
    if (d >= 9223372036854775808.0) return INT64_MAX;
    if (d < -9223372036854775808.0) return INT64_MIN;
    return (int64_t)d;
}

/* Element i of a numeric array as either an integer or a double; *is_int says which. */
static void arr_elem(const gguf_kv *kv, uint64_t i, int64_t *iv, double *dv, bool *is_int) {
    FN_ASSERT(kv->type == GGUF_TYPE_ARRAY && gguf_type_is_scalar(kv->arr_type));
    FN_ASSERT(i < kv->arr_len);
    const uint8_t *p = kv->arr_data + i * gguf_type_size(kv->arr_type);
    *is_int = true;
    *dv = 0;
    switch (kv->arr_type) {
    case GGUF_TYPE_UINT8: case GGUF_TYPE_BOOL: *iv = p[0]; break;
    case GGUF_TYPE_INT8: *iv = (int8_t)p[0]; break;
    case GGUF_TYPE_UINT16: *iv = gguf_rd16(p); break;
    case GGUF_TYPE_INT16: *iv = (int16_t)gguf_rd16(p); break;
    case GGUF_TYPE_UINT32: *iv = gguf_rd32(p); break;
    case GGUF_TYPE_INT32: *iv = (int32_t)gguf_rd32(p); break;
    case GGUF_TYPE_INT64: *iv = (int64_t)gguf_rd64(p); break;
    case GGUF_TYPE_UINT64: {
        uint64_t u = gguf_rd64(p);
        if (u <= INT64_MAX) {
            *iv = (int64_t)u;
        } else {
            *is_int = false;
            *dv = (double)u;
        }
        break;
    }
    case GGUF_TYPE_FLOAT32: {
        uint32_t bits = gguf_rd32(p);
        float x;
        memcpy(&x, &bits, sizeof x);
        *is_int = false;
        *dv = x;
        break;
    }
    case GGUF_TYPE_FLOAT64: {
        uint64_t bits = gguf_rd64(p);
        memcpy(dv, &bits, sizeof *dv);
        *is_int = false;
        break;
    }
    default: FN_ASSERT(!"unreachable");
    }
}

int64_t gguf_arr_i64(const gguf_kv *kv, uint64_t i) {
    int64_t iv = 0;
    double dv;
    bool is_int;
    arr_elem(kv, i, &iv, &dv, &is_int);
    return is_int ? iv : f64_to_i64(dv);
}

double gguf_arr_f64(const gguf_kv *kv, uint64_t i) {
    int64_t iv = 0;
    double dv;
    bool is_int;
    arr_elem(kv, i, &iv, &dv, &is_int);
    return is_int ? (double)iv : dv;
}
