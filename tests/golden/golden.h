/* SPDX-License-Identifier: MIT */
/*
 * The frame of a golden program (tests/golden/golden_TOOL.c): a table of
 * cases, each of which builds a fixed result and renders it through the
 * tool's own print code into a text writer on stdout. tests/golden/run.sh
 * asks for the list, runs every case and compares with TOOL-CASE.txt.
 *
 *	golden_TOOL --list		one case a line: NAME, or NAME FLAG
 *	golden_TOOL NAME [FLAG]		the case's text on stdout
 *
 * FLAG is the tool's option for a second text layout of the same result
 * (-v, --wide), where the tool has one.
 */
#ifndef GOLDEN_H
#define GOLDEN_H

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "out.h"

struct golden_case {
	const char *name;
	const char *flag;	/* the text variant it also has, NULL: none */
	int (*fn)(struct mp_writer *w, bool flag);	/* returns 0, or -errno */
};

/* A numeric IPv4 or IPv6 address into ss (fixed inputs: always valid). */
static inline void golden_addr(struct sockaddr_storage *ss, const char *a)
{
	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, a, &((struct sockaddr_in *)ss)->sin_addr) == 1) {
		ss->ss_family = AF_INET;
	} else {
		ss->ss_family = AF_INET6;
		inet_pton(AF_INET6, a, &((struct sockaddr_in6 *)ss)->sin6_addr);
	}
}

static int golden_main(int argc, char **argv, const struct golden_case *c, size_t n,
		       const char *tool, const char *schema)
{
	struct mp_writer *w = NULL;
	bool flag = false;
	size_t i;
	int r;

	if (argc == 2 && !strcmp(argv[1], "--list")) {
		for (i = 0; i < n; i++) {
			printf("%s\n", c[i].name);
			if (c[i].flag)
				printf("%s %s\n", c[i].name, c[i].flag);
		}
		return 0;
	}
	for (i = 0; argc >= 2 && i < n && strcmp(argv[1], c[i].name); i++)
		;
	if (argc == 3 && i < n)
		flag = c[i].flag && !strcmp(argv[2], c[i].flag);
	if (argc < 2 || argc > 3 || i == n || (argc == 3 && !flag)) {
		fprintf(stderr, "usage: %s --list | CASE [FLAG] (see --list)\n", argv[0]);
		return 2;
	}
	r = mp_writer_new(&w, MP_FMT_TEXT, stdout, tool, schema);
	if (r == 0)
		r = c[i].fn(w, flag);
	if (mp_writer_close(w) < 0 && r == 0)
		r = -EIO;
	if (r < 0)
		fprintf(stderr, "%s %s: %s\n", argv[0], argv[1], strerror(-r));
	return r < 0;
}

#endif
