/* SPDX-License-Identifier: MIT */
/*
 * fuzz/fuzz_record.c -- libFuzzer target over what the record API does with untrusted
 * bytes: the JSON write body, the name, type and content in it, the rules check against
 * a zone's index, and the zone-file parser of the import endpoint.
 *
 * The first byte picks the mode:
 *   'Z'  the rest is a zone file for the import endpoint (UNSIGNED, as do_import loads it)
 *   'F'  the same as a fragment (no apex data needed)
 *   'S'  the same in SIGNED mode (`zonekeeper verify`)
 *   'R'  two bytes of type, then raw RDATA: formatting and conversion of wire data
 *        that did not come from our parser (journal, signed zones, system records)
 *   anything else: the whole input is a request body (POST and PUT parsing both).
 *
 * Invariants checked (a violation traps, so libFuzzer reports it with the input):
 *   - content that parsed formats back, and that text parses to the same RDATA (the API
 *     shows content a client must be able to send back);
 *   - a record that parsed converts to an ldns_rr for the rules;
 *   - a record added to the index can be removed again.
 * Everything allocated per input is freed; the index built once is static.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <ldns/ldns.h>

#include "policy/policy.h"
#include "policy/zk-error.h"
#include "signer/dname.h"
#include "signer/load.h"
#include "signer/rdata.h"
#include "signer/records.h"
#include "signer/zone.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define ZONE_MAX (64u * 1024u) /* zone-file mode: cap the input (the API caps at max_body) */

static uint8_t apex[DN_MAXLEN];
static ldns_rdf *apex_rdf;
static pol_policy policy;
static char ns1[] = "ns1.example.net.", ns2[] = "ns2.example.net.";
static char *nameservers[] = { ns1, ns2 };
static rec_set *set;
static rec_rr first; /* a record of the set, the "old" side of an UPDATE and a DELETE */

#define CHECK(cond) do { if (!(cond)) __builtin_trap(); } while (0)

static const struct {
	const char *name, *type, *content;
} seed_records[] = {
	{ "www", "A", "192.0.2.1" },
	{ "www", "A", "192.0.2.2" },
	{ "www", "AAAA", "2001:db8::1" },
	{ "@", "MX", "10 mail.example.com." },
	{ "@", "TXT", "\"v=spf1 -all\"" },
	{ "alias", "CNAME", "www.example.com." },
	{ "sub", "NS", "ns.sub.example.com." },
	{ "sub", "DS", "12345 13 2 "
	  "2BB183AF5F22588179A53B0A98631FAD1A292118DE24D9F0B3E7E8F4A1D5B3C0" },
	{ "_443._tcp.www", "TLSA", "3 1 1 "
	  "0C72AC70B745AC19998811B131D662C9AC69DBDBE7CB23E5B514B56664C5D3D6" },
};

static void build_set(void)
{
	zk_error e = { 0 };
	int r;

	CHECK(dn_from_text("example.com.", 12, NULL, apex) > 0);
	apex_rdf = ldns_dname_new_frm_data((uint16_t) dn_len(apex), apex);
	CHECK(apex_rdf);
	pol_policy_defaults(&policy);
	policy.nameservers = nameservers;
	policy.n_nameservers = 2;
	CHECK(rec_set_new(apex, &policy, &set) == 0);
	for (size_t i = 0; i < sizeof(seed_records) / sizeof(seed_records[0]); i++) {
		rec_rr rr = { .ttl = 3600 };

		CHECK(rec_parse_name(seed_records[i].name, apex, rr.owner, &e) == 0);
		CHECK(rec_parse_type(seed_records[i].type, &rr.type, &e) == 0);
		CHECK(rec_parse_content(&rr, apex, seed_records[i].content, &e) == 0);
		r = rec_set_add(set, &rr);
		CHECK(r == 0);
		if (i == 0)
			CHECK(rec_rr_copy(&first, &rr) == 0);
		rec_rr_clear(&rr);
	}
}

static void check_rules(pol_op op, const ldns_rr *old_rr, const ldns_rr *new_rr)
{
	pol_zone_view v;
	pol_change c = { .op = op, .old_rr = old_rr, .new_rr = new_rr };
	zk_error e = { 0 };

	rec_set_view(set, &v, apex_rdf);
	(void) pol_rule_check(&v, &c, &e);
}

/* The content of a record that parsed: format, re-parse, rules, index. */
static void exercise_record(rec_rr *rr)
{
	char *text = malloc(sgn_rdata_format_max(rr->rdlen) + 1);
	ldns_rr *l = rec_rr_to_ldns(rr), *old = rec_rr_to_ldns(&first);
	zk_error e = { 0 };
	int n;

	CHECK(text && old);
	CHECK(l);
	n = rec_rr_content(rr, text);
	CHECK(n >= 0 && (size_t) n <= sgn_rdata_format_max(rr->rdlen));
	text[n] = '\0';
	{
		rec_rr again = { .type = rr->type, .ttl = rr->ttl };

		memcpy(again.owner, rr->owner, dn_len(rr->owner));
		CHECK(rec_parse_content(&again, apex, text, &e) == 0);
		CHECK(again.rdlen == rr->rdlen && !memcmp(again.rdata, rr->rdata, rr->rdlen));
		rec_rr_clear(&again);
	}
	check_rules(POL_OP_ADD, NULL, l);
	check_rules(POL_OP_UPDATE, old, l);
	check_rules(POL_OP_DELETE, l, NULL);
	if (!rec_set_get(set, rec_rr_id(rr), NULL)) {
		uint32_t ttl;

		if (rec_set_add(set, rr) == 0) {
			CHECK(rec_set_get(set, rec_rr_id(rr), NULL));
			CHECK(rec_set_rrset_ttl(set, rr->owner, rr->type, &ttl));
			CHECK(rec_set_del(set, rr->owner, rr->type, rr->rdata, rr->rdlen) == 0);
		}
	}
	ldns_rr_free(l);
	ldns_rr_free(old);
	free(text);
}

static void fuzz_body(const uint8_t *data, size_t size)
{
	rec_body b = { 0 }, full = { 0 };
	rec_rr rr = { .ttl = 3600 };
	zk_error e = { 0 };
	bool forbidden;

	if (rec_body_parse((const char *) data, size, false, &full, &e) == 0)
		CHECK(full.name && full.type && full.content);
	rec_body_clear(&full);
	if (rec_body_parse((const char *) data, size, true, &b, &e) < 0)
		return;
	if (b.has_ttl)
		rr.ttl = b.ttl;
	if (rec_parse_name(b.name ? b.name : "@", apex, rr.owner, &e) < 0 ||
	    rec_parse_type(b.type ? b.type : "TXT", &rr.type, &e) < 0)
		goto out;
	forbidden = rr.type == LDNS_RR_TYPE_SOA || pol_type_is_dnssec(rr.type) ||
		    !dn_is_at_or_below(rr.owner, apex) ||
		    (rr.type == LDNS_RR_TYPE_CNAME && dn_equal(rr.owner, apex));
	if (forbidden) {
		/* as routes.c: refused on name and type alone, no RDATA */
		ldns_rr *l = rec_rr_to_ldns(&rr);

		CHECK(l);
		check_rules(POL_OP_ADD, NULL, l);
		ldns_rr_free(l);
		goto out;
	}
	if (b.content && rec_parse_content(&rr, apex, b.content, &e) == 0)
		exercise_record(&rr);
out:
	rec_rr_clear(&rr);
	rec_body_clear(&b);
}

static void fuzz_zone(const uint8_t *data, size_t size, uint8_t mode)
{
	sgn_load_opts lo = { .mode = mode == 'S' ? SGN_LOAD_SIGNED : SGN_LOAD_UNSIGNED,
			     .max_ttl = policy.max_zone_ttl, .fragment = mode == 'F' };
	sgn_zone *z = NULL;
	rec_set *s = NULL;
	zk_error e = { 0 };

	if (size > ZONE_MAX)
		return;
	if (sgn_zone_load_buffer((const char *) data, size, "import", apex, &lo, &z, &e) < 0)
		return;
	if (mode != 'S' && rec_set_from_zone(z, &policy, &s) == 0)
		rec_set_free(s);
	sgn_zone_free(z);
}

static void fuzz_wire(const uint8_t *data, size_t size)
{
	rec_rr rr = { .ttl = 3600 };
	char *text;
	ldns_rr *l;
	int n;

	if (size < 2 || size - 2 > UINT16_MAX)
		return;
	rr.type = (uint16_t) (data[0] << 8 | data[1]);
	rr.rdlen = (uint16_t) (size - 2);
	memcpy(rr.owner, apex, dn_len(apex));
	/* exact-size copies, so ASan sees any read past the RDATA */
	rr.rdata = malloc(rr.rdlen ? rr.rdlen : 1);
	text = malloc(sgn_rdata_format_max(rr.rdlen) + 1);
	CHECK(rr.rdata && text);
	memcpy(rr.rdata, data + 2, rr.rdlen);
	n = rec_rr_content(&rr, text);
	CHECK(n < 0 || (size_t) n <= sgn_rdata_format_max(rr.rdlen));
	l = rec_rr_to_ldns(&rr);
	ldns_rr_free(l);
	(void) rec_rr_id(&rr);
	free(text);
	rec_rr_clear(&rr);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!set)
		build_set();
	if (size > 0 && (data[0] == 'Z' || data[0] == 'F' || data[0] == 'S'))
		fuzz_zone(data + 1, size - 1, data[0]);
	else if (size > 0 && data[0] == 'R')
		fuzz_wire(data + 1, size - 1);
	else
		fuzz_body(data, size);
	return 0;
}
