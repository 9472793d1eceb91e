/* SPDX-License-Identifier: MIT */
/*
 * tests/unit/test_slots.c -- the CPU slots of the daemon's jobs (signer/daemon/slots.c):
 * at most n background jobs compute at once, an urgent job gets one slot more and goes
 * before background jobs waiting for a slot.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <cmocka.h>

#include "signer/daemon/slots.h"

typedef struct taker {
	slots *s;
	bool urgent;
	atomic_int *order; /* the next position */
	atomic_int got;    /* 0 until it has a slot; then its position (1, 2, ...) */
	pthread_t th;
} taker;

static void *take_main(void *arg)
{
	taker *t = arg;

	slots_take(t->s, t->urgent);
	atomic_store(&t->got, atomic_fetch_add(t->order, 1) + 1);
	return NULL;
}

static void start(taker *t, slots *s, bool urgent, atomic_int *order)
{
	*t = (taker) { .s = s, .urgent = urgent, .order = order };
	atomic_init(&t->got, 0);
	assert_int_equal(pthread_create(&t->th, NULL, take_main, t), 0);
}

/* Until `t` has a slot (bounded: 5 s). */
static void wait_got(taker *t)
{
	struct timespec ms = { 0, 1000000 };

	for (int i = 0; i < 5000 && !atomic_load(&t->got); i++)
		nanosleep(&ms, NULL);
	assert_true(atomic_load(&t->got) > 0);
}

/* Until `s` has `n` takers waiting for a slot (they are blocked, not just slow). */
static void wait_waiting(slots *s, unsigned urgent)
{
	struct timespec ms = { 0, 1000000 };
	unsigned u = 0;

	for (int i = 0; i < 5000; i++) {
		pthread_mutex_lock(&s->lock);
		u = s->urgent_waiting;
		pthread_mutex_unlock(&s->lock);
		if (u == urgent)
			break;
		nanosleep(&ms, NULL);
	}
	assert_int_equal(u, urgent);
}

static void background_waits_for_a_free_slot(void **state)
{
	atomic_int order;
	slots s;
	taker a, b;

	atomic_init(&order, 0);
	assert_int_equal(slots_init(&s, 1), 0);
	start(&a, &s, false, &order);
	wait_got(&a);
	start(&b, &s, false, &order);
	/* b cannot have the slot a holds: give it time to (wrongly) get it */
	for (int i = 0; i < 50; i++) {
		struct timespec ms = { 0, 1000000 };

		nanosleep(&ms, NULL);
		assert_int_equal(atomic_load(&b.got), 0);
	}
	slots_give(&s);
	wait_got(&b);
	pthread_join(a.th, NULL);
	pthread_join(b.th, NULL);
	assert_int_equal(s.used, 1);
	slots_give(&s);
	assert_int_equal(s.used, 0);
	slots_done(&s);
}

static void urgent_takes_one_more_and_goes_first(void **state)
{
	atomic_int order;
	slots s;
	taker bg[2], u1, u2;

	atomic_init(&order, 0);
	assert_int_equal(slots_init(&s, 1), 0);
	start(&bg[0], &s, false, &order);
	wait_got(&bg[0]);
	/* all slots busy: an urgent job still gets the one over the count at once */
	start(&u1, &s, true, &order);
	wait_got(&u1);
	assert_int_equal(s.used, 2);
	/* now a background job and then an urgent one wait; the urgent one goes first */
	start(&bg[1], &s, false, &order);
	start(&u2, &s, true, &order);
	wait_waiting(&s, 1);
	slots_give(&s); /* u1 is done */
	wait_got(&u2);
	assert_int_equal(atomic_load(&bg[1].got), 0);
	slots_give(&s); /* u2 is done: 1 in use (bg[0]), which is the count */
	slots_give(&s); /* bg[0] is done */
	wait_got(&bg[1]);
	assert_true(atomic_load(&u2.got) < atomic_load(&bg[1].got));
	pthread_join(bg[0].th, NULL);
	pthread_join(bg[1].th, NULL);
	pthread_join(u1.th, NULL);
	pthread_join(u2.th, NULL);
	slots_give(&s);
	assert_int_equal(s.used, 0);
	slots_done(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(background_waits_for_a_free_slot),
		cmocka_unit_test(urgent_takes_one_more_and_goes_first),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
