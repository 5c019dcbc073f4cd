/* SPDX-License-Identifier: MIT */
/*
 * nl: rtnetlink through libnl-3. libnl builds and sends the requests and
 * parses attributes; replies are read here with one recv() per batch and
 * decoded straight into flat structs instead of libnl's cache objects: a
 * million-route dump then costs one decode per route and no allocation,
 * and the kernel's errno reaches the caller unchanged (libnl would map it to
 * an NLE_* code).
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <netinet/in.h>

#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#include <netlink/attr.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <netlink/socket.h>

#include "mp.h"
#include "nl.h"

enum {
	NL_BUF_BYTES = 64 * 1024,	/* > the kernel's 32 KiB dump skbs */
	NL_RCVBUF_BYTES = 4 * 1024 * 1024,	/* room for event bursts */
};

struct mp_nl {
	struct nl_sock *sk;
	uint8_t *buf;		/* NL_BUF_BYTES receive buffer */
};

struct mp_nl_events {
	struct nl_sock *sk;
	uint8_t *buf;
	struct mp_nl_event ev;	/* decoded into, one at a time (large: nexthops) */
};

/* libnl's NLE_* codes, for the few calls whose errors come from libnl. */
static int nle_to_errno(int nle)
{
	switch (-nle) {
	case NLE_NOMEM:
		return -ENOMEM;
	case NLE_INVAL:
		return -EINVAL;
	case NLE_AGAIN:
		return -EAGAIN;
	case NLE_PERM:
		return -EPERM;
	case NLE_BAD_SOCK:
		return -EBADF;
	case NLE_MSGSIZE:
		return -EMSGSIZE;
	default:
		return -EIO;
	}
}

static int sock_open(struct nl_sock **ret)
{
	struct nl_sock *sk = nl_socket_alloc();
	int r;

	if (!sk)
		return -ENOMEM;
	r = nl_connect(sk, NETLINK_ROUTE);
	if (r < 0) {
		nl_socket_free(sk);
		return nle_to_errno(r);
	}
	/* best effort: a small buffer only means more recv() calls or ENOBUFS */
	nl_socket_set_buffer_size(sk, NL_RCVBUF_BYTES, 0);
	*ret = sk;
	return 0;
}

int mp_nl_new(struct mp_nl **ret)
{
	struct mp_nl *nl = calloc(1, sizeof(*nl));
	int r = -ENOMEM;

	if (!nl)
		return r;
	nl->buf = malloc(NL_BUF_BYTES);
	if (!nl->buf)
		goto out;
	r = sock_open(&nl->sk);
	if (r < 0)
		goto out;
	*ret = nl;
	return 0;
out:
	mp_nl_free(nl);
	return r;
}

void mp_nl_free(struct mp_nl *nl)
{
	if (!nl)
		return;
	if (nl->sk)
		nl_socket_free(nl->sk);
	free(nl->buf);
	free(nl);
}

/* ---------------------------------------------------------------- decoding */

static size_t addr_len(int family)
{
	return family == AF_INET ? 4 : family == AF_INET6 ? 16 : 0;
}

static int addr_from_attr(struct mp_nl_addr *a, int family, const struct nlattr *attr)
{
	int len = nla_len(attr);

	if ((family == AF_INET && len != 4) || (family == AF_INET6 && len != 16) ||
	    (family != AF_INET && family != AF_INET6))
		return -EBADMSG;
	memset(a, 0, sizeof(*a));
	a->family = family;
	memcpy(a->bytes, nla_data(attr), (size_t)len);
	return 0;
}

static int via_from_attr(struct mp_nl_addr *a, const struct nlattr *attr)
{
	const struct rtvia *via = nla_data(attr);
	int len = nla_len(attr) - (int)sizeof(via->rtvia_family);
	int want;

	if (len < 0)
		return -EBADMSG;
	want = via->rtvia_family == AF_INET ? 4 : via->rtvia_family == AF_INET6 ? 16 : -1;
	if (want < 0 || len < want)
		return -EBADMSG;
	memset(a, 0, sizeof(*a));
	a->family = via->rtvia_family;
	memcpy(a->bytes, via->rtvia_addr, (size_t)want);
	return 0;
}

/* Gateway attributes of one path: RTA_GATEWAY (route's family) or RTA_VIA. */
static int nh_attrs(struct mp_nl_nexthop *nh, int family, struct nlattr **tb)
{
	if (tb[RTA_GATEWAY])
		return addr_from_attr(&nh->gw, family, tb[RTA_GATEWAY]);
	if (tb[RTA_VIA])
		return via_from_attr(&nh->gw, tb[RTA_VIA]);
	return 0;
}

static int parse_multipath(struct mp_nl_route *rt, struct nlattr *mp)
{
	struct rtnexthop *rtnh = nla_data(mp);
	int rem = nla_len(mp);

	while (rem >= (int)sizeof(*rtnh) && rtnh->rtnh_len >= sizeof(*rtnh) &&
	       rtnh->rtnh_len <= rem) {
		if (rt->nh_count < MP_NL_NH_MAX) {
			struct mp_nl_nexthop *nh = &rt->nh[rt->nh_count++];
			struct nlattr *tb[RTA_MAX + 1];
			int r;

			memset(nh, 0, sizeof(*nh));
			nh->ifindex = rtnh->rtnh_ifindex;
			nh->weight = rtnh->rtnh_hops + 1U;
			nh->flags = rtnh->rtnh_flags;
			r = nla_parse(tb, RTA_MAX, (struct nlattr *)RTNH_DATA(rtnh),
				      rtnh->rtnh_len - (int)RTNH_LENGTH(0), NULL);
			if (r < 0)
				return -EBADMSG;
			r = nh_attrs(nh, rt->family, tb);
			if (r < 0)
				return r;
		}
		rt->nh_total++;
		rem -= RTNH_ALIGN(rtnh->rtnh_len);
		rtnh = RTNH_NEXT(rtnh);
	}
	return 0;
}

static int parse_route(struct nlmsghdr *nlh, struct mp_nl_route *rt)
{
	struct nlattr *tb[RTA_MAX + 1];
	const struct rtmsg *rtm;
	int r;

	if (!nlmsg_valid_hdr(nlh, sizeof(*rtm)))
		return -EBADMSG;
	rtm = nlmsg_data(nlh);
	if (rtm->rtm_family != AF_INET && rtm->rtm_family != AF_INET6)
		return -EAFNOSUPPORT;
	if (nlmsg_parse(nlh, sizeof(*rtm), tb, RTA_MAX, NULL) < 0)
		return -EBADMSG;
	/* only the header part: nh[] is filled as far as nh_count says */
	memset(rt, 0, offsetof(struct mp_nl_route, nh));
	rt->family = rtm->rtm_family;
	rt->dst.family = rt->family;
	rt->dst_len = rtm->rtm_dst_len;
	rt->src_len = rtm->rtm_src_len;
	rt->type = rtm->rtm_type;
	rt->table = rtm->rtm_table;
	rt->protocol = rtm->rtm_protocol;
	rt->scope = rtm->rtm_scope;
	rt->tos = rtm->rtm_tos;
	rt->flags = rtm->rtm_flags;
	rt->pref = -1;
	if (rt->dst_len > 8 * addr_len(rt->family) || rt->src_len > 8 * addr_len(rt->family))
		return -EBADMSG;	/* src_len unchecked before: found by fuzz_nl */
	if (tb[RTA_TABLE] && nla_len(tb[RTA_TABLE]) >= 4)
		rt->table = nla_get_u32(tb[RTA_TABLE]);
	if (tb[RTA_DST] && (r = addr_from_attr(&rt->dst, rt->family, tb[RTA_DST])) < 0)
		return r;
	if (tb[RTA_SRC] && (r = addr_from_attr(&rt->src, rt->family, tb[RTA_SRC])) < 0)
		return r;
	if (tb[RTA_PREFSRC] &&
	    (r = addr_from_attr(&rt->prefsrc, rt->family, tb[RTA_PREFSRC])) < 0)
		return r;
	if (tb[RTA_PRIORITY] && nla_len(tb[RTA_PRIORITY]) >= 4) {
		rt->has_priority = true;
		rt->priority = nla_get_u32(tb[RTA_PRIORITY]);
	}
	if (tb[RTA_NH_ID] && nla_len(tb[RTA_NH_ID]) >= 4)
		rt->nhid = nla_get_u32(tb[RTA_NH_ID]);
	if (tb[RTA_PREF] && nla_len(tb[RTA_PREF]) >= 1)
		rt->pref = nla_get_u8(tb[RTA_PREF]);
	if (tb[RTA_METRICS]) {
		struct nlattr *mx[RTAX_MAX + 1];

		if (nla_parse_nested(mx, RTAX_MAX, tb[RTA_METRICS], NULL) < 0)
			return -EBADMSG;
		if (mx[RTAX_MTU] && nla_len(mx[RTAX_MTU]) >= 4)
			rt->mtu_bytes = nla_get_u32(mx[RTAX_MTU]);
	}
	if (tb[RTA_MULTIPATH]) {
		rt->multipath = true;
		return parse_multipath(rt, tb[RTA_MULTIPATH]);
	}
	if (tb[RTA_OIF] || tb[RTA_GATEWAY] || tb[RTA_VIA]) {
		struct mp_nl_nexthop *nh = &rt->nh[0];

		memset(nh, 0, sizeof(*nh));
		nh->weight = 1;
		nh->flags = rtm->rtm_flags & 0xff;	/* RTNH_F_* live in the low byte */
		if (tb[RTA_OIF] && nla_len(tb[RTA_OIF]) >= 4)
			nh->ifindex = (int)nla_get_u32(tb[RTA_OIF]);
		r = nh_attrs(nh, rt->family, tb);
		if (r < 0)
			return r;
		rt->nh_count = rt->nh_total = 1;
	}
	return 0;
}

static int parse_link(struct nlmsghdr *nlh, struct mp_nl_link *l)
{
	struct nlattr *tb[IFLA_MAX + 1];
	const struct ifinfomsg *ifi;

	if (!nlmsg_valid_hdr(nlh, sizeof(*ifi)) ||
	    nlmsg_parse(nlh, sizeof(*ifi), tb, IFLA_MAX, NULL) < 0)
		return -EBADMSG;
	ifi = nlmsg_data(nlh);
	memset(l, 0, sizeof(*l));
	l->ifindex = ifi->ifi_index;
	l->flags = ifi->ifi_flags;
	if (tb[IFLA_IFNAME])
		nla_strlcpy(l->name, tb[IFLA_IFNAME], sizeof(l->name));
	if (tb[IFLA_MTU] && nla_len(tb[IFLA_MTU]) >= 4)
		l->mtu_bytes = nla_get_u32(tb[IFLA_MTU]);
	if (tb[IFLA_OPERSTATE] && nla_len(tb[IFLA_OPERSTATE]) >= 1)
		l->oper_state = nla_get_u8(tb[IFLA_OPERSTATE]);
	if (tb[IFLA_MASTER] && nla_len(tb[IFLA_MASTER]) >= 4)
		l->master = (int)nla_get_u32(tb[IFLA_MASTER]);
	return 0;
}

static int parse_ifaddr(struct nlmsghdr *nlh, struct mp_nl_ifaddr *a)
{
	struct nlattr *tb[IFA_MAX + 1];
	const struct ifaddrmsg *ifa;
	struct nlattr *at;

	if (!nlmsg_valid_hdr(nlh, sizeof(*ifa)) ||
	    nlmsg_parse(nlh, sizeof(*ifa), tb, IFA_MAX, NULL) < 0)
		return -EBADMSG;
	ifa = nlmsg_data(nlh);
	memset(a, 0, sizeof(*a));
	a->ifindex = (int)ifa->ifa_index;
	a->prefix_len = ifa->ifa_prefixlen;
	a->scope = ifa->ifa_scope;
	a->flags = ifa->ifa_flags;
	if (tb[IFA_FLAGS] && nla_len(tb[IFA_FLAGS]) >= 4)
		a->flags = nla_get_u32(tb[IFA_FLAGS]);
	/* IFA_LOCAL is this end of a point-to-point link; IFA_ADDRESS its peer */
	at = tb[IFA_LOCAL] ? tb[IFA_LOCAL] : tb[IFA_ADDRESS];
	/* a v4 address of prefix 61 passed before: found by fuzz_nl */
	if (!at || a->prefix_len > 8 * addr_len(ifa->ifa_family))
		return -EBADMSG;
	if (tb[IFA_LOCAL] && tb[IFA_ADDRESS] &&
	    (nla_len(tb[IFA_LOCAL]) != nla_len(tb[IFA_ADDRESS]) ||
	     memcmp(nla_data(tb[IFA_LOCAL]), nla_data(tb[IFA_ADDRESS]),
		    (size_t)nla_len(tb[IFA_LOCAL]))) &&
	    addr_from_attr(&a->peer, ifa->ifa_family, tb[IFA_ADDRESS]) < 0)
		return -EBADMSG;
	return addr_from_attr(&a->addr, ifa->ifa_family, at);
}

/* ---------------------------------------------------------------- requests */

typedef int (*msg_fn)(struct nlmsghdr *nlh, void *arg);

/* An error the kernel reports, kept a -errno: below -4095 (no kernel sends
 * it; INT_MIN cannot even be negated for strerror) it is -EBADMSG. A DONE
 * of -65536 went to the caller as is before: found by fuzz_nl. */
static int kernel_errno(int err)
{
	return err < -4095 ? -EBADMSG : err;
}

/*
 * Decodes one batch of answers (len bytes at buf, as one recv() returned
 * them) to the request of sequence number seq: fn sees each data message
 * until it fails, *fn_r keeping its value (0 until then). Returns 1 when the
 * answer is complete (NLMSG_DONE, the ACK or an error: the result is in
 * *fn_r), 0 when more is to be read.
 */
static int reply_batch(void *buf, int len, uint32_t seq, msg_fn fn, void *arg, int *fn_r)
{
	struct nlmsghdr *nlh = buf;
	int r;

	for (; nlmsg_ok(nlh, len); nlh = nlmsg_next(nlh, &len)) {
		if (nlh->nlmsg_seq != seq)
			continue;	/* a stale answer to an abandoned request */
		if (nlh->nlmsg_type == NLMSG_DONE) {
			/* a dump that failed midway says so in DONE's payload */
			if (nlmsg_datalen(nlh) >= (int)sizeof(int) &&
			    *(int *)nlmsg_data(nlh) < 0 && !*fn_r)
				*fn_r = kernel_errno(*(int *)nlmsg_data(nlh));
			return 1;
		}
		if (nlh->nlmsg_type == NLMSG_ERROR) {
			const struct nlmsgerr *e = nlmsg_data(nlh);

			if (nlmsg_datalen(nlh) < (int)sizeof(*e))
				*fn_r = -EBADMSG;
			else if (e->error < 0)
				*fn_r = kernel_errno(e->error);
			return 1;	/* else the ACK: *fn_r stands */
		}
		if (fn && !*fn_r) {
			r = fn(nlh, arg);
			if (r < 0)
				*fn_r = r;
		}
	}
	return 0;
}

/*
 * Sends msg and reads the answer to its sequence number: for a dump every
 * part until NLMSG_DONE, otherwise until the ACK (every request here asks for
 * one). fn sees each data message; after fn fails the rest is drained.
 */
static int transact(struct mp_nl *nl, struct nl_msg *msg, msg_fn fn, void *arg)
{
	int fd = nl_socket_get_fd(nl->sk);
	uint32_t seq;
	int r, fn_r = 0;

	r = nl_send_auto(nl->sk, msg);
	if (r < 0)
		return nle_to_errno(r);
	seq = nlmsg_hdr(msg)->nlmsg_seq;
	for (;;) {
		ssize_t n = recv(fd, nl->buf, NL_BUF_BYTES, MSG_TRUNC);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n > NL_BUF_BYTES)
			return -EMSGSIZE;
		if (reply_batch(nl->buf, (int)n, seq, fn, arg, &fn_r))
			return fn_r;
	}
}

static int dump(struct mp_nl *nl, int type, const void *hdr, size_t hdr_len, msg_fn fn,
		void *arg)
{
	struct nl_msg *msg = nlmsg_alloc_simple(type, NLM_F_REQUEST | NLM_F_DUMP);
	int r;

	if (!msg)
		return -ENOMEM;
	r = nlmsg_append(msg, (void *)(uintptr_t)hdr, hdr_len, NLMSG_ALIGNTO);
	if (r < 0)
		r = nle_to_errno(r);
	else
		r = transact(nl, msg, fn, arg);
	nlmsg_free(msg);
	return r;
}

struct route_walk {
	const struct mp_nl_route_filter *filter;
	mp_nl_route_fn fn;
	void *arg;
	int count;
	struct mp_nl_route rt;
};

static bool route_match(const struct mp_nl_route *rt, const struct mp_nl_route_filter *f)
{
	if (rt->flags & RTM_F_CLONED)
		return false;
	if (!f)
		return true;
	if (f->table && rt->table != f->table)
		return false;
	if (f->protocol >= 0 && rt->protocol != (unsigned)f->protocol)
		return false;
	if (f->ifindex) {
		for (unsigned i = 0; i < rt->nh_count; i++)
			if (rt->nh[i].ifindex == f->ifindex)
				return true;
		return false;
	}
	return true;
}

static int route_msg(struct nlmsghdr *nlh, void *arg)
{
	struct route_walk *wk = arg;
	int r;

	if (nlh->nlmsg_type != RTM_NEWROUTE)
		return 0;
	r = parse_route(nlh, &wk->rt);
	if (r == -EAFNOSUPPORT)
		return 0;
	if (r < 0)
		return r;
	if (!route_match(&wk->rt, wk->filter))
		return 0;
	r = wk->fn(&wk->rt, wk->arg);
	if (r < 0)
		return r;
	wk->count++;
	return 0;
}

int mp_nl_route_list(struct mp_nl *nl, const struct mp_nl_route_filter *filter,
		     mp_nl_route_fn fn, void *arg)
{
	static const int families[] = { AF_INET, AF_INET6 };
	struct route_walk *wk;
	int r = 0;

	if (!nl || !fn)
		return -EINVAL;
	wk = calloc(1, sizeof(*wk));
	if (!wk)
		return -ENOMEM;
	wk->filter = filter;
	wk->fn = fn;
	wk->arg = arg;
	for (size_t i = 0; i < MP_ARRAY_SIZE(families); i++) {
		struct rtmsg rtm = { .rtm_family = (unsigned char)families[i] };

		if (filter && filter->family && filter->family != families[i])
			continue;
		r = dump(nl, RTM_GETROUTE, &rtm, sizeof(rtm), route_msg, wk);
		if (r < 0)
			goto out;
	}
	r = wk->count;
out:
	free(wk);
	return r;
}

struct route_array {
	struct mp_nl_route *v;
	size_t n, cap;
};

static int route_collect(const struct mp_nl_route *rt, void *arg)
{
	struct route_array *a = arg;

	if (a->n == a->cap) {
		size_t cap = a->cap ? 2 * a->cap : 64;
		struct mp_nl_route *v = realloc(a->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		a->v = v;
		a->cap = cap;
	}
	a->v[a->n++] = *rt;
	return 0;
}

int mp_nl_route_list_array(struct mp_nl *nl, const struct mp_nl_route_filter *filter,
			   struct mp_nl_route **ret_routes, size_t *ret_count)
{
	struct route_array a = { 0 };
	int r = mp_nl_route_list(nl, filter, route_collect, &a);

	if (r < 0) {
		free(a.v);
		return r;
	}
	*ret_routes = a.v;
	*ret_count = a.n;
	return r;
}

static int route_one(struct nlmsghdr *nlh, void *arg)
{
	struct mp_nl_route *rt = arg;
	int r;

	if (nlh->nlmsg_type != RTM_NEWROUTE)
		return 0;
	r = parse_route(nlh, rt);
	return r < 0 ? r : 0;
}

int mp_nl_route_get(struct mp_nl *nl, const struct mp_nl_addr *dst, struct mp_nl_route *ret)
{
	struct rtmsg rtm = { 0 };
	struct mp_nl_route *rt;
	struct nl_msg *msg;
	size_t len;
	int r;

	if (!nl || !dst || !ret || !(len = addr_len(dst->family)))
		return -EINVAL;
	rt = calloc(1, sizeof(*rt));
	msg = nlmsg_alloc_simple(RTM_GETROUTE, NLM_F_REQUEST | NLM_F_ACK);
	r = -ENOMEM;
	if (!rt || !msg)
		goto out;
	rt->family = AF_UNSPEC;	/* stays so unless the answer is decoded */
	rtm.rtm_family = (unsigned char)dst->family;
	rtm.rtm_dst_len = (unsigned char)(8 * len);
	r = nlmsg_append(msg, &rtm, sizeof(rtm), NLMSG_ALIGNTO);
	if (r == 0)
		r = nla_put(msg, RTA_DST, (int)len, dst->bytes);
	r = r < 0 ? nle_to_errno(r) : transact(nl, msg, route_one, rt);
	if (r == 0 && rt->family == AF_UNSPEC)
		r = -EBADMSG;
	if (r == 0)
		*ret = *rt;
out:
	nlmsg_free(msg);
	free(rt);
	return r;
}

void mp_nl_route_init(struct mp_nl_route *rt, int family)
{
	memset(rt, 0, sizeof(*rt));	/* nh[] too: a caller fills only what it uses */
	rt->family = family;
	rt->dst.family = family;
	rt->type = RTN_UNICAST;
	rt->table = RT_TABLE_MAIN;
	rt->protocol = RTPROT_BOOT;
	rt->scope = RT_SCOPE_UNIVERSE;
	rt->pref = -1;
}

static int put_gw(struct nl_msg *msg, int family, const struct mp_nl_addr *gw)
{
	struct {
		uint16_t family;
		uint8_t addr[16];
	} via;

	if (!gw->family)
		return 0;
	if (gw->family == family)
		return nla_put(msg, RTA_GATEWAY, (int)addr_len(family), gw->bytes);
	via.family = (uint16_t)gw->family;
	memcpy(via.addr, gw->bytes, 16);
	return nla_put(msg, RTA_VIA, 2 + (int)addr_len(gw->family), &via);
}

static int put_multipath(struct nl_msg *msg, const struct mp_nl_route *rt)
{
	struct nlattr *mp = nla_nest_start(msg, RTA_MULTIPATH);

	if (!mp)
		return -NLE_NOMEM;
	for (unsigned i = 0; i < rt->nh_count; i++) {
		const struct mp_nl_nexthop *nh = &rt->nh[i];
		struct rtnexthop *rtnh = nlmsg_reserve(msg, sizeof(*rtnh), NLMSG_ALIGNTO);
		int r;

		if (!rtnh)
			return -NLE_NOMEM;
		rtnh->rtnh_flags = (unsigned char)nh->flags;
		rtnh->rtnh_hops = (unsigned char)(nh->weight ? nh->weight - 1 : 0);
		rtnh->rtnh_ifindex = nh->ifindex;
		r = put_gw(msg, rt->family, &nh->gw);
		if (r < 0)
			return r;
		rtnh->rtnh_len = (unsigned short)((uint8_t *)nlmsg_tail(nlmsg_hdr(msg)) -
						  (uint8_t *)rtnh);
	}
	nla_nest_end(msg, mp);
	return 0;
}

static int route_msg_fill(struct nl_msg *msg, const struct mp_nl_route *rt)
{
	struct rtmsg rtm = {
		.rtm_family = (unsigned char)rt->family,
		.rtm_dst_len = (unsigned char)rt->dst_len,
		.rtm_src_len = (unsigned char)rt->src_len,
		.rtm_tos = (unsigned char)rt->tos,
		.rtm_table = rt->table > 255 ? RT_TABLE_UNSPEC : (unsigned char)rt->table,
		.rtm_protocol = (unsigned char)rt->protocol,
		.rtm_scope = (unsigned char)rt->scope,
		.rtm_type = (unsigned char)rt->type,
	};
	size_t alen = addr_len(rt->family);
	int r;

	if (!alen || rt->dst_len > alen * 8 || rt->nh_count > MP_NL_NH_MAX)
		return -NLE_INVAL;
	if (rt->nh_count == 1)
		rtm.rtm_flags = rt->nh[0].flags & 0xff;
	r = nlmsg_append(msg, &rtm, sizeof(rtm), NLMSG_ALIGNTO);
	if (r == 0 && rt->table > 255)
		r = nla_put_u32(msg, RTA_TABLE, rt->table);
	if (r == 0 && rt->dst_len)
		r = nla_put(msg, RTA_DST, (int)alen, rt->dst.bytes);
	if (r == 0 && rt->src.family && rt->src_len)
		r = nla_put(msg, RTA_SRC, (int)alen, rt->src.bytes);
	if (r == 0 && rt->has_priority)
		r = nla_put_u32(msg, RTA_PRIORITY, rt->priority);
	if (r == 0 && rt->prefsrc.family == rt->family)
		r = nla_put(msg, RTA_PREFSRC, (int)alen, rt->prefsrc.bytes);
	if (r == 0 && rt->mtu_bytes) {
		struct nlattr *mx = nla_nest_start(msg, RTA_METRICS);

		r = mx ? nla_put_u32(msg, RTAX_MTU, rt->mtu_bytes) : -NLE_NOMEM;
		if (r == 0)
			nla_nest_end(msg, mx);
	}
	if (r == 0 && rt->nh_count == 1) {
		if (rt->nh[0].ifindex)
			r = nla_put_u32(msg, RTA_OIF, (uint32_t)rt->nh[0].ifindex);
		if (r == 0)
			r = put_gw(msg, rt->family, &rt->nh[0].gw);
	} else if (r == 0 && rt->nh_count > 1) {
		r = put_multipath(msg, rt);
	}
	return r;
}

int mp_nl_route_change(struct mp_nl *nl, enum mp_nl_route_op op, const struct mp_nl_route *rt)
{
	int type = RTM_NEWROUTE, flags = NLM_F_REQUEST | NLM_F_ACK;
	struct nl_msg *msg;
	int r;

	if (!nl || !rt)
		return -EINVAL;
	switch (op) {
	case MP_NL_ROUTE_ADD:
		flags |= NLM_F_CREATE | NLM_F_EXCL;
		break;
	case MP_NL_ROUTE_REPLACE:
		flags |= NLM_F_CREATE | NLM_F_REPLACE;
		break;
	case MP_NL_ROUTE_DELETE:
		type = RTM_DELROUTE;
		break;
	default:
		return -EINVAL;
	}
	msg = nlmsg_alloc_simple(type, flags);
	if (!msg)
		return -ENOMEM;
	r = route_msg_fill(msg, rt);
	if (r < 0)
		r = nle_to_errno(r);
	else
		r = transact(nl, msg, NULL, NULL);
	nlmsg_free(msg);
	return r;
}

/* ---------------------------------------------------------------- links, addresses */

struct link_walk {
	mp_nl_link_fn fn;
	void *arg;
	int count;
};

static int link_msg(struct nlmsghdr *nlh, void *arg)
{
	struct link_walk *wk = arg;
	struct mp_nl_link l;
	int r;

	if (nlh->nlmsg_type != RTM_NEWLINK)
		return 0;
	r = parse_link(nlh, &l);
	if (r == 0)
		r = wk->fn(&l, wk->arg);
	if (r == 0)
		wk->count++;
	return r;
}

int mp_nl_link_list(struct mp_nl *nl, mp_nl_link_fn fn, void *arg)
{
	struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC };
	struct link_walk wk = { .fn = fn, .arg = arg };
	int r;

	if (!nl || !fn)
		return -EINVAL;
	r = dump(nl, RTM_GETLINK, &ifi, sizeof(ifi), link_msg, &wk);
	return r < 0 ? r : wk.count;
}

/* A request for one link, by index or by name (IFLA_IFNAME). */
static struct nl_msg *link_msg_new(int type, int flags, int ifindex, const char *name)
{
	struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC, .ifi_index = ifindex };
	struct nl_msg *msg = nlmsg_alloc_simple(type, flags);

	if (!msg)
		return NULL;
	if (nlmsg_append(msg, &ifi, sizeof(ifi), NLMSG_ALIGNTO) < 0 ||
	    (!ifindex && nla_put_string(msg, IFLA_IFNAME, name) < 0)) {
		nlmsg_free(msg);
		return NULL;
	}
	return msg;
}

static int link_one(struct nlmsghdr *nlh, void *arg)
{
	if (nlh->nlmsg_type != RTM_NEWLINK)
		return 0;
	return parse_link(nlh, arg);
}

static bool link_id_ok(int ifindex, const char *name)
{
	if (ifindex < 0)
		return false;
	return ifindex > 0 || (name && *name && strlen(name) < IF_NAMESIZE);
}

int mp_nl_link_get(struct mp_nl *nl, int ifindex, const char *name, struct mp_nl_link *ret)
{
	struct mp_nl_link l = { .ifindex = -1 };
	struct nl_msg *msg;
	int r;

	if (!nl || !ret || !link_id_ok(ifindex, name))
		return -EINVAL;
	msg = link_msg_new(RTM_GETLINK, NLM_F_REQUEST | NLM_F_ACK, ifindex, name);
	if (!msg)
		return -ENOMEM;
	r = transact(nl, msg, link_one, &l);
	nlmsg_free(msg);
	if (r == 0 && l.ifindex < 0)
		r = -ENODEV;
	if (r == 0)
		*ret = l;
	return r;
}

int mp_nl_link_set_mtu(struct mp_nl *nl, int ifindex, const char *name, uint32_t mtu_bytes)
{
	struct nl_msg *msg;
	int r;

	if (!nl || !link_id_ok(ifindex, name))
		return -EINVAL;
	msg = link_msg_new(RTM_NEWLINK, NLM_F_REQUEST | NLM_F_ACK, ifindex, name);
	if (!msg)
		return -ENOMEM;
	r = nla_put_u32(msg, IFLA_MTU, mtu_bytes);
	r = r < 0 ? nle_to_errno(r) : transact(nl, msg, NULL, NULL);
	nlmsg_free(msg);
	return r;
}

struct ifaddr_walk {
	mp_nl_ifaddr_fn fn;
	void *arg;
	int count;
};

static int ifaddr_msg(struct nlmsghdr *nlh, void *arg)
{
	struct ifaddr_walk *wk = arg;
	struct mp_nl_ifaddr a;
	int r;

	if (nlh->nlmsg_type != RTM_NEWADDR)
		return 0;
	r = parse_ifaddr(nlh, &a);
	if (r == -EBADMSG)
		return 0;	/* a family without IP addresses */
	if (r == 0)
		r = wk->fn(&a, wk->arg);
	if (r == 0)
		wk->count++;
	return r;
}

int mp_nl_ifaddr_list(struct mp_nl *nl, int family, mp_nl_ifaddr_fn fn, void *arg)
{
	struct ifaddrmsg ifa = { .ifa_family = (unsigned char)family };
	struct ifaddr_walk wk = { .fn = fn, .arg = arg };
	int r;

	if (!nl || !fn || (family != AF_UNSPEC && family != AF_INET && family != AF_INET6))
		return -EINVAL;
	r = dump(nl, RTM_GETADDR, &ifa, sizeof(ifa), ifaddr_msg, &wk);
	return r < 0 ? r : wk.count;
}

/* ---------------------------------------------------------------- events */

int mp_nl_events_new(struct mp_nl_events **ret, unsigned groups)
{
	static const struct {
		unsigned bit;
		int grp;
	} map[] = {
		{ MP_NL_EV_ROUTE4, RTNLGRP_IPV4_ROUTE },
		{ MP_NL_EV_ROUTE6, RTNLGRP_IPV6_ROUTE },
		{ MP_NL_EV_LINK, RTNLGRP_LINK },
		{ MP_NL_EV_ADDR, RTNLGRP_IPV4_IFADDR },
		{ MP_NL_EV_ADDR, RTNLGRP_IPV6_IFADDR },
	};
	struct mp_nl_events *ev;
	int r = -ENOMEM;

	if (!groups || (groups & ~(MP_NL_EV_ROUTE4 | MP_NL_EV_ROUTE6 | MP_NL_EV_LINK |
				   MP_NL_EV_ADDR)))
		return -EINVAL;
	ev = calloc(1, sizeof(*ev));
	if (!ev)
		return r;
	ev->buf = malloc(NL_BUF_BYTES);
	if (!ev->buf)
		goto fail;
	r = sock_open(&ev->sk);
	if (r < 0)
		goto fail;
	for (size_t i = 0; i < MP_ARRAY_SIZE(map); i++) {
		if (!(groups & map[i].bit))
			continue;
		r = nl_socket_add_memberships(ev->sk, map[i].grp, 0);
		if (r < 0) {
			r = nle_to_errno(r);
			goto fail;
		}
	}
	r = nl_socket_set_nonblocking(ev->sk);
	if (r < 0) {
		r = nle_to_errno(r);
		goto fail;
	}
	*ret = ev;
	return 0;
fail:
	mp_nl_events_free(ev);
	return r;
}

void mp_nl_events_free(struct mp_nl_events *ev)
{
	if (!ev)
		return;
	if (ev->sk)
		nl_socket_free(ev->sk);
	free(ev->buf);
	free(ev);
}

int mp_nl_events_fd(const struct mp_nl_events *ev)
{
	return ev ? nl_socket_get_fd(ev->sk) : -EINVAL;
}

/* Decodes one notification into ev->ev. Returns 1 to deliver, 0 to skip, or -errno. */
static int event_decode(struct mp_nl_events *ev, struct nlmsghdr *nlh)
{
	struct mp_nl_event *e = &ev->ev;
	int r;

	e->replace = false;
	switch (nlh->nlmsg_type) {
	case RTM_NEWROUTE:
	case RTM_DELROUTE:
		r = parse_route(nlh, &e->route);
		if (r == -EAFNOSUPPORT || (r == 0 && (e->route.flags & RTM_F_CLONED)))
			return 0;
		e->type = nlh->nlmsg_type == RTM_NEWROUTE ? MP_NL_EV_ROUTE_ADDED
							  : MP_NL_EV_ROUTE_DELETED;
		e->replace = !!(nlh->nlmsg_flags & NLM_F_REPLACE);
		break;
	case RTM_NEWLINK:
	case RTM_DELLINK:
		r = parse_link(nlh, &e->link);
		e->type = nlh->nlmsg_type == RTM_NEWLINK ? MP_NL_EV_LINK_CHANGED
							 : MP_NL_EV_LINK_DELETED;
		break;
	case RTM_NEWADDR:
	case RTM_DELADDR:
		r = parse_ifaddr(nlh, &e->addr);
		if (r == -EBADMSG)
			return 0;
		e->type = nlh->nlmsg_type == RTM_NEWADDR ? MP_NL_EV_ADDR_ADDED
							 : MP_NL_EV_ADDR_DELETED;
		break;
	default:
		return 0;
	}
	return r < 0 ? r : 1;
}

/*
 * Decodes one batch of notifications (len bytes at buf, as one recv()
 * returned them) and calls fn per event, counting them in *count.
 * Returns 0, or fn's negative value.
 */
static int events_batch(struct mp_nl_events *ev, void *buf, int len, mp_nl_event_fn fn,
			void *arg, int *count)
{
	struct nlmsghdr *nlh = buf;
	int r;

	for (; nlmsg_ok(nlh, len); nlh = nlmsg_next(nlh, &len)) {
		r = event_decode(ev, nlh);
		if (r <= 0)
			continue;	/* skipped, or malformed: no reason to stop */
		r = fn(&ev->ev, arg);
		if (r < 0)
			return r;
		(*count)++;
	}
	return 0;
}

int mp_nl_events_read(struct mp_nl_events *ev, mp_nl_event_fn fn, void *arg)
{
	int fd, r, count = 0;

	if (!ev || !fn)
		return -EINVAL;
	fd = nl_socket_get_fd(ev->sk);
	for (;;) {
		ssize_t n = recv(fd, ev->buf, NL_BUF_BYTES, MSG_DONTWAIT);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return count;
			return -errno;
		}
		r = events_batch(ev, ev->buf, (int)n, fn, arg, &count);
		if (r < 0)
			return r;
	}
}

bool mp_nl_prefix_contains(const struct mp_nl_addr *a, unsigned a_len,
			   const struct mp_nl_addr *b, unsigned b_len)
{
	unsigned bytes = a_len / 8, bits = a_len % 8;

	if (!a || !b || a->family != b->family || a_len > b_len ||
	    a_len > addr_len(a->family) * 8)
		return false;
	if (memcmp(a->bytes, b->bytes, bytes))
		return false;
	if (bits) {
		uint8_t mask = (uint8_t)(0xff << (8 - bits));

		if ((a->bytes[bytes] ^ b->bytes[bytes]) & mask)
			return false;
	}
	return true;
}

int mp_nl_addr_to_sockaddr(const struct mp_nl_addr *a, uint16_t port,
			   struct sockaddr_storage *ret, socklen_t *ret_len)
{
	memset(ret, 0, sizeof(*ret));
	if (a->family == AF_INET) {
		struct sockaddr_in *s4 = (struct sockaddr_in *)ret;

		s4->sin_family = AF_INET;
		s4->sin_port = htons(port);
		memcpy(&s4->sin_addr, a->bytes, 4);
		*ret_len = sizeof(*s4);
		return 0;
	}
	if (a->family == AF_INET6) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ret;

		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(port);
		memcpy(&s6->sin6_addr, a->bytes, 16);
		*ret_len = sizeof(*s6);
		return 0;
	}
	return -EAFNOSUPPORT;
}
