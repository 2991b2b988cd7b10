/* tokenizer.h - text <-> token ids for a model's vocabulary (GGUF tokenizer.ggml.* keys):
 * byte-level BPE with per-family pre-tokenizers ("gpt2") and SentencePiece ("llama"),
 * special-token handling and a streaming detokenizer. Matches llama.cpp token for token.
 *
 * A tokenizer is immutable after tokenizer_load: any number of threads may encode and
 * decode with it at once (every call keeps its working memory to itself).
 *
 * Invalid UTF-8 in text to encode is never an error. BPE vocabularies see each byte that
 * does not start a valid sequence as U+FFFD (as llama.cpp does for stray and truncated
 * bytes; llama.cpp decodes overlong forms and surrogates leniently and fails on code points
 * above U+10FFFF, where fennec also substitutes U+FFFD). SentencePiece vocabularies keep
 * the bytes and encode them with <0xNN> byte tokens, as llama.cpp does. */
#ifndef FENNEC_TOK_TOKENIZER_H
#define FENNEC_TOK_TOKENIZER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gguf/gguf.h"

typedef struct tokenizer tokenizer;

/* Builds the tokenizer from f's metadata; f may be closed afterwards. Returns NULL with
 * fn_errmsg() naming the key and the problem: missing or mistyped keys, arrays of the
 * wrong length, special ids out of range, merges naming tokens not in the vocabulary,
 * an unsupported tokenizer.ggml.model, or a tokenizer.ggml.pre this build does not know
 * (an empty or missing one means "default", as in llama.cpp). Free with tokenizer_free. */
tokenizer *tokenizer_load(const gguf_file *f);
void tokenizer_free(tokenizer *t);

/* Encodes text[0..len) (any bytes; see above for invalid UTF-8). parse_special: text that
 * spells a control token (e.g. "<|im_start|>") becomes that token; when false it is
 * encoded as plain text, so user content can never inject control tokens (tokens the
 * vocabulary marks USER_DEFINED are split out either way, as in llama.cpp and Hugging
 * Face). add_bos: prepend the BOS token (an error if the model has none); see
 * tokenizer_wants_bos for the model's own preference. On success *ids is a new malloc'ed
 * array (caller frees; NULL when *n is 0) and returns 0; on failure returns -1 with
 * fn_error set and *ids = NULL, *n = 0. */
int tokenizer_encode(const tokenizer *t, const char *text, size_t len, bool parse_special,
                     bool add_bos, int32_t **ids, size_t *n);

/* Vocabulary size; valid ids are 0 .. n_vocab-1. */
uint32_t tokenizer_n_vocab(const tokenizer *t);

/* "gpt2" or "llama", and the pre-tokenizer name ("" for default). Valid while t lives. */
const char *tokenizer_model(const tokenizer *t);
const char *tokenizer_pre(const tokenizer *t);

/* Special ids, -1 when the model has none. eot/eom/fim ids not in the file are found by
 * their usual texts ("<|im_end|>", "<|fim_prefix|>", ...), as llama.cpp does. */
int32_t tokenizer_bos(const tokenizer *t);
int32_t tokenizer_eos(const tokenizer *t);
int32_t tokenizer_eot(const tokenizer *t);
int32_t tokenizer_eom(const tokenizer *t);
int32_t tokenizer_pad(const tokenizer *t);
int32_t tokenizer_unk(const tokenizer *t);
int32_t tokenizer_sep(const tokenizer *t);
typedef enum { TOK_FIM_PRE, TOK_FIM_SUF, TOK_FIM_MID, TOK_FIM_PAD, TOK_FIM_REP, TOK_FIM_SEP } tok_fim;
int32_t tokenizer_fim(const tokenizer *t, tok_fim which);

/* Whether the model wants BOS / EOS added around a prompt (tokenizer.ggml.add_bos_token,
 * add_eos_token, or the family's default). */
bool tokenizer_wants_bos(const tokenizer *t);
bool tokenizer_wants_eos(const tokenizer *t);

/* Whether encoding puts a space before the text (SentencePiece's add_space_prefix), so
 * that decoding a whole encoded text should drop it. */
bool tokenizer_adds_space_prefix(const tokenizer *t);

/* True if id ends generation (eos, eot, eom, <|im_end|>, <|endoftext|>, ...). False for
 * ids out of range. */
bool tokenizer_is_eog(const tokenizer *t, int32_t id);

/* True if id is a control (or unknown) token: not rendered unless asked. */
bool tokenizer_is_control(const tokenizer *t, int32_t id);

/* The id whose vocabulary text is exactly text[0..len), or -1. */
int32_t tokenizer_find(const tokenizer *t, const char *text, size_t len);

/* The vocabulary's own text for id (e.g. "Ġhello", "<0x0A>"), NUL-terminated, or NULL if
 * id is out of range. Valid while t lives. */
const char *tokenizer_token_text(const tokenizer *t, int32_t id, size_t *len);

/* The bytes id stands for in output text (a piece; may be part of a UTF-8 character), or
 * NULL if id is out of range. NUL-terminated for convenience, but a piece may hold NUL
 * bytes itself (<0x00>): use *len. Tokens the file types CONTROL or UNKNOWN give their
 * text when special is true and "" otherwise. (Tokens llama.cpp only promotes to control
 * by their text, like Qwen2's ordinary "</s>", always render, unlike in llama.cpp: they
 * can come out of plain text, and decoding must give that text back.) Valid while t
 * lives. */
const char *tokenizer_piece(const tokenizer *t, int32_t id, bool special, size_t *len);

/* ---- streaming detokenizer -----------------------------------------------------------
 * Token ids arrive one at a time; the text handed out is always valid UTF-8 and never
 * splits a character: bytes of an unfinished character are held until the next token
 * completes them, and bytes that cannot become valid are replaced by U+FFFD. For valid
 * UTF-8 s, decoding tokenizer_encode(s) gives s back (SentencePiece models: with
 * strip_space, since encoding adds the leading space). */

typedef struct {
    const tokenizer *tok;       /* borrowed */
    bool render_special;        /* show control tokens' texts */
    bool strip_space;           /* drop one leading space from the first token's piece */
    bool started;               /* a token was pushed */
    uint8_t held[4];            /* an unfinished UTF-8 character (at most 3 bytes) */
    size_t n_held;
    char *buf;                  /* output handed out by the last call (owned) */
    size_t cap;
} detok_state;

/* Starts a stream. strip_space is set to the model's add_space_prefix (SentencePiece):
 * right for decoding a whole encoded text, wrong for text generated after a prompt, so
 * clear it then. */
void detok_init(detok_state *d, const tokenizer *t, bool render_special);
void detok_free(detok_state *d);

/* Feeds one id. On success returns 0 and sets *out / *out_len to the text now complete
 * (possibly empty), valid until the next call on d. Returns -1 with fn_error for an id out
 * of range or out of memory. */
int detok_push(detok_state *d, int32_t id, const char **out, size_t *out_len);

/* Ends the stream: held bytes come out as U+FFFD each. Same contract as detok_push. */
int detok_flush(detok_state *d, const char **out, size_t *out_len);

/* Decodes a whole id sequence as a stream would (detok_push each, then detok_flush).
 * *text is a new malloc'ed NUL-terminated string (caller frees). Returns 0 or -1. */
int tokenizer_decode(const tokenizer *t, const int32_t *ids, size_t n, bool render_special,
                     bool strip_space, char **text, size_t *len);

#endif
