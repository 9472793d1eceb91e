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

#include <arpa/inet.h>
#include <netdb.h>
#include <stdio.h>
#include <strings.h>

#include <microhttpd.h>
#include <openssl/crypto.h>
#include <openssl/sha.h>
#include <systemd/sd-daemon.h>

#include "policy/zk-file.h"
#include "policy/zk-macro.h"
#include "signer/daemon/api.h"
#include "signer/daemon/log.h"

#define HEADER_LIMIT (64 * 1024)   /* request line and headers, per connection */
#define TCP_PER_IP_LIMIT 16         /* connections one TCP client may hold */
#define MAX_STATUS 32

typedef struct conn conn;

typedef struct listener {
	api *a;
	struct MHD_Daemon *mhd;
	sd_event_source *io, *timer;
	bool tcp;
	bool running;        /* in MHD_run */
	bool again;          /* kicked while MHD ran: run it once more at once */
	/* TCP: the open connections, oldest first, and the header deadline's timer */
	conn *head, *tail;
	size_t n_conns;
	unsigned max_conns, idle_timeout;
	sd_event_source *deadline;
} listener;

/* One TCP connection (MHD's socket context; none on the Unix socket). */
struct conn {
	listener *l;
	struct MHD_Connection *c;
	conn *prev, *next;
	uint64_t deadline;   /* CLOCK_MONOTONIC µs: its first authorised request by then */
	bool authorised;     /* it completed the headers of an authorised request */
	bool shut;           /* closed by us; MHD notices on its next run */
};

struct api {
	sd_event *event;
	listener l[2];
	size_t n_listeners;
	api_handler h;
	void *userdata;
	size_t max_body;
	uint8_t (*token_hash)[SHA256_DIGEST_LENGTH];
	size_t n_tokens;
	api_status_count status[MAX_STATUS];
	size_t n_status;
};

struct api_req {
	api *a;
	listener *l;
	struct MHD_Connection *c;
	char *method, *path;
	char *body;
	size_t len, cap;
	bool too_big, handled, suspended;
	struct MHD_Response *resp;
	unsigned status;
	char peer[96];
};

/* The URI callback's mark on a request whose raw path has %2F or %00. */
static char bad_path_mark;
#define BAD_PATH ((void *) &bad_path_mark)

static void count_status(api *a, unsigned status)
{
	for (size_t i = 0; i < a->n_status; i++)
		if (a->status[i].status == status) {
			a->status[i].count++;
			return;
		}
	if (a->n_status < MAX_STATUS)
		a->status[a->n_status++] = (api_status_count) { .status = status, .count = 1 };
}

size_t api_status_counts(const api *a, api_status_count *out, size_t max)
{
	size_t n = a->n_status < max ? a->n_status : max;

	memcpy(out, a->status, n * sizeof(*out));
	return n;
}

static void kick(listener *l);

/* ---------------------------------------------------------------- valid UTF-8 */

/* Length of the valid UTF-8 sequence at s (1 to 4), or 0 (RFC 3629: no overlong forms,
 * no surrogates, nothing above U+10FFFF; jansson checks the same). */
static size_t utf8_seq(const unsigned char *s)
{
	unsigned char c = s[0];
	size_t n;
	unsigned char lo = 0x80, hi = 0xbf;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		n = 2;
	else if (c >= 0xe0 && c <= 0xef)
		n = 3;
	else if (c >= 0xf0 && c <= 0xf4)
		n = 4;
	else
		return 0;
	if (c == 0xe0)
		lo = 0xa0;
	else if (c == 0xed)
		hi = 0x9f;
	else if (c == 0xf0)
		lo = 0x90;
	else if (c == 0xf4)
		hi = 0x8f;
	if (s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < n; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	return n;
}

char *api_utf8(const char *s)
{
	const unsigned char *p = (const unsigned char *) s;
	size_t len = strlen(s), o = 0;
	char *out = malloc(len * 4 + 1);

	if (!out)
		return NULL;
	while (*p) {
		size_t n = utf8_seq(p);

		if (n) {
			memcpy(out + o, p, n);
			o += n;
			p += n;
		} else {
			o += (size_t) snprintf(out + o, 5, "\\x%02x", *p++);
		}
	}
	out[o] = '\0';
	return out;
}

json_t *api_json_string(const char *s)
{
	char *v = api_utf8(s ? s : "");
	json_t *j = v ? json_string(v) : NULL;

	free(v);
	return j;
}

static void set_reply(api_req *r, unsigned status, const char *ctype, char *body)
{
	struct MHD_Response *resp;

	if (r->resp) {
		free(body);
		return; /* answered already */
	}
	resp = MHD_create_response_from_buffer(body ? strlen(body) : 0, body ? body : (char *) "",
					       body ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
	if (!resp) {
		free(body);
		return;
	}
	MHD_add_response_header(resp, "Content-Type", ctype);
	/* a zone still loading, a journal not writable yet: worth asking again soon */
	if (status == 503)
		MHD_add_response_header(resp, "Retry-After", "5");
	if (status == 401) {
		MHD_add_response_header(resp, "WWW-Authenticate", "Bearer");
		/* no second try on a connection that failed once: its slot is for others */
		MHD_add_response_header(resp, "Connection", "close");
	}
	r->resp = resp;
	r->status = status;
	if (r->suspended) {
		r->suspended = false;
		MHD_resume_connection(r->c);
		kick(r->l);
	}
}

void api_reply_text(api_req *r, unsigned status, const char *content_type, char *body)
{
	set_reply(r, status, content_type, body);
}

void api_reply_json(api_req *r, unsigned status, json_t *j)
{
	char *body = j ? json_dumps(j, JSON_COMPACT) : NULL;

	json_decref(j);
	if (!body) {
		body = strdup("{\"status\":\"error\",\"error\":{\"code\":\"INTERNAL\","
			      "\"message\":\"internal error\"}}");
		status = 500;
	}
	set_reply(r, status, "application/json", body);
}

void api_reply_error(api_req *r, int code, const zk_error *e)
{
	char message[700];
	json_t *err;

	if (!zk_code_is_domain(code) && !(e && e->message[0]))
		snprintf(message, sizeof(message), "internal error: %s", strerror(-code));
	else if (e && e->message[0])
		snprintf(message, sizeof(message), "%s: %s", zk_code_text(code), e->message);
	else
		snprintf(message, sizeof(message), "%s", zk_code_text(code));
	/* the message may quote the request (a name, a line of an import) byte for byte, or
	 * be cut inside a UTF-8 sequence by a precision; the line, not the file: the file of
	 * an error may be a path on this server */
	err = json_pack("{s:s,s:o}", "code", zk_code_name(code), "message",
			api_json_string(message));
	if (err && e && e->line)
		json_object_set_new(err, "line", json_integer(e->line));
	api_reply_json(r, zk_code_http(code),
		       err ? json_pack("{s:s,s:o}", "status", "error", "error", err) : NULL);
}

const char *api_req_method(const api_req *r)
{
	return r->method;
}

const char *api_req_path(const api_req *r)
{
	return r->path;
}

const char *api_req_query(const api_req *r, const char *key)
{
	return MHD_lookup_connection_value(r->c, MHD_GET_ARGUMENT_KIND, key);
}

const char *api_req_body(const api_req *r, size_t *len)
{
	*len = r->len;
	return r->body ? r->body : "";
}

const char *api_req_peer(const api_req *r)
{
	return r->peer;
}

static void fill_peer(api_req *r)
{
	const union MHD_ConnectionInfo *ci;

	snprintf(r->peer, sizeof(r->peer), "unknown");
	if (r->l->tcp) {
		char host[INET6_ADDRSTRLEN] = "?";

		ci = MHD_get_connection_info(r->c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
		if (ci && ci->client_addr) {
			const struct sockaddr *sa = ci->client_addr;

			if (sa->sa_family == AF_INET)
				inet_ntop(AF_INET, &((const struct sockaddr_in *) sa)->sin_addr, host,
					  sizeof(host));
			else if (sa->sa_family == AF_INET6)
				inet_ntop(AF_INET6, &((const struct sockaddr_in6 *) sa)->sin6_addr,
					  host, sizeof(host));
		}
		snprintf(r->peer, sizeof(r->peer), "tcp %s", host);
		return;
	}
	ci = MHD_get_connection_info(r->c, MHD_CONNECTION_INFO_CONNECTION_FD);
	if (ci) {
		struct ucred cred;
		socklen_t len = sizeof(cred);

		if (getsockopt(ci->connect_fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0)
			snprintf(r->peer, sizeof(r->peer), "uid=%u pid=%d", (unsigned) cred.uid,
				 (int) cred.pid);
	}
}

/* Bearer token check: SHA-256 of both sides compared in constant time, every token. */
static bool token_ok(const api *a, struct MHD_Connection *c)
{
	const char *h = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");
	uint8_t md[SHA256_DIGEST_LENGTH];
	int match = 0;

	if (!h || strncasecmp(h, "Bearer ", 7) != 0)
		return false;
	h += 7;
	SHA256((const unsigned char *) h, strlen(h), md);
	for (size_t i = 0; i < a->n_tokens; i++)
		match |= CRYPTO_memcmp(md, a->token_hash[i], sizeof(md)) == 0;
	return match;
}

/* ---------------------------------------------------------------- TCP connections */

static uint64_t mono_now(const api *a)
{
	uint64_t now;

	sd_event_now(a->event, CLOCK_MONOTONIC, &now);
	return now;
}

static void conn_unlink(listener *l, conn *k)
{
	*(k->prev ? &k->prev->next : &l->head) = k->next;
	*(k->next ? &k->next->prev : &l->tail) = k->prev;
	k->prev = k->next = NULL;
}

/*
 * Close a connection MHD owns: shut its socket down, and MHD's next run finds it at end
 * of file and closes it (MHD has no call to close a connection from outside its
 * callbacks; closing the fd ourselves would let MHD use a reused number).
 */
static void conn_shut(conn *k)
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(k->c, MHD_CONNECTION_INFO_CONNECTION_FD);

	if (k->shut || !ci)
		return;
	k->shut = true;
	(void) shutdown(ci->connect_fd, SHUT_RDWR);
	kick(k->l);
}

/* Arm the deadline timer for the oldest connection still waiting for its authorisation. */
static void deadline_rearm(listener *l)
{
	if (!l->deadline)
		return;
	for (conn *k = l->head; k; k = k->next)
		if (!k->authorised && !k->shut) {
			sd_event_source_set_time(l->deadline, k->deadline);
			sd_event_source_set_enabled(l->deadline, SD_EVENT_ONESHOT);
			return;
		}
	sd_event_source_set_enabled(l->deadline, SD_EVENT_OFF);
}

static int on_deadline(sd_event_source *s, uint64_t usec, void *userdata)
{
	listener *l = userdata;
	uint64_t now = mono_now(l->a);
	unsigned closed = 0;

	for (conn *k = l->head; k; k = k->next)
		if (!k->authorised && !k->shut && k->deadline <= now) {
			conn_shut(k);
			closed++;
		}
	if (closed)
		dlog(ZK_LOG_DEBUG, NULL, "api: closed %u connection%s without an authorised "
		     "request within %d s", closed, closed == 1 ? "" : "s", API_HEADER_DEADLINE);
	deadline_rearm(l);
	return 0;
}

static void on_connection(void *cls, struct MHD_Connection *c, void **socket_context,
			  enum MHD_ConnectionNotificationCode toe)
{
	listener *l = cls;
	conn *k = *socket_context;

	if (toe == MHD_CONNECTION_NOTIFY_CLOSED) {
		/* at max_connections MHD took its listening socket out of its epoll set, and
		 * puts it back only when it runs again: run it now, not at its next timeout */
		kick(l);
		if (!k)
			return;
		conn_unlink(l, k);
		l->n_conns--;
		free(k);
		*socket_context = NULL;
		deadline_rearm(l);
		return;
	}
	if (!l->tcp)
		return; /* the Unix socket: no token, no deadline */
	k = calloc(1, sizeof(*k));
	if (!k) {
		const union MHD_ConnectionInfo *ci =
			MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);

		if (ci)
			(void) shutdown(ci->connect_fd, SHUT_RDWR); /* cannot track it: refuse it */
		return;
	}
	k->l = l;
	k->c = c;
	k->deadline = mono_now(l->a) + API_HEADER_DEADLINE * UINT64_C(1000000);
	k->prev = l->tail;
	*(l->tail ? &l->tail->next : &l->head) = k;
	l->tail = k;
	*socket_context = k;
	/* the last slot taken: free one from the oldest client that has not shown a token */
	if (++l->n_conns >= l->max_conns)
		for (conn *o = l->head; o && o != k; o = o->next)
			if (!o->authorised && !o->shut) {
				dlog(ZK_LOG_DEBUG, NULL, "api: %zu connections: closing the oldest "
				     "one not authorised yet", l->n_conns);
				conn_shut(o);
				break;
			}
	deadline_rearm(l);
}

/* The connection showed a valid token: it keeps its slot, with the idle timeout. */
static void conn_authorised(listener *l, struct MHD_Connection *c)
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	conn *k = ci ? ci->socket_context : NULL;

	if (!k || k->authorised)
		return;
	k->authorised = true;
	MHD_set_connection_option(c, MHD_CONNECTION_OPTION_TIMEOUT, l->idle_timeout);
	deadline_rearm(l);
}

/*
 * MHD gives handlers the path percent-decoded: "%2F" would split a segment in two and
 * "%00" cut the path short. Check the raw one: the mark makes the request a 400. (A NUL
 * has no use anywhere in a URI, so the query is checked for %00 too.)
 */
static void *on_uri(void *cls, const char *uri, struct MHD_Connection *c)
{
	size_t path_len = strcspn(uri, "?");

	for (const char *p = uri; (p = strchr(p, '%')) && p[1] && p[2]; p++) {
		if (p[1] == '0' && p[2] == '0')
			return BAD_PATH;
		if ((size_t) (p - uri) < path_len && p[1] == '2' && (p[2] == 'f' || p[2] == 'F'))
			return BAD_PATH;
	}
	return NULL;
}

static enum MHD_Result queue(api_req *r)
{
	enum MHD_Result ret = MHD_queue_response(r->c, r->status, r->resp);

	count_status(r->a, r->status);
	MHD_destroy_response(r->resp);
	r->resp = NULL;
	return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
				  const char *method, const char *version,
				  const char *upload_data, size_t *upload_size, void **con_cls)
{
	listener *l = cls;
	api *a = l->a;
	api_req *r = *con_cls;

	if (!r || r == BAD_PATH) {
		const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Length");
		bool bad_path = r == BAD_PATH;

		r = calloc(1, sizeof(*r));
		if (!r)
			return MHD_NO;
		r->a = a;
		r->l = l;
		r->c = c;
		r->method = strdup(method);
		r->path = strdup(url);
		*con_cls = r;
		if (!r->method || !r->path)
			return MHD_NO;
		fill_peer(r);
		/* refuse before reading a byte of the body */
		if (l->tcp && !token_ok(a, c)) {
			zk_error e;

			zk_fail(&e, ZK_E_UNAUTHORIZED,
				"send \"Authorization: Bearer <token>\" with one of api.tokens");
			api_reply_error(r, ZK_E_UNAUTHORIZED, &e);
			return queue(r);
		}
		if (l->tcp)
			conn_authorised(l, c);
		if (bad_path) {
			zk_error e;

			zk_fail(&e, ZK_E_BAD_REQUEST, "the path must not contain %%2F (an encoded "
				"'/') or %%00 (an encoded NUL)");
			api_reply_error(r, ZK_E_BAD_REQUEST, &e);
			return queue(r);
		}
		if (cl && strtoull(cl, NULL, 10) > a->max_body) {
			zk_error e;

			zk_fail(&e, ZK_E_PAYLOAD_TOO_LARGE, "the body is %s bytes, the limit "
				"(api.max_body) is %zu", cl, a->max_body);
			api_reply_error(r, ZK_E_PAYLOAD_TOO_LARGE, &e);
			return queue(r);
		}
		return MHD_YES;
	}
	if (*upload_size) {
		/* a body sent without Content-Length (chunked): count it, keep what fits */
		if (!r->too_big && r->len + *upload_size > a->max_body)
			r->too_big = true;
		if (!r->too_big) {
			if (r->len + *upload_size + 1 > r->cap) {
				size_t cap = (r->len + *upload_size + 1) * 2;
				char *nb;

				if (cap > a->max_body + 1)
					cap = a->max_body + 1;
				nb = realloc(r->body, cap);
				if (!nb)
					return MHD_NO;
				r->body = nb;
				r->cap = cap;
			}
			memcpy(r->body + r->len, upload_data, *upload_size);
			r->len += *upload_size;
			r->body[r->len] = '\0';
		}
		*upload_size = 0;
		return MHD_YES;
	}
	if (r->resp)
		return queue(r); /* answered while suspended, or by the checks above */
	if (r->handled)
		return MHD_YES;  /* still waiting */
	r->handled = true;
	if (r->too_big) {
		zk_error e;

		zk_fail(&e, ZK_E_PAYLOAD_TOO_LARGE, "the body is over the limit (api.max_body) of "
			"%zu bytes", a->max_body);
		api_reply_error(r, ZK_E_PAYLOAD_TOO_LARGE, &e);
		return queue(r);
	}
	if (a->h(a->userdata, r) == API_LATER && !r->resp) {
		r->suspended = true;
		MHD_suspend_connection(c);
		return MHD_YES;
	}
	if (!r->resp)
		api_reply_error(r, -EIO, NULL);
	return queue(r);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
			 enum MHD_RequestTerminationCode toe)
{
	api_req *r = *con_cls;

	if (!r || r == BAD_PATH) {
		*con_cls = NULL; /* a request given up before the handler saw it */
		return;
	}
	if (r->resp)
		MHD_destroy_response(r->resp);
	free(r->method);
	free(r->path);
	free(r->body);
	free(r);
	*con_cls = NULL;
}

static int rearm(listener *l)
{
	MHD_UNSIGNED_LONG_LONG ms;
	uint64_t now;

	if (l->again) {
		kick(l);
		return 0;
	}
	if (MHD_get_timeout(l->mhd, &ms) != MHD_YES)
		return sd_event_source_set_enabled(l->timer, SD_EVENT_OFF);
	sd_event_now(l->a->event, CLOCK_MONOTONIC, &now);
	sd_event_source_set_time(l->timer, now + ms * 1000);
	return sd_event_source_set_enabled(l->timer, SD_EVENT_ONESHOT);
}

/*
 * Run MHD soon: a resumed connection has a reply to send, or a closed one freed a slot
 * (MHD takes up its listening socket again only when it runs). From inside MHD_run, the
 * rearm after it keeps the kick.
 */
static void kick(listener *l)
{
	uint64_t now;

	if (l->running)
		l->again = true;
	if (!l->timer)
		return; /* being freed */
	sd_event_now(l->a->event, CLOCK_MONOTONIC, &now);
	sd_event_source_set_time(l->timer, now);
	sd_event_source_set_enabled(l->timer, SD_EVENT_ONESHOT);
}

static void run_mhd(listener *l)
{
	l->again = false;
	l->running = true;
	MHD_run(l->mhd);
	l->running = false;
	rearm(l);
}

static int on_io(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	listener *l = userdata;

	run_mhd(l);
	return 0;
}

static int on_timer(sd_event_source *s, uint64_t usec, void *userdata)
{
	listener *l = userdata;

	run_mhd(l);
	return 0;
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	char msg[512];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	msg[strcspn(msg, "\n")] = '\0';
	dlog(ZK_LOG_DEBUG, NULL, "api: %s", msg);
}

static int listener_start(api *a, listener *l, int fd, const pol_config *cfg, bool tcp,
			  zk_error *reterr)
{
	const union MHD_DaemonInfo *info;
	int r;

	unsigned timeout = (unsigned) cfg->api.idle_timeout;

	l->a = a;
	l->tcp = tcp;
	l->max_conns = (unsigned) cfg->api.max_connections;
	l->idle_timeout = timeout;
	/* TCP: until a connection has shown a token, the header deadline as its idle
	 * timeout too (raised in conn_authorised) */
	if (tcp && timeout > API_HEADER_DEADLINE)
		timeout = API_HEADER_DEADLINE;
	/* MHD_USE_EPOLL without a thread: one epoll fd to watch from our loop */
	l->mhd = MHD_start_daemon(MHD_USE_EPOLL | MHD_USE_ERROR_LOG | MHD_ALLOW_SUSPEND_RESUME,
				  0, NULL, NULL, on_request, l,
				  MHD_OPTION_LISTEN_SOCKET, fd,
				  MHD_OPTION_CONNECTION_LIMIT, (unsigned) cfg->api.max_connections,
				  MHD_OPTION_CONNECTION_TIMEOUT, timeout,
				  MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t) HEADER_LIMIT,
				  MHD_OPTION_PER_IP_CONNECTION_LIMIT, tcp ? TCP_PER_IP_LIMIT : 0u,
				  MHD_OPTION_NOTIFY_COMPLETED, on_completed, l,
				  MHD_OPTION_URI_LOG_CALLBACK, on_uri, l,
				  MHD_OPTION_NOTIFY_CONNECTION, on_connection, l,
				  MHD_OPTION_EXTERNAL_LOGGER, mhd_log, a, MHD_OPTION_END);
	if (!l->mhd) {
		close(fd);
		return zk_fail(reterr, ZK_E_CONFIG, "cannot start the API server%s",
			       tcp ? " on api.listen" : "");
	}
	info = MHD_get_daemon_info(l->mhd, MHD_DAEMON_INFO_EPOLL_FD);
	r = info ? sd_event_add_io(a->event, &l->io, info->epoll_fd, EPOLLIN, on_io, l) : -EINVAL;
	if (r >= 0)
		/* accuracy 1 us: sd-event's default (0) is 250 ms, which held every resumed
		 * reply back to the next step of a 250 ms grid */
		r = sd_event_add_time(a->event, &l->timer, CLOCK_MONOTONIC, 0, 1, on_timer, l);
	if (r >= 0 && tcp) {
		r = sd_event_add_time(a->event, &l->deadline, CLOCK_MONOTONIC, 0, 1000,
				      on_deadline, l);
		if (r >= 0)
			r = sd_event_source_set_enabled(l->deadline, SD_EVENT_OFF);
	}
	if (r < 0)
		return zk_fail(reterr, r, "cannot watch the API server");
	rearm(l);
	return 0;
}

/* A listening TCP socket on api.listen ("ADDR:PORT" or "[ADDR]:PORT", checked by policy/). */
static int tcp_socket(const char *listen_on, int *ret_fd, zk_error *reterr)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM,
				  .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE };
	_cleanup_free_ char *host = strdup(listen_on);
	struct addrinfo *ai = NULL;
	char *port;
	int fd, one = 1, r;

	if (!host)
		return zk_fail(reterr, -ENOMEM, "out of memory");
	port = strrchr(host, ':');
	if (!port)
		return zk_fail(reterr, ZK_E_CONFIG, "api.listen: no port in %s", listen_on);
	*port++ = '\0';
	if (host[0] == '[') {
		memmove(host, host + 1, strlen(host));
		host[strcspn(host, "]")] = '\0';
	}
	r = getaddrinfo(host, port, &hints, &ai);
	if (r)
		return zk_fail(reterr, ZK_E_CONFIG, "api.listen %s: %s", listen_on, gai_strerror(r));
	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(fd, 64) < 0) {
		r = -errno;
		if (fd >= 0)
			close(fd);
		freeaddrinfo(ai);
		return zk_fail(reterr, r, "cannot listen on api.listen %s", listen_on);
	}
	freeaddrinfo(ai);
	*ret_fd = fd;
	return 0;
}

int api_new(sd_event *e, int unix_fd, const pol_config *cfg, api_handler h, void *userdata,
	    api **ret, zk_error *reterr)
{
	api *a = calloc(1, sizeof(*a));
	int r, fd = -1;

	if (!a) {
		close(unix_fd);
		return zk_fail(reterr, -ENOMEM, "out of memory");
	}
	a->event = sd_event_ref(e);
	a->h = h;
	a->userdata = userdata;
	a->max_body = cfg->api.max_body;
	r = listener_start(a, &a->l[a->n_listeners++], unix_fd, cfg, false, reterr);
	if (r >= 0 && cfg->api.listen) {
		a->token_hash = calloc(cfg->api.n_tokens ? cfg->api.n_tokens : 1,
				       sizeof(*a->token_hash));
		if (!a->token_hash)
			r = zk_fail(reterr, -ENOMEM, "out of memory");
		for (size_t i = 0; r >= 0 && i < cfg->api.n_tokens; i++)
			SHA256((const unsigned char *) cfg->api.tokens[i], strlen(cfg->api.tokens[i]),
			       a->token_hash[a->n_tokens++]);
		if (r >= 0)
			r = tcp_socket(cfg->api.listen, &fd, reterr);
		if (r >= 0)
			r = listener_start(a, &a->l[a->n_listeners++], fd, cfg, true, reterr);
	}
	if (r < 0) {
		api_free(a);
		return r;
	}
	*ret = a;
	return 0;
}

api *api_free(api *a)
{
	if (!a)
		return NULL;
	for (size_t i = 0; i < a->n_listeners; i++) {
		listener *l = &a->l[i];

		/* its fd is MHD's epoll fd: unwatched while it is open */
		l->io = sd_event_source_disable_unref(l->io);
		if (l->mhd)
			MHD_stop_daemon(l->mhd); /* closes the listening socket too */
		/* after the stop: it tells on_connection of every connection it closes, which
		 * kicks the timer and rearms the deadline */
		l->timer = sd_event_source_disable_unref(l->timer);
		l->deadline = sd_event_source_disable_unref(l->deadline);
		while (l->head) {
			conn *k = l->head;

			conn_unlink(l, k);
			free(k);
		}
	}
	if (a->token_hash)
		OPENSSL_cleanse(a->token_hash, a->n_tokens * sizeof(*a->token_hash));
	free(a->token_hash);
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
	/* 0660: the service's user and group only (invariant 25) */
	if (chmod(path, 0660) < 0 || listen(fd, 64) < 0)
		return zk_fail(reterr, -errno, "cannot set up the API socket %s", path);
	*ret_fd = ZK_TAKE_FD(fd);
	*ret_activated = false;
	return 0;
}
