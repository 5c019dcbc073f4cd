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

#endif
