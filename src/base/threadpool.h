/* threadpool.h - a persistent pool of worker threads for data-parallel kernels.
 * Created once per engine; each fn_pool_run() hands the same task to every thread (the
 * caller is thread 0) and returns when all have finished. Workers spin briefly between
 * tasks (a decode step dispatches hundreds of small tasks) and then sleep. */
#ifndef FENNEC_BASE_THREADPOOL_H
#define FENNEC_BASE_THREADPOOL_H

typedef struct fn_pool fn_pool;

/* Task body: thread ith of nth does its share of the work described by ctx. */
typedef void (*fn_pool_task)(void *ctx, int ith, int nth);

/* Starts n_threads-1 workers (n_threads >= 1). NULL with fn_errmsg() on failure. */
fn_pool *fn_pool_new(int n_threads);

/* Stops and joins the workers. */
void fn_pool_free(fn_pool *p);

int fn_pool_size(const fn_pool *p);

/* Runs task(ctx, i, n) on every thread i in 0..n-1 and waits for all of them. Must not
 * be called concurrently on the same pool, nor from inside a task. */
void fn_pool_run(fn_pool *p, fn_pool_task task, void *ctx);

/* Splits [0, n) into nth nearly equal parts; part ith is [*begin, *end). Boundaries are
 * multiples of `align` (except the final end). */
void fn_split_range(long n, int ith, int nth, long align, long *begin, long *end);

#endif
