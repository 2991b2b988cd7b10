/* synth.c - writes synthetic models (see synth.h). Each tensor's values are drawn from a
 * generator seeded by (seed, tensor name), so the same seed gives the same underlying
 * weights in every element type: an F32 and a Q4_K_M file differ only by quantization. */
#include "model/synth.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "base/rng.h"
#include "base/threadpool.h"
#include "gguf/gguf.h"
#include "model/arch.h"
#include "model/quant_recipe.h"
#include "model/synth_vocab.h"
#include "tensor/tensor_format.h"

#define QWEN3_CODER_30B_A3B                                                                    \
    {"qwen3moe", 0, 262144, 2048, 4, 32, 4, 128, 128, 128, 6144, 128, 8, 768, 1e-6f, 1e7f, \
     ROPE_SCALING_NONE, 0, 0, -1, 1, 32, 1}

static const synth_preset presets[] = {
    {"qwen3-coder-30b-a3b", "Qwen3-Coder-30B-A3B shape (qwen3moe: 2048 hidden, 32/4 heads x 128, "
     "128 experts, 8 used, expert FFN 768); default 4 of its 48 layers", QWEN3_CODER_30B_A3B},
    {"qwen3-dense", "dense Qwen3 of the same width (qwen3: 2048 hidden, 32/4 heads x 128, FFN 6144); default 4 layers",
     {"qwen3", 0, 40960, 2048, 4, 32, 4, 128, 128, 128, 6144, 0, 0, 0, 1e-6f, 1e6f,
      ROPE_SCALING_NONE, 0, 0, -1, 1, 32, 1}},
    {"llama-dense", "Llama-style dense model (llama: 2048 hidden, 32/8 heads x 64, FFN 5632); default 4 layers",
     {"llama", 0, 8192, 2048, 4, 32, 8, 64, 64, 64, 5632, 0, 0, 0, 1e-5f, 5e5f,
      ROPE_SCALING_NONE, 0, 0, -1, 1, 32, 1}},
    {"tiny-moe", "tiny qwen3moe for fast tests (256 hidden, 4/2 heads x 64, 16 experts, 4 used, FFN 256); 2 layers",
     {"qwen3moe", 0, 4096, 256, 2, 4, 2, 64, 64, 64, 512, 16, 4, 256, 1e-6f, 1e7f,
      ROPE_SCALING_NONE, 0, 0, -1, 1, 32, 1}},
    {"tiny-qwen3", "tiny dense qwen3 (256 hidden, 4/2 heads x 64, FFN 512); 2 layers",
     {"qwen3", 0, 4096, 256, 2, 4, 2, 64, 64, 64, 512, 0, 0, 0, 1e-6f, 1e6f,
      ROPE_SCALING_NONE, 0, 0, -1, 1, 32, 1}},
    {"tiny-llama", "tiny dense llama (256 hidden, 4/2 heads x 64, FFN 512); 2 layers",
     {"llama", 0, 4096, 256, 2, 4, 2, 64, 64, 64, 512, 0, 0, 0, 1e-5f, 1e4f,
      ROPE_SCALING_NONE, 0, 0, -1, 1, 32, 1}},
    {"tiny-qwen2", "tiny dense qwen2 with q/k/v biases (256 hidden, 4/2 heads x 64, FFN 512); 2 layers",
     {"qwen2", 0, 4096, 256, 2, 4, 2, 64, 64, 64, 512, 0, 0, 0, 1e-6f, 1e6f,
      ROPE_SCALING_NONE, 0, 0, -1, 1, 32, 1}},
    {"tiny-mixtral", "tiny Mixtral-style llama with experts (256 hidden, 8 experts, 2 used, FFN 512); 2 layers",
     {"llama", 0, 4096, 256, 2, 4, 2, 64, 64, 64, 512, 8, 2, 512, 1e-5f, 1e6f,
      ROPE_SCALING_NONE, 0, 0, -1, 1, 32, 1}},
};

const synth_preset *synth_preset_find(const char *name) {
    for (size_t i = 0; i < FN_ARRAY_LEN(presets); i++)
        if (!strcmp(presets[i].name, name)) return &presets[i];
    return NULL;
}

const synth_preset *synth_preset_at(size_t i) { return i < FN_ARRAY_LEN(presets) ? &presets[i] : NULL; }

size_t synth_preset_count(void) { return FN_ARRAY_LEN(presets); }

static uint64_t hash_name(const char *s) {
    uint64_t h = 0xcbf29ce484222325ULL; /* FNV-1a */
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 0x100000001b3ULL;
    return h;
}

/* Approximately normal(0,1): Irwin-Hall sum of four uniforms from one 64-bit draw,
 * scaled to unit variance. Four times cheaper than Box-Muller, plenty for weights. */
static float fast_normal(fn_rng *r) {
    uint64_t x = fn_rng_next(r);
    float s = (float)(x & 0xFFFF) + (float)((x >> 16) & 0xFFFF) + (float)((x >> 32) & 0xFFFF) +
              (float)(x >> 48);
    return (s / 65536.0f - 2.0f) * 1.7320508f;
}

/* One tensor to be written: how to generate its values and what type to store. */
typedef struct {
    char name[96];
    uint32_t n_dims;
    int64_t ne[3];
    uint32_t type;
    weight_role role;
    float std;              /* spread of the values around `mean` */
    float mean;
    uint64_t seed;
    fn_pool *pool;          /* borrowed: threads that generate the rows */
} synth_tensor;

/* Fills a whole tensor: generates f32 rows, converts each to the stored type. Each row
 * has its own generator seeded by (seed, name, row), so the bytes do not depend on how
 * many threads share the work. */
typedef struct {
    const synth_tensor *t;
    uint8_t *dst;
    int64_t row_bytes, rows;
    int failed;
} fill_job;

static void fill_rows(void *ctx, int ith, int nth) {
    fill_job *j = ctx;
    const synth_tensor *t = j->t;
    int64_t ne0 = t->ne[0];
    long b, e;
    fn_split_range((long)j->rows, ith, nth, 1, &b, &e);
    float *row = malloc((size_t)ne0 * sizeof *row);
    if (!row) {
        j->failed = 1;
        return;
    }
    uint64_t base = t->seed ^ hash_name(t->name);
    for (long r = b; r < e; r++) {
        fn_rng rng;
        fn_rng_seed(&rng, base + 0x9e3779b97f4a7c15ULL * (uint64_t)(r + 1));
        for (int64_t i = 0; i < ne0; i++) row[i] = t->mean + t->std * fast_normal(&rng);
        if (tensor_quantize(t->type, row, j->dst + r * j->row_bytes, ne0)) j->failed = 1;
    }
    free(row);
}

static int fill_tensor(void *ctx, void *dst, uint64_t n_bytes) {
    const synth_tensor *t = ctx;
    int64_t rows = t->ne[1] * t->ne[2];
    int64_t row_bytes = fn_dtype_row_bytes(t->type, t->ne[0]);
    if (row_bytes < 0 || (uint64_t)(row_bytes * rows) != n_bytes)
        return fn_error("internal size mismatch for %s", t->name);
    fill_job j = {t, dst, row_bytes, rows, 0};
    fn_pool_run(t->pool, fill_rows, &j);
    if (j.failed) return fn_error("%s: could not generate the values (out of memory?)", t->name);
    return 0;
}

/* Initial spread of each weight kind. Matrices use 1/sqrt(fan_in) so activations keep
 * their size through the residual stream; the output matrix is scaled so logits have a
 * standard deviation of `output_scale`, which makes the next-token distribution peaked
 * enough for engine comparisons to be meaningful. The router is made sharper than a
 * plain init so expert choices are not near-ties. */
static void init_stats(synth_tensor *t, const model_hparams *hp, float output_scale) {
    float fan_in = (float)t->ne[0];
    t->mean = 0.0f;
    switch (t->role) {
    case W_TOKEN_EMBD: t->std = 1.0f; break;
    case W_OUTPUT: t->std = output_scale / sqrtf(fan_in); break;
    case W_OUTPUT_NORM: case W_ATTN_NORM: case W_FFN_NORM:
    case W_ATTN_Q_NORM: case W_ATTN_K_NORM:
        t->mean = 1.0f;
        t->std = 0.1f;
        break;
    case W_ATTN_Q_BIAS: case W_ATTN_K_BIAS: case W_ATTN_V_BIAS: t->std = 0.1f; break;
    case W_ROPE_FREQS: t->mean = 1.0f; t->std = 0.0f; break;
    case W_FFN_ROUTER: t->std = 4.0f / sqrtf(fan_in); break;
    case W_ATTN_Q: case W_ATTN_K: t->std = 2.0f / sqrtf(fan_in); break;
    default: t->std = 1.0f / sqrtf(fan_in); break;
    }
    (void)hp;
}

int synth_write_model(const synth_options *o) {
    const synth_preset *p = synth_preset_find(o->preset);
    if (!p) return fn_error("unknown preset '%s'", o->preset);
    const quant_recipe *recipe = quant_recipe_find(o->type ? o->type : "f16");
    if (!recipe) return fn_error("unknown type '%s' (expected one of: %s)", o->type, quant_recipe_names());
    model_hparams hp = p->hp;
    if (o->n_layers < 0 || o->n_layers > 1024) return fn_error("--layers must be in 1..1024");
    if (o->n_layers) hp.n_layer = (uint32_t)o->n_layers;
    if (o->rope_scaling != ROPE_SCALING_NONE) {
        if (!(o->rope_scale_factor > 1.0f && o->rope_scale_factor <= 64.0f))
            return fn_error("rope scaling factor must be in (1, 64]");
        hp.rope_scaling = o->rope_scaling;
        hp.rope_scale_factor = o->rope_scale_factor;
        hp.rope_orig_ctx = hp.n_ctx_train;
        hp.n_ctx_train = (uint32_t)(hp.n_ctx_train * o->rope_scale_factor);
    }
    const arch_desc *arch = arch_find(hp.arch);
    if (!arch) return fn_error("internal: preset architecture '%s' is not in the table", hp.arch);

    int rc = -1;
    gguf_file *vocab = NULL;
    fn_pool *pool = fn_pool_new(o->n_threads > 0 ? o->n_threads : 2);
    if (!pool) return -1;
    synth_tensor *tensors = NULL;
    gguf_writer *w = gguf_writer_new();
    if (!w) return fn_error("out of memory");

    /* Tokenizer: copied from another model, or the built-in byte-level one. */
    if (o->vocab_path) {
        vocab = gguf_open(o->vocab_path);
        if (!vocab) goto done;
        const gguf_kv *toks = gguf_find_kv(vocab, "tokenizer.ggml.tokens");
        if (!toks || toks->type != GGUF_TYPE_ARRAY || toks->arr_type != GGUF_TYPE_STRING || toks->arr_len == 0) {
            fn_error("%s: has no tokenizer (tokenizer.ggml.tokens)", o->vocab_path);
            goto done;
        }
        hp.n_vocab = (uint32_t)toks->arr_len;
    }

    char name[128];
    snprintf(name, sizeof name, "fennec synthetic %s (%u layers, seed %llu)", p->name, hp.n_layer,
             (unsigned long long)o->seed);
    if (gguf_writer_set_str(w, "general.architecture", hp.arch) ||
        gguf_writer_set_str(w, "general.name", name) ||
        gguf_writer_set_u32(w, "general.file_type", (uint32_t)recipe->ftype) ||
        gguf_writer_set_u32(w, "general.quantization_version", 2) ||
        gguf_writer_set_str(w, "fennec.synthetic.preset", p->name) ||
        gguf_writer_set_u64(w, "fennec.synthetic.seed", o->seed))
        goto done;
    if (vocab) {
        for (size_t i = 0; i < gguf_n_kv(vocab); i++) {
            const gguf_kv *kv = gguf_kv_at(vocab, i);
            if (!strncmp(kv->key, "tokenizer.", 10) && gguf_writer_copy_kv(w, kv)) goto done;
        }
    } else if (synth_vocab_write(w, 768, &hp.n_vocab)) {
        goto done;
    }
    if (hparams_write(&hp, w)) goto done;

    /* Tensor list from the architecture table. */
    size_t cap = arch->n_tensors * (hp.n_layer + 1), n = 0;
    tensors = calloc(cap, sizeof *tensors);
    if (!tensors) {
        fn_error("out of memory");
        goto done;
    }
    float output_scale = o->output_scale > 0 ? o->output_scale : 4.0f;
    for (int pass = 0; pass < 2; pass++) { /* globals first, then blocks in order */
        for (uint32_t layer = 0; layer < (pass ? hp.n_layer : 1); layer++) {
            for (size_t i = 0; i < arch->n_tensors; i++) {
                const arch_tensor *at = &arch->tensors[i];
                if (!!(at->flags & TF_LAYER) != pass || !arch_tensor_applies(at, &hp)) continue;
                if (at->role == W_ROPE_FREQS) continue; /* only for Llama-3 rope scaling */
                if (at->role == W_OUTPUT && o->tied_output) continue;
                synth_tensor *t = &tensors[n++];
                arch_tensor_name(at, (int)layer, t->name, sizeof t->name);
                t->n_dims = at->n_dims;
                for (int d = 0; d < 3; d++) t->ne[d] = arch_dim_value(at->dims[d], &hp);
                t->role = at->role;
                t->seed = o->seed;
                t->pool = pool;
                quant_tensor_info qi = {t->name, t->n_dims, t->ne[0], quant_layer_of(t->name),
                                        (int)hp.n_layer, hp.n_expert, o->tied_output != 0};
                t->type = quant_recipe_type(recipe, &qi);
                init_stats(t, &hp, output_scale);
            }
        }
    }
    for (size_t i = 0; i < n; i++) {
        synth_tensor *t = &tensors[i];
        if (gguf_writer_add_tensor(w, t->name, t->type, t->n_dims, t->ne, NULL, fill_tensor, t)) goto done;
        if (o->verbose)
            fprintf(stderr, "  %-32s %-6s [%lld, %lld, %lld]\n", t->name, fn_dtype_name(t->type),
                    (long long)t->ne[0], (long long)t->ne[1], (long long)t->ne[2]);
    }
    if (gguf_writer_write(w, o->out_path)) goto done;
    rc = 0;
done:
    gguf_writer_free(w);
    if (vocab) gguf_close(vocab);
    free(tensors);
    fn_pool_free(pool);
    return rc;
}
