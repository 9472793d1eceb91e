/* SPDX-License-Identifier: MIT */
/*
 * signer/daemon/registry.h -- the zones created through the API (POST /v1/zones), kept in
 * <state_dir>/zones.registry so that they survive restarts.
 *
 * The file is a log of JSON lines, {"add":NAME,"policy":P,"at":T} and {"del":NAME}, each
 * appended and fdatasync'ed before the API acknowledges: a create or delete costs one small
 * write whatever the number of zones. A line a crash cut short was never acknowledged and
 * is dropped; the log is rewritten (atomically) without the deleted zones when it has grown
 * to twice what it holds.
 */
#pragma once

#include <stddef.h>

#include "policy/zk-error.h"
#include "policy/zk-time.h"

typedef struct reg reg;

typedef struct reg_entry {
	char *name;     /* absolute, lowercase presentation form */
	char *policy;
	zk_time_t created;
} reg_entry;

/*
 * Open the registry at `path` (created when missing). *ret_damaged: lines that are not
 * what we write (skipped; the caller says so in the log).
 */
int reg_open(const char *path, reg **ret, size_t *ret_damaged, zk_error *reterr);
reg *reg_free(reg *r);

/* The registered zones, sorted by name; valid until the next reg_add/reg_del. */
const reg_entry *reg_entries(const reg *r, size_t *ret_n);
const reg_entry *reg_find(const reg *r, const char *name);

/* Durable once they return 0. */
int reg_add(reg *r, const char *name, const char *policy, zk_time_t now, zk_error *reterr);
int reg_del(reg *r, const char *name, zk_error *reterr);
