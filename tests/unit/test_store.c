/* SPDX-License-Identifier: MIT */
/*
 * tests/unit/test_store.c -- the key directory of a zone: created 0700, wider modes repaired
 * with a warning (invariant 21), keys persisted and reloaded with roles and timing, key
 * tags unique including revoked variants (invariant 17, with a generator forced to collide),
 * imports of dnssec-keygen and ldns-keygen keys, and refusals (another zone, a collision, a
 * tampered key in the directory).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "keystore/internal.h"
#include "keystore/keystore.h"
#include "policy/zk-file.h"
#include "policy/zk-time.h"
#include "tests/unit/unit.h"

static char tmpdir[64];

/* ---------------------------------------------------------------- helpers */

typedef struct sink {
	unsigned warnings;
	char last[1024];
} sink;

static void sink_emit(void *userdata, zk_level level, const char *file, unsigned line,
		      const char *message)
{
	sink *s = userdata;

	(void) file;
	(void) line;
	if (level == ZK_LOG_WARNING)
		s->warnings++;
	snprintf(s->last, sizeof(s->last), "%s", message);
}

static const char *data_dir(void)
{
	const char *d = getenv("ZK_TEST_DATA");

	return d && *d ? d : "tests/data";
}

static char *path_of(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *path_of(const char *fmt, ...)
{
	/* Enough slots for the paths alive at once in one test. */
	static char buf[64][512];
	static unsigned slot;
	char *p = buf[slot++ % 64];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(p, sizeof(buf[0]), fmt, ap);
	va_end(ap);
	return p;
}

static const char *fixture(const char *file, const char *ext)
{
	return path_of("%s/keys/%s%s", data_dir(), file, ext);
}

/* A path under the test's temporary directory, in slots of its own. */
static const char *new_dir(const char *name)
{
	static char buf[4][512];
	static unsigned slot;
	char *p = buf[slot++ % 4];

	snprintf(p, sizeof(buf[0]), "%s/%s", tmpdir, name);
	return p;
}

static int setup(void **state)
{
	(void) state;
	return unit_tmpdir(tmpdir, sizeof(tmpdir), "store");
}

static int teardown(void **state)
{
	(void) state;
	return unit_rmtree(tmpdir);
}

static void copy_file(const char *from, const char *to, mode_t mode)
{
	char *t = NULL;
	size_t n;

	assert_int_equal(zk_file_read(from, 1 << 20, &t, &n), 0);
	assert_int_equal(zk_file_write_atomic(to, mode, t, n, NULL), 0);
	free(t);
}

/* Copy a fixture key pair (base name under tests/data/keys) into `dir`. */
static void copy_key(const char *file, const char *dir, mode_t private_mode)
{
	const char *base = strrchr(file, '/') + 1;

	copy_file(fixture(file, ".key"), path_of("%s/%s.key", dir, base), 0644);
	copy_file(fixture(file, ".private"), path_of("%s/%s.private", dir, base), private_mode);
}

static mode_t mode_of(const char *path)
{
	struct stat st;

	assert_int_equal(stat(path, &st), 0);
	return st.st_mode & 07777;
}

static bool exists(const char *path)
{
	return access(path, F_OK) == 0;
}

/* ---------------------------------------------------------------- directory */

static void store_dir_is_created_0700(void **state)
{
	const char *dir = path_of("%s/a/b/keys", tmpdir);
	ks_store *s = NULL;
	sink w = { 0 };
	zk_diag d = { sink_emit, &w };

	(void) state;
	assert_int_equal(ks_store_open(dir, "example.com", &d, &s, NULL), 0);
	assert_int_equal(mode_of(dir), 0700);
	assert_int_equal(ks_store_count(s), 0);
	assert_string_equal(ks_store_dir(s), dir);
	assert_null(ks_store_key(s, 0));
	assert_int_equal(w.warnings, 0);
	ks_store_free(s);
}

static void wide_store_dir_is_repaired(void **state)
{
	const char *dir = new_dir("wide");
	ks_store *s = NULL;
	sink w = { 0 };
	zk_diag d = { sink_emit, &w };

	(void) state;
	assert_int_equal(mkdir(dir, 0700), 0);
	assert_int_equal(chmod(dir, 0755), 0);
	assert_int_equal(ks_store_open(dir, "example.com", &d, &s, NULL), 0);
	assert_int_equal(mode_of(dir), 0700);
	assert_int_equal(w.warnings, 1);
	assert_non_null(strstr(w.last, "0755"));
	assert_non_null(strstr(w.last, "0700"));
	ks_store_free(s);
}

static void readable_private_key_is_repaired(void **state)
{
	const char *dir = new_dir("readable");
	const char *priv = path_of("%s/Kexample.com.+013+42945.private", dir);
	ks_store *s = NULL;
	sink w = { 0 };
	zk_diag d = { sink_emit, &w };

	(void) state;
	assert_int_equal(mkdir(dir, 0700), 0);
	copy_key("bind/Kexample.com.+013+42945", dir, 0644);
	assert_int_equal(mode_of(priv), 0644);
	assert_int_equal(ks_store_open(dir, "example.com.", &d, &s, NULL), 0);
	/* Invariant 21: repaired, as BIND does, with a warning naming the file. */
	assert_int_equal(mode_of(priv), 0600);
	assert_int_equal(w.warnings, 1);
	assert_non_null(strstr(w.last, priv));
	assert_non_null(strstr(w.last, "0644"));
	assert_int_equal(ks_store_count(s), 1);
	ks_store_free(s);
	/* A second open finds nothing to repair. */
	w.warnings = 0;
	assert_int_equal(ks_store_open(dir, "example.com.", &d, &s, NULL), 0);
	assert_int_equal(w.warnings, 0);
	ks_store_free(s);
}

static void store_not_a_directory_fails(void **state)
{
	const char *file = new_dir("plainfile");
	ks_store *s = (ks_store *) 0x1;
	zk_error err = { 0 };

	(void) state;
	assert_int_equal(zk_file_write_atomic(file, 0600, "x", 1, NULL), 0);
	assert_int_equal(ks_store_open(file, "example.com", NULL, &s, &err), -ENOTDIR);
	assert_ptr_equal(s, (ks_store *) 0x1);
	assert_int_equal(ks_store_open(new_dir("z"), "bad..zone", NULL, &s, &err), -EINVAL);
}

/* ---------------------------------------------------------------- generation */

static void generated_keys_survive_a_reopen(void **state)
{
	const char *dir = new_dir("gen");
	ks_timing t1 = { .created = zk_time_utc(2026, 1, 1, 0, 0, 0),
			 .publish = zk_time_utc(2026, 1, 1, 0, 0, 0),
			 .active = zk_time_utc(2026, 1, 2, 0, 0, 0) };
	ks_timing t2 = { .created = t1.created, .publish = zk_time_utc(2026, 3, 1, 0, 0, 0),
			 .retire = zk_time_utc(2027, 1, 1, 0, 0, 0),
			 .remove = zk_time_utc(2027, 2, 1, 12, 30, 0) };
	struct {
		uint8_t alg;
		ks_role role;
		const ks_timing *t;
	} want[] = {
		{ 13, KS_ROLE_KSK, &t1 }, { 13, KS_ROLE_ZSK, &t2 }, { 15, KS_ROLE_CSK, &t1 },
		{ 8, KS_ROLE_ZSK, &t2 },
	};
	ks_key *made[ZK_ELEMENTSOF(want)];
	uint8_t dnskey[ZK_ELEMENTSOF(want)][KS_DNSKEY_MAX];
	size_t dnskey_len[ZK_ELEMENTSOF(want)];
	uint16_t tag[ZK_ELEMENTSOF(want)];
	const uint8_t *rdata;
	ks_store *s = NULL;

	(void) state;
	assert_int_equal(ks_store_open(dir, "example.com", NULL, &s, NULL), 0);
	for (size_t i = 0; i < ZK_ELEMENTSOF(want); i++) {
		assert_int_equal(ks_store_generate(s, want[i].alg, want[i].role, want[i].t,
						   &made[i], NULL),
				 0);
		rdata = ks_key_dnskey(made[i], &dnskey_len[i]);
		memcpy(dnskey[i], rdata, dnskey_len[i]);
		tag[i] = ks_key_tag(made[i]);
		/* Durable on return: all three files exist with their modes. */
		assert_int_equal(mode_of(path_of("%s/%s.private", dir, ks_key_basename(made[i]))),
				 0600);
		assert_int_equal(mode_of(path_of("%s/%s.key", dir, ks_key_basename(made[i]))),
				 0644);
		assert_int_equal(mode_of(path_of("%s/%s.zk", dir, ks_key_basename(made[i]))), 0600);
	}
	assert_int_equal(ks_store_count(s), ZK_ELEMENTSOF(want));
	s = ks_store_free(s);

	assert_int_equal(ks_store_open(dir, "EXAMPLE.com.", NULL, &s, NULL), 0);
	assert_int_equal(ks_store_count(s), ZK_ELEMENTSOF(want));
	for (size_t i = 0; i < ZK_ELEMENTSOF(want); i++) {
		ks_key *k;
		size_t len;

		/* made[] pointed into the freed store: find the keys again by algorithm and tag. */
		k = ks_store_find(s, want[i].alg, tag[i]);
		assert_non_null(k);
		rdata = ks_key_dnskey(k, &len);
		assert_int_equal(len, dnskey_len[i]);
		assert_memory_equal(rdata, dnskey[i], len);
		assert_int_equal(ks_key_role(k), want[i].role);
		assert_memory_equal(ks_key_timing(k), want[i].t, sizeof(ks_timing));
	}
	assert_null(ks_store_find(s, 14, 1));
	ks_store_free(s);
}

static void saved_timing_survives_a_reopen(void **state)
{
	const char *dir = new_dir("save");
	ks_timing t = { .created = 100, .publish = 200 };
	ks_store *s = NULL;
	ks_key *k = NULL;
	uint16_t tag;

	(void) state;
	assert_int_equal(ks_store_open(dir, "example.com", NULL, &s, NULL), 0);
	assert_int_equal(ks_store_generate(s, 13, KS_ROLE_ZSK, &t, &k, NULL), 0);
	tag = ks_key_tag(k);
	t.active = zk_time_utc(2030, 5, 6, 7, 8, 9);
	ks_key_set_timing(k, &t);
	assert_int_equal(ks_store_save(s, k, NULL), 0);
	s = ks_store_free(s);
	assert_int_equal(ks_store_open(dir, "example.com", NULL, &s, NULL), 0);
	k = ks_store_find(s, 13, tag);
	assert_non_null(k);
	assert_memory_equal(ks_key_timing(k), &t, sizeof(t));
	ks_store_free(s);
}

static void save_refuses_a_foreign_key(void **state)
{
	ks_store *s = NULL;
	ks_key *k = NULL;

	(void) state;
	assert_int_equal(ks_store_open(new_dir("foreign"), "example.com", NULL, &s, NULL), 0);
	assert_int_equal(ks_key_generate(15, KS_ROLE_ZSK, "example.com", 0, &k, NULL), 0);
	assert_int_equal(ks_store_save(s, k, NULL), -EINVAL);
	ks_key_free(k);
	ks_store_free(s);
}

/* ---------------------------------------------------------------- tag collisions */

static void tags_collide_rules(void **state)
{
	(void) state;
	/* (tag, revoked tag) pairs: any shared value is a collision (invariant 17). */
	assert_true(ks_tags_collide(100, 228, 100, 228));
	assert_true(ks_tags_collide(100, 228, 228, 356)); /* a's revoked = b */
	assert_true(ks_tags_collide(228, 356, 100, 228)); /* b's revoked = a */
	assert_true(ks_tags_collide(1, 500, 2, 500));     /* both revoked variants */
	assert_false(ks_tags_collide(100, 228, 101, 229));
	assert_false(ks_tags_collide(100, 228, 356, 484));
}

static void generated_tags_are_unique(void **state)
{
	ks_store *s = NULL;

	(void) state;
	assert_int_equal(ks_store_open(new_dir("unique"), "example.com", NULL, &s, NULL), 0);
	for (int i = 0; i < 12; i++) {
		ks_role role = i % 3 ? KS_ROLE_ZSK : KS_ROLE_KSK;
		ks_key *k = NULL;

		assert_int_equal(ks_store_generate(s, i % 2 ? 13 : 15, role, NULL, &k, NULL), 0);
	}
	for (size_t i = 0; i < ks_store_count(s); i++) {
		const ks_key *a = ks_store_key(s, i);
		size_t la, lb;
		const uint8_t *ra = ks_key_dnskey(a, &la);

		for (size_t j = i + 1; j < ks_store_count(s); j++) {
			const ks_key *b = ks_store_key(s, j);
			const uint8_t *rb = ks_key_dnskey(b, &lb);

			assert_false(ks_tags_collide(ks_key_tag(a), ks_keytag_revoked(ra, la),
						     ks_key_tag(b), ks_keytag_revoked(rb, lb)));
		}
	}
	ks_store_free(s);
}

/* A generator that hands out a copy of a fixture key `collisions` times, then real keys. */
typedef struct forced {
	unsigned calls, collisions;
	const char *key_path;
} forced;

static int forced_keygen(void *userdata, uint8_t algorithm, ks_role role, const char *zone,
			 zk_time_t now, ks_key **ret, zk_error *reterr)
{
	forced *f = userdata;

	if (f->calls++ < f->collisions)
		return ks_key_load(f->key_path, ret, reterr);
	return ks_key_generate(algorithm, role, zone, now, ret, reterr);
}

static void colliding_tag_is_regenerated(void **state)
{
	const char *dir = new_dir("collide");
	forced f = { .collisions = 3,
		     .key_path = fixture("bind/Kexample.com.+013+42945", ".key") };
	ks_store *s = NULL;
	ks_key *k = NULL;

	(void) state;
	assert_int_equal(mkdir(dir, 0700), 0);
	copy_key("bind/Kexample.com.+013+42945", dir, 0600);
	assert_int_equal(ks_store_open(dir, "example.com", NULL, &s, NULL), 0);
	assert_int_equal(ks_store_count(s), 1);
	assert_int_equal(ks_store_generate_with(s, 13, KS_ROLE_KSK, NULL, forced_keygen, &f, &k,
						NULL),
			 0);
	/* Three draws collided with key 42945 and were thrown away; the fourth was kept. */
	assert_int_equal(f.calls, 4);
	assert_int_not_equal(ks_key_tag(k), 42945);
	assert_int_equal(ks_store_count(s), 2);
	ks_store_free(s);
}

static void endless_collisions_give_up(void **state)
{
	const char *dir = new_dir("collide");
	forced f = { .collisions = 1000,
		     .key_path = fixture("bind/Kexample.com.+013+42945", ".key") };
	ks_store *s = NULL;
	ks_key *k = (ks_key *) 0x1;
	zk_error err = { 0 };

	(void) state;
	assert_int_equal(ks_store_open(dir, "example.com", NULL, &s, NULL), 0);
	assert_int_equal(ks_store_generate_with(s, 13, KS_ROLE_KSK, NULL, forced_keygen, &f, &k,
						&err),
			 ZK_E_KEY);
	assert_int_equal(f.calls, KS_TAG_ATTEMPTS);
	assert_non_null(strstr(err.message, "unique key tag"));
	assert_ptr_equal(k, (ks_key *) 0x1);
	assert_int_equal(ks_store_count(s), 2);
	ks_store_free(s);
}

/* ---------------------------------------------------------------- import */

static void import_keygen_keys(void **state)
{
	const char *dir = new_dir("import");
	ks_timing t = { .created = 10, .publish = 20, .active = 30 };
	ks_store *s = NULL;
	ks_key *k = NULL;

	(void) state;
	assert_int_equal(ks_store_open(dir, "example.com", NULL, &s, NULL), 0);
	/* dnssec-keygen KSK, imported as a CSK: a refinement of its SEP flag. */
	assert_int_equal(ks_store_import(s, fixture("bind/Kexample.com.+013+42945", ".key"),
					 KS_ROLE_CSK, &t, &k, NULL),
			 0);
	assert_int_equal(ks_key_role(k), KS_ROLE_CSK);
	assert_memory_equal(ks_key_timing(k), &t, sizeof(t));
	assert_int_equal(mode_of(path_of("%s/Kexample.com.+013+42945.private", dir)), 0600);
	assert_true(exists(path_of("%s/Kexample.com.+013+42945.zk", dir)));
	/* ldns-keygen keys, role from the flags, timing kept (none). */
	assert_int_equal(ks_store_import(s, fixture("ldns/Kexample.com.+015+42750", ".key"), -1,
					 NULL, &k, NULL),
			 0);
	assert_int_equal(ks_key_role(k), KS_ROLE_ZSK);
	assert_int_equal(ks_key_timing(k)->publish, 0);
	assert_int_equal(ks_store_import(s, fixture("ldns/Kexample.com.+008+42808", ".key"), -1,
					 NULL, &k, NULL),
			 0);
	/* BIND timing comes along when none is given. */
	assert_int_equal(ks_store_import(s, fixture("timing/Kexample.com.+013+55172", ".key"), -1,
					 NULL, &k, NULL),
			 0);
	assert_int_equal(ks_key_timing(k)->remove, zk_time_utc(2027, 2, 1, 0, 0, 0));
	s = ks_store_free(s);

	assert_int_equal(ks_store_open(dir, "example.com", NULL, &s, NULL), 0);
	assert_int_equal(ks_store_count(s), 4);
	k = ks_store_find(s, 13, 42945);
	assert_non_null(k);
	assert_int_equal(ks_key_role(k), KS_ROLE_CSK);
	assert_non_null(ks_store_find(s, 15, 42750));
	assert_non_null(ks_store_find(s, 8, 42808));
	k = ks_store_find(s, 13, 55172);
	assert_non_null(k);
	assert_int_equal(ks_key_timing(k)->retire, zk_time_utc(2027, 1, 1, 0, 0, 0));
	ks_store_free(s);
}

static void import_refusals(void **state)
{
	const char *dir = new_dir("refuse");
	ks_store *s = NULL;
	ks_key *k = (ks_key *) 0x1;
	zk_error err = { 0 };

	(void) state;
	assert_int_equal(ks_store_open(dir, "example.com", NULL, &s, NULL), 0);
	/* Another zone's key. */
	assert_int_equal(ks_store_import(s, fixture("other/Kexample.org.+013+34208", ".key"), -1,
					 NULL, &k, &err),
			 ZK_E_KEY);
	assert_non_null(strstr(err.message, "example.org."));
	assert_non_null(strstr(err.message, "not of example.com."));
	assert_false(exists(path_of("%s/Kexample.org.+013+34208.key", dir)));
	/* A role that contradicts the flags. */
	assert_int_equal(ks_store_import(s, fixture("bind/Kexample.com.+013+42945", ".key"),
					 KS_ROLE_ZSK, NULL, &k, &err),
			 ZK_E_KEY);
	assert_int_equal(ks_store_import(s, fixture("bind/Kexample.com.+015+01425", ".key"),
					 KS_ROLE_KSK, NULL, &k, &err),
			 ZK_E_KEY);
	assert_int_equal(ks_store_import(s, fixture("bind/Kexample.com.+013+42945", ".key"), 7,
					 NULL, &k, &err),
			 -EINVAL);
	/* A tampered key. */
	assert_int_equal(ks_store_import(s, fixture("tampered/Kexample.com.+013+42945", ".key"), -1,
					 NULL, &k, &err),
			 ZK_E_KEY);
	/* The same key twice: its tag collides with itself. */
	assert_int_equal(ks_store_import(s, fixture("bind/Kexample.com.+013+42945", ".key"), -1,
					 NULL, &k, NULL),
			 0);
	k = (ks_key *) 0x1;
	assert_int_equal(ks_store_import(s, fixture("bind/Kexample.com.+013+42945", ".key"), -1,
					 NULL, &k, &err),
			 ZK_E_KEY);
	assert_non_null(strstr(err.message, "collides"));
	assert_ptr_equal(k, (ks_key *) 0x1);
	assert_int_equal(ks_store_count(s), 1);
	ks_store_free(s);
}

/* ---------------------------------------------------------------- opening a populated directory */

static void open_ignores_other_files_and_zones(void **state)
{
	const char *dir = new_dir("mixed");
	ks_store *s = NULL;

	(void) state;
	assert_int_equal(mkdir(dir, 0700), 0);
	copy_key("bind/Kexample.com.+015+01425", dir, 0600);
	copy_key("other/Kexample.org.+013+34208", dir, 0600);
	copy_file(fixture("ldns/Kexample.com.+013+40146", ".ds"),
		  path_of("%s/Kexample.com.+013+40146.ds", dir), 0644);
	assert_int_equal(zk_file_write_atomic(path_of("%s/README", dir), 0644, "x", 1, NULL), 0);
	assert_int_equal(ks_store_open(dir, "example.com", NULL, &s, NULL), 0);
	assert_int_equal(ks_store_count(s), 1);
	assert_non_null(ks_store_find(s, 15, 1425));
	s = ks_store_free(s);
	/* The example.org store of the same directory sees only its own key. */
	assert_int_equal(ks_store_open(dir, "example.org.", NULL, &s, NULL), 0);
	assert_int_equal(ks_store_count(s), 1);
	assert_non_null(ks_store_find(s, 13, 34208));
	ks_store_free(s);
}

static void open_fails_on_a_bad_key_naming_it(void **state)
{
	const char *dir = new_dir("bad");
	const char *priv = path_of("%s/Kexample.com.+013+42945.private", dir);
	ks_store *s = (ks_store *) 0x1;
	zk_error err = { 0 };

	(void) state;
	assert_int_equal(mkdir(dir, 0700), 0);
	copy_key("bind/Kexample.com.+015+01425", dir, 0600);
	copy_key("tampered/Kexample.com.+013+42945", dir, 0600);
	assert_int_equal(ks_store_open(dir, "example.com", NULL, &s, &err), ZK_E_KEY);
	assert_non_null(strstr(err.message, priv));
	assert_ptr_equal(s, (ks_store *) 0x1);
	/* A missing .private is an error too (never sign with a key we cannot use). */
	assert_int_equal(unlink(priv), 0);
	assert_int_equal(ks_store_open(dir, "example.com", NULL, &s, &err), ZK_E_KEY);
	assert_non_null(strstr(err.message, priv));
}

static void open_fails_on_a_misnamed_key(void **state)
{
	const char *dir = new_dir("misnamed");
	ks_store *s = (ks_store *) 0x1;
	zk_error err = { 0 };

	(void) state;
	assert_int_equal(mkdir(dir, 0700), 0);
	copy_file(fixture("bind/Kexample.com.+015+01425", ".key"),
		  path_of("%s/Kexample.com.+015+01426.key", dir), 0644);
	copy_file(fixture("bind/Kexample.com.+015+01425", ".private"),
		  path_of("%s/Kexample.com.+015+01426.private", dir), 0600);
	assert_int_equal(ks_store_open(dir, "example.com", NULL, &s, &err), ZK_E_KEY);
	assert_non_null(strstr(err.message, "does not match"));
	assert_ptr_equal(s, (ks_store *) 0x1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(store_dir_is_created_0700),
		cmocka_unit_test(wide_store_dir_is_repaired),
		cmocka_unit_test(readable_private_key_is_repaired),
		cmocka_unit_test(store_not_a_directory_fails),
		cmocka_unit_test(generated_keys_survive_a_reopen),
		cmocka_unit_test(saved_timing_survives_a_reopen),
		cmocka_unit_test(save_refuses_a_foreign_key),
		cmocka_unit_test(tags_collide_rules),
		cmocka_unit_test(generated_tags_are_unique),
		cmocka_unit_test(colliding_tag_is_regenerated),
		cmocka_unit_test(endless_collisions_give_up),
		cmocka_unit_test(import_keygen_keys),
		cmocka_unit_test(import_refusals),
		cmocka_unit_test(open_ignores_other_files_and_zones),
		cmocka_unit_test(open_fails_on_a_bad_key_naming_it),
		cmocka_unit_test(open_fails_on_a_misnamed_key),
	};

	return cmocka_run_group_tests_name("store", tests, setup, teardown);
}
