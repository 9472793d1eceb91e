/* SPDX-License-Identifier: MIT */
/*
 * signer/daemon/agents.c -- asking a zone's parental agents for its DS while a KSK
 * rollover (or going insecure) waits on the parent.
 *
 * Each check runs on a thread of its own with a copy of everything it needs (the zone's
 * name, the agents, the DNSKEYs), so that neither a configuration reload nor a signing
 * run has to wait for it: an unreachable agent costs its own timeouts and nothing else.
 * The answer comes back through a pipe to the loop, which hands what the agents showed to
 * the zone's next run (sgn_run_opts.ds_obs) and asks again ds_check_interval later for as
 * long as something waits.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "policy/zk-macro.h"
#include "signer/daemon/internal.h"
#include "signer/daemon/log.h"
#include "signer/parent.h"

#define AGENT_TIMEOUT_MS 2000

typedef struct check {
	manager *m;
	dzone *z;              /* compared, never followed, until found among m->zones */
	uint64_t id;
	pthread_t thread;
	zk_time_t asked_at;
	char *zone;
	pol_notify_target *agents;
	size_t n_agents;
	parent_key keys[KS_RING_MAX];
	size_t n_keys;
	sgn_ds_seen seen[KS_RING_MAX];
	int r;
	zk_error err;
} check;

static check *check_free(check *c)
{
	if (!c)
		return NULL;
	for (size_t i = 0; i < c->n_agents; i++)
		free(c->agents[i].address);
	free(c->agents);
	free(c->zone);
	free(c);
	return NULL;
}

static void *check_main(void *arg)
{
	check *c = arg;
	const uint8_t *rd[KS_RING_MAX];
	size_t len[KS_RING_MAX];

	for (size_t i = 0; i < c->n_keys; i++) {
		rd[i] = c->keys[i].rdata;
		len[i] = c->keys[i].len;
	}
	c->r = sgn_parent_ds_check(c->zone, c->agents, c->n_agents, rd, len, c->n_keys,
				   AGENT_TIMEOUT_MS, c->seen, &c->err);
	if (write(c->m->agents_pipe[1], &c, sizeof(c)) != sizeof(c))
		abort(); /* a pipe of a few bytes cannot fail short: the loop would never know */
	return NULL;
}

static check *check_new(dzone *z)
{
	const pol_zone *pz = z->cfg;
	check *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->m = z->m;
	c->z = z;
	c->id = ++z->m->agents_seq;
	c->asked_at = mgr_now(z->m);
	c->zone = strdup(pz->name);
	c->agents = calloc(pz->n_parental_agents, sizeof(*c->agents));
	if (!c->zone || !c->agents)
		return check_free(c);
	for (size_t i = 0; i < pz->n_parental_agents; i++, c->n_agents++) {
		c->agents[i].port = pz->parental_agents[i].port;
		c->agents[i].address = strdup(pz->parental_agents[i].address);
		if (!c->agents[i].address)
			return check_free(c);
	}
	c->n_keys = z->n_waiting < KS_RING_MAX ? z->n_waiting : KS_RING_MAX;
	memcpy(c->keys, z->waiting, c->n_keys * sizeof(c->keys[0]));
	return c;
}

void agents_on_timer(dzone *z)
{
	dlog_fields f = { .zone = z->name, .signatures = -1 };
	check *c;
	int r;

	if (z->agents_running || !z->n_waiting || !z->cfg->n_parental_agents)
		return;
	c = check_new(z);
	if (!c) {
		dlog(ZK_LOG_ERR, &f, "cannot ask the parental agents: out of memory");
		return;
	}
	r = pthread_create(&c->thread, NULL, check_main, c);
	if (r) {
		dlog(ZK_LOG_ERR, &f, "cannot start a parental-agent check: %s", strerror(r));
		check_free(c);
		return;
	}
	z->agents_running = true;
	z->agents_id = c->id;
	z->m->agents_running++;
	return;
}

void agents_schedule(dzone *z)
{
	zk_time_t when;
	uint64_t delay;

	if (!z->n_waiting || !z->cfg->n_parental_agents || z->agents_running) {
		if (!z->n_waiting)
			mgr_event_clear(z, ZEV_AGENTS);
		if (!z->n_waiting)
			z->agents_next = 0;
		return;
	}
	when = z->parent_asked ? z->parent_asked + (zk_time_t) z->cfg->policy->ds_check_interval
			       : mgr_now(z->m);
	z->agents_next = when;
	delay = mgr_delay_usec(z->m, when);
	mgr_event_set(z, ZEV_AGENTS, delay);
	/* the keys' next event is also the next time the agents are asked */
	if (z->keys_view && (!z->key_next || when < z->key_next)) {
		char ts[32];

		json_object_set_new(z->keys_view, "next_key_event",
				    json_string(zk_time_iso(when, ts, sizeof(ts))));
	}
}

/* Does `o` move a key the last run left waiting (not a DS already seen)? */
static bool news_for(const dzone *z, const sgn_ds_obs *o)
{
	ks_ring ring;

	if (!z->ring_snap)
		return false;
	ring = *z->ring_snap;
	for (size_t i = 0; i < ring.n; i++)
		if (ring.k[i].tag == o->tag && ring.k[i].alg == o->alg)
			return ks_ring_ds_observed(&ring, i, o->published, mgr_now(z->m));
	return false;
}

/* What a check found: observations for the next run, or the reason it could not ask. */
static void check_finish(check *c)
{
	manager *m = c->m;
	dzone *z = NULL;
	dlog_fields f = { .signatures = -1 };

	for (size_t i = 0; i < mgr_n_zones(m) && !z; i++)
		if (mgr_zone_at(m, i) == c->z && c->z->agents_id == c->id)
			z = c->z;
	if (!z)
		return; /* the zone went with a configuration reload */
	f.zone = z->name;
	z->agents_running = false;
	z->parent_asked = c->asked_at;
	if (c->r < 0) {
		if (strcmp(c->err.message, z->parent_error) != 0)
			dlog(ZK_LOG_WARNING, &f, "cannot check the DS at the parent: %s",
			     c->err.message);
		snprintf(z->parent_error, sizeof(z->parent_error), "%s", c->err.message);
	} else {
		z->parent_error[0] = '\0';
		for (size_t i = 0; i < c->n_keys; i++) {
			sgn_ds_obs o = { .tag = c->keys[i].tag, .alg = c->keys[i].alg,
					 .published = c->seen[i] == SGN_DS_PUBLISHED };
			size_t j;

			if ((c->seen[i] != SGN_DS_PUBLISHED && c->seen[i] != SGN_DS_ABSENT) ||
			    !news_for(z, &o))
				continue;
			for (j = 0; j < z->n_obs; j++)
				if (z->obs[j].tag == o.tag && z->obs[j].alg == o.alg)
					break;
			if (j == ZK_ELEMENTSOF(z->obs))
				continue;
			z->obs[j] = o;
			if (j == z->n_obs)
				z->n_obs++;
		}
		/* the run decides whether that is what a key waited for */
		if (z->n_obs)
			mgr_want_run(z, false);
	}
	agents_schedule(z);
}

static int on_agents_done(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	manager *m = userdata;
	check *c;

	if (read(fd, &c, sizeof(c)) != sizeof(c))
		return 0;
	pthread_join(c->thread, NULL);
	m->agents_running--;
	check_finish(c);
	check_free(c);
	return 0;
}

int agents_init(manager *m)
{
	if (pipe2(m->agents_pipe, O_CLOEXEC) < 0)
		return -errno;
	return sd_event_add_io(m->event, &m->agents_src, m->agents_pipe[0], EPOLLIN,
			       on_agents_done, m);
}

void agents_done(manager *m)
{
	/* bounded: each check ends within its agents' timeouts */
	while (m->agents_running > 0) {
		check *c;

		if (read(m->agents_pipe[0], &c, sizeof(c)) != sizeof(c))
			break;
		pthread_join(c->thread, NULL);
		m->agents_running--;
		check_free(c);
	}
	sd_event_source_disable_unref(m->agents_src);
	m->agents_src = NULL;
	for (int i = 0; i < 2; i++)
		if (m->agents_pipe[i] >= 0)
			close(m->agents_pipe[i]);
	m->agents_pipe[0] = m->agents_pipe[1] = -1;
}
