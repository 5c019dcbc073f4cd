/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "cli.h"

enum { OPT_LONG_ONLY = 256 };

static void test_shortopts(void **state)
{
	static const struct option opts[] = {
		{ "count", required_argument, NULL, 'c' },
		{ "json", no_argument, NULL, 'j' },
		{ "color", optional_argument, NULL, 'C' },
		{ "plot", required_argument, NULL, OPT_LONG_ONLY },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	char buf[32];

	(void)state;
	assert_int_equal(mp_cli_shortopts(opts, buf, sizeof(buf)), 8);
	assert_string_equal(buf, ":c:jC::h");
	assert_int_equal(mp_cli_shortopts(opts, buf, 5), -ENOSPC);
}

static void test_duplicate(void **state)
{
	static const struct option opts[] = {
		{ "port", required_argument, NULL, 'p' },
		{ "plot", required_argument, NULL, 'p' },
		{ 0 },
	};
	char buf[32];

	(void)state;
	assert_int_equal(mp_cli_shortopts(opts, buf, sizeof(buf)), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_shortopts),
		cmocka_unit_test(test_duplicate),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
