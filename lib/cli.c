/* SPDX-License-Identifier: MIT */
#include <errno.h>
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
