/* SPDX-License-Identifier: MIT */
/*
 * signer/journal.h -- the per-zone journal of accepted API writes: what makes a write
 * durable before it is acknowledged (doc/invariants.md, nothing acknowledged is lost).
 *
 * One text line per write: its sequence number, its changes (owner, type, TTL and RDATA
 * in hex wire form, so no parser ambiguity on replay) and a checksum. Appends are
 * buffered and made durable together by jnl_sync (one fdatasync for every write queued
 * since the last one: group commit). A crash can leave a torn last line; opening the
 * journal drops it (that write was never acknowledged). Lines are self-delimiting, so a
 * damaged one costs that write only.
 *
 * The journal holds the writes not yet written back to the unsigned zone file; once the
 * file holds them, jnl_rewrite keeps only the later ones. Replaying a write the file
 * already holds changes nothing (adds of present records and deletes of absent ones are
 * no-ops), so a crash between the two steps is harmless.
 *
 * A jnl holds no file descriptor between calls (a daemon carries 100k zones): jnl_open,
 * jnl_sync and jnl_rewrite open the file by its path and close it before they return.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "policy/zk-error.h"
#include "signer/records.h"

typedef struct jnl jnl;

/*
 * Open (or create, 0600; never through a symbolic link) the journal at `path` and read the
 * writes it holds: *ret_ops (malloc'ed, in order) and *ret_n. A torn last line is cut off
 * (it was never acknowledged). A damaged line is skipped with an error through diag, the
 * intact lines after it are kept, the file as found is kept at `<path>.damaged` and the
 * journal is rewritten without the damaged lines (see jnl_damaged).
 */
int jnl_open(const char *path, const zk_diag *diag, jnl **ret, rec_op **ret_ops,
	     size_t *ret_n, zk_error *reterr);
jnl *jnl_free(jnl *j);

/* Damaged lines skipped when the journal was opened (each an acknowledged write lost). */
size_t jnl_damaged(const jnl *j);

/* The sequence number the next write gets (one more than the last one). */
uint64_t jnl_next_seq(const jnl *j);

/* Queue one write (its changes all carry the same seq, which must be jnl_next_seq). */
int jnl_append(jnl *j, const rec_op *ops, size_t n);

/*
 * Write and fdatasync everything queued (the journal created by jnl_open, or again if it
 * was removed, also gets its directory fsynced by the first sync). Returns 0 or -errno
 * (nothing is then durable).
 */
int jnl_sync(jnl *j, zk_error *reterr);

/* Replace the journal by `ops` (the writes still to be written back), atomically. */
int jnl_rewrite(jnl *j, const rec_op *ops, size_t n, zk_error *reterr);

/* Bytes in the journal file (for deciding when to write back). */
uint64_t jnl_size(const jnl *j);
