/* SPDX-License-Identifier: MIT */
/*
 * signer/records.c -- see records.h.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "policy/zk-macro.h"
#include "signer/load.h"
#include "signer/rdata.h"
#include "signer/records.h"

#define TTL_MAX 2147483647u /* RFC 2181 §8 */

/* ---------------------------------------------------------------- one record */

void rec_rr_clear(rec_rr *rr)
{
	free(rr->rdata);
	rr->rdata = NULL;
	rr->rdlen = 0;
}

int rec_rr_copy(rec_rr *dst, const rec_rr *src)
{
	*dst = *src;
	dst->rdata = malloc(src->rdlen ? src->rdlen : 1);
	if (!dst->rdata)
		return -ENOMEM;
	memcpy(dst->rdata, src->rdata, src->rdlen);
	return 0;
}

uint64_t rec_id(const uint8_t *owner, uint16_t type, const uint8_t *rdata, uint16_t rdlen)
{
	uint8_t head[2], md[EVP_MAX_MD_SIZE];
	unsigned mdlen = 0;
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	uint64_t id = 0;

	head[0] = (uint8_t) (type >> 8);
	head[1] = (uint8_t) type;
	/* owner is self-delimiting (root label), so owner|type|rdata is unambiguous */
	if (c && EVP_DigestInit_ex(c, EVP_sha256(), NULL) &&
	    EVP_DigestUpdate(c, owner, dn_len(owner)) && EVP_DigestUpdate(c, head, 2) &&
	    EVP_DigestUpdate(c, rdata, rdlen) && EVP_DigestFinal_ex(c, md, &mdlen))
		for (int i = 0; i < 8; i++)
			id = id << 8 | md[i];
	EVP_MD_CTX_free(c);
	return id;
}

void rec_id_format(uint64_t id, char out[17])
{
	snprintf(out, 17, "%016llx", (unsigned long long) id);
}

int rec_id_parse(const char *s, uint64_t *ret)
{
	uint64_t v = 0;

	if (strlen(s) != 16)
		return -EINVAL;
	for (int i = 0; i < 16; i++) {
		char ch = s[i];
		unsigned d;

		if (ch >= '0' && ch <= '9')
			d = (unsigned) (ch - '0');
		else if (ch >= 'a' && ch <= 'f')
			d = (unsigned) (ch - 'a' + 10);
		else if (ch >= 'A' && ch <= 'F')
			d = (unsigned) (ch - 'A' + 10);
		else
			return -EINVAL;
		v = v << 4 | d;
	}
	*ret = v;
	return 0;
}

/* ---------------------------------------------------------------- request bodies */

void rec_body_clear(rec_body *b)
{
	free(b->name);
	free(b->type);
	free(b->content);
	memset(b, 0, sizeof(*b));
}

static int take_string(json_t *v, const char *key, char **out, zk_error *reterr)
{
	size_t len;

	if (!json_is_string(v))
		return zk_fail(reterr, ZK_E_INVALID_RECORD, "field '%s' must be a string", key);
	len = json_string_length(v);
	if (memchr(json_string_value(v), '\0', len))
		return zk_fail(reterr, ZK_E_INVALID_RECORD, "field '%s' contains a NUL character",
			       key);
	*out = strdup(json_string_value(v));
	return *out ? 0 : zk_fail(reterr, -ENOMEM, "out of memory");
}

int rec_body_parse(const char *body, size_t len, bool partial, rec_body *out,
		   zk_error *reterr)
{
	json_error_t jerr;
	json_t *j, *v;
	const char *key;
	int r = 0;

	memset(out, 0, sizeof(*out));
	/* JSON_ALLOW_NUL: "\u0000" is valid JSON, refused below as INVALID_RECORD */
	j = json_loadb(body, len, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &jerr);
	if (!j && json_error_code(&jerr) == json_error_numeric_overflow)
		return zk_fail(reterr, ZK_E_INVALID_RECORD, "a number is out of range (ttl is 0 to "
			       "%u seconds)", TTL_MAX);
	if (!j)
		return zk_fail(reterr, ZK_E_BAD_REQUEST, "the body is not valid JSON: %s (line %d, "
			       "column %d)", jerr.text, jerr.line, jerr.column);
	if (!json_is_object(j)) {
		json_decref(j);
		return zk_fail(reterr, ZK_E_BAD_REQUEST,
			       "the body must be a JSON object with name, type, content and ttl");
	}
	json_object_foreach(j, key, v) {
		if (!strcmp(key, "name"))
			r = take_string(v, key, &out->name, reterr);
		else if (!strcmp(key, "type"))
			r = take_string(v, key, &out->type, reterr);
		else if (!strcmp(key, "content"))
			r = take_string(v, key, &out->content, reterr);
		else if (!strcmp(key, "ttl")) {
			json_int_t t = json_is_integer(v) ? json_integer_value(v) : -1;

			if (!json_is_integer(v))
				r = zk_fail(reterr, ZK_E_INVALID_RECORD,
					    "field 'ttl' must be an integer number of seconds");
			else if (t < 0 || t > (json_int_t) TTL_MAX)
				r = zk_fail(reterr, ZK_E_INVALID_RECORD,
					    "ttl %lld is out of range (0 to %u seconds)",
					    (long long) t, TTL_MAX);
			out->has_ttl = true;
			out->ttl = (uint32_t) t;
		} else {
			char shown[64];

			snprintf(shown, sizeof(shown), "%s", key);
			r = zk_fail(reterr, ZK_E_INVALID_RECORD,
				    "unknown field '%s' (fields: name, type, content, ttl)", shown);
		}
		if (r < 0)
			break;
	}
	json_decref(j);
	if (r >= 0 && !partial && (!out->name || !out->type || !out->content))
		r = zk_fail(reterr, ZK_E_INVALID_RECORD, "missing field '%s'",
			    !out->name ? "name" : !out->type ? "type" : "content");
	if (r < 0)
		rec_body_clear(out);
	return r;
}

/* ---------------------------------------------------------------- parsing */

int rec_parse_name(const char *name, const uint8_t *apex, uint8_t *out, zk_error *reterr)
{
	size_t len = strlen(name);
	int n;

	if (len == 0)
		return zk_fail(reterr, ZK_E_INVALID_RECORD,
			       "empty name: use \"@\" for the zone apex");
	if (!strcmp(name, "@")) {
		memcpy(out, apex, dn_len(apex));
		return 0;
	}
	for (size_t i = 0; i < len; i++)
		if ((unsigned char) name[i] <= 0x20 || name[i] == 0x7f)
			return zk_fail(reterr, ZK_E_INVALID_RECORD,
				       "invalid name: spaces and control characters must be written "
				       "as \\DDD escapes");
	n = dn_from_text(name, len, apex, out);
	if (n < 0)
		return zk_fail(reterr, ZK_E_INVALID_RECORD,
			       "invalid name '%.255s': labels are 1 to 63 octets and the whole "
			       "name at most 255", name);
	dn_lower(out);
	return 0;
}

int rec_parse_type(const char *type, uint16_t *ret, zk_error *reterr)
{
	int t = sgn_type_from_name(type, strlen(type));
	if (t <= 0)
		return zk_fail(reterr, ZK_E_INVALID_RECORD, "unknown record type '%.64s'", type);
	/* types that exist only in messages (RFC 6895 §3.1) */
	if (t == LDNS_RR_TYPE_OPT || t == LDNS_RR_TYPE_TSIG || t == LDNS_RR_TYPE_TKEY ||
	    (t >= 128 && t <= 255))
		return zk_fail(reterr, ZK_E_INVALID_RECORD,
			       "record type '%.64s' cannot be stored in a zone", type);
	*ret = (uint16_t) t;
	return 0;
}

int rec_parse_content(rec_rr *rr, const uint8_t *apex, const char *content,
		      zk_error *reterr)
{
	sgn_load_opts lo = { .mode = SGN_LOAD_UNSIGNED, .fragment = true };
	char owner[DN_TEXTMAX], tbuf[16], *line = NULL;
	sgn_zone *z = NULL;
	const sgn_node *n;
	const sgn_rrset *s;
	zk_error e = { 0 };
	int len, r;

	/* one line, so no directive and no second record can hide in it */
	for (const char *p = content; *p; p++)
		if (((unsigned char) *p < 0x20 && *p != '\t') || *p == 0x7f)
			return zk_fail(reterr, ZK_E_INVALID_RECORD,
				       "invalid content: control characters and line breaks must "
				       "be written as \\DDD escapes");
	if (!content[strspn(content, " \t")])
		return zk_fail(reterr, ZK_E_INVALID_RECORD, "empty content");
	dn_to_text(rr->owner, owner);
	len = asprintf(&line, "%s %u IN %s %s\n", owner, rr->ttl,
		       sgn_type_name(rr->type, tbuf), content);
	if (len < 0)
		return zk_fail(reterr, -ENOMEM, "out of memory");
	r = sgn_zone_load_buffer(line, (size_t) len, "request", apex, &lo, &z, &e);
	free(line);
	if (r < 0) {
		if (r == -ENOMEM)
			return zk_fail(reterr, r, "out of memory");
		return zk_fail(reterr, ZK_E_INVALID_RECORD, "invalid %s content '%.200s': %s",
			       sgn_type_name(rr->type, tbuf), content, e.message);
	}
	n = sgn_zone_find(z, rr->owner);
	s = n ? sgn_node_rrset(n, rr->type) : NULL;
	if (!s || s->count != 1) {
		sgn_zone_free(z);
		return zk_fail(reterr, ZK_E_INVALID_RECORD, "invalid %s content '%.200s'",
			       sgn_type_name(rr->type, tbuf), content);
	}
	rr->rdlen = blob_len(s->rdata);
	rr->rdata = malloc(rr->rdlen ? rr->rdlen : 1);
	if (rr->rdata)
		memcpy(rr->rdata, s->rdata + 2, rr->rdlen);
	sgn_zone_free(z);
	return rr->rdata ? 0 : zk_fail(reterr, -ENOMEM, "out of memory");
}

ldns_rr *rec_rr_to_ldns(const rec_rr *rr)
{
	ldns_rr *l = ldns_rr_new();
	ldns_rdf *owner;

	if (!l)
		return NULL;
	owner = ldns_dname_new_frm_data((uint16_t) dn_len(rr->owner), rr->owner);
	if (!owner) {
		ldns_rr_free(l);
		return NULL;
	}
	ldns_rr_set_owner(l, owner);
	ldns_rr_set_type(l, (ldns_rr_type) rr->type);
	ldns_rr_set_class(l, LDNS_RR_CLASS_IN);
	ldns_rr_set_ttl(l, rr->ttl);
	if (rr->rdata) {
		uint8_t *buf = malloc(2u + rr->rdlen);
		size_t pos = 0;
		ldns_status st;

		if (!buf) {
			ldns_rr_free(l);
			return NULL;
		}
		buf[0] = (uint8_t) (rr->rdlen >> 8);
		buf[1] = (uint8_t) rr->rdlen;
		memcpy(buf + 2, rr->rdata, rr->rdlen);
		st = ldns_wire2rdf(l, buf, 2u + rr->rdlen, &pos);
		free(buf);
		if (st != LDNS_STATUS_OK) {
			ldns_rr_free(l);
			return NULL;
		}
	}
	return l;
}

int rec_rr_content(const rec_rr *rr, char *out)
{
	return sgn_rdata_format(rr->type, rr->rdata, rr->rdlen, out);
}

/* ---------------------------------------------------------------- the index */

typedef struct rtype {
	uint16_t type;
	uint32_t ttl;
	uint32_t count;
	uint32_t octets; /* the RRset's size in an answer (see pol_type_count) */
} rtype;

typedef struct rowner {
	uint8_t *name;   /* one block with key */
	uint8_t *key;
	uint16_t key_len;
	uint16_t n_types, cap_types;
	rtype *types;
} rowner;

typedef struct rentry {
	uint64_t id;
	rowner *owner;
	uint16_t type;
	uint16_t rdlen;
	uint8_t rdata[];
} rentry;

/* Open addressing with linear probing and backward-shift deletion; load <= 1/2. */
typedef struct table {
	void **slot;
	size_t cap, n;
} table;

struct rec_set {
	uint8_t apex[DN_MAXLEN];
	const pol_policy *policy;
	uint64_t seed;       /* owner hashes: random, so names cannot be chosen to collide */
	table owners;        /* rowner* by name hash */
	table records;       /* rentry* by id */
};

static uint64_t mix64(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ull;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

static uint64_t name_hash(const rec_set *s, const uint8_t *name)
{
	uint64_t h = s->seed;
	size_t len = dn_len(name), i = 0;

	for (; i + 8 <= len; i += 8) {
		uint64_t w;

		memcpy(&w, name + i, 8);
		h = mix64(h ^ w);
	}
	for (; i < len; i++)
		h = mix64(h ^ name[i]);
	return h;
}

static uint64_t owner_hash(const rec_set *s, const void *item)
{
	return name_hash(s, ((const rowner *) item)->name);
}

static uint64_t entry_hash(const rec_set *s, const void *item)
{
	return ((const rentry *) item)->id; /* SHA-256 output: uniform already */
}

typedef uint64_t (*hash_fn)(const rec_set *, const void *);

static int table_grow(const rec_set *s, table *t, hash_fn h)
{
	size_t cap = t->cap ? t->cap * 2 : 64;
	void **slot = calloc(cap, sizeof(*slot));

	if (!slot)
		return -ENOMEM;
	for (size_t i = 0; i < t->cap; i++)
		if (t->slot[i]) {
			size_t k = h(s, t->slot[i]) & (cap - 1);

			while (slot[k])
				k = (k + 1) & (cap - 1);
			slot[k] = t->slot[i];
		}
	free(t->slot);
	t->slot = slot;
	t->cap = cap;
	return 0;
}

static int table_insert(const rec_set *s, table *t, hash_fn h, void *item)
{
	size_t k;

	if ((t->n + 1) * 2 > t->cap && table_grow(s, t, h) < 0)
		return -ENOMEM;
	k = h(s, item) & (t->cap - 1);
	while (t->slot[k])
		k = (k + 1) & (t->cap - 1);
	t->slot[k] = item;
	t->n++;
	return 0;
}

/* Remove the item in slot k and shift the probe chain after it back. */
static void table_remove_at(const rec_set *s, table *t, hash_fn h, size_t k)
{
	size_t mask = t->cap - 1, i = k, j = k;

	t->slot[k] = NULL;
	t->n--;
	for (;;) {
		size_t home;

		j = (j + 1) & mask;
		if (!t->slot[j])
			return;
		home = h(s, t->slot[j]) & mask;
		/* move slot j to the hole i unless its home lies cyclically in (i, j] */
		if ((i <= j) ? (i < home && home <= j) : (i < home || home <= j))
			continue;
		t->slot[i] = t->slot[j];
		t->slot[j] = NULL;
		i = j;
	}
}

static rowner *owner_find(const rec_set *s, const uint8_t *name, size_t *ret_slot)
{
	size_t k;

	if (!s->owners.cap)
		return NULL;
	for (k = name_hash(s, name) & (s->owners.cap - 1); s->owners.slot[k];
	     k = (k + 1) & (s->owners.cap - 1)) {
		rowner *o = s->owners.slot[k];

		if (dn_equal(o->name, name)) {
			if (ret_slot)
				*ret_slot = k;
			return o;
		}
	}
	return NULL;
}

/*
 * The entry with this id and, when `owner` is given, this content; *ret_n (if not NULL):
 * how many entries have the id. Ids are 64 bits of SHA-256, so two records can share one
 * (2^32 work finds a pair): an id alone never picks a record to change.
 */
static rentry *entry_find(const rec_set *s, uint64_t id, const uint8_t *owner, uint16_t type,
			  const uint8_t *rdata, uint16_t rdlen, size_t *ret_slot, size_t *ret_n)
{
	rentry *found = NULL;
	size_t k, n = 0;

	if (!s->records.cap)
		return NULL;
	for (k = id & (s->records.cap - 1); s->records.slot[k];
	     k = (k + 1) & (s->records.cap - 1)) {
		rentry *e = s->records.slot[k];

		if (e->id != id)
			continue;
		n++;
		if (found || (owner && (e->type != type || e->rdlen != rdlen ||
					!dn_equal(e->owner->name, owner) ||
					(rdlen && memcmp(e->rdata, rdata, rdlen) != 0))))
			continue;
		found = e;
		if (ret_slot)
			*ret_slot = k;
		if (!ret_n)
			break;
	}
	if (ret_n)
		*ret_n = n;
	return found;
}

static rtype *owner_type(rowner *o, uint16_t type)
{
	for (uint16_t i = 0; i < o->n_types; i++)
		if (o->types[i].type == type)
			return &o->types[i];
	return NULL;
}

int rec_set_new(const uint8_t *apex, const pol_policy *p, rec_set **ret)
{
	rec_set *s = calloc(1, sizeof(*s));

	if (!s)
		return -ENOMEM;
	dn_lower_copy(s->apex, apex);
	s->policy = p;
	if (getrandom(&s->seed, sizeof(s->seed), 0) != sizeof(s->seed))
		s->seed = (uint64_t) (uintptr_t) s ^ 0x9e3779b97f4a7c15ull;
	*ret = s;
	return 0;
}

rec_set *rec_set_free(rec_set *s)
{
	if (!s)
		return NULL;
	for (size_t i = 0; i < s->records.cap; i++)
		free(s->records.slot[i]);
	for (size_t i = 0; i < s->owners.cap; i++) {
		rowner *o = s->owners.slot[i];

		if (o) {
			free(o->types);
			free(o->name);
			free(o);
		}
	}
	free(s->records.slot);
	free(s->owners.slot);
	free(s);
	return NULL;
}

size_t rec_set_count(const rec_set *s)
{
	return s->records.n;
}

static void entry_out(const rentry *e, rec_entry *ret)
{
	const rtype *t = owner_type(e->owner, e->type);

	*ret = (rec_entry) { .id = e->id, .owner = e->owner->name, .type = e->type,
			     .rdlen = e->rdlen, .ttl = t ? t->ttl : 0, .rdata = e->rdata };
}

bool rec_set_get(const rec_set *s, uint64_t id, rec_entry *ret)
{
	const rentry *e = entry_find(s, id, NULL, 0, NULL, 0, NULL, NULL);

	if (e && ret)
		entry_out(e, ret);
	return e != NULL;
}

int rec_set_lookup(const rec_set *s, uint64_t id, rec_entry *ret)
{
	size_t n;
	const rentry *e = entry_find(s, id, NULL, 0, NULL, 0, NULL, &n);

	if (!e)
		return -ENOENT;
	if (n > 1)
		return -ENOTUNIQ;
	if (ret)
		entry_out(e, ret);
	return 0;
}

bool rec_set_find(const rec_set *s, const uint8_t *owner, uint16_t type, const uint8_t *rdata,
		  uint16_t rdlen, rec_entry *ret)
{
	const rentry *e = entry_find(s, rec_id(owner, type, rdata, rdlen), owner, type, rdata,
				     rdlen, NULL, NULL);

	if (e && ret)
		entry_out(e, ret);
	return e != NULL;
}

bool rec_set_rrset_ttl(const rec_set *s, const uint8_t *owner, uint16_t type, uint32_t *ret)
{
	rowner *o = owner_find(s, owner, NULL);
	const rtype *t = o ? owner_type(o, type) : NULL;

	if (!t)
		return false;
	*ret = t->ttl;
	return true;
}

int rec_set_add(rec_set *s, const rec_rr *rr)
{
	uint64_t id = rec_rr_id(rr);
	rentry *e = entry_find(s, id, rr->owner, rr->type, rr->rdata, rr->rdlen, NULL, NULL);
	rowner *o;
	rtype *t;
	bool new_owner = false;

	if (e) {
		/* the same record (a different one with this id is added beside it) */
		t = owner_type(e->owner, rr->type);
		if (t)
			t->ttl = rr->ttl;
		return 1;
	}
	o = owner_find(s, rr->owner, NULL);
	if (!o) {
		size_t nlen = dn_len(rr->owner);
		uint8_t key[DN_KEYMAX];
		size_t klen = dn_sort_key(rr->owner, key);

		/* name and sort key, exactly: an owner of a small zone is a few dozen bytes,
		 * and a daemon holds the index of every zone */
		o = calloc(1, sizeof(*o));
		if (!o || !(o->name = malloc(nlen + klen))) {
			free(o);
			return -ENOMEM;
		}
		memcpy(o->name, rr->owner, nlen);
		o->key = o->name + nlen;
		memcpy(o->key, key, klen);
		o->key_len = (uint16_t) klen;
		if (table_insert(s, &s->owners, owner_hash, o) < 0) {
			free(o->name);
			free(o);
			return -ENOMEM;
		}
		new_owner = true;
	}
	t = owner_type(o, rr->type);
	if (!t) {
		if (o->n_types == o->cap_types) {
			uint16_t cap = o->cap_types ? (uint16_t) (o->cap_types * 2) : 4;
			rtype *nt = realloc(o->types, cap * sizeof(*nt));

			if (!nt)
				goto oom;
			o->types = nt;
			o->cap_types = cap;
		}
		t = &o->types[o->n_types++];
		*t = (rtype) { .type = rr->type };
	}
	e = malloc(sizeof(*e) + rr->rdlen);
	if (!e)
		goto oom;
	*e = (rentry) { .id = id, .owner = o, .type = rr->type, .rdlen = rr->rdlen };
	memcpy(e->rdata, rr->rdata, rr->rdlen);
	if (table_insert(s, &s->records, entry_hash, e) < 0) {
		free(e);
		goto oom;
	}
	t->count++;
	t->octets += POL_RR_OCTETS(rr->rdlen);
	t->ttl = rr->ttl;
	return 0;
oom:
	if (t && t->count == 0)
		*t = o->types[--o->n_types];
	if (new_owner && o->n_types == 0) {
		size_t k;

		if (owner_find(s, o->name, &k))
			table_remove_at(s, &s->owners, owner_hash, k);
		free(o->types);
		free(o->name);
		free(o);
	}
	return -ENOMEM;
}

int rec_set_del(rec_set *s, const uint8_t *owner, uint16_t type, const uint8_t *rdata,
		uint16_t rdlen)
{
	size_t k;
	rentry *e = entry_find(s, rec_id(owner, type, rdata, rdlen), owner, type, rdata, rdlen, &k,
			       NULL);
	rowner *o;
	rtype *t;

	if (!e)
		return -ENOENT;
	o = e->owner;
	table_remove_at(s, &s->records, entry_hash, k);
	free(e);
	t = owner_type(o, type);
	if (t)
		t->octets -= POL_RR_OCTETS(rdlen);
	if (t && --t->count == 0)
		*t = o->types[--o->n_types];
	if (o->n_types == 0 && owner_find(s, o->name, &k)) {
		table_remove_at(s, &s->owners, owner_hash, k);
		free(o->types);
		free(o->name);
		free(o);
	}
	return 0;
}

static size_t view_types_at(const void *zone, const ldns_rdf *owner, pol_type_count *out,
			    size_t max)
{
	const rec_set *s = zone;
	uint8_t name[DN_MAXLEN];
	const rowner *o;
	size_t n = 0;

	if (ldns_rdf_size(owner) > DN_MAXLEN)
		return 0;
	dn_lower_copy(name, ldns_rdf_data(owner));
	o = owner_find(s, name, NULL);
	for (uint16_t i = 0; o && i < o->n_types && n < max; i++)
		out[n++] = (pol_type_count) { .type = o->types[i].type, .count = o->types[i].count,
					      .octets = o->types[i].octets };
	return n;
}

void rec_set_view(const rec_set *s, pol_zone_view *v, const ldns_rdf *apex)
{
	*v = (pol_zone_view) { .apex = apex, .policy = s->policy, .types_at = view_types_at,
			       .zone = s };
}

static int entry_cmp(const void *pa, const void *pb)
{
	const rentry *a = *(rentry *const *) pa, *b = *(rentry *const *) pb;
	int c;

	if (a->owner != b->owner) {
		c = dn_key_cmp(a->owner->key, a->owner->key_len, b->owner->key, b->owner->key_len);
		if (c)
			return c;
	}
	if (a->type != b->type)
		return a->type < b->type ? -1 : 1;
	return sgn_rdata_cmp(a->rdata, a->rdlen, b->rdata, b->rdlen);
}

int rec_set_copy(const rec_set *s, const uint8_t *owner, uint16_t type, rec_rr **ret,
		 size_t *ret_n)
{
	const rowner *only = NULL;
	rec_rr *out;
	size_t n = 0;

	*ret = NULL;
	*ret_n = 0;
	if (owner && !(only = owner_find(s, owner, NULL)))
		return 0;
	out = calloc(s->records.n ? s->records.n : 1, sizeof(*out));
	if (!out)
		return -ENOMEM;
	for (size_t i = 0; i < s->records.cap; i++) {
		const rentry *e = s->records.slot[i];
		rec_entry ent;
		rec_rr *rr = &out[n];

		if (!e || (only && e->owner != only) || (type && e->type != type))
			continue;
		entry_out(e, &ent);
		*rr = (rec_rr) { .type = ent.type, .ttl = ent.ttl, .rdlen = ent.rdlen };
		memcpy(rr->owner, ent.owner, dn_len(ent.owner));
		rr->rdata = malloc(ent.rdlen ? ent.rdlen : 1);
		if (!rr->rdata) {
			rec_rrs_free(out, n);
			return -ENOMEM;
		}
		memcpy(rr->rdata, ent.rdata, ent.rdlen);
		n++;
	}
	*ret = out;
	*ret_n = n;
	return 0;
}

static int rr_cmp(const void *pa, const void *pb)
{
	const rec_rr *a = pa, *b = pb;
	int c = dn_canonical_cmp(a->owner, b->owner);

	if (c)
		return c;
	if (a->type != b->type)
		return a->type < b->type ? -1 : 1;
	return sgn_rdata_cmp(a->rdata, a->rdlen, b->rdata, b->rdlen);
}

void rec_rrs_sort(rec_rr *v, size_t n)
{
	if (n > 1) /* v may be NULL when n is 0, and qsort's array must not be */
		qsort(v, n, sizeof(*v), rr_cmp);
}

void rec_rrs_free(rec_rr *v, size_t n)
{
	for (size_t i = 0; v && i < n; i++)
		rec_rr_clear(&v[i]);
	free(v);
}

int rec_set_list(const rec_set *s, const uint8_t *owner, uint16_t type, rec_entry **ret,
		 size_t *ret_n)
{
	const rowner *only = NULL;
	rentry **sel;
	rec_entry *out;
	size_t n = 0;

	if (owner && !(only = owner_find(s, owner, NULL))) {
		*ret = NULL;
		*ret_n = 0;
		return 0;
	}
	sel = malloc((s->records.n ? s->records.n : 1) * sizeof(*sel));
	if (!sel)
		return -ENOMEM;
	for (size_t i = 0; i < s->records.cap; i++) {
		rentry *e = s->records.slot[i];

		if (e && (!only || e->owner == only) && (!type || e->type == type))
			sel[n++] = e;
	}
	qsort(sel, n, sizeof(*sel), entry_cmp);
	out = malloc((n ? n : 1) * sizeof(*out));
	if (!out) {
		free(sel);
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++)
		entry_out(sel[i], &out[i]);
	free(sel);
	*ret = out;
	*ret_n = n;
	return 0;
}

bool rec_is_system(const uint8_t *apex, const pol_policy *p, const uint8_t *owner,
		   uint16_t type, const uint8_t *rdata, uint16_t rdlen)
{
	ldns_rdf *target;
	bool platform;

	if (type == T_SOA || pol_type_is_dnssec(type))
		return true;
	if (type != T_NS || !dn_equal(owner, apex) || !rdlen)
		return false;
	target = ldns_dname_new_frm_data(rdlen, rdata);
	platform = target && pol_is_platform_ns(p, target);
	ldns_rdf_deep_free(target);
	return platform;
}

int rec_set_from_zone(const sgn_zone *z, const pol_policy *p, rec_set **ret)
{
	rec_set *s = NULL;
	int r = rec_set_new(z->apex, p, &s);

	for (size_t i = 0; r >= 0 && i < z->n_nodes; i++) {
		const sgn_node *n = z->nodes[i];

		for (uint16_t k = 0; r >= 0 && k < n->n_rrsets; k++) {
			const sgn_rrset *rs = &n->rrsets[k];
			const uint8_t *q = rs->rdata;

			if (rs->type == T_SOA || pol_type_is_dnssec(rs->type))
				continue;
			for (uint16_t c = 0; r >= 0 && c < rs->count; c++) {
				rec_rr rr = { .type = rs->type, .ttl = rs->ttl, .rdlen = blob_len(q),
					      .rdata = (uint8_t *) (uintptr_t) (q + 2) };

				q += 2 + rr.rdlen;
				if (rec_is_system(z->apex, p, n->name, rs->type, rr.rdata, rr.rdlen))
					continue;
				memcpy(rr.owner, n->name, n->name_len);
				r = rec_set_add(s, &rr);
			}
		}
	}
	if (r < 0) {
		rec_set_free(s);
		return r;
	}
	*ret = s;
	return 0;
}

/* ---------------------------------------------------------------- applying changes */

void rec_ops_free(rec_op *ops, size_t n)
{
	for (size_t i = 0; ops && i < n; i++)
		rec_rr_clear(&ops[i].rr);
	free(ops);
}

/* The RRset's blob with `rd` inserted (or removed), in canonical order. */
static int edit_blob(const sgn_rrset *s, const rec_rr *rr, bool add, uint8_t **ret,
		     uint32_t *ret_len, uint16_t *ret_count, bool *changed)
{
	uint32_t old_len = s ? s->rdata_len : 0;
	uint16_t count = s ? s->count : 0;
	const uint8_t *p = s ? s->rdata : NULL, *end = p + old_len;
	uint8_t *out = malloc(old_len + 2u + rr->rdlen), *w = out;
	bool done = false;

	if (!out)
		return -ENOMEM;
	*changed = false;
	for (; p && p < end; p += 2 + blob_len(p)) {
		uint16_t len = blob_len(p);
		int c = done ? -1 : sgn_rdata_cmp(p + 2, len, rr->rdata, rr->rdlen);

		if (c == 0) {
			done = true;
			if (!add) {
				*changed = true;
				count--;
				continue; /* drop it */
			}
		} else if (c > 0 && add) {
			*w++ = (uint8_t) (rr->rdlen >> 8);
			*w++ = (uint8_t) rr->rdlen;
			memcpy(w, rr->rdata, rr->rdlen);
			w += rr->rdlen;
			count++;
			*changed = done = true;
		}
		memcpy(w, p, 2u + len);
		w += 2u + len;
	}
	if (add && !done) {
		*w++ = (uint8_t) (rr->rdlen >> 8);
		*w++ = (uint8_t) rr->rdlen;
		memcpy(w, rr->rdata, rr->rdlen);
		w += rr->rdlen;
		count++;
		*changed = true;
	}
	*ret = out;
	*ret_len = (uint32_t) (w - out);
	*ret_count = count;
	return 0;
}

static bool cname_conflict(const sgn_node *n, const rec_rr *rr)
{
	for (uint16_t i = 0; i < n->n_rrsets; i++) {
		const sgn_rrset *s = &n->rrsets[i];
		uint16_t t = s->type;

		if (t == T_RRSIG || t == T_NSEC || t == T_NSEC3)
			continue;
		if (t == rr->type) {
			/* a CNAME RRset holds one record (RFC 2181 §10.1): a second one conflicts */
			if (t == T_CNAME && !(s->count == 1 && blob_len(s->rdata) == rr->rdlen &&
					      !memcmp(s->rdata + 2, rr->rdata, rr->rdlen)))
				return true;
			continue;
		}
		if (rr->type == T_CNAME || t == T_CNAME)
			return true;
	}
	return false;
}

/*
 * A new name whose parent is already in the zone, with data or as an empty non-terminal:
 * it needs no ENT, and its flags follow from the parent's. Returns false when only the
 * structure pass can tell (the caller then runs it).
 */
static bool place_new_leaf(sgn_zone *z, sgn_node *node)
{
	const uint8_t *up = dn_parent(node->name);
	const sgn_node *parent = up ? sgn_zone_find(z, up) : NULL;

	if (!parent || (parent->n_rrsets == 0 && !(parent->flags & (SGN_NODE_ENT | SGN_NODE_APEX))))
		return false;
	node->flags = 0;
	if (parent->flags & (SGN_NODE_BELOW_CUT | SGN_NODE_DELEGATION))
		node->flags |= SGN_NODE_BELOW_CUT;
	if (dn_is_wildcard(node->name))
		node->flags |= SGN_NODE_WILDCARD;
	return true;
}

size_t rec_node_types(const uint8_t *apex, const pol_policy *p, const sgn_node *n,
		      pol_type_count *out, size_t max)
{
	size_t k = 0;

	for (uint16_t i = 0; i < n->n_rrsets && k < max; i++) {
		const sgn_rrset *s = &n->rrsets[i];
		pol_type_count c = { .type = s->type, .count = s->count,
				     /* the blob: 2 octets of length before each RDATA */
				     .octets = s->rdata_len + 10u * s->count };

		if (s->type == T_SOA || pol_type_is_dnssec(s->type))
			continue;
		if (s->type == T_NS && p && dn_equal(n->name, apex)) {
			const uint8_t *q = s->rdata;

			for (uint16_t r = 0; r < s->count; r++, q += 2u + blob_len(q))
				if (rec_is_system(apex, p, n->name, T_NS, q + 2, blob_len(q))) {
					c.count--;
					c.octets -= POL_RR_OCTETS(blob_len(q));
				}
		}
		out[k++] = c;
	}
	return k;
}

/*
 * The name of `node` with the RRset of `type` replaced by one of `count` records in a
 * blob of `blen` octets, against pol_name_check.
 */
static int name_rules_after(const sgn_zone *z, const pol_policy *p, const sgn_node *node,
			    uint16_t type, uint16_t count, uint32_t blen, const sgn_rrset *before,
			    zk_error *e)
{
	pol_type_count c[POL_TYPES_MAX + 2];
	ldns_rdf *owner;
	size_t n = rec_node_types(z->apex, p, node, c, ZK_ELEMENTSOF(c) - 1), i;
	int r;

	for (i = 0; i < n && c[i].type != type; i++)
		;
	if (i == n)
		c[n++] = (pol_type_count) { .type = type };
	/* the same adjustment for the platform's NS as rec_node_types made */
	c[i].count = c[i].count + count - (before ? before->count : 0);
	c[i].octets = c[i].octets + blen + 10u * count -
		      (before ? before->rdata_len + 10u * before->count : 0);
	owner = ldns_dname_new_frm_data((uint16_t) node->name_len, node->name);
	if (!owner)
		return zk_fail(e, -ENOMEM, "out of memory");
	r = pol_name_check(p, owner, dn_equal(node->name, z->apex), c, n, e);
	ldns_rdf_deep_free(owner);
	return r;
}

int rec_apply(sgn_zone *z, const pol_policy *p, const rec_op *ops, size_t n,
	      const zk_diag *diag)
{
	int changes = 0, r;
	/*
	 * The structure pass (ENTs, cuts, flags) walks the whole zone. Most API writes add or
	 * change data at a name whose parent exists, which changes no other name's flags: those
	 * skip it. Anything else (NS or DS, a name gone, a new name without a parent, an ENT
	 * that got data) runs it.
	 */
	bool structure = false;

	for (size_t i = 0; i < n; i++) {
		const rec_rr *rr = &ops[i].rr;
		bool add = ops[i].kind == REC_OP_ADD, changed = false, new_ttl;
		sgn_node *node = sgn_zone_find(z, rr->owner);
		const sgn_rrset *s;
		uint8_t *blob = NULL;
		uint32_t blen;
		uint16_t count;
		char tbuf[16], name[DN_TEXTMAX];

		if (!add && !node)
			continue;
		if (add && node && cname_conflict(node, rr)) {
			dn_to_text(rr->owner, name);
			zk_diag_emit(diag, ZK_LOG_WARNING, NULL, 0,
				     "API change %llu skipped: a %s record at %s would sit beside "
				     "other data after a concurrent edit of the zone file",
				     (unsigned long long) ops[i].seq, sgn_type_name(rr->type, tbuf),
				     name);
			continue;
		}
		if (!node) {
			r = sgn_zone_get_node(z, rr->owner, &node, NULL);
			if (r < 0)
				return r;
			if (!place_new_leaf(z, node))
				structure = true;
		}
		if (rr->type == T_NS || rr->type == T_DS || (node->flags & SGN_NODE_ENT))
			structure = true;
		s = sgn_node_rrset(node, rr->type);
		r = edit_blob(s, rr, add, &blob, &blen, &count, &changed);
		if (r < 0)
			return r;
		if (changed && p) {
			zk_error e = { 0 };

			r = name_rules_after(z, p, node, rr->type, count, blen, s, &e);
			if (r == -ENOMEM) {
				free(blob);
				return r;
			}
			if (r < 0) {
				zk_diag_emit(diag, ZK_LOG_WARNING, NULL, 0,
					     "API change %llu skipped after a concurrent edit of the "
					     "zone file: %s", (unsigned long long) ops[i].seq,
					     e.message);
				free(blob);
				if (node->n_rrsets == 0)
					structure = true; /* a name made for it: let it go again */
				continue;
			}
		}
		/* decided before the RRset is replaced: s points at it, so it takes the new TTL */
		new_ttl = add && s && s->ttl != rr->ttl;
		if (changed || new_ttl)
			r = sgn_node_set_rrset(node, rr->type, add ? rr->ttl : s->ttl, count, blob,
					       blen);
		free(blob);
		if (r < 0)
			return r;
		if (changed || new_ttl)
			changes++;
		if (node->n_rrsets == 0 && node->nsec) {
			/* no data left: let the structure pass drop the name */
			sgn_rrset_clear(node->nsec);
			free(node->nsec);
			node->nsec = NULL;
		}
		if (node->n_rrsets == 0)
			structure = true;
	}
	r = structure ? sgn_zone_structure(z) : 0;
	return r < 0 ? r : changes;
}
