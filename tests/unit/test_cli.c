/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

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

/* What the handler saw, in order: "c=arg" entries separated by spaces. */
struct seen {
	char log[256];
	int stop_on;	/* option that makes the handler return stop_ret */
	int stop_ret;
};

static int record(int c, const char *arg, void *ctx)
{
	struct seen *s = ctx;
	size_t at = strlen(s->log);

	snprintf(s->log + at, sizeof(s->log) - at, "%s%c=%s", at ? " " : "",
		 c < 256 ? c : 'L', arg ? arg : "-");
	return c == s->stop_on ? s->stop_ret : 0;
}

static const struct option gopts[] = {
	{ "port", required_argument, NULL, 'p' },
	{ "json", no_argument, NULL, 'j' },
	{ "plot", required_argument, NULL, OPT_LONG_ONLY },
	{ "help", no_argument, NULL, 'h' },
	{ 0 },
};

/* argv for getopt: it may permute the entries, so each test builds its own. */
static int run(struct seen *s, char *errbuf, size_t errlen, int argc, ...)
{
	char *argv[16];
	va_list ap;
	int i;

	va_start(ap, argc);
	for (i = 0; i < argc; i++)
		argv[i] = va_arg(ap, char *);
	va_end(ap);
	argv[argc] = NULL;
	memset(s->log, 0, sizeof(s->log));
	return mp_cli_getopt(argc, argv, gopts, record, s, errbuf, errlen);
}

static void test_getopt_ok(void **state)
{
	struct seen s = { .stop_on = -1 };
	char err[64];

	(void)state;
	/* options only: first operand index is argc */
	assert_int_equal(run(&s, err, sizeof(err), 4, "t", "-j", "-p", "80"), 0);
	assert_int_equal(optind, 4);
	assert_string_equal(s.log, "j=- p=80");
	assert_string_equal(err, "");
	/* bundle, attached argument, long forms, long-only option */
	assert_int_equal(run(&s, err, sizeof(err), 4, "t", "-jp9", "--port=7", "--plot"), -EINVAL);
	assert_string_equal(err, "option '--plot' needs an argument");
	assert_int_equal(run(&s, err, sizeof(err), 5, "t", "-jp9", "--port=7", "--plot", "x"), 0);
	assert_int_equal(optind, 5);
	assert_string_equal(s.log, "j=- p=9 p=7 L=x");
	/* an operand between options is moved to the end (GNU permutation) */
	assert_int_equal(run(&s, err, sizeof(err), 4, "t", "host", "-j", "extra"), 0);
	assert_int_equal(optind, 2);
	assert_string_equal(s.log, "j=-");
}

static void test_getopt_dashdash(void **state)
{
	struct seen s = { .stop_on = -1 };
	char err[64];
	char *argv[] = { "t", "-j", "--", "-p", "x", NULL };

	(void)state;
	assert_int_equal(mp_cli_getopt(5, argv, gopts, record, &s, err, sizeof(err)), 0);
	assert_int_equal(optind, 3);
	assert_string_equal(s.log, "j=-");
	assert_string_equal(argv[3], "-p");
	/* "--" alone: no options, every later word is an operand */
	memset(s.log, 0, sizeof(s.log));
	assert_int_equal(run(&s, err, sizeof(err), 3, "t", "--", "-j"), 0);
	assert_int_equal(optind, 2);
	assert_string_equal(s.log, "");
}

static void test_getopt_errors(void **state)
{
	struct seen s = { .stop_on = -1 };
	char err[64];

	(void)state;
	assert_int_equal(run(&s, err, sizeof(err), 2, "t", "-x"), -EINVAL);
	assert_string_equal(err, "unknown option '-x'");
	/* inside a bundle after an earlier long option */
	assert_int_equal(run(&s, err, sizeof(err), 3, "t", "--json", "-jx"), -EINVAL);
	assert_string_equal(err, "unknown option '-x'");
	assert_int_equal(run(&s, err, sizeof(err), 2, "t", "--nope=3"), -EINVAL);
	assert_string_equal(err, "unknown option '--nope'");
	assert_int_equal(run(&s, err, sizeof(err), 3, "t", "-j", "-p"), -EINVAL);
	assert_string_equal(err, "option '-p' needs an argument");
	assert_string_equal(s.log, "j=-");
	assert_int_equal(run(&s, err, sizeof(err), 2, "t", "--port"), -EINVAL);
	assert_string_equal(err, "option '--port' needs an argument");
	assert_int_equal(run(&s, err, sizeof(err), 2, "t", "--json=1"), -EINVAL);
	assert_string_equal(err, "option '--json' takes no argument");
	/* a short errbuf is truncated, not overrun; none at all is allowed */
	assert_int_equal(run(&s, err, 8, 2, "t", "-x"), -EINVAL);
	assert_string_equal(err, "unknown");
	assert_int_equal(run(&s, NULL, 0, 2, "t", "-x"), -EINVAL);
}

static void test_getopt_handler(void **state)
{
	struct seen s = { .stop_on = 'h', .stop_ret = 1 };
	char err[64];

	(void)state;
	/* a positive value stops the loop: later options are not seen */
	assert_int_equal(run(&s, err, sizeof(err), 4, "t", "-j", "--help", "-x"), 1);
	assert_string_equal(s.log, "j=- h=-");
	assert_string_equal(err, "");
	/* a handler error is passed on as is, with no message of ours */
	s.stop_on = 'p';
	s.stop_ret = -ERANGE;
	assert_int_equal(run(&s, err, sizeof(err), 4, "t", "-p", "99999", "-j"), -ERANGE);
	assert_string_equal(s.log, "p=99999");
	assert_string_equal(err, "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_shortopts),
		cmocka_unit_test(test_duplicate),
		cmocka_unit_test(test_getopt_ok),
		cmocka_unit_test(test_getopt_dashdash),
		cmocka_unit_test(test_getopt_errors),
		cmocka_unit_test(test_getopt_handler),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
