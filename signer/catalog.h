/* SPDX-License-Identifier: MIT */
/*
 * signer/catalog.h -- the catalog zone (RFC 9432, schema version 2) that lists every zone
 * we publish, so that secondaries configured as catalog consumers add and drop member
 * zones by themselves. This module only writes the zone file; the caller decides when
 * (after a zone is added, deleted or first published), where (<output_dir>/<catalog>.zone)
 * and hands the file to the reload hook like any other zone.
 *
 * The file, in canonical order (RFC 4034 §6.1) and all names lowercase:
 *
 *   ; catalog zone <catalog> serial <N> written by zonekeeper (RFC 9432 version 2)
 *   <catalog>                          0 IN SOA invalid. invalid. <N> 3600 600 2147483646 0
 *   <catalog>                          0 IN NS  invalid.
 *   version.<catalog>                  0 IN TXT "2"
 *   <id>.zones.<catalog>               0 IN PTR <member>
 *   group.<id>.zones.<catalog>         0 IN TXT "<group>"     (only with a group)
 *
 * The first line marks the file as ours and carries the serial, so the next write reads
 * one line to continue the serial (as the published zones' "; zone ... signed by" line).
 *
 * Member ids (RFC 9432 §4.3 "unique identifier"): the first 128 bits of SHA-256 over the
 * member's lowercase wire-format name, as 32 lowercase hex characters. Derived from the
 * name alone, so an id is the same across restarts, rewrites and member-list order, needs
 * no stored state, and two names that differ only in case (or in how they are escaped)
 * get the same id. 128 bits make a collision between different zones practically
 * impossible; one would still be detected and refused rather than published.
 *
 * Nothing here reads the clock or logs. Pointer parameters are borrowed.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "policy/zk-error.h"
#include "policy/zk-time.h"

typedef struct cat_member {
	const char *zone;  /* "example.com." presentation form, absolute; escapes allowed */
	const char *group; /* RFC 9432 §4.4.2 "group" property (the zone's policy name); NULL
			    * or "" for none. At most 255 octets (one TXT character-string). */
} cat_member;

/*
 * Write the catalog zone `name` (presentation form, absolute) listing `members` (any
 * order; `members` may be NULL when n is 0) to `path`, atomically and durably (mode 0644,
 * temporary file, fsync, rename, fsync of the directory).
 *
 * The serial is the existing file's + 1 in RFC 1982 arithmetic, skipping 0 as the other
 * serial schemes do (4294967295 is followed by 1; both are "greater" than 4294967295 in
 * RFC 1982 terms, and 0 is avoided because some software reads it as "unset"); or `now`
 * (seconds since the epoch, truncated to 32 bits; 1 if that is 0) when there is no file
 * or the file is not a catalog we wrote for `name`. When the content other than the
 * serial would not change, nothing is written: *ret_changed is false and the file keeps
 * its inode, mtime and serial.
 *
 * On success, *ret_serial is the serial now in the file and *ret_changed says whether it
 * was rewritten (either may be NULL). On failure both are untouched and the old file
 * stays as it was. Returns 0, or:
 *   ZK_E_INVALID_RECORD  a member is not a valid absolute name, is listed twice, or has a
 *                        group longer than 255 octets (the message names the member)
 *   ZK_E_CONFIG          `name` is not a valid absolute name, or too long to hold member
 *                        names below it (it must leave room for group.<id>.zones.)
 *   -errno               reading the old file or writing the new one failed
 */
int cat_write(const char *path, const char *name, const cat_member *members, size_t n,
	      zk_time_t now, uint32_t *ret_serial, bool *ret_changed, zk_error *reterr);
