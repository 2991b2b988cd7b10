/* jinja_text.h - UTF-8 text helpers with the string semantics the chat-template interpreter
 * copies from JavaScript (@huggingface/jinja is the reference): JS whitespace, UTF-16 lengths
 * and indexing, UTF-16 ordering, and Unicode case mapping. All strings are (pointer, length)
 * byte ranges of UTF-8; none of these functions allocate. */
#ifndef FENNEC_CHAT_JINJA_TEXT_H
#define FENNEC_CHAT_JINJA_TEXT_H

#include <locale.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define JTEXT_REPLACEMENT 0xFFFDu

/* Decodes the code point at s[*i] (i < len) and advances *i past it. Malformed or truncated
 * sequences decode as U+FFFD and advance by one byte. */
uint32_t jtext_decode(const char *s, size_t len, size_t *i);

/* Writes cp (<= 0x10FFFF, surrogates become U+FFFD) as UTF-8 into out; returns 1..4. */
size_t jtext_encode(uint32_t cp, char out[4]);

/* Length in bytes of the valid UTF-8 that `jtext_sanitize` would write for src: every
 * malformed sequence is replaced by U+FFFD the way a WHATWG decoder (Node's readFile) does. */
size_t jtext_sanitized_len(const char *src, size_t len);

/* Writes the sanitized text into dst (jtext_sanitized_len bytes) and, if map is non-NULL,
 * the source offset of every written byte into map[]. */
void jtext_sanitize(const char *src, size_t len, char *dst, uint32_t *map);

/* JavaScript's WhiteSpace and LineTerminator set (what `\s` and String.prototype.trim use). */
bool jtext_is_space(uint32_t cp);

/* `\w` without the u flag: ASCII letters, digits and underscore. */
static inline bool jtext_is_word(unsigned char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

/* Bytes of leading JS whitespace in s. */
size_t jtext_space_prefix(const char *s, size_t len);

/* Length of s once trailing JS whitespace is removed. */
size_t jtext_trim_end(const char *s, size_t len);

/* Length of the whitespace code point that ends s (0 if s does not end in whitespace). */
size_t jtext_space_suffix1(const char *s, size_t len);

/* Number of UTF-16 code units (JavaScript's String.length). */
size_t jtext_utf16_len(const char *s, size_t len);

/* Number of code points. */
size_t jtext_cp_len(const char *s, size_t len);

/* JavaScript's String.prototype.at(idx): the UTF-16 unit at idx (negative counts from the
 * end) as UTF-8 in out. A lone surrogate half becomes U+FFFD. Returns the byte count, or 0
 * if idx is out of range. */
size_t jtext_utf16_at(const char *s, size_t len, int64_t idx, char out[4]);

/* Compares in UTF-16 code-unit order like JavaScript's `<`: <0, 0 or >0. */
int jtext_compare(const char *a, size_t an, const char *b, size_t bn);

/* Case mapping like String.prototype.toUpperCase/toLowerCase. `loc` is a C.UTF-8 locale
 * used for non-ASCII letters; with (locale_t)0 only ASCII letters change. Writes at most
 * jtext_case_max(len) bytes into out and returns the count. */
size_t jtext_case_max(size_t len);
size_t jtext_upper(const char *s, size_t len, locale_t loc, char *out);
size_t jtext_lower(const char *s, size_t len, locale_t loc, char *out);

#endif
