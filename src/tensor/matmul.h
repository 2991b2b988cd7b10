/* matmul.h - weight-matrix x activations products, the hot loop of inference.
 *
 * Weights stay in their GGUF block format (borrowed from the mmap); activations are
 * quantized once per input to the format the weight type's integer dot product wants
 * (Q8_0 for Q8_0/Q4_0/Q4_1/Q5_x/MXFP4, Q8_K for K-quants, F32 for F32/F16/BF16), then each
 * weight row is read once per call for all activation rows (tokens). Kernels are chosen at
 * start-up from the CPU's features (generic C, AVX2, AVX-512 / VNNI); every SIMD kernel is
 * tested against the generic one. Nothing here allocates: callers own all buffers. */
#ifndef FENNEC_TENSOR_MATMUL_H
#define FENNEC_TENSOR_MATMUL_H

#include <stddef.h>
#include <stdint.h>

#include "base/threadpool.h"

/* A weight matrix: n_out rows of n_in elements, row r at data + r * row_bytes. */
typedef struct {
    const void *data;    /* borrowed (mmap) */
    uint32_t type;       /* fn_dtype of the rows */
    int64_t n_in;        /* elements per row (a whole number of blocks) */
    int64_t n_out;       /* rows */
    size_t row_bytes;
} mm_weight;

/* Activation format a weight type multiplies with (FN_Q8_0, FN_Q8_K or FN_F32), or -1 if
 * the weight type has no kernel. */
int mm_act_type(uint32_t weight_type);

/* Bytes of one activation row of n_in elements in act_type. */
size_t mm_act_row_bytes(uint32_t act_type, int64_t n_in);

/* Quantized activations: n_rows rows of n_in elements. */
typedef struct {
    uint32_t act_type;
    const void *data;    /* borrowed: row i at data + i * row_bytes */
    size_t row_bytes;
    int64_t n_in;
    int64_t n_rows;
} mm_act;

/* Converts n_rows rows of f32 (row stride x_stride floats) into act_type at dst, split
 * across the pool's threads. dst must hold n_rows * mm_act_row_bytes(act_type, n_in). */
void mm_quantize_act(fn_pool *pool, uint32_t act_type, const float *x, size_t x_stride,
                     int64_t n_in, int64_t n_rows, void *dst);

/* One product: out[i * out_stride + r] = dot(w row r, activation row rows[i]) for every
 * r < w.n_out and i < n (rows == NULL means activation row i). */
typedef struct {
    mm_weight w;
    const mm_act *act;
    const int32_t *rows; /* optional subset of activation rows (MoE: tokens routed here) */
    int64_t n;           /* activation rows used */
    float *out;
    size_t out_stride;   /* floats between consecutive output rows */
    int expert;          /* 1: an expert matrix of a MoE layer (ggml's MUL_MAT_ID), 0: a
                          * plain product (MUL_MAT). Changes only the summation order, which
                          * follows llama.cpp's for each (see MM_ORDER_* in kernels.h) */
} mm_job;

/* Runs several independent products in one parallel dispatch (e.g. q, k and v; or the
 * gate and up matrices of every selected expert), splitting the total work across the
 * pool so no thread idles while another finishes a small matrix. */
void mm_run(fn_pool *pool, const mm_job *jobs, int n_jobs);

/* Single-threaded reference of mm_run's arithmetic (dequantize + f32 dot), for tests. */
void mm_run_reference(const mm_job *jobs, int n_jobs);

/* Name of the kernel set in use for a weight type ("avx512-vnni", "avx2", "generic"). */
const char *mm_kernel_name(uint32_t weight_type);

#endif
