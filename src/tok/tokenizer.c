/* tokenizer.c - loading a tokenizer from GGUF and encoding text: special-token partition,
 * then per raw fragment either pre-tokenizer + byte-level BPE or SentencePiece. */
#include "tok/tokenizer_internal.h"

#include "base/error.h"
#include "tok/utf8.h"

#include <stdlib.h>
#include <string.h>

void tokenizer_free(tokenizer *t) {
    if (!t) return;
    pretok_free(t->pre);
    bpe_free(t->bpe);
    partition_index_free(t->pix);
    piece_table_free(&t->pieces);
    spm_free(&t->spm);
    vocab_free(&t->v);
    free(t);
}

tokenizer *tokenizer_load(const gguf_file *f) {
    tokenizer *t = calloc(1, sizeof *t);
    if (!t) {
        fn_error("out of memory");
        return NULL;
    }
    /* the pre-tokenizer family sets defaults the vocabulary needs, so it comes first */
    gguf_str pre = {"", 0};
    const gguf_kv *pre_kv = gguf_find_kv(f, "tokenizer.ggml.pre");
    if (pre_kv && !gguf_get_str(f, "tokenizer.ggml.pre", &pre)) {
        fn_error("tokenizer.ggml.pre is not a string");
        goto fail;
    }
    /* a printable, bounded copy for lookup and messages */
    char name[64];
    size_t nl = pre.len < sizeof name - 1 ? (size_t)pre.len : sizeof name - 1;
    bool odd = false;
    for (size_t i = 0; i < nl; i++) {
        unsigned char c = (unsigned char)pre.ptr[i];
        odd |= c < 0x20 || c >= 0x7f;
        name[i] = c < 0x20 || c >= 0x7f ? '?' : (char)c;
    }
    name[nl] = 0;
    const pretok_spec *spec = !odd && pre.len == nl ? pretok_find(name) : NULL;

    gguf_str model = {"", 0};
    bool is_bpe = gguf_get_str(f, "tokenizer.ggml.model", &model) && model.len == 4 &&
                  !memcmp(model.ptr, "gpt2", 4);
    if (is_bpe && !spec) {
        fn_error("tokenizer.ggml.pre '%s%s' is not a known pre-tokenizer", name,
                 pre.len > nl ? "..." : "");
        goto fail;
    }
    vocab_defaults d = {.add_bos = spec && spec->add_bos, .no_bos = spec && spec->no_bos};
    if (vocab_load(&t->v, f, &d)) goto fail;

    if (t->v.kind == VOCAB_BPE) {
        if (!spec) {
            fn_error("tokenizer.ggml.pre '%s' is not a known pre-tokenizer", name);
            goto fail;
        }
        t->spec = spec;
        if (!(t->pre = pretok_new(spec))) goto fail;
        if (!(t->bpe = bpe_new(&t->v, f, spec->ignore_merges))) goto fail;
    } else {
        if (spm_init(&t->spm, &t->v)) goto fail;
    }
    if (!(t->pix = partition_index_new(&t->v))) goto fail;
    if (piece_table_build(&t->pieces, &t->v)) goto fail;
    return t;

fail:
    fn_error_prefix("tokenizer");
    tokenizer_free(t);
    return NULL;
}

/* ---- encoding ---------------------------------------------------------------------------- */

typedef struct {
    const tokenizer *t;
    bpe_scratch *bpe;
    idvec *out;
} word_ctx;

static int on_word(void *ctx, const char *word, size_t len) {
    word_ctx *w = ctx;
    return bpe_encode_word(w->t->bpe, w->bpe, word, len, w->out);
}

static int encode_bpe(const tokenizer *t, const char *text, const fragvec *frags, idvec *out) {
    int rc = -1;
    pretok_scratch *ps = pretok_scratch_new(t->pre);
    bpe_scratch *bs = bpe_scratch_new();
    if (!ps || !bs) goto done;
    word_ctx w = {t, bs, out};
    for (size_t i = 0; i < frags->n; i++) {
        const tok_fragment *fr = &frags->v[i];
        if (fr->token >= 0) {
            if (idvec_push(out, fr->token)) goto done;
            continue;
        }
        size_t n;
        char *clean = utf8_sanitize(text + fr->off, fr->len, &n);
        if (!clean && n == (size_t)-1) goto done;
        int r = pretok_split(t->pre, ps, clean ? clean : text + fr->off, n, on_word, &w);
        free(clean);
        if (r) goto done;
    }
    rc = 0;
done:
    pretok_scratch_free(ps);
    bpe_scratch_free(bs);
    return rc;
}

static int encode_spm(const tokenizer *t, const char *text, const fragvec *frags, idvec *out) {
    spm_scratch *s = spm_scratch_new();
    if (!s) return -1;
    bool prev_special = true; /* the first raw fragment gets the space prefix */
    int rc = 0;
    for (size_t i = 0; i < frags->n && !rc; i++) {
        const tok_fragment *fr = &frags->v[i];
        if (fr->token >= 0) {
            rc = idvec_push(out, fr->token);
            prev_special = true;
        } else {
            rc = spm_encode(&t->spm, s, text + fr->off, fr->len, t->v.add_space_prefix && prev_special, out);
            prev_special = false;
        }
    }
    spm_scratch_free(s);
    return rc;
}

int tokenizer_encode(const tokenizer *t, const char *text, size_t len, bool parse_special,
                     bool add_bos, int32_t **ids, size_t *n) {
    *ids = NULL;
    *n = 0;
    idvec out = {0};
    fragvec frags = {0};
    if (len && !text) return fn_error("tokenizer_encode: NULL text");
    if (add_bos) {
        if (t->v.id.bos < 0) return fn_error("the model has no BOS token");
        if (idvec_push(&out, t->v.id.bos)) return -1;
    }
    int rc = partition_split(t->pix, text, len, parse_special, &frags);
    if (!rc) rc = t->v.kind == VOCAB_BPE ? encode_bpe(t, text, &frags, &out) : encode_spm(t, text, &frags, &out);
    fragvec_free(&frags);
    if (rc) {
        free(out.v);
        return -1;
    }
    if (!out.n) {
        free(out.v);
        out.v = NULL;
    }
    *ids = out.v;
    *n = out.n;
    return 0;
}

/* ---- accessors -------------------------------------------------------------------------- */

uint32_t tokenizer_n_vocab(const tokenizer *t) { return t->v.n; }
const char *tokenizer_model(const tokenizer *t) { return t->v.model; }
const char *tokenizer_pre(const tokenizer *t) { return t->v.pre; }
int32_t tokenizer_bos(const tokenizer *t) { return t->v.id.bos; }
int32_t tokenizer_eos(const tokenizer *t) { return t->v.id.eos; }
int32_t tokenizer_eot(const tokenizer *t) { return t->v.id.eot; }
int32_t tokenizer_eom(const tokenizer *t) { return t->v.id.eom; }
int32_t tokenizer_pad(const tokenizer *t) { return t->v.id.pad; }
int32_t tokenizer_unk(const tokenizer *t) { return t->v.id.unk; }
int32_t tokenizer_sep(const tokenizer *t) { return t->v.id.sep; }
bool tokenizer_wants_bos(const tokenizer *t) { return t->v.add_bos && t->v.id.bos >= 0; }
bool tokenizer_wants_eos(const tokenizer *t) { return t->v.add_eos && t->v.id.eos >= 0; }
bool tokenizer_adds_space_prefix(const tokenizer *t) { return t->v.kind == VOCAB_SPM && t->v.add_space_prefix; }

int32_t tokenizer_fim(const tokenizer *t, tok_fim which) {
    switch (which) {
    case TOK_FIM_PRE: return t->v.id.fim_pre;
    case TOK_FIM_SUF: return t->v.id.fim_suf;
    case TOK_FIM_MID: return t->v.id.fim_mid;
    case TOK_FIM_PAD: return t->v.id.fim_pad;
    case TOK_FIM_REP: return t->v.id.fim_rep;
    case TOK_FIM_SEP: return t->v.id.fim_sep;
    }
    return -1;
}

static bool in_range(const tokenizer *t, int32_t id) { return id >= 0 && (uint32_t)id < t->v.n; }

bool tokenizer_is_eog(const tokenizer *t, int32_t id) { return in_range(t, id) && t->v.is_eog[id]; }

bool tokenizer_is_control(const tokenizer *t, int32_t id) {
    return in_range(t, id) && (t->v.attr[id] & (VOCAB_ATTR_CONTROL | VOCAB_ATTR_UNKNOWN));
}

int32_t tokenizer_find(const tokenizer *t, const char *text, size_t len) {
    return strmap_get(&t->v.map, text, len);
}

const char *tokenizer_token_text(const tokenizer *t, int32_t id, size_t *len) {
    if (!in_range(t, id)) return NULL;
    if (len) *len = t->v.text_len[id];
    return vocab_text(&t->v, id);
}

const char *tokenizer_piece(const tokenizer *t, int32_t id, bool special, size_t *len) {
    if (!in_range(t, id)) return NULL;
    if (!special && (t->v.attr[id] & VOCAB_ATTR_HIDDEN)) {
        if (len) *len = 0;
        return "";
    }
    if (len) *len = t->pieces.len[id];
    return t->pieces.buf + t->pieces.off[id];
}
