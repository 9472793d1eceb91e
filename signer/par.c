/* SPDX-License-Identifier: MIT */
/*
 * signer/par.c -- the process's worker threads. See par.h.
 */
#include <pthread.h>
#include <signal.h>

#include "signer/par.h"
#include "signer/sign.h"

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t work = PTHREAD_COND_INITIALIZER; /* a batch was queued */
static pthread_cond_t done = PTHREAD_COND_INITIALIZER; /* a started call finished */
static par_batch *head, *tail;
static unsigned n_workers;
static pthread_once_t once = PTHREAD_ONCE_INIT;

/* Take `b` off the queue (lock held). */
static void unqueue(par_batch *b)
{
	par_batch **p = &head, *prev = NULL;

	while (*p && *p != b) {
		prev = *p;
		p = &(*p)->link;
	}
	if (!*p)
		return;
	*p = b->link;
	if (tail == b)
		tail = prev;
	b->link = NULL;
}

static void *worker(void *arg)
{
	(void) arg;
	pthread_mutex_lock(&lock);
	for (;;) {
		par_batch *b;
		unsigned i;

		while (!head)
			pthread_cond_wait(&work, &lock);
		b = head;
		i = b->next++;
		if (b->next == b->n)
			unqueue(b);
		b->running++;
		pthread_mutex_unlock(&lock);
		b->fn(b->args + (size_t) i * b->size);
		pthread_mutex_lock(&lock);
		if (--b->running == 0)
			pthread_cond_broadcast(&done);
	}
	return NULL;
}

static void start_workers(void)
{
	unsigned want = sgn_thread_count(0);
	sigset_t all, old;
	pthread_attr_t attr;

	if (want > 64)
		want = 64;
	if (want < 2 || pthread_attr_init(&attr))
		return; /* one core: the callers do it all */
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	for (unsigned i = 0; i + 1 < want; i++) {
		pthread_t t;

		if (pthread_create(&t, &attr, worker, NULL))
			break;
		n_workers++;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	pthread_attr_destroy(&attr);
}

unsigned par_workers(void)
{
	unsigned n;

	pthread_mutex_lock(&lock);
	n = n_workers;
	pthread_mutex_unlock(&lock);
	return n;
}

void par_submit(par_batch *b, unsigned n, par_fn fn, void *args, size_t size)
{
	*b = (par_batch) { .fn = fn, .args = args, .size = size, .n = n };
	if (n == 0)
		return;
	pthread_once(&once, start_workers);
	pthread_mutex_lock(&lock);
	if (n_workers) {
		if (tail)
			tail->link = b;
		else
			head = b;
		tail = b;
		if (n == 1)
			pthread_cond_signal(&work);
		else
			pthread_cond_broadcast(&work);
	}
	pthread_mutex_unlock(&lock);
}

void par_finish(par_batch *b)
{
	pthread_mutex_lock(&lock);
	while (b->next < b->n) {
		unsigned i = b->next++;

		if (b->next == b->n)
			unqueue(b);
		pthread_mutex_unlock(&lock);
		b->fn(b->args + (size_t) i * b->size);
		pthread_mutex_lock(&lock);
	}
	unqueue(b); /* n == 0, or queued with nothing left (a no-op otherwise) */
	while (b->running)
		pthread_cond_wait(&done, &lock);
	pthread_mutex_unlock(&lock);
}

void par_run(unsigned n, par_fn fn, void *args, size_t size)
{
	par_batch b;

	if (n == 0)
		return;
	if (n == 1) {
		fn(args);
		return;
	}
	/* calls 1..n-1 to the workers, call 0 here */
	par_submit(&b, n - 1, fn, (char *) args + size, size);
	fn(args);
	par_finish(&b);
}
