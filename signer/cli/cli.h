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

/* Exit codes: 0 success, 1 failure or refusal, 2 usage or a broken configuration. */
enum { CLI_OK = 0, CLI_FAIL = 1, CLI_USAGE = 2 };

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
