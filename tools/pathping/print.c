/* SPDX-License-Identifier: MIT */
/*
 * pathping's rendering, through lib/out only: the report (a document with
 * a hops[] table; csv: one row per hop), streamed rounds, the plot.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"
#include "pathping.h"
#include "plot.h"
#include "run.h"

enum { HOST_LEN = 320 };	/* a host cell: a name (cut there) or an address */

static void addr_str(const struct sockaddr_storage *ss, char *buf, size_t len)
{
	if (mp_addr_to_str((const struct sockaddr *)ss, buf, len) < 0)
		snprintf(buf, len, "?");
}

/* The responder that answered most often: the hop's "addr". */
static const struct pp_responder *main_responder(const struct pp_hop *h)
{
	const struct pp_responder *best = NULL;
	unsigned i;

	for (i = 0; i < h->n_addrs; i++)
		if (!best || h->addrs[i].received > best->received)
			best = &h->addrs[i];
	return best;
}

static int rtt_fields(struct mp_writer *w, struct pp_hop *h)
{
	struct mp_stats_summary s;
	double nan = NAN, jit;
	bool have = h->received && mp_stats_summary_get(h->rtt, &s) == 0;

	mp_obj_begin(w, "rtt_ms", NULL);
	mp_put_f64(w, "last", "%.3f", have ? MP_NS_TO_MS(h->last_rtt_ns) : nan);
	mp_put_f64(w, "min", "%.3f", have ? MP_NS_TO_MS(s.min_ns) : nan);
	mp_put_f64(w, "mean", "%.3f", have ? s.mean_ns / 1e6 : nan);
	mp_put_f64(w, "median", "%.3f", have ? MP_NS_TO_MS(s.median_ns) : nan);
	mp_put_f64(w, "p95", "%.3f", have ? MP_NS_TO_MS(s.p95_ns) : nan);
	mp_put_f64(w, "max", "%.3f", have ? MP_NS_TO_MS(s.max_ns) : nan);
	mp_put_f64(w, "stddev", "%.3f", have ? s.stddev_ns / 1e6 : nan);
	mp_obj_end(w);
	if (mp_jitter_get(&h->jitter, &jit) < 0)
		jit = nan;
	return mp_put_f64(w, "jitter_ms", "%.3f", jit / 1e6);
}

static const char *const if_roles[] = {
	[PP_IF_IN] = "in", [PP_IF_IN_SUB] = "in-sub", [PP_IF_OUT] = "out",
	[PP_IF_NEXTHOP] = "nexthop",
};

static void ifinfo_addr(const struct pp_ifinfo *fi, char *buf, size_t len)
{
	struct sockaddr_storage ss = { .ss_family = (sa_family_t)fi->family };

	if (fi->family == AF_INET)
		memcpy(&((struct sockaddr_in *)&ss)->sin_addr, &fi->addr, 4);
	else
		memcpy(&((struct sockaddr_in6 *)&ss)->sin6_addr, &fi->addr, 16);
	addr_str(&ss, buf, len);
}

/* RFC 4884 extensions: MPLS label stack, interface information. For the
 * machines: in prom, a stack entry is labelled by its label, an interface
 * by its role. */
static void ext_fields(struct mp_writer *w, const struct pp_hop *h)
{
	char a[MP_ADDR_STRLEN];
	unsigned i;

	mp_obj_begin(w, "extensions", NULL);
	mp_put_u64(w, "seen", "%" PRIu64, h->ext_seen);
	mp_put_u64(w, "malformed", "%" PRIu64, h->ext_bad);
	mp_arr_begin(w, "mpls", NULL);
	for (i = 0; i < h->ext.n_mpls; i++) {
		mp_obj_begin(w, NULL, NULL);
		mp_put_u64_label(w, "label", "%" PRIu64, h->ext.mpls[i].label);
		mp_put_u64(w, "tc", "%" PRIu64, h->ext.mpls[i].tc);
		mp_put_bool(w, "s", "%s", h->ext.mpls[i].s);
		mp_put_u64(w, "ttl", "%" PRIu64, h->ext.mpls[i].ttl);
		mp_obj_end(w);
	}
	mp_arr_end(w);
	mp_arr_begin(w, "interfaces", NULL);
	for (i = 0; i < h->ext.n_if; i++) {
		const struct pp_ifinfo *fi = &h->ext.ifs[i];

		mp_obj_begin(w, NULL, NULL);
		mp_put_label(w, "role", "%s", if_roles[fi->role & 3]);
		if (fi->has_index)
			mp_put_u64(w, "ifindex", "%" PRIu64, fi->ifindex);
		if (fi->has_addr) {
			ifinfo_addr(fi, a, sizeof(a));
			mp_put_str(w, "addr", "%s", a);
		}
		if (fi->has_name)
			mp_put_str(w, "name", "%s", fi->name);
		if (fi->has_mtu)
			mp_put_u64(w, "mtu", "%" PRIu64, fi->mtu);
		mp_obj_end(w);
	}
	mp_arr_end(w);
	mp_obj_end(w);
}

/* What the hop's routers quoted of the probes' TOS byte. */
static void quote_fields(struct mp_writer *w, const struct pp_hop *h)
{
	double nan = NAN;

	mp_put_u64_notext(w, "quoted", h->quoted);
	mp_put_f64_notext(w, "quoted_dscp", h->quoted ? h->quoted_tos >> 2 : nan);
	mp_put_f64_notext(w, "quoted_ecn", h->quoted ? h->quoted_tos & 3 : nan);
	mp_put_u64_notext(w, "dscp_changed", h->dscp_changed);
}

/* --all-paths: what followed responder i of hop h one TTL on. */
static void next_fields(struct mp_writer *w, const struct pp_result *res,
			const struct pp_hop *h, unsigned i)
{
	const struct pp_hop *nx = h->ttl < PP_MAX_TTL ? &res->hops[h->ttl + 1] : NULL;
	char a[MP_ADDR_STRLEN];

	mp_put_u64_notext(w, "flows_next", (uint64_t)h->next_probed[i] + h->next_lost[i]);
	mp_arr_begin(w, "next", NULL);
	for (unsigned j = 0; nx && j < nx->n_addrs; j++) {
		if (!(h->succ[i] & (1U << j)))
			continue;
		addr_str(&nx->addrs[j].addr, a, sizeof(a));
		mp_put_str(w, NULL, "%s", a);
	}
	mp_arr_end(w);
}

/* The responder a path meets at ttl, as text: "" for none, "?" for one
 * beyond the hop's list. */
static void path_at(const struct pp_result *res, const struct pp_mda_path *p, unsigned ttl,
		    char *buf, size_t len)
{
	buf[0] = '\0';
	if (p->at[ttl] >= 0)
		addr_str(&res->hops[ttl].addrs[p->at[ttl]].addr, buf, len);
	else if (p->at[ttl] == -2)
		snprintf(buf, len, "?");
}

/* --all-paths: the run's figures and every path its flows took. */
static void mda_fields(struct mp_writer *w, const struct pp_result *res,
		       const struct pp_mda_path *p, unsigned n)
{
	const struct pp_mda *m = res->mda;
	char a[MP_ADDR_STRLEN];

	mp_obj_begin(w, "all_paths", NULL);
	mp_put_u64(w, "confidence_pct", "%" PRIu64, m->confidence_pct);
	mp_put_u64(w, "probes", "%" PRIu64, m->probes);
	mp_put_u64(w, "flows", "%" PRIu64, m->n_flows);
	mp_put_bool(w, "complete", "%s", m->complete);
	mp_put_bool(w, "silent_next_hop", "%s", m->silent);
	mp_arr_begin(w, "paths", NULL);
	for (unsigned i = 0; i < n; i++) {
		mp_obj_begin(w, NULL, NULL);
		mp_put_u64_label(w, "path", "%" PRIu64, i + 1);
		mp_put_u64(w, "flows", "%" PRIu64, p[i].flows);
		mp_put_u64(w, "sent", "%" PRIu64, p[i].sent);
		mp_put_u64(w, "received", "%" PRIu64, p[i].received);
		mp_put_f64(w, "loss_pct", "%.1f",
			   p[i].sent ? 100.0 * (double)(p[i].sent - p[i].received) /
					       (double)p[i].sent : NAN);
		mp_put_f64(w, "rtt_ms", "%.3f", p[i].rtt_ns >= 0 ? MP_NS_TO_MS(p[i].rtt_ns) : NAN);
		mp_arr_begin(w, "hops", NULL);
		for (unsigned ttl = 1; ttl <= res->n_hops; ttl++) {
			path_at(res, &p[i], ttl, a, sizeof(a));
			mp_put_str(w, NULL, "%s", a);
		}
		mp_arr_end(w);
		mp_obj_end(w);
	}
	mp_arr_end(w);
	mp_obj_end(w);
}

/* Where paths part: the responders a path meets at the hops that have
 * several ("2 10.0.0.1, 4 10.0.1.3"). */
static void path_route(const struct pp_result *res, const struct pp_mda_path *p, char *buf,
		       size_t len)
{
	char a[MP_ADDR_STRLEN];
	size_t k = 0;

	buf[0] = '\0';
	for (unsigned ttl = 1; ttl <= res->n_hops && k < len; ttl++) {
		if (res->hops[ttl].n_addrs < 2)
			continue;
		path_at(res, p, ttl, a, sizeof(a));
		k += (size_t)snprintf(buf + k, len - k, "%s%u %s", k ? ", " : "", ttl,
				      *a ? a : "*");
	}
}

/* --all-paths for people: a line of figures, then a row per path. */
static void text_mda(struct mp_writer *w, const struct pp_result *res,
		     const struct pp_mda_path *p, unsigned n)
{
	const struct pp_mda *m = res->mda;
	char b[MP_FMT_LEN], line[256];
	double loss;

	snprintf(line, sizeof(line), "%u path%s in %u flows, %" PRIu64 " probes (MDA, %u%%%s)",
		 n, n == 1 ? "" : "s", m->n_flows, m->probes, m->confidence_pct,
		 m->complete ? "" : m->silent ? "; a next hop never answered" :
		 "; stopped at the flow limit");
	mp_writer_alert(w, !m->complete);
	mp_put_str(w, "all_paths", "%s", line);
	mp_writer_alert(w, false);
	if (n < 2)
		return;
	mp_writer_text_left(w, 1);
	mp_arr_begin(w, "paths", "");
	mp_writer_text_left(w, 1);
	for (unsigned i = 0; i < n; i++) {
		loss = p[i].sent ? 100.0 * (double)(p[i].sent - p[i].received) / (double)p[i].sent
				 : 0;
		path_route(res, &p[i], line, sizeof(line));
		mp_obj_begin(w, NULL, NULL);
		snprintf(b, sizeof(b), "%u.", i + 1);
		mp_put_str(w, "path", "%s", b);
		mp_put_u64(w, "flows", "%" PRIu64, p[i].flows);
		mp_writer_alert(w, loss > 0);
		mp_put_f64(w, "loss", "%.1f%%", loss);
		mp_writer_alert(w, false);
		mp_put_str(w, "rtt", "%s", p[i].rtt_ns >= 0 ?
			   mp_fmt_ns(b, sizeof(b), (double)p[i].rtt_ns) : "-");
		mp_put_str(w, "where it parts", "%s", line);
		mp_obj_end(w);
	}
	mp_arr_end(w);
}

/* The median RTT at a hop, -1 when it never answered. */
static double hop_median_ns(const struct pp_hop *h)
{
	struct mp_stats_summary s;

	return h->received && mp_stats_summary_get(h->rtt, &s) == 0 ? s.median_ns : -1;
}

/* A segment of the mesh path: the tunnel into hop ttl. *add_ns: the RTT it
 * adds (the median here less the one before), -1 when unknown. */
static double seg_rtt_ns(const struct pp_result *res, unsigned ttl, double *add_ns)
{
	double here = hop_median_ns(&res->hops[ttl]);
	double before = ttl > 1 ? hop_median_ns(&res->hops[ttl - 1]) : 0;

	*add_ns = here >= 0 && before >= 0 ? here - before : -1;
	return here;
}

/* --via: meshctl's path, the sites traced, and a row per segment. */
static void via_fields(struct mp_writer *w, const struct pp_result *res, bool text)
{
	const struct pp_via *v = res->via;
	char b[MP_FMT_LEN], seg[16], a[MP_ADDR_STRLEN], line[256];

	if (text) {
		/* the table's title: the path, and whether the probes took it */
		snprintf(line, sizeof(line), "mesh path to site %u: %s (%s, meshctl cost %s); "
			 "traced %s%s", v->site, v->path, v->kind,
			 isnan(v->cost_ms) ? "-" : mp_fmt_ns(b, sizeof(b), v->cost_ms * 1e6),
			 v->traced, v->follows ? "" : ", not meshctl's path");
		mp_writer_text_left(w, 3);	/* segment, hop and host */
		mp_arr_begin(w, "segments", line);
		mp_writer_text_left(w, 1);
	} else {
		mp_obj_begin(w, "via", NULL);
		mp_put_u64_label(w, "site", "%" PRIu64, v->site);
		mp_put_str(w, "path", "%s", v->path);
		mp_put_str(w, "kind", "%s", v->kind);
		mp_put_f64(w, "cost_ms", "%.3f", v->cost_ms);
		mp_put_f64(w, "est_ms", "%.3f", v->est_ms);
		mp_put_str(w, "traced", "%s", v->traced);
		mp_put_bool(w, "follows", "%s", v->follows);
		mp_arr_begin(w, "segments", NULL);
	}
	for (unsigned k = 1; k < v->n_sites && k <= res->n_hops; k++) {
		const struct pp_hop *h = &res->hops[k];
		double add, rtt = seg_rtt_ns(res, k, &add);

		a[0] = '\0';
		if (h->n_addrs)
			addr_str(&h->addrs[0].addr, a, sizeof(a));
		snprintf(seg, sizeof(seg), "%u>%u", v->sites[k - 1], v->sites[k]);
		mp_obj_begin(w, NULL, NULL);
		if (text) {
			mp_put_str(w, "segment", "%s", seg);
			mp_put_u64(w, "hop", "%" PRIu64, k);
			mp_put_str(w, "host", "%s", *a ? a : "???");
			mp_writer_alert(w, h->link_loss_pct > 0 || v->hop_site[k] != (int)v->sites[k]);
			mp_put_f64(w, "loss", "%.1f%%", h->link_loss_pct);
			mp_writer_alert(w, false);
			mp_put_str(w, "rtt", "%s", rtt >= 0 ? mp_fmt_ns(b, sizeof(b), rtt) : "-");
			mp_put_str(w, "+rtt", "%s", add >= 0 ? mp_fmt_ns(b, sizeof(b), add) : "-");
		} else {
			mp_put_u64_label(w, "from", "%" PRIu64, v->sites[k - 1]);
			mp_put_u64_label(w, "to", "%" PRIu64, v->sites[k]);
			mp_put_u64(w, "ttl", "%" PRIu64, k);
			mp_put_str(w, "addr", "%s", a);
			mp_put_i64(w, "site", "%" PRId64, v->hop_site[k]);
			mp_put_f64(w, "link_loss_pct", "%.1f", h->link_loss_pct);
			mp_put_f64(w, "rtt_ms", "%.3f", rtt >= 0 ? rtt / 1e6 : NAN);
			mp_put_f64(w, "added_ms", "%.3f", add >= 0 ? add / 1e6 : NAN);
		}
		mp_obj_end(w);
	}
	mp_arr_end(w);
	if (!text)
		mp_obj_end(w);
}

/* addr's reverse DNS name, "" when it has none (or -n). */
static const char *name_of(const struct pp_result *res, const struct sockaddr_storage *addr)
{
	const char *n = mp_rdns_name(res->names, addr);

	return n ? n : "";
}

/* A responder for people: its name if it has one, else its address. */
static void host_str(const struct pp_result *res, const struct sockaddr_storage *addr,
		     char *buf, size_t len)
{
	const char *n = mp_rdns_name(res->names, addr);

	if (n)
		snprintf(buf, len, "%s", n);
	else
		addr_str(addr, buf, len);
}

static int hop_fields(struct mp_writer *w, const struct pp_result *res, struct pp_hop *h,
		      bool with_addrs)
{
	const struct pp_responder *m = main_responder(h);
	char a[MP_ADDR_STRLEN] = "";
	unsigned i;

	if (m)
		addr_str(&m->addr, a, sizeof(a));
	mp_put_u64_label(w, "hop", "%3" PRIu64 ".|--", h->ttl);
	mp_put_u64_notext(w, "ttl", h->ttl);
	mp_put_str(w, "addr", "%s", a);
	mp_put_str_notext(w, "name", m ? name_of(res, &m->addr) : "");
	mp_put_u64(w, "responders", "%" PRIu64, (uint64_t)h->n_addrs + !!h->other_received);
	mp_put_f64(w, "loss_pct", "%.1f%%", h->loss_pct);
	mp_put_f64(w, "node_loss_pct", "%.1f%%", h->node_loss_pct);
	mp_put_f64(w, "link_loss_pct", "%.1f%%", h->link_loss_pct);
	mp_put_u64(w, "sent", "%" PRIu64, h->sent);
	mp_put_u64(w, "received", "%" PRIu64, h->received);
	rtt_fields(w, h);
	mp_put_bool(w, "ratelimited", "%s", h->ratelimited);
	quote_fields(w, h);
	if (!with_addrs)
		return 0;
	mp_arr_begin(w, "addrs", NULL);
	for (i = 0; i < h->n_addrs; i++) {
		addr_str(&h->addrs[i].addr, a, sizeof(a));
		mp_obj_begin(w, NULL, NULL);
		mp_put_str_notext(w, "addr", a);
		mp_put_str_notext(w, "name", name_of(res, &h->addrs[i].addr));
		mp_put_u64_notext(w, "received", h->addrs[i].received);
		mp_put_f64_notext(w, "share_pct",
				  100.0 * (double)h->addrs[i].received / (double)h->received);
		if (res->mda)
			next_fields(w, res, h, i);
		mp_obj_end(w);
	}
	return mp_arr_end(w);
}

/* A DSCP for people: its name if it has one, else the number. */
static const char *dscp_str(uint8_t dscp, char *buf, size_t len)
{
	const char *n = mp_dscp_name(dscp);

	if (n)
		return n;
	snprintf(buf, len, "%u", dscp);
	return buf;
}

/* A row with only a responder (NULL: "others") in the host column; the
 * cells after it are left out, so the line ends there. */
static void responder_row(struct mp_writer *w, const struct pp_result *res,
			  const struct sockaddr_storage *addr)
{
	char a[HOST_LEN] = "others";

	if (addr)
		host_str(res, addr, a, sizeof(a));
	mp_obj_begin(w, NULL, NULL);
	mp_put_str(w, "hop", "%s", " ");	/* blank: an empty cell reads "-" */
	mp_put_str(w, "host", "%s", a);
	mp_obj_end(w);
}

/* One hop's row for people: mtr's columns, loss split into node and link;
 * with dscp, the DSCP its routers quoted, in red when not the one sent. */
static void text_hop(struct mp_writer *w, const struct pp_result *res, struct pp_hop *h,
		     bool dscp)
{
	const struct pp_responder *m = main_responder(h);
	struct mp_stats_summary s;
	char a[HOST_LEN] = "*", b[MP_FMT_LEN];
	bool have = h->received && mp_stats_summary_get(h->rtt, &s) == 0;

	if (m)	/* the most frequent responder */
		host_str(res, &m->addr, a, sizeof(a));
	mp_obj_begin(w, NULL, NULL);
	snprintf(b, sizeof(b), "%2u.", h->ttl);
	mp_put_str(w, "hop", "%s", b);
	mp_put_str(w, "host", "%s", a);
	mp_writer_alert(w, h->node_loss_pct > 0);
	mp_put_f64(w, "node%", "%.1f%%", h->node_loss_pct);
	mp_writer_alert(w, h->link_loss_pct > 0);
	mp_put_f64(w, "link%", "%.1f%%", h->link_loss_pct);
	mp_writer_alert(w, false);
	mp_put_u64(w, "sent", "%" PRIu64, h->sent);
	mp_put_str(w, "last", "%s", have ? mp_fmt_ns(b, sizeof(b), (double)h->last_rtt_ns) : "-");
	mp_put_str(w, "avg", "%s", have ? mp_fmt_ns(b, sizeof(b), s.mean_ns) : "-");
	mp_put_str(w, "best", "%s", have ? mp_fmt_ns(b, sizeof(b), (double)s.min_ns) : "-");
	mp_put_str(w, "worst", "%s", have ? mp_fmt_ns(b, sizeof(b), (double)s.max_ns) : "-");
	mp_put_str(w, "stdev", "%s", have ? mp_fmt_ns(b, sizeof(b), s.stddev_ns) : "-");
	if (dscp) {
		mp_writer_alert(w, h->quoted && h->quoted_tos >> 2 != res->tos >> 2);
		mp_put_str(w, "dscp", "%s",
			   h->quoted ? dscp_str(h->quoted_tos >> 2, b, sizeof(b)) : "-");
		mp_writer_alert(w, false);
	}
	mp_obj_end(w);
	/* the other responders, a line each below it, as mtr shows them */
	for (unsigned i = 0; m && i < h->n_addrs; i++)
		if (&h->addrs[i] != m)
			responder_row(w, res, &h->addrs[i].addr);
	if (m && h->other_received)
		responder_row(w, res, NULL);
}

/* The first hop whose routers quote another DSCP than the one sent: the
 * probes were remarked before they reached it. 0 if none. */
static unsigned remark_hop(const struct pp_result *res, unsigned last)
{
	for (unsigned ttl = 1; ttl <= last; ttl++) {
		const struct pp_hop *h = &res->hops[ttl];

		if (h->quoted && h->quoted_tos >> 2 != res->tos >> 2)
			return ttl;
	}
	return 0;
}

/* A hop's extensions in a line: "MPLS 24001 tc 0 ttl 1, 16 tc 0 ttl 255;
 * in eth1 (3) 192.0.2.1 mtu 1500". */
static void ext_line(const struct pp_ext *e, char *buf, size_t len)
{
	char a[MP_ADDR_STRLEN];
	size_t n = 0;
	unsigned i;

	buf[0] = '\0';
	for (i = 0; i < e->n_mpls && n < len; i++)
		n += (size_t)snprintf(buf + n, len - n, "%s%" PRIu32 " tc %u ttl %u",
				      i ? ", " : "MPLS ", e->mpls[i].label, e->mpls[i].tc,
				      e->mpls[i].ttl);
	for (i = 0; i < e->n_if && n < len; i++) {
		const struct pp_ifinfo *fi = &e->ifs[i];

		n += (size_t)snprintf(buf + n, len - n, "%s%s", n ? "; " : "",
				      if_roles[fi->role & 3]);
		if (fi->has_name && n < len)
			n += (size_t)snprintf(buf + n, len - n, " %s", fi->name);
		if (fi->has_index && n < len)
			n += (size_t)snprintf(buf + n, len - n, " (%" PRIu32 ")", fi->ifindex);
		if (fi->has_addr && n < len) {
			ifinfo_addr(fi, a, sizeof(a));
			n += (size_t)snprintf(buf + n, len - n, " %s", a);
		}
		if (fi->has_mtu && n < len)
			n += (size_t)snprintf(buf + n, len - n, " mtu %" PRIu32, fi->mtu);
	}
}

/* One row below the hops: a hop and what it says. */
static void note_row(struct mp_writer *w, unsigned ttl, bool alert, const char *note)
{
	char b[16];

	mp_obj_begin(w, NULL, NULL);
	snprintf(b, sizeof(b), "%2u.", ttl);
	mp_put_str(w, "hop", "%s", b);
	mp_writer_alert(w, alert);
	mp_put_str(w, "note", "%s", note);
	mp_writer_alert(w, false);
	mp_obj_end(w);
}

/* Below the hops, by hop: where the DSCP changed, each hop's extensions. */
static void text_notes(struct mp_writer *w, const struct pp_result *res, unsigned last)
{
	unsigned r = remark_hop(res, last), ttl;
	char b[MP_FMT_LEN], c[MP_FMT_LEN], line[256];
	bool any = r;

	for (ttl = 1; ttl <= last && !any; ttl++)
		any = res->hops[ttl].ext.n_mpls || res->hops[ttl].ext.n_if;
	if (!any)
		return;
	mp_writer_text_left(w, 2);
	mp_arr_begin(w, "notes", "");
	for (ttl = 1; ttl <= last; ttl++) {
		const struct pp_hop *h = &res->hops[ttl];

		if (ttl == r) {
			snprintf(line, sizeof(line), "DSCP %s sent, %s quoted from here on",
				 dscp_str(res->tos >> 2, b, sizeof(b)),
				 dscp_str(h->quoted_tos >> 2, c, sizeof(c)));
			note_row(w, ttl, true, line);
		}
		if (h->ext.n_mpls || h->ext.n_if) {
			ext_line(&h->ext, line, sizeof(line));
			note_row(w, ttl, false, line);
		}
	}
	mp_arr_end(w);
}

/* The text a person reads (mtr --report is the model): one line, the hops
 * up to the last that answered, loss split into node and link. */
static void text_result(struct mp_writer *w, struct pp_result *res)
{
	unsigned last = 0;
	char b[MP_FMT_LEN], t[96];

	for (unsigned ttl = 1; ttl <= res->n_hops; ttl++)
		if (res->hops[ttl].received)
			last = ttl;
	if (res->reached)
		snprintf(t, sizeof(t), "reached in %u hop%s", res->dest_ttl,
			 res->dest_ttl == 1 ? "" : "s");
	else
		snprintf(t, sizeof(t), "not reached: no reply from the target in %u hops",
			 res->n_hops);
	mp_writer_alert(w, !res->reached);
	mp_put_str(w, "reached", "%s", t);
	mp_writer_alert(w, false);
	mp_put_u64(w, "rounds", "%" PRIu64 " rounds", res->rounds);
	mp_put_str(w, "duration", "in %s", mp_fmt_ns(b, sizeof(b), (double)res->duration_ns));
	if (res->interrupted)
		mp_put_str(w, "interrupted", "%s", "interrupted");
	if (!last)
		return;
	mp_writer_text_left(w, 2);	/* hop and host */
	mp_arr_begin(w, "hops", "");
	mp_writer_text_left(w, 1);
	for (unsigned ttl = 1; ttl <= last; ttl++)
		text_hop(w, res, &res->hops[ttl], res->tos_set || remark_hop(res, last));
	mp_arr_end(w);
	text_notes(w, res, last);
}

int pp_print(struct pp_result *res, struct mp_writer *w, bool wide)
{
	struct pp_mda_path *paths = NULL;
	char title[400];
	unsigned ttl, np = 0;
	int r;

	/* a csv stream is one table: the hops, one row each */
	if (mp_writer_format(w) == MP_FMT_CSV) {
		mp_writer_set_table(w, "hop");
		for (ttl = 1; ttl <= res->n_hops; ttl++) {
			mp_record_begin(w, "hop");
			hop_fields(w, res, &res->hops[ttl], false);
			mp_record_end(w);
		}
		return 0;
	}
	snprintf(title, sizeof(title), "pathping to %s%s%s%s, %s probes",
		 res->target ? res->target : res->dst_str, res->target ? " (" : "",
		 res->target ? res->dst_str : "", res->target ? ")" : "", res->probe);
	if (res->mda) {
		paths = calloc(PP_MDA_FLOWS_MAX, sizeof(*paths));
		if (!paths)
			return -ENOMEM;
		np = pp_mda_paths(res, paths, PP_MDA_FLOWS_MAX);
	}
	mp_doc_begin(w, title);
	if (!wide) {
		mp_writer_audience(w, MP_FOR_TEXT);
		text_result(w, res);
		if (res->mda)
			text_mda(w, res, paths, np);
		if (res->via)
			via_fields(w, res, true);
		mp_writer_audience(w, MP_FOR_MACHINES);
	}
	mp_put_label(w, "dst", "dst %s", res->target ? res->target : res->dst_str);
	mp_put_str(w, "addr", "(%s)", res->dst_str);
	mp_put_str(w, "probe", "%s", res->probe);
	mp_put_u64(w, "ip_version", "IPv%" PRIu64, res->dst.ss_family == AF_INET ? 4 : 6);
	mp_put_bool(w, "reached", "reached %s", res->reached);
	mp_put_u64(w, "dest_ttl", "%" PRIu64 " hops", res->dest_ttl);
	mp_put_u64(w, "rounds", "%" PRIu64 " rounds", res->rounds);
	mp_put_f64(w, "duration_ms", "in %.0f ms", MP_NS_TO_MS(res->duration_ns));
	mp_put_bool_notext(w, "raw_sockets", res->raw);
	mp_put_u64_notext(w, "flow", res->flow);
	mp_put_u64_notext(w, "dscp", res->tos >> 2);
	mp_put_u64_notext(w, "ecn", res->tos & 3);
	mp_put_bool_notext(w, "interrupted", res->interrupted);
	mp_put_u64_notext(w, "unmatched", res->unmatched);
	mp_put_u64_notext(w, "late", res->late);
	mp_put_u64_notext(w, "tx_kernel_stamps", res->tx_kernel_stamps);
	mp_put_u64_notext(w, "rx_kernel_stamps", res->rx_kernel_stamps);
	mp_arr_begin(w, "hops", NULL);
	for (ttl = 1; ttl <= res->n_hops; ttl++) {
		mp_obj_begin(w, NULL, NULL);
		hop_fields(w, res, &res->hops[ttl], true);
		mp_writer_audience(w, MP_FOR_MACHINES);
		ext_fields(w, &res->hops[ttl]);
		mp_writer_audience(w, wide ? MP_FOR_ALL : MP_FOR_MACHINES);
		mp_obj_end(w);
	}
	mp_arr_end(w);
	if (res->mda)
		mda_fields(w, res, paths, np);
	if (res->via)
		via_fields(w, res, false);
	mp_writer_audience(w, MP_FOR_ALL);
	r = mp_doc_end(w);
	free(paths);
	return r;
}

int pp_print_event(const struct pp_event *ev, void *ctx)
{
	struct mp_writer *w = ctx;
	char a[MP_ADDR_STRLEN] = "";

	if (ev->answered)
		addr_str(&ev->from, a, sizeof(a));
	mp_record_begin(w, "round");
	mp_put_u64(w, "round", "%" PRIu64, ev->round);
	mp_put_u64(w, "ttl", "%" PRIu64, ev->ttl);
	mp_put_str(w, "addr", "%s", a);
	mp_put_bool(w, "received", "%s", ev->answered);
	mp_put_f64(w, "rtt_ms", "%.3f", ev->answered ? MP_NS_TO_MS(ev->rtt_ns) : NAN);
	return mp_record_end(w);
}

/* One row per hop that answered: min, mean, p95, max, median. */
static int plot_rows(struct mp_writer *w, const void *ctx)
{
	const struct pp_result *res = ctx;
	struct mp_stats_summary s;
	int r = 0;

	for (unsigned ttl = 1; r == 0 && ttl <= res->n_hops; ttl++) {
		const struct pp_hop *h = &res->hops[ttl];

		if (!h->received || mp_stats_summary_get(h->rtt, &s) < 0)
			continue;
		mp_record_begin(w, "hop");
		mp_put_u64(w, "ttl", "%" PRIu64, ttl);
		mp_put_f64(w, "min_ms", "%.3f", MP_NS_TO_MS(s.min_ns));
		mp_put_f64(w, "mean_ms", "%.3f", s.mean_ns / 1e6);
		mp_put_f64(w, "p95_ms", "%.3f", MP_NS_TO_MS(s.p95_ns));
		mp_put_f64(w, "max_ms", "%.3f", MP_NS_TO_MS(s.max_ns));
		mp_put_f64(w, "median_ms", "%.3f", MP_NS_TO_MS(s.median_ns));
		r = mp_record_end(w);
	}
	return r;
}

/* Per-hop RTT (min, mean, p95, max) against the hop number. */
int pp_plot(struct pp_result *res, const char *png)
{
	static const struct mp_plot_series series[] = {
		{ .title = "min", .x_col = 1, .y_col = 2, .style = "linespoints" },
		{ .title = "mean", .x_col = 1, .y_col = 3, .style = "linespoints" },
		{ .title = "p95", .x_col = 1, .y_col = 4, .style = "linespoints" },
		{ .title = "max", .x_col = 1, .y_col = 5, .style = "linespoints" },
	};
	struct mp_plot p = {
		.png_path = png, .title = "pathping: RTT per hop",
		.xlabel = "hop (TTL)", .ylabel = "RTT (ms)", .series = series,
		.n_series = MP_ARRAY_SIZE(series),
	};
	char err[160];
	int r = mp_plot_rows(&p, "pathping", plot_rows, res, err, sizeof(err));

	if (r < 0)
		mp_warnx("plot %s: %s", png, *err ? err : strerror(-r));
	return r;
}

int pp_plot_csv(const struct pp_result *res, const char *path)
{
	int r = mp_plot_csv(path, "pathping", plot_rows, res);

	if (r < 0)
		mp_warn(-r, "plot rows %s", path);
	return r;
}

/* Several targets: the median RTT per hop of each, one curve per target. */
int pp_plot_targets(const struct mp_run_target *t, size_t n, const char *png, void *ctx)
{
	struct mp_plot_series series[MP_RUN_PLOT_MAX];
	struct mp_plot p = {
		.png_path = png, .title = "pathping: median RTT per hop",
		.xlabel = "hop (TTL)", .ylabel = "RTT (ms)", .series = series, .n_series = n,
	};
	char err[160];
	int r;

	(void)ctx;
	if (n > MP_RUN_PLOT_MAX)
		return -EINVAL;
	for (size_t i = 0; i < n; i++)
		series[i] = (struct mp_plot_series){ .title = t[i].host, .x_col = 1, .y_col = 6,
						     .style = "linespoints",
						     .csv_path = t[i].plot_csv };
	r = mp_plot_render(&p, err, sizeof(err));
	if (r < 0)
		mp_warnx("plot %s: %s", png, *err ? err : strerror(-r));
	return r;
}

/* Prometheus HELP (docs/FORMATS.md has the same words, longer). */
const struct mp_prom_help pp_prom_help[] = {
	{ "ip_version", "IP version of the probes (4 or 6)" },
	{ "reached", "1 when the target answered" },
	{ "dest_ttl", "TTL at which the target answered (0: not reached)" },
	{ "rounds", "probe rounds resolved (one probe per hop each)" },
	{ "duration_ms", "wall time of the run" },
	{ "raw_sockets", "1 when raw sockets were used" },
	{ "flow", "the probes' flow: UDP/TCP source port or ICMP identifier" },
	{ "via.cost_ms", "meshctl's cost of its path to the site (raw one-way sum)" },
	{ "via.est_ms", "meshctl's offset-free estimate of that path" },
	{ "via.follows", "1 when the probes met exactly the sites of meshctl's path" },
	{ "via.segments.ttl", "hop at which the segment's far site answered" },
	{ "via.segments.site", "site of the hop's responder (-1: none known)" },
	{ "via.segments.link_loss_pct", "loss on the segment (the link loss into its hop)" },
	{ "via.segments.rtt_ms", "median round-trip time to the segment's far site" },
	{ "via.segments.added_ms", "round-trip time the segment adds to the one before" },
	{ "dscp", "DSCP the probes were sent with" },
	{ "ecn", "ECN bits the probes were sent with" },
	{ "interrupted", "1 when SIGINT or SIGTERM ended the run early" },
	{ "unmatched", "ICMP or TCP packets read that answered none of the run's probes" },
	{ "late", "replies after their probe's timeout (not counted received)" },
	{ "tx_kernel_stamps", "probes timed by the kernel's send timestamp" },
	{ "rx_kernel_stamps", "replies timed by the kernel's receive timestamp" },
	{ "hops.ttl", "TTL (hop limit) of the hop's probes" },
	{ "hops.responders", "distinct addresses that answered at this TTL" },
	{ "hops.sent", "probes sent to this hop and resolved" },
	{ "hops.received", "probes this hop answered" },
	{ "hops.loss_pct", "share of this hop's probes unanswered" },
	{ "hops.node_loss_pct", "loss of this hop's own replies, not seen further on the path" },
	{ "hops.link_loss_pct", "loss introduced on the link just before this hop" },
	{ "hops.rtt_ms", "round-trip time to this hop" },
	{ "hops.jitter_ms", "RFC 3550 interarrival jitter of this hop's replies" },
	{ "hops.ratelimited", "1 when this hop's losses look like ICMP rate limiting" },
	{ "hops.quoted", "replies quoting the probe's IP header (raw sockets)" },
	{ "hops.quoted_dscp", "DSCP of the probe as this hop quoted it last" },
	{ "hops.quoted_ecn", "ECN bits of the probe as this hop quoted them last" },
	{ "hops.dscp_changed", "quotes with a DSCP other than the one sent" },
	{ "hops.extensions.seen", "replies carrying RFC 4884 extensions" },
	{ "hops.extensions.malformed", "replies whose RFC 4884 extensions were malformed" },
	{ "hops.extensions.mpls.label", "MPLS label of the hop's label stack (RFC 4950)" },
	{ "hops.extensions.mpls.tc", "MPLS traffic class of the label stack entry" },
	{ "hops.extensions.mpls.s", "1 for the bottom of the MPLS label stack" },
	{ "hops.extensions.mpls.ttl", "MPLS TTL of the label stack entry" },
	{ "hops.extensions.interfaces.ifindex", "interface index the hop reported (RFC 5837)" },
	{ "hops.extensions.interfaces.mtu", "interface MTU the hop reported (RFC 5837)" },
	{ "hops.addrs.flows_next", "flows through this responder probed one hop further" },
	{ "all_paths.confidence_pct", "confidence of the multipath detection" },
	{ "all_paths.probes", "probes the multipath detection sent" },
	{ "all_paths.flows", "flows the multipath detection traced" },
	{ "all_paths.complete", "1 when the multipath detection's stopping rule held everywhere" },
	{ "all_paths.silent_next_hop", "1 when a responder's next hop never answered" },
	{ "all_paths.paths.flows", "flows that took this path" },
	{ "all_paths.paths.sent", "probes sent along this path" },
	{ "all_paths.paths.received", "probes answered along this path" },
	{ "all_paths.paths.loss_pct", "share of this path's probes unanswered" },
	{ "all_paths.paths.rtt_ms", "median round-trip time at this path's last hop" },
	{ "hops.addrs.received", "replies from this responder at this hop" },
	{ "hops.addrs.share_pct", "share of this hop's replies from this responder" },
	{ NULL, NULL }
};
