/* llama_native.c - llama.cpp's own speed on a GGUF file, measured like llama-bench, with
 * no JavaScript between tokens: it dlopens the prebuilt libllama/libggml that
 * node-llama-cpp@3.21.1 ships and drives llama_decode directly.
 *   llama_native BINS_DIR MODEL P N THREADS REPS
 * pp = one batch of P tokens into an empty context; tg = N tokens decoded one at a time
 * (the next token is fixed, as llama-bench does: sampling is not part of the figure).
 * Prints one JSON line with the medians. Bench helper built by bench/vs-llamacpp.sh.
 *
 * Why not node-llama-cpp's JS API: between tokens its event loop needs a core while
 * ggml's worker thread spins, which on 2 cores costs ~15 ms per token at 2 threads (a
 * tiny model decodes at 0.25 ms/token with 1 thread and 15 ms/token with 2), so figures
 * taken through it understate llama.cpp.
 *
 * Only the API's stable parts are declared here: the first three fields of
 * llama_context_params (n_ctx, n_batch, n_ubatch), llama_batch, and functions taking
 * plain values. Structs returned by value get room to spare. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct {
    uint32_t n_ctx, n_batch, n_ubatch;
    unsigned char rest[1024]; /* the remaining fields, left at their defaults */
} context_params;

typedef struct {
    unsigned char bytes[1024]; /* llama_model_params, left at their defaults */
} model_params;

typedef struct {
    int32_t n_tokens;
    int32_t *token;
    float *embd;
    int32_t *pos;
    int32_t *n_seq_id;
    int32_t **seq_id;
    int8_t *logits;
} batch;

typedef void (*log_fn)(int level, const char *text, void *user);

static struct {
    void (*backend_init)(void);
    void (*log_set)(log_fn, void *);
    model_params (*model_default_params)(void);
    void *(*model_load)(const char *, model_params);
    void (*model_free)(void *);
    context_params (*context_default_params)(void);
    void *(*init_from_model)(void *, context_params);
    void (*free_ctx)(void *);
    void (*set_n_threads)(void *, int32_t, int32_t);
    batch (*batch_get_one)(int32_t *, int32_t);
    int32_t (*decode)(void *, batch);
    void (*synchronize)(void *);
    void (*load_all_from_path)(const char *);
} api;

static void *must(void *lib, const char *name) {
    void *p = dlsym(lib, name);
    if (!p) {
        fprintf(stderr, "llama_native: %s not found in libllama/libggml: %s\n", name, dlerror());
        exit(1);
    }
    return p;
}

/* Keeps llama.cpp quiet except for the line naming the CPU backend variant it loaded. */
static void on_log(int level, const char *text, void *user) {
    (void)level;
    (void)user;
    if (strstr(text, "load_backend") || strstr(text, "error")) fputs(text, stderr);
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n) {
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return v[n / 2];
}

static void *new_context(void *model, int n_ctx, int n_batch, int threads) {
    context_params cp = api.context_default_params();
    cp.n_ctx = (uint32_t)n_ctx;
    cp.n_batch = cp.n_ubatch = (uint32_t)n_batch;
    void *ctx = api.init_from_model(model, cp);
    if (!ctx) {
        fprintf(stderr, "llama_native: llama_init_from_model failed\n");
        exit(1);
    }
    api.set_n_threads(ctx, threads, threads);
    return ctx;
}

static void decode_or_die(void *ctx, int32_t *tokens, int n) {
    if (api.decode(ctx, api.batch_get_one(tokens, n)) != 0) {
        fprintf(stderr, "llama_native: llama_decode failed\n");
        exit(1);
    }
    api.synchronize(ctx);
}

int main(int argc, char **argv) {
    if (argc != 7) {
        fprintf(stderr, "usage: llama_native BINS_DIR MODEL P N THREADS REPS\n");
        return 2;
    }
    const char *dir = argv[1], *path = argv[2];
    int p = atoi(argv[3]), n = atoi(argv[4]), threads = atoi(argv[5]), reps = atoi(argv[6]);
    if (p < 0 || n < 0 || threads < 1 || reps < 1 || reps > 100 || p + n > 1 << 20) {
        fprintf(stderr, "llama_native: bad P/N/THREADS/REPS\n");
        return 2;
    }
    char lib[4096];
    snprintf(lib, sizeof lib, "%s/libggml.v0.4.0.so", dir);
    void *ggml = dlopen(lib, RTLD_NOW | RTLD_GLOBAL);
    snprintf(lib, sizeof lib, "%s/libllama.v0.4.0.so", dir);
    void *llama = ggml ? dlopen(lib, RTLD_NOW | RTLD_GLOBAL) : NULL;
    if (!llama) {
        fprintf(stderr, "llama_native: cannot load llama.cpp from %s: %s\n", dir, dlerror());
        return 1;
    }
    *(void **)&api.backend_init = must(llama, "llama_backend_init");
    *(void **)&api.log_set = must(llama, "llama_log_set");
    *(void **)&api.model_default_params = must(llama, "llama_model_default_params");
    *(void **)&api.model_load = must(llama, "llama_model_load_from_file");
    *(void **)&api.model_free = must(llama, "llama_model_free");
    *(void **)&api.context_default_params = must(llama, "llama_context_default_params");
    *(void **)&api.init_from_model = must(llama, "llama_init_from_model");
    *(void **)&api.free_ctx = must(llama, "llama_free");
    *(void **)&api.set_n_threads = must(llama, "llama_set_n_threads");
    *(void **)&api.batch_get_one = must(llama, "llama_batch_get_one");
    *(void **)&api.decode = must(llama, "llama_decode");
    *(void **)&api.synchronize = must(llama, "llama_synchronize");
    *(void **)&api.load_all_from_path = must(ggml, "ggml_backend_load_all_from_path");

    api.log_set(on_log, NULL);
    api.load_all_from_path(dir);
    api.backend_init();
    void *model = api.model_load(path, api.model_default_params());
    if (!model) {
        fprintf(stderr, "llama_native: cannot load %s\n", path);
        return 1;
    }
    int32_t *prompt = malloc(sizeof(int32_t) * (size_t)(p > 16 ? p : 16));
    uint32_t seed = 1234;
    for (int i = 0; i < (p > 16 ? p : 16); i++) {
        seed = seed * 1103515245u + 12345u;
        prompt[i] = (int32_t)((seed >> 8) % 500); /* inside any test vocabulary */
    }
    double *pp = calloc((size_t)reps, sizeof *pp), *tg = calloc((size_t)reps, sizeof *tg);
    int n_ctx = p + n + 64, n_batch = p > 16 ? p : 16;

    void *ctx = new_context(model, n_ctx, n_batch, threads); /* warm-up: page in, build */
    decode_or_die(ctx, prompt, 16);
    api.free_ctx(ctx);
    for (int r = 0; r < reps; r++) {
        if (p > 0) {
            ctx = new_context(model, n_ctx, n_batch, threads);
            double t0 = now_s();
            decode_or_die(ctx, prompt, p);
            pp[r] = p / (now_s() - t0);
            api.free_ctx(ctx);
        }
        if (n > 0) {
            ctx = new_context(model, n_ctx, n_batch, threads);
            double t0 = now_s();
            for (int i = 0; i < n; i++) decode_or_die(ctx, &prompt[i % 16], 1);
            tg[r] = n / (now_s() - t0);
            api.free_ctx(ctx);
        }
    }
    printf("{\"engine\": \"llama.cpp\", \"build\": \"node-llama-cpp 3.21.1 prebuilt CPU, native llama_decode\", "
           "\"threads\": %d, \"pp_tokens_per_s\": %.3f, \"tg_tokens_per_s\": %.3f}\n",
           threads, p ? median(pp, reps) : 0.0, n ? median(tg, reps) : 0.0);
    api.model_free(model);
    free(prompt);
    free(pp);
    free(tg);
    return 0;
}
