/* SPDX-License-Identifier: MIT */
/*
 * signer/cli/client.c -- the transport half of client.h: HTTP/1.1 over the daemon's Unix
 * socket with libcurl (CURLOPT_UNIX_SOCKET_PATH), one easy handle per client so the
 * requests of one command share a connection.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <curl/curl.h>

#include "signer/cli/client.h"

/* The host part only fills the Host: header; the socket decides where requests go. */
#define BASE_URL "http://zonekeeperd"

struct cl_client {
	CURL *curl;
	char *socket;
	unsigned timeout;
};

struct sink {
	char *buf;
	size_t len, cap;
	bool oom;
};

cl_client *cl_client_free(cl_client *c)
{
	if (!c)
		return NULL;
	if (c->curl)
		curl_easy_cleanup(c->curl);
	free(c->socket);
	free(c);
	curl_global_cleanup(); /* balances the init of cl_client_new() */
	return NULL;
}

int cl_client_new(const char *socket_path, unsigned timeout, cl_client **ret)
{
	cl_client *c;

	/* reference-counted by libcurl; not thread-safe, and the CLI has one thread */
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return -EIO;
	c = calloc(1, sizeof(*c));
	if (!c) {
		curl_global_cleanup();
		return -ENOMEM;
	}
	c->socket = strdup(socket_path);
	c->curl = curl_easy_init();
	c->timeout = timeout;
	if (!c->socket || !c->curl) {
		cl_client_free(c);
		return -ENOMEM;
	}
	*ret = c;
	return 0;
}

const char *cl_client_socket(const cl_client *c)
{
	return c->socket;
}

static size_t on_data(char *data, size_t size, size_t n, void *userdata)
{
	struct sink *s = userdata;
	size_t len = size * n;

	if (s->len + len + 1 > s->cap) {
		size_t cap = (s->len + len + 1) * 2;
		char *b = realloc(s->buf, cap);

		if (!b) {
			s->oom = true;
			return 0; /* makes libcurl fail the transfer */
		}
		s->buf = b;
		s->cap = cap;
	}
	memcpy(s->buf + s->len, data, len);
	s->len += len;
	s->buf[s->len] = '\0';
	return len;
}

static void setup(cl_client *c, const char *method, const char *url, struct curl_slist *hdrs,
		  const char *body, size_t len, struct sink *s, char *errbuf)
{
	CURL *h = c->curl;

	curl_easy_reset(h);
	curl_easy_setopt(h, CURLOPT_UNIX_SOCKET_PATH, c->socket);
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, s);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 10L);
	curl_easy_setopt(h, CURLOPT_TIMEOUT, (long) c->timeout);
	if (body) {
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t) len);
	}
}

/* The reply's body into r->body (never NULL after this) and r->json. */
static int take_body(struct sink *s, cl_response *r)
{
	if (!s->buf) {
		s->buf = strdup("");
		if (!s->buf)
			return -ENOMEM;
	}
	r->body = s->buf;
	r->body_len = s->len;
	s->buf = NULL;
	r->json = json_loadb(r->body, r->body_len, 0, NULL);
	return 0;
}

/*
 * libcurl says "Failed to connect to zonekeeperd port 80" for every reason, which reads
 * as if TCP were involved: connect once more ourselves for the errno (ENOENT: no socket,
 * ECONNREFUSED: nobody listening, EACCES: not allowed).
 */
static void connect_error(const char *path, char *buf, size_t n)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd, err = 0;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		snprintf(buf, n, "socket path too long");
		return;
	}
	memcpy(sa.sun_path, path, strlen(path));
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *) &sa, sizeof(sa)) < 0)
		err = errno;
	if (fd >= 0)
		close(fd);
	snprintf(buf, n, "%s", err ? strerror(err) : "connection failed");
}

static void transport_error(const cl_client *c, CURLcode cc, const char *errbuf,
			    cl_response *ret)
{
	if (cc == CURLE_COULDNT_CONNECT)
		connect_error(c->socket, ret->error, sizeof(ret->error));
	else if (cc == CURLE_OPERATION_TIMEDOUT)
		snprintf(ret->error, sizeof(ret->error), "no reply within %u s", c->timeout);
	else
		snprintf(ret->error, sizeof(ret->error), "%s",
			 errbuf[0] ? errbuf : curl_easy_strerror(cc));
}

int cl_request(cl_client *c, const char *method, const char *path, const char *content_type,
	       const char *body, size_t len, cl_response *ret)
{
	char errbuf[CURL_ERROR_SIZE] = "";
	char *url = NULL, *ctype = NULL;
	struct curl_slist *hdrs = NULL, *h;
	struct sink s = { 0 };
	CURLcode cc;
	int r = -ENOMEM;

	if (asprintf(&url, "%s%s", BASE_URL, path) < 0) {
		url = NULL;
		goto out;
	}
	/* no "Expect: 100-continue" round trip for bodies over 1 KiB */
	h = curl_slist_append(hdrs, "Expect:");
	if (!h)
		goto out;
	hdrs = h;
	if (content_type) {
		if (asprintf(&ctype, "Content-Type: %s", content_type) < 0) {
			ctype = NULL;
			goto out;
		}
		h = curl_slist_append(hdrs, ctype);
		if (!h)
			goto out;
		hdrs = h;
	}
	setup(c, method, url, hdrs, body, len, &s, errbuf);
	cc = curl_easy_perform(c->curl);
	if (s.oom)
		goto out;
	if (cc != CURLE_OK) {
		transport_error(c, cc, errbuf, ret);
		r = -ECONNREFUSED;
		goto out;
	}
	curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &ret->status);
	r = take_body(&s, ret);
out:
	free(s.buf);
	curl_slist_free_all(hdrs);
	free(ctype);
	free(url);
	return r;
}

int cl_request_json(cl_client *c, const char *method, const char *path, const json_t *body,
		    cl_response *ret)
{
	char *text = json_dumps(body, JSON_COMPACT);
	int r;

	if (!text)
		return -ENOMEM;
	r = cl_request(c, method, path, "application/json", text, strlen(text), ret);
	free(text);
	return r;
}

void cl_response_clear(cl_response *r)
{
	if (!r)
		return;
	free(r->body);
	json_decref(r->json);
	memset(r, 0, sizeof(*r));
}
