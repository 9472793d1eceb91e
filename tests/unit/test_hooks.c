/* SPDX-License-Identifier: MIT */
/*
 * tests/unit/test_hooks.c -- what follows a publication (signer/daemon/hooks.c), in an
 * event loop of the test's own on a fast fake clock (retries after 2 s of zone time,
 * doubling, come within milliseconds): NOTIFY retried until acknowledged, well beyond a
 * fixed number of tries, and replaced by a newer serial's; a failing reload command retried
 * until it succeeds; the marks a restart looks for; the state ended with its zone.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <systemd/sd-event.h>

#include "policy/policy.h"
#include "policy/zk-time.h"
#include "signer/daemon/hooks.h"
#include "tests/unit/unit.h"

#define ZONE "example.com."
#define SPEED 1000.0 /* zone seconds per real second */

/* A secondary on loopback: records the ids of the NOTIFYs, answers once `drop` are gone. */
typedef struct secondary {
	int fd;
	uint16_t port;
	sd_event_source *src;
	unsigned drop;            /* the first ones are not answered */
	unsigned rcode;           /* what the answer says */
	unsigned seen, answered;
	uint16_t ids[64];
} secondary;

typedef struct fixture {
	sd_event *e;
	zk_clock clock;
	hooks *h;
	secondary sec;
	pol_notify_target target;
	char addr[16];
	char dir[64];
} fixture;

static int on_query(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	secondary *sec = userdata;
	uint8_t buf[512];
	struct sockaddr_storage from;
	socklen_t len = sizeof(from);
	ssize_t n = recvfrom(fd, buf, sizeof(buf), 0, (struct sockaddr *) &from, &len);

	if (n < 12)
		return 0;
	if (sec->seen < 64)
		sec->ids[sec->seen] = (uint16_t) (buf[0] << 8 | buf[1]);
	if (++sec->seen <= sec->drop)
		return 0;
	/* the reply: the same header and question, QR set, the rcode asked for */
	buf[2] |= 0x80;
	buf[3] = (uint8_t) ((buf[3] & 0xf0) | sec->rcode);
	(void) sendto(fd, buf, (size_t) n, 0, (struct sockaddr *) &from, len);
	sec->answered++;
	return 0;
}

static int setup(void **state)
{
	static fixture f;
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t len = sizeof(a);
	sigset_t mask;

	memset(&f, 0, sizeof(f));
	/* the reload command's child source needs SIGCHLD blocked */
	sigemptyset(&mask);
	sigaddset(&mask, SIGCHLD);
	assert_int_equal(sigprocmask(SIG_BLOCK, &mask, NULL), 0);
	assert_int_equal(sd_event_new(&f.e), 0);
	f.clock = zk_clock_fake(1795737600, SPEED);
	assert_int_equal(hooks_new(f.e, &f.clock, &f.h), 0);
	f.sec.fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	assert_true(f.sec.fd >= 0);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(f.sec.fd, (struct sockaddr *) &a, sizeof(a)), 0);
	assert_int_equal(getsockname(f.sec.fd, (struct sockaddr *) &a, &len), 0);
	f.sec.port = ntohs(a.sin_port);
	assert_int_equal(sd_event_add_io(f.e, &f.sec.src, f.sec.fd, EPOLLIN, on_query, &f.sec), 0);
	snprintf(f.addr, sizeof(f.addr), "127.0.0.1");
	f.target = (pol_notify_target) { .address = f.addr, .port = f.sec.port };
	assert_int_equal(unit_tmpdir(f.dir, sizeof(f.dir), "hooks"), 0);
	*state = &f;
	return 0;
}

static int teardown(void **state)
{
	fixture *f = *state;

	f->h = hooks_free(f->h);
	sd_event_source_disable_unref(f->sec.src);
	close(f->sec.fd);
	sd_event_unref(f->e);
	unit_rmtree(f->dir);
	return 0;
}

/* Run the loop until `done` says so, at most 10 s of real time. */
static bool run_until(fixture *f, bool (*done)(fixture *f))
{
	struct timespec t0, t;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	do {
		if (done(f))
			return true;
		assert_true(sd_event_run(f->e, 10000) >= 0);
		clock_gettime(CLOCK_MONOTONIC, &t);
	} while (t.tv_sec - t0.tv_sec < 10);
	return done(f);
}

static hook_stat stat_of(fixture *f, hook_kind k)
{
	hook_stat st = { 0 };

	assert_true(hooks_stat(f->h, ZONE, k, &st));
	return st;
}

static bool nothing_pending(fixture *f)
{
	return hooks_pending(f->h) == 0;
}

static bool three_seen(fixture *f)
{
	return f->sec.seen >= 3;
}

static bool notify_failed_twice(fixture *f)
{
	hook_stat st = stat_of(f, HOOK_NOTIFY);

	return st.failures >= 2;
}

static void notify_is_retried_until_acknowledged(void **state)
{
	fixture *f = *state;
	hook_stat st;

	f->sec.drop = 9; /* far beyond the 5 tries NOTIFY used to give up after */
	assert_int_equal(hooks_notify(f->h, ZONE, f->dir, &f->target, 1, 7), 0);
	assert_int_equal(hooks_owed(f->dir), 1u << HOOK_NOTIFY);
	assert_true(run_until(f, notify_failed_twice));
	st = stat_of(f, HOOK_NOTIFY);
	assert_int_equal(st.pending, 1);
	assert_true(st.retry_at > 0);
	assert_non_null(strstr(st.last_error, "was not answered"));
	assert_true(hooks_failing(f->h, ZONE));
	assert_true(run_until(f, nothing_pending));
	assert_int_equal(f->sec.seen, 10);
	assert_int_equal(f->sec.answered, 1);
	for (unsigned i = 1; i < f->sec.seen; i++)
		assert_int_equal(f->sec.ids[i], f->sec.ids[0]); /* one message, sent again */
	st = stat_of(f, HOOK_NOTIFY);
	assert_int_equal(st.failures, 0);
	assert_int_equal(st.failures_total, 9);
	assert_int_equal(st.pending, 0);
	assert_int_equal(st.retry_at, 0);
	assert_string_equal(st.last_error, "");
	assert_true(st.last_success > 0);
	assert_false(hooks_failing(f->h, ZONE));
	assert_int_equal(hooks_owed(f->dir), 0);
}

static void an_error_answer_is_no_acknowledgement(void **state)
{
	fixture *f = *state;
	hook_stat st;

	f->sec.rcode = 5; /* REFUSED */
	assert_int_equal(hooks_notify(f->h, ZONE, NULL, &f->target, 1, 7), 0);
	assert_true(run_until(f, three_seen));
	st = stat_of(f, HOOK_NOTIFY);
	assert_int_equal(st.pending, 1);
	assert_true(st.failures >= 2);
	assert_non_null(strstr(st.last_error, "rcode 5"));
	f->sec.rcode = 0;
	assert_true(run_until(f, nothing_pending));
	assert_int_equal(stat_of(f, HOOK_NOTIFY).failures, 0);
}

static void a_newer_serial_replaces_the_pending_notify(void **state)
{
	fixture *f = *state;
	unsigned before;
	uint16_t old;

	f->sec.drop = 1000;
	assert_int_equal(hooks_notify(f->h, ZONE, NULL, &f->target, 1, 7), 0);
	assert_true(run_until(f, three_seen));
	old = f->sec.ids[0];
	before = f->sec.seen;
	assert_int_equal(hooks_notify(f->h, ZONE, NULL, &f->target, 1, 8), 0);
	/* one per zone and target: the older serial's is gone */
	assert_int_equal(hooks_pending(f->h), 1);
	f->sec.drop = before + 2; /* the newer one is answered at its third try */
	assert_true(run_until(f, nothing_pending));
	assert_int_equal(f->sec.seen, before + 3);
	for (unsigned i = before; i < f->sec.seen; i++) {
		assert_int_not_equal(f->sec.ids[i], old);
		assert_int_equal(f->sec.ids[i], f->sec.ids[before]);
	}
}

static bool reload_failed_thrice(fixture *f)
{
	return stat_of(f, HOOK_RELOAD).failures >= 3;
}

static bool reload_ok(fixture *f)
{
	hook_stat st = stat_of(f, HOOK_RELOAD);

	return st.failures == 0 && st.last_success && !st.pending;
}

static void a_failing_reload_command_is_retried_until_it_succeeds(void **state)
{
	fixture *f = *state;
	char flag[128], mark[128];
	hook_stat st;
	FILE *fp;

	/* `test -e FILE`: fails until the file is there */
	snprintf(flag, sizeof(flag), "%s/up", f->dir);
	snprintf(mark, sizeof(mark), "%s/reload.owed", f->dir);
	assert_int_equal(hooks_run_reload(f->h, ZONE, f->dir, "test -e %f", 5, flag), 0);
	assert_int_equal(access(mark, F_OK), 0);
	assert_true(run_until(f, reload_failed_thrice));
	st = stat_of(f, HOOK_RELOAD);
	assert_non_null(strstr(st.last_error, "'test -e %f' exited with status 1"));
	assert_true(st.retry_at > 0);
	assert_int_equal(st.pending, 1);
	assert_true(hooks_failing(f->h, ZONE));
	assert_int_equal(hooks_owed(f->dir), 1u << HOOK_RELOAD);
	fp = fopen(flag, "w");
	assert_non_null(fp);
	fclose(fp);
	assert_true(run_until(f, reload_ok));
	st = stat_of(f, HOOK_RELOAD);
	assert_true(st.failures_total >= 3);
	assert_string_equal(st.last_error, "");
	assert_int_equal(st.retry_at, 0);
	assert_false(hooks_failing(f->h, ZONE));
	assert_int_equal(access(mark, F_OK), -1);
	assert_int_equal(hooks_owed(f->dir), 0);
}

static bool reload_failed_once(fixture *f)
{
	return stat_of(f, HOOK_RELOAD).failures >= 1;
}

static void a_command_taken_out_of_the_configuration_is_not_retried(void **state)
{
	fixture *f = *state;

	assert_int_equal(hooks_run_reload(f->h, ZONE, f->dir, "false", 5, "x"), 0);
	assert_true(run_until(f, reload_failed_once));
	assert_int_equal(hooks_pending(f->h), 1); /* its retry */
	hooks_reconfigure(f->h, NULL, 0, NULL, 0);
	assert_int_equal(hooks_pending(f->h), 0);
	assert_false(hooks_failing(f->h, ZONE));
	assert_int_equal(hooks_owed(f->dir), 0);
}

static void a_forgotten_zone_keeps_nothing(void **state)
{
	fixture *f = *state;
	hook_stat st;

	f->sec.drop = 1000;
	assert_int_equal(hooks_notify(f->h, ZONE, f->dir, &f->target, 1, 7), 0);
	assert_int_equal(hooks_run_reload(f->h, ZONE, f->dir, "false", 5, "x"), 0);
	assert_true(run_until(f, reload_failed_once));
	assert_int_equal(hooks_n_zones(f->h), 1);
	assert_string_equal(hooks_zone_name(f->h, 0), ZONE);
	hooks_forget(f->h, ZONE);
	assert_int_equal(hooks_pending(f->h), 0);
	assert_int_equal(hooks_n_zones(f->h), 0);
	assert_false(hooks_stat(f->h, ZONE, HOOK_NOTIFY, &st));
	/* what was owed stays marked: the zone's state directory goes to the archive */
	assert_int_equal(hooks_owed(f->dir), 1u << HOOK_RELOAD | 1u << HOOK_NOTIFY);
	hooks_clear_owed(f->dir, HOOK_RELOAD);
	hooks_clear_owed(f->dir, HOOK_NOTIFY);
	assert_int_equal(hooks_owed(f->dir), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(notify_is_retried_until_acknowledged, setup,
						teardown),
		cmocka_unit_test_setup_teardown(an_error_answer_is_no_acknowledgement, setup,
						teardown),
		cmocka_unit_test_setup_teardown(a_newer_serial_replaces_the_pending_notify, setup,
						teardown),
		cmocka_unit_test_setup_teardown(a_failing_reload_command_is_retried_until_it_succeeds,
						setup, teardown),
		cmocka_unit_test_setup_teardown(a_command_taken_out_of_the_configuration_is_not_retried,
						setup, teardown),
		cmocka_unit_test_setup_teardown(a_forgotten_zone_keeps_nothing, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
