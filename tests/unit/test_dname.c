/* SPDX-License-Identifier: MIT */
/*
 * tests/unit/test_dname.c -- wire-format domain names (signer/dname.c): presentation text
 * to wire and back (origins, "@", escapes, the RFC 1035 §2.3.4 limits), canonical order
 * (RFC 4034 §6.1, with the RFC's own example list and a differential check against a
 * plain label-by-label comparator), ancestry tests, and base32hex (RFC 4648 §7 vectors).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "signer/dname.h"

/* ---------------------------------------------------------------- helpers */

/* Wire form of an absolute presentation name; the test fails if it does not parse. */
static size_t wire_of(const char *text, uint8_t *out)
{
	int n = dn_from_text(text, strlen(text), NULL, out);

	assert_true(n > 0);
	assert_int_equal((size_t) n, dn_len(out));
	return (size_t) n;
}

static int parse(const char *text, const uint8_t *origin, uint8_t *out)
{
	return dn_from_text(text, strlen(text), origin, out);
}

/* A string of `n` copies of `c`, in one of a few static slots. */
static const char *rep(char c, size_t n)
{
	static char buf[4][300];
	static unsigned slot;
	char *p = buf[slot++ % 4];

	assert_true(n < sizeof(buf[0]));
	memset(p, c, n);
	p[n] = '\0';
	return p;
}

/* RFC 4034 §6.1 written the slow, obvious way: labels right to left, octet strings. */
static int reference_cmp(const uint8_t *a, const uint8_t *b)
{
	const uint8_t *la[128], *lb[128];
	unsigned na = 0, nb = 0;

	for (const uint8_t *p = a; *p; p += *p + 1)
		la[na++] = p;
	for (const uint8_t *p = b; *p; p += *p + 1)
		lb[nb++] = p;
	while (na && nb) {
		const uint8_t *x = la[--na], *y = lb[--nb];
		size_t m = x[0] < y[0] ? x[0] : y[0];
		int c = memcmp(x + 1, y + 1, m);

		if (c)
			return c < 0 ? -1 : 1;
		if (x[0] != y[0])
			return x[0] < y[0] ? -1 : 1;
	}
	if (na != nb)
		return na < nb ? -1 : 1;
	return 0;
}

static int sign_of(int v)
{
	return (v > 0) - (v < 0);
}

static uint64_t rng_state = 0x2545f4914f6cdd1dull;

static uint32_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (uint32_t) (rng_state >> 11);
}

/* A random lowercase name over an alphabet rich in the octets that matter to the order. */
static void random_name(uint8_t *out)
{
	static const uint8_t alphabet[] = { 0, 1, 2, 'a', 'b', 'z', '*', '-', 0x7f, 0x80, 0xff };
	unsigned labels = rnd() % 4, o = 0;

	for (unsigned l = 0; l < labels; l++) {
		unsigned len = 1 + rnd() % 3;

		out[o++] = (uint8_t) len;
		for (unsigned i = 0; i < len; i++)
			out[o++] = alphabet[rnd() % sizeof(alphabet)];
	}
	out[o] = 0;
}

/* ---------------------------------------------------------------- text -> wire */

static void absolute_name_parses_to_length_prefixed_labels(void **state)
{
	static const uint8_t want[] = "\003www\007example\003com";
	uint8_t out[DN_MAXLEN];

	(void) state;
	assert_int_equal(parse("www.example.com.", NULL, out), sizeof(want));
	assert_memory_equal(out, want, sizeof(want));
}

static void relative_name_is_completed_with_the_origin(void **state)
{
	static const uint8_t want[] = "\003www\007example\003com";
	uint8_t origin[DN_MAXLEN], out[DN_MAXLEN];

	(void) state;
	wire_of("example.com.", origin);
	assert_int_equal(parse("www", origin, out), sizeof(want));
	assert_memory_equal(out, want, sizeof(want));
	assert_int_equal(parse("a.b", origin, out), 1 + 1 + 1 + 1 + 13);
	assert_memory_equal(out, "\001a\001b\007example\003com", 17);
}

static void relative_name_without_origin_is_refused(void **state)
{
	uint8_t out[DN_MAXLEN];

	(void) state;
	assert_int_equal(parse("www", NULL, out), -EINVAL);
	assert_int_equal(parse("@", NULL, out), -EINVAL);
}

static void at_sign_is_the_origin(void **state)
{
	uint8_t origin[DN_MAXLEN], out[DN_MAXLEN];
	size_t n = wire_of("example.com.", origin);

	(void) state;
	assert_int_equal(parse("@", origin, out), n);
	assert_memory_equal(out, origin, n);
}

static void lone_dot_is_the_root(void **state)
{
	uint8_t out[DN_MAXLEN] = { 0xff };

	(void) state;
	assert_int_equal(parse(".", NULL, out), 1);
	assert_int_equal(out[0], 0);
}

static void relative_name_under_the_root_origin_is_absolute(void **state)
{
	uint8_t root[1] = { 0 }, out[DN_MAXLEN];

	(void) state;
	assert_int_equal(parse("org", root, out), 5);
	assert_memory_equal(out, "\003org", 5);
}

static void escaped_dot_and_backslash_stay_inside_the_label(void **state)
{
	uint8_t out[DN_MAXLEN];

	(void) state;
	assert_int_equal(parse("a\\.b.example.", NULL, out), 13);
	assert_memory_equal(out, "\003a.b\007example", 13);
	assert_int_equal(parse("a\\\\b.example.", NULL, out), 13);
	assert_memory_equal(out, "\003a\\b\007example", 13);
}

static void decimal_escapes_give_any_octet(void **state)
{
	uint8_t out[DN_MAXLEN];

	(void) state;
	assert_int_equal(parse("\\000\\001\\255\\065.", NULL, out), 6);
	assert_memory_equal(out, "\004\000\001\377A", 6);
	/* an escaped dot by number is data, not a separator */
	assert_int_equal(parse("a\\046b.", NULL, out), 5);
	assert_memory_equal(out, "\003a.b", 5);
}

static void bad_decimal_escapes_are_refused(void **state)
{
	uint8_t out[DN_MAXLEN];

	(void) state;
	assert_int_equal(parse("\\256.", NULL, out), -EINVAL);
	assert_int_equal(parse("\\12.", NULL, out), -EINVAL);
	assert_int_equal(parse("a\\1", NULL, out), -EINVAL);
	assert_int_equal(parse("a\\", NULL, out), -EINVAL);
	assert_int_equal(parse("\\9x9.", NULL, out), -EINVAL);
}

static void empty_labels_are_refused(void **state)
{
	uint8_t origin[DN_MAXLEN], out[DN_MAXLEN];

	(void) state;
	wire_of("example.", origin);
	assert_int_equal(parse("a..example.", NULL, out), -EINVAL);
	assert_int_equal(parse(".example.", NULL, out), -EINVAL);
	assert_int_equal(parse("..", NULL, out), -EINVAL);
	assert_int_equal(parse("a..b", origin, out), -EINVAL);
	assert_int_equal(dn_from_text("", 0, origin, out), -EINVAL);
}

static void label_of_63_octets_is_accepted_and_64_refused(void **state)
{
	char text[128];
	uint8_t out[DN_MAXLEN];

	(void) state;
	snprintf(text, sizeof(text), "%s.", rep('a', 63));
	assert_int_equal(parse(text, NULL, out), 65);
	assert_int_equal(out[0], 63);
	snprintf(text, sizeof(text), "%s.", rep('a', 64));
	assert_int_equal(parse(text, NULL, out), -EINVAL);
	/* escapes count as one octet each */
	snprintf(text, sizeof(text), "%s\\046.", rep('a', 62));
	assert_int_equal(parse(text, NULL, out), 65);
	snprintf(text, sizeof(text), "%s\\046.", rep('a', 63));
	assert_int_equal(parse(text, NULL, out), -EINVAL);
}

static void name_of_255_octets_is_accepted_and_256_refused(void **state)
{
	char text[512];
	uint8_t out[DN_MAXLEN + 8], origin[DN_MAXLEN];

	(void) state;
	/* 3 x (1 + 63) + (1 + 61) + 1 = 255 */
	snprintf(text, sizeof(text), "%s.%s.%s.%s.", rep('a', 63), rep('b', 63), rep('c', 63),
		 rep('d', 61));
	assert_int_equal(parse(text, NULL, out), 255);
	assert_int_equal(dn_len(out), 255);
	snprintf(text, sizeof(text), "%s.%s.%s.%s.", rep('a', 63), rep('b', 63), rep('c', 63),
		 rep('d', 62));
	assert_int_equal(parse(text, NULL, out), -EINVAL);

	/* the same limits when the origin makes up the end of the name */
	snprintf(text, sizeof(text), "%s.", rep('d', 61));
	wire_of(text, origin);
	snprintf(text, sizeof(text), "%s.%s.%s", rep('a', 63), rep('b', 63), rep('c', 63));
	assert_int_equal(parse(text, origin, out), 255);
	snprintf(text, sizeof(text), "%s.", rep('d', 62));
	wire_of(text, origin);
	snprintf(text, sizeof(text), "%s.%s.%s", rep('a', 63), rep('b', 63), rep('c', 63));
	assert_int_equal(parse(text, origin, out), -EINVAL);
}

static void length_argument_bounds_the_text(void **state)
{
	uint8_t out[DN_MAXLEN];

	(void) state;
	/* only "www." of the buffer is the name */
	assert_int_equal(dn_from_text("www.example.", 4, NULL, out), 5);
	assert_memory_equal(out, "\003www", 5);
}

/* ---------------------------------------------------------------- wire -> text */

static void to_text_writes_an_absolute_name(void **state)
{
	uint8_t w[DN_MAXLEN];
	char text[DN_TEXTMAX];

	(void) state;
	wire_of("www.Example.COM.", w);
	assert_int_equal(dn_to_text(w, text), strlen("www.Example.COM."));
	assert_string_equal(text, "www.Example.COM.");
	w[0] = 0;
	assert_int_equal(dn_to_text(w, text), 1);
	assert_string_equal(text, ".");
}

static void to_text_escapes_special_and_unprintable_octets(void **state)
{
	uint8_t w[DN_MAXLEN];
	char text[DN_TEXTMAX];

	(void) state;
	wire_of("a\\.b.c\\\\d.\\\"\\(\\)\\;\\@\\$.\\000\\032\\127\\200\\255.", w);
	dn_to_text(w, text);
	assert_string_equal(text,
			    "a\\.b.c\\\\d.\\\"\\(\\)\\;\\@\\$.\\000\\032\\127\\200\\255.");
	/* "*" is itself only as a whole label */
	wire_of("*.a\\*.", w);
	dn_to_text(w, text);
	assert_string_equal(text, "*.a\\*.");
}

static void text_round_trip_restores_every_octet(void **state)
{
	uint8_t w[DN_MAXLEN], back[DN_MAXLEN];
	char text[DN_TEXTMAX];

	(void) state;
	/* every octet value, in labels of 63 consecutive values */
	for (unsigned start = 0; start < 256; start += 63) {
		unsigned len = 256 - start < 63 ? 256 - start : 63;

		w[0] = (uint8_t) len;
		for (unsigned i = 0; i < len; i++)
			w[1 + i] = (uint8_t) (start + i);
		w[1 + len] = 0;
		dn_to_text(w, text);
		assert_int_equal(parse(text, NULL, back), dn_len(w));
		assert_memory_equal(back, w, dn_len(w));
	}
	/* and random names */
	for (unsigned i = 0; i < 500; i++) {
		random_name(w);
		dn_to_text(w, text);
		assert_int_equal(parse(text, NULL, back), dn_len(w));
		assert_memory_equal(back, w, dn_len(w));
	}
}

/* ---------------------------------------------------------------- small helpers */

static void labels_and_lengths_are_counted(void **state)
{
	uint8_t w[DN_MAXLEN];

	(void) state;
	wire_of("www.example.com.", w);
	assert_int_equal(dn_labels(w), 3);
	assert_int_equal(dn_len(w), 17);
	wire_of("*.example.", w);
	assert_int_equal(dn_labels(w), 2);
	assert_true(dn_is_wildcard(w));
	wire_of("a*.example.", w);
	assert_false(dn_is_wildcard(w));
	wire_of(".", w);
	assert_int_equal(dn_labels(w), 0);
	assert_null(dn_parent(w));
}

static void lowercasing_touches_only_ascii_letters(void **state)
{
	uint8_t w[DN_MAXLEN], copy[DN_MAXLEN];

	(void) state;
	/* \128 is 0x80 ("\200" in C); \219 is 0xdb, an upper-half octet, not a letter */
	wire_of("WwW.\\128X\\[Z\\219.", w);
	assert_int_equal(dn_lower_copy(copy, w), 11);
	assert_memory_equal(copy, "\003www\005\200x[z\333", 11);
	dn_lower(w);
	assert_memory_equal(w, copy, 11);
}

static void equality_ignores_ascii_case_only(void **state)
{
	uint8_t a[DN_MAXLEN], b[DN_MAXLEN];

	(void) state;
	wire_of("WWW.Example.", a);
	wire_of("www.example.", b);
	assert_true(dn_equal(a, b));
	wire_of("www.example.com.", b);
	assert_false(dn_equal(a, b));
	/* '[' (0x5b) and '{' (0x7b) differ by 0x20 but are not letters */
	wire_of("[.", a);
	wire_of("{.", b);
	assert_false(dn_equal(a, b));
}

static void below_and_at_or_below_follow_label_boundaries(void **state)
{
	uint8_t apex[DN_MAXLEN], n[DN_MAXLEN], root[1] = { 0 };

	(void) state;
	wire_of("example.com.", apex);
	wire_of("www.EXAMPLE.com.", n);
	assert_true(dn_is_below(n, apex));
	assert_true(dn_is_at_or_below(n, apex));
	assert_false(dn_is_below(apex, n));
	assert_true(dn_is_at_or_below(apex, apex));
	assert_false(dn_is_below(apex, apex));
	/* a suffix of octets is not a suffix of labels */
	wire_of("wwwexample.com.", n);
	assert_false(dn_is_at_or_below(n, apex));
	wire_of("ample.com.", n);
	assert_false(dn_is_at_or_below(n, apex));
	wire_of("example.org.", n);
	assert_false(dn_is_at_or_below(n, apex));
	/* everything is below the root */
	assert_true(dn_is_below(apex, root));
	assert_true(dn_is_at_or_below(root, root));
	assert_false(dn_is_below(root, root));
	/* an escaped dot does not make a label boundary: "a.example" is one label */
	wire_of("a\\.example.com.", n);
	assert_false(dn_is_at_or_below(n, apex));
	wire_of("www.a\\.example.com.", n);
	assert_false(dn_is_below(n, apex));
}

static void parent_drops_the_first_label(void **state)
{
	uint8_t w[DN_MAXLEN];
	const uint8_t *p;

	(void) state;
	wire_of("a.b.example.", w);
	p = dn_parent(w);
	assert_memory_equal(p, "\001b\007example", 11);
	p = dn_parent(dn_parent(p));
	assert_int_equal(p[0], 0);
}

/* ---------------------------------------------------------------- canonical order */

static void rfc4034_example_names_sort_in_the_documented_order(void **state)
{
	/* RFC 4034 §6.1, in the RFC's order */
	static const char *const names[] = {
		"example.",
		"a.example.",
		"yljkjljk.a.example.",
		"Z.a.example.",
		"zABC.a.EXAMPLE.",
		"z.example.",
		"\\001.z.example.",
		"*.z.example.",
		"\\200.z.example.",
	};
	enum { N = sizeof(names) / sizeof(names[0]) };
	uint8_t w[N][DN_MAXLEN], key[N][DN_KEYMAX];
	size_t klen[N];

	(void) state;
	for (size_t i = 0; i < N; i++) {
		wire_of(names[i], w[i]);
		dn_lower(w[i]);
		klen[i] = dn_sort_key(w[i], key[i]);
	}
	for (size_t i = 0; i < N; i++)
		for (size_t j = 0; j < N; j++) {
			int want = i < j ? -1 : i > j ? 1 : 0;
			size_t m = klen[i] < klen[j] ? klen[i] : klen[j];
			int kc = memcmp(key[i], key[j], m);

			if (kc == 0)
				kc = klen[i] < klen[j] ? -1 : klen[i] > klen[j];
			assert_int_equal(sign_of(dn_canonical_cmp(w[i], w[j])), want);
			assert_int_equal(sign_of(kc), want);
		}
}

static void zero_and_one_octets_sort_as_octets(void **state)
{
	/* strictly increasing, RFC 4034 §6.1 (worked out by hand) */
	static const char *const names[] = {
		"example.",
		"\\000.example.",
		"\\000\\000.example.",
		"\\000\\001.example.",
		"\\000\\255.example.",
		"\\001.example.",
		"\\001\\000.example.",
		"\\002.example.",
		"a.example.",
		"a.a.example.",
		"a\\000.a.example.",
		"a\\000.example.",
		"a\\001.example.",
		"ab.example.",
		"\\255.example.",
		"\\000.\\255.example.",
	};
	enum { N = sizeof(names) / sizeof(names[0]) };
	uint8_t w[N][DN_MAXLEN];

	(void) state;
	for (size_t i = 0; i < N; i++)
		wire_of(names[i], w[i]);
	for (size_t i = 0; i < N; i++)
		for (size_t j = 0; j < N; j++) {
			int want = i < j ? -1 : i > j ? 1 : 0;

			assert_int_equal(reference_cmp(w[i], w[j]), want);
			assert_int_equal(sign_of(dn_canonical_cmp(w[i], w[j])), want);
		}
}

static void sort_key_order_equals_label_by_label_order(void **state)
{
	(void) state;
	for (unsigned i = 0; i < 20000; i++) {
		uint8_t a[DN_MAXLEN], b[DN_MAXLEN];

		random_name(a);
		random_name(b);
		assert_int_equal(sign_of(dn_canonical_cmp(a, b)), reference_cmp(a, b));
		assert_int_equal(sign_of(dn_canonical_cmp(a, a)), 0);
	}
}

static void sort_key_of_a_longest_name_fits_the_buffer(void **state)
{
	char text[1200];
	uint8_t w[DN_MAXLEN], key[DN_KEYMAX];
	size_t o = 0;

	(void) state;
	/* every octet \000: each becomes two key octets, the worst case */
	for (int l = 0; l < 4; l++) {
		for (int i = 0; i < (l < 3 ? 63 : 61); i++)
			o += (size_t) snprintf(text + o, sizeof(text) - o, "\\000");
		text[o++] = '.';
	}
	text[o] = '\0';
	assert_int_equal(wire_of(text, w), 255);
	assert_true(dn_sort_key(w, key) <= DN_KEYMAX);
}

/* ---------------------------------------------------------------- base32hex */

static void base32hex_encodes_the_rfc4648_vectors(void **state)
{
	/* RFC 4648 §10, BASE32-HEX, lowercase, without padding */
	static const struct {
		const char *in, *out;
	} v[] = {
		{ "", "" },
		{ "f", "co" },
		{ "fo", "cpng" },
		{ "foo", "cpnmu" },
		{ "foob", "cpnmuog" },
		{ "fooba", "cpnmuoj1" },
		{ "foobar", "cpnmuoj1e8" },
	};
	char out[64];

	(void) state;
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		size_t n = dn_base32hex((const uint8_t *) v[i].in, strlen(v[i].in), out);

		assert_int_equal(n, strlen(v[i].out));
		assert_string_equal(out, v[i].out);
	}
}

static void base32hex_decodes_the_rfc4648_vectors_in_either_case(void **state)
{
	static const struct {
		const char *in, *out;
	} v[] = {
		{ "co", "f" },
		{ "cpng", "fo" },
		{ "CPNMU", "foo" },
		{ "cpnmuog", "foob" },
		{ "cpnmuoj1", "fooba" },
		{ "CpNmUoJ1E8", "foobar" },
	};
	uint8_t out[64];

	(void) state;
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		int n = dn_base32hex_decode(v[i].in, strlen(v[i].in), out, sizeof(out));

		assert_int_equal(n, strlen(v[i].out));
		assert_memory_equal(out, v[i].out, (size_t) n);
	}
}

static void base32hex_round_trips_a_sha1_hash(void **state)
{
	uint8_t h[20], back[20];
	char text[40];

	(void) state;
	for (int i = 0; i < 20; i++)
		h[i] = (uint8_t) (i * 37 + 11);
	assert_int_equal(dn_base32hex(h, 20, text), 32);
	assert_int_equal(dn_base32hex_decode(text, 32, back, sizeof(back)), 20);
	assert_memory_equal(back, h, 20);
}

static void base32hex_decode_refuses_bad_digits_and_small_buffers(void **state)
{
	uint8_t out[8];

	(void) state;
	assert_int_equal(dn_base32hex_decode("cpnw", 4, out, sizeof(out)), -EINVAL);
	assert_int_equal(dn_base32hex_decode("cp=g", 4, out, sizeof(out)), -EINVAL);
	assert_int_equal(dn_base32hex_decode("cpnmuoj1e8", 10, out, 5), -EINVAL);
}

static void base32hex_decode_refuses_impossible_lengths_and_stray_bits(void **state)
{
	uint8_t out[32];

	(void) state;
	/* 1, 3 or 6 digits past a multiple of 8 cannot end an encoding (RFC 4648 §6) */
	assert_int_equal(dn_base32hex_decode("c", 1, out, sizeof(out)), -EINVAL);
	assert_int_equal(dn_base32hex_decode("cpn", 3, out, sizeof(out)), -EINVAL);
	assert_int_equal(dn_base32hex_decode("cpnmuo", 6, out, sizeof(out)), -EINVAL);
	assert_int_equal(dn_base32hex_decode("cpnmuoj1e", 9, out, sizeof(out)), -EINVAL);
	/* 33 digits: a SHA-1 hash and 5 bits too many */
	assert_int_equal(dn_base32hex_decode("2t7b4g4vsa5smi47k61mv5bv1a22bojr0", 33, out,
					     sizeof(out)), -EINVAL);
	/* the padding bits of the last digit must be zero: "co" is "f", "cr" is not */
	assert_int_equal(dn_base32hex_decode("cr", 2, out, sizeof(out)), -EINVAL);
	assert_int_equal(dn_base32hex_decode("cpnmuoj1e9", 10, out, sizeof(out)), -EINVAL);
	assert_int_equal(dn_base32hex_decode("2t7b4g4vsa5smi47k61mv5bv1a22boj", 31, out,
					     sizeof(out)), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(absolute_name_parses_to_length_prefixed_labels),
		cmocka_unit_test(relative_name_is_completed_with_the_origin),
		cmocka_unit_test(relative_name_without_origin_is_refused),
		cmocka_unit_test(at_sign_is_the_origin),
		cmocka_unit_test(lone_dot_is_the_root),
		cmocka_unit_test(relative_name_under_the_root_origin_is_absolute),
		cmocka_unit_test(escaped_dot_and_backslash_stay_inside_the_label),
		cmocka_unit_test(decimal_escapes_give_any_octet),
		cmocka_unit_test(bad_decimal_escapes_are_refused),
		cmocka_unit_test(empty_labels_are_refused),
		cmocka_unit_test(label_of_63_octets_is_accepted_and_64_refused),
		cmocka_unit_test(name_of_255_octets_is_accepted_and_256_refused),
		cmocka_unit_test(length_argument_bounds_the_text),
		cmocka_unit_test(to_text_writes_an_absolute_name),
		cmocka_unit_test(to_text_escapes_special_and_unprintable_octets),
		cmocka_unit_test(text_round_trip_restores_every_octet),
		cmocka_unit_test(labels_and_lengths_are_counted),
		cmocka_unit_test(lowercasing_touches_only_ascii_letters),
		cmocka_unit_test(equality_ignores_ascii_case_only),
		cmocka_unit_test(below_and_at_or_below_follow_label_boundaries),
		cmocka_unit_test(parent_drops_the_first_label),
		cmocka_unit_test(rfc4034_example_names_sort_in_the_documented_order),
		cmocka_unit_test(zero_and_one_octets_sort_as_octets),
		cmocka_unit_test(sort_key_order_equals_label_by_label_order),
		cmocka_unit_test(sort_key_of_a_longest_name_fits_the_buffer),
		cmocka_unit_test(base32hex_encodes_the_rfc4648_vectors),
		cmocka_unit_test(base32hex_decodes_the_rfc4648_vectors_in_either_case),
		cmocka_unit_test(base32hex_round_trips_a_sha1_hash),
		cmocka_unit_test(base32hex_decode_refuses_bad_digits_and_small_buffers),
		cmocka_unit_test(base32hex_decode_refuses_impossible_lengths_and_stray_bits),
	};

	return cmocka_run_group_tests_name("dname", tests, NULL, NULL);
}
