/* SPDX-License-Identifier: MIT */
/*
 * keystore/key.c -- one DNSSEC key in memory: generation with OpenSSL 3 EVP, the DNSKEY rdata
 * encodings (RFC 3110 RSA, RFC 6605 ECDSA, RFC 8080 EdDSA), key tags (RFC 4034 App. B), the
 * self-test, the per-thread signer (the hot path: every RRSIG of every zone goes through
 * ks_signer_sign) and the public keys used to verify.
 *
 * Owns: ks_key (its EVP_PKEY), ks_signer, ks_pubkey. OpenSSL clears private key components
 * when the EVP_PKEY is freed; our own buffers that held private values are wiped here.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <ldns/ldns.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/rsa.h>

#include "keystore/internal.h"
#include "keystore/keystore.h"
#include "policy/zk-macro.h"

/* RFC 8624 §3.1 / RFC 9904: the algorithms we sign with. */
static const ks_alg algs[] = {
	{ .number = 8, .kind = KS_KIND_RSA, .mnemonic = "RSASHA256", .keytype = "RSA",
	  .sigalg = "RSA", .digest = "SHA256" },
	{ .number = 13, .kind = KS_KIND_ECDSA, .mnemonic = "ECDSAP256SHA256", .keytype = "EC",
	  .sigalg = "ECDSA", .group = "P-256", .digest = "SHA256", .key_len = 64, .sig_len = 64,
	  .bits = 256 },
	{ .number = 14, .kind = KS_KIND_ECDSA, .mnemonic = "ECDSAP384SHA384", .keytype = "EC",
	  .sigalg = "ECDSA", .group = "P-384", .digest = "SHA384", .key_len = 96, .sig_len = 96,
	  .bits = 384 },
	{ .number = 15, .kind = KS_KIND_EDDSA, .mnemonic = "ED25519", .keytype = "ED25519",
	  .sigalg = "ED25519", .raw_type = EVP_PKEY_ED25519, .key_len = 32, .sig_len = 64 },
	{ .number = 16, .kind = KS_KIND_EDDSA, .mnemonic = "ED448", .keytype = "ED448",
	  .sigalg = "ED448", .raw_type = EVP_PKEY_ED448, .key_len = 57, .sig_len = 114 },
};

/* Largest DER ECDSA-Sig-Value we parse: SEQUENCE of two INTEGERs of up to 48+1 bytes. */
#define ECDSA_DER_MAX (3 + 2 * (2 + 1 + 48))

static const char *const role_names[_KS_ROLE_MAX] = {
	[KS_ROLE_KSK] = "KSK",
	[KS_ROLE_ZSK] = "ZSK",
	[KS_ROLE_CSK] = "CSK",
};

const ks_alg *ks_alg_find(uint8_t number)
{
	for (size_t i = 0; i < ZK_ELEMENTSOF(algs); i++)
		if (algs[i].number == number)
			return &algs[i];
	return NULL;
}

int ks_ossl_fail(zk_error *reterr, int code, const char *fmt, ...)
{
	char msg[sizeof(reterr->message)], ossl[256] = "";
	unsigned long e = ERR_peek_error();
	va_list ap;

	if (e)
		ERR_error_string_n(e, ossl, sizeof(ossl));
	ERR_clear_error();
	if (!reterr)
		return code;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (ossl[0])
		return zk_fail(reterr, code, "%s: %s", msg, ossl);
	return zk_fail(reterr, code, "%s", msg);
}

/* ---------------------------------------------------------------- names and roles */

const char *ks_role_name(ks_role r)
{
	return (unsigned) r < _KS_ROLE_MAX ? role_names[r] : NULL;
}

int ks_role_from_name(const char *name)
{
	if (!name)
		return -EINVAL;
	for (int r = 0; r < _KS_ROLE_MAX; r++)
		if (strcasecmp(name, role_names[r]) == 0)
			return r;
	return -EINVAL;
}

int ks_zone_normalize(const char *zone, char **ret)
{
	ldns_rdf *d = NULL;
	char *s;

	if (!zone || !*zone || strlen(zone) >= KS_NAME_MAX)
		return -EINVAL;
	if (ldns_str2rdf_dname(&d, zone) != LDNS_STATUS_OK || !d)
		return -EINVAL;
	/* RFC 4034 §6.2: the canonical (lowercase) form is what file names and DS use. */
	ldns_dname2canonical(d);
	s = ldns_rdf2str(d);
	ldns_rdf_deep_free(d);
	if (!s)
		return -ENOMEM;
	*ret = s;
	return 0;
}

bool ks_zone_equal(const char *a, const char *b)
{
	return strcasecmp(a, b) == 0;
}

bool ks_algorithm_supported(uint8_t algorithm)
{
	const ks_alg *a = ks_alg_find(algorithm);
	EVP_SIGNATURE *sig;

	if (!a)
		return false;
	/* A failed fetch leaves an error behind; keep the caller's error queue as it was. */
	ERR_set_mark();
	sig = EVP_SIGNATURE_fetch(NULL, a->sigalg, NULL);
	ERR_pop_to_mark();
	EVP_SIGNATURE_free(sig);
	return sig != NULL;
}

/* ---------------------------------------------------------------- key tags */

/* RFC 4034 Appendix B, with the flags field replaced by `flags`. */
static uint16_t keytag_with_flags(const uint8_t *rdata, size_t len, uint16_t flags)
{
	uint32_t ac = 0;

	if (len < 4)
		return 0;
	/* Appendix B.1: algorithm 1 (RSA/MD5) uses the low bits of the modulus instead. */
	if (rdata[3] == 1)
		return len >= 7 ? (uint16_t) (rdata[len - 3] << 8 | rdata[len - 2]) : 0;
	ac = (uint32_t) flags;
	for (size_t i = 2; i < len; i++)
		ac += (i & 1) ? rdata[i] : (uint32_t) rdata[i] << 8;
	ac += (ac >> 16) & 0xFFFF;
	return (uint16_t) (ac & 0xFFFF);
}

uint16_t ks_keytag(const uint8_t *rdata, size_t len)
{
	if (len < 4)
		return 0;
	return keytag_with_flags(rdata, len, (uint16_t) (rdata[0] << 8 | rdata[1]));
}

uint16_t ks_keytag_revoked(const uint8_t *rdata, size_t len)
{
	if (len < 4)
		return 0;
	return keytag_with_flags(rdata, len,
				 (uint16_t) ((rdata[0] << 8 | rdata[1]) | KS_FLAG_REVOKE));
}

bool ks_tags_collide(uint16_t tag_a, uint16_t revoked_a, uint16_t tag_b, uint16_t revoked_b)
{
	return tag_a == tag_b || tag_a == revoked_b || revoked_a == tag_b ||
	       revoked_a == revoked_b;
}

bool ks_key_collides(const ks_key *k, ks_key *const *keys, size_t n, const ks_key **ret_with)
{
	uint16_t rk = ks_keytag_revoked(k->dnskey, k->dnskey_len);

	for (size_t i = 0; i < n; i++) {
		const ks_key *o = keys[i];

		if (o == k)
			continue;
		if (ks_tags_collide(k->tag, rk, o->tag,
				    ks_keytag_revoked(o->dnskey, o->dnskey_len))) {
			if (ret_with)
				*ret_with = o;
			return true;
		}
	}
	return false;
}

/* ---------------------------------------------------------------- OpenSSL plumbing */

int ks_pkey_get_uint(const EVP_PKEY *pkey, const char *name, uint8_t *out, size_t max,
		     size_t *ret_len, zk_error *reterr)
{
	uint8_t native[KS_RSA_MAX_BYTES], be[KS_RSA_MAX_BYTES];
	OSSL_PARAM params[2];
	size_t off = 0, n;
	int r = 0;

	memset(native, 0, sizeof(native));
	params[0] = OSSL_PARAM_construct_BN(name, native, sizeof(native));
	params[1] = OSSL_PARAM_construct_end();
	if (EVP_PKEY_get_params(pkey, params) != 1 || !OSSL_PARAM_modified(params) ||
	    params[0].return_size == 0 || params[0].return_size > sizeof(native)) {
		r = ks_ossl_fail(reterr, ZK_E_CRYPTO, "cannot read key parameter %s", name);
		goto out;
	}
	/*
	 * The value fills return_size bytes, zero-padded in native order (the whole buffer
	 * for RSA, the group order's size for an EC private key): make it minimal big-endian.
	 */
	n = params[0].return_size;
	ks_swap_order(native, n, be);
	while (off + 1 < n && be[off] == 0)
		off++;
	n -= off;
	if (n > max) {
		r = zk_fail(reterr, -ENOBUFS, "key parameter %s is too large", name);
		goto out;
	}
	memcpy(out, be + off, n);
	*ret_len = n;
out:
	zk_wipe(native, sizeof(native));
	zk_wipe(be, sizeof(be));
	return r;
}

int ks_pkey_fromdata(const char *keytype, int selection, OSSL_PARAM params[], EVP_PKEY **ret,
		     zk_error *reterr)
{
	_cleanup_(EVP_PKEY_CTX_free_p) EVP_PKEY_CTX *ctx = NULL;
	EVP_PKEY *pkey = NULL;

	ctx = EVP_PKEY_CTX_new_from_name(NULL, keytype, NULL);
	if (!ctx)
		return ks_ossl_fail(reterr, ZK_E_UNSUPPORTED, "OpenSSL has no %s keys", keytype);
	if (EVP_PKEY_fromdata_init(ctx) != 1 ||
	    EVP_PKEY_fromdata(ctx, &pkey, selection, params) != 1)
		return ks_ossl_fail(reterr, ZK_E_KEY, "malformed %s key", keytype);
	*ret = pkey;
	return 0;
}

/* ---------------------------------------------------------------- DNSKEY rdata */

/* Public key part of the DNSKEY rdata of `pkey`, written to `out`. */
static int dnskey_pubkey(const ks_alg *a, const EVP_PKEY *pkey, uint8_t *out, size_t max,
			 size_t *ret_len, zk_error *reterr)
{
	uint8_t n[KS_RSA_MAX_BYTES], e[KS_RSA_MAX_BYTES], point[1 + 96];
	size_t n_len, e_len, len;
	int r;

	switch (a->kind) {
	case KS_KIND_RSA:
		r = ks_pkey_get_uint(pkey, OSSL_PKEY_PARAM_RSA_N, n, sizeof(n), &n_len, reterr);
		if (r < 0)
			return r;
		r = ks_pkey_get_uint(pkey, OSSL_PKEY_PARAM_RSA_E, e, sizeof(e), &e_len, reterr);
		if (r < 0)
			return r;
		/* RFC 3110 §2: exponent length in one octet, or zero and two octets. */
		len = (e_len <= 255 ? 1 : 3) + e_len + n_len;
		if (len > max)
			return zk_fail(reterr, -ENOBUFS, "RSA key too large for a DNSKEY");
		if (e_len <= 255) {
			*out++ = (uint8_t) e_len;
		} else {
			*out++ = 0;
			*out++ = (uint8_t) (e_len >> 8);
			*out++ = (uint8_t) e_len;
		}
		memcpy(out, e, e_len);
		memcpy(out + e_len, n, n_len);
		*ret_len = len;
		return 0;
	case KS_KIND_ECDSA:
		/* RFC 6605 §4: x || y, without the 0x04 uncompressed-point prefix. */
		if (EVP_PKEY_get_octet_string_param(pkey, OSSL_PKEY_PARAM_PUB_KEY, point,
						    sizeof(point), &len) != 1)
			return ks_ossl_fail(reterr, ZK_E_CRYPTO, "cannot read the EC public key");
		if (len != 1 + a->key_len || point[0] != 0x04)
			return zk_fail(reterr, ZK_E_CRYPTO, "EC public key is not an uncompressed "
				       "%s point", a->group);
		if (a->key_len > max)
			return zk_fail(reterr, -ENOBUFS, "EC key too large for a DNSKEY");
		memcpy(out, point + 1, a->key_len);
		*ret_len = a->key_len;
		return 0;
	case KS_KIND_EDDSA:
		/* RFC 8080 §3: the raw public key. */
		len = max;
		if (EVP_PKEY_get_raw_public_key(pkey, out, &len) != 1 || len != a->key_len)
			return ks_ossl_fail(reterr, ZK_E_CRYPTO, "cannot read the %s public key",
					    a->mnemonic);
		*ret_len = len;
		return 0;
	}
	return zk_fail(reterr, ZK_E_UNSUPPORTED, "algorithm %u", a->number);
}

static int rsa_split(const uint8_t *key, size_t klen, const uint8_t **e, size_t *e_len,
		     const uint8_t **n, size_t *n_len, zk_error *reterr);

/* Checks shared by every consumer of DNSKEY rdata; returns the algorithm row. */
static int dnskey_check(const uint8_t *rdata, size_t len, const ks_alg **ret, zk_error *reterr)
{
	const ks_alg *a = NULL;
	size_t klen;

	if (len < 5)
		return zk_fail(reterr, ZK_E_KEY, "DNSKEY rdata is too short (%zu bytes)", len);
	if (len > KS_DNSKEY_MAX)
		return zk_fail(reterr, ZK_E_KEY, "DNSKEY rdata is too long (%zu bytes)", len);
	/* RFC 4034 §2.1.2: the protocol field MUST be 3. */
	if (rdata[2] != 3)
		return zk_fail(reterr, ZK_E_KEY, "DNSKEY protocol is %u, not 3", rdata[2]);
	a = ks_alg_find(rdata[3]);
	if (!a || !ks_algorithm_supported(rdata[3]))
		return zk_fail(reterr, ZK_E_UNSUPPORTED, "DNSKEY algorithm %u is not supported",
			       rdata[3]);
	klen = len - 4;
	if (a->kind == KS_KIND_RSA) {
		const uint8_t *e, *n;
		size_t e_len, n_len;
		int r = rsa_split(rdata + 4, klen, &e, &e_len, &n, &n_len, reterr);

		if (r < 0)
			return r;
	} else if (klen != a->key_len) {
		return zk_fail(reterr, ZK_E_KEY, "%s public key is %zu bytes, not %zu",
			       a->mnemonic, klen, a->key_len);
	}
	*ret = a;
	return 0;
}

/* RFC 3110 §2: split the RSA public key into exponent and modulus. */
static int rsa_split(const uint8_t *key, size_t klen, const uint8_t **e, size_t *e_len,
		     const uint8_t **n, size_t *n_len, zk_error *reterr)
{
	size_t hdr = 1, el;

	if (klen < 1)
		return zk_fail(reterr, ZK_E_KEY, "RSA public key is empty");
	el = key[0];
	if (el == 0) {
		if (klen < 3)
			return zk_fail(reterr, ZK_E_KEY, "RSA exponent length is truncated");
		el = (size_t) key[1] << 8 | key[2];
		hdr = 3;
	}
	if (el == 0 || hdr + el >= klen)
		return zk_fail(reterr, ZK_E_KEY, "RSA exponent length %zu does not fit the key",
			       el);
	*e = key + hdr;
	*e_len = el;
	*n = key + hdr + el;
	*n_len = klen - hdr - el;
	if (*n_len < KS_RSA_MIN_BYTES || *n_len > KS_RSA_MAX_BYTES)
		return zk_fail(reterr, ZK_E_KEY, "RSA modulus of %zu bits is outside 512-4096",
			       *n_len * 8);
	return 0;
}

/* An EVP_PKEY holding only the public key of DNSKEY rdata (already checked). */
static int pkey_from_dnskey(const ks_alg *a, const uint8_t *rdata, size_t len, EVP_PKEY **ret,
			    zk_error *reterr)
{
	const uint8_t *key = rdata + 4, *e, *n;
	size_t klen = len - 4, e_len, n_len;
	uint8_t e_native[KS_RSA_MAX_BYTES], n_native[KS_RSA_MAX_BYTES], point[1 + 96];
	OSSL_PARAM params[3];
	EVP_PKEY *pkey;
	int r;

	switch (a->kind) {
	case KS_KIND_RSA:
		r = rsa_split(key, klen, &e, &e_len, &n, &n_len, reterr);
		if (r < 0)
			return r;
		if (e_len > sizeof(e_native))
			return zk_fail(reterr, ZK_E_KEY, "RSA exponent is too long");
		ks_swap_order(n, n_len, n_native);
		ks_swap_order(e, e_len, e_native);
		params[0] = OSSL_PARAM_construct_BN(OSSL_PKEY_PARAM_RSA_N, n_native, n_len);
		params[1] = OSSL_PARAM_construct_BN(OSSL_PKEY_PARAM_RSA_E, e_native, e_len);
		params[2] = OSSL_PARAM_construct_end();
		return ks_pkey_fromdata("RSA", EVP_PKEY_PUBLIC_KEY, params, ret, reterr);
	case KS_KIND_ECDSA:
		point[0] = 0x04;
		memcpy(point + 1, key, a->key_len);
		params[0] = OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME,
							     (char *) a->group, 0);
		params[1] = OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, point,
							      1 + a->key_len);
		params[2] = OSSL_PARAM_construct_end();
		/* OpenSSL refuses a point that is not on the curve. */
		return ks_pkey_fromdata("EC", EVP_PKEY_PUBLIC_KEY, params, ret, reterr);
	case KS_KIND_EDDSA:
		pkey = EVP_PKEY_new_raw_public_key(a->raw_type, NULL, key, klen);
		if (!pkey)
			return ks_ossl_fail(reterr, ZK_E_KEY, "malformed %s public key",
					    a->mnemonic);
		*ret = pkey;
		return 0;
	}
	return zk_fail(reterr, ZK_E_UNSUPPORTED, "algorithm %u", a->number);
}

/* ---------------------------------------------------------------- ks_key */

ks_key *ks_key_free(ks_key *k)
{
	if (!k)
		return NULL;
	EVP_PKEY_free(k->pkey); /* clears the private components */
	free(k->zone);
	free(k->basename);
	zk_wipe(k, sizeof(*k));
	free(k);
	return NULL;
}

int ks_key_assemble(const char *zone, const uint8_t *dnskey, size_t dnskey_len, ks_role role,
		    EVP_PKEY **pkey, ks_key **ret, zk_error *reterr)
{
	_cleanup_(EVP_PKEY_free_p) EVP_PKEY *p = ZK_TAKE(*pkey);
	_cleanup_(ks_key_free_p) ks_key *k = NULL;
	const ks_alg *a = NULL;
	int r;

	if ((unsigned) role >= _KS_ROLE_MAX)
		return zk_fail(reterr, -EINVAL, "invalid key role %d", (int) role);
	r = dnskey_check(dnskey, dnskey_len, &a, reterr);
	if (r < 0)
		return r;
	/* RFC 4034 §2.1.1: only a key with the Zone Key flag may verify zone data. */
	if (!((dnskey[0] << 8 | dnskey[1]) & KS_FLAG_ZONE))
		return zk_fail(reterr, ZK_E_KEY, "DNSKEY flags %u lack the Zone Key bit",
			       (unsigned) (dnskey[0] << 8 | dnskey[1]));
	if (!p || !EVP_PKEY_is_a(p, a->keytype) ||
	    (a->bits && (unsigned) EVP_PKEY_get_bits(p) != a->bits))
		return zk_fail(reterr, ZK_E_KEY, "private key is not a %s key", a->mnemonic);

	k = calloc(1, sizeof(*k));
	if (!k)
		return zk_fail(reterr, -ENOMEM, "out of memory");
	r = ks_zone_normalize(zone, &k->zone);
	if (r < 0)
		return zk_fail(reterr, r, "invalid zone name '%s'", zone);
	k->algorithm = a->number;
	k->flags = (uint16_t) (dnskey[0] << 8 | dnskey[1]);
	k->role = role;
	memcpy(k->dnskey, dnskey, dnskey_len);
	k->dnskey_len = dnskey_len;
	k->tag = ks_keytag(dnskey, dnskey_len);
	/* The names dnssec-keygen and ldns-keygen give: K<zone>+<alg>+<tag>. */
	if (asprintf(&k->basename, "K%s+%03u+%05u", k->zone, k->algorithm, k->tag) < 0) {
		k->basename = NULL;
		return zk_fail(reterr, -ENOMEM, "out of memory");
	}
	k->pkey = ZK_TAKE(p);
	*ret = ZK_TAKE(k);
	return 0;
}

static int generate_pkey(const ks_alg *a, EVP_PKEY **ret, zk_error *reterr)
{
	_cleanup_(EVP_PKEY_CTX_free_p) EVP_PKEY_CTX *ctx = NULL;
	EVP_PKEY *pkey = NULL;
	BIGNUM *e;
	int ok;

	ctx = EVP_PKEY_CTX_new_from_name(NULL, a->keytype, NULL);
	if (!ctx || EVP_PKEY_keygen_init(ctx) != 1)
		return ks_ossl_fail(reterr, ZK_E_CRYPTO, "cannot set up %s key generation",
				    a->mnemonic);
	switch (a->kind) {
	case KS_KIND_RSA:
		/* RFC 8624 §3.1 / RFC 3110: 2048-bit modulus, exponent 65537 (F4). */
		e = BN_new();
		ok = e && BN_set_word(e, 65537) &&
		     EVP_PKEY_CTX_set_rsa_keygen_bits(ctx, 2048) == 1 &&
		     EVP_PKEY_CTX_set1_rsa_keygen_pubexp(ctx, e) == 1;
		BN_free(e);
		if (!ok)
			return ks_ossl_fail(reterr, ZK_E_CRYPTO, "cannot set RSA key parameters");
		break;
	case KS_KIND_ECDSA:
		if (EVP_PKEY_CTX_set_group_name(ctx, a->group) != 1)
			return ks_ossl_fail(reterr, ZK_E_CRYPTO, "cannot select curve %s",
					    a->group);
		break;
	case KS_KIND_EDDSA:
		break;
	}
	if (EVP_PKEY_generate(ctx, &pkey) != 1)
		return ks_ossl_fail(reterr, ZK_E_CRYPTO, "%s key generation failed",
				    a->mnemonic);
	*ret = pkey;
	return 0;
}

int ks_key_generate(uint8_t algorithm, ks_role role, const char *zone, zk_time_t now,
		    ks_key **ret, zk_error *reterr)
{
	_cleanup_(EVP_PKEY_free_p) EVP_PKEY *pkey = NULL;
	_cleanup_(ks_key_free_p) ks_key *k = NULL;
	const ks_alg *a = ks_alg_find(algorithm);
	uint8_t rdata[KS_DNSKEY_MAX];
	uint16_t flags;
	size_t klen = 0;
	int r;

	if (!a || !ks_algorithm_supported(algorithm))
		return zk_fail(reterr, ZK_E_UNSUPPORTED, "algorithm %u is not supported",
			       algorithm);
	if ((unsigned) role >= _KS_ROLE_MAX)
		return zk_fail(reterr, -EINVAL, "invalid key role %d", (int) role);
	r = generate_pkey(a, &pkey, reterr);
	if (r < 0)
		return r;

	/* RFC 4034 §2.1.1 Zone Key; RFC 3757 SEP for the keys the parent DS points at. */
	flags = KS_FLAG_ZONE | (role == KS_ROLE_ZSK ? 0 : KS_FLAG_SEP);
	rdata[0] = (uint8_t) (flags >> 8);
	rdata[1] = (uint8_t) flags;
	rdata[2] = 3;
	rdata[3] = algorithm;
	r = dnskey_pubkey(a, pkey, rdata + 4, sizeof(rdata) - 4, &klen, reterr);
	if (r < 0)
		return r;
	r = ks_key_assemble(zone, rdata, 4 + klen, role, &pkey, &k, reterr);
	if (r < 0)
		return r;
	k->timing.created = now;

	r = ks_key_self_test(k, reterr);
	if (r < 0) {
		zk_error_prefix(reterr, "generated key failed its self-test");
		if (reterr)
			reterr->code = ZK_E_CRYPTO;
		return ZK_E_CRYPTO;
	}
	*ret = ZK_TAKE(k);
	return 0;
}

uint8_t ks_key_algorithm(const ks_key *k)
{
	return k->algorithm;
}

uint16_t ks_key_tag(const ks_key *k)
{
	return k->tag;
}

uint16_t ks_key_flags(const ks_key *k)
{
	return k->flags;
}

ks_role ks_key_role(const ks_key *k)
{
	return k->role;
}

const char *ks_key_zone(const ks_key *k)
{
	return k->zone;
}

const char *ks_key_basename(const ks_key *k)
{
	return k->basename;
}

const uint8_t *ks_key_dnskey(const ks_key *k, size_t *ret_len)
{
	if (ret_len)
		*ret_len = k->dnskey_len;
	return k->dnskey;
}

const ks_timing *ks_key_timing(const ks_key *k)
{
	return &k->timing;
}

void ks_key_set_timing(ks_key *k, const ks_timing *t)
{
	k->timing = *t;
}

bool ks_key_signs_dnskey(const ks_key *k)
{
	return k->role == KS_ROLE_KSK || k->role == KS_ROLE_CSK;
}

bool ks_key_signs_zone(const ks_key *k)
{
	return k->role == KS_ROLE_ZSK || k->role == KS_ROLE_CSK;
}

bool ks_key_is_published(const ks_key *k, zk_time_t now)
{
	const ks_timing *t = &k->timing;

	return t->publish != 0 && t->publish <= now && (t->remove == 0 || t->remove > now);
}

bool ks_key_is_active(const ks_key *k, zk_time_t now)
{
	const ks_timing *t = &k->timing;

	return ks_key_is_published(k, now) && t->active != 0 && t->active <= now &&
	       (t->retire == 0 || t->retire > now);
}

int ks_key_self_test(const ks_key *k, zk_error *reterr)
{
	static const uint8_t probe[] = "zonekeeper self-test: a signature made with the private "
				       "key must verify with the published DNSKEY";
	_cleanup_(ks_signer_free_p) ks_signer *s = NULL;
	_cleanup_(ks_pubkey_free_p) ks_pubkey *p = NULL;
	uint8_t sig[KS_SIG_MAX];
	int n, r;

	r = ks_signer_new(k, &s, reterr);
	if (r < 0)
		return r;
	n = ks_signer_sign(s, probe, sizeof(probe), sig, sizeof(sig));
	if (n < 0)
		return zk_fail(reterr, ZK_E_KEY, "%s: cannot sign with the private key",
			       k->basename);
	r = ks_pubkey_from_dnskey(k->dnskey, k->dnskey_len, &p, reterr);
	if (r < 0)
		return r;
	/* Invariants 6, 17: the key we hold must match the DNSKEY we would publish. */
	if (ks_pubkey_verify(p, probe, sizeof(probe), sig, (size_t) n) != 0)
		return zk_fail(reterr, ZK_E_KEY, "private key of %s does not match its DNSKEY",
			       k->basename);
	/* And the verifier must be able to say no, or the line above proves nothing. */
	sig[n / 2] ^= 0x01;
	if (ks_pubkey_verify(p, probe, sizeof(probe), sig, (size_t) n) == 0)
		return zk_fail(reterr, ZK_E_CRYPTO, "%s: a corrupted signature verified",
			       k->basename);
	return 0;
}

/* ---------------------------------------------------------------- ECDSA encodings */

static int der_length(const uint8_t **p, const uint8_t *end, size_t *ret)
{
	uint8_t b;

	if (*p >= end)
		return -1;
	b = *(*p)++;
	if (b < 0x80) {
		*ret = b;
		return 0;
	}
	/* Long form: only 0x81 is possible for the curves we use (DER, X.690 §10.1). */
	if (b != 0x81 || *p >= end || **p < 0x80)
		return -1;
	*ret = *(*p)++;
	return 0;
}

static int der_integer(const uint8_t **p, const uint8_t *end, size_t width, uint8_t *out)
{
	const uint8_t *v;
	size_t len;

	if (*p >= end || *(*p)++ != 0x02 || der_length(p, end, &len) < 0 || len == 0 ||
	    len > (size_t) (end - *p))
		return -1;
	v = *p;
	*p += len;
	while (len > 1 && v[0] == 0) {
		v++;
		len--;
	}
	if (len > width)
		return -1;
	/* RFC 6605 §4: r and s are fixed-width, left-padded with zeros. */
	memset(out, 0, width - len);
	memcpy(out + width - len, v, len);
	return 0;
}

/* DER ECDSA-Sig-Value (RFC 3279 §2.2.3) to r || s of `width` bytes each. */
static int ecdsa_der_to_raw(const uint8_t *der, size_t der_len, size_t width, uint8_t *out)
{
	const uint8_t *p = der, *end = der + der_len;
	size_t len;

	if (p >= end || *p++ != 0x30 || der_length(&p, end, &len) < 0 ||
	    len != (size_t) (end - p))
		return -1;
	if (der_integer(&p, end, width, out) < 0 || der_integer(&p, end, width, out + width) < 0)
		return -1;
	return p == end ? 0 : -1;
}

static size_t der_put_integer(const uint8_t *v, size_t width, uint8_t *out)
{
	size_t pad;

	while (width > 1 && v[0] == 0) {
		v++;
		width--;
	}
	/* A set high bit would make the INTEGER negative: prefix a zero octet. */
	pad = (v[0] & 0x80) ? 1 : 0;
	out[0] = 0x02;
	out[1] = (uint8_t) (width + pad);
	out[2] = 0;
	memcpy(out + 2 + pad, v, width);
	return 2 + pad + width;
}

/* r || s back to DER for OpenSSL's verifier. `out` holds ECDSA_DER_MAX bytes. */
static size_t ecdsa_raw_to_der(const uint8_t *raw, size_t width, uint8_t *out)
{
	uint8_t body[ECDSA_DER_MAX];
	size_t len, hdr;

	len = der_put_integer(raw, width, body);
	len += der_put_integer(raw + width, width, body + len);
	out[0] = 0x30;
	if (len < 0x80) {
		out[1] = (uint8_t) len;
		hdr = 2;
	} else {
		out[1] = 0x81;
		out[2] = (uint8_t) len;
		hdr = 3;
	}
	memcpy(out + hdr, body, len);
	return hdr + len;
}

/* ---------------------------------------------------------------- ks_signer */

struct ks_signer {
	const ks_alg *alg;
	EVP_PKEY *pkey;      /* a reference of the key's pair: the signer may outlive no key */
	EVP_PKEY_CTX *pctx;  /* RSA, ECDSA: initialised once, used for every signature */
	EVP_MD_CTX *mdctx;   /* RSA, ECDSA: the hash; EdDSA: EVP_DigestSign */
	EVP_MD *md;          /* RSA, ECDSA: fetched once */
	size_t sig_size;     /* bytes EVP_PKEY_sign may write (DER for ECDSA) */
};

ks_signer *ks_signer_free(ks_signer *s)
{
	if (!s)
		return NULL;
	EVP_PKEY_CTX_free(s->pctx);
	EVP_MD_CTX_free(s->mdctx);
	EVP_MD_free(s->md);
	EVP_PKEY_free(s->pkey);
	free(s);
	return NULL;
}

int ks_signer_new(const ks_key *k, ks_signer **ret, zk_error *reterr)
{
	_cleanup_(ks_signer_free_p) ks_signer *s = NULL;
	const ks_alg *a = ks_alg_find(k->algorithm);

	if (!a || !k->pkey)
		return zk_fail(reterr, -EINVAL, "key has no usable private key");
	s = calloc(1, sizeof(*s));
	if (!s)
		return zk_fail(reterr, -ENOMEM, "out of memory");
	s->alg = a;
	if (EVP_PKEY_up_ref(k->pkey) != 1)
		return ks_ossl_fail(reterr, ZK_E_CRYPTO, "cannot reference the key");
	s->pkey = k->pkey;
	s->mdctx = EVP_MD_CTX_new();
	if (!s->mdctx)
		return zk_fail(reterr, -ENOMEM, "out of memory");
	if (a->kind == KS_KIND_EDDSA) {
		/* RFC 8080 §4: PureEdDSA over the data itself, one EVP_DigestSign per message. */
		s->sig_size = a->sig_len;
		*ret = ZK_TAKE(s);
		return 0;
	}

	s->md = EVP_MD_fetch(NULL, a->digest, NULL);
	if (!s->md)
		return ks_ossl_fail(reterr, ZK_E_UNSUPPORTED, "OpenSSL has no %s", a->digest);
	s->pctx = EVP_PKEY_CTX_new_from_pkey(NULL, s->pkey, NULL);
	if (!s->pctx || EVP_PKEY_sign_init(s->pctx) != 1)
		return ks_ossl_fail(reterr, ZK_E_CRYPTO, "cannot set up %s signing", a->mnemonic);
	/* RFC 5702 §3: RSASSA-PKCS1-v1_5 with the DigestInfo of SHA-256. */
	if (a->kind == KS_KIND_RSA && EVP_PKEY_CTX_set_rsa_padding(s->pctx, RSA_PKCS1_PADDING) != 1)
		return ks_ossl_fail(reterr, ZK_E_CRYPTO, "cannot select PKCS#1 v1.5 padding");
	if (EVP_PKEY_CTX_set_signature_md(s->pctx, s->md) != 1)
		return ks_ossl_fail(reterr, ZK_E_CRYPTO, "cannot select %s", a->digest);
	s->sig_size = (size_t) EVP_PKEY_get_size(s->pkey);
	if (s->sig_size == 0 || s->sig_size > (a->kind == KS_KIND_RSA ? KS_SIG_MAX : ECDSA_DER_MAX))
		return zk_fail(reterr, ZK_E_CRYPTO, "unexpected %s signature size %zu",
			       a->mnemonic, s->sig_size);
	*ret = ZK_TAKE(s);
	return 0;
}

int ks_signer_sign(ks_signer *s, const uint8_t *data, size_t len, uint8_t *sig, size_t sig_max)
{
	uint8_t digest[EVP_MAX_MD_SIZE], der[ECDSA_DER_MAX];
	unsigned dlen;
	size_t n;

	if (s->alg->kind == KS_KIND_EDDSA) {
		if (sig_max < s->alg->sig_len)
			return -ENOBUFS;
		n = sig_max;
		/* EdDSA signs the data itself, so the context is initialised per message. */
		if (EVP_DigestSignInit(s->mdctx, NULL, NULL, NULL, s->pkey) != 1 ||
		    EVP_DigestSign(s->mdctx, sig, &n, data, len) != 1)
			goto fail;
		return (int) n;
	}

	/*
	 * The context and the fetched digest are reused; OpenSSL 3.0 still re-creates its
	 * 112-byte SHA-2 state on every init, which is the only allocation of ours per
	 * signature (the ECDSA and RSA operations allocate inside OpenSSL).
	 */
	if (EVP_DigestInit_ex2(s->mdctx, s->md, NULL) != 1 ||
	    EVP_DigestUpdate(s->mdctx, data, len) != 1 ||
	    EVP_DigestFinal_ex(s->mdctx, digest, &dlen) != 1)
		goto fail;

	if (s->alg->kind == KS_KIND_RSA) {
		if (sig_max < s->sig_size)
			return -ENOBUFS;
		n = sig_max;
		if (EVP_PKEY_sign(s->pctx, sig, &n, digest, dlen) != 1)
			goto fail;
		return (int) n;
	}

	if (sig_max < s->alg->sig_len)
		return -ENOBUFS;
	n = sizeof(der);
	if (EVP_PKEY_sign(s->pctx, der, &n, digest, dlen) != 1)
		goto fail;
	if (ecdsa_der_to_raw(der, n, s->alg->sig_len / 2, sig) < 0)
		return ZK_E_CRYPTO;
	return (int) s->alg->sig_len;
fail:
	ERR_clear_error();
	return ZK_E_CRYPTO;
}

/* ---------------------------------------------------------------- ks_pubkey */

struct ks_pubkey {
	const ks_alg *alg;
	EVP_PKEY *pkey;
	EVP_MD *md; /* RSA, ECDSA */
};

ks_pubkey *ks_pubkey_free(ks_pubkey *p)
{
	if (!p)
		return NULL;
	EVP_PKEY_free(p->pkey);
	EVP_MD_free(p->md);
	free(p);
	return NULL;
}

int ks_pubkey_from_dnskey(const uint8_t *rdata, size_t len, ks_pubkey **ret, zk_error *reterr)
{
	_cleanup_(ks_pubkey_free_p) ks_pubkey *p = NULL;
	const ks_alg *a = NULL;
	int r;

	r = dnskey_check(rdata, len, &a, reterr);
	if (r < 0)
		return r;
	p = calloc(1, sizeof(*p));
	if (!p)
		return zk_fail(reterr, -ENOMEM, "out of memory");
	p->alg = a;
	r = pkey_from_dnskey(a, rdata, len, &p->pkey, reterr);
	if (r < 0)
		return r;
	if (a->digest) {
		p->md = EVP_MD_fetch(NULL, a->digest, NULL);
		if (!p->md)
			return ks_ossl_fail(reterr, ZK_E_UNSUPPORTED, "OpenSSL has no %s",
					    a->digest);
	}
	*ret = ZK_TAKE(p);
	return 0;
}

uint8_t ks_pubkey_algorithm(const ks_pubkey *p)
{
	return p->alg->number;
}

int ks_pubkey_verify(const ks_pubkey *p, const uint8_t *data, size_t len, const uint8_t *sig,
		     size_t sig_len)
{
	_cleanup_(EVP_PKEY_CTX_free_p) EVP_PKEY_CTX *ctx = NULL;
	_cleanup_(EVP_MD_CTX_free_p) EVP_MD_CTX *mdctx = NULL;
	uint8_t digest[EVP_MAX_MD_SIZE], der[ECDSA_DER_MAX];
	const uint8_t *s = sig;
	unsigned dlen;
	int ok;

	/* Contexts per call: nothing shared is modified, so threads may verify at once. */
	if (p->alg->kind == KS_KIND_EDDSA) {
		if (sig_len != p->alg->sig_len)
			return ZK_E_VERIFY;
		mdctx = EVP_MD_CTX_new();
		if (!mdctx)
			return -ENOMEM;
		ok = EVP_DigestVerifyInit(mdctx, NULL, NULL, NULL, p->pkey) == 1 &&
		     EVP_DigestVerify(mdctx, sig, sig_len, data, len) == 1;
		ERR_clear_error();
		return ok ? 0 : ZK_E_VERIFY;
	}

	if (p->alg->kind == KS_KIND_ECDSA) {
		if (sig_len != p->alg->sig_len)
			return ZK_E_VERIFY;
		sig_len = ecdsa_raw_to_der(sig, p->alg->sig_len / 2, der);
		s = der;
	}
	if (EVP_Digest(data, len, digest, &dlen, p->md, NULL) != 1) {
		ERR_clear_error();
		return ZK_E_CRYPTO;
	}
	ctx = EVP_PKEY_CTX_new_from_pkey(NULL, p->pkey, NULL);
	if (!ctx)
		return -ENOMEM;
	ok = EVP_PKEY_verify_init(ctx) == 1 &&
	     (p->alg->kind != KS_KIND_RSA ||
	      EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING) == 1) &&
	     EVP_PKEY_CTX_set_signature_md(ctx, p->md) == 1 &&
	     EVP_PKEY_verify(ctx, s, sig_len, digest, dlen) == 1;
	ERR_clear_error();
	return ok ? 0 : ZK_E_VERIFY;
}
