/* SPDX-License-Identifier: MIT */
/*
 * signer/daemon/slots.h -- how many zone jobs do CPU work at once.
 *
 * A small zone's run is mostly waiting on the disk: new key files, the state, the signed
 * file, each made durable with fsync. With one job per core, the cores idle through those
 * waits and a cold start of many small zones is bound by fsync latency. So the manager
 * starts more jobs than cores, and each job holds a slot only while it computes (reading
 * and signing its version, the check, and the output of a large zone). A job that waits
 * for a slot holds no zone version yet (the input is read once it has one), so memory
 * stays bounded by the slots, not by the jobs.
 *
 * Urgent jobs (a client waits) go before background ones waiting for a slot, and may take
 * one slot more, so that a customer's write never waits behind other customers' work.
 */
#pragma once

#include <pthread.h>
#include <stdbool.h>

typedef struct slots {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	unsigned n, used;     /* slots for background jobs; in use */
	unsigned urgent_waiting;
} slots;

int slots_init(slots *s, unsigned n);
void slots_done(slots *s);

/* Wait for a slot (urgent: before background waiters, one over the count). */
void slots_take(slots *s, bool urgent);
void slots_give(slots *s);
