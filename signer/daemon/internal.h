/* SPDX-License-Identifier: MIT */
/*
 * signer/daemon/internal.h -- what the manager (manager.c: loop, jobs, configuration) and
 * the API routes (routes.c: HTTP endpoints, record writes, metrics) share. Not a public
 * interface: only signer/daemon/ includes it.
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
#include "keystore/keystore.h"
#include "signer/journal.h"
#include "signer/records.h"
#include "signer/signer.h"

#define MAX_WATCHES 64
#define MAX_SYSTEM_RRS 64    /* system records listed by the API (apex: SOA, NS, DNSKEY...) */
#define LATENCY_BUCKETS 11

typedef struct dzone dzone;

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

typedef struct dzone {
	manager *m;
	char *name;
	const pol_zone *cfg;      /* borrowed from m->config */
	char *input_real;         /* the input file with symbolic links resolved (watched too) */
	sgn_ctx *ctx;             /* NULL until opened (or after its state failed to load) */
	sd_event_source *due, *debounce;

	bool want, want_reload;   /* a run is wanted; with the input read again */
	bool want_safe;           /* the next run only re-signs the published version */
	bool input_broken;        /* the input failed: wait for it to change */
	bool running, first_done;
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
	rec_rr sys[MAX_SYSTEM_RRS];
	size_t n_sys;
	sd_event_source *wb_timer;
	bool writeback_due;
	bool due_fired;           /* the due timer asked for this run */
	bool have_input_id;       /* the input file as our last write-back left it */
	struct stat input_id;
	uint64_t api_writes;
	uint64_t sigs_total;      /* signatures made since start */
	/* keys: operator requests (API) and what the last run said */
	api_req *key_req;         /* a request waiting for the next run */
	api_req *job_key_req;     /* the request the running job carries out */
	unsigned key_roll;        /* roles to roll in the next run (1 << KS_ROLE_*) */
	bool key_ds_seen, key_ds_gone;
	uint16_t key_ds_tag;
	zk_time_t key_next;       /* next key event (0: none) */
	zk_time_t parent_asked;   /* when a run last asked the parental agents */
	char key_status[128];     /* "waiting for DS 12345 at the parent", or "" */
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
	sd_event_source *agents_timer;
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
	rec_set *job_recs;        /* job: index rebuilt from the zone read anew */
	rec_rr job_sys[MAX_SYSTEM_RRS]; /* job: system records of the new version */
	size_t job_n_sys;
	bool job_sys_set;
	int wb_r;                 /* job: write-back result */
	uint64_t wb_seq;
	uint64_t wb_usec;         /* job: how long the write-back took */
	zk_error wb_err;
	sgn_run_opts opts;
	sgn_run_result res;
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

	dzone **zones;
	size_t n_zones;

	int inotify_fd;
	sd_event_source *inotify_src;
	struct {
		int wd;
		char *dir;
	} watches[MAX_WATCHES];
	size_t n_watches;

	int job_pipe[2];
	sd_event_source *job_src;
	dzone *job;               /* the zone whose job runs, or NULL */

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
json_t *mgr_zone_json(const dzone *z);
/*
 * Accept a validated write: its changes (taken over; ops[].seq is set here) go to the
 * journal, the zone's index and the list of writes to apply. The reply is sent once the
 * journal is synced (or once published, with `wait`). Returns API_LATER, or an error
 * (then nothing changed and the caller answers).
 */
int mgr_submit(manager *m, dzone *z, rec_op *ops, size_t n, api_req *req, unsigned status,
	       json_t *reply, bool wait, zk_error *reterr);
/*
 * Carry out a key request (a rollover, a DS seen at the parent) in the zone's next run;
 * `req` is answered when that run ends (routes_key_done). One request at a time per zone:
 * ZK_E_UNAVAILABLE while another is pending.
 */
int mgr_key_request(manager *m, dzone *z, api_req *req, unsigned roll, bool ds_seen,
		    bool ds_gone, uint16_t tag, zk_error *reterr);

/* The next key event: a key state change or the next parental-agent check (0: none). */
zk_time_t mgr_next_key_event(const dzone *z);

/* The zone's real-time delay until simulated instant `when` (the clock may be fake). */
uint64_t mgr_delay_usec(const manager *m, zk_time_t when);
int mgr_set_timer(manager *m, sd_event_source **src, uint64_t delay_usec,
		  sd_event_time_handler_t cb, void *userdata);
void mgr_want_run(dzone *z);

/* agents.c */
int agents_init(manager *m);
/* After a run: ask the agents when the interval says, if a DS move waits on them. */
void agents_schedule(dzone *z);
/* Wait for the checks still running (shutdown); their answers are dropped. */
void agents_done(manager *m);

/* routes.c */
int routes_handle(void *userdata, api_req *req);
/* Answer a key request once its run ended with `r` (and `e` on failure). */
void routes_key_done(dzone *z, api_req *req, int r, const zk_error *e);
extern const double latency_bounds[LATENCY_BUCKETS];
