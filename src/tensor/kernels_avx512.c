/* kernels_avx512.c - AVX-512 (BW/VL, optional VNNI) matmul kernels. */
#include "tensor/kernels.h"

void mm_kernels_avx512(mm_kernel_set *ks, const fn_cpu_features *f) { (void)ks; (void)f; }
