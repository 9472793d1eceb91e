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
 *  krrsig, zrrsig, ds, waiting, created, publish, active, retire, remove, file} ...],
 *  "next_key_event": ISO time or null, "waiting": reason or null}
 */
json_t *sgn_keys_view(const ks_ring *ring);

/*
 * DS records the parent should hold: one per digest type of the policy (only `digest`
 * when not 0) for every KSK/CSK in the zone that is to stay. Array of {tag, algorithm, digest_type,
 * digest, record, ds_state}. NULL with *reterr on failure.
 */
json_t *sgn_ds_view(const ks_ring *ring, const pol_zone *zone, uint8_t digest,
		    zk_error *reterr);
