/* SPDX-License-Identifier: MIT */
/*
 * signer/lock.c -- see lock.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "policy/zk-file.h"
#include "policy/zk-macro.h"
#include "signer/lock.h"

struct sgn_lock {
	int fd;
};

static int refuse(zk_error *reterr, const char *dir, sgn_lock_kind kind,
		  const struct flock *held)
{
	const char *holder = held->l_type == F_WRLCK ? "zonekeeperd" : "zonekeeper sign";

	if (kind == SGN_LOCK_TOOL)
		return zk_fail(reterr, ZK_E_CONFLICT,
			       "%s (PID %ld) publishes the zones of %s: change them through it "
			       "(zonekeeper record, zone, key) or stop it first",
			       holder, (long) held->l_pid, dir);
	return zk_fail(reterr, ZK_E_CONFLICT,
		       "%s (PID %ld) is publishing from %s: one publisher at a time", holder,
		       (long) held->l_pid, dir);
}

int sgn_lock_take(const char *state_dir, sgn_lock_kind kind, sgn_lock **ret,
		  zk_error *reterr)
{
	struct flock fl = { .l_type = kind == SGN_LOCK_DAEMON ? F_WRLCK : F_RDLCK,
			    .l_whence = SEEK_SET };
	_cleanup_close_ int fd = -1;
	char path[4096];
	sgn_lock *l;
	int r;

	r = zk_mkdir_p(state_dir, 0755);
	if (r < 0)
		return zk_fail(reterr, r, "cannot create the state directory %s", state_dir);
	if (snprintf(path, sizeof(path), "%s/lock", state_dir) >= (int) sizeof(path))
		return zk_fail(reterr, -ENAMETOOLONG, "%s", state_dir);
	/* read-write whatever the kind: a shared POSIX lock needs a readable fd, an exclusive
	 * one a writable fd, and one mode keeps the file's creation in one place */
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0)
		return zk_fail(reterr, -errno, "cannot open %s", path);
	/* F_SETLK can fail between two F_GETLKs by a holder going away: ask again, bounded */
	for (int tries = 0; tries < 3; tries++) {
		struct flock held = fl;

		if (fcntl(fd, F_SETLK, &fl) == 0)
			break;
		if (errno != EACCES && errno != EAGAIN)
			return zk_fail(reterr, -errno, "cannot lock %s", path);
		if (fcntl(fd, F_GETLK, &held) < 0)
			return zk_fail(reterr, -errno, "cannot lock %s", path);
		if (held.l_type != F_UNLCK)
			return refuse(reterr, state_dir, kind, &held);
		if (tries == 2)
			return zk_fail(reterr, ZK_E_CONFLICT, "cannot lock %s: busy", path);
	}
	l = malloc(sizeof(*l));
	if (!l)
		return zk_fail(reterr, -ENOMEM, "out of memory");
	l->fd = ZK_TAKE_FD(fd);
	*ret = l;
	return 0;
}

sgn_lock *sgn_lock_free(sgn_lock *l)
{
	if (l) {
		close(l->fd); /* drops the lock */
		free(l);
	}
	return NULL;
}
