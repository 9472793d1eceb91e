/* SPDX-License-Identifier: MIT */
/*
 * signer/rdata.c -- RDATA fast paths (text <-> wire), type names and type bitmaps.
 * See rdata.h for why these exist beside ldns.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <ldns/ldns.h>

#include "policy/zk-codec.h"
#include "policy/zk-error.h"
#include "policy/zk-macro.h"
#include "policy/zk-time.h"
#include "signer/dname.h"
#include "signer/rdata.h"
#include "signer/zone.h"

/* ---------------------------------------------------------------- type names */

static const struct {
	uint16_t type;
	const char *name;
} common_types[] = {
	{ T_A, "A" },           { T_NS, "NS" },         { T_CNAME, "CNAME" },
	{ T_SOA, "SOA" },       { T_PTR, "PTR" },       { T_MX, "MX" },
	{ T_TXT, "TXT" },       { T_AAAA, "AAAA" },     { T_SRV, "SRV" },
	{ T_NAPTR, "NAPTR" },   { T_DNAME, "DNAME" },   { T_DS, "DS" },
	{ T_SSHFP, "SSHFP" },   { T_RRSIG, "RRSIG" },   { T_NSEC, "NSEC" },
	{ T_DNSKEY, "DNSKEY" }, { T_NSEC3, "NSEC3" },   { T_NSEC3PARAM, "NSEC3PARAM" },
	{ T_TLSA, "TLSA" },     { T_CDS, "CDS" },       { T_CDNSKEY, "CDNSKEY" },
	{ T_SVCB, "SVCB" },     { T_HTTPS, "HTTPS" },   { T_CAA, "CAA" },
};

int sgn_type_from_name(const char *s, size_t len)
{
	char buf[32];
	ldns_rr_type t;

	for (size_t i = 0; i < ZK_ELEMENTSOF(common_types); i++)
		if (strlen(common_types[i].name) == len &&
		    strncasecmp(common_types[i].name, s, len) == 0)
			return common_types[i].type;
	if (len >= sizeof(buf) || len == 0)
		return -1;
	memcpy(buf, s, len);
	buf[len] = '\0';
	if (len > 4 && strncasecmp(buf, "TYPE", 4) == 0) {
		uint32_t v;

		if (sgn_parse_uint(buf + 4, len - 4, 65535, &v) < 0)
			return -1;
		return (int) v;
	}
	t = ldns_get_rr_type_by_name(buf);
	if (t == 0)
		return -1;
	return (int) t;
}

const char *sgn_type_name(uint16_t type, char *buf)
{
	const ldns_rr_descriptor *d;

	for (size_t i = 0; i < ZK_ELEMENTSOF(common_types); i++)
		if (common_types[i].type == type)
			return common_types[i].name;
	d = ldns_rr_descript(type);
	if (d && d->_type == type && d->_name)
		return d->_name;
	snprintf(buf, 16, "TYPE%u", type);
	return buf;
}

/* ---------------------------------------------------------------- numbers */

int sgn_parse_uint(const char *s, size_t len, uint32_t max, uint32_t *ret)
{
	uint64_t v = 0;

	if (len == 0 || len > 10)
		return -EINVAL;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -EINVAL;
		v = v * 10 + (uint64_t) (s[i] - '0');
	}
	if (v > max)
		return -EINVAL;
	*ret = (uint32_t) v;
	return 0;
}

int sgn_parse_ttl(const char *s, size_t len, uint32_t *ret)
{
	char buf[32];
	uint32_t v;

	if (sgn_parse_uint(s, len, UINT32_MAX, ret) == 0)
		return 0;
	if (len == 0 || len >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, s, len);
	buf[len] = '\0';
	if (zk_duration_parse(buf, &v) < 0)
		return -EINVAL;
	*ret = v;
	return 0;
}

/* ---------------------------------------------------------------- bitmaps */

size_t sgn_bitmap_encode(const uint16_t *types, size_t n, uint8_t *out)
{
	size_t o = 0, i = 0;

	while (i < n) {
		uint8_t window = (uint8_t) (types[i] >> 8), bits[32] = { 0 }, len = 0;

		for (; i < n && (types[i] >> 8) == window; i++) {
			uint8_t lo = (uint8_t) types[i];

			bits[lo / 8] |= (uint8_t) (0x80 >> (lo % 8));
			if (lo / 8 + 1 > len)
				len = (uint8_t) (lo / 8 + 1);
		}
		out[o++] = window;
		out[o++] = len;
		memcpy(out + o, bits, len);
		o += len;
	}
	return o;
}

int sgn_bitmap_decode(const uint8_t *bm, size_t len, uint16_t *types, size_t max)
{
	size_t o = 0, p = 0;
	int last_window = -1;

	while (p < len) {
		uint8_t window, blen;

		if (p + 2 > len)
			return -EINVAL;
		window = bm[p];
		blen = bm[p + 1];
		p += 2;
		if ((int) window <= last_window || blen == 0 || blen > 32 || p + blen > len)
			return -EINVAL;
		last_window = window;
		for (uint8_t b = 0; b < blen; b++)
			for (int bit = 0; bit < 8; bit++)
				if (bm[p + b] & (0x80 >> bit)) {
					if (o >= max)
						return -EINVAL;
					types[o++] = (uint16_t) (window << 8 | (b * 8 + bit));
				}
		p += blen;
	}
	return (int) o;
}

/* ---------------------------------------------------------------- text -> wire */

static int name_tok(const sgn_token *t, const uint8_t *origin, uint8_t *out, bool lower)
{
	int n;

	if (t->quoted)
		return -EINVAL;
	n = dn_from_text(t->s, t->len, origin, out);
	if (n > 0 && lower)
		dn_lower(out);
	return n;
}

static int u16_tok(const sgn_token *t, uint32_t max, uint32_t *v)
{
	return t->quoted ? -EINVAL : sgn_parse_uint(t->s, t->len, max, v);
}

/* A character-string (RFC 1035 §3.3) from a token, escapes resolved. */
static int charstr_tok(const sgn_token *t, uint8_t *out)
{
	size_t o = 1;

	for (uint32_t i = 0; i < t->len; i++) {
		unsigned char c = (unsigned char) t->s[i];

		if (c == '\\') {
			if (i + 1 >= t->len)
				return -EINVAL;
			if (t->s[i + 1] >= '0' && t->s[i + 1] <= '9') {
				uint32_t v;

				if (i + 3 >= t->len || sgn_parse_uint(t->s + i + 1, 3, 255, &v) < 0)
					return -EINVAL;
				c = (unsigned char) v;
				i += 3;
			} else {
				c = (unsigned char) t->s[++i];
			}
		}
		if (o > 255)
			return -EINVAL; /* longer than a character-string: ldns reports it */
		out[o++] = c;
	}
	out[0] = (uint8_t) (o - 1);
	return (int) o;
}

/* Concatenate the text of tokens [from, n) into buf (white space dropped). */
static int join_tokens(const sgn_token *t, size_t from, size_t n, char *buf, size_t max)
{
	size_t o = 0;

	for (size_t i = from; i < n; i++) {
		if (t[i].quoted || o + t[i].len >= max)
			return -EINVAL;
		memcpy(buf + o, t[i].s, t[i].len);
		o += t[i].len;
	}
	buf[o] = '\0';
	return (int) o;
}

static int time_tok(const sgn_token *t, uint32_t *v)
{
	char buf[16];
	zk_time_t tt;

	if (t->quoted)
		return -EINVAL;
	if (t->len == 14) {
		memcpy(buf, t->s, 14);
		buf[14] = '\0';
		if (zk_time_parse14(buf, &tt) < 0 || tt < 0 || tt > UINT32_MAX)
			return -EINVAL;
		*v = (uint32_t) tt;
		return 0;
	}
	return sgn_parse_uint(t->s, t->len, UINT32_MAX, v);
}

static int types_bitmap(const sgn_token *t, size_t from, size_t n, uint8_t *out)
{
	uint16_t types[1024];
	size_t k = 0;

	for (size_t i = from; i < n; i++) {
		int ty = sgn_type_from_name(t[i].s, t[i].len);

		if (ty < 0 || t[i].quoted || k >= ZK_ELEMENTSOF(types))
			return -EINVAL;
		types[k++] = (uint16_t) ty;
	}
	/* insertion sort + dedupe: type lists are short */
	for (size_t i = 1; i < k; i++)
		for (size_t j = i; j > 0 && types[j - 1] > types[j]; j--) {
			uint16_t x = types[j];

			types[j] = types[j - 1];
			types[j - 1] = x;
		}
	{
		size_t u = 0;

		for (size_t i = 0; i < k; i++)
			if (u == 0 || types[u - 1] != types[i])
				types[u++] = types[i];
		k = u;
	}
	return (int) sgn_bitmap_encode(types, k, out);
}

/*
 * The numeric fields of the types above: token index and largest value. A plain decimal
 * number too large for its field is an error of its own: ldns, the fallback, wraps it
 * (MX 65536 loads as MX 0, an SOA serial of 4294967297 as 1).
 */
static const struct {
	uint16_t type;
	uint8_t n;
	uint8_t idx[5];
	uint32_t max[5];
} numeric_fields[] = {
	{ T_MX, 1, { 0 }, { 65535 } },
	{ T_SRV, 3, { 0, 1, 2 }, { 65535, 65535, 65535 } },
	{ T_SOA, 5, { 2, 3, 4, 5, 6 }, { UINT32_MAX, UINT32_MAX, UINT32_MAX, UINT32_MAX, UINT32_MAX } },
	{ T_DS, 3, { 0, 1, 2 }, { 65535, 255, 255 } },
	{ T_CDS, 3, { 0, 1, 2 }, { 65535, 255, 255 } },
	{ T_DNSKEY, 3, { 0, 1, 2 }, { 65535, 255, 255 } },
	{ T_CDNSKEY, 3, { 0, 1, 2 }, { 65535, 255, 255 } },
	/* RRSIG times as YYYYMMDDHHMMSS (14 digits) wrap by design (RFC 4034 §3.1.5) */
	{ T_RRSIG, 5, { 1, 2, 3, 4, 5 }, { 255, 255, UINT32_MAX, UINT32_MAX, UINT32_MAX } },
	{ T_NSEC3, 3, { 0, 1, 2 }, { 255, 255, 65535 } },
	{ T_NSEC3PARAM, 3, { 0, 1, 2 }, { 255, 255, 65535 } },
};

static bool number_out_of_range(uint16_t type, const sgn_token *t, size_t n)
{
	for (size_t i = 0; i < ZK_ELEMENTSOF(numeric_fields); i++) {
		if (numeric_fields[i].type != type)
			continue;
		for (uint8_t k = 0; k < numeric_fields[i].n; k++) {
			const sgn_token *x = &t[numeric_fields[i].idx[k]];
			uint64_t v = 0;
			uint32_t d;

			if (numeric_fields[i].idx[k] >= n || x->quoted || x->len == 0 ||
			    (type == T_RRSIG && numeric_fields[i].idx[k] >= 4 && x->len == 14))
				continue;
			for (d = 0; d < x->len && x->s[d] >= '0' && x->s[d] <= '9'; d++)
				if (v <= UINT32_MAX)
					v = v * 10 + (uint64_t) (x->s[d] - '0');
			if (d == x->len && v > numeric_fields[i].max[k])
				return true;
		}
	}
	return false;
}

/*
 * IPSECKEY (RFC 4025 §3.1): precedence, gateway type, algorithm, gateway ("." for none,
 * an IPv4 or IPv6 address, or a name), then the base64 key (absent when the algorithm is
 * 0). Our own because ldns 1.8.3 leaks on several malformed inputs, which the record API
 * takes from anyone. Malformed input is -EPROTO: reported, not handed to ldns.
 */
static int ipseckey_parse(const sgn_token *t, size_t n, const uint8_t *origin, uint8_t *out,
			  size_t out_max)
{
	char buf[8192];
	uint32_t v[3];
	size_t o = 3;
	int r;

	if (n < 4 || u16_tok(&t[0], 255, &v[0]) < 0 || u16_tok(&t[1], 3, &v[1]) < 0 ||
	    u16_tok(&t[2], 255, &v[2]) < 0 || t[3].quoted || t[3].len >= DN_TEXTMAX)
		return -EPROTO;
	for (int i = 0; i < 3; i++)
		out[i] = (uint8_t) v[i];
	memcpy(buf, t[3].s, t[3].len);
	buf[t[3].len] = '\0';
	switch (v[1]) {
	case 0:
		if (strcmp(buf, ".") != 0)
			return -EPROTO;
		break;
	case 1:
		if (inet_pton(AF_INET, buf, out + o) != 1)
			return -EPROTO;
		o += 4;
		break;
	case 2:
		if (inet_pton(AF_INET6, buf, out + o) != 1)
			return -EPROTO;
		o += 16;
		break;
	default:
		r = name_tok(&t[3], origin, out + o, false);
		if (r <= 0)
			return -EPROTO;
		o += (size_t) r;
		break;
	}
	if (n == 4)
		return v[2] == 0 ? (int) o : -EPROTO;
	r = join_tokens(t, 4, n, buf, sizeof(buf));
	if (r <= 0)
		return -EPROTO;
	r = zk_b64_decode(buf, (size_t) r, out + o, out_max - o);
	return r > 0 ? (int) o + r : -EPROTO;
}

static int rdata_parse(uint16_t type, const sgn_token *t, size_t n, const uint8_t *origin,
		       uint8_t *out, size_t out_max)
{
	char buf[8192];
	uint32_t v[8];
	int r, o;

	if (number_out_of_range(type, t, n))
		return -ERANGE;
	if (out_max < 1024)
		return SGN_RDATA_FALLBACK;
	switch (type) {
	case T_A:
		if (n != 1 || t[0].quoted || t[0].len >= 16)
			return SGN_RDATA_FALLBACK;
		memcpy(buf, t[0].s, t[0].len);
		buf[t[0].len] = '\0';
		return inet_pton(AF_INET, buf, out) == 1 ? 4 : -EINVAL;
	case T_AAAA:
		if (n != 1 || t[0].quoted || t[0].len >= 46)
			return SGN_RDATA_FALLBACK;
		memcpy(buf, t[0].s, t[0].len);
		buf[t[0].len] = '\0';
		return inet_pton(AF_INET6, buf, out) == 1 ? 16 : -EINVAL;
	case T_NS: case T_CNAME: case T_PTR: case T_DNAME:
		if (n != 1)
			return SGN_RDATA_FALLBACK;
		r = name_tok(&t[0], origin, out, true);
		return r > 0 ? r : SGN_RDATA_FALLBACK;
	case T_MX:
		if (n != 2 || u16_tok(&t[0], 65535, &v[0]) < 0)
			return SGN_RDATA_FALLBACK;
		zk_put16(out, v[0]);
		r = name_tok(&t[1], origin, out + 2, true);
		return r > 0 ? r + 2 : SGN_RDATA_FALLBACK;
	case T_SRV:
		if (n != 4)
			return SGN_RDATA_FALLBACK;
		for (int i = 0; i < 3; i++) {
			if (u16_tok(&t[i], 65535, &v[i]) < 0)
				return SGN_RDATA_FALLBACK;
			zk_put16(out + 2 * i, v[i]);
		}
		r = name_tok(&t[3], origin, out + 6, true);
		return r > 0 ? r + 6 : SGN_RDATA_FALLBACK;
	case T_TXT: {
		size_t len = 0;
		bool full = false;

		if (n == 0)
			return SGN_RDATA_FALLBACK;
		/*
		 * Measured to the end even when out is full: over 65535 octets is refused here
		 * (ldns, the fallback, reads at most 65535 characters of a line and would cut
		 * the record short without a word).
		 */
		for (size_t i = 0; i < n; i++) {
			uint8_t scratch[256];

			full = full || len + 256 > out_max;
			r = charstr_tok(&t[i], full ? scratch : out + len);
			if (r < 0)
				return SGN_RDATA_FALLBACK;
			len += (size_t) r;
		}
		if (len > SGN_RDATA_MAX)
			return ZK_E_INVALID_RECORD;
		return full ? SGN_RDATA_FALLBACK : (int) len;
	}
	case T_SOA:
		if (n != 7)
			return SGN_RDATA_FALLBACK;
		r = name_tok(&t[0], origin, out, true);
		if (r <= 0)
			return SGN_RDATA_FALLBACK;
		o = r;
		r = name_tok(&t[1], origin, out + o, true);
		if (r <= 0)
			return SGN_RDATA_FALLBACK;
		o += r;
		if (u16_tok(&t[2], UINT32_MAX, &v[0]) < 0)
			return SGN_RDATA_FALLBACK;
		zk_put32(out + o, v[0]);
		o += 4;
		for (int i = 3; i < 7; i++) {
			if (t[i].quoted || sgn_parse_ttl(t[i].s, t[i].len, &v[0]) < 0)
				return SGN_RDATA_FALLBACK;
			zk_put32(out + o, v[0]);
			o += 4;
		}
		return o;
	case T_IPSECKEY:
		return ipseckey_parse(t, n, origin, out, out_max);
	case T_DS: case T_CDS:
		if (n < 4 || u16_tok(&t[0], 65535, &v[0]) < 0 || u16_tok(&t[1], 255, &v[1]) < 0 ||
		    u16_tok(&t[2], 255, &v[2]) < 0)
			return SGN_RDATA_FALLBACK;
		zk_put16(out, v[0]);
		out[2] = (uint8_t) v[1];
		out[3] = (uint8_t) v[2];
		r = join_tokens(t, 3, n, buf, sizeof(buf));
		if (r < 0)
			return SGN_RDATA_FALLBACK;
		r = zk_hex_decode(buf, (size_t) r, out + 4, out_max - 4);
		return r > 0 ? r + 4 : SGN_RDATA_FALLBACK;
	case T_DNSKEY: case T_CDNSKEY:
		if (n < 4 || u16_tok(&t[0], 65535, &v[0]) < 0 || u16_tok(&t[1], 255, &v[1]) < 0 ||
		    u16_tok(&t[2], 255, &v[2]) < 0)
			return SGN_RDATA_FALLBACK;
		zk_put16(out, v[0]);
		out[2] = (uint8_t) v[1];
		out[3] = (uint8_t) v[2];
		r = join_tokens(t, 3, n, buf, sizeof(buf));
		if (r < 0)
			return SGN_RDATA_FALLBACK;
		r = zk_b64_decode(buf, (size_t) r, out + 4, out_max - 4);
		return r > 0 ? r + 4 : SGN_RDATA_FALLBACK;
	case T_RRSIG: {
		int covered;

		if (n < 9)
			return SGN_RDATA_FALLBACK;
		covered = sgn_type_from_name(t[0].s, t[0].len);
		if (covered < 0 || u16_tok(&t[1], 255, &v[1]) < 0 ||
		    u16_tok(&t[2], 255, &v[2]) < 0 || u16_tok(&t[3], UINT32_MAX, &v[3]) < 0 ||
		    time_tok(&t[4], &v[4]) < 0 || time_tok(&t[5], &v[5]) < 0 ||
		    u16_tok(&t[6], 65535, &v[6]) < 0)
			return SGN_RDATA_FALLBACK;
		zk_put16(out, (uint32_t) covered);
		out[2] = (uint8_t) v[1];
		out[3] = (uint8_t) v[2];
		zk_put32(out + 4, v[3]);
		zk_put32(out + 8, v[4]);
		zk_put32(out + 12, v[5]);
		zk_put16(out + 16, v[6]);
		r = name_tok(&t[7], origin, out + 18, true);
		if (r <= 0)
			return SGN_RDATA_FALLBACK;
		o = 18 + r;
		r = join_tokens(t, 8, n, buf, sizeof(buf));
		if (r < 0)
			return SGN_RDATA_FALLBACK;
		r = zk_b64_decode(buf, (size_t) r, out + o, out_max - (size_t) o);
		return r > 0 ? r + o : SGN_RDATA_FALLBACK;
	}
	case T_NSEC:
		if (n < 1)
			return SGN_RDATA_FALLBACK;
		/* RFC 6840 §5.1: the next name is not lowercased in canonical form */
		r = name_tok(&t[0], origin, out, false);
		if (r <= 0)
			return SGN_RDATA_FALLBACK;
		o = r;
		r = types_bitmap(t, 1, n, out + o);
		return r >= 0 ? r + o : SGN_RDATA_FALLBACK;
	case T_NSEC3: case T_NSEC3PARAM: {
		size_t want = type == T_NSEC3 ? 5 : 4;

		if (n < want || u16_tok(&t[0], 255, &v[0]) < 0 || u16_tok(&t[1], 255, &v[1]) < 0 ||
		    u16_tok(&t[2], 65535, &v[2]) < 0 || t[3].quoted)
			return SGN_RDATA_FALLBACK;
		out[0] = (uint8_t) v[0];
		out[1] = (uint8_t) v[1];
		zk_put16(out + 2, v[2]);
		if (t[3].len == 1 && t[3].s[0] == '-') {
			out[4] = 0;
		} else {
			r = zk_hex_decode(t[3].s, t[3].len, out + 5, 255);
			if (r <= 0)
				return SGN_RDATA_FALLBACK;
			out[4] = (uint8_t) r;
		}
		o = 5 + out[4];
		if (type == T_NSEC3PARAM)
			return n == 4 ? o : SGN_RDATA_FALLBACK;
		r = dn_base32hex_decode(t[4].s, t[4].len, out + o + 1, 255);
		if (r <= 0 || t[4].quoted)
			return SGN_RDATA_FALLBACK;
		out[o] = (uint8_t) r;
		o += 1 + r;
		r = types_bitmap(t, 5, n, out + o);
		return r >= 0 ? r + o : SGN_RDATA_FALLBACK;
	}
	default:
		return SGN_RDATA_FALLBACK;
	}
}

int sgn_rdata_parse(uint16_t type, const sgn_token *t, size_t n, const uint8_t *origin,
		    uint8_t *out, size_t out_max)
{
	int r = rdata_parse(type, t, n, origin, out, out_max);

	/*
	 * RDATA has 16 bits for its length on the wire: longer is refused with
	 * ZK_E_INVALID_RECORD (possible when out_max exceeds 65535), never cut short later.
	 */
	return r > SGN_RDATA_MAX ? ZK_E_INVALID_RECORD : r;
}

/* ---------------------------------------------------------------- wire -> text */

int sgn_utoa(uint32_t v, char *out)
{
	char tmp[10];
	int n = 0, i = 0;

	do {
		tmp[n++] = (char) ('0' + v % 10);
		v /= 10;
	} while (v);
	while (n)
		out[i++] = tmp[--n];
	return i;
}

/* "%u %u %u " of three numbers */
static int u3(uint32_t a, uint32_t b, uint32_t c, char *out)
{
	int o = sgn_utoa(a, out);

	out[o++] = ' ';
	o += sgn_utoa(b, out + o);
	out[o++] = ' ';
	o += sgn_utoa(c, out + o);
	out[o++] = ' ';
	return o;
}

/*
 * YYYYMMDDHHMMSS of an RRSIG time. Signatures of one run share their inception and many
 * share a day, so the civil date of the last day seen is remembered (per thread).
 */
static int time14(uint32_t t, char *out)
{
	static __thread int64_t cached_day = -1;
	static __thread char cached_date[8];
	int64_t day = t / 86400;
	uint32_t sod = t % 86400, v[3] = { sod / 3600, sod / 60 % 60, sod % 60 };

	if (day != cached_day) {
		char buf[16];

		zk_time_str14((zk_time_t) day * 86400, buf, sizeof(buf));
		memcpy(cached_date, buf, 8);
		cached_day = day;
	}
	memcpy(out, cached_date, 8);
	for (int i = 0; i < 3; i++) {
		out[8 + 2 * i] = (char) ('0' + v[i] / 10);
		out[9 + 2 * i] = (char) ('0' + v[i] % 10);
	}
	return 14;
}

static int name_out(const uint8_t *rd, uint16_t len, uint16_t *pos, char *out)
{
	uint16_t p = *pos;

	/* bounds-checked walk: the RDATA may come from a file we did not write */
	while (p < len && rd[p]) {
		if (rd[p] > 63)
			return -EINVAL;
		p = (uint16_t) (p + rd[p] + 1);
	}
	if (p >= len)
		return -EINVAL;
	p++;
	{
		int n = (int) dn_to_text(rd + *pos, out);

		*pos = p;
		return n;
	}
}

static int charstr_out(const uint8_t *s, uint8_t l, char *out)
{
	static const char digits[] = "0123456789";
	char *o = out;

	*o++ = '"';
	for (uint8_t i = 0; i < l; i++) {
		uint8_t c = s[i];

		if (c == '"' || c == '\\') {
			*o++ = '\\';
			*o++ = (char) c;
		} else if (c < 0x20 || c >= 0x7f) {
			*o++ = '\\';
			*o++ = digits[c / 100];
			*o++ = digits[c / 10 % 10];
			*o++ = digits[c % 10];
		} else {
			*o++ = (char) c;
		}
	}
	*o++ = '"';
	return (int) (o - out);
}

/*
 * The type list of a bitmap, within `max` characters: a bitmap octet can stand for 8
 * types of up to 9 characters ("TYPE65280"), far beyond the 4 characters per octet that
 * sgn_rdata_format_max() allows, so a caller past the budget (-E2BIG) writes the record
 * in RFC 3597 generic form instead.
 */
static int bitmap_out(const uint8_t *bm, size_t len, char *out, size_t max)
{
	uint16_t types[8192];
	char tb[16];
	int n = sgn_bitmap_decode(bm, len, types, ZK_ELEMENTSOF(types)), o = 0;

	if (n < 0)
		return -EINVAL;
	for (int i = 0; i < n; i++) {
		const char *name = sgn_type_name(types[i], tb);
		size_t l = strlen(name);

		if ((size_t) o + l + 1 > max)
			return -E2BIG;
		out[o++] = ' ';
		memcpy(out + o, name, l);
		o += (int) l;
	}
	return o;
}

/* Any type, through ldns: the reference formatter for what we do not format ourselves. */
static int ldns_format(uint16_t type, const uint8_t *rd, uint16_t len, char *out)
{
	uint8_t wire[2 + SGN_RDATA_MAX];
	ldns_rr *rr = ldns_rr_new();
	ldns_buffer *b = NULL;
	size_t pos = 0;
	int n = -EINVAL;

	if (!rr)
		return -ENOMEM;
	ldns_rr_set_type(rr, type);
	zk_put16(wire, len);
	memcpy(wire + 2, rd, len);
	if (ldns_wire2rdf(rr, wire, 2u + len, &pos) != LDNS_STATUS_OK || pos != 2u + len)
		goto out;
	b = ldns_buffer_new(4u * len + 256);
	if (!b)
		goto out;
	for (size_t i = 0; i < ldns_rr_rd_count(rr); i++) {
		const ldns_rdf *f = ldns_rr_rdf(rr, i);

		if (i)
			ldns_buffer_printf(b, " ");
		/*
		 * Names by our own formatter: ldns leaves '"', '@' and '$' in a label as
		 * they are, and a '"' then starts a quoted string when the text is read
		 * back (a NAPTR replacement with a quote in a label came back as two fields).
		 */
		if (ldns_rdf_get_type(f) == LDNS_RDF_TYPE_DNAME) {
			char name[DN_TEXTMAX];

			dn_to_text(ldns_rdf_data(f), name);
			ldns_buffer_printf(b, "%s", name);
		} else if (ldns_rdf2buffer_str(b, f) != LDNS_STATUS_OK) {
			goto out;
		}
	}
	if (ldns_buffer_status(b) != LDNS_STATUS_OK ||
	    ldns_buffer_position(b) > sgn_rdata_format_max(len))
		goto out;
	n = (int) ldns_buffer_position(b);
	memcpy(out, ldns_buffer_begin(b), (size_t) n);
out:
	ldns_buffer_free(b);
	ldns_rr_free(rr);
	return n;
}

/* RFC 3597 §5 generic form, for types ldns does not know either. */
static int generic_format(const uint8_t *rd, uint16_t len, char *out)
{
	int o = sprintf(out, "\\# %u", len);

	if (len) {
		out[o++] = ' ';
		o += (int) zk_hex_encode(rd, len, out + o);
	}
	return o;
}

int sgn_rdata_format(uint16_t type, const uint8_t *rd, uint16_t len, char *out)
{
	char tb[16];
	uint16_t pos = 0;
	int o = 0, r;
	const ldns_rr_descriptor *d;

	switch (type) {
	case T_A:
		if (len != 4 || !inet_ntop(AF_INET, rd, out, 16))
			return -EINVAL;
		return (int) strlen(out);
	case T_AAAA:
		if (len != 16 || !inet_ntop(AF_INET6, rd, out, 46))
			return -EINVAL;
		return (int) strlen(out);
	case T_NS: case T_CNAME: case T_PTR: case T_DNAME:
		r = name_out(rd, len, &pos, out);
		return r < 0 || pos != len ? -EINVAL : r;
	case T_MX:
		if (len < 3)
			return -EINVAL;
		o = sgn_utoa(zk_get16(rd), out);
		out[o++] = ' ';
		pos = 2;
		r = name_out(rd, len, &pos, out + o);
		return r < 0 || pos != len ? -EINVAL : o + r;
	case T_SRV:
		if (len < 7)
			return -EINVAL;
		o = u3(zk_get16(rd), zk_get16(rd + 2), zk_get16(rd + 4), out);
		pos = 6;
		r = name_out(rd, len, &pos, out + o);
		return r < 0 || pos != len ? -EINVAL : o + r;
	case T_TXT:
		if (len == 0)
			return -EINVAL;
		while (pos < len) {
			uint8_t l = rd[pos];

			if (pos + 1u + l > len)
				return -EINVAL;
			if (o)
				out[o++] = ' ';
			o += charstr_out(rd + pos + 1, l, out + o);
			pos = (uint16_t) (pos + 1 + l);
		}
		return o;
	case T_SOA:
		r = name_out(rd, len, &pos, out);
		if (r < 0)
			return -EINVAL;
		o = r;
		out[o++] = ' ';
		r = name_out(rd, len, &pos, out + o);
		if (r < 0 || pos + 20 != len)
			return -EINVAL;
		o += r;
		for (int i = 0; i < 5; i++) {
			out[o++] = ' ';
			o += sgn_utoa(zk_get32(rd + pos + 4 * i), out + o);
		}
		return o;
	case T_IPSECKEY:
		/* ours, as its parser: ldns cannot format one without a key (algorithm 0) */
		if (len < 3 || rd[1] > 3)
			return -EINVAL;
		o = u3(rd[0], rd[1], rd[2], out);
		pos = 3;
		if (rd[1] == 0) {
			out[o++] = '.';
		} else if (rd[1] == 3) {
			r = name_out(rd, len, &pos, out + o);
			if (r < 0)
				return -EINVAL;
			o += r;
		} else {
			size_t al = rd[1] == 1 ? 4 : 16;

			if (len < pos + al || !inet_ntop(rd[1] == 1 ? AF_INET : AF_INET6, rd + pos,
							 out + o, 46))
				return -EINVAL;
			o += (int) strlen(out + o);
			pos = (uint16_t) (pos + al);
		}
		if (pos < len) {
			out[o++] = ' ';
			o += (int) zk_b64_encode(rd + pos, len - pos, out + o);
		} else if (rd[2] != 0) {
			return -EINVAL; /* a key algorithm without a key */
		}
		return o;
	case T_DS: case T_CDS:
		if (len < 5)
			return -EINVAL;
		o = u3(zk_get16(rd), rd[2], rd[3], out);
		o += (int) zk_hex_encode(rd + 4, len - 4u, out + o);
		return o;
	case T_DNSKEY: case T_CDNSKEY:
		if (len < 5)
			return -EINVAL;
		o = u3(zk_get16(rd), rd[2], rd[3], out);
		o += (int) zk_b64_encode(rd + 4, len - 4u, out + o);
		return o;
	case T_RRSIG:
		if (len < 20)
			return -EINVAL;
		{
			const char *tn = sgn_type_name(zk_get16(rd), tb);
			size_t tl = strlen(tn);

			memcpy(out, tn, tl);
			o = (int) tl;
			out[o++] = ' ';
			o += u3(rd[2], rd[3], zk_get32(rd + 4), out + o);
			o += time14(zk_get32(rd + 8), out + o);
			out[o++] = ' ';
			o += time14(zk_get32(rd + 12), out + o);
			out[o++] = ' ';
			o += sgn_utoa(zk_get16(rd + 16), out + o);
			out[o++] = ' ';
		}
		pos = 18;
		r = name_out(rd, len, &pos, out + o);
		if (r < 0 || pos >= len)
			return -EINVAL;
		o += r;
		out[o++] = ' ';
		o += (int) zk_b64_encode(rd + pos, len - pos, out + o);
		return o;
	case T_NSEC:
		r = name_out(rd, len, &pos, out);
		if (r < 0)
			return -EINVAL;
		o = r;
		r = bitmap_out(rd + pos, len - pos, out + o, sgn_rdata_format_max(len) - (size_t) o);
		if (r == -E2BIG)
			return generic_format(rd, len, out);
		return r < 0 ? -EINVAL : o + r;
	case T_NSEC3: case T_NSEC3PARAM:
		if (len < 5 || 5u + rd[4] > len)
			return -EINVAL;
		o = u3(rd[0], rd[1], zk_get16(rd + 2), out);
		if (rd[4] == 0)
			out[o++] = '-';
		else
			o += (int) zk_hex_encode(rd + 5, rd[4], out + o);
		pos = (uint16_t) (5 + rd[4]);
		if (type == T_NSEC3PARAM)
			return pos == len ? o : -EINVAL;
		if (pos >= len || pos + 1u + rd[pos] > len)
			return -EINVAL;
		out[o++] = ' ';
		o += (int) dn_base32hex(rd + pos + 1, rd[pos], out + o);
		pos = (uint16_t) (pos + 1 + rd[pos]);
		r = bitmap_out(rd + pos, len - pos, out + o, sgn_rdata_format_max(len) - (size_t) o);
		if (r == -E2BIG)
			return generic_format(rd, len, out);
		return r < 0 ? -EINVAL : o + r;
	default:
		d = ldns_rr_descript(type);
		if (d && d->_type == type && d->_name)
			return ldns_format(type, rd, len, out);
		return generic_format(rd, len, out);
	}
}
