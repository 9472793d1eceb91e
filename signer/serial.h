/* SPDX-License-Identifier: MIT */
/*
 * signer/serial.h -- SOA serials: RFC 1982 arithmetic, the schemes of README "Serials", and the
 * persisted "last published" serial.
 *
 * Every function here is pure; the last published serial is persisted by signer/state.h.
 * The last published serial is the floor for every new one (invariants 1-4): a new serial is
 * strictly greater, in RFC 1982 terms, than the last one published, whatever the clock,
 * the input or a restart say.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "policy/policy.h"
#include "policy/zk-error.h"
#include "policy/zk-time.h"

typedef struct zk_serial {
	uint32_t value;
	bool set; /* false: nothing published yet */
} zk_serial;

typedef enum sgn_serial_cmp {
	SGN_SERIAL_LT,
	SGN_SERIAL_EQ,
	SGN_SERIAL_GT,
	SGN_SERIAL_UNDEFINED, /* distance exactly 2^31 (RFC 1982 §3.2) */
} sgn_serial_cmp;

/* RFC 1982 §3.2 comparison of a with b. */
sgn_serial_cmp sgn_serial_compare(uint32_t a, uint32_t b);

/* a > b in RFC 1982 terms (undefined counts as not greater). */
static inline bool sgn_serial_gt(uint32_t a, uint32_t b)
{
	return a != b && (uint32_t) (a - b) < 0x80000000u;
}

/*
 * Next serial to publish under `scheme`, strictly greater (RFC 1982) than `last`, never 0.
 * `input` is the serial of the input zone's SOA (`have_input` false when it had none):
 * with `keep` it is the serial; with the other schemes, before anything was published, the
 * first serial is greater than it, so secondaries that knew the old zone take the new one.
 *   dateserial  YYYYMMDD00 of `now` (UTC), or last+1 when that is not greater (the 100th
 *               change of a day borrows from the next day, as BIND does)
 *   unixtime    `now`, or last+1
 *   increment   last+1 (0xffffffff -> 1)
 *   keep        input; ZK_E_SERIAL_NOT_GREATER when it is not greater than last
 * *ret is untouched on failure.
 */
int sgn_serial_next(pol_serial scheme, zk_serial last, uint32_t input, bool have_input,
		    zk_time_t now, uint32_t *ret, zk_error *reterr);
