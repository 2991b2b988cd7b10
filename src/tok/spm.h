/* spm.h - SentencePiece-style tokenization (tokenizer.ggml.model "llama"): score-driven
 * merges of adjacent pieces with byte fallback, as llama.cpp's llm_tokenizer_spm does.
 *
 * The text is cut into characters by their lead byte (invalid bytes stay single symbols
 * and come out as <0xNN> byte tokens, so any byte string round-trips); then the adjacent
 * pair whose concatenation is the highest-scoring token is merged, leftmost first among
 * equal scores, until no pair is a token. */
#ifndef FENNEC_TOK_SPM_H
#define FENNEC_TOK_SPM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tok/idvec.h"
#include "tok/vocab.h"

typedef struct {
    const tok_vocab *v;         /* borrowed */
    int32_t byte_id[256];       /* <0xNN> token, else the one-byte token, else unk, else -1 */
    uint64_t *pairs;            /* bitmap over hashed adjacent character pairs seen inside
                                 * any token: where a text's pair is absent, no merge can
                                 * cross, so the text is merged in independent chunks (owned) */
    size_t pairs_mask;          /* bits - 1 */
} spm_model;

/* Prepares the byte fallback and pair tables for v (which must outlive m). 0 or -1. */
int spm_init(spm_model *m, const tok_vocab *v);
void spm_free(spm_model *m);

typedef struct spm_scratch spm_scratch;
spm_scratch *spm_scratch_new(void);
void spm_scratch_free(spm_scratch *s);

/* Appends the ids of one raw-text fragment to out. The fragment is taken as is: callers add
 * the space prefix; spaces are escaped to U+2581 here. Returns 0 or -1 (out of memory). */
int spm_encode(const spm_model *m, spm_scratch *s, const char *text, size_t n, bool space_prefix,
               idvec *out);

#endif
