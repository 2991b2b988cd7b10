/* blocks.h - the packed block layouts of GGUF's quantized tensor types, byte for byte as
 * ggml lays them out (ggml-common.h), so weights can be read in place from an mmap'd file.
 *
 * Every multi-byte field is little-endian on disk; like ggml we read it natively and so
 * support little-endian hosts only (asserted below). f16 fields are raw IEEE binary16 bits
 * (convert with fn_f16_to_f32). No struct here has padding: each size and field offset is
 * checked with _Static_assert, so a layout change cannot compile silently. */
#ifndef FENNEC_TENSOR_BLOCKS_H
#define FENNEC_TENSOR_BLOCKS_H

#include <stddef.h>
#include <stdint.h>

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "tensor blocks are read in place and assume a little-endian host"
#endif

#define QK_K 256         /* elements in a K-quant super-block */
#define K_SCALE_SIZE 12  /* bytes of packed 6-bit scales and mins in Q4_K/Q5_K */

#define QK4_0 32
#define QK4_1 32
#define QK5_0 32
#define QK5_1 32
#define QK8_0 32
#define QK8_1 32
#define QK4_NL 32
#define QK_MXFP4 32

/* ---- 32-element blocks: one f16 scale (and maybe a min), x = d*q (+ m) ---- */

typedef struct {
    uint16_t d;              /* f16 scale; x = d * (q - 8) */
    uint8_t qs[QK4_0 / 2];   /* element j in the low nibble of qs[j], j+16 in the high */
} block_q4_0;

typedef struct {
    uint16_t d;              /* f16 scale */
    uint16_t m;              /* f16 min; x = d * q + m */
    uint8_t qs[QK4_1 / 2];   /* nibbles as in block_q4_0, q in 0..15 */
} block_q4_1;

typedef struct {
    uint16_t d;              /* f16 scale; x = d * (q - 16) */
    uint8_t qh[4];           /* bit j = 5th bit of element j (a little-endian uint32) */
    uint8_t qs[QK5_0 / 2];   /* low 4 bits, nibbles as in block_q4_0 */
} block_q5_0;

typedef struct {
    uint16_t d;              /* f16 scale */
    uint16_t m;              /* f16 min; x = d * q + m */
    uint8_t qh[4];           /* 5th bits as in block_q5_0 */
    uint8_t qs[QK5_1 / 2];   /* low 4 bits */
} block_q5_1;

typedef struct {
    uint16_t d;              /* f16 scale; x = d * q */
    int8_t qs[QK8_0];        /* element j in qs[j] */
} block_q8_0;

typedef struct {
    uint16_t d;              /* f16 scale */
    uint16_t s;              /* f16 of d * sum(qs), used by dot products with *_1 types */
    int8_t qs[QK8_1];
} block_q8_1;

typedef struct {
    uint8_t e;               /* E8M0 shared exponent: scale = 2^(e - 127) */
    uint8_t qs[QK_MXFP4 / 2];/* E2M1 codes, nibbles as in block_q4_0 */
} block_mxfp4;

typedef struct {
    uint16_t d;              /* f16 scale; x = d * kvalues_iq4nl[q] */
    uint8_t qs[QK4_NL / 2];  /* nibbles as in block_q4_0 */
} block_iq4_nl;

/* ---- 256-element super-blocks (K-quants) ---- */

typedef struct {
    uint8_t scales[QK_K / 16]; /* per 16 elements: low nibble scale, high nibble min */
    uint8_t qs[QK_K / 4];      /* 2-bit quants, see dequantize_row_q2_K for the order */
    uint16_t d;                /* f16 super-block scale of the scales */
    uint16_t dmin;             /* f16 super-block scale of the mins */
} block_q2_K;

typedef struct {
    uint8_t hmask[QK_K / 8];   /* high (3rd) bit of each quant */
    uint8_t qs[QK_K / 4];      /* low 2 bits */
    uint8_t scales[12];        /* sixteen 6-bit signed scales (offset 32), packed */
    uint16_t d;                /* f16 super-block scale */
} block_q3_K;

typedef struct {
    uint16_t d;                     /* f16 super-block scale of the scales */
    uint16_t dmin;                  /* f16 super-block scale of the mins */
    uint8_t scales[K_SCALE_SIZE];   /* eight 6-bit scales and eight 6-bit mins, packed */
    uint8_t qs[QK_K / 2];           /* 4-bit quants */
} block_q4_K;

typedef struct {
    uint16_t d;                     /* f16 super-block scale of the scales */
    uint16_t dmin;                  /* f16 super-block scale of the mins */
    uint8_t scales[K_SCALE_SIZE];   /* packed as in block_q4_K */
    uint8_t qh[QK_K / 8];           /* 5th bit of each quant */
    uint8_t qs[QK_K / 2];           /* low 4 bits */
} block_q5_K;

typedef struct {
    uint8_t ql[QK_K / 2];      /* low 4 bits of each quant */
    uint8_t qh[QK_K / 4];      /* high 2 bits */
    int8_t scales[QK_K / 16];  /* 8-bit signed scale per 16 elements */
    uint16_t d;                /* f16 super-block scale */
} block_q6_K;

typedef struct {
    float d;                   /* f32 scale (not f16: this type is for activations) */
    int8_t qs[QK_K];           /* quants */
    int16_t bsums[QK_K / 16];  /* sum of each 16 quants, for the K-quant dot products */
} block_q8_K;

typedef struct {
    uint16_t d;                /* f16 super-block scale */
    uint16_t scales_h;         /* high 2 bits of the eight 6-bit scales */
    uint8_t scales_l[QK_K / 64];/* low 4 bits of the scales */
    uint8_t qs[QK_K / 2];      /* 4-bit indices into kvalues_iq4nl */
} block_iq4_xs;

typedef struct {
    uint8_t qs[(QK_K - 4 * QK_K / 64) / 5]; /* 5 base-3 digits per byte (240 elements) */
    uint8_t qh[QK_K / 64];                  /* 4 digits per byte (the last 16 elements) */
    uint16_t d;                             /* f16 scale */
} block_tq1_0;

typedef struct {
    uint8_t qs[QK_K / 4];      /* 2-bit codes 0,1,2 meaning -1,0,+1 */
    uint16_t d;                /* f16 scale */
} block_tq2_0;

/* ---- layout checks: sizes and offsets as in ggml-common.h ---- */

#define FN_BLOCK_CHECK(type, size) _Static_assert(sizeof(type) == (size), #type " size")
#define FN_FIELD_CHECK(type, field, off) \
    _Static_assert(offsetof(type, field) == (off), #type "." #field " offset")

FN_BLOCK_CHECK(block_q4_0, 18);
FN_FIELD_CHECK(block_q4_0, qs, 2);
FN_BLOCK_CHECK(block_q4_1, 20);
FN_FIELD_CHECK(block_q4_1, m, 2);
FN_FIELD_CHECK(block_q4_1, qs, 4);
FN_BLOCK_CHECK(block_q5_0, 22);
FN_FIELD_CHECK(block_q5_0, qh, 2);
FN_FIELD_CHECK(block_q5_0, qs, 6);
FN_BLOCK_CHECK(block_q5_1, 24);
FN_FIELD_CHECK(block_q5_1, m, 2);
FN_FIELD_CHECK(block_q5_1, qh, 4);
FN_FIELD_CHECK(block_q5_1, qs, 8);
FN_BLOCK_CHECK(block_q8_0, 34);
FN_FIELD_CHECK(block_q8_0, qs, 2);
FN_BLOCK_CHECK(block_q8_1, 36);
FN_FIELD_CHECK(block_q8_1, s, 2);
FN_FIELD_CHECK(block_q8_1, qs, 4);
FN_BLOCK_CHECK(block_mxfp4, 17);
FN_FIELD_CHECK(block_mxfp4, qs, 1);
FN_BLOCK_CHECK(block_iq4_nl, 18);
FN_FIELD_CHECK(block_iq4_nl, qs, 2);

FN_BLOCK_CHECK(block_q2_K, 84);
FN_FIELD_CHECK(block_q2_K, qs, 16);
FN_FIELD_CHECK(block_q2_K, d, 80);
FN_FIELD_CHECK(block_q2_K, dmin, 82);
FN_BLOCK_CHECK(block_q3_K, 110);
FN_FIELD_CHECK(block_q3_K, qs, 32);
FN_FIELD_CHECK(block_q3_K, scales, 96);
FN_FIELD_CHECK(block_q3_K, d, 108);
FN_BLOCK_CHECK(block_q4_K, 144);
FN_FIELD_CHECK(block_q4_K, dmin, 2);
FN_FIELD_CHECK(block_q4_K, scales, 4);
FN_FIELD_CHECK(block_q4_K, qs, 16);
FN_BLOCK_CHECK(block_q5_K, 176);
FN_FIELD_CHECK(block_q5_K, dmin, 2);
FN_FIELD_CHECK(block_q5_K, scales, 4);
FN_FIELD_CHECK(block_q5_K, qh, 16);
FN_FIELD_CHECK(block_q5_K, qs, 48);
FN_BLOCK_CHECK(block_q6_K, 210);
FN_FIELD_CHECK(block_q6_K, qh, 128);
FN_FIELD_CHECK(block_q6_K, scales, 192);
FN_FIELD_CHECK(block_q6_K, d, 208);
FN_BLOCK_CHECK(block_q8_K, 292);
FN_FIELD_CHECK(block_q8_K, qs, 4);
FN_FIELD_CHECK(block_q8_K, bsums, 260);
FN_BLOCK_CHECK(block_iq4_xs, 136);
FN_FIELD_CHECK(block_iq4_xs, scales_h, 2);
FN_FIELD_CHECK(block_iq4_xs, scales_l, 4);
FN_FIELD_CHECK(block_iq4_xs, qs, 8);
FN_BLOCK_CHECK(block_tq1_0, 54);
FN_FIELD_CHECK(block_tq1_0, qh, 48);
FN_FIELD_CHECK(block_tq1_0, d, 52);
FN_BLOCK_CHECK(block_tq2_0, 66);
FN_FIELD_CHECK(block_tq2_0, d, 64);

#undef FN_BLOCK_CHECK
#undef FN_FIELD_CHECK

#endif
