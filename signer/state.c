/* SPDX-License-Identifier: MIT */
/*
 * signer/state.c -- the per-zone state file ("serial N", "signed-at T", "nsec3-salt HEX"
 * lines). See state.h.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/zk-codec.h"
#include "policy/zk-file.h"
#include "policy/zk-macro.h"
#include "signer/state.h"

static int bad(zk_error *reterr, const char *path, unsigned line)
{
	return zk_fail_at(reterr, ZK_E_ZONE_CONTENT, path, line,
			  "zone state file is damaged; refusing to guess the last published "
			  "serial (restore the file, or remove it to start again from the "
			  "input's serial)");
}

int sgn_state_load(const char *path, sgn_state *ret, zk_error *reterr)
{
	_cleanup_free_ char *buf = NULL;
	sgn_state st = { 0 };
	unsigned line = 0;
	int r;

	r = zk_file_read(path, 4096, &buf, NULL);
	if (r == -ENOENT) {
		*ret = st;
		return 0;
	}
	if (r < 0)
		return zk_fail(reterr, r, "cannot read the zone state '%s'", path);
	/* line by line, blank lines counted, so an error names the line an editor shows */
	for (char *l = buf, *next; *l; l = next) {
		char *end, *nl = strchr(l, '\n');

		next = nl ? nl + 1 : l + strlen(l);
		if (nl)
			*nl = '\0';
		line++;
		if (!*l)
			continue;
		errno = 0;
		if (strncmp(l, "serial ", 7) == 0) {
			unsigned long v = strtoul(l + 7, &end, 10);

			if (errno || end == l + 7 || *end || v > UINT32_MAX)
				return bad(reterr, path, line);
			st.serial = (zk_serial) { .value = (uint32_t) v, .set = true };
		} else if (strncmp(l, "signed-at ", 10) == 0) {
			long long v = strtoll(l + 10, &end, 10);

			if (errno || end == l + 10 || *end || v < 0)
				return bad(reterr, path, line);
			st.signed_at = v;
		} else if (strncmp(l, "nsec3-salt ", 11) == 0) {
			const char *hex = l + 11;
			int n = strcmp(hex, "-") == 0 ? 0
						      : zk_hex_decode(hex, strlen(hex), st.salt,
								      sizeof(st.salt));

			if (n < 0)
				return bad(reterr, path, line);
			st.salt_len = (uint8_t) n;
			st.have_salt = true;
		} else if (strncmp(l, "output ", 7) == 0) {
			unsigned long long size;
			long long mtime;

			if (sscanf(l + 7, "%llu %lld", &size, &mtime) != 2)
				return bad(reterr, path, line);
			st.output_size = size;
			st.output_mtime_ns = mtime;
		} else if (l[0] != '#') {
			return bad(reterr, path, line);
		}
	}
	if (!st.serial.set)
		return bad(reterr, path, line);
	*ret = st;
	return 0;
}

int sgn_state_store(const char *path, const sgn_state *st, zk_error *reterr)
{
	char buf[128 + 2 * 255 + 64], hex[2 * 255 + 1];
	int n;

	if (st->have_salt && st->salt_len)
		zk_hex_encode(st->salt, st->salt_len, hex);
	else
		strcpy(hex, "-");
	n = snprintf(buf, sizeof(buf), "# zonekeeper zone state: do not edit\nserial %u\n"
		     "signed-at %lld\noutput %llu %lld\n%s%s%s", st->serial.value,
		     (long long) st->signed_at, (unsigned long long) st->output_size,
		     (long long) st->output_mtime_ns, st->have_salt ? "nsec3-salt " : "",
		     st->have_salt ? hex : "", st->have_salt ? "\n" : "");
	return zk_file_write_atomic(path, 0600, buf, (size_t) n, reterr);
}
