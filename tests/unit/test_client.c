/* SPDX-License-Identifier: MIT */
/*
 * tests/unit/test_client.c -- the pure half of the CLI's API client (signer/cli/client.h):
 * request paths, replies to exit codes and error lines, aligned tables.
 *
 * The CLI's sources are not in libzk.a, and client.c needs libcurl, so this test compiles
 * the libcurl-free client_fmt.c into itself.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "signer/cli/client_fmt.c"

static char *path_of(const char *const *segs, size_t n, const cl_param *params, size_t np)
{
	char *p = NULL;

	assert_int_equal(cl_path(segs, n, params, np, &p), 0);
	return p;
}

static void path_escapes_segments_and_values(void **state)
{
	const char *segs[] = { "v1", "zones", "ex/ample.com.", "records" };
	const cl_param params[] = { { "name", "a b&c=d" }, { "type", "A" } };
	char *p = path_of(segs, 4, params, 2);

	(void) state;
	assert_string_equal(p, "/v1/zones/ex%2Fample.com./records?name=a%20b%26c%3Dd&type=A");
	free(p);
}

static void path_leaves_out_null_params_and_stops_at_null_segment(void **state)
{
	const char *segs[] = { "v1", "zones", "example.com", "records", NULL };
	const cl_param params[] = { { "name", NULL }, { "wait", "published" } };
	char *p = path_of(segs, 5, params, 2);

	(void) state;
	assert_string_equal(p, "/v1/zones/example.com/records?wait=published");
	free(p);
	p = path_of(segs, 4, params, 1);
	assert_string_equal(p, "/v1/zones/example.com/records");
	free(p);
}

/* cl_outcome() on a reply with `status` and `body`; its error line into *ret_err. */
static int outcome(long status, const char *body, char **ret_err)
{
	cl_response r = { .status = status };
	size_t len = 0;
	FILE *f = open_memstream(ret_err, &len);
	int rc;

	r.json = body ? json_loads(body, 0, NULL) : NULL;
	rc = cl_outcome(0, &r, "/run/zk.sock", f);
	fclose(f);
	json_decref(r.json);
	return rc;
}

static void refusal_is_3_with_the_daemons_code_and_message(void **state)
{
	char *err = NULL;

	(void) state;
	assert_int_equal(outcome(403, "{\"status\":\"error\",\"error\":{\"code\":\"PROTECTED_RECORD\","
				      "\"message\":\"protected: SOA is managed\"}}", &err),
			 CL_EXIT_REFUSED);
	assert_string_equal(err, "zonekeeper: PROTECTED_RECORD: protected: SOA is managed\n");
	free(err);
}

static void server_error_is_1_and_success_prints_nothing(void **state)
{
	char *err = NULL;

	(void) state;
	assert_int_equal(outcome(500, "{\"status\":\"error\",\"error\":{\"code\":\"SELF_CHECK_FAILED\","
				      "\"message\":\"m\"}}", &err), CL_EXIT_FAIL);
	assert_string_equal(err, "zonekeeper: SELF_CHECK_FAILED: m\n");
	free(err);
	assert_int_equal(outcome(201, "{\"status\":\"ok\"}", &err), CL_EXIT_OK);
	assert_string_equal(err, "");
	free(err);
}

static void reply_without_error_body_is_1(void **state)
{
	char *err = NULL;

	(void) state;
	assert_int_equal(outcome(404, "<html>", &err), CL_EXIT_FAIL);
	assert_non_null(strstr(err, "BAD_RESPONSE: HTTP 404"));
	free(err);
	assert_int_equal(outcome(200, NULL, &err), CL_EXIT_FAIL);
	free(err);
}

static void no_reply_is_1_unreachable(void **state)
{
	cl_response r = { 0 };
	char *err = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&err, &len);

	(void) state;
	strcpy(r.error, "No such file or directory");
	assert_int_equal(cl_outcome(-ECONNREFUSED, &r, "/run/zk.sock", f), CL_EXIT_FAIL);
	fclose(f);
	assert_string_equal(err, "zonekeeper: UNREACHABLE: cannot talk to zonekeeperd on "
				 "/run/zk.sock: No such file or directory\n");
	free(err);
}

static void json_text_of_scalars(void **state)
{
	char buf[32];
	json_t *j = json_pack("{s:s,s:i,s:b,s:n}", "s", "x", "i", 3600, "b", 1, "n");

	(void) state;
	assert_string_equal(cl_json_text(json_object_get(j, "s"), buf, sizeof(buf)), "x");
	assert_string_equal(cl_json_text(json_object_get(j, "i"), buf, sizeof(buf)), "3600");
	assert_string_equal(cl_json_text(json_object_get(j, "b"), buf, sizeof(buf)), "yes");
	assert_string_equal(cl_json_text(json_object_get(j, "n"), buf, sizeof(buf)), "-");
	assert_string_equal(cl_json_text(json_object_get(j, "missing"), buf, sizeof(buf)), "-");
	json_decref(j);
}

static void table_aligns_columns_and_drops_trailing_blanks(void **state)
{
	static const char *const head[] = { "ID", "NAME", "CONTENT", "" };
	const char *r1[] = { "0123456789abcdef", "www.example.com.", "192.0.2.1", "" };
	const char *r2[] = { "fedcba9876543210", "example.com.", "ns1. host. 1 2 3 4 5",
			     "system" };
	cl_table *t = cl_table_new(4, head);
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);

	(void) state;
	assert_non_null(t);
	for (int i = 0; i < 20; i++) /* past the first growth */
		assert_int_equal(cl_table_add(t, i % 2 ? r2 : r1), 0);
	assert_int_equal(cl_table_rows(t), 20);
	cl_table_free(t);

	t = cl_table_new(4, head);
	assert_int_equal(cl_table_add(t, r1), 0);
	assert_int_equal(cl_table_add(t, r2), 0);
	cl_table_print(t, true, f);
	fclose(f);
	assert_string_equal(out,
		"ID                NAME              CONTENT\n"
		"0123456789abcdef  www.example.com.  192.0.2.1\n"
		"fedcba9876543210  example.com.      ns1. host. 1 2 3 4 5  system\n");
	free(out);
	cl_table_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(path_escapes_segments_and_values),
		cmocka_unit_test(path_leaves_out_null_params_and_stops_at_null_segment),
		cmocka_unit_test(refusal_is_3_with_the_daemons_code_and_message),
		cmocka_unit_test(server_error_is_1_and_success_prints_nothing),
		cmocka_unit_test(reply_without_error_body_is_1),
		cmocka_unit_test(no_reply_is_1_unreachable),
		cmocka_unit_test(json_text_of_scalars),
		cmocka_unit_test(table_aligns_columns_and_drops_trailing_blanks),
	};

	return cmocka_run_group_tests_name("client", tests, NULL, NULL);
}
