/* gguf.h - GGUF model files (v2 and v3): a validating, memory-mapped reader and a writer.
 * The reader never trusts the file: every count, length, offset and type id is checked
 * against the bytes actually present before use, and failures name the problem and the
 * byte offset. Tensor data is used in place from the mapping (no copy). */
#ifndef FENNEC_GGUF_GGUF_H
#define FENNEC_GGUF_GGUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define GGUF_MAGIC 0x46554747u /* "GGUF" little-endian */
#define GGUF_DEFAULT_ALIGNMENT 32
#define GGUF_MAX_DIMS 4
#define GGUF_MAX_NAME_LEN 65535u       /* longest key or tensor name accepted, in bytes */
#define GGUF_MAX_ALIGNMENT (1u << 20)  /* largest general.alignment accepted */

typedef enum {
    GGUF_TYPE_UINT8 = 0, GGUF_TYPE_INT8 = 1, GGUF_TYPE_UINT16 = 2, GGUF_TYPE_INT16 = 3,
    GGUF_TYPE_UINT32 = 4, GGUF_TYPE_INT32 = 5, GGUF_TYPE_FLOAT32 = 6, GGUF_TYPE_BOOL = 7,
    GGUF_TYPE_STRING = 8, GGUF_TYPE_ARRAY = 9, GGUF_TYPE_UINT64 = 10, GGUF_TYPE_INT64 = 11,
    GGUF_TYPE_FLOAT64 = 12, GGUF_TYPE_COUNT
} gguf_type;

/* A string inside the file: not NUL-terminated, borrowed from the mapping. */
typedef struct {
    const char *ptr;
    uint64_t len;
} gguf_str;

/* One metadata key/value pair. */
typedef struct {
    const char *key;          /* NUL-terminated copy owned by the gguf_file */
    gguf_type type;           /* value type */
    uint64_t file_offset;     /* where this pair starts in the file */
    union {
        uint64_t u64;         /* UINT8..UINT64 and BOOL, zero-extended */
        int64_t i64;          /* INT8..INT64, sign-extended */
        double f64;           /* FLOAT32/FLOAT64 */
        gguf_str str;         /* STRING */
    } v;
    /* ARRAY only: */
    gguf_type arr_type;       /* element type (never ARRAY: nested arrays are rejected) */
    uint64_t arr_len;         /* element count */
    const uint8_t *arr_data;  /* first element in the mapping (may be unaligned) */
    const gguf_str *arr_strs; /* STRING arrays: arr_len entries, owned by the gguf_file */
} gguf_kv;

/* One tensor's info, validated: type known, dims positive, bytes inside the data section,
 * aligned, not overlapping another tensor. */
typedef struct {
    const char *name;         /* NUL-terminated copy owned by the gguf_file */
    uint32_t n_dims;          /* 1..4 */
    int64_t ne[GGUF_MAX_DIMS];/* elements per dimension, ne[0] innermost; unused dims = 1 */
    uint32_t type;            /* fn_dtype id */
    uint64_t offset;          /* byte offset relative to the start of the data section */
    uint64_t n_bytes;         /* size of the data */
    int64_t n_elements;       /* product of ne */
    const void *data;         /* data inside the mapping (borrowed, read-only) */
    uint64_t info_offset;     /* where this tensor's info starts in the file */
} gguf_tensor;

typedef struct gguf_file gguf_file;

/* Opens and validates a file, memory-mapping it read-only. Returns NULL with fn_errmsg()
 * set to "<path>: <what is wrong> at offset N" (naming the key or tensor involved).
 * Accepts versions 2 and 3; version 1 and big-endian files are rejected. Memory used is
 * proportional to the metadata actually present, never to counts claimed by the header.
 * Every pointer the file hands out (keys, names, kvs, tensors, data) stays valid until
 * gguf_close(). The file must not be truncated by someone else while it is mapped. */
gguf_file *gguf_open(const char *path);

/* Same over a caller-owned buffer, which must outlive the result (fuzzing, tests). */
gguf_file *gguf_open_memory(const void *data, size_t size);

/* Unmaps and frees everything; NULL is allowed. */
void gguf_close(gguf_file *f);

/* The path given to gguf_open, or "buffer" for gguf_open_memory; for error messages. */
const char *gguf_path(const gguf_file *f);

uint32_t gguf_version(const gguf_file *f);
uint64_t gguf_file_size(const gguf_file *f);
uint64_t gguf_alignment(const gguf_file *f);
/* Absolute start of the data section: the header's end rounded up to the alignment. A file
 * without tensors may end before it (vocab-only files carry no padding). */
uint64_t gguf_data_offset(const gguf_file *f);

/* Pairs and tensors in file order (NULL past the end), and lookup by exact name in
 * O(log n) through a sorted index (NULL if absent). Keys and names are unique. */
size_t gguf_n_kv(const gguf_file *f);
const gguf_kv *gguf_kv_at(const gguf_file *f, size_t i);
const gguf_kv *gguf_find_kv(const gguf_file *f, const char *key);

size_t gguf_n_tensors(const gguf_file *f);
const gguf_tensor *gguf_tensor_at(const gguf_file *f, size_t i);
const gguf_tensor *gguf_find_tensor(const gguf_file *f, const char *name);

/* Typed getters. They return false if the key is absent or has an incompatible type
 * (any integer type converts to another if the value fits; ints convert to float; floats
 * never convert to ints; get_f32 refuses a finite double beyond float range; bools and
 * strings only match their own type). They never touch fn_errmsg(). */
bool gguf_get_u64(const gguf_file *f, const char *key, uint64_t *out);
bool gguf_get_u32(const gguf_file *f, const char *key, uint32_t *out);
bool gguf_get_i64(const gguf_file *f, const char *key, int64_t *out);
bool gguf_get_f64(const gguf_file *f, const char *key, double *out);
bool gguf_get_f32(const gguf_file *f, const char *key, float *out);
bool gguf_get_bool(const gguf_file *f, const char *key, bool *out);
bool gguf_get_str(const gguf_file *f, const char *key, gguf_str *out);
/* Copies a string value into a new NUL-terminated heap string (caller frees), or NULL. */
char *gguf_get_strdup(const gguf_file *f, const char *key);

/* Array element access with conversion (index must be < arr_len; type must be numeric,
 * bool included; a violation is a programmer error and aborts). gguf_arr_i64 saturates
 * values outside int64 (uint64 above INT64_MAX, large floats) and truncates floats toward
 * zero, NaN giving 0. */
int64_t gguf_arr_i64(const gguf_kv *kv, uint64_t i);
double gguf_arr_f64(const gguf_kv *kv, uint64_t i);

const char *gguf_type_name(gguf_type t);
size_t gguf_type_size(gguf_type t); /* bytes of a scalar; 0 for STRING/ARRAY */

/* ---------------------------------------------------------------------------------------
 * Writer: collect metadata and tensor infos, then write header + data in one pass.
 * Tensor data is supplied by pointer (borrowed until gguf_writer_write returns) or by a
 * callback that produces the bytes on demand, so huge models can be written streaming. */

typedef struct gguf_writer gguf_writer;

/* Produces exactly n_bytes of tensor data into dst. Returns 0 or -1 (with fn_error). */
typedef int (*gguf_tensor_fill_fn)(void *ctx, void *dst, uint64_t n_bytes);

gguf_writer *gguf_writer_new(void);
void gguf_writer_free(gguf_writer *w);

/* Metadata setters; a key set twice keeps the last value in its first position. Strings
 * and arrays are copied. All return 0 or -1 (out of memory, bad argument). */
int gguf_writer_set_u8(gguf_writer *w, const char *key, uint8_t v);
int gguf_writer_set_i8(gguf_writer *w, const char *key, int8_t v);
int gguf_writer_set_u16(gguf_writer *w, const char *key, uint16_t v);
int gguf_writer_set_i16(gguf_writer *w, const char *key, int16_t v);
int gguf_writer_set_u32(gguf_writer *w, const char *key, uint32_t v);
int gguf_writer_set_i32(gguf_writer *w, const char *key, int32_t v);
int gguf_writer_set_u64(gguf_writer *w, const char *key, uint64_t v);
int gguf_writer_set_i64(gguf_writer *w, const char *key, int64_t v);
int gguf_writer_set_f32(gguf_writer *w, const char *key, float v);
int gguf_writer_set_f64(gguf_writer *w, const char *key, double v);
int gguf_writer_set_bool(gguf_writer *w, const char *key, bool v);
int gguf_writer_set_str(gguf_writer *w, const char *key, const char *v);
int gguf_writer_set_strn(gguf_writer *w, const char *key, const char *v, uint64_t len);
/* Numeric array: n elements of `elem_type` packed little-endian at data. */
int gguf_writer_set_arr(gguf_writer *w, const char *key, gguf_type elem_type,
                        const void *data, uint64_t n);
/* String array of n NUL-terminated strings. */
int gguf_writer_set_arr_str(gguf_writer *w, const char *key, const char *const *strs,
                            uint64_t n);
/* Copies a key/value pair read from another file (any type, arrays included). */
int gguf_writer_copy_kv(gguf_writer *w, const gguf_kv *kv);
/* Sets general.alignment (power of two) used for tensor data. Default 32. */
int gguf_writer_set_alignment(gguf_writer *w, uint32_t alignment);

/* Adds a tensor. ne has n_dims entries (ne[0] innermost). Exactly one of data / fill is
 * given; data must stay valid until gguf_writer_write returns. Fails on a duplicate name,
 * unknown type, or a row length that is not a whole number of blocks. */
int gguf_writer_add_tensor(gguf_writer *w, const char *name, uint32_t type,
                           uint32_t n_dims, const int64_t *ne, const void *data,
                           gguf_tensor_fill_fn fill, void *fill_ctx);

/* Writes the file (GGUF v3) atomically: temp file + rename. Layout: header, zero padding
 * to the alignment, then each tensor in insertion order at the next aligned offset; the
 * file ends right after the last tensor's bytes (and right after the header when there
 * are no tensors). general.alignment is written only if it was set. Fill callbacks run
 * here, one tensor at a time, into a buffer as large as the largest such tensor. On any
 * failure (a callback returning -1 included) returns -1 with fn_errmsg() set, leaves an
 * existing destination untouched and removes the temporary file. */
int gguf_writer_write(gguf_writer *w, const char *path);

#endif
