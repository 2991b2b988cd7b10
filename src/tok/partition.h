/* partition.h - splitting special tokens out of raw text before it is tokenized, with
 * llama.cpp's rules (tokenizer_st_partition): special tokens are tried longest text first;
 * each one cuts every remaining raw fragment at all its occurrences, left to right; a token
 * marked LSTRIP / RSTRIP swallows the ASCII white space on that side. Without parse_special
 * only USER_DEFINED tokens are split out; CONTROL and UNKNOWN ones stay plain text. */
#ifndef FENNEC_TOK_PARTITION_H
#define FENNEC_TOK_PARTITION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tok/vocab.h"

typedef struct {
    size_t off, len;            /* raw text text[off .. off+len) when token < 0 */
    int32_t token;              /* a special token id, or -1 for raw text */
} tok_fragment;

typedef struct {
    tok_fragment *v;            /* n used of cap (owned) */
    size_t n, cap;
} fragvec;

void fragvec_free(fragvec *f);

/* A byte trie over the special tokens' texts, to find which occur in a text in one pass. */
typedef struct partition_index partition_index;

/* Builds the index for v's special tokens (v must outlive it). NULL with fn_error on OOM. */
partition_index *partition_index_new(const tok_vocab *v);
void partition_index_free(partition_index *ix);

/* Replaces out's contents with the fragments of text[0..len), in order. Returns 0 or -1
 * (out of memory). */
int partition_split(const partition_index *ix, const char *text, size_t len, bool parse_special,
                    fragvec *out);

#endif
