/* bpe.c - byte-level BPE merge table (pair of ids -> rank, result) and the per-word merge
 * engine with its heap and per-call word cache (see bpe.h). */
#include "tok/bpe.h"

#include "base/error.h"
#include "tok/utf8.h"
#include "tok/wordcache.h"

#include <stdlib.h>
#include <string.h>

/* ---- GPT-2 byte alphabet ------------------------------------------------------------------
 * Printable Latin-1 bytes stand for themselves; the other 68 take U+0100.. in byte order. */
static bool byte_is_printable(unsigned b) {
    return (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE);
}

uint32_t bpe_byte_to_cp(uint8_t b) {
    if (byte_is_printable(b)) return b;
    if (b <= 0x20) return 256 + b;                 /* 0x00-0x20: the first 33 */
    if (b <= 0xA0) return 256 + 33 + (b - 0x7F);   /* 0x7F-0xA0: the next 34 */
    return 256 + 67;                               /* 0xAD */
}

int bpe_cp_to_byte(uint32_t cp) {
    if (cp < 256) return byte_is_printable(cp) ? (int)cp : -1;
    if (cp < 256 + 33) return (int)(cp - 256);
    if (cp < 256 + 67) return (int)(cp - 256 - 33 + 0x7F);
    return cp == 256 + 67 ? 0xAD : -1;
}

/* ---- merge table ----------------------------------------------------------------------- */

typedef struct {
    uint64_t key;               /* left id << 32 | right id; EMPTY_KEY when free */
    uint32_t rank;              /* position in tokenizer.ggml.merges (first one wins) */
    int32_t result;             /* id of the merged token */
} merge_entry;

#define EMPTY_KEY UINT64_MAX

struct bpe_model {
    const tok_vocab *v;         /* borrowed */
    merge_entry *tab;           /* open addressing, mask + 1 slots (owned) */
    size_t mask;
    bool ignore_merges;
    int32_t byte_id[256];       /* token for each byte's character, -1 if none */
    int32_t byte_fb[256][2];    /* when byte_id < 0: llama.cpp's single-byte fallbacks */
    char byte_chr[256][2];      /* UTF-8 of each byte's character */
    uint8_t byte_chr_len[256];
};

static inline size_t pair_hash(uint64_t key) {
    key ^= key >> 29;
    key *= 0xbf58476d1ce4e5b9ull;
    key ^= key >> 32;
    return (size_t)key;
}

static inline const merge_entry *merge_find(const bpe_model *m, int32_t a, int32_t b) {
    uint64_t key = (uint64_t)(uint32_t)a << 32 | (uint32_t)b;
    for (size_t i = pair_hash(key) & m->mask;; i = (i + 1) & m->mask) {
        const merge_entry *e = &m->tab[i];
        if (e->key == key) return e;
        if (e->key == EMPTY_KEY) return NULL;
    }
}

/* A bounded, printable copy of a merge string for error messages. */
static const char *shown(const char *s, size_t n, char out[64]) {
    size_t o = 0;
    for (size_t i = 0; i < n && o < 56; i++) {
        unsigned char c = (unsigned char)s[i];
        out[o++] = (c >= 0x20 && c != 0x7f) ? (char)c : '?';
    }
    if (o == 56) out[o++] = '.', out[o++] = '.', out[o++] = '.';
    out[o] = 0;
    return out;
}

static int add_merges(bpe_model *m, const gguf_kv *kv) {
    const tok_vocab *v = m->v;
    size_t cap = 16;
    while (cap < kv->arr_len * 2) cap <<= 1;
    m->tab = malloc(cap * sizeof *m->tab);
    if (!m->tab) return fn_error("out of memory for %llu merges", (unsigned long long)kv->arr_len);
    for (size_t i = 0; i < cap; i++) m->tab[i].key = EMPTY_KEY;
    m->mask = cap - 1;

    char *cat = NULL;
    size_t cat_cap = 0;
    char shw[64];
    for (uint64_t r = 0; r < kv->arr_len; r++) {
        const char *s = kv->arr_strs[r].ptr;
        size_t n = kv->arr_strs[r].len;
        const char *sp = n > 1 ? memchr(s + 1, ' ', n - 1) : NULL;
        if (!sp) {
            free(cat);
            return fn_error("tokenizer.ggml.merges[%llu] '%s' is not two tokens separated by "
                            "a space", (unsigned long long)r, shown(s, n, shw));
        }
        size_t nl = (size_t)(sp - s), nr = n - nl - 1;
        int32_t a = strmap_get(&v->map, s, nl), b = strmap_get(&v->map, sp + 1, nr);
        if (nl + nr > cat_cap) {
            cat_cap = (nl + nr) * 2;
            char *c2 = realloc(cat, cat_cap);
            if (!c2) {
                free(cat);
                return fn_error("out of memory");
            }
            cat = c2;
        }
        memcpy(cat, s, nl);
        memcpy(cat + nl, sp + 1, nr);
        int32_t c = (a >= 0 && b >= 0) ? strmap_get(&v->map, cat, nl + nr) : -1;
        if (c < 0) {
            free(cat);
            return fn_error("tokenizer.ggml.merges[%llu] '%s': %s is not in the vocabulary",
                            (unsigned long long)r, shown(s, n, shw),
                            a < 0 ? "its left part" : b < 0 ? "its right part" : "the merged token");
        }
        uint64_t key = (uint64_t)(uint32_t)a << 32 | (uint32_t)b;
        for (size_t i = pair_hash(key) & m->mask;; i = (i + 1) & m->mask) {
            merge_entry *e = &m->tab[i];
            if (e->key == key) break; /* duplicate merge: the first rank stays */
            if (e->key == EMPTY_KEY) {
                *e = (merge_entry){key, (uint32_t)r, c};
                break;
            }
        }
    }
    free(cat);
    return 0;
}

bpe_model *bpe_new(const tok_vocab *v, const gguf_file *f, bool ignore_merges) {
    const gguf_kv *kv = gguf_find_kv(f, "tokenizer.ggml.merges");
    if (!kv) {
        fn_error("tokenizer.ggml.merges is missing (a gpt2 tokenizer needs its merges)");
        return NULL;
    }
    if (kv->type != GGUF_TYPE_ARRAY || kv->arr_type != GGUF_TYPE_STRING) {
        fn_error("tokenizer.ggml.merges is not an array of strings");
        return NULL;
    }
    if (kv->arr_len >= UINT32_MAX / 2) {
        fn_error("tokenizer.ggml.merges has too many entries (%llu)",
                 (unsigned long long)kv->arr_len);
        return NULL;
    }
    bpe_model *m = calloc(1, sizeof *m);
    if (!m) {
        fn_error("out of memory");
        return NULL;
    }
    m->v = v;
    m->ignore_merges = ignore_merges;
    if (add_merges(m, kv)) {
        bpe_free(m);
        return NULL;
    }
    for (int b = 0; b < 256; b++) {
        char *chr = m->byte_chr[b];
        int l = utf8_encode(bpe_byte_to_cp((uint8_t)b), chr);
        m->byte_chr_len[b] = (uint8_t)l;
        m->byte_id[b] = strmap_get(&v->map, chr, (size_t)l);
        /* llama.cpp looks each byte of the character's UTF-8 up as a one-byte token */
        for (int k = 0; k < 2; k++) m->byte_fb[b][k] = k < l ? strmap_get(&v->map, chr + k, 1) : -1;
    }
    return m;
}

void bpe_free(bpe_model *m) {
    if (!m) return;
    free(m->tab);
    free(m);
}

/* ---- per-call scratch: symbols, heap, word cache ----------------------------------------- */

typedef struct {
    uint64_t key;               /* rank << 32 | left index: smaller merges first */
    int32_t right;              /* right symbol index */
    int32_t lid, rid;           /* ids of the two symbols when the pair was queued */
    int32_t result;             /* merged id */
} cand;

struct bpe_scratch {
    int32_t *id, *prev, *next;  /* symbols of the current word */
    size_t sym_cap;
    cand *heap;
    size_t heap_n, heap_cap;
    char *enc;                  /* word in the byte-level alphabet (ignore_merges lookups) */
    size_t enc_cap;
    wordcache cache;            /* words already encoded in this call */
};

bpe_scratch *bpe_scratch_new(void) {
    bpe_scratch *s = calloc(1, sizeof *s);
    if (!s) fn_error("out of memory");
    return s;
}

void bpe_scratch_free(bpe_scratch *s) {
    if (!s) return;
    free(s->id);
    free(s->prev);
    free(s->next);
    free(s->heap);
    free(s->enc);
    wordcache_free(&s->cache);
    free(s);
}

static int grow(void **p, size_t *cap, size_t need, size_t elem) {
    if (need <= *cap) return 0;
    size_t c = *cap ? *cap : 64;
    while (c < need) c *= 2;
    void *q = realloc(*p, c * elem);
    if (!q) return fn_error("out of memory in the BPE encoder");
    *p = q;
    *cap = c;
    return 0;
}

static int heap_push(bpe_scratch *s, cand c) {
    if (s->heap_n == s->heap_cap &&
        grow((void **)&s->heap, &s->heap_cap, s->heap_n + 1, sizeof *s->heap))
        return -1;
    size_t i = s->heap_n++;
    while (i > 0) {
        size_t up = (i - 1) / 2;
        if (s->heap[up].key <= c.key) break;
        s->heap[i] = s->heap[up];
        i = up;
    }
    s->heap[i] = c;
    return 0;
}

static cand heap_pop(bpe_scratch *s) {
    cand top = s->heap[0], last = s->heap[--s->heap_n];
    size_t i = 0, n = s->heap_n;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= n) break;
        if (c + 1 < n && s->heap[c + 1].key < s->heap[c].key) c++;
        if (last.key <= s->heap[c].key) break;
        s->heap[i] = s->heap[c];
        i = c;
    }
    if (n) s->heap[i] = last;
    return top;
}

static int try_pair(const bpe_model *m, bpe_scratch *s, int32_t left, int32_t right) {
    if (left < 0 || right < 0) return 0;
    int32_t a = s->id[left], b = s->id[right];
    if (a < 0 || b < 0) return 0;
    const merge_entry *e = merge_find(m, a, b);
    if (!e) return 0;
    return heap_push(s, (cand){(uint64_t)e->rank << 32 | (uint32_t)left, right, a, b, e->result});
}

static int emit_byte(const bpe_model *m, uint8_t b, idvec *out) {
    if (m->byte_id[b] >= 0) return idvec_push(out, m->byte_id[b]);
    for (int k = 0; k < 2; k++)
        if (m->byte_fb[b][k] >= 0 && idvec_push(out, m->byte_fb[b][k])) return -1;
    return 0;
}

/* The merge loop proper; symbols are one per byte, dead ones have id -2. */
static int merge_word(const bpe_model *m, bpe_scratch *s, const uint8_t *w, size_t n, idvec *out) {
    if (n > s->sym_cap) {
        size_t cap = s->sym_cap ? s->sym_cap : 64;
        while (cap < n) cap *= 2;
        int32_t *a = realloc(s->id, cap * sizeof *a);
        if (a) s->id = a;
        int32_t *b = realloc(s->prev, cap * sizeof *b);
        if (b) s->prev = b;
        int32_t *c = realloc(s->next, cap * sizeof *c);
        if (c) s->next = c;
        if (!a || !b || !c) return fn_error("out of memory in the BPE encoder");
        s->sym_cap = cap;
    }
    for (size_t i = 0; i < n; i++) {
        s->id[i] = m->byte_id[w[i]];
        s->prev[i] = (int32_t)i - 1;
        s->next[i] = i + 1 < n ? (int32_t)i + 1 : -1;
    }
    s->heap_n = 0;
    for (size_t i = 1; i < n; i++)
        if (try_pair(m, s, (int32_t)i - 1, (int32_t)i)) return -1;
    while (s->heap_n) {
        cand c = heap_pop(s);
        int32_t l = (int32_t)(uint32_t)c.key, r = c.right;
        if (s->id[l] != c.lid || s->id[r] != c.rid || s->next[l] != r) continue; /* stale */
        s->id[l] = c.result;
        s->id[r] = -2;
        s->next[l] = s->next[r];
        if (s->next[l] >= 0) s->prev[s->next[l]] = l;
        if (try_pair(m, s, s->prev[l], l) || try_pair(m, s, l, s->next[l])) return -1;
    }
    for (int32_t i = 0; i >= 0; i = s->next[i]) {
        if (s->id[i] >= 0) {
            if (idvec_push(out, s->id[i])) return -1;
        } else if (emit_byte(m, w[i], out))
            return -1;
    }
    return 0;
}

int bpe_encode_word(const bpe_model *m, bpe_scratch *s, const char *word, size_t n, idvec *out) {
    const uint8_t *w = (const uint8_t *)word;
    if (n == 0) return 0;
    if (n == 1) return emit_byte(m, w[0], out);

    uint64_t h = 0;
    int hit = wordcache_get(&s->cache, word, n, &h, out);
    if (hit) return hit < 0 ? -1 : 0;

    size_t start = out->n;
    int32_t whole = -1;
    if (m->ignore_merges) {
        if (grow((void **)&s->enc, &s->enc_cap, n * 2, 1)) return -1;
        size_t e = 0;
        for (size_t i = 0; i < n; i++) {
            memcpy(s->enc + e, m->byte_chr[w[i]], m->byte_chr_len[w[i]]);
            e += m->byte_chr_len[w[i]];
        }
        whole = strmap_get(&m->v->map, s->enc, e);
    }
    if (whole >= 0) {
        if (idvec_push(out, whole)) return -1;
    } else if (merge_word(m, s, w, n, out))
        return -1;

    wordcache_put(&s->cache, h, word, n, out->n > start ? out->v + start : NULL, out->n - start);
    return 0;
}
