/* quant_recipe.h - which element type each tensor gets for a target file type, following
 * llama.cpp's choices (e.g. Q4_K_M keeps output and some attn_v/ffn_down in Q6_K) so our
 * files have the same size and quality as theirs. */
#ifndef FENNEC_MODEL_QUANT_RECIPE_H
#define FENNEC_MODEL_QUANT_RECIPE_H

#include <stdbool.h>
#include <stdint.h>

/* llama.cpp's general.file_type values for the recipes we produce. */
typedef enum {
    FTYPE_ALL_F32 = 0, FTYPE_F16 = 1, FTYPE_Q4_0 = 2, FTYPE_Q8_0 = 7,
    FTYPE_Q4_K_M = 15, FTYPE_Q6_K = 18, FTYPE_BF16 = 32,
} quant_ftype;

typedef struct {
    const char *name;     /* "q4_k_m" */
    quant_ftype ftype;
    uint32_t base_type;   /* fn_dtype most weights get */
} quant_recipe;

/* Looks up a recipe by (case-insensitive) name; NULL if unknown. */
const quant_recipe *quant_recipe_find(const char *name);

/* Comma-separated list of recipe names, for messages. */
const char *quant_recipe_names(void);

/* Everything about a tensor the recipe looks at. */
typedef struct {
    const char *name;     /* GGUF tensor name */
    uint32_t n_dims;
    int64_t ne0;          /* row length */
    int layer;            /* block index parsed from "blk.N.", -1 for global tensors */
    int n_layer;          /* blocks in the model */
    uint32_t n_expert;    /* experts per layer (0 for dense) */
    bool tied_output;     /* the model has no output.weight: token_embd is also the output */
} quant_tensor_info;

/* Type for one tensor: F32 for norms, biases, the expert router and other 1-D tensors;
 * the recipe's choice (with llama.cpp's fallbacks for rows that are not a whole number of
 * blocks) for weight matrices. */
uint32_t quant_recipe_type(const quant_recipe *r, const quant_tensor_info *t);

/* Parses the layer index from "blk.N.…", or -1. */
int quant_layer_of(const char *name);

#endif
