/* SPDX-License-Identifier: MIT */
/*
 * policy/config.c -- the configuration file (zonekeeper.conf(5)): libconfig tree -> pol_config.
 *
 * Each group of the file has a table of {key, parser, offsetof} (STYLE 2.8). A key that is
 * not in its group's table is an error, so a typo can never fall back to a default
 * silently. A parser checks the type and range of one setting and stores it, converted
 * (enums, seconds, absolute lowercase names, absolute paths), in the struct being filled;
 * the checks that involve several settings of a policy run once the policy is complete.
 * pol_policy_defaults() is the one place that lists the DNSSEC defaults. Every string in a
 * pol_config is our own copy: the libconfig tree is destroyed before pol_config_load()
 * returns, on every path.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <libconfig.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "policy/policy.h"
#include "policy/zk-macro.h"

#define MINUTE 60u
#define HOUR (60u * MINUTE)
#define DAY (24u * HOUR)

#define TTL_MAX 2147483647u /* RFC 2181 §8 */
#define WHERE_MAX 600       /* 'zone "<253 chars>": input_file' and the like */

ZK_DEFINE_PTR_CLEANUP(pol_config *, pol_config_free)
ZK_DEFINE_PTR_CLEANUP(ldns_rdf *, ldns_rdf_deep_free)

/* ------------------------------------------------------------------------------------ */
/* Names                                                                                 */

static const char *const keys_names[_POL_KEYS_MAX] = {
	[POL_KEYS_KSK_ZSK] = "ksk-zsk",
	[POL_KEYS_CSK] = "csk",
};

static const char *const denial_names[_POL_DENIAL_MAX] = {
	[POL_DENIAL_NSEC3] = "nsec3",
	[POL_DENIAL_NSEC] = "nsec",
};

static const char *const serial_names[_POL_SERIAL_MAX] = {
	[POL_SERIAL_DATESERIAL] = "dateserial",
	[POL_SERIAL_UNIXTIME] = "unixtime",
	[POL_SERIAL_INCREMENT] = "increment",
	[POL_SERIAL_KEEP] = "keep",
};

static const char *const verify_names[_POL_VERIFY_MAX] = {
	[POL_VERIFY_STANDARD] = "standard",
	[POL_VERIFY_FULL] = "full",
};

/*
 * DNSSEC algorithms by IANA number. `refusal` says why we do not sign with one (RFC 8624
 * §3.1, its successor RFC 9904 keeps every status, and RFC 9905 for the SHA-1 ones); NULL
 * for the five we sign with. Names are the IANA mnemonics, matched case-insensitively.
 */
static const struct alg_info {
	uint8_t number;
	const char *name;
	const char *refusal;
} algorithms[] = {
	{ 1, "RSAMD5", "must not be used for signing (RFC 8624 §3.1)" },
	{ 3, "DSA", "must not be used for signing (RFC 8624 §3.1)" },
	{ 5, "RSASHA1", "must not be used for signing (RFC 9905)" },
	{ 6, "DSA-NSEC3-SHA1", "must not be used for signing (RFC 8624 §3.1)" },
	{ 7, "RSASHA1-NSEC3-SHA1", "must not be used for signing (RFC 9905)" },
	{ POL_ALG_RSASHA256, "RSASHA256", NULL },
	{ 10, "RSASHA512", "is not recommended for signing and deprecated (RFC 8624 §3.1)" },
	{ 12, "ECC-GOST", "must not be used for signing (RFC 8624 §3.1)" },
	{ POL_ALG_ECDSAP256SHA256, "ECDSAP256SHA256", NULL },
	{ POL_ALG_ECDSAP384SHA384, "ECDSAP384SHA384", NULL },
	{ POL_ALG_ED25519, "ED25519", NULL },
	{ POL_ALG_ED448, "ED448", NULL },
};

static const struct alg_info *alg_by_number(long long n)
{
	for (size_t i = 0; i < ZK_ELEMENTSOF(algorithms); i++)
		if (algorithms[i].number == n)
			return &algorithms[i];
	return NULL;
}

static const struct alg_info *alg_by_name(const char *name)
{
	for (size_t i = 0; i < ZK_ELEMENTSOF(algorithms); i++)
		if (strcasecmp(algorithms[i].name, name) == 0)
			return &algorithms[i];
	return NULL;
}

const char *pol_algorithm_name(uint8_t alg)
{
	const struct alg_info *a = alg_by_number(alg);

	return a ? a->name : NULL;
}

int pol_algorithm_from_name(const char *name)
{
	const struct alg_info *a;

	if (!name || !*name)
		return -EINVAL;
	a = alg_by_name(name);
	if (!a && name[0] >= '0' && name[0] <= '9') {
		char *end;
		long n;

		errno = 0;
		n = strtol(name, &end, 10);
		if (errno == 0 && *end == '\0')
			a = alg_by_number(n);
	}
	/* Only the algorithms we sign with: callers use the number to make keys. */
	return a && !a->refusal ? a->number : -EINVAL;
}

const char *pol_keys_name(pol_keys k)
{
	return (unsigned) k < _POL_KEYS_MAX ? keys_names[k] : NULL;
}

const char *pol_denial_name(pol_denial d)
{
	return (unsigned) d < _POL_DENIAL_MAX ? denial_names[d] : NULL;
}

const char *pol_serial_name(pol_serial s)
{
	return (unsigned) s < _POL_SERIAL_MAX ? serial_names[s] : NULL;
}

const char *pol_verify_name(pol_verify v)
{
	return (unsigned) v < _POL_VERIFY_MAX ? verify_names[v] : NULL;
}

/* ------------------------------------------------------------------------------------ */
/* Defaults and freeing                                                                  */

void pol_policy_defaults(pol_policy *p)
{
	/* The documented defaults: RFC 8624 (algorithm 13), RFC 9276 (NSEC3 0 iterations,
	 * no salt, no opt-out), RFC 7583 timing inputs with the values BIND and Knot ship. The SOA
	 * names are left NULL: the loader sets mname to the first nameserver and rname to
	 * "" ("hostmaster.<zone>", filled in by the signer). */
	*p = (pol_policy) {
		.algorithm = POL_ALG_ECDSAP256SHA256,
		.keys = POL_KEYS_KSK_ZSK,
		.ksk_lifetime = 365 * DAY,
		.zsk_lifetime = 90 * DAY,
		.rrsig_validity = 14 * DAY,
		.rrsig_refresh = 7 * DAY,
		.rrsig_jitter = 12 * HOUR,
		.inception_offset = 1 * HOUR,
		.denial = POL_DENIAL_NSEC3,
		.nsec3_iterations = 0,
		.nsec3_salt_length = 0,
		.nsec3_opt_out = false,
		.serial = POL_SERIAL_DATESERIAL,
		.soa = {
			.refresh = 1 * HOUR,
			.retry = 15 * MINUTE,
			/* 6d, not the customary 14d: with the 7d refresh window a secondary
			 * that loses its primary expires the zone before it could serve an
			 * expired signature (invariant 9) */
			.expire = 6 * DAY,
			.minimum = 1 * HOUR,
			.ttl = 1 * HOUR,
		},
		.dnskey_ttl = 1 * HOUR,
		.propagation_delay = 5 * MINUTE,
		.max_zone_ttl = 1 * DAY,
		.parent_ds_ttl = 1 * DAY,
		.parent_propagation_delay = 1 * HOUR,
		.publish_safety = 1 * HOUR,
		.retire_safety = 1 * HOUR,
		.cds = true,
		.cds_digests = { POL_DIGEST_SHA256, 0, 0 },
		.verify = POL_VERIFY_STANDARD,
		.signing_threads = 0,
		.dnskey_size_budget = 1232,
		.ds_check_interval = 1 * HOUR,
	};
}

static void strv_free(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static void policy_done(pol_policy *p)
{
	free(p->name);
	strv_free(p->nameservers, p->n_nameservers);
	free(p->soa.mname);
	free(p->soa.rname);
}

pol_config *pol_config_free(pol_config *c)
{
	if (!c)
		return NULL;
	free(c->path);
	free(c->paths.state_dir);
	free(c->paths.input_dir);
	free(c->paths.include_dir);
	free(c->paths.output_dir);
	free(c->api.socket);
	free(c->api.listen);
	strv_free(c->api.tokens, c->api.n_tokens);
	free(c->catalog.name);
	free(c->publish.reload_command);
	for (size_t i = 0; i < c->publish.n_notify; i++)
		free(c->publish.notify[i].address);
	free(c->publish.notify);
	for (size_t i = 0; i < c->n_policies; i++)
		policy_done(&c->policies[i]);
	free(c->policies);
	for (size_t i = 0; i < c->n_zones; i++) {
		free(c->zones[i].name);
		free(c->zones[i].input_file);
		free(c->zones[i].output_file);
		for (size_t j = 0; j < c->zones[i].n_parental_agents; j++)
			free(c->zones[i].parental_agents[j].address);
		free(c->zones[i].parental_agents);
	}
	free(c->zones);
	free(c);
	return NULL;
}

/* True if the presentation-form name `s` (length `len`) ends with an unescaped dot. */
static bool has_final_dot(const char *s, size_t len)
{
	size_t backslashes = 0;

	if (len == 0 || s[len - 1] != '.')
		return false;
	while (backslashes + 1 < len && s[len - 2 - backslashes] == '\\')
		backslashes++;
	return backslashes % 2 == 0;
}

const pol_zone *pol_config_zone(const pol_config *c, const char *name)
{
	size_t len;

	if (!c || !name)
		return NULL;
	len = strlen(name);
	if (has_final_dot(name, len))
		len--;
	for (size_t i = 0; i < c->n_zones; i++) {
		const char *z = c->zones[i].name;

		/* Stored names always end in their final dot; "." (root) compares as "". */
		if (strlen(z) - 1 == len && strncasecmp(z, name, len) == 0)
			return &c->zones[i];
	}
	return NULL;
}

/* ------------------------------------------------------------------------------------ */
/* Errors, warnings and the locations they name                                          */

/*
 * Warnings wait here until the whole file is accepted: a rejected configuration reports
 * its error and nothing else (a daemon that keeps its old configuration on reload would
 * otherwise log warnings about settings it never applied).
 */
struct pending_diag {
	zk_level level;
	const char *file; /* owned by the libconfig tree, which outlives the queue's flush */
	unsigned line;
	char *message;
};

struct diag_queue {
	struct pending_diag *items;
	size_t n;
	bool oom;
};

static void diag_queue_done(struct diag_queue *q)
{
	for (size_t i = 0; i < q->n; i++)
		free(q->items[i].message);
	free(q->items);
}

struct ctx {
	const char *path;         /* the file as given */
	const char *dir;          /* absolute directory of that file: base of relative paths */
	const zk_diag *diag;      /* where warnings go; NULL drops them */
	struct diag_queue *queue; /* warnings until the file is accepted */
};

static const char *src_file(const struct ctx *ctx, const config_setting_t *s)
{
	const char *f = s ? config_setting_source_file(s) : NULL;

	return f ? f : ctx->path;
}

static unsigned src_line(const config_setting_t *s)
{
	return s ? config_setting_source_line(s) : 0;
}

/* Always returns ZK_E_CONFIG, with the file and line of `s` (or its group). */
static int fail(const struct ctx *ctx, const config_setting_t *s, zk_error *reterr,
		const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static int fail(const struct ctx *ctx, const config_setting_t *s, zk_error *reterr,
		const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	zk_failv(reterr, ZK_E_CONFIG, src_file(ctx, s), src_line(s), fmt, ap);
	va_end(ap);
	return ZK_E_CONFIG;
}

static void emit(const struct ctx *ctx, zk_level level, const config_setting_t *s,
		 const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static void emit(const struct ctx *ctx, zk_level level, const config_setting_t *s,
		 const char *fmt, ...)
{
	struct diag_queue *q = ctx->queue;
	struct pending_diag *items;
	char *msg;
	va_list ap;
	int n;

	if (!ctx->diag || q->oom)
		return;
	va_start(ap, fmt);
	n = vasprintf(&msg, fmt, ap);
	va_end(ap);
	items = n < 0 ? NULL : realloc(q->items, (q->n + 1) * sizeof(*items));
	if (!items) {
		if (n >= 0)
			free(msg);
		q->oom = true; /* pol_config_load() fails with -ENOMEM */
		return;
	}
	q->items = items;
	q->items[q->n++] = (struct pending_diag) {
		.level = level,
		.file = src_file(ctx, s),
		.line = src_line(s),
		.message = msg,
	};
}

static void diag_flush(const struct ctx *ctx)
{
	for (size_t i = 0; i < ctx->queue->n; i++) {
		const struct pending_diag *d = &ctx->queue->items[i];

		zk_diag_emit(ctx->diag, d->level, d->file, d->line, "%s", d->message);
	}
}

/*
 * The setting that best locates a problem involving several settings: the first of the
 * NULL-terminated `keys` (paths like "soa.expire" allowed) present in group `g`, else `g`
 * itself, for a problem made of defaults.
 */
static const config_setting_t *locate(const config_setting_t *g, ...)
{
	const config_setting_t *found = NULL;
	const char *key;
	va_list ap;

	va_start(ap, g);
	while (!found && (key = va_arg(ap, const char *)))
		/* libconfig's lookup takes a non-const pointer but does not modify it. */
		found = config_setting_lookup((config_setting_t *) g, key);
	va_end(ap);
	return found ? found : g;
}

static const char *type_name(const config_setting_t *s)
{
	switch (config_setting_type(s)) {
	case CONFIG_TYPE_GROUP: return "a group";
	case CONFIG_TYPE_INT:
	case CONFIG_TYPE_INT64: return "an integer";
	case CONFIG_TYPE_FLOAT: return "a float";
	case CONFIG_TYPE_STRING: return "a string";
	case CONFIG_TYPE_BOOL: return "a boolean";
	case CONFIG_TYPE_ARRAY: return "an array";
	case CONFIG_TYPE_LIST: return "a list";
	default: return "empty";
	}
}

static const char *dur(uint64_t seconds, char *buf, unsigned size)
{
	if (seconds > UINT32_MAX) {
		snprintf(buf, size, "%llus", (unsigned long long) seconds);
		return buf;
	}
	return zk_duration_str((uint32_t) seconds, buf, size);
}

/* ------------------------------------------------------------------------------------ */
/* Names and paths                                                                       */

/*
 * Domain name in presentation form -> absolute, lowercase presentation form (as ldns
 * prints it). Returns 0, -EINVAL for a name ldns refuses, or -ENOMEM.
 */
static int dname_normalize(const char *in, char **ret)
{
	_cleanup_(ldns_rdf_deep_free_p) ldns_rdf *rdf = NULL;
	_cleanup_free_ char *abs = NULL;
	size_t len = strlen(in);
	ldns_status st;
	char *out;

	if (len == 0)
		return -EINVAL;
	if (!has_final_dot(in, len)) {
		if (asprintf(&abs, "%s.", in) < 0)
			return -ENOMEM;
		in = abs;
	}
	st = ldns_str2rdf_dname(&rdf, in);
	if (st == LDNS_STATUS_MEM_ERR)
		return -ENOMEM;
	if (st != LDNS_STATUS_OK || !rdf)
		return -EINVAL;
	ldns_dname2canonical(rdf);
	out = ldns_rdf2str(rdf);
	if (!out)
		return -ENOMEM;
	*ret = out;
	return 0;
}

/* Absolute directory of the file at `path` (lexically: no symlinks are resolved). */
static int config_dir(const char *path, char **ret)
{
	_cleanup_free_ char *cwd = NULL;
	const char *slash = strrchr(path, '/');
	char *out;
	int n;

	if (path[0] == '/') {
		out = strndup(path, slash == path ? 1 : (size_t) (slash - path));
		if (!out)
			return -ENOMEM;
		*ret = out;
		return 0;
	}
	cwd = getcwd(NULL, 0);
	if (!cwd)
		return -errno;
	if (!slash) {
		*ret = ZK_TAKE(cwd);
		return 0;
	}
	while (path[0] == '.' && path[1] == '/' && path + 1 < slash)
		path += 2;
	if (path + 1 == slash && path[0] == '.')
		n = asprintf(&out, "%s", cwd);
	else
		n = asprintf(&out, "%s/%.*s", cwd, (int) (slash - path), path);
	if (n < 0)
		return -ENOMEM;
	*ret = out;
	return 0;
}

/* `rel` taken relative to `dir` (absolute paths are kept). Returns 0 or -ENOMEM. */
static int path_resolve(const char *dir, const char *rel, char **ret)
{
	char *out;
	int n;

	if (rel[0] == '/') {
		out = strdup(rel);
		if (!out)
			return -ENOMEM;
		*ret = out;
		return 0;
	}
	while (rel[0] == '.' && rel[1] == '/') {
		rel += 2;
		while (*rel == '/')
			rel++;
	}
	if (!*rel || zk_streq(rel, "."))
		n = asprintf(&out, "%s", dir);
	else
		n = asprintf(&out, "%s%s%s", dir, dir[strlen(dir) - 1] == '/' ? "" : "/", rel);
	if (n < 0)
		return -ENOMEM;
	*ret = out;
	return 0;
}

/* ------------------------------------------------------------------------------------ */
/* The parsing tables and the parsers of single settings                                 */

struct field;

/*
 * Parse setting `s` (full name `where`, for messages) into the struct at `base`, at the
 * place `f` says. Returns 0, ZK_E_CONFIG (reterr filled) or -ENOMEM.
 */
typedef int (*parse_fn)(const struct ctx *ctx, const struct field *f, const config_setting_t *s,
			const char *where, void *base, zk_error *reterr);

struct field {
	const char *key;
	parse_fn parse;      /* NULL: the key is valid, its group's parser handles it */
	size_t offset;       /* of the member in the struct being filled */
	size_t size;         /* of that member: integers, enums */
	size_t offset_n;     /* counted arrays: offset of the size_t count */
	long long min, max;  /* integers and durations: accepted range */
	const char *const *names; /* enums: names indexed by value */
	size_t n_names;
};

#define MEMBER(type, m) .offset = offsetof(type, m), .size = sizeof(((type *) 0)->m)
#define F_DURATION(k, type, m, lo) \
	{ .key = k, .parse = parse_duration, MEMBER(type, m), .min = lo, .max = UINT32_MAX }
#define F_TTL(k, type, m) \
	{ .key = k, .parse = parse_duration, MEMBER(type, m), .min = 0, .max = TTL_MAX }
#define F_INT(k, type, m, lo, hi) \
	{ .key = k, .parse = parse_int, MEMBER(type, m), .min = lo, .max = hi }
#define F_BOOL(k, type, m) { .key = k, .parse = parse_bool, MEMBER(type, m) }
#define F_ENUM(k, type, m, tbl) \
	{ .key = k, .parse = parse_enum, MEMBER(type, m), .names = tbl, \
	  .n_names = ZK_ELEMENTSOF(tbl) }
#define F_CALL(k, fn, type, m) { .key = k, .parse = fn, MEMBER(type, m) }
#define F_LIST(k, fn, type, m, count) \
	{ .key = k, .parse = fn, MEMBER(type, m), .offset_n = offsetof(type, count) }
#define F_SKIP(k) { .key = k, .parse = NULL }

static void *member(void *base, const struct field *f)
{
	return (char *) base + f->offset;
}

/* Store an integer into a member of size 1, 2, 4 or 8 (enums are 4 with gcc). */
static void store_uint(void *dst, size_t size, uint64_t v)
{
	uint8_t u8 = (uint8_t) v;
	uint16_t u16 = (uint16_t) v;
	uint32_t u32 = (uint32_t) v;

	switch (size) {
	case 1: memcpy(dst, &u8, 1); break;
	case 2: memcpy(dst, &u16, 2); break;
	case 4: memcpy(dst, &u32, 4); break;
	default: memcpy(dst, &v, sizeof(v)); break;
	}
}

static void set_string(void *dst, char *value)
{
	char **p = dst;

	free(*p);
	*p = value;
}

static int get_string(const struct ctx *ctx, const config_setting_t *s, const char *where,
		      const char **ret, zk_error *reterr)
{
	const char *v;

	if (config_setting_type(s) != CONFIG_TYPE_STRING)
		return fail(ctx, s, reterr, "%s: must be a string, not %s", where, type_name(s));
	v = config_setting_get_string(s);
	if (!v || !*v)
		return fail(ctx, s, reterr, "%s: must not be empty", where);
	*ret = v;
	return 0;
}

static int parse_string(const struct ctx *ctx, const struct field *f, const config_setting_t *s,
			const char *where, void *base, zk_error *reterr)
{
	const char *v;
	char *copy;
	int r;

	r = get_string(ctx, s, where, &v, reterr);
	if (r < 0)
		return r;
	copy = strdup(v);
	if (!copy)
		return -ENOMEM;
	set_string(member(base, f), copy);
	return 0;
}

static int parse_path(const struct ctx *ctx, const struct field *f, const config_setting_t *s,
		      const char *where, void *base, zk_error *reterr)
{
	const char *v;
	char *path;
	int r;

	r = get_string(ctx, s, where, &v, reterr);
	if (r < 0)
		return r;
	r = path_resolve(ctx->dir, v, &path);
	if (r < 0)
		return r;
	set_string(member(base, f), path);
	return 0;
}

static int get_dname(const struct ctx *ctx, const config_setting_t *s, const char *where,
		     char **ret, zk_error *reterr)
{
	const char *v = "";
	int r;

	r = get_string(ctx, s, where, &v, reterr);
	if (r < 0)
		return r;
	r = dname_normalize(v, ret);
	if (r == -EINVAL)
		return fail(ctx, s, reterr, "%s: \"%s\" is not a valid domain name", where, v);
	return r;
}

static int parse_dname(const struct ctx *ctx, const struct field *f, const config_setting_t *s,
		       const char *where, void *base, zk_error *reterr)
{
	char *name = NULL;
	int r;

	r = get_dname(ctx, s, where, &name, reterr);
	if (r < 0)
		return r;
	set_string(member(base, f), name);
	return 0;
}

static int parse_rname(const struct ctx *ctx, const struct field *f, const config_setting_t *s,
		       const char *where, void *base, zk_error *reterr)
{
	const char *v;
	int r;

	r = get_string(ctx, s, where, &v, reterr);
	if (r < 0)
		return r;
	/* An e-mail address is a common mistake; ldns would take '@' as a label byte. */
	if (strchr(v, '@'))
		return fail(ctx, s, reterr,
			    "%s: \"%s\" is an e-mail address; write it as a domain name with "
			    "the '@' replaced by a dot, e.g. \"hostmaster.example.net.\" "
			    "(RFC 1035 §8)",
			    where, v);
	return parse_dname(ctx, f, s, where, base, reterr);
}

static int parse_duration(const struct ctx *ctx, const struct field *f, const config_setting_t *s,
			  const char *where, void *base, zk_error *reterr)
{
	long long v;

	switch (config_setting_type(s)) {
	case CONFIG_TYPE_STRING: {
		const char *str = config_setting_get_string(s);
		uint32_t d;

		if (zk_duration_parse(str, &d) < 0)
			return fail(ctx, s, reterr,
				    "%s: invalid duration \"%s\" (a number of seconds, or numbers "
				    "with a suffix s, m, h, d or w, e.g. \"90d\", \"1h30m\")",
				    where, str);
		v = d;
		break;
	}
	case CONFIG_TYPE_INT:
	case CONFIG_TYPE_INT64:
		v = config_setting_get_int64(s);
		if (v < 0)
			return fail(ctx, s, reterr, "%s: a duration cannot be negative (%lld)",
				    where, v);
		break;
	default:
		return fail(ctx, s, reterr,
			    "%s: must be a duration such as \"1h\" or a number of seconds, not %s",
			    where, type_name(s));
	}
	if (f->max == TTL_MAX && v > f->max)
		return fail(ctx, s, reterr,
			    "%s: %lld seconds is above the largest TTL, %u (RFC 2181 §8)",
			    where, v, TTL_MAX);
	if (v > f->max)
		return fail(ctx, s, reterr, "%s: %lld seconds is too long (at most %lld)", where, v,
			    f->max);
	if (v < f->min)
		return fail(ctx, s, reterr, "%s: must be at least %llds", where, f->min);
	store_uint(member(base, f), f->size, (uint64_t) v);
	return 0;
}

static int parse_int(const struct ctx *ctx, const struct field *f, const config_setting_t *s,
		     const char *where, void *base, zk_error *reterr)
{
	long long v;

	if (config_setting_type(s) != CONFIG_TYPE_INT &&
	    config_setting_type(s) != CONFIG_TYPE_INT64)
		return fail(ctx, s, reterr, "%s: must be an integer, not %s", where, type_name(s));
	v = config_setting_get_int64(s);
	if (v < f->min || v > f->max)
		return fail(ctx, s, reterr, "%s: %lld is out of range (%lld to %lld)", where, v,
			    f->min, f->max);
	store_uint(member(base, f), f->size, (uint64_t) v);
	return 0;
}

static int parse_bool(const struct ctx *ctx, const struct field *f, const config_setting_t *s,
		      const char *where, void *base, zk_error *reterr)
{
	bool v;

	if (config_setting_type(s) != CONFIG_TYPE_BOOL)
		return fail(ctx, s, reterr, "%s: must be true or false, not %s", where,
			    type_name(s));
	v = config_setting_get_bool(s);
	memcpy(member(base, f), &v, sizeof(v));
	return 0;
}

static int parse_enum(const struct ctx *ctx, const struct field *f, const config_setting_t *s,
		      const char *where, void *base, zk_error *reterr)
{
	char expected[256] = "";
	const char *v;
	size_t off = 0;
	int r;

	r = get_string(ctx, s, where, &v, reterr);
	if (r < 0)
		return r;
	for (size_t i = 0; i < f->n_names; i++)
		if (strcasecmp(v, f->names[i]) == 0) {
			store_uint(member(base, f), f->size, i);
			return 0;
		}
	for (size_t i = 0; i < f->n_names && off < sizeof(expected); i++)
		off += (size_t) snprintf(expected + off, sizeof(expected) - off, "%s\"%s\"",
					 i == 0 ? "" : i + 1 == f->n_names ? " or " : ", ",
					 f->names[i]);
	return fail(ctx, s, reterr, "%s: unknown value \"%s\" (expected %s)", where, v, expected);
}

static int parse_algorithm(const struct ctx *ctx, const struct field *f,
			   const config_setting_t *s, const char *where, void *base,
			   zk_error *reterr)
{
	const struct alg_info *a;

	if (config_setting_type(s) == CONFIG_TYPE_STRING) {
		const char *v = config_setting_get_string(s);

		a = alg_by_name(v);
		if (!a)
			return fail(ctx, s, reterr,
				    "%s: unknown algorithm \"%s\" (expected RSASHA256, "
				    "ECDSAP256SHA256, ECDSAP384SHA384, ED25519 or ED448)",
				    where, v);
	} else if (config_setting_type(s) == CONFIG_TYPE_INT ||
		   config_setting_type(s) == CONFIG_TYPE_INT64) {
		long long n = config_setting_get_int64(s);

		a = alg_by_number(n);
		if (!a)
			return fail(ctx, s, reterr,
				    "%s: unknown algorithm number %lld (expected 8, 13, 14, 15 "
				    "or 16)",
				    where, n);
	} else
		return fail(ctx, s, reterr, "%s: must be an algorithm name or number, not %s",
			    where, type_name(s));
	if (a->refusal)
		return fail(ctx, s, reterr,
			    "%s: %s (%u) %s; use ECDSAP256SHA256 (13) or ED25519 (15)", where,
			    a->name, a->number, a->refusal);
	store_uint(member(base, f), f->size, a->number);
	return 0;
}

/* Lists of strings: "[ ... ]" (array) or "( ... )" (list). */
static int check_string_list(const struct ctx *ctx, const config_setting_t *s, const char *where,
			     zk_error *reterr)
{
	if (!config_setting_is_array(s) && !config_setting_is_list(s))
		return fail(ctx, s, reterr,
			    "%s: must be a list of strings [ \"...\", ... ], not %s", where,
			    type_name(s));
	return 0;
}

/* Shared by nameservers (as_dname: normalized, no duplicates) and tokens (verbatim). */
static int parse_strv(const struct ctx *ctx, const struct field *f, const config_setting_t *s,
		      const char *where, void *base, bool as_dname, zk_error *reterr)
{
	char ***vp = member(base, f);
	size_t *np = (size_t *) ((char *) base + f->offset_n);
	unsigned n;
	int r;

	r = check_string_list(ctx, s, where, reterr);
	if (r < 0)
		return r;
	strv_free(*vp, *np);
	*vp = NULL;
	*np = 0;
	n = (unsigned) config_setting_length(s);
	if (n == 0)
		return 0;
	*vp = calloc(n, sizeof(char *));
	if (!*vp)
		return -ENOMEM;
	*np = n; /* NULL entries until filled: strv_free() copes */
	for (unsigned i = 0; i < n; i++) {
		const config_setting_t *e = config_setting_get_elem(s, i);
		char item[WHERE_MAX];
		const char *v;

		snprintf(item, sizeof(item), "%s.[%u]", where, i);
		if (as_dname) {
			r = get_dname(ctx, e, item, &(*vp)[i], reterr);
			if (r < 0)
				return r;
			for (unsigned k = 0; k < i; k++)
				if (zk_streq((*vp)[k], (*vp)[i]))
					return fail(ctx, e, reterr, "%s: %s is listed twice", item,
						    (*vp)[i]);
			continue;
		}
		r = get_string(ctx, e, item, &v, reterr);
		if (r < 0)
			return r;
		/* A token is compared with an HTTP header value: blanks could never match. */
		if (strpbrk(v, " \t\r\n"))
			return fail(ctx, e, reterr, "%s: a token cannot contain blanks", item);
		(*vp)[i] = strdup(v);
		if (!(*vp)[i])
			return -ENOMEM;
	}
	return 0;
}

static int parse_nameservers(const struct ctx *ctx, const struct field *f,
			     const config_setting_t *s, const char *where, void *base,
			     zk_error *reterr)
{
	return parse_strv(ctx, f, s, where, base, true, reterr);
}

static int parse_tokens(const struct ctx *ctx, const struct field *f, const config_setting_t *s,
			const char *where, void *base, zk_error *reterr)
{
	return parse_strv(ctx, f, s, where, base, false, reterr);
}

static int parse_cds_digests(const struct ctx *ctx, const struct field *f,
			     const config_setting_t *s, const char *where, void *base,
			     zk_error *reterr)
{
	uint8_t digests[3] = { 0 };
	unsigned n;

	if (!config_setting_is_array(s) && !config_setting_is_list(s))
		return fail(ctx, s, reterr, "%s: must be a list of digest types [ 2, 4 ], not %s",
			    where, type_name(s));
	n = (unsigned) config_setting_length(s);
	if (n == 0)
		return fail(ctx, s, reterr, "%s: at least one digest type is needed (2: SHA-256)",
			    where);
	for (unsigned i = 0; i < n; i++) {
		const config_setting_t *e = config_setting_get_elem(s, i);
		long long d;

		if (config_setting_type(e) != CONFIG_TYPE_INT &&
		    config_setting_type(e) != CONFIG_TYPE_INT64)
			return fail(ctx, e, reterr, "%s.[%u]: must be an integer, not %s", where, i,
				    type_name(e));
		d = config_setting_get_int64(e);
		/* RFC 8624 §3.3: SHA-1 and GOST are MUST NOT for DS generation. */
		if (d == 1)
			return fail(ctx, e, reterr,
				    "%s.[%u]: SHA-1 (1) DS and CDS records are never generated "
				    "(RFC 8624 §3.3: MUST NOT); use 2 (SHA-256)",
				    where, i);
		if (d == 3)
			return fail(ctx, e, reterr,
				    "%s.[%u]: GOST R 34.11-94 (3) DS and CDS records are never "
				    "generated (RFC 8624 §3.3: MUST NOT); use 2 (SHA-256)",
				    where, i);
		if (d != POL_DIGEST_SHA256 && d != POL_DIGEST_SHA384)
			return fail(ctx, e, reterr,
				    "%s.[%u]: unknown digest type %lld (expected 2 for SHA-256 "
				    "or 4 for SHA-384)",
				    where, i, d);
		for (unsigned k = 0; k < i; k++)
			if (digests[k] == d)
				return fail(ctx, e, reterr,
					    "%s.[%u]: digest type %lld is listed twice", where, i,
					    d);
		/* Two known values and no repeats: i is at most 1 here. */
		digests[i] = (uint8_t) d;
	}
	memcpy(member(base, f), digests, sizeof(digests));
	return 0;
}

/* A port number, "1" to "65535", digits only. */
static int port_parse(const char *s, uint16_t *ret)
{
	unsigned long v = 0;

	if (!*s || strlen(s) > 5)
		return -EINVAL;
	for (const char *p = s; *p; p++) {
		if (*p < '0' || *p > '9')
			return -EINVAL;
		v = v * 10 + (unsigned long) (*p - '0');
	}
	if (v == 0 || v > 65535)
		return -EINVAL;
	*ret = (uint16_t) v;
	return 0;
}

static bool is_ip(const char *s, int family)
{
	unsigned char buf[sizeof(struct in6_addr)];

	return inet_pton(family, s, buf) == 1;
}

/* api.listen: "ADDR:PORT" (IPv4) or "[ADDR]:PORT" (IPv6), numeric only. */
static int parse_listen(const struct ctx *ctx, const struct field *f, const config_setting_t *s,
			const char *where, void *base, zk_error *reterr)
{
	char addr[INET6_ADDRSTRLEN + 1];
	const char *v, *port;
	uint16_t p;
	size_t len;
	bool ok;
	int r;

	r = get_string(ctx, s, where, &v, reterr);
	if (r < 0)
		return r;
	if (v[0] == '[') {
		const char *close = strchr(v, ']');

		len = close ? (size_t) (close - v - 1) : 0;
		ok = close && close[1] == ':' && len < sizeof(addr);
		if (ok) {
			memcpy(addr, v + 1, len);
			addr[len] = '\0';
			port = close + 2;
			ok = is_ip(addr, AF_INET6);
		}
	} else {
		port = strrchr(v, ':');
		len = port ? (size_t) (port - v) : 0;
		ok = port && len < sizeof(addr);
		if (ok) {
			memcpy(addr, v, len);
			addr[len] = '\0';
			port++;
			ok = is_ip(addr, AF_INET);
		}
	}
	if (!ok || port_parse(port, &p) < 0)
		return fail(ctx, s, reterr,
			    "%s: \"%s\" is not a numeric address and port "
			    "(\"127.0.0.1:8053\" or \"[::1]:8053\")",
			    where, v);
	return parse_string(ctx, f, s, where, base, reterr);
}

/* "ADDR" or "ADDR@PORT", numeric IPv4 or IPv6. Returns 0 or -EINVAL. */
static int notify_target_parse(const char *v, char *addr, size_t size, uint16_t *ret_port)
{
	const char *at = strrchr(v, '@');
	size_t len = at ? (size_t) (at - v) : strlen(v);
	uint16_t port = 53;

	if (len >= size || (at && port_parse(at + 1, &port) < 0))
		return -EINVAL;
	memcpy(addr, v, len);
	addr[len] = '\0';
	if (!is_ip(addr, AF_INET) && !is_ip(addr, AF_INET6))
		return -EINVAL;
	*ret_port = port;
	return 0;
}

/* publish.notify and parental_agents: [ "ADDR", "ADDR@PORT", ... ]; port 53 by
 * default. */
static int parse_notify(const struct ctx *ctx, const struct field *f, const config_setting_t *s,
			const char *where, void *base, zk_error *reterr)
{
	pol_notify_target **vp = member(base, f);
	size_t *np = (size_t *) ((char *) base + f->offset_n);
	unsigned n;
	int r;

	r = check_string_list(ctx, s, where, reterr);
	if (r < 0)
		return r;
	n = (unsigned) config_setting_length(s);
	if (n == 0)
		return 0;
	*vp = calloc(n, sizeof(pol_notify_target));
	if (!*vp)
		return -ENOMEM;
	*np = n; /* zeroed entries: pol_config_free() copes with a half-filled array */
	for (unsigned i = 0; i < n; i++) {
		const config_setting_t *e = config_setting_get_elem(s, i);
		char item[WHERE_MAX], addr[INET6_ADDRSTRLEN + 1];
		const char *v;

		snprintf(item, sizeof(item), "%s.[%u]", where, i);
		r = get_string(ctx, e, item, &v, reterr);
		if (r < 0)
			return r;
		if (notify_target_parse(v, addr, sizeof(addr), &(*vp)[i].port) < 0)
			return fail(ctx, e, reterr,
				    "%s: \"%s\" is not a numeric address with an optional port "
				    "(\"192.0.2.1\", \"127.0.0.1@5353\", \"::1@5353\")",
				    item, v);
		(*vp)[i].address = strdup(addr);
		if (!(*vp)[i].address)
			return -ENOMEM;
	}
	return 0;
}

static int parse_members(const struct ctx *ctx, const config_setting_t *g,
			 const struct field *fields, size_t n_fields, const char *prefix,
			 void *base, zk_error *reterr);

static int require_group(const struct ctx *ctx, const config_setting_t *s, const char *where,
			 zk_error *reterr)
{
	if (!config_setting_is_group(s))
		return fail(ctx, s, reterr, "%s: must be a group { ... }, not %s", where,
			    type_name(s));
	return 0;
}

static const struct field soa_fields[] = {
	F_CALL("mname", parse_dname, pol_soa, mname),
	F_CALL("rname", parse_rname, pol_soa, rname),
	F_DURATION("refresh", pol_soa, refresh, 1),
	F_DURATION("retry", pol_soa, retry, 1),
	F_DURATION("expire", pol_soa, expire, 1),
	F_TTL("minimum", pol_soa, minimum),
	F_TTL("ttl", pol_soa, ttl),
};

static int parse_soa(const struct ctx *ctx, const struct field *f, const config_setting_t *s,
		     const char *where, void *base, zk_error *reterr)
{
	char prefix[WHERE_MAX];
	int r;

	r = require_group(ctx, s, where, reterr);
	if (r < 0)
		return r;
	snprintf(prefix, sizeof(prefix), "%s.", where);
	return parse_members(ctx, s, soa_fields, ZK_ELEMENTSOF(soa_fields), prefix,
			     member(base, f), reterr);
}

static const struct field policy_fields[] = {
	F_SKIP("name"),
	F_CALL("algorithm", parse_algorithm, pol_policy, algorithm),
	F_ENUM("keys", pol_policy, keys, keys_names),
	F_DURATION("ksk_lifetime", pol_policy, ksk_lifetime, 0),
	F_DURATION("zsk_lifetime", pol_policy, zsk_lifetime, 0),
	F_DURATION("rrsig_validity", pol_policy, rrsig_validity, 1),
	F_DURATION("rrsig_refresh", pol_policy, rrsig_refresh, 0),
	F_DURATION("rrsig_jitter", pol_policy, rrsig_jitter, 0),
	F_DURATION("inception_offset", pol_policy, inception_offset, 0),
	F_ENUM("denial", pol_policy, denial, denial_names),
	F_INT("nsec3_iterations", pol_policy, nsec3_iterations, 0, UINT16_MAX),
	/* RFC 5155 §3.2: the salt length is one octet. */
	F_INT("nsec3_salt_length", pol_policy, nsec3_salt_length, 0, 255),
	F_BOOL("nsec3_opt_out", pol_policy, nsec3_opt_out),
	F_ENUM("serial", pol_policy, serial, serial_names),
	F_LIST("nameservers", parse_nameservers, pol_policy, nameservers, n_nameservers),
	F_CALL("soa", parse_soa, pol_policy, soa),
	F_TTL("dnskey_ttl", pol_policy, dnskey_ttl),
	F_DURATION("propagation_delay", pol_policy, propagation_delay, 0),
	F_TTL("max_zone_ttl", pol_policy, max_zone_ttl),
	F_TTL("parent_ds_ttl", pol_policy, parent_ds_ttl),
	F_DURATION("parent_propagation_delay", pol_policy, parent_propagation_delay, 0),
	F_DURATION("publish_safety", pol_policy, publish_safety, 0),
	F_DURATION("retire_safety", pol_policy, retire_safety, 0),
	F_BOOL("cds", pol_policy, cds),
	F_BOOL("insecure", pol_policy, insecure),
	F_CALL("cds_digests", parse_cds_digests, pol_policy, cds_digests),
	F_ENUM("verify", pol_policy, verify, verify_names),
	F_INT("signing_threads", pol_policy, signing_threads, 0, 1024),
	/* 512: the smallest DNS message every resolver takes (RFC 1035 §2.3.4). */
	F_INT("dnskey_size_budget", pol_policy, dnskey_size_budget, 512, 65535),
	F_DURATION("ds_check_interval", pol_policy, ds_check_interval, 1),
	F_INT("max_records_per_type", pol_policy, max_records_per_type, 0, 65535),
	F_INT("max_types_per_name", pol_policy, max_types_per_name, 0, 65535),
};

static const struct field paths_fields[] = {
	F_CALL("state_dir", parse_path, pol_config, paths.state_dir),
	F_CALL("input_dir", parse_path, pol_config, paths.input_dir),
	F_CALL("include_dir", parse_path, pol_config, paths.include_dir),
	F_CALL("output_dir", parse_path, pol_config, paths.output_dir),
};

static const struct field api_fields[] = {
	F_CALL("socket", parse_path, pol_config, api.socket),
	F_CALL("listen", parse_listen, pol_config, api.listen),
	F_LIST("tokens", parse_tokens, pol_config, api.tokens, api.n_tokens),
	F_INT("max_body", pol_config, api.max_body, 1, UINT32_MAX),
	F_INT("max_connections", pol_config, api.max_connections, 1, 65535),
	F_DURATION("idle_timeout", pol_config, api.idle_timeout, 1),
};

static const struct field publish_fields[] = {
	F_CALL("reload_command", parse_string, pol_config, publish.reload_command),
	F_DURATION("reload_timeout", pol_config, publish.reload_timeout, 1),
	F_LIST("notify", parse_notify, pol_config, publish.notify, publish.n_notify),
};

static const struct field zone_fields[] = {
	F_SKIP("name"),
	F_SKIP("policy"),
	F_CALL("input_file", parse_path, pol_zone, input_file),
	F_CALL("output_file", parse_path, pol_zone, output_file),
	F_LIST("parental_agents", parse_notify, pol_zone, parental_agents, n_parental_agents),
};

static const struct field catalog_fields[] = {
	F_CALL("name", parse_dname, pol_config, catalog.name),
};

/* Top-level groups; parsed in this order (zones refer to policies and paths). */
static const struct field root_fields[] = {
	F_SKIP("paths"), F_SKIP("api"), F_SKIP("publish"), F_SKIP("policies"), F_SKIP("zones"),
	F_SKIP("catalog"),
	F_INT("archive_days", pol_config, archive_days, 0, 36500),
};

/*
 * Parse every member of group `g` with the table `fields`, in file order, so that the
 * first problem in the file is the one reported. `prefix` + key names a member.
 */
static int parse_members(const struct ctx *ctx, const config_setting_t *g,
			 const struct field *fields, size_t n_fields, const char *prefix,
			 void *base, zk_error *reterr)
{
	unsigned n = (unsigned) config_setting_length(g);

	for (unsigned i = 0; i < n; i++) {
		const config_setting_t *s = config_setting_get_elem(g, i);
		const char *key = config_setting_name(s);
		const struct field *f = NULL;
		char where[WHERE_MAX];
		int r;

		snprintf(where, sizeof(where), "%s%s", prefix, key);
		for (size_t k = 0; k < n_fields && !f; k++)
			if (zk_streq(fields[k].key, key))
				f = &fields[k];
		if (!f)
			return fail(ctx, s, reterr, "%s: unknown setting", where);
		if (!f->parse)
			continue;
		r = f->parse(ctx, f, s, where, base, reterr);
		if (r < 0)
			return r;
	}
	return 0;
}

/* ------------------------------------------------------------------------------------ */
/* Groups and lists of groups                                                            */

static int parse_group(const struct ctx *ctx, const config_setting_t *root, const char *key,
		       const struct field *fields, size_t n_fields, void *base, zk_error *reterr)
{
	const config_setting_t *s = config_setting_get_member(root, key);
	char prefix[WHERE_MAX];
	int r;

	if (!s)
		return 0;
	r = require_group(ctx, s, key, reterr);
	if (r < 0)
		return r;
	snprintf(prefix, sizeof(prefix), "%s.", key);
	return parse_members(ctx, s, fields, n_fields, prefix, base, reterr);
}

static int parse_paths(const struct ctx *ctx, const config_setting_t *root, pol_config *c,
		       zk_error *reterr)
{
	int r;

	c->paths.state_dir = strdup("/var/lib/zonekeeper");
	if (!c->paths.state_dir)
		return -ENOMEM;
	r = parse_group(ctx, root, "paths", paths_fields, ZK_ELEMENTSOF(paths_fields), c, reterr);
	if (r < 0)
		return r;
	if (!c->paths.input_dir) {
		r = path_resolve(c->paths.state_dir, "unsigned", &c->paths.input_dir);
		if (r < 0)
			return r;
	}
	if (!c->paths.output_dir) {
		r = path_resolve(c->paths.state_dir, "signed", &c->paths.output_dir);
		if (r < 0)
			return r;
	}
	if (!c->paths.include_dir) {
		c->paths.include_dir = strdup(c->paths.input_dir);
		if (!c->paths.include_dir)
			return -ENOMEM;
	}
	return 0;
}

static int parse_api(const struct ctx *ctx, const config_setting_t *root, pol_config *c,
		     zk_error *reterr)
{
	int r;

	c->api.socket = strdup("/run/zonekeeper/api.sock");
	if (!c->api.socket)
		return -ENOMEM;
	c->api.max_body = 1024 * 1024;
	c->api.max_connections = 64;
	c->api.idle_timeout = 30;
	r = parse_group(ctx, root, "api", api_fields, ZK_ELEMENTSOF(api_fields), c, reterr);
	if (r < 0)
		return r;
	/* A TCP listener without credentials would let anyone rewrite every zone. */
	if (c->api.listen && c->api.n_tokens == 0)
		return fail(ctx, locate(config_setting_get_member(root, "api"), "listen", NULL),
			    reterr, "api.listen: a TCP listener needs at least one bearer token in "
			    "api.tokens");
	return 0;
}

static int parse_publish(const struct ctx *ctx, const config_setting_t *root, pol_config *c,
			 zk_error *reterr)
{
	c->publish.reload_timeout = 30;
	return parse_group(ctx, root, "publish", publish_fields, ZK_ELEMENTSOF(publish_fields), c,
			   reterr);
}

static int require_list(const struct ctx *ctx, const config_setting_t *s, const char *where,
			const char *example, zk_error *reterr)
{
	if (!config_setting_is_list(s))
		return fail(ctx, s, reterr, "%s: must be a list of groups %s, not %s", where,
			    example, type_name(s));
	return 0;
}

struct key_ref {
	const char *key;
	unsigned idx;
};

static int key_ref_cmp(const void *a, const void *b)
{
	const struct key_ref *x = a, *y = b;
	int r = strcmp(x->key, y->key);

	if (r)
		return r;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

/*
 * Find two equal keys. Sorting keeps this O(n log n) for platforms with many thousands
 * of zones. Of all repeated keys, reports the repeat that comes first in the file.
 * Returns 1 (found: *ret_first, *ret_second), 0 or -ENOMEM.
 */
static int find_duplicate(const char *const *keys, size_t stride, size_t n, unsigned *ret_first,
			  unsigned *ret_second)
{
	_cleanup_free_ struct key_ref *refs = NULL;
	unsigned best_first = 0, best_second = 0;
	bool found = false;

	if (n < 2)
		return 0;
	refs = calloc(n, sizeof(*refs));
	if (!refs)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		refs[i] = (struct key_ref) {
			.key = *(const char *const *) ((const char *) keys + i * stride),
			.idx = (unsigned) i,
		};
	qsort(refs, n, sizeof(*refs), key_ref_cmp);
	/* Equal keys sort by index: the first two entries of a run are its earliest pair. */
	for (size_t i = 1; i < n; i++) {
		if (!zk_streq(refs[i - 1].key, refs[i].key) ||
		    (i >= 2 && zk_streq(refs[i - 2].key, refs[i].key)))
			continue;
		if (!found || refs[i].idx < best_second) {
			best_first = refs[i - 1].idx;
			best_second = refs[i].idx;
			found = true;
		}
	}
	if (!found)
		return 0;
	*ret_first = best_first;
	*ret_second = best_second;
	return 1;
}

/*
 * Checks across the settings of one policy, and the defaults that depend on other
 * settings. `g` is the policy's group, for locations; `prefix` names the policy.
 */
static int finish_policy(const struct ctx *ctx, const config_setting_t *g, const char *prefix,
			 pol_policy *p, zk_error *reterr)
{
	char a[32], b[32], c[32];
	uint64_t need;

	if (!p->soa.mname) {
		if (p->n_nameservers == 0)
			return fail(ctx, locate(g, "nameservers", "soa", NULL), reterr,
				    "%ssoa.mname is required when nameservers is empty", prefix);
		p->soa.mname = strdup(p->nameservers[0]);
		if (!p->soa.mname)
			return -ENOMEM;
	}
	if (!p->soa.rname) {
		p->soa.rname = strdup(""); /* "hostmaster.<zone>", filled in per zone */
		if (!p->soa.rname)
			return -ENOMEM;
	}

	if (p->rrsig_refresh >= p->rrsig_validity)
		return fail(ctx, locate(g, "rrsig_refresh", "rrsig_validity", NULL), reterr,
			    "%srrsig_refresh (%s) must be shorter than rrsig_validity (%s)", prefix,
			    dur(p->rrsig_refresh, a, sizeof(a)),
			    dur(p->rrsig_validity, b, sizeof(b)));
	/* A signature lives validity - jitter at least; it must outlive the refresh window,
	 * or it would be due for re-signing the moment it is made. */
	if (p->rrsig_jitter >= p->rrsig_validity - p->rrsig_refresh)
		return fail(ctx, locate(g, "rrsig_jitter", "rrsig_validity", "rrsig_refresh", NULL),
			    reterr,
			    "%srrsig_jitter (%s) must be shorter than rrsig_validity - "
			    "rrsig_refresh (%s)",
			    prefix, dur(p->rrsig_jitter, a, sizeof(a)),
			    dur(p->rrsig_validity - p->rrsig_refresh, b, sizeof(b)));
	/* Invariants 7 and 20: a signature published with R left must still be valid after it
	 * has reached every secondary (Dprp) and every cache (TTLsig). */
	need = (uint64_t) p->propagation_delay + p->max_zone_ttl;
	if (p->rrsig_refresh < need)
		return fail(ctx,
			    locate(g, "rrsig_refresh", "propagation_delay", "max_zone_ttl", NULL),
			    reterr,
			    "%srrsig_refresh (%s): refresh window shorter than propagation delay + "
			    "max zone TTL (propagation_delay + max_zone_ttl = %s)",
			    prefix, dur(p->rrsig_refresh, a, sizeof(a)), dur(need, b, sizeof(b)));

	if (p->denial == POL_DENIAL_NSEC) {
		/* The NSEC3 parameters mean nothing with NSEC: store the defaults, so the
		 * struct says what will be used. */
		if (p->nsec3_iterations || p->nsec3_salt_length || p->nsec3_opt_out)
			emit(ctx, ZK_LOG_NOTICE,
			     locate(g, "nsec3_iterations", "nsec3_salt_length", "nsec3_opt_out",
				    NULL),
			     "%snsec3_iterations, nsec3_salt_length and nsec3_opt_out are ignored: "
			     "denial is nsec",
			     prefix);
		p->nsec3_iterations = 0;
		p->nsec3_salt_length = 0;
		p->nsec3_opt_out = false;
	} else if (p->nsec3_iterations != 0)
		/* RFC 9276 §3.1 "MUST use 0"; BIND 9.20 refuses too. Our decision: error. */
		return fail(ctx, locate(g, "nsec3_iterations", NULL), reterr,
			    "%snsec3_iterations must be 0 (RFC 9276), not %u: extra iterations "
			    "add no protection and validators may treat the zone as insecure",
			    prefix, p->nsec3_iterations);

	/* The SOA's signature is a zone signature: key timing assumes its TTL is at most
	 * TTLsig, and the rules refuse larger TTLs in user data. */
	if (p->soa.ttl > p->max_zone_ttl)
		return fail(ctx, locate(g, "soa.ttl", "max_zone_ttl", NULL), reterr,
			    "%ssoa.ttl (%s) is above max_zone_ttl (%s)", prefix,
			    dur(p->soa.ttl, a, sizeof(a)), dur(p->max_zone_ttl, b, sizeof(b)));

	/* RFC 7583 §3.2.1, §3.3.1: a key must live long enough for its successor to be
	 * published and reach every cache, and for its own signatures to expire from them. */
	{
		uint64_t zsk_need = (uint64_t) p->rrsig_validity + p->propagation_delay +
				    p->max_zone_ttl + p->dnskey_ttl;
		uint64_t ksk_need = (uint64_t) p->dnskey_ttl + p->propagation_delay +
				    p->parent_ds_ttl + p->parent_propagation_delay;

		if (p->keys == POL_KEYS_KSK_ZSK && p->zsk_lifetime &&
		    p->zsk_lifetime < zsk_need)
			return fail(ctx, locate(g, "zsk_lifetime", NULL), reterr,
				    "%szsk_lifetime (%s) is too short for a rollover: it must "
				    "be at least rrsig_validity + propagation_delay + "
				    "max_zone_ttl + dnskey_ttl = %s, or 0 for manual rollovers",
				    prefix, dur(p->zsk_lifetime, a, sizeof(a)),
				    dur(zsk_need, b, sizeof(b)));
		if (p->keys == POL_KEYS_KSK_ZSK && p->ksk_lifetime &&
		    p->ksk_lifetime < ksk_need)
			return fail(ctx, locate(g, "ksk_lifetime", NULL), reterr,
				    "%sksk_lifetime (%s) is too short for a rollover: it must "
				    "be at least dnskey_ttl + propagation_delay + parent_ds_ttl "
				    "+ parent_propagation_delay = %s, or 0 for manual rollovers",
				    prefix, dur(p->ksk_lifetime, a, sizeof(a)),
				    dur(ksk_need, b, sizeof(b)));
		/* A CSK rolls as both: the longer of the two bounds applies. */
		need = zsk_need > ksk_need ? zsk_need : ksk_need;
		if (p->keys == POL_KEYS_CSK && p->ksk_lifetime && p->ksk_lifetime < need)
			return fail(ctx, locate(g, "ksk_lifetime", "keys", NULL), reterr,
				    "%sksk_lifetime (%s, the CSK lifetime with keys = \"csk\") "
				    "is too short for a rollover: it must be at least %s (the "
				    "larger of rrsig_validity + propagation_delay + "
				    "max_zone_ttl + dnskey_ttl and dnskey_ttl + "
				    "propagation_delay + parent_ds_ttl + "
				    "parent_propagation_delay), or 0 for manual rollovers",
				    prefix, dur(p->ksk_lifetime, a, sizeof(a)),
				    dur(need, b, sizeof(b)));
	}

	/* Warnings: legal, but worth a second look. */
	if (p->denial == POL_DENIAL_NSEC3 && p->nsec3_salt_length > 0)
		emit(ctx, ZK_LOG_WARNING, locate(g, "nsec3_salt_length", NULL),
		     "%snsec3_salt_length is %u; RFC 9276: SHOULD NOT use a salt (it gives no "
		     "protection against zone enumeration)",
		     prefix, p->nsec3_salt_length);
	if (p->denial == POL_DENIAL_NSEC3 && p->nsec3_opt_out)
		emit(ctx, ZK_LOG_WARNING, locate(g, "nsec3_opt_out", NULL),
		     "%snsec3_opt_out is on; RFC 9276: opt-out SHOULD only be used for very large, "
		     "delegation-centric zones (insecure delegations lose signed denial)",
		     prefix);
	/* Invariant 9: a secondary cut off from the primary keeps serving the zone until
	 * SOA expire; its signatures must last that long after they were published. */
	need = (uint64_t) p->soa.expire + p->propagation_delay;
	if (p->rrsig_refresh < need)
		emit(ctx, ZK_LOG_WARNING, locate(g, "rrsig_refresh", "soa.expire", NULL),
		     "%srrsig_refresh (%s) is shorter than soa.expire + propagation_delay "
		     "(%s + %s): a secondary cut off from the primary could serve expired "
		     "signatures before the zone expires",
		     prefix, dur(p->rrsig_refresh, a, sizeof(a)), dur(p->soa.expire, b, sizeof(b)),
		     dur(p->propagation_delay, c, sizeof(c)));
	return 0;
}

static int parse_policy(const struct ctx *ctx, const config_setting_t *g, unsigned idx,
			pol_policy *p, zk_error *reterr)
{
	static const struct field name_field = F_CALL("name", parse_string, pol_policy, name);
	const config_setting_t *name;
	char where[32], prefix[WHERE_MAX];
	int r;

	pol_policy_defaults(p);
	snprintf(where, sizeof(where), "policies.[%u]", idx);
	r = require_group(ctx, g, where, reterr);
	if (r < 0)
		return r;
	name = config_setting_get_member(g, "name");
	if (!name)
		return fail(ctx, g, reterr, "%s: name is required", where);
	snprintf(prefix, sizeof(prefix), "%s.name", where);
	r = parse_string(ctx, &name_field, name, prefix, p, reterr);
	if (r < 0)
		return r;
	/* From here on, name the policy the way a person finds it in the file. */
	snprintf(prefix, sizeof(prefix), "policy \"%s\": ", p->name);
	r = parse_members(ctx, g, policy_fields, ZK_ELEMENTSOF(policy_fields), prefix, p, reterr);
	if (r < 0)
		return r;
	return finish_policy(ctx, g, prefix, p, reterr);
}

static int parse_policies(const struct ctx *ctx, const config_setting_t *root, pol_config *c,
			  zk_error *reterr)
{
	const config_setting_t *s = config_setting_get_member(root, "policies");
	unsigned n, first, second;
	int r;

	if (!s)
		return 0;
	r = require_list(ctx, s, "policies", "( { name = \"default\"; ... } )", reterr);
	if (r < 0)
		return r;
	n = (unsigned) config_setting_length(s);
	if (n == 0)
		return 0;
	c->policies = calloc(n, sizeof(pol_policy));
	if (!c->policies)
		return -ENOMEM;
	c->n_policies = n; /* zeroed entries: pol_config_free() copes */
	for (unsigned i = 0; i < n; i++) {
		r = parse_policy(ctx, config_setting_get_elem(s, i), i, &c->policies[i], reterr);
		if (r < 0)
			return r;
	}
	r = find_duplicate((const char *const *) &c->policies[0].name, sizeof(pol_policy), n,
			   &first, &second);
	if (r < 0)
		return r;
	if (r > 0)
		return fail(ctx, locate(config_setting_get_elem(s, second), "name", NULL), reterr,
			    "policy \"%s\": name: a policy of that name is already defined at "
			    "line %u",
			    c->policies[second].name,
			    src_line(config_setting_get_elem(s, first)));
	return 0;
}

static const pol_policy *policy_by_name(const pol_config *c, const char *name)
{
	for (size_t i = 0; i < c->n_policies; i++)
		if (zk_streq(c->policies[i].name, name))
			return &c->policies[i];
	return NULL;
}

/* The policy of a zone that names none: the only one, or the one called "default". */
static const pol_policy *policy_implicit(const pol_config *c)
{
	return c->n_policies == 1 ? &c->policies[0] : policy_by_name(c, "default");
}

const pol_policy *pol_config_policy(const pol_config *c, const char *name)
{
	return c && name ? policy_by_name(c, name) : NULL;
}

const pol_policy *pol_config_default_policy(const pol_config *c)
{
	return c ? policy_implicit(c) : NULL;
}

/* "<dir>/<zone name without the final dot>.zone"; the root zone is "root.zone". */
static int zone_file_default(const char *dir, const char *zone, char **ret)
{
	_cleanup_free_ char *file = NULL;
	size_t len = strlen(zone) - 1;

	if (asprintf(&file, "%.*s.zone", (int) (len ? len : 4), len ? zone : "root") < 0)
		return -ENOMEM;
	return path_resolve(dir, file, ret);
}

static int parse_zone(const struct ctx *ctx, const config_setting_t *g, unsigned idx,
		      pol_config *c, pol_zone *z, zk_error *reterr)
{
	const config_setting_t *name, *pol;
	char where[32], prefix[WHERE_MAX];
	int r;

	snprintf(where, sizeof(where), "zones.[%u]", idx);
	r = require_group(ctx, g, where, reterr);
	if (r < 0)
		return r;
	name = config_setting_get_member(g, "name");
	if (!name)
		return fail(ctx, g, reterr, "%s: name is required", where);
	snprintf(prefix, sizeof(prefix), "%s.name", where);
	r = get_dname(ctx, name, prefix, &z->name, reterr);
	if (r < 0)
		return r;
	/* The name becomes a file name in input_dir and output_dir. */
	if (strchr(z->name, '/'))
		return fail(ctx, name, reterr, "%s: zone name \"%s\" must not contain '/'", prefix,
			    z->name);
	snprintf(prefix, sizeof(prefix), "zone \"%s\": ", z->name);
	r = parse_members(ctx, g, zone_fields, ZK_ELEMENTSOF(zone_fields), prefix, z, reterr);
	if (r < 0)
		return r;

	pol = config_setting_get_member(g, "policy");
	if (pol) {
		char pol_where[WHERE_MAX + 8];
		const char *v;

		snprintf(pol_where, sizeof(pol_where), "%spolicy", prefix);
		r = get_string(ctx, pol, pol_where, &v, reterr);
		if (r < 0)
			return r;
		z->policy = policy_by_name(c, v);
		if (!z->policy)
			return fail(ctx, pol, reterr, "%s: unknown policy \"%s\"", pol_where, v);
	} else {
		if (c->n_policies == 0)
			return fail(ctx, g, reterr,
				    "%sno policy is defined: add one to policies = ( ... )",
				    prefix);
		z->policy = policy_implicit(c);
		if (!z->policy)
			return fail(ctx, g, reterr,
				    "%spolicy is required: there are %zu policies and none is "
				    "named \"default\"",
				    prefix, c->n_policies);
	}

	if (!z->input_file) {
		r = zone_file_default(c->paths.input_dir, z->name, &z->input_file);
		if (r < 0)
			return r;
	}
	if (!z->output_file) {
		r = zone_file_default(c->paths.output_dir, z->name, &z->output_file);
		if (r < 0)
			return r;
	}
	return 0;
}

static int parse_zones(const struct ctx *ctx, const config_setting_t *root, pol_config *c,
		       zk_error *reterr)
{
	const config_setting_t *s = config_setting_get_member(root, "zones");
	unsigned n, first, second;
	int r;

	if (!s)
		return 0;
	r = require_list(ctx, s, "zones", "( { name = \"example.com.\"; } )", reterr);
	if (r < 0)
		return r;
	n = (unsigned) config_setting_length(s);
	if (n == 0)
		return 0; /* a daemon with no zones yet */
	c->zones = calloc(n, sizeof(pol_zone));
	if (!c->zones)
		return -ENOMEM;
	c->n_zones = n;
	for (unsigned i = 0; i < n; i++) {
		r = parse_zone(ctx, config_setting_get_elem(s, i), i, c, &c->zones[i], reterr);
		if (r < 0)
			return r;
	}
	/* Names are lowercase by now, so this is the case-insensitive comparison. */
	r = find_duplicate((const char *const *) &c->zones[0].name, sizeof(pol_zone), n, &first,
			   &second);
	if (r < 0)
		return r;
	if (r > 0)
		return fail(ctx, locate(config_setting_get_elem(s, second), "name", NULL), reterr,
			    "zone \"%s\": name: the zone is already listed at line %u",
			    c->zones[second].name, src_line(config_setting_get_elem(s, first)));
	/* Two zones published to one file would overwrite each other. */
	r = find_duplicate((const char *const *) &c->zones[0].output_file, sizeof(pol_zone), n,
			   &first, &second);
	if (r < 0)
		return r;
	if (r > 0)
		return fail(ctx, locate(config_setting_get_elem(s, second), "output_file", NULL),
			    reterr,
			    "zone \"%s\": output_file: %s is also the output of zone \"%s\"",
			    c->zones[second].name, c->zones[second].output_file,
			    c->zones[first].name);
	return 0;
}

/* ------------------------------------------------------------------------------------ */

int pol_config_load(const char *path, const zk_diag *diag, pol_config **ret, zk_error *reterr)
{
	_cleanup_(pol_config_free_p) pol_config *c = NULL;
	_cleanup_(diag_queue_done) struct diag_queue queue = { 0 };
	_cleanup_free_ char *dir = NULL;
	_cleanup_(config_destroy) config_t cfg;
	const config_setting_t *root;
	struct ctx ctx;
	FILE *f;
	int r;

	config_init(&cfg);
	if (!path || !ret)
		return zk_fail(reterr, -EINVAL, "no configuration file given");

	/* libconfig reports every I/O failure as "file I/O error"; say which. */
	f = fopen(path, "re");
	if (!f)
		return zk_fail_at(reterr, ZK_E_CONFIG, path, 0, "cannot open: %s", strerror(errno));
	fclose(f);

	r = config_dir(path, &dir);
	if (r < 0)
		return zk_fail(reterr, r, "%s", path);
	ctx = (struct ctx) { .path = path, .dir = dir, .diag = diag, .queue = &queue };
	config_set_include_dir(&cfg, dir);
	if (!config_read_file(&cfg, path))
		return zk_fail_at(reterr, ZK_E_CONFIG,
				  config_error_file(&cfg) ? config_error_file(&cfg) : path,
				  (unsigned) config_error_line(&cfg), "%s",
				  config_error_text(&cfg) ? config_error_text(&cfg) : "unreadable");

	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->path = strdup(path);
	if (!c->path)
		return -ENOMEM;
	c->archive_days = 30;

	root = config_root_setting(&cfg);
	/* Only to reject unknown top-level keys: the sections are parsed below, in the
	 * order their dependencies need (zones refer to policies and paths). */
	r = parse_members(&ctx, root, root_fields, ZK_ELEMENTSOF(root_fields), "", c, reterr);
	if (r >= 0)
		r = parse_paths(&ctx, root, c, reterr);
	if (r >= 0)
		r = parse_api(&ctx, root, c, reterr);
	if (r >= 0)
		r = parse_publish(&ctx, root, c, reterr);
	if (r >= 0)
		r = parse_policies(&ctx, root, c, reterr);
	if (r >= 0)
		r = parse_group(&ctx, root, "catalog", catalog_fields, ZK_ELEMENTSOF(catalog_fields),
				c, reterr);
	if (r >= 0 && config_setting_get_member(root, "catalog") && !c->catalog.name)
		r = fail(&ctx, config_setting_get_member(root, "catalog"), reterr,
			 "catalog: name is required, e.g. catalog = { name = \"catalog.invalid.\"; };");
	if (r >= 0)
		r = parse_zones(&ctx, root, c, reterr);
	if (r >= 0 && queue.oom)
		r = -ENOMEM;
	if (r == -ENOMEM)
		return zk_fail(reterr, r, "%s", path);
	if (r < 0)
		return r;

	diag_flush(&ctx); /* while the tree that owns the file names is still alive */
	*ret = ZK_TAKE(c);
	return 0;
}

/* ------------------------------------------------------------------------------------ */
/* Zones that are not in the file                                                        */

int pol_name_normalize(const char *in, char **ret)
{
	return in ? dname_normalize(in, ret) : -EINVAL;
}

void pol_zone_clear(pol_zone *z)
{
	free(z->name);
	free(z->input_file);
	free(z->output_file);
	*z = (pol_zone) { 0 };
}

int pol_zone_make(const pol_config *c, const char *name, const pol_policy *p, pol_zone *ret)
{
	pol_zone z = { .policy = p };
	int r = dname_normalize(name, &z.name);

	if (r < 0)
		return r;
	if (strchr(z.name, '/')) {
		free(z.name);
		return -EINVAL;
	}
	r = zone_file_default(c->paths.input_dir, z.name, &z.input_file);
	if (r >= 0)
		r = zone_file_default(c->paths.output_dir, z.name, &z.output_file);
	if (r < 0) {
		pol_zone_clear(&z);
		return r;
	}
	*ret = z;
	return 0;
}

static bool str_eq(const char *a, const char *b)
{
	return a == b || (a && b && !strcmp(a, b));
}

bool pol_policy_equal(const pol_policy *a, const pol_policy *b)
{
	pol_policy x, y;

	if (a == b)
		return true;
	if (!a || !b || !str_eq(a->name, b->name) || !str_eq(a->soa.mname, b->soa.mname) ||
	    !str_eq(a->soa.rname, b->soa.rname) || a->n_nameservers != b->n_nameservers)
		return false;
	for (size_t i = 0; i < a->n_nameservers; i++)
		if (!str_eq(a->nameservers[i], b->nameservers[i]))
			return false;
	/* the rest are values: compare them with the pointers taken out (padding is zero:
	 * policies are allocated zeroed and copied whole) */
	memcpy(&x, a, sizeof(x));
	memcpy(&y, b, sizeof(y));
	x.name = y.name = NULL;
	x.nameservers = y.nameservers = NULL;
	x.soa.mname = y.soa.mname = x.soa.rname = y.soa.rname = NULL;
	return memcmp(&x, &y, sizeof(x)) == 0;
}

bool pol_zone_equal(const pol_zone *a, const pol_zone *b)
{
	if (!str_eq(a->name, b->name) || !str_eq(a->input_file, b->input_file) ||
	    !str_eq(a->output_file, b->output_file) ||
	    a->n_parental_agents != b->n_parental_agents || !pol_policy_equal(a->policy, b->policy))
		return false;
	for (size_t i = 0; i < a->n_parental_agents; i++)
		if (!str_eq(a->parental_agents[i].address, b->parental_agents[i].address) ||
		    a->parental_agents[i].port != b->parental_agents[i].port)
			return false;
	return true;
}
