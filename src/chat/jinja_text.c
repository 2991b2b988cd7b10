/* jinja_text.c - UTF-8 helpers with JavaScript string semantics (see jinja_text.h). */
#include "chat/jinja_text.h"
#include "tok/utf8.h"

#include <string.h>
#include <wctype.h>

/* Decodes one code point; *bad tells a malformed sequence from a real U+FFFD. */
static uint32_t decode(const char *str, size_t len, size_t *i, bool *bad) {
    const unsigned char *s = (const unsigned char *)str;
    *bad = false;
    size_t p = *i;
    unsigned c = s[p];
    if (c < 0x80) {
        *i = p + 1;
        return c;
    }
    size_t need;
    uint32_t cp;
    unsigned lo = 0x80, hi = 0xBF;
    if (c >= 0xC2 && c <= 0xDF) {
        need = 1;
        cp = c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
        need = 2;
        cp = c & 0x0F;
        if (c == 0xE0) lo = 0xA0;
        if (c == 0xED) hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        need = 3;
        cp = c & 0x07;
        if (c == 0xF0) lo = 0x90;
        if (c == 0xF4) hi = 0x8F;
    } else {
        *i = p + 1;
        *bad = true;
        return JTEXT_REPLACEMENT;
    }
    size_t q = p + 1;
    for (size_t k = 0; k < need; k++, q++) {
        if (q >= len || s[q] < lo || s[q] > hi) {
            /* WHATWG: the maximal valid prefix is one error; resume at the offending byte. */
            *i = q > p + 1 ? q : p + 1;
            *bad = true;
            return JTEXT_REPLACEMENT;
        }
        lo = 0x80;
        hi = 0xBF;
        cp = (cp << 6) | (s[q] & 0x3F);
    }
    *i = q;
    return cp;
}

uint32_t jtext_decode(const char *s, size_t len, size_t *i) {
    bool bad;
    return decode(s, len, i, &bad);
}

size_t jtext_encode(uint32_t cp, char out[4]) {
    if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) cp = JTEXT_REPLACEMENT;
    return (size_t)utf8_encode(cp, out);
}

size_t jtext_sanitized_len(const char *src, size_t len) {
    size_t n = 0;
    for (size_t i = 0; i < len;) {
        size_t start = i;
        bool bad;
        decode(src, len, &i, &bad);
        n += bad ? 3 : i - start;
    }
    return n;
}

void jtext_sanitize(const char *src, size_t len, char *dst, uint32_t *map) {
    size_t o = 0;
    for (size_t i = 0; i < len;) {
        size_t start = i;
        bool bad;
        decode(src, len, &i, &bad);
        size_t n;
        if (bad) {
            n = jtext_encode(JTEXT_REPLACEMENT, dst + o);
        } else {
            n = i - start;
            memcpy(dst + o, src + start, n);
        }
        if (map)
            for (size_t k = 0; k < n; k++) map[o + k] = (uint32_t)start;
        o += n;
    }
}

bool jtext_is_space(uint32_t c) {
    if (c < 0x80) return c == ' ' || (c >= 0x09 && c <= 0x0D);
    return c == 0xA0 || c == 0x1680 || (c >= 0x2000 && c <= 0x200A) || c == 0x2028 ||
           c == 0x2029 || c == 0x202F || c == 0x205F || c == 0x3000 || c == 0xFEFF;
}

size_t jtext_space_prefix(const char *s, size_t len) {
    size_t i = 0;
    while (i < len) {
        size_t j = i;
        if (!jtext_is_space(jtext_decode(s, len, &j))) break;
        i = j;
    }
    return i;
}

size_t jtext_space_suffix1(const char *s, size_t len) {
    if (len == 0) return 0;
    unsigned char c = (unsigned char)s[len - 1];
    if (c < 0x80) return jtext_is_space(c) ? 1 : 0;
    /* Every non-ASCII JS space is 2 or 3 bytes long. */
    for (size_t n = 2; n <= 3 && n <= len; n++) {
        size_t j = len - n;
        uint32_t cp = jtext_decode(s, len, &j);
        if (j == len && jtext_is_space(cp)) return n;
    }
    return 0;
}

size_t jtext_trim_end(const char *s, size_t len) {
    size_t n;
    while ((n = jtext_space_suffix1(s, len)) > 0) len -= n;
    return len;
}

size_t jtext_utf16_len(const char *s, size_t len) {
    size_t n = 0;
    for (size_t i = 0; i < len;) n += jtext_decode(s, len, &i) >= 0x10000 ? 2 : 1;
    return n;
}

size_t jtext_cp_len(const char *s, size_t len) {
    size_t n = 0;
    for (size_t i = 0; i < len;) {
        jtext_decode(s, len, &i);
        n++;
    }
    return n;
}

size_t jtext_utf16_at(const char *s, size_t len, int64_t idx, char out[4]) {
    int64_t n = (int64_t)jtext_utf16_len(s, len);
    if (idx < 0) idx += n;
    if (idx < 0 || idx >= n) return 0;
    int64_t u = 0;
    for (size_t i = 0; i < len;) {
        uint32_t cp = jtext_decode(s, len, &i);
        int64_t w = cp >= 0x10000 ? 2 : 1;
        if (idx < u + w) return jtext_encode(w == 2 ? JTEXT_REPLACEMENT : cp, out);
        u += w;
    }
    return 0;
}

/* The first UTF-16 unit of cp, which decides JavaScript's ordering. */
static uint32_t utf16_key(uint32_t cp) {
    return cp < 0x10000 ? cp : 0xD800 + ((cp - 0x10000) >> 10);
}

int jtext_compare(const char *a, size_t an, const char *b, size_t bn) {
    size_t i = 0, j = 0;
    while (i < an && j < bn) {
        uint32_t x = jtext_decode(a, an, &i), y = jtext_decode(b, bn, &j);
        if (x == y) continue;
        uint32_t kx = utf16_key(x), ky = utf16_key(y);
        if (kx != ky) return kx < ky ? -1 : 1;
        return x < y ? -1 : 1;
    }
    if (i < an) return 1;
    if (j < bn) return -1;
    return 0;
}

size_t jtext_case_max(size_t len) { return 3 * len + 8; }

/* toUpperCase mappings to several code points (SpecialCasing.txt, unconditional ones). */
static const struct {
    uint32_t from;
    uint32_t to[3];
} UPPER_SPECIAL[] = {
    {0x00DF, {'S', 'S'}},          {0x0149, {0x02BC, 'N'}},       {0x01F0, {'J', 0x030C}},
    {0x0390, {0x0399, 0x0308, 0x0301}}, {0x03B0, {0x03A5, 0x0308, 0x0301}}, {0x0587, {0x0535, 0x0552}},
    {0x1E96, {'H', 0x0331}},       {0x1E97, {'T', 0x0308}},       {0x1E98, {'W', 0x030A}},
    {0x1E99, {'Y', 0x030A}},       {0x1E9A, {'A', 0x02BE}},       {0xFB00, {'F', 'F'}},
    {0xFB01, {'F', 'I'}},          {0xFB02, {'F', 'L'}},          {0xFB03, {'F', 'F', 'I'}},
    {0xFB04, {'F', 'F', 'L'}},     {0xFB05, {'S', 'T'}},          {0xFB06, {'S', 'T'}},
    {0xFB13, {0x0544, 0x0546}},    {0xFB14, {0x0544, 0x0535}},    {0xFB15, {0x0544, 0x053B}},
    {0xFB16, {0x054E, 0x0546}},    {0xFB17, {0x0544, 0x053D}},
    /* polytonic Greek (the iota-subscript ranges U+1F80..U+1FAF are computed) */
    {0x1F50, {0x03A5, 0x0313}},    {0x1F52, {0x03A5, 0x0313, 0x0300}}, {0x1F54, {0x03A5, 0x0313, 0x0301}},
    {0x1F56, {0x03A5, 0x0313, 0x0342}}, {0x1FB2, {0x1FBA, 0x0399}}, {0x1FB3, {0x0391, 0x0399}},
    {0x1FB4, {0x0386, 0x0399}},    {0x1FB6, {0x0391, 0x0342}},    {0x1FB7, {0x0391, 0x0342, 0x0399}},
    {0x1FBC, {0x0391, 0x0399}},    {0x1FC2, {0x1FCA, 0x0399}},    {0x1FC3, {0x0397, 0x0399}},
    {0x1FC4, {0x0389, 0x0399}},    {0x1FC6, {0x0397, 0x0342}},    {0x1FC7, {0x0397, 0x0342, 0x0399}},
    {0x1FCC, {0x0397, 0x0399}},    {0x1FD2, {0x0399, 0x0308, 0x0300}}, {0x1FD3, {0x0399, 0x0308, 0x0301}},
    {0x1FD6, {0x0399, 0x0342}},    {0x1FD7, {0x0399, 0x0308, 0x0342}}, {0x1FE2, {0x03A5, 0x0308, 0x0300}},
    {0x1FE3, {0x03A5, 0x0308, 0x0301}}, {0x1FE4, {0x03A1, 0x0313}}, {0x1FE6, {0x03A5, 0x0342}},
    {0x1FE7, {0x03A5, 0x0308, 0x0342}}, {0x1FF2, {0x1FFA, 0x0399}}, {0x1FF3, {0x03A9, 0x0399}},
    {0x1FF4, {0x038F, 0x0399}},    {0x1FF6, {0x03A9, 0x0342}},    {0x1FF7, {0x03A9, 0x0342, 0x0399}},
    {0x1FFC, {0x03A9, 0x0399}},
};

static bool is_letter(uint32_t cp, locale_t loc) {
    if (cp < 0x80) return (cp | 32) >= 'a' && (cp | 32) <= 'z';
    return loc != (locale_t)0 && iswalpha_l((wint_t)cp, loc);
}

static size_t map_case(const char *s, size_t len, locale_t loc, char *out, bool upper) {
    size_t o = 0;
    uint32_t prev = 0;
    for (size_t i = 0; i < len;) {
        uint32_t cp = jtext_decode(s, len, &i);
        uint32_t orig = cp;
        if (cp < 0x80) {
            if (upper && cp >= 'a' && cp <= 'z') cp -= 32;
            if (!upper && cp >= 'A' && cp <= 'Z') cp += 32;
            out[o++] = (char)cp;
            prev = orig;
            continue;
        }
        bool done = false;
        if (upper && cp >= 0x1F80 && cp <= 0x1FAF) { /* Greek letter with ypogegrammeni */
            static const uint32_t base[3] = {0x1F08, 0x1F28, 0x1F68};
            o += jtext_encode(base[(cp - 0x1F80) / 16] + (cp & 7), out + o);
            o += jtext_encode(0x0399, out + o);
            done = true;
        } else if (upper) {
            for (size_t k = 0; k < sizeof UPPER_SPECIAL / sizeof UPPER_SPECIAL[0] && !done; k++) {
                if (UPPER_SPECIAL[k].from != cp) continue;
                for (int j = 0; j < 3 && UPPER_SPECIAL[k].to[j]; j++) o += jtext_encode(UPPER_SPECIAL[k].to[j], out + o);
                done = true;
            }
        } else if (cp == 0x130) { /* dotted capital I */
            out[o++] = 'i';
            o += jtext_encode(0x307, out + o);
            done = true;
        } else if (cp == 0x3A3) { /* final sigma: after a letter and not before one */
            size_t j = i;
            uint32_t next = j < len ? jtext_decode(s, len, &j) : 0;
            if (is_letter(prev, loc) && !is_letter(next, loc)) {
                o += jtext_encode(0x3C2, out + o);
                done = true;
            }
        }
        if (!done) {
            if (loc != (locale_t)0) {
                wint_t m = upper ? towupper_l((wint_t)cp, loc) : towlower_l((wint_t)cp, loc);
                if (m > 0 && m <= 0x10FFFF) cp = (uint32_t)m;
            }
            o += jtext_encode(cp, out + o);
        }
        prev = orig;
    }
    return o;
}

size_t jtext_upper(const char *s, size_t len, locale_t loc, char *out) {
    return map_case(s, len, loc, out, true);
}

size_t jtext_lower(const char *s, size_t len, locale_t loc, char *out) {
    return map_case(s, len, loc, out, false);
}
