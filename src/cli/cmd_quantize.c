/* cmd_quantize.c - `fennec quantize IN OUT TYPE`: rewrite a model's weights in another
 * element type with llama.cpp's per-tensor recipe; metadata is copied unchanged. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/dtype.h"
#include "base/error.h"
#include "cli/cli.h"
#include "gguf/gguf.h"
#include "model/hparams.h"
#include "model/quant_recipe.h"
#include "tensor/tensor_format.h"

static void usage(FILE *out) {
    fprintf(out,
            "usage: fennec quantize [--allow-requantize] IN.gguf OUT.gguf TYPE\n\n"
            "Converts the weights of IN (F32, F16 or BF16) to TYPE, one of: %s.\n"
            "q4_k_m keeps the output matrix and some attn_v/ffn_down blocks in Q6_K, as llama.cpp does.\n"
            "Norms, biases and the expert router stay F32. OUT is written atomically.\n"
            "  --allow-requantize   also convert tensors that are already quantized (loses quality)\n",
            quant_recipe_names());
}

typedef struct {
    const gguf_tensor *src;  /* borrowed from the input mapping */
    uint32_t type;           /* output type */
} convert_job;

/* Converts one tensor row by row: source -> f32 -> output type. */
static int convert_fill(void *ctx, void *dst, uint64_t n_bytes) {
    const convert_job *j = ctx;
    const gguf_tensor *t = j->src;
    int64_t ne0 = t->ne[0], rows = t->n_elements / ne0;
    int64_t in_row = fn_dtype_row_bytes(t->type, ne0), out_row = fn_dtype_row_bytes(j->type, ne0);
    if ((uint64_t)(out_row * rows) != n_bytes) return fn_error("internal size mismatch for %s", t->name);
    float *buf = malloc((size_t)ne0 * sizeof *buf);
    if (!buf) return fn_error("out of memory converting %s", t->name);
    for (int64_t r = 0; r < rows; r++) {
        if (tensor_dequantize(t->type, (const uint8_t *)t->data + r * in_row, buf, ne0) ||
            tensor_quantize(j->type, buf, (uint8_t *)dst + r * out_row, ne0)) {
            free(buf);
            return fn_error_prefix("%s", t->name);
        }
    }
    free(buf);
    return 0;
}

int cmd_quantize(int argc, char **argv) {
    const char *pos[3];
    int n_pos = 0;
    bool allow_requant = false;
    for (int i = 1; i < argc; i++) {
        if (cli_is_help(argv[i])) {
            usage(stdout);
            return 0;
        } else if (!strcmp(argv[i], "--allow-requantize")) {
            allow_requant = true;
        } else if (argv[i][0] == '-' && argv[i][1]) {
            return cli_fail("quantize: unknown option '%s' (see --help)", argv[i]);
        } else if (n_pos == 3) {
            return cli_fail("quantize: too many arguments (usage: fennec quantize IN OUT TYPE)");
        } else {
            pos[n_pos++] = argv[i];
        }
    }
    if (n_pos != 3) return cli_fail("quantize: expected IN OUT TYPE (see --help)");
    const quant_recipe *recipe = quant_recipe_find(pos[2]);
    if (!recipe) return cli_fail("quantize: unknown type '%s' (expected one of: %s)", pos[2], quant_recipe_names());
    if (!strcmp(pos[0], pos[1])) return cli_fail("quantize: IN and OUT must be different files");

    gguf_file *in = gguf_open(pos[0]);
    if (!in) return cli_fail("%s", fn_errmsg());
    int rc = 1;
    convert_job *jobs = NULL;
    gguf_writer *w = gguf_writer_new();
    model_hparams hp;
    if (hparams_read(&hp, in)) {
        cli_fail("quantize: %s: %s", pos[0], fn_errmsg());
        goto done;
    }
    if (!w) {
        cli_fail("quantize: out of memory");
        goto done;
    }
    for (size_t i = 0; i < gguf_n_kv(in); i++) {
        const gguf_kv *kv = gguf_kv_at(in, i);
        if (!strcmp(kv->key, "general.file_type") || !strcmp(kv->key, "general.quantization_version")) continue;
        if (gguf_writer_copy_kv(w, kv)) goto fail;
    }
    if (gguf_writer_set_u32(w, "general.file_type", (uint32_t)recipe->ftype) ||
        gguf_writer_set_u32(w, "general.quantization_version", 2) ||
        gguf_writer_set_alignment(w, (uint32_t)gguf_alignment(in)))
        goto fail;

    bool tied = gguf_find_tensor(in, "output.weight") == NULL;
    size_t n = gguf_n_tensors(in);
    jobs = calloc(n ? n : 1, sizeof *jobs);
    if (!jobs) {
        cli_fail("quantize: out of memory");
        goto done;
    }
    for (size_t i = 0; i < n; i++) {
        const gguf_tensor *t = gguf_tensor_at(in, i);
        quant_tensor_info qi = {t->name, t->n_dims, t->ne[0], quant_layer_of(t->name), (int)hp.n_layer,
                                hp.n_expert, tied};
        uint32_t type = quant_recipe_type(recipe, &qi);
        /* Keep tensors that are not weights of a float type as they are (e.g. an F16 norm). */
        bool src_float = t->type == FN_F32 || t->type == FN_F16 || t->type == FN_BF16;
        if (type == FN_F32 && qi.n_dims < 2 && !src_float) type = t->type;
        jobs[i].src = t;
        jobs[i].type = type;
        const void *data = NULL;
        gguf_tensor_fill_fn fill = NULL;
        if (type == t->type) {
            data = t->data; /* unchanged: copy bytes straight from the mapping */
        } else {
            if (!src_float && !allow_requant) {
                cli_fail("quantize: tensor %s is already %s; converting it to %s would lose quality "
                         "(pass --allow-requantize to do it anyway)", t->name, fn_dtype_name(t->type), fn_dtype_name(type));
                goto done;
            }
            if (!tensor_can_dequantize(t->type)) {
                cli_fail("quantize: tensor %s has type %s, which fennec cannot read", t->name, fn_dtype_name(t->type));
                goto done;
            }
            fill = convert_fill;
        }
        if (gguf_writer_add_tensor(w, t->name, type, t->n_dims, t->ne, data, fill, &jobs[i])) goto fail;
    }
    if (gguf_writer_write(w, pos[1])) goto fail;
    fprintf(stderr, "wrote %s (%s)\n", pos[1], recipe->name);
    rc = 0;
    goto done;
fail:
    cli_fail("quantize: %s", fn_errmsg());
done:
    gguf_writer_free(w);
    free(jobs);
    gguf_close(in);
    return rc;
}
