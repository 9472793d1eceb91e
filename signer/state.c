/* SPDX-License-Identifier: MIT */
/*
 * signer/state.c -- the per-zone state file ("serial N", "signed-at T", "nsec3-salt HEX"
 * lines). See state.h.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
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

/*
 * The last line, "sum <16 hex>", checks everything before it. Files of earlier versions
 * have none; they are still read (every field must be there).
 */
static int check_sum(const char *buf, size_t len)
{
	const char *last = len >= 2 ? memrchr(buf, '\n', len - 1) : NULL;
	char want[17];

	last = last ? last + 1 : buf;
	if (strncmp(last, "sum ", 4) != 0)
		return strstr(buf, "\nsum ") ? -EINVAL : 0; /* a sum line not at the end */
	if ((size_t) (buf + len - last) != 4 + 16 + 1)
		return -EINVAL;
	snprintf(want, sizeof(want), "%016llx",
		 (unsigned long long) zk_fnv1a64(buf, (size_t) (last - buf)));
	return memcmp(want, last + 4, 16) == 0 ? 0 : -EINVAL;
}

int sgn_state_load(const char *path, sgn_state *ret, zk_error *reterr)
{
	_cleanup_free_ char *buf = NULL;
	sgn_state st = { 0 };
	unsigned line = 0;
	int r;

	size_t len = 0;
	bool have_signed = false, have_output = false;

	r = zk_file_read(path, 4096, &buf, &len);
	if (r == -ENOENT) {
		*ret = st;
		return 0;
	}
	if (r < 0)
		return zk_fail(reterr, r, "cannot read the zone state '%s'", path);
	/* a NUL byte or a missing last newline: the file was cut or overwritten */
	if (strlen(buf) != len || (len && buf[len - 1] != '\n'))
		return bad(reterr, path, 0);
	r = check_sum(buf, len);
	if (r < 0)
		return bad(reterr, path, 0);
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
			have_signed = true;
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
			have_output = true;
		} else if (l[0] != '#' && strncmp(l, "sum ", 4) != 0) {
			return bad(reterr, path, line);
		}
	}
	/* every line is always written: one missing means the file was cut short */
	if (!st.serial.set || !have_signed || !have_output)
		return bad(reterr, path, line);
	*ret = st;
	return 0;
}

int sgn_state_store(const char *path, const sgn_state *st, zk_error *reterr)
{
	char buf[128 + 2 * 255 + 64 + 32], hex[2 * 255 + 1];
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
	n += snprintf(buf + n, sizeof(buf) - (size_t) n, "sum %016llx\n",
		      (unsigned long long) zk_fnv1a64(buf, (size_t) n));
	return zk_file_write_atomic(path, 0600, buf, (size_t) n, reterr);
}
