/* SPDX-License-Identifier: MIT */
/*
 * keystore/keystore.h -- DNSSEC keys of one zone: generation (OpenSSL 3), BIND
 * K<zone>+<alg>+<tag>.key/.private files, metadata, the signing and verification
 * primitives the signer uses, key tags, DS, CDS and CDNSKEY.
 *
 * Ownership: objects returned through ret_* parameters belong to the caller, who releases
 * them with the matching *_free(), except where a comment says "borrowed" (keys returned by
 * a store belong to the store). Nothing in this module reads the clock: functions that
 * depend on time take `now`. Nothing logs; warnings go to the zk_diag sink.
 *
 * Thread-safety: a ks_key may be shared by threads once loaded; each thread signs through
 * its own ks_signer. ks_pubkey_verify() may be called from several threads at once.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "policy/policy.h"
#include "policy/zk-error.h"
#include "policy/zk-time.h"

#define KS_FLAG_ZONE 0x0100   /* DNSKEY flags bit 7 (RFC 4034 §2.1.1) */
#define KS_FLAG_SEP 0x0001    /* bit 15 */
#define KS_FLAG_REVOKE 0x0080 /* bit 8 (RFC 5011) */

#define KS_DNSKEY_MAX 1024    /* bytes of DNSKEY rdata we handle (RSA up to 4096 bits) */
#define KS_SIG_MAX 512        /* bytes of any signature we make */
#define KS_DS_MAX (4 + 48)    /* DS rdata with a SHA-384 digest */

typedef enum ks_role {
	KS_ROLE_KSK, /* signs the DNSKEY, CDS and CDNSKEY RRsets; SEP flag */
	KS_ROLE_ZSK, /* signs everything else */
	KS_ROLE_CSK, /* both; SEP flag */
	_KS_ROLE_MAX,
} ks_role;

const char *ks_role_name(ks_role r);          /* "KSK", "ZSK", "CSK" */
int ks_role_from_name(const char *name);      /* role, or -EINVAL (case-insensitive) */

/*
 * Key timing metadata (RFC 7583 §3 names; BIND Created/Publish/Activate/Inactive/Delete).
 * 0 means "not set" (the event is not scheduled).
 */
typedef struct ks_timing {
	zk_time_t created;
	zk_time_t publish; /* DNSKEY enters the zone */
	zk_time_t active;  /* starts signing */
	zk_time_t retire;  /* stops signing (BIND "Inactive") */
	zk_time_t remove;  /* DNSKEY leaves the zone (BIND "Delete") */
} ks_timing;

typedef struct ks_key ks_key; /* opaque: one key pair, its DNSKEY and its metadata */

/* ---------------------------------------------------------------- keys in memory */

/*
 * Generate a key pair of `algorithm` (8: RSA 2048 bits, 13, 14, 15, 16) for `zone`
 * (absolute presentation name) with `role` (flags 257 for KSK/CSK, 256 for ZSK), and run
 * the self-test (a signature made with the private key verifies with the DNSKEY).
 * ZK_E_UNSUPPORTED for an algorithm this OpenSSL cannot do; ZK_E_CRYPTO on failure.
 */
int ks_key_generate(uint8_t algorithm, ks_role role, const char *zone, zk_time_t now,
		    ks_key **ret, zk_error *reterr);

/* NULL-safe, wipes private material; returns NULL. */
ks_key *ks_key_free(ks_key *k);

uint8_t ks_key_algorithm(const ks_key *k);
uint16_t ks_key_tag(const ks_key *k);   /* RFC 4034 Appendix B, of the DNSKEY as published */
uint16_t ks_key_flags(const ks_key *k);
ks_role ks_key_role(const ks_key *k);
const char *ks_key_zone(const ks_key *k);     /* absolute, lowercase */
const char *ks_key_basename(const ks_key *k); /* "Kexample.com.+013+12345" */
/* DNSKEY rdata (wire format); the pointer is valid as long as the key. */
const uint8_t *ks_key_dnskey(const ks_key *k, size_t *ret_len);
const ks_timing *ks_key_timing(const ks_key *k);
void ks_key_set_timing(ks_key *k, const ks_timing *t);
bool ks_key_signs_dnskey(const ks_key *k); /* KSK or CSK */
bool ks_key_signs_zone(const ks_key *k);   /* ZSK or CSK */

/* Published (DNSKEY in the zone) at `now`: publish set and <= now, remove unset or > now. */
bool ks_key_is_published(const ks_key *k, zk_time_t now);
/* Active (signing) at `now`: published, active set and <= now, retire unset or > now. */
bool ks_key_is_active(const ks_key *k, zk_time_t now);

/*
 * Sign `data` and verify the signature with the key's own DNSKEY: proves the private key
 * and the published public key belong together (invariants 6, 17). ZK_E_KEY if not.
 */
int ks_key_self_test(const ks_key *k, zk_error *reterr);

/* ---------------------------------------------------------------- crypto primitives */

typedef struct ks_signer ks_signer; /* per-thread signing context of one key */

int ks_signer_new(const ks_key *k, ks_signer **ret, zk_error *reterr);
ks_signer *ks_signer_free(ks_signer *s);

/*
 * Sign `data` (for DNSSEC: the RFC 4034 §3.1.8.1 signed data) and write the signature in
 * DNSSEC wire form to `sig` (RSA: PKCS#1 v1.5 octets, RFC 5702; ECDSA: r||s, RFC 6605;
 * EdDSA: RFC 8080). Returns the signature length, or a negative code.
 */
int ks_signer_sign(ks_signer *s, const uint8_t *data, size_t len, uint8_t *sig,
		   size_t sig_max);

typedef struct ks_pubkey ks_pubkey; /* a public key made from DNSKEY rdata */

/* ZK_E_UNSUPPORTED for an unknown algorithm, ZK_E_KEY for a malformed key. */
int ks_pubkey_from_dnskey(const uint8_t *rdata, size_t len, ks_pubkey **ret,
			  zk_error *reterr);
ks_pubkey *ks_pubkey_free(ks_pubkey *p);
uint8_t ks_pubkey_algorithm(const ks_pubkey *p);

/* 0 if `sig` is a valid signature of `data`, ZK_E_VERIFY if not. Thread-safe. */
int ks_pubkey_verify(const ks_pubkey *p, const uint8_t *data, size_t len,
		     const uint8_t *sig, size_t sig_len);

/* True if this build's OpenSSL can sign with `algorithm`. */
bool ks_algorithm_supported(uint8_t algorithm);

/* ---------------------------------------------------------------- tags, DS, CDS */

/* RFC 4034 Appendix B key tag of DNSKEY rdata. */
uint16_t ks_keytag(const uint8_t *dnskey_rdata, size_t len);

/*
 * DS rdata (RFC 4034 §5.1) for the DNSKEY `dnskey_rdata` owned by `owner_wire` (wire
 * format, lowercase): key tag, algorithm, digest type, digest. `digest_type` 2 (SHA-256)
 * or 4 (SHA-384); anything else is ZK_E_UNSUPPORTED (SHA-1 is never made).
 * Returns the rdata length written to `out`, or a negative code.
 */
int ks_ds_rdata(const uint8_t *owner_wire, size_t owner_len, const uint8_t *dnskey_rdata,
		size_t dnskey_len, uint8_t digest_type, uint8_t *out, size_t out_max,
		zk_error *reterr);

/* RFC 8078 §4 delete forms: CDS "0 0 0 00" and CDNSKEY "0 3 0 AA==" as rdata. */
extern const uint8_t ks_cds_delete_rdata[5];
extern const uint8_t ks_cdnskey_delete_rdata[5];

/* ---------------------------------------------------------------- BIND key files */

/*
 * Load a key from BIND/ldns files: `key_path` is the .key file (a DNSKEY record, comments
 * allowed) and the .private file sits beside it (Private-key-format v1.2 or v1.3; its
 * Created/Publish/Activate/Inactive/Delete fields become the timing when present). The
 * role comes from the .zk metadata file when present, else from the flags (257: KSK,
 * 256: ZSK). Runs the self-test. ZK_E_KEY names the file and what is wrong with it.
 */
int ks_key_load(const char *key_path, ks_key **ret, zk_error *reterr);

/*
 * Write the key's files into `dir`: <base>.private (0600, timing fields included),
 * <base>.key (0644) and <base>.zk (0600, role and timing), each atomically and durably.
 */
int ks_key_write(const ks_key *k, const char *dir, zk_error *reterr);

/* ---------------------------------------------------------------- the key store */

typedef struct ks_store ks_store; /* the key directory of one zone */

/*
 * Open (create with mode 0700 if missing) the key directory `dir` of `zone` and load every
 * K<zone>+*.key in it. A .private file readable by group or others is repaired to 0600 with
 * a warning to `diag` (as BIND does). A key that fails to load or fails its self-test is an
 * error (the zone must not be signed with a key set we cannot trust).
 */
int ks_store_open(const char *dir, const char *zone, const zk_diag *diag, ks_store **ret,
		  zk_error *reterr);
ks_store *ks_store_free(ks_store *s);

const char *ks_store_dir(const ks_store *s);
size_t ks_store_count(const ks_store *s);
ks_key *ks_store_key(const ks_store *s, size_t i); /* borrowed */
ks_key *ks_store_find(const ks_store *s, uint8_t algorithm, uint16_t tag); /* borrowed */

/*
 * Generate a new key whose tag (and the tag of its revoked variant) collides with no key in
 * the store (invariant 17), set `timing`, write it durably and add it to the store. The
 * returned key is borrowed from the store.
 */
int ks_store_generate(ks_store *s, uint8_t algorithm, ks_role role, const ks_timing *timing,
		      ks_key **ret, zk_error *reterr);

/*
 * Copy a key made elsewhere (dnssec-keygen, ldns-keygen, another zonekeeper) into the
 * store: `key_path` is its .key file. role < 0 means "from the flags". Refuses a key of
 * another zone, a tag collision, or a key failing its self-test.
 */
int ks_store_import(ks_store *s, const char *key_path, int role, const ks_timing *timing,
		    ks_key **ret, zk_error *reterr);

/*
 * Move a key that left the zone for good into <dir>/archive/ (files kept, never destroyed)
 * and drop it from the store; `k` is freed.
 */
int ks_store_archive(ks_store *s, ks_key *k, zk_error *reterr);

/* Rewrite the metadata of a key of the store after its timing changed. */
int ks_store_save(ks_store *s, const ks_key *k, zk_error *reterr);
