/* SPDX-License-Identifier: MIT */
/*
 * tests/unit/test_ring.c -- the key ring of a zone (keystore/ring.h) over a real key store:
 * ZSK, KSK and algorithm rollovers driven step by step from the next-event times it gives,
 * the DS never taken as seen on time alone, the file saved and read back identically at
 * every step, a crash between key generation and the save (no second key), keys of an
 * older version adopted by their timing, archived keys, and malformed files.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "keystore/keystore.h"
#include "keystore/ring.h"
#include "policy/policy.h"
#include "policy/zk-file.h"
#include "tests/unit/unit.h"

#define ZONE "ring.test."
#define T0 ((zk_time_t) 1790000000) /* 2026-09-21 */
#define DAY 86400

static char tmpdir[64];
static int counter;

typedef struct fixture {
	char keydir[256], path[256];
	ks_store *store;
	ks_ring ring;
	ks_ring_policy rp;
} fixture;

static int setup(void **state)
{
	(void) state;
	return unit_tmpdir(tmpdir, sizeof(tmpdir), "ring");
}

static int teardown(void **state)
{
	(void) state;
	return unit_rmtree(tmpdir);
}

static void fixture_open(fixture *f, const pol_policy *p)
{
	zk_error e = { 0 };

	memset(f, 0, sizeof(*f));
	snprintf(f->keydir, sizeof(f->keydir), "%s/%d/keys", tmpdir, ++counter);
	snprintf(f->path, sizeof(f->path), "%s/%d/keyring", tmpdir, counter);
	assert_int_equal(ks_store_open(f->keydir, ZONE, NULL, &f->store, &e), 0);
	ks_ring_policy_from(p, &f->rp);
}

/* What a restart does: the store and the ring from disk, tied together. */
static void fixture_reopen(fixture *f, zk_time_t now)
{
	zk_error e = { 0 };

	ks_store_free(f->store);
	assert_int_equal(ks_store_open(f->keydir, ZONE, NULL, &f->store, &e), 0);
	assert_int_equal(ks_ring_load(f->path, &f->ring, &e), 0);
	assert_true(ks_ring_attach(&f->ring, f->store, &f->rp, now, &e) >= 0);
}

/* One run of the signer's key step: step, save, metadata, archive. */
static ks_ring_report run(fixture *f, zk_time_t now, unsigned roll)
{
	ks_ring_report rep;
	zk_error e = { 0 };
	ks_ring before;

	/* the requests of these tests start at once (ks_ring_step: `at_once`); the wait of a
	 * young key's rollover has a test of its own */
	assert_int_equal(ks_ring_step(&f->ring, &f->rp, roll, roll, now, ks_ring_gen_store,
				      f->store, &rep, &e), 0);
	assert_int_equal(ks_ring_save(f->path, &f->ring, now, &e), 0);
	for (size_t i = 0; i < rep.retimed; i++)
		assert_int_equal(ks_store_save(f->store, rep.retimed_keys[i], &e), 0);
	for (size_t i = 0; i < rep.removed; i++)
		assert_int_equal(ks_store_archive(f->store, rep.removed_keys[i], &e), 0);
	if (getenv("RING_DEBUG")) {
		char *text = NULL;
		size_t len;

		zk_file_read(f->path, 65536, &text, &len);
		print_message("--- %lld\n%s", (long long) now, text);
		free(text);
	}
	/* what was saved reads back as it is in memory */
	before = f->ring;
	fixture_reopen(f, now);
	assert_int_equal(f->ring.n, before.n);
	assert_int_equal(f->ring.pending, before.pending);
	assert_int_equal(f->ring.ev.kind, before.ev.kind);
	if (before.ev.kind == KS_RING_EV_MOVE) {
		assert_int_equal(f->ring.ev.rec, before.ev.rec);
		assert_int_equal(f->ring.ev.next, before.ev.next);
	}
	if (before.ev.kind != KS_RING_EV_NONE) {
		assert_int_equal(f->ring.ev.tag, before.ev.tag);
		assert_int_equal(f->ring.ev.role, before.ev.role);
	}
	for (size_t i = 0; i < before.n; i++) {
		assert_memory_equal(f->ring.k[i].st, before.k[i].st, sizeof(before.k[i].st));
		assert_memory_equal(f->ring.k[i].last, before.k[i].last, sizeof(before.k[i].last));
		assert_int_equal(f->ring.k[i].pred, before.k[i].pred);
		assert_int_equal(f->ring.k[i].goal, before.k[i].goal);
		assert_int_equal(f->ring.k[i].active_at, before.k[i].active_at);
	}
	return rep;
}

static size_t count(const fixture *f, bool (*pred)(const ks_ring *, size_t), ks_role role)
{
	size_t n = 0;

	for (size_t i = 0; i < f->ring.n; i++)
		n += f->ring.k[i].role == role && pred(&f->ring, i);
	return n;
}

/*
 * Every instant: a published key signs the DNSKEY RRset and one signs the zone, and each
 * algorithm in the DNSKEY RRset signs the zone (invariant 16; a new algorithm's
 * signatures may come before its DNSKEY, never after).
 */
static void assert_signable(const fixture *f)
{
	bool zone = false, keys = false;

	for (size_t i = 0; i < f->ring.n; i++) {
		bool alg_signs = false;

		zone |= ks_ring_signs_zone(&f->ring, i) && ks_ring_publishes(&f->ring, i);
		keys |= ks_ring_signs_keys(&f->ring, i) && ks_ring_publishes(&f->ring, i);
		if (!ks_ring_publishes(&f->ring, i))
			continue;
		for (size_t j = 0; j < f->ring.n; j++)
			alg_signs |= f->ring.k[j].alg == f->ring.k[i].alg &&
				     ks_ring_signs_zone(&f->ring, j);
		assert_true(alg_signs);
	}
	assert_true(zone && keys);
}

static void fixture_close(fixture *f)
{
	ks_store_free(f->store);
}

/* ---------------------------------------------------------------- tests */

static void zsk_rolls_on_lifetime_with_pre_publication(void **state)
{
	pol_policy p;
	fixture f;
	zk_time_t t = T0, end = T0 + 100 * DAY, new_pub = 0, new_sign = 0, old_gone = 0;
	uint16_t first_zsk = 0;
	size_t steps = 0, generated = 0;

	(void) state;
	pol_policy_defaults(&p);
	p.zsk_lifetime = 30 * DAY;
	p.ksk_lifetime = 0;
	fixture_open(&f, &p);
	assert_int_equal(ks_ring_load(f.path, &f.ring, &(zk_error) { 0 }), 0);
	while (t <= end && steps++ < 200) {
		ks_ring_report rep = run(&f, t, 0);

		generated += rep.generated;
		assert_signable(&f);
		assert_true(count(&f, ks_ring_publishes, KS_ROLE_ZSK) <= 2);
		if (!first_zsk)
			for (size_t i = 0; i < f.ring.n; i++)
				if (f.ring.k[i].role == KS_ROLE_ZSK)
					first_zsk = f.ring.k[i].tag;
		for (size_t i = 0; i < f.ring.n; i++) {
			const ks_kstate *k = &f.ring.k[i];

			if (k->role != KS_ROLE_ZSK || k->tag == first_zsk)
				continue;
			if (!new_pub && ks_ring_publishes(&f.ring, i))
				new_pub = t;
			if (!new_sign && ks_ring_signs_zone(&f.ring, i))
				new_sign = t;
		}
		if (new_pub && !old_gone && count(&f, ks_ring_publishes, KS_ROLE_ZSK) == 1)
			old_gone = t;
		assert_true(rep.next > t || rep.next == 0);
		if (!rep.next)
			break;
		t = rep.next;
	}
	/* the first pair, then one successor ZSK per 30 days: days 30-ish, 60-ish, 90-ish */
	assert_int_equal(generated, 2 + 3);
	/* RFC 7583 §3.2.1: published Ipub = Dprp + TTLkey + safety before it signs */
	assert_true(new_pub > T0);
	assert_int_equal(new_sign - new_pub,
			 (zk_time_t) (p.propagation_delay + p.dnskey_ttl + p.publish_safety));
	/* the old ZSK's DNSKEY stays until its signatures expired from caches */
	assert_true(old_gone - new_sign >= (zk_time_t) (p.max_zone_ttl + p.propagation_delay));
	/* the replaced keys went to the archive, never deleted */
	{
		char arch[300];
		struct stat sb;

		snprintf(arch, sizeof(arch), "%s/archive", f.keydir);
		assert_int_equal(stat(arch, &sb), 0);
	}
	fixture_close(&f);
}

static void ksk_rollover_waits_for_the_ds_however_long(void **state)
{
	pol_policy p;
	fixture f;
	zk_time_t t = T0, seen, last_two = 0;
	ks_ring_report rep;
	zk_error e = { 0 };
	uint16_t old = 0, new = 0;
	char why[96];

	(void) state;
	pol_policy_defaults(&p);
	p.zsk_lifetime = 0;
	p.ksk_lifetime = 0;
	fixture_open(&f, &p);
	assert_int_equal(ks_ring_load(f.path, &f.ring, &e), 0);
	/* the new zone: its KSK's DS is submitted, then waits for the parent */
	for (int i = 0; i < 20; i++) {
		rep = run(&f, t, 0);
		if (!rep.next)
			break;
		t = rep.next;
	}
	for (size_t i = 0; i < f.ring.n; i++)
		if (f.ring.k[i].role == KS_ROLE_KSK)
			old = f.ring.k[i].tag;
	assert_true(rep.waits_parent);
	snprintf(why, sizeof(why), "waiting for DS %u at the parent", old);
	assert_string_equal(ks_ring_status(&f.ring, (char[96]) { 0 }, 96), why);
	/* the operator confirms; a second confirmation of the same is refused */
	assert_int_equal(ks_ring_ds_seen(&f.ring, old, true, t, &e), 0);
	assert_int_equal(ks_ring_ds_seen(&f.ring, old, true, t, &e), ZK_E_CONFLICT);
	assert_int_equal(ks_ring_ds_seen(&f.ring, 1, true, t, &e), ZK_E_KEY_NOT_FOUND);
	for (int i = 0; i < 20 && (rep = run(&f, t, 0)).next; i++)
		t = rep.next;
	/* established; now an operator rolls the KSK */
	t += DAY;
	rep = run(&f, t, 1u << KS_ROLE_KSK);
	assert_int_equal(rep.generated, 1);
	new = rep.generated_tags[0];
	/* a year without the new DS at the parent: both KSKs stay, the old one signs */
	for (int i = 0; i < 50 && t < T0 + 400 * DAY; i++) {
		rep = run(&f, t, 0);
		assert_signable(&f);
		t = rep.next ? rep.next : t + 30 * DAY;
	}
	assert_int_equal(count(&f, ks_ring_publishes, KS_ROLE_KSK), 2);
	snprintf(why, sizeof(why), "waiting for DS %u at the parent", new);
	assert_string_equal(ks_ring_status(&f.ring, (char[96]) { 0 }, 96), why);
	for (size_t i = 0; i < f.ring.n; i++)
		if (f.ring.k[i].tag == new)
			assert_true(ks_ring_cds(&f.ring, i)); /* CDS asks the parent for it */
	/* seen: the old KSK's DNSKEY goes once the new DS is in every cache (invariant
	 * 13: Trem(N) - T_DSseen(N+1) >= DprpP + TTLds + safety) */
	for (size_t i = 0; i < f.ring.n; i++)
		if (f.ring.k[i].tag == old)
			assert_false(ks_ring_cds(&f.ring, i)); /* no longer asked for */
	assert_int_equal(ks_ring_ds_seen(&f.ring, new, true, t, &e), 0);
	seen = t;
	for (int i = 0; i < 20 && (rep = run(&f, t, 0)).next; i++) {
		if (count(&f, ks_ring_publishes, KS_ROLE_KSK) == 2)
			last_two = t;
		t = rep.next;
	}
	assert_int_equal(count(&f, ks_ring_publishes, KS_ROLE_KSK), 1);
	assert_true(t >= seen + (zk_time_t) (p.parent_ds_ttl + p.parent_propagation_delay));
	assert_true(last_two >= seen);
	/* its DS is still asked to go: the entry stays until the parent is seen without it */
	snprintf(why, sizeof(why), "waiting for DS %u to leave the parent", old);
	assert_string_equal(ks_ring_status(&f.ring, (char[96]) { 0 }, 96), why);
	assert_int_equal(ks_ring_ds_seen(&f.ring, old, false, t, &e), 0);
	for (int i = 0; i < 20 && (rep = run(&f, t, 0)).next; i++)
		t = rep.next;
	assert_int_equal(count(&f, ks_ring_publishes, KS_ROLE_KSK), 1);
	assert_string_equal(ks_ring_status(&f.ring, (char[96]) { 0 }, 96), "");
	for (size_t i = 0; i < f.ring.n; i++)
		assert_int_not_equal(f.ring.k[i].tag, old);
	fixture_close(&f);
}

static void a_crash_after_generation_does_not_generate_twice(void **state)
{
	pol_policy p;
	fixture f;
	ks_ring_report rep;
	zk_error e = { 0 };
	zk_time_t t = T0;
	size_t keys_before;

	(void) state;
	pol_policy_defaults(&p);
	fixture_open(&f, &p);
	assert_int_equal(ks_ring_load(f.path, &f.ring, &e), 0);
	run(&f, t, 0);
	keys_before = ks_store_count(f.store);
	/* a rollover generates a key, and the process dies before the ring is saved */
	t += 3600;
	assert_int_equal(ks_ring_step(&f.ring, &f.rp, 1u << KS_ROLE_ZSK, 1u << KS_ROLE_ZSK, t,
				      ks_ring_gen_store,
				      f.store, &rep, &e), 0);
	assert_int_equal(rep.generated, 1);
	assert_int_equal(ks_store_count(f.store), keys_before + 1);
	/* restart: the key is found and taken back as the successor it was made to be */
	fixture_reopen(&f, t + 60);
	assert_int_equal(f.ring.n, keys_before + 1);
	rep = run(&f, t + 60, 0);
	assert_int_equal(rep.generated, 0);
	assert_int_equal(ks_store_count(f.store), keys_before + 1);
	assert_int_equal(count(&f, ks_ring_publishes, KS_ROLE_ZSK), 2);
	fixture_close(&f);
}

/*
 * A ZSK rollover asked for an hour after the zone was first signed waits until the first
 * ZSK's signatures are in every cache (the request kept across a restart), then goes by
 * pre-publication: never two ZSKs signing the zone, so no RRset carries two signatures.
 * Asked for as an emergency, it starts at once, and both sign.
 */
static void a_young_zsks_rollover_waits_and_never_doubles_the_signatures(void **state)
{
	pol_policy p;
	fixture f;
	ks_ring_report rep;
	zk_error e = { 0 };
	zk_time_t t = T0, started = 0;
	size_t steps = 0, keys_before;

	(void) state;
	pol_policy_defaults(&p);
	fixture_open(&f, &p);
	assert_int_equal(ks_ring_load(f.path, &f.ring, &e), 0);
	run(&f, t, 0);
	keys_before = ks_store_count(f.store);
	t += 3600;
	assert_int_equal(ks_ring_step(&f.ring, &f.rp, 1u << KS_ROLE_ZSK, 0, t, ks_ring_gen_store,
				      f.store, &rep, &e), 0);
	assert_int_equal(rep.generated, 0);
	assert_int_equal(rep.pending, 1u << KS_ROLE_ZSK);
	assert_int_equal(ks_ring_save(f.path, &f.ring, t, &e), 0);
	fixture_reopen(&f, t);
	assert_int_equal(f.ring.pending, 1u << KS_ROLE_ZSK);
	while (steps++ < 100) {
		rep = run(&f, t, 0);
		assert_signable(&f);
		assert_true(count(&f, ks_ring_signs_zone, KS_ROLE_ZSK) == 1);
		if (rep.generated && !started) {
			started = t;
			assert_int_equal(f.ring.pending, 0);
		}
		if (!rep.next || (started && count(&f, ks_ring_publishes, KS_ROLE_ZSK) == 1))
			break;
		t = rep.next;
	}
	/* started once the first ZSK's signatures were everywhere (TTL + Dprp), not later */
	assert_int_equal(started, T0 + (zk_time_t) (p.max_zone_ttl + p.propagation_delay));
	assert_true(ks_store_count(f.store) <= keys_before + 1); /* one successor, no more */
	fixture_close(&f);

	/* an emergency: at once, and both keys sign until the old one's signatures are out */
	fixture_open(&f, &p);
	assert_int_equal(ks_ring_load(f.path, &f.ring, &e), 0);
	run(&f, T0, 0);
	rep = run(&f, T0 + 3600, 1u << KS_ROLE_ZSK);
	assert_int_equal(rep.generated, 1);
	assert_int_equal(count(&f, ks_ring_signs_zone, KS_ROLE_ZSK), 2);
	fixture_close(&f);
}

/* The next key event says what happens then, and the ring's file keeps it. */
static void the_next_event_says_what_happens(void **state)
{
	pol_policy p;
	fixture f;
	ks_ring_report rep;
	char text[160], want[160];
	zk_time_t t = T0;
	int zsk = -1;

	(void) state;
	pol_policy_defaults(&p);
	p.zsk_lifetime = 30 * DAY;
	p.ksk_lifetime = 0;
	fixture_open(&f, &p);
	assert_int_equal(ks_ring_load(f.path, &f.ring, &(zk_error) { 0 }), 0);
	assert_string_equal(ks_ring_event_text(&f.ring, text, sizeof(text)), "");
	rep = run(&f, t, 0); /* run() reloads the ring from its file: the event came back */
	assert_true(rep.next > t);
	snprintf(want, sizeof(want), "KSK %u has its DNSKEY in every cache", f.ring.k[0].tag);
	assert_int_equal(f.ring.k[0].role, KS_ROLE_KSK);
	assert_string_equal(ks_ring_event_text(&f.ring, text, sizeof(text)), want);
	/* settled: the next event is the ZSK's successor, Ipub before its lifetime ends */
	for (int steps = 0; steps < 20 && f.ring.ev.kind != KS_RING_EV_NEW; steps++) {
		t = rep.next;
		rep = run(&f, t, 0);
	}
	for (size_t i = 0; i < f.ring.n; i++)
		if (f.ring.k[i].role == KS_ROLE_ZSK)
			zsk = (int) i;
	assert_true(zsk >= 0);
	snprintf(want, sizeof(want), "a successor of ZSK %u is generated (its lifetime ends)",
		 f.ring.k[zsk].tag);
	assert_string_equal(ks_ring_event_text(&f.ring, text, sizeof(text)), want);
	assert_int_equal(f.ring.next, f.ring.k[zsk].active_at + 30 * DAY - p.propagation_delay -
					      p.dnskey_ttl - p.publish_safety);
	fixture_close(&f);
}

static void keys_of_an_older_version_are_adopted_by_their_timing(void **state)
{
	pol_policy p;
	fixture f;
	ks_key *ksk, *zsk;
	zk_error e = { 0 };
	ks_timing live = { .created = T0 - DAY, .publish = T0 - DAY, .active = T0 - DAY };

	(void) state;
	pol_policy_defaults(&p);
	fixture_open(&f, &p);
	assert_int_equal(ks_store_generate(f.store, 13, KS_ROLE_KSK, &live, &ksk, &e), 0);
	assert_int_equal(ks_store_generate(f.store, 13, KS_ROLE_ZSK, &live, &zsk, &e), 0);
	assert_int_equal(ks_ring_load(f.path, &f.ring, &e), 0);
	assert_int_equal(ks_ring_attach(&f.ring, f.store, &f.rp, T0, &e), 2);
	for (size_t i = 0; i < 2; i++) {
		assert_int_equal(f.ring.k[i].st[KS_DNSKEY], KS_OMNIPRESENT);
		assert_true(f.ring.k[i].goal);
	}
	/* the KSK's DS is taken as in place: its removal will wait for the parent */
	assert_int_equal(f.ring.k[0].st[KS_DS], KS_OMNIPRESENT);
	assert_int_equal(run(&f, T0, 0).generated, 0);
	assert_signable(&f);
	fixture_close(&f);
}

/*
 * The policy's own key generation leaves the last KS_RING_RESERVED slots to operators:
 * with the ring filled by rollovers still in progress, an algorithm change waits, and an
 * emergency rollover of either role still finds a slot. ks_ring_rolling tells a rollover
 * in progress, per role, and what it waits for.
 */
static void policy_generation_leaves_slots_for_emergency_rollovers(void **state)
{
	pol_policy p;
	fixture f;
	zk_error e = { 0 };
	zk_time_t t = T0;
	ks_ring_report rep;
	char why[192];
	int i;

	(void) state;
	pol_policy_defaults(&p);
	p.zsk_lifetime = p.ksk_lifetime = 0;
	fixture_open(&f, &p);
	assert_int_equal(ks_ring_load(f.path, &f.ring, &e), 0);
	run(&f, t, 0);
	assert_int_equal(f.ring.n, 2);
	assert_int_equal(ks_ring_rolling(&f.ring, KS_ROLE_ZSK, why, sizeof(why)), -1);
	assert_int_equal(ks_ring_rolling(&f.ring, KS_ROLE_KSK, why, sizeof(why)), -1);
	rep = run(&f, ++t, 1u << KS_ROLE_ZSK);
	assert_int_equal(rep.generated, 1);
	i = ks_ring_rolling(&f.ring, KS_ROLE_ZSK, why, sizeof(why));
	assert_true(i >= 0);
	assert_int_equal(f.ring.k[i].role, KS_ROLE_ZSK);
	assert_false(f.ring.k[i].goal);
	assert_non_null(strstr(why, "is leaving for key"));
	assert_non_null(strstr(why, "next key event"));
	assert_int_equal(ks_ring_rolling(&f.ring, KS_ROLE_KSK, why, sizeof(why)), -1);
	/* operators asking again and again (the API refuses that; the ring takes it) */
	while (f.ring.n < KS_RING_MAX - KS_RING_RESERVED)
		assert_int_equal(run(&f, ++t, 1u << KS_ROLE_ZSK).generated, 1);
	/* the policy moves to ECDSA P-384: neither new key takes a reserved slot */
	p.algorithm = 14;
	ks_ring_policy_from(&p, &f.rp);
	rep = run(&f, ++t, 0);
	assert_int_equal(rep.generated, 0);
	assert_int_equal(rep.deferred, (1u << KS_ROLE_KSK) | (1u << KS_ROLE_ZSK));
	assert_int_equal(f.ring.n, KS_RING_MAX - KS_RING_RESERVED);
	assert_signable(&f);
	/* an emergency rollover of each role finds its slot */
	rep = run(&f, ++t, 1u << KS_ROLE_KSK);
	assert_int_equal(rep.generated, 1);
	assert_int_equal(rep.deferred, 1u << KS_ROLE_ZSK);
	assert_true(ks_ring_rolling(&f.ring, KS_ROLE_KSK, why, sizeof(why)) >= 0);
	rep = run(&f, ++t, 1u << KS_ROLE_ZSK);
	assert_int_equal(rep.generated, 1);
	assert_int_equal(f.ring.n, KS_RING_MAX);
	/* beyond the ring, refused as before */
	assert_true(ks_ring_step(&f.ring, &f.rp, 1u << KS_ROLE_ZSK, 1u << KS_ROLE_ZSK, ++t,
				 ks_ring_gen_store, f.store, &rep, &e) < 0);
	fixture_close(&f);
}

static void missing_key_files_and_malformed_states_are_refused(void **state)
{
	pol_policy p;
	fixture f;
	zk_error e = { 0 };
	char path[300];

	(void) state;
	pol_policy_defaults(&p);
	fixture_open(&f, &p);
	assert_int_equal(ks_ring_load(f.path, &f.ring, &e), 0);
	run(&f, T0, 0);
	/* a key file disappears under a ring that still needs it */
	snprintf(path, sizeof(path), "%s/%s.key", f.keydir,
		 ks_key_basename(ks_store_key(f.store, 0)));
	assert_int_equal(unlink(path), 0);
	ks_store_free(f.store);
	assert_int_equal(ks_store_open(f.keydir, ZONE, NULL, &f.store, &e), 0);
	assert_int_equal(ks_ring_load(f.path, &f.ring, &e), 0);
	assert_int_equal(ks_ring_attach(&f.ring, f.store, &f.rp, T0, &e), ZK_E_KEY);
	assert_non_null(strstr(e.message, "missing"));
	/* a damaged state file names its line */
	assert_int_equal(zk_file_write_atomic(f.path, 0600, "zonekeeper-keyring 1\nkey 13 x\n",
					      29, &e), 0);
	assert_int_equal(ks_ring_load(f.path, &f.ring, &e), ZK_E_KEY);
	assert_int_equal(e.line, 2);
	assert_int_equal(zk_file_write_atomic(f.path, 0600, "something else\n", 15, &e), 0);
	assert_int_equal(ks_ring_load(f.path, &f.ring, &e), ZK_E_KEY);
	fixture_close(&f);
}

static void algorithm_change_rolls_both_keys_signatures_first(void **state)
{
	pol_policy p;
	fixture f;
	zk_error e = { 0 };
	zk_time_t t = T0;
	ks_ring_report rep;

	(void) state;
	pol_policy_defaults(&p);
	p.zsk_lifetime = p.ksk_lifetime = 0;
	fixture_open(&f, &p);
	assert_int_equal(ks_ring_load(f.path, &f.ring, &e), 0);
	for (int i = 0; i < 20 && (rep = run(&f, t, 0)).next; i++)
		t = rep.next;
	for (size_t i = 0; i < f.ring.n; i++)
		if (f.ring.k[i].role == KS_ROLE_KSK && f.ring.k[i].st[KS_DS] == KS_RUMOURED)
			assert_int_equal(ks_ring_ds_seen(&f.ring, f.ring.k[i].tag, true, t, &e), 0);
	for (int i = 0; i < 20 && (rep = run(&f, t, 0)).next; i++)
		t = rep.next;
	/* the policy moves to Ed25519 */
	p.algorithm = 15;
	ks_ring_policy_from(&p, &f.rp);
	rep = run(&f, t, 0);
	assert_int_equal(rep.generated, 2);
	/* RFC 6781 §4.1.4: the new algorithm signs the zone before its DNSKEY appears */
	for (size_t i = 0; i < f.ring.n; i++)
		if (f.ring.k[i].alg == 15 && ks_ring_publishes(&f.ring, i))
			fail_msg("a DNSKEY of the new algorithm before its signatures");
	for (int i = 0; i < 60; i++) {
		rep = run(&f, t, 0);
		assert_signable(&f);
		for (size_t k = 0; k < f.ring.n; k++)
			if (f.ring.k[k].alg == 15 && ks_ring_publishes(&f.ring, k))
				for (size_t j = 0; j < f.ring.n; j++)
					if (f.ring.k[j].alg == 15 && f.ring.k[j].role == KS_ROLE_ZSK)
						assert_true(ks_ring_signs_zone(&f.ring, j));
		for (size_t k = 0; k < f.ring.n; k++)
			if (f.ring.k[k].st[KS_DS] == KS_RUMOURED && !f.ring.k[k].ds_published)
				ks_ring_ds_seen(&f.ring, f.ring.k[k].tag, true, t, &e);
			else if (f.ring.k[k].st[KS_DS] == KS_UNRETENTIVE &&
				 !f.ring.k[k].ds_withdrawn)
				ks_ring_ds_seen(&f.ring, f.ring.k[k].tag, false, t, &e);
		if (!rep.next && !rep.waits_parent)
			break;
		t = rep.next ? rep.next : t + 3600;
	}
	/* done: only Ed25519 keys are left */
	for (size_t i = 0; i < f.ring.n; i++)
		assert_int_equal(f.ring.k[i].alg, 15);
	assert_int_equal(f.ring.n, 2);
	fixture_close(&f);
}

/* Invariant 14: CDS/CDNSKEY delete, full signing until the DS is gone from every cache. */
static void going_insecure_keeps_signing_until_the_ds_is_gone(void **state)
{
	pol_policy p;
	fixture f;
	zk_error e = { 0 };
	zk_time_t t = T0, gone_seen;
	ks_ring_report rep;
	uint16_t ksk = 0;
	char why[96];

	(void) state;
	pol_policy_defaults(&p);
	p.zsk_lifetime = p.ksk_lifetime = 0;
	fixture_open(&f, &p);
	assert_int_equal(ks_ring_load(f.path, &f.ring, &e), 0);
	for (int i = 0; i < 20 && (rep = run(&f, t, 0)).next; i++)
		t = rep.next;
	for (size_t i = 0; i < f.ring.n; i++)
		if (f.ring.k[i].role == KS_ROLE_KSK)
			ksk = f.ring.k[i].tag;
	assert_int_equal(ks_ring_ds_seen(&f.ring, ksk, true, t, &e), 0);
	for (int i = 0; i < 20 && (rep = run(&f, t, 0)).next; i++)
		t = rep.next;
	assert_false(ks_ring_cds_delete(&f.ring));
	/* the policy says insecure */
	p.insecure = true;
	ks_ring_policy_from(&p, &f.rp);
	t += DAY;
	for (int i = 0; i < 30; i++) {
		rep = run(&f, t, 0);
		assert_int_equal(rep.generated, 0);
		assert_true(ks_ring_cds_delete(&f.ring));
		assert_signable(&f); /* nothing leaves while the DS may be at the parent */
		t = rep.next ? rep.next : t + 30 * DAY;
	}
	snprintf(why, sizeof(why), "waiting for DS %u to leave the parent", ksk);
	assert_string_equal(ks_ring_status(&f.ring, (char[96]) { 0 }, 96), why);
	assert_int_equal(ks_ring_ds_seen(&f.ring, ksk, false, t, &e), 0);
	gone_seen = t;
	for (int i = 0; i < 30 && f.ring.n; i++) {
		rep = run(&f, t, 0);
		if (f.ring.n && t < gone_seen + (zk_time_t) (p.parent_ds_ttl +
							     p.parent_propagation_delay))
			assert_signable(&f);
		if (!rep.next)
			break;
		t = rep.next;
	}
	/* every key left, after the DS left every cache */
	assert_int_equal(f.ring.n, 0);
	assert_false(ks_ring_cds_delete(&f.ring));
	assert_true(t >= gone_seen + (zk_time_t) (p.parent_ds_ttl + p.parent_propagation_delay));
	fixture_close(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(zsk_rolls_on_lifetime_with_pre_publication),
		cmocka_unit_test(ksk_rollover_waits_for_the_ds_however_long),
		cmocka_unit_test(a_crash_after_generation_does_not_generate_twice),
		cmocka_unit_test(a_young_zsks_rollover_waits_and_never_doubles_the_signatures),
		cmocka_unit_test(the_next_event_says_what_happens),
		cmocka_unit_test(keys_of_an_older_version_are_adopted_by_their_timing),
		cmocka_unit_test(missing_key_files_and_malformed_states_are_refused),
		cmocka_unit_test(policy_generation_leaves_slots_for_emergency_rollovers),
		cmocka_unit_test(algorithm_change_rolls_both_keys_signatures_first),
		cmocka_unit_test(going_insecure_keeps_signing_until_the_ds_is_gone),
	};

	return cmocka_run_group_tests_name("ring", tests, setup, teardown);
}
