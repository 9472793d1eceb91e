/* SPDX-License-Identifier: MIT */
/*
 * keystore/ring.h -- the key ring of one zone: its keys, the state of each (keystore/kasp.h)
 * and the policy that moves them, kept in one file beside the keys.
 *
 * One step (ks_ring_step) does what the policy asks at `now`: the first keys of a new
 * zone, a successor when a lifetime runs out or an operator asks for a rollover, new keys
 * when the policy's algorithm changed, then every state move the model allows, and the
 * keys that left the zone for good. The signer then publishes and signs from the states
 * (ks_ring_publishes, ks_ring_signs_zone, ...).
 *
 * Durability (invariants 22, 23): a key is generated (and written durably) before the ring
 * that names it is saved; a key found in the store but not in the ring, made after the ring
 * was last saved, is the one an interrupted step generated and is taken back as that
 * step's successor, so a crash never generates a key twice nor skips a step. Keys found
 * in a store that has no ring yet (made by an earlier version, or imported) are adopted by
 * their timing metadata: a key active at `now` is taken as established everywhere,
 * its DS included (the safe assumption: its removal then waits for the parent).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "keystore/kasp.h"
#include "keystore/keystore.h"
#include "policy/policy.h"

#define KS_RING_MAX 16
/*
 * Slots the policy's own key generation (lifetimes, an algorithm change) leaves free, so
 * that an operator's emergency rollover always finds room: one per role of a KSK+ZSK
 * zone. A policy rollover that would take them waits until keys have left.
 */
#define KS_RING_RESERVED 2

/* What happens at a ring's next key event (zeroed: nothing planned). */
typedef enum ks_ring_ev_kind {
	KS_RING_EV_NONE = 0,
	KS_RING_EV_MOVE, /* record `rec` of the key moves to `next` */
	KS_RING_EV_NEW,  /* a successor of the key is made: its lifetime ends */
} ks_ring_ev_kind;

typedef struct ks_ring_event {
	ks_ring_ev_kind kind;
	int rec;
	ks_state next;
	uint8_t alg;
	uint16_t tag;
	ks_role role;
} ks_ring_event;

typedef struct ks_ring {
	ks_kstate k[KS_RING_MAX];
	ks_key *key[KS_RING_MAX]; /* borrowed from the store (NULL when not attached) */
	size_t n;
	bool insecure;            /* going insecure: every key's goal is to leave */
	zk_time_t saved;          /* when it was last saved; 0 for a ring never saved */
	zk_time_t next;           /* the next key event the last step saw (0: none) */
	ks_ring_event ev;         /* what happens then */
	unsigned pending;         /* roles (1 << KS_ROLE_*) an operator asked to roll whose
				   * rollover waits for the current key (see ks_ring_step) */
} ks_ring;

/* What the policy asks of the ring. */
typedef struct ks_ring_policy {
	ks_kasp_params kp;
	uint8_t algorithm;
	bool csk;
	uint32_t ksk_lifetime, zsk_lifetime; /* 0: manual */
	bool insecure;            /* every key leaves (kp.insecure too) */
} ks_ring_policy;

void ks_ring_policy_from(const pol_policy *p, ks_ring_policy *ret);

/* What a step did and what it waits for. */
typedef struct ks_ring_report {
	size_t moves;              /* state changes taken */
	size_t generated;
	uint16_t generated_tags[4];
	size_t removed;            /* keys that left the ring: archive them once it is saved */
	uint16_t removed_tags[KS_RING_MAX];
	ks_key *removed_keys[KS_RING_MAX]; /* borrowed from the store (NULL: not attached) */
	size_t retimed;            /* keys whose timing metadata changed: save them then too */
	ks_key *retimed_keys[KS_RING_MAX];
	zk_time_t next;            /* earliest future event (0: none) */
	bool waits_parent;         /* a DS move waits for the parent */
	unsigned deferred;         /* roles (1 << KS_ROLE_*) whose policy rollover waits for
				      a free slot (KS_RING_RESERVED) */
	unsigned pending;          /* roles whose requested rollover waits (r->pending) */
} ks_ring_report;

/* Make a key of `role` and `alg` in the store; the key is borrowed from it. */
typedef int (*ks_ring_gen_fn)(void *userdata, ks_role role, uint8_t alg, zk_time_t now,
			      ks_key **ret, zk_error *reterr);

/* Read `path` into *r (an empty ring, saved = 0, when the file does not exist). */
int ks_ring_load(const char *path, ks_ring *r, zk_error *reterr);

/* Write *r to `path` atomically and durably; r->saved = now. */
int ks_ring_save(const char *path, ks_ring *r, zk_time_t now, zk_error *reterr);

/*
 * Tie the ring's entries to the keys of `s` and take in keys it does not know (see the
 * header comment). An entry whose key is missing from the store is an error: its DNSKEY
 * may be in caches and there is no private key to sign with (invariant 22).
 * Returns the number of keys taken in, or a negative code.
 */
int ks_ring_attach(ks_ring *r, ks_store *s, const ks_ring_policy *rp, zk_time_t now,
		   zk_error *reterr);

/*
 * One step at `now`. `roll` is a bit per role (1 << KS_ROLE_*) an operator asked to roll;
 * only these may take the last KS_RING_RESERVED slots of the ring (the policy's own
 * rollovers wait then: rep->deferred). A ZSK or CSK rollover asked for starts by
 * pre-publication, and so waits (r->pending, saved with the ring) while the zone is young:
 * until its keys are in every cache and its DS is asked for, there is no chain of trust,
 * a new key signs with its DNSKEY (as for a new algorithm, ks_kasp_has_chain), and both
 * keys would sign every RRset until the old key's signatures are gone from every cache
 * (a week and more). The roles in `at_once` (an emergency: the key is lost or
 * compromised) start at once whatever the current key's age, with those double
 * signatures. `gen` makes keys (ks_ring_gen_store in the signer;
 * a fake in the simulator). Keys that left the zone for good are dropped from the ring
 * and listed in the report; the caller archives them (ks_store_archive) after saving the
 * ring, so that a crash between the two leaves a ring that still loads. The keys'
 * BIND-style timing metadata follows the states (publish, active, retire, remove); the
 * keys whose metadata changed are listed too, to be saved (ks_store_save) after the ring.
 *
 * Save the ring only once what it says is published (or nothing had to be): a move to
 * rumoured counts time from the step, and a crash before the save only makes the next
 * step take the same moves later, which is always safe.
 */
int ks_ring_step(ks_ring *r, const ks_ring_policy *rp, unsigned roll, unsigned at_once,
		 zk_time_t now, ks_ring_gen_fn gen, void *userdata, ks_ring_report *rep,
		 zk_error *reterr);

/* The generator of the signer: ks_store_generate in `userdata` (a ks_store *). */
int ks_ring_gen_store(void *userdata, ks_role role, uint8_t alg, zk_time_t now, ks_key **ret,
		      zk_error *reterr);

/*
 * The parent was seen serving (published) or not serving the DS of key i. Counts only
 * when the key's DS waits for it: a DS that was submitted (rumoured) and is now seen
 * everywhere, or one withdrawn (unretentive) and now gone everywhere. Returns true when
 * it counted.
 */
bool ks_ring_ds_observed(ks_ring *r, size_t i, bool published, zk_time_t now);

/*
 * An operator says the DS of the key with `tag` is at the parent (published) or gone.
 * ZK_E_KEY_NOT_FOUND for no such key; ZK_E_CONFLICT when that key's DS is not waiting for
 * that (the message says what it waits for).
 */
int ks_ring_ds_seen(ks_ring *r, uint16_t tag, bool published, zk_time_t now,
		    zk_error *reterr);

/* What the signer does with key i. */
bool ks_ring_publishes(const ks_ring *r, size_t i);  /* DNSKEY in the zone */
bool ks_ring_signs_zone(const ks_ring *r, size_t i); /* RRSIGs over zone data */
bool ks_ring_signs_keys(const ks_ring *r, size_t i); /* RRSIGs over DNSKEY/CDS/CDNSKEY */
bool ks_ring_cds(const ks_ring *r, size_t i);        /* in CDS/CDNSKEY (invariant 15) */
/* Going insecure with a DS still possibly at the parent: CDS/CDNSKEY delete (RFC 8078). */
bool ks_ring_cds_delete(const ks_ring *r);

/*
 * A rollover of `role` in progress: a key of that role other than its active one (the
 * newest whose goal is the zone) is still in the ring. Returns that key's index, or -1.
 * *why (size >= 160) says what the rollover waits for.
 */
int ks_ring_rolling(const ks_ring *r, ks_role role, char *why, size_t size);

/* A waiting key's reason ("waiting for DS 12345 at the parent"), or NULL; buf >= 96. */
const char *ks_ring_waiting(const ks_ring *r, size_t i, char *buf, size_t size);
/* Some key waits for the parent (ks_ring_waiting gives a reason for it). */
bool ks_ring_waits_parent(const ks_ring *r);

/* What the next key event does, for a person: "ZSK 31613 starts signing the zone"; ""
 * when nothing is planned. buf >= 96. */
const char *ks_ring_event_text(const ks_ring *r, char *buf, size_t size);

/* One line for status: the first key's reason, or a requested rollover's wait, or ""
 * when nothing waits; buf >= 160. */
const char *ks_ring_status(const ks_ring *r, char *buf, size_t size);
