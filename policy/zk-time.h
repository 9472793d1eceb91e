/* SPDX-License-Identifier: MIT */
/*
 * policy/zk-time.h -- instants, durations and the one injectable clock.
 *
 * Nothing below the program's edge reads the wall clock: policy/, keystore/ and
 * signer/ take `now` as a parameter. The edge gets it from a zk_clock, which is the
 * real clock, or a fake one (tests, `zonekeeper simulate`, ZONEKEEPER_FAKE_TIME).
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "policy/zk-error.h"

typedef int64_t zk_time_t; /* seconds since the epoch, UTC */

typedef struct zk_clock {
	zk_time_t (*now)(const struct zk_clock *c);
	zk_time_t start;  /* fake clock: value at `origin` */
	int64_t origin;   /* fake clock: real monotonic seconds at creation */
	double speed;     /* fake clock: simulated seconds per real second (0 = frozen) */
	/*
	 * Fake clock with ",hold": time stands still while the program holds it (the daemon,
	 * while a signing job runs), so that a test counts runs per simulated hour without
	 * the runs' own real duration passing as hours of simulated time.
	 */
	bool holdable;
	int64_t held_since, held; /* real milliseconds: when the hold began (0: none), total */
} zk_clock;

zk_time_t zk_clock_now(const zk_clock *c);
/* Stop (on) or restart (off) a holdable fake clock; nothing for any other clock. */
void zk_clock_hold(zk_clock *c, bool on);
extern const zk_clock zk_clock_real;

/* A fake clock that starts at `start` and runs at `speed` (0: frozen at start). */
zk_clock zk_clock_fake(zk_time_t start, double speed);

/*
 * The clock the programs use: the real one, or a fake one when the environment says
 * ZONEKEEPER_FAKE_TIME="<start>[@<speed>][,hold]", start as seconds since the epoch or
 * YYYYMMDDHHMMSS (UTC). Returns 0, or ZK_E_CONFIG for a malformed value.
 */
int zk_clock_from_env(zk_clock *ret, zk_error *reterr);

/*
 * Duration text: a number with an optional suffix s, m, h, d or w (seconds when
 * none), e.g. "90d", "12h", "3600". Several terms may follow each other ("1d12h").
 * Returns 0 or -EINVAL; *ret_seconds is untouched on failure.
 */
int zk_duration_parse(const char *s, uint32_t *ret_seconds);

/* "14d", "1h30m", "0s": the shortest exact text for a duration. Returns buf. */
const char *zk_duration_str(uint32_t seconds, char *buf, unsigned size);

/* Instant <-> YYYYMMDDHHMMSS (UTC), the format of RRSIG and BIND key timing fields. */
int zk_time_parse14(const char *s, zk_time_t *ret);
const char *zk_time_str14(zk_time_t t, char *buf, unsigned size); /* buf >= 15 */

/* Instant -> "2026-11-27T18:00:00Z". buf >= 21. */
const char *zk_time_iso(zk_time_t t, char *buf, unsigned size);

/* Calendar helpers (UTC, proleptic Gregorian). */
zk_time_t zk_time_utc(int year, int month, int day, int hour, int minute, int second);
void zk_time_civil(zk_time_t t, int *year, int *month, int *day);
