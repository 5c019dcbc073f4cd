/* SPDX-License-Identifier: MIT */
/*
 * Diagnostics on stderr for the tools: the only place in lib/ besides the
 * writer that touches a stream, and only on the tools' behalf (STYLE.md E3).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mp.h"

static void vwarn(int err, const char *fmt, va_list ap)
{
	fprintf(stderr, "%s: ", program_invocation_short_name);
	vfprintf(stderr, fmt, ap);
	if (err)
		fprintf(stderr, ": %s", strerror(err < 0 ? -err : err));
	fputc('\n', stderr);
}

void mp_warn(int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vwarn(err, fmt, ap);
	va_end(ap);
}

void mp_warnx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vwarn(0, fmt, ap);
	va_end(ap);
}

int mp_warn_invalid(const char *what, const char *value, int err)
{
	mp_warnx("invalid %s '%s'%s", what, value, err == -ERANGE ? ": out of range" : "");
	return -EINVAL;
}

void mp_close_stdout(void)
{
	bool failed = ferror(stdout);

	if (fclose(stdout) != 0 && errno != EBADF)
		failed = true;
	if (failed) {
		mp_warn(errno ? errno : EIO, "write error on standard output");
		_exit(MP_EXIT_USAGE);
	}
}
