/* kernels.h - internal interface between the matmul driver (matmul.c) and the kernel sets
 * of each instruction-set level (kernels_generic.c, kernels_avx2.c, kernels_avx512.c).
 *
 * A kernel computes one tile: up to max_rows weight rows times up to max_cols activation
 * rows, each output the full-length dot product. The driver chooses the tiles (cache
 * blocking, threads, MoE row gathers); kernels only do arithmetic and never allocate. For
 * many activation rows a kernel set may also offer a "gemm" entry point that repacks a block
 * of weight rows into a stack buffer (up to ~70 KB of stack per thread) and reuses it for all
 * activation rows. */
#ifndef FENNEC_TENSOR_KERNELS_H
#define FENNEC_TENSOR_KERNELS_H

#include <stddef.h>
#include <stdint.h>

#include "base/cpu.h"
#include "base/dtype.h"
#include "tensor/matmul.h"

/* Summation order a tile's dot products should follow, where it matters for matching
 * llama.cpp bit for bit (ggml-cpu's x86 builds: the generic and AVX-512 levels follow the
 * AVX-512 build, the AVX2 levels the AVX2 build, whose K-quant orders are the same). The
 * Q4_K kernels (tiles and panels, via mm_gemm.n_grouped/order) and the generic/AVX-512 F32
 * ones distinguish them; Q6_K and Q8_0 have one order (the vec_dot's), the AVX2 F32 tile
 * one that is tinyBLAS<8>'s. The driver chooses it per tile (see mm_job_order in matmul.c)
 * so that a tile never mixes orders:
 *   MM_ORDER_VEC    the type's ggml_vec_dot_* (a matrix ggml does not repack)
 *   MM_ORDER_GEMV   ggml_gemv_q4_K_8x8_q8_K (repacked; one activation row at a time)
 *   MM_ORDER_GEMM4  ggml_gemm_q4_K_8x8_q8_K (repacked; activation rows in whole groups of 4)
 *   MM_ORDER_SGEMM  llamafile's tinyBLAS (F32 x F32) */
enum { MM_ORDER_VEC = 0, MM_ORDER_GEMV = 1, MM_ORDER_GEMM4 = 2, MM_ORDER_SGEMM = 3 };

/* One tile: out[c * out_stride + r] = dot(weight row r, activation row c) for r < nr, c < nc. */
typedef struct {
    int64_t n_in;              /* elements per row, a whole number of the type's blocks */
    const uint8_t *w;          /* weight row 0 of the tile (borrowed) */
    size_t w_stride;           /* bytes between weight rows */
    int nr;                    /* weight rows, 1..max_rows */
    const uint8_t *const *act; /* nc activation rows in the kernel's activation format */
    int nc;                    /* activation rows, 1..max_cols */
    float *out;                /* see above; written, never read */
    size_t out_stride;         /* floats between the outputs of consecutive activation rows */
    int order;                 /* MM_ORDER_*, the same for every pair of the tile */
} mm_tile;

typedef void (*mm_tile_fn)(const mm_tile *t);

/* A whole block of weight rows against many activation rows (prefill): out[i * out_stride
 * + r] = dot(weight row r, activation row rows[i] (or i)) for r < nr, i < n. Kernels may
 * repack the weight rows into a stack buffer once and reuse it for every activation row. */
typedef struct {
    int64_t n_in;              /* elements per row */
    const uint8_t *w;          /* weight row 0 (borrowed) */
    size_t w_stride;           /* bytes between weight rows */
    int64_t nr;                /* weight rows */
    const uint8_t *act;        /* activation row 0 */
    size_t act_stride;         /* bytes between activation rows */
    const int32_t *rows;       /* optional: activation row of output row i */
    int64_t n;                 /* activation rows used */
    float *out;                /* see above; may be written more than once (partial sums) */
    size_t out_stride;
    int64_t n_grouped;         /* activation rows 0..n_grouped-1 in MM_ORDER_GEMM4 order, */
    int order;                 /* the rest in this order (kernels that follow ggml's orders) */
} mm_gemm;

typedef void (*mm_gemm_fn)(const mm_gemm *g);

/* Converts n f32 values (a whole number of blocks) to an activation format. */
typedef void (*mm_quant_fn)(const float *x, void *dst, int64_t n);

typedef struct {
    mm_tile_fn tile;           /* NULL: no kernel for this weight type at this level */
    int max_rows, max_cols;    /* largest tile the kernel takes */
    const char *name;          /* level that provides it, e.g. "avx512-vnni" */
    mm_gemm_fn gemm;           /* optional, used instead of tile when n >= gemm_min_n */
    int64_t gemm_min_n;
} mm_kernel;

/* Everything one level provides. Levels are filled in order generic -> avx2 -> avx512, each
 * overwriting only the entries it implements, so a type without an AVX-512 kernel keeps its
 * AVX2 one. */
typedef struct {
    const char *name;                  /* the level, e.g. "avx2-vnni" */
    mm_kernel gemm[FN_DTYPE_COUNT];    /* by weight type */
    mm_quant_fn quant[FN_DTYPE_COUNT]; /* by activation type (FN_Q8_0, FN_Q8_K, FN_F32) */
} mm_kernel_set;

/* Fillers; the SIMD ones must only be called when the CPU has the instruction set (they
 * read `f` to choose VNNI or not). */
void mm_kernels_generic(mm_kernel_set *ks);
#if defined(__x86_64__) || defined(__i386__)
#define FENNEC_MM_X86 1
void mm_kernels_avx2(mm_kernel_set *ks, const fn_cpu_features *f);
void mm_kernels_avx512(mm_kernel_set *ks, const fn_cpu_features *f);
#endif

/* The kernel set of a named level: "generic", "avx2", "avx2-vnni", "avx512", "avx512-vnni"
 * (each capped by what this CPU has), or "auto"/NULL for the best level. NULL if the name is
 * unknown or the CPU lacks the level. Sets are built once and immutable afterwards. */
const mm_kernel_set *mm_kernels_for_level(const char *level);

/* mm_run / mm_quantize_act with an explicit kernel set (tests and benchmarks run every
 * level through these; the public functions use mm_kernels_for_level(NULL)). */
void mm_run_with(const mm_kernel_set *ks, fn_pool *pool, const mm_job *jobs, int n_jobs);
void mm_quantize_act_with(const mm_kernel_set *ks, fn_pool *pool, uint32_t act_type,
                          const float *x, size_t x_stride, int64_t n_in, int64_t n_rows,
                          void *dst);

#endif
