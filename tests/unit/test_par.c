/* SPDX-License-Identifier: MIT */
/*
 * tests/unit/test_par.c -- the process's worker threads (signer/par.c): every call runs
 * once with its own argument, and a step never waits for workers busy with another step.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <cmocka.h>

#include "signer/par.h"

typedef struct call {
	atomic_int runs;
	unsigned index;
} call;

static void *count_call(void *arg)
{
	call *c = arg;

	atomic_fetch_add(&c->runs, 1);
	return NULL;
}

static void every_call_runs_once_with_its_argument(void **state)
{
	static call calls[200];

	(void) state;
	for (unsigned n = 0; n <= 200; n += n < 10 ? 1 : 37) {
		for (unsigned i = 0; i < 200; i++)
			atomic_init(&calls[i].runs, 0);
		par_run(n, count_call, calls, sizeof(calls[0]));
		for (unsigned i = 0; i < 200; i++)
			assert_int_equal(atomic_load(&calls[i].runs), i < n ? 1 : 0);
	}
	/* size 0: every call gets the same argument */
	atomic_init(&calls[0].runs, 0);
	par_run(7, count_call, &calls[0], 0);
	assert_int_equal(atomic_load(&calls[0].runs), 7);
}

/* Calls that hold their worker until released. */
static pthread_mutex_t gate_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t gate_cond = PTHREAD_COND_INITIALIZER;
static bool gate_open;
static atomic_int held;

static void *held_call(void *arg)
{
	(void) arg;
	atomic_fetch_add(&held, 1);
	pthread_mutex_lock(&gate_lock);
	while (!gate_open)
		pthread_cond_wait(&gate_cond, &gate_lock);
	pthread_mutex_unlock(&gate_lock);
	return NULL;
}

static void a_step_does_not_wait_for_busy_workers(void **state)
{
	static call calls[16];
	struct timespec ms = { 0, 1000000 };
	par_batch busy;
	unsigned workers;

	(void) state;
	par_run(2, count_call, calls, sizeof(calls[0])); /* the workers are up */
	workers = par_workers();
	if (!workers)
		skip(); /* one core: no workers to be busy */
	/* every worker held by another step */
	atomic_init(&held, 0);
	gate_open = false;
	par_submit(&busy, workers, held_call, NULL, 0);
	for (int i = 0; i < 5000 && (unsigned) atomic_load(&held) < workers; i++)
		nanosleep(&ms, NULL);
	assert_int_equal(atomic_load(&held), workers);

	/* this step runs all its calls itself, at once */
	for (unsigned i = 0; i < 16; i++)
		atomic_init(&calls[i].runs, 0);
	par_run(16, count_call, calls, sizeof(calls[0]));
	for (unsigned i = 0; i < 16; i++)
		assert_int_equal(atomic_load(&calls[i].runs), 1);
	assert_int_equal(atomic_load(&held), workers); /* they were held all along */

	pthread_mutex_lock(&gate_lock);
	gate_open = true;
	pthread_cond_broadcast(&gate_cond);
	pthread_mutex_unlock(&gate_lock);
	par_finish(&busy);
}

static void submit_nothing_finishes_at_once(void **state)
{
	par_batch b;

	(void) state;
	par_submit(&b, 0, count_call, NULL, 0);
	par_finish(&b);
	assert_int_equal(b.running, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(every_call_runs_once_with_its_argument),
		cmocka_unit_test(a_step_does_not_wait_for_busy_workers),
		cmocka_unit_test(submit_nothing_finishes_at_once),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
