/* SPDX-License-Identifier: MIT */
/*
 * signer/signer.h -- one zone from input file to published signed file, as `zonekeeper
 * sign` runs it and the daemon will: keys, input, policy records at the apex (SOA, platform
 * NS, DNSKEY, CDS/CDNSKEY), reuse of still-valid signatures of the last publication,
 * denial chain, signing, verification, serial, durable publication.
 *
 * Nothing here reads the wall clock (`now` is a parameter) or logs (warnings go to the
 * diag sink; the result says what happened).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "keystore/keystore.h"
#include "policy/policy.h"
#include "policy/zk-error.h"
#include "signer/serial.h"
#include "signer/sign.h"
#include "signer/verify.h"

typedef struct sgn_run_opts {
	zk_time_t now;
	const zk_diag *diag;
	bool full_resign;   /* ignore the previous publication: make every signature anew */
	bool reload_input;  /* read the input file (else re-sign the version in memory) */
	int verify_level;   /* -1: the policy's; else POL_VERIFY_* */
	uint32_t pre_refresh; /* also re-sign what falls due within this many seconds */
} sgn_run_opts;

typedef struct sgn_run_result {
	bool published;     /* false: nothing changed since the last publication */
	uint32_t serial;    /* published (or current, when unchanged) serial */
	size_t names, rrsets;
	size_t adopted;     /* RRsets whose signatures came from the last publication */
	size_t keys_generated;
	sgn_sign_stats sign;
	sgn_verify_report verify;
	double t_load, t_sign, t_verify, t_write; /* seconds */
	char output[4096];
} sgn_run_result;

/* Per-zone paths under the state directory. Buffers of PATH_MAX. */
void sgn_zone_dir(const pol_config *cfg, const pol_zone *zone, char *dir, size_t size);
void sgn_key_dir(const pol_config *cfg, const pol_zone *zone, char *dir, size_t size);
void sgn_state_path(const pol_config *cfg, const pol_zone *zone, char *path, size_t size);

/*
 * Open the zone's key store and make sure it can sign under its policy: when no key of a
 * needed role (KSK and ZSK, or CSK) with the policy's algorithm exists, one is generated,
 * published and active from `now`. *ret_generated counts them.
 */
int sgn_keys_open(const pol_config *cfg, const pol_zone *zone, zk_time_t now,
		  const zk_diag *diag, bool generate, ks_store **ret, size_t *ret_generated,
		  zk_error *reterr);

/*
 * Sign `zone` and publish it to its output file. When the input, the keys and the policy
 * produce exactly what was last published and no signature is due, nothing is written
 * (res->published = false). A zone that fails its own verification is not published and
 * the previous file stays (ZK_E_SELF_CHECK).
 */
int sgn_run(const pol_config *cfg, const pol_zone *zone, const sgn_run_opts *o,
	    sgn_run_result *res, zk_error *reterr);

/*
 * A zone kept across runs (the daemon): the published version stays in memory, so a
 * change re-signs only what differs and a refresh re-signs only what is due, without
 * reading the published file again. Opening loads the zone's state and, when it is still
 * the file we wrote, the published version (its signatures are reused).
 */
typedef struct sgn_ctx sgn_ctx;

int sgn_ctx_open(const pol_config *cfg, const pol_zone *zone, const zk_diag *diag,
		 sgn_ctx **ret, zk_error *reterr);
sgn_ctx *sgn_ctx_free(sgn_ctx *c);

/* After a configuration reload: the new config and this zone's entry in it (borrowed). */
void sgn_ctx_set_config(sgn_ctx *c, const pol_config *cfg, const pol_zone *zone);

/*
 * Produce and publish the next version, as sgn_run does; with o->reload_input false the
 * version in memory is re-signed (signature refresh, key or policy change). On failure the
 * published file stays and the version in memory is dropped (reloaded from the published
 * file by the next run). res->sign.next_refresh says when signatures next fall due.
 */
int sgn_ctx_run(sgn_ctx *c, const sgn_run_opts *o, sgn_run_result *res, zk_error *reterr);

zk_serial sgn_ctx_serial(const sgn_ctx *c);
const sgn_zone *sgn_ctx_current(const sgn_ctx *c); /* NULL when not in memory */

/* DS RDATA of a key (for `zonekeeper ds` and the verifier's trust anchors). */
int sgn_key_ds(const char *zone, const ks_key *k, uint8_t digest, uint8_t *out, size_t max,
	       zk_error *reterr);
