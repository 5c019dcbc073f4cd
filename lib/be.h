/* SPDX-License-Identifier: MIT */
/*
 * be: big-endian (network byte order) loads and stores at any alignment.
 * Wire formats are read and written byte by byte, so a packet buffer never
 * needs to be aligned and no cast through a wider pointer type is made.
 * Header-only (static inline) so that fuzz harnesses and tool sources
 * that must not link libmeshperf.a can use it.
 */
#ifndef MP_BE_H
#define MP_BE_H

#include <stdint.h>

/* Stores v at p[0..1], most significant octet first. p: 2 writable octets. */
static inline void mp_be16_put(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* Stores v at p[0..3], most significant octet first. p: 4 writable octets. */
static inline void mp_be32_put(uint8_t *p, uint32_t v)
{
	mp_be16_put(p, (uint16_t)(v >> 16));
	mp_be16_put(p + 2, (uint16_t)v);
}

/* Stores v at p[0..7], most significant octet first. p: 8 writable octets. */
static inline void mp_be64_put(uint8_t *p, uint64_t v)
{
	mp_be32_put(p, (uint32_t)(v >> 32));
	mp_be32_put(p + 4, (uint32_t)v);
}

/* Returns the big-endian 16-bit value at p[0..1]. */
static inline uint16_t mp_be16_get(const uint8_t *p)
{
	return (uint16_t)((uint16_t)p[0] << 8 | p[1]);
}

/* Returns the big-endian 32-bit value at p[0..3]. */
static inline uint32_t mp_be32_get(const uint8_t *p)
{
	return (uint32_t)mp_be16_get(p) << 16 | mp_be16_get(p + 2);
}

/* Returns the big-endian 64-bit value at p[0..7]. */
static inline uint64_t mp_be64_get(const uint8_t *p)
{
	return (uint64_t)mp_be32_get(p) << 32 | mp_be32_get(p + 4);
}

#endif
