/* SPDX-License-Identifier: MIT */
/*
 * tests/unit/test_zk_error.c -- the error catalogue (policy/zk-error.c): every domain
 * code has a row with a name, an HTTP status and a text; -errno codes are INTERNAL/500;
 * zk_fail(), zk_fail_at(), zk_error_prefix(), zk_error_str() and zk_diag_emit() fill in
 * and format the detail as documented.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "policy/zk-error.h"

static void every_domain_code_has_a_complete_row(void **state)
{
	(void) state;
	for (int code = ZK_E_BASE; code < ZK_E_END; code++) {
		const char *name = zk_code_name(code);
		const char *text = zk_code_text(code);
		unsigned http = zk_code_http(code);

		assert_true(zk_code_is_domain(code));
		/* A missing row falls back to INTERNAL / 500 / "internal error". */
		assert_non_null(name);
		assert_string_not_equal(name, "INTERNAL");
		assert_non_null(text);
		assert_string_not_equal(text, "internal error");
		assert_true(strlen(text) > 0);
		assert_in_range(http, 400, 599);
	}
}

static void domain_code_names_are_unique_and_upper_case(void **state)
{
	(void) state;
	for (int a = ZK_E_BASE; a < ZK_E_END; a++) {
		for (const char *p = zk_code_name(a); *p; p++)
			assert_true((*p >= 'A' && *p <= 'Z') || *p == '_');
		for (int b = a + 1; b < ZK_E_END; b++)
			assert_string_not_equal(zk_code_name(a), zk_code_name(b));
	}
}

/* The API's error names and HTTP statuses are a contract (doc/api.md). */
static void spec_table_codes_map_to_their_api_names_and_statuses(void **state)
{
	static const struct {
		int code;
		const char *name;
		unsigned http;
	} rows[] = {
		{ ZK_E_PROTECTED_RECORD, "PROTECTED_RECORD", 403 },
		{ ZK_E_CNAME_CONFLICT, "CNAME_CONFLICT", 409 },
		{ ZK_E_OUT_OF_ZONE, "OUT_OF_ZONE", 400 },
		{ ZK_E_INVALID_RECORD, "INVALID_RECORD", 400 },
		{ ZK_E_ZONE_NOT_FOUND, "ZONE_NOT_FOUND", 404 },
		{ ZK_E_RECORD_NOT_FOUND, "RECORD_NOT_FOUND", 404 },
		{ ZK_E_UNAUTHORIZED, "UNAUTHORIZED", 401 },
		{ ZK_E_PAYLOAD_TOO_LARGE, "PAYLOAD_TOO_LARGE", 413 },
	};

	(void) state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		assert_string_equal(zk_code_name(rows[i].code), rows[i].name);
		assert_int_equal(zk_code_http(rows[i].code), rows[i].http);
	}
	assert_string_equal(zk_code_text(ZK_E_PROTECTED_RECORD),
			    "record managed by zonekeeper cannot be modified");
}

static void range_boundaries_are_exact(void **state)
{
	(void) state;
	assert_true(zk_code_is_domain(ZK_E_BASE));
	assert_true(zk_code_is_domain(ZK_E_END - 1));
	assert_false(zk_code_is_domain(ZK_E_BASE - 1));
	assert_false(zk_code_is_domain(ZK_E_END));
	assert_false(zk_code_is_domain(0));
	assert_false(zk_code_is_domain(-ENOENT));
	assert_false(zk_code_is_domain(-1));
	assert_true(ZK_E_END <= -501);
}

static void errno_codes_are_internal_500(void **state)
{
	static const int errs[] = { EPERM, ENOENT, EIO, ENOMEM, EACCES, ENOSPC, EINVAL };

	(void) state;
	for (size_t i = 0; i < sizeof(errs) / sizeof(errs[0]); i++) {
		assert_string_equal(zk_code_name(-errs[i]), "INTERNAL");
		assert_int_equal(zk_code_http(-errs[i]), 500);
		assert_string_equal(zk_code_text(-errs[i]), strerror(errs[i]));
	}
	/* Codes outside both ranges are not domain codes either. */
	assert_string_equal(zk_code_name(ZK_E_END), "INTERNAL");
	assert_int_equal(zk_code_http(ZK_E_END), 500);
	assert_string_equal(zk_code_name(0), "INTERNAL");
	assert_string_equal(zk_code_text(0), "internal error");
}

static void zk_fail_fills_detail_and_returns_code(void **state)
{
	zk_error e = { .file = "stale", .line = 99 };

	(void) state;
	assert_int_equal(zk_fail(&e, ZK_E_CNAME_CONFLICT, "%s has %d records", "www", 2),
			 ZK_E_CNAME_CONFLICT);
	assert_int_equal(e.code, ZK_E_CNAME_CONFLICT);
	assert_string_equal(e.message, "www has 2 records");
	/* zk_fail() has no location: a stale one must not survive. */
	assert_string_equal(e.file, "");
	assert_int_equal(e.line, 0);
}

static void zk_fail_without_detail_still_returns_code(void **state)
{
	(void) state;
	assert_int_equal(zk_fail(NULL, ZK_E_CONFIG, "ignored"), ZK_E_CONFIG);
	assert_int_equal(zk_fail_at(NULL, -ENOENT, "f", 3, "ignored"), -ENOENT);
}

static void zk_fail_appends_strerror_to_errno_codes(void **state)
{
	zk_error e = { 0 };
	char expect[600];

	(void) state;
	assert_int_equal(zk_fail(&e, -ENOENT, "cannot open '%s'", "/x"), -ENOENT);
	snprintf(expect, sizeof(expect), "cannot open '/x': %s", strerror(ENOENT));
	assert_string_equal(e.message, expect);

	assert_int_equal(zk_fail(&e, -EACCES, "%s", ""), -EACCES);
	assert_string_equal(e.message, strerror(EACCES));

	/* Domain codes get no strerror text. */
	zk_fail(&e, ZK_E_CONFIG, "bad");
	assert_string_equal(e.message, "bad");
}

static void zk_fail_at_records_file_and_line(void **state)
{
	zk_error e = { 0 };

	(void) state;
	assert_int_equal(zk_fail_at(&e, ZK_E_CONFIG, "/etc/zk.conf", 42, "rrsig_refresh: %s",
				    "too short"),
			 ZK_E_CONFIG);
	assert_int_equal(e.code, ZK_E_CONFIG);
	assert_string_equal(e.file, "/etc/zk.conf");
	assert_int_equal(e.line, 42);
	assert_string_equal(e.message, "rrsig_refresh: too short");

	zk_fail_at(&e, ZK_E_CONFIG, NULL, 0, "x");
	assert_string_equal(e.file, "");
}

static void long_messages_and_files_are_truncated_not_overflowed(void **state)
{
	char big[2048];
	zk_error e = { 0 };

	(void) state;
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	zk_fail_at(&e, ZK_E_CONFIG, big, 1, "%s", big);
	assert_int_equal(strlen(e.message), sizeof(e.message) - 1);
	assert_int_equal(strlen(e.file), sizeof(e.file) - 1);
}

static void prefix_adds_context_in_front(void **state)
{
	zk_error e = { 0 };

	(void) state;
	zk_fail(&e, ZK_E_KEY, "bad private key");
	zk_error_prefix(&e, "zone %s", "example.com.");
	assert_string_equal(e.message, "zone example.com.: bad private key");
	assert_int_equal(e.code, ZK_E_KEY);
	zk_error_prefix(NULL, "ignored"); /* NULL-safe */
}

static void error_str_formats_location_and_falls_back_to_code_text(void **state)
{
	zk_error e = { 0 };
	char buf[900];

	(void) state;
	zk_fail_at(&e, ZK_E_ZONE_PARSE, "example.com.zone", 7, "unknown type FOO");
	assert_string_equal(zk_error_str(&e, e.code, buf, sizeof(buf)),
			    "example.com.zone:7: unknown type FOO");

	zk_fail_at(&e, ZK_E_ZONE_PARSE, "example.com.zone", 0, "empty file");
	assert_string_equal(zk_error_str(&e, e.code, buf, sizeof(buf)),
			    "example.com.zone: empty file");

	zk_fail(&e, ZK_E_OUT_OF_ZONE, "www.example.org. is outside the zone");
	assert_string_equal(zk_error_str(&e, e.code, buf, sizeof(buf)),
			    "www.example.org. is outside the zone");

	assert_string_equal(zk_error_str(NULL, ZK_E_UNAUTHORIZED, buf, sizeof(buf)),
			    "missing or wrong credentials");
	memset(&e, 0, sizeof(e));
	assert_string_equal(zk_error_str(&e, -ENOENT, buf, sizeof(buf)), strerror(ENOENT));

	/* A small buffer truncates and stays terminated. */
	zk_fail(&e, ZK_E_CONFIG, "0123456789");
	assert_string_equal(zk_error_str(&e, e.code, buf, 5), "0123");
}

struct seen {
	unsigned calls;
	zk_level level;
	char file[64];
	unsigned line;
	char message[128];
};

static void record_diag(void *userdata, zk_level level, const char *file, unsigned line,
			const char *message)
{
	struct seen *s = userdata;

	s->calls++;
	s->level = level;
	snprintf(s->file, sizeof(s->file), "%s", file ? file : "(null)");
	s->line = line;
	snprintf(s->message, sizeof(s->message), "%s", message);
}

static void diag_emit_formats_and_forwards(void **state)
{
	struct seen s = { 0 };
	zk_diag d = { .emit = record_diag, .userdata = &s };

	(void) state;
	zk_diag_emit(&d, ZK_LOG_WARNING, "zk.conf", 12, "salt of %u bytes", 8u);
	assert_int_equal(s.calls, 1);
	assert_int_equal(s.level, ZK_LOG_WARNING);
	assert_string_equal(s.file, "zk.conf");
	assert_int_equal(s.line, 12);
	assert_string_equal(s.message, "salt of 8 bytes");
}

/* Dropped means dropped: not printed to stderr or stdout in their place. */
static void diag_emit_without_sink_drops_messages(void **state)
{
	struct seen s = { 0 };
	zk_diag no_sink = { .emit = NULL, .userdata = &s };
	FILE *cap = tmpfile();
	int saved[2];
	long written;

	(void) state;
	assert_non_null(cap);
	fflush(stdout);
	fflush(stderr);
	saved[0] = dup(STDOUT_FILENO);
	saved[1] = dup(STDERR_FILENO);
	assert_true(saved[0] >= 0 && saved[1] >= 0);
	assert_true(dup2(fileno(cap), STDOUT_FILENO) >= 0);
	assert_true(dup2(fileno(cap), STDERR_FILENO) >= 0);
	zk_diag_emit(NULL, ZK_LOG_ERR, "f", 1, "dropped");
	zk_diag_emit(&no_sink, ZK_LOG_ERR, "f", 1, "dropped %s", "too");
	fflush(stdout);
	fflush(stderr);
	written = lseek(fileno(cap), 0, SEEK_END);
	assert_true(dup2(saved[0], STDOUT_FILENO) >= 0);
	assert_true(dup2(saved[1], STDERR_FILENO) >= 0);
	close(saved[0]);
	close(saved[1]);
	fclose(cap);
	assert_int_equal(written, 0);
	assert_int_equal(s.calls, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(every_domain_code_has_a_complete_row),
		cmocka_unit_test(domain_code_names_are_unique_and_upper_case),
		cmocka_unit_test(spec_table_codes_map_to_their_api_names_and_statuses),
		cmocka_unit_test(range_boundaries_are_exact),
		cmocka_unit_test(errno_codes_are_internal_500),
		cmocka_unit_test(zk_fail_fills_detail_and_returns_code),
		cmocka_unit_test(zk_fail_without_detail_still_returns_code),
		cmocka_unit_test(zk_fail_appends_strerror_to_errno_codes),
		cmocka_unit_test(zk_fail_at_records_file_and_line),
		cmocka_unit_test(long_messages_and_files_are_truncated_not_overflowed),
		cmocka_unit_test(prefix_adds_context_in_front),
		cmocka_unit_test(error_str_formats_location_and_falls_back_to_code_text),
		cmocka_unit_test(diag_emit_formats_and_forwards),
		cmocka_unit_test(diag_emit_without_sink_drops_messages),
	};

	return cmocka_run_group_tests_name("zk_error", tests, NULL, NULL);
}
