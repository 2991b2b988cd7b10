/* spm.c - SentencePiece merges over one text fragment with a max-heap of candidate pairs
 * (see spm.h). Symbols are byte ranges of the escaped text; merged symbols stay contiguous,
 * so a candidate's text is a slice of that buffer and needs no copy. */
#include "tok/spm.h"

#include "base/error.h"
#include "tok/wordcache.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const uint8_t lead_len[16] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 3, 4};

/* A symbol (1-4 bytes) as a number: its bytes and its length. */
static inline uint64_t sym_key(const char *p, uint32_t n) {
    uint32_t b = 0;
    memcpy(&b, p, n);
    return b | (uint64_t)n << 32;
}

static inline size_t pair_bit(const spm_model *m, uint64_t a, uint64_t b) {
    uint64_t h = (a * 0x9E3779B97F4A7C15ull) ^ (b + 0x632BE59BD9B4E019ull);
    h ^= h >> 31;
    h *= 0xbf58476d1ce4e5b9ull;
    h ^= h >> 29;
    return (size_t)h & m->pairs_mask;
}

static inline bool pair_maybe(const spm_model *m, uint64_t a, uint64_t b) {
    size_t i = pair_bit(m, a, b);
    return m->pairs[i >> 6] >> (i & 63) & 1;
}

void spm_free(spm_model *m) {
    free(m->pairs);
    m->pairs = NULL;
}

int spm_init(spm_model *m, const tok_vocab *v) {
    memset(m, 0, sizeof *m);
    m->v = v;
    /* about 16 bits per vocabulary token keeps false "maybe"s (which only cost speed) rare */
    size_t bits = 1 << 16;
    while (bits < (size_t)v->n * 16 && bits < ((size_t)1 << 26)) bits <<= 1;
    m->pairs = calloc(bits / 64, sizeof *m->pairs);
    if (!m->pairs) return fn_error("out of memory");
    m->pairs_mask = bits - 1;
    for (uint32_t t = 0; t < v->n; t++) {
        const char *p = vocab_text(v, (int32_t)t);
        uint32_t n = v->text_len[t], prev_len = 0;
        uint64_t prev = 0;
        for (uint32_t o = 0; o < n;) {
            uint32_t l = lead_len[(uint8_t)p[o] >> 4];
            if (l > n - o) l = n - o;
            uint64_t k = sym_key(p + o, l);
            if (prev_len) {
                size_t i = pair_bit(m, prev, k);
                m->pairs[i >> 6] |= 1ull << (i & 63);
            }
            prev = k;
            prev_len = l;
            o += l;
        }
    }
    for (int b = 0; b < 256; b++) {
        char hex[8];
        snprintf(hex, sizeof hex, "<0x%02X>", b);
        int32_t id = strmap_get(&v->map, hex, 6);
        if (id < 0) {
            char c = (char)b;
            id = strmap_get(&v->map, &c, 1);
        }
        /* llama.cpp fails here; emitting <unk> (or nothing) keeps encoding total */
        m->byte_id[b] = id >= 0 ? id : v->id.unk;
    }
    return 0;
}

typedef struct {
    float score;                /* score of the merged token */
    int32_t left, right;        /* symbol indices */
    uint32_t size;              /* bytes of left + right when queued */
} bigram;

struct spm_scratch {
    char *text;                 /* the escaped fragment */
    size_t text_cap;
    uint32_t *start, *len;      /* symbol i = text[start[i] .. +len[i]), len 0 once merged */
    int32_t *prev, *next;
    size_t sym_cap;
    bigram *heap;
    size_t heap_n, heap_cap;
    wordcache cache;            /* chunks already encoded in this call */
};

spm_scratch *spm_scratch_new(void) {
    spm_scratch *s = calloc(1, sizeof *s);
    if (!s) fn_error("out of memory");
    return s;
}

void spm_scratch_free(spm_scratch *s) {
    if (!s) return;
    free(s->text);
    free(s->start);
    free(s->len);
    free(s->prev);
    free(s->next);
    free(s->heap);
    wordcache_free(&s->cache);
    free(s);
}

/* a comes out of the heap before b */
static inline bool before(const bigram *a, const bigram *b) {
    return a->score > b->score || (a->score == b->score && a->left < b->left);
}

static int heap_push(spm_scratch *s, bigram g) {
    if (s->heap_n == s->heap_cap) {
        size_t cap = s->heap_cap ? s->heap_cap * 2 : 256;
        bigram *h = realloc(s->heap, cap * sizeof *h);
        if (!h) return fn_error("out of memory in the SPM encoder");
        s->heap = h;
        s->heap_cap = cap;
    }
    size_t i = s->heap_n++;
    while (i > 0) {
        size_t up = (i - 1) / 2;
        if (!before(&g, &s->heap[up])) break;
        s->heap[i] = s->heap[up];
        i = up;
    }
    s->heap[i] = g;
    return 0;
}

static bigram heap_pop(spm_scratch *s) {
    bigram top = s->heap[0], last = s->heap[--s->heap_n];
    size_t i = 0, n = s->heap_n;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= n) break;
        if (c + 1 < n && before(&s->heap[c + 1], &s->heap[c])) c++;
        if (!before(&s->heap[c], &last)) break;
        s->heap[i] = s->heap[c];
        i = c;
    }
    if (n) s->heap[i] = last;
    return top;
}

static int try_bigram(const spm_model *m, spm_scratch *s, int32_t l, int32_t r) {
    if (l < 0 || r < 0) return 0;
    uint32_t size = s->len[l] + s->len[r];
    int32_t id = strmap_get(&m->v->map, s->text + s->start[l], size);
    if (id < 0) return 0;
    return heap_push(s, (bigram){m->v->score[id], l, r, size});
}

static int reserve(spm_scratch *s, size_t text_bytes, size_t n_sym) {
    if (text_bytes > s->text_cap) {
        char *t = realloc(s->text, text_bytes);
        if (!t) return fn_error("out of memory in the SPM encoder");
        s->text = t;
        s->text_cap = text_bytes;
    }
    if (n_sym > s->sym_cap) {
        uint32_t *a = realloc(s->start, n_sym * sizeof *a);
        if (a) s->start = a;
        uint32_t *b = realloc(s->len, n_sym * sizeof *b);
        if (b) s->len = b;
        int32_t *c = realloc(s->prev, n_sym * sizeof *c);
        if (c) s->prev = c;
        int32_t *d = realloc(s->next, n_sym * sizeof *d);
        if (d) s->next = d;
        if (!a || !b || !c || !d) return fn_error("out of memory in the SPM encoder");
        s->sym_cap = n_sym;
    }
    return 0;
}

/* Runs the merges among symbols [first, end), which link only to each other. */
static int merge_chunk(const spm_model *m, spm_scratch *s, int32_t first, int32_t end) {
    s->heap_n = 0;
    for (int32_t i = first + 1; i < end; i++)
        if (try_bigram(m, s, i - 1, i)) return -1;
    while (s->heap_n) {
        bigram g = heap_pop(s);
        int32_t l = g.left, r = g.right;
        if (!s->len[l] || !s->len[r] || s->len[l] + s->len[r] != g.size) continue; /* stale */
        s->len[l] += s->len[r];
        s->len[r] = 0;
        s->next[l] = s->next[r];
        if (s->next[l] >= 0) s->prev[s->next[l]] = l;
        if (try_bigram(m, s, s->prev[l], l) || try_bigram(m, s, l, s->next[l])) return -1;
    }
    return 0;
}

/* Appends the ids of the chunk starting at symbol first: a token per symbol, or its bytes. */
static int emit_chunk(const spm_model *m, spm_scratch *s, int32_t first, idvec *out) {
    for (int32_t i = first; i >= 0; i = s->next[i]) {
        const char *p = s->text + s->start[i];
        int32_t id = strmap_get(&m->v->map, p, s->len[i]);
        if (id >= 0) {
            if (idvec_push(out, id)) return -1;
            continue;
        }
        for (uint32_t k = 0; k < s->len[i]; k++) {
            int32_t b = m->byte_id[(uint8_t)p[k]];
            if (b >= 0 && idvec_push(out, b)) return -1;
        }
    }
    return 0;
}

static const char SPACE_MARK[3] = {'\xE2', '\x96', '\x81'}; /* U+2581 */

int spm_encode(const spm_model *m, spm_scratch *s, const char *text, size_t n, bool space_prefix,
               idvec *out) {
    if (n > UINT32_MAX / 4) return fn_error("text fragment too long for SPM (%zu bytes)", n);
    size_t max = 3 * (n + 1);
    if (reserve(s, max, max)) return -1;

    size_t e = 0;
    if (space_prefix) memcpy(s->text, SPACE_MARK, 3), e = 3;
    for (size_t i = 0; i < n; i++) {
        if (text[i] == ' ') memcpy(s->text + e, SPACE_MARK, 3), e += 3;
        else s->text[e++] = text[i];
    }
    if (!e) return 0;

    /* one symbol per character, its length taken from the lead byte as llama.cpp does */
    int32_t ns = 0;
    for (size_t o = 0; o < e; ns++) {
        size_t l = lead_len[(uint8_t)s->text[o] >> 4];
        if (l > e - o) l = e - o;
        s->start[ns] = (uint32_t)o;
        s->len[ns] = (uint32_t)l;
        s->prev[ns] = ns - 1;
        o += l;
        s->next[ns] = o < e ? ns + 1 : -1;
    }

    /* Cut the symbols into chunks where no token can span the cut: merges never cross it,
     * so merging each chunk alone (in order) gives the same result as the whole text. */
    int32_t chunk = 0;
    uint64_t prev_key = sym_key(s->text, s->len[0]);
    for (int32_t i = 1; i <= ns; i++) {
        uint64_t key = 0;
        if (i < ns) {
            key = sym_key(s->text + s->start[i], s->len[i]);
            if (pair_maybe(m, prev_key, key)) {
                prev_key = key;
                continue;
            }
            s->next[i - 1] = -1;
            s->prev[i] = -1;
        }
        const char *ct = s->text + s->start[chunk];
        size_t cn = (i < ns ? s->start[i] : e) - s->start[chunk];
        uint64_t h = 0;
        int hit = wordcache_get(&s->cache, ct, cn, &h, out);
        if (hit < 0) return -1;
        if (!hit) {
            size_t at = out->n;
            if (merge_chunk(m, s, chunk, i) || emit_chunk(m, s, chunk, out)) return -1;
            wordcache_put(&s->cache, h, ct, cn, out->n > at ? out->v + at : NULL, out->n - at);
        }
        chunk = i;
        prev_key = key;
    }
    return 0;
}
