/* SPDX-License-Identifier: MIT */
/* Unit tests for lib/targets.c: lists, CSV and NDJSON of other tools. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "targets.h"

struct errs {
	unsigned line[8];
	char why[8][200];
	int n;
};

static void on_err(unsigned line, const char *why, void *ctx)
{
	struct errs *e = ctx;

	if (e->n < 8) {
		e->line[e->n] = line;
		snprintf(e->why[e->n], sizeof(e->why[0]), "%s", why);
	}
	e->n++;
}

/* Reads s; returns the hosts joined with ' ', errors into *e. */
static char *read_str(const char *s, const char *key, struct errs *e, int *ret)
{
	static char out[1024];
	struct mp_targets t = { 0 };
	static char in[2048];
	FILE *f;

	snprintf(in, sizeof(in), "%s", s);
	f = fmemopen(in, strlen(in), "r");

	assert_non_null(f);
	memset(e, 0, sizeof(*e));
	*ret = mp_targets_read(f, key, &t, on_err, e);
	fclose(f);
	out[0] = '\0';
	for (size_t i = 0; i < t.n; i++)
		snprintf(out + strlen(out), sizeof(out) - strlen(out), "%s%s@%u", i ? " " : "",
			 t.v[i].host, t.v[i].line);
	mp_targets_free(&t);
	return out;
}

static void test_parse(void **state)
{
	char b[64];

	(void)state;
	assert_int_equal(mp_target_parse("10.0.0.1", b, sizeof(b)), 0);
	assert_string_equal(b, "10.0.0.1");
	assert_int_equal(mp_target_parse("site1.lab", b, sizeof(b)), 0);
	assert_int_equal(mp_target_parse("fe80::1%wg0.1_v4", b, sizeof(b)), 0);
	assert_string_equal(b, "fe80::1%wg0.1_v4");
	assert_int_equal(mp_target_parse("10.201.3.0/24", b, sizeof(b)), 0);
	assert_string_equal(b, "10.201.3.1");
	assert_int_equal(mp_target_parse("10.201.3.7/32", b, sizeof(b)), 0);
	assert_string_equal(b, "10.201.3.7");
	assert_int_equal(mp_target_parse("10.0.0.255/31", b, sizeof(b)), 0);
	assert_string_equal(b, "10.0.0.255");
	assert_int_equal(mp_target_parse("fdac:c9:3::/64", b, sizeof(b)), 0);
	assert_string_equal(b, "fdac:c9:3::1");
	assert_int_equal(mp_target_parse("default", b, sizeof(b)), 1);
	assert_int_equal(mp_target_parse("*", b, sizeof(b)), 1);
	assert_int_equal(mp_target_parse("", b, sizeof(b)), 1);
	assert_int_equal(mp_target_parse("-rf", b, sizeof(b)), -EINVAL);
	assert_int_equal(mp_target_parse("a b", b, sizeof(b)), -EINVAL);
	assert_int_equal(mp_target_parse("10.0.0.0/33", b, sizeof(b)), -EINVAL);
	assert_int_equal(mp_target_parse("10.0.0.0/", b, sizeof(b)), -EINVAL);
	assert_int_equal(mp_target_parse("fd00::zz", b, sizeof(b)), -EINVAL);
	assert_int_equal(mp_target_parse("$(reboot)", b, sizeof(b)), -EINVAL);
	assert_int_equal(mp_target_parse("fe80::1%", b, sizeof(b)), -EINVAL);
}

static void test_list(void **state)
{
	struct errs e;
	int r;

	(void)state;
	assert_string_equal(read_str("# hosts\n10.0.0.1\n\n  h2.lab \r\n10.0.0.1\nbad host\nfd00::2\n",
				     NULL, &e, &r),
			    "10.0.0.1@2 h2.lab@4 fd00::2@7");
	assert_int_equal(r, 1);
	assert_int_equal(e.line[0], 6);
	assert_string_equal(e.why[0], "'bad host' is not a host, an address or a prefix");
}

static void test_csv(void **state)
{
	struct errs e;
	int r;

	(void)state;
	/* perfc's routes: dst is a prefix, the default route names no host */
	assert_string_equal(read_str("table,dst,gateway\nmain,default,10.0.0.1\n"
				     "main,10.201.1.0/24,\nmain,\"10.201.2.0/24\",x\nmain\n",
				     NULL, &e, &r),
			    "10.201.1.1@3 10.201.2.1@4");
	assert_int_equal(r, 1);
	assert_int_equal(e.line[0], 5);
	/* the key given wins over dst */
	assert_string_equal(read_str("dst,gateway\n10.0.0.0/8,10.0.0.1\n", "gateway", &e, &r),
			    "10.0.0.1@2");
	assert_int_equal(r, 0);
	/* a header without the key: one error, line 1 */
	read_str("a,b\n1,2\n", NULL, &e, &r);
	assert_int_equal(r, -EINVAL);
	assert_int_equal(e.n, 1);
	assert_int_equal(e.line[0], 1);
	assert_string_equal(e.why[0], "the CSV header has no column dst, addr or peer");
}

static void test_ndjson(void **state)
{
	struct errs e;
	int r;

	(void)state;
	/* pathping's records: every one names its dst; a hop's addr is not taken */
	assert_string_equal(read_str("{\"type\":\"hop\",\"dst\":\"h1\",\"addr\":\"10.0.0.9\"}\n"
				     "{\"type\":\"summary\",\"dst\":\"h1\"}\n"
				     "garbage\n"
				     "{\"type\":\"round\"}\n"
				     "{\"addr\":\"*\"}\n"
				     "{\"peer\":\"10.201.1.100\"}\n"
				     "{\"dst\":7}\n",
				     NULL, &e, &r),
			    "h1@1 10.201.1.100@6");
	assert_int_equal(r, 2);
	assert_int_equal(e.line[0], 3);
	assert_string_equal(e.why[0], "not a JSON object: 'garbage'");
	assert_int_equal(e.line[1], 7);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_list),
		cmocka_unit_test(test_csv),
		cmocka_unit_test(test_ndjson),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
