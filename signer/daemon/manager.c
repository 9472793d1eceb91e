/* SPDX-License-Identifier: MIT */
/*
 * signer/daemon/manager.c -- the daemon's event loop and zone scheduling. See manager.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <systemd/sd-daemon.h>
#include <systemd/sd-event.h>

#include "policy/policy.h"
#include "policy/zk-file.h"
#include "policy/zk-macro.h"
#include "signer/daemon/api.h"
#include "signer/daemon/hooks.h"
#include "signer/daemon/internal.h"
#include "signer/daemon/log.h"
#include "signer/daemon/manager.h"
#include "signer/keyview.h"
#include "signer/signer.h"

#define PRE_REFRESH (60 * 60)     /* re-sign what falls due within the hour (Knot: 1h) */
/*
 * A failed run is retried after RETRY_MIN seconds of zone time, doubling up to RETRY_MAX:
 * a few runs an hour while a fault lasts, never a tight loop. Zone time, so that the fake
 * clock's tests see the same schedule (doc/invariants.md, never bogus).
 */
#define RETRY_MIN 10
#define RETRY_MAX (30 * 60)
#define JOB_NICE 5                      /* signing threads run at this niceness */
#define POOL_THREADS 2                  /* workers for the loop's heavy work (pool.h) */
/*
 * API writes reach the input file once the zone is quiet for WRITEBACK_QUIET_USEC, at the
 * latest WRITEBACK_MAX_USEC after the first one pending, or once the journal holds
 * WRITEBACK_BYTES. A write-back of a 100k zone holds the signing thread for 50-100 ms:
 * under a steady stream of writes, one every 5 s made the slowest ?wait=published writes.
 */
#define WRITEBACK_QUIET_USEC (5 * 1000000ull)
#define WRITEBACK_MAX_USEC (60 * 1000000ull)
#define WRITEBACK_BYTES (4u << 20)

static zk_time_t now_of(const manager *m)
{
	return zk_clock_now(&m->clock);
}

static uint64_t mono_usec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t) ts.tv_sec * 1000000 + (uint64_t) ts.tv_nsec / 1000;
}

static void schedule(manager *m);
static void update_status(manager *m);
static void check_ready(manager *m);
static void arm_writeback(dzone *z);

/* ---------------------------------------------------------------- timers */

int mgr_set_timer(manager *m, sd_event_source **src, uint64_t delay_usec,
		  sd_event_time_handler_t cb, void *userdata)
{
	uint64_t now;
	int r;

	sd_event_now(m->event, CLOCK_MONOTONIC, &now);
	if (!*src)
		/* 1 ms accuracy (0 would mean sd-event's 250 ms: a debounce or a write-back that
		 * late adds up) */
		return sd_event_add_time(m->event, src, CLOCK_MONOTONIC, now + delay_usec, 1000, cb,
					 userdata);
	r = sd_event_source_set_time(*src, now + delay_usec);
	if (r < 0)
		return r;
	return sd_event_source_set_enabled(*src, SD_EVENT_ONESHOT);
}

static int on_due(sd_event_source *s, uint64_t usec, void *userdata)
{
	dzone *z = userdata;

	z->want = true;
	z->due_fired = true;
	schedule(z->m);
	return 0;
}

uint64_t mgr_delay_usec(const manager *m, zk_time_t when)
{
	zk_time_t now = now_of(m);
	double speed = m->clock.now == zk_clock_real.now ? 1.0 : m->clock.speed;

	if (speed <= 0)
		return UINT64_MAX; /* a frozen fake clock never reaches it */
	return when <= now ? 0 : (uint64_t) ((double) (when - now) * 1e6 / speed);
}

zk_time_t mgr_next_key_event(const dzone *z)
{
	if (!z->agents_next || (z->key_next && z->key_next < z->agents_next))
		return z->key_next;
	return z->agents_next;
}

void mgr_want_run(dzone *z)
{
	z->want = true;
	schedule(z->m);
}

/* Arm the zone's due timer for simulated instant `when` (real delay = gap / speed). */
static void arm_due(dzone *z, zk_time_t when)
{
	manager *m = z->m;
	uint64_t delay = mgr_delay_usec(m, when);
	int r;

	z->next_event = when;
	if (delay == UINT64_MAX) {
		if (z->due)
			sd_event_source_set_enabled(z->due, SD_EVENT_OFF);
		return;
	}
	{
		dlog_fields f = { .zone = z->name, .signatures = -1 };
		char ts[32];

		dlog(ZK_LOG_DEBUG, &f, "next run at %s (in %.3f s)", zk_time_iso(when, ts, sizeof(ts)),
		     (double) delay / 1e6);
	}
	r = mgr_set_timer(m, &z->due, delay, on_due, z);
	if (r < 0) {
		dlog_fields f = { .zone = z->name, .signatures = -1 };

		dlog(ZK_LOG_ERR, &f, "cannot arm the zone timer: %s", strerror(-r));
	}
}

/*
 * The due timer: the retry while the zone's runs fail (each one followed by a safe run
 * when a refresh is near, and RETRY_MAX is well inside that margin), else the next
 * re-signing or key event. Never a time already past while failing: that would be a
 * tight loop.
 */
static void arm_next(dzone *z)
{
	zk_time_t when = z->retry_at ? z->retry_at : z->refresh_at;

	_Static_assert(RETRY_MAX < PRE_REFRESH, "a retry comes before a due refresh");
	if (when)
		arm_due(z, when);
	else if (z->due)
		sd_event_source_set_enabled(z->due, SD_EVENT_OFF);
}

/* After a failure (z->failures counted): retry with backoff in zone time. */
static void arm_retry(dzone *z)
{
	unsigned n = z->failures ? z->failures - 1 : 0;
	zk_time_t delay = (zk_time_t) RETRY_MIN << (n < 16 ? n : 16);

	if (delay > RETRY_MAX)
		delay = RETRY_MAX;
	z->retry_at = now_of(z->m) + delay;
	arm_next(z);
}

static int on_debounce(sd_event_source *s, uint64_t usec, void *userdata)
{
	dzone *z = userdata;
	struct stat sb;

	/* our own write-back: nothing new to read */
	if (z->have_input_id && stat(z->cfg->input_file, &sb) == 0 && zk_same_file(&sb, &z->input_id))
		return 0;

	z->want = true;
	z->want_reload = true;
	schedule(z->m);
	return 0;
}

/* ---------------------------------------------------------------- zones */

static dzone *zone_free(dzone *z)
{
	if (!z)
		return NULL;
	sd_event_source_disable_unref(z->due);
	sd_event_source_disable_unref(z->debounce);
	sd_event_source_disable_unref(z->wb_timer);
	sgn_ctx_free(z->ctx);
	jnl_free(z->journal);
	rec_set_free(z->recs);
	rec_ops_free(z->ops, z->n_ops);
	free(z->op_usec);
	for (size_t i = 0; i < z->n_sys; i++)
		rec_rr_clear(&z->sys[i]);
	json_decref(z->keys_view);
	json_decref(z->ds_view[0]);
	json_decref(z->ds_view[1]);
	free(z->ring_snap);
	free(z->waiting);
	free(z->job_waiting);
	sd_event_source_disable_unref(z->agents_timer);
	free(z->input_real);
	free(z->name);
	free(z);
	return NULL;
}

/* The journal of API writes; what it holds is replayed by the first run. */
static void zone_open_journal(const pol_config *c, dzone *z)
{
	char dir[PATH_MAX], path[PATH_MAX + 16];
	zk_error e = { 0 };
	rec_op *ops = NULL;
	size_t n = 0;
	int r;

	sgn_zone_dir(c, z->cfg, dir, sizeof(dir));
	snprintf(path, sizeof(path), "%s/journal", dir);
	r = zk_mkdir_p(dir, 0700);
	if (r >= 0)
		r = jnl_open(path, &z->diag, &z->journal, &ops, &n, &e);
	if (r < 0) {
		dlog_fields f = { .zone = z->name, .signatures = -1, .error_code = r };
		char buf[1024];

		dlog(ZK_LOG_ERR, &f, "record API writes refused: %s",
		     zk_error_str(&e, r, buf, sizeof(buf)));
		return;
	}
	z->journal_damaged = jnl_damaged(z->journal);
	z->ops = ops;
	z->n_ops = z->cap_ops = n;
	z->op_usec = calloc(n ? n : 1, sizeof(*z->op_usec));
	if (!z->op_usec)
		abort(); /* a few bytes per write at start-up */
	z->synced_seq = jnl_next_seq(z->journal) - 1;
	if (n) {
		dlog_fields f = { .zone = z->name, .signatures = -1 };

		dlog(ZK_LOG_NOTICE, &f, "%zu change%s of the record API not yet in the input file: "
		     "replaying them", n, n == 1 ? "" : "s");
	}
}

static dzone *zone_new(manager *m, const pol_config *c, const pol_zone *cfg)
{
	dzone *z = calloc(1, sizeof(*z));

	if (!z)
		return NULL;
	z->m = m;
	z->cfg = cfg;
	z->name = strdup(cfg->name);
	if (!z->name)
		return zone_free(z);
	z->diag = (zk_diag) { .emit = dlog_diag_emit, .userdata = z->name };
	z->want = z->want_reload = true; /* first run: read the input, publish if it changed */
	zone_open_journal(c, z);
	return z;
}

static dzone *find_zone(const manager *m, const char *name)
{
	const pol_zone *pz = pol_config_zone(m->config, name);

	for (size_t i = 0; pz && i < m->n_zones; i++)
		if (!strcmp(m->zones[i]->name, pz->name))
			return m->zones[i];
	return NULL;
}

/* ---------------------------------------------------------------- jobs */

/* The apex records zonekeeper owns, for listings (copies). */
static size_t system_records(const sgn_zone *z, const pol_policy *p, rec_rr *out, size_t max)
{
	static const uint16_t types[] = { T_SOA, T_NS, T_DNSKEY, T_CDS, T_CDNSKEY, T_NSEC3PARAM };
	const sgn_node *apex = z->apex_node;
	size_t n = 0;

	for (size_t t = 0; apex && t < ZK_ELEMENTSOF(types); t++) {
		const sgn_rrset *s = sgn_node_rrset(apex, types[t]);
		const uint8_t *q = s ? s->rdata : NULL;

		for (uint16_t i = 0; s && i < s->count && n < max; i++, q += 2 + blob_len(q)) {
			rec_rr rr = { .type = s->type, .ttl = s->ttl, .rdlen = blob_len(q) };

			if (!rec_is_system(z->apex, p, apex->name, s->type, q + 2, rr.rdlen))
				continue;
			memcpy(rr.owner, apex->name, apex->name_len);
			rr.rdata = malloc(rr.rdlen ? rr.rdlen : 1);
			if (!rr.rdata)
				break;
			memcpy(rr.rdata, q + 2, rr.rdlen);
			out[n++] = rr;
		}
	}
	return n;
}

/*
 * In the job thread, which alone changes the key directory: the keys for the API, from the
 * states the run left (read from disk only when the run failed before saving any).
 */
static void job_keys_view(dzone *z)
{
	const ks_ring *last = sgn_ctx_ring(z->ctx);
	ks_ring *ring = malloc(sizeof(*ring));
	ks_store *s = NULL;
	zk_error e = { 0 };

	if (!ring)
		return;
	if (last)
		*ring = *last;
	else if (sgn_ring_open(z->m->config, z->cfg, NULL, z->opts.now, &s, ring, &e) < 0) {
		free(ring);
		return;
	}
	z->job_keys_view = sgn_keys_view(ring);
	z->job_ds_view[0] = sgn_ds_view(ring, z->cfg, POL_DIGEST_SHA256, &e);
	z->job_ds_view[1] = sgn_ds_view(ring, z->cfg, POL_DIGEST_SHA384, &e);
	z->job_n_waiting = 0;
	for (size_t i = 0; i < ring->n; i++) {
		char why[96];
		parent_key *k;
		size_t len;
		const uint8_t *rd;

		if (!ks_ring_waiting(ring, i, why, sizeof(why)))
			continue;
		if (!z->job_waiting)
			z->job_waiting = calloc(KS_RING_MAX, sizeof(*z->job_waiting));
		if (!z->job_waiting)
			break;
		k = &z->job_waiting[z->job_n_waiting++];
		rd = ks_key_dnskey(ring->key[i], &len);
		k->tag = ring->k[i].tag;
		k->alg = ring->k[i].alg;
		k->len = (uint16_t) len;
		memcpy(k->rdata, rd, len);
	}
	ks_store_free(s);
	for (size_t i = 0; i < ring->n; i++)
		ring->key[i] = NULL;
	z->job_ring_snap = ring;
}

/* In the loop thread once the job ended: its view of the keys replaces the last one. */
static void take_keys_view(dzone *z)
{
	if (!z->job_ring_snap)
		return;
	json_decref(z->keys_view);
	json_decref(z->ds_view[0]);
	json_decref(z->ds_view[1]);
	free(z->ring_snap);
	z->keys_view = z->job_keys_view;
	z->ds_view[0] = z->job_ds_view[0];
	z->ds_view[1] = z->job_ds_view[1];
	z->ring_snap = z->job_ring_snap;
	z->job_keys_view = z->job_ds_view[0] = z->job_ds_view[1] = NULL;
	z->job_ring_snap = NULL;
	free(z->waiting);
	z->waiting = z->job_waiting;
	z->n_waiting = z->job_n_waiting;
	z->job_waiting = NULL;
	z->job_n_waiting = 0;
}

/*
 * The job thread's word to the loop, twice per job: `done` false once the run is over (the
 * ?wait=published writes are answered then, not after a write-back of the input file that
 * may follow), true when the thread is over. One write per message, far below PIPE_BUF:
 * it is never split.
 */
typedef struct {
	dzone *z;
	bool done;
} job_msg;

static void job_tell(dzone *z, bool done)
{
	job_msg msg = { .z = z, .done = done };

	if (write(z->m->job_pipe[1], &msg, sizeof(msg)) != sizeof(msg))
		abort(); /* a pipe of a few bytes cannot fail short: the loop would hang */
}

static void job_write_back(dzone *z)
{
	uint64_t t0 = mono_usec();

	z->wb_r = sgn_ctx_write_input(z->ctx, &z->wb_seq, &z->wb_err);
	z->wb_usec = mono_usec() - t0;
}

static void *job_main(void *arg)
{
	dzone *z = arg;

	/*
	 * Signing yields the CPU to the loop thread (API requests, journal commits, the
	 * watchdog): threads this one starts inherit its nice value. On a busy machine a
	 * publication takes a little longer; writes keep being accepted at full speed.
	 */
	(void) setpriority(PRIO_PROCESS, (id_t) gettid(), JOB_NICE);

	z->r = 0;
	if (!z->job_only_wb) {
		z->r = sgn_ctx_run(z->ctx, &z->opts, &z->res, &z->err);
		job_keys_view(z);
	}
	if (!z->job_only_wb && z->r >= 0 && sgn_ctx_current(z->ctx)) {
		const sgn_zone *cur = sgn_ctx_current(z->ctx);

		/* the index follows the zone when the input was read (an edit, the first run) */
		if (z->job_need_recs || z->res.input_read)
			(void) rec_set_from_zone(cur, z->cfg->policy, &z->job_recs);
		z->job_n_sys = system_records(cur, z->cfg->policy, z->job_sys, MAX_SYSTEM_RRS);
		z->job_sys_set = true;
	}
	/* the run is over: from here on the loop reads only what the write-back leaves alone */
	job_tell(z, false);
	if (z->job_writeback && z->r >= 0 && sgn_ctx_current(z->ctx))
		job_write_back(z);
	job_tell(z, true);
	return NULL;
}

/*
 * The run failed on what the input file says (or on reading it): nothing to retry until
 * the file changes. Only a run that read the input can fail that way; a missing or
 * unreadable file counts only if the run failed before it had read it (an unwritable
 * output directory is not the input's fault).
 */
static bool input_error(const dzone *z)
{
	int code = z->r;

	if (!z->opts.reload_input)
		return false;
	if (!z->res.input_read && (code == -ENOENT || code == -EACCES || code == -EAGAIN ||
				   code == -EISDIR || code == -ELOOP))
		return true;
	return code == ZK_E_ZONE_PARSE || code == ZK_E_ZONE_CONTENT || code == ZK_E_OUT_OF_ZONE ||
	       code == ZK_E_CNAME_CONFLICT || code == ZK_E_SERIAL_NOT_GREATER ||
	       code == ZK_E_INVALID_RECORD || code == ZK_E_LIMIT;
}

static void start_job(manager *m, dzone *z)
{
	dlog_fields f = { .zone = z->name, .signatures = -1 };
	zk_error e = { 0 };
	int r;

	z->want = false;
	z->job_safe = z->want_safe;
	z->want_safe = false;
	if (!z->ctx) {
		size_t stale = sgn_remove_stale_temps(m->config, z->cfg);

		if (stale)
			dlog(ZK_LOG_NOTICE, &f, "removed %zu temporary file(s) an earlier crash left",
			     stale);
		r = sgn_ctx_open(m->config, z->cfg, &z->diag, &z->ctx, &e);
		if (r < 0) {
			z->last_code = r;
			z->last_error = e;
			z->failures++;
			z->runs++;
			z->failed_runs++;
			z->first_done = true;
			f.error_code = r;
			dlog(ZK_LOG_ERR, &f, "cannot open the zone: %s, retrying", e.message);
			arm_retry(z);
			check_ready(m); /* reported: the zone had its go */
			update_status(m);
			return;
		}
	}
	if (z->job_safe) {
		/* the published version only, with the keys in memory: see sgn_run_opts.safe */
		z->opts = (sgn_run_opts) {
			.now = now_of(m),
			.diag = &z->diag,
			.safe = true,
			.verify_level = -1,
			.pre_refresh = PRE_REFRESH,
			.splice = true,
		};
		z->job_n_changes = 0;
		z->job_need_recs = !z->recs;
		z->job_recs = NULL;
		z->job_sys_set = false;
		z->job_n_sys = 0;
		z->job_writeback = z->job_only_wb = false;
		z->job_key_req = NULL;
		goto start;
	}
	z->opts = (sgn_run_opts) {
		.now = now_of(m),
		.diag = &z->diag,
		/* a broken input is read again only once it changed (want_reload) */
		.reload_input = z->want_reload,
		.verify_level = -1,
		.pre_refresh = PRE_REFRESH,
		.splice = true,
	};
	z->want_reload = false;
	/* a key request rides on this run, with what the parental agents showed */
	z->job_key_req = z->key_req;
	z->key_req = NULL;
	z->opts.roll = z->key_roll;
	z->opts.ds_seen = z->key_ds_seen;
	z->opts.ds_gone = z->key_ds_gone;
	z->opts.ds_seen_tag = z->key_ds_tag;
	z->key_roll = 0;
	z->key_ds_seen = z->key_ds_gone = false;
	memcpy(z->job_obs, z->obs, z->n_obs * sizeof(z->obs[0]));
	z->opts.ds_obs = z->job_obs;
	z->opts.n_ds_obs = z->n_obs;
	z->n_obs = 0;
	/* the writes whose journal lines are durable (a prefix: ops are in seq order) */
	z->job_n_changes = 0;
	while (z->job_n_changes < z->n_ops && z->ops[z->job_n_changes].seq <= z->synced_seq)
		z->job_n_changes++;
	if (z->job_n_changes) {
		/* a copy of the array (the loop appends meanwhile); RDATA stays shared and is
		 * freed only once the job is over */
		rec_op *snap = malloc(z->job_n_changes * sizeof(*snap));

		if (!snap) {
			z->want = true;
			z->want_reload = z->opts.reload_input;
			arm_retry(z);
			return;
		}
		memcpy(snap, z->ops, z->job_n_changes * sizeof(*snap));
		z->opts.changes = snap;
		z->opts.n_changes = z->job_n_changes;
	}
	z->job_need_recs = !z->recs;
	z->job_recs = NULL;
	z->job_sys_set = false;
	z->job_n_sys = 0;
	/*
	 * Not while the input is broken: the write-back would replace the file the operator
	 * is fixing, and finding it changed would read it again, fail, and loop. The writes
	 * stay in the journal (and published) until the input is good again.
	 */
	z->job_writeback = z->job_n_changes && !z->input_broken &&
			   (z->writeback_due || m->stopping ||
			    (z->journal && jnl_size(z->journal) > WRITEBACK_BYTES));
	/* a write-back alone (the timer) needs no signing run when everything is published */
	z->job_only_wb = z->job_writeback && !z->opts.reload_input && !z->due_fired &&
			 !z->job_key_req &&
			 z->ops[z->job_n_changes - 1].seq <= z->published_seq &&
			 z->job_n_changes == z->n_ops && sgn_ctx_current(z->ctx);
start:
	z->due_fired = false;
	z->runs += !z->job_only_wb;
	z->safe_runs += z->job_safe;
	zk_clock_hold(&m->clock, true);
	z->wb_r = -EAGAIN;
	z->wb_seq = 0;
	memset(&z->err, 0, sizeof(z->err));
	z->running = true;
	m->job = z;
	notify_status("signing %s", z->name);
	r = pthread_create(&z->thread, NULL, job_main, z);
	if (r) {
		z->running = false;
		m->job = NULL;
		zk_clock_hold(&m->clock, false);
		dlog(ZK_LOG_ERR, &f, "cannot start a signing thread: %s", strerror(r));
		z->failures++;
		z->failed_runs++;
		arm_retry(z);
	}
}

static void schedule(manager *m)
{
	if (m->job || m->stopping || m->reload_pending)
		return;
	for (size_t i = 0; i < m->n_zones; i++)
		if (m->zones[i]->want) {
			start_job(m, m->zones[i]);
			if (m->job)
				return;
		}
}

static void check_ready(manager *m)
{
	if (m->ready_sent)
		return;
	for (size_t i = 0; i < m->n_zones; i++)
		if (!m->zones[i]->first_done)
			return;
	/* every zone had its first go (published, unchanged or failed and reported) */
	m->ready_sent = true;
	notify_ready();
}

static void after_publish(manager *m, dzone *z)
{
	const pol_config *c = m->config;
	int r;

	if (c->publish.reload_command) {
		r = hooks_run_reload(m->hooks, c->publish.reload_command, c->publish.reload_timeout,
				     z->name, z->cfg->output_file);
		if (r < 0) {
			dlog_fields f = { .zone = z->name, .serial = z->serial, .signatures = -1 };

			dlog(ZK_LOG_WARNING, &f, "cannot run the reload command: %s", strerror(-r));
		}
	}
	if (c->publish.n_notify)
		(void) hooks_notify(m->hooks, c->publish.notify, c->publish.n_notify, z->name,
				    z->serial);
}

static void do_reload(manager *m);

static void reply_waiter(dwrite *w, int code, const zk_error *e, uint32_t serial)
{
	if (code < 0) {
		zk_error msg = { 0 };
		char buf[700];

		zk_fail(&msg, code, "the change is saved but not published yet: %s",
			zk_error_str(e, code, buf, sizeof(buf)));
		api_reply_error(w->req, code, &msg);
		json_decref(w->reply);
	} else {
		json_object_set_new(w->reply, "serial", json_integer(serial));
		json_object_set_new(w->reply, "published", json_true());
		api_reply_json(w->req, w->status, w->reply);
	}
	free(w);
}

/* Answer the ?wait=published writes up to `seq`. */
static void answer_waiters(dzone *z, uint64_t seq, int code, const zk_error *e)
{
	dwrite **pp = &z->waiters;

	while (*pp) {
		dwrite *w = *pp;

		if (w->seq > seq) {
			pp = &w->next;
			continue;
		}
		*pp = w->next;
		reply_waiter(w, code, e, z->serial);
	}
}

static void observe_latency(manager *m, double seconds)
{
	size_t b = 0;

	while (b < LATENCY_BUCKETS && seconds > latency_bounds[b])
		b++;
	m->latency_buckets[b]++;
	m->latency_sum += seconds;
	m->latency_count++;
}

/* The record API's share of a finished job (loop thread, the job is over). */
static void finish_api(manager *m, dzone *z)
{
	uint64_t now = mono_usec();

	free((void *) z->opts.changes);
	z->opts.changes = NULL;
	z->opts.n_changes = 0;
	if (z->job_sys_set) {
		for (size_t i = 0; i < z->n_sys; i++)
			rec_rr_clear(&z->sys[i]);
		memcpy(z->sys, z->job_sys, z->job_n_sys * sizeof(*z->sys));
		z->n_sys = z->job_n_sys;
	}
	if (z->job_only_wb)
		return;
	if (z->job_recs) {
		/* the zone was read anew: its index, plus the writes accepted since the snapshot */
		rec_set_free(z->recs);
		z->recs = z->job_recs;
		z->job_recs = NULL;
		for (size_t i = 0; i < z->n_ops; i++) {
			if (z->ops[i].seq <= z->res.applied_seq)
				continue;
			if (z->ops[i].kind == REC_OP_ADD)
				(void) rec_set_add(z->recs, &z->ops[i].rr);
			else
				(void) rec_set_del(z->recs, z->ops[i].rr.owner, z->ops[i].rr.type,
						  z->ops[i].rr.rdata, z->ops[i].rr.rdlen);
		}
	}
	if (z->r >= 0) {
		for (size_t i = 0; i < z->n_ops; i++)
			if (z->ops[i].seq > z->published_seq && z->ops[i].seq <= z->res.applied_seq &&
			    z->op_usec[i])
				observe_latency(m, (double) (now - z->op_usec[i]) / 1e6);
		if (z->res.applied_seq > z->published_seq)
			z->published_seq = z->res.applied_seq;
		answer_waiters(z, z->published_seq, 0, NULL);
	} else if (z->job_n_changes) {
		answer_waiters(z, z->ops[z->job_n_changes - 1].seq, z->r, &z->err);
	}
}

/* The write-back's share, once the job thread is over. */
static void finish_writeback(manager *m, dzone *z)
{
	if (z->job_writeback && z->r >= 0) {
		if (z->wb_r == 0) {
			dlog_fields f = { .zone = z->name, .signatures = -1 };
			zk_error e = { 0 };
			size_t k = 0;
			uint64_t t0;
			int r;

			/* the input file holds the writes up to wb_seq: keep only the later ones */
			while (k < z->n_ops && z->ops[k].seq <= z->wb_seq)
				rec_rr_clear(&z->ops[k++].rr);
			memmove(z->ops, z->ops + k, (z->n_ops - k) * sizeof(*z->ops));
			memmove(z->op_usec, z->op_usec + k, (z->n_ops - k) * sizeof(*z->op_usec));
			z->n_ops -= k;
			z->writeback_due = false;
			z->have_input_id = stat(z->cfg->input_file, &z->input_id) == 0;
			t0 = mono_usec();
			r = jnl_rewrite(z->journal, z->ops, z->n_ops, &e);
			dlog(ZK_LOG_INFO, &f,
			     "API writes written back to %s (%.3f s), %zu left in the journal (%.3f s)",
			     z->cfg->input_file, (double) z->wb_usec / 1e6, z->n_ops,
			     (double) (mono_usec() - t0) / 1e6);
			if (r < 0) {
				char buf[1024];

				f.error_code = r;
				/* harmless: the journal still holds them, replaying is idempotent */
				dlog(ZK_LOG_WARNING, &f, "cannot trim the journal: %s",
				     zk_error_str(&e, r, buf, sizeof(buf)));
			}
		} else if (z->wb_r == -EAGAIN) {
			/*
			 * The input file changed under us: read it (the writes are replayed on it).
			 * A run that finds it broken writes nothing back until it is fixed, so
			 * this cannot turn into a loop.
			 */
			z->want = z->want_reload = true;
		} else {
			dlog_fields f = { .zone = z->name, .signatures = -1, .error_code = z->wb_r };
			char buf[1024];

			dlog(ZK_LOG_WARNING, &f, "cannot write the API changes back to %s: %s",
			     z->cfg->input_file, zk_error_str(&z->wb_err, z->wb_r, buf, sizeof(buf)));
		}
	}
	if (z->n_ops)
		arm_writeback(z);
	if (z->r >= 0 && z->n_ops && z->ops[z->n_ops - 1].seq > z->published_seq &&
	    z->ops[z->n_ops - 1].seq <= z->synced_seq)
		z->want = true; /* writes accepted while this job ran */
}

/* What the run did with the keys, in the log and the zone's status. */
static void keys_finish(dzone *z, const sgn_run_result *res)
{
	dlog_fields f = { .zone = z->name, .signatures = -1 };

	for (size_t k = 0; k < res->keys_generated && k < 4; k++) {
		dlog_fields kf = f;

		kf.key_tag = res->generated_tags[k];
		dlog(ZK_LOG_NOTICE, &kf, "generated key %u", res->generated_tags[k]);
	}
	if (res->keys_removed)
		dlog(ZK_LOG_NOTICE, &f, "%zu key(s) left the zone; their files are in the archive",
		     res->keys_removed);
	if (strcmp(res->key_status, z->key_status) != 0 && res->key_status[0])
		dlog(ZK_LOG_NOTICE, &f, "%s", res->key_status);
	if (res->key_moves)
		dlog(ZK_LOG_INFO, &f, "%zu key state change(s)", res->key_moves);
	if (res->key_deferred)
		dlog(ZK_LOG_WARNING, &f, "the policy's next rollover waits: the zone's keys fill "
		     "all but the places kept for an emergency rollover");
	snprintf(z->key_status, sizeof(z->key_status), "%s", res->key_status);
	z->key_next = res->key_next;
	if (res->dnskey_response)
		z->dnskey_response = res->dnskey_response;
}

/* What a successful run (normal or safe) published, in the status and the log. */
static void run_published(manager *m, dzone *z)
{
	dlog_fields f = { .zone = z->name, .signatures = -1 };
	const sgn_run_result *res = &z->res;

	z->serial = res->serial;
	z->names = res->names;
	z->rrsets = res->rrsets;
	z->earliest_expiry = res->sign.earliest_expiry;
	f.serial = res->serial;
	if (res->published) {
		f.signatures = (long) res->sign.made;
		z->last_published = z->opts.now;
		z->last_made = res->sign.made;
		z->sigs_total += res->sign.made;
		dlog(ZK_LOG_NOTICE, &f,
		     "published serial %u%s: %zu signatures made, %zu kept, %zu RRsets re-signed%s "
		     "(load %.2fs, sign %.2fs, verify %.2fs, write %.2fs, %.1f%% of the text reused)",
		     res->serial, z->job_safe ? " (the last good version re-signed)" : "",
		     res->sign.made, res->sign.kept, res->sign.rrsets_signed,
		     res->incremental ? ", changed names only" : "",
		     res->t_load, res->t_sign, res->t_verify, res->t_write,
		     res->copied ? 100.0 * (double) res->copied / (double) res->output_size : 0.0);
		after_publish(m, z);
	} else {
		if (!z->last_published)
			z->last_published = sgn_ctx_signed_at(z->ctx);
		dlog(ZK_LOG_INFO, &f, "unchanged, serial %u stays published", res->serial);
	}
}

/*
 * A safe run is over: the published version re-signed (or not). The zone's error and its
 * retry stay as the failed normal run left them: the fault is still there.
 */
static void safe_finished(manager *m, dzone *z)
{
	dlog_fields f = { .zone = z->name, .signatures = -1, .error_code = z->r };
	char buf[1024];

	if (z->r < 0) {
		z->failed_runs++;
		dlog(ZK_LOG_ERR, &f, "cannot re-sign the last good version either: %s",
		     zk_error_str(&z->err, z->r, buf, sizeof(buf)));
	} else {
		run_published(m, z);
		if (z->res.sign.next_refresh)
			z->refresh_at = z->res.sign.next_refresh;
	}
	arm_next(z);
}

/*
 * The run is over and its zone published (or refused): results, logs, timers, answers.
 * The job is still the manager's (m->job): a write-back may be running on its thread, and
 * nothing starts before job_done.
 */
static void job_published(manager *m, dzone *z)
{
	dlog_fields f = { .zone = z->name, .signatures = -1 };
	const sgn_run_result *res = &z->res;

	z->running = false;
	take_keys_view(z);
	if (z->job_only_wb)
		goto next; /* nothing was signed: only the API's share to finish */
	z->first_done = true;
	if (z->job_safe) {
		safe_finished(m, z);
		goto next;
	}
	if (z->r < 0) {
		char buf[1024];

		z->last_code = z->r;
		z->last_error = z->err;
		z->failed_runs++;
		f.error_code = z->r;
		f.file = z->err.file;
		f.line = z->err.line;
		f.serial = sgn_ctx_serial(z->ctx).set ? sgn_ctx_serial(z->ctx).value : 0;
		if (input_error(z)) {
			/* nothing to retry until the file changes (inotify says when) */
			z->input_broken = true;
			z->failures = 0;
			z->retry_at = 0;
			dlog(ZK_LOG_ERR, &f, "%s, keeping the last good zone until the input is fixed",
			     zk_error_str(&z->err, z->r, buf, sizeof(buf)));
			/*
			 * The failed run dropped the version in memory: re-sign the published one
			 * in place (with the API's writes) and keep its signatures fresh. Not if
			 * nothing was published yet.
			 */
			if (sgn_ctx_serial(z->ctx).set)
				arm_due(z, now_of(m));
			else
				arm_next(z);
		} else {
			z->failures++;
			z->want_reload = z->opts.reload_input;
			arm_retry(z);
			{
				char ts[32];

				dlog(ZK_LOG_ERR, &f, "%s, keeping the last good zone; retrying at %s "
				     "(failure %u in a row)",
				     zk_error_str(&z->err, z->r, buf, sizeof(buf)),
				     zk_time_iso(z->retry_at, ts, sizeof(ts)), z->failures);
			}
			/*
			 * Whatever the fault, the published version is re-signed before its
			 * signatures fall due (a safe run, right after this one): the zone never
			 * goes bogus because a normal run cannot complete.
			 */
			if (sgn_ctx_serial(z->ctx).set &&
			    (!z->refresh_at || z->refresh_at <= now_of(m) + PRE_REFRESH)) {
				z->want_safe = true;
				z->want = true;
			}
		}
		goto next;
	}
	z->failures = 0;
	z->retry_at = 0;
	keys_finish(z, res);
	if (z->opts.reload_input || !z->input_broken) {
		z->input_broken = false;
		z->last_code = 0;
		memset(&z->last_error, 0, sizeof(z->last_error));
	}
	run_published(m, z);
	agents_schedule(z);
	z->refresh_at = !res->key_next ? res->sign.next_refresh
			: !res->sign.next_refresh || res->key_next < res->sign.next_refresh
				? res->key_next : res->sign.next_refresh;
	arm_next(z);
next:
	if (z->job_key_req) {
		routes_key_done(z, z->job_key_req, z->r < 0 ? z->r : 0, &z->err);
		z->job_key_req = NULL;
	}
	finish_api(m, z);
	check_ready(m);
	update_status(m);
}

/* The job thread is over: the write-back's result, then the next job. */
static void job_done(manager *m, dzone *z)
{
	pthread_join(z->thread, NULL);
	m->job = NULL;
	zk_clock_hold(&m->clock, false);
	finish_writeback(m, z);
	update_status(m);
	if (m->stopping) {
		sd_event_exit(m->event, 0);
		return;
	}
	if (m->reload_pending && !pool_pending(m->pool))
		do_reload(m);
	schedule(m);
}

/* The workers are done: a reload that waited for them can go. */
static void on_pool_idle(void *userdata)
{
	manager *m = userdata;

	if (m->reload_pending && !m->job && !pool_pending(m->pool))
		do_reload(m);
}

static int on_job_done(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	manager *m = userdata;
	job_msg msg;

	if (read(fd, &msg, sizeof(msg)) != sizeof(msg))
		return 0;
	if (msg.done)
		job_done(m, msg.z);
	else
		job_published(m, msg.z);
	return 0;
}

/* ---------------------------------------------------------------- inotify */

static void watch_clear(manager *m)
{
	for (size_t i = 0; i < m->n_watches; i++) {
		inotify_rm_watch(m->inotify_fd, m->watches[i].wd);
		free(m->watches[i].dir);
	}
	m->n_watches = 0;
}

static void watch_dir(manager *m, const char *file)
{
	_cleanup_free_ char *copy = strdup(file);
	const char *dir = copy ? dirname(copy) : NULL;
	bool have = false;
	int wd;

	for (size_t k = 0; dir && k < m->n_watches && !have; k++)
		have = !strcmp(m->watches[k].dir, dir);
	if (!dir || have || m->n_watches == MAX_WATCHES)
		return;
	/* writes in place, atomic renames in and out, deletions */
	wd = inotify_add_watch(m->inotify_fd, dir,
			       IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE);
	if (wd < 0) {
		dlog(ZK_LOG_WARNING, NULL, "cannot watch %s: %m; changes there are not seen", dir);
		return;
	}
	m->watches[m->n_watches].wd = wd;
	m->watches[m->n_watches++].dir = strdup(dir);
}

static void watch_setup(manager *m)
{
	watch_clear(m);
	for (size_t i = 0; i < m->n_zones; i++) {
		dzone *z = m->zones[i];

		watch_dir(m, z->cfg->input_file);
		/* a symlinked input: edits happen where it points */
		free(z->input_real);
		z->input_real = realpath(z->cfg->input_file, NULL);
		if (z->input_real && strcmp(z->input_real, z->cfg->input_file) != 0)
			watch_dir(m, z->input_real);
	}
}

static int on_inotify(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	manager *m = userdata;
	char buf[8192] __attribute__((aligned(__alignof__(struct inotify_event))));
	ssize_t n = read(fd, buf, sizeof(buf));

	for (char *p = buf; n > 0 && p < buf + n;) {
		const struct inotify_event *ev = (const struct inotify_event *) p;
		const char *dir = NULL;

		p += sizeof(*ev) + ev->len;
		for (size_t i = 0; i < m->n_watches; i++)
			if (m->watches[i].wd == ev->wd)
				dir = m->watches[i].dir;
		if (!dir || !ev->len)
			continue;
		for (size_t i = 0; i < m->n_zones; i++) {
			dzone *z = m->zones[i];
			char path[PATH_MAX];

			snprintf(path, sizeof(path), "%s/%s", dir, ev->name);
			if (strcmp(path, z->cfg->input_file) != 0 &&
			    (!z->input_real || strcmp(path, z->input_real) != 0))
				continue;
			/* debounce: editors write in several steps; apply once it is quiet */
			(void) mgr_set_timer(m, &z->debounce, (uint64_t) m->debounce_ms * 1000,
					 on_debounce, z);
		}
	}
	return 0;
}

/* ---------------------------------------------------------------- status and API */

static json_t *zone_json(const dzone *z)
{
	char t1[32], t2[32], t3[32];
	json_t *j = json_object();

	json_object_set_new(j, "name", json_string(z->name));
	json_object_set_new(j, "serial", z->serial ? json_integer(z->serial) : json_null());
	json_object_set_new(j, "state", json_string(z->running ? "signing"
						    : z->last_code ? "error"
						    : z->first_done ? "ok" : "pending"));
	json_object_set_new(j, "names", json_integer((json_int_t) z->names));
	json_object_set_new(j, "rrsets", json_integer((json_int_t) z->rrsets));
	json_object_set_new(j, "last_published",
			    z->last_published ? json_string(zk_time_iso(z->last_published, t1, 32))
					      : json_null());
	json_object_set_new(j, "signatures_made", json_integer((json_int_t) z->last_made));
	json_object_set_new(j, "earliest_expiry",
			    z->earliest_expiry ? json_string(zk_time_iso(z->earliest_expiry, t2, 32))
					       : json_null());
	json_object_set_new(j, "next_event",
			    z->next_event ? json_string(zk_time_iso(z->next_event, t3, 32))
					  : json_null());
	json_object_set_new(j, "next_key_event",
			    mgr_next_key_event(z) ? json_string(zk_time_iso(mgr_next_key_event(z), t3,
									   32))
						  : json_null());
	json_object_set_new(j, "keys_waiting",
			    z->key_status[0] ? json_string(z->key_status) : json_null());
	json_object_set_new(j, "parent_error",
			    z->parent_error[0] ? json_string(z->parent_error) : json_null());
	json_object_set_new(j, "dnskey_response",
			    z->dnskey_response ? json_integer((json_int_t) z->dnskey_response)
					       : json_null());
	json_object_set_new(j, "records", z->recs ? json_integer((json_int_t) rec_set_count(z->recs))
						  : json_null());
	json_object_set_new(j, "pending_writeback", json_integer((json_int_t) z->n_ops));
	/* a fault is visible here while it lasts (doc/invariants.md, never bogus) */
	json_object_set_new(j, "failures", json_integer((json_int_t) z->failures));
	json_object_set_new(j, "retry_at", z->retry_at ? json_string(zk_time_iso(z->retry_at,
										  t1, 32))
						       : json_null());
	json_object_set_new(j, "input_broken", json_boolean(z->input_broken));
	json_object_set_new(j, "runs", json_integer((json_int_t) z->runs));
	json_object_set_new(j, "failed_runs", json_integer((json_int_t) z->failed_runs));
	json_object_set_new(j, "safe_runs", json_integer((json_int_t) z->safe_runs));
	json_object_set_new(j, "journal_damaged", json_integer((json_int_t) z->journal_damaged));
	json_object_set_new(j, "input_file", json_string(z->cfg->input_file));
	json_object_set_new(j, "output_file", json_string(z->cfg->output_file));
	if (z->last_code)
		json_object_set_new(j, "error",
				    json_pack("{s:s,s:s,s:s,s:i}", "code", zk_code_name(z->last_code),
					      "message", z->last_error.message, "file",
					      z->last_error.file, "line", (int) z->last_error.line));
	else
		json_object_set_new(j, "error", json_null());
	return j;
}

static void update_status(manager *m)
{
	size_t ok = 0, failing = 0;
	zk_time_t next = 0;
	char ts[32];

	for (size_t i = 0; i < m->n_zones; i++) {
		const dzone *z = m->zones[i];

		if (z->last_code)
			failing++;
		else if (z->first_done)
			ok++;
		if (z->next_event && (!next || z->next_event < next))
			next = z->next_event;
	}
	if (next)
		notify_status("%zu zone%s: %zu ok, %zu failing; next re-signing %s", m->n_zones,
			      m->n_zones == 1 ? "" : "s", ok, failing, zk_time_iso(next, ts, 32));
	else
		notify_status("%zu zone%s: %zu ok, %zu failing", m->n_zones,
			      m->n_zones == 1 ? "" : "s", ok, failing);
}

/* ---------------------------------------------------------------- record writes */

zk_time_t mgr_now(const manager *m)
{
	return now_of(m);
}

dzone *mgr_find_zone(const manager *m, const char *name)
{
	return find_zone(m, name);
}

json_t *mgr_zone_json(const dzone *z)
{
	return zone_json(z);
}

/* When the pending API writes are due in the input file (monotonic µs; 0: now). */
static uint64_t writeback_at(const dzone *z)
{
	uint64_t quiet, latest;

	/* writes replayed from the journal at start carry no time: they are old */
	if (!z->n_ops || !z->op_usec[0])
		return 0;
	quiet = z->op_usec[z->n_ops - 1] + WRITEBACK_QUIET_USEC;
	latest = z->op_usec[0] + WRITEBACK_MAX_USEC;
	return quiet < latest ? quiet : latest;
}

static int on_writeback(sd_event_source *s, uint64_t usec, void *userdata)
{
	dzone *z = userdata;
	uint64_t at = writeback_at(z), now = mono_usec();

	if (at > now) {
		/* writes came in meanwhile: wait for a quiet moment (bounded by the latest) */
		(void) mgr_set_timer(z->m, &z->wb_timer, at - now, on_writeback, z);
		return 0;
	}
	z->writeback_due = true;
	mgr_want_run(z);
	return 0;
}

static void arm_writeback(dzone *z)
{
	if (!z->wb_timer || sd_event_source_get_enabled(z->wb_timer, NULL) == 0)
		(void) mgr_set_timer(z->m, &z->wb_timer, WRITEBACK_QUIET_USEC, on_writeback, z);
}

/* A journal failure: the index may hold writes that are not durable. Drop them and let
 * the next run rebuild the index from the zone (writes are refused until then). */
static void rollback(dzone *z)
{
	size_t k = z->n_ops;

	while (k && z->ops[k - 1].seq > z->synced_seq)
		rec_rr_clear(&z->ops[--k].rr);
	z->n_ops = k;
	z->recs = rec_set_free(z->recs);
	z->want = z->want_reload = true;
}

/* Group commit: one fdatasync per zone for every write queued since the last one. */
static int on_commit(sd_event_source *s, void *userdata)
{
	manager *m = userdata;
	dwrite *w = m->commit_head;

	m->commit_head = NULL;
	m->commit_tail = &m->commit_head;
	/* sync each zone with queued writes once */
	for (dwrite *p = w; p; p = p->next) {
		dzone *z = p->z;
		zk_error e = { 0 };
		int r;

		if (z->synced_seq >= p->seq || !z->journal)
			continue;
		r = jnl_sync(z->journal, &e);
		if (r < 0) {
			dlog_fields f = { .zone = z->name, .signatures = -1, .error_code = r };
			char buf[1024];

			dlog(ZK_LOG_ERR, &f, "record API: %s", zk_error_str(&e, r, buf, sizeof(buf)));
			rollback(z);
			continue;
		}
		z->synced_seq = jnl_next_seq(z->journal) - 1;
	}
	while (w) {
		dwrite *next = w->next;
		dzone *z = w->z;

		if (z->synced_seq < w->seq) {
			zk_error e;

			zk_fail(&e, -EIO, "the journal of %s could not be written; nothing was changed",
				z->name);
			api_reply_error(w->req, -EIO, &e);
			json_decref(w->reply);
			free(w);
		} else if (z->retry_at && z->retry_at > now_of(m)) {
			/*
			 * The zone's runs fail and wait for their retry: the write is durable and
			 * goes out with the next run that succeeds. It does not start a run of
			 * its own, so a stream of writes cannot turn a fault into a tight loop.
			 */
			if (w->wait) {
				char ts[32], buf[700];
				zk_error e = { 0 };

				zk_fail(&e, z->last_code, "the zone's runs are failing (%s); retrying "
					"at %s", zk_error_str(&z->last_error, z->last_code, buf,
							      sizeof(buf)),
					zk_time_iso(z->retry_at, ts, sizeof(ts)));
				reply_waiter(w, z->last_code, &e, z->serial);
			} else {
				json_object_set_new(w->reply, "published", json_false());
				api_reply_json(w->req, w->status, w->reply);
				free(w);
			}
		} else {
			z->want = true;
			arm_writeback(z);
			if (w->wait) {
				w->next = z->waiters;
				z->waiters = w;
			} else {
				json_object_set_new(w->reply, "published", json_false());
				api_reply_json(w->req, w->status, w->reply);
				free(w);
			}
		}
		w = next;
	}
	schedule(m);
	return 0;
}

static int ops_reserve(dzone *z, size_t more)
{
	size_t cap = z->cap_ops ? z->cap_ops : 64;
	rec_op *no;
	uint64_t *nu;

	if (z->n_ops + more <= z->cap_ops)
		return 0;
	while (cap < z->n_ops + more)
		cap *= 2;
	no = realloc(z->ops, cap * sizeof(*no));
	if (!no)
		return -ENOMEM;
	z->ops = no;
	nu = realloc(z->op_usec, cap * sizeof(*nu));
	if (!nu)
		return -ENOMEM;
	z->op_usec = nu;
	z->cap_ops = cap;
	return 0;
}

int mgr_submit(manager *m, dzone *z, rec_op *ops, size_t n, api_req *req, unsigned status,
	       json_t *reply, bool wait, zk_error *reterr)
{
	dwrite *w = calloc(1, sizeof(*w));
	uint64_t seq = jnl_next_seq(z->journal), now = mono_usec();
	int r;

	if (!w || ops_reserve(z, n) < 0) {
		free(w);
		return zk_fail(reterr, -ENOMEM, "out of memory");
	}
	for (size_t i = 0; i < n; i++)
		ops[i].seq = seq;
	r = jnl_append(z->journal, ops, n);
	if (r < 0) {
		free(w);
		return zk_fail(reterr, r, "out of memory");
	}
	/* the index sees the write at once: the next request is checked against it */
	for (size_t i = 0; i < n; i++) {
		if (ops[i].kind == REC_OP_ADD)
			(void) rec_set_add(z->recs, &ops[i].rr);
		else
			(void) rec_set_del(z->recs, ops[i].rr.owner, ops[i].rr.type, ops[i].rr.rdata,
					  ops[i].rr.rdlen);
		z->ops[z->n_ops] = ops[i];
		z->op_usec[z->n_ops++] = now;
	}
	free(ops); /* RDATA now belongs to z->ops */
	z->api_writes++;
	*w = (dwrite) { .req = req, .z = z, .seq = seq, .status = status, .reply = reply,
			.wait = wait };
	*m->commit_tail = w;
	m->commit_tail = &w->next;
	sd_event_source_set_enabled(m->commit_src, SD_EVENT_ONESHOT);
	return API_LATER;
}

/* Before the API goes away: no connection may stay suspended. */
static void flush_replies(manager *m)
{
	if (m->commit_head)
		on_commit(m->commit_src, m);
	for (size_t i = 0; i < m->n_zones; i++) {
		zk_error e;

		zk_fail(&e, ZK_E_UNAVAILABLE, "zonekeeperd is stopping; the change is saved and is "
			"published when it starts again");
		answer_waiters(m->zones[i], UINT64_MAX, ZK_E_UNAVAILABLE, &e);
	}
}

/* ---------------------------------------------------------------- configuration */

static const zk_diag config_diag = { .emit = dlog_diag_emit };

/* Make the zone list match `c` (which becomes the configuration). No job may run. */
static int apply_config(manager *m, pol_config *c)
{
	dzone **zones = calloc(c->n_zones ? c->n_zones : 1, sizeof(*zones));

	if (!zones)
		return -ENOMEM;
	for (size_t i = 0; i < c->n_zones; i++) {
		dzone *z = NULL;

		for (size_t k = 0; k < m->n_zones && !z; k++)
			if (m->zones[k] && !strcmp(m->zones[k]->name, c->zones[i].name)) {
				z = m->zones[k];
				m->zones[k] = NULL;
			}
		if (z) {
			/* policy or files may have changed: read and sign again */
			z->cfg = &c->zones[i];
			if (z->ctx)
				sgn_ctx_set_config(z->ctx, c, z->cfg);
			z->want = z->want_reload = true;
		} else {
			z = zone_new(m, c, &c->zones[i]);
			if (!z) {
				for (size_t k = 0; k < i; k++)
					zone_free(zones[k]);
				free(zones);
				return -ENOMEM;
			}
			dlog_fields f = { .zone = z->name, .signatures = -1 };

			if (m->config)
				dlog(ZK_LOG_NOTICE, &f, "zone added");
		}
		zones[i] = z;
	}
	for (size_t k = 0; k < m->n_zones; k++)
		if (m->zones[k]) {
			dlog_fields f = { .zone = m->zones[k]->name, .signatures = -1 };

			dlog(ZK_LOG_NOTICE, &f, "zone removed; its published file stays");
			{
				zk_error e;

				zk_fail(&e, ZK_E_ZONE_NOT_FOUND, "the zone was removed from the "
					"configuration before the change was published");
				answer_waiters(m->zones[k], UINT64_MAX, ZK_E_ZONE_NOT_FOUND, &e);
			}
			zone_free(m->zones[k]);
		}
	free(m->zones);
	m->zones = zones;
	m->n_zones = c->n_zones;
	pol_config_free(m->config);
	m->config = c;
	watch_setup(m);
	return 0;
}

static void do_reload(manager *m)
{
	pol_config *c = NULL;
	zk_error e = { 0 };
	char buf[1024];
	int r;

	m->reload_pending = false;
	if (m->commit_head)
		on_commit(m->commit_src, m); /* no queued write may point at a removed zone */
	notify_reloading();
	dlog(ZK_LOG_NOTICE, NULL, "reloading %s", m->config_path);
	r = pol_config_load(m->config_path, &config_diag, &c, &e);
	if (r < 0) {
		dlog_fields f = { .error_code = r, .signatures = -1, .file = e.file, .line = e.line };

		dlog(ZK_LOG_ERR, &f, "configuration refused, keeping the running one: %s",
		     zk_error_str(&e, r, buf, sizeof(buf)));
	} else if ((r = apply_config(m, c)) < 0) {
		dlog(ZK_LOG_ERR, NULL, "cannot apply the configuration: %s", strerror(-r));
		pol_config_free(c);
	}
	notify_ready();
	update_status(m);
	schedule(m);
}

/* ---------------------------------------------------------------- signals */

static int on_terminate(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata)
{
	manager *m = userdata;

	notify_stopping();
	dlog(ZK_LOG_NOTICE, NULL, "stopping%s", m->job ? " once the running signing ends" : "");
	m->stopping = true;
	if (!m->job)
		sd_event_exit(m->event, 0);
	return 0;
}

static int on_hup(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata)
{
	manager *m = userdata;

	m->reload_pending = true;
	/* not under a job or a worker's feet: both borrow the configuration */
	if (!m->job && !pool_pending(m->pool))
		do_reload(m);
	return 0;
}

/* ---------------------------------------------------------------- life cycle */

int manager_new(const manager_opts *o, manager **ret, zk_error *reterr)
{
	_cleanup_(manager_free_p) manager *m = NULL;
	pol_config *c = NULL;
	sigset_t mask;
	int r, fd;
	bool activated;

	m = calloc(1, sizeof(*m));
	if (!m)
		return zk_fail(reterr, -ENOMEM, "out of memory");
	m->inotify_fd = m->job_pipe[0] = m->job_pipe[1] = -1;
	m->agents_pipe[0] = m->agents_pipe[1] = -1;
	m->clock = o->clock;
	m->debounce_ms = o->debounce_ms;
	m->config_path = strdup(o->config_path);
	if (!m->config_path)
		return zk_fail(reterr, -ENOMEM, "out of memory");
	r = pol_config_load(o->config_path, &config_diag, &c, reterr);
	if (r < 0)
		return r;

	/* signals are handled by the loop; SIGCHLD for the reload command's child source */
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, SIGCHLD);
	if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0) {
		pol_config_free(c);
		return zk_fail(reterr, -errno, "cannot block signals");
	}
	r = sd_event_new(&m->event);
	if (r < 0) {
		pol_config_free(c);
		return zk_fail(reterr, r, "cannot create the event loop");
	}
	(void) sd_event_set_watchdog(m->event, true); /* WATCHDOG=1 at half WatchdogSec */
	if ((r = sd_event_add_signal(m->event, &m->sig_term, SIGTERM, on_terminate, m)) < 0 ||
	    (r = sd_event_add_signal(m->event, &m->sig_int, SIGINT, on_terminate, m)) < 0 ||
	    (r = sd_event_add_signal(m->event, &m->sig_hup, SIGHUP, on_hup, m)) < 0) {
		pol_config_free(c);
		return zk_fail(reterr, r, "cannot watch signals");
	}
	if (pipe2(m->job_pipe, O_CLOEXEC) < 0 ||
	    (r = sd_event_add_io(m->event, &m->job_src, m->job_pipe[0], EPOLLIN, on_job_done, m)) < 0) {
		pol_config_free(c);
		return zk_fail(reterr, -errno, "cannot create the job pipe");
	}
	r = agents_init(m);
	if (r < 0) {
		pol_config_free(c);
		return zk_fail(reterr, r, "cannot create the parental-agent pipe");
	}
	m->inotify_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (m->inotify_fd < 0 ||
	    (r = sd_event_add_io(m->event, &m->inotify_src, m->inotify_fd, EPOLLIN, on_inotify, m)) < 0) {
		pol_config_free(c);
		return zk_fail(reterr, -errno, "cannot watch the input directory");
	}
	r = hooks_new(m->event, &m->hooks);
	if (r < 0) {
		pol_config_free(c);
		return zk_fail(reterr, r, "out of memory");
	}
	r = apply_config(m, c);
	if (r < 0) {
		pol_config_free(c);
		return zk_fail(reterr, r, "out of memory");
	}
	r = api_listen_socket(m->config->api.socket, &fd, &activated, reterr);
	if (r < 0)
		return r;
	m->commit_tail = &m->commit_head;
	r = sd_event_add_defer(m->event, &m->commit_src, on_commit, m);
	if (r >= 0)
		r = sd_event_source_set_enabled(m->commit_src, SD_EVENT_OFF);
	if (r < 0) {
		close(fd);
		return zk_fail(reterr, r, "cannot set up the journal commit");
	}
	r = pool_new(m->event, POOL_THREADS, &m->pool);
	if (r < 0)
		return zk_fail(reterr, r, "cannot start the worker threads");
	pool_on_idle(m->pool, on_pool_idle, m);
	r = api_new(m->event, fd, m->config, routes_handle, m, &m->api, reterr);
	if (r < 0)
		return r;
	dlog(ZK_LOG_NOTICE, NULL, "started with %zu zone%s, API on %s%s", m->n_zones,
	     m->n_zones == 1 ? "" : "s", activated ? "the socket passed by systemd"
						   : m->config->api.socket, "");
	*ret = ZK_TAKE(m);
	return 0;
}

manager *manager_free(manager *m)
{
	if (!m)
		return NULL;
	if (m->job)
		pthread_join(m->job->thread, NULL);
	/* first: its last callbacks answer requests, or queue writes flushed just below */
	m->pool = pool_free(m->pool);
	if (m->commit_src)
		flush_replies(m);
	sd_event_source_disable_unref(m->commit_src);
	agents_done(m);
	for (size_t i = 0; i < m->n_zones; i++)
		zone_free(m->zones[i]);
	free(m->zones);
	m->api = api_free(m->api);
	m->hooks = hooks_free(m->hooks);
	watch_clear(m);
	sd_event_source_disable_unref(m->inotify_src);
	sd_event_source_disable_unref(m->job_src);
	sd_event_source_disable_unref(m->sig_term);
	sd_event_source_disable_unref(m->sig_int);
	sd_event_source_disable_unref(m->sig_hup);
	if (m->inotify_fd >= 0)
		close(m->inotify_fd);
	if (m->job_pipe[0] >= 0)
		close(m->job_pipe[0]);
	if (m->job_pipe[1] >= 0)
		close(m->job_pipe[1]);
	sd_event_unref(m->event);
	pol_config_free(m->config);
	free(m->config_path);
	free(m);
	return NULL;
}

int manager_run(manager *m)
{
	notify_status("starting: signing %zu zone%s", m->n_zones, m->n_zones == 1 ? "" : "s");
	check_ready(m); /* no zones: ready at once */
	schedule(m);
	return sd_event_loop(m->event);
}

int mgr_key_request(manager *m, dzone *z, api_req *req, unsigned roll, bool ds_seen,
		    bool ds_gone, uint16_t tag, zk_error *reterr)
{
	if (z->key_req || z->job_key_req)
		return zk_fail(reterr, ZK_E_UNAVAILABLE,
			       "another key request for %s is in progress; try again", z->name);
	z->key_req = req;
	z->key_roll = roll;
	z->key_ds_seen = ds_seen;
	z->key_ds_gone = ds_gone;
	z->key_ds_tag = tag;
	z->want = true;
	schedule(m);
	return 0;
}
