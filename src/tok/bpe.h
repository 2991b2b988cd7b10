/* bpe.h - byte-level BPE (tokenizer.ggml.model "gpt2"): the merge table and the merge
 * engine that turns one pre-tokenized word into token ids.
 *
 * Works on token ids rather than strings: every merge "a b" must name two tokens whose
 * concatenation is also a token (checked at load), so a word starts as one symbol per byte
 * and a merge replaces two adjacent ids by one. Merges are applied lowest rank first, the
 * leftmost pair first among equal ranks, with a binary heap (O(n log n) per word), which
 * gives exactly llama.cpp's llm_tokenizer_bpe_session results. */
#ifndef FENNEC_TOK_BPE_H
#define FENNEC_TOK_BPE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gguf/gguf.h"
#include "tok/idvec.h"
#include "tok/vocab.h"

typedef struct bpe_model bpe_model;

/* Reads tokenizer.ggml.merges from f and builds the merge table over v (which must
 * outlive the model). ignore_merges: a word that is itself a token is emitted whole.
 * Returns NULL with fn_error naming the first bad merge. */
bpe_model *bpe_new(const tok_vocab *v, const gguf_file *f, bool ignore_merges);
void bpe_free(bpe_model *m);

/* Per-call working memory, including a cache of words already encoded in this call.
 * Not shareable between threads; the model is. */
typedef struct bpe_scratch bpe_scratch;
bpe_scratch *bpe_scratch_new(void);
void bpe_scratch_free(bpe_scratch *s);

/* Appends the ids of word[0..n) (raw UTF-8 bytes, not the byte-level alphabet) to out.
 * A byte with no token of its own is emitted as its single-byte tokens, or dropped when
 * there are none, as llama.cpp does. Returns 0 or -1 (out of memory). */
int bpe_encode_word(const bpe_model *m, bpe_scratch *s, const char *word, size_t n, idvec *out);

/* GPT-2's byte-to-character map: the code point that stands for byte b in token texts. */
uint32_t bpe_byte_to_cp(uint8_t b);

/* The inverse: the byte that code point cp stands for, or -1 if it stands for none. */
int bpe_cp_to_byte(uint32_t cp);

#endif
