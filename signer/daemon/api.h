/* SPDX-License-Identifier: MIT */
/*
 * signer/daemon/api.h -- the HTTP/1.1 + JSON API on the daemon's Unix socket (SPEC §5),
 * served by libmicrohttpd driven from the daemon's sd-event loop (its epoll fd is one
 * event source; no thread of its own). This release serves health and zone status; the
 * record API builds on the same routing.
 *
 * Every error is {"status":"error","error":{"code":...,"message":...}} with the code's
 * HTTP status from the one error catalogue (policy/zk-error.h).
 */
#pragma once

#include <jansson.h>
#include <systemd/sd-event.h>

#include "policy/policy.h"
#include "policy/zk-error.h"

typedef struct api api;

typedef struct api_handlers {
	/* GET /v1/zones: an array; GET /v1/zones/{zone}: an object, or ZK_E_ZONE_NOT_FOUND */
	int (*zones)(void *userdata, json_t **ret);
	int (*zone)(void *userdata, const char *name, json_t **ret, zk_error *reterr);
	void *userdata;
} api_handlers;

/*
 * Serve on `listen_fd` (a listening stream socket; the api takes it over). Limits from
 * the configuration: max_connections, idle_timeout, max_body.
 */
int api_new(sd_event *e, int listen_fd, const pol_config *cfg, const api_handlers *h,
	    api **ret, zk_error *reterr);
api *api_free(api *a);

/*
 * The socket to serve: the one systemd passed (socket activation), else a Unix socket
 * created at `path` with mode 0660 (a stale one is replaced). *ret_activated says which.
 */
int api_listen_socket(const char *path, int *ret_fd, bool *ret_activated, zk_error *reterr);
