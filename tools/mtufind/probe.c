/* SPDX-License-Identifier: MIT */
/*
 * mtufind: the path MTU search for one target. Prints nothing.
 *
 * Every probe is a datagram whose IP total length is exactly the size being
 * tried, sent with DF in IP_PMTUDISC_PROBE mode: the kernel's cached PMTU
 * is neither used nor changed by our sends (it may still learn from a
 * genuine frag-needed / PTB a router sends back, as for any traffic). A size
 * passes when the target answers it — a STAMP reflector with a test packet
 * of the same length, or an ICMP echo reply of the same length — so the
 * reverse path carries the size too. It fails when a router says "too big"
 * (IP_RECVERR: ee_info is its next-hop MTU) or when no try of it is answered
 * (a black hole; a single lost probe is never taken for "too big": each size
 * gets opts->retries tries). Common link sizes go first, then bisection to
 * the byte; a too-big hint is tried next, and hint + 1 after it passes.
 *
 * Then, when the path is narrower than our link, the hops are walked with
 * TTL-limited probes of our link's size: a hop that returns time-exceeded
 * received that size; where a router answers "too big" or the probe
 * vanishes while a probe of the path MTU still reaches the next hop, that
 * router's outgoing link is the bottleneck (in a black hole: the hop that
 * should have said so and did not).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/icmp6.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "mtufind.h"
#include "reply.h"
#include "be.h"
#include "clock.h"
#include "sock.h"
#include "stamp.h"
#include "wg.h"

enum {
	TRIES_MAX = 16,			/* most tries per size (--retries bound) */
	SEARCH_TTL = 64,		/* TTL / hop limit of search probes */
	SILENT_HOPS_MAX = 3,		/* the hop walk stops after this many silent hops */
	QUOTE_MAX = 2048,		/* bytes of a quoted probe kept */
	SOL_RAW_ = 255,			/* <linux/icmp.h> ICMP_FILTER, without the header */
	ICMP_FILTER_ = 1,
};

enum outcome {
	OC_PASS,	/* the target answered this size */
	OC_TOOBIG,	/* frag-needed / PTB (or local EMSGSIZE); mtu set */
	OC_TTL,		/* time exceeded from a hop */
	OC_LOST,	/* no try answered */
	OC_PORT,	/* port unreachable: no reflector */
	OC_UNREACH,	/* host / net unreachable */
};

struct try_res {
	enum outcome oc;
	unsigned mtu;			/* TOOBIG: the MTU reported, 0 = none */
	struct sockaddr_storage from;	/* who answered */
	uint64_t rtt_ns;		/* PASS / TTL: time to the answer */
};

struct prober {
	const struct mf_opts *o;
	struct mf_path *p;
	struct mp_sock *s;
	bool stamp;			/* STAMP probes, else ICMP echo */
	bool ping_sock;			/* ICMP over a ping socket: the kernel owns the id */
	uint16_t icmp_id;		/* raw ICMP: our echo identifier */
	uint32_t seq;			/* last sequence number used */
	int ttl;			/* TTL now set on the socket */
	uint64_t rtt_max_ns;		/* largest RTT seen, for the adaptive timeout */
	uint64_t sent_ns[TRIES_MAX];	/* send time of each try of the current size */
	uint8_t tx[65536];
	uint8_t rx[65536 + 64];
	uint8_t quote[QUOTE_MAX];
};

static const unsigned common_sizes[] = {
	9000, 1500, 1492, 1480, 1472, 1460, 1420, 1400, 1380, 1350, 1280, 1024, 576,
};

static unsigned ip_hdr(int family)
{
	return family == AF_INET ? MF_IP4_HDR : MF_IP6_HDR;
}

/* Bytes of the probe that are not payload of the socket. */
static unsigned overhead(const struct prober *pr)
{
	return ip_hdr(pr->p->family) + (pr->stamp ? MF_UDP_HDR : 0);
}

/* Smallest size this method can send. */
static unsigned min_size(const struct prober *pr)
{
	unsigned m = pr->stamp ? overhead(pr) + MP_STAMP_BASE_LEN : overhead(pr) + MF_ICMP_HDR;

	return MP_MAX(m, pr->p->family == AF_INET ? MF_IPV4_MIN_MTU : 0u);
}

static uint64_t try_timeout(const struct prober *pr)
{
	uint64_t t;

	if (pr->o->timeout_ns)
		return pr->o->timeout_ns;
	if (!pr->rtt_max_ns)
		return MF_TIMEOUT_FIRST_NS;
	t = 4 * pr->rtt_max_ns;
	return MP_MIN(MP_MAX(t, MF_TIMEOUT_MIN_NS), MF_TIMEOUT_MAX_NS);
}

/* ---------------------------------------------------------------- socket */

static int open_sock(struct prober *pr)
{
	const int fam = pr->p->family;
	const unsigned fl = MP_SOCK_RECVERR | MP_SOCK_NONBLOCK;
	const int proto = fam == AF_INET ? IPPROTO_ICMP : IPPROTO_ICMPV6;
	struct sockaddr_storage dst = pr->p->addr;
	int r;

	mp_sock_free(pr->s);
	pr->s = NULL;
	pr->ttl = 0;
	if (pr->stamp) {
		r = mp_sock_open(&pr->s, fam, SOCK_DGRAM, IPPROTO_UDP, fl);
		mp_addr_port_set(&dst, pr->o->port);
	} else {
		/* a ping socket when net.ipv4.ping_group_range allows, else raw (root) */
		pr->ping_sock = true;
		r = mp_sock_open(&pr->s, fam, SOCK_DGRAM, proto, fl);
		if (r < 0) {
			pr->ping_sock = false;
			r = mp_sock_open(&pr->s, fam, SOCK_RAW, proto, fl);
		}
		if (r == 0 && !pr->ping_sock && fam == AF_INET) {
			uint32_t block = ~(1U << 0);	/* everything but echo reply */

			setsockopt(mp_sock_fd(pr->s), SOL_RAW_, ICMP_FILTER_, &block,
				   sizeof(block));
		} else if (r == 0 && !pr->ping_sock) {
			struct icmp6_filter f;

			ICMP6_FILTER_SETBLOCKALL(&f);
			ICMP6_FILTER_SETPASS(ICMP6_ECHO_REPLY, &f);
			setsockopt(mp_sock_fd(pr->s), IPPROTO_ICMPV6, ICMP6_FILTER, &f, sizeof(f));
		}
	}
	if (r < 0)
		return r;
	if (pr->o->ifname) {
		r = mp_sock_bind(pr->s, NULL, 0, pr->o->ifname);
		if (r < 0)
			return r;
	}
	r = mp_sock_pmtu_set(pr->s, MP_PMTU_PROBE);
	if (r < 0)
		return r;
	return mp_sock_connect(pr->s, (struct sockaddr *)&dst, pr->p->addr_len);
}

/* The MTU of the interface our packets leave by (-I, else the one holding
 * the source address the kernel chose). */
static int egress_mtu(const struct prober *pr, unsigned *ret)
{
	struct sockaddr_storage me;
	socklen_t ml = sizeof(me);
	struct ifaddrs *ifa = NULL, *i;
	char name[IF_NAMESIZE] = "";
	struct ifreq ifr;
	int fd, r;

	if (pr->o->ifname) {
		snprintf(name, sizeof(name), "%s", pr->o->ifname);
	} else {
		r = mp_sock_name_get(pr->s, &me, &ml);
		if (r < 0)
			return r;
		if (getifaddrs(&ifa) < 0)
			return -errno;
		for (i = ifa; i && !name[0]; i = i->ifa_next) {
			if (!i->ifa_addr || i->ifa_addr->sa_family != me.ss_family)
				continue;
			if (me.ss_family == AF_INET &&
			    ((struct sockaddr_in *)i->ifa_addr)->sin_addr.s_addr ==
			    ((struct sockaddr_in *)&me)->sin_addr.s_addr)
				snprintf(name, sizeof(name), "%s", i->ifa_name);
			if (me.ss_family == AF_INET6 &&
			    !memcmp(&((struct sockaddr_in6 *)i->ifa_addr)->sin6_addr,
				    &((struct sockaddr_in6 *)&me)->sin6_addr, 16))
				snprintf(name, sizeof(name), "%s", i->ifa_name);
		}
		freeifaddrs(ifa);
		if (!name[0])
			return -ENODEV;
	}
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	r = ioctl(fd, SIOCGIFMTU, &ifr) < 0 ? -errno : 0;
	close(fd);
	if (r == 0)
		*ret = (unsigned)ifr.ifr_mtu;
	return r;
}

/* ---------------------------------------------------------------- one try */

static int build(struct prober *pr, unsigned size, uint32_t seq, size_t *ret_len)
{
	size_t len = size - overhead(pr);
	int r;

	if (pr->stamp) {
		struct mp_stamp_test t = { .seq = seq };
		struct mp_stamp_errest e = { .error_ns = MP_STAMP_ERROR_UNKNOWN };

		t.ts = mp_ntp_from_real_ns(mp_clock_real_ns());
		t.errest = mp_stamp_errest_encode(&e);
		r = mp_stamp_test_encode(&t, NULL, len, pr->tx, sizeof(pr->tx));
		if (r < 0)
			return r;
	} else {
		uint8_t *h = pr->tx;
		uint16_t ck;

		memset(h, 0, len);
		h[0] = pr->p->family == AF_INET ? 8 : ICMP6_ECHO_REQUEST;
		mp_be16_put(h + 4, pr->icmp_id);
		mp_be16_put(h + 6, (uint16_t)seq);
		memcpy(h + MF_ICMP_HDR, "mtufind", MP_MIN(len - MF_ICMP_HDR, (size_t)7));
		/* ICMPv6 and ping sockets: the kernel computes it */
		if (pr->p->family == AF_INET) {
			ck = mf_inet_csum(h, len);
			mp_be16_put(h + 2, ck);
		}
	}
	*ret_len = len;
	return 0;
}

/* Forget a pending socket error (an ICMP error of an earlier probe), which
 * would otherwise fail the next send instead of sending it. */
static void clear_sk_err(struct prober *pr)
{
	int e;
	socklen_t l = sizeof(e);

	getsockopt(mp_sock_fd(pr->s), SOL_SOCKET, SO_ERROR, &e, &l);
}

static bool seq_is_ours(const struct prober *pr, uint32_t seq, uint32_t first, uint32_t last)
{
	if (!pr->stamp) {
		/* 16-bit echo sequence numbers: compare the distance */
		uint16_t d = (uint16_t)(seq - first), n = (uint16_t)(last - first);

		return d <= n;
	}
	return seq - first <= last - first;
}

/* One error-queue entry: does it settle the current size? */
static bool errq_entry(struct prober *pr, const struct mp_errq *e, unsigned size, uint32_t first,
		       uint32_t last, struct try_res *res)
{
	enum mf_icmp_kind k;
	uint32_t seq;
	bool matched;
	int fam;

	if (e->kind != MP_ERRQ_ERROR)
		return false;
	if (e->origin == MP_EE_LOCAL) {
		if (e->ee_errno != EMSGSIZE)
			return false;
		res->oc = OC_TOOBIG;
		res->mtu = e->ee_info;
		memset(&res->from, 0, sizeof(res->from));
		return true;
	}
	fam = e->origin == MP_EE_ICMP ? AF_INET : AF_INET6;
	k = mf_icmp_classify(fam, e->ee_type, e->ee_code);
	matched = mf_quote_seq(pr->p->family, pr->stamp, !pr->ping_sock, pr->icmp_id, e->buf,
			       e->payload_len, &seq) == 0;
	if (matched && !seq_is_ours(pr, seq, first, last))
		return false;
	/* Without a quote we cannot tell which probe it was about: only a
	 * "too big" that names an MTU below this size is believed. */
	if (!matched && !(k == MF_ICMP_TOOBIG && e->ee_info && e->ee_info < size))
		return false;
	res->from = e->offender;
	switch (k) {
	case MF_ICMP_TOOBIG:
		res->oc = OC_TOOBIG;
		res->mtu = e->ee_info;
		pr->p->toobig_msgs++;
		return true;
	case MF_ICMP_TTL:
		res->oc = OC_TTL;
		return true;
	case MF_ICMP_PORT:
		res->oc = pr->stamp ? OC_PORT : OC_UNREACH;
		return true;
	case MF_ICMP_UNREACH:
		res->oc = OC_UNREACH;
		return true;
	default:
		return false;
	}
}

static bool drain_errq(struct prober *pr, unsigned size, uint32_t first, uint32_t last,
		       struct try_res *res)
{
	struct mp_errq e;

	for (;;) {
		memset(&e, 0, sizeof(e));
		e.buf = pr->quote;
		e.buf_len = sizeof(pr->quote);
		if (mp_sock_errqueue_read(pr->s, &e) < 0)
			return false;
		if (errq_entry(pr, &e, size, first, last, res))
			return true;
	}
}

static bool drain_rx(struct prober *pr, unsigned size, uint32_t first, uint32_t last,
		     struct try_res *res)
{
	struct mp_msg m;
	uint32_t seq;
	uint16_t s16;
	size_t ilen;
	int r;

	for (;;) {
		memset(&m, 0, sizeof(m));
		m.buf = pr->rx;
		m.buf_len = sizeof(pr->rx);
		r = mp_sock_recv(pr->s, &m);
		if (r == -EAGAIN || r == -EINTR)
			return false;
		if (r < 0)
			continue;	/* an ICMP error's errno: its entry is on the queue */
		if (m.truncated)
			continue;
		if (pr->stamp) {
			if (mf_reply_stamp(m.buf, m.len, &seq) < 0 || m.len != size - overhead(pr))
				continue;
		} else {
			if (mf_reply_icmp(pr->p->family, !pr->ping_sock, pr->icmp_id, m.buf, m.len,
					  &s16, &ilen) < 0 || ilen != size - ip_hdr(pr->p->family))
				continue;
			seq = s16;
		}
		if (!seq_is_ours(pr, seq, first, last))
			continue;
		res->oc = OC_PASS;
		res->from = pr->p->addr;
		return true;
	}
}

/* Wait until deadline for what settles tries first..last of size. */
static int wait_for(struct prober *pr, unsigned size, uint32_t first, uint32_t last,
		    uint64_t deadline, struct try_res *res)
{
	struct pollfd pfd = { .fd = mp_sock_fd(pr->s), .events = POLLIN };
	uint64_t now;
	int k;

	for (;;) {
		if (drain_errq(pr, size, first, last, res) || drain_rx(pr, size, first, last, res))
			return 1;
		now = mp_clock_mono_ns();
		if (now >= deadline)
			return 0;
		if (mf_stop)
			return -EINTR;
		k = poll(&pfd, 1, (int)((deadline - now + 999999) / MP_NSEC_PER_MSEC));
		if (k < 0 && errno != EINTR)
			return -errno;
	}
}

static int set_ttl(struct prober *pr, int ttl)
{
	int r = 0;

	if (ttl != pr->ttl) {
		r = mp_sock_ttl_set(pr->s, ttl);
		if (r == 0)
			pr->ttl = ttl;
	}
	return r;
}

/* Probe one size with TTL ttl: up to retries tries. */
static int probe_size(struct prober *pr, unsigned size, int ttl, bool search, struct try_res *res)
{
	uint32_t first = pr->seq + 1;
	unsigned i, tries = MP_MIN(pr->o->retries, (unsigned)TRIES_MAX);
	size_t len;
	int r;

	memset(res, 0, sizeof(*res));
	res->oc = OC_LOST;
	r = set_ttl(pr, ttl);
	if (r < 0)
		return r;
	for (i = 0; i < tries; i++) {
		uint32_t seq = ++pr->seq;

		if (!pr->stamp)
			pr->seq &= 0xffff;
		r = build(pr, size, seq, &len);
		if (r < 0)
			return r;
		clear_sk_err(pr);
		pr->sent_ns[i] = mp_clock_mono_ns();
		r = mp_sock_send(pr->s, pr->tx, len, NULL, 0, NULL);
		if (r == -ECONNREFUSED || r == -EHOSTUNREACH || r == -ENETUNREACH) {
			/* an ICMP error of an earlier probe arrived just now and
			 * failed this send instead: it was not sent, send again */
			pr->sent_ns[i] = mp_clock_mono_ns();
			r = mp_sock_send(pr->s, pr->tx, len, NULL, 0, NULL);
		}
		pr->p->probes++;
		if (search)
			pr->p->search_probes++;
		if (r == -EMSGSIZE) {
			/* over our own link's MTU: the local error is on the queue */
			res->oc = OC_TOOBIG;
			drain_errq(pr, size, first, seq, res);
			return 0;
		}
		if (r < 0 && r != -EAGAIN && r != -ENOBUFS)
			return r;
		r = wait_for(pr, size, first, seq, pr->sent_ns[i] + try_timeout(pr), res);
		if (r < 0)
			return r;
		if (r > 0) {
			uint64_t rtt = mp_clock_mono_ns() - pr->sent_ns[i];

			res->rtt_ns = rtt;
			if (res->oc == OC_PASS || res->oc == OC_TTL)
				pr->rtt_max_ns = MP_MAX(pr->rtt_max_ns, rtt);
			if (res->oc == OC_PASS && (!pr->p->rtt_ns || rtt < pr->p->rtt_ns))
				pr->p->rtt_ns = rtt;
			return 0;
		}
		pr->p->lost_tries++;
	}
	return 0;
}

/* ---------------------------------------------------------------- search */

/* From now on ICMP echo, with an identifier of its own. */
static int use_icmp(struct prober *pr)
{
	pr->stamp = false;
	pr->icmp_id = (uint16_t)(getpid() ^ (mp_clock_mono_ns() >> 10));
	return open_sock(pr);
}

/* The first answer: the method (auto: STAMP, then ICMP) and reachability. */
static int reach(struct prober *pr, unsigned size, struct try_res *res)
{
	int r;

	if (pr->o->method != MF_METHOD_ICMP) {
		pr->stamp = true;
		r = open_sock(pr);
		if (r < 0)
			return r;
		r = probe_size(pr, MP_MAX(size, min_size(pr)), SEARCH_TTL, true, res);
		if (r < 0 || res->oc == OC_PASS || pr->o->method == MF_METHOD_STAMP)
			return r;
	}
	r = use_icmp(pr);
	if (r < 0)
		return r;
	return probe_size(pr, MP_MAX(size, min_size(pr)), SEARCH_TTL, true, res);
}

/* The next size to try in (lo, hi), or 0 when the search is over;
 * *ret_likely tells whether it is a size links often have exactly (a hint
 * or a common size), so that one byte more is worth trying next. */
static unsigned next_size(unsigned lo, unsigned hi, unsigned *hint, bool *hint_up,
			  bool *ret_likely)
{
	size_t i;

	*ret_likely = true;
	if (hi - lo <= 1)
		return 0;
	if (*hint > lo && *hint < hi) {
		unsigned h = *hint;

		*ret_likely = !*hint_up;	/* "one byte more" is a check, not a guess */
		*hint = 0;
		*hint_up = false;
		return h;
	}
	*hint = 0;
	*hint_up = false;
	for (i = 0; i < MP_ARRAY_SIZE(common_sizes); i++)
		if (common_sizes[i] > lo && common_sizes[i] < hi)
			return common_sizes[i];
	*ret_likely = false;
	return lo + (hi - lo) / 2;
}

/* The size search above lo (known to pass) up to max. */
static int bisect(struct prober *pr, unsigned lo, unsigned max)
{
	struct mf_path *p = pr->p;
	struct try_res res;
	unsigned hi = max + 1, hint = max, size;
	bool hi_silent = false, likely, hint_up = false;
	int r;

	/* the largest size first: on a clean path one probe settles it */
	while (!mf_stop) {
		size = next_size(lo, hi, &hint, &hint_up, &likely);
		if (!size)
			break;
		r = probe_size(pr, size, SEARCH_TTL, true, &res);
		if (r < 0)
			return r;
		switch (res.oc) {
		case OC_PASS:
			lo = size;
			/* a router's hint or a common size passed: exact? One byte
			 * more settles it on most paths; bisection never crawls */
			if (likely && size + 1 < hi) {
				hint = size + 1;
				hint_up = true;
			}
			break;
		case OC_TOOBIG:
			hi = size;
			hi_silent = false;
			if (res.mtu > lo && res.mtu < size)
				hint = res.mtu;
			break;
		case OC_LOST:
		case OC_TTL:
			hi = size;
			hi_silent = true;
			break;
		case OC_PORT:
			p->error = -ECONNREFUSED;
			return 0;
		case OC_UNREACH:
			p->error = -EHOSTUNREACH;
			return 0;
		}
	}
	if (mf_stop)
		return -EINTR;
	p->pmtu_bytes = lo;
	p->first_fail_bytes = hi <= max ? hi : 0;
	p->blackhole = p->first_fail_bytes && hi_silent;
	/* ICMP echo is the network's own answer; a reflector's silence may be its limit */
	p->blackhole_confirmed = p->blackhole && !pr->stamp;
	return 0;
}

static int search(struct prober *pr, unsigned max)
{
	struct mf_path *p = pr->p;
	struct try_res res;
	unsigned low;
	int r;

	low = p->family == AF_INET ? 576 : MF_IPV6_MIN_MTU;
	r = reach(pr, MP_MIN(low, max), &res);
	if (r < 0)
		return r;
	p->method = pr->stamp ? MF_METHOD_STAMP : MF_METHOD_ICMP;
	if (res.oc != OC_PASS) {
		p->error = res.oc == OC_PORT ? -ECONNREFUSED :
			   res.oc == OC_LOST ? -ETIMEDOUT : -EHOSTUNREACH;
		return 0;
	}
	p->reachable = true;
	return bisect(pr, MP_MAX(MP_MIN(low, max), min_size(pr)), max);
}

/*
 * STAMP probes of first_fail_bytes vanished: a black hole, or only as much
 * as the reflector answers? ICMP echo tells when the target answers it.
 * Echo of that size answered: the path carries it, the reflector's limit
 * is reported as such and the search goes on by ICMP above it. Echo of
 * pmtu_bytes answered but not of first_fail_bytes: the black hole is
 * confirmed. Neither: it stays unconfirmed, and STAMP walks the hops.
 */
static int cross_check(struct prober *pr, unsigned max)
{
	struct mf_path *p = pr->p;
	unsigned fail = p->first_fail_bytes, lo = p->pmtu_bytes;
	struct try_res res;
	int r;

	r = use_icmp(pr);
	if (r < 0)
		return r;
	r = probe_size(pr, fail, SEARCH_TTL, true, &res);
	if (r < 0)
		return r;
	if (res.oc == OC_PASS) {
		p->reflector_max_bytes = lo;
		p->method = MF_METHOD_ICMP;
		return bisect(pr, fail, max);
	}
	r = probe_size(pr, lo, SEARCH_TTL, true, &res);
	if (r < 0)
		return r;
	if (res.oc == OC_PASS) {
		p->blackhole_confirmed = true;
		return 0;
	}
	pr->stamp = true;
	return open_sock(pr);
}

/* ---------------------------------------------------------------- hops */

static struct mf_hop *hop_add(struct mf_path *p, unsigned ttl)
{
	struct mf_hop *h;

	if (p->n_hops >= MF_HOPS_MAX)
		return NULL;
	h = &p->hops[p->n_hops++];
	memset(h, 0, sizeof(*h));
	h->ttl = ttl;
	return h;
}

static void bottleneck(struct mf_path *p, unsigned ttl)
{
	if (p->bottleneck_hop || ttl == 0)
		return;
	p->bottleneck_hop = ttl;
	if (ttl <= p->n_hops && p->hops[ttl - 1].answered)
		p->bottleneck_addr = p->hops[ttl - 1].addr;
	if (p->blackhole)
		p->blackhole_hop = ttl;
}

static int walk(struct prober *pr, unsigned start_size)
{
	struct mf_path *p = pr->p;
	struct try_res res;
	unsigned ttl = 1, size = start_size, silent = 0, guard = 0;
	struct mf_hop *h;
	int r;

	while (ttl <= pr->o->max_hops && !mf_stop && guard++ < 4 * MF_HOPS_MAX) {
		r = probe_size(pr, size, (int)ttl, false, &res);
		if (r < 0)
			return r;
		if (res.oc == OC_TOOBIG) {
			/* hop ttl-1 cannot forward size: its outgoing link is narrower */
			bottleneck(p, ttl - 1);
			size = res.mtu >= p->pmtu_bytes && res.mtu < size ? res.mtu : p->pmtu_bytes;
			continue;
		}
		if (res.oc == OC_LOST && size > p->pmtu_bytes) {
			/* vanished: does a probe of the path MTU get further? */
			r = probe_size(pr, p->pmtu_bytes, (int)ttl, false, &res);
			if (r < 0)
				return r;
			/* answered: hop ttl-1 dropped the big one; silent: hop ttl-1
			 * is the last hop known to have received it */
			bottleneck(p, ttl - 1);
			size = p->pmtu_bytes;
		}
		h = hop_add(p, ttl);
		if (!h)
			break;
		if (res.oc == OC_TTL || res.oc == OC_PASS) {
			h->answered = true;
			h->addr = res.from;
			h->mtu_bytes = size;
			silent = 0;
		} else if (++silent >= SILENT_HOPS_MAX) {
			break;
		}
		if (res.oc == OC_PASS || res.oc == OC_UNREACH || res.oc == OC_PORT)
			break;
		ttl++;
	}
	return mf_stop ? -EINTR : 0;
}

/* ---------------------------------------------------------------- run */

int mf_path_run(const struct mf_opts *o, struct mf_path *p)
{
	struct prober *pr;
	uint64_t t0 = mp_clock_mono_ns();
	unsigned max;
	int r;

	pr = calloc(1, sizeof(*pr));
	if (!pr)
		return -ENOMEM;
	pr->o = o;
	pr->p = p;
	if (!p->addr_len) {
		r = mp_parse_addr(p->target, o->family, 0, &p->addr, &p->addr_len);
		if (r < 0)
			goto out;
	}
	p->family = p->addr.ss_family;
	/* the kernel's view first, before any probe: a plain connected socket */
	pr->stamp = true;
	r = open_sock(pr);
	if (r < 0)
		goto out;
	if (mp_sock_mtu_get(pr->s, &p->kernel_pmtu_bytes) < 0)
		p->kernel_pmtu_bytes = 0;
	r = egress_mtu(pr, &p->local_mtu_bytes);
	if (r < 0)
		goto out;
	max = o->max_bytes ? MP_MIN(o->max_bytes, p->local_mtu_bytes) : p->local_mtu_bytes;
	r = search(pr, max);
	if (r == 0 && !p->error && p->blackhole && pr->stamp)
		r = cross_check(pr, max);
	if (r < 0 || p->error)
		goto out;
	if (!o->no_hops && p->first_fail_bytes && max > p->pmtu_bytes)
		r = walk(pr, max);
	if (r < 0)
		goto out;
	p->wg_overhead_bytes = p->family == AF_INET6 ? MP_WG_OVERHEAD6 : MP_WG_OVERHEAD4;
	/* a mesh tunnel carries IPv6 too (DESIGN.md): keep it at 1280 or more */
	r = mp_wg_mtu_recommend(p->pmtu_bytes, p->family, true, &p->wg_mtu_bytes,
				&p->wg_mtu_raised);
out:
	p->duration_ns = mp_clock_mono_ns() - t0;
	mp_sock_free(pr->s);
	free(pr);
	return r;
}

int mf_burst(const struct mf_opts *o, const struct sockaddr_storage *dst, socklen_t dst_len,
	     unsigned size, unsigned count, struct mf_burst_result *ret)
{
	struct mf_opts bo = *o;
	struct mf_path p = { 0 };
	struct mf_burst_result b = { 0 };
	struct try_res res;
	struct prober *pr;
	unsigned i;
	int r;

	pr = calloc(1, sizeof(*pr));
	if (!pr)
		return -ENOMEM;
	bo.retries = 1;	/* a burst counts losses: no second try */
	if (!bo.timeout_ns)
		bo.timeout_ns = MF_BURST_TIMEOUT_NS;
	p.addr = *dst;
	p.addr_len = dst_len;
	p.family = dst->ss_family;
	pr->o = &bo;
	pr->p = &p;
	pr->icmp_id = (uint16_t)(getpid() ^ (mp_clock_mono_ns() >> 10));
	r = open_sock(pr);
	if (r < 0)
		goto out;
	if (size < min_size(pr)) {
		r = -EINVAL;
		goto out;
	}
	for (i = 0; i < count && !mf_stop; i++) {
		r = probe_size(pr, size, SEARCH_TTL, false, &res);
		if (r < 0)
			goto out;
		b.sent++;
		if (res.oc == OC_PASS) {
			b.received++;
			b.rtt_sum_ns += res.rtt_ns;
		} else if (res.oc == OC_TOOBIG) {
			b.toobig++;
		}
	}
	*ret = b;
	r = 0;
out:
	mp_sock_free(pr->s);
	free(pr);
	return r;
}
