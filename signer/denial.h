/* SPDX-License-Identifier: MIT */
/*
 * signer/denial.h -- authenticated denial of existence: the NSEC chain (RFC 4034 §4,
 * RFC 4035 §2.3) or the NSEC3 chain (RFC 5155 §7.1) of a zone, with exact type bitmaps.
 *
 * The chain is rebuilt from the zone's names in one pass (no crypto), and every record
 * whose owner, TTL and RDATA are unchanged from the previous version keeps its
 * signatures: a change re-signs only the denial records whose neighbours or bitmaps
 * changed. With z->dirty_only the chain is updated rather than rebuilt: only records of
 * dirty names, new records and those whose next owner changed are made again (and
 * marked dirty).
 */
#pragma once

#include <stdint.h>

#include "policy/zk-error.h"
#include "signer/zone.h"

typedef struct sgn_denial_params {
	bool nsec3;           /* false: NSEC */
	uint16_t iterations;  /* NSEC3 */
	uint8_t salt_len;
	const uint8_t *salt;
	bool opt_out;         /* NSEC3: insecure delegations get no NSEC3 record */
	uint32_t ttl;         /* RFC 9077: min(SOA MINIMUM, SOA TTL) */
	unsigned threads;     /* for hashing; 0 = available cores */
} sgn_denial_params;

/*
 * Replace the zone's denial records by a chain built from its current names (call after
 * sgn_zone_structure). For NSEC3 the NSEC3PARAM RRset at the apex is set too; for NSEC it
 * is removed. Signatures of unchanged records are taken over from `old` (may be NULL).
 * ZK_E_ZONE_CONTENT if two names hash to the same NSEC3 owner.
 */
int sgn_denial_build(sgn_zone *z, const sgn_denial_params *p, sgn_zone *old,
		     zk_error *reterr);

/*
 * Per name of the zone (z->nodes order): whether it may be left out of an NSEC3 chain with
 * opt-out (RFC 5155 §7.1): an insecure delegation, or an empty non-terminal that exists
 * only because of such delegations. The signer leaves them all out, the verifier accepts
 * them either way. All false without opt-out. A calloc'ed array, or NULL (no memory).
 */
bool *sgn_nsec3_optional(const sgn_zone *z, bool opt_out);

/* The NSEC3 hash (RFC 5155 §5) of a lowercase wire name; out needs 20 bytes. */
int sgn_nsec3_hash(const uint8_t *name, const uint8_t *salt, uint8_t salt_len,
		   uint16_t iterations, uint8_t *out);

/* Hash the names of n3[i].node into n3[i].hash, on `p->threads` threads. */
int sgn_nsec3_hash_all(sgn_n3 *n3, size_t n, const sgn_denial_params *p);

/*
 * The exact set of types for the bitmap of `n` (RFC 4034 §4.1.2): the authoritative RRset
 * types at the name (at a delegation only NS and DS), plus RRSIG when something there is
 * signed, plus NSEC for NSEC chains. Returns the count written to `types` (sorted).
 */
size_t sgn_denial_types(const sgn_node *n, bool nsec3, uint16_t *types, size_t max);
