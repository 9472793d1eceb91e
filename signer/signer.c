/* SPDX-License-Identifier: MIT */
/*
 * signer/signer.c -- one zone, input to published file. See signer.h.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "policy/zk-file.h"
#include "policy/zk-macro.h"
#include "signer/denial.h"
#include "signer/load.h"
#include "signer/output.h"
#include "signer/rdata.h"
#include "signer/serial.h"
#include "signer/signer.h"
#include "signer/state.h"

#define MAX_ZONE_KEYS 16

static double mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

/* "example.com." -> "example.com"; the root zone -> "root" */
static void zone_file_name(const char *zone, char *out, size_t size)
{
	size_t n = strlen(zone);

	if (n <= 1) {
		snprintf(out, size, "root");
		return;
	}
	snprintf(out, size, "%.*s", (int) (zone[n - 1] == '.' ? n - 1 : n), zone);
}

/*
 * 0 if `dir` is a writable directory, or missing with a writable directory as its nearest
 * existing parent (it can be made); else -errno and in `why` the path that fails.
 */
static int dir_usable(const char *dir, char *why, size_t size)
{
	char p[PATH_MAX];
	struct stat sb;

	snprintf(p, sizeof(p), "%s", dir);
	for (;;) {
		if (stat(p, &sb) == 0) {
			snprintf(why, size, "%s", p);
			if (!S_ISDIR(sb.st_mode))
				return -ENOTDIR;
			return access(p, W_OK | X_OK) < 0 ? -errno : 0;
		}
		if (errno != ENOENT) {
			snprintf(why, size, "%s", p);
			return -errno;
		}
		/* missing: what decides is whether its parent lets us make it */
		char *slash = strrchr(p, '/');

		if (!slash || slash == p)
			snprintf(p, sizeof(p), "%s", slash ? "/" : ".");
		else
			*slash = '\0';
	}
}

static int check_dir(const char *what, const char *dir, bool required, const zk_diag *diag,
		     zk_error *reterr)
{
	char why[PATH_MAX];
	int r = dir_usable(dir, why, sizeof(why));

	if (r >= 0)
		return 0;
	if (!required) {
		zk_diag_emit(diag, ZK_LOG_WARNING, NULL, 0,
			     "%s %s cannot be written (%s: %s, uid %u): API changes to its zones "
			     "stay in the journal instead of being written back",
			     what, dir, why, strerror(-r), (unsigned) geteuid());
		return 0;
	}
	return zk_fail(reterr, ZK_E_CONFIG, "%s %s cannot be used: %s: %s (running as uid %u)",
		       what, dir, why, strerror(-r), (unsigned) geteuid());
}

/* The directory of `file` into `dir` (PATH_MAX). */
static void dir_of(const char *file, char *dir)
{
	char copy[PATH_MAX];

	snprintf(copy, sizeof(copy), "%s", file);
	snprintf(dir, PATH_MAX, "%s", dirname(copy));
}

int sgn_check_paths(const pol_config *cfg, const zk_diag *diag, zk_error *reterr)
{
	char dir[PATH_MAX], last_in[PATH_MAX] = "", last_out[PATH_MAX] = "";
	int r;

	r = check_dir("state directory", cfg->paths.state_dir, true, diag, reterr);
	if (r < 0)
		return r;
	r = check_dir("output directory", cfg->paths.output_dir, true, diag, reterr);
	if (r < 0)
		return r;
	r = check_dir("input directory", cfg->paths.input_dir, false, diag, reterr);
	/* zones of their own paths; zones side by side share a directory: checked once */
	for (size_t i = 0; r >= 0 && i < cfg->n_zones; i++) {
		const pol_zone *z = &cfg->zones[i];

		dir_of(z->output_file, dir);
		if (strcmp(dir, last_out) && strcmp(dir, cfg->paths.output_dir)) {
			r = check_dir("output directory", dir, true, diag, reterr);
			memcpy(last_out, dir, sizeof(dir));
		}
		dir_of(z->input_file, dir);
		if (r >= 0 && strcmp(dir, last_in) && strcmp(dir, cfg->paths.input_dir)) {
			r = check_dir("input directory", dir, false, diag, reterr);
			memcpy(last_in, dir, sizeof(dir));
		}
	}
	return r;
}

void sgn_zone_dir(const pol_config *cfg, const pol_zone *zone, char *dir, size_t size)
{
	char name[DN_TEXTMAX];

	zone_file_name(zone->name, name, sizeof(name));
	snprintf(dir, size, "%s/zones/%s", cfg->paths.state_dir, name);
}

void sgn_key_dir(const pol_config *cfg, const pol_zone *zone, char *dir, size_t size)
{
	char base[PATH_MAX];

	sgn_zone_dir(cfg, zone, base, sizeof(base));
	snprintf(dir, size, "%.*s/keys", (int) (size > 6 ? size - 6 : 0), base);
}

void sgn_state_path(const pol_config *cfg, const pol_zone *zone, char *path, size_t size)
{
	char base[PATH_MAX];

	sgn_zone_dir(cfg, zone, base, sizeof(base));
	snprintf(path, size, "%.*s/state", (int) (size > 7 ? size - 7 : 0), base);
}

void sgn_keyring_path(const pol_config *cfg, const pol_zone *zone, char *path, size_t size)
{
	char base[PATH_MAX];

	sgn_zone_dir(cfg, zone, base, sizeof(base));
	snprintf(path, size, "%.*s/keyring", (int) (size > 9 ? size - 9 : 0), base);
}

int sgn_keys_open(const pol_config *cfg, const pol_zone *zone, const zk_diag *diag,
		  ks_store **ret, zk_error *reterr)
{
	char dir[PATH_MAX];
	int r;

	sgn_zone_dir(cfg, zone, dir, sizeof(dir));
	r = zk_mkdir_p(dir, 0700);
	if (r < 0)
		return zk_fail(reterr, r, "cannot create the zone state directory '%s'", dir);
	sgn_key_dir(cfg, zone, dir, sizeof(dir));
	return ks_store_open(dir, zone->name, diag, ret, reterr);
}

int sgn_ring_open(const pol_config *cfg, const pol_zone *zone, const zk_diag *diag,
		  zk_time_t now, ks_store **ret_store, ks_ring *ring, zk_error *reterr)
{
	char path[PATH_MAX];
	ks_ring_policy rp;
	ks_store *s = NULL;
	int r;

	r = sgn_keys_open(cfg, zone, diag, &s, reterr);
	if (r < 0)
		return r;
	sgn_keyring_path(cfg, zone, path, sizeof(path));
	r = ks_ring_load(path, ring, reterr);
	if (r >= 0) {
		ks_ring_policy_from(zone->policy, &rp);
		r = ks_ring_attach(ring, s, &rp, now, reterr);
	}
	if (r < 0) {
		ks_store_free(s);
		return r;
	}
	*ret_store = s;
	return r;
}

int sgn_key_ds(const char *zone, const ks_key *k, uint8_t digest, uint8_t *out, size_t max,
	       zk_error *reterr)
{
	uint8_t apex[DN_MAXLEN];
	size_t len;
	const uint8_t *dnskey = ks_key_dnskey(k, &len);
	int n = dn_from_text(zone, strlen(zone), NULL, apex);

	if (n < 0)
		return zk_fail(reterr, ZK_E_CONFIG, "bad zone name %s", zone);
	dn_lower(apex);
	return ks_ds_rdata(apex, (size_t) n, dnskey, len, digest, out, max, reterr);
}

/* ---------------------------------------------------------------- apex records */

typedef struct rdlist {
	const uint8_t *rd[64];
	uint16_t len[64];
	uint8_t own[64][KS_DNSKEY_MAX]; /* storage for RDATA built here */
	size_t n;
} rdlist;

static int rdlist_add(rdlist *l, const uint8_t *rd, size_t len)
{
	if (l->n == ZK_ELEMENTSOF(l->rd) || len > KS_DNSKEY_MAX)
		return -E2BIG;
	memcpy(l->own[l->n], rd, len);
	l->rd[l->n] = l->own[l->n];
	l->len[l->n] = (uint16_t) len;
	l->n++;
	return 0;
}

typedef struct rdpart {
	const uint8_t *rd;
	uint16_t len;
} rdpart;

static int rdpart_cmp(const void *a, const void *b)
{
	const rdpart *x = a, *y = b;

	return sgn_rdata_cmp(x->rd, x->len, y->rd, y->len);
}

/* Set RRset `type` at `n` to the records `p`, in canonical order, without duplicates. */
static int set_from_parts(sgn_node *n, uint16_t type, uint32_t ttl, rdpart *p, size_t np)
{
	_cleanup_free_ uint8_t *blob = NULL;
	size_t total = 0;
	uint32_t o = 0;
	uint16_t count = 0;

	qsort(p, np, sizeof(*p), rdpart_cmp);
	for (size_t i = 0; i < np; i++)
		total += 2u + p[i].len;
	blob = malloc(total ? total : 1);
	if (!blob)
		return -ENOMEM;
	for (size_t i = 0; i < np; i++) {
		if (i && rdpart_cmp(&p[i - 1], &p[i]) == 0)
			continue;
		blob[o] = (uint8_t) (p[i].len >> 8);
		blob[o + 1] = (uint8_t) p[i].len;
		memcpy(blob + o + 2, p[i].rd, p[i].len);
		o += 2u + p[i].len;
		count++;
	}
	return sgn_node_set_rrset(n, type, ttl, count, blob, o);
}

static int set_from_list(sgn_node *n, uint16_t type, uint32_t ttl, rdlist *l)
{
	rdpart p[ZK_ELEMENTSOF(l->rd)];

	for (size_t i = 0; i < l->n; i++)
		p[i] = (rdpart) { l->rd[i], l->len[i] };
	return set_from_parts(n, type, ttl, p, l->n);
}

static int name_wire(const char *text, uint8_t *out)
{
	int n = dn_from_text(text, strlen(text), NULL, out);

	if (n > 0)
		dn_lower(out);
	return n;
}

static int set_soa(sgn_zone *z, const pol_policy *p, uint32_t serial, zk_error *reterr)
{
	uint8_t rd[2 * DN_MAXLEN + 20], blob[2 + sizeof(rd)];
	const pol_soa *s = &p->soa;
	int m, r;

	m = name_wire(s->mname && s->mname[0] ? s->mname : p->nameservers[0], rd);
	if (m < 0)
		return zk_fail(reterr, ZK_E_CONFIG, "bad SOA mname");
	if (s->rname && s->rname[0]) {
		r = name_wire(s->rname, rd + m);
	} else {
		char rname[DN_TEXTMAX + 16];

		snprintf(rname, sizeof(rname), "hostmaster.%s", z->apex_len > 1 ? z->apex_text : "");
		r = name_wire(rname, rd + m);
	}
	if (r < 0)
		return zk_fail(reterr, ZK_E_CONFIG, "bad SOA rname");
	m += r;
	{
		uint32_t v[5] = { serial, s->refresh, s->retry, s->expire, s->minimum };

		for (int i = 0; i < 5; i++, m += 4) {
			rd[m] = (uint8_t) (v[i] >> 24);
			rd[m + 1] = (uint8_t) (v[i] >> 16);
			rd[m + 2] = (uint8_t) (v[i] >> 8);
			rd[m + 3] = (uint8_t) v[i];
		}
	}
	blob[0] = (uint8_t) (m >> 8);
	blob[1] = (uint8_t) m;
	memcpy(blob + 2, rd, (size_t) m);
	r = sgn_node_set_rrset(z->apex_node, T_SOA, s->ttl, 1, blob, 2u + (uint32_t) m);
	return r < 0 ? zk_fail(reterr, r, "out of memory") : 0;
}

/*
 * The platform nameservers are always at the apex (README, Records), whatever the input
 * says, and the platform owns the RRset's TTL (the policy's SOA TTL): a user's apex NS
 * joins the RRset with that TTL, so it cannot change the TTL of the protected records
 * (doc/api.md).
 * How many user apex NS there may be is the rules' business (POL_APEX_NS_MAX), checked
 * where they are accepted; nothing here has a fixed size to overflow.
 */
static int ensure_platform_ns(sgn_zone *z, const pol_policy *p, zk_error *reterr)
{
	sgn_rrset *ns = sgn_node_rrset(z->apex_node, T_NS);
	size_t n_in = ns ? ns->count : 0, n = 0;
	_cleanup_free_ rdpart *parts = calloc(n_in + p->n_nameservers + 1, sizeof(*parts));
	_cleanup_free_ uint8_t *names = malloc((p->n_nameservers + 1) * DN_MAXLEN);
	int r;

	if (!parts || !names)
		return zk_fail(reterr, -ENOMEM, "out of memory");
	if (ns)
		for (const uint8_t *q = ns->rdata; q < ns->rdata + ns->rdata_len && n < n_in;
		     q += 2u + blob_len(q))
			parts[n++] = (rdpart) { q + 2, blob_len(q) };
	for (size_t i = 0; i < p->n_nameservers; i++) {
		uint8_t *w = names + i * DN_MAXLEN;
		int len = name_wire(p->nameservers[i], w);

		if (len < 0)
			return zk_fail(reterr, ZK_E_CONFIG, "bad nameserver %s", p->nameservers[i]);
		parts[n++] = (rdpart) { w, (uint16_t) len };
	}
	if (n == 0)
		return zk_fail(reterr, ZK_E_ZONE_CONTENT,
			       "zone %s has no NS records and its policy names no nameservers",
			       z->apex_text);
	r = set_from_parts(z->apex_node, T_NS, p->soa.ttl, parts, n);
	return r < 0 ? zk_fail(reterr, r, "out of memory") : 0;
}

typedef struct keyset {
	ks_key *published[MAX_ZONE_KEYS];
	size_t n_published;
	ks_key *ksks[MAX_ZONE_KEYS];
	size_t n_ksks;
	ks_key *zsks[MAX_ZONE_KEYS];
	size_t n_zsks;
	ks_key *cds[MAX_ZONE_KEYS];
	size_t n_cds;
	bool cds_delete;            /* going insecure: RFC 8078 delete forms instead */
} keyset;

/* What the key states say the zone carries: DNSKEYs, signers, CDS/CDNSKEY. */
static int pick_keys(const ks_ring *ring, const char *dir, keyset *ks, zk_error *reterr)
{
	_Static_assert(KS_RING_MAX <= MAX_ZONE_KEYS, "a keyset holds the whole ring");

	memset(ks, 0, sizeof(*ks));
	for (size_t i = 0; i < ring->n; i++) {
		ks_key *k = ring->key[i];

		if (ks_ring_publishes(ring, i))
			ks->published[ks->n_published++] = k;
		if (ks_ring_signs_keys(ring, i))
			ks->ksks[ks->n_ksks++] = k;
		if (ks_ring_signs_zone(ring, i))
			ks->zsks[ks->n_zsks++] = k;
		if (ks_ring_cds(ring, i))
			ks->cds[ks->n_cds++] = k;
	}
	ks->cds_delete = ks_ring_cds_delete(ring);
	if (ring->insecure && !ks->n_published)
		return 0; /* every key has left: the zone goes out unsigned */
	if (!ks->n_ksks || !ks->n_zsks)
		return zk_fail(reterr, ZK_E_KEY, "no %s signs the zone (keys in %s)",
			       !ks->n_ksks ? "key-signing key" : "zone-signing key", dir);
	return 0;
}

static int set_key_rrsets(sgn_zone *z, const pol_policy *p, const keyset *ks, zk_error *reterr)
{
	_cleanup_free_ rdlist *keys = calloc(1, sizeof(*keys));
	_cleanup_free_ rdlist *cds = calloc(1, sizeof(*cds));
	_cleanup_free_ rdlist *cdnskey = calloc(1, sizeof(*cdnskey));
	int r;

	if (!keys || !cds || !cdnskey)
		return zk_fail(reterr, -ENOMEM, "out of memory");
	for (size_t i = 0; i < ks->n_published; i++) {
		size_t len;
		const uint8_t *rd = ks_key_dnskey(ks->published[i], &len);

		if (rdlist_add(keys, rd, len) < 0)
			return zk_fail(reterr, ZK_E_KEY, "too many keys");
	}
	/* Invariant 14: exactly one record each, never mixed with keys */
	if (p->cds && ks->cds_delete &&
	    (rdlist_add(cds, ks_cds_delete_rdata, sizeof(ks_cds_delete_rdata)) < 0 ||
	     rdlist_add(cdnskey, ks_cdnskey_delete_rdata, sizeof(ks_cdnskey_delete_rdata)) < 0))
		return zk_fail(reterr, -ENOMEM, "out of memory");
	/* Invariant 15: the key states say which KSKs the parent should list */
	for (size_t i = 0; p->cds && !ks->cds_delete && i < ks->n_cds; i++) {
		size_t len;
		const uint8_t *rd = ks_key_dnskey(ks->cds[i], &len);

		if (rdlist_add(cdnskey, rd, len) < 0)
			return zk_fail(reterr, ZK_E_KEY, "too many keys");
		for (size_t d = 0; d < ZK_ELEMENTSOF(p->cds_digests) && p->cds_digests[d]; d++) {
			uint8_t ds[KS_DS_MAX];
			int n = ks_ds_rdata(z->apex, z->apex_len, rd, len, p->cds_digests[d], ds,
					    sizeof(ds), reterr);

			if (n < 0)
				return n;
			if (rdlist_add(cds, ds, (size_t) n) < 0)
				return zk_fail(reterr, ZK_E_KEY, "too many keys");
		}
	}
	r = set_from_list(z->apex_node, T_DNSKEY, p->dnskey_ttl, keys);
	if (r >= 0)
		r = set_from_list(z->apex_node, T_CDS, p->dnskey_ttl, cds);
	if (r >= 0)
		r = set_from_list(z->apex_node, T_CDNSKEY, p->dnskey_ttl, cdnskey);
	return r < 0 ? zk_fail(reterr, r, "out of memory") : 0;
}

/* ---------------------------------------------------------------- the run */

typedef struct atomic_sink {
	zk_atomic *a;
} atomic_sink;

static int to_atomic(void *userdata, const char *data, size_t len)
{
	atomic_sink *s = userdata;

	zk_atomic_write(s->a, data, len);
	return s->a->error;
}

static int copy_to_atomic(void *userdata, int fd, uint64_t off, uint64_t len)
{
	atomic_sink *s = userdata;

	zk_atomic_copy(s->a, fd, off, len);
	return s->a->error;
}

/* The last publication, if it is still the file we wrote: its signatures can be reused. */
static sgn_zone *load_previous(const pol_zone *zone, const sgn_state *st, const uint8_t *apex)
{
	sgn_load_opts lo = { .mode = SGN_LOAD_SIGNED };
	sgn_zone *prev = NULL;
	struct stat sb;

	if (!st->serial.set || stat(zone->output_file, &sb) < 0 ||
	    (uint64_t) sb.st_size != st->output_size ||
	    (int64_t) sb.st_mtim.tv_sec * 1000000000 + sb.st_mtim.tv_nsec != st->output_mtime_ns)
		return NULL;
	if (sgn_zone_load_file(zone->output_file, apex, &lo, &prev, NULL) < 0)
		return NULL;
	return prev;
}

static int sign_pass(sgn_zone *z, const sgn_sign_params *sp, sgn_sign_stats *total,
		     zk_error *reterr)
{
	sgn_sign_stats st;
	int r = sgn_sign_zone(z, sp, &st, reterr);

	if (r < 0)
		return r;
	total->rrsets = st.rrsets;
	total->kept = st.kept;
	total->dropped += st.dropped;
	total->made += st.made;
	total->rrsets_signed += st.rrsets_signed;
	total->earliest_expiry = st.earliest_expiry;
	total->next_refresh = st.next_refresh;
	return 0;
}

/* A file we wrote, as fstat saw it once written; set false: none. */
typedef struct file_id {
	bool set;
	dev_t dev;
	ino_t ino;
	uint64_t size;
	int64_t mtime_ns;
} file_id;

static int64_t mtime_ns(const struct stat *sb)
{
	return (int64_t) sb->st_mtim.tv_sec * 1000000000 + sb->st_mtim.tv_nsec;
}

static file_id file_id_of(const struct stat *sb)
{
	return (file_id) { .set = true, .dev = sb->st_dev, .ino = sb->st_ino,
			   .size = (uint64_t) sb->st_size, .mtime_ns = mtime_ns(sb) };
}

/*
 * Reopen the splice source `s` describes by `path` for one write: its block table is
 * kept only if the file there is still the one we wrote (same inode, size and mtime;
 * nobody replaced or changed it since), else it is dropped and the write formats
 * everything. O_NONBLOCK: a FIFO put there must not block the run.
 */
static void splice_reopen(sgn_splice *s, const file_id *id, const char *path)
{
	struct stat sb;
	int fd;

	if (!s->blocks || !id->set) {
		sgn_splice_clear(s);
		return;
	}
	fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd >= 0 && fstat(fd, &sb) == 0 && S_ISREG(sb.st_mode) && sb.st_dev == id->dev &&
	    sb.st_ino == id->ino && (uint64_t) sb.st_size == id->size &&
	    mtime_ns(&sb) == id->mtime_ns) {
		s->fd = fd;
		return;
	}
	if (fd >= 0)
		close(fd);
	sgn_splice_clear(s);
}

/* After a write that failed: the file stays in place, its table stays valid, the fd goes. */
static void splice_close(sgn_splice *s)
{
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
}

struct sgn_ctx {
	const pol_config *cfg;     /* borrowed; replaced by sgn_ctx_set_config */
	const pol_zone *zone;
	const zk_diag *diag;
	uint8_t apex[DN_MAXLEN];
	char *state_path;          /* owned (a daemon holds a context per zone) */
	sgn_state st;
	sgn_zone *current;         /* the published version in memory, or NULL */
	uint64_t applied_seq;      /* newest API write in current */
	uint64_t published_seq;    /* newest API write in the published file */
	bool have_input_id;        /* current was built from the input file of this identity */
	struct stat input_id;
	/*
	 * The block tables of the last publication and of the last write-back of the input
	 * file, for the next write of each, and the identity of the file each describes. No
	 * fd is held between runs (a daemon carries 100k zones): the next write reopens the
	 * file by its path and splices only if it is still that file.
	 */
	sgn_splice splice;
	file_id splice_id;
	sgn_splice wb_splice;
	file_id wb_id;
	ks_store *keys;            /* the key store and states of the last successful run */
	ks_ring *ring;
	/*
	 * Incremental publication: `current` is exactly what was last published (dirty marks
	 * cleared), its signatures expire no earlier than `inc_expiry`, and these keys made
	 * them. Then a change is signed, checked and written by its dirty names only.
	 */
	bool inc_ok;
	zk_time_t inc_expiry;
	uint32_t inc_signers[2 * MAX_ZONE_KEYS]; /* alg << 16 | tag; KSKs, then ZSKs */
	size_t inc_n_ksks, inc_n_zsks;
};

static void signer_ids(const keyset *ks, uint32_t *ids)
{
	for (size_t i = 0; i < ks->n_ksks; i++)
		ids[i] = (uint32_t) ks_key_algorithm(ks->ksks[i]) << 16 | ks_key_tag(ks->ksks[i]);
	for (size_t i = 0; i < ks->n_zsks; i++)
		ids[ks->n_ksks + i] = (uint32_t) ks_key_algorithm(ks->zsks[i]) << 16 |
				      ks_key_tag(ks->zsks[i]);
}

/* May this run take the incremental path? See sgn_ctx.inc_ok. */
static bool can_go_incremental(const sgn_ctx *c, const keyset *ks, uint32_t refresh,
			       int level, zk_time_t now)
{
	uint32_t ids[2 * MAX_ZONE_KEYS];

	if (!c->inc_ok || level == POL_VERIFY_FULL || ks->n_ksks != c->inc_n_ksks ||
	    ks->n_zsks != c->inc_n_zsks || !c->inc_expiry ||
	    c->inc_expiry - now <= (zk_time_t) refresh + 60)
		return false;
	signer_ids(ks, ids);
	return memcmp(ids, c->inc_signers, (ks->n_ksks + ks->n_zsks) * sizeof(ids[0])) == 0;
}

/* `z` is now what is published: the next run may build on it incrementally. */
static void inc_published(sgn_ctx *c, sgn_zone *z, const keyset *ks, zk_time_t expiry)
{
	sgn_zone_clear_dirty(z);
	z->dirty_only = false;
	c->inc_ok = expiry != 0;
	c->inc_expiry = expiry;
	c->inc_n_ksks = ks->n_ksks;
	c->inc_n_zsks = ks->n_zsks;
	signer_ids(ks, c->inc_signers);
}

/*
 * Apply the API writes newer than `after`; the newest applied goes to *seq. Returns how
 * many changed the data (glue, for one, changes it without any signature changing).
 */
static int apply_changes(sgn_zone *z, const pol_policy *p, const sgn_run_opts *o,
			 uint64_t after, uint64_t *seq, zk_error *reterr)
{
	size_t first = 0;
	int r;

	while (first < o->n_changes && o->changes[first].seq <= after)
		first++;
	if (first == o->n_changes)
		return 0;
	r = rec_apply(z, p, o->changes + first, o->n_changes - first, o->diag);
	if (r < 0)
		return zk_fail(reterr, r, "out of memory");
	*seq = o->changes[o->n_changes - 1].seq;
	return r;
}

/*
 * The serial of a version whose data differ from the last publication. `keep` takes the
 * input's serial when the input file was read and its serial is greater than the last
 * one. What zonekeeper changes itself (API writes, also when replayed on a freshly read
 * input; re-signing; key changes) has no input serial to keep: it counts up as
 * `increment` does, so such a zone can always be re-signed. Only an edited input whose
 * serial was not raised is refused (README, Serials; doc/invariants.md, 1).
 */
static int next_serial(const sgn_ctx *c, const sgn_zone *z, bool input_read, bool ops_applied,
		       zk_time_t now, uint32_t *ret, zk_error *reterr)
{
	pol_serial scheme = c->zone->policy->serial;

	if (scheme == POL_SERIAL_KEEP && c->st.serial.set && (!input_read || ops_applied) &&
	    !(input_read && z->has_input_soa && sgn_serial_gt(z->input_serial, c->st.serial.value)))
		scheme = POL_SERIAL_INCREMENT;
	return sgn_serial_next(scheme, c->st.serial, z->input_serial, z->has_input_soa, now, ret,
			       reterr);
}

/*
 * A file whose temporary copies (zk_atomic's "<name>.tmp.XXXXXX") are removed: `dir`
 * (dir_len bytes, not terminated there) and `base`; base NULL: every key file (K*) of dir.
 */
typedef struct temp_owner {
	const char *dir;
	size_t dir_len;
	const char *base;
	size_t base_len;
} temp_owner;

#define TEMP_SUFFIX_LEN 11 /* ".tmp.XXXXXX" */

static int bytes_cmp(const char *a, size_t alen, const char *b, size_t blen)
{
	int c = memcmp(a, b, alen < blen ? alen : blen);

	if (c)
		return c;
	return alen < blen ? -1 : alen > blen;
}

/* By directory, then name; the key-file wildcard (base NULL) first in its directory. */
static int owner_cmp(const void *x, const void *y)
{
	const temp_owner *a = x, *b = y;
	int c = bytes_cmp(a->dir, a->dir_len, b->dir, b->dir_len);

	if (c || a->base == b->base)
		return c;
	if (!a->base || !b->base)
		return a->base ? 1 : -1;
	return bytes_cmp(a->base, a->base_len, b->base, b->base_len);
}

static void owner_of_path(const char *path, temp_owner *o)
{
	const char *slash = strrchr(path, '/');

	if (!slash)
		*o = (temp_owner) { .dir = ".", .dir_len = 1, .base = path };
	else
		*o = (temp_owner) { .dir = path,
				    .dir_len = slash == path ? 1 : (size_t) (slash - path),
				    .base = slash + 1 };
	o->base_len = strlen(o->base);
}

/*
 * Read one directory and remove the temporary files of the n owners (all of it, sorted)
 * found there. The names are collected first: unlinking while reading is left
 * unspecified by POSIX.
 */
static size_t sweep_dir(const temp_owner *o, size_t n)
{
	char dir[PATH_MAX];
	char **names = NULL;
	size_t n_names = 0, cap = 0, removed = 0;
	struct dirent *de;
	DIR *d;

	if (o->dir_len >= sizeof(dir))
		return 0;
	memcpy(dir, o->dir, o->dir_len);
	dir[o->dir_len] = '\0';
	d = opendir(dir);
	if (!d)
		return 0;
	while ((de = readdir(d))) {
		size_t len = strlen(de->d_name);
		temp_owner key = { .dir = o->dir, .dir_len = o->dir_len, .base = de->d_name };

		if (len < TEMP_SUFFIX_LEN ||
		    memcmp(de->d_name + len - TEMP_SUFFIX_LEN, ".tmp.", 5) != 0)
			continue;
		key.base_len = len - TEMP_SUFFIX_LEN;
		if (!(o->base == NULL && de->d_name[0] == 'K') &&
		    !bsearch(&key, o, n, sizeof(*o), owner_cmp))
			continue;
		if (n_names == cap) {
			size_t nc = cap ? 2 * cap : 16;
			char **nn = realloc(names, nc * sizeof(*nn));

			if (!nn)
				break;
			names = nn;
			cap = nc;
		}
		names[n_names] = strdup(de->d_name);
		if (!names[n_names])
			break;
		n_names++;
	}
	for (size_t i = 0; i < n_names; i++) {
		removed += unlinkat(dirfd(d), names[i], 0) == 0;
		free(names[i]);
	}
	free(names);
	closedir(d);
	return removed;
}

size_t sgn_remove_stale_temps_all(const pol_config *cfg, const pol_zone *const *zones, size_t n)
{
	_cleanup_free_ temp_owner *o = calloc(n ? 5 * n : 1, sizeof(*o));
	_cleanup_free_ char **owned = calloc(n ? 3 * n : 1, sizeof(*owned));
	size_t n_o = 0, n_owned = 0, removed = 0;
	char path[PATH_MAX];

	if (!o || !owned)
		return 0;
	for (size_t i = 0; i < n; i++) {
		char *s[3];

		owner_of_path(zones[i]->output_file, &o[n_o++]);
		owner_of_path(zones[i]->input_file, &o[n_o++]);
		sgn_keyring_path(cfg, zones[i], path, sizeof(path));
		s[0] = strdup(path);
		sgn_state_path(cfg, zones[i], path, sizeof(path));
		s[1] = strdup(path);
		sgn_key_dir(cfg, zones[i], path, sizeof(path));
		s[2] = strdup(path);
		for (size_t k = 0; k < 3; k++)
			if (s[k])
				owned[n_owned++] = s[k];
		if (!s[0] || !s[1] || !s[2])
			goto out;
		owner_of_path(s[0], &o[n_o++]);
		owner_of_path(s[1], &o[n_o++]);
		o[n_o++] = (temp_owner) { .dir = s[2], .dir_len = strlen(s[2]) };
	}
	/* O(N log N) for the table, then each directory is read once, whatever N */
	qsort(o, n_o, sizeof(*o), owner_cmp);
	for (size_t i = 0; i < n_o;) {
		size_t k = i + 1;

		while (k < n_o && bytes_cmp(o[k].dir, o[k].dir_len, o[i].dir, o[i].dir_len) == 0)
			k++;
		removed += sweep_dir(o + i, k - i);
		i = k;
	}
out:
	for (size_t i = 0; i < n_owned; i++)
		free(owned[i]);
	return removed;
}

size_t sgn_remove_stale_temps(const pol_config *cfg, const pol_zone *zone)
{
	return sgn_remove_stale_temps_all(cfg, &zone, 1);
}

/*
 * The serial of the published file, from the comment line we write first ("; zone Z
 * serial N signed by zonekeeper at T"). false: no file, or not one of ours.
 */
static bool output_serial(const char *path, uint32_t *ret)
{
	char line[600];
	const char *p;
	unsigned long v;
	char *end;
	FILE *f = fopen(path, "re");
	bool ok;

	if (!f)
		return false;
	ok = fgets(line, sizeof(line), f) && strncmp(line, "; zone ", 7) == 0 &&
	     (p = strstr(line, " serial ")) && strstr(p, " signed by zonekeeper at ");
	fclose(f);
	if (!ok)
		return false;
	errno = 0;
	v = strtoul(p + 8, &end, 10);
	if (errno || end == p + 8 || *end != ' ' || v > UINT32_MAX)
		return false;
	*ret = (uint32_t) v;
	return true;
}

int sgn_ctx_open(const pol_config *cfg, const pol_zone *zone, const zk_diag *diag,
		 sgn_ctx **ret, zk_error *reterr)
{
	uint32_t published;
	sgn_ctx *c = calloc(1, sizeof(*c));
	char dir[PATH_MAX];
	int r;

	if (!c)
		return zk_fail(reterr, -ENOMEM, "out of memory");
	c->cfg = cfg;
	c->zone = zone;
	c->diag = diag;
	sgn_splice_init(&c->splice);
	sgn_splice_init(&c->wb_splice);
	if (name_wire(zone->name, c->apex) < 0) {
		free(c);
		return zk_fail(reterr, ZK_E_CONFIG, "bad zone name %s", zone->name);
	}
	sgn_zone_dir(cfg, zone, dir, sizeof(dir));
	r = zk_mkdir_p(dir, 0700);
	if (r < 0) {
		free(c);
		return zk_fail(reterr, r, "cannot create the zone state directory '%s'", dir);
	}
	sgn_state_path(cfg, zone, dir, sizeof(dir));
	c->state_path = strdup(dir);
	r = c->state_path ? sgn_state_load(c->state_path, &c->st, reterr)
			  : zk_fail(reterr, -ENOMEM, "out of memory");
	if (r < 0) {
		free(c->state_path);
		free(c);
		return r;
	}
	/*
	 * The published file bounds the next serial from below too: a state file restored
	 * from a backup (or lost) must not take the serial back behind what secondaries hold.
	 */
	if (output_serial(zone->output_file, &published) &&
	    (!c->st.serial.set || sgn_serial_gt(published, c->st.serial.value))) {
		zk_diag_emit(diag, ZK_LOG_WARNING, c->state_path, 0,
			     "the published file %s has serial %u, %s; continuing from %u",
			     zone->output_file, published,
			     c->st.serial.set ? "ahead of the zone state (restored from a backup?)"
					      : "but there is no zone state",
			     published);
		c->st.serial = (zk_serial) { .value = published, .set = true };
		/* its signatures are not reused: the state does not describe this file */
		c->st.output_size = 0;
		c->st.output_mtime_ns = 0;
	}
	/* the published version is loaded by the first run that needs it (not by --full) */
	*ret = c;
	return 0;
}

sgn_ctx *sgn_ctx_free(sgn_ctx *c)
{
	if (!c)
		return NULL;
	sgn_zone_free(c->current);
	sgn_splice_clear(&c->splice);
	sgn_splice_clear(&c->wb_splice);
	ks_store_free(c->keys);
	free(c->ring);
	free(c->state_path);
	free(c);
	return NULL;
}

const ks_ring *sgn_ctx_ring(const sgn_ctx *c)
{
	return c->ring;
}

void sgn_ctx_set_config(sgn_ctx *c, const pol_config *cfg, const pol_zone *zone)
{
	c->inc_ok = false; /* the policy may have changed what every record looks like */
	sgn_splice_clear(&c->wb_splice); /* ... and which records are the user's */
	c->wb_id.set = false;
	c->cfg = cfg;
	c->zone = zone;
}

zk_serial sgn_ctx_serial(const sgn_ctx *c)
{
	return c->st.serial;
}

zk_time_t sgn_ctx_signed_at(const sgn_ctx *c)
{
	return c->st.signed_at;
}

const sgn_zone *sgn_ctx_current(const sgn_ctx *c)
{
	return c->current;
}

/*
 * For the verifier: the DS (SHA-256) of every active KSK as trust anchors, and the keys
 * that sign ahead of their DNSKEY (an algorithm rollover).
 */
typedef struct anchors {
	const uint8_t *rd[MAX_ZONE_KEYS];
	uint16_t len[MAX_ZONE_KEYS];
	uint8_t store[MAX_ZONE_KEYS][KS_DS_MAX];
	size_t n;
	const uint8_t *ahead[2 * MAX_ZONE_KEYS];
	uint16_t ahead_len[2 * MAX_ZONE_KEYS];
	size_t n_ahead;
} anchors;

static bool key_in(ks_key *const *v, size_t n, const ks_key *k)
{
	for (size_t i = 0; i < n; i++)
		if (v[i] == k)
			return true;
	return false;
}

static int make_anchors(const pol_zone *zone, const keyset *ks, anchors *a, zk_error *reterr)
{
	ks_key *const *signers[] = { ks->zsks, ks->ksks };
	size_t n_signers[] = { ks->n_zsks, ks->n_ksks };

	a->n_ahead = 0;
	for (size_t g = 0; g < 2; g++)
		for (size_t i = 0; i < n_signers[g]; i++) {
			size_t len;
			const ks_key *k = signers[g][i];

			if (key_in(ks->published, ks->n_published, k))
				continue;
			a->ahead[a->n_ahead] = ks_key_dnskey(k, &len);
			a->ahead_len[a->n_ahead++] = (uint16_t) len;
		}
	a->n = 0;
	for (size_t i = 0; i < ks->n_ksks && a->n < MAX_ZONE_KEYS; i++) {
		int n = sgn_key_ds(zone->name, ks->ksks[i], POL_DIGEST_SHA256, a->store[a->n],
				   KS_DS_MAX, reterr);

		if (n < 0)
			return n;
		a->rd[a->n] = a->store[a->n];
		a->len[a->n++] = (uint16_t) n;
	}
	return 0;
}

static void *close_fd(void *arg)
{
	close((int) (intptr_t) arg);
	return NULL;
}

/*
 * Close the previous output, replaced by now, off the publishing path: the last close of
 * a large unlinked file frees its page cache and blocks (~10 ms for 80 MB), which the
 * writer waiting for ?wait=published need not wait for.
 */
static void close_in_background(int fd)
{
	pthread_attr_t attr;
	pthread_t th;
	int r;

	if (fd < 0)
		return;
	if (pthread_attr_init(&attr) != 0) {
		close(fd);
		return;
	}
	(void) pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	r = pthread_create(&th, &attr, close_fd, (void *) (intptr_t) fd);
	pthread_attr_destroy(&attr);
	if (r != 0)
		close(fd);
}

/* Write the zone durably, the serial state first (invariants 4, 5). */
static int publish(sgn_ctx *c, const sgn_zone *z, uint32_t serial, zk_time_t now,
		   bool splice, uint64_t *ret_copied, zk_error *reterr)
{
	const pol_zone *zone = c->zone;
	_cleanup_free_ char *dir = strdup(zone->output_file);
	char header[512], ts[32];
	atomic_sink sink;
	sgn_splice next;
	sgn_state st = c->st;
	zk_atomic a;
	struct stat sb;
	int r;

	if (!dir)
		return zk_fail(reterr, -ENOMEM, "out of memory");
	sgn_splice_init(&next);
	r = zk_mkdir_p(dirname(dir), 0755);
	if (r < 0)
		return zk_fail(reterr, r, "cannot create the output directory of '%s'",
			       zone->output_file);
	r = zk_atomic_open(zone->output_file, 0644, &a, reterr);
	if (r < 0)
		return r;
	sink.a = &a;
	snprintf(header, sizeof(header), "zone %s serial %u signed by zonekeeper at %s",
		 zone->name, serial, zk_time_iso(now, ts, sizeof(ts)));
	if (splice)
		splice_reopen(&c->splice, &c->splice_id, zone->output_file);
	r = sgn_zone_write_spliced(z, header, zone->policy->signing_threads, to_atomic,
				   copy_to_atomic, &sink, &c->splice, splice ? &next : NULL,
				   ret_copied, reterr);
	if (r >= 0)
		r = zk_atomic_sync(&a, &sb, reterr);
	if (r < 0) {
		/* the published file stays, and with it what its table describes */
		splice_close(&c->splice);
		zk_atomic_abort(&a);
		sgn_splice_clear(&next);
		return r;
	}
	st.serial = (zk_serial) { .value = serial, .set = true };
	/* the clock guard's reference only goes up: steps back of under an hour each must
	 * not walk it back without bound */
	st.signed_at = now > c->st.signed_at ? now : c->st.signed_at;
	st.output_size = (uint64_t) sb.st_size;
	st.output_mtime_ns = (int64_t) sb.st_mtim.tv_sec * 1000000000 + sb.st_mtim.tv_nsec;
	r = sgn_state_store(c->state_path, &st, reterr);
	if (r < 0) {
		splice_close(&c->splice);
		zk_atomic_abort(&a);
		sgn_splice_clear(&next);
		return r;
	}
	/* the serial is durable: from here on it is never reused, whatever happens */
	c->st = st;
	r = zk_atomic_commit(&a, reterr);
	close_in_background(c->splice.fd);
	c->splice.fd = -1;
	sgn_splice_clear(&c->splice);
	c->splice_id.set = false;
	if (r >= 0 && splice) {
		/* the text just published is the next write's source, as long as it is ours:
		 * sb is the identity of the temporary file, now renamed into place */
		c->splice = next;
		c->splice_id = file_id_of(&sb);
		return r;
	}
	sgn_splice_clear(&next);
	return r;
}

/*
 * Bytes of the answer to a DNSSEC query for `type` at the apex: header, question, the
 * RRset with its signatures (owner compressed), an EDNS OPT record. 0 without the RRset.
 */
static size_t response_size(const sgn_zone *z, uint16_t type)
{
	const sgn_rrset *s = z->apex_node ? sgn_node_rrset(z->apex_node, type) : NULL;
	size_t n = 12 + z->apex_len + 4 + 11;

	if (!s)
		return 0;
	for (const uint8_t *q = s->rdata; q < s->rdata + s->rdata_len; q += 2u + blob_len(q))
		n += 2 + 10 + blob_len(q);
	for (const uint8_t *q = s->sigs; q && q < s->sigs + s->sigs_len; q += 2u + blob_len(q))
		n += 2 + 10 + blob_len(q);
	return n;
}

/* Invariant 28: DNSKEY, CDS and CDNSKEY answers within the policy's budget, or a warning. */
static void check_response_sizes(const sgn_zone *z, const pol_zone *zone, const zk_diag *diag,
				 sgn_run_result *res)
{
	static const uint16_t types[] = { T_DNSKEY, T_CDS, T_CDNSKEY };
	const pol_policy *p = zone->policy;

	for (size_t i = 0; i < ZK_ELEMENTSOF(types); i++) {
		size_t n = response_size(z, types[i]);
		char tb[16];

		if (types[i] == T_DNSKEY)
			res->dnskey_response = n;
		if (n > p->dnskey_size_budget)
			zk_diag_emit(diag, ZK_LOG_WARNING, NULL, 0,
				     "the %s answer of %s is %zu bytes, over the %u-byte budget "
				     "(dnskey_size_budget): resolvers behind small UDP limits "
				     "fall back to TCP or fail; consider fewer keys or a smaller "
				     "algorithm", sgn_type_name(types[i], tb), zone->name, n,
				     p->dnskey_size_budget);
	}
}

/*
 * The end of going insecure: every key has left and no cache can hold the DS any more, so
 * the zone goes out as its input says, with no DNSSEC records. Published again only when
 * the data or the previous version (still signed) differ.
 */
static int publish_unsigned(sgn_ctx *c, const sgn_run_opts *o, sgn_run_result *res,
			    zk_error *reterr)
{
	const pol_zone *zone = c->zone;
	const pol_policy *p = zone->policy;
	sgn_load_opts lo = { .mode = SGN_LOAD_UNSIGNED, .max_ttl = p->max_zone_ttl,
			     .diag = o->diag, .policy = p,
			     .include_dir = c->cfg->paths.include_dir };
	sgn_zone *z = NULL, *prev = c->current;
	bool prev_unsigned = prev && prev->apex_node && !sgn_node_rrset(prev->apex_node, T_DNSKEY);
	uint64_t seq = 0;
	uint32_t serial;
	struct stat sb;
	bool have_id = stat(zone->input_file, &sb) == 0;
	int r;

	r = sgn_zone_load_file(zone->input_file, c->apex, &lo, &z, reterr);
	if (r < 0)
		return r;
	res->input_read = true;
	r = apply_changes(z, p, o, 0, &seq, reterr);
	if (r >= 0)
		r = ensure_platform_ns(z, p, reterr);
	if (r < 0)
		goto fail;
	if (prev_unsigned && c->st.serial.set) {
		r = set_soa(z, p, c->st.serial.value, reterr);
		if (r >= 0 && sgn_zone_same_data(z, prev, 0)) {
			res->serial = c->st.serial.value;
			goto keep;
		}
	}
	r = next_serial(c, z, true, seq > 0, o->now, &serial, reterr);
	if (r >= 0)
		r = set_soa(z, p, serial, reterr);
	if (r >= 0)
		r = publish(c, z, serial, o->now, false, &res->copied, reterr);
	if (r < 0)
		goto fail;
	res->published = true;
	res->serial = serial;
	res->output_size = c->st.output_size;
keep:
	sgn_zone_free(c->current);
	c->current = z;
	c->have_input_id = have_id;
	c->input_id = sb;
	c->applied_seq = c->published_seq = seq;
	return 0;
fail:
	sgn_zone_free(z);
	return r;
}

/*
 * The keys' step of a run: the key states from disk, what the operator and the parent
 * said, then the policy's moves (new keys are generated here). *dirty: the ring must be
 * saved once the run has published.
 */
static int keys_step(sgn_ctx *c, const sgn_run_opts *o, ks_store **ret_store, ks_ring *ring,
		     ks_ring_report *rep, bool *dirty, sgn_run_result *res, zk_error *reterr)
{
	const pol_zone *zone = c->zone;
	const pol_policy *p = zone->policy;
	ks_ring_policy rp;
	unsigned pending;
	int r;

	r = sgn_ring_open(c->cfg, zone, o->diag, o->now, ret_store, ring, reterr);
	if (r < 0)
		return r;
	*dirty = r > 0 || !ring->saved;
	if (o->ds_seen || o->ds_gone) {
		r = ks_ring_ds_seen(ring, o->ds_seen_tag, o->ds_seen, o->now, reterr);
		if (r < 0)
			return r;
		*dirty = true;
	}
	for (size_t j = 0; j < o->n_ds_obs; j++)
		for (size_t i = 0; i < ring->n; i++)
			if (ring->k[i].tag == o->ds_obs[j].tag && ring->k[i].alg == o->ds_obs[j].alg &&
			    ks_ring_ds_observed(ring, i, o->ds_obs[j].published, o->now))
				*dirty = true;
	ks_ring_policy_from(p, &rp);
	pending = ring->pending;
	r = ks_ring_step(ring, &rp, o->roll, o->roll_at_once, o->now, ks_ring_gen_store,
			 *ret_store, rep, reterr);
	if (r < 0)
		return r;
	/* a rollover asked for and waiting is kept in the ring's file too */
	if (rep->moves || rep->generated || rep->removed || ring->pending != pending)
		*dirty = true;
	res->keys_generated = rep->generated;
	memcpy(res->generated_tags, rep->generated_tags, sizeof(res->generated_tags));
	res->keys_removed = rep->removed;
	res->key_moves = rep->moves;
	res->key_next = rep->next;
	res->key_waits_parent = rep->waits_parent;
	res->key_deferred = rep->deferred;
	ks_ring_status(ring, res->key_status, sizeof(res->key_status));
	return 0;
}

/* After publication: the ring, then the keys' metadata, then the archive (see ring.h). */
static int keys_commit(sgn_ctx *c, ks_store *store, ks_ring *ring, const ks_ring_report *rep,
		       zk_time_t now, zk_error *reterr)
{
	char path[PATH_MAX];
	int r;

	sgn_keyring_path(c->cfg, c->zone, path, sizeof(path));
	r = ks_ring_save(path, ring, now, reterr);
	for (size_t i = 0; r >= 0 && i < rep->retimed; i++)
		r = ks_store_save(store, rep->retimed_keys[i], reterr);
	for (size_t i = 0; r >= 0 && i < rep->removed; i++)
		if (rep->removed_keys[i])
			r = ks_store_archive(store, rep->removed_keys[i], reterr);
	return r;
}

/*
 * One run of sgn_ctx_run, passed from phase to phase: the keys, the version to sign (the
 * published one changed in place, or the input read anew), its denial chain and serial,
 * the signatures, the check, the publication. A phase returns RUN_NEXT, RUN_DONE (the run
 * ends here with x->r: nothing to publish, or an error that leaves the version in memory
 * as it was), or a negative code: a failure after the version in memory may have been
 * changed, which drops it (run_drop).
 */
typedef struct run {
	sgn_ctx *c;
	const sgn_run_opts *o;
	sgn_run_result *res;
	const pol_policy *p;
	int level;                 /* verification level */
	sgn_zone *z, *prev;        /* the version being made; the one in memory before */
	bool in_place, inc, data_changed, have_id, ring_dirty;
	ks_store *keys;            /* the keys this run stepped (not a safe run's) */
	ks_ring *ring;
	ks_ring_report rep;
	keyset ks;
	uint32_t serial;
	uint64_t seq;              /* the newest API write in z */
	struct stat sb;            /* the input file as read */
	sgn_sign_params sp;
	double t;
	int r;                     /* RUN_DONE's result */
} run;

enum { RUN_NEXT = 0, RUN_DONE = 1 };

static int run_done(run *x, int r)
{
	x->r = r;
	return RUN_DONE;
}

/* The keys: a step of their states (a safe run takes the last run's, unchanged). */
static int run_keys(run *x, zk_error *reterr)
{
	sgn_ctx *c = x->c;
	const sgn_run_opts *o = x->o;
	int r;

	if (!o->safe) {
		x->ring = calloc(1, sizeof(*x->ring));
		if (!x->ring)
			return run_done(x, zk_fail(reterr, -ENOMEM, "out of memory"));
		r = keys_step(c, o, &x->keys, x->ring, &x->rep, &x->ring_dirty, x->res, reterr);
		if (r >= 0)
			r = pick_keys(x->ring, ks_store_dir(x->keys), &x->ks, reterr);
		return r < 0 ? run_done(x, r) : RUN_NEXT;
	}
	if (!c->ring || !c->keys) {
		/* no run succeeded since start: the key states as they are on disk, with no
		 * step taken */
		ks_store *keys = NULL;
		ks_ring *ring = calloc(1, sizeof(*ring));

		if (!ring)
			return run_done(x, zk_fail(reterr, -ENOMEM, "out of memory"));
		r = sgn_ring_open(c->cfg, c->zone, o->diag, o->now, &keys, ring, reterr);
		if (r < 0) {
			ks_store_free(keys);
			free(ring);
			return run_done(x, r);
		}
		ks_store_free(c->keys);
		free(c->ring);
		c->keys = keys;
		c->ring = ring;
	}
	if (o->reload_input || o->n_changes || o->full_resign)
		return run_done(x, zk_fail(reterr, -EINVAL, "a safe run re-signs the published "
					   "version only"));
	memset(&x->rep, 0, sizeof(x->rep));
	r = pick_keys(c->ring, ks_store_dir(c->keys), &x->ks, reterr);
	if (r < 0)
		return run_done(x, r);
	ks_ring_status(c->ring, x->res->key_status, sizeof(x->res->key_status));
	x->res->key_waits_parent = ks_ring_waits_parent(c->ring);
	return RUN_NEXT;
}

/*
 * The version to sign: the published one changed in place (API writes, a refresh), or
 * the input file read anew; with the API's writes applied either way.
 */
static int run_version(run *x, zk_error *reterr)
{
	sgn_ctx *c = x->c;
	const sgn_run_opts *o = x->o;
	const pol_zone *zone = c->zone;
	sgn_load_opts lo = { .mode = SGN_LOAD_UNSIGNED, .max_ttl = x->p->max_zone_ttl,
			     .diag = o->diag, .policy = x->p,
			     .include_dir = c->cfg->paths.include_dir };
	int r;

	x->prev = c->current;
	if (o->full_resign) {
		sgn_zone_free(c->current);
		c->current = x->prev = NULL;
	} else if (!x->prev) {
		/* dropped after a failure: the published file is the last good version */
		c->current = x->prev = load_previous(zone, &c->st, c->apex);
		c->applied_seq = c->published_seq;
		c->have_input_id = false;
		c->inc_ok = false;
	}
	if (o->safe && !x->prev)
		return run_done(x, zk_fail(reterr, ZK_E_ZONE_CONTENT, "the published file %s is "
					   "not the one zonekeeper wrote last (or is gone): "
					   "nothing to re-sign", zone->output_file));
	if (!x->ks.n_published) {
		if (o->safe) {
			/* an unsigned zone has no signatures to keep fresh */
			x->res->serial = c->st.serial.value;
			return run_done(x, 0);
		}
		c->inc_ok = false;
		return run_done(x, publish_unsigned(c, o, x->res, reterr));
	}
	/* re-sign the published version in place unless the input must be read */
	x->in_place = x->prev && !o->reload_input;
	if (x->prev && o->reload_input && c->have_input_id &&
	    stat(zone->input_file, &x->sb) == 0 && zk_same_file(&x->sb, &c->input_id))
		x->in_place = true; /* our own write-back, or a touch: nothing new to read */
	if (x->in_place) {
		x->z = x->prev;
		x->inc = can_go_incremental(c, &x->ks, x->p->rrsig_refresh + o->pre_refresh,
					    x->level, o->now);
		x->z->dirty_only = x->inc;
		x->res->incremental = x->inc;
		x->seq = c->applied_seq;
		r = apply_changes(x->z, x->p, o, c->applied_seq, &x->seq, reterr);
		if (r < 0)
			return r;
		x->data_changed = r > 0;
	} else {
		/* before reading: a later edit is seen */
		x->have_id = stat(zone->input_file, &x->sb) == 0;
		r = sgn_zone_load_file(zone->input_file, c->apex, &lo, &x->z, reterr);
		if (r < 0)
			return run_done(x, r);
		x->res->input_read = true;
		x->seq = 0;
		r = apply_changes(x->z, x->p, o, 0, &x->seq, reterr);
		if (r < 0)
			return r;
	}
	return RUN_NEXT;
}

/* What zonekeeper owns in the version: apex NS, keys, SOA (its serial for now), denial. */
static int run_structure(run *x, zk_error *reterr)
{
	sgn_ctx *c = x->c;
	const pol_policy *p = x->p;
	sgn_denial_params dp;
	int r;

	r = ensure_platform_ns(x->z, p, reterr);
	if (r >= 0)
		r = set_key_rrsets(x->z, p, &x->ks, reterr);
	if (r < 0)
		return r;
	/* serial: the last one while we find out whether anything changed */
	if (x->prev) {
		x->serial = c->st.serial.value;
	} else {
		r = next_serial(c, x->z, true, x->seq > 0, x->o->now, &x->serial, reterr);
		if (r < 0)
			return r;
	}
	r = set_soa(x->z, p, x->serial, reterr);
	if (r < 0)
		return r;
	if (p->denial == POL_DENIAL_NSEC3 &&
	    (!c->st.have_salt || c->st.salt_len != p->nsec3_salt_length)) {
		/* a new salt only when the policy's length changed: invariant 23 */
		c->st.have_salt = true;
		c->st.salt_len = p->nsec3_salt_length;
		if (c->st.salt_len && getrandom(c->st.salt, c->st.salt_len, 0) != c->st.salt_len)
			return zk_fail(reterr, -errno, "cannot make an NSEC3 salt");
	}
	dp = (sgn_denial_params) {
		.nsec3 = p->denial == POL_DENIAL_NSEC3,
		.iterations = p->nsec3_iterations,
		.salt_len = c->st.salt_len,
		.salt = c->st.salt,
		.opt_out = p->nsec3_opt_out,
		.ttl = p->soa.minimum < p->soa.ttl ? p->soa.minimum : p->soa.ttl, /* RFC 9077 */
		.threads = p->signing_threads,
	};
	r = sgn_denial_build(x->z, &dp, x->in_place ? NULL : x->prev, reterr);
	if (r < 0)
		return r;
	/* after the denial build, which (re)creates NSEC3PARAM at the apex */
	if (x->prev && !x->in_place)
		x->res->adopted = sgn_zone_adopt(x->z, x->prev);
	x->res->t_load = mono() - x->t;
	return RUN_NEXT;
}

/*
 * The signatures; when nothing came of it (no data changed, no signature made or
 * dropped), the run ends: the published file is still right. Else the new serial.
 */
static int run_sign(run *x, zk_error *reterr)
{
	sgn_ctx *c = x->c;
	const sgn_run_opts *o = x->o;
	const pol_policy *p = x->p;
	sgn_run_result *res = x->res;
	int r;

	x->t = mono();
	x->sp = (sgn_sign_params) {
		.now = o->now,
		.validity = p->rrsig_validity,
		/* pre-refresh: what falls due soon is re-signed with what is due now; and a run
		 * that refreshes re-signs all that would come due before its own signatures (one
		 * publication per zone per refresh period, at the zone's place in the jitter
		 * window: sign.h). An edit with nothing due re-signs only what changed. */
		.refresh = p->rrsig_refresh + o->pre_refresh,
		.jitter = p->rrsig_jitter,
		.batch = true,
		.inception_offset = p->inception_offset,
		.threads = p->signing_threads,
		.ksks = x->ks.ksks, .n_ksks = x->ks.n_ksks,
		.zsks = x->ks.zsks, .n_zsks = x->ks.n_zsks,
		.permille = o->sign_permille,
	};
	r = sign_pass(x->z, &x->sp, &res->sign, reterr);
	if (r < 0)
		return r;
	if (x->prev && res->sign.made == 0 && res->sign.dropped == 0 &&
	    (x->in_place ? !x->data_changed : sgn_zone_same_data(x->z, x->prev, 0))) {
		/* nothing new: the published file is still right */
		res->serial = x->serial;
		res->t_sign = mono() - x->t;
		if (x->inc && (!res->sign.earliest_expiry ||
			       c->inc_expiry < res->sign.earliest_expiry))
			res->sign.earliest_expiry = c->inc_expiry;
		res->sign.next_refresh = res->sign.earliest_expiry - p->rrsig_refresh;
		/* measured all the same: after a restart the status has it before any change */
		res->dnskey_response = response_size(x->z, T_DNSKEY);
		inc_published(c, x->z, &x->ks, res->sign.earliest_expiry);
		if (!x->in_place) {
			/* z holds the published data and, adopted, its signatures */
			sgn_zone_free(x->prev);
			c->current = x->z;
			c->have_input_id = x->have_id;
			c->input_id = x->sb;
		}
		c->applied_seq = c->published_seq = x->seq;
		x->z = NULL;
		return run_done(x, 0);
	}
	if (x->prev) {
		r = next_serial(c, x->z, !x->in_place, x->seq > 0, o->now, &x->serial, reterr);
		if (r < 0)
			return r;
		r = set_soa(x->z, p, x->serial, reterr);
		if (r >= 0)
			r = sign_pass(x->z, &x->sp, &res->sign, reterr);
		if (r < 0)
			return r;
	}
	/* an incremental pass saw the dirty names only: the rest expire as they did */
	if (x->inc && (!res->sign.earliest_expiry || c->inc_expiry < res->sign.earliest_expiry))
		res->sign.earliest_expiry = c->inc_expiry;
	res->sign.next_refresh = res->sign.earliest_expiry - p->rrsig_refresh;
	res->t_sign = mono() - x->t;
	check_response_sizes(x->z, c->zone, o->diag, res);
	return RUN_NEXT;
}

/* The signed version checked before anything becomes visible (invariant 6). */
static int run_verify(run *x, zk_error *reterr)
{
	_cleanup_free_ anchors *anc = malloc(sizeof(*anc));
	sgn_verify_opts vo;
	int r;

	x->t = mono();
	if (!anc)
		return zk_fail(reterr, -ENOMEM, "out of memory");
	r = make_anchors(x->c->zone, &x->ks, anc, reterr);
	if (r < 0)
		return r;
	vo = (sgn_verify_opts) {
		.now = x->o->now,
		.full = x->level == POL_VERIFY_FULL,
		/*
		 * Re-signing in place (an API write, a refresh) checks every new signature and a
		 * smaller sample of the kept ones, which were checked when they were made; a zone
		 * read anew gets the full sample.
		 */
		.sample = x->in_place ? 100 : 1000,
		.new_sigs = x->in_place,
		.first_per_key = 16,
		.min_remaining = x->p->rrsig_refresh,
		.threads = x->p->signing_threads,
		.anchors = anc->rd,
		.anchor_lens = anc->len,
		.n_anchors = anc->n,
		.extra_keys = anc->ahead,
		.extra_key_lens = anc->ahead_len,
		.n_extra_keys = anc->n_ahead,
	};
	r = sgn_zone_verify(x->z, &vo, &x->res->verify, reterr);
	x->res->t_verify = mono() - x->t;
	if (r == ZK_E_VERIFY) {
		zk_error_prefix(reterr, "signed zone failed its own check, not published");
		if (reterr)
			reterr->code = ZK_E_SELF_CHECK;
		r = ZK_E_SELF_CHECK;
	}
	return r < 0 ? r : RUN_NEXT;
}

/* Out: the signed file, then the version in memory is the published one. */
static int run_publish(run *x, zk_error *reterr)
{
	sgn_ctx *c = x->c;
	sgn_run_result *res = x->res;
	int r;

	x->t = mono();
	r = publish(c, x->z, x->serial, x->o->now, x->o->splice, &res->copied, reterr);
	if (r < 0)
		return r;
	res->t_write = mono() - x->t;
	res->output_size = c->st.output_size;
	res->published = true;
	res->serial = x->serial;
	if (!x->in_place) {
		sgn_zone_free(x->prev);
		c->have_input_id = x->have_id;
		c->input_id = x->sb;
	}
	c->applied_seq = c->published_seq = x->seq;
	c->current = x->z;
	inc_published(c, x->z, &x->ks, res->sign.earliest_expiry);
	x->z = NULL;
	return run_done(x, 0);
}

/*
 * A failure after the version in memory may have lent its signatures to the failed one,
 * or been changed in place: drop it. The published file is intact; the next run reloads
 * it.
 */
static void run_drop(run *x)
{
	sgn_ctx *c = x->c;

	if (x->z != x->prev)
		sgn_zone_free(x->z);
	x->z = NULL;
	sgn_zone_free(c->current);
	c->current = NULL;
	c->have_input_id = false;
	c->inc_ok = false;
}

/* The run is over with `r`: the keys' states saved, the result's counts, the keys kept. */
static int run_end(run *x, int r, zk_error *reterr)
{
	sgn_ctx *c = x->c;
	const sgn_zone *cur = c->current;

	if (r >= 0 && x->ring_dirty)
		r = keys_commit(c, x->keys, x->ring, &x->rep, x->o->now, reterr);
	x->res->applied_seq = c->applied_seq;
	if (cur) {
		x->res->names = cur->n_nodes;
		for (size_t i = 0; i < cur->n_nodes; i++)
			x->res->rrsets += cur->nodes[i]->n_rrsets;
	}
	/* the keys as this run left them, for whoever shows them (the daemon's API) */
	if (x->o->safe) {
		/* the keys of the last normal run stay: nothing was read or changed */
	} else if (r >= 0) {
		ks_store_free(c->keys);
		free(c->ring);
		c->keys = x->keys;
		c->ring = x->ring;
	} else {
		ks_store_free(x->keys);
		free(x->ring);
	}
	return r;
}

int sgn_ctx_run(sgn_ctx *c, const sgn_run_opts *o, sgn_run_result *res, zk_error *reterr)
{
	static int (*const phases[])(run *, zk_error *) = {
		run_keys, run_version, run_structure, run_sign, run_verify, run_publish,
	};
	_Static_assert(ZK_ELEMENTSOF(phases) == SGN_PHASE_END, "a phase per sgn_phase");
	run x = {
		.c = c, .o = o, .res = res, .p = c->zone->policy,
		.level = o->verify_level >= 0 ? o->verify_level : (int) c->zone->policy->verify,
	};
	char ts[32];
	int r = 0;

	memset(res, 0, sizeof(*res));
	snprintf(res->output, sizeof(res->output), "%s", c->zone->output_file);
	x.t = mono();
	/* never sign with a clock more than an hour behind the latest signing ever made */
	if (c->st.signed_at && o->now + 3600 < c->st.signed_at)
		return zk_fail(reterr, ZK_E_CLOCK,
			       "the clock (%s) is more than an hour behind the latest signing of "
			       "%s; refusing to sign", zk_time_iso(o->now, ts, sizeof(ts)),
			       c->zone->name);
	for (size_t i = 0; i < ZK_ELEMENTSOF(phases); i++) {
		if (o->phase)
			o->phase(o->phase_userdata, (sgn_phase) i, x.z ? x.z->n_nodes : 0);
		r = phases[i](&x, reterr);
		if (r < 0) {
			run_drop(&x);
			break;
		}
		if (r == RUN_DONE) {
			r = x.r;
			break;
		}
	}
	r = run_end(&x, r, reterr);
	if (o->phase)
		o->phase(o->phase_userdata, SGN_PHASE_END, 0);
	return r;
}

int sgn_run(const pol_config *cfg, const pol_zone *zone, const sgn_run_opts *o,
	    sgn_run_result *res, zk_error *reterr)
{
	sgn_run_opts ro = *o;
	sgn_ctx *c = NULL;
	int r;

	memset(res, 0, sizeof(*res));
	r = sgn_ctx_open(cfg, zone, o->diag, &c, reterr);
	if (r < 0)
		return r;
	ro.reload_input = true;
	r = sgn_ctx_run(c, &ro, res, reterr);
	sgn_ctx_free(c);
	return r;
}

typedef struct user_filter {
	const sgn_zone *z;
	const pol_policy *p;
} user_filter;

/* The records the input file holds: the SOA and the user's, no DNSSEC, no platform NS. */
static bool keep_user_record(void *userdata, const sgn_node *n, uint16_t type,
			     const uint8_t *rd, uint16_t len)
{
	const user_filter *u = userdata;

	if (type == T_SOA)
		return true;
	return !rec_is_system(u->z->apex, u->p, n->name, type, rd, len);
}

int sgn_ctx_write_input(sgn_ctx *c, uint64_t *ret_seq, zk_error *reterr)
{
	const sgn_zone *z = c->current;
	const pol_policy *p = c->zone->policy;
	user_filter uf = { .z = z, .p = p };
	atomic_sink sink;
	sgn_splice next;
	struct stat sb, wsb;
	zk_atomic a;
	char head[2600];
	_cleanup_free_ char *target = NULL;
	int r;

	if (!z || !c->have_input_id || stat(c->zone->input_file, &sb) < 0 ||
	    !zk_same_file(&sb, &c->input_id))
		return -EAGAIN;
	/*
	 * A symbolic link stays one: the file it points to is replaced (in its own
	 * directory), so later edits of that file are still the input's.
	 */
	target = realpath(c->zone->input_file, NULL);
	if (!target)
		return zk_fail(reterr, -errno, "cannot resolve the input file %s",
			       c->zone->input_file);
	/*
	 * The file is replaced by a new one: it must keep its owner, group and mode, or a
	 * provisioning account that owns it, or shares its group, could no longer edit it.
	 * The mode is ours to set; the owner only when it is us (or we are root), the group
	 * only when we are in it. Else nothing is written: the writes stay in the journal,
	 * replayed on every read of the file, and the caller says why.
	 */
	if (geteuid() != 0 && sb.st_uid != geteuid())
		return zk_fail(reterr, ZK_E_CONFLICT,
			       "%s belongs to uid %u, not to this service (uid %u): written back, "
			       "it would change owner; the API's writes stay in the journal",
			       target, (unsigned) sb.st_uid, (unsigned) geteuid());
	r = zk_atomic_open(target, sb.st_mode & 07777, &a, reterr);
	if (r < 0)
		return r;
	/* a new file is ours already: no fchown then (the unit's seccomp filter may refuse
	 * the call itself, whatever it would change) */
	if ((sb.st_uid != geteuid() || sb.st_gid != getegid()) &&
	    fchown(a.fd, sb.st_uid, sb.st_gid) < 0) {
		if (errno == EPERM)
			r = zk_fail(reterr, ZK_E_CONFLICT,
				    "%s has group %u, which this service cannot give a file (only "
				    "its own group): the API's writes stay in the journal", target,
				    (unsigned) sb.st_gid);
		else
			r = zk_fail(reterr, -errno, "cannot keep the owner of %s", target);
		zk_atomic_abort(&a);
		return r;
	}
	snprintf(head, sizeof(head),
		 "; zone %s, written by zonekeeper: the records of the record API are part of "
		 "it.\n; Edit freely; DNSSEC records and the platform NS are managed "
		 "automatically.\n$ORIGIN %s\n", c->zone->name, z->apex_text);
	sink.a = &a;
	sgn_splice_init(&next);
	/* most of the text is the last write-back's: copy what did not change */
	splice_reopen(&c->wb_splice, &c->wb_id, c->zone->input_file);
	r = sgn_zone_write_records(z, head, p->signing_threads, keep_user_record, &uf, to_atomic,
				   copy_to_atomic, &sink, &c->wb_splice, &next, NULL, reterr);
	if (r >= 0)
		r = zk_atomic_sync(&a, &wsb, reterr);
	/* the narrowest window for an edit to slip in between the check and the rename */
	if (r >= 0 && (stat(c->zone->input_file, &sb) < 0 || !zk_same_file(&sb, &c->input_id))) {
		splice_close(&c->wb_splice);
		zk_atomic_abort(&a);
		sgn_splice_clear(&next);
		return -EAGAIN;
	}
	if (r < 0) {
		splice_close(&c->wb_splice);
		zk_atomic_abort(&a);
		sgn_splice_clear(&next);
		return r;
	}
	r = zk_atomic_commit(&a, reterr);
	close_in_background(c->wb_splice.fd);
	c->wb_splice.fd = -1;
	sgn_splice_clear(&c->wb_splice);
	c->wb_id.set = false;
	if (r < 0) {
		sgn_splice_clear(&next);
		return r;
	}
	if (stat(c->zone->input_file, &c->input_id) < 0)
		c->have_input_id = false;
	/* the file just written (wsb: the temporary file, renamed into place) is the next
	 * write-back's source, as long as it is still ours then */
	c->wb_splice = next;
	c->wb_id = file_id_of(&wsb);
	*ret_seq = c->applied_seq;
	return 0;
}
