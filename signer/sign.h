/* SPDX-License-Identifier: MIT */
/*
 * signer/sign.h -- RRSIG generation over a zone: decides, per authoritative RRset, which
 * signatures to keep and which to make, and makes them on every core.
 *
 * A signature is kept when it was made by a key that must sign this RRset now, its
 * inception is not in the future, it still has more than the refresh window left, and it
 * matches the RRset's TTL and label count. Every other signature is dropped, and each
 * required key without a kept signature signs. So a first signing, a re-sign after a
 * change, a refresh and a key change are the same operation: only what is due is made.
 *
 * Expirations and batches (RFC 6781 §4.4.2). A zone's signatures expire at a place in the
 * jitter window that its name decides (sgn_zone_jitter), give or take a small
 * per-signature part, so zones signed at the same moment come due spread over the window
 * and stay where they are across restarts. A refresh run (sgn_sign_params.batch) re-signs
 * every signature that would come due before the ones it makes: one publication per zone
 * per refresh period, whatever edits came in between, instead of one for every hour the
 * zone's expirations are spread over.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "keystore/keystore.h"
#include "policy/zk-error.h"
#include "policy/zk-time.h"
#include "signer/zone.h"

typedef struct sgn_sign_params {
	zk_time_t now;
	uint32_t validity;         /* seconds */
	uint32_t refresh;          /* re-sign when no more than this remains */
	/*
	 * Expirations spread over [validity - jitter, validity]: now + validity - the zone's
	 * part (sgn_zone_jitter) - a per-signature part below sgn_jitter_per_sig(jitter).
	 * The jitter is cut to validity - refresh - 1 if longer, so a new signature is never
	 * due at once. 0: every signature expires exactly `validity` after `now`.
	 */
	uint32_t jitter;
	/*
	 * A refresh run batches: when a signature looked at has no more than `refresh` left,
	 * every signature that would come due before the ones this run makes is re-signed too
	 * (all but those made within the last sgn_jitter_per_sig(jitter) seconds), so the zone's
	 * next refresh is about a whole period away. A run with nothing due (an edit) keeps
	 * the plain window and re-signs only what changed. False: only what is due.
	 */
	bool batch;
	uint32_t inception_offset; /* inception = now - this */
	unsigned threads;          /* 0: one per available core */
	/* Keys that sign now (borrowed): the DNSKEY, CDS and CDNSKEY RRsets are signed by
	 * `ksks`, every other authoritative RRset by `zsks` (a CSK is in both). */
	ks_key *const *ksks;
	size_t n_ksks;
	ks_key *const *zsks;
	size_t n_zsks;
	_Atomic unsigned *permille; /* if not NULL: the share of RRsets looked at, in 1/1000 */
} sgn_sign_params;

typedef struct sgn_sign_stats {
	size_t rrsets;     /* authoritative RRsets looked at (denial records included) */
	size_t kept;       /* signatures kept */
	size_t dropped;    /* signatures dropped (due, wrong key, stale data) */
	size_t made;       /* signatures made */
	size_t rrsets_signed; /* RRsets that got at least one new signature */
	zk_time_t earliest_expiry; /* of all signatures in the zone after signing */
	zk_time_t next_refresh;    /* when the first kept or new signature becomes due */
} sgn_sign_stats;

/*
 * Sign what is due in `z` (denial records must be in place already); with z->dirty_only
 * only the RRsets of dirty names and dirty NSEC3 records are looked at. On failure the zone
 * may be partly signed: it must not be published (the caller drops this version).
 */
int sgn_sign_zone(sgn_zone *z, const sgn_sign_params *p, sgn_sign_stats *stats,
		  zk_error *reterr);

/*
 * The per-signature part of the jitter: expirations of the signatures one run makes spread
 * over this many seconds (jitter / 16: 45 minutes of the default 12 hours).
 */
static inline uint32_t sgn_jitter_per_sig(uint32_t jitter)
{
	return jitter / 16;
}

/*
 * The zone's part of the jitter, in seconds before `validity`: a hash of its apex name
 * `apex` (wire, case-insensitive), uniform over [0, jitter - sgn_jitter_per_sig(jitter)].
 * A pure function of the name and the jitter: the same on every run, every restart and
 * every host, so many zones signed at one moment come due as a steady stream over the
 * window and keep their places. 0 when jitter is 0.
 */
uint32_t sgn_zone_jitter(const uint8_t *apex, uint32_t jitter);

/* splitmix64: a fast per-thread PRNG for jitter and sampling (not for keys). */
static inline uint64_t sgn_splitmix64(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* Number of threads to use for `requested` (0 = available cores). */
unsigned sgn_thread_count(unsigned requested);

/*
 * Build the RFC 4034 §3.1.8.1 signed data of an RRset into *buf (grown as needed):
 * `rrsig_hdr` is the RRSIG RDATA without the signature (18 bytes + signer name),
 * `owner` the owner name (lowercase wire). Returns the length or -ENOMEM.
 */
int sgn_signed_data(const uint8_t *rrsig_hdr, size_t hdr_len, const uint8_t *owner,
		    const sgn_rrset *s, uint32_t ttl, uint8_t **buf, size_t *cap);
