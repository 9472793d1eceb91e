/* SPDX-License-Identifier: MIT */
/*
 * tests/unit/test_kasp.c -- the key-state model (keystore/kasp.h): rollovers step by step
 * with each move at exactly the RFC 7583 time and never a second earlier, a KSK rollover
 * that waits for the parent however long it takes, and random rollover sequences in which
 * the chain-of-trust rules hold after every move.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "keystore/kasp.h"

#define T0 ((zk_time_t) 1800000000)
#define DAY 86400

static const ks_kasp_params P = {
	.dnskey_ttl = 3600, .dprp = 300, .publish_safety = 3600, .retire_safety = 3600,
	.max_zone_ttl = DAY, .sign_delay = 7 * DAY, .ds_ttl = DAY, .dprp_parent = 3600,
};

/* RFC 7583 §3.2.1 and §3.3.1, written out independently of the module */
static zk_time_t ipub(void) { return (zk_time_t) P.dprp + P.dnskey_ttl + P.publish_safety; }
static zk_time_t iret_zsk(void)
{
	return (zk_time_t) P.sign_delay + P.dprp + P.max_zone_ttl + P.retire_safety;
}
static zk_time_t iret_ksk(void) { return (zk_time_t) P.dprp_parent + P.ds_ttl + P.retire_safety; }

static void established(ks_kstate *k, uint16_t tag, ks_role role)
{
	ks_kstate_init(k, tag, 13, role, -1, T0 - 100 * DAY);
	for (int r = 0; r < KS_NREC; r++)
		if (k->st[r] != KS_NA)
			k->st[r] = KS_OMNIPRESENT;
	k->ds_published = T0 - 90 * DAY;
}

static void assert_rules(const ks_kstate *keys, size_t n)
{
	for (size_t i = 0; i < n; i++)
		assert_true(ks_kasp_rules_hold(keys, n, i));
}

static void assert_states(const ks_kstate *k, ks_state dnskey, ks_state zrrsig,
			  ks_state krrsig, ks_state ds)
{
	assert_int_equal(k->st[KS_DNSKEY], dnskey);
	assert_int_equal(k->st[KS_ZRRSIG], zrrsig);
	assert_int_equal(k->st[KS_KRRSIG], krrsig);
	assert_int_equal(k->st[KS_DS], ds);
}

/* Nothing moves one second before `t`; something does at `t`. */
static void step_at(ks_kstate *keys, size_t n, zk_time_t t)
{
	zk_time_t next = 0;

	assert_int_equal(ks_kasp_update(keys, n, &P, t - 1, &next, NULL, NULL), 0);
	assert_int_equal(next, t);
	assert_true(ks_kasp_update(keys, n, &P, t, &next, NULL, NULL) > 0);
}

/* The same in a signed zone: the rules hold after the step. */
static void step_exactly_at(ks_kstate *keys, size_t n, zk_time_t t)
{
	step_at(keys, n, t);
	assert_rules(keys, n);
}

static void zsk_prepublication_at_rfc7583_times(void **state)
{
	ks_kstate k[3];
	zk_time_t next = 0, t_act;

	established(&k[0], 1, KS_ROLE_KSK);
	established(&k[1], 2, KS_ROLE_ZSK);
	ks_kstate_init(&k[2], 3, 13, KS_ROLE_ZSK, 1, T0);
	k[1].goal = false;

	/* Tpub(N+1): the new DNSKEY only; the old key keeps signing */
	assert_int_equal(ks_kasp_update(k, 3, &P, T0, &next, NULL, NULL), 1);
	assert_states(&k[2], KS_RUMOURED, KS_HIDDEN, KS_NA, KS_NA);
	assert_states(&k[1], KS_OMNIPRESENT, KS_OMNIPRESENT, KS_NA, KS_NA);
	assert_rules(k, 3);

	/* Tact(N+1) = Tpub + Ipub: signatures swap, Tret(N) = Tact(N+1) */
	t_act = T0 + ipub();
	step_exactly_at(k, 3, t_act);
	assert_states(&k[2], KS_OMNIPRESENT, KS_RUMOURED, KS_NA, KS_NA);
	assert_states(&k[1], KS_OMNIPRESENT, KS_UNRETENTIVE, KS_NA, KS_NA);

	/* Tdea(N) = Tret(N) + Iret: old signatures gone from caches, old DNSKEY withdrawn */
	step_exactly_at(k, 3, t_act + iret_zsk());
	assert_states(&k[2], KS_OMNIPRESENT, KS_OMNIPRESENT, KS_NA, KS_NA);
	assert_states(&k[1], KS_UNRETENTIVE, KS_HIDDEN, KS_NA, KS_NA);

	/* and the old DNSKEY out of every cache after TTLkey + Dprp */
	step_exactly_at(k, 3, t_act + iret_zsk() + P.dnskey_ttl + P.dprp);
	assert_states(&k[1], KS_HIDDEN, KS_HIDDEN, KS_NA, KS_NA);
	assert_int_equal(ks_kasp_update(k, 3, &P, t_act + 400 * DAY, &next, NULL, NULL), 0);
	assert_int_equal(next, 0);
	(void) state;
}

static void ksk_rollover_waits_for_the_parent(void **state)
{
	ks_kstate k[3];
	zk_time_t next = 0, t_rdy, seen;
	bool waits = false;

	established(&k[0], 1, KS_ROLE_KSK);
	established(&k[1], 2, KS_ROLE_ZSK);
	ks_kstate_init(&k[2], 3, 13, KS_ROLE_KSK, 0, T0);
	k[0].goal = false;

	/* new DNSKEY and its signature over the DNSKEY RRset together */
	assert_int_equal(ks_kasp_update(k, 3, &P, T0, &next, NULL, NULL), 2);
	assert_states(&k[2], KS_RUMOURED, KS_NA, KS_RUMOURED, KS_HIDDEN);

	/* Trdy = Tpub + IpubC: the DS is submitted (CDS), the old one withdrawn */
	t_rdy = T0 + ipub();
	step_exactly_at(k, 3, t_rdy);
	assert_states(&k[2], KS_OMNIPRESENT, KS_NA, KS_OMNIPRESENT, KS_RUMOURED);
	assert_states(&k[0], KS_OMNIPRESENT, KS_NA, KS_OMNIPRESENT, KS_UNRETENTIVE);

	/* never on time alone: a year later, both KSKs are still there */
	assert_int_equal(ks_kasp_update(k, 3, &P, t_rdy + 365 * DAY, &next, NULL, &waits), 0);
	assert_true(waits);
	assert_int_equal(next, 0);
	assert_int_equal(k[0].st[KS_DNSKEY], KS_OMNIPRESENT);

	/* the parent is seen serving the new DS (and no longer the old one) */
	seen = t_rdy + 400 * DAY;
	k[2].ds_published = seen;
	k[0].ds_withdrawn = seen;
	step_exactly_at(k, 3, seen + iret_ksk());
	assert_states(&k[2], KS_OMNIPRESENT, KS_NA, KS_OMNIPRESENT, KS_OMNIPRESENT);
	assert_states(&k[0], KS_UNRETENTIVE, KS_NA, KS_UNRETENTIVE, KS_HIDDEN);

	step_exactly_at(k, 3, seen + iret_ksk() + P.dnskey_ttl + P.dprp);
	assert_states(&k[0], KS_HIDDEN, KS_NA, KS_HIDDEN, KS_HIDDEN);
	(void) state;
}

/*
 * An unsigned zone becoming signed: no DS yet, so rule 1 does not hold and is not asked
 * for; the DS goes to the parent only once signed data is in every cache (a validator
 * holding the DS and an unsigned answer cached from before would fail).
 */
static void first_csk_submits_its_ds_once_signed_data_is_everywhere(void **state)
{
	ks_kstate k[1];
	zk_time_t next = 0;
	bool waits = false;

	ks_kstate_init(&k[0], 7, 13, KS_ROLE_CSK, -1, T0);
	/* a new algorithm: signatures with the DNSKEY, not after it */
	assert_int_equal(ks_kasp_update(k, 1, &P, T0, &next, NULL, NULL), 3);
	assert_states(&k[0], KS_RUMOURED, KS_RUMOURED, KS_RUMOURED, KS_HIDDEN);
	step_at(k, 1, T0 + ipub());
	assert_states(&k[0], KS_OMNIPRESENT, KS_RUMOURED, KS_OMNIPRESENT, KS_HIDDEN);
	/* no predecessor: TTLsig + Dprp, without Dsgn and retire-safety */
	step_at(k, 1, T0 + P.max_zone_ttl + P.dprp);
	assert_states(&k[0], KS_OMNIPRESENT, KS_OMNIPRESENT, KS_OMNIPRESENT, KS_RUMOURED);
	assert_rules(k, 1);
	assert_int_equal(ks_kasp_update(k, 1, &P, T0 + 30 * DAY, &next, NULL, &waits), 0);
	assert_true(waits);
	k[0].ds_published = T0 + 30 * DAY;
	step_exactly_at(k, 1, T0 + 30 * DAY + P.ds_ttl + P.dprp_parent);
	assert_states(&k[0], KS_OMNIPRESENT, KS_OMNIPRESENT, KS_OMNIPRESENT, KS_OMNIPRESENT);
	(void) state;
}

static void withdrawing_the_only_zsk_is_refused(void **state)
{
	ks_kstate k[2];

	established(&k[0], 1, KS_ROLE_KSK);
	established(&k[1], 2, KS_ROLE_ZSK);
	assert_false(ks_kasp_allowed(k, 2, 1, KS_DNSKEY, KS_UNRETENTIVE));
	assert_false(ks_kasp_allowed(k, 2, 1, KS_ZRRSIG, KS_UNRETENTIVE));
	assert_false(ks_kasp_allowed(k, 2, 0, KS_DS, KS_UNRETENTIVE));
	assert_false(ks_kasp_allowed(k, 2, 0, KS_DNSKEY, KS_UNRETENTIVE));
	k[1].goal = false;
	assert_int_equal(ks_kasp_update(k, 2, &P, T0 + 1000 * DAY, NULL, NULL, NULL), 0);
	assert_rules(k, 2);
	(void) state;
}

/* 13 -> 15: signatures of the new algorithm first, its DNSKEYs once they are everywhere,
 * the DS swap seen at the parent, then the old algorithm goes. */
static void algorithm_rollover_signs_before_publishing(void **state)
{
	ks_kstate k[4];
	zk_time_t next = 0, t_sig, t_key, seen;

	established(&k[0], 1, KS_ROLE_KSK);
	established(&k[1], 2, KS_ROLE_ZSK);
	ks_kstate_init(&k[2], 3, 15, KS_ROLE_KSK, 0, T0);
	ks_kstate_init(&k[3], 4, 15, KS_ROLE_ZSK, 1, T0);
	k[0].goal = k[1].goal = false;

	assert_int_equal(ks_kasp_update(k, 4, &P, T0, &next, NULL, NULL), 1);
	assert_states(&k[3], KS_HIDDEN, KS_RUMOURED, KS_NA, KS_NA);
	assert_states(&k[2], KS_HIDDEN, KS_NA, KS_HIDDEN, KS_HIDDEN);
	assert_rules(k, 4);

	/* the new signatures in every cache: Dsgn + Dprp + TTLsig (+ retire-safety) */
	t_sig = T0 + iret_zsk();
	step_exactly_at(k, 4, t_sig);
	assert_states(&k[3], KS_RUMOURED, KS_OMNIPRESENT, KS_NA, KS_NA);
	assert_states(&k[2], KS_RUMOURED, KS_NA, KS_RUMOURED, KS_HIDDEN);
	assert_states(&k[1], KS_OMNIPRESENT, KS_OMNIPRESENT, KS_NA, KS_NA);

	/* the new DNSKEYs everywhere: the DS swap starts */
	t_key = t_sig + ipub();
	step_exactly_at(k, 4, t_key);
	assert_int_equal(k[2].st[KS_DS], KS_RUMOURED);
	assert_int_equal(k[0].st[KS_DS], KS_UNRETENTIVE);
	assert_int_equal(k[0].st[KS_DNSKEY], KS_OMNIPRESENT);
	assert_int_equal(k[1].st[KS_ZRRSIG], KS_OMNIPRESENT);

	seen = t_key + 2 * DAY;
	k[2].ds_published = seen;
	k[0].ds_withdrawn = seen;
	step_exactly_at(k, 4, seen + iret_ksk());
	assert_int_equal(k[2].st[KS_DS], KS_OMNIPRESENT);
	assert_int_equal(k[0].st[KS_DS], KS_HIDDEN);
	/* the old algorithm leaves: no DS of it anywhere any more */
	assert_int_equal(k[0].st[KS_DNSKEY], KS_UNRETENTIVE);
	assert_int_equal(k[1].st[KS_DNSKEY], KS_UNRETENTIVE);
	/* RFC 6781 §4.1.4: the old algorithm keeps signing until its DNSKEYs are gone from
	 * every cache (Dprp + TTLkey), so a cached DNSKEY RRset always finds its algorithms */
	assert_int_equal(k[1].st[KS_ZRRSIG], KS_OMNIPRESENT);
	step_exactly_at(k, 4, seen + iret_ksk() + P.dprp + P.dnskey_ttl);
	assert_int_equal(k[0].st[KS_DNSKEY], KS_HIDDEN);
	assert_int_equal(k[1].st[KS_DNSKEY], KS_HIDDEN);
	assert_int_equal(k[1].st[KS_ZRRSIG], KS_UNRETENTIVE);
	while (ks_kasp_update(k, 4, &P, next ? next : seen + 100 * DAY, &next, NULL, NULL) || next)
		assert_rules(k, 4);
	assert_states(&k[0], KS_HIDDEN, KS_NA, KS_HIDDEN, KS_HIDDEN);
	assert_states(&k[1], KS_HIDDEN, KS_HIDDEN, KS_NA, KS_NA);
	assert_states(&k[3], KS_OMNIPRESENT, KS_OMNIPRESENT, KS_NA, KS_NA);
	(void) state;
}

/* xorshift: reproducible without touching the C library's generator */
static uint64_t rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

#define MAXK 24

static int active_of(const ks_kstate *k, size_t n, ks_role role)
{
	for (size_t i = 0; i < n; i++)
		if (k[i].role == role && k[i].goal)
			return (int) i;
	return -1;
}

static bool settled(const ks_kstate *k, size_t n)
{
	for (size_t i = 0; i < n; i++)
		for (int r = 0; r < KS_NREC; r++) {
			ks_state s = k[i].st[r];

			if (s != KS_NA && s != (k[i].goal ? KS_OMNIPRESENT : KS_HIDDEN))
				return false;
		}
	return true;
}

/*
 * Random rollover sequences: rolls of either role start at random times (also while
 * another is running), the parent takes a random time to show a DS change. After every
 * move the rules hold; every sequence ends with one key per role everywhere.
 */
static void random_rollovers_keep_the_rules(void **state)
{
	uint64_t seed = 0x9e3779b97f4a7c15ull;
	size_t moves = 0, ksk_rolls = 0, zsk_rolls = 0;

	for (int run = 0; run < 300; run++) {
		ks_kstate k[MAXK];
		size_t n = 2;
		zk_time_t now = T0, next = 0;
		int rolls = 0, guard = 0;

		established(&k[0], 1, KS_ROLE_KSK);
		established(&k[1], 2, KS_ROLE_ZSK);
		while (guard++ < 2000) {
			bool waits = false;

			if (rolls < 6 && n < MAXK && rnd(&seed) % 4 == 0) {
				ks_role role = rnd(&seed) % 2 ? KS_ROLE_KSK : KS_ROLE_ZSK;
				int old = active_of(k, n, role);

				ks_kstate_init(&k[n], (uint16_t) (10 + n), 13, role, old, now);
				k[old].goal = false;
				if (role == KS_ROLE_KSK)
					ksk_rolls++;
				else
					zsk_rolls++;
				n++;
				rolls++;
			}
			moves += ks_kasp_update(k, n, &P, now, &next, NULL, &waits);
			assert_rules(k, n);
			/* the parent catches up with what was submitted or withdrawn */
			for (size_t i = 0; i < n; i++) {
				if (k[i].st[KS_DS] == KS_RUMOURED && !k[i].ds_published &&
				    rnd(&seed) % 3 == 0)
					k[i].ds_published = now;
				if (k[i].st[KS_DS] == KS_UNRETENTIVE && !k[i].ds_withdrawn &&
				    rnd(&seed) % 3 == 0)
					k[i].ds_withdrawn = now;
			}
			if (rolls >= 6 && settled(k, n))
				break;
			now = next && next < now + 30 * DAY ? next : now + (zk_time_t) (rnd(&seed) % (3 * DAY)) + 1;
		}
		assert_true(settled(k, n));
		assert_true(active_of(k, n, KS_ROLE_KSK) >= 0);
		assert_true(active_of(k, n, KS_ROLE_ZSK) >= 0);
		assert_int_equal(k[active_of(k, n, KS_ROLE_KSK)].st[KS_DS], KS_OMNIPRESENT);
	}
	/* not vacuous: hundreds of rolls of each kind, thousands of moves */
	assert_true(ksk_rolls > 500 && zsk_rolls > 500 && moves > 10000);
	(void) state;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(zsk_prepublication_at_rfc7583_times),
		cmocka_unit_test(ksk_rollover_waits_for_the_parent),
		cmocka_unit_test(first_csk_submits_its_ds_once_signed_data_is_everywhere),
		cmocka_unit_test(withdrawing_the_only_zsk_is_refused),
		cmocka_unit_test(algorithm_rollover_signs_before_publishing),
		cmocka_unit_test(random_rollovers_keep_the_rules),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
