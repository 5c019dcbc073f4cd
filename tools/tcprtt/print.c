/* SPDX-License-Identifier: MIT */
/*
 * Rendering of tcprtt's results through lib/out: sample records
 * (--samples), interval records (--interval-report) and the summary: the
 * counters and a table of flows. Measures nothing.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tcprtt.h"
#include "args.h"
#include "plot.h"

enum { TEXT_FLOWS = 20 };	/* flows in the text table without -v */

struct tr_printer {
	const struct tr_opts *o;
	struct mp_writer *w;
	struct mp_writer *pw;		/* --plot: every sample, csv, or NULL */
	FILE *pf;			/* its file */
	char ppath[256];		/* its path, "" if none */
	uint64_t t0_ns;			/* the first sample's time: the plot's x = 0 */
};

static double ms(double ns)
{
	return ns / 1e6;
}

static void addr_str(const struct mp_prtt_flow_info *f, int side, char *buf, size_t len)
{
	if (!inet_ntop(f->family == AF_INET ? AF_INET : AF_INET6, f->addr[side], buf,
		       (socklen_t)len))
		snprintf(buf, len, "?");
}

/* "addr:port" ("[addr]:port" for IPv6), for text. */
static void endpoint_str(const struct mp_prtt_flow_info *f, int side, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN];

	addr_str(f, side, a, sizeof(a));
	snprintf(buf, len, f->family == AF_INET ? "%s:%u" : "[%s]:%u", a, f->port[side]);
}

static void flow_labels(struct mp_writer *w, const struct mp_prtt_flow_info *f)
{
	char a[INET6_ADDRSTRLEN];

	addr_str(f, 0, a, sizeof(a));
	mp_put_str(w, "src", "%s", a);
	mp_put_u64(w, "src_port", "%" PRIu64, f->port[0]);
	addr_str(f, 1, a, sizeof(a));
	mp_put_str(w, "dst", "%s", a);
	mp_put_u64(w, "dst_port", "%" PRIu64, f->port[1]);
}

static void sample_cb(void *ctx, const struct mp_prtt_flow_info *f, const struct mp_prtt_sample *s)
{
	struct tr_printer *p = ctx;
	struct mp_writer *w = p->w;
	char a[MP_ADDR_PORT_STRLEN], b[MP_ADDR_PORT_STRLEN], t[2 * MP_ADDR_PORT_STRLEN + 4];

	if (p->pw) {
		if (!p->t0_ns)
			p->t0_ns = s->t_ns;
		mp_record_begin(p->pw, "sample");
		mp_put_f64(p->pw, "time_s", "%.6f", (double)(s->t_ns - p->t0_ns) / 1e9);
		mp_put_f64(p->pw, "to_dst_rtt_ms", "%.3f", s->dir ? NAN : ms((double)s->rtt_ns));
		mp_put_f64(p->pw, "to_src_rtt_ms", "%.3f", s->dir ? ms((double)s->rtt_ns) : NAN);
		mp_record_end(p->pw);
	}
	if (!p->o->samples || p->o->quiet)
		return;
	mp_record_begin(w, "sample");
	mp_writer_audience(w, MP_FOR_MACHINES);
	mp_put_time(w, "packet_time", "%s", s->t_ns);
	flow_labels(w, f);
	/* the end the sample's round trip went to: dst for src's data */
	mp_put_str(w, "to", "%s", s->dir ? "src" : "dst");
	mp_put_str(w, "method", "%s", s->ts ? "ts" : "seq");
	mp_put_f64(w, "rtt_ms", "%.6f", ms((double)s->rtt_ns));
	mp_writer_audience(w, MP_FOR_TEXT);
	endpoint_str(f, s->dir, a, sizeof(a));
	endpoint_str(f, !s->dir, b, sizeof(b));
	snprintf(t, sizeof(t), "%s > %s", a, b);
	mp_put_str(w, "flow", "%s", t);
	mp_put_str(w, "method", "%s", s->ts ? "ts" : "seq");
	mp_put_f64(w, "rtt_ms", "%.3f", ms((double)s->rtt_ns));
	mp_writer_audience(w, MP_FOR_ALL);
	mp_record_end(w);
}

/* The connection's RTT seen from the capture point: the two halves'
 * medians added (one half alone when the other has no sample). */
static double flow_rtt_ns(const struct mp_prtt_dir *d)
{
	double a = mp_prtt_rtt_median_ns(&d[1].rtt), b = mp_prtt_rtt_median_ns(&d[0].rtt);

	if (isnan(a))
		return b;
	return isnan(b) ? a : a + b;
}

static void flow_text_id(struct mp_writer *w, const struct mp_prtt_flow_info *f)
{
	char a[MP_ADDR_PORT_STRLEN], b[MP_ADDR_PORT_STRLEN], t[2 * MP_ADDR_PORT_STRLEN + 4];

	endpoint_str(f, 0, a, sizeof(a));
	endpoint_str(f, 1, b, sizeof(b));
	snprintf(t, sizeof(t), "%s > %s", a, b);
	mp_put_str(w, "flow", "%s", t);
}

static void interval_cb(void *ctx, const struct tr_interval *iv)
{
	struct tr_printer *p = ctx;
	struct mp_writer *w = p->w;
	const struct mp_prtt_dir *d = iv->f->ivl;
	char n1[MP_FMT_LEN], n2[MP_FMT_LEN], n3[MP_FMT_LEN];

	mp_record_begin(w, "interval");
	mp_put_f64(w, "start_s", "%.3f", (double)(iv->start_ns - iv->first_ns) / 1e9);
	mp_writer_audience(w, MP_FOR_MACHINES);
	mp_put_f64(w, "interval_s", "%.3f", (double)iv->len_ns / 1e9);
	flow_labels(w, iv->f);
	mp_put_u64(w, "packets", "%" PRIu64, d[0].packets + d[1].packets);
	mp_put_u64(w, "bytes", "%" PRIu64, d[0].bytes + d[1].bytes);
	mp_put_u64(w, "src_retrans", "%" PRIu64, d[0].retrans);
	mp_put_u64(w, "dst_retrans", "%" PRIu64, d[1].retrans);
	mp_put_f64(w, "rtt_ms", "%.3f", ms(flow_rtt_ns(d)));
	mp_put_u64(w, "to_dst_samples", "%" PRIu64, d[0].rtt.count);
	mp_put_f64(w, "to_dst_rtt_ms", "%.3f", ms(mp_prtt_rtt_median_ns(&d[0].rtt)));
	mp_put_u64(w, "to_src_samples", "%" PRIu64, d[1].rtt.count);
	mp_put_f64(w, "to_src_rtt_ms", "%.3f", ms(mp_prtt_rtt_median_ns(&d[1].rtt)));
	mp_writer_audience(w, MP_FOR_TEXT);
	flow_text_id(w, iv->f);
	mp_put_u64(w, "pkts", "%" PRIu64, d[0].packets + d[1].packets);
	mp_put_str(w, "rtt", "%s", mp_fmt_ns(n1, sizeof(n1), flow_rtt_ns(d)));
	mp_put_str(w, "to dst", "%s", mp_fmt_ns(n2, sizeof(n2), mp_prtt_rtt_median_ns(&d[0].rtt)));
	mp_put_str(w, "to src", "%s", mp_fmt_ns(n3, sizeof(n3), mp_prtt_rtt_median_ns(&d[1].rtt)));
	mp_put_u64(w, "retx >", "%" PRIu64, d[0].retrans);
	mp_put_u64(w, "retx <", "%" PRIu64, d[1].retrans);
	mp_writer_audience(w, MP_FOR_ALL);
	mp_record_end(w);
}

/* A private temporary file for the samples --plot draws. */
static int plot_open(struct tr_printer *p)
{
	const char *dir = secure_getenv("TMPDIR");	/* not a set-uid caller's */
	int fd;

	snprintf(p->ppath, sizeof(p->ppath), "%s/tcprtt-plot.XXXXXX", dir && *dir ? dir : "/tmp");
	fd = mkstemp(p->ppath);
	if (fd < 0) {
		p->ppath[0] = '\0';
		return -errno;
	}
	p->pf = fdopen(fd, "w");
	if (!p->pf) {
		close(fd);
		return -errno;
	}
	return mp_writer_new(&p->pw, MP_FMT_CSV, p->pf, "tcprtt", "tcprtt/1");
}

int tr_printer_plot(struct tr_printer *p)
{
	static const struct mp_plot_series series[] = {
		{ .title = "to dst and back", .x_col = 1, .y_col = 2, .style = "points" },
		{ .title = "to src and back", .x_col = 1, .y_col = 3, .style = "points" },
	};
	struct mp_plot pl = {
		.csv_path = p->ppath,
		.png_path = p->o->plot,
		.title = "tcprtt: RTT samples from the capture point",
		.xlabel = "time (s)",
		.ylabel = "RTT (ms)",
		.series = series,
		.n_series = MP_ARRAY_SIZE(series),
	};
	char err[256] = "";
	int r;

	r = mp_writer_close(p->pw);
	p->pw = NULL;
	if (fclose(p->pf) != 0 && r >= 0)
		r = -errno;
	p->pf = NULL;
	if (r >= 0 && !p->t0_ns)
		snprintf(err, sizeof(err), "no RTT sample to draw"), r = -ENODATA;
	if (r >= 0)
		r = mp_plot_render(&pl, err, sizeof(err));
	if (r < 0)
		mp_warn(r == -ENODATA ? 0 : -r, "plot %s%s%s", p->o->plot, *err ? ": " : "", err);
	return r;
}

int tr_printer_new(struct tr_printer **ret, const struct tr_opts *o, struct mp_writer *w)
{
	struct tr_printer *p = calloc(1, sizeof(*p));
	int r = 0;

	if (!p)
		return -ENOMEM;
	p->o = o;
	p->w = w;
	if (mp_writer_format(w) == MP_FMT_CSV)
		r = mp_writer_set_table(w, o->samples ? "sample" : "interval");
	if (r >= 0 && o->plot)
		r = plot_open(p);
	if (r < 0) {
		tr_printer_free(p);
		return r;
	}
	*ret = p;
	return 0;
}

void tr_printer_sink(struct tr_printer *p, struct tr_sink *ret)
{
	*ret = (struct tr_sink){ .ctx = p };
	if (p->pw || (p->o->samples && !p->o->quiet))
		ret->sample = sample_cb;
	if (p->o->quiet)
		return;
	if (p->o->report_ns)
		ret->interval = interval_cb;
}

void tr_printer_free(struct tr_printer *p)
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

static void rtt_obj(struct mp_writer *w, const char *key, const char *title,
		    const struct mp_prtt_rtt *r)
{
	bool have = r->count > 0;

	mp_obj_begin(w, key, title);
	mp_put_u64(w, "count", "%" PRIu64 " samples", r->count);
	mp_put_f64(w, "min", "min %.3f", have ? ms((double)r->min_ns) : NAN);
	mp_put_f64(w, "median", "median %.3f", ms(mp_prtt_rtt_median_ns(r)));
	mp_put_f64(w, "mean", "mean %.3f", ms(mp_prtt_rtt_mean_ns(r)));
	mp_put_f64(w, "max", "max %.3f", have ? ms((double)r->max_ns) : NAN);
	mp_put_f64(w, "stddev", "stddev %.3f", ms(mp_prtt_rtt_stddev_ns(r)));
	mp_obj_end(w);
}

static void flow_dir(struct mp_writer *w, const char *key, const char *rtt_title,
		     const struct mp_prtt_dir *d)
{
	mp_obj_begin(w, key, NULL);
	mp_put_u64(w, "packets", "%" PRIu64, d->packets);
	mp_put_u64(w, "bytes", "%" PRIu64, d->bytes);
	mp_put_u64(w, "retrans", "%" PRIu64, d->retrans);
	mp_put_u64(w, "retrans_bytes", "%" PRIu64, d->retrans_bytes);
	mp_put_u64(w, "dsack", "%" PRIu64, d->dsack);
	mp_put_u64(w, "dsack_bytes", "%" PRIu64, d->dsack_bytes);
	mp_put_u64(w, "lost", "%" PRIu64, mp_prtt_lost(d->retrans, d->dsack));
	mp_put_u64(w, "ts_samples", "%" PRIu64, d->ts_samples);
	mp_put_u64(w, "seq_samples", "%" PRIu64, d->seq_samples);
	rtt_obj(w, "rtt_ms", rtt_title, &d->rtt);
	mp_obj_end(w);
}

static void flow_machine(struct mp_writer *w, const struct mp_prtt_flow_info *f)
{
	mp_obj_begin(w, NULL, NULL);
	flow_labels(w, f);
	mp_put_u64(w, "ip_version", "%" PRIu64, f->family == AF_INET ? 4 : 6);
	mp_put_bool(w, "syn_seen", "%s", f->syn_seen);
	mp_put_bool(w, "timestamps", "%s", f->timestamps);
	mp_put_time(w, "first", "%s", f->first_ns);
	mp_put_time(w, "last", "%s", f->last_ns);
	mp_put_f64(w, "rtt_ms", "%.3f", ms(flow_rtt_ns(f->dir)));
	flow_dir(w, "src_to_dst", "to dst and back", &f->dir[0]);
	flow_dir(w, "dst_to_src", "to src and back", &f->dir[1]);
	mp_obj_end(w);
}

static void flow_text(struct mp_writer *w, const struct mp_prtt_flow_info *f)
{
	char n1[MP_FMT_LEN], n2[MP_FMT_LEN], n3[MP_FMT_LEN];

	mp_obj_begin(w, NULL, NULL);
	flow_text_id(w, f);
	mp_put_u64(w, "pkts", "%" PRIu64, f->dir[0].packets + f->dir[1].packets);
	mp_put_str(w, "rtt", "%s", mp_fmt_ns(n1, sizeof(n1), flow_rtt_ns(f->dir)));
	mp_put_str(w, "to dst", "%s",
		   mp_fmt_ns(n2, sizeof(n2), mp_prtt_rtt_median_ns(&f->dir[0].rtt)));
	mp_put_str(w, "to src", "%s",
		   mp_fmt_ns(n3, sizeof(n3), mp_prtt_rtt_median_ns(&f->dir[1].rtt)));
	mp_put_u64(w, "samples", "%" PRIu64, f->dir[0].rtt.count + f->dir[1].rtt.count);
	mp_writer_alert(w, f->dir[0].retrans || f->dir[1].retrans);
	mp_put_u64(w, "retx >", "%" PRIu64, f->dir[0].retrans);
	mp_put_u64(w, "retx <", "%" PRIu64, f->dir[1].retrans);
	mp_writer_alert(w, false);
	mp_obj_end(w);
}

static void counters(struct mp_writer *w, const struct tr_result *r)
{
	const struct mp_prtt_counters *c = &r->c;

	mp_put_u64(w, "rtt_samples", "%" PRIu64 " RTT samples", c->samples);
	mp_writer_alert(w, c->retrans);
	mp_put_u64(w, "retrans", "%" PRIu64 " segments retransmitted", c->retrans);
	mp_writer_alert(w, false);
	mp_put_u64(w, "dsack", "%" PRIu64 " D-SACKed", c->dsack);
	mp_obj_begin(w, "packets", "packets");
	mp_put_u64(w, "captured", "%" PRIu64 " captured", c->packets);
	mp_put_u64(w, "tcp", "%" PRIu64 " TCP", c->tcp);
	mp_put_u64(w, "other", "%" PRIu64 " other", c->other);
	mp_writer_alert(w, c->truncated || c->malformed);
	mp_put_u64(w, "truncated", "%" PRIu64 " truncated", c->truncated);
	mp_put_u64(w, "malformed", "%" PRIu64 " malformed", c->malformed);
	mp_writer_alert(w, false);
	mp_put_u64(w, "unsupported", "%" PRIu64 " unknown link", c->unsupported);
	mp_obj_end(w);
	if (r->have_drops) {
		mp_obj_begin(w, "capture", "not captured");
		mp_writer_alert(w, r->kernel_drops || r->if_drops);
		mp_put_u64(w, "kernel_drops", "%" PRIu64 " dropped by the kernel", r->kernel_drops);
		mp_put_u64(w, "if_drops", "%" PRIu64 " by the interface", r->if_drops);
		mp_writer_alert(w, false);
		mp_obj_end(w);
	}
	mp_obj_begin(w, "flow_table", "flows");
	mp_put_u64(w, "created", "%" PRIu64 " seen", c->flows_created);
	mp_put_u64(w, "active", "%" PRIu64 " in the table", c->flows_active);
	mp_put_u64(w, "expired", "%" PRIu64 " expired", c->flows_expired);
	mp_put_u64(w, "closed", "%" PRIu64 " closed", c->flows_closed);
	mp_writer_alert(w, c->flows_evicted);
	mp_put_u64(w, "evicted", "%" PRIu64 " evicted (table full)", c->flows_evicted);
	mp_writer_alert(w, false);
	mp_put_u64(w, "unlisted", "%" PRIu64 " not listed", r->flows_unkept);
	mp_obj_end(w);
}

int tr_print_summary(struct tr_printer *p, const struct tr_result *r)
{
	struct mp_writer *w = p->w;
	char title[300];
	size_t i, n;

	snprintf(title, sizeof(title), "tcprtt on %s%s", r->source,
		 r->interrupted ? " (interrupted)" : "");
	mp_doc_begin(w, title);
	mp_writer_audience(w, MP_FOR_MACHINES);
	mp_put_label(w, r->live ? "dev" : "file", "%s", r->source);
	mp_put_bool(w, "interrupted", "%s", r->interrupted);
	mp_writer_audience(w, MP_FOR_ALL);
	mp_put_f64(w, "duration_ms", "in %.0f ms", (double)r->elapsed_ns / 1e6);
	mp_put_f64_notext(w, "packet_time_s",
			  r->last_ns ? (double)(r->last_ns - r->first_ns) / 1e9 : 0);
	counters(w, r);
	/* the flows: a table for people, the full record for machines;
	 * never Prometheus series (one per flow would be unbounded) */
	if (mp_writer_format(w) == MP_FMT_TEXT) {
		n = p->o->verbose ? r->nflows : MP_MIN(r->nflows, (size_t)TEXT_FLOWS);
		mp_arr_begin(w, "flows", n < r->nflows ? "flows (by bytes; -v: all)" : "");
		for (i = 0; i < n; i++)
			flow_text(w, &r->flows[i]);
		mp_arr_end(w);
	} else if (mp_writer_format(w) != MP_FMT_PROM) {
		mp_arr_begin(w, "flows", NULL);
		for (i = 0; i < r->nflows; i++)
			flow_machine(w, &r->flows[i]);
		mp_arr_end(w);
	}
	return mp_doc_end(w);
}

const struct mp_prom_help tr_prom_help[] = {
	{ "duration_ms", "time the capture ran" },
	{ "interrupted", "stopped by SIGINT or SIGTERM" },
	{ "packet_time_s", "time from the first packet to the last" },
	{ "packets.captured", "packets captured" },
	{ "packets.tcp", "TCP segments decoded" },
	{ "packets.other", "well-formed packets that are not TCP (or IP fragments)" },
	{ "packets.truncated", "packets shorter than their headers say (not used)" },
	{ "packets.malformed", "packets whose headers cannot be true (not used)" },
	{ "packets.unsupported", "packets of a link type not decoded" },
	{ "capture.kernel_drops", "packets the kernel dropped before the capture read them" },
	{ "capture.if_drops", "packets the interface dropped" },
	{ "rtt_samples", "RTT samples taken" },
	{ "retrans", "TCP data segments seen again (retransmitted or reordered)" },
	{ "dsack", "retransmitted segments the receiver reported received twice (D-SACK)" },
	{ "flow_table.created", "TCP flows seen" },
	{ "flow_table.active", "flows in the table at the end" },
	{ "flow_table.expired", "flows ended by idleness" },
	{ "flow_table.closed", "flows ended by RST or FIN both ways" },
	{ "flow_table.evicted", "flows pushed out of the full table" },
	{ "flow_table.unlisted", "ended flows counted but not listed" },
	{ NULL, NULL },
};
