/* SPDX-License-Identifier: MIT */
/*
 * signer/cli/keys.c -- `zonekeeper keys`, `zonekeeper ds`, `zonekeeper key import`.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "keystore/keystore.h"
#include "policy/zk-codec.h"
#include "policy/zk-macro.h"
#include "signer/cli/cli.h"
#include "signer/keyview.h"
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

/* The zone's key store and key states (read only: nothing is generated or saved). */
static int open_zone_keys(const struct common *o, pol_config **ret_cfg, const pol_zone **ret_z,
			  ks_store **ret, ks_ring *ring)
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
	r = ring ? sgn_ring_open(cfg, z, &cli_diag, cli_now(), ret, ring, &e)
		 : sgn_keys_open(cfg, z, &cli_diag, ret, &e);
	if (r < 0) {
		cli_error(z->name, r, &e);
		/* the usual cause: an operator who is not the service's user */
		if (r == -EACCES || r == -EPERM)
			fprintf(stderr, "zonekeeper: the keys of %s belong to the service's user: "
				"ask the running daemon (zonekeeper keys %s), or run this as that "
				"user (sudo -u zonekeeper ...)\n", z->name, z->name);
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
	"List the keys of a zone: tag, role, algorithm, where each stands (generated,\n"
	"published, active, retiring, removing), the state of its DNSKEY, its signatures over\n"
	"the DNSKEY set (KRRSIG) and over the zone (ZRRSIG) and its DS at the parent (hidden,\n"
	"rumoured, omnipresent, unretentive), its timing (RETIRE and REMOVE marked ~ when\n"
	"planned by the key's lifetime), the next key event and what happens then, what a\n"
	"rollover waits for (\"waiting for DS 12345 at the parent\") and the command that\n"
	"moves it on.\n"
	"\n"
	"With --zone NAME the key files and states are read directly (the configuration is\n"
	"required). With ZONE as an argument (or with --socket) the running daemon is asked\n"
	"instead, through its API socket: --socket PATH, else api.socket of --config FILE,\n"
	"else of " CL_DEFAULT_CONFIG ", else " CL_DEFAULT_SOCKET ". --json prints the\n"
	"same object in both modes. Exit status 3: the daemon refused (e.g. ZONE_NOT_FOUND).\n";

int cmd_keys(int argc, char **argv)
{
	_cleanup_free_ ks_ring *ring = calloc(1, sizeof(*ring));
	struct common o;
	pol_config *cfg;
	const pol_zone *z;
	ks_store *s;
	json_t *view;
	int r = parse_common(argc, argv, keys_usage, true, &o);

	if (r >= 0)
		return r == CLI_OK + 100 ? CLI_OK : r;
	if (o.remote) {
		cli_api api = remote_opts(&o);

		return cli_api_keys(&api, o.zone);
	}
	if (!ring)
		return CLI_FAIL;
	r = open_zone_keys(&o, &cfg, &z, &s, ring);
	if (r != CLI_OK)
		return r;
	view = sgn_keys_view(ring, z->policy);
	if (o.json)
		cli_print_json(view);
	else {
		r = cli_print_keys(view, z->name);
		json_decref(view);
	}
	ks_store_free(s);
	pol_config_free(cfg);
	return r;
}

static const char ds_usage[] =
	"Usage: zonekeeper ds --config FILE --zone NAME [--digest 2|4] [--json]\n"
	"       zonekeeper ds ZONE [--socket PATH] [--config FILE] [--digest 2|4] [--json]\n"
	"\n"
	"DS records (RFC 4034 §5) of the zone's key-signing keys that are to stay, to give\n"
	"to the parent zone. Digest 2 is SHA-256 (default), 4 SHA-384; SHA-1 is never made.\n"
	"\n"
	"With --zone NAME the key files are read directly (the configuration is required).\n"
	"With ZONE as an argument (or with --socket) the running daemon is asked instead,\n"
	"through its API socket (found as for `zonekeeper keys`); --digest then keeps only\n"
	"the DS records of that digest type.\n";

int cmd_ds(int argc, char **argv)
{
	_cleanup_free_ ks_ring *ring = calloc(1, sizeof(*ring));
	struct common o;
	pol_config *cfg;
	const pol_zone *z;
	ks_store *s;
	zk_error e = { 0 };
	json_t *ds;
	int r = parse_common(argc, argv, ds_usage, true, &o);

	if (r >= 0)
		return r == CLI_OK + 100 ? CLI_OK : r;
	if (o.remote) {
		cli_api api = remote_opts(&o);

		return cli_api_ds(&api, o.zone, o.digest_set ? o.digest : 0);
	}
	if (!ring)
		return CLI_FAIL;
	r = open_zone_keys(&o, &cfg, &z, &s, ring);
	if (r != CLI_OK)
		return r;
	/* --digest: made even when the policy's cds_digests does not list it */
	ds = sgn_ds_view(ring, z, (uint8_t) o.digest, &e);
	if (!ds) {
		r = cli_error(z->name, ZK_E_KEY, &e);
	} else if (o.json) {
		cli_print_json(ds);
	} else {
		r = cli_print_ds(ds, z->name, o.digest);
		json_decref(ds);
	}
	ks_store_free(s);
	pol_config_free(cfg);
	return r;
}

static const char import_usage[] =
	"Usage: zonekeeper key import --config FILE --zone NAME [--role ksk|zsk|csk] KEYFILE.key\n"
	"\n"
	"Copy a key made by dnssec-keygen, ldns-keygen or another zonekeeper (its .key file;\n"
	"the .private file beside it) into the zone's key store, published and active now.\n"
	"The role defaults to the key's flags (257: KSK, 256: ZSK).\n";

static int cmd_key_import(int argc, char **argv)
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

	r = parse_common(argc, argv, import_usage, false, &o);
	if (r >= 0)
		return r == CLI_OK + 100 ? CLI_OK : r;
	if (optind != argc - 1) {
		fputs(import_usage, stderr);
		return CLI_USAGE;
	}
	r = open_zone_keys(&o, &cfg, &z, &s, NULL);
	if (r != CLI_OK)
		return r;
	now = cli_now();
	t = (ks_timing) { .created = now, .publish = now, .active = now };
	r = ks_store_import(s, argv[optind], o.role, &t, &k, &e);
	if (r < 0) {
		r = cli_error(argv[optind], r, &e);
	} else {
		printf("%s: imported %s as %s, tag %u\n", z->name, ks_key_basename(k),
		       ks_role_name(ks_key_role(k)), ks_key_tag(k));
		r = CLI_OK;
	}
	ks_store_free(s);
	pol_config_free(cfg);
	return r;
}

static const char key_usage[] =
	"Usage: zonekeeper key import --config FILE --zone NAME [--role R] KEYFILE.key\n"
	"       zonekeeper key rollover ZONE --type ksk|zsk|csk [--now]\n"
	"       zonekeeper key ds-seen ZONE TAG [--withdrawn]\n"
	"\n"
	"import works on the key files; rollover and ds-seen ask the running daemon (through\n"
	"its API socket, found as for `zonekeeper keys`). See `zonekeeper key CMD --help`.\n";

int cmd_key(int argc, char **argv)
{
	static const cli_sub subs[] = {
		{ "import", cmd_key_import },
		{ "rollover", cmd_key_rollover },
		{ "ds-seen", cmd_key_ds_seen },
	};

	return cli_dispatch(argc, argv, "key", subs, ZK_ELEMENTSOF(subs), key_usage,
			    "import, rollover or ds-seen");
}
