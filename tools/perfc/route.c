/* SPDX-License-Identifier: MIT */
/*
 * perfc: this host's routes. Kernel routes are turned into struct pc_route
 * (names resolved) one at a time, filtered, and handed on while the dump is
 * still being read: plain listing never holds more than one route.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>

#include <linux/rtnetlink.h>

#include "clock.h"
#include "perfc.h"

static void flag_names(unsigned flags, char (*out)[PC_NAME_LEN], unsigned *n)
{
	static const struct {
		unsigned bit;
		const char *name;
	} names[] = {
		{ RTNH_F_DEAD, "dead" }, { RTNH_F_PERVASIVE, "pervasive" },
		{ RTNH_F_ONLINK, "onlink" }, { RTNH_F_OFFLOAD, "offload" },
		{ RTNH_F_LINKDOWN, "linkdown" }, { RTNH_F_UNRESOLVED, "unresolved" },
		{ RTNH_F_TRAP, "trap" }, { RTM_F_NOTIFY, "notify" },
		{ RTM_F_OFFLOAD, "rt_offload" }, { RTM_F_TRAP, "rt_trap" },
	};

	*n = 0;
	for (size_t i = 0; i < MP_ARRAY_SIZE(names) && *n < PC_FLAGS_MAX; i++)
		if (flags & names[i].bit)
			memcpy(out[(*n)++], names[i].name, strlen(names[i].name) + 1);
}

int pc_route_from_nl(struct pc_names *names, const struct mp_nl_route *k, struct pc_route *rt,
		     struct pc_nh *nh_buf)
{
	size_t n;

	memset(rt, 0, sizeof(*rt));
	rt->family = k->family;
	pc_type_name(k->type, rt->type, sizeof(rt->type));
	rt->dst_addr = k->dst;
	rt->dst_len = k->dst_len;
	/* "addr/len": an address text is at most 45 characters, len 3 digits */
	n = pc_addr_text(&k->dst, rt->dst, sizeof(rt->dst) - 5);
	rt->dst[n] = '/';
	*pc_put_dec(rt->dst + n + 1, k->dst_len % 1000) = '\0';
	pc_names_table(names, k->table, rt->table, sizeof(rt->table));
	pc_names_proto(names, k->protocol, rt->protocol, sizeof(rt->protocol));
	pc_scope_name(k->scope, rt->scope, sizeof(rt->scope));
	rt->metric = k->has_priority ? k->priority : 0;
	pc_addr_text(&k->prefsrc, rt->prefsrc, sizeof(rt->prefsrc));
	flag_names(k->flags & ~0xffU, rt->flags, &rt->n_flags);
	rt->multipath = k->multipath;
	rt->nh = nh_buf;
	rt->n_nh = k->nh_count;
	for (unsigned i = 0; i < k->nh_count; i++) {
		struct pc_nh *nh = &nh_buf[i];

		pc_addr_text(&k->nh[i].gw, nh->gateway, sizeof(nh->gateway));
		pc_names_dev(names, k->nh[i].ifindex, nh->dev, sizeof(nh->dev));
		nh->weight = k->nh[i].weight;
		flag_names(k->nh[i].flags, nh->flags, &nh->n_flags);
	}
	if (!k->multipath && k->nh_count == 1) {
		memcpy(rt->gateway, nh_buf[0].gateway, sizeof(rt->gateway));
		memcpy(rt->dev, nh_buf[0].dev, sizeof(rt->dev));
		/* a single path's flags are the route's, as ip shows them */
		for (unsigned i = 0; i < nh_buf[0].n_flags && rt->n_flags < PC_FLAGS_MAX; i++)
			memcpy(rt->flags[rt->n_flags++], nh_buf[0].flags[i], PC_NAME_LEN);
	}
	return 0;
}

/* The checks the kernel request could not do: device by name, prefix match. */
bool pc_route_filter(const struct pc_opts *opts, struct pc_route *rt)
{
	if (opts->dev) {
		bool on = false;

		for (unsigned i = 0; i < rt->n_nh && !on; i++)
			on = !strcmp(rt->nh[i].dev, opts->dev);
		if (!on)
			return false;
	}
	if (opts->prefix) {
		bool inside = mp_nl_prefix_contains(&opts->prefix_addr, opts->prefix_len,
						    &rt->dst_addr, rt->dst_len);
		bool covers = mp_nl_prefix_contains(&rt->dst_addr, rt->dst_len,
						    &opts->prefix_addr, opts->prefix_len);

		if (!inside && !covers)
			return false;
		rt->match = inside && covers ? "exact" : inside ? "inside" : "covers";
	}
	return true;
}

struct list_ctx {
	const struct pc_opts *opts;
	struct pc_names *names;
	pc_route_fn fn;
	void *arg;
	int count;
	struct pc_route rt;
	struct pc_nh nh[MP_NL_NH_MAX];
};

static int list_fn(const struct mp_nl_route *k, void *arg)
{
	struct list_ctx *c = arg;
	int r;

	pc_route_from_nl(c->names, k, &c->rt, c->nh);
	if (!pc_route_filter(c->opts, &c->rt))
		return 0;
	r = c->fn(&c->rt, c->arg);
	if (r == 0)
		c->count++;
	return r;
}

static void nl_filter(const struct pc_opts *opts, struct mp_nl_route_filter *f)
{
	*f = (struct mp_nl_route_filter)MP_NL_ROUTE_FILTER_ALL;
	f->family = opts->family;
	f->protocol = opts->protocol;
	if (opts->table >= 0)
		f->table = (uint32_t)opts->table;
	if (opts->prefix && !opts->family)
		f->family = opts->prefix_addr.family;
}

int pc_list(const struct pc_opts *opts, struct mp_nl *nl, struct pc_names *names,
	    pc_route_fn fn, void *arg)
{
	struct mp_nl_route_filter f;
	struct list_ctx *c = calloc(1, sizeof(*c));
	int r;

	if (!c)
		return -ENOMEM;
	nl_filter(opts, &f);
	/* table 0 means "every table" to the library: no route lives in it */
	if (opts->table == 0) {
		free(c);
		return 0;
	}
	c->opts = opts;
	c->names = names;
	c->fn = fn;
	c->arg = arg;
	r = mp_nl_route_list(nl, &f, list_fn, c);
	if (r >= 0)
		r = c->count;
	free(c);
	return r;
}

static int doc_add(const struct pc_route *rt, void *arg)
{
	return pc_doc_add(arg, rt);
}

int pc_list_doc(const struct pc_opts *opts, struct mp_nl *nl, struct pc_names *names,
		struct pc_doc *doc)
{
	memset(doc, 0, sizeof(*doc));
	return pc_list(opts, nl, names, doc_add, doc);
}

struct addr_list {
	char **v;
	size_t n;
};

static int self_addr_fn(const struct mp_nl_ifaddr *a, void *arg)
{
	static const uint8_t ll6[2] = { 0xfe, 0x80 };
	struct addr_list *l = arg;
	char buf[PC_ADDR_LEN], **v;

	if (a->scope == RT_SCOPE_HOST || a->scope == RT_SCOPE_NOWHERE)
		return 0;
	if (a->addr.family == AF_INET6 && !memcmp(a->addr.bytes, ll6, 2))
		return 0;
	pc_addr_text(&a->addr, buf, sizeof(buf));
	v = realloc(l->v, (l->n + 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	l->v = v;
	if (!(l->v[l->n] = strdup(buf)))
		return -ENOMEM;
	l->n++;
	return 0;
}

int pc_self_addresses(struct mp_nl *nl, char ***ret, size_t *ret_n)
{
	struct addr_list l = { 0 };
	int r;

	/* IPv4 first: a node's first address is what paths to it aim at */
	r = mp_nl_ifaddr_list(nl, AF_INET, self_addr_fn, &l);
	if (r >= 0)
		r = mp_nl_ifaddr_list(nl, AF_INET6, self_addr_fn, &l);
	if (r < 0) {
		for (size_t i = 0; i < l.n; i++)
			free(l.v[i]);
		free(l.v);
		return r;
	}
	*ret = l.v;
	*ret_n = l.n;
	return 0;
}

struct watch_ctx {
	const struct pc_opts *opts;
	struct pc_names *names;
	pc_change_fn fn;
	void *arg;
	int count;
	struct pc_route rt;
	struct pc_nh nh[MP_NL_NH_MAX];
};

static int watch_fn(const struct mp_nl_event *ev, void *arg)
{
	struct watch_ctx *c = arg;
	const struct pc_opts *o = c->opts;
	const struct mp_nl_route *k = &ev->route;
	const char *change;
	int r;

	if (ev->type != MP_NL_EV_ROUTE_ADDED && ev->type != MP_NL_EV_ROUTE_DELETED)
		return 0;
	if ((o->table >= 0 && k->table != (uint64_t)o->table) ||
	    (o->protocol >= 0 && k->protocol != (unsigned)o->protocol))
		return 0;
	pc_route_from_nl(c->names, k, &c->rt, c->nh);
	if (!pc_route_filter(o, &c->rt))
		return 0;
	change = ev->type == MP_NL_EV_ROUTE_DELETED ? "deleted" : ev->replace ? "changed"
										: "added";
	r = c->fn(change, &c->rt, c->arg);
	if (r == 0)
		c->count++;
	return r;
}

int pc_watch(const struct pc_opts *opts, struct pc_names *names, pc_change_fn fn, void *arg,
	     volatile sig_atomic_t *stop)
{
	unsigned groups = 0;
	struct mp_nl_events *ev = NULL;
	struct watch_ctx *c = calloc(1, sizeof(*c));
	uint64_t end = opts->duration_ns ? mp_clock_mono_ns() + opts->duration_ns : 0;
	int r;

	if (!c)
		return -ENOMEM;
	if (opts->family != AF_INET6)
		groups |= MP_NL_EV_ROUTE4;
	if (opts->family != AF_INET)
		groups |= MP_NL_EV_ROUTE6;
	r = mp_nl_events_new(&ev, groups);
	if (r < 0)
		goto out;
	c->opts = opts;
	c->names = names;
	c->fn = fn;
	c->arg = arg;
	while (!*stop) {
		struct pollfd p = { .fd = mp_nl_events_fd(ev), .events = POLLIN };
		int wait_ms = -1;

		if (end) {
			uint64_t now = mp_clock_mono_ns();

			if (now >= end)
				break;
			wait_ms = (int)((end - now + MP_NSEC_PER_MSEC - 1) / MP_NSEC_PER_MSEC);
		}
		r = poll(&p, 1, wait_ms);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			r = -errno;
			goto out;
		}
		if (r == 0)
			continue;
		r = mp_nl_events_read(ev, watch_fn, c);
		if (r < 0)
			goto out;
	}
	r = c->count;
out:
	mp_nl_events_free(ev);
	free(c);
	return r;
}
