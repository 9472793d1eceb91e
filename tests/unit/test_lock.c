/* SPDX-License-Identifier: MIT */
/*
 * tests/unit/test_lock.c -- one publisher per state directory (signer/lock.h): the daemon's
 * lock excludes every sign and another daemon, a sign's excludes the daemon but not
 * another sign, a refusal names the holder's PID, and a holder that dies releases it.
 * POSIX locks never conflict within one process, so each holder is a child process.
 */
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "signer/lock.h"
#include "tests/unit/unit.h"

struct holder {
	pid_t pid;
	int release; /* write end: closing it lets the child exit */
};

/* A child that takes the lock, says so through a pipe, and holds it until told. */
static struct holder hold(const char *dir, sgn_lock_kind kind)
{
	int ready[2], release[2];
	struct holder h;
	char c;

	assert_int_equal(pipe(ready), 0);
	assert_int_equal(pipe(release), 0);
	h.pid = fork();
	assert_true(h.pid >= 0);
	if (h.pid == 0) {
		sgn_lock *l = NULL;
		zk_error e = { 0 };

		close(ready[0]);
		close(release[1]);
		c = sgn_lock_take(dir, kind, &l, &e) == 0 ? 'y' : 'n';
		if (write(ready[1], &c, 1) != 1)
			_exit(2);
		while (read(release[0], &c, 1) > 0)
			;
		sgn_lock_free(l);
		_exit(0);
	}
	close(ready[1]);
	close(release[0]);
	assert_int_equal(read(ready[0], &c, 1), 1);
	assert_int_equal(c, 'y');
	close(ready[0]);
	h.release = release[1];
	return h;
}

static void let_go(struct holder *h)
{
	int st;

	close(h->release);
	assert_int_equal(waitpid(h->pid, &st, 0), h->pid);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

static void refused_naming(const char *dir, sgn_lock_kind kind, const char *holder, pid_t pid)
{
	sgn_lock *l = NULL;
	zk_error e = { 0 };
	char want[64];

	assert_int_equal(sgn_lock_take(dir, kind, &l, &e), ZK_E_CONFLICT);
	assert_null(l);
	snprintf(want, sizeof(want), "%s (PID %ld)", holder, (long) pid);
	assert_non_null(strstr(e.message, want));
	assert_non_null(strstr(e.message, dir));
}

static void taken_and_freed(const char *dir, sgn_lock_kind kind)
{
	sgn_lock *l = NULL;
	zk_error e = { 0 };

	assert_int_equal(sgn_lock_take(dir, kind, &l, &e), 0);
	assert_non_null(l);
	assert_null(sgn_lock_free(l));
}

static void the_daemon_excludes_signs_and_another_daemon(void **state)
{
	char dir[256];
	struct holder d;

	assert_int_equal(unit_tmpdir(dir, sizeof(dir), "lock"), 0);
	d = hold(dir, SGN_LOCK_DAEMON);
	refused_naming(dir, SGN_LOCK_TOOL, "zonekeeperd", d.pid);
	refused_naming(dir, SGN_LOCK_DAEMON, "zonekeeperd", d.pid);
	let_go(&d);
	taken_and_freed(dir, SGN_LOCK_TOOL);
	unit_rmtree(dir);
}

static void a_sign_excludes_the_daemon_but_not_another_sign(void **state)
{
	char dir[256];
	struct holder s;

	assert_int_equal(unit_tmpdir(dir, sizeof(dir), "lock"), 0);
	s = hold(dir, SGN_LOCK_TOOL);
	refused_naming(dir, SGN_LOCK_DAEMON, "zonekeeper sign", s.pid);
	taken_and_freed(dir, SGN_LOCK_TOOL);
	let_go(&s);
	taken_and_freed(dir, SGN_LOCK_DAEMON);
	unit_rmtree(dir);
}

static void a_holder_killed_releases_the_lock(void **state)
{
	char dir[256];
	struct holder d;
	int st;

	assert_int_equal(unit_tmpdir(dir, sizeof(dir), "lock"), 0);
	d = hold(dir, SGN_LOCK_DAEMON);
	assert_int_equal(kill(d.pid, SIGKILL), 0);
	assert_int_equal(waitpid(d.pid, &st, 0), d.pid);
	close(d.release);
	taken_and_freed(dir, SGN_LOCK_DAEMON);
	unit_rmtree(dir);
}

static void a_missing_state_directory_is_created(void **state)
{
	char dir[256], sub[300];

	assert_int_equal(unit_tmpdir(dir, sizeof(dir), "lock"), 0);
	snprintf(sub, sizeof(sub), "%s/a/b", dir);
	taken_and_freed(sub, SGN_LOCK_DAEMON);
	assert_int_equal(access(sub, W_OK), 0);
	unit_rmtree(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(the_daemon_excludes_signs_and_another_daemon),
		cmocka_unit_test(a_sign_excludes_the_daemon_but_not_another_sign),
		cmocka_unit_test(a_holder_killed_releases_the_lock),
		cmocka_unit_test(a_missing_state_directory_is_created),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
