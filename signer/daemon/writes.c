/* SPDX-License-Identifier: MIT */
/*
 * signer/daemon/writes.c -- the record API's write pipeline: a validated write goes to
 * the zone's journal and index (writes_submit), the journal lines of every zone are made
 * durable together (group commit, one fdatasync per zone), the answer goes out once they
 * are (or once published, ?wait=published), the next run publishes them, and once the
 * zone is quiet they are written back to its input file and the journal trimmed.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "policy/zk-file.h"
#include "signer/daemon/internal.h"
#include "signer/daemon/log.h"

/*
 * API writes reach the input file once the zone is quiet for WRITEBACK_QUIET_USEC, at the
 * latest WRITEBACK_MAX_USEC after the first one pending, or once the journal holds
 * WRITEBACK_BYTES. A write-back of a 100k zone holds the signing thread for 50-100 ms:
 * under a steady stream of writes, one every 5 s made the slowest ?wait=published writes.
 */
#define WRITEBACK_QUIET_USEC (5 * 1000000ull)
#define WRITEBACK_MAX_USEC (60 * 1000000ull)

static int on_commit(sd_event_source *s, void *userdata);

/* The journal of API writes; what it holds is replayed by the first run. */
void writes_open_journal(const pol_config *c, dzone *z)
{
	char dir[PATH_MAX], path[PATH_MAX + 16];
	zk_error e = { 0 };
	rec_op *ops = NULL;
	size_t n = 0;
	int r;

	sgn_zone_dir(c, z->cfg, dir, sizeof(dir));
	snprintf(path, sizeof(path), "%s/journal", dir);
	r = zk_mkdir_p(dir, 0700);
	if (r >= 0)
		r = jnl_open(path, &z->diag, &z->journal, &ops, &n, &e);
	if (r < 0) {
		dlog_fields f = { .zone = z->name, .signatures = -1, .error_code = r };
		char buf[1024];

		dlog(ZK_LOG_ERR, &f, "record API writes refused: %s",
		     zk_error_str(&e, r, buf, sizeof(buf)));
		return;
	}
	z->journal_damaged = jnl_damaged(z->journal);
	z->ops = ops;
	z->n_ops = z->cap_ops = n;
	z->op_usec = calloc(n ? n : 1, sizeof(*z->op_usec));
	if (!z->op_usec)
		abort(); /* a few bytes per write at start-up */
	z->synced_seq = jnl_next_seq(z->journal) - 1;
	if (n) {
		dlog_fields f = { .zone = z->name, .signatures = -1 };

		dlog(ZK_LOG_NOTICE, &f, "%zu change%s of the record API not yet in the input file: "
		     "replaying them", n, n == 1 ? "" : "s");
	}
}

static void reply_waiter(dwrite *w, int code, const zk_error *e, uint32_t serial)
{
	if (code < 0) {
		zk_error msg = { 0 };
		char buf[700];

		zk_fail(&msg, code, "the change is saved but not published yet: %s",
			zk_error_str(e, code, buf, sizeof(buf)));
		api_reply_error(w->req, code, &msg);
		json_decref(w->reply);
	} else {
		json_object_set_new(w->reply, "serial", json_integer(serial));
		json_object_set_new(w->reply, "published", json_true());
		api_reply_json(w->req, w->status, w->reply);
	}
	free(w);
}

/* Answer the ?wait=published writes up to `seq`. */
void writes_answer_waiters(dzone *z, uint64_t seq, int code, const zk_error *e)
{
	dwrite **pp = &z->waiters;

	while (*pp) {
		dwrite *w = *pp;

		if (w->seq > seq) {
			pp = &w->next;
			continue;
		}
		*pp = w->next;
		reply_waiter(w, code, e, z->serial);
	}
}

static void observe_latency(manager *m, double seconds)
{
	size_t b = 0;

	while (b < LATENCY_BUCKETS && seconds > latency_bounds[b])
		b++;
	m->latency_buckets[b]++;
	m->latency_sum += seconds;
	m->latency_count++;
}

/* The record API's share of a finished job (loop thread, the job is over). */
void writes_finish_run(manager *m, dzone *z)
{
	uint64_t now = mgr_mono_usec();

	free((void *) z->opts.changes);
	z->opts.changes = NULL;
	z->opts.n_changes = 0;
	if (z->job_sys_set) {
		rec_rrs_free(z->sys, z->n_sys);
		z->sys = z->job_sys;
		z->n_sys = z->job_n_sys;
		z->job_sys = NULL;
		z->job_sys_set = false;
	}
	if (z->job_only_wb)
		return;
	if (z->job_recs) {
		/* the zone was read anew: its index, plus the writes accepted since the snapshot */
		rec_set_free(z->recs);
		z->recs = z->job_recs;
		z->job_recs = NULL;
		for (size_t i = 0; i < z->n_ops; i++) {
			if (z->ops[i].seq <= z->res->applied_seq)
				continue;
			if (z->ops[i].kind == REC_OP_ADD)
				(void) rec_set_add(z->recs, &z->ops[i].rr);
			else
				(void) rec_set_del(z->recs, z->ops[i].rr.owner, z->ops[i].rr.type,
						  z->ops[i].rr.rdata, z->ops[i].rr.rdlen);
		}
	}
	if (z->r >= 0) {
		for (size_t i = 0; i < z->n_ops; i++)
			if (z->ops[i].seq > z->published_seq && z->ops[i].seq <= z->res->applied_seq &&
			    z->op_usec[i])
				observe_latency(m, (double) (now - z->op_usec[i]) / 1e6);
		if (z->res->applied_seq > z->published_seq)
			z->published_seq = z->res->applied_seq;
		writes_answer_waiters(z, z->published_seq, 0, NULL);
	} else if (z->job_n_changes) {
		writes_answer_waiters(z, z->ops[z->job_n_changes - 1].seq, z->r, &z->err);
	}
}

/* The write-back's share, once the job thread is over. */
void writes_finish_writeback(manager *m, dzone *z)
{
	if (z->job_writeback && z->r >= 0) {
		if (z->wb_r == 0) {
			dlog_fields f = { .zone = z->name, .signatures = -1 };
			zk_error e = { 0 };
			size_t k = 0;
			uint64_t t0;
			int r;

			/* the input file holds the writes up to wb_seq: keep only the later ones */
			while (k < z->n_ops && z->ops[k].seq <= z->wb_seq)
				rec_rr_clear(&z->ops[k++].rr);
			memmove(z->ops, z->ops + k, (z->n_ops - k) * sizeof(*z->ops));
			memmove(z->op_usec, z->op_usec + k, (z->n_ops - k) * sizeof(*z->op_usec));
			z->n_ops -= k;
			z->writeback_due = false;
			free(z->wb_refused);
			z->wb_refused = NULL;
			z->have_input_id = stat(z->cfg->input_file, &z->input_id) == 0;
			t0 = mgr_mono_usec();
			r = jnl_rewrite(z->journal, z->ops, z->n_ops, &e);
			dlog(ZK_LOG_INFO, &f,
			     "API writes written back to %s (%.3f s), %zu left in the journal (%.3f s)",
			     z->cfg->input_file, (double) z->wb_usec / 1e6, z->n_ops,
			     (double) (mgr_mono_usec() - t0) / 1e6);
			if (r < 0) {
				char buf[1024];

				f.error_code = r;
				/* harmless: the journal still holds them, replaying is idempotent */
				dlog(ZK_LOG_WARNING, &f, "cannot trim the journal: %s",
				     zk_error_str(&e, r, buf, sizeof(buf)));
			}
		} else if (z->wb_r == -EAGAIN) {
			/*
			 * The input file changed under us: read it (the writes are replayed on it).
			 * A run that finds it broken writes nothing back until it is fixed, so
			 * this cannot turn into a loop.
			 */
			z->want = z->want_reload = true;
		} else {
			dlog_fields f = { .zone = z->name, .signatures = -1, .error_code = z->wb_r };
			char buf[1024];

			/* said once per cause; the writes wait in the journal meanwhile */
			zk_error_str(&z->wb_err, z->wb_r, buf, sizeof(buf));
			if (!z->wb_refused || strcmp(buf, z->wb_refused) != 0) {
				dlog(ZK_LOG_WARNING, &f, "cannot write the API changes back to %s: %s",
				     z->cfg->input_file, buf);
				free(z->wb_refused);
				z->wb_refused = strdup(buf); /* NULL on OOM: said again next time */
			}
			/* a file we may not replace as it is: tried again with the next write */
			if (z->wb_r == ZK_E_CONFLICT)
				z->writeback_due = false;
		}
	}
	if (z->n_ops)
		writes_arm(z);
	if (z->r >= 0 && z->n_ops && z->ops[z->n_ops - 1].seq > z->published_seq &&
	    z->ops[z->n_ops - 1].seq <= z->synced_seq)
		z->want = z->want_urgent = true; /* writes accepted while this job ran */
}

void writes_commit_now(manager *m)
{
	if (m->commit_head)
		on_commit(m->commit_src, m);
}

/* When the pending API writes are due in the input file (monotonic µs; 0: now). */
static uint64_t writeback_at(const dzone *z)
{
	uint64_t quiet, latest;

	/* writes replayed from the journal at start carry no time: they are old */
	if (!z->n_ops || !z->op_usec[0])
		return 0;
	quiet = z->op_usec[z->n_ops - 1] + WRITEBACK_QUIET_USEC;
	latest = z->op_usec[0] + WRITEBACK_MAX_USEC;
	return quiet < latest ? quiet : latest;
}

void writes_on_writeback(dzone *z)
{
	uint64_t at = writeback_at(z), now = mgr_mono_usec();

	if (at > now) {
		/* writes came in meanwhile: wait for a quiet moment (bounded by the latest) */
		mgr_event_set(z, ZEV_WRITEBACK, at - now);
		return;
	}
	z->writeback_due = true;
	mgr_want_run(z, false);
}

void writes_arm(dzone *z)
{
	if (!mgr_event_pending(z, ZEV_WRITEBACK))
		mgr_event_set(z, ZEV_WRITEBACK, WRITEBACK_QUIET_USEC);
}

/* A journal failure: the index may hold writes that are not durable. Drop them and let
 * the next run rebuild the index from the zone (writes are refused until then). */
static void rollback(dzone *z)
{
	size_t k = z->n_ops;

	while (k && z->ops[k - 1].seq > z->synced_seq)
		rec_rr_clear(&z->ops[--k].rr);
	z->n_ops = k;
	z->recs = rec_set_free(z->recs);
	z->want_reload = true;
	mgr_want_run(z, false);
}

/* Group commit: one fdatasync per zone for every write queued since the last one. */
static int on_commit(sd_event_source *s, void *userdata)
{
	manager *m = userdata;
	dwrite *w = m->commit_head;

	m->commit_head = NULL;
	m->commit_tail = &m->commit_head;
	/* sync each zone with queued writes once */
	for (dwrite *p = w; p; p = p->next) {
		dzone *z = p->z;
		zk_error e = { 0 };
		int r;

		if (z->synced_seq >= p->seq || !z->journal)
			continue;
		r = jnl_sync(z->journal, &e);
		if (r < 0) {
			dlog_fields f = { .zone = z->name, .signatures = -1, .error_code = r };
			char buf[1024];

			dlog(ZK_LOG_ERR, &f, "record API: %s", zk_error_str(&e, r, buf, sizeof(buf)));
			rollback(z);
			continue;
		}
		z->synced_seq = jnl_next_seq(z->journal) - 1;
	}
	while (w) {
		dwrite *next = w->next;
		dzone *z = w->z;

		if (!w->req) {
			/* the records of a zone created: its creation answers (creation_reply) */
			if (z->synced_seq < w->seq) {
				zk_error e;

				zk_fail(&e, -EIO, "the journal of %s could not be written", z->name);
				zones_answer_create(z, -EIO, &e);
			} else {
				z->want = z->want_urgent = true;
				mgr_enqueue(m, z);
				writes_arm(z);
			}
			json_decref(w->reply);
			free(w);
		} else if (z->synced_seq < w->seq) {
			zk_error e;

			zk_fail(&e, -EIO, "the journal of %s could not be written; nothing was changed",
				z->name);
			api_reply_error(w->req, -EIO, &e);
			json_decref(w->reply);
			free(w);
		} else if (z->retry_at && z->retry_at > mgr_now(m)) {
			/*
			 * The zone's runs fail and wait for their retry: the write is durable and
			 * goes out with the next run that succeeds. It does not start a run of
			 * its own, so a stream of writes cannot turn a fault into a tight loop.
			 */
			if (w->wait) {
				char ts[32], buf[700];
				zk_error e = { 0 };

				zk_fail(&e, z->last_code, "the zone's runs are failing (%s); retrying "
					"at %s", zk_error_str(&z->last_error, z->last_code, buf,
							      sizeof(buf)),
					zk_time_iso(z->retry_at, ts, sizeof(ts)));
				reply_waiter(w, z->last_code, &e, z->serial);
			} else {
				json_object_set_new(w->reply, "published", json_false());
				api_reply_json(w->req, w->status, w->reply);
				free(w);
			}
		} else {
			z->want = z->want_urgent = true;
			mgr_enqueue(m, z);
			writes_arm(z);
			if (w->wait) {
				w->next = z->waiters;
				z->waiters = w;
			} else {
				json_object_set_new(w->reply, "published", json_false());
				api_reply_json(w->req, w->status, w->reply);
				free(w);
			}
		}
		w = next;
	}
	mgr_schedule(m);
	return 0;
}

static int ops_reserve(dzone *z, size_t more)
{
	size_t cap = z->cap_ops ? z->cap_ops : 64;
	rec_op *no;
	uint64_t *nu;

	if (z->n_ops + more <= z->cap_ops)
		return 0;
	while (cap < z->n_ops + more)
		cap *= 2;
	no = realloc(z->ops, cap * sizeof(*no));
	if (!no)
		return -ENOMEM;
	z->ops = no;
	nu = realloc(z->op_usec, cap * sizeof(*nu));
	if (!nu)
		return -ENOMEM;
	z->op_usec = nu;
	z->cap_ops = cap;
	return 0;
}

int writes_submit(manager *m, dzone *z, rec_op *ops, size_t n, api_req *req, unsigned status,
	       json_t *reply, bool wait, zk_error *reterr)
{
	dwrite *w = calloc(1, sizeof(*w));
	uint64_t seq = jnl_next_seq(z->journal), now = mgr_mono_usec();
	int r;

	if (!w || ops_reserve(z, n) < 0) {
		free(w);
		json_decref(reply);
		return zk_fail(reterr, -ENOMEM, "out of memory");
	}
	for (size_t i = 0; i < n; i++)
		ops[i].seq = seq;
	r = jnl_append(z->journal, ops, n);
	if (r < 0) {
		free(w);
		json_decref(reply);
		return zk_fail(reterr, r, "out of memory");
	}
	/* the index sees the write at once: the next request is checked against it */
	for (size_t i = 0; i < n; i++) {
		if (ops[i].kind == REC_OP_ADD)
			(void) rec_set_add(z->recs, &ops[i].rr);
		else
			(void) rec_set_del(z->recs, ops[i].rr.owner, ops[i].rr.type, ops[i].rr.rdata,
					  ops[i].rr.rdlen);
		z->ops[z->n_ops] = ops[i];
		z->op_usec[z->n_ops++] = now;
	}
	free(ops); /* RDATA now belongs to z->ops */
	z->api_writes++;
	*w = (dwrite) { .req = req, .z = z, .seq = seq, .status = status, .reply = reply,
			.wait = wait };
	*m->commit_tail = w;
	m->commit_tail = &w->next;
	sd_event_source_set_enabled(m->commit_src, SD_EVENT_ONESHOT);
	return API_LATER;
}

/* Before the API goes away: no connection may stay suspended. */
void writes_flush(manager *m)
{
	if (m->commit_head)
		on_commit(m->commit_src, m);
	for (size_t i = 0; i < m->zones.n; i++) {
		dzone *z = m->zones.v[i];
		zk_error e;

		zk_fail(&e, ZK_E_UNAVAILABLE, "zonekeeperd is stopping; the change is saved and is "
			"published when it starts again");
		writes_answer_waiters(z, UINT64_MAX, ZK_E_UNAVAILABLE, &e);
		if (z->create_req) {
			api_reply_error(z->create_req, ZK_E_UNAVAILABLE, &e);
			z->create_req = NULL;
		}
		if (z->delete_req) {
			api_reply_error(z->delete_req, ZK_E_UNAVAILABLE, &e);
			z->delete_req = NULL;
		}
	}
}

int writes_init(manager *m)
{
	int r;

	m->commit_tail = &m->commit_head;
	r = sd_event_add_defer(m->event, &m->commit_src, on_commit, m);
	if (r >= 0)
		r = sd_event_source_set_enabled(m->commit_src, SD_EVENT_OFF);
	return r;
}
