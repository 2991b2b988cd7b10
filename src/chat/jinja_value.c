/* jinja_value.c - values, printing, JSON and equality with the reference's JavaScript
 * semantics (see jinja_value.h). */
#include "chat/jinja_value.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "chat/jinja_num.h"
#include "chat/jinja_text.h"

/* Deep enough for any JSON jansson accepts (2048), shallow enough for the C stack. */
#define MAX_NESTING 2100

int jv_str_copy(jrt *rt, const char *p, size_t len, jv *out) {
    char *d = jarena_strndup(&rt->arena, p, len);
    if (!d) return -1;
    *out = jv_str(d, len);
    return 0;
}

jv jv_str_buf(const jbuf *b) { return jv_str(b->p ? b->p : "", b->len); }

jv_array *jv_array_new(jrt *rt, size_t cap) {
    if (cap > UINT32_MAX / 2) {
        fn_error("list too long");
        return NULL;
    }
    jv_array *a = jarena_alloc(&rt->arena, sizeof *a);
    if (!a) return NULL;
    a->len = 0;
    a->cap = (uint32_t)cap;
    a->items = NULL;
    if (cap && !(a->items = jarena_alloc(&rt->arena, cap * sizeof(jv)))) return NULL;
    return a;
}

int jv_array_push(jrt *rt, jv_array *a, jv v) {
    if (a->len == a->cap) {
        if (a->cap >= UINT32_MAX / 4) return fn_error("list too long");
        uint32_t cap = a->cap ? a->cap * 2 : 4;
        jv *items = jarena_grow(&rt->arena, a->items, a->len * sizeof(jv), cap * sizeof(jv));
        if (!items) return -1;
        a->items = items;
        a->cap = cap;
    }
    a->items[a->len++] = v;
    return 0;
}

uint32_t jv_hash(const char *p, size_t len) {
    uint32_t h = 2166136261u; /* FNV-1a */
    for (size_t i = 0; i < len; i++) h = (h ^ (unsigned char)p[i]) * 16777619u;
    return h;
}

jv_object *jv_object_new(jrt *rt) {
    jv_object *o = jarena_zalloc(&rt->arena, sizeof *o);
    if (o) o->loop_index0 = -1;
    return o;
}

static bool key_eq(const jv_key *k, const char *p, size_t len, uint32_t h) {
    return k->hash == h && k->len == len && (len == 0 || !memcmp(k->p, p, len));
}

static int64_t find_key(const jv_object *o, const char *p, size_t len, uint32_t h) {
    if (o->index) {
        uint32_t mask = o->index_cap - 1;
        for (uint32_t s = h & mask;; s = (s + 1) & mask) {
            uint32_t e = o->index[s];
            if (!e) return -1;
            if (key_eq(&o->keys[e - 1], p, len, h)) return e - 1;
        }
    }
    for (uint32_t i = 0; i < o->len; i++)
        if (key_eq(&o->keys[i], p, len, h)) return i;
    return -1;
}

/* (Re)builds the hash index once a dict has more than a few keys. */
static int build_index(jrt *rt, jv_object *o, uint32_t want) {
    uint32_t cap = 16;
    while (cap < want * 2) cap *= 2;
    uint32_t *idx = jarena_zalloc(&rt->arena, cap * sizeof *idx);
    if (!idx) return -1;
    for (uint32_t i = 0; i < o->len; i++) {
        uint32_t s = o->keys[i].hash & (cap - 1);
        while (idx[s]) s = (s + 1) & (cap - 1);
        idx[s] = i + 1;
    }
    o->index = idx;
    o->index_cap = cap;
    return 0;
}

int jv_object_set(jrt *rt, jv_object *o, const char *k, size_t klen, jv v) {
    if (klen > UINT32_MAX) return fn_error("dict key too long");
    uint32_t h = jv_hash(k, klen);
    int64_t at = find_key(o, k, klen, h);
    if (at >= 0) {
        o->vals[at] = v;
        return 0;
    }
    if (o->len == o->cap) {
        if (o->cap >= UINT32_MAX / 8) return fn_error("dict too large");
        uint32_t cap = o->cap ? o->cap * 2 : 4;
        jv_key *keys = jarena_grow(&rt->arena, o->keys, o->len * sizeof *keys, cap * sizeof *keys);
        if (!keys) return -1;
        o->keys = keys;
        jv *vals = jarena_grow(&rt->arena, o->vals, o->len * sizeof *vals, cap * sizeof *vals);
        if (!vals) return -1;
        o->vals = vals;
        o->cap = cap;
    }
    o->keys[o->len] = (jv_key){k, (uint32_t)klen, h};
    o->vals[o->len] = v;
    o->len++;
    if (o->index && o->len * 2 <= o->index_cap) {
        uint32_t s = h & (o->index_cap - 1);
        while (o->index[s]) s = (s + 1) & (o->index_cap - 1);
        o->index[s] = o->len;
    } else if (o->len > 16) { /* small dicts (loop, messages) are faster to scan */
        return build_index(rt, o, o->len);
    }
    return 0;
}

jv *jv_object_get(const jv_object *o, const char *k, size_t klen) {
    int64_t at = find_key(o, k, klen, jv_hash(k, klen));
    return at >= 0 ? &o->vals[at] : NULL;
}

bool jv_object_del(jv_object *o, const char *k, size_t klen) {
    int64_t at = find_key(o, k, klen, jv_hash(k, klen));
    if (at < 0) return false;
    memmove(o->keys + at, o->keys + at + 1, (o->len - at - 1) * sizeof *o->keys);
    memmove(o->vals + at, o->vals + at + 1, (o->len - at - 1) * sizeof *o->vals);
    o->len--;
    if (o->index) {
        /* Rebuild in place: positions moved. */
        memset(o->index, 0, o->index_cap * sizeof *o->index);
        for (uint32_t i = 0; i < o->len; i++) {
            uint32_t s = o->keys[i].hash & (o->index_cap - 1);
            while (o->index[s]) s = (s + 1) & (o->index_cap - 1);
            o->index[s] = i + 1;
        }
    }
    return true;
}

int jv_native(jrt *rt, const char *name, jv_native_fn fn, const jv *self, jv *out) {
    jv_func *f = jarena_zalloc(&rt->arena, sizeof *f);
    if (!f) return -1;
    f->kind = JF_NATIVE;
    f->name = name;
    f->native = fn;
    f->self = self ? *self : jv_undef();
    *out = jv_fn(f);
    return 0;
}

int jv_spend(jrt *rt, uint64_t n) {
    if (rt->steps < n) return fn_error("template exceeded its step limit (loop iterations and calls)");
    rt->steps -= n;
    return 0;
}

bool jv_truthy(const jv *v) {
    switch (v->type) {
    case JV_BOOL: return v->u.b;
    case JV_INT:
    case JV_FLOAT: return v->u.n != 0 && !isnan(v->u.n);
    case JV_STR: return v->u.s.len > 0;
    case JV_ARRAY: return v->u.a->len > 0;
    case JV_OBJECT: return v->u.o->len > 0;
    case JV_NAMESPACE:
    case JV_FUNC: return true;
    default: return false;
    }
}

bool jv_js_truthy(const jv *v) {
    switch (v->type) {
    case JV_BOOL: return v->u.b;
    case JV_INT:
    case JV_FLOAT: return v->u.n != 0 && !isnan(v->u.n);
    case JV_STR: return v->u.s.len > 0;
    case JV_UNDEFINED:
    case JV_NULL: return false;
    default: return true;
    }
}

const char *jv_type_name(const jv *v) {
    switch (v->type) {
    case JV_UNDEFINED: return "undefined";
    case JV_NULL: return "none";
    case JV_BOOL: return "boolean";
    case JV_INT: return "integer";
    case JV_FLOAT: return "float";
    case JV_STR: return "string";
    case JV_ARRAY: return v->flags & JV_TUPLE ? "tuple" : "list";
    case JV_OBJECT: return "dict";
    case JV_NAMESPACE: return "namespace";
    case JV_FUNC: return "function";
    }
    return "?";
}

static bool same_ref(const jv *a, const jv *b) {
    switch (a->type) {
    case JV_ARRAY: return a->u.a == b->u.a;
    case JV_OBJECT:
    case JV_NAMESPACE: return a->u.o == b->u.o;
    case JV_FUNC: return a->u.f == b->u.f;
    default: return false;
    }
}

bool jv_strict_eq(const jv *a, const jv *b) {
    if (jv_is_num(a) && jv_is_num(b)) return a->u.n == b->u.n;
    bool a_obj = a->type >= JV_ARRAY, b_obj = b->type >= JV_ARRAY;
    if (a_obj || b_obj) return a_obj && b_obj && a->type == b->type && same_ref(a, b);
    if (a->type != b->type) return false;
    switch (a->type) {
    case JV_BOOL: return a->u.b == b->u.b;
    case JV_STR:
        return a->u.s.len == b->u.s.len && (a->u.s.len == 0 || !memcmp(a->u.s.p, b->u.s.p, a->u.s.len));
    default: return true; /* undefined, none */
    }
}

/* ToPrimitive of a list, dict or function for `==`: lists join their items with ",". */
static int to_primitive(jrt *rt, const jv *v, jv *out) {
    if (v->type == JV_ARRAY) {
        jbuf b;
        jbuf_init(&b, &rt->arena, rt->max_output);
        if (jv_write_raw(rt, v, &b)) return -1;
        *out = jv_str_buf(&b);
    } else if (v->type == JV_FUNC) {
        *out = jv_str("[function]", 10);
    } else {
        *out = jv_str("[object Map]", 12);
    }
    return 0;
}

static int loose_eq(jrt *rt, const jv *a, const jv *b, bool *out, int depth) {
    if (depth > 8) return fn_error("comparison too deep");
    bool a_nil = a->type <= JV_NULL, b_nil = b->type <= JV_NULL;
    bool a_obj = a->type >= JV_ARRAY, b_obj = b->type >= JV_ARRAY;
    if (a_nil || b_nil) {
        *out = a_nil && b_nil;
        return 0;
    }
    if ((a->type == b->type) || (jv_is_num(a) && jv_is_num(b)) || (a_obj && b_obj)) {
        *out = jv_strict_eq(a, b);
        return 0;
    }
    if (a->type == JV_BOOL) {
        jv n = jv_int(a->u.b ? 1 : 0);
        return loose_eq(rt, &n, b, out, depth + 1);
    }
    if (b->type == JV_BOOL) {
        jv n = jv_int(b->u.b ? 1 : 0);
        return loose_eq(rt, a, &n, out, depth + 1);
    }
    if (jv_is_num(a) && b->type == JV_STR) {
        *out = a->u.n == jnum_from_string(b->u.s.p, b->u.s.len);
        return 0;
    }
    if (a->type == JV_STR && jv_is_num(b)) {
        *out = b->u.n == jnum_from_string(a->u.s.p, a->u.s.len);
        return 0;
    }
    if (a_obj) {
        jv p;
        if (to_primitive(rt, a, &p)) return -1;
        return loose_eq(rt, &p, b, out, depth + 1);
    }
    if (b_obj) {
        jv p;
        if (to_primitive(rt, b, &p)) return -1;
        return loose_eq(rt, a, &p, out, depth + 1);
    }
    *out = false;
    return 0;
}

int jv_loose_eq(jrt *rt, const jv *a, const jv *b, bool *out) { return loose_eq(rt, a, b, out, 0); }

int jv_compare(jrt *rt, const jv *a, const jv *b, bool case_sensitive, int *out) {
    if (a->type == JV_NULL || b->type == JV_NULL) {
        if (a->type == b->type) return *out = 0, 0;
        return fn_error("cannot compare %s with %s", jv_type_name(a), jv_type_name(b));
    }
    if (a->type == JV_UNDEFINED || b->type == JV_UNDEFINED) {
        if (a->type == b->type) return *out = 0, 0;
        return fn_error("cannot compare %s with %s", jv_type_name(a), jv_type_name(b));
    }
    bool an = jv_is_num(a) || a->type == JV_BOOL, bn = jv_is_num(b) || b->type == JV_BOOL;
    if (an && bn) {
        double x = a->type == JV_BOOL ? a->u.b : a->u.n;
        double y = b->type == JV_BOOL ? b->u.b : b->u.n;
        *out = x < y ? -1 : x > y ? 1 : 0;
        return 0;
    }
    if (a->type != b->type || a->flags != b->flags)
        return fn_error("cannot compare different types: %s and %s", jv_type_name(a), jv_type_name(b));
    if (a->type != JV_STR) return fn_error("cannot compare values of type %s", jv_type_name(a));
    const char *x = a->u.s.p, *y = b->u.s.p;
    size_t xn = a->u.s.len, yn = b->u.s.len;
    if (!case_sensitive) {
        char *lx = jarena_alloc(&rt->arena, jtext_case_max(xn));
        char *ly = jarena_alloc(&rt->arena, jtext_case_max(yn));
        if (!lx || !ly) return -1;
        xn = jtext_lower(x, xn, rt->casemap, lx);
        yn = jtext_lower(y, yn, rt->casemap, ly);
        x = lx;
        y = ly;
    }
    int c = jtext_compare(x, xn, y, yn);
    *out = c < 0 ? -1 : c > 0 ? 1 : 0;
    return 0;
}

int jv_sort(jrt *rt, jv *items, size_t n, jv_cmp_fn cmp, void *ctx) {
    if (n < 2) return 0;
    jv *tmp = jarena_alloc(&rt->arena, n * sizeof *tmp);
    if (!tmp) return -1;
    for (size_t width = 1; width < n; width *= 2) {
        for (size_t lo = 0; lo < n; lo += 2 * width) {
            size_t mid = lo + width < n ? lo + width : n, hi = lo + 2 * width < n ? lo + 2 * width : n;
            size_t i = lo, j = mid, k = lo;
            while (i < mid && j < hi) {
                int c;
                if (cmp(rt, ctx, &items[j], &items[i], &c)) return -1;
                tmp[k++] = c < 0 ? items[j++] : items[i++];
            }
            while (i < mid) tmp[k++] = items[i++];
            while (j < hi) tmp[k++] = items[j++];
        }
        memcpy(items, tmp, n * sizeof *items);
    }
    return 0;
}

static int put_num(jbuf *out, double n, bool as_float) {
    char buf[JNUM_BUF];
    size_t len = as_float ? jnum_format_float(n, buf) : jnum_format(n, buf);
    return jbuf_put(out, buf, len);
}

static int write_json(jrt *rt, const jv *v, const jv_json_opts *o, jbuf *out, int64_t depth);

int jv_write(jrt *rt, const jv *v, jbuf *out) {
    switch (v->type) {
    case JV_UNDEFINED: return jbuf_puts(out, "undefined");
    case JV_NULL: return jbuf_puts(out, "null");
    case JV_BOOL: return jbuf_puts(out, v->u.b ? "true" : "false");
    case JV_INT: return put_num(out, v->u.n, false);
    case JV_FLOAT: return put_num(out, v->u.n, true);
    case JV_STR: return jbuf_put(out, v->u.s.p, v->u.s.len);
    case JV_FUNC: return jbuf_puts(out, "[function]");
    default: {
        jv_json_opts o = {0};
        return write_json(rt, v, &o, out, 0);
    }
    }
}

static int write_raw(jrt *rt, const jv *v, jbuf *out, int depth) {
    switch (v->type) {
    case JV_FLOAT: return put_num(out, v->u.n, false);
    case JV_OBJECT:
    case JV_NAMESPACE: return jbuf_puts(out, "[object Map]");
    case JV_ARRAY:
        if (depth > MAX_NESTING) return fn_error("list nested too deeply to print");
        for (uint32_t i = 0; i < v->u.a->len; i++) {
            if (i && jbuf_put(out, ",", 1)) return -1;
            /* Array.prototype.join calls each item's toString(). */
            if (jv_write(rt, &v->u.a->items[i], out)) return -1;
        }
        return 0;
    default: return jv_write(rt, v, out);
    }
}

int jv_write_raw(jrt *rt, const jv *v, jbuf *out) { return write_raw(rt, v, out, 0); }

int jv_write_json_string(jbuf *out, const char *s, size_t len, bool ensure_ascii) {
    static const char hex[] = "0123456789abcdef";
    if (jbuf_put(out, "\"", 1)) return -1;
    size_t run = 0; /* start of the pending run of bytes copied verbatim */
    for (size_t i = 0; i < len;) {
        unsigned char c = (unsigned char)s[i];
        char esc[16];
        size_t n = 0;
        size_t next = i + 1;
        if (c == '"' || c == '\\') {
            esc[0] = '\\';
            esc[1] = (char)c;
            n = 2;
        } else if (c < 0x20) {
            esc[0] = '\\';
            n = 2;
            switch (c) {
            case '\b': esc[1] = 'b'; break;
            case '\f': esc[1] = 'f'; break;
            case '\n': esc[1] = 'n'; break;
            case '\r': esc[1] = 'r'; break;
            case '\t': esc[1] = 't'; break;
            default:
                memcpy(esc, "\\u00", 4);
                esc[4] = hex[c >> 4];
                esc[5] = hex[c & 15];
                n = 6;
            }
        } else if (ensure_ascii && c >= 0x7F) {
            size_t j = i;
            uint32_t cp = jtext_decode(s, len, &j);
            next = j;
            uint32_t units[2] = {cp, 0};
            int nu = 1;
            if (cp >= 0x10000) {
                units[0] = 0xD800 + ((cp - 0x10000) >> 10);
                units[1] = 0xDC00 + ((cp - 0x10000) & 0x3FF);
                nu = 2;
            }
            for (int u = 0; u < nu; u++) {
                esc[n++] = '\\';
                esc[n++] = 'u';
                for (int sh = 12; sh >= 0; sh -= 4) esc[n++] = hex[(units[u] >> sh) & 15];
            }
        }
        if (n) {
            if (jbuf_put(out, s + run, i - run) || jbuf_put(out, esc, n)) return -1;
            run = next;
        }
        i = next;
    }
    if (jbuf_put(out, s + run, len - run)) return -1;
    return jbuf_put(out, "\"", 1);
}

static int put_padding(jbuf *out, int64_t indent, int64_t depth) {
    if (jbuf_put(out, "\n", 1)) return -1;
    if (indent <= 0) return 0;
    int64_t n = indent * depth;
    char *d = jbuf_reserve(out, (size_t)n);
    if (!d) return -1;
    memset(d, ' ', (size_t)n);
    out->len += (size_t)n;
    return 0;
}

/* ICU-like ordering for sort_keys (localeCompare): case-insensitive first, then lower case
 * before upper case, then code units. An approximation outside ASCII. */
static int locale_cmp(const jv_key *a, const jv_key *b) {
    size_t n = a->len < b->len ? a->len : b->len;
    for (size_t i = 0; i < n; i++) {
        unsigned char x = (unsigned char)a->p[i], y = (unsigned char)b->p[i];
        unsigned char lx = x >= 'A' && x <= 'Z' ? x + 32 : x, ly = y >= 'A' && y <= 'Z' ? y + 32 : y;
        if (lx != ly) return lx < ly ? -1 : 1;
    }
    if (a->len != b->len) return a->len < b->len ? -1 : 1;
    for (size_t i = 0; i < n; i++) {
        unsigned char x = (unsigned char)a->p[i], y = (unsigned char)b->p[i];
        if (x != y) return x > y ? -1 : 1; /* lower case (larger byte) first */
    }
    return 0;
}

static int write_json(jrt *rt, const jv *v, const jv_json_opts *o, jbuf *out, int64_t depth) {
    if (depth > MAX_NESTING) return fn_error("value nested too deeply for JSON");
    bool indent = o->indent > 0;
    const char *isep = o->item_sep ? o->item_sep : indent ? "," : ", ";
    size_t isep_len = o->item_sep ? o->item_sep_len : strlen(isep);
    const char *ksep = o->key_sep ? o->key_sep : ": ";
    size_t ksep_len = o->key_sep ? o->key_sep_len : 2;
    switch (v->type) {
    case JV_NULL: return jbuf_puts(out, "null");
    case JV_UNDEFINED: return jbuf_puts(out, o->undefined_as_null ? "null" : "undefined");
    case JV_BOOL: return jbuf_puts(out, v->u.b ? "true" : "false");
    case JV_INT:
    case JV_FLOAT:
        if (!isfinite(v->u.n)) return jbuf_puts(out, "null");
        return put_num(out, v->u.n, false);
    case JV_STR: return jv_write_json_string(out, v->u.s.p, v->u.s.len, o->ensure_ascii);
    case JV_ARRAY: {
        if (v->flags & JV_TUPLE) return fn_error("cannot convert a tuple to JSON");
        if (o->indent < 0) return fn_error("tojson indent must not be negative");
        const jv_array *a = v->u.a;
        if (jbuf_put(out, "[", 1)) return -1;
        for (uint32_t i = 0; i < a->len; i++) {
            if (i && jbuf_put(out, isep, isep_len)) return -1;
            if (indent && put_padding(out, o->indent, depth + 1)) return -1;
            if (write_json(rt, &a->items[i], o, out, depth + 1)) return -1;
        }
        if (indent && a->len && put_padding(out, o->indent, depth)) return -1;
        return jbuf_put(out, "]", 1);
    }
    case JV_OBJECT:
    case JV_NAMESPACE: {
        if (o->indent < 0) return fn_error("tojson indent must not be negative");
        const jv_object *ob = v->u.o;
        uint32_t *order = NULL;
        if (o->sort_keys && ob->len > 1) {
            order = jarena_alloc(&rt->arena, ob->len * sizeof *order);
            if (!order) return -1;
            for (uint32_t i = 0; i < ob->len; i++) order[i] = i;
            for (uint32_t i = 1; i < ob->len; i++) { /* stable insertion sort */
                uint32_t x = order[i], j = i;
                while (j > 0 && locale_cmp(&ob->keys[order[j - 1]], &ob->keys[x]) > 0) {
                    order[j] = order[j - 1];
                    j--;
                }
                order[j] = x;
            }
        }
        if (jbuf_put(out, "{", 1)) return -1;
        for (uint32_t i = 0; i < ob->len; i++) {
            uint32_t k = order ? order[i] : i;
            if (i && jbuf_put(out, isep, isep_len)) return -1;
            if (indent && put_padding(out, o->indent, depth + 1)) return -1;
            if (jv_write_json_string(out, ob->keys[k].p, ob->keys[k].len, o->ensure_ascii) ||
                jbuf_put(out, ksep, ksep_len) || write_json(rt, &ob->vals[k], o, out, depth + 1))
                return -1;
        }
        if (indent && ob->len && put_padding(out, o->indent, depth)) return -1;
        return jbuf_put(out, "}", 1);
    }
    default: return fn_error("cannot convert a %s to JSON", jv_type_name(v));
    }
}

int jv_write_json(jrt *rt, const jv *v, const jv_json_opts *opts, jbuf *out) {
    return write_json(rt, v, opts, out, 0);
}

/* An array index key ("0", "17", at most 2^32 - 2) that Object.entries lists first. */
static bool index_key(const char *k, size_t n, uint64_t *val) {
    if (n == 0 || n > 10 || (n > 1 && k[0] == '0')) return false;
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        if (k[i] < '0' || k[i] > '9') return false;
        v = v * 10 + (uint64_t)(k[i] - '0');
    }
    *val = v;
    return v <= 4294967294u;
}

static int from_json(jrt *rt, const json_t *j, jv *out, int depth) {
    if (depth > MAX_NESTING) return fn_error("input JSON nested too deeply");
    switch (json_typeof(j)) {
    case JSON_NULL: *out = jv_null(); return 0;
    case JSON_TRUE: *out = jv_bool(true); return 0;
    case JSON_FALSE: *out = jv_bool(false); return 0;
    case JSON_INTEGER: *out = jv_number((double)json_integer_value(j)); return 0;
    case JSON_REAL: *out = jv_number(json_real_value(j)); return 0;
    case JSON_STRING: return jv_str_copy(rt, json_string_value(j), json_string_length(j), out);
    case JSON_ARRAY: {
        size_t n = json_array_size(j);
        jv_array *a = jv_array_new(rt, n);
        if (!a) return -1;
        for (size_t i = 0; i < n; i++) {
            if (from_json(rt, json_array_get(j, i), &a->items[i], depth + 1)) return -1;
            a->len++;
        }
        *out = jv_arr(a, false);
        return 0;
    }
    case JSON_OBJECT: {
        jv_object *o = jv_object_new(rt);
        if (!o) return -1;
        size_t n = json_object_size(j);
        /* Index keys first, ascending (insertion sort: they are rare and few). */
        const char **idx_keys = NULL;
        uint64_t *idx_vals = NULL;
        size_t n_idx = 0;
        const char *key;
        json_t *val;
        json_object_foreach((json_t *)j, key, val) {
            uint64_t iv;
            if (!index_key(key, strlen(key), &iv)) continue;
            if (!idx_keys) {
                idx_keys = jarena_alloc(&rt->arena, n * sizeof *idx_keys);
                idx_vals = jarena_alloc(&rt->arena, n * sizeof *idx_vals);
                if (!idx_keys || !idx_vals) return -1;
            }
            size_t p = n_idx++;
            while (p > 0 && idx_vals[p - 1] > iv) {
                idx_keys[p] = idx_keys[p - 1];
                idx_vals[p] = idx_vals[p - 1];
                p--;
            }
            idx_keys[p] = key;
            idx_vals[p] = iv;
        }
        for (size_t i = 0; i < n_idx; i++) {
            size_t kl = strlen(idx_keys[i]);
            char *k = jarena_strndup(&rt->arena, idx_keys[i], kl);
            jv v;
            if (!k || from_json(rt, json_object_get(j, idx_keys[i]), &v, depth + 1) ||
                jv_object_set(rt, o, k, kl, v))
                return -1;
        }
        json_object_foreach((json_t *)j, key, val) {
            uint64_t iv;
            size_t kl = strlen(key);
            if (index_key(key, kl, &iv)) continue;
            char *k = jarena_strndup(&rt->arena, key, kl);
            jv v;
            if (!k || from_json(rt, val, &v, depth + 1) || jv_object_set(rt, o, k, kl, v)) return -1;
        }
        *out = jv_obj(o);
        return 0;
    }
    }
    return fn_error("unsupported JSON value");
}

int jv_from_json(jrt *rt, const json_t *j, jv *out) { return from_json(rt, j, out, 0); }
