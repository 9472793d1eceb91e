/* SPDX-License-Identifier: MIT */
/*
 * tests/tools/fixtime.c -- an LD_PRELOAD library for the system tests: the wall clock
 * (CLOCK_REALTIME, time(), gettimeofday()) reads ZK_FIXTIME, seconds since the epoch,
 * plus the real time elapsed since the first call. For validators with no option for the
 * time to judge signatures at (dnssec-verify), so that each published version is judged
 * at its own time. The real clock is read through the system call, never through the
 * symbol this library replaces, so nothing recurses (allocators that read the clock while
 * the program starts are common). The tests build it themselves (zktest/tools.py), without
 * sanitizers, whatever build they test.
 */
#include <stdlib.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static long long base = -1, start;

static int real_clock(clockid_t id, struct timespec *ts)
{
	return (int) syscall(SYS_clock_gettime, id, ts);
}

/* The fixed seconds, or -1 when ZK_FIXTIME is not set. */
static long long fixed_now(void)
{
	struct timespec mono;

	if (base == -1) {
		const char *v = getenv("ZK_FIXTIME");

		base = v ? strtoll(v, NULL, 10) : -2;
		real_clock(CLOCK_MONOTONIC, &mono);
		start = mono.tv_sec;
	}
	if (base < 0)
		return -1;
	real_clock(CLOCK_MONOTONIC, &mono);
	return base + (mono.tv_sec - start);
}

int clock_gettime(clockid_t id, struct timespec *ts)
{
	int r = real_clock(id, ts);
	long long now;

	if (r == 0 && (id == CLOCK_REALTIME || id == CLOCK_REALTIME_COARSE) &&
	    (now = fixed_now()) >= 0)
		ts->tv_sec = (time_t) now;
	return r;
}

time_t time(time_t *t)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	if (t)
		*t = ts.tv_sec;
	return ts.tv_sec;
}

int gettimeofday(struct timeval *restrict tv, void *restrict tz)
{
	struct timespec ts;

	(void) tz;
	clock_gettime(CLOCK_REALTIME, &ts);
	tv->tv_sec = ts.tv_sec;
	tv->tv_usec = ts.tv_nsec / 1000;
	return 0;
}
