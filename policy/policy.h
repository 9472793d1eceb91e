/* SPDX-License-Identifier: MIT */
/*
 * policy/policy.h -- the configuration file (zonekeeper.conf(5)) as typed structs, and the
 * record ownership rules (invariant 19) as a pure function.
 *
 * The libconfig tree is read once by pol_config_load() and dropped: nothing outside
 * policy/config.c sees libconfig. Strings with a fixed vocabulary become enums, durations
 * become seconds. Every error names the file, the line and the setting.
 *
 * Ownership: pol_config_load() returns a config the caller frees with pol_config_free();
 * every pointer reached from it (policies, zones, strings) belongs to it and lives as long
 * as it does. Nothing in this module reads the clock or logs.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <ldns/ldns.h>

#include "policy/zk-error.h"
#include "policy/zk-time.h"

/* DNSSEC algorithm numbers we sign with (RFC 8624 / RFC 9904 signing column). */
enum {
	POL_ALG_RSASHA256 = 8,
	POL_ALG_ECDSAP256SHA256 = 13,
	POL_ALG_ECDSAP384SHA384 = 14,
	POL_ALG_ED25519 = 15,
	POL_ALG_ED448 = 16,
};

/* DS digest types (RFC 4509, RFC 6605). SHA-1 is never generated. */
enum {
	POL_DIGEST_SHA256 = 2,
	POL_DIGEST_SHA384 = 4,
};

typedef enum pol_keys {
	POL_KEYS_KSK_ZSK, /* default */
	POL_KEYS_CSK,
	_POL_KEYS_MAX,
} pol_keys;

typedef enum pol_denial {
	POL_DENIAL_NSEC3, /* default */
	POL_DENIAL_NSEC,
	_POL_DENIAL_MAX,
} pol_denial;

typedef enum pol_serial {
	POL_SERIAL_DATESERIAL, /* default: YYYYMMDDNN, UTC */
	POL_SERIAL_UNIXTIME,
	POL_SERIAL_INCREMENT,
	POL_SERIAL_KEEP,
	_POL_SERIAL_MAX,
} pol_serial;

/*
 * How much of a freshly signed zone is checked before it is published (signer/verify.c).
 * STANDARD: every structural check, plus cryptographic verification of the DNSKEY, CDS and
 * CDNSKEY RRsets, of each key's first signatures and of a random sample. FULL: also every
 * other signature (costs about 3x the signing time with ECDSA).
 */
typedef enum pol_verify {
	POL_VERIFY_STANDARD, /* default */
	POL_VERIFY_FULL,
	_POL_VERIFY_MAX,
} pol_verify;

typedef struct pol_soa {
	char *mname;      /* absolute, lowercase presentation form */
	char *rname;      /* absolute, lowercase presentation form */
	uint32_t refresh; /* seconds */
	uint32_t retry;
	uint32_t expire;
	uint32_t minimum;
	uint32_t ttl;
} pol_soa;

typedef struct pol_policy {
	char *name;
	uint8_t algorithm;       /* POL_ALG_*; default 13 */
	pol_keys keys;           /* default KSK+ZSK */
	uint32_t ksk_lifetime;   /* seconds, 0 = manual rollover only; default 365d.
				    With keys = csk this is the CSK's lifetime. */
	uint32_t zsk_lifetime;   /* seconds, 0 = manual; default 90d */
	uint32_t rrsig_validity; /* default 14d */
	uint32_t rrsig_refresh;  /* re-sign when less than this remains; default 7d */
	uint32_t rrsig_jitter;   /* expirations spread over this much; default 12h */
	uint32_t inception_offset; /* inception back-dated by this; default 1h */
	pol_denial denial;       /* default NSEC3 */
	uint16_t nsec3_iterations;  /* always 0: anything else is rejected (RFC 9276) */
	uint8_t nsec3_salt_length;  /* bytes, default 0; > 0 is accepted with a warning */
	bool nsec3_opt_out;         /* default false */
	pol_serial serial;          /* default dateserial */
	char **nameservers;         /* platform apex NS: absolute, lowercase; protected */
	size_t n_nameservers;
	pol_soa soa;                /* defaults: mname = first nameserver, rname
				       "hostmaster.<zone>" when unset (empty string), refresh 1h,
				       retry 15m, expire 6d (invariant 9: within the
				       7d refresh window), minimum 1h, ttl 1h */
	uint32_t dnskey_ttl;        /* default 1h */
	uint32_t propagation_delay; /* Dprp, default 5m */
	uint32_t max_zone_ttl;      /* TTLsig; zones with a larger TTL are refused; default 1d */
	uint32_t parent_ds_ttl;     /* TTLds, default 1d */
	uint32_t parent_propagation_delay; /* DprpP, default 1h */
	uint32_t publish_safety;    /* default 1h */
	uint32_t retire_safety;     /* default 1h */
	bool cds;                   /* publish CDS/CDNSKEY; default true */
	bool insecure;              /* take the zone out of DNSSEC safely: DS withdrawn
				       (CDS/CDNSKEY delete), signatures kept until it is gone
				       from every cache, then unsigned; default false */
	uint8_t cds_digests[3];     /* digest types for DS/CDS (at most two), 0-terminated;
				       default {2} */
	pol_verify verify;          /* default standard */
	unsigned signing_threads;   /* 0 = one per available core (default) */
	uint32_t dnskey_size_budget; /* bytes of DNSKEY response; default 1232 */
	uint32_t ds_check_interval; /* how often the parental agents are asked while a DS
				       move waits for the parent; default 1h */
	/*
	 * The downstream servers' own limits, refused where writes come in (as the limits
	 * below): BIND 9.18 refuses a zone with more records in an RRset than its
	 * max-records-per-type, or more types at a name than max-types-per-name (100 each by
	 * default). 0: off (default).
	 */
	uint32_t max_records_per_type;
	uint32_t max_types_per_name;
} pol_policy;

typedef struct pol_notify_target {
	char *address;   /* numeric IPv4 or IPv6 */
	uint16_t port;   /* default 53 */
} pol_notify_target;

typedef struct pol_zone {
	char *name;              /* absolute, lowercase presentation form: "example.com." */
	const pol_policy *policy; /* borrowed from the config */
	char *input_file;        /* default <input_dir>/<name without final dot>.zone */
	char *output_file;       /* default <output_dir>/<name without final dot>.zone */
	/* servers of the parent zone asked for our DS during KSK rollovers (none: an
	 * operator confirms with `zonekeeper key ds-seen`) */
	pol_notify_target *parental_agents;
	size_t n_parental_agents;
} pol_zone;

typedef struct pol_config {
	char *path; /* the file it was read from */

	struct {
		char *state_dir;  /* default /var/lib/zonekeeper */
		char *input_dir;  /* default <state_dir>/unsigned */
		char *include_dir; /* $INCLUDE targets must lie below it; default input_dir */
		char *output_dir; /* default <state_dir>/signed */
	} paths;

	struct {
		char *socket;          /* default /run/zonekeeper/api.sock */
		char *listen;          /* optional "ADDR:PORT" / "[ADDR]:PORT"; NULL = off */
		char **tokens;         /* bearer tokens for the TCP listener */
		size_t n_tokens;
		uint32_t max_body;     /* bytes, default 1 MiB */
		unsigned max_connections; /* default 64 */
		uint32_t idle_timeout; /* seconds, default 30 */
	} api;

	struct {
		char *reload_command;  /* optional; %z zone, %f published file */
		uint32_t reload_timeout; /* seconds, default 30 */
		pol_notify_target *notify;
		size_t n_notify;
	} publish;

	pol_policy *policies;
	size_t n_policies;
	pol_zone *zones;
	size_t n_zones;

	/* zones deleted through the API stay restorable this many days; default 30 */
	uint32_t archive_days;
	/* the catalog zone (RFC 9432) of every published zone; NULL name: none */
	struct {
		char *name;          /* absolute, lowercase presentation form */
	} catalog;
} pol_config;

/*
 * Read and check the configuration file at `path`. Unknown settings, wrong types,
 * impossible combinations and deprecated algorithms are errors (ZK_E_CONFIG) whose
 * reterr names file, line and setting; -ENOMEM when memory runs out. Warnings (e.g. a
 * non-empty NSEC3 salt, RRSIG validity shorter than SOA expire + propagation delay) go to
 * `diag`, only once the whole file is accepted. *ret is untouched on failure.
 * Relative paths in the file are taken relative to the file's directory.
 */
int pol_config_load(const char *path, const zk_diag *diag, pol_config **ret,
		    zk_error *reterr);

/* NULL-safe; returns NULL. */
pol_config *pol_config_free(pol_config *c);

/* The zone named `name` (with or without the final dot, any case), or NULL. */
const pol_zone *pol_config_zone(const pol_config *c, const char *name);

/* The policy named `name`, or NULL. */
const pol_policy *pol_config_policy(const pol_config *c, const char *name);
/* The policy of a zone that names none (the only one, or "default"), or NULL. */
const pol_policy *pol_config_default_policy(const pol_config *c);

/*
 * A zone that is not in the configuration file (one created through the API): its name
 * normalized as the configuration's are (-EINVAL for a name that is not a domain name or
 * holds '/'), the default input and output files. The policy is borrowed. Free the
 * strings with pol_zone_clear().
 */
int pol_zone_make(const pol_config *c, const char *name, const pol_policy *p, pol_zone *ret);
void pol_zone_clear(pol_zone *z);
/* A domain name -> the absolute, lowercase presentation form zones are named by. */
int pol_name_normalize(const char *in, char **ret);

/* Whether two policies, or two zones' settings, would sign alike (a reload that changes
 * neither needs no run). */
bool pol_policy_equal(const pol_policy *a, const pol_policy *b);
bool pol_zone_equal(const pol_zone *a, const pol_zone *b);

/* A policy with every documented default (used by tests and the loader). Allocates
 * nothing: name, nameservers, soa.mname and soa.rname are left NULL (NULL rname, like "",
 * means "hostmaster.<zone>"). */
void pol_policy_defaults(pol_policy *p);

/* Names for the API, the journal and the CLI. */
const char *pol_algorithm_name(uint8_t alg);  /* "ECDSAP256SHA256"; NULL if unknown */
int pol_algorithm_from_name(const char *name); /* number, or -EINVAL */
const char *pol_keys_name(pol_keys k);
const char *pol_denial_name(pol_denial d);
const char *pol_serial_name(pol_serial s);
const char *pol_verify_name(pol_verify v);

/* ------------------------------------------------------------------------------------ */
/* Record ownership rules (invariant 19). Pure: no I/O, no clock, no global state.       */

/* True for the types only zonekeeper may write: DNSKEY RRSIG NSEC NSEC3 NSEC3PARAM CDS
 * CDNSKEY (SOA and the platform apex NS are protected too, but by other rules). */
bool pol_type_is_dnssec(uint16_t type);

typedef enum pol_op {
	POL_OP_ADD,    /* new_rr only */
	POL_OP_UPDATE, /* old_rr replaced by new_rr */
	POL_OP_DELETE, /* old_rr only */
} pol_op;

/*
 * Limits every door enforces (doc/limits.md), so that whatever is accepted can be signed,
 * served and transferred:
 *   POL_RRSET_MAX_OCTETS  an RRset's records in an answer, Σ POL_RR_OCTETS: room is left
 *                         in a 64 KiB DNS message for the question and the RRSIGs of an
 *                         algorithm rollover (4 signatures of RSA-4096 size)
 *   POL_TYPES_MAX         record types at one name, system ones included
 *   POL_APEX_NS_MAX       apex NS records besides the platform's nameservers
 * RDATA itself is at most 65535 octets (the wire format's RDLENGTH).
 */
#define POL_RRSET_MAX_OCTETS 60000u
#define POL_TYPES_MAX 100u
#define POL_APEX_NS_MAX 16u
/* One record in an answer: compressed owner (2), type, class, TTL, RDLENGTH (10), RDATA. */
#define POL_RR_OCTETS(rdlen) (12u + (uint32_t) (rdlen))

typedef struct pol_type_count {
	uint16_t type;
	uint32_t count;  /* records of that type at the name */
	uint32_t octets; /* Σ POL_RR_OCTETS of those records */
} pol_type_count;

/*
 * What the rules need to know of the zone as it is now. `types_at` fills `out` with the
 * types of the user's data at `owner` (not the SOA, the platform's apex NS or DNSSEC
 * types) and their record counts and sizes, and returns how many it found (at most
 * `max`).
 */
typedef struct pol_zone_view {
	const ldns_rdf *apex;
	const pol_policy *policy;
	size_t (*types_at)(const void *zone, const ldns_rdf *owner, pol_type_count *out,
			   size_t max);
	const void *zone;
} pol_zone_view;

typedef struct pol_change {
	pol_op op;
	const ldns_rr *old_rr; /* UPDATE, DELETE: the record as it is in the zone */
	const ldns_rr *new_rr; /* ADD, UPDATE: the record as proposed */
} pol_change;

/*
 * Accept (return 0) or reject a user write, with the error code of doc/api.md and a message that
 * names what was refused and why:
 *   ZK_E_PROTECTED_RECORD  SOA; DNSSEC types; deleting/changing a platform apex NS
 *   ZK_E_OUT_OF_ZONE       owner not at or below the apex
 *   ZK_E_CNAME_CONFLICT    CNAME at the apex; CNAME beside other data; data beside a CNAME
 *   ZK_E_INVALID_RECORD    class not IN, TTL above 2^31-1 or the policy's max_zone_ttl;
 *                          then, on the name as the write leaves it (pol_name_check):
 *                          DS anywhere but at a delegation point, or the last NS of a
 *                          delegation deleted while its DS stays
 *   ZK_E_LIMIT             the name as the write leaves it is over a limit above
 * Checks run in that order; the first failing one decides.
 */
int pol_rule_check(const pol_zone_view *v, const pol_change *c, zk_error *reterr);

/*
 * The rules on the whole data of one name, as a write leaves it or an input file gives
 * it (`types`: every type at the name with its count and size; at the apex the NS count
 * is of the user's NS only): DS only at a delegation point (not at the apex, not without
 * NS) and the limits above. The input-file loader, the import and the journal replay
 * call it per name, the API through pol_rule_check: one set of rules at every door. With
 * a policy `p` (NULL: none), also its max_records_per_type and max_types_per_name; the
 * types zonekeeper adds count toward the latter (RRSIG and NSEC or NSEC3 at a name; SOA,
 * NS, DNSKEY, NSEC3PARAM, CDS, CDNSKEY too at the apex).
 */
int pol_name_check(const pol_policy *p, const ldns_rdf *owner, bool apex,
		   const pol_type_count *types, size_t n, zk_error *reterr);

/* True if `ns_target` (an NS record's target name) is one of the policy's nameservers. */
bool pol_is_platform_ns(const pol_policy *p, const ldns_rdf *ns_target);
