/* SPDX-License-Identifier: MIT */
/*
 * run: a tool's hosts from its command line, measured in turn or in child
 * processes at once; the multi-target plot; the textfile.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "args.h"
#include "mp.h"
#include "out.h"
#include "run.h"

static void warn_line(unsigned line, const char *why, void *ctx)
{
	mp_warnx("%s: line %u: %s", (const char *)ctx, line, why);
}

static int gather_stream(const char *name, const char *key, struct mp_targets *t)
{
	char label[256];
	FILE *f;
	int r;

	snprintf(label, sizeof(label), "%s", strcmp(name, "-") ? name : "stdin");
	f = strcmp(name, "-") ? fopen(name, "re") : stdin;
	if (!f) {
		r = -errno;
		mp_warn(-r, "targets %s", name);
		return r;
	}
	r = mp_targets_read(f, key, t, warn_line, label);
	if (f != stdin)
		fclose(f);
	if (r < 0 && r != -EINVAL)	/* -EINVAL: the header, said as line 1 */
		mp_warn(-r, "targets %s", label);
	return r;
}

static int gather(char *const *ops, int nops, const char *file, const char *key,
		  struct mp_targets *t)
{
	int r, bad = 0;

	for (int i = 0; i < nops; i++) {
		r = strcmp(ops[i], "-") ? mp_targets_add(t, ops[i], 0) :
					  gather_stream("-", key, t);
		if (r < 0)
			return r;
		bad += r;
	}
	if (file) {
		r = gather_stream(file, key, t);
		if (r < 0)
			return r;
		bad += r;
	}
	if (t->n == 0) {
		mp_warnx("no targets read");
		bad++;
	}
	return bad;
}

int mp_run_opt(struct mp_run_opts *r, int c, const char *arg)
{
	switch (c) {
	case MP_OPT_TARGETS: r->targets_file = arg; return 0;
	case MP_OPT_TARGET_KEY: r->target_key = arg; return 0;
	case MP_OPT_TEXTFILE: r->textfile = arg; return 0;
	case MP_OPT_COLOR: return mp_opt_color(arg);
	case MP_OPT_PARALLEL: {
		uint64_t n;

		if (mp_parse_u64(arg, 1, MP_RUN_PARALLEL_MAX, &n) < 0) {
			mp_warnx("invalid number of targets at once '%s' (1 to %d)", arg,
				 MP_RUN_PARALLEL_MAX);
			return -EINVAL;
		}
		r->parallel = (unsigned)n;
		return 0;
	}
	case MP_OPT_JOB:
		r->job = arg;
		if (mp_textfile_job_valid(arg))
			return 0;
		mp_warnx("invalid job '%s' (letters, digits, '_', '.', ':', '-')", arg);
		return -EINVAL;
	default:
		return -EINVAL;
	}
}

/* A run's targets, with their children (--parallel) and plot files. */
struct run {
	const struct mp_run_fns *fns;
	struct mp_writer *w;
	struct mp_run_target *t;
	size_t n;
	char dir[64];			/* plot files; "" when none */
	char *plot_csv[MP_RUN_PLOT_MAX];	/* their paths */
	struct child {
		pid_t pid;		/* 0: not started or reaped */
		int fd;			/* its units (memfd); -1: none */
		int status;		/* its exit status, once reaped */
		bool done;
	} *c;
};

/* A target's exit status as a run's: 0 or 1 (2 is kept only for a lone HOST). */
static int run_one(struct run *run, size_t i)
{
	return mp_writer_set_label(run->w, "dst", run->t[i].host) < 0 ||
	       run->fns->one(&run->t[i], run->fns->ctx) != MP_EXIT_OK ? MP_EXIT_FAIL : MP_EXIT_OK;
}

/* The child for target i: one(), its units over a memfd. */
static int child_start(struct run *run, size_t i)
{
	struct child *c = &run->c[i];
	pid_t parent = getpid();
	int st;

	c->fd = memfd_create("meshperf-target", MFD_CLOEXEC);
	if (c->fd < 0)
		return -errno;
	fflush(NULL);	/* nothing buffered is written twice */
	c->pid = fork();
	if (c->pid < 0) {
		c->pid = 0;
		return -errno;
	}
	if (c->pid > 0)
		return 0;
	/* the child dies with the tool, and writes nothing itself */
	if (prctl(PR_SET_PDEATHSIG, SIGTERM) < 0 || getppid() != parent)
		_exit(MP_EXIT_FAIL);
	st = mp_writer_forward(run->w, c->fd) < 0 ? MP_EXIT_FAIL : run_one(run, i);
	if (mp_writer_close(run->w) < 0)
		st = MP_EXIT_FAIL;
	fflush(NULL);
	_exit(st);
}

/* Waits for a child; 0, or -EINTR (a signal: check stop), or -errno. */
static int child_reap(struct run *run)
{
	int ws;
	pid_t pid = waitpid(-1, &ws, 0);

	if (pid < 0)
		return -errno;
	for (size_t i = 0; i < run->n; i++) {
		struct child *c = &run->c[i];

		if (c->pid != pid)
			continue;
		c->pid = 0;
		c->done = true;
		c->status = WIFEXITED(ws) && WEXITSTATUS(ws) == MP_EXIT_OK ? MP_EXIT_OK :
									  MP_EXIT_FAIL;
		if (!WIFEXITED(ws))
			mp_warnx("%s: measuring process killed by signal %d", run->t[i].host,
				 WTERMSIG(ws));
	}
	return 0;
}

/* Targets in up to --parallel children; their units written in order. */
static int run_parallel(struct run *run, unsigned max)
{
	size_t next = 0, shown = 0;
	unsigned running = 0;
	bool killed = false;
	int ret = MP_EXIT_OK, r;

	run->c = calloc(run->n, sizeof(*run->c));
	if (!run->c)
		return -ENOMEM;
	for (size_t i = 0; i < run->n; i++)
		run->c[i].fd = -1;
	while (shown < run->n) {
		while (running < max && next < run->n && !*run->fns->stop) {
			r = child_start(run, next);
			if (r < 0) {
				mp_warn(-r, "%s: cannot start its measurement", run->t[next].host);
				run->c[next].done = true;
				run->c[next].status = MP_EXIT_FAIL;
			} else {
				running++;
			}
			next++;
		}
		for (; shown < next && run->c[shown].done; shown++) {
			struct child *c = &run->c[shown];

			if (c->fd >= 0 && (r = mp_writer_replay(run->w, c->fd)) < 0) {
				mp_warn(-r, "%s: its output", run->t[shown].host);
				c->status = MP_EXIT_FAIL;
			}
			if (c->fd >= 0)
				close(c->fd);	/* at most --parallel stay open */
			c->fd = -1;
			if (c->status != MP_EXIT_OK)
				ret = MP_EXIT_FAIL;
		}
		if (!running) {
			if (shown == next && (next == run->n || *run->fns->stop))
				break;
			continue;
		}
		r = child_reap(run);
		if (r == 0) {
			running--;
		} else if (r != -EINTR) {
			mp_warn(-r, "waiting for the measurements");
			return r;
		}
		if (*run->fns->stop && !killed) {
			for (size_t i = 0; i < run->n; i++)
				if (run->c[i].pid > 0)
					kill(run->c[i].pid, SIGTERM);
			killed = true;
		}
	}
	return ret;
}

/* Plot files for the first MP_RUN_PLOT_MAX targets, in a private folder. */
static int plot_files(struct run *run)
{
	const char *tmp = secure_getenv("TMPDIR");
	char path[sizeof(run->dir) + 16];

	if (!tmp || !*tmp || strlen(tmp) > sizeof(run->dir) - 24)
		tmp = "/tmp";
	snprintf(run->dir, sizeof(run->dir), "%s/meshperf-run-XXXXXX", tmp);
	if (!mkdtemp(run->dir)) {
		run->dir[0] = '\0';
		return -errno;
	}
	for (size_t i = 0; i < run->n && i < MP_RUN_PLOT_MAX; i++) {
		snprintf(path, sizeof(path), "%s/%zu.csv", run->dir, i);
		if (!(run->plot_csv[i] = strdup(path)))
			return -ENOMEM;
		run->t[i].plot_csv = run->plot_csv[i];
	}
	return 0;
}

/* The plot of the targets that wrote their file; the files removed. */
static int plot_done(struct run *run, const char *png, int ret)
{
	struct mp_run_target t[MP_RUN_PLOT_MAX];
	size_t n = 0;

	for (size_t i = 0; i < run->n && i < MP_RUN_PLOT_MAX; i++) {
		struct stat st;

		/* a target that wrote no rows (it failed) is left out */
		if (run->t[i].plot_csv && stat(run->t[i].plot_csv, &st) == 0 && st.st_size)
			t[n++] = run->t[i];
	}
	if (run->n > MP_RUN_PLOT_MAX)
		mp_warnx("plot %s: the first %d of %zu targets drawn", png, MP_RUN_PLOT_MAX,
			 run->n);
	if (n == 0)
		mp_warnx("plot %s: no target to draw", png);
	if (n == 0 || run->fns->plot(t, n, png, run->fns->ctx) < 0)
		ret = MP_EXIT_USAGE;
	return ret;
}

static int targets_run(const struct mp_run_opts *o, struct mp_writer *w,
		       const struct mp_run_fns *fns)
{
	struct mp_targets t = { 0 };
	struct run run = { .fns = fns, .w = w };
	int r, ret;

	if (!mp_run_multi(o))
		return fns->one(&(struct mp_run_target){ .host = o->ops[0] }, fns->ctx);
	r = gather(o->ops, o->nops, o->targets_file, o->target_key, &t);
	if (r < 0 || mp_writer_set_multi(w, "targets") < 0) {
		mp_targets_free(&t);
		return MP_EXIT_USAGE;
	}
	ret = r > 0 ? MP_EXIT_FAIL : MP_EXIT_OK;
	run.n = t.n;
	run.t = calloc(t.n ? t.n : 1, sizeof(*run.t));
	if (!run.t) {
		mp_targets_free(&t);
		return MP_EXIT_USAGE;
	}
	for (size_t i = 0; i < t.n; i++)
		run.t[i] = (struct mp_run_target){ .host = t.v[i].host, .idx = i };
	if (o->plot && fns->plot && (r = plot_files(&run)) < 0) {
		mp_warn(-r, "plot %s", o->plot);
		ret = MP_EXIT_USAGE;
	} else if (o->parallel > 1) {
		r = run_parallel(&run, o->parallel);
		ret = r < 0 ? MP_EXIT_USAGE : r > ret ? r : ret;
	} else {
		for (size_t i = 0; i < t.n && !*fns->stop; i++)
			ret = run_one(&run, i) > ret ? MP_EXIT_FAIL : ret;
	}
	mp_writer_set_label(w, "dst", NULL);
	if (run.dir[0] && ret != MP_EXIT_USAGE)
		ret = plot_done(&run, o->plot, ret);
	for (size_t i = 0; i < MP_RUN_PLOT_MAX; i++) {
		if (run.plot_csv[i])
			unlink(run.plot_csv[i]);
		free(run.plot_csv[i]);
	}
	for (size_t i = 0; run.c && i < t.n; i++)
		if (run.c[i].fd >= 0)
			close(run.c[i].fd);
	if (run.dir[0])
		rmdir(run.dir);
	free(run.c);
	free(run.t);
	mp_targets_free(&t);
	return ret;
}

int mp_targets_run(const struct mp_run_opts *o, struct mp_writer *w,
		   const struct mp_run_fns *fns)
{
	if (o->textfile)
		mp_writer_keep_prom(w);
	return mp_textfile_finish(w, o->textfile, o->job, targets_run(o, w, fns));
}
