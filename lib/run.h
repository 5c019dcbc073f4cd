/* SPDX-License-Identifier: MIT */
/*
 * run: a measuring tool's run over its hosts, as its command line gives
 * them (HOST..., "-", --targets FILE; lib/targets.h reads the streams),
 * and the Prometheus textfile it writes at the end (--textfile, --job).
 * Reports on stderr, as a tool's main would.
 */
#ifndef MP_RUN_H
#define MP_RUN_H

#include <getopt.h>
#include <signal.h>
#include <stdbool.h>

#include "targets.h"

struct mp_writer;

/* What a measuring tool's command line says of its hosts and textfile. */
struct mp_run_opts {
	char **ops;			/* HOST... operands ("-": stdin) */
	int nops;
	const char *targets_file;	/* --targets FILE */
	const char *target_key;		/* --target-key KEY */
	const char *textfile;		/* --textfile DIR */
	const char *job;		/* --job NAME */
};

/* Their getopt_long entries (in a tool's table) and values. */
enum { MP_OPT_TARGETS = 0x1000, MP_OPT_TARGET_KEY, MP_OPT_TEXTFILE, MP_OPT_JOB };
#define MP_RUN_OPTIONS								\
	{ "targets", required_argument, NULL, MP_OPT_TARGETS },		\
	{ "target-key", required_argument, NULL, MP_OPT_TARGET_KEY },	\
	{ "textfile", required_argument, NULL, MP_OPT_TEXTFILE },	\
	{ "job", required_argument, NULL, MP_OPT_JOB }

/* One of them (c an MP_OPT_ value) into r: 0, or -EINVAL after saying why. */
int mp_run_opt(struct mp_run_opts *r, int c, const char *arg);

/* True when the command line names targets otherwise than one HOST. */
static inline bool mp_run_multi(const struct mp_run_opts *r)
{
	return r->targets_file || r->nops != 1 || (r->ops[0][0] == '-' && !r->ops[0][1]);
}

/*
 * A tool's run over its targets: with one HOST, fn(HOST, ctx) and its exit
 * status. Otherwise the targets are gathered: the operands (a host each,
 * kept as given, or "-" for standard input) and --targets FILE, streams
 * read with --target-key, bad lines reported on stderr ("stdin: line N:
 * why"), a host kept once; w writes one summary
 * per target (mp_writer_set_multi, key "targets") and every record names
 * its dst (mp_writer_set_label); fn runs for each target in turn until
 * *stop; the exit status is 0 when every run returned 0 and no line was
 * bad, 1 otherwise, 2 when no stream could be read. With --textfile, the
 * file is written at the end (mp_textfile_finish).
 */
int mp_targets_run(const struct mp_run_opts *r, struct mp_writer *w,
		   int (*fn)(const char *host, void *ctx), void *ctx,
		   const volatile sig_atomic_t *stop);

#endif
