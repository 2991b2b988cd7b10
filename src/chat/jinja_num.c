/* jinja_num.c - JavaScript number formatting and parsing (see jinja_num.h). */
#include "chat/jinja_num.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chat/jinja_text.h"

int jnum_is_integral(double v) { return isfinite(v) && floor(v) == v; }

/* Shortest decimal digits that round-trip to v (v finite, > 0): digits without dot into
 * dig (NUL-terminated) and the decimal exponent n such that v = 0.DIGITS * 10^n. */
static int shortest_digits(double v, char dig[20]) {
    char buf[40];
    for (int p = 1; p <= 17; p++) {
        snprintf(buf, sizeof buf, "%.*e", p - 1, v);
        if (strtod(buf, NULL) == v || p == 17) break;
    }
    /* buf is "d.ddde[+-]xx" or "de[+-]xx". */
    int k = 0;
    const char *c = buf;
    for (; *c && *c != 'e'; c++)
        if (*c >= '0' && *c <= '9') dig[k++] = *c;
    while (k > 1 && dig[k - 1] == '0') k--;
    dig[k] = 0;
    int e = *c == 'e' ? atoi(c + 1) : 0;
    return e + 1;
}

size_t jnum_format(double v, char out[JNUM_BUF]) {
    if (isnan(v)) return (size_t)snprintf(out, JNUM_BUF, "NaN");
    if (v == 0) return (size_t)snprintf(out, JNUM_BUF, "0");
    size_t o = 0;
    if (v < 0) {
        out[o++] = '-';
        v = -v;
    }
    if (isinf(v)) return o + (size_t)snprintf(out + o, JNUM_BUF - o, "Infinity");
    char dig[20];
    int n = shortest_digits(v, dig);
    int k = (int)strlen(dig);
    if (k <= n && n <= 21) {
        memcpy(out + o, dig, (size_t)k);
        o += (size_t)k;
        for (int i = 0; i < n - k; i++) out[o++] = '0';
    } else if (0 < n && n <= 21) {
        memcpy(out + o, dig, (size_t)n);
        o += (size_t)n;
        out[o++] = '.';
        memcpy(out + o, dig + n, (size_t)(k - n));
        o += (size_t)(k - n);
    } else if (-6 < n && n <= 0) {
        out[o++] = '0';
        out[o++] = '.';
        for (int i = 0; i < -n; i++) out[o++] = '0';
        memcpy(out + o, dig, (size_t)k);
        o += (size_t)k;
    } else {
        out[o++] = dig[0];
        if (k > 1) {
            out[o++] = '.';
            memcpy(out + o, dig + 1, (size_t)(k - 1));
            o += (size_t)(k - 1);
        }
        o += (size_t)snprintf(out + o, JNUM_BUF - o, "e%c%d", n - 1 >= 0 ? '+' : '-', abs(n - 1));
    }
    out[o] = 0;
    return o;
}

size_t jnum_format_float(double v, char out[JNUM_BUF]) {
    if (v == 0 && signbit(v)) return (size_t)snprintf(out, JNUM_BUF, "-0.0");
    /* toFixed(1) for integral values below 1e21; toString otherwise. */
    if (jnum_is_integral(v) && fabs(v) < 1e21) return (size_t)snprintf(out, JNUM_BUF, "%.1f", v);
    return jnum_format(v, out);
}

/* strtod over exactly s[0..len), which the caller has checked is a plain decimal literal. */
static double decimal_value(const char *s, size_t len) {
    char small[64];
    char *buf = len < sizeof small ? small : malloc(len + 1);
    if (!buf) return NAN;
    memcpy(buf, s, len);
    buf[len] = 0;
    double v = strtod(buf, NULL);
    if (buf != small) free(buf);
    return v;
}

static int is_digit(char c) { return c >= '0' && c <= '9'; }

double jnum_parse_int(const char *s, size_t len) {
    size_t i = jtext_space_prefix(s, len);
    size_t start = i;
    if (i < len && (s[i] == '+' || s[i] == '-')) i++;
    size_t d = i;
    while (i < len && is_digit(s[i])) i++;
    if (i == d) return NAN;
    return decimal_value(s + start, i - start);
}

/* Length of the longest StrDecimalLiteral prefix of s[i..) (sign included), 0 if none.
 * Sets *inf when it is [+-]Infinity. */
static size_t decimal_prefix(const char *s, size_t len, int *inf) {
    size_t i = 0;
    *inf = 0;
    if (i < len && (s[i] == '+' || s[i] == '-')) i++;
    if (len - i >= 8 && !memcmp(s + i, "Infinity", 8)) {
        *inf = 1;
        return i + 8;
    }
    size_t int_digits = 0, frac_digits = 0;
    while (i < len && is_digit(s[i])) i++, int_digits++;
    size_t end = int_digits ? i : 0;
    if (i < len && s[i] == '.') {
        size_t j = i + 1;
        while (j < len && is_digit(s[j])) j++, frac_digits++;
        if (int_digits || frac_digits) {
            i = j;
            end = i;
        }
    }
    if (!int_digits && !frac_digits) return 0;
    if (i < len && (s[i] == 'e' || s[i] == 'E')) {
        size_t j = i + 1;
        if (j < len && (s[j] == '+' || s[j] == '-')) j++;
        size_t e = j;
        while (j < len && is_digit(s[j])) j++;
        if (j > e) end = j;
    }
    return end;
}

double jnum_parse_float(const char *s, size_t len) {
    size_t i = jtext_space_prefix(s, len);
    int inf;
    size_t n = decimal_prefix(s + i, len - i, &inf);
    if (n == 0) return NAN;
    if (inf) return s[i] == '-' ? -INFINITY : INFINITY;
    return decimal_value(s + i, n);
}

double jnum_from_string(const char *s, size_t len) {
    size_t i = jtext_space_prefix(s, len);
    len = jtext_trim_end(s, len);
    if (i >= len) return 0;
    s += i;
    len -= i;
    if (len > 2 && s[0] == '0') {
        int base = 0;
        char c = s[1];
        if (c == 'x' || c == 'X') base = 16;
        if (c == 'o' || c == 'O') base = 8;
        if (c == 'b' || c == 'B') base = 2;
        if (base) {
            double v = 0;
            for (size_t k = 2; k < len; k++) {
                int d;
                char h = s[k];
                if (h >= '0' && h <= '9') d = h - '0';
                else if (h >= 'a' && h <= 'f') d = h - 'a' + 10;
                else if (h >= 'A' && h <= 'F') d = h - 'A' + 10;
                else return NAN;
                if (d >= base) return NAN;
                v = v * base + d;
            }
            return v;
        }
    }
    int inf;
    size_t n = decimal_prefix(s, len, &inf);
    if (n != len) return NAN;
    if (inf) return s[0] == '-' ? -INFINITY : INFINITY;
    return decimal_value(s, len);
}
