/* SPDX-License-Identifier: MIT */
/*
 * signer/parent.c -- DS at the parental agents. See parent.h.
 *
 * One ldns resolver per agent and per call (so no state, such as ldns marking a
 * nameserver unreachable, leaks from one agent or one call into the next). The DS each
 * key would have is computed once, for every digest type we match (1, 2, 4), and compared
 * byte for byte with the rdata of every DS the agent serves at the zone's name: equal
 * rdata means equal key tag, algorithm, digest type and digest.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include <ldns/ldns.h>
#include <openssl/evp.h>

#include "keystore/keystore.h"
#include "policy/zk-macro.h"
#include "signer/dname.h"
#include "signer/parent.h"

#define DS_SHA1 1   /* RFC 3658 */
#define DS_SHA256 2 /* RFC 4509 */
#define DS_SHA384 4 /* RFC 6605 §2 */
#define SHA1_LEN 20

/* ldns counts tries, not retries: a first try and one retry. */
#define TRIES 2

static const uint8_t digest_types[] = { DS_SHA1, DS_SHA256, DS_SHA384 };
#define N_DIGESTS ZK_ELEMENTSOF(digest_types)

/* The DS rdata a key would have, one per digest type we compute. */
typedef struct key_ds {
	uint8_t rdata[N_DIGESTS][KS_DS_MAX];
	size_t len[N_DIGESTS];
} key_ds;

ZK_DEFINE_PTR_CLEANUP(ldns_rdf *, ldns_rdf_deep_free)
ZK_DEFINE_PTR_CLEANUP(ldns_pkt *, ldns_pkt_free)
ZK_DEFINE_PTR_CLEANUP(ldns_resolver *, ldns_resolver_deep_free)
ZK_DEFINE_PTR_CLEANUP(EVP_MD_CTX *, EVP_MD_CTX_free)
ZK_DEFINE_PTR_CLEANUP(EVP_MD *, EVP_MD_free)

static const char *const seen_names[_SGN_DS_SEEN_MAX] = {
	[SGN_DS_UNKNOWN] = "unknown",
	[SGN_DS_PUBLISHED] = "published",
	[SGN_DS_ABSENT] = "absent",
	[SGN_DS_MIXED] = "mixed",
};

const char *sgn_ds_seen_name(sgn_ds_seen s)
{
	return (unsigned) s < _SGN_DS_SEEN_MAX ? seen_names[s] : "invalid";
}

/*
 * SHA-1 DS rdata (RFC 3658, RFC 4034 §5.1.4: digest = SHA-1(owner | DNSKEY rdata)).
 * keystore never makes one (RFC 8624), but a parent may still serve it, and an old key
 * whose only DS is SHA-1 must not look "absent" because we could not compute it.
 */
static int ds_sha1(const uint8_t *owner, size_t owner_len, const uint8_t *dnskey,
		   size_t dnskey_len, uint8_t *out, zk_error *reterr)
{
	_cleanup_(EVP_MD_CTX_free_p) EVP_MD_CTX *ctx = NULL;
	_cleanup_(EVP_MD_free_p) EVP_MD *md = NULL;
	uint16_t tag = ks_keytag(dnskey, dnskey_len);
	unsigned dlen = 0;

	md = EVP_MD_fetch(NULL, "SHA1", NULL);
	ctx = EVP_MD_CTX_new();
	if (!md || !ctx || EVP_DigestInit_ex2(ctx, md, NULL) != 1 ||
	    EVP_DigestUpdate(ctx, owner, owner_len) != 1 ||
	    EVP_DigestUpdate(ctx, dnskey, dnskey_len) != 1 ||
	    EVP_DigestFinal_ex(ctx, out + 4, &dlen) != 1 || dlen != SHA1_LEN)
		return zk_fail(reterr, ZK_E_CRYPTO, "cannot compute a SHA-1 DS digest");
	out[0] = (uint8_t) (tag >> 8);
	out[1] = (uint8_t) tag;
	out[2] = dnskey[3]; /* algorithm */
	out[3] = DS_SHA1;
	return 4 + SHA1_LEN;
}

static int key_ds_make(const uint8_t *owner, size_t owner_len, const uint8_t *dnskey,
		       size_t dnskey_len, size_t i, key_ds *ret, zk_error *reterr)
{
	int r;

	if (!dnskey || dnskey_len < 4)
		return zk_fail(reterr, ZK_E_KEY, "DNSKEY %zu: rdata is too short (%zu bytes)", i,
			       dnskey ? dnskey_len : 0);
	for (size_t d = 0; d < N_DIGESTS; d++) {
		if (digest_types[d] == DS_SHA1)
			r = ds_sha1(owner, owner_len, dnskey, dnskey_len, ret->rdata[d], reterr);
		else
			r = ks_ds_rdata(owner, owner_len, dnskey, dnskey_len, digest_types[d],
					ret->rdata[d], sizeof(ret->rdata[d]), reterr);
		if (r < 0) {
			zk_error_prefix(reterr, "DNSKEY %zu", i);
			return r;
		}
		ret->len[d] = (size_t) r;
	}
	return 0;
}

/* The agent's address as an A or AAAA rdf (what ldns wants for a nameserver). */
static int agent_address(const pol_notify_target *a, const char *label, ldns_rdf **ret,
			 zk_error *reterr)
{
	struct in6_addr a6;
	struct in_addr a4;
	ldns_rdf *rdf = NULL;

	if (!a->address)
		return zk_fail(reterr, ZK_E_CONFIG, "parental agent without an address");
	if (inet_pton(AF_INET, a->address, &a4) == 1)
		rdf = ldns_rdf_new_frm_data(LDNS_RDF_TYPE_A, sizeof(a4), &a4);
	else if (inet_pton(AF_INET6, a->address, &a6) == 1)
		rdf = ldns_rdf_new_frm_data(LDNS_RDF_TYPE_AAAA, sizeof(a6), &a6);
	else
		return zk_fail(reterr, ZK_E_CONFIG,
			       "parental agent %s: not a numeric IPv4 or IPv6 address", label);
	if (!rdf)
		return zk_fail(reterr, -ENOMEM, "parental agent %s", label);
	*ret = rdf;
	return 0;
}

/* Why ldns_resolver_send_pkt() failed, for a person. */
static int send_failed(ldns_status st, const char *label, unsigned timeout_ms,
		       zk_error *reterr)
{
	switch (st) {
	case LDNS_STATUS_OK: /* OK without a packet */
	case LDNS_STATUS_ERR:
	case LDNS_STATUS_NETWORK_ERR:
	case LDNS_STATUS_RES_NO_NS:
		return zk_fail(reterr, ZK_E_UNAVAILABLE,
			       "parental agent %s: no answer within %u ms", label, timeout_ms);
	case LDNS_STATUS_SOCKET_ERROR:
		return zk_fail(reterr, ZK_E_UNAVAILABLE,
			       "parental agent %s: cannot send the query (%s)", label,
			       ldns_get_errorstr_by_id(st));
	case LDNS_STATUS_MEM_ERR:
		return zk_fail(reterr, -ENOMEM, "parental agent %s", label);
	default:
		return zk_fail(reterr, ZK_E_UNAVAILABLE, "parental agent %s: malformed answer (%s)",
			       label, ldns_get_errorstr_by_id(st));
	}
}

/*
 * Is `ans` a usable answer to our query `id` for `apex` DS? Checks in the order that gives
 * the most useful message: ours at all, then the RCODE (servers may drop the question from
 * a REFUSED), then the question, then TC and AA.
 */
static int answer_check(const ldns_pkt *ans, uint16_t id, const ldns_rdf *apex,
			const char *label, zk_error *reterr)
{
	const ldns_rr_list *auth = ldns_pkt_authority(ans);
	const ldns_rr *q;
	ldns_pkt_rcode rcode = ldns_pkt_get_rcode(ans);

	if (ldns_pkt_id(ans) != id || !ldns_pkt_qr(ans) ||
	    ldns_pkt_get_opcode(ans) != LDNS_PACKET_QUERY)
		return zk_fail(reterr, ZK_E_UNAVAILABLE,
			       "parental agent %s: the answer is not a response to our query",
			       label);
	if (rcode != LDNS_RCODE_NOERROR && rcode != LDNS_RCODE_NXDOMAIN) {
		const ldns_lookup_table *lt = ldns_lookup_by_id(ldns_rcodes, (int) rcode);

		if (lt)
			return zk_fail(reterr, ZK_E_UNAVAILABLE, "parental agent %s: answered %s",
				       label, lt->name);
		return zk_fail(reterr, ZK_E_UNAVAILABLE, "parental agent %s: answered RCODE %u",
			       label, (unsigned) rcode);
	}
	q = ldns_pkt_question(ans) ? ldns_rr_list_rr(ldns_pkt_question(ans), 0) : NULL;
	if (ldns_pkt_qdcount(ans) != 1 || !q || ldns_rr_get_type(q) != LDNS_RR_TYPE_DS ||
	    ldns_rr_get_class(q) != LDNS_RR_CLASS_IN ||
	    ldns_dname_compare(ldns_rr_owner(q), apex) != 0)
		return zk_fail(reterr, ZK_E_UNAVAILABLE,
			       "parental agent %s: the answer is for another question", label);
	if (ldns_pkt_tc(ans))
		return zk_fail(reterr, ZK_E_UNAVAILABLE,
			       "parental agent %s: the answer is truncated even over TCP", label);
	if (!ldns_pkt_aa(ans))
		return zk_fail(reterr, ZK_E_UNAVAILABLE,
			       "parental agent %s: the answer is not authoritative (AA=0): "
			       "not a server of the parent zone",
			       label);
	/* RFC 4035 §3.1.4.1: DS is answered from the parent side, so a SOA of the zone itself
	 * means we asked the child's servers, whose "no DS" says nothing about the parent. */
	for (size_t i = 0; auth && i < ldns_rr_list_rr_count(auth); i++) {
		const ldns_rr *rr = ldns_rr_list_rr(auth, i);

		if (ldns_rr_get_type(rr) == LDNS_RR_TYPE_SOA &&
		    ldns_dname_compare(ldns_rr_owner(rr), apex) == 0)
			return zk_fail(reterr, ZK_E_UNAVAILABLE,
				       "parental agent %s: answered with the zone's own SOA: "
				       "a server of the zone, not of its parent",
				       label);
	}
	return 0;
}

/* The rdata of `rr` in wire form (DS has no names, so it is the rdfs end to end). */
static size_t rr_rdata(const ldns_rr *rr, uint8_t *out, size_t max)
{
	size_t len = 0;

	for (size_t i = 0; i < ldns_rr_rd_count(rr); i++) {
		const ldns_rdf *rdf = ldns_rr_rdf(rr, i);
		size_t n = rdf ? ldns_rdf_size(rdf) : 0;

		if (n > max - len)
			return 0; /* longer than any DS we compute: matches nothing */
		if (n)
			memcpy(out + len, ldns_rdf_data(rdf), n);
		len += n;
	}
	return len;
}

/* True if the answer section holds a DS of `apex` equal to one of the key's forms. */
static bool answer_has(const ldns_pkt *ans, const ldns_rdf *apex, const key_ds *k)
{
	const ldns_rr_list *an = ldns_pkt_answer(ans);

	for (size_t i = 0; an && i < ldns_rr_list_rr_count(an); i++) {
		const ldns_rr *rr = ldns_rr_list_rr(an, i);
		uint8_t rdata[KS_DS_MAX];
		size_t len;

		if (ldns_rr_get_type(rr) != LDNS_RR_TYPE_DS ||
		    ldns_rr_get_class(rr) != LDNS_RR_CLASS_IN ||
		    ldns_dname_compare(ldns_rr_owner(rr), apex) != 0)
			continue;
		len = rr_rdata(rr, rdata, sizeof(rdata));
		for (size_t d = 0; len && d < N_DIGESTS; d++)
			if (len == k->len[d] && memcmp(rdata, k->rdata[d], len) == 0)
				return true;
	}
	return false;
}

/* Ask one agent; on success add 1 to hits[k] for each key whose DS it serves. */
static int agent_ask(const pol_notify_target *a, const ldns_rdf *apex, const key_ds *keys,
		     size_t n_keys, unsigned timeout_ms, size_t *hits, zk_error *reterr)
{
	_cleanup_(ldns_resolver_deep_free_p) ldns_resolver *res = NULL;
	_cleanup_(ldns_rdf_deep_free_p) ldns_rdf *ns = NULL;
	_cleanup_(ldns_pkt_free_p) ldns_pkt *query = NULL;
	_cleanup_(ldns_pkt_free_p) ldns_pkt *ans = NULL;
	struct timeval tv = {
		.tv_sec = timeout_ms / 1000,
		.tv_usec = (suseconds_t) (timeout_ms % 1000) * 1000,
	};
	uint16_t port = a->port ? a->port : LDNS_PORT;
	ldns_rdf *qname;
	ldns_status st;
	char label[300];
	int r;

	snprintf(label, sizeof(label), "%s@%u", a->address ? a->address : "?", port);
	r = agent_address(a, label, &ns, reterr);
	if (r < 0)
		return r;

	res = ldns_resolver_new();
	qname = ldns_rdf_clone(apex);
	if (!res || !qname) {
		ldns_rdf_deep_free(qname);
		return zk_fail(reterr, -ENOMEM, "parental agent %s", label);
	}
	query = ldns_pkt_query_new(qname, LDNS_RR_TYPE_DS, LDNS_RR_CLASS_IN, 0); /* takes qname */
	if (!query || ldns_resolver_push_nameserver(res, ns) != LDNS_STATUS_OK)
		return zk_fail(reterr, -ENOMEM, "parental agent %s", label);
	ldns_resolver_set_port(res, port);
	ldns_resolver_set_recursive(res, false);
	ldns_resolver_set_timeout(res, tv);
	ldns_resolver_set_retry(res, TRIES);
	ldns_resolver_set_retrans(res, 0); /* no sleep between tries */
	ldns_resolver_set_fallback(res, true); /* TC: EDNS, then TCP */
	ldns_resolver_set_igntc(res, false);
	ldns_resolver_set_usevc(res, false);
	ldns_resolver_set_random(res, false);
	ldns_resolver_set_dnssec(res, false); /* DS comes without DO; no RRSIGs to carry */

	ldns_pkt_set_rd(query, false);
	ldns_pkt_set_random_id(query);
	st = ldns_resolver_send_pkt(&ans, res, query);
	if (st != LDNS_STATUS_OK || !ans)
		return send_failed(st, label, timeout_ms, reterr);
	r = answer_check(ans, ldns_pkt_id(query), apex, label, reterr);
	if (r < 0)
		return r;
	for (size_t k = 0; k < n_keys; k++)
		if (answer_has(ans, apex, &keys[k]))
			hits[k]++;
	return 0;
}

/* Every agent, none, or some of them serve the key's DS. */
static sgn_ds_seen verdict(size_t hits, size_t n_agents)
{
	if (hits == n_agents)
		return SGN_DS_PUBLISHED;
	return hits == 0 ? SGN_DS_ABSENT : SGN_DS_MIXED;
}

int sgn_parent_ds_check(const char *zone, const pol_notify_target *agents, size_t n_agents,
			const uint8_t *const *dnskeys, const size_t *dnskey_lens, size_t n_keys,
			unsigned timeout_ms, sgn_ds_seen *ret_seen, zk_error *reterr)
{
	_cleanup_(ldns_rdf_deep_free_p) ldns_rdf *apex = NULL;
	_cleanup_free_ key_ds *keys = NULL;
	_cleanup_free_ size_t *hits = NULL;
	uint8_t owner[DN_MAXLEN];
	int r;

	if (n_keys && !ret_seen)
		return zk_fail(reterr, -EINVAL, "no room for the results");
	for (size_t k = 0; k < n_keys; k++)
		ret_seen[k] = SGN_DS_UNKNOWN;
	if (n_keys && (!dnskeys || !dnskey_lens))
		return zk_fail(reterr, -EINVAL, "no DNSKEYs given");
	if (!zone)
		return zk_fail(reterr, -EINVAL, "no zone given");
	if (n_agents == 0 || !agents)
		return zk_fail(reterr, ZK_E_CONFIG,
			       "zone %s: no parental agents to ask for its DS", zone);
	if (timeout_ms == 0)
		return zk_fail(reterr, -EINVAL, "zone %s: a DS query timeout of 0 ms", zone);

	r = dn_from_text(zone, strlen(zone), NULL, owner);
	if (r < 0)
		return zk_fail(reterr, -EINVAL, "\"%s\" is not an absolute domain name", zone);
	if (r == 1)
		return zk_fail(reterr, -EINVAL, "the root zone has no parent to ask for a DS");
	dn_lower(owner);
	apex = ldns_rdf_new_frm_data(LDNS_RDF_TYPE_DNAME, (size_t) r, owner);
	keys = calloc(n_keys ? n_keys : 1, sizeof(*keys));
	hits = calloc(n_keys ? n_keys : 1, sizeof(*hits));
	if (!apex || !keys || !hits)
		return zk_fail(reterr, -ENOMEM, "zone %s: DS check", zone);

	for (size_t k = 0; k < n_keys; k++) {
		r = key_ds_make(owner, ldns_rdf_size(apex), dnskeys[k], dnskey_lens[k], k,
				&keys[k], reterr);
		if (r < 0)
			return r;
	}

	/* Stop at the first agent without a usable answer: the result is "unknown" anyway,
	 * and the remaining agents need not cost their timeouts too. */
	for (size_t i = 0; i < n_agents; i++) {
		r = agent_ask(&agents[i], apex, keys, n_keys, timeout_ms, hits, reterr);
		if (r < 0)
			return r;
	}

	for (size_t k = 0; k < n_keys; k++)
		ret_seen[k] = verdict(hits[k], n_agents);
	return 0;
}
