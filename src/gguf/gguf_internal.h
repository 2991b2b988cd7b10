/* gguf_internal.h - helpers shared by the GGUF reader and writer, not part of the API.
 * Little-endian encoding done byte by byte, so the code is right on any host. */
#ifndef FENNEC_GGUF_GGUF_INTERNAL_H
#define FENNEC_GGUF_GGUF_INTERNAL_H

#include "gguf/gguf.h"

#include <stdint.h>

/* Smallest possible encodings, used to bound counts read from a header by the bytes left:
 * a kv is key length (8) + a 1-byte key + type (4) + a 1-byte value; a tensor info is
 * name length (8) + a 1-byte name + n_dims (4) + one dim (8) + type (4) + offset (8). */
#define GGUF_MIN_KV_BYTES 14u
#define GGUF_MIN_TENSOR_INFO_BYTES 33u
#define GGUF_HEADER_BYTES 24u /* magic, version, n_tensors, n_kv */

static inline uint16_t gguf_rd16(const uint8_t *p) {
    return (uint16_t)(p[0] | (uint16_t)p[1] << 8);
}

static inline uint32_t gguf_rd32(const uint8_t *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline uint64_t gguf_rd64(const uint8_t *p) {
    return (uint64_t)gguf_rd32(p) | (uint64_t)gguf_rd32(p + 4) << 32;
}

static inline void gguf_wr32(uint8_t *p, uint32_t v) {
    for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i));
}

static inline void gguf_wr64(uint8_t *p, uint64_t v) {
    for (int i = 0; i < 8; i++) p[i] = (uint8_t)(v >> (8 * i));
}

static inline int gguf_is_pow2(uint64_t v) { return v && !(v & (v - 1)); }

/* True for the element types an array may hold as fixed-size scalars. */
static inline int gguf_type_is_scalar(uint32_t t) {
    return t < GGUF_TYPE_COUNT && t != GGUF_TYPE_STRING && t != GGUF_TYPE_ARRAY;
}

#endif
