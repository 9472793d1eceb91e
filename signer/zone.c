/* SPDX-License-Identifier: MIT */
/*
 * signer/zone.c -- the zone model: nodes in canonical order, RRsets, structure (cuts,
 * glue, empty non-terminals) and adoption of signatures between versions. See zone.h.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "policy/zk-macro.h"
#include "signer/zone.h"

int sgn_n3_cmp(const void *a, const void *b)
{
	const sgn_n3 *x = a, *y = b;

	return dn_key_cmp(x->hash, x->hash_len, y->hash, y->hash_len);
}

int sgn_zone_new(const uint8_t *apex, sgn_zone **ret)
{
	sgn_zone *z = calloc(1, sizeof(*z));

	if (!z)
		return -ENOMEM;
	z->apex_len = (uint8_t) dn_lower_copy(z->apex, apex);
	z->apex_labels = (uint8_t) dn_labels(z->apex);
	dn_to_text(z->apex, z->apex_text);
	*ret = z;
	return 0;
}

void sgn_rrset_clear(sgn_rrset *s)
{
	free(s->rdata);
	free(s->sigs);
	s->rdata = s->sigs = NULL;
	s->rdata_len = s->sigs_len = 0;
	s->count = s->n_sigs = 0;
}

sgn_node *sgn_node_new(const uint8_t *name)
{
	uint8_t lower[DN_MAXLEN], key[DN_KEYMAX];
	size_t nlen = dn_lower_copy(lower, name);
	size_t klen = dn_sort_key(lower, key);
	sgn_node *n = calloc(1, sizeof(*n) + nlen + klen);

	if (!n)
		return NULL;
	n->name = (uint8_t *) (n + 1);
	n->key = n->name + nlen;
	memcpy(n->name, lower, nlen);
	memcpy(n->key, key, klen);
	n->name_len = (uint8_t) nlen;
	n->key_len = (uint16_t) klen;
	n->labels = (uint8_t) dn_labels(lower);
	n->dirty = true;
	return n;
}

sgn_node *sgn_node_free(sgn_node *n)
{
	if (!n)
		return NULL;
	for (uint16_t i = 0; i < n->n_rrsets; i++)
		sgn_rrset_clear(&n->rrsets[i]);
	free(n->rrsets);
	if (n->nsec) {
		sgn_rrset_clear(n->nsec);
		free(n->nsec);
	}
	free(n);
	return NULL;
}

static void free_n3(sgn_zone *z)
{
	for (size_t i = 0; i < z->n_n3; i++)
		sgn_rrset_clear(&z->n3[i].rr);
	free(z->n3);
	z->n3 = NULL;
	z->n_n3 = 0;
	for (size_t i = 0; i < z->n_nodes; i++)
		z->nodes[i]->n3 = NULL;
}

sgn_zone *sgn_zone_free(sgn_zone *z)
{
	if (!z)
		return NULL;
	free_n3(z);
	for (size_t i = 0; i < z->n_nodes; i++)
		sgn_node_free(z->nodes[i]);
	free(z->nodes);
	free(z);
	return NULL;
}

static size_t lower_bound_key(const sgn_zone *z, const uint8_t *key, size_t klen)
{
	size_t lo = 0, hi = z->n_nodes;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const sgn_node *n = z->nodes[mid];

		if (dn_key_cmp(n->key, n->key_len, key, klen) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

size_t sgn_zone_lower_bound(const sgn_zone *z, const uint8_t *name)
{
	uint8_t lower[DN_MAXLEN], key[DN_KEYMAX];
	size_t klen;

	dn_lower_copy(lower, name);
	klen = dn_sort_key(lower, key);
	return lower_bound_key(z, key, klen);
}

sgn_node *sgn_zone_find(const sgn_zone *z, const uint8_t *name)
{
	uint8_t lower[DN_MAXLEN], key[DN_KEYMAX];
	size_t klen, i;

	dn_lower_copy(lower, name);
	klen = dn_sort_key(lower, key);
	i = lower_bound_key(z, key, klen);
	if (i < z->n_nodes && dn_key_cmp(z->nodes[i]->key, z->nodes[i]->key_len, key, klen) == 0)
		return z->nodes[i];
	return NULL;
}

static int reserve_nodes(sgn_zone *z, size_t n)
{
	sgn_node **nn;
	size_t cap;

	if (n <= z->cap_nodes)
		return 0;
	cap = z->cap_nodes ? z->cap_nodes : 64;
	while (cap < n)
		cap *= 2;
	nn = realloc(z->nodes, cap * sizeof(*nn));
	if (!nn)
		return -ENOMEM;
	z->nodes = nn;
	z->cap_nodes = cap;
	return 0;
}

int sgn_zone_get_node(sgn_zone *z, const uint8_t *name, sgn_node **ret, bool *ret_created)
{
	sgn_node *n = sgn_node_new(name);
	size_t i;

	if (!n)
		return -ENOMEM;
	i = lower_bound_key(z, n->key, n->key_len);
	if (i < z->n_nodes &&
	    dn_key_cmp(z->nodes[i]->key, z->nodes[i]->key_len, n->key, n->key_len) == 0) {
		free(n);
		*ret = z->nodes[i];
		if (ret_created)
			*ret_created = false;
		return 0;
	}
	if (reserve_nodes(z, z->n_nodes + 1) < 0) {
		free(n);
		return -ENOMEM;
	}
	memmove(z->nodes + i + 1, z->nodes + i, (z->n_nodes - i) * sizeof(*z->nodes));
	z->nodes[i] = n;
	z->n_nodes++;
	if (dn_equal(n->name, z->apex))
		z->apex_node = n;
	*ret = n;
	if (ret_created)
		*ret_created = true;
	return 0;
}

sgn_rrset *sgn_node_rrset(const sgn_node *n, uint16_t type)
{
	/* RRsets per node are few: a linear scan beats a binary search here. */
	for (uint16_t i = 0; i < n->n_rrsets; i++)
		if (n->rrsets[i].type == type)
			return &n->rrsets[i];
	return NULL;
}

int sgn_node_set_rrset(sgn_node *n, uint16_t type, uint32_t ttl, uint16_t count,
		       const uint8_t *rdata, uint32_t rdata_len)
{
	sgn_rrset *s = sgn_node_rrset(n, type);
	uint8_t *copy = NULL;

	if (count == 0) {
		if (s) {
			size_t i = (size_t) (s - n->rrsets);

			sgn_rrset_clear(s);
			memmove(s, s + 1, (n->n_rrsets - i - 1) * sizeof(*s));
			n->n_rrsets--;
			n->dirty = true;
		}
		return 0;
	}
	/* the same data again: keep the RRset and its signatures */
	if (s && s->ttl == ttl && s->count == count && s->rdata_len == rdata_len &&
	    memcmp(s->rdata, rdata, rdata_len) == 0)
		return 0;
	copy = malloc(rdata_len);
	if (!copy)
		return -ENOMEM;
	memcpy(copy, rdata, rdata_len);
	n->dirty = true;
	if (!s) {
		sgn_rrset *nr = realloc(n->rrsets, (n->n_rrsets + 1u) * sizeof(*nr));
		uint16_t i = 0;

		if (!nr) {
			free(copy);
			return -ENOMEM;
		}
		n->rrsets = nr;
		while (i < n->n_rrsets && n->rrsets[i].type < type)
			i++;
		memmove(&n->rrsets[i + 1], &n->rrsets[i], (n->n_rrsets - i) * sizeof(*nr));
		n->n_rrsets++;
		s = &n->rrsets[i];
		memset(s, 0, sizeof(*s));
		s->type = type;
	} else {
		sgn_rrset_clear(s);
	}
	s->ttl = ttl;
	s->count = count;
	s->rdata = copy;
	s->rdata_len = rdata_len;
	return 0;
}

bool sgn_rrset_is_authoritative(const sgn_node *n, const sgn_rrset *s)
{
	if (n->flags & SGN_NODE_BELOW_CUT)
		return false;
	if (n->flags & SGN_NODE_DELEGATION)
		return s->type == T_DS;
	return true;
}

static bool is_stale_ent(const sgn_zone *z, const sgn_node *n)
{
	return n->n_rrsets == 0 && !n->nsec && n->labels > z->apex_labels;
}

int sgn_zone_structure(sgn_zone *z)
{
	const sgn_node *stack[128];
	unsigned depth = 0;
	const sgn_node *cut = NULL;
	sgn_node **out;
	size_t n_out = 0, cap;

	/*
	 * One pass in canonical order. Descendants of a name follow it contiguously, so a
	 * stack of the names on the path to the previous node holds every existing ancestor
	 * of the current one; the missing ones in between are empty non-terminals, and they
	 * sort right before the current node (see the proof in the commit introducing this).
	 */
	cap = z->n_nodes + z->n_nodes / 8 + 16;
	out = malloc(cap * sizeof(*out));
	if (!out)
		return -ENOMEM;
	z->apex_node = NULL;
	for (size_t i = 0; i < z->n_nodes; i++) {
		sgn_node *n = z->nodes[i];
		const uint8_t *chain[128];
		unsigned n_chain = 0;
		const uint8_t *p;

		/* Nodes without data are rebuilt below; old ENTs are freed on success. */
		if (is_stale_ent(z, n))
			continue;
		while (depth && !dn_is_below(n->name, stack[depth - 1]->name))
			depth--;
		/* ancestors of n strictly below the stack top (or the apex) are missing */
		for (p = dn_parent(n->name); p && dn_labels(p) >= z->apex_labels;
		     p = dn_parent(p)) {
			if (depth && dn_labels(p) <= stack[depth - 1]->labels)
				break;
			if (dn_labels(p) == z->apex_labels)
				break; /* the apex itself is never an ENT */
			chain[n_chain++] = p;
		}
		while (n_chain) {
			const uint8_t *want = chain[--n_chain];
			sgn_node *ent = NULL;

			/*
			 * The ENT this zone already had for that name, if any: it sorts right
			 * before n, among the stale ENTs just skipped. Keeping it keeps its NSEC3
			 * record and hash (a rebuilt one would be new to every later stage).
			 */
			for (size_t b = i, seen = 0; b-- > 0 && seen < 64; seen++) {
				sgn_node *o = z->nodes[b];

				if (!is_stale_ent(z, o))
					break;
				if (!(o->flags & SGN_NODE_KEEP) && dn_equal(o->name, want)) {
					ent = o;
					break;
				}
			}
			if (ent) {
				ent->flags |= SGN_NODE_ENT | SGN_NODE_KEEP;
			} else {
				ent = sgn_node_new(want);
				if (!ent)
					goto oom;
				ent->flags = SGN_NODE_ENT;
				ent->line = n->line;
			}
			if (n_out + 2 > cap) {
				sgn_node **no;

				cap *= 2;
				no = realloc(out, cap * sizeof(*out));
				if (!no) {
					sgn_node_free(ent);
					goto oom;
				}
				out = no;
			}
			out[n_out++] = ent;
			if (depth < ZK_ELEMENTSOF(stack))
				stack[depth++] = ent;
		}
		if (n_out + 1 > cap) {
			sgn_node **no;

			cap *= 2;
			no = realloc(out, cap * sizeof(*out));
			if (!no)
				goto oom;
			out = no;
		}
		out[n_out++] = n;
		if (depth < ZK_ELEMENTSOF(stack))
			stack[depth++] = n;
	}
	for (size_t i = 0; i < z->n_nodes; i++)
		if (is_stale_ent(z, z->nodes[i]) && !(z->nodes[i]->flags & SGN_NODE_KEEP))
			sgn_node_free(z->nodes[i]);
	free(z->nodes);
	z->nodes = out;
	z->n_nodes = n_out;
	z->cap_nodes = cap;

	/* Flags: apex, cuts, what lies below them, wildcards. */
	for (size_t i = 0; i < z->n_nodes; i++) {
		sgn_node *n = z->nodes[i];
		/* an empty non-terminal that got data is no longer one */
		uint16_t was = n->flags & (uint16_t) ~SGN_NODE_KEEP;

		n->flags = n->n_rrsets == 0 ? n->flags & SGN_NODE_ENT : 0;
		if (n->labels == z->apex_labels && dn_equal(n->name, z->apex)) {
			n->flags |= SGN_NODE_APEX;
			z->apex_node = n;
		}
		if (cut && !dn_is_below(n->name, cut->name))
			cut = NULL;
		if (cut) {
			n->flags |= SGN_NODE_BELOW_CUT;
		} else if (!(n->flags & SGN_NODE_APEX) && sgn_node_rrset(n, T_NS)) {
			n->flags |= SGN_NODE_DELEGATION;
			if (sgn_node_rrset(n, T_DS))
				n->flags |= SGN_NODE_SECURE_DELEG;
			cut = n;
		}
		if (dn_is_wildcard(n->name))
			n->flags |= SGN_NODE_WILDCARD;
		if (n->flags != was)
			n->dirty = true; /* signed or denied differently now */
	}
	return 0;
oom:
	/* `out` holds nodes still owned by z->nodes plus new ENTs: free only the new ENTs. */
	for (size_t k = 0; k < n_out; k++)
		if (is_stale_ent(z, out[k]) && !(out[k]->flags & SGN_NODE_KEEP))
			sgn_node_free(out[k]);
	for (size_t k = 0; k < z->n_nodes; k++)
		z->nodes[k]->flags &= (uint16_t) ~SGN_NODE_KEEP;
	free(out);
	return -ENOMEM;
}

void sgn_zone_drop_signatures(sgn_zone *z)
{
	for (size_t i = 0; i < z->n_nodes; i++) {
		sgn_node *n = z->nodes[i];

		for (uint16_t k = 0; k < n->n_rrsets; k++) {
			free(n->rrsets[k].sigs);
			n->rrsets[k].sigs = NULL;
			n->rrsets[k].sigs_len = 0;
			n->rrsets[k].n_sigs = 0;
		}
	}
}

void sgn_zone_clear_dirty(sgn_zone *z)
{
	for (size_t i = 0; i < z->n_nodes; i++)
		z->nodes[i]->dirty = false;
	for (size_t i = 0; i < z->n_n3; i++)
		z->n3[i].dirty = false;
}

bool sgn_rrset_same_data(const sgn_rrset *a, const sgn_rrset *b)
{
	return a->type == b->type && a->ttl == b->ttl && a->count == b->count &&
	       a->rdata_len == b->rdata_len && memcmp(a->rdata, b->rdata, a->rdata_len) == 0;
}

bool sgn_zone_same_data(const sgn_zone *a, const sgn_zone *b, uint16_t ignore_type)
{
	size_t i = 0, j = 0;

	for (;;) {
		/* ENTs carry no data: skip them on both sides */
		while (i < a->n_nodes && a->nodes[i]->n_rrsets == 0)
			i++;
		while (j < b->n_nodes && b->nodes[j]->n_rrsets == 0)
			j++;
		if (i == a->n_nodes || j == b->n_nodes)
			return i == a->n_nodes && j == b->n_nodes;
		{
			const sgn_node *x = a->nodes[i++], *y = b->nodes[j++];
			uint16_t p = 0, q = 0;

			if (x->key_len != y->key_len || memcmp(x->key, y->key, x->key_len) != 0)
				return false;
			for (;;) {
				while (p < x->n_rrsets && x->rrsets[p].type == ignore_type)
					p++;
				while (q < y->n_rrsets && y->rrsets[q].type == ignore_type)
					q++;
				if (p == x->n_rrsets || q == y->n_rrsets) {
					if (p != x->n_rrsets || q != y->n_rrsets)
						return false;
					break;
				}
				if (!sgn_rrset_same_data(&x->rrsets[p++], &y->rrsets[q++]))
					return false;
			}
		}
	}
}

size_t sgn_zone_adopt(sgn_zone *z, sgn_zone *old)
{
	size_t i = 0, j = 0, adopted = 0;

	while (i < z->n_nodes && j < old->n_nodes) {
		sgn_node *a = z->nodes[i], *b = old->nodes[j];
		int c = dn_key_cmp(a->key, a->key_len, b->key, b->key_len);

		if (c < 0) {
			i++;
			continue;
		}
		if (c > 0) {
			j++;
			continue;
		}
		for (uint16_t k = 0; k < a->n_rrsets; k++) {
			sgn_rrset *s = &a->rrsets[k], *o = sgn_node_rrset(b, s->type);

			/* never carry signatures onto data that fell below a new zone cut */
			if (!o || !o->n_sigs || s->n_sigs || !sgn_rrset_is_authoritative(a, s) ||
			    !sgn_rrset_same_data(s, o))
				continue;
			s->sigs = ZK_TAKE(o->sigs);
			s->sigs_len = o->sigs_len;
			s->n_sigs = o->n_sigs;
			o->sigs_len = 0;
			o->n_sigs = 0;
			adopted++;
		}
		i++;
		j++;
	}
	return adopted;
}

int sgn_rrset_add_sig(sgn_rrset *s, const uint8_t *rdata, uint16_t len)
{
	uint8_t *ns = realloc(s->sigs, s->sigs_len + 2u + len);

	if (!ns)
		return -ENOMEM;
	ns[s->sigs_len] = (uint8_t) (len >> 8);
	ns[s->sigs_len + 1] = (uint8_t) len;
	memcpy(ns + s->sigs_len + 2, rdata, len);
	s->sigs = ns;
	s->sigs_len += 2u + len;
	s->n_sigs++;
	return 0;
}

unsigned sgn_rrset_filter_sigs(sgn_rrset *s, bool (*drop)(const uint8_t *, uint16_t, void *),
			       void *ctx)
{
	uint32_t r = 0, w = 0;
	unsigned dropped = 0;

	while (r < s->sigs_len) {
		uint16_t len = blob_len(s->sigs + r);

		if (drop(s->sigs + r + 2, len, ctx)) {
			dropped++;
		} else {
			if (w != r)
				memmove(s->sigs + w, s->sigs + r, 2u + len);
			w += 2u + len;
		}
		r += 2u + len;
	}
	s->sigs_len = w;
	s->n_sigs = (uint16_t) (s->n_sigs - dropped);
	if (s->n_sigs == 0) {
		free(s->sigs);
		s->sigs = NULL;
	}
	return dropped;
}

int sgn_rdata_cmp(const uint8_t *a, uint16_t alen, const uint8_t *b, uint16_t blen)
{
	int c = memcmp(a, b, alen < blen ? alen : blen);

	if (c)
		return c;
	return alen < blen ? -1 : alen > blen;
}

bool sgn_type_downcases_rdata(uint16_t type)
{
	switch (type) {
	case 2: case 3: case 4: case 5: case 6: case 7: case 8: case 9: /* NS MD MF CNAME SOA MB MG MR */
	case 12: case 14: case 15: /* PTR MINFO MX */
	case 17: case 18: case 21: case 24: case 26: case 30: /* RP AFSDB RT SIG PX NXT */
	case 35: case 36: case 33: case 39: case 38: /* NAPTR KX SRV DNAME A6 */
	case 46: /* RRSIG (signer name); NSEC is not (RFC 6840 §5.1) */
		return true;
	default:
		return false;
	}
}
