/* SPDX-License-Identifier: MIT */
/*
 * signer/cli/cli.h -- shared pieces of the `zonekeeper` command line: the one place that
 * prints errors and warnings, the clock, and the subcommands.
 */
#pragma once

#include <stdbool.h>

#include <jansson.h>

#include "policy/policy.h"
#include "policy/zk-error.h"
#include "policy/zk-time.h"
#include "signer/cli/client.h"

/* Exit codes: 0 success, 1 failure, 2 usage or a broken configuration, 3 refused by the
 * daemon (API commands: a 4xx reply with an error body). */
enum { CLI_OK = 0, CLI_FAIL = 1, CLI_USAGE = 2, CLI_REFUSED = 3 };

extern const zk_diag cli_diag; /* warnings to stderr, "zonekeeper: file:line: warning: ..." */

/* Print "zonekeeper: <what>: <error>" (error with file:line) to stderr; returns CLI_FAIL. */
int cli_error(const char *what, int code, const zk_error *e);

/* The clock (real, or ZONEKEEPER_FAKE_TIME). Exits with an error if malformed. */
zk_time_t cli_now(void);

/* Load --config, printing the error; returns NULL on failure. */
pol_config *cli_load_config(const char *path);

/* Print a JSON value to stdout and free it. */
void cli_print_json(json_t *j);

int cmd_sign(int argc, char **argv);
int cmd_verify(int argc, char **argv);
int cmd_keys(int argc, char **argv);
int cmd_ds(int argc, char **argv);
int cmd_key(int argc, char **argv);
int cmd_check_config(int argc, char **argv);
int cmd_simulate(int argc, char **argv);

/* ------------------------------------------------------------------------------------ */
/* Commands that talk to the daemon through its API socket (remote.c, records.c,         */
/* zones.c; transport and formatting in client.h).                                       */

/* Long-only option values shared by the API commands (above any short option). */
enum {
	CLI_OPT_SOCKET = 256,
	CLI_OPT_CONFIG,
	CLI_OPT_JSON,
	CLI_OPT_WAIT,
	CLI_OPT_NAME,
	CLI_OPT_TYPE,
	CLI_OPT_CONTENT,
	CLI_OPT_TTL,
	CLI_OPT_DIGEST,
};

/* getopt_long() entries of the options every API command takes. */
#define CLI_API_OPTIONS \
	{ "socket", required_argument, NULL, CLI_OPT_SOCKET }, \
	{ "config", required_argument, NULL, CLI_OPT_CONFIG }, \
	{ "json", no_argument, NULL, CLI_OPT_JSON }, \
	{ "help", no_argument, NULL, 'h' }

/* The options every API command takes. */
typedef struct cli_api {
	const char *socket; /* --socket; NULL: api.socket of the configuration */
	const char *config; /* --config; NULL: CL_DEFAULT_CONFIG, if it can be read */
	bool json;          /* --json: print the reply's body as it came */
	bool wait;          /* --wait: ?wait=published on writes */
} cli_api;

/* Take option `c` (from CLI_API_OPTIONS, or --wait) into *o; false if it is not one. */
bool cli_api_option(int c, const char *arg, cli_api *o);

/*
 * One request to the daemon: resolve the socket (--socket, else api.socket of --config,
 * else of CL_DEFAULT_CONFIG, else CL_DEFAULT_SOCKET), send `method` `path` with an
 * optional JSON body (borrowed) or text body, and check the reply (cl_outcome(): prints
 * the error line). Returns the exit code; *ret holds the reply (clear it in any case).
 * With o->json and a successful reply, the body has been printed to stdout.
 */
int cli_api_call(const cli_api *o, const char *method, const char *path, const json_t *body,
		 cl_response *ret);
int cli_api_call_text(const cli_api *o, const char *method, const char *path,
		      const char *text, size_t len, cl_response *ret);

/* Several requests on one connection (`status`). */
int cli_api_open(const cli_api *o, cl_client **ret);
int cli_api_send(cl_client *c, const cli_api *o, const char *method, const char *path,
		 cl_response *ret);

/* A subcommand table (`record add`, `zone list`): runs argv[1]'s entry with argc-1,
 * argv+1; prints `usage` for --help; a usage error naming `expected` otherwise. */
typedef struct cli_sub {
	const char *name;
	int (*fn)(int, char **);
} cli_sub;
int cli_dispatch(int argc, char **argv, const char *cmd, const cli_sub *subs, size_t n,
		 const char *usage, const char *expected);

/* "zonekeeper: <cmd>: <why> (see `zonekeeper <cmd> --help`)" on stderr; CLI_USAGE. */
int cli_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

int cmd_record(int argc, char **argv);
int cmd_zone(int argc, char **argv);
int cmd_status(int argc, char **argv);
int cmd_reload(int argc, char **argv);
int cmd_key_rollover(int argc, char **argv); /* `key rollover ZONE --type T` */
int cmd_key_ds_seen(int argc, char **argv);  /* `key ds-seen ZONE TAG` */

/* `keys ZONE` / `ds ZONE`: the daemon's view (keys.c decides which mode). */
int cli_api_keys(const cli_api *o, const char *zone);
/* The key view (signer/keyview.h) as a table, and DS records as zone-file lines. */
int cli_print_keys(const json_t *view, const char *zone);
int cli_print_ds(const json_t *ds, const char *zone, int digest);
int cli_api_ds(const cli_api *o, const char *zone, int digest);
