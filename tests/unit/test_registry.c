/* SPDX-License-Identifier: MIT */
/*
 * tests/unit/test_registry.c -- what the daemon keeps about zones created through the API:
 * the registry (signer/daemon/registry.c: a log of JSON lines, durable per line, a torn
 * last line dropped, a damaged line skipped and counted, compaction), the sorted index
 * of zones (zset.c), and the archive of deleted zones (archive.c: stored, found, restored,
 * purged after archive_days).
 */
#include <errno.h>
#include <fcntl.h>
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

#include "policy/policy.h"
#include "policy/zk-file.h"
#include "signer/daemon/archive.h"
#include "signer/daemon/registry.h"
#include "signer/daemon/zset.h"
#include "signer/signer.h"
#include "tests/unit/unit.h"

static char tmpdir[64];
static char rpath[128];

static int setup(void **state)
{
	assert_int_equal(unit_tmpdir(tmpdir, sizeof(tmpdir), "registry"), 0);
	snprintf(rpath, sizeof(rpath), "%s/zones.registry", tmpdir);
	return 0;
}

static int teardown(void **state)
{
	unit_rmtree(tmpdir);
	return 0;
}

static void append_raw(const char *text)
{
	int fd = open(rpath, O_WRONLY | O_APPEND | O_CREAT, 0600);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t) strlen(text));
	close(fd);
}

static size_t count_lines(void)
{
	char *buf = NULL;
	size_t len = 0, n = 0;

	assert_int_equal(zk_file_read(rpath, 1 << 20, &buf, &len), 0);
	for (size_t i = 0; i < len; i++)
		n += buf[i] == '\n';
	free(buf);
	return n;
}

/* ---------------------------------------------------------------- registry */

static void added_and_deleted_zones_survive_a_reopen(void **state)
{
	size_t damaged = 9, n;
	const reg_entry *e;
	zk_error err = { 0 };
	reg *r = NULL;

	assert_int_equal(reg_open(rpath, &r, &damaged, &err), 0);
	assert_int_equal(damaged, 0);
	assert_int_equal(reg_add(r, "b.test.", "default", 100, &err), 0);
	assert_int_equal(reg_add(r, "a.test.", "other", 200, &err), 0);
	assert_int_equal(reg_add(r, "c.test.", "default", 300, &err), 0);
	assert_int_equal(reg_del(r, "b.test.", &err), 0);
	/* a change of policy replaces the entry */
	assert_int_equal(reg_add(r, "c.test.", "other", 300, &err), 0);
	reg_free(r);

	assert_int_equal(reg_open(rpath, &r, &damaged, &err), 0);
	e = reg_entries(r, &n);
	assert_int_equal(n, 2);
	assert_string_equal(e[0].name, "a.test."); /* sorted by name */
	assert_string_equal(e[0].policy, "other");
	assert_int_equal(e[0].created, 200);
	assert_string_equal(e[1].name, "c.test.");
	assert_string_equal(e[1].policy, "other");
	assert_null(reg_find(r, "b.test."));
	assert_non_null(reg_find(r, "a.test."));
	reg_free(r);
}

static void a_torn_last_line_is_dropped_and_a_damaged_one_counted(void **state)
{
	size_t damaged = 0, n;
	zk_error err = { 0 };
	reg *r = NULL;

	append_raw("{\"add\":\"a.test.\",\"policy\":\"default\",\"at\":1}\n");
	append_raw("this is not json\n");
	append_raw("{\"add\":\"b.test.\",\"policy\":\"default\",\"at\":2}\n");
	append_raw("{\"add\":\"c.test.\",\"pol"); /* a crash in the middle of a line */
	assert_int_equal(reg_open(rpath, &r, &damaged, &err), 0);
	assert_int_equal(damaged, 1);
	(void) reg_entries(r, &n);
	assert_int_equal(n, 2);
	assert_null(reg_find(r, "c.test."));
	/* the torn tail is cut: the next zone's line is not glued to it */
	assert_int_equal(reg_add(r, "d.test.", "default", 3, &err), 0);
	reg_free(r);
	assert_int_equal(reg_open(rpath, &r, &damaged, &err), 0);
	assert_non_null(reg_find(r, "d.test."));
	assert_int_equal(damaged, 1);
	reg_free(r);
}

static void a_long_log_is_compacted_on_open(void **state)
{
	size_t damaged, n;
	zk_error err = { 0 };
	reg *r = NULL;
	char name[32];

	assert_int_equal(reg_open(rpath, &r, &damaged, &err), 0);
	for (int i = 0; i < 1500; i++) {
		snprintf(name, sizeof(name), "z%d.test.", i);
		assert_int_equal(reg_add(r, name, "default", i, &err), 0);
		if (i % 3)
			assert_int_equal(reg_del(r, name, &err), 0);
	}
	reg_free(r);
	assert_int_equal(reg_open(rpath, &r, &damaged, &err), 0);
	(void) reg_entries(r, &n);
	assert_int_equal(n, 500);
	reg_free(r);
	/* the file holds what lives, or at least not every line ever written */
	assert_true(count_lines() < 2500);
}

static void an_unwritable_registry_fails_with_its_path(void **state)
{
	zk_error err = { 0 };
	size_t damaged;
	reg *r = NULL;

	snprintf(rpath, sizeof(rpath), "%s/no/such/dir/zones.registry", tmpdir);
	assert_true(reg_open(rpath, &r, &damaged, &err) < 0);
	assert_null(r);
}

/* ---------------------------------------------------------------- zset */

static const char *str_key(const void *item)
{
	return item;
}

static void zset_keeps_order_and_finds(void **state)
{
	zset s = { .key = str_key };
	static char w[6][2] = { "m", "c", "x", "a", "c", "q" };
	char *words[6];

	for (size_t i = 0; i < 6; i++)
		words[i] = w[i];

	for (size_t i = 0; i < 6; i++)
		assert_int_equal(zset_insert(&s, words[i]), 0);
	assert_int_equal(s.n, 6);
	for (size_t i = 1; i < s.n; i++)
		assert_true(strcmp(s.v[i - 1], s.v[i]) <= 0);
	assert_ptr_equal(zset_find(&s, "x"), words[2]);
	assert_null(zset_find(&s, "b"));
	assert_int_equal(zset_lower(&s, "b"), 1);
	assert_int_equal(zset_lower(&s, "zz"), 6);
	/* equal keys: the very pointer goes */
	assert_true(zset_remove(&s, words[4]));
	assert_ptr_equal(zset_find(&s, "c"), words[1]);
	assert_false(zset_remove(&s, words[4]));
	assert_int_equal(s.n, 5);
	zset_done(&s);
	assert_int_equal(s.n, 0);
}

/* ---------------------------------------------------------------- archive */

static void write_file(const char *path, const char *text)
{
	zk_error e;

	assert_int_equal(zk_file_write_atomic(path, 0644, text, strlen(text), &e), 0);
}

static void a_zone_goes_to_the_archive_and_comes_back(void **state)
{
	pol_policy p;
	pol_config c = { 0 };
	pol_zone z = { 0 };
	char in[256], out[256], zdir[512], dir[512], again[512], path[1024];
	char *policy = NULL;
	zk_error e = { 0 };

	pol_policy_defaults(&p);
	p.name = (char *) "gold";
	snprintf(in, sizeof(in), "%s/in", tmpdir);
	snprintf(out, sizeof(out), "%s/out", tmpdir);
	c.paths.state_dir = tmpdir;
	c.paths.input_dir = in;
	c.paths.output_dir = out;
	assert_int_equal(pol_zone_make(&c, "Gone.Test", &p, &z), 0);
	assert_string_equal(z.name, "gone.test.");
	assert_int_equal(zk_mkdir_p(in, 0755), 0);
	write_file(z.input_file, "; input\n");
	sgn_zone_dir(&c, &z, zdir, sizeof(zdir));
	snprintf(path, sizeof(path), "%s/keys", zdir);
	assert_int_equal(zk_mkdir_p(path, 0700), 0);
	snprintf(path, sizeof(path), "%s/keys/Kgone.test.+013+12345.key", zdir);
	write_file(path, "key\n");

	assert_int_equal(arc_find(&c, z.name, dir, sizeof(dir), &policy, &e), ZK_E_ZONE_NOT_FOUND);
	assert_int_equal(arc_store(&c, &z, 1700000000, dir, sizeof(dir), &e), 0);
	assert_int_equal(access(z.input_file, F_OK), -1);
	assert_int_equal(access(zdir, F_OK), -1);
	snprintf(path, sizeof(path), "%s/state/keys/Kgone.test.+013+12345.key", dir);
	assert_int_equal(access(path, F_OK), 0);

	assert_int_equal(arc_find(&c, z.name, again, sizeof(again), &policy, &e), 0);
	assert_string_equal(again, dir);
	assert_string_equal(policy, "gold");
	free(policy);
	/* the places must be free */
	write_file(z.input_file, "; someone else's\n");
	assert_int_equal(arc_restore(&c, &z, dir, &e), ZK_E_ZONE_EXISTS);
	unlink(z.input_file);
	assert_int_equal(arc_restore(&c, &z, dir, &e), 0);
	snprintf(path, sizeof(path), "%s/keys/Kgone.test.+013+12345.key", zdir);
	assert_int_equal(access(path, F_OK), 0);
	assert_int_equal(access(z.input_file, F_OK), 0);
	assert_int_equal(access(dir, F_OK), -1);
	pol_zone_clear(&z);
}

static void old_archives_are_purged(void **state)
{
	pol_policy p;
	pol_config c = { 0 };
	pol_zone z = { 0 };
	char dir[512], dir2[512];
	char *policy = NULL;
	zk_error e = { 0 };

	pol_policy_defaults(&p);
	p.name = (char *) "default";
	c.paths.state_dir = tmpdir;
	c.paths.input_dir = tmpdir;
	c.paths.output_dir = tmpdir;
	assert_int_equal(pol_zone_make(&c, "old.test.", &p, &z), 0);
	assert_int_equal(arc_store(&c, &z, 1700000000, dir, sizeof(dir), &e), 0);
	assert_int_equal(arc_store(&c, &z, 1700000000 + 20 * 86400, dir, sizeof(dir), &e), 0);
	/* twice within one second: a second archive, the newest */
	assert_int_equal(arc_store(&c, &z, 1700000000 + 20 * 86400, dir2, sizeof(dir2), &e), 0);
	assert_string_not_equal(dir, dir2);
	/* the newest is the one restored */
	assert_int_equal(arc_find(&c, z.name, dir, sizeof(dir), &policy, &e), 0);
	assert_string_equal(dir, dir2);
	free(policy);
	/* 30 days after the first: only it is old enough */
	assert_int_equal(arc_purge(&c, 1700000000 + 30 * 86400, 30), 1);
	assert_int_equal(access(dir2, F_OK), 0);
	assert_int_equal(arc_purge(&c, 1700000000 + 60 * 86400, 30), 2);
	assert_int_equal(arc_find(&c, z.name, dir, sizeof(dir), &policy, &e), ZK_E_ZONE_NOT_FOUND);
	pol_zone_clear(&z);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(added_and_deleted_zones_survive_a_reopen, setup,
						teardown),
		cmocka_unit_test_setup_teardown(a_torn_last_line_is_dropped_and_a_damaged_one_counted,
						setup, teardown),
		cmocka_unit_test_setup_teardown(a_long_log_is_compacted_on_open, setup, teardown),
		cmocka_unit_test_setup_teardown(an_unwritable_registry_fails_with_its_path, setup,
						teardown),
		cmocka_unit_test(zset_keeps_order_and_finds),
		cmocka_unit_test_setup_teardown(a_zone_goes_to_the_archive_and_comes_back, setup,
						teardown),
		cmocka_unit_test_setup_teardown(old_archives_are_purged, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
