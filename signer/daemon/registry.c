/* SPDX-License-Identifier: MIT */
/*
 * signer/daemon/registry.c -- the zones created through the API. See registry.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "policy/zk-file.h"
#include "policy/zk-macro.h"
#include "signer/daemon/registry.h"

#define REG_MAX_BYTES (1u << 30)
#define REG_COMPACT_MIN 1024 /* lines: no rewrite for a small registry */

struct reg {
	char *path;
	reg_entry *e;        /* sorted by name */
	size_t n, cap;
	size_t lines;        /* lines in the file */
};

static void entry_clear(reg_entry *e)
{
	free(e->name);
	free(e->policy);
}

reg *reg_free(reg *r)
{
	if (!r)
		return NULL;
	for (size_t i = 0; i < r->n; i++)
		entry_clear(&r->e[i]);
	free(r->e);
	free(r->path);
	free(r);
	return NULL;
}

static size_t lower(const reg *r, const char *name)
{
	size_t lo = 0, hi = r->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (strcmp(r->e[mid].name, name) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

const reg_entry *reg_find(const reg *r, const char *name)
{
	size_t i = lower(r, name);

	return i < r->n && !strcmp(r->e[i].name, name) ? &r->e[i] : NULL;
}

const reg_entry *reg_entries(const reg *r, size_t *ret_n)
{
	*ret_n = r->n;
	return r->e;
}

/* In memory only. Replaces an entry of the same name. */
static int put(reg *r, const char *name, const char *policy, zk_time_t at)
{
	size_t i = lower(r, name);
	reg_entry e = { .name = strdup(name), .policy = strdup(policy), .created = at };

	if (!e.name || !e.policy) {
		entry_clear(&e);
		return -ENOMEM;
	}
	if (i < r->n && !strcmp(r->e[i].name, name)) {
		entry_clear(&r->e[i]);
		r->e[i] = e;
		return 0;
	}
	if (r->n == r->cap) {
		size_t cap = r->cap ? r->cap * 2 : 64;
		reg_entry *v = realloc(r->e, cap * sizeof(*v));

		if (!v) {
			entry_clear(&e);
			return -ENOMEM;
		}
		r->e = v;
		r->cap = cap;
	}
	memmove(r->e + i + 1, r->e + i, (r->n - i) * sizeof(*r->e));
	r->e[i] = e;
	r->n++;
	return 0;
}

static void drop(reg *r, const char *name)
{
	size_t i = lower(r, name);

	if (i < r->n && !strcmp(r->e[i].name, name)) {
		entry_clear(&r->e[i]);
		memmove(r->e + i, r->e + i + 1, (r->n - i - 1) * sizeof(*r->e));
		r->n--;
	}
}

static char *line_add(const reg_entry *e)
{
	json_t *j = json_pack("{s:s,s:s,s:I}", "add", e->name, "policy", e->policy, "at",
			      (json_int_t) e->created);
	char *s = j ? json_dumps(j, JSON_COMPACT) : NULL;

	json_decref(j);
	return s;
}

/* Rewrite the file with the live entries only (atomic). */
static int compact(reg *r, zk_error *reterr)
{
	zk_atomic a;
	int ret = zk_atomic_open(r->path, 0600, &a, reterr);

	if (ret < 0)
		return ret;
	for (size_t i = 0; i < r->n; i++) {
		char *s = line_add(&r->e[i]);

		if (!s) {
			zk_atomic_abort(&a);
			return zk_fail(reterr, -ENOMEM, "out of memory");
		}
		zk_atomic_write(&a, s, strlen(s));
		zk_atomic_write(&a, "\n", 1);
		free(s);
	}
	ret = zk_atomic_commit(&a, reterr);
	if (ret >= 0)
		r->lines = r->n;
	return ret;
}

/* One line of the log; false if it is damaged. */
static bool apply_line(reg *r, const char *line, size_t len, int *ret)
{
	json_t *j = json_loadb(line, len, 0, NULL);
	const char *add = NULL, *del = NULL, *policy = NULL;
	json_int_t at = 0;
	bool ok = false;

	*ret = 0;
	if (j && json_unpack(j, "{s:s,s:s,s?I}", "add", &add, "policy", &policy, "at", &at) == 0) {
		*ret = put(r, add, policy, (zk_time_t) at);
		ok = true;
	} else if (j && json_unpack(j, "{s:s}", "del", &del) == 0) {
		drop(r, del);
		ok = true;
	}
	json_decref(j);
	return ok;
}

int reg_open(const char *path, reg **ret, size_t *ret_damaged, zk_error *reterr)
{
	_cleanup_free_ char *buf = NULL;
	size_t len = 0, damaged = 0;
	reg *r = calloc(1, sizeof(*r));
	int res;

	if (!r || !(r->path = strdup(path))) {
		reg_free(r);
		return zk_fail(reterr, -ENOMEM, "out of memory");
	}
	res = zk_file_read_nofollow(path, REG_MAX_BYTES, &buf, &len);
	if (res == -ENOENT) {
		res = compact(r, reterr); /* an empty file: the directory is writable */
		if (res < 0) {
			reg_free(r);
			return res;
		}
		*ret = r;
		*ret_damaged = 0;
		return 0;
	}
	if (res < 0) {
		reg_free(r);
		return zk_fail(reterr, res, "cannot read the zone registry %s", path);
	}
	size_t off = 0;

	while (off < len) {
		const char *nl = memchr(buf + off, '\n', len - off);
		size_t l;
		int r2 = 0;

		if (!nl)
			break; /* cut short by a crash: never acknowledged */
		l = (size_t) (nl - (buf + off));
		if (l && !apply_line(r, buf + off, l, &r2))
			damaged++;
		if (r2 < 0) {
			reg_free(r);
			return zk_fail(reterr, r2, "out of memory");
		}
		r->lines++;
		off += l + 1;
	}
	/* a line a crash cut short goes, or the next one appended would be glued to it */
	if (off < len) {
		int fd = open(path, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);

		res = fd < 0 || ftruncate(fd, (off_t) off) < 0 || fsync(fd) < 0 ? -errno : 0;
		if (fd >= 0)
			close(fd);
		if (res < 0) {
			reg_free(r);
			return zk_fail(reterr, res, "cannot cut the torn last line of %s", path);
		}
	}
	/* a damaged line stays in the file (for a person to look at) until it is compacted */
	if (!damaged && r->lines > 2 * r->n + REG_COMPACT_MIN) {
		res = compact(r, reterr);
		if (res < 0) {
			reg_free(r);
			return res;
		}
	}
	*ret = r;
	*ret_damaged = damaged;
	return 0;
}

static int append(reg *r, const char *line, zk_error *reterr)
{
	size_t len = strlen(line);
	int fd = open(r->path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	ssize_t w;

	if (fd < 0)
		return zk_fail(reterr, -errno, "cannot open the zone registry %s", r->path);
	w = write(fd, line, len);
	if (w != (ssize_t) len || fdatasync(fd) < 0) {
		int e = w < 0 || w == (ssize_t) len ? -errno : -ENOSPC;
		struct stat sb;

		/* take a partial line back out, so that the next one starts a line */
		if (w > 0 && fstat(fd, &sb) == 0 && ftruncate(fd, sb.st_size - w) < 0)
			e = -errno;
		close(fd);
		return zk_fail(reterr, e ? e : -EIO, "cannot write the zone registry %s", r->path);
	}
	close(fd);
	r->lines++;
	return 0;
}

static void maybe_compact(reg *r)
{
	zk_error e;

	/* best effort: the log is complete as it is */
	if (r->lines > 2 * r->n + REG_COMPACT_MIN)
		(void) compact(r, &e);
}

int reg_add(reg *r, const char *name, const char *policy, zk_time_t now, zk_error *reterr)
{
	reg_entry e = { .name = (char *) name, .policy = (char *) policy, .created = now };
	_cleanup_free_ char *s = line_add(&e);
	_cleanup_free_ char *line = NULL;
	int res;

	if (!s || asprintf(&line, "%s\n", s) < 0)
		return zk_fail(reterr, -ENOMEM, "out of memory");
	res = append(r, line, reterr);
	if (res < 0)
		return res;
	res = put(r, name, policy, now);
	if (res < 0)
		return zk_fail(reterr, res, "out of memory");
	return 0;
}

int reg_del(reg *r, const char *name, zk_error *reterr)
{
	json_t *j = json_pack("{s:s}", "del", name);
	_cleanup_free_ char *s = j ? json_dumps(j, JSON_COMPACT) : NULL;
	_cleanup_free_ char *line = NULL;
	int res;

	json_decref(j);
	if (!s || asprintf(&line, "%s\n", s) < 0)
		return zk_fail(reterr, -ENOMEM, "out of memory");
	res = append(r, line, reterr);
	if (res < 0)
		return res;
	drop(r, name);
	maybe_compact(r);
	return 0;
}
