/* SPDX-License-Identifier: MIT */
/*
 * signer/verify.c -- validity of a signed zone. See verify.h.
 *
 * The denial chain is checked against a chain recomputed from the names (hashes included),
 * never against pointers the signer left in the model, so a signer bug cannot hide itself.
 */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "keystore/keystore.h"
#include "policy/zk-macro.h"
#include "signer/denial.h"
#include "signer/par.h"
#include "signer/rdata.h"
#include "signer/sign.h"
#include "signer/verify.h"

#define MAX_DNSKEYS 32

typedef struct vkey {
	uint16_t tag, flags;
	uint8_t alg;
	const uint8_t *rdata;
	uint16_t len;
	ks_pubkey *pub;
	uint32_t first_checked;
	bool signs_dnskey; /* a verified signature over the DNSKEY RRset */
} vkey;

typedef struct task {
	const sgn_rrset *s;
	const uint8_t *sig;   /* RRSIG RDATA */
	const sgn_node *node; /* owner, or NULL for an NSEC3 record ... */
	const sgn_n3 *n3;     /* ... this one (kept small: full checks queue millions) */
	uint16_t sig_len;
	int16_t key;          /* index into keys */
	int result;
} task;

/* The owner name of a task's RRset, in wire form. */
static void task_owner(const sgn_zone *z, const task *t, uint8_t *owner)
{
	char label[64];

	if (t->node) {
		memcpy(owner, t->node->name, t->node->name_len);
		return;
	}
	owner[0] = (uint8_t) dn_base32hex(t->n3->hash, t->n3->hash_len, label);
	memcpy(owner + 1, label, owner[0]);
	memcpy(owner + 1 + owner[0], z->apex, z->apex_len);
}

typedef struct tasks {
	task *v;
	size_t n, cap;
} tasks;

typedef struct vstate {
	const sgn_zone *z;
	const sgn_verify_opts *o;
	sgn_verify_report *rep;
	zk_error *err;
	vkey keys[MAX_DNSKEYS];
	size_t n_keys;
	uint8_t algs[MAX_DNSKEYS];
	size_t n_algs;
	tasks must;           /* signatures always checked at this level */
	tasks sample;         /* the random sample (reservoir) */
	size_t seen_sigs;     /* signatures offered to the reservoir */
	task *run;            /* must + sample, for the workers */
	size_t n_run;
	uint64_t rng;
	atomic_size_t cursor;
} vstate;

static void problem(vstate *v, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void problem(vstate *v, const char *fmt, ...)
{
	sgn_verify_report *r = v->rep;
	va_list ap;

	if (r->n_problems < SGN_VERIFY_MAX_PROBLEMS) {
		va_start(ap, fmt);
		vsnprintf(r->problems[r->n_problems], sizeof(r->problems[0]), fmt, ap);
		va_end(ap);
	}
	r->n_problems++;
}

/* Put a task at index `at` of `l` (at == l->n appends). */
static int add_task(tasks *l, const sgn_rrset *s, const sgn_node *node, const sgn_n3 *n3,
		    const uint8_t *sig, uint16_t sig_len, int key, size_t at)
{
	task *t;

	if (at == l->n) {
		if (l->n == l->cap) {
			size_t cap = l->cap ? l->cap * 2 : 1024;
			task *nt = realloc(l->v, cap * sizeof(*nt));

			if (!nt)
				return -ENOMEM;
			l->v = nt;
			l->cap = cap;
		}
		l->n++;
	}
	t = &l->v[at];
	t->s = s;
	t->sig = sig;
	t->sig_len = sig_len;
	t->key = (int16_t) key;
	t->node = node;
	t->n3 = n3;
	t->result = 0;
	return 0;
}

static int find_key(const vstate *v, uint8_t alg, uint16_t tag)
{
	for (size_t k = 0; k < v->n_keys; k++)
		if (v->keys[k].alg == alg && v->keys[k].tag == tag)
			return (int) k;
	return -1;
}

static const char *owner_text(const uint8_t *owner, char *buf)
{
	dn_to_text(owner, buf);
	return buf;
}

/* Take a key in; `alg_counts`: its algorithm is one of the DNSKEY RRset's (RFC 4035 §2.2). */
static void add_key(vstate *v, const uint8_t *rd, uint16_t len, bool alg_counts)
{
	vkey *k = &v->keys[v->n_keys];
	zk_error e = { 0 };
	size_t a;

	memset(k, 0, sizeof(*k));
	k->rdata = rd;
	k->len = len;
	k->flags = (uint16_t) (rd[0] << 8 | rd[1]);
	k->alg = rd[3];
	k->tag = ks_keytag(rd, len);
	if (ks_pubkey_from_dnskey(rd, len, &k->pub, &e) < 0) {
		problem(v, "DNSKEY %u (algorithm %u) is unusable: %s", k->tag, k->alg, e.message);
		return;
	}
	v->n_keys++;
	for (a = 0; a < v->n_algs && v->algs[a] != k->alg; a++)
		;
	if (alg_counts && a == v->n_algs)
		v->algs[v->n_algs++] = k->alg;
}

static int load_keys(vstate *v)
{
	const sgn_node *apex = v->z->apex_node;
	const sgn_rrset *s = apex ? sgn_node_rrset(apex, T_DNSKEY) : NULL;
	const uint8_t *p, *end;

	if (!s) {
		problem(v, "no DNSKEY RRset at the apex");
		return 0;
	}
	for (p = s->rdata, end = s->rdata + s->rdata_len; p < end; p += 2u + blob_len(p)) {
		uint16_t len = blob_len(p);
		const uint8_t *rd = p + 2;

		if (len < 4 || rd[2] != 3) {
			problem(v, "malformed DNSKEY record at the apex");
			continue;
		}
		if (!((rd[0] << 8 | rd[1]) & KS_FLAG_ZONE) || ((rd[0] << 8 | rd[1]) & KS_FLAG_REVOKE))
			continue; /* not a zone key, or revoked: it signs nothing */
		if (v->n_keys == MAX_DNSKEYS) {
			problem(v, "more than %d DNSKEYs", MAX_DNSKEYS);
			break;
		}
		add_key(v, rd, len, true);
	}
	if (v->n_keys == 0)
		problem(v, "no usable zone key in the DNSKEY RRset");
	/* keys signing ahead of their DNSKEY: their algorithms are not the RRset's */
	for (size_t i = 0; i < v->o->n_extra_keys && v->n_keys < MAX_DNSKEYS; i++)
		if (v->o->extra_key_lens[i] >= 4)
			add_key(v, v->o->extra_keys[i], v->o->extra_key_lens[i], false);
	return 0;
}

/* Whether a key of the DNSKEY RRset has algorithm `alg`. */
static bool dnskey_algorithm(const vstate *v, uint8_t alg)
{
	for (size_t a = 0; a < v->n_algs; a++)
		if (v->algs[a] == alg)
			return true;
	return false;
}

static zk_time_t rrsig_time(zk_time_t now, uint32_t t)
{
	return now + (int32_t) (t - (uint32_t) now);
}

/* Structural checks of the signatures of one RRset; queue the cryptographic ones. */
static int check_rrset(vstate *v, const sgn_node *n, const sgn_n3 *n3, const uint8_t *owner,
		       uint8_t labels, const sgn_rrset *s, bool authoritative)
{
	const sgn_verify_opts *o = v->o;
	char name[DN_TEXTMAX], tb[16], ts[16];
	bool alg_ok[MAX_DNSKEYS] = { false };
	bool always = n && (n->flags & SGN_NODE_APEX) &&
		      (s->type == T_DNSKEY || s->type == T_CDS || s->type == T_CDNSKEY);
	const uint8_t *p, *end;
	int r;

	v->rep->rrsets++;
	if (!authoritative) {
		if (s->n_sigs)
			problem(v, "%s %s is not authoritative (delegation or glue) but is signed",
				owner_text(owner, name), sgn_type_name(s->type, tb));
		return 0;
	}
	for (p = s->sigs, end = s->sigs + s->sigs_len; p && p < end; p += 2u + blob_len(p)) {
		const uint8_t *rd = p + 2;
		uint16_t len = blob_len(p);
		zk_time_t exp, inc;
		int k;

		v->rep->signatures++;
		if (len < 19u + v->z->apex_len || !dn_equal(rd + 18, v->z->apex)) {
			problem(v, "RRSIG over %s %s has a signer other than the apex",
				owner_text(owner, name), sgn_type_name(s->type, tb));
			continue;
		}
		k = find_key(v, rrsig_algorithm(rd), rrsig_keytag(rd));
		exp = rrsig_time(o->now, rrsig_expiration(rd));
		inc = rrsig_time(o->now, rrsig_inception(rd));
		if (k < 0 && !dnskey_algorithm(v, rrsig_algorithm(rd))) {
			/*
			 * An algorithm the DNSKEY RRset does not have: an algorithm rollover's
			 * signatures made ahead of their DNSKEY, or kept after it (RFC 6781
			 * §4.1.4). Validators cannot use them and pass over them; what the zone
			 * needs is a valid signature for each algorithm of its DNSKEY RRset, checked
			 * below (RFC 4035 §2.2). The signer's own check knows the keys signing
			 * ahead (extra_keys) and verifies them too.
			 */
			v->rep->ignored++;
			continue;
		}
		if (k < 0) {
			problem(v, "RRSIG over %s %s by key %u algorithm %u: no such DNSKEY",
				owner_text(owner, name), sgn_type_name(s->type, tb),
				rrsig_keytag(rd), rrsig_algorithm(rd));
			continue;
		}
		if (rrsig_labels(rd) != labels || rrsig_orig_ttl(rd) != s->ttl) {
			problem(v, "RRSIG over %s %s: labels %u (want %u) or original TTL %u (want %u)",
				owner_text(owner, name), sgn_type_name(s->type, tb),
				rrsig_labels(rd), labels, rrsig_orig_ttl(rd), s->ttl);
			continue;
		}
		if (inc > o->now) {
			problem(v, "RRSIG over %s %s by key %u is not valid before %s",
				owner_text(owner, name), sgn_type_name(s->type, tb),
				rrsig_keytag(rd), zk_time_str14(inc, ts, sizeof(ts)));
			continue;
		}
		if (exp < o->now + (zk_time_t) o->min_remaining) {
			problem(v, "RRSIG over %s %s by key %u expire%s at %s",
				owner_text(owner, name), sgn_type_name(s->type, tb),
				rrsig_keytag(rd), exp < o->now ? "d" : "s too soon",
				zk_time_str14(exp, ts, sizeof(ts)));
			continue;
		}
		if (!v->rep->earliest_expiry || exp < v->rep->earliest_expiry)
			v->rep->earliest_expiry = exp;
		for (size_t a = 0; a < v->n_algs; a++)
			if (v->algs[a] == rrsig_algorithm(rd))
				alg_ok[a] = true;
		/* cryptographic check, by level */
		if (o->full || always || v->keys[k].first_checked < o->first_per_key ||
		    (o->new_sigs && (s->flags & SGN_RRSET_NEW_SIGS))) {
			v->keys[k].first_checked++;
			r = add_task(&v->must, s, n, n3, rd, len, k, v->must.n);
		} else if (o->sample) {
			/* reservoir sampling: every signature equally likely to be checked */
			size_t seen = ++v->seen_sigs;
			uint64_t j = seen <= o->sample ? seen - 1 : sgn_splitmix64(&v->rng) % seen;

			r = j < o->sample ? add_task(&v->sample, s, n, n3, rd, len, k, j) : 0;
		} else {
			r = 0;
		}
		if (r < 0)
			return r;
	}
	for (size_t a = 0; a < v->n_algs; a++)
		if (!alg_ok[a])
			problem(v, "%s %s has no valid signature with algorithm %u (RFC 4035 §2.2)",
				owner_text(owner, name), sgn_type_name(s->type, tb), v->algs[a]);
	return 0;
}

static void *crypto_worker(void *arg)
{
	vstate *v = arg;
	uint8_t *buf = NULL, owner[DN_MAXLEN];
	size_t cap = 0;

	for (;;) {
		size_t i = atomic_fetch_add(&v->cursor, 1);
		task *t;
		size_t hdr;
		int len;

		if (i >= v->n_run)
			break;
		t = &v->run[i];
		task_owner(v->z, t, owner);
		hdr = 18 + dn_len(t->sig + 18);
		len = sgn_signed_data(t->sig, hdr, owner, t->s, rrsig_orig_ttl(t->sig), &buf, &cap);
		if (len < 0) {
			t->result = len;
			continue;
		}
		t->result = ks_pubkey_verify(v->keys[t->key].pub, buf, (size_t) len, t->sig + hdr,
					     t->sig_len - hdr);
	}
	free(buf);
	return NULL;
}

static int run_crypto(vstate *v)
{
	unsigned n = sgn_thread_count(v->o->threads);
	char name[DN_TEXTMAX], tb[16];

	v->n_run = v->must.n + v->sample.n;
	v->run = malloc((v->n_run ? v->n_run : 1) * sizeof(*v->run));
	if (!v->run)
		return -ENOMEM;
	if (v->must.n)
		memcpy(v->run, v->must.v, v->must.n * sizeof(task));
	if (v->sample.n)
		memcpy(v->run + v->must.n, v->sample.v, v->sample.n * sizeof(task));
	if (n > 64)
		n = 64;
	if (v->n_run < 64)
		n = 1;
	atomic_init(&v->cursor, 0);
	par_run(n, crypto_worker, v, 0); /* every call takes tasks from v->cursor */
	for (size_t i = 0; i < v->n_run; i++) {
		task *t = &v->run[i];

		if (t->result == -ENOMEM)
			return -ENOMEM;
		if (t->result < 0) {
			uint8_t owner[DN_MAXLEN];

			task_owner(v->z, t, owner);
			problem(v, "RRSIG over %s %s by key %u does not verify",
				owner_text(owner, name), sgn_type_name(t->s->type, tb),
				v->keys[t->key].tag);
			continue;
		}
		if (t->s->type == T_DNSKEY)
			v->keys[t->key].signs_dnskey = true;
	}
	v->rep->verified = v->n_run;
	return 0;
}

static void check_bitmap(vstate *v, const char *what, const uint8_t *bm, size_t len,
			 const uint16_t *want, size_t n_want)
{
	uint16_t have[1024];
	int n = sgn_bitmap_decode(bm, len, have, ZK_ELEMENTSOF(have));

	if (n < 0) {
		problem(v, "%s: malformed type bitmap", what);
		return;
	}
	if ((size_t) n != n_want || memcmp(have, want, n_want * sizeof(*want)) != 0) {
		char got[256] = "", exp[256] = "", tb[16];
		size_t go = 0, eo = 0;

		for (int i = 0; i < n && go < 200; i++)
			go += (size_t) snprintf(got + go, sizeof(got) - go, " %s",
						sgn_type_name(have[i], tb));
		for (size_t i = 0; i < n_want && eo < 200; i++)
			eo += (size_t) snprintf(exp + eo, sizeof(exp) - eo, " %s",
						sgn_type_name(want[i], tb));
		problem(v, "%s: type bitmap is {%s } but the name has {%s }", what, got, exp);
	}
}

static int check_nsec(vstate *v)
{
	const sgn_zone *z = v->z;
	const sgn_node *first = NULL, *prev = NULL;
	uint16_t types[1024];
	char name[DN_TEXTMAX], what[DN_TEXTMAX + 16];

	for (size_t i = 0; i <= z->n_nodes; i++) {
		const sgn_node *n = i < z->n_nodes ? z->nodes[i] : NULL;

		if (n && (n->flags & (SGN_NODE_BELOW_CUT | SGN_NODE_ENT))) {
			if (n->nsec)
				problem(v, "%s has an NSEC record but is %s", owner_text(n->name, name),
					n->flags & SGN_NODE_ENT ? "an empty non-terminal" : "glue");
			continue;
		}
		if (prev) {
			const sgn_node *next = n ? n : first;
			const sgn_rrset *s = prev->nsec;

			snprintf(what, sizeof(what), "NSEC at %s", owner_text(prev->name, name));
			if (!s || s->count != 1) {
				problem(v, "%s has no NSEC record", name);
			} else {
				const uint8_t *rd = s->rdata + 2;
				uint16_t len = blob_len(s->rdata);
				size_t nl = dn_len(rd);
				size_t nt = !z->dirty_only || prev->dirty ?
					    sgn_denial_types(prev, false, types, ZK_ELEMENTSOF(types)) : 0;

				v->rep->denial_records++;
				if (nl > len || !dn_equal(rd, next->name))
					problem(v, "%s: next name is not %s", what,
						owner_text(next->name, name));
				else if (!z->dirty_only || prev->dirty)
					check_bitmap(v, what, rd + nl, len - nl, types, nt);
			}
		}
		if (!first)
			first = n;
		prev = n;
	}
	if (z->n_n3)
		problem(v, "NSEC3 records in an NSEC zone");
	return 0;
}

static const char *n3_what(const uint8_t *hash, const sgn_node *nd, char *buf, size_t size)
{
	char label[64], name[DN_TEXTMAX];

	dn_base32hex(hash, 20, label);
	snprintf(buf, size, "NSEC3 %s (%s)", label, owner_text(nd->name, name));
	return buf;
}

/* The bitmap is exactly the encoding of `types` (the common case: no message needed). */
static bool bitmap_matches(const uint8_t *bm, size_t len, const uint16_t *types, size_t nt)
{
	uint8_t want[8192 + 64];
	size_t wl = sgn_bitmap_encode(types, nt, want);

	return wl == len && memcmp(want, bm, len) == 0;
}

/*
 * Hash order of n entries in O(n): SHA-1 outputs are uniform, so a counting pass on the
 * first 16 bits puts ~n/65536 entries in each bucket, and an insertion sort finishes each
 * bucket (qsort of these large entries was a tenth of an edit's cost at 100k names).
 */
static int sort_by_hash(sgn_n3 **a, size_t n)
{
	uint32_t *start = calloc(65536 + 1, sizeof(*start));
	sgn_n3 *out = malloc((n ? n : 1) * sizeof(*out)), *in = *a;

	if (!start || !out) {
		free(start);
		free(out);
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++)
		start[(in[i].hash[0] << 8 | in[i].hash[1]) + 1]++;
	for (size_t b = 1; b <= 65536; b++)
		start[b] += start[b - 1];
	for (size_t i = 0; i < n; i++)
		out[start[in[i].hash[0] << 8 | in[i].hash[1]]++] = in[i];
	/* start[b] is now the end of bucket b: sort each bucket in place */
	for (size_t b = 0, from = 0; b < 65536; b++) {
		for (size_t i = from + 1; i < start[b]; i++)
			for (size_t j = i; j > from && memcmp(out[j - 1].hash, out[j].hash, 20) > 0;
			     j--) {
				sgn_n3 x = out[j];

				out[j] = out[j - 1];
				out[j - 1] = x;
			}
		from = start[b];
	}
	free(start);
	free(in);
	*a = out;
	return 0;
}

static int check_nsec3(vstate *v, const sgn_rrset *param)
{
	const sgn_zone *z = v->z;
	const uint8_t *pr = param->rdata + 2;
	uint16_t plen = blob_len(param->rdata);
	sgn_denial_params dp = { .nsec3 = true };
	_cleanup_free_ sgn_n3 *want = NULL;
	_cleanup_free_ bool *may_lack = NULL;
	uint16_t types[1024];
	char name[DN_TEXTMAX], what[DN_TEXTMAX + 96], label[64];
	bool opt_out;
	size_t n = 0, k = 0;
	int r;

	if (param->count != 1 || plen < 5 || 5u + pr[4] != plen || pr[0] != 1) {
		problem(v, "NSEC3PARAM is malformed or not SHA-1");
		return 0;
	}
	dp.iterations = (uint16_t) (pr[2] << 8 | pr[3]);
	dp.salt_len = pr[4];
	dp.salt = pr + 5;
	dp.threads = v->o->threads;
	opt_out = z->n_n3 && z->n3[0].rr.rdata_len > 3 && (z->n3[0].rr.rdata[3] & 1);
	for (size_t i = 0; i < z->n_nodes; i++) {
		const sgn_node *nd = z->nodes[i];

		if (nd->nsec)
			problem(v, "NSEC record at %s in an NSEC3 zone", owner_text(nd->name, name));
		if (!(nd->flags & SGN_NODE_BELOW_CUT))
			n++;
	}
	want = calloc(n ? n : 1, sizeof(*want));
	may_lack = sgn_nsec3_optional(z, opt_out);
	if (!want || !may_lack)
		return -ENOMEM;
	/* want[].dirty, in this list of our own: the name may lack a record (opt-out) */
	for (size_t i = 0; i < z->n_nodes; i++)
		if (!(z->nodes[i]->flags & SGN_NODE_BELOW_CUT)) {
			want[k].dirty = may_lack[i];
			want[k++].node = z->nodes[i];
		}
	r = sgn_nsec3_hash_all(want, n, &dp);
	if (r < 0)
		return r;
	r = sort_by_hash(&want, n);
	if (r < 0)
		return r;
	/* every name needs its NSEC3, except what opt-out leaves out (sgn_nsec3_optional) */
	for (size_t i = 0, j = 0; i < n; i++) {
		const sgn_node *nd = want[i].node;
		bool optional = want[i].dirty;

		while (j < z->n_n3 && memcmp(z->n3[j].hash, want[i].hash, 20) < 0)
			j++;
		if (j < z->n_n3 && memcmp(z->n3[j].hash, want[i].hash, 20) == 0) {
			const sgn_rrset *s = &z->n3[j].rr;
			const uint8_t *rd = s->rdata + 2;
			uint16_t len = blob_len(s->rdata);
			size_t off = 5u + dp.salt_len, nt;

			/* named only when something is wrong: formatting 1M names costs seconds */
			what[0] = '\0';
			v->rep->denial_records++;
			if (s->count != 1 || len < off + 21 || rd[0] != 1 ||
			    (rd[2] << 8 | rd[3]) != dp.iterations || rd[4] != dp.salt_len ||
			    memcmp(rd + 5, dp.salt, dp.salt_len) != 0 || rd[off] != 20 ||
			    (bool) (rd[1] & 1) != opt_out) {
				problem(v, "%s: parameters differ from NSEC3PARAM or the chain",
					n3_what(want[i].hash, nd, what, sizeof(what)));
				continue;
			}
			{
				const uint8_t *next = z->n3[(j + 1) % z->n_n3].hash;

				if (memcmp(rd + off + 1, next, 20) != 0)
					problem(v, "%s: next hashed owner is not the next record",
						n3_what(want[i].hash, nd, what, sizeof(what)));
			}
			nt = sgn_denial_types(nd, true, types, ZK_ELEMENTSOF(types));
			if (!bitmap_matches(rd + off + 21, len - off - 21, types, nt))
				check_bitmap(v, n3_what(want[i].hash, nd, what, sizeof(what)),
					     rd + off + 21, len - off - 21, types, nt);
		} else if (!optional) {
			problem(v, "%s has no NSEC3 record", owner_text(nd->name, name));
		}
	}
	/* records standing for no name (both lists are in hash order: one merge pass) */
	for (size_t j = 0, i = 0; j < z->n_n3; j++) {
		while (i < n && memcmp(want[i].hash, z->n3[j].hash, 20) < 0)
			i++;
		if (i == n || memcmp(want[i].hash, z->n3[j].hash, 20) != 0) {
			dn_base32hex(z->n3[j].hash, z->n3[j].hash_len, label);
			problem(v, "NSEC3 record %s.%s matches no name of the zone", label,
				z->apex_text);
		}
	}
	return 0;
}

/*
 * check_nsec3 for an incremental publication (z->dirty_only): the chain as a whole is
 * checked in one cheap pass (parameters of the changed records, strict hash order, every
 * next hashed owner the following record, as many records as names that need one), and
 * every dirty name is hashed here and its record checked in full, or its absence where it
 * must have none. The full check runs at every publication that is not incremental.
 */
static int check_nsec3_dirty(vstate *v, const sgn_rrset *param)
{
	const sgn_zone *z = v->z;
	const uint8_t *pr = param->rdata + 2;
	uint16_t plen = blob_len(param->rdata);
	sgn_denial_params dp = { .nsec3 = true, .threads = 1 };
	uint16_t types[1024];
	char name[DN_TEXTMAX], what[DN_TEXTMAX + 96], label[64];
	size_t need = 0, optional = 0, off;
	_cleanup_free_ bool *may_lack = NULL;
	bool opt_out;

	if (param->count != 1 || plen < 5 || 5u + pr[4] != plen || pr[0] != 1) {
		problem(v, "NSEC3PARAM is malformed or not SHA-1");
		return 0;
	}
	dp.iterations = (uint16_t) (pr[2] << 8 | pr[3]);
	dp.salt_len = pr[4];
	dp.salt = pr + 5;
	off = 5u + dp.salt_len;
	opt_out = z->n_n3 && z->n3[0].rr.rdata_len > 3 && (z->n3[0].rr.rdata[3] & 1);
	may_lack = sgn_nsec3_optional(z, opt_out);
	if (!may_lack)
		return -ENOMEM;
	v->rep->denial_records = z->n_n3;
	for (size_t j = 0; j < z->n_n3; j++) {
		const sgn_rrset *s = &z->n3[j].rr;
		const uint8_t *rd = s->rdata ? s->rdata + 2 : NULL;
		uint16_t len = s->rdata ? blob_len(s->rdata) : 0;

		if (j + 1 < z->n_n3 && memcmp(z->n3[j].hash, z->n3[j + 1].hash, 20) >= 0) {
			dn_base32hex(z->n3[j].hash, z->n3[j].hash_len, label);
			problem(v, "NSEC3 record %s.%s is out of hash order", label, z->apex_text);
			continue;
		}
		if (!rd || s->count != 1 || len < off + 21 || rd[off] != 20 ||
		    memcmp(rd + off + 1, z->n3[(j + 1) % z->n_n3].hash, 20) != 0) {
			dn_base32hex(z->n3[j].hash, z->n3[j].hash_len, label);
			problem(v, "NSEC3 record %s.%s: next hashed owner is not the next record",
				label, z->apex_text);
			continue;
		}
		if (z->n3[j].dirty &&
		    (rd[0] != 1 || (rd[2] << 8 | rd[3]) != dp.iterations || rd[4] != dp.salt_len ||
		     memcmp(rd + 5, dp.salt, dp.salt_len) != 0 || (bool) (rd[1] & 1) != opt_out)) {
			dn_base32hex(z->n3[j].hash, z->n3[j].hash_len, label);
			problem(v, "NSEC3 record %s.%s: parameters differ from NSEC3PARAM or the chain",
				label, z->apex_text);
		}
	}
	for (size_t i = 0; i < z->n_nodes; i++) {
		const sgn_node *nd = z->nodes[i];
		bool below = nd->flags & SGN_NODE_BELOW_CUT;
		bool opt = may_lack[i];
		uint8_t hash[20];
		size_t lo = 0, hi = z->n_n3;
		const sgn_n3 *e = NULL;

		if (!below) {
			if (opt)
				optional++;
			else
				need++;
		}
		if (!nd->dirty)
			continue;
		if (nd->nsec)
			problem(v, "NSEC record at %s in an NSEC3 zone", owner_text(nd->name, name));
		if (sgn_nsec3_hash(nd->name, dp.salt, dp.salt_len, dp.iterations, hash) < 0)
			return -ENOMEM;
		while (lo < hi) {
			size_t mid = lo + (hi - lo) / 2;
			int c = memcmp(z->n3[mid].hash, hash, 20);

			if (c == 0) {
				e = &z->n3[mid];
				break;
			}
			if (c < 0)
				lo = mid + 1;
			else
				hi = mid;
		}
		if (!e) {
			if (!below && !opt)
				problem(v, "%s has no NSEC3 record", owner_text(nd->name, name));
			continue;
		}
		if (below) {
			problem(v, "%s has an NSEC3 record but is glue or occluded",
				owner_text(nd->name, name));
			continue;
		}
		{
			const uint8_t *rd = e->rr.rdata + 2;
			uint16_t len = blob_len(e->rr.rdata);
			size_t nt = sgn_denial_types(nd, true, types, ZK_ELEMENTSOF(types));

			if (len >= off + 21 && !bitmap_matches(rd + off + 21, len - off - 21, types, nt))
				check_bitmap(v, n3_what(hash, nd, what, sizeof(what)),
					     rd + off + 21, len - off - 21, types, nt);
		}
	}
	if (z->n_n3 < need || z->n_n3 > need + optional)
		problem(v, "the NSEC3 chain has %zu records for %zu names that need one%s", z->n_n3,
			need, optional ? " (and insecure delegations that may)" : "");
	return 0;
}

static void check_anchors(vstate *v)
{
	const sgn_verify_opts *o = v->o;
	bool ok = false;

	for (size_t a = 0; a < o->n_anchors && !ok; a++) {
		const uint8_t *ds = o->anchors[a];
		uint16_t dl = o->anchor_lens[a];

		if (dl < 5)
			continue;
		for (size_t k = 0; k < v->n_keys; k++) {
			uint8_t out[KS_DS_MAX];
			int n;

			if (v->keys[k].tag != (ds[0] << 8 | ds[1]) || v->keys[k].alg != ds[2])
				continue;
			n = ks_ds_rdata(v->z->apex, v->z->apex_len, v->keys[k].rdata, v->keys[k].len,
					ds[3], out, sizeof(out), NULL);
			if (n == dl && memcmp(out, ds, dl) == 0 && v->keys[k].signs_dnskey)
				ok = true;
		}
	}
	if (o->n_anchors && !ok)
		problem(v, "no DNSKEY matching a trust anchor (DS) signs the DNSKEY RRset");
}

int sgn_zone_verify(const sgn_zone *z, const sgn_verify_opts *o, sgn_verify_report *rep,
		    zk_error *reterr)
{
	vstate v = { .z = z, .o = o, .rep = rep, .err = reterr };
	const sgn_node *apex = z->apex_node;
	const sgn_rrset *param = apex ? sgn_node_rrset(apex, T_NSEC3PARAM) : NULL;
	int r = 0;

	memset(rep, 0, sizeof(*rep));
	if (getrandom(&v.rng, sizeof(v.rng), 0) != sizeof(v.rng))
		v.rng = (uint64_t) o->now;
	if (!apex) {
		problem(&v, "no data at the apex");
		goto done;
	}
	if (!sgn_node_rrset(apex, T_SOA) || sgn_node_rrset(apex, T_SOA)->count != 1)
		problem(&v, "the apex needs exactly one SOA record");
	if (!sgn_node_rrset(apex, T_NS))
		problem(&v, "no NS RRset at the apex");
	load_keys(&v);
	if (z->orphan_rrsigs)
		problem(&v, "%zu RRSIG records cover no RRset at their owner", z->orphan_rrsigs);
	for (size_t i = 0; i < z->n_nodes && r == 0; i++) {
		const sgn_node *n = z->nodes[i];
		uint8_t labels = (uint8_t) (n->labels - (dn_is_wildcard(n->name) ? 1 : 0));

		rep->names++;
		if (z->dirty_only && !n->dirty)
			continue; /* as published and checked before */
		for (uint16_t k = 0; k < n->n_rrsets && r == 0; k++)
			r = check_rrset(&v, n, NULL, n->name, labels, &n->rrsets[k],
					sgn_rrset_is_authoritative(n, &n->rrsets[k]));
		if (n->nsec && r == 0)
			r = check_rrset(&v, n, NULL, n->name, labels, n->nsec, true);
	}
	for (size_t j = 0; j < z->n_n3 && r == 0; j++) {
		uint8_t owner[DN_MAXLEN];
		char label[64];

		if (z->dirty_only && !z->n3[j].dirty)
			continue;
		owner[0] = (uint8_t) dn_base32hex(z->n3[j].hash, z->n3[j].hash_len, label);
		memcpy(owner + 1, label, owner[0]);
		memcpy(owner + 1 + owner[0], z->apex, z->apex_len);
		r = check_rrset(&v, NULL, &z->n3[j], owner, (uint8_t) (z->apex_labels + 1),
				&z->n3[j].rr, true);
	}
	if (r < 0)
		goto fail;
	rep->nsec3 = param != NULL;
	r = param ? (z->dirty_only ? check_nsec3_dirty(&v, param) : check_nsec3(&v, param))
		  : check_nsec(&v);
	if (r < 0)
		goto fail;
	r = run_crypto(&v);
	if (r < 0)
		goto fail;
	check_anchors(&v);
done:
	for (size_t k = 0; k < v.n_keys; k++)
		ks_pubkey_free(v.keys[k].pub);
	free(v.must.v);
	free(v.sample.v);
	free(v.run);
	if (rep->n_problems)
		return zk_fail(reterr, ZK_E_VERIFY, "%s%s", rep->problems[0],
			       rep->n_problems > 1 ? " (and more)" : "");
	return 0;
fail:
	for (size_t k = 0; k < v.n_keys; k++)
		ks_pubkey_free(v.keys[k].pub);
	free(v.must.v);
	free(v.sample.v);
	free(v.run);
	return zk_fail(reterr, r, "verification could not run");
}
