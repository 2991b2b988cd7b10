/* gguf_reader.c - validating GGUF v2/v3 parser over a read-only mapping or a buffer.
 * Nothing read from the file is used before it is checked against the bytes present;
 * memory grows only with entries actually parsed, so allocations stay proportional to the
 * file however large the counts in its header claim to be. */
#include "gguf/gguf_internal.h"

#include "base/dtype.h"
#include "base/error.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

struct gguf_file {
    const uint8_t *data;            /* the whole file (borrowed buffer or our mapping) */
    uint64_t size;                  /* bytes at data */
    void *map;                      /* mapping to munmap on close, or NULL */
    size_t map_size;                /* length of map */
    char *path;                     /* owned copy of the path, or "buffer" */
    uint32_t version;               /* 2 or 3 */
    uint64_t alignment;             /* general.alignment or GGUF_DEFAULT_ALIGNMENT */
    uint64_t data_offset;           /* absolute start of the tensor data section */
    gguf_kv *kvs;                   /* n_kv pairs in file order (owned) */
    size_t n_kv;
    gguf_tensor *tensors;           /* n_tensors infos in file order (owned) */
    size_t n_tensors;
    const gguf_kv **kv_sorted;      /* kvs sorted by key, for binary search (owned) */
    const gguf_tensor **t_sorted;   /* tensors sorted by name (owned) */
};

/* ---- cursor over untrusted bytes ------------------------------------------------------ */

/* A printable, bounded rendering of a name for messages: non-printable bytes as \xNN,
 * long names cut with "...". */
typedef struct { char s[96]; } qname;

static qname quote(const char *s, uint64_t len) {
    qname q;
    size_t o = 0;
    for (uint64_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (o + 8 >= sizeof q.s) {
            memcpy(q.s + o, "...", 4);
            return q;
        }
        if (ch >= 0x20 && ch < 0x7f && ch != '\'' && ch != '\\') q.s[o++] = (char)ch;
        else o += (size_t)snprintf(q.s + o, sizeof q.s - o, "\\x%02x", ch);
    }
    q.s[o] = 0;
    return q;
}

typedef struct {
    const uint8_t *p;    /* file bytes */
    uint64_t size;       /* number of bytes at p */
    uint64_t pos;        /* next byte to read */
    const char *name;    /* path or "buffer", for messages */
    char item[112];      /* entry being read ("key 'x'", "tensor 'y'") or "", for messages */
} cursor;

static void set_item(cursor *c, const char *kind, const char *name) {
    if (!name) {
        c->item[0] = 0;
        return;
    }
    snprintf(c->item, sizeof c->item, "%s '%s'", kind, quote(name, strlen(name)).s);
}

/* Records "<name>: [<item>: ]<message> at offset <off>" and returns -1. */
__attribute__((format(printf, 3, 4)))
static int perr(const cursor *c, uint64_t off, const char *fmt, ...) {
    char msg[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return fn_error("%s: %s%s%s at offset %" PRIu64, c->name, c->item, c->item[0] ? ": " : "",
                    msg, off);
}

static int need(cursor *c, uint64_t n, const char *what) {
    if (n > c->size - c->pos)
        return perr(c, c->pos, "file truncated: %s needs %" PRIu64 " bytes but %" PRIu64
                    " remain", what, n, c->size - c->pos);
    return 0;
}

static int rd_u32(cursor *c, const char *what, uint32_t *out) {
    if (need(c, 4, what)) return -1;
    *out = gguf_rd32(c->p + c->pos);
    c->pos += 4;
    return 0;
}

static int rd_u64(cursor *c, const char *what, uint64_t *out) {
    if (need(c, 8, what)) return -1;
    *out = gguf_rd64(c->p + c->pos);
    c->pos += 8;
    return 0;
}

/* Reads a length-prefixed string; its bytes must be inside the file. */
static int rd_str(cursor *c, const char *what, gguf_str *out) {
    uint64_t at = c->pos, len;
    if (rd_u64(c, what, &len)) return -1;
    if (len > c->size - c->pos)
        return perr(c, at, "%s length %" PRIu64 " runs past the end of the file (%" PRIu64
                    " bytes remain)", what, len, c->size - c->pos);
    out->ptr = (const char *)c->p + c->pos;
    out->len = len;
    c->pos += len;
    return 0;
}

/* Reads a key or tensor name and returns an owned NUL-terminated copy in *out. */
static int rd_name(cursor *c, const char *what, char **out) {
    uint64_t at = c->pos;
    gguf_str s = {NULL, 0};
    if (rd_str(c, what, &s)) return -1;
    if (s.len == 0) return perr(c, at, "empty %s", what);
    if (s.len > GGUF_MAX_NAME_LEN)
        return perr(c, at, "%s length %" PRIu64 " exceeds the limit of %u bytes", what, s.len,
                    GGUF_MAX_NAME_LEN);
    if (memchr(s.ptr, 0, (size_t)s.len))
        return perr(c, at, "%s '%s' contains a NUL byte", what, quote(s.ptr, s.len).s);
    char *copy = malloc((size_t)s.len + 1);
    if (!copy) return perr(c, at, "out of memory for %s", what);
    memcpy(copy, s.ptr, (size_t)s.len);
    copy[s.len] = 0;
    *out = copy;
    return 0;
}

/* Grows a parse array by doubling, never past the validated count `limit`. */
static int grow(void **arr, size_t *cap, size_t n, size_t limit, size_t elem) {
    if (n < *cap) return 0;
    size_t nc = *cap ? *cap * 2 : 16;
    if (nc > limit) nc = limit;
    void *p = realloc(*arr, nc * elem);
    if (!p) return -1;
    *arr = p;
    *cap = nc;
    return 0;
}

/* ---- metadata ------------------------------------------------------------------------- */

/* Reads one scalar of type t (not STRING/ARRAY) into kv's union. */
static int rd_scalar(cursor *c, gguf_type t, gguf_kv *kv) {
    size_t n = gguf_type_size(t);
    uint64_t at = c->pos;
    if (need(c, n, "value")) return -1;
    const uint8_t *p = c->p + c->pos;
    c->pos += n;
    switch (t) {
    case GGUF_TYPE_UINT8: kv->v.u64 = p[0]; break;
    case GGUF_TYPE_INT8: kv->v.i64 = (int8_t)p[0]; break;
    case GGUF_TYPE_UINT16: kv->v.u64 = gguf_rd16(p); break;
    case GGUF_TYPE_INT16: kv->v.i64 = (int16_t)gguf_rd16(p); break;
    case GGUF_TYPE_UINT32: kv->v.u64 = gguf_rd32(p); break;
    case GGUF_TYPE_INT32: kv->v.i64 = (int32_t)gguf_rd32(p); break;
    case GGUF_TYPE_UINT64: kv->v.u64 = gguf_rd64(p); break;
    case GGUF_TYPE_INT64: kv->v.i64 = (int64_t)gguf_rd64(p); break;
    case GGUF_TYPE_FLOAT32: {
        uint32_t bits = gguf_rd32(p);
        float x;
        memcpy(&x, &bits, sizeof x);
        kv->v.f64 = x;
        break;
    }
    case GGUF_TYPE_FLOAT64: {
        uint64_t bits = gguf_rd64(p);
        memcpy(&kv->v.f64, &bits, sizeof kv->v.f64);
        break;
    }
    case GGUF_TYPE_BOOL:
        if (p[0] > 1)
            return perr(c, at, "bool value %u is not 0 or 1", p[0]);
        kv->v.u64 = p[0];
        break;
    default: FN_ASSERT(!"not a scalar type");
    }
    return 0;
}

/* Reads an array value: element type, count, elements. String arrays are walked twice:
 * once to prove every string is inside the file, then to fill arr_strs, so the table is
 * only allocated for strings that really exist. */
static int rd_array(cursor *c, gguf_kv *kv) {
    uint64_t at = c->pos;
    uint32_t et;
    if (rd_u32(c, "array element type", &et)) return -1;
    if (et == GGUF_TYPE_ARRAY)
        return perr(c, at, "nested arrays are not supported");
    if (et >= GGUF_TYPE_COUNT) return perr(c, at, "unknown array element type %u", et);
    kv->arr_type = (gguf_type)et;
    at = c->pos;
    if (rd_u64(c, "array length", &kv->arr_len)) return -1;
    uint64_t left = c->size - c->pos;
    if (et != GGUF_TYPE_STRING) {
        size_t es = gguf_type_size(kv->arr_type);
        if (kv->arr_len > left / es)
            return perr(c, at, "array of %" PRIu64 " %s elements runs past the end of the "
                        "file (%" PRIu64 " bytes remain)", kv->arr_len,
                        gguf_type_name(kv->arr_type), left);
        kv->arr_data = c->p + c->pos;
        if (et == GGUF_TYPE_BOOL)
            for (uint64_t i = 0; i < kv->arr_len; i++)
                if (kv->arr_data[i] > 1)
                    return perr(c, c->pos + i, "bool element %" PRIu64 " has value %u, not "
                                "0 or 1", i, kv->arr_data[i]);
        c->pos += kv->arr_len * es;
        return 0;
    }
    if (kv->arr_len > left / 8)
        return perr(c, at, "array of %" PRIu64 " strings runs past the end of the file (%"
                    PRIu64 " bytes remain)", kv->arr_len, left);
    kv->arr_data = c->p + c->pos;
    uint64_t start = c->pos;
    gguf_str s = {NULL, 0};
    for (uint64_t i = 0; i < kv->arr_len; i++) {
        uint64_t el = c->pos;
        if (c->size - c->pos < 8 || gguf_rd64(c->p + c->pos) > c->size - c->pos - 8)
            return perr(c, el, "string element %" PRIu64 " of %" PRIu64 " runs past the end "
                        "of the file", i, kv->arr_len);
        rd_str(c, "string", &s);
    }
    if (kv->arr_len == 0) return 0;
    gguf_str *strs = malloc((size_t)kv->arr_len * sizeof *strs);
    if (!strs) return perr(c, at, "out of memory for %" PRIu64 " strings", kv->arr_len);
    cursor again = *c;
    again.pos = start;
    for (uint64_t i = 0; i < kv->arr_len; i++) rd_str(&again, "array string", &strs[i]);
    kv->arr_strs = strs;
    return 0;
}

/* Reads one key/value pair into kv (zeroed by the caller). */
static int rd_kv(cursor *c, gguf_kv *kv) {
    kv->file_offset = c->pos;
    char *key;
    if (rd_name(c, "key", &key)) return -1;
    kv->key = key;
    set_item(c, "key", key);
    uint64_t at = c->pos;
    uint32_t t;
    if (rd_u32(c, "value type", &t)) return -1;
    if (t >= GGUF_TYPE_COUNT) return perr(c, at, "unknown value type %u", t);
    kv->type = (gguf_type)t;
    if (t == GGUF_TYPE_STRING) return rd_str(c, "string value", &kv->v.str);
    if (t == GGUF_TYPE_ARRAY) return rd_array(c, kv);
    return rd_scalar(c, kv->type, kv);
}

/* ---- tensor infos ---------------------------------------------------------------------- */

/* Reads one tensor info and checks everything that does not need the data section's
 * position: name, dims, type, block geometry and byte size. */
static int rd_tensor_info(cursor *c, gguf_tensor *t) {
    t->info_offset = c->pos;
    char *name;
    if (rd_name(c, "tensor name", &name)) return -1;
    t->name = name;
    set_item(c, "tensor", name);
    uint64_t at = c->pos;
    if (rd_u32(c, "n_dims", &t->n_dims)) return -1;
    if (t->n_dims < 1 || t->n_dims > GGUF_MAX_DIMS)
        return perr(c, at, "n_dims %u is not in 1..%d", t->n_dims, GGUF_MAX_DIMS);
    int64_t n = 1;
    for (uint32_t d = 0; d < GGUF_MAX_DIMS; d++) {
        uint64_t v = 1;
        at = c->pos;
        if (d < t->n_dims && rd_u64(c, "dimension", &v)) return -1;
        if (v == 0) return perr(c, at, "dimension %u is zero", d);
        if (v > (uint64_t)(INT64_MAX / n))
            return perr(c, at, "element count overflows (dimension %u is %" PRIu64 ")", d, v);
        t->ne[d] = (int64_t)v;
        n *= (int64_t)v;
    }
    t->n_elements = n;
    at = c->pos;
    if (rd_u32(c, "tensor type", &t->type)) return -1;
    const fn_dtype_info *ti = fn_dtype_get(t->type);
    if (!ti) return perr(c, at, "unknown tensor type %u", t->type);
    if (t->ne[0] % ti->block_size)
        return perr(c, at, "ne[0] = %" PRId64 " is not a multiple of the %s block size %u",
                    t->ne[0], ti->name, ti->block_size);
    int64_t row = fn_dtype_row_bytes(t->type, t->ne[0]);
    uint64_t rows = (uint64_t)(n / t->ne[0]);
    if (row <= 0 || rows > (uint64_t)INT64_MAX / (uint64_t)row)
        return perr(c, at, "byte size overflows");
    t->n_bytes = (uint64_t)row * rows;
    return rd_u64(c, "data offset", &t->offset);
}

/* Position of a tensor info's offset field, for messages about the offset. */
static uint64_t offset_field_pos(const gguf_tensor *t) {
    return t->info_offset + 8 + strlen(t->name) + 4 + 8ull * t->n_dims + 4;
}

static int cmp_kv(const void *a, const void *b) {
    const gguf_kv *x = *(const gguf_kv *const *)a, *y = *(const gguf_kv *const *)b;
    int r = strcmp(x->key, y->key);
    return r ? r : (x->file_offset > y->file_offset) - (x->file_offset < y->file_offset);
}

static int cmp_tensor_name(const void *a, const void *b) {
    const gguf_tensor *x = *(const gguf_tensor *const *)a, *y = *(const gguf_tensor *const *)b;
    int r = strcmp(x->name, y->name);
    return r ? r : (x->info_offset > y->info_offset) - (x->info_offset < y->info_offset);
}

static int cmp_tensor_offset(const void *a, const void *b) {
    const gguf_tensor *x = *(const gguf_tensor *const *)a, *y = *(const gguf_tensor *const *)b;
    if (x->offset != y->offset) return (x->offset > y->offset) - (x->offset < y->offset);
    return (x->info_offset > y->info_offset) - (x->info_offset < y->info_offset);
}

/* Places every tensor in the data section: aligned, inside the file, no overlaps. */
static int place_tensors(cursor *c, gguf_file *f) {
    uint64_t room = f->data_offset <= f->size ? f->size - f->data_offset : 0;
    for (size_t i = 0; i < f->n_tensors; i++) {
        gguf_tensor *t = &f->tensors[i];
        set_item(c, "tensor", t->name);
        if (t->offset % f->alignment)
            return perr(c, offset_field_pos(t), "data offset %" PRIu64 " is not a multiple of "
                        "the alignment %" PRIu64, t->offset, f->alignment);
        if (t->offset > room || t->n_bytes > room - t->offset)
            return perr(c, offset_field_pos(t), "%" PRIu64 " bytes of data at data offset %"
                        PRIu64 " (file offset %" PRIu64 ") run past the end of the file (%"
                        PRIu64 " bytes)", t->n_bytes, t->offset, f->data_offset + t->offset,
                        f->size);
        t->data = f->data + f->data_offset + t->offset;
    }
    set_item(c, NULL, NULL);
    if (f->n_tensors < 2) return 0;
    const gguf_tensor **by_off = malloc(f->n_tensors * sizeof *by_off);
    if (!by_off) return perr(c, f->data_offset, "out of memory sorting tensors");
    for (size_t i = 0; i < f->n_tensors; i++) by_off[i] = &f->tensors[i];
    qsort(by_off, f->n_tensors, sizeof *by_off, cmp_tensor_offset);
    int rc = 0;
    for (size_t i = 1; i < f->n_tensors && !rc; i++) {
        const gguf_tensor *a = by_off[i - 1], *b = by_off[i];
        if (a->offset + a->n_bytes > b->offset)
            rc = perr(c, f->data_offset + b->offset, "tensor '%s' data overlaps tensor '%s' "
                      "(data offsets %" PRIu64 "+%" PRIu64 " and %" PRIu64 ")",
                      quote(b->name, strlen(b->name)).s, quote(a->name, strlen(a->name)).s,
                      a->offset, a->n_bytes, b->offset);
    }
    free(by_off);
    return rc;
}

/* Builds the sorted indexes and rejects duplicate keys and tensor names. */
static int build_indexes(cursor *c, gguf_file *f) {
    if (f->n_kv) {
        f->kv_sorted = malloc(f->n_kv * sizeof *f->kv_sorted);
        if (!f->kv_sorted) return perr(c, 0, "out of memory indexing keys");
        for (size_t i = 0; i < f->n_kv; i++) f->kv_sorted[i] = &f->kvs[i];
        qsort(f->kv_sorted, f->n_kv, sizeof *f->kv_sorted, cmp_kv);
        for (size_t i = 1; i < f->n_kv; i++) {
            const gguf_kv *a = f->kv_sorted[i - 1], *b = f->kv_sorted[i];
            if (!strcmp(a->key, b->key))
                return perr(c, b->file_offset, "duplicate key '%s' (first at offset %" PRIu64
                            ")", quote(b->key, strlen(b->key)).s, a->file_offset);
        }
    }
    if (f->n_tensors) {
        f->t_sorted = malloc(f->n_tensors * sizeof *f->t_sorted);
        if (!f->t_sorted) return perr(c, 0, "out of memory indexing tensors");
        for (size_t i = 0; i < f->n_tensors; i++) f->t_sorted[i] = &f->tensors[i];
        qsort(f->t_sorted, f->n_tensors, sizeof *f->t_sorted, cmp_tensor_name);
        for (size_t i = 1; i < f->n_tensors; i++) {
            const gguf_tensor *a = f->t_sorted[i - 1], *b = f->t_sorted[i];
            if (!strcmp(a->name, b->name))
                return perr(c, b->info_offset, "duplicate tensor name '%s' (first at offset %"
                            PRIu64 ")", quote(b->name, strlen(b->name)).s, a->info_offset);
        }
    }
    return 0;
}

/* Applies general.alignment if present: a uint32 power of two no larger than the limit. */
static int read_alignment(cursor *c, gguf_file *f) {
    f->alignment = GGUF_DEFAULT_ALIGNMENT;
    const gguf_kv *kv = gguf_find_kv(f, "general.alignment");
    if (!kv) return 0;
    if (kv->type != GGUF_TYPE_UINT32)
        return perr(c, kv->file_offset, "general.alignment must be a uint32, not %s",
                    gguf_type_name(kv->type));
    if (!gguf_is_pow2(kv->v.u64) || kv->v.u64 > GGUF_MAX_ALIGNMENT)
        return perr(c, kv->file_offset, "general.alignment %" PRIu64 " is not a power of two "
                    "in 1..%u", kv->v.u64, GGUF_MAX_ALIGNMENT);
    f->alignment = kv->v.u64;
    return 0;
}

static int parse_header(cursor *c, gguf_file *f, uint64_t *n_tensors, uint64_t *n_kv) {
    uint32_t magic;
    if (rd_u32(c, "magic", &magic)) return -1;
    if (magic != GGUF_MAGIC)
        return perr(c, 0, "not a GGUF file (magic 0x%08x, expected 0x%08x \"GGUF\")", magic,
                    GGUF_MAGIC);
    if (rd_u32(c, "version", &f->version)) return -1;
    if (f->version == 1)
        return perr(c, 4, "GGUF version 1 is not supported (it used 32-bit counts; convert "
                    "the model again with a current tool)");
    if (f->version != 2 && f->version != 3) {
        if (f->version && !(f->version & 0xffff))
            return perr(c, 4, "big-endian GGUF files are not supported (version field 0x%08x)",
                        f->version);
        return perr(c, 4, "unsupported GGUF version %u (expected 2 or 3)", f->version);
    }
    if (rd_u64(c, "tensor count", n_tensors) || rd_u64(c, "key/value count", n_kv)) return -1;
    uint64_t left = c->size - c->pos;
    if (*n_tensors > left / GGUF_MIN_TENSOR_INFO_BYTES)
        return perr(c, 8, "tensor count %" PRIu64 " is impossible in a file with %" PRIu64
                    " bytes left", *n_tensors, left);
    if (*n_kv > left / GGUF_MIN_KV_BYTES)
        return perr(c, 16, "key/value count %" PRIu64 " is impossible in a file with %" PRIu64
                    " bytes left", *n_kv, left);
    if (*n_kv * GGUF_MIN_KV_BYTES + *n_tensors * GGUF_MIN_TENSOR_INFO_BYTES > left)
        return perr(c, 8, "%" PRIu64 " tensors and %" PRIu64 " keys cannot fit in a file with %"
                    PRIu64 " bytes left", *n_tensors, *n_kv, left);
    return 0;
}

static int parse(cursor *c, gguf_file *f) {
    uint64_t n_tensors, n_kv;
    if (parse_header(c, f, &n_tensors, &n_kv)) return -1;

    size_t cap = 0;
    for (uint64_t i = 0; i < n_kv; i++) {
        if (grow((void **)&f->kvs, &cap, f->n_kv, (size_t)n_kv, sizeof *f->kvs))
            return perr(c, c->pos, "out of memory for key/value %" PRIu64, i);
        gguf_kv *kv = &f->kvs[f->n_kv++];
        memset(kv, 0, sizeof *kv);
        if (rd_kv(c, kv)) return -1;
        set_item(c, NULL, NULL);
    }
    cap = 0;
    for (uint64_t i = 0; i < n_tensors; i++) {
        if (grow((void **)&f->tensors, &cap, f->n_tensors, (size_t)n_tensors,
                 sizeof *f->tensors))
            return perr(c, c->pos, "out of memory for tensor info %" PRIu64, i);
        gguf_tensor *t = &f->tensors[f->n_tensors++];
        memset(t, 0, sizeof *t);
        if (rd_tensor_info(c, t)) return -1;
        set_item(c, NULL, NULL);
    }
    if (build_indexes(c, f) || read_alignment(c, f)) return -1;
    /* The data section starts at the aligned end of the header; a file without tensors
     * may end before it. */
    f->data_offset = (c->pos + f->alignment - 1) / f->alignment * f->alignment;
    return place_tensors(c, f);
}

static gguf_file *open_bytes(const uint8_t *data, uint64_t size, const char *name) {
    gguf_file *f = calloc(1, sizeof *f);
    if (!f || !(f->path = strdup(name))) {
        free(f);
        fn_error("%s: out of memory", name);
        return NULL;
    }
    f->data = data;
    f->size = size;
    cursor c = {data, size, 0, name, ""};
    if (parse(&c, f)) {
        gguf_close(f);
        return NULL;
    }
    return f;
}

gguf_file *gguf_open_memory(const void *data, size_t size) {
    if (!data && size) {
        fn_error("buffer: NULL data with size %zu at offset 0", size);
        return NULL;
    }
    return open_bytes(data, size, "buffer");
}

gguf_file *gguf_open(const char *path) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        fn_error("%s: cannot open: %s", path, strerror(errno));
        return NULL;
    }
    struct stat st;
    if (fstat(fd, &st) != 0) {
        fn_error("%s: cannot stat: %s", path, strerror(errno));
        close(fd);
        return NULL;
    }
    if (!S_ISREG(st.st_mode)) {
        fn_error("%s: not a regular file", path);
        close(fd);
        return NULL;
    }
    if ((uint64_t)st.st_size > SIZE_MAX) {
        fn_error("%s: file too large to map", path);
        close(fd);
        return NULL;
    }
    size_t size = (size_t)st.st_size;
    void *map = NULL;
    if (size) {
        map = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (map == MAP_FAILED) {
            fn_error("%s: cannot map %zu bytes: %s", path, size, strerror(errno));
            close(fd);
            return NULL;
        }
    }
    close(fd);
    gguf_file *f = open_bytes(map, size, path);
    if (!f) {
        if (map) munmap(map, size);
        return NULL;
    }
    f->map = map;
    f->map_size = size;
    return f;
}

void gguf_close(gguf_file *f) {
    if (!f) return;
    for (size_t i = 0; i < f->n_kv; i++) {
        free((char *)f->kvs[i].key);
        free((gguf_str *)f->kvs[i].arr_strs);
    }
    for (size_t i = 0; i < f->n_tensors; i++) free((char *)f->tensors[i].name);
    free(f->kvs);
    free(f->tensors);
    free(f->kv_sorted);
    free(f->t_sorted);
    if (f->map) munmap(f->map, f->map_size);
    free(f->path);
    free(f);
}

/* ---- accessors ------------------------------------------------------------------------- */

const char *gguf_path(const gguf_file *f) { return f->path; }
uint32_t gguf_version(const gguf_file *f) { return f->version; }
uint64_t gguf_file_size(const gguf_file *f) { return f->size; }
uint64_t gguf_alignment(const gguf_file *f) { return f->alignment; }
uint64_t gguf_data_offset(const gguf_file *f) { return f->data_offset; }
size_t gguf_n_kv(const gguf_file *f) { return f->n_kv; }
size_t gguf_n_tensors(const gguf_file *f) { return f->n_tensors; }

const gguf_kv *gguf_kv_at(const gguf_file *f, size_t i) {
    return i < f->n_kv ? &f->kvs[i] : NULL;
}

const gguf_tensor *gguf_tensor_at(const gguf_file *f, size_t i) {
    return i < f->n_tensors ? &f->tensors[i] : NULL;
}

const gguf_kv *gguf_find_kv(const gguf_file *f, const char *key) {
    size_t lo = 0, hi = f->kv_sorted ? f->n_kv : 0;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int r = strcmp(key, f->kv_sorted[mid]->key);
        if (r == 0) return f->kv_sorted[mid];
        if (r < 0) hi = mid;
        else lo = mid + 1;
    }
    return NULL;
}

const gguf_tensor *gguf_find_tensor(const gguf_file *f, const char *name) {
    size_t lo = 0, hi = f->t_sorted ? f->n_tensors : 0;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int r = strcmp(name, f->t_sorted[mid]->name);
        if (r == 0) return f->t_sorted[mid];
        if (r < 0) hi = mid;
        else lo = mid + 1;
    }
    return NULL;
}
