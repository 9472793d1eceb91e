/* SPDX-License-Identifier: MIT */
/*
 * signer/output.h -- the zone in master file format: one record per line, absolute
 * names, explicit TTL and class, in canonical order (RFC 4034 §6.1) with NSEC3 records
 * placed at their owner names, each RRset followed by its RRSIGs. NSD, Knot, BIND and
 * PowerDNS all read it.
 */
#pragma once

#include <stddef.h>

#include "policy/zk-error.h"
#include "signer/zone.h"

/* Where the text goes: called with chunks of up to a few MiB. Returns 0 or -errno. */
typedef int (*sgn_sink)(void *userdata, const char *data, size_t len);

/*
 * Write `z` (with `header`, a comment line without the leading ';', if not NULL).
 * Formatting runs on `threads` threads (0: available cores) while the calling thread
 * hands finished blocks to the sink, in order.
 */
int sgn_zone_write(const sgn_zone *z, const char *header, unsigned threads, sgn_sink sink,
		   void *userdata, zk_error *reterr);

/* Presentation form of one record into out (>= DN_TEXTMAX + sgn_rdata_format_max + 64). */
int sgn_format_rr(const char *owner_text, uint16_t type, uint32_t ttl, const uint8_t *rd,
		  uint16_t len, char *out);
