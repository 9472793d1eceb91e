/* SPDX-License-Identifier: MIT */
/*
 * signer/zone.h -- the zone model: names in canonical order, their RRsets in canonical
 * wire form, the RRSIGs over each RRset, and the denial-of-existence records.
 *
 * Why our own model and not ldns_dnssec_zone: a million-name zone holds ~2.3M records and
 * ~2.7M signatures; ldns keeps one heap object per rdata field and a red-black tree per
 * name (ldns-signzone needs 3.9 GiB and 111 s for that zone here). This model keeps one
 * node per name with its RRsets as packed wire bytes, which is what signing, comparing,
 * hashing and writing need, at a fraction of the memory. ldns still parses what the fast
 * paths do not know and formats what the writer does not know.
 *
 * Stored form = canonical form (RFC 4034 §6.2): owner names are lowercased, names inside
 * RDATA are lowercased for the types RFC 4034 §6.2 (as amended by RFC 6840 §5.1) lists,
 * the records of an RRset are sorted by RDATA and duplicates removed. So the data to sign
 * is the stored bytes.
 *
 * The model is shaped for incremental change (the daemon): an RRset carries its
 * signatures; a new version of the zone adopts the signatures of every unchanged RRset
 * from the old one (sgn_zone_adopt), and signing then only touches RRsets without
 * current signatures.
 *
 * Ownership: a sgn_zone owns its nodes, every node its RRsets, every RRset its RDATA and
 * signature blobs. Nothing here reads the clock or logs.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "policy/zk-error.h"
#include "signer/dname.h"

/* RR types we name (values from the IANA registry). */
enum {
	T_A = 1, T_NS = 2, T_CNAME = 5, T_SOA = 6, T_PTR = 12, T_MX = 15, T_TXT = 16,
	T_AAAA = 28, T_SRV = 33, T_NAPTR = 35, T_DNAME = 39, T_DS = 43, T_SSHFP = 44, T_IPSECKEY = 45,
	T_RRSIG = 46, T_NSEC = 47, T_DNSKEY = 48, T_NSEC3 = 50, T_NSEC3PARAM = 51,
	T_TLSA = 52, T_CDS = 59, T_CDNSKEY = 60, T_SVCB = 64, T_HTTPS = 65, T_CAA = 257,
};

/* Node flags */
enum {
	SGN_NODE_APEX = 1 << 0,
	SGN_NODE_DELEGATION = 1 << 1, /* NS below the apex: a zone cut */
	SGN_NODE_BELOW_CUT = 1 << 2,  /* below a zone cut: glue or occluded, never signed */
	SGN_NODE_ENT = 1 << 3,        /* empty non-terminal: no RRsets */
	SGN_NODE_WILDCARD = 1 << 4,
	SGN_NODE_SECURE_DELEG = 1 << 5, /* delegation with a DS RRset */
	SGN_NODE_KEEP = 1 << 6,         /* sgn_zone_structure's own mark, never left set */
};

/* RRset flags */
enum {
	SGN_RRSET_NEW_SIGS = 1 << 0, /* signatures made by the last signing pass */
};

/*
 * One RRset. `rdata` holds `count` records, each as a 16-bit big-endian length followed by
 * the RDATA, in canonical order. `sigs` holds the RRSIG RDATA covering this RRset in the
 * same length-prefixed layout.
 */
typedef struct sgn_rrset {
	uint16_t type;
	uint16_t count;
	uint32_t ttl;
	uint32_t rdata_len;
	uint16_t n_sigs;
	uint16_t flags;
	uint8_t *rdata;
	uint8_t *sigs;
	uint32_t sigs_len;
} sgn_rrset;

typedef struct sgn_n3 sgn_n3;

typedef struct sgn_node {
	uint8_t *name;   /* wire, lowercase; owned (one block with `key`) */
	uint8_t *key;    /* canonical sort key (dn_sort_key) */
	uint16_t key_len;
	uint8_t name_len;
	uint8_t labels;  /* dn_labels(name) */
	uint16_t flags;  /* SGN_NODE_* */
	uint16_t n_rrsets;
	sgn_rrset *rrsets; /* owned, sorted by type; excludes NSEC/NSEC3/RRSIG */
	sgn_rrset *nsec;   /* NSEC RRset at this name (NSEC zones), owned, or NULL */
	sgn_n3 *n3;        /* this name's NSEC3 record (NSEC3 zones), in zone->n3, or NULL */
	uint32_t line;     /* input line where the name first appeared (diagnostics) */
	/*
	 * Incremental publication (sgn_zone.dirty_only): `dirty` marks a node whose RRsets,
	 * NSEC record or flags changed since the last publication (set by the functions that
	 * change them, cleared by sgn_zone_clear_dirty). h1/h2 is the writer's hash of the
	 * node's records, valid while `hvalid`.
	 */
	bool dirty;
	bool hvalid;
	uint64_t h1, h2;
} sgn_node;

/* One NSEC3 record: owner base32hex(hash).<apex>. */
struct sgn_n3 {
	uint8_t hash[20];
	uint8_t hash_len;
	sgn_node *node;   /* the name it stands for; NULL when loaded from a signed file and
			     no name hashes to it (reported by the verifier) */
	sgn_rrset rr;     /* one NSEC3 record with its signatures */
	bool dirty;       /* new or changed since the last publication (as sgn_node) */
	bool hvalid;
	uint64_t h1, h2;
};

typedef struct sgn_nsec3_params {
	bool enabled;
	uint8_t hash_alg;   /* 1 = SHA-1, the only one defined */
	uint8_t flags;      /* 1 = opt-out */
	uint16_t iterations;
	uint8_t salt_len;
	uint8_t salt[255];
} sgn_nsec3_params;

typedef struct sgn_zone {
	uint8_t apex[DN_MAXLEN];
	uint8_t apex_len;
	uint8_t apex_labels;
	char apex_text[DN_TEXTMAX];

	sgn_node **nodes;   /* canonical order */
	size_t n_nodes, cap_nodes;
	sgn_node *apex_node;

	sgn_n3 *n3;         /* NSEC3 records in hash order (NSEC3 zones) */
	size_t n_n3;
	sgn_nsec3_params nsec3;

	uint32_t input_serial; /* the SOA serial found in the input, for `keep` */
	bool has_input_soa;
	size_t orphan_rrsigs;  /* SIGNED loads: RRSIGs covering no RRset at their owner */
	struct {
		uint16_t type;
		uint32_t count;
	} stripped[16];        /* UNSIGNED loads: DNSSEC records dropped, by type */
	unsigned n_stripped;
	/*
	 * True while everything not marked dirty is exactly what the last publication held,
	 * signed and verified then, with its signatures still far from due and the same keys
	 * signing: signing, verification and writing then look at the dirty names and NSEC3
	 * records only. Set by the caller (sgn_ctx_run) for one run; false: the whole zone.
	 */
	bool dirty_only;
} sgn_zone;

/* qsort/bsearch order of sgn_n3 entries: by hash (the NSEC3 chain order). */
int sgn_n3_cmp(const void *a, const void *b);

/* An empty zone for the apex `apex` (wire). */
int sgn_zone_new(const uint8_t *apex, sgn_zone **ret);
/* NULL-safe; frees everything the zone owns; returns NULL. */
sgn_zone *sgn_zone_free(sgn_zone *z);

/* Binary search for a name (lowercase wire); NULL if absent. */
sgn_node *sgn_zone_find(const sgn_zone *z, const uint8_t *name);
/* Index of the first node whose key is >= the key of `name` (insertion point). */
size_t sgn_zone_lower_bound(const sgn_zone *z, const uint8_t *name);

/* RRset of `type` at a node, or NULL. */
sgn_rrset *sgn_node_rrset(const sgn_node *n, uint16_t type);

/*
 * Replace (or add, or with count 0 delete) the RRset `type` at node `n` by a copy of the
 * given canonical-order RDATA blob; its signatures are dropped, unless TTL and RDATA are
 * what the RRset already holds (then nothing changes). 0 or -ENOMEM.
 */
int sgn_node_set_rrset(sgn_node *n, uint16_t type, uint32_t ttl, uint16_t count,
		       const uint8_t *rdata, uint32_t rdata_len);

/* Find or insert a node (keeps the canonical order); *ret_created says which. */
int sgn_zone_get_node(sgn_zone *z, const uint8_t *name, sgn_node **ret, bool *ret_created);

/* A fresh node for `name` (lowercased copy), not yet in any zone. */
sgn_node *sgn_node_new(const uint8_t *name);
sgn_node *sgn_node_free(sgn_node *n);

/*
 * Recompute node flags (apex, delegation, below-cut, wildcard, secure delegation) and the
 * empty non-terminals: ENT nodes are added where a name has descendants but no data, and
 * removed where they no longer have descendants. Call after any change of names or NS/DS
 * RRsets. 0 or -ENOMEM.
 */
int sgn_zone_structure(sgn_zone *z);

/* RRsets to sign at node n: not below a cut; at a delegation only DS. */
bool sgn_rrset_is_authoritative(const sgn_node *n, const sgn_rrset *s);

/* Free the RDATA and signatures of an RRset (not the struct). */
void sgn_rrset_clear(sgn_rrset *s);

/* Forget every dirty mark (the zone as it is now was published). */
void sgn_zone_clear_dirty(sgn_zone *z);

/* Drop every signature in the zone (for a forced full re-sign). */
void sgn_zone_drop_signatures(sgn_zone *z);

/*
 * Take over the signatures of every RRset of `old` whose owner, type, TTL and RDATA are
 * identical in `z`, and the NSEC3 hashes of names present in both (same parameters).
 * Denial records are adopted by sgn_denial_build. Returns the number of RRsets adopted.
 */
size_t sgn_zone_adopt(sgn_zone *z, sgn_zone *old);

/*
 * True if both zones hold the same names with the same RRsets (type, TTL, RDATA),
 * ignoring signatures, denial records and the RRset of `ignore_type` (0: none).
 */
bool sgn_zone_same_data(const sgn_zone *a, const sgn_zone *b, uint16_t ignore_type);

/* True if the two RRsets have the same TTL and RDATA (signatures not compared). */
bool sgn_rrset_same_data(const sgn_rrset *a, const sgn_rrset *b);

/* ---------------------------------------------------------------- signature blobs */

/* RRSIG RDATA field access (RFC 4034 §3.1). */
static inline uint16_t rrsig_type_covered(const uint8_t *r) { return (uint16_t) (r[0] << 8 | r[1]); }
static inline uint8_t rrsig_algorithm(const uint8_t *r) { return r[2]; }
static inline uint8_t rrsig_labels(const uint8_t *r) { return r[3]; }
static inline uint32_t rrsig_u32(const uint8_t *p)
{
	return (uint32_t) p[0] << 24 | (uint32_t) p[1] << 16 | (uint32_t) p[2] << 8 | p[3];
}
static inline uint32_t rrsig_orig_ttl(const uint8_t *r) { return rrsig_u32(r + 4); }
static inline uint32_t rrsig_expiration(const uint8_t *r) { return rrsig_u32(r + 8); }
static inline uint32_t rrsig_inception(const uint8_t *r) { return rrsig_u32(r + 12); }
static inline uint16_t rrsig_keytag(const uint8_t *r) { return (uint16_t) (r[16] << 8 | r[17]); }

/* Iterate length-prefixed records of a blob: for (p = blob; p < end; p = next) ... */
static inline uint16_t blob_len(const uint8_t *p) { return (uint16_t) (p[0] << 8 | p[1]); }

/* Append one RRSIG RDATA to an RRset. 0 or -ENOMEM. */
int sgn_rrset_add_sig(sgn_rrset *s, const uint8_t *rdata, uint16_t len);
/* Remove the signatures for which `drop(rdata, len, ctx)` is true; returns how many. */
unsigned sgn_rrset_filter_sigs(sgn_rrset *s, bool (*drop)(const uint8_t *, uint16_t, void *),
			       void *ctx);

/* RFC 4034 §6.3: canonical order of RDATA (octet strings, shorter first on a tie). */
int sgn_rdata_cmp(const uint8_t *a, uint16_t alen, const uint8_t *b, uint16_t blen);

/* True for the types whose RDATA names are lowercased in canonical form (RFC 4034 §6.2,
 * RFC 6840 §5.1). */
bool sgn_type_downcases_rdata(uint16_t type);
