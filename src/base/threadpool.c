/* threadpool.c - spin-then-sleep worker pool (see threadpool.h). */
#include "base/threadpool.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define cpu_relax() _mm_pause()
#else
#define cpu_relax() ((void)0)
#endif

/* Waiting is spin, then yield, then sleep: spinning bridges the microseconds between two
 * kernels of one step; yielding keeps a busy machine (other processes on our cores) from
 * making us wait for whole scheduler ticks; sleeping frees the core between requests. */
#define SPIN_ITERATIONS 20000
#define YIELD_ITERATIONS 2000

typedef struct {
    fn_pool *pool;
    int index;
} worker_arg;

struct fn_pool {
    int n_threads;
    pthread_t *threads;
    worker_arg *args;
    /* current task, published by bumping `generation` */
    fn_pool_task task;
    void *ctx;
    atomic_uint generation;
    atomic_int pending;          /* workers still running the current task */
    atomic_int stop;
    pthread_mutex_t mutex;       /* protects sleeping workers' wake-up */
    pthread_cond_t wake;
    atomic_int sleepers;
};

static void *worker_main(void *p) {
    worker_arg *a = p;
    fn_pool *pool = a->pool;
    unsigned seen = 0;
    for (;;) {
        unsigned gen;
        int spins = 0;
        while ((gen = atomic_load_explicit(&pool->generation, memory_order_acquire)) == seen) {
            if (atomic_load_explicit(&pool->stop, memory_order_relaxed)) return NULL;
            if (++spins < SPIN_ITERATIONS) {
                cpu_relax();
                continue;
            }
            if (spins < SPIN_ITERATIONS + YIELD_ITERATIONS) {
                sched_yield();
                continue;
            }
            pthread_mutex_lock(&pool->mutex);
            atomic_fetch_add(&pool->sleepers, 1);
            while (atomic_load(&pool->generation) == seen && !atomic_load(&pool->stop))
                pthread_cond_wait(&pool->wake, &pool->mutex);
            atomic_fetch_sub(&pool->sleepers, 1);
            pthread_mutex_unlock(&pool->mutex);
            spins = 0;
        }
        if (atomic_load(&pool->stop)) return NULL;
        seen = gen;
        pool->task(pool->ctx, a->index, pool->n_threads);
        atomic_fetch_sub_explicit(&pool->pending, 1, memory_order_release);
    }
}

fn_pool *fn_pool_new(int n_threads) {
    if (n_threads < 1 || n_threads > 1024) {
        fn_error("thread count %d is out of range 1..1024", n_threads);
        return NULL;
    }
    fn_pool *p = calloc(1, sizeof *p);
    if (!p) goto oom;
    p->n_threads = n_threads;
    p->threads = calloc((size_t)n_threads, sizeof *p->threads);
    p->args = calloc((size_t)n_threads, sizeof *p->args);
    if (!p->threads || !p->args) goto oom;
    pthread_mutex_init(&p->mutex, NULL);
    pthread_cond_init(&p->wake, NULL);
    for (int i = 1; i < n_threads; i++) {
        p->args[i].pool = p;
        p->args[i].index = i;
        if (pthread_create(&p->threads[i], NULL, worker_main, &p->args[i])) {
            p->n_threads = i; /* join the ones started */
            fn_pool_free(p);
            fn_error("cannot start worker thread %d", i);
            return NULL;
        }
    }
    return p;
oom:
    if (p) {
        free(p->threads);
        free(p->args);
        free(p);
    }
    fn_error("out of memory creating the thread pool");
    return NULL;
}

void fn_pool_free(fn_pool *p) {
    if (!p) return;
    atomic_store(&p->stop, 1);
    pthread_mutex_lock(&p->mutex);
    pthread_cond_broadcast(&p->wake);
    pthread_mutex_unlock(&p->mutex);
    for (int i = 1; i < p->n_threads; i++) pthread_join(p->threads[i], NULL);
    pthread_mutex_destroy(&p->mutex);
    pthread_cond_destroy(&p->wake);
    free(p->threads);
    free(p->args);
    free(p);
}

int fn_pool_size(const fn_pool *p) { return p->n_threads; }

void fn_pool_run(fn_pool *p, fn_pool_task task, void *ctx) {
    if (p->n_threads == 1) {
        task(ctx, 0, 1);
        return;
    }
    p->task = task;
    p->ctx = ctx;
    atomic_store_explicit(&p->pending, p->n_threads - 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&p->generation, 1, memory_order_release);
    if (atomic_load(&p->sleepers) > 0) {
        pthread_mutex_lock(&p->mutex);
        pthread_cond_broadcast(&p->wake);
        pthread_mutex_unlock(&p->mutex);
    }
    task(ctx, 0, p->n_threads);
    for (int spins = 0; atomic_load_explicit(&p->pending, memory_order_acquire) > 0; spins++) {
        if (spins < SPIN_ITERATIONS) cpu_relax();
        else sched_yield();
    }
}

void fn_split_range(long n, int ith, int nth, long align, long *begin, long *end) {
    if (align < 1) align = 1;
    long units = (n + align - 1) / align;
    long b = units * ith / nth * align, e = units * (ith + 1) / nth * align;
    *begin = b < n ? b : n;
    *end = e < n ? e : n;
}
