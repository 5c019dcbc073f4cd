/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

int mp_cli_shortopts(const struct option *opts, char *buf, size_t len)
{
	size_t at = 0;

	if (len < 2)
		return -ENOSPC;
	buf[at++] = ':';
	buf[at] = '\0';
	for (const struct option *o = opts; o->name; o++) {
		size_t need = o->has_arg == required_argument ? 2 :
			      o->has_arg == optional_argument ? 3 : 1;

		if (o->flag || o->val <= ' ' || o->val > '~')
			continue;	/* long-only option */
		if (strchr(buf + 1, o->val) && o->val != ':')
			return -EINVAL;
		if (at + need >= len)
			return -ENOSPC;
		buf[at++] = (char)o->val;
		if (o->has_arg != no_argument)
			buf[at++] = ':';
		if (o->has_arg == optional_argument)
			buf[at++] = ':';
		buf[at] = '\0';
	}
	return (int)at;
}

/*
 * The long option that argv[at] names and that getopt_long reported as
 * optopt, or NULL when the error was about a short option. A short option
 * inside a bundle ("-xq") does not advance optind, so argv[optind - 1] can be
 * an earlier, unrelated "--long": its val must match optopt too.
 */
static const struct option *erring_long(const struct option *opts, const char *arg, int opt)
{
	size_t n;

	if (!arg || strncmp(arg, "--", 2) != 0 || !arg[2])
		return NULL;
	arg += 2;
	n = strcspn(arg, "=");
	for (const struct option *o = opts; o->name; o++)
		if (!o->flag && o->val == opt && !strncmp(o->name, arg, n))
			return o;
	return NULL;
}

static void usage_error(const struct option *opts, char **argv, int c, char *errbuf,
			size_t errlen)
{
	const char *prev = optind > 0 ? argv[optind - 1] : NULL;
	const struct option *lo = optopt ? erring_long(opts, prev, optopt) : NULL;

	if (!errlen)
		return;
	if (c == ':') {
		if (lo)
			snprintf(errbuf, errlen, "option '--%s' needs an argument", lo->name);
		else
			snprintf(errbuf, errlen, "option '-%c' needs an argument", optopt);
	} else if (lo) {
		/* getopt_long gives '?' with optopt set for "--flag=value" */
		snprintf(errbuf, errlen, "option '--%s' takes no argument", lo->name);
	} else if (optopt) {
		snprintf(errbuf, errlen, "unknown option '-%c'", optopt);
	} else if (prev && !strncmp(prev, "--", 2)) {
		/* unknown or ambiguous long option: show what was typed */
		snprintf(errbuf, errlen, "unknown option '%.*s'", (int)strcspn(prev, "="), prev);
	} else {
		snprintf(errbuf, errlen, "unknown option");
	}
}

int mp_cli_getopt(int argc, char **argv, const struct option *opts,
		  int (*handle)(int c, const char *arg, void *ctx), void *ctx,
		  char *errbuf, size_t errlen)
{
	/* every printable letter with "::" fits */
	char shortopts[3 * 95 + 2];
	int c, r, saved_opterr = opterr;

	if (errlen)
		errbuf[0] = '\0';
	if (!argv || !opts || !handle)
		return -EINVAL;
	r = mp_cli_shortopts(opts, shortopts, sizeof(shortopts));
	if (r < 0)
		return r;
	opterr = 0;
	/* 0, not 1: glibc then also forgets the rest of a half-read bundle */
	optind = 0;
	while ((c = getopt_long(argc, argv, shortopts, opts, NULL)) != -1) {
		if (c == '?' || c == ':') {
			usage_error(opts, argv, c, errbuf, errlen);
			r = -EINVAL;
			goto out;
		}
		r = handle(c, optarg, ctx);
		if (r != 0)
			goto out;
	}
	r = 0;
out:
	opterr = saved_opterr;
	return r;
}
