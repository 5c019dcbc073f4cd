/* SPDX-License-Identifier: MIT */
/*
 * Diagnostics on stderr for the tools: the only place in lib/ besides the
 * writer that touches a stream, and only on the tools' behalf (STYLE.md E3).
 */
#include <errno.h>
#include <inttypes.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "args.h"
#include "auth.h"
#include "mp.h"
#include "out.h"

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

/* A duration as its largest exact unit ("100us", "1h"), for messages. */
static void fmt_duration(uint64_t ns, char *buf, size_t len)
{
	static const struct { const char *name; uint64_t mult; } u[] = {
		{ "d", 86400ULL * MP_NSEC_PER_SEC }, { "h", 3600ULL * MP_NSEC_PER_SEC },
		{ "m", 60ULL * MP_NSEC_PER_SEC }, { "s", MP_NSEC_PER_SEC },
		{ "ms", MP_NSEC_PER_MSEC }, { "us", MP_NSEC_PER_USEC }, { "ns", 1 },
	};
	size_t i = 0;

	while (ns && ns % u[i].mult)
		i++;
	snprintf(buf, len, "%" PRIu64 "%s", ns ? ns / u[i].mult : 0, ns ? u[i].name : "");
}

int mp_opt_duration(const char *what, const char *arg, uint64_t min_ns, uint64_t max_ns,
		    uint64_t *ret_ns)
{
	char lo[32], hi[32];
	int r = mp_parse_duration(arg, min_ns, max_ns, ret_ns);

	if (r == 0)
		return 0;
	fmt_duration(min_ns, lo, sizeof(lo));
	fmt_duration(max_ns, hi, sizeof(hi));
	if (r == -ERANGE)
		mp_warnx("invalid %s '%s': out of range (%s to %s)", what, arg, lo, hi);
	else
		mp_warnx("invalid %s '%s': a duration with its unit (ns, us, ms, s, m, h, d), "
			 "e.g. 250ms", what, arg);
	return -EINVAL;
}

/* An option's number out of range or unreadable: what it takes. */
static int opt_bad(const char *what, const char *arg, int r, uint64_t min, uint64_t max,
		   const char *unit, const char *form)
{
	if (r == -ERANGE)
		mp_warnx("invalid %s '%s': out of range (%" PRIu64 " to %" PRIu64 " %s)", what, arg,
			 min, max, unit);
	else
		mp_warnx("invalid %s '%s': %s", what, arg, form);
	return -EINVAL;
}

int mp_opt_size(const char *what, const char *arg, uint64_t min, uint64_t max, uint64_t *ret)
{
	int r = mp_parse_size(arg, min, max, ret);

	return r < 0 ? opt_bad(what, arg, r, min, max, "bytes",
			       "bytes, e.g. 1400, 9K (K, M, G: 1024)") : 0;
}

int mp_opt_rate(const char *what, const char *arg, uint64_t min, uint64_t max, uint64_t *ret)
{
	int r = mp_parse_rate(arg, min, max, ret);

	return r < 0 ? opt_bad(what, arg, r, min, max, "bit/s",
			       "bit/s, e.g. 500k, 100M, 1.5G (k, M, G: 1000)") : 0;
}

int mp_opt_format(const char *arg, enum mp_format *ret)
{
	if (mp_format_parse(arg, ret) == 0)
		return 0;
	mp_warnx("invalid format '%s': one of " MP_FORMATS, arg);
	return -EINVAL;
}

/* --color: the process's choice (STYLE.md: state of the command line). */
static enum { COLOR_AUTO, COLOR_ALWAYS, COLOR_NEVER } color_when;

int mp_opt_color(const char *arg)
{
	if (!arg || !strcmp(arg, "always"))
		color_when = COLOR_ALWAYS;
	else if (!strcmp(arg, "auto"))
		color_when = COLOR_AUTO;
	else if (!strcmp(arg, "never"))
		color_when = COLOR_NEVER;
	else {
		mp_warnx("invalid colour '%s': auto, always or never", arg);
		return -EINVAL;
	}
	return 0;
}

bool mp_color_for(FILE *f)
{
	const char *no = getenv("NO_COLOR"), *term = getenv("TERM");

	if (color_when != COLOR_AUTO)
		return color_when == COLOR_ALWAYS;
	return !(no && *no) && !(term && !strcmp(term, "dumb")) && isatty(fileno(f));
}

int mp_opt_key(const char *path, struct mp_auth_key *key)
{
	struct stat st;
	int r = mp_auth_key_load(path, key);

	if (r == -EPERM && stat(path, &st) == 0)
		mp_warnx("key file %s is readable by group or others (mode %04o); chmod 600 %s",
			 path, (unsigned)(st.st_mode & 07777), path);
	else if (r == -EINVAL)
		mp_warnx("key file %s: not one key (44 base64 or 64 hex characters)", path);
	else if (r < 0)
		mp_warn(r, "key file %s", path);
	return r;
}

int mp_opt_key_check(const char *path)
{
	struct mp_auth_key key = { 0 };
	int r = mp_opt_key(path, &key);

	mp_auth_key_done(&key);
	return r;
}

void mp_warn_target(const char *host, int err)
{
	/* the resolver's own words for what lib/args.c mapped to errnos */
	if (err == -ENOENT)
		mp_warnx("%s: %s", host, gai_strerror(EAI_NONAME));
	else if (err == -EAGAIN)
		mp_warnx("%s: %s", host, gai_strerror(EAI_AGAIN));
	else if (err == -EAFNOSUPPORT)
		mp_warnx("%s: no address of the family asked for (-4, -6)", host);
	else
		mp_warn(err, "%s", host);
}

void mp_usage_try(void)
{
	fprintf(stderr, "Try '%s --help'.\n", program_invocation_short_name);
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
