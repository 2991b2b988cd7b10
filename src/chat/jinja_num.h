/* jinja_num.h - numbers the way the reference interpreter (JavaScript) prints and parses them:
 * Number.prototype.toString, parseInt, parseFloat and the string-to-number conversion of
 * loose equality. Every template number is an IEEE double, integers included. */
#ifndef FENNEC_CHAT_JINJA_NUM_H
#define FENNEC_CHAT_JINJA_NUM_H

#include <stddef.h>

#define JNUM_BUF 40 /* enough for any formatted double */

/* Number.prototype.toString(): shortest round-trip digits, "1e+21" style exponents,
 * "NaN", "Infinity", and -0 as "0". Writes a NUL-terminated string; returns its length. */
size_t jnum_format(double v, char out[JNUM_BUF]);

/* How the reference prints a float value: integral values get ".0" (1.0, -0.0), others
 * as jnum_format. */
size_t jnum_format_float(double v, char out[JNUM_BUF]);

/* parseInt(s, 10) and parseFloat(s): leading whitespace, sign, the longest numeric prefix;
 * NaN when there is none. */
double jnum_parse_int(const char *s, size_t len);
double jnum_parse_float(const char *s, size_t len);

/* ToNumber(string): the whole trimmed string must be a numeric literal (decimal, 0x/0o/0b,
 * Infinity); the empty string is 0; anything else is NaN. */
double jnum_from_string(const char *s, size_t len);

/* Number.isInteger(v). */
int jnum_is_integral(double v);

#endif
