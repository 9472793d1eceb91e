/* SPDX-License-Identifier: MIT */
/*
 * policy/zk-file.h -- durable file replacement and small-file helpers, shared by the key
 * store, the serial state and zone publication.
 *
 * Atomic replacement (invariant 5): a temporary file in the same directory created
 * with the final mode before any byte is written (never readable by others for an
 * instant), written, fsynced, closed, renamed over the target, and the directory fsynced.
 * On any failure the temporary file is removed and the old file stays.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "policy/zk-error.h"

typedef struct zk_atomic {
	int fd;          /* -1 when not open */
	char *tmp_path;  /* owned */
	char *path;      /* owned: final path */
	char *buf;       /* owned: write buffer */
	size_t buf_len, buf_cap;
	int error;       /* first write error (-errno), reported by commit */
	int synced;      /* zk_atomic_sync() done */
	uint64_t off;    /* bytes handed to the file so far */
	uint64_t kicked; /* ... of which writeback was started */
} zk_atomic;

/* Start replacing `path` with a new file of mode `mode`. */
int zk_atomic_open(const char *path, mode_t mode, zk_atomic *ret, zk_error *reterr);

/* Buffered write; errors are remembered and reported by zk_atomic_commit(). */
void zk_atomic_write(zk_atomic *a, const void *data, size_t len);

/*
 * Append `len` bytes at `off` of the file `fd` (copy_file_range: no copy through user
 * space where the filesystem allows). Errors are remembered like write errors; a source
 * shorter than asked is an error (-EIO).
 */
void zk_atomic_copy(zk_atomic *a, int fd, uint64_t off, uint64_t len);

/*
 * Flush and fsync the temporary file without making it visible, and report its identity
 * (size, mtime) in *ret_st if not NULL: lets the caller record what it is about to publish
 * before it does. Optional; zk_atomic_commit() does it if it was not done.
 */
int zk_atomic_sync(zk_atomic *a, struct stat *ret_st, zk_error *reterr);

/* Flush, fsync, rename over the target, fsync the directory. Frees `a` in all cases. */
int zk_atomic_commit(zk_atomic *a, zk_error *reterr);

/* Drop the temporary file; the target is untouched. NULL-safe, idempotent. */
void zk_atomic_abort(zk_atomic *a);

/* Whole-buffer convenience wrapper of the above. */
int zk_file_write_atomic(const char *path, mode_t mode, const void *data, size_t len,
			 zk_error *reterr);

/*
 * Read a whole file (at most `max` bytes, else -EFBIG) into a NUL-terminated buffer the
 * caller frees. *ret_len excludes the NUL.
 */
int zk_file_read(const char *path, size_t max, char **ret, size_t *ret_len);
/* The same, but a symbolic link at `path` is -ELOOP (files the daemon owns). */
int zk_file_read_nofollow(const char *path, size_t max, char **ret, size_t *ret_len);

/* mkdir -p with `mode` for every directory created; existing ones are left alone. */
int zk_mkdir_p(const char *path, mode_t mode);

/* Same file with the same content as far as stat tells: device, inode, size, mtime. */
bool zk_same_file(const struct stat *a, const struct stat *b);

/* fsync the directory containing `path`. */
int zk_fsync_parent(const char *path);
