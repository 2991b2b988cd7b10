/* partition.c - special-token splitting (see partition.h). A trie pass finds which special
 * tokens occur at all (usually none); llama.cpp's per-token cutting loop then runs only
 * for those, which gives its exact fragments at a fraction of the cost. */
#include "tok/partition.h"

#include "base/error.h"

#include <stdlib.h>
#include <string.h>

typedef struct {
    int32_t child;              /* first child node, -1 if none */
    int32_t sibling;            /* next node with the same parent, -1 if none */
    int32_t rank;               /* index in v->special of the token ending here, or -1 */
    uint8_t byte;               /* the byte leading to this node */
} trie_node;

struct partition_index {
    const tok_vocab *v;         /* borrowed */
    int32_t root[256];          /* node of each first byte, -1 if no token starts with it */
    trie_node *nodes;           /* (owned) */
    size_t n_nodes, cap;
};

void fragvec_free(fragvec *f) {
    free(f->v);
    memset(f, 0, sizeof *f);
}

static int frag_push(fragvec *f, size_t off, size_t len, int32_t token) {
    if (f->n == f->cap) {
        size_t cap = f->cap ? f->cap * 2 : 16;
        tok_fragment *v = realloc(f->v, cap * sizeof *v);
        if (!v) return fn_error("out of memory splitting special tokens");
        f->v = v;
        f->cap = cap;
    }
    f->v[f->n++] = (tok_fragment){off, len, token};
    return 0;
}

static int32_t new_node(partition_index *ix, uint8_t byte) {
    if (ix->n_nodes == ix->cap) {
        size_t cap = ix->cap ? ix->cap * 2 : 256;
        trie_node *n = realloc(ix->nodes, cap * sizeof *n);
        if (!n) return -1;
        ix->nodes = n;
        ix->cap = cap;
    }
    ix->nodes[ix->n_nodes] = (trie_node){-1, -1, -1, byte};
    return (int32_t)ix->n_nodes++;
}

void partition_index_free(partition_index *ix) {
    if (!ix) return;
    free(ix->nodes);
    free(ix);
}

partition_index *partition_index_new(const tok_vocab *v) {
    partition_index *ix = calloc(1, sizeof *ix);
    if (!ix) goto oom;
    ix->v = v;
    for (int i = 0; i < 256; i++) ix->root[i] = -1;
    for (uint32_t r = 0; r < v->n_special; r++) {
        const uint8_t *t = (const uint8_t *)vocab_text(v, v->special[r]);
        uint32_t len = v->text_len[v->special[r]];
        if (ix->root[t[0]] < 0 && (ix->root[t[0]] = new_node(ix, t[0])) < 0) goto oom;
        int32_t node = ix->root[t[0]];
        for (uint32_t i = 1; i < len; i++) {
            int32_t c = ix->nodes[node].child;
            while (c >= 0 && ix->nodes[c].byte != t[i]) c = ix->nodes[c].sibling;
            if (c < 0) {
                if ((c = new_node(ix, t[i])) < 0) goto oom;
                ix->nodes[c].sibling = ix->nodes[node].child;
                ix->nodes[node].child = c;
            }
            node = c;
        }
        if (ix->nodes[node].rank < 0) ix->nodes[node].rank = (int32_t)r;
    }
    return ix;
oom:
    partition_index_free(ix);
    fn_error("out of memory indexing special tokens");
    return NULL;
}

static bool eligible(const tok_vocab *v, int32_t id, bool parse_special) {
    return parse_special || !(v->attr[id] & (VOCAB_ATTR_CONTROL | VOCAB_ATTR_UNKNOWN));
}

static inline bool ascii_space(char c) {
    return c == ' ' || (c >= '\t' && c <= '\r');
}

/* Cuts every raw fragment of in at the occurrences of special token id, into out. */
static int cut(const tok_vocab *v, int32_t id, const char *text, const fragvec *in, fragvec *out) {
    const char *tok = vocab_text(v, id);
    size_t tlen = v->text_len[id];
    uint16_t attr = v->attr[id];
    out->n = 0;
    for (size_t f = 0; f < in->n; f++) {
        tok_fragment fr = in->v[f];
        if (fr.token >= 0) {
            if (frag_push(out, fr.off, fr.len, fr.token)) return -1;
            continue;
        }
        size_t off = fr.off, len = fr.len;
        while (len >= tlen) {
            const char *hit = memmem(text + off, len, tok, tlen);
            if (!hit) break;
            size_t m = (size_t)(hit - text);
            size_t left = m - off;
            if (attr & VOCAB_ATTR_LSTRIP)
                while (left > 0 && ascii_space(text[off + left - 1])) left--;
            if (left > 0 && frag_push(out, off, left, -1)) return -1;
            if (frag_push(out, m, tlen, id)) return -1;
            size_t roff = m + tlen, rlen = off + len - roff;
            if (attr & VOCAB_ATTR_RSTRIP)
                while (rlen > 0 && ascii_space(text[roff])) roff++, rlen--;
            off = roff;
            len = rlen;
        }
        if (len > 0 && frag_push(out, off, len, -1)) return -1;
    }
    return 0;
}

int partition_split(const partition_index *ix, const char *text, size_t len, bool parse_special,
                    fragvec *out) {
    const tok_vocab *v = ix->v;
    out->n = 0;
    if (!len) return 0;

    /* which special tokens occur anywhere in the text */
    uint8_t *present = NULL;
    size_t n_present = 0;
    const uint8_t *t = (const uint8_t *)text;
    for (size_t i = 0; i < len; i++) {
        int32_t node = ix->root[t[i]];
        for (size_t j = i; node >= 0;) {
            int32_t r = ix->nodes[node].rank;
            if (r >= 0 && eligible(v, v->special[r], parse_special)) {
                if (!present && !(present = calloc(v->n_special, 1)))
                    return fn_error("out of memory splitting special tokens");
                n_present += !present[r];
                present[r] = 1;
            }
            if (++j == len) break;
            int32_t c = ix->nodes[node].child;
            while (c >= 0 && ix->nodes[c].byte != t[j]) c = ix->nodes[c].sibling;
            node = c;
        }
    }
    if (frag_push(out, 0, len, -1)) {
        free(present);
        return -1;
    }
    if (!n_present) return 0;

    fragvec tmp = {0};
    int rc = 0;
    for (uint32_t r = 0; r < v->n_special && !rc; r++) {
        if (!present[r]) continue;
        rc = cut(v, v->special[r], text, out, &tmp);
        fragvec swap = *out;
        *out = tmp;
        tmp = swap;
    }
    fragvec_free(&tmp);
    free(present);
    return rc;
}
