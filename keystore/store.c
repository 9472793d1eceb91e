/* SPDX-License-Identifier: MIT */
/*
 * keystore/store.c -- the key directory of one zone: mode 0700, .private files 0600
 * (repaired with a warning, as BIND does, invariant 21), every K<zone>+*.key in it loaded
 * and self-tested, and new keys generated or imported with key tags that collide with no
 * other key of the zone, revoked variants included (invariant 17).
 *
 * Owns: the ks_store and every ks_key in it; keys handed out are borrowed.
 */
#include <dirent.h>
#include <limits.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "keystore/internal.h"
#include "keystore/keystore.h"
#include "policy/zk-file.h"
#include "policy/zk-macro.h"

struct ks_store {
	char *dir;  /* owned */
	char *zone; /* owned: absolute, lowercase */
	ks_key **keys;
	size_t n_keys, cap;
};

ZK_DEFINE_PTR_CLEANUP(ks_store *, ks_store_free)
ZK_DEFINE_PTR_CLEANUP(DIR *, closedir)

ks_store *ks_store_free(ks_store *s)
{
	if (!s)
		return NULL;
	for (size_t i = 0; i < s->n_keys; i++)
		ks_key_free(s->keys[i]);
	free(s->keys);
	free(s->dir);
	free(s->zone);
	free(s);
	return NULL;
}

/* Takes `k` on success. */
static int store_add(ks_store *s, ks_key *k)
{
	if (s->n_keys == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 8;
		ks_key **keys = reallocarray(s->keys, cap, sizeof(*keys));

		if (!keys)
			return -ENOMEM;
		s->keys = keys;
		s->cap = cap;
	}
	s->keys[s->n_keys++] = k;
	return 0;
}

static void store_remove_last(ks_store *s)
{
	s->n_keys--;
}

/*
 * True if `name` is "K<zone>+NNN+NNNNN.key" for our zone (zone compared without regard to
 * case: dnssec-keygen keeps the case it was given).
 */
static bool is_zone_key_file(const ks_store *s, const char *name)
{
	size_t zlen = strlen(s->zone), n = strlen(name);
	const char *p;

	if (n != 1 + zlen + 1 + 3 + 1 + 5 + 4 || name[0] != 'K' ||
	    strncasecmp(name + 1, s->zone, zlen) != 0)
		return false;
	p = name + 1 + zlen;
	if (p[0] != '+' || p[4] != '+' || strcmp(p + 10, ".key") != 0)
		return false;
	for (int i = 1; i < 10; i++)
		if (i != 4 && (p[i] < '0' || p[i] > '9'))
			return false;
	return true;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *) a, *(char *const *) b);
}

static void free_names(char **names, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

/* The zone's .key file names in `dir`, sorted so that the load order is reproducible. */
static int list_key_files(const ks_store *s, char ***ret, size_t *ret_n, zk_error *reterr)
{
	_cleanup_(closedir_p) DIR *d = NULL;
	char **names = NULL;
	size_t n = 0, cap = 0;
	struct dirent *de;

	d = opendir(s->dir);
	if (!d)
		return zk_fail(reterr, -errno, "cannot read key directory '%s'", s->dir);
	errno = 0;
	while ((de = readdir(d))) {
		if (!is_zone_key_file(s, de->d_name))
			continue;
		if (n == cap) {
			char **nn = reallocarray(names, cap ? 2 * cap : 16, sizeof(*nn));

			if (!nn)
				goto oom;
			names = nn;
			cap = cap ? 2 * cap : 16;
		}
		names[n] = strdup(de->d_name);
		if (!names[n])
			goto oom;
		n++;
		errno = 0;
	}
	if (errno) {
		int r = -errno;

		free_names(names, n);
		return zk_fail(reterr, r, "cannot read key directory '%s'", s->dir);
	}
	if (n)
		qsort(names, n, sizeof(*names), cmp_str);
	*ret = names;
	*ret_n = n;
	return 0;
oom:
	free_names(names, n);
	return zk_fail(reterr, -ENOMEM, "out of memory");
}

/* Invariant 21, as BIND does: a private key readable by others is made 0600. */
static int repair_private_mode(const char *priv_path, const zk_diag *diag, zk_error *reterr)
{
	struct stat st;

	if (stat(priv_path, &st) < 0) {
		if (errno == ENOENT)
			return 0; /* ks_key_load reports the missing file */
		return zk_fail(reterr, -errno, "cannot stat '%s'", priv_path);
	}
	if ((st.st_mode & 0077) == 0)
		return 0;
	if (chmod(priv_path, 0600) < 0)
		return zk_fail(reterr, -errno, "cannot make private key '%s' mode 0600",
			       priv_path);
	zk_diag_emit(diag, ZK_LOG_WARNING, priv_path, 0,
		     "private key file %s had mode %04o (readable by others), changed to 0600",
		     priv_path, (unsigned) (st.st_mode & 07777));
	return 0;
}

static int open_dir(const char *dir, const zk_diag *diag, zk_error *reterr)
{
	struct stat st;
	int r;

	r = zk_mkdir_p(dir, 0700);
	if (r < 0)
		return zk_fail(reterr, r, "cannot create key directory '%s'", dir);
	if (stat(dir, &st) < 0)
		return zk_fail(reterr, -errno, "cannot stat key directory '%s'", dir);
	if (!S_ISDIR(st.st_mode))
		return zk_fail(reterr, -ENOTDIR, "key directory '%s'", dir);
	if ((st.st_mode & 0077) != 0) {
		if (chmod(dir, 0700) < 0)
			return zk_fail(reterr, -errno, "cannot make key directory '%s' mode 0700",
				       dir);
		zk_diag_emit(diag, ZK_LOG_WARNING, dir, 0,
			     "key directory %s had mode %04o, changed to 0700", dir,
			     (unsigned) (st.st_mode & 07777));
	}
	return 0;
}

int ks_store_open(const char *dir, const char *zone, const zk_diag *diag, ks_store **ret,
		  zk_error *reterr)
{
	_cleanup_(ks_store_free_p) ks_store *s = NULL;
	char **names = NULL;
	size_t n = 0;
	int r;

	s = calloc(1, sizeof(*s));
	if (!s)
		return zk_fail(reterr, -ENOMEM, "out of memory");
	r = ks_zone_normalize(zone, &s->zone);
	if (r < 0)
		return zk_fail(reterr, r, "invalid zone name '%s'", zone);
	s->dir = strdup(dir);
	if (!s->dir)
		return zk_fail(reterr, -ENOMEM, "out of memory");
	r = open_dir(dir, diag, reterr);
	if (r < 0)
		return r;

	r = list_key_files(s, &names, &n, reterr);
	if (r < 0)
		return r;
	for (size_t i = 0; i < n; i++) {
		_cleanup_free_ char *key_path = NULL, *priv_path = NULL;
		ks_key *k = NULL;
		const ks_key *other;

		if (asprintf(&key_path, "%s/%s", dir, names[i]) < 0 ||
		    asprintf(&priv_path, "%s/%.*s.private", dir,
			     (int) (strlen(names[i]) - strlen(".key")), names[i]) < 0) {
			r = zk_fail(reterr, -ENOMEM, "out of memory");
			break;
		}
		r = repair_private_mode(priv_path, diag, reterr);
		if (r < 0)
			break;
		r = ks_key_load(key_path, &k, reterr);
		if (r < 0)
			break;
		if (!ks_zone_equal(k->zone, s->zone) ||
		    strncasecmp(names[i], k->basename, strlen(k->basename)) != 0) {
			r = zk_fail_at(reterr, ZK_E_KEY, key_path, 0,
				       "%s holds key %s: the file name does not match its DNSKEY",
				       key_path, k->basename);
			ks_key_free(k);
			break;
		}
		/* Tolerated, since the files exist, but the zone should not be signed so. */
		if (ks_key_collides(k, s->keys, s->n_keys, &other))
			zk_diag_emit(diag, ZK_LOG_WARNING, key_path, 0,
				     "key tag of %s collides with %s", k->basename,
				     other->basename);
		r = store_add(s, k);
		if (r < 0) {
			ks_key_free(k);
			r = zk_fail(reterr, r, "out of memory");
			break;
		}
	}
	free_names(names, n);
	if (r < 0)
		return r;
	*ret = ZK_TAKE(s);
	return 0;
}

const char *ks_store_dir(const ks_store *s)
{
	return s->dir;
}

size_t ks_store_count(const ks_store *s)
{
	return s->n_keys;
}

ks_key *ks_store_key(const ks_store *s, size_t i)
{
	return i < s->n_keys ? s->keys[i] : NULL;
}

ks_key *ks_store_find(const ks_store *s, uint8_t algorithm, uint16_t tag)
{
	for (size_t i = 0; i < s->n_keys; i++)
		if (s->keys[i]->algorithm == algorithm && s->keys[i]->tag == tag)
			return s->keys[i];
	return NULL;
}

/* Remove the files of a key we failed to add, so no half-written key is left behind. */
static void unlink_key_files(const ks_store *s, const ks_key *k)
{
	static const char *const exts[] = { ".zk", ".key", ".private" };

	for (size_t i = 0; i < ZK_ELEMENTSOF(exts); i++) {
		_cleanup_free_ char *p = NULL;

		if (asprintf(&p, "%s/%s%s", s->dir, k->basename, exts[i]) >= 0)
			(void) unlink(p);
		else
			p = NULL;
	}
	(void) zk_fsync_parent(s->dir);
}

/* Write `k` into the store directory and add it; takes `k` in all cases. */
static int store_commit(ks_store *s, ks_key *k, ks_key **ret, zk_error *reterr)
{
	_cleanup_(ks_key_free_p) ks_key *key = k;
	int r;

	r = store_add(s, key);
	if (r < 0)
		return zk_fail(reterr, r, "out of memory");
	/* Durable before the caller may publish it (invariant 22). */
	r = ks_key_write(key, s->dir, reterr);
	if (r < 0) {
		store_remove_last(s);
		unlink_key_files(s, key);
		return r;
	}
	*ret = ZK_TAKE(key);
	return 0;
}

static int default_keygen(void *userdata, uint8_t algorithm, ks_role role, const char *zone,
			  zk_time_t now, ks_key **ret, zk_error *reterr)
{
	return ks_key_generate(algorithm, role, zone, now, ret, reterr);
}

int ks_store_generate_with(ks_store *s, uint8_t algorithm, ks_role role,
			   const ks_timing *timing, ks_keygen_fn gen, void *userdata,
			   ks_key **ret, zk_error *reterr)
{
	ks_timing t = timing ? *timing : (ks_timing) { 0 };

	for (unsigned attempt = 0; attempt < KS_TAG_ATTEMPTS; attempt++) {
		ks_key *k = NULL;
		int r;

		r = gen(userdata, algorithm, role, s->zone, t.created, &k, reterr);
		if (r < 0)
			return r;
		/*
		 * Invariant 17 (.ru 2024): a tag shared with any key of the zone, or with its
		 * revoked variant, makes validators try the wrong key. Draw again.
		 */
		if (ks_key_collides(k, s->keys, s->n_keys, NULL)) {
			ks_key_free(k);
			continue;
		}
		if (timing)
			k->timing = *timing;
		return store_commit(s, k, ret, reterr);
	}
	return zk_fail(reterr, ZK_E_KEY,
		       "no key with a unique key tag after %u attempts (zone %s has %zu keys)",
		       KS_TAG_ATTEMPTS, s->zone, s->n_keys);
}

int ks_store_generate(ks_store *s, uint8_t algorithm, ks_role role, const ks_timing *timing,
		      ks_key **ret, zk_error *reterr)
{
	return ks_store_generate_with(s, algorithm, role, timing, default_keygen, NULL, ret,
				      reterr);
}

int ks_store_import(ks_store *s, const char *key_path, int role, const ks_timing *timing,
		    ks_key **ret, zk_error *reterr)
{
	_cleanup_(ks_key_free_p) ks_key *k = NULL;
	const ks_key *other;
	bool sep;
	int r;

	if (role >= _KS_ROLE_MAX)
		return zk_fail(reterr, -EINVAL, "invalid key role %d", role);
	r = ks_key_load(key_path, &k, reterr);
	if (r < 0)
		return r;
	if (!ks_zone_equal(k->zone, s->zone))
		return zk_fail_at(reterr, ZK_E_KEY, key_path, 0,
				  "%s is a key of zone %s, not of %s", key_path, k->zone, s->zone);
	if (ks_key_collides(k, s->keys, s->n_keys, &other))
		return zk_fail_at(reterr, ZK_E_KEY, key_path, 0,
				  "key tag %u of %s collides with %s already in the store",
				  k->tag, key_path, other->basename);
	if (role >= 0) {
		/* The role may refine the flags (KSK or CSK for SEP keys), not contradict them. */
		sep = (k->flags & KS_FLAG_SEP) != 0;
		if (sep != (role != KS_ROLE_ZSK))
			return zk_fail_at(reterr, ZK_E_KEY, key_path, 0,
					  "%s: role %s does not match DNSKEY flags %u", key_path,
					  ks_role_name((ks_role) role), k->flags);
		k->role = (ks_role) role;
	}
	if (timing)
		k->timing = *timing;
	return store_commit(s, ZK_TAKE(k), ret, reterr);
}

int ks_store_save(ks_store *s, const ks_key *k, zk_error *reterr)
{
	for (size_t i = 0; i < s->n_keys; i++)
		if (s->keys[i] == k)
			return ks_key_write(k, s->dir, reterr);
	return zk_fail(reterr, -EINVAL, "key %s is not in the store of %s", k->basename,
		       s->zone);
}

int ks_store_archive(ks_store *s, ks_key *k, zk_error *reterr)
{
	/* the .key first: the store lists keys by it, so a crash half-way leaves no half key
	 * behind, only files no store loads */
	static const char *const ext[] = { ".key", ".private", ".zk" };
	char dir[PATH_MAX], from[PATH_MAX], to[PATH_MAX];
	size_t i;
	int r;

	for (i = 0; i < s->n_keys && s->keys[i] != k; i++)
		;
	if (i == s->n_keys)
		return zk_fail(reterr, -EINVAL, "key %s is not in the store of %s", k->basename,
			       s->zone);
	snprintf(dir, sizeof(dir), "%s/archive", s->dir);
	r = zk_mkdir_p(dir, 0700);
	if (r < 0)
		return zk_fail(reterr, r, "cannot create the key archive '%s'", dir);
	for (size_t e = 0; e < ZK_ELEMENTSOF(ext); e++) {
		if (snprintf(from, sizeof(from), "%s/%s%s", s->dir, k->basename, ext[e]) >=
			    (int) sizeof(from) ||
		    snprintf(to, sizeof(to), "%s/%s%s", dir, k->basename, ext[e]) >=
			    (int) sizeof(to))
			return zk_fail(reterr, -ENAMETOOLONG, "key path too long in %s", dir);
		if (rename(from, to) < 0 && errno != ENOENT)
			return zk_fail(reterr, -errno, "cannot move %s to %s", from, to);
	}
	r = zk_fsync_parent(to);
	if (r >= 0)
		r = zk_fsync_parent(from);
	if (r < 0)
		return zk_fail(reterr, r, "cannot sync the key directory %s", s->dir);
	ks_key_free(k);
	memmove(s->keys + i, s->keys + i + 1, (s->n_keys - i - 1) * sizeof(*s->keys));
	s->n_keys--;
	return 0;
}
