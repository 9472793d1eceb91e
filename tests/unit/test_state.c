/* SPDX-License-Identifier: MIT */
/*
 * tests/unit/test_state.c -- the per-zone state file (signer/state.c): what is stored comes
 * back (serial, signing time, NSEC3 salt, identity of the published file), the file is
 * private (0600), a missing file is an empty state, and a damaged one is an error naming
 * the file: never a guessed serial (invariant 4).
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

#include "policy/zk-error.h"
#include "policy/zk-file.h"
#include "signer/state.h"
#include "tests/unit/unit.h"

static char tmpdir[64];

static int setup(void **state)
{
	(void) state;
	return unit_tmpdir(tmpdir, sizeof(tmpdir), "state");
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

static const char *write_file(const char *name, const char *text)
{
	const char *path = path_in_tmp(name);
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
	return path;
}

/* A state full of recognisable values, to see that a failed load leaves it alone. */
static sgn_state sentinel(void)
{
	sgn_state st;

	memset(&st, 0xa5, sizeof(st));
	return st;
}

/* ---------------------------------------------------------------- round trips */

static void stored_state_loads_back_identically(void **state)
{
	const char *path = path_in_tmp("full");
	sgn_state st = { 0 }, back = sentinel();
	zk_error err = { 0 };

	(void) state;
	st.serial = (zk_serial) { .value = 2025011503, .set = true };
	st.signed_at = 1736942400;
	st.have_salt = true;
	st.salt_len = 8;
	memcpy(st.salt, "\xaa\xbb\xcc\xdd\x00\x01\xfe\xff", 8);
	st.output_size = 123456789012ull;
	st.output_mtime_ns = 1736942400123456789ll;
	assert_int_equal(sgn_state_store(path, &st, &err), 0);
	assert_int_equal(sgn_state_load(path, &back, &err), 0);
	assert_true(back.serial.set);
	assert_int_equal(back.serial.value, 2025011503);
	assert_int_equal(back.signed_at, 1736942400);
	assert_true(back.have_salt);
	assert_int_equal(back.salt_len, 8);
	assert_memory_equal(back.salt, st.salt, 8);
	assert_int_equal(back.output_size, 123456789012ull);
	assert_int_equal(back.output_mtime_ns, 1736942400123456789ll);
}

static void extreme_values_survive_the_round_trip(void **state)
{
	const char *path = path_in_tmp("extreme");
	sgn_state st = { 0 }, back = sentinel();

	(void) state;
	st.serial = (zk_serial) { .value = 0xffffffffu, .set = true };
	st.have_salt = true;
	st.salt_len = 255;
	for (int i = 0; i < 255; i++)
		st.salt[i] = (uint8_t) (255 - i);
	assert_int_equal(sgn_state_store(path, &st, NULL), 0);
	assert_int_equal(sgn_state_load(path, &back, NULL), 0);
	assert_int_equal(back.serial.value, 0xffffffffu);
	assert_int_equal(back.salt_len, 255);
	assert_memory_equal(back.salt, st.salt, 255);
	assert_int_equal(back.signed_at, 0);
	assert_int_equal(back.output_size, 0);
}

static void empty_salt_is_remembered_as_empty_not_absent(void **state)
{
	const char *path = path_in_tmp("empty-salt");
	sgn_state st = { 0 }, back = sentinel();

	(void) state;
	st.serial = (zk_serial) { .value = 5, .set = true };
	st.have_salt = true; /* RFC 9276: an empty salt is a salt */
	assert_int_equal(sgn_state_store(path, &st, NULL), 0);
	assert_int_equal(sgn_state_load(path, &back, NULL), 0);
	assert_true(back.have_salt);
	assert_int_equal(back.salt_len, 0);
}

static void state_without_salt_loads_without_salt(void **state)
{
	const char *path = path_in_tmp("no-salt");
	sgn_state st = { 0 }, back = sentinel();

	(void) state;
	st.serial = (zk_serial) { .value = 9, .set = true };
	assert_int_equal(sgn_state_store(path, &st, NULL), 0);
	assert_int_equal(sgn_state_load(path, &back, NULL), 0);
	assert_false(back.have_salt);
	assert_int_equal(back.serial.value, 9);
}

static void state_file_is_private(void **state)
{
	const char *path = path_in_tmp("mode");
	sgn_state st = { .serial = { .value = 1, .set = true } };
	struct stat sb;
	mode_t old = umask(0);

	(void) state;
	/* even with a permissive umask */
	assert_int_equal(sgn_state_store(path, &st, NULL), 0);
	umask(old);
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_mode & 07777, 0600);
}

static void storing_again_replaces_the_previous_state(void **state)
{
	const char *path = path_in_tmp("replace");
	sgn_state a = { .serial = { .value = 10, .set = true }, .have_salt = true, .salt_len = 1,
			.salt = { 0x42 } };
	sgn_state b = { .serial = { .value = 11, .set = true } }, back = sentinel();

	(void) state;
	assert_int_equal(sgn_state_store(path, &a, NULL), 0);
	assert_int_equal(sgn_state_store(path, &b, NULL), 0);
	assert_int_equal(sgn_state_load(path, &back, NULL), 0);
	assert_int_equal(back.serial.value, 11);
	assert_false(back.have_salt);
}

/* ---------------------------------------------------------------- missing and damaged */

static void missing_file_is_an_empty_state(void **state)
{
	sgn_state back = sentinel();
	zk_error err = { 0 };

	(void) state;
	assert_int_equal(sgn_state_load(path_in_tmp("does-not-exist"), &back, &err), 0);
	assert_false(back.serial.set);
	assert_int_equal(back.signed_at, 0);
	assert_false(back.have_salt);
	assert_int_equal(back.output_size, 0);
}

static void missing_directory_is_an_empty_state_too(void **state)
{
	sgn_state back = sentinel();

	(void) state;
	assert_int_equal(sgn_state_load(path_in_tmp("no-such-dir/state"), &back, NULL), 0);
	assert_false(back.serial.set);
}

/* Load `text` and expect a damaged-file error at `line`, with *ret untouched. */
static void expect_damaged(const char *name, const char *text, unsigned line)
{
	const char *path = write_file(name, text);
	sgn_state back = sentinel(), orig = sentinel();
	zk_error err = { 0 };
	int r = sgn_state_load(path, &back, &err);

	if (r != ZK_E_ZONE_CONTENT)
		print_message("'%s' loaded with %d\n", name, r);
	assert_int_equal(r, ZK_E_ZONE_CONTENT);
	assert_int_equal(err.code, ZK_E_ZONE_CONTENT);
	assert_string_equal(err.file, path);
	assert_int_equal(err.line, line);
	assert_non_null(strstr(err.message, "serial"));
	assert_memory_equal(&back, &orig, sizeof(back)); /* no guessed serial */
}

static void garbage_is_an_error_naming_the_file(void **state)
{
	(void) state;
	expect_damaged("garbage", "\x7f" "ELF\x01\x02 binary junk\n", 1);
	expect_damaged("words", "# zonekeeper zone state\nserial 5\nhello world\n", 3);
	/* blank lines count: the line number is the one an editor shows */
	expect_damaged("blank-lines", "serial 5\n\n\nhello\n", 4);
}

static void missing_serial_line_is_an_error(void **state)
{
	(void) state;
	expect_damaged("no-serial", "# zonekeeper zone state\nsigned-at 1736942400\n"
		       "output 10 20\nnsec3-salt aabb\n", 4);
	expect_damaged("empty", "", 0);
	expect_damaged("comment-only", "# nothing else\n", 1);
}

static void malformed_values_are_errors(void **state)
{
	(void) state;
	expect_damaged("serial-word", "serial five\n", 1);
	expect_damaged("serial-empty", "serial \n", 1);
	expect_damaged("serial-trailing", "serial 5x\n", 1);
	expect_damaged("serial-too-big", "serial 4294967296\n", 1);
	expect_damaged("serial-negative", "serial -1\n", 1);
	expect_damaged("signed-at-negative", "serial 5\nsigned-at -7\n", 2);
	expect_damaged("signed-at-word", "serial 5\nsigned-at soon\n", 2);
	expect_damaged("salt-odd-hex", "serial 5\nnsec3-salt abc\n", 2);
	expect_damaged("salt-not-hex", "serial 5\nnsec3-salt zz\n", 2);
	expect_damaged("output-short", "serial 5\noutput 12\n", 2);
}

/* A file cut short (a restored half, a NUL written over it) is refused, not half-read. */
static void cut_or_nul_damaged_file_is_refused(void **state)
{
	sgn_state st = { .serial = { .value = 784, .set = true }, .signed_at = 1736942400,
			 .output_size = 10, .output_mtime_ns = 20 };
	const char *path = path_in_tmp("cut");
	char *text;
	size_t len;

	(void) state;
	assert_int_equal(sgn_state_store(path, &st, NULL), 0);
	assert_int_equal(zk_file_read(path, 4096, &text, &len), 0);
	/* the serial line cut after "serial 78": no newline at the end */
	{
		char *cut = strstr(text, "serial 784");

		assert_non_null(cut);
		cut[strlen("serial 78")] = '\0';
		expect_damaged("cut-mid-line", text, 0);
		cut[strlen("serial 78")] = '4';
	}
	/* a NUL byte in place of the serial's last digit */
	{
		char *p = strstr(text, "serial 784") + strlen("serial 78");
		FILE *f = fopen(path_in_tmp("nul"), "w");

		*p = '\0';
		assert_non_null(f);
		assert_int_equal(fwrite(text, 1, len, f), len);
		fclose(f);
		{
			sgn_state back = sentinel(), orig = sentinel();
			zk_error err = { 0 };

			assert_int_equal(sgn_state_load(path_in_tmp("nul"), &back, &err),
					 ZK_E_ZONE_CONTENT);
			assert_memory_equal(&back, &orig, sizeof(back));
		}
		*p = '4';
	}
	/* one digit changed: the sum no longer matches */
	{
		char *p = strstr(text, "serial 784") + strlen("serial 7");

		*p = '1';
		expect_damaged("changed-digit", text, 0);
		*p = '8';
	}
	/* cut at a line boundary, losing the lines after the serial */
	{
		char *p = strstr(text, "serial 784\n") + strlen("serial 784\n");

		*p = '\0';
		expect_damaged("cut-at-line", text, 2);
	}
	free(text);
}

/* What earlier versions wrote (no sum line) still loads. */
static void state_of_earlier_versions_still_loads(void **state)
{
	const char *path = write_file("old", "# zonekeeper zone state: do not edit\nserial 77\n"
				      "signed-at 1736942400\noutput 10 20\nnsec3-salt -\n");
	sgn_state back = sentinel();

	(void) state;
	assert_int_equal(sgn_state_load(path, &back, NULL), 0);
	assert_int_equal(back.serial.value, 77);
	assert_int_equal(back.output_size, 10);
}

static void oversized_file_is_an_error_naming_the_file(void **state)
{
	char *text = malloc(10000);
	const char *path;
	sgn_state back = sentinel(), orig = sentinel();
	zk_error err = { 0 };

	(void) state;
	assert_non_null(text);
	memset(text, '#', 9999);
	text[9999] = '\0';
	memcpy(text, "serial 5\n", 9);
	path = write_file("huge", text);
	free(text);
	assert_true(sgn_state_load(path, &back, &err) < 0);
	assert_non_null(strstr(err.message, path));
	assert_memory_equal(&back, &orig, sizeof(back));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(stored_state_loads_back_identically),
		cmocka_unit_test(extreme_values_survive_the_round_trip),
		cmocka_unit_test(empty_salt_is_remembered_as_empty_not_absent),
		cmocka_unit_test(state_without_salt_loads_without_salt),
		cmocka_unit_test(state_file_is_private),
		cmocka_unit_test(storing_again_replaces_the_previous_state),
		cmocka_unit_test(missing_file_is_an_empty_state),
		cmocka_unit_test(missing_directory_is_an_empty_state_too),
		cmocka_unit_test(garbage_is_an_error_naming_the_file),
		cmocka_unit_test(missing_serial_line_is_an_error),
		cmocka_unit_test(malformed_values_are_errors),
		cmocka_unit_test(cut_or_nul_damaged_file_is_refused),
		cmocka_unit_test(state_of_earlier_versions_still_loads),
		cmocka_unit_test(oversized_file_is_an_error_naming_the_file),
	};

	return cmocka_run_group_tests_name("state", tests, setup, teardown);
}
