/* SPDX-License-Identifier: MIT */
/*
 * signer/daemon/pool.c -- worker threads for the loop's heavy work. See pool.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <unistd.h>

#include "signer/daemon/pool.h"

#define POOL_NICE 5 /* as the signing thread: the loop comes first */

typedef struct item {
	struct item *next;
	pool_fn work, done;
	void *arg;
} item;

struct pool {
	sd_event_source *src;
	int pipe[2];              /* workers -> loop: finished items */
	pthread_mutex_t lock;
	pthread_cond_t more;
	item *head, **tail;       /* queued, not started */
	bool stopping;
	unsigned n_threads, pending;
	pthread_t *threads;
	pool_fn idle;
	void *idle_arg;
};

static void *worker(void *arg)
{
	pool *p = arg;

	(void) setpriority(PRIO_PROCESS, (id_t) gettid(), POOL_NICE);
	for (;;) {
		item *it;

		pthread_mutex_lock(&p->lock);
		while (!p->head && !p->stopping)
			pthread_cond_wait(&p->more, &p->lock);
		it = p->head;
		if (it) {
			p->head = it->next;
			if (!p->head)
				p->tail = &p->head;
		}
		pthread_mutex_unlock(&p->lock);
		if (!it)
			return NULL; /* stopping, and the queue is empty */
		it->work(it->arg);
		if (write(p->pipe[1], &it, sizeof(it)) != sizeof(it))
			abort(); /* a pointer into a pipe cannot be written short */
	}
}

static void finish(pool *p, item *it)
{
	it->done(it->arg);
	free(it);
	p->pending--;
	if (p->idle)
		p->idle(p->idle_arg);
}

static int on_done(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	pool *p = userdata;
	item *it;

	while (read(fd, &it, sizeof(it)) == sizeof(it))
		finish(p, it);
	return 0;
}

int pool_new(sd_event *e, unsigned threads, pool **ret)
{
	pool *p = calloc(1, sizeof(*p));
	int r;

	if (!p)
		return -ENOMEM;
	p->pipe[0] = p->pipe[1] = -1;
	p->tail = &p->head;
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->more, NULL);
	p->threads = calloc(threads, sizeof(*p->threads));
	if (!p->threads || pipe2(p->pipe, O_CLOEXEC) < 0) {
		r = p->threads ? -errno : -ENOMEM;
		goto fail;
	}
	/* the loop drains it without blocking; workers block only on a full pipe */
	if (fcntl(p->pipe[0], F_SETFL, O_NONBLOCK) < 0) {
		r = -errno;
		goto fail;
	}
	r = sd_event_add_io(e, &p->src, p->pipe[0], EPOLLIN, on_done, p);
	if (r < 0)
		goto fail;
	for (; p->n_threads < threads; p->n_threads++) {
		r = -pthread_create(&p->threads[p->n_threads], NULL, worker, p);
		if (r < 0)
			goto fail;
	}
	*ret = p;
	return 0;
fail:
	pool_free(p);
	return r;
}

pool *pool_free(pool *p)
{
	item *it;

	if (!p)
		return NULL;
	pthread_mutex_lock(&p->lock);
	p->stopping = true;
	pthread_cond_broadcast(&p->more);
	pthread_mutex_unlock(&p->lock);
	for (unsigned i = 0; i < p->n_threads; i++)
		pthread_join(p->threads[i], NULL);
	/* every item handed over has run: its done callback still belongs to the loop */
	p->idle = NULL;
	if (p->pipe[0] >= 0) {
		int fl = fcntl(p->pipe[0], F_GETFL);

		(void) fcntl(p->pipe[0], F_SETFL, fl | O_NONBLOCK);
		while (read(p->pipe[0], &it, sizeof(it)) == sizeof(it))
			finish(p, it);
	}
	sd_event_source_disable_unref(p->src);
	if (p->pipe[0] >= 0)
		close(p->pipe[0]);
	if (p->pipe[1] >= 0)
		close(p->pipe[1]);
	pthread_cond_destroy(&p->more);
	pthread_mutex_destroy(&p->lock);
	free(p->threads);
	free(p);
	return NULL;
}

int pool_submit(pool *p, pool_fn work, pool_fn done, void *arg)
{
	item *it = calloc(1, sizeof(*it));

	if (!it)
		return -ENOMEM;
	*it = (item) { .work = work, .done = done, .arg = arg };
	pthread_mutex_lock(&p->lock);
	*p->tail = it;
	p->tail = &it->next;
	pthread_cond_signal(&p->more);
	pthread_mutex_unlock(&p->lock);
	p->pending++;
	return 0;
}

unsigned pool_pending(const pool *p)
{
	return p ? p->pending : 0;
}

void pool_on_idle(pool *p, pool_fn idle, void *arg)
{
	p->idle = idle;
	p->idle_arg = arg;
}
