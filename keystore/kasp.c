/* SPDX-License-Identifier: MIT */
/*
 * keystore/kasp.c -- see kasp.h. The rule numbers (3a-3i) are those of "Flexible and
 * Robust Key Rollover" (Mekking et al.) and invariant 10.
 *
 * A "pattern" names a state per record type; ANY matches every state, and HIDDEN also
 * matches a record the key does not have. Patterns are checked against the key ring as it
 * would be after the proposed move (record `rec` of key `subj` in state `next`).
 */
#include <string.h>

#include "keystore/kasp.h"
#include "policy/zk-macro.h"

#define ANY 0xff /* pattern entry: any state */
#define NOMOVE ((ks_state) 0xfe)

typedef struct move {
	size_t subj;
	int rec;
	ks_state next; /* NOMOVE: the ring as it is */
} move;

typedef struct pattern {
	uint8_t st[KS_NREC]; /* DNSKEY, ZRRSIG, KRRSIG, DS */
} pattern;

#define O KS_OMNIPRESENT
#define R KS_RUMOURED
#define U KS_UNRETENTIVE
#define H KS_HIDDEN
#define A ANY

static ks_state state_of(const ks_kstate *keys, size_t k, int rec, const move *mv)
{
	if (mv->next != NOMOVE && k == mv->subj && rec == mv->rec)
		return mv->next;
	return keys[k].st[rec];
}

static bool match(const ks_kstate *keys, size_t k, const pattern *p, const move *mv)
{
	for (int r = 0; r < KS_NREC; r++) {
		ks_state s;

		if (p->st[r] == ANY)
			continue;
		s = state_of(keys, k, r, mv);
		if (s == KS_NA) {
			if (p->st[r] != KS_HIDDEN)
				return false;
			continue;
		}
		if (s != p->st[r])
			return false;
	}
	return true;
}

/* z directly succeeds x (the successor relation of the rules, "Equation 2"). */
static bool succeeds(const ks_kstate *keys, size_t x, size_t z)
{
	return keys[z].pred >= 0 && (size_t) keys[z].pred == x;
}

/*
 * Some key (of the subject's algorithm when `same_alg`) matches p; with p2, that key has
 * a successor matching p2.
 */
static bool exists(const ks_kstate *keys, size_t n, const move *mv, const pattern *p,
		   const pattern *p2, bool same_alg)
{
	uint8_t alg = keys[mv->subj].alg;

	for (size_t d = 0; d < n; d++) {
		if (same_alg && keys[d].alg != alg)
			continue;
		if (!match(keys, d, p, mv))
			continue;
		if (!p2)
			return true;
		for (size_t s = 0; s < n; s++)
			if (s != d && keys[s].alg == keys[d].alg && match(keys, s, p2, mv) &&
			    succeeds(keys, d, s))
				return true;
	}
	return false;
}

/* (3e) and "all DS hidden": every DS still in some cache has a DNSKEY chain under it. */
static bool ds_hidden_or_chained(const ks_kstate *keys, size_t n, const move *mv,
				 bool must_be_hidden)
{
	const pattern ds_hidden = { { A, A, A, H } }, chained = { { O, A, O, A } },
		      chain = { { O, A, O, O } };
	uint8_t alg = keys[mv->subj].alg;

	for (size_t d = 0; d < n; d++) {
		if (keys[d].alg != alg || match(keys, d, &ds_hidden, mv))
			continue;
		if (must_be_hidden)
			return false;
		if (match(keys, d, &chained, mv))
			continue;
		if (!exists(keys, n, mv, &chain, NULL, true))
			return false;
	}
	return true;
}

/* (3i): every DNSKEY still in some cache has signatures made with a key in its state. */
static bool dnskey_hidden_or_chained(const ks_kstate *keys, size_t n, const move *mv)
{
	const pattern dnskey_hidden = { { H, A, A, A } };
	uint8_t alg = keys[mv->subj].alg;

	for (size_t d = 0; d < n; d++) {
		pattern chained = { { A, O, A, A } };

		if (keys[d].alg != alg || match(keys, d, &dnskey_hidden, mv))
			continue;
		/* the DNSKEY state as it is now: a key that keeps that state must sign */
		chained.st[KS_DNSKEY] = (uint8_t) (keys[d].st[KS_DNSKEY] == KS_NA
							   ? KS_HIDDEN
							   : keys[d].st[KS_DNSKEY]);
		if (!exists(keys, n, mv, &chained, NULL, true))
			return false;
	}
	return true;
}

/* Rule 1 (3a): a DS is published or being introduced. */
static bool have_ds(const ks_kstate *keys, size_t n, const move *mv)
{
	const pattern omni = { { A, A, A, O } }, rum = { { A, A, A, R } };

	return exists(keys, n, mv, &omni, NULL, false) || exists(keys, n, mv, &rum, NULL, false);
}

/* Rule 2 (3b-3e): a DNSKEY chain from the DS to the DNSKEY RRset. */
static bool have_dnskey(const ks_kstate *keys, size_t n, const move *mv)
{
	static const pattern all = { { O, A, O, O } };
	static const pattern ds_p = { { O, A, O, U } }, ds_s = { { O, A, O, R } };
	static const pattern key_p[3] = { { { U, A, U, O } }, { { O, A, U, O } },
					  { { U, A, O, O } } };
	static const pattern key_s[3] = { { { R, A, R, O } }, { { O, A, R, O } },
					  { { R, A, O, O } } };

	if (exists(keys, n, mv, &all, NULL, true) || exists(keys, n, mv, &ds_p, &ds_s, true))
		return true;
	/* the DNSKEY and its KRRSIG move independently: every combination of the swap */
	for (int a = 0; a < 3; a++)
		for (int b = 0; b < 3; b++)
			if (exists(keys, n, mv, &key_p[a], &key_s[b], true))
				return true;
	return ds_hidden_or_chained(keys, n, mv, false);
}

/* Rule 3 (3f-3i): zone data signed by a key whose DNSKEY is published. */
static bool have_rrsig(const ks_kstate *keys, size_t n, const move *mv)
{
	static const pattern both = { { O, O, A, A } };
	static const pattern key_p = { { U, O, A, A } }, key_s = { { R, O, A, A } };
	static const pattern sig_p = { { O, U, A, A } }, sig_s = { { O, R, A, A } };

	return ds_hidden_or_chained(keys, n, mv, true) ||
	       exists(keys, n, mv, &both, NULL, true) ||
	       exists(keys, n, mv, &key_p, &key_s, true) ||
	       exists(keys, n, mv, &sig_p, &sig_s, true) || dnskey_hidden_or_chained(keys, n, mv);
}

bool ks_kasp_rules_hold(const ks_kstate *keys, size_t n, size_t i)
{
	move mv = { .subj = i, .rec = 0, .next = NOMOVE };

	return have_ds(keys, n, &mv) && have_dnskey(keys, n, &mv) && have_rrsig(keys, n, &mv);
}

/*
 * Going insecure, rule 1 (a DS exists) is given up on purpose: the DS is withdrawn, and
 * rules 2 and 3 keep the keys and signatures until no cache can hold it (BIND's
 * secure-to-insecure).
 */
static bool allowed(const ks_kstate *keys, size_t n, size_t i, int rec, ks_state next,
		    bool insecure)
{
	move now = { .subj = i, .rec = rec, .next = NOMOVE };
	move after = { .subj = i, .rec = rec, .next = next };
	bool r1a = !insecure && have_ds(keys, n, &now);
	bool r1b = insecure || have_ds(keys, n, &after);
	bool r2a = have_dnskey(keys, n, &now), r2b = have_dnskey(keys, n, &after);
	bool r3a = have_rrsig(keys, n, &now), r3b = have_rrsig(keys, n, &after);

	/* a broken rule may be mended, but never by withdrawing something more */
	if (next == KS_UNRETENTIVE && ((!r1a && !r1b) || (!r2a && !r2b) || (!r3a && !r3b)))
		return false;
	return (!r1a || r1b) && (!r2a || r2b) && (!r3a || r3b);
}

bool ks_kasp_allowed(const ks_kstate *keys, size_t n, size_t i, int rec, ks_state next)
{
	return allowed(keys, n, i, rec, next, false);
}

static bool other_algorithm_published(const ks_kstate *keys, size_t n, size_t i)
{
	for (size_t k = 0; k < n; k++)
		if (keys[k].alg != keys[i].alg &&
		    (keys[k].st[KS_DNSKEY] == KS_RUMOURED || keys[k].st[KS_DNSKEY] == KS_OMNIPRESENT))
			return true;
	return false;
}

/*
 * The last zone signatures of an algorithm stay while a DNSKEY of that algorithm may still
 * be in a cache (RFC 6781 §4.1.4, conservative; RFC 4035 §2.2: every algorithm of the
 * DNSKEY RRset signs every RRset). Another signer of the algorithm frees the key.
 */
static bool keeps_algorithm_signed(const ks_kstate *keys, size_t n, size_t i)
{
	for (size_t k = 0; k < n; k++)
		if (k != i && keys[k].alg == keys[i].alg &&
		    (keys[k].st[KS_ZRRSIG] == KS_RUMOURED || keys[k].st[KS_ZRRSIG] == KS_OMNIPRESENT))
			return true;
	for (size_t k = 0; k < n; k++)
		if (keys[k].alg == keys[i].alg && keys[k].st[KS_DNSKEY] != KS_HIDDEN &&
		    keys[k].st[KS_DNSKEY] != KS_NA)
			return false;
	return true;
}

/*
 * A chain of trust of this algorithm exists or is being swapped in (as the ring would be
 * after `mv`). A KSK whose DS was submitted but not yet seen counts as a chain: the parent
 * may well serve it already, and then a validator needs the usual pre-publication.
 */
static bool has_chain(const ks_kstate *keys, size_t n, const move *mv)
{
	static const pattern ksk_present = { { O, A, O, O } };
	static const pattern ds_retired = { { O, A, O, U } }, ds_rumoured = { { O, A, O, R } };
	static const pattern ksk_retired = { { U, A, A, O } }, ksk_rumoured = { { R, A, A, O } };

	return exists(keys, n, mv, &ksk_present, NULL, true) ||
	       exists(keys, n, mv, &ds_rumoured, NULL, true) ||
	       exists(keys, n, mv, &ds_retired, &ds_rumoured, true) ||
	       exists(keys, n, mv, &ksk_retired, &ksk_rumoured, true);
}

bool ks_kasp_has_chain(const ks_kstate *keys, size_t n, size_t i)
{
	move mv = { .subj = i, .rec = 0, .next = NOMOVE };

	return has_chain(keys, n, &mv);
}

bool ks_kasp_approved(const ks_kstate *keys, size_t n, size_t i, int rec, ks_state next)
{
	static const pattern signs_everywhere = { { A, O, A, A } };
	move mv = { .subj = i, .rec = rec, .next = next };
	ks_state dnskey = keys[i].st[KS_DNSKEY];
	bool new_alg = !has_chain(keys, n, &mv);

	if (rec == KS_ZRRSIG && next == KS_UNRETENTIVE)
		return keeps_algorithm_signed(keys, n, i);
	if (next != KS_RUMOURED)
		return true;
	switch (rec) {
	case KS_DNSKEY:
		/*
		 * Algorithm rollover (RFC 6781 §4.1.4, conservative): the new algorithm's
		 * DNSKEYs only once its signatures are in every cache, so that no validator
		 * sees an algorithm in the DNSKEY RRset without signatures of it.
		 */
		if (new_alg && other_algorithm_published(keys, n, i))
			return exists(keys, n, &mv, &signs_everywhere, NULL, true);
		return true;
	case KS_ZRRSIG:
		/* pre-publication: sign only once the DNSKEY is everywhere, unless the
		 * algorithm is new: then its signatures go first */
		return dnskey == KS_OMNIPRESENT || new_alg;
	case KS_KRRSIG:
		return dnskey != KS_HIDDEN && dnskey != KS_NA;
	case KS_DS:
		/* double-KSK: the DS goes to the parent once the DNSKEY is everywhere */
		return dnskey == KS_OMNIPRESENT;
	default:
		return false;
	}
}

ks_state ks_kasp_next_state(bool goal, ks_state s)
{
	if (s == KS_NA)
		return s;
	if (goal)
		return s == KS_HIDDEN || s == KS_UNRETENTIVE ? KS_RUMOURED : KS_OMNIPRESENT;
	return s == KS_OMNIPRESENT || s == KS_RUMOURED ? KS_UNRETENTIVE : KS_HIDDEN;
}

static bool in_rollover(const ks_kstate *keys, size_t n, size_t i)
{
	if (keys[i].pred >= 0)
		return true;
	for (size_t k = 0; k < n; k++)
		if (succeeds(keys, i, k))
			return true;
	return false;
}

zk_time_t ks_kasp_when(const ks_kstate *keys, size_t n, size_t i, int rec, ks_state next,
		       const ks_kasp_params *p, zk_time_t now)
{
	const ks_kstate *k = &keys[i];
	zk_time_t last = k->last[rec] ? k->last[rec] : now, seen;
	bool roll = in_rollover(keys, n, i);

	if (next != KS_OMNIPRESENT && next != KS_HIDDEN)
		return now; /* into an uncertain state: no wait */
	switch (rec) {
	case KS_DNSKEY:
	case KS_KRRSIG:
		/* Ipub = Dprp + TTLkey (+ publish-safety), RFC 7583 §3.2.1, §3.3.1 */
		return last + p->dnskey_ttl + p->dprp +
		       (next == KS_OMNIPRESENT ? p->publish_safety : 0);
	case KS_ZRRSIG:
		/* Iret = Dsgn + Dprp + TTLsig (+ retire-safety) when a key is replaced */
		return last + p->max_zone_ttl + p->dprp +
		       (roll ? (zk_time_t) p->sign_delay + p->retire_safety : 0);
	case KS_DS:
		/* never on time alone: from when the parent was seen, DprpP + TTLds */
		seen = next == KS_OMNIPRESENT ? k->ds_published : k->ds_withdrawn;
		if (!seen || seen > now)
			return 0;
		return seen + p->ds_ttl + p->dprp_parent + (roll ? p->retire_safety : 0);
	default:
		return 0;
	}
}

size_t ks_kasp_update(ks_kstate *keys, size_t n, const ks_kasp_params *p, zk_time_t now,
		      zk_time_t *ret_next, ks_kasp_move *ret_move, bool *ret_waits_parent)
{
	size_t taken = 0;
	zk_time_t next_event = 0;
	ks_kasp_move next_move = { .key = -1 };
	bool waits = false, changed;

	do {
		changed = false;
		next_event = 0;
		next_move.key = -1;
		waits = false;
		for (size_t i = 0; i < n; i++)
			for (int rec = 0; rec < KS_NREC; rec++) {
				ks_state s = keys[i].st[rec];
				ks_state next = ks_kasp_next_state(keys[i].goal, s);
				zk_time_t when;

				if (s == KS_NA || next == s ||
				    !ks_kasp_approved(keys, n, i, rec, next) ||
				    !allowed(keys, n, i, rec, next, p->insecure))
					continue;
				when = ks_kasp_when(keys, n, i, rec, next, p, now);
				if (when == 0) {
					waits = true;
					continue;
				}
				if (when > now) {
					if (!next_event || when < next_event) {
						next_event = when;
						next_move = (ks_kasp_move) { (int) i, rec, next };
					}
					continue;
				}
				keys[i].st[rec] = next;
				keys[i].last[rec] = now;
				if (!keys[i].active_at &&
				    ((rec == KS_ZRRSIG && next == KS_RUMOURED) ||
				     (rec == KS_DS && next == KS_OMNIPRESENT &&
				      keys[i].role == KS_ROLE_KSK)))
					keys[i].active_at = now;
				taken++;
				changed = true;
			}
	} while (changed);
	if (ret_next)
		*ret_next = next_event;
	if (ret_move)
		*ret_move = next_move;
	if (ret_waits_parent)
		*ret_waits_parent = waits;
	return taken;
}

void ks_kstate_init(ks_kstate *k, uint16_t tag, uint8_t alg, ks_role role, int pred,
		    zk_time_t now)
{
	bool ksk = role == KS_ROLE_KSK || role == KS_ROLE_CSK;
	bool zsk = role == KS_ROLE_ZSK || role == KS_ROLE_CSK;

	memset(k, 0, sizeof(*k));
	k->tag = tag;
	k->alg = alg;
	k->role = role;
	k->goal = true;
	k->pred = pred;
	k->st[KS_DNSKEY] = KS_HIDDEN;
	k->st[KS_ZRRSIG] = zsk ? KS_HIDDEN : KS_NA;
	k->st[KS_KRRSIG] = ksk ? KS_HIDDEN : KS_NA;
	k->st[KS_DS] = ksk ? KS_HIDDEN : KS_NA;
	for (int r = 0; r < KS_NREC; r++)
		k->last[r] = now;
}

int ks_kasp_active(const ks_kstate *keys, size_t n, ks_role role)
{
	int found = -1;

	for (size_t i = 0; i < n; i++)
		if (keys[i].role == role && keys[i].goal)
			found = (int) i;
	return found;
}

unsigned ks_kasp_rolls_due(const ks_kstate *keys, size_t n, const ks_kasp_params *p,
			   uint32_t ksk_lifetime, uint32_t zsk_lifetime, zk_time_t now,
			   zk_time_t *ret_next, ks_role *ret_next_role)
{
	static const ks_role roles[] = { KS_ROLE_KSK, KS_ROLE_ZSK, KS_ROLE_CSK };
	zk_time_t ipub = (zk_time_t) p->dprp + p->dnskey_ttl + p->publish_safety, next = 0;
	unsigned due = 0;

	for (size_t r = 0; r < ZK_ELEMENTSOF(roles); r++) {
		int a = ks_kasp_active(keys, n, roles[r]);
		uint32_t life = roles[r] == KS_ROLE_ZSK ? zsk_lifetime : ksk_lifetime;
		zk_time_t when;

		if (a < 0 || !life || !keys[a].active_at)
			continue;
		when = keys[a].active_at + life > ipub ? keys[a].active_at + life - ipub : 0;
		if (when <= now) {
			due |= 1u << roles[r];
		} else if (!next || when < next) {
			next = when;
			if (ret_next_role)
				*ret_next_role = roles[r];
		}
	}
	if (ret_next)
		*ret_next = next;
	return due;
}

const char *ks_state_name(ks_state s)
{
	switch (s) {
	case KS_HIDDEN: return "hidden";
	case KS_RUMOURED: return "rumoured";
	case KS_OMNIPRESENT: return "omnipresent";
	case KS_UNRETENTIVE: return "unretentive";
	default: return "-";
	}
}
