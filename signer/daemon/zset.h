/* SPDX-License-Identifier: MIT */
/*
 * signer/daemon/zset.h -- a sorted array of pointers, looked up by a string key each item
 * gives (zones by name, zones by input path).
 *
 * Why not a hash table: the zone list is also read in order (GET /v1/zones pages by name
 * with ?after=), and an insertion moves at most a few hundred kilobytes of pointers even
 * at 100k zones, well under a millisecond.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

typedef const char *(*zset_key_fn)(const void *item);

typedef struct zset {
	void **v;
	size_t n, cap;
	zset_key_fn key;
} zset;

/* The index of the first item whose key is >= `key` (n if none). */
size_t zset_lower(const zset *s, const char *key);
/* The first item whose key is `key`, or NULL. */
void *zset_find(const zset *s, const char *key);
/* Insert `item` after the items of an equal key. -ENOMEM or 0. */
int zset_insert(zset *s, void *item);
/* Remove `item` (this pointer, found by its key). false: it was not there. */
bool zset_remove(zset *s, const void *item);
/* Free the array, not the items. */
void zset_done(zset *s);
