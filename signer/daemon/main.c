/* SPDX-License-Identifier: MIT */
/*
 * signer/daemon/main.c -- main() of zonekeeperd: options, then the manager's loop.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <malloc.h>
#include <sys/resource.h>
#include <unistd.h>

#include "policy/policy.h"
#include "signer/daemon/log.h"
#include "signer/daemon/manager.h"
#include "signer/signer.h"

#define VERSION "0.1.0"

static void usage(FILE *f)
{
	fputs("Usage: zonekeeperd --config FILE [--foreground] [--check-config]\n"
	      "\n"
	      "The zonekeeper service: watches the input zone files, keeps each zone's serial,\n"
	      "signatures and denial chain current, serves the record API (api.socket, and\n"
	      "api.listen with bearer tokens), and publishes signed zones atomically.\n"
	      "\n"
	      "  --config FILE     configuration file (default /etc/zonekeeper/zonekeeper.conf)\n"
	      "  --foreground      accepted for compatibility: zonekeeperd never daemonizes\n"
	      "                    (systemd runs it as Type=notify)\n"
	      "  --check-config    parse and check the configuration and its directories\n"
	      "                    (writable by this user, or creatable), then exit\n"
	      "  --debounce MS     apply input changes MS milliseconds after the last one\n"
	      "                    (default 300)\n"
	      "  --version, --help\n"
	      "\n"
	      "Signals: SIGHUP reloads the configuration, SIGTERM and SIGINT stop.\n"
	      "ZONEKEEPER_FAKE_TIME=<start>[@<speed>][,hold] replaces the clock (tests).\n",
	      f);
}

/*
 * The soft limit on open files up to the hard one. A zone holds no file between its runs,
 * so this is headroom for the API's connections and the zones signed at once, not a
 * need that grows with the number of zones. The unit sets LimitNOFILE; under its system
 * call filter the call may be refused, which is fine.
 */
static void raise_file_limit(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		(void) setrlimit(RLIMIT_NOFILE, &rl);
	}
}

/*
 * Signing threads come and go with each zone's run, and glibc gives new threads arenas of
 * their own (up to 8 per core) that keep their free memory: with 500 small zones that
 * was 94 MiB of RSS against 66 MiB with two arenas. Two per core keeps the signing
 * threads from contending for one.
 */
static void limit_arenas(void)
{
	long cores = sysconf(_SC_NPROCESSORS_ONLN);

	(void) mallopt(M_ARENA_MAX, (int) (cores > 0 && cores < 512 ? 2 * cores : 8));
}

static void check_warning(void *userdata, zk_level level, const char *file, unsigned line,
			  const char *msg)
{
	fprintf(stderr, "zonekeeperd: %s: %s\n", level <= ZK_LOG_ERR ? "error" : "warning", msg);
}

/* --check-config: what may not work (an input directory it cannot write) on stderr */
static const zk_diag check_diag = { .emit = check_warning };

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "foreground", no_argument, NULL, 'f' },
		{ "check-config", no_argument, NULL, 'C' },
		{ "debounce", required_argument, NULL, 'd' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	manager_opts mo = { .config_path = "/etc/zonekeeper/zonekeeper.conf", .debounce_ms = 300 };
	bool check = false;
	manager *m = NULL;
	zk_error e = { 0 };
	char buf[1024];
	int c, r;

	while ((c = getopt_long(argc, argv, "c:fCd:Vh", opts, NULL)) != -1) {
		switch (c) {
		case 'c': mo.config_path = optarg; break;
		case 'f': break;
		case 'C': check = true; break;
		case 'd': mo.debounce_ms = (uint32_t) strtoul(optarg, NULL, 10); break;
		case 'V': printf("zonekeeperd %s\n", VERSION); return 0;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	dlog_init();
	if (check) {
		pol_config *cfg = NULL;

		r = pol_config_load(mo.config_path, NULL, &cfg, &e);
		if (r >= 0 && (r = sgn_check_paths(cfg, &check_diag, &e)) < 0)
			pol_config_free(cfg);
		if (r < 0) {
			fprintf(stderr, "zonekeeperd: configuration refused: %s [%s]\n",
				zk_error_str(&e, r, buf, sizeof(buf)), zk_code_name(r));
			return 2;
		}
		printf("%s: ok, %zu zone%s\n", mo.config_path, cfg->n_zones,
		       cfg->n_zones == 1 ? "" : "s");
		pol_config_free(cfg);
		return 0;
	}
	raise_file_limit();
	limit_arenas();
	r = zk_clock_from_env(&mo.clock, &e);
	if (r == 0)
		r = manager_new(&mo, &m, &e);
	if (r < 0) {
		dlog_fields f = { .error_code = r, .signatures = -1, .file = e.file, .line = e.line };

		dlog(ZK_LOG_ERR, &f, "cannot start: %s", zk_error_str(&e, r, buf, sizeof(buf)));
		return 1;
	}
	r = manager_run(m);
	manager_free(m);
	if (r < 0) {
		dlog(ZK_LOG_ERR, NULL, "event loop failed: %s", strerror(-r));
		return 1;
	}
	dlog(ZK_LOG_NOTICE, NULL, "stopped");
	return 0;
}
