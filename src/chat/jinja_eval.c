/* jinja_eval.c - tree-walking evaluator for chat templates (see jinja_eval.h). Results:
 * 0 ok, -1 error (fn_error set, then given its line:column once), or BREAK/CONTINUE
 * travelling up to the nearest loop, as the reference's exceptions do. */
#include "chat/jinja_eval.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "base/error.h"
#include "chat/jinja_builtins.h"
#include "chat/jinja_filters.h"
#include "chat/jinja_methods.h"
#include "chat/jinja_ops.h"

#define BREAK 1
#define CONTINUE 2
/* Nesting of evaluation (expressions, statements and calls together): deep enough for any
 * real template's recursive macros, shallow enough for a worker thread's stack. */
#define MAX_DEPTH 1000

#define SPECIAL_KWARGS 1
#define SPECIAL_VARARGS 2

typedef struct jvar {
    const char *name; /* bytes of the name (template or static) */
    uint32_t len;     /* its length */
    uint32_t hash;    /* jv_hash(name) */
    jv v;             /* its value */
} jvar;

typedef struct jenv jenv;
struct jenv {
    jenv *parent; /* enclosing scope, NULL for the globals */
    jvar *vars;   /* n variables (arena) */
    uint32_t n, cap;
};

typedef struct {
    jrt *rt;          /* values and limits */
    const char *src;  /* original template source, for line:column */
    size_t srclen;
    int depth;        /* current evaluation nesting */
    bool located;     /* the pending error already names its position */
} jctx;

static int eval(jctx *c, const jnode *n, jenv *env, jv *out);
static int exec_block(jctx *c, const jnode_list *body, jenv *env, jbuf *out);

/* ---- errors --------------------------------------------------------------------------------- */

__attribute__((format(printf, 3, 4))) static int fail(jctx *c, const jnode *n, const char *fmt, ...) {
    char msg[700];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    c->located = true;
    if (!n) return fn_error("%s", msg);
    unsigned line, col;
    jlex_line_col(c->src, c->srclen, n->pos, &line, &col);
    return fn_error("line %u, column %u: %s", line, col, msg);
}

/* Gives a message recorded by a builtin the position of the node that called it. */
static int locate(jctx *c, const jnode *n) {
    if (c->located) return -1;
    c->located = true;
    if (!n) return -1;
    unsigned line, col;
    jlex_line_col(c->src, c->srclen, n->pos, &line, &col);
    if (c->rt->raised) {
        char msg[1024];
        snprintf(msg, sizeof msg, "%s", fn_errmsg());
        return fn_error("%s (raise_exception at line %u, column %u)", msg, line, col);
    }
    return fn_error_prefix("line %u, column %u", line, col);
}

/* ---- scopes --------------------------------------------------------------------------------- */

static jenv *env_new(jctx *c, jenv *parent) {
    jenv *e = jarena_zalloc(&c->rt->arena, sizeof *e);
    if (e) e->parent = parent;
    return e;
}

static jvar *env_find(jenv *e, const char *name, size_t len, uint32_t hash) {
    for (uint32_t i = 0; i < e->n; i++)
        if (e->vars[i].hash == hash && e->vars[i].len == len && !memcmp(e->vars[i].name, name, len))
            return &e->vars[i];
    return NULL;
}

/* Sets a variable in this scope (never an outer one, as Jinja's `set`). */
static int env_set(jctx *c, jenv *e, const char *name, size_t len, jv v) {
    uint32_t hash = jv_hash(name, len);
    jvar *var = env_find(e, name, len, hash);
    if (var) {
        var->v = v;
        return 0;
    }
    if (e->n == e->cap) {
        uint32_t cap = e->cap ? e->cap * 2 : 4;
        jvar *vars = jarena_grow(&c->rt->arena, e->vars, e->n * sizeof *vars, cap * sizeof *vars);
        if (!vars) return -1;
        e->vars = vars;
        e->cap = cap;
    }
    e->vars[e->n++] = (jvar){name, (uint32_t)len, hash, v};
    return 0;
}

static jv env_get(jenv *e, const char *name, size_t len, uint32_t hash) {
    for (; e; e = e->parent) {
        jvar *v = env_find(e, name, len, hash);
        if (v) return v->v;
    }
    return jv_undef();
}

/* ---- macro argument analysis ------------------------------------------------------------------ */

/* Which of `kwargs` / `varargs` a macro body reads before declaring them (the reference binds
 * them only then, and otherwise rejects extra arguments). Follows Jinja's visiting order. */
typedef struct {
    uint8_t declared, accessed;
    int depth; /* left-deep chains (a|f|f|f...) are not bounded by the parser */
} special_scan;

static uint8_t special_bit(const jnode *n) {
    if (n->slen == 6 && !memcmp(n->s, "kwargs", 6)) return SPECIAL_KWARGS;
    if (n->slen == 7 && !memcmp(n->s, "varargs", 7)) return SPECIAL_VARARGS;
    return 0;
}

static void scan_node(special_scan *s, const jnode *n);

static void scan_list(special_scan *s, const jnode_list *l) {
    for (uint32_t i = 0; i < l->n; i++) scan_node(s, l->v[i]);
}

static void declare_target(special_scan *s, const jnode *t) {
    if (!t) return;
    if (t->kind == JN_NAME) s->declared |= special_bit(t);
    else if (t->kind == JN_TUPLE)
        for (uint32_t i = 0; i < t->list.n; i++) declare_target(s, t->list.v[i]);
}

static void declare_params(special_scan *s, const jnode_list *params) {
    for (uint32_t i = 0; i < params->n; i++) s->declared |= special_bit(params->v[i]);
}

static void scan_defaults(special_scan *s, const jnode_list *params) {
    for (uint32_t i = 0; i < params->n; i++)
        if (params->v[i]->kind == JN_KWARG) scan_node(s, params->v[i]->a);
}

static void scan_node_at(special_scan *s, const jnode *n);

/* Beyond MAX_DEPTH the body cannot be evaluated anyway (eval fails first). */
static void scan_node(special_scan *s, const jnode *n) {
    if (!n || s->depth > MAX_DEPTH) return;
    s->depth++;
    scan_node_at(s, n);
    s->depth--;
}

static void scan_node_at(special_scan *s, const jnode *n) {
    switch (n->kind) {
    case JN_FOR:
        declare_target(s, n->a);
        scan_node(s, n->b);
        scan_list(s, &n->body);
        scan_list(s, &n->orelse);
        scan_node(s, n->c);
        return;
    case JN_SET:
        declare_target(s, n->a);
        scan_node(s, n->b);
        scan_list(s, &n->body);
        return;
    case JN_MACRO:
        declare_params(s, &n->list);
        scan_defaults(s, &n->list);
        scan_list(s, &n->body);
        return;
    case JN_CALL_BLOCK:
        scan_node(s, n->a);
        declare_params(s, &n->list);
        scan_defaults(s, &n->list);
        scan_list(s, &n->body);
        return;
    case JN_FILTER_BLOCK:
        scan_list(s, &n->body);
        scan_list(s, &n->a->list);
        return;
    case JN_NAME: {
        uint8_t bit = special_bit(n);
        if (bit && !(s->declared & bit)) s->accessed |= bit;
        return;
    }
    case JN_MEMBER:
        scan_node(s, n->a);
        if (n->op) scan_node(s, n->b);
        return;
    case JN_TEST: scan_node(s, n->a); return;
    case JN_SELECT:
        scan_node(s, n->b);
        scan_node(s, n->a);
        return;
    default:
        scan_node(s, n->a);
        scan_node(s, n->b);
        scan_node(s, n->c);
        scan_list(s, &n->list);
        scan_list(s, &n->body);
        scan_list(s, &n->orelse);
        return;
    }
}

static uint8_t special_args(const jnode_list *params, const jnode_list *body) {
    special_scan s = {0, 0, 0};
    declare_params(&s, params);
    scan_list(&s, body);
    return s.accessed;
}

/* ---- calls ------------------------------------------------------------------------------------ */

typedef struct {
    jv *v;          /* positional values */
    size_t n;
    jv_object *kw;  /* keyword values, NULL if none */
} call_args;

/* Positional arguments (with *spread) first, then keyword ones (with **spread), as Python. */
static int eval_args(jctx *c, const jnode_list *list, jenv *env, call_args *a) {
    a->v = NULL;
    a->n = 0;
    a->kw = NULL;
    jv_array *pos = jv_array_new(c->rt, list->n);
    if (!pos) return locate(c, list->n ? list->v[0] : NULL);
    for (uint32_t i = 0; i < list->n; i++) {
        const jnode *e = list->v[i];
        if (e->kind == JN_KWARG || e->kind == JN_KWSPREAD) continue;
        jv v;
        int rc = eval(c, e->kind == JN_SPREAD ? e->a : e, env, &v);
        if (rc) return rc;
        if (e->kind != JN_SPREAD) {
            if (jv_array_push(c->rt, pos, v)) return locate(c, e);
            continue;
        }
        if (v.type != JV_ARRAY) return fail(c, e, "cannot unpack a %s with '*'", jv_type_name(&v));
        uint32_t n = v.u.a->len;
        for (uint32_t k = 0; k < n; k++)
            if (jv_array_push(c->rt, pos, v.u.a->items[k])) return locate(c, e);
    }
    for (uint32_t i = 0; i < list->n; i++) {
        const jnode *e = list->v[i];
        if (e->kind != JN_KWARG && e->kind != JN_KWSPREAD) continue;
        jv v;
        int rc = eval(c, e->a, env, &v);
        if (rc) return rc;
        if (!a->kw && !(a->kw = jv_object_new(c->rt))) return locate(c, e);
        if (e->kind == JN_KWARG) {
            if (jv_object_get(a->kw, e->s, e->slen))
                return fail(c, e, "got multiple values for keyword argument '%.*s'", (int)e->slen, e->s);
            if (jv_object_set(c->rt, a->kw, e->s, e->slen, v)) return locate(c, e);
            continue;
        }
        if (v.type != JV_OBJECT) return fail(c, e, "argument after '**' must be a dict, not a %s", jv_type_name(&v));
        for (uint32_t k = 0; k < v.u.o->len; k++) {
            const jv_key *key = &v.u.o->keys[k];
            if (jv_object_get(a->kw, key->p, key->len))
                return fail(c, e, "got multiple values for keyword argument '%.*s'", (int)key->len, key->p);
            if (jv_object_set(c->rt, a->kw, key->p, key->len, v.u.o->vals[k])) return locate(c, e);
        }
    }
    a->v = pos->items;
    a->n = pos->len;
    return 0;
}

static const char *param_name(const jnode *p, uint32_t *len) {
    *len = p->slen;
    return p->s;
}

/* Binds a macro's (or call block's) parameters in scope: positional, then keyword, then
 * defaults evaluated in the new scope; kwargs/varargs only when the body reads them. */
static int bind_params(jctx *c, const jnode *site, const char *label, const jnode_list *params, uint8_t special,
                       const call_args *a, jenv *scope) {
    jv_object *kw = NULL;
    if (a->kw && a->kw->len) {
        if (!(kw = jv_object_new(c->rt))) return locate(c, site);
        for (uint32_t i = 0; i < a->kw->len; i++)
            if (jv_object_set(c->rt, kw, a->kw->keys[i].p, a->kw->keys[i].len, a->kw->vals[i])) return locate(c, site);
    }
    for (uint32_t i = 0; i < params->n; i++) {
        const jnode *p = params->v[i];
        uint32_t len;
        const char *name = param_name(p, &len);
        const jv *given = i < a->n ? &a->v[i] : NULL;
        jv from_kw;
        if (!given && kw) {
            jv *k = jv_object_get(kw, name, len);
            if (k) {
                from_kw = *k;
                given = &from_kw;
                jv_object_del(kw, name, len);
            }
        }
        if (env_set(c, scope, name, len, given ? *given : jv_undef())) return locate(c, site);
    }
    if (special & SPECIAL_KWARGS) {
        if (!kw && !(kw = jv_object_new(c->rt))) return locate(c, site);
        if (env_set(c, scope, "kwargs", 6, jv_obj(kw))) return locate(c, site);
    } else if (kw && kw->len) {
        return fail(c, site, "macro %s takes no keyword argument '%.*s'", label, (int)kw->keys[0].len, kw->keys[0].p);
    }
    if (special & SPECIAL_VARARGS) {
        jv_array *rest = jv_array_new(c->rt, 0);
        if (!rest) return locate(c, site);
        for (size_t i = params->n; i < a->n; i++)
            if (jv_array_push(c->rt, rest, a->v[i])) return locate(c, site);
        if (env_set(c, scope, "varargs", 7, jv_arr(rest, false))) return locate(c, site);
    } else if (a->n > params->n) {
        return fail(c, site, "macro %s takes not more than %u argument(s)", label, params->n);
    }
    for (uint32_t i = 0; i < params->n; i++) {
        const jnode *p = params->v[i];
        if (p->kind != JN_KWARG) continue;
        bool given = i < a->n;
        if (!given && a->kw && jv_object_get(a->kw, p->s, p->slen)) given = true;
        if (given) continue;
        jv v;
        int rc = eval(c, p->a, scope, &v);
        if (rc) return rc;
        if (env_set(c, scope, p->s, p->slen, v)) return locate(c, site);
    }
    return 0;
}

/* Calls a function value. env is the caller's scope: macros see it (dynamic scoping, as the
 * reference does), caller() blocks see their own call site's. */
static int call_value(jctx *c, const jnode *site, const jv *fn, const call_args *a, jenv *env, jv *out) {
    if (fn->type != JV_FUNC) return fail(c, site, "cannot call a %s", jv_type_name(fn));
    if (jv_spend(c->rt, 1)) return locate(c, site);
    const jv_func *f = fn->u.f;
    if (f->kind == JF_NATIVE) {
        if (f->native(c->rt, &f->self, a->v, a->n, a->kw, out)) return locate(c, site);
        return 0;
    }
    const jnode *def = f->node;
    jenv *scope = env_new(c, f->kind == JF_CALLER ? (jenv *)f->env : env);
    if (!scope) return locate(c, site);
    char label[64];
    if (f->kind == JF_MACRO) snprintf(label, sizeof label, "'%.*s'", (int)(def->slen > 40 ? 40 : def->slen), def->s);
    else snprintf(label, sizeof label, "caller");
    int rc = bind_params(c, site, label, &def->list, f->special, a, scope);
    if (rc) return rc;
    jbuf b;
    jbuf_init(&b, &c->rt->arena, c->rt->max_output);
    if ((rc = exec_block(c, &def->body, scope, &b))) return rc;
    *out = jv_str_buf(&b);
    return 0;
}

static int eval_call(jctx *c, const jnode *n, jenv *env, jv *out) {
    call_args a;
    int rc = eval_args(c, &n->list, env, &a);
    if (rc) return rc;
    jv fn;
    if ((rc = eval(c, n->a, env, &fn))) return rc;
    return call_value(c, n, &fn, &a, env, out);
}

/* ---- expressions ------------------------------------------------------------------------------ */

static int eval_member(jctx *c, const jnode *n, jenv *env, jv *out) {
    jv obj, prop;
    int rc = eval(c, n->a, env, &obj);
    if (rc) return rc;
    const jnode *p = n->b;
    if (n->op && p->kind == JN_SLICE) {
        jv b[3];
        const jnode *parts[3] = {p->a, p->b, p->c};
        for (int k = 0; k < 3; k++) {
            b[k] = jv_undef();
            if (parts[k] && (rc = eval(c, parts[k], env, &b[k]))) return rc;
        }
        if (jops_slice(c->rt, &obj, &b[0], &b[1], &b[2], out)) return locate(c, n);
        return 0;
    }
    if (n->op) {
        if ((rc = eval(c, p, env, &prop))) return rc;
    } else {
        prop = p->kind == JN_INT ? jv_int(p->num) : jv_str(p->s, p->slen);
    }
    if (jops_member(c->rt, &obj, &prop, out)) return locate(c, n);
    return 0;
}

static int eval_filter(jctx *c, const jnode *n, const jv *x, jenv *env, jv *out) {
    if (n->op == 2)
        return fail(c, n, "invalid filter '%.*s(...)': a filter call cannot be followed by '.', '[' or '('",
                    (int)(n->slen > 40 ? 40 : n->slen), n->s);
    call_args a;
    int rc = eval_args(c, &n->list, env, &a);
    if (rc) return rc;
    bool literal = true;
    for (uint32_t i = 0; i < n->list.n; i++) literal &= n->list.v[i]->kind == JN_STR;
    if (jfilter_apply(c->rt, n->s, n->slen, n->op, x, a.v, a.n, a.kw, literal, out)) return locate(c, n);
    return 0;
}

static int eval_inner(jctx *c, const jnode *n, jenv *env, jv *out) {
    int rc;
    switch (n->kind) {
    case JN_INT: *out = jv_int(n->num); return 0;
    case JN_FLOAT: *out = jv_float(n->num); return 0;
    case JN_STR:
    case JN_TEXT: *out = jv_str(n->s, n->slen); return 0;
    case JN_NAME: *out = env_get(env, n->s, n->slen, n->hash); return 0;
    case JN_LIST:
    case JN_TUPLE: {
        jv_array *a = jv_array_new(c->rt, n->list.n);
        if (!a) return locate(c, n);
        for (uint32_t i = 0; i < n->list.n; i++) {
            if ((rc = eval(c, n->list.v[i], env, &a->items[i]))) return rc;
            a->len++;
        }
        *out = jv_arr(a, n->kind == JN_TUPLE);
        return 0;
    }
    case JN_DICT: {
        jv_object *o = jv_object_new(c->rt);
        if (!o) return locate(c, n);
        for (uint32_t i = 0; i + 1 < n->list.n; i += 2) {
            jv k, v;
            if ((rc = eval(c, n->list.v[i], env, &k))) return rc;
            if (k.type != JV_STR) return fail(c, n->list.v[i], "dict keys must be strings, got %s", jv_type_name(&k));
            if ((rc = eval(c, n->list.v[i + 1], env, &v))) return rc;
            if (jv_object_set(c->rt, o, k.u.s.p, k.u.s.len, v)) return locate(c, n);
        }
        *out = jv_obj(o);
        return 0;
    }
    case JN_MEMBER: return eval_member(c, n, env, out);
    case JN_CALL: return eval_call(c, n, env, out);
    case JN_UNARY: {
        jv x;
        if ((rc = eval(c, n->a, env, &x))) return rc;
        if (n->op == JOP_NOT) return *out = jv_bool(!jv_truthy(&x)), 0;
        if (jops_unary(n->op, &x, out)) return locate(c, n);
        return 0;
    }
    case JN_BINARY: {
        jv l, r;
        if ((rc = eval(c, n->a, env, &l))) return rc;
        if (n->op == JOP_AND) return jv_truthy(&l) ? eval(c, n->b, env, out) : (*out = l, 0);
        if (n->op == JOP_OR) return jv_truthy(&l) ? (*out = l, 0) : eval(c, n->b, env, out);
        if ((rc = eval(c, n->b, env, &r))) return rc;
        if (jops_binary(c->rt, n->op, &l, &r, out)) return locate(c, n);
        return 0;
    }
    case JN_FILTER: {
        jv x;
        if ((rc = eval(c, n->a, env, &x))) return rc;
        return eval_filter(c, n, &x, env, out);
    }
    case JN_TEST: {
        jv x;
        if ((rc = eval(c, n->a, env, &x))) return rc;
        call_args a;
        if ((rc = eval_args(c, &n->list, env, &a))) return rc;
        bool r;
        if (jbuiltin_test(c->rt, n->s, n->slen, &x, a.v, a.n, &r)) return locate(c, n);
        *out = jv_bool(n->op ? !r : r);
        return 0;
    }
    case JN_SELECT: {
        jv t;
        if ((rc = eval(c, n->b, env, &t))) return rc;
        if (!jv_truthy(&t)) return *out = jv_undef(), 0;
        return eval(c, n->a, env, out);
    }
    case JN_TERNARY: {
        jv t;
        if ((rc = eval(c, n->a, env, &t))) return rc;
        return eval(c, jv_truthy(&t) ? n->b : n->c, env, out);
    }
    default: return fail(c, n, "this construct cannot be used as a value");
    }
}

static int eval(jctx *c, const jnode *n, jenv *env, jv *out) {
    if (++c->depth > MAX_DEPTH) return fail(c, n, "template nested too deeply (recursion limit %d)", MAX_DEPTH);
    int rc = eval_inner(c, n, env, out);
    c->depth--;
    return rc;
}

/* ---- statements ------------------------------------------------------------------------------- */

/* Assigns a loop item to the loop target (a name or a tuple of names). */
static int assign_target(jctx *c, const jnode *target, const jv *v, jenv *env) {
    if (target->kind == JN_NAME) return env_set(c, env, target->s, target->slen, *v) ? locate(c, target) : 0;
    for (uint32_t j = 0; j < target->list.n; j++) {
        const jnode *t = target->list.v[j];
        if (t->kind != JN_NAME) return fail(c, t, "cannot unpack into this expression");
        if (env_set(c, env, t->s, t->slen, v->u.a->items[j])) return locate(c, t);
    }
    return 0;
}

static const char *const LOOP_KEYS[] = {"index", "index0", "revindex", "revindex0", "first",
                                        "last",  "length", "previtem", "nextitem"};

/* The `loop` object: created once per loop (reuse) or per iteration (when it may escape). */
static int loop_object(jctx *c, const jnode *n, jv_object **out) {
    jv_object *o = jv_object_new(c->rt);
    if (!o) return locate(c, n);
    for (size_t k = 0; k < FN_ARRAY_LEN(LOOP_KEYS); k++)
        if (jv_object_set(c->rt, o, LOOP_KEYS[k], strlen(LOOP_KEYS[k]), jv_undef())) return locate(c, n);
    *out = o;
    return 0;
}

static void loop_update(jv_object *o, const jv_array *items, uint32_t i) {
    uint32_t len = items->len;
    o->loop_index0 = i;
    o->vals[0] = jv_int(i + 1);
    o->vals[1] = jv_int(i);
    o->vals[2] = jv_int(len - i);
    o->vals[3] = jv_int(len - i - 1);
    o->vals[4] = jv_bool(i == 0);
    o->vals[5] = jv_bool(i == len - 1);
    o->vals[6] = jv_int(len);
    o->vals[7] = i > 0 ? items->items[i - 1] : jv_undef();
    o->vals[8] = i + 1 < len ? items->items[i + 1] : jv_undef();
}

static int exec_for(jctx *c, const jnode *n, jenv *env, jbuf *out) {
    jenv *scope = env_new(c, env);
    if (!scope) return locate(c, n);
    jv it;
    int rc = eval(c, n->b, scope, &it);
    if (rc) return rc;
    if (it.type == JV_OBJECT) {
        jv keys;
        if (jmethod_call(c->rt, &it, "keys", NULL, 0, NULL, &keys)) return locate(c, n);
        it = keys;
    } else if (it.type != JV_ARRAY) {
        return fail(c, n->b, "cannot loop over a %s", jv_type_name(&it));
    }
    const jv_array *src = it.u.a;
    /* Iterate a copy, so list methods called in the body (our extension) cannot change
     * what is being iterated. */
    jv_array *items = jv_array_new(c->rt, n->c ? 0 : src->len);
    if (!items) return locate(c, n);
    if (!n->c && src->len) {
        memcpy(items->items, src->items, src->len * sizeof(jv));
        items->len = src->len;
    }
    for (uint32_t i = 0; n->c && i < src->len; i++) {
        const jv *cur = &src->items[i];
        if (n->a->kind == JN_TUPLE) {
            if (cur->type != JV_ARRAY || (cur->flags & JV_TUPLE))
                return fail(c, n->a, "cannot unpack a %s into the loop variables", jv_type_name(cur));
            if (cur->u.a->len != n->a->list.n)
                return fail(c, n->a, "too %s items to unpack (%u values for %u names)",
                            cur->u.a->len < n->a->list.n ? "few" : "many", cur->u.a->len, n->a->list.n);
        }
        if (n->c) {
            if (jv_spend(c->rt, 1)) return locate(c, n);
            jenv *ls = env_new(c, scope);
            jv t;
            if (!ls) return locate(c, n);
            if ((rc = assign_target(c, n->a, cur, ls)) || (rc = eval(c, n->c, ls, &t))) return rc;
            if (!jv_truthy(&t)) continue;
        }
        if (jv_array_push(c->rt, items, *cur)) return locate(c, n);
    }
    if (!n->c && n->a->kind == JN_TUPLE)
        for (uint32_t i = 0; i < items->len; i++) {
            const jv *cur = &items->items[i];
            if (cur->type != JV_ARRAY || (cur->flags & JV_TUPLE))
                return fail(c, n->a, "cannot unpack a %s into the loop variables", jv_type_name(cur));
            if (cur->u.a->len != n->a->list.n)
                return fail(c, n->a, "too %s items to unpack (%u values for %u names)",
                            cur->u.a->len < n->a->list.n ? "few" : "many", cur->u.a->len, n->a->list.n);
        }
    bool none = true;
    jv_object *loop = NULL;
    for (uint32_t i = 0; i < items->len; i++) {
        if (jv_spend(c->rt, 1)) return locate(c, n);
        if ((!loop || n->op) && (rc = loop_object(c, n, &loop))) return rc;
        loop_update(loop, items, i);
        if (env_set(c, scope, "loop", 4, jv_obj(loop))) return locate(c, n);
        if ((rc = assign_target(c, n->a, &items->items[i], scope))) return rc;
        size_t mark = out->len;
        rc = exec_block(c, &n->body, scope, out);
        if (rc == CONTINUE || rc == BREAK) {
            out->len = mark; /* the interrupted iteration's output is dropped */
            if (rc == BREAK) break;
            continue;
        }
        if (rc) return rc;
        none = false;
    }
    if (none) return exec_block(c, &n->orelse, scope, out);
    return 0;
}

static int exec_set(jctx *c, const jnode *n, jenv *env) {
    jv v;
    int rc;
    if (n->b) {
        if ((rc = eval(c, n->b, env, &v))) return rc;
    } else {
        jbuf b;
        jbuf_init(&b, &c->rt->arena, c->rt->max_output);
        if ((rc = exec_block(c, &n->body, env, &b))) return rc;
        v = jv_str_buf(&b);
    }
    const jnode *t = n->a;
    switch (t->kind) {
    case JN_NAME: return env_set(c, env, t->s, t->slen, v) ? locate(c, n) : 0;
    case JN_TUPLE:
        if (v.type != JV_ARRAY) return fail(c, n, "cannot unpack a %s in set", jv_type_name(&v));
        if (v.u.a->len != t->list.n)
            return fail(c, n, "too %s items to unpack in set", t->list.n > v.u.a->len ? "few" : "many");
        for (uint32_t i = 0; i < t->list.n; i++) {
            const jnode *e = t->list.v[i];
            if (e->kind != JN_NAME) return fail(c, e, "cannot unpack into this expression");
            if (env_set(c, env, e->s, e->slen, v.u.a->items[i])) return locate(c, n);
        }
        return 0;
    case JN_MEMBER: {
        jv obj;
        if ((rc = eval(c, t->a, env, &obj))) return rc;
        if (obj.type != JV_NAMESPACE) return fail(c, t, "cannot assign an attribute of a %s (only of a namespace)", jv_type_name(&obj));
        if (t->b->kind != JN_NAME) return fail(c, t, "cannot assign to this member");
        return jv_object_set(c->rt, obj.u.o, t->b->s, t->b->slen, v) ? locate(c, n) : 0;
    }
    default: return fail(c, n, "invalid target for set");
    }
}

static int exec_call_block(jctx *c, const jnode *n, jenv *env, jv *out) {
    jv_func *caller = jarena_zalloc(&c->rt->arena, sizeof *caller);
    if (!caller) return locate(c, n);
    caller->kind = JF_CALLER;
    caller->name = "caller";
    caller->node = n;
    caller->env = env;
    caller->special = special_args(&n->list, &n->body);
    call_args a;
    int rc = eval_args(c, &n->a->list, env, &a);
    if (rc) return rc;
    jv fn;
    if ((rc = eval(c, n->a->a, env, &fn))) return rc;
    jenv *scope = env_new(c, env);
    if (!scope || env_set(c, scope, "caller", 6, jv_fn(caller))) return locate(c, n);
    return call_value(c, n->a, &fn, &a, scope, out);
}

static int exec_stmt(jctx *c, const jnode *n, jenv *env, jbuf *out) {
    int rc;
    jv v;
    switch (n->kind) {
    case JN_TEXT: return jbuf_put(out, n->s, n->slen) ? locate(c, n) : 0;
    case JN_IF: {
        jv t;
        if ((rc = eval(c, n->a, env, &t))) return rc;
        return exec_block(c, jv_truthy(&t) ? &n->body : &n->orelse, env, out);
    }
    case JN_FOR: return exec_for(c, n, env, out);
    case JN_SET: return exec_set(c, n, env);
    case JN_MACRO: {
        jv_func *f = jarena_zalloc(&c->rt->arena, sizeof *f);
        if (!f) return locate(c, n);
        f->kind = JF_MACRO;
        f->name = "macro";
        f->node = n;
        f->special = special_args(&n->list, &n->body);
        return env_set(c, env, n->s, n->slen, jv_fn(f)) ? locate(c, n) : 0;
    }
    case JN_CALL_BLOCK:
        if ((rc = exec_call_block(c, n, env, &v))) return rc;
        break;
    case JN_FILTER_BLOCK: {
        jbuf b;
        jbuf_init(&b, &c->rt->arena, c->rt->max_output);
        if ((rc = exec_block(c, &n->body, env, &b))) return rc;
        jv body = jv_str_buf(&b);
        if ((rc = eval_filter(c, n->a, &body, env, &v))) return rc;
        break;
    }
    case JN_BREAK: return BREAK;
    case JN_CONTINUE: return CONTINUE;
    default:
        if ((rc = eval(c, n, env, &v))) return rc;
        break;
    }
    if (v.type > JV_NULL && jv_write(c->rt, &v, out)) return locate(c, n);
    return 0;
}

static int exec_block(jctx *c, const jnode_list *body, jenv *env, jbuf *out) {
    if (++c->depth > MAX_DEPTH)
        return fail(c, body->n ? body->v[0] : NULL, "template nested too deeply (recursion limit %d)", MAX_DEPTH);
    int rc = 0;
    for (uint32_t i = 0; i < body->n && !rc; i++) rc = exec_stmt(c, body->v[i], env, out);
    c->depth--;
    return rc;
}

/* ---- entry ------------------------------------------------------------------------------------ */

int jeval_render(jrt *rt, const jnode_list *prog, const char *src, size_t srclen, const jeval_var *vars,
                 size_t nvars, jbuf *out) {
    jctx c = {.rt = rt, .src = src, .srclen = srclen};
    jenv *g = env_new(&c, NULL);
    if (!g) return -1;
    static const struct {
        const char *name;
        jv_native_fn fn;
    } natives[] = {{"namespace", jbuiltin_namespace}, {"raise_exception", jbuiltin_raise},
                   {"range", jbuiltin_range},         {"strftime_now", jbuiltin_strftime_now}};
    for (size_t i = 0; i < FN_ARRAY_LEN(natives); i++) {
        jv f;
        if (jv_native(rt, natives[i].name, natives[i].fn, NULL, &f) ||
            env_set(&c, g, natives[i].name, strlen(natives[i].name), f))
            return -1;
    }
    static const struct {
        const char *name;
        int kind; /* 0 false, 1 true, 2 none */
    } consts[] = {{"false", 0}, {"true", 1}, {"none", 2}, {"True", 1}, {"False", 0}, {"None", 2}};
    for (size_t i = 0; i < FN_ARRAY_LEN(consts); i++) {
        jv v = consts[i].kind == 2 ? jv_null() : jv_bool(consts[i].kind);
        if (env_set(&c, g, consts[i].name, strlen(consts[i].name), v)) return -1;
    }
    for (size_t i = 0; i < nvars; i++) {
        size_t len = strlen(vars[i].name);
        if (env_find(g, vars[i].name, len, jv_hash(vars[i].name, len)))
            return fn_error("variable '%s' is already declared (a builtin or given twice)", vars[i].name);
        if (env_set(&c, g, vars[i].name, len, vars[i].value)) return -1;
    }
    int rc = exec_block(&c, prog, g, out);
    if (rc > 0) return fn_error("'%s' outside of a loop", rc == BREAK ? "break" : "continue");
    return rc;
}
