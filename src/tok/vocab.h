/* vocab.h - a tokenizer vocabulary read from GGUF metadata (tokenizer.ggml.*): token texts,
 * scores, attributes, special ids and flags, validated. Internal to src/tok/. */
#ifndef FENNEC_TOK_VOCAB_H
#define FENNEC_TOK_VOCAB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gguf/gguf.h"
#include "tok/strmap.h"

/* tokenizer.ggml.token_type values (as written by llama.cpp's converters). */
enum {
    VOCAB_TYPE_UNDEFINED = 0, VOCAB_TYPE_NORMAL = 1, VOCAB_TYPE_UNKNOWN = 2,
    VOCAB_TYPE_CONTROL = 3, VOCAB_TYPE_USER_DEFINED = 4, VOCAB_TYPE_UNUSED = 5,
    VOCAB_TYPE_BYTE = 6,
};

/* Per-token attribute bits (llama.cpp's llama_token_attr, derived from the type). */
enum {
    VOCAB_ATTR_UNKNOWN = 1 << 0,
    VOCAB_ATTR_UNUSED = 1 << 1,
    VOCAB_ATTR_NORMAL = 1 << 2,
    VOCAB_ATTR_CONTROL = 1 << 3,
    VOCAB_ATTR_USER_DEFINED = 1 << 4,
    VOCAB_ATTR_BYTE = 1 << 5,
    VOCAB_ATTR_LSTRIP = 1 << 7,  /* eat whitespace left of the token when splitting it out */
    VOCAB_ATTR_RSTRIP = 1 << 8,  /* eat whitespace right of it */
    VOCAB_ATTR_HIDDEN = 1 << 10, /* typed CONTROL or UNKNOWN by the file itself: not rendered
                                  * unless asked (unlike tokens only llama.cpp's text rules
                                  * promote to CONTROL, such as Qwen2's ordinary "</s>") */
};

typedef enum { VOCAB_BPE, VOCAB_SPM } vocab_kind;

/* Special-token ids; -1 when the model has none. */
typedef struct {
    int32_t bos, eos, eot, eom, unk, sep, pad, mask;
    int32_t fim_pre, fim_suf, fim_mid, fim_pad, fim_rep, fim_sep;
} vocab_special_ids;

typedef struct {
    vocab_kind kind;            /* "gpt2" -> BPE (byte-level), "llama" -> SPM */
    char *model;                /* tokenizer.ggml.model (owned) */
    char *pre;                  /* tokenizer.ggml.pre, "" if absent (owned) */
    uint32_t n;                 /* number of tokens */
    char *text_buf;             /* all token texts back to back, each NUL-terminated (owned) */
    uint32_t *text_off;         /* [n] start of token i's text in text_buf (owned) */
    uint32_t *text_len;         /* [n] its length in bytes (owned) */
    float *score;               /* [n] SPM merge scores; 0 when absent (owned) */
    uint16_t *attr;             /* [n] VOCAB_ATTR_* bits (owned) */
    uint8_t *is_eog;            /* [n] 1 for tokens that end generation (owned) */
    strmap map;                 /* text -> id (last duplicate wins) */
    vocab_special_ids id;       /* special ids, validated < n */
    int32_t *special;           /* ids of CONTROL/USER_DEFINED/UNKNOWN tokens, longest text
                                 * first (ties by id): the order they are split out (owned) */
    uint32_t n_special;
    bool add_bos;               /* tokenizer.ggml.add_bos_token or the model's default */
    bool add_eos;               /* tokenizer.ggml.add_eos_token or false */
    bool add_space_prefix;      /* SPM: prefix raw text with a space */
} tok_vocab;

/* What the pre-tokenizer family implies when the file does not say. */
typedef struct {
    bool add_bos;               /* BPE: default of tokenizer.ggml.add_bos_token */
    bool no_bos;                /* BPE: no BOS id unless tokenizer.ggml.bos_token_id is set */
} vocab_defaults;

/* Reads and validates the vocabulary from f. On failure returns -1 with fn_error naming
 * the key and the problem; v is then left freed. The gguf_file may be closed afterwards
 * (everything is copied). */
int vocab_load(tok_vocab *v, const gguf_file *f, const vocab_defaults *d);
void vocab_free(tok_vocab *v);

/* Fills in eot/eom/fim ids not given by the file, the end-of-generation set and attribute
 * fixes, from token texts, the way llama.cpp does; builds v->special. Called by
 * vocab_load. general_name is general.name or NULL. Returns 0 or -1. */
int vocab_detect_special(tok_vocab *v, const char *general_name);

static inline const char *vocab_text(const tok_vocab *v, int32_t id) {
    return v->text_buf + v->text_off[id];
}

#endif
