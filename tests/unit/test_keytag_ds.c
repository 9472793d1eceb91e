/* SPDX-License-Identifier: MIT */
/*
 * tests/unit/test_keytag_ds.c -- key tags (RFC 4034 App. B) and DS digests (RFC 4034 §5.1.4)
 * against the examples published in RFC 4034 §5.4, RFC 4509 §2.3, RFC 6605 §6.1/§6.2 and
 * RFC 8080 §6, against ldns's own computations, and against ldns-key2ds for generated keys.
 * Also: SHA-1 is refused, and the RFC 8078 delete forms are what ldns parses them to.
 *
 * Every vector was copied from the RFC text and checked with `ldns-key2ds -n -2/-4`
 * (`-f` for the non-SEP RFC 4034 key) before it was written down here.
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
#include "tests/unit/unit.h"

typedef struct ds_vector {
	const char *source;
	const char *owner;
	uint16_t flags;
	uint8_t algorithm;
	const char *key_b64;
	uint16_t tag;
	uint8_t digest_type;
	const char *digest_hex;
} ds_vector;

/* RFC 4034 §5.4 / RFC 4509 §2.3: dskey.example.com., an RSA/SHA-1 (algorithm 5) ZSK. */
#define RFC4034_KEY                                                                          \
	"AQOeiiR0GOMYkDshWoSKz9XzfwJr1AYtsmx3TGkJaNXVbfi/2pHm822aJ5iI9BMzNXxeYCmZDRD99WYwYqU" \
	"SdjMmmAphXdvxegXd/M5+X7OrzKBaMbCVdFLUUh6DhweJBjEVv5f2wwjM9XzcnOf+EPbtG9DMBmADjFDc2w/" \
	"rljwvFw=="

static const ds_vector vectors[] = {
	{ "RFC 4509 §2.3", "dskey.example.com.", 256, 5, RFC4034_KEY, 60485, 2,
	  "D4B7D520E7BB5F0F67674A0CCEB1E3E0614B93C4F9E99B8383F6A1E4469DA50A" },
	{ "RFC 6605 §6.1", "example.net.", 257, 13,
	  "GojIhhXUN/u4v54ZQqGSnyhWJwaubCvTmeexv7bR6edbkrSqQpF64cYbcB7wNcP+e+MAnLr+Wi9xMWyQLc8NAA==",
	  55648, 2, "b4c8c1fe2e7477127b27115656ad6256f424625bf5c1e2770ce6d6e37df61d17" },
	{ "RFC 6605 §6.2", "example.net.", 257, 14,
	  "xKYaNhWdGOfJ+nPrL8/arkwf2EY3MDJ+SErKivBVSum1w/egsXvSADtNJhyem5RCOpgQ6K8X1DRSEkrbYQ+OB+v8"
	  "/uX45NBwY8rp65F6Glur8I/mlVNgF6W/qTI37m40",
	  10771, 4,
	  "72d7b62976ce06438e9c0bf319013cf801f09ecc84b8d7e9495f27e305c6a9b0"
	  "563a9b5f4d288405c3008a946df983d6" },
	{ "RFC 8080 §6.1 (1)", "example.com.", 257, 15,
	  "l02Woi0iS8Aa25FQkUd9RMzZHJpBoRQwAQEX1SxZJA4=", 3613, 2,
	  "3aa5ab37efce57f737fc1627013fee07bdf241bd10f3b1964ab55c78e79a304b" },
	{ "RFC 8080 §6.1 (2)", "example.com.", 257, 15,
	  "zPnZ/QwEe7S8C5SPz2OfS5RR40ATk2/rYnE9xHIEijs=", 35217, 2,
	  "401781b934e392de492ec77ae2e15d70f6575a1c0bc59c5275c04ebe80c6614c" },
	{ "RFC 8080 §6.2", "example.com.", 257, 16,
	  "3kgROaDjrh0H2iuixWBrc8g2EpBBLCdGzHmn+G2MpTPhpj/OiBVHHSfPodx1FYYUcJKm1MDpJtIA", 9713, 2,
	  "6ccf18d5bc5d7fc2fceb1d59d17321402f2aa8d368048db93dd811f5cb2b19c7" },
};

/* ---------------------------------------------------------------- helpers */

static size_t make_dnskey(uint16_t flags, uint8_t alg, const char *b64, uint8_t *out,
			  size_t max)
{
	int n;

	out[0] = (uint8_t) (flags >> 8);
	out[1] = (uint8_t) flags;
	out[2] = 3;
	out[3] = alg;
	n = zk_b64_decode(b64, strlen(b64), out + 4, max - 4);
	assert_true(n > 0);
	return 4 + (size_t) n;
}

/* Wire form of a presentation name, through ldns (an independent encoder). */
static size_t name_wire(const char *name, uint8_t *out, size_t max)
{
	ldns_rdf *d = ldns_dname_new_frm_str(name);
	size_t n;

	assert_non_null(d);
	n = ldns_rdf_size(d);
	assert_true(n <= max);
	memcpy(out, ldns_rdf_data(d), n);
	ldns_rdf_deep_free(d);
	return n;
}

static size_t hex(const char *h, uint8_t *out, size_t max)
{
	int n = zk_hex_decode(h, strlen(h), out, max);

	assert_true(n > 0);
	return (size_t) n;
}

/* ---------------------------------------------------------------- key tags */

static void rfc4034_key_tag_is_60485(void **state)
{
	uint8_t rdata[KS_DNSKEY_MAX];
	size_t n = make_dnskey(256, 5, RFC4034_KEY, rdata, sizeof(rdata));

	(void) state;
	/* RFC 4034 §5.4: "; key id = 60485" (its DS is SHA-1, so only the tag is used). */
	assert_int_equal(ks_keytag(rdata, n), 60485);
}

static void rfc_key_tags_match_the_published_ds(void **state)
{
	(void) state;
	for (size_t i = 0; i < ZK_ELEMENTSOF(vectors); i++) {
		const ds_vector *v = &vectors[i];
		uint8_t rdata[KS_DNSKEY_MAX];
		size_t n = make_dnskey(v->flags, v->algorithm, v->key_b64, rdata, sizeof(rdata));

		print_message("  %s: key tag %u\n", v->source, v->tag);
		assert_int_equal(ks_keytag(rdata, n), v->tag);
		/* ldns's implementation agrees (another code base, same appendix). */
		assert_int_equal(ldns_calc_keytag_raw(rdata, n), v->tag);
	}
}

static void revoked_tag_is_the_tag_with_the_revoke_flag(void **state)
{
	(void) state;
	for (size_t i = 0; i < ZK_ELEMENTSOF(vectors); i++) {
		const ds_vector *v = &vectors[i];
		uint8_t rdata[KS_DNSKEY_MAX], revoked[KS_DNSKEY_MAX];
		size_t n = make_dnskey(v->flags, v->algorithm, v->key_b64, rdata, sizeof(rdata));

		make_dnskey(v->flags | KS_FLAG_REVOKE, v->algorithm, v->key_b64, revoked,
			    sizeof(revoked));
		assert_int_equal(ks_keytag_revoked(rdata, n), ldns_calc_keytag_raw(revoked, n));
		assert_int_not_equal(ks_keytag_revoked(rdata, n), v->tag);
		/* Already revoked: the variant is the key itself. */
		assert_int_equal(ks_keytag_revoked(revoked, n), ks_keytag(revoked, n));
	}
}

static void rsamd5_key_tag_uses_the_modulus(void **state)
{
	/* RFC 4034 App. B.1: algorithm 1 takes bits 16..31 from the end of the modulus. */
	const uint8_t rdata[] = { 1, 0, 3, 1, 1, 3, 0xAA, 0xBB, 0x12, 0x34, 0x56 };

	(void) state;
	assert_int_equal(ks_keytag(rdata, sizeof(rdata)), 0x1234);
	assert_int_equal(ks_keytag(rdata, 3), 0); /* truncated rdata has no tag */
}

/* ---------------------------------------------------------------- DS */

static void rfc_ds_digests(void **state)
{
	(void) state;
	for (size_t i = 0; i < ZK_ELEMENTSOF(vectors); i++) {
		const ds_vector *v = &vectors[i];
		uint8_t rdata[KS_DNSKEY_MAX], owner[256], ds[KS_DS_MAX], want[48];
		size_t n = make_dnskey(v->flags, v->algorithm, v->key_b64, rdata, sizeof(rdata));
		size_t on = name_wire(v->owner, owner, sizeof(owner));
		size_t wn = hex(v->digest_hex, want, sizeof(want));
		zk_error err = { 0 };
		int len;

		print_message("  %s: DS %u %u %u\n", v->source, v->tag, v->algorithm,
			      v->digest_type);
		len = ks_ds_rdata(owner, on, rdata, n, v->digest_type, ds, sizeof(ds), &err);
		assert_int_equal(len, 4 + (int) wn);
		assert_int_equal(ds[0] << 8 | ds[1], v->tag);
		assert_int_equal(ds[2], v->algorithm);
		assert_int_equal(ds[3], v->digest_type);
		assert_memory_equal(ds + 4, want, wn);
	}
}

static void ds_owner_is_canonicalised(void **state)
{
	const ds_vector *v = &vectors[1];
	uint8_t rdata[KS_DNSKEY_MAX], owner[256], a[KS_DS_MAX], b[KS_DS_MAX];
	size_t n = make_dnskey(v->flags, v->algorithm, v->key_b64, rdata, sizeof(rdata));
	size_t on;

	(void) state;
	on = name_wire("EXAMPLE.Net.", owner, sizeof(owner));
	assert_int_equal(ks_ds_rdata(owner, on, rdata, n, 2, a, sizeof(a), NULL), 36);
	on = name_wire("example.net.", owner, sizeof(owner));
	assert_int_equal(ks_ds_rdata(owner, on, rdata, n, 2, b, sizeof(b), NULL), 36);
	/* RFC 4034 §5.1.4 hashes the canonical (lowercase) owner name. */
	assert_memory_equal(a, b, 36);
}

static void sha1_ds_is_refused(void **state)
{
	const ds_vector *v = &vectors[0];
	uint8_t rdata[KS_DNSKEY_MAX], owner[256], ds[KS_DS_MAX];
	size_t n = make_dnskey(v->flags, v->algorithm, v->key_b64, rdata, sizeof(rdata));
	size_t on = name_wire(v->owner, owner, sizeof(owner));
	zk_error err = { 0 };

	(void) state;
	memset(ds, 0xEE, sizeof(ds));
	assert_int_equal(ks_ds_rdata(owner, on, rdata, n, 1, ds, sizeof(ds), &err),
			 ZK_E_UNSUPPORTED);
	assert_int_equal(err.code, ZK_E_UNSUPPORTED);
	assert_non_null(strstr(err.message, "SHA-1"));
	assert_non_null(strstr(err.message, "RFC 8624"));
	assert_int_equal(ds[0], 0xEE); /* nothing written */
	/* GOST (3) and unassigned types are refused too. */
	assert_int_equal(ks_ds_rdata(owner, on, rdata, n, 3, ds, sizeof(ds), NULL),
			 ZK_E_UNSUPPORTED);
	assert_int_equal(ks_ds_rdata(owner, on, rdata, n, 0, ds, sizeof(ds), NULL),
			 ZK_E_UNSUPPORTED);
}

static void ds_rejects_bad_input(void **state)
{
	const ds_vector *v = &vectors[1];
	uint8_t rdata[KS_DNSKEY_MAX], owner[256], ds[KS_DS_MAX];
	size_t n = make_dnskey(v->flags, v->algorithm, v->key_b64, rdata, sizeof(rdata));
	size_t on = name_wire(v->owner, owner, sizeof(owner));
	const uint8_t no_root[] = { 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e' };
	const uint8_t overrun[] = { 9, 'e', 'x', 0 };

	(void) state;
	/* SHA-384 needs 52 bytes. */
	assert_int_equal(ks_ds_rdata(owner, on, rdata, n, 4, ds, 51, NULL), -ENOBUFS);
	assert_int_equal(ks_ds_rdata(owner, on, rdata, n, 2, ds, 35, NULL), -ENOBUFS);
	assert_int_equal(ks_ds_rdata(no_root, sizeof(no_root), rdata, n, 2, ds, sizeof(ds), NULL),
			 -EINVAL);
	assert_int_equal(ks_ds_rdata(overrun, sizeof(overrun), rdata, n, 2, ds, sizeof(ds), NULL),
			 -EINVAL);
	assert_int_equal(ks_ds_rdata(owner, on, rdata, 3, 2, ds, sizeof(ds), NULL), ZK_E_KEY);
}

/* ---------------------------------------------------------------- delete forms */

static void expect_rdata_of(const char *rr_text, const uint8_t *want, size_t want_len)
{
	uint8_t got[64];
	size_t n = 0;
	ldns_rr *rr = NULL;

	assert_int_equal(ldns_rr_new_frm_str(&rr, rr_text, 0, NULL, NULL), LDNS_STATUS_OK);
	for (size_t i = 0; i < ldns_rr_rd_count(rr); i++) {
		const ldns_rdf *rdf = ldns_rr_rdf(rr, i);

		memcpy(got + n, ldns_rdf_data(rdf), ldns_rdf_size(rdf));
		n += ldns_rdf_size(rdf);
	}
	ldns_rr_free(rr);
	assert_int_equal(n, want_len);
	assert_memory_equal(got, want, n);
}

static void rfc8078_delete_forms(void **state)
{
	(void) state;
	/* RFC 8078 §4: exactly these presentation forms. */
	expect_rdata_of("example.com. 3600 IN CDS 0 0 0 00", ks_cds_delete_rdata,
			sizeof(ks_cds_delete_rdata));
	expect_rdata_of("example.com. 3600 IN CDNSKEY 0 3 0 AA==", ks_cdnskey_delete_rdata,
			sizeof(ks_cdnskey_delete_rdata));
}

/* ---------------------------------------------------------------- against ldns-key2ds */

static char tmpdir[64];

static bool have_tool(const char *name)
{
	char cmd[256];

	snprintf(cmd, sizeof(cmd), "command -v %s >/dev/null 2>&1", name);
	return system(cmd) == 0;
}

static void generated_key_ds_matches_ldns_key2ds(void **state)
{
	const uint8_t algs[] = { 8, 13, 14, 15, 16 };

	(void) state;
	if (!have_tool("ldns-key2ds")) {
		print_message("  ldns-key2ds not installed: skipping the cross-check\n");
		skip();
	}
	assert_int_equal(unit_tmpdir(tmpdir, sizeof(tmpdir), "ds"), 0);
	for (size_t i = 0; i < sizeof(algs); i++) {
		for (uint8_t dt = 2; dt <= 4; dt += 2) {
			ks_key *k = NULL;
			zk_error err = { 0 };
			uint8_t owner[256], ds[KS_DS_MAX];
			char cmd[512], line[1024], want_hex[2 * 48 + 1], got_hex[2 * 48 + 1];
			unsigned tag, alg, type;
			size_t dn, on;
			const uint8_t *rdata;
			FILE *p;
			int len;

			if (!ks_algorithm_supported(algs[i]))
				continue;
			assert_int_equal(ks_key_generate(algs[i], KS_ROLE_KSK, "example.com.", 0,
							 &k, &err),
					 0);
			assert_int_equal(ks_key_write(k, tmpdir, &err), 0);
			rdata = ks_key_dnskey(k, &dn);
			on = name_wire("example.com.", owner, sizeof(owner));
			len = ks_ds_rdata(owner, on, rdata, dn, dt, ds, sizeof(ds), &err);
			assert_true(len > 4);
			zk_hex_encode(ds + 4, (size_t) len - 4, got_hex);

			snprintf(cmd, sizeof(cmd), "ldns-key2ds -n -%u '%s/%s.key'", dt, tmpdir,
				 ks_key_basename(k));
			p = popen(cmd, "r");
			assert_non_null(p);
			assert_non_null(fgets(line, sizeof(line), p));
			assert_int_equal(pclose(p), 0);
			/* "example.com.\t3600\tIN\tDS\t<tag> <alg> <type> <hex>" */
			assert_int_equal(sscanf(strstr(line, "DS\t") + 3, "%u %u %u %96s", &tag,
						&alg, &type, want_hex),
					 4);
			assert_int_equal(tag, ks_key_tag(k));
			assert_int_equal(alg, algs[i]);
			assert_int_equal(type, dt);
			assert_string_equal(got_hex, want_hex);
			ks_key_free(k);
		}
	}
	unit_rmtree(tmpdir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(rfc4034_key_tag_is_60485),
		cmocka_unit_test(rfc_key_tags_match_the_published_ds),
		cmocka_unit_test(revoked_tag_is_the_tag_with_the_revoke_flag),
		cmocka_unit_test(rsamd5_key_tag_uses_the_modulus),
		cmocka_unit_test(rfc_ds_digests),
		cmocka_unit_test(ds_owner_is_canonicalised),
		cmocka_unit_test(sha1_ds_is_refused),
		cmocka_unit_test(ds_rejects_bad_input),
		cmocka_unit_test(rfc8078_delete_forms),
		cmocka_unit_test(generated_key_ds_matches_ldns_key2ds),
	};

	return cmocka_run_group_tests_name("keytag_ds", tests, NULL, NULL);
}
