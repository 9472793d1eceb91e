/* SPDX-License-Identifier: MIT */
/*
 * tests/unit/test_splice.c -- the spliced zone writer (signer/output.c,
 * sgn_zone_write_spliced): a zone written once, changed in a few places (a record added,
 * a name deleted, a name inserted, a TTL changed) and written again reusing the text of
 * the first write must come out byte-identical to a fresh write of the changed zone, with
 * most of the text copied. A previous file shorter than its block table says must make
 * the write fail (never publish garbage); no previous write is fine.
 *
 * A zone kept across runs (sgn_ctx) holds no file descriptor between them, yet its next
 * publication still splices from the file of the last one, and never from a file put in
 * its place. Stale temporary files of many zones are removed with one read per directory.
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

#include "policy/policy.h"
#include "policy/zk-error.h"
#include "policy/zk-file.h"
#include "signer/dname.h"
#include "signer/load.h"
#include "signer/output.h"
#include "signer/signer.h"
#include "signer/zone.h"
#include "tests/unit/unit.h"

/* ---------------------------------------------------------------- helpers */

static char tmpdir[64];

static int setup(void **state)
{
	return unit_tmpdir(tmpdir, sizeof(tmpdir), "splice");
}

static int teardown(void **state)
{
	return unit_rmtree(tmpdir);
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

/* ---------------------------------------------------------------- a zone kept across runs */

/* The replaced output is closed off the publishing path: wait (bounded) for that close. */
static unsigned fds_settled(unsigned want)
{
	unsigned n = unit_count_fds();

	for (unsigned i = 0; i < 500 && n > want; i++) {
		usleep(10000);
		n = unit_count_fds();
	}
	return n;
}

#define CTX_NAMES 3000

static void write_input_zone(const char *path, const char *extra)
{
	size_t cap = (size_t) CTX_NAMES * 40 + 1024, len = 0;
	char *text = malloc(cap);

	assert_non_null(text);
	len += (size_t) snprintf(text + len, cap - len,
				 "$TTL 3600\n@ SOA ns1.example.net. hostmaster 1 1h 15m 1w 5m\n");
	for (unsigned i = 0; i < CTX_NAMES; i++)
		len += (size_t) snprintf(text + len, cap - len, "h%u A 10.%u.%u.1\n", i,
					 (i >> 8) & 255, i & 255);
	len += (size_t) snprintf(text + len, cap - len, "%s", extra);
	assert_int_equal(zk_file_write_atomic(path, 0644, text, len, NULL), 0);
	free(text);
}

/* A configuration under tmpdir with `zones` (the entries of its zone list). */
static pol_config *load_config(const char *zones)
{
	char text[2048], path[256];
	pol_config *cfg = NULL;
	zk_error err = { 0 };
	int r;

	snprintf(text, sizeof(text),
		 "paths = { state_dir = \"%s/state\"; input_dir = \"%s/in\";\n"
		 "          output_dir = \"%s/out\"; };\n"
		 "policies = ( { name = \"p\"; nameservers = [ \"ns1.example.net.\" ]; } );\n"
		 "zones = ( %s );\n", tmpdir, tmpdir, tmpdir, zones);
	snprintf(path, sizeof(path), "%s/zk.conf", tmpdir);
	assert_int_equal(zk_file_write_atomic(path, 0600, text, strlen(text), NULL), 0);
	r = pol_config_load(path, NULL, &cfg, &err);
	if (r < 0)
		print_message("%s:%u: %s\n", err.file, err.line, err.message);
	assert_int_equal(r, 0);
	assert_int_equal(zk_mkdir_p(tmp("in"), 0755), 0);
	return cfg;
}

static void run_ctx(sgn_ctx *c, zk_time_t now, sgn_run_result *res)
{
	sgn_run_opts o = { .now = now, .reload_input = true, .verify_level = -1,
			   .splice = true };
	zk_error err = { 0 };
	int r;

	memset(res, 0, sizeof(*res));
	r = sgn_ctx_run(c, &o, res, &err);
	if (r < 0)
		print_message("sgn_ctx_run: %s\n", err.message);
	assert_int_equal(r, 0);
	assert_true(res->published);
}

/* The published file is exactly a fresh (unspliced) write of the version in memory. */
static void assert_output_is_current(sgn_ctx *c, const char *path)
{
	char header[512], *data;
	mem_out fresh;
	size_t len, eol = 0;

	data = slurp(path, &len);
	while (eol < len && data[eol] != '\n')
		eol++;
	assert_true(eol > 2 && eol < len && eol < sizeof(header));
	assert_true(data[0] == ';' && data[1] == ' ');
	snprintf(header, sizeof(header), "%.*s", (int) (eol - 2), data + 2);
	fresh = plain_write(sgn_ctx_current(c), header);
	assert_int_equal(len, fresh.len);
	assert_memory_equal(data, fresh.s, len);
	free(fresh.s);
	free(data);
}

static void ctx_holds_no_fd_between_runs_and_still_splices(void **state)
{
	unsigned before = unit_count_fds();
	pol_config *cfg = load_config("{ name = \"example.com.\"; }");
	const pol_zone *zone = &cfg->zones[0];
	sgn_run_result res;
	zk_error err = { 0 };
	uint64_t seq = 0;
	sgn_ctx *c = NULL;

	write_input_zone(zone->input_file, "");
	assert_int_equal(sgn_ctx_open(cfg, zone, NULL, &c, &err), 0);
	run_ctx(c, 1700000000, &res);
	assert_int_equal(res.copied, 0);
	assert_int_equal(fds_settled(before), before);

	/* one name more: the rest of the text comes from the file of the first run */
	write_input_zone(zone->input_file, "new A 192.0.2.1\n");
	run_ctx(c, 1700000060, &res);
	assert_true(res.copied > 0);
	assert_true(res.copied < res.output_size);
	assert_output_is_current(c, zone->output_file);
	assert_int_equal(fds_settled(before), before);

	/* the write-back of the input file twice (the second from the text of the first) */
	assert_int_equal(sgn_ctx_write_input(c, &seq, &err), 0);
	assert_int_equal(sgn_ctx_write_input(c, &seq, &err), 0);
	assert_int_equal(fds_settled(before), before);

	sgn_ctx_free(c);
	pol_config_free(cfg);
	assert_int_equal(fds_settled(before), before);
}

static void replaced_output_is_not_a_splice_source(void **state)
{
	pol_config *cfg = load_config("{ name = \"example.com.\"; }");
	const pol_zone *zone = &cfg->zones[0];
	sgn_run_result res;
	zk_error err = { 0 };
	struct timespec times[2];
	sgn_ctx *c = NULL;
	struct stat sb;
	size_t len;
	char *data;

	write_input_zone(zone->input_file, "");
	assert_int_equal(sgn_ctx_open(cfg, zone, NULL, &c, &err), 0);
	run_ctx(c, 1700000000, &res);

	/*
	 * Another file of the same size and mtime in its place (a new inode: written while the
	 * old one still exists): text copied from it by the old block table would be garbage.
	 */
	assert_int_equal(stat(zone->output_file, &sb), 0);
	data = slurp(zone->output_file, &len);
	for (size_t i = len / 4; i < len; i += 97)
		if (data[i] != '\n')
			data[i] = 'X';
	assert_int_equal(zk_file_write_atomic(zone->output_file, 0644, data, len, NULL), 0);
	free(data);
	times[0] = sb.st_atim;
	times[1] = sb.st_mtim;
	assert_int_equal(utimensat(AT_FDCWD, zone->output_file, times, 0), 0);

	write_input_zone(zone->input_file, "new A 192.0.2.1\n");
	run_ctx(c, 1700000060, &res);
	assert_int_equal(res.copied, 0);
	assert_output_is_current(c, zone->output_file);

	/* ... and the run after that splices again, from the file it wrote */
	write_input_zone(zone->input_file, "new A 192.0.2.2\n");
	run_ctx(c, 1700000120, &res);
	assert_true(res.copied > 0);
	assert_output_is_current(c, zone->output_file);

	sgn_ctx_free(c);
	pol_config_free(cfg);
}

static void touch(const char *path)
{
	assert_int_equal(zk_file_write_atomic(path, 0600, "x\n", 2, NULL), 0);
}

static bool exists(const char *path)
{
	return access(path, F_OK) == 0;
}

static void stale_temps_of_zones_sharing_a_directory(void **state)
{
	pol_config *cfg = load_config("{ name = \"a.example.\"; }, { name = \"b.example.\"; },"
				      " { name = \"c.example.\"; }, { name = \"d.example.\"; }");
	const pol_zone *zones[3] = { &cfg->zones[0], &cfg->zones[1], &cfg->zones[2] };
	char p[PATH_MAX], gone[6][PATH_MAX + 64], kept[6][PATH_MAX + 64];

	assert_int_equal(zk_mkdir_p(tmp("out"), 0755), 0);
	for (size_t i = 0; i < 4; i++) {
		sgn_key_dir(cfg, &cfg->zones[i], p, sizeof(p));
		assert_int_equal(zk_mkdir_p(p, 0700), 0);
	}
	/* the zones' own: output and input (one directory each for all), state, keys */
	snprintf(gone[0], sizeof(gone[0]), "%s.tmp.Ab3xYz", zones[0]->output_file);
	snprintf(gone[1], sizeof(gone[1]), "%s.tmp.000000", zones[2]->output_file);
	snprintf(gone[2], sizeof(gone[2]), "%s.tmp.q.w.e.", zones[1]->input_file);
	sgn_state_path(cfg, zones[2], p, sizeof(p));
	snprintf(gone[3], sizeof(gone[3]), "%s.tmp.123456", p);
	sgn_keyring_path(cfg, zones[0], p, sizeof(p));
	snprintf(gone[4], sizeof(gone[4]), "%s.tmp.abcdef", p);
	sgn_key_dir(cfg, zones[1], p, sizeof(p));
	snprintf(gone[5], sizeof(gone[5]), "%s/Kb.example.+013+12345.private.tmp.zzzzzz", p);
	/* not theirs: another file's, a zone not asked for, other suffixes, not a key file */
	snprintf(kept[0], sizeof(kept[0]), "%s/other.zone.tmp.abcdef", tmp("out"));
	snprintf(kept[1], sizeof(kept[1]), "%s.tmp.abcdef", cfg->zones[3].output_file);
	snprintf(kept[2], sizeof(kept[2]), "%s.tmp.abcde", zones[0]->output_file);
	snprintf(kept[3], sizeof(kept[3]), "%s.tmp.abcdefg", zones[0]->output_file);
	snprintf(kept[4], sizeof(kept[4]), "%s", zones[1]->output_file);
	snprintf(kept[5], sizeof(kept[5]), "%s/notakey.tmp.abcdef", p);
	for (size_t i = 0; i < 6; i++)
		touch(gone[i]);
	for (size_t i = 0; i < 6; i++)
		touch(kept[i]);

	assert_int_equal(sgn_remove_stale_temps_all(cfg, zones, 3), 6);
	for (size_t i = 0; i < 6; i++)
		assert_false(exists(gone[i]));
	for (size_t i = 0; i < 6; i++)
		assert_true(exists(kept[i]));
	assert_int_equal(sgn_remove_stale_temps_all(cfg, zones, 3), 0);

	/* one zone alone, as it was done before */
	touch(gone[0]);
	touch(gone[1]);
	assert_int_equal(sgn_remove_stale_temps(cfg, zones[2]), 1);
	assert_true(exists(gone[0]));
	assert_false(exists(gone[1]));
	pol_config_free(cfg);
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
		cmocka_unit_test_setup_teardown(ctx_holds_no_fd_between_runs_and_still_splices,
						setup, teardown),
		cmocka_unit_test_setup_teardown(replaced_output_is_not_a_splice_source, setup,
						teardown),
		cmocka_unit_test_setup_teardown(stale_temps_of_zones_sharing_a_directory, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
