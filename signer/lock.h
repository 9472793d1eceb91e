/* SPDX-License-Identifier: MIT */
/*
 * signer/lock.h -- one publisher per state directory.
 *
 * A zone's serial, keys and signed file have one writer: two publishers would publish the
 * same serial with different contents (invariant 1). zonekeeperd holds an exclusive lock
 * on <state_dir>/lock for as long as it runs; `zonekeeper sign` holds a shared one while
 * it signs, so several signs may run side by side but never beside the daemon. A refusal
 * names the holder and its PID.
 *
 * POSIX record locks (fcntl F_SETLK): F_GETLK tells the holder's PID, and the kernel drops
 * the lock with the process, so a crash never leaves a stale lock behind. They are per
 * process: nothing else in the process may open and close the lock file.
 */
#pragma once

#include <stdbool.h>

#include "policy/zk-error.h"

typedef struct sgn_lock sgn_lock;

typedef enum sgn_lock_kind {
	SGN_LOCK_DAEMON, /* exclusive: zonekeeperd */
	SGN_LOCK_TOOL,   /* shared: `zonekeeper sign` */
} sgn_lock_kind;

/*
 * Take the lock of `state_dir` (created 0755 if missing) without waiting. ZK_E_CONFLICT
 * when another process holds a conflicting lock, with a message naming it and its PID.
 */
int sgn_lock_take(const char *state_dir, sgn_lock_kind kind, sgn_lock **ret,
		  zk_error *reterr);

/* Release and free; NULL-safe. Returns NULL. */
sgn_lock *sgn_lock_free(sgn_lock *l);
