/* SPDX-License-Identifier: MIT */
/*
 * signer/cli/client_fmt.c -- the pure half of client.h: request paths, what a reply
 * means for the exit code, and aligned tables. No libcurl here (see client.h).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "signer/cli/client.h"

/* RFC 3986 §2.3 */
static bool unreserved(unsigned char ch)
{
	return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
	       ch == '-' || ch == '.' || ch == '_' || ch == '~';
}

static void put_escaped(FILE *f, const char *s)
{
	for (const unsigned char *p = (const unsigned char *) s; *p; p++) {
		if (unreserved(*p))
			fputc(*p, f);
		else
			fprintf(f, "%%%02X", *p);
	}
}

int cl_path(const char *const *segs, size_t n_segs, const cl_param *params, size_t n_params,
	    char **ret)
{
	char *buf = NULL;
	size_t len = 0;
	char sep = '?';
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		return -ENOMEM;
	for (size_t i = 0; i < n_segs && segs[i]; i++) {
		fputc('/', f);
		put_escaped(f, segs[i]);
	}
	for (size_t i = 0; i < n_params; i++) {
		if (!params[i].value)
			continue;
		fputc(sep, f);
		put_escaped(f, params[i].key);
		fputc('=', f);
		put_escaped(f, params[i].value);
		sep = '&';
	}
	if (fclose(f) != 0 || !buf) {
		free(buf);
		return -ENOMEM;
	}
	*ret = buf;
	return 0;
}

/* The daemon's {"status":"error","error":{"code","message"}}, or false. */
static bool error_body(const json_t *j, const char **code, const char **message)
{
	const json_t *e = json_object_get(j, "error");

	*code = json_string_value(json_object_get(e, "code"));
	*message = json_string_value(json_object_get(e, "message"));
	return *code != NULL;
}

int cl_outcome(int request_rc, const cl_response *r, const char *socket_path, FILE *err)
{
	const char *code, *message;

	if (request_rc < 0) {
		fprintf(err, "zonekeeper: UNREACHABLE: cannot talk to zonekeeperd on %s: %s\n",
			socket_path, r->error[0] ? r->error : strerror(-request_rc));
		return CL_EXIT_FAIL;
	}
	if (r->status >= 200 && r->status < 300 && json_is_object(r->json))
		return CL_EXIT_OK;
	if (r->status >= 400 && r->status < 600 && error_body(r->json, &code, &message)) {
		fprintf(err, "zonekeeper: %s: %s\n", code, message ? message : "");
		return r->status < 500 ? CL_EXIT_REFUSED : CL_EXIT_FAIL;
	}
	fprintf(err, "zonekeeper: BAD_RESPONSE: HTTP %ld from %s without the expected JSON body\n",
		r->status, socket_path);
	return CL_EXIT_FAIL;
}

const char *cl_json_text(const json_t *v, char *buf, size_t n)
{
	if (json_is_string(v))
		snprintf(buf, n, "%s", json_string_value(v));
	else if (json_is_integer(v))
		snprintf(buf, n, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
	else if (json_is_real(v))
		snprintf(buf, n, "%g", json_real_value(v));
	else if (json_is_boolean(v))
		snprintf(buf, n, "%s", json_is_true(v) ? "yes" : "no");
	else
		snprintf(buf, n, "-");
	return buf;
}

/* ---------------------------------------------------------------------------- tables */

struct cl_table {
	size_t n_cols;
	size_t n_rows;  /* rows added; cells holds (n_rows + 1) * n_cols, the header first */
	size_t cap;     /* rows allocated, the header included */
	char **cells;
	size_t *width;  /* per column */
};

cl_table *cl_table_free(cl_table *t)
{
	if (!t)
		return NULL;
	for (size_t i = 0; i < (t->n_rows + 1) * t->n_cols; i++)
		free(t->cells[i]);
	free(t->cells);
	free(t->width);
	free(t);
	return NULL;
}

static int put_row(cl_table *t, size_t row, const char *const *cells)
{
	for (size_t c = 0; c < t->n_cols; c++) {
		const char *s = cells[c] ? cells[c] : "-";
		size_t len = strlen(s);

		t->cells[row * t->n_cols + c] = strdup(s);
		if (!t->cells[row * t->n_cols + c])
			return -ENOMEM;
		if (len > t->width[c])
			t->width[c] = len;
	}
	return 0;
}

cl_table *cl_table_new(size_t n_cols, const char *const *headers)
{
	cl_table *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->n_cols = n_cols;
	t->cap = 8;
	t->cells = calloc(t->cap * n_cols, sizeof(*t->cells));
	t->width = calloc(n_cols, sizeof(*t->width));
	if (!t->cells || !t->width || put_row(t, 0, headers) < 0)
		return cl_table_free(t);
	return t;
}

int cl_table_add(cl_table *t, const char *const *cells)
{
	int r;

	if (t->n_rows + 2 > t->cap) {
		size_t cap = t->cap * 2;
		char **n = realloc(t->cells, cap * t->n_cols * sizeof(*n));

		if (!n)
			return -ENOMEM;
		memset(n + t->cap * t->n_cols, 0, (cap - t->cap) * t->n_cols * sizeof(*n));
		t->cells = n;
		t->cap = cap;
	}
	r = put_row(t, t->n_rows + 1, cells);
	/* a row is counted even when half-copied, so cl_table_free() frees its cells */
	t->n_rows++;
	return r;
}

size_t cl_table_rows(const cl_table *t)
{
	return t->n_rows;
}

static void print_row(const cl_table *t, size_t row, FILE *f)
{
	size_t pending = 0; /* blanks owed: written only if something follows */

	for (size_t c = 0; c < t->n_cols; c++) {
		const char *s = t->cells[row * t->n_cols + c];

		if (*s) {
			fprintf(f, "%*s%s", (int) pending, "", s);
			pending = 0;
		}
		pending += t->width[c] - strlen(s) + 2;
	}
	fputc('\n', f);
}

void cl_table_print(const cl_table *t, bool header, FILE *f)
{
	for (size_t row = header ? 0 : 1; row <= t->n_rows; row++)
		print_row(t, row, f);
}
