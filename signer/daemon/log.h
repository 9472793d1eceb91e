/* SPDX-License-Identifier: MIT */
/*
 * signer/daemon/log.h -- the daemon's only link to the outside world's eyes: the journal
 * (structured fields ZONE=, SERIAL=, KEY_TAG=, ERROR_CODE=, SIGNATURES=) when running
 * under systemd, plain stderr lines otherwise, and sd_notify (READY, STATUS, RELOADING,
 * STOPPING). Everything else in the daemon calls these.
 */
#pragma once

#include <stdint.h>

#include "policy/zk-error.h"

/* Optional structured fields of a log entry (0 / NULL: absent). */
typedef struct dlog_fields {
	const char *zone;
	uint32_t serial;        /* 0: absent */
	int error_code;         /* 0: absent; else zk code */
	long signatures;        /* -1: absent */
	unsigned key_tag;       /* 0: absent */
	const char *file;       /* input file of an error */
	unsigned line;
} dlog_fields;

/* Decide once: journal (stderr is the journal stream) or plain stderr. */
void dlog_init(void);

void dlog(zk_level level, const dlog_fields *f, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* A zk_diag that logs through dlog with the zone as a field (userdata: zone name). */
void dlog_diag_emit(void *userdata, zk_level level, const char *file, unsigned line,
		    const char *message);

/* sd_notify wrappers; harmless without NOTIFY_SOCKET. */
void notify_ready(void);
void notify_status(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void notify_reloading(void);
void notify_stopping(void);
