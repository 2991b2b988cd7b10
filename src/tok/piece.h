/* piece.h - the output bytes of every token, computed once at load: byte-level BPE texts
 * mapped back to bytes, SentencePiece's U+2581 back to spaces, <0xNN> to the byte. */
#ifndef FENNEC_TOK_PIECE_H
#define FENNEC_TOK_PIECE_H

#include <stdint.h>

#include "tok/vocab.h"

typedef struct {
    char *buf;                  /* all pieces back to back, each followed by a NUL (owned) */
    uint32_t *off;              /* [n] piece i = buf[off[i] .. +len[i]) (owned) */
    uint32_t *len;              /* [n] (owned) */
} piece_table;

/* Builds the pieces of v's tokens as llama.cpp's token_to_piece(special = true) would:
 * control, unknown and user-defined tokens give their text; normal tokens their decoded
 * bytes (a character outside GPT-2's byte alphabet gives "[UNK_BYTE_0x..]", as there);
 * byte tokens their byte; other types nothing. Returns 0 or -1 (out of memory). */
int piece_table_build(piece_table *p, const tok_vocab *v);
void piece_table_free(piece_table *p);

#endif
