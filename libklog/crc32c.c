// SPDX-License-Identifier: GPL-2.0-only
/*
 * crc32c.c - CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), as used by
 * the on-disk format (doc/format.md).  The SSE4.2 crc32 instruction when the
 * CPU has it (on three lanes at once for long buffers, with PCLMUL),
 * slicing-by-8 tables otherwise; all give the same result.
 */
#include <endian.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>

#ifdef __x86_64__
#include <immintrin.h>
#endif

#include "format.h"

#define CRC32C_POLY 0x82f63b78u

typedef uint32_t crc32c_fn(uint32_t crc, const unsigned char *p, size_t len);

/* table[k][b]: the CRC register after byte b then k zero bytes, starting from 0. */
static uint32_t table[8][256];
static crc32c_fn *crc32c_impl;
static pthread_once_t crc32c_once = PTHREAD_ONCE_INIT;

static uint32_t crc32c_sw_raw(uint32_t crc, const unsigned char *p, size_t len)
{
	uint64_t w;

	for (; len >= 8; p += 8, len -= 8) {
		memcpy(&w, p, 8);
		w = le64toh(w) ^ crc;
		crc = table[7][w & 0xff] ^ table[6][(w >> 8) & 0xff] ^
		      table[5][(w >> 16) & 0xff] ^ table[4][(w >> 24) & 0xff] ^
		      table[3][(w >> 32) & 0xff] ^ table[2][(w >> 40) & 0xff] ^
		      table[1][(w >> 48) & 0xff] ^ table[0][w >> 56];
	}
	while (len--)
		crc = table[0][(crc ^ *p++) & 0xff] ^ (crc >> 8);
	return crc;
}

#ifdef __x86_64__
__attribute__((target("sse4.2")))
static uint32_t crc32c_hw_raw(uint32_t crc, const unsigned char *p, size_t len)
{
	unsigned long long c = crc, w;

	/* x86 loads unaligned words at full speed: no need to align p first. */
	for (; len >= 8; p += 8, len -= 8) {
		memcpy(&w, p, 8);
		c = __builtin_ia32_crc32di(c, w);
	}
	crc = (uint32_t)c;
	while (len--)
		crc = __builtin_ia32_crc32qi(crc, *p++);
	return crc;
}

/*
 * The crc32 instruction takes 3 cycles but can start one every cycle: three
 * lanes of a buffer are checksummed at once, then the CRCs are joined.
 * Joining shifts a CRC over a lane: crc * x^(64w) mod P for w words, which
 * is crc32(0, clmul(crc, x^(64w - 33) mod P)) (the product comes out one bit
 * up, and crc32 multiplies by x^32).  Below LANE_MIN words a lane does not
 * pay for the two joins.
 */
#define LANE_MIN 8
#define LANE_MAX 128
static uint32_t lane_shift[LANE_MAX + 1]; /* [w]: x^(64w - 33) mod P, bit-reflected */

__attribute__((target("sse4.2,pclmul")))
static uint32_t crc32c_shift(uint32_t crc, unsigned int words)
{
	__m128i p = _mm_clmulepi64_si128(_mm_cvtsi32_si128((int)crc),
					 _mm_cvtsi32_si128((int)lane_shift[words]), 0);

	return (uint32_t)__builtin_ia32_crc32di(0, (unsigned long long)_mm_cvtsi128_si64(p));
}

__attribute__((target("sse4.2,pclmul")))
static uint32_t crc32c_hw3_raw(uint32_t crc, const unsigned char *p, size_t len)
{
	while (len >= 3 * 8 * LANE_MIN) {
		size_t w = len / 24 < LANE_MAX ? len / 24 : LANE_MAX;
		unsigned long long a = crc, b = 0, c = 0, x, y, z;

		for (size_t i = 0; i < w; i++) {
			memcpy(&x, p + 8 * i, 8);
			memcpy(&y, p + 8 * (w + i), 8);
			memcpy(&z, p + 8 * (2 * w + i), 8);
			a = __builtin_ia32_crc32di(a, x);
			b = __builtin_ia32_crc32di(b, y);
			c = __builtin_ia32_crc32di(c, z);
		}
		crc = crc32c_shift(crc32c_shift((uint32_t)a, w) ^ (uint32_t)b, w) ^ (uint32_t)c;
		p += 24 * w;
		len -= 24 * w;
	}
	return crc32c_hw_raw(crc, p, len);
}

/* lane_shift[w + 1] is lane_shift[w] times x^64; x^31 is bit 0. */
static void lane_shift_init(void)
{
	uint32_t v = 1;

	for (unsigned int w = 1; w <= LANE_MAX; w++) {
		lane_shift[w] = v;
		for (int i = 0; i < 64; i++)
			v = (v >> 1) ^ (CRC32C_POLY & (0u - (v & 1)));
	}
}
#endif

static void crc32c_init(void)
{
	uint32_t c;

	for (unsigned int b = 0; b < 256; b++) {
		c = b;
		for (int i = 0; i < 8; i++)
			c = (c >> 1) ^ (CRC32C_POLY & (0u - (c & 1)));
		table[0][b] = c;
	}
	for (unsigned int b = 0; b < 256; b++)
		for (int k = 1; k < 8; k++)
			table[k][b] = (table[k - 1][b] >> 8) ^ table[0][table[k - 1][b] & 0xff];

	crc32c_impl = crc32c_sw_raw;
#ifdef __x86_64__
	/* Needed when the first CRC is taken from a constructor or an ifunc resolver. */
	__builtin_cpu_init();
	if (__builtin_cpu_supports("sse4.2"))
		crc32c_impl = crc32c_hw_raw;
	if (__builtin_cpu_supports("sse4.2") && __builtin_cpu_supports("pclmul")) {
		lane_shift_init();
		crc32c_impl = crc32c_hw3_raw;
	}
#endif
}

uint32_t klog_crc32c(uint32_t crc, const void *buf, size_t len)
{
	pthread_once(&crc32c_once, crc32c_init);
	return ~crc32c_impl(~crc, buf, len);
}

uint32_t klog_crc32c_sw(uint32_t crc, const void *buf, size_t len)
{
	pthread_once(&crc32c_once, crc32c_init);
	return ~crc32c_sw_raw(~crc, buf, len);
}
