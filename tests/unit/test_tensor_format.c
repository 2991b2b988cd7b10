/* test_tensor_format.c - element formats: f16/bf16 conversion, every block type's
 * dequantizer against hand-built blocks, quantizers against hand-derived bytes, round-trip
 * error bounds on random data, error paths, and (when the llama.cpp oracle library is
 * installed) byte-for-byte agreement with ggml's own _ref functions.
 *
 * Expected bytes and values here are derived by hand from the format definitions and the
 * ggml reference algorithms (derivations in the comments), never captured from this
 * implementation. Set FENNEC_TEST_VERBOSE=1 to print the measured round-trip errors. */
#include "tensor/tensor_format.h"

#include "base/dtype.h"
#include "base/error.h"
#include "base/rng.h"
#include "tensor/blocks.h"
#include "tensor/quant_ref.h"

#include <dlfcn.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

/* ---- helpers --------------------------------------------------------------------------- */

static uint32_t f32_bits(float f) {
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u;
}

static float f32_from(uint32_t u) {
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

static bool verbose(void) {
    const char *v = getenv("FENNEC_TEST_VERBOSE");
    return v && *v && strcmp(v, "0") != 0;
}

/* Compares n bytes, reporting the first difference with its offset. */
static void check_bytes(const char *what, const void *got, const uint8_t *want, size_t n) {
    const uint8_t *g = got;
    for (size_t i = 0; i < n; i++) {
        if (g[i] != want[i]) {
            print_error("%s: byte %zu is 0x%02x, want 0x%02x\n", what, i, g[i], want[i]);
            fail();
        }
    }
}

/* Spot checks: pairs of (offset, byte). */
typedef struct {
    uint16_t off;
    uint8_t val;
} byte_at;

static void check_bytes_at(const char *what, const void *got, const byte_at *want, size_t n) {
    const uint8_t *g = got;
    for (size_t i = 0; i < n; i++) {
        if (g[want[i].off] != want[i].val) {
            print_error("%s: byte %u is 0x%02x, want 0x%02x\n", what, want[i].off,
                        g[want[i].off], want[i].val);
            fail();
        }
    }
}

/* Spot checks of dequantized values, compared exactly (all are exact in f32). */
typedef struct {
    uint16_t idx;
    float val;
} value_at;

static void check_values_at(const char *what, const float *got, const value_at *want,
                            size_t n) {
    for (size_t i = 0; i < n; i++) {
        if (got[want[i].idx] != want[i].val) {
            print_error("%s: element %u is %.9g, want %.9g\n", what, want[i].idx,
                        (double)got[want[i].idx], (double)want[i].val);
            fail();
        }
    }
}

/* ---- f16 / bf16 ------------------------------------------------------------------------- */

static void test_f16_known_values(void **state) {
    (void)state;
    static const struct { uint16_t h; uint32_t f; } pairs[] = {
        {0x0000, 0x00000000}, /* +0 */
        {0x8000, 0x80000000}, /* -0 */
        {0x3c00, 0x3f800000}, /* 1 */
        {0xc000, 0xc0000000}, /* -2 */
        {0x3555, 0x3eaaa000}, /* 0.333251953125 */
        {0x7bff, 0x477fe000}, /* 65504, the largest finite */
        {0x0400, 0x38800000}, /* 2^-14, the smallest normal */
        {0x0001, 0x33800000}, /* 2^-24, the smallest subnormal */
        {0x03ff, 0x387fc000}, /* 1023 * 2^-24, the largest subnormal */
        {0x8001, 0xb3800000}, /* -2^-24 */
        {0x7c00, 0x7f800000}, /* +inf */
        {0xfc00, 0xff800000}, /* -inf */
    };
    for (size_t i = 0; i < FN_ARRAY_LEN(pairs); i++) {
        assert_int_equal(f32_bits(fn_f16_to_f32(pairs[i].h)), pairs[i].f);
        assert_int_equal(fn_f32_to_f16(f32_from(pairs[i].f)), pairs[i].h);
    }
    /* nan in both directions, as ggml: an f16 nan keeps its payload in f32 and becomes
     * quiet (0x7c01 -> 0x7f800000 | 0x400000 | 1 << 13); an f32 nan becomes the quiet f16 nan
     * 0x7e00 with its sign, payload dropped */
    assert_int_equal(f32_bits(fn_f16_to_f32(0x7e00)), 0x7fc00000u);
    assert_int_equal(f32_bits(fn_f16_to_f32(0x7c01)), 0x7fc02000u);
    assert_int_equal(f32_bits(fn_f16_to_f32(0xfd55)), 0xffeaa000u);
    assert_int_equal(fn_f32_to_f16(f32_from(0x7fc00000u)), 0x7e00);
    assert_int_equal(fn_f32_to_f16(f32_from(0xff800001u)), 0xfe00);
}

static void test_f16_rounding(void **state) {
    (void)state;
    /* f16 has 10 mantissa bits: in [1, 2) the spacing is 2^-10. */
    static const struct { float f; uint16_t h; } cases[] = {
        {1.0f + 0x1p-11f, 0x3c00},          /* tie between 1 and 1+2^-10: to even (1) */
        {1.0f + 3 * 0x1p-11f, 0x3c02},      /* tie between 0x3c01 and 0x3c02: to even */
        {1.0f + 0x1p-11f + 0x1p-20f, 0x3c01}, /* just above the tie: up */
        {65519.0f, 0x7bff},                 /* below the 65520 midpoint: 65504 */
        {65520.0f, 0x7c00},                 /* the midpoint rounds to even = inf */
        {1e9f, 0x7c00},                     /* overflow */
        {-1e9f, 0xfc00},
        {0x1p-25f, 0x0000},                 /* half the smallest subnormal: tie to 0 */
        {0x1p-25f * 1.0000001f, 0x0001},    /* just above: up */
        {3 * 0x1p-25f, 0x0002},             /* 1.5 * 2^-24: tie between 1 and 2: to 2 */
        {5 * 0x1p-25f, 0x0002},             /* 2.5 * 2^-24: tie between 2 and 3: to 2 */
        {0x1p-14f - 0x1p-25f, 0x0400},      /* top subnormal tie rounds up to 2^-14 */
        {1e-10f, 0x0000},
        {-1e-10f, 0x8000},                  /* sign survives underflow */
        {0x1p-30f, 0x0000},
    };
    for (size_t i = 0; i < FN_ARRAY_LEN(cases); i++) {
        if (fn_f32_to_f16(cases[i].f) != cases[i].h) {
            print_error("case %zu: %a -> 0x%04x, want 0x%04x\n", i, (double)cases[i].f,
                        fn_f32_to_f16(cases[i].f), cases[i].h);
            fail();
        }
    }
}

/* Every f16 survives f16 -> f32 -> f16; conversion is monotonic; and for random f32 the
 * result is the nearest f16 (ties to even), checked against the two neighbours. */
static void test_f16_exhaustive(void **state) {
    (void)state;
    for (uint32_t h = 0; h < 65536; h++) {
        const float f = fn_f16_to_f32((uint16_t)h);
        if ((h & 0x7c00) == 0x7c00 && (h & 0x3ff)) {
            assert_true(isnan(f));
            continue;
        }
        assert_int_equal(fn_f32_to_f16(f), h);
        if (h < 0x7c00 && h > 0) assert_true(fn_f16_to_f32((uint16_t)(h - 1)) < f);
    }
    fn_rng rng;
    fn_rng_seed(&rng, 1234);
    for (int i = 0; i < 200000; i++) {
        /* magnitudes across the whole f16 range, including subnormals and overflow */
        const int e2 = (int)(fn_rng_next(&rng) % 44) - 28;
        const float f = (float)((fn_rng_uniform(&rng) * 2 - 1) * ldexp(1.0, e2));
        const uint16_t h = fn_f32_to_f16(f);
        const uint16_t mag = h & 0x7fff;
        if (mag == 0x7c00) { /* inf: only if |f| >= 65520 */
            assert_true(fabsf(f) >= 65520.0f);
            continue;
        }
        const double err = fabs((double)fn_f16_to_f32(h) - f);
        const uint16_t sign = h & 0x8000;
        if (mag < 0x7bff) {
            const double up = fabs((double)fn_f16_to_f32(sign | (mag + 1)) - f);
            assert_true(err < up || (err == up && (mag & 1) == 0));
        }
        if (mag > 0) {
            const double down = fabs((double)fn_f16_to_f32(sign | (mag - 1)) - f);
            assert_true(err < down || (err == down && (mag & 1) == 0));
        }
    }
}

static void test_bf16(void **state) {
    (void)state;
    static const struct { uint32_t f; uint16_t b; } cases[] = {
        {0x3f800000, 0x3f80},  /* 1 */
        {0x80000000, 0x8000},  /* -0 */
        {0x3f808000, 0x3f80},  /* 1 + 2^-8: tie, to even (down) */
        {0x3f818000, 0x3f82},  /* 1 + 3*2^-8: tie, to even (up) */
        {0x3f808001, 0x3f81},  /* just above the tie */
        {0x7f7fffff, 0x7f80},  /* FLT_MAX rounds to inf */
        {0x7f800000, 0x7f80},  /* inf */
        {0xff800000, 0xff80},  /* -inf */
        {0x00000001, 0x0000},  /* smallest subnormal rounds to 0 */
        {0x00018000, 0x0002},  /* subnormal tie rounds to even (kept, not flushed) */
        {0x00010000, 0x0001},  /* subnormals are representable: not flushed */
        {0x7fc00001, 0x7fc0},  /* quiet nan: top bits kept */
        {0x7f800001, 0x7fc0},  /* signalling nan: forced quiet (| 0x40) */
        {0xff812345, 0xffc1},  /* negative nan with payload: >> 16, then | 0x40 */
    };
    for (size_t i = 0; i < FN_ARRAY_LEN(cases); i++) {
        if (fn_f32_to_bf16(f32_from(cases[i].f)) != cases[i].b) {
            print_error("case %zu: 0x%08x -> 0x%04x, want 0x%04x\n", i, cases[i].f,
                        fn_f32_to_bf16(f32_from(cases[i].f)), cases[i].b);
            fail();
        }
    }
    for (uint32_t b = 0; b < 65536; b++) { /* bf16 -> f32 is exact: the top 16 bits */
        assert_int_equal(f32_bits(fn_bf16_to_f32((uint16_t)b)), b << 16);
        if ((b & 0x7f80) != 0x7f80 || !(b & 0x7f)) /* non-nan round trips */
            assert_int_equal(fn_f32_to_bf16(fn_bf16_to_f32((uint16_t)b)), b);
    }
}

/* ---- quantizers: hand-derived bytes ----------------------------------------------------- */

/* Q8_0, three blocks:
 * A: x_j = j. amax = 31, d = 31/127 = 0.2440945 -> f16: 0.244 = 1.95276 * 2^-3, mantissa
 *    0.95276 * 1024 = 975.6 -> 976 = 0x3d0, exponent 15-3 = 12 -> 0x3000 | 0x3d0 = 0x33d0.
 *    q_j = roundf(j * 127/31) = roundf(4.0968 j): 0 4 8 12 16 20 25 29 33 37 41 45 49 53 57 61
 *    66 70 74 78 82 86 90 94 98 102 107 111 115 119 123 127 (no product lies near .5).
 * B: amax 127 makes d = 1 (0x3c00) and q = roundf(x): roundf rounds halves AWAY from zero,
 *    so 0.5 -> 1, -0.5 -> -1, 1.5 -> 2, 2.5 -> 3, -2.5 -> -3; 126.49 -> 126, 3.4999 -> 3,
 *    -0.4 -> 0. (Round-half-even would give 0, 0, 2, 2, -2: this block catches it.)
 * C: one nonzero x_5 = -3: d = 3/127 = 0.023622 = 1.51181 * 2^-6 -> mantissa 524.09 -> 524
 *    = 0x20c, exponent 9 -> 0x260c; q_5 = roundf(-3 * 127/3) = -127 = 0x81, the rest 0. */
static void test_q8_0_bytes(void **state) {
    (void)state;
    float x[96] = {0};
    for (int j = 0; j < 32; j++) x[j] = (float)j;
    const float b[] = {-127, 0.5f, -0.5f, 1.5f, 2.5f, -2.5f, 126.49f, 3.4999f, -0.4f};
    memcpy(x + 32, b, sizeof b);
    x[64 + 5] = -3;
    block_q8_0 y[3];
    memset(y, 0xee, sizeof y);
    assert_int_equal(tensor_quantize(FN_Q8_0, x, y, 96), 0);
    static const uint8_t want_a[34] = {
        0xd0, 0x33, 0, 4, 8, 12, 16, 20, 25, 29, 33, 37, 41, 45, 49, 53, 57, 61,
        66, 70, 74, 78, 82, 86, 90, 94, 98, 102, 107, 111, 115, 119, 123, 127};
    static const uint8_t want_b[34] = {
        0x00, 0x3c, 0x81, 0x01, 0xff, 0x02, 0x03, 0xfd, 0x7e, 0x03, 0x00};
    uint8_t want_c[34] = {0x0c, 0x26};
    want_c[2 + 5] = 0x81;
    check_bytes("q8_0 block A", &y[0], want_a, 34);
    check_bytes("q8_0 block B", &y[1], want_b, 34);
    check_bytes("q8_0 block C", &y[2], want_c, 34);
}

/* Q8_1 of x_j = j: d and qs as Q8_0 block A; s = f16(sum(q) * d) where sum(q) = 2032 =
 * 16 * 127, so s = 16 * 31 = 496 = 1.9375 * 2^8 -> 0x5c00 | 0x3c0 = 0x5fc0. */
static void test_q8_1_bytes(void **state) {
    (void)state;
    float x[32];
    for (int j = 0; j < 32; j++) x[j] = (float)j;
    block_q8_1 y;
    assert_int_equal(tensor_quantize(FN_Q8_1, x, &y, 32), 0);
    static const uint8_t want[36] = {
        0xd0, 0x33, 0xc0, 0x5f, 0, 4, 8, 12, 16, 20, 25, 29, 33, 37, 41, 45, 49, 53, 57, 61,
        66, 70, 74, 78, 82, 86, 90, 94, 98, 102, 107, 111, 115, 119, 123, 127};
    check_bytes("q8_1", &y, want, 36);
}

/* Q4_0 (qs[j] = q_j | q_{j+16} << 4, q = min(15, trunc(x/d + 8.5)), d = max / -8 where max
 * is the value of largest magnitude WITH its sign):
 * A: x_j = j: max = 31, d = -3.875 = -1.9375 * 2 -> 0x8000 | 0x4000 | 0x3c0 = 0xc3c0.
 *    q_j = floor(8.5 - 8j/31): 8 8 7 7 7 7 6 6 6 6 5 5 5 5 4 4 | 4 4 3 3 3 3 2 2 2 2 1 1 1 1
 *    0 0 (8j/31 + .5 never lands on an integer), so qs = 48 48 37 37 37 37 26 26 26 26 15 15
 *    15 15 04 04 (hex).
 * B: negative max: x_3 = 2, x_20 = -4, rest 0. max = -4, d = 0.5 (0x3800), 1/d = 2:
 *    q_3 = trunc(4 + 8.5) = 12, q_20 = trunc(-8 + 8.5) = 0, zeros -> 8. qs[3] = 12 | 8<<4
 *    = 0x8c, qs[4] = 8 | 0<<4 = 0x08, every other byte 0x88.
 * C: positive max: x_0 = 4: d = -0.5 (0xb800), q_0 = trunc(-8 + 8.5) = 0 -> qs[0] = 0x80. */
static void test_q4_0_bytes(void **state) {
    (void)state;
    float x[96] = {0};
    for (int j = 0; j < 32; j++) x[j] = (float)j;
    x[32 + 3] = 2;
    x[32 + 20] = -4;
    x[64] = 4;
    block_q4_0 y[3];
    assert_int_equal(tensor_quantize(FN_Q4_0, x, y, 96), 0);
    static const uint8_t want_a[18] = {0xc0, 0xc3, 0x48, 0x48, 0x37, 0x37, 0x37, 0x37, 0x26,
                                       0x26, 0x26, 0x26, 0x15, 0x15, 0x15, 0x15, 0x04, 0x04};
    uint8_t want_b[18] = {0x00, 0x38}, want_c[18] = {0x00, 0xb8};
    memset(want_b + 2, 0x88, 16);
    want_b[2 + 3] = 0x8c;
    want_b[2 + 4] = 0x08;
    memset(want_c + 2, 0x88, 16);
    want_c[2] = 0x80;
    check_bytes("q4_0 block A", &y[0], want_a, 18);
    check_bytes("q4_0 block B", &y[1], want_b, 18);
    check_bytes("q4_0 block C", &y[2], want_c, 18);
}

/* Q4_1 (q = min(15, trunc((x - min)/d + 0.5)), d = (max - min)/15, m = min):
 * A: x_j = j: d = 31/15 = 2.06667 = 1.0333 * 2 -> mantissa 34.13 -> 34 = 0x22 -> 0x4022;
 *    m = 0. q_j = floor(15j/31 + 0.5) = 0 0 1 1 2 2 ... 7 7 | 8 8 ... 15 15, so
 *    qs[j] = q_j | q_{j+16}<<4 = 80 80 91 91 a2 a2 b3 b3 c4 c4 d5 d5 e6 e6 f7 f7.
 * B: x_j = 0.5 j - 4: min -4 (0xc400), max 11.5, d = 15.5/15 = 1.0333 -> 0x3c22;
 *    (x - min)/d = 0.5j * 15/15.5 = 0.48387 j: the same q as A. */
static void test_q4_1_bytes(void **state) {
    (void)state;
    float x[64];
    for (int j = 0; j < 32; j++) {
        x[j] = (float)j;
        x[32 + j] = 0.5f * (float)j - 4;
    }
    block_q4_1 y[2];
    assert_int_equal(tensor_quantize(FN_Q4_1, x, y, 64), 0);
    static const uint8_t qs[16] = {0x80, 0x80, 0x91, 0x91, 0xa2, 0xa2, 0xb3, 0xb3,
                                   0xc4, 0xc4, 0xd5, 0xd5, 0xe6, 0xe6, 0xf7, 0xf7};
    uint8_t want_a[20] = {0x22, 0x40, 0x00, 0x00}, want_b[20] = {0x22, 0x3c, 0x00, 0xc4};
    memcpy(want_a + 4, qs, 16);
    memcpy(want_b + 4, qs, 16);
    check_bytes("q4_1 block A", &y[0], want_a, 20);
    check_bytes("q4_1 block B", &y[1], want_b, 20);
}

/* Q5_0 (q = min(31, trunc(x/d + 16.5)), d = max / -16):
 * A: x_j = j: d = -31/16 = -1.9375 -> 0xbfc0. q_j = floor(16.5 - 16j/31) = 16 15 15 14 14
 *    13 13 12 12 11 11 10 10 9 9 8 | 8 7 7 6 6 5 5 4 4 3 3 2 2 1 1 0. Only q_0 = 16 has the
 *    5th bit: qh = 01 00 00 00. qs[j] = (q_j & 15) | (q_{j+16} & 15) << 4 = 80 7f 7f 6e 6e 5d
 *    5d 4c 4c 3b 3b 2a 2a 19 19 08.
 * B: x_j = j - 16: max = -16 (j = 0) -> d = 1 (0x3c00), q_j = trunc(j + 0.5) = j: the 5th
 *    bit is set for j = 16..31 exactly, qh = 00 00 ff ff, and qs[j] = j | j << 4. */
static void test_q5_0_bytes(void **state) {
    (void)state;
    float x[64];
    for (int j = 0; j < 32; j++) {
        x[j] = (float)j;
        x[32 + j] = (float)j - 16;
    }
    block_q5_0 y[2];
    assert_int_equal(tensor_quantize(FN_Q5_0, x, y, 64), 0);
    static const uint8_t want_a[22] = {0xc0, 0xbf, 0x01, 0x00, 0x00, 0x00, 0x80, 0x7f,
                                       0x7f, 0x6e, 0x6e, 0x5d, 0x5d, 0x4c, 0x4c, 0x3b,
                                       0x3b, 0x2a, 0x2a, 0x19, 0x19, 0x08};
    uint8_t want_b[22] = {0x00, 0x3c, 0x00, 0x00, 0xff, 0xff};
    for (int j = 0; j < 16; j++) want_b[6 + j] = (uint8_t)(j * 0x11);
    check_bytes("q5_0 block A", &y[0], want_a, 22);
    check_bytes("q5_0 block B", &y[1], want_b, 22);
}

/* Q5_1 of x_j = 0.5 j - 4: min -4 -> m = 0xc400; d = 15.5/31 = 0.5 -> 0x3800; q_j =
 * trunc(j + 0.5) = j. qs[j] = (j & 15) | ((j+16) & 15) << 4 = 00 11 22 .. ff; the 5th bit is
 * set exactly for elements 16..31: qh = 00 00 ff ff. */
static void test_q5_1_bytes(void **state) {
    (void)state;
    float x[32];
    for (int j = 0; j < 32; j++) x[j] = 0.5f * (float)j - 4;
    block_q5_1 y;
    assert_int_equal(tensor_quantize(FN_Q5_1, x, &y, 32), 0);
    uint8_t want[24] = {0x00, 0x38, 0x00, 0xc4, 0x00, 0x00, 0xff, 0xff};
    for (int j = 0; j < 16; j++) want[8 + j] = (uint8_t)(j * 0x11);
    check_bytes("q5_1", &y, want, 24);
}

/* MXFP4 (e = floor(log2(amax)) - 2 + 127; codes index {0,.5,1,1.5,2,3,4,6, -0,-.5,...,-6}
 * times 2^(e-127); the nearest code wins and ties keep the LOWER code index):
 * A: amax = 7 -> log2 = 2.8 -> e = 127 (0x7f), unit 1. x_0..15 = the 16 code values
 *    (x_8 = 0 gives code 0, not 8: code 0 is found first). x_16..31 and their codes:
 *    5 (tie 4|6 -> 6), -0.25 (tie 0|-0.5 -> 0), 0.25 (tie 0|0.5 -> 0), 0.75 (tie .5|1 -> 1),
 *    2.5 (tie 2|3 -> 4), -5 (tie -4|-6 -> 14), 7 (-> 6.0, code 7), 5.9 (-> 7),
 *    0.3 (-> .5, code 1), -1.2 (-> -1, code 10), -1.3 (-> -1.5, code 11), 3.5 (tie 3|4 ->
 *    5), -3.5 (tie -3|-4 -> 13), 1.25 (tie 1|1.5 -> 2), -0.75 (tie -.5|-1 -> 9), 4.9 (-> 6).
 *    qs[j] = code_j | code_{j+16} << 4.
 * B: all zero: amax = 0 -> e = 0 and every code 0.
 * C: x_0 = 1, x_31 = -0.1875: amax 1 -> e = 125 (0x7d), unit 0.25, values 0.125 * kvalues:
 *    1 = 8 * .125 -> code 6; -0.1875 is a tie between -1 and -2 (* .125) -> code 9. */
static void test_mxfp4_bytes(void **state) {
    (void)state;
    float x[96] = {0};
    static const float a[32] = {0, .5f, 1, 1.5f, 2, 3, 4, 6, 0, -.5f, -1, -1.5f, -2, -3, -4, -6,
                                5, -.25f, .25f, .75f, 2.5f, -5, 7, 5.9f, .3f, -1.2f, -1.3f, 3.5f,
                                -3.5f, 1.25f, -.75f, 4.9f};
    memcpy(x, a, sizeof a);
    x[64] = 1;
    x[95] = -0.1875f;
    block_mxfp4 y[3];
    assert_int_equal(tensor_quantize(FN_MXFP4, x, y, 96), 0);
    static const uint8_t codes_hi[16] = {6, 0, 0, 1, 4, 14, 7, 7, 1, 10, 11, 5, 13, 2, 9, 6};
    uint8_t want_a[17] = {0x7f}, want_b[17] = {0}, want_c[17] = {0x7d};
    for (int j = 0; j < 16; j++) want_a[1 + j] = (uint8_t)((j == 8 ? 0 : j) | codes_hi[j] << 4);
    want_c[1] = 6;
    want_c[16] = 9 << 4;
    check_bytes("mxfp4 block A", &y[0], want_a, 17);
    check_bytes("mxfp4 block B", &y[1], want_b, 17);
    check_bytes("mxfp4 block C", &y[2], want_c, 17);
}

/* Q8_K (d = 1/iscale in f32 with iscale = -127/max, max signed; q = nearest_int: HALF TO
 * EVEN, unlike Q8_0; bsums = sums of 16 quants):
 * A: max = -127 -> iscale = 1, d = 1.0f (00 00 80 3f). x = -127, 2.5, 3.5, -2.5, 0.5, 1.5,
 *    -0.5, 126.5 -> q = -127, 2, 4, -2, 0, 2, 0, 126 (bsums[0] = 5); x_16 = 100.25 -> 100,
 *    x_17 = -99.75 -> -100 (bsums[1] = 0); x_255 = 7 (bsums[15] = 7).
 * B: max = +127 -> iscale = -1, d = -1.0f (00 00 80 bf), q = -x: 127 -> -127, 2.5 -> -2,
 *    -3.5 -> 4, 10 -> -10; bsums[0] = -135 = 0xff79.
 * C: all zero -> every byte 0 (d = 0, and here also bsums). */
static void test_q8_K_bytes(void **state) {
    (void)state;
    float *x = calloc(3 * QK_K, sizeof *x);
    assert_non_null(x);
    const float a[] = {-127, 2.5f, 3.5f, -2.5f, 0.5f, 1.5f, -0.5f, 126.5f};
    memcpy(x, a, sizeof a);
    x[16] = 100.25f;
    x[17] = -99.75f;
    x[255] = 7;
    const float b[] = {127, 2.5f, -3.5f, 10};
    memcpy(x + QK_K, b, sizeof b);
    block_q8_K *y = malloc(3 * sizeof *y);
    assert_non_null(y);
    memset(y, 0xee, 3 * sizeof *y);
    assert_int_equal(tensor_quantize(FN_Q8_K, x, y, 3 * QK_K), 0);
    const uint8_t *p = (const uint8_t *)&y[0];
    static const byte_at want_a[] = {
        {0, 0x00}, {1, 0x00}, {2, 0x80}, {3, 0x3f},                         /* d = 1.0f */
        {4, 0x81}, {5, 2}, {6, 4}, {7, 0xfe}, {8, 0}, {9, 2}, {10, 0}, {11, 126}, {12, 0},
        {20, 100}, {21, 0x9c}, {259, 7},                                      /* qs */
        {260, 5}, {261, 0}, {262, 0}, {263, 0}, {290, 7}, {291, 0}};          /* bsums */
    check_bytes_at("q8_K block A", p, want_a, FN_ARRAY_LEN(want_a));
    for (int j = 13; j < 256; j++)
        if (j != 16 && j != 17 && j != 255) assert_int_equal(y[0].qs[j], 0);
    static const byte_at want_b[] = {
        {0, 0x00}, {1, 0x00}, {2, 0x80}, {3, 0xbf}, {4, 0x81}, {5, 0xfe}, {6, 4},
        {7, 0xf6}, {8, 0}, {260, 0x79}, {261, 0xff}, {262, 0}, {263, 0}};
    check_bytes_at("q8_K block B", &y[1], want_b, FN_ARRAY_LEN(want_b));
    static const uint8_t zero[sizeof(block_q8_K)] = {0};
    check_bytes("q8_K block C", &y[2], zero, sizeof zero);
    free(x);
    free(y);
}

/* Q4_K and Q5_K share the scale search and the 12-byte scale/min packing.
 * Input: sub-block j (32 elements) holds x = s_j * L - mn_j with
 *   s  = 1, .5, .25, .125, 1, 2, 4, 8     mn = 0, 1, 2, 4, 8, .5, 16, 3
 * and levels L covering 0..nmax. Every value is exact in f32, the fit over [-mn, nmax*s - mn]
 * is exact (iscale = 1/s, zero error), so no candidate of the search can beat it: the
 * sub-block scale is s_j and its min mn_j.
 * Super-block: max scale 8, max min 16, so
 *   ls = nearest(63/8 * s)  = 8, 4, 2, 1, 8, 16, 32 (31.5 rounds to even), 63
 *   lm = nearest(63/16 * mn) = 0, 4, 8, 16, 32 (31.5), 2, 63, 12 (11.8)
 *   d = f16(8/63 = 0.126984) = 1.0159 * 2^-3 -> mantissa 16.25 -> 0x3010 (0.126953125)
 *   dmin = f16(16/63) = 0x3410 (0.25390625)
 * Packing (j < 4: scales[j] = ls, scales[j+4] = lm; j >= 4: scales[j+4] = ls&15 | (lm&15)<<4,
 * top two bits of ls into bits 6-7 of scales[j-4], of lm into bits 6-7 of scales[j]):
 *   [0] 8 | (8>>4)<<6 = 08     [1] 4 | (16>>4)<<6 = 44    [2] 2 | (32>>4)<<6 = 82
 *   [3] 1 | (63>>4)<<6 = c1    [4] 0 | (32>>4)<<6 = 80    [5] 4 | (2>>4)<<6 = 04
 *   [6] 8 | (63>>4)<<6 = c8    [7] 16 | (12>>4)<<6 = 10   [8] 8 | 0<<4 = 08
 *   [9] 0 | 2<<4 = 20          [10] 0 | 15<<4 = f0        [11] 15 | 12<<4 = cf
 * Requantizing with the stored d*ls and dmin*lm moves each level by less than 0.5
 * ((x + dmin*lm)/(d*ls) = 0.985 L + small offset), so the quants stay L. */
static const float kq_s[8] = {1, .5f, .25f, .125f, 1, 2, 4, 8};
static const float kq_mn[8] = {0, 1, 2, 4, 8, .5f, 16, 3};
static const uint8_t kq_scales[12] = {0x08, 0x44, 0x82, 0xc1, 0x80, 0x04,
                                      0xc8, 0x10, 0x08, 0x20, 0xf0, 0xcf};

/* Q4_K levels: L_j(l) = (l/2 + 3j) mod 16, reversed (15 - that) for odd j, so each
 * sub-block has every level 0..15 twice. qs byte l of 64-element group g = L_{2g}(l) |
 * L_{2g+1}(l) << 4. E.g. qs[0] = 0 | (15-3)<<4 = c0; qs[17] = 8 | (15-11)<<4 = 48;
 * qs[31] = 15 | (15-2)<<4 = df; qs[32] = 6 | (15-9)<<4 = 66; qs[63] = (15+6)%16=5 |
 * (15-(15+9)%16=7)<<4 = 75; qs[64] = 12 | (15-15)<<4 = 0c; qs[127] = (15+18)%16=1 |
 * (15-(15+21)%16=11)<<4 = b1. */
static int q4k_level(int j, int l) {
    const int v = ((l >> 1) + 3 * j) & 15;
    return j % 2 ? 15 - v : v;
}

static void test_q4_K_bytes(void **state) {
    (void)state;
    float x[QK_K];
    for (int j = 0; j < 8; j++)
        for (int l = 0; l < 32; l++) x[32 * j + l] = kq_s[j] * (float)q4k_level(j, l) - kq_mn[j];
    block_q4_K y;
    assert_int_equal(tensor_quantize(FN_Q4_K, x, &y, QK_K), 0);
    static const byte_at want[] = {
        {0, 0x10}, {1, 0x30}, {2, 0x10}, {3, 0x34},
        {16 + 0, 0xc0}, {16 + 1, 0xc0}, {16 + 17, 0x48}, {16 + 31, 0xdf}, {16 + 32, 0x66},
        {16 + 33, 0x66}, {16 + 63, 0x75}, {16 + 64, 0x0c}, {16 + 95, 0x1b},
        {16 + 96, 0xa2}, {16 + 127, 0xb1}};
    check_bytes_at("q4_K", &y, want, FN_ARRAY_LEN(want));
    check_bytes("q4_K scales", y.scales, kq_scales, 12);
}

/* Q5_K levels: L_j(l) = (l + 5j) mod 32, reversed (31 - that) for odd j. Low nibbles as
 * Q4_K; the 5th bits of elements l and l+32 of group g go to bits 2g and 2g+1 of qh[l].
 * qh[0]: group 0: L=0 (bit0 0), 31-5=26 (bit1 1); group 1: 10 (0), 31-15=16 (bit3 1);
 * group 2: 20 (bit4 1), 31-25=6 (0); group 3: 30 (bit6 1), 31-3=28 (bit7 1) -> 0xda.
 * qh[31]: group 0: 31 (1), 31-4=27 (1); 1: 9 (0), 31-14=17 (1); 2: 19 (1), 31-24=7 (0);
 * 3: 29 (1), 31-2=29 (1) -> 1+2+8+16+64+128 = 0xdb.
 * qs[0] = 0 | (26&15=10)<<4 = a0; qs[1] = 1 | (25&15=9)<<4 = 91; qs[32] = 10 | 16&15=0 = 0a;
 * qs[64] = 20&15=4 | (6)<<4 = 64; qs[127] = 29&15=13 | (29&15)<<4 = dd. */
static int q5k_level(int j, int l) {
    const int v = (l + 5 * j) & 31;
    return j % 2 ? 31 - v : v;
}

static void test_q5_K_bytes(void **state) {
    (void)state;
    float x[QK_K];
    for (int j = 0; j < 8; j++)
        for (int l = 0; l < 32; l++) x[32 * j + l] = kq_s[j] * (float)q5k_level(j, l) - kq_mn[j];
    block_q5_K y;
    assert_int_equal(tensor_quantize(FN_Q5_K, x, &y, QK_K), 0);
    static const byte_at want[] = {
        {0, 0x10}, {1, 0x30}, {2, 0x10}, {3, 0x34},
        {16 + 0, 0xda}, {16 + 31, 0xdb},
        {48 + 0, 0xa0}, {48 + 1, 0x91}, {48 + 32, 0x0a}, {48 + 64, 0x64}, {48 + 127, 0xdd}};
    check_bytes_at("q5_K", &y, want, FN_ARRAY_LEN(want));
    check_bytes("q5_K scales", y.scales, kq_scales, 12);
}

/* Q6_K: sub-block ib (16 elements) holds x = s_ib * l with s_ib = 2^-(ib%4) and integer l in
 * -32..31, l_0 = -32 and l_i = (7i + 5ib) mod 63 - 31. The value of largest magnitude is
 * -32 s, so make_qx_quants starts from iscale = -32/max = 1/s: an exact fit (every weighted
 * sum is an exact integer times a power of two), which no other trial scale can beat; the
 * sub-block scale is s. Super-block: max scale 1 -> iscale = -128, d = f16(-1/128) = 0xa000,
 * scales = nearest(-128 s) = -128, -64, -32, -16 repeating (80 c0 e0 f0). Requantizing with
 * d*sc = s gives back L = l + 32.
 * Packing per 128: ql[l] = L[l]&15 | (L[l+64]&15)<<4, ql[l+32] = L[l+32]&15 | (L[l+96]&15)<<4,
 * qh[l] = L[l]>>4 | L[l+32]>>4 << 2 | L[l+64]>>4 << 4 | L[l+96]>>4 << 6.
 * Element 1: l = 7-31 = -24 -> L 8; element 65 (ib 4, i 1): l = 27-31 = -4 -> L 28:
 * ql[1] = 8 | 12<<4 = c8. Element 0, 32, 64, 96 are l = -32 (L 0): ql[0] = qh[0] = 0.
 * qh[1]: L[1] = 8 (0), L[33] (ib 2, i 1: 17-31 = -14 -> 18, 1), L[65] = 28 (1), L[97]
 * (ib 6, i 1: 37-31 = 6 -> 38, 2) -> 0 | 1<<2 | 1<<4 | 2<<6 = 0x94. */
static int q6k_l(int ib, int i) { return i == 0 ? -32 : (7 * i + 5 * ib) % 63 - 31; }

static void test_q6_K_bytes(void **state) {
    (void)state;
    float x[QK_K];
    for (int ib = 0; ib < 16; ib++)
        for (int i = 0; i < 16; i++)
            x[16 * ib + i] = ldexpf((float)q6k_l(ib, i), -(ib % 4));
    block_q6_K y;
    assert_int_equal(tensor_quantize(FN_Q6_K, x, &y, QK_K), 0);
    static const byte_at want[] = {
        {0, 0x00}, {1, 0xc8}, {15, 0xfb}, {31, 0x50}, {63, 0xfa}, {127, 0x73}, /* ql */
        {128 + 0, 0x00}, {128 + 1, 0x94}, {128 + 31, 0x0f}, {128 + 63, 0xe9},  /* qh */
        {208, 0x00}, {209, 0xa0}};                                             /* d */
    check_bytes_at("q6_K", &y, want, FN_ARRAY_LEN(want));
    for (int ib = 0; ib < 16; ib++) {
        static const uint8_t sc[4] = {0x80, 0xc0, 0xe0, 0xf0};
        assert_int_equal((uint8_t)y.scales[ib], sc[ib % 4]);
    }
}

/* Q3_K: sub-block j holds x = s_j * l with l = (i + j) mod 8 - 4 (levels -4..3, -4 present)
 * and s = 1 .5 .25 .125 -.5 -.25 -.125 .75 .375 -.75 -.375 -.0625 .0625 .03125 -.9375 .5625.
 * make_q3_quants starts at iscale = -4/max = 1/s, an exact fit its refinement keeps, so the
 * sub-block scale is s. Super-block: largest |s| is s_0 = 1: iscale = -32, d = f16(-1/32) =
 * 0xa800; stored 6-bit scales = nearest(-32 s) + 32 = 0 16 24 28 48 40 36 8 20 56 44 34 30 31
 * 62 14. Packing: low nibble of scale j in byte j (j < 8) or the high nibble of byte j-8,
 * top 2 bits in bits 2*(j/4) of byte 8 + j%4:
 *   bytes 0..7 = (st[j] & 15) | (st[j+8] & 15) << 4 = 40 80 c8 2c e0 f8 e4 e8
 *   byte 8 = st0>>4 | st4>>4<<2 | st8>>4<<4 | st12>>4<<6 = 0 | 3<<2 | 1<<4 | 1<<6 = 5c
 *   byte 9 = 1 | 2<<2 | 3<<4 | 1<<6 = 79; byte 10 = 1 | 2<<2 | 2<<4 | 3<<6 = e9;
 *   byte 11 = 1 | 0 | 2<<4 | 0 = 21.
 * Requantizing with d * (st - 32) = s gives L = l + 4 in 0..7. The high bit (L > 3, i.e.
 * l >= 0) of element e goes to bit e/32 of hmask[e%32]. hmask[0] holds elements 32k
 * (k = 0..7), which are i = 0 of sub-block j = 2k: l = 2k mod 8 - 4 >= 0 for k = 2, 3, 6, 7
 * -> bits 2, 3, 6, 7 = 0xcc. hmask[2] (i = 2): l = (2 + 2k) mod 8 - 4 >= 0 for k = 1, 2, 5, 6
 * -> 0x66; hmask[4]: k = 0, 1, 4, 5 -> 0x33; hmask[6]: k = 0, 3, 4, 7 -> 0x99; hmask[1],
 * hmask[16] and hmask[31] repeat 0xcc (i = 1: (1 + 2k) mod 8 >= 4 for k = 2, 3, 6, 7;
 * elements 16 + 32k are sub-block 2k+1, i = 0; 31 + 32k are sub-block 2k+1, i = 15).
 * qs[0] = L[0]&3 | L[32]&3 << 2 | L[64]&3 << 4 | L[96]&3 << 6 with L = 0, 2, 4->0, 6->2 =
 * 0 | 2<<2 | 0 | 2<<6 = 0x88. */
static const float q3k_s[16] = {1, .5f, .25f, .125f, -.5f, -.25f, -.125f, .75f,
                                .375f, -.75f, -.375f, -.0625f, .0625f, .03125f, -.9375f, .5625f};

static void test_q3_K_bytes(void **state) {
    (void)state;
    float x[QK_K];
    for (int j = 0; j < 16; j++)
        for (int i = 0; i < 16; i++) x[16 * j + i] = q3k_s[j] * (float)((i + j) % 8 - 4);
    block_q3_K y;
    assert_int_equal(tensor_quantize(FN_Q3_K, x, &y, QK_K), 0);
    static const uint8_t want_scales[12] = {0x40, 0x80, 0xc8, 0x2c, 0xe0, 0xf8,
                                            0xe4, 0xe8, 0x5c, 0x79, 0xe9, 0x21};
    check_bytes("q3_K scales", y.scales, want_scales, 12);
    static const byte_at want[] = {
        {0, 0xcc}, {1, 0xcc}, {2, 0x66}, {4, 0x33}, {6, 0x99}, {16, 0xcc}, {31, 0xcc}, /* hmask */
        {32 + 0, 0x88}, {32 + 1, 0xdd}, {32 + 7, 0x77}, {32 + 63, 0x88},               /* qs */
        {108, 0x00}, {109, 0xa8}};                                                     /* d */
    check_bytes_at("q3_K", &y, want, FN_ARRAY_LEN(want));
}

/* Q2_K: sub-block j holds x = s_j * L - mn_j with L = (i + j) mod 4 (all of 0..3 present),
 * s_j = sc_j / 8 and mn_j = m_j / 4 for
 *   sc = 15 7 1 2 3 4 5 6 8 9 10 11 12 13 14 5     m = 0 15 1 2 3 4 5 6 7 8 9 10 11 12 13 14
 * The fit over [-mn, 3s - mn] is exact, so the sub-block scale/min are s and mn (up to the
 * last bit of 1/(1/s): the 4-bit rounding below absorbs that). Max scale 15/8 and max min
 * 15/4: scales = nearest(15 s / (15/8)) = sc and mins = m; d = f16(0.125) = 0x3000, dmin =
 * f16(0.25) = 0x3400; scales[j] = sc | m << 4. Requantizing with d*sc = s and dmin*m = mn
 * gives back L. qs[l + 32h] = L[128h+l] | L[128h+l+32]<<2 | L[+64]<<4 | L[+96]<<6:
 * qs[0]: elements 0, 32, 64, 96 = i 0 of sub-blocks 0, 2, 4, 6 -> L = 0, 2, 0, 2 -> 0x88;
 * qs[1]: i 1 -> L = 1, 3, 1, 3 -> 0xdd; qs[2] -> 2, 0, 2, 0 = 0x22; qs[3] -> 3,1,3,1 = 0x77;
 * qs[16]: i 0 of sub-blocks 1,3,5,7 -> 1, 3, 1, 3 -> 0xdd. */
static void test_q2_K_bytes(void **state) {
    (void)state;
    static const int sc[16] = {15, 7, 1, 2, 3, 4, 5, 6, 8, 9, 10, 11, 12, 13, 14, 5};
    static const int m[16] = {0, 15, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14};
    float x[QK_K];
    for (int j = 0; j < 16; j++)
        for (int i = 0; i < 16; i++)
            x[16 * j + i] = (float)sc[j] / 8 * (float)((i + j) % 4) - (float)m[j] / 4;
    block_q2_K y;
    assert_int_equal(tensor_quantize(FN_Q2_K, x, &y, QK_K), 0);
    for (int j = 0; j < 16; j++) assert_int_equal(y.scales[j], sc[j] | m[j] << 4);
    static const byte_at want[] = {
        {16 + 0, 0x88}, {16 + 1, 0xdd}, {16 + 2, 0x22}, {16 + 3, 0x77}, {16 + 16, 0xdd},
        {16 + 31, 0x88}, {16 + 32, 0x88}, {16 + 63, 0x88},
        {80, 0x00}, {81, 0x30}, {82, 0x00}, {83, 0x34}};
    check_bytes_at("q2_K", &y, want, FN_ARRAY_LEN(want));
}

/* ---- dequantizers: hand-built blocks ---------------------------------------------------- */

static void test_dequant_legacy(void **state) {
    (void)state;
    float y[32];

    /* Q4_0, d = -2 (0xc000): x = (q - 8) * d. qs[0] = 0x1f: e0 = (15-8)*-2 = -14, e16 =
     * (1-8)*-2 = 14; qs[15] = 0x80: e15 = (0-8)*-2 = 16, e31 = 0. */
    uint8_t q40[18] = {0x00, 0xc0, 0x1f};
    q40[2 + 15] = 0x80;
    assert_int_equal(tensor_dequantize(FN_Q4_0, q40, y, 32), 0);
    check_values_at("q4_0", y, (const value_at[]){{0, -14}, {16, 14}, {15, 16}, {31, 0}, {1, 16}},
                    5);

    /* Q4_1, d = 1, m = -5 (0xc500): x = q + m. qs[3] = 0xa2: e3 = 2-5 = -3, e19 = 10-5 = 5;
     * untouched qs -> -5. */
    uint8_t q41[20] = {0x00, 0x3c, 0x00, 0xc5};
    q41[4 + 3] = 0xa2;
    assert_int_equal(tensor_dequantize(FN_Q4_1, q41, y, 32), 0);
    check_values_at("q4_1", y, (const value_at[]){{3, -3}, {19, 5}, {0, -5}}, 3);

    /* Q5_0, d = 0.25 (0x3400), qh = 01 00 01 80 (bits 0, 16, 31): x = (q - 16) d.
     * qs[0] = 0x3f: e0 = (15|16) - 16 = 15 -> 3.75; e16 = (3|16) - 16 = 3 -> 0.75.
     * qs[15] = 0xf0: e15 = 0 - 16 -> -4; e31 = (15|16) - 16 -> 3.75. e1 = -4. */
    uint8_t q50[22] = {0x00, 0x34, 0x01, 0x00, 0x01, 0x80, 0x3f};
    q50[6 + 15] = 0xf0;
    assert_int_equal(tensor_dequantize(FN_Q5_0, q50, y, 32), 0);
    check_values_at("q5_0", y,
                    (const value_at[]){{0, 3.75f}, {16, 0.75f}, {15, -4}, {31, 3.75f}, {1, -4}}, 5);

    /* Q5_1, d = 0.5 (0x3800), m = 2 (0x4000), qh bit 1: qs[1] = 0x5a: e1 = (10|16) * .5 + 2
     * = 15; e17 = 5 * .5 + 2 = 4.5; e0 = 2. */
    uint8_t q51[24] = {0x00, 0x38, 0x00, 0x40, 0x02, 0x00, 0x00, 0x00, 0x00, 0x5a};
    assert_int_equal(tensor_dequantize(FN_Q5_1, q51, y, 32), 0);
    check_values_at("q5_1", y, (const value_at[]){{1, 15}, {17, 4.5f}, {0, 2}}, 3);

    /* Q8_0, d = 1.5 (0x3e00): qs[0] = -128 -> -192, qs[31] = 127 -> 190.5, qs[7] = -1. */
    uint8_t q80[34] = {0x00, 0x3e, 0x80};
    q80[2 + 31] = 0x7f;
    q80[2 + 7] = 0xff;
    assert_int_equal(tensor_dequantize(FN_Q8_0, q80, y, 32), 0);
    check_values_at("q8_0", y, (const value_at[]){{0, -192}, {31, 190.5f}, {7, -1.5f}, {1, 0}}, 4);

    /* Q8_1, d = 1, s = anything (unused): qs[2] = -7 -> -7. */
    uint8_t q81[36] = {0x00, 0x3c, 0x34, 0x12};
    q81[4 + 2] = 0xf9;
    assert_int_equal(tensor_dequantize(FN_Q8_1, q81, y, 32), 0);
    check_values_at("q8_1", y, (const value_at[]){{2, -7}, {0, 0}}, 2);

    /* MXFP4, e = 124: scale 2^-3 on the E2M1 values (0.0625 on the doubled table).
     * qs[0] = 0xf7: e0 = 6 * 2^-3 = 0.75, e16 = -0.75; qs[1] = 0x91: e1 = 0.0625,
     * e17 = -0.0625; qs[2] = 0x08: e2 from code 8 ("-0") and e18 from code 0 are both 0
     * (the doubled table holds the integer 0 for both, so the result is +0). */
    uint8_t mx[17] = {124, 0xf7, 0x91, 0x08};
    assert_int_equal(tensor_dequantize(FN_MXFP4, mx, y, 32), 0);
    check_values_at("mxfp4", y,
                    (const value_at[]){{0, .75f}, {16, -.75f}, {1, .0625f}, {17, -.0625f},
                                       {2, 0}, {18, 0}},
                    6);
    /* the E8M0 extremes: e = 0 is 2^-127, a subnormal (code 7: 6 * 2^-127 = 3 * 2^-126);
     * e = 254 is 2^127 (code 1: 0.5 * 2^127 = 2^126) */
    uint8_t mx_lo[17] = {0, 0x07}, mx_hi[17] = {254, 0x01};
    assert_int_equal(tensor_dequantize(FN_MXFP4, mx_lo, y, 32), 0);
    assert_true(y[0] == 3 * 0x1p-126f);
    assert_int_equal(tensor_dequantize(FN_MXFP4, mx_hi, y, 32), 0);
    assert_true(y[0] == 0x1p126f);

    /* IQ4_NL, d = 1: qs[0] = 0xf0: e0 = kvalues[0] = -127, e16 = kvalues[15] = 113;
     * qs[5] = 0x78: e5 = kvalues[8] = 1, e21 = kvalues[7] = -10. */
    uint8_t nl[18] = {0x00, 0x3c, 0xf0};
    nl[2 + 5] = 0x78;
    assert_int_equal(tensor_dequantize(FN_IQ4_NL, nl, y, 32), 0);
    check_values_at("iq4_nl", y, (const value_at[]){{0, -127}, {16, 113}, {5, 1}, {21, -10}}, 4);
}

static void test_dequant_plain(void **state) {
    (void)state;
    float y[4];
    const uint16_t h[4] = {0x3c00, 0xc500, 0x0001, 0x7c00}; /* 1, -5, 2^-24, inf */
    assert_int_equal(tensor_dequantize(FN_F16, h, y, 4), 0);
    assert_true(y[0] == 1 && y[1] == -5 && y[2] == 0x1p-24f && isinf(y[3]));
    const uint16_t b[4] = {0x3f80, 0xc0a0, 0x0001, 0x7fc0}; /* 1, -5, 2^-133, nan */
    assert_int_equal(tensor_dequantize(FN_BF16, b, y, 4), 0);
    assert_true(y[0] == 1 && y[1] == -5 && y[2] == 0x1p-133f && isnan(y[3]));
    const float f[4] = {1.5f, -0.0f, 3e38f, 1e-45f};
    assert_int_equal(tensor_dequantize(FN_F32, f, y, 4), 0);
    assert_memory_equal(y, f, sizeof f);
    /* and the other direction for plain types */
    uint16_t out16[4];
    assert_int_equal(tensor_quantize(FN_F16, (const float[]){1, -5, 0x1p-24f, 1e9f}, out16, 4), 0);
    assert_true(out16[0] == 0x3c00 && out16[1] == 0xc500 && out16[2] == 0x0001 &&
                out16[3] == 0x7c00);
    assert_int_equal(tensor_quantize(FN_BF16, (const float[]){1, -5, 1 + 0x1p-8f, NAN}, out16, 4),
                     0);
    assert_true(out16[0] == 0x3f80 && out16[1] == 0xc0a0 && out16[2] == 0x3f80 &&
                (out16[3] & 0x7fc0) == 0x7fc0);
    float out32[4];
    assert_int_equal(tensor_quantize(FN_F32, f, out32, 4), 0);
    assert_memory_equal(out32, f, sizeof f);
}

/* Element e of a Q2_K/Q3_K super-block: half h = e/128, shift group s = (e%128)/32, part
 * p = (e%32)/16, l = e%16 -> sub-block 8h + 2s + p, 2-bit field s of qs[32h + 16p + l]
 * (Q3_K: high bit = bit 4h + s of hmask[16p + l]). */
static void test_dequant_q2_K(void **state) {
    (void)state;
    block_q2_K b;
    memset(&b, 0, sizeof b);
    b.d = 0x3800;    /* 0.5 */
    b.dmin = 0x3c00; /* 1.0; x = d * sc * q - dmin * m */
    b.scales[0] = 0x21;  /* sc 1, m 2 */
    b.scales[1] = 0x0f;  /* sc 15, m 0 */
    b.scales[2] = 0xf3;  /* sc 3, m 15 */
    b.scales[15] = 0x5a; /* sc 10, m 5 */
    b.qs[0] = 0x0e;      /* e0: q 2; e32 (sub 2): q 3 */
    b.qs[16] = 0x01;     /* e16 (sub 1): q 1 */
    b.qs[63] = 0xc0;     /* e255 (sub 15): q 3; e159 (sub 9, scales 0): 0 */
    float y[QK_K];
    assert_int_equal(tensor_dequantize(FN_Q2_K, &b, y, QK_K), 0);
    static const value_at want[] = {
        {0, 0.5f * 1 * 2 - 2},     /* -1 */
        {1, 0.5f * 1 * 0 - 2},     /* -2 */
        {32, 0.5f * 3 * 3 - 15},   /* -10.5 */
        {16, 0.5f * 15 * 1 - 0},   /* 7.5 */
        {255, 0.5f * 10 * 3 - 5},  /* 10 */
        {159, 0},
    };
    check_values_at("q2_K", y, want, FN_ARRAY_LEN(want));
}

static void test_dequant_q3_K(void **state) {
    (void)state;
    /* 6-bit scales, stored value st means st - 32. All 32 (zero) except sub 0 = 33 (+1),
     * sub 5 = 31 (-1), sub 10 = 0 (-32), sub 15 = 63 (+31). With all at 32 every low nibble
     * is 0 and bytes 8..11 hold the top bits 0b10 four times (0xaa). Then:
     *   sub 0 = 0b10_0001: byte 0 low nibble 1.
     *   sub 5 = 0b01_1111: byte 5 low nibble f; top 01 at bits 2-3 of byte 9 -> 0xa6.
     *   sub 10 = 0: byte 2 high nibble 0; top 00 at bits 4-5 of byte 10 -> 0x8a.
     *   sub 15 = 0b11_1111: byte 7 high nibble f -> 0xf0; top 11 at bits 6-7 of byte 11 -> 0xea.
     * x = d * (st - 32) * (q2 - (high bit ? 0 : 4)), d = 2. */
    block_q3_K b;
    memset(&b, 0, sizeof b);
    static const uint8_t sc[12] = {0x01, 0, 0, 0, 0, 0x0f, 0, 0xf0, 0xaa, 0xa6, 0x8a, 0xea};
    memcpy(b.scales, sc, 12);
    b.d = 0x4000;
    b.qs[0] = 0x03;     /* e0 (sub 0): low 3 */
    b.hmask[0] = 0x01;  /* e0 high bit set (bit 0); e160's bit 5 clear */
    b.qs[16] = 0x20;    /* e80 = h0 s2 p1 l0 (sub 5): bits 4-5 = 2 */
    b.hmask[16] = 0x04; /* e80 high bit: bit 2 of hmask[16] */
    b.qs[32] = 0x04;    /* e160 = h1 s1 p0 l0 (sub 10): bits 2-3 = 1 */
    b.qs[63] = 0xc0;    /* e255 = h1 s3 p1 l15 (sub 15): bits 6-7 = 3 */
    b.hmask[31] = 0x80; /* e255 high bit: bit 7 of hmask[31] */
    float y[QK_K];
    assert_int_equal(tensor_dequantize(FN_Q3_K, &b, y, QK_K), 0);
    static const value_at want[] = {
        {0, 2 * 1 * 3},      /* 6 */
        {1, 2 * 1 * -4},     /* -8: q 0, no high bit */
        {80, 2 * -1 * 2},    /* -4 */
        {160, 2 * -32 * -3}, /* 192 */
        {255, 2 * 31 * 3},   /* 186 */
        {32, 0},             /* sub 2: scale 0 */
    };
    check_values_at("q3_K", y, want, FN_ARRAY_LEN(want));
}

/* Q4_K/Q5_K scales for the dequant tests: sub 0 (sc 1, m 2), sub 3 (63, 0), sub 4 (17, 33),
 * sub 7 (5, 63), others 0. Packed (see the Q4_K quantizer comment):
 *   [0] 1 | (17>>4)<<6 = 41   [3] 63 | (5>>4)<<6 = 3f   [4] 2 | (33>>4)<<6 = 82
 *   [7] 0 | (63>>4)<<6 = c0   [8] 17&15 | (33&15)<<4 = 11   [11] 5 | 15<<4 = f5. */
static const uint8_t k4_scales[12] = {0x41, 0, 0, 0x3f, 0x82, 0, 0, 0xc0, 0x11, 0, 0, 0xf5};

static void test_dequant_q4_K(void **state) {
    (void)state;
    /* x = d * sc * q - dmin * m with d = 1, dmin = 0.5; element 64p + l uses the low nibble
     * of qs[32p + l] and sub-block 2p, element 64p + 32 + l the high nibble and 2p+1. */
    block_q4_K b;
    memset(&b, 0, sizeof b);
    b.d = 0x3c00;
    b.dmin = 0x3800;
    memcpy(b.scales, k4_scales, 12);
    b.qs[0] = 0x3a;   /* e0 = 1*10 - .5*2 = 9; e32 (sub 1: 0, 0) = 0 */
    b.qs[37] = 0x70;  /* e101 (sub 3) = 63*7 = 441; e69 (sub 2) = 0 */
    b.qs[64] = 0x0f;  /* e128 (sub 4) = 17*15 - .5*33 = 238.5 */
    b.qs[127] = 0x20; /* e255 (sub 7) = 5*2 - .5*63 = -21.5 */
    float y[QK_K];
    assert_int_equal(tensor_dequantize(FN_Q4_K, &b, y, QK_K), 0);
    static const value_at want[] = {{0, 9}, {32, 0}, {101, 441}, {69, 0}, {128, 238.5f},
                                    {255, -21.5f}, {1, -1}, {129, -16.5f}};
    check_values_at("q4_K", y, want, FN_ARRAY_LEN(want));
}

static void test_dequant_q5_K(void **state) {
    (void)state;
    /* as Q4_K plus a 5th bit: bit 2p (low nibble) / 2p+1 (high nibble) of qh[l] */
    block_q5_K b;
    memset(&b, 0, sizeof b);
    b.d = 0x3c00;
    b.dmin = 0x3800;
    memcpy(b.scales, k4_scales, 12);
    b.qs[0] = 0x3a;
    b.qh[0] = 0x11;   /* e0 (bit 0): 26 -> 26 - 1 = 25; e128 (bit 4) */
    b.qs[37] = 0x70;
    b.qh[5] = 0x08;   /* e101: pair 1 high nibble (bit 3): 7+16 = 23 -> 63*23 = 1449 */
    b.qs[64] = 0x0f;  /* e128: 31 -> 17*31 - 16.5 = 510.5 */
    b.qs[127] = 0x20;
    b.qh[31] = 0x80;  /* e255: pair 3 high nibble (bit 7): 18 -> 5*18 - 31.5 = 58.5 */
    float y[QK_K];
    assert_int_equal(tensor_dequantize(FN_Q5_K, &b, y, QK_K), 0);
    static const value_at want[] = {{0, 25}, {32, 0}, {101, 1449}, {128, 510.5f},
                                    {255, 58.5f}, {1, -1}, {223, 0}};
    check_values_at("q5_K", y, want, FN_ARRAY_LEN(want));
}

static void test_dequant_q6_K(void **state) {
    (void)state;
    /* x = d * sc * (q - 32), d = 0.5. Per 128 (half h, ql += 64, qh += 32, sc += 8), l < 32,
     * is = l/16: e l uses sc[is], ql[l] low, qh[l] bits 0-1; e l+32: sc[is+2], ql[l+32] low,
     * bits 2-3; e l+64: sc[is+4], ql[l] high, bits 4-5; e l+96: sc[is+6], ql[l+32] high,
     * bits 6-7. */
    block_q6_K b;
    memset(&b, 0, sizeof b);
    b.d = 0x3800;
    b.scales[0] = 1;
    b.scales[2] = -3;
    b.scales[4] = 127;
    b.scales[6] = -128;
    b.scales[9] = 5;
    b.scales[15] = 2;
    b.ql[0] = 0xa5;
    b.ql[32] = 0x3c;
    b.qh[0] = 0xe4;  /* high bits 0, 1, 2, 3 for e0, e32, e64, e96 */
    b.ql[127] = 0xf0;
    b.qh[63] = 0x40; /* e255 = h1, l31 + 96: q = 15 | 1<<4 = 31 */
    b.ql[80] = 0x0f;
    b.qh[48] = 0x03; /* e144 = h1, l16: q = 15 | 3<<4 = 63, sc[8+1] */
    float y[QK_K];
    assert_int_equal(tensor_dequantize(FN_Q6_K, &b, y, QK_K), 0);
    static const value_at want[] = {
        {0, 0.5f * 1 * (5 - 32)},          /* -13.5 */
        {32, 0.5f * -3 * (28 - 32)},       /* 6 */
        {64, 0.5f * 127 * (42 - 32)},      /* 635 */
        {96, 0.5f * -128 * (51 - 32)},     /* -1216 */
        {255, 0.5f * 2 * (31 - 32)},       /* -1 */
        {144, 0.5f * 5 * (63 - 32)},       /* 77.5 */
        {1, 0.5f * 1 * -32},               /* -16 */
    };
    check_values_at("q6_K", y, want, FN_ARRAY_LEN(want));
}

static void test_dequant_q8_K(void **state) {
    (void)state;
    block_q8_K b;
    memset(&b, 0, sizeof b);
    b.d = 0.25f;
    b.qs[0] = -128;
    b.qs[255] = 127;
    b.qs[100] = 3;
    b.bsums[0] = 1234; /* not used by dequantization */
    float y[QK_K];
    assert_int_equal(tensor_dequantize(FN_Q8_K, &b, y, QK_K), 0);
    check_values_at("q8_K", y,
                    (const value_at[]){{0, -32}, {255, 31.75f}, {100, 0.75f}, {1, 0}}, 4);
}

static void test_dequant_iq4_xs(void **state) {
    (void)state;
    /* 6-bit scales ls (value ls - 32): low 4 bits in nibble ib%2 of scales_l[ib/2], top 2 in
     * bits 2ib of scales_h. ls: sub 0 = 33, sub 3 = 63, sub 7 = 0, others 32:
     * scales_l = 01 f0 00 00; scales_h = 2 | 2<<2 | 2<<4 | 3<<6 | 2<<8 | 2<<10 | 2<<12 | 0<<14
     * = 0x2aea. x = d (ls - 32) kvalues[q]; element 32 ib + j from the low nibble of
     * qs[16 ib + j], 32 ib + 16 + j from the high nibble. */
    block_iq4_xs b;
    memset(&b, 0, sizeof b);
    b.d = 0x3c00;
    b.scales_h = 0x2aea;
    b.scales_l[0] = 0x01;
    b.scales_l[1] = 0xf0;
    b.qs[0] = 0xf0;       /* e0 = 1 * -127; e16 = 1 * 113 */
    b.qs[16 * 3 + 2] = 0x08; /* e98 = 31 * 1; e114 = 31 * -127 */
    b.qs[16 * 7] = 0x0f;  /* e224 = -32 * 113 */
    float y[QK_K];
    assert_int_equal(tensor_dequantize(FN_IQ4_XS, &b, y, QK_K), 0);
    static const value_at want[] = {{0, -127}, {16, 113}, {98, 31}, {114, -3937},
                                    {224, -3616}, {32, 0}};
    check_values_at("iq4_xs", y, want, FN_ARRAY_LEN(want));
    /* the raw bytes of scales_h are little-endian */
    const uint8_t *raw = (const uint8_t *)&b;
    assert_int_equal(raw[2], 0xea);
    assert_int_equal(raw[3], 0x2a);
}

static void test_dequant_ternary(void **state) {
    (void)state;
    /* TQ2_0, d = 2: element 128(j/32) + 32 l + m = (((qs[j+m] >> 2l) & 3) - 1) * d.
     * qs[0] = 0x24 = 00 10 01 00: e0 -> -2, e32 -> 0, e64 -> 2, e96 -> -2.
     * qs[63] = 0x80: e255 (j 32, l 3, m 31) -> 2; e159 (l 0) -> -2. */
    block_tq2_0 t2;
    memset(&t2, 0, sizeof t2);
    t2.d = 0x4000;
    t2.qs[0] = 0x24;
    t2.qs[63] = 0x80;
    float y[QK_K];
    assert_int_equal(tensor_dequantize(FN_TQ2_0, &t2, y, QK_K), 0);
    check_values_at("tq2_0", y,
                    (const value_at[]){{0, -2}, {32, 0}, {64, 2}, {96, -2}, {255, 2}, {159, -2}},
                    6);

    /* TQ1_0, d = 1. A byte holds base-3 digits t0..t4 (t0 most significant) as
     * ceil(v * 256 / 243), v = sum t_k 3^(4-k); digit k decodes as ((byte * 3^k mod 256) * 3)
     * >> 8, value t - 1.
     * qs[0] = digits 2 0 1 2 0: v = 162 + 9 + 6 = 177, ceil(186.47) = 187 = 0xbb ->
     *   elements 0, 32, 64, 96, 128 = +1 -1 0 +1 -1.
     * qs[40] = 0xff decodes as 2 2 2 2 2 -> elements 168 184 200 216 232 (160 + 16k + 8) = +1;
     *   qs[41] = 0 -> element 169 = -1.
     * qh[3] holds 4 digits then a 0: digits 1 2 0 2 -> v = (27 + 18 + 0 + 2) * 3 = 141,
     *   ceil(148.54) = 149 = 0x95 -> elements 243 247 251 255 (240 + 4k + 3) = 0 +1 -1 +1. */
    block_tq1_0 t1;
    memset(&t1, 0, sizeof t1);
    t1.d = 0x3c00;
    t1.qs[0] = 0xbb;
    t1.qs[40] = 0xff;
    t1.qh[3] = 0x95;
    assert_int_equal(tensor_dequantize(FN_TQ1_0, &t1, y, QK_K), 0);
    static const value_at want[] = {
        {0, 1}, {32, -1}, {64, 0}, {96, 1}, {128, -1},
        {168, 1}, {184, 1}, {200, 1}, {216, 1}, {232, 1}, {169, -1},
        {243, 0}, {247, 1}, {251, -1}, {255, 1}, {1, -1}};
    check_values_at("tq1_0", y, want, FN_ARRAY_LEN(want));
}

/* ---- round trips on random data --------------------------------------------------------- */

enum { RT_N = 64 * QK_K };

typedef enum { DIST_NORMAL, DIST_UNIFORM, DIST_OUTLIERS, DIST_COUNT } dist_kind;
static const char *const dist_name[DIST_COUNT] = {"normal", "uniform", "outliers"};

static void fill(float *x, int64_t n, dist_kind kind, uint64_t seed) {
    fn_rng rng;
    fn_rng_seed(&rng, seed);
    for (int64_t i = 0; i < n; i++) {
        switch (kind) {
        case DIST_NORMAL: x[i] = (float)(0.02 * fn_rng_normal(&rng)); break;
        case DIST_UNIFORM: x[i] = (float)(2 * fn_rng_uniform(&rng) - 1); break;
        case DIST_OUTLIERS: /* weights with 1% of values 20x larger */
            x[i] = (float)fn_rng_normal(&rng);
            if (fn_rng_uniform(&rng) < 0.01) x[i] *= 20;
            break;
        default: break;
        }
    }
}

/* Bounds on the relative RMSE (rmse / rms of the data) per type and distribution, and on
 * each element's error in "steps" of its block: block absmax / half_levels (for plain types:
 * the value itself, floored at f16's smallest normal).
 *
 * RMSE: a quantizer with step D has error rms D/sqrt(12). For Gaussian data a 32-block's
 * absmax is ~2.1 sigma (~2.8 over 256, ~1.8 over 16), so Q8_0 expects 2.1/127/sqrt(12) =
 * 0.0048, Q5_0 0.038, Q4_0 0.076 (+ clamping), Q8_K 2.8/127/sqrt(12) = 0.0064, Q6_K (scale
 * per 16) 1.8/32/sqrt(12) = 0.016, Q4_K/Q4_1 (min and scale per 32, range ~4.1 sigma)
 * 4.1/15/sqrt(12) = 0.079, Q3_K 1.8/4/sqrt(12) = 0.13, Q2_K ~3.5/3/sqrt(12) = 0.34 (its
 * search does better). The measured values (FENNEC_TEST_VERBOSE=1) agree within ~15%:
 *   type   normal  uniform outliers      type   normal  uniform outliers
 *   q8_0   0.0053  0.0038  0.0110        q5_K   0.0361  0.0274  0.0505
 *   q8_K   0.0070  0.0039  0.0257        q4_1   0.0781  0.0605  0.1087
 *   q6_K   0.0179  0.0132  0.0315        q4_0   0.0860  0.0648  0.1531
 *   q5_1   0.0379  0.0292  0.0523        q4_K   0.0711  0.0543  0.0982
 *   q5_0   0.0426  0.0309  0.0865        mxfp4  0.1141  0.1440  0.1655
 *   q3_K   0.1507  0.1255  0.1544        q2_K   0.2935  0.2318  0.2458
 * (outlier blocks get a coarse step for their ordinary values, hence the larger numbers).
 * Bounds are ~1.25-1.3x these, tight enough that a real bug - a wrong scale, a lost high
 * bit, a swapped nibble, which at least doubles the error - fails.
 *
 * Max error: Q8_0/Q8_1 round to half a step plus the f16 rounding of d (127 * 2^-11 of a
 * step): 0.57. Q4_0/Q5_0 map the signed absmax to -8/-16, so values near +absmax clamp to
 * level 7/15 and miss by up to one step (+ f16): 1.01. Q4_1/Q5_1 use a step of
 * (max-min)/(2^b-1) <= 2 absmax/(2^b-1): half of it is 0.53 of our unit, + f16: 0.56.
 * Q8_K keeps d in f32: 0.501. MXFP4's largest gap (4 -> 6 in E2M1) and its clamp above 6
 * (absmax < 8 units) both stay within absmax/4: 1.001. K-quants' sub-block scales and
 * mins are themselves quantized, so their worst case has no closed form; measured (in
 * super-block steps) q6_K 0.56, q5_K 0.84, q4_K 0.74, q3_K 1.05, q2_K 0.78, bounds 1.4x. */
typedef struct {
    uint32_t type;
    double rel_rmse[DIST_COUNT];
    double max_steps;
    int half_levels;
    int block; /* elements over which absmax is taken */
} rt_bound;

static const rt_bound rt_bounds[] = {
    {FN_F16, {0.0003, 0.0003, 0.0003}, 0x1p-11, 1, 1},
    {FN_BF16, {0.0022, 0.0022, 0.0022}, 0x1p-8, 1, 1},
    {FN_Q8_0, {0.007, 0.005, 0.014}, 0.57, 127, 32},
    {FN_Q8_1, {0.007, 0.005, 0.014}, 0.57, 127, 32},
    {FN_Q8_K, {0.009, 0.005, 0.033}, 0.501, 127, 256},
    {FN_Q6_K, {0.023, 0.017, 0.040}, 0.8, 32, 256},
    {FN_Q5_1, {0.048, 0.037, 0.066}, 0.56, 16, 32},
    {FN_Q5_0, {0.054, 0.040, 0.110}, 1.01, 16, 32},
    {FN_Q5_K, {0.046, 0.035, 0.064}, 1.2, 16, 256},
    {FN_Q4_1, {0.100, 0.078, 0.140}, 0.56, 8, 32},
    {FN_Q4_0, {0.110, 0.083, 0.190}, 1.01, 8, 32},
    {FN_Q4_K, {0.090, 0.070, 0.125}, 1.05, 8, 256},
    {FN_MXFP4, {0.145, 0.180, 0.210}, 1.001, 4, 32},
    {FN_Q3_K, {0.190, 0.160, 0.195}, 1.5, 4, 256},
    {FN_Q2_K, {0.370, 0.290, 0.310}, 1.1, 2, 256},
};

static void test_round_trip(void **state) {
    (void)state;
    float *x = malloc(RT_N * sizeof *x), *back = malloc(RT_N * sizeof *back);
    uint8_t *q = malloc((size_t)RT_N * 4);
    assert_true(x && back && q);
    for (size_t t = 0; t < FN_ARRAY_LEN(rt_bounds); t++) {
        const rt_bound *b = &rt_bounds[t];
        for (int dist = 0; dist < DIST_COUNT; dist++) {
            fill(x, RT_N, (dist_kind)dist, 1000 + (uint64_t)dist);
            assert_int_equal(tensor_quantize(b->type, x, q, RT_N), 0);
            assert_int_equal(tensor_dequantize(b->type, q, back, RT_N), 0);
            double se = 0, ss = 0, worst_steps = 0;
            for (int64_t i0 = 0; i0 < RT_N; i0 += b->block) {
                float amax = 0;
                for (int j = 0; j < b->block; j++) amax = fmaxf(amax, fabsf(x[i0 + j]));
                for (int j = 0; j < b->block; j++) {
                    const double e = (double)back[i0 + j] - x[i0 + j];
                    se += e * e;
                    ss += (double)x[i0 + j] * x[i0 + j];
                    /* plain types: relative to the value, with f16's subnormal floor */
                    const double unit = b->block == 1 ? fmax(fabs((double)x[i0 + j]), 0x1p-14)
                                                      : (double)amax / b->half_levels;
                    if (unit > 0 && fabs(e) / unit > worst_steps) worst_steps = fabs(e) / unit;
                }
            }
            const double rel = sqrt(se / ss);
            if (verbose())
                print_message("round trip %-6s %-8s rel_rmse %.5f  max_err %.3f steps\n",
                              fn_dtype_name(b->type), dist_name[dist], rel, worst_steps);
            if (rel > b->rel_rmse[dist] || worst_steps > b->max_steps) {
                print_error("%s on %s data: rel_rmse %.5f (bound %.4f), max error %.3f steps "
                            "(bound %.3f)\n", fn_dtype_name(b->type), dist_name[dist], rel,
                            b->rel_rmse[dist], worst_steps, b->max_steps);
                fail();
            }
        }
    }
    free(x);
    free(back);
    free(q);
}

/* Degenerate inputs every quantizer must survive: all zero (must decode to exact zeros),
 * a constant block, and tiny values. */
static void test_round_trip_degenerate(void **state) {
    (void)state;
    static const uint32_t types[] = {FN_Q4_0, FN_Q4_1, FN_Q5_0, FN_Q5_1, FN_Q8_0, FN_Q8_1,
                                     FN_MXFP4, FN_Q2_K, FN_Q3_K, FN_Q4_K, FN_Q5_K, FN_Q6_K,
                                     FN_Q8_K};
    float x[QK_K], back[QK_K];
    uint8_t q[512];
    for (size_t t = 0; t < FN_ARRAY_LEN(types); t++) {
        memset(x, 0, sizeof x);
        assert_int_equal(tensor_quantize(types[t], x, q, QK_K), 0);
        assert_int_equal(tensor_dequantize(types[t], q, back, QK_K), 0);
        for (int i = 0; i < QK_K; i++) assert_true(back[i] == 0);
        for (int i = 0; i < QK_K; i++) x[i] = 0.75f;
        assert_int_equal(tensor_quantize(types[t], x, q, QK_K), 0);
        assert_int_equal(tensor_dequantize(types[t], q, back, QK_K), 0);
        for (int i = 0; i < QK_K; i++) assert_true(fabsf(back[i] - 0.75f) < 0.75f * 0.2f);
    }
}

/* ---- error paths ------------------------------------------------------------------------ */

static void test_errors(void **state) {
    (void)state;
    float x[64] = {0};
    uint8_t q[512];
    /* unsupported: IQ grids, integer types, unknown and removed ids */
    static const uint32_t no_deq[] = {FN_IQ2_XXS, FN_IQ2_XS, FN_IQ3_XXS, FN_IQ1_S, FN_IQ3_S,
                                      FN_IQ2_S, FN_IQ1_M, FN_I8, FN_I16, FN_I32, FN_I64,
                                      FN_F64, 4, 5, 31, 38, FN_DTYPE_COUNT, 1000, UINT32_MAX};
    for (size_t i = 0; i < FN_ARRAY_LEN(no_deq); i++) {
        assert_false(tensor_can_dequantize(no_deq[i]));
        assert_false(tensor_can_quantize(no_deq[i]));
        fn_error_clear();
        assert_int_equal(tensor_dequantize(no_deq[i], q, x, 32), -1);
        assert_non_null(strstr(fn_errmsg(), "not supported"));
        fn_error_clear();
        assert_int_equal(tensor_quantize(no_deq[i], x, q, 32), -1);
        assert_non_null(strstr(fn_errmsg(), "not supported"));
    }
    /* dequantize-only types */
    static const uint32_t deq_only[] = {FN_IQ4_NL, FN_IQ4_XS, FN_TQ1_0, FN_TQ2_0};
    for (size_t i = 0; i < FN_ARRAY_LEN(deq_only); i++) {
        assert_true(tensor_can_dequantize(deq_only[i]));
        assert_false(tensor_can_quantize(deq_only[i]));
        assert_int_equal(tensor_quantize(deq_only[i], x, q, QK_K), -1);
        assert_non_null(strstr(fn_errmsg(), fn_dtype_name(deq_only[i])));
    }
    /* bad element counts: not a whole number of blocks, negative */
    fn_error_clear();
    assert_int_equal(tensor_quantize(FN_Q8_0, x, q, 33), -1);
    assert_non_null(strstr(fn_errmsg(), "33"));
    assert_non_null(strstr(fn_errmsg(), "q8_0"));
    assert_int_equal(tensor_dequantize(FN_Q4_K, q, x, 128), -1);
    assert_non_null(strstr(fn_errmsg(), "q4_K"));
    assert_int_equal(tensor_dequantize(FN_F16, q, x, -1), -1);
    assert_int_equal(tensor_quantize(FN_Q4_0, x, q, -32), -1);
    /* zero elements is a valid empty row */
    assert_int_equal(tensor_quantize(FN_Q4_K, NULL, NULL, 0), 0);
    assert_int_equal(tensor_dequantize(FN_Q4_K, NULL, NULL, 0), 0);
    /* non-finite input cannot be block-quantized; plain float types carry it */
    x[5] = NAN;
    fn_error_clear();
    assert_int_equal(tensor_quantize(FN_Q4_0, x, q, 32), -1);
    assert_non_null(strstr(fn_errmsg(), "element 5"));
    x[5] = 0;
    x[40] = -INFINITY;
    assert_int_equal(tensor_quantize(FN_Q8_0, x, q, 64), -1);
    assert_non_null(strstr(fn_errmsg(), "element 40"));
    assert_int_equal(tensor_quantize(FN_F16, x, q, 64), 0);
    assert_int_equal(tensor_quantize(FN_BF16, x, q, 64), 0);
}

/* The traits table must agree with dtype.h's geometry for every id, and expose the row
 * functions behind tensor_dequantize/tensor_quantize. */
static void test_traits(void **state) {
    (void)state;
    for (uint32_t t = 0; t < FN_DTYPE_COUNT + 3; t++) {
        const fn_dtype_info *info = fn_dtype_get(t);
        const tensor_traits *tr = tensor_traits_get(t);
        if (!info) {
            assert_null(tr);
            continue;
        }
        assert_non_null(tr);
        assert_int_equal(tr->type, t);
        assert_string_equal(tr->name, info->name);
        assert_int_equal(tr->block_size, info->block_size);
        assert_int_equal(tr->block_bytes, info->block_bytes);
        assert_int_equal(tensor_can_dequantize(t), tr->to_float != NULL);
        assert_int_equal(tensor_can_quantize(t), tr->from_float_ref != NULL);
    }
    static const uint32_t required[] = {FN_F32, FN_F16, FN_BF16, FN_Q8_0, FN_Q4_0, FN_Q4_1,
                                        FN_Q5_0, FN_Q5_1, FN_Q8_1, FN_Q2_K, FN_Q3_K, FN_Q4_K,
                                        FN_Q5_K, FN_Q6_K, FN_Q8_K, FN_MXFP4};
    for (size_t i = 0; i < FN_ARRAY_LEN(required); i++) {
        assert_true(tensor_can_dequantize(required[i]));
        assert_true(tensor_can_quantize(required[i]));
    }
    /* the row function and the table entry are the same conversion */
    float x[64], a[64], b[64];
    for (int i = 0; i < 64; i++) x[i] = sinf((float)i);
    block_q8_0 q1[2], q2[2];
    tensor_quantize_row_q8_0_ref(x, q1, 64);
    tensor_traits_get(FN_Q8_0)->from_float_ref(x, q2, 64);
    assert_memory_equal(q1, q2, sizeof q1);
    tensor_dequantize_row_q8_0(q1, a, 64);
    tensor_traits_get(FN_Q8_0)->to_float(q2, b, 64);
    assert_memory_equal(a, b, sizeof a);
}

/* ---- oracle: ggml's own reference functions --------------------------------------------- */

/* The llama.cpp build shipped with the oracle package exports ggml's quantize_row_*_ref and
 * dequantize_row_* (libggml-base.so). When it is present (x86-64 Linux, tests/oracle
 * installed, FENNEC_SRC set by ctest), every supported type is compared byte for byte on
 * many random and edge-case rows. Skipped otherwise. */
typedef void (*ggml_quant_fn)(const float *, void *, int64_t);
typedef void (*ggml_deq_fn)(const void *, float *, int64_t);

static void *oracle_open(void) {
    const char *src = getenv("FENNEC_SRC");
    if (!src) return NULL;
    char path[1024];
    snprintf(path, sizeof path,
             "%s/tests/oracle/node_modules/@node-llama-cpp/linux-x64/bins/linux-x64/"
             "libggml-base.so", src);
    return dlopen(path, RTLD_NOW | RTLD_LOCAL);
}

typedef struct {
    uint32_t type;
    const char *quant;  /* ggml symbol, NULL if we do not quantize the type */
    const char *deq;
} oracle_entry;

static const oracle_entry oracle_types[] = {
    {FN_Q4_0, "quantize_row_q4_0_ref", "dequantize_row_q4_0"},
    {FN_Q4_1, "quantize_row_q4_1_ref", "dequantize_row_q4_1"},
    {FN_Q5_0, "quantize_row_q5_0_ref", "dequantize_row_q5_0"},
    {FN_Q5_1, "quantize_row_q5_1_ref", "dequantize_row_q5_1"},
    {FN_Q8_0, "quantize_row_q8_0_ref", "dequantize_row_q8_0"},
    {FN_Q8_1, "quantize_row_q8_1_ref", NULL},
    {FN_MXFP4, "quantize_row_mxfp4_ref", "dequantize_row_mxfp4"},
    {FN_Q2_K, "quantize_row_q2_K_ref", "dequantize_row_q2_K"},
    {FN_Q3_K, "quantize_row_q3_K_ref", "dequantize_row_q3_K"},
    {FN_Q4_K, "quantize_row_q4_K_ref", "dequantize_row_q4_K"},
    {FN_Q5_K, "quantize_row_q5_K_ref", "dequantize_row_q5_K"},
    {FN_Q6_K, "quantize_row_q6_K_ref", "dequantize_row_q6_K"},
    {FN_Q8_K, "quantize_row_q8_K_ref", "dequantize_row_q8_K"},
    {FN_IQ4_NL, NULL, "dequantize_row_iq4_nl"},
    {FN_IQ4_XS, NULL, "dequantize_row_iq4_xs"},
    {FN_TQ1_0, NULL, "dequantize_row_tq1_0"},
    {FN_TQ2_0, NULL, "dequantize_row_tq2_0"},
};

enum { OR_N = 16 * QK_K, OR_ROWS = 40 };

/* Row r of the oracle inputs: varied distributions and scales, plus edge cases. */
static void oracle_row(float *x, int r) {
    fn_rng rng;
    fn_rng_seed(&rng, 77 + (uint64_t)r);
    const double scale = ldexp(1.0, (r % 13) * 3 - 20); /* 2^-20 .. 2^16 */
    for (int i = 0; i < OR_N; i++) {
        double v;
        switch (r % 8) {
        case 0: v = fn_rng_normal(&rng); break;
        case 1: v = 2 * fn_rng_uniform(&rng) - 1; break;
        case 2: v = fn_rng_normal(&rng) * (fn_rng_uniform(&rng) < 0.02 ? 30 : 1); break;
        case 3: v = fn_rng_uniform(&rng); break;                   /* all positive */
        case 4: v = -fn_rng_uniform(&rng) - 0.5; break;            /* all negative, offset */
        case 5: v = (double)(int)(fn_rng_uniform(&rng) * 17) - 8; break; /* integers: ties */
        case 6: v = fn_rng_uniform(&rng) < 0.9 ? 0 : fn_rng_normal(&rng); break; /* sparse */
        default: v = fn_rng_normal(&rng) + 3; break;                /* offset */
        }
        x[i] = (float)(v * scale);
    }
    if (r == OR_ROWS - 1) { /* constant blocks, a single nonzero, and subnormal magnitudes */
        for (int i = 0; i < OR_N; i++) x[i] = 0;
        for (int i = 0; i < QK_K; i++) x[i] = 1.5f;
        x[QK_K + 7] = -3;
        for (int i = 2 * QK_K; i < 3 * QK_K; i++) x[i] = (float)(i % 5) * 1e-39f;
        for (int i = 3 * QK_K; i < 4 * QK_K; i++) x[i] = (float)(i % 7) * 1e-20f;
    }
}

static void test_oracle_ggml(void **state) {
    (void)state;
    void *lib = oracle_open();
    if (!lib) {
        print_message("oracle libggml-base.so not available (FENNEC_SRC unset or tests/oracle "
                      "not installed): skipping the ggml comparison\n");
        skip();
    }
    float *x = malloc(OR_N * sizeof *x), *y1 = malloc(OR_N * sizeof *y1),
          *y2 = malloc(OR_N * sizeof *y2);
    uint8_t *q1 = malloc(OR_N * 2), *q2 = malloc(OR_N * 2);
    assert_true(x && y1 && y2 && q1 && q2);
    fn_rng rng;
    fn_rng_seed(&rng, 99);
    for (size_t t = 0; t < FN_ARRAY_LEN(oracle_types); t++) {
        const oracle_entry *e = &oracle_types[t];
        const int64_t bytes = fn_dtype_row_bytes(e->type, OR_N);
        if (e->quant) {
            ggml_quant_fn gq = (ggml_quant_fn)dlsym(lib, e->quant);
            assert_non_null(gq);
            for (int r = 0; r < OR_ROWS; r++) {
                oracle_row(x, r);
                memset(q1, 0, (size_t)bytes);
                memset(q2, 0, (size_t)bytes);
                gq(x, q1, OR_N);
                assert_int_equal(tensor_quantize(e->type, x, q2, OR_N), 0);
                if (memcmp(q1, q2, (size_t)bytes) != 0) {
                    int64_t at = 0;
                    while (q1[at] == q2[at]) at++;
                    print_error("%s row %d: byte %lld (block %lld) is 0x%02x, ggml 0x%02x\n",
                                fn_dtype_name(e->type), r, (long long)at,
                                (long long)(at / tensor_traits_get(e->type)->block_bytes),
                                q2[at], q1[at]);
                    fail();
                }
            }
        }
        if (e->deq) {
            ggml_deq_fn gd = (ggml_deq_fn)dlsym(lib, e->deq);
            assert_non_null(gd);
            for (int r = 0; r < 8; r++) { /* random bytes: every field value, nan/inf scales */
                for (int64_t i = 0; i < bytes; i++) q1[i] = (uint8_t)fn_rng_next(&rng);
                gd(q1, y1, OR_N);
                assert_int_equal(tensor_dequantize(e->type, q1, y2, OR_N), 0);
                for (int64_t i = 0; i < OR_N; i++) {
                    if (isnan(y1[i]) && isnan(y2[i])) continue;
                    if (f32_bits(y1[i]) != f32_bits(y2[i])) {
                        print_error("%s dequant element %lld: %.9g, ggml %.9g\n",
                                    fn_dtype_name(e->type), (long long)i, (double)y2[i],
                                    (double)y1[i]);
                        fail();
                    }
                }
            }
        }
    }
    /* f16 and bf16 conversions */
    float (*g16to32)(uint16_t) = (float (*)(uint16_t))dlsym(lib, "ggml_fp16_to_fp32");
    uint16_t (*g32to16)(float) = (uint16_t (*)(float))dlsym(lib, "ggml_fp32_to_fp16");
    void (*g32tobf16row)(const float *, uint16_t *, int64_t) =
        (void (*)(const float *, uint16_t *, int64_t))dlsym(lib, "ggml_fp32_to_bf16_row_ref");
    assert_true(g16to32 && g32to16 && g32tobf16row);
    for (uint32_t h = 0; h < 65536; h++) /* every f16, nan payloads included */
        assert_int_equal(f32_bits(g16to32((uint16_t)h)), f32_bits(fn_f16_to_f32((uint16_t)h)));
    for (int i = 0; i < 1000000; i++) { /* random bit patterns: 1 in 256 is a nan */
        const float f = f32_from((uint32_t)fn_rng_next(&rng));
        assert_int_equal(g32to16(f), fn_f32_to_f16(f));
    }
    enum { NB = 4096 };
    float fb[NB];
    uint16_t ob1[NB], ob2[NB];
    for (int k = 0; k < 200; k++) {
        for (int i = 0; i < NB; i++) fb[i] = f32_from((uint32_t)fn_rng_next(&rng));
        g32tobf16row(fb, ob1, NB);
        tensor_row_f32_to_bf16(fb, ob2, NB);
        assert_memory_equal(ob1, ob2, sizeof ob1);
    }
    free(x);
    free(y1);
    free(y2);
    free(q1);
    free(q2);
    dlclose(lib);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_f16_known_values),
        cmocka_unit_test(test_f16_rounding),
        cmocka_unit_test(test_f16_exhaustive),
        cmocka_unit_test(test_bf16),
        cmocka_unit_test(test_q8_0_bytes),
        cmocka_unit_test(test_q8_1_bytes),
        cmocka_unit_test(test_q4_0_bytes),
        cmocka_unit_test(test_q4_1_bytes),
        cmocka_unit_test(test_q5_0_bytes),
        cmocka_unit_test(test_q5_1_bytes),
        cmocka_unit_test(test_mxfp4_bytes),
        cmocka_unit_test(test_q8_K_bytes),
        cmocka_unit_test(test_q4_K_bytes),
        cmocka_unit_test(test_q5_K_bytes),
        cmocka_unit_test(test_q6_K_bytes),
        cmocka_unit_test(test_q3_K_bytes),
        cmocka_unit_test(test_q2_K_bytes),
        cmocka_unit_test(test_dequant_legacy),
        cmocka_unit_test(test_dequant_plain),
        cmocka_unit_test(test_dequant_q2_K),
        cmocka_unit_test(test_dequant_q3_K),
        cmocka_unit_test(test_dequant_q4_K),
        cmocka_unit_test(test_dequant_q5_K),
        cmocka_unit_test(test_dequant_q6_K),
        cmocka_unit_test(test_dequant_q8_K),
        cmocka_unit_test(test_dequant_iq4_xs),
        cmocka_unit_test(test_dequant_ternary),
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_round_trip_degenerate),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_traits),
        cmocka_unit_test(test_oracle_ggml),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
