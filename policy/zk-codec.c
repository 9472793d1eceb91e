/* SPDX-License-Identifier: MIT */
/*
 * policy/zk-codec.c -- base64 and hex. Ours rather than ldns's because ldns 1.8 does not
 * export its base64 functions, and OpenSSL's EVP_DecodeBlock neither skips white space nor
 * reports the padding.
 */
#include <errno.h>

#include "policy/zk-codec.h"

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

size_t zk_b64_encode(const uint8_t *d, size_t n, char *out)
{
	size_t o = 0, i = 0;

	for (; i + 3 <= n; i += 3) {
		uint32_t v = (uint32_t) d[i] << 16 | (uint32_t) d[i + 1] << 8 | d[i + 2];

		out[o++] = b64[v >> 18];
		out[o++] = b64[(v >> 12) & 63];
		out[o++] = b64[(v >> 6) & 63];
		out[o++] = b64[v & 63];
	}
	if (n - i == 1) {
		uint32_t v = (uint32_t) d[i] << 16;

		out[o++] = b64[v >> 18];
		out[o++] = b64[(v >> 12) & 63];
		out[o++] = '=';
		out[o++] = '=';
	} else if (n - i == 2) {
		uint32_t v = (uint32_t) d[i] << 16 | (uint32_t) d[i + 1] << 8;

		out[o++] = b64[v >> 18];
		out[o++] = b64[(v >> 12) & 63];
		out[o++] = b64[(v >> 6) & 63];
		out[o++] = '=';
	}
	out[o] = '\0';
	return o;
}

static int b64_value(int c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

static int is_space(int c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

int zk_b64_decode(const char *text, size_t len, uint8_t *out, size_t out_max)
{
	uint32_t acc = 0;
	int bits = 0, pad = 0;
	size_t o = 0, chars = 0;

	for (size_t i = 0; i < len; i++) {
		int c = (unsigned char) text[i], v;

		if (is_space(c))
			continue;
		chars++;
		if (c == '=') {
			pad++;
			continue;
		}
		if (pad) /* data after padding */
			return -EINVAL;
		v = b64_value(c);
		if (v < 0)
			return -EINVAL;
		acc = (acc << 6) | (uint32_t) v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (o >= out_max)
				return -ENOBUFS;
			out[o++] = (uint8_t) (acc >> bits);
		}
	}
	if (chars % 4 != 0 || pad > 2)
		return -EINVAL;
	return (int) o;
}

size_t zk_hex_encode(const uint8_t *d, size_t n, char *out)
{
	static const char hex[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = hex[d[i] >> 4];
		out[2 * i + 1] = hex[d[i] & 15];
	}
	out[2 * n] = '\0';
	return 2 * n;
}

static int hex_value(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int zk_hex_decode(const char *text, size_t len, uint8_t *out, size_t out_max)
{
	size_t o = 0;
	int hi = -1;

	for (size_t i = 0; i < len; i++) {
		int c = (unsigned char) text[i], v;

		if (is_space(c))
			continue;
		v = hex_value(c);
		if (v < 0)
			return -EINVAL;
		if (hi < 0) {
			hi = v;
			continue;
		}
		if (o >= out_max)
			return -ENOBUFS;
		out[o++] = (uint8_t) (hi << 4 | v);
		hi = -1;
	}
	if (hi >= 0)
		return -EINVAL;
	return (int) o;
}

uint64_t zk_fnv1a64(const char *s, size_t len)
{
	uint64_t h = 0xcbf29ce484222325ull;

	for (size_t i = 0; i < len; i++) {
		h ^= (unsigned char) s[i];
		h *= 0x100000001b3ull;
	}
	return h;
}
