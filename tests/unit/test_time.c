/* SPDX-License-Identifier: MIT */
/*
 * tests/unit/test_time.c -- durations, UTC calendar arithmetic, the 14-digit timestamps
 * of RRSIG and BIND key files, and the injectable clock (policy/zk-time.c). Expected
 * epoch values were checked with `date -u -d <instant> +%s`.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "policy/zk-time.h"

static void durations_take_every_suffix_and_bare_seconds(void **state)
{
	static const struct {
		const char *text;
		uint32_t seconds;
	} ok[] = {
		{ "0", 0 },
		{ "30", 30 },
		{ "30s", 30 },
		{ "5m", 300 },
		{ "2h", 7200 },
		{ "14d", 1209600 },
		{ "1w", 604800 },
		{ "1H", 3600 },
		{ "90D", 7776000 },
		{ "0s", 0 },
		{ "007", 7 },
	};

	(void) state;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		uint32_t v = 12345;

		assert_int_equal(zk_duration_parse(ok[i].text, &v), 0);
		assert_int_equal(v, ok[i].seconds);
	}
}

static void durations_combine_terms(void **state)
{
	uint32_t v = 0;

	(void) state;
	assert_int_equal(zk_duration_parse("1d12h", &v), 0);
	assert_int_equal(v, 129600);
	assert_int_equal(zk_duration_parse("1h30m", &v), 0);
	assert_int_equal(v, 5400);
	assert_int_equal(zk_duration_parse("1w1d1h1m1s", &v), 0);
	assert_int_equal(v, 604800 + 86400 + 3600 + 60 + 1);
	assert_int_equal(zk_duration_parse("11h59m60s", &v), 0);
	assert_int_equal(v, 43200);
	/* A trailing bare number is seconds. */
	assert_int_equal(zk_duration_parse("1m30", &v), 0);
	assert_int_equal(v, 90);
}

static void durations_stop_at_32_bits(void **state)
{
	uint32_t v = 7;

	(void) state;
	assert_int_equal(zk_duration_parse("4294967295", &v), 0);
	assert_int_equal(v, UINT32_MAX);
	assert_int_equal(zk_duration_parse("49710d", &v), 0);
	assert_int_equal(v, 49710u * 86400u);

	v = 7;
	assert_int_equal(zk_duration_parse("4294967296", &v), -EINVAL);
	assert_int_equal(zk_duration_parse("49711d", &v), -EINVAL);
	assert_int_equal(zk_duration_parse("99999999999999999999", &v), -EINVAL);
	assert_int_equal(zk_duration_parse("4294967295s1s", &v), -EINVAL);
	assert_int_equal(v, 7); /* untouched on failure */
}

static void durations_refuse_garbage(void **state)
{
	static const char *const bad[] = {
		"", "abc", "10x", "-5", " 5", "5 ", "1.5h", "h", "1hh", "d1", "1d-1h", "+3", "1 d",
	};
	uint32_t v = 7;

	(void) state;
	assert_int_equal(zk_duration_parse(NULL, &v), -EINVAL);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(zk_duration_parse(bad[i], &v), -EINVAL);
		assert_int_equal(v, 7);
	}
}

static void duration_str_is_shortest_exact_text(void **state)
{
	static const struct {
		uint32_t seconds;
		const char *text;
	} rows[] = {
		{ 0, "0s" },         { 59, "59s" },     { 60, "1m" },
		{ 3600, "1h" },      { 5400, "1h30m" }, { 86400, "1d" },
		{ 90061, "1d1h1m1s" }, { 604800, "7d" }, { 1209600, "14d" },
		{ 86401, "1d1s" },
	};
	char buf[32];

	(void) state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		assert_string_equal(zk_duration_str(rows[i].seconds, buf, sizeof(buf)),
				    rows[i].text);
}

static void duration_str_round_trips_through_parse(void **state)
{
	static const uint32_t values[] = { 0, 1, 61, 3599, 3601, 86399, 1209600, 31536000,
					   UINT32_MAX };
	char buf[32];

	(void) state;
	for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
		uint32_t back = 0;

		assert_int_equal(zk_duration_parse(zk_duration_str(values[i], buf, sizeof(buf)),
						   &back),
				 0);
		assert_int_equal(back, values[i]);
	}
}

static void duration_str_truncates_into_small_buffers(void **state)
{
	char buf[4];

	(void) state;
	zk_duration_str(90061, buf, sizeof(buf));
	assert_true(strlen(buf) < sizeof(buf));
	assert_memory_equal(buf, "1d1", strlen(buf));
}

static void utc_matches_known_epoch_values(void **state)
{
	(void) state;
	assert_int_equal(zk_time_utc(1970, 1, 1, 0, 0, 0), 0);
	assert_int_equal(zk_time_utc(2026, 11, 27, 0, 0, 0), 1795737600);
	assert_int_equal(zk_time_utc(2024, 2, 29, 12, 0, 0), 1709208000);
	assert_int_equal(zk_time_utc(2000, 2, 29, 0, 0, 0), 951782400);
	assert_int_equal(zk_time_utc(2024, 1, 1, 0, 0, 0), 1704067200);
	assert_int_equal(zk_time_utc(2100, 3, 1, 0, 0, 0), 4107542400LL);
	/* One past INT32_MAX: no 2038 problem. */
	assert_int_equal(zk_time_utc(2038, 1, 19, 3, 14, 8), 2147483648LL);
	assert_int_equal(zk_time_utc(1969, 12, 31, 23, 59, 59), -1);
	assert_int_equal(zk_time_utc(1900, 3, 1, 0, 0, 0), -2203891200LL);
}

static void civil_inverts_utc(void **state)
{
	static const struct {
		int y, m, d;
	} dates[] = {
		{ 1970, 1, 1 },  { 1969, 12, 31 }, { 2000, 2, 29 }, { 2024, 2, 29 },
		{ 2023, 12, 31 }, { 2024, 1, 1 },  { 2100, 2, 28 }, { 2100, 3, 1 },
		{ 2026, 11, 27 }, { 1900, 1, 1 },  { 2400, 2, 29 },
	};

	(void) state;
	for (size_t i = 0; i < sizeof(dates) / sizeof(dates[0]); i++) {
		zk_time_t t = zk_time_utc(dates[i].y, dates[i].m, dates[i].d, 23, 59, 59);
		int y = 0, m = 0, d = 0;

		zk_time_civil(t, &y, &m, &d);
		assert_int_equal(y, dates[i].y);
		assert_int_equal(m, dates[i].m);
		assert_int_equal(d, dates[i].d);
	}
}

static void civil_knows_leap_years(void **state)
{
	int y, m, d;

	(void) state;
	/* 2024 is a leap year: the day after Feb 28 is Feb 29. */
	zk_time_civil(zk_time_utc(2024, 2, 28, 0, 0, 0) + 86400, &y, &m, &d);
	assert_int_equal(m * 100 + d, 229);
	/* 2100 is not (divisible by 100, not by 400). */
	zk_time_civil(zk_time_utc(2100, 2, 28, 0, 0, 0) + 86400, &y, &m, &d);
	assert_int_equal(m * 100 + d, 301);
	/* 2000 is (divisible by 400). */
	zk_time_civil(zk_time_utc(2000, 2, 28, 0, 0, 0) + 86400, &y, &m, &d);
	assert_int_equal(m * 100 + d, 229);
}

static void time14_parses_and_prints_round_trip(void **state)
{
	static const char *const stamps[] = {
		"19700101000000", "20240229120000", "20231231235959", "20240101000000",
		"20261127000000", "21000301000000", "20380119031408", "99991231235959",
	};
	char buf[16];

	(void) state;
	for (size_t i = 0; i < sizeof(stamps) / sizeof(stamps[0]); i++) {
		zk_time_t t = -42;

		assert_int_equal(zk_time_parse14(stamps[i], &t), 0);
		assert_string_equal(zk_time_str14(t, buf, sizeof(buf)), stamps[i]);
	}
}

static void time14_matches_epoch_and_crosses_year_boundaries(void **state)
{
	zk_time_t t = 0;
	char buf[16];

	(void) state;
	assert_int_equal(zk_time_parse14("20261127000000", &t), 0);
	assert_int_equal(t, 1795737600);
	assert_int_equal(zk_time_parse14("20240229120000", &t), 0);
	assert_int_equal(t, 1709208000);

	assert_int_equal(zk_time_parse14("20231231235959", &t), 0);
	assert_string_equal(zk_time_str14(t + 1, buf, sizeof(buf)), "20240101000000");
	assert_int_equal(zk_time_parse14("20240228235959", &t), 0);
	assert_string_equal(zk_time_str14(t + 1, buf, sizeof(buf)), "20240229000000");
	assert_string_equal(zk_time_str14(t + 1 + 86400, buf, sizeof(buf)), "20240301000000");
	assert_string_equal(zk_time_str14(-1, buf, sizeof(buf)), "19691231235959");
}

static void time14_refuses_malformed_text(void **state)
{
	static const char *const bad[] = {
		"",               "2024022912000",   "202402291200000", "2024022912000a",
		"20241301000000", "20240001000000",  "20240100000000",  "20240132000000",
		"20240229240000", "20240229126000",  "20240229120061",  "2024-02-29T1200",
		" 0240229120000",
	};
	zk_time_t t = 77;

	(void) state;
	assert_int_equal(zk_time_parse14(NULL, &t), -EINVAL);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(zk_time_parse14(bad[i], &t), -EINVAL);
		assert_int_equal(t, 77);
	}
}

static void iso_format_is_rfc3339_utc(void **state)
{
	char buf[32];

	(void) state;
	assert_string_equal(zk_time_iso(1795737600, buf, sizeof(buf)), "2026-11-27T00:00:00Z");
	assert_string_equal(zk_time_iso(1709208000 + 3723, buf, sizeof(buf)),
			    "2024-02-29T13:02:03Z");
}

static void fake_clock_frozen_never_moves(void **state)
{
	zk_clock c = zk_clock_fake(1795737600, 0);

	(void) state;
	assert_int_equal(zk_clock_now(&c), 1795737600);
	assert_int_equal(zk_clock_now(&c), 1795737600);
}

static void fake_clock_running_starts_at_start_and_never_goes_back(void **state)
{
	zk_clock c = zk_clock_fake(1000, 3600);
	zk_time_t a, b;

	(void) state;
	a = zk_clock_now(&c);
	b = zk_clock_now(&c);
	assert_true(a >= 1000);
	assert_true(b >= a);
	/* Far from the real clock: it really is the fake one. */
	assert_true(a < 1000 + 3600 * 60);
}

static void real_clock_is_near_now(void **state)
{
	zk_time_t t = zk_clock_now(&zk_clock_real);

	(void) state;
	assert_true(t > zk_time_utc(2024, 1, 1, 0, 0, 0));
	assert_true(t < zk_time_utc(2200, 1, 1, 0, 0, 0));
}

static void clock_from_env_reads_fake_time(void **state)
{
	zk_error err = { 0 };
	zk_clock c;

	(void) state;
	unsetenv("ZONEKEEPER_FAKE_TIME");
	assert_int_equal(zk_clock_from_env(&c, &err), 0);
	assert_ptr_equal(c.now, zk_clock_real.now);

	setenv("ZONEKEEPER_FAKE_TIME", "20261127000000@0", 1);
	assert_int_equal(zk_clock_from_env(&c, &err), 0);
	assert_int_equal(zk_clock_now(&c), 1795737600);

	setenv("ZONEKEEPER_FAKE_TIME", "1709208000@0", 1);
	assert_int_equal(zk_clock_from_env(&c, &err), 0);
	assert_int_equal(zk_clock_now(&c), 1709208000);

	setenv("ZONEKEEPER_FAKE_TIME", "1709208000", 1);
	assert_int_equal(zk_clock_from_env(&c, &err), 0);
	assert_true(zk_clock_now(&c) >= 1709208000);

	unsetenv("ZONEKEEPER_FAKE_TIME");
}

/* ",hold": the clock stands still while held, and goes on from there afterwards. */
static void held_clock_stands_still(void **state)
{
	zk_error err = { 0 };
	struct timespec pause = { 0, 30 * 1000 * 1000 };
	zk_clock c;
	zk_time_t t0, t1, t2;

	(void) state;
	setenv("ZONEKEEPER_FAKE_TIME", "1000@100000,hold", 1);
	assert_int_equal(zk_clock_from_env(&c, &err), 0);
	assert_true(c.holdable);
	zk_clock_hold(&c, true);
	t0 = zk_clock_now(&c);
	nanosleep(&pause, NULL);
	t1 = zk_clock_now(&c);
	assert_int_equal(t1, t0); /* 30 ms real would be 3000 s simulated */
	zk_clock_hold(&c, false);
	nanosleep(&pause, NULL);
	t2 = zk_clock_now(&c);
	assert_true(t2 >= t1 + 2000);
	/* a clock without ",hold" ignores holds */
	setenv("ZONEKEEPER_FAKE_TIME", "1000@100000", 1);
	assert_int_equal(zk_clock_from_env(&c, &err), 0);
	zk_clock_hold(&c, true);
	t0 = zk_clock_now(&c);
	nanosleep(&pause, NULL);
	assert_true(zk_clock_now(&c) >= t0 + 2000);
	unsetenv("ZONEKEEPER_FAKE_TIME");
}

static void clock_from_env_refuses_garbage(void **state)
{
	static const char *const bad[] = { "yesterday", "123@-1", "123@fast", "-5",
					   "20241301000000", "12x", "123@5,sometimes" };

	(void) state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		zk_error err = { 0 };
		zk_clock c = { 0 };

		setenv("ZONEKEEPER_FAKE_TIME", bad[i], 1);
		assert_int_equal(zk_clock_from_env(&c, &err), ZK_E_CONFIG);
		assert_int_equal(err.code, ZK_E_CONFIG);
		assert_non_null(strstr(err.message, "ZONEKEEPER_FAKE_TIME"));
	}
	unsetenv("ZONEKEEPER_FAKE_TIME");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(durations_take_every_suffix_and_bare_seconds),
		cmocka_unit_test(durations_combine_terms),
		cmocka_unit_test(durations_stop_at_32_bits),
		cmocka_unit_test(durations_refuse_garbage),
		cmocka_unit_test(duration_str_is_shortest_exact_text),
		cmocka_unit_test(duration_str_round_trips_through_parse),
		cmocka_unit_test(duration_str_truncates_into_small_buffers),
		cmocka_unit_test(utc_matches_known_epoch_values),
		cmocka_unit_test(civil_inverts_utc),
		cmocka_unit_test(civil_knows_leap_years),
		cmocka_unit_test(time14_parses_and_prints_round_trip),
		cmocka_unit_test(time14_matches_epoch_and_crosses_year_boundaries),
		cmocka_unit_test(time14_refuses_malformed_text),
		cmocka_unit_test(iso_format_is_rfc3339_utc),
		cmocka_unit_test(fake_clock_frozen_never_moves),
		cmocka_unit_test(fake_clock_running_starts_at_start_and_never_goes_back),
		cmocka_unit_test(real_clock_is_near_now),
		cmocka_unit_test(clock_from_env_reads_fake_time),
		cmocka_unit_test(held_clock_stands_still),
		cmocka_unit_test(clock_from_env_refuses_garbage),
	};

	return cmocka_run_group_tests_name("time", tests, NULL, NULL);
}
