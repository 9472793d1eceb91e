/* SPDX-License-Identifier: MIT */
/*
 * signer/load.h -- read a master-format zone file (RFC 1035 §5 with $ORIGIN, $TTL,
 * $INCLUDE, RFC 3597 generic types and escapes) into the zone model.
 *
 * Two modes:
 * - UNSIGNED (input zones): DNSSEC records are stripped (one notice lists what was
 *   dropped), the SOA is kept only for its serial (the signer rebuilds it from policy),
 *   and the zone rules are enforced with file:line: out-of-zone data (ZK_E_OUT_OF_ZONE),
 *   CNAME beside other data or at the apex (ZK_E_CNAME_CONFLICT), a TTL above the
 *   policy's maximum (ZK_E_ZONE_CONTENT), classes other than IN, SOA below the apex.
 *   Records of one RRset with different TTLs are normalised to the lowest, with a warning.
 * - SIGNED (our previous output, `zonekeeper verify`): everything is kept; RRSIGs are
 *   attached to the RRset they cover, NSEC records to their node, NSEC3 records to the
 *   zone's NSEC3 list.
 */
#pragma once

#include <stdint.h>

#include "policy/policy.h"
#include "policy/zk-error.h"
#include "signer/zone.h"

typedef enum sgn_load_mode {
	SGN_LOAD_UNSIGNED,
	SGN_LOAD_SIGNED,
} sgn_load_mode;

typedef struct sgn_load_opts {
	sgn_load_mode mode;
	uint32_t max_ttl;     /* UNSIGNED: refuse TTLs above this; 0 = no limit */
	const zk_diag *diag;  /* warnings and the stripped-records notice */
	bool fragment;        /* records only (the record API): no data at the apex needed */
	/*
	 * $INCLUDE targets must resolve (symbolic links and ".." followed) to a file below
	 * this directory; NULL = the directory of the file being loaded. Zone text from memory
	 * may include nothing.
	 */
	const char *include_dir;
	/*
	 * UNSIGNED: every name must pass the rules on a whole name (pol_name_check: DS only
	 * at a delegation, the limits) with this policy's platform nameservers, so that the
	 * input and an import accept what the API would. NULL: not checked (tools).
	 */
	const pol_policy *policy;
} sgn_load_opts;

/*
 * Load the zone file `path` whose origin is `origin` (wire). On success *ret is a zone
 * with its structure computed (sgn_zone_structure). Errors carry file and line.
 * Relative $INCLUDE paths are taken relative to the including file's directory.
 * Only regular files are read (a FIFO or device is refused, never waited on). A file
 * that changes while it is read fails with -EAGAIN ("changed while being read; will
 * retry"): the caller tries again later.
 */
int sgn_zone_load_file(const char *path, const uint8_t *origin, const sgn_load_opts *o,
		       sgn_zone **ret, zk_error *reterr);

/* The same from memory; `name` is used in messages. */
int sgn_zone_load_buffer(const char *buf, size_t len, const char *name,
			 const uint8_t *origin, const sgn_load_opts *o, sgn_zone **ret,
			 zk_error *reterr);

/*
 * The whole of the regular file open at `fd`, whose fstat before reading is *before,
 * into *ret (malloc'ed, NUL-terminated; *ret_len without the NUL). Reads to the end of
 * the file whatever st_size says (files of /proc report 0). -EAGAIN when the file changed
 * while it was read: its size or modification time moved, or the bytes read are not its
 * size. Used by sgn_zone_load_file; here for tests.
 */
struct stat;
int sgn_load_read_fd(int fd, const struct stat *before, char **ret, size_t *ret_len);
