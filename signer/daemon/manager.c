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
#include <stdatomic.h>
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
#include "policy/zk-codec.h"
#include "policy/zk-file.h"
#include "policy/zk-macro.h"
#include "signer/daemon/api.h"
#include "signer/daemon/hooks.h"
#include "signer/daemon/internal.h"
#include "signer/daemon/log.h"
#include "signer/daemon/manager.h"
#include "signer/daemon/registry.h"
#include "signer/daemon/zset.h"
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
#define KEY_SPREAD 3600                 /* seconds over which zones' key events spread */
#define MAX_JOBS 16                     /* zones signed at once, at most (one per core) */
#define JOB_OVERLAP 4                   /* jobs started per CPU slot (slots.h) */
#define IO_NAMES 10000                  /* below: a zone's publication needs no CPU slot */
#define STATUS_USEC 200000              /* the service status is updated this often */
#define POOL_THREADS 2                  /* workers for the loop's heavy work (pool.h) */
/* A write-back goes with the next run, whatever the timers, once the journal holds this
 * much (writes.c: the quiet time and the latest moment) */
#define WRITEBACK_BYTES (4u << 20)

uint64_t mgr_mono_usec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t) ts.tv_sec * 1000000 + (uint64_t) ts.tv_nsec / 1000;
}

static void schedule(manager *m);
static void arm_due(dzone *z, zk_time_t when);
static int on_status(sd_event_source *s, uint64_t usec, void *userdata);
static int on_zone_timer(sd_event_source *s, uint64_t usec, void *userdata);
static void update_status(manager *m);
static void check_ready(manager *m);

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

static void on_due(dzone *z)
{
	/* early: the fake clock was held by a job, or counts whole seconds */
	if (z->next_event && z->next_event > mgr_now(z->m)) {
		arm_due(z, z->next_event);
		return;
	}
	z->due_fired = true;
	mgr_want_run(z, false);
}

static void on_debounce(dzone *z);

/* ---------------------------------------------------------------- the zone's events */

static void event_arm(dzone *z)
{
	uint64_t first = 0;
	int r = 0;

	for (int e = 0; e < _ZEV_MAX; e++)
		if (z->ev_at[e] && (!first || z->ev_at[e] < first))
			first = z->ev_at[e];
	if (!first) {
		if (z->timer)
			(void) sd_event_source_set_enabled(z->timer, SD_EVENT_OFF);
		return;
	}
	if (!z->timer)
		/* 1 ms accuracy (0 would mean sd-event's 250 ms: a debounce or a write-back that
		 * late adds up) */
		r = sd_event_add_time(z->m->event, &z->timer, CLOCK_MONOTONIC, first, 1000,
				      on_zone_timer, z);
	else if ((r = sd_event_source_set_time(z->timer, first)) >= 0)
		r = sd_event_source_set_enabled(z->timer, SD_EVENT_ONESHOT);
	if (r < 0) {
		dlog_fields f = { .zone = z->name, .signatures = -1, .error_code = r };

		dlog(ZK_LOG_ERR, &f, "cannot arm the zone's timer: %s", strerror(-r));
	}
}

/* The events that are due, each handled once; then the timer for the next one. */
static int on_zone_timer(sd_event_source *s, uint64_t usec, void *userdata)
{
	static void (*const handler[_ZEV_MAX])(dzone *) = {
		[ZEV_DUE] = on_due,
		[ZEV_DEBOUNCE] = on_debounce,
		[ZEV_WRITEBACK] = writes_on_writeback,
		[ZEV_AGENTS] = agents_on_timer,
	};
	dzone *z = userdata;
	uint64_t now;

	sd_event_now(z->m->event, CLOCK_MONOTONIC, &now);
	for (int e = 0; e < _ZEV_MAX; e++)
		if (z->ev_at[e] && z->ev_at[e] <= now + 1000) {
			z->ev_at[e] = 0;
			handler[e](z);
		}
	event_arm(z);
	return 0;
}

void mgr_event_set(dzone *z, zev e, uint64_t delay_usec)
{
	uint64_t now;

	if (delay_usec == UINT64_MAX) {
		mgr_event_clear(z, e);
		return;
	}
	sd_event_now(z->m->event, CLOCK_MONOTONIC, &now);
	z->ev_at[e] = now + delay_usec ? now + delay_usec : 1;
	event_arm(z);
}

void mgr_event_clear(dzone *z, zev e)
{
	if (!z->ev_at[e])
		return;
	z->ev_at[e] = 0;
	event_arm(z);
}

bool mgr_event_pending(const dzone *z, zev e)
{
	return z->ev_at[e] != 0;
}

uint64_t mgr_delay_usec(const manager *m, zk_time_t when)
{
	zk_time_t now = mgr_now(m);
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

/* ---------------------------------------------------------------- the run queue */

/*
 * Zones that want a run wait in one of two queues, first come first served: urgent for
 * what a client waits on (API writes, a zone created, a key request), background for the
 * rest (refreshes, key events, edited input files, first runs). JOB_OVERLAP jobs per CPU
 * slot run at once, max_jobs of them computing (slots.h); an urgent job is started beyond
 * that and may take one slot more, so that a customer's write never waits behind other
 * customers' large re-signings. Nothing walks over all zones.
 */
enum { Q_NONE, Q_URGENT, Q_BACKGROUND };

static void queue_remove(manager *m, dzone *z)
{
	if (z->queued == Q_NONE)
		return;
	if (z->q_prev)
		z->q_prev->q_next = z->q_next;
	else
		m->queue[z->queued - 1].head = z->q_next;
	if (z->q_next)
		z->q_next->q_prev = z->q_prev;
	else
		m->queue[z->queued - 1].tail = z->q_prev;
	z->q_prev = z->q_next = NULL;
	z->queued = Q_NONE;
}

static void queue_push(manager *m, dzone *z, int q)
{
	if (z->queued == q || (z->queued == Q_URGENT && q == Q_BACKGROUND))
		return;
	queue_remove(m, z);
	z->q_prev = m->queue[q - 1].tail;
	if (z->q_prev)
		z->q_prev->q_next = z;
	else
		m->queue[q - 1].head = z;
	m->queue[q - 1].tail = z;
	z->queued = q;
}

/* Queue a zone that wants a run (a zone whose job is alive is queued when it ends). */
static void enqueue(manager *m, dzone *z)
{
	if (z->want && !z->job_alive)
		queue_push(m, z, z->want_urgent ? Q_URGENT : Q_BACKGROUND);
}

void mgr_schedule(manager *m)
{
	schedule(m);
}

void mgr_want_run(dzone *z, bool urgent)
{
	z->want = true;
	z->want_urgent |= urgent;
	enqueue(z->m, z);
	schedule(z->m);
}

/* Arm the zone's due timer for simulated instant `when` (real delay = gap / speed). */
static void arm_due(dzone *z, zk_time_t when)
{
	manager *m = z->m;
	uint64_t delay = mgr_delay_usec(m, when);

	z->next_event = when;
	if (delay == UINT64_MAX) {
		mgr_event_clear(z, ZEV_DUE);
		return;
	}
	{
		dlog_fields f = { .zone = z->name, .signatures = -1 };
		char ts[32];

		dlog(ZK_LOG_DEBUG, &f, "next run at %s (in %.3f s)", zk_time_iso(when, ts, sizeof(ts)),
		     (double) delay / 1e6);
	}
	mgr_event_set(z, ZEV_DUE, delay);
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
	else
		mgr_event_clear(z, ZEV_DUE);
}

/* After a failure (z->failures counted): retry with backoff in zone time. */
static void arm_retry(dzone *z)
{
	unsigned n = z->failures ? z->failures - 1 : 0;
	zk_time_t delay = (zk_time_t) RETRY_MIN << (n < 16 ? n : 16);

	if (delay > RETRY_MAX)
		delay = RETRY_MAX;
	z->retry_at = mgr_now(z->m) + delay;
	arm_next(z);
}

/*
 * The input file changed (after the quiet time). Our own write-back is not read again: the
 * file is as we left it. Unless the zone's input is broken: the file our write-back left,
 * moved away (the run found no input) and moved or linked back, has that same identity, and
 * is what the zone waits for.
 */
static void on_debounce(dzone *z)
{
	struct stat sb;
	bool present = stat(z->cfg->input_file, &sb) == 0;

	if (present && z->input_broken) {
		dlog_fields f = { .zone = z->name, .signatures = -1 };

		dlog(ZK_LOG_NOTICE, &f, "the input file %s %s: reading it again",
		     z->cfg->input_file, z->last_code == ZK_E_INPUT ? "came back" : "changed");
	} else if (present && z->have_input_id && zk_same_file(&sb, &z->input_id)) {
		return;
	}
	z->want_reload = true;
	mgr_want_run(z, false);
}

/* ---------------------------------------------------------------- zones */

static dzone *zone_free(dzone *z)
{
	if (!z)
		return NULL;
	/* its retries and NOTIFYs end with it (a command running for it finishes) */
	hooks_forget(z->m->hooks, z->name);
	sd_event_source_disable_unref(z->timer);
	sgn_ctx_free(z->ctx);
	jnl_free(z->journal);
	rec_set_free(z->recs);
	rec_ops_free(z->ops, z->n_ops);
	free(z->op_usec);
	free(z->wb_refused);
	rec_rrs_free(z->sys, z->n_sys);
	free(z->res);
	json_decref(z->keys_view);
	json_decref(z->ds_view[0]);
	json_decref(z->ds_view[1]);
	free(z->ring_snap);
	free(z->waiting);
	free(z->job_waiting);
	json_decref(z->create_reply);
	free(z->input_real);
	free(z->inputs[0].path);
	free(z->inputs[1].path);
	pol_zone_clear(&z->own);
	free(z->name);
	free(z);
	return NULL;
}

static const char *zone_key(const void *item)
{
	return ((const dzone *) item)->name;
}

static const char *input_key(const void *item)
{
	return ((const dinput *) item)->path;
}

/* Index the paths whose changes concern the zone (its input file, where a link points). */
static void zone_index_inputs(manager *m, dzone *z)
{
	for (size_t i = 0; i < 2; i++)
		if (z->inputs[i].path) {
			zset_remove(&m->inputs, &z->inputs[i]);
			free(z->inputs[i].path);
			z->inputs[i].path = NULL;
		}
	free(z->input_real);
	z->input_real = realpath(z->cfg->input_file, NULL);
	z->inputs[0] = (dinput) { .path = strdup(z->cfg->input_file), .z = z };
	if (z->input_real && strcmp(z->input_real, z->cfg->input_file) != 0)
		z->inputs[1] = (dinput) { .path = strdup(z->input_real), .z = z };
	for (size_t i = 0; i < 2; i++)
		if (z->inputs[i].path && zset_insert(&m->inputs, &z->inputs[i]) < 0) {
			free(z->inputs[i].path);
			z->inputs[i].path = NULL;
		}
}

/* Take the zone out of the manager's indexes and queue (before zone_free). */
static void zone_unlink(manager *m, dzone *z)
{
	queue_remove(m, z);
	zset_remove(&m->zones, z);
	for (size_t i = 0; i < 2; i++)
		if (z->inputs[i].path)
			zset_remove(&m->inputs, &z->inputs[i]);
	if (!z->first_done)
		m->n_unready--;
}

/* The zone had its first go (published, unchanged, or failed and reported). */
static void zone_first_done(manager *m, dzone *z)
{
	if (!z->first_done)
		m->n_unready--;
	z->first_done = true;
}

/*
 * A zone of the configuration (`cfg`), or one created through the API (`own`, taken over
 * when the zone is made), indexed and queued for its first run.
 */
static dzone *zone_new(manager *m, const pol_config *c, const pol_zone *cfg, pol_zone *own)
{
	dzone *z = calloc(1, sizeof(*z));

	if (!z)
		return NULL;
	z->m = m;
	if (own) {
		z->own = *own;
		*own = (pol_zone) { 0 };
		z->from_api = true;
		cfg = &z->own;
	}
	z->cfg = cfg;
	z->name = strdup(cfg->name);
	if (!z->name || zset_insert(&m->zones, z) < 0) {
		if (own)
			*own = z->own; /* the caller keeps it */
		z->own = (pol_zone) { 0 };
		return zone_free(z);
	}
	m->n_unready++;
	z->diag = (zk_diag) { .emit = dlog_diag_emit, .userdata = z->name };
	z->want = z->want_reload = true; /* first run: read the input, publish if it changed */
	writes_open_journal(c, z);
	zone_index_inputs(m, z);
	enqueue(m, z);
	return z;
}

/* "Example.COM" -> the zone "example.com.", or NULL */
dzone *mgr_find_zone(const manager *m, const char *name)
{
	_cleanup_free_ char *norm = NULL;

	if (pol_name_normalize(name, &norm) < 0)
		return NULL;
	return zset_find(&m->zones, norm);
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
	z->job_keys_view = sgn_keys_view(ring, z->cfg->policy);
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
	uint64_t t0 = mgr_mono_usec();

	z->wb_r = sgn_ctx_write_input(z->ctx, &z->wb_seq, &z->wb_err);
	z->wb_usec = mgr_mono_usec() - t0;
}

/*
 * A job holds a CPU slot (slots.h) while it computes; a small zone's key files and its
 * publication are mostly fsync, done without one, so other zones sign meanwhile.
 */
static void job_phase(void *userdata, sgn_phase ph, size_t names)
{
	dzone *z = userdata;
	bool cpu = ph != SGN_PHASE_KEYS && ph != SGN_PHASE_END &&
		   !(ph == SGN_PHASE_PUBLISH && names < IO_NAMES);

	atomic_store_explicit(&z->job_ph, (int) ph, memory_order_relaxed);

	if (cpu && !z->job_cpu)
		slots_take(&z->m->cpu, z->job_urgent);
	else if (!cpu && z->job_cpu)
		slots_give(&z->m->cpu);
	z->job_cpu = cpu;
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
		z->r = sgn_ctx_run(z->ctx, &z->opts, z->res, &z->err);
		job_phase(z, SGN_PHASE_END, 0); /* a run that ended before its phases */
		job_keys_view(z);
	}
	if (!z->job_only_wb && z->r >= 0 && sgn_ctx_current(z->ctx)) {
		const sgn_zone *cur = sgn_ctx_current(z->ctx);

		/* the index follows the zone when the input was read (an edit, the first run) */
		if (z->job_need_recs || z->res->input_read)
			(void) rec_set_from_zone(cur, z->cfg->policy, &z->job_recs);
		rec_rr sys[MAX_SYSTEM_RRS];

		/* kept as long as the zone is: exactly what there is */
		z->job_n_sys = system_records(cur, z->cfg->policy, sys, MAX_SYSTEM_RRS);
		z->job_sys = malloc((z->job_n_sys ? z->job_n_sys : 1) * sizeof(*z->job_sys));
		if (z->job_sys)
			memcpy(z->job_sys, sys, z->job_n_sys * sizeof(*sys));
		else
			for (size_t i = 0; i < z->job_n_sys; i++)
				rec_rr_clear(&sys[i]);
		z->job_sys_set = z->job_sys != NULL;
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
	if (!z->res->input_read && (code == ZK_E_INPUT || code == -EAGAIN))
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
	z->job_urgent = z->want_urgent;
	z->want_urgent = false;
	z->job_safe = z->want_safe;
	z->want_safe = false;
	if (!z->ctx) {
		/* the temporary files a crash left were removed at start (manager_new) */
		r = sgn_ctx_open(m->config, z->cfg, &z->diag, &z->ctx, &e);
		if (r < 0) {
			z->last_code = r;
			z->last_error = e;
			z->failures++;
			z->runs++;
			z->failed_runs++;
			zone_first_done(m, z);
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
			.now = mgr_now(m),
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
		.now = mgr_now(m),
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
	z->opts.roll_at_once = z->key_roll_now;
	z->opts.ds_seen = z->key_ds_seen;
	z->opts.ds_gone = z->key_ds_gone;
	z->opts.ds_seen_tag = z->key_ds_tag;
	z->key_roll = z->key_roll_now = 0;
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
	z->opts.phase = job_phase;
	z->opts.phase_userdata = z;
	z->opts.sign_permille = &z->job_permille;
	atomic_store(&z->job_ph, -1);
	atomic_store(&z->job_permille, 0);
	z->job_cpu = false;
	/* the run's result lives while the job does (job_done): an idle zone carries none */
	z->res = calloc(1, sizeof(*z->res));
	if (!z->res) {
		free((void *) z->opts.changes);
		z->opts.changes = NULL;
		z->want = true;
		arm_retry(z);
		return;
	}
	z->due_fired = false;
	z->runs += !z->job_only_wb;
	z->safe_runs += z->job_safe;
	zk_clock_hold(&m->clock, true);
	z->wb_r = -EAGAIN;
	z->wb_seq = 0;
	memset(&z->err, 0, sizeof(z->err));
	z->running = !z->job_only_wb; /* a write-back alone signs nothing */
	z->job_alive = true;
	m->n_jobs++;
	r = pthread_create(&z->thread, NULL, job_main, z);
	if (r) {
		z->running = false;
		z->job_alive = false;
		free(z->res);
		z->res = NULL;
		if (--m->n_jobs == 0)
			zk_clock_hold(&m->clock, false);
		dlog(ZK_LOG_ERR, &f, "cannot start a signing thread: %s", strerror(r));
		z->failures++;
		z->failed_runs++;
		arm_retry(z);
	}
	update_status(m);
}

static void schedule(manager *m)
{
	if (m->stopping || m->reload_pending)
		return;
	for (;;) {
		dzone *z;

		if (m->queue[0].head && m->n_jobs < (JOB_OVERLAP + 1) * m->max_jobs)
			z = m->queue[0].head;
		else if (m->queue[1].head && m->n_jobs < JOB_OVERLAP * m->max_jobs)
			z = m->queue[1].head;
		else
			return;
		queue_remove(m, z);
		if (z->want && !z->job_alive)
			start_job(m, z);
	}
}

/*
 * READY=1 goes out when the loop starts (configuration, state and the API are up), whatever
 * the number and size of the zones: a start never times out on a large zone. The zones then
 * load and sign, each with its state and progress in the API and the status line; this
 * says when the last one had its first go (published, unchanged, or failed and reported).
 */
static void check_ready(manager *m)
{
	if (m->ready_sent || m->n_unready)
		return;
	m->ready_sent = true;
	on_status(NULL, 0, m);
	dlog(ZK_LOG_NOTICE, NULL, "every zone loaded: %zu zone%s", m->zones.n,
	     m->zones.n == 1 ? "" : "s");
}

size_t mgr_n_starting(const manager *m)
{
	return m->n_unready;
}

/* The hooks of the zone's publication: the reload command and NOTIFY, retried until done. */
static void run_hooks(manager *m, dzone *z, unsigned which)
{
	const pol_config *c = m->config;
	char dir[PATH_MAX];
	int r;

	/* where a hook owed is marked, so that a restart runs it again */
	sgn_zone_dir(c, z->cfg, dir, sizeof(dir));
	if (c->publish.reload_command && (which & (1u << HOOK_RELOAD))) {
		r = hooks_run_reload(m->hooks, z->name, dir, c->publish.reload_command,
				     c->publish.reload_timeout, z->cfg->output_file);
		if (r < 0) {
			dlog_fields f = { .zone = z->name, .serial = z->serial, .signatures = -1 };

			dlog(ZK_LOG_WARNING, &f, "cannot run the reload command: %s", strerror(-r));
		}
	}
	if (c->publish.n_notify && (which & (1u << HOOK_NOTIFY)))
		(void) hooks_notify(m->hooks, z->name, dir, c->publish.notify, c->publish.n_notify,
				    z->serial);
}

static void after_publish(manager *m, dzone *z)
{
	run_hooks(m, z, 1u << HOOK_RELOAD | 1u << HOOK_NOTIFY);
}

/*
 * At the zone's first run after a start that has a published serial: a hook the last
 * publication still owed (the daemon stopped or crashed before it succeeded: its mark is
 * in the zone's state directory) runs again, once, as the zone is now: the server may
 * still serve an older zone than the published one. Not when this run published: its own
 * hooks ran. Only zones with a mark pay for more than two access() calls.
 */
static void resume_hooks(manager *m, dzone *z)
{
	const pol_config *c = m->config;
	dlog_fields f = { .zone = z->name, .serial = z->serial, .signatures = -1 };
	char dir[PATH_MAX];
	unsigned owed, which = 0;
	hook_stat st;

	if (z->hooks_resumed || !z->serial)
		return;
	z->hooks_resumed = true;
	if (!c->publish.reload_command && !c->publish.n_notify)
		return;
	sgn_zone_dir(c, z->cfg, dir, sizeof(dir));
	owed = hooks_owed(dir);
	for (int k = 0; k < _HOOK_MAX; k++) {
		bool configured = k == HOOK_RELOAD ? c->publish.reload_command != NULL
						   : c->publish.n_notify != 0;

		if (!(owed & (1u << k)) || hooks_stat(m->hooks, z->name, (hook_kind) k, &st))
			continue;
		if (!configured) {
			hooks_clear_owed(dir, (hook_kind) k);
			continue;
		}
		dlog(ZK_LOG_NOTICE, &f, "the %s of the last publication had not succeeded before "
		     "the restart: %s again", k == HOOK_RELOAD ? "reload command" : "NOTIFY",
		     k == HOOK_RELOAD ? "running it" : "sending it");
		which |= 1u << k;
	}
	if (which)
		run_hooks(m, z, which);
}

static void do_reload(manager *m);

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
	z->key_waits_parent = res->key_waits_parent;
	z->key_next = res->key_next;
	if (res->dnskey_response)
		z->dnskey_response = res->dnskey_response;
}

/* What a successful run (normal or safe) published, in the status and the log. */
static void run_published(manager *m, dzone *z)
{
	dlog_fields f = { .zone = z->name, .signatures = -1 };
	const sgn_run_result *res = z->res;

	z->serial = res->serial;
	z->names = res->names;
	z->rrsets = res->rrsets;
	z->earliest_expiry = res->sign.earliest_expiry;
	f.serial = res->serial;
	if (res->published) {
		char reused[48] = "";

		f.signatures = (long) res->sign.made;
		z->last_published = z->opts.now;
		z->last_made = res->sign.made;
		z->sigs_total += res->sign.made;
		/* only when text was copied: a first or a small zone's file has nothing to copy */
		if (res->copied && res->output_size)
			snprintf(reused, sizeof(reused), ", %.1f%% of the text reused",
				 100.0 * (double) res->copied / (double) res->output_size);
		dlog(ZK_LOG_NOTICE, &f,
		     "published serial %u%s: %zu signatures made, %zu kept, %zu RRsets re-signed%s "
		     "(load %.2fs, sign %.2fs, verify %.2fs, write %.2fs%s)",
		     res->serial, z->job_safe ? " (the last good version re-signed)" : "",
		     res->sign.made, res->sign.kept, res->sign.rrsets_signed,
		     res->incremental ? ", changed names only" : "",
		     res->t_load, res->t_sign, res->t_verify, res->t_write, reused);
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
		if (z->res->sign.next_refresh)
			z->refresh_at = z->res->sign.next_refresh;
	}
	arm_next(z);
}

/*
 * The run is over and its zone published (or refused): results, logs, timers, answers.
 * The job is still alive (z->job_alive): a write-back may be running on its thread, and
 * nothing starts for this zone before job_done.
 */
static void job_published(manager *m, dzone *z)
{
	dlog_fields f = { .zone = z->name, .signatures = -1 };
	const sgn_run_result *res = z->res;

	z->running = false;
	take_keys_view(z);
	if (z->job_only_wb)
		goto next; /* nothing was signed: only the API's share to finish */
	zone_first_done(m, z);
	if (z->job_safe) {
		safe_finished(m, z);
		goto next;
	}
	if (z->r < 0) {
		const char *kept;
		char buf[1024];

		z->last_code = z->r;
		z->last_error = z->err;
		z->failed_runs++;
		f.error_code = z->r;
		f.file = z->err.file;
		f.line = z->err.line;
		f.serial = sgn_ctx_serial(z->ctx).set ? sgn_ctx_serial(z->ctx).value : 0;
		/* what stays served: say "the last good zone" only when there is one */
		kept = sgn_ctx_serial(z->ctx).set ? "keeping the last good zone"
						  : "nothing published yet";
		if (input_error(z)) {
			/* nothing to retry until the file changes (inotify says when) */
			z->input_broken = true;
			z->failures = 0;
			z->retry_at = 0;
			dlog(ZK_LOG_ERR, &f, "%s, %s until the input is fixed",
			     zk_error_str(&z->err, z->r, buf, sizeof(buf)), kept);
			/*
			 * The failed run dropped the version in memory: re-sign the published one
			 * in place (with the API's writes) and keep its signatures fresh. Not if
			 * nothing was published yet.
			 */
			if (sgn_ctx_serial(z->ctx).set)
				arm_due(z, mgr_now(m));
			else
				arm_next(z);
		} else {
			z->failures++;
			z->want_reload = z->opts.reload_input;
			arm_retry(z);
			{
				char ts[32];

				dlog(ZK_LOG_ERR, &f, "%s, %s; retrying at %s (failure %u in a row)",
				     zk_error_str(&z->err, z->r, buf, sizeof(buf)), kept,
				     zk_time_iso(z->retry_at, ts, sizeof(ts)), z->failures);
			}
			/*
			 * Whatever the fault, the published version is re-signed before its
			 * signatures fall due (a safe run, right after this one): the zone never
			 * goes bogus because a normal run cannot complete.
			 */
			if (sgn_ctx_serial(z->ctx).set &&
			    (!z->refresh_at || z->refresh_at <= mgr_now(m) + PRE_REFRESH)) {
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
	{
		/*
		 * Key events run a little after they fall due, each zone at its own place in
		 * KEY_SPREAD (a hash of its name): zones created together would otherwise all
		 * run at the same minute for every step of their keys. Later is always safe: each
		 * RFC 7583 step waits at least its delay, never at most.
		 */
		zk_time_t key = res->key_next ? res->key_next + (zk_time_t) (zk_fnv1a64(
					z->name, strlen(z->name)) % KEY_SPREAD) : 0;

		z->refresh_at = !key ? res->sign.next_refresh
				: !res->sign.next_refresh || key < res->sign.next_refresh
					? key : res->sign.next_refresh;
	}
	arm_next(z);
next:
	if (z->job_key_req) {
		routes_key_done(z, z->job_key_req, z->r < 0 ? z->r : 0, &z->err);
		z->job_key_req = NULL;
	}
	writes_finish_run(m, z);
	zones_creation_done(z);
	resume_hooks(m, z);
	if (z->serial && !z->in_catalog)
		zones_catalog_changed(m);
	check_ready(m);
	update_status(m);
}

static void zone_reconfigured(manager *m, dzone *z, const pol_config *c);

/* The job thread is over: the write-back's result, then the next jobs. */
static void job_done(manager *m, dzone *z)
{
	pthread_join(z->thread, NULL);
	z->job_alive = false;
	if (--m->n_jobs == 0)
		zk_clock_hold(&m->clock, false);
	writes_finish_writeback(m, z);
	free(z->res);
	z->res = NULL;
	update_status(m);
	if (z->delete_req) {
		zones_deletes_resume(m);
		z = NULL;
	}
	if (m->stopping) {
		if (!m->n_jobs)
			sd_event_exit(m->event, 0);
		return;
	}
	if (m->reload_pending && !m->n_jobs && !pool_pending(m->pool))
		do_reload(m);
	if (z) {
		zones_policy_apply(m, z);
		enqueue(m, z);
	}
	schedule(m);
}

/* The workers are done: a reload that waited for them can go. */
static void on_pool_idle(void *userdata)
{
	manager *m = userdata;

	zones_deletes_resume(m);
	if (m->reload_pending && !m->n_jobs && !pool_pending(m->pool))
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

/*
 * What a watched directory reports: writes in place, renames in and out, new files (a hard
 * link is only that), deletions, and attributes (a file made readable again); and the
 * directory itself moved away (its path no longer names it).
 */
#define WATCH_MASK (IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_CREATE | IN_DELETE | \
		    IN_ATTRIB | IN_MOVE_SELF)
#define REWATCH_USEC 1000000ull /* a directory that went away is looked for this often */

static void watch_clear(manager *m)
{
	for (size_t i = 0; i < m->n_watches; i++) {
		inotify_rm_watch(m->inotify_fd, m->watches[i].wd);
		free(m->watches[i].dir);
	}
	free(m->watches);
	m->watches = NULL;
	m->n_watches = m->cap_watches = 0;
	for (size_t i = 0; i < m->n_lost; i++)
		free(m->lost_dirs[i]);
	free(m->lost_dirs);
	m->lost_dirs = NULL;
	m->n_lost = 0;
	m->rewatch_timer = sd_event_source_disable_unref(m->rewatch_timer);
}

/* The index in m->watches of watch `wd`, or where it would go. */
static size_t watch_lower(const manager *m, int wd)
{
	size_t lo = 0, hi = m->n_watches;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (m->watches[mid].wd < wd)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Watch directory `dir` (a directory watched already gives its watch again): 0 or -errno. */
static int watch_add(manager *m, const char *dir)
{
	int wd = inotify_add_watch(m->inotify_fd, dir, WATCH_MASK);
	size_t i;

	if (wd < 0)
		return -errno;
	i = watch_lower(m, wd);
	if (i < m->n_watches && m->watches[i].wd == wd)
		return 0;
	if (m->n_watches == m->cap_watches) {
		size_t cap = m->cap_watches ? m->cap_watches * 2 : 16;
		void *v = realloc(m->watches, cap * sizeof(*m->watches));

		if (!v)
			return -ENOMEM;
		m->watches = v;
		m->cap_watches = cap;
	}
	memmove(m->watches + i + 1, m->watches + i, (m->n_watches - i) * sizeof(*m->watches));
	m->watches[i].wd = wd;
	m->watches[i].dir = strdup(dir);
	m->n_watches++;
	return 0;
}

/* The inputs right in directory `dir` (a range of m->inputs); with `debounce`, read again. */
static size_t inputs_in_dir(manager *m, const char *dir, bool debounce)
{
	char prefix[PATH_MAX];
	size_t len, n = 0;

	len = (size_t) snprintf(prefix, sizeof(prefix), "%s/", dir);
	if (len >= sizeof(prefix))
		return 0;
	for (size_t i = zset_lower(&m->inputs, prefix); i < m->inputs.n; i++) {
		dinput *in = m->inputs.v[i];

		if (strncmp(in->path, prefix, len) != 0)
			break;
		if (strchr(in->path + len, '/'))
			continue; /* in a subdirectory: watched on its own */
		n++;
		if (debounce)
			mgr_event_set(in->z, ZEV_DEBOUNCE, (uint64_t) m->debounce_ms * 1000);
	}
	return n;
}

static int on_rewatch(sd_event_source *s, uint64_t usec, void *userdata);

/* A directory with inputs that cannot be watched now (gone): looked for until it is back. */
static void watch_lost(manager *m, const char *dir)
{
	char **v, *copy;

	for (size_t i = 0; i < m->n_lost; i++)
		if (!strcmp(m->lost_dirs[i], dir))
			return;
	copy = strdup(dir);
	v = copy ? realloc(m->lost_dirs, (m->n_lost + 1) * sizeof(*v)) : NULL;
	if (!v) {
		free(copy);
		return;
	}
	m->lost_dirs = v;
	m->lost_dirs[m->n_lost++] = copy;
	if (m->n_lost == 1)
		(void) mgr_set_timer(m, &m->rewatch_timer, REWATCH_USEC, on_rewatch, m);
}

/*
 * The directories that went away, looked for again: one that is back is watched, and its
 * zones' inputs are read (whatever happened there meanwhile was not seen). One no zone
 * needs any more is forgotten.
 */
static int on_rewatch(sd_event_source *s, uint64_t usec, void *userdata)
{
	manager *m = userdata;
	size_t k = 0;

	for (size_t i = 0; i < m->n_lost; i++) {
		char *dir = m->lost_dirs[i];

		if (inputs_in_dir(m, dir, false) && watch_add(m, dir) < 0) {
			m->lost_dirs[k++] = dir;
			continue;
		}
		if (inputs_in_dir(m, dir, true))
			dlog(ZK_LOG_NOTICE, NULL, "%s is back: watching it again", dir);
		free(dir);
	}
	m->n_lost = k;
	if (k)
		(void) mgr_set_timer(m, &m->rewatch_timer, REWATCH_USEC, on_rewatch, m);
	return 0;
}

/* Watch the directory of `file` (any number of directories: one per customer is fine). */
static void watch_dir(manager *m, const char *file)
{
	_cleanup_free_ char *copy = strdup(file);
	const char *dir = copy ? dirname(copy) : NULL;
	int r;

	if (!dir)
		return;
	r = watch_add(m, dir);
	if (r == -ENOENT) {
		dlog(ZK_LOG_WARNING, NULL, "cannot watch %s: it does not exist; watched once it "
		     "does", dir);
		watch_lost(m, dir);
	} else if (r < 0) {
		dlog(ZK_LOG_WARNING, NULL, "cannot watch %s: %s; changes there are not seen", dir,
		     strerror(-r));
	}
}

static void watch_zone(manager *m, dzone *z)
{
	watch_dir(m, z->cfg->input_file);
	/* a symlinked input: edits happen where it points */
	if (z->input_real && strcmp(z->input_real, z->cfg->input_file) != 0)
		watch_dir(m, z->input_real);
}

/*
 * Watch `w` is gone (its directory deleted or moved away, its file system unmounted): the
 * inputs there are read again (they are gone too, or not), and the directory is looked for
 * until it is back.
 */
static void watch_gone(manager *m, size_t w)
{
	char *dir = m->watches[w].dir;

	memmove(m->watches + w, m->watches + w + 1, (m->n_watches - w - 1) * sizeof(*m->watches));
	m->n_watches--;
	if (!dir)
		return;
	if (inputs_in_dir(m, dir, true)) {
		dlog(ZK_LOG_WARNING, NULL, "%s went away: its zones' input files are read again "
		     "once it is back", dir);
		watch_lost(m, dir);
	}
	free(dir);
}

/* Events were lost (the queue overflowed): every input is read again, as if changed. */
static void watch_overflow(manager *m)
{
	dlog(ZK_LOG_WARNING, NULL, "too many input file changes at once (inotify queue "
	     "overflow): checking every input file again");
	for (size_t i = 0; i < m->inputs.n; i++)
		mgr_event_set(((dinput *) m->inputs.v[i])->z, ZEV_DEBOUNCE,
			      (uint64_t) m->debounce_ms * 1000);
}

static void on_watch_event(manager *m, const struct inotify_event *ev)
{
	size_t w = watch_lower(m, ev->wd);
	char path[PATH_MAX];

	if (ev->mask & IN_Q_OVERFLOW) {
		watch_overflow(m);
		return;
	}
	if (w == m->n_watches || m->watches[w].wd != ev->wd)
		return;
	if (ev->mask & IN_IGNORED) {
		watch_gone(m, w);
		return;
	}
	if (ev->mask & IN_MOVE_SELF) {
		/* the watch follows the directory elsewhere: end it (IN_IGNORED comes next) */
		(void) inotify_rm_watch(m->inotify_fd, ev->wd);
		return;
	}
	if (!m->watches[w].dir || !ev->len)
		return;
	snprintf(path, sizeof(path), "%s/%s", m->watches[w].dir, ev->name);
	for (size_t i = zset_lower(&m->inputs, path); i < m->inputs.n; i++) {
		dinput *in = m->inputs.v[i];

		if (strcmp(in->path, path) != 0)
			break;
		/* debounce: editors write in several steps; apply once it is quiet */
		mgr_event_set(in->z, ZEV_DEBOUNCE, (uint64_t) m->debounce_ms * 1000);
	}
}

static int on_inotify(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	manager *m = userdata;
	char buf[8192] __attribute__((aligned(__alignof__(struct inotify_event))));
	ssize_t n = read(fd, buf, sizeof(buf));

	for (char *p = buf; n > 0 && p < buf + n;) {
		const struct inotify_event *ev = (const struct inotify_event *) p;

		p += sizeof(*ev) + ev->len;
		on_watch_event(m, ev);
	}
	return 0;
}

/* ---------------------------------------------------------------- status and API */

/* A zone that never had a version in memory is "loading" until its run has read one. */
const char *mgr_zone_state(const dzone *z)
{
	if (z->running)
		return !z->first_done && atomic_load(&z->job_ph) <= SGN_PHASE_VERSION ? "loading"
										      : "signing";
	return z->last_code ? "error" : z->first_done ? "ok" : "pending";
}

/*
 * How far the running job is, in percent (-1: no job): the phases in order, the signing
 * phase by the share of RRsets the signing threads have taken. Rough, but it moves.
 */
int mgr_zone_progress(const dzone *z)
{
	/* where each phase starts; SIGN spans to VERIFY's start */
	static const int at[] = { [SGN_PHASE_KEYS] = 0, [SGN_PHASE_VERSION] = 5,
				  [SGN_PHASE_STRUCTURE] = 25, [SGN_PHASE_SIGN] = 35,
				  [SGN_PHASE_VERIFY] = 80, [SGN_PHASE_PUBLISH] = 92,
				  [SGN_PHASE_END] = 100 };
	int ph = atomic_load(&z->job_ph);

	if (!z->running)
		return -1;
	if (ph < 0 || ph > SGN_PHASE_END)
		return 0;
	if (ph == SGN_PHASE_SIGN)
		return at[SGN_PHASE_SIGN] + (int) ((at[SGN_PHASE_VERIFY] - at[SGN_PHASE_SIGN]) *
						   atomic_load(&z->job_permille) / 1000);
	return at[ph];
}

/* One hook of the zone: null when it is not configured. */
static json_t *hook_json(const dzone *z, hook_kind k, bool configured)
{
	hook_stat st = { 0 };
	char t1[32], t2[32];

	if (!configured)
		return json_null();
	(void) hooks_stat(z->m->hooks, z->name, k, &st); /* not run since start: all zero */
	return json_pack("{s:I,s:I,s:o,s:o,s:o,s:I}", "failures", (json_int_t) st.failures,
			 "failures_total", (json_int_t) st.failures_total, "last_error",
			 st.last_error[0] ? api_json_string(st.last_error) : json_null(),
			 "retry_at", st.retry_at ? json_string(zk_time_iso(st.retry_at, t1, 32))
						 : json_null(),
			 "last_success", st.last_success ? json_string(zk_time_iso(st.last_success,
										   t2, 32))
							 : json_null(),
			 "pending", (json_int_t) st.pending);
}

/* The zone's hooks after a publication: a failure shows here while it lasts. */
static json_t *hooks_json(const dzone *z)
{
	const pol_config *c = z->m->config;

	return json_pack("{s:o,s:o}", "reload",
			 hook_json(z, HOOK_RELOAD, c->publish.reload_command != NULL), "notify",
			 hook_json(z, HOOK_NOTIFY, c->publish.n_notify != 0));
}

static json_t *zone_json(const dzone *z)
{
	char t1[32], t2[32], t3[32];
	json_t *j = json_object();

	json_object_set_new(j, "name", json_string(z->name));
	json_object_set_new(j, "serial", z->serial ? json_integer(z->serial) : json_null());
	json_object_set_new(j, "state", json_string(mgr_zone_state(z)));
	json_object_set_new(j, "progress", z->running ? json_integer(mgr_zone_progress(z))
						      : json_null());
	json_object_set_new(j, "source", json_string(z->from_api ? "api" : "config"));
	json_object_set_new(j, "policy", json_string(z->cfg->policy->name));
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
	json_object_set_new(j, "writeback_error",
			    z->wb_refused ? api_json_string(z->wb_refused) : json_null());
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
	json_object_set_new(j, "hooks", hooks_json(z));
	if (z->last_code)
		json_object_set_new(j, "error",
				    json_pack("{s:s,s:s,s:s,s:i}", "code", zk_code_name(z->last_code),
					      "message", z->last_error.message, "file",
					      z->last_error.file, "line", (int) z->last_error.line));
	else
		json_object_set_new(j, "error", json_null());
	return j;
}

/* The service status (STATUS=), at most every STATUS_USEC: a walk over all zones. */
static int on_status(sd_event_source *s, uint64_t usec, void *userdata)
{
	manager *m = userdata;
	size_t ok = 0, failing = 0, n = m->zones.n;
	zk_time_t next = 0;
	char ts[32], jobs[64] = "";

	for (size_t i = 0; i < n; i++) {
		const dzone *z = m->zones.v[i];

		if (z->last_code)
			failing++;
		else if (z->first_done)
			ok++;
		if (z->next_event && (!next || z->next_event < next))
			next = z->next_event;
	}
	if (m->n_jobs)
		snprintf(jobs, sizeof(jobs), ", %u signing", m->n_jobs);
	if (m->n_unready) {
		/* the start: zones ready so far, and how far one of those under way is */
		const dzone *cur = NULL;
		char pct[300] = "";

		for (size_t i = 0; i < n && !cur; i++)
			if (((const dzone *) m->zones.v[i])->running)
				cur = m->zones.v[i];
		if (cur)
			snprintf(pct, sizeof(pct), "; %s %s %d%%", cur->name, mgr_zone_state(cur),
				 mgr_zone_progress(cur));
		notify_status("starting: %zu of %zu zone%s ready, %zu failing%s%s",
			      n - m->n_unready, n, n == 1 ? "" : "s", failing, jobs, pct);
		if (m->n_jobs) /* the percentage moves without an event: look again in a second */
			(void) mgr_set_timer(m, &m->status_timer, 1000000, on_status, m);
		return 0;
	}
	if (next)
		notify_status("%zu zone%s: %zu ok, %zu failing%s; next re-signing %s", n,
			      n == 1 ? "" : "s", ok, failing, jobs, zk_time_iso(next, ts, 32));
	else
		notify_status("%zu zone%s: %zu ok, %zu failing%s", n, n == 1 ? "" : "s", ok,
			      failing, jobs);
	return 0;
}

static void update_status(manager *m)
{
	if (m->status_timer && sd_event_source_get_enabled(m->status_timer, NULL) > 0)
		return; /* due soon */
	(void) mgr_set_timer(m, &m->status_timer, STATUS_USEC, on_status, m);
}

/* ---------------------------------------------------------------- record writes */

zk_time_t mgr_now(const manager *m)
{
	return zk_clock_now(&m->clock);
}

size_t mgr_n_zones(const manager *m)
{
	return m->zones.n;
}

dzone *mgr_zone_at(const manager *m, size_t i)
{
	return m->zones.v[i];
}

size_t mgr_zone_after(const manager *m, const char *name)
{
	_cleanup_free_ char *norm = NULL;
	size_t i;

	if (pol_name_normalize(name, &norm) < 0)
		return 0;
	i = zset_lower(&m->zones, norm);
	return i < m->zones.n && !strcmp(((dzone *) m->zones.v[i])->name, norm) ? i + 1 : i;
}

json_t *mgr_zone_json(const dzone *z)
{
	return zone_json(z);
}

dzone *mgr_zone_new(manager *m, const pol_config *c, pol_zone *own)
{
	dzone *z = zone_new(m, c, NULL, own);

	if (z)
		watch_zone(m, z);
	return z;
}

void mgr_zone_drop(manager *m, dzone *z)
{
	zone_unlink(m, z);
	zone_free(z);
}

void mgr_enqueue(manager *m, dzone *z)
{
	enqueue(m, z);
}

void mgr_dequeue(manager *m, dzone *z)
{
	queue_remove(m, z);
}

void mgr_update_status(manager *m)
{
	update_status(m);
}

void mgr_zone_reconfigured(manager *m, dzone *z)
{
	zone_reconfigured(m, z, m->config);
}

/* ---------------------------------------------------------------- configuration */

static const zk_diag config_diag = { .emit = dlog_diag_emit };

/* A zone whose settings changed: sign it again (files re-read, paths watched). */
static void zone_reconfigured(manager *m, dzone *z, const pol_config *c)
{
	if (z->ctx)
		sgn_ctx_set_config(z->ctx, c, z->cfg);
	zone_index_inputs(m, z);
	watch_zone(m, z);
	z->want = z->want_reload = true;
	enqueue(m, z); /* started by the caller's schedule(), under the new configuration */
}

/* A zone of the registry, made from what it says and the configuration `c`. */
static int registry_zone(manager *m, const pol_config *c, const reg_entry *re)
{
	const pol_policy *p = pol_config_policy(c, re->policy);
	dzone *z = zset_find(&m->zones, re->name);
	pol_zone own;
	int r;

	if (!p)
		return -ENOENT; /* checked by the caller */
	r = pol_zone_make(c, re->name, p, &own);
	if (r < 0)
		return r;
	if (!z) {
		z = zone_new(m, c, NULL, &own);
		if (!z) {
			pol_zone_clear(&own);
			return -ENOMEM;
		}
		watch_zone(m, z);
		return 0;
	}
	if (pol_zone_equal(&z->own, &own)) {
		z->own.policy = p; /* the same values, in the new configuration */
		if (z->ctx)
			sgn_ctx_set_config(z->ctx, c, z->cfg);
		pol_zone_clear(&own);
		return 0;
	}
	pol_zone_clear(&z->own);
	z->own = own;
	zone_reconfigured(m, z, c);
	return 0;
}

/*
 * Make the zones match `c` (which becomes the configuration): those of the file, then
 * those of the registry, their policies looked up by name again. A zone whose settings
 * did not change keeps its state and is not run again; a new zone is queued at once.
 * Refused, with nothing changed, when the registry's zones do not fit `c` (a policy they
 * use is gone, or the file now lists one of them). No job may run.
 */
static int apply_config(manager *m, pol_config *c, size_t counts[3], zk_error *reterr)
{
	size_t n_reg = 0;
	const reg_entry *re = reg_entries(m->registry, &n_reg);
	uint64_t gen = ++m->config_gen;
	size_t added = 0, changed = 0, removed = 0;

	for (size_t i = 0; i < n_reg; i++)
		if (!pol_config_policy(c, re[i].policy))
			return zk_fail(reterr, ZK_E_CONFIG, "policy \"%s\" is gone, but zone %s, "
				       "created through the API, uses it: keep the policy (or "
				       "delete the zone first)", re[i].policy, re[i].name);
	for (size_t i = 0; i < c->n_zones; i++)
		if (reg_find(m->registry, c->zones[i].name))
			return zk_fail(reterr, ZK_E_CONFIG, "zone %s is in the file, but was created "
				       "through the API: delete it there first (or take it out of "
				       "the file)", c->zones[i].name);

	for (size_t i = 0; i < c->n_zones; i++) {
		dzone *z = zset_find(&m->zones, c->zones[i].name);

		if (z) {
			bool same = pol_zone_equal(z->cfg, &c->zones[i]);

			z->cfg = &c->zones[i];
			z->config_gen = gen;
			if (same) {
				if (z->ctx)
					sgn_ctx_set_config(z->ctx, c, z->cfg);
			} else {
				changed++;
				zone_reconfigured(m, z, c);
			}
			continue;
		}
		z = zone_new(m, c, &c->zones[i], NULL);
		if (!z) {
			dlog_fields f = { .zone = c->zones[i].name, .signatures = -1 };

			dlog(ZK_LOG_ERR, &f, "cannot add the zone: out of memory");
			continue;
		}
		z->config_gen = gen;
		watch_zone(m, z);
		added++;
		if (m->config) {
			dlog_fields f = { .zone = z->name, .signatures = -1 };

			dlog(ZK_LOG_NOTICE, &f, "zone added");
		}
	}
	for (size_t i = 0; i < n_reg; i++) {
		int r = registry_zone(m, c, &re[i]);

		if (r < 0) {
			dlog_fields f = { .zone = re[i].name, .signatures = -1, .error_code = r };

			dlog(ZK_LOG_ERR, &f, "cannot load the zone of the registry: %s", strerror(-r));
		}
	}
	/* the file's zones that are no longer in it */
	for (size_t i = m->zones.n; i-- > 0;) {
		dzone *z = m->zones.v[i];
		dlog_fields f = { .zone = z->name, .signatures = -1 };
		zk_error e;

		if (z->from_api || z->config_gen == gen)
			continue;
		dlog(ZK_LOG_NOTICE, &f, "zone removed; its published file stays");
		zk_fail(&e, ZK_E_ZONE_NOT_FOUND, "the zone was removed from the configuration "
			"before the change was published");
		writes_answer_waiters(z, UINT64_MAX, ZK_E_ZONE_NOT_FOUND, &e);
		zone_unlink(m, z);
		zone_free(z);
		removed++;
	}
	if (m->config)
		dlog(ZK_LOG_INFO, NULL, "configuration applied: %zu zone(s) added, %zu changed, "
		     "%zu removed", added, changed, removed);
	counts[0] = added;
	counts[1] = changed;
	counts[2] = removed;
	pol_config_free(m->config);
	m->config = c;
	/* hooks still retried follow the new settings (a command taken out is not retried) */
	hooks_reconfigure(m->hooks, c->publish.reload_command, c->publish.reload_timeout,
			  c->publish.notify, c->publish.n_notify);
	return 0;
}

static void do_reload(manager *m)
{
	pol_config *c = NULL;
	zk_error e = { 0 };
	size_t counts[3] = { 0 };
	char buf[1024];
	int r;

	m->reload_pending = false;
	writes_commit_now(m); /* no queued write may point at a removed zone */
	notify_reloading();
	dlog(ZK_LOG_NOTICE, NULL, "reloading %s", m->config_path);
	r = pol_config_load(m->config_path, &config_diag, &c, &e);
	if (r < 0) {
		dlog_fields f = { .error_code = r, .signatures = -1, .file = e.file, .line = e.line };

		dlog(ZK_LOG_ERR, &f, "configuration refused, keeping the running one: %s",
		     zk_error_str(&e, r, buf, sizeof(buf)));
	} else if ((r = apply_config(m, c, counts, &e)) < 0) {
		dlog_fields f = { .error_code = r, .signatures = -1 };

		dlog(ZK_LOG_ERR, &f, "configuration refused, keeping the running one: %s",
		     zk_error_str(&e, r, buf, sizeof(buf)));
		pol_config_free(c);
	}
	/* POST /v1/reload (`zonekeeper reload`, the unit's ExecReload): answered now */
	for (size_t i = 0; i < m->n_reload_reqs; i++) {
		if (r < 0)
			api_reply_error(m->reload_reqs[i], r, &e);
		else
			api_reply_json(m->reload_reqs[i], 200,
				       json_pack("{s:s,s:I,s:I,s:I,s:I}", "status", "ok", "zones",
						 (json_int_t) m->zones.n, "added",
						 (json_int_t) counts[0], "changed",
						 (json_int_t) counts[1], "removed",
						 (json_int_t) counts[2]));
	}
	m->n_reload_reqs = 0;
	on_status(NULL, 0, m);
	notify_ready();
	schedule(m);
}

/* ---------------------------------------------------------------- signals */

static int on_terminate(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata)
{
	manager *m = userdata;

	notify_stopping();
	dlog(ZK_LOG_NOTICE, NULL, "stopping%s", m->n_jobs ? " once the running signings end" : "");
	m->stopping = true;
	if (!m->n_jobs)
		sd_event_exit(m->event, 0);
	return 0;
}

static void reload_soon(manager *m)
{
	m->reload_pending = true;
	/* not under a job or a worker's feet: both borrow the configuration */
	if (!m->n_jobs && !pool_pending(m->pool))
		do_reload(m);
}

static int on_hup(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata)
{
	reload_soon(userdata);
	return 0;
}

int mgr_reload_request(manager *m, api_req *req)
{
	api_req **v = realloc(m->reload_reqs, (m->n_reload_reqs + 1) * sizeof(*v));

	if (!v)
		return -ENOMEM;
	m->reload_reqs = v;
	m->reload_reqs[m->n_reload_reqs++] = req;
	reload_soon(m);
	/* answered by do_reload, now or once the running jobs are over */
	return m->n_reload_reqs ? API_LATER : API_DONE;
}

/* ---------------------------------------------------------------- life cycle */

/* The temporary files a crash left, for every zone at once: each directory read once. */
static void remove_stale_temps(manager *m)
{
	const pol_zone **zones = calloc(m->zones.n ? m->zones.n : 1, sizeof(*zones));
	size_t stale;

	if (!zones)
		return;
	for (size_t i = 0; i < m->zones.n; i++)
		zones[i] = ((dzone *) m->zones.v[i])->cfg;
	stale = sgn_remove_stale_temps_all(m->config, zones, m->zones.n);
	if (stale)
		dlog(ZK_LOG_NOTICE, NULL, "removed %zu temporary file(s) an earlier crash left",
		     stale);
	free(zones);
}

int manager_new(const manager_opts *o, manager **ret, zk_error *reterr)
{
	_cleanup_(manager_free_p) manager *m = NULL;
	pol_config *c = NULL;
	sigset_t mask;
	size_t n_api = 0;
	int r, fd;
	bool activated;

	m = calloc(1, sizeof(*m));
	if (!m)
		return zk_fail(reterr, -ENOMEM, "out of memory");
	m->inotify_fd = m->job_pipe[0] = m->job_pipe[1] = -1;
	m->zones.key = zone_key;
	m->inputs.key = input_key;
	{
		long cores = sysconf(_SC_NPROCESSORS_ONLN);

		m->max_jobs = cores < 1 ? 1 : cores > MAX_JOBS ? MAX_JOBS : (unsigned) cores;
		r = slots_init(&m->cpu, m->max_jobs);
		if (r < 0) {
			m->max_jobs = 0; /* nothing for manager_free to tear down */
			return zk_fail(reterr, r, "cannot create the CPU slots");
		}
	}
	m->agents_pipe[0] = m->agents_pipe[1] = -1;
	m->clock = o->clock;
	m->debounce_ms = o->debounce_ms;
	m->config_path = strdup(o->config_path);
	if (!m->config_path)
		return zk_fail(reterr, -ENOMEM, "out of memory");
	r = pol_config_load(o->config_path, &config_diag, &c, reterr);
	if (r < 0)
		return r;
	/* a start that cannot work stops here, naming the path (systemctl status shows it) */
	r = sgn_check_paths(c, &config_diag, reterr);
	/* one publisher: a `zonekeeper sign` running on these zones, or another daemon, stops
	 * the start here, named (signer/lock.h) */
	if (r >= 0)
		r = sgn_lock_take(c->paths.state_dir, SGN_LOCK_DAEMON, &m->lock, reterr);
	if (r < 0) {
		pol_config_free(c);
		return r;
	}

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
	r = pipe2(m->job_pipe, O_CLOEXEC) < 0 ? -errno :
	    sd_event_add_io(m->event, &m->job_src, m->job_pipe[0], EPOLLIN, on_job_done, m);
	if (r < 0) {
		pol_config_free(c);
		return zk_fail(reterr, r, "cannot create the job pipe");
	}
	r = agents_init(m);
	if (r < 0) {
		pol_config_free(c);
		return zk_fail(reterr, r, "cannot create the parental-agent pipe");
	}
	m->inotify_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	r = m->inotify_fd < 0 ? -errno :
	    sd_event_add_io(m->event, &m->inotify_src, m->inotify_fd, EPOLLIN, on_inotify, m);
	if (r < 0) {
		pol_config_free(c);
		return zk_fail(reterr, r, "cannot watch the input directory");
	}
	r = hooks_new(m->event, &m->clock, &m->hooks);
	if (r < 0) {
		pol_config_free(c);
		return zk_fail(reterr, r, "cannot set up the reload hooks");
	}
	{
		char path[PATH_MAX];
		size_t damaged = 0;

		snprintf(path, sizeof(path), "%s/zones.registry", c->paths.state_dir);
		r = zk_mkdir_p(c->paths.state_dir, 0755);
		if (r < 0) {
			zk_fail(reterr, r, "cannot create the state directory %s",
				c->paths.state_dir);
			pol_config_free(c);
			return r;
		}
		r = reg_open(path, &m->registry, &damaged, reterr);
		if (r < 0) {
			pol_config_free(c);
			return r;
		}
		if (damaged)
			dlog(ZK_LOG_ERR, NULL, "%s: %zu damaged line(s) skipped: the zones they "
			     "named are not loaded", path, damaged);
	}
	{
		size_t counts[3];

		r = apply_config(m, c, counts, reterr);
	}
	if (r < 0) {
		pol_config_free(c);
		return r;
	}
	remove_stale_temps(m);
	zones_purge(m);
	r = api_listen_socket(m->config->api.socket, &fd, &activated, reterr);
	if (r < 0)
		return r;
	r = writes_init(m);
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
	(void) reg_entries(m->registry, &n_api);
	dlog(ZK_LOG_NOTICE, NULL, "started with %zu zone%s (%zu created through the API), "
	     "%u signing at once, API on %s%s", m->zones.n, m->zones.n == 1 ? "" : "s", n_api,
	     m->max_jobs, activated ? "the socket passed by systemd"
						   : m->config->api.socket, "");
	*ret = ZK_TAKE(m);
	return 0;
}

manager *manager_free(manager *m)
{
	if (!m)
		return NULL;
	for (size_t i = 0; i < m->zones.n; i++)
		if (((dzone *) m->zones.v[i])->job_alive)
			pthread_join(((dzone *) m->zones.v[i])->thread, NULL);
	/* first: its last callbacks answer requests, or queue writes flushed just below */
	m->pool = pool_free(m->pool);
	if (m->commit_src)
		writes_flush(m);
	sd_event_source_disable_unref(m->commit_src);
	agents_done(m);
	for (size_t i = 0; i < m->zones.n; i++)
		zone_free(m->zones.v[i]);
	zset_done(&m->zones);
	zset_done(&m->inputs);
	m->registry = reg_free(m->registry);
	sd_event_source_disable_unref(m->status_timer);
	sd_event_source_disable_unref(m->purge_timer);
	sd_event_source_disable_unref(m->catalog_timer);
	free(m->deletes);
	free(m->reload_reqs); /* unanswered: api_free closes their connections */
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
	if (m->max_jobs)
		slots_done(&m->cpu);
	sgn_lock_free(m->lock); /* last: nothing of ours is written after this */
	free(m);
	return NULL;
}

int manager_run(manager *m)
{
	notify_status("starting: 0 of %zu zone%s ready", m->zones.n, m->zones.n == 1 ? "" : "s");
	notify_ready();
	check_ready(m); /* no zones: every zone loaded at once */
	schedule(m);
	return sd_event_loop(m->event);
}

int mgr_key_request(manager *m, dzone *z, api_req *req, unsigned roll, unsigned roll_now,
		    bool ds_seen, bool ds_gone, uint16_t tag, zk_error *reterr)
{
	if (z->key_req || z->job_key_req)
		return zk_fail(reterr, ZK_E_UNAVAILABLE,
			       "another key request for %s is in progress; try again", z->name);
	z->key_req = req;
	z->key_roll = roll;
	z->key_roll_now = roll_now;
	z->key_ds_seen = ds_seen;
	z->key_ds_gone = ds_gone;
	z->key_ds_tag = tag;
	mgr_want_run(z, true);
	return 0;
}
