/* SPDX-License-Identifier: MIT */
/*
 * signer/keyview.c -- the keys of a zone as JSON (see keyview.h).
 */
#include <stdio.h>

#include "policy/zk-codec.h"
#include "policy/zk-macro.h"
#include "signer/keyview.h"
#include "signer/signer.h"

const char *sgn_key_phase(const ks_ring *ring, size_t i)
{
	const ks_kstate *k = &ring->k[i];

	if (!ks_ring_publishes(ring, i))
		return k->st[KS_DNSKEY] == KS_HIDDEN && k->goal ? "generated" : "removing";
	if (!k->goal)
		return "retiring";
	return ks_ring_signs_zone(ring, i) || ks_ring_signs_keys(ring, i) ? "active"
									   : "published";
}

static json_t *time_json(zk_time_t t)
{
	char buf[32];

	return t ? json_string(zk_time_iso(t, buf, sizeof(buf))) : json_null();
}

static json_t *state_json(ks_state s)
{
	return s == KS_NA ? json_null() : json_string(ks_state_name(s));
}

/* The planned retire and remove times of key i (0: none planned). */
static void planned(const ks_ring *ring, size_t i, const pol_policy *p, zk_time_t *retire,
		    zk_time_t *remove)
{
	const ks_kstate *k = &ring->k[i];
	uint32_t life = k->role == KS_ROLE_ZSK ? p->zsk_lifetime : p->ksk_lifetime;
	ks_ring_policy rp;
	zk_time_t ipub;

	*retire = *remove = 0;
	if (!k->goal || !life || !k->active_at ||
	    ks_kasp_active(ring->k, ring->n, k->role) != (int) i)
		return;
	/* as "retire" is set: when the successor is made, Ipub before the lifetime ends
	 * (ks_kasp_rolls_due) */
	ks_ring_policy_from(p, &rp);
	ipub = (zk_time_t) rp.kp.dprp + rp.kp.dnskey_ttl + rp.kp.publish_safety;
	*retire = k->active_at + life > ipub ? k->active_at + life - ipub : k->active_at;
	if (k->role != KS_ROLE_ZSK)
		return;
	/* it stops signing at the end of its lifetime; then Iret (its signatures out of every
	 * cache), then its DNSKEY out of every cache (keystore/kasp.c, ks_kasp_when) */
	*remove = k->active_at + life + rp.kp.max_zone_ttl + rp.kp.dprp + rp.kp.sign_delay +
		  rp.kp.retire_safety + rp.kp.dnskey_ttl + rp.kp.dprp;
}

json_t *sgn_keys_view(const ks_ring *ring, const pol_policy *p)
{
	json_t *arr = json_array(), *pending = json_array();
	char why[96], first[160], event[160];

	for (size_t i = 0; i < ring->n; i++) {
		const ks_kstate *k = &ring->k[i];
		const ks_key *key = ring->key[i];
		const ks_timing *t = key ? ks_key_timing(key) : NULL;
		const ks_timing none = { 0 };
		const char *alg = pol_algorithm_name(k->alg);
		const char *waiting = ks_ring_waiting(ring, i, why, sizeof(why));
		zk_time_t retire = 0, remove = 0;

		if (!t)
			t = &none;
		if (p)
			planned(ring, i, p, &retire, &remove);
		json_array_append_new(arr, json_pack(
			"{s:i,s:s,s:s,s:i,s:i,s:s,s:s,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,"
			"s:o}",
			"tag", k->tag, "role", ks_role_name(k->role), "algorithm", alg ? alg : "?",
			"algorithm_number", k->alg, "flags", key ? ks_key_flags(key) : 0,
			"state", sgn_key_phase(ring, i), "goal", k->goal ? "in zone" : "leaving",
			"dnskey", state_json(k->st[KS_DNSKEY]), "krrsig", state_json(k->st[KS_KRRSIG]),
			"zrrsig", state_json(k->st[KS_ZRRSIG]), "ds", state_json(k->st[KS_DS]),
			"waiting", waiting ? json_string(waiting) : json_null(),
			"created", time_json(t->created), "publish", time_json(t->publish),
			"active", time_json(t->active), "retire", time_json(t->retire),
			"remove", time_json(t->remove), "retire_planned", time_json(retire),
			"remove_planned", time_json(remove),
			"file", key ? json_string(ks_key_basename(key)) : json_null()));
	}
	ks_ring_status(ring, first, sizeof(first));
	for (int role = 0; role < _KS_ROLE_MAX; role++)
		if (ring->pending & (1u << role))
			json_array_append_new(pending, json_string(ks_role_name((ks_role) role)));
	ks_ring_event_text(ring, event, sizeof(event));
	return json_pack("{s:o,s:o,s:o,s:o,s:o}", "keys", arr, "next_key_event",
			 time_json(ring->next), "next_key_action",
			 event[0] ? json_string(event) : json_null(), "waiting",
			 first[0] ? json_string(first) : json_null(), "rollovers_pending", pending);
}

json_t *sgn_ds_view(const ks_ring *ring, const pol_zone *zone, uint8_t digest,
		    zk_error *reterr)
{
	const pol_policy *p = zone->policy;
	json_t *arr = json_array();

	for (size_t i = 0; i < ring->n; i++) {
		const ks_kstate *k = &ring->k[i];

		if (!ring->key[i] || !k->goal || k->st[KS_DS] == KS_NA ||
		    !ks_ring_publishes(ring, i))
			continue;
		const uint8_t *digests = digest ? &digest : p->cds_digests;
		size_t n_digests = digest ? 1 : ZK_ELEMENTSOF(p->cds_digests);

		for (size_t d = 0; d < n_digests && digests[d]; d++) {
			uint8_t rd[KS_DS_MAX];
			char hex[2 * KS_DS_MAX + 1], text[2 * KS_DS_MAX + 600];
			int n;

			n = sgn_key_ds(zone->name, ring->key[i], digests[d], rd, sizeof(rd), reterr);
			if (n < 0) {
				json_decref(arr);
				return NULL;
			}
			zk_hex_encode(rd + 4, (size_t) n - 4, hex);
			snprintf(text, sizeof(text), "%s\t%u\tIN\tDS\t%u %u %u %s", zone->name,
				 p->parent_ds_ttl, k->tag, rd[2], rd[3], hex);
			json_array_append_new(arr, json_pack(
				"{s:i,s:i,s:i,s:s,s:s,s:s,s:s}", "tag", k->tag, "algorithm", rd[2],
				"digest_type", rd[3], "digest", hex, "record", text, "role",
				ks_role_name(k->role), "ds_state", ks_state_name(k->st[KS_DS])));
		}
	}
	return arr;
}
