/* jinja_methods.c - methods of strings, lists and dicts (see jinja_methods.h). */
#include "chat/jinja_methods.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <wctype.h>

#include "base/error.h"
#include "chat/jinja_num.h"
#include "chat/jinja_text.h"

#define SELF const jv *self
#define METHOD(fn) static int fn(jrt *rt, const jv *self, const jv *args, size_t nargs, const jv_object *kw, jv *out)

static const jv *kwarg(const jv_object *kw, const char *name) {
    return kw ? jv_object_get(kw, name, strlen(name)) : NULL;
}

/* Positional argument i, else keyword `name`, else NULL. */
static const jv *arg(const jv *args, size_t nargs, size_t i, const jv_object *kw, const char *name) {
    if (i < nargs) return &args[i];
    return name ? kwarg(kw, name) : NULL;
}

static int new_buf_str(jrt *rt, jbuf *b, jv *out) {
    (void)rt;
    *out = jv_str_buf(b);
    return 0;
}

/* ---- string helpers ------------------------------------------------------------------------ */

static int case_map(jrt *rt, const jv *s, bool upper, jv *out) {
    char *m = jarena_alloc(&rt->arena, jtext_case_max(s->u.s.len));
    if (!m) return -1;
    size_t n = upper ? jtext_upper(s->u.s.p, s->u.s.len, rt->casemap, m)
                     : jtext_lower(s->u.s.p, s->u.s.len, rt->casemap, m);
    *out = jv_str(m, n);
    return 0;
}

int jmethod_upper(jrt *rt, const jv *s, jv *out) { return case_map(rt, s, true, out); }
int jmethod_lower(jrt *rt, const jv *s, jv *out) { return case_map(rt, s, false, out); }

int jmethod_title(jrt *rt, const jv *s, jv *out) {
    char *m = jarena_alloc(&rt->arena, s->u.s.len + 1);
    if (!m) return -1;
    for (size_t i = 0; i < s->u.s.len; i++) {
        unsigned char c = (unsigned char)s->u.s.p[i];
        bool start = jtext_is_word(c) && (i == 0 || !jtext_is_word((unsigned char)s->u.s.p[i - 1]));
        m[i] = (char)(start && c >= 'a' && c <= 'z' ? c - 32 : c);
    }
    *out = jv_str(m, s->u.s.len);
    return 0;
}

int jmethod_capitalize(jrt *rt, const jv *s, jv *out) {
    if (s->u.s.len == 0) return *out = *s, 0;
    size_t i = 0;
    uint32_t cp = jtext_decode(s->u.s.p, s->u.s.len, &i);
    if (cp >= 0x10000) return *out = *s, 0; /* charAt(0) is half a surrogate pair */
    jv first = jv_str(s->u.s.p, i), up;
    if (case_map(rt, &first, true, &up)) return -1;
    jbuf b;
    jbuf_init(&b, &rt->arena, 0);
    if (jbuf_put(&b, up.u.s.p, up.u.s.len) || jbuf_put(&b, s->u.s.p + i, s->u.s.len - i)) return -1;
    return new_buf_str(rt, &b, out);
}

jv jmethod_trim(const jv *s) {
    size_t a = jtext_space_prefix(s->u.s.p, s->u.s.len);
    size_t e = jtext_trim_end(s->u.s.p, s->u.s.len);
    return jv_str(s->u.s.p + a, e > a ? e - a : 0);
}

static bool starts_with(const jv *s, const jv *p) {
    return p->u.s.len <= s->u.s.len && !memcmp(s->u.s.p, p->u.s.p, p->u.s.len);
}

static bool ends_with(const jv *s, const jv *p) {
    return p->u.s.len <= s->u.s.len && !memcmp(s->u.s.p + s->u.s.len - p->u.s.len, p->u.s.p, p->u.s.len);
}

static const char *find_bytes(const char *h, size_t hn, const char *n, size_t nn) {
    if (nn == 0) return h;
    return memmem(h, hn, n, nn);
}

/* ---- string methods ------------------------------------------------------------------------ */

METHOD(str_upper) { return case_map(rt, self, true, out); }
METHOD(str_lower) { return case_map(rt, self, false, out); }
METHOD(str_title) { return jmethod_title(rt, self, out); }
METHOD(str_capitalize) { return jmethod_capitalize(rt, self, out); }
METHOD(str_strip) { return *out = jmethod_trim(self), 0; } /* the reference ignores chars */

METHOD(str_lstrip) {
    size_t a = jtext_space_prefix(self->u.s.p, self->u.s.len);
    *out = jv_str(self->u.s.p + a, self->u.s.len - a);
    return 0;
}

METHOD(str_rstrip) {
    *out = jv_str(self->u.s.p, jtext_trim_end(self->u.s.p, self->u.s.len));
    return 0;
}

static int affix(const jv *self, const jv *args, size_t nargs, bool start, const char *name, jv *out) {
    if (nargs == 0) return fn_error("%s() requires at least one argument", name);
    const jv *p = &args[0];
    if (p->type == JV_STR) {
        *out = jv_bool(start ? starts_with(self, p) : ends_with(self, p));
        return 0;
    }
    if (p->type == JV_ARRAY) {
        for (uint32_t i = 0; i < p->u.a->len; i++) {
            const jv *e = &p->u.a->items[i];
            if (e->type != JV_STR) return fn_error("%s() tuple elements must be strings", name);
            if (start ? starts_with(self, e) : ends_with(self, e)) return *out = jv_bool(true), 0;
        }
        return *out = jv_bool(false), 0;
    }
    return fn_error("%s() argument must be a string or tuple of strings", name);
}

METHOD(str_startswith) { return affix(self, args, nargs, true, "startswith", out); }
METHOD(str_endswith) { return affix(self, args, nargs, false, "endswith", out); }

/* split/rsplit arguments: sep (string or none) and maxsplit (integer). */
static int split_args(const jv *args, size_t nargs, const jv_object *kw, const jv **sep, double *maxsplit) {
    *sep = arg(args, nargs, 0, kw, "sep");
    if (*sep && (*sep)->type != JV_STR && (*sep)->type != JV_NULL)
        return fn_error("sep argument must be a string or none");
    if (*sep && (*sep)->type == JV_NULL) *sep = NULL;
    const jv *m = arg(args, nargs, 1, kw, "maxsplit");
    if (m && m->type != JV_INT) return fn_error("maxsplit argument must be an integer");
    *maxsplit = m ? m->u.n : -1;
    if (*sep && (*sep)->u.s.len == 0) return fn_error("empty separator");
    return 0;
}

static int push_str(jrt *rt, jv_array *a, const char *p, size_t n) {
    return jv_spend(rt, 1) || jv_array_push(rt, a, jv_str(p, n));
}

METHOD(str_split) {
    const jv *sep;
    double maxsplit;
    if (split_args(args, nargs, kw, &sep, &maxsplit)) return -1;
    jv_array *a = jv_array_new(rt, 0);
    if (!a) return -1;
    const char *s = self->u.s.p;
    size_t n = self->u.s.len;
    if (!sep) {
        /* Runs of whitespace separate; with maxsplit the rest is appended to the last word. */
        size_t i = jtext_space_prefix(s, n);
        while (i < n) {
            size_t j = i;
            while (j < n) {
                size_t k = j;
                if (jtext_is_space(jtext_decode(s, n, &k))) break;
                j = k;
            }
            if (maxsplit != -1 && a->len >= maxsplit) {
                if (push_str(rt, a, s + i, n - i)) return -1;
                break;
            }
            if (push_str(rt, a, s + i, j - i)) return -1;
            i = j + jtext_space_prefix(s + j, n - j);
        }
    } else {
        /* JS split, then everything past maxsplit joined back. */
        size_t i = 0;
        while (true) {
            const char *hit = maxsplit != -1 && a->len >= maxsplit ? NULL
                                                                   : find_bytes(s + i, n - i, sep->u.s.p, sep->u.s.len);
            if (!hit) {
                if (push_str(rt, a, s + i, n - i)) return -1;
                break;
            }
            if (push_str(rt, a, s + i, (size_t)(hit - (s + i)))) return -1;
            i = (size_t)(hit - s) + sep->u.s.len;
        }
    }
    *out = jv_arr(a, false);
    return 0;
}

METHOD(str_rsplit) {
    const jv *sep;
    double maxsplit;
    if (split_args(args, nargs, kw, &sep, &maxsplit)) return -1;
    if (maxsplit < 0) return str_split(rt, self, args, nargs, kw, out);
    /* Collect pieces from the right, then reverse. */
    jv_array *a = jv_array_new(rt, 0);
    if (!a) return -1;
    const char *s = self->u.s.p;
    size_t end = sep ? self->u.s.len : jtext_trim_end(s, self->u.s.len);
    while (true) {
        if (a->len >= maxsplit) {
            if (!sep) {
                if (end > 0 && push_str(rt, a, s, end)) return -1;
            } else if (push_str(rt, a, s, end)) {
                return -1;
            }
            break;
        }
        size_t start;
        if (sep) {
            const char *hit = NULL;
            for (size_t k = end >= sep->u.s.len ? end - sep->u.s.len + 1 : 0; k-- > 0;)
                if (!memcmp(s + k, sep->u.s.p, sep->u.s.len)) {
                    hit = s + k;
                    break;
                }
            if (!hit) {
                if (push_str(rt, a, s, end)) return -1;
                break;
            }
            start = (size_t)(hit - s) + sep->u.s.len;
            if (push_str(rt, a, s + start, end - start)) return -1;
            end = (size_t)(hit - s);
        } else {
            if (end == 0) break;
            start = end;
            while (start > 0 && !jtext_space_suffix1(s, start)) start--;
            if (push_str(rt, a, s + start, end - start)) return -1;
            end = jtext_trim_end(s, start);
        }
    }
    for (uint32_t i = 0, j = a->len ? a->len - 1 : 0; i < j; i++, j--) {
        jv t = a->items[i];
        a->items[i] = a->items[j];
        a->items[j] = t;
    }
    *out = jv_arr(a, false);
    return 0;
}

/* The reference's replace(): count may be positional or a keyword; empty `old` inserts
 * between every code point. */
METHOD(str_replace) {
    if (nargs < 2) return fn_error("replace() requires at least two arguments");
    const jv *old = &args[0], *rep = &args[1];
    if (old->type != JV_STR || rep->type != JV_STR) return fn_error("replace() arguments must be strings");
    const jv *count = arg(args, nargs, 2, kw, "count");
    if (count && count->type != JV_INT && count->type != JV_NULL)
        return fn_error("replace() count argument must be a number or none");
    double remaining = count && count->type == JV_INT && count->u.n >= 0 ? count->u.n : INFINITY;
    if (count && count->type == JV_INT && count->u.n == 0) return *out = *self, 0;
    const char *s = self->u.s.p;
    size_t n = self->u.s.len;
    jbuf b;
    jbuf_init(&b, &rt->arena, rt->max_output);
    size_t i = 0;
    if (old->u.s.len == 0) {
        while (true) {
            if (remaining > 0) {
                if (jbuf_put(&b, rep->u.s.p, rep->u.s.len)) return -1;
                remaining--;
            }
            if (i >= n) break;
            size_t j = i;
            jtext_decode(s, n, &j);
            if (jbuf_put(&b, s + i, j - i)) return -1;
            i = j;
        }
    } else {
        while (i < n) {
            const char *hit = remaining > 0 ? find_bytes(s + i, n - i, old->u.s.p, old->u.s.len) : NULL;
            if (!hit) break;
            if (jbuf_put(&b, s + i, (size_t)(hit - (s + i))) || jbuf_put(&b, rep->u.s.p, rep->u.s.len)) return -1;
            remaining--;
            i = (size_t)(hit - s) + old->u.s.len;
        }
        if (jbuf_put(&b, s + i, n - i)) return -1;
    }
    return new_buf_str(rt, &b, out);
}

/* Python str.find/rfind/count over code points (slices start/end in code points). */
static int py_search(jrt *rt, SELF, const jv *args, size_t nargs, int mode, jv *out) {
    static const char *const names[] = {"find", "rfind", "count"};
    if (nargs < 1 || args[0].type != JV_STR) return fn_error("%s() needs a string argument", names[mode]);
    const jv *sub = &args[0];
    const char *s = self->u.s.p;
    size_t n = self->u.s.len;
    int64_t ncp = (int64_t)jtext_cp_len(s, n);
    int64_t lo = 0, hi = ncp;
    for (int k = 1; k <= 2 && (size_t)k < nargs; k++) {
        if (args[k].type == JV_NULL) continue;
        if (args[k].type != JV_INT) return fn_error("%s() positions must be integers", names[mode]);
        int64_t v = (int64_t)fmax(fmin(args[k].u.n, 1e15), -1e15);
        if (v < 0) v = v + ncp < 0 ? 0 : v + ncp;
        if (v > ncp) v = ncp;
        if (k == 1) lo = v;
        else hi = v;
    }
    /* byte offsets of lo and hi */
    size_t blo = 0, bhi = n, i = 0;
    for (int64_t c = 0; i <= n; c++) {
        if (c == lo) blo = i;
        if (c == hi) {
            bhi = i;
            break;
        }
        if (i == n) break;
        jtext_decode(s, n, &i);
    }
    if (hi < lo) bhi = blo;
    int64_t result = mode == 2 ? 0 : -1;
    size_t from = blo;
    while (from <= bhi) {
        const char *h = find_bytes(s + from, bhi - from, sub->u.s.p, sub->u.s.len);
        if (!h || (size_t)(h - s) + sub->u.s.len > bhi) break;
        size_t at = (size_t)(h - s);
        if (mode == 0) {
            result = (int64_t)jtext_cp_len(s, at);
            break;
        }
        if (mode == 1) result = (int64_t)jtext_cp_len(s, at);
        else result++;
        if (sub->u.s.len == 0) {
            if (at >= bhi) break;
            size_t j = at;
            jtext_decode(s, n, &j);
            from = j;
        } else {
            from = mode == 1 ? at + 1 : at + sub->u.s.len;
            if (mode == 1) { /* advance to the next code point for rfind */
                size_t j = at;
                jtext_decode(s, n, &j);
                from = j;
            }
        }
    }
    *out = jv_int((double)result);
    return 0;
}

METHOD(str_find) { return py_search(rt, self, args, nargs, 0, out); }
METHOD(str_rfind) { return py_search(rt, self, args, nargs, 1, out); }
METHOD(str_count) { return py_search(rt, self, args, nargs, 2, out); }

METHOD(str_splitlines) {
    const jv *keep = arg(args, nargs, 0, kw, "keepends");
    bool keepends = keep && jv_truthy(keep);
    jv_array *a = jv_array_new(rt, 0);
    if (!a) return -1;
    const char *s = self->u.s.p;
    size_t n = self->u.s.len, start = 0;
    for (size_t i = 0; i < n;) {
        size_t j = i;
        uint32_t cp = jtext_decode(s, n, &j);
        bool brk = cp == '\n' || cp == '\r' || cp == 0x0B || cp == 0x0C || cp == 0x1C || cp == 0x1D ||
                   cp == 0x1E || cp == 0x85 || cp == 0x2028 || cp == 0x2029;
        if (!brk) {
            i = j;
            continue;
        }
        if (cp == '\r' && j < n && s[j] == '\n') j++;
        if (push_str(rt, a, s + start, (keepends ? j : i) - start)) return -1;
        start = i = j;
    }
    if (start < n && push_str(rt, a, s + start, n - start)) return -1;
    *out = jv_arr(a, false);
    return 0;
}

METHOD(str_join) {
    if (nargs < 1 || args[0].type != JV_ARRAY) return fn_error("join() needs a list of strings");
    jbuf b;
    jbuf_init(&b, &rt->arena, rt->max_output);
    const jv_array *l = args[0].u.a;
    for (uint32_t i = 0; i < l->len; i++) {
        if (l->items[i].type != JV_STR) return fn_error("join(): item %u is a %s, not a string", i, jv_type_name(&l->items[i]));
        if ((i && jbuf_put(&b, self->u.s.p, self->u.s.len)) || jbuf_put(&b, l->items[i].u.s.p, l->items[i].u.s.len))
            return -1;
    }
    return new_buf_str(rt, &b, out);
}

static int char_class(jrt *rt, SELF, int cls, jv *out) {
    const char *s = self->u.s.p;
    size_t n = self->u.s.len;
    bool ok = n > 0, cased = false;
    for (size_t i = 0; i < n && ok;) {
        uint32_t c = jtext_decode(s, n, &i);
        bool alpha = c < 0x80 ? ((c | 32) >= 'a' && (c | 32) <= 'z')
                              : rt->casemap != (locale_t)0 && iswalpha_l((wint_t)c, rt->casemap);
        bool digit = c >= '0' && c <= '9';
        bool up = c < 0x80 ? c >= 'A' && c <= 'Z' : rt->casemap != (locale_t)0 && iswupper_l((wint_t)c, rt->casemap);
        bool low = c < 0x80 ? c >= 'a' && c <= 'z' : rt->casemap != (locale_t)0 && iswlower_l((wint_t)c, rt->casemap);
        switch (cls) {
        case 0: ok = digit; break;
        case 1: ok = alpha; break;
        case 2: ok = alpha || digit; break;
        case 3: ok = jtext_is_space(c); break;
        case 4: ok = !up; cased |= low; break;
        case 5: ok = !low; cased |= up; break;
        }
    }
    if (cls >= 4) ok = ok && cased;
    *out = jv_bool(ok);
    return 0;
}

METHOD(str_isdigit) { return char_class(rt, self, 0, out); }
METHOD(str_isalpha) { return char_class(rt, self, 1, out); }
METHOD(str_isalnum) { return char_class(rt, self, 2, out); }
METHOD(str_isspace) { return char_class(rt, self, 3, out); }
METHOD(str_islower) { return char_class(rt, self, 4, out); }
METHOD(str_isupper) { return char_class(rt, self, 5, out); }

METHOD(str_removeprefix) {
    if (nargs < 1 || args[0].type != JV_STR) return fn_error("removeprefix() needs a string");
    *out = starts_with(self, &args[0]) ? jv_str(self->u.s.p + args[0].u.s.len, self->u.s.len - args[0].u.s.len) : *self;
    return 0;
}

METHOD(str_removesuffix) {
    if (nargs < 1 || args[0].type != JV_STR) return fn_error("removesuffix() needs a string");
    *out = ends_with(self, &args[0]) ? jv_str(self->u.s.p, self->u.s.len - args[0].u.s.len) : *self;
    return 0;
}

/* str.format with {} / {0} / {name} fields ({{ and }} escape braces). */
METHOD(str_format) {
    const char *s = self->u.s.p;
    size_t n = self->u.s.len, auto_idx = 0;
    jbuf b;
    jbuf_init(&b, &rt->arena, rt->max_output);
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if ((c == '{' || c == '}') && i + 1 < n && s[i + 1] == c) {
            if (jbuf_put(&b, &c, 1)) return -1;
            i++;
            continue;
        }
        if (c != '{') {
            if (jbuf_put(&b, &c, 1)) return -1;
            continue;
        }
        const char *close = memchr(s + i, '}', n - i);
        if (!close) return fn_error("format(): unmatched '{'");
        const char *f = s + i + 1;
        size_t fl = (size_t)(close - f);
        const jv *v = NULL;
        if (fl == 0) {
            v = auto_idx < nargs ? &args[auto_idx] : NULL;
            auto_idx++;
        } else if (f[0] >= '0' && f[0] <= '9') {
            size_t idx = 0;
            for (size_t k = 0; k < fl && f[k] >= '0' && f[k] <= '9'; k++) idx = idx * 10 + (size_t)(f[k] - '0');
            v = idx < nargs ? &args[idx] : NULL;
        } else {
            v = kw ? jv_object_get(kw, f, fl) : NULL;
        }
        if (!v) return fn_error("format(): no value for field '{%.*s}'", (int)(fl > 40 ? 40 : fl), f);
        if (jv_write(rt, v, &b)) return -1;
        i = (size_t)(close - s);
    }
    return new_buf_str(rt, &b, out);
}

/* ---- list methods -------------------------------------------------------------------------- */

METHOD(list_append) {
    if (nargs != 1) return fn_error("append() takes exactly one argument");
    if (jv_array_push(rt, self->u.a, args[0])) return -1;
    return *out = jv_null(), 0;
}

METHOD(list_extend) {
    if (nargs != 1 || args[0].type != JV_ARRAY) return fn_error("extend() takes one list");
    const jv_array *src = args[0].u.a;
    uint32_t n = src->len; /* the list may extend itself */
    for (uint32_t i = 0; i < n; i++)
        if (jv_array_push(rt, self->u.a, src->items[i])) return -1;
    return *out = jv_null(), 0;
}

static int list_pos(const jv_array *a, const jv *idx, bool insert, int64_t *out) {
    if (idx->type != JV_INT) return fn_error("list index must be an integer, got %s", jv_type_name(idx));
    double v = idx->u.n;
    if (v < 0) v += a->len;
    if (insert) v = v < 0 ? 0 : v > a->len ? a->len : v;
    else if (v < 0 || v >= a->len) return fn_error("list index out of range");
    *out = (int64_t)v;
    return 0;
}

METHOD(list_pop) {
    jv_array *a = self->u.a;
    if (a->len == 0) return fn_error("pop from empty list");
    int64_t i = a->len - 1;
    if (nargs >= 1 && list_pos(a, &args[0], false, &i)) return -1;
    *out = a->items[i];
    memmove(a->items + i, a->items + i + 1, (a->len - (size_t)i - 1) * sizeof(jv));
    a->len--;
    return 0;
}

METHOD(list_insert) {
    if (nargs != 2) return fn_error("insert() takes an index and a value");
    jv_array *a = self->u.a;
    int64_t i = 0;
    if (list_pos(a, &args[0], true, &i) || jv_array_push(rt, a, jv_null())) return -1;
    memmove(a->items + i + 1, a->items + i, (a->len - (size_t)i - 1) * sizeof(jv));
    a->items[i] = args[1];
    return *out = jv_null(), 0;
}

static int64_t list_find(const jv_array *a, const jv *x) {
    for (uint32_t i = 0; i < a->len; i++)
        if (jv_strict_eq(&a->items[i], x)) return i;
    return -1;
}

METHOD(list_index) {
    if (nargs < 1) return fn_error("index() takes a value");
    int64_t i = list_find(self->u.a, &args[0]);
    if (i < 0) return fn_error("value is not in the list");
    return *out = jv_int((double)i), 0;
}

METHOD(list_count) {
    if (nargs < 1) return fn_error("count() takes a value");
    size_t c = 0;
    for (uint32_t i = 0; i < self->u.a->len; i++) c += jv_strict_eq(&self->u.a->items[i], &args[0]);
    return *out = jv_int((double)c), 0;
}

METHOD(list_remove) {
    if (nargs < 1) return fn_error("remove() takes a value");
    jv_array *a = self->u.a;
    int64_t i = list_find(a, &args[0]);
    if (i < 0) return fn_error("value is not in the list");
    memmove(a->items + i, a->items + i + 1, (a->len - (size_t)i - 1) * sizeof(jv));
    a->len--;
    return *out = jv_null(), 0;
}

METHOD(list_copy) {
    jv_array *a = jv_array_new(rt, self->u.a->len);
    if (!a) return -1;
    if (self->u.a->len) memcpy(a->items, self->u.a->items, self->u.a->len * sizeof(jv));
    a->len = self->u.a->len;
    return *out = jv_arr(a, false), 0;
}

/* ---- dict methods -------------------------------------------------------------------------- */

METHOD(dict_get) {
    if (nargs < 1 || args[0].type != JV_STR)
        return fn_error("dict key must be a string, got %s", nargs ? jv_type_name(&args[0]) : "nothing");
    const jv *v = jv_object_get(self->u.o, args[0].u.s.p, args[0].u.s.len);
    const jv *d = arg(args, nargs, 1, kw, "default");
    *out = v ? *v : d ? *d : jv_null();
    return 0;
}

static int pairs(jrt *rt, const jv_object *o, jv *out) {
    jv_array *a = jv_array_new(rt, o->len);
    if (!a) return -1;
    for (uint32_t i = 0; i < o->len; i++) {
        jv_array *p = jv_array_new(rt, 2);
        if (!p) return -1;
        p->items[0] = jv_str(o->keys[i].p, o->keys[i].len);
        p->items[1] = o->vals[i];
        p->len = 2;
        a->items[a->len++] = jv_arr(p, false);
    }
    *out = jv_arr(a, false);
    return 0;
}

METHOD(dict_items) { return pairs(rt, self->u.o, out); }

METHOD(dict_keys) {
    const jv_object *o = self->u.o;
    jv_array *a = jv_array_new(rt, o->len);
    if (!a) return -1;
    for (uint32_t i = 0; i < o->len; i++) a->items[a->len++] = jv_str(o->keys[i].p, o->keys[i].len);
    *out = jv_arr(a, false);
    return 0;
}

METHOD(dict_values) {
    const jv_object *o = self->u.o;
    jv_array *a = jv_array_new(rt, o->len);
    if (!a) return -1;
    if (o->len) memcpy(a->items, o->vals, o->len * sizeof(jv));
    a->len = o->len;
    *out = jv_arr(a, false);
    return 0;
}

typedef struct {
    int index;      /* 0: by key, 1: by value */
    bool case_sens; /* compare strings as written */
    bool reverse;   /* descending */
} dictsort_opts;

static int dictsort_cmp(jrt *rt, void *ctx, const jv *a, const jv *b, int *out) {
    const dictsort_opts *o = ctx;
    int c;
    if (jv_compare(rt, &a->u.a->items[o->index], &b->u.a->items[o->index], o->case_sens, &c)) return -1;
    *out = o->reverse ? -c : c;
    return 0;
}

METHOD(dict_dictsort) {
    const jv *cs = arg(args, nargs, 0, kw, "case_sensitive");
    const jv *by = arg(args, nargs, 1, kw, "by");
    const jv *rev = arg(args, nargs, 2, kw, "reverse");
    if (cs && cs->type != JV_BOOL) return fn_error("case_sensitive must be a boolean");
    if (by && (by->type != JV_STR || !((by->u.s.len == 3 && !memcmp(by->u.s.p, "key", 3)) ||
                                       (by->u.s.len == 5 && !memcmp(by->u.s.p, "value", 5)))))
        return fn_error("by must be either 'key' or 'value'");
    if (rev && rev->type != JV_BOOL) return fn_error("reverse must be a boolean");
    dictsort_opts o = {by && by->u.s.len == 5, cs && cs->u.b, rev && rev->u.b};
    if (pairs(rt, self->u.o, out)) return -1;
    return jv_sort(rt, out->u.a->items, out->u.a->len, dictsort_cmp, &o);
}

METHOD(dict_update) {
    jv_object *o = self->u.o;
    if (nargs >= 1) {
        if (!jv_is_map(&args[0])) return fn_error("update() takes a dict");
        const jv_object *src = args[0].u.o;
        uint32_t n = src->len;
        for (uint32_t i = 0; i < n; i++)
            if (jv_object_set(rt, o, src->keys[i].p, src->keys[i].len, src->vals[i])) return -1;
    }
    if (kw)
        for (uint32_t i = 0; i < kw->len; i++)
            if (jv_object_set(rt, o, kw->keys[i].p, kw->keys[i].len, kw->vals[i])) return -1;
    return *out = jv_null(), 0;
}

METHOD(dict_pop) {
    if (nargs < 1 || args[0].type != JV_STR) return fn_error("pop() takes a string key");
    jv *v = jv_object_get(self->u.o, args[0].u.s.p, args[0].u.s.len);
    if (!v) {
        if (nargs < 2) return fn_error("key '%.*s' not found", (int)(args[0].u.s.len > 40 ? 40 : args[0].u.s.len), args[0].u.s.p);
        return *out = args[1], 0;
    }
    *out = *v;
    jv_object_del(self->u.o, args[0].u.s.p, args[0].u.s.len);
    return 0;
}

METHOD(dict_setdefault) {
    if (nargs < 1 || args[0].type != JV_STR) return fn_error("setdefault() takes a string key");
    jv *v = jv_object_get(self->u.o, args[0].u.s.p, args[0].u.s.len);
    if (v) return *out = *v, 0;
    *out = nargs >= 2 ? args[1] : jv_null();
    return jv_object_set(rt, self->u.o, args[0].u.s.p, args[0].u.s.len, *out);
}

METHOD(dict_copy) {
    jv_object *o = jv_object_new(rt);
    if (!o) return -1;
    for (uint32_t i = 0; i < self->u.o->len; i++)
        if (jv_object_set(rt, o, self->u.o->keys[i].p, self->u.o->keys[i].len, self->u.o->vals[i])) return -1;
    return *out = jv_obj(o), 0;
}

METHOD(loop_cycle) {
    if (nargs == 0) return fn_error("loop.cycle() needs at least one value");
    *out = args[self->u.o->loop_index0 % (int64_t)nargs];
    return 0;
}

/* ---- lookup -------------------------------------------------------------------------------- */

typedef struct {
    const char *name;
    jv_native_fn fn;
} method;

static const method STR_METHODS[] = {
    {"upper", str_upper},           {"lower", str_lower},           {"strip", str_strip},
    {"title", str_title},           {"capitalize", str_capitalize}, {"rstrip", str_rstrip},
    {"lstrip", str_lstrip},         {"startswith", str_startswith}, {"endswith", str_endswith},
    {"split", str_split},           {"replace", str_replace},       {"rsplit", str_rsplit},
    {"find", str_find},             {"rfind", str_rfind},           {"count", str_count},
    {"splitlines", str_splitlines}, {"join", str_join},             {"isdigit", str_isdigit},
    {"isalpha", str_isalpha},       {"isalnum", str_isalnum},       {"isspace", str_isspace},
    {"islower", str_islower},       {"isupper", str_isupper},       {"removeprefix", str_removeprefix},
    {"removesuffix", str_removesuffix}, {"format", str_format},
};

static const method LIST_METHODS[] = {
    {"append", list_append}, {"extend", list_extend}, {"pop", list_pop},     {"insert", list_insert},
    {"index", list_index},   {"count", list_count},   {"remove", list_remove}, {"copy", list_copy},
};

static const method DICT_METHODS[] = {
    {"get", dict_get},       {"items", dict_items}, {"keys", dict_keys},           {"values", dict_values},
    {"dictsort", dict_dictsort}, {"update", dict_update}, {"pop", dict_pop}, {"setdefault", dict_setdefault},
    {"copy", dict_copy},
};

static jv_native_fn find_method(const method *tab, size_t n, const char *name, size_t len) {
    for (size_t i = 0; i < n; i++)
        if (strlen(tab[i].name) == len && !memcmp(tab[i].name, name, len)) return tab[i].fn;
    return NULL;
}

static bool is_length(const char *name, size_t len) { return len == 6 && !memcmp(name, "length", 6); }

int jmethod_lookup(jrt *rt, const jv *obj, const char *name, size_t len, jv *out) {
    *out = jv_undef();
    jv_native_fn fn = NULL;
    switch (obj->type) {
    case JV_STR:
        if (is_length(name, len)) return *out = jv_int((double)jtext_utf16_len(obj->u.s.p, obj->u.s.len)), 0;
        fn = find_method(STR_METHODS, FN_ARRAY_LEN(STR_METHODS), name, len);
        break;
    case JV_ARRAY:
        if (is_length(name, len)) return *out = jv_int(obj->u.a->len), 0;
        fn = find_method(LIST_METHODS, FN_ARRAY_LEN(LIST_METHODS), name, len);
        break;
    case JV_OBJECT:
        fn = find_method(DICT_METHODS, FN_ARRAY_LEN(DICT_METHODS), name, len);
        if (!fn && obj->u.o->loop_index0 >= 0 && len == 5 && !memcmp(name, "cycle", 5)) fn = loop_cycle;
        break;
    default: return 0;
    }
    if (!fn) return 0;
    return jv_native(rt, "method", fn, obj, out);
}

int jmethod_call(jrt *rt, const jv *obj, const char *name, const jv *args, size_t nargs, const jv_object *kw,
                 jv *out) {
    jv m;
    if (jmethod_lookup(rt, obj, name, strlen(name), &m)) return -1;
    if (m.type != JV_FUNC) return fn_error("a %s has no method '%s'", jv_type_name(obj), name);
    return m.u.f->native(rt, &m.u.f->self, args, nargs, kw, out);
}
