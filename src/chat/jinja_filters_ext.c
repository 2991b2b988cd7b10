/* jinja_filters_ext.c - Python Jinja filters the reference lacks (see jinja_filters_ext.h). */
#include "chat/jinja_filters_ext.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wctype.h>

#include "base/error.h"
#include "chat/jinja_builtins.h"
#include "chat/jinja_methods.h"
#include "chat/jinja_text.h"

static bool is(const char *name, size_t len, const char *s) { return strlen(s) == len && !memcmp(name, s, len); }

static const jv *argk(const jv *args, size_t nargs, size_t i, const jv_object *kw, const char *name) {
    if (i < nargs) return &args[i];
    return kw ? jv_object_get(kw, name, strlen(name)) : NULL;
}

static int int_arg(const jv *v, const char *what, int64_t lo, int64_t hi, int64_t *out) {
    if (!v) return 0;
    if (v->type != JV_INT) return fn_error("%s must be an integer", what);
    double d = v->u.n;
    if (d < (double)lo || d > (double)hi) return fn_error("%s out of range", what);
    *out = (int64_t)d;
    return 0;
}

/* Code point boundaries of s: offs[0..n] byte offsets (arena). */
static int cp_offsets(jrt *rt, const jv *s, size_t **offs, size_t *n) {
    size_t cnt = jtext_cp_len(s->u.s.p, s->u.s.len);
    size_t *o = jarena_alloc(&rt->arena, (cnt + 1) * sizeof *o);
    if (!o) return -1;
    size_t k = 0;
    for (size_t i = 0; i < s->u.s.len;) {
        o[k++] = i;
        jtext_decode(s->u.s.p, s->u.s.len, &i);
    }
    o[k] = s->u.s.len;
    *offs = o;
    *n = cnt;
    return 0;
}

static int as_string(jrt *rt, const jv *x, jv *out) {
    if (x->type == JV_STR) return *out = *x, 0;
    if (x->type == JV_UNDEFINED) return *out = jv_str("", 0), 0;
    if (x->type == JV_NULL) return *out = jv_str("None", 4), 0;
    jbuf b;
    jbuf_init(&b, &rt->arena, rt->max_output);
    if (jv_write(rt, x, &b)) return -1;
    *out = jv_str_buf(&b);
    return 0;
}

static int html_escape(jrt *rt, const jv *x, jv *out) {
    jv s;
    if (as_string(rt, x, &s)) return -1;
    jbuf b;
    jbuf_init(&b, &rt->arena, rt->max_output);
    for (size_t i = 0; i < s.u.s.len; i++) {
        char c = s.u.s.p[i];
        const char *r = c == '&' ? "&amp;" : c == '<' ? "&lt;" : c == '>' ? "&gt;" : c == '"' ? "&#34;"
                      : c == '\'' ? "&#39;" : NULL;
        if (r ? jbuf_puts(&b, r) : jbuf_put(&b, &c, 1)) return -1;
    }
    *out = jv_str_buf(&b);
    return 0;
}

static int strip_chars(jrt *rt, const jv *s, const jv *chars, jv *out) {
    if (!chars || chars->type == JV_NULL) return *out = jmethod_trim(s), 0;
    if (chars->type != JV_STR) return fn_error("trim chars must be a string");
    size_t *o, n;
    if (cp_offsets(rt, s, &o, &n)) return -1;
    size_t a = 0, e = n;
    #define IN_SET(k) (memmem(chars->u.s.p, chars->u.s.len, s->u.s.p + o[k], o[(k) + 1] - o[k]) != NULL)
    while (a < e && IN_SET(a)) a++;
    while (e > a && IN_SET(e - 1)) e--;
    #undef IN_SET
    *out = jv_str(s->u.s.p + o[a], o[e] - o[a]);
    return 0;
}

static int word_count(jrt *rt, const jv *x, jv *out) {
    jv s;
    if (as_string(rt, x, &s)) return -1;
    size_t words = 0;
    bool in_word = false;
    for (size_t i = 0; i < s.u.s.len;) {
        uint32_t c = jtext_decode(s.u.s.p, s.u.s.len, &i);
        bool w = c < 0x80 ? jtext_is_word((unsigned char)c)
                          : rt->casemap != (locale_t)0 && iswalnum_l((wint_t)c, rt->casemap);
        if (w && !in_word) words++;
        in_word = w;
    }
    *out = jv_int((double)words);
    return 0;
}

/* round(precision=0, method='common'|'ceil'|'floor'); 'common' rounds half to even on the
 * exact binary value, like Python's round(). Always a float. */
static int round_filter(const jv *x, const jv *args, size_t nargs, const jv_object *kw, jv *out) {
    if (!jv_is_num(x) && x->type != JV_BOOL) return fn_error("round needs a number");
    double v = x->type == JV_BOOL ? x->u.b : x->u.n;
    int64_t prec = 0;
    if (int_arg(argk(args, nargs, 0, kw, "precision"), "round precision", -300, 300, &prec)) return -1;
    const jv *m = argk(args, nargs, 1, kw, "method");
    if (m && m->type != JV_STR) return fn_error("round method must be a string");
    double r;
    if (!m || is(m->u.s.p, m->u.s.len, "common")) {
        if (prec >= 0 && isfinite(v)) {
            char buf[400];
            snprintf(buf, sizeof buf, "%.*f", (int)prec, v);
            r = strtod(buf, NULL);
        } else {
            double p = pow(10, (double)-prec);
            r = nearbyint(v / p) * p;
        }
    } else if (is(m->u.s.p, m->u.s.len, "ceil") || is(m->u.s.p, m->u.s.len, "floor")) {
        double p = pow(10, (double)prec);
        r = (m->u.s.p[0] == 'c' ? ceil(v * p) : floor(v * p)) / p;
    } else {
        return fn_error("round method must be 'common', 'ceil' or 'floor'");
    }
    *out = jv_float(r);
    return 0;
}

static int batch(jrt *rt, const jv_array *a, const jv *args, size_t nargs, const jv_object *kw, jv *out) {
    int64_t size = 0;
    if (int_arg(argk(args, nargs, 0, kw, "linecount"), "batch size", 1, INT32_MAX, &size)) return -1;
    if (size < 1) return fn_error("batch needs a positive size");
    const jv *fill = argk(args, nargs, 1, kw, "fill_with");
    jv_array *r = jv_array_new(rt, 0), *cur = NULL;
    if (!r) return -1;
    for (uint32_t i = 0; i < a->len; i++) {
        if (!cur || cur->len == size) {
            if (!(cur = jv_array_new(rt, 0)) || jv_array_push(rt, r, jv_arr(cur, false))) return -1;
        }
        if (jv_array_push(rt, cur, a->items[i])) return -1;
    }
    if (cur && fill && fill->type != JV_NULL)
        while (cur->len < size)
            if (jv_spend(rt, 1) || jv_array_push(rt, cur, *fill)) return -1;
    *out = jv_arr(r, false);
    return 0;
}

static jv attr_or_self(const jv *item, const jv *attr) {
    if (!attr || attr->type != JV_STR) return *item;
    return jfilter_attribute(item, attr->u.s.p, attr->u.s.len);
}

static int sum(const jv_array *a, const jv *args, size_t nargs, const jv_object *kw, jv *out) {
    const jv *attr = argk(args, nargs, 0, kw, "attribute");
    const jv *start = argk(args, nargs, 1, kw, "start");
    bool is_float = start && start->type == JV_FLOAT;
    double total = start && jv_is_num(start) ? start->u.n : 0;
    for (uint32_t i = 0; i < a->len; i++) {
        jv v = attr_or_self(&a->items[i], attr);
        if (!jv_is_num(&v) && v.type != JV_BOOL) return fn_error("sum needs numbers, got a %s", jv_type_name(&v));
        total += v.type == JV_BOOL ? v.u.b : v.u.n;
        is_float |= v.type == JV_FLOAT;
    }
    *out = is_float ? jv_float(total) : jv_int(total);
    return 0;
}

static int min_max(jrt *rt, const jv_array *a, bool max, const jv_object *kw, jv *out) {
    const jv *cs = kw ? jv_object_get(kw, "case_sensitive", 14) : NULL;
    const jv *attr = kw ? jv_object_get(kw, "attribute", 9) : NULL;
    *out = jv_undef();
    jv best = jv_undef();
    for (uint32_t i = 0; i < a->len; i++) {
        jv v = attr_or_self(&a->items[i], attr);
        int c = 0;
        if (i && jv_compare(rt, &v, &best, cs && jv_truthy(cs), &c)) return -1;
        if (i == 0 || (max ? c > 0 : c < 0)) {
            best = v;
            *out = a->items[i];
        }
    }
    return 0;
}

/* select/reject(test, args...): items for which the test (or truthiness) holds / fails. */
static int select_items(jrt *rt, const jv_array *a, const jv *args, size_t nargs, bool select, jv *out) {
    if (nargs >= 1 && args[0].type != JV_STR) return fn_error("the test name must be a string");
    jv_array *r = jv_array_new(rt, 0);
    if (!r) return -1;
    for (uint32_t i = 0; i < a->len; i++) {
        bool ok;
        if (nargs == 0) ok = jv_truthy(&a->items[i]);
        else if (jbuiltin_test(rt, args[0].u.s.p, args[0].u.s.len, &a->items[i], args + 1, nargs - 1, &ok)) return -1;
        if (ok == select && jv_array_push(rt, r, a->items[i])) return -1;
    }
    *out = jv_arr(r, false);
    return 0;
}

/* map('filter', args...): the filter applied to every item. */
static int map_filter(jrt *rt, const jv_array *a, const jv *args, size_t nargs, const jv_object *kw, jv *out) {
    if (nargs < 1 || args[0].type != JV_STR) return fn_error("map needs a filter name or attribute=");
    jv_array *r = jv_array_new(rt, a->len);
    if (!r) return -1;
    bool call = nargs > 1 || kw;
    for (uint32_t i = 0; i < a->len; i++) {
        if (jv_spend(rt, 1) || jfilter_apply(rt, args[0].u.s.p, args[0].u.s.len, call, &a->items[i], args + 1,
                                             nargs - 1, kw, false, &r->items[i]))
            return -1;
        r->len++;
    }
    *out = jv_arr(r, false);
    return 0;
}

static int center(jrt *rt, const jv *x, const jv *args, size_t nargs, const jv_object *kw, jv *out) {
    int64_t width = 80;
    if (int_arg(argk(args, nargs, 0, kw, "width"), "center width", 0, 1 << 20, &width)) return -1;
    size_t n = jtext_cp_len(x->u.s.p, x->u.s.len);
    if ((int64_t)n >= width) return *out = *x, 0;
    size_t pad = (size_t)width - n, left = pad / 2 + (pad & width & 1);
    jbuf b;
    jbuf_init(&b, &rt->arena, rt->max_output);
    char *d = jbuf_reserve(&b, pad + x->u.s.len);
    if (!d) return -1;
    memset(d, ' ', left);
    memcpy(d + left, x->u.s.p, x->u.s.len);
    memset(d + left + x->u.s.len, ' ', pad - left);
    b.len = pad + x->u.s.len;
    *out = jv_str_buf(&b);
    return 0;
}

static int truncate_filter(jrt *rt, const jv *x, const jv *args, size_t nargs, const jv_object *kw, jv *out) {
    int64_t length = 255, leeway = 5; /* Jinja's default truncate.leeway policy */
    if (int_arg(argk(args, nargs, 0, kw, "length"), "truncate length", 0, INT32_MAX, &length)) return -1;
    const jv *kill = argk(args, nargs, 1, kw, "killwords");
    const jv *end = argk(args, nargs, 2, kw, "end");
    if (int_arg(argk(args, nargs, 3, kw, "leeway"), "truncate leeway", 0, INT32_MAX, &leeway)) return -1;
    jv e = end && end->type == JV_STR ? *end : jv_str("...", 3);
    size_t *o, n;
    if (cp_offsets(rt, x, &o, &n)) return -1;
    if ((int64_t)n <= length + leeway) return *out = *x, 0;
    int64_t keep = length - (int64_t)jtext_cp_len(e.u.s.p, e.u.s.len);
    if (keep < 0) keep = 0;
    size_t cut = o[keep];
    if (!(kill && jv_truthy(kill))) {
        const char *sp = NULL;
        for (size_t k = cut; k-- > 0;)
            if (x->u.s.p[k] == ' ') {
                sp = x->u.s.p + k;
                break;
            }
        if (sp) cut = (size_t)(sp - x->u.s.p);
    }
    jbuf b;
    jbuf_init(&b, &rt->arena, rt->max_output);
    if (jbuf_put(&b, x->u.s.p, cut) || jbuf_put(&b, e.u.s.p, e.u.s.len)) return -1;
    *out = jv_str_buf(&b);
    return 0;
}

static int chars_list(jrt *rt, const jv *s, bool reverse, jv *out, bool as_string_out) {
    size_t *o, n;
    if (cp_offsets(rt, s, &o, &n)) return -1;
    if (as_string_out) {
        char *d = jarena_alloc(&rt->arena, s->u.s.len + 1);
        if (!d) return -1;
        size_t w = 0;
        for (size_t k = n; k-- > 0;) {
            memcpy(d + w, s->u.s.p + o[k], o[k + 1] - o[k]);
            w += o[k + 1] - o[k];
        }
        *out = jv_str(d, w);
        return 0;
    }
    jv_array *a = jv_array_new(rt, n);
    if (!a) return -1;
    for (size_t k = 0; k < n; k++) {
        size_t idx = reverse ? n - 1 - k : k;
        a->items[a->len++] = jv_str(s->u.s.p + o[idx], o[idx + 1] - o[idx]);
    }
    *out = jv_arr(a, false);
    return 0;
}

static int keys_list(jrt *rt, const jv_object *ob, jv *out) {
    jv_array *a = jv_array_new(rt, ob->len);
    if (!a) return -1;
    for (uint32_t i = 0; i < ob->len; i++) a->items[a->len++] = jv_str(ob->keys[i].p, ob->keys[i].len);
    *out = jv_arr(a, false);
    return 0;
}

int jfilter_ext(jrt *rt, const char *name, size_t len, bool called, const jv *x, const jv *args, size_t nargs,
                const jv_object *kw, jv *out) {
#define IS(s) is(name, len, s)
    int t = x->type;
    if (IS("d") || IS("default")) {
        jv def = nargs >= 1 ? args[0] : jv_str("", 0);
        const jv *dv = kw ? jv_object_get(kw, "default_value", 13) : NULL;
        if (nargs == 0 && dv) def = *dv;
        const jv *boolean = argk(args, nargs, 1, kw, "boolean");
        bool use = t == JV_UNDEFINED || (boolean && jv_truthy(boolean) && !jv_truthy(x));
        return *out = use ? def : *x, 0;
    }
    if (IS("length") || IS("count")) {
        if (t == JV_STR) return *out = jv_int((double)jtext_utf16_len(x->u.s.p, x->u.s.len)), 0;
        if (t == JV_ARRAY) return *out = jv_int(x->u.a->len), 0;
        if (jv_is_map(x)) return *out = jv_int(x->u.o->len), 0;
        if (t == JV_UNDEFINED) return *out = jv_int(0), 0;
        return JFILTER_NOT_HANDLED;
    }
    if (IS("list")) {
        if (t == JV_STR) return chars_list(rt, x, false, out, false);
        if (t == JV_ARRAY) return jmethod_call(rt, x, "copy", NULL, 0, NULL, out);
        if (jv_is_map(x)) return keys_list(rt, x->u.o, out);
        if (t == JV_UNDEFINED) return *out = jv_arr(jv_array_new(rt, 0), false), out->u.a ? 0 : -1;
        return JFILTER_NOT_HANDLED;
    }
    if (IS("first") || IS("last")) {
        bool first = IS("first");
        jv all;
        if (t == JV_STR) {
            if (chars_list(rt, x, false, &all, false)) return -1;
        } else if (t == JV_OBJECT) {
            if (keys_list(rt, x->u.o, &all)) return -1;
        } else if (t == JV_ARRAY) {
            all = *x;
        } else {
            return JFILTER_NOT_HANDLED;
        }
        const jv_array *a = all.u.a;
        *out = a->len ? a->items[first ? 0 : a->len - 1] : jv_undef();
        return 0;
    }
    if (IS("reverse")) {
        if (t == JV_STR) return chars_list(rt, x, true, out, true);
        if (t == JV_ARRAY) {
            jv_array *a = jv_array_new(rt, x->u.a->len);
            if (!a) return -1;
            for (uint32_t i = x->u.a->len; i-- > 0;) a->items[a->len++] = x->u.a->items[i];
            return *out = jv_arr(a, false), 0;
        }
        return JFILTER_NOT_HANDLED;
    }
    if (t == JV_STR && (IS("upper") || IS("lower") || IS("title") || IS("capitalize"))) {
        if (IS("upper")) return jmethod_upper(rt, x, out);
        if (IS("lower")) return jmethod_lower(rt, x, out);
        if (IS("title")) return jmethod_title(rt, x, out);
        return jmethod_capitalize(rt, x, out);
    }
    if (t == JV_STR && IS("trim")) return strip_chars(rt, x, argk(args, nargs, 0, kw, "chars"), out);
    if (IS("string")) return as_string(rt, x, out);
    if (IS("e") || IS("escape") || IS("forceescape")) return html_escape(rt, x, out);
    if (IS("wordcount")) return word_count(rt, x, out);
    if (IS("round")) return round_filter(x, args, nargs, kw, out);
    if (IS("attr")) {
        if (nargs < 1 || args[0].type != JV_STR) return fn_error("attr needs an attribute name");
        const jv *v = jv_is_map(x) ? jv_object_get(x->u.o, args[0].u.s.p, args[0].u.s.len) : NULL;
        return *out = v ? *v : jv_undef(), 0;
    }
    if (t == JV_STR && IS("center")) return center(rt, x, args, nargs, kw, out);
    if (t == JV_STR && IS("truncate")) return truncate_filter(rt, x, args, nargs, kw, out);
    if (t == JV_ARRAY) {
        const jv_array *a = x->u.a;
        if (IS("batch")) return batch(rt, a, args, nargs, kw, out);
        if (IS("sum")) return sum(a, args, nargs, kw, out);
        if (IS("min") || IS("max")) return min_max(rt, a, IS("max"), kw, out);
        if (IS("select") || IS("reject")) return select_items(rt, a, args, nargs, IS("select"), out);
        if (IS("selectattr") || IS("rejectattr")) return jfilter_select_attr(rt, a, args, nargs, IS("selectattr"), out);
        if (IS("map")) return map_filter(rt, a, args, nargs, kw, out);
        if (IS("unique") || IS("sort") || IS("join") || IS("first") || IS("last") || IS("length") || IS("list"))
            return jfilter_apply(rt, name, len, false, x, NULL, 0, NULL, false, out);
    }
    (void)called;
    return JFILTER_NOT_HANDLED;
#undef IS
}

bool jfilter_ext_known(const char *name, size_t len) {
    static const char *const names[] = {
        "abs",        "attr",     "batch",     "bool",      "capitalize", "center", "count",   "d",
        "default",    "dictsort", "e",         "escape",    "first",      "float",  "forceescape", "get",
        "indent",     "int",      "items",     "join",      "keys",       "last",   "length",  "list",
        "lower",      "map",      "max",       "min",       "reject",     "rejectattr", "replace", "reverse",
        "round",      "safe",     "select",    "selectattr", "sort",      "string", "sum",     "title",
        "tojson",     "trim",     "truncate",  "unique",    "upper",      "values", "wordcount",
    };
    for (size_t i = 0; i < FN_ARRAY_LEN(names); i++)
        if (is(name, len, names[i])) return true;
    return false;
}
