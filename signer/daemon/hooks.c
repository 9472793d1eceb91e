/* SPDX-License-Identifier: MIT */
/*
 * signer/daemon/hooks.c -- reload command and NOTIFY. See hooks.h.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <ldns/ldns.h>

#include "policy/zk-macro.h"
#include "signer/daemon/hooks.h"
#include "signer/daemon/log.h"

#define NOTIFY_TRIES 5
#define NOTIFY_INTERVAL_USEC (2 * 1000000ull)
#define MAX_ARGS 64

typedef struct pending {
	struct pending *next, **pprev;
	hooks *h;
	char zone[300];
	/* reload command */
	sd_event_source *child, *timeout;
	pid_t pid;
	char cmd[256];
	/*
	 * Publications while it runs: the command runs once more when it is over (with the
	 * last publication's file), however many came meanwhile. At most one per zone at a
	 * time: a slow command must not pile up one process per publication.
	 */
	bool again;
	char *again_cmd, *again_file;
	uint32_t again_timeout;
	/* NOTIFY */
	sd_event_source *io, *retry;
	int fd;
	uint16_t id;
	uint8_t *wire;
	size_t wire_len;
	struct sockaddr_storage to;
	socklen_t to_len;
	char target[80];
	unsigned tries;
	uint32_t serial;
} pending;

struct hooks {
	sd_event *event;
	pending *list;
	unsigned n;
};

static void pending_free(pending *p)
{
	if (!p)
		return;
	*p->pprev = p->next;
	if (p->next)
		p->next->pprev = p->pprev;
	p->h->n--;
	sd_event_source_disable_unref(p->child);
	sd_event_source_disable_unref(p->timeout);
	sd_event_source_disable_unref(p->io);
	sd_event_source_disable_unref(p->retry);
	if (p->pid > 0) {
		/* the loop is going away with the command still running: end it */
		kill(p->pid, SIGKILL);
		(void) waitpid(p->pid, NULL, 0);
	}
	if (p->fd >= 0)
		close(p->fd);
	free(p->wire);
	free(p->again_cmd);
	free(p->again_file);
	free(p);
}

static pending *pending_new(hooks *h, const char *zone)
{
	pending *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	p->h = h;
	p->fd = -1;
	snprintf(p->zone, sizeof(p->zone), "%s", zone);
	p->next = h->list;
	if (p->next)
		p->next->pprev = &p->next;
	p->pprev = &h->list;
	h->list = p;
	h->n++;
	return p;
}

int hooks_new(sd_event *e, hooks **ret)
{
	hooks *h = calloc(1, sizeof(*h));

	if (!h)
		return -ENOMEM;
	h->event = sd_event_ref(e);
	*ret = h;
	return 0;
}

hooks *hooks_free(hooks *h)
{
	if (!h)
		return NULL;
	while (h->list)
		pending_free(h->list);
	sd_event_unref(h->event);
	free(h);
	return NULL;
}

unsigned hooks_pending(const hooks *h)
{
	return h ? h->n : 0;
}

/* ---------------------------------------------------------------- reload command */

static int on_child(sd_event_source *s, const siginfo_t *si, void *userdata)
{
	pending *p = userdata;
	dlog_fields f = { .zone = p->zone, .signatures = -1 };

	if (si->si_code == CLD_EXITED && si->si_status == 0)
		dlog(ZK_LOG_INFO, &f, "reload command '%s' succeeded", p->cmd);
	else if (si->si_code == CLD_EXITED)
		dlog(ZK_LOG_WARNING, &f, "reload command '%s' exited with status %d", p->cmd,
		     si->si_status);
	else
		dlog(ZK_LOG_WARNING, &f, "reload command '%s' was killed by signal %d", p->cmd,
		     si->si_status);
	/* reap it ourselves: the source goes away in pending_free, before sd-event would */
	(void) waitpid(p->pid, NULL, WNOHANG);
	p->pid = 0;
	if (p->again) {
		hooks *h = p->h;
		char zone[sizeof(p->zone)];
		char *cmd = p->again_cmd, *file = p->again_file;
		uint32_t timeout = p->again_timeout;
		int r;

		snprintf(zone, sizeof(zone), "%s", p->zone);
		p->again_cmd = p->again_file = NULL;
		pending_free(p);
		r = hooks_run_reload(h, cmd, timeout, zone, file);
		if (r < 0) {
			dlog_fields g = { .zone = zone, .signatures = -1 };

			dlog(ZK_LOG_WARNING, &g, "cannot run the reload command: %s", strerror(-r));
		}
		free(cmd);
		free(file);
		return 0;
	}
	pending_free(p);
	return 0;
}

static int on_reload_timeout(sd_event_source *s, uint64_t usec, void *userdata)
{
	pending *p = userdata;
	dlog_fields f = { .zone = p->zone, .signatures = -1 };

	dlog(ZK_LOG_WARNING, &f, "reload command '%s' timed out, killing it", p->cmd);
	if (p->pid > 0)
		kill(p->pid, SIGKILL); /* on_child reports and cleans up */
	return 0;
}

/* One argument with %z, %f and %% replaced; a new string, or NULL. */
static char *substitute(const char *arg, const char *zone, const char *file)
{
	size_t cap = strlen(arg) + 1, o = 0;
	char *out;

	for (const char *c = arg; *c; c++)
		if (*c == '%')
			cap += strlen(zone) + strlen(file);
	out = malloc(cap);
	if (!out)
		return NULL;
	for (const char *c = arg; *c; c++) {
		const char *rep = NULL;

		if (c[0] == '%' && c[1] == 'z')
			rep = zone;
		else if (c[0] == '%' && c[1] == 'f')
			rep = file;
		else if (c[0] == '%' && c[1] == '%')
			rep = "%";
		if (!rep) {
			out[o++] = *c;
			continue;
		}
		c++;
		for (; *rep; rep++)
			out[o++] = *rep;
	}
	out[o] = '\0';
	return out;
}

static void free_argv(char **argv)
{
	for (size_t i = 0; argv[i]; i++)
		free(argv[i]);
}

int hooks_run_reload(hooks *h, const char *command, uint32_t timeout, const char *zone,
		     const char *file)
{
	_cleanup_free_ char *copy = strdup(command);
	char *argv[MAX_ARGS + 1] = { NULL }, *save = NULL;
	pending *p;
	uint64_t now;
	int argc = 0, r;

	if (!copy)
		return -ENOMEM;
	for (p = h->list; p; p = p->next)
		if (p->pid > 0 && !strcmp(p->zone, zone)) {
			/* one is running for this zone: it runs once more when it is over */
			char *c = strdup(command), *f = strdup(file);

			if (!c || !f) {
				free(c);
				free(f);
				return -ENOMEM;
			}
			free(p->again_cmd);
			free(p->again_file);
			p->again_cmd = c;
			p->again_file = f;
			p->again_timeout = timeout;
			p->again = true;
			return 0;
		}
	for (char *t = strtok_r(copy, " \t", &save); t; t = strtok_r(NULL, " \t", &save)) {
		if (argc == MAX_ARGS || !(argv[argc] = substitute(t, zone, file))) {
			free_argv(argv);
			return argc == MAX_ARGS ? -E2BIG : -ENOMEM;
		}
		argc++;
	}
	if (argc == 0)
		return -EINVAL;
	p = pending_new(h, zone);
	if (!p) {
		free_argv(argv);
		return -ENOMEM;
	}
	snprintf(p->cmd, sizeof(p->cmd), "%s", command);
	p->pid = fork();
	if (p->pid < 0) {
		r = -errno;
		p->pid = 0;
		pending_free(p);
		free_argv(argv);
		return r;
	}
	if (p->pid == 0) {
		sigset_t none;
		int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);

		/* the child starts with a clean signal mask and no stdin */
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		if (devnull >= 0)
			dup2(devnull, STDIN_FILENO);
		execvp(argv[0], argv);
		fprintf(stderr, "zonekeeperd: cannot run %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	free_argv(argv);
	r = sd_event_add_child(h->event, &p->child, p->pid, WEXITED, on_child, p);
	if (r >= 0) {
		sd_event_now(h->event, CLOCK_MONOTONIC, &now);
		r = sd_event_add_time(h->event, &p->timeout, CLOCK_MONOTONIC,
				      now + (uint64_t) timeout * 1000000ull, 0, on_reload_timeout, p);
	}
	if (r < 0) {
		pending_free(p);
		return r;
	}
	return 0;
}

/* ---------------------------------------------------------------- NOTIFY */

static int send_notify(pending *p)
{
	if (sendto(p->fd, p->wire, p->wire_len, 0, (struct sockaddr *) &p->to, p->to_len) < 0)
		return -errno;
	p->tries++;
	return 0;
}

static int on_notify_retry(sd_event_source *s, uint64_t usec, void *userdata)
{
	pending *p = userdata;
	dlog_fields f = { .zone = p->zone, .serial = p->serial, .signatures = -1 };

	if (p->tries >= NOTIFY_TRIES) {
		dlog(ZK_LOG_WARNING, &f, "NOTIFY to %s not acknowledged after %u tries, giving up",
		     p->target, p->tries);
		pending_free(p);
		return 0;
	}
	if (send_notify(p) < 0)
		dlog(ZK_LOG_WARNING, &f, "cannot send NOTIFY to %s: %m", p->target);
	sd_event_source_set_time(s, usec + NOTIFY_INTERVAL_USEC);
	sd_event_source_set_enabled(s, SD_EVENT_ONESHOT);
	return 0;
}

static int on_notify_reply(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	pending *p = userdata;
	dlog_fields f = { .zone = p->zone, .serial = p->serial, .signatures = -1 };
	uint8_t buf[4096];
	ssize_t n = recv(fd, buf, sizeof(buf), 0);

	/* RFC 1996 §4.7: the reply echoes id, opcode NOTIFY and QR */
	if (n < 12 || (uint16_t) (buf[0] << 8 | buf[1]) != p->id || !(buf[2] & 0x80) ||
	    ((buf[2] >> 3) & 0xf) != LDNS_PACKET_NOTIFY)
		return 0; /* not our answer: keep waiting */
	if ((buf[3] & 0xf) != 0)
		dlog(ZK_LOG_WARNING, &f, "NOTIFY to %s answered with rcode %u", p->target,
		     buf[3] & 0xf);
	else
		dlog(ZK_LOG_INFO, &f, "NOTIFY to %s acknowledged", p->target);
	pending_free(p);
	return 0;
}

static int notify_one(hooks *h, const pol_notify_target *t, const char *zone, uint32_t serial)
{
	ldns_rdf *owner = ldns_dname_new_frm_str(zone);
	ldns_pkt *pkt = NULL;
	pending *p;
	uint64_t now;
	int r;

	if (!owner)
		return -EINVAL;
	p = pending_new(h, zone);
	if (!p) {
		ldns_rdf_deep_free(owner);
		return -ENOMEM;
	}
	p->serial = serial;
	snprintf(p->target, sizeof(p->target), "%s@%u", t->address, t->port);
	if (strchr(t->address, ':')) {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *) &p->to;

		a->sin6_family = AF_INET6;
		a->sin6_port = htons(t->port);
		r = inet_pton(AF_INET6, t->address, &a->sin6_addr) == 1 ? 0 : -EINVAL;
		p->to_len = sizeof(*a);
	} else {
		struct sockaddr_in *a = (struct sockaddr_in *) &p->to;

		a->sin_family = AF_INET;
		a->sin_port = htons(t->port);
		r = inet_pton(AF_INET, t->address, &a->sin_addr) == 1 ? 0 : -EINVAL;
		p->to_len = sizeof(*a);
	}
	if (r < 0)
		goto fail;
	pkt = ldns_pkt_query_new(owner, LDNS_RR_TYPE_SOA, LDNS_RR_CLASS_IN, LDNS_AA);
	owner = NULL; /* the packet owns it now */
	if (!pkt) {
		r = -ENOMEM;
		goto fail;
	}
	ldns_pkt_set_opcode(pkt, LDNS_PACKET_NOTIFY);
	ldns_pkt_set_random_id(pkt);
	p->id = ldns_pkt_id(pkt);
	if (ldns_pkt2wire(&p->wire, pkt, &p->wire_len) != LDNS_STATUS_OK) {
		r = -ENOMEM;
		goto fail;
	}
	p->fd = socket(p->to.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (p->fd < 0 || connect(p->fd, (struct sockaddr *) &p->to, p->to_len) < 0) {
		r = -errno;
		goto fail;
	}
	r = sd_event_add_io(h->event, &p->io, p->fd, EPOLLIN, on_notify_reply, p);
	if (r < 0)
		goto fail;
	r = send_notify(p);
	if (r < 0)
		goto fail;
	sd_event_now(h->event, CLOCK_MONOTONIC, &now);
	r = sd_event_add_time(h->event, &p->retry, CLOCK_MONOTONIC, now + NOTIFY_INTERVAL_USEC, 0,
			      on_notify_retry, p);
	if (r < 0)
		goto fail;
	ldns_pkt_free(pkt);
	return 0;
fail:
	ldns_pkt_free(pkt);
	ldns_rdf_deep_free(owner);
	pending_free(p);
	return r;
}

int hooks_notify(hooks *h, const pol_notify_target *targets, size_t n, const char *zone,
		 uint32_t serial)
{
	int r = 0;

	for (size_t i = 0; i < n; i++) {
		int k = notify_one(h, &targets[i], zone, serial);

		if (k < 0) {
			dlog_fields f = { .zone = zone, .serial = serial, .signatures = -1 };

			dlog(ZK_LOG_WARNING, &f, "cannot send NOTIFY to %s@%u: %s",
			     targets[i].address, targets[i].port, strerror(-k));
			r = k;
		}
	}
	return r;
}
