/* jinja_builtins.h - the global functions a chat template can call (namespace, range,
 * raise_exception, strftime_now) and the tests of `x is NAME`. Behaviour follows
 * @huggingface/jinja; tests it lacks (float, divisibleby, in, sameas, ...) follow Jinja. */
#ifndef FENNEC_CHAT_JINJA_BUILTINS_H
#define FENNEC_CHAT_JINJA_BUILTINS_H

#include "chat/jinja_value.h"

/* namespace(dict_or_pairs?, **attrs): a new namespace object. */
int jbuiltin_namespace(jrt *rt, const jv *self, const jv *args, size_t nargs, const jv_object *kw, jv *out);

/* range([start,] stop[, step]): a list of numbers; counts its length against the step budget. */
int jbuiltin_range(jrt *rt, const jv *self, const jv *args, size_t nargs, const jv_object *kw, jv *out);

/* raise_exception(message): fails the render with the template's message (rt->raised set). */
int jbuiltin_raise(jrt *rt, const jv *self, const jv *args, size_t nargs, const jv_object *kw, jv *out);

/* strftime_now(format): local time; supports %Y %m %d %b %B %H %M %% (others stay as is). */
int jbuiltin_strftime_now(jrt *rt, const jv *self, const jv *args, size_t nargs, const jv_object *kw, jv *out);

/* Applies the test `name` to x with optional arguments. Returns 0 with *out set, or -1 with
 * fn_error (unknown test, wrong operand type for even/odd, missing argument). */
int jbuiltin_test(jrt *rt, const char *name, size_t len, const jv *x, const jv *args, size_t nargs,
                  bool *out);

#endif
