/* SPDX-License-Identifier: MIT */
/*
 * signer/cli/verify.c -- `zonekeeper verify`: is a signed zone file valid?
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ldns/ldns.h>

#include "policy/zk-macro.h"
#include "signer/cli/cli.h"
#include "signer/load.h"
#include "signer/verify.h"

#define MAX_ANCHORS 32

static void verify_usage(FILE *f)
{
	fputs("Usage: zonekeeper verify --origin NAME [--time T] [--min-validity DUR]\n"
	      "                         [--anchors FILE] [--sample] [--json] SIGNED_FILE\n"
	      "\n"
	      "Check a signed zone: every authoritative RRset signed by every algorithm of the\n"
	      "DNSKEY RRset with signatures that verify and are valid at T, nothing signed that\n"
	      "must not be, the NSEC or NSEC3 chain complete and closed with exact type bitmaps.\n"
	      "Exit status 0 only if the zone is valid; 1 with the reasons on stderr otherwise.\n"
	      "\n"
	      "  --origin NAME        the zone's apex\n"
	      "  --time T             check at T (YYYYMMDDHHMMSS or seconds since the epoch);\n"
	      "                       default now\n"
	      "  --min-validity DUR   every signature must stay valid this much longer (e.g. 7d)\n"
	      "  --anchors FILE       DS records (zone file syntax): a key matching one of them\n"
	      "                       must sign the DNSKEY RRset\n"
	      "  --sample             verify a sample of the signatures, not all of them\n"
	      "  --json               print the report as JSON\n",
	      f);
}

static int parse_time(const char *s, zk_time_t *ret)
{
	char *end;
	long long v;

	if (strlen(s) == 14 && zk_time_parse14(s, ret) == 0)
		return 0;
	v = strtoll(s, &end, 10);
	if (*s == '\0' || *end || v < 0)
		return -1;
	*ret = v;
	return 0;
}

static int load_anchors(const char *path, uint8_t store[][256], uint16_t *lens, size_t *n)
{
	_cleanup_fclose_ FILE *f = fopen(path, "re");
	char line[4096];
	unsigned lineno = 0;

	if (!f) {
		fprintf(stderr, "zonekeeper verify: cannot open %s\n", path);
		return -1;
	}
	while (fgets(line, sizeof(line), f)) {
		ldns_rr *rr = NULL;
		size_t len = 0;

		lineno++;
		if (line[strspn(line, " \t\r\n")] == '\0' || line[strspn(line, " \t")] == ';')
			continue;
		if (ldns_rr_new_frm_str(&rr, line, 3600, NULL, NULL) != LDNS_STATUS_OK ||
		    ldns_rr_get_type(rr) != LDNS_RR_TYPE_DS || *n == MAX_ANCHORS) {
			fprintf(stderr, "zonekeeper verify: %s:%u: not a DS record\n", path, lineno);
			ldns_rr_free(rr);
			return -1;
		}
		for (size_t i = 0; i < ldns_rr_rd_count(rr); i++) {
			ldns_rdf *f2 = ldns_rr_rdf(rr, i);

			if (len + ldns_rdf_size(f2) > 256)
				break;
			memcpy(store[*n] + len, ldns_rdf_data(f2), ldns_rdf_size(f2));
			len += ldns_rdf_size(f2);
		}
		lens[(*n)++] = (uint16_t) len;
		ldns_rr_free(rr);
	}
	return 0;
}

int cmd_verify(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "origin", required_argument, NULL, 'o' },
		{ "time", required_argument, NULL, 't' },
		{ "min-validity", required_argument, NULL, 'm' },
		{ "anchors", required_argument, NULL, 'a' },
		{ "sample", no_argument, NULL, 's' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	const char *origin = NULL, *anchors_path = NULL;
	sgn_verify_opts vo = { .full = true, .sample = 1000, .first_per_key = 16 };
	sgn_load_opts lo = { .mode = SGN_LOAD_SIGNED, .diag = &cli_diag };
	static uint8_t anchor_store[MAX_ANCHORS][256];
	const uint8_t *anchors[MAX_ANCHORS];
	uint16_t anchor_lens[MAX_ANCHORS];
	size_t n_anchors = 0;
	sgn_verify_report rep;
	uint8_t apex[DN_MAXLEN];
	bool json = false, have_time = false;
	sgn_zone *z = NULL;
	zk_error e = { 0 };
	int c, r;

	while ((c = getopt_long(argc, argv, "o:t:m:a:sjh", opts, NULL)) != -1) {
		switch (c) {
		case 'o': origin = optarg; break;
		case 't':
			if (parse_time(optarg, &vo.now) < 0) {
				fprintf(stderr, "zonekeeper verify: bad --time '%s'\n", optarg);
				return CLI_USAGE;
			}
			have_time = true;
			break;
		case 'm':
			if (zk_duration_parse(optarg, &vo.min_remaining) < 0) {
				fprintf(stderr, "zonekeeper verify: bad --min-validity '%s'\n", optarg);
				return CLI_USAGE;
			}
			break;
		case 'a': anchors_path = optarg; break;
		case 's': vo.full = false; break;
		case 'j': json = true; break;
		case 'h': verify_usage(stdout); return CLI_OK;
		default: verify_usage(stderr); return CLI_USAGE;
		}
	}
	if (optind != argc - 1 || !origin) {
		verify_usage(stderr);
		return CLI_USAGE;
	}
	{
		/* "example.com" and "example.com." both name the apex */
		char abs[DN_TEXTMAX + 2];
		size_t ol = strlen(origin);

		snprintf(abs, sizeof(abs), "%s%s", origin, ol && origin[ol - 1] == '.' ? "" : ".");
		if (dn_from_text(abs, strlen(abs), NULL, apex) < 0) {
			fprintf(stderr, "zonekeeper verify: bad --origin '%s'\n", origin);
			return CLI_USAGE;
		}
	}
	dn_lower(apex);
	if (!have_time)
		vo.now = cli_now();
	if (anchors_path) {
		if (load_anchors(anchors_path, anchor_store, anchor_lens, &n_anchors) < 0)
			return CLI_USAGE;
		for (size_t i = 0; i < n_anchors; i++)
			anchors[i] = anchor_store[i];
		vo.anchors = anchors;
		vo.anchor_lens = anchor_lens;
		vo.n_anchors = n_anchors;
	}
	r = sgn_zone_load_file(argv[optind], apex, &lo, &z, &e);
	if (r < 0) {
		cli_error(argv[optind], r, &e);
		return CLI_FAIL;
	}
	r = sgn_zone_verify(z, &vo, &rep, &e);
	sgn_zone_free(z);
	if (r < 0 && r != ZK_E_VERIFY)
		return cli_error(argv[optind], r, &e);
	if (json) {
		json_t *j = json_object(), *p = json_array();
		char ts[32];

		json_object_set_new(j, "valid", json_boolean(r == 0));
		json_object_set_new(j, "names", json_integer((json_int_t) rep.names));
		json_object_set_new(j, "rrsets", json_integer((json_int_t) rep.rrsets));
		json_object_set_new(j, "signatures", json_integer((json_int_t) rep.signatures));
		json_object_set_new(j, "verified", json_integer((json_int_t) rep.verified));
		json_object_set_new(j, "ignored", json_integer((json_int_t) rep.ignored));
		json_object_set_new(j, "denial", json_string(rep.nsec3 ? "nsec3" : "nsec"));
		json_object_set_new(j, "denial_records",
				    json_integer((json_int_t) rep.denial_records));
		json_object_set_new(j, "earliest_expiry",
				    json_string(zk_time_iso(rep.earliest_expiry, ts, sizeof(ts))));
		for (unsigned i = 0; i < rep.n_problems && i < SGN_VERIFY_MAX_PROBLEMS; i++)
			json_array_append_new(p, json_string(rep.problems[i]));
		json_object_set_new(j, "problems", p);
		json_object_set_new(j, "problem_count", json_integer(rep.n_problems));
		cli_print_json(j);
	} else if (r == 0) {
		char ts[32];

		printf("%s: valid: %zu names, %zu RRsets, %zu signatures (%zu verified), %s chain "
		       "of %zu records; earliest expiry %s\n",
		       argv[optind], rep.names, rep.rrsets, rep.signatures, rep.verified,
		       rep.nsec3 ? "NSEC3" : "NSEC", rep.denial_records,
		       zk_time_iso(rep.earliest_expiry, ts, sizeof(ts)));
		if (rep.ignored)
			printf("%s: %zu signatures of an algorithm the DNSKEY RRset does not have "
			       "passed over (an algorithm rollover, RFC 6781 4.1.4)\n", argv[optind],
			       rep.ignored);
	}
	if (r < 0) {
		for (unsigned i = 0; i < rep.n_problems && i < SGN_VERIFY_MAX_PROBLEMS; i++)
			fprintf(stderr, "zonekeeper verify: %s: %s\n", argv[optind], rep.problems[i]);
		if (rep.n_problems > SGN_VERIFY_MAX_PROBLEMS)
			fprintf(stderr, "zonekeeper verify: %s: ... %u problems in all\n",
				argv[optind], rep.n_problems);
		fprintf(stderr, "zonekeeper verify: %s: INVALID [VERIFY_FAILED]\n", argv[optind]);
		return CLI_FAIL;
	}
	return CLI_OK;
}
