/* SPDX-License-Identifier: MIT */
/*
 * policy/zk-codec.h -- base64 (RFC 4648 §4) and hex, as zone files and key files use them.
 * Shared by keystore/ (key files) and signer/ (DNSKEY, RRSIG, DS in zone files).
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
