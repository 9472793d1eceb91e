/* SPDX-License-Identifier: MIT */
/*
 * signer/cli/zones.c -- `zonekeeper zone list|show|import|add|delete|restore`,
 * `zonekeeper status`, `zonekeeper reload`, and the daemon's side of `zonekeeper keys ZONE` / `zonekeeper ds ZONE`.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "keystore/keystore.h"
#include "policy/zk-macro.h"
#include "signer/cli/cli.h"
#include "signer/rdata.h"

#define COMMON_HELP \
	"  --socket PATH    the daemon's API socket (default: api.socket of the configuration)\n" \
	"  --config FILE    configuration to take api.socket from\n" \
	"                   (default " CL_DEFAULT_CONFIG ", else " CL_DEFAULT_SOCKET ")\n" \
	"  --json           print the daemon's JSON reply as it is\n"

static const char zone_usage[] =
	"Usage: zonekeeper zone list [--state S] [--page-size N]\n"
	"       zonekeeper zone show ZONE\n"
	"       zonekeeper zone import ZONE FILE [--wait]\n"
	"       zonekeeper zone add ZONE [--policy P] [--file FILE] [--wait]\n"
	"       zonekeeper zone delete ZONE [--force]\n"
	"       zonekeeper zone restore ZONE\n"
	"\n"
	"The zones the daemon (zonekeeperd) serves. `import` replaces the zone's records with\n"
	"those of FILE (zone-file text; `-` reads standard input): the records zonekeeper owns\n"
	"(SOA, DNSSEC records, the platform's apex NS) are stripped, and each stripped RRset\n"
	"is printed with the reason.\n"
	"\n"
	"`add` creates a zone, empty or with the records of --file (stripped as for `import`),\n"
	"and prints it. `delete` stops serving a zone created that way: its input, state and\n"
	"keys go to an archive under the daemon's state directory, and the archive's path and\n"
	"until when `restore` can bring the zone back (with the same keys, so the same DS)\n"
	"are printed. While the zone's DS is known to be at the parent, `delete` is refused\n"
	"(DS_AT_PARENT): switch the zone to a policy with insecure = true, wait until the\n"
	"parent's DS is gone, then delete it. Zones of the configuration file are deleted by\n"
	"editing that file (ZONE_IN_CONFIG).\n"
	"\n"
	"  --state S        list: only zones in state S (ok, error, pending, signing, loading)\n"
	"  --page-size N    list: ask for N zones per request (1 to 10000; default the\n"
	"                   daemon's, 1000); every page is fetched\n"
	"  --policy P       add: the policy of the configuration to sign with (default: the\n"
	"                   configuration's default policy)\n"
	"  --file FILE      add: the zone's records, zone-file text (`-` reads standard input)\n"
	"  --force          delete: even while its DS is at the parent (wherever the zone is\n"
	"                   served next without these keys, it is bogus until the DS goes)\n"
	"  --wait           import, add: return once the signed zone is published, and print\n"
	"                   its serial (add: and its DS records for the parent)\n"
	COMMON_HELP
	"\n"
	"Exit status: 0 done, 1 failed, 2 usage, 3 refused by the daemon (e.g. ZONE_NOT_FOUND,\n"
	"ZONE_EXISTS, ZONE_IN_CONFIG, DS_AT_PARENT).\n";

static const char status_usage[] =
	"Usage: zonekeeper status [--socket PATH] [--config FILE] [--json]\n"
	"\n"
	"Whether the daemon answers, and one line per zone: name, state, serial, last\n"
	"publication, next event, last error. --json prints the zones as GET /v1/zones\n"
	"gives them, every page in one reply.\n"
	"\n"
	COMMON_HELP
	"\n"
	"Exit status: 0 the daemon answers (zones in error included), 1 it does not, 2 usage.\n";

static const char reload_usage[] =
	"Usage: zonekeeper reload [--socket PATH] [--config FILE] [--json]\n"
	"\n"
	"Make the daemon read its configuration again, as SIGHUP does, and wait until it has\n"
	"been applied (after the zones being signed at that moment): zones added are queued,\n"
	"changed ones signed again, removed ones stop; the others are left alone. Prints how\n"
	"many zones were added, changed and removed. A configuration that does not load is\n"
	"refused and the running one kept: the error is printed and the exit status is 3,\n"
	"so a `systemctl reload` whose ExecReload= runs this command fails with it.\n"
	"\n"
	COMMON_HELP
	"\n"
	"Exit status: 0 applied, 1 the daemon does not answer, 2 usage, 3 refused.\n";

static void oom(void)
{
	fprintf(stderr, "zonekeeper: INTERNAL: out of memory\n");
}

/* Options and positional arguments; `n_min`..`n_max` of them. CLI_OK + 100 after --help. */
/*
 * Options of an API command: CLI_API_OPTIONS, then `extra` (taken by `take`, which may be
 * NULL when there are none of its own), and between n_min and n_max arguments.
 */
static int parse_opts(const char *cmd, const char *usage, int argc, char **argv, int n_min,
		      int n_max, const struct option *extra, size_t n_extra, cli_api *o,
		      bool (*take)(int c, const char *arg, void *ud), void *ud)
{
	struct option opts[16] = { CLI_API_OPTIONS };
	size_t n = 4;
	int c;

	for (size_t i = 0; i < n_extra && n < ZK_ELEMENTSOF(opts) - 1; i++)
		opts[n++] = extra[i];
	memset(o, 0, sizeof(*o));
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (c == 'h') {
			fputs(usage, stdout);
			return CLI_OK + 100;
		}
		if (!cli_api_option(c, optarg, o) && !(take && take(c, optarg, ud)))
			return cli_usage_error(cmd, "unknown option or missing value: %s",
					       argv[optind - 1]);
	}
	if (argc - optind < n_min || argc - optind > n_max)
		return cli_usage_error(cmd, "wrong number of arguments");
	return -1;
}

static int parse(const char *cmd, const char *usage, int argc, char **argv, int n_min,
		 int n_max, cli_api *o, bool wait_ok)
{
	static const struct option wait[] = { { "wait", no_argument, NULL, CLI_OPT_WAIT } };
	int r = parse_opts(cmd, usage, argc, argv, n_min, n_max, wait, 1, o, NULL, NULL);

	if (r < 0 && o->wait && !wait_ok)
		return cli_usage_error(cmd, "takes no --wait");
	return r;
}

/* The options of `zone list|add|delete` beyond the common ones. */
struct zone_args {
	const char *state, *page_size; /* list */
	const char *policy, *file;     /* add */
	bool force;                    /* delete */
};

static bool take_zone_option(int c, const char *arg, void *ud)
{
	struct zone_args *a = ud;

	switch (c) {
	case 's': a->state = arg; return true;
	case 'n': a->page_size = arg; return true;
	case 'p': a->policy = arg; return true;
	case 'f': a->file = arg; return true;
	case 'F': a->force = true; return true;
	default: return false;
	}
}

/* "/v1/zones[/ZONE[/WHAT]][?wait=WAIT]": a NULL part is left out. */
static int zone_path(const char *zone, const char *what, const char *wait, char **ret)
{
	const char *segs[] = { "v1", "zones", zone, what };
	const cl_param params[] = { { "wait", wait } };

	if (cl_path(segs, ZK_ELEMENTSOF(segs), params, ZK_ELEMENTSOF(params), ret) < 0) {
		oom();
		return CLI_FAIL;
	}
	return CLI_OK;
}

/* Table cell for key `k` of object `o`. */
#define CELL(o, k, buf) cl_json_text(json_object_get((o), (k)), (buf), sizeof(buf))

/* ---------------------------------------------------------------------- zone list */

/* A table of `rows` (a JSON array), one row each from `add`; NULL when memory runs out. */
static cl_table *table_of(const json_t *rows, const char *const *headers, size_t n_cols,
			  int (*add)(cl_table *, const json_t *))
{
	cl_table *t = cl_table_new(n_cols, headers);
	const json_t *row;
	size_t i;

	json_array_foreach(rows, i, row)
		if (t && add(t, row) < 0)
			t = cl_table_free(t);
	return t;
}

static int add_zone_row(cl_table *t, const json_t *z)
{
	char name[512], state[32], serial[32], names[32], rrsets[32], published[64];
	const char *cells[] = {
		CELL(z, "name", name), CELL(z, "state", state), CELL(z, "serial", serial),
		CELL(z, "names", names), CELL(z, "rrsets", rrsets),
		CELL(z, "last_published", published),
	};

	return cl_table_add(t, cells);
}

/* Whether `next` (of a page of `n` zones asked for after `after`) moves the listing on. */
static bool advances(const json_t *next, size_t n, const char *after)
{
	if (!next || json_is_null(next))
		return true; /* the last page (no `next` at all: a daemon without paging) */
	return json_is_string(next) && n > 0 && !(after && !strcmp(after, json_string_value(next)));
}

/* One page of GET /v1/zones appended to `all`; *after becomes its `next` (NULL: the last). */
static int fetch_page(cl_client *c, const cli_api *o, const char *state, const char *limit,
		      char **after, json_t *all)
{
	const char *segs[] = { "v1", "zones" };
	const cl_param params[] = { { "state", state }, { "limit", limit }, { "after", *after } };
	cl_response rsp = { 0 };
	json_t *zones, *next;
	char *path = NULL, *n = NULL;
	int r;

	if (cl_path(segs, ZK_ELEMENTSOF(segs), params, ZK_ELEMENTSOF(params), &path) < 0) {
		oom();
		return CLI_FAIL;
	}
	r = cli_api_send(c, o, "GET", path, &rsp);
	free(path);
	zones = json_object_get(rsp.json, "zones");
	next = json_object_get(rsp.json, "next");
	if (r == CLI_OK && (!json_is_array(zones) ||
			    !advances(next, json_array_size(zones), *after))) {
		/* asking again would loop for ever */
		fprintf(stderr, "zonekeeper: BAD_RESPONSE: the zone list from %s does not "
			"advance after %s\n", cl_client_socket(c), *after ? *after : "the start");
		r = CLI_FAIL;
	}
	if (r == CLI_OK && ((json_is_string(next) && !(n = strdup(json_string_value(next)))) ||
			    json_array_extend(all, zones) < 0)) {
		oom();
		r = CLI_FAIL;
	}
	cl_response_clear(&rsp);
	free(*after);
	*after = n;
	return r;
}

/*
 * Every zone (in state `state`, NULL: all), following `next` page after page of `limit`
 * (NULL: the daemon's default) on one connection. On CLI_OK *ret is
 * {"status":"ok","zones":[...],"next":null}, as if one reply had held them all; the
 * error line is printed otherwise. The pages are not printed, whatever o->json says.
 */
static int fetch_zones(cl_client *c, const cli_api *o, const char *state, const char *limit,
		       json_t **ret)
{
	json_t *all = json_array();
	char *after = NULL;
	cli_api quiet = *o;
	int r = CLI_OK;

	quiet.json = false;
	if (!all) {
		oom();
		return CLI_FAIL;
	}
	do {
		r = fetch_page(c, &quiet, state, limit, &after, all);
	} while (r == CLI_OK && after);
	free(after);
	if (r == CLI_OK) {
		*ret = json_pack("{s:s,s:O,s:n}", "status", "ok", "zones", all, "next");
		if (!*ret) {
			oom();
			r = CLI_FAIL;
		}
	}
	json_decref(all);
	return r;
}

static int zone_list(int argc, char **argv)
{
	static const char *const headers[] = { "NAME", "STATE", "SERIAL", "NAMES", "RRSETS",
					       "LAST PUBLISHED" };
	static const struct option extra[] = {
		{ "state", required_argument, NULL, 's' },
		{ "page-size", required_argument, NULL, 'n' },
	};
	static const char *const states[] = { "ok", "error", "pending", "signing", "loading" };
	struct zone_args a = { 0 };
	cl_client *c = NULL;
	json_t *reply = NULL;
	cl_table *t = NULL;
	uint32_t size;
	bool known = false;
	cli_api o;
	int r = parse_opts("zone list", zone_usage, argc, argv, 0, 0, extra,
			   ZK_ELEMENTSOF(extra), &o, take_zone_option, &a);

	if (r >= 0)
		return r == CLI_OK + 100 ? CLI_OK : r;
	for (size_t i = 0; a.state && i < ZK_ELEMENTSOF(states); i++)
		known |= !strcmp(a.state, states[i]);
	if (a.state && !known)
		return cli_usage_error("zone list", "--state takes ok, error, pending, signing or "
				       "loading, not '%s'", a.state);
	if (a.page_size && (sgn_parse_uint(a.page_size, strlen(a.page_size), 10000, &size) < 0 ||
			    size == 0))
		return cli_usage_error("zone list", "--page-size takes 1 to 10000, not '%s'",
				       a.page_size);
	r = cli_api_open(&o, &c);
	if (r == CLI_OK)
		r = fetch_zones(c, &o, a.state, a.page_size, &reply);
	if (r == CLI_OK && o.json) {
		cli_print_json(ZK_TAKE(reply));
	} else if (r == CLI_OK) {
		t = table_of(json_object_get(reply, "zones"), headers, ZK_ELEMENTSOF(headers),
			     add_zone_row);
		if (t) {
			cl_table_print(t, true, stdout);
		} else {
			oom();
			r = CLI_FAIL;
		}
	}
	cl_table_free(t);
	json_decref(reply);
	cl_client_free(c);
	return r;
}

/* ---------------------------------------------------------------------- zone show */

static void print_error_object(const char *label, const json_t *e)
{
	const char *file = json_string_value(json_object_get(e, "file"));
	json_int_t line = json_integer_value(json_object_get(e, "line"));
	char code[64], message[1024];

	printf("%-16s %s: %s", label, CELL(e, "code", code), CELL(e, "message", message));
	if (file && *file && line)
		printf(" (%s:%" JSON_INTEGER_FORMAT ")", file, line);
	else if (file && *file)
		printf(" (%s)", file);
	putchar('\n');
}

/* "key: value" lines, in the daemon's order. */
static void print_zone(const json_t *z)
{
	const char *key;
	const json_t *v;
	char label[80], buf[4096];

	json_object_foreach((json_t *) z, key, v) {
		snprintf(label, sizeof(label), "%s:", key);
		if (json_is_object(v) && json_object_get(v, "code"))
			print_error_object(label, v);
		else if (json_is_object(v) || json_is_array(v))
			continue; /* nothing nested today; --json shows everything */
		else
			printf("%-16s %s\n", label, cl_json_text(v, buf, sizeof(buf)));
	}
}

static int zone_show(int argc, char **argv)
{
	const char *segs[] = { "v1", "zones", NULL };
	cl_response rsp = { 0 };
	char *path = NULL;
	cli_api o;
	int r = parse("zone show", zone_usage, argc, argv, 1, 1, &o, false);

	if (r >= 0)
		return r == CLI_OK + 100 ? CLI_OK : r;
	segs[2] = argv[optind];
	if (cl_path(segs, ZK_ELEMENTSOF(segs), NULL, 0, &path) < 0) {
		oom();
		return CLI_FAIL;
	}
	r = cli_api_call(&o, "GET", path, NULL, &rsp);
	if (r == CLI_OK && !o.json)
		print_zone(json_object_get(rsp.json, "zone"));
	cl_response_clear(&rsp);
	free(path);
	return r;
}

/* ---------------------------------------------------------------------- zone import */

/* The whole of `path` ("-": stdin) into *ret (malloc'd) and *ret_len. -errno. */
static int read_all(const char *path, char **ret, size_t *ret_len)
{
	FILE *f = strcmp(path, "-") ? fopen(path, "re") : stdin;
	char *buf = NULL;
	size_t len = 0, cap = 0, n;
	int r = 0;

	if (!f)
		return -errno;
	do {
		if (len + 65536 > cap) {
			char *b = realloc(buf, cap = len + 65536 * 4);

			if (!b) {
				r = -ENOMEM;
				break;
			}
			buf = b;
		}
		n = fread(buf + len, 1, cap - len, f);
		len += n;
	} while (n > 0);
	if (!r && ferror(f))
		r = -EIO;
	if (f != stdin)
		fclose(f);
	if (r < 0) {
		free(buf);
		return r;
	}
	*ret = buf;
	*ret_len = len;
	return 0;
}

/* The stripped RRsets of an import or an add, with the reason each; "nothing stripped". */
static int print_stripped(const json_t *stripped)
{
	static const char *const headers[] = { "NAME", "TYPE", "COUNT", "REASON" };
	char name[512], type[32], count[32], reason[1024];
	cl_table *t = cl_table_new(ZK_ELEMENTSOF(headers), headers);
	const json_t *s;
	size_t i;

	if (!t)
		return -ENOMEM;
	json_array_foreach(stripped, i, s) {
		const char *cells[] = { CELL(s, "name", name), CELL(s, "type", type),
					CELL(s, "count", count), CELL(s, "reason", reason) };

		if (cl_table_add(t, cells) < 0) {
			cl_table_free(t);
			return -ENOMEM;
		}
	}
	if (cl_table_rows(t)) {
		printf("stripped (zonekeeper makes these itself):\n");
		cl_table_print(t, true, stdout);
	} else {
		printf("nothing stripped\n");
	}
	cl_table_free(t);
	return 0;
}

static int print_import(const cl_response *rsp)
{
	const json_t *serial = json_object_get(rsp->json, "serial");
	char n[32], added[32], deleted[32];

	printf("imported %s records", CELL(rsp->json, "records", n));
	if (json_is_integer(json_object_get(rsp->json, "added")))
		printf(" (%s added, %s deleted)", CELL(rsp->json, "added", added),
		       CELL(rsp->json, "deleted", deleted));
	putchar('\n');
	if (print_stripped(json_object_get(rsp->json, "stripped")) < 0)
		return -ENOMEM;
	if (json_is_integer(serial))
		printf("published in serial %" JSON_INTEGER_FORMAT "\n", json_integer_value(serial));
	return 0;
}

static int zone_import(int argc, char **argv)
{
	cl_response rsp = { 0 };
	char *path = NULL, *text = NULL;
	size_t len = 0;
	cli_api o;
	int r = parse("zone import", zone_usage, argc, argv, 2, 2, &o, true);

	if (r >= 0)
		return r == CLI_OK + 100 ? CLI_OK : r;
	r = read_all(argv[optind + 1], &text, &len);
	if (r < 0) {
		fprintf(stderr, "zonekeeper: INPUT: %s: %s\n", argv[optind + 1], strerror(-r));
		return CLI_FAIL;
	}
	r = zone_path(argv[optind], "import", o.wait ? "published" : NULL, &path);
	if (r == CLI_OK)
		r = cli_api_call_text(&o, "POST", path, text, len, &rsp);
	if (r == CLI_OK && !o.json && print_import(&rsp) < 0) {
		oom();
		r = CLI_FAIL;
	}
	cl_response_clear(&rsp);
	free(path);
	free(text);
	return r;
}

/* ---------------------------------------------------------------- zone add, delete, restore */

/*
 * obj[key] = the `len` bytes of `s` as a JSON string. -EINVAL when they are not UTF-8
 * (JSON strings are; jansson refuses them), -ENOMEM.
 */
static int set_text(json_t *obj, const char *key, const char *s, size_t len)
{
	json_t *v = json_stringn(s, len);
	int r;

	if (!v) {
		/* refused for its bytes or for want of memory: the unchecked variant tells */
		v = json_stringn_nocheck(s, len);
		r = v ? -EINVAL : -ENOMEM;
		json_decref(v);
		return r;
	}
	return json_object_set_new(obj, key, v) < 0 ? -ENOMEM : 0;
}

/* The body of POST /v1/zones into *ret; prints the error line otherwise. */
static int add_body(const char *zone, const struct zone_args *a, json_t **ret)
{
	json_t *body = json_object();
	const char *bad = NULL; /* the argument that is not UTF-8 */
	bool read = false;
	char *text = NULL;
	size_t len = 0;
	int r = body ? set_text(body, "name", zone, strlen(zone)) : -ENOMEM;

	if (r == -EINVAL)
		bad = "ZONE";
	if (r == 0 && a->policy && (r = set_text(body, "policy", a->policy,
						   strlen(a->policy))) == -EINVAL)
		bad = "--policy";
	if (r == 0 && a->file) {
		r = read_all(a->file, &text, &len);
		read = r == 0;
		if (read)
			r = set_text(body, "zone", text, len);
		free(text);
	}
	if (r == 0) {
		*ret = body;
		return CLI_OK;
	}
	json_decref(body);
	if (bad)
		return cli_usage_error("zone add", "%s is not UTF-8 text", bad);
	if (r == -ENOMEM)
		oom();
	else if (read) /* -EINVAL */
		fprintf(stderr, "zonekeeper: INPUT: %s: not UTF-8 text (the API carries the zone "
			"as a JSON string; write other octets as \\DDD)\n", a->file);
	else
		fprintf(stderr, "zonekeeper: INPUT: %s: %s\n", a->file, strerror(-r));
	return CLI_FAIL;
}

/* The zone, what was stripped (when a file was sent), the serial, the DS (with --wait). */
static int print_added(const json_t *reply, const char *zone, bool with_file, bool wait)
{
	const json_t *z = json_object_get(reply, "zone");
	const json_t *serial = json_object_get(z, "serial");
	const json_t *ds = json_object_get(reply, "ds");
	const char *name = json_string_value(json_object_get(z, "name"));

	printf("created %s\n", name ? name : zone);
	print_zone(z);
	if ((with_file || json_array_size(json_object_get(reply, "stripped"))) &&
	    print_stripped(json_object_get(reply, "stripped")) < 0)
		return -ENOMEM;
	if (!wait || !json_is_integer(serial)) {
		printf("saved; publication follows\n");
		return 0;
	}
	printf("published in serial %" JSON_INTEGER_FORMAT "\n", json_integer_value(serial));
	if (json_array_size(ds)) {
		printf("DS records for the parent zone:\n");
		cli_print_ds(ds, name ? name : zone, 0);
	} else {
		printf("no DS records for the parent zone (an insecure policy)\n");
	}
	return 0;
}

static int zone_add(int argc, char **argv)
{
	static const struct option extra[] = {
		{ "wait", no_argument, NULL, CLI_OPT_WAIT },
		{ "policy", required_argument, NULL, 'p' },
		{ "file", required_argument, NULL, 'f' },
	};
	struct zone_args a = { 0 };
	cl_response rsp = { 0 };
	json_t *body = NULL;
	char *path = NULL;
	cli_api o;
	int r = parse_opts("zone add", zone_usage, argc, argv, 1, 1, extra, ZK_ELEMENTSOF(extra),
			   &o, take_zone_option, &a);

	if (r >= 0)
		return r == CLI_OK + 100 ? CLI_OK : r;
	r = add_body(argv[optind], &a, &body);
	if (r != CLI_OK)
		return r;
	r = zone_path(NULL, NULL, o.wait ? "published" : NULL, &path);
	if (r == CLI_OK)
		r = cli_api_call(&o, "POST", path, body, &rsp);
	if (r == CLI_OK && !o.json &&
	    print_added(rsp.json, argv[optind], a.file != NULL, o.wait) < 0) {
		oom();
		r = CLI_FAIL;
	}
	cl_response_clear(&rsp);
	json_decref(body);
	free(path);
	return r;
}

static int zone_delete(int argc, char **argv)
{
	static const struct option extra[] = { { "force", no_argument, NULL, 'F' } };
	const char *segs[] = { "v1", "zones", NULL };
	struct zone_args a = { 0 };
	cl_response rsp = { 0 };
	char *path = NULL;
	char name[512], archive[4096], until[64];
	cli_api o;
	int r = parse_opts("zone delete", zone_usage, argc, argv, 1, 1, extra,
			   ZK_ELEMENTSOF(extra), &o, take_zone_option, &a);

	if (r >= 0)
		return r == CLI_OK + 100 ? CLI_OK : r;
	segs[2] = argv[optind];
	{
		const cl_param params[] = { { "force", a.force ? "true" : NULL } };

		if (cl_path(segs, ZK_ELEMENTSOF(segs), params, ZK_ELEMENTSOF(params), &path) < 0) {
			oom();
			return CLI_FAIL;
		}
	}
	r = cli_api_call(&o, "DELETE", path, NULL, &rsp);
	if (r == CLI_OK && !o.json) {
		CELL(rsp.json, "zone", name);
		printf("deleted %s\n", strcmp(name, "-") ? name : argv[optind]);
		printf("archived in %s\n", CELL(rsp.json, "archive", archive));
		printf("restorable until %s with `zonekeeper zone restore %s`\n",
		       CELL(rsp.json, "purge_after", until), argv[optind]);
	}
	cl_response_clear(&rsp);
	free(path);
	return r;
}

static int zone_restore(int argc, char **argv)
{
	cl_response rsp = { 0 };
	char *path = NULL;
	cli_api o;
	int r = parse("zone restore", zone_usage, argc, argv, 1, 1, &o, false);

	if (r >= 0)
		return r == CLI_OK + 100 ? CLI_OK : r;
	r = zone_path(argv[optind], "restore", NULL, &path);
	if (r == CLI_OK)
		r = cli_api_call(&o, "POST", path, NULL, &rsp);
	if (r == CLI_OK && !o.json) {
		const json_t *z = json_object_get(rsp.json, "zone");
		const char *name = json_string_value(json_object_get(z, "name"));

		printf("restored %s with its keys\n", name ? name : argv[optind]);
		print_zone(z);
	}
	cl_response_clear(&rsp);
	free(path);
	return r;
}

int cmd_zone(int argc, char **argv)
{
	static const cli_sub subs[] = {
		{ "list", zone_list },
		{ "show", zone_show },
		{ "import", zone_import },
		{ "add", zone_add },
		{ "delete", zone_delete },
		{ "del", zone_delete },
		{ "restore", zone_restore },
	};

	return cli_dispatch(argc, argv, "zone", subs, ZK_ELEMENTSOF(subs), zone_usage,
			    "list, show, import, add, delete or restore");
}

/* ---------------------------------------------------------------------- status */

static int add_status_row(cl_table *t, const json_t *z)
{
	const json_t *e = json_object_get(z, "error");
	char name[512], state[32], serial[32], published[64], next[64], code[64];
	char error[1100], message[1024], keys[160];
	const char *cells[] = {
		CELL(z, "name", name), CELL(z, "state", state), CELL(z, "serial", serial),
		CELL(z, "last_published", published), CELL(z, "next_event", next),
		CELL(z, "keys_waiting", keys), "",
	};

	if (json_is_object(e)) {
		json_int_t failures = json_integer_value(json_object_get(z, "failures"));
		char retry[64], how[128] = "";

		/* how the daemon copes: the last good version stays out and is re-signed */
		if (json_is_true(json_object_get(z, "input_broken")))
			snprintf(how, sizeof(how), " (the last good version stays published)");
		else if (failures > 0)
			snprintf(how, sizeof(how), " (%lld failed in a row; retry at %s)",
				 (long long) failures, CELL(z, "retry_at", retry));
		snprintf(error, sizeof(error), "%s: %s%s", CELL(e, "code", code),
			 CELL(e, "message", message), how);
		cells[6] = error;
	}
	return cl_table_add(t, cells);
}

static int print_status(const cl_client *c, const json_t *zones)
{
	static const char *const headers[] = { "ZONE", "STATE", "SERIAL", "LAST PUBLISHED",
					       "NEXT EVENT", "KEYS", "ERROR" };
	cl_table *t = table_of(zones, headers, ZK_ELEMENTSOF(headers), add_status_row);

	if (!t)
		return -ENOMEM;
	printf("zonekeeperd: ok on %s, %zu zone%s\n", cl_client_socket(c), json_array_size(zones),
	       json_array_size(zones) == 1 ? "" : "s");
	if (cl_table_rows(t))
		cl_table_print(t, true, stdout);
	cl_table_free(t);
	return 0;
}

int cmd_status(int argc, char **argv)
{
	cl_response health = { 0 };
	cl_client *c = NULL;
	json_t *zones = NULL;
	cli_api o, quiet;
	int r = parse("status", status_usage, argc, argv, 0, 0, &o, false);

	if (r >= 0)
		return r == CLI_OK + 100 ? CLI_OK : r;
	r = cli_api_open(&o, &c);
	if (r != CLI_OK)
		return r;
	quiet = o;
	quiet.json = false; /* --json prints the zones only */
	r = cli_api_send(c, &quiet, "GET", "/v1/health", &health);
	if (r == CLI_OK)
		r = fetch_zones(c, &o, NULL, NULL, &zones);
	if (r == CLI_OK && o.json) {
		cli_print_json(ZK_TAKE(zones));
	} else if (r == CLI_OK && print_status(c, json_object_get(zones, "zones")) < 0) {
		oom();
		r = CLI_FAIL;
	}
	cl_response_clear(&health);
	json_decref(zones);
	cl_client_free(c);
	return r;
}

int cmd_reload(int argc, char **argv)
{
	cl_response rsp = { 0 };
	cli_api o;
	int r = parse("reload", reload_usage, argc, argv, 0, 0, &o, false);

	if (r >= 0)
		return r == CLI_OK + 100 ? CLI_OK : r;
	o.wait = true; /* the long timeout: the reload comes after the running signings */
	r = cli_api_call(&o, "POST", "/v1/reload", NULL, &rsp);
	if (r == CLI_OK && !o.json)
		printf("configuration applied: %lld zones, %lld added, %lld changed, %lld removed\n",
		       (long long) json_integer_value(json_object_get(rsp.json, "zones")),
		       (long long) json_integer_value(json_object_get(rsp.json, "added")),
		       (long long) json_integer_value(json_object_get(rsp.json, "changed")),
		       (long long) json_integer_value(json_object_get(rsp.json, "removed")));
	cl_response_clear(&rsp);
	return r;
}

/* ---------------------------------------------------------------------- keys, ds */

/* A time that happened, else the one planned marked "~" (a lifetime's plan), else "-". */
static const char *time_cell(const json_t *k, const char *field, char *buf, size_t size)
{
	char planned[32];
	const json_t *v = json_object_get(k, field);

	if (json_is_string(v))
		return cl_json_text(v, buf, size);
	snprintf(planned, sizeof(planned), "%s_planned", field);
	v = json_object_get(k, planned);
	if (!json_is_string(v))
		return cl_json_text(v, buf, size);
	snprintf(buf, size, "~%s", json_string_value(v));
	return buf;
}

static int add_key_row(cl_table *t, const json_t *k)
{
	char tag[16], role[16], alg[32], state[32], dnskey[16], krrsig[16], zrrsig[16], ds[16];
	char publish[64], active[64], retire[64], remove[64];
	const char *cells[] = {
		CELL(k, "tag", tag), CELL(k, "role", role), CELL(k, "algorithm", alg),
		CELL(k, "state", state), CELL(k, "dnskey", dnskey), CELL(k, "krrsig", krrsig),
		CELL(k, "zrrsig", zrrsig), CELL(k, "ds", ds), CELL(k, "publish", publish),
		CELL(k, "active", active), time_cell(k, "retire", retire, sizeof(retire)),
		time_cell(k, "remove", remove, sizeof(remove)),
	};

	return cl_table_add(t, cells);
}

/* What unblocks a key that waits for the parent: the command, with this zone's name. */
static void print_unblock(const json_t *keys, const char *zone)
{
	const json_t *k;
	size_t i;

	json_array_foreach(keys, i, k) {
		const char *ds = json_string_value(json_object_get(k, "ds"));
		json_int_t tag = json_integer_value(json_object_get(k, "tag"));

		if (json_is_null(json_object_get(k, "waiting")) || !ds)
			continue;
		if (!strcmp(ds, "rumoured"))
			printf("  give the parent the DS of key %lld (zonekeeper ds %s); once it "
			       "serves it, a parental agent sees it, or say so: zonekeeper key "
			       "ds-seen %s %lld\n", (long long) tag, zone, zone, (long long) tag);
		else if (!strcmp(ds, "unretentive"))
			printf("  ask the parent to remove the DS of key %lld; once it is gone, a "
			       "parental agent sees it, or say so: zonekeeper key ds-seen %s %lld "
			       "--withdrawn\n", (long long) tag, zone, (long long) tag);
	}
}

int cli_print_keys(const json_t *view, const char *zone)
{
	static const char *const headers[] = { "TAG", "ROLE", "ALGORITHM", "STATE", "DNSKEY",
					       "KRRSIG", "ZRRSIG", "DS", "PUBLISH", "ACTIVE",
					       "RETIRE", "REMOVE" };
	const json_t *keys = json_object_get(view, "keys");
	const char *next = json_string_value(json_object_get(view, "next_key_event"));
	const char *action = json_string_value(json_object_get(view, "next_key_action"));
	const char *waiting = json_string_value(json_object_get(view, "waiting"));
	const char *perr = json_string_value(json_object_get(view, "parent_error"));
	cl_table *t = table_of(keys, headers, ZK_ELEMENTSOF(headers), add_key_row);

	if (!t) {
		oom();
		return CLI_FAIL;
	}
	cl_table_print(t, true, stdout);
	cl_table_free(t);
	if (json_array_size(keys) == 0)
		printf("(no keys yet: the first signing run generates them)\n");
	printf("next key event: %s%s%s\n", next ? next : "none", action ? ": " : "",
	       action ? action : "");
	if (waiting)
		printf("%s\n", waiting);
	print_unblock(keys, zone);
	if (perr)
		printf("parental agents: %s\n", perr);
	return CLI_OK;
}

int cli_print_ds(const json_t *ds, const char *zone, int digest)
{
	const json_t *d;
	size_t i, n = 0;

	json_array_foreach(ds, i, d) {
		const char *rec = json_string_value(json_object_get(d, "record"));
		const char *state = json_string_value(json_object_get(d, "ds_state"));
		json_int_t type = json_integer_value(json_object_get(d, "digest_type"));
		json_int_t tag = json_integer_value(json_object_get(d, "tag"));

		if (!rec || (digest && type != digest))
			continue;
		puts(rec);
		n++;
		/* on stderr: stdout stays the records alone, for a script to take */
		if (state && !strcmp(state, "hidden"))
			fprintf(stderr, "zonekeeper: DS %lld: not for the parent yet: zonekeeper "
				"asks for it (CDS/CDNSKEY) once key %lld is in every cache; "
				"`zonekeeper keys %s` says when\n", (long long) tag, (long long) tag,
				zone);
		else if (state && !strcmp(state, "rumoured"))
			fprintf(stderr, "zonekeeper: DS %lld: give it to the parent now; once the "
				"parent serves it, a parental agent sees it, or say so: zonekeeper "
				"key ds-seen %s %lld\n", (long long) tag, zone, (long long) tag);
	}
	if (n)
		return CLI_OK;
	fprintf(stderr, "zonekeeper: NO_DS: %s has no published key-signing key%s\n", zone,
		digest ? " with that digest" : "");
	return CLI_FAIL;
}

int cli_api_keys(const cli_api *o, const char *zone)
{
	cl_response rsp = { 0 };
	char *path = NULL;
	int r = zone_path(zone, "keys", NULL, &path);

	if (r == CLI_OK)
		r = cli_api_call(o, "GET", path, NULL, &rsp);
	if (r == CLI_OK && !o->json)
		r = cli_print_keys(rsp.json, zone);
	cl_response_clear(&rsp);
	free(path);
	return r;
}

int cli_api_ds(const cli_api *o, const char *zone, int digest)
{
	cl_response rsp = { 0 };
	char *path = NULL;
	int r = zone_path(zone, "ds", NULL, &path);

	if (r == CLI_OK)
		r = cli_api_call(o, "GET", path, NULL, &rsp);
	if (r == CLI_OK && !o->json)
		r = cli_print_ds(json_object_get(rsp.json, "ds"), zone, digest);
	cl_response_clear(&rsp);
	free(path);
	return r;
}

/* ---------------------------------------------------------------------- key requests */

static const char rollover_usage[] =
	"Usage: zonekeeper key rollover ZONE --type ksk|zsk|csk [--now] [--socket PATH]\n"
	"                               [--config FILE] [--json]\n"
	"\n"
	"Start a rollover of the zone's KSK, ZSK or CSK, whatever its lifetime says: the\n"
	"daemon generates the successor and the rollover then runs at the pace the TTLs\n"
	"allow, by pre-publication for a ZSK, a KSK waiting for its DS at the parent. A ZSK\n"
	"or CSK rollover of a zone signed so recently that its DS is not yet asked for waits\n"
	"until it is (rolled at once, both keys would sign every record for a week and\n"
	"more); --now starts it at once all the same (a lost or compromised key), with those\n"
	"double signatures. Prints the keys once the run that starts it, or records it as\n"
	"waiting, has published.\n";

static const char ds_seen_usage[] =
	"Usage: zonekeeper key ds-seen ZONE TAG [--withdrawn] [--socket PATH] [--config FILE]\n"
	"                              [--json]\n"
	"\n"
	"Tell the daemon that the DS of key TAG is now published at every server of the\n"
	"parent zone (or, with --withdrawn, gone from all of them): what the parental agents\n"
	"would otherwise confirm. A KSK rollover never goes past that step without it.\n"
	"Refused (exit 3) when that key's DS is not waiting for it.\n";

struct rollover_args {
	const char *type;
	bool now;
};

static bool take_rollover(int c, const char *arg, void *ud)
{
	struct rollover_args *a = ud;

	if (c == 't')
		a->type = arg;
	else if (c == 'n')
		a->now = true;
	else
		return false;
	return true;
}

/* POST `body` (taken) to /v1/zones/ZONE/keys/<segs...>; print the keys it answers with. */
static int key_request(const cli_api *o, const char *zone, const char *seg1, const char *seg2,
		       json_t *body)
{
	const char *segs[] = { "v1", "zones", zone, "keys", seg1, seg2 };
	cl_response rsp = { 0 };
	char *path = NULL;
	int r;

	if (!body || cl_path(segs, seg2 ? 6 : 5, NULL, 0, &path) < 0) {
		json_decref(body);
		oom();
		return CLI_FAIL;
	}
	r = cli_api_call(o, "POST", path, body, &rsp);
	if (r == CLI_OK && !o->json)
		r = cli_print_keys(rsp.json, zone);
	cl_response_clear(&rsp);
	json_decref(body);
	free(path);
	return r;
}

int cmd_key_rollover(int argc, char **argv)
{
	static const struct option extra[] = {
		{ "type", required_argument, NULL, 't' },
		{ "now", no_argument, NULL, 'n' },
	};
	struct rollover_args a = { 0 };
	cli_api o;
	int r = parse_opts("key rollover", rollover_usage, argc, argv, 1, 1, extra,
			   ZK_ELEMENTSOF(extra), &o, take_rollover, &a);

	if (r >= 0)
		return r == CLI_OK + 100 ? CLI_OK : r;
	if (!a.type || ks_role_from_name(a.type) < 0)
		return cli_usage_error("key rollover", "--type takes ksk, zsk or csk");
	return key_request(&o, argv[optind], "rollover", NULL,
			   json_pack("{s:s,s:b}", "type", a.type, "now", a.now));
}

static bool take_withdrawn(int c, const char *arg, void *ud)
{
	if (c != 'w')
		return false;
	*(bool *) ud = true;
	return true;
}

int cmd_key_ds_seen(int argc, char **argv)
{
	static const struct option extra[] = { { "withdrawn", no_argument, NULL, 'w' } };
	bool withdrawn = false;
	uint32_t tag;
	cli_api o;
	int r = parse_opts("key ds-seen", ds_seen_usage, argc, argv, 2, 2, extra,
			   ZK_ELEMENTSOF(extra), &o, take_withdrawn, &withdrawn);

	if (r >= 0)
		return r == CLI_OK + 100 ? CLI_OK : r;
	if (sgn_parse_uint(argv[optind + 1], strlen(argv[optind + 1]), 65535, &tag) < 0)
		return cli_usage_error("key ds-seen", "TAG is a key tag (0 to 65535), not '%s'",
				       argv[optind + 1]);
	return key_request(&o, argv[optind], argv[optind + 1], "ds-seen",
			   json_pack("{s:b}", "withdrawn", withdrawn));
}
