/* jinja_value.h - runtime values of the chat-template interpreter and the per-render state
 * they live in. Values copy the model of @huggingface/jinja (the reference we must match
 * byte for byte): numbers are doubles tagged integer or float, lists and dicts are shared by
 * reference, dicts keep insertion order, and printing, JSON and equality follow JavaScript.
 * Every value of a render lives in that render's arena and dies with it. */
#ifndef FENNEC_CHAT_JINJA_VALUE_H
#define FENNEC_CHAT_JINJA_VALUE_H

#include <jansson.h>
#include <locale.h>
#include <math.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "chat/jinja_arena.h"

typedef enum {
    JV_UNDEFINED, /* a missing variable, attribute or item */
    JV_NULL,      /* none */
    JV_BOOL,
    JV_INT,       /* integral double (JavaScript has no separate integer type) */
    JV_FLOAT,
    JV_STR,       /* UTF-8 bytes */
    JV_ARRAY,     /* list, or tuple when flags has JV_TUPLE */
    JV_OBJECT,    /* dict (also the kwargs a macro sees and the `loop` variable) */
    JV_NAMESPACE, /* namespace(): attributes assignable with {% set ns.x = ... %} */
    JV_FUNC,      /* macro, caller, builtin function or bound method */
} jv_type;

#define JV_TUPLE 1u /* flags bit on JV_ARRAY */

typedef struct jv_array jv_array;
typedef struct jv_object jv_object;
typedef struct jv_func jv_func;

/* A value, passed by copy. Strings point at bytes that outlive the render (its arena or the
 * parsed template); arrays, objects and functions are references. */
typedef struct {
    uint8_t type;  /* jv_type */
    uint8_t flags; /* JV_TUPLE */
    union {
        bool b;                                /* JV_BOOL */
        double n;                              /* JV_INT, JV_FLOAT */
        struct { const char *p; size_t len; } s; /* JV_STR */
        jv_array *a;                           /* JV_ARRAY */
        jv_object *o;                          /* JV_OBJECT, JV_NAMESPACE */
        jv_func *f;                            /* JV_FUNC */
    } u;
} jv;

struct jv_array {
    jv *items;    /* len values (arena) */
    uint32_t len; /* number of items */
    uint32_t cap; /* allocated items */
};

/* A key of a dict: borrowed bytes plus their hash. */
typedef struct {
    const char *p; /* UTF-8 bytes (arena or template) */
    uint32_t len;  /* byte length */
    uint32_t hash; /* jv_hash(p, len) */
} jv_key;

struct jv_object {
    jv_key *keys;        /* len keys in insertion order */
    jv *vals;            /* len values */
    uint32_t len;        /* number of entries */
    uint32_t cap;        /* allocated entries */
    uint32_t *index;     /* open-addressing table of entry index + 1, or NULL while small */
    uint32_t index_cap;  /* slots in index (power of two) */
    int64_t loop_index0; /* the iteration for a `loop` object (loop.cycle), else -1 */
};

/* Per-render state shared by the evaluator, filters and builtins. */
typedef struct jrt {
    jarena arena;      /* holds every value of the render */
    locale_t casemap;  /* C.UTF-8 for upper/lower of non-ASCII, or (locale_t)0 (borrowed) */
    size_t max_output; /* limit of any one string built (bytes) */
    uint64_t steps;    /* remaining budget of loop iterations, calls and generated items */
    bool raised;       /* the current error comes from the template's raise_exception() */
} jrt;

/* Native functions: builtins (range, namespace, ...) and methods bound to `self`.
 * kwargs is NULL when the call had no keyword arguments. Return 0 or -1 with fn_error. */
typedef int (*jv_native_fn)(jrt *rt, const jv *self, const jv *args, size_t nargs,
                            const jv_object *kwargs, jv *out);

typedef enum { JF_NATIVE, JF_MACRO, JF_CALLER } jv_func_kind;

struct jv_func {
    uint8_t kind;        /* jv_func_kind */
    const char *name;    /* for messages */
    jv_native_fn native; /* JF_NATIVE */
    jv self;             /* JF_NATIVE: bound receiver (undefined for plain functions) */
    const void *node;    /* JF_MACRO / JF_CALLER: the macro or call-block node */
    void *env;           /* JF_CALLER: environment of the call block */
    uint8_t special;     /* JF_MACRO / JF_CALLER: reads kwargs (1) and/or varargs (2) */
};

/* ---- constructors --------------------------------------------------------------------- */

static inline jv jv_undef(void) { jv v = {.type = JV_UNDEFINED}; return v; }
static inline jv jv_null(void) { jv v = {.type = JV_NULL}; return v; }
static inline jv jv_bool(bool b) { jv v = {.type = JV_BOOL, .u.b = b}; return v; }
static inline jv jv_int(double n) { jv v = {.type = JV_INT, .u.n = n}; return v; }
static inline jv jv_float(double n) { jv v = {.type = JV_FLOAT, .u.n = n}; return v; }
/* A number from an input (JSON): integral finite values are integers, as in JavaScript. */
static inline jv jv_number(double n) {
    jv v = {.type = isfinite(n) && floor(n) == n ? JV_INT : JV_FLOAT, .u.n = n};
    return v;
}
/* A string over bytes that outlive the render (not copied). */
static inline jv jv_str(const char *p, size_t len) {
    jv v = {.type = JV_STR};
    v.u.s.p = p;
    v.u.s.len = len;
    return v;
}
static inline jv jv_arr(jv_array *a, bool tuple) {
    jv v = {.type = JV_ARRAY, .flags = tuple ? JV_TUPLE : 0, .u.a = a};
    return v;
}
static inline jv jv_obj(jv_object *o) { jv v = {.type = JV_OBJECT, .u.o = o}; return v; }
static inline jv jv_ns(jv_object *o) { jv v = {.type = JV_NAMESPACE, .u.o = o}; return v; }
static inline jv jv_fn(jv_func *f) { jv v = {.type = JV_FUNC, .u.f = f}; return v; }

static inline bool jv_is_num(const jv *v) { return v->type == JV_INT || v->type == JV_FLOAT; }
static inline bool jv_is_map(const jv *v) {
    return v->type == JV_OBJECT || v->type == JV_NAMESPACE;
}

/* Copies bytes into the arena and returns a string value over them. -1 on failure. */
int jv_str_copy(jrt *rt, const char *p, size_t len, jv *out);

/* A string value holding a buffer's contents (the bytes stay in the arena). */
jv jv_str_buf(const jbuf *b);

/* Arrays: NULL / -1 with fn_error on failure (memory limit). */
jv_array *jv_array_new(jrt *rt, size_t cap);
int jv_array_push(jrt *rt, jv_array *a, jv v);

/* Objects. Keys are borrowed (must outlive the render). Setting an existing key replaces
 * its value in place, keeping its position. */
uint32_t jv_hash(const char *p, size_t len);
jv_object *jv_object_new(jrt *rt);
int jv_object_set(jrt *rt, jv_object *o, const char *k, size_t klen, jv v);
jv *jv_object_get(const jv_object *o, const char *k, size_t klen); /* NULL if absent */
/* Removes a key (keeps the order of the rest). Returns true if it was there. */
bool jv_object_del(jv_object *o, const char *k, size_t klen);

/* A native function value; name must be a static string. */
int jv_native(jrt *rt, const char *name, jv_native_fn fn, const jv *self, jv *out);

/* Counts n steps against the render's budget; -1 with a message once it is spent. */
int jv_spend(jrt *rt, uint64_t n);

/* ---- semantics ------------------------------------------------------------------------ */

/* Python truthiness as the reference implements it: empty lists and dicts are false;
 * undefined, none, 0, "" and false are false; namespaces and functions are true. */
bool jv_truthy(const jv *v);

/* JavaScript truthiness of the underlying value (lists and dicts are always true). */
bool jv_js_truthy(const jv *v);

/* Short type name for messages ("string", "list", "undefined", ...). */
const char *jv_type_name(const jv *v);

/* JavaScript `===` on the underlying values: numbers by value, strings by content,
 * lists, dicts and functions by identity; none === none, undefined === undefined. */
bool jv_strict_eq(const jv *a, const jv *b);

/* JavaScript `==` (what the reference's `==` does): adds string/number/boolean coercion
 * and none == undefined. -1 with fn_error if a list cannot be printed for the coercion. */
int jv_loose_eq(jrt *rt, const jv *a, const jv *b, bool *out);

/* The reference's value comparison for sort/dictsort: numbers (and booleans) compare
 * numerically, strings by UTF-16 order (lower-cased unless case_sensitive), none with none
 * and undefined with undefined are equal; anything else is an error. */
int jv_compare(jrt *rt, const jv *a, const jv *b, bool case_sensitive, int *out);

/* Stable merge sort of n values with a comparator that can fail (-1 with fn_error). */
typedef int (*jv_cmp_fn)(jrt *rt, void *ctx, const jv *a, const jv *b, int *out);
int jv_sort(jrt *rt, jv *items, size_t n, jv_cmp_fn cmp, void *ctx);

/* ---- printing ------------------------------------------------------------------------- */

/* What `{{ v }}` prints for a value that is not none/undefined (RuntimeValue.toString):
 * booleans as true/false, floats with ".0", lists and dicts as JSON. */
int jv_write(jrt *rt, const jv *v, jbuf *out);

/* String(v.value) in JavaScript: what `~`, `+` and join use. Floats lose ".0", lists
 * print as comma-joined items, dicts as "[object Map]", none as "null". */
int jv_write_raw(jrt *rt, const jv *v, jbuf *out);

/* Options of tojson. */
typedef struct {
    int64_t indent;         /* spaces per level; <= 0 means single line */
    bool ensure_ascii;      /* escape code units >= 0x7F as \uXXXX */
    bool sort_keys;         /* order dict keys */
    const char *item_sep;   /* NULL: ", " (or "," when indenting) */
    size_t item_sep_len;
    const char *key_sep;    /* NULL: ": " */
    size_t key_sep_len;
    bool undefined_as_null; /* tojson: true; printing a list: false ("undefined") */
} jv_json_opts;

/* JSON text of v as the reference writes it. Functions and tuples cannot be written. */
int jv_write_json(jrt *rt, const jv *v, const jv_json_opts *opts, jbuf *out);

/* Appends a JSON string literal (JSON.stringify of a string). */
int jv_write_json_string(jbuf *out, const char *s, size_t len, bool ensure_ascii);

/* ---- input ---------------------------------------------------------------------------- */

/* Converts a JSON value the way JSON.parse + the reference's conversion do: integral numbers
 * become integers, object keys that are array indices come first in numeric order (as
 * Object.entries lists them), other keys keep their order. */
int jv_from_json(jrt *rt, const json_t *j, jv *out);

#endif
