/* SPDX-License-Identifier: MIT */
/*
 * signer/cli/sign.c -- `zonekeeper sign` and `zonekeeper check-config`.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/zk-macro.h"
#include "signer/cli/cli.h"
#include "signer/lock.h"
#include "signer/signer.h"

static void sign_usage(FILE *f)
{
	fputs("Usage: zonekeeper sign --config FILE [--zone NAME]... [--full]\n"
	      "                       [--verify standard|full] [--json]\n"
	      "\n"
	      "Sign each configured zone (or the ones named) from its input file and publish\n"
	      "it atomically to its output file. Signatures of the last publication that are\n"
	      "still good are reused; a zone whose input, keys and policy did not change and\n"
	      "whose signatures are not due is left as it is. A zone that fails its own\n"
	      "verification is not published.\n"
	      "\n"
	      "  --config FILE    configuration file\n"
	      "  --zone NAME      only this zone (repeatable)\n"
	      "  --full           make every signature anew\n"
	      "  --verify LEVEL   standard (structural + sample) or full (every signature);\n"
	      "                   default: the zone policy's `verify`\n"
	      "  --json           print the result as JSON\n",
	      f);
}

static json_t *result_json(const pol_zone *z, const sgn_run_result *res, int r,
			   const zk_error *e)
{
	json_t *j = json_object();

	json_object_set_new(j, "zone", json_string(z->name));
	json_object_set_new(j, "ok", json_boolean(r == 0));
	if (r < 0) {
		json_object_set_new(j, "error", json_pack("{s:s,s:s,s:s,s:i}", "code",
							  zk_code_name(r), "message", e->message,
							  "file", e->file, "line", (int) e->line));
		if (res->verify.n_problems) {
			json_t *a = json_array();

			for (unsigned i = 0; i < res->verify.n_problems &&
					     i < SGN_VERIFY_MAX_PROBLEMS; i++)
				json_array_append_new(a, json_string(res->verify.problems[i]));
			json_object_set_new(j, "problems", a);
		}
		return j;
	}
	json_object_set_new(j, "published", json_boolean(res->published));
	json_object_set_new(j, "serial", json_integer(res->serial));
	json_object_set_new(j, "output", json_string(res->output));
	json_object_set_new(j, "names", json_integer((json_int_t) res->names));
	json_object_set_new(j, "rrsets", json_integer((json_int_t) res->rrsets));
	json_object_set_new(j, "keys_generated", json_integer((json_int_t) res->keys_generated));
	json_object_set_new(j, "signatures", json_pack("{s:I,s:I,s:I,s:I}", "made",
			    (json_int_t) res->sign.made, "kept", (json_int_t) res->sign.kept,
			    "dropped", (json_int_t) res->sign.dropped, "rrsets_signed",
			    (json_int_t) res->sign.rrsets_signed));
	json_object_set_new(j, "verified", json_pack("{s:I,s:I}", "signatures",
			    (json_int_t) res->verify.signatures, "cryptographically",
			    (json_int_t) res->verify.verified));
	json_object_set_new(j, "earliest_expiry", json_integer(res->sign.earliest_expiry));
	json_object_set_new(j, "keys", json_pack("{s:I,s:I,s:s,s:I}", "dnskey_response",
			    (json_int_t) res->dnskey_response, "next_key_event",
			    (json_int_t) res->key_next, "waiting", res->key_status,
			    "moves", (json_int_t) res->key_moves));
	json_object_set_new(j, "seconds", json_pack("{s:f,s:f,s:f,s:f}", "load", res->t_load,
			    "sign", res->t_sign, "verify", res->t_verify, "write", res->t_write));
	return j;
}

static void result_text(const pol_zone *z, const sgn_run_result *res)
{
	char ts[32];

	if (res->keys_generated)
		printf("%s: generated %zu key%s\n", z->name, res->keys_generated,
		       res->keys_generated == 1 ? "" : "s");
	if (!res->published) {
		printf("%s: unchanged, serial %u stays published in %s\n", z->name, res->serial,
		       res->output);
		return;
	}
	printf("%s: published serial %u to %s\n", z->name, res->serial, res->output);
	printf("  %zu names, %zu RRsets; signatures: %zu made, %zu kept, %zu dropped\n",
	       res->names, res->rrsets, res->sign.made, res->sign.kept, res->sign.dropped);
	printf("  verified: %zu signatures checked, %zu cryptographically; earliest expiry %s\n",
	       res->verify.signatures, res->verify.verified,
	       zk_time_iso(res->sign.earliest_expiry, ts, sizeof(ts)));
	printf("  time: load %.2fs, sign %.2fs, verify %.2fs, write %.2fs\n", res->t_load,
	       res->t_sign, res->t_verify, res->t_write);
	printf("  keys: DNSKEY answer %zu bytes (budget %u)%s%s; next key event %s\n",
	       res->dnskey_response, z->policy->dnskey_size_budget,
	       res->key_status[0] ? "; " : "", res->key_status,
	       res->key_next ? zk_time_iso(res->key_next, ts, sizeof(ts)) : "none");
}

int cmd_sign(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "zone", required_argument, NULL, 'z' },
		{ "full", no_argument, NULL, 'F' },
		{ "verify", required_argument, NULL, 'v' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	const char *config = NULL, *zones[64];
	size_t n_zones = 0;
	bool json = false;
	sgn_run_opts ro = { .diag = &cli_diag, .verify_level = -1 };
	sgn_lock *lock = NULL;
	zk_error le = { 0 };
	pol_config *cfg;
	json_t *all = NULL;
	int c, rc = CLI_OK;

	while ((c = getopt_long(argc, argv, "c:z:Fv:jh", opts, NULL)) != -1) {
		switch (c) {
		case 'c': config = optarg; break;
		case 'z':
			if (n_zones == ZK_ELEMENTSOF(zones)) {
				fprintf(stderr, "zonekeeper sign: too many --zone\n");
				return CLI_USAGE;
			}
			zones[n_zones++] = optarg;
			break;
		case 'F': ro.full_resign = true; break;
		case 'v':
			if (!strcmp(optarg, "full"))
				ro.verify_level = POL_VERIFY_FULL;
			else if (!strcmp(optarg, "standard"))
				ro.verify_level = POL_VERIFY_STANDARD;
			else {
				fprintf(stderr, "zonekeeper sign: --verify takes standard or full\n");
				return CLI_USAGE;
			}
			break;
		case 'j': json = true; break;
		case 'h': sign_usage(stdout); return CLI_OK;
		default: sign_usage(stderr); return CLI_USAGE;
		}
	}
	if (optind != argc || !config) {
		sign_usage(stderr);
		return CLI_USAGE;
	}
	cfg = cli_load_config(config);
	if (!cfg)
		return CLI_USAGE;
	for (size_t i = 0; i < n_zones; i++)
		if (!pol_config_zone(cfg, zones[i])) {
			fprintf(stderr, "zonekeeper sign: zone %s is not in %s [ZONE_NOT_FOUND]\n",
				zones[i], config);
			pol_config_free(cfg);
			return CLI_FAIL;
		}
	if (cfg->n_zones == 0)
		fprintf(stderr, "zonekeeper sign: %s configures no zones\n", config);
	/* one publisher: never beside a running zonekeeperd (signer/lock.h) */
	if (sgn_lock_take(cfg->paths.state_dir, SGN_LOCK_TOOL, &lock, &le) < 0) {
		cli_error("nothing signed", le.code, &le);
		pol_config_free(cfg);
		return CLI_FAIL;
	}
	ro.now = cli_now();
	if (json)
		all = json_array();
	for (size_t i = 0; i < cfg->n_zones; i++) {
		const pol_zone *z = &cfg->zones[i];
		sgn_run_result res;
		zk_error e = { 0 };
		bool wanted = n_zones == 0;
		int r;

		for (size_t k = 0; k < n_zones && !wanted; k++)
			wanted = pol_config_zone(cfg, zones[k]) == z;
		if (!wanted)
			continue;
		r = sgn_run(cfg, z, &ro, &res, &e);
		if (json)
			json_array_append_new(all, result_json(z, &res, r, &e));
		if (r < 0) {
			char what[600];

			snprintf(what, sizeof(what), "%s not published", z->name);
			cli_error(what, r, &e);
			for (unsigned k = 1; k < res.verify.n_problems && k < SGN_VERIFY_MAX_PROBLEMS;
			     k++)
				fprintf(stderr, "zonekeeper:   also: %s\n", res.verify.problems[k]);
			rc = CLI_FAIL;
		} else if (!json) {
			result_text(z, &res);
		}
	}
	if (json)
		cli_print_json(all);
	sgn_lock_free(lock);
	pol_config_free(cfg);
	return rc;
}

int cmd_check_config(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	const char *config = NULL;
	pol_config *cfg;
	int c;

	while ((c = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
		switch (c) {
		case 'c': config = optarg; break;
		case 'h':
			puts("Usage: zonekeeper check-config --config FILE\n\n"
			     "Parse and check the configuration exactly as the daemon does, and\n"
			     "that the state and output directories exist or can be created and\n"
			     "are writable by the user running this (an input directory that is\n"
			     "not writable: a warning).");
			return CLI_OK;
		default: return CLI_USAGE;
		}
	}
	if (optind != argc || !config) {
		fprintf(stderr, "Usage: zonekeeper check-config --config FILE\n");
		return CLI_USAGE;
	}
	cfg = cli_load_config(config);
	if (!cfg)
		return CLI_USAGE;
	{
		zk_error e = { 0 };
		int r = sgn_check_paths(cfg, &cli_diag, &e);

		if (r < 0) {
			pol_config_free(cfg);
			cli_error(config, r, &e);
			return CLI_USAGE;
		}
	}
	printf("%s: ok, %zu polic%s, %zu zone%s\n", config, cfg->n_policies,
	       cfg->n_policies == 1 ? "y" : "ies", cfg->n_zones, cfg->n_zones == 1 ? "" : "s");
	pol_config_free(cfg);
	return CLI_OK;
}
