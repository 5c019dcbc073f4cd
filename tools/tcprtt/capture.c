/* SPDX-License-Identifier: MIT */
/*
 * tcprtt's capture loop: packets from lib/cap into lib/prtt, interval
 * records, the flows kept for the summary. Prints nothing.
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "sock.h"
#include "tcprtt.h"

volatile sig_atomic_t tr_stop;

struct run {
	const struct tr_opts *o;
	const struct tr_sink *sink;
	struct tr_result *res;
	size_t cap;			/* of res->flows */
	uint64_t iv_start_ns;		/* the interval begun (0: none yet) */
	uint64_t iv_len_ns;		/* the one being reported */
	struct mp_prtt *p;
};

static void on_sample(void *ctx, const struct mp_prtt_flow_info *f, const struct mp_prtt_sample *s)
{
	struct run *run = ctx;

	if (run->sink->sample)
		run->sink->sample(run->sink->ctx, f, s);
}

/* A flow that ended is kept for the summary, up to twice the table's
 * size: the memory stays bounded under a SYN flood (the rest are counted). */
static void keep_flow(struct run *run, const struct mp_prtt_flow_info *f, bool active)
{
	struct tr_result *res = run->res;

	if (!active && res->nflows >= 2 * (size_t)run->o->prtt.max_flows) {
		res->flows_unkept++;
		return;
	}
	if (res->nflows == run->cap) {
		size_t n = run->cap ? run->cap * 2 : 64;
		void *m = realloc(res->flows, n * sizeof(*res->flows));

		if (!m) {
			res->flows_unkept++;
			return;
		}
		res->flows = m;
		run->cap = n;
	}
	res->flows[res->nflows++] = *f;
}

static void interval_flow(void *ctx, const struct mp_prtt_flow_info *f)
{
	struct run *run = ctx;
	struct tr_interval iv = { .start_ns = run->iv_start_ns, .len_ns = run->iv_len_ns,
				  .first_ns = run->res->first_ns, .f = f };

	run->sink->interval(run->sink->ctx, &iv);
}

static void on_end(void *ctx, const struct mp_prtt_flow_info *f, enum mp_prtt_end why)
{
	struct run *run = ctx;

	(void)why;
	/* its part of the interval begun, up to its last packet */
	if (run->iv_start_ns && run->sink->interval && (f->ivl[0].packets || f->ivl[1].packets)) {
		run->iv_len_ns = f->last_ns > run->iv_start_ns ? f->last_ns - run->iv_start_ns : 0;
		interval_flow(run, f);
	}
	keep_flow(run, f, false);
}

static void keep_active(void *ctx, const struct mp_prtt_flow_info *f)
{
	keep_flow(ctx, f, true);	/* the table's cap bounds these */
}

/* Reports the interval begun, len_ns long: a record per flow active. */
static void interval_emit(struct run *run, uint64_t len_ns)
{
	run->iv_len_ns = len_ns;
	mp_prtt_interval(run->p, interval_flow, run);
	run->iv_start_ns += len_ns;
}

/* Ends the intervals that finished by packet time now_ns; last: the
 * capture ended at now_ns, and the interval begun is reported too. */
static void interval_tick(struct run *run, uint64_t now_ns, bool last)
{
	if (!run->o->report_ns || !run->sink->interval)
		return;
	if (!run->iv_start_ns) {
		/* the first interval begins with the first packet: begun at a
		 * quiet tick before it, its start_s would come out negative */
		if (run->res->first_ns)
			run->iv_start_ns = run->res->first_ns;
		return;
	}
	while (now_ns >= run->iv_start_ns + run->o->report_ns)
		interval_emit(run, run->o->report_ns);
	if (last && now_ns > run->iv_start_ns)
		interval_emit(run, now_ns - run->iv_start_ns);
}

static int by_bytes(const void *a, const void *b)
{
	const struct mp_prtt_flow_info *x = a, *y = b;
	uint64_t bx = x->dir[0].bytes + x->dir[1].bytes, by = y->dir[0].bytes + y->dir[1].bytes;

	return bx < by ? 1 : bx > by ? -1 : 0;
}

static int loop(struct run *run, struct mp_cap *cap)
{
	const struct tr_opts *o = run->o;
	uint64_t start = mp_clock_mono_ns(), n = 0;
	int lt = mp_cap_linktype(cap), r;
	struct mp_cap_pkt pk;

	while (!tr_stop) {
		if (o->duration_ns && mp_clock_mono_ns() - start >= o->duration_ns)
			break;
		if (o->count && n >= o->count)
			break;
		r = mp_cap_next(cap, &pk);
		if (r == -ENODATA)
			break;
		/* a file cut short (its writer killed mid-record): what was
		 * read before the cut is still measured */
		if (r == -EIO && !run->res->live) {
			mp_warnx("reading %s: %s; the figures cover the %" PRIu64
				 " packets before it", run->res->source, mp_cap_error(cap), n);
			break;
		}
		if (r < 0)
			return r;
		if (r == 0) {
			struct pollfd pfd = { .fd = mp_cap_fd(cap), .events = POLLIN };

			/* a quiet link: intervals and -t still end on time */
			interval_tick(run, mp_clock_real_ns(), false);
			if (poll(&pfd, 1, 50) < 0 && errno != EINTR)
				return -errno;
			continue;
		}
		n++;
		if (!run->res->first_ns)
			run->res->first_ns = pk.t_ns;
		run->res->last_ns = pk.t_ns;
		interval_tick(run, pk.t_ns, false);
		mp_prtt_add(run->p, pk.t_ns, lt, pk.data, pk.caplen);
	}
	run->res->interrupted = tr_stop;
	run->res->elapsed_ns = mp_clock_mono_ns() - start;
	return 0;
}

int tr_run(const struct tr_opts *o, struct tr_result *res, const struct tr_sink *sink)
{
	struct mp_cap_opts co = { .ifname = o->ifname, .file = o->file, .filter = o->filter,
				  .snaplen = (uint32_t)o->snaplen,
				  .buf_bytes = (uint32_t)o->buf_bytes };
	struct run run = { .o = o, .sink = sink, .res = res };
	struct mp_prtt_cb cb = { .sample = on_sample, .end = on_end, .ctx = &run };
	struct mp_cap *cap = NULL;
	char err[512];
	int r;

	res->source = o->ifname ? o->ifname : o->file;
	res->live = o->ifname != NULL;
	/* only a live capture needs privilege: a file is read as the caller */
	if (!res->live && (r = mp_sock_privileges_drop()) < 0) {
		mp_warn(-r, "dropping privileges");
		return r;
	}
	r = mp_cap_open(&cap, &co, err, sizeof(err));
	if (r < 0) {
		mp_warnx("%s %s: %s", o->ifname ? "capture on" : "reading", res->source,
			 err[0] ? err : strerror(-r));
		return r;
	}
	r = mp_sock_privileges_drop();
	if (r < 0) {
		mp_warn(-r, "dropping privileges");
		goto out;
	}
	r = mp_prtt_new(&run.p, &o->prtt, &cb);
	if (r < 0) {
		mp_warn(-r, "flow table of %u flows", o->prtt.max_flows);
		goto out;
	}
	r = loop(&run, cap);
	if (r < 0) {
		mp_warn(-r, "reading %s", res->source);
		goto out;
	}
	if (res->last_ns && run.iv_start_ns)
		interval_tick(&run, res->last_ns, true);
	mp_prtt_counters(run.p, &res->c);
	mp_prtt_flows(run.p, keep_active, &run);
	qsort(res->flows, res->nflows, sizeof(*res->flows), by_bytes);
	res->have_drops = mp_cap_drops(cap, &res->kernel_drops, &res->if_drops) == 0;
out:
	mp_prtt_free(run.p);
	mp_cap_close(cap);
	return r;
}

void tr_result_done(struct tr_result *res)
{
	free(res->flows);
	res->flows = NULL;
}
