/* SPDX-License-Identifier: MIT */
/*
 * route: the kernel table, through lib/nl. meshctl owns exactly the routes
 * of protocol 201 (MP_NL_PROTO_MESHCTL) to the site nets of its plan, in
 * one table with one metric. It writes them with netlink replace, which
 * swaps a route atomically: there is never a moment without one; a site
 * without a path gets an unreachable route, so that its traffic is never
 * sent by another route outside the tunnels. A route
 * of another protocol on the same prefix, table and metric would be
 * replaced too, so such a prefix is left alone and counted as a conflict.
 */
#include <errno.h>
#include <string.h>
#include <linux/rtnetlink.h>

#include "meshctl.h"

enum {
	ODD = -2,		/* seen.ours: a proto-201 route of another shape */
};

/* What one dump found per site net: [site][family index]. */
struct seen {
	const struct mc_route_cfg *cfg;
	unsigned self;
	int ours[MC_SITES][2];		/* ifindex of our route, 0 none,
					 * MC_WANT_UNREACHABLE, ODD */
	struct mp_nl_addr gw[MC_SITES][2];	/* its gateway, family 0 = none */
	bool foreign[MC_SITES][2];	/* another protocol at the same key */
	bool shadowed[MC_SITES][2];	/* another protocol at a lower metric */
};

static int fam_idx(int family)
{
	return family == AF_INET6;
}

static int site_of(const struct mc_route_cfg *cfg, const struct mp_nl_route *rt)
{
	const struct mc_plan *p = cfg->plan[fam_idx(rt->family)];
	int site;

	if (!p || rt->dst_len != p->plen)
		return -1;
	site = mc_plan_site_of(p, &rt->dst, rt->dst_len);
	return site;
}

static int seen_fn(const struct mp_nl_route *rt, void *arg)
{
	struct seen *s = arg;
	int site = site_of(s->cfg, rt), f = fam_idx(rt->family);

	if (site < 0 || (unsigned)site == s->self || rt->tos)
		return 0;
	/* another metric is another route: never ours to touch; a lower one
	 * carries the traffic instead of ours, which status tells */
	if ((rt->has_priority ? rt->priority : 0) != s->cfg->metric) {
		if (rt->protocol != MP_NL_PROTO_MESHCTL &&
		    (rt->has_priority ? rt->priority : 0) < s->cfg->metric)
			s->shadowed[site][f] = true;
		return 0;
	}
	if (rt->protocol != MP_NL_PROTO_MESHCTL)
		s->foreign[site][f] = true;
	else if (rt->type == RTN_UNREACHABLE)
		s->ours[site][f] = MC_WANT_UNREACHABLE;
	else if (rt->type == RTN_UNICAST && rt->nh_count == 1) {
		s->ours[site][f] = rt->nh[0].ifindex;
		s->gw[site][f] = rt->nh[0].gw;
	} else
		s->ours[site][f] = ODD;	/* not a shape we write: rewrite it */
	return 0;
}

static int dump(struct mp_nl *nl, const struct mc_route_cfg *cfg, struct seen *s)
{
	struct mp_nl_route_filter f = MP_NL_ROUTE_FILTER_ALL;
	int r;

	f.table = cfg->table;
	r = mp_nl_route_list(nl, &f, seen_fn, s);
	return r < 0 ? r : 0;
}

/* The gateway of a route of family index fi through the tunnel ifindex:
 * the peer's inner address of that family, or none. */
static struct mp_nl_addr gateway(const struct mc_tunnel *t, size_t nt, int ifindex, int fi)
{
	struct mp_nl_addr none = { 0 };
	size_t i;

	for (i = 0; ifindex > 0 && i < nt; i++)
		if (t[i].ifindex == ifindex)
			return t[i].peer_inner[fi];
	return none;
}

static bool addr_eq(const struct mp_nl_addr *a, const struct mp_nl_addr *b)
{
	return a->family == b->family &&
	       (!a->family || !memcmp(a->bytes, b->bytes, a->family == AF_INET ? 4 : 16));
}

static void route_of(const struct mc_route_cfg *cfg, unsigned site, int fi, int ifindex,
		     const struct mp_nl_addr *gw, struct mp_nl_route *rt)
{
	mp_nl_route_init(rt, fi ? AF_INET6 : AF_INET);
	mc_plan_site_net(cfg->plan[fi], site, &rt->dst);
	rt->dst_len = cfg->plan[fi]->plen;
	rt->table = cfg->table;
	rt->protocol = MP_NL_PROTO_MESHCTL;
	rt->has_priority = true;
	rt->priority = cfg->metric;
	if (ifindex == MC_WANT_UNREACHABLE) {
		rt->type = RTN_UNREACHABLE;
	} else if (ifindex) {
		/* a device route when the tunnel has no inner peer address of
		 * the family */
		rt->scope = gw->family ? RT_SCOPE_UNIVERSE : RT_SCOPE_LINK;
		rt->nh_count = 1;
		rt->nh[0].ifindex = ifindex;
		rt->nh[0].gw = *gw;
		rt->nh[0].weight = 1;
	}
}

int mc_route_sync(struct mp_nl *nl, const struct mc_route_cfg *cfg, unsigned self,
		  const int want[MC_SITES], const struct mc_tunnel *t, size_t nt,
		  struct mc_route_state st[MC_SITES][2], struct mc_route_counters *c)
{
	struct seen s = { .cfg = cfg, .self = self };
	unsigned site;
	int r, fi, changes = 0;

	r = dump(nl, cfg, &s);
	if (r < 0)
		return r;
	c->syncs++;
	for (site = 0; site < MC_SITES; site++) {
		if (site == self)
			continue;
		for (fi = 0; fi < 2; fi++) {
			struct mc_route_state *rs = &st[site][fi];
			struct mp_nl_addr gw = gateway(t, nt, want[site], fi);
			struct mp_nl_route rt;
			enum mp_nl_route_op op;
			int have = s.ours[site][fi];

			if (!cfg->plan[fi])
				continue;
			rs->conflict = s.foreign[site][fi];
			c->shadowed += s.shadowed[site][fi];
			if (rs->conflict) {
				c->conflicts++;
				rs->ifindex = 0;
				continue;
			}
			if (have == want[site] && (have <= 0 || addr_eq(&s.gw[site][fi], &gw))) {
				rs->ifindex = have;
				continue;
			}
			if (want[site]) {
				op = MP_NL_ROUTE_REPLACE;
				/* we had put it there: a hand or a program moved it */
				if (rs->ifindex == want[site])
					c->restored++;
			} else {
				op = MP_NL_ROUTE_DELETE;
			}
			route_of(cfg, site, fi, op == MP_NL_ROUTE_DELETE ? 0 : want[site], &gw, &rt);
			r = mp_nl_route_change(nl, op, &rt);
			if (r < 0 && !(op == MP_NL_ROUTE_DELETE && r == -ESRCH)) {
				c->errors++;
				c->last_error = r;
				continue;
			}
			if (op == MP_NL_ROUTE_REPLACE)
				c->replaced++;
			else
				c->deleted++;
			rs->ifindex = want[site];
			rs->changes++;
			changes++;
		}
	}
	return changes;
}

int mc_route_adopt(struct mp_nl *nl, const struct mc_route_cfg *cfg, unsigned self,
		   int ret_ifindex[MC_SITES])
{
	struct seen s = { .cfg = cfg, .self = self };
	int r, n = 0;
	unsigned site;

	r = dump(nl, cfg, &s);
	if (r < 0)
		return r;
	for (site = 0; site < MC_SITES; site++) {
		int v = s.ours[site][0] > 0 ? s.ours[site][0] : s.ours[site][1];

		ret_ifindex[site] = v > 0 ? v : 0;	/* unreachable: nothing to adopt */
		n += v > 0;
	}
	return n;
}
