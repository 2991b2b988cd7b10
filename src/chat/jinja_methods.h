/* jinja_methods.h - attributes and methods of strings, lists and dicts (`s.split(',')`,
 * `l.length`, `d.items()`, `loop.cycle(...)`). The reference's set (string: upper lower strip
 * lstrip rstrip title capitalize startswith endswith split replace length; list: length;
 * dict: get items keys values dictsort) behaves exactly as there, including its quirks
 * (strip() ignores its argument). Python methods the reference lacks (find, count, rsplit,
 * splitlines, join, format, append, pop, update, ...) are added with Python's semantics. */
#ifndef FENNEC_CHAT_JINJA_METHODS_H
#define FENNEC_CHAT_JINJA_METHODS_H

#include "chat/jinja_value.h"

/* The attribute `name` of obj that is not a dict key: a bound method, or a number for
 * `length`. Sets *out to undefined when there is none. Returns 0, or -1 on failure. */
int jmethod_lookup(jrt *rt, const jv *obj, const char *name, size_t len, jv *out);

/* Looks up and calls a method in one go (used by filters). -1 if there is no such method. */
int jmethod_call(jrt *rt, const jv *obj, const char *name, const jv *args, size_t nargs,
                 const jv_object *kw, jv *out);

/* String helpers shared with the filters. Results live in the render arena. */
int jmethod_upper(jrt *rt, const jv *s, jv *out);
int jmethod_lower(jrt *rt, const jv *s, jv *out);
int jmethod_title(jrt *rt, const jv *s, jv *out);      /* /\b\w/ upper-cased, rest kept */
int jmethod_capitalize(jrt *rt, const jv *s, jv *out); /* first unit upper-cased, rest kept */
jv jmethod_trim(const jv *s);                          /* JS String.prototype.trim */

#endif
