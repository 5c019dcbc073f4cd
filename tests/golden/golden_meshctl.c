/* SPDX-License-Identifier: MIT */
/*
 * meshctl's text for a fixed mesh (tests/golden/run.sh): site 1 with
 * tunnels to sites 2, 3 and 4 over IPv4 and IPv6, both tunnels to site 4
 * down, so that site 4 is reached through site 3. The edges, best paths and
 * choices come from the tool's own path.c (mc_paths_compute,
 * mc_hyst_decide), the tunnel costs from mc_cost_us(); rendered by
 * mc_print_links/paths/routes/status and mc_print_once.
 *
 * print.c reads CLOCK_MONOTONIC itself (mp_clock_mono_ns() in
 * mc_print_links, mc_print_paths, mc_print_status, mc_print_metrics: the
 * ages and the uptime), and mc_print_routes reads the kernel table
 * (mp_nl_route_list_array): both are wrapped here (golden_meshctl.ldflags),
 * the clock to a fixed instant, the table to the routes of the choices.
 */
#include <arpa/inet.h>
#include <linux/rtnetlink.h>
#include <stdlib.h>

#include "clock.h"
#include "meshctl.h"
#include "golden.h"

enum { SELF = 1, NT = 6 };

#define START_NS (1000 * MP_NSEC_PER_SEC)			/* daemon start, monotonic */
#define DECIDE_NS (START_NS + 30 * MP_NSEC_PER_SEC)		/* after the warm-up */
#define FAIL_NS (START_NS + 2400 * MP_NSEC_PER_SEC)		/* site 4's tunnels fail */
#define NOW_NS (START_NS + 3600 * MP_NSEC_PER_SEC + 400 * MP_NSEC_PER_MSEC)

uint64_t __wrap_mp_clock_mono_ns(void);
int __wrap_mp_nl_route_list_array(struct mp_nl *nl, const struct mp_nl_route_filter *filter,
				  struct mp_nl_route **ret_routes, size_t *ret_count);

static struct mc_opts opts = {
	.weights = MC_COST_WEIGHTS_INIT,
	.hyst = MC_HYST_OPTS_INIT,
	.route = { .table = 254, .metric = 50 },
};
static struct mc_state state;
static struct mc_tunnel tunnels[NT];
static struct mc_peer peer[MC_SITES];
static struct mc_edge edges[64];

uint64_t __wrap_mp_clock_mono_ns(void)
{
	return NOW_NS;
}

/* The proto-201 table as mc_route_sync() leaves it for the choices: each
 * site net via the peer's inner address on the first tunnel. */
int __wrap_mp_nl_route_list_array(struct mp_nl *nl, const struct mp_nl_route_filter *filter,
				  struct mp_nl_route **ret_routes, size_t *ret_count)
{
	struct mp_nl_route *v = calloc(2 * MC_SITES, sizeof(*v));
	size_t n = 0;

	(void)nl;
	(void)filter;
	if (!v)
		return -ENOMEM;
	for (unsigned f = 0; f < 2; f++) {
		for (unsigned site = 0; site < MC_SITES; site++) {
			int i = mc_state_tunnel_by_ifindex(&state, state.want[site]);
			struct mp_nl_route *rt = &v[n];

			if (site == SELF || !state.site_known[site] || i < 0)
				continue;
			rt->family = f ? AF_INET6 : AF_INET;
			mc_plan_site_net(opts.route.plan[f], site, &rt->dst);
			rt->dst_len = opts.route.plan[f]->plen;
			rt->type = RTN_UNICAST;
			rt->table = opts.route.table;
			rt->protocol = MP_NL_PROTO_MESHCTL;
			rt->has_priority = true;
			rt->priority = opts.route.metric;
			rt->nh_count = rt->nh_total = 1;
			rt->nh[0] = (struct mp_nl_nexthop){ .gw = state.t[i].peer_inner[f],
							    .ifindex = state.t[i].ifindex,
							    .weight = 1 };
			n++;
		}
	}
	*ret_routes = v;
	*ret_count = n;
	return (int)n;
}

static void addr_set(struct mp_nl_addr *a, const char *s)
{
	a->family = strchr(s, ':') ? AF_INET6 : AF_INET;
	inet_pton(a->family, s, a->bytes);
}

/* A tunnel of site 1; rtt, fwd, rev in µs (fwd - rev: the clock offsets). */
static void tunnel(struct mc_tunnel *t, unsigned site, int fam, int ifindex, bool up,
		   int64_t rtt_us, int64_t fwd_us, double loss_fwd, uint64_t jitter_us)
{
	char a[INET6_ADDRSTRLEN];

	snprintf(t->ifname, sizeof(t->ifname), "wg%u.%u_v%d", SELF, site, fam);
	t->local_site = SELF;
	t->remote_site = site;
	t->outer_family = fam == 4 ? AF_INET : AF_INET6;
	t->ifindex = ifindex;
	snprintf(a, sizeof(a), "10.201.%u.1", SELF);
	addr_set(&t->local_addr, a);
	snprintf(a, sizeof(a), "10.201.%u.1", site);
	addr_set(&t->peer_addr, a);
	addr_set(&t->peer_inner[0], a);
	snprintf(a, sizeof(a), "fdac:c9:%x::1", site);
	addr_set(&t->peer_inner[1], a);
	t->mtu_bytes = fam == 4 ? 1420 : 1400;
	t->state = up ? MC_ST_UP : MC_ST_DOWN;
	t->state_since_mono_ns = up ? START_NS + 3 * MP_NSEC_PER_SEC : FAIL_NS;
	t->changes = up ? 1 : 2;
	snprintf(t->why, sizeof(t->why), "%s", up ? "" : "silent");
	t->m = (struct mc_metrics){
		.valid = true, .rtt_ns = (uint64_t)rtt_us * 1000 + 150000,
		.rtt_median_ns = (uint64_t)rtt_us * 1000, .rttvar_ns = 400000,
		.fwd_ns = fwd_us * 1000, .rev_ns = (rtt_us - fwd_us) * 1000,
		.jitter_fwd_ns = jitter_us * 1000, .jitter_rev_ns = jitter_us * 1100,
		.loss_fwd = loss_fwd, .loss = loss_fwd, .avail = up ? 1.0 : 0.33,
		.sent = 3600, .received = up ? 3590 : 1200, .handshake_age_ns = 40 * MP_NSEC_PER_SEC,
	};
	if (!up)
		t->m.loss_fwd = t->m.loss_rev = t->m.loss = 1.0;
}

/* Another site's table: (to, family, up, cost in µs) entries. */
static void table(unsigned origin, const int (*e)[4], unsigned n)
{
	struct mc_peer *p = &peer[origin];

	p->have = true;
	p->seq = 1700000000ULL * MP_NSEC_PER_SEC + origin;
	p->rx_mono_ns = NOW_NS - 700 * MP_NSEC_PER_MSEC;
	p->msg.origin = (uint8_t)origin;
	p->msg.n = (uint16_t)n;
	for (unsigned i = 0; i < n; i++)
		p->msg.e[i] = (struct mc_x_entry){
			.remote_site = (uint8_t)e[i][0], .family = (uint8_t)e[i][1],
			.state = e[i][2] ? MC_ST_UP : MC_ST_DOWN, .cost_us = e[i][3],
			.base_us = e[i][3] - 1000, .rtt_us = (uint32_t)(2 * e[i][3]),
			.jitter_us = 150,
		};
	state.peers[origin] = p;
}

/* The mesh as the daemon's edges_build() sees it. */
static void edges_build(void)
{
	size_t n = 0;

	for (size_t i = 0; i < state.nt; i++) {
		struct mc_tunnel *t = &state.t[i];
		struct mc_metrics m = t->m;

		state.site_known[t->remote_site] = true;
		t->cost_us = mc_cost_us(&t->m, &opts.weights);
		m.valid = false;
		edges[n++] = (struct mc_edge){
			.from = SELF, .to = (uint8_t)t->remote_site,
			.family = t->outer_family == AF_INET ? 4 : 6,
			.up = t->state == MC_ST_UP, .cost_us = t->cost_us,
			.base_us = (int64_t)(t->m.rtt_median_ns / 2000) + mc_cost_us(&m, &opts.weights),
			.jitter_us = (int64_t)(t->m.jitter_fwd_ns / 1000),
		};
	}
	for (unsigned o = 0; o < MC_SITES; o++) {
		for (unsigned i = 0; state.peers[o] && i < state.peers[o]->msg.n; i++) {
			const struct mc_x_entry *e = &state.peers[o]->msg.e[i];

			state.site_known[e->remote_site] = true;
			edges[n++] = (struct mc_edge){
				.from = (uint8_t)o, .to = e->remote_site, .family = e->family,
				.up = e->state == MC_ST_UP, .cost_us = e->cost_us,
				.base_us = e->base_us, .jitter_us = e->jitter_us,
			};
		}
	}
	mc_edges_sort(edges, n);
	state.edges = edges;
	state.ne = n;
}

/* One round of decisions at now, as the daemon's: paths, hysteresis, want[]. */
static void decide(uint64_t now)
{
	edges_build();
	state.paths_error = mc_paths_compute(state.edges, state.ne, SELF, &state.paths);
	for (unsigned site = 0; site < MC_SITES; site++) {
		struct mc_choice *c = &state.choice[site];

		if (site == SELF || !state.site_known[site])
			continue;
		if (mc_hyst_decide(c, &state.paths, state.edges, state.ne, site, &opts.hyst,
				   now) > 0)
			state.route_changes++;
		state.want[site] = MC_WANT_UNREACHABLE;
		for (size_t i = 0; c->set && i < state.nt; i++)
			if (state.t[i].remote_site == c->sites[1] &&
			    (state.t[i].outer_family == AF_INET ? 4 : 6) == c->families[0])
				state.want[site] = state.t[i].ifindex;
	}
}

static int setup(void)
{
	static const int t2[][4] = { { 1, 4, 1, 5600 }, { 1, 6, 1, 5900 }, { 3, 4, 1, 7300 },
				     { 4, 4, 1, 31000 } };
	static const int t3[][4] = { { 1, 4, 1, 8800 }, { 1, 6, 1, 8700 }, { 2, 4, 1, 7400 },
				     { 4, 4, 1, 9100 }, { 4, 6, 1, 9600 } };
	static const int t4[][4] = { { 1, 4, 0, 0 }, { 3, 4, 1, 9000 }, { 3, 6, 1, 9500 } };
	char err[128];

	if (mc_plan_parse(MC_PLAN4_DEFAULT, AF_INET, &opts.plan4, err, sizeof(err)) < 0 ||
	    mc_plan_parse(MC_PLAN6_DEFAULT, AF_INET6, &opts.plan6, err, sizeof(err)) < 0)
		return -EINVAL;
	opts.route.plan[0] = &opts.plan4;
	opts.route.plan[1] = &opts.plan6;
	state = (struct mc_state){ .o = &opts, .self = SELF, .t = tunnels, .nt = NT,
				   .start_mono_ns = START_NS,
				   .start_real_ns = 1700000000ULL * MP_NSEC_PER_SEC };
	tunnel(&tunnels[0], 2, 4, 11, true, 12400, 6900, 0, 210);
	tunnel(&tunnels[1], 2, 6, 12, true, 12900, 7100, 0, 260);
	tunnel(&tunnels[2], 3, 4, 13, true, 18000, 9200, 0.02, 480);
	tunnel(&tunnels[3], 3, 6, 14, true, 17600, 8900, 0, 350);
	tunnel(&tunnels[4], 4, 4, 15, true, 41000, 21000, 0.01, 900);
	tunnel(&tunnels[5], 4, 6, 16, true, 43500, 22300, 0, 1200);
	table(2, t2, MP_ARRAY_SIZE(t2));
	table(3, t3, MP_ARRAY_SIZE(t3));
	table(4, t4, MP_ARRAY_SIZE(t4));
	decide(DECIDE_NS);
	state.decided = true;
	/* both tunnels to site 4 go silent: a hard failure, relayed via 3 */
	tunnel(&tunnels[4], 4, 4, 15, false, 41000, 21000, 0.01, 900);
	tunnel(&tunnels[5], 4, 6, 16, false, 43500, 22300, 0, 1200);
	tunnels[5].m.valid = false;
	snprintf(tunnels[5].why, sizeof(tunnels[5].why), "%s", "stale handshake");
	decide(FAIL_NS);
	state.xc = (struct mc_x_counters){ .tx = 7203, .forwarded = 3601, .rx = 10796,
					   .accepted = 10794, .drop_replay = 2 };
	state.rc = (struct mc_route_counters){ .syncs = 3600, .replaced = 8, .deleted = 0,
					       .restored = 1 };
	return 0;
}

static int c_links(struct mp_writer *w, bool flag)
{
	(void)flag;
	mp_writer_set_live(w, false);	/* as ctl.c and once have it */
	return setup() ?: mc_print_links(w, &state);
}

static int c_paths(struct mp_writer *w, bool flag)
{
	(void)flag;
	mp_writer_set_live(w, false);	/* as ctl.c and once have it */
	return setup() ?: mc_print_paths(w, &state);
}

static int c_routes(struct mp_writer *w, bool flag)
{
	(void)flag;
	mp_writer_set_live(w, false);	/* as ctl.c and once have it */
	return setup() ?: mc_print_routes(w, &state);
}

static int c_status(struct mp_writer *w, bool flag)
{
	(void)flag;
	mp_writer_set_live(w, false);	/* as ctl.c and once have it */
	return setup() ?: mc_print_status(w, &state);
}

static int c_once(struct mp_writer *w, bool flag)
{
	(void)flag;
	mp_writer_set_live(w, false);	/* as ctl.c and once have it */
	return setup() ?: mc_print_once(w, &state);
}

static const struct golden_case cases[] = {
	{ "links", NULL, c_links },
	{ "paths", NULL, c_paths },
	{ "routes", NULL, c_routes },
	{ "status", NULL, c_status },
	{ "once", NULL, c_once },
};

int main(int argc, char **argv)
{
	return golden_main(argc, argv, cases, MP_ARRAY_SIZE(cases), "meshctl", MC_SCHEMA);
}
