/* SPDX-License-Identifier: MIT */
/*
 * signer/daemon/api.c -- see api.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <microhttpd.h>
#include <systemd/sd-daemon.h>

#include "policy/zk-file.h"
#include "policy/zk-macro.h"
#include "signer/daemon/api.h"
#include "signer/daemon/log.h"

struct api {
	sd_event *event;
	struct MHD_Daemon *mhd;
	sd_event_source *io, *timer;
	api_handlers h;
	size_t max_body;
};

static int reply_json(struct MHD_Connection *c, unsigned status, json_t *j)
{
	char *body = json_dumps(j, JSON_COMPACT);
	struct MHD_Response *r;
	int ret;

	json_decref(j);
	if (!body)
		return MHD_NO;
	r = MHD_create_response_from_buffer(strlen(body), body, MHD_RESPMEM_MUST_FREE);
	if (!r) {
		free(body);
		return MHD_NO;
	}
	MHD_add_response_header(r, "Content-Type", "application/json");
	ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

static int reply_error(struct MHD_Connection *c, int code, const zk_error *e)
{
	char message[700];

	if (!zk_code_is_domain(code))
		snprintf(message, sizeof(message), "internal error");
	else if (e && e->message[0])
		snprintf(message, sizeof(message), "%s: %s", zk_code_text(code), e->message);
	else
		snprintf(message, sizeof(message), "%s", zk_code_text(code));
	return reply_json(c, zk_code_http(code),
			  json_pack("{s:s,s:{s:s,s:s}}", "status", "error", "error", "code",
				    zk_code_name(code), "message", message));
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
				  const char *method, const char *version,
				  const char *upload_data, size_t *upload_size, void **con_cls)
{
	api *a = cls;
	zk_error e = { 0 };
	json_t *j = NULL;
	int r;

	/* first call per request: headers only; bodies are refused until the record API */
	if (!*con_cls) {
		*con_cls = a;
		return MHD_YES;
	}
	if (*upload_size) {
		*upload_size = 0; /* drained; the reply below says what is wrong */
		return MHD_YES;
	}
	if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
		return reply_error(c, ZK_E_METHOD_NOT_ALLOWED, NULL) == MHD_YES ? MHD_YES : MHD_NO;
	if (!strcmp(url, "/v1/health"))
		return reply_json(c, 200, json_pack("{s:s}", "status", "ok")) == MHD_YES ? MHD_YES
											 : MHD_NO;
	if (!strcmp(url, "/v1/zones")) {
		r = a->h.zones(a->h.userdata, &j);
		if (r < 0)
			return reply_error(c, r, NULL) == MHD_YES ? MHD_YES : MHD_NO;
		return reply_json(c, 200, json_pack("{s:s,s:o}", "status", "ok", "zones", j)) ==
				       MHD_YES ? MHD_YES : MHD_NO;
	}
	if (!strncmp(url, "/v1/zones/", 10) && url[10] && !strchr(url + 10, '/')) {
		r = a->h.zone(a->h.userdata, url + 10, &j, &e);
		if (r < 0)
			return reply_error(c, r, &e) == MHD_YES ? MHD_YES : MHD_NO;
		return reply_json(c, 200, json_pack("{s:s,s:o}", "status", "ok", "zone", j)) ==
				       MHD_YES ? MHD_YES : MHD_NO;
	}
	return reply_error(c, ZK_E_NOT_FOUND, NULL) == MHD_YES ? MHD_YES : MHD_NO;
}

static int rearm(api *a)
{
	MHD_UNSIGNED_LONG_LONG ms;
	uint64_t now;

	if (MHD_get_timeout(a->mhd, &ms) != MHD_YES)
		return sd_event_source_set_enabled(a->timer, SD_EVENT_OFF);
	sd_event_now(a->event, CLOCK_MONOTONIC, &now);
	sd_event_source_set_time(a->timer, now + ms * 1000);
	return sd_event_source_set_enabled(a->timer, SD_EVENT_ONESHOT);
}

static int on_io(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	api *a = userdata;

	MHD_run(a->mhd);
	rearm(a);
	return 0;
}

static int on_timer(sd_event_source *s, uint64_t usec, void *userdata)
{
	api *a = userdata;

	MHD_run(a->mhd);
	rearm(a);
	return 0;
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	char msg[512];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	msg[strcspn(msg, "\n")] = '\0';
	dlog(ZK_LOG_DEBUG, NULL, "api: %s", msg);
}

int api_new(sd_event *e, int listen_fd, const pol_config *cfg, const api_handlers *h,
	    api **ret, zk_error *reterr)
{
	api *a = calloc(1, sizeof(*a));
	const union MHD_DaemonInfo *info;
	int r;

	if (!a) {
		close(listen_fd);
		return zk_fail(reterr, -ENOMEM, "out of memory");
	}
	a->event = sd_event_ref(e);
	a->h = *h;
	a->max_body = cfg->api.max_body;
	/* MHD_USE_EPOLL without a thread: one epoll fd to watch from our loop */
	a->mhd = MHD_start_daemon(MHD_USE_EPOLL | MHD_USE_ERROR_LOG, 0, NULL, NULL, on_request, a,
				  MHD_OPTION_LISTEN_SOCKET, listen_fd,
				  MHD_OPTION_CONNECTION_LIMIT, (unsigned) cfg->api.max_connections,
				  MHD_OPTION_CONNECTION_TIMEOUT, (unsigned) cfg->api.idle_timeout,
				  MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t) 64 * 1024,
				  MHD_OPTION_EXTERNAL_LOGGER, mhd_log, a, MHD_OPTION_END);
	if (!a->mhd) {
		close(listen_fd);
		api_free(a);
		return zk_fail(reterr, ZK_E_CONFIG, "cannot start the API server");
	}
	info = MHD_get_daemon_info(a->mhd, MHD_DAEMON_INFO_EPOLL_FD);
	r = info ? sd_event_add_io(e, &a->io, info->epoll_fd, EPOLLIN, on_io, a) : -EINVAL;
	if (r >= 0)
		r = sd_event_add_time(e, &a->timer, CLOCK_MONOTONIC, 0, 0, on_timer, a);
	if (r < 0) {
		api_free(a);
		return zk_fail(reterr, r, "cannot watch the API server");
	}
	rearm(a);
	*ret = a;
	return 0;
}

api *api_free(api *a)
{
	if (!a)
		return NULL;
	sd_event_source_disable_unref(a->io);
	sd_event_source_disable_unref(a->timer);
	if (a->mhd)
		MHD_stop_daemon(a->mhd); /* closes the listening socket too */
	sd_event_unref(a->event);
	free(a);
	return NULL;
}

int api_listen_socket(const char *path, int *ret_fd, bool *ret_activated, zk_error *reterr)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	_cleanup_close_ int fd = -1;
	_cleanup_free_ char *dir = NULL;
	int n = sd_listen_fds(1), r;

	if (n > 0) {
		/* socket activation: the first socket systemd passed (zonekeeperd.socket) */
		if (sd_is_socket(SD_LISTEN_FDS_START, AF_UNSPEC, SOCK_STREAM, 1) <= 0)
			return zk_fail(reterr, ZK_E_CONFIG,
				       "the socket passed by systemd is not a listening stream socket");
		*ret_fd = SD_LISTEN_FDS_START;
		*ret_activated = true;
		return 0;
	}
	if (strlen(path) >= sizeof(sa.sun_path))
		return zk_fail(reterr, ZK_E_CONFIG, "api.socket path is too long: %s", path);
	dir = strdup(path);
	if (!dir)
		return zk_fail(reterr, -ENOMEM, "out of memory");
	r = zk_mkdir_p(dirname(dir), 0750);
	if (r < 0)
		return zk_fail(reterr, r, "cannot create the directory of %s", path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return zk_fail(reterr, -errno, "cannot create the API socket");
	strcpy(sa.sun_path, path);
	(void) unlink(path); /* a stale socket of an earlier run */
	if (bind(fd, (struct sockaddr *) &sa, sizeof(sa)) < 0)
		return zk_fail(reterr, -errno, "cannot bind the API socket %s", path);
	/* 0660: the service's user and group only (INVARIANTS 25) */
	if (chmod(path, 0660) < 0 || listen(fd, 64) < 0)
		return zk_fail(reterr, -errno, "cannot set up the API socket %s", path);
	*ret_fd = ZK_TAKE_FD(fd);
	*ret_activated = false;
	return 0;
}
