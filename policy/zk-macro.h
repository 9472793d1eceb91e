/* SPDX-License-Identifier: MIT */
/*
 * policy/zk-macro.h -- cleanup helpers, ownership transfer and attributes used by
 * every module (systemd's _cleanup_ idiom).
 */
#pragma once

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define _cleanup_(f) __attribute__((cleanup(f)))
#define _unused_ __attribute__((unused))
#define _must_check_ __attribute__((warn_unused_result))
#define _likely_(x) __builtin_expect(!!(x), 1)
#define _unlikely_(x) __builtin_expect(!!(x), 0)

#define ZK_ELEMENTSOF(a) (sizeof(a) / sizeof((a)[0]))

/* Generate `<fn>_p(type *)`, a cleanup helper for pointer variables of `type`. */
#define ZK_DEFINE_PTR_CLEANUP(type, fn) \
	static inline void fn##_p(type *pp) \
	{ \
		if (*pp) \
			fn(*pp); \
	}

static inline void zk_free_p(void *pp)
{
	free(*(void **)pp);
}

static inline void zk_close_p(int *fd)
{
	if (*fd >= 0)
		close(*fd);
}

static inline void zk_fclose_p(FILE **f)
{
	if (*f)
		fclose(*f);
}

#define _cleanup_free_ _cleanup_(zk_free_p)
#define _cleanup_close_ _cleanup_(zk_close_p)
#define _cleanup_fclose_ _cleanup_(zk_fclose_p)

/* Move ownership out of a cleanup-managed variable: yields it, leaves NULL. */
#define ZK_TAKE(p) \
	({ \
		__typeof__(p) _zk_t = (p); \
		(p) = NULL; \
		_zk_t; \
	})

/* Move an fd out of a cleanup-managed variable: yields it, leaves -1. */
#define ZK_TAKE_FD(fd) \
	({ \
		int _zk_fd = (fd); \
		(fd) = -1; \
		_zk_fd; \
	})

/* Wipe memory that held key material; the compiler may not elide it. */
static inline void zk_wipe(void *p, size_t n)
{
	explicit_bzero(p, n);
}

static inline int zk_streq(const char *a, const char *b)
{
	return strcmp(a, b) == 0;
}
