/* forward.c - batched forward pass (see forward.h).
 *
 * Per layer: RMSNorm -> q/k/v projections (one dispatch) -> biases, q/k norm, RoPE, cache
 * write -> attention over the paged cache -> output projection + residual -> RMSNorm ->
 * FFN: dense SwiGLU, or MoE: route every token to its top-k experts, group the tokens by
 * expert so each expert's matrices are read once per step and applied as a
 * matrix-matrix product, weight and sum the expert outputs into the residual. */
#include "model/forward.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/dtype.h"
#include "base/error.h"
#include "model/attention.h"
#include "model/ops.h"
#include "tensor/matmul.h"
#include "tensor/quant_ref.h"
#include "tensor/tensor_format.h"

#define ATTN_BLOCK 16 /* tokens per attention work item */

struct forward_ctx {
    const model *m;
    kv_cache *kv;
    fn_pool *pool;
    int max_tokens;
    rope_table rope;
    /* activations, [max_tokens][dim] */
    float *x;          /* residual stream, n_embd */
    float *h;          /* normed input / temporary, n_embd */
    float *q, *k, *v;  /* projections */
    float *att;        /* attention output, n_head * head_dim_v */
    float *ff_a, *ff_b;/* FFN gate/up (dense: n_ff; MoE: per assignment, n_ff_exp) */
    float *moe_out;    /* per assignment, n_embd */
    float *router;     /* n_expert */
    uint8_t *act;      /* quantized activations (largest input) */
    uint8_t *act2;     /* second buffer (MoE down inputs, per assignment) */
    float *scratch;    /* per-thread attention scratch */
    int scratch_floats;
    /* MoE bookkeeping, per assignment (token, slot) */
    int32_t *route_expert;   /* [max_tokens * k] */
    float *route_weight;     /* [max_tokens * k] */
    int32_t *sorted_token;   /* token of each assignment, grouped by expert */
    int32_t *assign_pos;     /* sorted position of each assignment */
    int32_t *expert_count;   /* [n_expert + 1] offsets into the grouped order */
    int32_t *expert_cursor;  /* [n_expert] placement cursors */
    mm_job *jobs;            /* [2 * n_expert] */
    mm_act *acts;            /* [n_expert] */
    int32_t *sel;            /* tokens whose logits are wanted */
    int32_t *block_start, *block_len; /* attention blocks of the chunk */
    int n_blocks;
    /* the batch being run (a chunk) */
    const int32_t *tok, *pos, *seq;
    int n;
    int layer;
};

/* Bytes for `rows` quantized activation rows of the widest input: f32 (4 bytes per element)
 * is the largest activation format, so it bounds Q8_0 and Q8_K too. */
static size_t act_bytes_max(const model *m, int rows) {
    const model_hparams *hp = &m->hp;
    int64_t dims[] = {hp->n_embd, (int64_t)hp->n_head * hp->head_dim_v, hp->n_ff, hp->n_ff_exp};
    int64_t best = 0;
    for (size_t i = 0; i < FN_ARRAY_LEN(dims); i++)
        if (dims[i] > best) best = dims[i];
    return (size_t)best * sizeof(float) * (size_t)rows;
}

forward_ctx *forward_new(const model *m, kv_cache *kv, fn_pool *pool, int max_tokens) {
    if (max_tokens < 1) max_tokens = 1;
    const model_hparams *hp = &m->hp;
    forward_ctx *c = calloc(1, sizeof *c);
    if (!c) return fn_error("out of memory"), NULL;
    c->m = m;
    c->kv = kv;
    c->pool = pool;
    c->max_tokens = max_tokens;
    const float *freq_factors = m->global[W_ROPE_FREQS].data;
    rope_table_init(&c->rope, hp, m->arch->rope == ROPE_NEOX, freq_factors);
    size_t B = (size_t)max_tokens, k = hp->n_expert_used ? hp->n_expert_used : 1;
    size_t n_q = (size_t)hp->n_head * hp->head_dim_k, n_k = (size_t)hp->n_head_kv * hp->head_dim_k;
    size_t n_v = (size_t)hp->n_head_kv * hp->head_dim_v, n_att = (size_t)hp->n_head * hp->head_dim_v;
    size_t ff = hp->n_expert ? (size_t)hp->n_ff_exp * k : hp->n_ff;
    c->x = malloc(B * hp->n_embd * sizeof(float));
    c->h = malloc(B * hp->n_embd * sizeof(float));
    c->q = malloc(B * n_q * sizeof(float));
    c->k = malloc(B * n_k * sizeof(float));
    c->v = malloc(B * n_v * sizeof(float));
    c->att = malloc(B * n_att * sizeof(float));
    c->ff_a = malloc(B * ff * sizeof(float));
    c->ff_b = malloc(B * ff * sizeof(float));
    c->act = malloc(act_bytes_max(m, max_tokens));
    c->act2 = malloc(act_bytes_max(m, max_tokens * (int)(k > 2 ? k : 2)));
    attn_params ap = {kv, 0, (int)hp->n_head, (int)hp->n_head_kv, (int)hp->head_dim_k, (int)hp->head_dim_v, 0};
    c->scratch_floats = (int)attn_scratch_floats(&ap, ATTN_BLOCK);
    c->block_start = malloc(B * sizeof(int32_t));
    c->block_len = malloc(B * sizeof(int32_t));
    c->scratch = malloc((size_t)fn_pool_size(pool) * (size_t)c->scratch_floats * sizeof(float));
    c->sel = malloc(B * sizeof(int32_t));
    c->jobs = calloc(2 * (size_t)(hp->n_expert ? hp->n_expert : 2) + 4, sizeof *c->jobs);
    c->acts = calloc((size_t)(hp->n_expert ? hp->n_expert : 1), sizeof *c->acts);
    bool ok = c->x && c->h && c->q && c->k && c->v && c->att && c->ff_a && c->ff_b && c->act && c->act2 &&
              c->scratch && c->sel && c->jobs && c->acts && c->block_start && c->block_len;
    if (hp->n_expert) {
        c->moe_out = malloc(B * k * hp->n_embd * sizeof(float));
        c->router = malloc(B * hp->n_expert * sizeof(float));
        c->route_expert = malloc(B * k * sizeof(int32_t));
        c->route_weight = malloc(B * k * sizeof(float));
        c->sorted_token = malloc(B * k * sizeof(int32_t));
        c->assign_pos = malloc(B * k * sizeof(int32_t));
        c->expert_cursor = malloc(((size_t)hp->n_expert + 1) * sizeof(int32_t));
        c->expert_count = malloc(((size_t)hp->n_expert + 1) * sizeof(int32_t));
        ok = ok && c->moe_out && c->router && c->route_expert && c->route_weight && c->sorted_token &&
             c->assign_pos && c->expert_count && c->expert_cursor;
    }
    if (!ok) {
        forward_free(c);
        return fn_error("out of memory for a batch of %d tokens", max_tokens), NULL;
    }
    return c;
}

void forward_free(forward_ctx *c) {
    if (!c) return;
    void *bufs[] = {c->x, c->h, c->q, c->k, c->v, c->att, c->ff_a, c->ff_b, c->moe_out, c->router, c->act,
                    c->act2, c->scratch, c->route_expert, c->route_weight, c->sorted_token, c->assign_pos,
                    c->expert_count, c->expert_cursor, c->jobs, c->acts, c->sel, c->block_start, c->block_len};
    for (size_t i = 0; i < FN_ARRAY_LEN(bufs); i++) free(bufs[i]);
    free(c);
}

/* ---- parallel tasks over tokens ------------------------------------------------------ */

static void task_embed(void *ctx, int ith, int nth) {
    forward_ctx *c = ctx;
    const model_weight *e = &c->m->global[W_TOKEN_EMBD];
    int d = (int)c->m->hp.n_embd;
    long b, end;
    fn_split_range(c->n, ith, nth, 1, &b, &end);
    for (long t = b; t < end; t++)
        tensor_dequantize(e->type, (const uint8_t *)e->data + (size_t)c->tok[t] * e->row_bytes, c->x + t * d, d);
}

/* h = rmsnorm(x) * w for every token (norm weight role given in ctx->layer's table). */
typedef struct {
    forward_ctx *c;
    const float *w;
    const float *src;
    float *dst;
    int rows;
} norm_task;

static void task_norm(void *ctx, int ith, int nth) {
    norm_task *t = ctx;
    int d = (int)t->c->m->hp.n_embd;
    long b, end;
    fn_split_range(t->rows, ith, nth, 1, &b, &end);
    for (long i = b; i < end; i++) op_rmsnorm(t->dst + i * d, t->src + i * d, t->w, d, t->c->m->hp.rms_eps);
}

static void run_norm(forward_ctx *c, const float *w, const float *src, float *dst, int rows) {
    norm_task t = {c, w, src, dst, rows};
    if (rows == 1)
        task_norm(&t, 0, 1);
    else
        fn_pool_run(c->pool, task_norm, &t);
}

/* biases, q/k RMSNorm, RoPE, and writing k/v into the cache */
/* One K or V row into the cache. A Q8_0 cache is written the way ggml-cpu converts f32 to
 * Q8_0 on x86 (its activation quantizer, not the reference), as llama.cpp's cache is. */
static void store_kv(uint32_t type, const float *x, void *dst, int n) {
    if (type == FN_Q8_0) tensor_quantize_row_q8_0_act(x, dst, n);
    else tensor_quantize(type, x, dst, n);
}

static void task_qk_post(void *ctx, int ith, int nth) {
    forward_ctx *c = ctx;
    const model_hparams *hp = &c->m->hp;
    const model_layer *L = &c->m->layers[c->layer];
    int nq = (int)(hp->n_head * hp->head_dim_k), nk = (int)(hp->n_head_kv * hp->head_dim_k);
    int nv = (int)(hp->n_head_kv * hp->head_dim_v), hd = (int)hp->head_dim_k;
    uint32_t kvt = kv_type(c->kv);
    long b, end;
    fn_split_range(c->n, ith, nth, 1, &b, &end);
    for (long t = b; t < end; t++) {
        float *q = c->q + t * nq, *k = c->k + t * nk, *v = c->v + t * nv;
        const float *bq = L->w[W_ATTN_Q_BIAS].data, *bk = L->w[W_ATTN_K_BIAS].data, *bv = L->w[W_ATTN_V_BIAS].data;
        if (bq) for (int i = 0; i < nq; i++) q[i] += bq[i];
        if (bk) for (int i = 0; i < nk; i++) k[i] += bk[i];
        if (bv) for (int i = 0; i < nv; i++) v[i] += bv[i];
        const float *qn = L->w[W_ATTN_Q_NORM].data, *kn = L->w[W_ATTN_K_NORM].data;
        if (qn) for (uint32_t h = 0; h < hp->n_head; h++) op_rmsnorm(q + h * hd, q + h * hd, qn, hd, hp->rms_eps);
        if (kn) for (uint32_t h = 0; h < hp->n_head_kv; h++) op_rmsnorm(k + h * hd, k + h * hd, kn, hd, hp->rms_eps);
        op_rope(&c->rope, q, (int)hp->n_head, hd, c->pos[t]);
        op_rope(&c->rope, k, (int)hp->n_head_kv, hd, c->pos[t]);
        store_kv(kvt, k, kv_k_at(c->kv, c->layer, c->seq[t], c->pos[t]), nk);
        store_kv(kvt, v, kv_v_at(c->kv, c->layer, c->seq[t], c->pos[t]), nv);
    }
}

/* Attention work items: (block of up to ATTN_BLOCK consecutive tokens of one sequence) x
 * (K/V head group); a block shares each converted cache page among all its queries. */
static void build_attn_blocks(forward_ctx *c) {
    c->n_blocks = 0;
    for (int t = 0; t < c->n;) {
        int start = t;
        while (t < c->n && t - start < ATTN_BLOCK && c->seq[t] == c->seq[start]) t++;
        c->block_start[c->n_blocks] = start;
        c->block_len[c->n_blocks] = t - start;
        c->n_blocks++;
    }
}

static void task_attention(void *ctx, int ith, int nth) {
    forward_ctx *c = ctx;
    const model_hparams *hp = &c->m->hp;
    attn_params ap = {c->kv, c->layer, (int)hp->n_head, (int)hp->n_head_kv, (int)hp->head_dim_k,
                      (int)hp->head_dim_v, 1.0f / sqrtf((float)hp->head_dim_k)};
    float *scratch = c->scratch + (size_t)ith * c->scratch_floats;
    long items = (long)c->n_blocks * hp->n_head_kv, b, end;
    fn_split_range(items, ith, nth, 1, &b, &end);
    size_t nq = (size_t)hp->n_head * hp->head_dim_k, na = (size_t)hp->n_head * hp->head_dim_v;
    for (long it = b; it < end; it++) {
        int blk = (int)(it / hp->n_head_kv), g = (int)(it % hp->n_head_kv);
        int t0 = c->block_start[blk];
        attn_block ab = {c->block_len[blk], c->pos + t0, c->q + (size_t)t0 * nq, nq, c->att + (size_t)t0 * na, na};
        attn_group_block(&ap, c->seq[t0], g, &ab, scratch);
    }
}

/* x += h for every token */
static void task_residual(void *ctx, int ith, int nth) {
    forward_ctx *c = ctx;
    int d = (int)c->m->hp.n_embd;
    long b, end;
    fn_split_range((long)c->n * d, ith, nth, 64, &b, &end);
    for (long i = b; i < end; i++) c->x[i] += c->h[i];
}

static void task_swiglu(void *ctx, int ith, int nth) {
    forward_ctx *c = ctx;
    const model_hparams *hp = &c->m->hp;
    long rows = hp->n_expert ? (long)c->n * hp->n_expert_used : c->n;
    int w = (int)(hp->n_expert ? hp->n_ff_exp : hp->n_ff);
    long b, end;
    fn_split_range(rows, ith, nth, 1, &b, &end);
    for (long r = b; r < end; r++) op_swiglu(c->ff_a + r * w, c->ff_a + r * w, c->ff_b + r * w, w);
}

/* x[t] += sum over t's experts of weight * expert output. The weighted outputs are summed
 * first, in slot order, then added to the residual, as llama.cpp does (same rounding). */
static void task_moe_combine(void *ctx, int ith, int nth) {
    forward_ctx *c = ctx;
    const model_hparams *hp = &c->m->hp;
    int d = (int)hp->n_embd, k = (int)hp->n_expert_used;
    long b, end;
    fn_split_range(c->n, ith, nth, 1, &b, &end);
    for (long t = b; t < end; t++) {
        float *x = c->x + t * d;
        const int32_t *ap = c->assign_pos + t * k;
        const float *w = c->route_weight + t * k;
        for (int i = 0; i < d; i++) {
            float s = c->moe_out[(size_t)ap[0] * d + i] * w[0];
            for (int j = 1; j < k; j++) s += c->moe_out[(size_t)ap[j] * d + i] * w[j];
            x[i] += s;
        }
    }
}

static void task_route(void *ctx, int ith, int nth) {
    forward_ctx *c = ctx;
    const model_hparams *hp = &c->m->hp;
    int k = (int)hp->n_expert_used;
    long b, end;
    fn_split_range(c->n, ith, nth, 1, &b, &end);
    for (long t = b; t < end; t++)
        op_route_topk(c->router + t * hp->n_expert, (int)hp->n_expert, k, c->m->arch->moe_renorm_topk,
                      c->route_expert + t * k, c->route_weight + t * k);
}

/* Runs a per-token task on the pool, or inline when the batch is so small that waking
 * the other threads would cost more than the work (decode steps of a single sequence). */
static void run_small(forward_ctx *c, fn_pool_task task, void *ctx, long units) {
    if (units <= 2)
        task(ctx, 0, 1);
    else
        fn_pool_run(c->pool, task, ctx);
}

/* ---- matrix helpers --------------------------------------------------------------------- */

static mm_weight weight_view(const model_weight *w, int expert) {
    mm_weight v = {(const uint8_t *)w->data + (size_t)expert * w->matrix_bytes, w->type, w->ne[0], w->ne[1], w->row_bytes};
    return v;
}

/* Quantizes rows of src for weight type wt into buf and describes them. */
static mm_act make_act(forward_ctx *c, uint32_t wt, const float *src, int64_t n_in, int64_t rows, uint8_t *buf) {
    uint32_t at = (uint32_t)mm_act_type(wt);
    mm_quantize_act(c->pool, at, src, (size_t)n_in, n_in, rows, buf);
    mm_act a = {at, buf, mm_act_row_bytes(at, n_in), n_in, rows};
    return a;
}

static mm_job job(const model_weight *w, int expert, const mm_act *a, const int32_t *rows, int64_t n, float *out) {
    mm_job j = {weight_view(w, expert), a, rows, n, out, (size_t)w->ne[1], 0};
    return j;
}

/* A product with one expert's matrix of a stacked expert tensor (llama.cpp: MUL_MAT_ID,
 * which sums in another order than a plain MUL_MAT for some types). */
static mm_job expert_job(const model_weight *w, int expert, const mm_act *a, const int32_t *rows, int64_t n,
                         float *out) {
    mm_job j = job(w, expert, a, rows, n, out);
    j.expert = 1;
    return j;
}

/* ---- one layer ------------------------------------------------------------------------ */

static void attention_block(forward_ctx *c, const model_layer *L) {
    const model_hparams *hp = &c->m->hp;
    run_norm(c, L->w[W_ATTN_NORM].data, c->x, c->h, c->n);
    /* q, k and v read the same input: quantize it once if their types agree */
    const model_weight *wq = &L->w[W_ATTN_Q], *wk = &L->w[W_ATTN_K], *wv = &L->w[W_ATTN_V];
    mm_act aq = make_act(c, wq->type, c->h, hp->n_embd, c->n, c->act), ak = aq, av = aq;
    uint8_t *next = c->act2;
    if (mm_act_type(wk->type) != (int)aq.act_type) {
        ak = make_act(c, wk->type, c->h, hp->n_embd, c->n, next);
        next += ak.row_bytes * (size_t)c->n;
    }
    if (mm_act_type(wv->type) != (int)aq.act_type)
        av = mm_act_type(wv->type) == (int)ak.act_type ? ak : make_act(c, wv->type, c->h, hp->n_embd, c->n, next);
    mm_job jobs[3] = {job(wq, 0, &aq, NULL, c->n, c->q), job(wk, 0, &ak, NULL, c->n, c->k),
                      job(wv, 0, &av, NULL, c->n, c->v)};
    mm_run(c->pool, jobs, 3);
    run_small(c, task_qk_post, c, c->n);
    fn_pool_run(c->pool, task_attention, c);
    const model_weight *wo = &L->w[W_ATTN_OUT];
    mm_act ao = make_act(c, wo->type, c->att, (int64_t)hp->n_head * hp->head_dim_v, c->n, c->act);
    mm_job jo = job(wo, 0, &ao, NULL, c->n, c->h);
    mm_run(c->pool, &jo, 1);
    run_small(c, task_residual, c, c->n);
}

static void dense_ffn(forward_ctx *c, const model_layer *L) {
    const model_hparams *hp = &c->m->hp;
    const model_weight *wg = &L->w[W_FFN_GATE], *wu = &L->w[W_FFN_UP], *wd = &L->w[W_FFN_DOWN];
    mm_act ag = make_act(c, wg->type, c->h, hp->n_embd, c->n, c->act), au = ag;
    if (mm_act_type(wu->type) != (int)ag.act_type) au = make_act(c, wu->type, c->h, hp->n_embd, c->n, c->act2);
    mm_job jobs[2] = {job(wg, 0, &ag, NULL, c->n, c->ff_a), job(wu, 0, &au, NULL, c->n, c->ff_b)};
    mm_run(c->pool, jobs, 2);
    fn_pool_run(c->pool, task_swiglu, c);
    mm_act ad = make_act(c, wd->type, c->ff_a, hp->n_ff, c->n, c->act);
    mm_job jd = job(wd, 0, &ad, NULL, c->n, c->h);
    mm_run(c->pool, &jd, 1);
    run_small(c, task_residual, c, c->n);
}

static void moe_ffn(forward_ctx *c, const model_layer *L) {
    const model_hparams *hp = &c->m->hp;
    int k = (int)hp->n_expert_used, ne = (int)hp->n_expert, d = (int)hp->n_embd, f = (int)hp->n_ff_exp;
    const model_weight *wr = &L->w[W_FFN_ROUTER];
    mm_act ar = make_act(c, wr->type, c->h, d, c->n, c->act);
    mm_job jr = job(wr, 0, &ar, NULL, c->n, c->router);
    mm_run(c->pool, &jr, 1);
    run_small(c, task_route, c, c->n);

    /* Group the assignments (token, slot) by expert with a counting sort: expert e's
     * assignments take sorted positions [expert_count[e], expert_count[e+1]). */
    int n_assign = c->n * k;
    memset(c->expert_count, 0, ((size_t)ne + 1) * sizeof(int32_t));
    for (int a = 0; a < n_assign; a++) c->expert_count[c->route_expert[a] + 1]++;
    for (int e = 0; e < ne; e++) c->expert_count[e + 1] += c->expert_count[e];
    memcpy(c->expert_cursor, c->expert_count, (size_t)ne * sizeof(int32_t));
    for (int a = 0; a < n_assign; a++) {
        int p = c->expert_cursor[c->route_expert[a]]++;
        c->sorted_token[p] = a / k;
        c->assign_pos[a] = p;
    }

    /* gate and up of every used expert in one dispatch; rows are read from h by index */
    const model_weight *wg = &L->w[W_FFN_GATE_EXPS], *wu = &L->w[W_FFN_UP_EXPS], *wd = &L->w[W_FFN_DOWN_EXPS];
    mm_act ag = make_act(c, wg->type, c->h, d, c->n, c->act), au = ag;
    if (mm_act_type(wu->type) != (int)ag.act_type) au = make_act(c, wu->type, c->h, d, c->n, c->act2);
    int nj = 0;
    for (int e = 0; e < ne; e++) {
        int off = c->expert_count[e], cnt = c->expert_count[e + 1] - off;
        if (!cnt) continue;
        c->jobs[nj++] = expert_job(wg, e, &ag, c->sorted_token + off, cnt, c->ff_a + (size_t)off * f);
        c->jobs[nj++] = expert_job(wu, e, &au, c->sorted_token + off, cnt, c->ff_b + (size_t)off * f);
    }
    mm_run(c->pool, c->jobs, nj);
    fn_pool_run(c->pool, task_swiglu, c);

    /* down: each expert's inputs are its contiguous grouped rows */
    uint32_t at = (uint32_t)mm_act_type(wd->type);
    mm_quantize_act(c->pool, at, c->ff_a, (size_t)f, f, n_assign, c->act2);
    size_t arow = mm_act_row_bytes(at, f);
    nj = 0;
    for (int e = 0; e < ne; e++) {
        int off = c->expert_count[e], cnt = c->expert_count[e + 1] - off;
        if (!cnt) continue;
        c->acts[e] = (mm_act){at, c->act2 + (size_t)off * arow, arow, f, cnt};
        c->jobs[nj++] = expert_job(wd, e, &c->acts[e], NULL, cnt, c->moe_out + (size_t)off * d);
    }
    mm_run(c->pool, c->jobs, nj);
    run_small(c, task_moe_combine, c, c->n);
}

/* ---- the whole pass ------------------------------------------------------------------- */

static int check_batch(forward_ctx *c, const fwd_batch *b) {
    const model_hparams *hp = &c->m->hp;
    for (int t = 0; t < b->n_tokens; t++) {
        if (b->tokens[t] < 0 || (uint32_t)b->tokens[t] >= hp->n_vocab)
            return fn_error("token id %d is outside the vocabulary (0..%u)", b->tokens[t], hp->n_vocab - 1);
        if (b->pos[t] < 0) return fn_error("negative position %d", b->pos[t]);
        if (kv_seq_reserve(c->kv, b->seq[t], b->pos[t] + 1)) return -1;
    }
    return 0;
}

static void run_chunk(forward_ctx *c) {
    const model_hparams *hp = &c->m->hp;
    run_small(c, task_embed, c, c->n);
    build_attn_blocks(c);
    for (uint32_t l = 0; l < hp->n_layer; l++) {
        c->layer = (int)l;
        const model_layer *L = &c->m->layers[l];
        attention_block(c, L);
        run_norm(c, L->w[W_FFN_NORM].data, c->x, c->h, c->n);
        if (hp->n_expert)
            moe_ffn(c, L);
        else
            dense_ffn(c, L);
    }
}

int forward_run(forward_ctx *c, const fwd_batch *b, float *logits_out) {
    if (b->n_tokens <= 0) return 0;
    if (check_batch(c, b)) return -1;
    const model_hparams *hp = &c->m->hp;
    const model_weight *wout = model_output_weight(c->m);
    int d = (int)hp->n_embd, written = 0;
    for (int start = 0; start < b->n_tokens; start += c->max_tokens) {
        c->n = b->n_tokens - start < c->max_tokens ? b->n_tokens - start : c->max_tokens;
        c->tok = b->tokens + start;
        c->pos = b->pos + start;
        c->seq = b->seq + start;
        run_chunk(c);
        /* logits of the selected tokens: gather, norm, output matrix */
        int n_sel = 0;
        for (int t = 0; t < c->n; t++) {
            bool want = b->logits ? b->logits[start + t] != 0 : start + t == b->n_tokens - 1;
            if (want) {
                memmove(c->h + (size_t)n_sel * d, c->x + (size_t)t * d, (size_t)d * sizeof(float));
                c->sel[n_sel++] = t;
            }
        }
        if (!n_sel) continue;
        run_norm(c, c->m->global[W_OUTPUT_NORM].data, c->h, c->h, n_sel);
        mm_act ao = make_act(c, wout->type, c->h, d, n_sel, c->act);
        mm_job jo = {weight_view(wout, 0), &ao, NULL, n_sel, logits_out + (size_t)written * hp->n_vocab,
                     hp->n_vocab, 0};
        mm_run(c->pool, &jo, 1);
        written += n_sel;
    }
    return written;
}
