/* SPDX-License-Identifier: MIT */
/*
 * keystore/internal.h -- declarations shared by the keystore/ sources and nobody else (the unit
 * tests include it to reach the collision and key-pair plumbing). The body of ks_key lives
 * here so that key.c (crypto), bindfmt.c (files) and store.c (directory) see one layout.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#include "keystore/keystore.h"
#include "policy/zk-macro.h"

/* Tries before ks_store_generate gives up finding a tag that collides with nothing. */
#define KS_TAG_ATTEMPTS 16

/* Longest absolute presentation name we keep (escapes included). */
#define KS_NAME_MAX 1024

struct ks_key {
	uint8_t algorithm;
	uint16_t flags;
	uint16_t tag;
	ks_role role;
	char *zone;     /* owned: absolute, lowercase presentation form */
	char *basename; /* owned: "K<zone>+<alg>+<tag>" */
	uint8_t dnskey[KS_DNSKEY_MAX];
	size_t dnskey_len;
	ks_timing timing;
	EVP_PKEY *pkey; /* owned: the key pair; OpenSSL clears private parts on free */
};

ZK_DEFINE_PTR_CLEANUP(ks_key *, ks_key_free)
ZK_DEFINE_PTR_CLEANUP(ks_pubkey *, ks_pubkey_free)
ZK_DEFINE_PTR_CLEANUP(ks_signer *, ks_signer_free)
ZK_DEFINE_PTR_CLEANUP(EVP_PKEY *, EVP_PKEY_free)
ZK_DEFINE_PTR_CLEANUP(EVP_PKEY_CTX *, EVP_PKEY_CTX_free)
ZK_DEFINE_PTR_CLEANUP(EVP_MD_CTX *, EVP_MD_CTX_free)
ZK_DEFINE_PTR_CLEANUP(EVP_MD *, EVP_MD_free)

/*
 * Fill *reterr with `code` and the message, followed by the first OpenSSL error of this
 * thread (if any), and empty OpenSSL's error queue. Returns `code`.
 */
int ks_ossl_fail(zk_error *reterr, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

typedef enum ks_alg_kind {
	KS_KIND_RSA,
	KS_KIND_ECDSA,
	KS_KIND_EDDSA,
} ks_alg_kind;

/* What we need to know about a DNSSEC algorithm we sign with. */
typedef struct ks_alg {
	uint8_t number;
	ks_alg_kind kind;
	const char *mnemonic; /* BIND's name, as in "Algorithm: 13 (ECDSAP256SHA256)" */
	const char *keytype;  /* OpenSSL key type: "RSA", "EC", "ED25519", "ED448" */
	const char *sigalg;   /* OpenSSL signature algorithm, for the support check */
	const char *group;    /* ECDSA: curve */
	const char *digest;   /* RSA, ECDSA: hash of the signed data */
	int raw_type;         /* EdDSA: EVP_PKEY_ED25519 or EVP_PKEY_ED448 */
	size_t key_len;       /* ECDSA: x||y length; EdDSA: public and private key length */
	size_t sig_len;       /* fixed signature length; 0 for RSA (modulus size) */
	unsigned bits;        /* ECDSA: EVP_PKEY_get_bits() of a key on this curve */
} ks_alg;

/* The row of `number`, or NULL if we do not sign with it. */
const ks_alg *ks_alg_find(uint8_t number);

/* Bytes of an RSA modulus we accept in a DNSKEY (RFC 3110 §2: 512 to 4096 bits). */
#define KS_RSA_MIN_BYTES 64
#define KS_RSA_MAX_BYTES 512

/*
 * OSSL_PARAM carries integers in native byte order, DNSSEC and BIND files in big-endian:
 * copy `n` bytes of `in` to `out` reversing them on a little-endian host.
 */
static inline void ks_swap_order(const uint8_t *in, size_t n, uint8_t *out)
{
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	for (size_t i = 0; i < n; i++)
		out[i] = in[n - 1 - i];
#else
	memcpy(out, in, n);
#endif
}

/*
 * Read the unsigned integer parameter `name` (OSSL_PKEY_PARAM_RSA_N, ..._PRIV_KEY) of
 * `pkey` as big-endian bytes without leading zeros (at least one byte). Intermediate
 * buffers are wiped: this is used for private values too. -ENOBUFS if it exceeds `max`.
 */
int ks_pkey_get_uint(const EVP_PKEY *pkey, const char *name, uint8_t *out, size_t max,
		     size_t *ret_len, zk_error *reterr);

/* EVP_PKEY_fromdata() for `keytype` with the given selection and parameters. */
int ks_pkey_fromdata(const char *keytype, int selection, OSSL_PARAM params[], EVP_PKEY **ret,
		     zk_error *reterr);

/*
 * `zone` (any case, final dot optional, presentation escapes allowed) as an absolute
 * lowercase presentation name the caller frees. -EINVAL if it is not a domain name.
 */
int ks_zone_normalize(const char *zone, char **ret);

/* Case-insensitive equality of two normalized zone names. */
bool ks_zone_equal(const char *a, const char *b);

/*
 * Make a key from its parts: DNSKEY rdata (checked: protocol 3, zone flag, supported
 * algorithm, size), the key pair (taken on success and on failure: *pkey is set to NULL),
 * the owner zone and the role. Computes tag and basename. Does not run the self-test.
 */
int ks_key_assemble(const char *zone, const uint8_t *dnskey, size_t dnskey_len, ks_role role,
		    EVP_PKEY **pkey, ks_key **ret, zk_error *reterr);

/* The key tag the DNSKEY would have with the REVOKE flag set (RFC 5011 §2.1). */
uint16_t ks_keytag_revoked(const uint8_t *dnskey_rdata, size_t len);

/*
 * True if two keys cannot both be in a zone (invariant 17): same tag, or the tag of one
 * equals the revoked-variant tag of the other, or both revoked variants are equal. Knot's
 * keytag_conflict check, extended to revocation because RFC 5011 revokes keys in place.
 */
bool ks_tags_collide(uint16_t tag_a, uint16_t revoked_a, uint16_t tag_b, uint16_t revoked_b);

/* True if `k` collides with any of `keys[0..n)` (itself excluded when present). */
bool ks_key_collides(const ks_key *k, ks_key *const *keys, size_t n, const ks_key **ret_with);

/*
 * Key generator used by the store; ks_store_generate() passes a wrapper of
 * ks_key_generate(). Tests pass one that returns colliding keys to exercise the retry.
 */
typedef int (*ks_keygen_fn)(void *userdata, uint8_t algorithm, ks_role role, const char *zone,
			    zk_time_t now, ks_key **ret, zk_error *reterr);

int ks_store_generate_with(ks_store *s, uint8_t algorithm, ks_role role,
			   const ks_timing *timing, ks_keygen_fn gen, void *userdata,
			   ks_key **ret, zk_error *reterr);
