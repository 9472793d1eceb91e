/* SPDX-License-Identifier: MIT */
/*
 * policy/zk-time.c -- clocks, durations and UTC calendar arithmetic. The calendar
 * code is the days-from-civil algorithm, so it needs neither timegm() nor TZ.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "policy/zk-time.h"

static zk_time_t real_now(const zk_clock *c)
{
	struct timespec ts;

	(void) c;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (zk_time_t) ts.tv_sec;
}

static int64_t mono_seconds_x1000(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static zk_time_t fake_now(const zk_clock *c)
{
	int64_t now = mono_seconds_x1000();
	int64_t ms = now - c->origin - c->held - (c->held_since ? now - c->held_since : 0);

	return c->start + (zk_time_t) ((double) ms / 1000.0 * c->speed);
}

void zk_clock_hold(zk_clock *c, bool on)
{
	int64_t now = mono_seconds_x1000();

	if (!c->holdable || on == (c->held_since != 0))
		return;
	if (on) {
		c->held_since = now ? now : 1;
	} else {
		c->held += now - c->held_since;
		c->held_since = 0;
	}
}

const zk_clock zk_clock_real = { .now = real_now };

zk_clock zk_clock_fake(zk_time_t start, double speed)
{
	return (zk_clock) { .now = fake_now, .start = start, .origin = mono_seconds_x1000(),
			    .speed = speed };
}

zk_time_t zk_clock_now(const zk_clock *c)
{
	return c->now(c);
}

int zk_clock_from_env(zk_clock *ret, zk_error *reterr)
{
	const char *v = getenv("ZONEKEEPER_FAKE_TIME");
	char buf[64], *at, *end, *opt;
	zk_time_t start;
	double speed = 1.0;
	bool hold = false;

	if (!v || !*v) {
		*ret = zk_clock_real;
		return 0;
	}
	if (strlen(v) >= sizeof(buf))
		return zk_fail(reterr, ZK_E_CONFIG, "ZONEKEEPER_FAKE_TIME is too long");
	strcpy(buf, v);
	opt = strchr(buf, ',');
	if (opt) {
		*opt++ = '\0';
		if (strcmp(opt, "hold") != 0)
			return zk_fail(reterr, ZK_E_CONFIG,
				       "ZONEKEEPER_FAKE_TIME: unknown option '%s'", opt);
		hold = true;
	}
	at = strchr(buf, '@');
	if (at) {
		*at++ = '\0';
		errno = 0;
		speed = strtod(at, &end);
		if (errno || *end || speed < 0)
			return zk_fail(reterr, ZK_E_CONFIG,
				       "ZONEKEEPER_FAKE_TIME: bad speed '%s'", at);
	}
	if (strlen(buf) == 14) {
		if (zk_time_parse14(buf, &start) < 0)
			return zk_fail(reterr, ZK_E_CONFIG,
				       "ZONEKEEPER_FAKE_TIME: bad time '%s'", buf);
	} else {
		long long s;

		errno = 0;
		s = strtoll(buf, &end, 10);
		if (errno || *end || end == buf || s < 0)
			return zk_fail(reterr, ZK_E_CONFIG,
				       "ZONEKEEPER_FAKE_TIME: bad time '%s'", buf);
		start = s;
	}
	*ret = zk_clock_fake(start, speed);
	ret->holdable = hold;
	return 0;
}

int zk_duration_parse(const char *s, uint32_t *ret_seconds)
{
	uint64_t total = 0;

	if (!s || !*s)
		return -EINVAL;
	while (*s) {
		uint64_t n = 0, mult;
		const char *start = s;

		while (*s >= '0' && *s <= '9') {
			n = n * 10 + (uint64_t) (*s - '0');
			if (n > UINT32_MAX)
				return -EINVAL;
			s++;
		}
		if (s == start)
			return -EINVAL;
		switch (*s) {
		case '\0':
			mult = 1;
			break;
		case 's': case 'S': mult = 1; s++; break;
		case 'm': case 'M': mult = 60; s++; break;
		case 'h': case 'H': mult = 3600; s++; break;
		case 'd': case 'D': mult = 86400; s++; break;
		case 'w': case 'W': mult = 7 * 86400; s++; break;
		default:
			return -EINVAL;
		}
		total += n * mult;
		if (total > UINT32_MAX)
			return -EINVAL;
	}
	*ret_seconds = (uint32_t) total;
	return 0;
}

const char *zk_duration_str(uint32_t seconds, char *buf, unsigned size)
{
	static const struct {
		uint32_t unit;
		char suffix;
	} units[] = { { 86400, 'd' }, { 3600, 'h' }, { 60, 'm' }, { 1, 's' } };
	unsigned off = 0;

	if (seconds == 0) {
		snprintf(buf, size, "0s");
		return buf;
	}
	buf[0] = '\0';
	for (unsigned i = 0; i < 4 && off < size; i++) {
		uint32_t n = seconds / units[i].unit;

		if (!n)
			continue;
		seconds -= n * units[i].unit;
		off += (unsigned) snprintf(buf + off, size - off, "%u%c", n, units[i].suffix);
	}
	return buf;
}

/* Days since 1970-01-01 of a civil date (H. Hinnant's days_from_civil). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	unsigned yoe = (unsigned) (y - era * 400);
	unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;

	return era * 146097 + (int64_t) doe - 719468;
}

zk_time_t zk_time_utc(int year, int month, int day, int hour, int minute, int second)
{
	return days_from_civil(year, (unsigned) month, (unsigned) day) * 86400 + hour * 3600 +
	       minute * 60 + second;
}

void zk_time_civil(zk_time_t t, int *year, int *month, int *day)
{
	int64_t z = (t >= 0 ? t : t - 86399) / 86400 + 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	unsigned doe = (unsigned) (z - era * 146097);
	unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t y = (int64_t) yoe + era * 400;
	unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	unsigned mp = (5 * doy + 2) / 153;
	unsigned d = doy - (153 * mp + 2) / 5 + 1;
	unsigned m = mp < 10 ? mp + 3 : mp - 9;

	*year = (int) (y + (m <= 2));
	*month = (int) m;
	*day = (int) d;
}

int zk_time_parse14(const char *s, zk_time_t *ret)
{
	int v[6], widths[6] = { 4, 2, 2, 2, 2, 2 };

	if (!s || strlen(s) != 14)
		return -EINVAL;
	for (int i = 0, off = 0; i < 6; off += widths[i], i++) {
		v[i] = 0;
		for (int k = 0; k < widths[i]; k++) {
			char c = s[off + k];

			if (c < '0' || c > '9')
				return -EINVAL;
			v[i] = v[i] * 10 + (c - '0');
		}
	}
	if (v[1] < 1 || v[1] > 12 || v[2] < 1 || v[2] > 31 || v[3] > 23 || v[4] > 59 ||
	    v[5] > 60)
		return -EINVAL;
	*ret = zk_time_utc(v[0], v[1], v[2], v[3], v[4], v[5]);
	return 0;
}

const char *zk_time_str14(zk_time_t t, char *buf, unsigned size)
{
	int y, mo, d;
	int64_t sod = ((t % 86400) + 86400) % 86400;

	zk_time_civil(t, &y, &mo, &d);
	snprintf(buf, size, "%04d%02d%02d%02d%02d%02d", y, mo, d, (int) (sod / 3600),
		 (int) (sod / 60 % 60), (int) (sod % 60));
	return buf;
}

const char *zk_time_iso(zk_time_t t, char *buf, unsigned size)
{
	int y, mo, d;
	int64_t sod = ((t % 86400) + 86400) % 86400;

	zk_time_civil(t, &y, &mo, &d);
	snprintf(buf, size, "%04d-%02d-%02dT%02d:%02d:%02dZ", y, mo, d, (int) (sod / 3600),
		 (int) (sod / 60 % 60), (int) (sod % 60));
	return buf;
}
