/* SPDX-License-Identifier: MIT */
/*
 * signer/journal.c -- see journal.h.
 *
 * Line format: "<seq> <n> <change>... <check>\n", each change "<A|D>:<owner hex>:<type>:
 * <ttl>:<rdata hex>", check = 16 hex digits of a 64-bit FNV-1a over everything before it.
 * The checksum detects torn and damaged lines; the file is private to the daemon (0600).
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "policy/zk-codec.h"
#include "policy/zk-file.h"
#include "policy/zk-macro.h"
#include "signer/journal.h"

#define JNL_MAX_FILE (1024u * 1024 * 1024) /* a journal is written back long before this */

/*
 * No file descriptor is held between calls (a daemon carries 100k zones): jnl_sync and
 * jnl_rewrite open the file by its path and close it before they return.
 */
struct jnl {
	char *path;
	uint64_t next_seq;
	uint64_t size;
	char *buf;
	size_t len, cap;
	size_t damaged; /* lines skipped when it was opened */
	bool broken;
	bool dir_unsynced; /* created by jnl_open: its directory entry is not durable yet */
};

static int reserve(char **buf, size_t *cap, size_t need)
{
	char *nb;
	size_t nc = *cap ? *cap : 4096;

	if (need <= *cap)
		return 0;
	while (nc < need)
		nc *= 2;
	nb = realloc(*buf, nc);
	if (!nb)
		return -ENOMEM;
	*buf = nb;
	*cap = nc;
	return 0;
}

static void put_hex(char *out, const uint8_t *data, size_t len)
{
	static const char hex[] = "0123456789abcdef";

	for (size_t i = 0; i < len; i++) {
		out[2 * i] = hex[data[i] >> 4];
		out[2 * i + 1] = hex[data[i] & 15];
	}
}

/* Append one write to buf. */
static int format_write(char **buf, size_t *len, size_t *cap, const rec_op *ops, size_t n)
{
	size_t start = *len, need = 64;
	int w;

	for (size_t i = 0; i < n; i++)
		need += 40 + 2 * (DN_MAXLEN + (size_t) ops[i].rr.rdlen);
	if (reserve(buf, cap, *len + need) < 0)
		return -ENOMEM;
	w = snprintf(*buf + *len, need, "%llu %zu", (unsigned long long) ops[0].seq, n);
	*len += (size_t) w;
	for (size_t i = 0; i < n; i++) {
		const rec_rr *rr = &ops[i].rr;
		size_t olen = dn_len(rr->owner);
		char *p = *buf + *len;

		*p++ = ' ';
		*p++ = (char) ops[i].kind;
		*p++ = ':';
		put_hex(p, rr->owner, olen);
		p += 2 * olen;
		p += sprintf(p, ":%u:%u:", rr->type, rr->ttl);
		put_hex(p, rr->rdata, rr->rdlen);
		p += 2 * (size_t) rr->rdlen;
		*len = (size_t) (p - *buf);
	}
	w = snprintf(*buf + *len, 20, " %016llx\n",
		     (unsigned long long) zk_fnv1a64(*buf + start, *len - start));
	*len += (size_t) w;
	return 0;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

static int get_hex(const char *s, size_t len, uint8_t *out, size_t max)
{
	if (len % 2 || len / 2 > max)
		return -EINVAL;
	for (size_t i = 0; i < len; i += 2) {
		int a = hexval(s[i]), b = hexval(s[i + 1]);

		if (a < 0 || b < 0)
			return -EINVAL;
		out[i / 2] = (uint8_t) (a << 4 | b);
	}
	return (int) (len / 2);
}

/* Exactly one well-formed wire name in the n bytes (a bounded walk: the file is input). */
static bool wire_name_ok(const uint8_t *w, size_t n)
{
	size_t pos = 0;

	while (pos < n && w[pos] != 0) {
		if (w[pos] > 63)
			return false;
		pos += 1 + (size_t) w[pos];
	}
	return pos + 1 == n;
}

/* Parse one change "K:owner:type:ttl:rdata" of [s, e). */
static int parse_change(const char *s, const char *e, uint64_t seq, rec_op *op)
{
	const char *f[5];
	size_t flen[5];
	uint8_t rd[65535];
	unsigned long type, ttl;
	char num[16];
	int k = 0, n;

	f[0] = s;
	for (const char *p = s; p < e && k < 5; p++)
		if (*p == ':') {
			flen[k] = (size_t) (p - f[k]);
			if (++k < 5)
				f[k] = p + 1;
		}
	if (k != 4)
		return -EINVAL;
	flen[4] = (size_t) (e - f[4]);
	if (flen[0] != 1 || (f[0][0] != 'A' && f[0][0] != 'D'))
		return -EINVAL;
	memset(op, 0, sizeof(*op));
	op->seq = seq;
	op->kind = (rec_op_kind) f[0][0];
	n = get_hex(f[1], flen[1], op->rr.owner, DN_MAXLEN);
	if (n <= 0 || !wire_name_ok(op->rr.owner, (size_t) n))
		return -EINVAL;
	if (flen[2] == 0 || flen[2] >= sizeof(num) || flen[3] == 0 || flen[3] >= sizeof(num))
		return -EINVAL;
	memcpy(num, f[2], flen[2]);
	num[flen[2]] = '\0';
	type = strtoul(num, NULL, 10);
	memcpy(num, f[3], flen[3]);
	num[flen[3]] = '\0';
	ttl = strtoul(num, NULL, 10);
	if (type == 0 || type > 65535 || ttl > 2147483647ul)
		return -EINVAL;
	op->rr.type = (uint16_t) type;
	op->rr.ttl = (uint32_t) ttl;
	n = get_hex(f[4], flen[4], rd, sizeof(rd));
	if (n < 0)
		return -EINVAL;
	op->rr.rdlen = (uint16_t) n;
	op->rr.rdata = malloc(n ? (size_t) n : 1);
	if (!op->rr.rdata)
		return -ENOMEM;
	memcpy(op->rr.rdata, rd, (size_t) n);
	return 0;
}

/* Parse one line (without its newline); appends its changes to *ops. */
static int parse_line(const char *line, size_t len, rec_op **ops, size_t *n, size_t *cap,
		      uint64_t *ret_seq)
{
	const char *sp = memrchr(line, ' ', len), *p, *e;
	char check[17], *end;
	unsigned long long seq;
	unsigned long count;

	if (!sp || (size_t) (line + len - sp - 1) != 16)
		return -EINVAL;
	snprintf(check, sizeof(check), "%016llx",
		 (unsigned long long) zk_fnv1a64(line, (size_t) (sp - line)));
	if (memcmp(check, sp + 1, 16) != 0)
		return -EINVAL;
	seq = strtoull(line, &end, 10);
	if (end == line || *end != ' ')
		return -EINVAL;
	count = strtoul(end + 1, &end, 10);
	if (count == 0 || count > 1000000)
		return -EINVAL;
	p = end;
	for (unsigned long i = 0; i < count; i++) {
		int r;

		if (p >= sp || *p != ' ')
			return -EINVAL;
		p++;
		e = memchr(p, ' ', (size_t) (sp - p));
		if (!e)
			e = sp;
		if (*n == *cap) {
			size_t nc = *cap ? *cap * 2 : 64;
			rec_op *no = realloc(*ops, nc * sizeof(*no));

			if (!no)
				return -ENOMEM;
			*ops = no;
			*cap = nc;
		}
		r = parse_change(p, e, seq, &(*ops)[*n]);
		if (r < 0)
			return r;
		(*n)++;
		p = e;
	}
	if (p != sp)
		return -EINVAL;
	*ret_seq = seq;
	return 0;
}

/* Keep the journal as it was found beside it, for whoever investigates the damage. */
static void keep_damaged_copy(const char *path, const char *data, size_t len,
			      const zk_diag *diag)
{
	char copy[PATH_MAX];
	zk_error e = { 0 };

	snprintf(copy, sizeof(copy), "%s.damaged", path);
	if (zk_file_write_atomic(copy, 0600, data, len, &e) < 0)
		zk_diag_emit(diag, ZK_LOG_WARNING, path, 0, "journal: cannot keep a copy: %s",
			     e.message);
}

/* 0 if a file can be created beside `path` (its directory is writable), else -errno. */
static int dir_writable(const char *path)
{
	_cleanup_free_ char *copy = strdup(path);

	if (!copy)
		return -ENOMEM;
	return access(dirname(copy), W_OK) < 0 ? -errno : 0;
}

int jnl_open(const char *path, const zk_diag *diag, jnl **ret, rec_op **ret_ops,
	     size_t *ret_n, zk_error *reterr)
{
	jnl *j = calloc(1, sizeof(*j));
	_cleanup_free_ char *data = NULL;
	rec_op *ops = NULL;
	size_t len = 0, n = 0, cap = 0, good = 0, damaged = 0;
	unsigned lineno = 0;
	uint64_t last = 0;
	bool missing;
	int fd, r;

	if (!j || !(j->path = strdup(path))) {
		free(j);
		return zk_fail(reterr, -ENOMEM, "out of memory");
	}
	/* not through a symlink: the daemon truncates and replaces this file */
	r = zk_file_read_nofollow(path, JNL_MAX_FILE, &data, &len);
	missing = r == -ENOENT;
	if (r < 0 && !missing) {
		jnl_free(j);
		return zk_fail(reterr, r, "cannot read the journal %s%s", path,
			       r == -ELOOP ? " (a symbolic link; refusing to follow it)" : "");
	}
	/*
	 * Each line is one write, delimited and checksummed on its own: a damaged line is
	 * skipped and the intact ones after it are kept. Only a last line without its
	 * newline is a write that never completed (it was never acknowledged).
	 */
	for (size_t pos = 0; data && pos < len;) {
		const char *nl = memchr(data + pos, '\n', len - pos);
		size_t before = n;
		uint64_t seq;

		if (!nl)
			break;
		lineno++;
		r = parse_line(data + pos, (size_t) (nl - data - pos), &ops, &n, &cap, &seq);
		if (r == -ENOMEM) {
			rec_ops_free(ops, n);
			jnl_free(j);
			return zk_fail(reterr, r, "out of memory");
		}
		if (r < 0 || seq <= last) {
			for (size_t i = before; i < n; i++)
				rec_rr_clear(&ops[i].rr);
			n = before;
			damaged++;
			zk_diag_emit(diag, ZK_LOG_ERR, path, lineno,
				     "journal: line %u is damaged and was skipped: an acknowledged "
				     "write is lost (the writes after it are kept; the journal as it "
				     "was is in %s.damaged)", lineno, path);
		} else {
			last = seq;
		}
		pos = (size_t) (nl - data) + 1;
		good = pos;
	}
	if (good < len)
		zk_diag_emit(diag, ZK_LOG_WARNING, path, 0,
			     "journal: dropping %zu bytes of an unfinished write at its end "
			     "(never acknowledged)", len - good);
	if (damaged)
		keep_damaged_copy(path, data, len, diag);
	/*
	 * Checked writable, so that a failure shows here, at start. A missing journal is
	 * created by the first write (open_for_append): a zone nobody writes to through the
	 * API costs no file.
	 */
	fd = missing ? dir_writable(path) : open(path, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0 || (good < len && ftruncate(fd, (off_t) good) < 0)) {
		r = fd < 0 && missing ? fd : -errno;
		if (fd >= 0 && !missing)
			close(fd);
		rec_ops_free(ops, n);
		jnl_free(j);
		return zk_fail(reterr, r, "cannot %s the journal %s%s", missing ? "create" : "open",
			       path, r == -ELOOP ? " (a symbolic link; refusing to follow it)" : "");
	}
	if (!missing) {
		if (good < len)
			(void) fdatasync(fd);
		close(fd);
	}
	j->dir_unsynced = missing;
	j->size = good;
	j->next_seq = last + 1;
	j->damaged = damaged;
	/* the damaged lines go: a later open must not report them again */
	if (damaged) {
		r = jnl_rewrite(j, ops, n, reterr);
		if (r < 0) {
			rec_ops_free(ops, n);
			jnl_free(j);
			zk_error_prefix(reterr, "cannot rewrite the damaged journal");
			return r;
		}
	}
	*ret = j;
	*ret_ops = ops;
	*ret_n = n;
	return 0;
}

size_t jnl_damaged(const jnl *j)
{
	return j->damaged;
}

jnl *jnl_free(jnl *j)
{
	if (!j)
		return NULL;
	free(j->buf);
	free(j->path);
	free(j);
	return NULL;
}

uint64_t jnl_next_seq(const jnl *j)
{
	return j->next_seq;
}

uint64_t jnl_size(const jnl *j)
{
	return j->size + j->len;
}

int jnl_append(jnl *j, const rec_op *ops, size_t n)
{
	int r;

	if (!n)
		return 0;
	r = format_write(&j->buf, &j->len, &j->cap, ops, n);
	if (r < 0)
		return r;
	j->next_seq = ops[0].seq + 1;
	return 0;
}

/* After a failed write: cut the partial line so later writes do not follow garbage. */
static void cut_back(jnl *j, int fd)
{
	/* if even that fails, refuse every later write: one after garbage would be lost */
	if (ftruncate(fd, (off_t) j->size) < 0)
		j->broken = true;
	j->len = 0;
}

/*
 * Open the journal to append to it; *ret_size: its size now. A journal removed behind our
 * back is created again (its directory entry then has to be made durable), so that what
 * is acknowledged is in the file the next start reads.
 */
static int open_for_append(jnl *j, uint64_t *ret_size)
{
	struct stat sb;
	int fd, r;

	fd = open(j->path, O_WRONLY | O_APPEND | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0 && errno == ENOENT) {
		fd = open(j->path, O_WRONLY | O_APPEND | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW,
			  0600);
		if (fd >= 0)
			j->dir_unsynced = true;
	}
	if (fd < 0)
		return -errno;
	if (fstat(fd, &sb) < 0) {
		r = -errno;
		close(fd);
		return r;
	}
	*ret_size = (uint64_t) sb.st_size;
	return fd;
}

int jnl_sync(jnl *j, zk_error *reterr)
{
	size_t off = 0;
	int fd, r;

	if (j->broken) {
		j->len = 0;
		return zk_fail(reterr, -EIO, "the journal %s failed earlier; restart the daemon",
			       j->path);
	}
	if (!j->len)
		return 0;
	fd = open_for_append(j, &j->size);
	if (fd < 0) {
		j->len = 0;
		return zk_fail(reterr, fd, "cannot open the journal %s%s", j->path,
			       fd == -ELOOP ? " (a symbolic link; refusing to follow it)" : "");
	}
	while (off < j->len) {
		ssize_t w = write(fd, j->buf + off, j->len - off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			r = w < 0 ? -errno : -EIO;
			cut_back(j, fd);
			close(fd);
			return zk_fail(reterr, r, "cannot write the journal %s", j->path);
		}
		off += (size_t) w;
	}
	r = fdatasync(fd) < 0 ? -errno : 0;
	/* a journal created since the last sync: its name must survive a crash too */
	if (r == 0 && j->dir_unsynced)
		r = zk_fsync_parent(j->path);
	if (r < 0) {
		cut_back(j, fd);
		close(fd);
		return zk_fail(reterr, r, "cannot sync the journal %s", j->path);
	}
	close(fd);
	j->dir_unsynced = false;
	j->size += j->len;
	j->len = 0;
	return 0;
}

int jnl_rewrite(jnl *j, const rec_op *ops, size_t n, zk_error *reterr)
{
	_cleanup_free_ char *buf = NULL;
	size_t len = 0, cap = 0;
	int r;

	for (size_t i = 0; i < n;) {
		size_t k = i + 1;

		while (k < n && ops[k].seq == ops[i].seq)
			k++;
		if (format_write(&buf, &len, &cap, ops + i, k - i) < 0)
			return zk_fail(reterr, -ENOMEM, "out of memory");
		i = k;
	}
	/* renamed into place and its directory fsynced; the next jnl_sync appends to it */
	r = zk_file_write_atomic(j->path, 0600, buf ? buf : "", len, reterr);
	if (r < 0)
		return r;
	j->dir_unsynced = false;
	j->size = len;
	return 0;
}
