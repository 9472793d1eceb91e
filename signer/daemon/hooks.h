/* SPDX-License-Identifier: MIT */
/*
 * signer/daemon/hooks.h -- what happens after a publication (README, "The service"): the
 * configured reload command, run without a shell (so a zone or file name cannot be
 * word-split or interpreted), with a timeout and its exit status logged; and DNS NOTIFY
 * (RFC 1996) to every configured address. Both are retried until they succeed or a newer
 * publication replaces them.
 *
 * Both run inside the event loop and never block it. Pending ones are owned by the
 * hooks object and ended when it is freed.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include <systemd/sd-event.h>

#include "policy/policy.h"
#include "policy/zk-time.h"

typedef struct hooks hooks;

typedef enum hook_kind {
	HOOK_RELOAD,
	HOOK_NOTIFY,
	_HOOK_MAX,
} hook_kind;

/*
 * What a zone's status shows of one of its hooks. A failure is a reload command that
 * failed (exit status, signal, timeout, not started), or a NOTIFY try that went
 * unanswered or was answered with an error. A failing hook is retried after 2 s of zone
 * time, doubling up to 5 min, until it succeeds or a newer publication of the zone
 * replaces it (whose run or NOTIFY is retried then).
 */
typedef struct hook_stat {
	uint64_t failures_total;  /* since start */
	unsigned failures;        /* in a row (NOTIFY: failed tries not yet acknowledged) */
	zk_time_t retry_at;       /* zone time of the next try after a failure (0: none) */
	zk_time_t last_success;   /* zone time (0: none since start) */
	char last_error[256];     /* why the last try failed ("" while not failing) */
	unsigned pending;         /* commands running or waiting, NOTIFYs not acknowledged */
} hook_stat;

/* Retries wait in the zone time of `clock` (the tests' fake clock speeds them up). */
int hooks_new(sd_event *e, const zk_clock *clock, hooks **ret);
hooks *hooks_free(hooks *h);

/*
 * Split `command` on white space, replace %z by the zone, %f by the published file and %%
 * by %, and run it. Killed after `timeout` seconds. At most one runs per zone: asked again
 * while one runs, it runs once more when that one is over, with the last file given
 * (publications in between coalesce). A run that fails is retried with backoff, with the
 * last file given, until one succeeds. Returns 0 once started or queued (or -errno).
 *
 * `dir` (the zone's state directory, or NULL) holds a mark while a hook is owed (from
 * the publication until it succeeded): a restart finds it (hooks_owed) and runs the hook
 * again, so that the server is not left with an old zone.
 */
int hooks_run_reload(hooks *h, const char *zone, const char *dir, const char *command,
		     uint32_t timeout, const char *file);

/*
 * Send NOTIFY for `zone` with `serial` to each target, retried with backoff until
 * acknowledged; one pending per zone and target: a newer serial replaces it (sent now).
 */
int hooks_notify(hooks *h, const char *zone, const char *dir, const pol_notify_target *targets,
		 size_t n, uint32_t serial);

/* The hooks owed in state directory `dir` (1 << hook_kind each), found at start-up. */
unsigned hooks_owed(const char *dir);
/* Nothing is owed in `dir` any more (the hook is no longer configured). */
void hooks_clear_owed(const char *dir, hook_kind k);

/* The zone's state of hook `k` in *ret: false if it never ran since start (or was forgotten). */
bool hooks_stat(const hooks *h, const char *zone, hook_kind k, hook_stat *ret);
/* The zone has a hook failing now (what /metrics counts as needing attention). */
bool hooks_failing(const hooks *h, const char *zone);
/* The zones with a hook state, by name: their number, and the name of the i-th. */
size_t hooks_n_zones(const hooks *h);
const char *hooks_zone_name(const hooks *h, size_t i);

/*
 * The configuration changed: retries run `command` (with `timeout`) from now on, or end
 * when there is none; NOTIFYs pending for a target no longer in `targets` end.
 */
void hooks_reconfigure(hooks *h, const char *command, uint32_t timeout,
		       const pol_notify_target *targets, size_t n);

/*
 * The zone is deleted or removed: its retries and NOTIFYs end, its state goes. A command
 * running for it (and the one queued after it) still runs, without retries.
 */
void hooks_forget(hooks *h, const char *zone);

/* How many reload commands and NOTIFY exchanges are still pending (tests, shutdown). */
unsigned hooks_pending(const hooks *h);
