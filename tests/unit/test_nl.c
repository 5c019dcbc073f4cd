/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of lib/nl.c against the real kernel, each test in a private
 * network namespace of its own (unshare(CLONE_NEWNET); skipped with the
 * reason when that is not allowed). The independent source of truth is
 * iproute2: routes the test installs with `ip` must come back from
 * mp_nl_route_list() with the fields written in the `ip` command, and routes
 * installed with mp_nl_route_change() must show in `ip -j route show` (read
 * with jansson) as the test specified them. Prefix containment is checked
 * against cases worked by hand. What fuzz_nl found comes from a wrapped
 * recv() (test_nl.ldflags): malformed events in a batch built here, and a
 * real dump whose NLMSG_DONE error is rewritten.
 */
#include <errno.h>
#include <poll.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <linux/rtnetlink.h>
#include <cmocka.h>

#include <jansson.h>

#include "mp.h"
#include "nl.h"

static struct mp_nl *nl;

/* Runs a shell command (ip, in the test's namespace); 0 on exit status 0. */
static int sh(const char *fmt, ...) MP_PRINTF(1, 2);
static int sh(const char *fmt, ...)
{
	char cmd[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	return system(cmd) == 0 ? 0 : -1;
}

/* A fresh namespace with lo up and 10.9.9.1/24 on it (gateways 10.9.9.x are
 * then reachable through lo). */
static int ns_setup(void **state)
{
	(void)state;
	if (geteuid() != 0 || unshare(CLONE_NEWNET) < 0)
		return 0;	/* the test skips itself */
	if (sh("ip link set lo up && ip addr add 10.9.9.1/24 dev lo") < 0)
		return -1;
	return mp_nl_new(&nl) < 0 ? -1 : 0;
}

static int ns_teardown(void **state)
{
	(void)state;
	mp_nl_free(nl);
	nl = NULL;
	return 0;
}

static void need_ns(void)
{
	if (!nl)
		skip();	/* not root, or unshare(CLONE_NEWNET) refused */
}

static struct mp_nl_addr a4(const char *s)
{
	struct mp_nl_addr a = { .family = AF_INET };

	inet_pton(AF_INET, s, a.bytes);
	return a;
}

static struct mp_nl_addr a6(const char *s)
{
	struct mp_nl_addr a = { .family = AF_INET6 };

	inet_pton(AF_INET6, s, a.bytes);
	return a;
}

/* ---- hand-worked prefix containment ---- */

static void test_prefix_contains(void **state)
{
	struct mp_nl_addr n10 = a4("10.201.0.0"), h = a4("10.201.3.7");
	struct mp_nl_addr n11 = a4("10.200.0.0"), z = a4("0.0.0.0");
	struct mp_nl_addr v6 = a6("fdac:c9::"), v6h = a6("fdac:c9:3::1");

	(void)state;
	assert_true(mp_nl_prefix_contains(&n10, 16, &h, 32));
	assert_true(mp_nl_prefix_contains(&n10, 16, &n10, 16));
	assert_false(mp_nl_prefix_contains(&h, 32, &n10, 16));	/* longer can't contain */
	assert_false(mp_nl_prefix_contains(&n11, 16, &h, 32));	/* 10.200/16 vs 10.201.x */
	assert_true(mp_nl_prefix_contains(&n11, 15, &h, 32));	/* 10.200/15 holds .201 */
	assert_true(mp_nl_prefix_contains(&z, 0, &h, 32));	/* default covers all */
	assert_false(mp_nl_prefix_contains(&z, 0, &v6h, 128));	/* family differs */
	assert_true(mp_nl_prefix_contains(&v6, 32, &v6h, 128));
	assert_false(mp_nl_prefix_contains(&v6, 48, &v6h, 128));	/* fdac:c9:0 vs :3 */
}

/* ---- listing what ip installed ---- */

struct found {
	const struct mp_nl_addr *dst;	/* looked for */
	unsigned dst_len;
	uint32_t table;
	int hits;
	struct mp_nl_route rt;		/* the last hit */
};

static int find_fn(const struct mp_nl_route *rt, void *arg)
{
	struct found *f = arg;

	if (rt->dst_len == f->dst_len && rt->table == f->table &&
	    !memcmp(rt->dst.bytes, f->dst->bytes, 16) && rt->family == f->dst->family) {
		f->hits++;
		f->rt = *rt;
	}
	return 0;
}

static struct mp_nl_route find(const char *dst, unsigned len, uint32_t table, int family)
{
	struct mp_nl_addr d = family == AF_INET ? a4(dst) : a6(dst);
	struct found f = { .dst = &d, .dst_len = len, .table = table };

	assert_true(mp_nl_route_list(nl, NULL, find_fn, &f) > 0);
	assert_int_equal(f.hits, 1);
	return f.rt;
}

static void test_list_ip_routes(void **state)
{
	struct mp_nl_route rt;
	struct mp_nl_addr gw2 = a4("10.9.9.2"), gw3 = a4("10.9.9.3"), src = a4("10.9.9.1");

	(void)state;
	need_ns();
	assert_int_equal(sh("ip route add 10.50.0.0/16 via 10.9.9.2 proto 201 metric 7 "
			    "table 100 src 10.9.9.1"), 0);
	assert_int_equal(sh("ip route add blackhole 10.60.0.0/16 table 1000 proto static"), 0);
	assert_int_equal(sh("ip route add 10.70.0.0/16 nexthop via 10.9.9.2 weight 1 "
			    "nexthop via 10.9.9.3 weight 3"), 0);
	assert_int_equal(sh("ip -6 route add unreachable 2001:db8::/32 metric 55"), 0);
	assert_int_equal(sh("ip route add prohibit 10.61.0.0/16"), 0);

	rt = find("10.50.0.0", 16, 100, AF_INET);
	assert_int_equal(rt.type, RTN_UNICAST);
	assert_int_equal(rt.protocol, 201);
	assert_true(rt.has_priority);
	assert_int_equal(rt.priority, 7);
	assert_int_equal(rt.nh_count, 1);
	assert_memory_equal(rt.nh[0].gw.bytes, gw2.bytes, 4);
	assert_int_equal(rt.nh[0].ifindex, 1);	/* lo */
	assert_int_equal(rt.prefsrc.family, AF_INET);
	assert_memory_equal(rt.prefsrc.bytes, src.bytes, 4);

	rt = find("10.60.0.0", 16, 1000, AF_INET);	/* table > 255: RTA_TABLE */
	assert_int_equal(rt.type, RTN_BLACKHOLE);
	assert_int_equal(rt.protocol, RTPROT_STATIC);
	assert_int_equal(rt.nh_count, 0);

	rt = find("10.70.0.0", 16, RT_TABLE_MAIN, AF_INET);
	assert_true(rt.multipath);
	assert_int_equal(rt.nh_count, 2);
	assert_memory_equal(rt.nh[0].gw.bytes, gw2.bytes, 4);
	assert_int_equal(rt.nh[0].weight, 1);
	assert_memory_equal(rt.nh[1].gw.bytes, gw3.bytes, 4);
	assert_int_equal(rt.nh[1].weight, 3);

	rt = find("2001:db8::", 32, RT_TABLE_MAIN, AF_INET6);
	assert_int_equal(rt.type, RTN_UNREACHABLE);
	assert_int_equal(rt.priority, 55);

	rt = find("10.61.0.0", 16, RT_TABLE_MAIN, AF_INET);
	assert_int_equal(rt.type, RTN_PROHIBIT);

	/* the local table holds lo's addresses */
	rt = find("10.9.9.1", 32, RT_TABLE_LOCAL, AF_INET);
	assert_int_equal(rt.type, RTN_LOCAL);
	assert_int_equal(rt.scope, RT_SCOPE_HOST);
}

static int count_fn(const struct mp_nl_route *rt, void *arg)
{
	(void)rt;
	(*(int *)arg)++;
	return 0;
}

static int stop_fn(const struct mp_nl_route *rt, void *arg)
{
	(void)rt;
	(void)arg;
	return -ECANCELED;
}

/* Number of routes `ip -j [-6] route show table all` lists. */
static int ip_count(const char *fam)
{
	char cmd[128];
	json_error_t err;
	json_t *j;
	FILE *p;
	int n = -1;

	snprintf(cmd, sizeof(cmd), "ip %s -j route show table all", fam);
	p = popen(cmd, "r");
	if (!p)
		return -1;
	j = json_loadf(p, 0, &err);
	pclose(p);
	if (j && json_is_array(j))
		n = (int)json_array_size(j);
	json_decref(j);
	return n;
}

static void test_filters_and_array(void **state)
{
	struct mp_nl_route_filter f = MP_NL_ROUTE_FILTER_ALL;
	struct mp_nl_route *v = NULL;
	size_t n = 0;
	int count = 0, n4, n6;

	(void)state;
	need_ns();
	assert_int_equal(sh("ip route add 10.50.0.0/16 via 10.9.9.2 proto 201 table 100 && "
			    "ip route add 10.51.0.0/16 via 10.9.9.2 proto 201 && "
			    "ip route add 10.52.0.0/16 via 10.9.9.2 && "
			    "ip -6 route add 2001:db8:1::/48 dev lo proto 201"), 0);
	n4 = ip_count("-4");
	n6 = ip_count("-6");
	assert_true(n4 > 0 && n6 > 0);

	f.family = AF_INET;
	assert_int_equal(mp_nl_route_list(nl, &f, count_fn, &count), n4);
	assert_int_equal(count, n4);
	assert_int_equal(mp_nl_route_list_array(nl, NULL, &v, &n), n4 + n6);
	assert_int_equal(n, (size_t)(n4 + n6));
	free(v);

	f = (struct mp_nl_route_filter)MP_NL_ROUTE_FILTER_ALL;
	f.protocol = MP_NL_PROTO_MESHCTL;
	assert_int_equal(mp_nl_route_list(nl, &f, count_fn, &count), 3);
	f.table = 100;
	assert_int_equal(mp_nl_route_list(nl, &f, count_fn, &count), 1);
	f = (struct mp_nl_route_filter)MP_NL_ROUTE_FILTER_ALL;
	f.family = AF_INET6;
	f.protocol = MP_NL_PROTO_MESHCTL;
	assert_int_equal(mp_nl_route_list(nl, &f, count_fn, &count), 1);

	/* a callback's error stops the walk and the socket stays usable */
	assert_int_equal(mp_nl_route_list(nl, NULL, stop_fn, NULL), -ECANCELED);
	assert_int_equal(mp_nl_route_list(nl, NULL, count_fn, &count), n4 + n6);
}

/* ---- changing routes; ip reads them back ---- */

/* The one route of `ip -j ARGS` (ARGS select exactly one), or NULL. */
static json_t *ip_route(const char *args)
{
	char cmd[256];
	json_error_t err;
	json_t *j, *r = NULL;
	FILE *p;

	snprintf(cmd, sizeof(cmd), "ip -j %s", args);
	p = popen(cmd, "r");
	if (!p)
		return NULL;
	j = json_loadf(p, 0, &err);
	pclose(p);
	if (j && json_is_array(j) && json_array_size(j) == 1)
		r = json_incref(json_array_get(j, 0));
	json_decref(j);
	return r;
}

static const char *jstr(json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));

	return s ? s : "";
}

static void test_change_routes(void **state)
{
	struct mp_nl_route rt;
	json_t *j, *nh;

	(void)state;
	need_ns();
	mp_nl_route_init(&rt, AF_INET);
	rt.dst = a4("10.50.0.0");
	rt.dst_len = 16;
	rt.table = 100;
	rt.protocol = MP_NL_PROTO_MESHCTL;
	rt.has_priority = true;
	rt.priority = 7;
	rt.nh_count = 1;
	rt.nh[0].gw = a4("10.9.9.2");
	rt.nh[0].ifindex = 1;
	assert_int_equal(mp_nl_route_change(nl, MP_NL_ROUTE_ADD, &rt), 0);
	assert_int_equal(mp_nl_route_change(nl, MP_NL_ROUTE_ADD, &rt), -EEXIST);
	j = ip_route("route show table 100 10.50.0.0/16");
	assert_non_null(j);
	assert_string_equal(jstr(j, "gateway"), "10.9.9.2");
	assert_string_equal(jstr(j, "dev"), "lo");
	assert_string_equal(jstr(j, "protocol"), "201");
	assert_int_equal(json_integer_value(json_object_get(j, "metric")), 7);
	json_decref(j);

	/* replace atomically: same key, new gateway */
	rt.nh[0].gw = a4("10.9.9.3");
	assert_int_equal(mp_nl_route_change(nl, MP_NL_ROUTE_REPLACE, &rt), 0);
	j = ip_route("route show table 100 10.50.0.0/16");
	assert_non_null(j);
	assert_string_equal(jstr(j, "gateway"), "10.9.9.3");
	json_decref(j);

	/* multipath with weights, in a table above 255 */
	rt.table = 1000;
	rt.nh_count = 2;
	rt.nh[0].gw = a4("10.9.9.2");
	rt.nh[0].weight = 2;
	rt.nh[1].gw = a4("10.9.9.3");
	rt.nh[1].ifindex = 1;
	rt.nh[1].weight = 5;
	assert_int_equal(mp_nl_route_change(nl, MP_NL_ROUTE_REPLACE, &rt), 0);
	j = ip_route("route show table 1000 10.50.0.0/16");
	assert_non_null(j);
	nh = json_object_get(j, "nexthops");
	assert_int_equal(json_array_size(nh), 2);
	assert_string_equal(jstr(json_array_get(nh, 0), "gateway"), "10.9.9.2");
	assert_int_equal(json_integer_value(json_object_get(json_array_get(nh, 0), "weight")), 2);
	assert_string_equal(jstr(json_array_get(nh, 1), "gateway"), "10.9.9.3");
	assert_int_equal(json_integer_value(json_object_get(json_array_get(nh, 1), "weight")), 5);
	json_decref(j);

	/* IPv6 blackhole */
	mp_nl_route_init(&rt, AF_INET6);
	rt.dst = a6("2001:db8:5::");
	rt.dst_len = 48;
	rt.type = RTN_BLACKHOLE;
	rt.protocol = MP_NL_PROTO_MESHCTL;
	assert_int_equal(mp_nl_route_change(nl, MP_NL_ROUTE_ADD, &rt), 0);
	j = ip_route("-6 route show 2001:db8:5::/48");
	assert_non_null(j);
	assert_string_equal(jstr(j, "type"), "blackhole");
	json_decref(j);
	assert_int_equal(mp_nl_route_change(nl, MP_NL_ROUTE_DELETE, &rt), 0);
	assert_int_equal(mp_nl_route_change(nl, MP_NL_ROUTE_DELETE, &rt), -ESRCH);
	assert_null(ip_route("-6 route show 2001:db8:5::/48"));

	/* the kernel's errno comes through: gateway not reachable */
	mp_nl_route_init(&rt, AF_INET);
	rt.dst = a4("10.77.0.0");
	rt.dst_len = 16;
	rt.nh_count = 1;
	rt.nh[0].gw = a4("192.0.2.1");
	assert_int_equal(mp_nl_route_change(nl, MP_NL_ROUTE_ADD, &rt), -ENETUNREACH);
	rt.dst_len = 40;
	assert_int_equal(mp_nl_route_change(nl, MP_NL_ROUTE_ADD, &rt), -EINVAL);
}

/* ---- links and addresses ---- */

static int ip_link_mtu(const char *dev)
{
	char args[64];
	json_t *j;
	int mtu;

	snprintf(args, sizeof(args), "link show dev %s", dev);
	j = ip_route(args);
	mtu = j ? (int)json_integer_value(json_object_get(j, "mtu")) : -1;
	json_decref(j);
	return mtu;
}

static int link_count_fn(const struct mp_nl_link *l, void *arg)
{
	if (l->ifindex == 1 && !strcmp(l->name, "lo"))
		(*(int *)arg)++;
	return 0;
}

static void test_links(void **state)
{
	struct mp_nl_link l;
	int lo = 0;

	(void)state;
	need_ns();
	assert_int_equal(mp_nl_link_get(nl, 0, "lo", &l), 0);
	assert_int_equal(l.ifindex, 1);	/* lo is always 1 in a namespace */
	assert_int_equal(l.mtu_bytes, (uint32_t)ip_link_mtu("lo"));
	assert_int_equal(mp_nl_link_set_mtu(nl, 0, "lo", 1400), 0);
	assert_int_equal(ip_link_mtu("lo"), 1400);
	assert_int_equal(mp_nl_link_get(nl, 1, NULL, &l), 0);
	assert_string_equal(l.name, "lo");
	assert_int_equal(l.mtu_bytes, 1400);
	assert_int_equal(mp_nl_link_set_mtu(nl, 1, NULL, 9000), 0);
	assert_int_equal(ip_link_mtu("lo"), 9000);
	assert_int_equal(mp_nl_link_get(nl, 0, "nosuch0", &l), -ENODEV);
	assert_int_equal(mp_nl_link_set_mtu(nl, 0, "nosuch0", 1400), -ENODEV);
	assert_int_equal(mp_nl_link_get(nl, 0, "", &l), -EINVAL);
	assert_int_equal(mp_nl_link_list(nl, link_count_fn, &lo), 1);	/* only lo here */
	assert_int_equal(lo, 1);
}

struct addr_seen {
	bool v4, v4_24, v6, ptp;
};

static int addr_fn(const struct mp_nl_ifaddr *a, void *arg)
{
	struct addr_seen *s = arg;
	struct mp_nl_addr lo4 = a4("127.0.0.1"), x = a4("10.9.9.1"), lo6 = a6("::1");

	if (a->ifindex != 1)
		return 0;
	if (a->addr.family == AF_INET && !memcmp(a->addr.bytes, lo4.bytes, 4) &&
	    a->prefix_len == 8)
		s->v4 = true;
	if (a->addr.family == AF_INET && !memcmp(a->addr.bytes, x.bytes, 4) &&
	    a->prefix_len == 24)
		s->v4_24 = true;
	if (a->addr.family == AF_INET6 && !memcmp(a->addr.bytes, lo6.bytes, 16) &&
	    a->prefix_len == 128)
		s->v6 = true;
	/* a point-to-point address carries its peer; the others none */
	if (a->addr.family == AF_INET && !memcmp(a->addr.bytes, a4("10.9.8.1").bytes, 4))
		s->ptp = a->peer.family == AF_INET &&
			 !memcmp(a->peer.bytes, a4("10.9.8.2").bytes, 4);
	else if (a->peer.family)
		s->ptp = false, s->v4 = false;
	return 0;
}

static void test_addresses(void **state)
{
	struct addr_seen s = { 0 };

	(void)state;
	need_ns();
	assert_int_equal(sh("ip addr add 10.9.8.1/32 peer 10.9.8.2/32 dev lo"), 0);
	assert_int_equal(mp_nl_ifaddr_list(nl, AF_UNSPEC, addr_fn, &s), 4);
	assert_true(s.v4 && s.v4_24 && s.v6 && s.ptp);
	assert_int_equal(sh("ip addr del 10.9.8.1/32 peer 10.9.8.2/32 dev lo"), 0);
	memset(&s, 0, sizeof(s));
	assert_int_equal(mp_nl_ifaddr_list(nl, AF_INET6, addr_fn, &s), 1);
	assert_true(s.v6 && !s.v4);
	assert_int_equal(mp_nl_ifaddr_list(nl, 99, addr_fn, &s), -EINVAL);
}

/* ---- events ---- */

struct ev_seen {
	int added, deleted;
};

static int ev_fn(const struct mp_nl_event *e, void *arg)
{
	struct ev_seen *s = arg;
	struct mp_nl_addr d = a4("10.80.0.0");

	if (e->route.family != AF_INET || e->route.dst_len != 16 ||
	    memcmp(e->route.dst.bytes, d.bytes, 4))
		return 0;
	if (e->type == MP_NL_EV_ROUTE_ADDED)
		s->added++;
	if (e->type == MP_NL_EV_ROUTE_DELETED)
		s->deleted++;
	return 0;
}

static void wait_events(struct mp_nl_events *ev, struct ev_seen *s, int added, int deleted)
{
	struct pollfd p = { .fd = mp_nl_events_fd(ev), .events = POLLIN };

	for (int i = 0; i < 20 && (s->added < added || s->deleted < deleted); i++) {
		if (poll(&p, 1, 100) > 0)
			assert_true(mp_nl_events_read(ev, ev_fn, s) >= 0);
	}
}

static void test_events(void **state)
{
	struct mp_nl_events *ev = NULL;
	struct ev_seen s = { 0 };

	(void)state;
	need_ns();
	assert_int_equal(mp_nl_events_new(&ev, 0), -EINVAL);
	assert_int_equal(mp_nl_events_new(&ev, MP_NL_EV_ROUTE4 | MP_NL_EV_ROUTE6), 0);
	assert_int_equal(mp_nl_events_read(ev, ev_fn, &s), 0);	/* nothing queued */
	assert_int_equal(sh("ip route add 10.80.0.0/16 dev lo"), 0);
	wait_events(ev, &s, 1, 0);
	assert_int_equal(s.added, 1);
	assert_int_equal(sh("ip route del 10.80.0.0/16 dev lo"), 0);
	wait_events(ev, &s, 1, 1);
	assert_int_equal(s.deleted, 1);
	mp_nl_events_free(ev);
	mp_nl_events_free(NULL);
}

static void test_route_get(void **state)
{
	struct mp_nl_route rt;
	struct mp_nl_addr d = a4("10.77.1.2");

	(void)state;
	need_ns();
	assert_int_equal(mp_nl_route_get(nl, &d, &rt), -ENETUNREACH);
	assert_int_equal(sh("ip route add 10.77.0.0/16 dev lo mtu 1300"), 0);
	assert_int_equal(mp_nl_route_get(nl, &d, &rt), 0);
	assert_int_equal(rt.family, AF_INET);
	assert_int_equal(rt.nh_count, 1);
	assert_int_equal(rt.nh[0].ifindex, 1);
	assert_int_equal(rt.mtu_bytes, 1300);
	d = a4("10.9.9.7");	/* the device's MTU applies: none on the route */
	assert_int_equal(mp_nl_route_get(nl, &d, &rt), 0);
	assert_int_equal(rt.nh[0].ifindex, 1);
	assert_int_equal(rt.mtu_bytes, 0);
	d = a6("::1");
	assert_int_equal(mp_nl_route_get(nl, &d, &rt), 0);
	assert_int_equal(rt.family, AF_INET6);
	assert_int_equal(rt.nh[0].ifindex, 1);
	d.family = AF_UNIX;
	assert_int_equal(mp_nl_route_get(nl, &d, &rt), -EINVAL);
}

/* ---- malformed events (fuzz_nl's finds): recv() wrapped ---- */

ssize_t __real_recv(int fd, void *buf, size_t len, int flags);
ssize_t __wrap_recv(int fd, void *buf, size_t len, int flags);

static const void *fake_batch;	/* when set: returned once, then EAGAIN */
static size_t fake_len;
static int done_error;		/* when set: the kernel's NLMSG_DONE says this */

/* The kernel's answer, with the error of its NLMSG_DONE replaced. */
static ssize_t recv_done_error(int fd, void *buf, size_t len, int flags)
{
	ssize_t n = __real_recv(fd, buf, len, flags);
	struct nlmsghdr *h = buf;
	int rem = (int)n;

	for (; n > 0 && NLMSG_OK(h, rem); h = NLMSG_NEXT(h, rem))
		if (h->nlmsg_type == NLMSG_DONE && NLMSG_PAYLOAD(h, 0) >= sizeof(int))
			memcpy(NLMSG_DATA(h), &done_error, sizeof(int));
	return n;
}

ssize_t __wrap_recv(int fd, void *buf, size_t len, int flags)
{
	if (done_error)
		return recv_done_error(fd, buf, len, flags);
	if (!fake_batch)
		return __real_recv(fd, buf, len, flags);
	if (!fake_len) {
		fake_batch = NULL;
		errno = EAGAIN;
		return -1;
	}
	memcpy(buf, fake_batch, MP_MIN(len, fake_len));
	len = fake_len;
	fake_len = 0;
	return (ssize_t)len;
}

/* An RTM_NEWADDR of 10.1.2.3/plen and an RTM_NEWROUTE 10.2.0.0/16 from
 * 10.3.0.0/src_len, back to back in one batch. */
struct bad_batch {
	struct nlmsghdr ah;
	struct ifaddrmsg ifa;
	struct rtattr a_local;
	uint8_t local[4];
	struct nlmsghdr rh;
	struct rtmsg rtm;
	struct rtattr a_dst;
	uint8_t dst[4];
	struct rtattr a_src;
	uint8_t src[4];
};

static void bad_batch_fill(struct bad_batch *b, unsigned plen, unsigned src_len)
{
	memset(b, 0, sizeof(*b));
	b->ah = (struct nlmsghdr){ .nlmsg_len = offsetof(struct bad_batch, rh),
				   .nlmsg_type = RTM_NEWADDR };
	b->ifa = (struct ifaddrmsg){ .ifa_family = AF_INET, .ifa_prefixlen = (uint8_t)plen,
				     .ifa_index = 1 };
	b->a_local = (struct rtattr){ .rta_len = RTA_LENGTH(4), .rta_type = IFA_LOCAL };
	memcpy(b->local, "\x0a\x01\x02\x03", 4);
	b->rh = (struct nlmsghdr){ .nlmsg_len = sizeof(*b) - offsetof(struct bad_batch, rh),
				   .nlmsg_type = RTM_NEWROUTE };
	b->rtm = (struct rtmsg){ .rtm_family = AF_INET, .rtm_dst_len = 16,
				 .rtm_src_len = (uint8_t)src_len, .rtm_table = RT_TABLE_MAIN,
				 .rtm_type = RTN_UNICAST };
	b->a_dst = (struct rtattr){ .rta_len = RTA_LENGTH(4), .rta_type = RTA_DST };
	memcpy(b->dst, "\x0a\x02\x00\x00", 4);
	b->a_src = (struct rtattr){ .rta_len = RTA_LENGTH(4), .rta_type = RTA_SRC };
	memcpy(b->src, "\x0a\x03\x00\x00", 4);
}

static int count_events(const struct mp_nl_event *e, void *arg)
{
	(void)e;
	++*(int *)arg;
	return 0;
}

static void test_events_malformed(void **state)
{
	struct mp_nl_events *ev = NULL;
	struct bad_batch b;
	int n = 0;

	(void)state;
	assert_int_equal(mp_nl_events_new(&ev, MP_NL_EV_ROUTE4 | MP_NL_EV_ADDR), 0);
	bad_batch_fill(&b, 24, 16);	/* both well formed: both delivered */
	fake_batch = &b;
	fake_len = sizeof(b);
	assert_int_equal(mp_nl_events_read(ev, count_events, &n), 2);
	assert_int_equal(n, 2);
	bad_batch_fill(&b, 61, 40);	/* prefix 61, source /40 of IPv4: skipped */
	fake_batch = &b;
	fake_len = sizeof(b);
	n = 0;
	assert_int_equal(mp_nl_events_read(ev, count_events, &n), 0);
	assert_int_equal(n, 0);
	mp_nl_events_free(ev);
}

/* A dump whose DONE carries a value no kernel sends: -EBADMSG, not -65536
 * (which a caller would print as "Unknown error 65536"). */
static void test_dump_done_error(void **state)
{
	int lo = 0;

	(void)state;
	need_ns();
	done_error = -ENOMEM;	/* what a kernel does send: passed on */
	assert_int_equal(mp_nl_link_list(nl, link_count_fn, &lo), -ENOMEM);
	done_error = -65536;
	assert_int_equal(mp_nl_link_list(nl, link_count_fn, &lo), -EBADMSG);
	done_error = 0;
	assert_int_equal(mp_nl_link_list(nl, link_count_fn, &lo), 1);	/* lo, read whole */
}

static void test_null_args(void **state)
{
	(void)state;
	mp_nl_free(NULL);
	assert_int_equal(mp_nl_route_list(NULL, NULL, count_fn, NULL), -EINVAL);
	assert_int_equal(mp_nl_route_change(NULL, MP_NL_ROUTE_ADD, NULL), -EINVAL);
	assert_int_equal(mp_nl_events_fd(NULL), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_prefix_contains),
		cmocka_unit_test(test_null_args),
		cmocka_unit_test(test_events_malformed),
		cmocka_unit_test_setup_teardown(test_list_ip_routes, ns_setup, ns_teardown),
		cmocka_unit_test_setup_teardown(test_filters_and_array, ns_setup, ns_teardown),
		cmocka_unit_test_setup_teardown(test_change_routes, ns_setup, ns_teardown),
		cmocka_unit_test_setup_teardown(test_links, ns_setup, ns_teardown),
		cmocka_unit_test_setup_teardown(test_route_get, ns_setup, ns_teardown),
		cmocka_unit_test_setup_teardown(test_addresses, ns_setup, ns_teardown),
		cmocka_unit_test_setup_teardown(test_events, ns_setup, ns_teardown),
		cmocka_unit_test_setup_teardown(test_dump_done_error, ns_setup, ns_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
