/* SPDX-License-Identifier: MIT */
/*
 * owd's text for fixed results (tests/golden/run.sh): 100 probes a second
 * apart, RTT about 20 ms, the reflector's clock 1.25 ms ahead, three
 * probes lost on the way out, two replies on the way back, the last probe
 * unanswered (direction unknown); and a run without replies. The samples
 * go through lib/stats as probe.c's accounting does, the packets and
 * intervals through the printer's sink, the summary through
 * owd_printer_finish(): the tool's own rendering.
 */
#include <stdlib.h>

#include "owd.h"
#include "golden.h"

enum {
	PROBES = 100,
	REPORT_EVERY = 10,		/* probes per --interval-report period */
};

#define T0_NS (1700000000ULL * MP_NSEC_PER_SEC)	/* first probe, CLOCK_REALTIME */
#define OFFSET_NS 1250000LL			/* reflector's clock - ours */
#define TURN_NS 50000ULL			/* reflector's T3 - T2 */

static bool lost_fwd(uint32_t seq)
{
	return seq == 17 || seq == 53 || seq == 88;
}

static bool lost_rev(uint32_t seq)
{
	return seq == 31 || seq == 72;
}

/* Path delay of probe seq in one direction: 9.8 ms and a fixed wobble
 * of up to 0.9 ms (a small LCG: the same every run). */
static int64_t path_ns(uint32_t seq, uint32_t dir)
{
	uint32_t x = (seq * 2 + dir + 1) * 1103515245U + 12345U;

	return 9800000 + (int64_t)((x >> 8) % 900) * 1000;
}

struct acc {
	struct mp_stats *fwd, *rev, *rtt;	/* the run */
	struct mp_stats *ifwd, *irev, *irtt;	/* the interval */
	struct mp_ipdv *fwd_ipdv, *rev_ipdv;
};

static void acc_free(struct acc *a)
{
	mp_stats_free(a->fwd);
	mp_stats_free(a->rev);
	mp_stats_free(a->rtt);
	mp_stats_free(a->ifwd);
	mp_stats_free(a->irev);
	mp_stats_free(a->irtt);
	mp_ipdv_free(a->fwd_ipdv);
	mp_ipdv_free(a->rev_ipdv);
}

static int acc_new(struct acc *a)
{
	struct mp_stats **s[] = { &a->fwd, &a->rev, &a->rtt, &a->ifwd, &a->irev, &a->irtt };
	int r = 0;

	for (size_t i = 0; i < MP_ARRAY_SIZE(s) && r == 0; i++)
		r = mp_stats_new(s[i], 1024);
	if (r == 0)
		r = mp_ipdv_new(&a->fwd_ipdv, 1024, 0);
	if (r == 0)
		r = mp_ipdv_new(&a->rev_ipdv, 1024, 0);
	return r;
}

/* One answered probe, accounted as probe.c's finalize() does. */
static void answered(struct acc *a, struct owd_result *res, uint32_t seq,
		     const struct owd_sink *sink, uint64_t *best_rtt)
{
	struct owd_packet p = { .seq = seq, .refl_seq = seq - (seq > 17) - (seq > 53) -
				(seq > 88), .t1_ns = T0_NS + seq * MP_NSEC_PER_SEC };
	int64_t off;

	p.t2_ns = p.t1_ns + (uint64_t)(path_ns(seq, 0) + OFFSET_NS);
	p.t3_ns = p.t2_ns + TURN_NS;
	p.t4_ns = p.t3_ns + (uint64_t)(path_ns(seq, 1) - OFFSET_NS);
	p.fwd_ns = (int64_t)(p.t2_ns - p.t1_ns);
	p.rev_ns = (int64_t)(p.t4_ns - p.t3_ns);
	p.rtt_ns = (int64_t)((p.t4_ns - p.t1_ns) - (p.t3_ns - p.t2_ns));
	res->received++;
	mp_stats_add(a->fwd, p.fwd_ns);
	mp_stats_add(a->rev, p.rev_ns);
	mp_stats_add(a->rtt, p.rtt_ns);
	mp_stats_add(a->ifwd, p.fwd_ns);
	mp_stats_add(a->irev, p.rev_ns);
	mp_stats_add(a->irtt, p.rtt_ns);
	mp_ipdv_add(a->fwd_ipdv, p.seq, p.fwd_ns);
	mp_ipdv_add(a->rev_ipdv, p.seq, p.rev_ns);
	off = (p.fwd_ns - p.rev_ns) / 2;
	if (res->received == 1 || off < res->offset_min_ns)
		res->offset_min_ns = off;
	if (res->received == 1 || off > res->offset_max_ns)
		res->offset_max_ns = off;
	if (res->received == 1 || (uint64_t)p.rtt_ns < *best_rtt) {
		*best_rtt = (uint64_t)p.rtt_ns;
		res->offset_ns = off;
		res->offset_err_ns = (uint64_t)p.rtt_ns / 2;
	}
	if (sink->packet)
		sink->packet(sink->ctx, &p);
}

/* The cumulative losses once probes [0, end) are settled. */
static void losses(struct owd_result *res, uint32_t end)
{
	res->fwd.lost = res->rev.lost = 0;
	for (uint32_t seq = 0; seq < end && seq < PROBES - 1; seq++) {
		res->fwd.lost += lost_fwd(seq);
		res->rev.lost += lost_rev(seq);
	}
}

static void interval(struct acc *a, struct owd_result *res, uint32_t end,
		     const struct owd_sink *sink)
{
	struct owd_interval iv = {
		.start_ns = (uint64_t)(end - REPORT_EVERY) * MP_NSEC_PER_SEC,
		.len_ns = REPORT_EVERY * MP_NSEC_PER_SEC,
		.sent = REPORT_EVERY,
		.received = mp_stats_count(a->ifwd),
	};

	mp_stats_summary_get(a->ifwd, &iv.fwd);
	mp_stats_summary_get(a->irev, &iv.rev);
	mp_stats_summary_get(a->irtt, &iv.rtt);
	losses(res, end);
	iv.fwd_lost = res->fwd.lost;
	iv.rev_lost = res->rev.lost;
	if (sink->interval)
		sink->interval(sink->ctx, &iv);
	mp_stats_reset(a->ifwd);
	mp_stats_reset(a->irev);
	mp_stats_reset(a->irtt);
}

static void result_init(struct owd_result *res, uint64_t sent)
{
	*res = (struct owd_result){
		.peer = "192.0.2.10:862",
		.addr = "192.0.2.10",
		.start_real_ns = T0_NS,
		.sent = sent,
		.timeout_ns = MP_NSEC_PER_SEC,
		.local_sync_ok = true,
		.local_synced = true,
		.local_est_error_ns = 500000,
		.local_max_error_ns = 2000000,
		.refl_synced = true,
		.refl_error_ns = 1000000,
	};
}

/* 100 probes; the last is unanswered (its direction cannot be told). */
static int run(struct mp_writer *w, const struct owd_opts *o)
{
	struct owd_printer *p = NULL;
	struct owd_result res;
	struct owd_sink sink;
	struct acc a = { 0 };
	uint64_t best_rtt = 0;
	int r;

	result_init(&res, PROBES);
	r = acc_new(&a);
	if (r == 0)
		r = owd_printer_new(&p, o, w, NULL);
	if (r < 0)
		goto out;
	owd_printer_sink(p, &sink);
	for (uint32_t seq = 0; seq < PROBES; seq++) {
		if (!lost_fwd(seq) && !lost_rev(seq) && seq != PROBES - 1)
			answered(&a, &res, seq, &sink, &best_rtt);
		if ((seq + 1) % REPORT_EVERY == 0)
			interval(&a, &res, seq + 1, &sink);
	}
	res.elapsed_ns = (PROBES - 1) * MP_NSEC_PER_SEC + res.timeout_ns;
	res.lost = res.sent - res.received;
	losses(&res, PROBES);
	res.lost_unknown = res.lost - res.fwd.lost - res.rev.lost;
	res.have_delay = mp_stats_summary_get(a.fwd, &res.fwd_s) == 0 &&
			 mp_stats_summary_get(a.rev, &res.rev_s) == 0 &&
			 mp_stats_summary_get(a.rtt, &res.rtt_s) == 0;
	res.have_fwd_ipdv = mp_ipdv_summary_get(a.fwd_ipdv, &res.fwd_ipdv) == 0;
	res.have_rev_ipdv = mp_ipdv_summary_get(a.rev_ipdv, &res.rev_ipdv) == 0;
	res.suspect = (uint64_t)llabs(res.offset_ns) > res.offset_err_ns;
	r = owd_printer_finish(p, &res);
out:
	owd_printer_free(p);
	acc_free(&a);
	return r;
}

static int c_default(struct mp_writer *w, bool flag)
{
	struct owd_opts o = OWD_OPTS_INIT;

	(void)flag;
	o.target = "192.0.2.10";
	o.count = PROBES;
	return run(w, &o);
}

/* --interval-report 10s; -v: the packet lines too */
static int c_report(struct mp_writer *w, bool verbose)
{
	struct owd_opts o = OWD_OPTS_INIT;

	o.target = "192.0.2.10";
	o.count = PROBES;
	o.report_ns = REPORT_EVERY * MP_NSEC_PER_SEC;
	o.verbose = verbose;
	return run(w, &o);
}

static int c_quiet(struct mp_writer *w, bool flag)
{
	struct owd_opts o = OWD_OPTS_INIT;

	(void)flag;
	o.target = "192.0.2.10";
	o.count = PROBES;
	o.quiet = true;
	return run(w, &o);
}

/* 10 probes, no reply: nobody listens on the port */
static int c_noreply(struct mp_writer *w, bool flag)
{
	struct owd_opts o = OWD_OPTS_INIT;
	struct owd_printer *p = NULL;
	struct owd_result res;
	int r;

	(void)flag;
	o.target = "192.0.2.10";
	result_init(&res, 10);
	res.elapsed_ns = 10 * MP_NSEC_PER_SEC;
	res.lost = res.lost_unknown = 10;
	res.icmp_errors = 10;
	res.icmp_last_errno = ECONNREFUSED;
	r = owd_printer_new(&p, &o, w, NULL);
	if (r == 0)
		r = owd_printer_finish(p, &res);
	owd_printer_free(p);
	return r;
}

static const struct golden_case cases[] = {
	{ "default", NULL, c_default },
	{ "report", "-v", c_report },
	{ "quiet", NULL, c_quiet },
	{ "noreply", NULL, c_noreply },
};

int main(int argc, char **argv)
{
	return golden_main(argc, argv, cases, MP_ARRAY_SIZE(cases), "owd", "owd/2");
}
