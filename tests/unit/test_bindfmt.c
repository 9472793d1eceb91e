/* SPDX-License-Identifier: MIT */
/*
 * tests/unit/test_bindfmt.c -- K*.key / K*.private / .zk files: the fixtures made by
 * dnssec-keygen (BIND 9.18, Private-key-format v1.3) and ldns-keygen (v1.2) in
 * tests/data/keys load with the right algorithm, tag, role and timing; load -> write -> load
 * keeps the key; tampered, missing and malformed files fail with ZK_E_KEY naming the file;
 * written files have modes 0600/0644/0600; BIND's dnssec-signzone signs with what we write.
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

typedef struct fixture {
	const char *file; /* under $ZK_TEST_DATA/keys/ */
	uint8_t algorithm;
	uint16_t tag;
	ks_role role;
	bool bind_timing; /* dnssec-keygen sets Created = Publish = Activate */
} fixture;

static const fixture fixtures[] = {
	{ "bind/Kexample.com.+013+42945", 13, 42945, KS_ROLE_KSK, true },
	{ "bind/Kexample.com.+008+43791", 8, 43791, KS_ROLE_ZSK, true },
	{ "bind/Kexample.com.+015+01425", 15, 1425, KS_ROLE_ZSK, true },
	{ "bind/Kexample.com.+014+42611", 14, 42611, KS_ROLE_ZSK, true },
	{ "bind/Kexample.com.+016+26382", 16, 26382, KS_ROLE_ZSK, true },
	{ "ldns/Kexample.com.+013+40146", 13, 40146, KS_ROLE_KSK, false },
	{ "ldns/Kexample.com.+015+42750", 15, 42750, KS_ROLE_ZSK, false },
	{ "ldns/Kexample.com.+008+42808", 8, 42808, KS_ROLE_ZSK, false },
};

static char tmpdir[64];

/* ---------------------------------------------------------------- helpers */

static const char *data_dir(void)
{
	const char *d = getenv("ZK_TEST_DATA");

	return d && *d ? d : "tests/data";
}

static char *fixture_path(const char *file, const char *ext)
{
	static char buf[4][512];
	static unsigned slot;
	char *p = buf[slot++ % 4];

	snprintf(p, sizeof(buf[0]), "%s/keys/%s%s", data_dir(), file, ext);
	return p;
}

static char *tmp_path(const char *name)
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
	return unit_tmpdir(tmpdir, sizeof(tmpdir), "bindfmt");
}

static int teardown(void **state)
{
	(void) state;
	return unit_rmtree(tmpdir);
}

static void write_text(const char *path, const char *text, mode_t mode)
{
	assert_int_equal(zk_file_write_atomic(path, mode, text, strlen(text), NULL), 0);
}

static char *read_text(const char *path)
{
	char *t = NULL;

	assert_int_equal(zk_file_read(path, 1 << 20, &t, NULL), 0);
	return t;
}

static void copy_file(const char *from, const char *to)
{
	char *t = read_text(from);

	write_text(to, t, 0600);
	free(t);
}

static mode_t mode_of(const char *path)
{
	struct stat st;

	assert_int_equal(stat(path, &st), 0);
	return st.st_mode & 07777;
}

static bool have_tool(const char *name)
{
	char cmd[256];

	snprintf(cmd, sizeof(cmd), "command -v %s >/dev/null 2>&1", name);
	return system(cmd) == 0;
}

/* Sign and verify with the key's own DNSKEY: the loaded pair works. */
static void assert_signs(const ks_key *k)
{
	static const uint8_t data[] = "round trip";
	uint8_t sig[KS_SIG_MAX];
	ks_signer *s = NULL;
	ks_pubkey *p = NULL;
	const uint8_t *rdata;
	size_t len;
	int n;

	assert_int_equal(ks_signer_new(k, &s, NULL), 0);
	n = ks_signer_sign(s, data, sizeof(data), sig, sizeof(sig));
	assert_true(n > 0);
	rdata = ks_key_dnskey(k, &len);
	assert_int_equal(ks_pubkey_from_dnskey(rdata, len, &p, NULL), 0);
	assert_int_equal(ks_pubkey_verify(p, data, sizeof(data), sig, (size_t) n), 0);
	ks_pubkey_free(p);
	ks_signer_free(s);
}

/* ---------------------------------------------------------------- loading fixtures */

static void fixtures_load(void **state)
{
	(void) state;
	for (size_t i = 0; i < ZK_ELEMENTSOF(fixtures); i++) {
		const fixture *f = &fixtures[i];
		const ks_timing *t;
		ks_key *k = NULL;
		zk_error err = { 0 };
		const char *slash = strrchr(f->file, '/');

		if (!ks_algorithm_supported(f->algorithm))
			continue;
		print_message("  %s\n", f->file);
		assert_int_equal(ks_key_load(fixture_path(f->file, ".key"), &k, &err), 0);
		assert_int_equal(ks_key_algorithm(k), f->algorithm);
		assert_int_equal(ks_key_tag(k), f->tag);
		assert_int_equal(ks_key_role(k), f->role);
		assert_string_equal(ks_key_zone(k), "example.com.");
		/* Our base name is the one both tools gave the files. */
		assert_string_equal(ks_key_basename(k), slash + 1);
		t = ks_key_timing(k);
		if (f->bind_timing) {
			assert_int_equal(t->created, zk_time_utc(2026, 11, 27, 18, 50, 56));
			assert_int_equal(t->publish, t->created);
			assert_int_equal(t->active, t->created);
		} else {
			assert_int_equal(t->created, 0);
			assert_int_equal(t->publish, 0);
			assert_int_equal(t->active, 0);
		}
		assert_int_equal(t->retire, 0);
		assert_int_equal(t->remove, 0);
		assert_signs(k);
		ks_key_free(k);
	}
}

static void bind_timing_fields_are_read(void **state)
{
	ks_key *k = NULL;
	const ks_timing *t;

	(void) state;
	/* dnssec-keygen -P 20260101000000 -A 20260201000000 -I 20270101000000 -D 20270201000000 */
	assert_int_equal(ks_key_load(fixture_path("timing/Kexample.com.+013+55172", ".key"), &k,
				     NULL),
			 0);
	t = ks_key_timing(k);
	assert_int_equal(t->created, zk_time_utc(2026, 11, 27, 18, 51, 10));
	assert_int_equal(t->publish, zk_time_utc(2026, 1, 1, 0, 0, 0));
	assert_int_equal(t->active, zk_time_utc(2026, 2, 1, 0, 0, 0));
	assert_int_equal(t->retire, zk_time_utc(2027, 1, 1, 0, 0, 0));
	assert_int_equal(t->remove, zk_time_utc(2027, 2, 1, 0, 0, 0));
	assert_int_equal(ks_key_role(k), KS_ROLE_ZSK);
	ks_key_free(k);
}

/* ---------------------------------------------------------------- round trip */

static void load_write_load_keeps_the_key(void **state)
{
	(void) state;
	for (size_t i = 0; i < ZK_ELEMENTSOF(fixtures); i++) {
		const fixture *f = &fixtures[i];
		ks_key *a = NULL, *b = NULL;
		const uint8_t *ra, *rb;
		char name[128], head[128];
		size_t la, lb;
		char *text;

		if (!ks_algorithm_supported(f->algorithm))
			continue;
		assert_int_equal(ks_key_load(fixture_path(f->file, ".key"), &a, NULL), 0);
		assert_int_equal(ks_key_write(a, tmpdir, NULL), 0);
		/* Same base name as the fixture: we name files exactly as the tools do. */
		snprintf(name, sizeof(name), "%s.key", strrchr(f->file, '/') + 1);
		assert_int_equal(ks_key_load(tmp_path(name), &b, NULL), 0);
		ra = ks_key_dnskey(a, &la);
		rb = ks_key_dnskey(b, &lb);
		assert_int_equal(la, lb);
		assert_memory_equal(ra, rb, la);
		assert_int_equal(ks_key_role(a), ks_key_role(b));
		assert_memory_equal(ks_key_timing(a), ks_key_timing(b), sizeof(ks_timing));
		assert_signs(b);

		/* What we write is the v1.3 format of BIND 9.18, with BIND's names. */
		snprintf(name, sizeof(name), "%s.private", ks_key_basename(a));
		text = read_text(tmp_path(name));
		snprintf(head, sizeof(head), "Private-key-format: v1.3\nAlgorithm: %u (",
			 f->algorithm);
		assert_memory_equal(text, head, strlen(head));
		assert_non_null(strstr(text, f->algorithm == 8 ? "\nCoefficient: " :
								 "\nPrivateKey: "));
		free(text);
		ks_key_free(a);
		ks_key_free(b);
	}
}

static void written_files_have_safe_modes(void **state)
{
	ks_key *k = NULL;
	char name[128];
	mode_t old = umask(0);

	(void) state;
	/* The modes do not depend on the umask: zk_atomic sets them with fchmod. */
	assert_int_equal(ks_key_generate(13, KS_ROLE_CSK, "example.com.", 0, &k, NULL), 0);
	assert_int_equal(ks_key_write(k, tmpdir, NULL), 0);
	umask(old);
	snprintf(name, sizeof(name), "%s.private", ks_key_basename(k));
	assert_int_equal(mode_of(tmp_path(name)), 0600);
	snprintf(name, sizeof(name), "%s.key", ks_key_basename(k));
	assert_int_equal(mode_of(tmp_path(name)), 0644);
	snprintf(name, sizeof(name), "%s.zk", ks_key_basename(k));
	assert_int_equal(mode_of(tmp_path(name)), 0600);
	ks_key_free(k);
}

static void zk_metadata_round_trips_role_and_timing(void **state)
{
	ks_timing t = { .created = zk_time_utc(2026, 1, 1, 0, 0, 0),
			.publish = zk_time_utc(2026, 1, 2, 3, 4, 5),
			.active = zk_time_utc(2026, 1, 3, 0, 0, 0),
			.retire = zk_time_utc(2027, 6, 30, 12, 0, 0) };
	ks_key *k = NULL, *b = NULL;
	char name[128], *text;

	(void) state;
	/* A CSK has KSK flags: only the .zk file can say what it is. */
	assert_int_equal(ks_key_generate(15, KS_ROLE_CSK, "example.com.", t.created, &k, NULL), 0);
	ks_key_set_timing(k, &t);
	assert_int_equal(ks_key_write(k, tmpdir, NULL), 0);
	snprintf(name, sizeof(name), "%s.zk", ks_key_basename(k));
	text = read_text(tmp_path(name));
	assert_non_null(strstr(text, "Role: CSK\n"));
	assert_non_null(strstr(text, "Publish: 20260102030405\n"));
	assert_non_null(strstr(text, "Retire: 20270630120000\n"));
	assert_null(strstr(text, "Remove:")); /* unset times are absent */
	free(text);
	snprintf(name, sizeof(name), "%s.key", ks_key_basename(k));
	text = read_text(tmp_path(name));
	assert_non_null(strstr(text, "; This is a key-signing key, keyid "));
	assert_non_null(strstr(text, "; Publish: 20260102030405 (Fri Jan  2 03:04:05 2026)\n"));
	assert_non_null(strstr(text, "\nexample.com. IN DNSKEY 257 3 15 "));
	free(text);

	assert_int_equal(ks_key_load(tmp_path(name), &b, NULL), 0);
	assert_int_equal(ks_key_role(b), KS_ROLE_CSK);
	assert_memory_equal(ks_key_timing(b), &t, sizeof(t));
	ks_key_free(b);

	/* Without .zk, BIND's Inactive/Delete in .private are the timing; role from flags. */
	snprintf(name, sizeof(name), "%s.zk", ks_key_basename(k));
	assert_int_equal(unlink(tmp_path(name)), 0);
	snprintf(name, sizeof(name), "%s.key", ks_key_basename(k));
	assert_int_equal(ks_key_load(tmp_path(name), &b, NULL), 0);
	assert_int_equal(ks_key_role(b), KS_ROLE_KSK);
	assert_memory_equal(ks_key_timing(b), &t, sizeof(t));
	ks_key_free(b);
	ks_key_free(k);
}

/* ---------------------------------------------------------------- broken files */

static void expect_key_error(const char *key_path, int code, const char *needle)
{
	ks_key *k = (ks_key *) 0x1;
	zk_error err = { 0 };

	assert_int_equal(ks_key_load(key_path, &k, &err), code);
	assert_int_equal(err.code, code);
	print_message("  %s\n", err.message);
	assert_non_null(strstr(err.message, needle));
	assert_ptr_equal(k, (ks_key *) 0x1);
}

static void tampered_private_keys_fail(void **state)
{
	(void) state;
	/* One base64 character of PrivateKey changed (ECDSA: caught by the self-test). */
	expect_key_error(fixture_path("tampered/Kexample.com.+013+42945", ".key"), ZK_E_KEY,
			 "does not match its DNSKEY");
	expect_key_error(fixture_path("tampered/Kexample.com.+013+42945", ".key"), ZK_E_KEY,
			 fixture_path("tampered/Kexample.com.+013+42945", ".private"));
	/* Ed25519: the public key derived from the private one differs. */
	expect_key_error(fixture_path("tampered/Kexample.com.+015+01425", ".key"), ZK_E_KEY,
			 fixture_path("tampered/Kexample.com.+015+01425", ".private"));
}

static void missing_private_fails(void **state)
{
	(void) state;
	assert_int_equal(zk_mkdir_p(tmp_path("missing"), 0700), 0);
	copy_file(fixture_path("bind/Kexample.com.+013+42945", ".key"),
		  tmp_path("missing/Kexample.com.+013+42945.key"));
	expect_key_error(tmp_path("missing/Kexample.com.+013+42945.key"), ZK_E_KEY,
			 tmp_path("missing/Kexample.com.+013+42945.private"));
	expect_key_error(tmp_path("missing/Kexample.com.+013+42945.key"), ZK_E_KEY,
			 "No such file");
}

static void garbage_key_files_fail(void **state)
{
	(void) state;
	write_text(tmp_path("Kgarbage.key"), "this is not a DNS record at all\n", 0644);
	expect_key_error(tmp_path("Kgarbage.key"), ZK_E_KEY, tmp_path("Kgarbage.key"));
	write_text(tmp_path("Kempty.key"), "; only a comment\n", 0644);
	expect_key_error(tmp_path("Kempty.key"), ZK_E_KEY, "no DNSKEY");
	write_text(tmp_path("Ka.key"), "example.com. IN A 192.0.2.1\n", 0644);
	expect_key_error(tmp_path("Ka.key"), ZK_E_KEY, "not an IN DNSKEY");
	write_text(tmp_path("Ktwo.key"),
		   "example.com. IN DNSKEY 256 3 15 Hy7uxQ5RBWV+q/OLMvtxV4/545kQb+8i5QIZJ28s6NE=\n"
		   "example.com. IN DNSKEY 256 3 15 Hy7uxQ5RBWV+q/OLMvtxV4/545kQb+8i5QIZJ28s6NE=\n",
		   0644);
	expect_key_error(tmp_path("Ktwo.key"), ZK_E_KEY, "more than one");
	expect_key_error(tmp_path("Kabsent.key"), ZK_E_KEY, "cannot open key file");
	expect_key_error(fixture_path("bind/Kexample.com.+013+42945", ".private"), ZK_E_KEY,
			 "not a .key file");
}

static void unknown_algorithm_fails(void **state)
{
	(void) state;
	/* RSASHA1 (5) is deprecated and not ours; 99 is unassigned. */
	write_text(tmp_path("Kalg5.key"),
		   "example.com. IN DNSKEY 256 3 5 AwEAAcFcGsaxxdgiuuGmCkVImy4h99CqT7jwY3pexPGcnUFtR"
		   "2Fh36BponcwtkZ4cAgtvd4Qs8PkxUdp6p/DlUmObdk=\n",
		   0644);
	expect_key_error(tmp_path("Kalg5.key"), ZK_E_UNSUPPORTED, "algorithm 5");
	write_text(tmp_path("Kalg99.key"), "example.com. IN DNSKEY 256 3 99 AAAA\n", 0644);
	expect_key_error(tmp_path("Kalg99.key"), ZK_E_UNSUPPORTED, "algorithm 99");
}

static void broken_private_files_fail(void **state)
{
	const char *key = "Kexample.com.+015+01425";
	char path[64];
	static const struct {
		const char *text, *needle;
	} cases[] = {
		{ "Algorithm: 15 (ED25519)\nPrivateKey: +yd87MR9b0IFMBWeyqpkW1tYI8ntj2RUHEzZMd2xjm0=\n",
		  "no Private-key-format" },
		{ "Private-key-format: v2.0\n", "unsupported Private-key-format" },
		{ "Private-key-format: v1.3\nAlgorithm: 13 (ECDSAP256SHA256)\n"
		  "PrivateKey: +yd87MR9b0IFMBWeyqpkW1tYI8ntj2RUHEzZMd2xjm0=\n",
		  "does not match the DNSKEY's 15" },
		{ "Private-key-format: v1.3\nAlgorithm: 15 (ED25519)\nPrivateKey: !!!!\n",
		  "not a valid base64" },
		{ "Private-key-format: v1.3\nAlgorithm: 15 (ED25519)\n", "no PrivateKey" },
		{ "Private-key-format: v1.3\nAlgorithm: 15 (ED25519)\nPrivateKey: AAAA\n",
		  "must be 32 bytes" },
		{ "Private-key-format: v1.3\nAlgorithm: 15 (ED25519)\n"
		  "PrivateKey: +yd87MR9b0IFMBWeyqpkW1tYI8ntj2RUHEzZMd2xjm0=\nPublish: 2026\n",
		  "Publish is not a YYYYMMDDHHMMSS time" },
		{ "Private-key-format: v1.3\nno colon here\n", "expected 'Name: value'" },
	};

	(void) state;
	snprintf(path, sizeof(path), "%s.key", key);
	copy_file(fixture_path("bind/Kexample.com.+015+01425", ".key"), tmp_path(path));
	for (size_t i = 0; i < ZK_ELEMENTSOF(cases); i++) {
		snprintf(path, sizeof(path), "%s.private", key);
		write_text(tmp_path(path), cases[i].text, 0600);
		snprintf(path, sizeof(path), "%s.key", key);
		expect_key_error(tmp_path(path), ZK_E_KEY, cases[i].needle);
	}
	/* A bad .zk file is an error too, not silently ignored. */
	snprintf(path, sizeof(path), "%s.private", key);
	copy_file(fixture_path("bind/Kexample.com.+015+01425", ".private"), tmp_path(path));
	snprintf(path, sizeof(path), "%s.zk", key);
	write_text(tmp_path(path), "Role: BOSS\n", 0600);
	snprintf(path, sizeof(path), "%s.key", key);
	expect_key_error(tmp_path(path), ZK_E_KEY, "unknown role 'BOSS'");
	snprintf(path, sizeof(path), "%s.zk", key);
	write_text(tmp_path(path), "; ours\nRole: csk\nRetire: tomorrow\n", 0600);
	snprintf(path, sizeof(path), "%s.key", key);
	expect_key_error(tmp_path(path), ZK_E_KEY, "Retire is not a YYYYMMDDHHMMSS time");
	snprintf(path, sizeof(path), "%s.zk", key);
	assert_int_equal(unlink(tmp_path(path)), 0);
}

/* ---------------------------------------------------------------- BIND reads what we write */

static int run(const char *cmd)
{
	int st = system(cmd);

	print_message("  %s -> %d\n", cmd, st);
	return st;
}

static void bind_signs_with_our_files(void **state)
{
	const uint8_t algs[] = { 8, 13, 14, 15, 16 };
	char cmd[2048];

	(void) state;
	if (!have_tool("dnssec-signzone")) {
		print_message("  dnssec-signzone not installed: skipping the BIND interop check\n");
		skip();
	}
	for (size_t i = 0; i < sizeof(algs); i++) {
		ks_timing t = { .created = 1000000000, .publish = 1000000000,
				.active = 1000000000 };
		char dir[600];
		ks_key *ksk = NULL, *zsk = NULL;
		FILE *f;

		if (!ks_algorithm_supported(algs[i]))
			continue;
		snprintf(dir, sizeof(dir), "%s/bind%u", tmpdir, algs[i]);
		assert_int_equal(zk_mkdir_p(dir, 0700), 0);
		assert_int_equal(ks_key_generate(algs[i], KS_ROLE_KSK, "example.com.", 0, &ksk,
						 NULL),
				 0);
		assert_int_equal(ks_key_generate(algs[i], KS_ROLE_ZSK, "example.com.", 0, &zsk,
						 NULL),
				 0);
		ks_key_set_timing(ksk, &t);
		ks_key_set_timing(zsk, &t);
		assert_int_equal(ks_key_write(ksk, dir, NULL), 0);
		assert_int_equal(ks_key_write(zsk, dir, NULL), 0);

		snprintf(cmd, sizeof(cmd), "%s/zone", dir);
		f = fopen(cmd, "w");
		assert_non_null(f);
		fprintf(f, "$TTL 3600\n"
			   "example.com. IN SOA ns.example.com. hostmaster.example.com. 1 7200 3600 "
			   "1209600 3600\n"
			   "example.com. IN NS ns.example.com.\n"
			   "ns.example.com. IN A 192.0.2.1\n"
			   "www.example.com. IN AAAA 2001:db8::1\n"
			   "$INCLUDE %s/%s.key\n$INCLUDE %s/%s.key\n",
			dir, ks_key_basename(ksk), dir, ks_key_basename(zsk));
		assert_int_equal(fclose(f), 0);

		/* BIND loads our .private files and signs; -P: its own check is ours below. */
		snprintf(cmd, sizeof(cmd),
			 "cd '%s' && dnssec-signzone -q -P -o example.com -K . -f signed zone %s %s "
			 ">/dev/null 2>&1",
			 dir, ks_key_basename(ksk), ks_key_basename(zsk));
		assert_int_equal(run(cmd), 0);
		if (have_tool("dnssec-verify")) {
			/* Signatures BIND made with our private keys verify with our DNSKEYs. */
			snprintf(cmd, sizeof(cmd),
				 "dnssec-verify -q -o example.com '%s/signed' >/dev/null 2>&1", dir);
			assert_int_equal(run(cmd), 0);
		}
		ks_key_free(ksk);
		ks_key_free(zsk);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(fixtures_load),
		cmocka_unit_test(bind_timing_fields_are_read),
		cmocka_unit_test(load_write_load_keeps_the_key),
		cmocka_unit_test(written_files_have_safe_modes),
		cmocka_unit_test(zk_metadata_round_trips_role_and_timing),
		cmocka_unit_test(tampered_private_keys_fail),
		cmocka_unit_test(missing_private_fails),
		cmocka_unit_test(garbage_key_files_fail),
		cmocka_unit_test(unknown_algorithm_fails),
		cmocka_unit_test(broken_private_files_fail),
		cmocka_unit_test(bind_signs_with_our_files),
	};

	return cmocka_run_group_tests_name("bindfmt", tests, setup, teardown);
}
