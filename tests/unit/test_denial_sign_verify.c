/* SPDX-License-Identifier: MIT */
/*
 * tests/unit/test_denial_sign_verify.c -- denial of existence (signer/denial.c), signing
 * (signer/sign.c) and verification (signer/verify.c) end to end in process, with real
 * ECDSA P-256 keys: NSEC3 hashes and whole chains against RFC 5155 Appendix A and
 * ldns-signzone, exact bitmaps (invariant 18), a signed zone that verifies, faults the
 * verifier must catch with the owner named (invariant 6), signature reuse (same `now`,
 * refresh window, adoption between versions), each zone's place in the jitter window and
 * one refresh batch per period, and the written zone loading back valid.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "keystore/keystore.h"
#include "policy/zk-error.h"
#include "policy/zk-time.h"
#include "signer/denial.h"
#include "signer/dname.h"
#include "signer/load.h"
#include "signer/output.h"
#include "signer/rdata.h"
#include "signer/records.h"
#include "signer/sign.h"
#include "signer/verify.h"
#include "signer/zone.h"

#define T_HINFO 13
#define VALIDITY (14 * 86400)
#define REFRESH (3 * 86400)
#define DENIAL_TTL 300

static ks_key *ksk, *zsk;
static zk_time_t now0;

static int setup_keys(void **state)
{
	(void) state;
	now0 = zk_time_utc(2025, 6, 1, 12, 0, 0);
	if (ks_key_generate(13, KS_ROLE_KSK, "example.", now0, &ksk, NULL) < 0)
		return -1;
	if (ks_key_generate(13, KS_ROLE_ZSK, "example.", now0, &zsk, NULL) < 0)
		return -1;
	return 0;
}

static int teardown_keys(void **state)
{
	(void) state;
	ksk = ks_key_free(ksk);
	zsk = ks_key_free(zsk);
	return 0;
}

/* ---------------------------------------------------------------- helpers */

/* A small zone with everything denial must get right. */
static const char small_zone[] =
	"$TTL 3600\n"
	"@ SOA ns1 hostmaster 1 1h 15m 1w 5m\n"
	"@ NS ns1\n"
	"@ NS ns2\n"
	"@ MX 10 mail\n"
	"ns1 A 192.0.2.1\n"
	"ns2 A 192.0.2.2\n"
	"mail A 192.0.2.3\n"
	"www A 192.0.2.4\n"
	"www AAAA 2001:db8::4\n"
	"*.wild A 192.0.2.5\n"          /* wildcard; wild.example. is an ENT */
	"a.b.ent TXT \"deep\"\n"        /* ENTs b.ent.example. and ent.example. */
	"insecure NS ns.insecure\n"     /* insecure delegation with glue */
	"ns.insecure A 192.0.2.6\n"
	"secure NS ns.secure\n"         /* secure delegation with glue */
	"secure DS 12345 13 2 2D711642B726B04401627CA9FBAC32F5C8530FB1903CC4DB02258717921A4881\n"
	"ns.secure A 192.0.2.7\n";

/* The RFC 5155 Appendix A example zone (its signatures and denial records left out). */
static const char rfc5155_zone[] =
	"$TTL 3600\n"
	"example. SOA ns1.example. bugs.x.w.example. 1 3600 300 3600000 3600\n"
	"example. NS ns1.example.\n"
	"example. NS ns2.example.\n"
	"example. MX 1 xx.example.\n"
	"2t7b4g4vsa5smi47k61mv5bv1a22bojr.example. A 192.0.2.127\n"
	"a.example. NS ns1.a.example.\n"
	"a.example. NS ns2.a.example.\n"
	"a.example. DS 58470 5 1 3079F1593EBAD6DC121E202A8B766A6A4837206C\n"
	"ns1.a.example. A 192.0.2.5\n"
	"ns2.a.example. A 192.0.2.6\n"
	"ai.example. A 192.0.2.9\n"
	"ai.example. HINFO \"KLH-10\" \"ITS\"\n"
	"ai.example. AAAA 2001:db8:0:0:0:0:f00:baa9\n"
	"c.example. NS ns1.c.example.\n"
	"c.example. NS ns2.c.example.\n"
	"ns1.c.example. A 192.0.2.7\n"
	"ns2.c.example. A 192.0.2.8\n"
	"ns1.example. A 192.0.2.1\n"
	"ns2.example. A 192.0.2.2\n"
	"*.w.example. MX 1 ai.example.\n"
	"x.w.example. MX 1 xx.example.\n"
	"x.y.w.example. MX 1 xx.example.\n"
	"xx.example. A 192.0.2.10\n"
	"xx.example. HINFO \"KLH-10\" \"TOPS-20\"\n"
	"xx.example. AAAA 2001:db8:0:0:0:0:0:88\n";

static const uint8_t rfc_salt[] = { 0xaa, 0xbb, 0xcc, 0xdd };

static const uint8_t *wire(const char *text)
{
	static uint8_t buf[8][DN_MAXLEN];
	static unsigned slot;
	uint8_t *p = buf[slot++ % 8];

	assert_true(dn_from_text(text, strlen(text), NULL, p) > 0);
	return p;
}

/* The DNSKEY RRset of both keys, in canonical order, at the apex. */
static void add_dnskeys(sgn_zone *z)
{
	const ks_key *keys[2] = { ksk, zsk };
	const uint8_t *rd[2];
	size_t len[2];
	uint8_t blob[2 * (2 + KS_DNSKEY_MAX)];
	uint32_t o = 0;

	for (int i = 0; i < 2; i++)
		rd[i] = ks_key_dnskey(keys[i], &len[i]);
	if (sgn_rdata_cmp(rd[0], (uint16_t) len[0], rd[1], (uint16_t) len[1]) > 0) {
		const uint8_t *t = rd[0];
		size_t tl = len[0];

		rd[0] = rd[1], len[0] = len[1];
		rd[1] = t, len[1] = tl;
	}
	for (int i = 0; i < 2; i++) {
		blob[o++] = (uint8_t) (len[i] >> 8);
		blob[o++] = (uint8_t) len[i];
		memcpy(blob + o, rd[i], len[i]);
		o += (uint32_t) len[i];
	}
	assert_int_equal(sgn_node_set_rrset(z->apex_node, T_DNSKEY, 3600, 2, blob, o), 0);
}

static sgn_zone *load(const char *text)
{
	sgn_load_opts o = { .mode = SGN_LOAD_UNSIGNED };
	sgn_zone *z = NULL;
	zk_error err = { 0 };
	int r = sgn_zone_load_buffer(text, strlen(text), "test.zone", wire("example."), &o, &z,
				     &err);

	if (r < 0)
		print_message("%s:%u: %s\n", err.file, err.line, err.message);
	assert_int_equal(r, 0);
	add_dnskeys(z);
	return z;
}

static const uint8_t no_salt[1]; /* an empty salt (RFC 9276), not NULL: see the last test */

static sgn_denial_params denial_params(bool nsec3)
{
	return (sgn_denial_params) { .nsec3 = nsec3, .salt = no_salt, .ttl = DENIAL_TTL,
				     .threads = 1 };
}

static void build_denial(sgn_zone *z, const sgn_denial_params *p, sgn_zone *old)
{
	zk_error err = { 0 };
	int r = sgn_denial_build(z, p, old, &err);

	if (r < 0)
		print_message("denial: %s\n", err.message);
	assert_int_equal(r, 0);
}

static sgn_sign_stats sign_at(sgn_zone *z, zk_time_t now)
{
	ks_key *ksks[1] = { ksk }, *zsks[1] = { zsk };
	sgn_sign_params p = {
		.now = now, .validity = VALIDITY, .refresh = REFRESH, .jitter = 0,
		.inception_offset = 3600, .threads = 0,
		.ksks = ksks, .n_ksks = 1, .zsks = zsks, .n_zsks = 1,
	};
	sgn_sign_stats st;
	zk_error err = { 0 };
	int r;

	memset(&st, 0xff, sizeof(st));
	r = sgn_sign_zone(z, &p, &st, &err);
	if (r < 0)
		print_message("sign: %s\n", err.message);
	assert_int_equal(r, 0);
	return st;
}

static sgn_sign_stats sign_with(sgn_zone *z, ks_key *const *ksks, size_t n_ksks,
				 ks_key *const *zsks, size_t n_zsks, uint32_t jitter,
				 unsigned threads)
{
	sgn_sign_params p = {
		.now = now0, .validity = VALIDITY, .refresh = REFRESH, .jitter = jitter,
		.inception_offset = 3600, .threads = threads,
		.ksks = ksks, .n_ksks = n_ksks, .zsks = zsks, .n_zsks = n_zsks,
	};
	sgn_sign_stats st;
	zk_error err = { 0 };
	int r = sgn_sign_zone(z, &p, &st, &err);

	if (r < 0)
		print_message("sign: %s\n", err.message);
	assert_int_equal(r, 0);
	return st;
}

/* Load `text`, build its chain (NSEC or NSEC3 without salt and iterations), sign at now0. */
static sgn_zone *signed_zone(const char *text, bool nsec3)
{
	sgn_zone *z = load(text);
	sgn_denial_params p = denial_params(nsec3);

	build_denial(z, &p, NULL);
	sign_at(z, now0);
	return z;
}

static int verify_at(const sgn_zone *z, zk_time_t now, sgn_verify_report *rep, zk_error *err)
{
	sgn_verify_opts o = { .now = now, .full = true, .threads = 1 };

	return sgn_zone_verify(z, &o, rep, err);
}

static void assert_valid(const sgn_zone *z, zk_time_t now)
{
	sgn_verify_report rep;
	zk_error err = { 0 };
	int r = verify_at(z, now, &rep, &err);

	if (r != 0)
		for (unsigned i = 0; i < rep.n_problems && i < SGN_VERIFY_MAX_PROBLEMS; i++)
			print_message("problem: %s\n", rep.problems[i]);
	assert_int_equal(r, 0);
	assert_int_equal(rep.n_problems, 0);
	assert_true(rep.signatures > 0);
	assert_int_equal(rep.verified, rep.signatures); /* full: every one checked */
}

/* Verification must fail with ZK_E_VERIFY and a problem mentioning `a` and `b`. */
static void expect_problem(const sgn_zone *z, zk_time_t now, const char *a, const char *b)
{
	sgn_verify_report rep;
	zk_error err = { 0 };
	bool found = false;

	assert_int_equal(verify_at(z, now, &rep, &err), ZK_E_VERIFY);
	assert_int_equal(err.code, ZK_E_VERIFY);
	assert_true(rep.n_problems > 0);
	for (unsigned i = 0; i < rep.n_problems && i < SGN_VERIFY_MAX_PROBLEMS; i++)
		if (strstr(rep.problems[i], a) && (!b || strstr(rep.problems[i], b)))
			found = true;
	if (!found)
		for (unsigned i = 0; i < rep.n_problems && i < SGN_VERIFY_MAX_PROBLEMS; i++)
			print_message("problem: %s\n", rep.problems[i]);
	assert_true(found);
}

static sgn_node *node(const sgn_zone *z, const char *name)
{
	sgn_node *n = sgn_zone_find(z, wire(name));

	if (!n)
		print_message("no node %s\n", name);
	assert_non_null(n);
	return n;
}

static sgn_rrset *rrset(const sgn_zone *z, const char *name, uint16_t type)
{
	sgn_rrset *s = sgn_node_rrset(node(z, name), type);

	assert_non_null(s);
	return s;
}

static size_t count_sigs(const sgn_zone *z)
{
	size_t n = 0;

	for (size_t i = 0; i < z->n_nodes; i++) {
		const sgn_node *nd = z->nodes[i];

		for (uint16_t k = 0; k < nd->n_rrsets; k++)
			n += nd->rrsets[k].n_sigs;
		if (nd->nsec)
			n += nd->nsec->n_sigs;
	}
	for (size_t j = 0; j < z->n_n3; j++)
		n += z->n3[j].rr.n_sigs;
	return n;
}

static size_t n3_index_of(const sgn_zone *z, const char *name)
{
	const sgn_node *n = node(z, name);

	for (size_t j = 0; j < z->n_n3; j++)
		if (z->n3[j].node == n)
			return j;
	fail_msg("no NSEC3 record for %s", name);
	return 0;
}

/* The types `n` would get, as a comparable list. */
static void assert_types(const sgn_node *n, bool nsec3, const uint16_t *want, size_t n_want)
{
	uint16_t got[64];
	size_t k = sgn_denial_types(n, nsec3, got, 64);

	if (k != n_want || memcmp(got, want, k * sizeof(*got)) != 0) {
		char text[DN_TEXTMAX], tb[16];

		dn_to_text(n->name, text);
		print_message("%s (%s):", text, nsec3 ? "NSEC3" : "NSEC");
		for (size_t i = 0; i < k; i++)
			print_message(" %s", sgn_type_name(got[i], tb));
		print_message("\n");
	}
	assert_int_equal(k, n_want);
	assert_memory_equal(got, want, k * sizeof(*got));
}

#define TYPES(...) (const uint16_t[]) { __VA_ARGS__ }, \
	sizeof((const uint16_t[]) { __VA_ARGS__ }) / sizeof(uint16_t)
static const uint16_t no_types[1];
#define NO_TYPES no_types, 0

/* ---------------------------------------------------------------- NSEC3 hashes */

static void nsec3_hashes_match_rfc5155_appendix_a(void **state)
{
	/* RFC 5155 Appendix A (salt aabbccdd, 12 iterations), checked with ldns-nsec3-hash */
	static const struct {
		const char *name, *hash;
	} v[] = {
		{ "example.", "0p9mhaveqvm6t7vbl5lop2u3t2rp3tom" },
		{ "a.example.", "35mthgpgcu1qg68fab165klnsnk3dpvl" },
		{ "ai.example.", "gjeqe526plbf1g8mklp59enfd789njgi" },
		{ "ns1.example.", "2t7b4g4vsa5smi47k61mv5bv1a22bojr" },
		{ "ns2.example.", "q04jkcevqvmu85r014c7dkba38o0ji5r" },
		{ "w.example.", "k8udemvp1j2f7eg6jebps17vp3n8i58h" },
		{ "*.w.example.", "r53bq7cc2uvmubfu5ocmm6pers9tk9en" },
		{ "x.w.example.", "b4um86eghhds6nea196smvmlo4ors995" },
		{ "y.w.example.", "ji6neoaepv8b5o6k4ev33abha8ht9fgc" },
		{ "x.y.w.example.", "2vptu5timamqttgl4luu9kg21e0aor3s" },
		{ "xx.example.", "t644ebqk9bibcna874givr6joj62mlhv" },
		{ "2t7b4g4vsa5smi47k61mv5bv1a22bojr.example.", "kohar7mbb8dc2ce8a9qvl8hon4k53uhi" },
	};

	(void) state;
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		uint8_t h[20];
		char text[40];

		assert_int_equal(sgn_nsec3_hash(wire(v[i].name), rfc_salt, 4, 12, h), 0);
		dn_base32hex(h, 20, text);
		assert_string_equal(text, v[i].hash);
	}
}

static void nsec3_hash_with_no_salt_and_no_iterations_is_plain_sha1(void **state)
{
	/* checked with: ldns-nsec3-hash -t 0 example. (RFC 9276 parameters) */
	uint8_t h[20], batch[20];
	char text[40];
	sgn_n3 one = { .node = NULL };
	sgn_denial_params p = { .nsec3 = true, .threads = 1 };
	sgn_node *n = sgn_node_new(wire("example."));

	(void) state;
	assert_int_equal(sgn_nsec3_hash(wire("example."), NULL, 0, 0, h), 0);
	dn_base32hex(h, 20, text);
	assert_string_equal(text, "3msev9usmd4br9s97v51r2tdvmr9iqo1");
	/* the batch hasher agrees */
	one.node = n;
	assert_int_equal(sgn_nsec3_hash_all(&one, 1, &p), 0);
	assert_int_equal(one.hash_len, 20);
	memcpy(batch, one.hash, 20);
	assert_memory_equal(batch, h, 20);
	sgn_node_free(n);
}

/* ---------------------------------------------------------------- whole chains */

typedef struct chain_row {
	const char *owner, *next;
	uint16_t types[8];
	size_t n_types;
} chain_row;

#define ROW(o, n, ...) { o, n, { __VA_ARGS__ }, sizeof((uint16_t[]) { __VA_ARGS__ }) / 2 }
#define ROW0(o, n) { o, n, { 0 }, 0 }

/* ldns-signzone -n -s aabbccdd -t 12 of rfc5155_zone (with a DNSKEY), flags 0 */
static const chain_row rfc5155_chain[] = {
	ROW("0p9mhaveqvm6t7vbl5lop2u3t2rp3tom", "2t7b4g4vsa5smi47k61mv5bv1a22bojr",
	    T_NS, T_SOA, T_MX, T_RRSIG, T_DNSKEY, T_NSEC3PARAM),
	ROW("2t7b4g4vsa5smi47k61mv5bv1a22bojr", "2vptu5timamqttgl4luu9kg21e0aor3s", T_A, T_RRSIG),
	ROW("2vptu5timamqttgl4luu9kg21e0aor3s", "35mthgpgcu1qg68fab165klnsnk3dpvl", T_MX, T_RRSIG),
	ROW("35mthgpgcu1qg68fab165klnsnk3dpvl", "4g6p9u5gvfshp30pqecj98b3maqbn1ck",
	    T_NS, T_DS, T_RRSIG),
	ROW("4g6p9u5gvfshp30pqecj98b3maqbn1ck", "b4um86eghhds6nea196smvmlo4ors995", T_NS),
	ROW("b4um86eghhds6nea196smvmlo4ors995", "gjeqe526plbf1g8mklp59enfd789njgi", T_MX, T_RRSIG),
	ROW("gjeqe526plbf1g8mklp59enfd789njgi", "ji6neoaepv8b5o6k4ev33abha8ht9fgc",
	    T_A, T_HINFO, T_AAAA, T_RRSIG),
	ROW0("ji6neoaepv8b5o6k4ev33abha8ht9fgc", "k8udemvp1j2f7eg6jebps17vp3n8i58h"),
	ROW0("k8udemvp1j2f7eg6jebps17vp3n8i58h", "kohar7mbb8dc2ce8a9qvl8hon4k53uhi"),
	ROW("kohar7mbb8dc2ce8a9qvl8hon4k53uhi", "q04jkcevqvmu85r014c7dkba38o0ji5r", T_A, T_RRSIG),
	ROW("q04jkcevqvmu85r014c7dkba38o0ji5r", "r53bq7cc2uvmubfu5ocmm6pers9tk9en", T_A, T_RRSIG),
	ROW("r53bq7cc2uvmubfu5ocmm6pers9tk9en", "t644ebqk9bibcna874givr6joj62mlhv", T_MX, T_RRSIG),
	ROW("t644ebqk9bibcna874givr6joj62mlhv", "0p9mhaveqvm6t7vbl5lop2u3t2rp3tom",
	    T_A, T_HINFO, T_AAAA, T_RRSIG),
};

static void assert_nsec3_chain(const sgn_zone *z, const chain_row *rows, size_t n, uint8_t flags,
			       size_t skip)
{
	size_t j = 0;

	for (size_t i = 0; i < n; i++) {
		const sgn_rrset *s;
		const uint8_t *rd;
		uint16_t len, types[16];
		char owner[40], next[40];
		const char *want_next = rows[i].next;
		int nt;

		if (i == skip)
			continue;
		if (i + 1 == skip)
			want_next = rows[skip].next; /* the record after the skipped one */
		assert_true(j < z->n_n3);
		s = &z->n3[j++].rr;
		dn_base32hex(z->n3[j - 1].hash, z->n3[j - 1].hash_len, owner);
		assert_string_equal(owner, rows[i].owner);
		assert_int_equal(s->type, T_NSEC3);
		assert_int_equal(s->count, 1);
		assert_int_equal(s->ttl, DENIAL_TTL);
		rd = s->rdata + 2;
		len = blob_len(s->rdata);
		assert_true(len >= 5 + 4 + 21);
		assert_int_equal(rd[0], 1);     /* SHA-1 */
		assert_int_equal(rd[1], flags); /* opt-out */
		assert_int_equal(rd[2] << 8 | rd[3], 12);
		assert_int_equal(rd[4], 4);
		assert_memory_equal(rd + 5, rfc_salt, 4);
		assert_int_equal(rd[9], 20);
		dn_base32hex(rd + 10, 20, next);
		assert_string_equal(next, want_next);
		nt = sgn_bitmap_decode(rd + 30, len - 30u, types, 16);
		assert_int_equal(nt, rows[i].n_types);
		assert_memory_equal(types, rows[i].types, (size_t) nt * sizeof(uint16_t));
	}
	assert_int_equal(j, z->n_n3);
}

static void nsec3_chain_of_the_rfc5155_zone_matches_ldns_signzone(void **state)
{
	sgn_zone *z = load(rfc5155_zone);
	sgn_denial_params p = denial_params(true);
	const sgn_rrset *param;

	(void) state;
	p.iterations = 12;
	p.salt = rfc_salt;
	p.salt_len = 4;
	build_denial(z, &p, NULL);
	assert_int_equal(z->n_n3, 13);
	assert_nsec3_chain(z, rfc5155_chain, 13, 0, SIZE_MAX);
	/* NSEC3PARAM 1 0 12 aabbccdd at the apex, TTL 0 as built */
	param = rrset(z, "example.", T_NSEC3PARAM);
	assert_int_equal(param->count, 1);
	assert_int_equal(blob_len(param->rdata), 9);
	assert_memory_equal(param->rdata + 2, "\001\000\000\014\004\xaa\xbb\xcc\xdd", 9);
	/* and it signs and verifies */
	sign_at(z, now0);
	assert_valid(z, now0);
	sgn_zone_free(z);
}

static void nsec3_opt_out_chain_matches_rfc5155_appendix_a(void **state)
{
	sgn_zone *z = load(rfc5155_zone);
	sgn_denial_params p = denial_params(true);

	(void) state;
	p.iterations = 12;
	p.salt = rfc_salt;
	p.salt_len = 4;
	p.opt_out = true;
	build_denial(z, &p, NULL);
	/* c.example. (4g6p9u5g...), an insecure delegation, is opted out: 12 records */
	assert_int_equal(z->n_n3, 12);
	assert_nsec3_chain(z, rfc5155_chain, 13, 1, 4);
	sign_at(z, now0);
	assert_valid(z, now0);
	sgn_zone_free(z);
}

/*
 * RFC 5155 §7.1: with opt-out, an empty non-terminal that exists only because of insecure
 * delegations gets no NSEC3 (as dnssec-signzone does; PowerDNS serves such records bogus);
 * one with a secure delegation or data below keeps it, and so does every ENT without
 * opt-out.
 */
static void opt_out_leaves_out_ents_above_insecure_delegations_only(void **state)
{
	static const char zone[] =
		"$TTL 3600\n"
		"example. SOA ns1.example. bugs.x.w.example. 1 3600 300 3600000 3600\n"
		"example. NS ns1.example.\n"
		"ns1.example. A 192.0.2.1\n"
		"child.ent.example. NS ns.elsewhere.example.\n"
		"deep.er.ent2.example. NS ns.elsewhere.example.\n"
		"sec.ent3.example. NS ns.elsewhere.example.\n"
		"sec.ent3.example. DS 12345 13 2 "
		"E2D3C916F6DEEAC73294E8268FB5885044A833FC5459588F4A9184CFC41A5766\n"
		"a.b.ent4.example. NS ns.elsewhere.example.\n"
		"www.ent4.example. A 192.0.2.2\n";
	static const char *const left_out[] = { "ent.example.", "ent2.example.",
						"er.ent2.example.", "child.ent.example.",
						"deep.er.ent2.example.", "b.ent4.example.",
						"a.b.ent4.example." };
	static const char *const kept[] = { "ent3.example.", "sec.ent3.example.",
					    "ent4.example.", "www.ent4.example." };

	(void) state;
	for (int opt_out = 0; opt_out <= 1; opt_out++) {
		sgn_zone *z = load(zone);
		sgn_denial_params p = denial_params(true);

		p.opt_out = opt_out;
		build_denial(z, &p, NULL);
		for (size_t i = 0; i < sizeof(left_out) / sizeof(left_out[0]); i++) {
			const sgn_node *nd = node(z, left_out[i]);

			if (opt_out ? nd->n3 != NULL : nd->n3 == NULL)
				fail_msg("%s: NSEC3 %s with opt-out %d", left_out[i],
					 nd->n3 ? "present" : "missing", opt_out);
		}
		for (size_t i = 0; i < sizeof(kept) / sizeof(kept[0]); i++)
			if (!node(z, kept[i])->n3)
				fail_msg("%s has no NSEC3 (opt-out %d)", kept[i], opt_out);
		sign_at(z, now0);
		assert_valid(z, now0);
		sgn_zone_free(z);
	}
}

static void nsec_chain_of_the_rfc5155_zone_matches_ldns_signzone(void **state)
{
	/* ldns-signzone of rfc5155_zone (with a DNSKEY) */
	static const chain_row rows[] = {
		ROW("example.", "2t7b4g4vsa5smi47k61mv5bv1a22bojr.example.",
		    T_NS, T_SOA, T_MX, T_RRSIG, T_NSEC, T_DNSKEY),
		ROW("2t7b4g4vsa5smi47k61mv5bv1a22bojr.example.", "a.example.",
		    T_A, T_RRSIG, T_NSEC),
		ROW("a.example.", "ai.example.", T_NS, T_DS, T_RRSIG, T_NSEC),
		ROW("ai.example.", "c.example.", T_A, T_HINFO, T_AAAA, T_RRSIG, T_NSEC),
		ROW("c.example.", "ns1.example.", T_NS, T_RRSIG, T_NSEC),
		ROW("ns1.example.", "ns2.example.", T_A, T_RRSIG, T_NSEC),
		ROW("ns2.example.", "*.w.example.", T_A, T_RRSIG, T_NSEC),
		ROW("*.w.example.", "x.w.example.", T_MX, T_RRSIG, T_NSEC),
		ROW("x.w.example.", "x.y.w.example.", T_MX, T_RRSIG, T_NSEC),
		ROW("x.y.w.example.", "xx.example.", T_MX, T_RRSIG, T_NSEC),
		ROW("xx.example.", "example.", T_A, T_HINFO, T_AAAA, T_RRSIG, T_NSEC),
	};
	sgn_zone *z = load(rfc5155_zone);
	sgn_denial_params p = denial_params(false);
	size_t with_nsec = 0;

	(void) state;
	build_denial(z, &p, NULL);
	for (size_t i = 0; i < z->n_nodes; i++)
		with_nsec += z->nodes[i]->nsec != NULL;
	assert_int_equal(with_nsec, sizeof(rows) / sizeof(rows[0]));
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const sgn_rrset *s = node(z, rows[i].owner)->nsec;
		const uint8_t *rd;
		uint16_t len, types[16];
		size_t nl;
		int nt;

		assert_non_null(s);
		assert_int_equal(s->count, 1);
		assert_int_equal(s->ttl, DENIAL_TTL);
		rd = s->rdata + 2;
		len = blob_len(s->rdata);
		nl = dn_len(rd);
		assert_true(dn_equal(rd, wire(rows[i].next)));
		nt = sgn_bitmap_decode(rd + nl, len - nl, types, 16);
		assert_int_equal(nt, rows[i].n_types);
		assert_memory_equal(types, rows[i].types, (size_t) nt * sizeof(uint16_t));
	}
	/* no NSEC at glue or ENTs, no NSEC3 anything */
	assert_null(node(z, "ns1.a.example.")->nsec);
	assert_null(node(z, "w.example.")->nsec);
	assert_null(node(z, "y.w.example.")->nsec);
	assert_int_equal(z->n_n3, 0);
	assert_null(sgn_node_rrset(z->apex_node, T_NSEC3PARAM));
	sign_at(z, now0);
	assert_valid(z, now0);
	sgn_zone_free(z);
}

/* ---------------------------------------------------------------- exact bitmaps */

static void nsec3_bitmaps_list_exactly_the_types_at_each_name(void **state)
{
	sgn_zone *z = load(small_zone);
	sgn_denial_params p = denial_params(true);

	(void) state;
	build_denial(z, &p, NULL);
	assert_types(z->apex_node, true,
		     TYPES(T_NS, T_SOA, T_MX, T_RRSIG, T_DNSKEY, T_NSEC3PARAM));
	assert_types(node(z, "www.example."), true, TYPES(T_A, T_AAAA, T_RRSIG));
	assert_types(node(z, "secure.example."), true, TYPES(T_NS, T_DS, T_RRSIG));
	assert_types(node(z, "insecure.example."), true, TYPES(T_NS));
	assert_types(node(z, "*.wild.example."), true, TYPES(T_A, T_RRSIG));
	assert_types(node(z, "wild.example."), true, NO_TYPES);
	assert_types(node(z, "ent.example."), true, NO_TYPES);
	assert_types(node(z, "b.ent.example."), true, NO_TYPES);
	assert_types(node(z, "a.b.ent.example."), true, TYPES(T_TXT, T_RRSIG));
	/* ENTs are in the chain, glue is not */
	(void) n3_index_of(z, "wild.example.");
	(void) n3_index_of(z, "ent.example.");
	(void) n3_index_of(z, "b.ent.example.");
	for (size_t j = 0; j < z->n_n3; j++)
		assert_int_equal(z->n3[j].node->flags & SGN_NODE_BELOW_CUT, 0);
	/* 10 names with data + 3 ENTs, less 2 glue */
	assert_int_equal(z->n_n3, z->n_nodes - 2);
	sgn_zone_free(z);
}

static void nsec_bitmaps_list_exactly_the_types_at_each_name(void **state)
{
	sgn_zone *z = load(small_zone);
	sgn_denial_params p = denial_params(false);

	(void) state;
	build_denial(z, &p, NULL);
	assert_types(z->apex_node, false, TYPES(T_NS, T_SOA, T_MX, T_RRSIG, T_NSEC, T_DNSKEY));
	assert_types(node(z, "www.example."), false, TYPES(T_A, T_AAAA, T_RRSIG, T_NSEC));
	assert_types(node(z, "secure.example."), false, TYPES(T_NS, T_DS, T_RRSIG, T_NSEC));
	assert_types(node(z, "insecure.example."), false, TYPES(T_NS, T_RRSIG, T_NSEC));
	assert_types(node(z, "*.wild.example."), false, TYPES(T_A, T_RRSIG, T_NSEC));
	/* and the records carry them */
	{
		const sgn_rrset *s = node(z, "insecure.example.")->nsec;
		const uint8_t *rd = s->rdata + 2;
		size_t nl = dn_len(rd);
		uint16_t types[8];

		/* the next name skips the glue below the cut */
		assert_true(dn_equal(rd, wire("mail.example.")));
		assert_int_equal(sgn_bitmap_decode(rd + nl, blob_len(s->rdata) - nl, types, 8), 3);
		assert_int_equal(types[0], T_NS);
		assert_int_equal(types[1], T_RRSIG);
		assert_int_equal(types[2], T_NSEC);
	}
	assert_null(node(z, "wild.example.")->nsec);
	assert_null(node(z, "ns.insecure.example.")->nsec);
	sgn_zone_free(z);
}

/* ---------------------------------------------------------------- a signed zone */

static void signed_nsec_zone_verifies(void **state)
{
	sgn_zone *z = load(small_zone);
	sgn_denial_params p = denial_params(false);
	sgn_sign_stats st;

	(void) state;
	build_denial(z, &p, NULL);
	st = sign_at(z, now0);
	/* one signature per authoritative RRset and NSEC record: KSK over DNSKEY, ZSK the rest */
	assert_true(st.rrsets > 0);
	assert_int_equal(st.made, st.rrsets);
	assert_int_equal(st.rrsets_signed, st.rrsets);
	assert_int_equal(st.kept, 0);
	assert_int_equal(st.dropped, 0);
	assert_int_equal(count_sigs(z), st.made);
	assert_int_equal(st.earliest_expiry, now0 + VALIDITY);
	assert_int_equal(st.next_refresh, now0 + VALIDITY - REFRESH);
	/* nothing at delegations but DS, nothing on glue */
	assert_int_equal(rrset(z, "insecure.example.", T_NS)->n_sigs, 0);
	assert_int_equal(rrset(z, "secure.example.", T_NS)->n_sigs, 0);
	assert_int_equal(rrset(z, "secure.example.", T_DS)->n_sigs, 1);
	assert_int_equal(rrset(z, "ns.insecure.example.", T_A)->n_sigs, 0);
	/* the wildcard's RRSIG counts labels without the "*" (RFC 4034 §3.1.3) */
	assert_int_equal(rrsig_labels(rrset(z, "*.wild.example.", T_A)->sigs + 2), 2);
	assert_int_equal(rrsig_keytag(rrset(z, "example.", T_DNSKEY)->sigs + 2), ks_key_tag(ksk));
	assert_int_equal(rrsig_keytag(rrset(z, "example.", T_SOA)->sigs + 2), ks_key_tag(zsk));
	assert_int_equal(rrsig_inception(rrset(z, "www.example.", T_A)->sigs + 2),
			 (uint32_t) (now0 - 3600));
	assert_valid(z, now0);
	sgn_zone_free(z);
}

static void signed_nsec3_zone_verifies(void **state)
{
	sgn_zone *z = signed_zone(small_zone, true);
	sgn_verify_report rep;
	zk_error err = { 0 };
	sgn_verify_opts sample = { .now = now0, .sample = 5, .first_per_key = 2, .threads = 1 };

	(void) state;
	assert_valid(z, now0);
	for (size_t j = 0; j < z->n_n3; j++)
		assert_int_equal(z->n3[j].rr.n_sigs, 1);
	/* the sampling level passes too, and checks fewer signatures */
	assert_int_equal(sgn_zone_verify(z, &sample, &rep, &err), 0);
	assert_true(rep.nsec3);
	assert_true(rep.verified < rep.signatures);
	assert_int_equal(rep.denial_records, z->n_n3);
	sgn_zone_free(z);
}

/* ---------------------------------------------------------------- faults the verifier catches */

static void flipped_signature_byte_is_caught(void **state)
{
	sgn_zone *z = signed_zone(small_zone, true);
	sgn_rrset *s = rrset(z, "www.example.", T_A);

	(void) state;
	s->sigs[s->sigs_len - 1] ^= 0x01; /* last byte of the ECDSA signature */
	expect_problem(z, now0, "www.example. A", "does not verify");
	sgn_zone_free(z);
}

static void flipped_signature_byte_over_dnskey_is_caught(void **state)
{
	sgn_zone *z = signed_zone(small_zone, false);
	sgn_rrset *s = rrset(z, "example.", T_DNSKEY);

	(void) state;
	s->sigs[s->sigs_len - 10] ^= 0x80;
	expect_problem(z, now0, "example. DNSKEY", "does not verify");
	sgn_zone_free(z);
}

static void removed_nsec3_record_is_caught(void **state)
{
	sgn_zone *z = signed_zone(small_zone, true);
	size_t j = n3_index_of(z, "www.example.");

	(void) state;
	sgn_rrset_clear(&z->n3[j].rr);
	memmove(&z->n3[j], &z->n3[j + 1], (z->n_n3 - j - 1) * sizeof(*z->n3));
	z->n_n3--;
	for (size_t i = 0; i < z->n_nodes; i++)
		z->nodes[i]->n3 = NULL; /* the records moved */
	expect_problem(z, now0, "www.example.", "no NSEC3 record");
	sgn_zone_free(z);
}

static void removed_nsec3_record_of_an_ent_is_caught(void **state)
{
	sgn_zone *z = signed_zone(small_zone, true);
	size_t j = n3_index_of(z, "b.ent.example.");

	(void) state;
	sgn_rrset_clear(&z->n3[j].rr);
	memmove(&z->n3[j], &z->n3[j + 1], (z->n_n3 - j - 1) * sizeof(*z->n3));
	z->n_n3--;
	for (size_t i = 0; i < z->n_nodes; i++)
		z->nodes[i]->n3 = NULL;
	expect_problem(z, now0, "b.ent.example.", "no NSEC3 record");
	sgn_zone_free(z);
}

static void changed_nsec3_bitmap_is_caught(void **state)
{
	sgn_zone *z = signed_zone(small_zone, true);
	sgn_rrset *s = &z->n3[n3_index_of(z, "www.example.")].rr;
	uint8_t *bm = s->rdata + 2 + 5 + 1 + 20; /* no salt: window 0 starts here */

	(void) state;
	assert_int_equal(bm[0], 0);
	bm[2] ^= 0x40; /* drop A from { A AAAA RRSIG } */
	expect_problem(z, now0, "(www.example.)", "type bitmap");
	sgn_zone_free(z);
}

static void changed_nsec_bitmap_is_caught(void **state)
{
	sgn_zone *z = signed_zone(small_zone, false);
	sgn_rrset *s = node(z, "secure.example.")->nsec;
	uint8_t *rd = s->rdata + 2;
	uint8_t *bm = rd + dn_len(rd);

	(void) state;
	bm[2 + 5] ^= 0x10; /* DS is type 43: octet 5, bit 3 */
	expect_problem(z, now0, "NSEC at secure.example.", "type bitmap");
	sgn_zone_free(z);
}

static void changed_data_after_signing_is_caught(void **state)
{
	sgn_zone *z = signed_zone(small_zone, false);
	sgn_rrset *s = rrset(z, "mail.example.", T_A);

	(void) state;
	s->rdata[s->rdata_len - 1] ^= 0xff; /* 192.0.2.3 -> 192.0.2.252 */
	expect_problem(z, now0, "mail.example. A", "does not verify");
	sgn_zone_free(z);
}

static void expired_signatures_are_caught(void **state)
{
	sgn_zone *z = signed_zone(small_zone, true);

	(void) state;
	expect_problem(z, now0 + VALIDITY + 1, "over example. SOA", "expired");
	/* and not yet valid ones */
	expect_problem(z, now0 - 7200, "over example. SOA", "not valid before");
	/* a signature expiring within min_remaining is refused too */
	{
		sgn_verify_opts o = { .now = now0, .min_remaining = VALIDITY + 1, .threads = 1 };
		sgn_verify_report rep;

		assert_int_equal(sgn_zone_verify(z, &o, &rep, NULL), ZK_E_VERIFY);
		assert_non_null(strstr(rep.problems[0], "expires too soon"));
	}
	sgn_zone_free(z);
}

static void signature_over_delegation_ns_is_caught(void **state)
{
	sgn_zone *z = signed_zone(small_zone, true);
	sgn_rrset *ds = rrset(z, "secure.example.", T_DS);
	sgn_rrset *ns = rrset(z, "insecure.example.", T_NS);

	(void) state;
	/* any signature will do: the verifier must refuse a signed NS at a cut */
	assert_int_equal(sgn_rrset_add_sig(ns, ds->sigs + 2, blob_len(ds->sigs)), 0);
	expect_problem(z, now0, "insecure.example. NS", "not authoritative");
	sgn_zone_free(z);
}

static void signature_over_glue_is_caught(void **state)
{
	sgn_zone *z = signed_zone(small_zone, false);
	sgn_rrset *a = rrset(z, "www.example.", T_A);
	sgn_rrset *glue = rrset(z, "ns.secure.example.", T_A);

	(void) state;
	assert_int_equal(sgn_rrset_add_sig(glue, a->sigs + 2, blob_len(a->sigs)), 0);
	expect_problem(z, now0, "ns.secure.example. A", "not authoritative");
	sgn_zone_free(z);
}

static bool drop_all(const uint8_t *rd, uint16_t len, void *ctx)
{
	(void) rd;
	(void) len;
	(void) ctx;
	return true;
}

static void missing_signature_is_caught(void **state)
{
	sgn_zone *z = signed_zone(small_zone, true);

	(void) state;
	assert_int_equal(sgn_rrset_filter_sigs(rrset(z, "www.example.", T_AAAA), drop_all, NULL),
			 1);
	expect_problem(z, now0, "www.example. AAAA", "no valid signature");
	sgn_zone_free(z);
}

static void missing_signature_on_an_nsec3_record_is_caught(void **state)
{
	sgn_zone *z = signed_zone(small_zone, true);
	size_t j = n3_index_of(z, "*.wild.example.");
	char label[40];

	(void) state;
	assert_int_equal(sgn_rrset_filter_sigs(&z->n3[j].rr, drop_all, NULL), 1);
	dn_base32hex(z->n3[j].hash, 20, label);
	expect_problem(z, now0, label, "no valid signature");
	sgn_zone_free(z);
}

static void changed_ttl_after_signing_is_caught(void **state)
{
	sgn_zone *z = signed_zone(small_zone, true);

	(void) state;
	rrset(z, "ns2.example.", T_A)->ttl = 7200;
	expect_problem(z, now0, "ns2.example. A", "original TTL");
	sgn_zone_free(z);
}

static void signature_by_a_key_missing_from_the_dnskey_rrset_is_caught(void **state)
{
	sgn_zone *z = signed_zone(small_zone, false);
	size_t len;
	const uint8_t *rd = ks_key_dnskey(ksk, &len);
	uint8_t blob[2 + KS_DNSKEY_MAX];

	(void) state;
	/* only the KSK stays published: everything the ZSK signed names a missing key */
	blob[0] = (uint8_t) (len >> 8);
	blob[1] = (uint8_t) len;
	memcpy(blob + 2, rd, len);
	assert_int_equal(sgn_node_set_rrset(z->apex_node, T_DNSKEY, 3600, 1, blob,
					    (uint32_t) (2 + len)), 0);
	expect_problem(z, now0, "over example. SOA", "no such DNSKEY");
	sgn_zone_free(z);
}

static void nsec3_record_standing_for_no_name_is_caught(void **state)
{
	sgn_zone *z = signed_zone(small_zone, true);
	sgn_n3 *n3 = realloc(z->n3, (z->n_n3 + 1) * sizeof(*n3));
	sgn_n3 *last, *extra;

	(void) state;
	assert_non_null(n3);
	z->n3 = n3;
	for (size_t i = 0; i < z->n_nodes; i++)
		z->nodes[i]->n3 = NULL; /* the records may have moved */
	last = &z->n3[z->n_n3 - 1];
	extra = &z->n3[z->n_n3++];
	memset(extra, 0, sizeof(*extra));
	memset(extra->hash, 0xff, 20); /* sorts last: vvvv...vvvv */
	extra->hash_len = 20;
	extra->rr.type = T_NSEC3;
	extra->rr.count = 1;
	extra->rr.ttl = last->rr.ttl;
	extra->rr.rdata_len = last->rr.rdata_len;
	extra->rr.rdata = malloc(last->rr.rdata_len);
	assert_non_null(extra->rr.rdata);
	memcpy(extra->rr.rdata, last->rr.rdata, last->rr.rdata_len);
	expect_problem(z, now0, "vvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvv.example.", "matches no name");
	sgn_zone_free(z);
}

static void nsec_record_at_glue_is_caught(void **state)
{
	sgn_zone *z = signed_zone(small_zone, false);
	sgn_node *glue = node(z, "ns.secure.example.");
	const sgn_rrset *www = node(z, "www.example.")->nsec;

	(void) state;
	glue->nsec = calloc(1, sizeof(*glue->nsec));
	assert_non_null(glue->nsec);
	*glue->nsec = *www;
	glue->nsec->rdata = malloc(www->rdata_len);
	glue->nsec->sigs = NULL;
	glue->nsec->sigs_len = 0;
	glue->nsec->n_sigs = 0;
	assert_non_null(glue->nsec->rdata);
	memcpy(glue->nsec->rdata, www->rdata, www->rdata_len);
	expect_problem(z, now0, "ns.secure.example.", "has an NSEC record");
	sgn_zone_free(z);
}

static void nsec_chain_with_a_wrong_next_name_is_caught(void **state)
{
	sgn_zone *z = signed_zone(small_zone, false);
	sgn_rrset *s = node(z, "mail.example.")->nsec;

	(void) state;
	/* mail -> ns1 becomes mail -> ns2: ns1 is skipped */
	assert_true(dn_equal(s->rdata + 2, wire("ns1.example.")));
	s->rdata[2 + 3] = '2';
	expect_problem(z, now0, "NSEC at mail.example.", "next name");
	sgn_zone_free(z);
}

/* ---------------------------------------------------------------- re-signing */

static void signing_again_at_the_same_time_makes_nothing(void **state)
{
	sgn_zone *z = signed_zone(small_zone, true);
	size_t all = count_sigs(z);
	sgn_sign_stats st = sign_at(z, now0);

	(void) state;
	assert_int_equal(st.made, 0);
	assert_int_equal(st.rrsets_signed, 0);
	assert_int_equal(st.dropped, 0);
	assert_int_equal(st.kept, all);
	assert_int_equal(count_sigs(z), all);
	assert_valid(z, now0);
	sgn_zone_free(z);
}

static void signatures_are_kept_until_the_refresh_window(void **state)
{
	sgn_zone *z = signed_zone(small_zone, false);
	size_t all = count_sigs(z);
	sgn_sign_stats st = sign_at(z, now0 + VALIDITY - REFRESH - 1);

	(void) state;
	assert_int_equal(st.made, 0);
	assert_int_equal(st.kept, all);
	sgn_zone_free(z);
}

static void everything_is_resigned_inside_the_refresh_window(void **state)
{
	sgn_zone *z = signed_zone(small_zone, true);
	size_t all = count_sigs(z);
	zk_time_t later = now0 + VALIDITY - REFRESH + 1;
	sgn_sign_stats st = sign_at(z, later);

	(void) state;
	assert_int_equal(st.made, all);
	assert_int_equal(st.dropped, all);
	assert_int_equal(st.kept, 0);
	assert_int_equal(st.rrsets_signed, st.rrsets);
	assert_int_equal(count_sigs(z), all);
	assert_int_equal(st.earliest_expiry, later + VALIDITY);
	assert_valid(z, later);
	sgn_zone_free(z);
}

static void signatures_of_a_retired_key_are_replaced(void **state)
{
	sgn_zone *z = signed_zone(small_zone, false);
	ks_key *other = NULL;
	ks_key *ksks[1] = { ksk }, *zsks[1];
	sgn_sign_params p = {
		.now = now0, .validity = VALIDITY, .refresh = REFRESH, .inception_offset = 3600,
		.threads = 1, .ksks = ksks, .n_ksks = 1, .zsks = zsks, .n_zsks = 1,
	};
	sgn_sign_stats st;
	size_t all = count_sigs(z);

	(void) state;
	assert_int_equal(ks_key_generate(13, KS_ROLE_ZSK, "example.", now0, &other, NULL), 0);
	zsks[0] = other;
	assert_int_equal(sgn_sign_zone(z, &p, &st, NULL), 0);
	/* everything but the DNSKEY RRset (signed by the KSK) changes hands */
	assert_int_equal(st.kept, 1);
	assert_int_equal(st.made, all - 1);
	assert_int_equal(st.dropped, all - 1);
	assert_int_equal(rrsig_keytag(rrset(z, "www.example.", T_A)->sigs + 2), ks_key_tag(other));
	ks_key_free(other);
	sgn_zone_free(z);
}

static void csk_signs_everything_once(void **state)
{
	sgn_zone *z = load(small_zone);
	sgn_denial_params p = denial_params(true);
	ks_key *csk = NULL;
	sgn_sign_stats st;
	size_t len;
	const uint8_t *rd;
	uint8_t blob[2 + KS_DNSKEY_MAX];

	(void) state;
	assert_int_equal(ks_key_generate(13, KS_ROLE_CSK, "example.", now0, &csk, NULL), 0);
	rd = ks_key_dnskey(csk, &len);
	blob[0] = (uint8_t) (len >> 8);
	blob[1] = (uint8_t) len;
	memcpy(blob + 2, rd, len);
	assert_int_equal(sgn_node_set_rrset(z->apex_node, T_DNSKEY, 3600, 1, blob,
					    (uint32_t) (2 + len)), 0);
	build_denial(z, &p, NULL);
	st = sign_with(z, &csk, 1, &csk, 1, 0, 1);
	assert_int_equal(st.made, st.rrsets);
	assert_int_equal(rrset(z, "example.", T_DNSKEY)->n_sigs, 1);
	assert_valid(z, now0);
	ks_key_free(csk);
	sgn_zone_free(z);
}

static void two_zsks_both_sign_every_rrset(void **state)
{
	sgn_zone *z = load(small_zone);
	sgn_denial_params p = denial_params(false);
	ks_key *zsk2 = NULL, *zsks[2];
	sgn_sign_stats st;

	(void) state;
	assert_int_equal(ks_key_generate(13, KS_ROLE_ZSK, "example.", now0, &zsk2, NULL), 0);
	zsks[0] = zsk;
	zsks[1] = zsk2;
	build_denial(z, &p, NULL);
	st = sign_with(z, &ksk, 1, zsks, 2, 0, 1);
	/* every RRset twice, but DNSKEY once (KSK) */
	assert_int_equal(st.made, 2 * st.rrsets - 1);
	assert_int_equal(rrset(z, "www.example.", T_A)->n_sigs, 2);
	/* the second ZSK is not in the DNSKEY RRset: its signatures name no DNSKEY */
	expect_problem(z, now0, "www.example. A", "no such DNSKEY");
	ks_key_free(zsk2);
	sgn_zone_free(z);
}

/*
 * An algorithm rollover (RFC 6781 §4.1.4): signatures of an algorithm the DNSKEY RRset does
 * not have yet (or any more) are passed over, as validators do; the zone is valid as long
 * as every algorithm of the DNSKEY RRset signs every RRset.
 */
static void signatures_of_an_algorithm_without_dnskey_are_passed_over(void **state)
{
	sgn_zone *z = load(small_zone);
	sgn_denial_params p = denial_params(false);
	ks_key *ed = NULL, *zsks[2];
	sgn_verify_report rep;
	zk_error err = { 0 };
	sgn_sign_stats st;

	(void) state;
	assert_int_equal(ks_key_generate(15, KS_ROLE_ZSK, "example.", now0, &ed, NULL), 0);
	zsks[0] = zsk;
	zsks[1] = ed;
	build_denial(z, &p, NULL);
	st = sign_with(z, &ksk, 1, zsks, 2, 0, 1);
	assert_int_equal(st.made, 2 * st.rrsets - 1);
	assert_int_equal(verify_at(z, now0, &rep, &err), 0);
	assert_int_equal(rep.n_problems, 0);
	assert_int_equal(rep.ignored, st.rrsets - 1); /* every ED25519 signature */
	assert_int_equal(rep.verified + rep.ignored, rep.signatures);
	/* but an RRset without a signature of an algorithm the DNSKEY RRset has still fails */
	rrset(z, "www.example.", T_A)->n_sigs = 0;
	rrset(z, "www.example.", T_A)->sigs_len = 0;
	expect_problem(z, now0, "www.example. A", "no valid signature with algorithm 13");
	ks_key_free(ed);
	sgn_zone_free(z);
}

static void jitter_spreads_expirations_within_the_window(void **state)
{
	sgn_zone *z = load(small_zone);
	sgn_denial_params p = denial_params(false);
	uint32_t lo = UINT32_MAX, hi = 0, jitter = 86400;

	(void) state;
	build_denial(z, &p, NULL);
	sign_with(z, &ksk, 1, &zsk, 1, jitter, 1);
	for (size_t i = 0; i < z->n_nodes; i++) {
		const sgn_node *n = z->nodes[i];

		for (uint16_t k = 0; k <= n->n_rrsets; k++) {
			const sgn_rrset *s = k < n->n_rrsets ? &n->rrsets[k] : n->nsec;

			for (const uint8_t *q = s ? s->sigs : NULL; q && q < s->sigs + s->sigs_len;
			     q += 2u + blob_len(q)) {
				uint32_t e = rrsig_expiration(q + 2);

				lo = e < lo ? e : lo;
				hi = e > hi ? e : hi;
			}
		}
	}
	assert_true(lo >= (uint32_t) (now0 + VALIDITY - jitter));
	assert_true(hi <= (uint32_t) (now0 + VALIDITY));
	assert_true(lo < hi); /* 30-odd draws from 86401 values are not all equal */
	assert_valid(z, now0);
	sgn_zone_free(z);
}

static void signatures_from_the_future_are_replaced(void **state)
{
	sgn_zone *z = signed_zone(small_zone, false);
	size_t all = count_sigs(z);
	/* the clock went back by two hours: inceptions (now0 - 1h) are in the future */
	sgn_sign_stats st = sign_at(z, now0 - 7200);

	(void) state;
	assert_int_equal(st.dropped, all);
	assert_int_equal(st.made, all);
	assert_valid(z, now0 - 7200);
	sgn_zone_free(z);
}

/* ---------------------------------------------------------------- jitter and batches */

#define JITTER (12 * 3600)

static sgn_sign_stats sign_batch(sgn_zone *z, zk_time_t now, uint32_t jitter, bool batch)
{
	ks_key *ksks[1] = { ksk }, *zsks[1] = { zsk };
	sgn_sign_params p = {
		.now = now, .validity = VALIDITY, .refresh = REFRESH, .jitter = jitter,
		.batch = batch, .inception_offset = 3600, .threads = 0,
		.ksks = ksks, .n_ksks = 1, .zsks = zsks, .n_zsks = 1,
	};
	sgn_sign_stats st;
	zk_error err = { 0 };
	int r = sgn_sign_zone(z, &p, &st, &err);

	if (r < 0)
		print_message("sign: %s\n", err.message);
	assert_int_equal(r, 0);
	return st;
}

/* Earliest and latest expiration of every signature in the zone, NSEC3 records included. */
static void expiry_range(const sgn_zone *z, zk_time_t *lo, zk_time_t *hi)
{
	*lo = 0;
	*hi = 0;
	for (size_t i = 0; i < z->n_nodes + z->n_n3; i++) {
		const sgn_node *n = i < z->n_nodes ? z->nodes[i] : NULL;
		uint16_t n_sets = n ? (uint16_t) (n->n_rrsets + 1) : 1;

		for (uint16_t k = 0; k < n_sets; k++) {
			const sgn_rrset *s = !n ? &z->n3[i - z->n_nodes].rr
					     : k < n->n_rrsets ? &n->rrsets[k] : n->nsec;

			for (const uint8_t *q = s ? s->sigs : NULL; q && q < s->sigs + s->sigs_len;
			     q += 2u + blob_len(q)) {
				zk_time_t e = now0 + (int32_t) (rrsig_expiration(q + 2) - (uint32_t) now0);

				*lo = !*lo || e < *lo ? e : *lo;
				*hi = e > *hi ? e : *hi;
			}
		}
	}
}

static void zone_jitter_is_a_function_of_the_name(void **state)
{
	uint32_t o = sgn_zone_jitter(wire("example."), JITTER);

	(void) state;
	assert_int_equal(sgn_zone_jitter(wire("example."), JITTER), o);
	assert_int_equal(sgn_zone_jitter(wire("ExAmPle."), JITTER), o);
	assert_true(o <= JITTER - sgn_jitter_per_sig(JITTER));
	assert_int_equal(sgn_zone_jitter(wire("example."), 0), 0);
	assert_int_equal(sgn_jitter_per_sig(0), 0);
}

/* 1200 zones: every hour of the 12 gets its share, none a pile. */
static void zone_jitter_spreads_zones_over_the_window(void **state)
{
	unsigned per_hour[12] = { 0 };
	char name[64];

	(void) state;
	assert_int_not_equal(sgn_zone_jitter(wire("example."), JITTER),
			     sgn_zone_jitter(wire("example.org."), JITTER));
	assert_int_not_equal(sgn_zone_jitter(wire("cust000001.test."), JITTER),
			     sgn_zone_jitter(wire("cust000002.test."), JITTER));
	for (unsigned i = 0; i < 1200; i++) {
		uint32_t o;

		snprintf(name, sizeof(name), "cust%06u.test.", i);
		o = sgn_zone_jitter(wire(name), JITTER);
		assert_true(o <= JITTER - sgn_jitter_per_sig(JITTER));
		per_hour[o / 3600]++;
	}
	for (unsigned h = 0; h < 12; h++) {
		/* the zones' part spans 11 h 15 min (the last 45 min are the per-signature
		 * part's): 107 zones expected in each full hour, 27 in the last quarter; about
		 * 4 standard deviations either way */
		unsigned want = h < 11 ? 107 : 27;

		assert_true(per_hour[h] + (h < 11 ? 40 : 20) >= want);
		assert_true(per_hour[h] <= want + (h < 11 ? 40 : 20));
	}
}

static void signatures_expire_at_the_zones_place_in_the_window(void **state)
{
	sgn_zone *z = load(small_zone);
	sgn_denial_params p = denial_params(true);
	uint32_t o = sgn_zone_jitter(z->apex, JITTER), per_sig = sgn_jitter_per_sig(JITTER);
	zk_time_t lo, hi;
	sgn_sign_stats st;

	(void) state;
	build_denial(z, &p, NULL);
	st = sign_batch(z, now0, JITTER, true);
	expiry_range(z, &lo, &hi);
	assert_true(lo >= now0 + VALIDITY - o - per_sig);
	assert_true(hi <= now0 + VALIDITY - o);
	assert_int_equal(st.earliest_expiry, lo);
	assert_int_equal(st.next_refresh, lo - REFRESH);
	assert_valid(z, now0);
	sgn_zone_free(z);
}

static void jitter_zero_gives_exact_expirations_in_batches_too(void **state)
{
	sgn_zone *z = load(small_zone);
	sgn_denial_params p = denial_params(true);
	size_t all;
	zk_time_t lo, hi, t;
	sgn_sign_stats st;

	(void) state;
	build_denial(z, &p, NULL);
	st = sign_batch(z, now0, 0, true);
	all = count_sigs(z);
	expiry_range(z, &lo, &hi);
	assert_int_equal(lo, now0 + VALIDITY);
	assert_int_equal(hi, now0 + VALIDITY);
	/* an edit a day later: its signature expires a day later */
	rrset(z, "www.example.", T_A)->n_sigs = 0;
	rrset(z, "www.example.", T_A)->sigs_len = 0;
	st = sign_batch(z, now0 + 86400, 0, true);
	assert_int_equal(st.made, 1);
	/* the refresh takes it along: everything expires at t + VALIDITY */
	t = now0 + VALIDITY - REFRESH;
	st = sign_batch(z, t, 0, true);
	assert_int_equal(st.made, all);
	expiry_range(z, &lo, &hi);
	assert_int_equal(lo, t + VALIDITY);
	assert_int_equal(hi, t + VALIDITY);
	assert_int_equal(st.next_refresh, t + VALIDITY - REFRESH);
	sgn_zone_free(z);
}

/*
 * One batch per refresh period: a signature made by an edit between two refreshes is
 * re-signed with the rest at the next one, and the refresh after that is a whole period
 * away. Without batching the edit's signature would stay behind and make a publication
 * of its own two days after the refresh.
 */
static void refresh_resigns_edits_in_between_in_the_same_batch(void **state)
{
	uint32_t o, per_sig = sgn_jitter_per_sig(JITTER);

	(void) state;
	for (int batch = 1; batch >= 0; batch--) {
		sgn_zone *z = load(small_zone);
		sgn_denial_params p = denial_params(true);
		sgn_sign_stats st;
		zk_time_t t, lo, hi;
		size_t all;

		o = sgn_zone_jitter(z->apex, JITTER);
		build_denial(z, &p, NULL);
		st = sign_batch(z, now0, JITTER, batch);
		all = count_sigs(z);
		t = st.next_refresh;
		assert_true(t >= now0 + VALIDITY - REFRESH - o - per_sig);
		/* an edit two days later: one new signature, nothing else re-signed */
		rrset(z, "www.example.", T_A)->n_sigs = 0;
		rrset(z, "www.example.", T_A)->sigs_len = 0;
		st = sign_batch(z, now0 + 2 * 86400, JITTER, batch);
		assert_int_equal(st.made, 1);
		assert_int_equal(st.kept, all - 1);
		/* the same, or a little later when the edited RRset had the earliest expiry
		 * (the per-signature part is random) */
		assert_true(st.next_refresh >= t && st.next_refresh <= t + per_sig);
		t = st.next_refresh;
		/* the refresh */
		st = sign_batch(z, t, JITTER, batch);
		if (batch) {
			assert_int_equal(st.made, all);
			assert_int_equal(st.kept, 0);
			/* the next refresh is a period away: after t + validity - refresh - jitter */
			assert_true(st.next_refresh >= t + VALIDITY - REFRESH - o - per_sig);
			assert_true(st.next_refresh >= t + VALIDITY - REFRESH - JITTER);
			expiry_range(z, &lo, &hi);
			assert_true(lo >= t + VALIDITY - o - per_sig && hi <= t + VALIDITY - o);
		} else {
			/* only the earliest were due: the rest, the edit's signature among them,
			 * stay behind and make publications of their own */
			assert_true(st.kept > 1);
			assert_true(st.next_refresh < t + 86400);
			assert_true(rrsig_expiration(rrset(z, "www.example.", T_A)->sigs + 2) <=
				    (uint32_t) (now0 + 2 * 86400 + VALIDITY - o));
		}
		assert_valid(z, t);
		/* at the next refresh's time minus a second nothing is due */
		st = sign_batch(z, st.next_refresh - 1, JITTER, batch);
		assert_int_equal(st.made, 0);
		sgn_zone_free(z);
	}
}

/* A run with nothing due keeps the plain window, even a day before the refresh. */
static void an_edit_with_nothing_due_resigns_only_what_changed(void **state)
{
	sgn_zone *z = load(small_zone);
	sgn_denial_params p = denial_params(false);
	sgn_sign_stats st;
	zk_time_t t;
	size_t all;

	(void) state;
	build_denial(z, &p, NULL);
	st = sign_batch(z, now0, JITTER, true);
	all = count_sigs(z);
	t = st.next_refresh - 86400;
	rrset(z, "www.example.", T_AAAA)->n_sigs = 0;
	rrset(z, "www.example.", T_AAAA)->sigs_len = 0;
	st = sign_batch(z, t, JITTER, true);
	assert_int_equal(st.made, 1);
	assert_int_equal(st.dropped, 0);
	assert_int_equal(st.kept, all - 1);
	sgn_zone_free(z);
}

/* ---------------------------------------------------------------- versions */

static void adoption_carries_signatures_of_unchanged_rrsets(void **state)
{
	sgn_zone *old = signed_zone(small_zone, true);
	sgn_zone *z = load(small_zone);
	sgn_denial_params p = denial_params(true);
	size_t authoritative = 0, adopted;
	sgn_sign_stats st;

	(void) state;
	for (size_t i = 0; i < old->n_nodes; i++) {
		const sgn_node *n = old->nodes[i];

		for (uint16_t k = 0; k < n->n_rrsets; k++)
			authoritative += n->rrsets[k].n_sigs > 0;
	}
	build_denial(z, &p, old);
	adopted = sgn_zone_adopt(z, old);
	assert_int_equal(adopted, authoritative);
	st = sign_at(z, now0);
	assert_int_equal(st.made, 0);
	assert_int_equal(st.kept, count_sigs(z));
	assert_valid(z, now0);
	sgn_zone_free(old);
	sgn_zone_free(z);
}

static void adoption_skips_a_changed_rrset(void **state)
{
	char text[sizeof(small_zone) + 16];
	sgn_zone *old = signed_zone(small_zone, false), *z;
	sgn_denial_params p = denial_params(false);
	size_t authoritative = 0, adopted;
	sgn_sign_stats st;
	char *at;

	(void) state;
	memcpy(text, small_zone, sizeof(small_zone));
	at = strstr(text, "192.0.2.4\n");
	assert_non_null(at);
	at[8] = '9'; /* www A 192.0.2.9 */
	z = load(text);
	for (size_t i = 0; i < old->n_nodes; i++) {
		const sgn_node *n = old->nodes[i];

		for (uint16_t k = 0; k < n->n_rrsets; k++)
			authoritative += n->rrsets[k].n_sigs > 0;
	}
	build_denial(z, &p, old);
	adopted = sgn_zone_adopt(z, old);
	assert_int_equal(adopted, authoritative - 1);
	assert_int_equal(rrset(z, "www.example.", T_A)->n_sigs, 0);
	assert_int_equal(rrset(z, "www.example.", T_AAAA)->n_sigs, 1);
	/* only www A is signed anew: the NSEC chain did not change */
	st = sign_at(z, now0);
	assert_int_equal(st.made, 1);
	assert_int_equal(st.rrsets_signed, 1);
	assert_true(rrset(z, "www.example.", T_A)->flags & SGN_RRSET_NEW_SIGS);
	assert_valid(z, now0);
	sgn_zone_free(old);
	sgn_zone_free(z);
}

static void denial_records_of_a_new_name_are_signed_anew(void **state)
{
	char text[sizeof(small_zone) + 64];
	sgn_zone *old = signed_zone(small_zone, true), *z;
	sgn_denial_params p = denial_params(true);
	sgn_sign_stats st;

	(void) state;
	snprintf(text, sizeof(text), "%snew A 192.0.2.99\n", small_zone);
	z = load(text);
	build_denial(z, &p, old);
	sgn_zone_adopt(z, old);
	st = sign_at(z, now0);
	/* new A, the new name's NSEC3 and its predecessor's (whose next hash changed) */
	assert_int_equal(st.made, 3);
	assert_valid(z, now0);
	sgn_zone_free(old);
	sgn_zone_free(z);
}

static void adoption_leaves_names_that_fell_below_a_new_cut_unsigned(void **state)
{
	char before[sizeof(small_zone) + 64], after[sizeof(small_zone) + 128];
	sgn_zone *old, *z;
	sgn_denial_params p = denial_params(true);

	(void) state;
	/* newsub and host.newsub were authoritative and signed; then newsub becomes a cut */
	snprintf(before, sizeof(before), "%snewsub A 192.0.2.51\nhost.newsub A 192.0.2.50\n",
		 small_zone);
	snprintf(after, sizeof(after), "%snewsub A 192.0.2.51\nhost.newsub A 192.0.2.50\n"
		 "newsub NS ns.elsewhere.\n", small_zone);
	old = signed_zone(before, true);
	assert_int_equal(rrset(old, "newsub.example.", T_A)->n_sigs, 1);
	assert_int_equal(rrset(old, "host.newsub.example.", T_A)->n_sigs, 1);
	z = load(after);
	assert_true(node(z, "newsub.example.")->flags & SGN_NODE_DELEGATION);
	assert_true(node(z, "host.newsub.example.")->flags & SGN_NODE_BELOW_CUT);
	build_denial(z, &p, old);
	sgn_zone_adopt(z, old);
	sign_at(z, now0);
	/* occluded now: they must carry no signature, or the zone is not valid */
	assert_int_equal(rrset(z, "newsub.example.", T_A)->n_sigs, 0);
	assert_int_equal(rrset(z, "host.newsub.example.", T_A)->n_sigs, 0);
	assert_valid(z, now0);
	sgn_zone_free(old);
	sgn_zone_free(z);
}

static void trust_anchor_must_match_a_key_signing_the_dnskey_rrset(void **state)
{
	sgn_zone *z = signed_zone(small_zone, false);
	uint8_t ds_ksk[KS_DS_MAX], ds_zsk[KS_DS_MAX];
	const uint8_t *anchors[1];
	uint16_t lens[1];
	sgn_verify_opts o = { .now = now0, .full = true, .threads = 1, .anchors = anchors,
			      .anchor_lens = lens, .n_anchors = 1 };
	sgn_verify_report rep;
	size_t kl;
	const uint8_t *key;
	int n;

	(void) state;
	key = ks_key_dnskey(ksk, &kl);
	n = ks_ds_rdata(z->apex, z->apex_len, key, kl, 2, ds_ksk, sizeof(ds_ksk), NULL);
	assert_true(n > 0);
	anchors[0] = ds_ksk;
	lens[0] = (uint16_t) n;
	assert_int_equal(sgn_zone_verify(z, &o, &rep, NULL), 0);
	/* the ZSK is in the DNSKEY RRset but does not sign it */
	key = ks_key_dnskey(zsk, &kl);
	n = ks_ds_rdata(z->apex, z->apex_len, key, kl, 2, ds_zsk, sizeof(ds_zsk), NULL);
	assert_true(n > 0);
	anchors[0] = ds_zsk;
	lens[0] = (uint16_t) n;
	assert_int_equal(sgn_zone_verify(z, &o, &rep, NULL), ZK_E_VERIFY);
	assert_non_null(strstr(rep.problems[0], "trust anchor"));
	sgn_zone_free(z);
}

/* ---------------------------------------------------------------- output */

typedef struct text_buf {
	char *s;
	size_t len, cap;
} text_buf;

static int to_buf(void *userdata, const char *data, size_t len)
{
	text_buf *b = userdata;

	if (b->len + len > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		char *ns;

		while (cap < b->len + len)
			cap *= 2;
		ns = realloc(b->s, cap);
		if (!ns)
			return -ENOMEM;
		b->s = ns;
		b->cap = cap;
	}
	memcpy(b->s + b->len, data, len);
	b->len += len;
	return 0;
}

static void written_zone_loads_back_and_verifies(bool nsec3)
{
	sgn_zone *z = signed_zone(small_zone, nsec3), *back = NULL;
	sgn_load_opts o = { .mode = SGN_LOAD_SIGNED };
	text_buf b = { 0 };
	zk_error err = { 0 };
	int r;

	assert_int_equal(sgn_zone_write(z, "test output", 2, to_buf, &b, &err), 0);
	assert_true(b.len > 0);
	assert_memory_equal(b.s, "; test output\n", 14);
	r = sgn_zone_load_buffer(b.s, b.len, "signed.zone", wire("example."), &o, &back, &err);
	if (r < 0)
		print_message("%s:%u: %s\n", err.file, err.line, err.message);
	assert_int_equal(r, 0);
	assert_int_equal(back->orphan_rrsigs, 0);
	assert_int_equal(back->n_n3, z->n_n3);
	assert_int_equal(back->nsec3.enabled, nsec3);
	assert_true(sgn_zone_same_data(z, back, 0));
	assert_int_equal(count_sigs(back), count_sigs(z));
	assert_valid(back, now0);
	free(b.s);
	sgn_zone_free(back);
	sgn_zone_free(z);
}

static void written_rfc5155_zone_loads_back_and_verifies(void **state)
{
	/* its name 2t7b4g4v....example. is also the hashed owner of ns1.example.'s NSEC3 */
	sgn_zone *z = load(rfc5155_zone), *back = NULL;
	sgn_denial_params p = denial_params(true);
	sgn_load_opts o = { .mode = SGN_LOAD_SIGNED };
	text_buf b = { 0 };
	zk_error err = { 0 };
	int r;

	(void) state;
	p.iterations = 12;
	p.salt = rfc_salt;
	p.salt_len = 4;
	p.opt_out = true;
	build_denial(z, &p, NULL);
	sign_at(z, now0);
	assert_valid(z, now0);
	assert_int_equal(sgn_zone_write(z, NULL, 1, to_buf, &b, &err), 0);
	r = sgn_zone_load_buffer(b.s, b.len, "signed.zone", wire("example."), &o, &back, &err);
	if (r < 0)
		print_message("%s:%u: %s\n", err.file, err.line, err.message);
	assert_int_equal(r, 0);
	assert_int_equal(back->n_n3, z->n_n3);
	assert_null(sgn_node_rrset(node(back, "2t7b4g4vsa5smi47k61mv5bv1a22bojr.example."),
				   T_NSEC3));
	assert_valid(back, now0);
	free(b.s);
	sgn_zone_free(back);
	sgn_zone_free(z);
}

static void odd_names_and_data_survive_the_written_zone(void **state)
{
	static const char odd_zone[] =
		"$TTL 3600\n"
		"@ SOA ns1 host 1 1h 15m 1w 5m\n"
		"@ NS ns1\n"
		"ns1 A 192.0.2.1\n"
		"sp\\032ace A 192.0.2.2\n"
		"\\(paren\\) TXT \"quote \\\" and \\\\ and ; and \\200\" \"\"\n"
		"a\\.dot AAAA 2001:db8::1\n"
		"\\000 A 192.0.2.3\n"
		"\\001\\255.x A 192.0.2.4\n"
		"UPPER MX 10 Mail.Example.\n"
		"h HINFO \"KLH-10\" \"ITS\"\n"
		"c CAA 0 issue \"ca.example.net\"\n"
		"u TYPE65280 \\# 4 deadbeef\n"
		"e TYPE65281 \\# 0\n"
		"n NAPTR 100 10 \"S\" \"SIP+D2U\" \"\" _sip._udp\n"
		"s SRV 0 5 5060 sip\n"
		"*.w CNAME target.example.net.\n"
		"d DNAME other.example.net.\n";

	(void) state;
	for (int nsec3 = 0; nsec3 <= 1; nsec3++) {
		sgn_zone *z = signed_zone(odd_zone, nsec3), *back = NULL;
		sgn_load_opts o = { .mode = SGN_LOAD_SIGNED };
		text_buf b = { 0 };
		zk_error err = { 0 };
		int r;

		assert_valid(z, now0);
		assert_int_equal(sgn_zone_write(z, NULL, 2, to_buf, &b, &err), 0);
		r = sgn_zone_load_buffer(b.s, b.len, "odd.zone", wire("example."), &o, &back, &err);
		if (r < 0)
			print_message("%s:%u: %s\n%.*s\n", err.file, err.line, err.message,
				      (int) b.len, b.s);
		assert_int_equal(r, 0);
		assert_true(sgn_zone_same_data(z, back, 0));
		assert_int_equal(count_sigs(back), count_sigs(z));
		assert_valid(back, now0);
		free(b.s);
		sgn_zone_free(back);
		sgn_zone_free(z);
	}
}

static void large_zone_signs_writes_and_verifies_on_several_threads(void **state)
{
	enum { NAMES = 2600 };
	size_t cap = NAMES * 48 + sizeof(small_zone), o;
	char *text = malloc(cap);
	sgn_zone *z, *back = NULL;
	sgn_denial_params p = denial_params(true);
	sgn_load_opts lo = { .mode = SGN_LOAD_SIGNED };
	sgn_verify_opts vo = { .now = now0, .full = true, .threads = 3 };
	sgn_verify_report rep;
	text_buf b = { 0 };
	zk_error err = { 0 };
	sgn_sign_stats st;

	(void) state;
	assert_non_null(text);
	o = (size_t) snprintf(text, cap, "%s", small_zone);
	for (unsigned i = 0; i < NAMES; i++)
		o += (size_t) snprintf(text + o, cap - o, "h%u.g%u A 198.51.%u.%u\n", i, i % 7,
				       i / 256, i % 256);
	z = load(text);
	free(text);
	build_denial(z, &p, NULL);
	st = sign_with(z, &ksk, 1, &zsk, 1, 3600, 4);
	assert_int_equal(st.made, st.rrsets);
	assert_int_equal(sgn_zone_verify(z, &vo, &rep, &err), 0);
	assert_int_equal(rep.verified, rep.signatures);
	/* more than one output block (2048 items each), formatted on three threads */
	assert_true(z->n_nodes + z->n_n3 > 2 * 2048);
	assert_int_equal(sgn_zone_write(z, "big", 3, to_buf, &b, &err), 0);
	assert_int_equal(sgn_zone_load_buffer(b.s, b.len, "big.zone", wire("example."), &lo, &back,
					      &err), 0);
	assert_true(sgn_zone_same_data(z, back, 0));
	assert_int_equal(back->n_n3, z->n_n3);
	assert_int_equal(count_sigs(back), count_sigs(z));
	assert_int_equal(sgn_zone_verify(back, &vo, &rep, &err), 0);
	/* the same text whatever the number of threads */
	{
		text_buf one = { 0 };

		assert_int_equal(sgn_zone_write(z, "big", 1, to_buf, &one, &err), 0);
		assert_int_equal(one.len, b.len);
		assert_memory_equal(one.s, b.s, b.len);
		free(one.s);
	}
	free(b.s);
	sgn_zone_free(back);
	sgn_zone_free(z);
}

static void written_nsec_zone_loads_back_and_verifies(void **state)
{
	(void) state;
	written_zone_loads_back_and_verifies(false);
}

static void written_nsec3_zone_loads_back_and_verifies(void **state)
{
	(void) state;
	written_zone_loads_back_and_verifies(true);
}

/* An empty salt passed as NULL, length 0 (the obvious way to write RFC 9276's "-"). */
static void nsec3_chain_accepts_an_empty_salt_given_as_null(void **state)
{
	sgn_zone *z = load(small_zone);
	sgn_denial_params p = denial_params(true);

	(void) state;
	p.salt = NULL;
	p.salt_len = 0;
	build_denial(z, &p, NULL);
	assert_int_equal(z->nsec3.salt_len, 0);
	sign_at(z, now0);
	assert_valid(z, now0);
	sgn_zone_free(z);
}

/* ---------------------------------------------------------------- incremental publication */

static rec_op op(rec_op_kind kind, const char *owner, uint16_t type, const uint8_t *rd,
		 uint16_t len)
{
	rec_op o = { .seq = 1, .kind = kind };

	memcpy(o.rr.owner, wire(owner), dn_len(wire(owner)));
	o.rr.type = type;
	o.rr.ttl = 3600;
	o.rr.rdlen = len;
	o.rr.rdata = (uint8_t *) rd;
	return o;
}

/* New leaf, new name under new ENTs, a name gone, a delegation made over data. */
static void apply_edits(sgn_zone *z)
{
	static const uint8_t a[4] = { 192, 0, 2, 99 }, txt[] = "\004deep";
	uint8_t ns[DN_MAXLEN];
	rec_op ops[5];
	int r;

	memcpy(ns, wire("ns.elsewhere.test."), dn_len(wire("ns.elsewhere.test.")));
	ops[0] = op(REC_OP_ADD, "new.example.", T_A, a, 4);
	ops[1] = op(REC_OP_ADD, "x.y.www.example.", T_TXT, txt, 5);
	ops[2] = op(REC_OP_DEL, "ns2.example.", T_A, (const uint8_t *) "\300\000\002\002", 4);
	ops[3] = op(REC_OP_ADD, "mail.example.", T_NS, ns, (uint16_t) dn_len(ns));
	ops[4] = op(REC_OP_DEL, "a.b.ent.example.", T_TXT, (const uint8_t *) "\004deep", 5);
	r = rec_apply(z, NULL, ops, 5, NULL);
	assert_true(r > 0);
}

static void assert_same_denial(const sgn_zone *a, const sgn_zone *b)
{
	assert_int_equal(a->n_n3, b->n_n3);
	for (size_t j = 0; j < a->n_n3; j++) {
		assert_memory_equal(a->n3[j].hash, b->n3[j].hash, 20);
		assert_int_equal(a->n3[j].rr.rdata_len, b->n3[j].rr.rdata_len);
		assert_memory_equal(a->n3[j].rr.rdata, b->n3[j].rr.rdata, a->n3[j].rr.rdata_len);
	}
	assert_int_equal(a->n_nodes, b->n_nodes);
	for (size_t i = 0; i < a->n_nodes; i++) {
		const sgn_rrset *x = a->nodes[i]->nsec, *y = b->nodes[i]->nsec;

		assert_memory_equal(a->nodes[i]->name, b->nodes[i]->name, a->nodes[i]->name_len);
		assert_int_equal(a->nodes[i]->flags, b->nodes[i]->flags);
		assert_int_equal(!x, !y);
		if (x)
			assert_true(sgn_rrset_same_data(x, y));
	}
}

static void incremental_update_matches_a_full_build(bool nsec3)
{
	sgn_zone *z = signed_zone(small_zone, nsec3), *full = load(small_zone);
	sgn_denial_params p = denial_params(nsec3);
	sgn_verify_opts vo = { .now = now0 + 60, .sample = 100, .new_sigs = true, .threads = 1 };
	sgn_verify_report rep;
	sgn_sign_stats st;
	zk_error err = { 0 };
	size_t dirty = 0, total = 0;

	sgn_zone_clear_dirty(z);
	z->dirty_only = true;
	apply_edits(z);
	build_denial(z, &p, NULL);
	st = sign_at(z, now0 + 60);
	/* only what changed was looked at */
	for (size_t i = 0; i < z->n_nodes; i++) {
		dirty += z->nodes[i]->dirty;
		total += z->nodes[i]->n_rrsets + (z->nodes[i]->nsec != NULL);
	}
	total += z->n_n3;
	/* (a small NSEC zone: the edits' neighbours are a good part of it) */
	assert_true(st.rrsets > 0 && (nsec3 ? 2 * st.rrsets : st.rrsets) < total);
	assert_true(dirty > 0 && dirty < z->n_nodes / 2 + 2);
	/* ent.example. lost its only descendant: gone; b.ent too */
	assert_null(sgn_zone_find(z, wire("b.ent.example.")));
	assert_int_equal(sgn_zone_verify(z, &vo, &rep, &err), 0);
	apply_edits(full);
	build_denial(full, &p, NULL);
	assert_same_denial(z, full);
	z->dirty_only = false;
	assert_valid(z, now0 + 60); /* the whole zone, every signature */

	if (nsec3) {
		/* the incremental check still catches a wrong record of a changed name... */
		sgn_rrset *s = &node(z, "new.example.")->n3->rr;

		z->dirty_only = true;
		s->rdata[s->rdata_len - 1] ^= 0x40;
		assert_int_equal(sgn_zone_verify(z, &vo, &rep, &err), ZK_E_VERIFY);
		assert_non_null(strstr(rep.problems[0], "type bitmap"));
		s->rdata[s->rdata_len - 1] ^= 0x40;
		/* ... and a broken link anywhere in the chain */
		s = &node(z, "www.example.")->n3->rr;
		s->rdata[2 + 5 + 1] ^= 1;
		assert_int_equal(sgn_zone_verify(z, &vo, &rep, &err), ZK_E_VERIFY);
		assert_non_null(strstr(rep.problems[0], "next hashed owner"));
	}
	sgn_zone_free(z);
	sgn_zone_free(full);
}

/*
 * Opt-out, incrementally: an empty non-terminal joins the chain when a secure delegation
 * appears below it and leaves when that goes, although the ENT itself did not change;
 * every step matches a full build and verifies.
 */
static void incremental_opt_out_moves_ents_in_and_out_of_the_chain(void **state)
{
	static const char zone[] = "$TTL 3600\n"
		"example. SOA ns1.example. h.example. 1 3600 300 3600000 3600\n"
		"example. NS ns1.example.\n"
		"ns1.example. A 192.0.2.1\n"
		"child.ent.example. NS ns.elsewhere.example.\n";
	static const uint8_t ds[] = { 0x30, 0x39, 13, 2, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12,
				      13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27,
				      28, 29, 30, 31, 32 };
	sgn_zone *z = load(zone);
	sgn_denial_params p = denial_params(true);
	sgn_verify_opts vo = { .now = now0 + 60, .sample = 100, .new_sigs = true, .threads = 1 };
	sgn_verify_report rep;
	zk_error err = { 0 };
	rec_op ops[2];

	(void) state;
	p.opt_out = true;
	build_denial(z, &p, NULL);
	sign_at(z, now0);
	assert_null(node(z, "ent.example.")->n3);
	ops[0] = op(REC_OP_ADD, "child.ent.example.", T_DS, ds, sizeof(ds));
	ops[1] = op(REC_OP_DEL, "child.ent.example.", T_DS, ds, sizeof(ds));
	for (int step = 0; step < 2; step++) {
		sgn_zone *full = load(zone);

		sgn_zone_clear_dirty(z);
		z->dirty_only = true;
		assert_int_equal(rec_apply(z, NULL, ops + step, 1, NULL), 1);
		build_denial(z, &p, NULL);
		sign_at(z, now0 + 60);
		/* the ENT is in the chain exactly while a secure delegation is below it */
		assert_int_equal(node(z, "ent.example.")->n3 != NULL, step == 0);
		assert_int_equal(sgn_zone_verify(z, &vo, &rep, &err), 0);
		assert_int_equal(rec_apply(full, NULL, ops, (size_t) step + 1, NULL), step + 1);
		build_denial(full, &p, NULL);
		assert_same_denial(z, full);
		z->dirty_only = false;
		assert_valid(z, now0 + 60);
		sgn_zone_free(full);
	}
	sgn_zone_free(z);
}

static void incremental_nsec3_update_matches_a_full_build(void **state)
{
	(void) state;
	incremental_update_matches_a_full_build(true);
}

static void incremental_nsec_update_matches_a_full_build(void **state)
{
	(void) state;
	incremental_update_matches_a_full_build(false);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(nsec3_hashes_match_rfc5155_appendix_a),
		cmocka_unit_test(nsec3_hash_with_no_salt_and_no_iterations_is_plain_sha1),
		cmocka_unit_test(nsec3_chain_of_the_rfc5155_zone_matches_ldns_signzone),
		cmocka_unit_test(nsec3_opt_out_chain_matches_rfc5155_appendix_a),
		cmocka_unit_test(opt_out_leaves_out_ents_above_insecure_delegations_only),
		cmocka_unit_test(nsec_chain_of_the_rfc5155_zone_matches_ldns_signzone),
		cmocka_unit_test(nsec3_bitmaps_list_exactly_the_types_at_each_name),
		cmocka_unit_test(nsec_bitmaps_list_exactly_the_types_at_each_name),
		cmocka_unit_test(signed_nsec_zone_verifies),
		cmocka_unit_test(signed_nsec3_zone_verifies),
		cmocka_unit_test(flipped_signature_byte_is_caught),
		cmocka_unit_test(flipped_signature_byte_over_dnskey_is_caught),
		cmocka_unit_test(removed_nsec3_record_is_caught),
		cmocka_unit_test(removed_nsec3_record_of_an_ent_is_caught),
		cmocka_unit_test(changed_nsec3_bitmap_is_caught),
		cmocka_unit_test(changed_nsec_bitmap_is_caught),
		cmocka_unit_test(changed_data_after_signing_is_caught),
		cmocka_unit_test(expired_signatures_are_caught),
		cmocka_unit_test(signature_over_delegation_ns_is_caught),
		cmocka_unit_test(signature_over_glue_is_caught),
		cmocka_unit_test(missing_signature_is_caught),
		cmocka_unit_test(missing_signature_on_an_nsec3_record_is_caught),
		cmocka_unit_test(changed_ttl_after_signing_is_caught),
		cmocka_unit_test(signature_by_a_key_missing_from_the_dnskey_rrset_is_caught),
		cmocka_unit_test(nsec3_record_standing_for_no_name_is_caught),
		cmocka_unit_test(nsec_record_at_glue_is_caught),
		cmocka_unit_test(nsec_chain_with_a_wrong_next_name_is_caught),
		cmocka_unit_test(signing_again_at_the_same_time_makes_nothing),
		cmocka_unit_test(signatures_are_kept_until_the_refresh_window),
		cmocka_unit_test(everything_is_resigned_inside_the_refresh_window),
		cmocka_unit_test(signatures_of_a_retired_key_are_replaced),
		cmocka_unit_test(csk_signs_everything_once),
		cmocka_unit_test(two_zsks_both_sign_every_rrset),
		cmocka_unit_test(signatures_of_an_algorithm_without_dnskey_are_passed_over),
		cmocka_unit_test(jitter_spreads_expirations_within_the_window),
		cmocka_unit_test(signatures_from_the_future_are_replaced),
		cmocka_unit_test(zone_jitter_is_a_function_of_the_name),
		cmocka_unit_test(zone_jitter_spreads_zones_over_the_window),
		cmocka_unit_test(signatures_expire_at_the_zones_place_in_the_window),
		cmocka_unit_test(jitter_zero_gives_exact_expirations_in_batches_too),
		cmocka_unit_test(refresh_resigns_edits_in_between_in_the_same_batch),
		cmocka_unit_test(an_edit_with_nothing_due_resigns_only_what_changed),
		cmocka_unit_test(adoption_carries_signatures_of_unchanged_rrsets),
		cmocka_unit_test(adoption_skips_a_changed_rrset),
		cmocka_unit_test(denial_records_of_a_new_name_are_signed_anew),
		cmocka_unit_test(adoption_leaves_names_that_fell_below_a_new_cut_unsigned),
		cmocka_unit_test(trust_anchor_must_match_a_key_signing_the_dnskey_rrset),
		cmocka_unit_test(written_nsec_zone_loads_back_and_verifies),
		cmocka_unit_test(written_nsec3_zone_loads_back_and_verifies),
		cmocka_unit_test(written_rfc5155_zone_loads_back_and_verifies),
		cmocka_unit_test(odd_names_and_data_survive_the_written_zone),
		cmocka_unit_test(large_zone_signs_writes_and_verifies_on_several_threads),
		/* last: under UBSan (denial.c memcpy from NULL) it ends the run */
		cmocka_unit_test(nsec3_chain_accepts_an_empty_salt_given_as_null),
		cmocka_unit_test(incremental_nsec3_update_matches_a_full_build),
		cmocka_unit_test(incremental_opt_out_moves_ents_in_and_out_of_the_chain),
		cmocka_unit_test(incremental_nsec_update_matches_a_full_build),
	};

	return cmocka_run_group_tests_name("denial_sign_verify", tests, setup_keys, teardown_keys);
}
