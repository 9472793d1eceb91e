/* SPDX-License-Identifier: MIT */
/*
 * signer/cli/keys.c -- `zonekeeper keys`, `zonekeeper ds`, `zonekeeper key import`.
 */
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "keystore/keystore.h"
#include "policy/zk-codec.h"
#include "policy/zk-macro.h"
#include "signer/cli/cli.h"
#include "signer/signer.h"

struct common {
	const char *config, *zone;
	const char *socket; /* --socket */
	bool remote;        /* ask the daemon: ZONE given as an argument, or --socket */
	bool json;
	int digest;
	bool digest_set;
	int role;
};

/*
 * Local mode (the key files): --config FILE --zone NAME, as ever. With `remote_ok`, a
 * positional ZONE instead of --zone, or --socket, asks the daemon instead (GET
 * /v1/zones/{zone}/keys or /ds); --config then only names the configuration whose
 * api.socket to use.
 */
static int parse_remote(int argc, char **argv, const char *usage, struct common *o)
{
	if (argc - optind > 1 || (argc - optind == 1 && o->zone)) {
		fputs(usage, stderr);
		return CLI_USAGE;
	}
	if (argc - optind == 1)
		o->zone = argv[optind];
	if (!o->zone) {
		fputs(usage, stderr);
		return CLI_USAGE;
	}
	o->remote = true;
	return -1;
}

static int parse_common(int argc, char **argv, const char *usage, bool remote_ok,
			struct common *o)
{
	static const struct option opts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "config", required_argument, NULL, 'c' },
		{ "zone", required_argument, NULL, 'z' },
		{ "json", no_argument, NULL, 'j' },
		{ "digest", required_argument, NULL, 'd' },
		{ "role", required_argument, NULL, 'r' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	int c;

	memset(o, 0, sizeof(*o));
	o->digest = POL_DIGEST_SHA256;
	o->role = -1;
	optind = 1;
	while ((c = getopt_long(argc, argv, "c:z:jd:r:h", opts, NULL)) != -1) {
		switch (c) {
		case 's': o->socket = optarg; break;
		case 'c': o->config = optarg; break;
		case 'z': o->zone = optarg; break;
		case 'j': o->json = true; break;
		case 'd':
			o->digest = atoi(optarg);
			o->digest_set = true;
			if (o->digest != POL_DIGEST_SHA256 && o->digest != POL_DIGEST_SHA384) {
				fprintf(stderr, "zonekeeper: --digest takes 2 (SHA-256) or 4 (SHA-384)\n");
				return CLI_USAGE;
			}
			break;
		case 'r':
			o->role = ks_role_from_name(optarg);
			if (o->role < 0) {
				fprintf(stderr, "zonekeeper: --role takes ksk, zsk or csk\n");
				return CLI_USAGE;
			}
			break;
		case 'h': fputs(usage, stdout); return CLI_OK + 100;
		default: fputs(usage, stderr); return CLI_USAGE;
		}
	}
	if (remote_ok && (o->socket || optind < argc))
		return parse_remote(argc, argv, usage, o);
	if (!o->config || !o->zone) {
		fputs(usage, stderr);
		return CLI_USAGE;
	}
	return -1;
}

static cli_api remote_opts(const struct common *o)
{
	return (cli_api) { .socket = o->socket, .config = o->config, .json = o->json };
}

static const char *when(zk_time_t t, char *buf)
{
	if (!t)
		return "-";
	return zk_time_iso(t, buf, 32);
}

static int open_zone_keys(const struct common *o, pol_config **ret_cfg, const pol_zone **ret_z,
			  ks_store **ret)
{
	pol_config *cfg = cli_load_config(o->config);
	const pol_zone *z;
	zk_error e = { 0 };
	int r;

	if (!cfg)
		return CLI_USAGE;
	z = pol_config_zone(cfg, o->zone);
	if (!z) {
		fprintf(stderr, "zonekeeper: zone %s is not in %s [ZONE_NOT_FOUND]\n", o->zone,
			o->config);
		pol_config_free(cfg);
		return CLI_FAIL;
	}
	r = sgn_keys_open(cfg, z, 0, &cli_diag, false, ret, NULL, NULL, &e);
	if (r < 0) {
		cli_error(z->name, r, &e);
		pol_config_free(cfg);
		return CLI_FAIL;
	}
	*ret_cfg = cfg;
	*ret_z = z;
	return CLI_OK;
}

static const char keys_usage[] =
	"Usage: zonekeeper keys --config FILE --zone NAME [--json]\n"
	"       zonekeeper keys ZONE [--socket PATH] [--config FILE] [--json]\n"
	"\n"
	"List the keys of a zone: tag, role, algorithm, state at the current time, timing\n"
	"(created, publish, active, retire, remove) and key file.\n"
	"\n"
	"With --zone NAME the key files are read directly (the configuration is required).\n"
	"With ZONE as an argument (or with --socket) the running daemon is asked instead,\n"
	"through its API socket: --socket PATH, else api.socket of --config FILE, else of\n"
	CL_DEFAULT_CONFIG ", else " CL_DEFAULT_SOCKET ". --json then prints the\n"
	"daemon's reply as it is. Exit status 3: the daemon refused (e.g. ZONE_NOT_FOUND).\n";

int cmd_keys(int argc, char **argv)
{
	struct common o;
	pol_config *cfg;
	const pol_zone *z;
	ks_store *s;
	zk_time_t now;
	json_t *arr = NULL;
	int r = parse_common(argc, argv, keys_usage, true, &o);

	if (r >= 0)
		return r == CLI_OK + 100 ? CLI_OK : r;
	if (o.remote) {
		cli_api api = remote_opts(&o);

		return cli_api_keys(&api, o.zone);
	}
	r = open_zone_keys(&o, &cfg, &z, &s);
	if (r != CLI_OK)
		return r;
	now = cli_now();
	if (o.json)
		arr = json_array();
	else
		printf("%-6s %-4s %-16s %-9s %-20s %-20s %-20s %s\n", "TAG", "ROLE", "ALGORITHM",
		       "STATE", "PUBLISH", "ACTIVE", "RETIRE", "FILE");
	for (size_t i = 0; i < ks_store_count(s); i++) {
		const ks_key *k = ks_store_key(s, i);
		const ks_timing *t = ks_key_timing(k);
		const char *alg = pol_algorithm_name(ks_key_algorithm(k));
		char b1[32], b2[32], b3[32], b4[32], b5[32];

		if (o.json) {
			json_t *j = json_object();

			json_object_set_new(j, "tag", json_integer(ks_key_tag(k)));
			json_object_set_new(j, "role", json_string(ks_role_name(ks_key_role(k))));
			json_object_set_new(j, "algorithm", json_integer(ks_key_algorithm(k)));
			json_object_set_new(j, "algorithm_name", json_string(alg ? alg : "?"));
			json_object_set_new(j, "flags", json_integer(ks_key_flags(k)));
			json_object_set_new(j, "state", json_string(ks_key_state_name(k, now)));
			json_object_set_new(j, "created", t->created ? json_string(when(t->created, b1)) : json_null());
			json_object_set_new(j, "publish", t->publish ? json_string(when(t->publish, b2)) : json_null());
			json_object_set_new(j, "active", t->active ? json_string(when(t->active, b3)) : json_null());
			json_object_set_new(j, "retire", t->retire ? json_string(when(t->retire, b4)) : json_null());
			json_object_set_new(j, "remove", t->remove ? json_string(when(t->remove, b5)) : json_null());
			json_object_set_new(j, "file", json_string(ks_key_basename(k)));
			json_array_append_new(arr, j);
		} else {
			printf("%-6u %-4s %-16s %-9s %-20s %-20s %-20s %s\n", ks_key_tag(k),
			       ks_role_name(ks_key_role(k)), alg ? alg : "?", ks_key_state_name(k, now),
			       when(t->publish, b1), when(t->active, b2), when(t->retire, b3),
			       ks_key_basename(k));
		}
	}
	if (o.json)
		cli_print_json(arr);
	else if (ks_store_count(s) == 0)
		printf("(no keys yet: `zonekeeper sign` generates them)\n");
	ks_store_free(s);
	pol_config_free(cfg);
	return CLI_OK;
}

static const char ds_usage[] =
	"Usage: zonekeeper ds --config FILE --zone NAME [--digest 2|4] [--json]\n"
	"       zonekeeper ds ZONE [--socket PATH] [--config FILE] [--digest 2|4] [--json]\n"
	"\n"
	"DS records (RFC 4034 §5) of the zone's published key-signing keys, to give to the\n"
	"parent zone. Digest 2 is SHA-256 (default), 4 SHA-384; SHA-1 is never made.\n"
	"\n"
	"With --zone NAME the key files are read directly (the configuration is required).\n"
	"With ZONE as an argument (or with --socket) the running daemon is asked instead,\n"
	"through its API socket (found as for `zonekeeper keys`); --digest then keeps only\n"
	"the DS records of that digest type.\n";

int cmd_ds(int argc, char **argv)
{
	struct common o;
	pol_config *cfg;
	const pol_zone *z;
	ks_store *s;
	zk_time_t now;
	json_t *arr = NULL;
	size_t n = 0;
	int r = parse_common(argc, argv, ds_usage, true, &o), rc = CLI_OK;

	if (r >= 0)
		return r == CLI_OK + 100 ? CLI_OK : r;
	if (o.remote) {
		cli_api api = remote_opts(&o);

		return cli_api_ds(&api, o.zone, o.digest_set ? o.digest : 0);
	}
	r = open_zone_keys(&o, &cfg, &z, &s);
	if (r != CLI_OK)
		return r;
	now = cli_now();
	if (o.json)
		arr = json_array();
	for (size_t i = 0; i < ks_store_count(s); i++) {
		const ks_key *k = ks_store_key(s, i);
		uint8_t ds[KS_DS_MAX];
		char hex[2 * KS_DS_MAX + 1];
		zk_error e = { 0 };
		int len;

		if (!ks_key_signs_dnskey(k) || !ks_key_is_published(k, now))
			continue;
		len = sgn_key_ds(z->name, k, (uint8_t) o.digest, ds, sizeof(ds), &e);
		if (len < 0) {
			rc = cli_error(z->name, len, &e);
			continue;
		}
		zk_hex_encode(ds + 4, (size_t) len - 4, hex);
		n++;
		if (o.json)
			json_array_append_new(arr, json_pack("{s:s,s:i,s:i,s:i,s:i,s:s,s:s}", "zone",
							     z->name, "ttl", (int) z->policy->parent_ds_ttl,
							     "key_tag", ds[0] << 8 | ds[1], "algorithm", ds[2],
							     "digest_type", ds[3], "digest", hex,
							     "role", ks_role_name(ks_key_role(k))));
		else
			printf("%s\t%u\tIN\tDS\t%u %u %u %s\n", z->name, z->policy->parent_ds_ttl,
			       ds[0] << 8 | ds[1], ds[2], ds[3], hex);
	}
	if (o.json)
		cli_print_json(arr);
	else if (n == 0)
		fprintf(stderr, "zonekeeper ds: %s has no published key-signing key yet "
			"(`zonekeeper sign` generates them)\n", z->name);
	ks_store_free(s);
	pol_config_free(cfg);
	return n ? rc : CLI_FAIL;
}

static const char import_usage[] =
	"Usage: zonekeeper key import --config FILE --zone NAME [--role ksk|zsk|csk] KEYFILE.key\n"
	"\n"
	"Copy a key made by dnssec-keygen, ldns-keygen or another zonekeeper (its .key file;\n"
	"the .private file beside it) into the zone's key store, published and active now.\n"
	"The role defaults to the key's flags (257: KSK, 256: ZSK).\n";

int cmd_key(int argc, char **argv)
{
	struct common o;
	pol_config *cfg;
	const pol_zone *z;
	ks_store *s;
	ks_key *k = NULL;
	zk_error e = { 0 };
	zk_time_t now;
	ks_timing t;
	int r;

	if (argc < 2 || strcmp(argv[1], "import") != 0) {
		if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
			fputs(import_usage, stdout);
			return CLI_OK;
		}
		fputs(import_usage, stderr);
		return CLI_USAGE;
	}
	r = parse_common(argc - 1, argv + 1, import_usage, false, &o);
	if (r >= 0)
		return r == CLI_OK + 100 ? CLI_OK : r;
	if (optind != argc - 2) {
		fputs(import_usage, stderr);
		return CLI_USAGE;
	}
	r = open_zone_keys(&o, &cfg, &z, &s);
	if (r != CLI_OK)
		return r;
	now = cli_now();
	t = (ks_timing) { .created = now, .publish = now, .active = now };
	r = ks_store_import(s, argv[optind + 1], o.role, &t, &k, &e);
	if (r < 0) {
		r = cli_error(argv[optind + 1], r, &e);
	} else {
		printf("%s: imported %s as %s, tag %u\n", z->name, ks_key_basename(k),
		       ks_role_name(ks_key_role(k)), ks_key_tag(k));
		r = CLI_OK;
	}
	ks_store_free(s);
	pol_config_free(cfg);
	return r;
}
