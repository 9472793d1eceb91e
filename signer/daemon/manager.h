/* SPDX-License-Identifier: MIT */
/*
 * signer/daemon/manager.h -- zonekeeperd's one manager object. It owns the sd-event loop
 * and every source: signals (SIGHUP reload, SIGTERM/SIGINT stop), inotify on the input
 * directories, one timer per zone for all its events (due, debounce, write-back, agents),
 * the job pipe, the API socket, and the hooks run after publication.
 *
 * A zone's run is a job on a thread of its own; several zones' jobs run at once, and they
 * share the CPU slots (slots.h) and the worker set (signer/par.h), so the loop keeps
 * answering the API and feeding the watchdog while large zones sign. A zone's signing
 * context is touched only by the job running for it, or by the loop when no job runs.
 * doc/design.md has the whole picture.
 *
 * Time: every instant comes from the manager's clock (real, or ZONEKEEPER_FAKE_TIME);
 * timers are armed as real monotonic delays computed from it, so a fake clock running at
 * a day per second drives months of re-signing in a minute.
 */
#pragma once

#include <stdbool.h>

#include "policy/zk-error.h"
#include "policy/zk-time.h"

typedef struct manager manager;

typedef struct manager_opts {
	const char *config_path;
	zk_clock clock;
	uint32_t debounce_ms;   /* input changes are applied this long after the last one */
} manager_opts;

int manager_new(const manager_opts *o, manager **ret, zk_error *reterr);
manager *manager_free(manager *m);
static inline void manager_free_p(manager **m)
{
	if (*m)
		manager_free(*m);
}

/* Run until SIGTERM/SIGINT. Returns 0 on a clean stop. */
int manager_run(manager *m);
