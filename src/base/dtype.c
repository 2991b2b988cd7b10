/* dtype.c - block geometry of every GGML tensor type id (see dtype.h). */
#include "base/dtype.h"

#include <strings.h>

static const fn_dtype_info dtype_table[FN_DTYPE_COUNT] = {
    [FN_F32]     = {"f32", 1, 4, false},
    [FN_F16]     = {"f16", 1, 2, false},
    [FN_Q4_0]    = {"q4_0", 32, 18, true},
    [FN_Q4_1]    = {"q4_1", 32, 20, true},
    [FN_Q5_0]    = {"q5_0", 32, 22, true},
    [FN_Q5_1]    = {"q5_1", 32, 24, true},
    [FN_Q8_0]    = {"q8_0", 32, 34, true},
    [FN_Q8_1]    = {"q8_1", 32, 36, true},
    [FN_Q2_K]    = {"q2_K", 256, 84, true},
    [FN_Q3_K]    = {"q3_K", 256, 110, true},
    [FN_Q4_K]    = {"q4_K", 256, 144, true},
    [FN_Q5_K]    = {"q5_K", 256, 176, true},
    [FN_Q6_K]    = {"q6_K", 256, 210, true},
    [FN_Q8_K]    = {"q8_K", 256, 292, true},
    [FN_IQ2_XXS] = {"iq2_xxs", 256, 66, true},
    [FN_IQ2_XS]  = {"iq2_xs", 256, 74, true},
    [FN_IQ3_XXS] = {"iq3_xxs", 256, 98, true},
    [FN_IQ1_S]   = {"iq1_s", 256, 50, true},
    [FN_IQ4_NL]  = {"iq4_nl", 32, 18, true},
    [FN_IQ3_S]   = {"iq3_s", 256, 110, true},
    [FN_IQ2_S]   = {"iq2_s", 256, 82, true},
    [FN_IQ4_XS]  = {"iq4_xs", 256, 136, true},
    [FN_I8]      = {"i8", 1, 1, false},
    [FN_I16]     = {"i16", 1, 2, false},
    [FN_I32]     = {"i32", 1, 4, false},
    [FN_I64]     = {"i64", 1, 8, false},
    [FN_F64]     = {"f64", 1, 8, false},
    [FN_IQ1_M]   = {"iq1_m", 256, 56, true},
    [FN_BF16]    = {"bf16", 1, 2, false},
    [FN_TQ1_0]   = {"tq1_0", 256, 54, true},
    [FN_TQ2_0]   = {"tq2_0", 256, 66, true},
    [FN_MXFP4]   = {"mxfp4", 32, 17, true},
};

const fn_dtype_info *fn_dtype_get(uint32_t type) {
    if (type >= FN_DTYPE_COUNT || !dtype_table[type].name) return NULL;
    return &dtype_table[type];
}

const char *fn_dtype_name(uint32_t type) {
    const fn_dtype_info *info = fn_dtype_get(type);
    return info ? info->name : "?";
}

int fn_dtype_from_name(const char *name) {
    for (int t = 0; t < FN_DTYPE_COUNT; t++)
        if (dtype_table[t].name && strcasecmp(dtype_table[t].name, name) == 0) return t;
    return -1;
}

int64_t fn_dtype_row_bytes(uint32_t type, int64_t n) {
    const fn_dtype_info *info = fn_dtype_get(type);
    if (!info || n < 0 || n % info->block_size) return -1;
    if (n / info->block_size > INT64_MAX / info->block_bytes) return -1; /* overflow */
    return n / info->block_size * info->block_bytes;
}
