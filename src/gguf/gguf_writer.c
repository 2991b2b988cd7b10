/* gguf_writer.c - builds GGUF v3 files: metadata and tensor infos are collected in memory,
 * then header and tensor data are written in one pass through an atomic temp file, with
 * tensor bytes taken from caller pointers or produced one tensor at a time by callbacks. */
#include "gguf/gguf_internal.h"

#include "base/atomic_file.h"
#include "base/dtype.h"
#include "base/error.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

/* A growable byte buffer; `failed` latches an allocation failure so encoders can be
 * chained and checked once. */
typedef struct {
    uint8_t *p;      /* bytes (owned) */
    size_t len;      /* bytes used */
    size_t cap;      /* bytes allocated */
    int failed;      /* an append ran out of memory */
} wbuf;

typedef struct {
    char *key;       /* NUL-terminated (owned) */
    gguf_type type;  /* value type */
    wbuf val;        /* encoded value, as it follows the type id in the file (owned) */
} wkv;

typedef struct {
    char *name;                 /* NUL-terminated (owned) */
    uint32_t type;              /* fn_dtype id */
    uint32_t n_dims;            /* 1..4 */
    int64_t ne[GGUF_MAX_DIMS];  /* elements per dimension, unused = 1 */
    uint64_t n_bytes;           /* data size */
    uint64_t offset;            /* relative to the data section, set by gguf_writer_write */
    const void *data;           /* borrowed bytes, or NULL when fill is used */
    gguf_tensor_fill_fn fill;   /* producer of the bytes, or NULL */
    void *fill_ctx;             /* passed to fill */
} wtensor;

struct gguf_writer {
    wkv *kvs;             /* n_kv pairs in insertion order (owned) */
    size_t n_kv, cap_kv;
    wtensor *tensors;     /* n_tensors infos in insertion order (owned) */
    size_t n_tensors, cap_tensors;
    uint32_t alignment;   /* from general.alignment, else GGUF_DEFAULT_ALIGNMENT */
};

/* ---- encoding -------------------------------------------------------------------------- */

static void buf_put(wbuf *b, const void *p, size_t n) {
    if (b->failed || n == 0) return;
    if (n > b->cap - b->len) {
        size_t nc = b->cap ? b->cap : 64;
        while (nc - b->len < n) {
            if (nc > SIZE_MAX / 2) {
                b->failed = 1;
                return;
            }
            nc *= 2;
        }
        uint8_t *q = realloc(b->p, nc);
        if (!q) {
            b->failed = 1;
            return;
        }
        b->p = q;
        b->cap = nc;
    }
    memcpy(b->p + b->len, p, n);
    b->len += n;
}

static void buf_u32(wbuf *b, uint32_t v) {
    uint8_t t[4];
    gguf_wr32(t, v);
    buf_put(b, t, 4);
}

static void buf_u64(wbuf *b, uint64_t v) {
    uint8_t t[8];
    gguf_wr64(t, v);
    buf_put(b, t, 8);
}

static void buf_str(wbuf *b, const char *s, uint64_t len) {
    buf_u64(b, len);
    buf_put(b, s, (size_t)len);
}

/* Encodes a scalar held as raw bits (the low gguf_type_size(t) bytes of v). */
static void buf_scalar(wbuf *b, gguf_type t, uint64_t v) {
    uint8_t tmp[8];
    gguf_wr64(tmp, v);
    buf_put(b, tmp, gguf_type_size(t));
}

/* ---- metadata -------------------------------------------------------------------------- */

static int check_name(const char *what, const char *name) {
    if (!name || !name[0]) return fn_error("gguf writer: empty %s", what);
    size_t len = strlen(name);
    if (len > GGUF_MAX_NAME_LEN)
        return fn_error("gguf writer: %s of %zu bytes exceeds the limit of %u", what, len,
                        GGUF_MAX_NAME_LEN);
    return 0;
}

/* Stores key = (type, encoded value), taking ownership of val in every case. A key set
 * twice keeps its first position. general.alignment must be a power-of-two uint32. */
static int set_kv(gguf_writer *w, const char *key, gguf_type type, wbuf val) {
    if (val.failed) {
        free(val.p);
        return fn_error("gguf writer: out of memory encoding '%s'", key ? key : "");
    }
    if (check_name("key", key)) {
        free(val.p);
        return -1;
    }
    if (!strcmp(key, "general.alignment")) {
        uint32_t a = type == GGUF_TYPE_UINT32 && val.len == 4 ? gguf_rd32(val.p) : 0;
        if (!gguf_is_pow2(a) || a > GGUF_MAX_ALIGNMENT) {
            free(val.p);
            return fn_error("gguf writer: general.alignment must be a uint32 power of two "
                            "in 1..%u", GGUF_MAX_ALIGNMENT);
        }
        w->alignment = a;
    }
    for (size_t i = 0; i < w->n_kv; i++) {
        if (!strcmp(w->kvs[i].key, key)) {
            free(w->kvs[i].val.p);
            w->kvs[i].type = type;
            w->kvs[i].val = val;
            return 0;
        }
    }
    if (w->n_kv == w->cap_kv) {
        size_t nc = w->cap_kv ? w->cap_kv * 2 : 16;
        wkv *p = realloc(w->kvs, nc * sizeof *p);
        if (!p) {
            free(val.p);
            return fn_error("gguf writer: out of memory adding '%s'", key);
        }
        w->kvs = p;
        w->cap_kv = nc;
    }
    char *k = strdup(key);
    if (!k) {
        free(val.p);
        return fn_error("gguf writer: out of memory adding '%s'", key);
    }
    w->kvs[w->n_kv++] = (wkv){k, type, val};
    return 0;
}

static int set_scalar(gguf_writer *w, const char *key, gguf_type t, uint64_t bits) {
    wbuf b = {0};
    buf_scalar(&b, t, bits);
    return set_kv(w, key, t, b);
}

int gguf_writer_set_u8(gguf_writer *w, const char *key, uint8_t v) {
    return set_scalar(w, key, GGUF_TYPE_UINT8, v);
}
int gguf_writer_set_i8(gguf_writer *w, const char *key, int8_t v) {
    return set_scalar(w, key, GGUF_TYPE_INT8, (uint8_t)v);
}
int gguf_writer_set_u16(gguf_writer *w, const char *key, uint16_t v) {
    return set_scalar(w, key, GGUF_TYPE_UINT16, v);
}
int gguf_writer_set_i16(gguf_writer *w, const char *key, int16_t v) {
    return set_scalar(w, key, GGUF_TYPE_INT16, (uint16_t)v);
}
int gguf_writer_set_u32(gguf_writer *w, const char *key, uint32_t v) {
    return set_scalar(w, key, GGUF_TYPE_UINT32, v);
}
int gguf_writer_set_i32(gguf_writer *w, const char *key, int32_t v) {
    return set_scalar(w, key, GGUF_TYPE_INT32, (uint32_t)v);
}
int gguf_writer_set_u64(gguf_writer *w, const char *key, uint64_t v) {
    return set_scalar(w, key, GGUF_TYPE_UINT64, v);
}
int gguf_writer_set_i64(gguf_writer *w, const char *key, int64_t v) {
    return set_scalar(w, key, GGUF_TYPE_INT64, (uint64_t)v);
}
int gguf_writer_set_f32(gguf_writer *w, const char *key, float v) {
    uint32_t bits;
    memcpy(&bits, &v, sizeof bits);
    return set_scalar(w, key, GGUF_TYPE_FLOAT32, bits);
}
int gguf_writer_set_f64(gguf_writer *w, const char *key, double v) {
    uint64_t bits;
    memcpy(&bits, &v, sizeof bits);
    return set_scalar(w, key, GGUF_TYPE_FLOAT64, bits);
}
int gguf_writer_set_bool(gguf_writer *w, const char *key, bool v) {
    return set_scalar(w, key, GGUF_TYPE_BOOL, v ? 1 : 0);
}

int gguf_writer_set_strn(gguf_writer *w, const char *key, const char *v, uint64_t len) {
    if (!v && len) return fn_error("gguf writer: '%s': NULL string", key ? key : "");
    if (len > SIZE_MAX) return fn_error("gguf writer: '%s': string too long", key ? key : "");
    wbuf b = {0};
    buf_str(&b, v, len);
    return set_kv(w, key, GGUF_TYPE_STRING, b);
}

int gguf_writer_set_str(gguf_writer *w, const char *key, const char *v) {
    if (!v) return fn_error("gguf writer: '%s': NULL string", key ? key : "");
    return gguf_writer_set_strn(w, key, v, strlen(v));
}

int gguf_writer_set_arr(gguf_writer *w, const char *key, gguf_type elem_type,
                        const void *data, uint64_t n) {
    const char *k = key ? key : "";
    if (!gguf_type_is_scalar(elem_type))
        return fn_error("gguf writer: '%s': array elements cannot be of type %s", k,
                        gguf_type_name(elem_type));
    size_t es = gguf_type_size(elem_type);
    if (n > SIZE_MAX / es) return fn_error("gguf writer: '%s': array too large", k);
    if (!data && n) return fn_error("gguf writer: '%s': NULL array data", k);
    if (elem_type == GGUF_TYPE_BOOL)
        for (uint64_t i = 0; i < n; i++)
            if (((const uint8_t *)data)[i] > 1)
                return fn_error("gguf writer: '%s': bool element %" PRIu64 " is not 0 or 1",
                                k, i);
    wbuf b = {0};
    buf_u32(&b, elem_type);
    buf_u64(&b, n);
    buf_put(&b, data, (size_t)n * es);
    return set_kv(w, key, GGUF_TYPE_ARRAY, b);
}

int gguf_writer_set_arr_str(gguf_writer *w, const char *key, const char *const *strs,
                            uint64_t n) {
    if (!strs && n) return fn_error("gguf writer: '%s': NULL string array", key ? key : "");
    wbuf b = {0};
    buf_u32(&b, GGUF_TYPE_STRING);
    buf_u64(&b, n);
    for (uint64_t i = 0; i < n; i++) {
        if (!strs[i]) {
            free(b.p);
            return fn_error("gguf writer: '%s': string %" PRIu64 " is NULL", key ? key : "",
                            i);
        }
        buf_str(&b, strs[i], strlen(strs[i]));
    }
    return set_kv(w, key, GGUF_TYPE_ARRAY, b);
}

int gguf_writer_copy_kv(gguf_writer *w, const gguf_kv *kv) {
    wbuf b = {0};
    switch (kv->type) {
    case GGUF_TYPE_STRING: buf_str(&b, kv->v.str.ptr, kv->v.str.len); break;
    case GGUF_TYPE_ARRAY:
        buf_u32(&b, kv->arr_type);
        buf_u64(&b, kv->arr_len);
        if (kv->arr_type == GGUF_TYPE_STRING) {
            for (uint64_t i = 0; i < kv->arr_len; i++)
                buf_str(&b, kv->arr_strs[i].ptr, kv->arr_strs[i].len);
        } else {
            /* The reader proved these bytes exist; they are already little-endian. */
            buf_put(&b, kv->arr_data, (size_t)(kv->arr_len * gguf_type_size(kv->arr_type)));
        }
        break;
    case GGUF_TYPE_FLOAT32: {
        float x = (float)kv->v.f64;
        uint32_t bits;
        memcpy(&bits, &x, sizeof bits);
        buf_scalar(&b, kv->type, bits);
        break;
    }
    case GGUF_TYPE_FLOAT64: {
        uint64_t bits;
        memcpy(&bits, &kv->v.f64, sizeof bits);
        buf_scalar(&b, kv->type, bits);
        break;
    }
    default:
        if (!gguf_type_is_scalar(kv->type))
            return fn_error("gguf writer: '%s': bad value type %d", kv->key, (int)kv->type);
        /* u64 and i64 share the union's bits; the low bytes are the value either way. */
        buf_scalar(&b, kv->type, kv->v.u64);
    }
    return set_kv(w, kv->key, kv->type, b);
}

int gguf_writer_set_alignment(gguf_writer *w, uint32_t alignment) {
    return gguf_writer_set_u32(w, "general.alignment", alignment);
}

/* ---- tensors ---------------------------------------------------------------------------- */

int gguf_writer_add_tensor(gguf_writer *w, const char *name, uint32_t type,
                           uint32_t n_dims, const int64_t *ne, const void *data,
                           gguf_tensor_fill_fn fill, void *fill_ctx) {
    if (check_name("tensor name", name)) return -1;
    if (!data == !fill)
        return fn_error("gguf writer: tensor '%s': give exactly one of data and fill", name);
    const fn_dtype_info *ti = fn_dtype_get(type);
    if (!ti) return fn_error("gguf writer: tensor '%s': unknown tensor type %u", name, type);
    if (n_dims < 1 || n_dims > GGUF_MAX_DIMS || !ne)
        return fn_error("gguf writer: tensor '%s': n_dims %u is not in 1..%d", name, n_dims,
                        GGUF_MAX_DIMS);
    wtensor t = {.type = type, .n_dims = n_dims, .data = data, .fill = fill,
                 .fill_ctx = fill_ctx};
    int64_t n = 1;
    for (uint32_t d = 0; d < GGUF_MAX_DIMS; d++) {
        t.ne[d] = d < n_dims ? ne[d] : 1;
        if (t.ne[d] <= 0)
            return fn_error("gguf writer: tensor '%s': dimension %u is %" PRId64, name, d,
                            t.ne[d]);
        if (t.ne[d] > INT64_MAX / n)
            return fn_error("gguf writer: tensor '%s': element count overflows", name);
        n *= t.ne[d];
    }
    if (t.ne[0] % ti->block_size)
        return fn_error("gguf writer: tensor '%s': ne[0] = %" PRId64 " is not a multiple of "
                        "the %s block size %u", name, t.ne[0], ti->name, ti->block_size);
    int64_t row = fn_dtype_row_bytes(type, t.ne[0]);
    uint64_t rows = (uint64_t)(n / t.ne[0]);
    if (row <= 0 || rows > (uint64_t)INT64_MAX / (uint64_t)row)
        return fn_error("gguf writer: tensor '%s': byte size overflows", name);
    t.n_bytes = (uint64_t)row * rows;
    for (size_t i = 0; i < w->n_tensors; i++)
        if (!strcmp(w->tensors[i].name, name))
            return fn_error("gguf writer: duplicate tensor name '%s'", name);
    if (w->n_tensors == w->cap_tensors) {
        size_t nc = w->cap_tensors ? w->cap_tensors * 2 : 64;
        wtensor *p = realloc(w->tensors, nc * sizeof *p);
        if (!p) return fn_error("gguf writer: out of memory adding tensor '%s'", name);
        w->tensors = p;
        w->cap_tensors = nc;
    }
    if (!(t.name = strdup(name)))
        return fn_error("gguf writer: out of memory adding tensor '%s'", name);
    w->tensors[w->n_tensors++] = t;
    return 0;
}

/* ---- output ------------------------------------------------------------------------------ */

gguf_writer *gguf_writer_new(void) {
    gguf_writer *w = calloc(1, sizeof *w);
    if (!w) {
        fn_error("gguf writer: out of memory");
        return NULL;
    }
    w->alignment = GGUF_DEFAULT_ALIGNMENT;
    return w;
}

void gguf_writer_free(gguf_writer *w) {
    if (!w) return;
    for (size_t i = 0; i < w->n_kv; i++) {
        free(w->kvs[i].key);
        free(w->kvs[i].val.p);
    }
    for (size_t i = 0; i < w->n_tensors; i++) free(w->tensors[i].name);
    free(w->kvs);
    free(w->tensors);
    free(w);
}

static uint64_t pad_to(uint64_t n, uint64_t a) { return (a - n % a) % a; }

/* Lays the tensors out back to back in insertion order, each on an aligned offset, and
 * encodes the header (everything before the data section) into hdr. */
static int build_header(gguf_writer *w, const char *path, wbuf *hdr) {
    uint64_t off = 0;
    for (size_t i = 0; i < w->n_tensors; i++) {
        wtensor *t = &w->tensors[i];
        uint64_t pad = pad_to(off, w->alignment);
        if (pad > UINT64_MAX - off || t->n_bytes > UINT64_MAX - off - pad)
            return fn_error("%s: tensor '%s': data section size overflows", path, t->name);
        t->offset = off + pad;
        off = t->offset + t->n_bytes;
    }
    buf_u32(hdr, GGUF_MAGIC);
    buf_u32(hdr, 3);
    buf_u64(hdr, w->n_tensors);
    buf_u64(hdr, w->n_kv);
    for (size_t i = 0; i < w->n_kv; i++) {
        const wkv *kv = &w->kvs[i];
        buf_str(hdr, kv->key, strlen(kv->key));
        buf_u32(hdr, kv->type);
        buf_put(hdr, kv->val.p, kv->val.len);
    }
    for (size_t i = 0; i < w->n_tensors; i++) {
        const wtensor *t = &w->tensors[i];
        buf_str(hdr, t->name, strlen(t->name));
        buf_u32(hdr, t->n_dims);
        for (uint32_t d = 0; d < t->n_dims; d++) buf_u64(hdr, (uint64_t)t->ne[d]);
        buf_u32(hdr, t->type);
        buf_u64(hdr, t->offset);
    }
    if (hdr->failed) return fn_error("%s: out of memory building the header", path);
    return 0;
}

/* Writes one tensor's bytes; fill output goes through *scratch, grown as needed. */
static int write_tensor(atomic_file *af, const wtensor *t, const char *path, uint8_t **scratch,
                        size_t *scratch_len) {
    if (t->n_bytes > SIZE_MAX) return fn_error("%s: tensor '%s' too large", path, t->name);
    size_t n = (size_t)t->n_bytes;
    if (t->data) return atomic_file_write(af, t->data, n);
    if (n > *scratch_len) {
        uint8_t *p = realloc(*scratch, n);
        if (!p)
            return fn_error("%s: out of memory (%zu bytes) for tensor '%s'", path, n, t->name);
        *scratch = p;
        *scratch_len = n;
    }
    if (t->fill(t->fill_ctx, *scratch, t->n_bytes) != 0)
        return fn_error_prefix("%s: tensor '%s'", path, t->name);
    return atomic_file_write(af, *scratch, n);
}

int gguf_writer_write(gguf_writer *w, const char *path) {
    wbuf hdr = {0};
    atomic_file af;
    uint8_t *scratch = NULL;
    size_t scratch_len = 0;
    if (build_header(w, path, &hdr)) goto err;
    if (atomic_file_open(&af, path)) goto err;
    /* The data section starts aligned; a file without tensors ends with its header. */
    if (atomic_file_write(&af, hdr.p, hdr.len) ||
        (w->n_tensors && atomic_file_pad(&af, (size_t)pad_to(hdr.len, w->alignment))))
        goto err_abort;
    uint64_t pos = 0;
    for (size_t i = 0; i < w->n_tensors; i++) {
        const wtensor *t = &w->tensors[i];
        if (atomic_file_pad(&af, (size_t)(t->offset - pos)) ||
            write_tensor(&af, t, path, &scratch, &scratch_len))
            goto err_abort;
        pos = t->offset + t->n_bytes;
    }
    free(scratch);
    free(hdr.p);
    return atomic_file_commit(&af);

err_abort:
    atomic_file_abort(&af);
err:
    free(scratch);
    free(hdr.p);
    return -1;
}
