/*
 * signer/cli/simulate.c -- `zonekeeper simulate`: the key timeline a policy produces over
 * N days, without waiting. It steps the zone's key ring as the signer does
 * (keystore/ring.h; keys made in memory, nothing written): key generation, publication,
 * signing, DS submission, DS seen at the parent (after --ds-delay, or never), retirement
 * and removal, each at the time the model allows it. With --out, the real signer runs
 * over the simulated time instead and keeps every version it publishes.
 */
/* SPDX-License-Identifier: MIT */
/*
 * signer/cli/simulate.c -- `zonekeeper simulate`: the key timeline a policy produces over
 * N days, without waiting and without touching keys or zones. It runs the key-state model
 * (keystore/kasp.h) from a new zone: key generation, publication, signing, DS submission,
 * DS seen at the parent (after --ds-delay, or never), retirement and removal, each at the
 * time the model allows it.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "keystore/kasp.h"
#include "keystore/ring.h"
#include "policy/zk-codec.h"
#include "policy/zk-file.h"
#include "policy/zk-macro.h"
#include "signer/cli/cli.h"
#include "signer/rdata.h"
#include "signer/signer.h"

#define MAX_STEPS 1000000

static const char simulate_usage[] =
	"Usage: zonekeeper simulate --config FILE --zone NAME --days N [--start TIME]\n"
	"                           [--ds-delay DURATION|never] [--json]\n"
	"                           [--out DIR [--switch DAYS:POLICY]]\n"
	"\n"
	"Print the key events the zone's policy produces over N days, from a zone signed for\n"
	"the first time at --start (default: now): keys generated, published, signing, DS\n"
	"submitted (CDS/CDNSKEY), DS seen at the parent, retired, removed. The parent is\n"
	"assumed to show a submitted DS (or its withdrawal) --ds-delay later (default: the\n"
	"policy's parent_propagation_delay); 'never' shows a KSK rollover waiting for it.\n"
	"Nothing is written: no keys, no zones.\n"
	"\n"
	"  --out DIR        sign the zone for real over the simulated time instead: its input\n"
	"                   file is read, keys are generated into DIR/state, every published\n"
	"                   version is kept in DIR/versions/, and DIR/timeline.json lists the\n"
	"                   versions, the parent's DS sets (which follow the zone's CDS,\n"
	"                   --ds-delay later) and the key events.\n"
	"  --switch DAYS:POLICY  with --out: the zone moves to POLICY (another policy of the\n"
	"                   configuration) DAYS days in, e.g. for an algorithm rollover.\n";

typedef struct sim {
	ks_ring ring;     /* the zone's keys, as the signer keeps them (keystore/ring.h) */
	const char *zone;
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

static zk_time_t earliest(zk_time_t a, zk_time_t b)
{
	if (!a)
		return b;
	if (!b)
		return a;
	return a < b ? a : b;
}

/* Keys in memory only: the timeline needs their tags, nothing is written. */
static int gen_memory(void *userdata, ks_role role, uint8_t alg, zk_time_t now, ks_key **ret,
		      zk_error *reterr)
{
	sim *s = userdata;

	return ks_key_generate(alg, role, s->zone, now, ret, reterr);
}

static const ks_kstate *find_tag(const ks_kstate *k, size_t n, uint16_t tag)
{
	for (size_t i = 0; i < n; i++)
		if (k[i].tag == tag)
			return &k[i];
	return NULL;
}

/* The events of one step: keys generated, records that changed state, keys that left. */
static void step_events(sim *s, const ks_kstate *before, size_t n_before, zk_time_t t)
{
	static const ks_kstate fresh = { .st = { KS_HIDDEN, KS_HIDDEN, KS_HIDDEN, KS_HIDDEN } };
	const ks_ring *r = &s->ring;

	for (size_t i = 0; i < r->n; i++) {
		const ks_kstate *k = &r->k[i], *was = find_tag(before, n_before, k->tag);

		if (!was) {
			emit(s, t, k, k->pred >= 0 ? "generated (successor)" : "generated");
			was = &fresh;
		}
		for (int rec = 0; rec < KS_NREC; rec++)
			if (k->st[rec] != KS_NA && k->st[rec] != was->st[rec])
				emit(s, t, k, event_text(rec, k->st[rec]));
	}
	/* a key that left went to hidden for every record it still had */
	for (size_t j = 0; j < n_before; j++)
		if (!find_tag(r->k, r->n, before[j].tag))
			for (int rec = 0; rec < KS_NREC; rec++)
				if (before[j].st[rec] != KS_NA && before[j].st[rec] != KS_HIDDEN)
					emit(s, t, &before[j], event_text(rec, KS_HIDDEN));
}

static int run(sim *s, const pol_policy *p, zk_time_t start, zk_time_t end, bool never,
	       uint32_t ds_delay)
{
	ks_kstate before[KS_RING_MAX];
	ks_ring_policy rp;
	ks_ring_report rep;
	zk_time_t t = start;
	int r = CLI_OK;

	ks_ring_policy_from(p, &rp);
	for (int step = 0; step < MAX_STEPS; step++) {
		zk_error e = { 0 };
		size_t n_before = s->ring.n;
		zk_time_t next;

		memcpy(before, s->ring.k, n_before * sizeof(before[0]));
		if (ks_ring_step(&s->ring, &rp, 0, 0, t, gen_memory, s, &rep, &e) < 0) {
			r = cli_error(s->zone, e.code, &e);
			break;
		}
		step_events(s, before, n_before, t);
		for (size_t i = 0; i < rep.removed; i++)
			ks_key_free(rep.removed_keys[i]);
		next = rep.next;
		/* the parent, as the policy's delays say (or never) */
		for (size_t i = 0; i < s->ring.n && !never; i++) {
			ks_kstate *k = &s->ring.k[i];

			if (k->st[KS_DS] == KS_RUMOURED && !k->ds_published) {
				k->ds_published = t + ds_delay;
				k->ds_withdrawn = 0;
			}
			if (k->st[KS_DS] == KS_UNRETENTIVE && !k->ds_withdrawn)
				k->ds_withdrawn = t + ds_delay;
			if (k->ds_published == t)
				emit(s, t, k, "DS seen at every parent nameserver");
			if (k->ds_withdrawn == t)
				emit(s, t, k, "DS withdrawal seen at every parent nameserver");
			if (k->ds_published > t)
				next = earliest(next, k->ds_published);
			if (k->ds_withdrawn > t)
				next = earliest(next, k->ds_withdrawn);
		}
		if (!next || next > end)
			break;
		t = next > t ? next : t + 1;
	}
	/* what the zone waits for at the end */
	for (size_t i = 0; i < s->ring.n; i++) {
		const ks_kstate *k = &s->ring.k[i];
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
	for (size_t i = 0; i < s->ring.n; i++)
		ks_key_free(s->ring.key[i]);
	return r;
}

/* ---------------------------------------------------------------- --out: the real signer */

static const char *iso(zk_time_t t)
{
	static char buf[32];

	return zk_time_iso(t, buf, sizeof(buf));
}

static void emit_event(json_t *events, zk_time_t t, const ks_kstate *k, const char *what)
{
	const char *alg = pol_algorithm_name(k->alg);

	printf("%s  %-3s %5u %-16s %s\n", iso(t), ks_role_name(k->role), k->tag, alg ? alg : "?",
	       what);
	json_array_append_new(events, json_pack("{s:I,s:i,s:s,s:s}", "time", (json_int_t) t,
						"tag", k->tag, "role", ks_role_name(k->role),
						"event", what));
}

/*
 * With --out DIR the zone is signed for real over the simulated time: the signer's own
 * runs (keys generated into DIR/state, the zone read from its input file), at every key
 * event and signature refresh, each published version kept in DIR/versions/. The parent
 * is simulated from what the zone asks: the DS set becomes what CDS lists, --ds-delay
 * after the CDS changed, and the signer is told (as a parental agent would) once it has.
 * DIR/timeline.json lists the versions, the parent's DS sets and the policy's delays, for
 * checks outside (tests/system/test_rollover_validity.py).
 */
#define MAX_PARENT_DS 16

typedef struct parent_ds {
	uint16_t tag[MAX_PARENT_DS];   /* the DS set the parent serves */
	size_t n;
	uint16_t want[MAX_PARENT_DS];  /* what CDS asks for, from `since` */
	size_t n_want;
	zk_time_t since;               /* 0: nothing pending */
} parent_ds;

typedef struct out_sim {
	const pol_config *cfg;
	pol_zone *zone;
	const char *dir;
	json_t *versions, *parent, *events;
	ks_ring prev;
	size_t n_versions;
	bool never;
	uint32_t delay;
} out_sim;

static bool has_tag(const uint16_t *v, size_t n, uint16_t tag)
{
	for (size_t i = 0; i < n; i++)
		if (v[i] == tag)
			return true;
	return false;
}

static int copy_version(out_sim *o, zk_time_t t, const sgn_run_result *res)
{
	char path[PATH_MAX], rel[64], *text = NULL;
	size_t len;
	zk_error e = { 0 };
	int r;

	snprintf(rel, sizeof(rel), "versions/%04zu-%lld.zone", o->n_versions++, (long long) t);
	snprintf(path, sizeof(path), "%s/%s", o->dir, rel);
	r = zk_file_read(o->zone->output_file, 1u << 30, &text, &len);
	if (r >= 0)
		r = zk_file_write_atomic(path, 0644, text, len, &e);
	free(text);
	if (r < 0)
		return r;
	json_array_append_new(o->versions, json_pack("{s:I,s:I,s:s,s:I}", "time", (json_int_t) t,
						     "serial", (json_int_t) res->serial, "file",
						     rel, "dnskey_response",
						     (json_int_t) res->dnskey_response));
	return 0;
}

/* DS records of the parent's set, from the keys in the store (zone-file lines). */
static json_t *parent_json(out_sim *o, const ks_ring *ring, const parent_ds *pd, zk_time_t t)
{
	json_t *ds = json_array();

	for (size_t i = 0; i < ring->n; i++) {
		uint8_t rd[KS_DS_MAX];
		char hex[2 * KS_DS_MAX + 1], line[2 * KS_DS_MAX + 300];
		zk_error e = { 0 };
		int n;

		if (!ring->key[i] || !has_tag(pd->tag, pd->n, ring->k[i].tag))
			continue;
		n = sgn_key_ds(o->zone->name, ring->key[i], POL_DIGEST_SHA256, rd, sizeof(rd), &e);
		if (n < 0)
			continue;
		zk_hex_encode(rd + 4, (size_t) n - 4, hex);
		snprintf(line, sizeof(line), "%s %u IN DS %u %u %u %s", o->zone->name,
			 o->zone->policy->parent_ds_ttl, ring->k[i].tag, rd[2], rd[3], hex);
		json_array_append_new(ds, json_string(line));
	}
	return json_pack("{s:I,s:o}", "time", (json_int_t) t, "ds", ds);
}

static void key_events(out_sim *o, const ks_ring *ring, zk_time_t t)
{
	for (size_t i = 0; i < ring->n; i++) {
		const ks_kstate *k = &ring->k[i];
		const ks_kstate *was = NULL;

		for (size_t j = 0; j < o->prev.n && !was; j++)
			if (o->prev.k[j].tag == k->tag && o->prev.k[j].alg == k->alg)
				was = &o->prev.k[j];
		if (!was) {
			emit_event(o->events, t, k, "generated");
			continue;
		}
		for (int r = 0; r < KS_NREC; r++)
			if (k->st[r] != was->st[r])
				emit_event(o->events, t, k, event_text(r, k->st[r]));
	}
	for (size_t j = 0; j < o->prev.n; j++) {
		bool kept = false;

		for (size_t i = 0; i < ring->n; i++)
			kept |= ring->k[i].tag == o->prev.k[j].tag;
		if (!kept)
			emit_event(o->events, t, &o->prev.k[j], "archived");
	}
	o->prev = *ring;
	for (size_t i = 0; i < o->prev.n; i++)
		o->prev.key[i] = NULL;
}

/* The parent's DS set follows what CDS lists, `delay` later; the agents see it at once. */
static zk_time_t parent_step(out_sim *o, const ks_ring *ring, parent_ds *pd, zk_time_t t,
			     sgn_run_opts *confirm, size_t *n_confirm)
{
	uint16_t want[MAX_PARENT_DS];
	size_t n_want = 0;
	bool changed;

	for (size_t i = 0; i < ring->n && n_want < MAX_PARENT_DS; i++)
		if (ks_ring_cds(ring, i))
			want[n_want++] = ring->k[i].tag;
	changed = n_want != pd->n_want || memcmp(want, pd->want, n_want * sizeof(*want)) != 0;
	/* no CDS at all asks nothing, but the RFC 8078 delete form asks for no DS */
	if (changed && !o->never && (n_want || ks_ring_cds_delete(ring))) {
		memcpy(pd->want, want, sizeof(want));
		pd->n_want = n_want;
		pd->since = t + o->delay;
	}
	if (pd->since && pd->since <= t) {
		memcpy(pd->tag, pd->want, sizeof(pd->tag));
		pd->n = pd->n_want;
		pd->since = 0;
		json_array_append_new(o->parent, parent_json(o, ring, pd, t));
	}
	/* what the agents would now report for the keys waiting on the parent */
	*n_confirm = 0;
	for (size_t i = 0; i < ring->n && *n_confirm < KS_RING_MAX; i++) {
		const ks_kstate *k = &ring->k[i];
		bool at_parent = has_tag(pd->tag, pd->n, k->tag);
		sgn_run_opts *c = &confirm[*n_confirm];

		memset(c, 0, sizeof(*c));
		c->ds_seen_tag = k->tag;
		if (k->st[KS_DS] == KS_RUMOURED && !k->ds_published && at_parent)
			c->ds_seen = true;
		else if (k->st[KS_DS] == KS_UNRETENTIVE && !k->ds_withdrawn && !at_parent)
			c->ds_gone = true;
		else
			continue;
		(*n_confirm)++;
	}
	return pd->since;
}

static zk_time_t min_next(zk_time_t a, zk_time_t b)
{
	return !a ? b : !b ? a : a < b ? a : b;
}

static int run_out(out_sim *o, zk_time_t start, zk_time_t end, const pol_policy *switch_to,
		   zk_time_t switch_at)
{
	_cleanup_free_ ks_ring *ring = calloc(1, sizeof(*ring));
	sgn_run_opts confirm[KS_RING_MAX];
	parent_ds pd = { 0 };
	zk_time_t t = start;
	int r;

	if (!ring)
		return CLI_FAIL;
	for (unsigned step = 0; step < 100000; step++) {
		sgn_run_result *res = calloc(1, sizeof(*res));
		/* refreshes in batches, as the daemon makes them (PRE_REFRESH there) */
		sgn_run_opts opts = { .now = t, .diag = &cli_diag, .verify_level = -1,
				      .pre_refresh = 86400 };
		zk_time_t next, pending;
		size_t n_confirm = 0;
		ks_store *s = NULL;
		zk_error e = { 0 };

		if (!res)
			return CLI_FAIL;
		if (switch_to && t >= switch_at && o->zone->policy != switch_to) {
			o->zone->policy = switch_to;
			printf("%s  policy %s from now on\n", iso(t), switch_to->name);
		}
		r = sgn_run(o->cfg, o->zone, &opts, res, &e);
		if (r < 0) {
			free(res);
			return cli_error(o->zone->name, r, &e);
		}
		if (res->published) {
			printf("%s  published serial %u%s%s\n", iso(t), res->serial,
			       res->key_status[0] ? ": " : "", res->key_status);
			if (copy_version(o, t, res) < 0) {
				free(res);
				return CLI_FAIL;
			}
		}
		next = min_next(res->key_next, res->sign.next_refresh);
		free(res);
		r = sgn_ring_open(o->cfg, o->zone, &cli_diag, t, &s, ring, &e);
		if (r < 0)
			return cli_error(o->zone->name, r, &e);
		key_events(o, ring, t);
		pending = parent_step(o, ring, &pd, t, confirm, &n_confirm);
		ks_store_free(s);
		for (size_t i = 0; i < n_confirm; i++) {
			sgn_run_result *cr = calloc(1, sizeof(*cr));

			confirm[i].now = t;
			confirm[i].diag = &cli_diag;
			confirm[i].verify_level = -1;
			r = cr ? sgn_run(o->cfg, o->zone, &confirm[i], cr, &e) : -ENOMEM;
			if (r >= 0 && cr->published && copy_version(o, t, cr) < 0)
				r = -EIO;
			if (r >= 0)
				next = min_next(cr->key_next, cr->sign.next_refresh);
			free(cr);
			if (r < 0)
				return cli_error(o->zone->name, r, &e);
		}
		if (n_confirm)
			continue; /* the same instant again: what the confirmations made due */
		next = min_next(next, pending);
		if (switch_to && o->zone->policy != switch_to)
			next = min_next(next, switch_at);
		if (!next || next > end)
			return CLI_OK;
		t = next > t ? next : t + 1;
	}
	fprintf(stderr, "zonekeeper simulate: too many steps\n");
	return CLI_FAIL;
}

/* --out: a state directory of its own, the zone's versions and the timeline in `dir`. */
static int simulate_out(pol_config *cfg, const char *zone_name, const char *dir,
			zk_time_t start, zk_time_t end, bool never, uint32_t delay,
			const char *switch_s)
{
	out_sim o = { .cfg = cfg, .dir = dir, .never = never, .delay = delay };
	const pol_policy *switch_to = NULL, *p;
	zk_time_t switch_at = 0;
	char path[PATH_MAX];
	zk_error e = { 0 };
	json_t *tl;
	char *text;
	int r;

	for (size_t i = 0; i < cfg->n_zones; i++)
		if (!strcmp(cfg->zones[i].name, zone_name))
			o.zone = &cfg->zones[i];
	if (switch_s) {
		const char *colon = strchr(switch_s, ':');
		uint32_t days;

		for (size_t i = 0; colon && i < cfg->n_policies; i++)
			if (!strcmp(cfg->policies[i].name, colon + 1))
				switch_to = &cfg->policies[i];
		if (!colon || !switch_to ||
		    sgn_parse_uint(switch_s, (size_t) (colon - switch_s), 36500, &days) < 0) {
			fprintf(stderr, "zonekeeper simulate: --switch takes DAYS:POLICY (a policy of "
				"the configuration), not '%s'\n", switch_s);
			return CLI_USAGE;
		}
		switch_at = start + (zk_time_t) days * 86400;
	}
	snprintf(path, sizeof(path), "%s/versions", dir);
	r = zk_mkdir_p(path, 0755);
	if (r < 0) {
		fprintf(stderr, "zonekeeper simulate: cannot create %s: %s\n", path, strerror(-r));
		return CLI_FAIL;
	}
	/* everything the signer writes goes under DIR: state (keys included) and output */
	snprintf(path, sizeof(path), "%s/state", dir);
	free(cfg->paths.state_dir);
	cfg->paths.state_dir = strdup(path);
	snprintf(path, sizeof(path), "%s/current.zone", dir);
	free(o.zone->output_file);
	o.zone->output_file = strdup(path);
	if (!cfg->paths.state_dir || !o.zone->output_file)
		return CLI_FAIL;
	o.versions = json_array();
	o.parent = json_array();
	o.events = json_array();
	json_array_append_new(o.parent, json_pack("{s:I,s:[]}", "time", (json_int_t) start, "ds"));
	r = run_out(&o, start, end, switch_to, switch_at);
	p = o.zone->policy;
	tl = json_pack("{s:s,s:I,s:I,s:{s:i,s:i,s:i,s:i,s:i,s:i,s:i,s:i},s:o,s:o,s:o}",
		       "zone", o.zone->name, "start", (json_int_t) start, "end", (json_int_t) end,
		       "policy", "dnskey_ttl", p->dnskey_ttl, "propagation_delay",
		       p->propagation_delay, "max_zone_ttl", p->max_zone_ttl, "parent_ds_ttl",
		       p->parent_ds_ttl, "parent_propagation_delay", p->parent_propagation_delay,
		       "publish_safety", p->publish_safety, "retire_safety", p->retire_safety,
		       "ds_delay", delay, "versions", o.versions, "parent", o.parent, "events",
		       o.events);
	text = tl ? json_dumps(tl, JSON_INDENT(1)) : NULL;
	json_decref(tl);
	snprintf(path, sizeof(path), "%s/timeline.json", dir);
	if (!text || zk_file_write_atomic(path, 0644, text, strlen(text), &e) < 0) {
		fprintf(stderr, "zonekeeper simulate: cannot write %s: %s\n", path, e.message);
		r = CLI_FAIL;
	}
	free(text);
	return r;
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
		{ "out", required_argument, NULL, 'o' },
		{ "switch", required_argument, NULL, 'w' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	const char *config = NULL, *zone = NULL, *days = NULL, *start_s = NULL, *delay_s = NULL;
	const char *out = NULL, *switch_s = NULL;
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
		case 'o': out = optarg; break;
		case 'w': switch_s = optarg; break;
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
	if (out) {
		r = simulate_out(cfg, z->name, out, start, end, never, delay, switch_s);
		pol_config_free(cfg);
		return r;
	}
	if (switch_s) {
		fprintf(stderr, "zonekeeper simulate: --switch needs --out\n");
		pol_config_free(cfg);
		return CLI_USAGE;
	}
	s->zone = z->name;
	if (s->json)
		s->events = json_array();
	r = run(s, z->policy, start, end, never, delay);
	if (s->json)
		cli_print_json(json_pack("{s:s,s:I,s:o}", "zone", z->name, "days", (json_int_t) n_days,
					 "events", s->events));
	pol_config_free(cfg);
	return r;
}
