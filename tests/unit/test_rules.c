/* SPDX-License-Identifier: MIT */
/*
 * tests/unit/test_rules.c -- the record ownership rules (policy/rules.c, invariant 19)
 * against every case of the README's "Records: who owns what", over a small fake zone:
 * example.com with the platform nameservers ns1/ns2.example.net, one other provider's
 * apex NS, a few names with data, a CNAME, a name with only DNSSEC records, and two
 * delegations (one with a DS).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "policy/policy.h"

/* ------------------------------------------------------------------------ fake zone */

static const struct fake_entry {
	const char *owner;
	uint16_t type;
	uint32_t count;
} zone_table[] = {
	{ "example.com.", LDNS_RR_TYPE_SOA, 1 },
	{ "example.com.", LDNS_RR_TYPE_NS, 3 }, /* ns1, ns2.example.net., ns.other-provider.net. */
	{ "example.com.", LDNS_RR_TYPE_MX, 1 },
	{ "example.com.", LDNS_RR_TYPE_DNSKEY, 2 },
	{ "example.com.", LDNS_RR_TYPE_RRSIG, 4 },
	{ "www.example.com.", LDNS_RR_TYPE_A, 2 },
	{ "www.example.com.", LDNS_RR_TYPE_AAAA, 1 },
	{ "www.example.com.", LDNS_RR_TYPE_RRSIG, 2 },
	{ "only-a.example.com.", LDNS_RR_TYPE_A, 1 },
	{ "alias.example.com.", LDNS_RR_TYPE_CNAME, 1 },
	{ "alias.example.com.", LDNS_RR_TYPE_RRSIG, 1 },
	{ "alias.example.com.", LDNS_RR_TYPE_NSEC, 1 },
	{ "signed-only.example.com.", LDNS_RR_TYPE_RRSIG, 1 },
	{ "signed-only.example.com.", LDNS_RR_TYPE_NSEC, 1 },
	{ "sub.example.com.", LDNS_RR_TYPE_NS, 2 },
	{ "secure.example.com.", LDNS_RR_TYPE_NS, 1 },
	{ "secure.example.com.", LDNS_RR_TYPE_DS, 1 },
};

#define N_ENTRIES (sizeof(zone_table) / sizeof(zone_table[0]))

struct fake_zone {
	ldns_rdf *owners[N_ENTRIES];
	unsigned calls;
};

static struct fake_zone fake;
static ldns_rdf *apex;
static char ns1[] = "ns1.example.net.", ns2[] = "ns2.example.net.";
static char *nameservers[] = { ns1, ns2 };
static pol_policy policy;
static pol_zone_view view;

static size_t fake_types_at(const void *zone, const ldns_rdf *owner, pol_type_count *out,
			    size_t max)
{
	struct fake_zone *z = (struct fake_zone *) zone;
	size_t n = 0;

	z->calls++;
	for (size_t i = 0; i < N_ENTRIES && n < max; i++)
		if (ldns_dname_compare(z->owners[i], owner) == 0)
			out[n++] = (pol_type_count) { zone_table[i].type, zone_table[i].count,
						      POL_RR_OCTETS(20) * zone_table[i].count };
	return n;
}

static int setup(void **state)
{
	(void) state;
	for (size_t i = 0; i < N_ENTRIES; i++) {
		fake.owners[i] = ldns_dname_new_frm_str(zone_table[i].owner);
		if (!fake.owners[i])
			return -1;
	}
	apex = ldns_dname_new_frm_str("example.com.");
	pol_policy_defaults(&policy);
	policy.nameservers = nameservers;
	policy.n_nameservers = 2;
	view = (pol_zone_view) {
		.apex = apex,
		.policy = &policy,
		.types_at = fake_types_at,
		.zone = &fake,
	};
	return apex ? 0 : -1;
}

static int teardown(void **state)
{
	(void) state;
	for (size_t i = 0; i < N_ENTRIES; i++)
		ldns_rdf_deep_free(fake.owners[i]);
	ldns_rdf_deep_free(apex);
	return 0;
}

/* ------------------------------------------------------------------------ helpers */

static ldns_rr *rr_new(const char *text)
{
	ldns_rr *rr = NULL;

	if (!text)
		return NULL;
	if (ldns_rr_new_frm_str(&rr, text, 3600, NULL, NULL) != LDNS_STATUS_OK)
		fail_msg("cannot parse test record: %s", text);
	return rr;
}

static int check_view(const pol_zone_view *v, pol_op op, const char *old_text,
		      const char *new_text, zk_error *err)
{
	ldns_rr *old_rr = rr_new(old_text), *new_rr = rr_new(new_text);
	pol_change c = { .op = op, .old_rr = old_rr, .new_rr = new_rr };
	int r;

	memset(err, 0, sizeof(*err));
	r = pol_rule_check(v, &c, err);
	ldns_rr_free(old_rr);
	ldns_rr_free(new_rr);
	return r;
}

static void expect_ok(pol_op op, const char *old_text, const char *new_text)
{
	zk_error err;
	int r = check_view(&view, op, old_text, new_text, &err);

	if (r != 0)
		fail_msg("expected accepted, got %s: %s", zk_code_name(r), err.message);
}

/* Rejected with `code`, and the message contains `part` (or equals it, if `exact`). */
static void expect_fail(pol_op op, const char *old_text, const char *new_text, int code,
			const char *part, bool exact)
{
	zk_error err;
	int r = check_view(&view, op, old_text, new_text, &err);

	if (r != code)
		fail_msg("expected %s, got %s (%d): %s", zk_code_name(code),
			 r ? zk_code_name(r) : "accepted", r, err.message);
	assert_int_equal(err.code, code);
	if (exact)
		assert_string_equal(err.message, part);
	else if (!strstr(err.message, part))
		fail_msg("message \"%s\" lacks \"%s\"", err.message, part);
}

#define REJECT(op, old_text, new_text, code, part) \
	expect_fail(op, old_text, new_text, code, part, false)
#define REJECT_EXACT(op, old_text, new_text, code, msg) \
	expect_fail(op, old_text, new_text, code, msg, true)

#define P ZK_E_PROTECTED_RECORD
#define C ZK_E_CNAME_CONFLICT
#define O ZK_E_OUT_OF_ZONE
#define I ZK_E_INVALID_RECORD

#define SOA_A "example.com. 3600 IN SOA ns1.example.net. hostmaster.example.com. " \
	"1 3600 900 1209600 3600"
#define SOA_B "example.com. 3600 IN SOA ns9.example.net. hostmaster.example.com. " \
	"2 3600 900 1209600 3600"
#define PLATFORM_NS_MSG \
	"NS example.com. -> ns1.example.net. is a platform nameserver; the platform nameservers " \
	"(ns1.example.net., ns2.example.net.) are managed automatically and cannot be modified"
#define KEY64 "mdsswUyr3DPW132mOi8V9xESWE8jTo0dxCjjnopKl+GqJxpVXckHAeF+" \
	"KkxLbxILfDLUT0rAK9iUzy1L53eKGQ=="
#define DS_SECURE "secure.example.com. 3600 IN DS 12345 13 2 " \
	"E2D3C916F6DEEAC73294E8268FB5885044A833FC5459588F4A9184CFC41A5766"
#define DS_SUB "sub.example.com. 3600 IN DS 23456 13 2 " \
	"A2D3C916F6DEEAC73294E8268FB5885044A833FC5459588F4A9184CFC41A5766"

/* ------------------------------------------------------------------------ SOA */

static void soa_create_is_protected(void **state)
{
	(void) state;
	REJECT_EXACT(POL_OP_ADD, NULL, SOA_A, P,
		     "SOA records are managed automatically and cannot be modified");
}

static void soa_update_is_protected(void **state)
{
	(void) state;
	REJECT_EXACT(POL_OP_UPDATE, SOA_A, SOA_B, P,
		     "SOA records are managed automatically and cannot be modified");
	/* Turning an A record into an SOA is creating one. */
	REJECT_EXACT(POL_OP_UPDATE, "www.example.com. 300 IN A 192.0.2.1", SOA_A, P,
		     "SOA records are managed automatically and cannot be modified");
}

static void soa_delete_is_protected(void **state)
{
	(void) state;
	REJECT_EXACT(POL_OP_DELETE, SOA_A, NULL, P,
		     "SOA records are managed automatically and cannot be modified");
}

/* ------------------------------------------------------------------------ platform NS */

static void platform_apex_ns_delete_is_protected(void **state)
{
	(void) state;
	REJECT_EXACT(POL_OP_DELETE, "example.com. 3600 IN NS ns1.example.net.", NULL, P,
		     PLATFORM_NS_MSG);
	/* Names compare case-insensitively (RFC 4343). */
	REJECT(POL_OP_DELETE, "EXAMPLE.com. 3600 IN NS NS2.Example.NET.", NULL, P,
	       "is a platform nameserver");
}

static void platform_apex_ns_change_is_protected(void **state)
{
	(void) state;
	REJECT_EXACT(POL_OP_UPDATE, "example.com. 3600 IN NS ns1.example.net.",
		     "example.com. 3600 IN NS ns3.example.net.", P, PLATFORM_NS_MSG);
	/* Even only its TTL. */
	REJECT_EXACT(POL_OP_UPDATE, "example.com. 3600 IN NS ns1.example.net.",
		     "example.com. 60 IN NS ns1.example.net.", P, PLATFORM_NS_MSG);
}

static void platform_apex_ns_add_duplicate_is_protected(void **state)
{
	(void) state;
	REJECT(POL_OP_ADD, NULL, "example.com. 3600 IN NS ns2.example.net.", P,
	       "NS example.com. -> ns2.example.net. is a platform nameserver");
	/* Nor can another provider's NS be turned into one of ours. */
	REJECT(POL_OP_UPDATE, "example.com. 3600 IN NS ns.other-provider.net.",
	       "example.com. 3600 IN NS ns1.example.net.", P, "is a platform nameserver");
}

/* ------------------------------------------------------------------------ DNSSEC types */

static const struct {
	const char *type;
	const char *record;
} dnssec_records[] = {
	{ "DNSKEY", "example.com. 3600 IN DNSKEY 257 3 13 " KEY64 },
	{ "RRSIG", "www.example.com. 3600 IN RRSIG A 13 3 3600 20261211000000 20261127000000 "
		   "12345 example.com. " KEY64 },
	{ "NSEC", "www.example.com. 3600 IN NSEC alias.example.com. A AAAA RRSIG NSEC" },
	{ "NSEC3", "2vptu5timamqttgl4luu9kg21e0aor3s.example.com. 3600 IN NSEC3 1 0 0 - "
		   "35mthgpgcu1qg68fab165klnsnk3dpvl A RRSIG" },
	{ "NSEC3PARAM", "example.com. 0 IN NSEC3PARAM 1 0 0 -" },
	{ "CDS", "example.com. 3600 IN CDS 12345 13 2 "
		 "E2D3C916F6DEEAC73294E8268FB5885044A833FC5459588F4A9184CFC41A5766" },
	{ "CDNSKEY", "example.com. 3600 IN CDNSKEY 257 3 13 " KEY64 },
};

static void dnssec_types_are_protected_on_create_update_delete(void **state)
{
	char msg[200];

	(void) state;
	for (size_t i = 0; i < sizeof(dnssec_records) / sizeof(dnssec_records[0]); i++) {
		const char *rec = dnssec_records[i].record;

		snprintf(msg, sizeof(msg),
			 "%s records are managed automatically by zonekeeper and cannot be "
			 "modified",
			 dnssec_records[i].type);
		REJECT_EXACT(POL_OP_ADD, NULL, rec, P, msg);
		REJECT_EXACT(POL_OP_UPDATE, rec, rec, P, msg);
		REJECT_EXACT(POL_OP_DELETE, rec, NULL, P, msg);
		/* Changing a user record into a system one, or back. */
		REJECT_EXACT(POL_OP_UPDATE, "www.example.com. 300 IN TXT \"x\"", rec, P, msg);
		REJECT_EXACT(POL_OP_UPDATE, rec, "www.example.com. 300 IN TXT \"x\"", P, msg);
	}
}

static void type_is_dnssec_lists_exactly_the_seven_types(void **state)
{
	static const uint16_t yes[] = { LDNS_RR_TYPE_DNSKEY, LDNS_RR_TYPE_RRSIG,
					LDNS_RR_TYPE_NSEC,   LDNS_RR_TYPE_NSEC3,
					LDNS_RR_TYPE_NSEC3PARAM, LDNS_RR_TYPE_CDS,
					LDNS_RR_TYPE_CDNSKEY };
	static const uint16_t no[] = { 0, LDNS_RR_TYPE_A, LDNS_RR_TYPE_SOA, LDNS_RR_TYPE_NS,
				       LDNS_RR_TYPE_DS, LDNS_RR_TYPE_CNAME, LDNS_RR_TYPE_KEY,
				       LDNS_RR_TYPE_SIG, 65535 };

	(void) state;
	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++)
		assert_true(pol_type_is_dnssec(yes[i]));
	for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++)
		assert_false(pol_type_is_dnssec(no[i]));
}

/* ------------------------------------------------------------------------ user NS */

static void other_apex_ns_add_and_remove_are_accepted(void **state)
{
	(void) state;
	expect_ok(POL_OP_ADD, NULL, "example.com. 3600 IN NS ns1.second-provider.net.");
	expect_ok(POL_OP_DELETE, "example.com. 3600 IN NS ns.other-provider.net.", NULL);
	expect_ok(POL_OP_UPDATE, "example.com. 3600 IN NS ns.other-provider.net.",
		  "example.com. 3600 IN NS ns2.other-provider.net.");
	/* A name that merely starts like a platform nameserver is not one. */
	expect_ok(POL_OP_ADD, NULL, "example.com. 3600 IN NS ns1.example.net.evil.");
}

static void subzone_ns_is_accepted(void **state)
{
	(void) state;
	expect_ok(POL_OP_ADD, NULL, "newsub.example.com. 3600 IN NS ns.elsewhere.example.");
	/* Below the apex, even the platform's own names are ordinary delegation data. */
	expect_ok(POL_OP_ADD, NULL, "sub.example.com. 3600 IN NS ns1.example.net.");
	expect_ok(POL_OP_DELETE, "sub.example.com. 3600 IN NS ns1.example.net.", NULL);
	/* Glue. */
	expect_ok(POL_OP_ADD, NULL, "ns.sub.example.com. 3600 IN A 192.0.2.53");
}

static void apex_ns_without_platform_nameservers_is_user_data(void **state)
{
	pol_policy bare = policy;
	pol_zone_view v = view;
	zk_error err;

	(void) state;
	bare.nameservers = NULL;
	bare.n_nameservers = 0;
	v.policy = &bare;
	assert_int_equal(check_view(&v, POL_OP_DELETE, "example.com. 3600 IN NS ns1.example.net.",
				    NULL, &err),
			 0);
}

/* ------------------------------------------------------------------------ CNAME */

static void cname_beside_other_data_is_rejected(void **state)
{
	(void) state;
	REJECT(POL_OP_ADD, NULL, "www.example.com. 300 IN CNAME target.example.net.", C,
	       "www.example.com. has A records; a CNAME cannot coexist with other data");
	/* At a delegation point too. */
	REJECT(POL_OP_ADD, NULL, "sub.example.com. 300 IN CNAME target.example.net.", C,
	       "sub.example.com. has NS records");
}

static void other_data_beside_a_cname_is_rejected(void **state)
{
	(void) state;
	REJECT(POL_OP_ADD, NULL, "alias.example.com. 300 IN A 192.0.2.1", C,
	       "alias.example.com. has a CNAME record; A records cannot coexist with it");
	REJECT(POL_OP_ADD, NULL, "ALIAS.example.com. 300 IN TXT \"hello\"", C,
	       "TXT records cannot coexist");
	/* Moving a record from elsewhere onto the CNAME's name conflicts as well. */
	REJECT(POL_OP_UPDATE, "only-a.example.com. 300 IN A 192.0.2.1",
	       "alias.example.com. 300 IN A 192.0.2.1", C, "has a CNAME record");
}

static void second_cname_is_rejected(void **state)
{
	(void) state;
	REJECT(POL_OP_ADD, NULL, "alias.example.com. 300 IN CNAME other.example.net.", C,
	       "alias.example.com. already has a CNAME record");
}

static void cname_at_apex_is_rejected(void **state)
{
	(void) state;
	REJECT(POL_OP_ADD, NULL, "example.com. 300 IN CNAME other.example.net.", C,
	       "a CNAME cannot be at the zone apex example.com.");
	REJECT(POL_OP_ADD, NULL, "EXAMPLE.COM. 300 IN CNAME other.example.net.", C,
	       "zone apex");
	REJECT(POL_OP_UPDATE, "example.com. 300 IN MX 10 mail.example.com.",
	       "example.com. 300 IN CNAME other.example.net.", C, "zone apex");
}

static void cname_beside_only_dnssec_records_is_accepted(void **state)
{
	(void) state;
	/* RRSIG and NSEC may share a name with a CNAME (RFC 4035 §2.5). */
	expect_ok(POL_OP_ADD, NULL, "signed-only.example.com. 300 IN CNAME x.example.net.");
	expect_ok(POL_OP_ADD, NULL, "fresh.example.com. 300 IN CNAME x.example.net.");
}

static void update_cname_to_another_cname_is_accepted(void **state)
{
	(void) state;
	expect_ok(POL_OP_UPDATE, "alias.example.com. 300 IN CNAME a.example.net.",
		  "alias.example.com. 600 IN CNAME b.example.net.");
	/* Or to other data: the CNAME goes away. */
	expect_ok(POL_OP_UPDATE, "alias.example.com. 300 IN CNAME a.example.net.",
		  "alias.example.com. 300 IN A 192.0.2.7");
}

static void update_only_record_at_a_name_to_cname_is_accepted(void **state)
{
	(void) state;
	expect_ok(POL_OP_UPDATE, "only-a.example.com. 300 IN A 192.0.2.1",
		  "only-a.example.com. 300 IN CNAME www.example.com.");
}

static void update_one_of_several_records_to_cname_is_rejected(void **state)
{
	(void) state;
	/* www keeps one A and an AAAA. */
	REJECT(POL_OP_UPDATE, "www.example.com. 300 IN A 192.0.2.1",
	       "www.example.com. 300 IN CNAME only-a.example.com.", C, "www.example.com. has ");
	/* A record replaced at another name does not make room at this one. */
	REJECT(POL_OP_UPDATE, "only-a.example.com. 300 IN A 192.0.2.1",
	       "www.example.com. 300 IN CNAME x.example.net.", C, "has A records");
}

static void empty_zone_view_has_no_conflicts(void **state)
{
	pol_zone_view v = view;
	zk_error err;

	(void) state;
	v.types_at = NULL;
	assert_int_equal(check_view(&v, POL_OP_ADD, NULL,
				    "www.example.com. 300 IN CNAME x.example.net.", &err),
			 0);
}

/* ------------------------------------------------------------------------ zone */

static void names_outside_the_zone_are_rejected(void **state)
{
	(void) state;
	REJECT_EXACT(POL_OP_ADD, NULL, "www.example.org. 300 IN A 192.0.2.1", O,
		     "www.example.org. is outside the zone example.com.");
	/* A suffix that is not on a label boundary. */
	REJECT(POL_OP_ADD, NULL, "badexample.com. 300 IN A 192.0.2.1", O,
	       "badexample.com. is outside");
	REJECT(POL_OP_ADD, NULL, "com. 300 IN A 192.0.2.1", O, "com. is outside");
	REJECT(POL_OP_ADD, NULL, ". 300 IN TXT \"root\"", O, ". is outside");
	REJECT(POL_OP_DELETE, "www.example.net. 300 IN A 192.0.2.1", NULL, O, "outside");
	REJECT(POL_OP_UPDATE, "www.example.com. 300 IN A 192.0.2.1",
	       "www.example.com.evil. 300 IN A 192.0.2.1", O, "www.example.com.evil. is outside");
}

static void names_at_and_below_the_apex_are_in_the_zone(void **state)
{
	(void) state;
	expect_ok(POL_OP_ADD, NULL, "example.com. 300 IN TXT \"v=spf1 -all\"");
	expect_ok(POL_OP_ADD, NULL, "a.b.c.d.Example.COM. 300 IN A 192.0.2.1");
	expect_ok(POL_OP_ADD, NULL, "*.example.com. 300 IN A 192.0.2.1");
	expect_ok(POL_OP_ADD, NULL,
		  "_443._tcp.www.example.com. 300 IN TLSA 3 1 1 "
		  "0C72AC70B745AC19998811B131D662C9AC69DBDBE7CB23E5B514B56664C5D3D6");
	expect_ok(POL_OP_ADD, NULL, "x.example.com. 300 IN TYPE65280 \\# 2 abcd");
}

/* ------------------------------------------------------------------------ malformed */

static void class_other_than_in_is_rejected(void **state)
{
	(void) state;
	REJECT(POL_OP_ADD, NULL, "www.example.com. 300 CH TXT \"x\"", I,
	       "class CH is not supported");
	REJECT(POL_OP_ADD, NULL, "www.example.com. 300 HS TXT \"x\"", I, "class HS");
}

static void check_with_ttl(pol_op op, const char *text, uint32_t ttl, int code, const char *part)
{
	ldns_rr *rr = rr_new(text);
	pol_change c = { .op = op, .new_rr = rr };
	zk_error err = { 0 };
	int r;

	ldns_rr_set_ttl(rr, ttl);
	r = pol_rule_check(&view, &c, &err);
	ldns_rr_free(rr);
	assert_int_equal(r, code);
	if (part && !strstr(err.message, part))
		fail_msg("message \"%s\" lacks \"%s\"", err.message, part);
}

static void ttl_above_2_31_is_rejected(void **state)
{
	(void) state;
	check_with_ttl(POL_OP_ADD, "new.example.com. 300 IN A 192.0.2.1", 2147483648u, I,
		       "TTL 2147483648 is above the largest TTL, 2147483647 (RFC 2181");
	check_with_ttl(POL_OP_ADD, "new.example.com. 300 IN A 192.0.2.1", UINT32_MAX, I,
		       "above the largest TTL");
}

static void ttl_above_max_zone_ttl_is_rejected(void **state)
{
	(void) state;
	check_with_ttl(POL_OP_ADD, "new.example.com. 300 IN A 192.0.2.1", 86401, I,
		       "TTL 86401 is above the policy's max_zone_ttl, 86400");
	check_with_ttl(POL_OP_ADD, "new.example.com. 300 IN A 192.0.2.1", 86400, 0, NULL);
	check_with_ttl(POL_OP_ADD, "new.example.com. 300 IN A 192.0.2.1", 0, 0, NULL);
}

static void meta_types_are_rejected(void **state)
{
	static const uint16_t meta[] = { 0, LDNS_RR_TYPE_OPT, LDNS_RR_TYPE_TSIG,
					 LDNS_RR_TYPE_AXFR, LDNS_RR_TYPE_ANY };

	(void) state;
	for (size_t i = 0; i < sizeof(meta) / sizeof(meta[0]); i++) {
		ldns_rr *rr = rr_new("new.example.com. 300 IN A 192.0.2.1");
		pol_change c = { .op = POL_OP_ADD, .new_rr = rr };
		zk_error err = { 0 };

		ldns_rr_set_type(rr, meta[i]);
		assert_int_equal(pol_rule_check(&view, &c, &err), I);
		assert_non_null(strstr(err.message, "not a record type a zone can hold"));
		ldns_rr_free(rr);
	}
}

/* ------------------------------------------------------------------------ DS */

static void ds_at_the_apex_is_rejected(void **state)
{
	(void) state;
	REJECT_EXACT(POL_OP_ADD, NULL,
		     "example.com. 3600 IN DS 12345 13 2 "
		     "E2D3C916F6DEEAC73294E8268FB5885044A833FC5459588F4A9184CFC41A5766",
		     I, "DS records for the zone example.com. belong in the parent zone, not at "
		     "its apex");
}

static void ds_at_a_delegation_is_accepted(void **state)
{
	(void) state;
	expect_ok(POL_OP_ADD, NULL, DS_SUB);
	expect_ok(POL_OP_UPDATE, DS_SECURE, DS_SECURE);
	expect_ok(POL_OP_DELETE, DS_SECURE, NULL);
}

static void ds_without_a_delegation_is_rejected(void **state)
{
	(void) state;
	REJECT(POL_OP_ADD, NULL,
	       "www.example.com. 3600 IN DS 12345 13 2 "
	       "E2D3C916F6DEEAC73294E8268FB5885044A833FC5459588F4A9184CFC41A5766",
	       I, "www.example.com. has no NS records");
	REJECT(POL_OP_ADD, NULL,
	       "nowhere.example.com. 3600 IN DS 12345 13 2 "
	       "E2D3C916F6DEEAC73294E8268FB5885044A833FC5459588F4A9184CFC41A5766",
	       I, "belong at a delegation point");
	/* secure has one NS: replacing it by a DS leaves the DS without a delegation. */
	REJECT(POL_OP_UPDATE, "secure.example.com. 3600 IN NS ns.elsewhere.example.", DS_SECURE, I,
	       "secure.example.com. has no NS records");
}

static void last_ns_of_a_delegation_with_ds_cannot_go(void **state)
{
	(void) state;
	/* secure has one NS and a DS: the DS would be left without its delegation */
	REJECT(POL_OP_DELETE, "secure.example.com. 3600 IN NS ns.elsewhere.example.", NULL, I,
	       "delete the DS records before its last NS");
	REJECT(POL_OP_UPDATE, "secure.example.com. 3600 IN NS ns.elsewhere.example.",
	       "secure.example.com. 3600 IN A 192.0.2.1", I, "secure.example.com. has no NS");
	/* ... but it may be replaced by another NS, and sub (no DS) may lose both */
	expect_ok(POL_OP_UPDATE, "secure.example.com. 3600 IN NS ns.elsewhere.example.",
		  "secure.example.com. 3600 IN NS ns2.elsewhere.example.");
	expect_ok(POL_OP_DELETE, "sub.example.com. 3600 IN NS ns.elsewhere.example.", NULL);
	/* with the DS gone first, the NS may go */
	expect_ok(POL_OP_DELETE, DS_SECURE, NULL);
}

/* ------------------------------------------------------------------------ limits */

static pol_type_count custom[POL_TYPES_MAX + 8];
static size_t n_custom;

static size_t custom_types_at(const void *zone, const ldns_rdf *owner, pol_type_count *out,
			      size_t max)
{
	size_t n = n_custom < max ? n_custom : max;

	memcpy(out, custom, n * sizeof(*out));
	return n;
}

static void with_custom_view(void (*fn)(void))
{
	pol_zone_view saved = view;

	view.types_at = custom_types_at;
	fn();
	view = saved;
	n_custom = 0;
}

static void rrset_limit(void)
{
	/* a TXT RRset 20 octets short of the limit: a 10-octet record fits, 30 does not */
	custom[0] = (pol_type_count) { LDNS_RR_TYPE_TXT, 1000, POL_RRSET_MAX_OCTETS - 20 - 12 };
	n_custom = 1;
	expect_ok(POL_OP_ADD, NULL, "big.example.com. 300 IN TXT \"123456789\"");
	REJECT(POL_OP_ADD, NULL, "big.example.com. 300 IN TXT \"12345678901234567890123456789\"",
	       ZK_E_LIMIT,
	       "the TXT RRset at big.example.com. would take 60010 octets in an answer (1001 records)");
	/* an update within the RRset takes the old record out first */
	expect_ok(POL_OP_UPDATE, "big.example.com. 300 IN TXT \"12345678901234567890123456789\"",
		  "big.example.com. 300 IN TXT \"12345678901234567890123456789\"");
}

static void types_limit(void)
{
	for (n_custom = 0; n_custom < POL_TYPES_MAX; n_custom++)
		custom[n_custom] = (pol_type_count) { (uint16_t) (1000 + n_custom), 1, 20 };
	/* one more record of a type already there is fine, a new type is not */
	expect_ok(POL_OP_ADD, NULL, "many.example.com. 300 IN TYPE1000 \\# 1 00");
	REJECT(POL_OP_ADD, NULL, "many.example.com. 300 IN A 192.0.2.1", ZK_E_LIMIT,
	       "many.example.com. would have 101 record types; the limit is 100");
}

static void apex_ns_limit(void)
{
	custom[0] = (pol_type_count) { LDNS_RR_TYPE_NS, POL_APEX_NS_MAX, 30 * POL_APEX_NS_MAX };
	n_custom = 1;
	REJECT(POL_OP_ADD, NULL, "example.com. 300 IN NS ns.provider17.example.", ZK_E_LIMIT,
	       "the apex example.com. would have 17 NS records besides the platform's");
	/* below the apex NS records are delegations, not limited but by the RRset size */
	expect_ok(POL_OP_ADD, NULL, "sub.example.com. 300 IN NS ns.provider17.example.");
	custom[0].count = POL_APEX_NS_MAX - 1;
	expect_ok(POL_OP_ADD, NULL, "example.com. 300 IN NS ns.provider16.example.");
}

/* The downstream's limits from the policy (BIND 9.18: 100 and 100); off by default. */
static void downstream_limits(void)
{
	for (n_custom = 0; n_custom < 8; n_custom++)
		custom[n_custom] = (pol_type_count) { (uint16_t) (1000 + n_custom), 1, 20 };
	custom[0] = (pol_type_count) { LDNS_RR_TYPE_A, 100, 1600 };
	expect_ok(POL_OP_ADD, NULL, "www.example.com. 300 IN A 192.0.2.200");
	expect_ok(POL_OP_ADD, NULL, "www.example.com. 300 IN TYPE2000 \\# 1 00");
	policy.max_records_per_type = 100;
	policy.max_types_per_name = 10;
	REJECT(POL_OP_ADD, NULL, "www.example.com. 300 IN A 192.0.2.200", ZK_E_LIMIT,
	       "the A RRset at www.example.com. would have 101 records; the policy's "
	       "max_records_per_type");
	/* 8 types and RRSIG, NSEC: 10; a ninth type would be 11 */
	expect_ok(POL_OP_ADD, NULL, "www.example.com. 300 IN TYPE1001 \\# 1 01");
	REJECT(POL_OP_ADD, NULL, "www.example.com. 300 IN TYPE2000 \\# 1 00", ZK_E_LIMIT,
	       "www.example.com. would have 11 record types with the 2 zonekeeper adds");
	policy.max_records_per_type = policy.max_types_per_name = 0;
}

static void limits_are_refused_where_the_write_is_accepted(void **state)
{
	(void) state;
	with_custom_view(rrset_limit);
	with_custom_view(types_limit);
	with_custom_view(apex_ns_limit);
	with_custom_view(downstream_limits);
}

/* What the loader calls per name: the same rules without a zone view. */
static void name_check_on_a_whole_name(void **state)
{
	ldns_rdf *www = ldns_dname_new_frm_str("www.example.com.");
	pol_type_count ds_only[] = { { LDNS_RR_TYPE_DS, 1, 50 } };
	pol_type_count ds_ns[] = { { LDNS_RR_TYPE_NS, 2, 60 }, { LDNS_RR_TYPE_DS, 1, 50 } };
	pol_type_count big[] = { { LDNS_RR_TYPE_A, 5001, 5001 * 16 } };
	zk_error err = { 0 };

	(void) state;
	assert_int_equal(pol_name_check(NULL, www, false, ds_only, 1, &err), ZK_E_INVALID_RECORD);
	assert_non_null(strstr(err.message, "www.example.com. has no NS records"));
	assert_int_equal(pol_name_check(NULL, www, false, ds_ns, 2, &err), 0);
	assert_int_equal(pol_name_check(NULL, apex, true, ds_ns, 2, &err), ZK_E_INVALID_RECORD);
	assert_non_null(strstr(err.message, "belong in the parent zone"));
	assert_int_equal(pol_name_check(NULL, www, false, big, 1, &err), ZK_E_LIMIT);
	/* 65,536 records would wrap a 16-bit count long before: the octets stop it first */
	assert_true(65536u * POL_RR_OCTETS(0) > POL_RRSET_MAX_OCTETS);
	ldns_rdf_deep_free(www);
}

/* ------------------------------------------------------------------------ order */

static void checks_run_in_the_documented_order(void **state)
{
	(void) state;
	/* PROTECTED before OUT_OF_ZONE. */
	REJECT(POL_OP_ADD, NULL, "example.org. 3600 IN SOA a.example. b.example. 1 2 3 4 5", P,
	       "SOA records");
	/* OUT_OF_ZONE before CNAME_CONFLICT (the other zone's apex). */
	REJECT(POL_OP_ADD, NULL, "example.org. 300 IN CNAME x.example.net.", O, "outside");
	/* CNAME_CONFLICT before INVALID_RECORD. */
	REJECT(POL_OP_ADD, NULL, "alias.example.com. 300 CH TXT \"x\"", C, "has a CNAME record");
	/* The old record is checked too: deleting an SOA from another zone is PROTECTED. */
	REJECT(POL_OP_DELETE, "example.org. 3600 IN SOA a.example. b.example. 1 2 3 4 5", NULL, P,
	       "SOA records");
}

/* ------------------------------------------------------------------------ API edges */

static void platform_ns_lookup_is_exact_and_case_insensitive(void **state)
{
	static char escaped_ns[] = "ns\\.1.example.net.";
	static char *escaped[] = { escaped_ns };
	static const struct {
		const char *name;
		bool platform;
	} rows[] = {
		{ "ns1.example.net.", true },  { "NS2.EXAMPLE.NET.", true },
		{ "ns3.example.net.", false }, { "ns1.example.net.evil.", false },
		{ "example.net.", false },     { "xns1.example.net.", false },
		{ ".", false },
	};
	pol_policy p = policy;

	(void) state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		ldns_rdf *d = ldns_dname_new_frm_str(rows[i].name);

		assert_non_null(d);
		assert_int_equal(pol_is_platform_ns(&policy, d), rows[i].platform);
		ldns_rdf_deep_free(d);
	}
	/* Escapes in the configured name are understood. */
	p.nameservers = escaped;
	p.n_nameservers = 1;
	{
		ldns_rdf *d = ldns_dname_new_frm_str("NS\\.1.example.net.");
		ldns_rdf *other = ldns_dname_new_frm_str("ns.1.example.net.");

		assert_true(pol_is_platform_ns(&p, d));
		assert_false(pol_is_platform_ns(&p, other));
		ldns_rdf_deep_free(d);
		ldns_rdf_deep_free(other);
	}
	/* Not a name, or no policy. */
	{
		ldns_rdf *a = ldns_rdf_new_frm_str(LDNS_RDF_TYPE_A, "192.0.2.1");

		assert_false(pol_is_platform_ns(&policy, a));
		assert_false(pol_is_platform_ns(NULL, apex));
		assert_false(pol_is_platform_ns(&policy, NULL));
		ldns_rdf_deep_free(a);
	}
}

static void incomplete_calls_are_programming_errors(void **state)
{
	ldns_rr *rr = rr_new("www.example.com. 300 IN A 192.0.2.1");
	pol_change add_without_rr = { .op = POL_OP_ADD };
	pol_change update_without_old = { .op = POL_OP_UPDATE, .new_rr = rr };
	pol_change delete_without_old = { .op = POL_OP_DELETE, .new_rr = rr };
	pol_change fine = { .op = POL_OP_ADD, .new_rr = rr };
	pol_zone_view no_policy = view;
	zk_error err = { 0 };

	(void) state;
	no_policy.policy = NULL;
	assert_int_equal(pol_rule_check(&view, &add_without_rr, &err), -EINVAL);
	assert_int_equal(pol_rule_check(&view, &update_without_old, &err), -EINVAL);
	assert_int_equal(pol_rule_check(&view, &delete_without_old, &err), -EINVAL);
	assert_int_equal(pol_rule_check(NULL, &fine, &err), -EINVAL);
	assert_int_equal(pol_rule_check(&no_policy, &fine, &err), -EINVAL);
	assert_int_equal(pol_rule_check(&view, NULL, &err), -EINVAL);
	/* Without a detail object the code still comes back. */
	assert_int_equal(pol_rule_check(&view, &fine, NULL), 0);
	ldns_rr_free(rr);
	{
		ldns_rr *soa = rr_new(SOA_A);
		pol_change c = { .op = POL_OP_ADD, .new_rr = soa };

		assert_int_equal(pol_rule_check(&view, &c, NULL), P);
		ldns_rr_free(soa);
	}
}

static void the_zone_is_only_asked_about_the_new_records_name(void **state)
{
	unsigned before = fake.calls;

	(void) state;
	expect_ok(POL_OP_ADD, NULL, "www.example.com. 300 IN A 192.0.2.9");
	assert_int_equal(fake.calls, before + 1);
	/* Rejected before the zone is consulted. */
	REJECT(POL_OP_ADD, NULL, SOA_A, P, "SOA");
	expect_ok(POL_OP_DELETE, "www.example.com. 300 IN A 192.0.2.1", NULL);
	assert_int_equal(fake.calls, before + 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(soa_create_is_protected),
		cmocka_unit_test(soa_update_is_protected),
		cmocka_unit_test(soa_delete_is_protected),
		cmocka_unit_test(platform_apex_ns_delete_is_protected),
		cmocka_unit_test(last_ns_of_a_delegation_with_ds_cannot_go),
		cmocka_unit_test(limits_are_refused_where_the_write_is_accepted),
		cmocka_unit_test(name_check_on_a_whole_name),
		cmocka_unit_test(platform_apex_ns_change_is_protected),
		cmocka_unit_test(platform_apex_ns_add_duplicate_is_protected),
		cmocka_unit_test(dnssec_types_are_protected_on_create_update_delete),
		cmocka_unit_test(type_is_dnssec_lists_exactly_the_seven_types),
		cmocka_unit_test(other_apex_ns_add_and_remove_are_accepted),
		cmocka_unit_test(subzone_ns_is_accepted),
		cmocka_unit_test(apex_ns_without_platform_nameservers_is_user_data),
		cmocka_unit_test(cname_beside_other_data_is_rejected),
		cmocka_unit_test(other_data_beside_a_cname_is_rejected),
		cmocka_unit_test(second_cname_is_rejected),
		cmocka_unit_test(cname_at_apex_is_rejected),
		cmocka_unit_test(cname_beside_only_dnssec_records_is_accepted),
		cmocka_unit_test(update_cname_to_another_cname_is_accepted),
		cmocka_unit_test(update_only_record_at_a_name_to_cname_is_accepted),
		cmocka_unit_test(update_one_of_several_records_to_cname_is_rejected),
		cmocka_unit_test(empty_zone_view_has_no_conflicts),
		cmocka_unit_test(names_outside_the_zone_are_rejected),
		cmocka_unit_test(names_at_and_below_the_apex_are_in_the_zone),
		cmocka_unit_test(class_other_than_in_is_rejected),
		cmocka_unit_test(ttl_above_2_31_is_rejected),
		cmocka_unit_test(ttl_above_max_zone_ttl_is_rejected),
		cmocka_unit_test(meta_types_are_rejected),
		cmocka_unit_test(ds_at_the_apex_is_rejected),
		cmocka_unit_test(ds_at_a_delegation_is_accepted),
		cmocka_unit_test(ds_without_a_delegation_is_rejected),
		cmocka_unit_test(checks_run_in_the_documented_order),
		cmocka_unit_test(platform_ns_lookup_is_exact_and_case_insensitive),
		cmocka_unit_test(incomplete_calls_are_programming_errors),
		cmocka_unit_test(the_zone_is_only_asked_about_the_new_records_name),
	};

	return cmocka_run_group_tests_name("rules", tests, setup, teardown);
}
