/* SPDX-License-Identifier: MIT */
/*
 * signer/daemon/api.h -- the HTTP/1.1 server of the record API (doc/api.md):
 * libmicrohttpd driven from the daemon's sd-event loop (each listener's epoll fd is one
 * event source; no thread of its own), on the Unix socket and, when configured, on a TCP
 * listener that demands a bearer token.
 *
 * This module knows HTTP, not zones: it collects a request (with its body, within the
 * size limit), checks the token on TCP, and hands it to one handler. The handler answers
 * at once or keeps the request and answers later from the loop (a write waiting for its
 * journal fsync or for publication); the connection is suspended meanwhile, so a waiting
 * client costs nothing.
 *
 * Every error reply is {"status":"error","error":{"code":...,"message":...}} with the
 * code's HTTP status from the one error catalogue (policy/zk-error.h).
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <jansson.h>
#include <systemd/sd-event.h>

#include "policy/policy.h"
#include "policy/zk-error.h"

typedef struct api api;
typedef struct api_req api_req;

/* Handler result: answered, or kept to be answered later with api_reply_*. */
enum { API_DONE = 0, API_LATER = 1 };

typedef int (*api_handler)(void *userdata, api_req *req);

/*
 * Serve on `unix_fd` (a listening stream socket; the api takes it over) and, when the
 * configuration has api.listen, on that TCP address too. Limits from the configuration:
 * max_connections, idle_timeout, max_body; headers are capped at 64 KiB.
 *
 * On TCP a connection must complete its first authorised request (bearer token checked)
 * within API_HEADER_DEADLINE seconds of being accepted, however it dribbles its bytes;
 * only then does it get idle_timeout. When a new connection fills the last of
 * max_connections, the oldest connection not yet authorised is closed, so clients that
 * send nothing cannot keep the authorised ones out. A 401 answer closes its connection.
 * A path with %2F or %00 (an encoded '/' or NUL, which would change how the path splits)
 * is refused with 400 BAD_REQUEST before any handler sees it.
 */
#define API_HEADER_DEADLINE 5
int api_new(sd_event *e, int unix_fd, const pol_config *cfg, api_handler h, void *userdata,
	    api **ret, zk_error *reterr);
api *api_free(api *a);

/* The request. Strings stay valid until the reply is queued. */
const char *api_req_method(const api_req *r);
const char *api_req_path(const api_req *r);      /* without the query */
const char *api_req_query(const api_req *r, const char *key); /* NULL if absent */
const char *api_req_body(const api_req *r, size_t *len);
/* Who asked: "uid=0 pid=123" on the Unix socket (SO_PEERCRED), "tcp 127.0.0.1" on TCP. */
const char *api_req_peer(const api_req *r);

/*
 * Text for API JSON: `s` as valid UTF-8, every byte that is not part of a valid UTF-8
 * sequence written as "\xNN" (jansson refuses invalid UTF-8, which turned error messages
 * quoting user input into 500s). api_utf8 returns a malloc'ed string (NULL: no memory);
 * api_json_string a JSON string (NULL only when out of memory), for json_pack's "o".
 */
char *api_utf8(const char *s);
json_t *api_json_string(const char *s);

/*
 * Answer (now, or later for a kept request). The api takes `j`. An error answer carries
 * the code, the message (made valid UTF-8) and, when the error names one, the "line" of
 * the request body it is about (never a server file's name).
 */
void api_reply_json(api_req *r, unsigned status, json_t *j);
void api_reply_error(api_req *r, int code, const zk_error *e);
void api_reply_text(api_req *r, unsigned status, const char *content_type, char *body);

/* Responses sent so far, by HTTP status, for /metrics: fills up to max, returns count. */
typedef struct api_status_count {
	unsigned status;
	uint64_t count;
} api_status_count;
size_t api_status_counts(const api *a, api_status_count *out, size_t max);

/*
 * The socket to serve: the one systemd passed (socket activation), else a Unix socket
 * created at `path` with mode 0660 (a stale one is replaced). *ret_activated says which.
 */
int api_listen_socket(const char *path, int *ret_fd, bool *ret_activated, zk_error *reterr);
