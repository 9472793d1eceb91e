/* SPDX-License-Identifier: MIT */
/*
 * signer/output.h -- the zone in master file format: one record per line, absolute
 * names, explicit TTL and class, in canonical order (RFC 4034 §6.1) with NSEC3 records
 * placed at their owner names, each RRset followed by its RRSIGs. NSD, Knot, BIND and
 * PowerDNS all read it.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

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

/*
 * Splicing: a large zone changed in a few places is mostly the text of the previous
 * publication. The output order is cut into blocks at content-defined points (so an
 * insertion moves no boundary but its own), each block is identified by a 128-bit hash of
 * its records in wire form, and a block whose hash the previous write produced is copied
 * from the previous file (copy_file_range: in the kernel, no formatting) instead of
 * formatted again. Formatting is what writing costs (~4 s of CPU per million names).
 */
typedef struct sgn_block_ref {
	uint64_t h1, h2;
	uint64_t off;
	uint64_t len;
} sgn_block_ref;

typedef struct sgn_splice {
	int fd;                  /* the previous output (read-only), or -1 */
	sgn_block_ref *blocks;   /* its blocks, sorted by h1 */
	size_t n_blocks;
} sgn_splice;

void sgn_splice_init(sgn_splice *s);
void sgn_splice_clear(sgn_splice *s);  /* closes fd, frees blocks */

/* Copy `len` bytes at `off` of `fd` to the output. Returns 0 or -errno. */
typedef int (*sgn_copy_sink)(void *userdata, int fd, uint64_t off, uint64_t len);

/*
 * sgn_zone_write, reusing the text of `prev` where blocks are unchanged (prev may be NULL
 * or have fd -1: everything is formatted). With `next` NULL nothing is hashed and `prev`
 * is ignored (one-shot signing: fixed blocks, nothing to keep). `next` receives the block table of this write
 * (offsets from the start of the output); the caller pairs it with an fd of the file once
 * it is in place. Copied bytes are reported in *ret_copied.
 */
int sgn_zone_write_spliced(const sgn_zone *z, const char *header, unsigned threads,
			   sgn_sink sink, sgn_copy_sink copy, void *userdata,
			   const sgn_splice *prev, sgn_splice *next, uint64_t *ret_copied,
			   zk_error *reterr);

/*
 * Some records only (no signatures, no denial records), after `head` (verbatim, or NULL),
 * in the same order and form, on `threads` threads: `keep` says which (called concurrently
 * from the formatting threads, and it must answer the same for the same records while
 * `prev` is used). Spliced as sgn_zone_write_spliced does when `next` is not NULL: a
 * block's hash covers all of its records, so an unchanged hash is unchanged text. The
 * daemon's write-back of the unsigned zone.
 */
typedef bool (*sgn_rr_keep)(void *userdata, const sgn_node *n, uint16_t type,
			    const uint8_t *rdata, uint16_t len);

int sgn_zone_write_records(const sgn_zone *z, const char *head, unsigned threads,
			   sgn_rr_keep keep, void *keep_userdata, sgn_sink sink,
			   sgn_copy_sink copy, void *userdata, const sgn_splice *prev,
			   sgn_splice *next, uint64_t *ret_copied, zk_error *reterr);

/* Presentation form of one record into out (>= DN_TEXTMAX + sgn_rdata_format_max + 64). */
int sgn_format_rr(const char *owner_text, uint16_t type, uint32_t ttl, const uint8_t *rd,
		  uint16_t len, char *out);
