/* jinja_filters_ext.h - filters (and filter/type pairs) that @huggingface/jinja rejects, with
 * Python Jinja's behaviour, plus helpers shared with jinja_filters.c. Internal to src/chat. */
#ifndef FENNEC_CHAT_JINJA_FILTERS_EXT_H
#define FENNEC_CHAT_JINJA_FILTERS_EXT_H

#include <stdbool.h>

#include "chat/jinja_value.h"

#define JFILTER_NOT_HANDLED 1

/* Applies an extension filter. Returns 0, -1 with fn_error, or JFILTER_NOT_HANDLED when
 * there is no extension for this name and operand type. */
int jfilter_ext(jrt *rt, const char *name, size_t len, bool called, const jv *x, const jv *args, size_t nargs,
                const jv_object *kw, jv *out);

/* True if name is any filter this interpreter knows (for the error message). */
bool jfilter_ext_known(const char *name, size_t len);

/* Shared with jinja_filters.c: */

/* The reference's attribute path lookup: "a.b.0" through dicts, namespaces and lists. */
jv jfilter_attribute(const jv *item, const char *path, size_t len);

/* The reference's join: items' values as JavaScript prints them, none/undefined as "". */
int jfilter_join_values(jrt *rt, const jv_array *a, const char *sep, size_t seplen, jv *out);

/* indent(width, first, blank) on a string. */
int jfilter_indent(jrt *rt, const jv *s, int64_t width, bool first, bool blank, jv *out);

/* selectattr / rejectattr over a list of dicts: attribute, optional test name and arguments. */
int jfilter_select_attr(jrt *rt, const jv_array *a, const jv *args, size_t nargs, bool select, jv *out);

/* Applies a filter by name (for map and select-like extensions). */
int jfilter_apply(jrt *rt, const char *name, size_t len, bool called, const jv *x, const jv *args,
                  size_t nargs, const jv_object *kw, bool literal_args, jv *out);

#endif
