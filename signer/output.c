/* SPDX-License-Identifier: MIT */
/*
 * signer/output.c -- the signed zone as text. See output.h.
 *
 * The owner name is formatted once per name, not once per line; records are formatted
 * into a large buffer handed to the sink when nearly full.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/zk-macro.h"
#include "signer/output.h"
#include "signer/rdata.h"

#define OUT_BUF (4u << 20)
#define RECORD_MAX (DN_TEXTMAX + 4u * 65535u + 1024u)

typedef struct writer {
	char *buf;
	size_t len;
	sgn_sink sink;
	void *userdata;
	int error;
} writer;

static void flush(writer *w)
{
	if (w->len && !w->error)
		w->error = w->sink(w->userdata, w->buf, w->len);
	w->len = 0;
}

static char *reserve(writer *w, size_t n)
{
	if (w->len + n > OUT_BUF + RECORD_MAX)
		flush(w);
	return w->buf + w->len;
}

static size_t u32_text(uint32_t v, char *out)
{
	char tmp[12];
	size_t n = 0, i = 0;

	do {
		tmp[n++] = (char) ('0' + v % 10);
		v /= 10;
	} while (v);
	while (n)
		out[i++] = tmp[--n];
	return i;
}

int sgn_format_rr(const char *owner_text, uint16_t type, uint32_t ttl, const uint8_t *rd,
		  uint16_t len, char *out)
{
	char tb[16];
	const char *tname = sgn_type_name(type, tb);
	size_t o = strlen(owner_text), tl = strlen(tname);
	int r;

	memcpy(out, owner_text, o);
	out[o++] = '\t';
	o += u32_text(ttl, out + o);
	memcpy(out + o, "\tIN\t", 4);
	o += 4;
	memcpy(out + o, tname, tl);
	o += tl;
	out[o++] = '\t';
	r = sgn_rdata_format(type, rd, len, out + o);
	if (r < 0)
		return r;
	o += (size_t) r;
	out[o++] = '\n';
	return (int) o;
}

static int write_rrset(writer *w, const char *owner, size_t owner_len, const sgn_rrset *s)
{
	const uint8_t *p = s->rdata, *end = s->rdata + s->rdata_len;
	(void) owner_len;

	while (p < end) {
		uint16_t len = blob_len(p);
		int n = sgn_format_rr(owner, s->type, s->ttl, p + 2, len, reserve(w, RECORD_MAX));

		if (n < 0)
			return n;
		w->len += (size_t) n;
		p += 2u + len;
	}
	p = s->sigs;
	end = s->sigs + s->sigs_len;
	while (p && p < end) {
		uint16_t len = blob_len(p);
		int n = sgn_format_rr(owner, T_RRSIG, s->ttl, p + 2, len, reserve(w, RECORD_MAX));

		if (n < 0)
			return n;
		w->len += (size_t) n;
		p += 2u + len;
	}
	return 0;
}

/* Sort key of the NSEC3 owner <base32hex(hash)>.<apex> (no octet needs escaping). */
static size_t n3_key(const sgn_zone *z, const sgn_n3 *e, const sgn_node *apex, uint8_t *key,
		     char *label)
{
	size_t l = dn_base32hex(e->hash, e->hash_len, label);

	memcpy(key, apex->key, apex->key_len);
	memcpy(key + apex->key_len, label, l);
	key[apex->key_len + l] = 0;
	(void) z;
	return apex->key_len + l + 1;
}

static int key_cmp(const uint8_t *a, size_t al, const uint8_t *b, size_t bl)
{
	int c = memcmp(a, b, al < bl ? al : bl);

	return c ? c : (al < bl ? -1 : al > bl);
}

int sgn_zone_write(const sgn_zone *z, const char *header, sgn_sink sink, void *userdata,
		   zk_error *reterr)
{
	writer w = { .sink = sink, .userdata = userdata };
	char owner[DN_TEXTMAX + 64];
	size_t j = 0;
	int r = 0;

	w.buf = malloc(OUT_BUF + RECORD_MAX);
	if (!w.buf)
		return zk_fail(reterr, -ENOMEM, "out of memory");
	if (header)
		w.len = (size_t) snprintf(w.buf, 1024, "; %s\n", header);
	for (size_t i = 0; i <= z->n_nodes && r == 0 && !w.error; i++) {
		const sgn_node *n = i < z->n_nodes ? z->nodes[i] : NULL;
		size_t ol;

		/* NSEC3 records whose owner sorts before this node */
		while (z->apex_node && j < z->n_n3 && r == 0) {
			uint8_t key[DN_KEYMAX];
			char label[64];
			size_t kl = n3_key(z, &z->n3[j], z->apex_node, key, label);

			if (n && key_cmp(key, kl, n->key, n->key_len) > 0)
				break;
			snprintf(owner, sizeof(owner), "%s.%s", label,
				 z->apex_len > 1 ? z->apex_text : "");
			r = write_rrset(&w, owner, strlen(owner), &z->n3[j].rr);
			j++;
		}
		if (!n || r)
			break;
		if (n->n_rrsets == 0 && !n->nsec)
			continue;
		ol = dn_to_text(n->name, owner);
		for (uint16_t k = 0; k < n->n_rrsets && r == 0; k++)
			r = write_rrset(&w, owner, ol, &n->rrsets[k]);
		if (n->nsec && r == 0)
			r = write_rrset(&w, owner, ol, n->nsec);
	}
	if (r == 0)
		flush(&w);
	free(w.buf);
	if (r < 0)
		return zk_fail(reterr, ZK_E_SELF_CHECK, "a record of the zone cannot be formatted");
	if (w.error)
		return zk_fail(reterr, w.error, "cannot write the zone");
	return 0;
}
