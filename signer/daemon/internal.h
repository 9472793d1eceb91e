/* SPDX-License-Identifier: MIT */
/*
 * signer/daemon/internal.h -- what the daemon's modules share: the manager (manager.c:
 * the loop, signals, inotify, configuration, the run queue and the jobs), the write
 * pipeline (writes.c: journal, group commit, waiters, write-back), zones as data
 * (zones.c: create, delete, restore, the catalog) and the API routes (routes.c: HTTP
 * endpoints, metrics). Not a public interface: only signer/daemon/ includes it.
 *
 * Threads: everything here belongs to the loop thread, except the fields marked "job",
 * which the signing thread of the zone's running job writes and the loop reads once the
 * job has ended.
 */
#pragma once

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>

#include <jansson.h>
#include <systemd/sd-event.h>

#include "policy/policy.h"
#include "policy/zk-time.h"
#include "signer/daemon/api.h"
#include "signer/daemon/hooks.h"
#include "signer/daemon/manager.h"
#include "signer/daemon/pool.h"
#include "signer/daemon/registry.h"
#include "signer/daemon/slots.h"
#include "signer/daemon/zset.h"
#include "keystore/keystore.h"
#include "signer/journal.h"
#include "signer/lock.h"
#include "signer/records.h"
#include "signer/signer.h"

#define MAX_SYSTEM_RRS 64    /* system records listed by the API (apex: SOA, NS, DNSKEY...) */
#define LATENCY_BUCKETS 11

typedef struct dzone dzone;

/*
 * The kinds of event a zone has, each with its own deadline, under one timer per zone
 * (manager.c, mgr_event_set): its next run (a refresh, a key event, a retry), an input
 * edit that settles, API writes due in the input file, the parental agents to ask.
 */
typedef enum zev {
	ZEV_DUE,
	ZEV_DEBOUNCE,
	ZEV_WRITEBACK,
	ZEV_AGENTS,
	_ZEV_MAX,
} zev;

/* A key whose DS move waits on the parent: what its parental agents are asked about. */
typedef struct parent_key {
	uint16_t tag;
	uint8_t alg;
	uint16_t len;
	uint8_t rdata[KS_DNSKEY_MAX];
} parent_key;

/* A write's reply, held until its journal line is durable (and, with ?wait=published,
 * until the signed zone holding it is out). */
typedef struct dwrite {
	api_req *req;
	dzone *z;
	uint64_t seq;
	unsigned status;
	json_t *reply;        /* owned */
	bool wait;
	struct dwrite *next;
} dwrite;

/* A path whose changes concern a zone (its input file, or where that file's link points). */
typedef struct dinput {
	char *path;
	dzone *z;
} dinput;

typedef struct dzone {
	manager *m;
	char *name;
	const pol_zone *cfg;      /* borrowed from m->config, or `own` */
	pol_zone own;             /* a zone created through the API: its settings */
	bool from_api;            /* created through the API (in the registry) */
	dinput inputs[2];         /* in m->inputs: input_file, input_real */
	/* the run queue (manager.c): which queue the zone waits in, its neighbours there */
	int queued;
	dzone *q_prev, *q_next;
	bool want_urgent;         /* the wanted run is one a client waits for */
	bool job_alive;           /* its job thread runs (until job_done) */
	uint64_t config_gen;      /* the configuration load that last listed it (file zones) */
	/* DELETE /v1/zones/{zone} waiting for the running job to end */
	api_req *delete_req;
	/* POST /v1/zones?wait=published: the creation's reply, sent at the first publication */
	api_req *create_req;
	json_t *create_reply;
	uint64_t create_seq;      /* ...once the write of its records (this seq) is out */
	bool in_catalog;          /* listed in the catalog zone last written */
	const pol_policy *pending_policy; /* PUT /v1/zones/{zone}: applied once no job runs */
	char *input_real;         /* the input file with symbolic links resolved (watched too) */
	sgn_ctx *ctx;             /* NULL until opened (or after its state failed to load) */
	sd_event_source *timer;   /* the zone's one timer: the earliest of ev_at */
	uint64_t ev_at[_ZEV_MAX]; /* each event's deadline, monotonic µs (0: none) */

	bool want, want_reload;   /* a run is wanted; with the input read again */
	bool want_safe;           /* the next run only re-signs the published version */
	bool input_broken;        /* the input failed: wait for it to change */
	bool running, first_done;
	/* job: the phase its run is in (sgn_phase; -1: none yet) and the share of the signing
	 * done (1/1000), written by the job's threads, read by the loop for the status */
	_Atomic int job_ph;
	_Atomic unsigned job_permille;
	unsigned failures;        /* normal runs failed in a row */
	/*
	 * Zone time: the next normal run after a failure (0: not failing), and the next
	 * re-signing or key event of the published version (0: none known). The due timer
	 * is armed for the earlier of the two.
	 */
	zk_time_t retry_at, refresh_at;
	uint64_t runs, failed_runs, safe_runs; /* since start, for the status and /metrics */
	size_t journal_damaged;   /* damaged journal lines skipped at start (writes lost) */

	/* status */
	int last_code;
	zk_error last_error;
	uint32_t serial;
	zk_time_t last_published, next_event, earliest_expiry;
	size_t last_made, names, rrsets;

	/* record API */
	jnl *journal;             /* NULL if it could not be opened (writes refused) */
	rec_set *recs;            /* user records as the API sees them; NULL until loaded */
	rec_op *ops;              /* writes not yet written back to the input file, by seq */
	uint64_t *op_usec;        /* when each was accepted (monotonic), for the histogram */
	size_t n_ops, cap_ops;
	uint64_t synced_seq;      /* newest write whose journal line is durable */
	uint64_t published_seq;   /* newest write in the published zone */
	dwrite *waiters;          /* ?wait=published */
	rec_rr *sys;              /* owned, n_sys of them */
	size_t n_sys;
	bool writeback_due;
	bool hooks_resumed;       /* the hooks owed before a restart were looked for */
	bool due_fired;           /* the due timer asked for this run */
	bool have_input_id;       /* the input file as our last write-back left it */
	struct stat input_id;
	uint64_t api_writes;
	uint64_t sigs_total;      /* signatures made since start */
	/* keys: operator requests (API) and what the last run said */
	api_req *key_req;         /* a request waiting for the next run */
	api_req *job_key_req;     /* the request the running job carries out */
	unsigned key_roll;        /* roles to roll in the next run (1 << KS_ROLE_*) */
	unsigned key_roll_now;    /* ... of them at once, whatever the key's age */
	bool key_ds_seen, key_ds_gone;
	uint16_t key_ds_tag;
	zk_time_t key_next;       /* next key event (0: none) */
	zk_time_t parent_asked;   /* when a run last asked the parental agents */
	char key_status[192];     /* "waiting for DS 12345 at the parent", or "" */
	bool key_waits_parent;    /* a key move waits for the parent's DS (or its removal) */
	char parent_error[512];   /* why the parental agents could not be asked, or "" */
	size_t dnskey_response;   /* bytes of the DNSKEY answer last published */
	/*
	 * The keys as the last run left them, built by the job thread: the API reads these
	 * instead of the key directory, which the job changes (a key being archived).
	 */
	json_t *keys_view;        /* sgn_keys_view() + next_key_event */
	json_t *ds_view[2];       /* sgn_ds_view() for digest 2 and 4 */
	ks_ring *ring_snap;       /* the states, key pointers cleared (ds-seen checks) */
	json_t *job_keys_view, *job_ds_view[2]; /* job: the same, handed over at its end */
	ks_ring *job_ring_snap;
	/*
	 * The parental agents (agents.c) are asked by a thread of their own, so that a slow
	 * or dead agent costs its own timeouts and never holds up a signing run; what they
	 * show goes to the next run as observations.
	 */
	parent_key *waiting;      /* keys whose DS move waits on the parent (last run) */
	size_t n_waiting;
	parent_key *job_waiting;  /* job: the same, handed over at its end */
	size_t job_n_waiting;
	zk_time_t agents_next;    /* when they are asked next (0: not scheduled) */
	bool agents_running;
	uint64_t agents_id;       /* the check running for this zone (ids are never reused) */
	sgn_ds_obs obs[KS_RING_MAX]; /* what the agents showed, for the next run */
	size_t n_obs;
	sgn_ds_obs job_obs[KS_RING_MAX]; /* job: the observations it applies */

	/* the job */
	pthread_t thread;
	size_t job_n_changes;     /* ops in the job's snapshot (opts.changes) */
	bool job_writeback, job_need_recs;
	bool job_only_wb;         /* nothing to sign: only write the API changes back */
	bool job_safe;            /* the job is a safe run (opts.safe) */
	bool job_urgent;          /* a client waits for the job (it came from the urgent queue) */
	bool job_cpu;             /* job: it holds a CPU slot (m->cpu) */
	rec_set *job_recs;        /* job: index rebuilt from the zone read anew */
	rec_rr *job_sys;          /* job: system records of the new version (owned) */
	size_t job_n_sys;
	bool job_sys_set;
	int wb_r;                 /* job: write-back result */
	uint64_t wb_seq;
	uint64_t wb_usec;         /* job: how long the write-back took */
	zk_error wb_err;
	char *wb_refused;         /* the last write-back's error as logged (NULL: it went well;
				   * a pointer: most zones never have one) */
	sgn_run_opts opts;
	sgn_run_result *res;      /* the job's (allocated while it lives) */
	zk_diag diag;
	zk_error err;
	int r;
} dzone;

struct manager {
	sd_event *event;
	zk_clock clock;
	char *config_path;
	pol_config *config;
	uint32_t debounce_ms;
	sgn_lock *lock;           /* the one publisher of state_dir (signer/lock.h) */

	zset zones;               /* dzone, by name */
	zset inputs;              /* dinput, by path */
	size_t n_unready;         /* zones still waiting for their first run */
	reg *registry;            /* the zones created through the API */
	uint64_t config_gen;      /* configuration loads so far */

	int inotify_fd;
	sd_event_source *inotify_src;
	struct {
		int wd;
		char *dir;
	} *watches;               /* by wd (the kernel hands them out in increasing order) */
	size_t n_watches, cap_watches;
	char **lost_dirs;         /* watched directories that went away: looked for again */
	size_t n_lost;
	sd_event_source *rewatch_timer;

	int job_pipe[2];
	sd_event_source *job_src;
	unsigned n_jobs, max_jobs; /* zones being signed; CPU slots (one per core) */
	slots cpu;                /* the CPU slots the jobs take while they compute */
	struct {
		dzone *head, *tail;
	} queue[2];               /* zones waiting for a run: urgent, background */
	sd_event_source *status_timer;
	sd_event_source *purge_timer;
	dzone **deletes;          /* deletes waiting for a job or the workers to end */
	size_t n_deletes;
	api_req **reload_reqs;    /* POST /v1/reload waiting for the reload to be applied */
	size_t n_reload_reqs;
	sd_event_source *catalog_timer;
	uint32_t catalog_serial;

	sd_event_source *sig_term, *sig_int, *sig_hup;
	hooks *hooks;
	api *api;
	pool *pool;               /* the loop's heavy work (routes.c); a reload waits for it */

	/* record API */
	dwrite *commit_head, **commit_tail; /* waiting for the journal fsync (group commit) */
	sd_event_source *commit_src;
	uint64_t latency_buckets[LATENCY_BUCKETS + 1]; /* publish latency histogram */
	double latency_sum;
	uint64_t latency_count;
	bool ready_sent, reload_pending, stopping;
	/* parental-agent checks (agents.c) */
	int agents_pipe[2];
	sd_event_source *agents_src;
	uint64_t agents_seq;
	size_t agents_running;
};


/* manager.c */
zk_time_t mgr_now(const manager *m);
dzone *mgr_find_zone(const manager *m, const char *name);
size_t mgr_n_zones(const manager *m);
dzone *mgr_zone_at(const manager *m, size_t i); /* by name order */
/* The index of the first zone whose name sorts after `name` (normalized). */
size_t mgr_zone_after(const manager *m, const char *name);
/* The zone's state for listings: "ok", "error", "pending", "signing". */
const char *mgr_zone_state(const dzone *z);
/* How far the zone's running job is, in percent; -1 when none runs. */
int mgr_zone_progress(const dzone *z);
/* Zones that have not had their first run since the start (or since they were added). */
size_t mgr_n_starting(const manager *m);
/*
 * Zones as data (routes.c answers): create a zone with the records `ops` (taken over),
 * delete one (answered now, or once its running job ended), restore an archived one.
 * They answer `req` themselves and return API_LATER, or fail with nothing changed.
 */
int mgr_zone_create(manager *m, const char *name, const pol_policy *p, rec_op *ops, size_t n,
		    json_t *stripped, api_req *req, bool wait, zk_error *reterr);
int mgr_zone_delete(manager *m, dzone *z, bool force, api_req *req, zk_error *reterr);
/* Another policy for a zone created through the API (durable when it returns 0). */
int mgr_zone_set_policy(manager *m, dzone *z, const pol_policy *p, zk_error *reterr);
int mgr_zone_restore(manager *m, const char *name, api_req *req, bool wait,
		     zk_error *reterr);
json_t *mgr_zone_json(const dzone *z);

/*
 * Carry out a key request (a rollover, a DS seen at the parent) in the zone's next run;
 * `req` is answered when that run ends (routes_key_done). One request at a time per zone:
 * ZK_E_UNAVAILABLE while another is pending.
 */
int mgr_key_request(manager *m, dzone *z, api_req *req, unsigned roll, unsigned roll_now,
		    bool ds_seen, bool ds_gone, uint16_t tag, zk_error *reterr);

/* The next key event: a key state change or the next parental-agent check (0: none). */
zk_time_t mgr_next_key_event(const dzone *z);

/* The zone's real-time delay until simulated instant `when` (the clock may be fake). */
uint64_t mgr_delay_usec(const manager *m, zk_time_t when);
int mgr_set_timer(manager *m, sd_event_source **src, uint64_t delay_usec,
		  sd_event_time_handler_t cb, void *userdata);
/*
 * POST /v1/reload: reload the configuration as SIGHUP does, and answer once it has been
 * applied (or refused: the error), after the running jobs. API_LATER, API_DONE (answered
 * already) or -ENOMEM.
 */
int mgr_reload_request(manager *m, api_req *req);

/* The zone wants a run: `urgent` when a client waits for it. */
void mgr_want_run(dzone *z, bool urgent);
/* Event `e` of the zone in `delay_usec` (UINT64_MAX: never), or not at all (clear). */
void mgr_event_set(dzone *z, zev e, uint64_t delay_usec);
void mgr_event_clear(dzone *z, zev e);
bool mgr_event_pending(const dzone *z, zev e);
/* For zones.c and writes.c: a zone created through the API (`own` taken over), indexed,
 * watched and queued; a zone taken out and freed (no job may run for it); the run queue;
 * the service status; a zone whose settings changed (signed again); a monotonic clock. */
void mgr_schedule(manager *m);
uint64_t mgr_mono_usec(void);
dzone *mgr_zone_new(manager *m, const pol_config *c, pol_zone *own);
void mgr_zone_drop(manager *m, dzone *z);
void mgr_enqueue(manager *m, dzone *z);
void mgr_dequeue(manager *m, dzone *z);
void mgr_update_status(manager *m);
void mgr_zone_reconfigured(manager *m, dzone *z);

/* writes.c */
/*
 * Accept a validated write: its changes (taken over; ops[].seq is set here) go to the
 * journal, the zone's index and the list of writes to apply. The reply is sent once the
 * journal is synced (or once published, with `wait`). Takes `reply` in all cases. Returns
 * API_LATER, or an error (then nothing changed and the caller answers; `ops` stay its).
 */
int writes_submit(manager *m, dzone *z, rec_op *ops, size_t n, api_req *req, unsigned status,
		  json_t *reply, bool wait, zk_error *reterr);
int writes_init(manager *m);
/* The zone's journal opened, and what it holds queued to be replayed by the first run. */
void writes_open_journal(const pol_config *c, dzone *z);
/* The writes queued for the journal made durable now (before a zone goes away). */
void writes_commit_now(manager *m);
/* Answer the ?wait=published writes up to `seq` (an error when `code` < 0). */
void writes_answer_waiters(dzone *z, uint64_t seq, int code, const zk_error *e);
/* A run is over: its writes published (the index taken over, waiters answered). */
void writes_finish_run(manager *m, dzone *z);
/* The job thread is over: the write-back's result, the journal trimmed. */
void writes_finish_writeback(manager *m, dzone *z);
/* Arm the write-back timer (API writes are pending); ZEV_WRITEBACK when it is due. */
void writes_arm(dzone *z);
void writes_on_writeback(dzone *z);
/* Before the API goes away: no connection stays suspended. */
void writes_flush(manager *m);

/* zones.c */
/* After a run: answer a creation that waits for its publication. */
void zones_creation_done(dzone *z);
/* Answer a creation that waits (with an error when `code` < 0). */
void zones_answer_create(dzone *z, int code, const zk_error *e);
/* The set of published zones changed: write the catalog soon. */
void zones_catalog_changed(manager *m);
/* Carry out the deletes that waited for a job or the workers. */
void zones_deletes_resume(manager *m);
/* A policy change that waited for the zone's job. */
void zones_policy_apply(manager *m, dzone *z);
/* Purge old archives now and every few hours. */
void zones_purge(manager *m);

/* agents.c */
int agents_init(manager *m);
/* After a run: ask the agents when the interval says, if a DS move waits on them. */
void agents_schedule(dzone *z);
/* Wait for the checks still running (shutdown); their answers are dropped. */
void agents_done(manager *m);
/* ZEV_AGENTS: ask them now. */
void agents_on_timer(dzone *z);

/* routes.c */
int routes_handle(void *userdata, api_req *req);
/* Answer a key request once its run ended with `r` (and `e` on failure). */
void routes_key_done(dzone *z, api_req *req, int r, const zk_error *e);
/* The zone's DS records for the parent (the policy's digests), as GET .../ds lists them. */
json_t *routes_ds_json(const dzone *z);
extern const double latency_bounds[LATENCY_BUCKETS];
