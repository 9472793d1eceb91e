/* SPDX-License-Identifier: MIT */
/*
 * keystore/bindfmt.c -- the key files BIND (dnssec-keygen), ldns (ldns-keygen) and Knot
 * (keymgr import-bind) share: K<zone>+<alg>+<tag>.key (a DNSKEY record) and .private
 * ("Private-key-format: v1.x", BIND's lib/dns/dst_parse.c field names), plus our own .zk
 * metadata file (role and timing, which BIND's format cannot say for a CSK).
 *
 * Every buffer that held private key text or bytes is wiped before it is freed or goes out
 * of scope. Files are written through zk_atomic (temp file with the final mode, fsync,
 * rename, fsync of the directory).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <ldns/ldns.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include "keystore/internal.h"
#include "keystore/keystore.h"
#include "policy/zk-codec.h"
#include "policy/zk-file.h"
#include "policy/zk-macro.h"
#include "policy/zk-time.h"

#define KEY_FILE_MAX (64u << 10) /* any real key file is a few KiB */
#define PRIVATE_TEXT_MAX (16u << 10)

/* ---------------------------------------------------------------- secrets */

/* A heap buffer for private key text: wiped before it is freed. */
typedef struct secret {
	char *p;
	size_t len, cap;
	bool overflow;
} secret;

static void secret_done(secret *s)
{
	if (s->p) {
		zk_wipe(s->p, s->cap);
		free(s->p);
	}
	*s = (secret) { 0 };
}

static void secret_printf(secret *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void secret_printf(secret *s, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (s->overflow)
		return;
	va_start(ap, fmt);
	n = vsnprintf(s->p + s->len, s->cap - s->len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t) n >= s->cap - s->len) {
		s->overflow = true;
		return;
	}
	s->len += (size_t) n;
}

/* Read a whole private key file into a buffer sized once (no realloc leaving copies). */
static int read_secret_file(const char *path, secret *ret, zk_error *reterr)
{
	_cleanup_close_ int fd = -1;
	secret s = { 0 };
	struct stat st;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return zk_fail_at(reterr, ZK_E_KEY, path, 0, "cannot open private key file %s: %s",
				  path, strerror(errno));
	if (fstat(fd, &st) < 0)
		return zk_fail_at(reterr, ZK_E_KEY, path, 0, "cannot stat %s: %s", path,
				  strerror(errno));
	if (!S_ISREG(st.st_mode) || st.st_size > (off_t) KEY_FILE_MAX)
		return zk_fail_at(reterr, ZK_E_KEY, path, 0,
				  "%s is not a regular file of at most %u bytes", path,
				  KEY_FILE_MAX);
	s.cap = (size_t) st.st_size + 1;
	s.p = malloc(s.cap);
	if (!s.p)
		return zk_fail(reterr, -ENOMEM, "out of memory");
	while (s.len + 1 < s.cap) {
		ssize_t n = read(fd, s.p + s.len, s.cap - 1 - s.len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int r = -errno;

			secret_done(&s);
			return zk_fail(reterr, r, "cannot read %s", path);
		}
		if (n == 0)
			break;
		s.len += (size_t) n;
	}
	s.p[s.len] = '\0';
	*ret = s;
	return 0;
}

/*
 * zk_atomic for a private key file. The text goes to the temporary file's descriptor with
 * write(2) instead of zk_atomic_write(), whose staging buffer is freed without being wiped:
 * private key text must not be left behind in freed heap memory.
 */
static int write_secret_file(const char *path, const char *data, size_t len, zk_error *reterr)
{
	zk_atomic a;
	int r;

	r = zk_atomic_open(path, 0600, &a, reterr);
	if (r < 0)
		return r;
	for (size_t off = 0; off < len;) {
		ssize_t w = write(a.fd, data + off, len - off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			r = -errno;
			zk_atomic_abort(&a);
			return zk_fail(reterr, r, "cannot write '%s'", path);
		}
		off += (size_t) w;
	}
	return zk_atomic_commit(&a, reterr);
}

/* ---------------------------------------------------------------- small parsing helpers */

static char *trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
		*--e = '\0';
	return s;
}

/*
 * Split the next line off `*cursor` as "Name: value". Returns 1 with *name and *value set,
 * 0 for a blank or comment line, -1 at the end of the text, -EINVAL for a line without ':'.
 */
static int next_field(char **cursor, unsigned *line, char **name, char **value)
{
	char *s = *cursor, *nl, *colon;

	if (!*s)
		return -1;
	nl = strchr(s, '\n');
	if (nl) {
		*nl = '\0';
		*cursor = nl + 1;
	} else {
		*cursor = s + strlen(s);
	}
	(*line)++;
	s = trim(s);
	if (!*s || *s == ';' || *s == '#')
		return 0;
	colon = strchr(s, ':');
	if (!colon)
		return -EINVAL;
	*colon = '\0';
	*name = trim(s);
	*value = trim(colon + 1);
	return 1;
}

/* Path of the sibling file of `key_path` (which ends in ".key") with extension `ext`. */
static char *sibling(const char *key_path, const char *ext)
{
	size_t n = strlen(key_path) - strlen(".key");
	char *p;

	if (asprintf(&p, "%.*s%s", (int) n, key_path, ext) < 0)
		return NULL;
	return p;
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* ---------------------------------------------------------------- .key */

/*
 * Read the one DNSKEY record of a .key file: its owner (presentation form, caller frees)
 * and its wire rdata. BIND's and ldns's comment lines, TTL/class and parentheses are
 * handled by ldns's zone file parser.
 */
static int parse_key_file(const char *path, char **ret_owner, uint8_t *rdata, size_t *ret_len,
			  zk_error *reterr)
{
	_cleanup_fclose_ FILE *f = NULL;
	ldns_rdf *origin = NULL, *prev = NULL;
	ldns_rr *found = NULL;
	uint32_t ttl = 3600;
	size_t len = 0;
	int line = 0, r = 0;
	char *owner;

	f = fopen(path, "re");
	if (!f)
		return zk_fail_at(reterr, ZK_E_KEY, path, 0, "cannot open key file %s: %s", path,
				  strerror(errno));
	while (!feof(f)) {
		ldns_rr *rr = NULL;
		ldns_status st = ldns_rr_new_frm_fp_l(&rr, f, &ttl, &origin, &prev, &line);

		if (st == LDNS_STATUS_SYNTAX_EMPTY || st == LDNS_STATUS_SYNTAX_TTL ||
		    st == LDNS_STATUS_SYNTAX_ORIGIN)
			continue;
		if (st != LDNS_STATUS_OK) {
			r = zk_fail_at(reterr, ZK_E_KEY, path, (unsigned) line,
				       "%s: line %d is not a DNSKEY record: %s", path, line,
				       ldns_get_errorstr_by_id(st));
			goto out;
		}
		if (found) {
			ldns_rr_free(rr);
			r = zk_fail_at(reterr, ZK_E_KEY, path, (unsigned) line,
				       "%s: more than one record in a key file", path);
			goto out;
		}
		found = rr;
	}
	if (!found) {
		r = zk_fail_at(reterr, ZK_E_KEY, path, 0, "%s: no DNSKEY record", path);
		goto out;
	}
	if (ldns_rr_get_type(found) != LDNS_RR_TYPE_DNSKEY ||
	    ldns_rr_get_class(found) != LDNS_RR_CLASS_IN) {
		r = zk_fail_at(reterr, ZK_E_KEY, path, 0, "%s: the record is not an IN DNSKEY",
			       path);
		goto out;
	}
	/* The wire rdata is the concatenation of the rdfs (flags, protocol, algorithm, key). */
	for (size_t i = 0; i < ldns_rr_rd_count(found); i++) {
		const ldns_rdf *rdf = ldns_rr_rdf(found, i);

		if (len + ldns_rdf_size(rdf) > KS_DNSKEY_MAX) {
			r = zk_fail_at(reterr, ZK_E_KEY, path, 0, "%s: DNSKEY is too large", path);
			goto out;
		}
		memcpy(rdata + len, ldns_rdf_data(rdf), ldns_rdf_size(rdf));
		len += ldns_rdf_size(rdf);
	}
	ldns_dname2canonical(ldns_rr_owner(found));
	owner = ldns_rdf2str(ldns_rr_owner(found));
	if (!owner) {
		r = zk_fail(reterr, -ENOMEM, "out of memory");
		goto out;
	}
	*ret_owner = owner;
	*ret_len = len;
out:
	ldns_rr_free(found);
	ldns_rdf_deep_free(origin);
	ldns_rdf_deep_free(prev);
	return r;
}

/* ---------------------------------------------------------------- .private */

enum {
	F_MODULUS,
	F_PUBLIC_EXPONENT,
	F_PRIVATE_EXPONENT,
	F_PRIME1,
	F_PRIME2,
	F_EXPONENT1,
	F_EXPONENT2,
	F_COEFFICIENT,
	F_PRIVATE_KEY,
	_F_MAX,
};

/* BIND's names (lib/dns/dst_parse.c) and the OpenSSL parameter of each RSA field. */
static const struct {
	const char *name;
	const char *param;
} fields[_F_MAX] = {
	[F_MODULUS] = { "Modulus", OSSL_PKEY_PARAM_RSA_N },
	[F_PUBLIC_EXPONENT] = { "PublicExponent", OSSL_PKEY_PARAM_RSA_E },
	[F_PRIVATE_EXPONENT] = { "PrivateExponent", OSSL_PKEY_PARAM_RSA_D },
	[F_PRIME1] = { "Prime1", OSSL_PKEY_PARAM_RSA_FACTOR1 },
	[F_PRIME2] = { "Prime2", OSSL_PKEY_PARAM_RSA_FACTOR2 },
	[F_EXPONENT1] = { "Exponent1", OSSL_PKEY_PARAM_RSA_EXPONENT1 },
	[F_EXPONENT2] = { "Exponent2", OSSL_PKEY_PARAM_RSA_EXPONENT2 },
	[F_COEFFICIENT] = { "Coefficient", OSSL_PKEY_PARAM_RSA_COEFFICIENT1 },
	[F_PRIVATE_KEY] = { "PrivateKey", OSSL_PKEY_PARAM_PRIV_KEY },
};

/* Timing fields: BIND's .private names and ours in .zk, both mapping onto ks_timing. */
typedef struct timing_field {
	const char *name;
	size_t offset;
} timing_field;

static const timing_field bind_timing[] = {
	{ "Created", offsetof(ks_timing, created) },
	{ "Publish", offsetof(ks_timing, publish) },
	{ "Activate", offsetof(ks_timing, active) },
	{ "Inactive", offsetof(ks_timing, retire) },
	{ "Delete", offsetof(ks_timing, remove) },
};

static const timing_field zk_timing[] = {
	{ "Created", offsetof(ks_timing, created) },
	{ "Publish", offsetof(ks_timing, publish) },
	{ "Activate", offsetof(ks_timing, active) },
	{ "Retire", offsetof(ks_timing, retire) },
	{ "Remove", offsetof(ks_timing, remove) },
};

typedef struct private_key {
	uint8_t val[_F_MAX][KS_RSA_MAX_BYTES];
	size_t len[_F_MAX];
	bool set[_F_MAX];
	int algorithm; /* -1 until seen */
	bool format;
	ks_timing timing;
} private_key;

static void private_key_wipe(private_key *pk)
{
	zk_wipe(pk, sizeof(*pk));
}

/* 1 if `name` is a timing field of `table` (and stores it), 0 if not, <0 if malformed. */
static int parse_timing(const timing_field *table, size_t n, const char *name,
			const char *value, ks_timing *t)
{
	zk_time_t when;

	for (size_t i = 0; i < n; i++) {
		if (strcmp(name, table[i].name) != 0)
			continue;
		if (zk_time_parse14(value, &when) < 0)
			return -EINVAL;
		*(zk_time_t *) ((char *) t + table[i].offset) = when;
		return 1;
	}
	return 0;
}

static int parse_private(const char *path, char *text, private_key *pk, zk_error *reterr)
{
	char *cursor = text, *name, *value;
	unsigned line = 0;
	int r;

	pk->algorithm = -1;
	while ((r = next_field(&cursor, &line, &name, &value)) != -1) {
		int f;

		if (r == 0)
			continue;
		if (r < 0)
			return zk_fail_at(reterr, ZK_E_KEY, path, line,
					  "%s:%u: expected 'Name: value'", path, line);
		if (strcmp(name, "Private-key-format") == 0) {
			/* BIND writes v1.3 since 9.7 (timing fields), ldns v1.2; both are v1.x. */
			if (strncmp(value, "v1.", 3) != 0)
				return zk_fail_at(reterr, ZK_E_KEY, path, line,
						  "%s:%u: unsupported Private-key-format '%s'",
						  path, line, value);
			pk->format = true;
			continue;
		}
		if (strcmp(name, "Algorithm") == 0) {
			char *end;
			long a = strtol(value, &end, 10);

			if (end == value || a < 0 || a > 255 || (*end && *end != ' '))
				return zk_fail_at(reterr, ZK_E_KEY, path, line,
						  "%s:%u: malformed Algorithm '%s'", path, line,
						  value);
			pk->algorithm = (int) a;
			continue;
		}
		r = parse_timing(bind_timing, ZK_ELEMENTSOF(bind_timing), name, value, &pk->timing);
		if (r < 0)
			return zk_fail_at(reterr, ZK_E_KEY, path, line,
					  "%s:%u: %s is not a YYYYMMDDHHMMSS time", path, line,
					  name);
		if (r > 0)
			continue;
		for (f = 0; f < _F_MAX; f++)
			if (strcmp(name, fields[f].name) == 0)
				break;
		if (f == _F_MAX)
			continue; /* SyncPublish, Revoke, DSPublish, ...: not ours to keep */
		if (pk->set[f])
			return zk_fail_at(reterr, ZK_E_KEY, path, line, "%s:%u: %s given twice",
					  path, line, name);
		r = zk_b64_decode(value, strlen(value), pk->val[f], sizeof(pk->val[f]));
		if (r <= 0)
			return zk_fail_at(reterr, ZK_E_KEY, path, line,
					  "%s:%u: %s is not a valid base64 value", path, line,
					  name);
		pk->len[f] = (size_t) r;
		pk->set[f] = true;
	}
	if (!pk->format)
		return zk_fail_at(reterr, ZK_E_KEY, path, 0,
				  "%s: no Private-key-format line: not a private key file", path);
	if (pk->algorithm < 0)
		return zk_fail_at(reterr, ZK_E_KEY, path, 0, "%s: no Algorithm line", path);
	return 0;
}

/* Reverse a big-endian value in place into OSSL_PARAM's native order. */
static void to_native(uint8_t *v, size_t n)
{
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	for (size_t i = 0; i < n / 2; i++) {
		uint8_t t = v[i];

		v[i] = v[n - 1 - i];
		v[n - 1 - i] = t;
	}
#else
	(void) v;
	(void) n;
#endif
}

static int private_rsa(const char *path, private_key *pk, EVP_PKEY **ret, zk_error *reterr)
{
	OSSL_PARAM params[_F_MAX];
	size_t n = 0, crt = 0;

	for (int f = F_MODULUS; f <= F_PRIVATE_EXPONENT; f++)
		if (!pk->set[f])
			return zk_fail_at(reterr, ZK_E_KEY, path, 0, "%s: no %s field", path,
					  fields[f].name);
	for (int f = F_PRIME1; f <= F_COEFFICIENT; f++)
		crt += pk->set[f];
	/* The CRT values are optional, but half a set is a damaged file. */
	if (crt != 0 && crt != 5)
		return zk_fail_at(reterr, ZK_E_KEY, path, 0, "%s: incomplete RSA CRT fields", path);
	for (int f = F_MODULUS; f <= F_COEFFICIENT; f++) {
		if (!pk->set[f])
			continue;
		to_native(pk->val[f], pk->len[f]);
		params[n++] = OSSL_PARAM_construct_BN(fields[f].param, pk->val[f], pk->len[f]);
	}
	params[n] = OSSL_PARAM_construct_end();
	return ks_pkey_fromdata("RSA", EVP_PKEY_KEYPAIR, params, ret, reterr);
}

static int private_ecdsa(const char *path, const ks_alg *a, private_key *pk,
			 const uint8_t *dnskey, EVP_PKEY **ret, zk_error *reterr)
{
	uint8_t point[1 + 96];
	OSSL_PARAM params[4];

	if (!pk->set[F_PRIVATE_KEY])
		return zk_fail_at(reterr, ZK_E_KEY, path, 0,
				  "%s: no PrivateKey field (keys held in an HSM are not supported)",
				  path);
	if (pk->len[F_PRIVATE_KEY] > a->key_len / 2)
		return zk_fail_at(reterr, ZK_E_KEY, path, 0, "%s: PrivateKey is too long for %s",
				  path, a->group);
	/* The public point comes from the DNSKEY; the self-test proves the two belong. */
	point[0] = 0x04;
	memcpy(point + 1, dnskey + 4, a->key_len);
	to_native(pk->val[F_PRIVATE_KEY], pk->len[F_PRIVATE_KEY]);
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, (char *) a->group,
						     0);
	params[1] = OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, point,
						      1 + a->key_len);
	params[2] = OSSL_PARAM_construct_BN(OSSL_PKEY_PARAM_PRIV_KEY, pk->val[F_PRIVATE_KEY],
					    pk->len[F_PRIVATE_KEY]);
	params[3] = OSSL_PARAM_construct_end();
	return ks_pkey_fromdata("EC", EVP_PKEY_KEYPAIR, params, ret, reterr);
}

static int private_eddsa(const char *path, const ks_alg *a, private_key *pk,
			 const uint8_t *dnskey, EVP_PKEY **ret, zk_error *reterr)
{
	_cleanup_(EVP_PKEY_free_p) EVP_PKEY *pkey = NULL;
	uint8_t pub[57];
	size_t len = sizeof(pub);

	if (!pk->set[F_PRIVATE_KEY])
		return zk_fail_at(reterr, ZK_E_KEY, path, 0, "%s: no PrivateKey field", path);
	if (pk->len[F_PRIVATE_KEY] != a->key_len)
		return zk_fail_at(reterr, ZK_E_KEY, path, 0, "%s: %s PrivateKey must be %zu bytes",
				  path, a->mnemonic, a->key_len);
	pkey = EVP_PKEY_new_raw_private_key(a->raw_type, NULL, pk->val[F_PRIVATE_KEY],
					    a->key_len);
	if (!pkey)
		return ks_ossl_fail(reterr, ZK_E_KEY, "%s: malformed %s private key", path,
				    a->mnemonic);
	/* RFC 8032 §5.1.5: the public key follows from the private one: it must be the DNSKEY. */
	if (EVP_PKEY_get_raw_public_key(pkey, pub, &len) != 1 || len != a->key_len ||
	    memcmp(pub, dnskey + 4, len) != 0)
		return zk_fail_at(reterr, ZK_E_KEY, path, 0,
				  "private key in %s does not match its DNSKEY", path);
	*ret = ZK_TAKE(pkey);
	return 0;
}

/* ---------------------------------------------------------------- .zk */

typedef struct zk_meta {
	bool present;
	int role; /* -1 if not given */
	ks_timing timing;
} zk_meta;

static int parse_zk_file(const char *path, zk_meta *ret, zk_error *reterr)
{
	_cleanup_free_ char *text = NULL;
	char *cursor, *name, *value;
	zk_meta m = { .role = -1 };
	unsigned line = 0;
	int r;

	r = zk_file_read(path, KEY_FILE_MAX, &text, NULL);
	if (r == -ENOENT) {
		*ret = m;
		return 0;
	}
	if (r < 0)
		return zk_fail_at(reterr, r, path, 0, "cannot read %s", path);
	m.present = true;
	cursor = text;
	while ((r = next_field(&cursor, &line, &name, &value)) != -1) {
		if (r == 0)
			continue;
		if (r < 0)
			return zk_fail_at(reterr, ZK_E_KEY, path, line,
					  "%s:%u: expected 'Name: value'", path, line);
		if (strcmp(name, "Role") == 0) {
			m.role = ks_role_from_name(value);
			if (m.role < 0)
				return zk_fail_at(reterr, ZK_E_KEY, path, line,
						  "%s:%u: unknown role '%s'", path, line, value);
			continue;
		}
		r = parse_timing(zk_timing, ZK_ELEMENTSOF(zk_timing), name, value, &m.timing);
		if (r < 0)
			return zk_fail_at(reterr, ZK_E_KEY, path, line,
					  "%s:%u: %s is not a YYYYMMDDHHMMSS time", path, line,
					  name);
		/* Unknown names are skipped, so that older versions read newer files. */
	}
	*ret = m;
	return 0;
}

/* ---------------------------------------------------------------- load */

int ks_key_load(const char *key_path, ks_key **ret, zk_error *reterr)
{
	_cleanup_(private_key_wipe) private_key pk = { 0 };
	_cleanup_(secret_done) secret text = { 0 };
	_cleanup_(EVP_PKEY_free_p) EVP_PKEY *pkey = NULL;
	_cleanup_(ks_key_free_p) ks_key *k = NULL;
	_cleanup_free_ char *owner = NULL, *priv_path = NULL, *zk_path = NULL;
	uint8_t rdata[KS_DNSKEY_MAX];
	const ks_alg *a = NULL;
	size_t len = 0;
	zk_meta meta = { .role = -1 };
	ks_role role;
	int r;

	if (!ends_with(key_path, ".key"))
		return zk_fail_at(reterr, ZK_E_KEY, key_path, 0, "%s: not a .key file", key_path);
	priv_path = sibling(key_path, ".private");
	zk_path = sibling(key_path, ".zk");
	if (!priv_path || !zk_path)
		return zk_fail(reterr, -ENOMEM, "out of memory");

	r = parse_key_file(key_path, &owner, rdata, &len, reterr);
	if (r < 0)
		return r;
	if (len < 4)
		return zk_fail_at(reterr, ZK_E_KEY, key_path, 0, "%s: DNSKEY rdata is truncated",
				  key_path);
	a = ks_alg_find(rdata[3]);
	if (!a || !ks_algorithm_supported(rdata[3]))
		return zk_fail_at(reterr, ZK_E_UNSUPPORTED, key_path, 0,
				  "%s: DNSKEY algorithm %u is not supported", key_path, rdata[3]);
	if (a->kind != KS_KIND_RSA && len != 4 + a->key_len)
		return zk_fail_at(reterr, ZK_E_KEY, key_path, 0,
				  "%s: %s public key is %zu bytes, not %zu", key_path, a->mnemonic,
				  len - 4, a->key_len);

	r = read_secret_file(priv_path, &text, reterr);
	if (r < 0)
		return r;
	r = parse_private(priv_path, text.p, &pk, reterr);
	if (r < 0)
		return r;
	if (pk.algorithm != a->number)
		return zk_fail_at(reterr, ZK_E_KEY, priv_path, 0,
				  "%s: algorithm %d does not match the DNSKEY's %u", priv_path,
				  pk.algorithm, a->number);
	switch (a->kind) {
	case KS_KIND_RSA:
		r = private_rsa(priv_path, &pk, &pkey, reterr);
		break;
	case KS_KIND_ECDSA:
		r = private_ecdsa(priv_path, a, &pk, rdata, &pkey, reterr);
		break;
	case KS_KIND_EDDSA:
		r = private_eddsa(priv_path, a, &pk, rdata, &pkey, reterr);
		break;
	}
	if (r < 0) {
		if (reterr && !reterr->file[0])
			snprintf(reterr->file, sizeof(reterr->file), "%s", priv_path);
		return r;
	}

	r = parse_zk_file(zk_path, &meta, reterr);
	if (r < 0)
		return r;
	/* Without our metadata, the role follows the SEP flag as BIND and Knot read it. */
	role = ((rdata[0] << 8 | rdata[1]) & KS_FLAG_SEP) ? KS_ROLE_KSK : KS_ROLE_ZSK;
	if (meta.role >= 0)
		role = (ks_role) meta.role;

	r = ks_key_assemble(owner, rdata, len, role, &pkey, &k, reterr);
	if (r < 0) {
		zk_error_prefix(reterr, "%s", key_path);
		if (reterr && !reterr->file[0])
			snprintf(reterr->file, sizeof(reterr->file), "%s", key_path);
		return r;
	}
	/* .zk is written last by ks_key_write: when present it is the committed timing. */
	k->timing = meta.present ? meta.timing : pk.timing;

	r = ks_key_self_test(k, reterr);
	if (r == ZK_E_KEY)
		return zk_fail_at(reterr, ZK_E_KEY, priv_path, 0,
				  "private key in %s does not match its DNSKEY", priv_path);
	if (r < 0)
		return r;
	*ret = ZK_TAKE(k);
	return 0;
}

/* ---------------------------------------------------------------- write */

static void put_b64(secret *s, const char *name, const uint8_t *v, size_t n)
{
	char b64[((KS_RSA_MAX_BYTES + 2) / 3) * 4 + 1];

	zk_b64_encode(v, n, b64);
	secret_printf(s, "%s: %s\n", name, b64);
	zk_wipe(b64, sizeof(b64));
}

static const char *human_time(zk_time_t t, char *buf, size_t size)
{
	time_t tt = (time_t) t;
	struct tm tm;

	if (!gmtime_r(&tt, &tm) || strftime(buf, size, "%a %b %e %H:%M:%S %Y", &tm) == 0)
		snprintf(buf, size, "?");
	return buf;
}

static int format_private(const ks_key *k, const ks_alg *a, secret *s, zk_error *reterr)
{
	uint8_t v[KS_RSA_MAX_BYTES], padded[48];
	const ks_timing *t = &k->timing;
	char when[16];
	size_t n;
	int r = 0;

	/* v1.3: what BIND 9.18's dnssec-keygen writes; ldns and Knot read it too. */
	secret_printf(s, "Private-key-format: v1.3\n");
	secret_printf(s, "Algorithm: %u (%s)\n", a->number, a->mnemonic);
	switch (a->kind) {
	case KS_KIND_RSA:
		for (int f = F_MODULUS; f <= F_COEFFICIENT; f++) {
			r = ks_pkey_get_uint(k->pkey, fields[f].param, v, sizeof(v), &n, reterr);
			if (r < 0)
				goto out;
			put_b64(s, fields[f].name, v, n);
		}
		break;
	case KS_KIND_ECDSA:
		r = ks_pkey_get_uint(k->pkey, OSSL_PKEY_PARAM_PRIV_KEY, v, sizeof(v), &n, reterr);
		if (r < 0)
			goto out;
		if (n > a->key_len / 2) {
			r = zk_fail(reterr, ZK_E_CRYPTO, "EC private key is too long");
			goto out;
		}
		/* Fixed width, as BIND writes it (BN_bn2bin_fixed). */
		memset(padded, 0, sizeof(padded));
		memcpy(padded + a->key_len / 2 - n, v, n);
		put_b64(s, "PrivateKey", padded, a->key_len / 2);
		break;
	case KS_KIND_EDDSA:
		n = sizeof(v);
		if (EVP_PKEY_get_raw_private_key(k->pkey, v, &n) != 1) {
			r = ks_ossl_fail(reterr, ZK_E_CRYPTO, "cannot read the %s private key",
					 a->mnemonic);
			goto out;
		}
		put_b64(s, "PrivateKey", v, n);
		break;
	}
	for (size_t i = 0; i < ZK_ELEMENTSOF(bind_timing); i++) {
		zk_time_t w = *(const zk_time_t *) ((const char *) t + bind_timing[i].offset);

		if (w)
			secret_printf(s, "%s: %s\n", bind_timing[i].name,
				      zk_time_str14(w, when, sizeof(when)));
	}
	if (s->overflow)
		r = zk_fail(reterr, -ENOBUFS, "private key text too long");
out:
	zk_wipe(v, sizeof(v));
	zk_wipe(padded, sizeof(padded));
	return r;
}

static int format_key(const ks_key *k, char **ret, size_t *ret_len)
{
	char b64[((KS_DNSKEY_MAX + 2) / 3) * 4 + 1], when[16], human[64];
	const ks_timing *t = &k->timing;
	_cleanup_free_ char *buf = NULL;
	size_t size = 0;
	FILE *f;

	f = open_memstream(&buf, &size);
	if (!f)
		return -ENOMEM;
	/* BIND's comment lines (lib/dns/dst_api.c write_public_key), then the record. */
	fprintf(f, "; This is a %s%s-signing key, keyid %u, for %s\n",
		(k->flags & KS_FLAG_REVOKE) ? "revoked " : "",
		(k->flags & KS_FLAG_SEP) ? "key" : "zone", k->tag, k->zone);
	for (size_t i = 0; i < ZK_ELEMENTSOF(bind_timing); i++) {
		zk_time_t w = *(const zk_time_t *) ((const char *) t + bind_timing[i].offset);

		if (w)
			fprintf(f, "; %s: %s (%s)\n", bind_timing[i].name,
				zk_time_str14(w, when, sizeof(when)),
				human_time(w, human, sizeof(human)));
	}
	zk_b64_encode(k->dnskey + 4, k->dnskey_len - 4, b64);
	/* No TTL: dnssec-signzone and ldns-signzone take the zone's DNSKEY TTL then. */
	fprintf(f, "%s IN DNSKEY %u 3 %u %s\n", k->zone, k->flags, k->algorithm, b64);
	if (fclose(f) != 0)
		return -ENOMEM;
	*ret = ZK_TAKE(buf);
	*ret_len = size;
	return 0;
}

static int format_zk(const ks_key *k, char **ret, size_t *ret_len)
{
	const ks_timing *t = &k->timing;
	_cleanup_free_ char *buf = NULL;
	size_t size = 0;
	char when[16];
	FILE *f;

	f = open_memstream(&buf, &size);
	if (!f)
		return -ENOMEM;
	fprintf(f, "; zonekeeper metadata of %s (absent times are unset)\n", k->basename);
	fprintf(f, "Role: %s\n", ks_role_name(k->role));
	for (size_t i = 0; i < ZK_ELEMENTSOF(zk_timing); i++) {
		zk_time_t w = *(const zk_time_t *) ((const char *) t + zk_timing[i].offset);

		if (w)
			fprintf(f, "%s: %s\n", zk_timing[i].name,
				zk_time_str14(w, when, sizeof(when)));
	}
	if (fclose(f) != 0)
		return -ENOMEM;
	*ret = ZK_TAKE(buf);
	*ret_len = size;
	return 0;
}

int ks_key_write(const ks_key *k, const char *dir, zk_error *reterr)
{
	_cleanup_(secret_done) secret priv = { 0 };
	_cleanup_free_ char *priv_path = NULL, *key_path = NULL, *zk_path = NULL;
	_cleanup_free_ char *key_text = NULL, *zk_text = NULL;
	const ks_alg *a = ks_alg_find(k->algorithm);
	size_t key_len, zk_len;
	int r;

	if (!a || !k->pkey)
		return zk_fail(reterr, -EINVAL, "%s has no private key to write", k->basename);
	if (asprintf(&priv_path, "%s/%s.private", dir, k->basename) < 0)
		priv_path = NULL;
	if (asprintf(&key_path, "%s/%s.key", dir, k->basename) < 0)
		key_path = NULL;
	if (asprintf(&zk_path, "%s/%s.zk", dir, k->basename) < 0)
		zk_path = NULL;
	if (!priv_path || !key_path || !zk_path)
		return zk_fail(reterr, -ENOMEM, "out of memory");

	priv.cap = PRIVATE_TEXT_MAX;
	priv.p = malloc(priv.cap);
	if (!priv.p)
		return zk_fail(reterr, -ENOMEM, "out of memory");
	r = format_private(k, a, &priv, reterr);
	if (r < 0)
		return r;
	if (format_key(k, &key_text, &key_len) < 0 || format_zk(k, &zk_text, &zk_len) < 0)
		return zk_fail(reterr, -ENOMEM, "out of memory");

	/*
	 * Order matters for a crash in between (invariant 22): the private key is durable
	 * before the .key that makes the store see the key, and .zk, the committed metadata,
	 * comes last.
	 */
	r = write_secret_file(priv_path, priv.p, priv.len, reterr);
	if (r < 0)
		return r;
	r = zk_file_write_atomic(key_path, 0644, key_text, key_len, reterr);
	if (r < 0)
		return r;
	return zk_file_write_atomic(zk_path, 0600, zk_text, zk_len, reterr);
}
