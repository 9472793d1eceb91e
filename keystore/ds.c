/* SPDX-License-Identifier: MIT */
/*
 * keystore/ds.c -- DS rdata from a DNSKEY (RFC 4034 §5.1.4, RFC 4509, RFC 6605 §2) and the
 * RFC 8078 §4 delete forms of CDS and CDNSKEY. Owns nothing: pure functions over buffers.
 */
#include <errno.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/evp.h>

#include "keystore/internal.h"
#include "keystore/keystore.h"
#include "policy/policy.h"

/* RFC 8078 §4: key tag 0, algorithm 0, digest type 0, one zero digest octet ("0 0 0 00"). */
const uint8_t ks_cds_delete_rdata[5] = { 0, 0, 0, 0, 0x00 };

/* RFC 8078 §4: flags 0, protocol 3, algorithm 0, one zero key octet ("0 3 0 AA=="). */
const uint8_t ks_cdnskey_delete_rdata[5] = { 0, 0, 3, 0, 0x00 };

/*
 * Copy a wire-format name into `out` in canonical form (RFC 4034 §6.2: ASCII letters
 * lowercased), checking that it is one well-formed absolute name of at most 255 octets.
 */
static int canonical_name(const uint8_t *name, size_t len, uint8_t *out)
{
	size_t i = 0;

	if (len == 0 || len > 255)
		return -EINVAL;
	while (i < len) {
		uint8_t l = name[i];

		out[i++] = l;
		if (l == 0)
			return i == len ? 0 : -EINVAL;
		if (l > 63 || l > len - i)
			return -EINVAL;
		for (size_t end = i + l; i < end; i++)
			out[i] = (name[i] >= 'A' && name[i] <= 'Z') ? name[i] + 32 : name[i];
	}
	return -EINVAL; /* no root label */
}

int ks_ds_rdata(const uint8_t *owner_wire, size_t owner_len, const uint8_t *dnskey_rdata,
		size_t dnskey_len, uint8_t digest_type, uint8_t *out, size_t out_max,
		zk_error *reterr)
{
	_cleanup_(EVP_MD_CTX_free_p) EVP_MD_CTX *ctx = NULL;
	_cleanup_(EVP_MD_free_p) EVP_MD *md = NULL;
	uint8_t owner[255];
	const char *name;
	unsigned dlen;
	uint16_t tag;
	size_t need;

	switch (digest_type) {
	case POL_DIGEST_SHA256:
		name = "SHA256";
		need = 32;
		break;
	case POL_DIGEST_SHA384: /* RFC 6605 §2 */
		name = "SHA384";
		need = 48;
		break;
	case 1:
		return zk_fail(reterr, ZK_E_UNSUPPORTED,
			       "SHA-1 DS digests are never generated (RFC 8624)");
	default:
		return zk_fail(reterr, ZK_E_UNSUPPORTED, "DS digest type %u is not supported",
			       digest_type);
	}
	if (dnskey_len < 4)
		return zk_fail(reterr, ZK_E_KEY, "DNSKEY rdata is too short (%zu bytes)",
			       dnskey_len);
	if (canonical_name(owner_wire, owner_len, owner) < 0)
		return zk_fail(reterr, -EINVAL, "DS owner is not a wire-format domain name");
	if (out_max < 4 + need)
		return zk_fail(reterr, -ENOBUFS, "DS rdata needs %zu bytes", 4 + need);

	md = EVP_MD_fetch(NULL, name, NULL);
	ctx = EVP_MD_CTX_new();
	if (!md || !ctx)
		return ks_ossl_fail(reterr, ZK_E_CRYPTO, "cannot set up %s", name);
	/* RFC 4034 §5.1.4: digest = hash(canonical owner name | DNSKEY RDATA). */
	if (EVP_DigestInit_ex2(ctx, md, NULL) != 1 ||
	    EVP_DigestUpdate(ctx, owner, owner_len) != 1 ||
	    EVP_DigestUpdate(ctx, dnskey_rdata, dnskey_len) != 1 ||
	    EVP_DigestFinal_ex(ctx, out + 4, &dlen) != 1 || dlen != need)
		return ks_ossl_fail(reterr, ZK_E_CRYPTO, "%s failed", name);

	tag = ks_keytag(dnskey_rdata, dnskey_len);
	out[0] = (uint8_t) (tag >> 8);
	out[1] = (uint8_t) tag;
	out[2] = dnskey_rdata[3]; /* algorithm */
	out[3] = digest_type;
	return (int) (4 + need);
}
