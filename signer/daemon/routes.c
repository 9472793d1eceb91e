/* SPDX-License-Identifier: MIT */
/*
 * signer/daemon/routes.c -- the endpoints of the record API (doc/api.md): routing,
 * record writes checked against the record rules before they reach the journal, listings, keys,
 * DS, import and /metrics. Runs on the loop thread; a write is handed to the write
 * pipeline (writes_submit in writes.c), which answers once it is durable.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "keystore/keystore.h"
#include "policy/zk-codec.h"
#include "policy/zk-macro.h"
#include "signer/daemon/internal.h"
#include "signer/daemon/log.h"
#include "signer/keyview.h"
#include "signer/load.h"
#include "signer/rdata.h"

#define DEFAULT_TTL 3600

const double latency_bounds[LATENCY_BUCKETS] = { 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
						  1, 2.5, 5, 10, 30 };

static int fail_reply(api_req *req, int code, const zk_error *e)
{
	api_reply_error(req, code, e);
	return API_DONE;
}

static int ok_reply(api_req *req, unsigned status, json_t *j)
{
	api_reply_json(req, status, j);
	return API_DONE;
}

static json_t *record_json(const uint8_t *owner, uint16_t type, uint32_t ttl,
			   const uint8_t *rdata, uint16_t rdlen, bool system)
{
	rec_rr rr = { .type = type, .rdlen = rdlen, .rdata = (uint8_t *) (uintptr_t) rdata };
	char id[17], name[DN_TEXTMAX], tbuf[16];
	char *content = malloc(sgn_rdata_format_max(rdlen) + 1);
	json_t *j;
	int n;

	if (!content)
		return NULL;
	memcpy(rr.owner, owner, dn_len(owner));
	n = rec_rr_content(&rr, content);
	if (n < 0)
		n = 0;
	content[n] = '\0';
	rec_id_format(rec_id(owner, type, rdata, rdlen), id);
	dn_to_text(owner, name);
	j = json_pack("{s:s,s:s,s:s,s:s,s:I,s:b}", "id", id, "name", name, "type",
		      sgn_type_name(type, tbuf), "content", content, "ttl", (json_int_t) ttl,
		      "system", system);
	free(content);
	return j;
}

static json_t *rr_json(const rec_rr *rr, bool system)
{
	return record_json(rr->owner, rr->type, rr->ttl, rr->rdata, rr->rdlen, system);
}

/* ---------------------------------------------------------------- checks */

static int zone_apex(const dzone *z, uint8_t *apex)
{
	return dn_from_text(z->name, strlen(z->name), NULL, apex) < 0 ? -EINVAL : 0;
}

/* Writes need the journal and the index (the zone loaded once); *apex: the zone's apex. */
static int writable(const dzone *z, uint8_t *apex, zk_error *e)
{
	if (zone_apex(z, apex) < 0)
		return zk_fail(e, -EINVAL, "bad zone name %s", z->name);
	if (z->delete_req)
		return zk_fail(e, ZK_E_CONFLICT, "%s is being deleted", z->name);
	if (!z->journal)
		return zk_fail(e, ZK_E_UNAVAILABLE, "the journal of %s cannot be written (see the "
			       "daemon's log); writes are refused", z->name);
	if (!z->recs)
		return zk_fail(e, ZK_E_UNAVAILABLE, "%s is not loaded yet%s%s", z->name,
			       z->last_code ? ": " : "", z->last_code ? z->last_error.message : "");
	return 0;
}

/* The record rules (policy/rules.c, invariant 19), against the zone's index. */
static int check_rules(const dzone *z, const uint8_t *apex_wire, pol_op op, const rec_rr *old,
		       const rec_rr *new, zk_error *e)
{
	ldns_rdf *apex = ldns_dname_new_frm_data((uint16_t) dn_len(apex_wire), apex_wire);
	ldns_rr *o = old ? rec_rr_to_ldns(old) : NULL, *n = new ? rec_rr_to_ldns(new) : NULL;
	pol_zone_view v;
	pol_change c = { .op = op, .old_rr = o, .new_rr = n };
	int r;

	if (!apex || (old && !o) || (new && !n))
		r = zk_fail(e, -ENOMEM, "out of memory");
	else {
		rec_set_view(z->recs, &v, apex);
		v.policy = z->cfg->policy;
		r = pol_rule_check(&v, &c, e);
	}
	ldns_rr_free(o);
	ldns_rr_free(n);
	ldns_rdf_deep_free(apex);
	return r;
}

/*
 * A proposed record from the body's fields (`base` fills what a PUT leaves out). Protected
 * types and names outside the zone are refused before the content is looked at, so the
 * answer does not depend on how well-formed the content of a forbidden write is.
 */
static int build_record(const dzone *z, const uint8_t *apex, const rec_body *b,
			const rec_rr *base, rec_rr *out, zk_error *e)
{
	uint32_t ttl;
	int r;

	memset(out, 0, sizeof(*out));
	if (b->name)
		r = rec_parse_name(b->name, apex, out->owner, e);
	else
		r = (memcpy(out->owner, base->owner, dn_len(base->owner)), 0);
	if (r >= 0)
		r = b->type ? rec_parse_type(b->type, &out->type, e) : (out->type = base->type, 0);
	if (r < 0)
		return r;
	if (b->has_ttl)
		out->ttl = b->ttl;
	else if (base && base->type == out->type && dn_equal(base->owner, out->owner))
		out->ttl = base->ttl;
	else
		out->ttl = rec_set_rrset_ttl(z->recs, out->owner, out->type, &ttl) ? ttl : DEFAULT_TTL;
	/* the apex NS RRset is the platform's, and so is its TTL (see apex_ns_note) */
	if (out->type == T_NS && dn_equal(out->owner, apex))
		out->ttl = z->cfg->policy->soa.ttl;
	if (out->type == T_SOA || pol_type_is_dnssec(out->type) ||
	    !dn_is_at_or_below(out->owner, apex) ||
	    (out->type == T_CNAME && dn_equal(out->owner, apex))) {
		r = check_rules(z, apex, base ? POL_OP_UPDATE : POL_OP_ADD, base, out, e);
		if (r < 0)
			return r;
	}
	if (b->content)
		return rec_parse_content(out, apex, b->content, e);
	if (!base || base->type != out->type)
		return zk_fail(e, ZK_E_INVALID_RECORD, "content is needed when the type changes");
	out->rdlen = base->rdlen;
	out->rdata = malloc(base->rdlen ? base->rdlen : 1);
	if (!out->rdata)
		return zk_fail(e, -ENOMEM, "out of memory");
	memcpy(out->rdata, base->rdata, base->rdlen);
	return 0;
}

/* What a reply says about a user apex NS record's TTL (doc/api.md). */
static void apex_ns_note(json_t *reply, const dzone *z, const uint8_t *apex, const rec_rr *rr)
{
	char note[256];

	if (rr->type != T_NS || !dn_equal(rr->owner, apex))
		return;
	snprintf(note, sizeof(note),
		 "apex NS records join the platform nameservers' RRset and take its TTL, %u s "
		 "(the policy's SOA TTL); a TTL given for them is not used",
		 z->cfg->policy->soa.ttl);
	json_object_set_new(reply, "note", json_string(note));
}

/* The record with this id: a user record (copied into *ret) or a system one. */
static int find_record(const dzone *z, const char *id_text, rec_rr *ret, bool *ret_system,
		       zk_error *e)
{
	rec_entry ent;
	uint64_t id;
	size_t n_sys = 0;
	int r;

	if (rec_id_parse(id_text, &id) < 0)
		return zk_fail(e, ZK_E_RECORD_NOT_FOUND, "no record with id '%.32s' in %s "
			       "(ids are 16 hex digits)", id_text, z->name);
	for (size_t i = 0; i < z->n_sys; i++)
		n_sys += rec_rr_id(&z->sys[i]) == id;
	/* ids are 64 bits of a hash: two records can share one, and then it names neither */
	r = rec_set_lookup(z->recs, id, &ent);
	if (r == -ENOTUNIQ || (r == 0 && n_sys) || n_sys > 1)
		return zk_fail(e, ZK_E_CONFLICT, "ambiguous record id %s: more than one record "
			       "of %s has it; change or delete them with an import", id_text,
			       z->name);
	if (r == 0) {
		rec_rr src = { .type = ent.type, .ttl = ent.ttl, .rdlen = ent.rdlen,
			       .rdata = (uint8_t *) (uintptr_t) ent.rdata };

		memcpy(src.owner, ent.owner, dn_len(ent.owner));
		*ret_system = false;
		return rec_rr_copy(ret, &src) < 0 ? zk_fail(e, -ENOMEM, "out of memory") : 0;
	}
	for (size_t i = 0; i < z->n_sys; i++)
		if (rec_rr_id(&z->sys[i]) == id) {
			*ret_system = true;
			return rec_rr_copy(ret, &z->sys[i]) < 0 ? zk_fail(e, -ENOMEM, "out of memory")
								 : 0;
		}
	return zk_fail(e, ZK_E_RECORD_NOT_FOUND, "no record with id %s in %s", id_text, z->name);
}

/*
 * A write may not give a record the id of a different one (a hash collision, 2^32 work to
 * find): the id would then name neither, and the other record could not be changed.
 */
static int id_unique(const dzone *z, const rec_rr *rr, zk_error *e)
{
	uint64_t id = rec_rr_id(rr);
	rec_entry other;
	char text[17], name[DN_TEXTMAX], tbuf[16];

	if (rec_set_find(z->recs, rr->owner, rr->type, rr->rdata, rr->rdlen, NULL))
		return 0; /* that very record */
	if (!rec_set_get(z->recs, id, &other)) {
		other.owner = NULL;
		for (size_t i = 0; i < z->n_sys && !other.owner; i++)
			if (rec_rr_id(&z->sys[i]) == id)
				other = (rec_entry) { .owner = z->sys[i].owner, .type = z->sys[i].type };
		if (!other.owner)
			return 0;
	}
	rec_id_format(id, text);
	dn_to_text(other.owner, name);
	return zk_fail(e, ZK_E_CONFLICT, "ambiguous record id %s: the record's id is that of "
		       "another record (%s %s); two records cannot share an id", text, name,
		       sgn_type_name(other.type, tbuf));
}

static void log_write(const dzone *z, api_req *req, const char *what, const rec_rr *rr)
{
	dlog_fields f = { .zone = z->name, .signatures = -1 };
	char name[DN_TEXTMAX], tbuf[16];

	dn_to_text(rr->owner, name);
	dlog(ZK_LOG_INFO, &f, "record API: %s %s %s by %s", what, name,
	     sgn_type_name(rr->type, tbuf), api_req_peer(req));
}

static bool query_true(api_req *req, const char *key)
{
	const char *v = api_req_query(req, key);

	return v && (!strcmp(v, "true") || !strcmp(v, "1"));
}

static bool want_wait(api_req *req)
{
	const char *w = api_req_query(req, "wait");

	return w && !strcmp(w, "published");
}

static rec_op *make_ops(size_t n)
{
	return calloc(n ? n : 1, sizeof(rec_op));
}

/* ---------------------------------------------------------------- record endpoints */

/*
 * A listing: the records copied on the loop thread (O(n)), sorted and formatted into the
 * reply on a worker: that is what takes long for a large zone (seconds for 200k records),
 * and the loop must keep answering meanwhile.
 */
typedef struct list_work {
	api_req *req;
	rec_rr *sys, *user;       /* copies: the system records first, then the user's */
	size_t n_sys, n_user;
	char *body;
} list_work;

static void list_work_free(list_work *w)
{
	rec_rrs_free(w->sys, w->n_sys);
	rec_rrs_free(w->user, w->n_user);
	free(w->body);
	free(w);
}

static void list_format(void *arg)
{
	list_work *w = arg;
	json_t *arr = json_array(), *j;

	rec_rrs_sort(w->user, w->n_user);
	for (size_t i = 0; arr && i < w->n_sys; i++)
		json_array_append_new(arr, rr_json(&w->sys[i], true));
	for (size_t i = 0; arr && i < w->n_user; i++)
		json_array_append_new(arr, rr_json(&w->user[i], false));
	j = arr ? json_pack("{s:s,s:o}", "status", "ok", "records", arr) : NULL;
	w->body = j ? json_dumps(j, JSON_COMPACT) : NULL;
	json_decref(j);
}

static void list_reply(void *arg)
{
	list_work *w = arg;

	if (w->body)
		api_reply_text(w->req, 200, "application/json", w->body);
	else
		api_reply_error(w->req, -ENOMEM, NULL);
	w->body = NULL;
	list_work_free(w);
}

static int do_list(dzone *z, api_req *req)
{
	const char *qname = api_req_query(req, "name"), *qtype = api_req_query(req, "type");
	uint8_t apex[DN_MAXLEN], owner[DN_MAXLEN];
	uint16_t type = 0;
	zk_error e = { 0 };
	list_work *w;
	int r;

	if (!z->recs)
		return fail_reply(req, writable(z, apex, &e), &e);
	if (zone_apex(z, apex) < 0)
		return fail_reply(req, -EINVAL, NULL);
	if ((qname && (r = rec_parse_name(qname, apex, owner, &e)) < 0) ||
	    (qtype && (r = rec_parse_type(qtype, &type, &e)) < 0))
		return fail_reply(req, r, &e);
	w = calloc(1, sizeof(*w));
	if (!w || !(w->sys = calloc(z->n_sys + 1, sizeof(*w->sys)))) {
		free(w);
		return fail_reply(req, -ENOMEM, NULL);
	}
	w->req = req;
	r = 0;
	for (size_t i = 0; r >= 0 && i < z->n_sys; i++) {
		const rec_rr *sys = &z->sys[i];

		if ((!qname || dn_equal(sys->owner, owner)) && (!type || sys->type == type)) {
			r = rec_rr_copy(&w->sys[w->n_sys], sys);
			w->n_sys += r >= 0;
		}
	}
	if (r >= 0)
		r = rec_set_copy(z->recs, qname ? owner : NULL, type, &w->user, &w->n_user);
	if (r >= 0)
		r = pool_submit(z->m->pool, list_format, list_reply, w);
	if (r < 0) {
		list_work_free(w);
		return fail_reply(req, r, NULL);
	}
	return API_LATER;
}

static int do_create(manager *m, dzone *z, api_req *req)
{
	uint8_t apex[DN_MAXLEN];
	size_t len;
	const char *body = api_req_body(req, &len);
	rec_body b;
	rec_rr rr = { 0 };
	rec_entry have;
	zk_error e = { 0 };
	rec_op *ops;
	json_t *reply;
	bool exists;
	int r;

	if ((r = writable(z, apex, &e)) < 0)
		return fail_reply(req, r, &e);
	r = rec_body_parse(body, len, false, &b, &e);
	if (r < 0)
		return fail_reply(req, r, &e);
	r = build_record(z, apex, &b, NULL, &rr, &e);
	rec_body_clear(&b);
	if (r >= 0)
		r = id_unique(z, &rr, &e);
	exists = r >= 0 && rec_set_get(z->recs, rec_rr_id(&rr), &have);
	/* a record already there is replaced (its TTL), not added a second time */
	if (r >= 0)
		r = check_rules(z, apex, exists ? POL_OP_UPDATE : POL_OP_ADD, exists ? &rr : NULL,
				&rr, &e);
	if (r < 0) {
		rec_rr_clear(&rr);
		return fail_reply(req, r, &e);
	}
	if (exists && have.ttl == rr.ttl) {
		json_t *j = json_pack("{s:s,s:o,s:b}", "status", "ok", "record", rr_json(&rr, false),
				      "created", false);

		apex_ns_note(j, z, apex, &rr);
		rec_rr_clear(&rr);
		return ok_reply(req, 200, j); /* nothing to do: idempotent */
	}
	ops = make_ops(1);
	if (!ops) {
		rec_rr_clear(&rr);
		return fail_reply(req, -ENOMEM, NULL);
	}
	log_write(z, req, exists ? "TTL change of" : "add", &rr);
	ops[0] = (rec_op) { .kind = REC_OP_ADD, .rr = rr };
	reply = json_pack("{s:s,s:o,s:b}", "status", "ok", "record", rr_json(&rr, false),
			  "created", !exists);
	apex_ns_note(reply, z, apex, &rr);
	r = writes_submit(m, z, ops, 1, req, exists ? 200 : 201, reply, want_wait(req), &e);
	if (r < 0) {
		rec_ops_free(ops, 1);
		return fail_reply(req, r, &e);
	}
	return r;
}

static int do_update(manager *m, dzone *z, api_req *req, const char *id)
{
	uint8_t apex[DN_MAXLEN];
	size_t len, n;
	const char *body = api_req_body(req, &len);
	rec_rr old = { 0 }, rr = { 0 };
	rec_body b = { 0 };
	zk_error e = { 0 };
	bool system = false;
	rec_op *ops = NULL;
	json_t *reply;
	int r;

	if ((r = writable(z, apex, &e)) < 0)
		return fail_reply(req, r, &e);
	r = find_record(z, id, &old, &system, &e);
	if (r >= 0)
		r = rec_body_parse(body, len, true, &b, &e);
	if (r >= 0 && system)
		/* SOA, DNSSEC or platform NS: the rules say why it is refused */
		r = check_rules(z, apex, POL_OP_UPDATE, &old, &old, &e);
	if (r >= 0)
		r = build_record(z, apex, &b, &old, &rr, &e);
	rec_body_clear(&b);
	if (r >= 0)
		r = id_unique(z, &rr, &e);
	if (r >= 0)
		r = check_rules(z, apex, POL_OP_UPDATE, &old, &rr, &e);
	if (r >= 0 && system)
		r = zk_fail(&e, ZK_E_PROTECTED_RECORD, "system records are managed automatically");
	if (r < 0)
		goto out;
	reply = json_pack("{s:s,s:o}", "status", "ok", "record", rr_json(&rr, false));
	apex_ns_note(reply, z, apex, &rr);
	if (rec_rr_id(&rr) == rec_rr_id(&old) && rr.ttl == old.ttl) {
		r = ok_reply(req, 200, reply); /* unchanged */
		goto out;
	}
	ops = make_ops(2);
	if (!ops) {
		json_decref(reply);
		r = zk_fail(&e, -ENOMEM, "out of memory");
		goto out;
	}
	n = 0;
	if (rec_rr_id(&rr) != rec_rr_id(&old))
		ops[n++] = (rec_op) { .kind = REC_OP_DEL, .rr = old };
	else
		rec_rr_clear(&old);
	ops[n++] = (rec_op) { .kind = REC_OP_ADD, .rr = rr };
	memset(&old, 0, sizeof(old));
	memset(&rr, 0, sizeof(rr));
	log_write(z, req, "update", &ops[n - 1].rr);
	r = writes_submit(m, z, ops, n, req, 200, reply, want_wait(req), &e);
	if (r < 0)
		rec_ops_free(ops, n);
out:
	rec_rr_clear(&old);
	rec_rr_clear(&rr);
	return r < 0 ? fail_reply(req, r, &e) : r;
}

static int do_delete(manager *m, dzone *z, api_req *req, const char *id)
{
	uint8_t apex[DN_MAXLEN];
	rec_rr old = { 0 };
	zk_error e = { 0 };
	bool system = false;
	rec_op *ops;
	json_t *reply;
	int r;

	if ((r = writable(z, apex, &e)) < 0)
		return fail_reply(req, r, &e);
	r = find_record(z, id, &old, &system, &e);
	if (r >= 0)
		r = check_rules(z, apex, POL_OP_DELETE, &old, NULL, &e);
	if (r >= 0 && system)
		r = zk_fail(&e, ZK_E_PROTECTED_RECORD, "system records are managed automatically");
	if (r < 0 || !(ops = make_ops(1))) {
		rec_rr_clear(&old);
		return fail_reply(req, r < 0 ? r : -ENOMEM, &e);
	}
	reply = json_pack("{s:s,s:o}", "status", "ok", "record", rr_json(&old, false));
	log_write(z, req, "delete", &old);
	ops[0] = (rec_op) { .kind = REC_OP_DEL, .rr = old };
	r = writes_submit(m, z, ops, 1, req, 200, reply, want_wait(req), &e);
	if (r < 0) {
		rec_ops_free(ops, 1);
		return fail_reply(req, r, &e);
	}
	return r;
}

/* ---------------------------------------------------------------- import */

static json_t *stripped_json(const char *name, uint16_t type, uint32_t count, const char *why)
{
	char tbuf[16];

	return json_pack("{s:s,s:s,s:I,s:s}", "name", name, "type", sgn_type_name(type, tbuf),
			 "count", (json_int_t) count, "reason", why);
}

/* Append the changes turning `from` into `to`: deletions first, then additions. */
static int diff_ops(const rec_set *from, const rec_set *to, rec_op **ret, size_t *ret_n,
		    size_t *ret_added, size_t *ret_deleted)
{
	rec_entry *a = NULL, *b = NULL;
	size_t na = 0, nb = 0, n = 0, added = 0, deleted = 0;
	rec_op *ops;
	int r = rec_set_list(from, NULL, 0, &a, &na);

	if (r >= 0)
		r = rec_set_list(to, NULL, 0, &b, &nb);
	ops = r >= 0 ? make_ops(na + nb) : NULL;
	if (!ops) {
		free(a);
		free(b);
		return -ENOMEM;
	}
	for (size_t pass = 0; pass < 2; pass++) {
		const rec_entry *list = pass ? b : a;
		size_t cnt = pass ? nb : na;

		for (size_t i = 0; i < cnt; i++) {
			rec_entry other;
			/* by content: an id may be shared */
			bool there = rec_set_find(pass ? from : to, list[i].owner, list[i].type,
						  list[i].rdata, list[i].rdlen, &other);
			rec_rr src = { .type = list[i].type, .ttl = list[i].ttl,
				       .rdlen = list[i].rdlen,
				       .rdata = (uint8_t *) (uintptr_t) list[i].rdata };

			if (pass == 0 ? there : (there && other.ttl == list[i].ttl))
				continue;
			memcpy(src.owner, list[i].owner, dn_len(list[i].owner));
			if (rec_rr_copy(&ops[n].rr, &src) < 0) {
				rec_ops_free(ops, n);
				free(a);
				free(b);
				return -ENOMEM;
			}
			ops[n++].kind = pass ? REC_OP_ADD : REC_OP_DEL;
			if (pass)
				added++;
			else
				deleted++;
		}
	}
	free(a);
	free(b);
	*ret = ops;
	*ret_n = n;
	*ret_added = added;
	*ret_deleted = deleted;
	return 0;
}

/*
 * An import: the body parsed and checked on a worker (what grows with its size), the
 * difference to the zone's records taken and submitted on the loop thread. The policy is
 * borrowed: a configuration reload waits for the workers.
 */
typedef struct import_work {
	manager *m;
	dzone *z;
	api_req *req;
	const pol_policy *p;
	uint8_t apex[DN_MAXLEN];
	char zone[DN_TEXTMAX];
	bool keep_ns;
	const char *body;         /* the request's: it lives while the request waits */
	size_t len;
	char *owned;              /* a zone's creation: the text made of its body (or NULL) */
	bool wait;
	int r;
	zk_error e;
	rec_set *set;
	json_t *stripped;
} import_work;

static void import_parse(void *arg)
{
	import_work *w = arg;
	/* a new zone's content needs no apex data: zonekeeper makes the SOA and the NS */
	sgn_load_opts lo = { .mode = SGN_LOAD_UNSIGNED, .max_ttl = w->p->max_zone_ttl,
			     .policy = w->p, .fragment = w->owned != NULL };
	sgn_zone *in = NULL;

	w->r = sgn_zone_load_buffer(w->body, w->len, "import", w->apex, &lo, &in, &w->e);
	if (w->r < 0)
		return;
	w->stripped = json_array();
	if (in->has_input_soa)
		json_array_append_new(w->stripped, stripped_json(w->zone, T_SOA, 1,
			"the SOA is managed by zonekeeper: policy values and its serial scheme"));
	for (unsigned i = 0; i < in->n_stripped; i++)
		json_array_append_new(w->stripped, stripped_json(w->zone, in->stripped[i].type,
			in->stripped[i].count, "DNSSEC records are made by zonekeeper with its own "
			"keys; the old provider's signatures and keys cannot be kept"));
	w->r = rec_set_from_zone(in, w->p, &w->set);
	if (w->r >= 0 && in->apex_node) {
		const sgn_rrset *ns = sgn_node_rrset(in->apex_node, T_NS);
		const uint8_t *q = ns ? ns->rdata : NULL;
		uint32_t platform = 0, other = 0;

		for (uint16_t i = 0; ns && i < ns->count; i++, q += 2 + blob_len(q)) {
			if (rec_is_system(w->apex, w->p, w->apex, T_NS, q + 2, blob_len(q)))
				platform++;
			else if (!w->keep_ns &&
				 rec_set_del(w->set, w->apex, T_NS, q + 2, blob_len(q)) == 0)
				other++;
		}
		if (platform)
			json_array_append_new(w->stripped, stripped_json(w->zone, T_NS, platform,
				"the platform's nameservers are managed by zonekeeper"));
		if (other)
			json_array_append_new(w->stripped, stripped_json(w->zone, T_NS, other,
				"apex NS of the previous provider, replaced by the platform's "
				"nameservers (import with ?keep_apex_ns=true to keep them for a "
				"multi-provider setup)"));
	}
	sgn_zone_free(in);
}

static void import_submit(void *arg)
{
	import_work *w = arg;
	dzone *z = w->z;
	api_req *req = w->req;
	size_t n_ops = 0, added = 0, deleted = 0;
	uint8_t apex[DN_MAXLEN];
	rec_op *ops = NULL;
	zk_error e = { 0 };
	json_t *reply;
	int r = w->r;

	if (r < 0) {
		fail_reply(req, r, &w->e);
		goto out;
	}
	/* the zone as it is now (writes went on while the body was parsed) */
	r = writable(z, apex, &e);
	if (r >= 0)
		r = diff_ops(z->recs, w->set, &ops, &n_ops, &added, &deleted);
	if (r < 0) {
		fail_reply(req, r, &e);
		goto out;
	}
	reply = json_pack("{s:s,s:I,s:I,s:I,s:O}", "status", "ok", "records",
			  (json_int_t) rec_set_count(w->set), "added", (json_int_t) added,
			  "deleted", (json_int_t) deleted, "stripped", w->stripped);
	if (!n_ops) {
		free(ops);
		ok_reply(req, 200, reply);
		goto out;
	}
	{
		dlog_fields f = { .zone = z->name, .signatures = -1 };

		dlog(ZK_LOG_NOTICE, &f, "record API: import by %s: %zu added, %zu deleted",
		     api_req_peer(req), added, deleted);
	}
	r = writes_submit(w->m, z, ops, n_ops, req, 200, reply, want_wait(req), &e);
	if (r < 0) {
		rec_ops_free(ops, n_ops);
		fail_reply(req, r, &e);
	}
out:
	rec_set_free(w->set);
	json_decref(w->stripped);
	free(w);
}

static int do_import(manager *m, dzone *z, api_req *req)
{
	import_work *w = calloc(1, sizeof(*w));
	zk_error e = { 0 };
	int r;

	if (!w)
		return fail_reply(req, -ENOMEM, NULL);
	*w = (import_work) { .m = m, .z = z, .req = req, .p = z->cfg->policy,
			     .keep_ns = query_true(req, "keep_apex_ns") };
	w->body = api_req_body(req, &w->len);
	snprintf(w->zone, sizeof(w->zone), "%s", z->name);
	r = writable(z, w->apex, &e);
	if (r >= 0)
		r = pool_submit(m->pool, import_parse, import_submit, w);
	if (r < 0) {
		free(w);
		return fail_reply(req, r, &e);
	}
	return API_LATER;
}

/* ---------------------------------------------------------------- zones as data */

static json_t *zone_status(const dzone *z);

#define ZONES_LIMIT 1000        /* a page of GET /v1/zones, unless ?limit= says */
#define ZONES_LIMIT_MAX 10000

/* GET /v1/zones?limit=&after=&state=: a page of zones by name, and where the next starts. */
static int do_zone_list(manager *m, api_req *req)
{
	const char *limit_s = api_req_query(req, "limit"), *after = api_req_query(req, "after");
	const char *state = api_req_query(req, "state");
	static const char *const states[] = { "ok", "error", "pending", "signing", "loading" };
	unsigned long limit = ZONES_LIMIT;
	size_t i = after && *after ? mgr_zone_after(m, after) : 0, n = mgr_n_zones(m);
	zk_error e = { 0 };
	json_t *a = json_array();
	const dzone *last = NULL;
	bool known = !state;

	if (limit_s) {
		char *end;

		errno = 0;
		limit = strtoul(limit_s, &end, 10);
		if (errno || *end || !*limit_s || limit < 1 || limit > ZONES_LIMIT_MAX) {
			json_decref(a);
			zk_fail(&e, ZK_E_BAD_REQUEST, "limit must be 1 to %u", ZONES_LIMIT_MAX);
			return fail_reply(req, ZK_E_BAD_REQUEST, &e);
		}
	}
	for (size_t k = 0; state && k < ZK_ELEMENTSOF(states); k++)
		known |= !strcmp(state, states[k]);
	if (!known) {
		json_decref(a);
		zk_fail(&e, ZK_E_BAD_REQUEST, "state must be ok, error, pending, signing or loading");
		return fail_reply(req, ZK_E_BAD_REQUEST, &e);
	}
	for (; i < n && json_array_size(a) < limit; i++) {
		const dzone *z = mgr_zone_at(m, i);

		if (state && strcmp(state, mgr_zone_state(z)) != 0)
			continue;
		json_array_append_new(a, zone_status(z));
		last = z;
	}
	/* more may follow when the page is full and zones remain */
	return ok_reply(req, 200, json_pack("{s:s,s:o,s:o}", "status", "ok", "zones", a, "next",
					    last && i < n && json_array_size(a) == limit
						    ? json_string(last->name) : json_null()));
}

/* After the body was parsed on a worker: create the zone with its records. */
static void create_submit(void *arg)
{
	import_work *w = arg;
	size_t n_ops = 0, added = 0, deleted = 0;
	rec_set *none = NULL;
	rec_op *ops = NULL;
	zk_error e = { 0 };
	int r = w->r;

	if (r < 0) {
		fail_reply(w->req, r, &w->e);
		goto out;
	}
	r = rec_set_new(w->apex, w->p, &none);
	if (r >= 0)
		r = diff_ops(none, w->set, &ops, &n_ops, &added, &deleted);
	if (r < 0) {
		fail_reply(w->req, r, NULL);
		goto out;
	}
	r = mgr_zone_create(w->m, w->zone, w->p, ops, n_ops, w->stripped, w->req, w->wait, &e);
	if (r < 0)
		fail_reply(w->req, r, &e);
out:
	rec_set_free(none);
	rec_set_free(w->set);
	json_decref(w->stripped);
	free(w->owned);
	free(w);
}

/* "records": [{name,type,ttl,content}...] -> zone text (each record one line). */
static int records_text(json_t *records, char **ret, zk_error *e)
{
	char *buf = NULL;
	size_t len = 0, i;
	FILE *f = open_memstream(&buf, &len);
	json_t *r;

	if (!f)
		return zk_fail(e, -ENOMEM, "out of memory");
	fprintf(f, "$TTL %u\n", (unsigned) DEFAULT_TTL); /* as for POST .../records */
	json_array_foreach(records, i, r) {
		const char *name = NULL, *type = NULL, *content = NULL;
		json_int_t ttl = -1;
		json_error_t je;

		if (json_unpack_ex(r, &je, JSON_STRICT, "{s:s,s:s,s:s,s?I}", "name", &name, "type",
				   &type, "content", &content, "ttl", &ttl) < 0) {
			fclose(f);
			free(buf);
			return zk_fail(e, ZK_E_INVALID_RECORD, "records[%zu]: %s", i, je.text);
		}
		if (strpbrk(name, "\r\n\t ;") || strpbrk(type, "\r\n\t ;") ||
		    strpbrk(content, "\r\n") || name[0] == '$' || ttl > 2147483647) {
			fclose(f);
			free(buf);
			return zk_fail(e, ZK_E_INVALID_RECORD, "records[%zu]: a record is one line: "
				       "no line breaks, no blanks in the name or type, TTL at most "
				       "2147483647", i);
		}
		if (ttl >= 0)
			fprintf(f, "%s %lld IN %s %s\n", name, (long long) ttl, type, content);
		else
			fprintf(f, "%s IN %s %s\n", name, type, content);
	}
	if (fclose(f) != 0) {
		free(buf);
		return zk_fail(e, -ENOMEM, "out of memory");
	}
	*ret = buf;
	return 0;
}

/* POST /v1/zones {"name","policy","zone"|"records"}: a new zone (doc/api.md). */
static int do_zone_create(manager *m, api_req *req)
{
	size_t len;
	const char *body = api_req_body(req, &len);
	const char *name = NULL, *policy = NULL, *text = NULL;
	json_t *j, *records = NULL;
	json_error_t je;
	import_work *w;
	const pol_policy *p;
	zk_error e = { 0 };
	int r;

	j = json_loadb(body, len, JSON_REJECT_DUPLICATES, &je);
	if (!j || !json_is_object(j)) {
		json_decref(j);
		zk_fail(&e, ZK_E_BAD_REQUEST, "the body must be a JSON object: %s",
			j ? "it is not an object" : je.text);
		return fail_reply(req, ZK_E_BAD_REQUEST, &e);
	}
	if (json_unpack_ex(j, &je, JSON_STRICT, "{s:s,s?s,s?s,s?o}", "name", &name, "policy",
			   &policy, "zone", &text, "records", &records) < 0 ||
	    (records && !json_is_array(records)) || (text && records)) {
		zk_fail(&e, ZK_E_BAD_REQUEST, "expected {\"name\": ZONE, \"policy\": P (optional), "
			"and \"zone\": zone-file text or \"records\": [records] (optional, not both)}%s%s",
			text && records ? "" : ": ", text && records ? "" : je.text);
		json_decref(j);
		return fail_reply(req, ZK_E_BAD_REQUEST, &e);
	}
	p = policy ? pol_config_policy(m->config, policy) : pol_config_default_policy(m->config);
	if (!p) {
		if (policy)
			zk_fail(&e, ZK_E_BAD_REQUEST, "unknown policy \"%.200s\"", policy);
		else
			zk_fail(&e, ZK_E_BAD_REQUEST, "no default policy: name one with \"policy\"");
		json_decref(j);
		return fail_reply(req, ZK_E_BAD_REQUEST, &e);
	}
	if (mgr_find_zone(m, name)) {
		zk_fail(&e, ZK_E_ZONE_EXISTS, "zone %.255s exists", name);
		json_decref(j);
		return fail_reply(req, ZK_E_ZONE_EXISTS, &e);
	}
	if (!text && !records) {
		r = mgr_zone_create(m, name, p, NULL, 0, NULL, req, want_wait(req), &e);
		json_decref(j);
		return r < 0 ? fail_reply(req, r, &e) : r;
	}
	w = calloc(1, sizeof(*w));
	if (!w) {
		json_decref(j);
		return fail_reply(req, -ENOMEM, NULL);
	}
	*w = (import_work) { .m = m, .req = req, .p = p, .wait = want_wait(req) };
	r = records ? records_text(records, &w->owned, &e)
		    : (w->owned = strdup(text)) ? 0 : zk_fail(&e, -ENOMEM, "out of memory");
	if (r >= 0 && dn_from_text(name, strlen(name), (const uint8_t *) "", w->apex) < 0)
		r = zk_fail(&e, ZK_E_INVALID_RECORD, "'%.255s' is not a zone name", name);
	if (r >= 0) {
		dn_lower(w->apex);
		dn_to_text(w->apex, w->zone);
	}
	json_decref(j);
	if (r >= 0) {
		w->body = w->owned;
		w->len = strlen(w->owned);
		r = pool_submit(m->pool, import_parse, create_submit, w);
	}
	if (r < 0) {
		free(w->owned);
		free(w);
		return fail_reply(req, r, &e);
	}
	return API_LATER;
}

/* PUT /v1/zones/{zone} {"policy": P}: another policy for a zone created through the API. */
static int do_zone_update(manager *m, dzone *z, api_req *req)
{
	size_t len;
	const char *body = api_req_body(req, &len);
	const char *policy = NULL;
	const pol_policy *p;
	json_error_t je;
	zk_error e = { 0 };
	json_t *j = json_loadb(body, len, JSON_REJECT_DUPLICATES, &je);
	int r;

	if (!j || json_unpack_ex(j, &je, JSON_STRICT, "{s:s}", "policy", &policy) < 0) {
		zk_fail(&e, ZK_E_BAD_REQUEST, "expected {\"policy\": P}: %s", je.text);
		json_decref(j);
		return fail_reply(req, ZK_E_BAD_REQUEST, &e);
	}
	p = pol_config_policy(m->config, policy);
	if (!p) {
		zk_fail(&e, ZK_E_BAD_REQUEST, "unknown policy \"%.200s\"", policy);
		json_decref(j);
		return fail_reply(req, ZK_E_BAD_REQUEST, &e);
	}
	json_decref(j);
	r = mgr_zone_set_policy(m, z, p, &e);
	if (r < 0)
		return fail_reply(req, r, &e);
	return ok_reply(req, 200, json_pack("{s:s,s:o}", "status", "ok", "zone", zone_status(z)));
}

/* ---------------------------------------------------------------- keys and DS */

/* The keys as the zone's last run left them (internal.h: the job owns the key files). */
static int keys_unavailable(dzone *z, api_req *req)
{
	zk_error e = { 0 };

	zk_fail(&e, ZK_E_UNAVAILABLE, "the keys of %s are not loaded yet; try again", z->name);
	return fail_reply(req, ZK_E_UNAVAILABLE, &e);
}

static json_t *keys_reply(const dzone *z)
{
	json_t *view = json_deep_copy(z->keys_view);

	json_object_set_new(view, "status", json_string("ok"));
	json_object_set_new(view, "parent_error",
			    z->parent_error[0] ? api_json_string(z->parent_error) : json_null());
	return view;
}

/* The DS records of `digest` ("2", "4"; NULL: the policy's digests). */
static json_t *ds_json(const dzone *z, const pol_policy *p, const char *digest)
{
	json_t *arr = json_array();

	for (int d = 0; d < 2; d++) {
		uint8_t type = d ? POL_DIGEST_SHA384 : POL_DIGEST_SHA256;
		bool want = digest ? atoi(digest) == type : false;

		for (size_t i = 0; !digest && i < ZK_ELEMENTSOF(p->cds_digests); i++)
			want |= p->cds_digests[i] == type;
		if (want && z->ds_view[d])
			json_array_extend(arr, z->ds_view[d]);
	}
	return arr;
}

static int do_keys(manager *m, dzone *z, api_req *req, bool ds)
{
	const char *digest = api_req_query(req, "digest");
	const pol_policy *p = z->cfg->policy;
	zk_error e = { 0 };
	json_t *arr;

	(void) m;
	if (digest && strcmp(digest, "2") != 0 && strcmp(digest, "4") != 0) {
		zk_fail(&e, ZK_E_BAD_REQUEST, "digest must be 2 (SHA-256) or 4 (SHA-384)");
		return fail_reply(req, ZK_E_BAD_REQUEST, &e);
	}
	if (!z->keys_view)
		return keys_unavailable(z, req);
	if (!ds)
		return ok_reply(req, 200, keys_reply(z));
	arr = ds_json(z, p, digest);
	return ok_reply(req, 200, json_pack("{s:s,s:o}", "status", "ok", "ds", arr));
}

json_t *routes_ds_json(const dzone *z)
{
	return ds_json(z, z->cfg->policy, NULL);
}

/* The body of a key request: {} or absent, else an object with only `allowed` members. */
static json_t *key_body(api_req *req, const char *const *allowed, zk_error *e)
{
	size_t len;
	const char *body = api_req_body(req, &len), *key;
	json_error_t je;
	json_t *j, *v;

	if (!len)
		return json_object();
	j = json_loadb(body, len, JSON_REJECT_DUPLICATES, &je);
	if (!j || !json_is_object(j)) {
		json_decref(j);
		zk_fail(e, ZK_E_BAD_REQUEST, "the body must be a JSON object");
		return NULL;
	}
	json_object_foreach(j, key, v) {
		bool ok = false;

		for (size_t i = 0; allowed[i]; i++)
			ok |= !strcmp(key, allowed[i]);
		if (!ok) {
			zk_fail(e, ZK_E_BAD_REQUEST, "unknown field '%s'", key);
			json_decref(j);
			return NULL;
		}
	}
	return j;
}

/*
 * POST .../keys/rollover {"type": "zsk"|"ksk"|"csk", "now": false}: a successor is
 * generated and the rollover proceeds at the policy's safe pace (even an emergency
 * replacement cannot skip the TTLs without breaking validation). A ZSK or CSK rollover in
 * a zone whose DS is not yet asked for waits until it is: rolled at once, both keys would
 * sign every RRset for a week and more (ks_ring_step). "now": true rolls it at once all
 * the same (a lost or compromised key). Answered once the run that starts it, or records
 * it as waiting, has published.
 */
static int do_rollover(manager *m, dzone *z, api_req *req)
{
	static const char *const allowed[] = { "type", "now", NULL };
	zk_error e = { 0 };
	json_t *j = key_body(req, allowed, &e), *type, *now;
	const char *t;
	int role;
	bool csk = z->cfg->policy->keys == POL_KEYS_CSK, at_once;

	if (!j)
		return fail_reply(req, ZK_E_BAD_REQUEST, &e);
	type = json_object_get(j, "type");
	now = json_object_get(j, "now");
	t = json_string_value(type);
	role = t ? ks_role_from_name(t) : -1;
	at_once = json_is_true(now);
	if (now && !json_is_boolean(now)) {
		json_decref(j);
		zk_fail(&e, ZK_E_BAD_REQUEST, "'now' must be true or false");
		return fail_reply(req, ZK_E_BAD_REQUEST, &e);
	}
	json_decref(j);
	if (role < 0) {
		zk_fail(&e, ZK_E_BAD_REQUEST, "'type' must be \"zsk\", \"ksk\" or \"csk\"");
		return fail_reply(req, ZK_E_BAD_REQUEST, &e);
	}
	if (csk != (role == KS_ROLE_CSK)) {
		zk_fail(&e, ZK_E_BAD_REQUEST, "zone %s uses %s keys: roll %s", z->name,
			csk ? "CSK" : "KSK+ZSK", csk ? "\"csk\"" : "\"ksk\" or \"zsk\"");
		return fail_reply(req, ZK_E_BAD_REQUEST, &e);
	}
	/* one rollover of a role at a time: each one takes a slot of the ring for days */
	if (z->ring_snap) {
		char why[192];

		if (ks_ring_rolling(z->ring_snap, (ks_role) role, why, sizeof(why)) >= 0) {
			zk_fail(&e, ZK_E_CONFLICT, "a %s rollover of %s is in progress: %s",
				ks_role_name((ks_role) role), z->name, why);
			return fail_reply(req, ZK_E_CONFLICT, &e);
		}
		if ((z->ring_snap->pending & (1u << role)) && !at_once) {
			ks_ring_status(z->ring_snap, why, sizeof(why));
			zk_fail(&e, ZK_E_CONFLICT, "a %s rollover of %s is already asked for: %s",
				ks_role_name((ks_role) role), z->name, why);
			return fail_reply(req, ZK_E_CONFLICT, &e);
		}
	}
	return mgr_key_request(m, z, req, 1u << role, at_once ? 1u << role : 0, false, false, 0,
			       &e) < 0
		       ? fail_reply(req, e.code, &e) : API_LATER;
}

/* POST .../keys/{tag}/ds-seen {"withdrawn": false}: the operator saw the parent's DS. */
static int do_ds_seen(manager *m, dzone *z, api_req *req, const char *tag_s)
{
	static const char *const allowed[] = { "withdrawn", NULL };
	_cleanup_free_ ks_ring *ring = malloc(sizeof(*ring));
	zk_error e = { 0 };
	json_t *j = key_body(req, allowed, &e), *w;
	uint32_t tag;
	bool gone;
	int r;

	if (!j)
		return fail_reply(req, ZK_E_BAD_REQUEST, &e);
	w = json_object_get(j, "withdrawn");
	gone = json_is_true(w);
	json_decref(j);
	if (w && !json_is_boolean(w)) {
		zk_fail(&e, ZK_E_BAD_REQUEST, "'withdrawn' must be true or false");
		return fail_reply(req, ZK_E_BAD_REQUEST, &e);
	}
	if (sgn_parse_uint(tag_s, strlen(tag_s), 65535, &tag) < 0) {
		zk_fail(&e, ZK_E_BAD_REQUEST, "'%s' is not a key tag (0 to 65535)", tag_s);
		return fail_reply(req, ZK_E_BAD_REQUEST, &e);
	}
	if (!z->ring_snap)
		return keys_unavailable(z, req);
	/* refuse now what the run would refuse: a key that is not waiting for this */
	*ring = *z->ring_snap;
	r = ks_ring_ds_seen(ring, (uint16_t) tag, !gone, mgr_now(m), &e);
	if (r < 0)
		return fail_reply(req, r, &e);
	return mgr_key_request(m, z, req, 0, 0, !gone, gone, (uint16_t) tag, &e) < 0
		       ? fail_reply(req, e.code, &e) : API_LATER;
}

void routes_key_done(dzone *z, api_req *req, int r, const zk_error *e)
{
	json_t *view;

	if (r < 0) {
		api_reply_error(req, r, e);
		return;
	}
	if (!z->keys_view) {
		zk_error e2 = { 0 };

		zk_fail(&e2, ZK_E_UNAVAILABLE, "the keys of %s could not be read", z->name);
		api_reply_error(req, ZK_E_UNAVAILABLE, &e2);
		return;
	}
	view = keys_reply(z);
	json_object_set_new(view, "serial", json_integer(z->serial));
	api_reply_json(req, 200, view);
}

/* ---------------------------------------------------------------- metrics */

static void label(FILE *f, const char *v)
{
	for (; *v; v++) {
		if (*v == '\\' || *v == '"')
			fputc('\\', f);
		if (*v == '\n')
			fputs("\\n", f);
		else
			fputc(*v, f);
	}
}

static void gauge(FILE *f, const char *name, const char *help, const char *type)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* The per-zone series (one metric each). */
static const struct {
	const char *name, *help, *type;
} zone_metrics[] = {
	{ "zonekeeper_zone_serial", "SOA serial of the published zone", "gauge" },
	{ "zonekeeper_zone_records", "User records in the zone", "gauge" },
	{ "zonekeeper_zone_names", "Names in the signed zone", "gauge" },
	{ "zonekeeper_zone_signatures_made_total", "Signatures made since start", "counter" },
	{ "zonekeeper_zone_rrsig_expiry_seconds",
	  "Seconds until the earliest RRSIG expiration in the published zone", "gauge" },
	{ "zonekeeper_zone_next_event_timestamp_seconds",
	  "Unix time of the zone's next scheduled signing event", "gauge" },
	{ "zonekeeper_zone_next_key_event_timestamp_seconds",
	  "Unix time of the next key state change or parental-agent check", "gauge" },
	{ "zonekeeper_zone_last_publish_timestamp_seconds", "Unix time of the last publication",
	  "gauge" },
	{ "zonekeeper_zone_error", "1 if the last run of the zone failed", "gauge" },
	{ "zonekeeper_zone_pending_writeback",
	  "API changes not yet written back to the unsigned zone file", "gauge" },
	{ "zonekeeper_zone_api_writes_total", "Accepted API writes since start", "counter" },
	{ "zonekeeper_zone_dnskey_response_bytes",
	  "Bytes of the DNSKEY answer (RRset, RRSIGs, EDNS) in the published zone", "gauge" },
	{ "zonekeeper_zone_key_waits_parent", "1 while a key rollover waits for the parent's DS",
	  "gauge" },
	{ "zonekeeper_zone_runs_total", "Signing runs since start", "counter" },
	{ "zonekeeper_zone_failed_runs_total", "Signing runs that failed since start", "counter" },
	{ "zonekeeper_zone_safe_runs_total",
	  "Runs that re-signed the last good version while normal runs failed", "counter" },
	{ "zonekeeper_zone_consecutive_failures",
	  "Normal runs failed in a row (0: the last one succeeded)", "gauge" },
	{ "zonekeeper_zone_journal_damaged_lines",
	  "Damaged journal lines skipped at start (acknowledged writes lost)", "gauge" },
};

/* Series k of zone z: false if the zone has no value for it. */
static bool zone_metric(const dzone *z, size_t k, zk_time_t now, double *v)
{
	switch (k) {
	case 0: *v = z->serial; return z->serial != 0;
	case 1: *v = z->recs ? (double) rec_set_count(z->recs) : 0; return z->recs;
	case 2: *v = (double) z->names; return true;
	case 3: *v = (double) z->sigs_total; return true;
	case 4: *v = (double) (z->earliest_expiry - now); return z->earliest_expiry;
	case 5: *v = (double) z->next_event; return z->next_event;
	case 6: *v = (double) mgr_next_key_event(z); return *v != 0;
	case 7: *v = (double) z->last_published; return z->last_published;
	case 8: *v = z->last_code != 0; return true;
	case 9: *v = (double) z->n_ops; return true;
	case 10: *v = (double) z->api_writes; return true;
	case 11: *v = (double) z->dnskey_response; return z->dnskey_response;
	case 12: *v = z->key_waits_parent; return true;
	case 13: *v = (double) z->runs; return true;
	case 14: *v = (double) z->failed_runs; return true;
	case 15: *v = (double) z->safe_runs; return true;
	case 16: *v = (double) z->failures; return true;
	default: *v = (double) z->journal_damaged; return true;
	}
}

/*
 * A zone that needs an operator's eyes: failing, re-signed by safe runs, writes lost at
 * start, a rollover waiting for the parent, signatures expiring within the refresh margin
 * (they should have been renewed), or a reload command or NOTIFY failing (its server may
 * serve an older zone).
 */
static bool zone_attention(const dzone *z, zk_time_t now)
{
	return z->last_code || z->failures || z->journal_damaged || z->key_waits_parent ||
	       (z->earliest_expiry &&
		z->earliest_expiry - now < (zk_time_t) z->cfg->policy->rrsig_refresh) ||
	       hooks_failing(z->m->hooks, z->name);
}

static const char *const hook_names[_HOOK_MAX] = {
	[HOOK_RELOAD] = "reload",
	[HOOK_NOTIFY] = "notify",
};

/* The hook series of zone `name` (a zone, or the catalog), when its hooks ran. */
static void hook_series(FILE *f, const hooks *h, const char *name, bool total)
{
	hook_stat st;

	for (int k = 0; k < _HOOK_MAX; k++) {
		if (!hooks_stat(h, name, (hook_kind) k, &st))
			continue;
		fprintf(f, "%s{zone=\"", total ? "zonekeeper_hook_failures_total"
					       : "zonekeeper_hook_consecutive_failures");
		label(f, name);
		fprintf(f, "\",hook=\"%s\"} %llu\n", hook_names[k],
			(unsigned long long) (total ? st.failures_total : st.failures));
	}
}

/*
 * The hooks' series: over all zones, how many have each hook failing now; per zone (the
 * zones selected, as for the other per-zone series; the catalog when all are, or when its
 * hooks fail), the failures since start and in a row.
 */
static void hook_metrics(FILE *f, manager *m, const dzone *only, const bool *pick)
{
	const char *cat = m->config->catalog.name;
	bool cat_in = cat && !only && (!pick || hooks_failing(m->hooks, cat));
	size_t failing[_HOOK_MAX] = { 0 };
	hook_stat st;

	for (size_t i = 0; i < hooks_n_zones(m->hooks); i++) {
		const char *name = hooks_zone_name(m->hooks, i);

		for (int k = 0; k < _HOOK_MAX; k++)
			failing[k] += hooks_stat(m->hooks, name, (hook_kind) k, &st) && st.failures;
	}
	gauge(f, "zonekeeper_hooks_failing",
	      "Zones whose reload command or NOTIFY fails now (retried with backoff)", "gauge");
	for (int k = 0; k < _HOOK_MAX; k++)
		fprintf(f, "zonekeeper_hooks_failing{hook=\"%s\"} %zu\n", hook_names[k], failing[k]);
	for (int total = 1; total >= 0; total--) {
		if (total)
			gauge(f, "zonekeeper_hook_failures_total",
			      "Reload command runs and NOTIFY tries that failed since start",
			      "counter");
		else
			gauge(f, "zonekeeper_hook_consecutive_failures",
			      "Reload command runs or NOTIFY tries failed in a row (0: succeeded)",
			      "gauge");
		for (size_t i = 0; i < (only ? 1 : mgr_n_zones(m)); i++) {
			const dzone *z = only ? only : mgr_zone_at(m, i);

			if (only || !pick || pick[i])
				hook_series(f, m->hooks, z->name, total);
		}
		if (cat_in)
			hook_series(f, m->hooks, cat, total);
	}
}

/*
 * Which zones get their own series: all up to METRICS_ALL_ZONES zones (or with
 * ?zones=all), else those that need attention; ?zone=NAME gives that zone's only. At
 * 10,000 zones every series of every zone is several megabytes per scrape, while what a
 * platform alerts on is in the aggregates and in the zones that need attention.
 */
#define METRICS_ALL_ZONES 1000

static int do_metrics(manager *m, api_req *req)
{
	zk_time_t now = mgr_now(m);
	api_status_count st[64];
	size_t nst = api_status_counts(m->api, st, ZK_ELEMENTSOF(st)), len = 0;
	const char *one = api_req_query(req, "zone"), *which = api_req_query(req, "zones");
	bool all = which ? !strcmp(which, "all") : mgr_n_zones(m) <= METRICS_ALL_ZONES;
	const dzone *only = NULL;
	bool *pick = NULL;        /* the zones with series of their own (NULL: all of them) */
	zk_error e = { 0 };
	char *buf = NULL;
	FILE *f;
	uint64_t cum = 0, sigs = 0, runs = 0, failed = 0, safe = 0, writes = 0;
	size_t by_state[4] = { 0 }, failing = 0;
	static const char *const states[] = { "ok", "signing", "error", "pending" };
	zk_time_t expiry = 0;

	if (which && strcmp(which, "all") && strcmp(which, "attention")) {
		zk_fail(&e, ZK_E_BAD_REQUEST, "zones must be all or attention");
		return fail_reply(req, ZK_E_BAD_REQUEST, &e);
	}
	if (one && !(only = mgr_find_zone(m, one))) {
		zk_fail(&e, ZK_E_ZONE_NOT_FOUND, "no zone '%.255s' is configured", one);
		return fail_reply(req, ZK_E_ZONE_NOT_FOUND, &e);
	}
	/* above METRICS_ALL_ZONES: the zones that need attention, each looked at once */
	if (!only && !all) {
		pick = calloc(mgr_n_zones(m) ? mgr_n_zones(m) : 1, sizeof(*pick));
		if (!pick)
			return fail_reply(req, -ENOMEM, NULL);
		for (size_t i = 0; i < mgr_n_zones(m); i++)
			pick[i] = zone_attention(mgr_zone_at(m, i), now);
	}
	f = open_memstream(&buf, &len);
	if (!f) {
		free(pick);
		return fail_reply(req, -ENOMEM, NULL);
	}
	for (size_t i = 0; i < mgr_n_zones(m); i++) {
		const dzone *z = mgr_zone_at(m, i);
		const char *state = mgr_zone_state(z);

		for (size_t s = 0; s < ZK_ELEMENTSOF(states); s++)
			by_state[s] += !strcmp(state, states[s]);
		failing += z->last_code != 0;
		sigs += z->sigs_total;
		runs += z->runs;
		failed += z->failed_runs;
		safe += z->safe_runs;
		writes += z->api_writes;
		if (z->earliest_expiry && (!expiry || z->earliest_expiry < expiry))
			expiry = z->earliest_expiry;
	}
	gauge(f, "zonekeeper_zones", "Zones by state", "gauge");
	for (size_t s = 0; s < ZK_ELEMENTSOF(states); s++)
		fprintf(f, "zonekeeper_zones{state=\"%s\"} %zu\n", states[s], by_state[s]);
	gauge(f, "zonekeeper_zones_failing", "Zones whose last run failed", "gauge");
	fprintf(f, "zonekeeper_zones_failing %zu\n", failing);
	if (expiry) {
		gauge(f, "zonekeeper_rrsig_expiry_min_seconds",
		      "Seconds until the earliest RRSIG expiration over all published zones", "gauge");
		fprintf(f, "zonekeeper_rrsig_expiry_min_seconds %lld\n", (long long) (expiry - now));
	}
	gauge(f, "zonekeeper_jobs_running", "Zones being signed now", "gauge");
	fprintf(f, "zonekeeper_jobs_running %u\n", m->n_jobs);
	gauge(f, "zonekeeper_signatures_made_total", "Signatures made since start, all zones",
	      "counter");
	fprintf(f, "zonekeeper_signatures_made_total %llu\n", (unsigned long long) sigs);
	gauge(f, "zonekeeper_runs_total", "Signing runs since start, all zones", "counter");
	fprintf(f, "zonekeeper_runs_total %llu\n", (unsigned long long) runs);
	gauge(f, "zonekeeper_failed_runs_total", "Failed signing runs since start, all zones",
	      "counter");
	fprintf(f, "zonekeeper_failed_runs_total %llu\n", (unsigned long long) failed);
	gauge(f, "zonekeeper_safe_runs_total",
	      "Safe runs (the last good version re-signed) since start, all zones", "counter");
	fprintf(f, "zonekeeper_safe_runs_total %llu\n", (unsigned long long) safe);
	gauge(f, "zonekeeper_api_writes_total", "Accepted API writes since start, all zones",
	      "counter");
	fprintf(f, "zonekeeper_api_writes_total %llu\n", (unsigned long long) writes);

	for (size_t k = 0; k < ZK_ELEMENTSOF(zone_metrics); k++) {
		gauge(f, zone_metrics[k].name, zone_metrics[k].help, zone_metrics[k].type);
		for (size_t i = 0; i < (only ? 1 : mgr_n_zones(m)); i++) {
			const dzone *z = only ? only : mgr_zone_at(m, i);
			double v;

			if (pick && !pick[i])
				continue;
			if (!zone_metric(z, k, now, &v))
				continue;
			fprintf(f, "%s{zone=\"", zone_metrics[k].name);
			label(f, z->name);
			fprintf(f, "\"} %.0f\n", v);
		}
	}
	hook_metrics(f, m, only, pick);
	free(pick);
	gauge(f, "zonekeeper_publish_latency_seconds",
	      "From an API write being durable to the signed zone holding it being published",
	      "histogram");
	for (size_t b = 0; b < LATENCY_BUCKETS; b++) {
		cum += m->latency_buckets[b];
		fprintf(f, "zonekeeper_publish_latency_seconds_bucket{le=\"%g\"} %llu\n",
			latency_bounds[b], (unsigned long long) cum);
	}
	cum += m->latency_buckets[LATENCY_BUCKETS];
	fprintf(f, "zonekeeper_publish_latency_seconds_bucket{le=\"+Inf\"} %llu\n"
		   "zonekeeper_publish_latency_seconds_sum %.6f\n"
		   "zonekeeper_publish_latency_seconds_count %llu\n",
		(unsigned long long) cum, m->latency_sum, (unsigned long long) m->latency_count);
	gauge(f, "zonekeeper_api_requests_total", "API responses by HTTP status code", "counter");
	for (size_t i = 0; i < nst; i++)
		fprintf(f, "zonekeeper_api_requests_total{code=\"%u\"} %llu\n", st[i].status,
			(unsigned long long) st[i].count);
	if (fclose(f) != 0) {
		free(buf);
		return fail_reply(req, -ENOMEM, NULL);
	}
	api_reply_text(req, 200, "text/plain; version=0.0.4", buf);
	return API_DONE;
}

/* ---------------------------------------------------------------- routing */

/*
 * A zone's status. Its error comes from the input file or a key file, byte for byte: an
 * invalid UTF-8 sequence there made jansson drop the whole error object. Set again from
 * text made valid (api_json_string).
 */
static json_t *zone_status(const dzone *z)
{
	json_t *j = mgr_zone_json(z);

	if (!j)
		return NULL;
	if (z->last_code)
		json_object_set_new(j, "error",
				    json_pack("{s:s,s:o,s:o,s:i}", "code", zk_code_name(z->last_code),
					      "message", api_json_string(z->last_error.message),
					      "file", api_json_string(z->last_error.file), "line",
					      (int) z->last_error.line));
	json_object_set_new(j, "keys_waiting",
			    z->key_status[0] ? api_json_string(z->key_status) : json_null());
	json_object_set_new(j, "parent_error",
			    z->parent_error[0] ? api_json_string(z->parent_error) : json_null());
	return j;
}

static int method_not_allowed(api_req *req, const char *allowed)
{
	zk_error e;

	zk_fail(&e, ZK_E_METHOD_NOT_ALLOWED, "%s %s: allowed here: %s", api_req_method(req),
		api_req_path(req), allowed);
	return fail_reply(req, ZK_E_METHOD_NOT_ALLOWED, &e);
}

static bool is(const api_req *req, const char *method)
{
	return !strcmp(api_req_method(req), method);
}

int routes_handle(void *userdata, api_req *req)
{
	manager *m = userdata;
	const char *path = api_req_path(req);
	char seg[4][256];
	size_t n = 0;
	zk_error e = { 0 };
	dzone *z;

	if (!strcmp(path, "/v1/health")) {
		char ts[32];
		zk_time_t now = mgr_now(m);

		/* the daemon's own time: the fake clock's in tests */
		/* zones_starting: zones still to have their first run since the start */
		return is(req, "GET") ? ok_reply(req, 200, json_pack("{s:s,s:s,s:I,s:I}", "status",
								     "ok", "time",
								     zk_time_iso(now, ts, 32),
								     "unixtime", (json_int_t) now,
								     "zones_starting",
								     (json_int_t) mgr_n_starting(m)))
				      : method_not_allowed(req, "GET");
	}
	if (!strcmp(path, "/v1/reload")) {
		int r;

		if (!is(req, "POST"))
			return method_not_allowed(req, "POST");
		r = mgr_reload_request(m, req);
		return r < 0 ? fail_reply(req, r, NULL) : r;
	}
	if (!strcmp(path, "/metrics"))
		return is(req, "GET") ? do_metrics(m, req) : method_not_allowed(req, "GET");
	if (!strcmp(path, "/v1/zones") || !strcmp(path, "/v1/zones/")) {
		if (is(req, "GET"))
			return do_zone_list(m, req);
		if (is(req, "POST"))
			return do_zone_create(m, req);
		return method_not_allowed(req, "GET, POST");
	}
	if (strncmp(path, "/v1/zones/", 10) != 0)
		return fail_reply(req, ZK_E_NOT_FOUND, NULL);
	for (const char *p = path + 10; *p && n < 4;) {
		size_t l = strcspn(p, "/");

		if (l == 0 || l >= sizeof(seg[0]))
			return fail_reply(req, ZK_E_NOT_FOUND, NULL);
		memcpy(seg[n], p, l);
		seg[n++][l] = '\0';
		p += l;
		if (*p == '/')
			p++;
		if (!*p)
			break;
		if (n == 4)
			return fail_reply(req, ZK_E_NOT_FOUND, NULL);
	}
	if (n == 0)
		return fail_reply(req, ZK_E_NOT_FOUND, NULL);
	if (n == 2 && !strcmp(seg[1], "restore")) {
		int r;

		if (!is(req, "POST"))
			return method_not_allowed(req, "POST");
		r = mgr_zone_restore(m, seg[0], req, want_wait(req), &e);
		return r < 0 ? fail_reply(req, r, &e) : r;
	}
	z = mgr_find_zone(m, seg[0]);
	if (!z) {
		zk_fail(&e, ZK_E_ZONE_NOT_FOUND, "no zone '%.255s' is configured", seg[0]);
		return fail_reply(req, ZK_E_ZONE_NOT_FOUND, &e);
	}
	if (n == 1) {
		int r;

		if (is(req, "GET"))
			return ok_reply(req, 200, json_pack("{s:s,s:o}", "status", "ok", "zone",
							    zone_status(z)));
		if (is(req, "PUT"))
			return do_zone_update(m, z, req);
		if (!is(req, "DELETE"))
			return method_not_allowed(req, "GET, PUT, DELETE");
		r = mgr_zone_delete(m, z, query_true(req, "force"), req, &e);
		return r < 0 ? fail_reply(req, r, &e) : r;
	}
	if (!strcmp(seg[1], "records") && n == 2) {
		if (is(req, "GET"))
			return do_list(z, req);
		if (is(req, "POST"))
			return do_create(m, z, req);
		return method_not_allowed(req, "GET, POST");
	}
	if (!strcmp(seg[1], "records") && n == 3) {
		if (is(req, "PUT"))
			return do_update(m, z, req, seg[2]);
		if (is(req, "DELETE"))
			return do_delete(m, z, req, seg[2]);
		return method_not_allowed(req, "PUT, DELETE");
	}
	if (!strcmp(seg[1], "import") && n == 2)
		return is(req, "POST") ? do_import(m, z, req) : method_not_allowed(req, "POST");
	if ((!strcmp(seg[1], "keys") || !strcmp(seg[1], "ds")) && n == 2)
		return is(req, "GET") ? do_keys(m, z, req, seg[1][0] == 'd')
				      : method_not_allowed(req, "GET");
	if (!strcmp(seg[1], "keys") && n == 3 && !strcmp(seg[2], "rollover"))
		return is(req, "POST") ? do_rollover(m, z, req) : method_not_allowed(req, "POST");
	if (!strcmp(seg[1], "keys") && n == 4 && !strcmp(seg[3], "ds-seen"))
		return is(req, "POST") ? do_ds_seen(m, z, req, seg[2])
				       : method_not_allowed(req, "POST");
	return fail_reply(req, ZK_E_NOT_FOUND, NULL);
}
