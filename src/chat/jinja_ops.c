/* jinja_ops.c - operators, member access and slicing on values (see jinja_ops.h). */
#include "chat/jinja_ops.h"

#include <math.h>
#include <string.h>

#include "base/error.h"
#include "chat/jinja_methods.h"
#include "chat/jinja_text.h"

static const char *op_name(int op) {
    static const char *const names[] = {"or", "and", "==", "!=", "<", ">", "<=", ">=", "in", "not in",
                                        "+",  "-",   "~",  "*",  "/", "//", "%", "**", "not", "-", "+"};
    return op >= 0 && op < (int)FN_ARRAY_LEN(names) ? names[op] : "?";
}

static bool num_like(const jv *v) { return jv_is_num(v) || v->type == JV_BOOL; }
static double num_of(const jv *v) { return v->type == JV_BOOL ? (v->u.b ? 1 : 0) : v->u.n; }

static int concat(jrt *rt, const jv *l, const jv *r, jv *out) {
    jbuf b;
    jbuf_init(&b, &rt->arena, rt->max_output);
    if (jv_write_raw(rt, l, &b) || jv_write_raw(rt, r, &b)) return -1;
    *out = jv_str_buf(&b);
    return 0;
}

/* JavaScript's ** (Math.pow differs from C's pow on NaN/infinite exponents of +-1). */
static double js_pow(double a, double b) {
    if (isnan(b)) return NAN;
    if (isinf(b) && fabs(a) == 1) return NAN;
    return pow(a, b);
}

int jops_binary(jrt *rt, int op, const jv *l, const jv *r, jv *out) {
    if (op == JOP_EQ || op == JOP_NE) {
        bool eq;
        if (jv_loose_eq(rt, l, r, &eq)) return -1;
        *out = jv_bool(op == JOP_EQ ? eq : !eq);
        return 0;
    }
    bool in_op = op == JOP_IN || op == JOP_NOT_IN;
    if (l->type == JV_UNDEFINED || r->type == JV_UNDEFINED) {
        if (r->type == JV_UNDEFINED && in_op) return *out = jv_bool(op == JOP_NOT_IN), 0;
        return fn_error("cannot apply '%s' to an undefined value", op_name(op));
    }
    if (l->type == JV_NULL || r->type == JV_NULL) return fn_error("cannot apply '%s' to none", op_name(op));
    if (op == JOP_CONCAT) return concat(rt, l, r, out);
    if (op == JOP_POW && num_like(l) && num_like(r)) {
        double a = num_of(l), b = num_of(r);
        if (a == 0 && b < 0) return fn_error("0 cannot be raised to a negative power");
        double v = js_pow(a, b);
        if (!isfinite(v)) return fn_error("'**' result is not a finite real number");
        *out = l->type == JV_FLOAT || r->type == JV_FLOAT || b < 0 ? jv_float(v) : jv_int(v);
        return 0;
    }
    if (jv_is_num(l) && jv_is_num(r)) {
        double a = l->u.n, b = r->u.n;
        bool is_float = l->type == JV_FLOAT || r->type == JV_FLOAT;
        switch (op) {
        case JOP_ADD: return *out = is_float ? jv_float(a + b) : jv_int(a + b), 0;
        case JOP_SUB: return *out = is_float ? jv_float(a - b) : jv_int(a - b), 0;
        case JOP_MUL: return *out = is_float ? jv_float(a * b) : jv_int(a * b), 0;
        case JOP_DIV: return *out = jv_float(a / b), 0;
        case JOP_FLOORDIV: return *out = is_float ? jv_float(floor(a / b)) : jv_int(floor(a / b)), 0;
        case JOP_MOD: return *out = is_float ? jv_float(fmod(a, b)) : jv_int(fmod(a, b)), 0;
        case JOP_LT: return *out = jv_bool(a < b), 0;
        case JOP_GT: return *out = jv_bool(a > b), 0;
        case JOP_GE: return *out = jv_bool(a >= b), 0;
        case JOP_LE: return *out = jv_bool(a <= b), 0;
        }
    } else if (l->type == JV_ARRAY && r->type == JV_ARRAY) {
        if (op == JOP_ADD) {
            jv_array *a = jv_array_new(rt, (size_t)l->u.a->len + r->u.a->len);
            if (!a) return -1;
            if (l->u.a->len) memcpy(a->items, l->u.a->items, l->u.a->len * sizeof(jv));
            if (r->u.a->len) memcpy(a->items + l->u.a->len, r->u.a->items, r->u.a->len * sizeof(jv));
            a->len = l->u.a->len + r->u.a->len;
            return *out = jv_arr(a, false), 0;
        }
    } else if (r->type == JV_ARRAY && in_op) {
        bool found = false;
        for (uint32_t i = 0; i < r->u.a->len && !found; i++) found = jv_strict_eq(&r->u.a->items[i], l);
        return *out = jv_bool(op == JOP_IN ? found : !found), 0;
    }
    if ((l->type == JV_STR || r->type == JV_STR) && op == JOP_ADD) return concat(rt, l, r, out);
    if (l->type == JV_STR && r->type == JV_STR && in_op) {
        bool found = l->u.s.len == 0 || memmem(r->u.s.p, r->u.s.len, l->u.s.p, l->u.s.len) != NULL;
        return *out = jv_bool(op == JOP_IN ? found : !found), 0;
    }
    if (l->type == JV_STR && r->type == JV_OBJECT && in_op) {
        bool found = jv_object_get(r->u.o, l->u.s.p, l->u.s.len) != NULL;
        return *out = jv_bool(op == JOP_IN ? found : !found), 0;
    }
    return fn_error("operator '%s' is not supported between %s and %s", op_name(op), jv_type_name(l), jv_type_name(r));
}

int jops_unary(int op, const jv *x, jv *out) {
    if (!num_like(x)) return fn_error("unary '%s' needs a number, got %s", op_name(op), jv_type_name(x));
    double v = (op == JOP_NEG ? -1 : 1) * num_of(x);
    *out = x->type == JV_FLOAT ? jv_float(v) : jv_int(v);
    return 0;
}

int jops_member(jrt *rt, const jv *obj, const jv *prop, jv *out) {
    *out = jv_undef();
    if (jv_is_map(obj)) {
        if (prop->type != JV_STR) return fn_error("a %s key must be a string, got %s", jv_type_name(obj), jv_type_name(prop));
        const jv *v = jv_object_get(obj->u.o, prop->u.s.p, prop->u.s.len);
        if (v) return *out = *v, 0;
        if (obj->type == JV_OBJECT) return jmethod_lookup(rt, obj, prop->u.s.p, prop->u.s.len, out);
        return 0;
    }
    if (obj->type == JV_ARRAY || obj->type == JV_STR) {
        if (prop->type == JV_INT) {
            double i = prop->u.n;
            if (obj->type == JV_ARRAY) {
                double n = obj->u.a->len;
                if (i < 0) i += n;
                if (i >= 0 && i < n) *out = obj->u.a->items[(size_t)i];
                return 0;
            }
            char ch[4];
            int64_t idx = i < -1e15 ? (int64_t)-1e15 : i > 1e15 ? (int64_t)1e15 : (int64_t)i;
            size_t n = jtext_utf16_at(obj->u.s.p, obj->u.s.len, idx, ch);
            return n ? jv_str_copy(rt, ch, n, out) : 0;
        }
        if (prop->type == JV_STR) return jmethod_lookup(rt, obj, prop->u.s.p, prop->u.s.len, out);
        return fn_error("a %s index must be an integer or a name, got %s", jv_type_name(obj), jv_type_name(prop));
    }
    if (prop->type != JV_STR) return fn_error("cannot index a %s with a %s", jv_type_name(obj), jv_type_name(prop));
    return 0;
}

/* Clamps a double index to something int64 arithmetic handles. */
static int64_t clamp(double v) { return v < -9e15 ? (int64_t)-9e15 : v > 9e15 ? (int64_t)9e15 : (int64_t)v; }

int jops_slice(jrt *rt, const jv *obj, const jv *start, const jv *stop, const jv *step, jv *out) {
    if (obj->type != JV_ARRAY && obj->type != JV_STR) return fn_error("cannot slice a %s", jv_type_name(obj));
    const jv *bounds[3] = {start, stop, step};
    for (int k = 0; k < 3; k++)
        if (bounds[k]->type != JV_INT && bounds[k]->type != JV_UNDEFINED)
            return fn_error("slice bounds must be integers, got %s", jv_type_name(bounds[k]));
    /* Strings slice by code point (Array.from). */
    size_t *offs = NULL;
    int64_t len;
    if (obj->type == JV_ARRAY) {
        len = obj->u.a->len;
    } else {
        len = (int64_t)jtext_cp_len(obj->u.s.p, obj->u.s.len);
        offs = jarena_alloc(&rt->arena, ((size_t)len + 1) * sizeof *offs);
        if (!offs) return -1;
        size_t k = 0;
        for (size_t i = 0; i < obj->u.s.len;) {
            offs[k++] = i;
            jtext_decode(obj->u.s.p, obj->u.s.len, &i);
        }
        offs[k] = obj->u.s.len;
    }
    int64_t st = step->type == JV_INT ? clamp(step->u.n) : 1;
    int dir = st > 0 ? 1 : st < 0 ? -1 : 0;
    int64_t a, b;
    if (dir >= 0) {
        a = start->type == JV_INT ? clamp(start->u.n) : 0;
        b = stop->type == JV_INT ? clamp(stop->u.n) : len;
        a = a < 0 ? (len + a > 0 ? len + a : 0) : (a < len ? a : len);
        b = b < 0 ? (len + b > 0 ? len + b : 0) : (b < len ? b : len);
    } else {
        a = start->type == JV_INT ? clamp(start->u.n) : len - 1;
        b = stop->type == JV_INT ? clamp(stop->u.n) : -1;
        a = a < 0 ? (len + a > -1 ? len + a : -1) : (a < len - 1 ? a : len - 1);
        b = b < -1 ? (len + b > -1 ? len + b : -1) : (b < len - 1 ? b : len - 1);
    }
    jv_array *arr = NULL;
    jbuf sb;
    jbuf_init(&sb, &rt->arena, rt->max_output);
    if (obj->type == JV_ARRAY && !(arr = jv_array_new(rt, 0))) return -1;
    if (dir != 0) {
        for (int64_t i = a; dir * i < dir * b; i += st) {
            if (obj->type == JV_ARRAY) {
                if (jv_array_push(rt, arr, obj->u.a->items[i])) return -1;
            } else if (jbuf_put(&sb, obj->u.s.p + offs[i], offs[i + 1] - offs[i])) {
                return -1;
            }
        }
    }
    *out = obj->type == JV_ARRAY ? jv_arr(arr, false) : jv_str_buf(&sb);
    return 0;
}
