/* SPDX-License-Identifier: MIT */
/*
 * tests/unit/test_records.c -- user records as the record API sees them (signer/records.c):
 * stable ids, request bodies, names, types and content in canonical form, the index of a
 * zone's user records (rec_set: its hash tables, per-name type counts, canonical listing,
 * system records) and the application of accepted changes to the zone model (rec_apply).
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

#include "policy/policy.h"
#include "policy/zk-error.h"
#include "signer/dname.h"
#include "signer/load.h"
#include "signer/records.h"
#include "signer/zone.h"

/* ---------------------------------------------------------------- helpers */

static const uint8_t *wire(const char *text)
{
	static uint8_t buf[16][DN_MAXLEN];
	static unsigned slot;
	uint8_t *p = buf[slot++ % 16];

	assert_true(dn_from_text(text, strlen(text), NULL, p) > 0);
	return p;
}

#define APEX wire("example.")

/* A record from presentation parts (owner absolute, content as the API takes it). */
static void make_rr(rec_rr *rr, const char *owner, uint16_t type, uint32_t ttl,
		    const char *content)
{
	zk_error err = { 0 };
	int r;

	memset(rr, 0, sizeof(*rr));
	memcpy(rr->owner, wire(owner), dn_len(wire(owner)));
	dn_lower(rr->owner);
	rr->type = type;
	rr->ttl = ttl;
	r = rec_parse_content(rr, APEX, content, &err);
	if (r < 0)
		print_message("content '%s': %s\n", content, err.message);
	assert_int_equal(r, 0);
}

/* A record with raw RDATA (points into `rd`, not owned: never clear it). */
static rec_rr raw_rr(const char *owner, uint16_t type, uint32_t ttl, const uint8_t *rd,
		     uint16_t len)
{
	rec_rr rr = { .type = type, .ttl = ttl, .rdlen = len, .rdata = (uint8_t *) rd };

	memcpy(rr.owner, wire(owner), dn_len(wire(owner)));
	return rr;
}

typedef struct diag_log {
	unsigned warnings;
	char last[512];
} diag_log;

static void log_emit(void *userdata, zk_level level, const char *file, unsigned line,
		     const char *message)
{
	diag_log *d = userdata;

	if (level == ZK_LOG_WARNING)
		d->warnings++;
	snprintf(d->last, sizeof(d->last), "%s", message);
}

/* ---------------------------------------------------------------- ids */

static void id_depends_on_owner_type_rdata_not_ttl(void **state)
{
	const uint8_t a1[4] = { 192, 0, 2, 1 }, a2[4] = { 192, 0, 2, 2 };
	uint8_t lower[DN_MAXLEN], upper[DN_MAXLEN];
	zk_error err = { 0 };
	uint64_t id = rec_id(wire("www.example."), T_A, a1, 4);
	rec_rr x, y;

	assert_int_not_equal(id, 0);
	/* stable: the same input gives the same id, every time */
	assert_true(rec_id(wire("www.example."), T_A, a1, 4) == id);
	/* owner case: the API folds names, so the id does not depend on how it was written */
	assert_int_equal(rec_parse_name("WWW", APEX, upper, &err), 0);
	assert_int_equal(rec_parse_name("www", APEX, lower, &err), 0);
	assert_true(rec_id(upper, T_A, a1, 4) == id);
	assert_true(rec_id(lower, T_A, a1, 4) == id);
	/* names in RDATA are folded too (MX is a downcasing type) */
	make_rr(&x, "www.example.", T_MX, 300, "10 MAIL.Example.");
	make_rr(&y, "www.example.", T_MX, 999, "10 mail");
	assert_int_equal(x.rdlen, y.rdlen);
	assert_memory_equal(x.rdata, y.rdata, x.rdlen);
	/* the TTL is not part of the id */
	assert_true(rec_rr_id(&x) == rec_rr_id(&y));
	rec_rr_clear(&x);
	rec_rr_clear(&y);

	/* anything else is */
	assert_true(rec_id(wire("www.example."), T_A, a2, 4) != id);
	assert_true(rec_id(wire("www.example."), T_A, a1, 3) != id);
	assert_true(rec_id(wire("www.example."), 65000, a1, 4) != id);
	assert_true(rec_id(wire("ww.example."), T_A, a1, 4) != id);
	assert_true(rec_id(wire("www.example.com."), T_A, a1, 4) != id);
	/* owner | type | rdata cannot be shifted into one another */
	assert_true(rec_id(wire("www.example."), T_A, NULL, 0) !=
		    rec_id(wire("www.example."), T_A, a1, 1));
}

static void id_format_parse_round_trip(void **state)
{
	const uint64_t ids[] = { 0, 1, 0x0123456789abcdefull, 0xfedcba9876543210ull,
				 UINT64_MAX, rec_id(wire("x.example."), T_A,
						    (const uint8_t *) "\1\2\3\4", 4) };
	char text[17];
	uint64_t v;

	for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
		memset(text, 'x', sizeof(text));
		rec_id_format(ids[i], text);
		assert_int_equal(strlen(text), 16);
		assert_int_equal(strspn(text, "0123456789abcdef"), 16);
		v = ids[i] ^ 1;
		assert_int_equal(rec_id_parse(text, &v), 0);
		assert_true(v == ids[i]);
	}
	rec_id_format(0x0123456789abcdefull, text);
	assert_string_equal(text, "0123456789abcdef");
	rec_id_format(0, text);
	assert_string_equal(text, "0000000000000000");

	assert_int_equal(rec_id_parse("0123456789ABCDEF", &v), 0);
	assert_true(v == 0x0123456789abcdefull);

	v = 42;
	assert_int_equal(rec_id_parse("0123456789abcde", &v), -EINVAL);   /* 15 */
	assert_int_equal(rec_id_parse("0123456789abcdef0", &v), -EINVAL); /* 17 */
	assert_int_equal(rec_id_parse("", &v), -EINVAL);
	assert_int_equal(rec_id_parse("0123456789abcdeg", &v), -EINVAL);
	assert_int_equal(rec_id_parse("g123456789abcdef", &v), -EINVAL);
	assert_int_equal(rec_id_parse("0x23456789abcdef", &v), -EINVAL);
	assert_int_equal(rec_id_parse(" 123456789abcdef", &v), -EINVAL);
	assert_int_equal(rec_id_parse("-123456789abcdef", &v), -EINVAL);
	assert_int_equal(rec_id_parse("0123456789abcd:f", &v), -EINVAL);
	assert_int_equal(v, 42); /* untouched on failure */
}

/* ---------------------------------------------------------------- bodies */

static int body(const char *text, bool partial, rec_body *b, zk_error *err)
{
	memset(err, 0, sizeof(*err));
	return rec_body_parse(text, strlen(text), partial, b, err);
}

static void body_expect(const char *text, bool partial, int code, const char *needle)
{
	rec_body b;
	zk_error err;
	int r = body(text, partial, &b, &err);

	if (r != code)
		print_message("body %s: %d %s\n", text, r, err.message);
	assert_int_equal(r, code);
	assert_int_equal(err.code, code);
	if (needle && !strstr(err.message, needle))
		fail_msg("'%s' not in '%s'", needle, err.message);
	/* nothing is left behind on failure */
	assert_null(b.name);
	assert_null(b.type);
	assert_null(b.content);
}

static void body_valid(void **state)
{
	rec_body b;
	zk_error err;

	assert_int_equal(body("{\"name\":\"www\",\"type\":\"A\",\"content\":\"192.0.2.1\","
			      "\"ttl\":3600}", false, &b, &err), 0);
	assert_string_equal(b.name, "www");
	assert_string_equal(b.type, "A");
	assert_string_equal(b.content, "192.0.2.1");
	assert_true(b.has_ttl);
	assert_int_equal(b.ttl, 3600);
	rec_body_clear(&b);
	assert_null(b.name);

	/* ttl is optional; the limits are inclusive */
	assert_int_equal(body("{\"content\":\"x\",\"type\":\"TXT\",\"name\":\"@\"}", false, &b,
			      &err), 0);
	assert_false(b.has_ttl);
	assert_string_equal(b.name, "@");
	rec_body_clear(&b);
	assert_int_equal(body("{\"name\":\"a\",\"type\":\"A\",\"content\":\"1.2.3.4\",\"ttl\":0}",
			      false, &b, &err), 0);
	assert_true(b.has_ttl);
	assert_int_equal(b.ttl, 0);
	rec_body_clear(&b);
	assert_int_equal(body("{\"name\":\"a\",\"type\":\"A\",\"content\":\"1.2.3.4\","
			      "\"ttl\":2147483647}", false, &b, &err), 0);
	assert_int_equal(b.ttl, 2147483647u);
	rec_body_clear(&b);

	/* escapes are decoded */
	assert_int_equal(body("{\"name\":\"a\",\"type\":\"TXT\",\"content\":\"\\\"q\\\" \\u00e9\"}",
			      false, &b, &err), 0);
	assert_string_equal(b.content, "\"q\" \xc3\xa9");
	rec_body_clear(&b);
}

static void body_partial(void **state)
{
	rec_body b;
	zk_error err;

	assert_int_equal(body("{\"content\":\"192.0.2.2\"}", true, &b, &err), 0);
	assert_null(b.name);
	assert_null(b.type);
	assert_string_equal(b.content, "192.0.2.2");
	assert_false(b.has_ttl);
	rec_body_clear(&b);

	assert_int_equal(body("{\"ttl\":60}", true, &b, &err), 0);
	assert_null(b.content);
	assert_true(b.has_ttl);
	assert_int_equal(b.ttl, 60);
	rec_body_clear(&b);

	assert_int_equal(body("{}", true, &b, &err), 0);
	assert_null(b.name);
	assert_false(b.has_ttl);
	rec_body_clear(&b);

	/* the same bodies are incomplete for a POST */
	body_expect("{\"content\":\"192.0.2.2\"}", false, ZK_E_INVALID_RECORD, "'name'");
	body_expect("{}", false, ZK_E_INVALID_RECORD, "missing field");
	/* partial does not relax the other checks */
	body_expect("{\"ttl\":\"60\"}", true, ZK_E_INVALID_RECORD, "ttl");
	body_expect("{\"bogus\":1}", true, ZK_E_INVALID_RECORD, "bogus");
}

static void body_missing_and_unknown_fields(void **state)
{
	body_expect("{\"name\":\"www\",\"type\":\"A\",\"ttl\":1}", false, ZK_E_INVALID_RECORD,
		    "'content'");
	body_expect("{\"name\":\"www\",\"content\":\"1.2.3.4\"}", false, ZK_E_INVALID_RECORD,
		    "'type'");
	body_expect("{\"type\":\"A\",\"content\":\"1.2.3.4\"}", false, ZK_E_INVALID_RECORD,
		    "'name'");
	body_expect("{\"name\":\"www\",\"type\":\"A\",\"content\":\"1.2.3.4\",\"id\":\"x\"}",
		    false, ZK_E_INVALID_RECORD, "unknown field 'id'");
	body_expect("{\"name\":\"www\",\"type\":\"A\",\"content\":\"1.2.3.4\",\"Name\":\"x\"}",
		    false, ZK_E_INVALID_RECORD, "unknown field");
	/* a very long unknown key is named, shortened */
	{
		char text[2048], key[1500];

		memset(key, 'k', sizeof(key) - 1);
		key[sizeof(key) - 1] = '\0';
		snprintf(text, sizeof(text), "{\"%s\":1}", key);
		body_expect(text, true, ZK_E_INVALID_RECORD, "unknown field 'kkkk");
	}
}

static void body_wrong_types(void **state)
{
	body_expect("{\"name\":\"www\",\"type\":\"A\",\"content\":\"1.2.3.4\",\"ttl\":\"3600\"}",
		    false, ZK_E_INVALID_RECORD, "ttl");
	body_expect("{\"name\":\"www\",\"type\":\"A\",\"content\":\"1.2.3.4\",\"ttl\":36.5}",
		    false, ZK_E_INVALID_RECORD, "ttl");
	body_expect("{\"name\":\"www\",\"type\":\"A\",\"content\":\"1.2.3.4\",\"ttl\":null}",
		    false, ZK_E_INVALID_RECORD, "ttl");
	body_expect("{\"name\":\"www\",\"type\":\"A\",\"content\":\"1.2.3.4\",\"ttl\":true}",
		    false, ZK_E_INVALID_RECORD, "ttl");
	body_expect("{\"name\":5,\"type\":\"A\",\"content\":\"1.2.3.4\"}", false,
		    ZK_E_INVALID_RECORD, "'name' must be a string");
	body_expect("{\"name\":\"www\",\"type\":1,\"content\":\"1.2.3.4\"}", false,
		    ZK_E_INVALID_RECORD, "'type' must be a string");
	body_expect("{\"name\":\"www\",\"type\":\"A\",\"content\":[\"1.2.3.4\"]}", false,
		    ZK_E_INVALID_RECORD, "'content' must be a string");
	body_expect("{\"name\":null,\"type\":\"A\",\"content\":\"1.2.3.4\"}", false,
		    ZK_E_INVALID_RECORD, "'name' must be a string");
	body_expect("{\"name\":{},\"type\":\"A\",\"content\":\"1.2.3.4\"}", true,
		    ZK_E_INVALID_RECORD, "'name' must be a string");
}

static void body_ttl_range(void **state)
{
	body_expect("{\"name\":\"a\",\"type\":\"A\",\"content\":\"1.2.3.4\",\"ttl\":-1}", false,
		    ZK_E_INVALID_RECORD, "out of range");
	body_expect("{\"name\":\"a\",\"type\":\"A\",\"content\":\"1.2.3.4\",\"ttl\":2147483648}",
		    false, ZK_E_INVALID_RECORD, "out of range");
	body_expect("{\"name\":\"a\",\"type\":\"A\",\"content\":\"1.2.3.4\",\"ttl\":4294967296}",
		    false, ZK_E_INVALID_RECORD, "out of range");
	body_expect("{\"ttl\":-9223372036854775808}", true, ZK_E_INVALID_RECORD, "out of range");
	body_expect("{\"ttl\":1e30}", true, ZK_E_INVALID_RECORD, "ttl");
	body_expect("{\"ttl\":1e400}", true, ZK_E_INVALID_RECORD, NULL);
	/* beyond what an integer holds */
	body_expect("{\"ttl\":100000000000000000000000000000}", true, ZK_E_INVALID_RECORD,
		    "out of range");
	body_expect("{\"ttl\":-100000000000000000000000000000}", true, ZK_E_INVALID_RECORD,
		    "out of range");
}

static void body_not_an_object(void **state)
{
	body_expect("", false, ZK_E_BAD_REQUEST, "not valid JSON");
	body_expect("name=www&type=A", false, ZK_E_BAD_REQUEST, "not valid JSON");
	body_expect("{\"name\":\"www\"", true, ZK_E_BAD_REQUEST, "not valid JSON");
	body_expect("{\"name\":\"www\"} x", true, ZK_E_BAD_REQUEST, NULL);
	body_expect("[{\"name\":\"www\",\"type\":\"A\",\"content\":\"1.2.3.4\"}]", false,
		    ZK_E_BAD_REQUEST, NULL);
	body_expect("[]", true, ZK_E_BAD_REQUEST, NULL);
	body_expect("\"www\"", true, ZK_E_BAD_REQUEST, NULL);
	body_expect("42", true, ZK_E_BAD_REQUEST, NULL);
	body_expect("null", true, ZK_E_BAD_REQUEST, NULL);
	/* duplicate keys: which one would win is up to the parser, so neither does */
	body_expect("{\"name\":\"www\",\"type\":\"A\",\"content\":\"1.2.3.4\",\"name\":\"evil\"}",
		    false, ZK_E_BAD_REQUEST, NULL);
	body_expect("{\"ttl\":1,\"ttl\":2}", true, ZK_E_BAD_REQUEST, NULL);

	/* the length is honoured: what follows it is not part of the body */
	{
		const char *text = "{\"ttl\":1}garbage";
		rec_body b;
		zk_error err = { 0 };

		assert_int_equal(rec_body_parse(text, 9, true, &b, &err), 0);
		assert_int_equal(b.ttl, 1);
		rec_body_clear(&b);
	}
}

static void body_nul_in_string_is_an_invalid_record(void **state)
{
	/* valid JSON (RFC 8259 allows \u0000), but no name, type or content holds a NUL */
	body_expect("{\"name\":\"www\\u0000.evil\",\"type\":\"A\",\"content\":\"1.2.3.4\"}",
		    false, ZK_E_INVALID_RECORD, "'name' contains a NUL");
	body_expect("{\"name\":\"www\",\"type\":\"A\\u0000AAA\",\"content\":\"1.2.3.4\"}",
		    false, ZK_E_INVALID_RECORD, "'type' contains a NUL");
	body_expect("{\"name\":\"www\",\"type\":\"TXT\",\"content\":\"a\\u0000b\"}", true,
		    ZK_E_INVALID_RECORD, "'content' contains a NUL");
}

/* ---------------------------------------------------------------- names */

static int name(const char *text, uint8_t *out, zk_error *err)
{
	memset(err, 0, sizeof(*err));
	return rec_parse_name(text, APEX, out, err);
}

static void name_expect(const char *text, const char *expect)
{
	uint8_t out[DN_MAXLEN];
	zk_error err;
	int r = name(text, out, &err);

	if (r < 0)
		print_message("name '%s': %s\n", text, err.message);
	assert_int_equal(r, 0);
	assert_int_equal(dn_len(out), dn_len(wire(expect)));
	assert_memory_equal(out, wire(expect), dn_len(out));
}

static void name_refused(const char *text)
{
	uint8_t out[DN_MAXLEN];
	zk_error err;
	int r = name(text, out, &err);

	if (r != ZK_E_INVALID_RECORD)
		print_message("name '%s' accepted\n", text);
	assert_int_equal(r, ZK_E_INVALID_RECORD);
	assert_int_equal(err.code, ZK_E_INVALID_RECORD);
	assert_true(err.message[0] != '\0');
}

static void names(void **state)
{
	char label63[64], label64[65], text[600];

	name_expect("@", "example.");
	name_expect("www", "www.example.");
	name_expect("a.b.c", "a.b.c.example.");
	name_expect("www.example.", "www.example.");
	name_expect("example.", "example.");
	name_expect("*", "*.example.");
	name_expect("_sip._tcp", "_sip._tcp.example.");
	/* out of zone: parsed; refusing it is the rules' business */
	name_expect("www.example.org.", "www.example.org.");
	name_expect(".", ".");
	/* case is folded, escapes included */
	name_expect("WwW.Sub", "www.sub.example.");
	name_expect("WWW.EXAMPLE.", "www.example.");
	name_expect("\\065b", "ab.example.");
	name_expect("a\\.b", "a\\.b.example.");
	{
		uint8_t out[DN_MAXLEN];
		zk_error err;

		assert_int_equal(name("MiXeD.Example.", out, &err), 0);
		assert_memory_equal(out, "\5mixed\7example", 15);
	}

	name_refused("");
	name_refused("a..b");
	name_refused("..");
	name_refused(".www");
	name_refused("a b");
	name_refused(" www");
	name_refused("www\t");
	name_refused("www\n");
	name_refused("w\rw");
	name_refused("w\x7fw");
	name_refused("w\x01w");
	name_refused("www\\");

	/* labels: 63 octets at most */
	memset(label63, 'a', 63);
	label63[63] = '\0';
	memset(label64, 'b', 64);
	label64[64] = '\0';
	snprintf(text, sizeof(text), "%s", label63);
	{
		uint8_t out[DN_MAXLEN];
		zk_error err;

		assert_int_equal(name(text, out, &err), 0);
		assert_int_equal(out[0], 63);
		assert_int_equal(dn_len(out), 1 + 63 + 9);
	}
	name_refused(label64);
	snprintf(text, sizeof(text), "x.%s", label64);
	name_refused(text);
	snprintf(text, sizeof(text), "%s.example.", label64);
	name_refused(text);

	/* names: 255 octets at most (63+63+63+61 labels: 3*64 + 62 + 1 = 255) */
	{
		char l61[62];
		uint8_t out[DN_MAXLEN];
		zk_error err;

		memset(l61, 'c', 61);
		l61[61] = '\0';
		snprintf(text, sizeof(text), "%s.%s.%s.%s.", label63, label63, label63, l61);
		assert_int_equal(name(text, out, &err), 0);
		assert_int_equal(dn_len(out), 255);
		snprintf(text, sizeof(text), "%s.%s.%s.%sc.", label63, label63, label63, l61);
		name_refused(text); /* 256 */
		/* relative: the apex adds 9 octets */
		snprintf(text, sizeof(text), "%s.%s.%s.%s", label63, label63, label63, l61);
		name_refused(text);
		snprintf(text, sizeof(text), "%s.%s.%s.%s", label63, label63, label63,
			 l61 + 9); /* 3*64 + 53 + 9 = 254 */
		assert_int_equal(name(text, out, &err), 0);
		assert_int_equal(dn_len(out), 254);
	}
	/* far too long */
	{
		char big[1200];

		for (size_t i = 0; i < sizeof(big) - 1; i++)
			big[i] = i % 2 ? '.' : 'a';
		big[sizeof(big) - 1] = '\0';
		name_refused(big);
	}
}

/* ---------------------------------------------------------------- types */

static void type_expect(const char *text, int expect)
{
	zk_error err = { 0 };
	uint16_t t = 0;
	int r = rec_parse_type(text, &t, &err);

	if (expect < 0) {
		if (r == 0)
			print_message("type '%s' accepted as %u\n", text, t);
		assert_int_equal(r, ZK_E_INVALID_RECORD);
		assert_int_equal(err.code, ZK_E_INVALID_RECORD);
		assert_int_equal(t, 0);
	} else {
		if (r < 0)
			print_message("type '%s': %s\n", text, err.message);
		assert_int_equal(r, 0);
		assert_int_equal(t, expect);
	}
}

static void types(void **state)
{
	type_expect("A", T_A);
	type_expect("a", T_A);
	type_expect("aaaa", T_AAAA);
	type_expect("AAAA", T_AAAA);
	type_expect("Mx", T_MX);
	type_expect("TXT", T_TXT);
	type_expect("CAA", T_CAA);
	type_expect("TYPE65000", 65000);
	type_expect("type65000", 65000);
	type_expect("TYPE1", T_A);
	/* DNSSEC types parse: refusing writes to them is the rules' business (403, not 400) */
	type_expect("DNSKEY", T_DNSKEY);
	type_expect("SOA", T_SOA);

	type_expect("FOO", -1);
	type_expect("", -1);
	type_expect("A ", -1);
	type_expect("TYPE", -1);
	type_expect("TYPE65536", -1);
	type_expect("TYPEx", -1);
	/* meta types exist only in messages */
	type_expect("OPT", -1);
	type_expect("TSIG", -1);
	type_expect("TKEY", -1);
	type_expect("ANY", -1);
	type_expect("AXFR", -1);
	type_expect("IXFR", -1);
	type_expect("TYPE41", -1);
	type_expect("TYPE250", -1);
	type_expect("TYPE255", -1);
	type_expect("TYPE128", -1);
	type_expect("TYPE0", -1);
}

/* ---------------------------------------------------------------- content */

static int content(rec_rr *rr, const char *owner, uint16_t type, const char *text,
		   zk_error *err)
{
	memset(rr, 0, sizeof(*rr));
	memset(err, 0, sizeof(*err));
	memcpy(rr->owner, wire(owner), dn_len(wire(owner)));
	rr->type = type;
	rr->ttl = 300;
	return rec_parse_content(rr, APEX, text, err);
}

static void content_refused(uint16_t type, const char *text)
{
	rec_rr rr;
	zk_error err;
	int r = content(&rr, "www.example.", type, text, &err);

	if (r != ZK_E_INVALID_RECORD)
		print_message("content '%s' gave %d\n", text, r);
	assert_int_equal(r, ZK_E_INVALID_RECORD);
	assert_int_equal(err.code, ZK_E_INVALID_RECORD);
	assert_null(rr.rdata);
	assert_int_equal(rr.rdlen, 0);
}

static void content_valid(void **state)
{
	rec_rr rr;
	zk_error err;
	char text[4096];

	assert_int_equal(content(&rr, "www.example.", T_A, "192.0.2.1", &err), 0);
	assert_int_equal(rr.rdlen, 4);
	assert_memory_equal(rr.rdata, "\xc0\x00\x02\x01", 4);
	/* owner, type and ttl are the caller's */
	assert_int_equal(rr.ttl, 300);
	assert_int_equal(rr.type, T_A);
	assert_true(dn_equal(rr.owner, wire("www.example.")));
	assert_int_equal(rec_rr_content(&rr, text), (int) strlen("192.0.2.1"));
	assert_string_equal(text, "192.0.2.1");
	rec_rr_clear(&rr);
	assert_null(rr.rdata);

	assert_int_equal(content(&rr, "www.example.", T_AAAA, "2001:DB8::1", &err), 0);
	assert_int_equal(rr.rdlen, 16);
	assert_memory_equal(rr.rdata, "\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\1", 16);
	rec_rr_clear(&rr);

	/* a relative target is completed with the apex, and lowercased (MX downcases) */
	assert_int_equal(content(&rr, "www.example.", T_MX, "10 Mail", &err), 0);
	assert_int_equal(rr.rdlen, 2 + 14);
	assert_memory_equal(rr.rdata, "\x00\x0a\4mail\7example\0", 16);
	assert_int_equal(rec_rr_content(&rr, text), (int) strlen("10 mail.example."));
	assert_string_equal(text, "10 mail.example.");
	rec_rr_clear(&rr);
	assert_int_equal(content(&rr, "www.example.", T_MX, "10 mx.example.net.", &err), 0);
	assert_memory_equal(rr.rdata, "\x00\x0a\2mx\7example\3net\0", 2 + 16);
	rec_rr_clear(&rr);
	/* at the apex too */
	assert_int_equal(content(&rr, "example.", T_NS, "ns1", &err), 0);
	assert_memory_equal(rr.rdata, "\3ns1\7example\0", 13);
	rec_rr_clear(&rr);

	/* TXT: quoted strings, several of them, escapes */
	assert_int_equal(content(&rr, "www.example.", T_TXT, "\"hello world\" \"x\"", &err), 0);
	assert_int_equal(rr.rdlen, 1 + 11 + 1 + 1);
	assert_memory_equal(rr.rdata, "\x0bhello world\x01x", 14);
	rec_rr_clear(&rr);
	assert_int_equal(content(&rr, "www.example.", T_TXT, "\"a;b\" \"\\\"q\\\"\"", &err), 0);
	assert_int_equal(rr.rdlen, 1 + 3 + 1 + 3);
	assert_memory_equal(rr.rdata, "\x03" "a;b" "\x03\"q\"", 8);
	rec_rr_clear(&rr);
	assert_int_equal(content(&rr, "www.example.", T_TXT, "v=spf1\t-all", &err), 0);
	assert_memory_equal(rr.rdata, "\x06v=spf1\x04-all", 12);
	rec_rr_clear(&rr);

	/* RFC 3597 */
	assert_int_equal(content(&rr, "www.example.", 65000, "\\# 4 c0000201", &err), 0);
	assert_int_equal(rr.rdlen, 4);
	assert_memory_equal(rr.rdata, "\xc0\x00\x02\x01", 4);
	rec_rr_clear(&rr);
	assert_int_equal(content(&rr, "www.example.", 65000, "\\# 0", &err), 0);
	assert_int_equal(rr.rdlen, 0);
	assert_non_null(rr.rdata);
	rec_rr_clear(&rr);
	/* ... for a known type, the same bytes as its presentation form */
	assert_int_equal(content(&rr, "www.example.", T_A, "\\# 4 C0000201", &err), 0);
	assert_memory_equal(rr.rdata, "\xc0\x00\x02\x01", 4);
	rec_rr_clear(&rr);

	/* a trailing comment is no second record */
	assert_int_equal(content(&rr, "www.example.", T_A, "192.0.2.7 ; web", &err), 0);
	assert_memory_equal(rr.rdata, "\xc0\x00\x02\x07", 4);
	rec_rr_clear(&rr);
}

static void content_invalid(void **state)
{
	rec_rr rr;
	zk_error err;

	content_refused(T_A, "300.1.1.1");
	content_refused(T_A, "192.0.2");
	content_refused(T_A, "2001:db8::1");
	content_refused(T_AAAA, "192.0.2.1");
	content_refused(T_MX, "mail");
	content_refused(T_MX, "70000 mail");
	content_refused(65000, "\\# 4 c00002");
	content_refused(65000, "\\# 3 c0000201");
	content_refused(65000, "c0000201");
	content_refused(T_TXT, "\"unterminated");

	/* the message names the problem */
	assert_int_equal(content(&rr, "www.example.", T_A, "300.1.1.1", &err),
			 ZK_E_INVALID_RECORD);
	assert_non_null(strstr(err.message, "300.1.1.1"));
	assert_non_null(strstr(err.message, "A"));

	/* empty */
	content_refused(T_A, "");
	content_refused(T_A, "   ");
	content_refused(T_A, "\t");
	content_refused(T_TXT, "");

	/* one line: no second record, no directive can hide in the content */
	content_refused(T_A, "192.0.2.1\nwww.example. 300 IN A 192.0.2.2");
	content_refused(T_A, "192.0.2.1\n");
	content_refused(T_A, "192.0.2.1\r\nwww 300 IN A 192.0.2.2");
	content_refused(T_A, "192.0.2.1\rx");
	content_refused(T_TXT, "\"a\"\n$INCLUDE /etc/passwd");
	content_refused(T_TXT, "\"a\x7f\"");
	content_refused(T_TXT, "\"a\x01\"");
	content_refused(T_A, "192.0.2.1 192.0.2.2");
	content_refused(T_A, "192.0.2.1 ( 192.0.2.2 )");
	content_refused(T_A, "192.0.2.1 (");
	content_refused(T_A, "( 192.0.2.1");
	content_refused(T_A, "192.0.2.1 )");
}

static void rr_to_ldns(void **state)
{
	rec_rr rr;
	ldns_rr *l;
	char *s;

	make_rr(&rr, "www.example.", T_MX, 600, "10 mail");
	l = rec_rr_to_ldns(&rr);
	assert_non_null(l);
	assert_int_equal(ldns_rr_get_type(l), LDNS_RR_TYPE_MX);
	assert_int_equal(ldns_rr_ttl(l), 600);
	assert_int_equal(ldns_rr_rd_count(l), 2);
	s = ldns_rr2str(l);
	assert_non_null(strstr(s, "www.example."));
	assert_non_null(strstr(s, "mail.example."));
	free(s);
	ldns_rr_free(l);
	/* without RDATA: owner and type only, for the rules */
	rec_rr_clear(&rr);
	l = rec_rr_to_ldns(&rr);
	assert_non_null(l);
	assert_int_equal(ldns_rr_rd_count(l), 0);
	ldns_rr_free(l);
}

/* ---------------------------------------------------------------- the index */

static void set_add_get_del(void **state)
{
	pol_policy p;
	rec_set *s = NULL;
	rec_rr a1, a2;
	rec_entry e;
	uint32_t ttl = 0;
	uint64_t id1, id2;

	pol_policy_defaults(&p);
	assert_int_equal(rec_set_new(APEX, &p, &s), 0);
	assert_int_equal(rec_set_count(s), 0);
	make_rr(&a1, "www.example.", T_A, 300, "192.0.2.1");
	make_rr(&a2, "www.example.", T_A, 300, "192.0.2.2");
	id1 = rec_rr_id(&a1);
	id2 = rec_rr_id(&a2);
	assert_false(rec_set_get(s, id1, &e));

	assert_int_equal(rec_set_add(s, &a1), 0);
	assert_int_equal(rec_set_count(s), 1);
	assert_true(rec_set_get(s, id1, &e));
	assert_true(e.id == id1);
	assert_int_equal(e.type, T_A);
	assert_int_equal(e.ttl, 300);
	assert_int_equal(e.rdlen, 4);
	assert_memory_equal(e.rdata, "\xc0\x00\x02\x01", 4);
	assert_true(dn_equal(e.owner, wire("www.example.")));
	assert_false(rec_set_get(s, id2, &e));
	assert_true(rec_set_get(s, id1, NULL));

	/* the same record again: nothing added */
	assert_int_equal(rec_set_add(s, &a1), 1);
	assert_int_equal(rec_set_count(s), 1);

	assert_int_equal(rec_set_add(s, &a2), 0);
	assert_int_equal(rec_set_count(s), 2);
	assert_true(rec_set_rrset_ttl(s, wire("www.example."), T_A, &ttl));
	assert_int_equal(ttl, 300);
	assert_false(rec_set_rrset_ttl(s, wire("www.example."), T_AAAA, &ttl));
	assert_false(rec_set_rrset_ttl(s, wire("ftp.example."), T_A, &ttl));

	assert_int_equal(rec_set_del(s, a1.owner, T_A, a1.rdata, a1.rdlen), 0);
	assert_int_equal(rec_set_count(s), 1);
	assert_false(rec_set_get(s, id1, &e));
	assert_true(rec_set_get(s, id2, &e));
	assert_int_equal(rec_set_del(s, a1.owner, T_A, a1.rdata, a1.rdlen), -ENOENT);
	/* type and owner are part of what is deleted */
	assert_int_equal(rec_set_del(s, a2.owner, T_AAAA, a2.rdata, a2.rdlen), -ENOENT);
	assert_int_equal(rec_set_del(s, wire("ftp.example."), T_A, a2.rdata, a2.rdlen),
			 -ENOENT);
	assert_int_equal(rec_set_count(s), 1);
	assert_int_equal(rec_set_del(s, a2.owner, T_A, a2.rdata, a2.rdlen), 0);
	assert_int_equal(rec_set_count(s), 0);
	assert_false(rec_set_rrset_ttl(s, wire("www.example."), T_A, &ttl));

	rec_rr_clear(&a1);
	rec_rr_clear(&a2);
	assert_null(rec_set_free(s));
	assert_null(rec_set_free(NULL));
}

/* types_at as the rules see it */
static size_t types_at(const rec_set *s, const char *owner, pol_type_count *out, size_t max)
{
	pol_zone_view v;
	ldns_rdf *apex = ldns_dname_new_frm_str("example.");
	ldns_rdf *o = ldns_dname_new_frm_str(owner);
	size_t n;

	assert_non_null(apex);
	assert_non_null(o);
	rec_set_view(s, &v, apex);
	assert_ptr_equal(v.zone, s);
	assert_ptr_equal(v.apex, apex);
	assert_non_null(v.types_at);
	n = v.types_at(v.zone, o, out, max);
	ldns_rdf_deep_free(o);
	ldns_rdf_deep_free(apex);
	return n;
}

static unsigned count_of(const pol_type_count *tc, size_t n, uint16_t type)
{
	for (size_t i = 0; i < n; i++)
		if (tc[i].type == type)
			return (unsigned) tc[i].count;
	return 0;
}

/*
 * Two records whose ids collide: the first 64 bits of SHA-256 over owner, type and RDATA
 * of these two TXT records are the same (a pair found with 2^32 hashes). The set keeps
 * both, finds and deletes each by its content, and a lookup by the id says it is
 * ambiguous instead of picking one.
 */
static void set_keeps_records_whose_ids_collide(void **state)
{
	static const uint8_t rd1[] = "\x10" "f2ac718f38a1db21", rd2[] = "\x10" "ba00908fca06b832";
	rec_rr a = raw_rr("col.example.com.", T_TXT, 300, rd1, 17);
	rec_rr b = raw_rr("col.example.com.", T_TXT, 300, rd2, 17);
	rec_entry e, *list = NULL;
	rec_set *s = NULL;
	pol_policy p;
	uint64_t id;
	size_t n = 0;

	(void) state;
	pol_policy_defaults(&p);
	assert_int_equal(rec_set_new(wire("example.com."), &p, &s), 0);
	id = rec_rr_id(&a);
	assert_true(id == UINT64_C(0xba6be99023243f1f));
	assert_true(rec_rr_id(&b) == id);
	assert_int_equal(rec_set_lookup(s, id, &e), -ENOENT);

	assert_int_equal(rec_set_add(s, &a), 0);
	assert_int_equal(rec_set_lookup(s, id, &e), 0);
	assert_memory_equal(e.rdata, rd1, 17);
	assert_true(rec_set_find(s, a.owner, T_TXT, rd1, 17, NULL));
	assert_false(rec_set_find(s, b.owner, T_TXT, rd2, 17, NULL));
	/* the other content is another record, not the first one again */
	assert_int_equal(rec_set_add(s, &b), 0);
	assert_int_equal(rec_set_count(s), 2);
	assert_int_equal(rec_set_add(s, &a), 1);
	assert_int_equal(rec_set_add(s, &b), 1);
	assert_int_equal(rec_set_count(s), 2);
	assert_int_equal(rec_set_lookup(s, id, &e), -ENOTUNIQ);
	assert_true(rec_set_find(s, a.owner, T_TXT, rd1, 17, &e));
	assert_memory_equal(e.rdata, rd1, 17);
	assert_true(rec_set_find(s, b.owner, T_TXT, rd2, 17, &e));
	assert_memory_equal(e.rdata, rd2, 17);
	assert_int_equal(rec_set_list(s, a.owner, T_TXT, &list, &n), 0);
	assert_int_equal(n, 2);
	free(list);

	/* deleting one by its content leaves the other, which the id names again */
	assert_int_equal(rec_set_del(s, b.owner, T_TXT, rd2, 17), 0);
	assert_int_equal(rec_set_count(s), 1);
	assert_int_equal(rec_set_del(s, b.owner, T_TXT, rd2, 17), -ENOENT);
	assert_int_equal(rec_set_lookup(s, id, &e), 0);
	assert_memory_equal(e.rdata, rd1, 17);
	assert_int_equal(rec_set_add(s, &b), 0);
	assert_int_equal(rec_set_del(s, a.owner, T_TXT, rd1, 17), 0);
	assert_int_equal(rec_set_lookup(s, id, &e), 0);
	assert_memory_equal(e.rdata, rd2, 17);
	assert_int_equal(rec_set_del(s, b.owner, T_TXT, rd2, 17), 0);
	assert_int_equal(rec_set_count(s), 0);
	assert_int_equal(rec_set_lookup(s, id, &e), -ENOENT);
	assert_null(rec_set_free(s));
}

static void set_type_counts_and_ttl(void **state)
{
	pol_policy p;
	rec_set *s = NULL;
	pol_type_count tc[8];
	rec_rr rr[5];
	rec_entry e;
	uint32_t ttl = 0;
	size_t n;

	pol_policy_defaults(&p);
	assert_int_equal(rec_set_new(APEX, &p, &s), 0);
	make_rr(&rr[0], "www.example.", T_A, 300, "192.0.2.1");
	make_rr(&rr[1], "www.example.", T_A, 600, "192.0.2.2");
	make_rr(&rr[2], "www.example.", T_AAAA, 300, "2001:db8::1");
	make_rr(&rr[3], "www.example.", T_TXT, 300, "\"t\"");
	make_rr(&rr[4], "other.example.", T_A, 300, "192.0.2.1");
	for (int i = 0; i < 5; i++)
		assert_int_equal(rec_set_add(s, &rr[i]), 0);

	n = types_at(s, "www.example.", tc, 8);
	assert_int_equal(n, 3);
	assert_int_equal(count_of(tc, n, T_A), 2);
	assert_int_equal(count_of(tc, n, T_AAAA), 1);
	assert_int_equal(count_of(tc, n, T_TXT), 1);
	/* the rules may ask in any case */
	n = types_at(s, "WWW.Example.", tc, 8);
	assert_int_equal(n, 3);
	assert_int_equal(count_of(tc, n, T_A), 2);
	/* max is honoured */
	assert_int_equal(types_at(s, "www.example.", tc, 2), 2);
	n = types_at(s, "other.example.", tc, 8);
	assert_int_equal(n, 1);
	assert_int_equal(tc[0].type, T_A);
	assert_int_equal(tc[0].count, 1);
	assert_int_equal(types_at(s, "none.example.", tc, 8), 0);
	assert_int_equal(types_at(s, "example.", tc, 8), 0);

	/* the RRset's TTL is the last one added; every record of it reports it */
	assert_true(rec_set_rrset_ttl(s, wire("www.example."), T_A, &ttl));
	assert_int_equal(ttl, 600);
	assert_true(rec_set_get(s, rec_rr_id(&rr[0]), &e));
	assert_int_equal(e.ttl, 600);
	/* re-adding a present record with another TTL changes the RRset's TTL too */
	rr[0].ttl = 60;
	assert_int_equal(rec_set_add(s, &rr[0]), 1);
	assert_true(rec_set_rrset_ttl(s, wire("www.example."), T_A, &ttl));
	assert_int_equal(ttl, 60);
	assert_true(rec_set_get(s, rec_rr_id(&rr[1]), &e));
	assert_int_equal(e.ttl, 60);
	/* ... but not that of other RRsets or names */
	assert_true(rec_set_rrset_ttl(s, wire("www.example."), T_AAAA, &ttl));
	assert_int_equal(ttl, 300);
	assert_true(rec_set_rrset_ttl(s, wire("other.example."), T_A, &ttl));
	assert_int_equal(ttl, 300);

	/* counts go down; the last record of a type takes the type away */
	assert_int_equal(rec_set_del(s, rr[0].owner, T_A, rr[0].rdata, rr[0].rdlen), 0);
	n = types_at(s, "www.example.", tc, 8);
	assert_int_equal(n, 3);
	assert_int_equal(count_of(tc, n, T_A), 1);
	assert_int_equal(rec_set_del(s, rr[2].owner, T_AAAA, rr[2].rdata, rr[2].rdlen), 0);
	n = types_at(s, "www.example.", tc, 8);
	assert_int_equal(n, 2);
	assert_int_equal(count_of(tc, n, T_AAAA), 0);
	assert_false(rec_set_rrset_ttl(s, wire("www.example."), T_AAAA, &ttl));

	/* the last record at a name takes the name away */
	assert_int_equal(rec_set_del(s, rr[1].owner, T_A, rr[1].rdata, rr[1].rdlen), 0);
	assert_int_equal(rec_set_del(s, rr[3].owner, T_TXT, rr[3].rdata, rr[3].rdlen), 0);
	assert_int_equal(types_at(s, "www.example.", tc, 8), 0);
	{
		rec_entry *list = NULL;
		size_t ln = 99;

		assert_int_equal(rec_set_list(s, wire("www.example."), 0, &list, &ln), 0);
		assert_int_equal(ln, 0);
		free(list);
	}
	assert_int_equal(rec_set_count(s), 1);
	assert_int_equal(types_at(s, "other.example.", tc, 8), 1);
	/* and a name can come back */
	rr[1].ttl = 120;
	assert_int_equal(rec_set_add(s, &rr[1]), 0);
	n = types_at(s, "www.example.", tc, 8);
	assert_int_equal(n, 1);
	assert_int_equal(count_of(tc, n, T_A), 1);
	assert_true(rec_set_rrset_ttl(s, wire("www.example."), T_A, &ttl));
	assert_int_equal(ttl, 120);

	for (int i = 0; i < 5; i++)
		rec_rr_clear(&rr[i]);
	rec_set_free(s);
}

static void set_list_is_canonical_and_filtered(void **state)
{
	static const struct {
		const char *owner;
		uint16_t type;
		const char *content;
	} in[] = {
		{ "z.example.", T_A, "192.0.2.1" },
		{ "a.example.", T_TXT, "\"b\"" },
		{ "a.example.", T_A, "192.0.2.10" },
		{ "b.a.example.", T_A, "192.0.2.1" },
		{ "example.", T_MX, "10 mail" },
		{ "a.example.", T_A, "192.0.2.2" },
		{ "*.example.", T_TXT, "\"w\"" },
		{ "aa.example.", T_AAAA, "2001:db8::1" },
		{ "a.example.", T_TXT, "\"aa\"" },
		{ "a.example.", T_A, "192.0.2.1" },
		{ "a.example.", T_MX, "5 mx" },
		{ "example.", T_A, "192.0.2.5" },
	};
	/* expected order (indexes into in[]): owners canonically, then type, then RDATA as
	 * octets ("b" is \1b, before "aa" = \2aa; .2 before .10) */
	static const int want[] = { 11, 4, 6, 9, 5, 2, 10, 1, 8, 3, 7, 0 };
	pol_policy p;
	rec_set *s = NULL;
	rec_rr rr[12];
	rec_entry *list = NULL;
	size_t n = 0;

	pol_policy_defaults(&p);
	assert_int_equal(rec_set_new(APEX, &p, &s), 0);
	for (int i = 0; i < 12; i++) {
		make_rr(&rr[i], in[i].owner, in[i].type, 300, in[i].content);
		assert_int_equal(rec_set_add(s, &rr[i]), 0);
	}
	assert_int_equal(rec_set_list(s, NULL, 0, &list, &n), 0);
	assert_int_equal(n, 12);
	for (int i = 0; i < 12; i++) {
		const rec_rr *w = &rr[want[i]];

		if (list[i].id != rec_rr_id(w))
			fail_msg("position %d: expected %s type %u %s", i, in[want[i]].owner,
				 in[want[i]].type, in[want[i]].content);
		assert_true(dn_equal(list[i].owner, w->owner));
		assert_int_equal(list[i].type, w->type);
		assert_int_equal(list[i].rdlen, w->rdlen);
		assert_memory_equal(list[i].rdata, w->rdata, w->rdlen);
		assert_int_equal(list[i].ttl, 300);
	}
	free(list);

	/* copies, sorted apart (the API's listing, on a worker): the same order */
	{
		rec_rr *copy = NULL;
		size_t nc = 0;

		assert_int_equal(rec_set_copy(s, NULL, 0, &copy, &nc), 0);
		assert_int_equal(nc, 12);
		rec_rrs_sort(copy, nc);
		for (int i = 0; i < 12; i++) {
			const rec_rr *w = &rr[want[i]];

			assert_int_equal(rec_rr_id(&copy[i]), rec_rr_id(w));
			assert_int_equal(copy[i].ttl, 300);
			assert_memory_equal(copy[i].rdata, w->rdata, w->rdlen);
		}
		rec_rrs_free(copy, nc);
		assert_int_equal(rec_set_copy(s, wire("a.example."), T_TXT, &copy, &nc), 0);
		assert_int_equal(nc, 2);
		rec_rrs_free(copy, nc);
		assert_int_equal(rec_set_copy(s, wire("nowhere.example."), 0, &copy, &nc), 0);
		assert_int_equal(nc, 0);
		rec_rrs_sort(copy, nc); /* nothing to sort: no call with a NULL array */
		rec_rrs_free(copy, nc);
	}

	/* by owner */
	assert_int_equal(rec_set_list(s, wire("a.example."), 0, &list, &n), 0);
	assert_int_equal(n, 6);
	for (int i = 0; i < 6; i++)
		assert_true(list[i].id == rec_rr_id(&rr[want[3 + i]]));
	free(list);
	/* by type */
	assert_int_equal(rec_set_list(s, NULL, T_A, &list, &n), 0);
	assert_int_equal(n, 6);
	{
		static const int want_a[] = { 11, 9, 5, 2, 3, 0 };

		for (int i = 0; i < 6; i++)
			assert_true(list[i].id == rec_rr_id(&rr[want_a[i]]));
	}
	free(list);
	/* both */
	assert_int_equal(rec_set_list(s, wire("a.example."), T_TXT, &list, &n), 0);
	assert_int_equal(n, 2);
	assert_true(list[0].id == rec_rr_id(&rr[1]));
	assert_true(list[1].id == rec_rr_id(&rr[8]));
	free(list);
	/* nothing */
	assert_int_equal(rec_set_list(s, wire("a.example."), T_AAAA, &list, &n), 0);
	assert_int_equal(n, 0);
	free(list);
	list = NULL;
	assert_int_equal(rec_set_list(s, wire("nope.example."), 0, &list, &n), 0);
	assert_int_equal(n, 0);
	free(list);
	list = NULL;
	assert_int_equal(rec_set_list(s, wire("b.example."), 0, &list, &n), 0);
	assert_int_equal(n, 0);
	free(list);

	for (int i = 0; i < 12; i++)
		rec_rr_clear(&rr[i]);
	rec_set_free(s);
}

/* xorshift64*: deterministic, so a failure can be replayed */
static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t rng(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dull;
}

#define MANY 20000
#define MANY_OWNERS 4000 /* 5 records each */

static void many_rr(size_t i, uint8_t rd[4], rec_rr *rr)
{
	char owner[64];

	snprintf(owner, sizeof(owner), "h%zu.example.", i % MANY_OWNERS);
	rd[0] = 10;
	rd[1] = (uint8_t) (i >> 16);
	rd[2] = (uint8_t) (i >> 8);
	rd[3] = (uint8_t) i;
	*rr = raw_rr(owner, T_A, (uint32_t) (i % 7) + 60, rd, 4);
}

static void check_many(const rec_set *s, const bool *present, size_t expect)
{
	unsigned per_owner[MANY_OWNERS] = { 0 };
	pol_type_count tc[4];

	assert_int_equal(rec_set_count(s), expect);
	for (size_t i = 0; i < MANY; i++) {
		uint8_t rd[4];
		rec_rr rr;
		rec_entry e;
		bool got;

		many_rr(i, rd, &rr);
		got = rec_set_get(s, rec_rr_id(&rr), &e);
		if (got != present[i])
			fail_msg("record %zu: get() says %d, expected %d", i, got, present[i]);
		if (got) {
			assert_int_equal(e.rdlen, 4);
			assert_memory_equal(e.rdata, rd, 4);
			assert_true(dn_equal(e.owner, rr.owner));
			per_owner[i % MANY_OWNERS]++;
		}
	}
	for (size_t o = 0; o < MANY_OWNERS; o++) {
		char owner[64];
		size_t n;

		snprintf(owner, sizeof(owner), "h%zu.example.", o);
		n = types_at(s, owner, tc, 4);
		if (per_owner[o]) {
			assert_int_equal(n, 1);
			assert_int_equal(tc[0].count, per_owner[o]);
		} else {
			assert_int_equal(n, 0);
		}
	}
}

static void set_many_random_inserts_and_deletes(void **state)
{
	pol_policy p;
	rec_set *s = NULL;
	size_t *order = malloc(MANY * sizeof(*order));
	bool *present = calloc(MANY, sizeof(*present));
	size_t count = 0;

	assert_non_null(order);
	assert_non_null(present);
	pol_policy_defaults(&p);
	assert_int_equal(rec_set_new(APEX, &p, &s), 0);

	/* inserts in random order */
	for (size_t i = 0; i < MANY; i++)
		order[i] = i;
	for (size_t i = MANY - 1; i > 0; i--) {
		size_t k = (size_t) (rng() % (i + 1)), t = order[i];

		order[i] = order[k];
		order[k] = t;
	}
	for (size_t i = 0; i < MANY; i++) {
		uint8_t rd[4];
		rec_rr rr;

		many_rr(order[i], rd, &rr);
		assert_int_equal(rec_set_add(s, &rr), 0);
		present[order[i]] = true;
		count++;
	}
	check_many(s, present, count);

	/* then a random mix of deletes and re-inserts, checked every so often */
	for (size_t step = 1; step <= 3 * MANY; step++) {
		size_t i = (size_t) (rng() % MANY);
		uint8_t rd[4];
		rec_rr rr;

		many_rr(i, rd, &rr);
		/* mostly deletes, so whole probe chains and owners empty out */
		if (present[i]) {
			assert_int_equal(rec_set_del(s, rr.owner, rr.type, rd, 4), 0);
			present[i] = false;
			count--;
		} else if (rng() % 4 == 0) {
			assert_int_equal(rec_set_add(s, &rr), 0);
			present[i] = true;
			count++;
		} else {
			assert_int_equal(rec_set_del(s, rr.owner, rr.type, rd, 4), -ENOENT);
		}
		if (step % 6000 == 0)
			check_many(s, present, count);
	}
	check_many(s, present, count);

	/* everything out, in random order */
	for (size_t i = 0; i < MANY; i++) {
		uint8_t rd[4];
		rec_rr rr;

		if (!present[order[i]])
			continue;
		many_rr(order[i], rd, &rr);
		assert_int_equal(rec_set_del(s, rr.owner, rr.type, rd, 4), 0);
		present[order[i]] = false;
		count--;
		if (count == MANY / 10)
			check_many(s, present, count);
	}
	check_many(s, present, 0);
	{
		rec_entry *list = NULL;
		size_t n = 99;

		assert_int_equal(rec_set_list(s, NULL, 0, &list, &n), 0);
		assert_int_equal(n, 0);
		free(list);
	}
	rec_set_free(s);
	free(order);
	free(present);
}

static void system_records(void **state)
{
	char ns1[] = "ns1.platform.net.", ns2[] = "ns2.platform.net.";
	char *ns[] = { ns1, ns2 };
	pol_policy p;
	rec_rr plat, plat_upper, other, a;
	const uint8_t *apex = APEX;

	pol_policy_defaults(&p);
	p.nameservers = ns;
	p.n_nameservers = 2;
	make_rr(&plat, "example.", T_NS, 300, "ns2.platform.net.");
	make_rr(&plat_upper, "example.", T_NS, 300, "NS1.Platform.NET.");
	make_rr(&other, "example.", T_NS, 300, "ns.other.example.net.");
	make_rr(&a, "example.", T_A, 300, "192.0.2.1");

	assert_true(rec_is_system(apex, &p, wire("example."), T_SOA, NULL, 0));
	assert_true(rec_is_system(apex, &p, wire("sub.example."), T_SOA, NULL, 0));
	assert_true(rec_is_system(apex, &p, wire("example."), T_DNSKEY, NULL, 0));
	assert_true(rec_is_system(apex, &p, wire("example."), T_CDS, NULL, 0));
	assert_true(rec_is_system(apex, &p, wire("example."), T_CDNSKEY, NULL, 0));
	assert_true(rec_is_system(apex, &p, wire("example."), T_NSEC3PARAM, NULL, 0));
	assert_true(rec_is_system(apex, &p, wire("x.example."), T_RRSIG, NULL, 0));
	assert_true(rec_is_system(apex, &p, wire("x.example."), T_NSEC, NULL, 0));
	/* DS at a delegation is the user's */
	assert_false(rec_is_system(apex, &p, wire("sub.example."), T_DS,
				   (const uint8_t *) "\0\1\2\3", 4));

	assert_true(rec_is_system(apex, &p, plat.owner, T_NS, plat.rdata, plat.rdlen));
	assert_true(rec_is_system(apex, &p, plat_upper.owner, T_NS, plat_upper.rdata,
				  plat_upper.rdlen));
	assert_false(rec_is_system(apex, &p, other.owner, T_NS, other.rdata, other.rdlen));
	assert_false(rec_is_system(apex, &p, a.owner, T_A, a.rdata, a.rdlen));
	/* a platform name below the apex is a delegation the user made */
	assert_false(rec_is_system(apex, &p, wire("sub.example."), T_NS, plat.rdata,
				   plat.rdlen));
	/* without platform nameservers no NS is the system's */
	p.n_nameservers = 0;
	assert_false(rec_is_system(apex, &p, plat.owner, T_NS, plat.rdata, plat.rdlen));
	p.n_nameservers = 2;

	/* a zone's user records are the rest */
	{
		const char *text =
			"$TTL 3600\n"
			"@ SOA ns1.platform.net. host 5 1h 15m 1w 5m\n"
			"@ NS ns1.platform.net.\n"
			"@ NS NS2.PLATFORM.NET.\n"
			"@ NS ns.other.example.net.\n"
			"@ A 192.0.2.1\n"
			"www 300 A 192.0.2.2\n"
			"sub NS ns1.platform.net.\n";
		sgn_load_opts lo = { .mode = SGN_LOAD_UNSIGNED };
		sgn_zone *z = NULL;
		rec_set *s = NULL;
		rec_entry *list = NULL;
		zk_error err = { 0 };
		size_t n = 0;

		assert_int_equal(sgn_zone_load_buffer(text, strlen(text), "t.zone", apex, &lo, &z,
						      &err), 0);
		assert_int_equal(rec_set_from_zone(z, &p, &s), 0);
		assert_int_equal(rec_set_count(s), 4);
		assert_true(rec_set_get(s, rec_rr_id(&other), NULL));
		assert_true(rec_set_get(s, rec_rr_id(&a), NULL));
		assert_false(rec_set_get(s, rec_rr_id(&plat), NULL));
		assert_false(rec_set_get(s, rec_rr_id(&plat_upper), NULL));
		assert_int_equal(rec_set_list(s, NULL, T_NS, &list, &n), 0);
		assert_int_equal(n, 2);
		assert_true(list[0].id == rec_rr_id(&other));
		assert_true(dn_equal(list[1].owner, wire("sub.example.")));
		assert_int_equal(list[1].ttl, 3600);
		free(list);
		assert_int_equal(rec_set_list(s, wire("www.example."), 0, &list, &n), 0);
		assert_int_equal(n, 1);
		assert_int_equal(list[0].ttl, 300);
		free(list);
		rec_set_free(s);
		sgn_zone_free(z);
	}
	rec_rr_clear(&plat);
	rec_rr_clear(&plat_upper);
	rec_rr_clear(&other);
	rec_rr_clear(&a);
}

/* ---------------------------------------------------------------- rec_apply */

#define ZONE "$TTL 3600\n" \
	     "@ SOA ns1 host 5 1h 15m 1w 5m\n" \
	     "@ NS ns1\n" \
	     "ns1 A 192.0.2.53\n" \
	     "www 300 A 192.0.2.1\n" \
	     "www 300 A 192.0.2.3\n" \
	     "txt TXT \"only\"\n" \
	     "alias CNAME www\n"

static sgn_zone *load_zone(const char *text)
{
	sgn_load_opts lo = { .mode = SGN_LOAD_UNSIGNED };
	sgn_zone *z = NULL;
	zk_error err = { 0 };
	int r = sgn_zone_load_buffer(text, strlen(text), "t.zone", APEX, &lo, &z, &err);

	if (r < 0)
		print_message("%s:%u: %s\n", err.file, err.line, err.message);
	assert_int_equal(r, 0);
	return z;
}

static rec_op op(rec_op_kind kind, uint64_t seq, const char *owner, uint16_t type,
		 uint32_t ttl, const char *content)
{
	rec_op o = { .seq = seq, .kind = kind };

	make_rr(&o.rr, owner, type, ttl, content);
	return o;
}

static const sgn_rrset *rrset(const sgn_zone *z, const char *owner, uint16_t type)
{
	const sgn_node *n = sgn_zone_find(z, wire(owner));

	return n ? sgn_node_rrset(n, type) : NULL;
}

/* The RRset's blob is `count` A records with these last octets, in this order. */
static void assert_a_rrset(const sgn_rrset *s, uint32_t ttl, size_t count, const uint8_t *last)
{
	const uint8_t *p;

	assert_non_null(s);
	assert_int_equal(s->count, count);
	assert_int_equal(s->ttl, ttl);
	assert_int_equal(s->rdata_len, count * 6);
	p = s->rdata;
	for (size_t i = 0; i < count; i++, p += 6) {
		assert_int_equal(blob_len(p), 4);
		assert_memory_equal(p + 2, "\xc0\x00\x02", 3);
		assert_int_equal(p[5], last[i]);
	}
}

static void apply_add_del(void **state)
{
	sgn_zone *z = load_zone(ZONE);
	size_t nodes = z->n_nodes;
	rec_op ops[3];

	/* into an existing RRset: canonical order, one more record */
	ops[0] = op(REC_OP_ADD, 1, "www.example.", T_A, 300, "192.0.2.2");
	assert_int_equal(rec_apply(z, NULL, ops, 1, NULL), 1);
	assert_a_rrset(rrset(z, "www.example.", T_A), 300, 3, (const uint8_t *) "\1\2\3");
	/* again: nothing changes */
	assert_int_equal(rec_apply(z, NULL, ops, 1, NULL), 0);
	assert_a_rrset(rrset(z, "www.example.", T_A), 300, 3, (const uint8_t *) "\1\2\3");
	/* before the first and after the last */
	ops[1] = op(REC_OP_ADD, 2, "www.example.", T_A, 300, "192.0.2.0");
	ops[2] = op(REC_OP_ADD, 2, "www.example.", T_A, 300, "192.0.2.200");
	assert_int_equal(rec_apply(z, NULL, ops + 1, 2, NULL), 2);
	assert_a_rrset(rrset(z, "www.example.", T_A), 300, 5,
		       (const uint8_t *) "\0\1\2\3\xc8");
	for (int i = 0; i < 3; i++)
		ops[i].kind = REC_OP_DEL;
	assert_int_equal(rec_apply(z, NULL, ops + 1, 2, NULL), 2);
	assert_a_rrset(rrset(z, "www.example.", T_A), 300, 3, (const uint8_t *) "\1\2\3");
	rec_rr_clear(&ops[1].rr);
	rec_rr_clear(&ops[2].rr);

	/* a new TTL: the RRset takes it, without a new record */
	ops[0].kind = REC_OP_ADD;
	ops[0].rr.ttl = 900;
	assert_int_equal(rec_apply(z, NULL, ops, 1, NULL), 1);
	assert_a_rrset(rrset(z, "www.example.", T_A), 900, 3, (const uint8_t *) "\1\2\3");

	/* DEL takes it out (the TTL of a DEL does not matter) */
	ops[0].kind = REC_OP_DEL;
	ops[0].rr.ttl = 1;
	assert_int_equal(rec_apply(z, NULL, ops, 1, NULL), 1);
	assert_a_rrset(rrset(z, "www.example.", T_A), 900, 2, (const uint8_t *) "\1\3");
	/* DEL of an absent record, type or name: nothing */
	assert_int_equal(rec_apply(z, NULL, ops, 1, NULL), 0);
	rec_rr_clear(&ops[0].rr);
	ops[0] = op(REC_OP_DEL, 3, "www.example.", T_AAAA, 300, "2001:db8::1");
	ops[1] = op(REC_OP_DEL, 3, "nowhere.example.", T_A, 300, "192.0.2.1");
	ops[2] = op(REC_OP_DEL, 3, "www.example.", T_A, 300, "192.0.2.99");
	assert_int_equal(rec_apply(z, NULL, ops, 3, NULL), 0);
	assert_a_rrset(rrset(z, "www.example.", T_A), 900, 2, (const uint8_t *) "\1\3");
	assert_null(sgn_zone_find(z, wire("nowhere.example.")));
	assert_null(rrset(z, "www.example.", T_AAAA));
	assert_int_equal(z->n_nodes, nodes);
	for (int i = 0; i < 3; i++)
		rec_rr_clear(&ops[i].rr);

	/* an update is DEL + ADD under one seq */
	ops[0] = op(REC_OP_DEL, 4, "www.example.", T_A, 900, "192.0.2.3");
	ops[1] = op(REC_OP_ADD, 4, "www.example.", T_A, 900, "192.0.2.4");
	assert_int_equal(rec_apply(z, NULL, ops, 2, NULL), 2);
	assert_a_rrset(rrset(z, "www.example.", T_A), 900, 2, (const uint8_t *) "\1\4");
	rec_rr_clear(&ops[0].rr);
	rec_rr_clear(&ops[1].rr);

	/* a new type at an existing name */
	ops[0] = op(REC_OP_ADD, 5, "www.example.", T_AAAA, 120, "2001:db8::1");
	assert_int_equal(rec_apply(z, NULL, ops, 1, NULL), 1);
	assert_non_null(rrset(z, "www.example.", T_AAAA));
	assert_int_equal(rrset(z, "www.example.", T_AAAA)->ttl, 120);
	assert_int_equal(rrset(z, "www.example.", T_AAAA)->count, 1);
	assert_a_rrset(rrset(z, "www.example.", T_A), 900, 2, (const uint8_t *) "\1\4");
	rec_rr_clear(&ops[0].rr);

	/* other names are untouched */
	assert_a_rrset(rrset(z, "ns1.example.", T_A), 3600, 1, (const uint8_t *) "\x35");
	assert_int_equal(z->n_nodes, nodes);
	sgn_zone_free(z);
}

static void apply_cname_conflicts_are_skipped(void **state)
{
	sgn_zone *z = load_zone(ZONE);
	diag_log log = { 0 };
	zk_diag diag = { .emit = log_emit, .userdata = &log };
	const sgn_rrset *cn;
	rec_op ops[2];

	/* CNAME beside data */
	ops[0] = op(REC_OP_ADD, 7, "www.example.", T_CNAME, 300, "elsewhere");
	assert_int_equal(rec_apply(z, NULL, ops, 1, &diag), 0);
	assert_null(rrset(z, "www.example.", T_CNAME));
	assert_a_rrset(rrset(z, "www.example.", T_A), 300, 2, (const uint8_t *) "\1\3");
	assert_int_equal(log.warnings, 1);
	assert_non_null(strstr(log.last, "www.example."));
	assert_non_null(strstr(log.last, "7"));
	rec_rr_clear(&ops[0].rr);

	/* data beside a CNAME */
	ops[0] = op(REC_OP_ADD, 8, "alias.example.", T_A, 300, "192.0.2.9");
	assert_int_equal(rec_apply(z, NULL, ops, 1, &diag), 0);
	assert_null(rrset(z, "alias.example.", T_A));
	assert_int_equal(log.warnings, 2);
	rec_rr_clear(&ops[0].rr);

	/* a second CNAME beside the first: a CNAME RRset holds one record (RFC 2181 §10.1) */
	ops[0] = op(REC_OP_ADD, 9, "alias.example.", T_CNAME, 300, "txt");
	assert_int_equal(rec_apply(z, NULL, ops, 1, &diag), 0);
	cn = rrset(z, "alias.example.", T_CNAME);
	assert_non_null(cn);
	assert_int_equal(cn->count, 1);
	assert_int_equal(log.warnings, 3);
	rec_rr_clear(&ops[0].rr);

	/* the same CNAME again is no conflict, and a TTL change of it goes through */
	ops[0] = op(REC_OP_ADD, 10, "alias.example.", T_CNAME, 60, "www");
	assert_int_equal(rec_apply(z, NULL, ops, 1, &diag), 1);
	assert_int_equal(rrset(z, "alias.example.", T_CNAME)->ttl, 60);
	assert_int_equal(log.warnings, 3);
	rec_rr_clear(&ops[0].rr);

	/* changing a CNAME's target in one write (DEL first, then ADD) is fine */
	ops[0] = op(REC_OP_DEL, 11, "alias.example.", T_CNAME, 60, "www");
	ops[1] = op(REC_OP_ADD, 11, "alias.example.", T_CNAME, 60, "ns1");
	assert_int_equal(rec_apply(z, NULL, ops, 2, &diag), 2);
	cn = rrset(z, "alias.example.", T_CNAME);
	assert_non_null(cn);
	assert_int_equal(cn->count, 1);
	assert_memory_equal(cn->rdata, "\0\015\3ns1\7example\0", 15);
	assert_int_equal(log.warnings, 3);
	rec_rr_clear(&ops[0].rr);
	rec_rr_clear(&ops[1].rr);

	/* a CNAME replacing the data in one write (DEL first, then ADD) is fine */
	ops[0] = op(REC_OP_DEL, 12, "txt.example.", T_TXT, 3600, "\"only\"");
	ops[1] = op(REC_OP_ADD, 12, "txt.example.", T_CNAME, 300, "www");
	assert_int_equal(rec_apply(z, NULL, ops, 2, &diag), 2);
	assert_null(rrset(z, "txt.example.", T_TXT));
	assert_non_null(rrset(z, "txt.example.", T_CNAME));
	assert_int_equal(log.warnings, 3);
	rec_rr_clear(&ops[0].rr);
	rec_rr_clear(&ops[1].rr);
	sgn_zone_free(z);
}

/*
 * With the policy, a replayed write the rules now refuse on the name as it is (a file edit
 * raced with it) is skipped, so the zone stays publishable: a DS left without NS, an
 * RRset over the size limit, an apex NS over the count limit.
 */
static void apply_skips_what_the_name_rules_refuse(void **state)
{
	static char ns1[] = "ns1.example.";
	static char *nameservers[] = { ns1 };
	sgn_zone *z = load_zone(ZONE "sub NS ns.elsewhere.\nsub DS 1 13 2 "
			       "E2D3C916F6DEEAC73294E8268FB5885044A833FC5459588F4A9184CFC41A5766\n");
	diag_log log = { 0 };
	zk_diag diag = { .emit = log_emit, .userdata = &log };
	pol_policy p;
	rec_op ops[1];
	char big[300];
	uint32_t i;

	pol_policy_defaults(&p);
	p.nameservers = nameservers;
	p.n_nameservers = 1;

	/* the last NS of a delegation that has a DS */
	ops[0] = op(REC_OP_DEL, 1, "sub.example.", T_NS, 3600, "ns.elsewhere.");
	assert_int_equal(rec_apply(z, &p, ops, 1, &diag), 0);
	assert_non_null(rrset(z, "sub.example.", T_NS));
	assert_int_equal(log.warnings, 1);
	assert_non_null(strstr(log.last, "API change 1 skipped"));
	assert_non_null(strstr(log.last, "no NS records"));
	rec_rr_clear(&ops[0].rr);

	/* a TXT RRset grows to the limit, then the next record is skipped */
	memset(big, 'x', 250);
	big[0] = '"';
	big[249] = '"';
	big[250] = '\0';
	for (i = 0; log.warnings == 1 && i < 1000; i++) {
		int n = snprintf(big + 1, 6, "%05u", i);

		big[1 + n] = 'x';
		ops[0] = op(REC_OP_ADD, 2 + i, "big.example.", T_TXT, 300, big);
		(void) rec_apply(z, &p, ops, 1, &diag);
		rec_rr_clear(&ops[0].rr);
	}
	assert_int_equal(log.warnings, 2);
	assert_non_null(strstr(log.last, "the limit is 60000"));
	/* 12 + 249 octets per record: 229 fit */
	assert_int_equal(rrset(z, "big.example.", T_TXT)->count, 60000 / (12 + 249));

	/* user apex NS: 16 besides the platform's, not 17 */
	for (i = 0; i < POL_APEX_NS_MAX + 1; i++) {
		char target[64];

		snprintf(target, sizeof(target), "ns.provider%u.example.net.", i);
		ops[0] = op(REC_OP_ADD, 2000 + i, "example.", T_NS, 3600, target);
		(void) rec_apply(z, &p, ops, 1, &diag);
		rec_rr_clear(&ops[0].rr);
	}
	assert_int_equal(rrset(z, "example.", T_NS)->count, 1 + POL_APEX_NS_MAX);
	assert_int_equal(log.warnings, 3);
	assert_non_null(strstr(log.last, "besides the platform's"));
	sgn_zone_free(z);
}

static void apply_structure(void **state)
{
	sgn_zone *z = load_zone(ZONE);
	size_t nodes = z->n_nodes;
	const sgn_node *n;
	rec_op ops[3];

	/* the last data at a name: the name goes */
	ops[0] = op(REC_OP_DEL, 1, "txt.example.", T_TXT, 3600, "\"only\"");
	assert_int_equal(rec_apply(z, NULL, ops, 1, NULL), 1);
	assert_null(sgn_zone_find(z, wire("txt.example.")));
	assert_int_equal(z->n_nodes, nodes - 1);
	rec_rr_clear(&ops[0].rr);

	/* a deep name: its empty non-terminals appear */
	ops[0] = op(REC_OP_ADD, 2, "a.b.c.example.", T_A, 300, "192.0.2.7");
	assert_int_equal(rec_apply(z, NULL, ops, 1, NULL), 1);
	assert_int_equal(z->n_nodes, nodes - 1 + 3);
	n = sgn_zone_find(z, wire("a.b.c.example."));
	assert_non_null(n);
	assert_int_equal(n->n_rrsets, 1);
	assert_false(n->flags & SGN_NODE_ENT);
	n = sgn_zone_find(z, wire("b.c.example."));
	assert_non_null(n);
	assert_true(n->flags & SGN_NODE_ENT);
	assert_int_equal(n->n_rrsets, 0);
	n = sgn_zone_find(z, wire("c.example."));
	assert_non_null(n);
	assert_true(n->flags & SGN_NODE_ENT);
	/* canonical order holds */
	for (size_t i = 1; i < z->n_nodes; i++)
		assert_true(dn_key_cmp(z->nodes[i - 1]->key, z->nodes[i - 1]->key_len,
				       z->nodes[i]->key, z->nodes[i]->key_len) < 0);
	assert_ptr_equal(z->apex_node, sgn_zone_find(z, wire("example.")));

	/* data at an empty non-terminal: no longer empty */
	ops[1] = op(REC_OP_ADD, 3, "c.example.", T_TXT, 300, "\"c\"");
	assert_int_equal(rec_apply(z, NULL, ops + 1, 1, NULL), 1);
	n = sgn_zone_find(z, wire("c.example."));
	assert_non_null(n);
	assert_false(n->flags & SGN_NODE_ENT);
	assert_int_equal(n->n_rrsets, 1);

	/* the deep name goes: b.c goes with it, c stays for its data */
	ops[0].kind = REC_OP_DEL;
	assert_int_equal(rec_apply(z, NULL, ops, 1, NULL), 1);
	assert_null(sgn_zone_find(z, wire("a.b.c.example.")));
	assert_null(sgn_zone_find(z, wire("b.c.example.")));
	assert_non_null(sgn_zone_find(z, wire("c.example.")));
	assert_int_equal(z->n_nodes, nodes);
	ops[1].kind = REC_OP_DEL;
	assert_int_equal(rec_apply(z, NULL, ops + 1, 1, NULL), 1);
	assert_null(sgn_zone_find(z, wire("c.example.")));
	assert_int_equal(z->n_nodes, nodes - 1);
	rec_rr_clear(&ops[0].rr);
	rec_rr_clear(&ops[1].rr);

	/* a delegation made through the API is a cut, its glue below it */
	ops[0] = op(REC_OP_ADD, 4, "sub.example.", T_NS, 300, "ns.sub");
	ops[1] = op(REC_OP_ADD, 4, "ns.sub.example.", T_A, 300, "192.0.2.8");
	assert_int_equal(rec_apply(z, NULL, ops, 2, NULL), 2);
	assert_true(sgn_zone_find(z, wire("sub.example."))->flags & SGN_NODE_DELEGATION);
	assert_true(sgn_zone_find(z, wire("ns.sub.example."))->flags & SGN_NODE_BELOW_CUT);
	/* and undone */
	ops[0].kind = REC_OP_DEL;
	assert_int_equal(rec_apply(z, NULL, ops, 1, NULL), 1);
	assert_false(sgn_zone_find(z, wire("ns.sub.example."))->flags & SGN_NODE_BELOW_CUT);
	n = sgn_zone_find(z, wire("sub.example."));
	assert_non_null(n);
	assert_true(n->flags & SGN_NODE_ENT);
	rec_rr_clear(&ops[0].rr);
	rec_rr_clear(&ops[1].rr);
	sgn_zone_free(z);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(id_depends_on_owner_type_rdata_not_ttl),
		cmocka_unit_test(id_format_parse_round_trip),
		cmocka_unit_test(body_valid),
		cmocka_unit_test(body_partial),
		cmocka_unit_test(body_missing_and_unknown_fields),
		cmocka_unit_test(body_wrong_types),
		cmocka_unit_test(body_ttl_range),
		cmocka_unit_test(body_not_an_object),
		cmocka_unit_test(body_nul_in_string_is_an_invalid_record),
		cmocka_unit_test(names),
		cmocka_unit_test(types),
		cmocka_unit_test(content_valid),
		cmocka_unit_test(content_invalid),
		cmocka_unit_test(rr_to_ldns),
		cmocka_unit_test(set_add_get_del),
		cmocka_unit_test(set_keeps_records_whose_ids_collide),
		cmocka_unit_test(set_type_counts_and_ttl),
		cmocka_unit_test(set_list_is_canonical_and_filtered),
		cmocka_unit_test(set_many_random_inserts_and_deletes),
		cmocka_unit_test(system_records),
		cmocka_unit_test(apply_add_del),
		cmocka_unit_test(apply_cname_conflicts_are_skipped),
		cmocka_unit_test(apply_skips_what_the_name_rules_refuse),
		cmocka_unit_test(apply_structure),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
