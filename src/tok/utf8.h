/* utf8.h - strict UTF-8 (RFC 3629) checks used by the tokenizers and the detokenizer.
 * Overlong forms, surrogates and code points above U+10FFFF are invalid. */
#ifndef FENNEC_TOK_UTF8_H
#define FENNEC_TOK_UTF8_H

#include <stddef.h>
#include <stdint.h>

/* U+FFFD REPLACEMENT CHARACTER in UTF-8. */
#define UTF8_REPLACEMENT "\xEF\xBF\xBD"

/* Classifies the bytes at s[0..n): returns the length (1-4) of the valid sequence that
 * starts there, 0 if s[0] cannot start a valid sequence given the bytes present, or -1 if
 * the n bytes are a valid but incomplete prefix of a sequence (more bytes could complete
 * it). n must be >= 1. */
int utf8_check(const uint8_t *s, size_t n);

/* Length of the longest prefix of s[0..n) that is valid UTF-8. */
size_t utf8_valid_prefix(const char *s, size_t n);

/* Makes s[0..n) valid UTF-8 by replacing every byte that does not start a valid sequence
 * with U+FFFD (one replacement per byte, as llama.cpp does for truncated sequences and
 * stray bytes). Returns NULL with *out_len = n when s is already valid (nothing to free);
 * otherwise a new malloc'ed buffer (caller frees) and its length in *out_len. On
 * allocation failure returns NULL with *out_len = (size_t)-1 and fn_error set. */
char *utf8_sanitize(const char *s, size_t n, size_t *out_len);

/* Writes the UTF-8 encoding of code point cp (<= 0x10FFFF) to out; returns 1-4. */
int utf8_encode(uint32_t cp, char out[4]);

/* Decodes the valid sequence of length len (from utf8_check) at s. */
uint32_t utf8_decode(const uint8_t *s, int len);

#endif
