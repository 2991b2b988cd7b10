/* jinja_filters.h - the `value | name(args)` filters. The filters @huggingface/jinja has behave
 * exactly as there, including the split between the bare form (`x|trim`) and the called form
 * (`x|indent(2)`), which the reference dispatches differently. Filters it lacks or refuses
 * for a type (count, wordcount, batch, round, escape, select, reject, map(filter), sum, min,
 * max, center, truncate, string of none, ...) follow Python Jinja. */
#ifndef FENNEC_CHAT_JINJA_FILTERS_H
#define FENNEC_CHAT_JINJA_FILTERS_H

#include <stdbool.h>

#include "chat/jinja_value.h"

/* Applies filter `name` to x. `called` is true when the filter was written with parentheses;
 * literal_args tells that every argument was a string literal (the reference's selectattr
 * accepts nothing else). kw is NULL without keyword arguments. Returns 0 with *out set, or -1
 * with fn_error (unknown filter, wrong operand type, bad argument). */
int jfilter_apply(jrt *rt, const char *name, size_t len, bool called, const jv *x, const jv *args,
                  size_t nargs, const jv_object *kw, bool literal_args, jv *out);

#endif
