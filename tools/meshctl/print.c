/* SPDX-License-Identifier: MIT */
/*
 * print: links, routes, paths and status through lib/out. Listings are
 * records (one per tunnel, route, site: text rows padded so that they line
 * up as they stream); Prometheus gets one document of gauges labelled by
 * tunnel and site, since it has no records. Routes are read from the kernel
 * as they are, so what `show routes` prints is what `ip route` holds.
 */
#include <arpa/inet.h>
#include <linux/rtnetlink.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "meshctl.h"

struct addr_item {
	int rank;	/* 0: this site's net on lo, 1: this site's net, 2: other */
	size_t order;	/* as dumped */
	char text[INET6_ADDRSTRLEN];
};

struct addrs {
	struct addr_item *v;
	size_t n, cap;
	const struct mc_plan *own;	/* this site's net goes first */
	unsigned self;
};

static const char *state_name(enum mc_tunnel_state st)
{
	return st == MC_ST_UP ? "up" : st == MC_ST_DOWN ? "down" : "init";
}

static double ms(int64_t ns)
{
	return (double)ns / 1e6;
}

static void addr_str(const struct mp_nl_addr *a, char *buf, size_t len)
{
	if (!a->family || !inet_ntop(a->family, a->bytes, buf, (socklen_t)len))
		snprintf(buf, len, "%s", "");
}

static double age_s(uint64_t since_ns, uint64_t now_ns)
{
	return since_ns && now_ns > since_ns ? (double)(now_ns - since_ns) / 1e9 : 0;
}

/* A tunnel's row for people (`wg show` and mtr are the model): each
 * figure with its own unit, loss out and back, a tunnel not up in red. */
static int text_link(struct mp_writer *w, const struct mc_tunnel *t)
{
	const struct mc_metrics *m = &t->m;
	char b[MP_FMT_LEN];
	int r = 0;

	mp_writer_audience(w, MP_FOR_TEXT);
	r |= mp_put_str(w, "tunnel", "%s", t->ifname);
	r |= mp_put_u64(w, "site", "%" PRIu64, t->remote_site);
	mp_writer_alert(w, t->state != MC_ST_UP);
	r |= mp_put_str(w, "state", "%s", state_name(t->state));
	mp_writer_alert(w, false);
	r |= mp_put_str(w, "rtt", "%s", m->valid ? mp_fmt_ns(b, sizeof(b), (double)m->rtt_median_ns) :
						 "-");
	r |= mp_put_str(w, "delay out", "%s", m->valid ? mp_fmt_ns(b, sizeof(b), (double)m->fwd_ns) :
						       "-");
	r |= mp_put_str(w, "delay back", "%s", m->valid ? mp_fmt_ns(b, sizeof(b), (double)m->rev_ns) :
							"-");
	mp_writer_alert(w, m->loss_fwd > 0);
	r |= mp_put_f64(w, "loss out", "%.1f%%", 100 * m->loss_fwd);
	mp_writer_alert(w, m->loss_rev > 0);
	r |= mp_put_f64(w, "loss back", "%.1f%%", 100 * m->loss_rev);
	mp_writer_alert(w, false);
	r |= mp_put_str(w, "jitter", "%s", m->valid ?
			mp_fmt_ns(b, sizeof(b), (double)m->jitter_fwd_ns) : "-");
	r |= mp_put_str(w, "cost", "%s", m->valid ?
			mp_fmt_ns(b, sizeof(b), (double)t->cost_us * 1e3) : "-");
	mp_writer_audience(w, MP_FOR_MACHINES);
	return r;
}

/* A tunnel; rxcost: the Babel rxcost given to BIRD (0: excluded), -1 when
 * meshctl routes by itself. */
static int put_link(struct mp_writer *w, const struct mc_tunnel *t, int rxcost, uint64_t now)
{
	const struct mc_metrics *m = &t->m;
	double nan_ = m->valid ? 0 : __builtin_nan("");
	char la[INET6_ADDRSTRLEN], pa[INET6_ADDRSTRLEN];
	int r = text_link(w, t);

	addr_str(&t->local_addr, la, sizeof(la));
	addr_str(&t->peer_addr, pa, sizeof(pa));
	r |= mp_put_label(w, "tunnel", "%-12s", t->ifname);
	if (mp_writer_format(w) == MP_FMT_PROM) {
		char site[8];

		snprintf(site, sizeof(site), "%u", t->remote_site);
		r |= mp_put_label(w, "site", "%s", site);
		r |= mp_put_label(w, "outer", "%s", t->outer_family == AF_INET ? "v4" : "v6");
	} else {
		r |= mp_put_u64(w, "site", "%4" PRIu64, t->remote_site);
		r |= mp_put_str_notext(w, "outer", t->outer_family == AF_INET ? "v4" : "v6");
	}
	r |= mp_put_str(w, "state", "%-5s", state_name(t->state));
	r |= mp_put_f64(w, "rtt_ms", "%8.3f", ms((int64_t)m->rtt_median_ns) + nan_);
	r |= mp_put_f64(w, "fwd_ms", "%9.3f", ms(m->fwd_ns) + nan_);
	r |= mp_put_f64(w, "rev_ms", "%9.3f", ms(m->rev_ns) + nan_);
	r |= mp_put_f64(w, "loss_fwd_pct", "%6.1f", 100 * m->loss_fwd);
	r |= mp_put_f64(w, "loss_rev_pct", "%6.1f", 100 * m->loss_rev);
	r |= mp_put_f64(w, "jitter_ms", "%7.3f", ms((int64_t)m->jitter_fwd_ns) + nan_);
	r |= mp_put_f64(w, "cost_ms", "%8.3f", (double)t->cost_us / 1e3 + nan_);
	r |= mp_put_f64_notext(w, "avail_pct", 100 * m->avail);
	r |= mp_put_f64_notext(w, "jitter_rev_ms", ms((int64_t)m->jitter_rev_ns) + nan_);
	r |= mp_put_f64_notext(w, "srtt_ms", ms((int64_t)m->rtt_ns) + nan_);
	r |= mp_put_f64_notext(w, "rttvar_ms", ms((int64_t)m->rttvar_ns) + nan_);
	r |= mp_put_f64_notext(w, "loss_pct", 100 * m->loss);
	r |= mp_put_u64_notext(w, "sent", m->sent);
	r |= mp_put_u64_notext(w, "received", m->received);
	r |= mp_put_f64_notext(w, "state_age_s", age_s(t->state_since_mono_ns, now));
	r |= mp_put_u64_notext(w, "state_changes", t->changes);
	r |= mp_put_u64_notext(w, "clock_steps", m->clock_steps);
	r |= mp_put_f64_notext(w, "handshake_age_s", m->handshake_age_ns == UINT64_MAX ?
			       __builtin_nan("") : (double)m->handshake_age_ns / 1e9);
	r |= mp_put_u64_notext(w, "mtu_bytes", t->mtu_bytes);
	if (rxcost >= 0)
		r |= mp_put_u64_notext(w, "bird_rxcost", (uint64_t)rxcost);
	if (mp_writer_format(w) != MP_FMT_PROM) {
		r |= mp_put_str_notext(w, "why", t->why);
		r |= mp_put_str_notext(w, "local", la);
		r |= mp_put_str_notext(w, "peer", pa);
	}
	mp_writer_audience(w, MP_FOR_ALL);
	return r;
}

static int link_rxcost(const struct mc_state *s, size_t i)
{
	return s->bird ? mc_bird_tunnel_rxcost(s->bird, i) : -1;
}

int mc_print_links(struct mp_writer *w, const struct mc_state *s)
{
	uint64_t now = mp_clock_mono_ns();
	size_t i;
	int r = 0;

	if (mp_writer_format(w) == MP_FMT_PROM)
		return mc_print_metrics(w, s);
	for (i = 0; i < s->nt && r == 0; i++) {
		r = mp_record_begin(w, "link");
		if (r == 0)
			r = put_link(w, &s->t[i], link_rxcost(s, i), now);
		if (r == 0)
			r = mp_record_end(w);
	}
	return r;
}

static const char *tunnel_name(const struct mc_state *s, int ifindex)
{
	int i = mc_state_tunnel_by_ifindex(s, ifindex);

	return i >= 0 ? s->t[i].ifname : "";
}

static void best_str(const struct mc_state *s, unsigned site, char *buf, size_t len)
{
	uint8_t sites[MC_PATH_MAX];
	int32_t idx[MC_PATH_MAX];
	size_t off = 0;
	int n = -ENOENT;

	buf[0] = '\0';
	if (s->decided)
		n = mc_paths_walk(&s->paths, s->edges, site, sites, idx, MC_PATH_MAX);
	for (int i = 0; i < n && off < len; i++)
		off += (size_t)snprintf(buf + off, len - off, "%s%u", i ? ">" : "", sites[i]);
}

/* A site's row for people: its path, the cost with its unit, the best path
 * when another one waits, why, then the cost with its unit and since when
 * (mc_print_paths left-aligns the first six); a site without a path red. */
static int text_choice(struct mp_writer *w, const struct mc_choice *c, unsigned site,
		       const char *kind, const char *path, const char *tunnel,
		       const char *best, double age)
{
	char b[MP_FMT_LEN];
	int r = 0;

	mp_writer_audience(w, MP_FOR_TEXT);
	r |= mp_put_u64(w, "site", "%" PRIu64, site);
	mp_writer_alert(w, !c->set);
	r |= mp_put_str(w, "kind", "%s", kind);
	mp_writer_alert(w, false);
	r |= mp_put_str(w, "path", "%s", path);
	r |= mp_put_str(w, "tunnel", "%s", tunnel);
	r |= mp_put_str(w, "best", "%s", best);
	r |= mp_put_str(w, "reason", "%s", c->set ? c->reason : "");
	r |= mp_put_str(w, "cost", "%s", c->set ? mp_fmt_ns(b, sizeof(b), (double)c->cost_us * 1e3) :
					      "-");
	r |= mp_put_u64(w, "switches", "%" PRIu64, c->switches);
	r |= mp_put_str(w, "age", "%s", c->set ? mp_fmt_ns(b, sizeof(b), age * 1e9) : "-");
	return r;
}

/* A site's choice: the path, its cost, why and since when. */
static int put_choice(struct mp_writer *w, const struct mc_state *s, unsigned site,
		      uint64_t now)
{
	const struct mc_choice *c = &s->choice[site];
	char path[MC_PATH_MAX * 4], best[MC_PATH_MAX * 4], ss[8];
	const char *kind = !c->set ? "none" : c->nsites == 2 ? "direct" : "relay";
	double nan_ = c->set ? 0 : __builtin_nan("");
	int r = 0;

	mc_choice_format(c, path, sizeof(path));
	best_str(s, site, best, sizeof(best));
	r |= text_choice(w, c, site, kind, path, tunnel_name(s, s->want[site]), best,
			 age_s(c->since_mono_ns, now));
	mp_writer_audience(w, MP_FOR_MACHINES);
	if (mp_writer_format(w) == MP_FMT_PROM) {
		snprintf(ss, sizeof(ss), "%u", site);
		r |= mp_put_label(w, "site", "%s", ss);
	} else {
		r |= mp_put_u64(w, "site", "%4" PRIu64, site);
	}
	r |= mp_put_str(w, "kind", "%-6s", kind);
	r |= mp_put_str(w, "path", "%-12s", path);
	r |= mp_put_str(w, "tunnel", "%-12s", tunnel_name(s, s->want[site]));
	r |= mp_put_f64(w, "cost_ms", "%9.3f", (double)c->cost_us / 1e3 + nan_);
	r |= mp_put_f64_notext(w, "est_ms", (double)c->base_us / 1e3 + nan_);
	r |= mp_put_str(w, "best", "%-12s", best);
	r |= mp_put_str(w, "reason", "%-9s", c->set ? c->reason : "");
	r |= mp_put_u64(w, "switches", "%4" PRIu64, c->switches);
	r |= mp_put_f64(w, "age_s", "%7.1f", age_s(c->since_mono_ns, now) + nan_);
	r |= mp_put_u64_notext(w, "hops", c->set ? c->nsites - 1U : 0);
	r |= mp_put_bool_notext(w, "waiting", c->cand_set);
	mp_writer_audience(w, MP_FOR_ALL);
	return r;
}

int mc_print_paths(struct mp_writer *w, const struct mc_state *s)
{
	uint64_t now = mp_clock_mono_ns();
	unsigned site;
	int r = 0;

	if (mp_writer_format(w) == MP_FMT_PROM)
		return mc_print_metrics(w, s);
	for (site = 0; site < MC_SITES && r == 0; site++) {
		if (site == s->self || !s->site_known[site])
			continue;
		mp_writer_text_left(w, 6);	/* site .. reason */
		r = mp_record_begin(w, "path");
		mp_writer_text_left(w, 1);
		if (r == 0)
			r = put_choice(w, s, site, now);
		if (r == 0)
			r = mp_record_end(w);
	}
	return r;
}

static unsigned sites_reachable(const struct mc_state *s, unsigned *known)
{
	unsigned site, n = 0;

	*known = 0;
	for (site = 0; site < MC_SITES; site++) {
		if (site == s->self || !s->site_known[site])
			continue;
		(*known)++;
		/* with BIRD, its route in the table (seen as another protocol's) */
		n += s->bird ? s->rs[site][0].conflict || s->rs[site][1].conflict
			     : s->want[site] > 0;
	}
	return n;
}

static int put_counters(struct mp_writer *w, const struct mc_state *s)
{
	const struct mc_x_counters *x = &s->xc;
	const struct mc_route_counters *c = &s->rc;
	int r = 0;

	r |= mp_obj_begin(w, "exchange", "exchange");
	r |= mp_put_u64(w, "sent", "sent %" PRIu64, x->tx);
	r |= mp_put_u64(w, "received", "received %" PRIu64, x->rx);
	r |= mp_put_u64(w, "accepted", "accepted %" PRIu64, x->accepted);
	r |= mp_put_u64(w, "forwarded", "forwarded %" PRIu64, x->forwarded);
	r |= mp_put_u64(w, "dropped_auth", "forged %" PRIu64, x->drop_auth);
	r |= mp_put_u64(w, "dropped_replay", "replayed %" PRIu64, x->drop_replay);
	r |= mp_put_u64(w, "dropped_stale", "stale %" PRIu64, x->drop_stale);
	r |= mp_put_u64(w, "dropped_malformed", "malformed %" PRIu64, x->drop_malformed);
	r |= mp_put_u64(w, "dropped_ratelimit", "rate-limited %" PRIu64, x->drop_ratelimit);
	r |= mp_put_u64_notext(w, "dropped_self", x->drop_self);
	r |= mp_put_u64_notext(w, "send_errors", x->send_errors);
	r |= mp_obj_end(w);
	r |= mp_obj_begin(w, "routes", "routes");
	r |= mp_put_u64(w, "switches", "switches %" PRIu64, s->route_changes);
	r |= mp_put_u64(w, "replaced", "written %" PRIu64, c->replaced);
	r |= mp_put_u64(w, "restored", "restored %" PRIu64, c->restored);
	r |= mp_put_u64(w, "deleted", "deleted %" PRIu64, c->deleted);
	r |= mp_put_u64(w, "conflicts", "conflicts %" PRIu64, c->conflicts);
	r |= mp_put_u64(w, "shadowed", "shadowed %" PRIu64, c->shadowed);
	r |= mp_put_u64(w, "errors", "errors %" PRIu64, c->errors);
	r |= mp_put_u64_notext(w, "syncs", c->syncs);
	r |= mp_obj_end(w);
	if (s->bird) {
		const struct mc_bird_counters *b = mc_bird_counters(s->bird);

		r |= mp_obj_begin(w, "bird", "BIRD");
		r |= mp_put_u64(w, "reloads", "reloads %" PRIu64, b->reloads);
		r |= mp_put_u64(w, "errors", "errors %" PRIu64, b->errors);
		r |= mp_put_u64_notext(w, "writes", b->writes);
		r |= mp_obj_end(w);
	}
	return r;
}

/* The status for people: a line of the node, then the exchange (its drops
 * on a line of their own, in red when any) and the routes. */
static int text_status(struct mp_writer *w, const struct mc_state *s, unsigned up,
		       unsigned reach, unsigned known, unsigned peers, uint64_t now)
{
	const struct mc_x_counters *x = &s->xc;
	const struct mc_route_counters *c = &s->rc;
	char t[64];
	int r = 0;

	mp_writer_audience(w, MP_FOR_TEXT);
	r |= mp_put_f64(w, "uptime", "up %.0f s", age_s(s->start_mono_ns, now));
	snprintf(t, sizeof(t), "%u of %zu", up, s->nt);
	mp_writer_alert(w, up < s->nt);
	r |= mp_put_str(w, "tunnels", "tunnels up %s", t);
	snprintf(t, sizeof(t), "%u of %u", reach, known);
	mp_writer_alert(w, reach < known);
	r |= mp_put_str(w, "sites", "sites reachable %s", t);
	mp_writer_alert(w, false);
	r |= mp_put_u64(w, "tables", "tables %" PRIu64, peers);
	r |= mp_put_bool(w, "deciding", "deciding %s", s->decided);
	mp_writer_alert(w, s->paths_error);
	r |= mp_put_bool(w, "consistent", "consistent %s", !s->paths_error);
	mp_writer_alert(w, false);
	r |= mp_obj_begin(w, "exchange", "exchange");
	r |= mp_put_u64(w, "sent", "sent %" PRIu64, x->tx);
	r |= mp_put_u64(w, "received", "received %" PRIu64, x->rx);
	r |= mp_put_u64(w, "accepted", "accepted %" PRIu64, x->accepted);
	r |= mp_put_u64(w, "forwarded", "forwarded %" PRIu64, x->forwarded);
	mp_writer_alert(w, x->drop_auth || x->drop_replay || x->drop_stale ||
			   x->drop_malformed || x->drop_ratelimit);
	r |= mp_obj_begin(w, "dropped", "dropped");
	r |= mp_put_u64(w, "forged", "forged %" PRIu64, x->drop_auth);
	r |= mp_put_u64(w, "replayed", "replayed %" PRIu64, x->drop_replay);
	r |= mp_put_u64(w, "stale", "stale %" PRIu64, x->drop_stale);
	r |= mp_put_u64(w, "malformed", "malformed %" PRIu64, x->drop_malformed);
	r |= mp_put_u64(w, "ratelimit", "rate-limited %" PRIu64, x->drop_ratelimit);
	r |= mp_obj_end(w);
	mp_writer_alert(w, false);
	r |= mp_obj_end(w);
	r |= mp_obj_begin(w, "routes", "routes");
	r |= mp_put_u64(w, "switches", "switches %" PRIu64, s->route_changes);
	r |= mp_put_u64(w, "replaced", "written %" PRIu64, c->replaced);
	r |= mp_put_u64(w, "restored", "restored %" PRIu64, c->restored);
	r |= mp_put_u64(w, "deleted", "deleted %" PRIu64, c->deleted);
	mp_writer_alert(w, c->conflicts || c->shadowed || c->errors);
	r |= mp_put_u64(w, "conflicts", "conflicts %" PRIu64, c->conflicts);
	r |= mp_put_u64(w, "shadowed", "shadowed %" PRIu64, c->shadowed);
	r |= mp_put_u64(w, "errors", "errors %" PRIu64, c->errors);
	mp_writer_alert(w, false);
	r |= mp_obj_end(w);
	if (s->bird) {
		const struct mc_bird_counters *b = mc_bird_counters(s->bird);

		r |= mp_obj_begin(w, "bird", "BIRD");
		r |= mp_put_u64(w, "reloads", "reloads %" PRIu64, b->reloads);
		mp_writer_alert(w, b->errors);
		r |= mp_put_u64(w, "errors", "errors %" PRIu64, b->errors);
		mp_writer_alert(w, false);
		r |= mp_obj_end(w);
	}
	return r;
}

int mc_print_status(struct mp_writer *w, const struct mc_state *s)
{
	uint64_t now = mp_clock_mono_ns();
	unsigned up = 0, known, reach = sites_reachable(s, &known), site, peers = 0;
	char title[64];
	size_t i;
	int r = 0;

	if (mp_writer_format(w) == MP_FMT_PROM)
		return mc_print_metrics(w, s);
	for (i = 0; i < s->nt; i++)
		up += s->t[i].state == MC_ST_UP;
	for (site = 0; site < MC_SITES; site++)
		peers += s->peers[site] && s->peers[site]->have &&
			 now - s->peers[site]->rx_mono_ns <= 10 * MP_NSEC_PER_SEC;
	snprintf(title, sizeof(title), "meshctl on site %u", s->self);
	r |= mp_doc_begin(w, title);
	r |= text_status(w, s, up, reach, known, peers, now);
	mp_writer_audience(w, MP_FOR_MACHINES);
	r |= mp_put_u64(w, "self", "site %" PRIu64, s->self);
	r |= mp_put_f64(w, "uptime_s", "up %.0f s", age_s(s->start_mono_ns, now));
	r |= mp_put_u64(w, "tunnels_up", "tunnels %" PRIu64, up);
	r |= mp_put_u64(w, "tunnels", "of %" PRIu64, s->nt);
	r |= mp_put_u64(w, "sites_reachable", "sites reachable %" PRIu64, reach);
	r |= mp_put_u64(w, "sites", "of %" PRIu64, known);
	r |= mp_put_u64(w, "tables", "tables %" PRIu64, peers);
	r |= mp_put_bool(w, "deciding", "deciding %s", s->decided);
	r |= mp_put_bool(w, "tables_consistent", "tables consistent %s", !s->paths_error);
	r |= put_counters(w, s);
	mp_writer_audience(w, MP_FOR_ALL);
	r |= mp_doc_end(w);
	return r;
}

int mc_print_metrics(struct mp_writer *w, const struct mc_state *s)
{
	uint64_t now = mp_clock_mono_ns();
	unsigned known, reach = sites_reachable(s, &known), site;
	size_t i;
	int r = 0;

	r |= mp_doc_begin(w, "meshctl");
	r |= mp_put_u64(w, "sites_reachable", "%" PRIu64, reach);
	r |= mp_put_u64(w, "sites", "%" PRIu64, known);
	r |= mp_put_f64(w, "uptime_s", "%.0f", age_s(s->start_mono_ns, now));
	r |= mp_arr_begin(w, "link", NULL);
	for (i = 0; i < s->nt; i++) {
		const struct mc_tunnel *t = &s->t[i];

		r |= mp_obj_begin(w, NULL, NULL);
		r |= put_link(w, t, link_rxcost(s, i), now);
		r |= mp_put_bool_notext(w, "up", t->state == MC_ST_UP);
		r |= mp_obj_end(w);
	}
	r |= mp_arr_end(w);
	r |= mp_arr_begin(w, "path", NULL);
	for (site = 0; site < MC_SITES; site++) {
		if (site == s->self || !s->site_known[site])
			continue;
		r |= mp_obj_begin(w, NULL, NULL);
		r |= put_choice(w, s, site, now);
		r |= mp_put_bool_notext(w, "relayed", s->choice[site].nsites > 2);
		r |= mp_obj_end(w);
	}
	r |= mp_arr_end(w);
	r |= put_counters(w, s);
	r |= mp_doc_end(w);
	return r;
}

int mc_print_once(struct mp_writer *w, struct mc_state *s)
{
	int r;

	if (mp_writer_format(w) == MP_FMT_PROM)
		return mc_print_metrics(w, s);
	r = mc_print_links(w, s);
	if (r == 0)
		r = mc_print_paths(w, s);
	return r;
}

/* One route of the table, with the keys of a perfc/1 route (dst, dev,
 * gateway, family, table, protocol, scope, metric: docs/FORMATS.md) and
 * meshctl's own (site, path, reason, switches). */
static int put_route(struct mp_writer *w, const struct mc_state *s,
		     const struct mp_nl_route *rt)
{
	const struct mc_plan *p = s->o->route.plan[rt->family == AF_INET6];
	int site = p ? mc_plan_site_of(p, &rt->dst, rt->dst_len) : -1;
	const struct mc_choice *c = site >= 0 ? &s->choice[site] : NULL;
	char dst[INET6_ADDRSTRLEN + 8], gw[INET6_ADDRSTRLEN] = "", path[MC_PATH_MAX * 4] = "";
	int ifx = rt->nh_count ? rt->nh[0].ifindex : 0;
	char dev[IF_NAMESIZE] = "", table[16];
	int r = 0;

	addr_str(&rt->dst, dst, sizeof(dst));
	snprintf(dst + strlen(dst), sizeof(dst) - strlen(dst), "/%u", rt->dst_len);
	if (rt->nh_count)
		addr_str(&rt->nh[0].gw, gw, sizeof(gw));
	snprintf(dev, sizeof(dev), "%s", tunnel_name(s, ifx));
	if (!*dev && ifx)
		if_indextoname((unsigned)ifx, dev);
	if (c)
		mc_choice_format(c, path, sizeof(path));
	if (rt->table == 254)
		snprintf(table, sizeof(table), "main");
	else
		snprintf(table, sizeof(table), "%" PRIu32, rt->table);
	r |= mp_put_str(w, "dst", "%s", dst);
	r |= mp_put_str(w, "gateway", "%s", gw);
	r |= mp_put_str(w, "dev", "%s", dev);
	r |= mp_put_i64(w, "site", "%4" PRId64, site);
	r |= mp_put_str(w, "path", "%s", path);
	r |= mp_put_u64(w, "metric", "%" PRIu64, rt->has_priority ? rt->priority : 0);
	r |= mp_put_str(w, "reason", "%s", c && c->set ? c->reason : "");
	r |= mp_put_str_notext(w, "family", rt->family == AF_INET6 ? "inet6" : "inet");
	r |= mp_put_str_notext(w, "route_type", rt->type == RTN_UNREACHABLE ? "unreachable" :
			       "unicast");
	r |= mp_put_str_notext(w, "table", table);
	r |= mp_put_str_notext(w, "protocol", "meshctl");
	r |= mp_put_str_notext(w, "scope", rt->scope == 253 ? "link" : "global");
	r |= mp_put_u64_notext(w, "switches", c ? c->switches : 0);
	return r;
}

/* The proto-201 routes of meshctl's table, as the kernel holds them. */
static int routes_list(struct mc_state *s, struct mp_nl_route **ret, size_t *ret_n)
{
	struct mp_nl_route_filter f = MP_NL_ROUTE_FILTER_ALL;

	f.table = s->o->route.table;
	f.protocol = MP_NL_PROTO_MESHCTL;
	return mp_nl_route_list_array(s->nl, &f, ret, ret_n);
}

int mc_print_routes(struct mp_writer *w, struct mc_state *s)
{
	struct mp_nl_route *rts = NULL;
	size_t n = 0, i;
	int r;

	r = routes_list(s, &rts, &n);
	if (r < 0)
		return r;
	r = 0;
	for (i = 0; i < n && r == 0; i++) {
		r = mp_record_begin(w, "route");
		r |= put_route(w, s, &rts[i]);
		if (r == 0)
			r = mp_record_end(w);
	}
	free(rts);
	return r;
}

static int addr_fn(const struct mp_nl_ifaddr *a, void *arg)
{
	struct addrs *x = arg;
	struct addr_item *v;
	bool own;

	if (a->scope >= 253 || !a->addr.family)
		return 0;	/* host (loopback) and link scope: no mesh address */
	if (x->n == x->cap) {
		x->cap = x->cap ? 2 * x->cap : 16;
		v = realloc(x->v, x->cap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		x->v = v;
	}
	own = x->own && a->addr.family == x->own->family &&
	      mc_plan_site_of(x->own, &a->addr, a->addr.family == AF_INET ? 32 : 128) ==
	      (int)x->self;
	v = &x->v[x->n];
	v->rank = own ? (a->ifindex == 1 ? 0 : 1) : 2;
	v->order = x->n++;
	addr_str(&a->addr, v->text, sizeof(v->text));
	return 0;
}

static int cmp_addr(const void *a, const void *b)
{
	const struct addr_item *x = a, *y = b;

	if (x->rank != y->rank)
		return x->rank < y->rank ? -1 : 1;
	return x->order < y->order ? -1 : x->order > y->order;
}

int mc_print_route_doc(struct mp_writer *w, struct mc_state *s)
{
	struct addrs x = { .own = s->o->route.plan[0] ? s->o->route.plan[0] :
				  s->o->route.plan[1], .self = s->self };
	char host[256] = "", site[8];
	size_t i;
	int r;

	/* the primary address, the one perfc --nodes walks to, is the
	 * site's own address (on lo in the lab), then the site's others */
	r = mp_nl_ifaddr_list(s->nl, AF_UNSPEC, addr_fn, &x);
	if (r >= 0 && x.n)
		qsort(x.v, x.n, sizeof(*x.v), cmp_addr);
	if (r >= 0)
		r = mc_print_routes(w, s);
	if (r >= 0) {
		gethostname(host, sizeof(host) - 1);
		snprintf(site, sizeof(site), "%u", s->self);
		r = mp_doc_begin(w, NULL);
		r |= mp_put_str(w, "node", "%s", host);
		r |= mp_put_str(w, "site", "%s", site);
		r |= mp_arr_begin(w, "addresses", NULL);
		for (i = 0; i < x.n; i++)
			r |= mp_put_str(w, NULL, "%s", x.v[i].text);
		r |= mp_arr_end(w);
		r |= mp_doc_end(w);
	}
	free(x.v);
	return r;
}

/* Prometheus HELP (/metrics, -f prom; docs/FORMATS.md has the same words, longer). */
const struct mp_prom_help mc_prom_help[] = {
	{ "self", "this node's site" },
	{ "uptime_s", "time since the daemon started" },
	{ "tunnels_up", "tunnels in state up" },
	{ "tunnels", "tunnels found" },
	{ "sites_reachable", "sites with a path (a route)" },
	{ "sites", "sites known, this one excepted" },
	{ "tables", "sites whose tunnel table arrived in the last 10 s" },
	{ "deciding", "1 past the warm-up: paths are decided and routes written" },
	{ "tables_consistent", "1 when the last path computation over all tables succeeded" },
	{ "link.rtt_ms", "round-trip time inside the tunnel, median of the last 5 replies" },
	{ "link.fwd_ms", "raw one-way delay out through the tunnel (includes the clock offset)" },
	{ "link.rev_ms", "raw one-way delay back through the tunnel (includes the clock offset)" },
	{ "link.loss_fwd_pct", "share of the last 100 probes lost on the way out" },
	{ "link.loss_rev_pct", "share of the last 100 probes lost on the way back" },
	{ "link.jitter_ms", "RFC 3550 jitter of the tunnel's forward delay" },
	{ "link.cost_ms", "the tunnel's cost (raw, from delay, loss, jitter and availability)" },
	{ "link.avail_pct", "share of the last 100 probes during which the tunnel was up" },
	{ "link.jitter_rev_ms", "RFC 3550 jitter of the tunnel's reverse delay" },
	{ "link.srtt_ms", "smoothed round-trip time (RFC 6298 SRTT)" },
	{ "link.rttvar_ms", "round-trip time variation (RFC 6298 RTTVAR)" },
	{ "link.loss_pct", "share of the last 100 probes unanswered" },
	{ "link.sent", "probes sent through the tunnel since start" },
	{ "link.received", "replies received through the tunnel since start" },
	{ "link.state_age_s", "time since the tunnel's state last changed" },
	{ "link.state_changes", "tunnel state changes since start" },
	{ "link.clock_steps", "clock steps seen in the tunnel's raw delays" },
	{ "link.handshake_age_s", "time since the tunnel's latest WireGuard handshake" },
	{ "link.mtu_bytes", "the tunnel interface's MTU" },
	{ "link.bird_rxcost", "Babel rxcost given to BIRD for the tunnel (units of 100 us)" },
	{ "link.up", "1 when the tunnel is up" },
	{ "path.cost_ms", "raw cost of the chosen path to the site" },
	{ "path.est_ms", "offset-free cost estimate of the chosen path to the site" },
	{ "path.switches", "first-hop changes of the site's path since start" },
	{ "path.age_s", "time since the site's path was chosen" },
	{ "path.hops", "tunnels on the site's path (0: none)" },
	{ "path.waiting", "1 when a better path to the site waits out dwell or hold-down" },
	{ "path.relayed", "1 when the site is reached through other sites" },
	{ "exchange.sent", "tunnel tables sent (own and forwarded)" },
	{ "exchange.received", "datagrams received on the exchange port" },
	{ "exchange.accepted", "tunnel tables taken" },
	{ "exchange.forwarded", "tunnel tables passed on for another origin" },
	{ "exchange.dropped_auth", "exchange messages dropped for a wrong HMAC" },
	{ "exchange.dropped_replay", "exchange messages dropped as replays" },
	{ "exchange.dropped_stale", "first tables of an origin dropped for a clock over 60 s off" },
	{ "exchange.dropped_malformed", "exchange messages dropped as malformed" },
	{ "exchange.dropped_ratelimit", "exchange messages dropped over the per-source rate limit" },
	{ "exchange.dropped_self", "exchange messages dropped for claiming this node's site" },
	{ "exchange.send_errors", "exchange sends that failed" },
	{ "routes.switches", "first-hop changes of all sites since start" },
	{ "routes.replaced", "routes written (netlink replace)" },
	{ "routes.restored", "routes rewritten after something else removed or moved them" },
	{ "routes.deleted", "routes removed because their site had no path left" },
	{ "routes.conflicts", "site nets held by another protocol's route (left alone), per sync" },
	{ "routes.shadowed", "site nets where another protocol's route has a lower metric, per sync" },
	{ "routes.errors", "netlink route requests refused" },
	{ "routes.syncs", "times the kernel table was read and aligned" },
	{ "bird.reloads", "BIRD include files BIRD took (configure)" },
	{ "bird.errors", "BIRD include writes or reloads that failed" },
	{ "bird.writes", "BIRD include files written" },
	{ NULL, NULL }
};
