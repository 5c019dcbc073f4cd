/* SPDX-License-Identifier: MIT */
/*
 * Rendering of owd's results through lib/out: per-packet records (csv rows,
 * text lines), interval records (--interval-report), the summary document,
 * the reflector's counters, and the --plot series. Measures nothing.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "owd.h"
#include "plot.h"
#include "run.h"
#include "stamp.h"

struct owd_printer {
	const struct owd_opts *o;
	struct mp_writer *w;		/* stdout */
	struct mp_writer *pw;		/* the plot's csv series, or NULL */
	FILE *pf;			/* its file */
	char ppath[256];		/* its path, "" if none */
	bool pkeep;			/* the file is a target's of several: kept, not drawn */
	uint64_t t0_ns;			/* first packet's T1, for the plot's x axis */
	bool packets;			/* packet records go to w */
};

static double ms(int64_t ns)
{
	return (double)ns / 1e6;
}

static void packet_cb(void *ctx, const struct owd_packet *pk)
{
	struct owd_printer *p = ctx;
	struct mp_writer *w = p->w;

	if (p->packets && mp_writer_format(w) == MP_FMT_CSV) {
		mp_record_begin(w, "packet");
		mp_put_u64(w, "seq", "%" PRIu64, pk->seq);
		mp_put_u64(w, "t1_ns", "%" PRIu64, pk->t1_ns);
		mp_put_u64(w, "t2_ns", "%" PRIu64, pk->t2_ns);
		mp_put_u64(w, "t3_ns", "%" PRIu64, pk->t3_ns);
		mp_put_u64(w, "t4_ns", "%" PRIu64, pk->t4_ns);
		/* delays in ms like every other delay key (ns resolution kept:
		 * csv numbers have 15 significant digits); the stamps stay ns */
		mp_put_f64(w, "fwd_owd_ms", "%.6f", ms(pk->fwd_ns));
		mp_put_f64(w, "rev_owd_ms", "%.6f", ms(pk->rev_ns));
		mp_put_f64(w, "rtt_ms", "%.6f", ms(pk->rtt_ns));
		mp_put_u64(w, "refl_seq", "%" PRIu64, pk->refl_seq);
		mp_record_end(w);
	} else if (p->packets) {
		mp_record_begin(w, "packet");
		mp_put_u64(w, "seq", "%" PRIu64, pk->seq);
		mp_put_f64(w, "fwd_owd_ms", "%.3f", ms(pk->fwd_ns));
		mp_put_f64(w, "rev_owd_ms", "%.3f", ms(pk->rev_ns));
		mp_put_f64(w, "rtt_ms", "%.3f", ms(pk->rtt_ns));
		mp_record_end(w);
	}
	if (p->pw) {
		if (!p->t0_ns)
			p->t0_ns = pk->t1_ns;
		mp_record_begin(p->pw, "packet");
		mp_put_f64(p->pw, "time_s", "%.6f", (double)(pk->t1_ns - p->t0_ns) / 1e9);
		mp_put_f64(p->pw, "fwd_owd_ms", "%.3f", ms(pk->fwd_ns));
		mp_put_f64(p->pw, "rev_owd_ms", "%.3f", ms(pk->rev_ns));
		mp_record_end(p->pw);
	}
}

static double mean_ms(const struct mp_stats_summary *s)
{
	return s->count ? s->mean_ns / 1e6 : NAN;
}

static void interval_cb(void *ctx, const struct owd_interval *iv)
{
	struct owd_printer *p = ctx;
	struct mp_writer *w = p->w;

	mp_record_begin(w, "interval");
	mp_put_f64(w, "start_s", "%.3f", (double)iv->start_ns / 1e9);
	/* text: the columns that fit 100; the machine formats have all */
	mp_put_f64_notext(w, "interval_s", (double)iv->len_ns / 1e9);
	mp_put_u64(w, "sent", "%" PRIu64, iv->sent);
	mp_put_u64(w, "received", "%" PRIu64, iv->received);
	mp_put_f64(w, "fwd_owd_mean_ms", "%.3f", mean_ms(&iv->fwd));
	mp_put_f64_notext(w, "fwd_owd_max_ms", iv->fwd.count ? ms(iv->fwd.max_ns) : NAN);
	mp_put_f64(w, "rev_owd_mean_ms", "%.3f", mean_ms(&iv->rev));
	mp_put_f64_notext(w, "rev_owd_max_ms", iv->rev.count ? ms(iv->rev.max_ns) : NAN);
	mp_put_f64_notext(w, "rtt_mean_ms", mean_ms(&iv->rtt));
	mp_put_u64(w, "fwd_lost_total", "%" PRIu64, iv->fwd_lost);
	mp_put_u64(w, "rev_lost_total", "%" PRIu64, iv->rev_lost);
	mp_record_end(w);
	/* a record per interval is only useful if it leaves now */
	fflush(stdout);
}

int owd_printer_new(struct owd_printer **ret, const struct owd_opts *o, struct mp_writer *w,
		    const char *plot_csv)
{
	struct owd_printer *p = calloc(1, sizeof(*p));
	const char *dir = getenv("TMPDIR");
	enum mp_format f = mp_writer_format(w);
	int fd, rc = 0;

	if (!p)
		return -ENOMEM;
	p->o = o;
	p->w = w;
	/* per-packet rows are the csv table; text shows them as live lines
	 * unless interval lines (or -q) replace them, -v shows both; json,
	 * ndjson and prom carry the summary (and interval records) only */
	p->packets = f == MP_FMT_CSV ||
		     (f == MP_FMT_TEXT && !o->quiet && (!o->report_ns || o->verbose));
	if (f == MP_FMT_CSV)
		rc = mp_writer_set_table(w, "packet");
	/* several targets: only those given a file are drawn */
	if (rc >= 0 && o->plot && (plot_csv || !mp_run_multi(&o->run))) {
		snprintf(p->ppath, sizeof(p->ppath), "%s/owd-plot.XXXXXX",
			 dir && *dir ? dir : "/tmp");
		if (plot_csv)
			snprintf(p->ppath, sizeof(p->ppath), "%s", plot_csv);
		p->pkeep = plot_csv != NULL;
		fd = plot_csv ? open(plot_csv, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600) :
				mkstemp(p->ppath);
		if (fd < 0) {
			rc = -errno;
			p->ppath[0] = '\0';
		} else if (!(p->pf = fdopen(fd, "w"))) {
			rc = -errno;
			close(fd);
		} else {
			rc = mp_writer_new(&p->pw, MP_FMT_CSV, p->pf, "owd", "owd/2");
		}
	}
	if (rc < 0) {
		owd_printer_free(p);
		return rc;
	}
	*ret = p;
	return 0;
}

void owd_printer_sink(struct owd_printer *p, struct owd_sink *ret)
{
	*ret = (struct owd_sink){ .packet = packet_cb, .ctx = p };
	if (p->o->report_ns && !p->o->quiet)	/* -q: the summary only */
		ret->interval = interval_cb;
}

static void owd_stats(struct mp_writer *w, const char *key, const char *title, bool have,
		      const struct mp_stats_summary *s)
{
	mp_obj_begin(w, key, title);
	mp_put_f64(w, "min", "min %.3f", have ? ms(s->min_ns) : NAN);
	mp_put_f64(w, "mean", "mean %.3f", have ? s->mean_ns / 1e6 : NAN);
	mp_put_f64(w, "median", "median %.3f", have ? ms(s->median_ns) : NAN);
	mp_put_f64(w, "p95", "p95 %.3f", have ? ms(s->p95_ns) : NAN);
	mp_put_f64(w, "p99", "p99 %.3f", have ? ms(s->p99_ns) : NAN);
	mp_put_f64(w, "max", "max %.3f", have ? ms(s->max_ns) : NAN);
	mp_put_f64(w, "stddev", "stddev %.3f", have ? s->stddev_ns / 1e6 : NAN);
	mp_obj_end(w);
}

static void owd_ipdv(struct mp_writer *w, bool have, const struct mp_ipdv_summary *d)
{
	mp_put_u64(w, "ipdv_pairs", "IPDV pairs %" PRIu64, have ? d->pairs : 0);
	mp_obj_begin(w, "ipdv_ms", "IPDV (RFC 3393) ms");
	mp_put_f64(w, "mean_abs", "mean |ipdv| %.3f", have ? d->mean_abs_ns / 1e6 : NAN);
	mp_put_f64(w, "min", "min %.3f", have ? ms(d->ipdv.min_ns) : NAN);
	mp_put_f64(w, "median", "median %.3f", have ? ms(d->ipdv.median_ns) : NAN);
	mp_put_f64(w, "p99", "p99 %.3f", have ? ms(d->ipdv.p99_ns) : NAN);
	mp_put_f64(w, "max", "max %.3f", have ? ms(d->ipdv.max_ns) : NAN);
	mp_obj_end(w);
}

static void owd_direction(struct mp_writer *w, const char *key, const char *title,
			  const struct owd_result *r, const struct owd_dir *d,
			  const struct mp_stats_summary *s, bool have_ipdv,
			  const struct mp_ipdv_summary *ipdv)
{
	mp_obj_begin(w, key, title);
	owd_stats(w, "owd_ms", "one-way delay (raw) ms", r->have_delay, s);
	mp_put_u64(w, "lost", "lost %" PRIu64, d->lost);
	mp_put_u64(w, "duplicates", "duplicates %" PRIu64, d->duplicates);
	mp_put_u64(w, "reordered", "reordered %" PRIu64, d->reordered);
	if (d == &r->rev)
		mp_put_u64(w, "late", "late %" PRIu64, d->late);
	owd_ipdv(w, have_ipdv, ipdv);
	mp_obj_end(w);
}

static void owd_clock(struct mp_writer *w, const struct owd_result *r)
{
	bool have = r->have_delay;

	mp_obj_begin(w, "clock", "clock");
	mp_put_f64(w, "offset_ms", "offset %.3f ms", have ? ms(r->offset_ns) : NAN);
	mp_put_f64(w, "error_ms", "+/- %.3f ms", have ? (double)r->offset_err_ns / 1e6 : NAN);
	mp_put_f64(w, "offset_min_ms", "spread %.3f", have ? ms(r->offset_min_ns) : NAN);
	mp_put_f64(w, "offset_max_ms", ".. %.3f ms", have ? ms(r->offset_max_ns) : NAN);
	mp_put_bool(w, "synced", "synchronised %s", have && !r->suspect);
	mp_put_bool(w, "suspect", "suspect %s", r->suspect);
	mp_obj_begin(w, "local", "this host (ntp_adjtime)");
	mp_put_bool(w, "synced", "synchronised %s", r->local_synced);
	mp_put_f64(w, "est_error_ms", "estimated error %.3f ms",
		   r->local_sync_ok ? (double)r->local_est_error_ns / 1e6 : NAN);
	mp_put_f64(w, "max_error_ms", "maximum error %.3f ms",
		   r->local_sync_ok ? (double)r->local_max_error_ns / 1e6 : NAN);
	mp_obj_end(w);
	mp_obj_begin(w, "reflector", "reflector (Error Estimate)");
	mp_put_bool(w, "synced", "synchronised %s", r->refl_synced);
	mp_put_f64(w, "error_ms", "error %.3f ms", r->refl_error_ns == MP_STAMP_ERROR_UNKNOWN ?
		   NAN : (double)r->refl_error_ns / 1e6);
	mp_obj_end(w);
	mp_obj_end(w);
}

/* One row of the text table: a label and a distribution, each figure with its unit. */
static void text_row(struct mp_writer *w, const char *label, const struct mp_stats_summary *s)
{
	char b[MP_FMT_LEN];

	mp_obj_begin(w, NULL, NULL);
	mp_put_str(w, "", "%s", label);
	mp_put_str(w, "min", "%s", mp_fmt_ns(b, sizeof(b), (double)s->min_ns));
	mp_put_str(w, "mean", "%s", mp_fmt_ns(b, sizeof(b), s->mean_ns));
	mp_put_str(w, "median", "%s", mp_fmt_ns(b, sizeof(b), (double)s->median_ns));
	mp_put_str(w, "p95", "%s", mp_fmt_ns(b, sizeof(b), (double)s->p95_ns));
	mp_put_str(w, "p99", "%s", mp_fmt_ns(b, sizeof(b), (double)s->p99_ns));
	mp_put_str(w, "max", "%s", mp_fmt_ns(b, sizeof(b), (double)s->max_ns));
	mp_put_str(w, "stddev", "%s", mp_fmt_ns(b, sizeof(b), s->stddev_ns));
	mp_obj_end(w);
}

static double pct(uint64_t part, uint64_t whole)
{
	return whole ? 100.0 * (double)part / (double)whole : 0;
}

/*
 * The text a person reads (irtt's summary is the model): one line of
 * counts, a table of RTT, one-way delays and IPDV with their own units,
 * one line of loss per direction, one of the clocks.
 */
static void text_summary(struct mp_writer *w, const struct owd_result *r)
{
	uint64_t fwd_in = r->sent - r->fwd.lost;
	char a[MP_FMT_LEN], b[MP_FMT_LEN], t[96];

	if (r->interrupted)
		mp_put_str(w, "interrupted", "%s", "interrupted");
	mp_put_u64(w, "sent", "%" PRIu64 " sent", r->sent);
	mp_put_u64(w, "received", "%" PRIu64 " answered", r->received);
	mp_put_str(w, "duration", "in %s", mp_fmt_ns(a, sizeof(a), (double)r->elapsed_ns));
	if (!r->received) {
		mp_writer_alert(w, true);
		mp_put_str(w, "why", "%s", "no replies");
		mp_writer_alert(w, false);
		return;
	}
	mp_arr_begin(w, "delays", "");
	text_row(w, "RTT", &r->rtt_s);
	text_row(w, "forward", &r->fwd_s);
	text_row(w, "reverse", &r->rev_s);
	if (r->have_fwd_ipdv)
		text_row(w, "IPDV fwd", &r->fwd_ipdv.ipdv);
	if (r->have_rev_ipdv)
		text_row(w, "IPDV rev", &r->rev_ipdv.ipdv);
	mp_arr_end(w);
	mp_obj_begin(w, "loss", "loss");
	snprintf(t, sizeof(t), "%" PRIu64 " (%.1f%%)", r->fwd.lost, pct(r->fwd.lost, r->sent));
	mp_writer_alert(w, r->fwd.lost);
	mp_put_str(w, "forward", "forward %s", t);
	snprintf(t, sizeof(t), "%" PRIu64 " (%.1f%%)", r->rev.lost, pct(r->rev.lost, fwd_in));
	mp_writer_alert(w, r->rev.lost);
	mp_put_str(w, "reverse", "reverse %s", t);
	mp_writer_alert(w, r->lost_unknown);
	if (r->lost_unknown)
		mp_put_u64(w, "unknown", "direction unknown %" PRIu64, r->lost_unknown);
	mp_writer_alert(w, false);
	if (r->fwd.duplicates || r->rev.duplicates) {
		snprintf(t, sizeof(t), "%" PRIu64 "/%" PRIu64, r->fwd.duplicates,
			 r->rev.duplicates);
		mp_put_str(w, "duplicates", "duplicates %s", t);
	}
	if (r->fwd.reordered || r->rev.reordered) {
		snprintf(t, sizeof(t), "%" PRIu64 "/%" PRIu64, r->fwd.reordered,
			 r->rev.reordered);
		mp_put_str(w, "reordered", "reordered %s", t);
	}
	mp_obj_end(w);
	mp_obj_begin(w, "clock", "clock");
	snprintf(t, sizeof(t), "%s \xc2\xb1 %s (%s)", mp_fmt_ns(a, sizeof(a), (double)r->offset_ns),
		 mp_fmt_ns(b, sizeof(b), (double)r->offset_err_ns),
		 r->suspect ? "suspect: the offsets disagree" : "consistent");
	mp_writer_alert(w, r->suspect);
	mp_put_str(w, "offset", "offset %s", t);
	mp_writer_alert(w, false);
	mp_put_str(w, "ntp", "NTP-synchronised: this host %s", r->local_synced ? "yes" : "no");
	mp_put_str(w, "refl", "reflector %s", r->refl_synced ? "yes" : "no");
	mp_obj_end(w);
}

static int summary(struct mp_writer *w, const char *dst, const struct owd_result *r)
{
	char title[MP_ADDR_PORT_STRLEN + 16];

	snprintf(title, sizeof(title), "owd to %s", r->peer);
	mp_doc_begin(w, title);
	mp_writer_audience(w, MP_FOR_TEXT);
	text_summary(w, r);
	mp_writer_audience(w, MP_FOR_MACHINES);
	mp_put_label(w, "dst", "dst %s", dst);
	mp_put_str(w, "addr", "(%s)", r->addr);
	mp_put_u64(w, "sent", "sent %" PRIu64, r->sent);
	mp_put_u64(w, "received", "received %" PRIu64, r->received);
	mp_put_u64(w, "lost", "lost %" PRIu64, r->lost);
	mp_put_u64(w, "lost_unknown", "lost (direction unknown) %" PRIu64, r->lost_unknown);
	mp_put_f64(w, "duration_ms", "duration %.1f ms", MP_NS_TO_MS(r->elapsed_ns));
	mp_put_f64(w, "timeout_ms", "timeout %.0f ms", (double)r->timeout_ns / 1e6);
	owd_direction(w, "forward", "forward", r, &r->fwd, &r->fwd_s, r->have_fwd_ipdv,
		      &r->fwd_ipdv);
	owd_direction(w, "reverse", "reverse", r, &r->rev, &r->rev_s, r->have_rev_ipdv,
		      &r->rev_ipdv);
	mp_obj_begin(w, "rtt_ms", "RTT ms");
	mp_put_f64(w, "min", "min %.3f", r->have_delay ? ms(r->rtt_s.min_ns) : NAN);
	mp_put_f64(w, "mean", "mean %.3f", r->have_delay ? r->rtt_s.mean_ns / 1e6 : NAN);
	mp_put_f64(w, "median", "median %.3f", r->have_delay ? ms(r->rtt_s.median_ns) : NAN);
	mp_put_f64(w, "max", "max %.3f", r->have_delay ? ms(r->rtt_s.max_ns) : NAN);
	mp_obj_end(w);
	owd_clock(w, r);
	mp_put_u64(w, "tx_stamp_missing", "userspace T1 used %" PRIu64, r->tx_stamp_missing);
	mp_put_u64(w, "icmp_errors", "ICMP errors %" PRIu64, r->icmp_errors);
	mp_put_bool(w, "interrupted", "interrupted %s", r->interrupted);
	mp_writer_audience(w, MP_FOR_ALL);
	return mp_doc_end(w);
}

static int plot(struct owd_printer *p)
{
	static const struct mp_plot_series series[] = {
		{ .title = "forward (raw)", .x_col = 1, .y_col = 2, .style = "points" },
		{ .title = "reverse (raw)", .x_col = 1, .y_col = 3, .style = "points" },
	};
	struct mp_plot pl = {
		.csv_path = p->ppath,
		.png_path = p->o->plot,
		.title = "owd: one-way delay per packet",
		.xlabel = "time (s)",
		.ylabel = "one-way delay, raw (ms)",
		.series = series,
		.n_series = MP_ARRAY_SIZE(series),
	};
	char err[256] = "";
	int rc;

	rc = mp_writer_close(p->pw);
	p->pw = NULL;
	if (fclose(p->pf) != 0 && rc >= 0)
		rc = -errno;
	p->pf = NULL;
	if (p->pkeep) {
		p->ppath[0] = '\0';	/* drawn with the other targets' */
		if (rc < 0)
			mp_warn(-rc, "plot rows %s", pl.csv_path);
		return rc;
	}
	if (rc >= 0)
		rc = mp_plot_render(&pl, err, sizeof(err));
	if (rc < 0)
		mp_warn(-rc, "plot %s%s%s", p->o->plot, *err ? ": " : "", err);
	return rc;
}

int owd_printer_finish(struct owd_printer *p, const struct owd_result *res)
{
	int rc = summary(p->w, p->o->target, res);

	if (p->pw) {
		int r2 = plot(p);

		rc = rc < 0 ? rc : r2;
	}
	return rc;
}

void owd_printer_free(struct owd_printer *p)
{
	if (!p)
		return;
	mp_writer_close(p->pw);
	if (p->pf)
		fclose(p->pf);
	if (p->ppath[0])
		unlink(p->ppath);
	free(p);
}

void owd_print_counters(struct mp_writer *w, const char *type,
			const struct mp_responder_counters *c)
{
	if (type)
		mp_record_begin(w, type);
	else
		mp_doc_begin(w, "owd reflector");
	mp_put_u64(w, "received", "received %" PRIu64, c->received);
	mp_put_u64(w, "reflected", "reflected %" PRIu64, c->reflected);
	mp_put_u64(w, "dropped_malformed", "malformed %" PRIu64, c->dropped_malformed);
	mp_put_u64(w, "dropped_auth", "auth failed %" PRIu64, c->dropped_auth);
	mp_put_u64(w, "dropped_ratelimit", "rate-limited %" PRIu64, c->dropped_ratelimit);
	mp_put_u64(w, "dropped_global", "over the global cap %" PRIu64, c->dropped_global);
	mp_put_u64(w, "dropped_size", "bad size %" PRIu64, c->dropped_size);
	mp_put_u64(w, "dropped_sessions", "session table full %" PRIu64, c->dropped_sessions);
	mp_put_u64(w, "send_errors", "send errors %" PRIu64, c->send_errors);
	mp_put_u64(w, "sessions", "sessions %" PRIu64, c->sessions);
	if (type) {
		mp_record_end(w);
		fflush(stdout);
	} else {
		mp_doc_end(w);
	}
}

/* Several targets: forward and reverse delays of each. */
int owd_plot_targets(const struct mp_run_target *t, size_t n, const char *png, void *ctx)
{
	struct mp_plot_series series[2 * MP_RUN_PLOT_MAX];
	char titles[2 * MP_RUN_PLOT_MAX][300];
	struct mp_plot pl = {
		.png_path = png,
		.title = "owd: one-way delay per packet",
		.xlabel = "time (s)",
		.ylabel = "one-way delay, raw (ms)",
		.series = series,
		.n_series = 2 * n,
	};
	char err[256] = "";
	int rc;

	(void)ctx;
	if (n > MP_RUN_PLOT_MAX)
		return -EINVAL;
	for (size_t i = 0; i < 2 * n; i++) {
		snprintf(titles[i], sizeof(titles[i]), "%s %s", t[i / 2].host,
			 i % 2 ? "reverse" : "forward");
		series[i] = (struct mp_plot_series){ .title = titles[i], .x_col = 1,
						     .y_col = 2 + (unsigned)(i % 2),
						     .style = "points",
						     .csv_path = t[i / 2].plot_csv };
	}
	rc = mp_plot_render(&pl, err, sizeof(err));
	if (rc < 0)
		mp_warn(-rc, "plot %s%s%s", png, *err ? ": " : "", err);
	return rc;
}

int owd_exit_status(const struct owd_result *res)
{
	return res->received ? MP_EXIT_OK : MP_EXIT_FAIL;
}

/* Prometheus HELP (docs/FORMATS.md has the same words, longer). */
const struct mp_prom_help owd_prom_help[] = {
	{ "sent", "STAMP probes sent" },
	{ "received", "probes answered in time (first copy)" },
	{ "lost", "probes unanswered: forward + reverse + direction unknown" },
	{ "lost_unknown", "probes unanswered after the last answered one (direction unknowable)" },
	{ "duration_ms", "time from the first probe to the end of the run" },
	{ "timeout_ms", "time a probe was waited for at the end of the run" },
	{ "forward.owd_ms", "one-way delay to the reflector (T2 - T1), raw: includes the clock offset" },
	{ "reverse.owd_ms", "one-way delay back from the reflector (T4 - T3), raw: includes the clock offset" },
	{ "forward.lost", "probes that never reached the reflector" },
	{ "reverse.lost", "replies lost on the way back (late ones included)" },
	{ "forward.duplicates", "probes the reflector received twice" },
	{ "reverse.duplicates", "replies received twice" },
	{ "forward.reordered", "probes the reflector received out of order" },
	{ "reverse.reordered", "replies received out of order (RFC 4737)" },
	{ "reverse.late", "replies that came after their probe's timeout" },
	{ "*.ipdv_pairs", "pairs of consecutive answered probes the IPDV is taken over" },
	{ "forward.ipdv_ms", "delay variation to the reflector (RFC 3393 IPDV)" },
	{ "reverse.ipdv_ms", "delay variation back from the reflector (RFC 3393 IPDV)" },
	{ "rtt_ms", "round-trip time without the reflector's turnaround" },
	{ "clock.offset_ms", "reflector clock minus this host's, from the fastest probe" },
	{ "clock.error_ms", "bound of the clock offset estimate (half the smallest RTT)" },
	{ "clock.offset_min_ms", "smallest clock offset seen over all probes" },
	{ "clock.offset_max_ms", "largest clock offset seen over all probes" },
	{ "clock.synced", "1 when the offsets agree with synchronised clocks" },
	{ "clock.suspect", "1 when a delay was negative or the offset exceeds its bound" },
	{ "clock.local.synced", "1 when this host's kernel clock is synchronised (ntp_adjtime)" },
	{ "clock.local.est_error_ms", "this host's kernel estimated clock error" },
	{ "clock.local.max_error_ms", "this host's kernel maximum clock error" },
	{ "clock.reflector.synced", "1 when the reflector says its clock is synchronised" },
	{ "clock.reflector.error_ms", "the reflector's own clock error estimate" },
	{ "tx_stamp_missing", "answered probes timed in user space (no kernel send stamp)" },
	{ "icmp_errors", "ICMP errors received for the probes" },
	{ "interrupted", "1 when SIGINT or SIGTERM ended the run early" },
	{ NULL, NULL }
};

/* The reflector's (owd -s). */
const struct mp_prom_help owd_srv_prom_help[] = {
	{ "received", "datagrams the reflector received" },
	{ "reflected", "probes the reflector answered" },
	{ "dropped_malformed", "datagrams dropped as malformed" },
	{ "dropped_auth", "datagrams dropped for a wrong HMAC" },
	{ "dropped_ratelimit", "datagrams dropped over the per-source rate limit" },
	{ "dropped_global", "datagrams dropped over the rate limit of all sources together" },
	{ "dropped_size", "datagrams dropped for a size the reflector cannot answer" },
	{ "dropped_sessions", "datagrams dropped because the session table was full" },
	{ "send_errors", "replies whose send failed" },
	{ "sessions", "sessions (sender address and port) seen" },
	{ NULL, NULL }
};
