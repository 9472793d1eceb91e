/* SPDX-License-Identifier: MIT */
/*
 * signer/verify.h -- is a signed zone valid? Used before every publication (a zone that
 * fails is never published) and by `zonekeeper verify`.
 *
 * Always (structural, cheap): SOA, NS and DNSKEY at the apex; every authoritative RRset
 * signed by every algorithm of the DNSKEY RRset (RFC 4035 §2.2) with a signature whose
 * key tag names a DNSKEY, whose signer is the apex, whose type, labels and original TTL
 * match, and whose validity window contains `now` (+ min_remaining); no signature over
 * delegation NS or glue; no orphan signature; the NSEC or NSEC3 chain complete (every name
 * that needs a record has one, nothing else does), closed, and with exact bitmaps
 * (invariants 6, 14, 18).
 *
 * Cryptographic verification, by level:
 *   sample: every signature over DNSKEY, CDS and CDNSKEY; each key's first signatures in
 *           zone order; `sample` more signatures picked at random.
 *   full:   every signature (as dnssec-signzone's post-sign check does; ~3x the cost of
 *           signing with ECDSA).
 * With trust anchors (DS RDATA), a DNSKEY matching one of them must sign the DNSKEY RRset.
 *
 * With z->dirty_only (an incremental publication, see zone.h) only the dirty names and
 * NSEC3 records get these checks; the denial chain gets its cheap whole-chain checks
 * (order, links, count) and the dirty names their records checked against recomputed
 * hashes and bitmaps.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "policy/zk-error.h"
#include "policy/zk-time.h"
#include "signer/zone.h"

#define SGN_VERIFY_MAX_PROBLEMS 20

typedef struct sgn_verify_opts {
	zk_time_t now;
	bool full;               /* verify every signature cryptographically */
	uint32_t sample;         /* sample level: random signatures verified (default 1000) */
	uint32_t first_per_key;  /* sample level: first signatures of each key (default 16) */
	bool new_sigs;           /* also every signature the last signing pass made */
	uint32_t min_remaining;  /* seconds of validity each signature must have left */
	unsigned threads;        /* 0: available cores */
	const uint8_t *const *anchors; /* DS RDATA (optional) */
	const uint16_t *anchor_lens;
	size_t n_anchors;
	/*
	 * DNSKEY RDATA of keys that sign ahead of their DNSKEY (an algorithm rollover: the
	 * new algorithm's signatures come first, RFC 6781 §4.1.4). Their signatures are
	 * checked like the others; they need not cover anything.
	 */
	const uint8_t *const *extra_keys;
	const uint16_t *extra_key_lens;
	size_t n_extra_keys;
} sgn_verify_opts;

typedef struct sgn_verify_report {
	size_t names, rrsets, signatures;
	size_t verified;         /* signatures checked cryptographically */
	size_t ignored;          /* by an algorithm the DNSKEY RRset lacks (see verify.c) */
	size_t denial_records;
	bool nsec3;
	zk_time_t earliest_expiry;
	unsigned n_problems;     /* total found */
	char problems[SGN_VERIFY_MAX_PROBLEMS][320]; /* the first ones */
} sgn_verify_report;

/*
 * Check `z`. Returns 0 when valid, ZK_E_VERIFY when not (reterr holds the first problem,
 * rep all of them up to SGN_VERIFY_MAX_PROBLEMS), another code when the check itself
 * could not run.
 */
int sgn_zone_verify(const sgn_zone *z, const sgn_verify_opts *o, sgn_verify_report *rep,
		    zk_error *reterr);
