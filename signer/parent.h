/* SPDX-License-Identifier: MIT */
/*
 * signer/parent.h -- is the DS of a key published at the parent? Asks every parental
 * agent of a zone for the zone's DS RRset and compares it with the DS that given DNSKEYs
 * would have, for the KSK rollover gates (RFC 7583 §3.3.2 "Double-DS"/"Double-KSK"):
 *
 *   - a new KSK's DS must be seen at EVERY parental agent before the old KSK may go
 *     (SGN_DS_PUBLISHED for the new key);
 *   - an old KSK's DS must be gone from EVERY parental agent before the old KSK is removed
 *     (SGN_DS_ABSENT for the old key).
 *
 * Anything in between (SGN_DS_MIXED) means the parent is still propagating; an agent that
 * does not give a usable answer makes the whole check SGN_DS_UNKNOWN, never a guess.
 *
 * The call blocks: agents are asked one after the other, each for at most
 * 2 x timeout_ms per transport (a first try and one retry; the TCP fallback after a
 * truncated answer adds the same again). The daemon runs it off its event loop.
 * Nothing here logs, reads the clock or keeps state between calls; it is thread-safe.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "policy/policy.h"   /* pol_notify_target { char *address; uint16_t port; } */
#include "policy/zk-error.h" /* zk_error */

typedef enum sgn_ds_seen {
	SGN_DS_UNKNOWN = 0, /* not checked (an agent did not answer) */
	SGN_DS_PUBLISHED,   /* every agent serves a DS matching the key */
	SGN_DS_ABSENT,      /* no agent serves a DS matching the key */
	SGN_DS_MIXED,       /* some do, some do not (propagation in progress) */
	_SGN_DS_SEEN_MAX,
} sgn_ds_seen;

/* "unknown" "published" "absent" "mixed"; "invalid" for a value out of range. */
const char *sgn_ds_seen_name(sgn_ds_seen s);

/*
 * Query each agent (UDP, TCP when truncated; RD=0; `timeout_ms` per query, one retry) for
 * `zone` DS (zone absolute presentation form, e.g. "example.com.") and set ret_seen[i]
 * for each of the n_keys DNSKEY rdatas (wire form). A DS matches a key when key tag,
 * algorithm and digest agree (digest types 1, 2 and 4 are computed; a DS of another digest
 * type matches nothing). NOERROR with no DS and NXDOMAIN/NODATA mean "no DS".
 *
 * An answer counts only if it is the answer to our query (same ID, QR set, question
 * `zone` DS IN) and authoritative (AA set): a referral, or a cached answer from a resolver,
 * says nothing about what the parent serves. A "no DS" answer whose SOA is the zone's own
 * comes from the child's servers, not the parent's, and is refused too. Records of other
 * owners, classes or types in the answer section are ignored.
 *
 * Returns 0 when every agent answered; otherwise ZK_E_... with a message naming the agent
 * and the reason ("parental agent 127.0.0.1@5300: no answer within 2000 ms",
 * "... answered REFUSED") and every ret_seen[] set to SGN_DS_UNKNOWN.
 * n_agents == 0 is an error too (nothing to ask).
 *
 * Errors: ZK_E_UNAVAILABLE when an agent did not answer or its answer is unusable;
 * ZK_E_CONFIG for no agents or an agent address that is not a numeric IPv4/IPv6 address;
 * ZK_E_KEY for a DNSKEY rdata too short to be one; -EINVAL for a bad zone name, a zero
 * timeout or NULL arrays; -ENOMEM; ZK_E_CRYPTO if a digest cannot be computed.
 *
 * Borrowed: every pointer parameter, for the duration of the call. ret_seen has n_keys
 * elements (may be NULL when n_keys is 0).
 */
int sgn_parent_ds_check(const char *zone, const pol_notify_target *agents, size_t n_agents,
			const uint8_t *const *dnskeys, const size_t *dnskey_lens, size_t n_keys,
			unsigned timeout_ms, sgn_ds_seen *ret_seen, zk_error *reterr);
