/* SPDX-License-Identifier: MIT */
/*
 * signer/cli/remote.c -- what every API command shares: the common options, finding the
 * daemon's socket, one request with its error line and exit code.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "signer/cli/cli.h"

/* Seconds one request may take; with --wait the daemon signs and publishes first. */
#define TIMEOUT_PLAIN 60
#define TIMEOUT_WAIT 600

bool cli_api_option(int c, const char *arg, cli_api *o)
{
	switch (c) {
	case CLI_OPT_SOCKET: o->socket = arg; return true;
	case CLI_OPT_CONFIG: o->config = arg; return true;
	case CLI_OPT_JSON: o->json = true; return true;
	case CLI_OPT_WAIT: o->wait = true; return true;
	default: return false;
	}
}

int cli_dispatch(int argc, char **argv, const char *cmd, const cli_sub *subs, size_t n,
		 const char *usage, const char *expected)
{
	if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		fputs(usage, stdout);
		return CLI_OK;
	}
	for (size_t i = 0; argc >= 2 && i < n; i++)
		if (!strcmp(argv[1], subs[i].name))
			return subs[i].fn(argc - 1, argv + 1);
	return cli_usage_error(cmd, "needs %s%s%s", expected, argc >= 2 ? ", not " : "",
			       argc >= 2 ? argv[1] : "");
}

int cli_usage_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "zonekeeper: %s: ", cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, " (see `zonekeeper %s --help`)\n", cmd);
	return CLI_USAGE;
}

/*
 * --socket; else api.socket of --config (which then must load: exit 2 if not); else of
 * the default configuration, when it can be read (it often cannot for a plain user);
 * else the default socket.
 */
static int find_socket(const cli_api *o, char **ret)
{
	pol_config *cfg = NULL;
	zk_error e = { 0 };
	const char *path = o->socket;
	int r;

	if (!path) {
		r = pol_config_load(o->config ? o->config : CL_DEFAULT_CONFIG, NULL, &cfg, &e);
		if (r < 0 && o->config) {
			char buf[1024];

			fprintf(stderr, "zonekeeper: %s: %s\n", zk_code_name(r),
				zk_error_str(&e, r, buf, sizeof(buf)));
			return CLI_USAGE;
		}
		path = cfg && cfg->api.socket ? cfg->api.socket : CL_DEFAULT_SOCKET;
	}
	*ret = strdup(path);
	pol_config_free(cfg);
	if (!*ret) {
		fprintf(stderr, "zonekeeper: INTERNAL: out of memory\n");
		return CLI_FAIL;
	}
	return CLI_OK;
}

int cli_api_open(const cli_api *o, cl_client **ret)
{
	char *socket = NULL;
	int r = find_socket(o, &socket);

	if (r != CLI_OK)
		return r;
	r = cl_client_new(socket, o->wait ? TIMEOUT_WAIT : TIMEOUT_PLAIN, ret);
	free(socket);
	if (r < 0) {
		fprintf(stderr, "zonekeeper: INTERNAL: cannot set up libcurl: %s\n", strerror(-r));
		return CLI_FAIL;
	}
	return CLI_OK;
}

static void print_raw(const cl_response *rsp)
{
	fwrite(rsp->body, 1, rsp->body_len, stdout);
	if (rsp->body_len == 0 || rsp->body[rsp->body_len - 1] != '\n')
		putchar('\n');
}

/* The reply's exit code; with --json the body of a success goes to stdout. */
static int finish(const cl_client *c, const cli_api *o, int r, cl_response *ret)
{
	if (r == -ENOMEM) {
		fprintf(stderr, "zonekeeper: INTERNAL: out of memory\n");
		return CLI_FAIL;
	}
	r = cl_outcome(r, ret, cl_client_socket(c), stderr);
	if (r == CLI_OK && o->json)
		print_raw(ret);
	return r;
}

int cli_api_send(cl_client *c, const cli_api *o, const char *method, const char *path,
		 cl_response *ret)
{
	return finish(c, o, cl_request(c, method, path, NULL, NULL, 0, ret), ret);
}

int cli_api_call(const cli_api *o, const char *method, const char *path, const json_t *body,
		 cl_response *ret)
{
	cl_client *c = NULL;
	int r = cli_api_open(o, &c);

	if (r != CLI_OK)
		return r;
	if (body)
		r = cl_request_json(c, method, path, body, ret);
	else
		r = cl_request(c, method, path, NULL, NULL, 0, ret);
	r = finish(c, o, r, ret);
	cl_client_free(c);
	return r;
}

int cli_api_call_text(const cli_api *o, const char *method, const char *path,
		      const char *text, size_t len, cl_response *ret)
{
	cl_client *c = NULL;
	int r = cli_api_open(o, &c);

	if (r != CLI_OK)
		return r;
	r = finish(c, o, cl_request(c, method, path, "text/plain; charset=utf-8", text, len, ret),
		   ret);
	cl_client_free(c);
	return r;
}
