/* SPDX-License-Identifier: MIT */
/*
 * signer/daemon/hooks.c -- reload command and NOTIFY. See hooks.h.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
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
#include "signer/daemon/zset.h"

/*
 * A failed hook is retried after HOOK_RETRY_MIN seconds of zone time, doubling up to
 * HOOK_RETRY_MAX: quick while a server restarts, a few tries an hour while it stays down.
 */
#define HOOK_RETRY_MIN 2
#define HOOK_RETRY_MAX (5 * 60)
#define MAX_ARGS 64

typedef struct hzone hzone;

/* The NOTIFY of one zone to one target: the last serial's, sent until acknowledged. */
typedef struct ntarget {
	struct ntarget *next;
	hzone *hz;
	sd_event_source *io, *retry;
	int fd;
	uint16_t id;
	uint8_t *wire;
	size_t wire_len;
	char target[80];          /* "address@port" */
	uint32_t serial;
	unsigned tries;           /* sent for this serial */
	unsigned failed;          /* tries that failed in a row, whatever the serial: the backoff */
	bool answered;            /* the last try was answered (with an error: counted then) */
	int send_errno;           /* the last try could not be sent (0: it was) */
	zk_time_t retry_at;
} ntarget;

/* A zone's hooks: its reload command (at most one process) and its NOTIFYs. */
struct hzone {
	hooks *h;
	char *name;
	char *dir;                /* its state directory: the marks of the hooks owed (or NULL) */
	bool gone;                /* forgotten: only its running command is left */
	hzone *next_gone;
	/* reload command */
	sd_event_source *child, *timeout, *retry;
	pid_t pid;
	char *cmd, *file;         /* the last publication's: what runs next, and what retries */
	uint32_t cmd_timeout;
	char running[256];        /* the command that runs (the log names it) */
	bool again;               /* a publication while it ran: once more when it is over */
	bool timed_out;
	/* NOTIFY */
	ntarget *targets;
	hook_stat st[_HOOK_MAX];
	bool used[_HOOK_MAX];     /* the hook ran for the zone since start */
	unsigned owed;            /* the marks made in `dir` (1 << hook_kind) */
};

struct hooks {
	sd_event *event;
	const zk_clock *clock;
	zset zones;               /* hzone, by name */
	hzone *gone;              /* forgotten zones whose command still runs */
};

static const char *const owed_names[_HOOK_MAX] = {
	[HOOK_RELOAD] = "reload.owed",
	[HOOK_NOTIFY] = "notify.owed",
};

static void reload_start(hzone *hz);
static int on_reload_retry(sd_event_source *s, uint64_t usec, void *userdata);

/* ---------------------------------------------------------------- time */

static zk_time_t hooks_now(const hooks *h)
{
	return zk_clock_now(h->clock);
}

/* The delay before retry `n` (1: the first), in seconds of zone time. */
static zk_time_t backoff(unsigned n)
{
	unsigned shift = n ? n - 1 : 0;
	zk_time_t d = (zk_time_t) HOOK_RETRY_MIN << (shift < 16 ? shift : 16);

	return d > HOOK_RETRY_MAX ? HOOK_RETRY_MAX : d;
}

/*
 * Arm `*src` for `seconds` of zone time from now; returns the zone time it is for. A fake
 * clock runs faster (tests); a frozen one counts as real time, or nothing would be retried.
 */
static zk_time_t arm(hooks *h, sd_event_source **src, zk_time_t seconds,
		     sd_event_time_handler_t cb, void *userdata)
{
	double speed = h->clock->now == zk_clock_real.now ? 1.0 : h->clock->speed;
	uint64_t now, at;
	int r;

	if (speed <= 0)
		speed = 1.0;
	sd_event_now(h->event, CLOCK_MONOTONIC, &now);
	at = now + (uint64_t) ((double) seconds * 1e6 / speed);
	if (!*src)
		r = sd_event_add_time(h->event, src, CLOCK_MONOTONIC, at, 1000, cb, userdata);
	else if ((r = sd_event_source_set_time(*src, at)) >= 0)
		r = sd_event_source_set_enabled(*src, SD_EVENT_ONESHOT);
	if (r < 0) {
		dlog(ZK_LOG_ERR, NULL, "cannot arm a hook's retry timer: %s", strerror(-r));
		return 0;
	}
	return hooks_now(h) + seconds;
}

static void disarm(sd_event_source *src)
{
	if (src)
		(void) sd_event_source_set_enabled(src, SD_EVENT_OFF);
}

/* ---------------------------------------------------------------- the hooks owed */

/*
 * A mark per hook in the zone's state directory while one is owed: made before the hook
 * runs, removed once it succeeded. Not fsynced: a daemon that stops or crashes leaves it
 * (what it is for); a machine that loses power restarts its servers too.
 */
static void mark(hzone *hz, hook_kind k, bool on)
{
	char path[PATH_MAX];
	unsigned bit = 1u << k;
	int fd;

	if (hz->gone || !hz->dir || (bool) (hz->owed & bit) == on)
		return;
	snprintf(path, sizeof(path), "%s/%s", hz->dir, owed_names[k]);
	if (!on) {
		(void) unlink(path);
		hz->owed &= ~bit;
		return;
	}
	fd = open(path, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return; /* no state directory (yet): nothing to run again after a restart */
	close(fd);
	hz->owed |= bit;
}

unsigned hooks_owed(const char *dir)
{
	char path[PATH_MAX];
	unsigned owed = 0;

	for (int k = 0; k < _HOOK_MAX; k++) {
		snprintf(path, sizeof(path), "%s/%s", dir, owed_names[k]);
		if (access(path, F_OK) == 0)
			owed |= 1u << k;
	}
	return owed;
}

void hooks_clear_owed(const char *dir, hook_kind k)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s", dir, owed_names[k]);
	(void) unlink(path);
}

/* ---------------------------------------------------------------- zones */

static const char *hzone_key(const void *item)
{
	return ((const hzone *) item)->name;
}

static void target_free(ntarget *t)
{
	ntarget **pp = &t->hz->targets;

	while (*pp != t)
		pp = &(*pp)->next;
	*pp = t->next;
	sd_event_source_disable_unref(t->io);
	sd_event_source_disable_unref(t->retry);
	if (t->fd >= 0)
		close(t->fd);
	free(t->wire);
	free(t);
}

static void hzone_free(hzone *hz)
{
	if (!hz)
		return;
	while (hz->targets)
		target_free(hz->targets);
	sd_event_source_disable_unref(hz->child);
	sd_event_source_disable_unref(hz->timeout);
	sd_event_source_disable_unref(hz->retry);
	if (hz->pid > 0) {
		/* the loop is going away with the command still running: end it */
		kill(hz->pid, SIGKILL);
		(void) waitpid(hz->pid, NULL, 0);
	}
	free(hz->cmd);
	free(hz->file);
	free(hz->dir);
	free(hz->name);
	free(hz);
}

/* The zone's hooks, made on first use; its state directory as the caller gives it now. */
static hzone *hzone_get(hooks *h, const char *zone, const char *dir)
{
	hzone *hz = zset_find(&h->zones, zone);

	if (!hz) {
		hz = calloc(1, sizeof(*hz));
		if (!hz || !(hz->name = strdup(zone)) || zset_insert(&h->zones, hz) < 0) {
			if (hz)
				free(hz->name);
			free(hz);
			return NULL;
		}
		hz->h = h;
	}
	if (dir && (!hz->dir || strcmp(hz->dir, dir) != 0)) {
		char *d = strdup(dir);

		if (d) {
			free(hz->dir);
			hz->dir = d;
			hz->owed = 0; /* marks in another directory: made again there */
		}
	}
	return hz;
}

static void gone_remove(hzone *hz)
{
	hzone **pp = &hz->h->gone;

	while (*pp && *pp != hz)
		pp = &(*pp)->next_gone;
	if (*pp)
		*pp = hz->next_gone;
}

int hooks_new(sd_event *e, const zk_clock *clock, hooks **ret)
{
	hooks *h = calloc(1, sizeof(*h));

	if (!h)
		return -ENOMEM;
	h->event = sd_event_ref(e);
	h->clock = clock;
	h->zones.key = hzone_key;
	*ret = h;
	return 0;
}

hooks *hooks_free(hooks *h)
{
	if (!h)
		return NULL;
	for (size_t i = 0; i < h->zones.n; i++)
		hzone_free(h->zones.v[i]);
	zset_done(&h->zones);
	while (h->gone) {
		hzone *hz = h->gone;

		h->gone = hz->next_gone;
		hzone_free(hz);
	}
	sd_event_unref(h->event);
	free(h);
	return NULL;
}

void hooks_forget(hooks *h, const char *zone)
{
	hzone *hz = h ? zset_find(&h->zones, zone) : NULL;

	if (!hz)
		return;
	zset_remove(&h->zones, hz);
	while (hz->targets)
		target_free(hz->targets);
	hz->retry = sd_event_source_disable_unref(hz->retry);
	if (hz->pid <= 0) {
		hzone_free(hz);
		return;
	}
	hz->gone = true;
	hz->next_gone = h->gone;
	h->gone = hz;
}

static unsigned reload_pending(const hzone *hz)
{
	bool waiting = hz->retry && sd_event_source_get_enabled(hz->retry, NULL) > 0;

	return (hz->pid > 0) + hz->again + waiting;
}

static unsigned notify_pending(const hzone *hz)
{
	unsigned n = 0;

	for (const ntarget *t = hz->targets; t; t = t->next)
		n++;
	return n;
}

unsigned hooks_pending(const hooks *h)
{
	unsigned n = 0;

	if (!h)
		return 0;
	for (size_t i = 0; i < h->zones.n; i++)
		n += reload_pending(h->zones.v[i]) + notify_pending(h->zones.v[i]);
	for (const hzone *hz = h->gone; hz; hz = hz->next_gone)
		n += reload_pending(hz);
	return n;
}

bool hooks_stat(const hooks *h, const char *zone, hook_kind k, hook_stat *ret)
{
	const hzone *hz = h ? zset_find(&h->zones, zone) : NULL;

	if (!hz || !hz->used[k])
		return false;
	*ret = hz->st[k];
	if (k == HOOK_RELOAD) {
		ret->pending = reload_pending(hz);
		return true;
	}
	/* NOTIFY: what the targets not yet acknowledged say */
	ret->pending = ret->failures = 0;
	ret->retry_at = 0;
	for (const ntarget *t = hz->targets; t; t = t->next) {
		ret->pending++;
		ret->failures += t->failed;
		if (t->failed && (!ret->retry_at || t->retry_at < ret->retry_at))
			ret->retry_at = t->retry_at;
	}
	return true;
}

bool hooks_failing(const hooks *h, const char *zone)
{
	hook_stat st;

	for (int k = 0; k < _HOOK_MAX; k++)
		if (hooks_stat(h, zone, (hook_kind) k, &st) && st.failures)
			return true;
	return false;
}

size_t hooks_n_zones(const hooks *h)
{
	return h ? h->zones.n : 0;
}

const char *hooks_zone_name(const hooks *h, size_t i)
{
	return ((const hzone *) h->zones.v[i])->name;
}

/* ---------------------------------------------------------------- reload command */

/* The run (or its start) failed with `why`: counted, and retried unless a newer one waits. */
static void reload_failed(hzone *hz, const char *why)
{
	dlog_fields f = { .zone = hz->name, .signatures = -1 };
	hook_stat *st = &hz->st[HOOK_RELOAD];
	char ts[32];

	if (hz->gone || !hz->cmd) {
		dlog(ZK_LOG_WARNING, &f, "reload command '%s' %s (%s: not retried)", hz->running,
		     why, hz->gone ? "the zone is gone" : "no longer configured");
		return;
	}
	st->failures++;
	st->failures_total++;
	snprintf(st->last_error, sizeof(st->last_error), "'%.150s' %s", hz->running, why);
	if (hz->again) {
		/* a newer publication's run replaces the retry, now */
		dlog(ZK_LOG_WARNING, &f, "reload command '%s' %s", hz->running, why);
		return;
	}
	st->retry_at = arm(hz->h, &hz->retry, backoff(st->failures), on_reload_retry, hz);
	dlog(ZK_LOG_WARNING, &f, "reload command '%s' %s; retrying at %s (failure %u in a row)",
	     hz->running, why, zk_time_iso(st->retry_at, ts, sizeof(ts)), st->failures);
}

static void reload_succeeded(hzone *hz)
{
	dlog_fields f = { .zone = hz->name, .signatures = -1 };
	hook_stat *st = &hz->st[HOOK_RELOAD];

	dlog(ZK_LOG_INFO, &f, "reload command '%s' succeeded", hz->running);
	if (hz->gone)
		return;
	if (st->failures)
		dlog(ZK_LOG_NOTICE, &f, "the reload command succeeded after %u failure(s)",
		     st->failures);
	st->failures = 0;
	st->retry_at = 0;
	st->last_error[0] = '\0';
	st->last_success = hooks_now(hz->h);
	if (!hz->again)
		mark(hz, HOOK_RELOAD, false);
}

static int on_child(sd_event_source *s, const siginfo_t *si, void *userdata)
{
	hzone *hz = userdata;
	char why[96];

	/* reap it ourselves: the source goes away below, before sd-event would */
	(void) waitpid(hz->pid, NULL, WNOHANG);
	hz->pid = 0;
	hz->child = sd_event_source_disable_unref(hz->child);
	hz->timeout = sd_event_source_disable_unref(hz->timeout);
	if (si->si_code == CLD_EXITED && si->si_status == 0) {
		reload_succeeded(hz);
	} else {
		if (hz->timed_out)
			snprintf(why, sizeof(why), "timed out after %u s and was killed by "
				 "signal %d", hz->cmd_timeout, si->si_status);
		else if (si->si_code == CLD_EXITED)
			snprintf(why, sizeof(why), "exited with status %d", si->si_status);
		else
			snprintf(why, sizeof(why), "was killed by signal %d", si->si_status);
		reload_failed(hz, why);
	}
	if (hz->again) {
		hz->again = false;
		reload_start(hz);
	}
	if (hz->gone && hz->pid <= 0) {
		gone_remove(hz);
		hzone_free(hz);
	}
	return 0;
}

static int on_reload_timeout(sd_event_source *s, uint64_t usec, void *userdata)
{
	hzone *hz = userdata;
	dlog_fields f = { .zone = hz->name, .signatures = -1 };

	dlog(ZK_LOG_WARNING, &f, "reload command '%s' timed out, killing it", hz->running);
	hz->timed_out = true;
	if (hz->pid > 0)
		kill(hz->pid, SIGKILL); /* on_child reports and cleans up */
	return 0;
}

static int on_reload_retry(sd_event_source *s, uint64_t usec, void *userdata)
{
	hzone *hz = userdata;

	hz->st[HOOK_RELOAD].retry_at = 0;
	reload_start(hz);
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

/* argv for the zone's command, NULL-terminated: 0 or -errno. */
static int make_argv(const hzone *hz, char *argv[MAX_ARGS + 1])
{
	_cleanup_free_ char *copy = strdup(hz->cmd);
	char *save = NULL;
	int argc = 0;

	if (!copy)
		return -ENOMEM;
	for (char *t = strtok_r(copy, " \t", &save); t; t = strtok_r(NULL, " \t", &save)) {
		if (argc == MAX_ARGS || !(argv[argc] = substitute(t, hz->name, hz->file))) {
			free_argv(argv);
			return argc == MAX_ARGS ? -E2BIG : -ENOMEM;
		}
		argc++;
	}
	return argc ? 0 : -EINVAL;
}

static pid_t spawn(char **argv)
{
	pid_t pid = fork();

	if (pid == 0) {
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
	return pid;
}

/* Run the zone's command (hz->cmd with hz->file) now; a start that fails is a failure. */
static void reload_start(hzone *hz)
{
	char *argv[MAX_ARGS + 1] = { NULL }, why[96];
	uint64_t now;
	int r;

	disarm(hz->retry);
	if (!hz->cmd)
		return; /* taken out of the configuration meanwhile */
	hz->timed_out = false;
	snprintf(hz->running, sizeof(hz->running), "%s", hz->cmd);
	r = make_argv(hz, argv);
	if (r < 0) {
		snprintf(why, sizeof(why), "cannot be run: %s", strerror(-r));
		reload_failed(hz, why);
		return;
	}
	hz->pid = spawn(argv);
	r = hz->pid < 0 ? -errno : 0;
	free_argv(argv);
	if (r < 0) {
		hz->pid = 0;
		snprintf(why, sizeof(why), "cannot be started: %s", strerror(-r));
		reload_failed(hz, why);
		return;
	}
	r = sd_event_add_child(hz->h->event, &hz->child, hz->pid, WEXITED, on_child, hz);
	if (r >= 0) {
		sd_event_now(hz->h->event, CLOCK_MONOTONIC, &now);
		r = sd_event_add_time(hz->h->event, &hz->timeout, CLOCK_MONOTONIC,
				      now + (uint64_t) hz->cmd_timeout * 1000000ull, 0,
				      on_reload_timeout, hz);
	}
	if (r < 0) {
		/* it cannot be watched: end it now rather than leave it unreaped */
		kill(hz->pid, SIGKILL);
		(void) waitpid(hz->pid, NULL, 0);
		hz->pid = 0;
		hz->child = sd_event_source_disable_unref(hz->child);
		snprintf(why, sizeof(why), "cannot be watched: %s", strerror(-r));
		reload_failed(hz, why);
	}
}

int hooks_run_reload(hooks *h, const char *zone, const char *dir, const char *command,
		     uint32_t timeout, const char *file)
{
	hzone *hz = hzone_get(h, zone, dir);
	char *c = strdup(command), *f = strdup(file);

	if (!hz || !c || !f) {
		free(c);
		free(f);
		return -ENOMEM;
	}
	free(hz->cmd);
	free(hz->file);
	hz->cmd = c;
	hz->file = f;
	hz->cmd_timeout = timeout;
	hz->used[HOOK_RELOAD] = true;
	mark(hz, HOOK_RELOAD, true);
	if (hz->pid > 0) {
		/* one is running for this zone: it runs once more when it is over */
		hz->again = true;
		return 0;
	}
	/* a retry that waits is replaced by this publication's run */
	hz->st[HOOK_RELOAD].retry_at = 0;
	reload_start(hz);
	return 0;
}

/* ---------------------------------------------------------------- NOTIFY */

/* The NOTIFY message for the zone with a new id. */
static int notify_message(ntarget *t)
{
	ldns_rdf *owner = ldns_dname_new_frm_str(t->hz->name);
	ldns_pkt *pkt;
	int r = 0;

	if (!owner)
		return -EINVAL;
	pkt = ldns_pkt_query_new(owner, LDNS_RR_TYPE_SOA, LDNS_RR_CLASS_IN, LDNS_AA);
	if (!pkt) {
		ldns_rdf_deep_free(owner);
		return -ENOMEM;
	}
	ldns_pkt_set_opcode(pkt, LDNS_PACKET_NOTIFY);
	ldns_pkt_set_random_id(pkt);
	free(t->wire);
	t->wire = NULL;
	t->id = ldns_pkt_id(pkt);
	if (ldns_pkt2wire(&t->wire, pkt, &t->wire_len) != LDNS_STATUS_OK)
		r = -ENOMEM;
	ldns_pkt_free(pkt);
	return r;
}

static void notify_send(ntarget *t)
{
	dlog_fields f = { .zone = t->hz->name, .serial = t->serial, .signatures = -1 };

	t->tries++;
	t->answered = false;
	/* a failed send is a try that goes unanswered: retried the same way, and its reason
	 * shown (a firewall or a sandbox that refuses the address says so here) */
	t->send_errno = send(t->fd, t->wire, t->wire_len, 0) < 0 ? errno : 0;
	if (t->send_errno)
		dlog(ZK_LOG_DEBUG, &f, "cannot send NOTIFY to %s: %s", t->target,
		     strerror(t->send_errno));
}

static void notify_failed(ntarget *t, const char *why)
{
	dlog_fields f = { .zone = t->hz->name, .serial = t->serial, .signatures = -1 };
	hook_stat *st = &t->hz->st[HOOK_NOTIFY];

	t->failed++;
	st->failures_total++;
	snprintf(st->last_error, sizeof(st->last_error), "NOTIFY to %s for serial %u %s",
		 t->target, t->serial, why);
	dlog(ZK_LOG_WARNING, &f, "NOTIFY to %s %s (try %u for serial %u); retrying", t->target,
	     why, t->tries, t->serial);
}

static int on_notify_retry(sd_event_source *s, uint64_t usec, void *userdata)
{
	ntarget *t = userdata;
	char why[128];

	if (!t->answered) {
		if (t->send_errno)
			snprintf(why, sizeof(why), "could not be sent: %s", strerror(t->send_errno));
		notify_failed(t, t->send_errno ? why : "was not answered");
	}
	notify_send(t);
	t->retry_at = arm(t->hz->h, &t->retry, backoff(t->failed + 1), on_notify_retry, t);
	return 0;
}

static void notify_acked(ntarget *t)
{
	dlog_fields f = { .zone = t->hz->name, .serial = t->serial, .signatures = -1 };
	hzone *hz = t->hz;
	hook_stat *st = &hz->st[HOOK_NOTIFY];
	bool failing = false;

	dlog(t->failed ? ZK_LOG_NOTICE : ZK_LOG_INFO, &f, "NOTIFY to %s acknowledged (try %u)",
	     t->target, t->tries);
	st->last_success = hooks_now(hz->h);
	target_free(t);
	for (const ntarget *o = hz->targets; o; o = o->next)
		failing |= o->failed != 0;
	if (!failing)
		st->last_error[0] = '\0';
	if (!hz->targets)
		mark(hz, HOOK_NOTIFY, false);
}

static int on_notify_reply(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	ntarget *t = userdata;
	uint8_t buf[4096];
	char why[64];
	ssize_t n = recv(fd, buf, sizeof(buf), 0);

	/* RFC 1996 §4.7: the reply echoes id, opcode NOTIFY and QR */
	if (n < 12 || (uint16_t) (buf[0] << 8 | buf[1]) != t->id || !(buf[2] & 0x80) ||
	    ((buf[2] >> 3) & 0xf) != LDNS_PACKET_NOTIFY)
		return 0; /* not our answer (or an older serial's): keep waiting */
	if ((buf[3] & 0xf) == 0) {
		notify_acked(t);
		return 0;
	}
	/* refused: not an acknowledgement; tried again as if unanswered */
	if (!t->answered) {
		t->answered = true;
		snprintf(why, sizeof(why), "was answered with rcode %u", buf[3] & 0xf);
		notify_failed(t, why);
	}
	return 0;
}

static int parse_target(const pol_notify_target *pt, struct sockaddr_storage *to,
			socklen_t *len)
{
	memset(to, 0, sizeof(*to));
	if (strchr(pt->address, ':')) {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *) to;

		a->sin6_family = AF_INET6;
		a->sin6_port = htons(pt->port);
		*len = sizeof(*a);
		return inet_pton(AF_INET6, pt->address, &a->sin6_addr) == 1 ? 0 : -EINVAL;
	}
	struct sockaddr_in *a = (struct sockaddr_in *) to;

	a->sin_family = AF_INET;
	a->sin_port = htons(pt->port);
	*len = sizeof(*a);
	return inet_pton(AF_INET, pt->address, &a->sin_addr) == 1 ? 0 : -EINVAL;
}

static ntarget *target_new(hzone *hz, const pol_notify_target *pt, int *ret)
{
	ntarget *t = calloc(1, sizeof(*t));
	struct sockaddr_storage to;
	socklen_t len;
	int r;

	if (!t) {
		*ret = -ENOMEM;
		return NULL;
	}
	t->hz = hz;
	t->fd = -1;
	t->next = hz->targets;
	hz->targets = t;
	snprintf(t->target, sizeof(t->target), "%s@%u", pt->address, pt->port);
	r = parse_target(pt, &to, &len);
	if (r >= 0) {
		t->fd = socket(to.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		r = t->fd < 0 || connect(t->fd, (struct sockaddr *) &to, len) < 0 ? -errno : 0;
	}
	if (r >= 0)
		r = sd_event_add_io(hz->h->event, &t->io, t->fd, EPOLLIN, on_notify_reply, t);
	if (r < 0) {
		target_free(t);
		*ret = r;
		return NULL;
	}
	return t;
}

static ntarget *target_find(hzone *hz, const pol_notify_target *pt)
{
	char name[80];

	snprintf(name, sizeof(name), "%s@%u", pt->address, pt->port);
	for (ntarget *t = hz->targets; t; t = t->next)
		if (!strcmp(t->target, name))
			return t;
	return NULL;
}

/* Targets no longer configured: their NOTIFYs end. */
static void targets_prune(hzone *hz, const pol_notify_target *targets, size_t n)
{
	for (ntarget *t = hz->targets, *next; t; t = next) {
		bool keep = false;
		char name[80];

		next = t->next;
		for (size_t i = 0; i < n && !keep; i++) {
			snprintf(name, sizeof(name), "%s@%u", targets[i].address, targets[i].port);
			keep = !strcmp(t->target, name);
		}
		if (!keep)
			target_free(t);
	}
}

/* NOTIFY `serial` to the target, now: a new one, or one that replaces an older serial's. */
static int notify_one(hzone *hz, const pol_notify_target *pt, uint32_t serial)
{
	ntarget *t = target_find(hz, pt);
	int r = 0;

	if (!t && !(t = target_new(hz, pt, &r)))
		return r;
	t->serial = serial;
	t->tries = 0;
	r = notify_message(t);
	if (r < 0) {
		target_free(t);
		return r;
	}
	notify_send(t);
	/* one that kept failing keeps its backoff: a new serial does not make a tight loop */
	t->retry_at = arm(hz->h, &t->retry, backoff(t->failed + 1), on_notify_retry, t);
	return 0;
}

int hooks_notify(hooks *h, const char *zone, const char *dir, const pol_notify_target *targets,
		 size_t n, uint32_t serial)
{
	hzone *hz = hzone_get(h, zone, dir);
	int r = 0;

	if (!hz)
		return -ENOMEM;
	hz->used[HOOK_NOTIFY] = true;
	mark(hz, HOOK_NOTIFY, true);
	targets_prune(hz, targets, n);
	for (size_t i = 0; i < n; i++) {
		int k = notify_one(hz, &targets[i], serial);

		if (k < 0) {
			dlog_fields f = { .zone = zone, .serial = serial, .signatures = -1 };

			dlog(ZK_LOG_WARNING, &f, "cannot send NOTIFY to %s@%u: %s",
			     targets[i].address, targets[i].port, strerror(-k));
			r = k;
		}
	}
	if (!hz->targets)
		mark(hz, HOOK_NOTIFY, false);
	return r;
}

/* ---------------------------------------------------------------- configuration */

/* One zone under the new settings: retries run the new command, to the targets left. */
static void hzone_reconfigure(hzone *hz, const char *command, uint32_t timeout,
			      const pol_notify_target *targets, size_t n)
{
	if (command && hz->cmd && strcmp(hz->cmd, command) != 0) {
		char *c = strdup(command);

		if (c) {
			free(hz->cmd);
			hz->cmd = c;
		}
	}
	if (command && hz->cmd)
		hz->cmd_timeout = timeout;
	if (!command && hz->cmd) {
		/* none any more: nothing to retry or owed (one running finishes) */
		uint64_t total = hz->st[HOOK_RELOAD].failures_total;

		disarm(hz->retry);
		hz->again = false;
		free(hz->cmd);
		hz->cmd = NULL;
		hz->st[HOOK_RELOAD] = (hook_stat) { .failures_total = total };
		hz->used[HOOK_RELOAD] = false;
		mark(hz, HOOK_RELOAD, false);
	}
	targets_prune(hz, targets, n);
	if (!hz->targets)
		mark(hz, HOOK_NOTIFY, false);
}

void hooks_reconfigure(hooks *h, const char *command, uint32_t timeout,
		       const pol_notify_target *targets, size_t n)
{
	for (size_t i = 0; h && i < h->zones.n; i++)
		hzone_reconfigure(h->zones.v[i], command, timeout, targets, n);
}
