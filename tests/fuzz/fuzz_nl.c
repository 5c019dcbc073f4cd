/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer harness for the rtnetlink decoders of lib/nl.c. The input is one
 * batch as one recv() returns it (seeds: real dumps and events recorded in
 * the lab by tests/fuzz/record.sh). It goes through the same code as on a
 * socket:
 *   - reply_batch() (transact()'s loop: sequence numbers, NLMSG_DONE with a
 *     dump's error, NLMSG_ERROR/ACK) driving the route, link and address
 *     dump walkers and the one-object readers (route get, link get);
 *   - events_batch() (mp_nl_events_read()'s loop) and event_decode().
 * Properties: every decoded object is consistent (families, prefix lengths
 * within the family, nexthop counts and weights, NUL-terminated names), the
 * results are 0, 1 or a negative errno, and a decoded route written back by
 * route_msg_fill() (what mp_nl_route_change() sends) decodes to the same
 * route in every field the writer carries.
 */
#include "nl.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static unsigned width(int family)
{
	return family == AF_INET ? 32 : family == AF_INET6 ? 128 : 0;
}

static void check_addr(const struct mp_nl_addr *a, bool may_be_absent)
{
	if (a->family == 0 ? !may_be_absent : !width(a->family))
		abort();
	if (a->family == AF_INET)
		for (int i = 4; i < 16; i++)
			if (a->bytes[i])
				abort();
}

static bool addr_eq(const struct mp_nl_addr *a, const struct mp_nl_addr *b)
{
	return a->family == b->family && !memcmp(a->bytes, b->bytes, sizeof(a->bytes));
}

static void check_route(const struct mp_nl_route *rt)
{
	unsigned w = width(rt->family);

	if (!w || rt->dst.family != rt->family || rt->dst_len > w || rt->src_len > w)
		abort();
	check_addr(&rt->dst, false);
	check_addr(&rt->src, true);
	check_addr(&rt->prefsrc, true);
	if ((rt->src.family && rt->src.family != rt->family) ||
	    (rt->prefsrc.family && rt->prefsrc.family != rt->family))
		abort();
	if (rt->nh_count > MP_NL_NH_MAX || rt->nh_count > rt->nh_total ||
	    (!rt->multipath && rt->nh_total > 1) || rt->pref < -1 || rt->pref > 255)
		abort();
	for (unsigned i = 0; i < rt->nh_count; i++) {
		check_addr(&rt->nh[i].gw, true);
		if (rt->nh[i].weight < 1 || rt->nh[i].weight > 256 || rt->nh[i].flags > 0xff)
			abort();
	}
}

/* What route_msg_fill() writes must decode to the same route. */
static void check_route_round_trip(const struct mp_nl_route *rt)
{
	static struct mp_nl_route back;
	struct nl_msg *msg = nlmsg_alloc_simple(RTM_NEWROUTE, NLM_F_REQUEST);
	unsigned count = rt->nh_count;

	if (!msg)
		abort();
	if (route_msg_fill(msg, rt) < 0 || parse_route(nlmsg_hdr(msg), &back) < 0)
		abort();
	/* a single path of neither interface nor gateway is not written */
	if (count == 1 && !rt->nh[0].ifindex && !rt->nh[0].gw.family)
		count = 0;
	if (back.family != rt->family || back.dst_len != rt->dst_len ||
	    (rt->dst_len && !addr_eq(&back.dst, &rt->dst)) || back.table != rt->table ||
	    back.protocol != rt->protocol || back.scope != rt->scope || back.type != rt->type ||
	    back.tos != rt->tos || back.has_priority != rt->has_priority ||
	    back.priority != rt->priority || back.mtu_bytes != rt->mtu_bytes ||
	    !addr_eq(&back.prefsrc, &rt->prefsrc) || back.nh_count != count)
		abort();
	if (rt->src.family && rt->src_len &&
	    (back.src_len != rt->src_len || !addr_eq(&back.src, &rt->src)))
		abort();
	for (unsigned i = 0; i < count; i++) {
		const struct mp_nl_nexthop *a = &rt->nh[i], *b = &back.nh[i];

		if (a->ifindex != b->ifindex || !addr_eq(&a->gw, &b->gw) ||
		    a->flags != b->flags || (count > 1 && a->weight != b->weight))
			abort();
	}
	nlmsg_free(msg);
}

static void check_link(const struct mp_nl_link *l)
{
	if (!memchr(l->name, 0, sizeof(l->name)) || l->oper_state > 0xff)
		abort();
}

static void check_ifaddr(const struct mp_nl_ifaddr *a)
{
	check_addr(&a->addr, false);
	check_addr(&a->peer, true);
	if ((a->peer.family && a->peer.family != a->addr.family) ||
	    a->prefix_len > width(a->addr.family))
		abort();
}

static int on_route(const struct mp_nl_route *rt, void *arg)
{
	(void)arg;
	check_route(rt);
	if (rt->flags & RTM_F_CLONED)	/* the walk filters them out */
		abort();
	check_route_round_trip(rt);
	return 0;
}

static int on_link(const struct mp_nl_link *l, void *arg)
{
	(void)arg;
	check_link(l);
	return 0;
}

static int on_ifaddr(const struct mp_nl_ifaddr *a, void *arg)
{
	(void)arg;
	check_ifaddr(a);
	return 0;
}

static int on_event(const struct mp_nl_event *e, void *arg)
{
	(void)arg;
	switch (e->type) {
	case MP_NL_EV_ROUTE_ADDED:
	case MP_NL_EV_ROUTE_DELETED:
		check_route(&e->route);
		if (e->route.flags & RTM_F_CLONED)
			abort();
		break;
	case MP_NL_EV_LINK_CHANGED:
	case MP_NL_EV_LINK_DELETED:
		check_link(&e->link);
		break;
	case MP_NL_EV_ADDR_ADDED:
	case MP_NL_EV_ADDR_DELETED:
		check_ifaddr(&e->addr);
		break;
	default:
		abort();
	}
	return 0;
}

/* A result of reply_batch(): done or not, and what the request returns. */
static void check_reply(int done, int fn_r)
{
	if ((done != 0 && done != 1) || fn_r > 0 || fn_r < -4095)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct route_walk rw;
	static struct mp_nl_events ev;
	static struct mp_nl_route one;
	struct link_walk lw = { .fn = on_link };
	struct ifaddr_walk aw = { .fn = on_ifaddr };
	struct mp_nl_link link = { .ifindex = -1 };
	uint32_t seq = 0;
	uint8_t *buf;
	int done, fn_r, count = 0;

	if (size > NL_BUF_BYTES)
		return 0;
	/* a copy of exactly the bytes read, aligned as the receive buffer is */
	buf = malloc(size ? size : 1);
	if (!buf)
		abort();
	memcpy(buf, data, size);
	if (size >= sizeof(struct nlmsghdr))
		seq = ((const struct nlmsghdr *)(const void *)buf)->nlmsg_seq;

	rw = (struct route_walk){ .fn = on_route };
	fn_r = 0;
	done = reply_batch(buf, (int)size, seq, route_msg, &rw, &fn_r);
	check_reply(done, fn_r);
	fn_r = 0;
	done = reply_batch(buf, (int)size, seq, link_msg, &lw, &fn_r);
	check_reply(done, fn_r);
	fn_r = 0;
	done = reply_batch(buf, (int)size, seq, ifaddr_msg, &aw, &fn_r);
	check_reply(done, fn_r);
	fn_r = 0;
	one.family = AF_UNSPEC;
	done = reply_batch(buf, (int)size, seq, route_one, &one, &fn_r);
	check_reply(done, fn_r);
	if (done && !fn_r && one.family != AF_UNSPEC)	/* what mp_nl_route_get() hands out */
		check_route(&one);
	fn_r = 0;
	done = reply_batch(buf, (int)size, seq, link_one, &link, &fn_r);
	check_reply(done, fn_r);
	if (done && !fn_r && link.ifindex >= 0)	/* what mp_nl_link_get() hands out */
		check_link(&link);

	if (events_batch(&ev, buf, (int)size, on_event, NULL, &count) != 0 || count < 0)
		abort();
	free(buf);
	return 0;
}
