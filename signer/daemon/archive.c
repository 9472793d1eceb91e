/* SPDX-License-Identifier: MIT */
/*
 * signer/daemon/archive.c -- deleted zones kept for a while. See archive.h.
 */
#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "policy/zk-file.h"
#include "policy/zk-macro.h"
#include "signer/daemon/archive.h"
#include "signer/signer.h"

#define ZONE_JSON_MAX (64u << 10)

/* <state_dir>/archive/<zone file name> */
static void zone_archive_root(const pol_config *c, const char *name, char *out, size_t size)
{
	pol_zone z = { .name = (char *) name };
	char dir[PATH_MAX];
	const char *base;

	/* the same file name as the zone's state directory */
	sgn_zone_dir(c, &z, dir, sizeof(dir));
	base = strrchr(dir, '/');
	if ((size_t) snprintf(out, size, "%s/archive/%s", c->paths.state_dir,
			      base ? base + 1 : dir) >= size)
		out[0] = '\0'; /* no such directory: nothing found, nothing made */
}

/* rename, or copy and unlink across file systems (the input directory may be elsewhere) */
static int move_file(const char *from, const char *to, zk_error *reterr)
{
	_cleanup_free_ char *buf = NULL;
	size_t len = 0;
	int r;

	if (rename(from, to) == 0) {
		(void) zk_fsync_parent(to);
		return 0;
	}
	if (errno != EXDEV)
		return zk_fail(reterr, -errno, "cannot move %s to %s", from, to);
	r = zk_file_read(from, SIZE_MAX / 2, &buf, &len);
	if (r < 0)
		return zk_fail(reterr, r, "cannot read %s", from);
	r = zk_file_write_atomic(to, 0644, buf, len, reterr);
	if (r < 0)
		return r;
	if (unlink(from) < 0)
		return zk_fail(reterr, -errno, "cannot remove %s", from);
	(void) zk_fsync_parent(from);
	return 0;
}

int arc_store(const pol_config *c, const pol_zone *z, zk_time_t now, char *ret_dir,
	      size_t size, zk_error *reterr)
{
	char root[PATH_MAX], dir[PATH_MAX], state[PATH_MAX], path[PATH_MAX + 32], ts[32];
	_cleanup_free_ char *text = NULL;
	struct tm tm;
	time_t t = (time_t) now;
	json_t *j;
	int r;

	zone_archive_root(c, z->name, root, sizeof(root));
	gmtime_r(&t, &tm);
	strftime(ts, sizeof(ts), "%Y%m%dT%H%M%SZ", &tm);
	r = zk_mkdir_p(root, 0700);
	if (r < 0)
		return zk_fail(reterr, r, "cannot create %s", root);
	/* a zone deleted twice within a second: <time>-1, -2... sort after <time> */
	for (unsigned i = 0;; i++) {
		int n = i ? snprintf(dir, sizeof(dir), "%s/%s-%u", root, ts, i)
			  : snprintf(dir, sizeof(dir), "%s/%s", root, ts);

		if (n < 0 || (size_t) n >= sizeof(dir))
			return zk_fail(reterr, -ENAMETOOLONG, "archive path too long");
		if (mkdir(dir, 0700) == 0)
			break;
		if (errno != EEXIST || i == 1000)
			return zk_fail(reterr, -errno, "cannot create the archive %s", dir);
	}
	j = json_pack("{s:s,s:s,s:I,s:s}", "zone", z->name, "policy", z->policy->name,
		      "deleted_at", (json_int_t) now, "input_file", z->input_file);
	text = j ? json_dumps(j, JSON_INDENT(2)) : NULL;
	json_decref(j);
	if (!text)
		return zk_fail(reterr, -ENOMEM, "out of memory");
	snprintf(path, sizeof(path), "%s/zone.json", dir);
	r = zk_file_write_atomic(path, 0600, text, strlen(text), reterr);
	if (r < 0)
		return r;
	snprintf(path, sizeof(path), "%s/input.zone", dir);
	if (access(z->input_file, F_OK) == 0) {
		r = move_file(z->input_file, path, reterr);
		if (r < 0)
			return r;
	}
	sgn_zone_dir(c, z, state, sizeof(state));
	snprintf(path, sizeof(path), "%s/state", dir);
	if (rename(state, path) < 0 && errno != ENOENT)
		return zk_fail(reterr, -errno, "cannot move %s to %s", state, path);
	(void) zk_fsync_parent(state);
	(void) zk_fsync_parent(path);
	snprintf(ret_dir, size, "%s", dir);
	return 0;
}

/* Archive names: <time>[-N]; the time has one width, N counts deletes within its second. */
static bool newer(const char *a, const char *b)
{
	size_t la = strcspn(a, "-"), lb = strcspn(b, "-");
	int t = strncmp(a, b, la < lb ? la : lb);

	if (!*b)
		return true;
	if (t || la != lb)
		return t ? t > 0 : la > lb;
	return strtoul(a[la] ? a + la + 1 : "0", NULL, 10) > strtoul(b[lb] ? b + lb + 1 : "0",
								       NULL, 10);
}

int arc_find(const pol_config *c, const char *name, char *ret_dir, size_t size,
	     char **ret_policy, zk_error *reterr)
{
	char root[PATH_MAX], best[64] = "", path[PATH_MAX + 96];
	_cleanup_free_ char *text = NULL;
	const char *policy = NULL;
	struct dirent *de;
	size_t len = 0;
	json_t *j;
	DIR *d;
	int r;

	zone_archive_root(c, name, root, sizeof(root));
	d = opendir(root);
	while (d && (de = readdir(d)))
		if (de->d_name[0] != '.' && strlen(de->d_name) < sizeof(best) &&
		    newer(de->d_name, best))
			memcpy(best, de->d_name, strlen(de->d_name) + 1); /* fits: checked */
	if (d)
		closedir(d);
	if (!best[0])
		return zk_fail(reterr, ZK_E_ZONE_NOT_FOUND, "no archive of zone %s to restore",
			       name);
	snprintf(ret_dir, size, "%s/%s", root, best);
	snprintf(path, sizeof(path), "%s/%s/zone.json", root, best);
	r = zk_file_read_nofollow(path, ZONE_JSON_MAX, &text, &len);
	if (r < 0)
		return zk_fail(reterr, r, "cannot read %s", path);
	j = json_loadb(text, len, 0, NULL);
	if (!j || json_unpack(j, "{s:s}", "policy", &policy) < 0) {
		json_decref(j);
		return zk_fail(reterr, ZK_E_CONFIG, "%s is damaged: no policy in it", path);
	}
	*ret_policy = strdup(policy);
	json_decref(j);
	return *ret_policy ? 0 : zk_fail(reterr, -ENOMEM, "out of memory");
}

int arc_restore(const pol_config *c, const pol_zone *z, const char *dir, zk_error *reterr)
{
	char state[PATH_MAX], path[PATH_MAX + 32];
	int r;

	sgn_zone_dir(c, z, state, sizeof(state));
	if (access(state, F_OK) == 0)
		return zk_fail(reterr, ZK_E_ZONE_EXISTS, "%s exists: remove it first", state);
	if (access(z->input_file, F_OK) == 0)
		return zk_fail(reterr, ZK_E_ZONE_EXISTS, "%s exists: remove it first",
			       z->input_file);
	r = zk_mkdir_p(c->paths.input_dir, 0755);
	if (r >= 0) {
		snprintf(path, sizeof(path), "%s/zones", c->paths.state_dir);
		r = zk_mkdir_p(path, 0700);
	}
	if (r < 0)
		return zk_fail(reterr, r, "cannot create the zone directories");
	snprintf(path, sizeof(path), "%s/state", dir);
	if (rename(path, state) < 0 && errno != ENOENT)
		return zk_fail(reterr, -errno, "cannot move %s to %s", path, state);
	(void) zk_fsync_parent(state);
	snprintf(path, sizeof(path), "%s/input.zone", dir);
	if (access(path, F_OK) == 0) {
		r = move_file(path, z->input_file, reterr);
		if (r < 0)
			return r;
	}
	snprintf(path, sizeof(path), "%s/zone.json", dir);
	(void) unlink(path);
	(void) rmdir(dir);
	(void) zk_fsync_parent(dir);
	return 0;
}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void) (flag == FTW_DP ? rmdir(path) : unlink(path));
	return 0;
}

size_t arc_purge(const pol_config *c, zk_time_t now, uint32_t days)
{
	char root[PATH_MAX], zdir[PATH_MAX + 256], dir[PATH_MAX * 2];
	struct dirent *de, *de2;
	size_t removed = 0;
	DIR *d, *d2;

	snprintf(root, sizeof(root), "%s/archive", c->paths.state_dir);
	d = opendir(root);
	while (d && (de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(zdir, sizeof(zdir), "%s/%s", root, de->d_name);
		d2 = opendir(zdir);
		while (d2 && (de2 = readdir(d2))) {
			struct tm tm = { 0 };
			const char *end;

			if (de2->d_name[0] == '.')
				continue;
			end = strptime(de2->d_name, "%Y%m%dT%H%M%SZ", &tm);
			if (!end || (*end && *end != '-') ||
			    (zk_time_t) timegm(&tm) + (zk_time_t) days * 86400 > now)
				continue;
			snprintf(dir, sizeof(dir), "%s/%s", zdir, de2->d_name);
			if (nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS) == 0)
				removed++;
		}
		if (d2)
			closedir(d2);
		(void) rmdir(zdir); /* when it is empty */
	}
	if (d)
		closedir(d);
	return removed;
}
