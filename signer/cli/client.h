/* SPDX-License-Identifier: MIT */
/*
 * signer/cli/client.h -- the CLI's side of the daemon's HTTP/1.1 + JSON API (doc/api.md):
 * requests over the Unix socket with libcurl, the API's error bodies turned into the
 * CLI's exit codes and its one error line, request paths, and aligned text tables.
 *
 * client.c holds the transport (libcurl); client_fmt.c holds everything that is a pure
 * function of its arguments (paths, tables, outcomes), so a unit test can build it
 * without libcurl (tests/unit/test_client.c).
 *
 * Ownership: objects returned through ret_* parameters belong to the caller, who
 * releases them with the matching *_free() or cl_response_clear(). Pointer parameters
 * are borrowed for the duration of the call. Functions return 0 on success, -errno on
 * failure, and never print, except cl_outcome(), whose job is to print the error line.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include <jansson.h>

#define CL_DEFAULT_CONFIG "/etc/zonekeeper/zonekeeper.conf"
#define CL_DEFAULT_SOCKET "/run/zonekeeper/api.sock"

/* Exit codes of the API commands (man zonekeeper(1), EXIT STATUS). */
enum {
	CL_EXIT_OK = 0,
	CL_EXIT_FAIL = 1,    /* cannot connect, 5xx, a reply that makes no sense */
	CL_EXIT_USAGE = 2,   /* bad command line; nothing was sent */
	CL_EXIT_REFUSED = 3, /* a 4xx with an error body: the daemon said no */
};

/* ------------------------------------------------------------------ transport (client.c) */

typedef struct cl_client cl_client; /* opaque: one connection (reused) to one socket */

typedef struct cl_response {
	long status;     /* HTTP status; 0 when no reply came */
	char *body;      /* the body, NUL-terminated ("" when empty) */
	size_t body_len; /* bytes, without the NUL */
	json_t *json;    /* the body parsed, when it is JSON; else NULL */
	char error[256]; /* transport failure: what went wrong ("" otherwise) */
} cl_response;

/*
 * A client for the API socket at `socket_path` (copied). `timeout` is the most seconds one
 * request may take, 0 for no limit (requests with ?wait=published wait for signing).
 * -ENOMEM, or -EIO when libcurl cannot be set up.
 */
int cl_client_new(const char *socket_path, unsigned timeout, cl_client **ret);

/* NULL-safe; returns NULL. */
cl_client *cl_client_free(cl_client *c);

/* The socket path the client talks to (for messages). */
const char *cl_client_socket(const cl_client *c);

/*
 * Send `method` `path` (from cl_path()) with an optional body (`content_type` and
 * `body`/`len`; body NULL: none) and fill *ret with the reply, whatever its status.
 * Returns 0 when a reply came; -ECONNREFUSED (nobody listens, no socket, no permission,
 * timeout: the reason is in ret->error) or -ENOMEM otherwise. *ret must be zeroed or
 * cleared before; it is filled in either case and must be cleared after.
 */
int cl_request(cl_client *c, const char *method, const char *path, const char *content_type,
	       const char *body, size_t len, cl_response *ret);

/* Same, with a JSON body (borrowed). */
int cl_request_json(cl_client *c, const char *method, const char *path, const json_t *body,
		    cl_response *ret);

/* Free what *r holds and zero it. NULL-safe. */
void cl_response_clear(cl_response *r);

/* ------------------------------------------------------- pure helpers (client_fmt.c) */

/* One query parameter of cl_path(); a NULL value leaves the parameter out. */
typedef struct cl_param {
	const char *key;
	const char *value;
} cl_param;

/*
 * Build "/seg1/seg2...?k=v&..." from `n_segs` path segments and `n_params` parameters.
 * Each segment and value is percent-encoded (RFC 3986 §2.3: only unreserved characters
 * stay as they are, so "/" inside a zone name or "?" inside a value cannot change the
 * request's meaning); a NULL segment ends the path early. *ret is malloc'd. -ENOMEM.
 */
int cl_path(const char *const *segs, size_t n_segs, const cl_param *params, size_t n_params,
	    char **ret);

/*
 * What the reply of a request means for the exit code, printing the error line
 * "zonekeeper: CODE: message" to `err` when it is not a success:
 *   - request_rc < 0 (no reply): UNREACHABLE with ret->error and the socket, CL_EXIT_FAIL;
 *   - 2xx with a JSON body: CL_EXIT_OK, nothing printed;
 *   - 4xx with an error body: the daemon's code and message unchanged, CL_EXIT_REFUSED;
 *   - 5xx with an error body: likewise, CL_EXIT_FAIL;
 *   - anything else (no JSON, no error object): BAD_RESPONSE with the HTTP status,
 *     CL_EXIT_FAIL.
 */
int cl_outcome(int request_rc, const cl_response *r, const char *socket_path, FILE *err);

/*
 * A JSON scalar as table text into buf (size n): strings as they are, integers in
 * decimal, true/false as "yes"/"no", null or missing as "-". Returns buf.
 */
const char *cl_json_text(const json_t *v, char *buf, size_t n);

/* Aligned text tables: every column but the last padded to its widest cell, two spaces
 * between columns, trailing blanks dropped. */
typedef struct cl_table cl_table;

/* A table with `n_cols` columns titled `headers` (copied; n_cols >= 1). NULL on ENOMEM. */
cl_table *cl_table_new(size_t n_cols, const char *const *headers);

/* NULL-safe; returns NULL. */
cl_table *cl_table_free(cl_table *t);

/* Append a row of n_cols cells (copied; a NULL cell prints as "-"). -ENOMEM. */
int cl_table_add(cl_table *t, const char *const *cells);

/* Number of rows added so far (the header not counted). */
size_t cl_table_rows(const cl_table *t);

/* Print the header and the rows to `f`. With `header` false only the rows. */
void cl_table_print(const cl_table *t, bool header, FILE *f);
