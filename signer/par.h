/* SPDX-License-Identifier: MIT */
/*
 * signer/par.h -- the process's worker threads, shared by every parallel step of signing
 * (signatures, NSEC3 hashes, verification, output), for whichever zone it runs.
 *
 * A step hands over n calls of one function, each with its own argument block. The
 * function takes its work from a cursor or a range in its argument, so a call that starts
 * late finds little or nothing left. The caller never waits for workers busy with another
 * zone's step: it runs the calls no worker has started itself, and waits only for those
 * already running. So any number of zones may be signed at once with threads bounded by
 * the cores (one worker fewer than cores; the callers are the rest), and no step waits
 * behind another zone's.
 *
 * Workers start with the first parallel step and last as long as the process. They take
 * the niceness of the thread that started them (the daemon's signing jobs yield to its
 * event loop; so do the workers) and block every signal. The calls must not start steps
 * of their own: a worker waiting on a worker could wait for ever.
 */
#pragma once

#include <stddef.h>

typedef void *(*par_fn)(void *arg);

typedef struct par_batch {
	par_fn fn;
	char *args;
	size_t size;           /* of an argument block; 0: every call gets the same */
	unsigned n, next;      /* calls; the next one not started */
	unsigned running;      /* started by workers, not finished */
	struct par_batch *link; /* the queue of batches with calls not started */
} par_batch;

/* fn(args + i * size) for i < n: the first on this thread, the others on the workers. */
void par_run(unsigned n, par_fn fn, void *args, size_t size);

/*
 * The same in two halves, for a caller that does other work meanwhile (the output's
 * writer): every call goes to the workers; par_finish runs those no worker started and
 * waits for the others. `b` lives until par_finish returns.
 */
void par_submit(par_batch *b, unsigned n, par_fn fn, void *args, size_t size);
void par_finish(par_batch *b);

/* Worker threads (after the first step; 0 before, or if none could start). */
unsigned par_workers(void);
