/* synth.h - synthetic models: real architectures and shapes filled with seeded random
 * weights, written as GGUF files that llama.cpp loads. Used by tests, benchmarks and the
 * demo, so nothing has to be downloaded. */
#ifndef FENNEC_MODEL_SYNTH_H
#define FENNEC_MODEL_SYNTH_H

#include <stddef.h>
#include <stdint.h>

#include "model/hparams.h"

typedef struct {
    const char *name;        /* "qwen3-coder-30b-a3b" */
    const char *description; /* one line for --help */
    model_hparams hp;        /* shape; n_vocab is set by the vocabulary */
} synth_preset;

const synth_preset *synth_preset_find(const char *name);
const synth_preset *synth_preset_at(size_t i);
size_t synth_preset_count(void);

typedef struct {
    const char *preset;      /* preset name */
    int n_layers;            /* 0: the preset's default */
    const char *type;        /* quant recipe name: f32 f16 bf16 q8_0 q4_0 q4_k_m q6_k */
    const char *vocab_path;  /* GGUF to copy the tokenizer from, or NULL for the built-in */
    uint64_t seed;           /* weights are a pure function of (seed, tensor name, shape) */
    float output_scale;      /* std of the logits at init; larger = more peaked (0: 4.0) */
    int tied_output;         /* 1: no output.weight, token_embd doubles as output */
    const char *out_path;    /* written atomically */
    int verbose;             /* print one line per tensor to stderr */
    int n_threads;           /* threads generating values (0: 2); the bytes do not depend on it */
    rope_scaling_kind rope_scaling; /* context extension written into the model (NONE: none) */
    float rope_scale_factor; /* its factor (> 1) */
} synth_options;

/* Writes the model. Returns 0, or -1 with fn_errmsg() set (nothing left at out_path). */
int synth_write_model(const synth_options *o);

#endif
