/* tokenizer_internal.h - the tokenizer object's layout, shared by tokenizer.c and detok.c
 * only. Everything in it is immutable after tokenizer_load. */
#ifndef FENNEC_TOK_TOKENIZER_INTERNAL_H
#define FENNEC_TOK_TOKENIZER_INTERNAL_H

#include "tok/bpe.h"
#include "tok/partition.h"
#include "tok/piece.h"
#include "tok/pretok.h"
#include "tok/spm.h"
#include "tok/tokenizer.h"
#include "tok/vocab.h"

struct tokenizer {
    tok_vocab v;                /* vocabulary, ids, attributes */
    const pretok_spec *spec;    /* BPE: the pre-tokenizer family (static table entry) */
    pretok *pre;                /* BPE: compiled split patterns (owned) */
    bpe_model *bpe;             /* BPE: merge table (owned) */
    spm_model spm;              /* SPM: byte fallback table */
    partition_index *pix;       /* special-token trie (owned) */
    piece_table pieces;         /* output bytes per token */
};

#endif
