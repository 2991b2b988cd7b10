/* synth_vocab.h - a small built-in byte-level BPE tokenizer (GPT-2 byte mapping, merges
 * learned at start from a built-in text, ChatML special tokens and a chat template), so
 * synthetic models need no outside file. */
#ifndef FENNEC_MODEL_SYNTH_VOCAB_H
#define FENNEC_MODEL_SYNTH_VOCAB_H

#include "gguf/gguf.h"

/* Writes the tokenizer.* keys of the built-in vocabulary with about n_merges merges.
 * Sets *n_vocab to its size. Returns 0 or -1. Deterministic. */
int synth_vocab_write(gguf_writer *w, int n_merges, uint32_t *n_vocab);

#endif
