/* SPDX-License-Identifier: MIT */
/*
 * signer/state.h -- what a zone must remember between runs, in <state_dir>/zones/<zone>/:
 * the last published serial (so serials never go back, invariant 4), when it was
 * last signed (clock sanity, invariant 29) and the NSEC3 salt (stable across restarts,
 * invariant 23). One small text file, replaced atomically and fsynced before the zone
 * it describes becomes visible.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "policy/zk-error.h"
#include "policy/zk-time.h"
#include "signer/serial.h"

typedef struct sgn_state {
	zk_serial serial;     /* last published serial */
	zk_time_t signed_at;  /* the latest `now` any publication had (the clock guard's
			       * reference: it never goes back), 0 if none */
	bool have_salt;
	uint8_t salt_len;
	uint8_t salt[255];
	/* identity of the published file: its signatures are reused only if it is still the
	 * file we wrote (size and modification time in nanoseconds) */
	uint64_t output_size;
	int64_t output_mtime_ns;
} sgn_state;

/*
 * Read the state file. A missing file is an empty state (nothing published yet). A
 * damaged file is an error: we do not guess a serial, that is how serials go backwards.
 */
int sgn_state_load(const char *path, sgn_state *ret, zk_error *reterr);

/* Persist durably (atomic replace, fsync of the file and its directory). */
int sgn_state_store(const char *path, const sgn_state *st, zk_error *reterr);
