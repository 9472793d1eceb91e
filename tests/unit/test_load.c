/* SPDX-License-Identifier: MIT */
/*
 * tests/unit/test_load.c -- the master file reader (signer/load.c): directives ($ORIGIN,
 * $TTL, $INCLUDE with fixtures under tests/data/signer/include), owners (relative, "@",
 * blank, escaped, mixed case), parentheses, comments, quotes, RFC 3597 generic RDATA,
 * duplicate and mixed-TTL records, the stripping of DNSSEC records from input zones, and
 * every refusal with its code, file and exact line. Then the structure the loader computes
 * (empty non-terminals, cuts, glue, wildcards, canonical order) and SIGNED mode (RRSIGs on
 * their RRsets, NSEC on the node, NSEC3 in hash order, orphan signatures counted).
 * Files: only regular files are read (a FIFO never blocks), a file changing while it is
 * read is a retryable error, $INCLUDE stays inside its directory, RDATA over 65535 octets
 * is refused, and a huge RRset in reverse order is sorted in reasonable time.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "policy/zk-error.h"
#include "signer/dname.h"
#include "signer/load.h"
#include "signer/rdata.h"
#include "signer/zone.h"
#include "tests/unit/unit.h"

/* ---------------------------------------------------------------- helpers */

typedef struct diag_log {
	unsigned warnings, notices, other;
	char warning[512], notice[512];
	char warning_file[256];
	unsigned warning_line;
} diag_log;

static void log_emit(void *userdata, zk_level level, const char *file, unsigned line,
		     const char *message)
{
	diag_log *d = userdata;

	if (level == ZK_LOG_WARNING) {
		d->warnings++;
		snprintf(d->warning, sizeof(d->warning), "%s", message);
		snprintf(d->warning_file, sizeof(d->warning_file), "%s", file ? file : "");
		d->warning_line = line;
	} else if (level == ZK_LOG_NOTICE) {
		d->notices++;
		snprintf(d->notice, sizeof(d->notice), "%s", message);
	} else {
		d->other++;
	}
}

static const char *data_dir(void)
{
	const char *d = getenv("ZK_TEST_DATA");

	return d && *d ? d : "tests/data";
}

static const char *fixture(const char *name)
{
	static char buf[4][512];
	static unsigned slot;
	char *p = buf[slot++ % 4];

	snprintf(p, sizeof(buf[0]), "%s/signer/include/%s", data_dir(), name);
	return p;
}

static const uint8_t *wire(const char *text)
{
	static uint8_t buf[8][DN_MAXLEN];
	static unsigned slot;
	uint8_t *p = buf[slot++ % 8];

	assert_true(dn_from_text(text, strlen(text), NULL, p) > 0);
	return p;
}

/* RDATA pieces too long for a line */
#define P256 "bjQLnP+zepicpUTmu3gKLHiQHT+zNzh2hRGjBhevoB1L9RIv" \
	     "NEVUxTveLruM0rfj0WAK1jHDhaXXzOI8d4VFmg=="
#define DS_DIGEST "2D711642B726B04401627CA9FBAC32F5C8530FB1903CC4DB02258717921A4881"
#define H_NS1 "2t7b4g4vsa5smi47k61mv5bv1a22bojr" /* ns1.example., salt aabbccdd, 12 */
#define H_NS2 "q04jkcevqvmu85r014c7dkba38o0ji5r" /* ns2.example. */
#define H_XYW "2vptu5timamqttgl4luu9kg21e0aor3s" /* x.y.w.example. */

/* The first 4 lines of most test zones: apex SOA (serial 5) and NS, and the NS address. */
#define HEAD "$TTL 3600\n@ SOA ns1 host 5 1h 15m 1w 5m\n@ NS ns1\nns1 A 192.0.2.53\n"

static int load_mode(const char *apex, const char *text, sgn_load_mode mode, uint32_t max_ttl,
		     diag_log *log, sgn_zone **ret, zk_error *err)
{
	zk_diag diag = { .emit = log_emit, .userdata = log };
	sgn_load_opts o = { .mode = mode, .max_ttl = max_ttl, .diag = log ? &diag : NULL };

	return sgn_zone_load_buffer(text, strlen(text), "test.zone", wire(apex), &o, ret, err);
}

/* Load an UNSIGNED zone "example." that must load. */
static sgn_zone *load_ok(const char *text, diag_log *log)
{
	sgn_zone *z = NULL;
	zk_error err = { 0 };
	int r = load_mode("example.", text, SGN_LOAD_UNSIGNED, 0, log, &z, &err);

	if (r < 0)
		print_message("load failed: %s:%u: %s\n", err.file, err.line, err.message);
	assert_int_equal(r, 0);
	assert_non_null(z);
	return z;
}

/* Load a zone that must be refused with `code` at test.zone:`line`. */
static void expect_refusal(const char *text, uint32_t max_ttl, int code, unsigned line,
			   const char *needle)
{
	sgn_zone *z = NULL;
	zk_error err = { 0 };
	int r = load_mode("example.", text, SGN_LOAD_UNSIGNED, max_ttl, NULL, &z, &err);

	if (r != code || err.line != line || (needle && !strstr(err.message, needle)))
		print_message("got %d at %s:%u: %s\n", r, err.file, err.line, err.message);
	assert_int_equal(r, code);
	assert_int_equal(err.code, code);
	assert_null(z);
	assert_string_equal(err.file, "test.zone");
	assert_int_equal(err.line, line);
	if (needle)
		assert_non_null(strstr(err.message, needle));
}

static sgn_node *node(const sgn_zone *z, const char *name)
{
	return sgn_zone_find(z, wire(name));
}

static sgn_rrset *rrset(const sgn_zone *z, const char *name, uint16_t type)
{
	sgn_node *n = node(z, name);

	return n ? sgn_node_rrset(n, type) : NULL;
}

/* RDATA of record `i` of an RRset. */
static const uint8_t *record(const sgn_rrset *s, unsigned i, uint16_t *len)
{
	const uint8_t *p = s->rdata;

	assert_true(i < s->count);
	while (i--)
		p += 2u + blob_len(p);
	*len = blob_len(p);
	return p + 2;
}

static void assert_a(const sgn_zone *z, const char *name, const char *addr, uint32_t ttl)
{
	sgn_rrset *s = rrset(z, name, T_A);
	uint8_t want[4];
	uint16_t len;
	const uint8_t *rd;
	unsigned a, b, c, d;

	if (!s)
		print_message("no A RRset at %s\n", name);
	assert_non_null(s);
	assert_int_equal(sscanf(addr, "%u.%u.%u.%u", &a, &b, &c, &d), 4);
	want[0] = (uint8_t) a, want[1] = (uint8_t) b, want[2] = (uint8_t) c, want[3] = (uint8_t) d;
	assert_int_equal(s->count, 1);
	assert_int_equal(s->ttl, ttl);
	rd = record(s, 0, &len);
	assert_int_equal(len, 4);
	assert_memory_equal(rd, want, 4);
}

/* The notice lists "<count> <type>" as an item (followed by ", " or ")"). */
static bool lists(const char *notice, const char *item)
{
	size_t n = strlen(item);

	for (const char *p = strstr(notice, item); p; p = strstr(p + 1, item))
		if ((p == notice || p[-1] == ' ' || p[-1] == '(') && (p[n] == ',' || p[n] == ')'))
			return true;
	return false;
}

static void assert_canonical_order(const sgn_zone *z)
{
	for (size_t i = 0; i + 1 < z->n_nodes; i++)
		assert_true(dn_canonical_cmp(z->nodes[i]->name, z->nodes[i + 1]->name) < 0);
}

/* ---------------------------------------------------------------- directives and names */

static void origin_and_ttl_directives_apply_to_the_records_after_them(void **state)
{
	sgn_zone *z = load_ok("$TTL 1h\n"
			      "$ORIGIN example.\n"
			      "@ SOA ns1 host 5 1h 15m 1w 5m\n"
			      "@ NS ns1\n"
			      "ns1 A 192.0.2.1\n"
			      "$ORIGIN sub.example.\n"
			      "www 300 A 192.0.2.2\n"
			      "$TTL 2h\n"
			      "mail A 192.0.2.3\n"
			      "@ A 192.0.2.4\n"
			      "abs.example. A 192.0.2.5\n", NULL);

	(void) state;
	assert_a(z, "ns1.example.", "192.0.2.1", 3600);
	assert_a(z, "www.sub.example.", "192.0.2.2", 300);
	assert_a(z, "mail.sub.example.", "192.0.2.3", 7200);
	assert_a(z, "sub.example.", "192.0.2.4", 7200);
	assert_a(z, "abs.example.", "192.0.2.5", 7200);
	/* names inside RDATA are completed too */
	{
		sgn_rrset *ns = rrset(z, "example.", T_NS);
		uint16_t len;
		const uint8_t *rd = record(ns, 0, &len);

		assert_int_equal(len, 13);
		assert_memory_equal(rd, "\003ns1\007example", 13);
	}
	sgn_zone_free(z);
}

static void last_explicit_ttl_applies_without_a_ttl_directive(void **state)
{
	sgn_zone *z = load_ok("@ 600 SOA ns1 host 5 1h 15m 1w 5m\n"
			      "@ NS ns1\n"
			      "ns1 120 A 192.0.2.1\n"
			      "ns2 A 192.0.2.2\n", NULL);

	(void) state;
	/* RFC 1035 §5.1: the last explicitly stated TTL */
	assert_int_equal(rrset(z, "example.", T_NS)->ttl, 600);
	assert_a(z, "ns2.example.", "192.0.2.2", 120);
	sgn_zone_free(z);
}

static void ttl_and_class_are_accepted_in_either_order(void **state)
{
	sgn_zone *z = load_ok(HEAD "a 300 IN A 192.0.2.1\nb IN 300 A 192.0.2.2\n"
			      "c in 5m A 192.0.2.3\nd A 192.0.2.4\n", NULL);

	(void) state;
	assert_a(z, "a.example.", "192.0.2.1", 300);
	assert_a(z, "b.example.", "192.0.2.2", 300);
	assert_a(z, "c.example.", "192.0.2.3", 300);
	assert_a(z, "d.example.", "192.0.2.4", 3600);
	sgn_zone_free(z);
}

static void blank_owner_repeats_the_previous_owner(void **state)
{
	sgn_zone *z = load_ok(HEAD "www 300 IN A 192.0.2.1\n"
			      "    300 IN AAAA 2001:db8::1\n"
			      "\t\tTXT \"tab\"\n"
			      "; a comment line does not change the owner\n"
			      "\n"
			      "  MX 10 mail\n", NULL);
	sgn_node *n;

	(void) state;
	n = node(z, "www.example.");
	assert_non_null(n);
	assert_int_equal(n->n_rrsets, 4);
	assert_non_null(sgn_node_rrset(n, T_AAAA));
	assert_non_null(sgn_node_rrset(n, T_TXT));
	assert_non_null(sgn_node_rrset(n, T_MX));
	sgn_zone_free(z);
}

static void parentheses_span_lines_and_comments_end_at_the_newline(void **state)
{
	sgn_zone *z = load_ok("$TTL 3600\n"
			      "@ IN SOA ns1 host ( ; the SOA, over four lines\n"
			      "      2025011501 ; serial\n"
			      "      1h 15m     ; refresh, retry\n"
			      "      1w 5m )    ; expire, minimum\n"
			      "@ NS ( ns1 )\n"
			      "ns1 A 192.0.2.1 ; address\n"
			      "multi ( 300\n IN\n A\n 192.0.2.2 )\n", NULL);
	sgn_rrset *soa;
	uint16_t len;
	const uint8_t *rd;

	(void) state;
	assert_true(z->has_input_soa);
	assert_int_equal(z->input_serial, 2025011501);
	soa = rrset(z, "example.", T_SOA);
	rd = record(soa, 0, &len);
	/* refresh 1h, retry 15m, expire 1w, minimum 5m */
	assert_int_equal(rrsig_u32(rd + len - 16), 3600);
	assert_int_equal(rrsig_u32(rd + len - 12), 900);
	assert_int_equal(rrsig_u32(rd + len - 8), 604800);
	assert_int_equal(rrsig_u32(rd + len - 4), 300);
	assert_a(z, "multi.example.", "192.0.2.2", 300);
	sgn_zone_free(z);
}

static void quoted_strings_keep_semicolons_and_parentheses(void **state)
{
	sgn_zone *z = load_ok(HEAD "txt TXT \"a;b(c\" \"d)e\" ; comment ( with a parenthesis\n"
			      "q TXT \"say \\\"hi\\\"\" plain\n"
			      "ml TXT ( \"one\"\n \"two;\" )\n", NULL);
	uint16_t len;
	const uint8_t *rd;

	(void) state;
	rd = record(rrset(z, "txt.example.", T_TXT), 0, &len);
	assert_int_equal(len, 10);
	assert_memory_equal(rd, "\005a;b(c\003d)e", 10);
	rd = record(rrset(z, "q.example.", T_TXT), 0, &len);
	assert_int_equal(len, 15);
	assert_memory_equal(rd, "\010say \"hi\"\005plain", 15);
	rd = record(rrset(z, "ml.example.", T_TXT), 0, &len);
	assert_int_equal(len, 9);
	assert_memory_equal(rd, "\003one\004two;", 9);
	sgn_zone_free(z);
}

static void generic_rdata_is_accepted_for_unknown_and_known_types(void **state)
{
	sgn_zone *z = load_ok(HEAD "a1 A 192.0.2.1\n"
			      "a2 A \\# 4 C0000201\n"
			      "a3 TYPE1 \\# 4 c0 00 02 01\n"
			      "u TYPE65280 \\# 3 abcdef\n"
			      "e TYPE65281 \\# 0\n"
			      "g NS \\# 13 034E5331076578616D706C6500\n", NULL);
	sgn_rrset *a1 = rrset(z, "a1.example.", T_A), *a2 = rrset(z, "a2.example.", T_A);
	sgn_rrset *a3 = rrset(z, "a3.example.", T_A), *u = rrset(z, "u.example.", 65280);
	sgn_rrset *e = rrset(z, "e.example.", 65281), *g = rrset(z, "g.example.", T_NS);
	uint16_t len;

	(void) state;
	assert_non_null(a1);
	assert_non_null(a2);
	assert_non_null(a3);
	assert_true(sgn_rrset_same_data(a1, a2));
	assert_true(sgn_rrset_same_data(a1, a3));
	assert_non_null(u);
	assert_memory_equal(record(u, 0, &len), "\xab\xcd\xef", 3);
	assert_int_equal(len, 3);
	assert_non_null(e);
	record(e, 0, &len);
	assert_int_equal(len, 0);
	/* names of RFC 4034 §6.2 types are lowercased in generic form too */
	assert_non_null(g);
	assert_memory_equal(record(g, 0, &len), "\003ns1\007example", 13);
	assert_int_equal(len, 13);
	sgn_zone_free(z);
}

static void escapes_in_owner_names_are_resolved(void **state)
{
	sgn_zone *z = load_ok(HEAD "a\\.b A 192.0.2.1\n"
			      "\\065BC A 192.0.2.2\n"
			      "sp\\032ace A 192.0.2.3\n"
			      "\\(x\\) A 192.0.2.4\n", NULL);

	(void) state;
	assert_non_null(sgn_zone_find(z, (const uint8_t *) "\003a.b\007example"));
	assert_a(z, "abc.example.", "192.0.2.2", 3600);
	assert_non_null(sgn_zone_find(z, (const uint8_t *) "\006sp ace\007example"));
	assert_non_null(sgn_zone_find(z, (const uint8_t *) "\003(x)\007example"));
	sgn_zone_free(z);
}

static void owner_names_are_stored_lowercase(void **state)
{
	sgn_zone *z = load_ok(HEAD "WWW.Example. A 192.0.2.1\nMiXeD A 192.0.2.2\n", NULL);

	(void) state;
	for (size_t i = 0; i < z->n_nodes; i++) {
		uint8_t lower[DN_MAXLEN];

		dn_lower_copy(lower, z->nodes[i]->name);
		assert_memory_equal(z->nodes[i]->name, lower, z->nodes[i]->name_len);
	}
	assert_non_null(sgn_zone_find(z, (const uint8_t *) "\003www\007example"));
	assert_non_null(sgn_zone_find(z, (const uint8_t *) "\005mixed\007example"));
	sgn_zone_free(z);
}

static void duplicate_records_collapse(void **state)
{
	sgn_zone *z = load_ok(HEAD "d A 192.0.2.1\nd A 192.0.2.1\nd A 192.0.2.2\n"
			      "@ NS NS1.EXAMPLE.\n"
			      "c CNAME target.example.\nc CNAME TARGET.example.\n", NULL);

	(void) state;
	assert_int_equal(rrset(z, "d.example.", T_A)->count, 2);
	/* the same name in another case is the same record (RFC 4034 §6.2 lowercasing) */
	assert_int_equal(rrset(z, "example.", T_NS)->count, 1);
	assert_int_equal(rrset(z, "c.example.", T_CNAME)->count, 1);
	sgn_zone_free(z);
}

static void records_of_an_rrset_are_sorted_canonically(void **state)
{
	sgn_zone *z = load_ok(HEAD "s A 192.0.2.9\ns A 192.0.2.10\ns A 10.0.0.1\n", NULL);
	sgn_rrset *s = rrset(z, "s.example.", T_A);
	uint16_t l0, l1, l2;
	const uint8_t *r0 = record(s, 0, &l0), *r1 = record(s, 1, &l1), *r2 = record(s, 2, &l2);

	(void) state;
	assert_true(sgn_rdata_cmp(r0, l0, r1, l1) < 0);
	assert_true(sgn_rdata_cmp(r1, l1, r2, l2) < 0);
	assert_memory_equal(r0, "\012\000\000\001", 4);
	sgn_zone_free(z);
}

static void mixed_ttls_in_an_rrset_become_the_lowest_with_one_warning(void **state)
{
	diag_log log = { 0 };
	sgn_zone *z = load_ok(HEAD "m 600 A 192.0.2.1\nm 300 A 192.0.2.2\nm 900 A 192.0.2.3\n"
			      "same 60 A 192.0.2.1\nsame 60 A 192.0.2.2\n", &log);

	(void) state;
	assert_int_equal(rrset(z, "m.example.", T_A)->ttl, 300);
	assert_int_equal(rrset(z, "m.example.", T_A)->count, 3);
	assert_int_equal(log.warnings, 1);
	assert_non_null(strstr(log.warning, "m.example."));
	assert_non_null(strstr(log.warning, "300"));
	assert_string_equal(log.warning_file, "test.zone");
	assert_int_equal(log.warning_line, 5);
	assert_int_equal(log.notices, 0);
	sgn_zone_free(z);
}

static void dnssec_records_are_stripped_with_one_notice(void **state)
{
	diag_log log = { 0 };
	sgn_zone *z = load_ok(HEAD
			      "@ DNSKEY 257 3 13 " P256 "\n"
			      "@ RRSIG SOA 13 1 3600 20300101000000 20250101000000 1 example. AAAA\n"
			      "@ RRSIG NS 13 1 3600 20300101000000 20250101000000 1 example. AAAA\n"
			      "@ NSEC ns1 SOA NS RRSIG NSEC DNSKEY\n"
			      "@ NSEC3PARAM 1 0 0 -\n"
			      "@ CDS 0 0 0 00\n"
			      "@ CDNSKEY 0 3 0 AA==\n"
			      H_NS1 " NSEC3 1 0 0 - " H_NS1 " A\n"
			      "sub NS ns.sub\nsub DS 12345 13 2 " DS_DIGEST "\n",
			      &log);
	sgn_node *apex = z->apex_node;

	(void) state;
	assert_int_equal(log.notices, 1);
	assert_int_equal(log.warnings, 0);
	assert_non_null(strstr(log.notice, "8 DNSSEC records"));
	assert_true(lists(log.notice, "1 DNSKEY"));
	assert_true(lists(log.notice, "2 RRSIG"));
	assert_true(lists(log.notice, "1 NSEC"));
	assert_true(lists(log.notice, "1 NSEC3PARAM"));
	assert_true(lists(log.notice, "1 NSEC3"));
	assert_true(lists(log.notice, "1 CDS"));
	assert_true(lists(log.notice, "1 CDNSKEY"));
	assert_false(lists(log.notice, "1 DS"));
	assert_null(sgn_node_rrset(apex, T_DNSKEY));
	assert_null(sgn_node_rrset(apex, T_NSEC3PARAM));
	assert_null(sgn_node_rrset(apex, T_CDS));
	assert_null(apex->nsec);
	assert_int_equal(z->n_n3, 0);
	assert_null(node(z, "2t7b4g4vsa5smi47k61mv5bv1a22bojr.example."));
	for (uint16_t i = 0; i < apex->n_rrsets; i++)
		assert_int_equal(apex->rrsets[i].n_sigs, 0);
	/* DS is delegation data, not ours to manage */
	assert_non_null(rrset(z, "sub.example.", T_DS));
	sgn_zone_free(z);
}

static void clean_input_gives_no_notice(void **state)
{
	diag_log log = { 0 };
	sgn_zone *z = load_ok(HEAD, &log);

	(void) state;
	assert_int_equal(log.notices + log.warnings + log.other, 0);
	sgn_zone_free(z);
}

static void soa_serial_of_the_input_is_captured(void **state)
{
	sgn_zone *z = load_ok("$TTL 60\n@ SOA ns1 host 4294967295 1 2 3 4\n@ NS ns1\n", NULL);

	(void) state;
	assert_true(z->has_input_soa);
	assert_int_equal(z->input_serial, 4294967295u);
	sgn_zone_free(z);
	z = load_ok("$TTL 60\n@ NS ns1\n", NULL);
	assert_false(z->has_input_soa);
	sgn_zone_free(z);
}

/* ---------------------------------------------------------------- $INCLUDE */

static void includes_are_relative_to_the_including_file(void **state)
{
	sgn_zone *z = NULL;
	zk_error err = { 0 };
	sgn_load_opts o = { .mode = SGN_LOAD_UNSIGNED };
	int r = sgn_zone_load_file(fixture("main.zone"), wire("example."), &o, &z, &err);

	(void) state;
	if (r < 0)
		print_message("%s:%u: %s\n", err.file, err.line, err.message);
	assert_int_equal(r, 0);
	assert_int_equal(z->input_serial, 7);
	/* inc/hosts.inc, without an origin argument */
	assert_a(z, "www.example.", "192.0.2.1", 3600);
	/* inc/nested.inc, included from inc/ and found there */
	assert_a(z, "deep.example.", "192.0.2.2", 3600);
	/* $ORIGIN inside the included file applies there ... */
	assert_a(z, "moved.in.example.", "192.0.2.4", 3600);
	/* ... and not in the includer, whose blank owner is still its own previous owner */
	assert_a(z, "after.example.", "192.0.2.9", 3600);
	assert_null(node(z, "after.in.example."));
	assert_non_null(rrset(z, "before.example.", T_AAAA));
	/* inc/sub.inc with the origin argument "sub" (relative to the includer's origin) */
	assert_a(z, "host.sub.example.", "192.0.2.3", 3600);
	assert_non_null(rrset(z, "sub.example.", T_TXT));
	assert_a(z, "last.example.", "192.0.2.11", 3600);
	sgn_zone_free(z);
}

static void missing_include_names_the_including_file_and_line(void **state)
{
	sgn_zone *z = NULL;
	zk_error err = { 0 };
	sgn_load_opts o = { .mode = SGN_LOAD_UNSIGNED };
	const char *path = fixture("missing.zone");

	(void) state;
	assert_int_equal(sgn_zone_load_file(path, wire("example."), &o, &z, &err),
			 ZK_E_ZONE_PARSE);
	assert_null(z);
	assert_string_equal(err.file, path);
	assert_int_equal(err.line, 5);
	assert_non_null(strstr(err.message, "no-such-file.inc"));
}

static void error_inside_an_include_names_the_included_file(void **state)
{
	sgn_zone *z = NULL;
	zk_error err = { 0 };
	sgn_load_opts o = { .mode = SGN_LOAD_UNSIGNED };
	size_t n;

	(void) state;
	assert_int_equal(sgn_zone_load_file(fixture("bad-include.zone"), wire("example."), &o, &z,
					    &err), ZK_E_ZONE_PARSE);
	assert_null(z);
	n = strlen(err.file);
	assert_true(n >= 11);
	assert_string_equal(err.file + n - 11, "inc/bad.inc");
	assert_int_equal(err.line, 2);
}

static void include_loop_is_stopped(void **state)
{
	sgn_zone *z = NULL;
	zk_error err = { 0 };
	sgn_load_opts o = { .mode = SGN_LOAD_UNSIGNED };
	size_t n;

	(void) state;
	assert_int_equal(sgn_zone_load_file(fixture("loop.zone"), wire("example."), &o, &z, &err),
			 ZK_E_ZONE_PARSE);
	assert_null(z);
	n = strlen(err.file);
	assert_string_equal(err.file + n - 12, "inc/loop.inc");
	assert_int_equal(err.line, 2);
	assert_non_null(strstr(err.message, "$INCLUDE"));
}

static void missing_zone_file_is_an_error_naming_it(void **state)
{
	sgn_zone *z = NULL;
	zk_error err = { 0 };
	sgn_load_opts o = { .mode = SGN_LOAD_UNSIGNED };
	const char *path = fixture("no-such.zone");

	(void) state;
	/* the operator's to fix, with the reason: not an internal error */
	assert_int_equal(sgn_zone_load_file(path, wire("example."), &o, &z, &err), ZK_E_INPUT);
	assert_null(z);
	assert_non_null(strstr(err.message, path));
	assert_non_null(strstr(err.message, strerror(ENOENT)));
}

/* ---------------------------------------------------------------- refusals */

static void bad_syntax_is_refused_at_its_line(void **state)
{
	(void) state;
	expect_refusal(HEAD "bad IN A 300.1.2.3\n", 0, ZK_E_ZONE_PARSE, 5, "A record");
	expect_refusal(HEAD "ok A 192.0.2.1\n\na..b A 192.0.2.1\n", 0, ZK_E_ZONE_PARSE, 7,
		       "owner");
	expect_refusal(HEAD "x 300 IN\n", 0, ZK_E_ZONE_PARSE, 5, "type");
	expect_refusal(HEAD "x 1q A 192.0.2.1\n", 0, ZK_E_ZONE_PARSE, 5, "TTL");
	expect_refusal(HEAD "$BOGUS 1\n", 0, ZK_E_ZONE_PARSE, 5, "BOGUS");
	expect_refusal(HEAD "$TTL x\n", 0, ZK_E_ZONE_PARSE, 5, "$TTL");
	expect_refusal(HEAD "$ORIGIN a..b.\n", 0, ZK_E_ZONE_PARSE, 5, "$ORIGIN");
	expect_refusal(HEAD "x MX 10\n", 0, ZK_E_ZONE_PARSE, 5, "MX");
	expect_refusal(HEAD "g A \\# 5 C0000201\n", 0, ZK_E_ZONE_PARSE, 5, "\\#");
	expect_refusal(HEAD "g A \\# 3 C00002\n", 0, ZK_E_ZONE_PARSE, 5, "\\#");
	expect_refusal(HEAD "g A \\# 4 C00002zz\n", 0, ZK_E_ZONE_PARSE, 5, "\\#");
	expect_refusal(HEAD "x OPT \\# 0\n", 0, ZK_E_ZONE_PARSE, 5, "OPT");
	expect_refusal("@ NS ns1\n", 0, ZK_E_ZONE_PARSE, 1, "TTL");
	expect_refusal("  A 192.0.2.1\n", 0, ZK_E_ZONE_PARSE, 1, "owner");
}

static void numbers_too_large_for_their_field_are_refused(void **state)
{
	(void) state;
	/* an extra digit in the serial must not load as serial 20250115001 mod 2^32 */
	expect_refusal("$TTL 60\n@ SOA ns1 host 20250115001 1h 15m 1w 5m\n@ NS ns1\n", 0,
		       ZK_E_ZONE_PARSE, 2, "too large");
	expect_refusal(HEAD "@ MX 65536 mail\n", 0, ZK_E_ZONE_PARSE, 5, "MX");
	expect_refusal(HEAD "_sip._udp SRV 0 5 65536 sip\n", 0, ZK_E_ZONE_PARSE, 5, "SRV");
	expect_refusal(HEAD "sub NS ns.sub\nsub DS 1 256 2 00\n", 0, ZK_E_ZONE_PARSE, 6, "DS");
}

static void error_line_is_where_a_multi_line_record_starts(void **state)
{
	(void) state;
	expect_refusal(HEAD "\nbad ( 300\n IN A\n 300.1.2.3 )\n", 0, ZK_E_ZONE_PARSE, 6,
		       "A record");
}

static void unknown_type_is_refused(void **state)
{
	(void) state;
	expect_refusal(HEAD "x 300 IN BOGUS 1\n", 0, ZK_E_ZONE_PARSE, 5, "BOGUS");
	expect_refusal(HEAD "x \"A\" 192.0.2.1\n", 0, ZK_E_ZONE_PARSE, 5, "unknown type");
}

static void unbalanced_parentheses_are_refused(void **state)
{
	(void) state;
	expect_refusal(HEAD "x 300 IN TXT ( \"a\"\ny A 192.0.2.1\n", 0, ZK_E_ZONE_PARSE, 5,
		       "never closed");
	expect_refusal(HEAD "x 300 IN TXT \"a\" )\n", 0, ZK_E_ZONE_PARSE, 5, "')'");
	expect_refusal(HEAD "x 300 IN TXT ( ( \"a\" )\n", 0, ZK_E_ZONE_PARSE, 5,
		       "never closed");
}

static void unterminated_quote_is_refused_at_its_start(void **state)
{
	(void) state;
	expect_refusal(HEAD "x TXT \"abc\ny A 192.0.2.1\nz A 192.0.2.2\n", 0, ZK_E_ZONE_PARSE, 5,
		       "unterminated");
}

static void cname_beside_other_data_is_refused_in_either_order(void **state)
{
	(void) state;
	expect_refusal(HEAD "www CNAME other.example.\nwww A 192.0.2.1\n", 0, ZK_E_CNAME_CONFLICT,
		       6, "www.example.");
	expect_refusal(HEAD "www A 192.0.2.1\nwww CNAME other.example.\n", 0, ZK_E_CNAME_CONFLICT,
		       6, "www.example.");
	expect_refusal(HEAD "www A 192.0.2.1\nx A 192.0.2.2\nwww CNAME other.example.\n", 0,
		       ZK_E_CNAME_CONFLICT, 7, "CNAME and other data");
}

static void cname_at_the_apex_is_refused(void **state)
{
	(void) state;
	expect_refusal(HEAD "@ CNAME other.example.\n", 0, ZK_E_CNAME_CONFLICT, 5, "apex");
}

static void two_cnames_at_one_name_are_refused_at_the_second(void **state)
{
	(void) state;
	/* the second CNAME sorts first by RDATA: the error still names the later line */
	expect_refusal(HEAD "c CNAME b.example.\nc CNAME a.example.\n", 0, ZK_E_CNAME_CONFLICT,
		       6, "more than one CNAME");
	expect_refusal(HEAD "c CNAME a.example.\nc CNAME b.example.\n", 0, ZK_E_CNAME_CONFLICT,
		       6, "more than one CNAME");
	expect_refusal(HEAD "c CNAME c.example.\nc CNAME c.example.\nc CNAME b.example.\n"
		       "c CNAME a.example.\n", 0, ZK_E_CNAME_CONFLICT, 7, "more than one CNAME");
}

static void out_of_zone_owner_is_refused(void **state)
{
	(void) state;
	expect_refusal(HEAD "www.example.org. A 192.0.2.1\n", 0, ZK_E_OUT_OF_ZONE, 5,
		       "www.example.org.");
	expect_refusal(HEAD "$ORIGIN org.\nwww A 192.0.2.1\n", 0, ZK_E_OUT_OF_ZONE, 6, NULL);
	/* out-of-zone DNSSEC records are refused too, before they are stripped */
	expect_refusal(HEAD "x.net. NSEC3PARAM 1 0 0 -\n", 0, ZK_E_OUT_OF_ZONE, 5, NULL);
	/* a name ending in the apex's text is not below it */
	expect_refusal(HEAD "notexample. A 192.0.2.1\n", 0, ZK_E_OUT_OF_ZONE, 5, NULL);
}

static void classes_other_than_in_are_refused(void **state)
{
	(void) state;
	expect_refusal(HEAD "x CH TXT \"chaos\"\n", 0, ZK_E_ZONE_PARSE, 5, "CH");
	expect_refusal(HEAD "x 300 HS A 192.0.2.1\n", 0, ZK_E_ZONE_PARSE, 5, "HS");
	expect_refusal(HEAD "x CLASS3 A 192.0.2.1\n", 0, ZK_E_ZONE_PARSE, 5, "CLASS3");
}

static void ttl_above_the_maximum_is_refused(void **state)
{
	sgn_zone *z = NULL;

	(void) state;
	expect_refusal(HEAD "slow 172800 A 192.0.2.1\n", 86400, ZK_E_ZONE_CONTENT, 5,
		       "max_zone_ttl 86400");
	/* exactly the maximum is fine, and 0 means no limit */
	assert_int_equal(load_mode("example.", HEAD "ok 86400 A 192.0.2.1\n", SGN_LOAD_UNSIGNED,
				   86400, NULL, &z, NULL), 0);
	z = sgn_zone_free(z);
	assert_int_equal(load_mode("example.", HEAD "ok 2147483647 A 192.0.2.1\n",
				   SGN_LOAD_UNSIGNED, 0, NULL, &z, NULL), 0);
	z = sgn_zone_free(z);
	/* above 2^31 - 1 is never a TTL (RFC 2181 §8) */
	expect_refusal(HEAD "x 2147483648 A 192.0.2.1\n", 0, ZK_E_ZONE_PARSE, 5, "TTL");
}

static void soa_below_the_apex_is_refused(void **state)
{
	(void) state;
	expect_refusal(HEAD "sub SOA ns1 host 1 1 1 1 1\n", 0, ZK_E_ZONE_CONTENT, 5, "SOA");
}

static void second_soa_is_refused(void **state)
{
	(void) state;
	expect_refusal(HEAD "\n@ SOA ns1 host 6 1h 15m 1w 5m\n", 0, ZK_E_ZONE_CONTENT, 6, "SOA");
}

static void zone_without_data_at_its_apex_is_refused(void **state)
{
	sgn_zone *z = NULL;
	zk_error err = { 0 };

	(void) state;
	assert_int_equal(load_mode("example.", "$TTL 60\nwww A 192.0.2.1\n", SGN_LOAD_UNSIGNED, 0,
				   NULL, &z, &err), ZK_E_ZONE_CONTENT);
	assert_null(z);
	assert_string_equal(err.file, "test.zone");
	assert_non_null(strstr(err.message, "apex"));
	/* an empty file too */
	assert_int_equal(load_mode("example.", "", SGN_LOAD_UNSIGNED, 0, NULL, &z, &err),
			 ZK_E_ZONE_CONTENT);
	/* only stripped records at the apex */
	assert_int_equal(load_mode("example.", "$TTL 60\n@ NSEC3PARAM 1 0 0 -\n", SGN_LOAD_UNSIGNED,
				   0, NULL, &z, &err), ZK_E_ZONE_CONTENT);
	assert_null(z);
}

/* ---------------------------------------------------------------- structure */

static void empty_non_terminals_are_created_between_a_name_and_the_apex(void **state)
{
	sgn_zone *z = NULL;
	zk_error err = { 0 };
	sgn_node *a, *b, *c;

	(void) state;
	assert_int_equal(load_mode("ent.", "$TTL 60\n@ SOA ns host 1 1 1 1 1\n@ NS ns.example.\n"
				   "a.b.c.ent. A 192.0.2.1\n", SGN_LOAD_UNSIGNED, 0, NULL, &z,
				   &err), 0);
	assert_int_equal(z->n_nodes, 4);
	a = node(z, "a.b.c.ent.");
	b = node(z, "b.c.ent.");
	c = node(z, "c.ent.");
	assert_non_null(a);
	assert_non_null(b);
	assert_non_null(c);
	assert_int_equal(a->flags & SGN_NODE_ENT, 0);
	assert_int_equal(b->flags, SGN_NODE_ENT);
	assert_int_equal(c->flags, SGN_NODE_ENT);
	assert_int_equal(b->n_rrsets, 0);
	assert_int_equal(c->n_rrsets, 0);
	assert_true(z->apex_node->flags & SGN_NODE_APEX);
	assert_int_equal(z->apex_node->flags & SGN_NODE_ENT, 0);
	assert_canonical_order(z);
	sgn_zone_free(z);
}

static void cuts_glue_wildcards_and_secure_delegations_are_flagged(void **state)
{
	sgn_zone *z = load_ok(HEAD
			      "insecure NS ns.insecure\n"
			      "ns.insecure A 192.0.2.10\n"
			      "deep.below.insecure A 192.0.2.11\n"
			      "secure NS ns.elsewhere.net.\n"
			      "secure DS 12345 13 2 " DS_DIGEST "\n"
			      "*.wild A 192.0.2.20\n"
			      "host.wild A 192.0.2.21\n"
			      "zz A 192.0.2.30\n", NULL);
	sgn_node *n;

	(void) state;
	assert_int_equal(z->apex_node->flags, SGN_NODE_APEX);
	assert_int_equal(node(z, "ns1.example.")->flags, 0);
	n = node(z, "insecure.example.");
	assert_int_equal(n->flags, SGN_NODE_DELEGATION);
	assert_int_equal(node(z, "ns.insecure.example.")->flags, SGN_NODE_BELOW_CUT);
	assert_int_equal(node(z, "deep.below.insecure.example.")->flags, SGN_NODE_BELOW_CUT);
	/* an ENT under a cut is below the cut as well */
	assert_int_equal(node(z, "below.insecure.example.")->flags,
			 SGN_NODE_ENT | SGN_NODE_BELOW_CUT);
	n = node(z, "secure.example.");
	assert_int_equal(n->flags, SGN_NODE_DELEGATION | SGN_NODE_SECURE_DELEG);
	assert_int_equal(node(z, "*.wild.example.")->flags, SGN_NODE_WILDCARD);
	assert_int_equal(node(z, "wild.example.")->flags, SGN_NODE_ENT);
	assert_int_equal(node(z, "host.wild.example.")->flags, 0);
	assert_int_equal(node(z, "zz.example.")->flags, 0);
	/* only DS is authoritative at a cut; nothing below it */
	assert_true(sgn_rrset_is_authoritative(node(z, "secure.example."),
					       rrset(z, "secure.example.", T_DS)));
	assert_false(sgn_rrset_is_authoritative(node(z, "secure.example."),
						rrset(z, "secure.example.", T_NS)));
	assert_false(sgn_rrset_is_authoritative(node(z, "ns.insecure.example."),
						rrset(z, "ns.insecure.example.", T_A)));
	assert_canonical_order(z);
	sgn_zone_free(z);
}

static void nodes_are_in_canonical_order_whatever_the_input_order(void **state)
{
	sgn_zone *z = load_ok(HEAD "z A 192.0.2.1\n\\200 A 192.0.2.2\n*.z A 192.0.2.3\n"
			      "\\001.z A 192.0.2.4\nZABC.a A 192.0.2.5\nyljkjljk.a A 192.0.2.6\n"
			      "a A 192.0.2.7\nz.a A 192.0.2.8\n", NULL);
	static const char *const want[] = {
		"example.", "a.example.", "yljkjljk.a.example.", "z.a.example.",
		"zabc.a.example.", "ns1.example.", "z.example.", "\\001.z.example.",
		"*.z.example.", "\\200.example.",
	};

	(void) state;
	assert_int_equal(z->n_nodes, sizeof(want) / sizeof(want[0]));
	for (size_t i = 0; i < z->n_nodes; i++) {
		char text[DN_TEXTMAX];

		dn_to_text(z->nodes[i]->name, text);
		assert_string_equal(text, want[i]);
	}
	assert_canonical_order(z);
	sgn_zone_free(z);
}

/* ---------------------------------------------------------------- SIGNED mode */

#define SIG(covered, labels) \
	" RRSIG " covered " 13 " labels " 3600 20300101000000 20250101000000 1 example. AAAA\n"

static void signed_mode_attaches_signatures_and_nsec_records(void **state)
{
	sgn_zone *z = NULL;
	zk_error err = { 0 };
	diag_log log = { 0 };
	sgn_node *apex, *ns1;

	(void) state;
	assert_int_equal(load_mode("example.",
				   HEAD
				   "@" SIG("SOA", "1")
				   "@" SIG("NS", "1")
				   "@ DNSKEY 257 3 13 " P256 "\n"
				   "@" SIG("DNSKEY", "1")
				   "@" SIG("DNSKEY", "1")
				   "@ 300 NSEC ns1 SOA NS RRSIG NSEC DNSKEY\n"
				   "@" SIG("NSEC", "1")
				   "ns1" SIG("A", "2")
				   "ns1 NSEC example. A RRSIG NSEC\n"
				   "ns1" SIG("NSEC", "2")
				   "ns1" SIG("MX", "2"),
				   SGN_LOAD_SIGNED, 0, &log, &z, &err), 0);
	apex = z->apex_node;
	assert_int_equal(sgn_node_rrset(apex, T_SOA)->n_sigs, 1);
	assert_int_equal(sgn_node_rrset(apex, T_NS)->n_sigs, 1);
	/* kept in SIGNED mode, with both of its signatures */
	assert_int_equal(sgn_node_rrset(apex, T_DNSKEY)->n_sigs, 2);
	assert_non_null(apex->nsec);
	assert_int_equal(apex->nsec->count, 1);
	assert_int_equal(apex->nsec->ttl, 300);
	assert_int_equal(apex->nsec->n_sigs, 1);
	assert_int_equal(rrsig_type_covered(apex->nsec->sigs + 2), T_NSEC);
	assert_null(sgn_node_rrset(apex, T_RRSIG));
	assert_null(sgn_node_rrset(apex, T_NSEC));
	ns1 = node(z, "ns1.example.");
	assert_int_equal(sgn_node_rrset(ns1, T_A)->n_sigs, 1);
	assert_int_equal(rrsig_type_covered(sgn_node_rrset(ns1, T_A)->sigs + 2), T_A);
	assert_non_null(ns1->nsec);
	assert_int_equal(ns1->nsec->n_sigs, 1);
	/* the RRSIG over MX covers nothing at ns1 */
	assert_int_equal(z->orphan_rrsigs, 1);
	assert_int_equal(z->n_n3, 0);
	assert_false(z->nsec3.enabled);
	assert_int_equal(log.notices, 0);
	sgn_zone_free(z);
}

static void signed_mode_collects_nsec3_records_in_hash_order(void **state)
{
	sgn_zone *z = NULL;
	zk_error err = { 0 };
	uint8_t h0[20], h1[20];

	(void) state;
	/* q04j... (ns2) sorts after 2t7b... (ns1): given here in the other order */
	assert_int_equal(load_mode("example.",
				   HEAD
				   "@ NSEC3PARAM 1 0 12 aabbccdd\n"
				   H_NS2 " NSEC3 1 0 12 aabbccdd " H_NS1 " A RRSIG\n"
				   "q04jkcevqvmu85r014c7dkba38o0ji5r" SIG("NSEC3", "2")
				   "2T7B4G4VSA5SMI47K61MV5BV1A22BOJR NSEC3 1 0 12 aabbccdd " H_NS2 " A RRSIG\n"
				   "2t7b4g4vsa5smi47k61mv5bv1a22bojr" SIG("NSEC3", "2")
				   "2t7b4g4vsa5smi47k61mv5bv1a22bojr" SIG("NSEC3", "2"),
				   SGN_LOAD_SIGNED, 0, NULL, &z, &err), 0);
	assert_int_equal(z->n_n3, 2);
	assert_int_equal(dn_base32hex_decode("2t7b4g4vsa5smi47k61mv5bv1a22bojr", 32, h0, 20), 20);
	assert_int_equal(dn_base32hex_decode("q04jkcevqvmu85r014c7dkba38o0ji5r", 32, h1, 20), 20);
	assert_int_equal(z->n3[0].hash_len, 20);
	assert_memory_equal(z->n3[0].hash, h0, 20);
	assert_memory_equal(z->n3[1].hash, h1, 20);
	assert_int_equal(z->n3[0].rr.type, T_NSEC3);
	assert_int_equal(z->n3[0].rr.count, 1);
	assert_int_equal(z->n3[0].rr.n_sigs, 2);
	assert_int_equal(z->n3[1].rr.n_sigs, 1);
	/* hashed owners are not names of the zone */
	assert_null(node(z, "2t7b4g4vsa5smi47k61mv5bv1a22bojr.example."));
	assert_null(node(z, "q04jkcevqvmu85r014c7dkba38o0ji5r.example."));
	assert_true(z->nsec3.enabled);
	assert_int_equal(z->nsec3.hash_alg, 1);
	assert_int_equal(z->nsec3.iterations, 12);
	assert_int_equal(z->nsec3.salt_len, 4);
	assert_memory_equal(z->nsec3.salt, "\xaa\xbb\xcc\xdd", 4);
	assert_int_equal(z->orphan_rrsigs, 0);
	sgn_zone_free(z);
}

static void signed_mode_separates_an_nsec3_record_from_data_at_its_owner(void **state)
{
	sgn_zone *z = NULL;
	zk_error err = { 0 };
	sgn_node *n;

	(void) state;
	/* RFC 5155 Appendix A: 2t7b4g4v... is a name of the zone and ns1's hashed owner */
	assert_int_equal(load_mode("example.",
				   HEAD
				   "2t7b4g4vsa5smi47k61mv5bv1a22bojr A 192.0.2.127\n"
				   "2t7b4g4vsa5smi47k61mv5bv1a22bojr" SIG("A", "2")
				   H_NS1 " NSEC3 1 0 12 aabbccdd " H_XYW " A RRSIG\n"
				   "2t7b4g4vsa5smi47k61mv5bv1a22bojr" SIG("NSEC3", "2")
				   "2t7b4g4vsa5smi47k61mv5bv1a22bojr" SIG("NSEC3", "2"),
				   SGN_LOAD_SIGNED, 0, NULL, &z, &err), 0);
	n = node(z, "2t7b4g4vsa5smi47k61mv5bv1a22bojr.example.");
	assert_non_null(n);
	assert_int_equal(n->n_rrsets, 1);
	assert_int_equal(sgn_node_rrset(n, T_A)->n_sigs, 1);
	assert_null(sgn_node_rrset(n, T_NSEC3));
	assert_int_equal(z->n_n3, 1);
	assert_int_equal(z->n3[0].rr.type, T_NSEC3);
	assert_int_equal(z->n3[0].rr.n_sigs, 2);
	assert_int_equal(z->orphan_rrsigs, 0);
	sgn_zone_free(z);
}

static void signed_mode_refuses_a_bad_nsec3_owner_label(void **state)
{
	sgn_zone *z = NULL;
	zk_error err = { 0 };

	(void) state;
	/* 32 characters, but 'w'-'z' are not base32hex */
	assert_int_equal(load_mode("example.",
				   HEAD "wxyz4g4vsa5smi47k61mv5bv1a22bojr NSEC3 1 0 0 - " H_NS1 " A\n",
				   SGN_LOAD_SIGNED, 0, NULL, &z, &err), ZK_E_ZONE_CONTENT);
	assert_null(z);
	assert_int_equal(err.line, 5);
	assert_string_equal(err.file, "test.zone");
}

/* ---------------------------------------------------------------- files */

/* "<dir>/<name>" into out (asserted to fit). */
static char *join(char *out, size_t size, const char *dir, const char *name)
{
	int n = snprintf(out, size, "%s/%s", dir, name);

	assert_true(n > 0 && (size_t) n < size);
	return out;
}

static const char *path_in(const char *dir, const char *name)
{
	static char buf[4][PATH_MAX];
	static unsigned slot;

	return join(buf[slot++ % 4], sizeof(buf[0]), dir, name);
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	assert_int_equal(fwrite(text, 1, strlen(text), f), strlen(text));
	assert_int_equal(fclose(f), 0);
}

/* Load `path` (origin example.) with an include directory; the result code. */
static int load_path(const char *path, const char *include_dir, sgn_zone **z, zk_error *err)
{
	sgn_load_opts o = { .mode = SGN_LOAD_UNSIGNED, .include_dir = include_dir };

	*z = NULL;
	memset(err, 0, sizeof(*err));
	return sgn_zone_load_file(path, wire("example."), &o, z, err);
}

static void fifos_devices_and_directories_are_refused_without_waiting(void **state)
{
	char dir[PATH_MAX], fifo[PATH_MAX], main_zone[PATH_MAX];
	zk_error err;
	sgn_zone *z;

	(void) state;
	assert_int_equal(unit_tmpdir(dir, sizeof(dir), "load"), 0);
	join(fifo, sizeof(fifo), dir, "fifo.zone");
	join(main_zone, sizeof(main_zone), dir, "main.zone");
	assert_int_equal(mkfifo(fifo, 0600), 0);
	/* open() of a FIFO without a writer waits forever: a hang kills the test instead */
	alarm(20);
	assert_int_equal(load_path(fifo, NULL, &z, &err), ZK_E_ZONE_PARSE);
	assert_null(z);
	assert_non_null(strstr(err.message, "is not a regular file"));
	assert_non_null(strstr(err.message, fifo));
	assert_int_equal(load_path("/dev/null", NULL, &z, &err), ZK_E_ZONE_PARSE);
	assert_non_null(strstr(err.message, "is not a regular file"));
	assert_int_equal(load_path(dir, NULL, &z, &err), ZK_E_ZONE_PARSE);
	assert_non_null(strstr(err.message, "is not a regular file"));
	/* an include of one: refused at the $INCLUDE line */
	write_file(main_zone, HEAD "$INCLUDE fifo.zone\n");
	assert_int_equal(load_path(main_zone, NULL, &z, &err), ZK_E_ZONE_PARSE);
	assert_null(z);
	assert_string_equal(err.file, main_zone);
	assert_int_equal(err.line, 5);
	assert_non_null(strstr(err.message, "is not a regular file"));
	alarm(0);
	assert_int_equal(unit_rmtree(dir), 0);
}

static void a_file_is_read_whole_and_a_change_while_reading_is_retried(void **state)
{
	char dir[PATH_MAX], path[PATH_MAX], *buf = NULL;
	const char *text = HEAD "www A 192.0.2.1\n";
	struct timespec ts[2] = { { .tv_sec = 1000000000 }, { .tv_sec = 1000000000 } };
	struct stat before;
	size_t len = 0;
	zk_error err;
	sgn_zone *z;
	int fd;

	(void) state;
	assert_int_equal(unit_tmpdir(dir, sizeof(dir), "load"), 0);
	join(path, sizeof(path), dir, "z.zone");
	write_file(path, text);
	assert_int_equal(load_path(path, NULL, &z, &err), 0);
	assert_a(z, "www.example.", "192.0.2.1", 3600);
	sgn_zone_free(z);

	/* unchanged: all of it */
	fd = open(path, O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, &before), 0);
	assert_int_equal(sgn_load_read_fd(fd, &before, &buf, &len), 0);
	assert_int_equal(len, strlen(text));
	assert_memory_equal(buf, text, len);
	free(buf);
	close(fd);

	/* appended to after fstat: more bytes than its size */
	fd = open(path, O_RDONLY);
	assert_int_equal(fstat(fd, &before), 0);
	write_file(path, HEAD "www A 192.0.2.1\nmore A 192.0.2.2\n");
	buf = NULL;
	assert_int_equal(sgn_load_read_fd(fd, &before, &buf, &len), -EAGAIN);
	assert_null(buf);
	close(fd);

	/* truncated: fewer */
	fd = open(path, O_RDONLY);
	assert_int_equal(fstat(fd, &before), 0);
	assert_int_equal(truncate(path, 10), 0);
	assert_int_equal(sgn_load_read_fd(fd, &before, &buf, &len), -EAGAIN);
	close(fd);

	/* rewritten in place at the same size: the modification time moved */
	write_file(path, text);
	assert_int_equal(utimensat(AT_FDCWD, path, ts, 0), 0);
	fd = open(path, O_RDONLY);
	assert_int_equal(fstat(fd, &before), 0);
	assert_int_equal(utimensat(AT_FDCWD, path, NULL, 0), 0);
	assert_int_equal(sgn_load_read_fd(fd, &before, &buf, &len), -EAGAIN);
	close(fd);

	/* a file whose size says 0 is read to its end all the same */
	fd = open("/proc/self/status", O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, &before), 0);
	assert_int_equal(before.st_size, 0);
	assert_int_equal(sgn_load_read_fd(fd, &before, &buf, &len), 0);
	assert_true(len > 0);
	assert_int_equal(strlen(buf), len);
	assert_non_null(strstr(buf, "Name:"));
	free(buf);
	close(fd);
	assert_int_equal(unit_rmtree(dir), 0);
}

/* HEAD, then "big TXT" with `n` strings of 255 characters and one of `last` (0: none). */
static char *big_txt_zone(unsigned n, unsigned last)
{
	size_t size = strlen(HEAD) + 32 + (n + 1) * 260;
	char *text = malloc(size), *p;

	assert_non_null(text);
	p = text + sprintf(text, HEAD "big TXT (");
	for (unsigned i = 0; i <= n; i++) {
		unsigned len = i < n ? 255 : last;

		if (i == n && !last)
			break;
		*p++ = ' ';
		*p++ = '"';
		memset(p, 'a' + (char) (i % 26), len);
		p += len;
		*p++ = '"';
		*p++ = '\n';
	}
	strcpy(p, ")\n");
	return text;
}

static void rdata_over_65535_octets_is_refused_not_cut_short(void **state)
{
	char *text;
	sgn_zone *z;
	sgn_rrset *s;

	(void) state;
	/* 257 strings of 255: 65792 octets; was stored as its first string */
	text = big_txt_zone(257, 0);
	expect_refusal(text, 0, ZK_E_ZONE_PARSE, 5, "RDATA of 65792 octets exceeds 65535");
	free(text);
	/* one octet too many */
	text = big_txt_zone(255, 255);
	expect_refusal(text, 0, ZK_E_ZONE_PARSE, 5, "RDATA of 65536 octets exceeds 65535");
	free(text);
	/* far too many (the parser's buffer is exceeded first) */
	text = big_txt_zone(300, 0);
	expect_refusal(text, 0, ZK_E_ZONE_PARSE, 5, "RDATA of 76800 octets exceeds 65535");
	free(text);
	/* exactly 65535 is a record */
	text = big_txt_zone(255, 254);
	z = load_ok(text, NULL);
	s = rrset(z, "big.example.", T_TXT);
	assert_non_null(s);
	assert_int_equal(s->count, 1);
	assert_int_equal(blob_len(s->rdata), 65535);
	assert_int_equal(s->rdata[2], 255);
	assert_int_equal(s->rdata[2 + 255 * 256], 254);
	sgn_zone_free(z);
	free(text);
}

/*
 * ldns, the parser of the types without a fast path, reads at most 65535 characters of
 * RDATA text and drops the rest without a word: such a record is refused; the \# form of
 * the same RDATA is read by us and has no such limit.
 */
static void record_text_too_long_for_ldns_is_refused_not_cut_short(void **state)
{
	enum { OCTETS = 45000 };
	size_t size = strlen(HEAD) + 64 + 2 * OCTETS + 16;
	char *text = malloc(size), *p;
	sgn_zone *z;
	sgn_rrset *s;

	(void) state;
	assert_non_null(text);
	/*
	 * OPENPGPKEY: base64 of 45000 octets in groups of 4 (75000 characters); ldns kept
	 * the first 13107 groups, a valid key of 39321 octets
	 */
	p = text + sprintf(text, HEAD "big OPENPGPKEY");
	for (size_t i = 0; i < OCTETS / 3; i++)
		p += sprintf(p, " AAAA");
	strcpy(p, "\n");
	expect_refusal(text, 0, ZK_E_ZONE_PARSE, 5, "too long to parse");
	p = text + sprintf(text, HEAD "big OPENPGPKEY \\# %u ", (unsigned) OCTETS + 1);
	for (size_t i = 0; i < 2 * (OCTETS + 1); i++)
		*p++ = '0';
	strcpy(p, "\n");
	z = load_ok(text, NULL);
	s = rrset(z, "big.example.", 61);
	assert_non_null(s);
	assert_int_equal(blob_len(s->rdata), OCTETS + 1);
	sgn_zone_free(z);
	free(text);
}

static void a_huge_rrset_in_reverse_order_is_sorted(void **state)
{
	enum { N = 200000, COPIES = 4, DISTINCT = N / COPIES };
	size_t size = strlen(HEAD) + (size_t) N * 32, o;
	char *text = malloc(size);
	sgn_zone *z;
	sgn_rrset *s;

	(void) state;
	assert_non_null(text);
	o = (size_t) sprintf(text, "%s", HEAD);
	/*
	 * Addresses in descending order, each COPIES times; the first copy of each in the file
	 * has TTL 3600, the later ones 60: duplicates collapse to the first in file order, so
	 * the sort must be stable (and the RRset's TTL is 3600 without a mixed-TTL warning).
	 */
	for (unsigned i = N; i-- > 0;) {
		unsigned k = i / COPIES;

		o += (size_t) snprintf(text + o, size - o, "big %u A 10.%u.%u.%u\n",
				       i % COPIES == COPIES - 1 ? 3600 : 60, k >> 16,
				       (k >> 8) & 255, k & 255);
	}
	{
		diag_log log = { 0 };

		z = load_ok(text, &log);
		assert_int_equal(log.warnings, 0);
	}
	s = rrset(z, "big.example.", T_A);
	assert_non_null(s);
	assert_int_equal(s->count, DISTINCT);
	assert_int_equal(s->ttl, 3600);
	for (unsigned k = 0; k < DISTINCT; k++) {
		uint8_t want[4] = { 10, (uint8_t) (k >> 16), (uint8_t) (k >> 8), (uint8_t) k };
		uint16_t len;
		const uint8_t *rd = record(s, k, &len);

		assert_int_equal(len, 4);
		assert_memory_equal(rd, want, 4);
	}
	sgn_zone_free(z);
	free(text);
}

/* ---------------------------------------------------------------- $INCLUDE confinement */

typedef struct inc_tree {
	char root[PATH_MAX];  /* <tmp>/ */
	char zones[PATH_MAX]; /* <root>/zones: the zone file's directory */
	char main[PATH_MAX];  /* <zones>/main.zone */
} inc_tree;

static void make_inc_tree(inc_tree *t)
{
	char p[PATH_MAX];

	assert_int_equal(unit_tmpdir(t->root, sizeof(t->root), "load"), 0);
	join(t->zones, sizeof(t->zones), t->root, "zones");
	join(t->main, sizeof(t->main), t->zones, "main.zone");
	assert_int_equal(mkdir(t->zones, 0700), 0);
	assert_int_equal(mkdir(join(p, sizeof(p), t->zones, "sub"), 0700), 0);
	assert_int_equal(mkdir(join(p, sizeof(p), t->root, "zones-x"), 0700), 0);
	write_file(path_in(t->zones, "inner.inc"), "in A 192.0.2.7\n");
	write_file(path_in(t->zones, "sub/deeper.inc"), "deep A 192.0.2.9\n");
	write_file(path_in(t->root, "outside.inc"), "secret-content A 192.0.2.8\n");
	write_file(path_in(t->root, "zones-x/x.inc"), "secret-content A 192.0.2.8\n");
	assert_int_equal(symlink("../outside.inc", path_in(t->zones, "link.inc")), 0);
	assert_int_equal(symlink("sub/deeper.inc", path_in(t->zones, "inner-link.inc")), 0);
	assert_int_equal(symlink("..", path_in(t->zones, "up")), 0);
	assert_int_equal(mkfifo(path_in(t->zones, "fifo.inc"), 0600), 0);
}

/* main.zone = HEAD + "$INCLUDE <target>" (line 5) + a record; load with `include_dir`. */
static int load_including(const inc_tree *t, const char *target, const char *include_dir,
			  sgn_zone **z, zk_error *err)
{
	char text[PATH_MAX + 256];
	int n = snprintf(text, sizeof(text), HEAD "$INCLUDE %s\nafter A 192.0.2.10\n", target);

	assert_true(n > 0 && (size_t) n < sizeof(text));
	write_file(t->main, text);
	return load_path(t->main, include_dir, z, err);
}

static void expect_include_refused(const inc_tree *t, const char *target,
				   const char *include_dir, const char *needle)
{
	zk_error err;
	sgn_zone *z;
	int r = load_including(t, target, include_dir, &z, &err);

	if (r != ZK_E_ZONE_PARSE || err.line != 5 || strcmp(err.file, t->main) ||
	    !strstr(err.message, needle) || strstr(err.message, "secret") ||
	    strstr(err.message, "root:"))
		print_message("$INCLUDE %s: got %d at %s:%u: %s\n", target, r, err.file, err.line,
			      err.message);
	assert_int_equal(r, ZK_E_ZONE_PARSE);
	assert_null(z);
	assert_string_equal(err.file, t->main);
	assert_int_equal(err.line, 5);
	assert_non_null(strstr(err.message, needle));
	/* nothing of the target is quoted */
	assert_null(strstr(err.message, "secret"));
	assert_null(strstr(err.message, "root:"));
}

static void expect_include_ok(const inc_tree *t, const char *target, const char *include_dir,
			      const char *name, const char *addr)
{
	zk_error err;
	sgn_zone *z;
	int r = load_including(t, target, include_dir, &z, &err);

	if (r < 0)
		print_message("$INCLUDE %s: %s:%u: %s\n", target, err.file, err.line, err.message);
	assert_int_equal(r, 0);
	assert_a(z, name, addr, 3600);
	assert_a(z, "after.example.", "192.0.2.10", 3600);
	sgn_zone_free(z);
}

static void includes_are_confined_to_the_include_directory(void **state)
{
	inc_tree t;
	char p[PATH_MAX];

	(void) state;
	make_inc_tree(&t);
	alarm(20);
	/* inside: by default the directory of the zone file */
	expect_include_ok(&t, "inner.inc", NULL, "in.example.", "192.0.2.7");
	expect_include_ok(&t, "sub/deeper.inc", NULL, "deep.example.", "192.0.2.9");
	expect_include_ok(&t, "inner-link.inc", NULL, "deep.example.", "192.0.2.9");
	expect_include_ok(&t, join(p, sizeof(p), t.zones, "inner.inc"), NULL, "in.example.", "192.0.2.7");
	expect_include_ok(&t, "inner.inc", t.zones, "in.example.", "192.0.2.7");
	expect_include_ok(&t, "inner.inc", join(p, sizeof(p), t.zones, ""), "in.example.", "192.0.2.7");
	/* outside: absolute, "..", a link out, a directory link out, a sibling prefix */
	expect_include_refused(&t, "/etc/passwd", NULL, "outside the include directory");
	expect_include_refused(&t, "../outside.inc", NULL, "outside the include directory");
	expect_include_refused(&t, "link.inc", NULL, "outside the include directory");
	expect_include_refused(&t, "up/outside.inc", NULL, "outside the include directory");
	expect_include_refused(&t, "../zones-x/x.inc", NULL, "outside the include directory");
	expect_include_refused(&t, "/proc/self/status", NULL, "outside the include directory");
	/* a missing file outside says no more than outside; inside, that it is missing */
	expect_include_refused(&t, "../nowhere/x.inc", NULL, "outside the include directory");
	expect_include_refused(&t, "missing.inc", NULL, "missing.inc");
	/* inside but not a regular file */
	expect_include_refused(&t, "fifo.inc", NULL, "is not a regular file");
	expect_include_refused(&t, "sub", NULL, "is not a regular file");
	/* the configured directory decides, not the zone file's */
	expect_include_ok(&t, "../outside.inc", t.root, "secret-content.example.", "192.0.2.8");
	join(p, sizeof(p), t.zones, "sub");
	expect_include_refused(&t, "inner.inc", p, "outside the include directory");
	expect_include_ok(&t, "sub/deeper.inc", p, "deep.example.", "192.0.2.9");
	expect_include_refused(&t, "inner.inc", "/nonexistent-zk-dir",
			       "include directory /nonexistent-zk-dir cannot be used");
	alarm(0);
	assert_int_equal(unit_rmtree(t.root), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(origin_and_ttl_directives_apply_to_the_records_after_them),
		cmocka_unit_test(last_explicit_ttl_applies_without_a_ttl_directive),
		cmocka_unit_test(ttl_and_class_are_accepted_in_either_order),
		cmocka_unit_test(blank_owner_repeats_the_previous_owner),
		cmocka_unit_test(parentheses_span_lines_and_comments_end_at_the_newline),
		cmocka_unit_test(quoted_strings_keep_semicolons_and_parentheses),
		cmocka_unit_test(generic_rdata_is_accepted_for_unknown_and_known_types),
		cmocka_unit_test(escapes_in_owner_names_are_resolved),
		cmocka_unit_test(owner_names_are_stored_lowercase),
		cmocka_unit_test(duplicate_records_collapse),
		cmocka_unit_test(records_of_an_rrset_are_sorted_canonically),
		cmocka_unit_test(mixed_ttls_in_an_rrset_become_the_lowest_with_one_warning),
		cmocka_unit_test(dnssec_records_are_stripped_with_one_notice),
		cmocka_unit_test(clean_input_gives_no_notice),
		cmocka_unit_test(soa_serial_of_the_input_is_captured),
		cmocka_unit_test(includes_are_relative_to_the_including_file),
		cmocka_unit_test(missing_include_names_the_including_file_and_line),
		cmocka_unit_test(error_inside_an_include_names_the_included_file),
		cmocka_unit_test(include_loop_is_stopped),
		cmocka_unit_test(missing_zone_file_is_an_error_naming_it),
		cmocka_unit_test(bad_syntax_is_refused_at_its_line),
		cmocka_unit_test(numbers_too_large_for_their_field_are_refused),
		cmocka_unit_test(error_line_is_where_a_multi_line_record_starts),
		cmocka_unit_test(unknown_type_is_refused),
		cmocka_unit_test(unbalanced_parentheses_are_refused),
		cmocka_unit_test(unterminated_quote_is_refused_at_its_start),
		cmocka_unit_test(cname_beside_other_data_is_refused_in_either_order),
		cmocka_unit_test(cname_at_the_apex_is_refused),
		cmocka_unit_test(two_cnames_at_one_name_are_refused_at_the_second),
		cmocka_unit_test(out_of_zone_owner_is_refused),
		cmocka_unit_test(classes_other_than_in_are_refused),
		cmocka_unit_test(ttl_above_the_maximum_is_refused),
		cmocka_unit_test(soa_below_the_apex_is_refused),
		cmocka_unit_test(second_soa_is_refused),
		cmocka_unit_test(zone_without_data_at_its_apex_is_refused),
		cmocka_unit_test(empty_non_terminals_are_created_between_a_name_and_the_apex),
		cmocka_unit_test(cuts_glue_wildcards_and_secure_delegations_are_flagged),
		cmocka_unit_test(nodes_are_in_canonical_order_whatever_the_input_order),
		cmocka_unit_test(signed_mode_attaches_signatures_and_nsec_records),
		cmocka_unit_test(signed_mode_collects_nsec3_records_in_hash_order),
		cmocka_unit_test(signed_mode_separates_an_nsec3_record_from_data_at_its_owner),
		cmocka_unit_test(signed_mode_refuses_a_bad_nsec3_owner_label),
		cmocka_unit_test(fifos_devices_and_directories_are_refused_without_waiting),
		cmocka_unit_test(a_file_is_read_whole_and_a_change_while_reading_is_retried),
		cmocka_unit_test(rdata_over_65535_octets_is_refused_not_cut_short),
		cmocka_unit_test(record_text_too_long_for_ldns_is_refused_not_cut_short),
		cmocka_unit_test(a_huge_rrset_in_reverse_order_is_sorted),
		cmocka_unit_test(includes_are_confined_to_the_include_directory),
	};

	return cmocka_run_group_tests_name("load", tests, NULL, NULL);
}
