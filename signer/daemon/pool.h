/* SPDX-License-Identifier: MIT */
/*
 * signer/daemon/pool.h -- the daemon's worker threads for the event loop's heavy work: a
 * record listing of a large zone, the parsing of an import. The loop hands the work over
 * and gets it back as an event, so nothing that grows with a zone's size stalls the API,
 * the journal commits or the watchdog.
 *
 * Work runs on a worker (at a lower priority than the loop); its `done` callback runs on
 * the loop thread, in the order the work finished. The work must not touch what the loop
 * owns: it gets copies, or borrows what cannot change while it runs (the manager defers a
 * configuration reload while work is pending).
 */
#pragma once

#include <systemd/sd-event.h>

typedef struct pool pool;
typedef void (*pool_fn)(void *arg);

int pool_new(sd_event *e, unsigned threads, pool **ret);

/* Finish the work handed over (running each done callback), then free. NULL-safe. */
pool *pool_free(pool *p);

/* Run work(arg) on a worker, then done(arg) on the loop thread. 0 or -errno. */
int pool_submit(pool *p, pool_fn work, pool_fn done, void *arg);

/* Work handed over whose done callback has not run yet. */
unsigned pool_pending(const pool *p);

/* Called on the loop thread after each done callback (the manager's deferred reload). */
void pool_on_idle(pool *p, pool_fn idle, void *arg);
