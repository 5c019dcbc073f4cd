/* SPDX-License-Identifier: MIT */
/*
 * pathping's text for fixed results (tests/golden/run.sh): per hop, the
 * probes sent and answered, each answer's RTT into the hop's lib/stats
 * summary and RFC 3550 jitter, then pp_analyze() (the loss split) and
 * pp_print() with and without --wide. Cases: a 4-hop IPv4 path with a
 * lossy hop and a hop that never answers, a 3-hop IPv6 path with two
 * responders at one hop, a target that is not reached, a remarked DSCP
 * and RFC 4884 extensions.
 */
#include <arpa/inet.h>
#include <stdlib.h>

#include "pathping.h"
#include "golden.h"

enum { ROUNDS = 100 };

#define ROUND_NS (50 * MP_NSEC_PER_MSEC)	/* the default interval */

struct hop_spec {
	const char *addr[2];	/* responders, NULL: none (the hop never answers) */
	unsigned every2;	/* addr[1] answers every every2-th round, 0: never */
	unsigned lost;		/* rounds unanswered, of ROUNDS */
	int64_t rtt_ns;		/* base RTT */
};

/* A fixed wobble of up to 1.5 ms (a small LCG: the same every run). */
static int64_t wobble_ns(unsigned ttl, unsigned round)
{
	uint32_t x = (ttl * 977 + round) * 1103515245U + 12345U;

	return (int64_t)((x >> 8) % 1500) * 1000;
}

/* Fills hop ttl as probe.c would after ROUNDS rounds: the lost rounds
 * spread evenly over the run, the others answered. */
static int hop_fill(struct pp_result *res, unsigned ttl, const struct hop_spec *s)
{
	struct pp_hop *h = &res->hops[ttl];
	int r;

	h->ttl = ttl;
	h->queued = h->sent = ROUNDS;
	mp_jitter_init(&h->jitter);
	r = mp_stats_new(&h->rtt, 4096);
	for (unsigned i = 0; r == 0 && s->addr[0] && i < ROUNDS; i++) {
		int64_t rtt = s->rtt_ns + wobble_ns(ttl, i);
		unsigned k = s->every2 && i % s->every2 == 0;

		if ((i + 1) * s->lost / ROUNDS != i * s->lost / ROUNDS)
			continue;
		if (h->addrs[k].addr.ss_family == 0)
			golden_addr(&h->addrs[k].addr, s->addr[k]);
		h->n_addrs = MP_MAX(h->n_addrs, k + 1);
		h->addrs[k].received++;
		h->received++;
		h->last_rtt_ns = rtt;
		mp_jitter_add(&h->jitter, i * ROUND_NS, i * ROUND_NS + (uint64_t)rtt);
		r = mp_stats_add(h->rtt, rtt);
	}
	return r;
}

static int trace(struct mp_writer *w, bool wide, const char *target, const char *dst,
		 const struct hop_spec *hops, unsigned n, unsigned dest_ttl,
		 void (*dress)(struct pp_result *))
{
	struct pp_result *res = calloc(1, sizeof(*res));
	int r = res ? 0 : -ENOMEM;

	if (r < 0)
		return r;
	golden_addr(&res->dst, dst);
	snprintf(res->dst_str, sizeof(res->dst_str), "%s", dst);
	res->target = target;
	res->probe = "icmp";
	res->raw = true;
	res->dest_ttl = dest_ttl;
	res->rounds = ROUNDS;
	res->start_real_ns = 1700000000ULL * MP_NSEC_PER_SEC;
	res->duration_ns = ROUNDS * ROUND_NS + 412 * MP_NSEC_PER_MSEC;
	for (unsigned ttl = 1; r == 0 && ttl <= n; ttl++)
		r = hop_fill(res, ttl, &hops[ttl - 1]);
	if (r == 0 && dress)
		dress(res);
	if (r == 0) {
		pp_analyze(res);
		r = pp_print(res, w, wide);
	}
	pp_result_done(res);
	free(res);
	return r;
}

/* Hop 2 loses 15 % (10 % of it on the link, carried to the target), hop 3
 * answers nothing (a router that never replies), the target loses 10 %. */
static int c_v4(struct mp_writer *w, bool wide)
{
	static const struct hop_spec hops[] = {
		{ { "192.168.1.1" }, 0, 0, 600000 },
		{ { "100.64.12.1" }, 0, 15, 8200000 },
		{ { NULL }, 0, 0, 0 },
		{ { "198.51.100.20" }, 0, 10, 19400000 },
	};

	return trace(w, wide, "www.example.com", "198.51.100.20", hops, 4, 4, NULL);
}

/* Two responders at hop 2 (ECMP), one in four rounds by the second. */
static int c_v6(struct mp_writer *w, bool wide)
{
	static const struct hop_spec hops[] = {
		{ { "2001:db8:1::1" }, 0, 0, 450000 },
		{ { "2001:db8:ffff:1234:5678:9abc:def0:1", "2001:db8:ffff:1234:5678:9abc:def0:2" },
		  4, 0, 11300000 },
		{ { "2001:db8:20::5" }, 0, 2, 24800000 },
	};

	return trace(w, wide, "v6.example.org", "2001:db8:20::5", hops, 3, 3, NULL);
}

/* Two hops answer, then nothing up to --max-ttl 30. */
static int c_unreachable(struct mp_writer *w, bool wide)
{
	static const struct hop_spec hops[30] = {
		{ { "192.168.1.1" }, 0, 0, 600000 },
		{ { "100.64.12.1" }, 0, 0, 8200000 },
	};

	return trace(w, wide, NULL, "203.0.113.99", hops, 30, 0, NULL);
}

/* --dscp ef; hop 2 an MPLS LSR quoting ef with a two-label stack (RFC
 * 4950), hop 3 quoting cs0 (remarked on the way) with its incoming
 * interface (RFC 5837), the target's echo replies quoting nothing. */
static void mpls_dress(struct pp_result *res)
{
	struct pp_ifinfo *fi;

	res->tos_set = true;
	res->tos = 46 << 2;
	for (unsigned ttl = 1; ttl <= 3; ttl++) {
		res->hops[ttl].quoted = res->hops[ttl].received;
		res->hops[ttl].quoted_tos = ttl < 3 ? 46 << 2 : 0;
		res->hops[ttl].dscp_changed = ttl < 3 ? 0 : res->hops[ttl].received;
	}
	res->hops[2].ext_seen = res->hops[2].received;
	res->hops[2].ext.n_mpls = 2;
	res->hops[2].ext.mpls[0] = (struct pp_mpls){ .label = 24001, .tc = 0, .ttl = 1 };
	res->hops[2].ext.mpls[1] = (struct pp_mpls){ .label = 16, .s = true, .ttl = 1 };
	res->hops[3].ext_seen = res->hops[3].received;
	res->hops[3].ext.n_if = 1;
	fi = &res->hops[3].ext.ifs[0];
	*fi = (struct pp_ifinfo){ .role = PP_IF_IN, .has_index = true, .ifindex = 583,
				  .has_addr = true, .family = AF_INET, .has_name = true,
				  .name = "xe-0/0/1.100", .has_mtu = true, .mtu = 9000 };
	inet_pton(AF_INET, "100.64.23.2", &fi->addr);
}

static int c_mpls(struct mp_writer *w, bool wide)
{
	static const struct hop_spec hops[] = {
		{ { "192.168.1.1" }, 0, 0, 600000 },
		{ { "100.64.12.1" }, 0, 0, 8200000 },
		{ { "100.64.23.2" }, 0, 0, 12100000 },
		{ { "198.51.100.20" }, 0, 0, 19400000 },
	};

	return trace(w, wide, "www.example.com", "198.51.100.20", hops, 4, 4, mpls_dress);
}

static const struct golden_case cases[] = {
	{ "v4", "--wide", c_v4 },
	{ "v6", "--wide", c_v6 },
	{ "unreachable", "--wide", c_unreachable },
	{ "mpls", "--wide", c_mpls },
};

int main(int argc, char **argv)
{
	return golden_main(argc, argv, cases, MP_ARRAY_SIZE(cases), "pathping", "pathping/3");
}
