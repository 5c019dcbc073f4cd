/* SPDX-License-Identifier: MIT */
/*
 * mtufind's text for fixed results (tests/golden/run.sh), rendered by
 * mf_print_path() and mf_print_wg(): an IPv4 path through a 1400-byte
 * link, an IPv6 path into an ICMP black hole, a host that does not answer,
 * and --wg over two peers.
 */
#include <arpa/inet.h>
#include <stdlib.h>

#include "mtufind.h"
#include "golden.h"

/* hops: address (NULL: no answer) and the largest size known to reach it */
static void hops_set(struct mf_path *p, const char *const *addr, const unsigned *mtu, unsigned n)
{
	p->n_hops = n;
	for (unsigned i = 0; i < n; i++) {
		p->hops[i].ttl = i + 1;
		p->hops[i].answered = addr[i] != NULL;
		if (addr[i])
			golden_addr(&p->hops[i].addr, addr[i]);
		p->hops[i].mtu_bytes = mtu[i];
	}
}

/* 192.0.2.1 - 100.64.12.1 =1400= 198.51.100.1 - target: hop 2's outgoing
 * link carries 1400 bytes and says so (frag-needed). */
static void path_v4(struct mf_path *p)
{
	static const char *const addr[] = { "192.168.1.1", "100.64.12.1", "198.51.100.1",
					    "198.51.100.20" };
	static const unsigned mtu[] = { 1500, 1500, 1400, 1400 };

	snprintf(p->target, sizeof(p->target), "%s", "www.example.com");
	golden_addr(&p->addr, "198.51.100.20");
	p->addr_len = sizeof(struct sockaddr_in);
	p->family = AF_INET;
	p->method = MF_METHOD_STAMP;
	p->reachable = true;
	p->pmtu_bytes = 1400;
	p->first_fail_bytes = 1401;
	p->local_mtu_bytes = 1500;
	p->kernel_pmtu_bytes = 1500;
	p->probes = 19;
	p->search_probes = 11;
	p->toobig_msgs = 3;
	p->bottleneck_hop = 2;
	golden_addr(&p->bottleneck_addr, "100.64.12.1");
	hops_set(p, addr, mtu, 4);
	p->rtt_ns = 19400000;
	p->duration_ns = 412600000;
	p->wg_overhead_bytes = 60;
	p->wg_mtu_bytes = 1340;
}

static int c_v4(struct mp_writer *w, bool flag)
{
	struct mf_path *p = calloc(1, sizeof(*p));
	int r;

	(void)flag;
	if (!p)
		return -ENOMEM;
	path_v4(p);
	r = mf_print_path(w, p);
	free(p);
	return r;
}

/* IPv6: sizes above 1420 vanish past hop 2 without a Packet Too Big, and
 * ICMPv6 echo agrees; hop 3 never answers. */
static int c_blackhole(struct mp_writer *w, bool flag)
{
	static const char *const addr[] = { "2001:db8:1::1", "2001:db8:ffff:1234:5678:9abc:def0:1",
					    NULL, "2001:db8:20::5" };
	static const unsigned mtu[] = { 1500, 1500, 0, 1420 };
	struct mf_path *p = calloc(1, sizeof(*p));
	int r;

	(void)flag;
	if (!p)
		return -ENOMEM;
	snprintf(p->target, sizeof(p->target), "%s", "2001:db8:20::5");
	golden_addr(&p->addr, "2001:db8:20::5");
	p->addr_len = sizeof(struct sockaddr_in6);
	p->family = AF_INET6;
	p->method = MF_METHOD_STAMP;
	p->reachable = true;
	p->pmtu_bytes = 1420;
	p->first_fail_bytes = 1421;
	p->local_mtu_bytes = 1500;
	p->kernel_pmtu_bytes = 1500;
	p->probes = 41;
	p->search_probes = 33;
	p->lost_tries = 21;
	p->blackhole = true;
	p->blackhole_confirmed = true;
	p->bottleneck_hop = 2;
	p->blackhole_hop = 2;
	golden_addr(&p->bottleneck_addr, "2001:db8:ffff:1234:5678:9abc:def0:1");
	hops_set(p, addr, mtu, 4);
	p->rtt_ns = 24800000;
	p->duration_ns = 2871000000;
	p->wg_overhead_bytes = 80;
	p->wg_mtu_bytes = 1340;
	r = mf_print_path(w, p);
	free(p);
	return r;
}

/* Nothing answers: neither the reflector nor ICMP echo. */
static int c_noanswer(struct mp_writer *w, bool flag)
{
	struct mf_path *p = calloc(1, sizeof(*p));
	int r;

	(void)flag;
	if (!p)
		return -ENOMEM;
	snprintf(p->target, sizeof(p->target), "%s", "203.0.113.99");
	golden_addr(&p->addr, "203.0.113.99");
	p->addr_len = sizeof(struct sockaddr_in);
	p->family = AF_INET;
	p->method = MF_METHOD_ICMP;
	p->error = -ETIMEDOUT;
	p->local_mtu_bytes = 1500;
	p->kernel_pmtu_bytes = 1500;
	p->probes = 6;
	p->search_probes = 6;
	p->lost_tries = 6;
	p->duration_ns = 6000000000;
	r = mf_print_path(w, p);
	free(p);
	return r;
}

/* --wg wg0: two peers probed over their endpoints, the recommendation
 * applied. */
static int c_wg(struct mp_writer *w, bool flag)
{
	static char keys[2][48] = { "xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg=",
				    "TrMvSoP4jYQlY6RIzBgbssQqY3vxI2Pi+y71lOWWXX0=" };
	uint64_t now = 1700000000ULL * MP_NSEC_PER_SEC;
	uint64_t hs[2] = { now - 42 * MP_NSEC_PER_SEC, 0 };
	struct mf_path *p = calloc(2, sizeof(*p));
	struct mf_wg_result res = {
		.ifname = "wg0", .carries_ipv6 = true, .old_mtu_bytes = 1420,
		.new_mtu_bytes = 1340, .applied = true, .wg_mtu_bytes = 1340, .n_peers = 3,
		.n_probed = 2, .paths = p, .peer_keys = keys, .last_handshake_ns = hs,
		.read_real_ns = now,
	};
	int r;

	(void)flag;
	if (!p)
		return -ENOMEM;
	path_v4(&p[0]);
	snprintf(p[0].target, sizeof(p[0].target), "%s", "198.51.100.20:51820");
	snprintf(p[1].target, sizeof(p[1].target), "%s", "[2001:db8:30::7]:51820");
	golden_addr(&p[1].addr, "2001:db8:30::7");
	p[1].family = AF_INET6;
	p[1].method = MF_METHOD_ICMP;
	p[1].reachable = true;
	p[1].pmtu_bytes = 1500;
	p[1].local_mtu_bytes = 1500;
	p[1].kernel_pmtu_bytes = 1500;
	p[1].probes = 12;
	p[1].search_probes = 12;
	p[1].rtt_ns = 31200000;
	p[1].duration_ns = 388000000;
	p[1].wg_overhead_bytes = 80;
	p[1].wg_mtu_bytes = 1420;
	r = mf_print_wg(w, &res);
	free(p);
	return r;
}

static const struct golden_case cases[] = {
	{ "v4", NULL, c_v4 },
	{ "blackhole", NULL, c_blackhole },
	{ "noanswer", NULL, c_noanswer },
	{ "wg", NULL, c_wg },
};

int main(int argc, char **argv)
{
	return golden_main(argc, argv, cases, MP_ARRAY_SIZE(cases), "mtufind", "mtufind/2");
}
