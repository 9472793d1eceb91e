/* SPDX-License-Identifier: MIT */
/*
 * signer/load.c -- master file reader. See load.h.
 *
 * Shape: a lexer turns the file into records of tokens (parentheses joined, comments
 * dropped, quotes and escapes respected); owner, TTL, class and type are resolved here;
 * RDATA goes through the fast paths of rdata.c or, for everything else, through ldns. The
 * records are collected per owner name in a hash map (owners repeat on consecutive lines,
 * so the last one is cached), and turned into sorted nodes at the end.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ldns/ldns.h>

#include "policy/zk-codec.h"
#include "policy/zk-macro.h"
#include "signer/load.h"
#include "signer/rdata.h"
#include "signer/records.h"

#define MAX_INCLUDE_DEPTH 8
#define MAX_FILES 256
#define ARENA_CHUNK (8u << 20)
#define MAX_TTL_WARNINGS 20

/* ---------------------------------------------------------------- arena */

typedef struct chunk {
	struct chunk *next;
	size_t used, size;
	uint8_t data[];
} chunk;

typedef struct arena {
	chunk *head;
} arena;

static void *arena_alloc(arena *a, size_t n)
{
	chunk *c = a->head;

	n = (n + 7) & ~(size_t) 7;
	if (!c || c->used + n > c->size) {
		size_t size = n > ARENA_CHUNK ? n : ARENA_CHUNK;

		/*
		 * mmap + MADV_HUGEPAGE: first touches of fresh pages dominate loading a large
		 * zone on virtual machines (measured: 400 MB costs 1.4 s in 4 KiB pages and
		 * 0.6 s in 2 MiB pages here).
		 */
		c = mmap(NULL, sizeof(*c) + size, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (c == MAP_FAILED)
			return NULL;
		(void) madvise(c, sizeof(*c) + size, MADV_HUGEPAGE);
		c->used = 0;
		c->size = size;
		c->next = a->head;
		a->head = c;
	}
	c->used += n;
	return c->data + c->used - n;
}

static void arena_free(arena *a)
{
	while (a->head) {
		chunk *n = a->head->next;

		munmap(a->head, sizeof(*a->head) + a->head->size);
		a->head = n;
	}
}

/* ---------------------------------------------------------------- build state */

typedef struct rec {
	struct rec *next;
	uint32_t line;
	uint32_t ttl;
	uint16_t type;
	uint16_t covered; /* RRSIG: the type covered */
	uint16_t rdlen;
	uint16_t file;
	uint8_t rd[];
} rec;

typedef struct bnode {
	uint8_t *name; /* lowercase wire, in the arena */
	rec *head, *tail;
	uint32_t hash;
	uint32_t line;
	uint16_t file;
} bnode;

typedef struct loader {
	const sgn_load_opts *o;
	zk_error *err;
	arena ar;
	uint8_t apex[DN_MAXLEN];

	bnode *nodes;
	size_t n_nodes, cap_nodes;
	uint32_t *slots; /* node index + 1, 0 = empty */
	size_t n_slots;

	const char *files[MAX_FILES];
	char *file_store[MAX_FILES];
	unsigned n_files;

	char *top_path;     /* the file loaded (NULL from memory) */
	char *include_root; /* resolved include directory with a final '/', on first use */

	sgn_token *tok;
	size_t cap_tok;
	char *text;     /* scratch for ldns */
	size_t cap_text;

	/* per file position of the last owner, for the cache and blank owners */
	uint8_t prev_owner[DN_MAXLEN];
	bool have_prev;
	size_t last_node;  /* index + 1 of the node of prev_owner, 0 = none */

	uint32_t default_ttl, last_ttl;
	bool have_default_ttl, have_last_ttl;

	struct {
		uint16_t type;
		uint32_t count;
	} stripped[16];
	unsigned n_stripped_types;
	unsigned ttl_warnings;

	uint32_t input_serial;
	bool have_soa;

	uint8_t rd[SGN_RDATA_MAX + 1024]; /* RDATA of the record being parsed */
} loader;

static uint32_t name_hash(const uint8_t *name, size_t len)
{
	uint32_t h = 2166136261u; /* FNV-1a: short keys, good spread, no setup */

	for (size_t i = 0; i < len; i++) {
		h ^= name[i];
		h *= 16777619u;
	}
	return h;
}

static int grow_slots(loader *L)
{
	size_t n = L->n_slots ? L->n_slots * 2 : 1024;
	uint32_t *s = calloc(n, sizeof(*s));

	if (!s)
		return -ENOMEM;
	for (size_t i = 0; i < L->n_nodes; i++) {
		size_t k = L->nodes[i].hash & (n - 1);

		while (s[k])
			k = (k + 1) & (n - 1);
		s[k] = (uint32_t) (i + 1);
	}
	free(L->slots);
	L->slots = s;
	L->n_slots = n;
	return 0;
}

/* Index of the node for `name` (lowercase wire), created if needed. */
static int node_for(loader *L, const uint8_t *name, size_t len, uint32_t line, uint16_t file,
		    size_t *ret)
{
	uint32_t h = name_hash(name, len);
	size_t k;

	if ((L->n_nodes + 1) * 2 > L->n_slots && grow_slots(L) < 0)
		return -ENOMEM;
	for (k = h & (L->n_slots - 1); L->slots[k]; k = (k + 1) & (L->n_slots - 1)) {
		bnode *b = &L->nodes[L->slots[k] - 1];

		if (b->hash == h && memcmp(b->name, name, len) == 0 && dn_len(b->name) == len) {
			*ret = L->slots[k] - 1;
			return 0;
		}
	}
	if (L->n_nodes == L->cap_nodes) {
		size_t cap = L->cap_nodes ? L->cap_nodes * 2 : 1024;
		bnode *nn = realloc(L->nodes, cap * sizeof(*nn));

		if (!nn)
			return -ENOMEM;
		L->nodes = nn;
		L->cap_nodes = cap;
	}
	{
		bnode *b = &L->nodes[L->n_nodes];

		b->name = arena_alloc(&L->ar, len);
		if (!b->name)
			return -ENOMEM;
		memcpy(b->name, name, len);
		b->head = b->tail = NULL;
		b->hash = h;
		b->line = line;
		b->file = file;
	}
	L->slots[k] = (uint32_t) (L->n_nodes + 1);
	*ret = L->n_nodes++;
	return 0;
}

static const char *fname(const loader *L, uint16_t file)
{
	return file < L->n_files ? L->files[file] : "";
}

static int fail(loader *L, int code, uint16_t file, uint32_t line, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

static int fail(loader *L, int code, uint16_t file, uint32_t line, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	zk_failv(L->err, code, fname(L, file), line, fmt, ap);
	va_end(ap);
	return code;
}

static bool is_stripped_type(uint16_t t)
{
	return t == T_RRSIG || t == T_NSEC || t == T_NSEC3 || t == T_NSEC3PARAM ||
	       t == T_DNSKEY || t == T_CDS || t == T_CDNSKEY;
}

static void count_stripped(loader *L, uint16_t type)
{
	for (unsigned i = 0; i < L->n_stripped_types; i++)
		if (L->stripped[i].type == type) {
			L->stripped[i].count++;
			return;
		}
	if (L->n_stripped_types < ZK_ELEMENTSOF(L->stripped)) {
		L->stripped[L->n_stripped_types].type = type;
		L->stripped[L->n_stripped_types++].count = 1;
	}
}

static int add_record(loader *L, const uint8_t *owner, uint16_t type, uint32_t ttl,
		      const uint8_t *rd, size_t rdlen, uint32_t line, uint16_t file)
{
	size_t olen = dn_len(owner), idx;
	char text[DN_TEXTMAX], tb[16];
	rec *r;
	int e;

	/* the wire has 16 bits for it (RFC 1035 §3.2.1): refused, never cut short */
	if (rdlen > SGN_RDATA_MAX)
		return fail(L, ZK_E_ZONE_PARSE, file, line, "RDATA of %zu octets exceeds 65535",
			    rdlen);
	if (!dn_is_at_or_below(owner, L->apex)) {
		char apex[DN_TEXTMAX];

		dn_to_text(owner, text);
		dn_to_text(L->apex, apex);
		return fail(L, ZK_E_OUT_OF_ZONE, file, line, "%s is outside the zone %s", text,
			    apex);
	}
	if (L->o->mode == SGN_LOAD_UNSIGNED) {
		if (is_stripped_type(type)) {
			count_stripped(L, type);
			return 0;
		}
		if (type == T_SOA) {
			if (!dn_equal(owner, L->apex)) {
				dn_to_text(owner, text);
				return fail(L, ZK_E_ZONE_CONTENT, file, line,
					    "SOA record at %s, below the zone apex", text);
			}
			if (L->have_soa)
				return fail(L, ZK_E_ZONE_CONTENT, file, line,
					    "more than one SOA record");
			L->have_soa = true;
			L->input_serial = rrsig_u32(rd + rdlen - 20);
		} else if (L->o->max_ttl && ttl > L->o->max_ttl) {
			dn_to_text(owner, text);
			return fail(L, ZK_E_ZONE_CONTENT, file, line,
				    "TTL %u of %s %s is above the policy's max_zone_ttl %u", ttl,
				    text, sgn_type_name(type, tb), L->o->max_ttl);
		}
	}
	if (ttl > 2147483647u)
		return fail(L, ZK_E_ZONE_PARSE, file, line, "TTL %u is above 2147483647", ttl);

	if (L->last_node && dn_equal(L->nodes[L->last_node - 1].name, owner)) {
		idx = L->last_node - 1;
	} else {
		e = node_for(L, owner, olen, line, file, &idx);
		if (e < 0)
			return fail(L, e, file, line, "out of memory");
		L->last_node = idx + 1;
	}
	r = arena_alloc(&L->ar, sizeof(*r) + rdlen);
	if (!r)
		return fail(L, -ENOMEM, file, line, "out of memory");
	r->next = NULL;
	r->line = line;
	r->ttl = ttl;
	r->type = type;
	r->covered = type == T_RRSIG && rdlen >= 2 ? rrsig_type_covered(rd) : 0;
	r->rdlen = (uint16_t) rdlen;
	r->file = file;
	memcpy(r->rd, rd, rdlen);
	{
		bnode *b = &L->nodes[idx];

		if (b->tail)
			b->tail->next = r;
		else
			b->head = r;
		b->tail = r;
	}
	return 0;
}

/* ---------------------------------------------------------------- lexer */

typedef struct lexer {
	const char *p, *end;
	uint32_t line;
	uint16_t file;
} lexer;

static int push_token(loader *L, size_t *n, const char *s, size_t len, bool quoted)
{
	if (*n == L->cap_tok) {
		size_t cap = L->cap_tok ? L->cap_tok * 2 : 64;
		sgn_token *t;

		if (cap > 1u << 16)
			return -E2BIG;
		t = realloc(L->tok, cap * sizeof(*t));
		if (!t)
			return -ENOMEM;
		L->tok = t;
		L->cap_tok = cap;
	}
	L->tok[*n].s = s;
	L->tok[*n].len = (uint32_t) len;
	L->tok[*n].quoted = quoted;
	(*n)++;
	return 0;
}

/*
 * Next record: tokens into L->tok. Returns the token count (0 at the end of the input),
 * or a negative code with reterr filled. *blank says the line started with white space
 * (the owner is the previous one), *line the line of the first token.
 */
static int lex_record(loader *L, lexer *x, bool *blank, uint32_t *line)
{
	size_t n = 0;
	int paren = 0, r;
	bool bol = true;
	uint32_t paren_line = 0;

	*blank = false;
	*line = x->line;
	while (x->p < x->end) {
		char c = *x->p;

		if (c == '\n') {
			x->line++;
			x->p++;
			if (paren == 0) {
				if (n > 0)
					return (int) n;
				bol = true;
				*blank = false;
			}
			continue;
		}
		if (c == ' ' || c == '\t' || c == '\r') {
			if (bol && n == 0 && paren == 0)
				*blank = true;
			x->p++;
			continue;
		}
		bol = false;
		if (c == ';') {
			while (x->p < x->end && *x->p != '\n')
				x->p++;
			continue;
		}
		if (c == '(') {
			if (paren++ == 0)
				paren_line = x->line;
			x->p++;
			continue;
		}
		if (c == ')') {
			if (paren == 0)
				return fail(L, ZK_E_ZONE_PARSE, x->file, x->line,
					    "')' without a matching '('");
			paren--;
			x->p++;
			continue;
		}
		if (n == 0)
			*line = x->line;
		if (c == '"') {
			const char *s = ++x->p;
			uint32_t start_line = x->line;

			while (x->p < x->end && *x->p != '"') {
				if (*x->p == '\\' && x->p + 1 < x->end) {
					x->p++;
				}
				if (*x->p == '\n')
					x->line++;
				x->p++;
			}
			if (x->p >= x->end)
				return fail(L, ZK_E_ZONE_PARSE, x->file, start_line,
					    "unterminated quoted string");
			r = push_token(L, &n, s, (size_t) (x->p - s), true);
			x->p++;
		} else {
			const char *s = x->p;

			while (x->p < x->end) {
				c = *x->p;
				if (c == '\\' && x->p + 1 < x->end) {
					x->p += 2;
					continue;
				}
				if (c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == ';' ||
				    c == '(' || c == ')' || c == '"')
					break;
				x->p++;
			}
			r = push_token(L, &n, s, (size_t) (x->p - s), false);
		}
		if (r < 0)
			return fail(L, r == -E2BIG ? ZK_E_ZONE_PARSE : r, x->file, *line,
				    "record has too many fields");
	}
	if (paren)
		return fail(L, ZK_E_ZONE_PARSE, x->file, paren_line, "'(' is never closed");
	return (int) n;
}

/* ---------------------------------------------------------------- records */

static bool tok_is(const sgn_token *t, const char *s)
{
	return !t->quoted && strlen(s) == t->len && strncasecmp(t->s, s, t->len) == 0;
}

static bool tok_is_class(const sgn_token *t)
{
	return tok_is(t, "IN") || tok_is(t, "CH") || tok_is(t, "HS") || tok_is(t, "CS") ||
	       tok_is(t, "NONE") || tok_is(t, "ANY") ||
	       (!t->quoted && t->len > 5 && strncasecmp(t->s, "CLASS", 5) == 0);
}

static int text_reserve(loader *L, size_t n)
{
	char *t;

	if (n <= L->cap_text)
		return 0;
	t = realloc(L->text, n);
	if (!t)
		return -ENOMEM;
	L->text = t;
	L->cap_text = n;
	return 0;
}

/* RDATA through ldns, the reference parser, for what the fast paths leave. */
static int rdata_ldns(loader *L, uint16_t type, const char *type_text, size_t from, size_t n,
		      const uint8_t *origin, uint8_t *out, uint16_t file, uint32_t line)
{
	size_t need = 64 + strlen(type_text), o;
	ldns_rdf *orig = NULL;
	ldns_rr *rr = NULL;
	ldns_status st;
	size_t len = 0;
	int ret;

	for (size_t i = from; i < n; i++)
		need += L->tok[i].len + 3;
	if (text_reserve(L, need) < 0)
		return fail(L, -ENOMEM, file, line, "out of memory");
	o = (size_t) sprintf(L->text, ". 0 IN %s", type_text);
	for (size_t i = from; i < n; i++) {
		L->text[o++] = ' ';
		if (L->tok[i].quoted)
			L->text[o++] = '"';
		memcpy(L->text + o, L->tok[i].s, L->tok[i].len);
		o += L->tok[i].len;
		if (L->tok[i].quoted)
			L->text[o++] = '"';
	}
	L->text[o] = '\0';
	/*
	 * ldns reads at most LDNS_MAX_PACKETLEN characters of RDATA text and drops the rest
	 * without a word: refuse what it would cut short (the \# form has no such limit).
	 */
	if (o >= LDNS_MAX_PACKETLEN - 64)
		return fail(L, ZK_E_ZONE_PARSE, file, line,
			    "%s record of %zu characters is too long to parse; write it in the "
			    "\\# generic form", type_text, o);
	orig = ldns_rdf_new_frm_data(LDNS_RDF_TYPE_DNAME, dn_len(origin), origin);
	if (!orig)
		return fail(L, -ENOMEM, file, line, "out of memory");
	st = ldns_rr_new_frm_str(&rr, L->text, 0, orig, NULL);
	ldns_rdf_deep_free(orig);
	if (st != LDNS_STATUS_OK) {
		ret = fail(L, ZK_E_ZONE_PARSE, file, line, "cannot parse %s record: %s", type_text,
			   ldns_get_errorstr_by_id(st));
		goto out;
	}
	for (size_t i = 0; i < ldns_rr_rd_count(rr); i++)
		len += ldns_rdf_size(ldns_rr_rdf(rr, i));
	if (len > SGN_RDATA_MAX) {
		ret = fail(L, ZK_E_ZONE_PARSE, file, line, "RDATA of %zu octets exceeds 65535",
			   len);
		goto out;
	}
	len = 0;
	for (size_t i = 0; i < ldns_rr_rd_count(rr); i++) {
		ldns_rdf *f = ldns_rr_rdf(rr, i);
		size_t fl = ldns_rdf_size(f);

		memcpy(out + len, ldns_rdf_data(f), fl);
		if (ldns_rdf_get_type(f) == LDNS_RDF_TYPE_DNAME && sgn_type_downcases_rdata(type))
			dn_lower(out + len);
		len += fl;
	}
	ret = (int) len;
out:
	ldns_rr_free(rr);
	return ret;
}

/* RFC 3597 §5: "\# <length> <hex>" for any type; checked against the type's layout. */
static int rdata_generic(loader *L, uint16_t type, size_t from, size_t n, uint8_t *out,
			 uint16_t file, uint32_t line)
{
	uint8_t wire[2 + SGN_RDATA_MAX];
	uint32_t declared;
	size_t len = 0;
	int r;

	if (from + 1 >= n)
		return fail(L, ZK_E_ZONE_PARSE, file, line, "\\# without a length");
	if (L->tok[from + 1].quoted ||
	    sgn_parse_uint(L->tok[from + 1].s, L->tok[from + 1].len, 65535, &declared) < 0)
		return fail(L, ZK_E_ZONE_PARSE, file, line, "bad \\# length");
	for (size_t i = from + 2; i < n; i++) {
		r = zk_hex_decode(L->tok[i].s, L->tok[i].len, wire + 2 + len,
				  SGN_RDATA_MAX - len);
		if (r < 0 || L->tok[i].quoted)
			return fail(L, ZK_E_ZONE_PARSE, file, line, "bad hex in \\# RDATA");
		len += (size_t) r;
	}
	if (len != declared)
		return fail(L, ZK_E_ZONE_PARSE, file, line,
			    "\\# RDATA has %zu octets, the length says %u", len, declared);
	wire[0] = (uint8_t) (len >> 8);
	wire[1] = (uint8_t) len;
	{
		/* Let ldns check the layout of known types and lowercase what must be. */
		ldns_rr *rr = ldns_rr_new();
		size_t pos = 0, o = 0;
		const ldns_rr_descriptor *d = ldns_rr_descript(type);

		if (!rr)
			return fail(L, -ENOMEM, file, line, "out of memory");
		/* ldns_wire2rdf() takes empty RDATA for any type: check the minimum here */
		if (d && d->_type == type && d->_name && len == 0 &&
		    ldns_rr_descriptor_minimum(d) > 0) {
			ldns_rr_free(rr);
			return fail(L, ZK_E_ZONE_PARSE, file, line,
				    "\\# RDATA is not a valid %s", d->_name);
		}
		if (d && d->_type == type && d->_name && len > 0) {
			ldns_rr_set_type(rr, type);
			if (ldns_wire2rdf(rr, wire, 2 + len, &pos) != LDNS_STATUS_OK ||
			    pos != 2 + len) {
				ldns_rr_free(rr);
				return fail(L, ZK_E_ZONE_PARSE, file, line,
					    "\\# RDATA is not a valid %s", d->_name);
			}
			for (size_t i = 0; i < ldns_rr_rd_count(rr); i++) {
				ldns_rdf *f = ldns_rr_rdf(rr, i);

				memcpy(out + o, ldns_rdf_data(f), ldns_rdf_size(f));
				if (ldns_rdf_get_type(f) == LDNS_RDF_TYPE_DNAME &&
				    sgn_type_downcases_rdata(type))
					dn_lower(out + o);
				o += ldns_rdf_size(f);
			}
			len = o;
		} else {
			memcpy(out, wire + 2, len);
		}
		ldns_rr_free(rr);
	}
	return (int) len;
}

typedef struct parse_ctx {
	uint8_t origin[DN_MAXLEN];
	const char *path;
	unsigned depth;
} parse_ctx;

static int parse_buffer(loader *L, const char *buf, size_t len, uint16_t file,
			parse_ctx *ctx);

static int include_file(loader *L, const char *target, const uint8_t *origin,
			const parse_ctx *parent, uint16_t file, uint32_t line);

static int directive(loader *L, size_t n, parse_ctx *ctx, uint16_t file, uint32_t line)
{
	sgn_token *t = L->tok;
	char path[4096];
	uint8_t org[DN_MAXLEN];
	uint32_t v;

	if (tok_is(&t[0], "$ORIGIN")) {
		if (n != 2 || dn_from_text(t[1].s, t[1].len, ctx->origin, org) < 0)
			return fail(L, ZK_E_ZONE_PARSE, file, line, "bad $ORIGIN");
		dn_lower(org);
		memcpy(ctx->origin, org, dn_len(org));
		return 0;
	}
	if (tok_is(&t[0], "$TTL")) {
		if (n != 2 || sgn_parse_ttl(t[1].s, t[1].len, &v) < 0 || v > 2147483647u)
			return fail(L, ZK_E_ZONE_PARSE, file, line, "bad $TTL");
		L->default_ttl = v;
		L->have_default_ttl = true;
		return 0;
	}
	if (tok_is(&t[0], "$INCLUDE")) {
		if (n < 2 || n > 3 || t[1].len >= sizeof(path))
			return fail(L, ZK_E_ZONE_PARSE, file, line, "bad $INCLUDE");
		memcpy(path, t[1].s, t[1].len);
		path[t[1].len] = '\0';
		memcpy(org, ctx->origin, dn_len(ctx->origin));
		if (n == 3 && dn_from_text(t[2].s, t[2].len, ctx->origin, org) < 0)
			return fail(L, ZK_E_ZONE_PARSE, file, line, "bad $INCLUDE origin");
		dn_lower(org);
		return include_file(L, path, org, ctx, file, line);
	}
	return fail(L, ZK_E_ZONE_PARSE, file, line, "unknown or unsupported directive %.*s",
		    (int) t[0].len, t[0].s);
}

/*
 * The fast path refused RDATA over 65535 octets (ZK_E_INVALID_RECORD): say how long. Only
 * TXT gets there; its length is the sum of its strings'.
 */
static int rdata_too_long(loader *L, uint16_t type, const sgn_token *t, size_t n,
			  const uint8_t *origin, uint16_t file, uint32_t line)
{
	size_t len = 0;
	char tb[16];

	for (size_t i = 0; type == T_TXT && i < n; i++) {
		int r = sgn_rdata_parse(T_TXT, t + i, 1, origin, L->rd, sizeof(L->rd));

		if (r <= 0 || r == SGN_RDATA_FALLBACK) {
			len = 0;
			break;
		}
		len += (size_t) r;
	}
	if (len > SGN_RDATA_MAX)
		return fail(L, ZK_E_ZONE_PARSE, file, line, "RDATA of %zu octets exceeds 65535",
			    len);
	return fail(L, ZK_E_ZONE_PARSE, file, line, "%s RDATA exceeds 65535 octets",
		    sgn_type_name(type, tb));
}

static int parse_record(loader *L, size_t n, bool blank, parse_ctx *ctx, uint16_t file,
			uint32_t line)
{
	uint8_t *rd = L->rd;
	sgn_token *t = L->tok;
	uint8_t owner[DN_MAXLEN];
	size_t i = 0;
	uint32_t ttl = 0;
	bool have_ttl = false;
	char type_text[32];
	int type, r;

	if (!blank) {
		r = t[0].quoted ? -EINVAL : dn_from_text(t[0].s, t[0].len, ctx->origin, owner);
		if (r < 0)
			return fail(L, ZK_E_ZONE_PARSE, file, line, "bad owner name '%.*s'",
				    (int) t[0].len, t[0].s);
		dn_lower(owner);
		if (!L->have_prev || !dn_equal(owner, L->prev_owner)) {
			memcpy(L->prev_owner, owner, (size_t) r);
			L->have_prev = true;
		}
		i = 1;
	} else {
		if (!L->have_prev)
			return fail(L, ZK_E_ZONE_PARSE, file, line,
				    "record without an owner name and no previous one");
		memcpy(owner, L->prev_owner, dn_len(L->prev_owner));
	}
	/* [ttl] [class] or [class] [ttl] */
	for (int k = 0; k < 2 && i < n; k++) {
		if (!have_ttl && !t[i].quoted && t[i].len && t[i].s[0] >= '0' &&
		    t[i].s[0] <= '9') {
			if (sgn_parse_ttl(t[i].s, t[i].len, &ttl) < 0)
				return fail(L, ZK_E_ZONE_PARSE, file, line, "bad TTL '%.*s'",
					    (int) t[i].len, t[i].s);
			have_ttl = true;
			i++;
		} else if (tok_is_class(&t[i])) {
			if (!tok_is(&t[i], "IN"))
				return fail(L, ZK_E_ZONE_PARSE, file, line,
					    "class %.*s is not supported (only IN)",
					    (int) t[i].len, t[i].s);
			i++;
		} else {
			break;
		}
	}
	if (i >= n)
		return fail(L, ZK_E_ZONE_PARSE, file, line, "record without a type");
	type = sgn_type_from_name(t[i].s, t[i].len);
	if (type < 0 || t[i].quoted || t[i].len >= sizeof(type_text))
		return fail(L, ZK_E_ZONE_PARSE, file, line, "unknown type '%.*s'", (int) t[i].len,
			    t[i].s);
	memcpy(type_text, t[i].s, t[i].len);
	type_text[t[i].len] = '\0';
	i++;
	if (have_ttl) {
		L->last_ttl = ttl;
		L->have_last_ttl = true;
	} else if (L->have_default_ttl) {
		ttl = L->default_ttl;
	} else if (L->have_last_ttl) {
		ttl = L->last_ttl; /* RFC 1035 §5.1: the last explicit TTL */
	} else {
		return fail(L, ZK_E_ZONE_PARSE, file, line, "record without a TTL and no $TTL");
	}
	/* RFC 6895 §3.1: 0, OPT and the meta/query types 128-255 never sit in a zone */
	if (type == 0 || type == 41 || (type >= 128 && type <= 255))
		return fail(L, ZK_E_ZONE_PARSE, file, line, "type %s cannot appear in a zone",
			    type_text);
	if (i < n && tok_is(&t[i], "\\#"))
		r = rdata_generic(L, (uint16_t) type, i, n, rd, file, line);
	else {
		r = sgn_rdata_parse((uint16_t) type, t + i, n - i, ctx->origin, rd, sizeof(L->rd));
		if (r == -ERANGE)
			return fail(L, ZK_E_ZONE_PARSE, file, line,
				    "cannot parse %s record: a number is too large for its field",
				    type_text);
		if (r == -EPROTO)
			return fail(L, ZK_E_ZONE_PARSE, file, line, "cannot parse %s record",
				    type_text);
		if (r == ZK_E_INVALID_RECORD)
			return rdata_too_long(L, (uint16_t) type, t + i, n - i, ctx->origin, file,
					      line);
		if (r == SGN_RDATA_FALLBACK || r == -EINVAL)
			r = rdata_ldns(L, (uint16_t) type, type_text, i, n, ctx->origin, rd, file,
				       line);
	}
	if (r < 0)
		return r;
	if (type == T_SOA && r < 22)
		return fail(L, ZK_E_ZONE_PARSE, file, line, "bad SOA record");
	return add_record(L, owner, (uint16_t) type, ttl, rd, (size_t) r, line, file);
}

static int parse_buffer(loader *L, const char *buf, size_t len, uint16_t file,
			parse_ctx *ctx)
{
	lexer x = { .p = buf, .end = buf + len, .line = 1, .file = file };

	for (;;) {
		bool blank;
		uint32_t line;
		int n = lex_record(L, &x, &blank, &line), r;

		if (n <= 0)
			return n;
		if (!blank && L->tok[0].len && L->tok[0].s[0] == '$' && !L->tok[0].quoted)
			r = directive(L, (size_t) n, ctx, file, line);
		else
			r = parse_record(L, (size_t) n, blank, ctx, file, line);
		if (r < 0)
			return r;
	}
}

static int add_file_name(loader *L, const char *path, uint16_t *ret)
{
	if (L->n_files >= MAX_FILES)
		return -EMFILE;
	L->file_store[L->n_files] = strdup(path);
	if (!L->file_store[L->n_files])
		return -ENOMEM;
	L->files[L->n_files] = L->file_store[L->n_files];
	*ret = (uint16_t) L->n_files++;
	return 0;
}

int sgn_load_read_fd(int fd, const struct stat *before, char **ret, size_t *ret_len)
{
	size_t size = (size_t) before->st_size, cap, len = 0;
	struct stat after;
	char *buf;
	int r;

	if (before->st_size < 0 || (uintmax_t) before->st_size >= SIZE_MAX / 2)
		return -EFBIG;
	/* one byte more than the size: the read that returns 0 there confirms the end */
	cap = size ? size + 1 : 65536;
	buf = malloc(cap + 1);
	if (!buf)
		return -ENOMEM;
	for (;;) {
		ssize_t n;

		if (len == cap) {
			char *nb;

			/* grown past the size fstat gave: it is being written */
			if (size || cap >= SIZE_MAX / 4) {
				r = size ? -EAGAIN : -EFBIG;
				goto fail;
			}
			nb = realloc(buf, 2 * cap + 1);
			if (!nb) {
				r = -ENOMEM;
				goto fail;
			}
			buf = nb;
			cap *= 2;
		}
		n = read(fd, buf + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = -errno;
			goto fail;
		}
		if (n == 0)
			break;
		len += (size_t) n;
	}
	if (fstat(fd, &after) < 0) {
		r = -errno;
		goto fail;
	}
	/*
	 * A size of 0 before and after with bytes read is a generated file (/proc): what was
	 * read is its content. Anything else must match what fstat said before reading.
	 */
	if ((len != size && (size || after.st_size)) || after.st_size != before->st_size ||
	    after.st_mtim.tv_sec != before->st_mtim.tv_sec ||
	    after.st_mtim.tv_nsec != before->st_mtim.tv_nsec) {
		r = -EAGAIN;
		goto fail;
	}
	buf[len] = '\0';
	*ret = buf;
	*ret_len = len;
	return 0;
fail:
	free(buf);
	return r;
}

/*
 * Read and parse the file `path` (as messages name it; opened as `open_path`). Only a
 * regular file: open() of a FIFO would wait for a writer and block the signing thread,
 * so the file is opened non-blocking and anything else refused before it is read.
 */
static int parse_path(loader *L, const char *path, const char *open_path,
		      const uint8_t *origin, unsigned depth, uint16_t from_file,
		      uint32_t from_line)
{
	_cleanup_close_ int fd = -1;
	_cleanup_free_ char *buf = NULL;
	parse_ctx ctx = { .path = path, .depth = depth };
	struct stat st;
	size_t len;
	uint16_t file;
	int r, flags;

	r = add_file_name(L, path, &file);
	if (r < 0)
		return fail(L, r == -EMFILE ? ZK_E_ZONE_PARSE : r, from_file, from_line,
			    "too many included files");
	/* the target of an include was resolved already: no link may be swapped in */
	fd = open(open_path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | (depth ? O_NOFOLLOW : 0));
	if (fd < 0 || fstat(fd, &st) < 0) {
		r = -errno;
		/* missing, not ours to read: the operator's to fix, not an internal error */
		if (depth == 0)
			return zk_fail(L->err, ZK_E_INPUT, "cannot read zone file '%s': %s", path,
				       strerror(-r));
		return fail(L, ZK_E_ZONE_PARSE, from_file, from_line,
			    "cannot read included file '%s': %s", path, strerror(-r));
	}
	if (!S_ISREG(st.st_mode)) {
		if (depth == 0)
			return zk_fail(L->err, ZK_E_ZONE_PARSE, "zone file '%s' is not a regular file",
				       path);
		return fail(L, ZK_E_ZONE_PARSE, from_file, from_line,
			    "included file '%s' is not a regular file", path);
	}
	flags = fcntl(fd, F_GETFL);
	if (flags < 0 || fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) < 0)
		return zk_fail(L->err, -errno, "cannot read zone file '%s'", path);
	r = sgn_load_read_fd(fd, &st, &buf, &len);
	if (r == -EAGAIN) {
		if (depth == 0)
			return zk_fail(L->err, r, "zone file '%s' changed while being read; will retry",
				       path);
		return fail(L, r, from_file, from_line,
			    "included file '%s' changed while being read; will retry", path);
	}
	if (r < 0) {
		if (depth == 0 && r == -ENOMEM)
			return zk_fail(L->err, r, "cannot read zone file '%s'", path);
		if (depth == 0)
			return zk_fail(L->err, ZK_E_INPUT, "cannot read zone file '%s': %s", path,
				       strerror(-r));
		return fail(L, r == -ENOMEM ? r : ZK_E_ZONE_PARSE, from_file, from_line,
			    "cannot read included file '%s': %s", path, strerror(-r));
	}
	memcpy(ctx.origin, origin, dn_len(origin));
	return parse_buffer(L, buf, len, file, &ctx);
}

/* The include directory, resolved, with a final '/' (once per load). */
static int include_root(loader *L, uint16_t file, uint32_t line)
{
	_cleanup_free_ char *top = NULL, *dir = NULL;
	const char *want = L->o->include_dir;
	size_t n;

	if (L->include_root)
		return 0;
	if (!want) {
		top = strdup(L->top_path);
		if (!top)
			return fail(L, -ENOMEM, file, line, "out of memory");
		want = dirname(top);
	}
	dir = realpath(want, NULL);
	if (!dir) {
		int r = -errno;

		return fail(L, r == -ENOMEM ? r : ZK_E_ZONE_PARSE, file, line,
			    "$INCLUDE: the include directory %s cannot be used: %s", want,
			    strerror(-r));
	}
	n = strlen(dir);
	L->include_root = malloc(n + 2);
	if (!L->include_root)
		return fail(L, -ENOMEM, file, line, "out of memory");
	memcpy(L->include_root, dir, n + 1);
	if (n == 0 || dir[n - 1] != '/')
		memcpy(L->include_root + n, "/", 2);
	return 0;
}

/* `path` (resolved) lies below `root` (resolved, with its final '/'), or is it. */
static bool is_below(const char *path, const char *root)
{
	size_t n = strlen(root), p = strlen(path);

	return strncmp(path, root, n) == 0 || (p + 1 == n && memcmp(path, root, p) == 0);
}

/*
 * Where an $INCLUDE may read: `full` resolved (links and "..") into *ret, which must lie
 * below the include directory. Nothing of a refused target is read, and its content never
 * shows in a message. A target that does not resolve is refused as outside unless its
 * directory lies inside (then it is just missing).
 */
static int include_target(loader *L, const char *full, uint16_t file, uint32_t line,
			  char **ret)
{
	_cleanup_free_ char *res = NULL, *copy = NULL, *dir = NULL;
	int r = include_root(L, file, line), e;

	if (r < 0)
		return r;
	res = realpath(full, NULL);
	if (res) {
		if (strncmp(res, L->include_root, strlen(L->include_root)) != 0)
			return fail(L, ZK_E_ZONE_PARSE, file, line,
				    "$INCLUDE of '%s': the file is outside the include directory "
				    "%s", full, L->include_root);
		*ret = res;
		res = NULL;
		return 0;
	}
	e = errno;
	if (e == ENOMEM)
		return fail(L, -ENOMEM, file, line, "out of memory");
	copy = strdup(full);
	if (!copy)
		return fail(L, -ENOMEM, file, line, "out of memory");
	dir = realpath(dirname(copy), NULL);
	if (!dir || !is_below(dir, L->include_root))
		return fail(L, ZK_E_ZONE_PARSE, file, line,
			    "$INCLUDE of '%s': the file is outside the include directory %s",
			    full, L->include_root);
	return fail(L, ZK_E_ZONE_PARSE, file, line, "cannot read included file '%s': %s", full,
		    strerror(e));
}

static int include_file(loader *L, const char *target, const uint8_t *origin,
			const parse_ctx *parent, uint16_t file, uint32_t line)
{
	char full[4096];
	_cleanup_free_ char *resolved = NULL;
	uint8_t saved_owner[DN_MAXLEN];
	bool saved_have = L->have_prev;
	int r;

	if (parent->depth + 1 > MAX_INCLUDE_DEPTH)
		return fail(L, ZK_E_ZONE_PARSE, file, line, "$INCLUDE nested too deep");
	/* zone text from memory (an API import) must not open files of the server */
	if (!parent->path)
		return fail(L, ZK_E_ZONE_PARSE, file, line,
			    "$INCLUDE is only allowed in zone files, not in zone text sent to "
			    "zonekeeper");
	if (target[0] == '/') {
		if (snprintf(full, sizeof(full), "%s", target) >= (int) sizeof(full))
			return fail(L, ZK_E_ZONE_PARSE, file, line, "$INCLUDE path too long");
	} else {
		_cleanup_free_ char *copy = strdup(parent->path);

		if (!copy)
			return fail(L, -ENOMEM, file, line, "out of memory");
		if (snprintf(full, sizeof(full), "%s/%s", dirname(copy), target) >=
		    (int) sizeof(full))
			return fail(L, ZK_E_ZONE_PARSE, file, line, "$INCLUDE path too long");
	}
	r = include_target(L, full, file, line, &resolved);
	if (r < 0)
		return r;
	memcpy(saved_owner, L->prev_owner, sizeof(saved_owner));
	r = parse_path(L, full, resolved, origin, parent->depth + 1, file, line);
	/* RFC 1035 §5.1: the included file does not change the includer's context. */
	memcpy(L->prev_owner, saved_owner, sizeof(saved_owner));
	L->have_prev = saved_have;
	L->last_node = 0;
	return r;
}

/* ---------------------------------------------------------------- building the zone */

static int rec_cmp(const rec *a, const rec *b)
{
	if (a->type != b->type)
		return a->type < b->type ? -1 : 1;
	if (a->covered != b->covered)
		return a->covered < b->covered ? -1 : 1;
	return sgn_rdata_cmp(a->rd, a->rdlen, b->rd, b->rdlen);
}

/*
 * Sort a node's records. Stable, because equal records are duplicates and the first in
 * file order is the one kept (its TTL counts, its line is named). Usually a few records
 * already in order: insertion sort on short runs, merges skipped for runs already in
 * order; a name with a huge RRset stays O(n log n). `tmp` holds n entries.
 */
static void sort_recs(rec **v, rec **tmp, size_t n)
{
	enum { RUN = 16 };

	for (size_t s = 0; s < n; s += RUN) {
		size_t e = s + RUN < n ? s + RUN : n;

		for (size_t i = s + 1; i < e; i++) {
			rec *x = v[i];
			size_t j = i;

			while (j > s && rec_cmp(v[j - 1], x) > 0) {
				v[j] = v[j - 1];
				j--;
			}
			v[j] = x;
		}
	}
	for (size_t w = RUN; w < n; w *= 2) {
		for (size_t lo = 0; lo + w < n; lo += 2 * w) {
			size_t mid = lo + w, hi = mid + w < n ? mid + w : n, a = lo, b = mid, o = lo;

			if (rec_cmp(v[mid - 1], v[mid]) <= 0)
				continue;
			while (a < mid && b < hi)
				tmp[o++] = rec_cmp(v[b], v[a]) < 0 ? v[b++] : v[a++];
			while (a < mid)
				tmp[o++] = v[a++];
			while (b < hi)
				tmp[o++] = v[b++];
			memcpy(v + lo, tmp + lo, (hi - lo) * sizeof(*v));
		}
	}
}

static int make_rrset(loader *L, sgn_rrset *s, rec **v, size_t n, const uint8_t *owner)
{
	uint32_t len = 0, ttl = v[0]->ttl;
	bool mixed = false;
	uint8_t *p;

	for (size_t i = 0; i < n; i++) {
		len += 2u + v[i]->rdlen;
		if (v[i]->ttl != ttl)
			mixed = true;
		if (v[i]->ttl < ttl)
			ttl = v[i]->ttl;
	}
	if (n > 65535)
		return fail(L, ZK_E_ZONE_CONTENT, v[0]->file, v[0]->line, "RRset too large");
	if (mixed && v[0]->type != T_RRSIG) {
		char text[DN_TEXTMAX], tb[16];

		dn_to_text(owner, text);
		if (L->ttl_warnings++ < MAX_TTL_WARNINGS)
			zk_diag_emit(L->o->diag, ZK_LOG_WARNING, fname(L, v[0]->file), v[0]->line,
				     "records of %s %s have different TTLs; using the lowest, %u",
				     text, sgn_type_name(v[0]->type, tb), ttl);
	}
	p = malloc(len ? len : 1);
	if (!p)
		return -ENOMEM;
	memset(s, 0, sizeof(*s));
	s->type = v[0]->type;
	s->ttl = ttl;
	s->count = (uint16_t) n;
	s->rdata = p;
	s->rdata_len = len;
	for (size_t i = 0; i < n; i++) {
		p[0] = (uint8_t) (v[i]->rdlen >> 8);
		p[1] = (uint8_t) v[i]->rdlen;
		memcpy(p + 2, v[i]->rd, v[i]->rdlen);
		p += 2u + v[i]->rdlen;
	}
	return 0;
}

static int attach_sigs(sgn_rrset *s, rec **v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		int r = sgn_rrset_add_sig(s, v[i]->rd, v[i]->rdlen);

		if (r < 0)
			return r;
	}
	return 0;
}

static bool is_nsec3_rec(const rec *r)
{
	return r->type == T_NSEC3 || (r->type == T_RRSIG && r->covered == T_NSEC3);
}

/*
 * SIGNED mode, an owner one label below the apex: move its NSEC3 records and their
 * signatures to the end of v (order kept) and return how many; n when it holds nothing
 * else (a hashed NSEC3 owner). A name of the zone can also be the hashed owner of another
 * name's NSEC3 record (RFC 5155 Appendix A has 2t7b4g4vsa5smi47k61mv5bv1a22bojr.example.):
 * its data goes to its node, the NSEC3 record to the zone's NSEC3 list.
 */
static size_t split_nsec3(const loader *L, const bnode *b, rec **v, size_t n)
{
	size_t end = n, moved = 0, nsec3 = 0;

	if (L->o->mode != SGN_LOAD_SIGNED || dn_labels(b->name) != dn_labels(L->apex) + 1)
		return 0;
	for (size_t i = 0; i < n; i++) {
		if (!is_nsec3_rec(v[i]))
			continue;
		moved++;
		nsec3 += v[i]->type == T_NSEC3;
	}
	if (moved == n || nsec3 == 0)
		return moved == n ? n : 0;
	for (size_t i = 0; i < end;) {
		rec *x = v[i];

		if (!is_nsec3_rec(x)) {
			i++;
			continue;
		}
		memmove(v + i, v + i + 1, (n - i - 1) * sizeof(*v));
		v[n - 1] = x;
		end--;
	}
	return moved;
}

static int node_key_cmp(const void *a, const void *b)
{
	const sgn_node *x = *(sgn_node *const *) a, *y = *(sgn_node *const *) b;

	return dn_key_cmp(x->key, x->key_len, y->key, y->key_len);
}

static int build_n3(loader *L, sgn_zone *z, bnode *b, rec **v, size_t n)
{
	sgn_n3 *e = &z->n3[z->n_n3];
	size_t i = 0, j;
	int r;

	memset(e, 0, sizeof(*e));
	r = dn_base32hex_decode((const char *) b->name + 1, b->name[0], e->hash, sizeof(e->hash));
	if (r <= 0 || b->name[0] != 32)
		return fail(L, ZK_E_ZONE_CONTENT, b->file, b->line,
			    "NSEC3 owner is not a base32hex SHA-1 hash");
	e->hash_len = (uint8_t) r;
	/* v is sorted by type: the RRSIGs (46) come before the NSEC3 (50) */
	while (i < n && v[i]->type == T_RRSIG)
		i++;
	j = i;
	if (n - j != 1)
		return fail(L, ZK_E_ZONE_CONTENT, b->file, b->line,
			    "%zu NSEC3 records at one hashed owner", n - j);
	r = make_rrset(L, &e->rr, v + j, 1, b->name);
	if (r < 0)
		return r;
	z->n_n3++;
	return attach_sigs(&e->rr, v, i);
}

/*
 * The rules on the whole name (pol_name_check), as the API applies them to a write: one
 * set of rules at every door. The error names the first DS record for a DS out of place,
 * else the name's last record.
 */
static int name_rules(loader *L, const sgn_node *node, rec **v, size_t n)
{
	pol_type_count c[POL_TYPES_MAX + 1];
	zk_error e = { 0 };
	const rec *at = v[0];
	ldns_rdf *owner;
	size_t nt;
	int r;

	if (L->o->mode != SGN_LOAD_UNSIGNED || !L->o->policy)
		return 0;
	nt = rec_node_types(L->apex, L->o->policy, node, c, ZK_ELEMENTSOF(c));
	owner = ldns_dname_new_frm_data((uint16_t) node->name_len, node->name);
	if (!owner)
		return -ENOMEM;
	r = pol_name_check(L->o->policy, owner, dn_equal(node->name, L->apex), c, nt, &e);
	ldns_rdf_deep_free(owner);
	if (r == 0)
		return 0;
	if (r == -ENOMEM)
		return r;
	for (size_t k = 1; k < n; k++) {
		bool ds = r == ZK_E_INVALID_RECORD;

		if (ds ? v[k]->type == T_DS && (at->type != T_DS || v[k]->line < at->line)
		       : v[k]->line > at->line)
			at = v[k];
	}
	return fail(L, r, at->file, at->line, "%s", e.message);
}

static int build_node(loader *L, sgn_zone *z, bnode *b, rec **v, size_t n, size_t *orphans)
{
	sgn_node *node = sgn_node_new(b->name);
	size_t i = 0, n_sets = 0;
	bool has_cname = false, has_other = false;
	const rec *cname = NULL, *other = NULL;
	int r;

	if (!node)
		return -ENOMEM;
	node->line = b->line;
	z->nodes[z->n_nodes++] = node;
	for (size_t k = 0; k < n; k++) {
		if (k == 0 || v[k]->type != v[k - 1]->type)
			if (v[k]->type != T_RRSIG && v[k]->type != T_NSEC)
				n_sets++;
		if (v[k]->type == T_CNAME) {
			has_cname = true;
			cname = v[k];
		} else if (v[k]->type != T_RRSIG && v[k]->type != T_NSEC &&
			   v[k]->type != T_NSEC3) {
			has_other = true;
			if (!other || v[k]->line > other->line)
				other = v[k];
		}
	}
	if (has_cname) {
		char text[DN_TEXTMAX], tb[16];

		dn_to_text(b->name, text);
		if (dn_equal(b->name, L->apex))
			return fail(L, ZK_E_CNAME_CONFLICT, cname->file, cname->line,
				    "CNAME at the zone apex %s", text);
		if (has_other) {
			const rec *later = other->line > cname->line ? other : cname;

			return fail(L, ZK_E_CNAME_CONFLICT, later->file, later->line,
				    "CNAME and other data at %s (CNAME at line %u, %s at line %u)",
				    text, cname->line, sgn_type_name(other->type, tb), other->line);
		}
	}
	node->rrsets = n_sets ? calloc(n_sets, sizeof(sgn_rrset)) : NULL;
	if (n_sets && !node->rrsets)
		return -ENOMEM;
	while (i < n) {
		size_t j = i;

		while (j < n && v[j]->type == v[i]->type && v[j]->covered == v[i]->covered)
			j++;
		/* duplicates collapse (RFC 2181 §5) */
		{
			size_t u = i + 1;

			for (size_t k = i + 1; k < j; k++)
				if (sgn_rdata_cmp(v[k]->rd, v[k]->rdlen, v[u - 1]->rd,
						  v[u - 1]->rdlen) != 0)
					v[u++] = v[k];
			if (v[i]->type == T_CNAME && u - i > 1) {
				char text[DN_TEXTMAX];
				size_t first = i, second = SIZE_MAX;

				/* v is in RDATA order: name the second CNAME in file order */
				for (size_t k = i + 1; k < u; k++)
					if (v[k]->line < v[first]->line)
						first = k;
				for (size_t k = i; k < u; k++)
					if (k != first &&
					    (second == SIZE_MAX || v[k]->line < v[second]->line))
						second = k;
				dn_to_text(b->name, text);
				return fail(L, ZK_E_CNAME_CONFLICT, v[second]->file, v[second]->line,
					    "more than one CNAME record at %s", text);
			}
			if (v[i]->type == T_RRSIG) {
				/* attached once all RRsets of the node exist */
			} else if (v[i]->type == T_NSEC) {
				node->nsec = calloc(1, sizeof(*node->nsec));
				if (!node->nsec)
					return -ENOMEM;
				r = make_rrset(L, node->nsec, v + i, u - i, b->name);
				if (r < 0)
					return r;
			} else {
				r = make_rrset(L, &node->rrsets[node->n_rrsets], v + i, u - i,
					       b->name);
				if (r < 0)
					return r;
				node->n_rrsets++;
			}
		}
		i = j;
	}
	r = name_rules(L, node, v, n);
	if (r < 0)
		return r;
	/* signatures */
	for (i = 0; i < n; i = i + 1) {
		size_t j = i;
		sgn_rrset *s;

		if (v[i]->type != T_RRSIG)
			continue;
		while (j < n && v[j]->type == T_RRSIG && v[j]->covered == v[i]->covered)
			j++;
		s = v[i]->covered == T_NSEC ? node->nsec : sgn_node_rrset(node, v[i]->covered);
		if (s) {
			r = attach_sigs(s, v + i, j - i);
			if (r < 0)
				return r;
		} else {
			*orphans += j - i;
		}
		i = j - 1;
	}
	return 0;
}

static void emit_stripped_notice(loader *L, const char *path)
{
	char msg[512], tb[16];
	size_t o = 0;
	uint32_t total = 0;

	if (!L->n_stripped_types)
		return;
	for (unsigned i = 0; i < L->n_stripped_types; i++) {
		total += L->stripped[i].count;
		o += (size_t) snprintf(msg + o, sizeof(msg) - o, "%s%u %s", i ? ", " : "",
				       L->stripped[i].count,
				       sgn_type_name(L->stripped[i].type, tb));
		if (o >= sizeof(msg))
			break;
	}
	zk_diag_emit(L->o->diag, ZK_LOG_NOTICE, path, 0,
		     "ignored %u DNSSEC record%s found in the input (%s): zonekeeper manages "
		     "them", total, total == 1 ? "" : "s", msg);
}

static int build_zone(loader *L, const char *path, sgn_zone **ret)
{
	_cleanup_free_ rec **v = NULL, **tmp = NULL;
	size_t cap_v = 0, orphans = 0;
	sgn_zone *z = NULL;
	int r;

	r = sgn_zone_new(L->apex, &z);
	if (r < 0)
		return fail(L, r, 0, 0, "out of memory");
	z->nodes = malloc((L->n_nodes + 1) * sizeof(*z->nodes));
	z->cap_nodes = L->n_nodes + 1;
	if (!z->nodes)
		goto oom;
	if (L->o->mode == SGN_LOAD_SIGNED) {
		z->n3 = calloc(L->n_nodes + 1, sizeof(*z->n3));
		if (!z->n3)
			goto oom;
	}
	for (size_t k = 0; k < L->n_nodes; k++) {
		bnode *b = &L->nodes[k];
		size_t n = 0, k3;

		for (rec *x = b->head; x; x = x->next) {
			if (n == cap_v) {
				size_t cap = cap_v ? cap_v * 2 : 64;
				rec **nv = realloc(v, cap * sizeof(*nv));

				if (!nv)
					goto oom;
				v = nv;
				nv = realloc(tmp, cap * sizeof(*nv));
				if (!nv)
					goto oom;
				tmp = nv;
				cap_v = cap;
			}
			v[n++] = x;
		}
		sort_recs(v, tmp, n);
		k3 = split_nsec3(L, b, v, n);
		if (k3 == n) {
			r = build_n3(L, z, b, v, n);
		} else {
			r = k3 ? build_n3(L, z, b, v + n - k3, k3) : 0;
			if (r >= 0)
				r = build_node(L, z, b, v, n - k3, &orphans);
		}
		if (r < 0) {
			if (r == -ENOMEM)
				goto oom;
			sgn_zone_free(z);
			return r;
		}
	}
	qsort(z->nodes, z->n_nodes, sizeof(*z->nodes), node_key_cmp);
	if (z->n3)
		qsort(z->n3, z->n_n3, sizeof(*z->n3), sgn_n3_cmp);
	r = sgn_zone_structure(z);
	if (r < 0)
		goto oom;
	if (!L->o->fragment && (!z->apex_node || z->apex_node->n_rrsets == 0)) {
		char apex[DN_TEXTMAX];

		dn_to_text(L->apex, apex);
		sgn_zone_free(z);
		return zk_fail_at(L->err, ZK_E_ZONE_CONTENT, path, 0,
				  "the zone has no data at its apex %s", apex);
	}
	z->input_serial = L->input_serial;
	z->has_input_soa = L->have_soa;
	for (unsigned i = 0; i < L->n_stripped_types && i < ZK_ELEMENTSOF(z->stripped); i++) {
		z->stripped[i].type = L->stripped[i].type;
		z->stripped[i].count = L->stripped[i].count;
		z->n_stripped = i + 1;
	}
	z->orphan_rrsigs = orphans;
	if (L->o->mode == SGN_LOAD_SIGNED) {
		sgn_rrset *p = sgn_node_rrset(z->apex_node, T_NSEC3PARAM);

		/* link NSEC3 records to the names they hash (done by the verifier) */
		if (p && p->count >= 1 && blob_len(p->rdata) >= 5) {
			const uint8_t *rd = p->rdata + 2;

			z->nsec3.enabled = true;
			z->nsec3.hash_alg = rd[0];
			z->nsec3.flags = rd[1];
			z->nsec3.iterations = (uint16_t) (rd[2] << 8 | rd[3]);
			z->nsec3.salt_len = rd[4];
			if (5u + rd[4] <= blob_len(p->rdata))
				memcpy(z->nsec3.salt, rd + 5, rd[4]);
		}
	}
	emit_stripped_notice(L, path);
	if (L->ttl_warnings > MAX_TTL_WARNINGS)
		zk_diag_emit(L->o->diag, ZK_LOG_WARNING, path, 0,
			     "%u more RRsets with mixed TTLs normalised to their lowest TTL",
			     L->ttl_warnings - MAX_TTL_WARNINGS);
	*ret = z;
	return 0;
oom:
	sgn_zone_free(z);
	return zk_fail(L->err, -ENOMEM, "out of memory loading the zone");
}

static void loader_done(loader *L)
{
	arena_free(&L->ar);
	free(L->nodes);
	free(L->slots);
	free(L->tok);
	free(L->text);
	free(L->top_path);
	free(L->include_root);
	for (unsigned i = 0; i < L->n_files; i++)
		free(L->file_store[i]);
}

static void loader_init(loader *L, const uint8_t *origin, const sgn_load_opts *o,
			zk_error *reterr)
{
	memset(L, 0, sizeof(*L));
	L->o = o;
	L->err = reterr;
	dn_lower_copy(L->apex, origin);
}

int sgn_zone_load_file(const char *path, const uint8_t *origin, const sgn_load_opts *o,
		       sgn_zone **ret, zk_error *reterr)
{
	loader L;
	int r;

	loader_init(&L, origin, o, reterr);
	L.top_path = strdup(path);
	if (!L.top_path) {
		loader_done(&L);
		return zk_fail(reterr, -ENOMEM, "out of memory");
	}
	r = parse_path(&L, path, path, L.apex, 0, 0, 0);
	if (r >= 0)
		r = build_zone(&L, path, ret);
	loader_done(&L);
	return r;
}

int sgn_zone_load_buffer(const char *buf, size_t len, const char *name,
			 const uint8_t *origin, const sgn_load_opts *o, sgn_zone **ret,
			 zk_error *reterr)
{
	parse_ctx ctx = { .path = NULL, .depth = 0 };
	uint16_t file;
	loader L;
	int r;

	loader_init(&L, origin, o, reterr);
	memcpy(ctx.origin, L.apex, dn_len(L.apex));
	r = add_file_name(&L, name, &file);
	if (r >= 0)
		r = parse_buffer(&L, buf, len, file, &ctx);
	if (r >= 0)
		r = build_zone(&L, name, ret);
	loader_done(&L);
	return r;
}
