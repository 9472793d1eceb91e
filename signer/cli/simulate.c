/* SPDX-License-Identifier: MIT */
/*
 * signer/cli/simulate.c -- `zonekeeper simulate`: the key timeline a policy produces over
 * N days, without waiting and without touching keys or zones. It runs the key-state model
 * (keystore/kasp.h) from a new zone: key generation, publication, signing, DS submission,
 * DS seen at the parent (after --ds-delay, or never), retirement and removal, each at the
 * time the model allows it.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "keystore/kasp.h"
#include "policy/zk-macro.h"
#include "signer/cli/cli.h"
#include "signer/rdata.h"

#define MAX_SIM_KEYS 256
#define MAX_STEPS 1000000

static const char simulate_usage[] =
	"Usage: zonekeeper simulate --config FILE --zone NAME --days N [--start TIME]\n"
	"                           [--ds-delay DURATION|never] [--json]\n"
	"\n"
	"Print the key events the zone's policy produces over N days, from a zone signed for\n"
	"the first time at --start (default: now): keys generated, published, signing, DS\n"
	"submitted (CDS/CDNSKEY), DS seen at the parent, retired, removed. The parent is\n"
	"assumed to show a submitted DS (or its withdrawal) --ds-delay later (default: the\n"
	"policy's parent_propagation_delay); 'never' shows a KSK rollover waiting for it.\n"
	"Nothing is written: no keys, no zones.\n";

typedef struct sim {
	ks_kstate k[MAX_SIM_KEYS];
	size_t n;
	uint16_t next_tag;
	json_t *events;   /* --json */
	size_t n_events;
	bool json;
} sim;

static const char *role_name(ks_role r)
{
	return ks_role_name(r);
}

static const char *event_text(int rec, ks_state st)
{
	static const char *const text[KS_NREC][5] = {
		[KS_DNSKEY] = { "-", "DNSKEY gone from every cache", "DNSKEY published",
				"DNSKEY in every cache", "DNSKEY removed from the zone" },
		[KS_ZRRSIG] = { "-", "its zone signatures gone from every cache",
				"active: signing the zone", "its zone signatures in every cache",
				"retired: no longer signing the zone" },
		[KS_KRRSIG] = { "-", "its DNSKEY signature gone from every cache",
				"signing the DNSKEY RRset", "its DNSKEY signature in every cache",
				"no longer signing the DNSKEY RRset" },
		[KS_DS] = { "-", "DS gone from every cache",
			    "DS submitted: CDS/CDNSKEY published for it", "DS in every cache",
			    "DS withdrawal requested: CDS/CDNSKEY for it removed" },
	};

	return text[rec][st];
}

static void emit(sim *s, zk_time_t t, const ks_kstate *k, const char *what)
{
	char ts[32];
	const char *alg = pol_algorithm_name(k->alg);

	s->n_events++;
	zk_time_iso(t, ts, sizeof(ts));
	if (s->json) {
		json_array_append_new(s->events, json_pack("{s:s,s:I,s:i,s:s,s:s,s:s}", "time", ts,
							   "unixtime", (json_int_t) t, "tag",
							   k->tag, "role", role_name(k->role),
							   "algorithm", alg ? alg : "?", "event",
							   what));
		return;
	}
	printf("%s  %-3s %5u %-16s %s\n", ts, role_name(k->role), k->tag, alg ? alg : "?", what);
}

static int add_key(sim *s, ks_role role, uint8_t alg, int pred, zk_time_t now)
{
	if (s->n == MAX_SIM_KEYS)
		return -1;
	ks_kstate_init(&s->k[s->n], s->next_tag++, alg, role, pred, now);
	emit(s, now, &s->k[s->n], pred >= 0 ? "generated (successor)" : "generated");
	return (int) s->n++;
}

static zk_time_t earliest(zk_time_t a, zk_time_t b)
{
	if (!a)
		return b;
	if (!b)
		return a;
	return a < b ? a : b;
}

static int run(sim *s, const pol_policy *p, zk_time_t start, zk_time_t end, bool never,
	       uint32_t ds_delay)
{
	ks_kasp_params kp = {
		.dnskey_ttl = p->dnskey_ttl, .dprp = p->propagation_delay,
		.publish_safety = p->publish_safety, .retire_safety = p->retire_safety,
		.max_zone_ttl = p->max_zone_ttl,
		.sign_delay = p->rrsig_validity > p->rrsig_refresh
				      ? p->rrsig_validity - p->rrsig_refresh : 0,
		.ds_ttl = p->parent_ds_ttl, .dprp_parent = p->parent_propagation_delay,
	};
	zk_time_t t = start;
	bool waits = false;

	if (p->keys == POL_KEYS_CSK)
		add_key(s, KS_ROLE_CSK, p->algorithm, -1, t);
	else {
		add_key(s, KS_ROLE_KSK, p->algorithm, -1, t);
		add_key(s, KS_ROLE_ZSK, p->algorithm, -1, t);
	}
	for (int step = 0; step < MAX_STEPS; step++) {
		ks_state before[MAX_SIM_KEYS][KS_NREC];
		zk_time_t next = 0, roll_next = 0;
		unsigned due = ks_kasp_rolls_due(s->k, s->n, &kp, p->ksk_lifetime, p->zsk_lifetime, t,
						 &roll_next);

		for (int role = 0; role < _KS_ROLE_MAX; role++) {
			int old;

			if (!(due & (1u << role)))
				continue;
			old = ks_kasp_active(s->k, s->n, (ks_role) role);
			if (add_key(s, (ks_role) role, p->algorithm, old, t) < 0) {
				fprintf(stderr, "zonekeeper simulate: more than %d keys\n", MAX_SIM_KEYS);
				return CLI_FAIL;
			}
			s->k[old].goal = false;
		}
		if (due)
			roll_next = 0; /* recomputed next round */
		for (size_t i = 0; i < s->n; i++)
			memcpy(before[i], s->k[i].st, sizeof(before[i]));
		ks_kasp_update(s->k, s->n, &kp, t, &next, &waits);
		for (size_t i = 0; i < s->n; i++)
			for (int r = 0; r < KS_NREC; r++)
				if (s->k[i].st[r] != before[i][r])
					emit(s, t, &s->k[i], event_text(r, s->k[i].st[r]));
		/* the parent, as the policy's delays say (or never) */
		for (size_t i = 0; i < s->n && !never; i++) {
			ks_kstate *k = &s->k[i];

			if (k->st[KS_DS] == KS_RUMOURED && !k->ds_published) {
				k->ds_published = t + ds_delay;
				k->ds_withdrawn = 0;
			}
			if (k->st[KS_DS] == KS_UNRETENTIVE && !k->ds_withdrawn)
				k->ds_withdrawn = t + ds_delay;
			if (k->ds_published > t)
				next = earliest(next, k->ds_published);
			if (k->ds_withdrawn > t)
				next = earliest(next, k->ds_withdrawn);
		}
		for (size_t i = 0; i < s->n; i++) {
			ks_kstate *k = &s->k[i];

			if (k->ds_published == t)
				emit(s, t, k, "DS seen at every parent nameserver");
			if (k->ds_withdrawn == t)
				emit(s, t, k, "DS withdrawal seen at every parent nameserver");
		}
		next = earliest(next, due ? t : roll_next);
		if (!next || next > end)
			break;
		t = next > t ? next : t;
		if (due && next == t)
			continue;
	}
	/* what the zone waits for at the end */
	for (size_t i = 0; i < s->n; i++) {
		const ks_kstate *k = &s->k[i];
		char what[128];

		if (k->st[KS_DS] == KS_RUMOURED && (!k->ds_published || k->ds_published > end)) {
			snprintf(what, sizeof(what), "waiting for DS %u at the parent", k->tag);
			emit(s, end, k, what);
		}
		if (k->st[KS_DS] == KS_UNRETENTIVE && (!k->ds_withdrawn || k->ds_withdrawn > end)) {
			snprintf(what, sizeof(what), "waiting for DS %u to leave the parent", k->tag);
			emit(s, end, k, what);
		}
	}
	return CLI_OK;
}

/* Seconds since the epoch, or YYYYMMDDHHMMSS. */
static int parse_start(const char *s, zk_time_t *ret)
{
	char *end;
	unsigned long long v;

	if (strlen(s) == 14)
		return zk_time_parse14(s, ret);
	v = strtoull(s, &end, 10);
	if (!*s || *end || v > 253402300799ull)
		return -1;
	*ret = (zk_time_t) v;
	return 0;
}

int cmd_simulate(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "zone", required_argument, NULL, 'z' },
		{ "days", required_argument, NULL, 'd' },
		{ "start", required_argument, NULL, 's' },
		{ "ds-delay", required_argument, NULL, 'D' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	const char *config = NULL, *zone = NULL, *days = NULL, *start_s = NULL, *delay_s = NULL;
	_cleanup_free_ sim *s = calloc(1, sizeof(*s));
	const pol_zone *z;
	pol_config *cfg;
	zk_time_t start, end;
	uint32_t n_days = 0, delay = 0;
	bool never = false;
	int c, r;

	if (!s)
		return CLI_FAIL;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'c': config = optarg; break;
		case 'z': zone = optarg; break;
		case 'd': days = optarg; break;
		case 's': start_s = optarg; break;
		case 'D': delay_s = optarg; break;
		case 'j': s->json = true; break;
		case 'h': fputs(simulate_usage, stdout); return CLI_OK;
		default: fputs(simulate_usage, stderr); return CLI_USAGE;
		}
	}
	if (!config || !zone || !days || optind != argc ||
	    sgn_parse_uint(days, strlen(days), 36500, &n_days) < 0 || n_days == 0) {
		fprintf(stderr, "zonekeeper simulate: --config, --zone and --days N (1 to 36500) "
			"are required\n");
		return CLI_USAGE;
	}
	if (delay_s && !strcmp(delay_s, "never"))
		never = true;
	else if (delay_s && zk_duration_parse(delay_s, &delay) < 0) {
		fprintf(stderr, "zonekeeper simulate: --ds-delay takes a duration (1h, 2d) or "
			"'never', not '%s'\n", delay_s);
		return CLI_USAGE;
	}
	start = cli_now();
	if (start_s && parse_start(start_s, &start) < 0) {
		fprintf(stderr, "zonekeeper simulate: --start takes seconds since the epoch or "
			"YYYYMMDDHHMMSS, not '%s'\n", start_s);
		return CLI_USAGE;
	}
	cfg = cli_load_config(config);
	if (!cfg)
		return CLI_USAGE;
	z = pol_config_zone(cfg, zone);
	if (!z) {
		fprintf(stderr, "zonekeeper simulate: no zone %s in %s\n", zone, config);
		pol_config_free(cfg);
		return CLI_USAGE;
	}
	if (!delay_s)
		delay = z->policy->parent_propagation_delay;
	end = start + (zk_time_t) n_days * 86400;
	s->next_tag = 1;
	if (s->json)
		s->events = json_array();
	r = run(s, z->policy, start, end, never, delay);
	if (s->json)
		cli_print_json(json_pack("{s:s,s:I,s:o}", "zone", z->name, "days", (json_int_t) n_days,
					 "events", s->events));
	pol_config_free(cfg);
	return r;
}
