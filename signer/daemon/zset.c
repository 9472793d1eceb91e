/* SPDX-License-Identifier: MIT */
/*
 * signer/daemon/zset.c -- a sorted array of pointers by string key. See zset.h.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "signer/daemon/zset.h"

size_t zset_lower(const zset *s, const char *key)
{
	size_t lo = 0, hi = s->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (strcmp(s->key(s->v[mid]), key) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

void *zset_find(const zset *s, const char *key)
{
	size_t i = zset_lower(s, key);

	return i < s->n && !strcmp(s->key(s->v[i]), key) ? s->v[i] : NULL;
}

int zset_insert(zset *s, void *item)
{
	const char *key = s->key(item);
	size_t i = zset_lower(s, key);

	while (i < s->n && !strcmp(s->key(s->v[i]), key))
		i++;
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 64;
		void **v = realloc(s->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		s->v = v;
		s->cap = cap;
	}
	memmove(s->v + i + 1, s->v + i, (s->n - i) * sizeof(*s->v));
	s->v[i] = item;
	s->n++;
	return 0;
}

bool zset_remove(zset *s, const void *item)
{
	const char *key = s->key(item);

	for (size_t i = zset_lower(s, key); i < s->n && !strcmp(s->key(s->v[i]), key); i++)
		if (s->v[i] == item) {
			memmove(s->v + i, s->v + i + 1, (s->n - i - 1) * sizeof(*s->v));
			s->n--;
			return true;
		}
	return false;
}

void zset_done(zset *s)
{
	free(s->v);
	*s = (zset) { .key = s->key };
}
