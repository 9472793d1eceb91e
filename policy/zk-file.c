/* SPDX-License-Identifier: MIT */
/*
 * policy/zk-file.c -- see zk-file.h. The write buffer is large (1 MiB) because published
 * zones run to hundreds of megabytes and write(2) per record would dominate.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "policy/zk-file.h"
#include "policy/zk-macro.h"

#define ATOMIC_BUF (1u << 20)

static int write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += w;
		n -= (size_t) w;
	}
	return 0;
}

bool zk_same_file(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino && a->st_size == b->st_size &&
	       a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec;
}

int zk_fsync_parent(const char *path)
{
	_cleanup_free_ char *copy = strdup(path);
	_cleanup_close_ int dfd = -1;

	if (!copy)
		return -ENOMEM;
	dfd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return -errno;
	if (fsync(dfd) < 0)
		return -errno;
	return 0;
}

int zk_atomic_open(const char *path, mode_t mode, zk_atomic *ret, zk_error *reterr)
{
	zk_atomic a = { .fd = -1 };
	int r;

	a.path = strdup(path);
	if (!a.path || asprintf(&a.tmp_path, "%s.tmp.XXXXXX", path) < 0) {
		free(a.path);
		return zk_fail(reterr, -ENOMEM, "out of memory");
	}
	a.buf = malloc(ATOMIC_BUF);
	if (!a.buf) {
		r = -ENOMEM;
		goto fail;
	}
	a.buf_cap = ATOMIC_BUF;
	a.fd = mkostemp(a.tmp_path, O_CLOEXEC);
	if (a.fd < 0) {
		r = -errno;
		goto fail;
	}
	/* mkostemp creates 0600; set the final mode before any data is written. */
	if (fchmod(a.fd, mode) < 0) {
		r = -errno;
		unlink(a.tmp_path);
		close(a.fd);
		goto fail;
	}
	*ret = a;
	return 0;
fail:
	r = zk_fail(reterr, r, "cannot create a temporary file for '%s'", path);
	free(a.buf);
	free(a.tmp_path);
	free(a.path);
	return r;
}

#define KICK_BYTES (8u << 20)

/*
 * A large file: start writing back what is complete while the rest is produced, so the
 * final fsync waits for the last few MiB rather than for the whole file (the disk works
 * in parallel with the copying and formatting). Only a hint: errors show at fsync.
 */
static void kick_writeback(zk_atomic *a)
{
	if (a->off - a->kicked < KICK_BYTES)
		return;
	(void) sync_file_range(a->fd, (off64_t) a->kicked, (off64_t) (a->off - a->kicked),
			       SYNC_FILE_RANGE_WRITE);
	a->kicked = a->off;
}

static void put_all(zk_atomic *a, const void *data, size_t len)
{
	int r = write_all(a->fd, data, len);

	if (r < 0) {
		a->error = r;
		return;
	}
	a->off += len;
	kick_writeback(a);
}

static void flush_buf(zk_atomic *a)
{
	if (a->buf_len == 0 || a->error)
		return;
	put_all(a, a->buf, a->buf_len);
	a->buf_len = 0;
}

void zk_atomic_write(zk_atomic *a, const void *data, size_t len)
{
	if (a->error || len == 0)
		return;
	if (a->buf_len + len > a->buf_cap) {
		flush_buf(a);
		if (len >= a->buf_cap) {
			put_all(a, data, len);
			return;
		}
	}
	memcpy(a->buf + a->buf_len, data, len);
	a->buf_len += len;
}

void zk_atomic_copy(zk_atomic *a, int fd, uint64_t off, uint64_t len)
{
	char chunk[65536];
	loff_t in = (loff_t) off;

	flush_buf(a);
	while (!a->error && len > 0) {
		ssize_t n = copy_file_range(fd, &in, a->fd, NULL, len < KICK_BYTES ? len : KICK_BYTES, 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EXDEV || errno == ENOSYS || errno == EINVAL ||
			      errno == EOPNOTSUPP)) {
			/* not between these files: read and write */
			n = pread(fd, chunk, len < sizeof(chunk) ? len : sizeof(chunk), in);
			if (n > 0) {
				int r = write_all(a->fd, chunk, (size_t) n);

				if (r < 0)
					a->error = r;
				in += n;
			}
		}
		if (n < 0) {
			a->error = -errno;
		} else if (n == 0) {
			a->error = -EIO; /* the source is shorter than it was: never publish that */
		} else {
			len -= (uint64_t) n;
			a->off += (uint64_t) n;
			kick_writeback(a);
		}
	}
}

static void atomic_release(zk_atomic *a)
{
	/* the buffer may have held key material (key files go through here too) */
	if (a->buf)
		zk_wipe(a->buf, a->buf_cap);
	free(a->buf);
	free(a->tmp_path);
	free(a->path);
	a->buf = a->tmp_path = a->path = NULL;
	a->fd = -1;
}

void zk_atomic_abort(zk_atomic *a)
{
	if (!a || !a->path)
		return;
	if (a->fd >= 0) {
		close(a->fd);
		unlink(a->tmp_path);
	}
	atomic_release(a);
}

int zk_atomic_sync(zk_atomic *a, struct stat *ret_st, zk_error *reterr)
{
	int r;

	flush_buf(a);
	r = a->error;
	if (r == 0 && fsync(a->fd) < 0)
		r = -errno;
	if (r == 0 && ret_st && fstat(a->fd, ret_st) < 0)
		r = -errno;
	if (r < 0) {
		a->error = r;
		return zk_fail(reterr, r, "cannot write '%s'", a->path);
	}
	a->synced = 1;
	return 0;
}

int zk_atomic_commit(zk_atomic *a, zk_error *reterr)
{
	int r;

	flush_buf(a);
	r = a->error;
	if (r == 0 && !a->synced && fsync(a->fd) < 0)
		r = -errno;
	if (close(a->fd) < 0 && r == 0)
		r = -errno;
	a->fd = -1;
	if (r == 0 && rename(a->tmp_path, a->path) < 0)
		r = -errno;
	if (r < 0) {
		unlink(a->tmp_path);
		r = zk_fail(reterr, r, "cannot write '%s'", a->path);
		atomic_release(a);
		return r;
	}
	r = zk_fsync_parent(a->path);
	if (r < 0)
		r = zk_fail(reterr, r, "cannot sync the directory of '%s'", a->path);
	atomic_release(a);
	return r;
}

int zk_file_write_atomic(const char *path, mode_t mode, const void *data, size_t len,
			 zk_error *reterr)
{
	zk_atomic a;
	int r;

	r = zk_atomic_open(path, mode, &a, reterr);
	if (r < 0)
		return r;
	zk_atomic_write(&a, data, len);
	return zk_atomic_commit(&a, reterr);
}

static int file_read(const char *path, int flags, size_t max, char **ret, size_t *ret_len)
{
	_cleanup_close_ int fd = -1;
	_cleanup_free_ char *buf = NULL;
	size_t len = 0, cap = 4096;

	fd = open(path, O_RDONLY | O_CLOEXEC | flags);
	if (fd < 0)
		return -errno;
	buf = malloc(cap);
	if (!buf)
		return -ENOMEM;
	for (;;) {
		ssize_t n;

		if (len + 1 >= cap) {
			char *nb;

			if (cap > max + 1)
				return -EFBIG;
			cap *= 2;
			nb = realloc(buf, cap);
			if (!nb)
				return -ENOMEM;
			buf = nb;
		}
		n = read(fd, buf + len, cap - len - 1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			break;
		len += (size_t) n;
		if (len > max)
			return -EFBIG;
	}
	buf[len] = '\0';
	*ret = ZK_TAKE(buf);
	if (ret_len)
		*ret_len = len;
	return 0;
}

int zk_file_read(const char *path, size_t max, char **ret, size_t *ret_len)
{
	return file_read(path, 0, max, ret, ret_len);
}

int zk_file_read_nofollow(const char *path, size_t max, char **ret, size_t *ret_len)
{
	return file_read(path, O_NOFOLLOW, max, ret, ret_len);
}

int zk_mkdir_p(const char *path, mode_t mode)
{
	_cleanup_free_ char *p = strdup(path);
	size_t n;

	if (!p)
		return -ENOMEM;
	n = strlen(p);
	while (n > 1 && p[n - 1] == '/')
		p[--n] = '\0';
	for (char *s = p + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(p, mode) < 0 && errno != EEXIST)
			return -errno;
		*s = '/';
	}
	if (mkdir(p, mode) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}
