/* SPDX-License-Identifier: MIT */
/*
 * tests/unit/test_splice.c -- the spliced zone writer (signer/output.c,
 * sgn_zone_write_spliced): a zone written once, changed in a few places (a record added,
 * a name deleted, a name inserted, a TTL changed) and written again reusing the text of
 * the first write must come out byte-identical to a fresh write of the changed zone, with
 * most of the text copied. A previous file shorter than its block table says must make
 * the write fail (never publish garbage); no previous write is fine.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
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
#include "signer/load.h"
#include "signer/output.h"
#include "signer/zone.h"

/* ---------------------------------------------------------------- helpers */

static char tmpdir[64];

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	return remove(path);
}

static int setup(void **state)
{
	if (!mkdtemp(strcpy(tmpdir, "/tmp/zk-test-splice-XXXXXX")))
		return -1;
	return 0;
}

static int teardown(void **state)
{
	return nftw(tmpdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static const char *tmp(const char *name)
{
	static char buf[4][256];
	static unsigned slot;
	char *p = buf[slot++ % 4];

	snprintf(p, sizeof(buf[0]), "%s/%s", tmpdir, name);
	return p;
}

static const uint8_t *wire(const char *text)
{
	static uint8_t buf[8][DN_MAXLEN];
	static unsigned slot;
	uint8_t *p = buf[slot++ % 8];

	assert_true(dn_from_text(text, strlen(text), NULL, p) > 0);
	return p;
}

/* Output into memory, copies by pread from the previous file. */
typedef struct mem_out {
	char *s;
	size_t len, cap;
	unsigned copies;
} mem_out;

static int mem_put(mem_out *m, const char *data, size_t len)
{
	if (m->len + len > m->cap) {
		size_t cap = m->cap ? m->cap : 65536;
		char *ns;

		while (cap < m->len + len)
			cap *= 2;
		ns = realloc(m->s, cap);
		if (!ns)
			return -ENOMEM;
		m->s = ns;
		m->cap = cap;
	}
	memcpy(m->s + m->len, data, len);
	m->len += len;
	return 0;
}

static int mem_sink(void *userdata, const char *data, size_t len)
{
	return mem_put(userdata, data, len);
}

static int mem_copy(void *userdata, int fd, uint64_t off, uint64_t len)
{
	mem_out *m = userdata;
	char chunk[8192];

	m->copies++;
	while (len > 0) {
		ssize_t n = pread(fd, chunk, len < sizeof(chunk) ? len : sizeof(chunk), (off_t) off);

		if (n < 0)
			return -errno;
		if (n == 0)
			return -EIO; /* shorter than the table says */
		if (mem_put(m, chunk, (size_t) n) < 0)
			return -ENOMEM;
		off += (uint64_t) n;
		len -= (uint64_t) n;
	}
	return 0;
}

/* Output into a file through zk_atomic, as the signer publishes. */
static int atomic_sink(void *userdata, const char *data, size_t len)
{
	zk_atomic *a = userdata;

	zk_atomic_write(a, data, len);
	return a->error;
}

static int atomic_copy(void *userdata, int fd, uint64_t off, uint64_t len)
{
	zk_atomic *a = userdata;

	zk_atomic_copy(a, fd, off, len);
	return a->error;
}

static void save(const char *path, const mem_out *m)
{
	assert_int_equal(zk_file_write_atomic(path, 0644, m->s, m->len, NULL), 0);
}

static char *slurp(const char *path, size_t *len)
{
	char *data = NULL;

	assert_int_equal(zk_file_read(path, 1 << 28, &data, len), 0);
	return data;
}

#define N_NAMES 6000

/* A zone of N_NAMES generated names with a few RRsets each. */
static sgn_zone *make_zone(void)
{
	size_t cap = (size_t) N_NAMES * 160 + 1024, len = 0;
	char *text = malloc(cap);
	sgn_load_opts lo = { .mode = SGN_LOAD_UNSIGNED };
	sgn_zone *z = NULL;
	zk_error err = { 0 };
	int r;

	assert_non_null(text);
	len += (size_t) snprintf(text + len, cap - len,
				 "$TTL 3600\n@ SOA ns1 host 5 1h 15m 1w 5m\n@ NS ns1\n"
				 "ns1 A 192.0.2.53\n");
	for (unsigned i = 0; i < N_NAMES; i++) {
		len += (size_t) snprintf(text + len, cap - len, "h%u A 10.%u.%u.1\n", i,
					 (i >> 8) & 255, i & 255);
		if (i % 3 == 0)
			len += (size_t) snprintf(text + len, cap - len,
						 "h%u 600 TXT \"name %u\" \"x\"\n", i, i);
		if (i % 5 == 0)
			len += (size_t) snprintf(text + len, cap - len, "h%u MX %u mx%u.h%u\n", i,
						 i % 50, i % 7, i);
		if (i % 11 == 0)
			len += (size_t) snprintf(text + len, cap - len, "a.b.h%u AAAA 2001:db8::%x\n",
						 i, i);
	}
	r = sgn_zone_load_buffer(text, len, "gen.zone", wire("example."), &lo, &z, &err);
	if (r < 0)
		print_message("%s:%u: %s\n", err.file, err.line, err.message);
	assert_int_equal(r, 0);
	free(text);
	return z;
}

static mem_out plain_write(const sgn_zone *z, const char *header)
{
	mem_out m = { 0 };
	zk_error err = { 0 };

	assert_int_equal(sgn_zone_write(z, header, 3, mem_sink, &m, &err), 0);
	return m;
}

static int by_off(const void *x, const void *y)
{
	const sgn_block_ref *a = x, *b = y;

	if (a->off != b->off)
		return a->off < b->off ? -1 : 1;
	/* a block of empty non-terminals only has no text: it comes first at its offset */
	return a->len < b->len ? -1 : a->len > b->len;
}

/* The block table describes the output: sorted by hash, its blocks tile the output after
 * the header, without gap or overlap. */
static void check_table(const sgn_splice *s, uint64_t header_len, uint64_t total)
{
	sgn_block_ref *b;
	uint64_t at = header_len;

	assert_true(s->n_blocks > 0);
	assert_int_equal(s->fd, -1);
	for (size_t i = 1; i < s->n_blocks; i++)
		assert_true(s->blocks[i - 1].h1 < s->blocks[i].h1 ||
			    (s->blocks[i - 1].h1 == s->blocks[i].h1 &&
			     s->blocks[i - 1].h2 < s->blocks[i].h2));
	b = malloc(s->n_blocks * sizeof(*b));
	assert_non_null(b);
	memcpy(b, s->blocks, s->n_blocks * sizeof(*b));
	qsort(b, s->n_blocks, sizeof(*b), by_off);
	for (size_t i = 0; i < s->n_blocks; i++) {
		assert_int_equal(b[i].off, at);
		at += b[i].len;
	}
	assert_int_equal(at, total);
	free(b);
}

/* ---------------------------------------------------------------- changes */

static sgn_node *node(sgn_zone *z, const char *name)
{
	sgn_node *n = sgn_zone_find(z, wire(name));

	assert_non_null(n);
	return n;
}

static void change_zone(sgn_zone *z)
{
	sgn_node *n;
	sgn_rrset *s;
	uint8_t *blob;
	bool created = false;

	/* a record added to an RRset */
	n = node(z, "h1000.example.");
	s = sgn_node_rrset(n, T_A);
	assert_non_null(s);
	assert_int_equal(s->count, 1);
	blob = malloc(s->rdata_len + 6);
	assert_non_null(blob);
	memcpy(blob, s->rdata, s->rdata_len);
	memcpy(blob + s->rdata_len, "\0\4\x0a\x03\xe8\x02", 6);
	assert_int_equal(sgn_node_set_rrset(n, T_A, s->ttl, 2, blob, s->rdata_len + 6), 0);
	free(blob);

	/* a name deleted */
	n = node(z, "h2500.example.");
	while (n->n_rrsets)
		assert_int_equal(sgn_node_set_rrset(n, n->rrsets[0].type, 0, 0, NULL, 0), 0);

	/* a TTL changed */
	n = node(z, "h4242.example.");
	s = sgn_node_rrset(n, T_A);
	assert_non_null(s);
	blob = malloc(s->rdata_len);
	assert_non_null(blob);
	memcpy(blob, s->rdata, s->rdata_len);
	assert_int_equal(sgn_node_set_rrset(n, T_A, 77, s->count, blob, s->rdata_len), 0);
	free(blob);

	/* a name inserted */
	assert_int_equal(sgn_zone_get_node(z, wire("h3000a.example."), &n, &created), 0);
	assert_true(created);
	assert_int_equal(sgn_node_set_rrset(n, T_TXT, 300, 1, (const uint8_t *) "\0\4\3new", 6),
			 0);

	assert_int_equal(sgn_zone_structure(z), 0);
	assert_null(sgn_zone_find(z, wire("h2500.example.")));
}

/* ---------------------------------------------------------------- tests */

static void splice_after_changes_matches_a_fresh_write(void **state)
{
	sgn_zone *z = make_zone();
	sgn_splice first, second, third;
	mem_out out1 = { 0 }, out2 = { 0 }, out3 = { 0 }, fresh;
	zk_error err = { 0 };
	uint64_t copied = 99;
	const char *h1 = "zone example. serial 1", *h2 = "zone example. serial 1000002";

	sgn_splice_init(&first);
	sgn_splice_init(&second);
	sgn_splice_init(&third);

	/* first write: nothing to reuse */
	assert_int_equal(sgn_zone_write_spliced(z, h1, 3, mem_sink, mem_copy, &out1, NULL,
						&first, &copied, &err), 0);
	assert_int_equal(copied, 0);
	assert_int_equal(out1.copies, 0);
	/* several content-defined blocks */
	assert_true(first.n_blocks >= 8);
	check_table(&first, strlen(h1) + 3, out1.len);
	/* the same text as the plain writer */
	fresh = plain_write(z, h1);
	assert_int_equal(out1.len, fresh.len);
	assert_memory_equal(out1.s, fresh.s, fresh.len);
	free(fresh.s);
	save(tmp("out1.zone"), &out1);
	first.fd = open(tmp("out1.zone"), O_RDONLY | O_CLOEXEC);
	assert_true(first.fd >= 0);

	/* changed in four places: the splice equals a fresh write */
	change_zone(z);
	fresh = plain_write(z, h2);
	assert_int_equal(sgn_zone_write_spliced(z, h2, 3, mem_sink, mem_copy, &out2, &first,
						&second, &copied, &err), 0);
	if (out2.len != fresh.len || memcmp(out2.s, fresh.s, fresh.len)) {
		size_t i = 0;

		while (i < out2.len && i < fresh.len && out2.s[i] == fresh.s[i])
			i++;
		fail_msg("spliced output differs at byte %zu (%zu vs %zu bytes): '%.60s' vs '%.60s'",
			 i, out2.len, fresh.len, out2.s + i, fresh.s + i);
	}
	/* most of it copied, not all */
	assert_true(copied > 0);
	assert_true(out2.copies > 0);
	assert_true(copied >= out2.len / 2);
	assert_true(copied < out2.len - strlen(h2) - 3);
	print_message("spliced: %llu of %zu bytes copied, %u copies, %zu blocks\n",
		      (unsigned long long) copied, out2.len, out2.copies, second.n_blocks);
	check_table(&second, strlen(h2) + 3, out2.len);
	/* the changes are there */
	assert_non_null(strstr(out2.s, "h1000.example.\t3600\tIN\tA\t10.3.232.2\n"));
	assert_non_null(strstr(out2.s, "h4242.example.\t77\tIN\tA\t10.16.146.1\n"));
	assert_non_null(strstr(out2.s, "h3000a.example.\t300\tIN\tTXT\t\"new\"\n"));
	assert_null(strstr(out2.s, "h2500.example."));
	assert_non_null(strstr(out1.s, "h2500.example."));
	save(tmp("out2.zone"), &out2);
	second.fd = open(tmp("out2.zone"), O_RDONLY | O_CLOEXEC);
	assert_true(second.fd >= 0);

	/* unchanged, with a header of another length: everything but the header copied */
	assert_int_equal(sgn_zone_write_spliced(z, h1, 2, mem_sink, mem_copy, &out3, &second,
						&third, &copied, &err), 0);
	free(fresh.s);
	fresh = plain_write(z, h1);
	assert_int_equal(out3.len, fresh.len);
	assert_memory_equal(out3.s, fresh.s, fresh.len);
	assert_int_equal(copied, out3.len - strlen(h1) - 3);
	assert_int_equal(third.n_blocks, second.n_blocks);
	check_table(&third, strlen(h1) + 3, out3.len);

	free(fresh.s);
	free(out1.s);
	free(out2.s);
	free(out3.s);
	sgn_splice_clear(&first);
	sgn_splice_clear(&second);
	sgn_splice_clear(&third);
	assert_int_equal(first.fd, -1);
	assert_null(first.blocks);
	sgn_zone_free(z);
}

static void splice_through_atomic_files(void **state)
{
	sgn_zone *z = make_zone();
	sgn_splice prev, next;
	zk_atomic a;
	zk_error err = { 0 };
	uint64_t copied = 99;
	mem_out fresh;
	char *data;
	size_t len;

	sgn_splice_init(&prev);
	sgn_splice_init(&next);
	assert_int_equal(zk_atomic_open(tmp("signed.zone"), 0644, &a, &err), 0);
	assert_int_equal(sgn_zone_write_spliced(z, NULL, 0, atomic_sink, atomic_copy, &a, NULL,
						&prev, &copied, &err), 0);
	assert_int_equal(copied, 0);
	assert_int_equal(zk_atomic_commit(&a, &err), 0);
	prev.fd = open(tmp("signed.zone"), O_RDONLY | O_CLOEXEC);
	assert_true(prev.fd >= 0);

	change_zone(z);
	/* the new file replaces the old one only at commit: the old fd stays readable */
	assert_int_equal(zk_atomic_open(tmp("signed.zone"), 0644, &a, &err), 0);
	assert_int_equal(sgn_zone_write_spliced(z, NULL, 0, atomic_sink, atomic_copy, &a, &prev,
						&next, &copied, &err), 0);
	assert_int_equal(zk_atomic_commit(&a, &err), 0);
	assert_true(copied > 0);
	data = slurp(tmp("signed.zone"), &len);
	fresh = plain_write(z, NULL);
	assert_int_equal(len, fresh.len);
	assert_memory_equal(data, fresh.s, len);
	assert_true(copied >= len / 2);
	check_table(&next, 0, len);

	free(data);
	free(fresh.s);
	sgn_splice_clear(&prev);
	sgn_splice_clear(&next);
	sgn_zone_free(z);
}

static void short_previous_file_fails_the_write(void **state)
{
	sgn_zone *z = make_zone();
	sgn_splice prev, next;
	mem_out out = { 0 }, bad = { 0 };
	zk_atomic a;
	zk_error err = { 0 };
	uint64_t copied = 0;
	char *data;
	size_t len;
	DIR *d;
	struct dirent *de;
	unsigned entries = 0;
	int r;

	sgn_splice_init(&prev);
	sgn_splice_init(&next);
	assert_int_equal(sgn_zone_write_spliced(z, "h", 2, mem_sink, mem_copy, &out, NULL, &prev,
						NULL, &err), 0);
	/* the previous file lost its end (someone truncated or replaced it) */
	assert_int_equal(zk_file_write_atomic(tmp("prev.zone"), 0644, out.s, out.len - 100,
					      NULL), 0);
	prev.fd = open(tmp("prev.zone"), O_RDONLY | O_CLOEXEC);
	assert_true(prev.fd >= 0);

	/* memory sink: the copy reports the short source and the write fails */
	r = sgn_zone_write_spliced(z, "h", 2, mem_sink, mem_copy, &bad, &prev, &next, &copied,
				   &err);
	assert_int_equal(r, -EIO);
	assert_int_equal(err.code, -EIO);
	/* no table for a failed write */
	assert_int_equal(next.n_blocks, 0);
	assert_null(next.blocks);
	free(bad.s);

	/* the publication path: the old file stays, no temporary file remains */
	assert_int_equal(zk_file_write_atomic(tmp("signed.zone"), 0644, "OLD\n", 4, NULL), 0);
	assert_int_equal(zk_atomic_open(tmp("signed.zone"), 0644, &a, &err), 0);
	r = sgn_zone_write_spliced(z, "h", 2, atomic_sink, atomic_copy, &a, &prev, &next,
				   &copied, &err);
	assert_int_equal(r, -EIO);
	assert_null(next.blocks);
	zk_atomic_abort(&a);
	data = slurp(tmp("signed.zone"), &len);
	assert_int_equal(len, 4);
	assert_memory_equal(data, "OLD\n", 4);
	free(data);
	d = opendir(tmpdir);
	assert_non_null(d);
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			entries++;
	closedir(d);
	assert_int_equal(entries, 2); /* prev.zone, signed.zone */

	free(out.s);
	sgn_splice_clear(&prev);
	sgn_splice_clear(&next);
	sgn_zone_free(z);
}

static void no_previous_write(void **state)
{
	sgn_zone *z = make_zone();
	sgn_splice next, none;
	mem_out out = { 0 }, out2 = { 0 }, fresh;
	zk_error err = { 0 };
	uint64_t copied = 99;

	sgn_splice_init(&next);
	sgn_splice_init(&none);
	fresh = plain_write(z, "x");

	/* prev NULL, with a table */
	assert_int_equal(sgn_zone_write_spliced(z, "x", 1, mem_sink, NULL, &out, NULL, &next,
						&copied, &err), 0);
	assert_int_equal(copied, 0);
	assert_int_equal(out.len, fresh.len);
	assert_memory_equal(out.s, fresh.s, fresh.len);
	check_table(&next, 4, out.len);

	/* a prev without a file (fd -1): its table is not used */
	none.blocks = next.blocks;
	none.n_blocks = next.n_blocks;
	copied = 99;
	assert_int_equal(sgn_zone_write_spliced(z, "x", 4, mem_sink, mem_copy, &out2, &none,
						NULL, &copied, &err), 0);
	assert_int_equal(copied, 0);
	assert_int_equal(out2.copies, 0);
	assert_int_equal(out2.len, fresh.len);
	assert_memory_equal(out2.s, fresh.s, fresh.len);

	free(out.s);
	free(out2.s);
	free(fresh.s);
	sgn_splice_clear(&next);
	sgn_zone_free(z);
}

static void empty_zone(void **state)
{
	sgn_zone *z = NULL;
	sgn_splice next;
	mem_out out = { 0 };
	zk_error err = { 0 };
	uint64_t copied = 99;

	sgn_splice_init(&next);
	assert_int_equal(sgn_zone_new(wire("example."), &z), 0);
	assert_int_equal(sgn_zone_write_spliced(z, "empty", 2, mem_sink, mem_copy, &out, NULL,
						&next, &copied, &err), 0);
	assert_int_equal(copied, 0);
	assert_int_equal(out.len, strlen("; empty\n"));
	assert_memory_equal(out.s, "; empty\n", out.len);
	assert_int_equal(next.n_blocks, 0);
	free(out.s);
	sgn_splice_clear(&next);
	sgn_zone_free(z);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(splice_after_changes_matches_a_fresh_write, setup,
						teardown),
		cmocka_unit_test_setup_teardown(splice_through_atomic_files, setup, teardown),
		cmocka_unit_test_setup_teardown(short_previous_file_fails_the_write, setup,
						teardown),
		cmocka_unit_test_setup_teardown(no_previous_write, setup, teardown),
		cmocka_unit_test_setup_teardown(empty_zone, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
