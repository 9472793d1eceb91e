/* SPDX-License-Identifier: MIT */
/*
 * signer/dname.c -- wire-format domain names. See dname.h.
 */
#include <errno.h>
#include <string.h>

#include "signer/dname.h"

static inline uint8_t lc(uint8_t c)
{
	return (c >= 'A' && c <= 'Z') ? (uint8_t) (c + 32) : c;
}

size_t dn_len(const uint8_t *name)
{
	const uint8_t *p = name;

	while (*p)
		p += *p + 1;
	return (size_t) (p - name) + 1;
}

unsigned dn_labels(const uint8_t *name)
{
	unsigned n = 0;

	while (*name) {
		n++;
		name += *name + 1;
	}
	return n;
}

void dn_lower(uint8_t *name)
{
	while (*name) {
		uint8_t l = *name++;

		for (uint8_t i = 0; i < l; i++)
			name[i] = lc(name[i]);
		name += l;
	}
}

size_t dn_lower_copy(uint8_t *dst, const uint8_t *src)
{
	size_t n = dn_len(src);

	memcpy(dst, src, n);
	dn_lower(dst);
	return n;
}

bool dn_equal(const uint8_t *a, const uint8_t *b)
{
	for (;;) {
		uint8_t la = *a, lb = *b;

		if (la != lb)
			return false;
		if (la == 0)
			return true;
		a++, b++;
		for (uint8_t i = 0; i < la; i++)
			if (lc(a[i]) != lc(b[i]))
				return false;
		a += la, b += la;
	}
}

bool dn_is_at_or_below(const uint8_t *name, const uint8_t *apex)
{
	unsigned ln = dn_labels(name), la = dn_labels(apex);

	if (ln < la)
		return false;
	for (unsigned i = 0; i < ln - la; i++)
		name += *name + 1;
	return dn_equal(name, apex);
}

bool dn_is_below(const uint8_t *name, const uint8_t *parent)
{
	return dn_labels(name) > dn_labels(parent) && dn_is_at_or_below(name, parent);
}

const uint8_t *dn_parent(const uint8_t *name)
{
	return *name ? name + *name + 1 : NULL;
}

bool dn_is_wildcard(const uint8_t *name)
{
	return name[0] == 1 && name[1] == '*';
}

size_t dn_sort_key(const uint8_t *name, uint8_t *key)
{
	const uint8_t *labels[128];
	unsigned n = 0;
	size_t k = 0;

	while (*name) {
		labels[n++] = name;
		name += *name + 1;
	}
	/*
	 * Labels right to left, each followed by 0x00. Octets 0x00 and 0x01 are escaped as
	 * 0x01 0x01 and 0x01 0x02: a prefix-free, order-preserving code, so memcmp of keys is
	 * RFC 4034 §6.1 order, with a shorter label sorting before any extension of it.
	 */
	while (n--) {
		const uint8_t *l = labels[n];

		for (uint8_t i = 1; i <= l[0]; i++) {
			uint8_t c = l[i];

			if (c <= 1) {
				key[k++] = 1;
				key[k++] = (uint8_t) (c + 1);
			} else {
				key[k++] = c;
			}
		}
		key[k++] = 0;
	}
	return k;
}

int dn_canonical_cmp(const uint8_t *a, const uint8_t *b)
{
	uint8_t ka[DN_KEYMAX], kb[DN_KEYMAX];
	size_t la = dn_sort_key(a, ka), lb = dn_sort_key(b, kb);

	return dn_key_cmp(ka, la, kb, lb);
}

size_t dn_to_text(const uint8_t *name, char *out)
{
	static const char digits[] = "0123456789";
	char *o = out;

	if (!*name) {
		out[0] = '.';
		out[1] = '\0';
		return 1;
	}
	while (*name) {
		uint8_t l = *name++;

		for (uint8_t i = 0; i < l; i++) {
			uint8_t c = name[i];

			if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			    (c >= '0' && c <= '9') || c == '-' || c == '_' ||
			    (c == '*' && l == 1)) {
				*o++ = (char) c;
			} else if (c == '.' || c == '\\' || c == '"' || c == '(' || c == ')' ||
				   c == ';' || c == '@' || c == '$' || c == '*') {
				*o++ = '\\';
				*o++ = (char) c;
			} else if (c > 0x20 && c < 0x7f) {
				*o++ = (char) c;
			} else {
				*o++ = '\\';
				*o++ = digits[c / 100];
				*o++ = digits[c / 10 % 10];
				*o++ = digits[c % 10];
			}
		}
		name += l;
		*o++ = '.';
	}
	*o = '\0';
	return (size_t) (o - out);
}

int dn_from_text(const char *text, size_t len, const uint8_t *origin, uint8_t *out)
{
	size_t o = 0, label = 0;
	bool absolute = false;

	if (len == 1 && text[0] == '@') {
		if (!origin)
			return -EINVAL;
		memcpy(out, origin, dn_len(origin));
		return (int) dn_len(origin);
	}
	if (len == 1 && text[0] == '.') {
		out[0] = 0;
		return 1;
	}
	if (len == 0)
		return -EINVAL;
	out[0] = 0;
	for (size_t i = 0; i < len; i++) {
		int c = (unsigned char) text[i];

		if (c == '.') {
			if (o == label) /* empty label */
				return -EINVAL;
			if (i == len - 1)
				absolute = true;
			label = ++o;
			if (o >= DN_MAXLEN)
				return -EINVAL;
			out[o] = 0;
			continue;
		}
		if (c == '\\') {
			if (i + 1 >= len)
				return -EINVAL;
			if (text[i + 1] >= '0' && text[i + 1] <= '9') {
				int v = 0;

				if (i + 3 >= len)
					return -EINVAL;

				for (int k = 1; k <= 3; k++) {
					char d = text[i + (size_t) k];

					if (d < '0' || d > '9')
						return -EINVAL;
					v = v * 10 + (d - '0');
				}
				if (v > 255)
					return -EINVAL;
				c = v;
				i += 3;
			} else {
				c = (unsigned char) text[++i];
			}
		}
		if (o - label >= DN_MAXLABEL || o + 2 >= DN_MAXLEN)
			return -EINVAL;
		out[++o] = (uint8_t) c;
		out[label]++;
	}
	if (absolute) {
		out[label] = 0;
		return (int) label + 1;
	}
	/* relative: append the origin */
	if (!origin)
		return -EINVAL;
	{
		size_t olen = dn_len(origin);

		o++; /* past the last label */
		if (o + olen > DN_MAXLEN)
			return -EINVAL;
		memcpy(out + o, origin, olen);
		return (int) (o + olen);
	}
}

static const char b32hex[] = "0123456789abcdefghijklmnopqrstuv";

size_t dn_base32hex(const uint8_t *data, size_t len, char *out)
{
	size_t o = 0;
	uint32_t buf = 0;
	int bits = 0;

	for (size_t i = 0; i < len; i++) {
		buf = (buf << 8) | data[i];
		bits += 8;
		while (bits >= 5) {
			out[o++] = b32hex[(buf >> (bits - 5)) & 31];
			bits -= 5;
		}
	}
	if (bits > 0)
		out[o++] = b32hex[(buf << (5 - bits)) & 31];
	out[o] = '\0';
	return o;
}

int dn_base32hex_decode(const char *text, size_t len, uint8_t *out, size_t out_max)
{
	uint32_t buf = 0;
	int bits = 0;
	size_t o = 0;

	for (size_t i = 0; i < len; i++) {
		int c = text[i], v;

		if (c >= '0' && c <= '9')
			v = c - '0';
		else if (c >= 'a' && c <= 'v')
			v = c - 'a' + 10;
		else if (c >= 'A' && c <= 'V')
			v = c - 'A' + 10;
		else
			return -EINVAL;
		buf = (buf << 5) | (uint32_t) v;
		bits += 5;
		if (bits >= 8) {
			if (o >= out_max)
				return -EINVAL;
			out[o++] = (uint8_t) (buf >> (bits - 8));
			bits -= 8;
		}
	}
	/* RFC 4648 §6: what is left must be padding bits, fewer than a digit and zero */
	if (bits >= 5 || (buf & ((1u << bits) - 1)) != 0)
		return -EINVAL;
	return (int) o;
}
