/* SPDX-License-Identifier: MIT */
/*
 * fuzz/fuzz_load.c -- libFuzzer target over the input-file loader (signer/load.c) through
 * the file path, as the signer reads input zones and `zonekeeper verify` signed ones: the
 * bytes are written to <dir>/in.zone in a private directory made once, then loaded with
 * sgn_zone_load_file, include_dir = that directory.
 *
 * The first byte picks the mode; the rest is the file:
 *   'U'  UNSIGNED (an input zone), apex example.com.
 *   'S'  SIGNED (our previous output), apex example.com.
 *   'u'  UNSIGNED, apex example.
 *   's'  SIGNED, apex example.
 *   anything else: SIGNED when odd, UNSIGNED when even, apex example.com.
 * The directory also holds inc.zone (a few records), fifo (a FIFO: must be refused, never
 * waited on) and link.zone (a link to a file outside it: must be refused, its content
 * never shown), for $INCLUDE to find.
 *
 * Invariants checked (a violation traps, so libFuzzer reports it with the input):
 *   - a failure leaves no zone and carries its code and a message; a success a zone;
 *   - nothing changes the file, so "changed while being read" (-EAGAIN) never happens;
 *   - the content of the file outside the directory never shows in a message;
 *   - a loaded zone is well formed: nodes in canonical order at or below the apex, every
 *     RRset's records exactly fill its RDATA, and UNSIGNED keeps no DNSSEC record.
 * Everything allocated per input is freed.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "policy/zk-error.h"
#include "signer/dname.h"
#include "signer/load.h"
#include "signer/rdata.h"
#include "signer/zone.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond) do { if (!(cond)) __builtin_trap(); } while (0)

#define SECRET "zk-fuzz-secret-marker"

static char dir[256], outside[256], in_path[300];
static uint8_t apex_com[DN_MAXLEN], apex_ex[DN_MAXLEN];

static void path_in(char *out, size_t size, const char *base, const char *name)
{
	CHECK(snprintf(out, size, "%s/%s", base, name) < (int) size);
}

static void write_all(const char *path, const void *buf, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	CHECK(fd >= 0);
	CHECK(write(fd, buf, len) == (ssize_t) len);
	CHECK(close(fd) == 0);
}

static void cleanup(void)
{
	static const char *const names[] = { "in.zone", "inc.zone", "fifo", "link.zone" };
	char p[300];

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		path_in(p, sizeof(p), dir, names[i]);
		unlink(p);
	}
	rmdir(dir);
	path_in(p, sizeof(p), outside, "secret.zone");
	unlink(p);
	rmdir(outside);
}

static void setup(void)
{
	static const char inc[] = "inc 3600 IN A 192.0.2.5\n@ 3600 IN TXT \"included\"\n";
	static const char secret[] = SECRET " 3600 IN A 192.0.2.6\n" SECRET "\n";
	const char *t = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : getenv("TMPDIR");
	char p[300], q[300];

	if (!t || !*t)
		t = "/tmp";
	CHECK(snprintf(dir, sizeof(dir), "%s/zk-fuzz-load-XXXXXX", t) < (int) sizeof(dir));
	CHECK(mkdtemp(dir));
	CHECK(snprintf(outside, sizeof(outside), "%s/zk-fuzz-out-XXXXXX", t) <
	      (int) sizeof(outside));
	CHECK(mkdtemp(outside));
	atexit(cleanup);
	path_in(in_path, sizeof(in_path), dir, "in.zone");
	path_in(p, sizeof(p), dir, "inc.zone");
	write_all(p, inc, sizeof(inc) - 1);
	path_in(p, sizeof(p), dir, "fifo");
	CHECK(mkfifo(p, 0600) == 0);
	path_in(q, sizeof(q), outside, "secret.zone");
	write_all(q, secret, sizeof(secret) - 1);
	path_in(p, sizeof(p), dir, "link.zone");
	CHECK(symlink(q, p) == 0);
	CHECK(dn_from_text("example.com.", 12, NULL, apex_com) > 0);
	CHECK(dn_from_text("example.", 8, NULL, apex_ex) > 0);
}

/* The input holds the marker in any case (names in messages may be lowercased). */
static bool input_has_secret(const uint8_t *data, size_t size)
{
	size_t n = strlen(SECRET);

	for (size_t i = 0; i + n <= size; i++)
		if (strncasecmp((const char *) data + i, SECRET, n) == 0)
			return true;
	return false;
}

static bool is_dnssec_type(uint16_t t)
{
	return t == T_RRSIG || t == T_NSEC || t == T_NSEC3 || t == T_NSEC3PARAM ||
	       t == T_DNSKEY || t == T_CDS || t == T_CDNSKEY;
}

static void check_rrset(const sgn_rrset *s)
{
	const uint8_t *p = s->rdata, *end = s->rdata + s->rdata_len;
	uint32_t n = 0;

	CHECK(s->count >= 1 && s->rdata);
	while (p < end) {
		CHECK(end - p >= 2);
		p += 2u + blob_len(p);
		n++;
	}
	CHECK(p == end && n == s->count);
}

static void check_zone(const sgn_zone *z, const uint8_t *apex, sgn_load_mode mode)
{
	for (size_t i = 0; i < z->n_nodes; i++) {
		const sgn_node *n = z->nodes[i];

		CHECK(dn_is_at_or_below(n->name, apex));
		if (i > 0)
			CHECK(dn_canonical_cmp(z->nodes[i - 1]->name, n->name) < 0);
		for (size_t k = 0; k < n->n_rrsets; k++) {
			check_rrset(&n->rrsets[k]);
			if (mode == SGN_LOAD_UNSIGNED)
				CHECK(!is_dnssec_type(n->rrsets[k].type));
		}
		if (n->nsec) {
			CHECK(mode == SGN_LOAD_SIGNED);
			check_rrset(n->nsec);
		}
	}
	for (size_t i = 0; i < z->n_n3; i++) {
		CHECK(mode == SGN_LOAD_SIGNED);
		check_rrset(&z->n3[i].rr);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	sgn_load_opts lo = { .mode = SGN_LOAD_UNSIGNED, .max_ttl = 86400 };
	const uint8_t *apex = apex_com;
	sgn_zone *z = NULL;
	zk_error e = { 0 };
	int r;

	if (!dir[0])
		setup();
	if (size == 0)
		return 0;
	switch (data[0]) {
	case 'U':
		break;
	case 'S':
		lo.mode = SGN_LOAD_SIGNED;
		break;
	case 'u':
		apex = apex_ex;
		break;
	case 's':
		lo.mode = SGN_LOAD_SIGNED;
		apex = apex_ex;
		break;
	default:
		lo.mode = data[0] & 1 ? SGN_LOAD_SIGNED : SGN_LOAD_UNSIGNED;
		break;
	}
	lo.include_dir = dir;
	write_all(in_path, data + 1, size - 1);
	r = sgn_zone_load_file(in_path, apex, &lo, &z, &e);
	if (r < 0) {
		CHECK(!z);
		CHECK(r != -EAGAIN);
		CHECK(e.code == r && e.message[0]);
		if (!input_has_secret(data, size))
			CHECK(!strcasestr(e.message, SECRET));
		return 0;
	}
	CHECK(r == 0 && z);
	check_zone(z, apex, lo.mode);
	sgn_zone_free(z);
	return 0;
}
