/* SPDX-License-Identifier: MIT */
/*
 * signer/rdata.h -- RDATA between presentation and wire form for the types that make up
 * nearly every zone (A AAAA NS CNAME PTR DNAME MX TXT SRV SOA DS CDS DNSKEY CDNSKEY RRSIG
 * NSEC NSEC3 NSEC3PARAM), type names and NSEC type bitmaps.
 *
 * Why our own fast paths: parsing a million-name zone through ldns_rr_new_frm_str costs
 * 6.6 s here (one heap object per field); the fast paths below parse the same data in a
 * fraction of that. Every other type, and anything unusual in these ones, goes to ldns
 * (SGN_RDATA_FALLBACK), which stays the reference: a unit test compares both on a corpus.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A token of a zone file record: a slice of the input, quotes removed (escapes kept). */
typedef struct sgn_token {
	const char *s;
	uint32_t len;
	bool quoted;
} sgn_token;

#define SGN_RDATA_FALLBACK 1 /* not handled here: let ldns parse it */
#define SGN_RDATA_MAX 65535

/* Type number of a mnemonic ("A", "nsec3", "TYPE65000"), or -1. */
int sgn_type_from_name(const char *s, size_t len);

/* Mnemonic of a type ("A", "TYPE65000"); buf needs 16 bytes. Returns a pointer to the
 * name (static storage or buf). */
const char *sgn_type_name(uint16_t type, char *buf);

/*
 * Parse RDATA of `type` from tokens into wire form (names relative to `origin` completed,
 * names of RFC 4034 §6.2 types lowercased). Returns the RDATA length, SGN_RDATA_FALLBACK
 * when ldns should handle it, -EINVAL, -ERANGE when a plain decimal number does not fit
 * its field (ldns would wrap it: do not fall back), or -EPROTO for malformed RDATA of a
 * type parsed only here (IPSECKEY: do not fall back either).
 * "\#" generic RDATA (RFC 3597 §5) is not handled here (load.c does it for every type).
 */
int sgn_rdata_parse(uint16_t type, const sgn_token *t, size_t n, const uint8_t *origin,
		    uint8_t *out, size_t out_max);

/* Decimal of v without printf (the writer formats millions of numbers); returns the
 * length written (at most 10, no NUL). */
int sgn_utoa(uint32_t v, char *out);

/* Parse a TTL or SOA timer: a number of seconds or BIND units ("1h30m"); -EINVAL. */
int sgn_parse_ttl(const char *s, size_t len, uint32_t *ret);

/* An unsigned number of at most `max`; -EINVAL otherwise. */
int sgn_parse_uint(const char *s, size_t len, uint32_t max, uint32_t *ret);

/*
 * Presentation form of RDATA. Writes at most 4*len + 512 chars (plus a NUL) to `out`:
 * the caller reserves that much. Returns the number of chars, or -EINVAL if the RDATA is
 * malformed for its type.
 */
int sgn_rdata_format(uint16_t type, const uint8_t *rd, uint16_t len, char *out);

static inline size_t sgn_rdata_format_max(uint16_t len)
{
	return 4u * len + 512u;
}

/* NSEC/NSEC3 type bitmap (RFC 4034 §4.1.2) of `n` sorted unique types; returns length. */
size_t sgn_bitmap_encode(const uint16_t *types, size_t n, uint8_t *out);

/* Decode a type bitmap into sorted types; returns the count or -EINVAL (malformed). */
int sgn_bitmap_decode(const uint8_t *bm, size_t len, uint16_t *types, size_t max);
