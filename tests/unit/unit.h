/* SPDX-License-Identifier: MIT */
/*
 * tests/unit/unit.h -- helpers shared by the unit tests: a temporary directory made and
 * removed again, and the count of open file descriptors. Each test used to carry its own
 * copy of these; one copy here keeps them from drifting apart.
 *
 * Header-only and static inline: every test is a single file linked on its own, so this
 * needs no object of its own in the Makefile, and a test not using a helper gets no
 * unused-function warning for it.
 */
#pragma once

#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <cmocka.h>

/*
 * Makes a fresh directory /tmp/zk-test-<name>-XXXXXX into buf. Always under /tmp (TMPDIR
 * is not honoured): the name alone tells which test left a directory behind. 0 or -errno.
 */
static inline int unit_tmpdir(char *buf, size_t size, const char *name)
{
	int n = snprintf(buf, size, "/tmp/zk-test-%s-XXXXXX", name);

	if (n < 0 || (size_t) n >= size)
		return -ENAMETOOLONG;
	return mkdtemp(buf) ? 0 : -errno;
}

static inline int unit_rmtree_entry(const char *path, const struct stat *sb, int flag,
				    struct FTW *ftw)
{
	(void) sb;
	(void) flag;
	(void) ftw;
	return remove(path);
}

/*
 * Removes dir and everything under it, children before their directory (FTW_DEPTH); a
 * symbolic link is removed itself, never followed (FTW_PHYS), so nothing outside the tree
 * is touched. NULL or "" (no directory was made): 0. Otherwise 0 or -errno.
 */
static inline int unit_rmtree(const char *dir)
{
	if (!dir || !*dir)
		return 0;
	/* nftw passes the callback's -1 through with remove()'s errno left intact */
	return nftw(dir, unit_rmtree_entry, 16, FTW_DEPTH | FTW_PHYS) ? -errno : 0;
}

/*
 * Open file descriptors of this process, from /proc/self/fd without "." and "..". The
 * descriptor of the listing itself is among them, the same one in every call: counts are
 * for comparing before and after, where it cancels out.
 */
static inline unsigned unit_count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *de;
	unsigned n = 0;

	assert_non_null(d);
	while ((de = readdir(d)))
		n += de->d_name[0] != '.';
	closedir(d);
	return n;
}
