/* SPDX-License-Identifier: MIT */
/*
 * pathping's measurement: sockets, privilege drop, probe rounds over all
 * TTLs at once, reply matching, timeouts and per-hop accounting. Prints
 * nothing; streamed events go to a callback.
 *
 * Sockets. With CAP_NET_RAW (root): IPv4 probes leave through one
 * IPPROTO_RAW socket (we write the IP header: TTL and IP ID per probe),
 * IPv6 probes through a raw socket of the probe's protocol (hop limit set
 * per probe); replies come in on raw ICMP / ICMPv6 (and TCP) sockets.
 * Without it: an ICMP datagram ("ping") socket or a UDP socket with
 * IP_RECVERR, where ICMP errors arrive on the error queue with the
 * offender's address and the quoted probe. Every socket has software
 * timestamps: send times from the error queue, receive times from the
 * kernel, both CLOCK_REALTIME.
 */
#include <errno.h>
#include <linux/filter.h>
#include <netinet/icmp6.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "args.h"
#include "clock.h"
#include "mp.h"
#include "pathping.h"
#include "rdns.h"
#include "sock.h"

enum {
	N_SLOTS = 65536,	/* probe ids are 16 bits */
	RX_BATCH = 16,		/* datagrams per recvmmsg */
	ERRQ_BATCH = 16,	/* error-queue entries per read */
	STATS_EXACT_CAP = 100000, /* RTT samples per hop kept for exact percentiles */
	ROUNDS_MAX = 4096,	/* rounds in flight at once */
};

enum slot_state {
	SLOT_FREE,
	SLOT_SENT,
	SLOT_ANSWERED,
};

struct slot {
	uint64_t round;			/* round number */
	uint64_t tx_real_ns;		/* sent: kernel TX stamp, else user-space time */
	uint64_t rx_real_ns;		/* reply received: kernel RX stamp, else user-space */
	struct sockaddr_storage from;	/* responder */
	uint8_t ttl;			/* TTL it was sent with */
	uint8_t state;			/* enum slot_state */
	bool tx_kernel;			/* tx_real_ns is the kernel's */
};

struct round {
	uint64_t no;			/* round number */
	uint64_t mono_ns;		/* when it was sent */
	uint16_t first_id;		/* its probes are first_id .. first_id + n - 1 */
	unsigned n;			/* probes in it */
	unsigned pending;		/* not yet answered */
};

struct run {
	const struct pp_opts *o;
	struct pp_result *res;
	struct pp_flow flow;
	struct sockaddr_storage dst;	/* where probes are sent (port as the socket wants) */
	socklen_t dst_len;
	struct mp_sock *tx;		/* sends; dgram mode: also receives everything */
	struct mp_sock *icmp;		/* raw: receives ICMP errors and echo replies */
	struct mp_sock *tcp;		/* raw TCP: receives SYN-ACK / RST */
	struct mp_sock *rx_icmp;	/* raw: where ICMP arrives (icmp or tx), borrowed */
	struct mp_sock *rx_tcp;		/* raw TCP probes: where TCP arrives, borrowed */
	int tx_ttl;			/* TTL the tx socket is set to, 0: unknown */
	struct slot *slots;		/* N_SLOTS, indexed by probe id */
	uint16_t *txmap;		/* TX id (low 16 bits) -> probe id */
	struct round *rounds;		/* ring of ROUNDS_MAX rounds in flight */
	size_t r_head, r_count;
	uint16_t next_id;		/* next probe id (never 0: IP ID 0 is the kernel's) */
	uint64_t round_no;		/* next round number */
	unsigned limit;			/* highest TTL probed now */
	uint64_t max_rtt_ns;		/* largest RTT seen, for the adaptive timeout */
	bool mda_done;			/* --all-paths: the stopping rule held */
	pp_event_cb cb;
	void *ctx;
};

volatile sig_atomic_t pp_stop;

static const char *const proto_names[] = { [PP_ICMP] = "icmp", [PP_UDP] = "udp",
					    [PP_TCP] = "tcp" };

static struct in6_addr *sa_addr(struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET)
		return (struct in6_addr *)(void *)&((struct sockaddr_in *)ss)->sin_addr;
	return &((struct sockaddr_in6 *)ss)->sin6_addr;
}

static void sa_set(struct sockaddr_storage *ss, int family, const struct in6_addr *a)
{
	memset(ss, 0, sizeof(*ss));
	ss->ss_family = (sa_family_t)family;
	memcpy(sa_addr(ss), a, family == AF_INET ? 4 : 16);
}

static socklen_t sa_len(int family)
{
	return family == AF_INET ? sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6);
}

static uint16_t sa_port(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET)
		return ntohs(((const struct sockaddr_in *)ss)->sin_port);
	return ntohs(((const struct sockaddr_in6 *)ss)->sin6_port);
}

/* Our source address towards the target: what a connected UDP socket gets. */
static int src_lookup(struct run *rn)
{
	struct sockaddr_storage ss = rn->dst;
	struct mp_sock *s = NULL;
	socklen_t len;
	int r;

	r = mp_sock_open(&s, ss.ss_family, SOCK_DGRAM, 0, 0);
	if (r < 0)
		goto out;
	if (rn->o->ifname) {
		r = mp_sock_bind(s, NULL, 0, rn->o->ifname);
		if (r < 0)
			goto out;
	}
	mp_addr_port_set(&ss, 1);
	r = mp_sock_connect(s, (struct sockaddr *)&ss, sa_len(ss.ss_family));
	if (r < 0)
		goto out;
	r = mp_sock_name_get(s, &ss, &len);
	if (r < 0)
		goto out;
	memcpy(&rn->flow.src, sa_addr(&ss), ss.ss_family == AF_INET ? 4 : 16);
out:
	mp_sock_free(s);
	return r;
}

/* A socket that only sends: a filter that accepts nothing keeps its
 * receive queue empty (its error queue, with the TX stamps, still works). */
static int drop_all(struct mp_sock *s)
{
	struct sock_filter code = BPF_STMT(BPF_RET | BPF_K, 0);
	struct sock_fprog prog = { .len = 1, .filter = &code };

	if (setsockopt(mp_sock_fd(s), SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof(prog)) < 0)
		return -errno;
	return 0;
}

/* A raw socket reads only what answers this run's flow (pp_flow_filter). */
static int flow_filter(struct mp_sock *s, const struct pp_flow *f, bool tcp)
{
	struct sock_filter code[PP_FILTER_MAX];
	int n = pp_flow_filter(f, tcp, code);
	struct sock_fprog prog = { .len = (unsigned short)n, .filter = code };
	uint8_t b;

	if (n < 0)
		return n;
	if (setsockopt(mp_sock_fd(s), SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof(prog)) < 0)
		return -errno;
	/* what came in before the filter (another run's replies, since no
	 * probe of ours has left yet) is not ours: drop it unread, a packet a
	 * call */
	while (recv(mp_sock_fd(s), &b, sizeof(b), MSG_DONTWAIT | MSG_TRUNC) >= 0)
		continue;
	return 0;
}

/* ICMPv6 raw sockets see neighbour discovery and more: keep only replies. */
static int icmp6_filter(struct mp_sock *s)
{
	struct icmp6_filter flt;

	ICMP6_FILTER_SETBLOCKALL(&flt);
	ICMP6_FILTER_SETPASS(ICMP6_ECHO_REPLY, &flt);
	ICMP6_FILTER_SETPASS(ICMP6_DST_UNREACH, &flt);
	ICMP6_FILTER_SETPASS(ICMP6_PACKET_TOO_BIG, &flt);
	ICMP6_FILTER_SETPASS(ICMP6_TIME_EXCEEDED, &flt);
	ICMP6_FILTER_SETPASS(ICMP6_PARAM_PROB, &flt);
	if (setsockopt(mp_sock_fd(s), IPPROTO_ICMPV6, ICMP6_FILTER, &flt, sizeof(flt)) < 0)
		return -errno;
	return 0;
}

static int sock_new(struct run *rn, struct mp_sock **ret, int type, int proto, unsigned flags)
{
	int r = mp_sock_open(ret, rn->dst.ss_family, type, proto,
			     flags | MP_SOCK_TS_SW | MP_SOCK_NONBLOCK);

	if (r == 0 && rn->o->ifname)
		r = mp_sock_bind(*ret, NULL, 0, rn->o->ifname);
	return r;
}

static int open_raw(struct run *rn)
{
	bool v4 = rn->dst.ss_family == AF_INET;
	int pr = rn->flow.proto == PP_UDP ? IPPROTO_UDP : IPPROTO_TCP;
	struct sockaddr_storage src;
	int r;

	r = sock_new(rn, &rn->icmp, SOCK_RAW, v4 ? IPPROTO_ICMP : IPPROTO_ICMPV6, 0);
	if (r < 0)
		return r;
	if (!v4 && (r = icmp6_filter(rn->icmp)) < 0)
		return r;
	if (rn->flow.proto == PP_TCP) {
		r = sock_new(rn, &rn->tcp, SOCK_RAW, IPPROTO_TCP, 0);
		if (r < 0)
			return r;
	}
	if (v4)
		return sock_new(rn, &rn->tx, SOCK_RAW, IPPROTO_RAW, 0);
	if (rn->flow.proto == PP_ICMP) {
		rn->tx = rn->icmp;
		rn->icmp = NULL;
		return 0;
	}
	if (rn->flow.proto == PP_TCP) {
		/* one raw TCP socket sends and reads the answers: a second one
		 * would queue every TCP segment unread, and its TX stamps with them */
		rn->tx = rn->tcp;
		rn->tcp = NULL;
	} else {
		r = sock_new(rn, &rn->tx, SOCK_RAW, pr, 0);
		if (r == 0)
			r = drop_all(rn->tx);
	}
	/* the checksums we compute sum this source address: make it so */
	sa_set(&src, AF_INET6, &rn->flow.src);
	if (r == 0)
		r = mp_sock_bind(rn->tx, (struct sockaddr *)&src, sa_len(AF_INET6), NULL);
	return r;
}

static int open_dgram(struct run *rn)
{
	bool v4 = rn->dst.ss_family == AF_INET;
	struct sockaddr_storage src;
	socklen_t len;
	int r;

	if (rn->flow.proto == PP_TCP)
		return -EPERM;	/* SYN probes need a raw socket */
	if (rn->flow.proto == PP_ICMP)
		r = sock_new(rn, &rn->tx, SOCK_DGRAM, v4 ? IPPROTO_ICMP : IPPROTO_ICMPV6,
			     MP_SOCK_RECVERR);
	else
		r = sock_new(rn, &rn->tx, SOCK_DGRAM, IPPROTO_UDP, MP_SOCK_RECVERR);
	if (r < 0)
		return r;
	/* bind now: the kernel picks the port (the ICMP identifier of a ping
	 * socket) unless --flow did, and it stays for the whole run: the
	 * constant flow */
	sa_set(&src, rn->dst.ss_family, &rn->flow.src);
	mp_addr_port_set(&src, rn->o->flow);
	r = mp_sock_bind(rn->tx, (struct sockaddr *)&src, sa_len(src.ss_family), NULL);
	if (r == 0)
		r = mp_sock_name_get(rn->tx, &src, &len);
	if (r < 0)
		return r;
	rn->flow.ident = sa_port(&src);
	rn->flow.sport = sa_port(&src);
	return 0;
}

static int setup(struct run *rn)
{
	const struct pp_opts *o = rn->o;
	uint16_t port;
	int r;

	r = mp_parse_addr(o->target, o->family, 0, &rn->dst, &rn->dst_len);
	if (r < 0)
		return r;
	rn->res->dst = rn->dst;
	rn->res->target = o->target;
	mp_addr_to_str((struct sockaddr *)&rn->dst, rn->res->dst_str, sizeof(rn->res->dst_str));
	rn->flow.family = rn->dst.ss_family;
	rn->flow.proto = o->proto;
	memcpy(&rn->flow.dst, sa_addr(&rn->dst), rn->flow.family == AF_INET ? 4 : 16);
	rn->flow.dport = o->dport ? o->dport : o->proto == PP_TCP ? PP_DPORT_TCP : PP_DPORT_UDP;
	rn->flow.tos = o->tos >= 0 ? (uint8_t)o->tos : 0;
	r = src_lookup(rn);
	if (r < 0)
		return r;
	if (getrandom(&port, sizeof(port), 0) != sizeof(port) ||
	    getrandom(&rn->flow.tcp_seq0, sizeof(rn->flow.tcp_seq0), 0) !=
		    sizeof(rn->flow.tcp_seq0))
		return -EIO;
	/* raw: the ports are ours to choose; one flow per run, outside the
	 * ephemeral range the kernel would also hand out */
	rn->flow.sport = o->flow ? o->flow : (uint16_t)(20000 + port % 10000);
	rn->flow.ident = o->flow ? o->flow : port;
	r = open_raw(rn);
	if ((r == -EPERM || r == -EACCES) && o->all_paths)
		return -EPERM;	/* flows of our own choosing: raw sockets */
	if (r == -EPERM || r == -EACCES) {
		mp_sock_free(rn->tx);
		mp_sock_free(rn->icmp);
		mp_sock_free(rn->tcp);
		rn->tx = rn->icmp = rn->tcp = NULL;
		r = open_dgram(rn);
	} else {
		rn->flow.raw = r == 0;
	}
	if (r < 0)
		return r;
	rn->res->raw = rn->flow.raw;
	rn->res->flow = o->proto == PP_ICMP ? rn->flow.ident : rn->flow.sport;
	if (o->all_paths) {
		rn->flow.sport_base = rn->flow.sport;
		rn->flow.sport_span = PP_MDA_FLOWS_MAX;
	}
	rn->res->tos_set = o->tos >= 0;
	rn->res->tos = rn->flow.tos;
	/* raw IPv4 carries it in the header we build */
	if (o->tos >= 0 && !(rn->flow.raw && rn->flow.family == AF_INET) &&
	    (r = mp_sock_tos_set(rn->tx, o->tos)) < 0)
		return r;
	if (rn->flow.raw) {
		rn->rx_icmp = rn->icmp ? rn->icmp : rn->tx;
		rn->rx_tcp = rn->tcp ? rn->tcp : o->proto == PP_TCP ? rn->tx : NULL;
		r = flow_filter(rn->rx_icmp, &rn->flow, false);
		if (r == 0 && rn->rx_tcp)
			r = flow_filter(rn->rx_tcp, &rn->flow, true);
		if (r < 0)
			return r;
	}
	/* STYLE.md M3: raw sockets first, then give up privilege for good
	 * (documented in pathping(1)) */
	r = mp_sock_privileges_drop();
	if (r < 0)
		return r;
	/* a raw socket takes the protocol (or 0) as "port"; UDP the real one */
	mp_addr_port_set(&rn->dst, !rn->flow.raw && o->proto == PP_UDP ? rn->flow.dport : 0);
	return 0;
}

static uint64_t timeout_ns(const struct run *rn)
{
	uint64_t t;

	if (rn->o->timeout_ns)
		return rn->o->timeout_ns;
	if (!rn->max_rtt_ns)
		return PP_TIMEOUT_MAX_NS;
	t = 3 * rn->max_rtt_ns + 10 * MP_NSEC_PER_MSEC;
	return MP_MAX(PP_TIMEOUT_MIN_NS, MP_MIN(t, PP_TIMEOUT_MAX_NS));
}

/* The source port of round no: the run's one, or with --all-paths one
 * flow per round. */
static uint16_t round_sport(const struct run *rn, uint64_t no)
{
	if (!rn->res->mda)
		return rn->flow.sport;
	return (uint16_t)(rn->flow.sport_base + no % PP_MDA_FLOWS_MAX);
}

static int send_probe(struct run *rn, uint16_t id, unsigned ttl)
{
	uint8_t buf[PP_PKT_MAX];
	struct slot *sl = &rn->slots[id];
	uint32_t tx_id;
	int n, r;

	n = pp_probe_build(&rn->flow, id, (uint8_t)ttl, buf, sizeof(buf));
	if (n < 0)
		return n;
	if (!(rn->flow.raw && rn->flow.family == AF_INET) && rn->tx_ttl != (int)ttl) {
		r = mp_sock_ttl_set(rn->tx, (int)ttl);
		if (r < 0)
			return r;
		rn->tx_ttl = (int)ttl;
	}
	sl->tx_real_ns = mp_clock_real_ns();
	r = mp_sock_send(rn->tx, buf, (size_t)n, (struct sockaddr *)&rn->dst, rn->dst_len,
			 &tx_id);
	/* IP_RECVERR reports an ICMP error once more, on the next send */
	if (r == -ECONNREFUSED || r == -EHOSTUNREACH || r == -ENETUNREACH || r == -EPROTO)
		r = mp_sock_send(rn->tx, buf, (size_t)n, (struct sockaddr *)&rn->dst,
				 rn->dst_len, &tx_id);
	/* a full queue costs this probe only: it times out as lost */
	if (r == -EAGAIN || r == -ENOBUFS)
		tx_id = UINT32_MAX;
	else if (r < 0)
		return r;
	if (tx_id != UINT32_MAX)
		rn->txmap[tx_id & 0xffff] = id;
	sl->ttl = (uint8_t)ttl;
	sl->state = SLOT_SENT;
	sl->tx_kernel = false;
	return 0;
}

/* One round: a probe to every TTL up to the limit that is due. */
static int send_round(struct run *rn, uint64_t now)
{
	struct round *rd;
	unsigned ttl;
	int r;

	if (rn->r_count == ROUNDS_MAX)
		return 0;	/* too many in flight: skip a beat */
	rd = &rn->rounds[(rn->r_head + rn->r_count) % ROUNDS_MAX];
	*rd = (struct round){ .no = rn->round_no, .mono_ns = now, .first_id = rn->next_id };
	rn->flow.sport = round_sport(rn, rn->round_no);
	for (ttl = 1; ttl <= rn->limit; ttl++) {
		struct pp_hop *h = &rn->res->hops[ttl];

		if ((rn->o->count && !rn->res->mda && h->queued >= rn->o->count) ||
		    h->next_mono_ns > now)
			continue;
		rn->slots[rn->next_id].round = rn->round_no;
		r = send_probe(rn, rn->next_id, ttl);
		if (r < 0)
			return r;
		h->queued++;
		h->next_mono_ns = now + h->gap_ns;
		rd->n++;
		if (rn->res->mda)
			rn->res->mda->probes++;
		rn->next_id = rn->next_id == UINT16_MAX ? 1 : rn->next_id + 1;
	}
	if (!rd->n)
		return 0;
	rd->pending = rd->n;
	rn->r_count++;
	rn->round_no++;
	return 0;
}

static struct round *round_of(struct run *rn, uint16_t id)
{
	size_t i;

	for (i = 0; i < rn->r_count; i++) {
		struct round *rd = &rn->rounds[(rn->r_head + i) % ROUNDS_MAX];
		uint16_t off = (uint16_t)(id - rd->first_id);

		if (off < rd->n && rn->slots[id].round == rd->no)
			return rd;
	}
	return NULL;
}

/* Counts a reply from; a responder new to the hop gets its name looked up.
 * Returns its index in h->addrs, or -2 when it is one beyond them. */
static int responder_add(struct pp_result *res, struct pp_hop *h,
			 const struct sockaddr_storage *from)
{
	unsigned i;

	for (i = 0; i < h->n_addrs; i++) {
		if (mp_addr_same(&h->addrs[i].addr, from)) {
			h->addrs[i].received++;
			return (int)i;
		}
	}
	if (h->n_addrs == PP_ADDRS_MAX) {
		h->other_received++;
		return -2;
	}
	h->addrs[h->n_addrs].addr = *from;
	h->addrs[h->n_addrs++].received = 1;
	mp_rdns_want(res->names, from);
	return (int)h->n_addrs - 1;
}

/* What the reply quoted of the probe and told in extensions (raw sockets). */
static void hop_quote(struct run *rn, struct pp_hop *h, const struct pp_reply *rep)
{
	if (rep->quoted) {
		h->quoted++;
		h->dscp_changed += rep->quoted_tos >> 2 != rn->flow.tos >> 2;
		h->quoted_tos = rep->quoted_tos;
	}
	if (rep->ext_offset) {
		h->ext_seen++;
		if (rep->ext_bad)
			h->ext_bad++;
		else
			h->ext = rep->ext;
	}
}

/* A reply to probe id arrived; rep: what raw sockets parsed of it, or NULL. */
static void answered(struct run *rn, uint16_t id, const struct sockaddr_storage *from,
		     uint64_t rx_ns, const struct pp_reply *rep)
{
	struct slot *sl = &rn->slots[id];
	struct round *rd;
	struct sockaddr_storage f = *from;

	if (sl->state != SLOT_SENT || !(rd = round_of(rn, id))) {
		rn->res->late++;
		return;
	}
	if (!rx_ns)
		rx_ns = mp_clock_real_ns();
	else
		rn->res->rx_kernel_stamps++;
	sl->state = SLOT_ANSWERED;
	sl->rx_real_ns = rx_ns;
	sl->from = f;
	rd->pending--;
	if (rep)
		hop_quote(rn, &rn->res->hops[sl->ttl], rep);
	if (mp_addr_same(&f, &rn->res->dst)) {
		if (!rn->res->dest_ttl || sl->ttl < rn->res->dest_ttl)
			rn->res->dest_ttl = sl->ttl;
		rn->limit = MP_MIN(rn->limit, rn->res->dest_ttl);
	}
}

static void rx_raw(struct run *rn, struct mp_sock *s, bool is_tcp)
{
	uint8_t bufs[RX_BATCH][PP_PKT_MAX];
	struct mp_msg m[RX_BATCH];
	struct sockaddr_storage from;
	struct pp_reply rep;
	int i, n;

	for (i = 0; i < RX_BATCH; i++)
		m[i] = (struct mp_msg){ .buf = bufs[i], .buf_len = sizeof(bufs[i]) };
	while ((n = mp_sock_recv_batch(s, m, RX_BATCH)) > 0) {
		for (i = 0; i < n; i++) {
			if (pp_reply_parse(&rn->flow, is_tcp, bufs[i], m[i].len, &rep) < 0) {
				rn->res->unmatched++;
				continue;
			}
			if (rep.from_src_known)
				sa_set(&from, rn->flow.family, &rep.from);
			else
				from = m[i].src;
			if (is_tcp && !mp_addr_same(&from, &rn->res->dst)) {
				rn->res->unmatched++;
				continue;
			}
			answered(rn, rep.id, &from, m[i].rx_ns, &rep);
		}
		if (n < RX_BATCH)
			break;
	}
}

/* Datagram sockets: echo replies (ping socket) on the receive queue. */
static void rx_dgram(struct run *rn)
{
	uint8_t buf[PP_PKT_MAX];
	struct mp_msg m = { .buf = buf, .buf_len = sizeof(buf) };
	uint16_t id;
	int n;

	for (;;) {
		n = mp_sock_recv(rn->tx, &m);
		if (n == -EAGAIN || n == -EINTR)
			return;
		if (n < 0)
			continue;	/* an ICMP error's errno, reported once */
		if (pp_dgram_id(&rn->flow, true, buf, m.len, &id) < 0) {
			rn->res->unmatched++;
			continue;
		}
		answered(rn, id, &m.src, m.rx_ns, NULL);
	}
}

static void errq_entry(struct run *rn, struct mp_errq *e)
{
	struct sockaddr_storage from;
	uint16_t id;

	if (e->kind == MP_ERRQ_TSTAMP) {
		struct slot *sl = &rn->slots[rn->txmap[e->tx_id & 0xffff]];

		if (sl->state != SLOT_FREE && !sl->tx_kernel && e->ts_ns) {
			sl->tx_real_ns = e->ts_ns;
			sl->tx_kernel = true;
			rn->res->tx_kernel_stamps++;
		}
		return;
	}
	if (e->origin == MP_EE_LOCAL || e->offender.ss_family == AF_UNSPEC ||
	    pp_dgram_id(&rn->flow, false, e->buf, e->payload_len, &id) < 0) {
		rn->res->unmatched++;
		return;
	}
	from = e->offender;
	answered(rn, id, &from, e->ts_ns, NULL);
}

static void rx_errq(struct run *rn, struct mp_sock *s)
{
	uint8_t bufs[ERRQ_BATCH][PP_PKT_MAX];
	struct mp_errq e[ERRQ_BATCH];
	int i, n;

	do {
		for (i = 0; i < ERRQ_BATCH; i++)
			e[i] = (struct mp_errq){ .buf = bufs[i], .buf_len = sizeof(bufs[i]) };
		n = mp_sock_errqueue_read_batch(s, e, ERRQ_BATCH);
		for (i = 0; i < n; i++)
			errq_entry(rn, &e[i]);
	} while (n == ERRQ_BATCH);
}

/* Account one round: every probe answered, or lost at its timeout. */
static int round_resolve(struct run *rn, struct round *rd)
{
	struct pp_result *res = rn->res;
	struct pp_mda_flow fl = { 0 };
	unsigned deepest = 0, i;
	int r = 0;

	memset(fl.at, -1, sizeof(fl.at));

	for (i = 0; i < rd->n; i++) {
		struct slot *sl = &rn->slots[(uint16_t)(rd->first_id + i)];

		if (sl->state == SLOT_ANSWERED && (!res->dest_ttl || sl->ttl <= res->dest_ttl))
			deepest = MP_MAX(deepest, sl->ttl);
	}
	for (i = 0; i < rd->n; i++) {
		struct slot *sl = &rn->slots[(uint16_t)(rd->first_id + i)];
		struct pp_hop *h = &res->hops[sl->ttl];
		struct pp_event ev = { .round = rd->no, .ttl = sl->ttl };

		if (res->dest_ttl && sl->ttl > res->dest_ttl) {
			sl->state = SLOT_FREE;
			continue;	/* answered by the target at a lower TTL */
		}
		h->sent++;
		fl.sent++;
		if (sl->state == SLOT_ANSWERED) {
			int64_t rtt = (int64_t)(sl->rx_real_ns - sl->tx_real_ns);

			h->received++;
			fl.received++;
			h->last_rtt_ns = rtt;
			if (mp_stats_add(h->rtt, rtt) < 0)
				r = -ENOMEM;
			mp_jitter_add(&h->jitter, sl->tx_real_ns, sl->rx_real_ns);
			fl.at[sl->ttl] = (int8_t)responder_add(res, h, &sl->from);
			if (sl->ttl > fl.last_ttl) {
				fl.last_ttl = sl->ttl;
				fl.rtt_ns = rtt;
			}
			if (mp_addr_same(&sl->from, &res->dst))
				h->reached = true;
			if (rtt > 0 && (uint64_t)rtt > rn->max_rtt_ns)
				rn->max_rtt_ns = (uint64_t)rtt;
			pp_hop_outcome(h, PP_OUT_ANSWERED);
			ev.answered = true;
			ev.rtt_ns = rtt;
			ev.from = sl->from;
		} else {
			pp_hop_outcome(h, deepest > sl->ttl ? PP_OUT_NODE_LOST : PP_OUT_LOST);
		}
		sl->state = SLOT_FREE;
		if (rn->cb && r == 0)
			r = rn->cb(&ev, rn->ctx);
	}
	res->rounds++;
	if (res->mda && pp_mda_flow_done(res, &fl, rn->limit))
		rn->mda_done = true;
	return r;
}

/* Resolve the rounds that are complete or timed out, oldest first. */
static int rounds_resolve(struct run *rn, uint64_t now)
{
	int r;

	while (rn->r_count) {
		struct round *rd = &rn->rounds[rn->r_head];

		if (rd->pending && now < rd->mono_ns + timeout_ns(rn))
			break;
		r = round_resolve(rn, rd);
		rn->r_head = (rn->r_head + 1) % ROUNDS_MAX;
		rn->r_count--;
		if (r < 0)
			return r;
	}
	return 0;
}

/* Every hop that is not rate-limited has sent its count. */
static bool sending_done(const struct run *rn)
{
	unsigned ttl;

	if (rn->res->mda)
		return rn->mda_done || rn->round_no >= PP_MDA_FLOWS_MAX;
	if (!rn->o->count)
		return false;
	for (ttl = 1; ttl <= rn->limit; ttl++) {
		const struct pp_hop *h = &rn->res->hops[ttl];

		if (h->queued < rn->o->count && !h->ratelimited)
			return false;
	}
	return true;
}

static int loop(struct run *rn)
{
	const struct pp_opts *o = rn->o;
	uint64_t start = mp_clock_mono_ns(), next = start, now, wake;
	bool sending = true;
	struct pollfd pfd[3];
	nfds_t np = 0, i;
	int r;

	pfd[np++] = (struct pollfd){ .fd = mp_sock_fd(rn->tx), .events = POLLIN };
	if (rn->icmp)
		pfd[np++] = (struct pollfd){ .fd = mp_sock_fd(rn->icmp), .events = POLLIN };
	if (rn->tcp)
		pfd[np++] = (struct pollfd){ .fd = mp_sock_fd(rn->tcp), .events = POLLIN };
	for (;;) {
		now = mp_clock_mono_ns();
		if (pp_stop) {
			rn->res->interrupted = true;
			break;
		}
		if (sending && (sending_done(rn) ||
				(o->duration_ns && now >= start + o->duration_ns)))
			sending = false;
		if (sending && now >= next) {
			r = send_round(rn, now);
			if (r < 0)
				return r;
			next += o->interval_ns;
			if (next < now)
				next = now + o->interval_ns;	/* fell behind: no burst */
		}
		r = rounds_resolve(rn, now);
		if (r < 0)
			return r;
		if (!sending && !rn->r_count)
			break;
		wake = sending ? next : UINT64_MAX;
		if (rn->r_count)
			wake = MP_MIN(wake, rn->rounds[rn->r_head].mono_ns + timeout_ns(rn));
		now = mp_clock_mono_ns();
		if (wake > now) {
			uint64_t d = wake - now;
			struct timespec ts = { .tv_sec = (time_t)(d / MP_NSEC_PER_SEC),
					       .tv_nsec = (long)(d % MP_NSEC_PER_SEC) };

			r = ppoll(pfd, np, &ts, NULL);
			if (r < 0 && errno != EINTR)
				return -errno;
		}
		/* TX stamps before replies: a reply must find its send time */
		for (i = 0; i < np; i++)
			pfd[i].revents = 0;
		rx_errq(rn, rn->tx);
		if (rn->flow.raw) {
			rx_raw(rn, rn->rx_icmp, false);
			if (rn->rx_tcp)
				rx_raw(rn, rn->rx_tcp, true);
		} else {
			rx_dgram(rn);
		}
	}
	return 0;
}

static int hops_init(struct run *rn)
{
	unsigned ttl;
	int r;

	for (ttl = 1; ttl <= PP_MAX_TTL; ttl++) {
		struct pp_hop *h = &rn->res->hops[ttl];

		h->ttl = ttl;
		mp_jitter_init(&h->jitter);
		r = mp_stats_new(&h->rtt, STATS_EXACT_CAP);
		if (r < 0)
			return r;
	}
	return 0;
}

int pp_run(const struct pp_opts *o, struct pp_result *res, pp_event_cb cb, void *ctx)
{
	struct run rn = { .o = o, .res = res, .cb = cb, .ctx = ctx, .next_id = 1,
			  .limit = o->max_ttl };
	uint64_t t0;
	int r;

	memset(res, 0, sizeof(*res));
	res->probe = proto_names[o->proto];
	r = hops_init(&rn);
	if (r < 0)
		goto out;
	if (o->all_paths) {
		res->mda = calloc(1, sizeof(*res->mda));
		if (!res->mda) {
			r = -ENOMEM;
			goto out;
		}
		res->mda->confidence_pct = o->all_paths;
	}
	rn.slots = calloc(N_SLOTS, sizeof(*rn.slots));
	rn.txmap = calloc(N_SLOTS, sizeof(*rn.txmap));
	rn.rounds = calloc(ROUNDS_MAX, sizeof(*rn.rounds));
	if (!rn.slots || !rn.txmap || !rn.rounds) {
		r = -ENOMEM;
		goto out;
	}
	r = setup(&rn);
	if (r < 0)
		goto out;
	/* names are a nicety: without a resolver thread, addresses */
	if (!o->numeric && mp_rdns_new(&res->names) < 0)
		res->names = NULL;
	res->start_real_ns = mp_clock_real_ns();
	t0 = mp_clock_mono_ns();
	r = loop(&rn);
	res->duration_ns = mp_clock_mono_ns() - t0;
	/* the report names the hops it can: what is still pending after
	 * this wait is left out (a DNS server that does not answer) */
	mp_rdns_wait(res->names, PP_NAMES_WAIT_NS);
	if (r == 0)
		pp_analyze(res);
out:
	mp_sock_free(rn.tx);
	mp_sock_free(rn.icmp);
	mp_sock_free(rn.tcp);
	free(rn.slots);
	free(rn.txmap);
	free(rn.rounds);
	return r;
}

void pp_result_done(struct pp_result *res)
{
	unsigned ttl;

	for (ttl = 0; ttl <= PP_MAX_TTL; ttl++) {
		mp_stats_free(res->hops[ttl].rtt);
		res->hops[ttl].rtt = NULL;
	}
	mp_rdns_free(res->names);
	res->names = NULL;
	free(res->mda);
	res->mda = NULL;
}
