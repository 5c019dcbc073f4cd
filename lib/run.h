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
	unsigned parallel;		/* --parallel(-targets) N: targets at once (0, 1: in turn) */
	const char *plot;		/* the tool's --plot PNG, set by the tool */
};

/* Their getopt_long entries (in a tool's table) and values. */
enum { MP_OPT_TARGETS = 0x1000, MP_OPT_TARGET_KEY, MP_OPT_TEXTFILE, MP_OPT_JOB,
       MP_OPT_PARALLEL, MP_OPT_COLOR };
#define MP_RUN_OPTIONS								\
	{ "targets", required_argument, NULL, MP_OPT_TARGETS },		\
	{ "target-key", required_argument, NULL, MP_OPT_TARGET_KEY },	\
	{ "textfile", required_argument, NULL, MP_OPT_TEXTFILE },	\
	{ "job", required_argument, NULL, MP_OPT_JOB },			\
	{ "parallel-targets", required_argument, NULL, MP_OPT_PARALLEL },	\
	{ "color", optional_argument, NULL, MP_OPT_COLOR },		\
	{ "colour", optional_argument, NULL, MP_OPT_COLOR }
/* --parallel N as well, in the tools where it means nothing else (bwtest's
 * -P, --parallel is its streams, as iperf3's). */
#define MP_RUN_OPTION_PARALLEL { "parallel", required_argument, NULL, MP_OPT_PARALLEL }

/* --parallel takes 1 to this. */
#define MP_RUN_PARALLEL_MAX 256
/* A multi-target --plot draws the first this many targets. */
#define MP_RUN_PLOT_MAX 8

/* One of them (c an MP_OPT_ value) into r: 0, or -EINVAL after saying why. */
int mp_run_opt(struct mp_run_opts *r, int c, const char *arg);

/* True when the command line names targets otherwise than one HOST. */
static inline bool mp_run_multi(const struct mp_run_opts *r)
{
	return r->targets_file || r->nops != 1 || (r->ops[0][0] == '-' && !r->ops[0][1]);
}

/* One target of a run. */
struct mp_run_target {
	const char *host;
	size_t idx;		/* its place among the targets, from 0 */
	const char *plot_csv;	/* several targets and --plot: the file its plot
				 * rows go to (mp_plot_csv); NULL: none */
};

/* What a tool does for its targets. */
struct mp_run_fns {
	/* One target measured and its units written through the writer; its
	 * exit status. With --parallel it runs in a child process: what it
	 * changes in ctx is not seen by the tool's process. */
	int (*one)(const struct mp_run_target *t, void *ctx);
	/* Several targets and --plot: draws PNG from the plot_csv files of
	 * t[0..n) (those that wrote one, in order, n >= 1); 0, or -errno after
	 * saying why. NULL: the tool has no --plot. */
	int (*plot)(const struct mp_run_target *t, size_t n, const char *png, void *ctx);
	void *ctx;
	const volatile sig_atomic_t *stop;	/* set: no target is started */
};

/*
 * A tool's run over its targets: with one HOST, one() for it (plot_csv
 * NULL) and its exit status. Otherwise the targets are gathered: the
 * operands (a host each, kept as given, or "-" for standard input) and
 * --targets FILE, streams read with --target-key, bad lines reported on
 * stderr ("stdin: line N: why"), a host kept once; w writes one summary
 * per target (mp_writer_set_multi, key "targets") and every record names
 * its dst (mp_writer_set_label); one() runs for each target in turn, or in
 * up to --parallel child processes at once whose units are written through
 * w target by target in the order given (mp_writer_forward/replay), until
 * *stop (running children are sent SIGTERM). With --plot, each of the
 * first MP_RUN_PLOT_MAX targets gets a plot_csv file in a private
 * temporary folder, removed after plot() has drawn them. The exit status
 * is 0 when every run returned 0 and no line was bad, 1 otherwise, 2 when
 * no stream could be read or the plot failed. With --textfile, the file is
 * written at the end (mp_textfile_finish).
 */
int mp_targets_run(const struct mp_run_opts *r, struct mp_writer *w,
		   const struct mp_run_fns *fns);

#endif
