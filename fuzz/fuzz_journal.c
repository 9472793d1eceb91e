/* SPDX-License-Identifier: MIT */
/*
 * fuzz/fuzz_journal.c -- libFuzzer target over the journal reader (signer/journal.h): the
 * bytes are the journal file a crash, a full disk or an editor left behind. It is opened
 * with jnl_open (which reads the writes it holds and cuts or sets aside what is damaged),
 * the writes read are written back with jnl_rewrite and read again, then one more write
 * is appended and synced. Only the functions of journal.h are used, so a change of the
 * file format needs no change here.
 *
 * Invariants checked (a violation traps, so libFuzzer reports it with the input):
 *   - a failure carries its code and a message, and leaves no journal;
 *   - the writes read are changes of kind add or delete with a well-formed owner, in
 *     sequence order, all before jnl_next_seq;
 *   - what jnl_rewrite writes reads back as the same writes, and a write appended and
 *     synced after them reads back too.
 * Everything allocated per input is freed; the files live in a private directory made
 * once and emptied for every input.
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "policy/zk-error.h"
#include "signer/dname.h"
#include "signer/journal.h"
#include "signer/records.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond) do { if (!(cond)) __builtin_trap(); } while (0)

static char dir[256], path[300];

/* Remove every file of the private directory (the journal and whatever it set aside). */
static void empty_dir(void)
{
	DIR *d = opendir(dir);
	struct dirent *de;

	CHECK(d);
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			CHECK(unlinkat(dirfd(d), de->d_name, 0) == 0);
	closedir(d);
}

static void cleanup(void)
{
	empty_dir();
	rmdir(dir);
}

static void setup(void)
{
	/* tmpfs when there is one: the journal syncs every write */
	const char *t = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : getenv("TMPDIR");

	if (!t || !*t)
		t = "/tmp";
	CHECK(snprintf(dir, sizeof(dir), "%s/zk-fuzz-journal-XXXXXX", t) < (int) sizeof(dir));
	CHECK(mkdtemp(dir));
	CHECK(snprintf(path, sizeof(path), "%s/journal", dir) < (int) sizeof(path));
	atexit(cleanup);
}

static void write_all(const void *buf, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	CHECK(fd >= 0);
	CHECK(write(fd, buf, len) == (ssize_t) len);
	CHECK(close(fd) == 0);
}

static void check_ops(const jnl *j, const rec_op *ops, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		CHECK(ops[i].kind == REC_OP_ADD || ops[i].kind == REC_OP_DEL);
		CHECK(dn_len(ops[i].rr.owner) >= 1 && dn_len(ops[i].rr.owner) <= DN_MAXLEN);
		CHECK(ops[i].rr.rdata || ops[i].rr.rdlen == 0);
		CHECK(ops[i].seq < jnl_next_seq(j));
		if (i > 0)
			CHECK(ops[i].seq >= ops[i - 1].seq);
	}
}

static bool same_ops(const rec_op *a, const rec_op *b, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const rec_rr *x = &a[i].rr, *y = &b[i].rr;

		if (a[i].seq != b[i].seq || a[i].kind != b[i].kind || x->type != y->type ||
		    x->ttl != y->ttl || x->rdlen != y->rdlen || !dn_equal(x->owner, y->owner) ||
		    (x->rdlen && memcmp(x->rdata, y->rdata, x->rdlen)))
			return false;
	}
	return true;
}

/* Open the journal as it is; *ret_j NULL on failure (checked). */
static void open_journal(jnl **ret_j, rec_op **ops, size_t *n)
{
	zk_error e = { 0 };
	int r = jnl_open(path, NULL, ret_j, ops, n, &e);

	if (r < 0) {
		CHECK(e.code == r && e.message[0]);
		*ret_j = NULL;
		*ops = NULL;
		*n = 0;
		return;
	}
	CHECK(*ret_j);
	check_ops(*ret_j, *ops, *n);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t rd[4] = { 192, 0, 2, 1 };
	rec_op *ops = NULL, *again = NULL, add = { .kind = REC_OP_ADD };
	size_t n = 0, n_again = 0;
	zk_error e = { 0 };
	jnl *j = NULL;

	if (!dir[0])
		setup();
	empty_dir();
	write_all(data, size);
	open_journal(&j, &ops, &n);
	if (!j)
		return 0;

	/* what was read, written back, reads back the same */
	if (jnl_rewrite(j, ops, n, &e) == 0) {
		jnl_free(j);
		open_journal(&j, &again, &n_again);
		CHECK(j);
		CHECK(n_again == n && same_ops(ops, again, n));
		rec_ops_free(again, n_again);
		again = NULL;
	}

	/* and a write appended after them */
	add.seq = jnl_next_seq(j);
	CHECK(dn_from_text("www.example.com.", 16, NULL, add.rr.owner) > 0);
	add.rr.type = 1;
	add.rr.ttl = 3600;
	add.rr.rdlen = sizeof(rd);
	add.rr.rdata = (uint8_t *) rd;
	if (jnl_append(j, &add, 1) == 0 && jnl_sync(j, &e) == 0) {
		jnl_free(j);
		open_journal(&j, &again, &n_again);
		CHECK(j);
		CHECK(n_again >= 1 && same_ops(&add, &again[n_again - 1], 1));
		rec_ops_free(again, n_again);
	}
	jnl_free(j);
	rec_ops_free(ops, n);
	return 0;
}
