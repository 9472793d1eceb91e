/* SPDX-License-Identifier: MIT */
/*
 * signer/output.c -- the signed zone as text. See output.h.
 *
 * A million-name zone is ~6M lines and ~700 MB of text; formatting it is the largest
 * cost after signing. The output order (names and NSEC3 records merged in canonical order)
 * is cut into blocks; worker threads format blocks into a small ring of reusable buffers,
 * and the calling thread hands them to the sink strictly in order. The ring bounds memory
 * (no 700 MB buffer, whose first-touch page faults alone cost seconds here).
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/zk-macro.h"
#include "signer/output.h"
#include "signer/rdata.h"
#include "signer/sign.h"

#define BLOCK_ITEMS 2048 /* names (or NSEC3 records) per block */
#define RECORD_MAX (DN_TEXTMAX + 4u * 65535u + 1024u)

/* One item of the output order: a node, or an NSEC3 record (index | N3_BIT). */
#define N3_BIT 0x80000000u

int sgn_format_rr(const char *owner_text, uint16_t type, uint32_t ttl, const uint8_t *rd,
		  uint16_t len, char *out)
{
	char tb[16];
	const char *tname = sgn_type_name(type, tb);
	size_t o = strlen(owner_text), tl = strlen(tname);
	int r;

	memcpy(out, owner_text, o);
	out[o++] = '\t';
	o += (size_t) sgn_utoa(ttl, out + o);
	memcpy(out + o, "\tIN\t", 4);
	o += 4;
	memcpy(out + o, tname, tl);
	o += tl;
	out[o++] = '\t';
	r = sgn_rdata_format(type, rd, len, out + o);
	if (r < 0)
		return r;
	o += (size_t) r;
	out[o++] = '\n';
	return (int) o;
}

typedef struct buf {
	char *s;
	size_t len, cap;
} buf;

static int buf_reserve(buf *b, size_t n)
{
	char *ns;
	size_t cap;

	if (b->len + n <= b->cap)
		return 0;
	cap = b->cap ? b->cap : (1u << 20);
	while (cap < b->len + n)
		cap *= 2;
	ns = realloc(b->s, cap);
	if (!ns)
		return -ENOMEM;
	b->s = ns;
	b->cap = cap;
	return 0;
}

static int put_rrset(buf *b, const char *owner, const sgn_rrset *s)
{
	const uint8_t *p, *end;

	for (int pass = 0; pass < 2; pass++) {
		p = pass ? s->sigs : s->rdata;
		end = p ? p + (pass ? s->sigs_len : s->rdata_len) : p;
		while (p && p < end) {
			uint16_t len = blob_len(p);
			int n;

			if (buf_reserve(b, DN_TEXTMAX + sgn_rdata_format_max(len) + 64) < 0)
				return -ENOMEM;
			n = sgn_format_rr(owner, pass ? T_RRSIG : s->type, s->ttl, p + 2, len,
					  b->s + b->len);
			if (n < 0)
				return n;
			b->len += (size_t) n;
			p += 2u + len;
		}
	}
	return 0;
}

static int put_item(buf *b, const sgn_zone *z, uint32_t item)
{
	char owner[DN_TEXTMAX + 80];
	int r = 0;

	if (item & N3_BIT) {
		const sgn_n3 *e = &z->n3[item & ~N3_BIT];
		size_t l = dn_base32hex(e->hash, e->hash_len, owner);

		snprintf(owner + l, sizeof(owner) - l, ".%s", z->apex_len > 1 ? z->apex_text : "");
		return put_rrset(b, owner, &e->rr);
	}
	{
		const sgn_node *n = z->nodes[item];

		if (n->n_rrsets == 0 && !n->nsec)
			return 0;
		dn_to_text(n->name, owner);
		for (uint16_t k = 0; k < n->n_rrsets && r == 0; k++)
			r = put_rrset(b, owner, &n->rrsets[k]);
		if (n->nsec && r == 0)
			r = put_rrset(b, owner, n->nsec);
	}
	return r;
}

/* Names and NSEC3 records merged into canonical order (RFC 4034 §6.1). */
static uint32_t *output_order(const sgn_zone *z, size_t *ret_n)
{
	size_t n = z->n_nodes + z->n_n3, k = 0, j = 0;
	uint32_t *order = malloc((n ? n : 1) * sizeof(*order));
	const sgn_node *apex = z->apex_node;

	if (!order)
		return NULL;
	for (size_t i = 0; i <= z->n_nodes; i++) {
		const sgn_node *node = i < z->n_nodes ? z->nodes[i] : NULL;

		/* NSEC3 owners are <base32hex>.<apex>: they sort among the apex's children */
		while (apex && j < z->n_n3) {
			uint8_t key[DN_KEYMAX];
			char label[64];
			size_t l = dn_base32hex(z->n3[j].hash, z->n3[j].hash_len, label);

			memcpy(key, apex->key, apex->key_len);
			memcpy(key + apex->key_len, label, l);
			key[apex->key_len + l] = 0;
			if (node && dn_key_cmp(key, apex->key_len + l + 1, node->key, node->key_len) > 0)
				break;
			order[k++] = (uint32_t) j++ | N3_BIT;
		}
		if (node)
			order[k++] = (uint32_t) i;
	}
	*ret_n = k;
	return order;
}

typedef struct slot {
	buf b;
	size_t block;  /* the block this slot holds or will hold */
	int ready;
	int error;
} slot;

typedef struct writer {
	const sgn_zone *z;
	const uint32_t *order;
	size_t n_items, n_blocks, next_block, written;
	slot *ring;
	size_t n_ring;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int abort;
} writer;

static void *format_worker(void *arg)
{
	writer *w = arg;

	for (;;) {
		size_t b;
		slot *s;
		int r = 0;

		pthread_mutex_lock(&w->lock);
		b = w->next_block;
		if (b >= w->n_blocks || w->abort) {
			pthread_mutex_unlock(&w->lock);
			return NULL;
		}
		w->next_block++;
		s = &w->ring[b % w->n_ring];
		/* the slot is free once the block n_ring earlier has been written */
		while (b >= w->written + w->n_ring && !w->abort)
			pthread_cond_wait(&w->cond, &w->lock);
		pthread_mutex_unlock(&w->lock);
		if (w->abort)
			return NULL;
		s->b.len = 0;
		for (size_t i = b * BLOCK_ITEMS; i < (b + 1) * BLOCK_ITEMS && i < w->n_items && !r;
		     i++)
			r = put_item(&s->b, w->z, w->order[i]);
		pthread_mutex_lock(&w->lock);
		s->block = b;
		s->error = r;
		s->ready = 1;
		pthread_cond_broadcast(&w->cond);
		pthread_mutex_unlock(&w->lock);
	}
}

int sgn_zone_write(const sgn_zone *z, const char *header, unsigned threads, sgn_sink sink,
		   void *userdata, zk_error *reterr)
{
	writer w = { .z = z };
	pthread_t th[64];
	unsigned n_threads = sgn_thread_count(threads), started = 0;
	int r = 0;

	if (n_threads > 64)
		n_threads = 64;
	w.order = output_order(z, &w.n_items);
	if (!w.order)
		return zk_fail(reterr, -ENOMEM, "out of memory");
	w.n_blocks = (w.n_items + BLOCK_ITEMS - 1) / BLOCK_ITEMS;
	w.n_ring = 2 * (size_t) n_threads;
	w.ring = calloc(w.n_ring, sizeof(*w.ring));
	if (!w.ring) {
		free((void *) w.order);
		return zk_fail(reterr, -ENOMEM, "out of memory");
	}
	pthread_mutex_init(&w.lock, NULL);
	pthread_cond_init(&w.cond, NULL);
	if (header) {
		char line[1100];
		int n = snprintf(line, sizeof(line), "; %s\n", header);

		r = sink(userdata, line, (size_t) n);
	}
	for (; started < n_threads && r == 0; started++)
		if (pthread_create(&th[started], NULL, format_worker, &w))
			break;
	if (started == 0 && r == 0)
		r = -EAGAIN;
	/* the calling thread writes, in order */
	for (size_t b = 0; b < w.n_blocks && r == 0; b++) {
		slot *s = &w.ring[b % w.n_ring];

		pthread_mutex_lock(&w.lock);
		while (!(s->ready && s->block == b))
			pthread_cond_wait(&w.cond, &w.lock);
		pthread_mutex_unlock(&w.lock);
		r = s->error;
		if (r == 0)
			r = sink(userdata, s->b.s, s->b.len);
		pthread_mutex_lock(&w.lock);
		s->ready = 0;
		w.written = b + 1;
		pthread_cond_broadcast(&w.cond);
		pthread_mutex_unlock(&w.lock);
	}
	pthread_mutex_lock(&w.lock);
	w.abort = 1;
	pthread_cond_broadcast(&w.cond);
	pthread_mutex_unlock(&w.lock);
	for (unsigned t = 0; t < started; t++)
		pthread_join(th[t], NULL);
	for (size_t i = 0; i < w.n_ring; i++)
		free(w.ring[i].b.s);
	free(w.ring);
	free((void *) w.order);
	pthread_mutex_destroy(&w.lock);
	pthread_cond_destroy(&w.cond);
	if (r == -EINVAL)
		return zk_fail(reterr, ZK_E_SELF_CHECK, "a record of the zone cannot be formatted");
	if (r < 0)
		return zk_fail(reterr, r, "cannot write the zone");
	return 0;
}
