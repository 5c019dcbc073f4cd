/* SPDX-License-Identifier: MIT */
/* run: a tool's hosts from its command line, measured in turn; its textfile. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

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

static int targets_run(const struct mp_run_opts *o, struct mp_writer *w,
		       int (*fn)(const char *host, void *ctx), void *ctx,
		       const volatile sig_atomic_t *stop)
{
	struct mp_targets t = { 0 };
	int r, ret;

	if (!mp_run_multi(o))
		return fn(o->ops[0], ctx);
	r = gather(o->ops, o->nops, o->targets_file, o->target_key, &t);
	if (r < 0 || mp_writer_set_multi(w, "targets") < 0) {
		mp_targets_free(&t);
		return MP_EXIT_USAGE;
	}
	ret = r > 0 ? MP_EXIT_FAIL : MP_EXIT_OK;
	for (size_t i = 0; i < t.n && !*stop; i++) {
		if (mp_writer_set_label(w, "dst", t.v[i].host) < 0 ||
		    fn(t.v[i].host, ctx) != MP_EXIT_OK)
			ret = MP_EXIT_FAIL;
	}
	mp_writer_set_label(w, "dst", NULL);
	mp_targets_free(&t);
	return ret;
}

int mp_targets_run(const struct mp_run_opts *o, struct mp_writer *w,
		   int (*fn)(const char *host, void *ctx), void *ctx,
		   const volatile sig_atomic_t *stop)
{
	if (o->textfile)
		mp_writer_keep_prom(w);
	return mp_textfile_finish(w, o->textfile, o->job, targets_run(o, w, fn, ctx, stop));
}
