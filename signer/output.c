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
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "policy/zk-macro.h"
#include "signer/output.h"
#include "signer/par.h"
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

/* Which records to write (NULL: all, with their signatures and denial records). */
typedef struct rr_filter {
	sgn_rr_keep keep;
	void *userdata;
} rr_filter;

static int put_rrset(buf *b, const char *owner, const sgn_node *node, const sgn_rrset *s,
		     const rr_filter *f)
{
	const uint8_t *p, *end;

	for (int pass = 0; pass < (f ? 1 : 2); pass++) {
		p = pass ? s->sigs : s->rdata;
		end = p ? p + (pass ? s->sigs_len : s->rdata_len) : p;
		while (p && p < end) {
			uint16_t len = blob_len(p);
			int n;

			if (f && !f->keep(f->userdata, node, s->type, p + 2, len)) {
				p += 2u + len;
				continue;
			}
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

static int put_item(buf *b, const sgn_zone *z, uint32_t item, const rr_filter *f)
{
	char owner[DN_TEXTMAX + 80];
	int r = 0;

	if (item & N3_BIT) {
		const sgn_n3 *e = &z->n3[item & ~N3_BIT];
		size_t l = dn_base32hex(e->hash, e->hash_len, owner);

		if (f)
			return 0;
		snprintf(owner + l, sizeof(owner) - l, ".%s", z->apex_len > 1 ? z->apex_text : "");
		return put_rrset(b, owner, NULL, &e->rr, NULL);
	}
	{
		const sgn_node *n = z->nodes[item];

		if (n->n_rrsets == 0 && !n->nsec)
			return 0;
		dn_to_text(n->name, owner);
		for (uint16_t k = 0; k < n->n_rrsets && r == 0; k++)
			r = put_rrset(b, owner, n, &n->rrsets[k], f);
		if (n->nsec && r == 0 && !f)
			r = put_rrset(b, owner, n, n->nsec, NULL);
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
	uint8_t key[DN_KEYMAX];
	size_t key_len = 0, key_of = SIZE_MAX; /* the sort key of NSEC3 record key_of */

	for (size_t i = 0; i <= z->n_nodes; i++) {
		const sgn_node *node = i < z->n_nodes ? z->nodes[i] : NULL;

		/* NSEC3 owners are <base32hex>.<apex>: they sort among the apex's children */
		while (apex && j < z->n_n3) {
			if (key_of != j) {
				char label[64];
				size_t l = dn_base32hex(z->n3[j].hash, z->n3[j].hash_len, label);

				memcpy(key, apex->key, apex->key_len);
				memcpy(key + apex->key_len, label, l);
				key[apex->key_len + l] = 0;
				key_len = apex->key_len + l + 1;
				key_of = j;
			}
			if (node && dn_key_cmp(key, key_len, node->key, node->key_len) > 0)
				break;
			order[k++] = (uint32_t) j++ | N3_BIT;
		}
		if (node)
			order[k++] = (uint32_t) i;
	}
	*ret_n = k;
	return order;
}

/* ---------------------------------------------------------------- splicing */

#define SPLICE_MASK 127u        /* a block ends after an item whose hash has these bits 0 */
#define SPLICE_MAX_ITEMS 1024u  /* ... or at this many items */

static uint64_t seed1, seed2;
static pthread_once_t seed_once = PTHREAD_ONCE_INIT;

static void seed_init(void)
{
	uint64_t s[2] = { 0x243f6a8885a308d3ull, 0x13198a2e03707344ull };

	/* random per process: block hashes cannot be steered by record content */
	if (getrandom(s, sizeof(s), 0) != sizeof(s))
		s[0] ^= (uint64_t) (uintptr_t) &s;
	seed1 = s[0];
	seed2 = s[1];
}

static inline uint64_t mix64(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ull;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

typedef struct hstate {
	uint64_t a, b;
} hstate;

/* Two independent 64-bit lanes (128 bits with per-process seeds); one multiply each per
 * 8 bytes, a full finaliser per call. */
static void hash_bytes(hstate *h, const uint8_t *p, size_t n)
{
	uint64_t a = h->a, b = h->b;
	size_t i = 0;

	for (; i + 8 <= n; i += 8) {
		uint64_t w;

		memcpy(&w, p + i, 8);
		a = (a ^ w) * 0x9e3779b97f4a7c15ull;
		a ^= a >> 29;
		b = (b + w) * 0xc2b2ae3d27d4eb4full;
		b ^= b >> 31;
	}
	if (i < n) {
		uint64_t w = 0;

		memcpy(&w, p + i, n - i);
		a = (a ^ w) * 0x9e3779b97f4a7c15ull;
		a ^= a >> 29;
		b = (b + w) * 0xc2b2ae3d27d4eb4full;
		b ^= b >> 31;
	}
	h->a = mix64(a ^ n);
	h->b = mix64(b + n + 1);
}

static void hash_rrset(hstate *h, const sgn_rrset *s)
{
	uint8_t head[16];

	head[0] = (uint8_t) (s->type >> 8);
	head[1] = (uint8_t) s->type;
	memcpy(head + 2, &s->ttl, 4);
	memcpy(head + 6, &s->count, 2);
	memcpy(head + 8, &s->rdata_len, 4);
	memcpy(head + 12, &s->sigs_len, 4);
	hash_bytes(h, head, sizeof(head));
	hash_bytes(h, s->rdata, s->rdata_len);
	if (s->sigs_len)
		hash_bytes(h, s->sigs, s->sigs_len);
}

/*
 * The hash of one item, kept in the item (the writer owns those fields, hence the casts):
 * an incremental publication hashes only the dirty items, the others are as the last
 * write hashed them. The seeds are per process, and so is the zone in memory.
 */
static void hash_item(const sgn_zone *z, uint32_t item, uint64_t *h1, uint64_t *h2)
{
	hstate h = { seed1, seed2 };

	if (item & N3_BIT) {
		sgn_n3 *e = (sgn_n3 *) &z->n3[item & ~N3_BIT];

		if (!(z->dirty_only && e->hvalid && !e->dirty)) {
			hash_bytes(&h, (const uint8_t *) "3", 1);
			hash_bytes(&h, e->hash, e->hash_len);
			hash_rrset(&h, &e->rr);
			e->h1 = h.a;
			e->h2 = h.b;
			e->hvalid = true;
		}
		*h1 = e->h1;
		*h2 = e->h2;
	} else {
		sgn_node *n = z->nodes[item];

		if (!(z->dirty_only && n->hvalid && !n->dirty)) {
			hash_bytes(&h, n->name, n->name_len);
			for (uint16_t k = 0; k < n->n_rrsets; k++)
				hash_rrset(&h, &n->rrsets[k]);
			if (n->nsec)
				hash_rrset(&h, n->nsec);
			n->h1 = h.a;
			n->h2 = h.b;
			n->hvalid = true;
		}
		*h1 = n->h1;
		*h2 = n->h2;
	}
}

typedef struct hash_job {
	const sgn_zone *z;
	const uint32_t *order;
	uint64_t *h1, *h2;
	size_t from, to;
} hash_job;

static void *hash_worker(void *arg)
{
	hash_job *j = arg;

	for (size_t i = j->from; i < j->to; i++)
		hash_item(j->z, j->order[i], &j->h1[i], &j->h2[i]);
	return NULL;
}

void sgn_splice_init(sgn_splice *s)
{
	s->fd = -1;
	s->blocks = NULL;
	s->n_blocks = 0;
}

void sgn_splice_clear(sgn_splice *s)
{
	if (s->fd >= 0)
		close(s->fd);
	free(s->blocks);
	sgn_splice_init(s);
}

static int ref_cmp(const void *a, const void *b)
{
	const sgn_block_ref *x = a, *y = b;

	if (x->h1 != y->h1)
		return x->h1 < y->h1 ? -1 : 1;
	return x->h2 < y->h2 ? -1 : x->h2 > y->h2;
}

static const sgn_block_ref *splice_find(const sgn_splice *p, uint64_t h1, uint64_t h2)
{
	sgn_block_ref key = { .h1 = h1, .h2 = h2 };

	if (!p || p->fd < 0 || !p->n_blocks)
		return NULL;
	return bsearch(&key, p->blocks, p->n_blocks, sizeof(key), ref_cmp);
}

/* ---------------------------------------------------------------- parallel writer */

typedef struct slot {
	buf b;
	size_t block;  /* the block this slot holds or will hold */
	int ready;
	int error;
} slot;

typedef struct wblock {
	size_t from, to;             /* items */
	uint64_t h1, h2;
	const sgn_block_ref *copy;   /* unchanged: its text in the previous file */
} wblock;

typedef struct writer {
	const sgn_zone *z;
	const uint32_t *order;
	size_t n_items, n_blocks;
	wblock *blocks;
	const rr_filter *filter;     /* NULL: the whole signed zone */
	size_t *fmt;                 /* the blocks to format (not copied), in order */
	size_t n_fmt, next_fmt, written; /* indices into fmt */
	slot *ring;
	size_t n_ring;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int abort;
} writer;

/* Format the f-th block to format into its ring slot (free), and mark it ready. */
static void format_block(writer *w, size_t f)
{
	slot *s = &w->ring[f % w->n_ring];
	size_t b = w->fmt[f];
	int r = 0;

	s->b.len = 0;
	for (size_t i = w->blocks[b].from; i < w->blocks[b].to && !r; i++)
		r = put_item(&s->b, w->z, w->order[i], w->filter);
	pthread_mutex_lock(&w->lock);
	s->block = f;
	s->error = r;
	s->ready = 1;
	pthread_cond_broadcast(&w->cond);
	pthread_mutex_unlock(&w->lock);
}

/* A worker (par.h): formats the next blocks in order, a ring's length ahead at most. */
static void *format_worker(void *arg)
{
	writer *w = arg;

	for (;;) {
		size_t f;

		pthread_mutex_lock(&w->lock);
		f = w->next_fmt;
		if (f >= w->n_fmt || w->abort) {
			pthread_mutex_unlock(&w->lock);
			return NULL;
		}
		w->next_fmt++;
		/* the slot is free once the block n_ring earlier has been written */
		while (f >= w->written + w->n_ring && !w->abort)
			pthread_cond_wait(&w->cond, &w->lock);
		pthread_mutex_unlock(&w->lock);
		if (w->abort)
			return NULL;
		format_block(w, f);
	}
}

/* Fixed blocks (one-shot signing), or content-defined ones matched against `prev`. */
static int plan_blocks(writer *w, unsigned n_threads, const sgn_splice *prev, bool splice)
{
	uint64_t *h1 = NULL, *h2 = NULL;
	size_t n = w->n_items, nb = 0;

	if (!splice) {
		w->n_blocks = (n + BLOCK_ITEMS - 1) / BLOCK_ITEMS;
		w->blocks = calloc(w->n_blocks ? w->n_blocks : 1, sizeof(*w->blocks));
		if (!w->blocks)
			return -ENOMEM;
		for (size_t b = 0; b < w->n_blocks; b++)
			w->blocks[b] = (wblock) { .from = b * BLOCK_ITEMS,
						  .to = (b + 1) * BLOCK_ITEMS < n ? (b + 1) * BLOCK_ITEMS
										  : n };
		return 0;
	}
	pthread_once(&seed_once, seed_init);
	h1 = malloc((n ? n : 1) * sizeof(*h1));
	h2 = malloc((n ? n : 1) * sizeof(*h2));
	w->blocks = malloc((n ? n : 1) * sizeof(*w->blocks));
	if (!h1 || !h2 || !w->blocks) {
		free(h1);
		free(h2);
		return -ENOMEM;
	}
	{
		hash_job jobs[64];

		for (unsigned t = 0; t < n_threads; t++)
			jobs[t] = (hash_job) { .z = w->z, .order = w->order, .h1 = h1, .h2 = h2,
					       .from = n * t / n_threads,
					       .to = n * (t + 1) / n_threads };
		par_run(n_threads, hash_worker, jobs, sizeof(jobs[0]));
	}
	for (size_t i = 0, from = 0; i < n; i++) {
		wblock *b = &w->blocks[nb];

		if (i == from)
			*b = (wblock) { .from = from, .h1 = seed1, .h2 = seed2 };
		b->h1 = mix64(b->h1 ^ h1[i]);
		b->h2 = mix64(b->h2 + h2[i]);
		if ((h1[i] & SPLICE_MASK) == 0 || i + 1 - from == SPLICE_MAX_ITEMS || i + 1 == n) {
			b->to = i + 1;
			b->copy = splice_find(prev, b->h1, b->h2);
			nb++;
			from = i + 1;
		}
	}
	free(h1);
	free(h2);
	w->n_blocks = nb;
	return 0;
}

/* `head`: text written first, as it is (NULL: none). */
static int write_zone(const sgn_zone *z, const char *head, unsigned threads,
		      sgn_sink sink, sgn_copy_sink copy, void *userdata,
		      const sgn_splice *prev, sgn_splice *next, uint64_t *ret_copied,
		      const rr_filter *filter, zk_error *reterr)
{
	writer w = { .z = z, .filter = filter };
	unsigned n_threads = sgn_thread_count(threads);
	par_batch workers;
	uint64_t off = 0, copied = 0;
	sgn_block_ref *refs = NULL;
	int r = 0;

	if (n_threads > 64)
		n_threads = 64;
	w.order = output_order(z, &w.n_items);
	if (!w.order)
		return zk_fail(reterr, -ENOMEM, "out of memory");
	r = plan_blocks(&w, n_threads, prev, next != NULL);
	if (r >= 0 && next)
		refs = malloc((w.n_blocks ? w.n_blocks : 1) * sizeof(*refs));
	w.n_ring = 2 * (size_t) n_threads;
	w.ring = calloc(w.n_ring, sizeof(*w.ring));
	w.fmt = malloc((w.n_blocks ? w.n_blocks : 1) * sizeof(*w.fmt));
	if (r < 0 || !w.ring || !w.fmt || (next && !refs)) {
		free(w.fmt);
		free(refs);
		free(w.ring);
		free(w.blocks);
		free((void *) w.order);
		return zk_fail(reterr, -ENOMEM, "out of memory");
	}
	pthread_mutex_init(&w.lock, NULL);
	pthread_cond_init(&w.cond, NULL);
	if (head) {
		r = sink(userdata, head, strlen(head));
		off += strlen(head);
	}
	for (size_t b = 0; b < w.n_blocks; b++)
		if (!w.blocks[b].copy)
			w.fmt[w.n_fmt++] = b;
	/* a publication that changed a few names formats a few blocks: few threads */
	if (n_threads > w.n_fmt)
		n_threads = w.n_fmt ? (unsigned) w.n_fmt : 1;
	/* workers format ahead; the writer formats a block itself when none has taken it */
	par_submit(&workers, r == 0 ? n_threads : 0, format_worker, &w, 0);
	/*
	 * The calling thread writes, in order. Copied blocks that follow each other in the
	 * previous file too (the common case) go out as one copy.
	 */
	{
		uint64_t c_off = 0, c_len = 0;
		size_t f = 0;

		for (size_t b = 0; b < w.n_blocks && r == 0; b++) {
			const sgn_block_ref *c = w.blocks[b].copy;
			uint64_t len;

			if (c) {
				if (c_len && c_off + c_len != c->off) {
					r = copy(userdata, prev->fd, c_off, c_len);
					c_len = 0;
				}
				if (!c_len)
					c_off = c->off;
				c_len += c->len;
				len = c->len;
				copied += len;
			} else {
				slot *s = &w.ring[f % w.n_ring];

				if (c_len) {
					r = copy(userdata, prev->fd, c_off, c_len);
					c_len = 0;
				}
				pthread_mutex_lock(&w.lock);
				while (!(s->ready && s->block == f)) {
					if (w.next_fmt == f) {
						/* no worker free for it: everything before is
						 * written, so its slot is free */
						w.next_fmt++;
						pthread_mutex_unlock(&w.lock);
						format_block(&w, f);
						pthread_mutex_lock(&w.lock);
						continue;
					}
					pthread_cond_wait(&w.cond, &w.lock);
				}
				pthread_mutex_unlock(&w.lock);
				if (r == 0)
					r = s->error;
				if (r == 0 && s->b.len) /* a block with nothing kept: no buffer */
					r = sink(userdata, s->b.s, s->b.len);
				len = s->b.len;
				pthread_mutex_lock(&w.lock);
				s->ready = 0;
				w.written = ++f;
				pthread_cond_broadcast(&w.cond);
				pthread_mutex_unlock(&w.lock);
			}
			if (refs)
				refs[b] = (sgn_block_ref) { .h1 = w.blocks[b].h1,
							    .h2 = w.blocks[b].h2,
							    .off = off, .len = len };
			off += len;
		}
		if (r == 0 && c_len)
			r = copy(userdata, prev->fd, c_off, c_len);
	}
	pthread_mutex_lock(&w.lock);
	w.abort = 1;
	pthread_cond_broadcast(&w.cond);
	pthread_mutex_unlock(&w.lock);
	par_finish(&workers);
	for (size_t i = 0; i < w.n_ring; i++)
		free(w.ring[i].b.s);
	free(w.ring);
	free(w.fmt);
	free(w.blocks);
	free((void *) w.order);
	pthread_mutex_destroy(&w.lock);
	pthread_cond_destroy(&w.cond);
	if (r == 0 && next) {
		qsort(refs, w.n_blocks, sizeof(*refs), ref_cmp);
		next->fd = -1;
		next->blocks = refs;
		next->n_blocks = w.n_blocks;
		refs = NULL;
	}
	free(refs);
	if (ret_copied)
		*ret_copied = copied;
	if (r == -EINVAL)
		return zk_fail(reterr, ZK_E_SELF_CHECK, "a record of the zone cannot be formatted");
	if (r < 0)
		return zk_fail(reterr, r, "cannot write the zone");
	return 0;
}

/* The header as one comment line ("; header\n"), or NULL. */
static const char *comment_line(const char *header, char *line, size_t size)
{
	if (!header)
		return NULL;
	snprintf(line, size, "; %s\n", header);
	return line;
}

int sgn_zone_write_spliced(const sgn_zone *z, const char *header, unsigned threads,
			   sgn_sink sink, sgn_copy_sink copy, void *userdata,
			   const sgn_splice *prev, sgn_splice *next, uint64_t *ret_copied,
			   zk_error *reterr)
{
	char line[1100];

	return write_zone(z, comment_line(header, line, sizeof(line)), threads, sink, copy,
			  userdata, prev, next, ret_copied, NULL, reterr);
}

int sgn_zone_write(const sgn_zone *z, const char *header, unsigned threads, sgn_sink sink,
		   void *userdata, zk_error *reterr)
{
	char line[1100];

	return write_zone(z, comment_line(header, line, sizeof(line)), threads, sink, NULL,
			  userdata, NULL, NULL, NULL, NULL, reterr);
}

int sgn_zone_write_records(const sgn_zone *z, const char *head, unsigned threads,
			   sgn_rr_keep keep, void *keep_userdata, sgn_sink sink,
			   sgn_copy_sink copy, void *userdata, const sgn_splice *prev,
			   sgn_splice *next, uint64_t *ret_copied, zk_error *reterr)
{
	rr_filter f = { .keep = keep, .userdata = keep_userdata };

	return write_zone(z, head, threads, sink, copy, userdata, prev, next, ret_copied, &f,
			  reterr);
}
