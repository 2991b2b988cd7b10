/* kernels_avx2.c - AVX2 (+FMA, F16C; AVX-VNNI when present) matmul kernels and activation
 * quantizers. Compiled with those flags; only called after fn_cpu() reports AVX2.
 *
 * The same schemes as kernels_avx512.c on 256-bit registers (16 of them, so smaller tiles):
 * unsigned weight codes times signed Q8 activations, through VPDPBUSD with AVX-VNNI or
 * VPMADDUBSW + VPMADDWD without (codes <= 63 there, so the i16 pair sums cannot saturate;
 * signed weights use the abs/sign trick instead). */
#include "tensor/kernels_avx2.h"
#include "tensor/quant_ref.h"

/* ================================================================ activation quantizers === */

AI float hmax(__m256 v) {
    __m128 m = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    m = _mm_max_ps(m, _mm_movehl_ps(m, m));
    m = _mm_max_ss(m, _mm_movehdup_ps(m));
    return _mm_cvtss_f32(m);
}

AI __m256 abs_ps(__m256 v) { return _mm256_andnot_ps(_mm256_set1_ps(-0.0f), v); }

/* Four vectors of 8 int32 (each within int8 range) -> 32 bytes in order. */
AI __m256i pack_i32x32(__m256i a, __m256i b, __m256i c, __m256i d) {
    const __m256i ab = _mm256_packs_epi32(a, b), cd = _mm256_packs_epi32(c, d);
    const __m256i x = _mm256_packs_epi16(ab, cd);
    return _mm256_permutevar8x32_epi32(x, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
}

/* Same bytes as tensor_quantize_row_q8_0_act (finite inputs). */
static void quant_q8_0(const float *x, void *vy, int64_t n) {
    block_q8_0 *y = vy;
    for (int64_t i = 0; i < n / QK8_0; i++, x += QK8_0) {
        __m256 v[4];
        for (int k = 0; k < 4; k++) v[k] = _mm256_loadu_ps(x + 8 * k);
        const float amax = hmax(_mm256_max_ps(_mm256_max_ps(abs_ps(v[0]), abs_ps(v[1])),
                                              _mm256_max_ps(abs_ps(v[2]), abs_ps(v[3]))));
        const float d = amax / 127.f;
        const float id = amax != 0.0f ? 127.f / amax : 0.0f;
        y[i].d = _cvtss_sh(d, _MM_FROUND_TO_NEAREST_INT);
        const __m256 ids = _mm256_set1_ps(id);
        __m256i q[4]; /* cvtps rounds half to even, as ggml's x86 quantizer */
        for (int k = 0; k < 4; k++) q[k] = _mm256_cvtps_epi32(_mm256_mul_ps(v[k], ids));
        _mm256_storeu_si256((void *)y[i].qs, pack_i32x32(q[0], q[1], q[2], q[3]));
    }
}

static void quant_q8_K(const float *x, void *vy, int64_t n) {
    block_q8_K *y = vy;
    for (int64_t i = 0; i < n / QK_K; i++, x += QK_K) {
        __m256 m = _mm256_setzero_ps();
        for (int k = 0; k < 32; k++) m = _mm256_max_ps(m, abs_ps(_mm256_loadu_ps(x + 8 * k)));
        const float amax = hmax(m);
        if (!amax) {
            memset(&y[i], 0, sizeof y[i]);
            continue;
        }
        const __m256 am = _mm256_set1_ps(amax);
        float max = amax;
        for (int k = 0; k < 32; k++) {
            const int hit = _mm256_movemask_ps(_mm256_cmp_ps(abs_ps(_mm256_loadu_ps(x + 8 * k)), am, _CMP_EQ_OQ));
            if (hit) {
                max = x[8 * k + __builtin_ctz((unsigned)hit)];
                break;
            }
        }
        const float iscale = -127.f / max;
        const __m256 is = _mm256_set1_ps(iscale);
        const __m256i lim = _mm256_set1_epi32(127);
        for (int k = 0; k < 8; k++) {
            __m256i q[4];
            for (int j = 0; j < 4; j++)
                q[j] = _mm256_min_epi32(_mm256_cvtps_epi32(_mm256_mul_ps(is, _mm256_loadu_ps(x + 32 * k + 8 * j))), lim);
            _mm256_storeu_si256((void *)(y[i].qs + 32 * k), pack_i32x32(q[0], q[1], q[2], q[3]));
        }
        /* sums of 16: quads per register (maddubs+madd), then two rounds of hadd */
        const __m256i ones8 = _mm256_set1_epi8(1), ones16 = _mm256_set1_epi16(1);
        __m256i s[8];
        for (int k = 0; k < 8; k++)
            s[k] = _mm256_madd_epi16(_mm256_maddubs_epi16(ones8, _mm256_loadu_si256((const void *)(y[i].qs + 32 * k))), ones16);
        /* s[k] lanes: quads of group 2k (lane 0) and 2k+1 (lane 1) */
        const __m256i h0 = _mm256_hadd_epi32(_mm256_hadd_epi32(s[0], s[1]), _mm256_hadd_epi32(s[2], s[3]));
        const __m256i h1 = _mm256_hadd_epi32(_mm256_hadd_epi32(s[4], s[5]), _mm256_hadd_epi32(s[6], s[7]));
        /* h0: lane 0 = g0 g2 g4 g6, lane 1 = g1 g3 g5 g7; h1 the same for g8..g15 */
        const __m256i p = _mm256_packs_epi32(h0, h1); /* lane 0: g0 g2 .. g14, lane 1: g1 g3 .. g15 */
        const __m128i lo = _mm256_castsi256_si128(p), hi = _mm256_extracti128_si256(p, 1);
        _mm_storeu_si128((void *)y[i].bsums, _mm_unpacklo_epi16(lo, hi));
        _mm_storeu_si128((void *)(y[i].bsums + 8), _mm_unpackhi_epi16(lo, hi));
        y[i].d = 1 / iscale;
    }
}

void mm_kernels_avx2(mm_kernel_set *ks, const fn_cpu_features *f) {
    const bool vnni = f->avx_vnni;
    const char *level = vnni ? "avx2-vnni" : "avx2";
    mm_avx2_kquant_tiles(ks, level, vnni);
    if (vnni) mm_avx2_kquant_panels(ks);
    mm_avx2_block32(ks, level, vnni);
    mm_avx2_float(ks, level);
    ks->quant[FN_Q8_0] = quant_q8_0;
    ks->quant[FN_Q8_K] = quant_q8_K;
}
