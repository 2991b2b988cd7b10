/* vocab.c - reads tokenizer.ggml.* from a GGUF file into a tok_vocab and validates it:
 * array types and lengths, special ids in range, flags of the right type. */
#include "tok/vocab.h"

#include "base/error.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void vocab_free(tok_vocab *v) {
    free(v->model);
    free(v->pre);
    free(v->text_buf);
    free(v->text_off);
    free(v->text_len);
    free(v->score);
    free(v->attr);
    free(v->is_eog);
    free(v->special);
    strmap_free(&v->map);
    memset(v, 0, sizeof *v);
}

static const gguf_kv *find_array(const gguf_file *f, const char *key, bool required, int *err) {
    *err = 0;
    const gguf_kv *kv = gguf_find_kv(f, key);
    if (!kv) {
        if (required) *err = fn_error("%s is missing", key);
        return NULL;
    }
    if (kv->type != GGUF_TYPE_ARRAY) {
        *err = fn_error("%s is a %s, not an array", key, gguf_type_name(kv->type));
        return NULL;
    }
    return kv;
}

/* An optional boolean key: absent leaves *out; any other type than bool is an error. */
static int get_flag(const gguf_file *f, const char *key, bool *out) {
    const gguf_kv *kv = gguf_find_kv(f, key);
    if (!kv) return 0;
    if (kv->type != GGUF_TYPE_BOOL) return fn_error("%s is a %s, not a bool", key, gguf_type_name(kv->type));
    *out = kv->v.u64 != 0;
    return 0;
}

/* An optional token-id key: absent leaves *out; it must be an integer below n. */
static int get_id(const gguf_file *f, const char *key, uint32_t n, int32_t *out) {
    const gguf_kv *kv = gguf_find_kv(f, key);
    if (!kv) return 0;
    int64_t id;
    if (!gguf_get_i64(f, key, &id)) return fn_error("%s is a %s, not an integer", key, gguf_type_name(kv->type));
    if (id < 0 || id >= (int64_t)n)
        return fn_error("%s = %" PRId64 " is out of range (the vocabulary has %" PRIu32 " tokens)", key, id, n);
    *out = (int32_t)id;
    return 0;
}

static int load_texts(tok_vocab *v, const gguf_kv *kv) {
    if (kv->arr_type != GGUF_TYPE_STRING)
        return fn_error("tokenizer.ggml.tokens is an array of %s, not strings", gguf_type_name(kv->arr_type));
    if (kv->arr_len == 0) return fn_error("tokenizer.ggml.tokens is empty");
    if (kv->arr_len > INT32_MAX / 2)
        return fn_error("tokenizer.ggml.tokens has too many entries (%" PRIu64 ")", kv->arr_len);
    v->n = (uint32_t)kv->arr_len;
    uint64_t total = 0;
    for (uint32_t i = 0; i < v->n; i++) total += kv->arr_strs[i].len ? kv->arr_strs[i].len + 1 : 24;
    if (total >= UINT32_MAX) return fn_error("tokenizer.ggml.tokens: token texts too large (%" PRIu64 " bytes)", total);
    v->text_buf = malloc(total);
    v->text_off = malloc(v->n * sizeof *v->text_off);
    v->text_len = malloc(v->n * sizeof *v->text_len);
    if (!v->text_buf || !v->text_off || !v->text_len) return fn_error("out of memory for %" PRIu32 " tokens", v->n);
    uint32_t o = 0;
    for (uint32_t i = 0; i < v->n; i++) {
        const gguf_str *s = &kv->arr_strs[i];
        v->text_off[i] = o;
        if (s->len) {
            memcpy(v->text_buf + o, s->ptr, s->len);
            v->text_len[i] = (uint32_t)s->len;
        } else { /* llama.cpp names empty tokens so that they stay distinct */
            v->text_len[i] = (uint32_t)snprintf(v->text_buf + o, 24, "[EMPTY_%" PRIu32 "]", i);
        }
        o += v->text_len[i];
        v->text_buf[o++] = 0;
    }
    return 0;
}

static int load_scores(tok_vocab *v, const gguf_file *f) {
    int err;
    const gguf_kv *kv = find_array(f, "tokenizer.ggml.scores", false, &err);
    if (err) return -1;
    v->score = calloc(v->n, sizeof *v->score);
    if (!v->score) return fn_error("out of memory");
    if (!kv) return 0;
    if (kv->arr_type != GGUF_TYPE_FLOAT32 && kv->arr_type != GGUF_TYPE_INT32)
        return fn_error("tokenizer.ggml.scores is an array of %s, not float32", gguf_type_name(kv->arr_type));
    if (kv->arr_len != v->n)
        return fn_error("tokenizer.ggml.scores has %" PRIu64 " entries but there are %" PRIu32 " tokens",
                        kv->arr_len, v->n);
    for (uint32_t i = 0; i < v->n; i++) v->score[i] = (float)gguf_arr_f64(kv, i);
    return 0;
}

static int load_types(tok_vocab *v, const gguf_file *f) {
    int err;
    const gguf_kv *kv = find_array(f, "tokenizer.ggml.token_type", false, &err);
    if (err) return -1;
    v->attr = malloc(v->n * sizeof *v->attr);
    v->is_eog = calloc(v->n, 1);
    if (!v->attr || !v->is_eog) return fn_error("out of memory");
    if (kv) {
        if (kv->arr_type == GGUF_TYPE_STRING || kv->arr_type == GGUF_TYPE_FLOAT32 ||
            kv->arr_type == GGUF_TYPE_FLOAT64 || kv->arr_type == GGUF_TYPE_BOOL)
            return fn_error("tokenizer.ggml.token_type is an array of %s, not integers",
                            gguf_type_name(kv->arr_type));
        if (kv->arr_len != v->n)
            return fn_error("tokenizer.ggml.token_type has %" PRIu64 " entries but there are %" PRIu32
                            " tokens", kv->arr_len, v->n);
    }
    for (uint32_t i = 0; i < v->n; i++) {
        int64_t t = kv ? gguf_arr_i64(kv, i) : VOCAB_TYPE_NORMAL;
        switch (t) {
        case VOCAB_TYPE_NORMAL: v->attr[i] = VOCAB_ATTR_NORMAL; break;
        case VOCAB_TYPE_UNKNOWN: v->attr[i] = VOCAB_ATTR_UNKNOWN | VOCAB_ATTR_HIDDEN; break;
        case VOCAB_TYPE_CONTROL: v->attr[i] = VOCAB_ATTR_CONTROL | VOCAB_ATTR_HIDDEN; break;
        case VOCAB_TYPE_USER_DEFINED: v->attr[i] = VOCAB_ATTR_USER_DEFINED; break;
        case VOCAB_TYPE_UNUSED: v->attr[i] = VOCAB_ATTR_UNUSED; break;
        case VOCAB_TYPE_BYTE: v->attr[i] = VOCAB_ATTR_BYTE; break;
        default: v->attr[i] = 0; break; /* undefined: never produced by decoding */
        }
    }
    return 0;
}

/* Byte tokens must look like <0xNN> so that they can be decoded. */
static int check_byte_tokens(const tok_vocab *v) {
    for (uint32_t i = 0; i < v->n; i++) {
        if (!(v->attr[i] & VOCAB_ATTR_BYTE)) continue;
        const char *t = vocab_text(v, (int32_t)i);
        if (v->text_len[i] != 6 || memcmp(t, "<0x", 3) || !isxdigit((unsigned char)t[3]) ||
            !isxdigit((unsigned char)t[4]) || t[5] != '>')
            return fn_error("tokenizer.ggml.tokens[%" PRIu32 "] is a byte token but not <0xNN>", i);
    }
    return 0;
}

static int load_ids(tok_vocab *v, const gguf_file *f) {
    static const struct {
        const char *key;
        size_t off;
    } keys[] = {
        {"tokenizer.ggml.bos_token_id", offsetof(vocab_special_ids, bos)},
        {"tokenizer.ggml.eos_token_id", offsetof(vocab_special_ids, eos)},
        {"tokenizer.ggml.eot_token_id", offsetof(vocab_special_ids, eot)},
        {"tokenizer.ggml.eom_token_id", offsetof(vocab_special_ids, eom)},
        {"tokenizer.ggml.unknown_token_id", offsetof(vocab_special_ids, unk)},
        {"tokenizer.ggml.seperator_token_id", offsetof(vocab_special_ids, sep)},
        {"tokenizer.ggml.padding_token_id", offsetof(vocab_special_ids, pad)},
        {"tokenizer.ggml.mask_token_id", offsetof(vocab_special_ids, mask)},
        {"tokenizer.ggml.fim_pre_token_id", offsetof(vocab_special_ids, fim_pre)},
        {"tokenizer.ggml.fim_suf_token_id", offsetof(vocab_special_ids, fim_suf)},
        {"tokenizer.ggml.fim_mid_token_id", offsetof(vocab_special_ids, fim_mid)},
        {"tokenizer.ggml.fim_pad_token_id", offsetof(vocab_special_ids, fim_pad)},
        {"tokenizer.ggml.fim_rep_token_id", offsetof(vocab_special_ids, fim_rep)},
        {"tokenizer.ggml.fim_sep_token_id", offsetof(vocab_special_ids, fim_sep)},
        /* deprecated spellings, read after (and so winning over) the fim_* keys */
        {"tokenizer.ggml.prefix_token_id", offsetof(vocab_special_ids, fim_pre)},
        {"tokenizer.ggml.suffix_token_id", offsetof(vocab_special_ids, fim_suf)},
        {"tokenizer.ggml.middle_token_id", offsetof(vocab_special_ids, fim_mid)},
    };
    /* the defaults llama.cpp assumes per model type, dropped when out of range */
    int32_t *ids = (int32_t *)&v->id;
    for (size_t i = 0; i < sizeof v->id / sizeof(int32_t); i++) ids[i] = -1;
    if (v->kind == VOCAB_SPM) v->id.bos = 1, v->id.eos = 2, v->id.unk = 0;
    else v->id.bos = 11, v->id.eos = 11;
    for (size_t i = 0; i < sizeof v->id / sizeof(int32_t); i++)
        if (ids[i] >= (int32_t)v->n) ids[i] = -1;
    for (size_t i = 0; i < FN_ARRAY_LEN(keys); i++)
        if (get_id(f, keys[i].key, v->n, (int32_t *)((char *)&v->id + keys[i].off))) return -1;
    return 0;
}

int vocab_load(tok_vocab *v, const gguf_file *f, const vocab_defaults *d) {
    memset(v, 0, sizeof *v);
    int err;
    v->model = gguf_get_strdup(f, "tokenizer.ggml.model");
    if (!v->model) {
        const gguf_kv *kv = gguf_find_kv(f, "tokenizer.ggml.model");
        fn_error(kv ? "tokenizer.ggml.model is not a string" : "tokenizer.ggml.model is missing");
        goto fail;
    }
    gguf_str m;
    gguf_get_str(f, "tokenizer.ggml.model", &m);
    if (m.len == 4 && !memcmp(m.ptr, "gpt2", 4)) v->kind = VOCAB_BPE;
    else if (m.len == 5 && !memcmp(m.ptr, "llama", 5)) v->kind = VOCAB_SPM;
    else {
        fn_error("tokenizer.ggml.model '%.64s' is not supported (supported: gpt2, llama)", v->model);
        goto fail;
    }
    if (gguf_find_kv(f, "tokenizer.ggml.pre")) {
        v->pre = gguf_get_strdup(f, "tokenizer.ggml.pre");
        if (!v->pre) {
            fn_error("tokenizer.ggml.pre is not a string");
            goto fail;
        }
    } else if (!(v->pre = calloc(1, 1))) {
        fn_error("out of memory");
        goto fail;
    }

    const gguf_kv *tokens = find_array(f, "tokenizer.ggml.tokens", true, &err);
    if (err || load_texts(v, tokens) || load_scores(v, f) || load_types(v, f) ||
        check_byte_tokens(v))
        goto fail;

    if (strmap_init(&v->map, v->n, v->text_buf, v->text_off, v->text_len)) goto fail;
    for (uint32_t i = 0; i < v->n; i++) strmap_put(&v->map, i);

    if (load_ids(v, f)) goto fail;
    if (d->no_bos && !gguf_find_kv(f, "tokenizer.ggml.bos_token_id")) v->id.bos = -1;
    v->add_bos = v->kind == VOCAB_SPM ? true : d->add_bos;
    v->add_space_prefix = v->kind == VOCAB_SPM;
    if (get_flag(f, "tokenizer.ggml.add_bos_token", &v->add_bos) ||
        get_flag(f, "tokenizer.ggml.add_eos_token", &v->add_eos) ||
        get_flag(f, "tokenizer.ggml.add_space_prefix", &v->add_space_prefix))
        goto fail;

    char *name = gguf_get_strdup(f, "general.name");
    int rc = vocab_detect_special(v, name);
    free(name);
    if (rc) goto fail;
    return 0;

fail:
    vocab_free(v);
    return -1;
}
