/* membw.c - this machine's DRAM read bandwidth: T threads stream through a buffer far
 * larger than the last-level cache (bench helper, built by bench/vs-llamacpp.sh).
 *   membw THREADS MIB  -> prints GB/s (best of 5 passes)
 * Each thread touches its own slice first (so its pages are local) and reads it with four
 * independent vector accumulators; the checksum is printed so no pass can be optimized
 * away. */
#include <immintrin.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { MAX_THREADS = 64 };

static unsigned char *buf;
static size_t n_bytes;
static int n_threads;
static pthread_barrier_t start, done;
static volatile long long checksum[MAX_THREADS];

static void slice(long t, size_t *b, size_t *e) {
    size_t per = n_bytes / (size_t)n_threads / 128 * 128;
    *b = per * (size_t)t;
    *e = *b + per;
}

static void *worker(void *arg) {
    long t = (long)arg;
    size_t b, e;
    slice(t, &b, &e);
    memset(buf + b, (int)t + 1, e - b);
    for (int pass = 0; pass < 6; pass++) {
        pthread_barrier_wait(&start);
        __m256i a0 = _mm256_setzero_si256(), a1 = a0, a2 = a0, a3 = a0;
        for (size_t i = b; i < e; i += 128) {
            a0 = _mm256_xor_si256(a0, _mm256_load_si256((const __m256i *)(buf + i)));
            a1 = _mm256_xor_si256(a1, _mm256_load_si256((const __m256i *)(buf + i + 32)));
            a2 = _mm256_xor_si256(a2, _mm256_load_si256((const __m256i *)(buf + i + 64)));
            a3 = _mm256_xor_si256(a3, _mm256_load_si256((const __m256i *)(buf + i + 96)));
        }
        __m256i a = _mm256_xor_si256(_mm256_xor_si256(a0, a1), _mm256_xor_si256(a2, a3));
        checksum[t] += _mm256_extract_epi64(a, 0) ^ _mm256_extract_epi64(a, 3);
        pthread_barrier_wait(&done);
    }
    return NULL;
}

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

int main(int argc, char **argv) {
    n_threads = argc > 1 ? atoi(argv[1]) : 2;
    size_t mib = argc > 2 ? (size_t)atol(argv[2]) : 2048;
    if (n_threads < 1 || n_threads > MAX_THREADS || mib < 64) {
        fprintf(stderr, "usage: membw THREADS MIB (MIB >= 64)\n");
        return 2;
    }
    n_bytes = mib << 20;
    buf = aligned_alloc(4096, n_bytes);
    if (!buf) {
        fprintf(stderr, "membw: cannot allocate %zu MiB\n", mib);
        return 1;
    }
    pthread_barrier_init(&start, NULL, (unsigned)n_threads + 1);
    pthread_barrier_init(&done, NULL, (unsigned)n_threads + 1);
    pthread_t th[MAX_THREADS];
    for (long t = 0; t < n_threads; t++) pthread_create(&th[t], NULL, worker, (void *)t);
    double best = 0;
    size_t b, e;
    slice(0, &b, &e);
    for (int pass = 0; pass < 6; pass++) {
        pthread_barrier_wait(&start);
        double t0 = now();
        pthread_barrier_wait(&done);
        double gbs = (double)(e - b) * n_threads / (now() - t0) / 1e9;
        if (pass > 0 && gbs > best) best = gbs; /* pass 0 also faults the pages in */
    }
    for (int t = 0; t < n_threads; t++) pthread_join(th[t], NULL);
    long long sum = 0;
    for (int t = 0; t < n_threads; t++) sum ^= checksum[t];
    fprintf(stderr, "membw: %d threads, %zu MiB, checksum %llx\n", n_threads, mib, sum);
    printf("%.2f\n", best);
    return 0;
}
