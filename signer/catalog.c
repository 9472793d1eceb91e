/* SPDX-License-Identifier: MIT */
/*
 * signer/catalog.c -- the catalog zone file (RFC 9432). See catalog.h.
 *
 * Linear apart from one sort: every member is parsed, lowercased and hashed into an id,
 * the ids are sorted (which is canonical order, as they are equal-length lowercase hex
 * labels), and the text is formatted once into memory (names are parsed again there, which
 * costs less than keeping 255 octets per member). It is compared with the file on disk
 * (with the old serial) and only written when something differs.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "policy/zk-codec.h"
#include "policy/zk-file.h"
#include "policy/zk-macro.h"
#include "signer/catalog.h"
#include "signer/dname.h"
#include "signer/serial.h"

#define ID_BYTES 16               /* 128 bits of SHA-256: a 32-character hex label */
#define ID_HEX (2 * ID_BYTES)
#define GROUP_MAX 255             /* one character-string (RFC 1035 §3.3) */
/* the longest owner is group.<id>.zones.<catalog>: 6 + 33 + 6 octets above the catalog */
#define CATALOG_WIRE_MAX (DN_MAXLEN - 6 - (1 + ID_HEX) - 6)
#define HEADER_MAX (DN_TEXTMAX + 128)
#define HEAD_MAX (4 * DN_TEXTMAX + 256)

/*
 * RFC 9432 §4.1: the SOA timers only drive transfers of the catalog. Expiry is as far out
 * as the field allows (2^31 - 2): a consumer whose copy of the catalog expired while we
 * were unreachable would otherwise drop every member zone. TTLs are 0, as is customary.
 */
#define SOA_RDATA_TAIL "3600 600 2147483646 0"
#define HEADER_PREFIX "; catalog zone "
#define HEADER_SUFFIX " written by zonekeeper (RFC 9432 version 2)"

ZK_DEFINE_PTR_CLEANUP(EVP_MD_CTX *, EVP_MD_CTX_free)
ZK_DEFINE_PTR_CLEANUP(EVP_MD *, EVP_MD_free)

typedef struct entry {
	uint8_t id[ID_BYTES];
	const cat_member *m;
} entry;

/* A growing text buffer; an allocation failure is remembered and reported at the end. */
typedef struct text {
	char *p;
	size_t len, cap;
	bool oom;
} text;

static void text_done(text *t)
{
	free(t->p);
}

static void put(text *t, const char *s, size_t n)
{
	if (t->oom)
		return;
	if (n > t->cap - t->len) {
		size_t cap = t->cap ? t->cap : 4096;
		char *np;

		while (n > cap - t->len)
			cap *= 2;
		np = realloc(t->p, cap);
		if (!np) {
			t->oom = true;
			return;
		}
		t->p = np;
		t->cap = cap;
	}
	memcpy(t->p + t->len, s, n);
	t->len += n;
}

static void put_str(text *t, const char *s)
{
	put(t, s, strlen(s));
}

/* RFC 1035 §5.1 character-string: " and \ escaped, anything not printable ASCII as \DDD. */
static void put_quoted(text *t, const char *s)
{
	char esc[4];

	put(t, "\"", 1);
	for (const unsigned char *c = (const unsigned char *) s; *c; c++) {
		if (*c == '"' || *c == '\\') {
			esc[0] = '\\';
			esc[1] = (char) *c;
			put(t, esc, 2);
		} else if (*c < 0x20 || *c >= 0x7f) {
			esc[0] = '\\';
			esc[1] = (char) ('0' + *c / 100);
			esc[2] = (char) ('0' + *c / 10 % 10);
			esc[3] = (char) ('0' + *c % 10);
			put(t, esc, 4);
		} else {
			put(t, (const char *) c, 1);
		}
	}
	put(t, "\"", 1);
}

/* Lowercase wire form of a member's name; its length, or ZK_E_INVALID_RECORD. */
static int member_wire(const cat_member *m, uint8_t *wire, zk_error *reterr)
{
	int len;

	if (!m->zone)
		return zk_fail(reterr, ZK_E_INVALID_RECORD, "catalog member without a zone name");
	len = dn_from_text(m->zone, strlen(m->zone), NULL, wire);
	if (len < 0)
		return zk_fail(reterr, ZK_E_INVALID_RECORD,
			       "catalog member '%s' is not a valid absolute domain name", m->zone);
	dn_lower(wire);
	return len;
}

static int entry_cmp(const void *a, const void *b)
{
	return memcmp(((const entry *) a)->id, ((const entry *) b)->id, ID_BYTES);
}

/* Parse, check and hash every member into `entries`, sorted by id. */
static int make_entries(const cat_member *members, size_t n, entry *entries, zk_error *reterr)
{
	_cleanup_(EVP_MD_CTX_free_p) EVP_MD_CTX *ctx = NULL;
	_cleanup_(EVP_MD_free_p) EVP_MD *md = NULL;
	uint8_t wire[DN_MAXLEN], digest[EVP_MAX_MD_SIZE];
	unsigned dlen;
	int r;

	if (n == 0)
		return 0;
	md = EVP_MD_fetch(NULL, "SHA256", NULL);
	ctx = EVP_MD_CTX_new();
	if (!md || !ctx)
		return zk_fail(reterr, ZK_E_CRYPTO, "SHA-256 is not available");
	for (size_t i = 0; i < n; i++) {
		const cat_member *m = &members[i];

		r = member_wire(m, wire, reterr);
		if (r < 0)
			return r;
		if (m->group && strlen(m->group) > GROUP_MAX)
			return zk_fail(reterr, ZK_E_INVALID_RECORD,
				       "the group of catalog member '%s' is longer than %d octets",
				       m->zone, GROUP_MAX);
		if (EVP_DigestInit_ex2(ctx, md, NULL) != 1 ||
		    EVP_DigestUpdate(ctx, wire, (size_t) r) != 1 ||
		    EVP_DigestFinal_ex(ctx, digest, &dlen) != 1 || dlen < ID_BYTES)
			return zk_fail(reterr, ZK_E_CRYPTO, "SHA-256 failed");
		memcpy(entries[i].id, digest, ID_BYTES);
		entries[i].m = m;
	}
	qsort(entries, n, sizeof(*entries), entry_cmp);
	/* equal ids: the same zone twice, or (never seen, but checked) a hash collision */
	for (size_t i = 1; i < n; i++) {
		uint8_t other[DN_MAXLEN];

		if (memcmp(entries[i - 1].id, entries[i].id, ID_BYTES) != 0)
			continue;
		(void) member_wire(entries[i - 1].m, wire, NULL);
		(void) member_wire(entries[i].m, other, NULL);
		if (dn_equal(wire, other))
			return zk_fail(reterr, ZK_E_INVALID_RECORD,
				       "catalog member '%s' is listed twice", entries[i].m->zone);
		return zk_fail(reterr, ZK_E_INVALID_RECORD,
			       "catalog members '%s' and '%s' would have the same id",
			       entries[i - 1].m->zone, entries[i].m->zone);
	}
	return 0;
}

/* Everything below the SOA, NS and version records: the member records, in id order. */
static void format_members(const entry *entries, size_t n, const char *cat, text *t)
{
	uint8_t wire[DN_MAXLEN];
	char hex[ID_HEX + 1], zone[DN_TEXTMAX];

	for (size_t i = 0; i < n; i++) {
		const cat_member *m = entries[i].m;

		zk_hex_encode(entries[i].id, ID_BYTES, hex);
		(void) member_wire(m, wire, NULL); /* checked by make_entries() */
		dn_to_text(wire, zone);
		/* RFC 9432 §4.3: <unique-id>.zones.<catalog> PTR <member> */
		put(t, hex, ID_HEX);
		put(t, ".zones.", 7);
		put_str(t, cat);
		put(t, "\t0\tIN\tPTR\t", 10);
		put_str(t, zone);
		put(t, "\n", 1);
		if (m->group && m->group[0]) {
			/* RFC 9432 §4.4.2: group.<unique-id>.zones.<catalog> TXT <group> */
			put(t, "group.", 6);
			put(t, hex, ID_HEX);
			put(t, ".zones.", 7);
			put_str(t, cat);
			put(t, "\t0\tIN\tTXT\t", 10);
			put_quoted(t, m->group);
			put(t, "\n", 1);
		}
	}
}

/* The marker line, SOA, NS and (RFC 9432 §4.2) version records; returns the length. */
static size_t format_head(const char *cat, uint32_t serial, char *out, size_t size)
{
	int k = snprintf(out, size,
			 HEADER_PREFIX "%s serial %u" HEADER_SUFFIX "\n"
			 "%s\t0\tIN\tSOA\tinvalid. invalid. %u " SOA_RDATA_TAIL "\n"
			 "%s\t0\tIN\tNS\tinvalid.\n"
			 "version.%s\t0\tIN\tTXT\t\"2\"\n",
			 cat, serial, cat, serial, cat, cat);

	return k > 0 && (size_t) k < size ? (size_t) k : 0;
}

/* The serial of the existing file if its first line is our marker for `cat`. */
static bool read_serial(int fd, const char *cat, uint32_t *ret)
{
	char line[HEADER_MAX], *end, *nl;
	size_t plen = strlen(HEADER_PREFIX), clen = strlen(cat);
	unsigned long v;
	ssize_t k;

	k = pread(fd, line, sizeof(line) - 1, 0);
	if (k <= 0)
		return false;
	line[k] = '\0';
	nl = strchr(line, '\n');
	if (!nl)
		return false;
	*nl = '\0';
	if (strncmp(line, HEADER_PREFIX, plen) != 0 || strncmp(line + plen, cat, clen) != 0 ||
	    strncmp(line + plen + clen, " serial ", 8) != 0)
		return false;
	errno = 0;
	v = strtoul(line + plen + clen + 8, &end, 10);
	if (errno || end == line + plen + clen + 8 || v > UINT32_MAX ||
	    strcmp(end, HEADER_SUFFIX) != 0)
		return false;
	*ret = (uint32_t) v;
	return true;
}

/* True if the file holds exactly head followed by body (read errors: not the same). */
static bool same_content(int fd, const char *head, size_t hlen, const text *body)
{
	char chunk[65536];
	struct stat st;
	size_t off = 0;

	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || (size_t) st.st_size != hlen + body->len)
		return false;
	while (off < hlen + body->len) {
		size_t want = hlen + body->len - off, got;
		ssize_t k;

		if (want > sizeof(chunk))
			want = sizeof(chunk);
		k = pread(fd, chunk, want, (off_t) off);
		if (k <= 0)
			return false;
		got = (size_t) k;
		for (size_t i = 0; i < got;) {
			size_t at = off + i, n;
			const char *ref;

			if (at < hlen) {
				ref = head + at;
				n = hlen - at;
			} else {
				ref = body->p + (at - hlen);
				n = body->len - (at - hlen);
			}
			if (n > got - i)
				n = got - i;
			if (memcmp(chunk + i, ref, n) != 0)
				return false;
			i += n;
		}
		off += got;
	}
	return true;
}

int cat_write(const char *path, const char *name, const cat_member *members, size_t n,
	      zk_time_t now, uint32_t *ret_serial, bool *ret_changed, zk_error *reterr)
{
	_cleanup_free_ entry *entries = NULL;
	_cleanup_close_ int fd = -1;
	_cleanup_(text_done) text body = { 0 };
	zk_atomic a;
	uint8_t cat_wire[DN_MAXLEN];
	char cat[DN_TEXTMAX], head[HEAD_MAX];
	zk_serial last = { 0 };
	uint32_t serial;
	size_t hlen;
	int r;

	r = name ? dn_from_text(name, strlen(name), NULL, cat_wire) : -EINVAL;
	if (r < 0 || r == 1)
		return zk_fail(reterr, ZK_E_CONFIG,
			       "catalog zone name '%s' is not a valid absolute domain name other "
			       "than the root", name ? name : "");
	if (r > CATALOG_WIRE_MAX)
		return zk_fail(reterr, ZK_E_CONFIG,
			       "catalog zone name '%s' is too long: member records need %d octets "
			       "below it, names have at most %d",
			       name, DN_MAXLEN - CATALOG_WIRE_MAX, DN_MAXLEN);
	dn_lower(cat_wire);
	dn_to_text(cat_wire, cat);

	if (n > 0) {
		entries = calloc(n, sizeof(*entries));
		if (!entries)
			return zk_fail(reterr, -ENOMEM, "out of memory");
	}
	r = make_entries(members, n, entries, reterr);
	if (r < 0)
		return r;
	format_members(entries, n, cat, &body);
	if (body.oom)
		return zk_fail(reterr, -ENOMEM, "out of memory");

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0 && errno != ENOENT)
		return zk_fail(reterr, -errno, "cannot read the catalog zone '%s'", path);
	if (fd >= 0 && read_serial(fd, cat, &last.value)) {
		last.set = true;
		hlen = format_head(cat, last.value, head, sizeof(head));
		if (same_content(fd, head, hlen, &body)) {
			if (ret_serial)
				*ret_serial = last.value;
			if (ret_changed)
				*ret_changed = false;
			return 0;
		}
	}

	/* ours: the next serial (RFC 1982, 0 skipped); not ours or none: the clock */
	(void) sgn_serial_next(last.set ? POL_SERIAL_INCREMENT : POL_SERIAL_UNIXTIME, last, 0,
			       false, now, &serial, NULL);
	hlen = format_head(cat, serial, head, sizeof(head));
	r = zk_atomic_open(path, 0644, &a, reterr);
	if (r < 0)
		return r;
	zk_atomic_write(&a, head, hlen);
	zk_atomic_write(&a, body.p, body.len);
	r = zk_atomic_commit(&a, reterr);
	if (r < 0)
		return r;
	if (ret_serial)
		*ret_serial = serial;
	if (ret_changed)
		*ret_changed = true;
	return 0;
}
