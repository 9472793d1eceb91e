/* SPDX-License-Identifier: MIT */
/*
 * signer/daemon/archive.h -- where a zone deleted through the API goes: its input file and
 * its state directory (keys, key states, serial, journal) move to
 * <state_dir>/archive/<zone>/<UTC time>/, with a zone.json naming the zone and its policy,
 * so that POST /v1/zones/{zone}/restore can bring it back with the same keys (and the same
 * DS at the parent). Archives older than the configuration's archive_days are purged.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "policy/policy.h"
#include "policy/zk-time.h"

/* Move the zone's files into a new archive; `ret_dir` gets its path. */
int arc_store(const pol_config *c, const pol_zone *z, zk_time_t now, char *ret_dir,
	      size_t size, zk_error *reterr);
/*
 * The newest archive of zone `name`: its directory and the policy it had (freed by the
 * caller). ZK_E_ZONE_NOT_FOUND when there is none.
 */
int arc_find(const pol_config *c, const char *name, char *ret_dir, size_t size,
	     char **ret_policy, zk_error *reterr);
/* Move an archive's files back to the zone's places (which must be free), then drop it. */
int arc_restore(const pol_config *c, const pol_zone *z, const char *dir, zk_error *reterr);
/* Remove the archives made more than `days` days before `now`; returns how many. */
size_t arc_purge(const pol_config *c, zk_time_t now, uint32_t days);
