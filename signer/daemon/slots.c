/* SPDX-License-Identifier: MIT */
/*
 * signer/daemon/slots.c -- how many zone jobs do CPU work at once. See slots.h.
 */
#include <errno.h>

#include "signer/daemon/slots.h"

int slots_init(slots *s, unsigned n)
{
	int r;

	*s = (slots) { .n = n ? n : 1 };
	r = pthread_mutex_init(&s->lock, NULL);
	if (r)
		return -r;
	r = pthread_cond_init(&s->cond, NULL);
	if (r) {
		pthread_mutex_destroy(&s->lock);
		return -r;
	}
	return 0;
}

void slots_done(slots *s)
{
	pthread_cond_destroy(&s->cond);
	pthread_mutex_destroy(&s->lock);
}

void slots_take(slots *s, bool urgent)
{
	pthread_mutex_lock(&s->lock);
	if (urgent) {
		s->urgent_waiting++;
		while (s->used >= s->n + 1)
			pthread_cond_wait(&s->cond, &s->lock);
		s->urgent_waiting--;
	} else {
		while (s->used >= s->n || s->urgent_waiting)
			pthread_cond_wait(&s->cond, &s->lock);
	}
	s->used++;
	pthread_mutex_unlock(&s->lock);
}

void slots_give(slots *s)
{
	pthread_mutex_lock(&s->lock);
	s->used--;
	/* all: an urgent waiter and background ones wait on different conditions */
	pthread_cond_broadcast(&s->cond);
	pthread_mutex_unlock(&s->lock);
}
