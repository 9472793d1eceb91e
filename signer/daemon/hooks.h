/* SPDX-License-Identifier: MIT */
/*
 * signer/daemon/hooks.h -- what happens after a publication (SPEC §6): the configured
 * reload command, run without a shell (so a zone or file name cannot be word-split or
 * interpreted), with a timeout and its exit status logged; and DNS NOTIFY (RFC 1996) to
 * every configured address, retried until acknowledged or given up.
 *
 * Both run inside the event loop and never block it. Pending ones are owned by the
 * hooks object and ended when it is freed.
 */
#pragma once

#include <stdint.h>

#include <systemd/sd-event.h>

#include "policy/policy.h"

typedef struct hooks hooks;

int hooks_new(sd_event *e, hooks **ret);
hooks *hooks_free(hooks *h);

/*
 * Split `command` on white space, replace %z by the zone, %f by the published file and %%
 * by %, and run it. Killed after `timeout` seconds. At most one runs per zone: asked again
 * while one runs, it runs once more when that one is over, with the last file given
 * (publications in between coalesce). Returns 0 once started or queued (or -errno).
 */
int hooks_run_reload(hooks *h, const char *command, uint32_t timeout, const char *zone,
		     const char *file);

/* Send NOTIFY for `zone` to each target, up to 5 tries 2 s apart each. */
int hooks_notify(hooks *h, const pol_notify_target *targets, size_t n, const char *zone,
		 uint32_t serial);

/* How many reload commands and NOTIFY exchanges are still pending (tests, shutdown). */
unsigned hooks_pending(const hooks *h);
