/* SPDX-License-Identifier: MIT */
/*
 * signer/daemon/log.c -- journal, stderr and sd_notify. See log.h.
 *
 * Under systemd, stderr is connected to the journal and $JOURNAL_STREAM names it
 * (device:inode); we then log natively with sd_journal_send so that fields can be
 * filtered on (journalctl ZONE=example.com.). Started by hand, one plain line per message.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <systemd/sd-daemon.h>
#include <systemd/sd-journal.h>

#include "signer/daemon/log.h"

static int use_journal = -1;

void dlog_init(void)
{
	const char *js = getenv("JOURNAL_STREAM");
	unsigned long dev, ino;
	struct stat st;

	use_journal = 0;
	if (js && sscanf(js, "%lu:%lu", &dev, &ino) == 2 && fstat(STDERR_FILENO, &st) == 0 &&
	    st.st_dev == dev && st.st_ino == ino)
		use_journal = 1;
}

static int priority(zk_level l)
{
	static const int p[] = { LOG_ERR, LOG_WARNING, LOG_NOTICE, LOG_INFO, LOG_DEBUG };

	return p[l];
}

void dlog(zk_level level, const dlog_fields *f, const char *fmt, ...)
{
	static const char *const names[] = { "error", "warning", "notice", "info", "debug" };
	char msg[2048], full[2300];
	va_list ap;

	if (level == ZK_LOG_DEBUG && !getenv("ZONEKEEPER_DEBUG"))
		return;
	if (use_journal < 0)
		dlog_init();
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (f && f->zone)
		snprintf(full, sizeof(full), "%s: %s", f->zone, msg);
	else
		snprintf(full, sizeof(full), "%s", msg);
	if (!use_journal) {
		char ts[32];
		time_t now = time(NULL);
		struct tm tm;

		gmtime_r(&now, &tm);
		strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm);
		fprintf(stderr, "%s zonekeeperd[%s]: %s\n", ts, names[level], full);
		return;
	}
	/* sd_journal_send stops at the first NULL: optional fields are appended in order */
	{
		char serial[32] = "", code[64] = "", sigs[48] = "", tag[32] = "", zone[300] = "",
		     file[300] = "", line[32] = "";
		const char *extra[8];
		int n = 0;

		if (f && f->zone)
			snprintf(zone, sizeof(zone), "ZONE=%s", f->zone), extra[n++] = zone;
		if (f && f->serial)
			snprintf(serial, sizeof(serial), "SERIAL=%u", f->serial), extra[n++] = serial;
		if (f && f->error_code)
			snprintf(code, sizeof(code), "ERROR_CODE=%s", zk_code_name(f->error_code)),
				extra[n++] = code;
		if (f && f->signatures >= 0 && (f->serial || f->signatures))
			snprintf(sigs, sizeof(sigs), "SIGNATURES=%ld", f->signatures),
				extra[n++] = sigs;
		if (f && f->key_tag)
			snprintf(tag, sizeof(tag), "KEY_TAG=%u", f->key_tag), extra[n++] = tag;
		if (f && f->file && *f->file)
			snprintf(file, sizeof(file), "INPUT_FILE=%s", f->file), extra[n++] = file;
		if (f && f->line)
			snprintf(line, sizeof(line), "INPUT_LINE=%u", f->line), extra[n++] = line;
		extra[n] = NULL;
		sd_journal_send("MESSAGE=%s", full, "PRIORITY=%i", priority(level),
				"SYSLOG_IDENTIFIER=zonekeeperd", n > 0 ? "%s" : NULL, extra[0],
				n > 1 ? "%s" : NULL, extra[1], n > 2 ? "%s" : NULL, extra[2],
				n > 3 ? "%s" : NULL, extra[3], n > 4 ? "%s" : NULL, extra[4],
				n > 5 ? "%s" : NULL, extra[5], n > 6 ? "%s" : NULL, extra[6], NULL);
	}
}

void dlog_diag_emit(void *userdata, zk_level level, const char *file, unsigned line,
		    const char *message)
{
	dlog_fields f = { .zone = userdata, .signatures = -1, .file = file, .line = line };

	if (file && *file && line)
		dlog(level, &f, "%s:%u: %s", file, line, message);
	else if (file && *file)
		dlog(level, &f, "%s: %s", file, message);
	else
		dlog(level, &f, "%s", message);
}

void notify_ready(void)
{
	(void) sd_notify(0, "READY=1");
}

void notify_status(const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	(void) sd_notifyf(0, "STATUS=%s", msg);
}

void notify_reloading(void)
{
	struct timespec ts;

	/* systemd 253+ wants MONOTONIC_USEC with RELOADING=1 (Type=notify-reload); older ignore it */
	clock_gettime(CLOCK_MONOTONIC, &ts);
	(void) sd_notifyf(0, "RELOADING=1\nMONOTONIC_USEC=%llu",
			  (unsigned long long) ts.tv_sec * 1000000ull + (unsigned long long) ts.tv_nsec / 1000);
}

void notify_stopping(void)
{
	(void) sd_notify(0, "STOPPING=1");
}
