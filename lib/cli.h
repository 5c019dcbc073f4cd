/* SPDX-License-Identifier: MIT */
/*
 * cli: what every tool's option parsing shares (STYLE.md O1): the short-option
 * string generated from the getopt_long table, so the two never disagree.
 */
#ifndef MP_CLI_H
#define MP_CLI_H

#include <getopt.h>
#include <stddef.h>

/*
 * Writes the getopt short-option string for opts (terminated by a zeroed
 * entry) into buf: every entry whose val is a printable ASCII character
 * becomes that character, followed by ':' for required_argument and "::"
 * for optional_argument. A leading ':' is added so that getopt_long returns
 * ':' for a missing argument. Returns the length, or -ENOSPC, or -EINVAL
 * when a short letter appears twice.
 */
int mp_cli_shortopts(const struct option *opts, char *buf, size_t len);

/*
 * Runs the getopt_long loop over argv with the short-option string of
 * mp_cli_shortopts(opts), starting again from argv[1] (optind is reset), with
 * getopt's own messages off. handle is called for every option with its val
 * and argument (NULL if none) and ctx; it returns 0 to go on, a positive
 * value (e.g. MP_ARGS_HELP) to stop, or a negative errno, which it has
 * reported itself (a bad value). Operands may be mixed with options (GNU
 * permutation); "--" ends the options. errbuf (errlen octets, may be NULL
 * when errlen is 0) is set to "" and, for a usage error, to a message for
 * the tool to print: "unknown option '-x'", "option '--port' needs an
 * argument", "option '--json' takes no argument".
 * Returns 0 when all options were read, with optind the index of the first
 * operand (argc if none): not as the return value, which would be ambiguous
 * with handle's stop values (MP_ARGS_HELP is 1). Or the positive value of
 * handle, or -EINVAL on a usage error (message in errbuf), or a negative
 * errno from handle or for a bad opts table.
 */
int mp_cli_getopt(int argc, char **argv, const struct option *opts,
		  int (*handle)(int c, const char *arg, void *ctx), void *ctx,
		  char *errbuf, size_t errlen);

#endif
