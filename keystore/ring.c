/* SPDX-License-Identifier: MIT */
/*
 * keystore/ring.c -- the key ring of one zone: keys, states, the policy's steps, and the
 * file that keeps them (see ring.h).
 *
 * File format, one line per entry, written whole and atomically:
 *   zonekeeper-keyring 1
 *   saved <unixtime>
 *   next <unixtime of the next key event, 0: none>
 *   insecure <0|1>
 *   key <alg> <tag> <role> <goal 0|1> <pred alg/tag or -> <active_at> <ds_published>
 *       <ds_withdrawn> dnskey=<state>@<t> zrrsig=<state>@<t> krrsig=<state>@<t>
 *       ds=<state>@<t>                                       (on one line)
 * States: - h r o u (none, hidden, rumoured, omnipresent, unretentive).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "keystore/ring.h"
#include "policy/zk-file.h"
#include "policy/zk-macro.h"
#include "policy/zk-time.h"

#define RING_FILE_MAX (64u * 1024u)

static const char state_chars[] = "-hrou"; /* indexed by ks_state */
static const char *const rec_names[KS_NREC] = { "dnskey", "zrrsig", "krrsig", "ds" };

void ks_ring_policy_from(const pol_policy *p, ks_ring_policy *ret)
{
	*ret = (ks_ring_policy) {
		.kp = {
			.dnskey_ttl = p->dnskey_ttl, .dprp = p->propagation_delay,
			.publish_safety = p->publish_safety, .retire_safety = p->retire_safety,
			.max_zone_ttl = p->max_zone_ttl,
			/* Dsgn: the time a gradual re-signing would take; we re-sign at once,
			 * so this only adds margin */
			.sign_delay = p->rrsig_validity > p->rrsig_refresh
					      ? p->rrsig_validity - p->rrsig_refresh : 0,
			.ds_ttl = p->parent_ds_ttl, .dprp_parent = p->parent_propagation_delay,
		},
		.algorithm = p->algorithm,
		.csk = p->keys == POL_KEYS_CSK,
		.ksk_lifetime = p->ksk_lifetime,
		.zsk_lifetime = p->zsk_lifetime,
		.insecure = p->insecure,
	};
	ret->kp.insecure = p->insecure;
}

/* ---------------------------------------------------------------- the file */

static int parse_state(const char *s, const char *name, ks_state *st, zk_time_t *t)
{
	size_t nl = strlen(name);
	const char *c;
	char *end;
	long long v;

	if (strncmp(s, name, nl) != 0 || s[nl] != '=' || !s[nl + 1] || s[nl + 2] != '@')
		return -EINVAL;
	c = strchr(state_chars, s[nl + 1]);
	if (!c)
		return -EINVAL;
	v = strtoll(s + nl + 3, &end, 10);
	if (*end || v < 0)
		return -EINVAL;
	*st = (ks_state) (c - state_chars);
	*t = v;
	return 0;
}

static int parse_key(ks_ring *r, char *line, uint16_t preds[][2])
{
	char role[8], pred[16], rec[KS_NREC][40];
	unsigned alg, tag, goal, palg, ptag;
	long long act, dsp, dsw;
	ks_kstate *k;
	int role_v;

	if (r->n == KS_RING_MAX)
		return -E2BIG;
	if (sscanf(line, "key %u %u %7s %u %15s %lld %lld %lld %39s %39s %39s %39s", &alg, &tag,
		   role, &goal, pred, &act, &dsp, &dsw, rec[0], rec[1], rec[2], rec[3]) != 12 ||
	    alg > 255 || tag > 65535 || goal > 1 || act < 0 || dsp < 0 || dsw < 0)
		return -EINVAL;
	role_v = ks_role_from_name(role);
	if (role_v < 0)
		return -EINVAL;
	k = &r->k[r->n];
	memset(k, 0, sizeof(*k));
	k->alg = (uint8_t) alg;
	k->tag = (uint16_t) tag;
	k->role = (ks_role) role_v;
	k->goal = goal;
	k->pred = -1;
	k->active_at = act;
	k->ds_published = dsp;
	k->ds_withdrawn = dsw;
	for (int i = 0; i < KS_NREC; i++)
		if (parse_state(rec[i], rec_names[i], &k->st[i], &k->last[i]) < 0)
			return -EINVAL;
	preds[r->n][0] = preds[r->n][1] = 0;
	if (strcmp(pred, "-") != 0) {
		if (sscanf(pred, "%u/%u", &palg, &ptag) != 2 || palg > 255 || palg == 0 ||
		    ptag > 65535)
			return -EINVAL;
		preds[r->n][0] = (uint16_t) palg;
		preds[r->n][1] = (uint16_t) ptag;
	}
	r->n++;
	return 0;
}

/* "ALG TAG ROLE REC STATE": REC a record name or "new"; STATE a state letter */
static int parse_event(ks_ring_event *ev, const char *s)
{
	char role[8], rec[8], st;
	unsigned alg, tag;
	int role_v;
	const char *c;

	if (sscanf(s, "%u %u %7s %7s %c", &alg, &tag, role, rec, &st) != 5 || alg > 255 ||
	    tag > 65535 || (role_v = ks_role_from_name(role)) < 0 ||
	    !(c = strchr(state_chars, st)) || !*c)
		return -EINVAL;
	ev->kind = KS_RING_EV_NONE;
	for (int i = 0; i < KS_NREC; i++)
		if (!strcmp(rec, rec_names[i])) {
			ev->kind = KS_RING_EV_MOVE;
			ev->rec = i;
		}
	if (!strcmp(rec, "new"))
		ev->kind = KS_RING_EV_NEW;
	if (ev->kind == KS_RING_EV_NONE)
		return -EINVAL;
	ev->alg = (uint8_t) alg;
	ev->tag = (uint16_t) tag;
	ev->role = (ks_role) role_v;
	ev->next = (ks_state) (c - state_chars);
	return 0;
}

int ks_ring_load(const char *path, ks_ring *r, zk_error *reterr)
{
	_cleanup_free_ char *text = NULL;
	uint16_t preds[KS_RING_MAX][2];
	unsigned lineno = 0, version = 0, flag;
	long long saved;
	char *line, *save = NULL;
	size_t len;
	int ret;

	memset(r, 0, sizeof(*r));
	ret = zk_file_read(path, RING_FILE_MAX, &text, &len);
	if (ret == -ENOENT)
		return 0;
	if (ret < 0)
		return zk_fail(reterr, ret, "cannot read the key states %s", path);
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		lineno++;
		if (lineno == 1) {
			if (sscanf(line, "zonekeeper-keyring %u", &version) != 1 || version != 1)
				return zk_fail_at(reterr, ZK_E_KEY, path, lineno,
						  "not a zonekeeper key state file (version 1)");
		} else if (sscanf(line, "saved %lld", &saved) == 1 && saved >= 0) {
			r->saved = saved;
		} else if (sscanf(line, "next %lld", &saved) == 1 && saved >= 0) {
			r->next = saved;
		} else if (sscanf(line, "insecure %u", &flag) == 1 && flag <= 1) {
			r->insecure = flag;
		} else if (sscanf(line, "pending %u", &flag) == 1 && flag < 1u << _KS_ROLE_MAX) {
			r->pending = flag;
		} else if (strncmp(line, "event ", 6) == 0) {
			if (parse_event(&r->ev, line + 6) < 0)
				return zk_fail_at(reterr, ZK_E_KEY, path, lineno,
						  "malformed key event line");
		} else {
			ret = parse_key(r, line, preds);
			if (ret < 0)
				return zk_fail_at(reterr, ZK_E_KEY, path, lineno,
						  ret == -E2BIG ? "more than %d keys"
								: "malformed key state line",
						  KS_RING_MAX);
		}
	}
	if (!version)
		return zk_fail_at(reterr, ZK_E_KEY, path, 0, "empty key state file");
	for (size_t i = 0; i < r->n; i++)
		for (size_t j = 0; j < r->n && preds[i][0]; j++)
			if (r->k[j].alg == preds[i][0] && r->k[j].tag == preds[i][1] && j != i)
				r->k[i].pred = (int) j;
	return 0;
}

int ks_ring_save(const char *path, ks_ring *r, zk_time_t now, zk_error *reterr)
{
	_cleanup_free_ char *buf = malloc(RING_FILE_MAX);
	size_t o = 0;

	if (!buf)
		return zk_fail(reterr, -ENOMEM, "out of memory");
	o += (size_t) snprintf(buf + o, RING_FILE_MAX - o,
			       "zonekeeper-keyring 1\nsaved %" PRId64 "\nnext %" PRId64
			       "\ninsecure %d\n", now, r->next, r->insecure);
	/* written only when set */
	if (r->pending)
		o += (size_t) snprintf(buf + o, RING_FILE_MAX - o, "pending %u\n", r->pending);
	if (r->ev.kind != KS_RING_EV_NONE)
		o += (size_t) snprintf(buf + o, RING_FILE_MAX - o, "event %u %u %s %s %c\n",
				       r->ev.alg, r->ev.tag, ks_role_name(r->ev.role),
				       r->ev.kind == KS_RING_EV_MOVE ? rec_names[r->ev.rec] : "new",
				       state_chars[r->ev.next]);
	for (size_t i = 0; i < r->n; i++) {
		const ks_kstate *k = &r->k[i];
		char pred[16] = "-";

		if (k->pred >= 0)
			snprintf(pred, sizeof(pred), "%u/%u", r->k[k->pred].alg, r->k[k->pred].tag);
		o += (size_t) snprintf(buf + o, RING_FILE_MAX - o,
				       "key %u %u %s %d %s %" PRId64 " %" PRId64 " %" PRId64,
				       k->alg, k->tag, ks_role_name(k->role), k->goal, pred,
				       k->active_at, k->ds_published, k->ds_withdrawn);
		for (int rec = 0; rec < KS_NREC; rec++)
			o += (size_t) snprintf(buf + o, RING_FILE_MAX - o, " %s=%c@%" PRId64,
					       rec_names[rec], state_chars[k->st[rec]],
					       k->last[rec]);
		o += (size_t) snprintf(buf + o, RING_FILE_MAX - o, "\n");
	}
	if (o >= RING_FILE_MAX)
		return zk_fail(reterr, -E2BIG, "key states too large for %s", path);
	r->saved = now;
	return zk_file_write_atomic(path, 0600, buf, o, reterr);
}

/* ---------------------------------------------------------------- keys in and out */

static int ring_add(ks_ring *r, ks_key *key, int pred, zk_time_t now)
{
	if (r->n == KS_RING_MAX)
		return -E2BIG;
	ks_kstate_init(&r->k[r->n], ks_key_tag(key), ks_key_algorithm(key), ks_key_role(key),
		       pred, now);
	r->key[r->n] = key;
	return (int) r->n++;
}

/* A successor of the role's key in the zone, as a rollover makes it. */
static int ring_add_successor(ks_ring *r, ks_key *key, zk_time_t now)
{
	ks_role role = ks_key_role(key);
	int old = ks_kasp_active(r->k, r->n, role), i;

	/* a CSK that replaces a KSK/ZSK pair follows the KSK (the DS chain) */
	if (old < 0 && role == KS_ROLE_CSK)
		old = ks_kasp_active(r->k, r->n, KS_ROLE_KSK);
	i = ring_add(r, key, old, now);
	if (i >= 0 && old >= 0)
		r->k[old].goal = false;
	return i;
}

/* A key met without a ring entry and not made by us since: take its timing at its word. */
static int ring_adopt(ks_ring *r, ks_key *key, zk_time_t now)
{
	const ks_timing *t = ks_key_timing(key);
	int i = ring_add(r, key, -1, now);
	ks_kstate *k;

	if (i < 0)
		return i;
	k = &r->k[i];
	if (t->remove && t->remove <= now) {
		k->goal = false; /* gone: only its files remain to archive */
		return i;
	}
	if (!t->publish || t->publish > now)
		return i; /* introduced from now on */
	k->st[KS_DNSKEY] = KS_OMNIPRESENT;
	if (ks_key_is_active(key, now)) {
		for (int rec = KS_ZRRSIG; rec < KS_NREC; rec++)
			if (k->st[rec] != KS_NA)
				k->st[rec] = KS_OMNIPRESENT;
		k->active_at = t->active;
		if (k->st[KS_DS] == KS_OMNIPRESENT)
			k->ds_published = t->active;
	}
	if (t->retire && t->retire <= now)
		k->goal = false;
	return i;
}

static bool gone(const ks_kstate *k)
{
	if (k->goal)
		return false;
	for (int rec = 0; rec < KS_NREC; rec++)
		if (k->st[rec] != KS_NA && k->st[rec] != KS_HIDDEN)
			return false;
	return true;
}

static void ring_drop(ks_ring *r, size_t i)
{
	memmove(r->k + i, r->k + i + 1, (r->n - i - 1) * sizeof(r->k[0]));
	memmove(r->key + i, r->key + i + 1, (r->n - i - 1) * sizeof(r->key[0]));
	r->n--;
	for (size_t j = 0; j < r->n; j++) {
		if (r->k[j].pred == (int) i)
			r->k[j].pred = -1;
		else if (r->k[j].pred > (int) i)
			r->k[j].pred--;
	}
}

int ks_ring_attach(ks_ring *r, ks_store *s, const ks_ring_policy *rp, zk_time_t now,
		   zk_error *reterr)
{
	bool known[KS_RING_MAX * 4] = { false };
	size_t n_store = ks_store_count(s);
	int adopted = 0;

	if (n_store > ZK_ELEMENTSOF(known))
		return zk_fail(reterr, ZK_E_KEY, "more than %zu keys in %s", ZK_ELEMENTSOF(known),
			       ks_store_dir(s));
	for (size_t i = 0; i < r->n;) {
		ks_key *k = ks_store_find(s, r->k[i].alg, r->k[i].tag);

		if (!k && gone(&r->k[i])) {
			ring_drop(r, i); /* archived just before a crash */
			continue;
		}
		if (!k)
			return zk_fail(reterr, ZK_E_KEY,
				       "key %u (algorithm %u) is in the zone's key states but its "
				       "files are missing from %s; refusing to sign without it",
				       r->k[i].tag, r->k[i].alg, ks_store_dir(s));
		r->key[i] = k;
		for (size_t j = 0; j < n_store; j++)
			if (ks_store_key(s, j) == k)
				known[j] = true;
		i++;
	}
	for (size_t j = 0; j < n_store; j++) {
		ks_key *k = ks_store_key(s, j);
		int i;

		if (known[j])
			continue;
		/* made by a step that did not get to save the ring: finish that step */
		if (r->saved && ks_key_timing(k)->created >= r->saved)
			i = ring_add_successor(r, k, now);
		else
			i = ring_adopt(r, k, now);
		if (i < 0)
			return zk_fail(reterr, ZK_E_KEY, "more than %d keys in the ring of %s",
				       KS_RING_MAX, ks_store_dir(s));
		adopted++;
	}
	(void) rp;
	return adopted;
}

/* ---------------------------------------------------------------- one step */

int ks_ring_gen_store(void *userdata, ks_role role, uint8_t alg, zk_time_t now, ks_key **ret,
		      zk_error *reterr)
{
	ks_timing t = { .created = now };

	return ks_store_generate(userdata, alg, role, &t, ret, reterr);
}

/* A successor of `role`; unless an operator `asked`, only outside the reserved slots. */
static int generate(ks_ring *r, ks_role role, bool asked, const ks_ring_policy *rp,
		    zk_time_t now, ks_ring_gen_fn gen, void *userdata, ks_ring_report *rep,
		    zk_error *reterr)
{
	ks_key *key = NULL;
	int ret;

	if (!asked && r->n >= KS_RING_MAX - KS_RING_RESERVED) {
		/* the zone goes on with the keys it has; the rollover comes once keys left */
		rep->deferred |= 1u << role;
		return 0;
	}
	if (r->n == KS_RING_MAX)
		return zk_fail(reterr, ZK_E_KEY, "more than %d keys in the key ring",
			       KS_RING_MAX);
	ret = gen(userdata, role, rp->algorithm, now, &key, reterr);
	if (ret < 0)
		return ret;
	ret = ring_add_successor(r, key, now);
	if (ret < 0)
		return zk_fail(reterr, ZK_E_KEY, "more than %d keys in the key ring",
			       KS_RING_MAX);
	if (rep->generated < ZK_ELEMENTSOF(rep->generated_tags))
		rep->generated_tags[rep->generated] = ks_key_tag(key);
	rep->generated++;
	return 0;
}

static zk_time_t earliest(zk_time_t a, zk_time_t b)
{
	return !a ? b : !b ? a : a < b ? a : b;
}

/* BIND-style timing metadata from the states, so that the key files tell the same story. */
static void update_timing(ks_ring *r, size_t i, const ks_state before[KS_NREC],
			  bool goal_before, zk_time_t now, bool *changed)
{
	const ks_kstate *k = &r->k[i];
	ks_timing t;
	int sig = k->role == KS_ROLE_KSK ? KS_KRRSIG : KS_ZRRSIG;

	if (!r->key[i])
		return;
	t = *ks_key_timing(r->key[i]);
	if (before[KS_DNSKEY] == KS_HIDDEN && k->st[KS_DNSKEY] == KS_RUMOURED)
		t.publish = now;
	if (before[sig] == KS_HIDDEN && k->st[sig] == KS_RUMOURED)
		t.active = now;
	if (goal_before && !k->goal)
		t.retire = now;
	if (before[KS_DNSKEY] != KS_HIDDEN && k->st[KS_DNSKEY] == KS_HIDDEN)
		t.remove = now;
	if (memcmp(&t, ks_key_timing(r->key[i]), sizeof(t)) != 0) {
		ks_key_set_timing(r->key[i], &t);
		*changed = true;
	}
}

/*
 * Key i signs the zone and the zone has no chain of trust yet (its DS not yet asked for):
 * a successor would sign at once, beside it (see ks_ring_step).
 */
static bool young(const ks_ring *r, size_t i)
{
	return r->k[i].role != KS_ROLE_KSK && !ks_kasp_has_chain(r->k, r->n, i);
}

/* Successors for the roles asked for, due, or missing; young keys' requests wait. */
static int start_rollovers(ks_ring *r, const ks_ring_policy *rp, unsigned roll,
			   unsigned at_once, unsigned due, zk_time_t now, ks_ring_gen_fn gen,
			   void *userdata, ks_ring_report *rep, zk_error *reterr)
{
	static const ks_role pair[] = { KS_ROLE_KSK, KS_ROLE_ZSK }, csk[] = { KS_ROLE_CSK };
	const ks_role *roles = rp->csk ? csk : pair;
	size_t n_roles = rp->csk ? 1 : 2;

	roll |= at_once | r->pending;
	for (size_t j = 0; j < n_roles; j++) {
		int a = ks_kasp_active(r->k, r->n, roles[j]), ret;
		unsigned bit = 1u << roles[j];

		if (a >= 0 && r->k[a].alg == rp->algorithm && !(roll & bit) && !(due & bit))
			continue;
		if ((roll & bit) && !(at_once & bit) && a >= 0 && young(r, (size_t) a)) {
			r->pending |= bit;
			continue;
		}
		r->pending &= ~bit;
		ret = generate(r, roles[j], (roll & bit) != 0, rp, now, gen, userdata, rep,
			       reterr);
		if (ret < 0)
			return ret;
	}
	return 0;
}

int ks_ring_step(ks_ring *r, const ks_ring_policy *rp, unsigned roll, unsigned at_once,
		 zk_time_t now, ks_ring_gen_fn gen, void *userdata, ks_ring_report *rep,
		 zk_error *reterr)
{
	ks_state before[KS_RING_MAX][KS_NREC];
	bool goal_before[KS_RING_MAX];
	zk_time_t next = 0, roll_next = 0;
	ks_kasp_move move = { .key = -1 };
	ks_ring_event ev = { .kind = KS_RING_EV_NONE };
	ks_role roll_role = KS_ROLE_ZSK;
	bool waits = false;
	unsigned due;
	int ret;

	memset(rep, 0, sizeof(*rep));
	for (size_t i = 0; i < r->n; i++) {
		memcpy(before[i], r->k[i].st, sizeof(before[i]));
		goal_before[i] = r->k[i].goal;
	}
	due = ks_kasp_rolls_due(r->k, r->n, &rp->kp, rp->ksk_lifetime, rp->zsk_lifetime, now,
				NULL, NULL);
	r->insecure = rp->insecure;
	if (r->insecure) {
		for (size_t i = 0; i < r->n; i++)
			r->k[i].goal = false;
	} else {
		ret = start_rollovers(r, rp, roll, at_once, due, now, gen, userdata, rep, reterr);
		if (ret < 0)
			return ret;
		/* roles the policy no longer has (a change between KSK+ZSK and CSK) leave */
		for (size_t i = 0; i < r->n; i++)
			if (rp->csk ? r->k[i].role != KS_ROLE_CSK : r->k[i].role == KS_ROLE_CSK)
				r->k[i].goal = false;
	}
	rep->moves = ks_kasp_update(r->k, r->n, &rp->kp, now, &next, &move, &waits);
	/* a waiting request whose key came of age in this update starts now, not a step later */
	if (r->pending && !r->insecure) {
		size_t generated = rep->generated;

		ret = start_rollovers(r, rp, 0, 0, 0, now, gen, userdata, rep, reterr);
		if (ret < 0)
			return ret;
		if (rep->generated != generated)
			rep->moves += ks_kasp_update(r->k, r->n, &rp->kp, now, &next, &move,
						     &waits);
	}
	if (move.key >= 0) /* by tag: the indexes change when keys leave below */
		ev = (ks_ring_event) { .kind = KS_RING_EV_MOVE, .rec = move.rec, .next = move.next,
				       .alg = r->k[move.key].alg, .tag = r->k[move.key].tag,
				       .role = r->k[move.key].role };
	for (size_t i = 0; i < r->n; i++) {
		bool changed = false;

		if (i < ZK_ELEMENTSOF(goal_before) && i < r->n - rep->generated) {
			update_timing(r, i, before[i], goal_before[i], now, &changed);
		} else {
			ks_state h[KS_NREC] = { KS_HIDDEN, KS_HIDDEN, KS_HIDDEN, KS_HIDDEN };

			update_timing(r, i, h, true, now, &changed);
		}
		if (changed)
			rep->retimed_keys[rep->retimed++] = r->key[i];
	}
	for (size_t i = 0; i < r->n;) {
		if (!gone(&r->k[i])) {
			i++;
			continue;
		}
		rep->removed_tags[rep->removed] = r->k[i].tag;
		rep->removed_keys[rep->removed++] = r->key[i];
		ring_drop(r, i);
	}
	ks_kasp_rolls_due(r->k, r->n, &rp->kp, rp->ksk_lifetime, rp->zsk_lifetime, now,
			  &roll_next, &roll_role);
	rep->next = r->next = earliest(next, roll_next);
	if (roll_next && r->next == roll_next) {
		int a = ks_kasp_active(r->k, r->n, roll_role);

		ev = (ks_ring_event) { .kind = KS_RING_EV_NEW, .role = roll_role,
				       .alg = a >= 0 ? r->k[a].alg : 0,
				       .tag = a >= 0 ? r->k[a].tag : 0 };
	}
	r->ev = r->next ? ev : (ks_ring_event) { .kind = KS_RING_EV_NONE };
	rep->waits_parent = waits;
	rep->pending = r->pending;
	return 0;
}

/* ---------------------------------------------------------------- the parent */

bool ks_ring_ds_observed(ks_ring *r, size_t i, bool published, zk_time_t now)
{
	ks_kstate *k = &r->k[i];

	if (published && k->st[KS_DS] == KS_RUMOURED && !k->ds_published) {
		k->ds_published = now;
		k->ds_withdrawn = 0;
		return true;
	}
	if (!published && k->st[KS_DS] == KS_UNRETENTIVE && !k->ds_withdrawn) {
		k->ds_withdrawn = now;
		return true;
	}
	return false;
}

int ks_ring_ds_seen(ks_ring *r, uint16_t tag, bool published, zk_time_t now,
		    zk_error *reterr)
{
	char why[96];

	for (size_t i = 0; i < r->n; i++) {
		if (r->k[i].tag != tag || r->k[i].st[KS_DS] == KS_NA)
			continue;
		if (ks_ring_ds_observed(r, i, published, now))
			return 0;
		if (ks_ring_waiting(r, i, why, sizeof(why)))
			return zk_fail(reterr, ZK_E_CONFLICT, "key %u is %s", tag, why);
		return zk_fail(reterr, ZK_E_CONFLICT,
			       "the DS of key %u is not waiting to be %s (DS state %s)", tag,
			       published ? "seen at the parent" : "seen gone from the parent",
			       ks_state_name(r->k[i].st[KS_DS]));
	}
	return zk_fail(reterr, ZK_E_KEY_NOT_FOUND, "no key-signing key with tag %u in the zone",
		       tag);
}

/* ---------------------------------------------------------------- what to publish */

static bool in_zone(ks_state s)
{
	return s == KS_RUMOURED || s == KS_OMNIPRESENT;
}

bool ks_ring_publishes(const ks_ring *r, size_t i)
{
	return in_zone(r->k[i].st[KS_DNSKEY]);
}

bool ks_ring_signs_zone(const ks_ring *r, size_t i)
{
	return in_zone(r->k[i].st[KS_ZRRSIG]);
}

bool ks_ring_signs_keys(const ks_ring *r, size_t i)
{
	return in_zone(r->k[i].st[KS_KRRSIG]);
}

bool ks_ring_cds(const ks_ring *r, size_t i)
{
	/* submitted (rumoured) or in place (omnipresent); withdrawn when unretentive */
	return in_zone(r->k[i].st[KS_DS]) && in_zone(r->k[i].st[KS_DNSKEY]);
}

bool ks_ring_cds_delete(const ks_ring *r)
{
	for (size_t i = 0; r->insecure && i < r->n; i++)
		if (r->k[i].st[KS_DS] != KS_NA && r->k[i].st[KS_DS] != KS_HIDDEN)
			return true;
	return false;
}

const char *ks_ring_waiting(const ks_ring *r, size_t i, char *buf, size_t size)
{
	const ks_kstate *k = &r->k[i];

	if (k->st[KS_DS] == KS_RUMOURED && !k->ds_published)
		snprintf(buf, size, "waiting for DS %u at the parent", k->tag);
	else if (k->st[KS_DS] == KS_UNRETENTIVE && !k->ds_withdrawn)
		snprintf(buf, size, "waiting for DS %u to leave the parent", k->tag);
	else
		return NULL;
	return buf;
}

bool ks_ring_waits_parent(const ks_ring *r)
{
	char why[96];

	for (size_t i = 0; i < r->n; i++)
		if (ks_ring_waiting(r, i, why, sizeof(why)))
			return true;
	return false;
}

int ks_ring_rolling(const ks_ring *r, ks_role role, char *why, size_t size)
{
	int a = ks_kasp_active(r->k, r->n, role), old = -1;
	char wait[96], when[32];

	for (size_t i = 0; i < r->n && old < 0; i++)
		if (r->k[i].role == role && (int) i != a)
			old = (int) i;
	if (old < 0)
		return -1;
	/* a DS the parent has to show first, else the TTLs of the records that move */
	for (size_t i = 0; i < r->n; i++)
		if (r->k[i].role == role && ks_ring_waiting(r, i, wait, sizeof(wait))) {
			if (a >= 0)
				snprintf(why, size, "key %u is leaving for key %u; %s", r->k[old].tag,
					 r->k[a].tag, wait);
			else
				snprintf(why, size, "key %u is leaving; %s", r->k[old].tag, wait);
			return old;
		}
	if (r->next)
		zk_time_iso(r->next, when, sizeof(when));
	else
		snprintf(when, sizeof(when), "not scheduled");
	if (a >= 0)
		snprintf(why, size, "key %u is leaving for key %u; waiting for caches to expire "
			 "its records (next key event: %s)", r->k[old].tag, r->k[a].tag, when);
	else
		snprintf(why, size, "key %u is leaving; waiting for caches to expire its records "
			 "(next key event: %s)", r->k[old].tag, when);
	return old;
}

const char *ks_ring_event_text(const ks_ring *r, char *buf, size_t size)
{
	/* what each move means for a person: [record][state] */
	static const char *const what[KS_NREC][KS_UNRETENTIVE + 1] = {
		[KS_DNSKEY] = { [KS_RUMOURED] = "publishes its DNSKEY",
				[KS_OMNIPRESENT] = "has its DNSKEY in every cache",
				[KS_UNRETENTIVE] = "withdraws its DNSKEY",
				[KS_HIDDEN] = "leaves the zone (its DNSKEY is out of every cache)" },
		[KS_ZRRSIG] = { [KS_RUMOURED] = "starts signing the zone (becomes active)",
				[KS_OMNIPRESENT] = "has its signatures in every cache",
				[KS_UNRETENTIVE] = "stops signing the zone (retires)",
				[KS_HIDDEN] = "has its signatures out of every cache" },
		[KS_KRRSIG] = { [KS_RUMOURED] = "starts signing the DNSKEY RRset",
				[KS_OMNIPRESENT] = "has its DNSKEY signature in every cache",
				[KS_UNRETENTIVE] = "stops signing the DNSKEY RRset",
				[KS_HIDDEN] = "has its DNSKEY signature out of every cache" },
		[KS_DS] = { [KS_RUMOURED] = "asks the parent for its DS (CDS/CDNSKEY)",
			    [KS_OMNIPRESENT] = "has its DS in every cache",
			    [KS_UNRETENTIVE] = "asks the parent to remove its DS",
			    [KS_HIDDEN] = "has its DS out of every cache" },
	};
	const ks_ring_event *e = &r->ev;
	const char *role = ks_role_name(e->role);

	buf[0] = '\0';
	if (!r->next || e->kind == KS_RING_EV_NONE)
		return buf;
	if (e->kind == KS_RING_EV_NEW)
		snprintf(buf, size, "a successor of %s %u is generated (its lifetime ends)", role,
			 e->tag);
	else if (e->rec >= 0 && e->rec < KS_NREC && e->next <= KS_UNRETENTIVE &&
		 what[e->rec][e->next])
		snprintf(buf, size, "%s %u %s", role, e->tag, what[e->rec][e->next]);
	return buf;
}

const char *ks_ring_status(const ks_ring *r, char *buf, size_t size)
{
	/* a DS to be published first: during a KSK rollover that is the step that matters */
	buf[0] = '\0';
	for (int pass = 0; pass < 2 && !buf[0]; pass++)
		for (size_t i = 0; i < r->n; i++)
			if ((r->k[i].st[KS_DS] == KS_RUMOURED) == (pass == 0) &&
			    ks_ring_waiting(r, i, buf, size))
				break;
	for (int role = 0; role < _KS_ROLE_MAX && !buf[0]; role++) {
		char when[32] = "not scheduled";

		if (!(r->pending & (1u << role)))
			continue;
		if (r->next)
			zk_time_iso(r->next, when, sizeof(when));
		snprintf(buf, size, "%s rollover asked for: starts once the zone's keys are in "
			 "every cache and its DS is asked for (next key event: %s)",
			 ks_role_name((ks_role) role), when);
	}
	return buf;
}
