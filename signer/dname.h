/* SPDX-License-Identifier: MIT */
/*
 * signer/dname.h -- domain names in wire format (uncompressed, length-prefixed labels,
 * ending with the root label) and their canonical order (RFC 4034 §6.1).
 *
 * The zone model keeps owner names lowercased, so "canonical" and "stored" forms are the
 * same and comparisons are plain byte work. The canonical sort key turns RFC 4034 §6.1
 * order (labels compared right to left, each as an octet string) into memcmp order, so
 * sorting a million names is a memcmp sort and a lookup a binary search.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define DN_MAXLEN 255  /* wire octets, RFC 1035 §2.3.4 */
#define DN_MAXLABEL 63
#define DN_KEYMAX 512  /* sort key: at most 2 octets per name octet */
#define DN_TEXTMAX 1024 /* presentation form: at most 4 chars per octet */

/* Wire length of a well-formed name (including the root label). */
size_t dn_len(const uint8_t *name);

/* Number of labels, not counting the root (RFC 4034 §3.1.3: "www.example.com." is 3). */
unsigned dn_labels(const uint8_t *name);

/* ASCII-lowercase a wire name in place. */
void dn_lower(uint8_t *name);

/* Lowercase copy of `src` into `dst` (DN_MAXLEN bytes); returns the length. */
size_t dn_lower_copy(uint8_t *dst, const uint8_t *src);

/* Case-insensitive equality of two wire names. */
bool dn_equal(const uint8_t *a, const uint8_t *b);

/* True if `name` is `apex` or below it (case-insensitive). */
bool dn_is_at_or_below(const uint8_t *name, const uint8_t *apex);

/* True if `name` is strictly below `parent`. */
bool dn_is_below(const uint8_t *name, const uint8_t *parent);

/* The parent of `name` (a pointer into it), or NULL for the root. */
const uint8_t *dn_parent(const uint8_t *name);

/* True if the first label is "*" (RFC 4592 wildcard owner). */
bool dn_is_wildcard(const uint8_t *name);

/* Write the canonical sort key of `name` (must be lowercase) to key; returns its length. */
size_t dn_sort_key(const uint8_t *name, uint8_t *key);

/* Order of two sort keys (memcmp, a shorter key first on a tie): <0, 0, >0. */
static inline int dn_key_cmp(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
	int c = memcmp(a, b, alen < blen ? alen : blen);

	return c ? c : (alen < blen ? -1 : alen > blen);
}

/* Canonical order of two lowercase names (RFC 4034 §6.1): <0, 0, >0. */
int dn_canonical_cmp(const uint8_t *a, const uint8_t *b);

/*
 * Presentation form of `name`, absolute with the final dot, characters outside
 * [A-Za-z0-9-_*] escaped (\. \\ \DDD ...). Returns the number of characters written
 * (not counting the NUL); `out` needs DN_TEXTMAX bytes.
 */
size_t dn_to_text(const uint8_t *name, char *out);

/*
 * Parse presentation text (escapes \X and \DDD, "@" for the origin; a name without a final
 * dot is relative to `origin`, which may be NULL only for absolute names). Writes the wire
 * name to `out` (DN_MAXLEN bytes) and returns its length, or -EINVAL (bad syntax, empty
 * label, label > 63, name > 255, relative name without origin).
 * `len` is the length of `text` (it need not be NUL-terminated).
 */
int dn_from_text(const char *text, size_t len, const uint8_t *origin, uint8_t *out);

/* Base32hex without padding (RFC 4648 §7), lowercase, as NSEC3 owner labels use. */
size_t dn_base32hex(const uint8_t *data, size_t len, char *out);
int dn_base32hex_decode(const char *text, size_t len, uint8_t *out, size_t out_max);
