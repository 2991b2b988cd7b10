/* jinja_ops.h - operators on values: arithmetic, comparison, membership, concatenation,
 * attribute/item access and slicing, each with @huggingface/jinja's rules (JavaScript
 * arithmetic on doubles, `==` as JavaScript's loose equality, `%` keeping the dividend's
 * sign, `x.y` on undefined giving undefined, negative indexes counting from the end). */
#ifndef FENNEC_CHAT_JINJA_OPS_H
#define FENNEC_CHAT_JINJA_OPS_H

#include "chat/jinja_parser.h"
#include "chat/jinja_value.h"

/* l OP r for every binary jop except and/or (which short-circuit in the evaluator).
 * Returns 0, or -1 with fn_error for unsupported operand types. */
int jops_binary(jrt *rt, int op, const jv *l, const jv *r, jv *out);

/* -x, +x (numbers and booleans). `not` is the evaluator's. */
int jops_unary(int op, const jv *x, jv *out);

/* obj[prop] / obj.prop: dict keys, then methods; list and string indexes; undefined when
 * missing. Errors for a key of the wrong type. */
int jops_member(jrt *rt, const jv *obj, const jv *prop, jv *out);

/* obj[start:stop:step] on a list or string (each bound an integer or undefined). */
int jops_slice(jrt *rt, const jv *obj, const jv *start, const jv *stop, const jv *step, jv *out);

#endif
