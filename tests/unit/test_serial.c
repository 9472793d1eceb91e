/* SPDX-License-Identifier: MIT */
/*
 * tests/unit/test_serial.c -- SOA serials (signer/serial.c): a table of scheme x (last,
 * input, now) -> next serial for sgn_serial_next (invariants 1-3): dateserial in
 * UTC with the borrow after the 99th change of a day, clock steps backwards, the calendar
 * catching up, month, year and leap-day boundaries; unixtime; increment across the wrap
 * (never 0); keep refusing stale input. And RFC 1982 comparison around the wrap and at the
 * undefined distance 2^31.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "policy/zk-error.h"
#include "policy/zk-time.h"
#include "signer/serial.h"

#define DATE POL_SERIAL_DATESERIAL
#define UNIX POL_SERIAL_UNIXTIME
#define INCR POL_SERIAL_INCREMENT
#define KEEP POL_SERIAL_KEEP

#define NONE { .set = false }
#define LAST(v) { .value = (v), .set = true }

static zk_time_t day(int y, int m, int d)
{
	return zk_time_utc(y, m, d, 12, 0, 0);
}

typedef struct row {
	const char *what;
	pol_serial scheme;
	zk_serial last;
	uint32_t input;
	bool have_input;
	zk_time_t now;
	uint32_t want;
} row;

static void check_rows(const row *rows, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const row *r = &rows[i];
		zk_error err = { 0 };
		uint32_t got = 0xdeadbeef;
		int ret = sgn_serial_next(r->scheme, r->last, r->input, r->have_input, r->now, &got,
					  &err);

		if (ret != 0 || got != r->want)
			print_message("row '%s': ret %d, got %u, want %u (%s)\n", r->what, ret, got,
				      r->want, err.message);
		assert_int_equal(ret, 0);
		assert_int_equal(got, r->want);
		/* Invariants 1, 2: strictly greater than the last one, never 0 */
		assert_int_not_equal(got, 0);
		if (r->last.set)
			assert_int_equal(sgn_serial_compare(got, r->last.value), SGN_SERIAL_GT);
	}
}

/* ---------------------------------------------------------------- dateserial */

static void dateserial_follows_the_utc_calendar_and_borrows_after_99(void **state)
{
	zk_time_t d15 = day(2025, 1, 15);
	const row rows[] = {
		{ "first serial of a zone", DATE, NONE, 0, false, d15, 2025011500 },
		{ "UTC, not local time, just before midnight", DATE, NONE, 0, false,
		  zk_time_utc(2025, 1, 15, 23, 59, 59), 2025011500 },
		{ "UTC midnight starts the next day", DATE, NONE, 0, false,
		  zk_time_utc(2025, 1, 16, 0, 0, 0), 2025011600 },
		{ "second change of the day", DATE, LAST(2025011500), 0, false, d15, 2025011501 },
		{ "98th -> 99th change", DATE, LAST(2025011598), 0, false, d15, 2025011599 },
		{ "100th change borrows from tomorrow", DATE, LAST(2025011599), 0, false, d15,
		  2025011600 },
		{ "serial already ahead of the calendar keeps counting", DATE, LAST(2025011649), 0,
		  false, d15, 2025011650 },
		{ "a new day after an ordinary one", DATE, LAST(2025011507), 0, false,
		  day(2025, 1, 16), 2025011600 },
		{ "calendar catching up with a borrowed serial", DATE, LAST(2025011649), 0, false,
		  day(2025, 1, 17), 2025011700 },
		{ "calendar still behind a borrowed serial", DATE, LAST(2025011649), 0, false,
		  day(2025, 1, 16), 2025011650 },
		{ "clock stepped back three days", DATE, LAST(2025011503), 0, false,
		  day(2025, 1, 12), 2025011504 },
		{ "clock stepped back a year", DATE, LAST(2025011503), 0, false, day(2024, 1, 15),
		  2025011504 },
		{ "month boundary", DATE, LAST(2025013107), 0, false, day(2025, 2, 1), 2025020100 },
		{ "borrow at the end of a month is arithmetic", DATE, LAST(2025013199), 0, false,
		  day(2025, 1, 31), 2025013200 },
		{ "and the next day re-syncs", DATE, LAST(2025013200), 0, false, day(2025, 2, 1),
		  2025020100 },
		{ "year boundary", DATE, LAST(2025123100), 0, false, day(2026, 1, 1), 2026010100 },
		{ "borrow on new year's eve", DATE, LAST(2025123199), 0, false, day(2025, 12, 31),
		  2025123200 },
		{ "new year re-syncs after the borrow", DATE, LAST(2025123200), 0, false,
		  day(2026, 1, 1), 2026010100 },
		{ "leap day", DATE, LAST(2028022800), 0, false, day(2028, 2, 29), 2028022900 },
		{ "day after the leap day", DATE, LAST(2028022900), 0, false, day(2028, 3, 1),
		  2028030100 },
		{ "no leap day in 2027", DATE, LAST(2027022800), 0, false, day(2027, 3, 1),
		  2027030100 },
		{ "no leap day in 2100", DATE, LAST(2100022800), 0, false, day(2100, 3, 1),
		  2100030100 },
		{ "leap day in 2000", DATE, NONE, 0, false, day(2000, 2, 29), 2000022900 },
		{ "first publication above an input serial of today", DATE, NONE, 2025011507, true,
		  d15, 2025011508 },
		{ "first publication above a small input serial", DATE, NONE, 42, true, d15,
		  2025011500 },
		{ "first publication above an input serial ahead of the calendar", DATE, NONE,
		  2030010100, true, d15, 2030010101 },
		{ "the input does not matter once something was published", DATE,
		  LAST(2025011400), 2030010100, true, d15, 2025011500 },
	};

	(void) state;
	check_rows(rows, sizeof(rows) / sizeof(rows[0]));
}

static void dateserial_ignores_the_local_time_zone(void **state)
{
	char *old = getenv("TZ") ? strdup(getenv("TZ")) : NULL;
	uint32_t got = 0;

	(void) state;
	/* UTC+14: 2025-01-15 11:00 UTC is already the 16th there */
	setenv("TZ", "Pacific/Kiritimati", 1);
	tzset();
	assert_int_equal(sgn_serial_next(DATE, (zk_serial) NONE, 0, false,
					 zk_time_utc(2025, 1, 15, 11, 0, 0), &got, NULL), 0);
	assert_int_equal(got, 2025011500);
	if (old)
		setenv("TZ", old, 1);
	else
		unsetenv("TZ");
	tzset();
	free(old);
}

static void dateserial_keeps_increasing_over_150_changes_in_a_day(void **state)
{
	zk_serial last = NONE;
	zk_time_t now = zk_time_utc(2025, 1, 15, 8, 0, 0);

	(void) state;
	for (unsigned i = 0; i < 150; i++) {
		uint32_t next = 0;

		assert_int_equal(sgn_serial_next(DATE, last, 0, false, now + i, &next, NULL), 0);
		if (last.set)
			assert_true(sgn_serial_gt(next, last.value));
		/* 2025011500 .. 2025011599, then tomorrow's numbers 2025011600 .. */
		assert_int_equal(next, 2025011500u + i);
		last = (zk_serial) LAST(next);
	}
	assert_int_equal(last.value, 2025011649);
	/* the next day continues above the borrowed numbers, the day after re-syncs */
	{
		uint32_t next = 0;

		assert_int_equal(sgn_serial_next(DATE, last, 0, false, day(2025, 1, 16), &next,
						 NULL), 0);
		assert_int_equal(next, 2025011650);
		assert_int_equal(sgn_serial_next(DATE, (zk_serial) LAST(next), 0, false,
						 day(2025, 1, 17), &next, NULL), 0);
		assert_int_equal(next, 2025011700);
	}
}

static void dateserial_never_goes_back_while_the_clock_wanders(void **state)
{
	/* a clock that jumps back and forth by days around a busy zone */
	static const int offsets_days[] = { 0, 0, -3, -3, 1, -1, 5, 2, -10, 6, 6, 7, 30, -30 };
	zk_time_t base = day(2025, 2, 26);
	zk_serial last = NONE;

	(void) state;
	for (size_t i = 0; i < sizeof(offsets_days) / sizeof(offsets_days[0]); i++) {
		for (int k = 0; k < 40; k++) {
			uint32_t next = 0;

			assert_int_equal(sgn_serial_next(DATE, last, 0, false,
							 base + offsets_days[i] * 86400, &next,
							 NULL), 0);
			if (last.set)
				assert_true(sgn_serial_gt(next, last.value));
			last = (zk_serial) LAST(next);
		}
	}
}

/* ---------------------------------------------------------------- unixtime */

static void unixtime_takes_the_clock_or_last_plus_one(void **state)
{
	zk_time_t now = zk_time_utc(2025, 6, 1, 0, 0, 0);
	uint32_t t = (uint32_t) now;
	const row rows[] = {
		{ "first serial", UNIX, NONE, 0, false, now, t },
		{ "later clock", UNIX, LAST(t - 100), 0, false, now, t },
		{ "clock stepped back", UNIX, LAST(t + 100), 0, false, now, t + 101 },
		{ "two changes in one second", UNIX, LAST(t), 0, false, now, t + 1 },
		{ "input serial above the clock before the first publication", UNIX, NONE,
		  t + 5000, true, now, t + 5001 },
		{ "input serial below the clock", UNIX, NONE, 1500000000, true, now, t },
		{ "a dateserial input is above today's clock (RFC 1982)", UNIX, NONE,
		  2025011500, true, now, 2025011501 },
	};

	(void) state;
	check_rows(rows, sizeof(rows) / sizeof(rows[0]));
}

/* ---------------------------------------------------------------- increment */

static void increment_adds_one_and_skips_zero(void **state)
{
	zk_time_t now = day(2025, 1, 15);
	const row rows[] = {
		{ "first serial without input", INCR, NONE, 0, false, now, 1 },
		{ "first serial above the input", INCR, NONE, 41, true, now, 42 },
		{ "first serial above an input at the top", INCR, NONE, 0xffffffffu, true, now, 1 },
		{ "plus one", INCR, LAST(41), 0, false, now, 42 },
		{ "across the sign bit", INCR, LAST(0x7fffffffu), 0, false, now, 0x80000000u },
		{ "wrap skips 0", INCR, LAST(0xffffffffu), 0, false, now, 1 },
		{ "the input does not matter once published", INCR, LAST(10), 500, true, now, 11 },
		{ "the clock does not matter", INCR, LAST(10), 0, false, 0, 11 },
	};

	(void) state;
	check_rows(rows, sizeof(rows) / sizeof(rows[0]));
}

static void no_scheme_ever_publishes_zero(void **state)
{
	static const pol_serial schemes[] = { DATE, UNIX, INCR };

	(void) state;
	for (size_t s = 0; s < 3; s++) {
		uint32_t got = 0;

		assert_int_equal(sgn_serial_next(schemes[s], (zk_serial) LAST(0xffffffffu), 0,
						 false, 0, &got, NULL), 0);
		assert_int_not_equal(got, 0);
		assert_int_equal(sgn_serial_compare(got, 0xffffffffu), SGN_SERIAL_GT);
		/* a clock at the epoch (unixtime would be 0) */
		assert_int_equal(sgn_serial_next(schemes[s], (zk_serial) NONE, 0, false, 0, &got,
						 NULL), 0);
		assert_int_not_equal(got, 0);
	}
}

/* ---------------------------------------------------------------- keep */

static void keep_publishes_a_greater_input_serial(void **state)
{
	zk_time_t now = day(2025, 1, 15);
	const row rows[] = {
		{ "first publication", KEEP, NONE, 7, true, now, 7 },
		{ "greater input", KEEP, LAST(42), 43, true, now, 43 },
		{ "greater across the wrap", KEEP, LAST(0xffffffffu), 5, true, now, 5 },
		{ "largest allowed step", KEEP, LAST(1), 0x80000000u, true, now, 0x80000000u },
	};

	(void) state;
	check_rows(rows, sizeof(rows) / sizeof(rows[0]));
}

static void keep_refuses_what_is_not_greater_and_leaves_the_result(void **state)
{
	static const struct {
		const char *what;
		zk_serial last;
		uint32_t input;
		bool have_input;
	} bad[] = {
		{ "stale", LAST(42), 41, true },
		{ "equal", LAST(42), 42, true },
		{ "no SOA in the input", LAST(42), 43, false },
		{ "no SOA and nothing published", NONE, 0, false },
		{ "distance 2^31 is undefined (RFC 1982)", LAST(1), 0x80000001u, true },
		{ "beyond 2^31 is lower", LAST(1), 0x90000000u, true },
		{ "serial 0 before anything was published", NONE, 0, true },
	};

	(void) state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		zk_error err = { 0 };
		uint32_t got = 0x12345678;
		int r = sgn_serial_next(KEEP, bad[i].last, bad[i].input, bad[i].have_input,
					day(2025, 1, 15), &got, &err);

		if (r != ZK_E_SERIAL_NOT_GREATER)
			print_message("case '%s' gave %d\n", bad[i].what, r);
		assert_int_equal(r, ZK_E_SERIAL_NOT_GREATER);
		assert_int_equal(got, 0x12345678); /* ret untouched on failure */
		assert_int_equal(err.code, ZK_E_SERIAL_NOT_GREATER);
		assert_true(strlen(err.message) > 0);
	}
}

static void keep_names_both_serials_when_refusing(void **state)
{
	zk_error err = { 0 };
	uint32_t got = 0;

	(void) state;
	assert_int_equal(sgn_serial_next(KEEP, (zk_serial) LAST(2025011503), 2025011402, true, 0,
					 &got, &err), ZK_E_SERIAL_NOT_GREATER);
	assert_non_null(strstr(err.message, "2025011402"));
	assert_non_null(strstr(err.message, "2025011503"));
}

/* ---------------------------------------------------------------- RFC 1982 */

static void comparison_follows_rfc1982_around_the_wrap(void **state)
{
	static const struct {
		uint32_t a, b;
		sgn_serial_cmp want;
	} v[] = {
		{ 1, 0, SGN_SERIAL_GT },
		{ 0, 1, SGN_SERIAL_LT },
		{ 7, 7, SGN_SERIAL_EQ },
		{ 0x80000000u, 0x7fffffffu, SGN_SERIAL_GT },
		{ 0x7fffffffu, 0x80000000u, SGN_SERIAL_LT },
		{ 0, 0xffffffffu, SGN_SERIAL_GT },
		{ 1, 0xffffffffu, SGN_SERIAL_GT },
		{ 0xffffffffu, 0, SGN_SERIAL_LT },
		{ 0x7fffffffu, 0, SGN_SERIAL_GT },       /* distance 2^31 - 1 */
		{ 0, 0x7fffffffu, SGN_SERIAL_LT },
		{ 0x80000000u, 0, SGN_SERIAL_UNDEFINED }, /* distance exactly 2^31 */
		{ 0, 0x80000000u, SGN_SERIAL_UNDEFINED },
		{ 0xffffffffu, 0x7fffffffu, SGN_SERIAL_UNDEFINED },
		{ 0x7fffffffu, 0xffffffffu, SGN_SERIAL_UNDEFINED },
		{ 0x80000001u, 0, SGN_SERIAL_LT },       /* more than 2^31 ahead is behind */
		{ 0, 0x80000001u, SGN_SERIAL_GT },
		{ 0xffffffffu, 0xfffffffeu, SGN_SERIAL_GT },
	};

	(void) state;
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		assert_int_equal(sgn_serial_compare(v[i].a, v[i].b), v[i].want);
		assert_int_equal(sgn_serial_gt(v[i].a, v[i].b), v[i].want == SGN_SERIAL_GT);
	}
}

static void undefined_distance_is_greater_in_neither_direction(void **state)
{
	(void) state;
	for (uint32_t a = 0; a < 0xf0000000u; a += 0x0f000001u) {
		uint32_t b = a + 0x80000000u;

		assert_false(sgn_serial_gt(a, b));
		assert_false(sgn_serial_gt(b, a));
		assert_int_equal(sgn_serial_compare(a, b), SGN_SERIAL_UNDEFINED);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(dateserial_follows_the_utc_calendar_and_borrows_after_99),
		cmocka_unit_test(dateserial_ignores_the_local_time_zone),
		cmocka_unit_test(dateserial_keeps_increasing_over_150_changes_in_a_day),
		cmocka_unit_test(dateserial_never_goes_back_while_the_clock_wanders),
		cmocka_unit_test(unixtime_takes_the_clock_or_last_plus_one),
		cmocka_unit_test(increment_adds_one_and_skips_zero),
		cmocka_unit_test(no_scheme_ever_publishes_zero),
		cmocka_unit_test(keep_publishes_a_greater_input_serial),
		cmocka_unit_test(keep_refuses_what_is_not_greater_and_leaves_the_result),
		cmocka_unit_test(keep_names_both_serials_when_refusing),
		cmocka_unit_test(comparison_follows_rfc1982_around_the_wrap),
		cmocka_unit_test(undefined_distance_is_greater_in_neither_direction),
	};

	return cmocka_run_group_tests_name("serial", tests, NULL, NULL);
}
