/* SPDX-License-Identifier: MIT */
/*
 * policy/zk-error.h -- the one catalogue of error codes shared by every module.
 *
 * Every fallible function returns int: 0 (or a count) on success, a negative value on
 * failure. System failures are -errno, passed up unchanged. Domain failures are ZK_E_*
 * codes in [-1000, -501], so they never clash with -errno. Each domain code has exactly
 * one row in zk-error.c giving its API name, HTTP status and generic text.
 *
 * Errors a person must act on carry a zk_error detail (file, line, specific message),
 * filled in where the error is found and passed up unchanged to the edge (CLI, daemon,
 * API), which prints or serialises it.
 */
#pragma once

#include <stdarg.h>
#include <stdbool.h>

enum {
	ZK_E_BASE = -1000,
	ZK_E_PROTECTED_RECORD = ZK_E_BASE, /* 403: SOA, platform NS, DNSSEC types */
	ZK_E_CNAME_CONFLICT,               /* 409 */
	ZK_E_OUT_OF_ZONE,                  /* 400 */
	ZK_E_INVALID_RECORD,               /* 400: malformed name, type, TTL or content */
	ZK_E_ZONE_NOT_FOUND,               /* 404 */
	ZK_E_RECORD_NOT_FOUND,             /* 404 */
	ZK_E_UNAUTHORIZED,                 /* 401 */
	ZK_E_PAYLOAD_TOO_LARGE,            /* 413 */
	ZK_E_SERIAL_NOT_GREATER,           /* `keep` scheme: input serial not greater */
	ZK_E_CONFIG,                       /* configuration rejected */
	ZK_E_ZONE_PARSE,                   /* input zone file does not parse */
	ZK_E_ZONE_CONTENT,                 /* input zone parses but breaks a zone rule */
	ZK_E_KEY,                          /* key file unreadable, inconsistent or failing self-test */
	ZK_E_CRYPTO,                       /* the crypto library failed */
	ZK_E_SELF_CHECK,                   /* signed zone failed its own check: not published */
	ZK_E_VERIFY,                       /* `zonekeeper verify`: the signed zone is not valid */
	ZK_E_UNSUPPORTED,                  /* algorithm or feature not available here */
	ZK_E_CLOCK,                        /* the clock is not sane for signing */
	ZK_E_NOT_FOUND,                    /* 404: no such API endpoint */
	ZK_E_METHOD_NOT_ALLOWED,           /* 405 */
	ZK_E_BAD_REQUEST,                  /* 400: body is not JSON or not an object */
	ZK_E_UNAVAILABLE,                  /* 503: zone not loaded yet */
	ZK_E_LIMIT,                        /* 400: over a documented limit (RRset size, ...) */
	ZK_E_CONFLICT,                     /* 409: refused in the zone's current state */
	ZK_E_ZONE_EXISTS,                  /* 409: a zone of that name exists (or is archived) */
	ZK_E_ZONE_IN_CONFIG,               /* 409: the configuration file owns that zone */
	ZK_E_DS_AT_PARENT,                 /* 409: deleting would break the chain of trust */
	ZK_E_KEY_NOT_FOUND,                /* 404: no such key in the zone */
	ZK_E_INPUT,                        /* the input zone file is missing or unreadable */
	ZK_E_END                           /* one past the last code */
};
_Static_assert(ZK_E_END <= -501, "domain codes must stay clear of -errno");

/* Detail for errors that a person has to act on. */
typedef struct zk_error {
	int code;           /* 0, -errno or ZK_E_* */
	char message[512];  /* specific: "SOA records are managed automatically ..." */
	char file[256];     /* input or config file, "" if none */
	unsigned line;      /* 0 if none */
} zk_error;

bool zk_code_is_domain(int code);   /* ZK_E_BASE <= code < ZK_E_END */
const char *zk_code_name(int code); /* "PROTECTED_RECORD"; "INTERNAL" for -errno */
unsigned zk_code_http(int code);    /* 403; 500 for -errno */
const char *zk_code_text(int code); /* "protected record type cannot be modified" */

/*
 * Fill *reterr (if not NULL) and return `code`, so callers can `return zk_fail(...)`.
 * A -errno code gets ": <strerror>" appended to the message.
 */
int zk_fail(zk_error *reterr, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
int zk_fail_at(zk_error *reterr, int code, const char *file, unsigned line,
	       const char *fmt, ...) __attribute__((format(printf, 5, 6)));
int zk_failv(zk_error *reterr, int code, const char *file, unsigned line,
	     const char *fmt, va_list ap) __attribute__((format(printf, 5, 0)));

/* Prefix the message of an already-filled error with "<what>: " (context on the way up). */
void zk_error_prefix(zk_error *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/*
 * One line for a person: "file:line: message" (file and line when known), the
 * code's generic text when there is no message. Writes into buf, returns buf.
 */
const char *zk_error_str(const zk_error *e, int code, char *buf, unsigned size);

/*
 * Warnings and notices from library code. Library modules never log; they report
 * through a sink the caller provides (the CLI prints to stderr, the daemon writes to
 * the journal). A NULL sink drops the messages.
 */
typedef enum zk_level {
	ZK_LOG_ERR,
	ZK_LOG_WARNING,
	ZK_LOG_NOTICE,
	ZK_LOG_INFO,
	ZK_LOG_DEBUG,
} zk_level;

typedef struct zk_diag {
	void (*emit)(void *userdata, zk_level level, const char *file, unsigned line,
		     const char *message);
	void *userdata;
} zk_diag;

void zk_diag_emit(const zk_diag *d, zk_level level, const char *file, unsigned line,
		  const char *fmt, ...) __attribute__((format(printf, 5, 6)));
