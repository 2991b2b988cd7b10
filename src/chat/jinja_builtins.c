/* jinja_builtins.c - global functions and tests (see jinja_builtins.h). */
#include "chat/jinja_builtins.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "base/error.h"
#include "chat/jinja_text.h"

/* ---- global functions ------------------------------------------------------------------- */

/* One namespace(...) entry from a [key, value] pair or a two-character string. */
static int namespace_pair(jrt *rt, jv_object *o, const jv *pair) {
    jv key, val;
    if (pair->type == JV_ARRAY && pair->u.a->len == 2) {
        key = pair->u.a->items[0];
        val = pair->u.a->items[1];
    } else if (pair->type == JV_STR && jtext_cp_len(pair->u.s.p, pair->u.s.len) == 2) {
        size_t i = 0;
        jtext_decode(pair->u.s.p, pair->u.s.len, &i);
        key = jv_str(pair->u.s.p, i);
        val = jv_str(pair->u.s.p + i, pair->u.s.len - i);
    } else {
        return fn_error("namespace() expected a dict or an iterable of [key, value] pairs");
    }
    if (key.type != JV_STR) return fn_error("namespace() keys must be strings");
    return jv_object_set(rt, o, key.u.s.p, key.u.s.len, val);
}

int jbuiltin_namespace(jrt *rt, const jv *self, const jv *args, size_t nargs, const jv_object *kw, jv *out) {
    if (nargs > 1) return fn_error("namespace() takes at most 1 positional argument, got %zu", nargs);
    jv_object *o = jv_object_new(rt);
    if (!o) return -1;
    if (nargs == 1) {
        const jv *src = &args[0];
        if (src->type == JV_OBJECT) {
            for (uint32_t i = 0; i < src->u.o->len; i++)
                if (jv_object_set(rt, o, src->u.o->keys[i].p, src->u.o->keys[i].len, src->u.o->vals[i])) return -1;
        } else if (src->type == JV_ARRAY) {
            for (uint32_t i = 0; i < src->u.a->len; i++)
                if (namespace_pair(rt, o, &src->u.a->items[i])) return -1;
        } else {
            return fn_error("namespace() cannot take a %s", jv_type_name(src));
        }
    }
    if (kw)
        for (uint32_t i = 0; i < kw->len; i++)
            if (jv_object_set(rt, o, kw->keys[i].p, kw->keys[i].len, kw->vals[i])) return -1;
    *out = jv_ns(o);
    return 0;
}

int jbuiltin_range(jrt *rt, const jv *self, const jv *args, size_t nargs, const jv_object *kw, jv *out) {
    jv_array *a = jv_array_new(rt, 0);
    if (!a) return -1;
    *out = jv_arr(a, false);
    if (kw) return fn_error("range() takes no keyword arguments");
    if (nargs == 0) return 0;
    if (nargs > 3) return fn_error("range() takes at most 3 arguments");
    for (size_t i = 0; i < nargs; i++)
        if (!jv_is_num(&args[i]) && args[i].type != JV_UNDEFINED)
            return fn_error("range() arguments must be numbers, got %s", jv_type_name(&args[i]));
    if (args[0].type == JV_UNDEFINED) return 0;
    double start = args[0].u.n, stop, step = 1;
    if (nargs < 2 || args[1].type == JV_UNDEFINED) {
        stop = start;
        start = 0;
    } else {
        stop = args[1].u.n;
    }
    if (nargs == 3 && args[2].type != JV_UNDEFINED) step = args[2].u.n;
    if (step == 0) return fn_error("range() step must not be zero");
    if (isnan(step)) return 0;
    for (double i = start; step > 0 ? i < stop : i > stop; i += step) {
        if (jv_spend(rt, 1) || jv_array_push(rt, a, jv_number(i))) return -1;
        if (i + step == i) return fn_error("range() step too small");
    }
    return 0;
}

int jbuiltin_raise(jrt *rt, const jv *self, const jv *args, size_t nargs, const jv_object *kw, jv *out) {
    rt->raised = true;
    if (nargs == 0) return fn_error("%s", "");
    jbuf b;
    jbuf_init(&b, &rt->arena, 4096);
    if (jv_write_raw(rt, &args[0], &b)) return fn_error("raise_exception() with a message that cannot be printed");
    return fn_error("%.*s", (int)(b.len > 900 ? 900 : b.len), b.p ? b.p : "");
}

int jbuiltin_strftime_now(jrt *rt, const jv *self, const jv *args, size_t nargs, const jv_object *kw, jv *out) {
    static const char *const months[] = {"January", "February", "March",     "April",   "May",      "June",
                                         "July",    "August",   "September", "October", "November", "December"};
    if (nargs < 1 || args[0].type != JV_STR) return fn_error("strftime_now() needs a format string");
    time_t now = time(NULL);
    struct tm tm;
    if (!localtime_r(&now, &tm)) return fn_error("strftime_now(): cannot read the local time");
    const char *f = args[0].u.s.p;
    size_t n = args[0].u.s.len;
    jbuf b;
    jbuf_init(&b, &rt->arena, rt->max_output);
    for (size_t i = 0; i < n; i++) {
        char c = i + 1 < n && f[i] == '%' ? f[i + 1] : 0;
        char tmp[32];
        int w = -1;
        switch (c) {
        case 'Y': w = snprintf(tmp, sizeof tmp, "%d", tm.tm_year + 1900); break;
        case 'm': w = snprintf(tmp, sizeof tmp, "%02d", tm.tm_mon + 1); break;
        case 'd': w = snprintf(tmp, sizeof tmp, "%02d", tm.tm_mday); break;
        case 'H': w = snprintf(tmp, sizeof tmp, "%02d", tm.tm_hour); break;
        case 'M': w = snprintf(tmp, sizeof tmp, "%02d", tm.tm_min); break;
        case 'b': w = snprintf(tmp, sizeof tmp, "%.3s", months[tm.tm_mon]); break;
        case 'B': w = snprintf(tmp, sizeof tmp, "%s", months[tm.tm_mon]); break;
        case '%': w = snprintf(tmp, sizeof tmp, "%%"); break;
        }
        if (w >= 0) {
            if (jbuf_put(&b, tmp, (size_t)w)) return -1;
            i++;
        } else if (jbuf_put(&b, f + i, 1)) {
            return -1;
        }
    }
    *out = jv_str_buf(&b);
    return 0;
}

/* ---- tests ------------------------------------------------------------------------------- */

static bool name_is(const char *name, size_t len, const char *s) {
    return strlen(s) == len && !memcmp(name, s, len);
}

static int case_test(jrt *rt, const jv *x, bool upper, bool *out) {
    if (x->type != JV_STR) return *out = false, 0;
    char *m = jarena_alloc(&rt->arena, jtext_case_max(x->u.s.len));
    if (!m) return -1;
    size_t n = upper ? jtext_upper(x->u.s.p, x->u.s.len, rt->casemap, m)
                     : jtext_lower(x->u.s.p, x->u.s.len, rt->casemap, m);
    *out = n == x->u.s.len && !memcmp(m, x->u.s.p, n);
    return 0;
}

/* Membership as the `in` operator computes it. */
static int contains(const jv *x, const jv *seq, bool *out) {
    if (seq->type == JV_ARRAY) {
        *out = false;
        for (uint32_t i = 0; i < seq->u.a->len && !*out; i++) *out = jv_strict_eq(&seq->u.a->items[i], x);
        return 0;
    }
    if (seq->type == JV_STR && x->type == JV_STR) {
        *out = x->u.s.len == 0 || memmem(seq->u.s.p, seq->u.s.len, x->u.s.p, x->u.s.len) != NULL;
        return 0;
    }
    if (seq->type == JV_OBJECT && x->type == JV_STR) {
        *out = jv_object_get(seq->u.o, x->u.s.p, x->u.s.len) != NULL;
        return 0;
    }
    return fn_error("'in' test: cannot look for a %s in a %s", jv_type_name(x), jv_type_name(seq));
}

static int compare_test(const char *name, size_t len, const jv *x, const jv *args, size_t nargs, bool *out) {
    if (nargs < 1) return fn_error("test '%.*s' needs an argument", (int)len, name);
    if (!jv_is_num(x) || !jv_is_num(&args[0]))
        return fn_error("test '%.*s' compares numbers, got %s and %s", (int)len, name, jv_type_name(x),
                        jv_type_name(&args[0]));
    double a = x->u.n, b = args[0].u.n;
    if (name_is(name, len, "lt") || name_is(name, len, "<") || name_is(name, len, "lessthan")) *out = a < b;
    else if (name_is(name, len, "le") || name_is(name, len, "<=")) *out = a <= b;
    else if (name_is(name, len, "gt") || name_is(name, len, ">") || name_is(name, len, "greaterthan")) *out = a > b;
    else *out = a >= b;
    return 0;
}

int jbuiltin_test(jrt *rt, const char *name, size_t len, const jv *x, const jv *args, size_t nargs, bool *out) {
#define IS(s) name_is(name, len, s)
    int t = x->type;
    if (IS("defined")) *out = t != JV_UNDEFINED;
    else if (IS("undefined")) *out = t == JV_UNDEFINED;
    else if (IS("none")) *out = t == JV_NULL;
    else if (IS("boolean")) *out = t == JV_BOOL;
    else if (IS("true")) *out = t == JV_BOOL && x->u.b;
    else if (IS("false")) *out = t == JV_BOOL && !x->u.b;
    else if (IS("string")) *out = t == JV_STR;
    else if (IS("number")) *out = t == JV_INT || t == JV_FLOAT;
    else if (IS("integer")) *out = t == JV_INT;
    else if (IS("float")) *out = t == JV_FLOAT;
    else if (IS("iterable")) *out = (t == JV_ARRAY && !(x->flags & JV_TUPLE)) || t == JV_STR;
    else if (IS("mapping")) *out = t == JV_OBJECT;
    else if (IS("sequence")) *out = t == JV_ARRAY || t == JV_OBJECT || t == JV_STR;
    else if (IS("callable")) *out = t == JV_FUNC;
    else if (IS("escaped")) *out = false;
    else if (IS("lower")) return case_test(rt, x, false, out);
    else if (IS("upper")) return case_test(rt, x, true, out);
    else if (IS("odd") || IS("even")) {
        if (t != JV_INT) return fn_error("test '%.*s' needs an integer, got %s", (int)len, name, jv_type_name(x));
        bool odd = fmod(x->u.n, 2) != 0;
        *out = IS("odd") ? odd : !odd;
    } else if (IS("equalto") || IS("eq") || IS("==") || IS("sameas")) {
        if (nargs < 1) return fn_error("test '%.*s' needs an argument", (int)len, name);
        *out = jv_strict_eq(x, &args[0]);
    } else if (IS("ne") || IS("!=")) {
        if (nargs < 1) return fn_error("test '%.*s' needs an argument", (int)len, name);
        *out = !jv_strict_eq(x, &args[0]);
    } else if (IS("divisibleby")) {
        if (nargs < 1 || !jv_is_num(x) || !jv_is_num(&args[0]) || args[0].u.n == 0)
            return fn_error("test 'divisibleby' needs a number and a non-zero divisor");
        *out = fmod(x->u.n, args[0].u.n) == 0;
    } else if (IS("in")) {
        if (nargs < 1) return fn_error("test 'in' needs an argument");
        return contains(x, &args[0], out);
    } else if (IS("lt") || IS("le") || IS("gt") || IS("ge") || IS("<") || IS("<=") || IS(">") || IS(">=") ||
               IS("lessthan") || IS("greaterthan")) {
        return compare_test(name, len, x, args, nargs, out);
    } else {
        return fn_error("unknown test '%.*s'", (int)(len > 40 ? 40 : len), name);
    }
#undef IS
    return 0;
}
