/* SPDX-License-Identifier: MIT */
/*
 * tests/unit/test_journal.c -- the journal of accepted API writes (signer/journal.c):
 * appends made durable by jnl_sync and read back in order on open, a torn tail cut off
 * (and the sequence continuing from what survived), a damaged line costing only its own
 * write (kept in a copy, reported as an error), no symlink followed, writes of several
 * changes, jnl_rewrite, and the file's mode. No file descriptor is held between calls.
 */
#include <dirent.h>
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

#include "policy/zk-error.h"
#include "policy/zk-file.h"
#include "signer/dname.h"
#include "signer/journal.h"
#include "signer/records.h"
#include "tests/unit/unit.h"

/* ---------------------------------------------------------------- helpers */

static char tmpdir[64];
static char jpath[128];

static int setup(void **state)
{
	int r = unit_tmpdir(tmpdir, sizeof(tmpdir), "journal");

	if (r < 0)
		return r;
	snprintf(jpath, sizeof(jpath), "%s/example.journal", tmpdir);
	return 0;
}

static int teardown(void **state)
{
	return unit_rmtree(tmpdir);
}

typedef struct diag_log {
	unsigned warnings, errors;
	char last[512];
} diag_log;

static void log_emit(void *userdata, zk_level level, const char *file, unsigned line,
		     const char *message)
{
	diag_log *d = userdata;

	if (level == ZK_LOG_WARNING)
		d->warnings++;
	if (level == ZK_LOG_ERR)
		d->errors++;
	snprintf(d->last, sizeof(d->last), "%s", message);
}

static rec_op mkop(uint64_t seq, rec_op_kind kind, const char *owner, uint16_t type,
		   uint32_t ttl, const void *rd, uint16_t rdlen)
{
	rec_op o = { .seq = seq, .kind = kind };

	assert_true(dn_from_text(owner, strlen(owner), NULL, o.rr.owner) > 0);
	o.rr.type = type;
	o.rr.ttl = ttl;
	o.rr.rdlen = rdlen;
	o.rr.rdata = malloc(rdlen ? rdlen : 1);
	assert_non_null(o.rr.rdata);
	memcpy(o.rr.rdata, rd, rdlen);
	return o;
}

static void assert_op_equal(const rec_op *got, const rec_op *want)
{
	assert_int_equal(got->seq, want->seq);
	assert_int_equal(got->kind, want->kind);
	assert_int_equal(dn_len(got->rr.owner), dn_len(want->rr.owner));
	assert_memory_equal(got->rr.owner, want->rr.owner, dn_len(want->rr.owner));
	assert_int_equal(got->rr.type, want->rr.type);
	assert_int_equal(got->rr.ttl, want->rr.ttl);
	assert_int_equal(got->rr.rdlen, want->rr.rdlen);
	assert_non_null(got->rr.rdata);
	assert_memory_equal(got->rr.rdata, want->rr.rdata, want->rr.rdlen);
}

/* The writes used by most tests: seq 1 one ADD, seq 2 an update (DEL + ADD), seq 3 an
 * ADD with 1000 bytes of RDATA and a DEL with none. */
#define N_OPS 5
static rec_op ops[N_OPS];
static uint8_t big[1000];

static void make_ops(void)
{
	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (uint8_t) (i * 7 + 3);
	ops[0] = mkop(1, REC_OP_ADD, "www.example.", 1, 300, "\xc0\x00\x02\x01", 4);
	ops[1] = mkop(2, REC_OP_DEL, "www.example.", 1, 300, "\xc0\x00\x02\x01", 4);
	ops[2] = mkop(2, REC_OP_ADD, "WWW.Example.", 1, 2147483647u, "\xc0\x00\x02\x02", 4);
	ops[3] = mkop(3, REC_OP_ADD, "txt.example.", 65000, 0, big, sizeof(big));
	ops[4] = mkop(3, REC_OP_DEL, "e.example.", 65001, 60, "", 0);
}

static void free_ops(void)
{
	for (size_t i = 0; i < N_OPS; i++)
		rec_rr_clear(&ops[i].rr);
}

static jnl *open_journal(diag_log *log, rec_op **ret_ops, size_t *ret_n)
{
	zk_diag diag = { .emit = log_emit, .userdata = log };
	zk_error err = { 0 };
	jnl *j = NULL;
	int r = jnl_open(jpath, &diag, &j, ret_ops, ret_n, &err);

	if (r < 0)
		print_message("jnl_open: %s\n", err.message);
	assert_int_equal(r, 0);
	assert_non_null(j);
	return j;
}

/* Write the three writes of ops[], each made durable on its own. */
static void write_three(void)
{
	diag_log log = { 0 };
	zk_error err = { 0 };
	rec_op *got = NULL;
	size_t n = 99;
	jnl *j = open_journal(&log, &got, &n);

	assert_int_equal(n, 0);
	assert_int_equal(jnl_next_seq(j), 1);
	assert_int_equal(jnl_append(j, ops, 1), 0);
	assert_int_equal(jnl_next_seq(j), 2);
	assert_int_equal(jnl_sync(j, &err), 0);
	assert_int_equal(jnl_append(j, ops + 1, 2), 0);
	assert_int_equal(jnl_sync(j, &err), 0);
	assert_int_equal(jnl_append(j, ops + 3, 2), 0);
	assert_int_equal(jnl_sync(j, &err), 0);
	assert_int_equal(jnl_next_seq(j), 4);
	jnl_free(j);
	rec_ops_free(got, n);
	assert_int_equal(log.warnings, 0);
}

static off_t file_size(const char *path)
{
	struct stat sb;

	assert_int_equal(stat(path, &sb), 0);
	return sb.st_size;
}

static char *slurp(size_t *len)
{
	char *data = NULL;

	assert_int_equal(zk_file_read(jpath, 1 << 24, &data, len), 0);
	return data;
}

/* Offset of the start of line `k` (0-based) of the journal file. */
static size_t line_start(const char *data, size_t len, unsigned k)
{
	size_t pos = 0;

	for (; k; pos++) {
		assert_true(pos < len);
		if (data[pos] == '\n')
			k--;
	}
	return pos;
}

/* ---------------------------------------------------------------- tests */

static void append_sync_reopen(void **state)
{
	diag_log log = { 0 };
	zk_error err = { 0 };
	rec_op *got = NULL;
	size_t n = 0;
	struct stat sb;
	jnl *j;

	make_ops();
	/* a fresh journal: empty, and no file until the first write */
	j = open_journal(&log, &got, &n);
	assert_int_equal(n, 0);
	assert_int_equal(jnl_next_seq(j), 1);
	assert_int_equal(jnl_size(j), 0);
	assert_int_equal(stat(jpath, &sb), -1);
	assert_int_equal(errno, ENOENT);

	assert_int_equal(jnl_append(j, ops, 1), 0);
	/* queued, not written: the size counts it, the file does not have it yet */
	assert_true(jnl_size(j) > 0);
	assert_int_equal(stat(jpath, &sb), -1);
	assert_int_equal(jnl_sync(j, &err), 0);
	assert_int_equal(stat(jpath, &sb), 0);
	assert_int_equal(sb.st_mode & 07777, 0600);
	assert_int_equal((off_t) jnl_size(j), file_size(jpath));
	/* group commit: two writes queued, one sync */
	assert_int_equal(jnl_append(j, ops + 1, 2), 0);
	assert_int_equal(jnl_append(j, ops + 3, 2), 0);
	assert_int_equal(jnl_next_seq(j), 4);
	assert_int_equal(jnl_sync(j, &err), 0);
	assert_int_equal((off_t) jnl_size(j), file_size(jpath));
	/* a sync with nothing queued changes nothing */
	assert_int_equal(jnl_sync(j, &err), 0);
	assert_int_equal((off_t) jnl_size(j), file_size(jpath));
	jnl_free(j);
	rec_ops_free(got, n);

	/* one line per write */
	{
		size_t len;
		char *data = slurp(&len);
		size_t lines = 0;

		for (size_t i = 0; i < len; i++)
			lines += data[i] == '\n';
		assert_int_equal(lines, 3);
		assert_int_equal(data[len - 1], '\n');
		free(data);
	}

	/* reopen: the same changes, in order, the update's two together */
	j = open_journal(&log, &got, &n);
	assert_int_equal(n, N_OPS);
	for (size_t i = 0; i < N_OPS; i++)
		assert_op_equal(&got[i], &ops[i]);
	/* the owner comes back as written: case is not the journal's business */
	assert_memory_equal(got[2].rr.owner, "\3WWW\7Example", 12);
	assert_int_equal(jnl_next_seq(j), 4);
	assert_int_equal((off_t) jnl_size(j), file_size(jpath));
	assert_int_equal(log.warnings, 0);
	rec_ops_free(got, n);

	/* appends after a reopen go after what is there */
	{
		rec_op more = mkop(4, REC_OP_ADD, "new.example.", 16, 5, "\3abc", 4);

		assert_int_equal(jnl_append(j, &more, 1), 0);
		assert_int_equal(jnl_sync(j, &err), 0);
		jnl_free(j);
		j = open_journal(&log, &got, &n);
		assert_int_equal(n, N_OPS + 1);
		for (size_t i = 0; i < N_OPS; i++)
			assert_op_equal(&got[i], &ops[i]);
		assert_op_equal(&got[N_OPS], &more);
		assert_int_equal(jnl_next_seq(j), 5);
		rec_rr_clear(&more.rr);
		rec_ops_free(got, n);
	}
	jnl_free(j);
	assert_int_equal(stat(jpath, &sb), 0);
	assert_int_equal(sb.st_mode & 07777, 0600);
	free_ops();
}

static void torn_tail_is_dropped(void **state)
{
	static const unsigned cut[] = { 1, 7, 40 };

	make_ops();
	for (size_t c = 0; c < sizeof(cut) / sizeof(cut[0]); c++) {
		diag_log log = { 0 };
		zk_error err = { 0 };
		rec_op *got = NULL, again;
		size_t n = 0, len;
		char *data;
		off_t full, good;
		jnl *j;

		unlink(jpath);
		write_three();
		data = slurp(&len);
		good = (off_t) line_start(data, len, 2);
		free(data);
		full = file_size(jpath);
		assert_true(full - (off_t) cut[c] > good);
		assert_int_equal(truncate(jpath, full - (off_t) cut[c]), 0);

		j = open_journal(&log, &got, &n);
		/* the first two writes survive; the torn one is gone, with a warning */
		assert_int_equal(n, 3);
		for (size_t i = 0; i < 3; i++)
			assert_op_equal(&got[i], &ops[i]);
		assert_int_equal(log.warnings, 1);
		assert_non_null(strstr(log.last, "journal"));
		/* ... from the file too */
		assert_int_equal(file_size(jpath), good);
		assert_int_equal((off_t) jnl_size(j), good);
		/* the next write gets the seq the torn one had (it was never acknowledged) */
		assert_int_equal(jnl_next_seq(j), 3);
		rec_ops_free(got, n);

		again = mkop(3, REC_OP_ADD, "again.example.", 1, 60, "\x01\x02\x03\x04", 4);
		assert_int_equal(jnl_append(j, &again, 1), 0);
		assert_int_equal(jnl_sync(j, &err), 0);
		jnl_free(j);

		log.warnings = 0;
		j = open_journal(&log, &got, &n);
		assert_int_equal(log.warnings, 0);
		assert_int_equal(n, 4);
		for (size_t i = 0; i < 3; i++)
			assert_op_equal(&got[i], &ops[i]);
		assert_op_equal(&got[3], &again);
		assert_int_equal(jnl_next_seq(j), 4);
		rec_ops_free(got, n);
		rec_rr_clear(&again.rr);
		jnl_free(j);
	}
	free_ops();
}

/* The ops of each line of write_three(): [first, end) in ops[]. */
static const size_t line_ops[3][2] = { { 0, 1 }, { 1, 3 }, { 3, 5 } };

/* After damage to line `line` only, the journal must hold every write but that one. */
static void expect_all_but(unsigned line, const char *original, size_t original_len)
{
	diag_log log = { 0 };
	rec_op *got = NULL;
	size_t n = 0, k = 0;
	char copy[160], *kept;
	size_t kept_len;
	jnl *j;

	j = open_journal(&log, &got, &n);
	assert_int_equal(n, N_OPS - (line_ops[line][1] - line_ops[line][0]));
	for (size_t i = 0; i < N_OPS; i++)
		if (i < line_ops[line][0] || i >= line_ops[line][1])
			assert_op_equal(&got[k++], &ops[i]);
	/* said loudly (an acknowledged write is gone), naming the line */
	assert_int_equal(log.errors, 1);
	assert_int_equal(log.warnings, 0);
	assert_non_null(strstr(log.last, "damaged"));
	assert_int_equal(jnl_damaged(j), 1);
	/* numbering goes on after the last intact write */
	assert_int_equal(jnl_next_seq(j), line == 2 ? 3 : 4);
	rec_ops_free(got, n);
	jnl_free(j);

	/* the journal as found is kept for whoever investigates */
	snprintf(copy, sizeof(copy), "%s.damaged", jpath);
	assert_int_equal(zk_file_read(copy, 1 << 20, &kept, &kept_len), 0);
	assert_int_equal(kept_len, original_len);
	assert_memory_equal(kept, original, original_len);
	free(kept);
	unlink(copy);

	/* the damaged line is gone from the journal: a second open finds nothing wrong */
	memset(&log, 0, sizeof(log));
	j = open_journal(&log, &got, &n);
	assert_int_equal(log.errors + log.warnings, 0);
	assert_int_equal(jnl_damaged(j), 0);
	assert_int_equal(n, N_OPS - (line_ops[line][1] - line_ops[line][0]));
	rec_ops_free(got, n);
	jnl_free(j);
}

/* Change one byte of the journal at `off` (in line `line`) and check that only that
 * line's write is lost. */
static void corrupt_and_check(size_t off, unsigned line)
{
	size_t len;
	char *data, *damaged;
	int fd;

	data = slurp(&len);
	assert_true(off < len);
	fd = open(jpath, O_WRONLY);
	assert_true(fd >= 0);
	/* a different character of the same class, so the line still looks well-formed */
	{
		char ch = data[off] == '0' ? '1' : data[off] == 'a' ? 'b' :
			  (data[off] >= '0' && data[off] <= '9') ? '0' : 'a';

		assert_int_equal(pwrite(fd, &ch, 1, (off_t) off), 1);
	}
	close(fd);
	damaged = slurp(&len);
	expect_all_but(line, damaged, len);
	free(damaged);
	free(data);
}

static void damaged_line_loses_only_its_own_write(void **state)
{
	size_t len, l1, l2;
	char *data;

	make_ops();

	/* the checksum of the second line */
	unlink(jpath);
	write_three();
	data = slurp(&len);
	l2 = line_start(data, len, 2);
	free(data);
	corrupt_and_check(l2 - 3, 1);

	/* a byte of the second line's RDATA (the checksum no longer matches) */
	unlink(jpath);
	write_three();
	data = slurp(&len);
	l1 = line_start(data, len, 1);
	l2 = line_start(data, len, 2);
	free(data);
	corrupt_and_check(l1 + (l2 - l1) / 2, 1);

	/* its sequence number */
	unlink(jpath);
	write_three();
	data = slurp(&len);
	l1 = line_start(data, len, 1);
	free(data);
	corrupt_and_check(l1, 1);

	/* the first line */
	unlink(jpath);
	write_three();
	corrupt_and_check(5, 0);

	/* the last line (complete, with its newline: damaged, not torn) */
	unlink(jpath);
	write_three();
	data = slurp(&len);
	free(data);
	corrupt_and_check(len - 2, 2);

	/* a line that is not a journal line at all, in place of the second */
	unlink(jpath);
	write_three();
	{
		char *text;

		data = slurp(&len);
		l1 = line_start(data, len, 1);
		l2 = line_start(data, len, 2);
		assert_true(asprintf(&text, "%.*sgarbage\n%s", (int) l1, data, data + l2) > 0);
		assert_int_equal(zk_file_write_atomic(jpath, 0600, text, strlen(text), NULL), 0);
		expect_all_but(1, text, strlen(text));
		free(text);
		free(data);
	}
	free_ops();
}

static void symlinked_journal_is_refused_and_its_target_untouched(void **state)
{
	char target[160];
	zk_error err = { 0 };
	rec_op *got = NULL;
	size_t n = 0, len;
	char *data;
	jnl *j = NULL;

	snprintf(target, sizeof(target), "%s/precious", tmpdir);
	assert_int_equal(zk_file_write_atomic(target, 0600, "keep me\n", 8, NULL), 0);
	assert_int_equal(symlink(target, jpath), 0);
	assert_true(jnl_open(jpath, NULL, &j, &got, &n, &err) < 0);
	assert_null(j);
	assert_non_null(strstr(err.message, "symbolic link"));
	assert_int_equal(zk_file_read(target, 100, &data, &len), 0);
	assert_string_equal(data, "keep me\n");
	free(data);
}

static void sequence_going_backwards_is_a_damaged_line(void **state)
{
	diag_log log = { 0 };
	zk_error err = { 0 };
	rec_op *got = NULL;
	size_t n = 0;
	jnl *j;

	make_ops();
	unlink(jpath);
	j = open_journal(&log, &got, &n);
	rec_ops_free(got, n);
	assert_int_equal(jnl_append(j, ops + 1, 2), 0); /* seq 2 */
	assert_int_equal(jnl_append(j, ops, 1), 0);     /* seq 1: after 2, out of order */
	assert_int_equal(jnl_sync(j, &err), 0);
	jnl_free(j);
	j = open_journal(&log, &got, &n);
	assert_int_equal(n, 2);
	assert_op_equal(&got[0], &ops[1]);
	assert_op_equal(&got[1], &ops[2]);
	assert_int_equal(jnl_next_seq(j), 3);
	assert_int_equal(log.errors, 1);
	rec_ops_free(got, n);
	jnl_free(j);
	free_ops();
}

static void rewrite_keeps_only_the_given_writes(void **state)
{
	diag_log log = { 0 };
	zk_error err = { 0 };
	rec_op *got = NULL;
	size_t n = 0;
	struct stat sb;
	jnl *j;

	make_ops();
	unlink(jpath);
	write_three();
	j = open_journal(&log, &got, &n);
	assert_int_equal(n, N_OPS);
	rec_ops_free(got, n);

	/* the first write is in the zone file now: keep the update and the third write */
	assert_int_equal(jnl_rewrite(j, ops + 1, 4, &err), 0);
	assert_int_equal((off_t) jnl_size(j), file_size(jpath));
	assert_int_equal(stat(jpath, &sb), 0);
	assert_int_equal(sb.st_mode & 07777, 0600);
	/* numbering goes on */
	assert_int_equal(jnl_next_seq(j), 4);
	{
		rec_op more = mkop(4, REC_OP_DEL, "www.example.", 1, 300, "\xc0\x00\x02\x02", 4);

		assert_int_equal(jnl_append(j, &more, 1), 0);
		assert_int_equal(jnl_sync(j, &err), 0);
		jnl_free(j);
		j = open_journal(&log, &got, &n);
		assert_int_equal(log.warnings, 0);
		assert_int_equal(n, 5);
		for (size_t i = 0; i < 4; i++)
			assert_op_equal(&got[i], &ops[i + 1]);
		assert_op_equal(&got[4], &more);
		assert_int_equal(jnl_next_seq(j), 5);
		rec_ops_free(got, n);
		rec_rr_clear(&more.rr);
	}

	/* everything written back: an empty journal, still numbering on */
	assert_int_equal(jnl_rewrite(j, NULL, 0, &err), 0);
	assert_int_equal(file_size(jpath), 0);
	assert_int_equal(jnl_size(j), 0);
	assert_int_equal(jnl_next_seq(j), 5);
	{
		rec_op more = mkop(5, REC_OP_ADD, "z.example.", 1, 300, "\x0a\0\0\x01", 4);

		assert_int_equal(jnl_append(j, &more, 1), 0);
		assert_int_equal(jnl_sync(j, &err), 0);
		jnl_free(j);
		j = open_journal(&log, &got, &n);
		assert_int_equal(n, 1);
		assert_op_equal(&got[0], &more);
		assert_int_equal(jnl_next_seq(j), 6);
		rec_ops_free(got, n);
		rec_rr_clear(&more.rr);
	}
	jnl_free(j);
	assert_int_equal(stat(jpath, &sb), 0);
	assert_int_equal(sb.st_mode & 07777, 0600);
	/* no temporary file is left behind */
	{
		DIR *d = opendir(tmpdir);
		struct dirent *de;
		unsigned entries = 0;

		assert_non_null(d);
		while ((de = readdir(d)))
			if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
				entries++;
		closedir(d);
		assert_int_equal(entries, 1);
	}
	free_ops();
}

static void unreadable_path_is_an_error(void **state)
{
	char path[256];
	zk_error err = { 0 };
	rec_op *got = NULL;
	size_t n = 0;
	jnl *j = NULL;

	snprintf(path, sizeof(path), "%s/no/such/dir/journal", tmpdir);
	assert_true(jnl_open(path, NULL, &j, &got, &n, &err) < 0);
	assert_null(j);
	assert_true(err.message[0] != '\0');
}

static void no_fd_is_held_between_calls(void **state)
{
	unsigned before = unit_count_fds();
	rec_op more = mkop(4, REC_OP_ADD, "new.example.", 16, 5, "\3abc", 4);
	rec_op again = mkop(5, REC_OP_DEL, "new.example.", 16, 5, "\3abc", 4);
	diag_log log = { 0 };
	zk_error err = { 0 };
	rec_op *got = NULL;
	size_t n = 0;
	jnl *j;

	make_ops();
	j = open_journal(&log, &got, &n);
	assert_int_equal(unit_count_fds(), before);
	assert_int_equal(jnl_append(j, ops, 1), 0);
	assert_int_equal(jnl_sync(j, &err), 0);
	assert_int_equal(jnl_append(j, ops + 1, 2), 0);
	assert_int_equal(jnl_append(j, ops + 3, 2), 0);
	assert_int_equal(jnl_sync(j, &err), 0);
	assert_int_equal(unit_count_fds(), before);
	assert_int_equal(jnl_rewrite(j, ops + 1, 4, &err), 0);
	assert_int_equal(unit_count_fds(), before);
	assert_int_equal(jnl_append(j, &more, 1), 0);
	assert_int_equal(jnl_sync(j, &err), 0);
	assert_int_equal((off_t) jnl_size(j), file_size(jpath));
	assert_int_equal(unit_count_fds(), before);
	jnl_free(j);

	/* reopened by path each time, it still holds every write, in order */
	j = open_journal(&log, &got, &n);
	assert_int_equal(n, 5);
	for (size_t i = 0; i < 4; i++)
		assert_op_equal(&got[i], &ops[i + 1]);
	assert_op_equal(&got[4], &more);
	rec_ops_free(got, n);

	/* removed behind its back: the next sync makes it anew, not a file nobody reads */
	assert_int_equal(unlink(jpath), 0);
	assert_int_equal(jnl_append(j, &again, 1), 0);
	assert_int_equal(jnl_sync(j, &err), 0);
	assert_int_equal((off_t) jnl_size(j), file_size(jpath));
	jnl_free(j);
	j = open_journal(&log, &got, &n);
	assert_int_equal(n, 1);
	assert_op_equal(&got[0], &again);
	assert_int_equal(jnl_next_seq(j), 6);
	assert_int_equal(log.warnings + log.errors, 0);
	rec_ops_free(got, n);
	jnl_free(j);
	assert_int_equal(unit_count_fds(), before);
	rec_rr_clear(&more.rr);
	rec_rr_clear(&again.rr);
	free_ops();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(append_sync_reopen, setup, teardown),
		cmocka_unit_test_setup_teardown(torn_tail_is_dropped, setup, teardown),
		cmocka_unit_test_setup_teardown(damaged_line_loses_only_its_own_write, setup,
						teardown),
		cmocka_unit_test_setup_teardown(symlinked_journal_is_refused_and_its_target_untouched,
						setup, teardown),
		cmocka_unit_test_setup_teardown(sequence_going_backwards_is_a_damaged_line, setup,
						teardown),
		cmocka_unit_test_setup_teardown(rewrite_keeps_only_the_given_writes, setup,
						teardown),
		cmocka_unit_test_setup_teardown(unreadable_path_is_an_error, setup, teardown),
		cmocka_unit_test_setup_teardown(no_fd_is_held_between_calls, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
