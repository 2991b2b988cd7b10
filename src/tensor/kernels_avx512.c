/* kernels_avx512.c - AVX-512 (F/BW/VL/DQ, optional VNNI) matmul kernels and activation
 * quantizers. Compiled with AVX-512 flags; only called after fn_cpu() reports them.
 *
 * Integer kernels multiply unsigned weight codes by signed Q8 activations (VPDPBUSD, or
 * VPMADDUBSW+VPMADDWD without VNNI); signed weight values are made unsigned by an offset
 * whose contribution (offset * sum of activations) is subtracted once per block.
 * K-quant kernels take one weight row at a time against up to 8 activation rows: the row's
 * nibbles and scales are unpacked once per super-block and reused for every activation row.
 * 32-element block kernels take 2 weight rows x 4 activation rows, two blocks per register. */
#include "tensor/kernels_avx512.h"
#include "tensor/quant_ref.h"

/* ================================================================ activation quantizers === */

/* Same bytes as tensor_quantize_row_q8_0_act (finite inputs); cvtps rounds half to even. */
static void quant_q8_0(const float *x, void *vy, int64_t n) {
    block_q8_0 *y = vy;
    for (int64_t i = 0; i < n / QK8_0; i++, x += QK8_0) {
        const __m512 v0 = _mm512_loadu_ps(x), v1 = _mm512_loadu_ps(x + 16);
        const float amax = _mm512_reduce_max_ps(_mm512_max_ps(_mm512_abs_ps(v0), _mm512_abs_ps(v1)));
        const float d = amax / 127.f;
        const float id = amax != 0.0f ? 127.f / amax : 0.0f;
        y[i].d = _cvtss_sh(d, _MM_FROUND_TO_NEAREST_INT);
        const __m512 ids = _mm512_set1_ps(id);
        const __m512i q0 = _mm512_cvtps_epi32(_mm512_mul_ps(v0, ids));
        const __m512i q1 = _mm512_cvtps_epi32(_mm512_mul_ps(v1, ids));
        _mm_storeu_si128((void *)y[i].qs, _mm512_cvtsepi32_epi8(q0));
        _mm_storeu_si128((void *)(y[i].qs + 16), _mm512_cvtsepi32_epi8(q1));
    }
}

/* Same bytes as tensor_quantize_row_q8_K_ref. */
static void quant_q8_K(const float *x, void *vy, int64_t n) {
    block_q8_K *y = vy;
    for (int64_t i = 0; i < n / QK_K; i++, x += QK_K) {
        __m512 m = _mm512_setzero_ps();
        for (int k = 0; k < 16; k++) m = _mm512_max_ps(m, _mm512_abs_ps(_mm512_loadu_ps(x + 16 * k)));
        const float amax = _mm512_reduce_max_ps(m);
        if (!amax) {
            memset(&y[i], 0, sizeof y[i]);
            continue;
        }
        /* the reference keeps the sign of the first element of largest magnitude */
        const __m512 am = _mm512_set1_ps(amax);
        float max = amax;
        for (int k = 0; k < 16; k++) {
            const __mmask16 hit = _mm512_cmp_ps_mask(_mm512_abs_ps(_mm512_loadu_ps(x + 16 * k)), am,
                                                     _CMP_EQ_OQ);
            if (hit) {
                max = x[16 * k + __builtin_ctz(hit)];
                break;
            }
        }
        const float iscale = -127.f / max;
        const __m512 is = _mm512_set1_ps(iscale);
        const __m512i lim = _mm512_set1_epi32(127);
        for (int k = 0; k < 16; k++) {
            /* cvtps rounds to nearest even, as the reference's nearest_int */
            __m512i q = _mm512_cvtps_epi32(_mm512_mul_ps(is, _mm512_loadu_ps(x + 16 * k)));
            q = _mm512_min_epi32(q, lim);
            _mm_storeu_si128((void *)(y[i].qs + 16 * k), _mm512_cvtsepi32_epi8(q));
        }
        /* sums of 16: |sums of 8 (as u8 + 128)| via SAD, then pairs */
        const __m512i bias = _mm512_set1_epi8((char)0x80);
        __m512i s[4];
        for (int k = 0; k < 4; k++) {
            const __m512i q = _mm512_xor_si512(_mm512_loadu_si512(y[i].qs + 64 * k), bias);
            s[k] = _mm512_sad_epu8(q, _mm512_setzero_si512()); /* 8 qwords: sums of 8 */
        }
        /* per 128-bit lane of s[k]: group (4k + lane) = qword0 + qword1 */
        const __m512i t01 = _mm512_add_epi64(_mm512_unpacklo_epi64(s[0], s[1]),
                                             _mm512_unpackhi_epi64(s[0], s[1]));
        const __m512i t23 = _mm512_add_epi64(_mm512_unpacklo_epi64(s[2], s[3]),
                                             _mm512_unpackhi_epi64(s[2], s[3]));
        /* t01 qwords: [g0 g4 | g1 g5 | g2 g6 | g3 g7], t23 the same for g8..g15 */
        const __m128i w01 = _mm512_cvtepi64_epi16(t01), w23 = _mm512_cvtepi64_epi16(t23);
        const __m128i order = _mm_setr_epi8(0, 1, 4, 5, 8, 9, 12, 13, 2, 3, 6, 7, 10, 11, 14, 15);
        __m256i sums = _mm256_set_m128i(_mm_shuffle_epi8(w23, order), _mm_shuffle_epi8(w01, order));
        sums = _mm256_sub_epi16(sums, _mm256_set1_epi16(16 * 128));
        _mm256_storeu_si256((void *)y[i].bsums, sums);
        y[i].d = 1 / iscale;
    }
}

void mm_kernels_avx512(mm_kernel_set *ks, const fn_cpu_features *f) {
    const bool vnni = f->avx512_vnni;
    const char *level = vnni ? "avx512-vnni" : "avx512";
    mm_avx512_kquant_tiles(ks, level, vnni);
    if (vnni) { /* without VNNI the AVX2 kernels of the 32-element types are as good */
        mm_avx512_kquant_panels(ks);
        mm_avx512_block32(ks, level);
    }
    mm_avx512_float(ks, level);
    ks->quant[FN_Q8_0] = quant_q8_0;
    ks->quant[FN_Q8_K] = quant_q8_K;
}
