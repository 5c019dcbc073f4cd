/* SPDX-License-Identifier: MIT */
/*
 * meshperf: definitions shared by every library module and tool.
 *
 * Library contract (all of lib/): functions return 0 (or a count) on success
 * and a negative errno on failure; they never print, log or exit. Handles are
 * opaque; x_new()/x_free() and x_init()/x_done() pairs accept NULL and
 * half-built objects. Output parameters are named ret_* and set only on
 * success. Times are uint64_t nanoseconds.
 */
#ifndef MP_H
#define MP_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifndef MP_VERSION
#define MP_VERSION "0.0.0"
#endif

#define MP_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define MP_MIN(a, b) ((a) < (b) ? (a) : (b))
#define MP_MAX(a, b) ((a) > (b) ? (a) : (b))

/* Macros, not enum constants: an enum constant is an int, and
 * 30 * MP_NSEC_PER_SEC must not overflow. */
#define MP_NSEC_PER_USEC 1000ULL
#define MP_NSEC_PER_MSEC 1000000ULL
#define MP_NSEC_PER_SEC 1000000000ULL

/* Exit codes shared by every tool (STYLE.md M2). */
enum {
	MP_EXIT_OK = 0,		/* measured, success */
	MP_EXIT_FAIL = 1,	/* measured, but failed: no replies, unreachable */
	MP_EXIT_USAGE = 2,	/* usage or setup error */
};

/* Returned by the tools' argument parsers when --help was asked for. */
#define MP_ARGS_HELP 1

#define MP_PRINTF(a, b) __attribute__((format(printf, a, b)))

/*
 * Diagnostics for tools/ only (lib/out_diag.c): "prog: message: strerror(err)"
 * on stderr. err is a positive or negative errno, 0 for none.
 */
void mp_warn(int err, const char *fmt, ...) MP_PRINTF(2, 3);
void mp_warnx(const char *fmt, ...) MP_PRINTF(1, 2);
/* "prog: invalid WHAT 'VALUE'", with ": out of range" when err is -ERANGE
 * (the parsers' code for a value outside its bounds). Returns -EINVAL. */
int mp_warn_invalid(const char *what, const char *value, int err);
/* An option's value parsed (lib/args.h) or, on error, reported in one line
 * that says what the option takes: "invalid interval '10': a duration with
 * its unit (...)", "...: out of range (100us to 1h)". Return 0 or -EINVAL. */
int mp_opt_duration(const char *what, const char *arg, uint64_t min_ns, uint64_t max_ns,
		    uint64_t *ret_ns);
int mp_opt_size(const char *what, const char *arg, uint64_t min, uint64_t max, uint64_t *ret);
int mp_opt_rate(const char *what, const char *arg, uint64_t min, uint64_t max, uint64_t *ret);
/* A target that could not be measured: "HOST: Name or service not known"
 * (the resolver's words for -ENOENT, -EAGAIN as lib/args.c maps them),
 * else "HOST: strerror(err)". */
void mp_warn_target(const char *host, int err);
/* After a usage error's one line: "Try 'TOOL --help'." */
void mp_usage_try(void);
/* Register with atexit(): fails the process (exit 2) if stdout could not be
 * written or closed, e.g. on a full disk or a closed pipe. */
void mp_close_stdout(void);

#endif
