/* cmd_inspect.c - `fennec inspect FILE [--json]`: what a GGUF file holds. */
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/dtype.h"
#include "base/error.h"
#include "cli/cli.h"
#include "gguf/gguf.h"
#include "model/arch.h"
#include "model/hparams.h"

#define ARRAY_PREVIEW 8   /* array elements shown before "..." */
#define STRING_PREVIEW 72 /* characters of a long string shown in text mode */

static void usage(FILE *out) {
    fprintf(out,
            "usage: fennec inspect FILE.gguf [--json]\n\n"
            "Prints the architecture and hyper-parameters, every metadata key, every tensor\n"
            "(name, type, shape, offset, bytes), totals, and for MoE models the experts and the\n"
            "bytes of weights active per token.\n");
}

/* Weight bytes a single token reads: one row of the embedding table, n_expert_used of
 * n_expert slices of each expert tensor, and all of every other tensor. */
static uint64_t active_bytes(const gguf_tensor *t, const model_hparams *hp, bool have_hp) {
    if (!have_hp) return t->n_bytes;
    if (!strcmp(t->name, "token_embd.weight") && t->n_dims == 2) return t->n_bytes / (uint64_t)t->ne[1];
    if (hp->n_expert > 0 && t->n_dims == 3 && t->ne[2] == hp->n_expert && strstr(t->name, "_exps."))
        return t->n_bytes / hp->n_expert * hp->n_expert_used;
    return t->n_bytes;
}

static void print_escaped(const char *s, uint64_t len, uint64_t limit) {
    putchar('"');
    for (uint64_t i = 0; i < len && i < limit; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '\n') fputs("\\n", stdout);
        else if (c == '"' || c == '\\') printf("\\%c", c);
        else if (c < 0x20) printf("\\x%02x", c);
        else putchar(c);
    }
    putchar('"');
    if (len > limit) printf("... (%" PRIu64 " bytes)", len);
}

static void print_scalar_text(gguf_type type, const gguf_kv *kv, uint64_t i) {
    switch (type) {
    case GGUF_TYPE_FLOAT32: case GGUF_TYPE_FLOAT64:
        printf("%g", kv->type == GGUF_TYPE_ARRAY ? gguf_arr_f64(kv, i) : kv->v.f64);
        break;
    case GGUF_TYPE_BOOL:
        printf("%s", (kv->type == GGUF_TYPE_ARRAY ? gguf_arr_i64(kv, i) : (int64_t)kv->v.u64) ? "true" : "false");
        break;
    case GGUF_TYPE_INT8: case GGUF_TYPE_INT16: case GGUF_TYPE_INT32: case GGUF_TYPE_INT64:
        printf("%" PRId64, kv->type == GGUF_TYPE_ARRAY ? gguf_arr_i64(kv, i) : kv->v.i64);
        break;
    case GGUF_TYPE_STRING: {
        gguf_str s = kv->type == GGUF_TYPE_ARRAY ? kv->arr_strs[i] : kv->v.str;
        print_escaped(s.ptr, s.len, kv->type == GGUF_TYPE_ARRAY ? 24 : STRING_PREVIEW);
        break;
    }
    default: /* unsigned */
        if (kv->type == GGUF_TYPE_ARRAY) printf("%" PRId64, gguf_arr_i64(kv, i));
        else printf("%" PRIu64, kv->v.u64);
        break;
    }
}

static json_t *scalar_json(gguf_type type, const gguf_kv *kv, uint64_t i) {
    bool arr = kv->type == GGUF_TYPE_ARRAY;
    switch (type) {
    case GGUF_TYPE_FLOAT32: case GGUF_TYPE_FLOAT64: return json_real(arr ? gguf_arr_f64(kv, i) : kv->v.f64);
    case GGUF_TYPE_BOOL: return json_boolean(arr ? gguf_arr_i64(kv, i) : (int64_t)kv->v.u64);
    case GGUF_TYPE_STRING: {
        gguf_str s = arr ? kv->arr_strs[i] : kv->v.str;
        return json_stringn_nocheck(s.ptr, s.len);
    }
    case GGUF_TYPE_UINT64:
        if (!arr && kv->v.u64 > INT64_MAX) return json_real((double)kv->v.u64);
        return json_integer(arr ? gguf_arr_i64(kv, i) : (json_int_t)kv->v.u64);
    case GGUF_TYPE_INT8: case GGUF_TYPE_INT16: case GGUF_TYPE_INT32: case GGUF_TYPE_INT64:
        return json_integer(arr ? gguf_arr_i64(kv, i) : kv->v.i64);
    default: return json_integer(arr ? gguf_arr_i64(kv, i) : (json_int_t)kv->v.u64);
    }
}

static void human_bytes(uint64_t b, char *buf, size_t size) {
    const char *units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    double v = (double)b;
    int u = 0;
    while (v >= 1024 && u < 4) {
        v /= 1024;
        u++;
    }
    snprintf(buf, size, u ? "%.2f %s" : "%.0f %s", v, units[u]);
}

typedef struct {
    uint64_t total_bytes, active_bytes, n_params, expert_bytes;
    uint64_t type_bytes[FN_DTYPE_COUNT];
    uint64_t type_count[FN_DTYPE_COUNT];
} totals;

static void compute_totals(const gguf_file *f, const model_hparams *hp, bool have_hp, totals *t) {
    memset(t, 0, sizeof *t);
    for (size_t i = 0; i < gguf_n_tensors(f); i++) {
        const gguf_tensor *ten = gguf_tensor_at(f, i);
        t->total_bytes += ten->n_bytes;
        t->active_bytes += active_bytes(ten, hp, have_hp);
        t->n_params += (uint64_t)ten->n_elements;
        if (strstr(ten->name, "_exps.")) t->expert_bytes += ten->n_bytes;
        if (ten->type < FN_DTYPE_COUNT) {
            t->type_bytes[ten->type] += ten->n_bytes;
            t->type_count[ten->type]++;
        }
    }
}

static int inspect_text(const char *path, const gguf_file *f, const model_hparams *hp, bool have_hp, const char *hp_err) {
    totals t;
    compute_totals(f, hp, have_hp, &t);
    char b1[32], b2[32];
    printf("file:          %s\n", path);
    human_bytes(gguf_file_size(f), b1, sizeof b1);
    printf("format:        GGUF v%u, %zu metadata keys, %zu tensors, alignment %" PRIu64 ", data at offset %" PRIu64 ", %s\n",
           gguf_version(f), gguf_n_kv(f), gguf_n_tensors(f), gguf_alignment(f), gguf_data_offset(f), b1);
    if (have_hp) {
        const arch_desc *arch = arch_find(hp->arch);
        printf("architecture:  %s%s\n", hp->arch, arch ? "" : " (not supported for inference by fennec)");
        printf("  vocab %u, context %u, embedding %u, layers %u\n", hp->n_vocab, hp->n_ctx_train, hp->n_embd, hp->n_layer);
        printf("  heads %u q / %u kv (GQA %u), head size %u/%u, rope dims %u, rope base %g, rms eps %g\n",
               hp->n_head, hp->n_head_kv, hp->n_head / hp->n_head_kv, hp->head_dim_k, hp->head_dim_v, hp->n_rot,
               (double)hp->rope_freq_base, (double)hp->rms_eps);
        if (hp->n_expert) {
            printf("  MoE: %u experts, %u used per token, expert FFN %u%s\n", hp->n_expert, hp->n_expert_used,
                   hp->n_ff_exp, hp->n_ff ? "" : "");
        } else {
            printf("  dense FFN %u\n", hp->n_ff);
        }
    } else {
        gguf_str a;
        if (gguf_get_str(f, "general.architecture", &a))
            printf("architecture:  %.*s (hyper-parameters incomplete: %s)\n", (int)(a.len > 64 ? 64 : a.len), a.ptr, hp_err);
        else
            printf("architecture:  none (no general.architecture; e.g. a vocabulary-only file)\n");
    }

    printf("\nmetadata (%zu):\n", gguf_n_kv(f));
    for (size_t i = 0; i < gguf_n_kv(f); i++) {
        const gguf_kv *kv = gguf_kv_at(f, i);
        if (kv->type == GGUF_TYPE_ARRAY) {
            printf("  %-44s %s[%" PRIu64 "] = [", kv->key, gguf_type_name(kv->arr_type), kv->arr_len);
            for (uint64_t j = 0; j < kv->arr_len && j < ARRAY_PREVIEW; j++) {
                if (j) printf(", ");
                print_scalar_text(kv->arr_type, kv, j);
            }
            printf("%s]\n", kv->arr_len > ARRAY_PREVIEW ? ", ..." : "");
        } else {
            printf("  %-44s %-7s = ", kv->key, gguf_type_name(kv->type));
            print_scalar_text(kv->type, kv, 0);
            putchar('\n');
        }
    }

    printf("\ntensors (%zu):\n", gguf_n_tensors(f));
    printf("  %-36s %-7s %-24s %14s %14s\n", "name", "type", "shape", "offset", "bytes");
    for (size_t i = 0; i < gguf_n_tensors(f); i++) {
        const gguf_tensor *ten = gguf_tensor_at(f, i);
        char shape[64];
        int o = snprintf(shape, sizeof shape, "[");
        for (uint32_t d = 0; d < ten->n_dims; d++)
            o += snprintf(shape + o, sizeof shape - (size_t)o, "%s%" PRId64, d ? ", " : "", ten->ne[d]);
        snprintf(shape + o, sizeof shape - (size_t)o, "]");
        printf("  %-36s %-7s %-24s %14" PRIu64 " %14" PRIu64 "\n", ten->name, fn_dtype_name(ten->type), shape,
               gguf_data_offset(f) + ten->offset, ten->n_bytes);
    }

    printf("\ntotals:\n");
    human_bytes(t.total_bytes, b1, sizeof b1);
    printf("  parameters       %" PRIu64 " (%.3f B)\n", t.n_params, (double)t.n_params / 1e9);
    printf("  weight bytes     %" PRIu64 " (%s), %.3f bits per weight\n", t.total_bytes, b1,
           t.n_params ? 8.0 * (double)t.total_bytes / (double)t.n_params : 0.0);
    for (int ty = 0; ty < FN_DTYPE_COUNT; ty++)
        if (t.type_count[ty]) {
            human_bytes(t.type_bytes[ty], b1, sizeof b1);
            printf("    %-7s %5" PRIu64 " tensors %s\n", fn_dtype_name((uint32_t)ty), t.type_count[ty], b1);
        }
    if (have_hp) {
        human_bytes(t.active_bytes, b2, sizeof b2);
        printf("  active per token %" PRIu64 " (%s)%s\n", t.active_bytes, b2,
               hp->n_expert ? "" : " (dense: every weight but the embedding table)");
        if (hp->n_expert) {
            human_bytes(t.expert_bytes, b1, sizeof b1);
            printf("  expert weights   %s, of which %u/%u active per token\n", b1, hp->n_expert_used, hp->n_expert);
        }
    }
    return 0;
}

static int inspect_json(const char *path, const gguf_file *f, const model_hparams *hp, bool have_hp, const char *hp_err) {
    totals t;
    compute_totals(f, hp, have_hp, &t);
    json_t *root = json_object();
    json_object_set_new(root, "file", json_string(path));
    json_object_set_new(root, "gguf_version", json_integer(gguf_version(f)));
    json_object_set_new(root, "file_size", json_integer((json_int_t)gguf_file_size(f)));
    json_object_set_new(root, "alignment", json_integer((json_int_t)gguf_alignment(f)));
    json_object_set_new(root, "data_offset", json_integer((json_int_t)gguf_data_offset(f)));
    if (have_hp) {
        json_t *h = json_object();
        json_object_set_new(h, "architecture", json_string(hp->arch));
        json_object_set_new(h, "supported", json_boolean(arch_find(hp->arch) != NULL));
        json_object_set_new(h, "n_vocab", json_integer(hp->n_vocab));
        json_object_set_new(h, "n_ctx_train", json_integer(hp->n_ctx_train));
        json_object_set_new(h, "n_embd", json_integer(hp->n_embd));
        json_object_set_new(h, "n_layer", json_integer(hp->n_layer));
        json_object_set_new(h, "n_head", json_integer(hp->n_head));
        json_object_set_new(h, "n_head_kv", json_integer(hp->n_head_kv));
        json_object_set_new(h, "head_dim_k", json_integer(hp->head_dim_k));
        json_object_set_new(h, "head_dim_v", json_integer(hp->head_dim_v));
        json_object_set_new(h, "n_rot", json_integer(hp->n_rot));
        json_object_set_new(h, "n_ff", json_integer(hp->n_ff));
        json_object_set_new(h, "n_expert", json_integer(hp->n_expert));
        json_object_set_new(h, "n_expert_used", json_integer(hp->n_expert_used));
        json_object_set_new(h, "n_ff_exp", json_integer(hp->n_ff_exp));
        json_object_set_new(h, "rope_freq_base", json_real(hp->rope_freq_base));
        json_object_set_new(h, "rms_eps", json_real(hp->rms_eps));
        json_object_set_new(root, "hparams", h);
    } else {
        json_object_set_new(root, "hparams", json_null());
        json_object_set_new(root, "hparams_error", json_string(hp_err));
    }
    json_t *meta = json_array();
    for (size_t i = 0; i < gguf_n_kv(f); i++) {
        const gguf_kv *kv = gguf_kv_at(f, i);
        json_t *e = json_object();
        json_object_set_new(e, "key", json_string(kv->key));
        if (kv->type == GGUF_TYPE_ARRAY) {
            json_object_set_new(e, "type", json_sprintf("%s[]", gguf_type_name(kv->arr_type)));
            json_object_set_new(e, "length", json_integer((json_int_t)kv->arr_len));
            json_t *vals = json_array();
            for (uint64_t j = 0; j < kv->arr_len && j < ARRAY_PREVIEW; j++) json_array_append_new(vals, scalar_json(kv->arr_type, kv, j));
            json_object_set_new(e, "value", vals);
            json_object_set_new(e, "truncated", json_boolean(kv->arr_len > ARRAY_PREVIEW));
        } else {
            json_object_set_new(e, "type", json_string(gguf_type_name(kv->type)));
            json_object_set_new(e, "value", scalar_json(kv->type, kv, 0));
        }
        json_array_append_new(meta, e);
    }
    json_object_set_new(root, "metadata", meta);
    json_t *tens = json_array();
    for (size_t i = 0; i < gguf_n_tensors(f); i++) {
        const gguf_tensor *ten = gguf_tensor_at(f, i);
        json_t *shape = json_array();
        for (uint32_t d = 0; d < ten->n_dims; d++) json_array_append_new(shape, json_integer(ten->ne[d]));
        json_array_append_new(tens, json_pack("{s:s, s:s, s:o, s:I, s:I, s:I}", "name", ten->name, "type",
                                              fn_dtype_name(ten->type), "shape", shape, "offset",
                                              (json_int_t)(gguf_data_offset(f) + ten->offset), "bytes",
                                              (json_int_t)ten->n_bytes, "active_bytes",
                                              (json_int_t)active_bytes(ten, hp, have_hp)));
    }
    json_object_set_new(root, "tensors", tens);
    json_t *tot = json_pack("{s:I, s:I, s:I, s:I}", "n_tensors", (json_int_t)gguf_n_tensors(f), "parameters",
                            (json_int_t)t.n_params, "weight_bytes", (json_int_t)t.total_bytes, "expert_bytes",
                            (json_int_t)t.expert_bytes);
    if (have_hp) json_object_set_new(tot, "active_bytes_per_token", json_integer((json_int_t)t.active_bytes));
    json_object_set_new(root, "totals", tot);
    char *s = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    json_decref(root);
    if (!s) return cli_fail("inspect: out of memory");
    puts(s);
    free(s);
    return 0;
}

int cmd_inspect(int argc, char **argv) {
    const char *path = NULL;
    bool json = false;
    for (int i = 1; i < argc; i++) {
        if (cli_is_help(argv[i])) {
            usage(stdout);
            return 0;
        } else if (!strcmp(argv[i], "--json")) {
            json = true;
        } else if (argv[i][0] == '-' && argv[i][1]) {
            return cli_fail("inspect: unknown option '%s' (see --help)", argv[i]);
        } else if (path) {
            return cli_fail("inspect: only one FILE may be given");
        } else {
            path = argv[i];
        }
    }
    if (!path) return cli_fail("inspect: FILE is required (see --help)");
    gguf_file *f = gguf_open(path);
    if (!f) return cli_fail("%s", fn_errmsg());
    model_hparams hp;
    bool have_hp = hparams_read(&hp, f) == 0;
    char hp_err[512];
    snprintf(hp_err, sizeof hp_err, "%s", have_hp ? "" : fn_errmsg());
    int rc = json ? inspect_json(path, f, &hp, have_hp, hp_err) : inspect_text(path, f, &hp, have_hp, hp_err);
    gguf_close(f);
    return rc;
}
