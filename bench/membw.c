/* membw.c - measures this machine's DRAM read bandwidth with T threads summing a buffer far
 * larger than the last-level cache (bench helper, built by bench/vs-llamacpp.sh). */
#include <immintrin.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static size_t n_floats;
static float *buf;
static int n_threads;
static double sums[64];

static void *worker(void *arg) {
    long t = (long)arg;
    size_t b = n_floats * (size_t)t / (size_t)n_threads, e = n_floats * (size_t)(t + 1) / (size_t)n_threads;
    __m256 acc = _mm256_setzero_ps(), acc2 = _mm256_setzero_ps();
    for (size_t i = b; i + 16 <= e; i += 16) {
        acc = _mm256_add_ps(acc, _mm256_loadu_ps(buf + i));
        acc2 = _mm256_add_ps(acc2, _mm256_loadu_ps(buf + i + 8));
    }
    float tmp[8];
    _mm256_storeu_ps(tmp, _mm256_add_ps(acc, acc2));
    sums[t] = tmp[0] + tmp[7];
    return NULL;
}

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

int main(int argc, char **argv) {
    n_threads = argc > 1 ? atoi(argv[1]) : 2;
    size_t mb = argc > 2 ? (size_t)atol(argv[2]) : 2048;
    n_floats = mb * 1024 * 1024 / sizeof(float);
    buf = malloc(n_floats * sizeof(float));
    if (!buf || n_threads < 1 || n_threads > 64) return 1;
    memset(buf, 1, n_floats * sizeof(float));
    double best = 0;
    for (int rep = 0; rep < 5; rep++) {
        pthread_t th[64];
        double t0 = now();
        for (long t = 0; t < n_threads; t++) pthread_create(&th[t], NULL, worker, (void *)t);
        for (int t = 0; t < n_threads; t++) pthread_join(th[t], NULL);
        double gbs = (double)n_floats * sizeof(float) / (now() - t0) / 1e9;
        if (gbs > best) best = gbs;
    }
    printf("%.2f\n", best);
    return 0;
}
