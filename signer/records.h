/* SPDX-License-Identifier: MIT */
/*
 * signer/records.h -- user records as the record API sees them: one record parsed from a
 * request and put in canonical form, its stable id, the index of a zone's user records
 * the daemon checks writes against, and the application of accepted changes to the zone
 * model.
 *
 * A record's id is the first 64 bits of SHA-256 over owner, type and RDATA in canonical
 * wire form (not the TTL). So ids need no storage and survive restarts, file edits and
 * re-imports. They are not unique: two records with the same id take about 2^32 hashes to
 * find. So the index keeps records by their content (an id shared by two different
 * records keeps both), and a lookup by id says when it is ambiguous.
 *
 * The index (rec_set) holds the user records only: not the SOA, not the platform's apex
 * NS, no DNSSEC type. It is what the rules (policy/rules.c) see through pol_zone_view,
 * which is why it keeps per-name type counts.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <ldns/ldns.h>

#include "policy/policy.h"
#include "policy/zk-error.h"
#include "signer/dname.h"
#include "signer/zone.h"

/* One record in canonical form. */
typedef struct rec_rr {
	uint8_t owner[DN_MAXLEN]; /* lowercase wire */
	uint16_t type;
	uint16_t rdlen;
	uint32_t ttl;
	uint8_t *rdata;           /* canonical wire RDATA, owned */
} rec_rr;

void rec_rr_clear(rec_rr *rr);
int rec_rr_copy(rec_rr *dst, const rec_rr *src);

uint64_t rec_id(const uint8_t *owner, uint16_t type, const uint8_t *rdata, uint16_t rdlen);
static inline uint64_t rec_rr_id(const rec_rr *rr)
{
	return rec_id(rr->owner, rr->type, rr->rdata, rr->rdlen);
}
/* 16 lowercase hex digits plus NUL. */
void rec_id_format(uint64_t id, char out[17]);
/* -EINVAL unless exactly 16 hex digits. */
int rec_id_parse(const char *s, uint64_t *ret);

/*
 * The fields of a write body {"name","type","content","ttl"}. With `partial` (PUT) any
 * field may be missing; otherwise name, type and content are required. Unknown fields,
 * wrong JSON types and a TTL outside 0..2^31-1 are ZK_E_INVALID_RECORD; a body that is
 * not a JSON object is ZK_E_BAD_REQUEST.
 */
typedef struct rec_body {
	char *name, *type, *content; /* owned; NULL when absent */
	bool has_ttl;
	uint32_t ttl;
} rec_body;

int rec_body_parse(const char *body, size_t len, bool partial, rec_body *out,
		   zk_error *reterr);
void rec_body_clear(rec_body *b);

/*
 * Name and type of a write (checked before the content, so that a write to a protected
 * type is refused as such whatever its content). `name` is relative to the apex, absolute
 * with the final dot, or "@" for the apex ("" is refused). ZK_E_INVALID_RECORD for a malformed name or
 * an unknown or meta type.
 */
int rec_parse_name(const char *name, const uint8_t *apex, uint8_t *out, zk_error *reterr);
int rec_parse_type(const char *type, uint16_t *ret, zk_error *reterr);

/*
 * RDATA of `type` from `content` (presentation form, one line; RFC 3597 "\# len hex" for
 * any type) into canonical wire form in rr (owner, type and ttl set by the caller).
 * ZK_E_INVALID_RECORD with a message naming the problem.
 */
int rec_parse_content(rec_rr *rr, const uint8_t *apex, const char *content,
		      zk_error *reterr);

/* An ldns_rr of `rr` for the rules (NULL on failure). With rdata NULL, no RDATA fields. */
ldns_rr *rec_rr_to_ldns(const rec_rr *rr);

/* Presentation form of rr's RDATA; out needs sgn_rdata_format_max(rdlen) bytes. */
int rec_rr_content(const rec_rr *rr, char *out);

/* ------------------------------------------------------------------------------------ */
/* The index of a zone's user records. */

typedef struct rec_set rec_set;

typedef struct rec_entry {
	uint64_t id;
	const uint8_t *owner;  /* lowercase wire, owned by the set */
	uint16_t type;
	uint16_t rdlen;
	uint32_t ttl;          /* of its RRset */
	const uint8_t *rdata;
} rec_entry;

int rec_set_new(const uint8_t *apex, const pol_policy *p, rec_set **ret);
rec_set *rec_set_free(rec_set *s);

/* The user records of a zone model (system records and DNSSEC types skipped). */
int rec_set_from_zone(const sgn_zone *z, const pol_policy *p, rec_set **ret);

/* Is this record a system record (SOA, DNSSEC type, a platform NS at the apex)? */
bool rec_is_system(const uint8_t *apex, const pol_policy *p, const uint8_t *owner,
		   uint16_t type, const uint8_t *rdata, uint16_t rdlen);

size_t rec_set_count(const rec_set *s);
/* A record with this id (one of them if several share it), or false. */
bool rec_set_get(const rec_set *s, uint64_t id, rec_entry *ret);
/* The record with this id: 0; -ENOENT; -ENOTUNIQ when more than one record has it. */
int rec_set_lookup(const rec_set *s, uint64_t id, rec_entry *ret);
/* This very record (owner, type and RDATA), or false. */
bool rec_set_find(const rec_set *s, const uint8_t *owner, uint16_t type, const uint8_t *rdata,
		  uint16_t rdlen, rec_entry *ret);
/* The TTL of the RRset (owner, type), or false when there is none. */
bool rec_set_rrset_ttl(const rec_set *s, const uint8_t *owner, uint16_t type, uint32_t *ret);

/* Add rr (its TTL becomes its RRset's); 0 added, 1 already there, -ENOMEM. A different
 * record with the same id stays: both are kept. */
int rec_set_add(rec_set *s, const rec_rr *rr);
/* Remove a record; 0, or -ENOENT. */
int rec_set_del(rec_set *s, const uint8_t *owner, uint16_t type, const uint8_t *rdata,
		uint16_t rdlen);

/* The rules' view of the set: every type at a name with its count. */
void rec_set_view(const rec_set *s, pol_zone_view *v, const ldns_rdf *apex);

/*
 * The records (in canonical order of owner, then type, then RDATA), optionally only those
 * at `owner` (NULL: all) and of `type` (0: all). *ret is a malloc'ed array of n entries
 * pointing into the set (valid until it changes).
 */
int rec_set_list(const rec_set *s, const uint8_t *owner, uint16_t type, rec_entry **ret,
		 size_t *ret_n);

/*
 * The same records, copied (each owning its RDATA) and in no particular order: O(n), for
 * a caller that sorts them elsewhere (rec_rrs_sort on a worker thread). *ret: malloc'ed,
 * freed with rec_rrs_free.
 */
int rec_set_copy(const rec_set *s, const uint8_t *owner, uint16_t type, rec_rr **ret,
		 size_t *ret_n);
/* Canonical order (owner, type, RDATA), as rec_set_list gives. */
void rec_rrs_sort(rec_rr *v, size_t n);
void rec_rrs_free(rec_rr *v, size_t n);

/* ------------------------------------------------------------------------------------ */
/* Changes, as journaled and as applied to the zone model. */

typedef enum rec_op_kind { REC_OP_ADD = 'A', REC_OP_DEL = 'D' } rec_op_kind;

typedef struct rec_op {
	uint64_t seq;      /* the journal sequence number of its write */
	rec_op_kind kind;
	rec_rr rr;
} rec_op;

void rec_ops_free(rec_op *ops, size_t n);

/*
 * The types of node `n` as the rules count them (pol_name_check): every type but the SOA
 * and the DNSSEC ones, with counts and sizes; at the apex the NS count leaves out the
 * platform's nameservers of policy `p`. Returns how many (at most max).
 */
size_t rec_node_types(const uint8_t *apex, const pol_policy *p, const sgn_node *n,
		      pol_type_count *out, size_t max);

/*
 * Apply changes to a zone model, in order: ADD puts the record in its RRset (and the
 * RRset's TTL to the record's), DEL takes it out (nothing if it is not there). A change
 * the rules would refuse on the name as it now is (a CNAME beside other data; with a
 * policy `p`, also pol_name_check: a DS left without its NS, a limit) is skipped with a
 * warning to `diag`: the API checked it against the zone as it was, and only a file edit
 * racing with it can make it fail here. Recomputes the structure. Returns the number of
 * changes that changed something, or -ENOMEM.
 */
int rec_apply(sgn_zone *z, const pol_policy *p, const rec_op *ops, size_t n,
	      const zk_diag *diag);
