/* half.c - IEEE binary16 and bfloat16 <-> f32 conversion in portable C (bit manipulation,
 * no F16C), matching ggml's portable conversions bit for bit. */
#include "tensor/tensor_format.h"

#include <string.h>

static uint32_t f32_bits(float f) {
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u;
}

static float f32_from_bits(uint32_t u) {
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

float fn_f16_to_f32(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
    uint32_t exp = (h >> 10) & 0x1fu;
    uint32_t mant = h & 0x3ffu;
    if (exp == 0x1f) /* inf; nan keeps its payload and is made quiet, as F16C and ggml do */
        return f32_from_bits(sign | 0x7f800000u | (mant ? 0x400000u | (mant << 13) : 0));
    if (exp != 0) /* normal: rebias the exponent from 15 to 127 */
        return f32_from_bits(sign | ((exp + 112) << 23) | (mant << 13));
    /* zero or subnormal: mant * 2^-24, exact in f32 */
    float v = (float)mant * 0x1p-24f;
    return sign ? -v : v;
}

uint16_t fn_f32_to_f16(float f) {
    uint32_t x = f32_bits(f);
    uint16_t sign = (uint16_t)((x >> 16) & 0x8000u);
    uint32_t ax = x & 0x7fffffffu;
    if (ax > 0x7f800000u) /* nan: a quiet nan without payload, as ggml's portable path */
        return sign | 0x7e00u;
    if (ax >= 0x477ff000u) /* >= 65520 rounds past the largest f16 (65504): inf */
        return sign | 0x7c00u;
    if (ax >= 0x38800000u) { /* >= 2^-14: a normal f16 */
        uint32_t r = ax - 0x38000000u; /* exponent bias 127 -> 15 */
        /* round to nearest even at bit 13; a carry rolls into the exponent correctly */
        r += 0xfffu + ((r >> 13) & 1u);
        return (uint16_t)(sign | (r >> 13));
    }
    /* subnormal f16 (or zero): round(value / 2^-24) to nearest even */
    uint32_t e = ax >> 23;
    if (e < 102) /* below 2^-25, i.e. under half the smallest subnormal */
        return sign;
    uint32_t m = (ax & 0x7fffffu) | 0x800000u;
    uint32_t shift = 126 - e; /* 14..24 */
    uint32_t q = m >> shift;
    uint32_t rem = m & ((1u << shift) - 1);
    uint32_t half = 1u << (shift - 1);
    if (rem > half || (rem == half && (q & 1u))) q++;
    return (uint16_t)(sign | q); /* q may reach 0x400: the smallest normal, still right */
}

float fn_bf16_to_f32(uint16_t h) {
    return f32_from_bits((uint32_t)h << 16);
}

uint16_t fn_f32_to_bf16(float f) {
    uint32_t x = f32_bits(f);
    if ((x & 0x7fffffffu) > 0x7f800000u) /* nan: keep the top payload bits, force quiet */
        return (uint16_t)((x >> 16) | 64u);
    /* round to nearest even; overflow rounds to inf, subnormals are kept (not flushed) */
    return (uint16_t)((x + 0x7fffu + ((x >> 16) & 1u)) >> 16);
}
