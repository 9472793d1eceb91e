/* SPDX-License-Identifier: MIT */
/*
 * signer/keyview.h -- a zone's keys as people and programs read them: the same JSON for
 * `GET /v1/zones/{zone}/keys`, `zonekeeper keys --json` and the tables built from it.
 */
#pragma once

#include <jansson.h>

#include "keystore/ring.h"
#include "policy/policy.h"

/*
 * Where key i stands, in one word: "generated" (not in the zone yet), "published"
 * (DNSKEY in, not signing), "active" (signing), "retiring" (replaced, still in the zone),
 * "removing" (DNSKEY withdrawn, caches may hold it).
 */
const char *sgn_key_phase(const ks_ring *ring, size_t i);

/*
 * {"keys": [ {tag, role, algorithm, algorithm_number, flags, state, goal, dnskey,
 *  krrsig, zrrsig, ds, waiting, created, publish, active, retire, remove,
 *  retire_planned, remove_planned, file} ...], "next_key_event": ISO time or null,
 *  "next_key_action": what happens then or null, "waiting": reason or null,
 *  "rollovers_pending": [role...]}
 *
 * With the zone's policy (`p`, may be NULL), an active key with a lifetime gets the times
 * its lifetime plans: retire_planned when its successor is made (Ipub before the lifetime
 * ends; "retire" is set then), remove_planned when a ZSK's DNSKEY is out of every cache
 * after it stopped signing (null for a KSK or CSK: that waits for the parent's DS). A
 * KSK's lifetime counts from its DS seen at the parent: none is planned before.
 */
json_t *sgn_keys_view(const ks_ring *ring, const pol_policy *p);

/*
 * DS records the parent should hold: one per digest type of the policy (only `digest`
 * when not 0) for every KSK/CSK in the zone that is to stay. Array of {tag, algorithm, digest_type,
 * digest, record, ds_state}. NULL with *reterr on failure.
 */
json_t *sgn_ds_view(const ks_ring *ring, const pol_zone *zone, uint8_t digest,
		    zk_error *reterr);
