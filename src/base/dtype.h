/* dtype.h - tensor element type ids (GGML's numbering, as stored in GGUF files) and their
 * block geometry. Pure data shared by the GGUF reader (to validate byte sizes) and the
 * tensor layer (which adds conversion and kernels on top). */
#ifndef FENNEC_BASE_DTYPE_H
#define FENNEC_BASE_DTYPE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum {
    FN_F32 = 0, FN_F16 = 1, FN_Q4_0 = 2, FN_Q4_1 = 3,
    FN_Q5_0 = 6, FN_Q5_1 = 7, FN_Q8_0 = 8, FN_Q8_1 = 9,
    FN_Q2_K = 10, FN_Q3_K = 11, FN_Q4_K = 12, FN_Q5_K = 13, FN_Q6_K = 14, FN_Q8_K = 15,
    FN_IQ2_XXS = 16, FN_IQ2_XS = 17, FN_IQ3_XXS = 18, FN_IQ1_S = 19, FN_IQ4_NL = 20,
    FN_IQ3_S = 21, FN_IQ2_S = 22, FN_IQ4_XS = 23,
    FN_I8 = 24, FN_I16 = 25, FN_I32 = 26, FN_I64 = 27, FN_F64 = 28, FN_IQ1_M = 29,
    FN_BF16 = 30, FN_TQ1_0 = 34, FN_TQ2_0 = 35, FN_MXFP4 = 39,
    FN_DTYPE_COUNT = 40
} fn_dtype;

typedef struct {
    const char *name;      /* lower-case GGML name, e.g. "q4_K"; NULL for unused ids */
    uint32_t block_size;   /* elements per block (1 for plain types) */
    uint32_t block_bytes;  /* bytes per block */
    bool quantized;        /* true for block-quantized types */
} fn_dtype_info;

/* Geometry of a type id, or NULL if the id is unknown/removed. */
const fn_dtype_info *fn_dtype_get(uint32_t type);

/* Name for printing ("?" for an unknown id). */
const char *fn_dtype_name(uint32_t type);

/* Case-insensitive lookup by name ("q4_k", "Q8_0", "bf16"); -1 if unknown. */
int fn_dtype_from_name(const char *name);

/* Bytes of a row of n elements: -1 if the type is unknown, n is not a whole number of
 * blocks, or the byte count would overflow int64. */
int64_t fn_dtype_row_bytes(uint32_t type, int64_t n);

#endif
