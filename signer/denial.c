/* SPDX-License-Identifier: MIT */
#define OPENSSL_SUPPRESS_DEPRECATED /* SHA1_*: see hash_name() */
/*
 * signer/denial.c -- NSEC and NSEC3 chains. See denial.h.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/sha.h>

#include "policy/zk-macro.h"
#include "signer/denial.h"
#include "signer/par.h"
#include "signer/rdata.h"
#include "signer/sign.h"

size_t sgn_denial_types(const sgn_node *n, bool nsec3, uint16_t *types, size_t max)
{
	size_t k = 0;
	bool signed_here = false;

	if (n->flags & SGN_NODE_DELEGATION) {
		/* RFC 4034 §4.1.2: NS and what the parent is authoritative for (DS); no glue */
		if (sgn_node_rrset(n, T_NS))
			types[k++] = T_NS;
		if (sgn_node_rrset(n, T_DS)) {
			types[k++] = T_DS;
			signed_here = true;
		}
	} else {
		for (uint16_t i = 0; i < n->n_rrsets && k + 2 < max; i++)
			types[k++] = n->rrsets[i].type;
		signed_here = n->n_rrsets > 0;
	}
	/* the NSEC record itself is signed at its owner; an NSEC3 record is not at n */
	if (!nsec3)
		signed_here = true;
	if (signed_here)
		types[k++] = T_RRSIG;
	if (!nsec3)
		types[k++] = T_NSEC;
	/* keep sorted: RRSIG (46) and NSEC (47) were appended after larger types */
	for (size_t i = 1; i < k; i++)
		for (size_t j = i; j > 0 && types[j - 1] > types[j]; j--) {
			uint16_t x = types[j];

			types[j] = types[j - 1];
			types[j - 1] = x;
		}
	return k;
}

/* RFC 5155 §5: IH(salt, x, 0) = H(x || salt); IH(salt, x, k) = H(IH(k-1) || salt) */
/*
 * SHA-1 through the low-level interface: hashing a name takes ~0.3 us, while each EVP
 * digest init looks up the algorithm under a lock and counts references, which cost more
 * than the hash and serialise the hashing threads (seen in profiles of a 100k-name edit).
 */
static int hash_name(EVP_MD_CTX *ctx, const uint8_t *name, size_t len, const uint8_t *salt,
		     uint8_t salt_len, uint16_t iterations, uint8_t *out)
{
	SHA_CTX c;
	int ok = SHA1_Init(&c) && SHA1_Update(&c, name, len) && SHA1_Update(&c, salt, salt_len) &&
		 SHA1_Final(out, &c);

	(void) ctx;
	for (uint16_t i = 0; ok && i < iterations; i++)
		ok = SHA1_Init(&c) && SHA1_Update(&c, out, 20) && SHA1_Update(&c, salt, salt_len) &&
		     SHA1_Final(out, &c);
	return ok ? 0 : ZK_E_CRYPTO;
}

int sgn_nsec3_hash(const uint8_t *name, const uint8_t *salt, uint8_t salt_len,
		   uint16_t iterations, uint8_t *out)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	int r;

	if (!ctx)
		return -ENOMEM;
	r = hash_name(ctx, name, dn_len(name), salt, salt_len, iterations, out);
	EVP_MD_CTX_free(ctx);
	return r;
}

static int set_denial_rrset(sgn_rrset **slot, const uint8_t *rd, uint16_t len, uint32_t ttl,
			    const sgn_rrset *old)
{
	sgn_rrset *s = *slot;
	bool changed = false;

	if (!s) {
		s = calloc(1, sizeof(*s));
		if (!s)
			return -ENOMEM;
		*slot = s;
	}
	/* unchanged: keep the record and its signatures */
	if (s->count == 1 && s->ttl == ttl && s->rdata_len == 2u + len &&
	    memcmp(s->rdata + 2, rd, len) == 0)
		return 0;
	changed = true;
	sgn_rrset_clear(s);
	s->rdata = malloc(2u + len);
	if (!s->rdata)
		return -ENOMEM;
	s->rdata[0] = (uint8_t) (len >> 8);
	s->rdata[1] = (uint8_t) len;
	memcpy(s->rdata + 2, rd, len);
	s->rdata_len = 2u + len;
	s->count = 1;
	s->type = T_NSEC;
	s->ttl = ttl;
	if (old && old->n_sigs && sgn_rrset_same_data(s, old)) {
		s->sigs = malloc(old->sigs_len);
		if (!s->sigs)
			return -ENOMEM;
		memcpy(s->sigs, old->sigs, old->sigs_len);
		s->sigs_len = old->sigs_len;
		s->n_sigs = old->n_sigs;
	}
	return changed;
}

/*
 * Incremental publication: a record stays as it is when its name is unchanged (same types,
 * same flags) and its next name is still the next one. Only then; anything else rebuilds.
 */
static bool nsec_still_right(const sgn_zone *z, const sgn_node *n, const sgn_node *next)
{
	const sgn_rrset *s = n->nsec;

	return z->dirty_only && !n->dirty && s && s->count == 1 &&
	       s->rdata_len >= 2u + next->name_len &&
	       memcmp(s->rdata + 2, next->name, next->name_len) == 0;
}

static void free_n3_array(sgn_n3 *a, size_t n)
{
	for (size_t i = 0; i < n; i++)
		sgn_rrset_clear(&a[i].rr);
	free(a);
}

static int build_nsec(sgn_zone *z, const sgn_denial_params *p, sgn_zone *old)
{
	uint8_t rd[DN_MAXLEN + 8192];
	uint16_t types[1024];
	sgn_node *first = NULL, *prev = NULL;
	int r;

	/* an NSEC zone has no NSEC3 records and no NSEC3PARAM */
	free_n3_array(z->n3, z->n_n3);
	z->n3 = NULL;
	z->n_n3 = 0;
	memset(&z->nsec3, 0, sizeof(z->nsec3));
	if (z->apex_node)
		sgn_node_set_rrset(z->apex_node, T_NSEC3PARAM, 0, 0, NULL, 0);

	for (size_t i = 0; i <= z->n_nodes; i++) {
		sgn_node *n = i < z->n_nodes ? z->nodes[i] : NULL;
		size_t nt, len;

		if (n) {
			n->n3 = NULL;
			if (n->flags & (SGN_NODE_BELOW_CUT | SGN_NODE_ENT)) {
				if (n->nsec) {
					sgn_rrset_clear(n->nsec);
					free(n->nsec);
					n->nsec = NULL;
				}
				continue;
			}
		}
		if (prev && !nsec_still_right(z, prev, n ? n : first)) {
			const sgn_node *next = n ? n : first;
			const sgn_node *o = old ? sgn_zone_find(old, prev->name) : NULL;

			memcpy(rd, next->name, next->name_len);
			nt = sgn_denial_types(prev, false, types, ZK_ELEMENTSOF(types));
			len = next->name_len + sgn_bitmap_encode(types, nt, rd + next->name_len);
			r = set_denial_rrset(&prev->nsec, rd, (uint16_t) len, p->ttl,
					     o ? o->nsec : NULL);
			if (r < 0)
				return r;
			if (r > 0)
				prev->dirty = true;
			prev->nsec->type = T_NSEC;
		}
		if (!first)
			first = n;
		prev = n;
	}
	return 0;
}

/* ---------------------------------------------------------------- NSEC3 */

typedef struct hash_job {
	sgn_n3 *n3;
	size_t from, to;
	const sgn_denial_params *p;
	int error;
} hash_job;

static void *hash_range(void *arg)
{
	hash_job *j = arg;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	const sgn_denial_params *p = j->p;

	if (!ctx) {
		j->error = -ENOMEM;
		return NULL;
	}
	for (size_t i = j->from; i < j->to; i++) {
		const sgn_node *n = j->n3[i].node;

		if (hash_name(ctx, n->name, n->name_len, p->salt, p->salt_len, p->iterations,
			      j->n3[i].hash) < 0) {
			j->error = ZK_E_CRYPTO;
			break;
		}
		j->n3[i].hash_len = 20;
	}
	EVP_MD_CTX_free(ctx);
	return NULL;
}

int sgn_nsec3_hash_all(sgn_n3 *n3, size_t n, const sgn_denial_params *p)
{
	unsigned t = sgn_thread_count(p->threads);
	hash_job jobs[64];
	int r = 0;

	if (t > 64)
		t = 64;
	if (n < 4096)
		t = 1;
	for (unsigned i = 0; i < t; i++)
		jobs[i] = (hash_job) { .n3 = n3, .from = n * i / t, .to = n * (i + 1) / t, .p = p };
	par_run(t, hash_range, jobs, sizeof(jobs[0]));
	for (unsigned i = 0; i < t; i++)
		if (jobs[i].error)
			r = jobs[i].error;
	return r;
}

static const sgn_n3 *find_n3(const sgn_n3 *a, size_t n, const uint8_t *hash)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = memcmp(a[mid].hash, hash, 20);

		if (c == 0)
			return &a[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

bool *sgn_nsec3_optional(const sgn_zone *z, bool opt_out)
{
	bool *opt = calloc(z->n_nodes + 1, sizeof(*opt));
	_cleanup_free_ size_t *stack = malloc((z->n_nodes + 1) * sizeof(*stack));
	size_t depth = 0;

	if (!opt || !stack) {
		free(opt);
		return NULL;
	}
	/*
	 * One pass in canonical order, where the names below a name follow it: the empty
	 * non-terminals above the current name are on the stack, and a name that needs its
	 * record makes them need theirs. dnssec-signzone leaves such empty non-terminals out
	 * too; PowerDNS 4.7 (presigned) serves a zone that has them bogus: it does not count
	 * them and rewrites the next hashed owner of the record before theirs.
	 */
	for (size_t i = 0; opt_out && i < z->n_nodes; i++) {
		const sgn_node *n = z->nodes[i];

		while (depth && !dn_is_below(n->name, z->nodes[stack[depth - 1]]->name))
			depth--;
		if (n->flags & SGN_NODE_BELOW_CUT)
			continue;
		if ((n->flags & SGN_NODE_DELEGATION) && !(n->flags & SGN_NODE_SECURE_DELEG)) {
			opt[i] = true;
			continue;
		}
		if (n->flags & SGN_NODE_ENT) {
			opt[i] = true; /* until a name below it needs a record */
			stack[depth++] = i;
			continue;
		}
		for (size_t d = depth; d > 0 && opt[stack[d - 1]]; d--)
			opt[stack[d - 1]] = false;
	}
	return opt;
}

static bool in_nsec3_chain(const sgn_node *n, const sgn_denial_params *p)
{
	if (n->flags & SGN_NODE_BELOW_CUT)
		return false;
	/* RFC 5155 §7.1: with opt-out, insecure delegations may be left out */
	if (p->opt_out && (n->flags & SGN_NODE_DELEGATION) &&
	    !(n->flags & SGN_NODE_SECURE_DELEG))
		return false;
	return true;
}

/* The NSEC3 RDATA of entry e, followed by `next`, into rd (>= 300 + 8192 bytes). */
static size_t n3_rdata(const sgn_zone *z, const sgn_denial_params *p, const uint8_t *param,
		       const sgn_n3 *e, const sgn_n3 *next, uint8_t *rd)
{
	uint16_t types[1024];
	size_t len = 5u + p->salt_len, nt;

	memcpy(rd, param, len);
	rd[1] = z->nsec3.flags;
	rd[len++] = 20;
	memcpy(rd + len, next->hash, 20);
	len += 20;
	nt = sgn_denial_types(e->node, true, types, ZK_ELEMENTSOF(types));
	return len + sgn_bitmap_encode(types, nt, rd + len);
}

/*
 * Incremental publication (z->dirty_only, same parameters): the chain of the last
 * publication is complete and in hash order. Entries of names that left are dropped, the
 * names that joined are hashed and merged in, and a record is rebuilt only where its name
 * is dirty, it is new, or its next hashed owner is no longer the next entry. Everything
 * else keeps its record and signatures untouched (and its writer hash).
 */
static int update_nsec3(sgn_zone *z, const sgn_denial_params *p, const uint8_t *param,
			zk_error *reterr)
{
	uint8_t rd[300 + 8192];
	_cleanup_free_ bool *claimed = calloc(z->n_n3 ? z->n_n3 : 1, sizeof(bool));
	/* with opt-out, empty non-terminals join and leave the chain as names do */
	_cleanup_free_ bool *optional = sgn_nsec3_optional(z, p->opt_out);
	_cleanup_free_ sgn_n3 *fresh = NULL;
	size_t n_fresh = 0, n_claimed = 0, cap = 0;
	sgn_n3 *n3 = z->n3;
	size_t n = z->n_n3;
	int r;

	if (!claimed || !optional)
		return zk_fail(reterr, -ENOMEM, "out of memory");
	for (size_t i = 0; i < z->n_nodes; i++) {
		sgn_node *node = z->nodes[i];
		sgn_n3 *was = node->n3;
		bool mine = was >= z->n3 && was < z->n3 + z->n_n3 && was->node == node;

		if (!mine)
			node->n3 = NULL;
		if (!in_nsec3_chain(node, p) || optional[i]) {
			node->n3 = NULL;
			continue;
		}
		if (mine) {
			claimed[was - z->n3] = true;
			n_claimed++;
			continue;
		}
		if (n_fresh == cap) {
			sgn_n3 *nf;

			cap = cap ? cap * 2 : 16;
			nf = realloc(fresh, cap * sizeof(*nf));
			if (!nf)
				return zk_fail(reterr, -ENOMEM, "out of memory");
			fresh = nf;
		}
		memset(&fresh[n_fresh], 0, sizeof(*fresh));
		fresh[n_fresh++].node = node;
	}
	if (n_fresh || n_claimed != z->n_n3) {
		size_t i = 0, j = 0, o = 0;

		r = sgn_nsec3_hash_all(fresh, n_fresh, p);
		if (r < 0)
			return zk_fail(reterr, r, "NSEC3 hashing failed");
		if (n_fresh) /* only names left: fresh is NULL */
			qsort(fresh, n_fresh, sizeof(*fresh), sgn_n3_cmp);
		n = n_claimed + n_fresh;
		n3 = calloc(n ? n : 1, sizeof(*n3));
		if (!n3)
			return zk_fail(reterr, -ENOMEM, "out of memory");
		/* merge: kept entries move over with their records, left ones are freed */
		for (;;) {
			while (i < z->n_n3 && !claimed[i])
				sgn_rrset_clear(&z->n3[i++].rr);
			if (i >= z->n_n3 && j >= n_fresh)
				break;
			if (j < n_fresh &&
			    (i >= z->n_n3 || memcmp(fresh[j].hash, z->n3[i].hash, 20) < 0)) {
				n3[o] = fresh[j++];
				n3[o++].dirty = true;
			} else {
				n3[o++] = z->n3[i++];
			}
		}
		for (size_t k = 0; k + 1 < n; k++)
			if (memcmp(n3[k].hash, n3[k + 1].hash, 20) == 0) {
				char a[DN_TEXTMAX], b[DN_TEXTMAX];

				dn_to_text(n3[k].node->name, a);
				dn_to_text(n3[k + 1].node->name, b);
				/* the records moved: the zone in memory is dropped by the caller */
				free_n3_array(n3, n);
				free(z->n3);
				z->n3 = NULL;
				z->n_n3 = 0;
				return zk_fail(reterr, ZK_E_ZONE_CONTENT,
					       "NSEC3 hash collision between %s and %s: change the salt",
					       a, b);
			}
		free(z->n3);
		z->n3 = n3;
		z->n_n3 = n;
		for (size_t k = 0; k < n; k++)
			n3[k].node->n3 = &n3[k];
	}
	for (size_t k = 0; k < n; k++) {
		sgn_n3 *e = &n3[k];
		const sgn_n3 *next = &n3[(k + 1) % n];
		sgn_rrset *s = &e->rr;
		size_t off = 5u + p->salt_len, len;

		if (!e->dirty && !e->node->dirty && s->rdata_len >= 2u + off + 21 &&
		    memcmp(s->rdata + 2 + off + 1, next->hash, 20) == 0)
			continue;
		len = n3_rdata(z, p, param, e, next, rd);
		if (s->rdata && s->rdata_len == 2u + len && memcmp(s->rdata + 2, rd, len) == 0)
			continue;
		sgn_rrset_clear(s);
		s->rdata = malloc(2u + len);
		if (!s->rdata)
			return zk_fail(reterr, -ENOMEM, "out of memory");
		s->rdata[0] = (uint8_t) (len >> 8);
		s->rdata[1] = (uint8_t) len;
		memcpy(s->rdata + 2, rd, len);
		s->rdata_len = (uint32_t) (2u + len);
		s->count = 1;
		s->type = T_NSEC3;
		s->ttl = p->ttl;
		e->dirty = true;
	}
	return 0;
}

static int build_nsec3(sgn_zone *z, const sgn_denial_params *p, sgn_zone *old,
		       zk_error *reterr)
{
	uint8_t rd[300 + 8192], param[5 + 255];
	sgn_n3 *n3, *fresh;
	sgn_node **keep = NULL, **fresh_nodes;
	_cleanup_free_ bool *optional = NULL;
	size_t n = 0, k = 0, n_new = 0;
	bool same;
	int r;

	/* NSEC3PARAM first: it is part of the apex bitmap. Flags 0 (RFC 5155 §4.1.2). */
	param[0] = 1;
	param[1] = 0;
	param[2] = (uint8_t) (p->iterations >> 8);
	param[3] = (uint8_t) p->iterations;
	param[4] = p->salt_len;
	if (p->salt_len) /* RFC 9276: usually none, and then salt may be NULL */
		memcpy(param + 5, p->salt, p->salt_len);
	{
		uint8_t blob[2 + sizeof(param)];
		uint16_t plen = (uint16_t) (5 + p->salt_len);

		blob[0] = (uint8_t) (plen >> 8);
		blob[1] = (uint8_t) plen;
		memcpy(blob + 2, param, plen);
		if (!z->apex_node)
			return zk_fail(reterr, ZK_E_ZONE_CONTENT, "zone without apex");
		r = sgn_node_set_rrset(z->apex_node, T_NSEC3PARAM, 0, 1, blob, 2u + plen);
		if (r < 0)
			return zk_fail(reterr, r, "out of memory");
	}
	/*
	 * Rebuilding in place (the daemon) with the same parameters: the names that were in
	 * the chain keep their hashes, and their entries are already in hash order. Only new
	 * names are hashed and sorted, then merged in: an edit of a large zone does not
	 * re-hash and re-sort every name.
	 */
	same = z->n3 && z->nsec3.enabled && z->nsec3.hash_alg == 1 &&
	       z->nsec3.iterations == p->iterations && z->nsec3.salt_len == p->salt_len &&
	       (!p->salt_len || memcmp(z->nsec3.salt, p->salt, p->salt_len) == 0);
	if (same && z->dirty_only && !old && z->nsec3.flags == (p->opt_out ? 1 : 0))
		return update_nsec3(z, p, param, reterr);
	optional = sgn_nsec3_optional(z, p->opt_out);
	if (!optional)
		return zk_fail(reterr, -ENOMEM, "out of memory");
	if (same) {
		keep = calloc(z->n_n3 ? z->n_n3 : 1, sizeof(*keep));
		if (!keep)
			return zk_fail(reterr, -ENOMEM, "out of memory");
	}
	fresh_nodes = malloc((z->n_nodes ? z->n_nodes : 1) * sizeof(*fresh_nodes));
	if (!fresh_nodes) {
		free(keep);
		return zk_fail(reterr, -ENOMEM, "out of memory");
	}
	z->nsec3.enabled = true;
	z->nsec3.hash_alg = 1;
	z->nsec3.flags = p->opt_out ? 1 : 0;
	z->nsec3.iterations = p->iterations;
	z->nsec3.salt_len = p->salt_len;
	if (p->salt_len)
		memcpy(z->nsec3.salt, p->salt, p->salt_len);

	for (size_t i = 0; i < z->n_nodes; i++) {
		sgn_node *node = z->nodes[i];
		sgn_n3 *was = node->n3;

		if (node->nsec) {
			sgn_rrset_clear(node->nsec);
			free(node->nsec);
			node->nsec = NULL;
		}
		node->n3 = NULL;
		if (!in_nsec3_chain(node, p) || optional[i])
			continue;
		n++;
		if (keep && was >= z->n3 && was < z->n3 + z->n_n3 && was->node == node)
			keep[was - z->n3] = node;
		else
			fresh_nodes[n_new++] = node;
	}
	n3 = calloc(n ? n : 1, sizeof(*n3));
	fresh = calloc(n_new ? n_new : 1, sizeof(*fresh));
	if (!n3 || !fresh) {
		free(n3);
		free(fresh);
		free(keep);
		free(fresh_nodes);
		return zk_fail(reterr, -ENOMEM, "out of memory");
	}
	for (k = 0; k < n_new; k++)
		fresh[k].node = fresh_nodes[k];
	free(fresh_nodes);
	r = sgn_nsec3_hash_all(fresh, n_new, p);
	if (r < 0) {
		free(n3);
		free(fresh);
		free(keep);
		return zk_fail(reterr, r, "NSEC3 hashing failed");
	}
	qsort(fresh, n_new, sizeof(*fresh), sgn_n3_cmp);
	/* merge the kept entries (old order) with the new ones */
	{
		size_t i = 0, j = 0, o = 0;

		for (;;) {
			while (keep && i < z->n_n3 && !keep[i])
				i++;
			if ((!keep || i >= z->n_n3) && j >= n_new)
				break;
			if (j < n_new && (!keep || i >= z->n_n3 ||
					  memcmp(fresh[j].hash, z->n3[i].hash, 20) < 0)) {
				n3[o++] = fresh[j++];
			} else {
				n3[o].node = keep[i];
				memcpy(n3[o].hash, z->n3[i].hash, 20);
				n3[o++].hash_len = 20;
				i++;
			}
		}
	}
	free(fresh);
	free(keep);
	for (size_t i = 0; i + 1 < n; i++)
		if (memcmp(n3[i].hash, n3[i + 1].hash, 20) == 0) {
			char a[DN_TEXTMAX], b[DN_TEXTMAX];

			dn_to_text(n3[i].node->name, a);
			dn_to_text(n3[i + 1].node->name, b);
			free(n3);
			return zk_fail(reterr, ZK_E_ZONE_CONTENT,
				       "NSEC3 hash collision between %s and %s: change the salt",
				       a, b);
		}
	for (size_t i = 0; i < n; i++) {
		const sgn_n3 *next = &n3[(i + 1) % n];
		const sgn_n3 *prev_version = NULL;
		size_t len;

		len = n3_rdata(z, p, param, &n3[i], next, rd);
		n3[i].node->n3 = &n3[i];
		/* unchanged since this zone's own last chain, or since the previous version */
		prev_version = find_n3(z->n3, z->n_n3, n3[i].hash);
		if (!prev_version && old)
			prev_version = find_n3(old->n3, old->n_n3, n3[i].hash);
		{
			sgn_rrset *s = &n3[i].rr;

			s->rdata = malloc(2u + len);
			if (!s->rdata) {
				free_n3_array(n3, n);
				return zk_fail(reterr, -ENOMEM, "out of memory");
			}
			s->rdata[0] = (uint8_t) (len >> 8);
			s->rdata[1] = (uint8_t) len;
			memcpy(s->rdata + 2, rd, len);
			s->rdata_len = (uint32_t) (2u + len);
			s->count = 1;
			s->type = T_NSEC3;
			s->ttl = p->ttl;
			if (prev_version && prev_version->rr.n_sigs && prev_version >= z->n3 &&
			    prev_version < z->n3 + z->n_n3 &&
			    sgn_rrset_same_data(s, &prev_version->rr)) {
				/* our own old chain is freed below: take its signatures over */
				sgn_rrset *from = (sgn_rrset *) &prev_version->rr;

				s->sigs = from->sigs;
				s->sigs_len = from->sigs_len;
				s->n_sigs = from->n_sigs;
				from->sigs = NULL;
				from->sigs_len = 0;
				from->n_sigs = 0;
			} else if (prev_version && prev_version->rr.n_sigs &&
			    sgn_rrset_same_data(s, &prev_version->rr)) {
				s->sigs = malloc(prev_version->rr.sigs_len);
				if (!s->sigs) {
					free_n3_array(n3, n);
					return zk_fail(reterr, -ENOMEM, "out of memory");
				}
				memcpy(s->sigs, prev_version->rr.sigs, prev_version->rr.sigs_len);
				s->sigs_len = prev_version->rr.sigs_len;
				s->n_sigs = prev_version->rr.n_sigs;
			}
		}
	}
	free_n3_array(z->n3, z->n_n3);
	z->n3 = n3;
	z->n_n3 = n;
	return 0;
}

int sgn_denial_build(sgn_zone *z, const sgn_denial_params *p, sgn_zone *old,
		     zk_error *reterr)
{
	int r;

	if (p->nsec3)
		return build_nsec3(z, p, old, reterr);
	r = build_nsec(z, p, old);
	if (r < 0)
		return zk_fail(reterr, r, "out of memory");
	return 0;
}
