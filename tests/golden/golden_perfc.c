/* SPDX-License-Identifier: MIT */
/*
 * perfc's text for a fixed route table (tests/golden/run.sh), rendered by
 * pc_print_route() and pc_print_list_doc() as `perfc` lists this host's
 * routes: IPv4 and IPv6, a multipath route, an unreachable one; a table
 * with the longest IPv6 host route (its own case: 35 columns of address
 * next to every note of the list would not fit 100 columns, and no lab
 * path has both); and --watch's change records (the closing "N changes"
 * line is run.c's, not covered here).
 */
#include <stdlib.h>

#include "perfc.h"
#include "golden.h"

struct spec {
	const char *type, *dst, *protocol, *scope;
	uint64_t metric;
	const char *gateway, *dev, *prefsrc, *flag;
	const char *change;		/* --watch: "added", "deleted", "changed" */
};

static const struct spec routes[] = {
	{ "unicast", "0.0.0.0/0", "dhcp", "global", 100, "192.168.1.1", "eth0", "192.168.1.20",
	  NULL, NULL },
	{ "unicast", "192.168.1.0/24", "kernel", "link", 100, "", "eth0", "192.168.1.20", NULL,
	  NULL },
	{ "unicast", "10.50.0.0/16", "bird", "global", 32, "", "", "", NULL, NULL },	/* multipath */
	{ "unicast", "10.201.4.0/24", "meshctl", "global", 50, "10.201.3.1", "wg1.3_v6", "",
	  "onlink", NULL },
	{ "unreachable", "10.201.9.0/24", "meshctl", "global", 50, "", "", "", NULL, NULL },
	{ "unicast", "::/0", "ra", "global", 1024, "fe80::1", "eth0", "", NULL, NULL },
	{ "unicast", "fdac:c9:4::/64", "meshctl", "global", 50, "fdac:c9:3::1", "wg1.3_v6", "", NULL,
	  NULL },
};

static const struct spec longest[] = {
	{ "unicast", "::/0", "ra", "global", 1024, "fe80::1", "eth0", "", NULL, NULL },
	{ "unicast", "2001:db8:ffff:1234:5678:9abc:def0:1/128", "static", "global", 1024, "",
	  "wg0", "", NULL, NULL },
	{ "unicast", "fdac:c9:4::/64", "meshctl", "global", 50, "fdac:c9:3::1", "wg1.3_v6", "", NULL,
	  NULL },
};

static const struct spec changes[] = {
	{ "unicast", "10.201.4.0/24", "meshctl", "global", 50, "10.201.3.1", "wg1.3_v6", "",
	  "onlink", "changed" },
	{ "unicast", "fdac:c9:5::/64", "meshctl", "global", 50, "fdac:c9:5::1", "wg1.5_v4", "",
	  NULL, "added" },
	{ "unicast", "2001:db8:ffff:1234:5678:9abc:def0:1/128", "static", "global", 1024, "",
	  "wg0", "", NULL, "deleted" },
};

static int route(struct mp_writer *w, const struct spec *s, bool multipath)
{
	struct pc_nh nh[2] = {
		{ .weight = 1 },
		{ .gateway = "10.201.3.1", .dev = "wg1.3_v4", .weight = 2 },
	};
	struct pc_route rt = { .metric = s->metric, .nh = nh, .n_nh = 1 };
	int r;

	r = pc_prefix_canon(s->dst, rt.dst, sizeof(rt.dst), &rt.dst_addr, &rt.dst_len);
	if (r < 0)
		return r;
	rt.family = rt.dst_addr.family;
	snprintf(rt.type, sizeof(rt.type), "%s", s->type);
	snprintf(rt.table, sizeof(rt.table), "%s", "main");
	snprintf(rt.protocol, sizeof(rt.protocol), "%s", s->protocol);
	snprintf(rt.scope, sizeof(rt.scope), "%s", s->scope);
	snprintf(rt.prefsrc, sizeof(rt.prefsrc), "%s", s->prefsrc);
	snprintf(rt.gateway, sizeof(rt.gateway), "%s", s->gateway);
	snprintf(rt.dev, sizeof(rt.dev), "%s", s->dev);
	snprintf(nh[0].gateway, sizeof(nh[0].gateway), "%s", s->gateway);
	snprintf(nh[0].dev, sizeof(nh[0].dev), "%s", s->dev);
	if (s->flag) {
		snprintf(rt.flags[0], sizeof(rt.flags[0]), "%s", s->flag);
		rt.n_flags = 1;
	}
	if (multipath) {
		rt.multipath = true;
		rt.n_nh = 2;
		snprintf(nh[0].gateway, sizeof(nh[0].gateway), "%s", "10.201.2.1");
		snprintf(nh[0].dev, sizeof(nh[0].dev), "%s", "wg1.2_v4");
	}
	/* --watch's rows come one by one, padded; a listing is sized by lib/out */
	return pc_print_route(w, s->change ? "change" : "route", &rt, s->change, NULL,
			      s->change != NULL);
}

static int list(struct mp_writer *w, const struct spec *v, size_t n)
{
	static char *addrs[] = { "192.168.1.20", "10.201.1.1", "fdac:c9:1::1" };
	struct pc_opts o = PC_OPTS_INIT;
	int r = 0;

	o.node_name = "node1";
	o.site = "1";
	mp_writer_set_live(w, false);
	for (size_t i = 0; i < n && r == 0; i++)
		r = route(w, &v[i], !strcmp(v[i].dst, "10.50.0.0/16"));
	return r ?: pc_print_list_doc(w, &o, (long)n, addrs, MP_ARRAY_SIZE(addrs), NULL, NULL);
}

static int c_list(struct mp_writer *w, bool flag)
{
	(void)flag;
	return list(w, routes, MP_ARRAY_SIZE(routes));
}

static int c_long(struct mp_writer *w, bool flag)
{
	(void)flag;
	return list(w, longest, MP_ARRAY_SIZE(longest));
}

static int c_watch(struct mp_writer *w, bool flag)
{
	int r = 0;

	(void)flag;
	for (size_t i = 0; i < MP_ARRAY_SIZE(changes) && r == 0; i++)
		r = route(w, &changes[i], false);
	return r;
}

static const struct golden_case cases[] = {
	{ "list", NULL, c_list },
	{ "long", NULL, c_long },
	{ "watch", NULL, c_watch },
};

int main(int argc, char **argv)
{
	return golden_main(argc, argv, cases, MP_ARRAY_SIZE(cases), "perfc", PC_SCHEMA);
}
