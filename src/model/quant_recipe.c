/* quant_recipe.c - per-tensor type selection (see quant_recipe.h). The rules mirror the
 * observable choices of llama.cpp's quantizer for these file types. */
#include "model/quant_recipe.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/dtype.h"
#include "base/error.h"

static const quant_recipe recipes[] = {
    {"f32", FTYPE_ALL_F32, FN_F32},   {"f16", FTYPE_F16, FN_F16},   {"bf16", FTYPE_BF16, FN_BF16},
    {"q8_0", FTYPE_Q8_0, FN_Q8_0},    {"q4_0", FTYPE_Q4_0, FN_Q4_0}, {"q4_k_m", FTYPE_Q4_K_M, FN_Q4_K},
    {"q6_k", FTYPE_Q6_K, FN_Q6_K},
};

const quant_recipe *quant_recipe_find(const char *name) {
    for (size_t i = 0; i < FN_ARRAY_LEN(recipes); i++)
        if (!strcasecmp(recipes[i].name, name)) return &recipes[i];
    return NULL;
}

const char *quant_recipe_names(void) { return "f32, f16, bf16, q8_0, q4_0, q4_k_m, q6_k"; }

int quant_layer_of(const char *name) {
    int layer;
    char dot;
    if (sscanf(name, "blk.%d%c", &layer, &dot) == 2 && dot == '.' && layer >= 0) return layer;
    return -1;
}

static bool ends_with(const char *s, const char *suffix) {
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && !strcmp(s + n - m, suffix);
}

/* llama.cpp spends more bits on the first and last eighth of the layers and every third
 * one in between. */
static bool use_more_bits(int i, int n) { return i < n / 8 || i >= 7 * n / 8 || (i - n / 8) % 3 == 2; }

/* K-quants need rows that are whole 256-blocks; fall back the way llama.cpp does. */
static uint32_t fallback(uint32_t type, int64_t ne0) {
    const fn_dtype_info *info = fn_dtype_get(type);
    if (ne0 % info->block_size == 0) return type;
    switch (type) {
    case FN_Q4_K: type = FN_Q5_0; break;
    case FN_Q5_K: type = FN_Q5_1; break;
    case FN_Q6_K: type = FN_Q8_0; break;
    default: break;
    }
    return ne0 % fn_dtype_get(type)->block_size == 0 ? type : FN_F16;
}

uint32_t quant_recipe_type(const quant_recipe *r, const quant_tensor_info *t) {
    const char *n = t->name;
    bool weight = ends_with(n, "weight") && !strstr(n, "_norm.weight") && !strstr(n, "ffn_gate_inp.weight");
    if (t->n_dims < 2 || !weight) return FN_F32;
    uint32_t type = r->base_type;
    if (!fn_dtype_get(type)->quantized) return type; /* f32/f16/bf16: every matrix alike */

    bool is_output = !strcmp(n, "output.weight") || (t->tied_output && !strcmp(n, "token_embd.weight"));
    bool eight_experts = t->n_expert == 8;
    if (is_output) {
        if (t->ne0 % 256) type = FN_Q8_0;
        else if (type != FN_Q8_0) type = FN_Q6_K;
    } else if (strstr(n, "attn_v.weight")) {
        if (r->ftype == FTYPE_Q4_K_M && use_more_bits(t->layer, t->n_layer)) type = FN_Q6_K;
        if (eight_experts) type = FN_Q8_0;
    } else if (strstr(n, "attn_k.weight")) {
        if (eight_experts) type = FN_Q8_0;
    } else if (strstr(n, "ffn_down")) {
        if (r->ftype == FTYPE_Q4_K_M && use_more_bits(t->layer, t->n_layer)) type = FN_Q6_K;
    } else if (strstr(n, "attn_output.weight")) {
        if (eight_experts && r->ftype == FTYPE_Q4_K_M) type = FN_Q5_K;
    }
    return fallback(type, t->ne0);
}
