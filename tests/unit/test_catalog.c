/* SPDX-License-Identifier: MIT */
/*
 * tests/unit/test_catalog.c -- the catalog zone writer (signer/catalog.c, RFC 9432): the
 * written file parses back (SOA, NS, version, one PTR per member, group TXTs), member ids
 * are a pure function of the lowercase name, an unchanged member list leaves the file
 * alone, every change bumps the serial by one (RFC 1982, 0 skipped), a file that is not
 * ours starts from the clock, and a bad member is refused with the old file kept.
 */
#include <errno.h>
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
#include <ldns/ldns.h>
#include <openssl/evp.h>

#include "policy/zk-error.h"
#include "policy/zk-file.h"
#include "signer/catalog.h"
#include "tests/unit/unit.h"

#define CAT "catalog.example."
#define NOW 1700000000

static char tmpdir[64];

static int setup(void **state)
{
	(void) state;
	return unit_tmpdir(tmpdir, sizeof(tmpdir), "catalog");
}

static int teardown(void **state)
{
	(void) state;
	return unit_rmtree(tmpdir);
}

static const char *path_in_tmp(const char *name)
{
	static char buf[4][256];
	static unsigned slot;
	char *p = buf[slot++ % 4];

	snprintf(p, sizeof(buf[0]), "%s/%s", tmpdir, name);
	return p;
}

static char *slurp(const char *path)
{
	char *buf = NULL;
	size_t len = 0;

	assert_int_equal(zk_file_read(path, 64u << 20, &buf, &len), 0);
	return buf;
}

static ldns_zone *load(const char *path)
{
	ldns_zone *z = NULL;
	FILE *f = fopen(path, "r");

	assert_non_null(f);
	assert_int_equal(ldns_zone_new_frm_fp(&z, f, NULL, 0, LDNS_RR_CLASS_IN), LDNS_STATUS_OK);
	fclose(f);
	return z;
}

static ldns_rdf *dname(const char *text)
{
	ldns_rdf *d = ldns_dname_new_frm_str(text);

	assert_non_null(d);
	return d;
}

/* Number of records of type t at owner (case-insensitive); the last one in *ret. */
static unsigned find(const ldns_zone *z, const char *owner, ldns_rr_type t, const ldns_rr **ret)
{
	const ldns_rr_list *rrs = ldns_zone_rrs(z);
	ldns_rdf *o = dname(owner);
	unsigned count = 0;

	for (size_t i = 0; i < ldns_rr_list_rr_count(rrs); i++) {
		const ldns_rr *rr = ldns_rr_list_rr(rrs, i);

		if (ldns_rr_get_type(rr) == t && ldns_dname_compare(ldns_rr_owner(rr), o) == 0) {
			count++;
			if (ret)
				*ret = rr;
		}
	}
	ldns_rdf_deep_free(o);
	return count;
}

/* The id label of `member`'s PTR (exactly one, at <id>.zones.<CAT>) into id[33]. */
static void id_of(const ldns_zone *z, const char *member, char *id)
{
	const ldns_rr_list *rrs = ldns_zone_rrs(z);
	ldns_rdf *m = dname(member), *zones = dname("zones." CAT);
	unsigned found = 0;

	for (size_t i = 0; i < ldns_rr_list_rr_count(rrs); i++) {
		const ldns_rr *rr = ldns_rr_list_rr(rrs, i);
		const uint8_t *o = ldns_rdf_data(ldns_rr_owner(rr));

		if (ldns_rr_get_type(rr) != LDNS_RR_TYPE_PTR ||
		    ldns_rdf_compare(ldns_rr_rdf(rr, 0), m) != 0) /* exact bytes: lowercase */
			continue;
		assert_int_equal(o[0], 32);
		assert_int_equal(ldns_dname_label_count(ldns_rr_owner(rr)),
				 ldns_dname_label_count(zones) + 1);
		assert_true(ldns_dname_is_subdomain(ldns_rr_owner(rr), zones));
		memcpy(id, o + 1, 32);
		id[32] = '\0';
		found++;
	}
	assert_int_equal(found, 1);
	ldns_rdf_deep_free(m);
	ldns_rdf_deep_free(zones);
}

/* The id catalog.h documents: hex of the first 16 octets of SHA-256(lowercase wire). */
static void expected_id(const char *member, char *id)
{
	ldns_rdf *d = dname(member);
	uint8_t md[EVP_MAX_MD_SIZE];
	unsigned len;

	ldns_dname2canonical(d);
	assert_int_equal(EVP_Digest(ldns_rdf_data(d), ldns_rdf_size(d), md, &len, EVP_sha256(),
				    NULL), 1);
	for (int i = 0; i < 16; i++)
		sprintf(id + 2 * i, "%02x", md[i]);
	ldns_rdf_deep_free(d);
}

static void assert_group(const ldns_zone *z, const char *member, const char *group,
			 size_t group_len)
{
	char owner[128], id[33];
	const ldns_rr *rr = NULL;
	const uint8_t *s;

	id_of(z, member, id);
	snprintf(owner, sizeof(owner), "group.%s.zones." CAT, id);
	if (!group) {
		assert_int_equal(find(z, owner, LDNS_RR_TYPE_TXT, NULL), 0);
		return;
	}
	assert_int_equal(find(z, owner, LDNS_RR_TYPE_TXT, &rr), 1);
	assert_int_equal(ldns_rr_rd_count(rr), 1);
	s = ldns_rdf_data(ldns_rr_rdf(rr, 0));
	assert_int_equal(s[0], group_len);
	assert_memory_equal(s + 1, group, group_len);
}

/* SOA, NS and version as RFC 9432 §4.1-4.2 want them, and `members` PTR records. */
static void assert_frame(const ldns_zone *z, uint32_t serial, size_t members)
{
	const ldns_rr *soa = ldns_zone_soa(z), *rr = NULL;
	ldns_rdf *apex = dname(CAT), *invalid = dname("invalid.");
	const ldns_rr_list *rrs = ldns_zone_rrs(z);
	size_t ptrs = 0;

	assert_non_null(soa);
	assert_int_equal(ldns_dname_compare(ldns_rr_owner(soa), apex), 0);
	assert_int_equal(ldns_dname_compare(ldns_rr_rdf(soa, 0), invalid), 0);
	assert_int_equal(ldns_dname_compare(ldns_rr_rdf(soa, 1), invalid), 0);
	assert_int_equal(ldns_rdf2native_int32(ldns_rr_rdf(soa, 2)), serial);
	assert_int_equal(ldns_rdf2native_int32(ldns_rr_rdf(soa, 3)), 3600);
	assert_int_equal(ldns_rdf2native_int32(ldns_rr_rdf(soa, 4)), 600);
	assert_true(ldns_rdf2native_int32(ldns_rr_rdf(soa, 5)) >= 7 * 86400u);
	assert_int_equal(ldns_rr_ttl(soa), 0);

	assert_int_equal(find(z, CAT, LDNS_RR_TYPE_NS, &rr), 1);
	assert_int_equal(ldns_dname_compare(ldns_rr_rdf(rr, 0), invalid), 0);
	assert_int_equal(find(z, "version." CAT, LDNS_RR_TYPE_TXT, &rr), 1);
	assert_int_equal(ldns_rr_rd_count(rr), 1);
	assert_memory_equal(ldns_rdf_data(ldns_rr_rdf(rr, 0)), "\0012", 2);

	for (size_t i = 0; i < ldns_rr_list_rr_count(rrs); i++) {
		const ldns_rr *r = ldns_rr_list_rr(rrs, i);

		assert_int_equal(ldns_rr_ttl(r), 0);
		if (ldns_rr_get_type(r) == LDNS_RR_TYPE_PTR)
			ptrs++;
		/* RFC 4034 §6.1 order, the SOA first */
		if (i > 0)
			assert_true(ldns_dname_compare(ldns_rr_owner(ldns_rr_list_rr(rrs, i - 1)),
						       ldns_rr_owner(r)) <= 0);
		else
			assert_true(ldns_dname_compare(apex, ldns_rr_owner(r)) <= 0);
	}
	assert_int_equal(ptrs, members);
	ldns_rdf_deep_free(apex);
	ldns_rdf_deep_free(invalid);
}

static void write_ok(const char *path, const cat_member *m, size_t n, zk_time_t now,
		     uint32_t *ret_serial, bool *ret_changed)
{
	zk_error err = { 0 };
	int r = cat_write(path, CAT, m, n, now, ret_serial, ret_changed, &err);

	if (r < 0)
		fail_msg("cat_write: %s", err.message);
}

/* ---------------------------------------------------------------- content */

static void empty_catalog_has_soa_ns_and_version_only(void **state)
{
	const char *path = path_in_tmp("empty.zone");
	uint32_t serial = 0;
	bool changed = false;
	const char *want;
	ldns_zone *z;
	char *text;

	(void) state;
	write_ok(path, NULL, 0, NOW, &serial, &changed);
	assert_true(changed);
	assert_int_equal(serial, NOW);
	z = load(path);
	assert_frame(z, NOW, 0);
	assert_int_equal(ldns_rr_list_rr_count(ldns_zone_rrs(z)), 2); /* NS, version TXT */
	ldns_zone_deep_free(z);

	text = slurp(path);
	want = "; catalog zone " CAT " serial 1700000000 written by zonekeeper";
	assert_true(strncmp(text, want, strlen(want)) == 0);
	free(text);
}

static void one_member_gets_a_ptr_and_a_group(void **state)
{
	const char *path = path_in_tmp("one.zone");
	cat_member m[] = { { "example.com.", "default" } };
	char id[33], want[33];
	ldns_zone *z;

	(void) state;
	write_ok(path, m, 1, NOW, NULL, NULL);
	z = load(path);
	assert_frame(z, NOW, 1);
	assert_int_equal(ldns_rr_list_rr_count(ldns_zone_rrs(z)), 4);
	id_of(z, "example.com.", id);
	expected_id("example.com.", want);
	assert_string_equal(id, want);
	assert_group(z, "example.com.", "default", 7);
	ldns_zone_deep_free(z);
}

static void many_members_are_each_listed_once(void **state)
{
	const char *path = path_in_tmp("many.zone");
	enum { N = 2000 };
	cat_member *m = calloc(N, sizeof(*m));
	char (*names)[32] = calloc(N, sizeof(*names));
	char id[33], prev[33] = "";
	ldns_zone *z;

	(void) state;
	assert_non_null(m);
	assert_non_null(names);
	for (unsigned i = 0; i < N; i++) {
		snprintf(names[i], sizeof(names[i]), "zone%u.test%u.", i, i % 7);
		m[i].zone = names[i];
		m[i].group = i % 3 == 0 ? NULL : (i % 3 == 1 ? "gold" : "silver");
	}
	write_ok(path, m, N, NOW, NULL, NULL);
	z = load(path);
	assert_frame(z, NOW, N);
	for (unsigned i = 0; i < N; i++) {
		id_of(z, names[i], id);
		assert_string_not_equal(id, prev); /* neighbours in input order differ */
		memcpy(prev, id, sizeof(id));
		assert_group(z, names[i], m[i].group, m[i].group ? strlen(m[i].group) : 0);
	}
	/* SOA is apart; NS, version, N PTR and 2N/3 group TXT */
	assert_int_equal(ldns_rr_list_rr_count(ldns_zone_rrs(z)), 2 + N + (N - (N + 2) / 3));
	ldns_zone_deep_free(z);
	free(names);
	free(m);
}

/* ---------------------------------------------------------------- ids */

static void ids_are_stable_and_differ_between_zones(void **state)
{
	const char *p1 = path_in_tmp("ids1.zone"), *p2 = path_in_tmp("ids2.zone");
	cat_member a[] = { { "a.example.", NULL }, { "b.example.", NULL }, { "c.example.", NULL } };
	cat_member b[] = { { "d.example.", NULL }, { "C.Example.", "x" }, { "a.example.", NULL } };
	char ia1[33], ib1[33], ic1[33], ia2[33], ic2[33], id2[33];
	ldns_zone *z1, *z2;

	(void) state;
	write_ok(p1, a, 3, NOW, NULL, NULL);
	write_ok(p2, b, 3, NOW + 99, NULL, NULL);
	z1 = load(p1);
	z2 = load(p2);
	id_of(z1, "a.example.", ia1);
	id_of(z1, "b.example.", ib1);
	id_of(z1, "c.example.", ic1);
	id_of(z2, "a.example.", ia2);
	id_of(z2, "c.example.", ic2);
	id_of(z2, "d.example.", id2);
	/* same zone, other list, other order, other case, other time: same id */
	assert_string_equal(ia1, ia2);
	assert_string_equal(ic1, ic2);
	assert_string_not_equal(ia1, ib1);
	assert_string_not_equal(ia1, ic1);
	assert_string_not_equal(ib1, ic1);
	assert_string_not_equal(id2, ia2);
	assert_string_not_equal(id2, ic2);
	ldns_zone_deep_free(z1);
	ldns_zone_deep_free(z2);
}

/* ---------------------------------------------------------------- serials */

static void unchanged_list_writes_nothing_and_keeps_the_serial(void **state)
{
	const char *path = path_in_tmp("same.zone");
	cat_member m[] = { { "b.example.", "p" }, { "a.example.", NULL } };
	cat_member reordered[] = { { "A.EXAMPLE.", NULL }, { "b.example.", "p" } };
	struct stat before, after;
	uint32_t serial = 0;
	bool changed = true;

	(void) state;
	write_ok(path, m, 2, NOW, &serial, &changed);
	assert_int_equal(stat(path, &before), 0);
	write_ok(path, reordered, 2, NOW + 3600, &serial, &changed);
	assert_false(changed);
	assert_int_equal(serial, NOW);
	assert_int_equal(stat(path, &after), 0);
	assert_true(zk_same_file(&before, &after));
}

static void a_changed_group_rewrites_with_the_next_serial(void **state)
{
	const char *path = path_in_tmp("group.zone");
	cat_member m[] = { { "a.example.", "p" } }, m2[] = { { "a.example.", "q" } };
	uint32_t serial = 0;
	bool changed = false;

	(void) state;
	write_ok(path, m, 1, NOW, &serial, &changed);
	write_ok(path, m2, 1, NOW, &serial, &changed);
	assert_true(changed);
	assert_int_equal(serial, NOW + 1);
}

static void adding_and_removing_members_bump_the_serial_by_one(void **state)
{
	const char *path = path_in_tmp("bump.zone");
	cat_member m[] = { { "a.example.", NULL }, { "b.example.", NULL } };
	uint32_t serial = 0;
	bool changed = false;
	char id[33];
	ldns_zone *z;

	(void) state;
	write_ok(path, m, 1, NOW, &serial, &changed);
	assert_int_equal(serial, NOW);
	/* the clock does not matter once the file is ours */
	write_ok(path, m, 2, NOW + 86400, &serial, &changed);
	assert_true(changed);
	assert_int_equal(serial, NOW + 1);
	z = load(path);
	assert_frame(z, NOW + 1, 2);
	ldns_zone_deep_free(z);

	write_ok(path, m + 1, 1, NOW - 86400, &serial, &changed);
	assert_true(changed);
	assert_int_equal(serial, NOW + 2);
	z = load(path);
	assert_frame(z, NOW + 2, 1);
	id_of(z, "b.example.", id); /* the one left */
	ldns_zone_deep_free(z);

	write_ok(path, NULL, 0, NOW, &serial, &changed);
	assert_true(changed);
	assert_int_equal(serial, NOW + 3);
	z = load(path);
	assert_frame(z, NOW + 3, 0);
	ldns_zone_deep_free(z);
}

/* RFC 1982: 4294967295 + 1 is 0, which we skip as every other serial scheme does. */
static void serial_wraps_from_4294967295_to_1(void **state)
{
	const char *path = path_in_tmp("wrap.zone");
	cat_member m[] = { { "a.example.", NULL }, { "b.example.", NULL }, { "c.example.", NULL } };
	uint32_t serial = 0;
	bool changed = false;

	(void) state;
	write_ok(path, m, 1, 4294967294, &serial, &changed);
	assert_int_equal(serial, 4294967294u);
	write_ok(path, m, 2, NOW, &serial, &changed);
	assert_int_equal(serial, 4294967295u);
	write_ok(path, m, 3, NOW, &serial, &changed);
	assert_int_equal(serial, 1);
	write_ok(path, m, 1, NOW, &serial, &changed);
	assert_int_equal(serial, 2);
}

static void clock_serial_never_starts_at_0(void **state)
{
	uint32_t serial = 0;

	(void) state;
	write_ok(path_in_tmp("zero.zone"), NULL, 0, (zk_time_t) 1 << 32, &serial, NULL);
	assert_int_equal(serial, 1);
}

static void a_file_that_is_not_ours_gets_the_clock_serial(void **state)
{
	const char *path = path_in_tmp("foreign.zone");
	cat_member m[] = { { "a.example.", NULL } };
	FILE *f = fopen(path, "w");
	uint32_t serial = 0;
	bool changed = false;

	(void) state;
	assert_non_null(f);
	fputs("; zone " CAT " serial 4000000000 signed by zonekeeper at 0\n" CAT
	      " 0 IN SOA invalid. invalid. 4000000000 1 1 1 1\n",
	      f);
	assert_int_equal(fclose(f), 0);
	write_ok(path, m, 1, NOW, &serial, &changed);
	assert_true(changed);
	assert_int_equal(serial, NOW);

	/* ours, but for another catalog name: not ours either */
	assert_int_equal(cat_write(path, "other.example.", m, 1, NOW + 5, &serial, &changed, NULL),
			 0);
	assert_true(changed);
	assert_int_equal(serial, NOW + 5);
}

/* ---------------------------------------------------------------- names and groups */

static void odd_names_are_lowercased_and_escaped_and_groups_quoted(void **state)
{
	const char *path = path_in_tmp("odd.zone");
	static const char group[] = "ops \"gold\" \\ tier\001\xc3\xa9;";
	cat_member m[] = {
		{ "A\\.B.Example.", group },
		{ "sp\\032ace.EXAMPLE.", NULL },
		{ "UPPER.Example.COM.", "semi;colon(x)" },
		{ "q\\\"uote.example.", NULL },
		{ ".", NULL },
	};
	char id[33], want[33];
	ldns_zone *z;
	char *text;

	(void) state;
	write_ok(path, m, 5, NOW, NULL, NULL);
	z = load(path);
	assert_frame(z, NOW, 5);
	/* id_of matches PTR targets byte for byte, so these are lowercase */
	id_of(z, "a\\.b.example.", id);
	expected_id("a\\.b.example.", want);
	assert_string_equal(id, want);
	id_of(z, "sp\\032ace.example.", id);
	id_of(z, "upper.example.com.", id);
	expected_id("UPPER.EXAMPLE.COM.", want);
	assert_string_equal(id, want);
	id_of(z, "q\\\"uote.example.", id);
	id_of(z, ".", id);
	assert_group(z, "a\\.b.example.", group, sizeof(group) - 1);
	assert_group(z, "upper.example.com.", "semi;colon(x)", 13);
	assert_group(z, "sp\\032ace.example.", NULL, 0);
	ldns_zone_deep_free(z);

	text = slurp(path);
	assert_non_null(strstr(text, "\tPTR\ta\\.b.example.\n"));
	assert_non_null(strstr(text, "\tTXT\t\"ops \\\"gold\\\" \\\\ tier\\001\\195\\169;\"\n"));
	assert_null(strstr(text, "UPPER"));
	free(text);
}

static void catalog_name_is_lowercased_too(void **state)
{
	const char *path = path_in_tmp("upper-cat.zone");
	cat_member m[] = { { "a.example.", NULL } };
	uint32_t serial = 0;
	bool changed = true;
	char *text;

	(void) state;
	assert_int_equal(cat_write(path, "Catalog.EXAMPLE.", m, 1, NOW, NULL, NULL, NULL), 0);
	text = slurp(path);
	assert_null(strstr(text, "Catalog"));
	free(text);
	/* the same catalog written under its lowercase name is unchanged */
	write_ok(path, m, 1, NOW + 1, &serial, &changed);
	assert_false(changed);
	assert_int_equal(serial, NOW);
}

/* ---------------------------------------------------------------- refusals */

static void assert_refused_and_kept(const char *path, const char *name, const cat_member *m,
				    size_t n, int code, const char *needle)
{
	struct stat before, after;
	uint32_t serial = 7;
	bool changed = true;
	zk_error err = { 0 };
	char *old = slurp(path), *now;

	assert_int_equal(stat(path, &before), 0);
	assert_int_equal(cat_write(path, name, m, n, NOW + 10, &serial, &changed, &err), code);
	if (needle && !strstr(err.message, needle))
		fail_msg("message '%s' does not name '%s'", err.message, needle);
	assert_int_equal(serial, 7); /* outputs untouched */
	assert_true(changed);
	assert_int_equal(stat(path, &after), 0);
	assert_true(zk_same_file(&before, &after));
	now = slurp(path);
	assert_string_equal(old, now);
	free(old);
	free(now);
}

static void invalid_members_are_refused_and_the_old_file_stays(void **state)
{
	const char *path = path_in_tmp("refuse.zone");
	cat_member good[] = { { "a.example.", NULL } };
	static const char *const bad[] = {
		"relative.example", "a..example.", "", "@", "bad\\",
		"bad\\25.example.", "bad\\256.example.",
		"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.example.",
	};

	(void) state;
	write_ok(path, good, 1, NOW, NULL, NULL);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cat_member m[] = { { "a.example.", NULL }, { bad[i], NULL } };

		assert_refused_and_kept(path, CAT, m, 2, ZK_E_INVALID_RECORD, bad[i]);
	}
}

static void a_member_listed_twice_is_refused(void **state)
{
	const char *path = path_in_tmp("twice.zone");
	cat_member good[] = { { "abc.example.", NULL } };
	cat_member twice[] = { { "abc.example.", NULL }, { "x.example.", NULL },
			       { "\\065BC.example.", "g" } };

	(void) state;
	write_ok(path, good, 1, NOW, NULL, NULL);
	assert_refused_and_kept(path, CAT, twice, 3, ZK_E_INVALID_RECORD, "listed twice");
}

static void an_overlong_group_is_refused(void **state)
{
	const char *path = path_in_tmp("long-group.zone");
	char group[300];
	cat_member m[] = { { "a.example.", group } };

	(void) state;
	write_ok(path, NULL, 0, NOW, NULL, NULL);
	memset(group, 'g', 256);
	group[256] = '\0';
	assert_refused_and_kept(path, CAT, m, 1, ZK_E_INVALID_RECORD, "a.example.");
	group[255] = '\0'; /* 255 octets: one full character-string */
	write_ok(path, m, 1, NOW, NULL, NULL);
}

static void bad_catalog_names_are_configuration_errors(void **state)
{
	const char *path = path_in_tmp("bad-name.zone");
	char longname[256];

	(void) state;
	write_ok(path, NULL, 0, NOW, NULL, NULL);
	assert_refused_and_kept(path, "catalog", NULL, 0, ZK_E_CONFIG, "catalog");
	assert_refused_and_kept(path, ".", NULL, 0, ZK_E_CONFIG, NULL);
	/* 5 labels of 41 octets + root: 211 octets, one more than room is left for */
	for (int i = 0; i < 5; i++) {
		memset(longname + 42 * i, 'x', 41);
		longname[42 * i + 41] = '.';
	}
	longname[210] = '\0';
	assert_refused_and_kept(path, longname, NULL, 0, ZK_E_CONFIG, "too long");
	longname[0] = '.'; /* an empty first label */
	assert_refused_and_kept(path, longname, NULL, 0, ZK_E_CONFIG, NULL);
	/* without it, 40 + 4 * 41 octets and their length octets: 210, which fits */
	assert_int_equal(cat_write(path, longname + 1, NULL, 0, NOW, NULL, NULL, NULL), 0);
}

/* ---------------------------------------------------------------- scale */

static void a_hundred_thousand_members_round_trip(void **state)
{
	const char *path = path_in_tmp("big.zone");
	enum { N = 100000 };
	cat_member *m = calloc(N, sizeof(*m)), *rev = calloc(N, sizeof(*m));
	char (*names)[40] = calloc(N, sizeof(*names));
	uint32_t serial = 0;
	bool changed = false;
	size_t groups = 0;
	ldns_zone *z;

	(void) state;
	assert_non_null(m);
	assert_non_null(rev);
	assert_non_null(names);
	for (unsigned i = 0; i < N; i++) {
		snprintf(names[i], sizeof(names[i]), "customer-%06u.example.net.", i);
		m[i] = (cat_member) { names[i], i % 2 ? "standard" : NULL };
		rev[N - 1 - i] = m[i];
		groups += i > 0 && m[i].group;
	}
	write_ok(path, m, N, NOW, &serial, &changed);
	assert_true(changed);
	write_ok(path, rev, N, NOW, &serial, &changed);
	assert_false(changed);
	assert_int_equal(serial, NOW);
	write_ok(path, rev, N - 1, NOW, &serial, &changed);
	assert_true(changed);
	assert_int_equal(serial, NOW + 1);
	z = load(path);
	assert_int_equal(ldns_rr_list_rr_count(ldns_zone_rrs(z)), 2 + (N - 1) + groups);
	ldns_zone_deep_free(z);
	free(names);
	free(rev);
	free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(empty_catalog_has_soa_ns_and_version_only),
		cmocka_unit_test(one_member_gets_a_ptr_and_a_group),
		cmocka_unit_test(many_members_are_each_listed_once),
		cmocka_unit_test(ids_are_stable_and_differ_between_zones),
		cmocka_unit_test(unchanged_list_writes_nothing_and_keeps_the_serial),
		cmocka_unit_test(a_changed_group_rewrites_with_the_next_serial),
		cmocka_unit_test(adding_and_removing_members_bump_the_serial_by_one),
		cmocka_unit_test(serial_wraps_from_4294967295_to_1),
		cmocka_unit_test(clock_serial_never_starts_at_0),
		cmocka_unit_test(a_file_that_is_not_ours_gets_the_clock_serial),
		cmocka_unit_test(odd_names_are_lowercased_and_escaped_and_groups_quoted),
		cmocka_unit_test(catalog_name_is_lowercased_too),
		cmocka_unit_test(invalid_members_are_refused_and_the_old_file_stays),
		cmocka_unit_test(a_member_listed_twice_is_refused),
		cmocka_unit_test(an_overlong_group_is_refused),
		cmocka_unit_test(bad_catalog_names_are_configuration_errors),
		cmocka_unit_test(a_hundred_thousand_members_round_trip),
	};

	return cmocka_run_group_tests_name("catalog", tests, setup, teardown);
}
