/* SPDX-License-Identifier: MIT */
/*
 * bwtest: rendering through lib/out (docs/FORMATS.md, "bwtest"), and the
 * --plot of rate and loss over time.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "bwtest.h"
#include "plot.h"
#include "run.h"

static double pct(uint64_t part, uint64_t whole)
{
	return whole ? 100.0 * (double)part / (double)whole : NAN;
}

static double per_s(double v, uint64_t ns)
{
	return ns ? v * 1e9 / (double)ns : NAN;
}

/* "lost/expected (pct%)", iperf3's way. */
static const char *lost_text(char *buf, size_t len, uint64_t lost, uint64_t expected)
{
	snprintf(buf, len, "%" PRIu64 "/%" PRIu64 " (%.2g%%)", lost, expected,
		 expected ? 100.0 * (double)lost / (double)expected : 0.0);
	return buf;
}

/* An interval line for people (iperf3's are the model): scaled units. */
static void text_interval(struct mp_writer *w, uint8_t dir, const struct bw_interval *iv,
			  double rate)
{
	char b[64];

	mp_writer_audience(w, MP_FOR_TEXT);
	mp_put_str(w, "dir", "%s", dir == BW_FWD ? "fwd" : "rev");
	snprintf(b, sizeof(b), "%.2f-%.2f s", (double)iv->start_ns / 1e9, (double)iv->end_ns / 1e9);
	mp_put_str(w, "interval", "%s", b);
	mp_put_str(w, "rate", "%s", mp_fmt_bps(b, sizeof(b), rate));
	mp_put_str(w, "jitter", "%s", mp_fmt_ns(b, sizeof(b), (double)iv->jitter_ns));
	mp_writer_alert(w, iv->lost);
	mp_put_str(w, "lost/total", "%s", lost_text(b, sizeof(b), iv->lost,
						     iv->received + iv->lost));
	mp_writer_alert(w, false);
	mp_put_u64(w, "dup", "%" PRIu64, iv->duplicates);
	mp_put_u64(w, "reord", "%" PRIu64, iv->reordered);
	mp_put_u64(w, "late", "%" PRIu64, iv->late);
}

int bw_print_interval(void *ctx, uint8_t dir, uint64_t sent, const struct bw_interval *iv)
{
	struct bw_print *p = ctx;
	struct mp_writer *w = p->w;
	uint64_t span = iv->end_ns > iv->start_ns ? iv->end_ns - iv->start_ns : 0;
	double rate = per_s((double)iv->bytes * 8, span);
	double loss = pct(iv->lost, iv->received + iv->lost);
	struct bw_point *pt;
	int r;

	if (p->n_points == p->cap_points) {
		size_t cap = p->cap_points ? 2 * p->cap_points : 64;

		pt = realloc(p->points, cap * sizeof(*pt));
		if (!pt)
			return -ENOMEM;
		p->points = pt;
		p->cap_points = cap;
	}
	p->points[p->n_points++] = (struct bw_point){
		.dir = dir, .end_s = (double)iv->end_ns / 1e9, .rate_bps = rate, .loss_pct = loss,
	};
	if (p->quiet)
		return 0;
	mp_record_begin(w, "interval");
	text_interval(w, dir, iv, rate);
	mp_writer_audience(w, MP_FOR_MACHINES);
	mp_put_str(w, "direction", "%s", dir == BW_FWD ? "forward" : "reverse");
	mp_put_f64(w, "start_s", "%.2f", (double)iv->start_ns / 1e9);
	mp_put_f64(w, "end_s", "%.2f", (double)iv->end_ns / 1e9);
	if (sent != UINT64_MAX)
		mp_put_u64(w, "sent", "%" PRIu64, sent);
	else
		mp_put_f64(w, "sent", "%.0f", NAN);	/* known to the server only */
	mp_put_u64(w, "received", "%" PRIu64, iv->received);
	mp_put_u64(w, "lost", "%" PRIu64, iv->lost);
	mp_put_f64(w, "loss_pct", "%.3f", loss);
	mp_put_u64(w, "duplicates", "%" PRIu64, iv->duplicates);
	mp_put_u64(w, "reordered", "%" PRIu64, iv->reordered);
	mp_put_u64(w, "late", "%" PRIu64, iv->late);
	mp_put_f64(w, "rate_bps", "%.0f", rate);
	mp_put_f64(w, "pps", "%.0f", per_s((double)iv->received, span));
	mp_put_f64(w, "jitter_ms", "%.3f", MP_NS_TO_MS(iv->jitter_ns));
	mp_writer_audience(w, MP_FOR_ALL);
	r = mp_record_end(w);
	return r;
}

static void put_dir(struct mp_writer *w, const char *key, const struct bw_dir_result *d,
		    const struct bw_result *res)
{
	const struct bw_rx_counts *c = &d->rx;
	uint64_t ns = res->duration_ns;

	mp_obj_begin(w, key, NULL);
	mp_put_u64(w, "sent", "sent %" PRIu64, d->sent);
	mp_put_u64(w, "expected", "expected %" PRIu64, c->expected);
	mp_put_u64(w, "received", "received %" PRIu64, c->received);
	mp_put_u64(w, "lost", "lost %" PRIu64, c->lost);
	mp_put_f64(w, "loss_pct", "(%.3f %%)", pct(c->lost, c->expected));
	mp_put_u64(w, "duplicates", "duplicates %" PRIu64, c->duplicates);
	mp_put_u64(w, "reordered", "reordered %" PRIu64, c->reordered);
	mp_put_u64(w, "late", "late %" PRIu64, c->late);
	mp_put_bool(w, "reconciled", "reconciled %s",
		    c->expected == d->sent && c->received + c->lost == c->expected);
	mp_put_f64(w, "rate_bps", "goodput %.0f bit/s", per_s((double)c->bytes * 8, ns));
	mp_put_f64(w, "pps", "%.0f pps", per_s((double)c->received, ns));
	mp_put_f64(w, "sent_pps", "sent %.0f pps", per_s((double)d->sent, ns));
	mp_put_f64(w, "jitter_ms", "jitter %.3f ms", c->received > 1 ?
		   MP_NS_TO_MS(c->jitter_ns) : NAN);
	mp_put_u64(w, "loss_bursts", "loss bursts %" PRIu64, c->loss_bursts);
	mp_put_u64(w, "max_loss_burst", "longest %" PRIu64, c->max_loss_burst);
	mp_arr_begin(w, "loss_burst_hist", "loss bursts of length 1..9, >=10");
	for (unsigned i = 0; i < BW_BURST_BUCKETS; i++)
		mp_put_u64(w, NULL, "%" PRIu64, c->burst_hist[i]);
	mp_arr_end(w);
	mp_obj_begin(w, "owd_raw_ms", "one-way delay, raw (includes clock offset)");
	if (c->owd_count) {
		mp_put_f64(w, "min", "min %.3f", MP_NS_TO_MS(c->owd_min_ns));
		mp_put_f64(w, "mean", "mean %.3f", MP_NS_TO_MS(c->owd_mean_ns));
		mp_put_f64(w, "median", "median %.3f", MP_NS_TO_MS(c->owd_p50_ns));
		mp_put_f64(w, "p99", "p99 %.3f", MP_NS_TO_MS(c->owd_p99_ns));
		mp_put_f64(w, "max", "max %.3f ms", MP_NS_TO_MS(c->owd_max_ns));
	} else {
		mp_put_f64(w, "min", "min %.3f", NAN);
		mp_put_f64(w, "mean", "mean %.3f", NAN);
		mp_put_f64(w, "median", "median %.3f", NAN);
		mp_put_f64(w, "p99", "p99 %.3f", NAN);
		mp_put_f64(w, "max", "max %.3f ms", NAN);
	}
	mp_obj_end(w);
	mp_put_u64(w, "dropped", "dropped (bad token/size) %" PRIu64, c->dropped);
	mp_put_u64(w, "send_errors", "send errors %" PRIu64, d->tx_errors);
	mp_obj_end(w);
}

/* One direction's row of the summary table. */
static void text_dir(struct mp_writer *w, const char *name, const struct bw_dir_result *d,
		     uint64_t ns)
{
	const struct bw_rx_counts *c = &d->rx;
	char b[64];

	mp_obj_begin(w, NULL, NULL);
	mp_put_str(w, "", "%s", name);
	mp_put_u64(w, "sent", "%" PRIu64, d->sent);
	mp_put_u64(w, "received", "%" PRIu64, c->received);
	mp_writer_alert(w, c->lost);
	mp_put_str(w, "lost/total", "%s", lost_text(b, sizeof(b), c->lost, c->expected));
	mp_writer_alert(w, false);
	mp_put_str(w, "rate", "%s", mp_fmt_bps(b, sizeof(b), per_s((double)c->bytes * 8, ns)));
	mp_put_str(w, "packets", "%s", mp_fmt_pps(b, sizeof(b), per_s((double)c->received, ns)));
	mp_put_str(w, "jitter", "%s", c->received > 1 ? mp_fmt_ns(b, sizeof(b),
								   (double)c->jitter_ns) : "-");
	mp_put_u64(w, "dup", "%" PRIu64, c->duplicates);
	mp_put_u64(w, "reord", "%" PRIu64, c->reordered);
	mp_put_u64(w, "late", "%" PRIu64, c->late);
	mp_obj_end(w);
}

/* The summary for people: the test as granted, a row per direction. */
static void text_result(struct mp_writer *w, const struct bw_result *res)
{
	const struct bw_params *g = &res->granted;
	char b[64], d[MP_FMT_LEN];

	snprintf(b, sizeof(b), "%s, %u stream%s", g->dirs == (BW_FWD | BW_REV) ? "bidir" :
		 g->dirs == BW_REV ? "reverse" : "forward", (unsigned)g->streams,
		 g->streams == 1 ? "" : "s");
	mp_put_str(w, "mode", "%s", b);
	mp_put_u64(w, "payload", "%" PRIu64 "-byte payload", g->payload_bytes);
	mp_put_str(w, "granted", "at %s", g->pps ? mp_fmt_pps(b, sizeof(b), (double)g->pps) :
					mp_fmt_bps(b, sizeof(b), (double)g->rate_bps));
	mp_put_str(w, "duration", "for %s", mp_fmt_ns(d, sizeof(d), (double)res->duration_ns));
	if (res->interrupted)
		mp_put_str(w, "interrupted", "%s", "interrupted");
	if (res->fwd.on || res->rev.on) {
		mp_arr_begin(w, "directions", "");
		if (res->fwd.on)
			text_dir(w, "forward", &res->fwd, res->duration_ns);
		if (res->rev.on)
			text_dir(w, "reverse", &res->rev, res->duration_ns);
		mp_arr_end(w);
	}
	if (res->find_max) {
		mp_obj_begin(w, "find_max", "find-max");
		mp_put_str(w, "max", "highest rate %s", mp_fmt_bps(b, sizeof(b),
								    (double)res->max_rate_bps));
		mp_put_str(w, "pps", "(%s)", mp_fmt_pps(b, sizeof(b), (double)res->max_pps));
		mp_put_f64(w, "loss", "with loss <= %g%%", res->find_max_pct);
		mp_put_u64(w, "trials", "%" PRIu64 " trials", res->n_trials);
		mp_obj_end(w);
	}
}

int bw_print_result(struct mp_writer *w, const struct bw_result *res)
{
	const struct bw_params *g = &res->granted;
	char title[300];

	snprintf(title, sizeof(title), "bwtest to %s (%s)", res->dst ? res->dst : res->addr,
		 res->addr);
	mp_doc_begin(w, title);
	mp_writer_audience(w, MP_FOR_TEXT);
	text_result(w, res);
	mp_writer_audience(w, MP_FOR_MACHINES);
	mp_put_label(w, "dst", "server %s", res->dst ? res->dst : res->addr);
	mp_put_str(w, "addr", "(%s)", res->addr);
	mp_put_str(w, "mode", "%s", g->dirs == (BW_FWD | BW_REV) ? "bidir" :
		   g->dirs == BW_REV ? "reverse" : "forward");
	mp_put_u64(w, "streams", "streams %" PRIu64, g->streams);
	mp_put_u64(w, "payload_bytes", "payload %" PRIu64 " bytes", g->payload_bytes);
	mp_put_u64(w, "granted_rate_bps", "granted %" PRIu64 " bit/s", g->rate_bps);
	mp_put_u64(w, "granted_pps", "%" PRIu64 " pps (0: from rate)", g->pps);
	mp_put_f64(w, "duration_ms", "duration %.1f ms", MP_NS_TO_MS(res->duration_ns));
	mp_put_bool(w, "interrupted", "interrupted %s", res->interrupted);
	if (res->fwd.on)
		put_dir(w, "forward", &res->fwd, res);
	if (res->rev.on)
		put_dir(w, "reverse", &res->rev, res);
	if (res->find_max) {
		mp_obj_begin(w, "find_max", "find-max");
		mp_put_f64(w, "loss_threshold_pct", "loss <= %.3f %%", res->find_max_pct);
		mp_put_u64(w, "max_rate_bps", "max %" PRIu64 " bit/s", res->max_rate_bps);
		mp_put_u64(w, "max_pps", "%" PRIu64 " pps", res->max_pps);
		mp_arr_begin(w, "trials", "trials");
		for (unsigned i = 0; i < res->n_trials; i++) {
			const struct bw_trial *t = &res->trials[i];

			mp_obj_begin(w, NULL, NULL);
			mp_put_u64(w, "rate_bps", "%" PRIu64, t->rate_bps);
			mp_put_u64(w, "pps", "%" PRIu64, t->pps);
			mp_put_f64(w, "loss_pct", "%.4f", t->loss_pct);
			mp_put_u64(w, "sent_pps", "%" PRIu64, t->sent_pps);
			mp_put_u64(w, "rx_pps", "%" PRIu64, t->rx_pps);
			mp_obj_end(w);
		}
		mp_arr_end(w);
		mp_obj_end(w);
	}
	mp_writer_audience(w, MP_FOR_ALL);
	return mp_doc_end(w);
}

int bw_exit_status(const struct bw_result *res)
{
	const struct bw_dir_result *d[2] = { &res->fwd, &res->rev };

	if (res->find_max)
		return res->max_pps ? MP_EXIT_OK : MP_EXIT_FAIL;
	for (int i = 0; i < 2; i++)
		if (d[i]->on && (!d[i]->rx.received || !d[i]->sent))
			return MP_EXIT_FAIL;
	return MP_EXIT_OK;
}

/* One row per interval record: rate and loss of its direction. */
static int plot_rows(struct mp_writer *w, const void *ctx)
{
	const struct bw_print *p = ctx;
	int r = 0;

	for (size_t i = 0; r >= 0 && i < p->n_points; i++) {
		const struct bw_point *pt = &p->points[i];
		bool fwd = pt->dir == BW_FWD;

		mp_record_begin(w, "point");
		mp_put_f64(w, "time_s", "%.3f", pt->end_s);
		mp_put_f64(w, "forward_rate_mbps", "%.3f", fwd ? pt->rate_bps / 1e6 : NAN);
		mp_put_f64(w, "forward_loss_pct", "%.3f", fwd ? pt->loss_pct : NAN);
		mp_put_f64(w, "reverse_rate_mbps", "%.3f", fwd ? NAN : pt->rate_bps / 1e6);
		r = mp_put_f64(w, "reverse_loss_pct", "%.3f", fwd ? NAN : pt->loss_pct);
		if (r >= 0)
			r = mp_record_end(w);
	}
	return r;
}

int bw_print_plot(const struct bw_print *p, const char *png, char *err, size_t errlen)
{
	struct mp_plot_series series[4];
	unsigned n = 0;

	for (unsigned c = 0; c < 4; c++) {
		bool fwd = c < 2;
		bool on = false;

		for (size_t i = 0; i < p->n_points; i++)
			on |= (p->points[i].dir == BW_FWD) == fwd;
		if (on)
			series[n++] = (struct mp_plot_series){ .x_col = 1, .y_col = c + 2,
							       .style = "linespoints" };
	}
	if (!n) {
		snprintf(err, errlen, "no interval records to plot (--interval-report)");
		return -ENODATA;
	}
	return mp_plot_rows(&(struct mp_plot){
		.png_path = png, .title = "bwtest: rate and loss", .xlabel = "time (s)",
		.ylabel = "Mbit/s, loss %", .series = series, .n_series = n },
		"bwtest", plot_rows, p, err, errlen);
}

int bw_print_plot_csv(const struct bw_print *p, const char *path)
{
	int r = p->n_points ? mp_plot_csv(path, "bwtest", plot_rows, p) : 0;

	if (r < 0)
		mp_warn(-r, "plot rows %s", path);
	return r;
}

/* Several targets: the rate of each direction tested of each target. */
int bw_plot_targets(const struct mp_run_target *t, size_t n, const char *png,
		    const struct bw_opts *o)
{
	struct mp_plot_series series[2 * MP_RUN_PLOT_MAX];
	char titles[2 * MP_RUN_PLOT_MAX][300];
	char err[256] = "";
	size_t k = 0;
	int r;

	if (n > MP_RUN_PLOT_MAX)
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		for (unsigned d = 0; d < 2; d++) {
			if (!(o->req.dirs & (d ? BW_REV : BW_FWD)))
				continue;
			snprintf(titles[k], sizeof(titles[k]), "%s %s", t[i].host,
				 d ? "reverse" : "forward");
			series[k] = (struct mp_plot_series){ .title = titles[k], .x_col = 1,
							     .y_col = 2 + 2 * d,
							     .style = "linespoints",
							     .csv_path = t[i].plot_csv };
			k++;
		}
	}
	r = mp_plot_render(&(struct mp_plot){
		.png_path = png, .title = "bwtest: rate", .xlabel = "time (s)",
		.ylabel = "Mbit/s", .series = series, .n_series = k }, err, sizeof(err));
	if (r < 0)
		mp_warnx("plot %s: %s", png, *err ? err : strerror(-r));
	return r;
}

/* Prometheus HELP of the client's series (docs/FORMATS.md has the same words,
 * longer); the directions share theirs, the metric name says which. */
const struct mp_prom_help bw_prom_help[] = {
	{ "streams", "UDP streams per direction" },
	{ "payload_bytes", "UDP payload per datagram" },
	{ "granted_rate_bps", "payload rate per direction granted by the server" },
	{ "granted_pps", "packet rate granted by the server (0: not asked for)" },
	{ "duration_ms", "data phase of the run, START to STOP" },
	{ "interrupted", "1 when SIGINT ended the run early" },
	{ "*.sent", "datagrams the sender sent in this direction" },
	{ "*.expected", "datagrams the receiver knew were sent in this direction" },
	{ "*.received", "unique datagrams received in this direction" },
	{ "*.lost", "datagrams lost in this direction (expected - received)" },
	{ "*.loss_pct", "share of the datagrams lost in this direction" },
	{ "*.duplicates", "copies of a datagram already received (RFC 5560)" },
	{ "*.reordered", "datagrams that arrived after a higher sequence number (RFC 4737)" },
	{ "*.late", "datagrams that arrived after they were counted lost" },
	{ "*.reconciled", "1 when the sender's and receiver's counts add up exactly" },
	{ "*.rate_bps", "received payload rate in this direction (goodput)" },
	{ "*.pps", "received datagrams per second in this direction" },
	{ "*.sent_pps", "sent datagrams per second in this direction" },
	{ "*.jitter_ms", "RFC 3550 interarrival jitter in this direction" },
	{ "*.loss_bursts", "runs of consecutive lost datagrams" },
	{ "*.max_loss_burst", "longest run of consecutive lost datagrams" },
	{ "*.owd_raw_ms", "one-way delay in this direction, raw: includes the clock offset" },
	{ "*.dropped", "datagrams dropped for a bad token or size" },
	{ "*.send_errors", "sends that failed in this direction" },
	{ "find_max.loss_threshold_pct", "loss a find-max trial may have and pass" },
	{ "find_max.max_rate_bps", "highest payload rate that passed" },
	{ "find_max.max_pps", "highest packet rate that passed" },
	{ "find_max.trials.rate_bps", "payload rate offered in the first trial" },
	{ "find_max.trials.pps", "packet rate offered in the first trial" },
	{ "find_max.trials.loss_pct", "loss in the first trial" },
	{ "find_max.trials.sent_pps", "packets per second sent in the first trial" },
	{ "find_max.trials.rx_pps", "packets per second received in the first trial" },
	{ NULL, NULL }
};

/* The server's (bwtest -s). */
const struct mp_prom_help bw_srv_prom_help[] = {
	{ "authenticated", "1 when the server requires the PSK" },
	{ "sessions_accepted", "test sessions accepted" },
	{ "sessions_completed", "test sessions that ended with STOP" },
	{ "rejected_auth", "sessions refused for a wrong HMAC" },
	{ "rejected_busy", "connections refused by admission control (REJECT code 3)" },
	{ "rejected_protocol", "sessions refused for a protocol error" },
	{ "limits.max_pending", "limit: unauthenticated connections at once" },
	{ "limits.max_pending_per_source", "limit: unauthenticated connections per source" },
	{ "limits.handshake_timeout_ms", "limit: connect to authenticated" },
	{ "limits.max_sessions", "limit: sessions at once" },
	{ "limits.max_sessions_per_source", "limit: sessions per source" },
	{ "limits.open_budget_bps", "limit: --no-auth granted bit/s of all sessions (0: none)" },
	{ "admission.pending", "unauthenticated connections now" },
	{ "admission.sessions", "sessions holding a slot now" },
	{ "admission.budget_used_bps", "granted bit/s of the sessions now (--no-auth)" },
	{ "admission.pending_admitted", "connections let into the pending pool" },
	{ "admission.sessions_admitted", "authenticated connections given a session slot" },
	{ "refused.pending_full", "connections refused: pending pool full" },
	{ "refused.evicted", "pending connections dropped for a newer one (oldest first)" },
	{ "refused.handshake_timeout", "pending connections closed at the handshake timeout" },
	{ "refused.sessions_full", "authenticated, refused: all session slots taken" },
	{ "refused.sessions_source", "authenticated, refused: the source's session cap" },
	{ "refused.budget", "authenticated, refused: open-mode budget used up" },
	{ "reject_records.written", "reject records written" },
	{ "reject_records.suppressed", "reject records not written (rate limit)" },
	{ "udp.received", "data datagrams received" },
	{ "udp.dropped_token", "data datagrams dropped without a valid session token" },
	{ "udp.dropped_address", "data datagrams dropped from the wrong source" },
	{ "udp.dropped_malformed", "data datagrams dropped as malformed" },
	{ NULL, NULL }
};
