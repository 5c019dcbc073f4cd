/* SPDX-License-Identifier: MIT */
/*
 * mtufind: options and results shared by the tool's files. main.c parses
 * options, probe.c measures one path, reply.c recognises replies and quoted
 * errors, wgmode.c reads a WireGuard interface and applies an MTU, sweep.c
 * sweeps MTUs (remote.c drives the peer's `mtufind -s`, server.c, over the
 * messages of ctl.c), state.c keeps original MTUs on disk, print.c
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
#include "run.h"

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
	MF_IPV6_MIN_MTU = 1280,		/* RFC 8200 */
	MF_IPV4_MIN_MTU = 68,		/* RFC 791 */
};

/* Defaults of the adaptive per-try timeout (4 RTT, within these bounds). */
#define MF_TIMEOUT_MIN_NS (50 * MP_NSEC_PER_MSEC)
#define MF_TIMEOUT_MAX_NS (1000 * MP_NSEC_PER_MSEC)
#define MF_TIMEOUT_FIRST_NS (1000 * MP_NSEC_PER_MSEC)

/* mtufind -s: a session ends after this much silence from its controller. */
#define MF_IDLE_DEFAULT_NS (10 * MP_NSEC_PER_SEC)

/* State files (state.c): the original MTU while it is changed. */
#define MF_STATE_DIR "/run/meshperf"

struct mf_opts {
	const char *target;		/* HOST, NULL in --wg and -s modes */
	struct mp_run_opts run;		/* HOST..., --targets, --textfile */
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
	bool server;			/* -s: the peer side of a 2-D sweep */
	bool port_set;			/* -p given (-s: else MF_CTL_PORT) */
	const char *key_file;		/* -k: pre-shared key (-s) */
	uint64_t idle_ns;		/* -s: controller silence that ends a session */
	const char *state;		/* -s: state file, NULL: the default */
	bool restore;			/* -s --restore: recover and exit */
};

#define MF_OPTS_INIT {					\
	.family = AF_UNSPEC,				\
	.port = 862,					\
	.method = MF_METHOD_AUTO,			\
	.retries = MF_RETRIES_DEFAULT,			\
	.max_hops = MF_MAX_HOPS_DEFAULT,		\
	.format = MP_FMT_TEXT,				\
	.idle_ns = MF_IDLE_DEFAULT_NS,			\
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
	bool blackhole_confirmed;		/* ... and ICMP echo agrees (echo of the path
						 * MTU answered, of that size not), or the
						 * search was by ICMP echo */
	unsigned reflector_max_bytes;		/* the reflector went silent above this size
						 * while ICMP echo carried larger ones: its
						 * own limit; 0 = none seen */
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

/* Prometheus HELP of every mode's series. */
extern const struct mp_prom_help mf_prom_help[];
extern volatile sig_atomic_t mf_stop;	/* set by SIGINT / SIGTERM */

/* probe.c: search the PMTU of the path to p->target (filled: target).
 * Returns 0 (p->error tells whether the path answered), or -errno on a
 * setup error (socket, resolution). */
int mf_path_run(const struct mf_opts *o, struct mf_path *p);

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

/* mtufind -s: what happened to the tunnel (one output record each). */
struct mf_srv_event {
	const char *event;			/* set, end, timeout, signal, recovered,
						 * busy, failed */
	char peer[MP_ADDR_PORT_STRLEN];		/* the controller's address:port, "" if none */
	char session[17];			/* its session id's first 8 octets, hex */
	unsigned mtu_bytes;			/* the MTU read back after the change */
	int error;				/* 0, or -errno of a refused change */
};

/* mtufind -s: counters and the interface at the end. */
struct mf_srv_result {
	char ifname[16];			/* --wg */
	uint16_t port;				/* UDP port served */
	unsigned original_mtu_bytes;		/* before any session changed it */
	unsigned mtu_bytes;			/* at exit */
	bool restored;				/* mtu_bytes == original at exit */
	unsigned recovered_mtu_bytes;		/* put back from a state file at start, 0 */
	uint64_t received;			/* datagrams read */
	uint64_t sessions;			/* sessions that held the tunnel */
	uint64_t changes;			/* MTU changes made (sets, restores) */
	uint64_t dropped_ratelimit;		/* before anything else, per source */
	uint64_t dropped_malformed;		/* not a control message */
	uint64_t dropped_auth;			/* wrong HMAC */
	uint64_t dropped_replay;		/* sequence number not above the last */
	uint64_t no_session;			/* signed, for no live session: refused */
	uint64_t busy;				/* another controller held the tunnel */
	uint64_t send_errors;
	uint64_t duration_ns;
};

typedef void (*mf_srv_event_fn)(const struct mf_srv_event *ev, void *arg);

/* server.c: serve until SIGINT/SIGTERM; every change is reported to fn.
 * Returns 0, or -errno (setup); res filled either way. */
int mf_server_run(const struct mf_opts *o, mf_srv_event_fn fn, void *arg,
		  struct mf_srv_result *res);

/* state.c: write "IFNAME MTU" to path atomically. Returns 0, or -errno. */
int mf_state_write(const char *path, const char *ifname, unsigned mtu);
/* Put back the MTU path names, remove path; *ret_mtu and ifname (len
 * octets) set on success. Returns 0, or -errno (-ENOENT: no file). */
int mf_state_restore(const char *path, unsigned *ret_mtu, char *ifname, size_t len);
/* Before an original MTU is recorded: a state file left for ifname by a
 * killed run is applied first (its MTU is the true original). Returns 1
 * (*ret_mtu set: applied and removed), 0 (none), -EEXIST (the file names
 * another interface), or -errno. */
int mf_state_recover(const char *path, const char *ifname, unsigned *ret_mtu);
/* Parse a state file's len octets (untrusted: fuzzed): exactly the line
 * mf_state_write writes. Returns 0 (name, *ret_mtu set), or -EBADMSG. */
int mf_state_parse(const char *buf, size_t len, char name[16], unsigned *ret_mtu);
/* Hold path's lock (path.lock, flock) for as long as *ret_fd is open: a
 * state file whose lock is held belongs to a live run, not a killed one.
 * Returns 0, or -errno (-EBUSY: another process holds it). */
int mf_state_lock(const char *path, int *ret_fd);
/* What a state file error means, for a message (a constant string). */
const char *mf_state_strerror(int r);

/* iperf.c: the figures of one iperf3 --bidir -J run (bit/s). */
struct mf_iperf {
	double up_rcv_bps, up_send_bps;		/* local to peer: received, sent */
	double down_rcv_bps, down_send_bps;	/* peer to local */
	unsigned retransmits;			/* TCP retransmissions, both ways */
};

/* Parse iperf3's JSON (len octets; untrusted: fuzzed). Returns 0 (*ret
 * set), or -EBADMSG when it is not JSON or lacks a finite, non-negative
 * end sum. */
int mf_iperf_parse(const char *buf, size_t len, struct mf_iperf *ret);

/* remote.c: the controller of a peer's MTU (mtufind -s at addr). */
struct mf_remote;
/* Load the key, open a socket to addr. Returns 0, or -errno; *ret set. */
int mf_remote_open(struct mf_remote **ret, const char *key_file,
		   const struct sockaddr_storage *addr, socklen_t addr_len);
void mf_remote_free(struct mf_remote *rc);
/* A session offered; *ret_mtu: the peer's MTU now (another session may
 * have changed it). -ETIMEDOUT: no (signed) answer, -ECONNREFUSED: nothing
 * listens. */
int mf_remote_hello(struct mf_remote *rc, unsigned *ret_mtu);
/* Take the offered session: *ret_mtu: the peer's MTU then, its original.
 * -EBUSY: another controller holds the interface (a HELLO again, later). */
int mf_remote_claim(struct mf_remote *rc, unsigned *ret_mtu);
/* The peer's idle timeout (from its HELLO answer), ns. */
uint64_t mf_remote_idle_ns(const struct mf_remote *rc);
/* Set the peer's MTU; *ret_mtu: as its kernel reports it, once in place.
 * Returns 0, or -errno (-ENOLINK: the session is gone, -ERANGE: refused,
 * the kernel's errno). */
int mf_remote_set(struct mf_remote *rc, unsigned mtu, unsigned *ret_mtu);
/* End the session: the peer restores its original; *ret_mtu: its MTU after. */
int mf_remote_end(struct mf_remote *rc, unsigned *ret_mtu);
/* Keep the session alive (call often; sends when due). NULL: no-op.
 * Returns 0, or -errno (-ENOLINK: the session is gone). */
int mf_remote_tick(struct mf_remote *rc);

/* wgmode.c: the interface has a global IPv6 address (an MTU below 1280
 * would make the kernel delete its IPv6 addresses). */
struct mp_nl;
int mf_if_has_ipv6(struct mp_nl *nl, int ifindex, bool *ret);

/* sweep.c: `mtufind sweep ...` (argv[0] is "sweep"). Returns the exit status. */
int mf_sweep_main(int argc, char **argv);

/* wgmode.c */
int mf_wg_run(const struct mf_opts *o, struct mf_wg_result *res);
void mf_wg_result_done(struct mf_wg_result *res);

/* print.c */
int mf_print_path(struct mp_writer *w, const struct mf_path *p);
int mf_print_wg(struct mp_writer *w, const struct mf_wg_result *res);
int mf_print_srv_event(struct mp_writer *w, const struct mf_srv_event *ev);
int mf_print_srv(struct mp_writer *w, const struct mf_srv_result *res);
const char *mf_method_name(enum mf_method m);

#endif
