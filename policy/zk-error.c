/* SPDX-License-Identifier: MIT */
/*
 * policy/zk-error.c -- the single table of domain error codes; adding a code means
 * adding one row here and one enum value in zk-error.h.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "policy/zk-error.h"

struct zk_code_info {
	const char *name;
	unsigned http;
	const char *text;
};

#define ROW(code, n, h, t) [(code) - ZK_E_BASE] = { n, h, t }

static const struct zk_code_info codes[ZK_E_END - ZK_E_BASE] = {
	ROW(ZK_E_PROTECTED_RECORD, "PROTECTED_RECORD", 403,
	    "record managed by zonekeeper cannot be modified"),
	ROW(ZK_E_CNAME_CONFLICT, "CNAME_CONFLICT", 409, "CNAME cannot coexist with other data"),
	ROW(ZK_E_OUT_OF_ZONE, "OUT_OF_ZONE", 400, "name is outside the zone"),
	ROW(ZK_E_INVALID_RECORD, "INVALID_RECORD", 400, "invalid record"),
	ROW(ZK_E_ZONE_NOT_FOUND, "ZONE_NOT_FOUND", 404, "zone not found"),
	ROW(ZK_E_RECORD_NOT_FOUND, "RECORD_NOT_FOUND", 404, "record not found"),
	ROW(ZK_E_UNAUTHORIZED, "UNAUTHORIZED", 401, "missing or wrong credentials"),
	ROW(ZK_E_PAYLOAD_TOO_LARGE, "PAYLOAD_TOO_LARGE", 413, "request body too large"),
	ROW(ZK_E_SERIAL_NOT_GREATER, "SERIAL_NOT_GREATER", 409,
	    "serial is not greater than the last published serial"),
	ROW(ZK_E_CONFIG, "CONFIG_INVALID", 400, "configuration rejected"),
	ROW(ZK_E_ZONE_PARSE, "ZONE_PARSE_ERROR", 400, "zone file does not parse"),
	ROW(ZK_E_ZONE_CONTENT, "ZONE_INVALID", 400, "zone content is invalid"),
	ROW(ZK_E_KEY, "KEY_ERROR", 500, "key is unusable"),
	ROW(ZK_E_CRYPTO, "CRYPTO_ERROR", 500, "cryptographic operation failed"),
	ROW(ZK_E_SELF_CHECK, "SELF_CHECK_FAILED", 500,
	    "signed zone failed its own check, not published"),
	ROW(ZK_E_VERIFY, "VERIFY_FAILED", 400, "signed zone is not valid"),
	ROW(ZK_E_UNSUPPORTED, "UNSUPPORTED", 400, "not supported"),
	ROW(ZK_E_CLOCK, "CLOCK_INSANE", 500, "system clock is not sane for signing"),
	ROW(ZK_E_NOT_FOUND, "NOT_FOUND", 404, "no such endpoint"),
	ROW(ZK_E_METHOD_NOT_ALLOWED, "METHOD_NOT_ALLOWED", 405, "method not allowed here"),
	ROW(ZK_E_BAD_REQUEST, "BAD_REQUEST", 400, "malformed request"),
	ROW(ZK_E_UNAVAILABLE, "UNAVAILABLE", 503, "not available yet"),
	ROW(ZK_E_LIMIT, "LIMIT_EXCEEDED", 400, "over a limit"),
	ROW(ZK_E_CONFLICT, "CONFLICT", 409, "not possible in the current state"),
	ROW(ZK_E_ZONE_EXISTS, "ZONE_EXISTS", 409, "the zone exists"),
	ROW(ZK_E_ZONE_IN_CONFIG, "ZONE_IN_CONFIG", 409,
	    "the zone is in the configuration file; remove it there"),
	ROW(ZK_E_DS_AT_PARENT, "DS_AT_PARENT", 409,
	    "the zone's DS is at its parent: deleting it would make the zone bogus"),
	ROW(ZK_E_KEY_NOT_FOUND, "KEY_NOT_FOUND", 404, "no such key in the zone"),
	ROW(ZK_E_INPUT, "INPUT_UNREADABLE", 500, "the input zone file cannot be read"),
};

bool zk_code_is_domain(int code)
{
	return code >= ZK_E_BASE && code < ZK_E_END;
}

static const struct zk_code_info *info(int code)
{
	return zk_code_is_domain(code) ? &codes[code - ZK_E_BASE] : NULL;
}

const char *zk_code_name(int code)
{
	const struct zk_code_info *i = info(code);

	return i && i->name ? i->name : "INTERNAL";
}

unsigned zk_code_http(int code)
{
	const struct zk_code_info *i = info(code);

	return i && i->http ? i->http : 500;
}

const char *zk_code_text(int code)
{
	const struct zk_code_info *i = info(code);

	if (i && i->text)
		return i->text;
	if (code < 0 && !zk_code_is_domain(code))
		return strerror(-code);
	return "internal error";
}

int zk_failv(zk_error *reterr, int code, const char *file, unsigned line, const char *fmt,
	     va_list ap)
{
	if (!reterr)
		return code;
	reterr->code = code;
	vsnprintf(reterr->message, sizeof(reterr->message), fmt, ap);
	if (!zk_code_is_domain(code) && code < 0) {
		size_t n = strlen(reterr->message);

		snprintf(reterr->message + n, sizeof(reterr->message) - n, "%s%s",
			 n ? ": " : "", strerror(-code));
	}
	snprintf(reterr->file, sizeof(reterr->file), "%s", file ? file : "");
	reterr->line = line;
	return code;
}

int zk_fail(zk_error *reterr, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	zk_failv(reterr, code, NULL, 0, fmt, ap);
	va_end(ap);
	return code;
}

int zk_fail_at(zk_error *reterr, int code, const char *file, unsigned line, const char *fmt,
	       ...)
{
	va_list ap;

	va_start(ap, fmt);
	zk_failv(reterr, code, file, line, fmt, ap);
	va_end(ap);
	return code;
}

void zk_error_prefix(zk_error *e, const char *fmt, ...)
{
	char prefix[256], old[sizeof(e->message)];
	va_list ap;

	if (!e)
		return;
	va_start(ap, fmt);
	vsnprintf(prefix, sizeof(prefix), fmt, ap);
	va_end(ap);
	memcpy(old, e->message, sizeof(old));
	if (snprintf(e->message, sizeof(e->message), "%s: %s", prefix, old) >=
	    (int) sizeof(e->message))
		memcpy(e->message + sizeof(e->message) - 4, "...", 4); /* truncated: say so */
}

const char *zk_error_str(const zk_error *e, int code, char *buf, unsigned size)
{
	const char *msg = e && e->message[0] ? e->message : zk_code_text(code);

	/* a message that names its file already says where: do not say it twice */
	if (e && e->file[0] && e->message[0] && strstr(e->message, e->file))
		snprintf(buf, size, "%s", msg);
	else if (e && e->file[0] && e->line)
		snprintf(buf, size, "%s:%u: %s", e->file, e->line, msg);
	else if (e && e->file[0])
		snprintf(buf, size, "%s: %s", e->file, msg);
	else
		snprintf(buf, size, "%s", msg);
	return buf;
}

void zk_diag_emit(const zk_diag *d, zk_level level, const char *file, unsigned line,
		  const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	if (!d || !d->emit)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	d->emit(d->userdata, level, file, line, msg);
}
