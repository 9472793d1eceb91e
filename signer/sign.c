/* SPDX-License-Identifier: MIT */
/*
 * signer/sign.c -- RRSIG generation on all cores. See sign.h.
 *
 * The work list is every authoritative RRset plus the denial records. Workers take
 * chunks of it through an atomic cursor (RRsets differ in cost, so static splitting would
 * leave a core idle at the end), each with its own ks_signer per key, PRNG and buffer.
 *
 * Why a zone's place in the jitter window comes from its name and a refresh re-signs in
 * one batch: the publication, not the signature, is what costs (each is a reload, a NOTIFY
 * and a transfer to every secondary). Jitter drawn for each signature alone would refresh
 * a zone in a publication for every hour of the window, and zones signed together would
 * still come due together. A place per zone spreads the zones instead; the small
 * per-signature part keeps a zone's expirations off one single second.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "policy/zk-codec.h"
#include "policy/zk-macro.h"
#include "signer/par.h"
#include "signer/sign.h"

#define CHUNK 256
#define MAX_KEYS 16

unsigned sgn_thread_count(unsigned requested)
{
	cpu_set_t set;
	long n;

	if (requested)
		return requested;
	if (sched_getaffinity(0, sizeof(set), &set) == 0 && CPU_COUNT(&set) > 0)
		return (unsigned) CPU_COUNT(&set);
	n = sysconf(_SC_NPROCESSORS_ONLN);
	return n > 0 ? (unsigned) n : 1;
}

typedef struct job {
	sgn_rrset *s;
	const sgn_node *node; /* owner node, or NULL for an NSEC3 record */
	const sgn_n3 *n3;
} job;

typedef struct shared {
	sgn_zone *z;
	const sgn_sign_params *p;
	uint32_t window;      /* a signature with no more than this left is re-signed */
	uint32_t zone_part;   /* expiry = now + validity - zone_part - (0 .. sig_part) */
	uint32_t sig_part;
	job *jobs;
	size_t n_jobs;
	atomic_size_t cursor;
	atomic_int failed;
	pthread_mutex_t lock;
	int error;
	zk_error err;
} shared;

typedef struct worker {
	shared *sh;
	ks_signer *ksk_signers[MAX_KEYS];
	ks_signer *zsk_signers[MAX_KEYS];
	uint8_t *buf;
	size_t cap;
	uint64_t rng;
	sgn_sign_stats st;
	zk_error err;
} worker;

int sgn_signed_data(const uint8_t *rrsig_hdr, size_t hdr_len, const uint8_t *owner,
		    const sgn_rrset *s, uint32_t ttl, uint8_t **buf, size_t *cap)
{
	size_t olen = dn_len(owner);
	size_t need = hdr_len + (size_t) s->count * (olen + 10) + s->rdata_len;
	const uint8_t *p = s->rdata, *end = s->rdata + s->rdata_len;
	uint8_t *o;

	if (need > *cap) {
		size_t c = *cap ? *cap : 4096;
		uint8_t *nb;

		while (c < need)
			c *= 2;
		nb = realloc(*buf, c);
		if (!nb)
			return -ENOMEM;
		*buf = nb;
		*cap = c;
	}
	o = *buf;
	memcpy(o, rrsig_hdr, hdr_len);
	o += hdr_len;
	/* RFC 4034 §3.1.8.1: RRs in canonical form and order (how the zone stores them) */
	while (p < end) {
		uint16_t len = blob_len(p);

		memcpy(o, owner, olen);
		o += olen;
		zk_put16(o, s->type);
		zk_put16(o + 2, 1); /* class IN */
		zk_put32(o + 4, ttl);
		memcpy(o + 8, p, 2u + len);
		o += 10u + len;
		p += 2u + len;
	}
	return (int) (o - *buf);
}

static bool signs_with_ksk(const sgn_node *node, uint16_t type)
{
	return node && (node->flags & SGN_NODE_APEX) &&
	       (type == T_DNSKEY || type == T_CDS || type == T_CDNSKEY);
}

typedef struct filter_ctx {
	const sgn_zone *z;
	const sgn_sign_params *p;
	uint32_t window;
	ks_key *const *keys;
	size_t n_keys;
	uint16_t type;
	uint32_t ttl;
	uint8_t labels;
	bool have[MAX_KEYS];
	sgn_sign_stats *st;
} filter_ctx;

/* Drop a signature unless it is one to keep (see sign.h). */
static bool drop_sig(const uint8_t *rd, uint16_t len, void *userdata)
{
	filter_ctx *c = userdata;
	zk_time_t exp, inc, now = c->p->now;
	size_t k;

	if (len < 20 || rrsig_type_covered(rd) != c->type || rrsig_labels(rd) != c->labels ||
	    rrsig_orig_ttl(rd) != c->ttl || len < 18u + c->z->apex_len ||
	    memcmp(rd + 18, c->z->apex, c->z->apex_len) != 0)
		return true;
	for (k = 0; k < c->n_keys; k++)
		if (ks_key_algorithm(c->keys[k]) == rrsig_algorithm(rd) &&
		    ks_key_tag(c->keys[k]) == rrsig_keytag(rd))
			break;
	if (k == c->n_keys || c->have[k])
		return true;
	/* RRSIG times are 32-bit; compare in serial arithmetic around now (RFC 4034 §3.1.5) */
	exp = now + (int32_t) (rrsig_expiration(rd) - (uint32_t) now);
	inc = now + (int32_t) (rrsig_inception(rd) - (uint32_t) now);
	if (inc > now || exp - now <= (zk_time_t) c->window)
		return true;
	c->have[k] = true;
	if (!c->st->earliest_expiry || exp < c->st->earliest_expiry)
		c->st->earliest_expiry = exp;
	return false;
}

static int sign_job(worker *w, const job *j)
{
	shared *sh = w->sh;
	const sgn_zone *z = sh->z;
	const sgn_sign_params *p = sh->p;
	sgn_rrset *s = j->s;
	bool ksk = signs_with_ksk(j->node, s->type);
	filter_ctx fc = {
		.z = z, .p = p, .window = sh->window, .type = s->type, .ttl = s->ttl, .st = &w->st,
		.keys = ksk ? p->ksks : p->zsks, .n_keys = ksk ? p->n_ksks : p->n_zsks,
	};
	ks_signer **signers = ksk ? w->ksk_signers : w->zsk_signers;
	uint8_t owner[DN_MAXLEN], hdr[18 + DN_MAXLEN], rd[18 + DN_MAXLEN + KS_SIG_MAX];
	size_t hdr_len, made = 0;
	int data_len = -1;

	if (j->node) {
		memcpy(owner, j->node->name, j->node->name_len);
		fc.labels = (uint8_t) (j->node->labels - (dn_is_wildcard(owner) ? 1 : 0));
	} else {
		char label[64];

		owner[0] = (uint8_t) dn_base32hex(j->n3->hash, j->n3->hash_len, label);
		memcpy(owner + 1, label, owner[0]);
		memcpy(owner + 1 + owner[0], z->apex, z->apex_len);
		fc.labels = (uint8_t) (z->apex_labels + 1);
	}
	w->st.rrsets++;
	if (s->n_sigs) {
		w->st.dropped += sgn_rrset_filter_sigs(s, drop_sig, &fc);
		w->st.kept += s->n_sigs;
	}
	s->flags &= (uint16_t) ~SGN_RRSET_NEW_SIGS;
	for (size_t k = 0; k < fc.n_keys; k++) {
		const ks_key *key = fc.keys[k];
		uint32_t inception = (uint32_t) (p->now - p->inception_offset);
		uint64_t draw = sh->sig_part ? sgn_splitmix64(&w->rng) % (sh->sig_part + 1u) : 0;
		zk_time_t exp = p->now + p->validity - sh->zone_part - (zk_time_t) draw;
		int sl;

		if (fc.have[k])
			continue;
		zk_put16(hdr, s->type);
		hdr[2] = ks_key_algorithm(key);
		hdr[3] = fc.labels;
		zk_put32(hdr + 4, s->ttl);
		zk_put32(hdr + 8, (uint32_t) exp);
		zk_put32(hdr + 12, inception);
		zk_put16(hdr + 16, ks_key_tag(key));
		memcpy(hdr + 18, z->apex, z->apex_len);
		hdr_len = 18u + z->apex_len;
		if (data_len < 0) {
			data_len = sgn_signed_data(hdr, hdr_len, owner, s, s->ttl, &w->buf, &w->cap);
			if (data_len < 0)
				return zk_fail(&w->err, data_len, "out of memory");
		} else {
			memcpy(w->buf, hdr, hdr_len); /* same RRs, this key's header */
		}
		sl = ks_signer_sign(signers[k], w->buf, (size_t) data_len, rd + hdr_len,
				    KS_SIG_MAX);
		if (sl < 0)
			return zk_fail(&w->err, ZK_E_CRYPTO, "signing with key %u failed",
				       ks_key_tag(key));
		memcpy(rd, hdr, hdr_len);
		if (sgn_rrset_add_sig(s, rd, (uint16_t) (hdr_len + (size_t) sl)) < 0)
			return zk_fail(&w->err, -ENOMEM, "out of memory");
		made++;
		if (!w->st.earliest_expiry || exp < w->st.earliest_expiry)
			w->st.earliest_expiry = exp;
	}
	if (made) {
		s->flags |= SGN_RRSET_NEW_SIGS;
		w->st.made += made;
		w->st.rrsets_signed++;
	}
	return 0;
}

static void *worker_main(void *arg)
{
	worker *w = arg;
	shared *sh = w->sh;

	for (;;) {
		size_t start = atomic_fetch_add(&sh->cursor, CHUNK), end;

		if (start >= sh->n_jobs || atomic_load(&sh->failed))
			break;
		end = start + CHUNK < sh->n_jobs ? start + CHUNK : sh->n_jobs;
		/* chunks end out of order: the furthest start taken is close enough */
		if (sh->p->permille)
			atomic_store_explicit(sh->p->permille,
					      (unsigned) ((uint64_t) start * 1000 / sh->n_jobs),
					      memory_order_relaxed);
		for (size_t i = start; i < end; i++) {
			int r = sign_job(w, &sh->jobs[i]);

			if (r < 0) {
				pthread_mutex_lock(&sh->lock);
				if (!sh->error) {
					sh->error = r;
					sh->err = w->err;
				}
				pthread_mutex_unlock(&sh->lock);
				atomic_store(&sh->failed, 1);
				return NULL;
			}
		}
	}
	return NULL;
}

static void worker_done(worker *w)
{
	for (size_t k = 0; k < MAX_KEYS; k++) {
		w->ksk_signers[k] = ks_signer_free(w->ksk_signers[k]);
		w->zsk_signers[k] = ks_signer_free(w->zsk_signers[k]);
	}
	free(w->buf);
	w->buf = NULL;
}

static int worker_init(worker *w, shared *sh, zk_error *reterr)
{
	const sgn_sign_params *p = sh->p;
	int r;

	memset(w, 0, sizeof(*w));
	w->sh = sh;
	if (getrandom(&w->rng, sizeof(w->rng), 0) != sizeof(w->rng))
		w->rng = (uint64_t) p->now ^ (uint64_t) (uintptr_t) w;
	for (size_t k = 0; k < p->n_ksks; k++) {
		r = ks_signer_new(p->ksks[k], &w->ksk_signers[k], reterr);
		if (r < 0)
			return r;
	}
	for (size_t k = 0; k < p->n_zsks; k++) {
		r = ks_signer_new(p->zsks[k], &w->zsk_signers[k], reterr);
		if (r < 0)
			return r;
	}
	return 0;
}

uint32_t sgn_zone_jitter(const uint8_t *apex, uint32_t jitter)
{
	uint64_t h = 0xcbf29ce484222325ull; /* FNV-1a over the lowercase name ... */
	size_t len = dn_len(apex);
	uint32_t span = jitter - sgn_jitter_per_sig(jitter);

	if (!jitter)
		return 0;
	for (size_t i = 0; i < len; i++) {
		/* length octets are below 64: lowercasing every octet leaves them alone */
		uint8_t c = apex[i] >= 'A' && apex[i] <= 'Z' ? (uint8_t) (apex[i] + 32) : apex[i];

		h = (h ^ c) * 0x100000001b3ull;
	}
	/* ... mixed (splitmix64's finalizer) so that names differing in one letter land far
	 * apart */
	return (uint32_t) (sgn_splitmix64(&h) % ((uint64_t) span + 1));
}

/* Does a signature of the jobs have no more than `window` left? Then the run refreshes. */
static bool any_due(const job *jobs, size_t n, zk_time_t now, uint32_t window)
{
	for (size_t i = 0; i < n; i++) {
		const sgn_rrset *s = jobs[i].s;

		for (const uint8_t *q = s->sigs; q && q < s->sigs + s->sigs_len;
		     q += 2u + blob_len(q)) {
			zk_time_t exp;

			if (blob_len(q) < 20)
				continue;
			exp = now + (int32_t) (rrsig_expiration(q + 2) - (uint32_t) now);
			if (exp - now <= (zk_time_t) window)
				return true;
		}
	}
	return false;
}

/*
 * The expiry spread and the re-signing window of this run (see sign.h). A refresh run's
 * window reaches up to the earliest expiry it can give: what it keeps comes due with what
 * it makes, so the next refresh is one period away.
 */
static void plan(shared *sh)
{
	const sgn_sign_params *p = sh->p;
	uint32_t jitter = p->jitter;

	/* a new signature must outlive the window, or every run would make it again */
	if (p->validity <= p->refresh)
		jitter = 0;
	else if (jitter > p->validity - p->refresh - 1)
		jitter = p->validity - p->refresh - 1;
	sh->sig_part = sgn_jitter_per_sig(jitter);
	sh->zone_part = sgn_zone_jitter(sh->z->apex, jitter);
	sh->window = p->refresh;
	if (p->batch && any_due(sh->jobs, sh->n_jobs, p->now, p->refresh)) {
		/* earliest expiry of a new signature, less a second: > refresh, see above */
		uint32_t w = p->validity - sh->zone_part - sh->sig_part - 1;

		if (w > sh->window)
			sh->window = w;
	}
}

/* What to look at: every RRset, or (z->dirty_only) those of the dirty names and records. */
static int collect_jobs(sgn_zone *z, job **ret, size_t *ret_n)
{
	size_t n = z->n_n3, k = 0;
	job *jobs;

	for (size_t i = 0; i < z->n_nodes; i++) {
		const sgn_node *node = z->nodes[i];

		if (z->dirty_only && !node->dirty)
			continue;
		for (uint16_t r = 0; r < node->n_rrsets; r++)
			if (sgn_rrset_is_authoritative(node, &node->rrsets[r]))
				n++;
		if (node->nsec)
			n++;
	}
	jobs = malloc((n ? n : 1) * sizeof(*jobs));
	if (!jobs)
		return -ENOMEM;
	for (size_t i = 0; i < z->n_nodes; i++) {
		sgn_node *node = z->nodes[i];

		if (z->dirty_only && !node->dirty)
			continue;
		for (uint16_t r = 0; r < node->n_rrsets; r++) {
			sgn_rrset *s = &node->rrsets[r];

			if (sgn_rrset_is_authoritative(node, s)) {
				jobs[k++] = (job) { .s = s, .node = node };
			} else if (s->n_sigs) {
				/* delegation NS and glue are never signed (RFC 4035 §2.2) */
				free(s->sigs);
				s->sigs = NULL;
				s->sigs_len = 0;
				s->n_sigs = 0;
			}
		}
		if (node->nsec)
			jobs[k++] = (job) { .s = node->nsec, .node = node };
	}
	for (size_t i = 0; i < z->n_n3; i++)
		if (!z->dirty_only || z->n3[i].dirty)
			jobs[k++] = (job) { .s = &z->n3[i].rr, .n3 = &z->n3[i] };
	*ret = jobs;
	*ret_n = k;
	return 0;
}

int sgn_sign_zone(sgn_zone *z, const sgn_sign_params *p, sgn_sign_stats *stats,
		  zk_error *reterr)
{
	unsigned n_threads = sgn_thread_count(p->threads);
	_cleanup_free_ worker *workers = NULL;
	shared sh = { .z = z, .p = p };
	int r;

	if (p->n_ksks > MAX_KEYS || p->n_zsks > MAX_KEYS)
		return zk_fail(reterr, ZK_E_KEY, "more than %d keys sign at once", MAX_KEYS);
	if (p->n_ksks == 0 || p->n_zsks == 0)
		return zk_fail(reterr, ZK_E_KEY, "no active %s to sign with",
			       p->n_ksks == 0 ? "key-signing key" : "zone-signing key");
	r = collect_jobs(z, &sh.jobs, &sh.n_jobs);
	if (r < 0)
		return zk_fail(reterr, r, "out of memory");
	plan(&sh);
	if (n_threads > sh.n_jobs / CHUNK + 1)
		n_threads = (unsigned) (sh.n_jobs / CHUNK + 1);
	workers = calloc(n_threads, sizeof(*workers));
	if (!workers) {
		free(sh.jobs);
		return zk_fail(reterr, -ENOMEM, "out of memory");
	}
	pthread_mutex_init(&sh.lock, NULL);
	atomic_init(&sh.cursor, 0);
	atomic_init(&sh.failed, 0);
	for (unsigned t = 0; t < n_threads; t++) {
		r = worker_init(&workers[t], &sh, reterr);
		if (r < 0)
			goto out;
	}
	/* the calling thread is worker 0; the others are the process's (par.h) */
	par_run(n_threads, worker_main, workers, sizeof(*workers));
	r = sh.error;
	if (r < 0) {
		if (reterr)
			*reterr = sh.err;
		goto out;
	}
	memset(stats, 0, sizeof(*stats));
	for (unsigned t = 0; t < n_threads; t++) {
		sgn_sign_stats *s = &workers[t].st;

		stats->rrsets += s->rrsets;
		stats->kept += s->kept;
		stats->dropped += s->dropped;
		stats->made += s->made;
		stats->rrsets_signed += s->rrsets_signed;
		if (s->earliest_expiry &&
		    (!stats->earliest_expiry || s->earliest_expiry < stats->earliest_expiry))
			stats->earliest_expiry = s->earliest_expiry;
	}
	stats->next_refresh = stats->earliest_expiry ? stats->earliest_expiry - p->refresh : 0;
	r = 0;
out:
	for (unsigned t = 0; t < n_threads; t++)
		worker_done(&workers[t]);
	pthread_mutex_destroy(&sh.lock);
	free(sh.jobs);
	return r;
}
