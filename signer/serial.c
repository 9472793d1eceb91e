/* SPDX-License-Identifier: MIT */
/*
 * signer/serial.c -- see serial.h. Semantics follow BIND's dns_update_soaserial and Knot's
 * serial_next_generic (behaviour only): take the scheme's value if it is greater than the
 * last serial, else last+1; but `now` is a parameter and dates are UTC.
 */
#include "signer/serial.h"

sgn_serial_cmp sgn_serial_compare(uint32_t a, uint32_t b)
{
	uint32_t d = a - b;

	if (d == 0)
		return SGN_SERIAL_EQ;
	if (d == 0x80000000u)
		return SGN_SERIAL_UNDEFINED;
	return d < 0x80000000u ? SGN_SERIAL_GT : SGN_SERIAL_LT;
}

static uint32_t plus_one(uint32_t s)
{
	s++;
	return s ? s : 1; /* 0 is never published (BIND skips it too) */
}

/* The first value not below `floor` in RFC 1982 terms: candidate, or floor+1. */
static uint32_t above(uint32_t candidate, uint32_t floor)
{
	return sgn_serial_gt(candidate, floor) ? candidate : plus_one(floor);
}

int sgn_serial_next(pol_serial scheme, zk_serial last, uint32_t input, bool have_input,
		    zk_time_t now, uint32_t *ret, zk_error *reterr)
{
	uint32_t candidate;
	int y, m, d;

	switch (scheme) {
	case POL_SERIAL_KEEP:
		if (!have_input)
			return zk_fail(reterr, ZK_E_SERIAL_NOT_GREATER,
				       "serial scheme 'keep' needs an SOA in the input zone");
		if (last.set && !sgn_serial_gt(input, last.value))
			return zk_fail(reterr, ZK_E_SERIAL_NOT_GREATER,
				       "input serial %u is not greater than the last published "
				       "serial %u (serial scheme 'keep')",
				       input, last.value);
		if (input == 0)
			return zk_fail(reterr, ZK_E_SERIAL_NOT_GREATER,
				       "input serial 0 cannot be published");
		*ret = input;
		return 0;
	case POL_SERIAL_INCREMENT:
		if (last.set)
			candidate = plus_one(last.value);
		else
			candidate = have_input ? plus_one(input) : 1;
		*ret = candidate;
		return 0;
	case POL_SERIAL_UNIXTIME:
		candidate = (uint32_t) now;
		break;
	case POL_SERIAL_DATESERIAL:
	default:
		zk_time_civil(now, &y, &m, &d);
		candidate = (uint32_t) y * 1000000u + (uint32_t) m * 10000u + (uint32_t) d * 100u;
		break;
	}
	if (candidate == 0)
		candidate = 1;
	if (last.set)
		candidate = above(candidate, last.value);
	else if (have_input)
		candidate = above(candidate, input);
	*ret = candidate;
	return 0;
}
