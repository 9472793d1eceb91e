/* SPDX-License-Identifier: MIT */
/*
 * tests/unit/test_keys.c -- key generation for every signing algorithm, DNSKEY encodings,
 * the signer and the verifier (round trips, corrupted signatures, the published RFC 6605 and
 * RFC 8080 signatures), the self-test against a mismatched key pair, and a signer used
 * 10000 times (run under ASan with detect_leaks=1 to prove it does not leak).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <ldns/ldns.h>

#include "keystore/internal.h"
#include "keystore/keystore.h"
#include "policy/zk-codec.h"
#include "policy/zk-time.h"
#include "tests/unit/unit.h"

typedef struct alg_case {
	uint8_t algorithm;
	size_t dnskey_len; /* rdata bytes: 4 + public key */
	size_t sig_len;
} alg_case;

static const alg_case cases[] = {
	{ 8, 4 + 1 + 3 + 256, 256 }, /* RFC 3110: e = 65537 in 3 bytes, 2048-bit modulus */
	{ 13, 4 + 64, 64 },          /* RFC 6605 §4 */
	{ 14, 4 + 96, 96 },
	{ 15, 4 + 32, 64 },          /* RFC 8080 §3, §4 */
	{ 16, 4 + 57, 114 },
};

static const uint8_t message[] = "www.example.com. A 192.0.2.1 (stands in for RRSIG data)";

/* ---------------------------------------------------------------- helpers */

static size_t b64(const char *text, uint8_t *out, size_t max)
{
	int n = zk_b64_decode(text, strlen(text), out, max);

	assert_true(n > 0);
	return (size_t) n;
}

static size_t put_name(const char *name, uint8_t *out)
{
	ldns_rdf *d = ldns_dname_new_frm_str(name);
	size_t n;

	assert_non_null(d);
	ldns_dname2canonical(d);
	n = ldns_rdf_size(d);
	memcpy(out, ldns_rdf_data(d), n);
	ldns_rdf_deep_free(d);
	return n;
}

static size_t put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t) (v >> 8);
	p[1] = (uint8_t) v;
	return 2;
}

static size_t put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t) (v >> 16));
	put16(p + 2, (uint16_t) v);
	return 4;
}

/*
 * RFC 4034 §3.1.8.1 signed data for a one-record RRset: RRSIG rdata without the signature,
 * then the record in canonical form (original TTL).
 */
static size_t signed_data(uint8_t *out, uint16_t type, uint8_t alg, uint8_t labels, uint32_t ttl,
			  const char *expiration, const char *inception, uint16_t tag,
			  const char *signer, const char *owner, const uint8_t *rdata, size_t rdlen)
{
	zk_time_t exp, inc;
	size_t n = 0;

	assert_int_equal(zk_time_parse14(expiration, &exp), 0);
	assert_int_equal(zk_time_parse14(inception, &inc), 0);
	n += put16(out + n, type);
	out[n++] = alg;
	out[n++] = labels;
	n += put32(out + n, ttl);
	n += put32(out + n, (uint32_t) exp);
	n += put32(out + n, (uint32_t) inc);
	n += put16(out + n, tag);
	n += put_name(signer, out + n);
	n += put_name(owner, out + n);
	n += put16(out + n, type);
	n += put16(out + n, 1); /* IN */
	n += put32(out + n, ttl);
	n += put16(out + n, (uint16_t) rdlen);
	memcpy(out + n, rdata, rdlen);
	return n + rdlen;
}

static size_t dnskey_rdata(uint16_t flags, uint8_t alg, const char *key_b64, uint8_t *out)
{
	put16(out, flags);
	out[2] = 3;
	out[3] = alg;
	return 4 + b64(key_b64, out + 4, KS_DNSKEY_MAX - 4);
}

/* ---------------------------------------------------------------- names and timing */

static void role_names_round_trip(void **state)
{
	(void) state;
	for (int r = 0; r < _KS_ROLE_MAX; r++)
		assert_int_equal(ks_role_from_name(ks_role_name((ks_role) r)), r);
	assert_int_equal(ks_role_from_name("csk"), KS_ROLE_CSK);
	assert_int_equal(ks_role_from_name("Ksk"), KS_ROLE_KSK);
	assert_int_equal(ks_role_from_name("XSK"), -EINVAL);
	assert_int_equal(ks_role_from_name(NULL), -EINVAL);
	assert_null(ks_role_name(_KS_ROLE_MAX));
}

static void algorithm_support(void **state)
{
	ks_key *k = (ks_key *) 0x1;
	zk_error err = { 0 };

	(void) state;
	for (size_t i = 0; i < ZK_ELEMENTSOF(cases); i++)
		if (cases[i].algorithm != 16)
			assert_true(ks_algorithm_supported(cases[i].algorithm));
	/* RSASHA1 (5), RSASHA1-NSEC3 (7), RSASHA512 (10), GOST (12): never signed with. */
	assert_false(ks_algorithm_supported(5));
	assert_false(ks_algorithm_supported(7));
	assert_false(ks_algorithm_supported(10));
	assert_false(ks_algorithm_supported(12));
	assert_int_equal(ks_key_generate(5, KS_ROLE_ZSK, "example.com.", 0, &k, &err),
			 ZK_E_UNSUPPORTED);
	assert_ptr_equal(k, (ks_key *) 0x1); /* untouched on failure */
	assert_int_equal(ks_key_generate(13, _KS_ROLE_MAX, "example.com.", 0, &k, NULL),
			 -EINVAL);
	assert_int_equal(ks_key_generate(13, KS_ROLE_ZSK, "bad..name", 0, &k, &err), -EINVAL);
}

static void publish_and_active_windows(void **state)
{
	ks_key *k = NULL;
	ks_timing t = { .created = 50, .publish = 100, .active = 200, .retire = 300,
			.remove = 400 };

	(void) state;
	assert_int_equal(ks_key_generate(15, KS_ROLE_ZSK, "example.com", 50, &k, NULL), 0);
	assert_int_equal(ks_key_timing(k)->created, 50);
	/* A fresh key is scheduled for nothing. */
	assert_false(ks_key_is_published(k, 1000));
	assert_false(ks_key_is_active(k, 1000));
	ks_key_set_timing(k, &t);
	assert_false(ks_key_is_published(k, 99));
	assert_true(ks_key_is_published(k, 100));
	assert_false(ks_key_is_active(k, 199));
	assert_true(ks_key_is_active(k, 200));
	assert_true(ks_key_is_active(k, 299));
	assert_false(ks_key_is_active(k, 300));
	assert_true(ks_key_is_published(k, 399));
	assert_false(ks_key_is_published(k, 400));
	/* Active needs published: an active time before publication does not count. */
	t = (ks_timing) { .active = 10 };
	ks_key_set_timing(k, &t);
	assert_false(ks_key_is_active(k, 20));
	t = (ks_timing) { .publish = 10, .active = 10 };
	ks_key_set_timing(k, &t);
	assert_true(ks_key_is_active(k, 10));
	assert_true(ks_key_is_active(k, INT64_MAX));
	ks_key_free(k);
}

static void frees_are_null_safe(void **state)
{
	(void) state;
	assert_null(ks_key_free(NULL));
	assert_null(ks_signer_free(NULL));
	assert_null(ks_pubkey_free(NULL));
	assert_null(ks_store_free(NULL));
}

/* ---------------------------------------------------------------- generation */

static void generate_each_algorithm(void **state)
{
	(void) state;
	for (size_t i = 0; i < ZK_ELEMENTSOF(cases); i++) {
		const alg_case *c = &cases[i];

		if (!ks_algorithm_supported(c->algorithm)) {
			print_message("  algorithm %u not supported by this OpenSSL: skipped\n",
				      c->algorithm);
			continue;
		}
		for (int role = 0; role < _KS_ROLE_MAX; role++) {
			ks_key *k = NULL;
			ks_signer *s = NULL;
			ks_pubkey *p = NULL;
			uint8_t sig[KS_SIG_MAX];
			const uint8_t *rdata;
			char base[64];
			size_t len;
			int n;

			assert_int_equal(ks_key_generate(c->algorithm, (ks_role) role,
							 "Example.COM", 1234, &k, NULL),
					 0);
			rdata = ks_key_dnskey(k, &len);
			assert_int_equal(ks_key_algorithm(k), c->algorithm);
			assert_int_equal(ks_key_role(k), role);
			/* RFC 4034 §2.1.1: 256 for a ZSK, 257 (SEP) for KSK and CSK. */
			assert_int_equal(ks_key_flags(k), role == KS_ROLE_ZSK ? 256 : 257);
			assert_int_equal(rdata[0] << 8 | rdata[1], ks_key_flags(k));
			assert_int_equal(rdata[2], 3);
			assert_int_equal(rdata[3], c->algorithm);
			assert_int_equal(len, c->dnskey_len);
			assert_int_equal(ks_key_tag(k), ks_keytag(rdata, len));
			assert_int_equal(ks_key_tag(k), ldns_calc_keytag_raw(rdata, len));
			assert_string_equal(ks_key_zone(k), "example.com.");
			snprintf(base, sizeof(base), "Kexample.com.+%03u+%05u", c->algorithm,
				 ks_key_tag(k));
			assert_string_equal(ks_key_basename(k), base);
			assert_int_equal(ks_key_timing(k)->created, 1234);
			assert_int_equal(ks_key_signs_dnskey(k), role != KS_ROLE_ZSK);
			assert_int_equal(ks_key_signs_zone(k), role != KS_ROLE_KSK);
			if (c->algorithm == 8) /* RFC 3110 §2: one length octet, e = 65537 */
				assert_memory_equal(rdata + 4, "\x03\x01\x00\x01", 4);

			/* Sign, verify; a flipped bit anywhere fails. */
			assert_int_equal(ks_signer_new(k, &s, NULL), 0);
			n = ks_signer_sign(s, message, sizeof(message), sig, sizeof(sig));
			assert_int_equal(n, (int) c->sig_len);
			assert_int_equal(ks_pubkey_from_dnskey(rdata, len, &p, NULL), 0);
			assert_int_equal(ks_pubkey_algorithm(p), c->algorithm);
			assert_int_equal(ks_pubkey_verify(p, message, sizeof(message), sig,
							  (size_t) n),
					 0);
			for (int bit = 0; bit < n * 8; bit += n * 8 / 7 + 1) {
				sig[bit / 8] ^= (uint8_t) (1u << (bit % 8));
				assert_int_equal(ks_pubkey_verify(p, message, sizeof(message), sig,
								  (size_t) n),
						 ZK_E_VERIFY);
				sig[bit / 8] ^= (uint8_t) (1u << (bit % 8));
			}
			/* ... and so does other data, or a truncated signature. */
			assert_int_equal(ks_pubkey_verify(p, message, sizeof(message) - 1, sig,
							  (size_t) n),
					 ZK_E_VERIFY);
			assert_int_equal(ks_pubkey_verify(p, message, sizeof(message), sig,
							  (size_t) n - 1),
					 ZK_E_VERIFY);
			assert_int_equal(ks_key_self_test(k, NULL), 0);
			ks_pubkey_free(p);
			ks_signer_free(s);
			ks_key_free(k);
		}
	}
}

static void signer_refuses_a_small_buffer(void **state)
{
	(void) state;
	for (size_t i = 0; i < ZK_ELEMENTSOF(cases); i++) {
		ks_key *k = NULL;
		ks_signer *s = NULL;
		uint8_t sig[KS_SIG_MAX];

		if (!ks_algorithm_supported(cases[i].algorithm))
			continue;
		assert_int_equal(ks_key_generate(cases[i].algorithm, KS_ROLE_ZSK, "example.com.",
						 0, &k, NULL),
				 0);
		assert_int_equal(ks_signer_new(k, &s, NULL), 0);
		assert_int_equal(ks_signer_sign(s, message, sizeof(message), sig,
						cases[i].sig_len - 1),
				 -ENOBUFS);
		/* The signer still works afterwards. */
		assert_int_equal(ks_signer_sign(s, message, sizeof(message), sig, sizeof(sig)),
				 (int) cases[i].sig_len);
		ks_signer_free(s);
		ks_key_free(k);
	}
}

static void self_test_catches_a_mismatched_pair(void **state)
{
	(void) state;
	for (size_t i = 0; i < ZK_ELEMENTSOF(cases); i++) {
		ks_key *a = NULL, *b = NULL;
		EVP_PKEY *t;
		zk_error err = { 0 };

		if (!ks_algorithm_supported(cases[i].algorithm))
			continue;
		assert_int_equal(ks_key_generate(cases[i].algorithm, KS_ROLE_KSK, "example.com.", 0,
						 &a, NULL),
				 0);
		assert_int_equal(ks_key_generate(cases[i].algorithm, KS_ROLE_KSK, "example.com.", 0,
						 &b, NULL),
				 0);
		/* a's DNSKEY with b's private key: what an HSM returning the wrong key does. */
		t = a->pkey;
		a->pkey = b->pkey;
		b->pkey = t;
		assert_int_equal(ks_key_self_test(a, &err), ZK_E_KEY);
		assert_non_null(strstr(err.message, ks_key_basename(a)));
		assert_non_null(strstr(err.message, "does not match"));
		assert_int_equal(ks_key_self_test(b, NULL), ZK_E_KEY);
		b->pkey = a->pkey;
		a->pkey = t;
		assert_int_equal(ks_key_self_test(a, NULL), 0);
		ks_key_free(a);
		ks_key_free(b);
	}
}

/* ---------------------------------------------------------------- the hot path */

static void signer_survives_10000_signatures(void **state)
{
	ks_key *k = NULL;
	ks_signer *s = NULL;
	ks_pubkey *p = NULL;
	uint8_t data[64], sig[KS_SIG_MAX];
	const uint8_t *rdata;
	unsigned padded = 0;
	size_t len;

	(void) state;
	assert_int_equal(ks_key_generate(13, KS_ROLE_ZSK, "example.com.", 0, &k, NULL), 0);
	assert_int_equal(ks_signer_new(k, &s, NULL), 0);
	rdata = ks_key_dnskey(k, &len);
	assert_int_equal(ks_pubkey_from_dnskey(rdata, len, &p, NULL), 0);
	memset(data, 0, sizeof(data));
	for (unsigned i = 0; i < 10000; i++) {
		bool short_int;

		memcpy(data, &i, sizeof(i));
		assert_int_equal(ks_signer_sign(s, data, sizeof(data), sig, sizeof(sig)), 64);
		/*
		 * About 1 in 128 signatures has an r or s with a leading zero octet, which the
		 * DER form drops and RFC 6605 §4 puts back: those must verify too.
		 */
		short_int = sig[0] == 0 || sig[32] == 0;
		padded += short_int;
		if (short_int || i % 1000 == 0)
			assert_int_equal(ks_pubkey_verify(p, data, sizeof(data), sig, 64), 0);
	}
	print_message("  %u of 10000 signatures needed left-padding of r or s\n", padded);
	assert_true(padded > 0);
	ks_pubkey_free(p);
	ks_signer_free(s);
	ks_key_free(k);
}

static void eddsa_signer_survives_repeated_use(void **state)
{
	ks_key *k = NULL;
	ks_signer *s = NULL;
	uint8_t sig1[KS_SIG_MAX], sig2[KS_SIG_MAX];

	(void) state;
	assert_int_equal(ks_key_generate(15, KS_ROLE_ZSK, "example.com.", 0, &k, NULL), 0);
	assert_int_equal(ks_signer_new(k, &s, NULL), 0);
	assert_int_equal(ks_signer_sign(s, message, sizeof(message), sig1, sizeof(sig1)), 64);
	for (int i = 0; i < 2000; i++)
		assert_int_equal(ks_signer_sign(s, message, sizeof(message), sig2, sizeof(sig2)),
				 64);
	/* RFC 8032: Ed25519 is deterministic, so a reused context gives the same bytes. */
	assert_memory_equal(sig1, sig2, 64);
	ks_signer_free(s);
	ks_key_free(k);
}

/* ---------------------------------------------------------------- published signatures */

static void rfc6605_signatures_verify(void **state)
{
	static const struct {
		uint8_t alg;
		const char *key, *exp, *inc, *sig;
		uint16_t tag;
	} v[] = {
		/* RFC 6605 §6.1 */
		{ 13,
		  "GojIhhXUN/u4v54ZQqGSnyhWJwaubCvTmeexv7bR6edbkrSqQpF64cYbcB7wNcP+e+MAnLr+Wi9xMWyQLc8NAA==",
		  "20100909100439", "20100812100439",
		  "qx6wLYqmh+l9oCKTN6qIc+bw6ya+KJ8oMz0YP107epXAyGmt+3SNruPFKG7tZoLBLlUzGGus7ZwmwWep666VCw==",
		  55648 },
		/* RFC 6605 §6.2 */
		{ 14,
		  "xKYaNhWdGOfJ+nPrL8/arkwf2EY3MDJ+SErKivBVSum1w/egsXvSADtNJhyem5RCOpgQ6K8X1DRSEkrbYQ+OB+v8"
		  "/uX45NBwY8rp65F6Glur8I/mlVNgF6W/qTI37m40",
		  "20100909102025", "20100812102025",
		  "/L5hDKIvGDyI1fcARX3z65qrmPsVz73QD1Mr5CEqOiLP95hxQouuroGCeZOvzFaxsT8Glr74hbavRKayJNuy"
		  "dCuzWTSSPdz7wnqXL5bdcJzusdnI0RSMROxxwGipWcJm",
		  10771 },
	};
	const uint8_t a_rdata[] = { 192, 0, 2, 1 };

	(void) state;
	for (size_t i = 0; i < ZK_ELEMENTSOF(v); i++) {
		uint8_t key[KS_DNSKEY_MAX], sig[KS_SIG_MAX], data[512];
		size_t klen = dnskey_rdata(257, v[i].alg, v[i].key, key);
		size_t slen = b64(v[i].sig, sig, sizeof(sig));
		size_t dlen = signed_data(data, LDNS_RR_TYPE_A, v[i].alg, 3, 3600, v[i].exp,
					  v[i].inc, v[i].tag, "example.net.", "www.example.net.",
					  a_rdata, sizeof(a_rdata));
		ks_pubkey *p = NULL;

		assert_int_equal(ks_keytag(key, klen), v[i].tag);
		assert_int_equal(ks_pubkey_from_dnskey(key, klen, &p, NULL), 0);
		/* The RFC's r || s goes through our DER conversion to OpenSSL and verifies. */
		assert_int_equal(ks_pubkey_verify(p, data, dlen, sig, slen), 0);
		data[dlen - 1] ^= 1;
		assert_int_equal(ks_pubkey_verify(p, data, dlen, sig, slen), ZK_E_VERIFY);
		ks_pubkey_free(p);
	}
}

static char tmpdir[64];

static void write_text(const char *dir, const char *name, const char *text)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	assert_true(fputs(text, f) >= 0);
	assert_int_equal(fclose(f), 0);
}

static void rfc8080_ed25519_signature_is_reproduced(void **state)
{
	/*
	 * RFC 8080 §6.1 key 1, with the RRSIG as corrected by erratum 4935 (labels 2; the
	 * printed signature was made over wrong data). Ed25519 is deterministic: signing the
	 * same data with the RFC's private key must give exactly the published signature.
	 */
	static const char *key_file =
		"example.com. 3600 IN DNSKEY 257 3 15 l02Woi0iS8Aa25FQkUd9RMzZHJpBoRQwAQEX1SxZJA4=\n";
	static const char *private_file = "Private-key-format: v1.2\n"
					  "Algorithm: 15 (ED25519)\n"
					  "PrivateKey: ODIyNjAzODQ2MjgwODAxMjI2NDUxOTAyMDQxNDIyNjI=\n";
	static const char *want_b64 =
		"oL9krJun7xfBOIWcGHi7mag5/hdZrKWw15jPGrHpjQeRAvTdszaPD+QLs3fx8A4M3e23mRZ9VrbpMngwcrqNAg==";
	uint8_t mx[64], data[512], want[64], sig[KS_SIG_MAX];
	size_t mxlen, dlen;
	ks_key *k = NULL;
	ks_signer *s = NULL;
	ks_pubkey *p = NULL;
	char path[256];
	const uint8_t *rdata;
	size_t len;

	(void) state;
	assert_int_equal(unit_tmpdir(tmpdir, sizeof(tmpdir), "keys"), 0);
	write_text(tmpdir, "Kexample.com.+015+03613.key", key_file);
	write_text(tmpdir, "Kexample.com.+015+03613.private", private_file);
	snprintf(path, sizeof(path), "%s/Kexample.com.+015+03613.key", tmpdir);
	assert_int_equal(ks_key_load(path, &k, NULL), 0);
	assert_int_equal(ks_key_tag(k), 3613);

	put16(mx, 10);
	mxlen = 2 + put_name("mail.example.com.", mx + 2);
	dlen = signed_data(data, LDNS_RR_TYPE_MX, 15, 2, 3600, "20150819220000",
			   "20150729220000", 3613, "example.com.", "example.com.", mx, mxlen);
	assert_int_equal(b64(want_b64, want, sizeof(want)), 64);
	assert_int_equal(ks_signer_new(k, &s, NULL), 0);
	assert_int_equal(ks_signer_sign(s, data, dlen, sig, sizeof(sig)), 64);
	assert_memory_equal(sig, want, 64);
	rdata = ks_key_dnskey(k, &len);
	assert_int_equal(ks_pubkey_from_dnskey(rdata, len, &p, NULL), 0);
	assert_int_equal(ks_pubkey_verify(p, data, dlen, want, 64), 0);

	ks_pubkey_free(p);
	ks_signer_free(s);
	ks_key_free(k);
	unit_rmtree(tmpdir);
}

/* ---------------------------------------------------------------- malformed DNSKEYs */

static void malformed_dnskeys_are_refused(void **state)
{
	uint8_t key[KS_DNSKEY_MAX];
	size_t n = dnskey_rdata(257, 13,
				"GojIhhXUN/u4v54ZQqGSnyhWJwaubCvTmeexv7bR6edbkrSqQpF64cYbcB7wNcP+e+"
				"MAnLr+Wi9xMWyQLc8NAA==",
				key);
	ks_pubkey *p = (ks_pubkey *) 0x1;
	zk_error err = { 0 };

	(void) state;
	assert_int_equal(ks_pubkey_from_dnskey(key, n, &p, &err), 0);
	p = ks_pubkey_free(p);

	key[2] = 2; /* RFC 4034 §2.1.2: protocol 3 only */
	assert_int_equal(ks_pubkey_from_dnskey(key, n, &p, &err), ZK_E_KEY);
	key[2] = 3;
	assert_int_equal(ks_pubkey_from_dnskey(key, n - 1, &p, &err), ZK_E_KEY); /* short */
	assert_int_equal(ks_pubkey_from_dnskey(key, 3, &p, &err), ZK_E_KEY);
	key[n - 1] ^= 0x01; /* y no longer on the curve */
	assert_int_equal(ks_pubkey_from_dnskey(key, n, &p, &err), ZK_E_KEY);
	key[n - 1] ^= 0x01;
	key[3] = 5; /* RSASHA1 */
	assert_int_equal(ks_pubkey_from_dnskey(key, n, &p, &err), ZK_E_UNSUPPORTED);
	key[3] = 8; /* the P-256 bytes read as RFC 3110 RSA: exponent overruns */
	assert_int_equal(ks_pubkey_from_dnskey(key, n, &p, &err), ZK_E_KEY);
	assert_null(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(role_names_round_trip),
		cmocka_unit_test(algorithm_support),
		cmocka_unit_test(publish_and_active_windows),
		cmocka_unit_test(frees_are_null_safe),
		cmocka_unit_test(generate_each_algorithm),
		cmocka_unit_test(signer_refuses_a_small_buffer),
		cmocka_unit_test(self_test_catches_a_mismatched_pair),
		cmocka_unit_test(signer_survives_10000_signatures),
		cmocka_unit_test(eddsa_signer_survives_repeated_use),
		cmocka_unit_test(rfc6605_signatures_verify),
		cmocka_unit_test(rfc8080_ed25519_signature_is_reproduced),
		cmocka_unit_test(malformed_dnskeys_are_refused),
	};

	return cmocka_run_group_tests_name("keys", tests, NULL, NULL);
}
