/* SPDX-License-Identifier: MIT */
/*
 * tests/unit/test_config.c -- the configuration loader (policy/config.c) against the
 * fixtures in tests/data/config/: the full and minimal files with every value checked,
 * defaults, duration forms, relative paths, warnings, and one broken file per error path.
 *
 * A broken fixture marks the line the error must name with "<- error"; the test finds the
 * marker, so the fixtures can be edited without touching this file. Fixtures are found
 * through ZK_TEST_DATA (set by the Makefile), else "tests/data".
 */
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "policy/policy.h"
#include "tests/unit/unit.h"

#define DAY 86400u
#define HOUR 3600u

/* ------------------------------------------------------------------------ helpers */

static const char *data_dir(void)
{
	const char *d = getenv("ZK_TEST_DATA");

	return d && *d ? d : "tests/data";
}

static void fixture(char *buf, size_t size, const char *name)
{
	snprintf(buf, size, "%s/config/%s", data_dir(), name);
}

/* Absolute directory of the fixtures, as the loader computes it (lexically). */
static void fixture_dir_abs(char *buf, size_t size)
{
	char cwd[PATH_MAX / 2];

	if (data_dir()[0] == '/') {
		snprintf(buf, size, "%s/config", data_dir());
		return;
	}
	assert_non_null(getcwd(cwd, sizeof(cwd)));
	snprintf(buf, size, "%s/%s/config", cwd, data_dir());
}

/* Line number (from 1) of the first line of `path` containing `marker`. */
static unsigned marker_line(const char *path, const char *marker)
{
	char line[1024];
	unsigned n = 0;
	FILE *f = fopen(path, "re");

	if (!f)
		fail_msg("cannot open fixture %s", path);
	while (fgets(line, sizeof(line), f)) {
		n++;
		if (strstr(line, marker)) {
			fclose(f);
			return n;
		}
	}
	fclose(f);
	fail_msg("fixture %s has no marker \"%s\"", path, marker);
	return 0;
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);

	return a >= b && strcmp(s + a - b, suffix) == 0;
}

#define assert_contains(haystack, needle) \
	do { \
		if (!strstr((haystack), (needle))) \
			fail_msg("\"%s\" does not contain \"%s\"", (haystack), (needle)); \
	} while (0)

struct diag_entry {
	zk_level level;
	char file[PATH_MAX];
	unsigned line;
	char message[1024];
};

struct diag_log {
	size_t n;
	struct diag_entry e[8];
};

static void diag_collect(void *userdata, zk_level level, const char *file, unsigned line,
			 const char *message)
{
	struct diag_log *log = userdata;

	assert_true(log->n < sizeof(log->e) / sizeof(log->e[0]));
	log->e[log->n].level = level;
	snprintf(log->e[log->n].file, sizeof(log->e[0].file), "%s", file ? file : "");
	log->e[log->n].line = line;
	snprintf(log->e[log->n].message, sizeof(log->e[0].message), "%s", message);
	log->n++;
}

static size_t diag_count(const struct diag_log *log, zk_level level)
{
	size_t n = 0;

	for (size_t i = 0; i < log->n; i++)
		n += log->e[i].level == level;
	return n;
}

static pol_config *load_path_ok(const char *path, struct diag_log *log)
{
	zk_diag d = { .emit = diag_collect, .userdata = log };
	zk_error err = { 0 };
	pol_config *c = NULL;
	int r;

	r = pol_config_load(path, &d, &c, &err);
	if (r != 0)
		fail_msg("%s: %s (%s:%u: %s)", path, zk_code_name(r), err.file, err.line,
			 err.message);
	assert_non_null(c);
	return c;
}

static pol_config *load_ok(const char *name, struct diag_log *log)
{
	char path[PATH_MAX];

	fixture(path, sizeof(path), name);
	return load_path_ok(path, log);
}

static const pol_policy *find_policy(const pol_config *c, const char *name)
{
	for (size_t i = 0; i < c->n_policies; i++)
		if (strcmp(c->policies[i].name, name) == 0)
			return &c->policies[i];
	fail_msg("no policy \"%s\"", name);
	return NULL;
}

/* Every field of `p` is the documented default (the names aside). */
static void assert_policy_defaults(const pol_policy *p)
{
	assert_int_equal(p->algorithm, 13);
	assert_int_equal(p->keys, POL_KEYS_KSK_ZSK);
	assert_int_equal(p->ksk_lifetime, 365 * DAY);
	assert_int_equal(p->zsk_lifetime, 90 * DAY);
	assert_int_equal(p->rrsig_validity, 14 * DAY);
	assert_int_equal(p->rrsig_refresh, 7 * DAY);
	assert_int_equal(p->rrsig_jitter, 12 * HOUR);
	assert_int_equal(p->inception_offset, 1 * HOUR);
	assert_int_equal(p->denial, POL_DENIAL_NSEC3);
	assert_int_equal(p->nsec3_iterations, 0);
	assert_int_equal(p->nsec3_salt_length, 0);
	assert_false(p->nsec3_opt_out);
	assert_int_equal(p->serial, POL_SERIAL_DATESERIAL);
	assert_int_equal(p->soa.refresh, 1 * HOUR);
	assert_int_equal(p->soa.retry, 15 * 60);
	assert_int_equal(p->soa.expire, 6 * DAY);
	assert_int_equal(p->soa.minimum, 1 * HOUR);
	assert_int_equal(p->soa.ttl, 1 * HOUR);
	assert_int_equal(p->dnskey_ttl, 1 * HOUR);
	assert_int_equal(p->propagation_delay, 5 * 60);
	assert_int_equal(p->max_zone_ttl, 1 * DAY);
	assert_int_equal(p->parent_ds_ttl, 1 * DAY);
	assert_int_equal(p->parent_propagation_delay, 1 * HOUR);
	assert_int_equal(p->publish_safety, 1 * HOUR);
	assert_int_equal(p->retire_safety, 1 * HOUR);
	assert_true(p->cds);
	assert_int_equal(p->cds_digests[0], 2);
	assert_int_equal(p->cds_digests[1], 0);
	assert_int_equal(p->verify, POL_VERIFY_STANDARD);
	assert_int_equal(p->signing_threads, 0);
	assert_int_equal(p->dnskey_size_budget, 1232);
}

/* ------------------------------------------------------------------------ valid files */

static void full_file_sets_every_value(void **state)
{
	struct diag_log log = { 0 };
	char dir[PATH_MAX], want[PATH_MAX + 64], path[PATH_MAX];
	const pol_policy *p, *bulk;
	pol_config *c;

	(void) state;
	fixture(path, sizeof(path), "full.conf");
	fixture_dir_abs(dir, sizeof(dir));
	c = load_path_ok(path, &log);
	assert_string_equal(c->path, path);

	snprintf(want, sizeof(want), "%s/state", dir);
	assert_string_equal(c->paths.state_dir, want);
	assert_string_equal(c->paths.input_dir, "/srv/zones/unsigned");
	snprintf(want, sizeof(want), "%s/signed", dir);
	assert_string_equal(c->paths.output_dir, want);

	assert_string_equal(c->api.socket, "/run/zk/api.sock");
	assert_string_equal(c->api.listen, "[::1]:8053");
	assert_int_equal(c->api.n_tokens, 2);
	assert_string_equal(c->api.tokens[0], "s3cret-token-1");
	assert_string_equal(c->api.tokens[1], "s3cret-token-2");
	assert_int_equal(c->api.max_body, 65536);
	assert_int_equal(c->api.max_connections, 8);
	assert_int_equal(c->api.idle_timeout, 120);

	assert_string_equal(c->publish.reload_command, "knotc zone-reload %z");
	assert_int_equal(c->publish.reload_timeout, 45);
	assert_int_equal(c->publish.n_notify, 4);
	assert_string_equal(c->publish.notify[0].address, "192.0.2.53");
	assert_int_equal(c->publish.notify[0].port, 53);
	assert_string_equal(c->publish.notify[1].address, "127.0.0.1");
	assert_int_equal(c->publish.notify[1].port, 5353);
	assert_string_equal(c->publish.notify[2].address, "::1");
	assert_int_equal(c->publish.notify[2].port, 5353);
	assert_string_equal(c->publish.notify[3].address, "2001:db8::53");
	assert_int_equal(c->publish.notify[3].port, 53);

	assert_int_equal(c->n_policies, 2);
	p = find_policy(c, "default");
	assert_int_equal(p->algorithm, POL_ALG_ED25519);
	assert_int_equal(p->keys, POL_KEYS_CSK);
	assert_int_equal(p->ksk_lifetime, 180 * DAY);
	assert_int_equal(p->zsk_lifetime, 0);
	assert_int_equal(p->rrsig_validity, 21 * DAY);
	assert_int_equal(p->rrsig_refresh, 15 * DAY);
	assert_int_equal(p->rrsig_jitter, 1 * DAY);
	assert_int_equal(p->inception_offset, 2 * HOUR);
	assert_int_equal(p->denial, POL_DENIAL_NSEC3);
	assert_int_equal(p->nsec3_iterations, 0);
	assert_int_equal(p->nsec3_salt_length, 0);
	assert_false(p->nsec3_opt_out);
	assert_int_equal(p->serial, POL_SERIAL_UNIXTIME);
	assert_int_equal(p->n_nameservers, 2);
	assert_string_equal(p->nameservers[0], "ns1.example.net."); /* lowercased, dot added */
	assert_string_equal(p->nameservers[1], "ns2.example.net.");
	assert_string_equal(p->soa.mname, "primary.example.net.");
	assert_string_equal(p->soa.rname, "dns-admin.example.net.");
	assert_int_equal(p->soa.refresh, 2 * HOUR);
	assert_int_equal(p->soa.retry, 30 * 60);
	assert_int_equal(p->soa.expire, 14 * DAY);
	assert_int_equal(p->soa.minimum, 5 * 60);
	assert_int_equal(p->soa.ttl, 30 * 60);
	assert_int_equal(p->dnskey_ttl, 2 * HOUR);
	assert_int_equal(p->propagation_delay, 10 * 60);
	assert_int_equal(p->max_zone_ttl, 12 * HOUR);
	assert_int_equal(p->parent_ds_ttl, 2 * DAY);
	assert_int_equal(p->parent_propagation_delay, 3 * HOUR);
	assert_int_equal(p->publish_safety, 2 * HOUR);
	assert_int_equal(p->retire_safety, 3 * HOUR);
	assert_false(p->cds);
	assert_int_equal(p->cds_digests[0], 4);
	assert_int_equal(p->cds_digests[1], 2);
	assert_int_equal(p->cds_digests[2], 0);
	assert_int_equal(p->verify, POL_VERIFY_FULL);
	assert_int_equal(p->signing_threads, 4);
	assert_int_equal(p->dnskey_size_budget, 1400);

	bulk = find_policy(c, "bulk");
	assert_int_equal(bulk->algorithm, POL_ALG_ECDSAP384SHA384);
	assert_int_equal(bulk->keys, POL_KEYS_KSK_ZSK);
	assert_int_equal(bulk->ksk_lifetime, 0);
	assert_int_equal(bulk->zsk_lifetime, 30 * DAY);
	assert_int_equal(bulk->denial, POL_DENIAL_NSEC);
	assert_int_equal(bulk->serial, POL_SERIAL_KEEP);
	assert_int_equal(bulk->n_nameservers, 0);
	assert_string_equal(bulk->soa.mname, "hidden-primary.example.org.");
	assert_string_equal(bulk->soa.rname, ""); /* hostmaster.<zone> */
	assert_int_equal(bulk->soa.expire, 6 * DAY);
	assert_int_equal(bulk->soa.retry, 15 * 60);
	assert_int_equal(bulk->rrsig_validity, 14 * DAY);

	assert_int_equal(c->n_zones, 3);
	assert_string_equal(c->zones[0].name, "example.com.");
	assert_ptr_equal(c->zones[0].policy, p);
	assert_string_equal(c->zones[0].input_file, "/srv/zones/unsigned/example.com.zone");
	snprintf(want, sizeof(want), "%s/signed/example.com.zone", dir);
	assert_string_equal(c->zones[0].output_file, want);

	assert_string_equal(c->zones[1].name, "example.org.");
	assert_ptr_equal(c->zones[1].policy, bulk);
	snprintf(want, sizeof(want), "%s/zones/org.zone", dir);
	assert_string_equal(c->zones[1].input_file, want);
	assert_string_equal(c->zones[1].output_file, "/var/tmp/org.signed");

	assert_string_equal(c->zones[2].name, ".");
	assert_ptr_equal(c->zones[2].policy, p);
	assert_string_equal(c->zones[2].input_file, "/srv/zones/unsigned/root.zone");
	snprintf(want, sizeof(want), "%s/signed/root.zone", dir);
	assert_string_equal(c->zones[2].output_file, want);

	/* Nothing in it deserves a warning. */
	assert_int_equal(log.n, 0);
	assert_null(pol_config_free(c));
}

static void omitted_settings_take_their_defaults(void **state)
{
	struct diag_log log = { 0 };
	const pol_policy *p;
	pol_config *c;

	(void) state;
	c = load_ok("minimal.conf", &log);
	assert_string_equal(c->paths.state_dir, "/var/lib/zonekeeper");
	assert_string_equal(c->paths.input_dir, "/var/lib/zonekeeper/unsigned");
	assert_string_equal(c->paths.output_dir, "/var/lib/zonekeeper/signed");
	assert_string_equal(c->api.socket, "/run/zonekeeper/api.sock");
	assert_null(c->api.listen);
	assert_int_equal(c->api.n_tokens, 0);
	assert_int_equal(c->api.max_body, 1024 * 1024);
	assert_int_equal(c->api.max_connections, 64);
	assert_int_equal(c->api.idle_timeout, 30);
	assert_null(c->publish.reload_command);
	assert_int_equal(c->publish.reload_timeout, 30);
	assert_int_equal(c->publish.n_notify, 0);

	assert_int_equal(c->n_policies, 1);
	p = &c->policies[0];
	assert_string_equal(p->name, "p");
	assert_policy_defaults(p);
	assert_string_equal(p->soa.mname, "ns1.example.net."); /* the first nameserver */
	assert_string_equal(p->soa.rname, "");                 /* hostmaster.<zone> */

	assert_int_equal(c->n_zones, 1);
	assert_ptr_equal(c->zones[0].policy, p);
	assert_string_equal(c->zones[0].input_file,
			    "/var/lib/zonekeeper/unsigned/example.com.zone");
	assert_string_equal(c->zones[0].output_file,
			    "/var/lib/zonekeeper/signed/example.com.zone");

	/* The defaults satisfy invariant 9 (refresh 7d >= expire 6d + 5m): no warning. */
	assert_int_equal(log.n, 0);
	pol_config_free(c);
}

static void policy_defaults_are_the_spec_values(void **state)
{
	pol_policy p;

	(void) state;
	memset(&p, 0xa5, sizeof(p));
	pol_policy_defaults(&p);
	assert_policy_defaults(&p);
	assert_null(p.name);
	assert_null(p.nameservers);
	assert_int_equal(p.n_nameservers, 0);
	assert_null(p.soa.mname);
	assert_null(p.soa.rname);
}

static void empty_file_is_a_daemon_with_no_zones(void **state)
{
	struct diag_log log = { 0 };
	pol_config *c;

	(void) state;
	c = load_ok("empty.conf", &log);
	assert_int_equal(c->n_policies, 0);
	assert_null(c->policies);
	assert_int_equal(c->n_zones, 0);
	assert_null(c->zones);
	assert_string_equal(c->paths.state_dir, "/var/lib/zonekeeper");
	pol_config_free(c);

	c = load_ok("empty-lists.conf", &log);
	assert_int_equal(c->n_policies, 0);
	assert_int_equal(c->n_zones, 0);
	pol_config_free(c);
	assert_int_equal(log.n, 0);
}

static void durations_take_every_form(void **state)
{
	struct diag_log log = { 0 };
	const pol_policy *p;
	pol_config *c;

	(void) state;
	c = load_ok("durations.conf", &log);
	p = &c->policies[0];
	assert_int_equal(p->rrsig_validity, 1209600);
	assert_int_equal(p->rrsig_refresh, 7 * DAY);
	assert_int_equal(p->rrsig_jitter, 12 * HOUR);
	assert_int_equal(p->inception_offset, 90 * 60);
	assert_int_equal(p->propagation_delay, 300);
	assert_int_equal(p->max_zone_ttl, DAY);
	assert_int_equal(p->dnskey_ttl, 7200);
	assert_int_equal(p->parent_ds_ttl, DAY + 2 * HOUR);
	assert_int_equal(p->parent_propagation_delay, 2 * HOUR);
	assert_int_equal(p->publish_safety, 0);
	assert_int_equal(p->retire_safety, 0);
	assert_int_equal(p->ksk_lifetime, 0);
	assert_int_equal(p->zsk_lifetime, 0);
	assert_int_equal(p->soa.expire, 6 * DAY);
	assert_int_equal(p->soa.retry, 90);
	assert_int_equal(log.n, 0);
	pol_config_free(c);
}

static void relative_config_path_resolves_against_its_directory(void **state)
{
	char cwd[PATH_MAX], dir[PATH_MAX], want[PATH_MAX + 32];
	struct diag_log log = { 0 };
	pol_config *c;

	(void) state;
	assert_non_null(getcwd(cwd, sizeof(cwd)));
	fixture(dir, sizeof(dir), "");
	assert_int_equal(chdir(dir), 0);
	assert_non_null(getcwd(dir, sizeof(dir)));

	c = load_path_ok("full.conf", &log); /* no directory part at all */
	snprintf(want, sizeof(want), "%s/state", dir);
	assert_string_equal(c->paths.state_dir, want);
	pol_config_free(c);

	c = load_path_ok("./included/../full.conf", &log);
	snprintf(want, sizeof(want), "%s/included/../state", dir);
	assert_string_equal(c->paths.state_dir, want);
	snprintf(want, sizeof(want), "%s/included/../signed/root.zone", dir);
	assert_string_equal(c->zones[2].output_file, want);
	pol_config_free(c);

	c = load_path_ok("./full.conf", &log);
	snprintf(want, sizeof(want), "%s/zones/org.zone", dir);
	assert_string_equal(c->zones[1].input_file, want);
	pol_config_free(c);

	assert_int_equal(chdir(cwd), 0);
}

static void zones_without_policy_take_the_only_or_the_default_one(void **state)
{
	struct diag_log log = { 0 };
	pol_config *c;

	(void) state;
	c = load_ok("implicit-policy.conf", &log);
	assert_string_equal(c->zones[0].policy->name, "default");
	assert_int_equal(c->zones[0].policy->algorithm, POL_ALG_ECDSAP384SHA384);
	assert_string_equal(c->zones[1].policy->name, "small");
	assert_int_equal(c->zones[1].policy->algorithm, POL_ALG_RSASHA256);
	pol_config_free(c);

	c = load_ok("single-policy.conf", &log);
	assert_string_equal(c->zones[0].policy->name, "only");
	pol_config_free(c);
}

static void included_files_are_read_relative_to_the_config(void **state)
{
	struct diag_log log = { 0 };
	pol_config *c;

	(void) state;
	c = load_ok("include.conf", &log);
	assert_int_equal(c->n_policies, 1);
	assert_int_equal(c->policies[0].algorithm, POL_ALG_ED448);
	assert_ptr_equal(c->zones[0].policy, &c->policies[0]);
	pol_config_free(c);
}

static void the_shipped_example_parses(void **state)
{
	char path[PATH_MAX];
	struct diag_log log = { 0 };
	const pol_policy *p;
	pol_config *c;

	(void) state;
	snprintf(path, sizeof(path), "%s/../../examples/zonekeeper.conf", data_dir());
	c = load_path_ok(path, &log);
	assert_true(c->paths.state_dir[0] == '/');
	assert_true(ends_with(c->paths.state_dir, "/examples/state"));
	assert_true(ends_with(c->paths.input_dir, "/examples"));
	assert_true(ends_with(c->paths.output_dir, "/examples/state/signed"));
	assert_true(ends_with(c->api.socket, "/examples/state/api.sock"));
	assert_null(c->api.listen);
	assert_int_equal(c->api.max_body, 1048576);
	assert_null(c->publish.reload_command);
	assert_int_equal(c->publish.n_notify, 0);

	assert_int_equal(c->n_policies, 1);
	p = &c->policies[0];
	assert_string_equal(p->name, "default");
	assert_policy_defaults(p); /* the example spells out every default */
	assert_int_equal(p->n_nameservers, 2);
	assert_string_equal(p->nameservers[0], "ns1.example.net.");
	assert_string_equal(p->nameservers[1], "ns2.example.net.");
	assert_string_equal(p->soa.mname, "ns1.example.net.");
	assert_string_equal(p->soa.rname, "hostmaster.example.net.");

	assert_int_equal(c->n_zones, 1);
	assert_string_equal(c->zones[0].name, "example.com.");
	assert_ptr_equal(c->zones[0].policy, p);
	assert_true(ends_with(c->zones[0].input_file, "/examples/example.com.zone"));
	assert_true(ends_with(c->zones[0].output_file, "/examples/state/signed/example.com.zone"));

	/* The example is the defaults: it loads without a warning. */
	assert_int_equal(log.n, 0);
	pol_config_free(c);
}

static void zone_lookup_ignores_case_and_final_dot(void **state)
{
	struct diag_log log = { 0 };
	pol_config *c;

	(void) state;
	c = load_ok("full.conf", &log);
	assert_ptr_equal(pol_config_zone(c, "example.com."), &c->zones[0]);
	assert_ptr_equal(pol_config_zone(c, "example.com"), &c->zones[0]);
	assert_ptr_equal(pol_config_zone(c, "EXAMPLE.Com"), &c->zones[0]);
	assert_ptr_equal(pol_config_zone(c, "Example.ORG."), &c->zones[1]);
	assert_ptr_equal(pol_config_zone(c, "."), &c->zones[2]);
	assert_ptr_equal(pol_config_zone(c, ""), &c->zones[2]);
	assert_null(pol_config_zone(c, "example.co"));
	assert_null(pol_config_zone(c, "www.example.com"));
	assert_null(pol_config_zone(c, "xexample.com."));
	assert_null(pol_config_zone(c, "example.com.."));
	assert_null(pol_config_zone(c, NULL));
	assert_null(pol_config_zone(NULL, "example.com."));
	pol_config_free(c);
}

/* ------------------------------------------------------------------------ warnings */

static void nsec3_salt_and_opt_out_warn(void **state)
{
	struct diag_log log = { 0 };
	char path[PATH_MAX];
	pol_config *c;

	(void) state;
	fixture(path, sizeof(path), "warnings.conf");
	c = load_path_ok(path, &log);
	assert_int_equal(c->policies[0].nsec3_salt_length, 8);
	assert_true(c->policies[0].nsec3_opt_out);
	assert_int_equal(log.n, 2);
	assert_int_equal(diag_count(&log, ZK_LOG_WARNING), 2);
	assert_string_equal(log.e[0].file, path);
	assert_int_equal(log.e[0].line, marker_line(path, "<- warning: salt"));
	assert_contains(log.e[0].message, "policy \"default\": nsec3_salt_length is 8");
	assert_contains(log.e[0].message, "RFC 9276: SHOULD NOT use a salt");
	assert_string_equal(log.e[1].file, path);
	assert_int_equal(log.e[1].line, marker_line(path, "<- warning: opt-out"));
	assert_contains(log.e[1].message, "nsec3_opt_out");
	assert_contains(log.e[1].message, "delegation-centric");
	pol_config_free(c);
}

static void refresh_shorter_than_expire_warns(void **state)
{
	struct diag_log log = { 0 };
	char path[PATH_MAX];
	pol_config *c;

	(void) state;
	fixture(path, sizeof(path), "expire-warning.conf");
	c = load_path_ok(path, &log);
	assert_int_equal(log.n, 1);
	assert_int_equal(log.e[0].level, ZK_LOG_WARNING);
	assert_string_equal(log.e[0].file, path);
	assert_int_equal(log.e[0].line, marker_line(path, "<- warning"));
	assert_contains(log.e[0].message, "rrsig_refresh (20d) is shorter than soa.expire + "
					  "propagation_delay (28d + 5m)");
	assert_contains(log.e[0].message, "expired signatures");
	pol_config_free(c);
}

static void nsec_ignores_nsec3_settings(void **state)
{
	struct diag_log log = { 0 };
	char path[PATH_MAX];
	const pol_policy *p;
	pol_config *c;

	(void) state;
	fixture(path, sizeof(path), "nsec-ignores-nsec3.conf");
	c = load_path_ok(path, &log);
	p = &c->policies[0];
	assert_int_equal(p->denial, POL_DENIAL_NSEC);
	assert_int_equal(p->nsec3_iterations, 0);
	assert_int_equal(p->nsec3_salt_length, 0);
	assert_false(p->nsec3_opt_out);
	/* A notice that they are ignored, no warning and no error. */
	assert_int_equal(diag_count(&log, ZK_LOG_WARNING), 0);
	assert_int_equal(diag_count(&log, ZK_LOG_NOTICE), 1);
	assert_int_equal(log.e[0].line, marker_line(path, "<- notice"));
	assert_contains(log.e[0].message, "ignored: denial is nsec");
	pol_config_free(c);
}

static void warnings_without_a_sink_are_dropped(void **state)
{
	char path[PATH_MAX];
	zk_error err = { 0 };
	pol_config *c = NULL;

	(void) state;
	fixture(path, sizeof(path), "warnings.conf");
	assert_int_equal(pol_config_load(path, NULL, &c, &err), 0);
	assert_non_null(c);
	pol_config_free(c);
}

/* ------------------------------------------------------------------------ errors */

struct bad_case {
	const char *file;
	const char *expect[3]; /* in the message; the first names the setting */
	const char *in_file;   /* the marker is in this file instead (includes) */
};

#define BAD(f, ...) { .file = f, .expect = { __VA_ARGS__ } }

static const struct bad_case bad_cases[] = {
	/* unknown settings */
	BAD("unknown-top.conf", "colour: unknown setting"),
	BAD("unknown-paths.conf", "paths.statedir: unknown setting"),
	BAD("unknown-api.conf", "api.port: unknown setting"),
	BAD("unknown-publish.conf", "publish.reload: unknown setting"),
	BAD("unknown-policy.conf", "policy \"default\": rrsig_refrsh: unknown setting"),
	BAD("unknown-soa.conf", "policy \"default\": soa.serial: unknown setting"),
	BAD("unknown-zone.conf", "zone \"example.com.\": file: unknown setting"),
	/* wrong types */
	BAD("type-group.conf", "paths: must be a group", "not a string"),
	BAD("type-duration.conf", "rrsig_validity: must be a duration", "not a boolean"),
	BAD("type-bool.conf", "cds: must be true or false", "not a string"),
	BAD("type-int.conf", "signing_threads: must be an integer", "not a string"),
	BAD("type-max-body.conf", "api.max_body: must be an integer"),
	BAD("type-strlist.conf", "nameservers: must be a list of strings"),
	BAD("type-policies.conf", "policies: must be a list of groups", "not a group"),
	BAD("type-policy-elem.conf", "policies.[0]: must be a group", "not a string"),
	BAD("type-zones.conf", "zones: must be a list of groups", "not an array"),
	BAD("type-token.conf", "api.tokens.[0]: must be a string", "not an integer"),
	BAD("type-digest.conf", "cds_digests.[0]: must be an integer"),
	/* bad values */
	BAD("bad-duration.conf", "rrsig_refresh: invalid duration \"7x\""),
	BAD("negative-duration.conf", "propagation_delay: a duration cannot be negative"),
	BAD("bad-keys.conf", "keys: unknown value \"zsk-only\"", "\"ksk-zsk\" or \"csk\""),
	BAD("bad-denial.conf", "denial: unknown value \"nsec5\"", "\"nsec3\" or \"nsec\""),
	BAD("bad-serial.conf",
	    "serial: unknown value \"datecounter\"",
	    "\"dateserial\", \"unixtime\", \"increment\" or \"keep\""),
	BAD("bad-verify.conf", "verify: unknown value \"paranoid\""),
	BAD("bad-threads.conf", "signing_threads: -1 is out of range"),
	BAD("bad-budget.conf", "dnskey_size_budget: 100 is out of range (512 to 65535)"),
	BAD("bad-alg-name.conf", "algorithm: unknown algorithm \"ECDSAP521SHA512\""),
	BAD("bad-alg-number.conf", "algorithm: unknown algorithm number 9"),
	BAD("bad-alg-type.conf", "algorithm: must be an algorithm name or number", "not a float"),
	BAD("cds-sha1.conf", "cds_digests.[1]: SHA-1 (1)", "never generated", "RFC 8624"),
	BAD("cds-gost.conf", "cds_digests.[0]: GOST", "never generated"),
	BAD("cds-unknown.conf", "cds_digests.[1]: unknown digest type 7"),
	BAD("cds-twice.conf", "cds_digests.[1]: digest type 2 is listed twice"),
	BAD("cds-empty.conf", "cds_digests: at least one digest type is needed"),
	BAD("salt-too-long.conf", "nsec3_salt_length: 256 is out of range (0 to 255)"),
	BAD("bad-zone-name.conf", "zones.[0].name: \"example..com.\" is not a valid domain name"),
	BAD("zone-slash.conf", "zones.[0].name: zone name \"a/b.example.\" must not contain '/'"),
	BAD("bad-nameserver.conf",
	    "nameservers.[1]: \"ns 2..example.net.\" is not a valid domain name"),
	BAD("dup-nameserver.conf", "nameservers.[1]: ns1.example.net. is listed twice"),
	BAD("bad-mname.conf", "soa.mname: \"ns1..example.net.\" is not a valid domain name"),
	BAD("rname-email.conf", "soa.rname: \"hostmaster@example.net\" is an e-mail address"),
	BAD("ttl-dnskey.conf", "dnskey_ttl: 2147483648 seconds is above the largest TTL"),
	BAD("ttl-max-zone.conf", "max_zone_ttl: 2147483648 seconds is above the largest TTL"),
	BAD("ttl-soa.conf", "soa.ttl: 2147558400 seconds is above the largest TTL", "RFC 2181"),
	BAD("listen-bad.conf", "api.listen: \"localhost:8053\" is not a numeric address"),
	BAD("listen-v6-unbracketed.conf", "api.listen: \"::1:8053\" is not a numeric address"),
	BAD("listen-no-token.conf", "api.listen: a TCP listener needs at least one bearer token"),
	BAD("token-blank.conf", "api.tokens.[1]: a token cannot contain blanks"),
	BAD("notify-name.conf",
	    "publish.notify.[1]: \"ns1.example.net@53\" is not a numeric address"),
	BAD("notify-port.conf", "publish.notify.[0]: \"127.0.0.1@0\" is not a numeric address"),
	BAD("reload-timeout-zero.conf", "publish.reload_timeout: must be at least 1s"),
	/* structure */
	BAD("policy-no-name.conf", "policies.[0]: name is required"),
	BAD("zone-no-name.conf", "zones.[0]: name is required"),
	BAD("dup-policy.conf",
	    "policy \"default\": name: a policy of that name is already defined at line 5"),
	BAD("dup-zone.conf", "zone \"example.com.\": name: the zone is already listed at line 10"),
	BAD("dup-output.conf",
	    "zone \"example.org.\": output_file: /tmp/out.zone is also the output of zone "
	    "\"example.com.\""),
	BAD("zone-unknown-policy.conf", "zone \"example.com.\": policy: unknown policy \"nope\""),
	BAD("zone-no-policies.conf", "zone \"example.com.\": no policy is defined"),
	BAD("zone-ambiguous.conf",
	    "zone \"example.com.\": policy is required",
	    "none is named \"default\""),
	BAD("mname-required.conf",
	    "policy \"default\": soa.mname is required when nameservers is empty"),
	/* impossible combinations */
	BAD("refresh-ge-validity.conf",
	    "policy \"default\": rrsig_refresh (7d) must be shorter than rrsig_validity (7d)"),
	BAD("jitter-too-big.conf",
	    "rrsig_jitter (7d) must be shorter than rrsig_validity - rrsig_refresh (7d)"),
	BAD("refresh-window.conf",
	    "rrsig_refresh (2d)",
	    "refresh window shorter than propagation delay + max zone TTL",
	    "2d5m"),
	BAD("refresh-window-defaults.conf",
	    "rrsig_refresh (7d)",
	    "refresh window shorter than propagation delay + max zone TTL"),
	BAD("nsec3-iterations.conf",
	    "policy \"default\": nsec3_iterations must be 0 (RFC 9276), not 10"),
	BAD("soa-ttl-above-max.conf", "soa.ttl (2h) is above max_zone_ttl (1h)"),
	BAD("zsk-short.conf", "zsk_lifetime (14d) is too short for a rollover", "15d1h5m"),
	BAD("ksk-short.conf", "ksk_lifetime (1d) is too short for a rollover", "1d2h5m"),
	BAD("csk-short.conf",
	    "ksk_lifetime (15d, the CSK lifetime",
	    "too short for a rollover",
	    "15d1h5m"),
	/* syntax, includes */
	BAD("syntax.conf", "syntax error"),
	{ .file = "include-error.conf",
	  .expect = { "zsk_lifetime: invalid duration \"fortnight\"" },
	  .in_file = "included/bad-policy.conf" },
};

#undef BAD

static void bad_config_is_rejected(void **state)
{
	const struct bad_case *bc = *state;
	char path[PATH_MAX], marked[PATH_MAX];
	struct diag_log log = { 0 };
	zk_diag d = { .emit = diag_collect, .userdata = &log };
	pol_config sentinel, *c = &sentinel;
	zk_error err = { 0 };
	int r;

	fixture(path, sizeof(path), bc->file);
	fixture(marked, sizeof(marked), bc->in_file ? bc->in_file : bc->file);
	r = pol_config_load(path, &d, &c, &err);
	if (r != ZK_E_CONFIG)
		fail_msg("%s: expected CONFIG_INVALID, got %d (%s)", bc->file, r, err.message);
	assert_int_equal(err.code, ZK_E_CONFIG);
	assert_ptr_equal(c, &sentinel); /* out-parameter untouched on failure */
	if (bc->in_file)
		assert_true(ends_with(err.file, bc->in_file));
	else
		assert_string_equal(err.file, path);
	if (err.line != marker_line(marked, "<- error"))
		fail_msg("%s: error at line %u, expected %u: %s", bc->file, err.line,
			 marker_line(marked, "<- error"), err.message);
	for (size_t i = 0; i < 3 && bc->expect[i]; i++)
		assert_contains(err.message, bc->expect[i]);
	/* A rejected file says one thing: its error, no warnings about it. */
	assert_int_equal(log.n, 0);
}

static void missing_file_is_a_config_error(void **state)
{
	char path[PATH_MAX];
	zk_error err = { 0 };
	pol_config *c = NULL;

	(void) state;
	fixture(path, sizeof(path), "does-not-exist.conf");
	assert_int_equal(pol_config_load(path, NULL, &c, &err), ZK_E_CONFIG);
	assert_null(c);
	assert_string_equal(err.file, path);
	assert_int_equal(err.line, 0);
	assert_contains(err.message, strerror(ENOENT));

	assert_int_equal(pol_config_load(NULL, NULL, &c, &err), -EINVAL);
	/* No detail object: the code alone. */
	assert_int_equal(pol_config_load(path, NULL, &c, NULL), ZK_E_CONFIG);
}

/* ------------------------------------------------------------------------ algorithms */

/* Writes `text` to a fresh file in a temporary directory; returns its path in `path`. */
static void write_temp(char *dir, size_t dir_size, char *path, size_t path_size,
		       const char *text)
{
	FILE *f;

	assert_int_equal(unit_tmpdir(dir, dir_size, "config"), 0);
	snprintf(path, path_size, "%s/zk.conf", dir);
	f = fopen(path, "we");
	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
}

static int load_algorithm(const char *value, zk_error *err, uint8_t *ret_alg)
{
	char dir[64], path[128], text[512];
	pol_config *c = NULL;
	int r;

	snprintf(text, sizeof(text),
		 "policies = ( { name = \"p\"; nameservers = [ \"ns1.example.net.\" ];\n"
		 "  algorithm = %s;\n"
		 "  soa = { expire = \"6d\"; }; } );\n",
		 value);
	write_temp(dir, sizeof(dir), path, sizeof(path), text);
	memset(err, 0, sizeof(*err));
	r = pol_config_load(path, NULL, &c, err);
	if (r == 0)
		*ret_alg = c->policies[0].algorithm;
	else
		assert_string_equal(err->file, path);
	pol_config_free(c);
	unlink(path);
	rmdir(dir);
	return r;
}

static void supported_algorithms_by_name_or_number(void **state)
{
	static const struct {
		const char *value;
		uint8_t alg;
	} rows[] = {
		{ "\"RSASHA256\"", 8 },       { "\"rsasha256\"", 8 },
		{ "8", 8 },                   { "\"ECDSAP256SHA256\"", 13 },
		{ "13", 13 },                 { "\"ecdsap384sha384\"", 14 },
		{ "14", 14 },                 { "\"ED25519\"", 15 },
		{ "15", 15 },                 { "\"Ed448\"", 16 },
		{ "16", 16 },                 { "16L", 16 },
	};

	(void) state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		zk_error err;
		uint8_t alg = 0;

		if (load_algorithm(rows[i].value, &err, &alg) != 0)
			fail_msg("algorithm = %s: %s", rows[i].value, err.message);
		assert_int_equal(alg, rows[i].alg);
	}
}

static void deprecated_algorithms_are_refused_citing_their_rfc(void **state)
{
	static const struct {
		const char *value;
		const char *named;
		const char *rfc;
	} rows[] = {
		{ "\"RSAMD5\"", "RSAMD5 (1) must not be used", "RFC 8624" },
		{ "1", "RSAMD5 (1)", "RFC 8624" },
		{ "\"dsa\"", "DSA (3) must not be used", "RFC 8624" },
		{ "3", "DSA (3)", "RFC 8624" },
		{ "\"RSASHA1\"", "RSASHA1 (5) must not be used", "RFC 9905" },
		{ "5", "RSASHA1 (5)", "RFC 9905" },
		{ "\"DSA-NSEC3-SHA1\"", "DSA-NSEC3-SHA1 (6)", "RFC 8624" },
		{ "6", "DSA-NSEC3-SHA1 (6)", "RFC 8624" },
		{ "\"RSASHA1-NSEC3-SHA1\"", "RSASHA1-NSEC3-SHA1 (7)", "RFC 9905" },
		{ "7", "RSASHA1-NSEC3-SHA1 (7)", "RFC 9905" },
		{ "\"RSASHA512\"", "RSASHA512 (10) is not recommended", "RFC 8624" },
		{ "10", "RSASHA512 (10)", "RFC 8624" },
		{ "\"ECC-GOST\"", "ECC-GOST (12) must not be used", "RFC 8624" },
		{ "12", "ECC-GOST (12)", "RFC 8624" },
	};

	(void) state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		zk_error err;
		uint8_t alg = 0;

		assert_int_equal(load_algorithm(rows[i].value, &err, &alg), ZK_E_CONFIG);
		assert_int_equal(err.line, 2);
		assert_contains(err.message, "policy \"p\": algorithm: ");
		assert_contains(err.message, rows[i].named);
		assert_contains(err.message, rows[i].rfc);
	}
}

static void unknown_algorithms_are_refused(void **state)
{
	static const char *const values[] = { "0", "2", "4", "9", "11", "17", "253", "255",
					      "-1", "4294967309L", "\"PRIVATEDNS\"", "\"\"",
					      "\"13 \"" };

	(void) state;
	for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
		zk_error err;
		uint8_t alg = 0;

		assert_int_equal(load_algorithm(values[i], &err, &alg), ZK_E_CONFIG);
		assert_int_equal(err.line, 2);
		assert_contains(err.message, "algorithm: unknown algorithm");
	}
}

static void algorithm_and_enum_names(void **state)
{
	(void) state;
	assert_string_equal(pol_algorithm_name(13), "ECDSAP256SHA256");
	assert_string_equal(pol_algorithm_name(8), "RSASHA256");
	assert_string_equal(pol_algorithm_name(16), "ED448");
	assert_string_equal(pol_algorithm_name(5), "RSASHA1"); /* known, though refused */
	assert_null(pol_algorithm_name(200));

	assert_int_equal(pol_algorithm_from_name("ecdsap256sha256"), 13);
	assert_int_equal(pol_algorithm_from_name("ED25519"), 15);
	assert_int_equal(pol_algorithm_from_name("14"), 14);
	assert_int_equal(pol_algorithm_from_name("RSASHA1"), -EINVAL);
	assert_int_equal(pol_algorithm_from_name("5"), -EINVAL);
	assert_int_equal(pol_algorithm_from_name("13x"), -EINVAL);
	assert_int_equal(pol_algorithm_from_name("99"), -EINVAL);
	assert_int_equal(pol_algorithm_from_name(""), -EINVAL);
	assert_int_equal(pol_algorithm_from_name(NULL), -EINVAL);

	assert_string_equal(pol_keys_name(POL_KEYS_KSK_ZSK), "ksk-zsk");
	assert_string_equal(pol_keys_name(POL_KEYS_CSK), "csk");
	assert_null(pol_keys_name(_POL_KEYS_MAX));
	assert_string_equal(pol_denial_name(POL_DENIAL_NSEC3), "nsec3");
	assert_string_equal(pol_denial_name(POL_DENIAL_NSEC), "nsec");
	assert_null(pol_denial_name(_POL_DENIAL_MAX));
	assert_string_equal(pol_serial_name(POL_SERIAL_DATESERIAL), "dateserial");
	assert_string_equal(pol_serial_name(POL_SERIAL_UNIXTIME), "unixtime");
	assert_string_equal(pol_serial_name(POL_SERIAL_INCREMENT), "increment");
	assert_string_equal(pol_serial_name(POL_SERIAL_KEEP), "keep");
	assert_null(pol_serial_name(_POL_SERIAL_MAX));
	assert_string_equal(pol_verify_name(POL_VERIFY_STANDARD), "standard");
	assert_string_equal(pol_verify_name(POL_VERIFY_FULL), "full");
	assert_null(pol_verify_name(_POL_VERIFY_MAX));
}

static void free_is_null_safe(void **state)
{
	(void) state;
	assert_null(pol_config_free(NULL));
}

int main(void)
{
	static const struct CMUnitTest fixed[] = {
		cmocka_unit_test(full_file_sets_every_value),
		cmocka_unit_test(omitted_settings_take_their_defaults),
		cmocka_unit_test(policy_defaults_are_the_spec_values),
		cmocka_unit_test(empty_file_is_a_daemon_with_no_zones),
		cmocka_unit_test(durations_take_every_form),
		cmocka_unit_test(relative_config_path_resolves_against_its_directory),
		cmocka_unit_test(zones_without_policy_take_the_only_or_the_default_one),
		cmocka_unit_test(included_files_are_read_relative_to_the_config),
		cmocka_unit_test(the_shipped_example_parses),
		cmocka_unit_test(zone_lookup_ignores_case_and_final_dot),
		cmocka_unit_test(nsec3_salt_and_opt_out_warn),
		cmocka_unit_test(refresh_shorter_than_expire_warns),
		cmocka_unit_test(nsec_ignores_nsec3_settings),
		cmocka_unit_test(warnings_without_a_sink_are_dropped),
		cmocka_unit_test(missing_file_is_a_config_error),
		cmocka_unit_test(supported_algorithms_by_name_or_number),
		cmocka_unit_test(deprecated_algorithms_are_refused_citing_their_rfc),
		cmocka_unit_test(unknown_algorithms_are_refused),
		cmocka_unit_test(algorithm_and_enum_names),
		cmocka_unit_test(free_is_null_safe),
	};
	enum { N_FIXED = sizeof(fixed) / sizeof(fixed[0]),
	       N_BAD = sizeof(bad_cases) / sizeof(bad_cases[0]) };
	struct CMUnitTest tests[N_FIXED + N_BAD];

	memcpy(tests, fixed, sizeof(fixed));
	/* One test per broken fixture, named after it, so a failure says which file. */
	for (size_t i = 0; i < N_BAD; i++)
		tests[N_FIXED + i] = (struct CMUnitTest) {
			.name = bad_cases[i].file,
			.test_func = bad_config_is_rejected,
			.initial_state = (void *) &bad_cases[i],
		};
	return _cmocka_run_group_tests("config", tests, N_FIXED + N_BAD, NULL, NULL);
}
