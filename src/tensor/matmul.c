/* matmul.c - the matmul driver: picks a kernel set per CPU level once, hands the weight rows
 * of a dispatch's jobs to the pool's threads in chunks, and walks each chunk in cache-sized
 * tiles (or gives it to a prefill panel kernel). */
#include "tensor/matmul.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "tensor/kernels.h"
#include "tensor/quant_ref.h"

/* ---- kernel sets, built once ---- */

enum { LV_GENERIC, LV_AVX2, LV_AVX2_VNNI, LV_AVX512, LV_AVX512_VNNI, LV_COUNT };

static const char *const level_names[LV_COUNT] = {
    "generic", "avx2", "avx2-vnni", "avx512", "avx512-vnni",
};

static mm_kernel_set sets[LV_COUNT];
static bool have_level[LV_COUNT];
static int best_level;
static pthread_once_t sets_once = PTHREAD_ONCE_INIT;

static void build_sets(void) {
    mm_kernels_generic(&sets[LV_GENERIC]);
    have_level[LV_GENERIC] = true;
    best_level = LV_GENERIC;
#ifdef FENNEC_MM_X86
    const fn_cpu_features *f = fn_cpu();
    fn_cpu_features plain = *f; /* the same CPU without VNNI, to test the fallback paths */
    plain.avx_vnni = plain.avx512_vnni = false;
    if (f->avx2 && f->fma && f->f16c) {
        sets[LV_AVX2] = sets[LV_GENERIC];
        mm_kernels_avx2(&sets[LV_AVX2], &plain);
        have_level[LV_AVX2] = true;
        best_level = LV_AVX2;
        if (f->avx_vnni) {
            sets[LV_AVX2_VNNI] = sets[LV_GENERIC];
            mm_kernels_avx2(&sets[LV_AVX2_VNNI], f);
            have_level[LV_AVX2_VNNI] = true;
            best_level = LV_AVX2_VNNI;
        }
        if (f->avx512f && f->avx512bw && f->avx512vl && f->avx512dq) {
            sets[LV_AVX512] = sets[LV_AVX2];
            mm_kernels_avx512(&sets[LV_AVX512], &plain);
            have_level[LV_AVX512] = true;
            best_level = LV_AVX512;
            if (f->avx512_vnni) {
                sets[LV_AVX512_VNNI] = sets[best_level];
                mm_kernels_avx512(&sets[LV_AVX512_VNNI], f);
                have_level[LV_AVX512_VNNI] = true;
                best_level = LV_AVX512_VNNI;
            }
        }
    }
#endif
    for (int i = 0; i < LV_COUNT; i++) sets[i].name = level_names[i];
}

const mm_kernel_set *mm_kernels_for_level(const char *level) {
    pthread_once(&sets_once, build_sets);
    if (!level || !strcmp(level, "auto")) return &sets[best_level];
    for (int i = 0; i < LV_COUNT; i++)
        if (!strcmp(level, level_names[i])) return have_level[i] ? &sets[i] : NULL;
    return NULL;
}

/* ---- types ---- */

int mm_act_type(uint32_t weight_type) {
    switch (weight_type) {
    case FN_F32: case FN_F16: case FN_BF16:
        return FN_F32;
    case FN_Q8_0: case FN_Q4_0: case FN_Q4_1: case FN_Q5_0: case FN_Q5_1: case FN_MXFP4:
        return FN_Q8_0;
    case FN_Q2_K: case FN_Q3_K: case FN_Q4_K: case FN_Q5_K: case FN_Q6_K:
        return FN_Q8_K;
    default:
        return -1;
    }
}

size_t mm_act_row_bytes(uint32_t act_type, int64_t n_in) {
    if (act_type != FN_F32 && act_type != FN_Q8_0 && act_type != FN_Q8_K) return 0;
    const int64_t b = fn_dtype_row_bytes(act_type, n_in);
    return b < 0 ? 0 : (size_t)b;
}

const char *mm_kernel_name(uint32_t weight_type) {
    const mm_kernel_set *ks = mm_kernels_for_level(NULL);
    if (weight_type >= FN_DTYPE_COUNT || !ks->gemm[weight_type].tile) return "none";
    return ks->gemm[weight_type].name;
}

/* ---- activation quantization ---- */

/* Below this many elements a dispatch costs more than it saves. */
#define QUANT_MIN_PARALLEL 16384

typedef struct {
    mm_quant_fn fn;
    const float *x;
    size_t x_stride;       /* floats between input rows */
    uint8_t *dst;
    size_t dst_row_bytes;
    int64_t block;         /* elements per block (split granularity) */
    size_t block_bytes;
    int64_t blocks_per_row;
    int64_t n_rows;
} quant_ctx;

static void quant_task(void *vctx, int ith, int nth) {
    const quant_ctx *q = vctx;
    long b0, b1;
    fn_split_range((long)(q->n_rows * q->blocks_per_row), ith, nth, 1, &b0, &b1);
    while (b0 < b1) {
        const int64_t row = b0 / q->blocks_per_row, blk = b0 % q->blocks_per_row;
        int64_t count = q->blocks_per_row - blk;
        if (count > b1 - b0) count = b1 - b0;
        q->fn(q->x + (size_t)row * q->x_stride + (size_t)(blk * q->block),
              q->dst + (size_t)row * q->dst_row_bytes + (size_t)blk * q->block_bytes,
              count * q->block);
        b0 += (long)count;
    }
}

void mm_quantize_act_with(const mm_kernel_set *ks, fn_pool *pool, uint32_t act_type,
                          const float *x, size_t x_stride, int64_t n_in, int64_t n_rows,
                          void *dst) {
    FN_ASSERT(act_type < FN_DTYPE_COUNT && ks->quant[act_type]);
    const size_t row_bytes = mm_act_row_bytes(act_type, n_in);
    FN_ASSERT(row_bytes > 0 && n_rows >= 0);
    const fn_dtype_info *info = fn_dtype_get(act_type);
    /* F32 has no blocks; split it in pieces of 16 so threads do not share cache lines */
    const int64_t block = info->block_size > 1 ? info->block_size : 16;
    quant_ctx q = {
        .fn = ks->quant[act_type], .x = x, .x_stride = x_stride, .dst = dst,
        .dst_row_bytes = row_bytes, .block = block,
        .block_bytes = (size_t)block / info->block_size * info->block_bytes,
        .blocks_per_row = n_in / block, .n_rows = n_rows,
    };
    if (n_in % block) { /* an F32 row that is not a multiple of 16: whole rows only */
        q.block = n_in;
        q.block_bytes = row_bytes;
        q.blocks_per_row = 1;
    }
    if (!pool || fn_pool_size(pool) == 1 || n_in * n_rows < QUANT_MIN_PARALLEL)
        quant_task(&q, 0, 1);
    else
        fn_pool_run(pool, quant_task, &q);
}

void mm_quantize_act(fn_pool *pool, uint32_t act_type, const float *x, size_t x_stride,
                     int64_t n_in, int64_t n_rows, void *dst) {
    mm_quantize_act_with(mm_kernels_for_level(NULL), pool, act_type, x, x_stride, n_in, n_rows,
                         dst);
}

/* ---- products ---- */

/* Most activation rows one kernel call takes (the largest max_cols of any kernel). */
#define MAX_TILE_COLS 16
/* Weight rows per cache block: a thread's block of weight rows is read from memory once and
 * then from L2 for every tile of activation rows. */
#define ROW_BLOCK_BYTES (256 * 1024)
/* Chunks handed to threads: about this many per thread, of at least MIN_CHUNK_COST
 * multiply-adds, whole multiples of CHUNK_ALIGN rows (whole output cache lines; whole
 * 16-row panels for the prefill kernels, which take at least GEMM_CHUNK_ROWS rows so their
 * per-call activation preparation is amortized). */
#define CHUNKS_PER_THREAD 4
#define MIN_CHUNK_COST (1 << 18)
#define CHUNK_ALIGN 16
#define GEMM_CHUNK_ROWS 256
/* Below this many multiply-adds a dispatch costs more than it saves. */
#define RUN_MIN_PARALLEL 32768

/* Work is handed out in chunks of consecutive weight rows of one job, through one atomic
 * counter: a thread that is descheduled (or slower) simply takes fewer chunks. Every chunk
 * covers all of its job's activation rows, so each weight row is still read once. */
typedef struct {
    const mm_kernel_set *ks;
    const mm_job *jobs;
    int n_jobs;
    int64_t chunk_cost;    /* target multiply-adds per chunk */
    atomic_long next;      /* next chunk index to hand out */
} run_ctx;

/* Work of one weight row of a job: multiply-adds, the unit chunks are sized in. */
static int64_t row_cost(const mm_job *j) {
    return j->n > 0 && j->w.n_out > 0 ? j->w.n_in * j->n : 0;
}

/* Rows per chunk of a job (0 for an empty job). */
static int64_t chunk_rows(const run_ctx *ctx, const mm_job *j) {
    const int64_t rc = row_cost(j);
    if (!rc) return 0;
    int64_t rows = (ctx->chunk_cost + rc - 1) / rc;
    const mm_kernel *k = &ctx->ks->gemm[j->w.type];
    if (k->gemm && j->n >= k->gemm_min_n && rows < GEMM_CHUNK_ROWS) rows = GEMM_CHUNK_ROWS;
    rows = (rows + CHUNK_ALIGN - 1) / CHUNK_ALIGN * CHUNK_ALIGN;
    return rows < j->w.n_out ? rows : j->w.n_out;
}

static int64_t chunk_count(const run_ctx *ctx, const mm_job *j) {
    const int64_t rows = chunk_rows(ctx, j);
    return rows ? (j->w.n_out + rows - 1) / rows : 0;
}

/* How llama.cpp's x86 CPU backend sums this job's dot products. ggml repacks a Q4_K matrix
 * whose row count is a multiple of 8 (CPU_REPACK, q4_K_8x8_q8_K; plain and expert matrices
 * alike). A plain product (MUL_MAT) then runs ggml_gemm_q4_K_8x8_q8_K on the activation
 * rows in whole groups of 4 and ggml_gemv_q4_K_8x8_q8_K on the n % 4 left over; an expert
 * product (MUL_MAT_ID) runs the gemv on every row (the groups of 4 count from the job's
 * first row, as from the first token of llama.cpp's ubatch). A plain F32 x F32 product of 2 or more
 * activation rows goes through llamafile's tinyBLAS when it takes the shape (n_out a
 * multiple of 4, n_in of the vector width: 16 floats in the AVX-512 build, 8 in AVX2's).
 * Everything else goes through the type's ggml_vec_dot. Returns the order of the rows from
 * *n_grouped on and sets *n_grouped to the number of leading rows in MM_ORDER_GEMM4 order. */
static int mm_job_order(const mm_job *j, int64_t *n_grouped) {
    *n_grouped = 0;
    if (j->w.type == FN_F32) /* the kernel also checks n_in against its tinyBLAS width */
        return !j->expert && j->n >= 2 && j->w.n_out % 4 == 0 ? MM_ORDER_SGEMM : MM_ORDER_VEC;
    if (j->w.type != FN_Q4_K || j->w.n_out % 8) return MM_ORDER_VEC;
    if (!j->expert) *n_grouped = j->n - j->n % 4;
    return MM_ORDER_GEMV;
}

static void run_rows(const mm_kernel_set *ks, const mm_job *j, int64_t r0, int64_t r1) {
    const mm_kernel *k = &ks->gemm[j->w.type];
    if (k->gemm && j->n >= k->gemm_min_n) {
        int64_t n_grouped;
        const int order = mm_job_order(j, &n_grouped);
        const mm_gemm g = {
            .n_in = j->w.n_in, .w = (const uint8_t *)j->w.data + (size_t)r0 * j->w.row_bytes,
            .w_stride = j->w.row_bytes, .nr = r1 - r0, .act = j->act->data,
            .act_stride = j->act->row_bytes, .rows = j->rows, .n = j->n,
            .out = j->out + r0, .out_stride = j->out_stride, .n_grouped = n_grouped, .order = order,
        };
        k->gemm(&g);
        return;
    }
    const int mr = k->max_rows, nc_max = k->max_cols;
    const uint8_t *act_rows[MAX_TILE_COLS];
    const uint8_t *adata = j->act->data;
    const uint8_t *wdata = j->w.data;
    int64_t rb = (int64_t)(ROW_BLOCK_BYTES / (j->w.row_bytes ? j->w.row_bytes : 1));
    rb = rb < mr ? mr : rb / mr * mr;
    int64_t n_grouped;
    const int order = mm_job_order(j, &n_grouped);
    mm_tile t = {
        .n_in = j->w.n_in, .w_stride = j->w.row_bytes, .act = act_rows,
        .out_stride = j->out_stride,
    };
    for (int64_t rc = r0; rc < r1; rc += rb) {
        const int64_t re = rc + rb < r1 ? rc + rb : r1;
        for (int64_t c = 0, nc; c < j->n; c += nc) {
            /* a tile stays on one side of the grouped rows' end */
            const int64_t cend = c < n_grouped ? n_grouped : j->n;
            nc = cend - c < nc_max ? cend - c : nc_max;
            t.order = c < n_grouped ? MM_ORDER_GEMM4 : order;
            for (int i = 0; i < nc; i++) {
                const int64_t idx = j->rows ? j->rows[c + i] : c + i;
                act_rows[i] = adata + (size_t)idx * j->act->row_bytes;
            }
            t.nc = (int)nc;
            for (int64_t r = rc; r < re; r += mr) {
                t.w = wdata + (size_t)r * j->w.row_bytes;
                t.nr = (int)(re - r < mr ? re - r : mr);
                t.out = j->out + (size_t)c * j->out_stride + (size_t)r;
                k->tile(&t);
            }
        }
    }
}

static void run_task(void *vctx, int ith, int nth) {
    run_ctx *ctx = vctx;
    (void)ith;
    (void)nth;
    /* chunk indices only grow, so this thread's cursor over the jobs only moves forward */
    int ji = 0;
    int64_t first = 0, count = ctx->n_jobs ? chunk_count(ctx, &ctx->jobs[0]) : 0;
    for (;;) {
        const long c = atomic_fetch_add_explicit(&ctx->next, 1, memory_order_relaxed);
        while (ji < ctx->n_jobs && c >= first + count) {
            first += count;
            if (++ji < ctx->n_jobs) count = chunk_count(ctx, &ctx->jobs[ji]);
        }
        if (ji >= ctx->n_jobs) return;
        const mm_job *j = &ctx->jobs[ji];
        const int64_t rows = chunk_rows(ctx, j);
        const int64_t r0 = (c - first) * rows;
        run_rows(ctx->ks, j, r0, r0 + rows < j->w.n_out ? r0 + rows : j->w.n_out);
    }
}

static void check_job(const mm_kernel_set *ks, const mm_job *j) {
    FN_ASSERT(j->w.type < FN_DTYPE_COUNT && ks->gemm[j->w.type].tile);
    FN_ASSERT(ks->gemm[j->w.type].max_cols <= MAX_TILE_COLS);
    FN_ASSERT(j->act && (int)j->act->act_type == mm_act_type(j->w.type));
    FN_ASSERT(j->act->n_in == j->w.n_in && j->n >= 0);
    if (j->rows) /* the gathers read through these: an out-of-range index is a caller bug */
        for (int64_t i = 0; i < j->n; i++) FN_ASSERT(j->rows[i] >= 0 && j->rows[i] < j->act->n_rows);
    else
        FN_ASSERT(j->n <= j->act->n_rows);
}

void mm_run_with(const mm_kernel_set *ks, fn_pool *pool, const mm_job *jobs, int n_jobs) {
    int64_t total = 0;
    for (int i = 0; i < n_jobs; i++) {
        check_job(ks, &jobs[i]);
        total += row_cost(&jobs[i]) * jobs[i].w.n_out;
    }
    if (!total) return;
    const int nth = pool && total >= RUN_MIN_PARALLEL ? fn_pool_size(pool) : 1;
    int64_t cc = total / ((int64_t)nth * CHUNKS_PER_THREAD);
    run_ctx ctx = {.ks = ks, .jobs = jobs, .n_jobs = n_jobs,
                   .chunk_cost = cc > MIN_CHUNK_COST ? cc : MIN_CHUNK_COST};
    atomic_init(&ctx.next, 0);
    if (nth == 1) run_task(&ctx, 0, 1);
    else fn_pool_run(pool, run_task, &ctx);
}

void mm_run(fn_pool *pool, const mm_job *jobs, int n_jobs) {
    mm_run_with(mm_kernels_for_level(NULL), pool, jobs, n_jobs);
}

/* ---- reference ---- */

static void to_f32(uint32_t type, const void *src, float *dst, int64_t n) {
    if (type == FN_F32) {
        memcpy(dst, src, (size_t)n * sizeof *dst);
        return;
    }
    const tensor_traits *tr = tensor_traits_get(type);
    FN_ASSERT(tr && tr->to_float);
    tr->to_float(src, dst, n);
}

void mm_run_reference(const mm_job *jobs, int n_jobs) {
    for (int i = 0; i < n_jobs; i++) {
        const mm_job *j = &jobs[i];
        const int64_t n_in = j->w.n_in;
        FN_ASSERT(j->act && j->act->n_in == n_in);
        float *w = malloc((size_t)n_in * sizeof *w);
        float *a = malloc((size_t)n_in * sizeof *a);
        FN_ASSERT(w && a);
        for (int64_t c = 0; c < j->n; c++) {
            const int64_t idx = j->rows ? j->rows[c] : c;
            to_f32(j->act->act_type, (const uint8_t *)j->act->data + (size_t)idx * j->act->row_bytes,
                   a, n_in);
            for (int64_t r = 0; r < j->w.n_out; r++) {
                to_f32(j->w.type, (const uint8_t *)j->w.data + (size_t)r * j->w.row_bytes, w, n_in);
                double s = 0;
                for (int64_t k = 0; k < n_in; k++) s += (double)w[k] * a[k];
                j->out[(size_t)c * j->out_stride + (size_t)r] = (float)s;
            }
        }
        free(w);
        free(a);
    }
}
