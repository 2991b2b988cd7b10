/* jinja_filters.c - filters with the reference's exact behaviour; whatever the reference would
 * reject goes on to the Python-Jinja extensions in jinja_filters_ext.c (see jinja_filters.h). */
#include "chat/jinja_filters.h"

#include <math.h>
#include <string.h>

#include "base/error.h"
#include "chat/jinja_builtins.h"
#include "chat/jinja_filters_ext.h"
#include "chat/jinja_methods.h"
#include "chat/jinja_num.h"
#include "chat/jinja_text.h"

#define NOT_HANDLED 1

static bool is(const char *name, size_t len, const char *s) { return strlen(s) == len && !memcmp(name, s, len); }

static const jv *kwarg(const jv_object *kw, const char *name) {
    return kw ? jv_object_get(kw, name, strlen(name)) : NULL;
}

/* Positional i, else keyword `name`, else NULL (the reference's `args.at(i) ?? kwargs.get(name)`). */
static const jv *argk(const jv *args, size_t nargs, size_t i, const jv_object *kw, const char *name) {
    if (i < nargs) return &args[i];
    return name ? kwarg(kw, name) : NULL;
}

jv jfilter_attribute(const jv *item, const char *path, size_t len) {
    jv v = *item;
    size_t i = 0;
    while (true) {
        const char *dot = memchr(path + i, '.', len - i);
        size_t end = dot ? (size_t)(dot - path) : len;
        const char *part = path + i;
        size_t plen = end - i;
        if (jv_is_map(&v)) {
            const jv *e = jv_object_get(v.u.o, part, plen);
            v = e ? *e : jv_undef();
        } else if (v.type == JV_ARRAY) {
            double idx = jnum_parse_int(part, plen);
            if (isnan(idx) || idx < 0 || idx >= v.u.a->len) return jv_undef();
            v = v.u.a->items[(size_t)idx];
        } else {
            return jv_undef();
        }
        if (!dot) return v;
        i = end + 1;
    }
}

int jfilter_join_values(jrt *rt, const jv_array *a, const char *sep, size_t seplen, jv *out) {
    jbuf b;
    jbuf_init(&b, &rt->arena, rt->max_output);
    for (uint32_t i = 0; i < a->len; i++) {
        if (i && jbuf_put(&b, sep, seplen)) return -1;
        const jv *e = &a->items[i];
        if (e->type > JV_NULL && jv_write_raw(rt, e, &b)) return -1; /* none/undefined join as "" */
    }
    *out = jv_str_buf(&b);
    return 0;
}

static int to_json(jrt *rt, const jv *x, const jv_json_opts *o, jv *out) {
    jbuf b;
    jbuf_init(&b, &rt->arena, rt->max_output);
    if (jv_write_json(rt, x, o, &b)) return -1;
    *out = jv_str_buf(&b);
    return 0;
}

static int sort_plain_cmp(jrt *rt, void *ctx, const jv *a, const jv *b, int *out) {
    (void)ctx;
    return jv_compare(rt, a, b, false, out);
}

static int copy_array(jrt *rt, const jv_array *src, jv_array **out) {
    jv_array *a = jv_array_new(rt, src->len);
    if (!a) return -1;
    if (src->len) memcpy(a->items, src->items, src->len * sizeof(jv));
    a->len = src->len;
    *out = a;
    return 0;
}

/* The reference's `unique`: first occurrence of each value (SameValueZero on the values). */
static int unique(jrt *rt, const jv_array *src, jv *out) {
    jv_array *a = jv_array_new(rt, 0);
    if (!a) return -1;
    for (uint32_t i = 0; i < src->len; i++) {
        const jv *e = &src->items[i];
        bool seen = false;
        for (uint32_t j = 0; j < a->len && !seen; j++)
            seen = jv_strict_eq(&a->items[j], e) ||
                   (jv_is_num(e) && jv_is_num(&a->items[j]) && isnan(e->u.n) && isnan(a->items[j].u.n));
        if (!seen && jv_array_push(rt, a, *e)) return -1;
        if (jv_spend(rt, 1)) return -1;
    }
    *out = jv_arr(a, false);
    return 0;
}

int jfilter_indent(jrt *rt, const jv *s, int64_t width, bool first, bool blank, jv *out) {
    if (width < 0) return fn_error("indent width must not be negative");
    jbuf b;
    jbuf_init(&b, &rt->arena, rt->max_output);
    const char *p = s->u.s.p;
    size_t n = s->u.s.len, start = 0;
    for (size_t line = 0;; line++) {
        const char *nl = memchr(p + start, '\n', n - start);
        size_t end = nl ? (size_t)(nl - p) : n;
        bool skip = (!first && line == 0) || (!blank && end == start);
        if (!skip) {
            char *d = jbuf_reserve(&b, (size_t)width);
            if (!d) return -1;
            memset(d, ' ', (size_t)width);
            b.len += (size_t)width;
        }
        if (jbuf_put(&b, p + start, end - start)) return -1;
        if (!nl) break;
        if (jbuf_put(&b, "\n", 1)) return -1;
        start = end + 1;
    }
    *out = jv_str_buf(&b);
    return 0;
}

/* Filters written without parentheses. */
static int plain(jrt *rt, const char *name, size_t len, const jv *x, jv *out) {
#define IS(s) is(name, len, s)
    switch (x->type) {
    case JV_ARRAY: {
        const jv_array *a = x->u.a;
        if (IS("list")) return *out = *x, 0;
        if (IS("first") || IS("last")) {
            if (a->len == 0) return fn_error("'%s' of an empty list", IS("first") ? "first" : "last");
            return *out = a->items[IS("first") ? 0 : a->len - 1], 0;
        }
        if (IS("length")) return *out = jv_int(a->len), 0;
        if (IS("reverse") || IS("sort")) {
            jv_array *c;
            if (copy_array(rt, a, &c)) return -1;
            if (IS("reverse")) {
                for (uint32_t i = 0, j = c->len ? c->len - 1 : 0; i < j; i++, j--) {
                    jv t = c->items[i];
                    c->items[i] = c->items[j];
                    c->items[j] = t;
                }
            } else if (jv_sort(rt, c->items, c->len, sort_plain_cmp, NULL)) {
                return -1;
            }
            return *out = jv_arr(c, false), 0;
        }
        if (IS("join")) return jfilter_join_values(rt, a, "", 0, out);
        if (IS("string")) {
            jv_json_opts o = {0};
            return to_json(rt, x, &o, out);
        }
        if (IS("unique")) return unique(rt, a, out);
        return NOT_HANDLED;
    }
    case JV_STR:
        if (IS("length")) return *out = jv_int((double)jtext_utf16_len(x->u.s.p, x->u.s.len)), 0;
        if (IS("upper")) return jmethod_upper(rt, x, out);
        if (IS("lower")) return jmethod_lower(rt, x, out);
        if (IS("title")) return jmethod_title(rt, x, out);
        if (IS("capitalize")) return jmethod_capitalize(rt, x, out);
        if (IS("trim")) return *out = jmethod_trim(x), 0;
        if (IS("indent")) return jfilter_indent(rt, x, 4, false, false, out);
        if (IS("join") || IS("string")) return *out = *x, 0;
        if (IS("int")) {
            double v = jnum_parse_int(x->u.s.p, x->u.s.len);
            return *out = jv_int(isnan(v) ? 0 : v), 0;
        }
        if (IS("float")) {
            double v = jnum_parse_float(x->u.s.p, x->u.s.len);
            return *out = jv_float(isnan(v) ? 0 : v), 0;
        }
        return NOT_HANDLED;
    case JV_INT:
    case JV_FLOAT:
        if (IS("abs")) return *out = x->type == JV_INT ? jv_int(fabs(x->u.n)) : jv_float(fabs(x->u.n)), 0;
        if (IS("int")) return *out = jv_int(floor(x->u.n)), 0;
        if (IS("float")) return *out = jv_float(x->u.n), 0;
        if (IS("string")) {
            jbuf b;
            jbuf_init(&b, &rt->arena, 0);
            if (jv_write(rt, x, &b)) return -1;
            return *out = jv_str_buf(&b), 0;
        }
        return NOT_HANDLED;
    case JV_OBJECT: {
        if (IS("items")) return jmethod_call(rt, x, "items", NULL, 0, NULL, out);
        if (IS("length")) return *out = jv_int(x->u.o->len), 0;
        jv m;
        if (jmethod_lookup(rt, x, name, len, &m)) return -1;
        if (m.type == JV_FUNC) return m.u.f->native(rt, &m.u.f->self, NULL, 0, NULL, out);
        return NOT_HANDLED;
    }
    case JV_BOOL:
        if (IS("bool")) return *out = *x, 0;
        if (IS("int")) return *out = jv_int(x->u.b), 0;
        if (IS("float")) return *out = jv_float(x->u.b), 0;
        if (IS("string")) return *out = x->u.b ? jv_str("true", 4) : jv_str("false", 5), 0;
        return NOT_HANDLED;
    default: return NOT_HANDLED;
    }
#undef IS
}

static int tojson_called(jrt *rt, const jv *x, const jv_object *kw, jv *out) {
    jv_json_opts o = {.undefined_as_null = true};
    const jv *indent = kwarg(kw, "indent"), *ascii = kwarg(kw, "ensure_ascii");
    const jv *sort = kwarg(kw, "sort_keys"), *seps = kwarg(kw, "separators");
    if (indent && indent->type != JV_INT && indent->type != JV_NULL) return fn_error("tojson indent must be an integer");
    if (indent && indent->type == JV_INT) o.indent = (int64_t)fmax(fmin(indent->u.n, 1e9), -1e9);
    if (ascii && ascii->type != JV_BOOL) return fn_error("tojson ensure_ascii must be a boolean");
    o.ensure_ascii = ascii && ascii->u.b;
    if (sort && sort->type != JV_BOOL) return fn_error("tojson sort_keys must be a boolean");
    o.sort_keys = sort && sort->u.b;
    if (seps && seps->type != JV_NULL) {
        if (seps->type != JV_ARRAY || seps->u.a->len != 2 || seps->u.a->items[0].type != JV_STR ||
            seps->u.a->items[1].type != JV_STR)
            return fn_error("tojson separators must be a tuple of two strings");
        o.item_sep = seps->u.a->items[0].u.s.p;
        o.item_sep_len = seps->u.a->items[0].u.s.len;
        o.key_sep = seps->u.a->items[1].u.s.p;
        o.key_sep_len = seps->u.a->items[1].u.s.len;
    }
    return to_json(rt, x, &o, out);
}

typedef struct {
    const jv *attr;  /* attribute path (string or integer) or NULL */
    bool case_sens;  /* compare strings as written */
    bool reverse;    /* descending */
} sort_opts;

static int sort_cmp(jrt *rt, void *ctx, const jv *a, const jv *b, int *out) {
    const sort_opts *o = ctx;
    jv x = *a, y = *b;
    if (o->attr) {
        char num[JNUM_BUF];
        const char *path = num;
        size_t len;
        if (o->attr->type == JV_INT) {
            len = jnum_format(o->attr->u.n, num);
        } else {
            path = o->attr->u.s.p;
            len = o->attr->u.s.len;
        }
        x = jfilter_attribute(a, path, len);
        y = jfilter_attribute(b, path, len);
    }
    int c;
    if (jv_compare(rt, &x, &y, o->case_sens, &c)) return -1;
    *out = o->reverse ? -c : c;
    return 0;
}

int jfilter_select_attr(jrt *rt, const jv_array *a, const jv *args, size_t nargs, bool select, jv *out) {
    for (uint32_t i = 0; i < a->len; i++)
        if (!jv_is_map(&a->items[i]))
            return fn_error("%s can only be applied to a list of dicts", select ? "selectattr" : "rejectattr");
    if (nargs < 1 || args[0].type != JV_STR) return fn_error("%s needs an attribute name", select ? "selectattr" : "rejectattr");
    const jv *test = nargs >= 2 ? &args[1] : NULL;
    if (test && test->type != JV_STR) return fn_error("the test name must be a string");
    jv_array *r = jv_array_new(rt, 0);
    if (!r) return -1;
    for (uint32_t i = 0; i < a->len; i++) {
        const jv *v = jv_object_get(a->items[i].u.o, args[0].u.s.p, args[0].u.s.len);
        bool ok = false;
        if (v) {
            if (!test) ok = jv_truthy(v);
            else if (jbuiltin_test(rt, test->u.s.p, test->u.s.len, v, args + 2, nargs > 2 ? nargs - 2 : 0, &ok))
                return -1;
        }
        if (ok == select && jv_array_push(rt, r, a->items[i])) return -1;
    }
    *out = jv_arr(r, false);
    return 0;
}

/* Filters written with parentheses. */
static int called(jrt *rt, const char *name, size_t len, const jv *x, const jv *args, size_t nargs,
                  const jv_object *kw, bool literal_args, jv *out) {
#define IS(s) is(name, len, s)
    if (IS("tojson")) return tojson_called(rt, x, kw, out);
    if (IS("join")) {
        if (x->type != JV_STR && x->type != JV_ARRAY) return NOT_HANDLED;
        const jv *sep = argk(args, nargs, 0, kw, "separator");
        if (sep && sep->type != JV_STR) return fn_error("join separator must be a string");
        const char *sp = sep ? sep->u.s.p : "";
        size_t sl = sep ? sep->u.s.len : 0;
        if (x->type == JV_ARRAY) return jfilter_join_values(rt, x->u.a, sp, sl, out);
        jbuf b;
        jbuf_init(&b, &rt->arena, rt->max_output);
        for (size_t i = 0; i < x->u.s.len;) {
            size_t j = i;
            jtext_decode(x->u.s.p, x->u.s.len, &j);
            if ((i && jbuf_put(&b, sp, sl)) || jbuf_put(&b, x->u.s.p + i, j - i)) return -1;
            i = j;
        }
        return *out = jv_str_buf(&b), 0;
    }
    if (IS("int") || IS("float")) {
        bool to_int = IS("int");
        const jv *d = argk(args, nargs, 0, kw, "default");
        jv def = d ? *d : to_int ? jv_int(0) : jv_float(0);
        if (x->type == JV_STR) {
            double v = to_int ? jnum_parse_int(x->u.s.p, x->u.s.len) : jnum_parse_float(x->u.s.p, x->u.s.len);
            return *out = isnan(v) ? def : to_int ? jv_int(v) : jv_float(v), 0;
        }
        if (jv_is_num(x)) return *out = *x, 0;
        if (x->type == JV_BOOL) return *out = to_int ? jv_int(x->u.b) : jv_float(x->u.b), 0;
        return NOT_HANDLED;
    }
    if (IS("default")) {
        jv def = nargs >= 1 ? args[0] : jv_str("", 0);
        const jv *boolean = argk(args, nargs, 1, kw, "boolean");
        if (boolean && boolean->type != JV_BOOL) return fn_error("default filter flag must be a boolean");
        bool use = x->type == JV_UNDEFINED || (boolean && boolean->u.b && !jv_truthy(x));
        return *out = use ? def : *x, 0;
    }
    if (x->type == JV_ARRAY) {
        const jv_array *a = x->u.a;
        if (IS("sort")) {
            const jv *rev = argk(args, nargs, 0, kw, "reverse");
            const jv *cs = argk(args, nargs, 1, kw, "case_sensitive");
            const jv *attr = argk(args, nargs, 2, kw, "attribute");
            if (rev && rev->type != JV_BOOL) return fn_error("sort reverse must be a boolean");
            if (cs && cs->type != JV_BOOL) return fn_error("sort case_sensitive must be a boolean");
            if (attr && attr->type != JV_STR && attr->type != JV_INT && attr->type != JV_NULL)
                return fn_error("sort attribute must be a string, integer or none");
            sort_opts o = {attr && attr->type != JV_NULL ? attr : NULL, cs && cs->u.b, rev && rev->u.b};
            jv_array *c;
            if (copy_array(rt, a, &c) || jv_sort(rt, c->items, c->len, sort_cmp, &o)) return -1;
            return *out = jv_arr(c, false), 0;
        }
        if ((IS("selectattr") || IS("rejectattr")) && literal_args)
            return jfilter_select_attr(rt, a, args, nargs, IS("selectattr"), out);
        if (IS("map")) {
            const jv *attr = kwarg(kw, "attribute");
            if (!attr) return NOT_HANDLED;
            if (attr->type != JV_STR) return fn_error("map attribute must be a string");
            const jv *def = kwarg(kw, "default");
            jv_array *r = jv_array_new(rt, a->len);
            if (!r) return -1;
            for (uint32_t i = 0; i < a->len; i++) {
                if (!jv_is_map(&a->items[i])) return fn_error("map(attribute=...) needs a list of dicts");
                jv v = jfilter_attribute(&a->items[i], attr->u.s.p, attr->u.s.len);
                r->items[r->len++] = v.type == JV_UNDEFINED && def ? *def : v;
            }
            return *out = jv_arr(r, false), 0;
        }
        return NOT_HANDLED;
    }
    if (x->type == JV_STR) {
        if (IS("indent")) {
            const jv *w = argk(args, nargs, 0, kw, "width");
            if (w && w->type != JV_INT) return fn_error("indent width must be an integer");
            const jv *first = argk(args, nargs, 1, kw, "first"), *blank = argk(args, nargs, 2, kw, "blank");
            return jfilter_indent(rt, x, w ? (int64_t)fmax(fmin(w->u.n, 1e9), -1e9) : 4, first && jv_js_truthy(first),
                                  blank && jv_js_truthy(blank), out);
        }
        if (IS("replace")) return jmethod_call(rt, x, "replace", args, nargs, kw, out);
        return NOT_HANDLED;
    }
    if (x->type == JV_OBJECT) {
        jv m;
        if (jmethod_lookup(rt, x, name, len, &m)) return -1;
        if (m.type == JV_FUNC) return m.u.f->native(rt, &m.u.f->self, args, nargs, kw, out);
        return NOT_HANDLED;
    }
    return NOT_HANDLED;
#undef IS
}

/* Does the reference implement filter `name` in this form (bare or called) for any type? */
static bool reference_form(const char *name, size_t len, bool is_called) {
    static const char *const bare[] = {"safe",  "tojson", "list",  "first",      "last",  "length", "reverse",
                                       "sort",  "join",   "string", "unique",    "upper", "lower",  "title",
                                       "capitalize", "trim", "indent", "int",    "float", "abs",    "items",
                                       "bool",  "get",    "keys",  "values",     "dictsort"};
    static const char *const call[] = {"safe", "tojson", "join",  "int",   "float", "default", "sort",  "selectattr",
                                       "rejectattr", "map", "indent", "replace", "get", "items", "keys", "values",
                                       "dictsort"};
    const char *const *tab = is_called ? call : bare;
    size_t n = is_called ? FN_ARRAY_LEN(call) : FN_ARRAY_LEN(bare);
    for (size_t i = 0; i < n; i++)
        if (is(name, len, tab[i])) return true;
    return false;
}

int jfilter_apply(jrt *rt, const char *name, size_t len, bool is_called, const jv *x, const jv *args, size_t nargs,
                  const jv_object *kw, bool literal_args, jv *out) {
    if (is(name, len, "safe")) return *out = *x, 0;
    if (is(name, len, "tojson") && !is_called) {
        jv_json_opts o = {.undefined_as_null = true};
        return to_json(rt, x, &o, out);
    }
    int rc = is_called ? called(rt, name, len, x, args, nargs, kw, literal_args, out) : plain(rt, name, len, x, out);
    if (rc != NOT_HANDLED) return rc;
    int l = (int)(len > 40 ? 40 : len);
    /* Where the reference implements this filter in this form for some types, the others are
     * errors there and stay errors here; the Python extensions only fill real gaps. */
    bool gap = !reference_form(name, len, is_called) ||
               (is_called && is(name, len, "map") && !kwarg(kw, "attribute")) ||
               (is_called && (is(name, len, "selectattr") || is(name, len, "rejectattr")) && !literal_args);
    if (!gap) return fn_error("filter '%.*s' cannot be applied to a %s", l, name, jv_type_name(x));
    rc = jfilter_ext(rt, name, len, is_called, x, args, nargs, kw, out);
    if (rc != JFILTER_NOT_HANDLED) return rc;
    if (!jfilter_ext_known(name, len)) return fn_error("unknown filter '%.*s'", l, name);
    return fn_error("filter '%.*s' cannot be applied to a %s", l, name, jv_type_name(x));
}
