/* SPDX-License-Identifier: MIT */
/*
 * pathping: hop-by-hop latency and loss, with the loss split into what a
 * node drops of its own replies and what a link drops of the traffic.
 * Shared by the tool's files: options, probe wire format, results.
 */
#ifndef PATHPING_H
#define PATHPING_H

#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <inttypes.h>
#include <stdint.h>
#include <sys/socket.h>

#include "ctl.h"
#include "nl.h"
#include "out.h"
#include "rdns.h"
#include "stats.h"
#include "run.h"

enum pp_proto {
	PP_ICMP,	/* ICMP / ICMPv6 echo request */
	PP_UDP,		/* UDP to a constant port */
	PP_TCP,		/* TCP SYN to a constant port */
};

enum {
	PP_MAX_TTL = 64,		/* largest --max-ttl */
	PP_ADDRS_MAX = 8,		/* responders listed per hop; more are counted "other" */
	PP_PAYLOAD_BYTES = 36,		/* ICMP/UDP probe payload: a 64-byte IPv4 packet */
	PP_PKT_MAX = 1500,		/* largest probe or reply handled */
	PP_DPORT_UDP = 33434,		/* default UDP destination port (traceroute's) */
	PP_DPORT_TCP = 80,		/* default TCP destination port */
	PP_MDA_FLOWS_MAX = 512,		/* --all-paths: flows tried at most */
	PP_PARALLEL_DEFAULT = 8,	/* several hosts: traced at once, up to this many */
	PP_MPLS_MAX = 8,		/* MPLS label stack entries kept per reply */
	PP_IFINFO_MAX = 4,		/* RFC 5837 interface objects kept per reply */
	PP_IFNAME_MAX = 64,		/* RFC 5837: a name of up to 63 octets */
	/*
	 * rate-limit detector: last probes looked at, and how many of them
	 * must be node losses. 6 of 8 flagged random path loss: at 10 % per
	 * direction a round is a node loss at hop 2 with p = 0.19 * 0.81,
	 * and 6 of 8 came up in about one CI run of six. 14 of 16 has a
	 * chance of 4e-10 per window there; a kernel-limited router (0-8 of
	 * 200 answered, LAB-NOTES) still trips it within 16 probes.
	 */
	PP_RL_WINDOW = 16,
	PP_RL_NODE_LOST = 14,
	PP_RL_BURST = 2,		/* ... after at least this many answered first */
};

/* Defaults, ns. */
#define PP_INTERVAL_NS (50 * MP_NSEC_PER_MSEC)
#define PP_TIMEOUT_MAX_NS (2 * MP_NSEC_PER_SEC)
#define PP_TIMEOUT_MIN_NS (100 * MP_NSEC_PER_MSEC)
#define PP_RL_GAP_NS (1 * MP_NSEC_PER_SEC)
#define PP_NAMES_WAIT_NS (1 * MP_NSEC_PER_SEC)	/* for hop names after the last round */

struct pp_opts {
	const char *target;		/* host name or address as given */
	struct mp_run_opts run;		/* HOST..., --targets, --textfile */
	struct mp_writer *w;		/* main's writer, for each target */
	bool multi;			/* more than one HOST (or a stream) */
	int family;			/* AF_UNSPEC, AF_INET, AF_INET6 */
	enum pp_proto proto;		/* probe type */
	uint16_t dport;			/* UDP/TCP destination port, 0: default */
	uint64_t count;			/* probes per hop; 0: until stopped */
	uint64_t interval_ns;		/* between probe rounds */
	uint64_t duration_ns;		/* run length, 0: by count */
	uint64_t timeout_ns;		/* reply timeout, 0: adaptive */
	unsigned max_ttl;		/* last TTL probed */
	const char *ifname;		/* -I, NULL: any */
	const char *plot;		/* --plot PNG, NULL: none */
	enum mp_format format;		/* -f */
	bool quiet;			/* -q: no diagnostics (overrides -v) */
	bool verbose;			/* -v: run diagnostics on stderr */
	bool wide;			/* --wide: every column in text */
	int tos;			/* --tos / --dscp: TOS / traffic class byte, -1: unset */
	bool numeric;			/* -n: no reverse DNS names */
	bool live;			/* --live: the live view also with a count */
	unsigned all_paths;		/* --all-paths: MDA at this confidence (%), 0: one flow */
	uint16_t flow;			/* --flow: source port / ICMP identifier, 0: random */
	int via;			/* --via SITE: meshctl's path to it, -1: none */
	const char *ctl;		/* --ctl: meshctl's control socket */
	struct pp_via *mesh;		/* --via: what meshctl said (main's) */
};

#define PP_OPTS_INIT { .family = AF_UNSPEC, .proto = PP_ICMP, .count = 10, \
		       .interval_ns = PP_INTERVAL_NS, .max_ttl = 30, .format = MP_FMT_TEXT, \
		       .tos = -1, .via = -1, .ctl = MP_CTL_PATH }

/* ---- wire: probes and replies (packet.c; no lib dependency, fuzzed) ---- */

/* The flow every probe of a run belongs to, and what replies must quote. */
struct pp_flow {
	int family;			/* AF_INET or AF_INET6 */
	enum pp_proto proto;
	bool raw;			/* raw sockets (else datagram: the kernel adds headers) */
	struct in6_addr src;		/* our address (IPv4: first 4 bytes) */
	struct in6_addr dst;		/* the target (IPv4: first 4 bytes) */
	uint16_t ident;			/* ICMP identifier (network order value) */
	uint16_t sport;			/* UDP/TCP source port */
	uint16_t dport;			/* UDP/TCP destination port */
	uint32_t tcp_seq0;		/* TCP: sequence number of probe id 0 */
	uint8_t tos;			/* raw IPv4: the TOS byte of the header we build */
	uint16_t sport_base;		/* --all-paths: replies from sport_base ..
					 * sport_base + span - 1 are ours too (rounds
					 * overlap; the probe id tells which) */
	uint16_t sport_span;
};

enum pp_reply_kind {
	PP_REPLY_TTL = 1,	/* time exceeded in transit: a hop */
	PP_REPLY_UNREACH,	/* destination unreachable (port unreachable from the target) */
	PP_REPLY_ECHO,		/* echo reply: the target */
	PP_REPLY_TCP,		/* SYN-ACK or RST: the target */
	PP_REPLY_OTHER,		/* another ICMP error quoting a probe (parameter problem...) */
};

/* RFC 4950: one label stack entry. */
struct pp_mpls {
	uint32_t label;			/* 20 bits */
	uint8_t tc;			/* traffic class, 3 bits */
	bool s;				/* bottom of stack */
	uint8_t ttl;
};

/* RFC 5837 interface roles (the c-type's top two bits). */
enum pp_if_role {
	PP_IF_IN,			/* the interface the probe came in on */
	PP_IF_IN_SUB,			/* a sub-IP component of it */
	PP_IF_OUT,			/* the interface it would have left by */
	PP_IF_NEXTHOP,			/* the IP next hop */
};

/* RFC 5837: one interface information object; each part is optional. */
struct pp_ifinfo {
	uint8_t role;			/* enum pp_if_role */
	bool has_index, has_addr, has_name, has_mtu;
	uint32_t ifindex;
	int family;			/* of addr: AF_INET or AF_INET6 */
	struct in6_addr addr;		/* IPv4 in the first 4 bytes */
	char name[PP_IFNAME_MAX];	/* NUL-terminated, control octets replaced */
	uint32_t mtu;
};

/* What an RFC 4884 extension structure said. */
struct pp_ext {
	unsigned n_mpls;
	struct pp_mpls mpls[PP_MPLS_MAX];
	unsigned n_if;
	struct pp_ifinfo ifs[PP_IFINFO_MAX];
	unsigned skipped;		/* objects of other classes, or beyond the arrays */
};

struct pp_reply {
	enum pp_reply_kind kind;	/* what came back */
	uint8_t type;			/* ICMP type (0 for TCP) */
	uint8_t code;			/* ICMP code */
	uint16_t id;			/* probe id */
	bool from_src_known;		/* from holds the sender (IPv4 raw: from the header) */
	struct in6_addr from;		/* sender, IPv4 in the first 4 bytes */
	size_t ext_offset;		/* RFC 4884: offset of the extension structure in
					 * the ICMP message, 0 if none */
	bool ext_bad;			/* ... which was malformed, and is ignored */
	struct pp_ext ext;		/* ... parsed, when there and well-formed */
	bool quoted;			/* an ICMP error quoting the probe's IP header */
	uint8_t quoted_tos;		/* ... whose TOS / traffic class byte this was */
};

/*
 * Parses an RFC 4884 extension structure of len bytes (version 2, checksum
 * verified unless zero; RFC 4950 MPLS label stacks and RFC 5837 interface
 * information). Returns 0 with *ret filled, or -EINVAL when malformed.
 */
int pp_ext_parse(const uint8_t *buf, size_t len, struct pp_ext *ret);

/*
 * Builds probe id with the given TTL into buf (len bytes). Raw IPv4: the IP
 * header and what follows; raw IPv6: the transport header on; datagram:
 * what the socket takes (ICMP header on, or the UDP payload). The flow
 * identifier (addresses, ports / ICMP identifier, protocol, and the ICMP and
 * UDP checksums) is the same for every id. Returns the length, or -ENOSPC.
 */
int pp_probe_build(const struct pp_flow *f, uint16_t id, uint8_t ttl, uint8_t *buf, size_t len);

/*
 * Parses a packet read from a raw socket: IPv4 with its IP header (ICMP or
 * TCP socket), IPv6 without it (an ICMPv6 message, or a TCP segment with
 * from/tcp set by the caller). is_tcp: the packet came from the TCP socket.
 * Returns 0 with *ret filled when it answers one of f's probes, -ENOENT when
 * it is not ours, -EINVAL when malformed.
 */
int pp_reply_parse(const struct pp_flow *f, bool is_tcp, const uint8_t *buf, size_t len,
		   struct pp_reply *ret);

/*
 * Datagram sockets: the probe id in what the kernel hands back. quote is
 * the error queue's payload of an ICMP error (ping socket: the ICMP header
 * of the probe on; UDP: the probe's UDP payload), or an echo reply read
 * from a ping socket (ICMP header on). Returns 0 with *ret_id set, or
 * -ENOENT / -EINVAL.
 */
int pp_dgram_id(const struct pp_flow *f, bool echo_reply, const uint8_t *buf, size_t len,
		uint16_t *ret_id);

/*
 * A classic BPF program for a receiving raw socket of f (the ICMP socket,
 * or with tcp_sock the TCP one), so that the kernel hands it only what
 * answers f: echo replies with f's identifier, ICMP errors quoting a probe
 * of f's protocol with f's identifier or source port (the --all-paths
 * range), TCP segments to that port. Every other packet stays in the
 * kernel: several runs at once (--parallel) no longer read each other's
 * replies. Offsets as pp_reply_parse() reads them. Returns the program's
 * length (at most PP_FILTER_MAX), or -EINVAL.
 */
#define PP_FILTER_MAX 32
struct sock_filter;
int pp_flow_filter(const struct pp_flow *f, bool tcp_sock, struct sock_filter *prog);

/* One's-complement Internet checksum of buf, folded, not inverted, added to sum. */
uint32_t pp_csum_add(uint32_t sum, const uint8_t *buf, size_t len);
uint16_t pp_csum_fold(uint32_t sum);

/* ---- results ---- */

struct pp_responder {
	struct sockaddr_storage addr;	/* who answered */
	uint64_t received;		/* replies from it */
};

/* Per-hop accumulation while probing (probe.c) and the summary (analyze.c). */
struct pp_hop {
	unsigned ttl;			/* TTL / hop limit of its probes */
	uint64_t queued;		/* probes sent, including unresolved ones */
	uint64_t sent;			/* probes resolved (answered or timed out) */
	uint64_t received;		/* answered */
	uint64_t node_lost_rounds;	/* lost while a deeper probe of its round answered */
	struct mp_stats *rtt;		/* RTT samples, ns */
	struct mp_jitter jitter;	/* RFC 3550 over replies in arrival order */
	int64_t last_rtt_ns;		/* latest RTT */
	struct pp_responder addrs[PP_ADDRS_MAX]; /* most frequent responders */
	unsigned n_addrs;		/* entries used */
	uint64_t other_received;	/* replies from responders beyond PP_ADDRS_MAX */
	bool reached;			/* the target itself answered at this TTL */
	/* what its routers quoted of the probes (raw sockets) and told in
	 * RFC 4884 extensions */
	uint64_t quoted;		/* replies quoting the probe's IP header */
	uint64_t dscp_changed;		/* ... with a DSCP other than the one sent */
	uint8_t quoted_tos;		/* the latest quote's TOS / traffic class byte */
	uint64_t ext_seen;		/* replies with an extension structure */
	uint64_t ext_bad;		/* ... malformed, ignored */
	struct pp_ext ext;		/* the latest well-formed one */
	/* --all-paths: per responder, what followed it one TTL on */
	uint8_t succ[PP_ADDRS_MAX];	/* bit j: addrs[j] of the next hop answered a flow
					 * that went through it */
	uint32_t next_probed[PP_ADDRS_MAX]; /* flows through it answered one TTL on */
	uint32_t next_lost[PP_ADDRS_MAX]; /* ... unanswered one TTL on */
	/* pacing and rate-limit detection */
	uint64_t history;		/* last outcomes, 2 bits each (enum pp_outcome) */
	unsigned history_n;		/* outcomes in history, <= PP_RL_WINDOW */
	uint64_t answered_first;	/* answers before the first node loss */
	bool node_lost_seen;		/* a node loss happened */
	bool ratelimited;		/* rate limiting detected (sticky) */
	uint64_t gap_ns;		/* least time between its probes */
	uint64_t next_mono_ns;		/* next probe not before this */
	/* summary, by pp_analyze() */
	double loss_pct;		/* 100 * (sent - received) / sent */
	double node_loss_pct;		/* loss_pct - carried loss */
	double link_loss_pct;		/* carried loss here - carried loss one hop before */
};

enum pp_outcome {
	PP_OUT_ANSWERED = 1,	/* the hop answered */
	PP_OUT_NODE_LOST,	/* no answer, but a deeper probe of the round did */
	PP_OUT_LOST,		/* no answer, and nothing deeper answered */
};

/* --all-paths: one flow (a round's source port) and the responder it met per TTL. */
struct pp_mda_flow {
	int8_t at[PP_MAX_TTL + 1];	/* index into hops[ttl].addrs, -1: no answer,
					 * -2: a responder beyond PP_ADDRS_MAX */
	int64_t rtt_ns;			/* RTT at the last TTL it answered */
	uint8_t last_ttl;		/* that TTL, 0: none */
	uint8_t sent, received;		/* its probes, and those answered */
};

/* --all-paths: the flows that met the same responders at every TTL where
 * both answered (a lost probe does not make a path of its own). */
struct pp_mda_path {
	int8_t at[PP_MAX_TTL + 1];	/* the responder per TTL, as in pp_mda_flow */
	uint8_t last_ttl;		/* the deepest TTL its flows answered at */
	unsigned flows;			/* flows that took it */
	uint64_t sent, received;	/* their probes, and those answered */
	int64_t rtt_ns;			/* median RTT of its flows at the path's end, -1: none */
};

/* The Multipath Detection Algorithm's run: flows traced until every
 * responder has been followed by enough flows to have shown every next hop
 * it has, at the confidence asked for (analyze.c, pp_mda_needed). */
struct pp_mda {
	unsigned confidence_pct;
	uint64_t probes;		/* probes sent */
	unsigned n_flows;
	bool complete;			/* the stopping rule held everywhere */
	bool silent;			/* ... but a responder's next hop never answered:
					 * nothing is known beyond it */
	struct pp_mda_flow flows[PP_MDA_FLOWS_MAX];
};

struct pp_result {
	struct sockaddr_storage dst;	/* the target's address */
	char dst_str[64];		/* ... as text */
	const char *target;		/* the host as given (opts: not owned) */
	const char *probe;		/* "icmp", "udp", "tcp" */
	bool raw;			/* raw sockets were used */
	uint16_t flow;			/* the flow: UDP/TCP source port, ICMP identifier */
	bool tos_set;			/* --tos / --dscp given */
	uint8_t tos;			/* the TOS / traffic class byte sent */
	bool reached;			/* the target answered */
	unsigned dest_ttl;		/* hops to the target, 0 if not reached */
	unsigned n_hops;		/* hops reported: 1..n_hops */
	struct pp_hop hops[PP_MAX_TTL + 1]; /* index = TTL */
	struct mp_rdns *names;		/* the responders' names, NULL with -n */
	struct pp_mda *mda;		/* --all-paths, else NULL */
	uint64_t rounds;		/* probe rounds resolved */
	uint64_t start_real_ns;		/* CLOCK_REALTIME at the start */
	uint64_t duration_ns;		/* wall time of the run */
	uint64_t unmatched;		/* packets received that answered no probe */
	uint64_t late;			/* replies after their probe timed out */
	uint64_t tx_kernel_stamps;	/* probes timed by a kernel TX stamp */
	uint64_t rx_kernel_stamps;	/* replies timed by a kernel RX stamp */
	bool interrupted;		/* stopped by a signal */
	struct pp_via *via;		/* --via: meshctl's path, analysed; else NULL */
};

/* ---- --via: the mesh path meshctl chose (mesh.c) ---- */

enum {
	PP_VIA_SITES = 16,		/* sites on a path, this one included */
	PP_VIA_NETS = 512,		/* site nets known (both families) */
};

struct pp_via_net {
	struct mp_nl_addr net;		/* a site net of meshctl's routes */
	unsigned plen;
	unsigned site;
};

struct pp_via {
	unsigned site;			/* --via SITE */
	char path[PP_VIA_SITES * 4];	/* meshctl's path, "0>2>1"; "" when none */
	unsigned sites[PP_VIA_SITES];	/* the same: [0] this node, [n_sites-1] site */
	unsigned n_sites;
	char kind[8];			/* "direct", "relay", "none" */
	double cost_ms, est_ms;		/* meshctl's figures, NaN when null */
	struct pp_via_net nets[PP_VIA_NETS]; /* the site nets of meshctl's routes */
	unsigned n_nets;
	char target[64];		/* SITE's first address, the default HOST */
	/* after the run (pp_via_analyze) */
	int hop_site[PP_MAX_TTL + 1];	/* site of a hop's main responder, -1: none */
	char traced[PP_VIA_SITES * 4 + 8]; /* the sites the probes met, "0>2>1" */
	bool follows;			/* the trace met exactly the path's sites */
};

/* Asks meshctl at ctl for its path to site and the site nets of its routes,
 * and the default target (family: -4/-6, AF_UNSPEC: IPv4 first). Returns 0,
 * or -errno after saying why. */
int pp_via_load(struct pp_via *v, const char *ctl, unsigned site, int family);
/* The same from meshctl's paths and routes documents (json; fuzzed):
 * 0, or -EINVAL with err set. */
int pp_via_parse(struct pp_via *v, const char *paths, size_t paths_len, const char *routes,
		 size_t routes_len, unsigned site, int family, char *err, size_t errlen);
/* Which site each hop of res belongs to, and whether the trace followed
 * the path. */
void pp_via_analyze(struct pp_via *v, const struct pp_result *res);

/* One resolved probe, for streaming (continuous mode). */
struct pp_event {
	uint64_t round;			/* round number, from 0 */
	unsigned ttl;			/* hop */
	bool answered;			/* a reply came */
	int64_t rtt_ns;			/* RTT when answered */
	struct sockaddr_storage from;	/* responder when answered */
};

typedef int (*pp_event_cb)(const struct pp_event *ev, void *ctx);

extern volatile sig_atomic_t pp_stop;	/* set by SIGINT/SIGTERM */

int pp_parse_args(int argc, char **argv, struct pp_opts *opts);
int pp_run(const struct pp_opts *opts, struct pp_result *res, pp_event_cb cb, void *ctx);
void pp_analyze(struct pp_result *res);
/* MDA: flows that must go through a responder with k next hops seen, to
 * rule out a (k+1)-th at confidence_pct (k >= 1). */
unsigned pp_mda_needed(unsigned k, unsigned confidence_pct);
/* MDA: records one resolved flow (its responders per TTL in f) up to TTL
 * last; true when every responder up to last has been followed enough. */
bool pp_mda_flow_done(struct pp_result *res, const struct pp_mda_flow *f, unsigned last);
/* MDA: the flows grouped by path over hops 1..n_hops, in the order of their
 * first flows; returns how many (at most max). */
unsigned pp_mda_paths(const struct pp_result *res, struct pp_mda_path *out, unsigned max);
void pp_hop_outcome(struct pp_hop *h, enum pp_outcome o);
void pp_result_done(struct pp_result *res);
/* wide: text shows every field (--wide), else mtr's columns. */
int pp_print(struct pp_result *res, struct mp_writer *w, bool wide);
/* Prometheus HELP of pathping's series. */
extern const struct mp_prom_help pp_prom_help[];
int pp_print_event(const struct pp_event *ev, void *ctx);
int pp_plot(struct pp_result *res, const char *png);

/* Writes res's plot rows (per hop: min, mean, p95, max, median) to path. */
int pp_plot_csv(const struct pp_result *res, const char *path);
/* Several targets' --plot: the median RTT per hop of each, one curve each
 * (struct mp_run_fns.plot). */
struct mp_run_target;
int pp_plot_targets(const struct mp_run_target *t, size_t n, const char *png, void *ctx);
int pp_exit_status(const struct pp_result *res);

/* The live view (live.c): the report drawn in place every round. */
struct pp_live {
	struct pp_result *res;		/* the running result (pp_run's) */
	const struct pp_opts *opts;
	struct pp_result *snap;		/* a copy, analysed for each drawing */
	uint64_t round;			/* round of the last event seen */
	bool drawn;
};

/* Takes the terminal: alternate screen, no echo, keys read per round. */
int pp_live_begin(struct pp_live *lv, struct pp_result *res, const struct pp_opts *o);
/* pp_run's event callback: draws after each round, reads 'q'. */
int pp_live_event(const struct pp_event *ev, void *ctx);
/* Gives the terminal back as it was found. */
void pp_live_end(struct pp_live *lv);

#endif
