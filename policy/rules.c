/* SPDX-License-Identifier: MIT */
/*
 * policy/rules.c -- who may write what (invariant 19): the checks every user write passes,
 * whatever its source (the API, an input zone file). The zone is seen only through the
 * pol_zone_view callback. Nothing here allocates, logs, reads the clock or keeps state,
 * so a change gets the same answer on every path and a failed allocation can never turn
 * a refusal into an acceptance. Names in messages are formatted into stack buffers.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "policy/policy.h"
#include "policy/zk-macro.h"

#define TTL_MAX 2147483647u /* RFC 2181 §8 */
#define MAX_TYPES 256       /* types looked at per owner name; real names have a handful */
#define NAME_STR_MAX 1100   /* a 255-octet name with every octet as \DDD, plus dots */

bool pol_type_is_dnssec(uint16_t type)
{
	switch (type) {
	case LDNS_RR_TYPE_DNSKEY:
	case LDNS_RR_TYPE_RRSIG:
	case LDNS_RR_TYPE_NSEC:
	case LDNS_RR_TYPE_NSEC3:
	case LDNS_RR_TYPE_NSEC3PARAM:
	case LDNS_RR_TYPE_CDS:
	case LDNS_RR_TYPE_CDNSKEY:
		return true;
	default:
		return false;
	}
}

/* Types that exist only in messages, never in a zone (RFC 6895 §3.1; OPT: RFC 6891). */
static bool type_is_meta(uint16_t type)
{
	switch (type) {
	case 0:
	case LDNS_RR_TYPE_OPT:
	case LDNS_RR_TYPE_TKEY:
	case LDNS_RR_TYPE_TSIG:
	case LDNS_RR_TYPE_IXFR:
	case LDNS_RR_TYPE_AXFR:
	case LDNS_RR_TYPE_MAILB:
	case LDNS_RR_TYPE_MAILA:
	case LDNS_RR_TYPE_ANY:
		return true;
	default:
		return false;
	}
}

/* RFC 2181 §10.1, RFC 4035 §2.5: the only types allowed beside a CNAME. */
static bool type_coexists_with_cname(uint16_t type)
{
	return type == LDNS_RR_TYPE_RRSIG || type == LDNS_RR_TYPE_NSEC ||
	       type == LDNS_RR_TYPE_NSEC3;
}

static const char *type_str(uint16_t type, char *buf, size_t size)
{
	const ldns_rr_descriptor *d = ldns_rr_descript(type);

	/* ldns hands back its type-0 row for types it does not know. */
	if (d && d->_type == type && d->_name)
		return d->_name;
	snprintf(buf, size, "TYPE%u", type); /* RFC 3597 §5 */
	return buf;
}

static const char *class_str(ldns_rr_class cls, char *buf, size_t size)
{
	const ldns_lookup_table *lt = ldns_lookup_by_id(ldns_rr_classes, (int) cls);

	if (lt && lt->name)
		return lt->name;
	snprintf(buf, size, "CLASS%u", (unsigned) cls); /* RFC 3597 §5 */
	return buf;
}

/* Presentation form of a wire-format name, escaped the way ldns prints names. */
static const char *name_str(const ldns_rdf *name, char *buf, size_t size)
{
	const uint8_t *w = name ? ldns_rdf_data(name) : NULL;
	size_t len = name ? ldns_rdf_size(name) : 0, pos = 0, out = 0;

#define PUT(...) \
	do { \
		if (out < size) \
			out += (size_t) snprintf(buf + out, size - out, __VA_ARGS__); \
	} while (0)

	buf[0] = '\0';
	if (!w || len == 0 || w[0] == 0) {
		PUT(".");
		return buf;
	}
	while (pos < len && w[pos] != 0) {
		size_t label = w[pos++];

		for (size_t i = 0; i < label && pos < len; i++, pos++) {
			uint8_t ch = w[pos];

			if (ch == '.' || ch == ';' || ch == '(' || ch == ')' || ch == '\\')
				PUT("\\%c", ch);
			else if (ch <= 0x20 || ch >= 0x7f)
				PUT("\\%03u", ch);
			else
				PUT("%c", ch);
		}
		PUT(".");
	}
#undef PUT
	return buf;
}

/* Labels of a wire-format name, the root label excluded; -1 if malformed. */
static int label_count(const uint8_t *w, size_t len)
{
	size_t pos = 0;
	int n = 0;

	while (pos < len && w[pos] != 0) {
		if (w[pos] > 63)
			return -1; /* compression pointers never appear in an rdf */
		pos += 1 + (size_t) w[pos];
		n++;
	}
	return pos < len ? n : -1;
}

/* An rdf that borrows `len` bytes at `w`: lets ldns compare without copying. */
static void rdf_view(ldns_rdf *rdf, const uint8_t *w, size_t len)
{
	memset(rdf, 0, sizeof(*rdf));
	ldns_rdf_set_type(rdf, LDNS_RDF_TYPE_DNAME);
	ldns_rdf_set_size(rdf, len);
	/* ldns wants a non-const pointer; ldns_dname_compare() only reads through it. */
	ldns_rdf_set_data(rdf, (void *) (uintptr_t) w);
}

static bool same_name(const ldns_rdf *a, const ldns_rdf *b)
{
	return ldns_dname_compare(a, b) == 0; /* case-insensitive (RFC 4343) */
}

/*
 * True if `name` is `apex` or below it. ldns_dname_is_subdomain() would do, but it
 * allocates and answers "no" when it runs out of memory; this compares the tail of
 * `name` in place.
 */
static bool at_or_below(const ldns_rdf *name, const ldns_rdf *apex)
{
	const uint8_t *w = ldns_rdf_data(name);
	size_t len = ldns_rdf_size(name), off = 0;
	int n, a;
	ldns_rdf tail;

	if (ldns_rdf_get_type(name) != LDNS_RDF_TYPE_DNAME ||
	    ldns_rdf_get_type(apex) != LDNS_RDF_TYPE_DNAME)
		return false;
	n = label_count(w, len);
	a = label_count(ldns_rdf_data(apex), ldns_rdf_size(apex));
	if (n < 0 || a < 0 || n < a)
		return false;
	for (int i = 0; i < n - a; i++)
		off += 1 + (size_t) w[off];
	rdf_view(&tail, w + off, len - off);
	return same_name(&tail, apex);
}

/*
 * Presentation form -> wire format, for the policy's nameservers (already validated
 * and absolute). Returns the wire length, 0 if the name is malformed.
 */
static size_t dname_wire(const char *s, uint8_t *buf, size_t size)
{
	size_t out = 0;

	if (zk_streq(s, ".")) {
		buf[0] = 0;
		return 1;
	}
	while (*s) {
		size_t start = out++;

		if (out > size)
			return 0;
		while (*s && *s != '.') {
			unsigned ch;

			if (s[0] == '\\' && s[1] >= '0' && s[1] <= '9' && s[2] >= '0' &&
			    s[2] <= '9' && s[3] >= '0' && s[3] <= '9') {
				ch = (unsigned) (s[1] - '0') * 100 + (unsigned) (s[2] - '0') * 10 +
				     (unsigned) (s[3] - '0');
				s += 4;
			} else if (s[0] == '\\' && s[1]) {
				ch = (unsigned char) s[1];
				s += 2;
			} else if (s[0] == '\\')
				return 0;
			else
				ch = (unsigned char) *s++;
			if (ch > 255 || out >= size || out - start > 63)
				return 0;
			buf[out++] = (uint8_t) ch;
		}
		if (out - start - 1 == 0)
			return 0; /* empty label */
		buf[start] = (uint8_t) (out - start - 1);
		if (*s == '.')
			s++;
	}
	if (out >= size)
		return 0;
	buf[out++] = 0;
	return out;
}

bool pol_is_platform_ns(const pol_policy *p, const ldns_rdf *ns_target)
{
	uint8_t wire[LDNS_MAX_DOMAINLEN + 1];

	if (!p || !ns_target || ldns_rdf_get_type(ns_target) != LDNS_RDF_TYPE_DNAME)
		return false;
	for (size_t i = 0; i < p->n_nameservers; i++) {
		size_t len = dname_wire(p->nameservers[i], wire, sizeof(wire));
		ldns_rdf ns;

		if (len == 0)
			continue;
		rdf_view(&ns, wire, len);
		if (same_name(&ns, ns_target))
			return true;
	}
	return false;
}

/* An NS record at the apex naming one of the platform's nameservers. */
static bool is_platform_apex_ns(const pol_zone_view *v, const ldns_rr *rr)
{
	return ldns_rr_get_type(rr) == LDNS_RR_TYPE_NS && ldns_rr_rd_count(rr) >= 1 &&
	       same_name(ldns_rr_owner(rr), v->apex) &&
	       pol_is_platform_ns(v->policy, ldns_rr_rdf(rr, 0));
}

static int fail_platform_ns(const pol_zone_view *v, const ldns_rr *rr, zk_error *reterr)
{
	char owner[NAME_STR_MAX], target[NAME_STR_MAX], list[512];
	size_t off = 0;

	list[0] = '\0';
	for (size_t i = 0; i < v->policy->n_nameservers && off < sizeof(list); i++)
		off += (size_t) snprintf(list + off, sizeof(list) - off, "%s%s", i ? ", " : "",
					 v->policy->nameservers[i]);
	return zk_fail(reterr, ZK_E_PROTECTED_RECORD,
		       "NS %s -> %s is a platform nameserver; the platform nameservers (%s) are "
		       "managed automatically and cannot be modified",
		       name_str(ldns_rr_owner(rr), owner, sizeof(owner)),
		       name_str(ldns_rr_rdf(rr, 0), target, sizeof(target)), list);
}

/* The records zonekeeper owns: SOA, platform apex NS, DNSSEC types. */
static int check_protected(const pol_zone_view *v, const pol_change *c, const ldns_rr *const *rrs,
			   size_t n, zk_error *reterr)
{
	char buf[16];

	for (size_t i = 0; i < n; i++) {
		uint16_t t = (uint16_t) ldns_rr_get_type(rrs[i]);

		if (t == LDNS_RR_TYPE_SOA)
			return zk_fail(reterr, ZK_E_PROTECTED_RECORD,
				       "SOA records are managed automatically and cannot be "
				       "modified");
		if (pol_type_is_dnssec(t))
			return zk_fail(reterr, ZK_E_PROTECTED_RECORD,
				       "%s records are managed automatically by zonekeeper and "
				       "cannot be modified",
				       type_str(t, buf, sizeof(buf)));
	}
	/* Deleting or changing one; adding one (it exists already and is ours). */
	if (c->op != POL_OP_ADD && is_platform_apex_ns(v, c->old_rr))
		return fail_platform_ns(v, c->old_rr, reterr);
	if (c->op != POL_OP_DELETE && is_platform_apex_ns(v, c->new_rr))
		return fail_platform_ns(v, c->new_rr, reterr);
	return 0;
}

static int check_in_zone(const pol_zone_view *v, const ldns_rr *const *rrs, size_t n,
			 zk_error *reterr)
{
	char owner[NAME_STR_MAX], apex[NAME_STR_MAX];

	for (size_t i = 0; i < n; i++)
		if (!at_or_below(ldns_rr_owner(rrs[i]), v->apex))
			return zk_fail(reterr, ZK_E_OUT_OF_ZONE, "%s is outside the zone %s",
				       name_str(ldns_rr_owner(rrs[i]), owner, sizeof(owner)),
				       name_str(v->apex, apex, sizeof(apex)));
	return 0;
}

/* The types at the owner of new_rr, less the record an UPDATE replaces there. */
struct name_types {
	pol_type_count counts[MAX_TYPES];
	size_t n;
};

/* The record's POL_RR_OCTETS. */
static uint32_t rr_octets(const ldns_rr *rr)
{
	uint32_t rdlen = 0;

	for (size_t k = 0; k < ldns_rr_rd_count(rr); k++)
		rdlen += (uint32_t) ldns_rdf_size(ldns_rr_rdf(rr, k));
	return POL_RR_OCTETS(rdlen);
}

static void name_types_load(const pol_zone_view *v, const pol_change *c, struct name_types *nt)
{
	const ldns_rdf *owner = ldns_rr_owner(c->new_rr);

	nt->n = v->types_at ? v->types_at(v->zone, owner, nt->counts, MAX_TYPES) : 0;
	if (nt->n > MAX_TYPES)
		nt->n = MAX_TYPES;
	if (c->op != POL_OP_UPDATE || !same_name(ldns_rr_owner(c->old_rr), owner))
		return;
	for (size_t i = 0; i < nt->n; i++)
		if (nt->counts[i].type == ldns_rr_get_type(c->old_rr) && nt->counts[i].count > 0) {
			uint32_t octets = rr_octets(c->old_rr);

			nt->counts[i].count--;
			nt->counts[i].octets -= octets < nt->counts[i].octets ? octets
									: nt->counts[i].octets;
			break;
		}
}

static uint32_t name_types_count(const struct name_types *nt, uint16_t type)
{
	uint32_t n = 0;

	for (size_t i = 0; i < nt->n; i++)
		if (nt->counts[i].type == type)
			n += nt->counts[i].count;
	return n;
}

/* CNAME at the apex, CNAME beside other data, other data beside a CNAME (RFC 1034 3.6.2). */
static int check_cname(const pol_zone_view *v, const pol_change *c, const struct name_types *nt,
		       zk_error *reterr)
{
	const ldns_rdf *owner = ldns_rr_owner(c->new_rr);
	uint16_t t = (uint16_t) ldns_rr_get_type(c->new_rr);
	char name[NAME_STR_MAX], buf[16];

	if (t == LDNS_RR_TYPE_CNAME) {
		if (same_name(owner, v->apex))
			return zk_fail(reterr, ZK_E_CNAME_CONFLICT,
				       "a CNAME cannot be at the zone apex %s, which has the SOA "
				       "and NS records (RFC 1034 §3.6.2)",
				       name_str(owner, name, sizeof(name)));
		for (size_t i = 0; i < nt->n; i++) {
			uint16_t other = nt->counts[i].type;

			if (other == LDNS_RR_TYPE_CNAME || type_coexists_with_cname(other) ||
			    nt->counts[i].count == 0)
				continue;
			return zk_fail(reterr, ZK_E_CNAME_CONFLICT,
				       "%s has %s records; a CNAME cannot coexist with other data "
				       "(RFC 1034 §3.6.2)",
				       name_str(owner, name, sizeof(name)),
				       type_str(other, buf, sizeof(buf)));
		}
		if (name_types_count(nt, LDNS_RR_TYPE_CNAME) > 0)
			return zk_fail(reterr, ZK_E_CNAME_CONFLICT,
				       "%s already has a CNAME record; a name can have only one "
				       "CNAME (RFC 2181 §10.1)",
				       name_str(owner, name, sizeof(name)));
		return 0;
	}
	if (name_types_count(nt, LDNS_RR_TYPE_CNAME) > 0)
		return zk_fail(reterr, ZK_E_CNAME_CONFLICT,
			       "%s has a CNAME record; %s records cannot coexist with it "
			       "(RFC 1034 §3.6.2)",
			       name_str(owner, name, sizeof(name)), type_str(t, buf, sizeof(buf)));
	return 0;
}

/* "Malformed name, type, TTL or content" (README, Records; DS placement: pol_name_check). */
static int check_valid(const pol_zone_view *v, const pol_change *c, zk_error *reterr)
{
	const ldns_rr *rr = c->new_rr;
	uint16_t t = (uint16_t) ldns_rr_get_type(rr);
	uint32_t ttl = ldns_rr_ttl(rr);
	char buf[16];

	if (type_is_meta(t))
		return zk_fail(reterr, ZK_E_INVALID_RECORD,
			       "%s is a query or meta type, not a record type a zone can hold",
			       type_str(t, buf, sizeof(buf)));
	if (ldns_rr_get_class(rr) != LDNS_RR_CLASS_IN)
		return zk_fail(reterr, ZK_E_INVALID_RECORD,
			       "class %s is not supported: records must be class IN",
			       class_str(ldns_rr_get_class(rr), buf, sizeof(buf)));
	if (ttl > TTL_MAX)
		return zk_fail(reterr, ZK_E_INVALID_RECORD,
			       "TTL %u is above the largest TTL, %u (RFC 2181 §8)", ttl, TTL_MAX);
	/* Key timing assumes no signed RRset outlives max_zone_ttl in caches (RFC 7583). */
	if (ttl > v->policy->max_zone_ttl)
		return zk_fail(reterr, ZK_E_INVALID_RECORD,
			       "TTL %u is above the policy's max_zone_ttl, %u", ttl,
			       v->policy->max_zone_ttl);
	return 0;
}

static uint32_t count_of(const pol_type_count *types, size_t n, uint16_t type)
{
	uint32_t c = 0;

	for (size_t i = 0; i < n; i++)
		if (types[i].type == type)
			c += types[i].count;
	return c;
}

/* Types zonekeeper adds at a name, for the downstream's max_types_per_name. */
#define SYSTEM_TYPES_APEX 8 /* SOA NS DNSKEY NSEC3PARAM CDS CDNSKEY RRSIG NSEC */
#define SYSTEM_TYPES 2      /* RRSIG, NSEC */

int pol_name_check(const pol_policy *p, const ldns_rdf *owner, bool apex,
		   const pol_type_count *types, size_t n, zk_error *reterr)
{
	char name[NAME_STR_MAX], buf[16];
	size_t present = 0;

	if (count_of(types, n, LDNS_RR_TYPE_DS)) {
		/* RFC 4034 §5: a DS sits at a delegation point, on the parent's side */
		if (apex)
			return zk_fail(reterr, ZK_E_INVALID_RECORD,
				       "DS records for the zone %s belong in the parent zone, not "
				       "at its apex", name_str(owner, name, sizeof(name)));
		if (!count_of(types, n, LDNS_RR_TYPE_NS))
			return zk_fail(reterr, ZK_E_INVALID_RECORD,
				       "DS records belong at a delegation point, and %s has no NS "
				       "records: add the delegation's NS records first (or delete "
				       "the DS records before its last NS)",
				       name_str(owner, name, sizeof(name)));
	}
	for (size_t i = 0; i < n; i++) {
		if (!types[i].count)
			continue;
		present++;
		if (p && p->max_records_per_type && types[i].count > p->max_records_per_type &&
		    !(apex && types[i].type == LDNS_RR_TYPE_NS))
			return zk_fail(reterr, ZK_E_LIMIT,
				       "the %s RRset at %s would have %u records; the policy's "
				       "max_records_per_type (what the downstream servers take) is %u",
				       type_str(types[i].type, buf, sizeof(buf)),
				       name_str(owner, name, sizeof(name)), types[i].count,
				       p->max_records_per_type);
		if (types[i].octets > POL_RRSET_MAX_OCTETS)
			return zk_fail(reterr, ZK_E_LIMIT,
				       "the %s RRset at %s would take %u octets in an answer (%u "
				       "records); the limit is %u, so that it fits in a DNS message "
				       "with its signatures",
				       type_str(types[i].type, buf, sizeof(buf)),
				       name_str(owner, name, sizeof(name)), types[i].octets,
				       types[i].count, POL_RRSET_MAX_OCTETS);
	}
	if (present > POL_TYPES_MAX)
		return zk_fail(reterr, ZK_E_LIMIT,
			       "%s would have %zu record types; the limit is %u",
			       name_str(owner, name, sizeof(name)), present, POL_TYPES_MAX);
	if (p && p->max_types_per_name && present &&
	    present + (apex ? SYSTEM_TYPES_APEX : SYSTEM_TYPES) > p->max_types_per_name)
		return zk_fail(reterr, ZK_E_LIMIT,
			       "%s would have %zu record types with the %u zonekeeper adds; the "
			       "policy's max_types_per_name (what the downstream servers take) "
			       "is %u", name_str(owner, name, sizeof(name)),
			       present + (apex ? SYSTEM_TYPES_APEX : SYSTEM_TYPES),
			       apex ? SYSTEM_TYPES_APEX : SYSTEM_TYPES, p->max_types_per_name);
	if (apex && count_of(types, n, LDNS_RR_TYPE_NS) > POL_APEX_NS_MAX)
		return zk_fail(reterr, ZK_E_LIMIT,
			       "the apex %s would have %u NS records besides the platform's "
			       "nameservers; the limit is %u",
			       name_str(owner, name, sizeof(name)),
			       count_of(types, n, LDNS_RR_TYPE_NS), POL_APEX_NS_MAX);
	return 0;
}

/* The name of new_rr as the write leaves it: nt (old_rr already taken out) plus new_rr. */
static int check_name_after(const pol_zone_view *v, const pol_change *c, struct name_types *nt,
			    zk_error *reterr)
{
	const ldns_rr *rr = c->new_rr;
	uint16_t t = (uint16_t) ldns_rr_get_type(rr);
	size_t i;

	for (i = 0; i < nt->n && nt->counts[i].type != t; i++)
		;
	if (i == nt->n) {
		if (nt->n == MAX_TYPES)
			return zk_fail(reterr, ZK_E_LIMIT, "too many record types at one name");
		nt->counts[nt->n++] = (pol_type_count) { .type = t };
	}
	nt->counts[i].count++;
	nt->counts[i].octets += rr_octets(rr);
	return pol_name_check(v->policy, ldns_rr_owner(rr),
			      same_name(ldns_rr_owner(rr), v->apex), nt->counts, nt->n, reterr);
}

/* Deleting (or moving away) the last NS of a delegation that has DS records. */
static int check_delegation_left(const pol_zone_view *v, const pol_change *c, zk_error *reterr)
{
	const ldns_rdf *owner = ldns_rr_owner(c->old_rr);
	pol_type_count counts[MAX_TYPES];
	size_t n;

	if (ldns_rr_get_type(c->old_rr) != LDNS_RR_TYPE_NS || same_name(owner, v->apex) ||
	    !v->types_at)
		return 0;
	if (c->op == POL_OP_UPDATE && ldns_rr_get_type(c->new_rr) == LDNS_RR_TYPE_NS &&
	    same_name(ldns_rr_owner(c->new_rr), owner))
		return 0; /* one NS replaced by another: the delegation stays */
	n = v->types_at(v->zone, owner, counts, MAX_TYPES);
	if (n > MAX_TYPES)
		n = MAX_TYPES;
	for (size_t i = 0; i < n; i++)
		if (counts[i].type == LDNS_RR_TYPE_NS && counts[i].count > 0)
			counts[i].count--;
	return pol_name_check(v->policy, owner, false, counts, n, reterr);
}

int pol_rule_check(const pol_zone_view *v, const pol_change *c, zk_error *reterr)
{
	const ldns_rr *rrs[2];
	struct name_types nt;
	size_t n = 0;
	int r;

	if (!v || !v->apex || !v->policy || !c)
		return zk_fail(reterr, -EINVAL, "pol_rule_check: incomplete zone view");
	if ((c->op != POL_OP_ADD && !c->old_rr) || (c->op != POL_OP_DELETE && !c->new_rr) ||
	    (unsigned) c->op > POL_OP_DELETE)
		return zk_fail(reterr, -EINVAL, "pol_rule_check: change without its records");
	if (c->op != POL_OP_ADD)
		rrs[n++] = c->old_rr;
	if (c->op != POL_OP_DELETE)
		rrs[n++] = c->new_rr;

	r = check_protected(v, c, rrs, n, reterr);
	if (r < 0)
		return r;
	r = check_in_zone(v, rrs, n, reterr);
	if (r < 0)
		return r;
	/* A deletion creates no conflict, but may leave a DS without its delegation. */
	if (c->op != POL_OP_ADD) {
		r = check_delegation_left(v, c, reterr);
		if (r < 0 || c->op == POL_OP_DELETE)
			return r;
	}
	name_types_load(v, c, &nt);
	r = check_cname(v, c, &nt, reterr);
	if (r < 0)
		return r;
	r = check_valid(v, c, reterr);
	if (r < 0)
		return r;
	return check_name_after(v, c, &nt, reterr);
}
