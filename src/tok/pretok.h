/* pretok.h - byte-level BPE pre-tokenizers: the word-splitting regexes selected by a GGUF's
 * tokenizer.ggml.pre, compiled with PCRE2 (UTF + UCP, JIT when available).
 *
 * A pre-tokenizer is a list of patterns applied in turn, as llama.cpp does: each pattern
 * splits every piece left by the previous one into its matches and the gaps between them
 * (both kept). The patterns reproduce llama.cpp's observable splits, including where its
 * hand-written splitters or its std::regex "collapsed" text differ from the upstream
 * regexes: \s is Unicode White_Space, letter/number/mark/punctuation/symbol classes follow
 * llama.cpp's Unicode 15 tables, and non-ASCII white space never matches a literal class.
 *
 * An empty or missing tokenizer.ggml.pre selects "default" (as llama.cpp does, with its
 * warning); any name not in the table is an error rather than a silent fallback, because
 * a wrong split changes every token id. */
#ifndef FENNEC_TOK_PRETOK_H
#define FENNEC_TOK_PRETOK_H

#include <stdbool.h>
#include <stddef.h>

#define PRETOK_MAX_PATTERNS 6

typedef struct {
    const char *names[16];                         /* tokenizer.ggml.pre values, NULL-ended */
    const char *patterns[PRETOK_MAX_PATTERNS + 1]; /* applied in order, NULL-ended */
    bool ignore_merges;  /* a word that is itself a token is emitted without merging */
    bool add_bos;        /* default of tokenizer.ggml.add_bos_token for this family */
    bool no_bos;         /* the family has no default BOS id */
} pretok_spec;

/* The spec for a tokenizer.ggml.pre value ("" means default), or NULL if unknown. */
const pretok_spec *pretok_find(const char *name);

/* All specs, for tests and tools: *n receives the count. */
const pretok_spec *pretok_all(size_t *n);

typedef struct pretok pretok;

/* Compiles spec's patterns. Returns NULL with fn_error on failure. Free with pretok_free.
 * The result is immutable and may be shared by threads. */
pretok *pretok_new(const pretok_spec *spec);
void pretok_free(pretok *p);

/* Per-call matching state (PCRE2 match data, JIT stack): one per thread or call. */
typedef struct pretok_scratch pretok_scratch;
pretok_scratch *pretok_scratch_new(const pretok *p);
void pretok_scratch_free(pretok_scratch *s);

/* Receives each word in order; returns 0 to go on or -1 to stop with an error. */
typedef int (*pretok_word_fn)(void *ctx, const char *word, size_t len);

/* Splits text[0..len), which must be valid UTF-8, into words and calls fn for each
 * non-empty word, in order; the words tile the text. Returns 0, or -1 with fn_error set
 * (a regex engine failure, or fn's own -1). */
int pretok_split(const pretok *p, pretok_scratch *s, const char *text, size_t len,
                 pretok_word_fn fn, void *ctx);

#endif
