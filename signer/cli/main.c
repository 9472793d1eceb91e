/* SPDX-License-Identifier: MIT */
/*
 * signer/cli/main.c -- `zonekeeper`: dispatch to the subcommands, and the helpers they
 * share. The only place of the CLI that writes errors and warnings.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "signer/cli/cli.h"

#define VERSION "0.1.0"

static void diag_emit(void *userdata, zk_level level, const char *file, unsigned line,
		      const char *message)
{
	static const char *const names[] = { "error", "warning", "notice", "info", "debug" };

	(void) userdata;
	if (level > ZK_LOG_NOTICE && !getenv("ZONEKEEPER_DEBUG"))
		return;
	if (file && *file && line)
		fprintf(stderr, "zonekeeper: %s:%u: %s: %s\n", file, line, names[level], message);
	else if (file && *file)
		fprintf(stderr, "zonekeeper: %s: %s: %s\n", file, names[level], message);
	else
		fprintf(stderr, "zonekeeper: %s: %s\n", names[level], message);
}

const zk_diag cli_diag = { .emit = diag_emit };

int cli_error(const char *what, int code, const zk_error *e)
{
	char buf[1024];

	fprintf(stderr, "zonekeeper: %s%s%s [%s]\n", what ? what : "", what ? ": " : "",
		zk_error_str(e, code, buf, sizeof(buf)), zk_code_name(code));
	return CLI_FAIL;
}

zk_time_t cli_now(void)
{
	zk_error e = { 0 };
	zk_clock c;

	if (zk_clock_from_env(&c, &e) < 0) {
		cli_error(NULL, e.code, &e);
		exit(CLI_USAGE);
	}
	return zk_clock_now(&c);
}

pol_config *cli_load_config(const char *path)
{
	pol_config *c = NULL;
	zk_error e = { 0 };
	int r;

	if (!path) {
		fprintf(stderr, "zonekeeper: --config FILE is required\n");
		return NULL;
	}
	r = pol_config_load(path, &cli_diag, &c, &e);
	if (r < 0) {
		cli_error("configuration rejected", r, &e);
		return NULL;
	}
	return c;
}

void cli_print_json(json_t *j)
{
	char *s = json_dumps(j, JSON_INDENT(2) | JSON_SORT_KEYS);

	if (s) {
		puts(s);
		free(s);
	}
	json_decref(j);
}

static void usage(FILE *f)
{
	fputs("Usage: zonekeeper COMMAND [OPTIONS]\n"
	      "\n"
	      "DNSSEC signing and SOA serial management (one-shot commands).\n"
	      "\n"
	      "Commands:\n"
	      "  sign --config FILE [--zone NAME]... [--full] [--verify standard|full] [--json]\n"
	      "        sign the configured zones and publish them to their output files\n"
	      "  verify --origin NAME [--time T] [--min-validity DUR] [--anchors FILE]\n"
	      "         [--sample] [--json] SIGNED_FILE\n"
	      "        check a signed zone; exit 0 only if it is valid\n"
	      "  keys --config FILE --zone NAME [--json]\n"
	      "  keys ZONE [--socket PATH] [--json]\n"
	      "        list a zone's keys: role, algorithm, tag, DNSKEY/RRSIG/DS states, timings\n"
	      "        and what a rollover waits for (from the key files with --zone, from the\n"
	      "        daemon with a ZONE argument)\n"
	      "  ds --config FILE --zone NAME [--digest 2|4] [--json]\n"
	      "  ds ZONE [--socket PATH] [--digest 2|4] [--json]\n"
	      "        DS records to give to the parent zone\n"
	      "  key import --config FILE --zone NAME [--role ksk|zsk|csk] KEYFILE.key\n"
	      "        copy a key made by dnssec-keygen, ldns-keygen or zonekeeper into a zone\n"
	      "  check-config --config FILE\n"
	      "        parse and check the configuration, as the daemon would\n"
	      "  simulate --config FILE --zone NAME --days N [--start T]\n"
	      "           [--ds-delay DURATION|never] [--json] [--out DIR [--switch DAYS:POLICY]]\n"
	      "        the key events the zone's policy produces over N days (nothing written);\n"
	      "        --out signs for real over the simulated days and keeps every version\n"
	      "\n"
	      "Through the daemon's API socket (--socket PATH, default: api.socket of --config\n"
	      "FILE or of " CL_DEFAULT_CONFIG "; --json prints the daemon's reply):\n"
	      "  status                      the daemon and each zone's state\n"
	      "  reload                      reload the daemon's configuration, wait until applied\n"
	      "  zone list [--state S] [--page-size N] | zone show ZONE\n"
	      "        the zones and their publication state\n"
	      "  zone import ZONE FILE [--wait]\n"
	      "        replace a zone's records; prints what was stripped and why\n"
	      "  zone add ZONE [--policy P] [--file FILE] [--wait]\n"
	      "        create a zone; with --wait prints its serial and DS records\n"
	      "  zone delete ZONE [--force] | zone restore ZONE\n"
	      "        archive a zone (input, state, keys) and stop serving it; bring it back\n"
	      "  record list ZONE [--name N] [--type T]\n"
	      "  record add ZONE NAME TYPE CONTENT [--ttl N] [--wait]\n"
	      "  record update ZONE ID [--name N] [--type T] [--content C] [--ttl N] [--wait]\n"
	      "  record del ZONE ID [--wait]\n"
	      "  key rollover ZONE --type ksk|zsk|csk [--now]\n"
	      "        start a rollover now; it proceeds at the pace the TTLs allow\n"
	      "  key ds-seen ZONE TAG [--withdrawn]\n"
	      "        the DS of key TAG is at the parent (or gone), as parental agents confirm\n"
	      "\n"
	      "Every command takes --help. ZONEKEEPER_FAKE_TIME=<start>[@<speed>] sets the clock\n"
	      "(tests, simulations). Exit status: 0 success, 1 failure, 2 usage or configuration,\n"
	      "3 refused by the daemon (an API error such as PROTECTED_RECORD).\n",
	      f);
}

int main(int argc, char **argv)
{
	static const struct {
		const char *name;
		int (*fn)(int, char **);
	} cmds[] = {
		{ "sign", cmd_sign },
		{ "verify", cmd_verify },
		{ "keys", cmd_keys },
		{ "ds", cmd_ds },
		{ "key", cmd_key },
		{ "check-config", cmd_check_config },
		{ "simulate", cmd_simulate },
		{ "status", cmd_status },
		{ "reload", cmd_reload },
		{ "zone", cmd_zone },
		{ "record", cmd_record },
	};

	if (argc < 2) {
		usage(stderr);
		return CLI_USAGE;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		usage(stdout);
		return CLI_OK;
	}
	if (!strcmp(argv[1], "--version")) {
		printf("zonekeeper %s\n", VERSION);
		return CLI_OK;
	}
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (!strcmp(argv[1], cmds[i].name))
			return cmds[i].fn(argc - 1, argv + 1);
	fprintf(stderr, "zonekeeper: unknown command '%s' (try --help)\n", argv[1]);
	return CLI_USAGE;
}
