/* SPDX-License-Identifier: MIT */
/*
 * tests/unit/test_parent.c -- sgn_parent_ds_check() against tiny fake parental agents:
 * threads serving UDP and TCP on 127.0.0.1 (ports chosen by the kernel) that answer the DS
 * query with a packet built here with ldns. The expected DS records come from ldns's own
 * ldns_key_rr2ds(), not from the code under test.
 *
 * Every fake stops and its thread is joined before a test asserts anything, and its loop
 * is bounded, so a failing test cannot leave a server behind for long.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <ldns/ldns.h>

#include "keystore/keystore.h"
#include "policy/zk-codec.h"
#include "policy/zk-error.h"
#include "signer/parent.h"

#define ZONE "example.com."
#define MAX_RRS 8
#define FAKE_ROUNDS 400 /* x 50 ms: a fake left running stops by itself after 20 s */
#define TIMEOUT_MS 300

/* ---------------------------------------------------------------- fake parental agent */

typedef struct fake {
	/* what to answer: set before fake_start() */
	ldns_pkt_rcode rcode;
	bool aa;
	bool silent; /* read queries, never answer */
	bool tc_udp; /* UDP answers are truncated and empty; TCP answers in full */
	bool bad_id; /* answer with another message ID */
	const char *answer[MAX_RRS];    /* presentation form; NULL-terminated */
	const char *authority[MAX_RRS];

	/* what it saw: read after fake_stop() */
	unsigned udp_queries, tcp_queries;
	bool saw_rd, saw_other_question;

	int udp, tcp, stop[2];
	uint16_t port;
	pthread_t thread;
} fake;

static void push_rrs(ldns_pkt *p, ldns_pkt_section s, const char *const *rrs)
{
	for (size_t i = 0; i < MAX_RRS && rrs[i]; i++) {
		ldns_rr *rr = NULL;

		if (ldns_rr_new_frm_str(&rr, rrs[i], 0, NULL, NULL) != LDNS_STATUS_OK) {
			fprintf(stderr, "fake: cannot parse \"%s\"\n", rrs[i]);
			continue;
		}
		ldns_pkt_push_rr(p, s, rr);
	}
}

/* The answer to `wire` in wire form, or NULL if there is nothing to answer. */
static uint8_t *fake_reply(fake *f, const uint8_t *wire, size_t len, bool tcp, size_t *ret_len)
{
	ldns_pkt *q = NULL, *a;
	const ldns_rr *qrr;
	uint8_t *out = NULL;

	if (ldns_wire2pkt(&q, wire, len) != LDNS_STATUS_OK)
		return NULL;
	qrr = ldns_rr_list_rr(ldns_pkt_question(q), 0);
	f->saw_rd |= ldns_pkt_rd(q);
	if (!qrr || ldns_rr_get_type(qrr) != LDNS_RR_TYPE_DS ||
	    ldns_rr_get_class(qrr) != LDNS_RR_CLASS_IN)
		f->saw_other_question = true;

	a = ldns_pkt_new();
	ldns_pkt_set_id(a, (uint16_t) (ldns_pkt_id(q) + (f->bad_id ? 1 : 0)));
	ldns_pkt_set_qr(a, true);
	ldns_pkt_set_aa(a, f->aa);
	ldns_pkt_set_opcode(a, LDNS_PACKET_QUERY);
	ldns_pkt_set_rcode(a, (uint8_t) f->rcode);
	if (qrr)
		ldns_pkt_push_rr(a, LDNS_SECTION_QUESTION, ldns_rr_clone(qrr));
	if (f->tc_udp && !tcp) {
		ldns_pkt_set_tc(a, true);
	} else {
		push_rrs(a, LDNS_SECTION_ANSWER, f->answer);
		push_rrs(a, LDNS_SECTION_AUTHORITY, f->authority);
	}
	if (ldns_pkt2wire(&out, a, ret_len) != LDNS_STATUS_OK)
		out = NULL;
	ldns_pkt_free(a);
	ldns_pkt_free(q);
	return out;
}

static void fake_udp(fake *f)
{
	static __thread uint8_t buf[65535];
	struct sockaddr_storage from;
	socklen_t from_len = sizeof(from);
	uint8_t *reply;
	size_t len;
	ssize_t n;

	n = recvfrom(f->udp, buf, sizeof(buf), MSG_DONTWAIT, (struct sockaddr *) &from,
		     &from_len);
	if (n <= 0)
		return;
	f->udp_queries++;
	if (f->silent)
		return;
	reply = fake_reply(f, buf, (size_t) n, false, &len);
	if (reply)
		(void) sendto(f->udp, reply, len, 0, (struct sockaddr *) &from, from_len);
	free(reply);
}

static bool read_full(int fd, uint8_t *buf, size_t n)
{
	size_t got = 0;

	for (unsigned i = 0; got < n && i < 64; i++) {
		ssize_t r = recv(fd, buf + got, n - got, 0);

		if (r <= 0)
			return false;
		got += (size_t) r;
	}
	return got == n;
}

static void fake_tcp(fake *f)
{
	static __thread uint8_t buf[65535 + 2];
	struct timeval tv = { .tv_sec = 1 };
	uint8_t *reply = NULL;
	size_t len;
	int c;

	c = accept(f->tcp, NULL, NULL);
	if (c < 0)
		return;
	(void) setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (!read_full(c, buf, 2))
		goto out;
	len = (size_t) buf[0] << 8 | buf[1];
	if (!read_full(c, buf, len))
		goto out;
	f->tcp_queries++;
	if (f->silent)
		goto out;
	reply = fake_reply(f, buf, len, true, &len);
	if (!reply || len > 65535)
		goto out;
	buf[0] = (uint8_t) (len >> 8);
	buf[1] = (uint8_t) len;
	memcpy(buf + 2, reply, len);
	(void) send(c, buf, len + 2, MSG_NOSIGNAL);
out:
	free(reply);
	close(c);
}

static void *fake_run(void *arg)
{
	fake *f = arg;

	for (unsigned round = 0; round < FAKE_ROUNDS; round++) {
		struct pollfd p[3] = {
			{ .fd = f->stop[0], .events = POLLIN },
			{ .fd = f->udp, .events = POLLIN },
			{ .fd = f->tcp, .events = POLLIN },
		};

		if (poll(p, 3, 50) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (p[0].revents)
			break;
		if (p[1].revents & POLLIN)
			fake_udp(f);
		if (p[2].revents & POLLIN)
			fake_tcp(f);
	}
	return NULL;
}

/* Bind UDP to a kernel-chosen port on 127.0.0.1 and TCP to the same port. */
static int fake_bind(fake *f)
{
	for (unsigned attempt = 0; attempt < 20; attempt++) {
		struct sockaddr_in sa = { .sin_family = AF_INET };
		socklen_t sl = sizeof(sa);
		int one = 1;

		sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		f->udp = socket(AF_INET, SOCK_DGRAM, 0);
		f->tcp = socket(AF_INET, SOCK_STREAM, 0);
		if (f->udp < 0 || f->tcp < 0)
			return -1;
		(void) setsockopt(f->tcp, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(f->udp, (struct sockaddr *) &sa, sizeof(sa)) == 0 &&
		    getsockname(f->udp, (struct sockaddr *) &sa, &sl) == 0 &&
		    bind(f->tcp, (struct sockaddr *) &sa, sizeof(sa)) == 0 &&
		    listen(f->tcp, 8) == 0) {
			f->port = ntohs(sa.sin_port);
			return 0;
		}
		close(f->udp);
		close(f->tcp);
	}
	return -1;
}

static void fake_start(fake *f)
{
	assert_int_equal(fake_bind(f), 0);
	assert_int_equal(pipe(f->stop), 0);
	assert_int_equal(pthread_create(&f->thread, NULL, fake_run, f), 0);
}

static void fake_stop(fake *f)
{
	(void) !write(f->stop[1], "x", 1);
	pthread_join(f->thread, NULL);
	close(f->stop[0]);
	close(f->stop[1]);
	close(f->udp);
	close(f->tcp);
}

/* ---------------------------------------------------------------- keys and their DS */

static ks_key *key_a, *key_b;
static const uint8_t *dnskeys[2];
static size_t dnskey_lens[2];

/* "example.com. 3600 IN DS ..." of `k` with digest `h`, computed by ldns; free() it. */
static char *ds_text(const ks_key *k, ldns_hash h)
{
	char b64[2048], text[2200];
	size_t len;
	const uint8_t *rd = ks_key_dnskey(k, &len);
	ldns_rr *dnskey = NULL, *ds;
	char *s;

	zk_b64_encode(rd + 4, len - 4, b64);
	snprintf(text, sizeof(text), ZONE " 3600 IN DNSKEY %u %u %u %s",
		 (unsigned) (rd[0] << 8 | rd[1]), rd[2], rd[3], b64);
	if (ldns_rr_new_frm_str(&dnskey, text, 0, NULL, NULL) != LDNS_STATUS_OK)
		return NULL;
	ds = ldns_key_rr2ds(dnskey, h);
	ldns_rr_free(dnskey);
	if (!ds)
		return NULL;
	s = ldns_rr2str(ds);
	ldns_rr_free(ds);
	if (s && strchr(s, '\n'))
		*strchr(s, '\n') = '\0';
	return s;
}

/* A DS of `owner` in `class` with `k`'s tag and algorithm and the given digest. */
static void ds_forged(char *out, size_t max, const char *owner, const char *class,
		      const ks_key *k, unsigned dt, const uint8_t *digest, size_t dlen)
{
	char hex[2 * 64 + 1];

	zk_hex_encode(digest, dlen, hex);
	snprintf(out, max, "%s 3600 %s DS %u %u %u %s", owner, class, ks_key_tag(k),
		 ks_key_algorithm(k), dt, hex);
}

static char *ds_a1, *ds_a2, *ds_a4, *ds_b1, *ds_b2, *ds_b4;

static int setup(void **state)
{
	zk_time_t now = zk_time_utc(2025, 6, 1, 12, 0, 0);

	(void) state;
	if (ks_key_generate(13, KS_ROLE_KSK, ZONE, now, &key_a, NULL) < 0 ||
	    ks_key_generate(13, KS_ROLE_KSK, ZONE, now, &key_b, NULL) < 0)
		return -1;
	if (ks_key_tag(key_a) == ks_key_tag(key_b))
		return -1; /* one in 65536: the tests assume distinct tags */
	dnskeys[0] = ks_key_dnskey(key_a, &dnskey_lens[0]);
	dnskeys[1] = ks_key_dnskey(key_b, &dnskey_lens[1]);
	ds_a1 = ds_text(key_a, LDNS_SHA1);
	ds_a2 = ds_text(key_a, LDNS_SHA256);
	ds_a4 = ds_text(key_a, LDNS_SHA384);
	ds_b1 = ds_text(key_b, LDNS_SHA1);
	ds_b2 = ds_text(key_b, LDNS_SHA256);
	ds_b4 = ds_text(key_b, LDNS_SHA384);
	return ds_a1 && ds_a2 && ds_a4 && ds_b1 && ds_b2 && ds_b4 ? 0 : -1;
}

static int teardown(void **state)
{
	(void) state;
	free(ds_a1);
	free(ds_a2);
	free(ds_a4);
	free(ds_b1);
	free(ds_b2);
	free(ds_b4);
	key_a = ks_key_free(key_a);
	key_b = ks_key_free(key_b);
	return 0;
}

/* ---------------------------------------------------------------- helpers */

static char loopback[] = "127.0.0.1";

static const char parent_soa[] = "com. 900 IN SOA a.gtld-servers.net. nstld.verisign-grs.com. "
				 "1 1800 900 604800 86400";

/* An authoritative NOERROR fake serving `answer` (NULL-terminated, at most MAX_RRS). */
static void fake_serving(fake *f, const char *const *answer)
{
	memset(f, 0, sizeof(*f));
	f->rcode = LDNS_RCODE_NOERROR;
	f->aa = true;
	for (size_t i = 0; answer && i < MAX_RRS && answer[i]; i++)
		f->answer[i] = answer[i];
}

static double ms_since(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (double) (t1.tv_sec - t0->tv_sec) * 1e3 + (double) (t1.tv_nsec - t0->tv_nsec) / 1e6;
}

/* Start the fakes, ask them about key A and key B, stop them. */
static int check(const char *zone, fake *fakes, size_t n, sgn_ds_seen seen[2], zk_error *e)
{
	pol_notify_target agents[4];
	int r;

	assert_true(n <= 4);
	for (size_t i = 0; i < n; i++) {
		fake_start(&fakes[i]);
		agents[i] = (pol_notify_target) { .address = loopback, .port = fakes[i].port };
	}
	seen[0] = seen[1] = SGN_DS_MIXED; /* must be overwritten either way */
	r = sgn_parent_ds_check(zone, agents, n, dnskeys, dnskey_lens, 2, TIMEOUT_MS, seen, e);
	for (size_t i = 0; i < n; i++)
		fake_stop(&fakes[i]);
	return r;
}

/* ---------------------------------------------------------------- tests */

static void test_names(void **state)
{
	(void) state;
	assert_string_equal(sgn_ds_seen_name(SGN_DS_UNKNOWN), "unknown");
	assert_string_equal(sgn_ds_seen_name(SGN_DS_PUBLISHED), "published");
	assert_string_equal(sgn_ds_seen_name(SGN_DS_ABSENT), "absent");
	assert_string_equal(sgn_ds_seen_name(SGN_DS_MIXED), "mixed");
	assert_string_equal(sgn_ds_seen_name((sgn_ds_seen) 42), "invalid");
}

/* Key A's DS at both agents, key B's nowhere; the query is DS, without RD, UDP only. */
static void test_published_at_both(void **state)
{
	fake f[2];
	sgn_ds_seen seen[2];
	zk_error e = { 0 };

	(void) state;
	fake_serving(&f[0], (const char *[]) { ds_a2, NULL });
	fake_serving(&f[1], (const char *[]) { ds_a2, ZONE " 3600 IN TXT \"not a DS\"", NULL });
	assert_int_equal(check(ZONE, f, 2, seen, &e), 0);
	assert_int_equal(seen[0], SGN_DS_PUBLISHED);
	assert_int_equal(seen[1], SGN_DS_ABSENT);
	for (int i = 0; i < 2; i++) {
		assert_int_equal(f[i].udp_queries, 1);
		assert_int_equal(f[i].tcp_queries, 0);
		assert_false(f[i].saw_rd);
		assert_false(f[i].saw_other_question);
	}
}

/* Each key's DS at one of the two agents: propagation in progress. */
static void test_mixed(void **state)
{
	fake f[2];
	sgn_ds_seen seen[2];
	zk_error e = { 0 };

	(void) state;
	fake_serving(&f[0], (const char *[]) { ds_a2, NULL });
	fake_serving(&f[1], (const char *[]) { ds_b2, NULL });
	assert_int_equal(check(ZONE, f, 2, seen, &e), 0);
	assert_int_equal(seen[0], SGN_DS_MIXED);
	assert_int_equal(seen[1], SGN_DS_MIXED);

	/* only one key at one agent, nothing at the other (NODATA with the parent's SOA) */
	fake_serving(&f[0], (const char *[]) { ds_a2, NULL });
	fake_serving(&f[1], NULL);
	f[1].authority[0] = parent_soa;
	assert_int_equal(check(ZONE, f, 2, seen, &e), 0);
	assert_int_equal(seen[0], SGN_DS_MIXED);
	assert_int_equal(seen[1], SGN_DS_ABSENT);
}

/* NOERROR without records, NODATA with a SOA, NXDOMAIN: no DS anywhere. */
static void test_absent(void **state)
{
	fake f[3];
	sgn_ds_seen seen[2];
	zk_error e = { 0 };

	(void) state;
	fake_serving(&f[0], NULL);
	fake_serving(&f[1], NULL);
	f[1].authority[0] = parent_soa;
	fake_serving(&f[2], NULL);
	f[2].rcode = LDNS_RCODE_NXDOMAIN;
	f[2].authority[0] = parent_soa;
	assert_int_equal(check(ZONE, f, 3, seen, &e), 0);
	assert_int_equal(seen[0], SGN_DS_ABSENT);
	assert_int_equal(seen[1], SGN_DS_ABSENT);
}

/*
 * Near misses do not count: key A's tag and algorithm with a wrong digest, a digest type we
 * do not compute, the right DS at another owner or in another class, another type.
 */
static void test_near_misses_not_counted(void **state)
{
	char wrong[256], other_type[256], other_class[256], other_owner[512];
	uint8_t ds[KS_DS_MAX], owner[] = "\007example\003com";
	const uint8_t *rd;
	size_t len;
	fake f[1];
	sgn_ds_seen seen[2];
	zk_error e = { 0 };
	int n;

	(void) state;
	rd = ks_key_dnskey(key_a, &len);
	n = ks_ds_rdata(owner, sizeof(owner), rd, len, 2, ds, sizeof(ds), &e);
	assert_int_equal(n, 4 + 32);
	ds[4 + 7] ^= 0x01;
	ds_forged(wrong, sizeof(wrong), ZONE, "IN", key_a, 2, ds + 4, 32);
	ds[4 + 7] ^= 0x01;
	ds_forged(other_type, sizeof(other_type), ZONE, "IN", key_a, 3, ds + 4, 32);
	ds_forged(other_class, sizeof(other_class), ZONE, "CH", key_a, 2, ds + 4, 32);
	snprintf(other_owner, sizeof(other_owner), "www.%s", ds_a2);

	fake_serving(&f[0], (const char *[]) { wrong, other_type, other_owner, other_class,
					       ZONE " 3600 IN TXT \"decoy\"", NULL });
	assert_int_equal(check(ZONE, f, 1, seen, &e), 0);
	assert_int_equal(seen[0], SGN_DS_ABSENT);
	assert_int_equal(seen[1], SGN_DS_ABSENT);
}

/* SHA-1 and SHA-384 DS match too; the zone name's case does not matter. */
static void test_sha1_and_sha384(void **state)
{
	fake f[2];
	sgn_ds_seen seen[2];
	zk_error e = { 0 };

	(void) state;
	fake_serving(&f[0], (const char *[]) { ds_a1, ds_b4, NULL });
	fake_serving(&f[1], (const char *[]) { ds_a4, ds_b1, NULL });
	assert_int_equal(check("Example.COM.", f, 2, seen, &e), 0);
	assert_int_equal(seen[0], SGN_DS_PUBLISHED);
	assert_int_equal(seen[1], SGN_DS_PUBLISHED);
}

/* An agent that never answers: an error naming it, no verdict, within a bounded time. */
static void test_silent_agent(void **state)
{
	char want[128];
	struct timespec t0;
	fake f[2];
	sgn_ds_seen seen[2];
	zk_error e = { 0 };
	double ms;
	int r;

	(void) state;
	fake_serving(&f[0], (const char *[]) { ds_a2, NULL });
	fake_serving(&f[1], (const char *[]) { ds_a2, NULL });
	f[1].silent = true;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	r = check(ZONE, f, 2, seen, &e);
	ms = ms_since(&t0);
	assert_int_equal(r, ZK_E_UNAVAILABLE);
	assert_int_equal(e.code, ZK_E_UNAVAILABLE);
	snprintf(want, sizeof(want), "parental agent 127.0.0.1@%u: no answer within %u ms",
		 f[1].port, TIMEOUT_MS);
	assert_string_equal(e.message, want);
	assert_int_equal(seen[0], SGN_DS_UNKNOWN);
	assert_int_equal(seen[1], SGN_DS_UNKNOWN);
	assert_int_equal(f[1].udp_queries, 2); /* a first try and one retry */
	assert_true(ms >= 2 * TIMEOUT_MS - 50);
	assert_true(ms < 3000);
}

/* REFUSED (and other RCODEs) are errors, named in the message. */
static void test_refused(void **state)
{
	char want[128];
	fake f[2];
	sgn_ds_seen seen[2];
	zk_error e = { 0 };

	(void) state;
	fake_serving(&f[0], (const char *[]) { ds_a2, NULL });
	fake_serving(&f[1], NULL);
	f[1].rcode = LDNS_RCODE_REFUSED;
	f[1].aa = false;
	assert_int_equal(check(ZONE, f, 2, seen, &e), ZK_E_UNAVAILABLE);
	snprintf(want, sizeof(want), "parental agent 127.0.0.1@%u: answered REFUSED", f[1].port);
	assert_string_equal(e.message, want);
	assert_int_equal(seen[0], SGN_DS_UNKNOWN);
	assert_int_equal(seen[1], SGN_DS_UNKNOWN);

	fake_serving(&f[0], NULL);
	f[0].rcode = LDNS_RCODE_SERVFAIL;
	assert_int_equal(check(ZONE, f, 1, seen, &e), ZK_E_UNAVAILABLE);
	assert_non_null(strstr(e.message, "answered SERVFAIL"));
}

/* A truncated UDP answer: ldns asks again with EDNS, then over TCP, whose answer counts. */
static void test_truncated_then_tcp(void **state)
{
	fake f[2];
	sgn_ds_seen seen[2];
	zk_error e = { 0 };

	(void) state;
	fake_serving(&f[0], (const char *[]) { ds_a2, ds_b4, NULL });
	f[0].tc_udp = true;
	fake_serving(&f[1], (const char *[]) { ds_a2, NULL });
	assert_int_equal(check(ZONE, f, 2, seen, &e), 0);
	assert_int_equal(seen[0], SGN_DS_PUBLISHED);
	assert_int_equal(seen[1], SGN_DS_MIXED);
	assert_true(f[0].udp_queries >= 1);
	assert_int_equal(f[0].tcp_queries, 1);
	assert_false(f[0].saw_rd);
}

/* Answers that say nothing about the parent are errors, not "no DS". */
static void test_unusable_answers(void **state)
{
	static const char child_soa[] = ZONE " 3600 IN SOA ns1." ZONE " h." ZONE " 1 2 3 4 5";
	static const char referral_ns[] = ZONE " 3600 IN NS ns1." ZONE;
	fake f[1];
	sgn_ds_seen seen[2];
	zk_error e = { 0 };

	(void) state;
	/* a referral: not authoritative */
	fake_serving(&f[0], NULL);
	f[0].aa = false;
	f[0].authority[0] = referral_ns;
	assert_int_equal(check(ZONE, f, 1, seen, &e), ZK_E_UNAVAILABLE);
	assert_non_null(strstr(e.message, "not authoritative"));
	assert_int_equal(seen[0], SGN_DS_UNKNOWN);

	/* NODATA from the child's own servers */
	fake_serving(&f[0], NULL);
	f[0].authority[0] = child_soa;
	assert_int_equal(check(ZONE, f, 1, seen, &e), ZK_E_UNAVAILABLE);
	assert_non_null(strstr(e.message, "the zone's own SOA"));
	assert_int_equal(seen[1], SGN_DS_UNKNOWN);

	/* an answer to another query (wrong message ID), even one holding the DS */
	fake_serving(&f[0], (const char *[]) { ds_a2, NULL });
	f[0].bad_id = true;
	assert_int_equal(check(ZONE, f, 1, seen, &e), ZK_E_UNAVAILABLE);
	assert_non_null(strstr(e.message, "not a response to our query"));
	assert_int_equal(seen[0], SGN_DS_UNKNOWN);
}

/* Nothing to ask, nowhere to ask it, or nothing to ask about: errors before any query. */
static void test_bad_arguments(void **state)
{
	static char not_an_ip[] = "ns.example.net";
	pol_notify_target bad = { .address = not_an_ip, .port = 53 };
	pol_notify_target good = { .address = loopback, .port = 9 };
	const uint8_t short_key[3] = { 1, 1, 3 };
	const uint8_t *keys[1] = { short_key };
	size_t lens[1] = { sizeof(short_key) };
	sgn_ds_seen seen[2] = { SGN_DS_MIXED, SGN_DS_MIXED };
	zk_error e = { 0 };

	(void) state;
	assert_int_equal(sgn_parent_ds_check(ZONE, NULL, 0, dnskeys, dnskey_lens, 2, 100, seen,
					     &e),
			 ZK_E_CONFIG);
	assert_non_null(strstr(e.message, "no parental agents"));
	assert_int_equal(seen[0], SGN_DS_UNKNOWN);
	assert_int_equal(seen[1], SGN_DS_UNKNOWN);

	assert_int_equal(sgn_parent_ds_check(ZONE, &bad, 1, dnskeys, dnskey_lens, 2, 100, seen,
					     &e),
			 ZK_E_CONFIG);
	assert_non_null(strstr(e.message, "ns.example.net@53"));

	assert_int_equal(sgn_parent_ds_check("example.com", &good, 1, dnskeys, dnskey_lens, 2,
					     100, seen, &e),
			 -EINVAL);
	assert_int_equal(sgn_parent_ds_check(".", &good, 1, dnskeys, dnskey_lens, 2, 100, seen,
					     &e),
			 -EINVAL);
	assert_int_equal(sgn_parent_ds_check(ZONE, &good, 1, dnskeys, dnskey_lens, 2, 0, seen,
					     &e),
			 -EINVAL);
	seen[0] = SGN_DS_MIXED;
	assert_int_equal(sgn_parent_ds_check(ZONE, &good, 1, keys, lens, 1, 100, seen, &e),
			 ZK_E_KEY);
	assert_int_equal(seen[0], SGN_DS_UNKNOWN);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_published_at_both),
		cmocka_unit_test(test_mixed),
		cmocka_unit_test(test_absent),
		cmocka_unit_test(test_near_misses_not_counted),
		cmocka_unit_test(test_sha1_and_sha384),
		cmocka_unit_test(test_silent_agent),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_truncated_then_tcp),
		cmocka_unit_test(test_unusable_answers),
		cmocka_unit_test(test_bad_arguments),
	};

	return cmocka_run_group_tests_name("parent", tests, setup, teardown);
}
