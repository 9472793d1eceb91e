/* SPDX-License-Identifier: MIT */
/*
 * signer/daemon/zones.c -- zones as data: created, deleted, restored and given another
 * policy through the API (the registry and the archive keep them), and the catalog zone
 * that tells the serving tier which zones there are. The manager (manager.c) owns the
 * zones and their runs; this file decides what a request does to them.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "policy/policy.h"
#include "policy/zk-file.h"
#include "policy/zk-macro.h"
#include "signer/catalog.h"
#include "signer/daemon/archive.h"
#include "signer/daemon/internal.h"
#include "signer/daemon/log.h"
#include "signer/daemon/registry.h"
#include "signer/state.h"

#define PURGE_USEC (6 * 3600 * 1000000ull) /* archived zones are purged this often */
#define CATALOG_USEC 200000             /* changes to the catalog are written together */
#define CATALOG_RETRY_USEC (60 * 1000000ull)

static void delete_now(manager *m, dzone *z);

/* A policy change of an API zone, once no job reads the policy. */
void zones_policy_apply(manager *m, dzone *z)
{
	if (!z->pending_policy)
		return;
	z->own.policy = z->pending_policy;
	z->pending_policy = NULL;
	mgr_zone_reconfigured(m, z);
	zones_catalog_changed(m); /* its group */
}

/*
 * The catalog (RFC 9432) lists every zone with a published file, its policy as the
 * member's group; written when that set changes, at most every CATALOG_USEC, and passed
 * to the reload hook and NOTIFY like a zone.
 */
static int on_catalog(sd_event_source *s, uint64_t usec, void *userdata)
{
	manager *m = userdata;
	const pol_config *c = m->config;
	cat_member *v;
	pol_zone cz;
	size_t n = 0;
	uint32_t serial = 0;
	bool changed = false;
	zk_error e = { 0 };
	int r;

	if (!c->catalog.name || pol_zone_make(c, c->catalog.name, NULL, &cz) < 0)
		return 0;
	v = calloc(m->zones.n ? m->zones.n : 1, sizeof(*v));
	if (!v) {
		pol_zone_clear(&cz);
		(void) mgr_set_timer(m, &m->catalog_timer, CATALOG_RETRY_USEC, on_catalog, m);
		return 0;
	}
	for (size_t i = 0; i < m->zones.n; i++) {
		dzone *z = m->zones.v[i];

		z->in_catalog = z->serial != 0;
		if (z->in_catalog)
			v[n++] = (cat_member) { .zone = z->name, .group = z->cfg->policy->name };
	}
	r = cat_write(cz.output_file, cz.name, v, n, mgr_now(m), &serial, &changed, &e);
	free(v);
	if (r < 0) {
		dlog_fields f = { .zone = cz.name, .signatures = -1, .error_code = r };
		char buf[1024];

		dlog(ZK_LOG_ERR, &f, "cannot write the catalog: %s; retrying in a minute",
		     zk_error_str(&e, r, buf, sizeof(buf)));
		(void) mgr_set_timer(m, &m->catalog_timer, CATALOG_RETRY_USEC, on_catalog, m);
	} else if (changed) {
		dlog_fields f = { .zone = cz.name, .serial = serial, .signatures = -1 };

		dlog(ZK_LOG_INFO, &f, "catalog written: %zu zone(s), serial %u", n, serial);
		m->catalog_serial = serial;
		/* retried like a zone's; not marked for a restart: the catalog is written anew */
		if (c->publish.reload_command)
			(void) hooks_run_reload(m->hooks, cz.name, NULL, c->publish.reload_command,
						c->publish.reload_timeout, cz.output_file);
		if (c->publish.n_notify)
			(void) hooks_notify(m->hooks, cz.name, NULL, c->publish.notify,
					    c->publish.n_notify, serial);
	}
	pol_zone_clear(&cz);
	return 0;
}

void zones_catalog_changed(manager *m)
{
	if (!m->config->catalog.name ||
	    (m->catalog_timer && sd_event_source_get_enabled(m->catalog_timer, NULL) > 0))
		return;
	(void) mgr_set_timer(m, &m->catalog_timer, CATALOG_USEC, on_catalog, m);
}

/* The reply of a create or restore that waited for the zone's first publication. */
void zones_answer_create(dzone *z, int code, const zk_error *e)
{
	api_req *req = z->create_req;
	json_t *reply = z->create_reply;

	if (!req)
		return;
	z->create_req = NULL;
	z->create_reply = NULL;
	if (code < 0) {
		zk_error msg = { 0 };
		char buf[700];

		zk_fail(&msg, code, "the zone is created but not published yet: %s",
			zk_error_str(e, code, buf, sizeof(buf)));
		api_reply_error(req, code, &msg);
		json_decref(reply);
		return;
	}
	json_object_set_new(reply, "zone", mgr_zone_json(z));
	json_object_set_new(reply, "ds", routes_ds_json(z));
	json_object_set_new(reply, "published", json_true());
	api_reply_json(req, 201, reply);
}

/* After a run: a creation waiting for the publication of its records. */
void zones_creation_done(dzone *z)
{
	if (!z->create_req || z->job_only_wb || z->job_safe)
		return;
	if (z->r < 0)
		zones_answer_create(z, z->r, &z->err);
	else if (z->serial && z->published_seq >= z->create_seq)
		zones_answer_create(z, 0, NULL);
}

/* The answer of a create or restore: now, or (with `wait`) at the first publication. */
static int creation_reply(manager *m, dzone *z, api_req *req, json_t *reply, bool wait,
			  uint64_t seq)
{
	if (wait) {
		z->create_req = req;
		z->create_reply = reply;
		z->create_seq = seq;
	} else {
		json_object_set_new(reply, "zone", mgr_zone_json(z));
		json_object_set_new(reply, "published", json_false());
		api_reply_json(req, 201, reply);
	}
	mgr_want_run(z, true); /* a client waits for it */
	return API_LATER;
}

/* Whether a DS of the zone's keys is at the parent (or still in caches). */
static bool ds_at_parent(const dzone *z, uint16_t *ret_tag)
{
	for (size_t i = 0; z->ring_snap && i < z->ring_snap->n; i++) {
		ks_state st = z->ring_snap->k[i].st[KS_DS];

		if (st == KS_RUMOURED || st == KS_OMNIPRESENT || st == KS_UNRETENTIVE) {
			*ret_tag = z->ring_snap->k[i].tag;
			return true;
		}
	}
	return false;
}

/*
 * A zone created again under the name of one deleted (its archive still here) goes on from
 * the old zone's last serial: secondaries that still hold the old zone take the new one
 * only with a greater serial (invariant 1). Its state file starts with that serial.
 */
static int serial_after_archive(const pol_config *c, const pol_zone *z, zk_error *reterr)
{
	char arc[PATH_MAX], path[PATH_MAX + 16], dir[PATH_MAX];
	_cleanup_free_ char *policy = NULL;
	sgn_state old = { 0 }, st = { 0 };
	zk_error e = { 0 };
	int r;

	if (arc_find(c, z->name, arc, sizeof(arc), &policy, &e) < 0)
		return 0; /* no archive (or none readable): a zone new to everyone */
	snprintf(path, sizeof(path), "%s/state/state", arc);
	if (sgn_state_load(path, &old, &e) < 0 || !old.serial.set)
		return 0;
	st.serial = old.serial;
	st.signed_at = old.signed_at;
	sgn_zone_dir(c, z, dir, sizeof(dir));
	r = zk_mkdir_p(dir, 0700);
	if (r < 0)
		return zk_fail(reterr, r, "cannot create the zone state directory '%s'", dir);
	sgn_state_path(c, z, path, sizeof(path));
	return sgn_state_store(path, &st, reterr);
}

int mgr_zone_create(manager *m, const char *name, const pol_policy *p, rec_op *ops, size_t n,
		    json_t *stripped, api_req *req, bool wait, zk_error *reterr)
{
	const pol_config *c = m->config;
	char dir[PATH_MAX], ts[32];
	_cleanup_free_ char *header = NULL;
	uint64_t seq = 0;
	pol_zone own;
	json_t *reply;
	dzone *z;
	int r;

	r = pol_zone_make(c, name, p, &own);
	if (r < 0 || !strcmp(own.name, ".")) {
		if (r >= 0)
			pol_zone_clear(&own);
		return zk_fail(reterr, r == -ENOMEM ? r : ZK_E_INVALID_RECORD,
			       "'%.255s' is not a zone name zonekeeper can create", name);
	}
	if (mgr_find_zone(m, own.name)) {
		zk_fail(reterr, ZK_E_ZONE_EXISTS, "zone %s exists", own.name);
		goto fail;
	}
	sgn_zone_dir(c, &own, dir, sizeof(dir));
	if (access(own.input_file, F_OK) == 0 || access(dir, F_OK) == 0) {
		zk_fail(reterr, ZK_E_ZONE_EXISTS, "%s exists, left by an earlier zone %s: move it "
			"away first (zonekeeper does not adopt files it did not make)",
			access(dir, F_OK) == 0 ? dir : own.input_file, own.name);
		goto fail;
	}
	/*
	 * The input file: an SOA (its values are the policy's whatever it says: only the
	 * `keep` serial scheme reads its serial) and, once written back, the records of the
	 * API's writes.
	 */
	if (asprintf(&header, "; zone %s, created through the record API at %s.\n"
		     "; zonekeeper writes the records of API writes into this file.\n"
		     "$ORIGIN %s\n@ %u IN SOA %s %s%s 1 %u %u %u %u\n", own.name,
		     zk_time_iso(mgr_now(m), ts, sizeof(ts)), own.name, p->soa.ttl,
		     p->soa.mname && p->soa.mname[0] ? p->soa.mname
		     : p->n_nameservers ? p->nameservers[0] : "invalid.",
		     p->soa.rname && p->soa.rname[0] ? p->soa.rname : "hostmaster.",
		     p->soa.rname && p->soa.rname[0] ? "" : own.name, p->soa.refresh,
		     p->soa.retry, p->soa.expire, p->soa.minimum) < 0) {
		zk_fail(reterr, -ENOMEM, "out of memory");
		goto fail;
	}
	r = zk_mkdir_p(c->paths.input_dir, 0755);
	if (r < 0) {
		zk_fail(reterr, r, "cannot create %s", c->paths.input_dir);
		goto fail;
	}
	r = zk_file_write_atomic(own.input_file, 0644, header, strlen(header), reterr);
	if (r < 0)
		goto fail;
	r = serial_after_archive(c, &own, reterr);
	if (r >= 0)
		r = reg_add(m->registry, own.name, p->name, mgr_now(m), reterr);
	if (r < 0) {
		char state[PATH_MAX];

		/* nothing left behind that would refuse the next try (see above) */
		sgn_state_path(c, &own, state, sizeof(state));
		(void) unlink(state);
		(void) rmdir(dir);
		(void) unlink(own.input_file);
		goto fail;
	}
	z = mgr_zone_new(m, c, &own);
	if (!z) {
		zk_error e;

		(void) reg_del(m->registry, own.name, &e);
		(void) unlink(own.input_file);
		zk_fail(reterr, -ENOMEM, "out of memory");
		goto fail;
	}
	{
		dlog_fields f = { .zone = z->name, .signatures = -1 };

		dlog(ZK_LOG_NOTICE, &f, "zone created through the API by %s (policy %s, %zu "
		     "record(s))", api_req_peer(req), p->name, n);
	}
	reply = json_pack("{s:s,s:O,s:I}", "status", "ok", "stripped",
			  stripped ? stripped : json_array(), "records", (json_int_t) n);
	if (n) {
		uint8_t apex[DN_MAXLEN];
		zk_error e = { 0 };

		/* the zone's index starts empty: the writes below fill it */
		if (!z->recs && (dn_from_text(z->name, strlen(z->name), (const uint8_t *) "",
					      apex) < 0 || rec_set_new(apex, p, &z->recs) < 0)) {
			rec_ops_free(ops, n);
			json_decref(reply);
			mgr_want_run(z, true);
			return zk_fail(reterr, -ENOMEM, "the zone %s is created, but its records "
				       "could not be saved: out of memory", z->name);
		}
		seq = jnl_next_seq(z->journal);
		/* the records go through the journal as any write: durable before the answer */
		if (!wait)
			json_object_set_new(reply, "zone", mgr_zone_json(z));
		r = z->journal ? writes_submit(m, z, ops, n, wait ? NULL : req, 201,
					    wait ? NULL : json_incref(reply), false, &e)
			       : zk_fail(&e, -EIO, "the zone's journal cannot be opened");
		if (r != API_LATER) {
			rec_ops_free(ops, n);
			zk_fail(reterr, r, "the zone %s is created, but its records could not be "
				"saved: %s", z->name, e.message);
			json_decref(reply);
			mgr_want_run(z, true);
			return r;
		}
		if (!wait) {
			json_decref(reply);
			mgr_want_run(z, true);
			return API_LATER; /* answered once the journal is synced */
		}
	} else {
		free(ops);
	}
	return creation_reply(m, z, req, reply, wait, seq);
fail:
	rec_ops_free(ops, n);
	pol_zone_clear(&own);
	return r < 0 ? r : reterr->code;
}

int mgr_zone_set_policy(manager *m, dzone *z, const pol_policy *p, zk_error *reterr)
{
	const reg_entry *re;
	int r;

	if (!z->from_api)
		return zk_fail(reterr, ZK_E_ZONE_IN_CONFIG, "zone %s is in the configuration file "
			       "%s: change its policy there", z->name, m->config->path);
	re = reg_find(m->registry, z->name);
	r = reg_add(m->registry, z->name, p->name, re ? re->created : mgr_now(m), reterr);
	if (r < 0)
		return r;
	{
		dlog_fields f = { .zone = z->name, .signatures = -1 };

		dlog(ZK_LOG_NOTICE, &f, "policy changed from %s to %s", z->own.policy->name,
		     p->name);
	}
	/* a running job reads the policy: the change waits for its end (job_done) */
	z->pending_policy = p;
	if (!z->job_alive)
		zones_policy_apply(m, z);
	return 0;
}

/* Carry out a delete (no job runs for the zone, no worker holds it). */
static void delete_now(manager *m, dzone *z)
{
	api_req *req = z->delete_req;
	const pol_config *c = m->config;
	char dir[PATH_MAX], ts[32];
	dlog_fields f = { .zone = z->name, .signatures = -1 };
	zk_time_t now = mgr_now(m);
	zk_error e = { 0 };
	int r;

	z->delete_req = NULL;
	writes_commit_now(m); /* no queued write may point at the zone */
	r = arc_store(c, z->cfg, now, dir, sizeof(dir), &e);
	if (r < 0) {
		char buf[1024];

		f.error_code = r;
		dlog(ZK_LOG_ERR, &f, "cannot delete the zone: %s",
		     zk_error_str(&e, r, buf, sizeof(buf)));
		/* the details (paths) are in the log, not in the answer */
		zk_fail(&e, r, "the zone could not be archived, so it stays (see the daemon's "
			"log)");
		api_reply_error(req, r, &e);
		mgr_enqueue(m, z);
		return;
	}
	/* withdrawn from the servers: its signed file, the catalog, the reload hook */
	if (unlink(z->cfg->output_file) == 0)
		(void) zk_fsync_parent(z->cfg->output_file);
	r = reg_del(m->registry, z->name, &e);
	if (r < 0) {
		char buf[1024];

		f.error_code = r;
		dlog(ZK_LOG_ERR, &f, "the zone's files are archived in %s, but %s", dir,
		     zk_error_str(&e, r, buf, sizeof(buf)));
	}
	dlog(ZK_LOG_NOTICE, &f, "zone deleted through the API by %s; archived in %s",
	     api_req_peer(req), dir);
	zk_fail(&e, ZK_E_ZONE_NOT_FOUND, "the zone was deleted before the change was published");
	writes_answer_waiters(z, UINT64_MAX, ZK_E_ZONE_NOT_FOUND, &e);
	zones_answer_create(z, ZK_E_ZONE_NOT_FOUND, &e);
	if (z->key_req) {
		routes_key_done(z, z->key_req, ZK_E_ZONE_NOT_FOUND, &e);
		z->key_req = NULL;
	}
	/* runs once: the zone's hooks end with it (mgr_zone_drop), a command running then
	 * finishes */
	if (c->publish.reload_command)
		(void) hooks_run_reload(m->hooks, z->name, NULL, c->publish.reload_command,
					c->publish.reload_timeout, z->cfg->output_file);
	api_reply_json(req, 200, json_pack("{s:s,s:s,s:s,s:s}", "status", "ok", "zone", z->name,
					   "archive", dir, "purge_after",
					   zk_time_iso(now + (zk_time_t) c->archive_days * 86400, ts,
						       sizeof(ts))));
	mgr_zone_drop(m, z);
	zones_catalog_changed(m);
	mgr_update_status(m);
}

/* The deletes that waited for a job or the workers. */
void zones_deletes_resume(manager *m)
{
	size_t k = 0;

	if (pool_pending(m->pool))
		return;
	for (size_t i = 0; i < m->n_deletes; i++) {
		dzone *z = m->deletes[i];

		if (z->job_alive)
			m->deletes[k++] = z;
		else
			delete_now(m, z);
	}
	m->n_deletes = k;
}

int mgr_zone_delete(manager *m, dzone *z, bool force, api_req *req, zk_error *reterr)
{
	uint16_t tag;

	if (!z->from_api)
		return zk_fail(reterr, ZK_E_ZONE_IN_CONFIG, "zone %s is in the configuration file "
			       "%s: remove it there and reload", z->name, m->config->path);
	if (z->delete_req)
		return zk_fail(reterr, ZK_E_CONFLICT, "zone %s is being deleted", z->name);
	if (!force && ds_at_parent(z, &tag))
		return zk_fail(reterr, ZK_E_DS_AT_PARENT, "the DS of key %u of zone %s is at the "
			       "parent (or still in caches): deleting the zone would make it bogus. "
			       "Give the zone a policy with insecure = true, wait until its keys "
			       "show no DS, then delete it (or ?force=true)", tag, z->name);
	z->delete_req = req;
	z->want = false;
	mgr_dequeue(m, z);
	if (z->job_alive || pool_pending(m->pool)) {
		dzone **v = realloc(m->deletes, (m->n_deletes + 1) * sizeof(*v));

		if (!v) {
			z->delete_req = NULL;
			return zk_fail(reterr, -ENOMEM, "out of memory");
		}
		m->deletes = v;
		m->deletes[m->n_deletes++] = z;
		return API_LATER;
	}
	delete_now(m, z);
	return API_LATER;
}

int mgr_zone_restore(manager *m, const char *name, api_req *req, bool wait, zk_error *reterr)
{
	const pol_config *c = m->config;
	_cleanup_free_ char *norm = NULL, *policy = NULL;
	char dir[PATH_MAX];
	const pol_policy *p;
	pol_zone own;
	dzone *z;
	int r;

	if (pol_name_normalize(name, &norm) < 0)
		return zk_fail(reterr, ZK_E_INVALID_RECORD, "'%.255s' is not a zone name", name);
	if (mgr_find_zone(m, norm))
		return zk_fail(reterr, ZK_E_ZONE_EXISTS, "zone %s exists: delete it first to "
			       "restore the archived one", norm);
	r = arc_find(c, norm, dir, sizeof(dir), &policy, reterr);
	if (r < 0)
		return r;
	p = pol_config_policy(c, policy);
	if (!p)
		return zk_fail(reterr, ZK_E_CONFLICT, "the archived zone %s had policy \"%s\", which "
			       "is no longer configured", norm, policy);
	r = pol_zone_make(c, norm, p, &own);
	if (r < 0)
		return zk_fail(reterr, r, "cannot restore %s", norm);
	r = arc_restore(c, &own, dir, reterr);
	if (r >= 0)
		r = reg_add(m->registry, own.name, p->name, mgr_now(m), reterr);
	if (r < 0) {
		pol_zone_clear(&own);
		return r;
	}
	z = mgr_zone_new(m, c, &own);
	if (!z) {
		pol_zone_clear(&own);
		return zk_fail(reterr, -ENOMEM, "out of memory (the zone is restored and comes "
			       "back at the next start)");
	}
	{
		dlog_fields f = { .zone = z->name, .signatures = -1 };

		dlog(ZK_LOG_NOTICE, &f, "zone restored through the API by %s from %s",
		     api_req_peer(req), dir);
	}
	return creation_reply(m, z, req, json_pack("{s:s}", "status", "ok"), wait, 0);
}

/* Archived zones older than archive_days go, now and every PURGE_USEC. */
static int on_purge(sd_event_source *s, uint64_t usec, void *userdata)
{
	manager *m = userdata;
	size_t n = arc_purge(m->config, mgr_now(m), m->config->archive_days);

	if (n)
		dlog(ZK_LOG_NOTICE, NULL, "%zu archived zone(s) older than %u days removed", n,
		     m->config->archive_days);
	(void) mgr_set_timer(m, &m->purge_timer, PURGE_USEC, on_purge, m);
	return 0;
}

void zones_purge(manager *m)
{
	on_purge(NULL, 0, m);
}
