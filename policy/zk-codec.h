/* SPDX-License-Identifier: MIT */
/*
 * policy/zk-codec.h -- base64 (RFC 4648 §4) and hex, as zone files and key files use them,
 * and the big-endian integers of DNS wire format. Shared by keystore/ (key files) and
 * signer/ (DNSKEY, RRSIG, DS in zone files; RDATA and signed data).
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

/* Encoded length of n bytes (no NUL). */
static inline size_t zk_b64_len(size_t n)
{
	return (n + 2) / 3 * 4;
}

/* Encode; writes zk_b64_len(n) chars and a NUL to out. Returns the length. */
size_t zk_b64_encode(const uint8_t *data, size_t n, char *out);

/*
 * Decode base64 text of `len` chars; white space inside is skipped (zone files split long
 * keys). Returns the number of bytes, or -EINVAL (bad character, bad padding) or
 * -ENOBUFS (does not fit `out_max`).
 */
int zk_b64_decode(const char *text, size_t len, uint8_t *out, size_t out_max);

/* Lowercase hex; writes 2n chars and a NUL. Returns 2n. */
size_t zk_hex_encode(const uint8_t *data, size_t n, char *out);

/* Decode hex (either case, white space skipped); -EINVAL on an odd count or bad char. */
int zk_hex_decode(const char *text, size_t len, uint8_t *out, size_t out_max);

/* 64-bit FNV-1a: the check of our own text files (journal lines, the zone state) against
 * torn writes and damage, not against anyone choosing the bytes. */
uint64_t zk_fnv1a64(const char *s, size_t len);

/* Network byte order, as every integer in DNS wire format is. */
static inline void zk_put16(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t) (v >> 8);
	p[1] = (uint8_t) v;
}

static inline void zk_put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t) (v >> 24);
	p[1] = (uint8_t) (v >> 16);
	p[2] = (uint8_t) (v >> 8);
	p[3] = (uint8_t) v;
}

static inline uint16_t zk_get16(const uint8_t *p)
{
	return (uint16_t) (p[0] << 8 | p[1]);
}

static inline uint32_t zk_get32(const uint8_t *p)
{
	return (uint32_t) p[0] << 24 | (uint32_t) p[1] << 16 | (uint32_t) p[2] << 8 | p[3];
}
