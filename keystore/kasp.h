/* SPDX-License-Identifier: MIT */
/*
 * keystore/kasp.h -- the key-state model of rollovers (invariant 10; the "flexible and
 * robust key rollover" model of Mekking et al., as OpenDNSSEC 2 and BIND's dnssec-policy
 * implement it).
 *
 * Every key has a goal (in the zone, or gone) and a state per record type it brings:
 * its DNSKEY, its RRSIGs over the DNSKEY RRset (KRRSIG), its RRSIGs over zone data
 * (ZRRSIG) and its DS at the parent. A state moves hidden -> rumoured -> omnipresent ->
 * unretentive -> hidden. A move is taken only when
 *   - the policy approves it (pre-publication for ZSKs, double-KSK for KSKs, signatures
 *     first for a new algorithm),
 *   - it keeps each of the three chain-of-trust rules that holds now (a DS exists; a DNSKEY
 *     chain from the DS; signatures under a published DNSKEY), for every cache state, and
 *   - its time has come: to omnipresent or hidden only after the TTLs and delays of RFC
 *     7583, and for a DS only after the parent was seen to publish or withdraw it.
 * So a rollover cannot break validation whatever the clock or the parent does; at worst it
 * waits.
 *
 * Pure: no I/O, no clock (`now` is a parameter), no allocation. The caller stores the
 * states with the keys and acts on them (publish a DNSKEY in states rumoured/omnipresent,
 * sign with a key whose ZRRSIG is rumoured/omnipresent, publish CDS while a DS is
 * rumoured...).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "keystore/keystore.h"
#include "policy/zk-time.h"

typedef enum ks_state {
	KS_NA = 0,        /* the key has no such record (a ZSK has no DS) */
	KS_HIDDEN,
	KS_RUMOURED,      /* introduced: some caches have it */
	KS_OMNIPRESENT,   /* every cache that has the RRset has it */
	KS_UNRETENTIVE,   /* withdrawn: some caches still have it */
} ks_state;

enum { KS_DNSKEY, KS_ZRRSIG, KS_KRRSIG, KS_DS, KS_NREC };

typedef struct ks_kstate {
	uint16_t tag;
	uint8_t alg;
	ks_role role;
	bool goal;                 /* true: omnipresent; false: hidden */
	ks_state st[KS_NREC];
	zk_time_t last[KS_NREC];   /* when each state last changed */
	int pred;                  /* index of the key this one replaces, -1 if none */
	zk_time_t ds_published;    /* the parent was seen serving this key's DS (0: not) */
	zk_time_t ds_withdrawn;    /* the parent was seen no longer serving it (0: not) */
	zk_time_t active_at;       /* its lifetime runs from here (set by ks_kasp_update):
				      a ZSK or CSK when it starts signing the zone, a KSK
				      when its DS is in every cache */
} ks_kstate;

/* The delays of RFC 7583, in seconds. */
typedef struct ks_kasp_params {
	uint32_t dnskey_ttl;       /* TTLkey */
	uint32_t dprp;             /* Dprp: primary to every secondary */
	uint32_t publish_safety;
	uint32_t retire_safety;
	uint32_t max_zone_ttl;     /* TTLsig */
	uint32_t sign_delay;       /* Dsgn: until every RRset carries the new key's RRSIG */
	uint32_t ds_ttl;           /* TTLds */
	uint32_t dprp_parent;      /* DprpP */
	bool insecure;             /* going insecure: the DS goes (rule 1 is given up) */
} ks_kasp_params;

/* A new key: the records its role brings hidden, the goal omnipresent. */
void ks_kstate_init(ks_kstate *k, uint16_t tag, uint8_t alg, ks_role role, int pred,
		    zk_time_t now);

/* The three rules for the key ring as it is (per algorithm of keys[i]). */
bool ks_kasp_rules_hold(const ks_kstate *keys, size_t n, size_t i);

/* Would moving record `rec` of keys[i] to `next` keep every rule that holds now? */
bool ks_kasp_allowed(const ks_kstate *keys, size_t n, size_t i, int rec, ks_state next);

/*
 * A chain of trust of keys[i]'s algorithm exists, or its DS is asked for: a new key of the
 * algorithm is then introduced by pre-publication. Before (a zone newly signed), its
 * signatures go with its DNSKEY, as for a new algorithm.
 */
bool ks_kasp_has_chain(const ks_kstate *keys, size_t n, size_t i);

/* The policy's extra conditions on a move to rumoured. */
bool ks_kasp_approved(const ks_kstate *keys, size_t n, size_t i, int rec, ks_state next);

/* The state a record moves to next for the key's goal (itself when none). */
ks_state ks_kasp_next_state(bool goal, ks_state s);

/*
 * Earliest time the move may be taken: `now` for moves to rumoured or unretentive; the
 * RFC 7583 interval after the last change for moves to omnipresent or hidden; 0 when it
 * waits for the parent (a DS not yet seen published or withdrawn).
 */
zk_time_t ks_kasp_when(const ks_kstate *keys, size_t n, size_t i, int rec, ks_state next,
		       const ks_kasp_params *p, zk_time_t now);

/* A move: record `rec` of keys[key] to state `next`. */
typedef struct ks_kasp_move {
	int key; /* -1: none */
	int rec;
	ks_state next;
} ks_kasp_move;

/*
 * Take every move that is approved, allowed and due at `now`, until none is left.
 * Returns the number taken. *ret_next: the earliest future time a move falls due (0 if
 * none), and *ret_move (may be NULL) that move; *ret_waits_parent: some move waits for a
 * DS to be seen at the parent.
 */
size_t ks_kasp_update(ks_kstate *keys, size_t n, const ks_kasp_params *p, zk_time_t now,
		      zk_time_t *ret_next, ks_kasp_move *ret_move, bool *ret_waits_parent);

/*
 * Rollovers due by key lifetime (0: never). A ZSK's successor is introduced Ipub before the
 * ZSK's lifetime ends (pre-publication, RFC 7583 §3.2.1: Tpub(N+1) <= Tact(N) + Lzsk -
 * Ipub); a KSK's IpubC before (§3.3.1, with Dreg unknown and so 0); a CSK uses the KSK
 * lifetime. Returns a bit per role due now (1 << KS_ROLE_*): the caller generates the
 * successor (pred = the index ks_kasp_active() gives) and sets the old key's goal to
 * hidden. *ret_next: when the next one falls due (0: none), and of which role.
 */
unsigned ks_kasp_rolls_due(const ks_kstate *keys, size_t n, const ks_kasp_params *p,
			   uint32_t ksk_lifetime, uint32_t zsk_lifetime, zk_time_t now,
			   zk_time_t *ret_next, ks_role *ret_next_role);

/* The key of `role` whose goal is to be in the zone (the newest one), or -1. */
int ks_kasp_active(const ks_kstate *keys, size_t n, ks_role role);

/* "hidden", "rumoured", "omnipresent", "unretentive", "-" */
const char *ks_state_name(ks_state s);
