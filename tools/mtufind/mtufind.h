/* SPDX-License-Identifier: MIT */
/*
 * mtufind: options and results shared by the tool's files. main.c parses
 * options, probe.c measures one path, reply.c recognises replies and quoted
 * errors, wgmode.c reads a WireGuard interface and applies an MTU, print.c
 * renders. The STAMP reflector is `owd -s` (lib/responder).
 */
#ifndef MTUFIND_H
#define MTUFIND_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "args.h"
#include "mp.h"
#include "out.h"

enum mf_method {
	MF_METHOD_AUTO,		/* STAMP reflector if it answers, else ICMP echo */
	MF_METHOD_STAMP,	/* padded STAMP test packets to --port */
	MF_METHOD_ICMP,		/* ICMP / ICMPv6 echo */
};

enum {
	MF_HOPS_MAX = 64,		/* hops walked at most */
	MF_PEERS_MAX = 256,		/* peers of one interface probed at most */
	MF_RETRIES_DEFAULT = 3,		/* tries per size before it counts as lost */
	MF_MAX_HOPS_DEFAULT = 30,	/* TTL limit of the hop walk */
	MF_WG_OVERHEAD4 = 60,		/* WireGuard over IPv4: IP 20 + UDP 8 + WG 32 */
	MF_WG_OVERHEAD6 = 80,		/* WireGuard over IPv6: IP 40 + UDP 8 + WG 32 */
	MF_IPV6_MIN_MTU = 1280,		/* RFC 8200 */
	MF_IPV4_MIN_MTU = 68,		/* RFC 791 */
};

/* Defaults of the adaptive per-try timeout (4 RTT, within these bounds). */
#define MF_TIMEOUT_MIN_NS (50 * MP_NSEC_PER_MSEC)
#define MF_TIMEOUT_MAX_NS (1000 * MP_NSEC_PER_MSEC)
#define MF_TIMEOUT_FIRST_NS (1000 * MP_NSEC_PER_MSEC)

struct mf_opts {
	const char *target;		/* HOST, NULL in --wg and -s modes */
	int family;			/* AF_UNSPEC, AF_INET, AF_INET6 */
	uint16_t port;			/* STAMP reflector port */
	enum mf_method method;		/* how sizes are confirmed */
	unsigned retries;		/* tries per size */
	uint64_t timeout_ns;		/* per try; 0: adaptive */
	unsigned max_hops;		/* TTL limit of the hop walk */
	bool no_hops;			/* skip the hop walk */
	unsigned max_bytes;		/* largest size tried; 0: the egress link MTU */
	const char *ifname;		/* -I: bind to this interface */
	enum mp_format format;		/* output format */
	const char *wg_ifname;		/* --wg IFACE */
	bool apply;			/* --apply: set the recommended MTU */
	const char *uapi_dir;		/* --uapi-dir (tests), NULL: /run/wireguard */
	bool quiet;			/* -q */
	bool verbose;			/* -v: progress on stderr */
};

#define MF_OPTS_INIT {					\
	.family = AF_UNSPEC,				\
	.port = 862,					\
	.method = MF_METHOD_AUTO,			\
	.retries = MF_RETRIES_DEFAULT,			\
	.max_hops = MF_MAX_HOPS_DEFAULT,		\
	.format = MP_FMT_TEXT,				\
}

struct mf_hop {
	unsigned ttl;				/* hop number (TTL / hop limit used) */
	bool answered;				/* someone answered at this TTL */
	struct sockaddr_storage addr;		/* who answered (time exceeded, or the
						 * target's reply) */
	unsigned mtu_bytes;			/* PMTU from us to this hop: the largest
						 * probe known to reach it */
};

/* The result for one path (HOST, or one WireGuard endpoint). */
struct mf_path {
	char target[256];			/* as given */
	struct sockaddr_storage addr;		/* resolved address */
	socklen_t addr_len;
	int family;				/* AF_INET or AF_INET6 */
	enum mf_method method;			/* the method actually used */
	int error;				/* 0, or -errno why the search failed */
	bool reachable;				/* some probe was answered */
	unsigned pmtu_bytes;			/* largest size confirmed (IP total length) */
	unsigned first_fail_bytes;		/* smallest size that failed, 0 = none */
	unsigned local_mtu_bytes;		/* MTU of the egress interface */
	unsigned kernel_pmtu_bytes;		/* the kernel's cached PMTU when we began */
	unsigned probes;			/* packets sent: search + hop walk */
	unsigned search_probes;			/* of which for the size search */
	unsigned toobig_msgs;			/* frag-needed / PTB received for our probes */
	unsigned lost_tries;			/* tries that got no answer at all */
	bool blackhole;				/* the too-big size vanished without ICMP */
	unsigned bottleneck_hop;		/* TTL of the hop whose outgoing link is the
						 * narrowest, 0 = unknown / none */
	unsigned blackhole_hop;			/* = bottleneck_hop in a black hole, else 0 */
	struct sockaddr_storage bottleneck_addr; /* that hop's address, family 0 = none */
	struct mf_hop hops[MF_HOPS_MAX];	/* hops walked, ttl 1.. */
	unsigned n_hops;
	uint64_t rtt_ns;			/* smallest RTT seen, 0 if none */
	uint64_t duration_ns;			/* time the search took */
	unsigned wg_overhead_bytes;		/* 60 (IPv4 outer) or 80 (IPv6) */
	unsigned wg_mtu_bytes;			/* recommended WireGuard MTU */
	bool wg_mtu_raised;			/* raised to 1280 for IPv6 inside: the
						 * outer path cannot carry it unfragmented */
};

/* --wg mode. */
struct mf_wg_result {
	char ifname[16];			/* the interface */
	bool carries_ipv6;			/* it has an IPv6 address */
	unsigned old_mtu_bytes;			/* its MTU before --apply */
	unsigned new_mtu_bytes;			/* its MTU after --apply (= old without) */
	bool applied;				/* --apply changed it */
	unsigned wg_mtu_bytes;			/* recommendation: min over the peers */
	bool wg_mtu_raised;			/* raised to 1280 (see mf_path) */
	unsigned n_peers;			/* peers of the interface */
	unsigned n_probed;			/* peers with an endpoint, probed */
	struct mf_path *paths;			/* n_probed results */
	char (*peer_keys)[48];			/* base64 public keys, n_probed */
	uint64_t *last_handshake_ns;		/* per probed peer, 0 = never */
	uint64_t read_real_ns;			/* CLOCK_REALTIME when the peers were read */
};

extern volatile sig_atomic_t mf_stop;	/* set by SIGINT / SIGTERM */

/* probe.c: search the PMTU of the path to p->target (filled: target).
 * Returns 0 (p->error tells whether the path answered), or -errno on a
 * setup error (socket, resolution). */
int mf_path_run(const struct mf_opts *o, struct mf_path *p);

/* The WireGuard recommendation for a path MTU over an outer family. */
void mf_wg_recommend(unsigned pmtu_bytes, int outer_family, bool carries_ipv6,
		     unsigned *ret_mtu, bool *ret_raised);

/* A burst of DF echo probes of one size (mtufind sweep). */
struct mf_burst_result {
	unsigned sent;			/* probes sent */
	unsigned received;		/* answered at full size */
	unsigned toobig;		/* refused as too big (locally or by a router) */
	uint64_t rtt_sum_ns;		/* sum of the answered probes' RTTs */
};

#define MF_BURST_TIMEOUT_NS (100 * MP_NSEC_PER_MSEC)

/* probe.c: count ICMP echo probes of size bytes (IP total length, DF) to
 * dst, one at a time, each waited for o->timeout_ns (0: 100 ms).
 * Returns 0, or -errno; *ret set on success. */
int mf_burst(const struct mf_opts *o, const struct sockaddr_storage *dst, socklen_t dst_len,
	     unsigned size, unsigned count, struct mf_burst_result *ret);

/* sweep.c: `mtufind sweep ...` (argv[0] is "sweep"). Returns the exit status. */
int mf_sweep_main(int argc, char **argv);

/* wgmode.c */
int mf_wg_run(const struct mf_opts *o, struct mf_wg_result *res);
void mf_wg_result_done(struct mf_wg_result *res);

/* print.c */
int mf_print_path(struct mp_writer *w, const struct mf_path *p);
int mf_print_wg(struct mp_writer *w, const struct mf_wg_result *res);
const char *mf_method_name(enum mf_method m);

#endif
