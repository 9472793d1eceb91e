/* SPDX-License-Identifier: MIT */
/*
 * signer/cli/records.c -- `zonekeeper record add|update|del|list`: the record API of
 * doc/api.md, from the command line.
 */
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/zk-macro.h"
#include "signer/cli/cli.h"

static const char record_usage[] =
	"Usage: zonekeeper record add ZONE NAME TYPE CONTENT... [--ttl N] [--wait]\n"
	"       zonekeeper record update ZONE ID [--name N] [--type T] [--content C]\n"
	"                                [--ttl N] [--wait]\n"
	"       zonekeeper record del ZONE ID [--wait]\n"
	"       zonekeeper record list ZONE [--name N] [--type T]\n"
	"\n"
	"Change a zone's records through the daemon (zonekeeperd). NAME is relative to the\n"
	"zone, absolute with the final dot, or @ for the apex; TYPE a mnemonic or TYPEnnn;\n"
	"CONTENT the RDATA in presentation form (several arguments are joined with spaces;\n"
	"put `--` before content that starts with a dash). ID is the 16-hex-digit id that\n"
	"`record list` shows. A TTL applies to the whole RRset.\n"
	"\n"
	"  --ttl N          TTL in seconds (default: the RRset's, else 3600)\n"
	"  --name N, --type T, --content C\n"
	"                   update: the new value; list: only these records\n"
	"  --wait           return once the signed zone with the change is published,\n"
	"                   and print its serial\n"
	"  --socket PATH    the daemon's API socket (default: api.socket of the configuration)\n"
	"  --config FILE    configuration to take api.socket from\n"
	"                   (default " CL_DEFAULT_CONFIG ", else " CL_DEFAULT_SOCKET ")\n"
	"  --json           print the daemon's JSON reply as it is\n"
	"\n"
	"Exit status: 0 done, 1 failed (daemon unreachable, internal error), 2 usage,\n"
	"3 refused by the daemon (e.g. PROTECTED_RECORD, CNAME_CONFLICT, RECORD_NOT_FOUND).\n";

struct rec_opts {
	cli_api api;
	const char *name, *type, *content, *ttl;
	char **args; /* positional arguments after the subcommand */
	int n_args;
};

/* Options, then the positional arguments; CLI_OK + 100 after --help. */
static int parse(const char *cmd, int argc, char **argv, struct rec_opts *o)
{
	static const struct option opts[] = {
		CLI_API_OPTIONS,
		{ "wait", no_argument, NULL, CLI_OPT_WAIT },
		{ "name", required_argument, NULL, CLI_OPT_NAME },
		{ "type", required_argument, NULL, CLI_OPT_TYPE },
		{ "content", required_argument, NULL, CLI_OPT_CONTENT },
		{ "ttl", required_argument, NULL, CLI_OPT_TTL },
		{ 0 }
	};
	int c;

	memset(o, 0, sizeof(*o));
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (cli_api_option(c, optarg, &o->api))
			continue;
		switch (c) {
		case CLI_OPT_NAME: o->name = optarg; break;
		case CLI_OPT_TYPE: o->type = optarg; break;
		case CLI_OPT_CONTENT: o->content = optarg; break;
		case CLI_OPT_TTL: o->ttl = optarg; break;
		case 'h': fputs(record_usage, stdout); return CLI_OK + 100;
		default:
			return cli_usage_error(cmd, "unknown option or missing value: %s",
					       argv[optind - 1]);
		}
	}
	o->args = argv + optind;
	o->n_args = argc - optind;
	return -1;
}

/* --ttl as a JSON integer: 0 .. 2^31-1 (RFC 2181 §8). */
static int ttl_json(const char *cmd, const char *s, json_t *body)
{
	char *end;
	long long v;

	if (!s)
		return 0;
	v = strtoll(s, &end, 10);
	if (!*s || *end || v < 0 || v > INT32_MAX)
		return cli_usage_error(cmd, "--ttl takes seconds from 0 to 2147483647, not '%s'", s);
	json_object_set_new(body, "ttl", json_integer(v));
	return 0;
}

/* "/v1/zones/ZONE/records[/ID][?wait=published]" */
static int records_path(const char *zone, const char *id, bool wait, char **ret)
{
	const char *segs[] = { "v1", "zones", zone, "records", id };
	const cl_param params[] = { { "wait", wait ? "published" : NULL } };

	if (cl_path(segs, ZK_ELEMENTSOF(segs), params, ZK_ELEMENTSOF(params), ret) < 0) {
		fprintf(stderr, "zonekeeper: INTERNAL: out of memory\n");
		return CLI_FAIL;
	}
	return CLI_OK;
}

static cl_table *records_table(void)
{
	static const char *const headers[] = { "ID", "NAME", "TTL", "TYPE", "CONTENT", "" };

	return cl_table_new(ZK_ELEMENTSOF(headers), headers);
}

static int add_record_row(cl_table *t, const json_t *rec)
{
	char id[64], name[512], ttl[32], type[32], content[8192];
	const char *cells[] = {
		cl_json_text(json_object_get(rec, "id"), id, sizeof(id)),
		cl_json_text(json_object_get(rec, "name"), name, sizeof(name)),
		cl_json_text(json_object_get(rec, "ttl"), ttl, sizeof(ttl)),
		cl_json_text(json_object_get(rec, "type"), type, sizeof(type)),
		cl_json_text(json_object_get(rec, "content"), content, sizeof(content)),
		json_is_true(json_object_get(rec, "system")) ? "system" : "",
	};

	return cl_table_add(t, cells);
}

/* Print `records` (an array, or one object) as a table. */
static int print_records(const json_t *records)
{
	cl_table *t = records_table();
	size_t i;
	const json_t *rec;
	int r = 0;

	if (!t)
		return -1;
	if (json_is_object(records))
		r = add_record_row(t, records);
	else
		json_array_foreach(records, i, rec)
			if (r >= 0)
				r = add_record_row(t, rec);
	if (r >= 0)
		cl_table_print(t, true, stdout);
	cl_table_free(t);
	return r;
}

/* The record of a write, then "created; published in serial N" and the like. */
static int print_write(const cl_response *rsp, const char *what)
{
	const json_t *serial = json_object_get(rsp->json, "serial");

	if (print_records(json_object_get(rsp->json, "record")) < 0) {
		fprintf(stderr, "zonekeeper: INTERNAL: out of memory\n");
		return CLI_FAIL;
	}
	if (json_is_false(json_object_get(rsp->json, "created")))
		printf("already present; nothing changed\n");
	else if (json_is_integer(serial))
		printf("%s; published in serial %" JSON_INTEGER_FORMAT "\n", what,
		       json_integer_value(serial));
	else
		printf("%s; saved, publication follows\n", what);
	return CLI_OK;
}

/* Send a write and print its outcome; `body` may be NULL (DELETE). Takes `body`. */
static int do_write(const struct rec_opts *o, const char *method, const char *zone,
		    const char *id, json_t *body, const char *what)
{
	cl_response rsp = { 0 };
	char *path = NULL;
	int r = records_path(zone, id, o->api.wait, &path);

	if (r == CLI_OK)
		r = cli_api_call(&o->api, method, path, body, &rsp);
	if (r == CLI_OK && !o->api.json)
		r = print_write(&rsp, what);
	cl_response_clear(&rsp);
	free(path);
	json_decref(body);
	return r;
}

/* CONTENT... joined with single spaces. NULL on ENOMEM. */
static char *join(char **args, int n)
{
	size_t len = 1;
	char *s;

	for (int i = 0; i < n; i++)
		len += strlen(args[i]) + 1;
	s = calloc(1, len);
	if (!s)
		return NULL;
	for (int i = 0; i < n; i++) {
		if (i)
			strcat(s, " ");
		strcat(s, args[i]);
	}
	return s;
}

static int record_add(int argc, char **argv)
{
	struct rec_opts o;
	json_t *body;
	char *content;
	int r = parse("record add", argc, argv, &o);

	if (r >= 0)
		return r == CLI_OK + 100 ? CLI_OK : r;
	if (o.n_args < 4)
		return cli_usage_error("record add", "needs ZONE NAME TYPE CONTENT");
	if (o.name || o.type || o.content)
		return cli_usage_error("record add", "NAME, TYPE and CONTENT are arguments here");
	content = join(o.args + 3, o.n_args - 3);
	body = content ? json_pack("{s:s,s:s,s:s}", "name", o.args[1], "type", o.args[2],
				   "content", content) : NULL;
	free(content);
	if (!body) {
		fprintf(stderr, "zonekeeper: INTERNAL: out of memory\n");
		return CLI_FAIL;
	}
	if (ttl_json("record add", o.ttl, body) != 0) {
		json_decref(body);
		return CLI_USAGE;
	}
	return do_write(&o, "POST", o.args[0], NULL, body, "created");
}

static int record_update(int argc, char **argv)
{
	struct rec_opts o;
	json_t *body;
	int r = parse("record update", argc, argv, &o);

	if (r >= 0)
		return r == CLI_OK + 100 ? CLI_OK : r;
	if (o.n_args != 2)
		return cli_usage_error("record update", "needs ZONE ID");
	if (!o.name && !o.type && !o.content && !o.ttl)
		return cli_usage_error("record update",
				       "nothing to change: give --name, --type, --content or --ttl");
	body = json_object();
	if (!body) {
		fprintf(stderr, "zonekeeper: INTERNAL: out of memory\n");
		return CLI_FAIL;
	}
	if (o.name)
		json_object_set_new(body, "name", json_string(o.name));
	if (o.type)
		json_object_set_new(body, "type", json_string(o.type));
	if (o.content)
		json_object_set_new(body, "content", json_string(o.content));
	if (ttl_json("record update", o.ttl, body) != 0) {
		json_decref(body);
		return CLI_USAGE;
	}
	return do_write(&o, "PUT", o.args[0], o.args[1], body, "updated");
}

static int record_del(int argc, char **argv)
{
	struct rec_opts o;
	int r = parse("record del", argc, argv, &o);

	if (r >= 0)
		return r == CLI_OK + 100 ? CLI_OK : r;
	if (o.n_args != 2)
		return cli_usage_error("record del", "needs ZONE ID");
	if (o.name || o.type || o.content || o.ttl)
		return cli_usage_error("record del", "takes no --name, --type, --content, --ttl");
	return do_write(&o, "DELETE", o.args[0], o.args[1], NULL, "deleted");
}

static int record_list(int argc, char **argv)
{
	struct rec_opts o;
	cl_response rsp = { 0 };
	char *path = NULL;
	int r = parse("record list", argc, argv, &o);

	if (r >= 0)
		return r == CLI_OK + 100 ? CLI_OK : r;
	if (o.n_args != 1)
		return cli_usage_error("record list", "needs ZONE");
	if (o.content || o.ttl || o.api.wait)
		return cli_usage_error("record list", "filters by --name and --type only");
	{
		const char *segs[] = { "v1", "zones", o.args[0], "records" };
		const cl_param params[] = { { "name", o.name }, { "type", o.type } };

		if (cl_path(segs, ZK_ELEMENTSOF(segs), params, ZK_ELEMENTSOF(params), &path) < 0) {
			fprintf(stderr, "zonekeeper: INTERNAL: out of memory\n");
			return CLI_FAIL;
		}
	}
	r = cli_api_call(&o.api, "GET", path, NULL, &rsp);
	if (r == CLI_OK && !o.api.json && print_records(json_object_get(rsp.json, "records")) < 0) {
		fprintf(stderr, "zonekeeper: INTERNAL: out of memory\n");
		r = CLI_FAIL;
	}
	cl_response_clear(&rsp);
	free(path);
	return r;
}

int cmd_record(int argc, char **argv)
{
	static const cli_sub subs[] = {
		{ "add", record_add },
		{ "update", record_update },
		{ "del", record_del },
		{ "delete", record_del },
		{ "list", record_list },
	};

	return cli_dispatch(argc, argv, "record", subs, ZK_ELEMENTSOF(subs), record_usage,
			    "add, update, del or list");
}
